#!/usr/bin/env python3
"""bench/report.py -- turn bench/run.sh's timings into the table and ratios.

    report.py --results FILE --rows N --runs N --jsonl-bytes B --csv-bytes B
              --gz-bytes B --zst-bytes B --parquet-bytes B
              [--parquet-read-bytes B] [--info TEXT] [--markdown]

FILE has one line per timed run: CASE, RUN, SECONDS, RESULT (tab-separated;
RESULT is the query's row, columns joined by '|'). Prints, per case, the best
and median time, MB/s of *uncompressed* input (MB = 10^6 bytes: the JSONL for
JSONL cases, the CSV for CSV cases, whatever was actually read), rows/s from
the best time, then the ratios (baseline time / telem_fdw time, so > 1 means
telem_fdw is faster; some carry a target, shown as met or missed), and the
share of the Parquet file a 1-of-12-column query read (--parquet-read-bytes,
"Telem Bytes Read" of EXPLAIN ANALYZE). Parquet MB/s are of the file itself
(compressed columns). Exits 1 if engines disagree on the answer of a query
shape (a broken case, not a slow one: nothing here judges speed).
"""
import argparse
import math
import statistics
import sys

# case -> (description, input kind, query shape). Order = table order.
CASES = {
    "copy_csv": ("COPY csv -> UNLOGGED table", "csv", "agg2"),
    "file_fdw_csv": ("file_fdw, CSV", "csv", "agg2"),
    "duckdb_csv": ("DuckDB 1 thread, read_csv", "csv", "agg2"),
    "duckdb_jsonl": ("DuckDB 1 thread, read_json", "jsonl", "agg2"),
    "duckdb_jsonl_gz": ("DuckDB 1 thread, read_json .gz", "jsonl", "agg2"),
    "duckdb_jsonl_zst": ("DuckDB 1 thread, read_json .zst", "jsonl", "agg2"),
    "telem_jsonl": ("telem_fdw file, JSONL", "jsonl", "agg2"),
    "telem_jsonl_gz": ("telem_fdw file, JSONL .gz", "jsonl", "agg2"),
    "telem_jsonl_zst": ("telem_fdw file, JSONL .zst", "jsonl", "agg2"),
    "telem_s3_jsonl_zst": ("telem_fdw S3 (RGW), JSONL .zst", "jsonl", "agg2"),
    "telem_csv": ("telem_fdw file, CSV", "csv", "agg2"),
    "duckdb_parquet": ("DuckDB 1 thread, read_parquet", "parquet", "agg2"),
    "telem_parquet": ("telem_fdw file, Parquet", "parquet", "agg2"),
    "duckdb_parquet_3": ("DuckDB 1 thread, read_parquet, 3 fields", "parquet", "agg3"),
    "telem_parquet_3": ("telem_fdw file, Parquet, 3 fields", "parquet", "agg3"),
    "heap_3": ("heap table (no parsing), 3 fields", "heap", "agg3"),
    "telem_s3_parquet": ("telem_fdw S3 (RGW), Parquet", "parquet", "agg2"),
    "telem_jsonl_12": ("telem_fdw file, JSONL, 12 fields", "jsonl", "agg12"),
    "duckdb_jsonl_12": ("DuckDB 1 thread, read_json, 12 fields", "jsonl", "agg12"),
    "telem_csv_12": ("telem_fdw file, CSV, 12 fields", "csv", "agg12"),
    "file_fdw_csv_12": ("file_fdw, CSV, 12 fields", "csv", "agg12"),
    "duckdb_parquet_12": ("DuckDB 1 thread, read_parquet, 12 fields", "parquet", "agg12"),
    "telem_parquet_12": ("telem_fdw file, Parquet, 12 fields", "parquet", "agg12"),
    "heap": ("heap table (no parsing)", "heap", "agg2"),
    "heap_12": ("heap table (no parsing), 12 fields", "heap", "agg12"),
}

# (label, baseline case, telem case[, target]): baseline time / telem time;
# a target is the least ratio aimed at (reported, never enforced).
RATIOS = [
    ("telem JSONL vs COPY CSV", "copy_csv", "telem_jsonl"),
    ("telem JSONL, 12 fields vs COPY CSV (all 12 converted)", "copy_csv", "telem_jsonl_12"),
    ("telem JSONL .gz vs COPY CSV", "copy_csv", "telem_jsonl_gz"),
    ("telem JSONL .zst vs COPY CSV", "copy_csv", "telem_jsonl_zst"),
    ("telem S3 JSONL .zst vs COPY CSV", "copy_csv", "telem_s3_jsonl_zst"),
    ("telem JSONL vs file_fdw CSV", "file_fdw_csv", "telem_jsonl"),
    ("telem JSONL vs DuckDB read_json (1 thread)", "duckdb_jsonl", "telem_jsonl"),
    ("telem JSONL .gz vs DuckDB read_json .gz", "duckdb_jsonl_gz", "telem_jsonl_gz"),
    ("telem JSONL .zst vs DuckDB read_json .zst", "duckdb_jsonl_zst", "telem_jsonl_zst"),
    ("telem CSV vs file_fdw CSV", "file_fdw_csv", "telem_csv"),
    ("telem CSV 2 fields vs telem 12 fields", "telem_csv_12", "telem_csv"),
    ("telem CSV vs COPY CSV", "copy_csv", "telem_csv"),
    ("telem CSV vs DuckDB read_csv (1 thread)", "duckdb_csv", "telem_csv"),
    ("telem JSONL 2 fields vs telem 12 fields (field skipping)", "telem_jsonl_12", "telem_jsonl"),
    ("telem JSONL 12 fields vs DuckDB 12 fields", "duckdb_jsonl_12", "telem_jsonl_12"),
    ("telem CSV 12 fields vs file_fdw 12 fields", "file_fdw_csv_12", "telem_csv_12"),
    ("telem Parquet 12 fields vs DuckDB read_parquet 12 fields", "duckdb_parquet_12", "telem_parquet_12", 0.5),
    ("telem Parquet 3 of 12 fields vs DuckDB read_parquet 3 fields", "duckdb_parquet_3", "telem_parquet_3", 0.7),
    ("telem Parquet 2 fields vs DuckDB read_parquet 2 fields", "duckdb_parquet", "telem_parquet"),
    ("telem Parquet 3 fields vs heap table 3 fields (executor floor)", "heap_3", "telem_parquet_3"),
    ("telem Parquet 12 fields vs heap table 12 fields (executor floor)", "heap_12", "telem_parquet_12"),
    ("telem Parquet vs telem JSONL, same rows and query", "telem_jsonl", "telem_parquet", 3.0),
    ("telem Parquet 12 fields vs telem JSONL 12 fields", "telem_jsonl_12", "telem_parquet_12"),
    ("telem S3 Parquet vs telem S3 JSONL .zst", "telem_s3_jsonl_zst", "telem_s3_parquet"),
    ("telem S3 Parquet vs telem file Parquet", "telem_parquet", "telem_s3_parquet"),
]

