/*-------------------------------------------------------------------------
 *
 * number_datum.c
 *		int2/int4/int8/float4/float8 values straight from text, without
 *		the input functions, for the JSON-lines and CSV/text decoders.
 *
 * number_parse.c does the parsing; it says "no" to anything it is not
 * sure the input function would accept with the same result, and the
 * caller then runs the input function, so values and errors stay those
 * of int8in, float8in and the rest.  Domains over these types are not
 * fast-pathed (their constraints are checked by domain_in).
 *
 * IDENTIFICATION
 *		src/format/number_datum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"

#include "../telem_fdw.h"
#include "format/number_parse.h"

/* The fast conversion that fits a column type, or NUMBER_NONE. */
TelemNumberKind
TelemNumberKindOf(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return NUMBER_INT2;
		case INT4OID:
			return NUMBER_INT4;
		case INT8OID:
			return NUMBER_INT8;
		case FLOAT4OID:
			return NUMBER_FLOAT4;
		case FLOAT8OID:
			return NUMBER_FLOAT8;
		default:
			return NUMBER_NONE;
	}
}

/*
 * Convert s[0..len) (need not be NUL-terminated) to a Datum of the given
 * kind.  False when the caller must use the type's input function.
 */
bool
TelemNumberDatum(TelemNumberKind kind, const char *s, size_t len, Datum *out)
{
	switch (kind)
	{
		case NUMBER_INT2:
			{
				int16_t		v;

				if (!TelemParseInt16(s, len, &v))
					return false;
				*out = Int16GetDatum(v);
				return true;
			}
		case NUMBER_INT4:
			{
				int32_t		v;

				if (!TelemParseInt32(s, len, &v))
					return false;
				*out = Int32GetDatum(v);
				return true;
			}
		case NUMBER_INT8:
			{
				int64_t		v;

				if (!TelemParseInt64(s, len, &v))
					return false;
				*out = Int64GetDatum(v);
				return true;
			}
		case NUMBER_FLOAT4:
			{
				float		v;

				if (!TelemParseFloat(s, len, &v))
					return false;
				*out = Float4GetDatum(v);
				return true;
			}
		case NUMBER_FLOAT8:
			{
				double		v;

				if (!TelemParseDouble(s, len, &v))
					return false;
				*out = Float8GetDatum(v);
				return true;
			}
		case NUMBER_NONE:
			break;
	}
	return false;
}
