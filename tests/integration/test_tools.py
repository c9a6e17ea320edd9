"""redis-cli and redis-benchmark (Debian's redis-tools 7.0) against respq.

Spec: redis-surface.md §5 (everything passed with these tools; the ECHO, INFO,
CONFIG and HELLO rows of the "what broke" table) and §6 (the one-liners).
"""

import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

REDIS_CLI = shutil.which("redis-cli")
REDIS_BENCHMARK = shutil.which("redis-benchmark")

pytestmark = pytest.mark.skipif(not (REDIS_CLI and REDIS_BENCHMARK),
                                reason="redis-tools (redis-cli, redis-benchmark) not installed")


def run(argv, input=None, timeout=60):
    p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def cli(server, *args, input=None, timeout=30):
    return run([REDIS_CLI, "-h", server.host, "-p", str(server.port)] + list(args),
               input=input, timeout=timeout)


# ---- redis-cli one-shot ----

def test_cli_ping(server):
    rc, out, err = cli(server, "ping")
    assert (rc, out) == (0, "PONG\n"), err


def test_cli_echo_and_error_output(server):
    rc, out, _ = cli(server, "echo", "hello world")
    assert (rc, out) == (0, "hello world\n")
    rc, out, _ = cli(server, "nosuchcommand", "a")
    assert out.rstrip("\n") == "ERR unknown command 'nosuchcommand', with args beginning with: 'a' "


def test_cli_info_server(server):
    rc, out, _ = cli(server, "info", "server")
    assert rc == 0
    assert "redis_version:7.0.0" in out.splitlines()


def test_cli_config_get(server):
    rc, out, _ = cli(server, "config", "get", "appendonly")
    assert (rc, out) == (0, "appendonly\nno\n")


def test_cli_with_password(server):
    srv = server.spawn("--requirepass", "pw")
    rc, out, _ = cli(srv, "-a", "pw", "--no-auth-warning", "ping")
    assert (rc, out) == (0, "PONG\n")
    rc, out, _ = cli(srv, "ping")
    assert out.startswith("NOAUTH Authentication required.")


def test_cli_quit(server):
    rc, out, _ = cli(server, "quit")
    assert rc == 0 and out.strip() in ("OK", "")
    assert server.raw().cmd_raw("PING") == b"+PONG\r\n"


# ---- redis-cli -3 (HELLO 3) ----

def test_cli_resp3(server):
    rc, out, err = cli(server, "-3", "ping")
    assert (rc, out) == (0, "PONG\n")
    assert "HELLO" not in err and "HELLO" not in out  # no downgrade warning
    # redis-cli prints a map as "key value" lines.
    rc, out, err = cli(server, "-3", "config", "get", "appendonly")
    assert (rc, out) == (0, "appendonly no\n")
    rc, out, err = cli(server, "-3", "hello")
    assert rc == 0
    assert out.splitlines()[:3] == ["server respq", "version 7.0.0", "proto 3"]


def test_cli_resp3_null(server):
    rc, out, err = cli(server, "-3", "client", "getname")
    assert rc == 0 and "HELLO" not in err
    assert out == "\n"


# ---- redis-cli --pipe ----

def _pipe(server, data):
    rc, out, err = cli(server, "--pipe", input=data, timeout=60)
    m = re.search(r"errors: (\d+), replies: (\d+)", out)
    assert m, (out, err)
    return rc, int(m.group(1)), int(m.group(2)), out


def test_cli_pipe_multibulk(server):
    n = 2000
    data = b"".join(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$%d\r\n%d\r\n" % (len(str(i)), i)
                    for i in range(n))
    rc, errors, replies, out = _pipe(server, data)
    assert (rc, errors, replies) == (0, 0, 2 * n), out
    assert "Last reply received from server." in out


def test_cli_pipe_inline(server):
    n = 1000
    data = b"".join(b"PING\r\nECHO item%d\r\n" % i for i in range(n))
    rc, errors, replies, out = _pipe(server, data)
    assert (rc, errors, replies) == (0, 0, 2 * n), out


def test_cli_pipe_counts_errors(server):
    data = b"PING\r\nNOSUCH x\r\nECHO\r\nPING\r\n"
    rc, errors, replies, out = _pipe(server, data)
    assert (errors, replies) == (2, 4), out


# ---- redis-cli --stat (needs INFO) ----

def test_cli_stat_reads_info(server):
    # redis-cli block-buffers stdout into a pipe, so give it a terminal.
    master, slave = pty.openpty()
    p = subprocess.Popen([REDIS_CLI, "-p", str(server.port), "--stat", "-i", "0.1"],
                         stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    text = ""
    deadline = time.monotonic() + 10
    try:
        while text.count("\n") < 3 and time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                text += chunk.decode("utf-8", "replace")
    finally:
        p.kill()
        p.wait()
        os.close(master)
    text = text.replace("\r", "")
    lines = text.split("\n")
    assert "ERROR" not in text, text
    assert len(lines) >= 3, text
    assert "data" in lines[0] and "load" in lines[0], text
    # A data line: keys, mem, clients, blocked, requests, connections.
    assert re.match(r"^\d+\s+\S+\s+\d+\s+\d+\s+\d+", lines[2]), text


# ---- redis-benchmark ----

RATE = r"[\d.]+ requests per second"


def _bench(server, *args):
    rc, out, err = run([REDIS_BENCHMARK, "-h", server.host, "-p", str(server.port)] + list(args),
                       timeout=90)
    text = out + err
    assert rc == 0, text
    assert "Could not fetch server CONFIG" not in text
    return text


def test_benchmark_ping(server):
    text = _bench(server, "-t", "ping", "-n", "20000", "-q")
    assert re.search(r"PING_INLINE: " + RATE, text), text
    assert re.search(r"PING_MBULK: " + RATE, text), text


def test_benchmark_ping_pipelined_16(server):
    text = _bench(server, "-t", "ping", "-n", "20000", "-P", "16", "-q")
    assert re.search(r"PING_INLINE: " + RATE, text), text
    assert re.search(r"PING_MBULK: " + RATE, text), text


def test_benchmark_resp3_pipelined(server):
    text = _bench(server, "-3", "-t", "ping", "-n", "10000", "-P", "16", "-q")
    assert re.search(r"PING_MBULK: " + RATE, text), text


def test_benchmark_custom_command_echo(server):
    text = _bench(server, "-n", "5000", "-c", "10", "-q", "ECHO", "__rand_int__")
    assert re.search(r"ECHO __rand_int__: " + RATE, text), text


def test_server_survives_benchmark(server):
    _bench(server, "-t", "ping", "-n", "5000", "-c", "50", "-q")
    assert server.raw().cmd_raw("PING") == b"+PONG\r\n"
    assert server.running()
