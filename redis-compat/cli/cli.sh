#!/bin/sh
# redis-compat/cli/cli.sh: the redis-compat session (see ../README.md) driven by
# redis-cli (Debian redis-tools 7.0), the way a shell user or script would use it:
# one process per command, `--pipe` for bulk loading, `-3` for RESP3, and the
# interactive prompt (hints and `help` built from COMMAND DOCS) driven through tmux.
#
# Why it is shaped so: redis-cli prints reply types only on a tty or with
# --no-raw, so every check whose point is the type (simple string vs bulk,
# integer, nil, error, array, map) runs with --no-raw or -3 and compares the
# whole printed text; checks about values use the default raw output. Every
# redis-cli line is written out in full (queue names included) because
# docs/clients.md quotes them verbatim. Each redis-cli runs under `timeout 30`
# (and the background long poll gets a bounded wait), so a server that stops
# answering ends the run with FAILs and the summary line, not a hang; the
# interactive one in tmux is never waited for. Queue names start with cli_.
# POSIX sh (dash): no bashisms.
set -u
: "${RESPQ_HOST:=127.0.0.1}"
: "${RESPQ_PORT:=6390}"

TMP=$(mktemp -d /tmp/respq-cli.XXXXXX)
TMUX_SOCKET=respq-compat-$$
long_poll_pid=""
cleanup() {
    [ -n "$long_poll_pid" ] && kill "$long_poll_pid" 2>/dev/null
    tmux -L "$TMUX_SOCKET" kill-server 2>/dev/null
    # tmux 3.3 leaves the socket file behind after kill-server
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCKET"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$(dirname "$0")/checks.sh" # ok, not_ok, one_line, expect_eq, raw_field, finish

expect_line() { # what ERE actual: actual must be one line matching the whole ERE
    if [ -n "$3" ] && [ "$(printf '%s\n' "$3" | wc -l)" -eq 1 ] &&
        printf '%s\n' "$3" | grep -Eqx -- "$2"; then ok "$1"
    else not_ok "$1" "expected one line matching /$2/, got [$(one_line "$3")]"; fi
}

verdict() { # status-of-the-check what why-if-not-0
    if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2" "$3"; fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
line_of() { printf '%s\n' "$2" | sed -n "$1p"; }  # line-number text

# --no-raw RESP2 field/value list (QINFO) -> "field=value" lines, the value as
# redis-cli typed it: "text", (integer) n, (nil), (empty array), 1) "x".
field_pairs() { printf '%s\n' "$1" | sed 's/^ *[0-9]*) //' | paste -d= - - | sed 's/^"\([^"]*\)"=/\1=/'; }
field_of() { printf '%s\n' "$2" | sed -n "s/^$1=//p"; }  # field pairs

# ---------------------------------------------------------------- the session
# 1. QCREATE
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QCREATE cli_jobs VISIBILITY 30 2>&1)
expect_eq "QCREATE cli_jobs VISIBILITY 30 is the simple string OK" "OK" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE cli_jobs VISIBILITY 30 2>&1)
expect_eq "QCREATE cli_jobs VISIBILITY 30 again is OK" "OK" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QCREATE cli_jobs VISIBILITY 10 2>&1)
expect_eq "QCREATE cli_jobs VISIBILITY 10 is the EXISTS error" \
    "(error) EXISTS queue 'cli_jobs' exists with different attributes" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE cli_jobs VISIBILITY 10 2>&1)
expect_eq "raw output of the EXISTS error is its text" \
    "EXISTS queue 'cli_jobs' exists with different attributes" "$(line_of 1 "$out")"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QCREATE cli_orders FIFO 2>&1)
expect_eq "QCREATE cli_orders FIFO is OK" "OK" "$out"

