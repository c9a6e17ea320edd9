# tests/bench/lib.sh: shared helpers of the benchmark scripts: free ports, starting
# respq and redis-server side by side on loopback, stopping them by pid, and
# pulling the requests-per-second figure out of redis-benchmark's -q output.
# Sourced, not run.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RESPQ="$ROOT/src/respq-server"
WORK=$(mktemp -d /tmp/respq-bench.XXXXXX)
PIDS=""

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port; WAIT_TRIES x 0.05 s (a server loading a big AOF listens late)
    for _ in $(seq 1 "${WAIT_TRIES:-100}"); do
        redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "server on port $1 did not start" >&2
    return 1
}

start_respq() { # port [extra args]
    port=$1; shift
    "$RESPQ" --port "$port" --dir "$WORK" --appendonly no "$@" >"$WORK/respq-$port.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_port "$port"
}

start_redis() { # port [extra args]
    port=$1; shift
    redis-server --port "$port" --bind 127.0.0.1 --dir "$WORK" --save '' \
        --appendonly no "$@" >"$WORK/redis-$port.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_port "$port"
}

wait_tcp() { # port: until something accepts connections there (beanstalkd)
    /usr/bin/python3 - "$1" <<'PY' || { echo "server on port $1 did not start" >&2; return 1; }
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

start_beanstalkd() { # port [extra args]
    port=$1; shift
    beanstalkd -l 127.0.0.1 -p "$port" "$@" >"$WORK/beanstalkd-$port.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_tcp "$port"
}

# The pid of the server started last.
last_pid() { echo "$PIDS" | awk '{print $NF}'; }

# Resident memory of a process, in bytes.
rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }

stop_all() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
# Stop the servers on any way out; a signal must end the script too (in dash a
# trapped INT or TERM would otherwise carry on after stop_all).
trap stop_all EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# rps "PING_MBULK" < output  -> the rate of that test line of `redis-benchmark -q`
rps() {
    tr '\r' '\n' | grep "^$1:" | tail -n 1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

machine() {
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
}
