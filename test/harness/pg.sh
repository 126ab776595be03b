#!/usr/bin/env bash
# pg.sh start|stop STATE_DIR
#
# Throwaway PostgreSQL 15 cluster in STATE_DIR/pg, listening on 127.0.0.1 at a
# free port and on a unix socket in STATE_DIR/pg/sock, trust auth, superuser
# `postgres`, pg_cron preloaded, fsync off. It runs as the `postgres` OS user
# (initdb refuses root), so STATE_DIR must be reachable by that user.
#
#   start  wipe STATE_DIR/pg, initdb, start, create database $PG_DATABASE
#          (default telem, which is also cron.database_name), write
#          STATE_DIR/env.pg.sh. A no-op if this state dir's server is running.
#   stop   pg_ctl stop (fast, then immediate); keeps only the log. Never fails.
#
# FreeTDS (tds_fdw, the loader's bulk copy) runs inside the backends: start
# copies test/harness/freetds/ to STATE_DIR/freetds/etc/ (tds.sh adds the test
# server's entry there), exports FREETDSCONF/FREETDS to the postmaster, and
# runs it in a private mount namespace where that directory is bind-mounted on
# /etc/freetds, because FreeTDS reads locales.conf only from there (the real
# /etc is not written). Without unshare it starts normally, with a warning.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$(realpath "$0")")/lib.sh"

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
state=$(realpath -m "$2")
dir=$state/pg
data=$dir/data
sock=$dir/sock
bin=/usr/lib/postgresql/15/bin
DB=${PG_DATABASE:-telem}

log() { echo "pg: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
as_pg() { runuser -u postgres -- "$@"; }

# freetds_env: STATE_DIR/freetds/etc from the repo's files, readable by postgres.
freetds_env() {
    local src ft=$state/freetds/etc
    src=$(dirname "$(realpath "$0")")/freetds
    mkdir -p "$ft"
    cp "$src/freetds.conf" "$src/locales.conf" "$ft/"
    chmod -R a+rX "$state/freetds"
    export FREETDSCONF=$ft/freetds.conf FREETDS=$state/freetds
}

# pg_start: pg_ctl start, in a mount namespace that shows $FREETDS/etc as /etc/freetds.
pg_start() {
    local cmd=("$bin/pg_ctl" -D "$data" -l "$dir/postgresql.log" -w -t 60 start)
    if [[ -d /etc/freetds ]] && unshare --mount --propagation private true 2>/dev/null; then
        # shellcheck disable=SC2016
        unshare --mount --propagation private -- sh -c \
            'mount --bind "$1" /etc/freetds && shift && exec runuser -u postgres -- "$@"' \
            sh "$FREETDS/etc" "${cmd[@]}"
    else
        log "WARNING: no unshare: FreeTDS in the server uses /etc/freetds/locales.conf"
        as_pg "${cmd[@]}"
    fi
}

running() { [[ -f $data/postmaster.pid ]] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

write_env() {
    printf 'export %s=%q\n' PGHOST 127.0.0.1 PGPORT "$1" PGUSER postgres PGDATABASE "$DB" \
        TELEM_PG_SOCKDIR "$sock" TELEM_PG_LOG "$dir/postgresql.log" >"$state/env.pg.sh"
    cat "$state"/env.*.sh >"$state/env.sh"
}

start() {
    if running; then
        log "already running for $state"
        return 0
    fi
    mkdir -p "$state"
    # postgres must be able to reach $dir (mktemp -d makes 0700 dirs).
    chmod o+x "$state"
    as_pg test -x "$state" || die "user postgres cannot reach $state (a parent dir is not o+x)"
    stop_server
    trap 'stop_server' EXIT  # a failed start leaves nothing running
    rm -rf "$dir"
    mkdir -p "$dir" "$sock"
    chown -R postgres: "$dir"

    local port
    port=$(free_port)
    as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$dir/initdb.log")"
    cat >>"$data/postgresql.conf" <<EOF

# --- test/harness/pg.sh ---
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
shared_preload_libraries = 'pg_cron'
cron.database_name = '$DB'
cron.host = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    freetds_env
    pg_start >/dev/null \
        || die "pg_ctl start failed: $(tail -5 "$dir/postgresql.log")"
    as_pg "$bin/createdb" -h "$sock" -p "$port" -U postgres "$DB"
    write_env "$port"
    trap - EXIT
    log "up: 127.0.0.1:$port db=$DB (socket $sock)"
}

stop_server() {
    running || return 0
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 \
        || as_pg "$bin/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1 \
        || { log "could not stop the server in $data"; return 1; }
}

stop() {
    rm -f "$state/env.pg.sh"
    if [[ -d $state ]]; then cat "$state"/env.*.sh >"$state/env.sh" 2>/dev/null || true; fi
    stop_server && rm -rf "$data" "$sock"
    log "stopped ($state)"
}

case $action in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
