# test/harness/lib.sh -- helpers shared by the service scripts (source it).
#
#   free_port            print a free TCP port on 127.0.0.1
#   alive PID            true while PID runs (a zombie counts as dead)
#   halt_pid PID SIG S   send SIG, wait up to S seconds, then SIGKILL;
#                        returns once PID is gone
#   pid_if_ours PIDFILE MARKER
#                        the pid in PIDFILE, if that process is still running
#                        and its command line contains MARKER (so a reused pid
#                        of someone else's process is never signalled)

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ ${st:0:1} != Z ]]
}

halt_pid() {
    local pid=$1 sig=$2 secs=$3 i
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.05; done
}

pid_if_ours() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$2" || return 1
    echo "$pid"
}
