/*-------------------------------------------------------------------------
 *
 * parquet_scan.c
 *		The Parquet record decoder: footer, row groups, column projection
 *		with Range requests, row-group pruning.
 *
 * Per object: one suffix Range request for the footer (parquet_footer.c);
 * then, per row group that the statistics do not rule out, one Range
 * request per run of the referenced columns' chunks (chunks closer than
 * PQ_MERGE_GAP are fetched together; a file that fits in the footer's
 * request needs no other).  While a row group is decoded the next one's
 * requests are already open, so its bytes arrive meanwhile.  Memory is
 * one row group's referenced chunks, decoded, plus the next one's
 * buffers: never the whole file.
 *
 * Columns match the file's fields by name (or the column option "path"),
 * exactly or else case-insensitively; a column the file lacks reads as
 * NULL, so files whose schemas drift apart read together.
 *
 * IDENTIFICATION
 *		src/format/parquet/parquet_scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "format/parquet/parquet_pg.h"

/*
 * Chunks closer than this are fetched with one request: a request costs
 * about as much as this many bytes of transfer on a fast network, and
 * gaps between a table's columns are usually whole chunks anyway.
 */
#define PQ_MERGE_GAP		(64 * 1024)

/*
 * Conversions that are a plain copy of the decoded value, done inline: the
 * common case of a column whose type matches the file's.
 */
typedef enum PqFastPath
{
	FAST_NONE,					/* TelemPqConvert */
	FAST_INT32,
	FAST_INT64,
	FAST_FLOAT,
	FAST_DOUBLE,
	FAST_BOOL,
	FAST_TEXT					/* a string into text */
} PqFastPath;

/* One needed data column, as the current file provides it. */
typedef struct PqScanColumn
{
	TelemColumn *col;
	const PqSchemaNode *node;	/* NULL: the file lacks it: NULLs */
	bool		as_json;		/* a group or repeated field */
	PqConv		conv;
	PqFastPath	fast;
	int			attidx;			/* attnum - 1: its place in the slot */

	/* the current row group */
	const PqColumnData *data;
	int64		vpos;			/* next value in data */
	size_t		value_size;
	PqJsonRows *json;
} PqScanColumn;

/* The byte runs of one row group, being fetched, then decoded. */
typedef struct PqLoad
{
	MemoryContext cxt;			/* buffers, decoded data; deleted when done */
	TelemStore *store;
	int			rg;
	int			nranges;
	int64	   *start;
	int64	   *end;
	uint8	  **buf;
	TelemReader **reader;		/* open and not yet read, else NULL */
	PqColumnData **leaf_data;	/* per leaf of the file; NULL: not needed */
	int			nleaves;
	PqJsonRows **json;			/* per PqScanColumn */
	int			ncols;
} PqLoad;

typedef struct PqScanState
{
	int			ncols;
	PqScanColumn *cols;
	int			nunused;
	int		   *unused;			/* data columns the query does not read */
	TelemColumnFacts *facts;	/* per table column, for pruning */
	MemoryContext factcxt;		/* statistics as Datums, per row group */
	PqBuf		scratch;		/* value text for input functions */

	/* the current object */
	PqFile	   *file;
	uint8	   *tail;
	int64		tail_start;
	bool	   *leaf_needed;
	int			next_rg;		/* next row group to consider */
	PqLoad	   *cur;
	PqLoad	   *ahead;			/* the next row group, requests open */
	int64		row;
	int64		nrows;
	int64		first_row;		/* in the file, of the current row group */
} PqScanState;

/* Reset callback of a load: close readers, free what the reader made. */
static void
release_load(void *arg)
{
	PqLoad	   *load = (PqLoad *) arg;
	int			i;

	for (i = 0; i < load->nranges; i++)
		if (load->reader[i] != NULL)
		{
			load->store->ops->close(load->reader[i]);
			load->reader[i] = NULL;
		}
	for (i = 0; i < load->nleaves; i++)
		if (load->leaf_data[i] != NULL)
		{
			PqColumnDataFree(load->leaf_data[i]);
			load->leaf_data[i] = NULL;
		}
	for (i = 0; i < load->ncols; i++)
		if (load->json[i] != NULL)
		{
			PqJsonRowsFree(load->json[i]);
			load->json[i] = NULL;
		}
}

/* Reset callback of the scan: the scratch buffer is malloc'd. */
static void
release_scratch(void *arg)
{
	PqBufFree((PqBuf *) arg);
}

