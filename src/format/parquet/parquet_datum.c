/*-------------------------------------------------------------------------
 *
 * parquet_datum.c
 *		Parquet values to Datums: which conversions a column allows, and
 *		the conversions themselves.
 *
 * A column may hold a Parquet leaf when the conversion is exact or is the
 * one PostgreSQL's own casts make (an INT64 into bigint or numeric, a
 * TIMESTAMP adjusted to UTC into timestamptz, or into timestamp through
 * the session's TimeZone as timestamptz::timestamp does).  text takes any
 * leaf; a domain, or a type with no direct conversion that still reads the
 * value's text (varchar, jsonb from a STRING), goes through the type's
 * input function.  Anything else is refused before a row is read, naming
 * the column, the Parquet column and both types.
 *
 * IDENTIFICATION
 *		src/format/parquet/parquet_datum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "format/parquet/parquet_pg.h"

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define PG_EPOCH_OFFSET_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)
#define PG_EPOCH_OFFSET_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

/* The broad kind of a leaf, for the conversion table. */
typedef enum LeafClass
{
	LEAF_NULL,
	LEAF_BOOL,
	LEAF_INT,
	LEAF_DECIMAL,
	LEAF_FLOAT,					/* FLOAT, DOUBLE, FLOAT16 */
	LEAF_DATE,
	LEAF_TIME,
	LEAF_TIMESTAMP,				/* TIMESTAMP and INT96 */
	LEAF_STRING,				/* BYTE_ARRAY: STRING, ENUM, JSON, or none */
	LEAF_UUID,
	LEAF_BINARY					/* FLBA, BSON, INTERVAL */
} LeafClass;

static LeafClass
leaf_class(const PqSchemaNode *n)
{
	switch (n->logical)
	{
		case PQL_NULL:
			return LEAF_NULL;
		case PQL_DECIMAL:
			return LEAF_DECIMAL;
		case PQL_DATE:
			return LEAF_DATE;
		case PQL_TIME:
			return LEAF_TIME;
		case PQL_TIMESTAMP:
			return LEAF_TIMESTAMP;
		case PQL_UUID:
			return n->type == PQ_FIXED_LEN_BYTE_ARRAY && n->type_length == 16 ?
				LEAF_UUID : LEAF_BINARY;
		case PQL_FLOAT16:
			return LEAF_FLOAT;
		case PQL_BSON:
		case PQL_INTERVAL:
			return LEAF_BINARY;
		default:
			break;
	}
	switch (n->type)
	{
		case PQ_BOOLEAN:
			return LEAF_BOOL;
		case PQ_INT32:
		case PQ_INT64:
			return LEAF_INT;
		case PQ_INT96:
			return LEAF_TIMESTAMP;
		case PQ_FLOAT:
		case PQ_DOUBLE:
			return LEAF_FLOAT;
		case PQ_BYTE_ARRAY:
			return LEAF_STRING;
		case PQ_FIXED_LEN_BYTE_ARRAY:
			return LEAF_BINARY;
	}
	return LEAF_BINARY;
}

/*
 * TelemPqNeedsJson
 *		Is node read as JSON: a group, or a leaf under a repeated field?
 */
bool
TelemPqNeedsJson(const PqSchemaNode *node)
{
	return node->is_group || node->max_rep > 0;
}

/* The Parquet type of node, as messages and EXPLAIN show it. */
const char *
TelemPqTypeText(const PqSchemaNode *node)
{
	char		buf[256];

	PqDescribeNode(node, buf, sizeof(buf));
	return pstrdup(buf);
}

/*
 * TelemPqTypeFor
 *		The PostgreSQL type that holds node best, as SQL (for IMPORT
 *		FOREIGN SCHEMA and hints).
 */
