/*-------------------------------------------------------------------------
 *
 * infer.c
 *		Type inference for IMPORT FOREIGN SCHEMA: classify sampled values,
 *		then choose each column's name, type and options.
 *
 * Rules (docs/reference.md repeats them for users):
 *	- integers within int32 → integer, within int64 → bigint, larger →
 *	  numeric; any number written with a fraction or exponent → double
 *	  precision (int and float mixed → double precision);
 *	- true/false → boolean;
 *	- strings that are all ISO-8601 dates → date, all ISO-8601 timestamps
 *	  (or dates and timestamps) → timestamptz;
 *	- numbers in a field whose name reads as a time (ts, time, timestamp,
 *	  epoch, *_at, *_ts, *_time, ts_ms, eventTime, ...) → timestamptz with
 *	  epoch 'seconds' when every value lies in [1e8, 1e11), 'milliseconds'
 *	  in [1e11, 1e14) (both: the years 1973 to 5138); else they stay
 *	  numbers (a "response_time" of 120 is no timestamp);
 *	- objects and arrays → jsonb;
 *	- anything mixed → text; only nulls → text.
 *
 * IDENTIFICATION
 *		src/plan/infer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>

#include "mb/pg_wchar.h"

#include "plan/infer.h"

#define EPOCH_SECONDS_MIN		1e8
#define EPOCH_MILLIS_MIN		1e11
#define EPOCH_MILLIS_MAX		1e14

/*
 * InferGetField
 *		The field at json_path, created on first sight (which fixes its
 *		place in the column order).
 */
InferField *
InferGetField(InferSet *set, const char *json_path, const char *colname,
			  const char *name)
{
	ListCell   *lc;
	InferField *f;
	MemoryContext old;

	foreach(lc, set->fields)
	{
		f = (InferField *) lfirst(lc);
		if (strcmp(f->json_path, json_path) == 0)
			return f;
	}
	/* the set outlives the per-record memory a source calls us in */
	old = MemoryContextSwitchTo(GetMemoryChunkContext(set));
	f = palloc0(sizeof(InferField));
	f->json_path = pstrdup(json_path);
	f->colname = pstrdup(colname);
	f->name = pstrdup(name);
	f->minabs = INFINITY;
	set->fields = lappend(set->fields, f);
	MemoryContextSwitchTo(old);
	return f;
}

/*
 * InferAddTyped
 *		A field whose type a schema (not sampled values) gives.
 */
void
InferAddTyped(InferSet *set, const char *colname, const char *json_path,
			  const char *type)
{
	InferField *f = InferGetField(set, json_path, colname, colname);

	f->fixed_type = type;
}

void
InferNoteNull(InferField *f)
{
	f->nnull++;
}

void
InferNoteBool(InferField *f)
{
	f->nbool++;
}

void
InferNoteContainer(InferField *f)
{
	f->ncontainer++;
}

void
InferNoteFlattened(InferField *f)
{
	f->nflattened++;
}