static void
pq_begin_scan(TelemScan *scan)
{
	PqScanState *st = palloc0(sizeof(PqScanState));
	MemoryContextCallback *cb;
	int			i;

	st->cols = palloc0(sizeof(PqScanColumn) * Max(scan->ncolumns, 1));
	st->unused = palloc0(sizeof(int) * Max(scan->ncolumns, 1));
	for (i = 0; i < scan->ncolumns; i++)
	{
		TelemColumn *col = &scan->columns[i];

		if (col->needed && col->kind == COLUMN_DATA)
		{
			st->cols[st->ncols].col = col;
			st->cols[st->ncols++].attidx = i;
		}
		else if (col->kind == COLUMN_DATA)
			st->unused[st->nunused++] = i;
	}
	st->facts = palloc0(sizeof(TelemColumnFacts) * Max(scan->ncolumns, 1));
	st->factcxt = AllocSetContextCreate(scan->scancxt, "telem_fdw parquet statistics",
										ALLOCSET_SMALL_SIZES);
	cb = palloc0(sizeof(*cb));
	cb->func = release_scratch;
	cb->arg = &st->scratch;
	MemoryContextRegisterResetCallback(scan->scancxt, cb);
	scan->decoder_state = st;
}

/* The inline conversion that conv amounts to, if any. */
static PqFastPath
fast_path(const PqConv *conv)
{
	PqType		t = conv->leaf->type;

	if (conv->is_unsigned || conv->scale != 0)
		return FAST_NONE;
	switch (conv->kind)
	{
		case PQC_INT4:
			return t == PQ_INT32 ? FAST_INT32 : FAST_NONE;
		case PQC_INT8:
			return t == PQ_INT64 ? FAST_INT64 : FAST_NONE;
		case PQC_FLOAT4:
			return t == PQ_FLOAT ? FAST_FLOAT : FAST_NONE;
		case PQC_FLOAT8:
			return t == PQ_DOUBLE ? FAST_DOUBLE : FAST_NONE;
		case PQC_BOOL:
			return FAST_BOOL;
		case PQC_TEXT:
			return FAST_TEXT;
		default:
			return FAST_NONE;
	}
}

/* Match the needed columns to the current file's fields. */
static void
map_columns(TelemScan *scan, PqScanState *st)
{
	int			i;

	st->leaf_needed = palloc0(sizeof(bool) * Max(st->file->nleaves, 1));
	for (i = 0; i < st->ncols; i++)
	{
		PqScanColumn *c = &st->cols[i];
		const PqSchemaNode *node = PqFindPath(st->file, c->col->path);
		int			k;

		c->node = node;
		c->as_json = false;
		if (node == NULL)
			continue;
		scan->cur_column = c->col->name;
		TelemPqChooseConv(c->col, node, scan->object_url, &c->conv);
		c->as_json = c->conv.kind == PQC_JSON;
		if (!c->as_json)
		{
			c->value_size = PqValueSize(node->type);
			c->fast = fast_path(&c->conv);
		}
		scan->cur_column = NULL;
		for (k = node->first_leaf; k < node->first_leaf + node->nleaves; k++)
			st->leaf_needed[k] = true;
	}
}

/*
 * Collect what row group rg says about the columns the data bounds read,
 * into st->facts.
 */
static void
row_group_facts(TelemScan *scan, PqScanState *st, int rg)
{
	const PqRowGroup *g = &st->file->row_groups[rg];
	int			i;

	MemoryContextReset(st->factcxt);
	for (i = 0; i < scan->ncolumns; i++)
		st->facts[i].known = false;
	for (i = 0; i < st->ncols; i++)
	{
		PqScanColumn *c = &st->cols[i];
		TelemColumnFacts *f = &st->facts[c->col->attnum - 1];
		const PqColumnChunk *chunk;
		const PqStatistics *s;
		bool		usable;
		MemoryContext old;

		if (!c->col->pruned_by_data)
			continue;
		memset(f, 0, sizeof(*f));
		if (c->node == NULL)
		{
			/* the file lacks the column: every value is NULL */
			f->known = true;
			f->num_values = g->num_rows;
			f->has_null_count = true;
			f->null_count = g->num_rows;
			continue;
		}
		if (c->as_json || c->conv.kind == PQC_NULL)
			continue;
		chunk = &g->columns[c->node->leaf_index];
		if (!chunk->has_stats)
			continue;
		s = &chunk->stats;
		f->known = true;
		f->num_values = chunk->num_values;
		f->has_null_count = s->has_null_count;
		f->null_count = s->null_count;

		/* the deprecated min/max are in signed order: numbers only */
		usable = !s->legacy ||
			((c->node->type == PQ_INT32 || c->node->type == PQ_INT64) &&
			 !c->conv.is_unsigned) ||
			((c->node->type == PQ_FLOAT || c->node->type == PQ_DOUBLE) &&
			 c->node->logical != PQL_FLOAT16);
		if (!usable)
			continue;
		old = MemoryContextSwitchTo(st->factcxt);
		f->has_min = s->has_min &&
			TelemPqStatDatum(&c->conv, c->col, &s->min, &f->min);
		f->has_max = s->has_max &&
			TelemPqStatDatum(&c->conv, c->col, &s->max, &f->max);
		MemoryContextSwitchTo(old);
	}
}

