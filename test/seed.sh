#!/usr/bin/env bash
# test/seed.sh STATE_DIR -- build the regression objects and load them.
#
# Builds STATE_DIR/data from test/data/fixtures (compressing the *.src files,
# adding objects whose codec is known only by magic bytes, a truncated gzip
# and 1,500 one-line objects for pagination, and the Parquet files of every
# type under pq/, see test/gen_parquet.mjs), makes it readable by the
# server, and uploads the same tree to the S3 stand-in as bucket
# "telem-regress" and to Azurite as container "telem-regress", the two
# uploads in parallel.  Azure also gets 5,001 one-line blobs under many5k/,
# one more than a List Blobs page holds.  Deterministic: gzip -n, zstd
# without timestamps.
set -euo pipefail

state=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
data="$state/data"
# shellcheck disable=SC1091
source "$state/env.sh"

rm -rf "$data"
mkdir -p "$data"
cp -r "$here/data/fixtures/." "$data/"

v="$data/vehicle/year=2026/month=11"
gzip -n -c "$v/day=21/part-0001.jsonl.src" > "$v/day=21/part-0001.jsonl.gz"
zstd -q -c "$v/day=22/part-0001.jsonl.src" > "$v/day=22/part-0001.jsonl.zst"
mv "$data/csv/latin1.csv.src" "$data/latin1.csv"

# Objects whose compression only the magic bytes tell.
mkdir -p "$data/magic" "$data/trunc" "$data/many"
cp "$v/day=21/part-0001.jsonl.gz" "$data/magic/part-a"
cp "$v/day=22/part-0001.jsonl.zst" "$data/magic/part-b"
cp "$v/day=20/part-0001.jsonl" "$data/magic/part-c"
rm "$v"/day=2[12]/*.src

# A gzip stream cut short: must be an error, never a short read.
head -c 60 "$v/day=21/part-0001.jsonl.gz" > "$data/trunc/part-0001.jsonl.gz"

# Partition values that need percent-decoding.
mkdir -p "$data/sites/site=M%C3%BCnchen/day=21" "$data/sites/site=a%2Fb/day=22"
echo '{"device_id":"veh-m"}' > "$data/sites/site=M%C3%BCnchen/day=21/part-1.jsonl"
echo '{"device_id":"veh-ab"}' > "$data/sites/site=a%2Fb/day=22/part-1.jsonl"

# 1,500 one-line objects: more than one ListObjectsV2 page of 1,000.
for i in $(seq -w 1 1500); do
	printf '{"n":%d}\n' "$((10#$i))" > "$data/many/obj-$i.jsonl"
done

# 20,000 generated rows (about 4.8 MB, uncompressed) for the parallel
# scan test, which splits it into 1 MB byte ranges; deterministic (fixed seed).
mkdir -p "$data/parallel"
python3 "$here/gen_telemetry.py" --rows 20000 --seed 7 --format jsonl > "$data/parallel/t.jsonl"
printf '{"device_id":"veh-last","speed_kmh":1.5}' >> "$data/parallel/t.jsonl"

# Parquet: one data set of every type in 13 variants (codec, page format,
# dictionary, row group size; one of 3 files) under pq/<variant>/, and the
# rows they hold as pq/expected.csv for COPY (sql/parquet.sql).  DuckDB from
# test/node_modules writes them; about 15 s; deterministic.
(cd "$here" && node gen_parquet.mjs "$data/pq")
# Parquet objects that must be errors naming them, never crashes: one cut
# short (no footer), one with zeros over its first page header (bytes in
# a page's values are caught only by a page CRC, which DuckDB writes none of).
mkdir -p "$data/pq-bad/truncated" "$data/pq-bad/corrupt"
good="$data/pq/v1-zstd-dict-rg2k/part-0.parquet"
head -c 100000 "$good" >"$data/pq-bad/truncated/part-0.parquet"
cp "$good" "$data/pq-bad/corrupt/part-0.parquet"
dd if=/dev/zero of="$data/pq-bad/corrupt/part-0.parquet" bs=1 seek=4 count=64 \
	conv=notrunc status=none

# The loader and transfer tests write new objects here with COPY ... TO
# (as postgres).
mkdir -p "$data/loader/day=21" "$data/loader/day=22"
chown -R postgres "$data/loader"
mkdir -p "$state/xfer"
chown postgres "$state/xfer"

chmod -R a+rX "$state" 2>/dev/null || true
chmod a+rx "$state"

# 5,001 one-line blobs for Azure only: more than one List Blobs page of 5,000.
many5k="$state/azure-many5k"
rm -rf "$many5k"
mkdir -p "$many5k"
for i in $(seq -w 1 5001); do
	printf '{"n":%d}\n' "$((10#$i))" > "$many5k/obj-$i.jsonl"
done

"$here/harness/s3.sh" mb telem-regress
"$here/harness/s3.sh" putdir telem-regress "" "$data" &
s3_pid=$!
az="$here/harness/az.py"
python3 "$az" mb telem-regress
# Azure reads one Parquet variant: the rest of pq/ would only slow Azurite
python3 "$az" putdir telem-regress "" "$data" --exclude pq/
python3 "$az" putdir telem-regress "pq/v2-lz4-dict-rg10k/" "$data/pq/v2-lz4-dict-rg10k"
python3 "$az" putdir telem-regress "many5k/" "$many5k"
wait "$s3_pid"
# Empty targets for the transfer tests (emptied again on a re-seed).
"$here/harness/s3.sh" mb transfer-regress 2>/dev/null || true
"$here/harness/s3.sh" ls transfer-regress | while read -r key; do
	"$here/harness/s3.sh" rm transfer-regress "$key"
done
python3 "$az" mb transfer-regress 2>/dev/null || true
python3 "$az" ls transfer-regress "" | while read -r key _; do
	python3 "$az" rm transfer-regress "$key"
done
echo "seed: $(find "$data" -type f | wc -l) objects in $data, s3://telem-regress/" \
	"and azure telem-regress/ (+ 5001 under many5k/)"
