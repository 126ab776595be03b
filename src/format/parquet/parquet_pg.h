/*-------------------------------------------------------------------------
 *
 * parquet_pg.h
 *		The PostgreSQL side of the Parquet reader: type conversion, the
 *		footer fetch, and the facts row-group pruning works from.
 *
 * Used by parquet_scan.c, by plan/source_parquet.c (IMPORT FOREIGN
 * SCHEMA) and by plan/estimate.c.  The reader itself is plain C behind
 * parquet.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/parquet_pg.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_PARQUET_PG_H
#define TELEM_PARQUET_PG_H

#include "telem_fdw.h"
#include "format/parquet/parquet.h"

/* How one Parquet leaf's values become Datums of one column's type. */
typedef enum PqConvKind
{
	PQC_NULL,					/* LogicalType UNKNOWN: always NULL */
	PQC_BOOL,
	PQC_INT2,					/* from any integer, range-checked */
	PQC_INT4,
	PQC_INT8,
	PQC_FLOAT4,					/* from FLOAT, DOUBLE, integers */
	PQC_FLOAT8,
	PQC_NUMERIC_INT,			/* from INT32/INT64, with DECIMAL scale */
	PQC_TEXT,					/* from byte arrays: validated UTF-8 */
	PQC_BYTEA,
	PQC_UUID,
	PQC_DATE,
	PQC_TIME,
	PQC_TIMESTAMP,				/* from TIMESTAMP, INT96, DATE */
	PQC_TIMESTAMPTZ,
	PQC_INPUT,					/* the value's text through the column
								 * type's input function */
	PQC_JSON					/* a group or repeated field, as JSON text:
								 * TelemPqJsonDatum */
} PqConvKind;

typedef struct PqConv
{
	PqConvKind	kind;
	const PqSchemaNode *leaf;
	bool		is_unsigned;	/* INT32/INT64 with INTEGER(unsigned) */
	bool		from_local;		/* timestamp not adjusted to UTC */
	int64		unit_divisor;	/* timestamps, times: source units per us,
								 * or 0 when multiplied (millis) */
	int			scale;			/* DECIMAL */
} PqConv;

/* in parquet_datum.c */
extern const char *TelemPqTypeText(const PqSchemaNode *node);
extern bool TelemPqNeedsJson(const PqSchemaNode *node);
extern void TelemPqChooseConv(TelemColumn *col, const PqSchemaNode *node,
							  const char *url, PqConv *conv);
extern Datum TelemPqConvert(const PqConv *conv, TelemColumn *col,
							const void *v, PqBuf *scratch);
extern Datum TelemPqTextDatum(const PqBytes *b);
extern Datum TelemPqJsonDatum(TelemColumn *col, const char *json, size_t len);
extern bool TelemPqStatDatum(const PqConv *conv, TelemColumn *col,
							 const PqBytes *raw, Datum *out);
extern void TelemPqTypeFor(const PqSchemaNode *node, char *buf, size_t len);

/* in parquet_footer.c */
extern PqFile *TelemPqReadFooter(TelemStore *store, const TelemObject *obj,
								 const char *url, int64 *bytes_read,
								 uint8 **tail, int64 *tail_start);
extern void TelemPqFetch(TelemStore *store, const TelemObject *obj,
						 const char *url, int64 start, int64 end, uint8 *buf,
						 int64 *bytes_read);
extern void TelemPqReadAll(TelemStore *store, TelemReader *reader,
						   const char *url, int64 start, int64 end,
						   uint8 *buf, int64 *bytes_read);
extern void TelemPqFreeOnReset(MemoryContext cxt, PqFile *file);
extern void TelemPqReportError(const TelemError *err,
							   const char *url) pg_attribute_noreturn();

#endif							/* TELEM_PARQUET_PG_H */
