/*-------------------------------------------------------------------------
 *
 * thrift.h
 *	  Encoder for Thrift's compact protocol, enough for Parquet's metadata
 *	  (FileMetaData, PageHeader).  Write-only: nothing here parses Thrift.
 *
 * Field headers carry the delta to the previous field id of the same
 * struct, so the writer keeps a stack of "last field id" per open struct;
 * fields must be written in ascending id order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_THRIFT_H
#define CDC_THRIFT_H

#include <stdbool.h>
#include <stdint.h>

#include "bytebuf.h"

#define THRIFT_MAX_DEPTH 32

/* Compact protocol type codes. */
#define THRIFT_BOOL_TRUE	1
#define THRIFT_BOOL_FALSE	2
#define THRIFT_I8			3
#define THRIFT_I16			4
#define THRIFT_I32			5
#define THRIFT_I64			6
#define THRIFT_DOUBLE		7
#define THRIFT_BINARY		8
#define THRIFT_LIST			9
#define THRIFT_STRUCT		12

typedef struct ThriftWriter
{
	ByteBuf    *out;			/* not owned */
	int			depth;
	int16_t		last_id[THRIFT_MAX_DEPTH];
} ThriftWriter;

extern void thrift_init(ThriftWriter *tw, ByteBuf *out);

/* Opens the outermost struct (no field header). */
extern void thrift_struct_begin(ThriftWriter *tw);
/* Writes the stop byte and closes the innermost struct. */
extern void thrift_struct_end(ThriftWriter *tw);

extern void thrift_field_bool(ThriftWriter *tw, int16_t id, bool v);
extern void thrift_field_i8(ThriftWriter *tw, int16_t id, int8_t v);
extern void thrift_field_i16(ThriftWriter *tw, int16_t id, int16_t v);
extern void thrift_field_i32(ThriftWriter *tw, int16_t id, int32_t v);
extern void thrift_field_i64(ThriftWriter *tw, int16_t id, int64_t v);
extern void thrift_field_binary(ThriftWriter *tw, int16_t id,
								const void *p, size_t len);
extern void thrift_field_string(ThriftWriter *tw, int16_t id, const char *s);
/* A struct-valued field: follow with its fields and thrift_struct_end. */
extern void thrift_field_struct_begin(ThriftWriter *tw, int16_t id);
/* A list-valued field header; then write n elements of elem_type. */
extern void thrift_field_list_begin(ThriftWriter *tw, int16_t id,
									uint8_t elem_type, uint32_t n);

/* List elements. */
extern void thrift_elem_i32(ThriftWriter *tw, int32_t v);
extern void thrift_elem_string(ThriftWriter *tw, const char *s);
/* A struct element: follow with its fields and thrift_struct_end. */
extern void thrift_elem_struct_begin(ThriftWriter *tw);

#endif							/* CDC_THRIFT_H */