void
TelemPqTypeFor(const PqSchemaNode *n, char *buf, size_t len)
{
	const char *t = "bytea";

	if (TelemPqNeedsJson(n))
	{
		strlcpy(buf, "jsonb", len);
		return;
	}
	switch (leaf_class(n))
	{
		case LEAF_NULL:
			t = "text";
			break;
		case LEAF_BOOL:
			t = "boolean";
			break;
		case LEAF_INT:
			if (n->logical == PQL_INTEGER && n->bit_width <= 16)
				t = n->is_signed || n->bit_width <= 8 ? "smallint" : "integer";
			else if (n->logical == PQL_INTEGER && !n->is_signed)
				t = n->bit_width <= 32 ? "bigint" : "numeric(20,0)";
			else
				t = n->type == PQ_INT32 ? "integer" : "bigint";
			break;
		case LEAF_DECIMAL:
			snprintf(buf, len, "numeric(%d,%d)", n->precision, n->scale);
			return;
		case LEAF_FLOAT:
			t = n->type == PQ_DOUBLE ? "double precision" : "real";
			break;
		case LEAF_DATE:
			t = "date";
			break;
		case LEAF_TIME:
			t = "time";
			break;
		case LEAF_TIMESTAMP:
			t = n->type == PQ_INT96 || n->adjusted_to_utc ?
				"timestamp with time zone" : "timestamp";
			break;
		case LEAF_STRING:
			t = n->logical == PQL_JSON ? "jsonb" :
				n->logical == PQL_NONE || n->logical == PQL_OTHER ?
				"bytea" : "text";
			break;
		case LEAF_UUID:
			t = "uuid";
			break;
		case LEAF_BINARY:
			t = "bytea";
			break;
	}
	strlcpy(buf, t, len);
}

/* Refuse col for node: the column, the object, the Parquet column, both types. */
static void
refuse(TelemColumn *col, const PqSchemaNode *node, const char *url)
{
	char		want[64];

	TelemPqTypeFor(node, want, sizeof(want));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("column \"%s\" of type %s cannot hold column \"%s\" of type %s of Parquet object \"%s\"",
					col->name, format_type_be(col->typid), node->path,
					TelemPqTypeText(node), url),
			 TelemPqNeedsJson(node) && node->nchildren > 0 ?
			 errhint("Declare the column as %s, or pick a leaf with the column "
					 "option \"%s\", such as '%s.%s'.", want, OPT_PATH,
					 node->path, node->children[0]->name) :
			 errhint("Declare the column as %s, or as text.", want)));
}

/* Source units per microsecond, for TIME and TIMESTAMP. */
static void
set_unit(PqConv *conv, const PqSchemaNode *n)
{
	if (n->type == PQ_INT96)
		conv->unit_divisor = 1000;	/* nanoseconds of the day */
	else if (n->logical == PQL_DATE)
		conv->unit_divisor = 1;
	else if (n->unit == PQ_MILLIS)
		conv->unit_divisor = 0;
	else if (n->unit == PQ_NANOS)
		conv->unit_divisor = 1000;
	else
		conv->unit_divisor = 1;
	conv->from_local = n->type != PQ_INT96 && !n->adjusted_to_utc;
}

/*
 * TelemPqChooseConv
 *		How col reads node of the object at url, or an error if it cannot.
 *		A node that needs JSON (TelemPqNeedsJson) gets PQC_JSON: the scan
 *		assembles its JSON text and converts it with TelemPqJsonDatum.
 */
