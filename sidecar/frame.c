/*-------------------------------------------------------------------------
 * frame.c
 *	  Parses one format=kafka frame.  Strict on purpose: a frame that does
 *	  not parse means the plugin and the sidecar disagree on the contract,
 *	  and producing garbage to Kafka would be worse than stopping.
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "frame.h"

#define FRAME_HEADER_LEN 30		/* kind, op, 2 LSNs, seq, topic length */

static uint32_t
frame_get32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static uint64_t
frame_get64(const unsigned char *p)
{
	return ((uint64_t) frame_get32(p) << 32) | frame_get32(p + 4);
}

/* Reads a length-prefixed field; len -1 means null (when allowed). */
static bool
frame_field(const unsigned char *buf, size_t len, size_t *off, bool nullable,
			const char **data, int32_t *flen)
{
	int32_t		n;

	if (len - *off < 4)
		return false;
	n = (int32_t) frame_get32(buf + *off);
	*off += 4;
	if (n == -1 && nullable)
	{
		*data = NULL;
		*flen = -1;
		return true;
	}
	if (n < 0 || (size_t) n > len - *off)
		return false;
	*data = (const char *) buf + *off;
	*flen = n;
	*off += (size_t) n;
	return true;
}

bool
frame_parse(const char *buf, size_t len, bool headers, Frame *f, size_t *size,
			char *errstr, size_t errstr_size)
{
	const unsigned char *b = (const unsigned char *) buf;
	size_t		off = 26;
	int32_t		tlen;

	memset(f, 0, sizeof(*f));
	if (len < FRAME_HEADER_LEN)
	{
		snprintf(errstr, errstr_size, "frame of %zu bytes is too short", len);
		return false;
	}
	f->kind = (char) b[0];
	f->op = (char) b[1];
	if (f->kind != FRAME_EVENT && f->kind != FRAME_COMMIT)
	{
		snprintf(errstr, errstr_size,
				 "unknown frame kind 0x%02x (is the slot's plugin cdc_kafka with format=kafka?)",
				 b[0]);
		return false;
	}
	f->commit_lsn = frame_get64(b + 2);
	f->change_lsn = frame_get64(b + 10);
	f->seq = frame_get64(b + 18);
	if (!frame_field(b, len, &off, false, &f->topic, &tlen) ||
		!frame_field(b, len, &off, true, &f->key, &f->key_len) ||
		!frame_field(b, len, &off, true, &f->value, &f->value_len))
	{
		snprintf(errstr, errstr_size, "truncated frame (%zu bytes)", len);
		return false;
	}
	f->topic_len = (uint32_t) tlen;
	if (!headers)
	{
		*size = off;
		goto check;
	}
	if (len - off < 4)
	{
		snprintf(errstr, errstr_size, "truncated frame (%zu bytes)", len);
		return false;
	}
	f->nheaders = (int) frame_get32(b + off);
	off += 4;
	if (f->nheaders < 0 || f->nheaders > FRAME_MAX_HEADERS)
	{
		snprintf(errstr, errstr_size, "frame with %d headers (at most %d)",
				 f->nheaders, FRAME_MAX_HEADERS);
		return false;
	}
	for (int i = 0; i < f->nheaders; i++)
	{
		FrameHeader *h = &f->headers[i];

		if (!frame_field(b, len, &off, false, &h->name, &h->name_len) ||
			!frame_field(b, len, &off, true, &h->value, &h->value_len))
		{
			snprintf(errstr, errstr_size, "truncated frame (%zu bytes)", len);
			return false;
		}
	}
	*size = off;
check:
	if (f->kind == FRAME_EVENT && (f->topic_len == 0 || f->commit_lsn == 0 || f->seq == 0))
	{
		snprintf(errstr, errstr_size, "event frame without topic, commit LSN or seq");
		return false;
	}
	return true;
}
