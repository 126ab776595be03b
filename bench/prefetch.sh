#!/usr/bin/env bash
# bench/prefetch.sh -- time per MB of reading many small objects with 1 or
# more readers of one store open at once, against a few large objects:
#
#   bash bench/prefetch.sh STATE_DIR [--runs N] [--work-us N] [--pump-us N]
#                          [--read-size N] [--ahead "1 4 8"] [--tool PATH]
#
#   STATE_DIR   a state dir whose services run (test/harness/services.sh)
#   --runs N    timed runs per case (default 5); best and median are shown
#   --work-us N busy-wait N us after each read, as a decoder would
#               (default 0)
#   --pump-us N during that wait, call the store's pump() every N us, as
#               a scan would every few rows (default 0: never)
#   --read-size N  bytes per read call (default 65536)
#   --ahead L   reader counts for the small set (default "1 4")
#   --tool P    a prefetch_check built elsewhere (e.g. from an older
#               commit's sources, for a before/after comparison)
#
# Uploads 500 objects of 256 KiB and 4 of 32 MiB (random bytes) to the RGW
# bucket bench-prefetch (not timed), then runs test/tools/prefetch_check
# on each set in interleaved rounds: the large set with 1 reader, the small
# set with each count in --ahead (the next ones open while one is read).
# Every object's MD5 is checked in every run.  Not a test: the figures
# depend on the machine and its load.
set -euo pipefail

state=$(cd "$1" && pwd)
shift
runs=5
work_us=0
pump_us=0
read_size=65536
aheads="1 4"
tool=""
while (($#)); do
	case $1 in
		--runs) runs=$2; shift 2 ;;
		--work-us) work_us=$2; shift 2 ;;
		--pump-us) pump_us=$2; shift 2 ;;
		--read-size) read_size=$2; shift 2 ;;
		--ahead) aheads=$2; shift 2 ;;
		--tool) tool=$2; shift 2 ;;
		*) sed -n "s/^#   bash /usage: /p" "$0" >&2; exit 2 ;;
	esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
source "$state/env.sh"
if [[ -z $tool ]]; then
	tool="$here/test/tools/prefetch_check"
	make -s -C "$here/test/tools" prefetch_check >/dev/null
fi
work="$state/bench-prefetch"
if [[ ! -f $work/small.md5 ]]; then
	mkdir -p "$work/small" "$work/large"
	python3 - "$work" <<'EOF'
import random, sys
rng = random.Random(5)
for i in range(500):
    open(f"{sys.argv[1]}/small/s-{i:03d}.bin", "wb").write(rng.randbytes(256 << 10))
for i in range(4):
    open(f"{sys.argv[1]}/large/l-{i}.bin", "wb").write(rng.randbytes(32 << 20))
EOF
	(cd "$work/small" && md5sum -- *) >"$work/small.md5"
	(cd "$work/large" && md5sum -- *) >"$work/large.md5"
	bash "$here/test/harness/s3.sh" mb bench-prefetch >/dev/null 2>&1 || true
	bash "$here/test/harness/s3.sh" putdir bench-prefetch small/ "$work/small" >/dev/null
	bash "$here/test/harness/s3.sh" putdir bench-prefetch large/ "$work/large" >/dev/null
fi

declare -A results
cases=("large 1")
for a in $aheads; do cases+=("small $a"); done
for ((r = 1; r <= runs; r++)); do
	for c in "${cases[@]}"; do
		read -r set ahead <<<"$c"
		extra=()
		((pump_us > 0)) && extra=(--pump-us "$pump_us")
		out=$("$tool" --ahead "$ahead" --work-us "$work_us" --read-size "$read_size" \
			"${extra[@]}" --md5 "$work/$set.md5" \
			s3 bench-prefetch "$set/")
		grep -q ' mismatches=0 ' <<<"$out" || { echo "bench: bad bytes: $out" >&2; exit 1; }
		results[$c]+="$(sed -n 's/.*ms_per_mb=\([0-9.]*\).*/\1/p' <<<"$out") "
	done
done

python3 - "$work_us" "${cases[@]/%/=}" <<EOF
import statistics, sys
res = {$(for c in "${cases[@]}"; do printf '"%s": [%s], ' "$c" "${results[$c]// /, }"; done)}
base = min(res["large 1"])
print(f"work_us={sys.argv[1]} pump_us=${pump_us} read_size=${read_size} runs=${runs}; ms per MB (best / median); ratio = best / best of 4 x 32 MiB")
for c, v in res.items():
    set_, ahead = c.split()
    name = "4 x 32 MiB, 1 reader" if set_ == "large" else f"500 x 256 KiB, {ahead} open"
    print(f"  {name:28s} {min(v):7.2f} / {statistics.median(v):7.2f}   x{min(v) / base:.2f}")
EOF
