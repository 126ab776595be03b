#!/usr/bin/env bash
# tokens.sh start|stop STATE_DIR
#
# The fake Entra ID / IMDS token service (token_service.py) on 127.0.0.1 at a
# free port: client credentials at $TELEM_TOKEN_ENDPOINT/$TENANT/oauth2/v2.0/token,
# managed identity at $TELEM_TOKEN_ENDPOINT/metadata/identity/oauth2/token.
# It issues short-lived JWTs that Azurite (azurite.sh, --oauth basic) accepts.
# Log in STATE_DIR/tokens.
#
#   start  start the service, wait until it answers, write
#          STATE_DIR/env.tokens.sh:
#            TELEM_TOKEN_ENDPOINT (http://127.0.0.1:PORT, used as both the
#            authority host and the IMDS endpoint) TELEM_AZURE_TENANT_ID
#            TELEM_AZURE_CLIENT_ID TELEM_AZURE_CLIENT_SECRET
#            TELEM_AZURE_MI_CLIENT_ID (an accepted user-assigned identity)
#            TELEM_TOKEN_LIFETIME (seconds a token lives)
#          A no-op if this state dir's service is running.
#   stop   SIGTERM by pid file, SIGKILL after 5 s. Never fails. Keeps the log.
#
# Env: TELEM_TOKEN_LIFETIME (token lifetime in seconds, default 4).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(realpath "$0")")/lib.sh"

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
state=$(realpath -m "$2")
dir=$state/tokens
pidfile=$dir/service.pid
here=$(dirname "$(realpath "$0")")
py=/usr/bin/python3

# Test-only identities.  The secret has characters that must be form-encoded.
TENANT=7e1e5a11-0000-4000-8000-00000000abcd
CLIENT_ID=7e1e5a11-0000-4000-8000-0000000c11e1
CLIENT_SECRET='telem~Test.secret+1/2=3&4 5'
MI_CLIENT_ID=7e1e5a11-0000-4000-8000-00000000a1d1
LIFETIME=${TELEM_TOKEN_LIFETIME:-4}

log() { echo "tokens: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

our_pid() { pid_if_ours "$pidfile" "--label $dir "; }

halt() {
    local pid
    pid=$(our_pid) || { rm -f "$pidfile"; return 0; }
    halt_pid "$pid" TERM 5
    rm -f "$pidfile"
}

write_env() {
    printf 'export %s=%q\n' TELEM_TOKEN_ENDPOINT "http://127.0.0.1:$1" \
        TELEM_AZURE_TENANT_ID "$TENANT" TELEM_AZURE_CLIENT_ID "$CLIENT_ID" \
        TELEM_AZURE_CLIENT_SECRET "$CLIENT_SECRET" TELEM_AZURE_MI_CLIENT_ID "$MI_CLIENT_ID" \
        TELEM_TOKEN_LIFETIME "$LIFETIME" >"$state/env.tokens.sh"
    cat "$state"/env.*.sh >"$state/env.sh"
}

start() {
    if our_pid >/dev/null; then
        log "already running for $state"
        return 0
    fi
    [[ $LIFETIME =~ ^[0-9]+$ ]] && ((LIFETIME >= 1)) \
        || die "TELEM_TOKEN_LIFETIME must be a number of seconds >= 1, not '$LIFETIME'"
    halt
    trap 'halt' EXIT  # a failed start leaves nothing running
    mkdir -p "$dir"
    rm -f "$dir/port"

    local port end=$((SECONDS + 15))
    setsid "$py" "$here/token_service.py" --label "$dir" --port-file "$dir/port" \
        --tenant "$TENANT" --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" \
        --mi-client-id "$MI_CLIENT_ID" --lifetime "$LIFETIME" \
        </dev/null >>"$dir/service.log" 2>&1 &
    echo $! >"$pidfile"
    disown

    until [[ -s $dir/port ]] \
        && curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$(cat "$dir/port")/health"; do
        our_pid >/dev/null || die "service exited: $(tail -n 5 "$dir/service.log")"
        ((SECONDS < end)) || die "timed out waiting for the service (log: $dir/service.log)"
        sleep 0.1
    done
    port=$(cat "$dir/port")
    write_env "$port"
    trap - EXIT
    log "up: http://127.0.0.1:$port (tenant $TENANT, tokens live ${LIFETIME} s)"
}

stop() {
    halt
    rm -f "$state/env.tokens.sh"
    if [[ -d $state ]]; then cat "$state"/env.*.sh >"$state/env.sh" 2>/dev/null || true; fi
    log "stopped ($state)"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
