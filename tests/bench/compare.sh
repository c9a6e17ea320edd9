#!/bin/sh
# tests/bench/compare.sh: respq against the servers a user would pick instead,
# in one run on one machine, with respq-benchmark driving all of them the same
# way (`make bench`).
#
# For each durability level (none, everysec, always) it starts, one at a time on
# free loopback ports, respq, redis-server (for three ways of queueing on Redis:
# LPUSH + RPOP, the reliable LMOVE pattern, streams with XADD + XREADGROUP +
# XACK) and beanstalkd, each with the matching setting:
#   none      respq appendonly no         redis appendonly no, no RDB   beanstalkd (no log)
#   everysec  respq appendfsync everysec  redis appendfsync everysec    beanstalkd -b -f 1000
#   always    respq appendfsync always    redis appendfsync always      beanstalkd -b -f 0
# and runs the same workloads against each:
#   send       N messages, 50 connections, pipeline 16
#   recv       the same N received and acknowledged, 50 connections,
#              pipeline 4, COUNT 10 (LMOVE and beanstalkd move one per request)
#   mixed      25 producers (pipeline 16) and 25 long-polling consumers
#              (COUNT 10) for T seconds, then the rest drained
#   roundtrip  4 producers (pipeline 64) held to half of respq's mixed rate at
#              that level, 4 long-polling consumers (COUNT 50), T seconds:
#              send-to-receipt latency (a run whose producers could not keep the
#              rate asked is marked '!': its latency is not at that load)
# plus resident memory per queued message after `send`. Servers are stopped by
# pid. It prints one table per level with respq's ratio to each other server.
#
# Usage: tests/bench/compare.sh [messages] [seconds] [levels] [targets]
#   defaults: 200000 5 "none everysec always" "respq redis-list redis-lmove
#   redis-stream beanstalkd"; under `always`, send and recv use a tenth of the
#   messages (one fsync per event-loop turn makes them slow everywhere).
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-200000}
T=${2:-5}
LEVELS=${3:-none everysec always}
TARGETS=${4:-respq redis-list redis-lmove redis-stream beanstalkd}
BENCH="$ROOT/src/respq-benchmark"
RESULTS="$WORK/results"
: >"$RESULTS"

[ -x "$BENCH" ] || { echo "build first: make" >&2; exit 1; }
for cmd in redis-server redis-cli beanstalkd; do
    command -v "$cmd" >/dev/null || { echo "$cmd is missing: sh deps/install.sh bench" >&2; exit 1; }
done

start_target() { # level target -> a server on $PORT, its pid in $SPID
    PORT=$(free_port)
    d="$WORK/$1-$2"; mkdir -p "$d"
    case "$2" in
    respq)
        case "$1" in
        none) start_respq "$PORT" --dir "$d" ;;
        *) start_respq "$PORT" --dir "$d" --appendonly yes --appendfsync "$1" ;;
        esac ;;
    redis-*)
        case "$1" in
        none) start_redis "$PORT" --dir "$d" ;;
        *) start_redis "$PORT" --dir "$d" --appendonly yes --appendfsync "$1" ;;
        esac ;;
    beanstalkd)
        case "$1" in
        none) start_beanstalkd "$PORT" -z 1048576 ;;
        everysec) start_beanstalkd "$PORT" -z 1048576 -b "$d" -f 1000 ;;
        always) start_beanstalkd "$PORT" -z 1048576 -b "$d" -f 0 ;;
        esac ;;
    esac
    SPID=$(last_pid)
}

stop_target() {
    kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    PIDS=$(echo "$PIDS" | sed "s/ $SPID\$//")
}

# bench level target workload [respq-benchmark options]: runs one workload and
# keeps "level target workload rate p99_us ok" in $RESULTS.
bench() {
    level=$1; target=$2; wl=$3; shift 3
    out=$(timeout 600 "$BENCH" -p "$PORT" -t "$target" -w "$wl" --quiet "$@" 2>&1) && ok=ok || ok=FAILED
    line=$(echo "$out" | grep '^RESULT' || true)
    if [ -z "$line" ]; then
        echo "  $target $wl: no result: $out"
        echo "$level $target $wl 0 0 FAILED" >>"$RESULTS"
        return
    fi
    rate=$(echo "$line" | sed 's/.* rate=\([0-9]*\).*/\1/')
    p99=$(echo "$line" | sed 's/.* p99_us=\([0-9.]*\).*/\1/')
    [ "$ok" = ok ] || echo "  $target $wl FAILED: $(echo "$out" | grep -v '^RESULT' | tr '\n' ' ')"
    asked=$(echo "$line" | sed 's/.* rate_limit=\([0-9]*\).*/\1/')
    kept=$(echo "$line" | sed 's/.* send_rate=\([0-9]*\).*/\1/')
    if [ "$asked" -gt 0 ] && [ "$kept" -lt $((asked * 95 / 100)) ]; then
        ok=SLOW
        echo "  $target $wl: producers kept $kept of the $asked msg/s asked"
    fi
    echo "  $target $wl: $rate msg/s, p99 $p99 us ($ok)"
    echo "$level $target $wl $rate $p99 $ok" >>"$RESULTS"
}

