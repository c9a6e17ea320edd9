#!/bin/sh
# redis-compat/cli/benchmark.sh: redis-benchmark (Debian redis-tools 7.0) against
# respq: `-t ping`, and custom QSEND/QRECV command lines, plain, pipelined (-P)
# and in RESP3 (-3). It checks that each run completes cleanly and that the
# queues then hold exactly what the runs sent and received; speed is not judged
# beyond "a rate above 0".
#
# Why it is shaped so: redis-benchmark 7.0 stops at the first error reply with
# "Error from server: <text>" on stderr and exit status 1 (its -e flag is a
# no-op), and it warns when its CONFIG GET probe fails. So each run's exit
# status and its whole output (progress lines use \r, turned into lines here)
# are checked for ERR/error/WARNING, and one deliberate error run shows that
# this detection works. Pipelined runs use request counts that are multiples
# of -P because redis-benchmark rounds the count up to whole pipelines.
# Every redis-benchmark line is written out in full because docs/clients.md
# quotes them verbatim. Each redis-benchmark runs under `timeout 120` and each
# redis-cli under `timeout 30`, so a server that stops answering ends the run
# with FAILs and the summary line, not a hang (a timed-out run exits with 124).
# Queue names start with bench_.
# POSIX sh (dash): no bashisms.
set -u
: "${RESPQ_HOST:=127.0.0.1}"
: "${RESPQ_PORT:=6390}"

TMP=$(mktemp -d /tmp/respq-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

. "$(dirname "$0")/checks.sh" # ok, not_ok, one_line, expect_eq, raw_field, finish

# The final "<title>: <rate> requests per second, ..." line of a -q run.
summary_lines() { tr '\r' '\n' <"$1" | sed 's/^ *//' | grep ' requests per second' ; }

check_clean_run() { # what exit-status output-file
    expect_eq "$1 exits with status 0" 0 "$2"
    problems=$(tr '\r' '\n' <"$3" | grep -E 'ERR|[Ee]rror|WARNING')
    expect_eq "$1 prints no error or warning" "" "$problems"
}

check_rate() { # what output-file title
    rate=$(summary_lines "$2" | sed -n "s/^$3: \([0-9.]*\) requests per second.*/\1/p")
    if [ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r > 0) }'; then
        ok "$1 reports $3 at a rate above 0 ($rate requests per second)"
    else
        not_ok "$1 reports $3 at a rate above 0" "summary lines: [$(one_line "$(summary_lines "$2")")]"
    fi
}

# ---------------------------------------------------------------- -t ping
timeout 120 redis-benchmark -h "$RESPQ_HOST" -p "$RESPQ_PORT" -t ping -n 10000 -q >"$TMP/ping" 2>&1
status=$?
check_clean_run "redis-benchmark -t ping -n 10000 -q" "$status" "$TMP/ping"
check_rate "redis-benchmark -t ping" "$TMP/ping" PING_INLINE
check_rate "redis-benchmark -t ping" "$TMP/ping" PING_MBULK

# ------------------------------------------------- custom QSEND / QRECV lines
# A long lease, so that "all 20000 in flight" cannot be spoilt by a slow run.
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE bench_queue VISIBILITY 600 2>&1)
expect_eq "QCREATE bench_queue VISIBILITY 600 is OK" OK "$out"

# -r makes redis-benchmark replace __rand_int__; without it the text is sent as is.
timeout 120 redis-benchmark -h "$RESPQ_HOST" -p "$RESPQ_PORT" -n 20000 -c 10 -r 1000000 -q QSEND bench_queue "body __rand_int__" >"$TMP/qsend" 2>&1
status=$?
check_clean_run "redis-benchmark QSEND bench_queue" "$status" "$TMP/qsend"
check_rate "redis-benchmark QSEND bench_queue" "$TMP/qsend" "QSEND bench_queue body __rand_int__"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QLEN bench_queue 2>&1)
expect_eq "QLEN bench_queue after 20000 QSENDs is 20000" 20000 "$out"
bodies=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QPEEK bench_queue COUNT 3 2>&1 | sed -n '2p;5p;8p')
matching=$(printf '%s\n' "$bodies" | grep -Ecx 'body [0-9]{12}')
expect_eq "the bodies carry the random number in place of __rand_int__" 3 "$matching"

