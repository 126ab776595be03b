#!/usr/bin/env bash
# tds.sh start|stop STATE_DIR
#
# The TDS test server (test/tds_server/server.py): plays Azure SQL Database
# on 127.0.0.1 (TDS 7.4, no TLS) and executes on the PostgreSQL cluster of
# pg.sh, in its own database `azuresql` (created here). Run pg.sh start first.
# Control interface (faults, counters): HTTP on a second loopback port, see
# docs/tds-test-server.md.
#
#   start  create database azuresql if missing, start the server on free
#          ports, wait until it answers, add a [telem_tds] entry to
#          STATE_DIR/freetds/etc/freetds.conf, write STATE_DIR/env.tds.sh:
#            TELEM_TDS_HOST TELEM_TDS_PORT TELEM_TDS_CONTROL_PORT
#            TELEM_TDS_USER TELEM_TDS_PASSWORD TELEM_TDS_DATABASE
#            TELEM_TDS_SERVERNAME (the freetds.conf entry) TELEM_TDS_LOG
#            FREETDSCONF FREETDS
#          A no-op if this state dir's server is running.
#   stop   SIGTERM by pid file, SIGKILL after 10 s. Never fails. Keeps the log.
#
# Env: TELEM_TDS_USER, TELEM_TDS_PASSWORD (login the server accepts; test-only
#      defaults below), TELEM_TDS_FAULTS (a JSON file of faults armed at start).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(realpath "$0")")/lib.sh"

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
state=$(realpath -m "$2")
dir=$state/tds
pidfile=$dir/server.pid
here=$(dirname "$(realpath "$0")")
server=$(dirname "$here")/tds_server/server.py
py=/usr/bin/python3

USER_=${TELEM_TDS_USER:-telem_loader}
PASSWORD=${TELEM_TDS_PASSWORD:-Telem-Test-Pw1}
DATABASE=azuresql

log() { echo "tds: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

our_pid() { pid_if_ours "$pidfile" "--label $dir "; }

halt() {
    local pid
    pid=$(our_pid) || { rm -f "$pidfile"; return 0; }
    halt_pid "$pid" TERM 10
    rm -f "$pidfile"
}

write_freetds_conf() {
    local ft=$state/freetds/etc
    mkdir -p "$ft"
    [[ -f $ft/locales.conf ]] || cp "$here/freetds/locales.conf" "$ft/"
    {
        cat "$here/freetds/freetds.conf"
        printf '\n# added by tds.sh: the TDS test server of this state dir\n'
        printf '[telem_tds]\n\thost = 127.0.0.1\n\tport = %s\n\ttds version = 7.4\n' "$1"
    } >"$ft/freetds.conf.tmp"
    mv "$ft/freetds.conf.tmp" "$ft/freetds.conf"
    chmod -R a+rX "$state/freetds"
}

write_env() {
    printf 'export %s=%q\n' TELEM_TDS_HOST 127.0.0.1 TELEM_TDS_PORT "$1" \
        TELEM_TDS_CONTROL_PORT "$2" TELEM_TDS_USER "$USER_" TELEM_TDS_PASSWORD "$PASSWORD" \
        TELEM_TDS_DATABASE "$DATABASE" TELEM_TDS_SERVERNAME telem_tds \
        TELEM_TDS_LOG "$dir/server.log" \
        FREETDSCONF "$state/freetds/etc/freetds.conf" FREETDS "$state/freetds" \
        >"$state/env.tds.sh"
    cat "$state"/env.*.sh >"$state/env.sh"
}

start() {
    if our_pid >/dev/null; then
        log "already running for $state"
        return 0
    fi
    [[ -f $state/env.pg.sh ]] || die "no $state/env.pg.sh: start pg.sh first"
    $py -c 'import psycopg2' 2>/dev/null || die "python3-psycopg2 missing: run test/harness/deps.sh"
    local PGPORT
    PGPORT=$(sed -n 's/^export PGPORT=//p' "$state/env.pg.sh")
    halt
    trap 'halt' EXIT  # a failed start leaves nothing running
    mkdir -p "$dir"

    local q="SELECT 1 FROM pg_database WHERE datname = '$DATABASE'"
    if [[ -z $(psql -X -At -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "$q") ]]; then
        psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres \
            -c "CREATE DATABASE $DATABASE" >/dev/null || die "cannot create database $DATABASE"
    fi

    local port cport end=$((SECONDS + 30)) faults=()
    port=$(free_port)
    cport=$(free_port)
    while [[ $cport == "$port" ]]; do cport=$(free_port); done
    [[ -n ${TELEM_TDS_FAULTS:-} ]] && faults=(--faults "$(realpath "$TELEM_TDS_FAULTS")")
    setsid "$py" "$server" --label "$dir" --port "$port" --control-port "$cport" \
        --dsn "host=127.0.0.1 port=$PGPORT user=postgres dbname=$DATABASE" \
        --user "$USER_" --password "$PASSWORD" --database "$DATABASE" "${faults[@]}" \
        </dev/null >>"$dir/server.log" 2>&1 &
    echo $! >"$pidfile"
    disown

    until curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$cport/health"; do
        our_pid >/dev/null || die "server exited: $(tail -n 5 "$dir/server.log")"
        ((SECONDS < end)) || die "timed out waiting for the server (log: $dir/server.log)"
        sleep 0.1
    done
    write_freetds_conf "$port"
    write_env "$port" "$cport"
    trap - EXIT
    log "up: 127.0.0.1:$port (control 127.0.0.1:$cport), database $DATABASE"
}

stop() {
    halt
    rm -f "$state/env.tds.sh"
    if [[ -d $state ]]; then cat "$state"/env.*.sh >"$state/env.sh" 2>/dev/null || true; fi
    log "stopped ($state)"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
