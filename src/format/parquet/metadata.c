/*-------------------------------------------------------------------------
 *
 * metadata.c
 *		Parquet footer (FileMetaData) and page header parsing.
 *
 * The footer is read in one pass into a PqFile whose every part lives in
 * one arena.  The schema arrives as a flat list in depth-first order, each
 * group giving its number of children; it is rebuilt as a tree with
 * dotted paths, leaf indices and the definition and repetition levels of
 * every node.  Row groups are parsed after the schema, whatever their order
 * in the struct, because their columns are checked against the leaves.
 *
 * Field ids follow parquet.thrift (apache/parquet-format).  Unknown fields
 * are skipped, as are known fields of an unexpected type; required fields
 * that are missing are errors.
 *
 * What the reader decides for other readers' quirks:
 *
 * - dictionary_page_offset counts only when it is > 0 and before
 *	 data_page_offset: some writers put 0 there when there is no dictionary
 *	 (dict-page-offset-zero.parquet), and a dictionary page that a writer
 *	 placed at data_page_offset is found by reading the pages in order.
 * - parquet-mr before 1.2.9 left the dictionary page header out of
 *	 total_compressed_size (PARQUET-816); chunks of such files are
 *	 extended by up to 100 bytes, as far as the footer allows.
 * - a logical type we do not know falls back to the ConvertedType, if any.
 * - an annotation that does not fit the node (STRING on INT32, LIST on a
 *	 leaf, DATE on a group) is dropped: the physical value is read.  A bad
 *	 DECIMAL is an error, since dropping its scale would change values.
 * - the footer of a file with a plaintext footer and encrypted columns is
 *	 followed by a signature, so bytes after the struct are ignored.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/metadata.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_internal.h"
#include "thrift.h"

/* Schema nesting deeper than this is refused (levels are int16). */
#define PQ_MAX_SCHEMA_DEPTH		200
/* At most this many schema elements (each costs a PqSchemaNode). */
#define PQ_MAX_SCHEMA_ELEMENTS	(1 << 20)
/* Bytes added to chunks of writers with PARQUET-816. */
#define PQ_816_PADDING			100

/* A LogicalType, as parsed. */
typedef struct LogicalInfo
{
	PqLogical	kind;
	int32_t		scale;
	int32_t		precision;
	bool		has_precision;
	int			bit_width;
	bool		is_signed;
	PqTimeUnit	unit;
	bool		adjusted_to_utc;
} LogicalInfo;

/* One SchemaElement, as parsed, before the tree is built. */
typedef struct SchemaElem
{
	const uint8_t *name;
	uint32_t	name_len;
	bool		has_name;
	bool		has_type;
	int32_t		type;
	int32_t		type_length;
	bool		has_repetition;
	int32_t		repetition;
	bool		has_num_children;
	int32_t		num_children;
	bool		has_converted;
	int32_t		converted;
	bool		has_scale;
	int32_t		scale;
	bool		has_precision;
	int32_t		precision;
	bool		has_logical;
	LogicalInfo logical;
} SchemaElem;

typedef struct Parser
{
	PqThrift	t;
	PqArena    *arena;
	PqFile	   *file;
	TelemError *err;
	int64_t		file_size;
	int64_t		chunk_limit;	/* chunks must end by here */
	bool		pre_816;		/* writer with PARQUET-816 */

	/* schema, while it is being built */
	SchemaElem *elems;
	uint32_t	nelems;
	uint32_t	next_elem;
	size_t		path_budget;	/* bytes of paths still allowed */
} Parser;

static const char *const type_names[] = {
	"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
	"FIXED_LEN_BYTE_ARRAY"
};

static const char *const codec_names[] = {
	"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD",
	"LZ4_RAW"
};

const char *
PqTypeName(PqType type)
{
	if ((int) type < 0 || (int) type >= (int) (sizeof(type_names) / sizeof(type_names[0])))
		return "UNKNOWN";
	return type_names[type];
}

const char *
PqCodecName(PqCodec codec)
{
	if ((int) codec < 0 || (int) codec >= (int) (sizeof(codec_names) / sizeof(codec_names[0])))
		return "UNKNOWN";
	return codec_names[codec];
}

/*
 * Skip a field we do not read, or whose type is not what parquet.thrift
 * says (an old or foreign writer); either way the value is not used.
 */
static inline bool
skip_field(Parser *p, int type)
{
	return PqThriftSkip(&p->t, type);
}

/* Read an i32 field with the expected type, or skip it. */
static bool
field_i32(Parser *p, int type, int32_t *v, bool *has)
{
	if (type != PQ_TT_I32)
		return skip_field(p, type);
	if (!PqThriftReadI32(&p->t, v))
		return false;
	if (has)
		*has = true;
	return true;
}

static bool
field_i64(Parser *p, int type, int64_t *v, bool *has)
{
	if (type != PQ_TT_I64)
		return skip_field(p, type);
	if (!PqThriftReadI64(&p->t, v))
		return false;
	if (has)
		*has = true;
	return true;
}

static bool
field_bool(Parser *p, int type, bool *v, bool *has)
{
	if (type != PQ_TT_BOOL)
		return skip_field(p, type);
	if (!PqThriftReadBool(&p->t, v))
		return false;
	if (has)
		*has = true;
	return true;
}

static bool
field_binary(Parser *p, int type, const uint8_t **ptr, uint32_t *len,
			 bool *has)
{
	if (type != PQ_TT_BINARY)
		return skip_field(p, type);
	if (!PqThriftReadBinary(&p->t, ptr, len))
		return false;
	if (has)
		*has = true;
	return true;
}

static char *
arena_string(Parser *p, const uint8_t *s, uint32_t len)
{
	char	   *r = PqArenaStrndup(p->arena, (const char *) s, len);

	if (r == NULL)
		PqThriftFail(&p->t, "out of memory");
	return r;
}

/* Skip the members of an empty struct (StringType, MilliSeconds, ...). */
static bool
skip_struct_value(Parser *p, int type)
{
	return skip_field(p, type);
}

/* TimeUnit union: MILLIS 1, MICROS 2, NANOS 3. false in *known if other. */
static bool
parse_time_unit(Parser *p, PqTimeUnit *unit, bool *known)
{
	int			type;
	int16_t		id;

	*known = false;
	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		if (type == PQ_TT_STRUCT && id >= 1 && id <= 3 && !*known)
		{
			*unit = id == 1 ? PQ_MILLIS : id == 2 ? PQ_MICROS : PQ_NANOS;
			*known = true;
		}
		if (!skip_field(p, type))
			return false;
	}
	return PqThriftStructEnd(&p->t);
}

/* TimeType and TimestampType: isAdjustedToUTC 1, unit 2. */
static bool
parse_time_type(Parser *p, LogicalInfo *lt, PqLogical kind)
{
	int			type;
	int16_t		id;
	bool		has_adj = false;
	bool		has_unit = false;

	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		if (id == 1)
			ok = field_bool(p, type, &lt->adjusted_to_utc, &has_adj);
		else if (id == 2 && type == PQ_TT_STRUCT)
			ok = parse_time_unit(p, &lt->unit, &has_unit);
		else
			ok = skip_field(p, type);
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(&p->t))
		return false;
	/* a unit we do not know: read the physical value */
	lt->kind = (has_adj && has_unit) ? kind : PQL_OTHER;
	return true;
}

