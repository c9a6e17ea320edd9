#!/bin/sh
# tests/bench/run.sh: runs every benchmark script, the comparison last (`make
# bench` runs only the comparison).
set -eu
dir=$(dirname "$0")
for s in "$dir"/ping.sh "$dir"/queue.sh "$dir"/aof.sh "$dir"/compare.sh; do
    echo "== $s"
    sh "$s"
done
