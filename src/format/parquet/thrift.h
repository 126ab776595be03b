/*-------------------------------------------------------------------------
 *
 * thrift.h
 *		A reader for the Thrift compact protocol over a bounded buffer.
 *
 * Parquet's footer and page headers are Thrift structs in the compact
 * protocol.  The reader decodes them field by field; metadata.c drives it
 * with the field ids of parquet.thrift.  It never reads past the buffer,
 * bounds nesting (PQ_THRIFT_MAX_DEPTH), and checks every length against
 * the bytes left, so a list or string header can never ask for more than
 * the input holds.
 *
 * Errors are sticky: after the first failure every call fails at once and
 * the first message (with its byte offset, plus the base the caller gave)
 * is kept in t->errmsg.
 *
 * Usage, for one struct:
 *
 *		PqThriftStructBegin(&t);
 *		while (PqThriftFieldBegin(&t, &type, &id) && type != PQ_TT_STOP)
 *		{
 *			if (id == 1 && type == PQ_TT_I32)
 *				PqThriftReadI32(&t, &x);
 *			else
 *				PqThriftSkip(&t, type);
 *		}
 *		PqThriftStructEnd(&t);
 *
 * A bool field carries its value in the field header; PqThriftReadBool
 * returns it (type PQ_TT_BOOL).  Bools inside lists are one byte each;
 * PqThriftReadBool reads those too.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/thrift.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_PQ_THRIFT_H
#define TELEM_PQ_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compact protocol types (BOOL_TRUE and BOOL_FALSE are both PQ_TT_BOOL). */
#define PQ_TT_STOP		0
#define PQ_TT_BOOL		1
#define PQ_TT_BOOL_FALSE 2			/* on the wire only */
#define PQ_TT_I8		3
#define PQ_TT_I16		4
#define PQ_TT_I32		5
#define PQ_TT_I64		6
#define PQ_TT_DOUBLE	7
#define PQ_TT_BINARY	8
#define PQ_TT_LIST		9
#define PQ_TT_SET		10
#define PQ_TT_MAP		11
#define PQ_TT_STRUCT	12

/* Structs nested deeper than this (and values skipped deeper) are errors. */
#define PQ_THRIFT_MAX_DEPTH 64

typedef struct PqThrift
{
	const uint8_t *buf;
	size_t		len;
	size_t		pos;
	uint64_t	base;			/* added to offsets in messages */

	bool		failed;
	char		errmsg[256];

	/* pending value of the last bool field header */
	bool		bool_pending;
	bool		bool_value;

	/* last field id of each open struct, for delta-encoded ids */
	int			depth;
	int16_t		last_id[PQ_THRIFT_MAX_DEPTH + 1];
} PqThrift;

/* Read buf[0..len); base is the offset of buf[0] used in error messages. */
extern void PqThriftInit(PqThrift *t, const uint8_t *buf, size_t len,
						 uint64_t base);

/*
 * Record an error at the current position (unless one is recorded
 * already); returns false.  The message gets " at byte N" appended.
 */
extern bool PqThriftFail(PqThrift *t, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Primitive values.  All return false (and set the error) on failure. */
extern bool PqThriftReadVarint(PqThrift *t, uint64_t *v);
extern bool PqThriftReadI8(PqThrift *t, int8_t *v);
extern bool PqThriftReadI16(PqThrift *t, int16_t *v);
extern bool PqThriftReadI32(PqThrift *t, int32_t *v);
extern bool PqThriftReadI64(PqThrift *t, int64_t *v);
extern bool PqThriftReadDouble(PqThrift *t, double *v);
extern bool PqThriftReadBool(PqThrift *t, bool *v);

/* binary and string: *p points into the buffer, *len bytes */
extern bool PqThriftReadBinary(PqThrift *t, const uint8_t **p, uint32_t *len);

/*
 * Struct framing.  FieldBegin gives type PQ_TT_STOP at the struct's end
 * (then call StructEnd).  Field ids are checked to be positive.
 */
extern bool PqThriftStructBegin(PqThrift *t);
extern bool PqThriftStructEnd(PqThrift *t);
extern bool PqThriftFieldBegin(PqThrift *t, int *type, int16_t *id);

/*
 * List and set headers (same encoding).  *size is checked against the
 * bytes left (every element takes at least one byte), so it also bounds
 * any allocation made from it.
 */
extern bool PqThriftListBegin(PqThrift *t, int *elem_type, uint32_t *size);

/* Map header; key and value types are 0 when size is 0. */
extern bool PqThriftMapBegin(PqThrift *t, int *key_type, int *value_type,
							 uint32_t *size);

/* Skip one value of any type, nested values included. */
extern bool PqThriftSkip(PqThrift *t, int type);

#endif							/* TELEM_PQ_THRIFT_H */