static bool
parse_decimal_type(Parser *p, LogicalInfo *lt)
{
	int			type;
	int16_t		id;
	bool		has_scale = false;

	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		if (id == 1)
			ok = field_i32(p, type, &lt->scale, &has_scale);
		else if (id == 2)
			ok = field_i32(p, type, &lt->precision, &lt->has_precision);
		else
			ok = skip_field(p, type);
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(&p->t))
		return false;
	if (!has_scale)
		lt->scale = 0;
	lt->kind = PQL_DECIMAL;
	return true;
}

static bool
parse_int_type(Parser *p, LogicalInfo *lt)
{
	int			type;
	int16_t		id;
	bool		has_width = false;
	bool		has_signed = false;

	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		if (id == 1 && type == PQ_TT_I8)
		{
			int8_t		w;

			ok = PqThriftReadI8(&p->t, &w);
			lt->bit_width = w;
			has_width = true;
		}
		else if (id == 2)
			ok = field_bool(p, type, &lt->is_signed, &has_signed);
		else
			ok = skip_field(p, type);
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(&p->t))
		return false;
	if (!has_width || !has_signed ||
		(lt->bit_width != 8 && lt->bit_width != 16 &&
		 lt->bit_width != 32 && lt->bit_width != 64))
		lt->kind = PQL_OTHER;
	else
		lt->kind = PQL_INTEGER;
	return true;
}

/* LogicalType union.  Members we do not know give PQL_OTHER. */
static bool
parse_logical_type(Parser *p, LogicalInfo *lt)
{
	int			type;
	int16_t		id;
	bool		seen = false;

	memset(lt, 0, sizeof(*lt));
	lt->kind = PQL_OTHER;
	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok = true;
		PqLogical	simple = PQL_NONE;

		/* a union has one member; should there be more, the first wins */
		if (seen || type != PQ_TT_STRUCT)
		{
			if (!skip_field(p, type))
				return false;
			continue;
		}
		seen = true;
		switch (id)
		{
			case 1:
				simple = PQL_STRING;
				break;
			case 2:
				simple = PQL_MAP;
				break;
			case 3:
				simple = PQL_LIST;
				break;
			case 4:
				simple = PQL_ENUM;
				break;
			case 6:
				simple = PQL_DATE;
				break;
			case 11:
				simple = PQL_NULL;
				break;
			case 12:
				simple = PQL_JSON;
				break;
			case 13:
				simple = PQL_BSON;
				break;
			case 14:
				simple = PQL_UUID;
				break;
			case 15:
				simple = PQL_FLOAT16;
				break;
			case 5:
				ok = parse_decimal_type(p, lt);
				break;
			case 7:
				ok = parse_time_type(p, lt, PQL_TIME);
				break;
			case 8:
				ok = parse_time_type(p, lt, PQL_TIMESTAMP);
				break;
			case 10:
				ok = parse_int_type(p, lt);
				break;
			default:
				/* VARIANT, GEOMETRY, ... and members yet to come */
				lt->kind = PQL_OTHER;
				ok = skip_field(p, type);
				break;
		}
		if (simple != PQL_NONE)
		{
			lt->kind = simple;
			ok = skip_struct_value(p, type);
		}
		if (!ok)
			return false;
	}
	return PqThriftStructEnd(&p->t);
}

static bool
parse_schema_element(Parser *p, SchemaElem *e)
{
	int			type;
	int16_t		id;

	memset(e, 0, sizeof(*e));
	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		switch (id)
		{
			case 1:
				ok = field_i32(p, type, &e->type, &e->has_type);
				break;
			case 2:
				ok = field_i32(p, type, &e->type_length, NULL);
				break;
			case 3:
				ok = field_i32(p, type, &e->repetition, &e->has_repetition);
				break;
			case 4:
				ok = field_binary(p, type, &e->name, &e->name_len, &e->has_name);
				break;
			case 5:
				ok = field_i32(p, type, &e->num_children, &e->has_num_children);
				break;
			case 6:
				ok = field_i32(p, type, &e->converted, &e->has_converted);
				break;
			case 7:
				ok = field_i32(p, type, &e->scale, &e->has_scale);
				break;
			case 8:
				ok = field_i32(p, type, &e->precision, &e->has_precision);
				break;
			case 10:
				if (type == PQ_TT_STRUCT)
				{
					ok = parse_logical_type(p, &e->logical);
					e->has_logical = true;
				}
				else
					ok = skip_field(p, type);
				break;
			default:
				ok = skip_field(p, type);
				break;
		}
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(&p->t))
		return false;
	if (!e->has_name)
		return PqThriftFail(&p->t, "schema element has no name");
	return true;
}

/* The annotation an old ConvertedType stands for. */
static void
converted_to_logical(const SchemaElem *e, LogicalInfo *lt)
{
	memset(lt, 0, sizeof(*lt));
	switch (e->converted)
	{
		case 0:
			lt->kind = PQL_STRING;
			break;
		case 1:
		case 2:
			lt->kind = PQL_MAP;
			break;
		case 3:
			lt->kind = PQL_LIST;
			break;
		case 4:
			lt->kind = PQL_ENUM;
			break;
		case 5:
			lt->kind = PQL_DECIMAL;
			lt->scale = e->has_scale ? e->scale : 0;
			lt->precision = e->precision;
			lt->has_precision = e->has_precision;
			break;
		case 6:
			lt->kind = PQL_DATE;
			break;
		case 7:
		case 8:
			lt->kind = PQL_TIME;
			lt->unit = e->converted == 7 ? PQ_MILLIS : PQ_MICROS;
			lt->adjusted_to_utc = true;
			break;
		case 9:
		case 10:
			lt->kind = PQL_TIMESTAMP;
			lt->unit = e->converted == 9 ? PQ_MILLIS : PQ_MICROS;
			lt->adjusted_to_utc = true;
			break;
		case 11:
		case 12:
		case 13:
		case 14:
			lt->kind = PQL_INTEGER;
			lt->bit_width = 8 << (e->converted - 11);
			lt->is_signed = false;
			break;
		case 15:
		case 16:
		case 17:
		case 18:
			lt->kind = PQL_INTEGER;
			lt->bit_width = 8 << (e->converted - 15);
			lt->is_signed = true;
			break;
		case 19:
			lt->kind = PQL_JSON;
			break;
		case 20:
			lt->kind = PQL_BSON;
			break;
		case 21:
			lt->kind = PQL_INTERVAL;
			break;
		default:
			lt->kind = PQL_OTHER;
			break;
	}
}

/*
 * Set node's annotation from the element, dropping one that does not fit
 * the node.  false with err set for a DECIMAL we cannot interpret.
 */
