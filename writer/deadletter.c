/*-------------------------------------------------------------------------
 *
 * deadletter.c
 *	  Appending undecodable messages to the dead-letter file.
 *
 * Lines are written with one write() each on an O_APPEND descriptor, so a
 * crash leaves at worst a torn last line, never an interleaving.  A message
 * dead-lettered and then re-read after a crash (its offset was not yet
 * committed to Delta) is written again: the file is at-least-once, the
 * tables are exactly-once.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytebuf.h"
#include "deadletter.h"
#include "log.h"

struct DeadLetter
{
	int			fd;
	char	   *path;
	bool		dirty;			/* written since the last fsync */
	ByteBuf		line;			/* the line being written, reused */
};

DeadLetter *
deadletter_open(const char *path, char *errstr, size_t errlen)
{
	DeadLetter *dl = calloc(1, sizeof(DeadLetter));

	if (dl == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		return NULL;
	}
	dl->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (dl->fd < 0)
	{
		snprintf(errstr, errlen, "could not open dead-letter file \"%s\": %s",
				 path, strerror(errno));
		free(dl);
		return NULL;
	}
	dl->path = strdup(path);
	return dl;
}

void
deadletter_close(DeadLetter *dl)
{
	char		err[512];

	if (dl == NULL)
		return;
	if (!deadletter_sync(dl, err, sizeof(err)))
		log_warn("%s", err);
	close(dl->fd);
	free(dl->path);
	bytebuf_free(&dl->line);
	free(dl);
}

/*
 * A JSON string literal; bytes that are not printable ASCII are \u-escaped,
 * so a reason quoting a broken message still makes a valid line
 * (json_out_string copies UTF-8 through instead).
 */
static void
put_json_string(ByteBuf *b, const char *s)
{
	bytebuf_putc(b, '"');
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;
		char		esc[8];

		if (c == '"' || c == '\\')
		{
			bytebuf_putc(b, '\\');
			bytebuf_putc(b, c);
		}
		else if (c < 0x20 || c >= 0x7f)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			bytebuf_append(b, esc, 6);
		}
		else
			bytebuf_putc(b, c);
	}
	bytebuf_putc(b, '"');
}

/* A JSON string of the bytes in base64, or null. */
static void
put_base64(ByteBuf *b, const unsigned char *in, size_t n)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char		out[4];
	size_t		i;

	if (in == NULL)
	{
		bytebuf_puts(b, "null");
		return;
	}
	bytebuf_putc(b, '"');
	for (i = 0; i + 2 < n; i += 3)
	{
		out[0] = tbl[in[i] >> 2];
		out[1] = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[2] = tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[3] = tbl[in[i + 2] & 63];
		bytebuf_append(b, out, 4);
	}
	if (i < n)
	{
		out[0] = tbl[in[i] >> 2];
		if (i + 1 < n)
		{
			out[1] = tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			out[2] = tbl[(in[i + 1] & 15) << 2];
		}
		else
		{
			out[1] = tbl[(in[i] & 3) << 4];
			out[2] = '=';
		}
		out[3] = '=';
		bytebuf_append(b, out, 4);
	}
	bytebuf_putc(b, '"');
}

bool
deadletter_write(DeadLetter *dl, const char *topic, int32_t partition,
				 int64_t offset, const char *reason,
				 const void *key, size_t keylen,
				 const void *value, size_t vallen,
				 char *errstr, size_t errlen)
{
	ByteBuf    *b = &dl->line;
	char		num[128];
	struct timespec ts;
	struct tm	tm;
	ssize_t		w;
	size_t		done = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	b->len = 0;
	snprintf(num, sizeof(num),
			 "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"topic\":",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	bytebuf_puts(b, num);
	put_json_string(b, topic);
	snprintf(num, sizeof(num), ",\"partition\":%" PRId32 ",\"offset\":%" PRId64
			 ",\"reason\":", partition, offset);
	bytebuf_puts(b, num);
	put_json_string(b, reason);
	bytebuf_puts(b, ",\"key\":");
	put_base64(b, key, keylen);
	bytebuf_puts(b, ",\"value\":");
	put_base64(b, value, vallen);
	bytebuf_puts(b, "}\n");
	while (done < b->len)
	{
		w = write(dl->fd, b->data + done, b->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
		{
			snprintf(errstr, errlen, "could not write dead-letter file \"%s\": %s",
					 dl->path, strerror(errno));
			return false;
		}
		done += w;
	}
	dl->dirty = true;
	log_warn("%s [%" PRId32 "] @%" PRId64 ": %s (dead-lettered)",
			 topic, partition, offset, reason);
	return true;
}

bool
deadletter_sync(DeadLetter *dl, char *errstr, size_t errlen)
{
	if (!dl->dirty)
		return true;
	if (fsync(dl->fd) != 0)
	{
		snprintf(errstr, errlen, "could not fsync dead-letter file \"%s\": %s",
				 dl->path, strerror(errno));
		return false;
	}
	dl->dirty = false;
	return true;
}
