// test/gen_parquet.mjs -- the Parquet files of the regression tests, written
// by DuckDB, and the rows PostgreSQL must read from them.
//
//   node test/gen_parquet.mjs OUT_DIR [--describe]
//
// Builds one data set of ROWS rows in DuckDB SQL (arithmetic on the row
// number only, so every run writes the same bytes), with a column of every
// type the reader converts, each with NULLs except id.  Writes it as
//   OUT_DIR/<variant>/part-0.parquet    one per entry of VARIANTS (codec,
//                                       page format, dictionary, row group
//                                       size; the brotli ones hold the first
//                                       8,192 rows), and part-0..2 for the
//                                       multi-file variant
//   OUT_DIR/expected.csv                the same rows as PostgreSQL's COPY
//                                       (FORMAT csv, HEADER) reads them into
//                                       the table of sql/parquet.sql
// then reads every file back with read_parquet, and expected.csv with
// read_csv, and checks row count and checksum (the sum of the rows' hashes)
// against the rows they were written from.  Prints nothing on success;
// any difference is an error (exit 1).  --describe also prints, per
// variant, what parquet_metadata() says (codec, encodings, row groups).
//
// Mapping to PostgreSQL in expected.csv: unsigned integers as decimal text,
// blobs as '\x<hex>' (bytea input), uuid as text, timestamp_ms as timestamp,
// timestamp_ns truncated to microseconds (all are after 1970, so truncation
// and floor agree), timestamptz as UTC '... +00', lists, structs and maps as
// to_json() text (jsonb in PostgreSQL).
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROWS = 60000;

