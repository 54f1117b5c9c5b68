/*-------------------------------------------------------------------------
 *
 * thrift_read.h
 *	  Decoder for Thrift's compact protocol, enough to read Parquet's
 *	  FileMetaData and PageHeader (the encoder is thrift.h).
 *
 * The reader works on a bounded byte range and never reads past it: any
 * overrun, bad varint or over-deep nesting sets a sticky error, after
 * which every call returns zero values and thrift_read_ok() is false.
 * Callers walk a struct with thrift_read_field() and skip the fields they
 * do not know with thrift_read_skip(), which understands every type
 * (nested structs, lists, sets and maps), so metadata from newer writers
 * with extra fields still parses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_THRIFT_READ_H
#define CDC_THRIFT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "thrift.h"

#define THRIFT_SET			10
#define THRIFT_MAP			11

typedef struct ThriftReader
{
	const uint8_t *p;			/* next byte; not owned */
	const uint8_t *end;
	bool		error;
	const char *why;			/* static text, set with error */
} ThriftReader;

extern void thrift_read_init(ThriftReader *r, const void *data, size_t len);
extern bool thrift_read_ok(const ThriftReader *r);

/*
 * Next field header of the current struct.  *last_id is the previous
 * field id of this struct (start at 0).  Returns false at the stop byte or
 * on error.  For booleans *type is THRIFT_BOOL_TRUE/FALSE and the value has
 * been consumed already.
 */
extern bool thrift_read_field(ThriftReader *r, int16_t *last_id,
							  int16_t *id, uint8_t *type);

extern int32_t thrift_read_i32(ThriftReader *r);
extern int64_t thrift_read_i64(ThriftReader *r);

/* A binary/string: *len bytes at the returned pointer (inside the input). */
extern const uint8_t *thrift_read_binary(ThriftReader *r, uint32_t *len);

/* A list or set header: element type and count (count checked against
 * the remaining input, so it is safe to allocate). */
extern bool thrift_read_list(ThriftReader *r, uint8_t *elem_type,
							 uint32_t *n);

/* Skips one value of the given type (a field's or a list element's). */
extern void thrift_read_skip(ThriftReader *r, uint8_t type);

#endif							/* CDC_THRIFT_READ_H */
