/*-------------------------------------------------------------------------
 * frame.h
 *	  The plugin's format=kafka frames (doc/contracts.md section 1), parsed
 *	  in place: the Frame points into the caller's buffer.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_FRAME_H
#define SIDECAR_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_EVENT		'E'
#define FRAME_COMMIT	'C'
#define FRAME_MAX_HEADERS 4

/* A Kafka header the plugin gives an event (headers=true). */
typedef struct FrameHeader
{
	const char *name;			/* not NUL-terminated; points into the buffer */
	int32_t		name_len;
	const char *value;			/* NULL for a null value */
	int32_t		value_len;		/* -1 for a null value */
} FrameHeader;

typedef struct Frame
{
	char		kind;			/* FRAME_EVENT or FRAME_COMMIT */
	char		op;				/* c u d t m B E, '0' for C */
	uint64_t	commit_lsn;		/* end of the transaction's commit record */
	uint64_t	change_lsn;
	uint64_t	seq;			/* order within the transaction; for C: count */
	const char *topic;			/* not NUL-terminated; points into the buffer */
	uint32_t	topic_len;
	const char *key;			/* NULL for a null key */
	int32_t		key_len;		/* -1 for a null key */
	const char *value;			/* NULL for a null value */
	int32_t		value_len;
	int			nheaders;
	FrameHeader headers[FRAME_MAX_HEADERS];
} Frame;

/*
 * Parses the frame at the start of buf (a replication message holds one or
 * more, back to back); *size is its length.  false with errstr set when
 * what is there is not a well-formed frame.
 * With headers (the plugin option headers=true, as the sidecar asks for
 * it) each frame ends with its Kafka headers.
 */
extern bool frame_parse(const char *buf, size_t len, bool headers, Frame *f,
						size_t *size, char *errstr, size_t errstr_size);

#endif							/* SIDECAR_FRAME_H */