/* Is s[0..len) a JSON number?  *integer: without fraction or exponent. */
static bool
is_number(const char *s, size_t len, bool *integer)
{
	size_t		i = 0;

	*integer = true;
	if (i < len && s[i] == '-')
		i++;
	if (i >= len || !isdigit((unsigned char) s[i]))
		return false;
	if (s[i] == '0')
		i++;
	else
		while (i < len && isdigit((unsigned char) s[i]))
			i++;
	if (i < len && s[i] == '.')
	{
		*integer = false;
		i++;
		if (i >= len || !isdigit((unsigned char) s[i]))
			return false;
		while (i < len && isdigit((unsigned char) s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		*integer = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !isdigit((unsigned char) s[i]))
			return false;
		while (i < len && isdigit((unsigned char) s[i]))
			i++;
	}
	return i == len;
}

/*
 * InferNoteNumber
 *		A number as written in the record (JSON number syntax).
 */
void
InferNoteNumber(InferField *f, const char *text, size_t len)
{
	char		buf[64];
	bool		integer;
	double		d;

	if (!is_number(text, len, &integer) || len >= sizeof(buf))
	{
		/* very long: more digits than any integer type or double keeps */
		f->nnumeric++;
		return;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';

	errno = 0;
	d = strtod(buf, NULL);
	if (errno == ERANGE && isinf(d))
	{
		f->nnumeric++;
		return;
	}
	d = fabs(d);
	f->minabs = Min(f->minabs, d);
	f->maxabs = Max(f->maxabs, d);

	if (!integer)
		f->nfloat++;
	else
	{
		long long	v;

		errno = 0;
		v = strtoll(buf, NULL, 10);
		if (errno == ERANGE)
			f->nnumeric++;
		else if (v >= PG_INT32_MIN && v <= PG_INT32_MAX)
			f->nint4++;
		else
			f->nint8++;
	}
}

static bool
digits(const char *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char) s[i]))
			return false;
	return true;
}

static int
two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * InferIsDate
 *		Is s[0..len) an ISO-8601 calendar date, YYYY-MM-DD, that exists?
 */
