// bench/duckdb_scan.mjs -- the DuckDB baseline of bench/run.sh.
//
//   node duckdb_scan.mjs RUNS CASE=PATH [CASE=PATH ...]
//   node duckdb_scan.mjs write-parquet CSV OUT
//
// Runs, in one in-memory DuckDB database with `SET threads=1`, the query of
// each CASE over the file at PATH, RUNS times, timing each run inside node
// (performance.now() around connection.run + reading every result row).
// Prints one tab-separated line per run to stdout:
//   CASE  RUN  SECONDS  RESULT
// where RESULT is the query's one row, columns joined by '|' (run.sh checks
// that every engine computed the same answer). CASE is one of the keys of
// QUERIES below; they are the same query shapes as bench/queries.sql.
//
// write-parquet (not timed) reads the bench CSV at CSV with the declared
// columns and writes it to OUT as Parquet: zstd, row groups of 100,000 rows,
// the 12 columns flat under the CSV's names.
import { DuckDBInstance } from '@duckdb/node-api';

// The JSONL and CSV columns, declared (as the foreign tables declare them) so
// that no time goes to schema sniffing and every engine reads the same types.
const JSON_COLUMNS = `{device_id: 'VARCHAR', ts: 'BIGINT', ts_ms: 'BIGINT',
  speed_kmh: 'DOUBLE', location: 'STRUCT(lat DOUBLE, lon DOUBLE)',
  fuel_level: 'DOUBLE', engine: 'STRUCT(rpm INTEGER, temp_c DOUBLE)',
  pressure_bar: 'DOUBLE', vibration_mm_s: 'DOUBLE', status: 'VARCHAR'}`;
const CSV_COLUMNS = `{device_id: 'VARCHAR', ts: 'BIGINT', ts_ms: 'BIGINT',
  speed_kmh: 'DOUBLE', lat: 'DOUBLE', lon: 'DOUBLE', fuel_level: 'DOUBLE',
  engine_rpm: 'INTEGER', engine_temp_c: 'DOUBLE', pressure_bar: 'DOUBLE',
  vibration_mm_s: 'DOUBLE', status: 'VARCHAR'}`;

const q = (s) => `'${s.replaceAll("'", "''")}'`;
const readJson = (p, comp) =>
  `read_json(${q(p)}, format = 'newline_delimited', compression = '${comp}', columns = ${JSON_COLUMNS})`;
const readCsv = (p) =>
  `read_csv(${q(p)}, header = true, auto_detect = false, columns = ${CSV_COLUMNS})`;
const readParquet = (p) => `read_parquet(${q(p)})`;

// 2 fields: the query every engine runs.
const AGG2_JSON = 'count(*), round(sum(speed_kmh), 2), max(engine.rpm)';
const AGG2_CSV = 'count(*), round(sum(speed_kmh), 2), max(engine_rpm)';
// 3 of the 12 fields (the Parquet projection case).
const AGG3_FLAT = 'count(*), round(sum(speed_kmh), 2), max(engine_rpm), max(ts)';
// all 12 fields.
const AGG12_JSON = `count(*), round(sum(speed_kmh), 2), max(engine.rpm), count(device_id),
  max(ts), max(ts_ms), round(sum(location.lat), 2), round(sum(location.lon), 2),
  round(sum(fuel_level), 2), max(engine.temp_c), round(sum(pressure_bar), 2),
  round(sum(vibration_mm_s), 2), count(status)`;
// all 12 fields, flat (CSV and Parquet).
const AGG12_FLAT = `count(*), round(sum(speed_kmh), 2), max(engine_rpm), count(device_id),
  max(ts), max(ts_ms), round(sum(lat), 2), round(sum(lon), 2),
  round(sum(fuel_level), 2), max(engine_temp_c), round(sum(pressure_bar), 2),
  round(sum(vibration_mm_s), 2), count(status)`;

const QUERIES = {
  duckdb_jsonl: (p) => `SELECT ${AGG2_JSON} FROM ${readJson(p, 'uncompressed')}`,
  duckdb_jsonl_gz: (p) => `SELECT ${AGG2_JSON} FROM ${readJson(p, 'gzip')}`,
  duckdb_jsonl_zst: (p) => `SELECT ${AGG2_JSON} FROM ${readJson(p, 'zstd')}`,
  duckdb_jsonl_12: (p) => `SELECT ${AGG12_JSON} FROM ${readJson(p, 'uncompressed')}`,
  duckdb_csv: (p) => `SELECT ${AGG2_CSV} FROM ${readCsv(p)}`,
  duckdb_parquet: (p) => `SELECT ${AGG2_CSV} FROM ${readParquet(p)}`,
  duckdb_parquet_3: (p) => `SELECT ${AGG3_FLAT} FROM ${readParquet(p)}`,
  duckdb_parquet_12: (p) => `SELECT ${AGG12_FLAT} FROM ${readParquet(p)}`,
};

function fmt(v) {
  if (v === null) return '';
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(2);
  return String(v);
}

async function writeParquet(csv, out) {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  await con.run(`COPY (SELECT * FROM ${readCsv(csv)}) TO ${q(out)}
                 (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`);
}

async function main() {
  const [runsArg, ...specs] = process.argv.slice(2);
  if (runsArg === 'write-parquet') {
    if (specs.length !== 2) {
      console.error('usage: node duckdb_scan.mjs write-parquet CSV OUT');
      process.exit(2);
    }
    await writeParquet(specs[0], specs[1]);
    return;
  }
  const runs = Number(runsArg);
  if (!Number.isInteger(runs) || runs < 1 || specs.length === 0) {
    console.error('usage: node duckdb_scan.mjs RUNS CASE=PATH [CASE=PATH ...]');
    process.exit(2);
  }
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  await con.run('SET threads = 1');
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = spec.slice(0, eq);
    const path = spec.slice(eq + 1);
    if (!(name in QUERIES)) {
      console.error(`duckdb_scan: unknown case ${name}`);
      process.exit(2);
    }
    const sql = QUERIES[name](path);
    for (let run = 1; run <= runs; run++) {
      const t0 = performance.now();
      const reader = await con.runAndReadAll(sql);
      const rows = reader.getRows();
      const secs = (performance.now() - t0) / 1000;
      const result = rows[0].map(fmt).join('|');
      process.stdout.write(`${name}\t${run}\t${secs.toFixed(4)}\t${result}\n`);
    }
  }
  con.closeSync?.();
}

main().catch((e) => {
  console.error(`duckdb_scan: ${e.message}`);
  process.exit(1);
});
