#!/usr/bin/env bash
# services.sh start|stop STATE_DIR
#
# Starts/stops every stand-in service for the tests, all on 127.0.0.1 at free
# ports, all state under STATE_DIR (so several copies can run side by side):
#   pg.sh       PostgreSQL 15 with pg_cron, database telem
#   rgw.sh      Ceph RADOS Gateway (S3, SigV4)
#   azurite.sh  Azurite blob service (Azure Blob over HTTPS: SharedKey, SAS,
#               Entra ID bearer tokens)
#   tokens.sh   fake Entra ID / IMDS token service, issuing tokens Azurite takes
#   tds.sh      TDS test server (Azure SQL stand-in executing on PostgreSQL);
#               it needs pg, so it starts after pg and stops before it
# start writes STATE_DIR/env.sh (source it for PG*, TELEM_S3_*, TELEM_AZURE_*,
# TELEM_TOKEN_*, TELEM_TDS_*, FREETDSCONF).
# If any service fails to start, everything is stopped again and it exits 1.
# stop never fails: it is meant for traps:
#   services.sh start "$dir"; trap 'services.sh stop "$dir"' EXIT
set -euo pipefail

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
state=$(realpath -m "$2")
here=$(dirname "$(realpath "$0")")
services=(pg rgw azurite tokens)

# run_one SERVICE ACTION: pg carries tds along (tds after pg, stopped before it).
run_one() {
    case $1:$2 in
        pg:start) "$here/pg.sh" start "$state" && "$here/tds.sh" start "$state" ;;
        pg:stop) "$here/tds.sh" stop "$state" || true; "$here/pg.sh" stop "$state" ;;
        *) "$here/$1.sh" "$2" "$state" ;;
    esac
}

# run_all ACTION: run ACTION for every service in parallel; fail if any failed.
run_all() {
    local svc failed=0
    local -A pids=()
    for svc in "${services[@]}"; do
        run_one "$svc" "$1" &
        pids[$svc]=$!
    done
    for svc in "${services[@]}"; do
        wait "${pids[$svc]}" || { echo "services: $svc $1 failed" >&2; failed=1; }
    done
    return "$failed"
}

case $action in
    start)
        mkdir -p "$state"
        t0=${EPOCHREALTIME/./}
        if ! run_all start; then
            run_all stop || true
            rm -f "$state/env.sh"
            exit 1
        fi
        # the services wrote their parts concurrently: assemble env.sh once more
        cat "$state"/env.*.sh >"$state/env.sh"
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
        echo "services: up in ${ms} ms; source $state/env.sh" >&2
        ;;
    stop)
        run_all stop || echo "services: some service did not stop cleanly" >&2
        rm -f "$state/env.sh"
        ;;
    *) usage ;;
esac