void
TelemPqChooseConv(TelemColumn *col, const PqSchemaNode *node, const char *url,
				  PqConv *conv)
{
	Oid			t = col->typid;
	LeafClass	lc = leaf_class(node);
	bool		is_domain = get_typtype(t) == TYPTYPE_DOMAIN;

	memset(conv, 0, sizeof(*conv));
	conv->leaf = node;
	conv->is_unsigned = node->logical == PQL_INTEGER && !node->is_signed;
	conv->scale = node->logical == PQL_DECIMAL ? node->scale : 0;
	conv->kind = PQC_INPUT;

	if (is_domain)
		t = getBaseType(t);
	if (TelemPqNeedsJson(node))
	{
		/* a group or repeated field: its JSON text */
		if (t != JSONBOID && t != JSONOID && t != TEXTOID)
			refuse(col, node, url);
		conv->kind = PQC_JSON;
		return;
	}
	if (lc == LEAF_NULL)
	{
		conv->kind = PQC_NULL;
		return;
	}
	/* text takes any leaf: its text form, or the string itself */
	if (t == TEXTOID || t == VARCHAROID || t == BPCHAROID || t == NAMEOID)
	{
		if (t == TEXTOID && !is_domain && lc == LEAF_STRING)
			conv->kind = PQC_TEXT;
		return;
	}
	switch (lc)
	{
		case LEAF_BOOL:
			if (t == BOOLOID)
				conv->kind = PQC_BOOL;
			else
				refuse(col, node, url);
			break;
		case LEAF_INT:
		case LEAF_DECIMAL:
			if (lc == LEAF_DECIMAL && node->type != PQ_INT32 &&
				node->type != PQ_INT64)
			{
				/* wide decimals: the digits through numeric_in or float8in */
				if (t != NUMERICOID && t != FLOAT4OID && t != FLOAT8OID)
					refuse(col, node, url);
				break;
			}
			if (t == INT2OID && conv->scale == 0)
				conv->kind = PQC_INT2;
			else if (t == INT4OID && conv->scale == 0)
				conv->kind = PQC_INT4;
			else if (t == INT8OID && conv->scale == 0)
				conv->kind = PQC_INT8;
			else if (t == FLOAT4OID)
				conv->kind = conv->scale == 0 ? PQC_FLOAT4 : PQC_INPUT;
			else if (t == FLOAT8OID)
				conv->kind = conv->scale == 0 ? PQC_FLOAT8 : PQC_INPUT;
			else if (t == NUMERICOID)
				conv->kind = PQC_NUMERIC_INT;
			else
				refuse(col, node, url);
			break;
		case LEAF_FLOAT:
			if (node->logical == PQL_FLOAT16)
			{
				if (t != FLOAT4OID && t != FLOAT8OID && t != NUMERICOID)
					refuse(col, node, url);
			}
			else if (t == FLOAT4OID)
				conv->kind = PQC_FLOAT4;
			else if (t == FLOAT8OID)
				conv->kind = PQC_FLOAT8;
			else if (t != NUMERICOID)
				refuse(col, node, url);
			break;
		case LEAF_DATE:
			set_unit(conv, node);
			conv->from_local = true;
			if (t == DATEOID)
				conv->kind = PQC_DATE;
			else if (t == TIMESTAMPOID)
				conv->kind = PQC_TIMESTAMP;
			else if (t == TIMESTAMPTZOID)
				conv->kind = PQC_TIMESTAMPTZ;
			else
				refuse(col, node, url);
			break;
		case LEAF_TIME:
			set_unit(conv, node);
			if (t == TIMEOID)
				conv->kind = PQC_TIME;
			else
				refuse(col, node, url);
			break;
		case LEAF_TIMESTAMP:
			set_unit(conv, node);
			if (t == TIMESTAMPOID)
				conv->kind = PQC_TIMESTAMP;
			else if (t == TIMESTAMPTZOID)
				conv->kind = PQC_TIMESTAMPTZ;
			else
				refuse(col, node, url);
			break;
		case LEAF_STRING:
			if (t == BYTEAOID)
				conv->kind = PQC_BYTEA;
			/* anything else reads the string through its input function */
			break;
		case LEAF_UUID:
			if (t == UUIDOID)
				conv->kind = PQC_UUID;
			else if (t == BYTEAOID)
				conv->kind = PQC_BYTEA;
			else
				refuse(col, node, url);
			break;
		case LEAF_BINARY:
			if (t == BYTEAOID)
				conv->kind = PQC_BYTEA;
			else
				refuse(col, node, url);
			break;
		case LEAF_NULL:
			break;
	}
	/* a domain checks its constraints in domain_in */
	if (is_domain && conv->kind != PQC_NULL)
		conv->kind = PQC_INPUT;
}

