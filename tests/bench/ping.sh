#!/bin/sh
# tests/bench/ping.sh: redis-benchmark -t ping against respq and against
# redis-server started by this script on the same machine, with and without
# pipelining (-P 16), rounds interleaved so that noise from the shared machine
# hits both alike. Prints each rate and respq/redis ratios. Not a test: numbers.
# Usage: tests/bench/ping.sh [requests] [rounds]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-2000000}
ROUNDS=${2:-3}
RP=$(free_port); start_respq "$RP"
DP=$(free_port); start_redis "$DP"

machine
echo "command: redis-benchmark -p PORT -t ping -n $N -c 50 [-P 16] -q, $ROUNDS rounds each, interleaved"
for P in 16 1; do
    for test in PING_INLINE PING_MBULK; do eval "sum_respq_$test=0; sum_redis_$test=0"; done
    for r in $(seq 1 "$ROUNDS"); do
        for who in respq redis; do
            port=$RP; [ $who = redis ] && port=$DP
            out=$(redis-benchmark -p "$port" -t ping -n "$N" -c 50 -P "$P" -q 2>/dev/null)
            for test in PING_INLINE PING_MBULK; do
                v=$(echo "$out" | rps "$test")
                eval "sum_${who}_$test=\$(awk -v a=\$sum_${who}_$test -v b=$v 'BEGIN{print a+b}')"
                echo "  -P $P round $r $who $test: $v rps"
            done
        done
    done
    for test in PING_INLINE PING_MBULK; do
        eval "a=\$sum_respq_$test; b=\$sum_redis_$test"
        echo "-P $P $test: respq $(awk -v s="$a" -v n="$ROUNDS" 'BEGIN{printf "%.0f", s/n}') rps, redis $(awk -v s="$b" -v n="$ROUNDS" 'BEGIN{printf "%.0f", s/n}') rps, ratio $(ratio "$a" "$b")"
    done
done
