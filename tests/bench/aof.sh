#!/bin/sh
# tests/bench/aof.sh: the cost of durability, in one run on one machine.
#  1. QSEND throughput with appendfsync everysec against respq with appendonly no
#     (redis-benchmark -c 50 -P 16 and -P 1), rounds interleaved.
#  2. appendfsync always with 50 clients (-P 1): respq against redis-server with
#     appendfsync always (LPUSH), both writing to the same disk.
#  3. The size of the files after N sends of a typical JSON body: respq's AOF
#     directory against Redis's (LPUSH, appendonly yes, no rewrite).
#  4. Start-up load rate: a data directory of R records, loaded by a restart
#     (the server logs the load time).
# Usage: [SECTIONS=1234] tests/bench/aof.sh [requests] [rounds] [size-sends] [load-records]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-1000000}
ROUNDS=${2:-3}
SIZEN=${3:-1000000}
LOADN=${4:-10000000}
SECTIONS=${SECTIONS:-1234}
JSON='{"order_id":__rand_int__,"customer":{"id":"c-48213","name":"Ada Lovelace","tier":"gold"},"items":[{"sku":"BK-1001","qty":2,"price":12.5},{"sku":"PN-0042","qty":1,"price":3.99}],"currency":"EUR","total":28.99,"created":"2026-11-28T23:59:59Z"}'

machine
rate() { tr '\r' '\n' | grep 'requests per second' | tail -n 1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/'; }
dir_bytes() { du -sb "$1" | awk '{print $1}'; }

if echo "$SECTIONS" | grep -q 1; then
echo "== 1. QSEND, appendfsync everysec vs appendonly no: redis-benchmark -n $N -c 50 -P {16,1} -r 100000000, JSON body ($(printf %s "$JSON" | wc -c) bytes)"
A=$(free_port); start_respq "$A"                         # --appendonly no (lib.sh)
mkdir -p "$WORK/ev"; B=$(free_port); start_respq "$B" --appendonly yes --appendfsync everysec --dir "$WORK/ev"
for p in "$A" "$B"; do redis-cli -p "$p" QCREATE q RETENTION 0 >/dev/null; done
for P in 16 1; do
    sa=0; sb=0
    for r in $(seq 1 "$ROUNDS"); do
        a=$(redis-benchmark -p "$A" -n "$N" -c 50 -P "$P" -r 100000000 -q QSEND q "$JSON" 2>/dev/null | rate)
        b=$(redis-benchmark -p "$B" -n "$N" -c 50 -P "$P" -r 100000000 -q QSEND q "$JSON" 2>/dev/null | rate)
        echo "  -P $P round $r: appendonly no $a rps, everysec $b rps"
        sa=$(awk -v s="$sa" -v v="$a" 'BEGIN{print s+v}'); sb=$(awk -v s="$sb" -v v="$b" 'BEGIN{print s+v}')
        redis-cli -p "$A" QPURGE q >/dev/null; redis-cli -p "$B" QPURGE q >/dev/null
    done
    echo "-P $P: everysec / no = $(ratio "$sb" "$sa")"
done
stop_all; PIDS=""; WORK=$(mktemp -d /tmp/respq-bench.XXXXXX)
fi
if echo "$SECTIONS" | grep -q 2; then
echo "== 2. appendfsync always, 50 clients, -P 1: redis-benchmark -n $((N / 10)) -c 50 -P 1"
mkdir -p "$WORK/ra" "$WORK/da"
A=$(free_port); start_respq "$A" --appendonly yes --appendfsync always --dir "$WORK/ra"
D=$(free_port); start_redis "$D" --appendonly yes --appendfsync always --dir "$WORK/da"
redis-cli -p "$A" QCREATE q RETENTION 0 >/dev/null
sa=0; sd=0
for r in $(seq 1 "$ROUNDS"); do
    a=$(redis-benchmark -p "$A" -n $((N / 10)) -c 50 -P 1 -r 100000000 -q QSEND q "$JSON" 2>/dev/null | rate)
    d=$(redis-benchmark -p "$D" -n $((N / 10)) -c 50 -P 1 -r 100000000 -q LPUSH q "$JSON" 2>/dev/null | rate)
    echo "  round $r: respq QSEND $a rps, redis LPUSH $d rps"
    sa=$(awk -v s="$sa" -v v="$a" 'BEGIN{print s+v}'); sd=$(awk -v s="$sd" -v v="$d" 'BEGIN{print s+v}')
done
echo "always: respq / redis = $(ratio "$sa" "$sd")"
stop_all; PIDS=""; WORK=$(mktemp -d /tmp/respq-bench.XXXXXX)
fi
if echo "$SECTIONS" | grep -q 3; then
echo "== 3. file size after $SIZEN sends (redis-benchmark -c 1 -P 64 -r 100000000), JSON body"
mkdir -p "$WORK/rs" "$WORK/ds"
A=$(free_port); start_respq "$A" --appendonly yes --dir "$WORK/rs" --auto-aof-rewrite-percentage 0
D=$(free_port); start_redis "$D" --appendonly yes --dir "$WORK/ds" --auto-aof-rewrite-percentage 0
redis-cli -p "$A" QCREATE q RETENTION 0 >/dev/null
redis-benchmark -p "$A" -n "$SIZEN" -c 1 -P 64 -r 100000000 -q QSEND q "$JSON" >/dev/null 2>&1
redis-benchmark -p "$D" -n "$SIZEN" -c 1 -P 64 -r 100000000 -q LPUSH q "$JSON" >/dev/null 2>&1
sleep 2
ra=$(dir_bytes "$WORK/rs/appendonlydir"); da=$(dir_bytes "$WORK/ds/appendonlydir")
echo "respq AOF: $ra bytes ($(awk -v b="$ra" -v n="$SIZEN" 'BEGIN{printf "%.1f", b/n}') per send); redis AOF: $da bytes ($(awk -v b="$da" -v n="$SIZEN" 'BEGIN{printf "%.1f", b/n}') per send); ratio $(ratio "$ra" "$da")"
stop_all; PIDS=""; WORK=$(mktemp -d /tmp/respq-bench.XXXXXX)
fi
if echo "$SECTIONS" | grep -q 4; then
echo "== 4. start-up load of $LOADN records"
mkdir -p "$WORK/ld"
A=$(free_port); start_respq "$A" --appendonly yes --dir "$WORK/ld" --auto-aof-rewrite-percentage 0
apid=$(echo "$PIDS" | awk '{print $NF}')
redis-cli -p "$A" QCREATE q RETENTION 0 >/dev/null
redis-benchmark -p "$A" -n "$LOADN" -c 4 -P 256 -q QSEND q "payload-of-a-load-test-message-0123456789" >/dev/null 2>&1
redis-cli -p "$A" SHUTDOWN >/dev/null 2>&1 || true
wait "$apid" 2>/dev/null || true
PIDS=""
WAIT_TRIES=12000 start_respq "$A" --appendonly yes --dir "$WORK/ld" --auto-aof-rewrite-percentage 0
grep -h "AOF loaded" "$WORK"/respq-"$A".log | tail -n 1
secs=$(grep -h "AOF loaded" "$WORK"/respq-"$A".log | tail -n 1 | sed 's/.* in \([0-9.]*\) s.*/\1/')
echo "records: $((LOADN + 1)), load time ${secs} s, $(awk -v n="$LOADN" -v s="$secs" 'BEGIN{ if (s > 0) printf "%.0f", n/s; else print "n/a"}') records/s; queued after load: $(redis-cli -p "$A" QLEN q)"
fi