/* The next row group at or after from that may hold wanted rows, or -1. */
static int
next_row_group(TelemScan *scan, PqScanState *st, int from)
{
	int			rg;
	bool		prune = telem_enable_pruning && scan->prune != NULL &&
		scan->prune->ndata_bounds > 0;

	for (rg = from; rg < st->file->nrow_groups; rg++)
	{
		if (st->file->row_groups[rg].num_rows <= 0)
			continue;
		if (prune)
		{
			row_group_facts(scan, st, rg);
			if (!TelemFactsMayMatch(scan->prune, st->facts))
			{
				scan->row_groups_skipped++;
				continue;
			}
		}
		return rg;
	}
	return -1;
}

/* qsort: ranges by start */
static int
cmp_range(const void *a, const void *b)
{
	int64		x = ((const int64 *) a)[0];
	int64		y = ((const int64 *) b)[0];

	return x < y ? -1 : x > y;
}

/*
 * Start fetching row group rg: work out the byte runs of its needed
 * chunks and open a Range request for each that the footer's request did
 * not already bring.  The bytes are read by finish_load.
 */
static PqLoad *
start_load(TelemScan *scan, PqScanState *st, int rg)
{
	const PqRowGroup *g = &st->file->row_groups[rg];
	PqLoad	   *load;
	MemoryContext cxt;
	MemoryContext old;
	MemoryContextCallback *cb;
	int64	   *pairs;
	int			npairs = 0;
	int			i;

	cxt = AllocSetContextCreate(scan->objectcxt, "telem_fdw parquet row group",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	load = palloc0(sizeof(PqLoad));
	load->cxt = cxt;
	load->store = scan->store;
	load->rg = rg;
	load->nleaves = st->file->nleaves;
	load->leaf_data = palloc0(sizeof(PqColumnData *) * Max(load->nleaves, 1));
	load->ncols = st->ncols;
	load->json = palloc0(sizeof(PqJsonRows *) * Max(st->ncols, 1));

	/* the needed chunks' ranges, sorted, then merged across small gaps */
	pairs = palloc(sizeof(int64) * 2 * Max(load->nleaves, 1));
	for (i = 0; i < load->nleaves; i++)
	{
		const PqColumnChunk *chunk = &g->columns[i];

		if (!st->leaf_needed[i])
			continue;
		pairs[2 * npairs] = chunk->start;
		pairs[2 * npairs + 1] = chunk->start + chunk->length;
		npairs++;
	}
	qsort(pairs, npairs, 2 * sizeof(int64), cmp_range);
	load->start = palloc(sizeof(int64) * Max(npairs, 1));
	load->end = palloc(sizeof(int64) * Max(npairs, 1));
	load->buf = palloc0(sizeof(uint8 *) * Max(npairs, 1));
	load->reader = palloc0(sizeof(TelemReader *) * Max(npairs, 1));
	for (i = 0; i < npairs; i++)
	{
		int64		s = pairs[2 * i];
		int64		e = pairs[2 * i + 1];

		if (load->nranges > 0 && s <= load->end[load->nranges - 1] + PQ_MERGE_GAP)
			load->end[load->nranges - 1] = Max(load->end[load->nranges - 1], e);
		else
		{
			load->start[load->nranges] = s;
			load->end[load->nranges] = e;
			load->nranges++;
		}
	}

	cb = palloc0(sizeof(*cb));
	cb->func = release_load;
	cb->arg = load;
	MemoryContextRegisterResetCallback(cxt, cb);

	/* what the footer's request brought needs no other */
	for (i = 0; i < load->nranges; i++)
	{
		TelemError	err;

		if (load->start[i] >= st->tail_start)
		{
			load->buf[i] = st->tail + (load->start[i] - st->tail_start);
			continue;
		}
		memset(&err, 0, sizeof(err));
		load->reader[i] = scan->store->ops->open_range(scan->store, scan->object,
													   load->start[i],
													   load->end[i], &err);
		if (load->reader[i] == NULL)
			TelemReportStoreError(&err, "open", scan->object_url);
	}
	MemoryContextSwitchTo(old);
	return load;
}

/* Read the bytes of every run of load that is still being fetched. */
static void
finish_fetch(TelemScan *scan, PqLoad *load)
{
	int			i;

	for (i = 0; i < load->nranges; i++)
	{
		if (load->reader[i] == NULL)
			continue;
		load->buf[i] = MemoryContextAllocHuge(load->cxt,
											  load->end[i] - load->start[i]);
		TelemPqReadAll(scan->store, load->reader[i], scan->object_url,
					   load->start[i], load->end[i], load->buf[i],
					   &scan->bytes_read);
		scan->store->ops->close(load->reader[i]);
		load->reader[i] = NULL;
	}
}

/* The bytes of the chunk of leaf in load's row group. */
static const uint8 *
chunk_bytes(PqLoad *load, const PqColumnChunk *chunk)
{
	int			i;

	for (i = 0; i < load->nranges; i++)
		if (chunk->start >= load->start[i] &&
			chunk->start + chunk->length <= load->end[i])
			return load->buf[i] + (chunk->start - load->start[i]);
	elog(ERROR, "parquet chunk at " INT64_FORMAT " was not fetched", chunk->start);
	return NULL;
}

/* Decode the needed chunks of load's row group; set up the columns. */
static void
decode_load(TelemScan *scan, PqScanState *st, PqLoad *load)
{
	const PqRowGroup *g = &st->file->row_groups[load->rg];
	int			i;

	for (i = 0; i < load->nleaves; i++)
	{
		const PqColumnChunk *chunk = &g->columns[i];
		TelemError	err;

		if (!st->leaf_needed[i])
			continue;
		CHECK_FOR_INTERRUPTS();
		scan->cur_column = st->file->leaves[i]->path;
		memset(&err, 0, sizeof(err));
		load->leaf_data[i] = PqDecodeChunk(st->file, load->rg, i,
										   chunk_bytes(load, chunk),
										   (size_t) chunk->length, true, &err);
		if (load->leaf_data[i] == NULL)
			TelemPqReportError(&err, scan->object_url);
		if (st->file->leaves[i]->max_rep == 0 &&
			load->leaf_data[i]->nlevels != g->num_rows)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("could not read Parquet object \"%s\": column \"%s\" has "
							INT64_FORMAT " values in a row group of " INT64_FORMAT " rows",
							scan->object_url, st->file->leaves[i]->path,
							load->leaf_data[i]->nlevels, g->num_rows)));
	}
	scan->cur_column = NULL;

	for (i = 0; i < st->ncols; i++)
	{
		PqScanColumn *c = &st->cols[i];

		c->data = NULL;
		c->json = NULL;
		c->vpos = 0;
		if (c->node == NULL)
			continue;
		if (c->as_json)
		{
			TelemError	err;
			PqJsonRows *rows = MemoryContextAllocZero(load->cxt, sizeof(PqJsonRows));

			memset(&err, 0, sizeof(err));
			scan->cur_column = c->col->name;
			if (!PqAssembleJson(c->node, &load->leaf_data[c->node->first_leaf],
								g->num_rows, rows, &err))
			{
				PqJsonRowsFree(rows);
				TelemPqReportError(&err, scan->object_url);
			}
			scan->cur_column = NULL;
			load->json[i] = rows;
			c->json = rows;
		}
		else
			c->data = load->leaf_data[c->node->leaf_index];
	}
	st->row = 0;
	st->nrows = g->num_rows;
	st->first_row = 0;
	for (i = 0; i < load->rg; i++)
		st->first_row += st->file->row_groups[i].num_rows;
}