/* The integer in v (INT32 or INT64, signed or not) as a 128-bit value. */
static inline int128
int_value(const PqConv *conv, const void *v)
{
	if (conv->leaf->type == PQ_INT32)
	{
		int32		x;

		memcpy(&x, v, sizeof(x));
		return conv->is_unsigned ? (int128) (uint32) x : (int128) x;
	}
	else
	{
		int64		x;

		memcpy(&x, v, sizeof(x));
		return conv->is_unsigned ? (int128) (uint64) x : (int128) x;
	}
}

/* Report, or with soft just fail, a value out of the column type's range. */
static bool
out_of_range(TelemColumn *col, bool soft)
{
	if (soft)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range for type %s",
					format_type_be(col->typid))));
	return false;
}

/* Report, or with soft just fail, a date or time out of PostgreSQL's range. */
static bool
datetime_out_of_range(const char *what, bool soft)
{
	if (soft)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("%s out of range", what)));
	return false;
}

/* Microseconds since the Unix epoch of a TIMESTAMP, INT96 or DATE value. */
static bool
unix_micros(const PqConv *conv, const void *v, int64 *us)
{
	const PqSchemaNode *n = conv->leaf;

	if (n->type == PQ_INT96)
	{
		PqInt96		x;

		memcpy(&x, v, sizeof(x));
		if (x.nanos >= (uint64) USECS_PER_DAY * 1000)
			return false;
		*us = ((int64) x.julian_day - UNIX_EPOCH_JDATE) * USECS_PER_DAY +
			(int64) (x.nanos / 1000);
		return true;
	}
	if (n->logical == PQL_DATE)
	{
		int32		d;

		memcpy(&d, v, sizeof(d));
		*us = (int64) d * USECS_PER_DAY;
		return true;
	}
	else
	{
		int64		x;

		if (n->type == PQ_INT32)
		{
			int32		y;

			memcpy(&y, v, sizeof(y));
			x = y;
		}
		else
			memcpy(&x, v, sizeof(x));
		if (conv->unit_divisor == 0)
			return !pg_mul_s64_overflow(x, 1000, us);
		/* floor division: an instant before 1970 stays before it */
		*us = x / conv->unit_divisor;
		if (x % conv->unit_divisor < 0)
			(*us)--;
		return true;
	}
}

/*
 * TelemPqTextDatum
 *		A text Datum of the UTF-8 string b: checked, and converted when the
 *		database encoding is another.
 */
Datum
TelemPqTextDatum(const PqBytes *b)
{
	text	   *t;
	char	   *s;

	if (GetDatabaseEncoding() != PG_UTF8)
	{
		s = pg_any_to_server((const char *) b->ptr, (int) b->len, PG_UTF8);
		if (s != (const char *) b->ptr)
			return CStringGetTextDatum(s);
	}
	else
		(void) pg_verify_mbstr(PG_UTF8, (const char *) b->ptr, (int) b->len, false);
	t = (text *) palloc(VARHDRSZ + b->len);
	SET_VARSIZE(t, VARHDRSZ + b->len);
	memcpy(VARDATA(t), b->ptr, b->len);
	return PointerGetDatum(t);
}

/* A bytea of b's bytes. */
static Datum
bytea_datum(const PqBytes *b)
{
	bytea	   *r = (bytea *) palloc(VARHDRSZ + b->len);

	SET_VARSIZE(r, VARHDRSZ + b->len);
	if (b->len > 0)
		memcpy(VARDATA(r), b->ptr, b->len);
	return PointerGetDatum(r);
}

/*
 * Convert one value; with soft, false instead of an error for a value the
 * column type cannot hold.  Input-function conversions are never soft
 * (callers that need soft do not use them).
 */
