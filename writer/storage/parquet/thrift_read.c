/*-------------------------------------------------------------------------
 *
 * thrift_read.c
 *	  Thrift compact protocol decoder (see thrift_read.h).
 *
 * Every read checks the remaining length first; an error is sticky so
 * callers can decode a whole struct and test thrift_read_ok() once.
 * Skipping recurses for nested values, bounded by THRIFT_MAX_DEPTH so a
 * hostile file cannot exhaust the stack.
 *
 *-------------------------------------------------------------------------
 */
#include "thrift_read.h"

static void
thrift_read_fail(ThriftReader *r, const char *why)
{
	if (!r->error)
		r->why = why;
	r->error = true;
	r->p = r->end;
}

void
thrift_read_init(ThriftReader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
	r->error = false;
	r->why = NULL;
}

bool
thrift_read_ok(const ThriftReader *r)
{
	return !r->error;
}

static uint8_t
thrift_read_byte(ThriftReader *r)
{
	if (r->p >= r->end)
	{
		thrift_read_fail(r, "truncated Thrift data");
		return 0;
	}
	return *r->p++;
}

static uint64_t
thrift_read_uvarint(ThriftReader *r)
{
	uint64_t	v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8_t		b = thrift_read_byte(r);

		if (r->error)
			return 0;
		v |= (uint64_t) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	thrift_read_fail(r, "Thrift varint too long");
	return 0;
}

static int64_t
thrift_read_zigzag(ThriftReader *r)
{
	uint64_t	u = thrift_read_uvarint(r);

	return (int64_t) (u >> 1) ^ -(int64_t) (u & 1);
}

bool
thrift_read_field(ThriftReader *r, int16_t *last_id, int16_t *id,
				  uint8_t *type)
{
	uint8_t		b = thrift_read_byte(r);
	int			delta;

	if (r->error || b == 0)
		return false;
	*type = b & 0x0f;
	delta = b >> 4;
	if (delta != 0)
		*id = (int16_t) (*last_id + delta);
	else
		*id = (int16_t) thrift_read_zigzag(r);
	*last_id = *id;
	if (*type < THRIFT_BOOL_TRUE || *type > THRIFT_STRUCT)
	{
		thrift_read_fail(r, "unknown Thrift type");
		return false;
	}
	return !r->error;
}

int32_t
thrift_read_i32(ThriftReader *r)
{
	int64_t		v = thrift_read_zigzag(r);

	if (v < INT32_MIN || v > INT32_MAX)
	{
		thrift_read_fail(r, "Thrift i32 out of range");
		return 0;
	}
	return (int32_t) v;
}

int64_t
thrift_read_i64(ThriftReader *r)
{
	return thrift_read_zigzag(r);
}

const uint8_t *
thrift_read_binary(ThriftReader *r, uint32_t *len)
{
	uint64_t	n = thrift_read_uvarint(r);
	const uint8_t *p = r->p;

	*len = 0;
	if (r->error)
		return NULL;
	if (n > (uint64_t) (r->end - r->p))
	{
		thrift_read_fail(r, "Thrift string runs past the end");
		return NULL;
	}
	r->p += n;
	*len = (uint32_t) n;
	return p;
}

bool
thrift_read_list(ThriftReader *r, uint8_t *elem_type, uint32_t *n)
{
	uint8_t		b = thrift_read_byte(r);
	uint64_t	size = b >> 4;

	*elem_type = b & 0x0f;
	*n = 0;
	if (size == 15)
		size = thrift_read_uvarint(r);
	if (r->error)
		return false;
	/* every element takes at least one byte */
	if (size > (uint64_t) (r->end - r->p))
	{
		thrift_read_fail(r, "Thrift list longer than its data");
		return false;
	}
	*n = (uint32_t) size;
	return true;
}

static void thrift_read_skip_depth(ThriftReader *r, uint8_t type, int depth);

/* A list, set or map element: unlike a field, a bool element is a byte. */
static void
thrift_read_skip_elem(ThriftReader *r, uint8_t type, int depth)
{
	if (type == THRIFT_BOOL_TRUE || type == THRIFT_BOOL_FALSE)
		thrift_read_byte(r);
	else
		thrift_read_skip_depth(r, type, depth);
}

static void
thrift_read_skip_depth(ThriftReader *r, uint8_t type, int depth)
{
	if (depth > THRIFT_MAX_DEPTH)
	{
		thrift_read_fail(r, "Thrift values nested too deep");
		return;
	}
	switch (type)
	{
		case THRIFT_BOOL_TRUE:
		case THRIFT_BOOL_FALSE:
			/* a field's bool is in its header; a list element's is a byte */
			break;
		case THRIFT_I8:
			thrift_read_byte(r);
			break;
		case THRIFT_I16:
		case THRIFT_I32:
		case THRIFT_I64:
			thrift_read_uvarint(r);
			break;
		case THRIFT_DOUBLE:
			if (r->end - r->p < 8)
				thrift_read_fail(r, "truncated Thrift double");
			else
				r->p += 8;
			break;
		case THRIFT_BINARY:
			{
				uint32_t	len;

				thrift_read_binary(r, &len);
				break;
			}
		case THRIFT_LIST:
		case THRIFT_SET:
			{
				uint8_t		et;
				uint32_t	n;

				if (!thrift_read_list(r, &et, &n))
					break;
				for (uint32_t i = 0; i < n && !r->error; i++)
					thrift_read_skip_elem(r, et, depth + 1);
				break;
			}
		case THRIFT_MAP:
			{
				uint64_t	n = thrift_read_uvarint(r);
				uint8_t		kv;

				if (r->error || n == 0)
					break;
				if (n > (uint64_t) (r->end - r->p))
				{
					thrift_read_fail(r, "Thrift map longer than its data");
					break;
				}
				kv = thrift_read_byte(r);
				for (uint64_t i = 0; i < n && !r->error; i++)
				{
					thrift_read_skip_elem(r, kv >> 4, depth + 1);
					thrift_read_skip_elem(r, kv & 0x0f, depth + 1);
				}
				break;
			}
		case THRIFT_STRUCT:
			{
				int16_t		last = 0,
							id;
				uint8_t		ft;

				while (thrift_read_field(r, &last, &id, &ft))
					thrift_read_skip_depth(r, ft, depth + 1);
				break;
			}
		default:
			thrift_read_fail(r, "unknown Thrift type");
	}
}

void
thrift_read_skip(ThriftReader *r, uint8_t type)
{
	thrift_read_skip_depth(r, type, 0);
}
