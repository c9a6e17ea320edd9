#!/bin/sh
# tests/bench/queue.sh: the queue engine against Redis, in one run on one machine.
#  1. QSEND throughput against LPUSH, 100-byte bodies, -P 16 and -P 1, rounds
#     interleaved.
#  2. Memory: RSS per queued 100-byte message with N queued, respq against a
#     Redis list (LPUSH) and a Redis stream (XADD), each in a fresh server.
#  3. Cost per QSEND/QRECV/QVIS/QDEL at 10,000 and at 10,000,000 queued messages
#     (tests/bench/qops.c), to show it does not grow with depth.
# Usage: tests/bench/queue.sh [requests] [rounds] [memory-messages] [big-depth]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
ROUNDS=${2:-3}
MEMN=${3:-1000000}
BIG=${4:-10000000}
BODY=$(printf 'x%.0s' $(seq 1 100))

machine
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
last_pid() { echo "$PIDS" | awk '{print $NF}'; }

echo "== 1. QSEND vs LPUSH: redis-benchmark -n $N -c 50 [-P 16|-P 1] -q, 100-byte body, $ROUNDS rounds"
RP=$(free_port); start_respq "$RP"
DP=$(free_port); start_redis "$DP"
redis-cli -p "$RP" QCREATE q RETENTION 0 >/dev/null
for P in 16 1; do
    sr=0; sd=0
    for r in $(seq 1 "$ROUNDS"); do
        a=$(redis-benchmark -p "$RP" -n "$N" -c 50 -P "$P" -q QSEND q "$BODY" 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -n 1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/')
        b=$(redis-benchmark -p "$DP" -n "$N" -c 50 -P "$P" -q LPUSH q "$BODY" 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -n 1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/')
        echo "  -P $P round $r: QSEND $a rps, LPUSH $b rps"
        sr=$(awk -v s="$sr" -v v="$a" 'BEGIN{print s+v}'); sd=$(awk -v s="$sd" -v v="$b" 'BEGIN{print s+v}')
        redis-cli -p "$RP" QPURGE q >/dev/null; redis-cli -p "$DP" DEL q >/dev/null
    done
    echo "-P $P: QSEND $(awk -v s="$sr" -v n="$ROUNDS" 'BEGIN{printf "%.0f", s/n}') rps, LPUSH $(awk -v s="$sd" -v n="$ROUNDS" 'BEGIN{printf "%.0f", s/n}') rps, ratio $(ratio "$sr" "$sd")"
done
stop_all; PIDS=""; WORK=$(mktemp -d /tmp/respq-bench.XXXXXX)

echo "== 2. memory: RSS growth per queued 100-byte message, $MEMN messages (redis-benchmark -P 64 -c 1)"
fill() { # port command...
    port=$1; shift
    redis-benchmark -p "$port" -n "$MEMN" -c 1 -P 64 -q "$@" >/dev/null 2>&1
}
RP=$(free_port); start_respq "$RP"; rpid=$(last_pid)
redis-cli -p "$RP" QCREATE q RETENTION 0 >/dev/null
before=$(rss_kb "$rpid"); fill "$RP" QSEND q "$BODY"; after=$(rss_kb "$rpid")
echo "respq: $(redis-cli -p "$RP" QLEN q) queued, $(awk -v a="$after" -v b="$before" -v n="$MEMN" 'BEGIN{printf "%.1f", (a-b)*1024/n}') bytes/message"
LP=$(free_port); start_redis "$LP"; lpid=$(last_pid)
before=$(rss_kb "$lpid"); fill "$LP" LPUSH q "$BODY"; after=$(rss_kb "$lpid")
echo "redis list: $(redis-cli -p "$LP" LLEN q) queued, $(awk -v a="$after" -v b="$before" -v n="$MEMN" 'BEGIN{printf "%.1f", (a-b)*1024/n}') bytes/message"
SP=$(free_port); start_redis "$SP"; spid=$(last_pid)
before=$(rss_kb "$spid"); fill "$SP" XADD s '*' body "$BODY"; after=$(rss_kb "$spid")
echo "redis stream: $(redis-cli -p "$SP" XLEN s) queued, $(awk -v a="$after" -v b="$before" -v n="$MEMN" 'BEGIN{printf "%.1f", (a-b)*1024/n}') bytes/message"
stop_all; PIDS=""; WORK=$(mktemp -d /tmp/respq-bench.XXXXXX)

echo "== 3. cost per operation against depth (tests/bench/qops PORT DEPTH 200 500)"
QOPS="$WORK/qops"
cc -O2 $(pkg-config --cflags hiredis) "$(dirname "$0")/qops.c" -o "$QOPS" $(pkg-config --libs hiredis)
RP=$(free_port); start_respq "$RP"
for depth in 10000 "$BIG"; do
    "$QOPS" "$RP" "$depth" 200 500
done