// Hash-free scatter: k is a permutation of 0..ROWS-1 (7919 is prime, coprime
// to 60,000); multiplications modulo 2^32 / 2^64 spread values over a type.
// Rows 2..7 carry the edge values of the types.  Each column has its own NULL
// pattern; c_map is also NULL for rows 28672..30719 (row group 14 whole in
// the rg2k variants: a chunk with no values).
const SOURCE = `
CREATE MACRO dec_text(n, d, s) AS
  (CASE WHEN n < 0 THEN '-' ELSE '' END) || (abs(n) // d)::VARCHAR || '.' ||
  lpad((abs(n) % d)::VARCHAR, s, '0');
CREATE TABLE src AS
SELECT
  i AS id,
  CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 7) % 3 = 0 END AS c_bool,
  (CASE WHEN i % 13 = 1 THEN NULL WHEN i = 2 THEN -128 WHEN i = 3 THEN 127
        ELSE (i * 37) % 256 - 128 END)::TINYINT AS c_tinyint,
  (CASE WHEN i % 14 = 2 THEN NULL WHEN i = 2 THEN -32768 WHEN i = 3 THEN 32767
        ELSE k % 65536 - 32768 END)::SMALLINT AS c_smallint,
  -- ascending with id (row group pruning): min at id 0, max at the last id
  (CASE WHEN i % 17 = 5 THEN NULL WHEN i = ${ROWS - 1} THEN 2147483647
        ELSE -2147483648 + i * 71582 END)::INTEGER AS c_int,
  (CASE WHEN i % 18 = 6 THEN NULL WHEN i = 2 THEN -9223372036854775808
        WHEN i = 3 THEN 9223372036854775807
        ELSE (k - 30000) * 307445734561825 END)::BIGINT AS c_bigint,
  (CASE WHEN i % 19 = 7 THEN NULL WHEN i = 3 THEN 255 ELSE (i * 31) % 256 END)::UTINYINT AS c_utinyint,
  (CASE WHEN i % 20 = 8 THEN NULL WHEN i = 3 THEN 65535 ELSE (i * 7919) % 65536 END)::USMALLINT AS c_usmallint,
  (CASE WHEN i % 21 = 9 THEN NULL WHEN i = 3 THEN 4294967295
        ELSE (i * 2654435761) % 4294967296 END)::UINTEGER AS c_uinteger,
  (CASE WHEN i % 22 = 10 THEN NULL WHEN i = 3 THEN 18446744073709551615::HUGEINT
        WHEN i = 4 THEN 9223372036854775808::HUGEINT
        ELSE (i::HUGEINT * 11400714819323198485) % 18446744073709551616 END)::UBIGINT AS c_ubigint,
  (CASE WHEN i % 23 = 11 THEN NULL WHEN i = 2 THEN 'nan'::FLOAT WHEN i = 3 THEN 'inf'::FLOAT
        WHEN i = 4 THEN '-inf'::FLOAT WHEN i = 5 THEN 3.4028235e38::FLOAT
        WHEN i = 6 THEN 1.1754944e-38::FLOAT
        ELSE ((i * 7) % 20001 - 10000) / 64.0 END)::FLOAT AS c_float,
  (CASE WHEN i % 24 = 12 THEN NULL WHEN i = 2 THEN 'nan'::DOUBLE WHEN i = 3 THEN 'inf'::DOUBLE
        WHEN i = 4 THEN '-inf'::DOUBLE WHEN i = 5 THEN 1.7976931348623157e308
        WHEN i = 6 THEN 2.2250738585072014e-308
        ELSE (k - 30000) / 7.0 * 1.1 END)::DOUBLE AS c_double,
  CASE WHEN i % 25 = 13 THEN NULL
       WHEN i % 6 = 0 THEN ''
       WHEN i % 6 = 1 THEN 'row-' || i
       WHEN i % 6 = 2 THEN 'München ' || (i % 50) || ' 日本語 🚗'
       WHEN i % 6 = 3 THEN 'quote " comma , backslash \\ ' || (i % 20)
       WHEN i % 6 = 4 THEN 'line' || chr(10) || 'break'
       ELSE repeat('x', (i % 300)::INTEGER) END AS c_varchar,
  CASE WHEN i % 26 = 14 THEN NULL WHEN i % 4 = 0 THEN ''::BLOB
       ELSE unhex(printf('%08x%02x', (i * 2654435761) % 4294967296, i % 256)) END AS c_blob,
  (CASE WHEN i % 27 = 15 THEN NULL WHEN i = 2 THEN '-9999999.99' WHEN i = 3 THEN '9999999.99'
        ELSE dec_text(((i * 7919) % 1999999999 - 999999999)::HUGEINT, 100, 2) END)::DECIMAL(9,2) AS c_dec9,
  (CASE WHEN i % 28 = 16 THEN NULL
        WHEN i = 2 THEN '-99999999999999.9999' WHEN i = 3 THEN '99999999999999.9999'
        ELSE dec_text((i::HUGEINT * 11400714819323198485) % 1999999999999999999 - 999999999999999999,
                      10000, 4) END)::DECIMAL(18,4) AS c_dec18,
  (CASE WHEN i % 29 = 17 THEN NULL
        WHEN i = 2 THEN '-9999999999999999999999999999.9999999999'
        WHEN i = 3 THEN '9999999999999999999999999999.9999999999'
        ELSE dec_text((k::HUGEINT * 1666666666666666666666666666666667) % 99999999999999999999999999999999999999
                      - 49999999999999999999999999999999999999, 10000000000, 10) END)::DECIMAL(38,10) AS c_dec38,
  CASE WHEN i % 30 = 18 THEN NULL WHEN i = 2 THEN DATE '0001-01-01' WHEN i = 3 THEN DATE '9999-12-31'
       WHEN i = 4 THEN DATE '1970-01-01' WHEN i = 5 THEN DATE '1969-12-31' WHEN i = 6 THEN DATE '2000-01-01'
       ELSE DATE '1970-01-01' + ((k * 37) % 80000 - 40000)::INTEGER END AS c_date,
  CASE WHEN i % 31 = 19 THEN NULL WHEN i = 2 THEN TIME '00:00:00' WHEN i = 3 THEN TIME '23:59:59.999999'
       ELSE TIME '00:00:00' + to_microseconds((i * 2654435761) % 86400000000) END AS c_time,
  -- ascending with id (row group pruning): one a minute from 2026-01-01
  CASE WHEN i % 32 = 20 THEN NULL
       ELSE TIMESTAMP '2026-01-01' + to_seconds(i * 60) + to_microseconds(k * 16) END AS c_ts,
  (CASE WHEN i % 33 = 21 THEN NULL
        ELSE TIMESTAMP '1960-01-01' + to_milliseconds((k * 2654435761) % 3153600000000) END)::TIMESTAMP_MS AS c_ts_ms,
  CASE WHEN i % 34 = 22 THEN NULL
       ELSE make_timestamp_ns((1000000000000000000 + (k::HUGEINT * 16666666666666667) % 1000000000000000000)::BIGINT)
       END AS c_ts_ns,
  (CASE WHEN i % 35 = 23 THEN NULL WHEN i = 2 THEN TIMESTAMP '1901-12-13 20:45:52.000001'
        ELSE TIMESTAMP '1990-01-01' + to_microseconds((k * 2654435761123) % 1577836800000000) END)::TIMESTAMPTZ AS c_tstz,
  (CASE WHEN i % 36 = 24 THEN NULL
        WHEN i = 2 THEN '00000000-0000-0000-0000-000000000000'
        WHEN i = 3 THEN 'ffffffff-ffff-ffff-ffff-ffffffffffff'
        ELSE printf('%08x-%04x-%04x-%04x-%012x', (i * 2654435761) % 4294967296, k % 65536,
                    (i * 31) % 65536, (i * 7919) % 65536,
                    ((i::HUGEINT * 11400714819323198485) % 281474976710656)::BIGINT) END)::UUID AS c_uuid,
  CASE WHEN i % 7 = 1 THEN NULL WHEN i % 7 = 0 THEN []::INTEGER[]
       ELSE list_transform(range(i % 6), lambda x: CASE WHEN x = 2 AND i % 3 = 0 THEN NULL
                                                       ELSE ((x + 1) * k) % 100000 - 50000 END)::INTEGER[]
       END AS c_list,
  CASE WHEN i % 8 = 3 THEN NULL
       ELSE {'lat': CASE WHEN i % 9 = 4 THEN NULL ELSE ((k * 7) % 11520 - 5760) / 64.0 END,
             'lon': ((k * 13) % 23040 - 11520) / 64.0,
             'name': CASE WHEN i % 10 = 5 THEN NULL ELSE 'site-' || (i % 100) END}
       END::STRUCT(lat DOUBLE, lon DOUBLE, name VARCHAR) AS c_struct,
  CASE WHEN i % 5 = 4 OR i BETWEEN 28672 AND 30719 THEN NULL WHEN i % 5 = 0 THEN MAP {}
       ELSE map_from_entries(list_transform(range(i % 5), lambda x: {'key': 'k' || x,
              'value': CASE WHEN x = 1 AND i % 2 = 0 THEN NULL ELSE (i * (x + 1)) % 1000 END}))
       END::MAP(VARCHAR, INTEGER) AS c_map
FROM (SELECT range AS i, (range * 7919) % ${ROWS} AS k FROM range(${ROWS}));
ALTER TABLE src ALTER COLUMN id SET NOT NULL;
`;