timeout 120 redis-benchmark -h "$RESPQ_HOST" -p "$RESPQ_PORT" -n 2000 -c 10 -q QRECV bench_queue COUNT 10 >"$TMP/qrecv" 2>&1
status=$?
check_clean_run "redis-benchmark QRECV bench_queue COUNT 10" "$status" "$TMP/qrecv"
check_rate "redis-benchmark QRECV bench_queue COUNT 10" "$TMP/qrecv" "QRECV bench_queue COUNT 10"
info=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QINFO bench_queue 2>&1)
expect_eq "after 2000 QRECV COUNT 10, QINFO bench_queue inflight is 20000" 20000 "$(raw_field inflight "$info")"
expect_eq "after 2000 QRECV COUNT 10, QINFO bench_queue ready is 0" 0 "$(raw_field ready "$info")"
expect_eq "after 2000 QRECV COUNT 10, QINFO bench_queue received_total is 20000" \
    20000 "$(raw_field received_total "$info")"

# ------------------------------------------------------ pipelined, and RESP3
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE bench_pipelined VISIBILITY 600 2>&1)
expect_eq "QCREATE bench_pipelined VISIBILITY 600 is OK" OK "$out"
timeout 120 redis-benchmark -h "$RESPQ_HOST" -p "$RESPQ_PORT" -n 16000 -c 10 -P 16 -r 1000000 -q QSEND bench_pipelined "body __rand_int__" >"$TMP/pipelined" 2>&1
status=$?
check_clean_run "redis-benchmark -P 16 QSEND bench_pipelined" "$status" "$TMP/pipelined"
check_rate "redis-benchmark -P 16 QSEND bench_pipelined" "$TMP/pipelined" \
    "QSEND bench_pipelined body __rand_int__"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QLEN bench_pipelined 2>&1)
expect_eq "QLEN bench_pipelined after 16000 pipelined QSENDs is 16000" 16000 "$out"

timeout 120 redis-benchmark -h "$RESPQ_HOST" -p "$RESPQ_PORT" -3 -n 1600 -c 10 -P 16 -q QRECV bench_pipelined COUNT 10 >"$TMP/resp3" 2>&1
status=$?
check_clean_run "redis-benchmark -3 -P 16 QRECV bench_pipelined COUNT 10" "$status" "$TMP/resp3"
check_rate "redis-benchmark -3 -P 16 QRECV bench_pipelined COUNT 10" "$TMP/resp3" \
    "QRECV bench_pipelined COUNT 10"
info=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QINFO bench_pipelined 2>&1)
expect_eq "after 1600 RESP3 QRECV COUNT 10, QINFO bench_pipelined inflight is 16000" \
    16000 "$(raw_field inflight "$info")"
expect_eq "after 1600 RESP3 QRECV COUNT 10, QINFO bench_pipelined ready is 0" \
    0 "$(raw_field ready "$info")"

# ----------------------------------------- an error reply is seen, not hidden
timeout 120 redis-benchmark -h "$RESPQ_HOST" -p "$RESPQ_PORT" -n 100 -c 2 -q QSEND bench_missing x >"$TMP/missing" 2>&1
status=$?
expect_eq "redis-benchmark QSEND bench_missing exits with status 1 on the error reply" 1 "$status"
expect_eq "redis-benchmark QSEND bench_missing prints the server's NOQUEUE error" \
    "Error from server: NOQUEUE no such queue 'bench_missing'" \
    "$(tr '\r' '\n' <"$TMP/missing" | grep '^Error from server')"

for queue in bench_queue bench_pipelined; do
    out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QDROP "$queue" 2>&1)
    expect_eq "QDROP $queue is 1" 1 "$out"
done

finish