get() { # level target workload field(4 rate, 5 p99)
    awk -v l="$1" -v t="$2" -v w="$3" -v f="$4" '$1==l && $2==t && $3==w {print $f}' "$RESULTS"
}

machine
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); messages $N, seconds $T; respq-benchmark, redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), $(beanstalkd -v)"
for level in $LEVELS; do
    n=$N
    [ "$level" = always ] && n=$((N / 10))
    [ "$n" -gt 0 ] || n=1
    roundtrip_rate=""
    echo "== durability: $level"
    for target in $TARGETS; do
        start_target "$level" "$target"
        rss0=$(rss_bytes "$SPID")
        bench "$level" "$target" send -n "$n" -c 50 -P 16 --prefix s
        rss1=$(rss_bytes "$SPID")
        echo "$level $target rss $(( (rss1 - rss0) / n )) 0 ok" >>"$RESULTS"
        bench "$level" "$target" recv -n "$n" -c 50 -P 4 -C 10 --prefix s
        bench "$level" "$target" mixed -T "$T" -c 50 -P 16 -C 10 --prefix m
        if [ -z "$roundtrip_rate" ]; then
            # Half of respq's mixed rate at this level (respq runs first; without
            # it in the list, 1000 msg/s).
            roundtrip_rate=1000
            [ "$target" = respq ] && roundtrip_rate=$(( $(get "$level" respq mixed 4) / 2 ))
            [ "$roundtrip_rate" -gt 0 ] || roundtrip_rate=1000
        fi
        bench "$level" "$target" roundtrip -T "$T" -c 8 --producers 4 -P 64 -C 50 -r "$roundtrip_rate" --prefix r
        stop_target
    done
    echo "$level roundtrip_rate $roundtrip_rate" >>"$WORK/rates"
done

# ---- The table ----
echo
echo "== results (msg/s; roundtrip: p99 send-to-receipt latency in us; rss: bytes per queued message)"
for level in $LEVELS; do
    rr=$(awk -v l="$level" '$1==l {print $3}' "$WORK/rates")
    printf '\n%s\n' "durability $level (roundtrip at $rr msg/s)"
    printf '%-12s' "workload"
    for t in $TARGETS; do printf '%14s' "$t"; done
    for t in $TARGETS; do [ "$t" = respq ] || printf '%20s' "respq/$t"; done
    printf '\n'
    for wl in send recv mixed roundtrip rss; do
        printf '%-12s' "$wl"
        for t in $TARGETS; do
            f=4; [ "$wl" = roundtrip ] && f=5
            v=$(get "$level" "$t" "$wl" "$f"); ok=$(get "$level" "$t" "$wl" 6)
            [ "$ok" = ok ] || v="$v!"
            printf '%14s' "$v"
        done
        r=$(get "$level" respq "$wl" 4); [ "$wl" = roundtrip ] && r=$(get "$level" respq "$wl" 5)
        for t in $TARGETS; do
            [ "$t" = respq ] && continue
            f=4; [ "$wl" = roundtrip ] && f=5
            o=$(get "$level" "$t" "$wl" "$f")
            # Higher is better for rates; for latency and memory, lower is, so
            # the ratio is turned round: above 1 always means respq does better.
            case "$wl" in
            roundtrip|rss) printf '%20s' "$(ratio "$o" "$r")" ;;
            *) printf '%20s' "$(ratio "$r" "$o")" ;;
            esac
        done
        printf '\n'
    done
done
echo
echo "ratios: above 1 means respq does better (more msg/s; lower latency or memory); '!' marks a run whose exactly-once check or replies failed, or whose producers could not keep the roundtrip rate"
