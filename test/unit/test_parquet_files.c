/*-------------------------------------------------------------------------
 *
 * test_parquet_files.c
 *		The Parquet reader against every file of apache/parquet-testing.
 *
 * For every file under parquet-testing/data: parse the footer, decode
 * every column chunk of every row group (CRCs checked), check the level
 * and value counts against the footer, assemble every top-level field as
 * JSON and check that each row parses as JSON.  Files on the KNOWN_REFUSED
 * list must fail with "unsupported: ..."; any other failure fails the
 * test.  Then:
 *
 * - values against the suite's expectations (*_expect.csv, the .md files)
 *	 and against facts about well-known files (alltypes_plain, ...);
 * - nested files against the JSON their docs describe;
 * - the corrupt-checksum files fail with check_crc and pass without;
 * - random corruption of column chunk bytes, and chunks cut short, a few
 *	 thousand trials: an error or a result, never a crash (run under
 *	 valgrind or ASan; TELEM_PQ_TRIALS sets the trials per file);
 * - the text forms of PqValueText on synthetic values.
 *
 * The data directory is argv[1], else $TELEM_SHARED/testdata/
 * parquet-testing/data, else ../shared/... from the repository root or
 * from test/unit.  Set TELEM_PQ_DUMP=1 to print every file's JSON rows.
 *
 * IDENTIFICATION
 *		test/unit/test_parquet_files.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "format/parquet/pq_internal.h"
#include "unit.h"

static char data_dir[4096];
static bool dump;

/*
 * Files the reader refuses, by name suffix, with the start of the message
 * it must give.
 */
static const struct
{
	const char *name;
	const char *message;
	const char *why;
}			known_refused[] = {
	{"encrypt_columns_and_footer.parquet.encrypted",
	"unsupported: encrypted footer", "modular encryption"},
	{"encrypt_columns_and_footer_aad.parquet.encrypted",
	"unsupported: encrypted footer", "modular encryption"},
	{"encrypt_columns_and_footer_bloom_filter.parquet.encrypted",
	"unsupported: encrypted footer", "modular encryption"},
	{"encrypt_columns_and_footer_ctr.parquet.encrypted",
	"unsupported: encrypted footer", "modular encryption"},
	{"encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted",
	"unsupported: encrypted footer", "modular encryption"},
	{"encrypt_columns_plaintext_footer.parquet.encrypted",
	"unsupported: encrypted column", "modular encryption (plaintext footer)"},
	{"external_key_material_java.parquet.encrypted",
	"unsupported: encrypted footer", "modular encryption"},
	{"uniform_encryption.parquet.encrypted",
	"unsupported: encrypted footer", "modular encryption"},
	{"large_string_map.brotli.parquet",
	"unsupported: ", "a page of over 1 GB (PQ_MAX_PAGE_SIZE)"},
};

/* ---- loading and decoding ---- */

typedef struct Loaded
{
	char		name[512];
	uint8_t    *buf;
	size_t		len;
	PqFile	   *pf;
} Loaded;

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf;
	long		n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t) n : 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t) n;
	return buf;
}

/* Parse the footer of buf[0..len). */
static PqFile *
parse_footer(const uint8_t *buf, size_t len, TelemError *err)
{
	int64_t		flen = PqFooterLength(buf, len, (int64_t) len, err);

	if (flen < 0)
		return NULL;
	return PqParseFooter(buf + len - PQ_TRAILER_SIZE - flen, (size_t) flen,
						 (int64_t) len, err);
}

static bool
load(const char *name, Loaded *l, TelemError *err)
{
	char		path[8192];

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	l->buf = read_file(path, &l->len);
	if (l->buf == NULL)
		return TelemSetError(err, TELEM_ERR_IO, "cannot read %s", path);
	l->pf = parse_footer(l->buf, l->len, err);
	return l->pf != NULL;
}