# 2. QSEND: ids are opaque strings of at most 40 bytes
id_low=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_jobs low PRIORITY 1 2>&1)
expect_line "QSEND cli_jobs low PRIORITY 1 replies an id" '[!-~]{1,40}' "$id_low"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QSEND cli_jobs high PRIORITY 9 2>&1)
expect_line "QSEND cli_jobs high PRIORITY 9 replies a bulk string id" '"[!-~]{1,40}"' "$out"
id_high=${out#\"}; id_high=${id_high%\"}
id_later=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_jobs later DELAY 1 2>&1)
sent_later_ms=$(now_ms)
expect_line "QSEND cli_jobs later DELAY 1 replies an id" '[!-~]{1,40}' "$id_later"
id_plain=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_jobs plain 2>&1)
expect_line "QSEND cli_jobs plain replies an id" '[!-~]{1,40}' "$id_plain"
distinct=$(printf '%s\n' "$id_low" "$id_high" "$id_later" "$id_plain" | sort -u | wc -l)
expect_eq "the four ids are all different" 4 "$distinct"

# 3. QLEN: the delayed message is not ready
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QLEN cli_jobs 2>&1)
expect_eq "QLEN cli_jobs is the integer 3" "(integer) 3" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QLEN cli_jobs 2>&1)
expect_eq "raw QLEN cli_jobs is 3" "3" "$out"

# 4. QRECV: priority first, then send order. The receipts are the only
# unknown parts, so they are read from the reply and the whole text compared.
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QRECV cli_jobs COUNT 10 VISIBILITY 5 2>&1)
receipts=$(printf '%s\n' "$out" | sed -n 's/^   2) "\(.*\)"$/\1/p')
r_high=$(line_of 1 "$receipts"); r_low=$(line_of 2 "$receipts"); r_plain=$(line_of 3 "$receipts")
expected=$(printf '%s) 1) "%s"\n   2) "%s"\n   3) "%s"\n   4) (integer) 1\n' \
    1 "$id_high" "$r_high" high 2 "$id_low" "$r_low" low 3 "$id_plain" "$r_plain" plain)
expect_eq "QRECV cli_jobs COUNT 10 VISIBILITY 5 is [id, receipt, body, 1] for high, low, plain" \
    "$expected" "$out"
distinct=$(printf '%s\n' "$receipts" | grep -Ex '[!-~]{1,64}' | sort -u | wc -l)
expect_eq "the three receipts are different strings of at most 64 bytes" 3 "$distinct"

# 5. QDEL
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QDEL cli_jobs "$r_high" 2>&1)
expect_eq "QDEL of high's receipt is the integer 1" "(integer) 1" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QDEL cli_jobs "$r_high" 2>&1)
expect_eq "QDEL of the same receipt again is the integer 0" "(integer) 0" "$out"

# 6. QVIS
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QVIS cli_jobs "$r_low" 0 2>&1)
expect_eq "QVIS of low's receipt 0 is OK" "OK" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QVIS cli_jobs "$r_plain" 60 2>&1)
expect_eq "QVIS of plain's receipt 60 is OK" "OK" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QVIS cli_jobs "$r_high" 5 2>&1)
expect_eq "QVIS of the deleted message's receipt is the BADRECEIPT error" \
    "(error) BADRECEIPT receipt is stale or unknown" "$out"

# 7. after the delay, low comes back (second delivery, new receipt), then later
elapsed=$(($(now_ms) - sent_later_ms))
[ "$elapsed" -lt 1100 ] && sleep "$(awk -v ms="$elapsed" 'BEGIN { printf "%.3f", (1100 - ms) / 1000 }')"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QRECV cli_jobs COUNT 10 2>&1)
r_low2=$(line_of 2 "$out"); r_later=$(line_of 6 "$out")
expected=$(printf '%s\n' "$id_low" "$r_low2" low 2 "$id_later" "$r_later" later 1)
expect_eq "QRECV cli_jobs COUNT 10 after the delay gives low (receives 2) then later (receives 1)" \
    "$expected" "$out"
distinct=$(printf '%s\n' "$r_low2" "$r_later" | grep -Ex '[!-~]{1,64}' | sort -u | wc -l)
expect_eq "their two receipts are different strings of at most 64 bytes" 2 "$distinct"
[ -n "$r_low2" ] && [ "$r_low2" != "$r_low" ]
verdict $? "the second delivery of low has a new receipt" "got [$r_low2], first receipt [$r_low]"