// The rows as PostgreSQL reads them (types of pq_expected in sql/parquet.sql).
const EXPECTED = `
SELECT id, c_bool, c_tinyint, c_smallint, c_int, c_bigint, c_utinyint, c_usmallint,
       c_uinteger, c_ubigint::VARCHAR AS c_ubigint, c_float, c_double, c_varchar,
       '\\x' || lower(hex(c_blob)) AS c_blob, c_dec9, c_dec18, c_dec38, c_date, c_time, c_ts,
       c_ts_ms::TIMESTAMP AS c_ts_ms, make_timestamp(epoch_ns(c_ts_ns) // 1000) AS c_ts_ns,
       strftime(c_tstz, '%Y-%m-%d %H:%M:%S.%f+00') AS c_tstz, c_uuid::VARCHAR AS c_uuid,
       to_json(c_list)::VARCHAR AS c_list, to_json(c_struct)::VARCHAR AS c_struct,
       to_json(c_map)::VARCHAR AS c_map
  FROM src`;
// How read_csv reads expected.csv back: the types of EXPECTED's columns.
const EXPECTED_COLUMNS = `{id: 'BIGINT', c_bool: 'BOOLEAN', c_tinyint: 'TINYINT',
  c_smallint: 'SMALLINT', c_int: 'INTEGER', c_bigint: 'BIGINT', c_utinyint: 'UTINYINT',
  c_usmallint: 'USMALLINT', c_uinteger: 'UINTEGER', c_ubigint: 'VARCHAR', c_float: 'FLOAT',
  c_double: 'DOUBLE', c_varchar: 'VARCHAR', c_blob: 'VARCHAR', c_dec9: 'DECIMAL(9,2)',
  c_dec18: 'DECIMAL(18,4)', c_dec38: 'DECIMAL(38,10)', c_date: 'DATE', c_time: 'TIME',
  c_ts: 'TIMESTAMP', c_ts_ms: 'TIMESTAMP', c_ts_ns: 'TIMESTAMP', c_tstz: 'VARCHAR',
  c_uuid: 'VARCHAR', c_list: 'VARCHAR', c_struct: 'VARCHAR', c_map: 'VARCHAR'}`;