static void
unload(Loaded *l)
{
	if (l->pf)
		PqFileFree(l->pf);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* Bytes cut from the end of every chunk handed to the decoder (trials). */
static size_t truncate_by;

static PqColumnData *
decode(const Loaded *l, const uint8_t *buf, int rg, int leaf, bool crc,
	   TelemError *err)
{
	const PqColumnChunk *cc = &l->pf->row_groups[rg].columns[leaf];
	size_t		len = (size_t) cc->length;

	len -= truncate_by < len ? truncate_by : len;
	return PqDecodeChunk(l->pf, rg, leaf, buf + cc->start, len, crc, err);
}

/* Check the counts of one decoded chunk against the footer. */
static void
check_counts(const Loaded *l, int rg, const PqColumnData *d)
{
	const PqSchemaNode *leaf = d->leaf;
	const PqColumnChunk *cc = &l->pf->row_groups[rg].columns[leaf->leaf_index];
	int64_t		defined = 0;
	int64_t		i;

	CHECK(d->nlevels == cc->num_values, "%s %s: %lld levels, footer says %lld",
		  l->name, leaf->path, (long long) d->nlevels,
		  (long long) cc->num_values);
	if (leaf->max_rep == 0)
		CHECK(d->nlevels == l->pf->row_groups[rg].num_rows,
			  "%s %s: %lld levels for %lld rows", l->name, leaf->path,
			  (long long) d->nlevels,
			  (long long) l->pf->row_groups[rg].num_rows);
	for (i = 0; i < d->nlevels; i++)
		defined += leaf->max_def == 0 || d->def[i] == leaf->max_def;
	CHECK(defined == d->nvalues, "%s %s: %lld defined levels, %lld values",
		  l->name, leaf->path, (long long) defined, (long long) d->nvalues);
	if (cc->has_stats && cc->stats.has_null_count && leaf->max_rep == 0)
		CHECK(cc->stats.null_count == d->nlevels - d->nvalues,
			  "%s %s: null count %lld, decoded %lld", l->name, leaf->path,
			  (long long) cc->stats.null_count,
			  (long long) (d->nlevels - d->nvalues));
}

/*
 * Decode every chunk of row group rg of buf (l's file or a corrupted
 * copy) and assemble every top-level field.  With check, check counts
 * and JSON validity.  On failure err is set and false returned.
 */
static bool
decode_row_group(const Loaded *l, const uint8_t *buf, int rg, bool crc,
				 bool check, TelemError *err)
{
	const PqFile *pf = l->pf;
	PqColumnData **cols = calloc(pf->nleaves > 0 ? pf->nleaves : 1,
								 sizeof(PqColumnData *));
	bool		ok = true;
	int			i;

	for (i = 0; i < pf->nleaves && ok; i++)
	{
		cols[i] = decode(l, buf, rg, i, crc, err);
		if (cols[i] == NULL)
			ok = false;
		else if (check)
			check_counts(l, rg, cols[i]);
	}
	for (i = 0; i < pf->root->nchildren && ok; i++)
	{
		const PqSchemaNode *top = pf->root->children[i];
		PqJsonRows  rows;
		int64_t		r;

		if (!PqAssembleJson(top, cols + top->first_leaf,
							pf->row_groups[rg].num_rows, &rows, err))
		{
			ok = false;
			break;
		}
		for (r = 0; check && r < rows.nrows; r++)
		{
			const char *s = rows.text.data ? rows.text.data + rows.offsets[r] : "";
			size_t		n = rows.offsets[r + 1] - rows.offsets[r];
			cJSON	   *j;

			if (rows.isnull[r])
			{
				CHECK(n == 0, "%s %s row %lld: null with text", l->name,
					  top->path, (long long) r);
				if (dump)
					printf("  %s[%lld] NULL\n", top->path, (long long) r);
				continue;
			}
			j = cJSON_ParseWithLength(s, n);
			CHECK(j != NULL, "%s %s row %lld: invalid JSON: %.*s", l->name,
				  top->path, (long long) r, (int) (n > 300 ? 300 : n), s);
			cJSON_Delete(j);
			if (dump)
				printf("  %s[%lld] %.*s\n", top->path, (long long) r,
					   (int) (n > 400 ? 400 : n), s);
		}
		PqJsonRowsFree(&rows);
	}
	for (i = 0; i < pf->nleaves; i++)
		PqColumnDataFree(cols[i]);
	free(cols);
	return ok;
}

static bool
decode_all(const Loaded *l, const uint8_t *buf, bool crc, bool check,
		   TelemError *err)
{
	int			rg;

	for (rg = 0; rg < l->pf->nrow_groups; rg++)
		if (!decode_row_group(l, buf, rg, crc, check, err))
			return false;
	return true;
}

/* ---- values as text ---- */

/*
 * The values of flat leaf path over all row groups as text, one per line,
 * "\N" for null (malloc'd), or NULL on error.
 */
static char *
column_text(const Loaded *l, const char *path, bool json)
{
	const PqSchemaNode *n = PqFindPath(l->pf, path);
	PqBuf		b = {0};
	int			rg;
	TelemError	err = {0};

	if (n == NULL)
	{
		/* delta_encoding_required_column's names end in ':' */
		char		alt[512];

		snprintf(alt, sizeof(alt), "%s:", path);
		n = PqFindPath(l->pf, alt);
	}

	if (n == NULL || n->is_group)
	{
		fprintf(stderr, "%s: no leaf %s\n", l->name, path);
		return NULL;
	}
	for (rg = 0; rg < l->pf->nrow_groups; rg++)
	{
		PqColumnData *d = decode(l, l->buf, rg, n->leaf_index, true, &err);
		int64_t		i,
					v = 0;
		size_t		vsize = PqValueSize(n->type);

		if (d == NULL)
		{
			fprintf(stderr, "%s %s: %s\n", l->name, path, err.message);
			PqBufFree(&b);
			return NULL;
		}
		for (i = 0; i < d->nlevels; i++)
		{
			if (n->max_def > 0 && d->def[i] != n->max_def)
				PqBufAppend(&b, "\\N", 2);
			else
				PqValueText(n, (const uint8_t *) d->values + vsize * v++,
							json, &b);
			PqBufAppend(&b, "\n", 1);
		}
		PqColumnDataFree(d);
	}
	PqBufAppend(&b, "", 1);
	return b.data;
}

/* JSON of top-level field name, rows joined by "\n", null rows "NULL". */
static char *
field_json(const Loaded *l, const char *name)
{
	const PqSchemaNode *top = PqFindPath(l->pf, name);
	PqBuf		b = {0};
	TelemError	err = {0};
	int			rg;
	int			i;

	if (top == NULL)
		return NULL;
	for (rg = 0; rg < l->pf->nrow_groups; rg++)
	{
		PqColumnData **cols = calloc(top->nleaves, sizeof(PqColumnData *));
		PqJsonRows	rows;
		int64_t		r;
		bool		ok = true;

		for (i = 0; i < top->nleaves && ok; i++)
			ok = (cols[i] = decode(l, l->buf, rg, top->first_leaf + i, true,
								   &err)) != NULL;
		if (ok)
			ok = PqAssembleJson(top, cols, l->pf->row_groups[rg].num_rows,
								&rows, &err);
		for (i = 0; i < top->nleaves; i++)
			PqColumnDataFree(cols[i]);
		free(cols);
		if (!ok)
		{
			fprintf(stderr, "%s %s: %s\n", l->name, name, err.message);
			PqBufFree(&b);
			return NULL;
		}
		for (r = 0; r < rows.nrows; r++)
		{
			if (rows.isnull[r])
				PqBufAppend(&b, "NULL", 4);
			else
				PqBufAppend(&b, rows.text.data ? rows.text.data + rows.offsets[r] : "",
							rows.offsets[r + 1] - rows.offsets[r]);
			PqBufAppend(&b, "\n", 1);
		}
		PqJsonRowsFree(&rows);
	}
	PqBufAppend(&b, "", 1);
	return b.data;
}

static void
expect_column(const Loaded *l, const char *path, bool json, const char *want)
{
	char	   *got = column_text(l, path, json);
	char		label[700];

	snprintf(label, sizeof(label), "%s %s", l->name, path);
	CHECK_STREQ(got, want, label);
	free(got);
}

static void
expect_json(const Loaded *l, const char *name, const char *want)
{
	char	   *got = field_json(l, name);
	char		label[700];

	snprintf(label, sizeof(label), "%s %s (json)", l->name, name);
	CHECK_STREQ(got, want, label);
	free(got);
}

/* ---- every file ---- */

static int	nfiles;

static int
refused_index(const char *name)
{
	size_t		i;
	size_t		n = strlen(name);

	for (i = 0; i < sizeof(known_refused) / sizeof(known_refused[0]); i++)
	{
		size_t		m = strlen(known_refused[i].name);

		if (n >= m && strcmp(name + n - m, known_refused[i].name) == 0 &&
			(n == m || name[n - m - 1] == '/'))
			return (int) i;
	}
	return -1;
}

static void
check_one_file(const char *name)
{
	Loaded		l;
	TelemError	err = {0};
	bool		ok;
	int			ri = refused_index(name);

	nfiles++;
	if (dump)
		printf("== %s\n", name);
	ok = load(name, &l, &err);
	if (ok)
	{
		/* the corrupt-checksum files are checked on their own */
		bool		crc = strstr(name, "corrupt-checksum") == NULL;

		ok = decode_all(&l, l.buf, crc, true, &err);
	}
	if (ri >= 0)
	{
		CHECK(!ok && strncmp(err.message, known_refused[ri].message,
							 strlen(known_refused[ri].message)) == 0,
			  "%s should be refused with \"%s...\", got %s", name,
			  known_refused[ri].message, ok ? "success" : err.message);
		if (!ok)
			printf("refused %s: %s\n", name, err.message);
	}
	else
		CHECK(ok, "%s: %s", name, err.message);
	unload(&l);
}

static void
walk(const char *sub)
{
	char		path[8192];
	DIR		   *dir;
	struct dirent *e;
	char	  **names = NULL;
	int			n = 0,
				i;

	snprintf(path, sizeof(path), "%s%s%s", data_dir, *sub ? "/" : "", sub);
	dir = opendir(path);
	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL)
	{
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, sizeof(char *) * (n + 1));
		names[n] = malloc(strlen(sub) + strlen(e->d_name) + 2);
		sprintf(names[n], "%s%s%s", sub, *sub ? "/" : "", e->d_name);
		n++;
	}
	closedir(dir);
	for (i = 0; i < n; i++)
	{
		struct stat st;
		size_t		len = strlen(names[i]);

		snprintf(path, sizeof(path), "%s/%s", data_dir, names[i]);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			walk(names[i]);
		else if ((len > 8 && strcmp(names[i] + len - 8, ".parquet") == 0) ||
				 (len > 18 && strcmp(names[i] + len - 18, ".parquet.encrypted") == 0))
			check_one_file(names[i]);
		free(names[i]);
	}
	free(names);
}

