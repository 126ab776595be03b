#!/usr/bin/env bash
# deps.sh: install everything telem_fdw needs to build and test on Debian 12
# (run as root): compilers and libraries, PostgreSQL 15 (+ pg_cron, tds_fdw;
# file_fdw ships in postgresql-15), Ceph RADOS Gateway, fuzzing and memory
# tools, the zstd CLI, psycopg2 (for the TDS test server), Node.js + npm,
# then the pinned Azurite via `npm ci` in test/.
# apt is skipped when every package is already installed, and npm ci when
# test/node_modules already matches test/package-lock.json, so re-runs are fast.
set -euo pipefail

here=$(dirname "$(realpath "$0")")
testdir=$(dirname "$here")

packages=(
    build-essential gcc make pkg-config
    postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-tds-fdw
    postgresql-contrib
    libcurl4-openssl-dev libssl-dev libxml2-dev libcjson-dev zlib1g-dev libzstd-dev
    libsnappy-dev liblz4-dev libbrotli-dev
    freetds-dev freetds-bin
    radosgw ceph-mon ceph-osd ceph-common
    curl python3 python3-psycopg2 ca-certificates zstd
    clang clang-14 llvm-14 libclang-rt-14-dev valgrind openssl
)
# Use the machine's Node.js if it has one (any >= 18 runs the pinned Azurite).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
fi

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done

if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
    echo "deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "deps: all Debian packages present" >&2
fi

# Azurite, pinned in test/package-lock.json.
stamp=$testdir/node_modules/.telem-lock.sha256
want=$(sha256sum "$testdir/package-lock.json" | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "deps: test/node_modules up to date" >&2
else
    (cd "$testdir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
fi
