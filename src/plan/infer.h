/*-------------------------------------------------------------------------
 *
 * infer.h
 *		Column inference for IMPORT FOREIGN SCHEMA: what sampled records
 *		say about each field, and the per-format schema sources.
 *
 * import.c lists a table's objects and hands each sampled object to the
 * format's schema source; the source notes every value it sees on an
 * InferField; InferBuildColumns() turns the notes into columns.  A
 * source that reads a schema instead of records (Parquet, from the
 * footer) would set needs_prefix to false, read the object through the
 * store itself and add its fields with InferAddTyped().
 *
 * IDENTIFICATION
 *		src/plan/infer.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_INFER_H
#define TELEM_INFER_H

#include "nodes/bitmapset.h"
#include "utils/rel.h"

#include "telem_fdw.h"

/* What one field's sampled values were. */
typedef struct InferField
{
	char	   *name;			/* the field's own name (last path segment) */
	char	   *colname;		/* proposed column name */
	char	   *json_path;		/* jsonl: escaped path from the record root */
	int			nnull;
	int			nbool;
	int			nint4;			/* integers within int32 */
	int			nint8;			/* integers within int64 only */
	int			nnumeric;		/* integers beyond int64, floats beyond double */
	int			nfloat;			/* numbers written with a fraction or exponent */
	int			ntimestamp;		/* ISO-8601 timestamp strings */
	int			ndate;			/* ISO-8601 date strings */
	int			nstring;		/* any other string */
	int			ncontainer;		/* objects and arrays kept whole */
	int			nflattened;		/* objects split into child fields */
	double		minabs;			/* of the numbers, for the epoch rule */
	double		maxabs;
	const char *fixed_type;		/* InferAddTyped: the type, no inference */
} InferField;

/* The fields of one table, in order of first appearance. */
typedef struct InferSet
{
	List	   *fields;			/* of InferField */
	bool		allow_epoch;	/* jsonl: numbers may become timestamps */
} InferSet;

/* One name=value key segment below a table's location. */
typedef struct InferPartition
{
	char	   *name;
	int			nvalues;
	bool		all_int4;
	bool		all_int8;
	bool		all_date;
} InferPartition;

/* One column of the CREATE FOREIGN TABLE statement. */
typedef struct ImportColumn
{
	char	   *name;
	const char *type;			/* SQL type name */
	char	   *json_path;		/* NULL: the column's own name */
	const char *epoch;			/* NULL, "seconds" or "milliseconds" */
	char	   *partition;		/* partition column: the segment's name */
} ImportColumn;

/* What the IMPORT options say about reading sampled records. */
typedef struct InferOptions
{
	TelemFormat format;
	bool		flatten;		/* jsonl: nested objects become columns */
	int			header;			/* csv: 0 none, 1 names in the first line */
	char		delimiter;
	char		quote;
	char		escape;
	const char *null_string;
	int			encoding;		/* csv: of the objects; -1 = server's */
} InferOptions;

/* One sampled object: a prefix of its decompressed bytes. */
typedef struct SampleObject
{
	const char *url;			/* for messages */
	TelemStore *store;			/* for sources that read the object
								 * themselves */
	const TelemObject *object;
	const char *data;			/* NULL when the source does not need it */
	size_t		len;
	bool		complete;		/* data is the whole object */
} SampleObject;

/* A per-format schema source. */
typedef struct SchemaSourceOps
{
	const char *format;
	/* true: import.c reads the first bytes of each object into data */
	bool		needs_prefix;
	void	   *(*begin) (const InferOptions *opts, InferSet *set);
	/* note up to *rows_left records of obj; count them off *rows_left */
	void		(*sample) (void *state, const SampleObject *obj, int *rows_left);
	/* done sampling: add whatever fields are still pending */
	void		(*finish) (void *state);
} SchemaSourceOps;

/* in plan/infer.c */
extern InferField *InferGetField(InferSet *set, const char *json_path,
								 const char *colname, const char *name);
extern void InferAddTyped(InferSet *set, const char *colname,
						  const char *json_path, const char *type);
extern void InferNoteNull(InferField *f);
extern void InferNoteBool(InferField *f);
extern void InferNoteNumber(InferField *f, const char *text, size_t len);
extern void InferNoteString(InferField *f, const char *s, size_t len);
extern void InferNoteText(InferField *f, const char *s, size_t len);
extern void InferNoteContainer(InferField *f);
extern void InferNoteFlattened(InferField *f);
extern void InferNotePartition(InferPartition *p, const char *value);
extern bool InferIsDate(const char *s, size_t len);
extern List *InferBuildColumns(InferSet *set, List *partitions, bool jsonl);
extern char *InferEscapePathSegment(const char *name);

/* in plan/source_jsonl.c */
extern const SchemaSourceOps TelemJsonlSource;

/* in plan/source_csv.c */
extern const SchemaSourceOps TelemCsvSource;

/* in plan/source_parquet.c */
extern const SchemaSourceOps TelemParquetSource;

#endif							/* TELEM_INFER_H */