static bool
apply_annotation(Parser *p, PqSchemaNode *node, const SchemaElem *e)
{
	LogicalInfo lt;
	bool		fits;

	if (e->has_logical && e->logical.kind != PQL_OTHER)
		lt = e->logical;
	else if (e->has_converted)
		converted_to_logical(e, &lt);
	else if (e->has_logical)
		lt = e->logical;
	else
		return true;

	if (node->is_group)
	{
		fits = (lt.kind == PQL_LIST || lt.kind == PQL_MAP);
	}
	else
	{
		PqType		t = node->type;
		bool		bytes = (t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY);

		switch (lt.kind)
		{
			case PQL_STRING:
			case PQL_ENUM:
			case PQL_JSON:
			case PQL_BSON:
				fits = bytes;
				break;
			case PQL_UUID:
				fits = (t == PQ_FIXED_LEN_BYTE_ARRAY && node->type_length == 16);
				break;
			case PQL_FLOAT16:
				fits = (t == PQ_FIXED_LEN_BYTE_ARRAY && node->type_length == 2);
				break;
			case PQL_INTERVAL:
				fits = (t == PQ_FIXED_LEN_BYTE_ARRAY && node->type_length == 12);
				break;
			case PQL_DATE:
				fits = (t == PQ_INT32);
				break;
			case PQL_TIME:
				fits = (lt.unit == PQ_MILLIS ? t == PQ_INT32 : t == PQ_INT64);
				break;
			case PQL_TIMESTAMP:
				fits = (t == PQ_INT64);
				break;
			case PQL_INTEGER:
				fits = (lt.bit_width == 64 ? t == PQ_INT64 : t == PQ_INT32);
				break;
			case PQL_DECIMAL:
				if (t != PQ_INT32 && t != PQ_INT64 && !bytes)
					return TelemSetError(p->err, TELEM_ERR_DATA,
										 "parquet schema: column \"%s\": DECIMAL on %s",
										 node->path, PqTypeName(t));
				if (!lt.has_precision || lt.precision < 1 ||
					lt.scale < 0 || lt.scale > lt.precision)
					return TelemSetError(p->err, TELEM_ERR_DATA,
										 "parquet schema: column \"%s\": bad DECIMAL precision %d scale %d",
										 node->path, lt.precision, lt.scale);
				fits = true;
				break;
			case PQL_NULL:
			case PQL_OTHER:
				fits = true;
				break;
			default:
				fits = false;
				break;
		}
	}
	if (!fits)
		return true;

	node->logical = lt.kind;
	node->scale = lt.scale;
	node->precision = lt.precision;
	node->bit_width = lt.bit_width;
	node->is_signed = lt.is_signed;
	node->unit = lt.unit;
	node->adjusted_to_utc = lt.adjusted_to_utc;
	return true;
}

/*
 * Build the node for the next schema element and, for a group, its
 * children.  Leaves are numbered in the order they are met.
 */
static PqSchemaNode *
build_node(Parser *p, PqSchemaNode *parent, int depth)
{
	PqSchemaNode *node;
	const SchemaElem *e;
	uint32_t	idx = p->next_elem;
	char	   *path;
	size_t		plen;
	int			i;

	if (depth > PQ_MAX_SCHEMA_DEPTH)
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "parquet schema: nested deeper than %d levels",
					  PQ_MAX_SCHEMA_DEPTH);
		return NULL;
	}
	if (idx >= p->nelems)
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "parquet schema: fewer elements than the groups claim");
		return NULL;
	}
	e = &p->elems[idx];
	p->next_elem++;

	node = PqArenaAlloc(p->arena, sizeof(PqSchemaNode));
	if (node == NULL)
		goto oom;
	memset(node, 0, sizeof(*node));
	node->name = PqArenaStrndup(p->arena, (const char *) e->name, e->name_len);
	if (node->name == NULL)
		goto oom;
	node->parent = parent;
	node->leaf_index = -1;

	/* path: the parent's, a dot, the name (top-level nodes: the name) */
	if (parent == NULL)
		plen = 0;
	else if (parent->parent == NULL)
		plen = e->name_len;
	else
		plen = strlen(parent->path) + 1 + e->name_len;
	if (plen + 1 > p->path_budget)
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "parquet schema: column paths too long");
		return NULL;
	}
	p->path_budget -= plen + 1;
	path = PqArenaAlloc(p->arena, plen + 1);
	if (path == NULL)
		goto oom;
	if (parent == NULL)
		path[0] = '\0';
	else if (parent->parent == NULL)
		memcpy(path, node->name, e->name_len + 1);
	else
		snprintf(path, plen + 1, "%s.%s", parent->path, node->name);
	node->path = path;

	/* repetition and levels */
	if (parent == NULL)
	{
		if (e->has_repetition && e->repetition == PQ_REPEATED)
		{
			TelemSetError(p->err, TELEM_ERR_DATA,
						  "parquet schema: the root is repeated");
			return NULL;
		}
		node->repetition = PQ_REQUIRED;
	}
	else
	{
		if (!e->has_repetition || e->repetition < 0 || e->repetition > 2)
		{
			TelemSetError(p->err, TELEM_ERR_DATA,
						  "parquet schema: column \"%s\" has %s repetition type",
						  node->path, e->has_repetition ? "a bad" : "no");
			return NULL;
		}
		node->repetition = (PqRepetition) e->repetition;
		node->max_def = parent->max_def + (node->repetition != PQ_REQUIRED);
		node->max_rep = parent->max_rep + (node->repetition == PQ_REPEATED);
	}

	/* group or leaf */
	if (e->has_num_children && e->num_children > 0)
		node->is_group = true;
	else if (e->has_type && (!e->has_num_children || e->num_children == 0) &&
			 parent != NULL)
		node->is_group = false;
	else if (e->has_num_children && e->num_children < 0)
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "parquet schema: element \"%s\" has %d children",
					  node->path, e->num_children);
		return NULL;
	}
	else if (parent == NULL || e->has_num_children)
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "unsupported: parquet schema group \"%s\" with no columns",
					  parent == NULL ? node->name : node->path);
		return NULL;
	}
	else
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "parquet schema: element \"%s\" has neither a type nor children",
					  node->path);
		return NULL;
	}

	if (!node->is_group)
	{
		if (e->type < 0 || e->type > PQ_FIXED_LEN_BYTE_ARRAY)
		{
			TelemSetError(p->err, TELEM_ERR_DATA,
						  "parquet schema: column \"%s\" has unknown physical type %d",
						  node->path, e->type);
			return NULL;
		}
		node->type = (PqType) e->type;
		if (node->type == PQ_FIXED_LEN_BYTE_ARRAY)
		{
			if (e->type_length <= 0 || e->type_length > PQ_MAX_PAGE_SIZE)
			{
				TelemSetError(p->err, TELEM_ERR_DATA,
							  "parquet schema: column \"%s\" has FIXED_LEN_BYTE_ARRAY length %d",
							  node->path, e->type_length);
				return NULL;
			}
			node->type_length = e->type_length;
		}
		node->leaf_index = p->file->nleaves++;
		node->first_leaf = node->leaf_index;
		node->nleaves = 1;
		if (!apply_annotation(p, node, e))
			return NULL;
		return node;
	}

	if ((uint32_t) e->num_children > p->nelems - p->next_elem)
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "parquet schema: group \"%s\" claims %d children but %u elements follow",
					  parent == NULL ? node->name : node->path, e->num_children,
					  p->nelems - p->next_elem);
		return NULL;
	}
	node->nchildren = e->num_children;
	node->children = PqArenaAlloc(p->arena,
								  sizeof(PqSchemaNode *) * (size_t) node->nchildren);
	if (node->children == NULL)
		goto oom;
	node->first_leaf = p->file->nleaves;
	for (i = 0; i < node->nchildren; i++)
	{
		node->children[i] = build_node(p, node, depth + 1);
		if (node->children[i] == NULL)
			return NULL;
	}
	node->nleaves = p->file->nleaves - node->first_leaf;
	/* the root is the file's row, whatever a writer annotated it with */
	if (parent != NULL && !apply_annotation(p, node, e))
		return NULL;
	return node;

oom:
	TelemSetError(p->err, TELEM_ERR_OUT_OF_MEMORY,
				  "out of memory reading the parquet schema");
	return NULL;
}