# 8. FIFO with dedup ids
id_o1=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_orders o1 GROUP g1 DEDUPID d1 2>&1)
expect_line "QSEND cli_orders o1 GROUP g1 DEDUPID d1 replies an id" '[!-~]{1,40}' "$id_o1"
id_o2=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_orders o2 GROUP g1 DEDUPID d2 2>&1)
expect_line "QSEND cli_orders o2 GROUP g1 DEDUPID d2 replies an id" '[!-~]{1,40}' "$id_o2"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_orders o1 GROUP g1 DEDUPID d1 2>&1)
expect_eq "the duplicate QSEND (dedup id d1) replies the first id" "$id_o1" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QRECV cli_orders COUNT 10 2>&1)
r_o1=$(line_of 2 "$out"); r_o2=$(line_of 6 "$out")
expected=$(printf '%s\n' "$id_o1" "$r_o1" o1 1 "$id_o2" "$r_o2" o2 1)
expect_eq "QRECV cli_orders COUNT 10 gives o1 then o2, once each" "$expected" "$out"
distinct=$(printf '%s\n' "$r_o1" "$r_o2" | grep -Ex '[!-~]{1,64}' | sort -u | wc -l)
expect_eq "o1 and o2 have different receipts of at most 64 bytes" 2 "$distinct"

# 9. long polling: the sender waits until the server counts the receiver as
# blocked (at least 0.2 s), so that a slow start of redis-cli cannot turn the
# blocking receive into a plain one.
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE cli_wait 2>&1)
expect_eq "QCREATE cli_wait is OK" "OK" "$out"
timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QRECV cli_wait WAIT 5 >"$TMP/long_poll" 2>&1 &
long_poll_pid=$!
sleep 0.2
blocked=""
for _ in $(seq 1 40); do
    blocked=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" INFO queues | tr -d '\r' |
        sed -n 's/^respq_blocked_receivers://p')
    [ "$blocked" = 1 ] && break
    sleep 0.05
done
expect_eq "INFO queues counts the QRECV cli_wait WAIT 5 as a blocked receiver" 1 "$blocked"
sent_wake_ms=$(now_ms)
id_wake=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_wait wake 2>&1)
# A bounded wait: after 10 s (twice the WAIT) the receiver is killed, which
# fails the checks below instead of hanging here.
for _ in $(seq 1 200); do
    kill -0 "$long_poll_pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$long_poll_pid" 2>/dev/null; then
    kill "$long_poll_pid" 2>/dev/null
    not_ok "the blocked redis-cli ends within 10 s" "still running; killed"
fi
wait "$long_poll_pid"
long_poll_status=$?
woken_after_ms=$(($(now_ms) - sent_wake_ms))
long_poll_pid=""
out=$(cat "$TMP/long_poll")
receipt=$(printf '%s\n' "$out" | sed -n 's/^   2) "\(.*\)"$/\1/p')
expected=$(printf '1) 1) "%s"\n   2) "%s"\n   3) "wake"\n   4) (integer) 1' "$id_wake" "$receipt")
expect_eq "the blocked QRECV cli_wait WAIT 5 returns the message sent meanwhile" "$expected" "$out"
expect_line "its receipt is a string of at most 64 bytes" '[!-~]{1,64}' "$receipt"
expect_eq "the blocked redis-cli exits with status 0" 0 "$long_poll_status"
[ "$woken_after_ms" -lt 1000 ]
verdict $? "the blocked QRECV returns well before 5 s (within 1 s of the QSEND)" \
    "it returned ${woken_after_ms} ms after the QSEND"
started_ms=$(now_ms)
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QRECV cli_wait WAIT 0.2 2>&1)
took_ms=$(($(now_ms) - started_ms))
expect_eq "QRECV cli_wait WAIT 0.2 on the empty queue is an empty array" "(empty array)" "$out"
[ "$took_ms" -ge 200 ] && [ "$took_ms" -lt 2000 ]
verdict $? "QRECV cli_wait WAIT 0.2 waits at least 0.2 s and not much longer" "it took ${took_ms} ms"