// The variants: not the cross product, a covering set.  Every codec in both
// page formats, dictionary on and off in both, every row group size in both.
// DuckDB's ROW_GROUP_SIZE cannot go below its vector size (2,048 rows: a
// smaller value gives 2,048), hence rg2k rather than 1,000.  v2 writes
// DataPageV2 pages and DELTA_BINARY_PACKED / DELTA_LENGTH_BYTE_ARRAY /
// BYTE_STREAM_SPLIT where v1 writes PLAIN; DICTIONARY_SIZE_LIMIT 0 turns
// dictionary pages off (there is no boolean switch).  DuckDB's brotli has no
// level setting and writes about 0.7 MB/s here, so the brotli variants hold
// only the first BROTLI_ROWS rows (ids 0..8191).
const BROTLI_ROWS = 8192;
const VARIANTS = [
  ['v1-uncompressed-dict-rg10k', 'uncompressed', 'V1', true, 10000],
  ['v1-snappy-dict-rg100k', 'snappy', 'V1', true, 100000],
  ['v1-gzip-nodict-rg10k', 'gzip', 'V1', false, 10000],
  ['v1-zstd-dict-rg2k', 'zstd', 'V1', true, 2048],
  ['v1-lz4-nodict-rg100k', 'lz4_raw', 'V1', false, 100000],
  ['v1-brotli-dict-rg10k', 'brotli', 'V1', true, 10000],
  ['v2-uncompressed-nodict-rg10k', 'uncompressed', 'V2', false, 10000],
  ['v2-snappy-dict-rg2k', 'snappy', 'V2', true, 2048],
  ['v2-gzip-dict-rg100k', 'gzip', 'V2', true, 100000],
  ['v2-zstd-nodict-rg100k', 'zstd', 'V2', false, 100000],
  ['v2-lz4-dict-rg10k', 'lz4_raw', 'V2', true, 10000],
  ['v2-brotli-nodict-rg2k', 'brotli', 'V2', false, 2048],
];
// Three files of 20,000 rows each (ids in order), one prefix.
const MULTI = ['v2-zstd-dict-rg10k-3files', 'zstd', 'V2', true, 10000];
const MULTI_FILES = 3;

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

function copyOptions([, codec, version, dict, rg]) {
  const o = [`FORMAT parquet`, `COMPRESSION ${codec}`, `PARQUET_VERSION ${version}`,
             `ROW_GROUP_SIZE ${rg}`];
  if (!dict)
    o.push('DICTIONARY_SIZE_LIMIT 0');
  return o.join(', ');
}