bool
InferIsDate(const char *s, size_t len)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			year;
	int			month;
	int			day;

	if (len != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
		s[7] != '-' || !digits(s + 8, 2))
		return false;
	year = atoi(s);				/* stops at the '-' */
	month = two(s + 5);
	day = two(s + 8);
	if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1])
		return false;
	if (month == 2 && day == 29 &&
		!((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return false;
	return true;
}

/*
 * An ISO-8601 timestamp: a date, 'T' or ' ', HH:MM[:SS[.fraction]], then
 * optionally 'Z' or an offset ±HH[[:]MM].
 */
static bool
is_timestamp(const char *s, size_t len)
{
	size_t		i;

	if (len < 16 || !InferIsDate(s, 10) || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return false;
	if (!digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
		two(s + 11) > 23 || two(s + 14) > 59)
		return false;
	i = 16;
	if (i < len && s[i] == ':')
	{
		if (i + 3 > len || !digits(s + i + 1, 2) || two(s + i + 1) > 60)
			return false;
		i += 3;
		if (i < len && s[i] == '.')
		{
			i++;
			if (i >= len || !isdigit((unsigned char) s[i]))
				return false;
			while (i < len && isdigit((unsigned char) s[i]))
				i++;
		}
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i < len && (s[i] == '+' || s[i] == '-'))
	{
		i++;
		if (i + 2 > len || !digits(s + i, 2) || two(s + i) > 15)
			return false;
		i += 2;
		if (i < len && s[i] == ':')
			i++;
		if (i < len)
		{
			if (i + 2 > len || !digits(s + i, 2) || two(s + i) > 59)
				return false;
			i += 2;
		}
	}
	return i == len;
}

/*
 * InferNoteString
 *		A JSON string value.
 */
void
InferNoteString(InferField *f, const char *s, size_t len)
{
	if (InferIsDate(s, len))
		f->ndate++;
	else if (is_timestamp(s, len))
		f->ntimestamp++;
	else
		f->nstring++;
}

/*
 * InferNoteText
 *		A CSV field (not null): numbers, booleans, dates and timestamps are
 *		recognised in their plain spelling only.
 */
void
InferNoteText(InferField *f, const char *s, size_t len)
{
	bool		integer;

	if (len > 0 && is_number(s, len, &integer))
		InferNoteNumber(f, s, len);
	else if ((len == 4 && pg_strncasecmp(s, "true", 4) == 0) ||
			 (len == 5 && pg_strncasecmp(s, "false", 5) == 0))
		f->nbool++;
	else
		InferNoteString(f, s, len);
}

/*
 * InferNotePartition
 *		One value of a name=value key segment.
 */
void
InferNotePartition(InferPartition *p, const char *value)
{
	size_t		len = strlen(value);
	size_t		i = (value[0] == '-') ? 1 : 0;
	bool		integer = len > i && len - i <= 19 && digits(value + i, len - i);

	if (p->nvalues == 0)
	{
		p->all_int4 = true;
		p->all_int8 = true;
		p->all_date = true;
	}
	p->nvalues++;
	if (integer)
	{
		long long	v;

		errno = 0;
		v = strtoll(value, NULL, 10);
		if (errno == ERANGE)
			p->all_int8 = false;
		if (errno == ERANGE || v < PG_INT32_MIN || v > PG_INT32_MAX)
			p->all_int4 = false;
	}
	else
	{
		p->all_int4 = false;
		p->all_int8 = false;
	}
	if (!InferIsDate(value, len))
		p->all_date = false;
}

/*
 * Does a field name read as a point in time?  The name is split into
 * words at '_', '-', '.' and lower-to-upper case changes ("eventTime");
 * its last word is ts, time, timestamp, epoch or at, or a unit (s, ms,
 * sec, millis, ...) after one of ts, time, timestamp, epoch.
 */
static bool
time_like_name(const char *name)
{
	static const char *const time_words[] = {"ts", "time", "timestamp", "epoch", NULL};
	static const char *const unit_words[] = {"s", "ms", "sec", "secs", "seconds",
	"msec", "millis", "milliseconds", NULL};
	char		words[2][32];
	int			nwords = 0;
	const char *p = name;
	int			i;

	memset(words, 0, sizeof(words));
	while (*p)
	{
		const char *start;
		size_t		n;

		while (*p == '_' || *p == '-' || *p == '.')
			p++;
		if (*p == '\0')
			break;
		start = p++;
		while (*p && *p != '_' && *p != '-' && *p != '.' &&
			   !(isupper((unsigned char) *p) && islower((unsigned char) p[-1])))
			p++;
		n = Min((size_t) (p - start), sizeof(words[0]) - 1);
		/* keep the last two words */
		memcpy(words[0], words[1], sizeof(words[0]));
		memset(words[1], 0, sizeof(words[1]));
		for (i = 0; i < (int) n; i++)
			words[1][i] = (char) tolower((unsigned char) start[i]);
		nwords++;
	}
	if (nwords == 0)
		return false;
	for (i = 0; time_words[i]; i++)
		if (strcmp(words[1], time_words[i]) == 0)
			return true;
	if (strcmp(words[1], "at") == 0 && nwords > 1)
		return true;
	if (nwords > 1)
	{
		int			j;

		for (i = 0; unit_words[i]; i++)
			if (strcmp(words[1], unit_words[i]) == 0)
				for (j = 0; time_words[j]; j++)
					if (strcmp(words[0], time_words[j]) == 0)
						return true;
	}
	return false;
}

/* The type (and epoch unit) the notes on f call for. */
static const char *
resolve_type(const InferField *f, bool allow_epoch, const char **epoch)
{
	int			nnumber = f->nint4 + f->nint8 + f->nnumeric + f->nfloat;
	int			nstr = f->ntimestamp + f->ndate + f->nstring;
	int			kinds;

	*epoch = NULL;
	if (f->fixed_type)
		return f->fixed_type;
	/* an object split into columns, but also seen as a scalar or array */
	if (f->ncontainer > 0 || f->nflattened > 0)
		return "jsonb";
	kinds = (f->nbool > 0) + (nnumber > 0) + (nstr > 0);
	if (kinds == 0 || kinds > 1)
		return "text";
	if (f->nbool > 0)
		return "boolean";
	if (nstr > 0)
	{
		if (f->nstring > 0)
			return "text";
		return f->ntimestamp > 0 ? "timestamp with time zone" : "date";
	}
	if (allow_epoch && f->nnumeric == 0 && time_like_name(f->name))
	{
		if (f->minabs >= EPOCH_SECONDS_MIN && f->maxabs < EPOCH_MILLIS_MIN)
			*epoch = "seconds";
		else if (f->minabs >= EPOCH_MILLIS_MIN && f->maxabs < EPOCH_MILLIS_MAX)
			*epoch = "milliseconds";
		if (*epoch)
			return "timestamp with time zone";
	}
	if (f->nnumeric > 0)
		return "numeric";
	if (f->nfloat > 0)
		return "double precision";
	if (f->nint8 > 0)
		return "bigint";
	return "integer";
}

/*
 * InferEscapePathSegment
 *		A member name as one segment of a json_path: '.' and '\' escaped.
 */
char *
InferEscapePathSegment(const char *name)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = name; *p; p++)
	{
		if (*p == '.' || *p == '\\')
			appendStringInfoChar(&buf, '\\');
		appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

static bool
name_taken(List *used, const char *name)
{
	ListCell   *lc;

	foreach(lc, used)
		if (pg_strcasecmp((const char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/*
 * A column name from want: at most NAMEDATALEN - 1 bytes (cut at a
 * character boundary) and unlike every name in *used, ignoring case, by
 * a suffix "_2", "_3", ... if need be.  Added to *used.
 */
static char *
unique_name(List **used, const char *want)
{
	int			len = strlen(want);
	char	   *name;
	int			n;

	if (len == 0)
		want = "column";
	name = pnstrdup(want, pg_mbcliplen(want, strlen(want), NAMEDATALEN - 1));
	for (n = 2; name_taken(*used, name); n++)
	{
		char		suffix[16];
		int			keep;

		snprintf(suffix, sizeof(suffix), "_%d", n);
		keep = pg_mbcliplen(want, strlen(want), NAMEDATALEN - 1 - strlen(suffix));
		name = psprintf("%.*s%s", keep, want, suffix);
	}
	*used = lappend(*used, name);
	return name;
}

/*
 * InferBuildColumns
 *		The table's columns: the data fields in order of first appearance,
 *		then the partition columns.  Partition columns keep their names; a
 *		data field of the same name (ignoring case) is renamed with a
 *		suffix, as is any later field whose name repeats an earlier one's.
 *		jsonl: a column whose name differs from its field's path gets a
 *		json_path option.  (csv columns are matched by position.)
 */
List *
InferBuildColumns(InferSet *set, List *partitions, bool jsonl)
{
	List	   *used = NIL;
	List	   *columns = NIL;
	List	   *pcols = NIL;
	ListCell   *lc;

	foreach(lc, partitions)
	{
		InferPartition *p = (InferPartition *) lfirst(lc);
		ImportColumn *col = palloc0(sizeof(ImportColumn));

		col->name = unique_name(&used, p->name);
		col->partition = p->name;
		if (p->nvalues > 0 && p->all_int4)
			col->type = "integer";
		else if (p->nvalues > 0 && p->all_int8)
			col->type = "bigint";
		else if (p->nvalues > 0 && p->all_date)
			col->type = "date";
		else
			col->type = "text";
		pcols = lappend(pcols, col);
	}

	foreach(lc, set->fields)
	{
		InferField *f = (InferField *) lfirst(lc);
		ImportColumn *col;

		/* a nested object only ever seen split into its fields */
		if (f->nflattened > 0 && f->nbool + f->nint4 + f->nint8 +
			f->nnumeric + f->nfloat + f->ntimestamp + f->ndate + f->nstring +
			f->ncontainer == 0)
			continue;
		col = palloc0(sizeof(ImportColumn));
		col->name = unique_name(&used, f->colname);
		col->type = resolve_type(f, set->allow_epoch, &col->epoch);
		if (jsonl && strcmp(col->name, f->json_path) != 0)
			col->json_path = f->json_path;
		columns = lappend(columns, col);
	}
	return list_concat(columns, pcols);
}
