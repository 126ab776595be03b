#!/usr/bin/env bash
# azurite.sh start|stop STATE_DIR
#
# Azurite blob service (Azure Blob Storage emulator, from test/node_modules;
# run deps.sh first) on 127.0.0.1 at a free port, data and debug log in
# STATE_DIR/azurite, telemetry off. Uses the well-known dev account
# devstoreaccount1 and its published key; it checks SharedKey signatures.
#
#   start  wipe STATE_DIR/azurite, start, wait until it answers, write
#          STATE_DIR/env.azurite.sh. A no-op if already running for this dir.
#   stop   SIGTERM by pid file, SIGKILL after 10 s. Never fails.
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

our_pid() { pid_if_ours "$pidfile" "--location $dir/data"; }

halt() {
    local pid
    pid=$(our_pid) || { rm -f "$pidfile"; return 0; }
    halt_pid "$pid" TERM 10
    rm -f "$pidfile"
}

write_env() {
    printf 'export %s=%q\n' TELEM_AZURE_BLOB_ENDPOINT "http://127.0.0.1:$1/$ACCOUNT" \
        TELEM_AZURE_ACCOUNT "$ACCOUNT" TELEM_AZURE_KEY "$KEY" >"$state/env.azurite.sh"
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

    local port code=000 end=$((SECONDS + 30))
    port=$(free_port)
    setsid "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" \
        --debug "$dir/debug.log" --disableTelemetry --skipApiVersionCheck --loose \
        --disableProductStyleUrl </dev/null >"$dir/azurite.out" 2>&1 &
    echo $! >"$pidfile"
    disown

    # Unsigned "list containers" must be refused with 403: it is up and checks auth.
    while ((SECONDS < end)); do
        code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:$port/$ACCOUNT?comp=list" || true)
        [[ $code != 000 ]] && break
        our_pid >/dev/null || die "azurite exited: $(tail -n 5 "$dir/azurite.out")"
        sleep 0.1
    done
    [[ $code == 403 ]] || die "azurite on port $port answered HTTP $code, want 403 (log: $dir)"
    write_env "$port"
    trap - EXIT
    log "up: http://127.0.0.1:$port/$ACCOUNT"
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