/* Fill file->leaves by walking the tree. */
static void
collect_leaves(PqFile *file, PqSchemaNode *node)
{
	int			i;

	if (!node->is_group)
	{
		file->leaves[node->leaf_index] = node;
		return;
	}
	for (i = 0; i < node->nchildren; i++)
		collect_leaves(file, node->children[i]);
}

/* The schema list: parse the elements, then build the tree. */
static bool
parse_schema(Parser *p)
{
	PqFile	   *file = p->file;
	int			type;
	uint32_t	n;
	uint32_t	i;

	if (!PqThriftListBegin(&p->t, &type, &n))
		return false;
	if (type != PQ_TT_STRUCT)
		return PqThriftFail(&p->t, "schema is a list of type %d, not of structs", type);
	if (n == 0)
		return PqThriftFail(&p->t, "schema has no elements");
	if (n > PQ_MAX_SCHEMA_ELEMENTS)
		return PqThriftFail(&p->t, "unsupported: schema of %u elements (at most %d)",
							n, PQ_MAX_SCHEMA_ELEMENTS);
	if (p->elems != NULL)
		return PqThriftFail(&p->t, "schema given twice");
	p->elems = malloc(sizeof(SchemaElem) * (size_t) n);
	if (p->elems == NULL)
		return PqThriftFail(&p->t, "out of memory");
	p->nelems = n;
	for (i = 0; i < n; i++)
	{
		if (!parse_schema_element(p, &p->elems[i]))
			return false;
	}

	/* the tree; errors from here on go straight to p->err */
	p->next_elem = 0;
	file->nleaves = 0;
	file->root = build_node(p, NULL, 0);
	if (file->root == NULL)
		return false;
	if (p->next_elem != n)
	{
		TelemSetError(p->err, TELEM_ERR_DATA,
					  "parquet schema: %u elements after the root's last child",
					  n - p->next_elem);
		file->root = NULL;
		return false;
	}
	if (file->nleaves == 0)
	{
		TelemSetError(p->err, TELEM_ERR_DATA, "parquet schema has no columns");
		file->root = NULL;
		return false;
	}
	file->leaves = PqArenaAlloc(p->arena,
								sizeof(PqSchemaNode *) * (size_t) file->nleaves);
	if (file->leaves == NULL)
	{
		TelemSetError(p->err, TELEM_ERR_OUT_OF_MEMORY,
					  "out of memory reading the parquet schema");
		file->root = NULL;
		return false;
	}
	collect_leaves(file, file->root);
	return true;
}

/* Statistics, choosing min_value/max_value over the deprecated min/max. */
static bool
parse_statistics(Parser *p, PqStatistics *st)
{
	int			type;
	int16_t		id;
	const uint8_t *v[7] = {0};
	uint32_t	vlen[7] = {0};
	bool		has[7] = {0};
	bool		min_exact = false;
	bool		max_exact = false;

	memset(st, 0, sizeof(*st));
	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		switch (id)
		{
			case 1:				/* max (deprecated) */
			case 2:				/* min (deprecated) */
			case 5:				/* max_value */
			case 6:				/* min_value */
				ok = field_binary(p, type, &v[id], &vlen[id], &has[id]);
				break;
			case 3:
				ok = field_i64(p, type, &st->null_count, &st->has_null_count);
				break;
			case 7:
				ok = field_bool(p, type, &max_exact, NULL);
				break;
			case 8:
				ok = field_bool(p, type, &min_exact, NULL);
				break;
			default:
				ok = skip_field(p, type);
				break;
		}
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(&p->t))
		return false;

	if (has[5] || has[6])
	{
		st->has_max = has[5];
		st->has_min = has[6];
		st->max.ptr = v[5];
		st->max.len = vlen[5];
		st->min.ptr = v[6];
		st->min.len = vlen[6];
		st->max_exact = max_exact;
		st->min_exact = min_exact;
	}
	else
	{
		st->has_max = has[1];
		st->has_min = has[2];
		st->max.ptr = v[1];
		st->max.len = vlen[1];
		st->min.ptr = v[2];
		st->min.len = vlen[2];
		st->legacy = (has[1] || has[2]);
	}
	if (st->has_null_count && st->null_count < 0)
		st->has_null_count = false;

	/* copy: the caller's buffer may go away */
	if (st->has_min)
	{
		uint8_t    *c = PqArenaAlloc(p->arena, st->min.len);

		if (c == NULL)
			return PqThriftFail(&p->t, "out of memory");
		if (st->min.len > 0)
			memcpy(c, st->min.ptr, st->min.len);
		st->min.ptr = c;
	}
	else
		st->min.ptr = NULL;
	if (st->has_max)
	{
		uint8_t    *c = PqArenaAlloc(p->arena, st->max.len);

		if (c == NULL)
			return PqThriftFail(&p->t, "out of memory");
		if (st->max.len > 0)
			memcpy(c, st->max.ptr, st->max.len);
		st->max.ptr = c;
	}
	else
		st->max.ptr = NULL;
	return true;
}

/* ColumnMetaData of leaf. */
static bool
parse_column_meta(Parser *p, PqColumnChunk *cc, const PqSchemaNode *leaf,
				  bool *has_data_offset)
{
	int			type;
	int16_t		id;
	int32_t		ptype = -1;
	bool		has_type = false;
	int32_t		codec = 0;
	bool		has_codec = false;
	bool		has_num_values = false;
	bool		has_unc = false;
	bool		has_comp = false;
	bool		has_dict = false;
	int64_t		dict = 0;

	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		switch (id)
		{
			case 1:
				ok = field_i32(p, type, &ptype, &has_type);
				break;
			case 4:
				ok = field_i32(p, type, &codec, &has_codec);
				break;
			case 5:
				ok = field_i64(p, type, &cc->num_values, &has_num_values);
				break;
			case 6:
				ok = field_i64(p, type, &cc->total_uncompressed_size, &has_unc);
				break;
			case 7:
				ok = field_i64(p, type, &cc->total_compressed_size, &has_comp);
				break;
			case 9:
				ok = field_i64(p, type, &cc->data_page_offset, has_data_offset);
				break;
			case 11:
				ok = field_i64(p, type, &dict, &has_dict);
				break;
			case 12:
				if (type == PQ_TT_STRUCT)
				{
					ok = parse_statistics(p, &cc->stats);
					cc->has_stats = ok;
				}
				else
					ok = skip_field(p, type);
				break;
			default:
				ok = skip_field(p, type);
				break;
		}
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(&p->t))
		return false;

	if (!has_type || !has_codec || !has_num_values || !has_unc || !has_comp ||
		!*has_data_offset)
		return PqThriftFail(&p->t, "column \"%s\": metadata lacks a required field",
							leaf->path);
	if (ptype != (int32_t) leaf->type)
		return PqThriftFail(&p->t, "column \"%s\": chunk type %d differs from the schema's %s",
							leaf->path, ptype, PqTypeName(leaf->type));
	if (codec < 0 || codec > 255)
		return PqThriftFail(&p->t, "column \"%s\": bad codec %d", leaf->path, codec);
	/* kept even when unknown: decompression names it, other columns read */
	cc->codec = (PqCodec) codec;
	if (cc->num_values < 0 || cc->total_compressed_size < 0 ||
		cc->total_uncompressed_size < 0)
		return PqThriftFail(&p->t, "column \"%s\": negative count or size",
							leaf->path);
	/* see the file header comment */
	cc->dictionary_page_offset =
		(has_dict && dict > 0 && dict < cc->data_page_offset) ? dict : -1;
	return true;
}

