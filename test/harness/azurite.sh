#!/usr/bin/env bash
# azurite.sh start|stop STATE_DIR
#
# Azurite blob service (Azure Blob Storage emulator, from test/node_modules;
# run deps.sh first) on 127.0.0.1 at a free port, data in
# STATE_DIR/azurite (access log in azurite.out), telemetry off. Uses the well-known dev account
# devstoreaccount1 and its published key. It speaks HTTPS with a throwaway
# CA made here, and checks SharedKey signatures, SAS tokens and (with
# --oauth basic) Entra ID bearer tokens: their issuer, audience, nbf and exp,
# not their signature, so tokens.sh's fake tokens pass. Azurite accepts
# bearer tokens over HTTPS only, hence the TLS.
#
#   start  wipe STATE_DIR/azurite, make a CA and a server certificate for
#          127.0.0.1 (STATE_DIR/azurite/ca.pem, server.pem), start, wait
#          until it answers, write STATE_DIR/env.azurite.sh:
#            TELEM_AZURE_BLOB_ENDPOINT (https://127.0.0.1:PORT/devstoreaccount1)
#            TELEM_AZURE_ACCOUNT TELEM_AZURE_KEY
#            TELEM_AZURE_CA_FILE (the CA that signed the server certificate)
#            TELEM_AZURE_SAS (account SAS, blob service, permissions rwdlac,
#                             valid 24 h; no leading '?')
#          A no-op if already running for this dir.
#   stop   SIGTERM by pid file, SIGKILL after 10 s. Never fails.
#
# Env: AZURITE_PLAIN_HTTP=1 runs the old way: plain http, no bearer tokens,
#      TELEM_AZURE_CA_FILE empty.
#      AZURITE_DEBUG=1 writes Azurite's debug log to STATE_DIR/azurite/debug.log
#      (every request's string to sign and computed signatures) and its access
#      log to azurite.out. Both are off by default: they halve Azurite's
#      request rate (it is single-threaded, and seed.sh sends it ~6,500 PUTs).
# Blobs live in Azurite's memory (--inMemoryPersistence, which also skips
# rewriting a JSON metadata file that grows with every blob); the plain-http
# mode keeps the old on-disk --location STATE_DIR/azurite/data.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(realpath "$0")")/lib.sh"

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
state=$(realpath -m "$2")
dir=$state/azurite
pidfile=$dir/azurite.pid
here=$(dirname "$(realpath "$0")")
bin=$(dirname "$here")/node_modules/.bin/azurite-blob

ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

log() { echo "azurite: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Every mode passes a path under $dir (--cert or --location); the leading space
# keeps /tmp/a/azurite from matching /tmp/b/a/azurite.
our_pid() { pid_if_ours "$pidfile" " $dir/"; }

halt() {
    local pid
    pid=$(our_pid) || { rm -f "$pidfile"; return 0; }
    halt_pid "$pid" TERM 10
    rm -f "$pidfile"
}

# make_certs: a CA and a server certificate for 127.0.0.1/localhost, P-256
# keys (fast to make), valid 2 days.
make_certs() {
    local ssl=(openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 2)
    "${ssl[@]}" -subj "/CN=telem test CA $$" -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>>"$dir/openssl.log" || die "could not make the CA (see $dir/openssl.log)"
    "${ssl[@]}" -subj "/CN=127.0.0.1" -keyout "$dir/server-key.pem" -out "$dir/server.pem" \
        -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
        -addext subjectAltName=IP:127.0.0.1,DNS:localhost -addext basicConstraints=CA:FALSE \
        -addext keyUsage=critical,digitalSignature -addext extendedKeyUsage=serverAuth \
        2>>"$dir/openssl.log" || die "could not make the server certificate (see $dir/openssl.log)"
    rm -f "$dir/ca-key.pem"
    chmod a+r "$dir/ca.pem"
}

write_env() {
    local url=$1 ca=$2 sas
    sas=$(TELEM_AZURE_BLOB_ENDPOINT=$url TELEM_AZURE_ACCOUNT=$ACCOUNT TELEM_AZURE_KEY=$KEY \
        /usr/bin/python3 "$here/az.py" sas --account --perm rwdlac --hours 24) \
        || die "could not make a SAS"
    printf 'export %s=%q\n' TELEM_AZURE_BLOB_ENDPOINT "$url" TELEM_AZURE_ACCOUNT "$ACCOUNT" \
        TELEM_AZURE_KEY "$KEY" TELEM_AZURE_CA_FILE "$ca" TELEM_AZURE_SAS "$sas" \
        >"$state/env.azurite.sh"
    cat "$state"/env.*.sh >"$state/env.sh"
}

start() {
    if our_pid >/dev/null; then
        log "already running for $state"
        return 0
    fi
    [[ -x $bin ]] || die "$bin missing: run test/harness/deps.sh (npm ci in test/)"
    halt
    trap 'halt' EXIT  # a failed start leaves nothing running
    rm -rf "$dir"
    mkdir -p "$dir/data"

    local port code=000 end=$((SECONDS + 30)) scheme=https ca="" mode=() cacert=() logs=()
    logs=(--silent)
    [[ ${AZURITE_DEBUG:-} == 1 ]] && logs=(--debug "$dir/debug.log")
    if [[ ${AZURITE_PLAIN_HTTP:-} == 1 ]]; then
        scheme=http
        mode=(--location "$dir/data")
    else
        make_certs
        ca=$dir/ca.pem
        mode=(--inMemoryPersistence --cert "$dir/server.pem" --key "$dir/server-key.pem"
            --oauth basic)
        cacert=(--cacert "$ca")
    fi
    port=$(free_port)
    setsid "$bin" --blobHost 127.0.0.1 --blobPort "$port" "${mode[@]}" "${logs[@]}" \
        --disableTelemetry --skipApiVersionCheck --loose --disableProductStyleUrl \
        </dev/null >"$dir/azurite.out" 2>&1 &
    echo $! >"$pidfile"
    disown

    # Unsigned "list containers" must be refused with 403: it is up, checks
    # auth, and (https) its certificate verifies against our CA.
    local url=$scheme://127.0.0.1:$port/$ACCOUNT
    while ((SECONDS < end)); do
        code=$(curl -s --noproxy '*' "${cacert[@]}" -o /dev/null -w '%{http_code}' \
            "$url?comp=list" || true)
        [[ $code != 000 ]] && break
        our_pid >/dev/null || die "azurite exited: $(tail -n 5 "$dir/azurite.out")"
        sleep 0.1
    done
    [[ $code == 403 ]] || die "azurite on port $port answered HTTP $code, want 403 (log: $dir)"
    write_env "$url" "$ca"
    trap - EXIT
    log "up: $url"
}

stop() {
    halt
    rm -f "$state/env.azurite.sh"
    if [[ -d $state ]]; then cat "$state"/env.*.sh >"$state/env.sh" 2>/dev/null || true; fi
    rm -rf "$dir/data"
    log "stopped ($state)"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