/* Move on to the next row group worth reading; false at the end. */
static bool
advance_row_group(TelemScan *scan, PqScanState *st)
{
	PqLoad	   *load;
	int			rg;

	if (st->cur != NULL)
	{
		MemoryContextDelete(st->cur->cxt);
		st->cur = NULL;
	}
	if (st->ahead != NULL)
	{
		load = st->ahead;
		st->ahead = NULL;
	}
	else
	{
		rg = next_row_group(scan, st, st->next_rg);
		if (rg < 0)
			return false;
		load = start_load(scan, st, rg);
	}
	st->cur = load;
	st->next_rg = load->rg + 1;
	scan->row_group = load->rg;
	scan->row_groups_read++;
	finish_fetch(scan, load);

	/* the next row group's bytes come in while this one is decoded */
	rg = next_row_group(scan, st, st->next_rg);
	if (rg >= 0)
		st->ahead = start_load(scan, st, rg);
	else
		st->next_rg = st->file->nrow_groups;

	decode_load(scan, st, load);
	return true;
}

static void
pq_begin_object(TelemScan *scan)
{
	PqScanState *st = (PqScanState *) scan->decoder_state;

	st->cur = NULL;
	st->ahead = NULL;
	st->next_rg = 0;
	st->row = 0;
	st->nrows = 0;
	/* in the object context: freed with the object, whatever happens */
	st->file = TelemPqReadFooter(scan->store, scan->object, scan->object_url,
								 &scan->bytes_read, &st->tail, &st->tail_start);
	map_columns(scan, st);
}