/* Check, and settle, the byte range of one chunk. */
static bool
set_chunk_range(Parser *p, PqColumnChunk *cc, int rg, const PqSchemaNode *leaf)
{
	int64_t		start;
	int64_t		length = cc->total_compressed_size;

	start = cc->dictionary_page_offset >= 0 ? cc->dictionary_page_offset :
		cc->data_page_offset;

	if (p->pre_816 && start >= 4 && start <= p->chunk_limit &&
		length <= p->chunk_limit - start)
	{
		int64_t		room = p->chunk_limit - start - length;

		length += room < PQ_816_PADDING ? room : PQ_816_PADDING;
	}

	if (start < 4 || start > p->chunk_limit || length > p->chunk_limit - start ||
		(length > 0 && cc->data_page_offset - start >= length))
	{
		if (cc->encrypted)
		{
			/* it cannot be read anyway; leave nothing to fetch */
			cc->start = 0;
			cc->length = 0;
			return true;
		}
		return TelemSetError(p->err, TELEM_ERR_DATA,
							 "parquet footer: row group %d column \"%s\": chunk at %lld, %lld bytes, data page at %lld, lies outside the data (bytes 4 to %lld)",
							 rg, leaf->path, (long long) start, (long long) length,
							 (long long) cc->data_page_offset,
							 (long long) p->chunk_limit);
	}
	cc->start = start;
	cc->length = length;
	return true;
}

static bool
parse_column_chunk(Parser *p, PqColumnChunk *cc, const PqSchemaNode *leaf,
				   bool *has_meta)
{
	int			type;
	int16_t		id;
	bool		has_data_offset = false;

	memset(cc, 0, sizeof(*cc));
	cc->dictionary_page_offset = -1;
	*has_meta = false;
	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		switch (id)
		{
			case 1:				/* file_path */
				if (type == PQ_TT_BINARY)
				{
					const uint8_t *s;
					uint32_t	n;

					ok = PqThriftReadBinary(&p->t, &s, &n);
					if (ok && n > 0)
						return PqThriftFail(&p->t,
											"unsupported: column \"%s\" stored in another file",
											leaf->path);
				}
				else
					ok = skip_field(p, type);
				break;
			case 3:
				if (type == PQ_TT_STRUCT && !*has_meta)
				{
					ok = parse_column_meta(p, cc, leaf, &has_data_offset);
					*has_meta = ok;
				}
				else
					ok = skip_field(p, type);
				break;
			case 8:				/* crypto_metadata */
			case 9:				/* encrypted_column_metadata */
				cc->encrypted = true;
				ok = skip_field(p, type);
				break;
			default:
				ok = skip_field(p, type);
				break;
		}
		if (!ok)
			return false;
	}
	return PqThriftStructEnd(&p->t);
}

static bool
parse_row_group(Parser *p, PqRowGroup *rgp, int rg)
{
	PqFile	   *file = p->file;
	int			type;
	int16_t		id;
	bool		has_columns = false;
	bool		has_rows = false;
	bool		has_meta;
	int			i;

	if (!PqThriftStructBegin(&p->t))
		return false;
	while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		if (id == 1 && type == PQ_TT_LIST && !has_columns)
		{
			int			et;
			uint32_t	n;

			if (!PqThriftListBegin(&p->t, &et, &n))
				return false;
			if (et != PQ_TT_STRUCT)
				return PqThriftFail(&p->t, "row group %d: columns are not structs", rg);
			if (n != (uint32_t) file->nleaves)
				return PqThriftFail(&p->t, "row group %d has %u columns, the schema %d",
									rg, n, file->nleaves);
			rgp->columns = PqArenaAlloc(p->arena,
										sizeof(PqColumnChunk) * (size_t) n);
			if (rgp->columns == NULL)
				return PqThriftFail(&p->t, "out of memory");
			for (i = 0; i < (int) n; i++)
			{
				PqColumnChunk *cc = &rgp->columns[i];

				if (!parse_column_chunk(p, cc, file->leaves[i], &has_meta))
					return false;
				if (!has_meta && !cc->encrypted)
					return PqThriftFail(&p->t, "row group %d column \"%s\" has no metadata",
										rg, file->leaves[i]->path);
				if (!has_meta)
				{
					cc->start = 0;
					cc->length = 0;
				}
			}
			has_columns = true;
			ok = true;
		}
		else if (id == 3)
			ok = field_i64(p, type, &rgp->num_rows, &has_rows);
		else
			ok = skip_field(p, type);
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(&p->t))
		return false;
	if (!has_columns || !has_rows)
		return PqThriftFail(&p->t, "row group %d lacks %s", rg,
							has_columns ? "num_rows" : "columns");
	if (rgp->num_rows < 0)
		return PqThriftFail(&p->t, "row group %d has %lld rows", rg,
							(long long) rgp->num_rows);
	return true;
}

/* The row_groups list, once the schema is known. */
static bool
parse_row_groups(Parser *p)
{
	PqFile	   *file = p->file;
	int			type;
	uint32_t	n;
	int			rg;
	int			i;

	if (!PqThriftListBegin(&p->t, &type, &n))
		return false;
	if (n > 0 && type != PQ_TT_STRUCT)
		return PqThriftFail(&p->t, "row_groups is a list of type %d, not of structs",
							type);
	if (n > INT32_MAX / 2)
		return PqThriftFail(&p->t, "too many row groups");
	file->row_groups = PqArenaAlloc(p->arena, sizeof(PqRowGroup) * (size_t) n);
	if (file->row_groups == NULL)
		return PqThriftFail(&p->t, "out of memory");
	memset(file->row_groups, 0, sizeof(PqRowGroup) * (size_t) n);
	for (rg = 0; rg < (int) n; rg++)
	{
		if (!parse_row_group(p, &file->row_groups[rg], rg))
			return false;
		file->nrow_groups = rg + 1;
	}

	/* ranges last: errors name the row group and column */
	for (rg = 0; rg < file->nrow_groups; rg++)
	{
		for (i = 0; i < file->nleaves; i++)
		{
			PqColumnChunk *cc = &file->row_groups[rg].columns[i];

			if (cc->encrypted && cc->data_page_offset == 0 &&
				cc->total_compressed_size == 0)
				continue;		/* no plaintext metadata */
			if (cc->num_values == 0)
			{
				/*
				 * Nothing to read.  Writers of empty chunks leave odd
				 * offsets (column_chunk_key_value_metadata.parquet has
				 * data_page_offset 0 and only a dictionary page).
				 */
				cc->start = 0;
				cc->length = 0;
				continue;
			}
			if (!set_chunk_range(p, cc, rg, file->leaves[i]))
				return false;
		}
	}
	return true;
}

