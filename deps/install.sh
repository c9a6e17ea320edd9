#!/bin/sh
# deps/install.sh: installs the Debian packages respq needs, only those missing.
# Called by `make run` and `make test` (and `make bench` with "bench"), so a fresh
# Debian 12 machine needs nothing done by hand. Each package is explained in
# deps/README.md. Usage: deps/install.sh [bench]
set -eu

PACKAGES="build-essential pkg-config libjemalloc-dev liblz4-dev libhiredis-dev
nettle-dev libcmocka-dev redis-tools python3-pytest python3-redis lz4
python3-hiredis libev-dev ruby ruby-redis tmux"
if [ "${1:-}" = "bench" ]; then
    PACKAGES="$PACKAGES redis-server beanstalkd"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Node.js and npm (redis-compat/node): a machine that already has them (from
# Debian or from NodeSource, whose nodejs bundles npm) keeps its own; Debian's
# packages come in only when the commands are missing, since Debian's npm
# conflicts with NodeSource's nodejs.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

echo "deps/install.sh: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps/install.sh: need root (or sudo) to install:$missing" >&2
        exit 1
    }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# redis-server and beanstalkd (bench only) start system services when installed
# (on 6379 and 11300); the benchmarks start their own on free ports, so stop the
# packaged ones if they run.
for svc in redis-server beanstalkd; do
    if echo "$missing" | grep -q "$svc"; then
        (systemctl stop "$svc" 2>/dev/null || service "$svc" stop 2>/dev/null) || true
    fi
done