/*
 * The value of column c in row row of the current row group into *out;
 * false for NULL.  Nothing is stored through the slot here: its bool
 * array may alias anything, and the caller stores once per column.
 */
static inline bool
column_value(TelemScan *scan, PqScanState *st, PqScanColumn *c, int64 row,
			 Datum *out)
{
	const PqColumnData *data = c->data;
	const char *v;
	Datum		d;

	if (c->node == NULL)
		return false;
	if (c->json != NULL)
	{
		if (c->json->isnull[row])
			return false;
		scan->cur_column = c->col->name;
		*out = TelemPqJsonDatum(c->col, c->json->text.data + c->json->offsets[row],
								c->json->offsets[row + 1] - c->json->offsets[row]);
		scan->cur_column = NULL;
		return true;
	}
	if (data->def != NULL && data->def[row] < c->node->max_def)
		return false;
	if (c->conv.kind == PQC_NULL || c->vpos >= data->nvalues)
		return false;
	v = (const char *) data->values + c->vpos * c->value_size;
	c->vpos++;
	switch (c->fast)
	{
		case FAST_INT32:
			{
				int32		x;

				memcpy(&x, v, sizeof(x));
				d = Int32GetDatum(x);
				break;
			}
		case FAST_INT64:
			{
				int64		x;

				memcpy(&x, v, sizeof(x));
				d = Int64GetDatum(x);
				break;
			}
		case FAST_FLOAT:
			{
				float		x;

				memcpy(&x, v, sizeof(x));
				d = Float4GetDatum(x);
				break;
			}
		case FAST_DOUBLE:
			{
				double		x;

				memcpy(&x, v, sizeof(x));
				d = Float8GetDatum(x);
				break;
			}
		case FAST_BOOL:
			d = BoolGetDatum(*(const uint8 *) v != 0);
			break;
		case FAST_TEXT:
			scan->cur_column = c->col->name;
			d = TelemPqTextDatum((const PqBytes *) v);
			scan->cur_column = NULL;
			break;
		default:
			scan->cur_column = c->col->name;
			d = TelemPqConvert(&c->conv, c->col, v, &st->scratch);
			scan->cur_column = NULL;
			break;
	}
	*out = d;
	return true;
}

static bool
pq_next_record(TelemScan *scan)
{
	PqScanState *st = (PqScanState *) scan->decoder_state;
	int			i;

	while (st->cur == NULL || st->row >= st->nrows)
	{
		if (!advance_row_group(scan, st))
		{
			scan->object_eof = true;
			scan->row_group = -1;
			return false;
		}
	}
	{
		Datum	   *values = scan->values;
		bool	   *nulls = scan->nulls;
		int64		row = st->row;

		for (i = 0; i < st->ncols; i++)
		{
			PqScanColumn *c = &st->cols[i];
			Datum		d = (Datum) 0;
			bool		present = column_value(scan, st, c, row, &d);

			values[c->attidx] = d;
			nulls[c->attidx] = !present;
		}
		for (i = 0; i < st->nunused; i++)
			nulls[st->unused[i]] = true;
	}
	st->row++;
	/* metadata 'line_number': the row's number in the file, from 1 */
	scan->line_number = st->first_row + st->row;
	return true;
}

static void
pq_end_object(TelemScan *scan)
{
	PqScanState *st = (PqScanState *) scan->decoder_state;

	/* free the row groups now; the object context's reset frees the rest */
	if (st->cur != NULL)
		MemoryContextDelete(st->cur->cxt);
	if (st->ahead != NULL)
		MemoryContextDelete(st->ahead->cxt);
	st->cur = NULL;
	st->ahead = NULL;
	st->file = NULL;
	st->tail = NULL;
}

static void
pq_end_scan(TelemScan *scan)
{
	(void) scan;
}

const TelemDecoderOps TelemParquetDecoder = {
	pq_begin_scan,
	pq_begin_object,
	pq_next_record,
	pq_end_object,
	pq_end_scan,
	true
};
