/*-------------------------------------------------------------------------
 *
 * bytebuf.h
 *	  A growable byte buffer used by the Parquet and Thrift encoders.
 *
 * Allocation failure is treated as fatal (the message is printed and the
 * process aborts): the writer's memory is bounded by its flush settings,
 * so running out means the host is misconfigured, not a recoverable state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_BYTEBUF_H
#define CDC_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ByteBuf
{
	uint8_t    *data;			/* owned, malloc'd */
	size_t		len;
	size_t		cap;
} ByteBuf;

extern void bytebuf_grow(ByteBuf *b, size_t need);
extern void bytebuf_free(ByteBuf *b);
extern void *bytebuf_xmalloc(size_t n);
extern void *bytebuf_xrealloc(void *p, size_t n);
extern void *bytebuf_xcalloc(size_t n, size_t size);
extern char *bytebuf_xstrdup(const char *s);

static inline void
bytebuf_reserve(ByteBuf *b, size_t extra)
{
	if (b->len + extra > b->cap)
		bytebuf_grow(b, b->len + extra);
}

static inline void
bytebuf_append(ByteBuf *b, const void *p, size_t n)
{
	bytebuf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void
bytebuf_putc(ByteBuf *b, uint8_t c)
{
	bytebuf_reserve(b, 1);
	b->data[b->len++] = c;
}

static inline void
bytebuf_put_le32(ByteBuf *b, uint32_t v)
{
	bytebuf_reserve(b, 4);
	memcpy(b->data + b->len, &v, 4);	/* little-endian hosts only */
	b->len += 4;
}

static inline void
bytebuf_puts(ByteBuf *b, const char *s)
{
	bytebuf_append(b, s, strlen(s));
}

static inline void
bytebuf_put_uvarint(ByteBuf *b, uint64_t v)
{
	bytebuf_reserve(b, 10);
	while (v >= 0x80)
	{
		b->data[b->len++] = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	b->data[b->len++] = (uint8_t) v;
}

#endif							/* CDC_BYTEBUF_H */
