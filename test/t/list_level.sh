#!/usr/bin/env bash
# test/t/list_level.sh STATE_DIR -- list_level (a delimited listing of one
# level) against RGW and Azurite, through test/tools' "level" mode.
#
# Uploads one nested layout to a fresh bucket and container of this test's
# own (lvl-check), with a zero-byte "lvl/" folder marker, a sibling
# "lvlx.jsonl" outside the prefix, a deeper level and names that need
# percent- and XML-escaping, then checks for each store:
#  - "lvl/" gives the prefixes lvl/a=1/, lvl/a=2/, "lvl/b c&d=3/" and the
#    objects lvl/p%+q.jsonl, lvl/z.jsonl (with its size) in one page; the
#    folder marker and anything deeper are absent;
#  - with one entry per page the same entries come back over >= 5 pages
#    (continuation tokens / markers);
#  - "lvl/a=2/" and "" (the root) give their own level; a prefix with
#    nothing under it gives an empty page.
# Every request is signed (SigV4, Shared Key), so a wrongly signed
# delimiter=%2F fails here with 403.
source "$(dirname "$0")/../lib/common.sh"
here=$TEST_DIR
work="$STATE_DIR/list_level"
s3() { bash "$here/harness/s3.sh" "$@"; }
az() { python3 "$here/harness/az.py" "$@"; }
name=lvl-check

make -s -C "$here/tools" s3_stream_check azure_check >/dev/null
s3_tool() { "$here/tools/s3_stream_check" --bucket "$name" "$@"; }
az_tool() { "$here/tools/azure_check" --container "$name" "$@"; }

rm -rf "$work"
mkdir -p "$work"
printf '{"z":1}\n' >"$work/z"
printf '{"a":1}\n' >"$work/x"
: >"$work/empty"
z_size=$(stat -c %s "$work/z")
keys=("lvl/z.jsonl" "lvl/p%+q.jsonl" "lvl/a=1/x.jsonl" "lvl/a=2/y.jsonl"
	"lvl/a=2/deep/w.jsonl" "lvl/b c&d=3/v.jsonl" "lvlx.jsonl")

# fresh bucket and container (left over from an earlier run: emptied)
s3 mb "$name" >/dev/null 2>&1 || true
s3 ls "$name" | while IFS= read -r k; do s3 rm "$name" "$k"; done
az mb "$name" >/dev/null
az ls "$name" | sed -E 's/ [0-9]+ [^ ]+$//' | while IFS= read -r k; do az rm "$name" "$k"; done
for k in "${keys[@]}"; do
	f="$work/x"
	[[ $k == lvl/z.jsonl ]] && f="$work/z"
	s3 put "$name" "$k" "$f" >/dev/null
	az put "$name" "$k" "$f" >/dev/null
done
s3 put "$name" "lvl/" "$work/empty" >/dev/null
az put "$name" "lvl/" "$work/empty" >/dev/null

want_lvl=$(printf 'P\t%s\n' "lvl/a=1/" "lvl/a=2/" "lvl/b c&d=3/"
	printf 'O\t%s\t8\n' "lvl/p%+q.jsonl"
	printf 'O\tlvl/z.jsonl\t%s\n' "$z_size"
	echo "objects=2 prefixes=3 pages=1")
want_a2=$(printf 'P\tlvl/a=2/deep/\nO\tlvl/a=2/y.jsonl\t8\nobjects=1 prefixes=1 pages=1')
want_root=$(printf 'P\tlvl/\nO\tlvlx.jsonl\t8\nobjects=1 prefixes=1 pages=1')
want_none="objects=0 prefixes=0 pages=1"

# entries without the summary line, sorted: to compare paged with unpaged
entries() { grep -v '^objects=' <<<"$1" | LC_ALL=C sort; }
pages_of() { sed -n 's/.* pages=\([0-9]*\)$/\1/p' <<<"$1"; }

for store in s3 az; do
	tool=${store}_tool
	got=$($tool level lvl/ 2>&1 || true)
	check_eq "$got" "$want_lvl" "$store: lvl/ gives its prefixes and objects, marker dropped"

	paged=$($tool --page-size 1 level lvl/ 2>&1 || true)
	check_eq "$(entries "$paged")" "$(entries "$want_lvl")" \
		"$store: one entry per page gives the same entries"
	p=$(pages_of "$paged")
	if [[ $p =~ ^[0-9]+$ ]] && ((p >= 5)); then
		pass "$store: paged over $p pages"
	else
		fail "$store: one entry per page should take >= 5 pages: $paged"
	fi

	check_eq "$($tool level lvl/a=2/ 2>&1 || true)" "$want_a2" "$store: lvl/a=2/"
	check_eq "$($tool level "" 2>&1 || true)" "$want_root" "$store: the root level"
	check_eq "$($tool level nothing/ 2>&1 || true)" "$want_none" "$store: an empty level"
done

for k in "${keys[@]}" "lvl/"; do
	s3 rm "$name" "$k" >/dev/null
	az rm "$name" "$k" >/dev/null
done
s3 rb "$name" >/dev/null || fail "bucket $name not empty at the end"
rm -rf "$work"
finish
