/*-------------------------------------------------------------------------
 *
 * telem_fdw.h
 *		Private declarations of the PostgreSQL side of telem_fdw.
 *
 * The store, codec and JSON-extraction layers are plain C behind their own
 * headers (src/store/store.h, src/format/codec.h,
 * src/format/jsonl_extract.h); this header is what ties them to the
 * executor.  Declarations are grouped by the file that defines them.
 *
 * IDENTIFICATION
 *		src/telem_fdw.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_FDW_H
#define TELEM_FDW_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/palloc.h"

#include "format/codec.h"
#include "format/jsonl_extract.h"
#include "store/store.h"

/* Version guards: one place for the differences between PG 13 and 17. */
#if PG_VERSION_NUM < 130000
#error "telem_fdw needs PostgreSQL 13 or later"
#endif

/* Option names, spelled out once. */
#define OPT_PROVIDER			"provider"
#define OPT_REGION				"region"
#define OPT_ENDPOINT			"endpoint"
#define OPT_URL_STYLE			"url_style"
#define OPT_CA_FILE				"ca_file"
#define OPT_PAGE_SIZE			"page_size"
#define OPT_MAX_RETRIES			"max_retries"
#define OPT_CONNECT_TIMEOUT		"connect_timeout"
#define OPT_ACCESS_KEY_ID		"access_key_id"
#define OPT_SECRET_ACCESS_KEY	"secret_access_key"
#define OPT_SESSION_TOKEN		"session_token"
#define OPT_ACCOUNT				"account"
#define OPT_ACCOUNT_KEY			"account_key"
#define OPT_SAS_TOKEN			"sas_token"
#define OPT_TENANT_ID			"tenant_id"
#define OPT_CLIENT_ID			"client_id"
#define OPT_CLIENT_SECRET		"client_secret"
#define OPT_CREDENTIAL_SOURCE	"credential_source"
#define OPT_LOCATION			"location"
#define OPT_FORMAT				"format"
#define OPT_COMPRESSION			"compression"
#define OPT_MAX_LINE_SIZE		"max_line_size"
#define OPT_HEADER				"header"
#define OPT_DELIMITER			"delimiter"
#define OPT_QUOTE				"quote"
#define OPT_ESCAPE				"escape"
#define OPT_NULL				"null"
#define OPT_ENCODING			"encoding"
#define OPT_JSON_PATH			"json_path"
#define OPT_METADATA			"metadata"
#define OPT_PARTITION			"partition"
#define OPT_EPOCH				"epoch"
#define OPT_PATH				"path"

typedef enum TelemProvider
{
	PROVIDER_S3,
	PROVIDER_FILE,
	PROVIDER_AZURE
} TelemProvider;

typedef enum TelemFormat
{
	FORMAT_JSONL,
	FORMAT_CSV,
	FORMAT_TEXT,				/* COPY's text format */
	FORMAT_PARQUET
} TelemFormat;

/* What a column is filled from. */
typedef enum TelemColumnKind
{
	COLUMN_DATA,				/* a field of the record */
	COLUMN_META_KEY,
	COLUMN_META_SIZE,
	COLUMN_META_ETAG,
	COLUMN_META_LAST_MODIFIED,
	COLUMN_META_LINE_NUMBER,
	COLUMN_PARTITION			/* a name=value segment of the key */
} TelemColumnKind;

typedef enum TelemEpochUnit
{
	EPOCH_NONE,
	EPOCH_SECONDS,
	EPOCH_MILLISECONDS
} TelemEpochUnit;

/* Everything the options of one foreign table (and its server) say. */
typedef struct TelemOptions
{
	/* server */
	char	   *server_name;
	TelemProvider provider;
	char	   *region;
	char	   *endpoint;
	bool		path_style;
	char	   *ca_file;
	int			page_size;
	int			max_retries;
	int			connect_timeout;	/* seconds */

	char	   *account;		/* azure: for az:// locations */

	/* table */
	char	   *location;		/* as written */
	TelemProvider location_provider;	/* what the location's form implies */
	char	   *bucket;			/* s3: bucket; azure: container */
	char	   *location_account;	/* azure: the account the location names,
									 * NULL for az:// */
	char	   *location_endpoint;	/* azure: Blob endpoint the location
									 * implies, NULL for az:// */
	char	   *prefix;			/* key prefix, or absolute path (file) */
	char	   *url_base;		/* object URL = url_base || key */
	char	   *glob;			/* key pattern when location has globs, else
								 * NULL; prefix is then its literal start */
	TelemFormat format;
	TelemCompression compression;
	int			max_line_size;	/* bytes */
	List	   *copy_options;	/* DefElems for BeginCopyFrom (csv, text) */
} TelemOptions;

