/*-------------------------------------------------------------------------
 *
 * thrift.c
 *		A reader for the Thrift compact protocol over a bounded buffer.
 *
 * The wire format, as the compact protocol specification gives it:
 *
 * - integers: i8 is one byte; i16, i32 and i64 are zigzag-encoded ULEB128
 *	 varints (at most 10 bytes); double is 8 bytes little-endian.
 * - binary and string: a varint length, then the bytes.
 * - a field header is one byte: the id delta from the previous field in
 *	 the high nibble and the type in the low nibble; delta 0 means the id
 *	 follows as a zigzag i16 varint.  Type 0 (a zero byte) ends a struct.
 *	 A bool field's value is its type (1 true, 2 false), with no payload.
 * - a list or set header is one byte: the size (0..14) in the high nibble
 *	 and the element type in the low nibble; size nibble 15 means the size
 *	 follows as a varint.  Bool elements are one byte each.
 * - a map header is a varint size then, if the size is not 0, one byte
 *	 with the key type high and the value type low.
 *
 * See thrift.h for the rules callers follow.  Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/thrift.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "thrift.h"

void
PqThriftInit(PqThrift *t, const uint8_t *buf, size_t len, uint64_t base)
{
	memset(t, 0, sizeof(*t));
	t->buf = buf;
	t->len = buf == NULL ? 0 : len;
	t->pos = 0;
	t->base = base;
}

bool
PqThriftFail(PqThrift *t, const char *fmt,...)
{
	va_list		ap;
	size_t		n;

	if (t->failed)
		return false;
	t->failed = true;
	va_start(ap, fmt);
	vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
	va_end(ap);
	n = strlen(t->errmsg);
	if (n < sizeof(t->errmsg))
		snprintf(t->errmsg + n, sizeof(t->errmsg) - n, " at byte %llu",
				 (unsigned long long) (t->base + t->pos));
	return false;
}

static inline size_t
thrift_left(const PqThrift *t)
{
	return t->len - t->pos;
}

static bool
thrift_byte(PqThrift *t, uint8_t *b)
{
	if (t->failed)
		return false;
	if (t->pos >= t->len)
		return PqThriftFail(t, "thrift: input ends inside a value");
	*b = t->buf[t->pos++];
	return true;
}

bool
PqThriftReadVarint(PqThrift *t, uint64_t *v)
{
	uint64_t	result = 0;
	size_t		start = t->pos;
	int			i;

	if (t->failed)
		return false;
	for (i = 0; i < 10; i++)
	{
		uint8_t		b = 0;

		if (t->pos >= t->len)
		{
			t->pos = start;
			return PqThriftFail(t, "thrift: input ends inside a varint");
		}
		b = t->buf[t->pos++];
		/* the tenth byte holds bit 63 only */
		if (i == 9 && (b & 0x7e) != 0)
		{
			t->pos = start;
			return PqThriftFail(t, "thrift: varint overflows 64 bits");
		}
		result |= (uint64_t) (b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0)
		{
			*v = result;
			return true;
		}
	}
	t->pos = start;
	return PqThriftFail(t, "thrift: varint longer than 10 bytes");
}

static inline int64_t
zigzag_decode(uint64_t u)
{
	/* (u >> 1) ^ -(u & 1), computed without signed overflow */
	uint64_t	x = (u >> 1) ^ (~(u & 1) + 1);
	int64_t		r;

	memcpy(&r, &x, sizeof(r));
	return r;
}

bool
PqThriftReadI8(PqThrift *t, int8_t *v)
{
	uint8_t		b = 0;

	if (!thrift_byte(t, &b))
		return false;
	*v = (int8_t) b;
	return true;
}

bool
PqThriftReadI16(PqThrift *t, int16_t *v)
{
	size_t		start = t->pos;
	uint64_t	u = 0;
	int64_t		x;

	if (!PqThriftReadVarint(t, &u))
		return false;
	x = zigzag_decode(u);
	if (x < INT16_MIN || x > INT16_MAX)
	{
		t->pos = start;
		return PqThriftFail(t, "thrift: i16 value out of range");
	}
	*v = (int16_t) x;
	return true;
}

bool
PqThriftReadI32(PqThrift *t, int32_t *v)
{
	size_t		start = t->pos;
	uint64_t	u = 0;
	int64_t		x;

	if (!PqThriftReadVarint(t, &u))
		return false;
	x = zigzag_decode(u);
	if (x < INT32_MIN || x > INT32_MAX)
	{
		t->pos = start;
		return PqThriftFail(t, "thrift: i32 value out of range");
	}
	*v = (int32_t) x;
	return true;
}