static bool
convert(const PqConv *conv, TelemColumn *col, const void *v, PqBuf *scratch,
		bool soft, Datum *out)
{
	switch (conv->kind)
	{
		case PQC_NULL:
		case PQC_JSON:
			return false;
		case PQC_BOOL:
			*out = BoolGetDatum(*(const uint8 *) v != 0);
			return true;
		case PQC_INT2:
		case PQC_INT4:
		case PQC_INT8:
			{
				int128		x = int_value(conv, v);

				if (conv->kind == PQC_INT2 && (x < PG_INT16_MIN || x > PG_INT16_MAX))
					return out_of_range(col, soft);
				if (conv->kind == PQC_INT4 && (x < PG_INT32_MIN || x > PG_INT32_MAX))
					return out_of_range(col, soft);
				if (x < PG_INT64_MIN || x > PG_INT64_MAX)
					return out_of_range(col, soft);
				*out = conv->kind == PQC_INT2 ? Int16GetDatum((int16) x) :
					conv->kind == PQC_INT4 ? Int32GetDatum((int32) x) :
					Int64GetDatum((int64) x);
				return true;
			}
		case PQC_FLOAT4:
		case PQC_FLOAT8:
			{
				double		d;

				if (conv->leaf->type == PQ_FLOAT)
				{
					float		f;

					memcpy(&f, v, sizeof(f));
					d = f;
				}
				else if (conv->leaf->type == PQ_DOUBLE)
					memcpy(&d, v, sizeof(d));
				else
					d = (double) int_value(conv, v);
				if (conv->kind == PQC_FLOAT4)
				{
					float		f = (float) d;

					if (isinf(f) && !isinf(d))
						return out_of_range(col, soft);
					*out = Float4GetDatum(f);
				}
				else
					*out = Float8GetDatum(d);
				return true;
			}
		case PQC_NUMERIC_INT:
			{
				int128		x = int_value(conv, v);

				if (x < PG_INT64_MIN || x > PG_INT64_MAX)
					break;		/* a UINT64 above 2^63: by its digits */
				*out = NumericGetDatum(conv->scale > 0 ?
									   int64_div_fast_to_numeric((int64) x, conv->scale) :
									   int64_to_numeric((int64) x));
				return true;
			}
		case PQC_TEXT:
			*out = TelemPqTextDatum((const PqBytes *) v);
			return true;
		case PQC_BYTEA:
			*out = bytea_datum((const PqBytes *) v);
			return true;
		case PQC_UUID:
			{
				const PqBytes *b = (const PqBytes *) v;
				pg_uuid_t  *u = palloc(sizeof(pg_uuid_t));

				if (b->len != UUID_LEN)
					break;
				memcpy(u->data, b->ptr, UUID_LEN);
				*out = UUIDPGetDatum(u);
				return true;
			}
		case PQC_DATE:
			{
				int32		d;

				memcpy(&d, v, sizeof(d));
				if (d < PG_INT32_MIN + PG_EPOCH_OFFSET_DAYS ||
					!IS_VALID_DATE(d - PG_EPOCH_OFFSET_DAYS))
					return datetime_out_of_range("date", soft);
				*out = DateADTGetDatum(d - PG_EPOCH_OFFSET_DAYS);
				return true;
			}
		case PQC_TIME:
			{
				int64		us;

				if (!unix_micros(conv, v, &us) || us < 0 || us > USECS_PER_DAY)
					return datetime_out_of_range("time", soft);
				*out = TimeADTGetDatum(us);
				return true;
			}
		case PQC_TIMESTAMP:
		case PQC_TIMESTAMPTZ:
			{
				int64		us;
				Timestamp	ts;

				if (!unix_micros(conv, v, &us) ||
					pg_sub_s64_overflow(us, PG_EPOCH_OFFSET_US, &ts) ||
					!IS_VALID_TIMESTAMP(ts))
					return datetime_out_of_range("timestamp", soft);
				*out = TimestampGetDatum(ts);
				/* between the two, the session's TimeZone decides, as casts do */
				if (conv->kind == PQC_TIMESTAMPTZ && conv->from_local)
					*out = DirectFunctionCall1(timestamp_timestamptz, *out);
				else if (conv->kind == PQC_TIMESTAMP && !conv->from_local &&
						 conv->leaf->type != PQ_INT96)
					*out = DirectFunctionCall1(timestamptz_timestamp, *out);
				return true;
			}
		case PQC_INPUT:
			break;
	}

	/* the value's text, through the column type's input function */
	if (soft)
		return false;
	scratch->len = 0;
	PqValueText(conv->leaf, v, false, scratch);
	PqBufAppend(scratch, "", 1);
	if (scratch->oom)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	*out = InputFunctionCall(&col->infunc, scratch->data, col->typioparam,
							 col->typmod);
	return true;
}