static bool
parse_key_values(Parser *p)
{
	PqFile	   *file = p->file;
	int			type;
	uint32_t	n;
	uint32_t	i;

	if (!PqThriftListBegin(&p->t, &type, &n))
		return false;
	if (n > 0 && type != PQ_TT_STRUCT)
	{
		/* not what the spec says: skip the elements */
		for (i = 0; i < n; i++)
			if (!PqThriftSkip(&p->t, type))
				return false;
		return true;
	}
	file->kv = PqArenaAlloc(p->arena, sizeof(PqKeyValue) * (size_t) n);
	if (file->kv == NULL)
		return PqThriftFail(&p->t, "out of memory");
	file->nkv = 0;
	for (i = 0; i < n; i++)
	{
		PqKeyValue *kv = &file->kv[file->nkv];
		const uint8_t *key = NULL;
		const uint8_t *value = NULL;
		uint32_t	key_len = 0;
		uint32_t	value_len = 0;
		bool		has_key = false;
		bool		has_value = false;
		int16_t		id;

		if (!PqThriftStructBegin(&p->t))
			return false;
		while (PqThriftFieldBegin(&p->t, &type, &id) && type != PQ_TT_STOP)
		{
			bool		ok;

			if (id == 1)
				ok = field_binary(p, type, &key, &key_len, &has_key);
			else if (id == 2)
				ok = field_binary(p, type, &value, &value_len, &has_value);
			else
				ok = skip_field(p, type);
			if (!ok)
				return false;
		}
		if (!PqThriftStructEnd(&p->t))
			return false;
		if (!has_key)
			continue;			/* unusable; drop it */
		kv->key = arena_string(p, key, key_len);
		kv->value = has_value ? arena_string(p, value, value_len) : NULL;
		if (kv->key == NULL || (has_value && kv->value == NULL))
			return false;
		file->nkv++;
	}
	return true;
}

/*
 * Whether created_by names a parquet-mr release before 1.2.9, whose
 * chunk sizes leave out the dictionary page header (PARQUET-816).
 */
static bool
writer_has_816(const char *created_by)
{
	const char *prefix = "parquet-mr version ";
	int			v[3] = {0, 0, 0};
	const char *s;
	int			i;

	/* no version at all: as old as they come (nation.dict-malformed.parquet) */
	if (created_by != NULL && strcmp(created_by, "parquet-mr") == 0)
		return true;
	if (created_by == NULL || strncmp(created_by, prefix, strlen(prefix)) != 0)
		return false;
	s = created_by + strlen(prefix);
	for (i = 0; i < 3; i++)
	{
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
		{
			if (v[i] < 100000)
				v[i] = v[i] * 10 + (*s - '0');
			s++;
		}
		if (i < 2)
		{
			if (*s != '.')
				return false;
			s++;
		}
	}
	if (v[0] != 1)
		return v[0] < 1;
	if (v[1] != 2)
		return v[1] < 2;
	return v[2] < 9;
}

int64_t
PqFooterLength(const uint8_t *tail, size_t tail_len, int64_t file_size,
			   TelemError *err)
{
	const uint8_t *t;
	uint32_t	len;

	if (file_size < 0 || tail == NULL || (int64_t) tail_len > file_size)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "parquet: tail of %zu bytes does not fit a file of %lld bytes",
					  tail_len, (long long) file_size);
		return -1;
	}
	if (file_size < 4 + PQ_TRAILER_SIZE)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "not a parquet file: %lld bytes is too short",
					  (long long) file_size);
		return -1;
	}
	if (tail_len < PQ_TRAILER_SIZE)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "parquet: tail of %zu bytes is shorter than the trailer",
					  tail_len);
		return -1;
	}
	t = tail + tail_len - PQ_TRAILER_SIZE;
	if (memcmp(t + 4, "PARE", 4) == 0)
	{
		TelemSetError(err, TELEM_ERR_DATA, "unsupported: encrypted footer");
		return -1;
	}
	if (memcmp(t + 4, PQ_MAGIC, 4) != 0)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "not a parquet file: no PAR1 at byte %lld",
					  (long long) (file_size - 4));
		return -1;
	}
	len = (uint32_t) t[0] | (uint32_t) t[1] << 8 | (uint32_t) t[2] << 16 |
		(uint32_t) t[3] << 24;
	if (len == 0 || (int64_t) len > file_size - 4 - PQ_TRAILER_SIZE)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "parquet: footer length %u does not fit a file of %lld bytes",
					  len, (long long) file_size);
		return -1;
	}
	if (len > PQ_MAX_FOOTER_SIZE)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "unsupported: parquet footer of %u bytes (at most %d)",
					  len, PQ_MAX_FOOTER_SIZE);
		return -1;
	}
	return (int64_t) len;
}

/* Turn the thrift reader's error into err (unless err is set already). */
static void
report_thrift_error(Parser *p, bool err_set)
{
	const char *msg = p->t.errmsg;

	if (err_set)
		return;
	if (!p->t.failed)
		TelemSetError(p->err, TELEM_ERR_DATA, "parquet footer: parse failed");
	else if (strncmp(msg, "unsupported: ", 13) == 0)
		TelemSetError(p->err, TELEM_ERR_DATA, "%s", msg);
	else if (strncmp(msg, "out of memory", 13) == 0)
		TelemSetError(p->err, TELEM_ERR_OUT_OF_MEMORY, "parquet footer: %s", msg);
	else
		TelemSetError(p->err, TELEM_ERR_DATA, "corrupt parquet footer: %s", msg);
}

PqFile *
PqParseFooter(const uint8_t *buf, size_t len, int64_t file_size,
			  TelemError *err)
{
	Parser		p;
	PqFile	   *file;
	int			type;
	int16_t		id;
	bool		has_version = false;
	bool		has_schema = false;
	bool		has_rows = false;
	bool		has_row_groups = false;
	bool		err_set = false;
	size_t		rg_pos = 0;
	int64_t		footer_start;

	memset(&p, 0, sizeof(p));
	p.err = err;
	p.file_size = file_size;
	if (buf == NULL || len == 0 || len > PQ_MAX_FOOTER_SIZE || file_size < 0 ||
		(int64_t) len > file_size - 4 - PQ_TRAILER_SIZE)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "parquet: footer of %zu bytes does not fit a file of %lld bytes",
					  len, (long long) file_size);
		return NULL;
	}
	footer_start = file_size - PQ_TRAILER_SIZE - (int64_t) len;
	p.chunk_limit = footer_start;
	/* paths: generous for deep schemas, but bounded by the footer's size */
	p.path_budget = len * 32 + 1024 * 1024;
	if (p.path_budget > PQ_MAX_FOOTER_SIZE)
		p.path_budget = PQ_MAX_FOOTER_SIZE;

	p.arena = PqArenaCreate();
	if (p.arena == NULL)
		goto oom;
	file = PqArenaAlloc(p.arena, sizeof(PqFile));
	if (file == NULL)
		goto oom;
	memset(file, 0, sizeof(*file));
	file->arena = p.arena;
	p.file = file;

	PqThriftInit(&p.t, buf, len, (uint64_t) footer_start);
	if (!PqThriftStructBegin(&p.t))
		goto fail;
	while (PqThriftFieldBegin(&p.t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		switch (id)
		{
			case 1:
				ok = field_i32(&p, type, &file->version, &has_version);
				break;
			case 2:
				if (type == PQ_TT_LIST)
				{
					ok = parse_schema(&p);
					if (!ok && !p.t.failed)
						err_set = true;
					has_schema = ok;
				}
				else
					ok = skip_field(&p, type);
				break;
			case 3:
				ok = field_i64(&p, type, &file->num_rows, &has_rows);
				break;
			case 4:
				/* parsed once the schema is known */
				if (type == PQ_TT_LIST && !has_row_groups)
				{
					rg_pos = p.t.pos;
					has_row_groups = true;
				}
				ok = skip_field(&p, type);
				break;
			case 5:
				if (type == PQ_TT_LIST)
					ok = parse_key_values(&p);
				else
					ok = skip_field(&p, type);
				break;
			case 6:
				if (type == PQ_TT_BINARY)
				{
					const uint8_t *s;
					uint32_t	n;

					ok = PqThriftReadBinary(&p.t, &s, &n);
					if (ok)
					{
						file->created_by = arena_string(&p, s, n);
						ok = (file->created_by != NULL);
					}
				}
				else
					ok = skip_field(&p, type);
				break;
			default:
				/* 8, encryption_algorithm: chunks say which are encrypted */
				ok = skip_field(&p, type);
				break;
		}
		if (!ok)
			goto fail;
	}
	if (!PqThriftStructEnd(&p.t))
		goto fail;
	if (!has_version || !has_schema || !has_rows || !has_row_groups)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "corrupt parquet footer: no %s",
					  !has_version ? "version" : !has_schema ? "schema" :
					  !has_rows ? "num_rows" : "row_groups");
		err_set = true;
		goto fail;
	}
	if (file->num_rows < 0)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "corrupt parquet footer: %lld rows",
					  (long long) file->num_rows);
		err_set = true;
		goto fail;
	}

	p.pre_816 = writer_has_816(file->created_by);
	PqThriftInit(&p.t, buf + rg_pos, len - rg_pos,
				 (uint64_t) footer_start + rg_pos);
	/* the list is a field of FileMetaData: one struct level is open */
	p.t.depth = 1;
	if (!parse_row_groups(&p))
	{
		err_set = !p.t.failed;
		goto fail;
	}

	free(p.elems);
	return file;

