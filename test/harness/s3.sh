#!/usr/bin/env bash
# s3.sh: tiny S3 client for seeding and checking test data, built on curl's
# SigV4 signing. Reads TELEM_S3_ENDPOINT, TELEM_S3_REGION, TELEM_S3_ACCESS_KEY
# and TELEM_S3_SECRET_KEY from the environment (source STATE_DIR/env.sh first).
# Keys are percent-encoded here; path-style URLs (ENDPOINT/BUCKET/KEY).
#
#   s3.sh mb BUCKET                  create a bucket
#   s3.sh rb BUCKET                  delete an (empty) bucket
#   s3.sh put BUCKET KEY FILE        upload FILE ('-' = stdin)
#   s3.sh putdir BUCKET PREFIX DIR   upload every file under DIR as
#                                    PREFIX + path relative to DIR, in parallel
#   s3.sh get BUCKET KEY [OUTFILE]   object body to OUTFILE or stdout
#   s3.sh ls BUCKET [PREFIX]         keys, one per line (ListObjectsV2, paged)
#   s3.sh rm BUCKET KEY              delete an object
# Exits non-zero, with the error body on stderr, on any non-2xx answer.
set -euo pipefail

usage() { sed -n 's/^#   s3.sh/usage: s3.sh/p' "$0" >&2; exit 2; }
: "${TELEM_S3_ENDPOINT:?source STATE_DIR/env.sh first}"
: "${TELEM_S3_ACCESS_KEY:?}" "${TELEM_S3_SECRET_KEY:?}"
REGION=${TELEM_S3_REGION:-us-east-1}

# curl 7.88 signs but does not send x-amz-content-sha256; RGW (like AWS)
# rejects a request without it, so send UNSIGNED-PAYLOAD explicitly.
s3curl() {
    curl -sS --globoff --noproxy '*' --fail-with-body \
        --aws-sigv4 "aws:amz:$REGION:s3" \
        --user "$TELEM_S3_ACCESS_KEY:$TELEM_S3_SECRET_KEY" \
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

# s3call [-o FILE] CURL_ARGS...: on failure the error body goes to stderr.
s3call() {
    local out rc=0 keep=""
    if [[ $1 == -o ]]; then out=$2 keep=1; shift 2; else out=$(mktemp); fi
    s3curl -o "$out" "$@" || rc=$?
    if ((rc != 0)); then cat "$out" >&2; echo >&2; fi
    [[ -n $keep && $rc == 0 ]] || rm -f "$out"
    return "$rc"
}

urlenc() { /usr/bin/python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=sys.argv[2]))' "$1" "${2-/}"; }
obj_url() { echo "$TELEM_S3_ENDPOINT/$1/$(urlenc "$2")"; }

cmd_ls() {
    local bucket=$1 prefix=${2:-} token="" page query
    page=$(mktemp)
    while :; do
        # curl 7.88 does not sort the query for signing: keep it sorted here.
        query=""
        [[ -n $token ]] && query+="continuation-token=$(urlenc "$token" "")&"
        query+="list-type=2&max-keys=1000"
        [[ -n $prefix ]] && query+="&prefix=$(urlenc "$prefix" "")"
        s3call -o "$page.xml" "$TELEM_S3_ENDPOINT/$bucket?$query" || { rm -f "$page"*; return 1; }
        /usr/bin/python3 - "$page.xml" "$page" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
for c in root.iter(ns + "Contents"):
    print(c.findtext(ns + "Key"))
with open(sys.argv[2], "w") as f:  # next page's token, empty when done
    if root.findtext(ns + "IsTruncated") == "true":
        f.write(root.findtext(ns + "NextContinuationToken"))
EOF
        token=$(cat "$page")
        [[ -n $token ]] || break
    done
    rm -f "$page"*
}

cmd_put() {
    local src=$3 tmp=""
    # RGW refuses chunked uploads (411), so give curl a file it can size.
    if [[ $src == - ]]; then tmp=$(mktemp); cat >"$tmp"; src=$tmp; fi
    local rc=0
    if [[ $2 == */ ]]; then
        # a "folder" key: curl -T would append the file's name to the URL
        s3call -X PUT --data-binary "@$src" "$(obj_url "$1" "$2")" || rc=$?
    else
        s3call -T "$src" "$(obj_url "$1" "$2")" || rc=$?
    fi
    [[ -z $tmp ]] || rm -f "$tmp"
    return "$rc"
}

cmd_get() {
    local out=${3:-} rc=0 tmp=""
    [[ -n $out ]] || { tmp=$(mktemp); out=$tmp; }
    s3curl -o "$out" "$(obj_url "$1" "$2")" || rc=$?
    if ((rc != 0)); then cat "$out" >&2; echo >&2; rm -f "$out"; return "$rc"; fi
    if [[ -n $tmp ]]; then cat "$tmp"; rm -f "$tmp"; fi
}

cmd_putdir() {
    local bucket=$1 prefix=$2 src=$3 cfg codes
    cfg=$(mktemp); codes=$(mktemp)
    # One curl process, many parallel transfers: a config of url/upload-file pairs.
    /usr/bin/python3 - "$TELEM_S3_ENDPOINT/$bucket" "$prefix" "$src" >"$cfg" <<'EOF'
import os, sys, urllib.parse as u
base, prefix, src = sys.argv[1:]
q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
for root, _, files in os.walk(src):
    for f in sorted(files):
        path = os.path.join(root, f)
        key = prefix + os.path.relpath(path, src)
        print(f"url = {q(base + '/' + u.quote(key, safe='/'))}")
        print(f"upload-file = {q(path)}")
        print("output = /dev/null")
EOF
    [[ -s $cfg ]] || { rm -f "$cfg" "$codes"; echo "putdir: no files under $src" >&2; return 0; }
    local rc=0
    s3curl -Z --parallel-max 32 --no-progress-meter -K "$cfg" \
        -w '%{http_code} %{url}\n' >"$codes" 2>/dev/null || rc=$?
    local bad n
    n=$(wc -l <"$codes")
    bad=$(grep -vc '^2' "$codes" || true)
    rm -f "$cfg"
    if ((rc != 0 || bad != 0)); then
        echo "putdir: $bad of $n uploads failed (curl exit $rc):" >&2
        grep -v '^2' "$codes" | sed -n 1,5p >&2
        rm -f "$codes"
        return 1
    fi
    rm -f "$codes"
    echo "putdir: uploaded $n objects to $bucket/$prefix" >&2
}

[[ $# -ge 2 ]] || usage
cmd=$1; shift
case $cmd in
    mb) s3call -X PUT "$TELEM_S3_ENDPOINT/$1" ;;
    rb) s3call -X DELETE "$TELEM_S3_ENDPOINT/$1" ;;
    put) [[ $# -eq 3 ]] || usage; cmd_put "$@" ;;
    putdir) [[ $# -eq 3 ]] || usage; cmd_putdir "$@" ;;
    get) [[ $# -eq 2 || $# -eq 3 ]] || usage; cmd_get "$@" ;;
    ls) cmd_ls "$@" ;;
    rm) [[ $# -eq 2 ]] || usage; s3call -X DELETE "$(obj_url "$1" "$2")" ;;
    *) usage ;;
esac