/*
 * TelemPqConvert
 *		The Datum of one value (v points at its entry in the leaf's
 *		PqColumnData.values) for col, in the current memory context.
 *		scratch is a buffer the caller keeps across calls.
 */
Datum
TelemPqConvert(const PqConv *conv, TelemColumn *col, const void *v,
			   PqBuf *scratch)
{
	Datum		d = (Datum) 0;

	(void) convert(conv, col, v, scratch, false, &d);
	return d;
}

/*
 * TelemPqStatDatum
 *		A min or max statistic (PLAIN bytes) as a Datum of col's type, for
 *		pruning; false when it cannot be had exactly (a value out of the
 *		column's range, a conversion only the input function makes, NaN).
 */
bool
TelemPqStatDatum(const PqConv *conv, TelemColumn *col, const PqBytes *raw,
				 Datum *out)
{
	union
	{
		uint8		b;
		int32		i32;
		int64		i64;
		float		f;
		double		d;
		PqInt96		i96;
		PqBytes		bytes;
	}			v;
	PqBuf		unused = {0};
	const PqSchemaNode *n = conv->leaf;

	switch (n->type)
	{
		case PQ_BOOLEAN:
			if (raw->len != 1)
				return false;
			v.b = raw->ptr[0] != 0;
			break;
		case PQ_INT32:
			if (raw->len != 4)
				return false;
			memcpy(&v.i32, raw->ptr, 4);
			break;
		case PQ_INT64:
			if (raw->len != 8)
				return false;
			memcpy(&v.i64, raw->ptr, 8);
			break;
		case PQ_FLOAT:
			if (raw->len != 4)
				return false;
			memcpy(&v.f, raw->ptr, 4);
			if (isnan(v.f))
				return false;
			break;
		case PQ_DOUBLE:
			if (raw->len != 8)
				return false;
			memcpy(&v.d, raw->ptr, 8);
			if (isnan(v.d))
				return false;
			break;
		case PQ_INT96:
			return false;		/* no defined order */
		case PQ_BYTE_ARRAY:
		case PQ_FIXED_LEN_BYTE_ARRAY:
			v.bytes = *raw;
			break;
	}
	if (conv->kind == PQC_INPUT || conv->kind == PQC_NULL)
		return false;
	/* a string that is not valid UTF-8 (a truncated bound) is no bound */
	if (conv->kind == PQC_TEXT &&
		!pg_verify_mbstr(PG_UTF8, (const char *) raw->ptr, (int) raw->len, true))
		return false;
	return convert(conv, col, &v, &unused, true, out);
}

/*
 * TelemPqJsonDatum
 *		A column that reads a group or a repeated field: the JSON text
 *		json[0..len) as json, jsonb or text.
 */
Datum
TelemPqJsonDatum(TelemColumn *col, const char *json, size_t len)
{
	char	   *s = palloc(len + 1);

	memcpy(s, json, len);
	s[len] = '\0';
	if (col->typid == TEXTOID)
		return PointerGetDatum(cstring_to_text_with_len(s, len));
	return InputFunctionCall(&col->infunc, s, col->typioparam, col->typmod);
}