bool
PqThriftReadI64(PqThrift *t, int64_t *v)
{
	uint64_t	u = 0;

	if (!PqThriftReadVarint(t, &u))
		return false;
	*v = zigzag_decode(u);
	return true;
}

bool
PqThriftReadDouble(PqThrift *t, double *v)
{
	uint64_t	u = 0;
	int			i;

	if (t->failed)
		return false;
	if (thrift_left(t) < 8)
		return PqThriftFail(t, "thrift: input ends inside a double");
	for (i = 0; i < 8; i++)
		u |= (uint64_t) t->buf[t->pos + i] << (8 * i);
	t->pos += 8;
	memcpy(v, &u, sizeof(*v));
	return true;
}

bool
PqThriftReadBool(PqThrift *t, bool *v)
{
	uint8_t		b = 0;

	if (t->failed)
		return false;
	if (t->bool_pending)
	{
		t->bool_pending = false;
		*v = t->bool_value;
		return true;
	}
	/* a list element: writers use 1 for true and 0 or 2 for false */
	if (!thrift_byte(t, &b))
		return false;
	if (b > 2)
	{
		t->pos--;
		return PqThriftFail(t, "thrift: bad bool value %u", b);
	}
	*v = (b == 1);
	return true;
}

bool
PqThriftReadBinary(PqThrift *t, const uint8_t **p, uint32_t *len)
{
	size_t		start = t->pos;
	uint64_t	n = 0;

	if (!PqThriftReadVarint(t, &n))
		return false;
	if (n > thrift_left(t) || n > UINT32_MAX)
	{
		t->pos = start;
		return PqThriftFail(t, "thrift: binary length %llu exceeds the %zu bytes left",
							(unsigned long long) n, thrift_left(t));
	}
	*p = t->buf + t->pos;
	*len = (uint32_t) n;
	t->pos += (size_t) n;
	return true;
}

bool
PqThriftStructBegin(PqThrift *t)
{
	if (t->failed)
		return false;
	if (t->depth >= PQ_THRIFT_MAX_DEPTH)
		return PqThriftFail(t, "thrift: structs nested deeper than %d",
							PQ_THRIFT_MAX_DEPTH);
	t->depth++;
	t->last_id[t->depth] = 0;
	return true;
}

bool
PqThriftStructEnd(PqThrift *t)
{
	if (t->failed)
		return false;
	if (t->depth <= 0)
		return PqThriftFail(t, "thrift: struct end without a begin");
	t->depth--;
	return true;
}

bool
PqThriftFieldBegin(PqThrift *t, int *type, int16_t *id)
{
	size_t		start = t->pos;
	uint8_t		b = 0;
	int			delta;
	int			tt;
	int16_t		fid = 0;

	/* an unread bool field's value is dropped with its field */
	t->bool_pending = false;
	if (!thrift_byte(t, &b))
		return false;
	tt = b & 0x0f;
	delta = b >> 4;
	if (tt == PQ_TT_STOP)
	{
		if (delta != 0)
		{
			t->pos = start;
			return PqThriftFail(t, "thrift: bad field header 0x%02x", b);
		}
		*type = PQ_TT_STOP;
		*id = 0;
		return true;
	}
	if (tt > PQ_TT_STRUCT)
	{
		t->pos = start;
		return PqThriftFail(t, "thrift: unknown field type %d", tt);
	}
	if (delta != 0)
	{
		int			prev = t->depth > 0 ? t->last_id[t->depth] : 0;

		if (prev + delta > INT16_MAX)
		{
			t->pos = start;
			return PqThriftFail(t, "thrift: field id overflows");
		}
		fid = (int16_t) (prev + delta);
	}
	else if (!PqThriftReadI16(t, &fid))
		return false;
	if (fid <= 0)
	{
		t->pos = start;
		return PqThriftFail(t, "thrift: bad field id %d", fid);
	}
	if (t->depth > 0)
		t->last_id[t->depth] = fid;

	if (tt == PQ_TT_BOOL || tt == PQ_TT_BOOL_FALSE)
	{
		t->bool_pending = true;
		t->bool_value = (tt == PQ_TT_BOOL);
		tt = PQ_TT_BOOL;
	}
	*type = tt;
	*id = fid;
	return true;
}