/* ---- expectations ---- */

/* One CSV field at *p (RFC 4180 quoting); *null when empty and unquoted. */
static char *
csv_field(const char **p, bool *null, bool *eol)
{
	PqBuf		b = {0};
	const char *s = *p;

	*null = false;
	if (*s == '"')
	{
		s++;
		for (;;)
		{
			if (*s == '\0')
				break;
			if (*s == '"' && s[1] == '"')
			{
				PqBufAppend(&b, "\"", 1);
				s += 2;
				continue;
			}
			if (*s == '"')
			{
				s++;
				break;
			}
			PqBufAppend(&b, s, 1);
			s++;
		}
	}
	else
	{
		while (*s && *s != ',' && *s != '\n' && *s != '\r')
			PqBufAppend(&b, s++, 1);
		*null = b.len == 0;
	}
	if (*s == '\r')
		s++;
	*eol = (*s == '\n' || *s == '\0');
	if (*s)
		s++;
	*p = s;
	PqBufAppend(&b, "", 1);
	return b.data;
}

/*
 * Compare every column named in the CSV's header with the file's column of
 * that name (header names are trimmed).
 */
static void
check_expect_csv(const char *parquet, const char *csv)
{
	Loaded		l;
	TelemError	err = {0};
	char		path[8192];
	size_t		clen;
	char	   *text;
	const char *p;
	char	   *names[128];
	PqBuf		want[128];
	int			ncols = 0,
				i;
	bool		null,
				eol = false;

	snprintf(path, sizeof(path), "%s/%s", data_dir, csv);
	text = (char *) read_file(path, &clen);
	CHECK(text != NULL, "cannot read %s", path);
	if (text == NULL)
		return;
	text = realloc(text, clen + 1);
	text[clen] = '\0';
	if (!load(parquet, &l, &err))
	{
		CHECK(false, "%s: %s", parquet, err.message);
		free(text);
		unload(&l);
		return;
	}
	p = text;
	while (!eol && ncols < 128)
	{
		char	   *f = csv_field(&p, &null, &eol);
		char	   *t = f;

		while (*t == ' ')
			t++;
		names[ncols] = strdup(t);
		free(f);
		memset(&want[ncols], 0, sizeof(PqBuf));
		ncols++;
	}
	while (*p)
	{
		for (i = 0; i < ncols; i++)
		{
			char	   *f = csv_field(&p, &null, &eol);

			if (null)
				PqBufAppend(&want[i], "\\N", 2);
			else
				PqBufAppend(&want[i], f, strlen(f));
			PqBufAppend(&want[i], "\n", 1);
			free(f);
			if (eol && i + 1 < ncols)
			{
				CHECK(false, "%s: short line", csv);
				break;
			}
		}
	}
	for (i = 0; i < ncols; i++)
	{
		PqBufAppend(&want[i], "", 1);
		expect_column(&l, names[i], false, want[i].data);
		PqBufFree(&want[i]);
		free(names[i]);
	}
	unload(&l);
	free(text);
}