async function main() {
  const args = process.argv.slice(2);
  const describe = args.includes('--describe');
  const rest = args.filter((a) => a !== '--describe');
  if (rest.length !== 1) {
    console.error('usage: node gen_parquet.mjs OUT_DIR [--describe]');
    process.exit(2);
  }
  const out = resolve(rest[0]);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const rows = async (sql) => (await con.runAndReadAll(sql)).getRows();
  const one = async (sql) => (await rows(sql))[0];
  // One thread: the row groups are cut the same way on every run.
  await con.run("SET threads = 1; SET TimeZone = 'UTC'");
  await con.run(SOURCE);

  const files = [];
  for (const v of VARIANTS) {
    mkdirSync(join(out, v[0]));
    const f = join(out, v[0], 'part-0.parquet');
    const n = v[1] === 'brotli' ? BROTLI_ROWS : ROWS;
    await con.run(`COPY (FROM src WHERE id < ${n} ORDER BY id) TO ${sqlString(f)} (${copyOptions(v)})`);
    files.push([v[0], f, n]);
  }
  mkdirSync(join(out, MULTI[0]));
  const per = ROWS / MULTI_FILES;
  for (let p = 0; p < MULTI_FILES; p++) {
    const f = join(out, MULTI[0], `part-${p}.parquet`);
    await con.run(`COPY (FROM src WHERE id >= ${p * per} AND id < ${(p + 1) * per} ORDER BY id)
                   TO ${sqlString(f)} (${copyOptions(MULTI)})`);
  }
  files.push([MULTI[0], join(out, MULTI[0], '*.parquet'), ROWS]);

  const csv = join(out, 'expected.csv');
  await con.run(`COPY (${EXPECTED} ORDER BY id) TO ${sqlString(csv)} (FORMAT csv, HEADER true)`);

  // The checks, on both cores: every file holds exactly its source rows, and
  // expected.csv reads back as the rows it was written from.  The checksum
  // is over EXPECTED's projection, which gives every engine's types one text
  // form (read_parquet reads TIMESTAMP_MS back as TIMESTAMP, for one).
  await con.run('SET threads = 2');
  const errors = [];
  const sum = `count(*)::VARCHAR || '/' || sum(hash(*COLUMNS(*)))::VARCHAR`;
  const sumOf = async (from) => (await one(`SELECT ${sum} FROM (${EXPECTED.replace('FROM src', `FROM ${from}`)})`))[0];
  const want = {};
  for (const [name, f, n] of files) {
    want[n] ??= await sumOf(`src WHERE id < ${n}`);
    const got = await sumOf(`read_parquet(${sqlString(f)})`);
    if (got !== want[n])
      errors.push(`${name}: count/checksum ${got}, want ${want[n]}`);
  }
  const rc = `read_csv(${sqlString(csv)}, header = true, auto_detect = false,
                       allow_quoted_nulls = false, columns = ${EXPECTED_COLUMNS})`;
  const gotCsv = (await one(`SELECT ${sum} FROM ${rc}`))[0];
  if (gotCsv !== want[ROWS])
    errors.push(`expected.csv: count/checksum ${gotCsv}, want ${want[ROWS]}`);
  // every column has NULLs, except id
  const cols = (await rows('DESCRIBE src')).map((r) => r[0]);
  const nulls = await one(`SELECT ${cols.map((c) => `count(*) - count(${c})`).join(', ')} FROM src`);
  cols.forEach((c, j) => {
    if ((c === 'id') !== (nulls[j] === 0n))
      errors.push(`column ${c}: ${nulls[j]} NULLs`);
  });

  if (describe) {
    for (const [name, f, n] of files) {
      const meta = await rows(`
        SELECT count(DISTINCT file_name || row_group_id), min(row_group_num_rows), max(row_group_num_rows),
               string_agg(DISTINCT compression, ','),
               (SELECT string_agg(e, ',' ORDER BY e) FROM (SELECT DISTINCT unnest(string_split(encodings, ', ')) e
                  FROM parquet_metadata(${sqlString(f)}))),
               count(dictionary_page_offset), count(*), sum(total_compressed_size)
          FROM parquet_metadata(${sqlString(f)})`);
      const [rg, rmin, rmax, codec, enc, dictChunks, chunks, bytes] = meta[0];
      console.log(`${name}: ${n} rows, ${rg} row groups of ${rmin}..${rmax} rows; ${codec}; ` +
                  `${dictChunks}/${chunks} column chunks with a dictionary page; ` +
                  `${bytes} bytes compressed; encodings ${enc}`);
    }
  }
  if (errors.length) {
    console.error('gen_parquet: ' + errors.join('\ngen_parquet: '));
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(`gen_parquet: ${e.message}`);
  process.exit(1);
});
