/*-------------------------------------------------------------------------
 *
 * thrift.c
 *	  Thrift compact protocol encoder (see thrift.h).
 *
 * Integers are zigzag-encoded ULEB128 varints; a field header is one byte
 * (delta << 4 | type) when the id grows by 1..15, else the type byte plus
 * the zigzag i16 id.  Booleans live in the field header's type nibble.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "thrift.h"

static inline uint64_t
thrift_zigzag(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

void
thrift_init(ThriftWriter *tw, ByteBuf *out)
{
	tw->out = out;
	tw->depth = 0;
}

static void
thrift_push(ThriftWriter *tw)
{
	if (tw->depth >= THRIFT_MAX_DEPTH)
	{
		/* the Parquet structs we write nest at most ~6 deep */
		fprintf(stderr, "thrift: structs nested too deep\n");
		abort();
	}
	tw->last_id[tw->depth++] = 0;
}

void
thrift_struct_begin(ThriftWriter *tw)
{
	thrift_push(tw);
}

void
thrift_struct_end(ThriftWriter *tw)
{
	bytebuf_putc(tw->out, 0);
	tw->depth--;
}

static void
thrift_field_header(ThriftWriter *tw, int16_t id, uint8_t type)
{
	int16_t    *last = &tw->last_id[tw->depth - 1];
	int			delta = id - *last;

	if (delta > 0 && delta <= 15)
		bytebuf_putc(tw->out, (uint8_t) ((delta << 4) | type));
	else
	{
		bytebuf_putc(tw->out, type);
		bytebuf_put_uvarint(tw->out, thrift_zigzag(id));
	}
	*last = id;
}

void
thrift_field_bool(ThriftWriter *tw, int16_t id, bool v)
{
	thrift_field_header(tw, id, v ? THRIFT_BOOL_TRUE : THRIFT_BOOL_FALSE);
}

void
thrift_field_i8(ThriftWriter *tw, int16_t id, int8_t v)
{
	/* compact protocol: a byte is written as is, not as a varint */
	thrift_field_header(tw, id, THRIFT_I8);
	bytebuf_putc(tw->out, (uint8_t) v);
}

void
thrift_field_i16(ThriftWriter *tw, int16_t id, int16_t v)
{
	thrift_field_header(tw, id, THRIFT_I16);
	bytebuf_put_uvarint(tw->out, thrift_zigzag(v));
}

void
thrift_field_i32(ThriftWriter *tw, int16_t id, int32_t v)
{
	thrift_field_header(tw, id, THRIFT_I32);
	bytebuf_put_uvarint(tw->out, thrift_zigzag(v));
}

void
thrift_field_i64(ThriftWriter *tw, int16_t id, int64_t v)
{
	thrift_field_header(tw, id, THRIFT_I64);
	bytebuf_put_uvarint(tw->out, thrift_zigzag(v));
}

void
thrift_field_binary(ThriftWriter *tw, int16_t id, const void *p, size_t len)
{
	thrift_field_header(tw, id, THRIFT_BINARY);
	bytebuf_put_uvarint(tw->out, len);
	bytebuf_append(tw->out, p, len);
}

void
thrift_field_string(ThriftWriter *tw, int16_t id, const char *s)
{
	thrift_field_binary(tw, id, s, strlen(s));
}

void
thrift_field_struct_begin(ThriftWriter *tw, int16_t id)
{
	thrift_field_header(tw, id, THRIFT_STRUCT);
	thrift_push(tw);
}

void
thrift_field_list_begin(ThriftWriter *tw, int16_t id, uint8_t elem_type,
						uint32_t n)
{
	thrift_field_header(tw, id, THRIFT_LIST);
	if (n < 15)
		bytebuf_putc(tw->out, (uint8_t) ((n << 4) | elem_type));
	else
	{
		bytebuf_putc(tw->out, (uint8_t) (0xF0 | elem_type));
		bytebuf_put_uvarint(tw->out, n);
	}
}

void
thrift_elem_i32(ThriftWriter *tw, int32_t v)
{
	bytebuf_put_uvarint(tw->out, thrift_zigzag(v));
}

void
thrift_elem_string(ThriftWriter *tw, const char *s)
{
	size_t		len = strlen(s);

	bytebuf_put_uvarint(tw->out, len);
	bytebuf_append(tw->out, s, len);
}

void
thrift_elem_struct_begin(ThriftWriter *tw)
{
	thrift_push(tw);
}