/* in option.c */
extern TelemOptions *TelemGetOptions(Oid foreigntableid);
extern TelemOptions *TelemGetLocationOptions(Oid serverid, const char *location);
extern void TelemGetColumnOptions(Oid foreigntableid, AttrNumber attnum,
								  TelemColumnKind *kind, char **json_path,
								  char **path, char **partition,
								  TelemEpochUnit *epoch);
extern Datum telem_fdw_validator(PG_FUNCTION_ARGS);
extern int	TelemParseIntOption(DefElem *def, int min, int max);

/* in store_glue.c */
extern TelemStore *TelemOpenStore(const TelemOptions *opts, Oid userid);
extern void TelemReportStoreError(const TelemError *err, const char *what,
								  const char *url) pg_attribute_noreturn();
extern char *TelemObjectUrl(const TelemOptions *opts, const char *key);
extern bool TelemInterruptHook(void);
extern char *telem_azure_authority_host;
extern char *telem_azure_imds_endpoint;

/* One column as the scan sees it. */
typedef struct TelemColumn
{
	AttrNumber	attnum;			/* 1-based */
	char	   *name;
	TelemColumnKind kind;
	bool		needed;			/* referenced by the query */
	Oid			typid;
	int32		typmod;
	Oid			typioparam;
	FmgrInfo	infunc;
	char	   *json_path;		/* jsonl: path; defaults to the column name */
	char	   *path;			/* parquet: dotted path; defaults to the name */
	char	   *partition;		/* partition name for COLUMN_PARTITION */
	TelemEpochUnit epoch;
	bool		pruned_by;		/* a pruning qual reads this column */
	bool		pruned_by_data; /* a data bound reads it (statistics) */
	bool		is_json;		/* json or jsonb: strings stay quoted */
	int			field;			/* jsonl: index into the extractor's output */
} TelemColumn;

struct TelemScan;
struct TelemListing;

/* in plan/prune.c: one bound as the planner found it */
typedef struct TelemPruneBound
{
	AttrNumber	attnum;
	Oid			opno;			/* commuted: the column is on the left */
	Oid			collid;
	bool		is_array;		/* column op ANY/ALL (array) */
	bool		use_or;			/* ANY */
	Expr	   *rhs;				/* NULL for a null test */
	Expr	   *clause;			/* the qual it came from */
	int			nulltest;		/* data bounds: BOUND_IS_NULL, ... or 0 */
} TelemPruneBound;

/* TelemPruneBound.nulltest */
#define BOUND_IS_NULL		1
#define BOUND_IS_NOT_NULL	2

/* in plan/prune.c: what the planner found in a table's quals */
typedef struct TelemPrunePlan
{
	List	   *object_quals;	/* Expr: quals on partition/metadata only */
	List	   *bounds;			/* TelemPruneBound * */
	List	   *data_bounds;	/* TelemPruneBound * on one record field:
								 * for statistics (Parquet row groups) */
} TelemPrunePlan;

/* What a bound on the key column can do for the listing. */
typedef enum TelemKeyOp
{
	KEYOP_NONE,
	KEYOP_EQ,					/* _key = c, _key = ANY(array): lookups */
	KEYOP_GT,					/* _key > c: start after c */
	KEYOP_GE					/* _key >= c */
} TelemKeyOp;

/* in plan/prune.c: one bound in the executor */
typedef struct TelemBoundState
{
	AttrNumber	attnum;
	FmgrInfo	fn;
	Oid			collid;
	bool		is_array;
	bool		use_or;
	TelemKeyOp	keyop;
	ExprState  *rhs;
	Oid			rhs_type;
	/* data bounds: how min/max decide (plan/stats_prune.c) */
	int			nulltest;
	int			strategy;		/* btree strategy, 0: min/max cannot tell */
	FmgrInfo	le_fn;			/* for equality: column <= value */
	FmgrInfo	ge_fn;			/* column >= value */
	/* from TelemPruneEvaluate */
	bool		isnull;
	int			nvalues;
	Datum	   *values;
	bool	   *nulls;
} TelemBoundState;

typedef struct TelemPruneState
{
	ExprState  *object_qual;	/* NULL when there are none */
	int			nquals;
	int			nbounds;
	int			npartition_bounds;
	TelemBoundState *bounds;
	int			ndata_bounds;
	TelemBoundState *data_bounds;
} TelemPruneState;

/*
 * What a candidate (a Parquet row group, later a table format's data
 * file) knows about one column, for plan/stats_prune.c.
 */
typedef struct TelemColumnFacts
{
	bool		known;			/* false: nothing, keep the candidate */
	int64		num_values;
	bool		has_null_count;
	int64		null_count;
	bool		has_min;
	bool		has_max;
	Datum		min;			/* of the column's type */
	Datum		max;
} TelemColumnFacts;

