/*-------------------------------------------------------------------------
 *
 * bytebuf.c
 *	  Growth and allocation helpers for ByteBuf (see bytebuf.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "bytebuf.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet encoder assumes a little-endian host"
#endif

void *
bytebuf_xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory allocating %zu bytes\n", n);
		abort();
	}
	return p;
}

void *
bytebuf_xrealloc(void *p, size_t n)
{
	void	   *q = realloc(p, n ? n : 1);

	if (q == NULL)
	{
		fprintf(stderr, "out of memory allocating %zu bytes\n", n);
		abort();
	}
	return q;
}

void *
bytebuf_xcalloc(size_t n, size_t size)
{
	void	   *p = bytebuf_xmalloc(n * size);

	memset(p, 0, n * size);
	return p;
}

char *
bytebuf_xstrdup(const char *s)
{
	size_t		n = strlen(s) + 1;
	char	   *p = bytebuf_xmalloc(n);

	memcpy(p, s, n);
	return p;
}

void
bytebuf_grow(ByteBuf *b, size_t need)
{
	size_t		cap = b->cap ? b->cap : 256;

	while (cap < need)
		cap *= 2;
	b->data = bytebuf_xrealloc(b->data, cap);
	b->cap = cap;
}

void
bytebuf_free(ByteBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
