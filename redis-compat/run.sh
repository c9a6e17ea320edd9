#!/bin/sh
# redis-compat/run.sh: runs every client program of redis-compat/ against a respq
# server of its own (a fresh one per suite, on a free loopback port, with no AOF),
# so that one suite's queues or a crash cannot spoil the next. Each program prints
# its own "N passed, M failed" line last; this script adds them up and prints the
# total the same way, and exits 1 when any check failed or any suite printed no
# summary (a crash counts as one failure).
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
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

start_server() { # name -> sets PID and RESPQ_PORT
    RESPQ_PORT=$(free_port)
    mkdir -p "$WORK/$1"
    "$SERVER" --port "$RESPQ_PORT" --bind 127.0.0.1 --appendonly no --dir "$WORK/$1" \
        >"$WORK/$1/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        redis-cli -p "$RESPQ_PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "respq-server did not start for $1:" >&2
    cat "$WORK/$1/server.log" >&2
    return 1
}

wanted() { # name
    [ -z "$ONLY" ] && return 0
    for w in $ONLY; do [ "$w" = "$1" ] && return 0; done
    return 1
}

ONLY="$*"
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
        # shellcheck disable=SC2086
        (cd "$ROOT" && RESPQ_HOST=127.0.0.1 RESPQ_PORT=$RESPQ_PORT timeout 600 $cmd) >"$out" 2>&1
        rc=$?
        cat "$out"
        kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""
        if grep -q -E "ERROR: AddressSanitizer|runtime error:" "$WORK/$name/server.log"; then
            echo "$name: the server reported a sanitizer error:"; cat "$WORK/$name/server.log"
            rc=1
        fi
        last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
        if [ -n "$last" ]; then
            p=${last%% passed*}; f=${last#*passed, }; f=${f%% failed}
        else
            echo "$name: no summary line (exit status $rc)"; p=0; f=1
        fi
        [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { echo "$name: exit status $rc"; f=1; }
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