/* A record decoder: one per format. */
typedef struct TelemDecoderOps
{
	/* once per scan, after the columns are known */
	void		(*begin_scan) (struct TelemScan *scan);
	/* once per object, after its byte stream is open */
	void		(*begin_object) (struct TelemScan *scan);
	/* fill scan->values/nulls for data columns; false at end of object */
	bool		(*next_record) (struct TelemScan *scan);
	void		(*end_object) (struct TelemScan *scan);
	void		(*end_scan) (struct TelemScan *scan);

	/*
	 * The decoder fetches the byte ranges it needs itself (Parquet: the
	 * footer, then column chunks), so the scan opens no stream and no
	 * codec for it, and objects are not downloaded ahead.
	 */
	bool		reads_ranges;
} TelemDecoderOps;

/* Most objects a scan keeps downloading (telem_fdw.objects_in_flight). */
#define TELEM_MAX_AHEAD		64

/* An object whose reader is open, waiting its turn to be decoded. */
typedef struct TelemAhead
{
	TelemObject *obj;			/* in cxt */
	TelemReader *reader;
	int64		range_start;
	int64		range_end;
	MemoryContext cxt;
} TelemAhead;

/* Executor state of one foreign scan. */
typedef struct TelemScan
{
	TelemOptions *opts;
	Oid			userid;
	Relation	rel;
	TupleDesc	tupdesc;
	int			ncolumns;
	TelemColumn *columns;		/* indexed by attnum - 1 */

	MemoryContext scancxt;		/* lives for the scan */
	MemoryContext objectcxt;	/* reset for every object */
	MemoryContext rowcxt;		/* reset for every row */

	/* listing, or the loader's restriction to a set of object versions */
	TelemStore *store;
	const TelemObject *restricted;	/* NULL: list the location */
	int			nrestricted;
	struct TelemListing *listing;
	MemoryContext querycxt;		/* the statement's: its listing cache */
	int64		objects_listed;
	int64		pages_listed;

	/* pruning (plan/prune.c); NULL when the quals give none */
	TelemPruneState *prune;
	bool		listing_started;
	MemoryContext prunecxt;		/* bound values; reset per (re)scan */
	ExprContext *bound_econtext;	/* the node's: bounds' Params */
	ExprContext *qual_econtext; /* object quals run on qual_slot */
	TupleTableSlot *qual_slot;
	bool		object_unmatchable; /* a pruned-by partition did not parse */
	int64		objects_pruned;
	int64		prefixes_pruned;
	int64		keys_looked_up;

	/* the current object */
	TelemObject *object;		/* a copy in objectcxt; NULL between objects */
	int64		range_start;	/* parallel split: first byte it owns, else 0 */
	int64		range_end;		/* lines starting before it; -1 = to the end */
	int64		record_offset;	/* of the current line in a split, else -1 */
	struct TelemSharedScan *shared; /* parallel scan state in DSM, or NULL */
	void	   *parallel_plan;	/* leader: the walk, Estimate to Initialize */
	char	   *object_url;
	TelemReader *reader;
	TelemCodec *codec;
	bool		object_eof;
	int64		line_number;	/* of the current record; 0 before the first */
	int64		object_rows;	/* records of the current object so far */
	int64		object_start_bytes; /* bytes_read when it was opened */
	const char *cur_column;		/* for the error context */
	int			row_group;		/* Parquet: for the error context, or -1 */

	/* readers opened ahead: a ring of nahead from ahead_first */
	TelemAhead	ahead[TELEM_MAX_AHEAD];
	int			ahead_first;
	int			nahead;
	bool		work_done;		/* nothing more to queue */

	/* the object being admitted, and its values for the object quals */
	MemoryContext admcxt;
	char	   *admitting_url;	/* for the error context, while admitting */
	Datum	   *adm_values;
	bool	   *adm_nulls;

	/* per-object values of metadata and partition columns */
	Datum	   *object_values;
	bool	   *object_nulls;

	/* the row being built */
	Datum	   *values;
	bool	   *nulls;

	/* decoder */
	const TelemDecoderOps *decoder;
	void	   *decoder_state;

	/* totals, for EXPLAIN ANALYZE */
	int64		objects_read;
	int64		bytes_read;		/* compressed bytes from the store */
	int64		rows_read;
	int64		resumes;		/* Range requests after dropped transfers */
	int64		row_groups_read;	/* Parquet */
	int64		row_groups_skipped; /* Parquet: ruled out by statistics */
	TelemStoreStats worker_stats;	/* parallel workers' store counters */
} TelemScan;