oom:
	TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
				  "out of memory reading a parquet footer");
	PqArenaFree(p.arena);
	return NULL;

fail:
	report_thrift_error(&p, err_set);
	free(p.elems);
	PqArenaFree(p.arena);
	return NULL;
}

void
PqFileFree(PqFile *file)
{
	if (file != NULL)
		PqArenaFree((PqArena *) file->arena);
}

/* ASCII case-insensitive comparison of n bytes. */
static bool
ascii_caseeq(const char *a, const char *b, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char ca = (unsigned char) a[i];
		unsigned char cb = (unsigned char) b[i];

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return false;
	}
	return true;
}

/*
 * Does child c's name match the start of path, ending at a dot or at the
 * end of path?  exact: byte for byte, else ASCII case-insensitively.
 */
static bool
name_matches(const PqSchemaNode *c, const char *path, size_t path_len,
			 bool exact)
{
	size_t		n = strlen(c->name);

	if (n > path_len || (path[n] != '\0' && path[n] != '.'))
		return false;
	return exact ? memcmp(c->name, path, n) == 0 : ascii_caseeq(c->name, path, n);
}

/* Lookups give up after this many tries (pathological dotted names). */
#define FIND_BUDGET 10000

static const PqSchemaNode *find_below(const PqSchemaNode *node,
									  const char *path, int *budget);

/*
 * The node at path below node through child c (whose name matched the
 * start of path), or NULL.
 */
static const PqSchemaNode *
find_through(const PqSchemaNode *c, const char *path, int *budget)
{
	const char *rest = path + strlen(c->name);

	if (*rest == '\0')
		return c;
	return find_below(c, rest + 1, budget);
}

/*
 * The node at the dotted path below node.  A name may itself hold dots, so
 * every child whose name is a prefix of path ending at a dot (or the end)
 * is a candidate, and a candidate that leads nowhere gives way to the
 * next: exact matches first, longest name first (of equal names the first
 * child), then case-insensitive ones if exactly one leads to a node.
 */
static const PqSchemaNode *
find_below(const PqSchemaNode *node, const char *path, int *budget)
{
	size_t		path_len = strlen(path);
	size_t		last_len = SIZE_MAX;
	int			last_i = -1;
	const PqSchemaNode *folded = NULL;
	int			nfolded = 0;
	int			i;

	/* exact candidates, longest first */
	for (;;)
	{
		int			best = -1;
		size_t		best_len = 0;
		const PqSchemaNode *found;

		for (i = 0; i < node->nchildren; i++)
		{
			size_t		n = strlen(node->children[i]->name);

			/* after (last_len, last_i) in (longest, first) order */
			if (n > last_len || (n == last_len && i <= last_i))
				continue;
			if (best >= 0 && n <= best_len)
				continue;
			if (name_matches(node->children[i], path, path_len, true))
			{
				best = i;
				best_len = n;
			}
		}
		if (best < 0 || --(*budget) < 0)
			break;
		found = find_through(node->children[best], path, budget);
		if (found != NULL)
			return found;
		last_len = best_len;
		last_i = best;
	}

	/* then a unique case-insensitive way */
	for (i = 0; i < node->nchildren && *budget >= 0; i++)
	{
		const PqSchemaNode *found;

		if (!name_matches(node->children[i], path, path_len, false) ||
			--(*budget) < 0)
			continue;
		found = find_through(node->children[i], path, budget);
		if (found != NULL && found != folded)
		{
			folded = found;
			nfolded++;
		}
	}
	return nfolded == 1 ? folded : NULL;
}

const PqSchemaNode *
PqFindPath(const PqFile *file, const char *path)
{
	int			budget = FIND_BUDGET;

	if (file == NULL || file->root == NULL || path == NULL)
		return NULL;
	if (*path == '\0')
		return file->root;
	return find_below(file->root, path, &budget);
}

static const char *
unit_name(PqTimeUnit unit)
{
	return unit == PQ_MILLIS ? "MILLIS" : unit == PQ_MICROS ? "MICROS" : "NANOS";
}

void
PqDescribeNode(const PqSchemaNode *node, char *buf, size_t len)
{
	char		base[64];
	char		ann[64];

	if (buf == NULL || len == 0)
		return;
	if (node == NULL)
	{
		snprintf(buf, len, "(none)");
		return;
	}
	if (node->is_group)
		snprintf(base, sizeof(base), "group");
	else if (node->type == PQ_FIXED_LEN_BYTE_ARRAY)
		snprintf(base, sizeof(base), "FIXED_LEN_BYTE_ARRAY(%d)", node->type_length);
	else
		snprintf(base, sizeof(base), "%s", PqTypeName(node->type));

	switch (node->logical)
	{
		case PQL_NONE:
			ann[0] = '\0';
			break;
		case PQL_STRING:
			snprintf(ann, sizeof(ann), "STRING");
			break;
		case PQL_ENUM:
			snprintf(ann, sizeof(ann), "ENUM");
			break;
		case PQL_JSON:
			snprintf(ann, sizeof(ann), "JSON");
			break;
		case PQL_BSON:
			snprintf(ann, sizeof(ann), "BSON");
			break;
		case PQL_UUID:
			snprintf(ann, sizeof(ann), "UUID");
			break;
		case PQL_FLOAT16:
			snprintf(ann, sizeof(ann), "FLOAT16");
			break;
		case PQL_DECIMAL:
			snprintf(ann, sizeof(ann), "DECIMAL(%d, %d)", node->precision, node->scale);
			break;
		case PQL_DATE:
			snprintf(ann, sizeof(ann), "DATE");
			break;
		case PQL_TIME:
		case PQL_TIMESTAMP:
			snprintf(ann, sizeof(ann), "%s(%s%s)",
					 node->logical == PQL_TIME ? "TIME" : "TIMESTAMP",
					 unit_name(node->unit), node->adjusted_to_utc ? ", UTC" : "");
			break;
		case PQL_INTEGER:
			snprintf(ann, sizeof(ann), "INTEGER(%d, %s)", node->bit_width,
					 node->is_signed ? "signed" : "unsigned");
			break;
		case PQL_INTERVAL:
			snprintf(ann, sizeof(ann), "INTERVAL");
			break;
		case PQL_LIST:
			snprintf(ann, sizeof(ann), "LIST");
			break;
		case PQL_MAP:
			snprintf(ann, sizeof(ann), "MAP");
			break;
		case PQL_NULL:
			snprintf(ann, sizeof(ann), "NULL");
			break;
		default:
			snprintf(ann, sizeof(ann), "unknown logical type");
			break;
	}
	if (ann[0] == '\0')
		snprintf(buf, len, "%s", base);
	else
		snprintf(buf, len, "%s (%s)", base, ann);
}