/* Check an element or key type from a list, set or map header. */
static bool
thrift_elem_type(PqThrift *t, int tt, int *out)
{
	if (tt == PQ_TT_BOOL_FALSE)
		tt = PQ_TT_BOOL;
	if (tt == PQ_TT_STOP || tt > PQ_TT_STRUCT)
		return PqThriftFail(t, "thrift: bad element type %d", tt);
	*out = tt;
	return true;
}

bool
PqThriftListBegin(PqThrift *t, int *elem_type, uint32_t *size)
{
	size_t		start = t->pos;
	uint8_t		b = 0;
	uint64_t	n = 0;

	t->bool_pending = false;
	if (!thrift_byte(t, &b))
		return false;
	n = b >> 4;
	if (n == 15 && !PqThriftReadVarint(t, &n))
		return false;
	if (!thrift_elem_type(t, b & 0x0f, elem_type))
	{
		t->pos = start;
		return false;
	}
	/* every element takes at least one byte */
	if (n > thrift_left(t))
	{
		t->pos = start;
		return PqThriftFail(t, "thrift: list of %llu elements exceeds the %zu bytes left",
							(unsigned long long) n, thrift_left(t));
	}
	*size = (uint32_t) n;
	return true;
}

bool
PqThriftMapBegin(PqThrift *t, int *key_type, int *value_type, uint32_t *size)
{
	size_t		start = t->pos;
	uint64_t	n = 0;
	uint8_t		b = 0;

	t->bool_pending = false;
	if (!PqThriftReadVarint(t, &n))
		return false;
	if (n == 0)
	{
		*key_type = 0;
		*value_type = 0;
		*size = 0;
		return true;
	}
	if (!thrift_byte(t, &b))
		return false;
	if (!thrift_elem_type(t, b >> 4, key_type) ||
		!thrift_elem_type(t, b & 0x0f, value_type))
	{
		t->pos = start;
		return false;
	}
	/* every entry takes at least two bytes */
	if (n > thrift_left(t) / 2)
	{
		t->pos = start;
		return PqThriftFail(t, "thrift: map of %llu entries exceeds the %zu bytes left",
							(unsigned long long) n, thrift_left(t));
	}
	*size = (uint32_t) n;
	return true;
}

bool
PqThriftSkip(PqThrift *t, int type)
{
	uint64_t	u = 0;
	uint8_t		b = 0;
	bool		ok = true;

	if (t->failed)
		return false;
	switch (type)
	{
		case PQ_TT_BOOL:
			{
				bool		v;

				return PqThriftReadBool(t, &v);
			}
		case PQ_TT_I8:
			return thrift_byte(t, &b);
		case PQ_TT_I16:
		case PQ_TT_I32:
		case PQ_TT_I64:
			return PqThriftReadVarint(t, &u);
		case PQ_TT_DOUBLE:
			if (thrift_left(t) < 8)
				return PqThriftFail(t, "thrift: input ends inside a double");
			t->pos += 8;
			return true;
		case PQ_TT_BINARY:
			{
				const uint8_t *p;
				uint32_t	n;

				return PqThriftReadBinary(t, &p, &n);
			}
		case PQ_TT_STRUCT:
			{
				int			ft;
				int16_t		fid;

				if (!PqThriftStructBegin(t))
					return false;
				while (PqThriftFieldBegin(t, &ft, &fid) && ft != PQ_TT_STOP)
				{
					if (!PqThriftSkip(t, ft))
						return false;
				}
				return PqThriftStructEnd(t);
			}
		case PQ_TT_LIST:
		case PQ_TT_SET:
		case PQ_TT_MAP:
			{
				int			kt = 0;
				int			vt = 0;
				uint32_t	n;
				uint32_t	i;

				if (type == PQ_TT_MAP)
					ok = PqThriftMapBegin(t, &kt, &vt, &n);
				else
					ok = PqThriftListBegin(t, &vt, &n);
				if (!ok)
					return false;
				/* containers count towards the nesting limit too */
				if (t->depth >= PQ_THRIFT_MAX_DEPTH)
					return PqThriftFail(t, "thrift: values nested deeper than %d",
										PQ_THRIFT_MAX_DEPTH);
				t->depth++;
				t->last_id[t->depth] = 0;
				for (i = 0; i < n && ok; i++)
				{
					if (type == PQ_TT_MAP)
						ok = PqThriftSkip(t, kt);
					if (ok)
						ok = PqThriftSkip(t, vt);
				}
				t->depth--;
				return ok;
			}
		default:
			return PqThriftFail(t, "thrift: cannot skip a value of type %d", type);
	}
}
