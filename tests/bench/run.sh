#!/bin/sh
# tests/bench/run.sh: runs every benchmark script (`make bench`).
set -eu
dir=$(dirname "$0")
for s in "$dir"/ping.sh "$dir"/queue.sh "$dir"/aof.sh; do
    echo "== $s"
    sh "$s"
done