/* A timestamp of microseconds since 1970 as our text, via gmtime. */
static void
micros_text(int64_t us, char *out, size_t len)
{
	time_t		secs = (time_t) (us / 1000000);
	int64_t		frac = us % 1000000;
	struct tm	tm;
	char		f[16] = "";

	if (frac < 0)
	{
		frac += 1000000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	if (frac)
	{
		int			k;

		snprintf(f, sizeof(f), ".%06lld", (long long) frac);
		for (k = (int) strlen(f) - 1; f[k] == '0'; k--)
			f[k] = '\0';
	}
	snprintf(out, len, "%04lld-%02d-%02d %02d:%02d:%02d%s+00",
			 (long long) tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, f);
}

static void
check_known_values(void)
{
	Loaded		l;
	TelemError	err = {0};

	/* Impala's alltypes: 8 rows, and subsets of them in two others */
	if (load("alltypes_plain.parquet", &l, &err))
	{
		expect_column(&l, "id", false, "4\n5\n6\n7\n2\n3\n0\n1\n");
		expect_column(&l, "bool_col", false,
					  "true\nfalse\ntrue\nfalse\ntrue\nfalse\ntrue\nfalse\n");
		expect_column(&l, "tinyint_col", false, "0\n1\n0\n1\n0\n1\n0\n1\n");
		expect_column(&l, "bigint_col", false, "0\n10\n0\n10\n0\n10\n0\n10\n");
		expect_column(&l, "float_col", false,
					  "0\n1.1\n0\n1.1\n0\n1.1\n0\n1.1\n");
		expect_column(&l, "double_col", false,
					  "0\n10.1\n0\n10.1\n0\n10.1\n0\n10.1\n");
		/* "0", "1" as unannotated binary: bytea hex */
		expect_column(&l, "string_col", false,
					  "\\x30\n\\x31\n\\x30\n\\x31\n\\x30\n\\x31\n\\x30\n\\x31\n");
		expect_column(&l, "timestamp_col", false,
					  "2009-03-01 00:00:00+00\n2009-03-01 00:01:00+00\n"
					  "2009-04-01 00:00:00+00\n2009-04-01 00:01:00+00\n"
					  "2009-02-01 00:00:00+00\n2009-02-01 00:01:00+00\n"
					  "2009-01-01 00:00:00+00\n2009-01-01 00:01:00+00\n");
		expect_column(&l, "timestamp_col", true,
					  "\"2009-03-01 00:00:00+00\"\n\"2009-03-01 00:01:00+00\"\n"
					  "\"2009-04-01 00:00:00+00\"\n\"2009-04-01 00:01:00+00\"\n"
					  "\"2009-02-01 00:00:00+00\"\n\"2009-02-01 00:01:00+00\"\n"
					  "\"2009-01-01 00:00:00+00\"\n\"2009-01-01 00:01:00+00\"\n");
	}
	else
		CHECK(false, "alltypes_plain: %s", err.message);
	unload(&l);
	if (load("alltypes_plain.snappy.parquet", &l, &err))
	{
		expect_column(&l, "id", false, "6\n7\n");
		expect_column(&l, "bool_col", false, "true\nfalse\n");
		expect_column(&l, "double_col", false, "0\n10.1\n");
	}
	else
		CHECK(false, "alltypes_plain.snappy: %s", err.message);
	unload(&l);
	if (load("alltypes_dictionary.parquet", &l, &err))
	{
		expect_column(&l, "id", false, "0\n1\n");
		expect_column(&l, "bool_col", false, "true\nfalse\n");
		expect_column(&l, "timestamp_col", false,
					  "2009-01-01 00:00:00+00\n2009-01-01 00:01:00+00\n");
	}
	else
		CHECK(false, "alltypes_dictionary: %s", err.message);
	unload(&l);

	/* int96_from_spark.md: the microseconds the timestamps stand for */
	if (load("int96_from_spark.parquet", &l, &err))
	{
		static const int64_t us[] = {1704141296123456, 1704070800000000,
			253402225200000000, 1735599600000000, 0, 9089380393200000000};
		char		want[512] = "";
		int			i;

		for (i = 0; i < 6; i++)
		{
			char		t[64];

			if (i == 4)
				strcpy(t, "\\N");
			else
				micros_text(us[i], t, sizeof(t));
			strcat(want, t);
			strcat(want, "\n");
		}
		expect_column(&l, "a", false, want);
	}
	else
		CHECK(false, "int96_from_spark: %s", err.message);
	unload(&l);

	/* int32_with_null_pages.md: 1000 values, 275 nulls, min and max */
	if (load("int32_with_null_pages.parquet", &l, &err))
	{
		char	   *t = column_text(&l, "int32_field", false);
		int			nulls = 0,
					n = 0;
		long long	mn = INT64_MAX,
					mx = INT64_MIN;
		char	   *s;

		for (s = t; s && *s; s = strchr(s, '\n') + 1)
		{
			n++;
			if (s[0] == '\\')
				nulls++;
			else
			{
				long long	v = atoll(s);

				mn = v < mn ? v : mn;
				mx = v > mx ? v : mx;
			}
		}
		CHECK(n == 1000 && nulls == 275 && mn == -2136906554 && mx == 2145722375,
			  "int32_with_null_pages: %d values, %d nulls, %lld..%lld",
			  n, nulls, mn, mx);
		free(t);
	}
	else
		CHECK(false, "int32_with_null_pages: %s", err.message);
	unload(&l);

	/* fixed_length_byte_array.md: 1000 values, 105 nulls, 1..1000 BE */
	if (load("fixed_length_byte_array.parquet", &l, &err))
	{
		char	   *t = column_text(&l, "flba_field", false);
		int			nulls = 0,
					n = 0;
		bool		shape = true;
		char	   *s;

		for (s = t; s && *s; s = strchr(s, '\n') + 1)
		{
			n++;
			if (s[0] == '\\' && s[1] == 'N')
				nulls++;
			else
				shape &= strncmp(s, "\\x0000", 6) == 0 && s[10] == '\n';
		}
		CHECK(n == 1000 && nulls == 105 && shape,
			  "fixed_length_byte_array: %d values, %d nulls", n, nulls);
		CHECK(t && strstr(t, "\\x000003e8\n") && strstr(t, "\\x00000001\n"),
			  "fixed_length_byte_array: min and max present");
		free(t);
	}
	else
		CHECK(false, "fixed_length_byte_array: %s", err.message);
	unload(&l);

	/* the BYTE_STREAM_SPLIT columns equal their PLAIN twins */
	if (load("byte_stream_split_extended.gzip.parquet", &l, &err))
	{
		static const char *const pairs[] = {"float16", "float", "double",
		"int32", "int64", "flba5", "decimal"};
		int			i;

		for (i = 0; i < 7; i++)
		{
			char		a[64],
						b[64];
			char	   *ta,
					   *tb;

			snprintf(a, sizeof(a), "%s_plain", pairs[i]);
			snprintf(b, sizeof(b), "%s_byte_stream_split", pairs[i]);
			ta = column_text(&l, a, false);
			tb = column_text(&l, b, false);
			CHECK(ta && tb && strcmp(ta, tb) == 0 && strlen(ta) > 200,
				  "byte_stream_split_extended: %s differs", pairs[i]);
			free(ta);
			free(tb);
		}
	}
	else
		CHECK(false, "byte_stream_split_extended: %s", err.message);
	unload(&l);

	/* float16 files: values listed in data/README.md */
	if (load("float16_nonzeros_and_nans.parquet", &l, &err))
		expect_column(&l, "x", false,
					  "\\N\n1\n-2\nNaN\n0\n-1\n-0\n2\n");
	unload(&l);
	if (load("float16_zeros_and_nans.parquet", &l, &err))
		expect_column(&l, "x", false, "\\N\n0\nNaN\n");
	unload(&l);

	/* concatenated_gzip_members: 513 UINT64 numbers, 1..513 */
	if (load("concatenated_gzip_members.parquet", &l, &err))
	{
		PqBuf		b = {0};
		int			i;
		char		t[16];
		char	   *got;

		for (i = 1; i <= 513; i++)
		{
			snprintf(t, sizeof(t), "%d\n", i);
			PqBufAppend(&b, t, strlen(t));
		}
		PqBufAppend(&b, "", 1);
		got = column_text(&l, "long_col", false);
		CHECK_STREQ(got, b.data, "concatenated_gzip_members long_col");
		free(got);
		PqBufFree(&b);
	}
	unload(&l);
}

static void
check_nested(void)
{
	Loaded		l;
	TelemError	err = {0};

	if (load("old_list_structure.parquet", &l, &err))
		expect_json(&l, "a", "[[1,2],[3,4]]\n");
	else
		CHECK(false, "old_list_structure: %s", err.message);
	unload(&l);

	if (load("map_no_value.parquet", &l, &err))
	{
		expect_json(&l, "my_map",
					"{\"1\":null,\"2\":null,\"3\":null}\n"
					"{\"4\":null,\"5\":null,\"6\":null}\n"
					"{\"7\":null,\"8\":null,\"9\":null}\n");
		expect_json(&l, "my_map_no_v",
					"{\"1\":null,\"2\":null,\"3\":null}\n"
					"{\"4\":null,\"5\":null,\"6\":null}\n"
					"{\"7\":null,\"8\":null,\"9\":null}\n");
		expect_json(&l, "my_list", "[1,2,3]\n[4,5,6]\n[7,8,9]\n");
	}
	else
		CHECK(false, "map_no_value: %s", err.message);
	unload(&l);

	/* {"emptylist":[]} */
	if (load("null_list.parquet", &l, &err))
		expect_json(&l, "emptylist", "[]\n");
	unload(&l);

	/* Presto's optional keys */
	if (load("incorrect_map_schema.parquet", &l, &err))
		expect_json(&l, "my_map", "{\"parent\":\"another\",\"name\":\"report\"}\n");
	unload(&l);

	/* pinned after checking them by hand against the writers' docs */
	if (load("nested_lists.snappy.parquet", &l, &err))
	{
		expect_json(&l, "a",
					"[[[\"a\",\"b\"],[\"c\"]],[null,[\"d\"]]]\n"
					"[[[\"a\",\"b\"],[\"c\",\"d\"]],[null,[\"e\"]]]\n"
					"[[[\"a\",\"b\"],[\"c\",\"d\"],[\"e\"]],[null,[\"f\"]]]\n");
		expect_json(&l, "b", "1\n1\n1\n");
	}
	unload(&l);
	if (load("nested_maps.snappy.parquet", &l, &err))
		expect_json(&l, "a",
					"{\"a\":{\"1\":true,\"2\":false}}\n"
					"{\"b\":{\"1\":true}}\n"
					"{\"c\":null}\n"
					"{\"d\":{}}\n"
					"{\"e\":{\"1\":true}}\n"
					"{\"f\":{\"3\":true,\"4\":false,\"5\":true}}\n");
	unload(&l);
	if (load("repeated_primitive_no_list.parquet", &l, &err))
	{
		expect_json(&l, "Int32_list", "[0,1,2,3]\n[]\n[4]\n[5,6,7,8]\n");
		expect_json(&l, "group_of_lists",
					"{\"Int32_list_in_group\":[0,1,2,3],\"String_list_in_group\":[\"foo\",\"zero\",\"one\",\"two\"]}\n"
					"{\"Int32_list_in_group\":[],\"String_list_in_group\":[\"three\"]}\n"
					"{\"Int32_list_in_group\":[4],\"String_list_in_group\":[\"four\"]}\n"
					"{\"Int32_list_in_group\":[5,6,7,8],\"String_list_in_group\":[\"five\",\"six\",\"seven\",\"eight\"]}\n");
	}
	unload(&l);
	if (load("repeated_no_annotation.parquet", &l, &err))
		expect_json(&l, "phoneNumbers",
					"NULL\nNULL\n{\"phone\":[]}\n"
					"{\"phone\":[{\"number\":5555555555,\"kind\":null}]}\n"
					"{\"phone\":[{\"number\":1111111111,\"kind\":\"home\"}]}\n"
					"{\"phone\":[{\"number\":1111111111,\"kind\":\"home\"},"
					"{\"number\":2222222222,\"kind\":null},"
					"{\"number\":3333333333,\"kind\":\"mobile\"}]}\n");
	unload(&l);
	if (load("nonnullable.impala.parquet", &l, &err))
	{
		expect_json(&l, "int_array_array", "[[-1,-2],[]]\n");
		expect_json(&l, "Int_Map", "{\"k1\":-1}\n");
		expect_json(&l, "int_map_array", "[{},{\"k1\":1},{},{}]\n");
		expect_json(&l, "nested_Struct",
					"{\"a\":-1,\"B\":[-1],\"c\":{\"D\":[[{\"e\":-1,"
					"\"f\":\"nonnullable\"}]]},\"G\":{}}\n");
	}
	unload(&l);
	if (load("nullable.impala.parquet", &l, &err))
	{
		expect_json(&l, "int_array",
					"[1,2,3]\n[null,1,2,null,3,null]\n[]\nNULL\nNULL\nNULL\nNULL\n");
		expect_json(&l, "int_array_Array",
					"[[1,2],[3,4]]\n[[null,1,2,null],[3,null,4],[],null]\n[null]\n"
					"[]\nNULL\nNULL\n[null,[5,6]]\n");
		expect_json(&l, "int_map",
					"{\"k1\":1,\"k2\":100}\n{\"k1\":2,\"k2\":null}\n{}\n{}\n{}\n"
					"NULL\n{\"k1\":null,\"k3\":null}\n");
	}
	unload(&l);
	if (load("list_columns.parquet", &l, &err))
	{
		expect_json(&l, "int64_list", "[1,2,3]\n[null,1]\n[4]\n");
		expect_json(&l, "utf8_list",
					"[\"abc\",\"efg\",\"hij\"]\nNULL\n[\"efg\",null,\"hij\",\"xyz\"]\n");
	}
	unload(&l);
	if (load("nulls.snappy.parquet", &l, &err))
		expect_json(&l, "b_struct",
					"{\"b_c_int\":null}\n{\"b_c_int\":null}\n"
					"{\"b_c_int\":null}\n{\"b_c_int\":null}\n"
					"{\"b_c_int\":null}\n{\"b_c_int\":null}\n"
					"{\"b_c_int\":null}\n{\"b_c_int\":null}\n");
	unload(&l);
}

/* The corrupt-checksum files fail with check_crc and pass without. */
static void
check_crc_files(void)
{
	static const char *const bad[] = {"datapage_v1-corrupt-checksum.parquet",
	"rle-dict-uncompressed-corrupt-checksum.parquet"};
	int			i;

	for (i = 0; i < 2; i++)
	{
		Loaded		l;
		TelemError	err = {0};

		if (!load(bad[i], &l, &err))
		{
			CHECK(false, "%s: %s", bad[i], err.message);
			unload(&l);
			continue;
		}
		CHECK(!decode_all(&l, l.buf, true, false, &err) &&
			  strstr(err.message, "page CRC mismatch at byte ") != NULL,
			  "%s with check_crc: %s", bad[i], err.message);
		err.message[0] = '\0';
		CHECK(decode_all(&l, l.buf, false, true, &err),
			  "%s without check_crc: %s", bad[i], err.message);
		unload(&l);
	}
}

/* ---- corruption ---- */

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
check_corruption(int trials_per_file)
{
	static const char *const files[] = {
		"alltypes_plain.parquet", "alltypes_dictionary.parquet",
		"alltypes_plain.snappy.parquet", "nested_lists.snappy.parquet",
		"nested_maps.snappy.parquet", "datapage_v2.snappy.parquet",
		"delta_length_byte_array.parquet", "nullable.impala.parquet",
		"rle_boolean_encoding.parquet", "fixed_length_decimal.parquet",
		"list_columns.parquet", "byte_stream_split.zstd.parquet",
		"lz4_raw_compressed.parquet", "hadoop_lz4_compressed.parquet",
		"map_no_value.parquet", "old_list_structure.parquet",
	};
	size_t		f;
	int			failures = 0,
				successes = 0;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++)
	{
		Loaded		l;
		TelemError	err = {0};
		uint8_t    *copy;
		int			t;
		int64_t		lo = INT64_MAX,
					hi = 0;
		int			rg,
					c;

		if (!load(files[f], &l, &err))
		{
			CHECK(false, "%s: %s", files[f], err.message);
			unload(&l);
			continue;
		}
		for (rg = 0; rg < l.pf->nrow_groups; rg++)
			for (c = 0; c < l.pf->nleaves; c++)
			{
				const PqColumnChunk *cc = &l.pf->row_groups[rg].columns[c];

				lo = cc->start < lo ? cc->start : lo;
				hi = cc->start + cc->length > hi ? cc->start + cc->length : hi;
			}
		copy = malloc(l.len);
		for (t = 0; t < trials_per_file && hi > lo; t++)
		{
			int			nflips = 1 + (int) (rng() % 4);
			int			k;

			memcpy(copy, l.buf, l.len);
			for (k = 0; k < nflips; k++)
			{
				size_t		at = (size_t) lo + rng() % (uint64_t) (hi - lo);

				if (rng() % 2)
					copy[at] = (uint8_t) rng();
				else
					copy[at] ^= (uint8_t) (1u << (rng() % 8));
			}
			/* every fourth trial also cuts the chunks short */
			truncate_by = t % 4 == 3 ? 1 + rng() % 64 : 0;
			if (decode_all(&l, copy, t % 2 == 0, false, &err))
				successes++;
			else
				failures++;
			truncate_by = 0;
		}
		free(copy);
		unload(&l);
	}
	CHECK(failures + successes > 0, "corruption trials ran");
	printf("corruption: %d trials, %d decoded, %d errors\n",
		   failures + successes, successes, failures);
}

