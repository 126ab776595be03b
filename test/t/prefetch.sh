#!/usr/bin/env bash
# test/t/prefetch.sh STATE_DIR -- several readers open at once on one store
# (what a prefetching scan does) return every object's exact bytes.
#
# 50 objects of 256 KiB go to RGW and Azurite.  test/tools/prefetch_check
# lists them and reads them with N readers of one store open at once,
# either each object to its end while the next ones download, or one read
# per open reader in turn; it compares every object's MD5 with the
# uploaded file's.
# 1. RGW and Azurite directly: 1, 4 and 8 readers, both orders, and with
#    64 kB buffers (so the streams that are not being read pause).
# 2. Through flaky_proxy.py, which breaks connections mid-body (reset and
#    close): exact bytes still, and the Range resumes are counted.
# 3. All connections stalled: the interrupt hook still stops the reads.
# 4. The check can fail: a wrong MD5 in the listing is reported.
source "$(dirname "$0")/../lib/common.sh"

work="$STATE_DIR/prefetch"
tool="$TEST_DIR/tools/prefetch_check"
mkdir -p "$work/objs"
make -s -C "$TEST_DIR/tools" prefetch_check >/dev/null
python3 - "$work/objs" <<'EOF'
import random, sys
rng = random.Random(11)
for i in range(50):
    with open(f"{sys.argv[1]}/part-{i:03d}.bin", "wb") as f:
        f.write(rng.randbytes(256 * 1024))
EOF
(cd "$work/objs" && md5sum -- *) >"$work/objs.md5"
bash "$TEST_DIR/harness/s3.sh" mb telem-prefetch >/dev/null 2>&1 || true
bash "$TEST_DIR/harness/s3.sh" putdir telem-prefetch p/ "$work/objs" >/dev/null
az=(python3 "$TEST_DIR/harness/az.py")
"${az[@]}" mb telem-prefetch >/dev/null 2>&1 || true
"${az[@]}" putdir telem-prefetch p/ "$work/objs" >/dev/null

# run_check LABEL WANT_RESUMES(any|some) TOOL_ARGS...: exit 0, 50 objects,
# no mismatch; with "some", at least one Range resume.
run_check() {
	local label=$1 want=$2 out rc=0 resumes
	shift 2
	out=$("$tool" --md5 "$work/objs.md5" "$@" 2>&1) || rc=$?
	resumes=$(sed -n 's/.* resumes=\([0-9]*\) .*/\1/p' <<<"$out")
	if ((rc != 0)) || ! grep -q '^objects=50 bytes=13107200 mismatches=0 ' <<<"$out"; then
		fail "$label: exit $rc, output: $out"
	elif [[ $want == some ]] && ! ((resumes >= 1)); then
		fail "$label: expected Range resumes, output: $out"
	else
		pass "$label${resumes:+ ($resumes resumes)}"
	fi
}

# 1. directly
for provider in s3 azure; do
	for ahead in 1 4 8; do
		run_check "$provider: $ahead open, sequential" any --ahead "$ahead" "$provider" telem-prefetch p/
	done
	run_check "$provider: 4 open, round robin" any --ahead 4 --order rr --read-size 16384 "$provider" telem-prefetch p/
	run_check "$provider: 8 open, round robin, 64 kB buffers" any \
		--ahead 8 --order rr --read-size 8192 --buffer-size 65536 "$provider" telem-prefetch p/
done

# 2. through a proxy that breaks the first connections after 400 kB: the
#    transfers being prefetched are cut as well as the one being read.
#    Azurite is behind the proxy on its TLS port (the certificate names
#    127.0.0.1, which the proxy also is).
az_authority=${TELEM_AZURE_BLOB_ENDPOINT#https://}
az_authority=${az_authority%%/*}
for mode in reset close; do
	for order in seq rr; do
		start_proxy --fail-connections 4 --fail-after 400000 --mode "$mode"
		TELEM_S3_ENDPOINT="http://127.0.0.1:$PROXY_PORT" \
			run_check "s3 through a proxy that breaks connections ($mode, $order)" some \
			--ahead 4 --order "$order" --read-size 16384 s3 telem-prefetch p/
		stop_proxy
		start_proxy --upstream "$az_authority" --fail-connections 4 --fail-after 400000 --mode "$mode"
		TELEM_AZURE_BLOB_ENDPOINT="https://127.0.0.1:$PROXY_PORT/devstoreaccount1" \
			run_check "azure through a proxy that breaks connections ($mode, $order)" some \
			--ahead 4 --order "$order" --read-size 16384 azure telem-prefetch p/
		stop_proxy
	done
done

# 3. every connection stalls after 400 kB: a read waiting on one reader
#    (with the others stalled too) still polls the interrupt hook, so the
#    cancel ends it long before curl's 30 s stall timeout would.
start_proxy --fail-connections 1000 --fail-after 400000 --mode stall
rc=0
out=$(TELEM_S3_ENDPOINT="http://127.0.0.1:$PROXY_PORT" timeout 20 "$tool" \
	--ahead 4 --cancel-after-ms 1500 s3 telem-prefetch p/ 2>&1) || rc=$?
stop_proxy
if ((rc == 2)) && grep -q 'kind=TELEM_ERR_CANCELED' <<<"$out"; then
	pass "stalled readers are cancellable"
else
	fail "cancel with stalled readers: exit $rc, output: $out"
fi

# 4. a corrupted expectation must be caught
sed '7s/^./x/' "$work/objs.md5" >"$work/bad.md5"
rc=0
out=$("$tool" --md5 "$work/bad.md5" --ahead 4 s3 telem-prefetch p/ 2>&1) || rc=$?
if ((rc == 4)) && grep -q '^mismatch p/part-006.bin' <<<"$out"; then
	pass "a wrong MD5 is reported"
else
	fail "a wrong MD5 went unnoticed: exit $rc, output: $out"
fi

for f in "$work"/objs/*; do
	bash "$TEST_DIR/harness/s3.sh" rm telem-prefetch "p/$(basename "$f")" >/dev/null || true
done
rm -rf "$work"
finish