# 10. QINFO under RESP2: a flat field/value list
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QINFO cli_jobs 2>&1)
pairs=$(field_pairs "$out")
expect_eq "QINFO cli_jobs is a flat list of 24 field/value pairs" 48 "$(printf '%s\n' "$out" | wc -l)"
expect_eq "QINFO cli_jobs name is \"cli_jobs\"" '"cli_jobs"' "$(field_of name "$pairs")"
expect_eq "QINFO cli_jobs type is \"standard\"" '"standard"' "$(field_of type "$pairs")"
expect_eq "QINFO cli_jobs dlq is nil" '(nil)' "$(field_of dlq "$pairs")"
expect_eq "QINFO cli_jobs visibility_ms is the integer 30000" '(integer) 30000' "$(field_of visibility_ms "$pairs")"
# plain (QVIS 60), low and later are leased; high is deleted
expect_eq "QINFO cli_jobs inflight is the integer 3" '(integer) 3' "$(field_of inflight "$pairs")"
expect_eq "QINFO cli_jobs dlq_sources is an empty array" '(empty array)' "$(field_of dlq_sources "$pairs")"

# 11. an error does not spoil the connection: two commands on one connection,
# which redis-cli does when it reads them from stdin
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QSEND cli_missing x 2>&1)
expect_eq "QSEND cli_missing x is the NOQUEUE error" "(error) NOQUEUE no such queue 'cli_missing'" "$out"
out=$(printf 'QSEND cli_missing x\nQLEN cli_orders\n' |
    timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw 2>&1)
expected=$(printf '%s\n' "(error) NOQUEUE no such queue 'cli_missing'" "(integer) 0")
expect_eq "after the NOQUEUE error the same connection still answers QLEN" "$expected" "$out"

# 12. QDROP
for queue in cli_jobs cli_orders cli_wait; do
    out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QDROP "$queue" 2>&1)
    expect_eq "QDROP $queue is the integer 1" "(integer) 1" "$out"
done

# ---------------------------------------------------------------- RESP3 (-3)
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" -3 --no-raw HELLO 3 2>&1)
normalised=$(printf '%s\n' "$out" | sed 's/^4# "id" => (integer) [0-9][0-9]*$/4# "id" => (integer) <id>/')
expected='1# "server" => "respq"
2# "version" => "7.0.0"
3# "proto" => (integer) 3
4# "id" => (integer) <id>
5# "mode" => "standalone"
6# "role" => "master"
7# "modules" => (empty array)'
expect_eq "-3 HELLO 3 is a map: server respq, version 7.0.0, proto 3" "$expected" "$normalised"

out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE cli_resp3 2>&1)
expect_eq "QCREATE cli_resp3 is OK" "OK" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" -3 --no-raw QINFO cli_resp3 2>&1)
keys=$(printf '%s\n' "$out" | sed -n 's/^ *[0-9]*# "\([^"]*\)" => .*/\1/p' | tr '\n' ' ')
expected="name type dlq visibility_ms delay_ms retention_ms wait_ms maxsize maxdepth maxreceives contentdedup created_ms modified_ms ready inflight delayed blocked oldest_age_ms sent_total received_total deleted_total expired_total deadlettered_total dlq_sources "
expect_eq "-3 QINFO cli_resp3 is a map with the contract's fields in the contract's order" "$expected" "$keys"
expect_eq "-3 QINFO cli_resp3 name" ' 1# "name" => "cli_resp3"' "$(line_of 1 "$out")"
expect_eq "-3 QINFO cli_resp3 dlq is null" ' 3# "dlq" => (nil)' "$(line_of 3 "$out")"
expect_eq "-3 QINFO cli_resp3 visibility_ms is the integer 30000" \
    ' 4# "visibility_ms" => (integer) 30000' "$(line_of 4 "$out")"
expect_eq "-3 QINFO cli_resp3 dlq_sources is an empty array" \
    '24# "dlq_sources" => (empty array)' "$(line_of 24 "$out")"