/* in scan.c */
extern TelemScan *TelemBeginScan(Relation rel, Oid userid, Bitmapset *needed,
								 MemoryContext parent);
extern TelemObject *TelemNextAdmitted(TelemScan *scan);
extern void TelemScanSetPruning(TelemScan *scan, PlanState *ps,
								List *fdw_exprs, List *prune_private);
extern bool TelemPartitionValue(const char *key, const char *name,
								char **value, bool *isnull);
extern bool TelemNextRow(TelemScan *scan, TupleTableSlot *slot);
extern void TelemRescan(TelemScan *scan);
extern void TelemEndScan(TelemScan *scan);
extern int	TelemReadObject(TelemScan *scan, void *buf, int minread, int maxread);

/* in plan/prune.c */
extern TelemPrunePlan *TelemClassifyQuals(RelOptInfo *baserel, Oid relid,
										   bool data_bounds);
extern List *TelemPrunePlanToPrivate(TelemPrunePlan *pp, Oid relid,
									 Index scanrelid, List **fdw_exprs);
extern const char *TelemPruneQualText(List *prune_private);
extern TelemPruneState *TelemPruneBegin(TelemScan *scan, PlanState *ps,
										List *fdw_exprs, List *prune_private);
extern void TelemPruneEvaluate(TelemPruneState *st, ExprContext *econtext,
							   MemoryContext cxt);
extern bool TelemPruneDir(TelemPruneState *st, TelemScan *scan,
						  const char *prefix, bool *all_bound);
extern bool TelemInputSafe(TelemColumn *col, char *text, Datum *out);

/* in plan/stats_prune.c */
extern void TelemStatsPruneBegin(TelemBoundState *b, Oid opno);
extern bool TelemFactsMayMatch(TelemPruneState *st,
							   const TelemColumnFacts *facts);

/* in plan/parallel.c */
extern int	telem_split_size_mb;
extern bool TelemParallelSafe(Oid relid);
extern Size TelemParallelEstimate(TelemScan *scan);
extern void TelemParallelInitialize(TelemScan *scan, void *coordinate);
extern void TelemParallelReinitialize(TelemScan *scan, void *coordinate);
extern void TelemParallelAttach(TelemScan *scan, void *coordinate);
extern bool TelemParallelClaim(TelemScan *scan, TelemObject *obj,
							   int64 *range_start, int64 *range_end);
extern void TelemParallelShutdown(TelemScan *scan);

/* in plan/estimate.c */
extern bool telem_plan_sample;
extern int	telem_plan_sample_ttl;
extern void TelemEstimateRelSize(PlannerInfo *root, RelOptInfo *baserel,
								 Oid relid, TelemPrunePlan *pp,
								 bool restricted);

/* in listing.c */
extern struct TelemListing *TelemListingBegin(TelemScan *scan);
extern void TelemListingRestart(TelemScan *scan);
extern TelemObject *TelemListingNext(TelemScan *scan);
extern List *TelemListingPrefixes(TelemScan *scan);

/* in loader/object_set.c */
extern const TelemObject *TelemRestrictedObjects(Oid relid, int *nobjects);
extern void TelemRecordObjectRead(Oid relid, const char *key, int64 rows,
								  int64 bytes);
extern void TelemMaterializeListing(FunctionCallInfo fcinfo,
									TelemOptions *opts,
									const char *start_after);

/* in loader/pause_point.c */
extern char *telem_pause_at;
extern int	telem_pause_seconds;
extern void TelemPausePoint(const char *name);

/* in format/jsonl.c */
extern const TelemDecoderOps TelemJsonlDecoder;

/* in format/copy_format.c */
extern const TelemDecoderOps TelemCopyDecoder;

/* in format/parquet/parquet_scan.c */
extern const TelemDecoderOps TelemParquetDecoder;

/* in plan/import.c */
struct ImportForeignSchemaStmt;
extern List *telemImportForeignSchema(struct ImportForeignSchemaStmt *stmt,
									  Oid serverOid);
/* in format/number_datum.c */
typedef enum TelemNumberKind
{
	NUMBER_NONE,				/* not a type number_datum.c converts */
	NUMBER_INT2,
	NUMBER_INT4,
	NUMBER_INT8,
	NUMBER_FLOAT4,
	NUMBER_FLOAT8
} TelemNumberKind;

extern TelemNumberKind TelemNumberKindOf(Oid typid);
extern bool TelemNumberDatum(TelemNumberKind kind, const char *s, size_t len,
							 Datum *out);

/* in telem_fdw.c */
extern int	telem_default_max_line_size;
extern bool telem_enable_pruning;
extern int	telem_objects_in_flight;

#endif							/* TELEM_FDW_H */
