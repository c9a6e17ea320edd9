#!/bin/sh
# redis-compat/run.sh: runs every client program of redis-compat/ against a respq
# server of its own (a fresh one per suite, on a free loopback port, with no AOF),
# so that one suite's queues or a crash cannot spoil the next. Each program prints
# its own "N passed, M failed" line last; this script adds them up and prints the
# total the same way, and exits 1 when any check failed, any suite printed no
# summary (a crash counts as one failure), or a server did not stop cleanly
# (exit status not 0, a sanitizer report, or still running 10 s after SIGTERM:
# under `make SANITIZE=1` a leak shows only there). A program gets 600 s.
# Usage: redis-compat/run.sh [suite ...]   (default: all; names as in SUITES)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVER=${RESPQ_SERVER:-$ROOT/src/respq-server}
PY=/usr/bin/python3
C="$ROOT/redis-compat"

# name|command (run from the repository root, RESPQ_HOST/RESPQ_PORT set)
SUITES="redis-cli|sh $C/cli/cli.sh
redis-benchmark|sh $C/cli/benchmark.sh
redis-py|$PY $C/python/redis_py.py --parser python
redis-py-hiredis|$PY $C/python/redis_py.py --parser hiredis
redis-py-cluster-keys|$PY $C/python/cluster_keys.py
hiredis-sync|$C/c/hiredis_sync
hiredis-async|$C/c/hiredis_async
ioredis|node $C/node/ioredis.js
node-redis|node $C/node/node_redis.js
ruby-redis|ruby $C/ruby/redis_rb.rb
docs-clients|$PY $C/check_docs.py"

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

WORK=$(mktemp -d /tmp/respq-compat.XXXXXX)
PID=""        # the server of the suite running
CLIENT=""     # the program running

# Stops the server: SIGTERM, then SIGKILL after 10 s. Returns its exit status,
# or 124 when it had to be killed.
stop_server() {
    [ -n "$PID" ] || return 0
    kill "$PID" 2>/dev/null
    for _ in $(seq 1 200); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""
        return 124
    fi
    wait "$PID"; status=$?; PID=""
    return "$status"
}

cleanup() {
    [ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null
    stop_server
    rm -rf "$WORK"
}
# A signal ends the whole run (a trapped signal would otherwise let the loop go
# on with the next suite); EXIT cleans up.
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

start_server() { # name -> sets PID and RESPQ_PORT
    RESPQ_PORT=$(free_port)
    mkdir -p "$WORK/$1"
    "$SERVER" --port "$RESPQ_PORT" --bind 127.0.0.1 --appendonly no --dir "$WORK/$1" \
        >"$WORK/$1/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        # Our server must be the one answering: if it died (the port taken by
        # another process, say), stop waiting.
        kill -0 "$PID" 2>/dev/null || break
        redis-cli -p "$RESPQ_PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "respq-server did not start for $1:" >&2
    cat "$WORK/$1/server.log" >&2
    stop_server
    return 1
}

wanted() { # name
    [ -z "$ONLY" ] && return 0
    for w in $ONLY; do [ "$w" = "$1" ] && return 0; done
    return 1
}

ONLY="$*"
for w in $ONLY; do
    echo "$SUITES" | grep -q "^$w|" || { echo "run.sh: no suite named '$w'" >&2; exit 2; }
done
total_pass=0; total_fail=0; summary=""
NL='
'
IFS_SAVE=$IFS
IFS=$NL
for line in $SUITES; do
    IFS=$IFS_SAVE
    name=${line%%|*}; cmd=${line#*|}
    wanted "$name" || { IFS=$NL; continue; }
    echo "== $name"
    if start_server "$name"; then
        out="$WORK/$name/out"
        # In the background, so that a signal to this script is handled at once.
        # shellcheck disable=SC2086
        (cd "$ROOT" && RESPQ_HOST=127.0.0.1 RESPQ_PORT=$RESPQ_PORT timeout -k 10 600 $cmd) \
            >"$out" 2>&1 &
        CLIENT=$!
        wait "$CLIENT"; rc=$?; CLIENT=""
        cat "$out"
        stop_server; server_rc=$?
        server_bad=""
        [ "$server_rc" -eq 124 ] && server_bad="did not stop within 10 s of SIGTERM"
        [ "$server_rc" -ne 0 ] && [ -z "$server_bad" ] && server_bad="exited with status $server_rc"
        if grep -q -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$WORK/$name/server.log"; then
            server_bad="reported a sanitizer error"
        fi
        last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
        if [ -n "$last" ]; then
            p=${last%% passed*}; f=${last#*passed, }; f=${f%% failed}
        else
            echo "$name: no summary line (exit status $rc)"; p=0; f=1
        fi
        [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "$name: exit status $rc"; f=1; }
        if [ -n "$server_bad" ]; then
            echo "$name: the server $server_bad:"; cat "$WORK/$name/server.log"
            f=$((f + 1))
        fi
    else
        p=0; f=1
    fi
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    summary="$summary$(printf '  %-24s %s passed, %s failed' "$name" "$p" "$f")$NL"
    IFS=$NL
done
IFS=$IFS_SAVE
echo "== redis-compat summary"
printf '%s' "$summary"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