/* ---- PqValueText on synthetic values ---- */

static void
expect_text(const PqSchemaNode *n, const void *v, bool json, const char *want)
{
	PqBuf		b = {0};
	char		label[128];

	PqValueText(n, v, json, &b);
	PqBufAppend(&b, "", 1);
	snprintf(label, sizeof(label), "PqValueText %s", want);
	CHECK_STREQ(b.data, want, label);
	PqBufFree(&b);
}

static void
check_value_text(void)
{
	PqSchemaNode n;
	PqBytes		bytes;
	int32_t		i32;
	int64_t		i64;
	double		dbl;
	float		flt;
	uint8_t		raw[40];
	PqInt96		i96;

	memset(&n, 0, sizeof(n));
	n.name = n.path = "x";
	n.leaf_index = 0;

	/* DECIMAL */
	n.type = PQ_INT32;
	n.logical = PQL_DECIMAL;
	n.scale = 3;
	i32 = -12340;
	expect_text(&n, &i32, false, "-12.340");
	i32 = 5;
	expect_text(&n, &i32, false, "0.005");
	expect_text(&n, &i32, true, "0.005");
	i32 = -5;
	expect_text(&n, &i32, false, "-0.005");
	n.type = PQ_INT64;
	n.scale = 0;
	i64 = INT64_MIN;
	expect_text(&n, &i64, false, "-9223372036854775808");
	n.type = PQ_FIXED_LEN_BYTE_ARRAY;
	n.scale = 2;
	/* -1 in 16 bytes */
	memset(raw, 0xFF, 16);
	bytes.ptr = raw;
	bytes.len = 16;
	expect_text(&n, &bytes, false, "-0.01");
	/* 2^127 - 1 */
	memset(raw, 0xFF, 16);
	raw[0] = 0x7F;
	n.scale = 0;
	expect_text(&n, &bytes, false, "170141183460469231731687303715884105727");
	/* -2^127 */
	memset(raw, 0, 16);
	raw[0] = 0x80;
	n.scale = 38;
	expect_text(&n, &bytes, false, "-1.70141183460469231731687303715884105728");
	/* 10^20 = 0x56BC75E2D63100000, 9 bytes */
	{
		static const uint8_t ten20[] = {0x05, 0x6B, 0xC7, 0x5E, 0x2D, 0x63, 0x10, 0x00, 0x00};

		bytes.ptr = ten20;
		bytes.len = 9;
		n.scale = 20;
		expect_text(&n, &bytes, false, "1.00000000000000000000");
		n.scale = 0;
		expect_text(&n, &bytes, false, "100000000000000000000");
	}
	bytes.len = 0;
	expect_text(&n, &bytes, false, "0");

	/* floats: shortest round trip */
	n.logical = PQL_NONE;
	n.type = PQ_DOUBLE;
	dbl = 0.1;
	expect_text(&n, &dbl, false, "0.1");
	dbl = 1.0 / 3.0;
	expect_text(&n, &dbl, false, "0.3333333333333333");
	dbl = 5e-324;
	expect_text(&n, &dbl, false, "4.94065645841247e-324");
	dbl = NAN;
	expect_text(&n, &dbl, false, "NaN");
	expect_text(&n, &dbl, true, "\"NaN\"");
	dbl = -INFINITY;
	expect_text(&n, &dbl, false, "-Infinity");
	n.type = PQ_FLOAT;
	flt = 0.1f;
	expect_text(&n, &flt, false, "0.1");
	flt = 16777217.0f;
	expect_text(&n, &flt, false, "16777216");
	flt = 3.4028235e38f;
	expect_text(&n, &flt, false, "3.4028235e+38");

	/* FLOAT16 (little-endian) */
	n.type = PQ_FIXED_LEN_BYTE_ARRAY;
	n.type_length = 2;
	n.logical = PQL_FLOAT16;
	bytes.ptr = raw;
	bytes.len = 2;
	raw[0] = 0x66;
	raw[1] = 0x2E;				/* 0x2E66 = 0.0999755859375 */
	expect_text(&n, &bytes, false, "0.1");
	raw[0] = 0x01;
	raw[1] = 0x00;				/* smallest subnormal 2^-24 */
	expect_text(&n, &bytes, false, "6e-08");
	raw[0] = 0xFF;
	raw[1] = 0x7B;				/* 65504 */
	expect_text(&n, &bytes, false, "65504");
	raw[0] = 0x00;
	raw[1] = 0xFC;
	expect_text(&n, &bytes, true, "\"-Infinity\"");
	raw[0] = 0x01;
	raw[1] = 0x7E;
	expect_text(&n, &bytes, false, "NaN");
	raw[0] = 0x00;
	raw[1] = 0x3C;
	expect_text(&n, &bytes, false, "1");
	raw[0] = 0x01;
	raw[1] = 0x3C;				/* 1 + 2^-10 */
	expect_text(&n, &bytes, false, "1.001");

	/* UUID */
	n.type_length = 16;
	n.logical = PQL_UUID;
	{
		int			k;

		for (k = 0; k < 16; k++)
			raw[k] = (uint8_t) (k * 17);
	}
	bytes.len = 16;
	expect_text(&n, &bytes, false, "00112233-4455-6677-8899-aabbccddeeff");
	expect_text(&n, &bytes, true, "\"00112233-4455-6677-8899-aabbccddeeff\"");

	/* dates and times */
	n.type = PQ_INT32;
	n.logical = PQL_DATE;
	i32 = 0;
	expect_text(&n, &i32, false, "1970-01-01");
	i32 = 20778;
	expect_text(&n, &i32, false, "2026-11-21");
	i32 = -719528;				/* 0000-01-01 = 1 BC */
	expect_text(&n, &i32, false, "0001-01-01 BC");
	i32 = -719162;
	expect_text(&n, &i32, false, "0001-01-01");
	i32 = 11016;				/* 2000-02-29 */
	expect_text(&n, &i32, true, "\"2000-02-29\"");
	n.logical = PQL_TIME;
	i32 = 49500123;
	expect_text(&n, &i32, false, "13:45:00.123");
	n.type = PQ_INT64;
	n.unit = PQ_NANOS;
	i64 = INT64_C(49500123456789);
	expect_text(&n, &i64, false, "13:45:00.123456");
	n.logical = PQL_TIMESTAMP;
	n.unit = PQ_MICROS;
	n.adjusted_to_utc = true;
	i64 = INT64_C(1795268700123456);
	expect_text(&n, &i64, false, "2026-11-21 13:45:00.123456+00");
	n.adjusted_to_utc = false;
	i64 = -1;
	expect_text(&n, &i64, false, "1969-12-31 23:59:59.999999");
	n.unit = PQ_NANOS;
	expect_text(&n, &i64, false, "1969-12-31 23:59:59.999999");
	n.unit = PQ_MILLIS;
	i64 = 1500;
	expect_text(&n, &i64, false, "1970-01-01 00:00:01.5");
	i64 = INT64_MIN;
	{
		PqBuf		b = {0};

		PqValueText(&n, &i64, false, &b);
		CHECK(b.len > 10 && memcmp(b.data + b.len - 3, " BC", 3) == 0,
			  "INT64_MIN millis ends in BC");
		PqBufFree(&b);
	}
	n.type = PQ_INT96;
	i96.julian_day = 2440588;
	i96.nanos = UINT64_C(3723000000999);
	expect_text(&n, &i96, false, "1970-01-01 01:02:03+00");
	n.logical = PQL_NONE;
	/* INTEGER unsigned */
	n.type = PQ_INT32;
	n.logical = PQL_INTEGER;
	n.is_signed = false;
	n.bit_width = 32;
	i32 = -1;
	expect_text(&n, &i32, false, "4294967295");
	n.type = PQ_INT64;
	n.bit_width = 64;
	i64 = -1;
	expect_text(&n, &i64, false, "18446744073709551615");

	/* strings and bytes */
	n.type = PQ_BYTE_ARRAY;
	n.logical = PQL_STRING;
	bytes.ptr = (const uint8_t *) "a\"b\\c\n\x01\xC3\xA9\xFF\xE2\x82";
	bytes.len = 12;
	expect_text(&n, &bytes, true,
				"\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
	bytes.len = 6;
	expect_text(&n, &bytes, false, "a\"b\\c\n");
	n.logical = PQL_NONE;
	bytes.ptr = (const uint8_t *) "\x0a\x1b";
	bytes.len = 2;
	expect_text(&n, &bytes, false, "\\x0a1b");
	expect_text(&n, &bytes, true, "\"\\\\x0a1b\"");
	n.type = PQ_FIXED_LEN_BYTE_ARRAY;
	n.type_length = 12;
	n.logical = PQL_INTERVAL;
	memset(raw, 0, 12);
	raw[0] = 1;
	raw[4] = 2;
	raw[8] = 3;
	bytes.ptr = raw;
	bytes.len = 12;
	expect_text(&n, &bytes, false, "1 mons 2 days 00:00:00.003");
	n.type = PQ_BOOLEAN;
	n.logical = PQL_NONE;
	raw[0] = 1;
	expect_text(&n, raw, true, "true");
	raw[0] = 0;
	expect_text(&n, raw, false, "false");
}

static bool
find_data_dir(int argc, char **argv)
{
	static const char *const defaults[] = {
		"../shared/testdata/parquet-testing/data",
		"../../../shared/testdata/parquet-testing/data",
		"../../shared/testdata/parquet-testing/data",
	};
	const char *env = getenv("TELEM_SHARED");
	struct stat st;
	size_t		i;

	if (argc > 1)
		snprintf(data_dir, sizeof(data_dir), "%s", argv[1]);
	else if (env && *env)
		snprintf(data_dir, sizeof(data_dir), "%s/testdata/parquet-testing/data",
				 env);
	else
	{
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			if (stat(defaults[i], &st) == 0 && S_ISDIR(st.st_mode))
			{
				snprintf(data_dir, sizeof(data_dir), "%s", defaults[i]);
				break;
			}
	}
	return data_dir[0] && stat(data_dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int
main(int argc, char **argv)
{
	const char *trials = getenv("TELEM_PQ_TRIALS");

	dump = getenv("TELEM_PQ_DUMP") != NULL;
	check_value_text();
	if (!find_data_dir(argc, argv))
	{
		CHECK(false, "parquet-testing data not found (argv[1], TELEM_SHARED)");
		return unit_finish("test_parquet_files");
	}
	walk("");
	CHECK(nfiles >= 60, "only %d files found under %s", nfiles, data_dir);
	check_expect_csv("delta_binary_packed.parquet", "delta_binary_packed_expect.csv");
	check_expect_csv("delta_byte_array.parquet", "delta_byte_array_expect.csv");
	check_expect_csv("delta_encoding_optional_column.parquet",
					 "delta_encoding_optional_column_expect.csv");
	check_expect_csv("delta_encoding_required_column.parquet",
					 "delta_encoding_required_column_expect.csv");
	check_known_values();
	check_nested();
	check_crc_files();
	check_corruption(trials ? atoi(trials) : 250);
	return unit_finish("test_parquet_files");
}