/* DataPageHeader (1..4), DictionaryPageHeader (1, 2), DataPageHeaderV2. */
static bool
parse_page_sub(PqThrift *t, PqPageHeader *h, int which, bool *complete)
{
	int			type;
	int16_t		id;
	int32_t		v;
	unsigned	seen = 0;

	if (!PqThriftStructBegin(t))
		return false;
	while (PqThriftFieldBegin(t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok = true;

		if (id >= 1 && id <= 6 && type == PQ_TT_I32)
		{
			ok = PqThriftReadI32(t, &v);
			if (ok)
			{
				seen |= 1u << id;
				if (which == PQ_PAGE_DATA_V2)
				{
					switch (id)
					{
						case 1:
							h->num_values = v;
							break;
						case 2:
							h->num_nulls = v;
							break;
						case 3:
							h->num_rows = v;
							break;
						case 4:
							h->encoding = (PqEncoding) v;
							break;
						case 5:
							h->def_levels_length = v;
							break;
						case 6:
							h->rep_levels_length = v;
							break;
					}
				}
				else
				{
					switch (id)
					{
						case 1:
							h->num_values = v;
							break;
						case 2:
							h->encoding = (PqEncoding) v;
							break;
						case 3:
							if (which == PQ_PAGE_DATA)
								h->def_encoding = (PqEncoding) v;
							break;
						case 4:
							if (which == PQ_PAGE_DATA)
								h->rep_encoding = (PqEncoding) v;
							break;
					}
				}
			}
		}
		else if (id == 7 && which == PQ_PAGE_DATA_V2 && type == PQ_TT_BOOL)
			ok = PqThriftReadBool(t, &h->is_compressed);
		else
			ok = PqThriftSkip(t, type);
		if (!ok)
			return false;
	}
	if (!PqThriftStructEnd(t))
		return false;
	if (which == PQ_PAGE_DATA)
		*complete = (seen & 0x1e) == 0x1e;
	else if (which == PQ_PAGE_DICTIONARY)
		*complete = (seen & 0x06) == 0x06;
	else
		*complete = (seen & 0x7e) == 0x7e;
	return true;
}

bool
PqParsePageHeader(const uint8_t *buf, size_t len, PqPageHeader *h,
				  size_t *header_len, TelemError *err)
{
	PqThrift	t;
	int			type;
	int16_t		id;
	int32_t		page_type = -1;
	bool		has_type = false;
	bool		has_unc = false;
	bool		has_comp = false;
	bool		has_sub = false;
	bool		complete = false;
	int32_t		crc;

	memset(h, 0, sizeof(*h));
	h->is_compressed = true;
	*header_len = 0;
	PqThriftInit(&t, buf, len, 0);
	if (!PqThriftStructBegin(&t))
		goto fail;
	while (PqThriftFieldBegin(&t, &type, &id) && type != PQ_TT_STOP)
	{
		bool		ok;

		switch (id)
		{
			case 1:
				ok = type == PQ_TT_I32 ? PqThriftReadI32(&t, &page_type) :
					PqThriftSkip(&t, type);
				has_type = ok && type == PQ_TT_I32;
				break;
			case 2:
				ok = type == PQ_TT_I32 ? PqThriftReadI32(&t, &h->uncompressed_size) :
					PqThriftSkip(&t, type);
				has_unc = ok && type == PQ_TT_I32;
				break;
			case 3:
				ok = type == PQ_TT_I32 ? PqThriftReadI32(&t, &h->compressed_size) :
					PqThriftSkip(&t, type);
				has_comp = ok && type == PQ_TT_I32;
				break;
			case 4:
				if (type == PQ_TT_I32)
				{
					ok = PqThriftReadI32(&t, &crc);
					h->has_crc = ok;
					h->crc = (uint32_t) crc;
				}
				else
					ok = PqThriftSkip(&t, type);
				break;
			case 5:
			case 7:
			case 8:
				/* the sub-header that matches the type; others skipped */
				if (type == PQ_TT_STRUCT && has_type && !has_sub &&
					((id == 5 && page_type == PQ_PAGE_DATA) ||
					 (id == 7 && page_type == PQ_PAGE_DICTIONARY) ||
					 (id == 8 && page_type == PQ_PAGE_DATA_V2)))
				{
					ok = parse_page_sub(&t, h, page_type, &complete);
					has_sub = ok;
				}
				else
					ok = PqThriftSkip(&t, type);
				break;
			default:
				ok = PqThriftSkip(&t, type);
				break;
		}
		if (!ok)
			goto fail;
	}
	if (!PqThriftStructEnd(&t))
		goto fail;

	if (!has_type || !has_unc || !has_comp)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "corrupt page header: no %s",
							 !has_type ? "page type" : !has_unc ?
							 "uncompressed size" : "compressed size");
	h->type = (PqPageType) page_type;
	if (h->uncompressed_size < 0 || h->compressed_size < 0)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "corrupt page header: page sizes %d and %d (uncompressed, compressed)",
							 h->uncompressed_size, h->compressed_size);
	if (h->uncompressed_size > PQ_MAX_PAGE_SIZE || h->compressed_size > PQ_MAX_PAGE_SIZE)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "unsupported: page of %d bytes (%d compressed), larger than %d",
							 h->uncompressed_size, h->compressed_size, PQ_MAX_PAGE_SIZE);
	if (page_type == PQ_PAGE_DATA || page_type == PQ_PAGE_DICTIONARY ||
		page_type == PQ_PAGE_DATA_V2)
	{
		if (!has_sub || !complete)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "corrupt page header: %s page without a complete %s header",
								 page_type == PQ_PAGE_DICTIONARY ? "dictionary" : "data",
								 page_type == PQ_PAGE_DICTIONARY ? "dictionary page" :
								 page_type == PQ_PAGE_DATA ? "data page" : "data page v2");
		if (h->num_values < 0)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "corrupt page header: %d values", h->num_values);
	}
	if (page_type == PQ_PAGE_DATA_V2)
	{
		if (h->num_nulls < 0 || h->num_nulls > h->num_values ||
			h->num_rows < 0 || h->num_rows > h->num_values)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "corrupt page header: %d values, %d nulls, %d rows",
								 h->num_values, h->num_nulls, h->num_rows);
		if (h->def_levels_length < 0 || h->rep_levels_length < 0 ||
			(int64_t) h->def_levels_length + h->rep_levels_length > h->compressed_size ||
			(int64_t) h->def_levels_length + h->rep_levels_length > h->uncompressed_size)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "corrupt page header: level lengths %d and %d exceed the page",
								 h->def_levels_length, h->rep_levels_length);
	}
	*header_len = t.pos;
	return true;

fail:
	return TelemSetError(err, TELEM_ERR_DATA, "corrupt page header: %s", t.errmsg);
}