before_send_ms=$(now_ms)
id_meta=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_resp3 with-meta PRIORITY 4 2>&1)
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" -3 --no-raw QRECV cli_resp3 WITHMETA 2>&1)
after_recv_ms=$(now_ms)
receipt=$(printf '%s\n' "$out" | sed -n 's/^   2) "\(.*\)"$/\1/p')
sent_ms=$(printf '%s\n' "$out" | sed -n 's/^   5) 1# "sent_ms" => (integer) \([0-9]*\)$/\1/p')
first_ms=$(printf '%s\n' "$out" | sed -n 's/^      2# "first_received_ms" => (integer) \([0-9]*\)$/\1/p')
expected=$(printf '%s\n' "1) 1) \"$id_meta\"" "   2) \"$receipt\"" '   3) "with-meta"' '   4) (integer) 1' \
    "   5) 1# \"sent_ms\" => (integer) $sent_ms" \
    "      2# \"first_received_ms\" => (integer) $first_ms" \
    '      3# "priority" => (integer) 4' '      4# "group" => (nil)' \
    '      5# "dedupid" => (nil)' '      6# "dlq_source" => (nil)')
expect_eq "-3 QRECV cli_resp3 WITHMETA has the meta map as fifth element" "$expected" "$out"
expect_line "-3 QRECV cli_resp3 WITHMETA's receipt is a string of at most 64 bytes" '[!-~]{1,64}' "$receipt"
[ -n "$sent_ms" ] && [ -n "$first_ms" ] && [ "$before_send_ms" -le "$sent_ms" ] &&
    [ "$sent_ms" -le "$first_ms" ] && [ "$first_ms" -le "$after_recv_ms" ]
verdict $? "WITHMETA sent_ms <= first_received_ms, both during this test" \
    "sent_ms [$sent_ms] first_received_ms [$first_ms], test window $before_send_ms..$after_recv_ms"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" -3 --no-raw QRECV cli_resp3 2>&1)
expect_eq "-3 QRECV on the now empty cli_resp3 is an empty array" "(empty array)" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" -3 --no-raw QDROP cli_resp3 2>&1)
expect_eq "-3 QDROP cli_resp3 is the integer 1" "(integer) 1" "$out"

# ---------------------------------------------------------------- --pipe
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE cli_pipe 2>&1)
expect_eq "QCREATE cli_pipe is OK" "OK" "$out"
# RESP rather than inline so that any body would go through; awk writes the
# 100,000 commands in a fraction of a second.
awk 'BEGIN { for (i = 1; i <= 100000; i++) { body = "m" i
    printf "*3\r\n$5\r\nQSEND\r\n$8\r\ncli_pipe\r\n$%d\r\n%s\r\n", length(body), body } }' >"$TMP/pipe.resp"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --pipe <"$TMP/pipe.resp" 2>&1)
pipe_status=$?
expect_eq "redis-cli --pipe of 100000 QSENDs reports no errors" \
    "errors: 0, replies: 100000" "$(printf '%s\n' "$out" | grep '^errors: ')"
expect_eq "redis-cli --pipe exits with status 0" 0 "$pipe_status"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QLEN cli_pipe 2>&1)
expect_eq "QLEN cli_pipe after --pipe is 100000" 100000 "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QINFO cli_pipe 2>&1)
expect_eq "QINFO cli_pipe sent_total is 100000" 100000 "$(raw_field sent_total "$out")"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QPEEK cli_pipe COUNT 2 2>&1)
expected=$(printf '%s\n' "$(line_of 1 "$out")" m1 0 "$(line_of 4 "$out")" m2 0)
expect_eq "QPEEK cli_pipe COUNT 2 shows m1 then m2, never received" "$expected" "$out"
out=$(printf '%s\n' "$out" | sed -n '1p;4p' | grep -Ex '[!-~]{1,40}' | sort -u | wc -l)
expect_eq "QPEEK cli_pipe gives two different ids" 2 "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QPURGE cli_pipe 2>&1)
expect_eq "QPURGE cli_pipe removes the 100000 messages" "(integer) 100000" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QLEN cli_pipe 2>&1)
expect_eq "QLEN cli_pipe after QPURGE is 0" 0 "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QDROP cli_pipe 2>&1)
expect_eq "QDROP cli_pipe is 1" 1 "$out"