# Parquet column pruning: the share of the file a 1-of-12-column query may read.
PARQUET_READ_TARGET = 0.25


def same_answer(a, b):
    fa, fb = a.split("|"), b.split("|")
    if len(fa) != len(fb):
        return False
    for x, y in zip(fa, fb):
        if x == y:
            continue
        try:  # float sums in a different order may differ in the last digit
            if math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=0.011):
                continue
        except ValueError:
            pass
        return False
    return True


def table(headers, rows, markdown):
    if markdown:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--runs", type=int, required=True)
    for k in ("jsonl", "csv", "gz", "zst", "parquet"):
        ap.add_argument(f"--{k}-bytes", type=int, required=True)
    ap.add_argument("--parquet-read-bytes", default="",
                    help="Telem Bytes Read of a 1-column Parquet query (empty: not measured)")
    ap.add_argument("--info", default="")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()

    times, answers = {}, {}
    with open(a.results) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            case, _run, secs = parts[:3]
            times.setdefault(case, []).append(float(secs))
            answers.setdefault(case, set()).add(parts[3] if len(parts) > 3 else "")

    in_bytes = {"jsonl": a.jsonl_bytes, "csv": a.csv_bytes, "parquet": a.parquet_bytes}
    best = {c: min(t) for c, t in times.items()}
    rows = []
    for case, (desc, kind, shape) in CASES.items():
        if case not in times:
            continue
        b, med = best[case], statistics.median(times[case])
        mbs = f"{in_bytes[kind] / 1e6 / b:.0f}" if kind in in_bytes else "-"
        rows.append([desc, kind, shape, f"{b:.3f}", f"{med:.3f}", mbs, f"{a.rows / b / 1e6:.2f}"])

    mb = lambda n: f"{n / 1e6:.1f} MB"
    print(f"\n## telem_fdw bench: {a.rows:,} rows, best and median of {a.runs} runs")
    if a.info:
        print(a.info)
    print(f"input: JSONL {mb(a.jsonl_bytes)} (gzip -6 {mb(a.gz_bytes)}, zstd -3 {mb(a.zst_bytes)}), "
          f"CSV {mb(a.csv_bytes)}, Parquet {mb(a.parquet_bytes)} (zstd); "
          f"MB/s = uncompressed MB (10^6 B) / best s (Parquet: file MB)\n")
    print(table(["case", "input", "query", "best s", "median s", "MB/s", "M rows/s"], rows, a.markdown))

    ratio_rows = []
    for label, base, telem, *target in RATIOS:
        if base in best and telem in best:
            r = best[base] / best[telem]
            goal = (f">= {target[0]:g}x: {'met' if r >= target[0] else 'missed'}"
                    if target else "")
            ratio_rows.append([label, f"{best[base]:.3f} / {best[telem]:.3f}", f"{r:.2f}x", goal])
    print("\nratios (baseline best s / telem_fdw best s; > 1 = telem_fdw faster)\n")
    print(table(["ratio", "seconds", "ratio", "target"], ratio_rows, a.markdown))

    if a.parquet_read_bytes:
        share = int(a.parquet_read_bytes) / a.parquet_bytes
        print(f"\nParquet, 1 of 12 columns (sum(speed_kmh)): read {mb(int(a.parquet_read_bytes))} "
              f"of the {mb(a.parquet_bytes)} file = {share:.3f} "
              f"(target < {PARQUET_READ_TARGET}: {'met' if share < PARQUET_READ_TARGET else 'missed'})")
    else:
        print("\nParquet, 1 of 12 columns: bytes read not measured (no Telem Bytes Read in EXPLAIN)")

    # The answer check: every run of every case of one query shape agrees.
    bad = []
    for shape in ("agg2", "agg3", "agg12"):
        cases = [c for c, (_, _, s) in CASES.items() if s == shape and c in answers]
        ref = next(iter(answers[cases[0]])) if cases else None
        for c in cases:
            for ans in answers[c]:
                if not same_answer(ans, ref):
                    bad.append(f"{c}: {ans!r} differs from {cases[0]}: {ref!r}")
    missing = [c for c in CASES if c not in times]
    print()
    if missing:
        print("missing cases: " + ", ".join(missing))
    if bad:
        print("ANSWER MISMATCH:\n  " + "\n  ".join(bad))
        sys.exit(1)
    ref2 = next(iter(answers.get("copy_csv", {""})))
    print(f"answers agree across engines (2-field query: {ref2})")
    if missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