# ------------------------------------ QSET, QPEEK, QSCAN and a DLQ round trip
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE cli_dlq 2>&1)
expect_eq "QCREATE cli_dlq is OK" "OK" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QCREATE cli_src DLQ cli_dlq MAXRECEIVES 1 2>&1)
expect_eq "QCREATE cli_src DLQ cli_dlq MAXRECEIVES 1 is OK" "OK" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QSET cli_src VISIBILITY 10 2>&1)
expect_eq "QSET cli_src VISIBILITY 10 is OK" "OK" "$out"
pairs=$(field_pairs "$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QINFO cli_src 2>&1)")
expect_eq "QINFO cli_src visibility_ms is 10000 after QSET" '(integer) 10000' "$(field_of visibility_ms "$pairs")"
expect_eq "QINFO cli_src dlq is \"cli_dlq\"" '"cli_dlq"' "$(field_of dlq "$pairs")"
expect_eq "QINFO cli_src maxreceives is 1" '(integer) 1' "$(field_of maxreceives "$pairs")"
pairs=$(field_pairs "$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QINFO cli_dlq 2>&1)")
expect_eq "QINFO cli_dlq dlq_sources is [cli_src]" '1) "cli_src"' "$(field_of dlq_sources "$pairs")"

id_doomed=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSEND cli_src doomed 2>&1)
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QPEEK cli_src 2>&1)
expected=$(printf '1) 1) "%s"\n   2) "doomed"\n   3) (integer) 0' "$id_doomed")
expect_eq "QPEEK cli_src is [[id, body, 0]] and leases nothing" "$expected" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QRECV cli_src 2>&1)
receipt=$(line_of 2 "$out")
expect_eq "QRECV cli_src still gets the peeked message" "$id_doomed doomed 1" \
    "$(line_of 1 "$out") $(line_of 3 "$out") $(line_of 4 "$out")"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QVIS cli_src "$receipt" 0 2>&1)
expect_eq "QVIS cli_src <receipt> 0 on its last allowed delivery is OK" "OK" "$out"
out="$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QLEN cli_src 2>&1) $(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QLEN cli_dlq 2>&1)"
expect_eq "the message moved to the DLQ (QLEN cli_src, QLEN cli_dlq)" "0 1" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QPEEK cli_dlq 2>&1)
expected=$(printf '%s\n' "$id_doomed" doomed 1)
expect_eq "QPEEK cli_dlq shows it with its id and receives 1" "$expected" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QDROP cli_dlq 2>&1)
expect_eq "QDROP of a queue in use as a DLQ is the INUSE error" \
    "(error) INUSE queue 'cli_dlq' is the dead-letter queue of 'cli_src'" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QREDRIVE cli_dlq 2>&1)
expect_eq "QREDRIVE cli_dlq moves 1 message" "(integer) 1" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QPEEK cli_src 2>&1)
expected=$(printf '%s\n' "$id_doomed" doomed 0)
expect_eq "the redriven message is back in cli_src, same id, receives 0" "$expected" "$out"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QREDRIVE cli_dlq 2>&1)
expect_eq "QREDRIVE cli_dlq again moves nothing" 0 "$out"

# QSCAN with COUNT 1 so that the cursor really has to be followed
cursor=0; scanned=""; rounds=0
while :; do
    out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSCAN "$cursor" MATCH 'cli_*' COUNT 1 2>&1)
    cursor=$(line_of 1 "$out")
    scanned="$scanned$(printf '%s\n' "$out" | sed '1d')
"
    rounds=$((rounds + 1))
    [ "$cursor" = 0 ] || [ "$rounds" -ge 100 ] && break
done
scanned=$(printf '%s' "$scanned" | grep -v '^$' | sort -u | tr '\n' ' ')
expect_eq "QSCAN <cursor> MATCH 'cli_*' COUNT 1 until cursor 0 finds cli_dlq and cli_src" \
    "cli_dlq cli_src " "$scanned"
expect_eq "QSCAN ended with cursor 0" 0 "$cursor"
out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QSCAN 0 MATCH 'cli_s*' COUNT 100 2>&1)
expected=$(printf '1) "0"\n2) 1) "cli_src"')
expect_eq "QSCAN 0 MATCH 'cli_s*' COUNT 100 is [\"0\", [cli_src]]" "$expected" "$out"

out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" QSET cli_src NODLQ 2>&1)
expect_eq "QSET cli_src NODLQ is OK" "OK" "$out"
for queue in cli_dlq cli_src; do
    out=$(timeout 30 redis-cli -h "$RESPQ_HOST" -p "$RESPQ_PORT" --no-raw QDROP "$queue" 2>&1)
    expect_eq "QDROP $queue is the integer 1" "(integer) 1" "$out"
done

# ------------------------------------------- interactive mode through tmux
# redis-cli 7.0 builds its hints and `help` text from COMMAND DOCS at start-up;
# the expected texts are the contract's command signatures. History and rc
# file are kept out of the user's home.
tmux_() { tmux -L "$TMUX_SOCKET" "$@"; }
pane() { tmux_ capture-pane -p -S - -t respq; }
wait_pane() { # fixed-string line that must appear in the pane
    for _ in $(seq 1 50); do
        pane | grep -Fqx -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
prompt="$RESPQ_HOST:$RESPQ_PORT>"
prompt_line() { pane | grep -F -- "$prompt" | tail -n 1; }
tmux_ new-session -d -s respq -x 250 -y 100 \
    "REDISCLI_HISTFILE=/dev/null REDISCLI_RCFILE=/dev/null redis-cli -h $RESPQ_HOST -p $RESPQ_PORT"
wait_pane "$prompt"
verdict $? "interactive redis-cli shows its prompt in tmux" "pane: [$(one_line "$(pane)")]"

check_hint() { # typed-text expected-hint
    tmux_ send-keys -t respq -l "$1"
    wait_pane "$prompt $1$2"
    expect_eq "typing '$1' shows the hint '$2'" "$prompt $1$2" "$(prompt_line)"
    tmux_ send-keys -t respq C-u
}
check_hint 'QSEND cli_myq ' 'body [PRIORITY p] [DELAY sec] [GROUP g] [DEDUPID d]'
check_hint 'QRECV cli_myq ' '[COUNT n] [VISIBILITY sec] [WAIT sec] [WITHMETA]'
check_hint 'QDEL ' 'queue receipt [receipt ...]'

tmux_ send-keys -t respq -l 'help QSEND'; tmux_ send-keys -t respq Enter
wait_pane '  group: queue'
out=$(pane | grep -A 3 -Fx '  QSEND queue body [PRIORITY p] [DELAY sec] [GROUP g] [DEDUPID d]')
expect_line "help QSEND shows the signature" '  QSEND queue body \[PRIORITY p\] \[DELAY sec\] \[GROUP g\] \[DEDUPID d\]' \
    "$(line_of 1 "$out")"
expect_line "help QSEND shows a summary" '  summary: .*[a-z].*' "$(line_of 2 "$out")"
expect_eq "help QSEND shows the group" '  group: queue' "$(line_of 4 "$out")"

tmux_ send-keys -t respq -l 'clear'; tmux_ send-keys -t respq Enter
tmux_ clear-history -t respq
tmux_ send-keys -t respq -l 'help @queue'; tmux_ send-keys -t respq Enter
wait_pane '  QVIS queue receipt sec'
listed=$(pane | sed -n 's/^  \(Q[A-Z]*\) .*/\1/p' | sort -u | tr '\n' ' ')
for command in QCREATE QSET QDROP QPURGE QLEN QINFO QSCAN QSEND QRECV QDEL QVIS QPEEK QREDRIVE; do
    case " $listed" in
    *" $command "*) ok "help @queue lists $command" ;;
    *) not_ok "help @queue lists $command" "listed: [$listed]" ;;
    esac
done

# the prompt prints types, as --no-raw does
tmux_ send-keys -t respq -l 'clear'; tmux_ send-keys -t respq Enter
tmux_ clear-history -t respq
tmux_ send-keys -t respq -l 'QLEN cli_myq'; tmux_ send-keys -t respq Enter
wait_pane "(error) NOQUEUE no such queue 'cli_myq'"
expect_eq "QLEN cli_myq typed at the prompt shows the NOQUEUE error" \
    "(error) NOQUEUE no such queue 'cli_myq'" "$(pane | grep -F '(error)' | tail -n 1)"
tmux_ send-keys -t respq -l 'quit'; tmux_ send-keys -t respq Enter
tmux_ kill-server 2>/dev/null

finish
