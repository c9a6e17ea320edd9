"""Helpers for the durability tests (test_durability_*.py).

Written from the command contract (spec/commands.md: "Durability contract" and the
`appendonly no` rule) and docs/persistence.md (files, frames, start-up, rewrites).

- `AofServer`: a respq-server with `--appendonly yes --appendfsync <mode>` on its
  own data directory, that can be killed with SIGKILL (together with a rewrite
  child it may have forked) and started again on the same directory, as often as a
  test likes. `log_since_start()` is what the last start printed.
- `aof` fixture: makes AofServers; at teardown stops the running ones with SIGTERM
  and fails the test on a non-zero exit status or a sanitizer report.
- LZ4 frames: `lz4_frames(data)` finds where each frame of a file begins and ends
  from the frame format alone (header, block sizes, end mark, checksums), as a crash
  would leave them; `lz4_decode(data)` runs lz4 on some bytes.
- The manifest and the files it names; `replay_into(port, aof_dir)`: the documented
  `cat files | lz4cat | redis-cli --pipe`.
- State: `snapshot(conn)` is every queue's QINFO (without `oldest_age_ms`, which
  moves with the clock) and QPEEK COUNT 1000; `assert_same_state` shows the first
  differences.
- `Seed`: a seeded random generator whose seed is printed, and named in the
  assertion message, when the test fails.
"""

import os
import random
import re
import signal
import struct
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from queue_helpers import QINFO_FIELDS
from respq_testlib import (Error, RespMap, Server, ServerStartError, Simple, as_dict,
                           server_binary)

AOF_DIRNAME = "appendonlydir"
MANIFEST = "respq.aof.manifest"
LZ4_MAGIC = 0x184D2204
BGREWRITE_STARTED = b"+Background append only file rewriting started\r\n"


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------


def make_seed():
    """RESPQ_TEST_SEED if set, else a fresh random seed."""
    env = os.environ.get("RESPQ_TEST_SEED")
    return int(env) if env else random.SystemRandom().randrange(1 << 32)


@contextmanager
def seeded(seed):
    """Prints the seed, and puts it in the message of any failure inside."""
    print("random seed: %d (rerun with RESPQ_TEST_SEED=%d)" % (seed, seed))
    try:
        yield random.Random(seed)
    except AssertionError as e:
        raise AssertionError("[seed %d; rerun with RESPQ_TEST_SEED=%d] %s" % (seed, seed, e)) from e


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------


def child_pids(pid):
    """Pids of the direct children of pid (a rewrite child), from /proc."""
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


class AofServer(Server):
    """A server with the append-only file on, restartable on the same directory."""

    def __init__(self, dir, fsync="always", extra=(), appendonly="yes"):
        self.fsync = fsync
        super().__init__(dir, args=["--appendonly", appendonly, "--appendfsync", fsync] + list(extra))
        self._marks = {}
        self.starts = 0

    @property
    def aof_dir(self):
        return self.dir / AOF_DIRNAME

    def start(self, ready_timeout=15.0):
        self._marks = {p: (p.stat().st_size if p.exists() else 0)
                       for p in (self.stdout_path, self.stderr_path)}
        self.returncode = None
        self.stopped_by = None
        super().start(ready_timeout)
        self.starts += 1
        return self

    def log_since_start(self):
        """What the server printed since its last start (stdout then stderr)."""
        text = ""
        for p in (self.stdout_path, self.stderr_path):
            if p.exists():
                with open(p, "rb") as f:
                    f.seek(self._marks.get(p, 0))
                    text += f.read().decode("utf-8", "replace")
        return text

    def sigkill(self):
        """SIGKILL to the server (a crash), then to any rewrite child it had."""
        assert self.proc is not None and self.proc.poll() is None, \
            "server not running (exit status %s):\n%s" % (
                self.proc and self.proc.poll(), self.log_since_start()[-3000:])
        kids = child_pids(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # A deliberate kill: not a problem for the teardown check.
        self.returncode = None
        self.stopped_by = None

    def sigterm(self, timeout=20.0):
        """SIGTERM; returns the exit status (None if it did not exit in time)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def restart_after_kill(self):
        self.sigkill()
        return self.start()


@pytest.fixture
def aof(tmp_path):
    """make(fsync="always", *extra, name=None, appendonly="yes", start=True) -> an
    AofServer in tmp_path/<name> (started unless start=False). Servers left running are stopped with SIGTERM at the end; a
    non-zero exit status there, or a sanitizer report, fails the test."""
    made = []

    def make(fsync="always", *extra, name=None, appendonly="yes", start=True):
        d = tmp_path / (name or ("aof%d" % (len(made) + 1)))
        srv = AofServer(d, fsync, [str(x) for x in extra], appendonly=appendonly)
        made.append(srv)
        if start:
            try:
                srv.start()
            except ServerStartError as e:
                pytest.fail(str(e), pytrace=False)
        return srv

    yield make
    problems = []
    for srv in made:
        if srv.running():
            srv.stop(20)
        for p in srv.problems():
            problems.append("server in %s: %s" % (srv.dir, p))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def run_server_expect_exit(dir, *args, timeout=20.0):
    """Runs respq-server on dir expecting it to exit by itself (a refused start).
    Returns (exit status, output). Fails if it is still running after timeout."""
    from respq_testlib import free_port
    argv = [server_binary(), "--port", str(free_port()), "--bind", "127.0.0.1",
            "--dir", str(dir)] + [str(a) for a in args]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, cwd=str(dir))
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise AssertionError("server did not exit within %.0fs (it should refuse to start): %s\n%s"
                             % (timeout, argv, out.decode("utf-8", "replace")[-3000:]))
    return p.returncode, out.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Files, frames, manifest
# ---------------------------------------------------------------------------


def read_manifest(aof_dir):
    """[(name, seq, type)] from respq.aof.manifest, checking each line's form."""
    text = (Path(aof_dir) / MANIFEST).read_text()
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^file (\S+) seq (\d+) type ([bi])$", line)
        assert m, "manifest line not 'file <name> seq <n> type b|i': %r" % line
        out.append((m.group(1), int(m.group(2)), m.group(3)))
    return out


def manifest_files(aof_dir):
    return [Path(aof_dir) / name for name, _, _ in read_manifest(aof_dir)]


def lz4_frames(data):
    """[(start, end)] of the LZ4 frames of data (a whole, undamaged file), from the
    frame format: magic, FLG, BD, [content size], [dict id], HC, blocks (size word,
    data, [checksum]) up to the 0 end mark, [content checksum]. Skippable frames
    count as frames too."""
    frames = []
    off = 0
    n = len(data)
    while off < n:
        start = off
        assert off + 4 <= n, "file ends in a frame's magic at %d" % off
        magic = struct.unpack_from("<I", data, off)[0]
        if magic & 0xFFFFFFF0 == 0x184D2A50:
            size = struct.unpack_from("<I", data, off + 4)[0]
            off += 8 + size
            frames.append((start, off))
            continue
        assert magic == LZ4_MAGIC, "no LZ4 frame magic at offset %d: %r" % (off, data[off:off + 8])
        flg = data[off + 4]
        p = off + 6
        if flg & 0x08:
            p += 8
        if flg & 0x01:
            p += 4
        p += 1  # header checksum
        while True:
            assert p + 4 <= n, "file ends inside the frame at %d" % start
            bs = struct.unpack_from("<I", data, p)[0]
            p += 4
            if bs == 0:
                break
            p += bs & 0x7FFFFFFF
            if flg & 0x10:
                p += 4
        if flg & 0x04:
            p += 4
        assert p <= n, "file ends inside the frame at %d" % start
        frames.append((start, p))
        off = p
    return frames


def lz4_decode(data):
    """Decompresses LZ4 frames with the lz4 command; raises on any error."""
    p = subprocess.run(["lz4", "-d", "-c"], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, "lz4 -d failed: %s" % p.stderr.decode("utf-8", "replace")
    return p.stdout


def aof_plain(aof_dir):
    """The decompressed bytes of the files the manifest names, in order."""
    return b"".join(lz4_decode(f.read_bytes()) for f in manifest_files(aof_dir))


def dir_listing(aof_dir):
    return sorted(p.name for p in Path(aof_dir).iterdir())


def replay_into(port, aof_dir):
    """`cat <manifest files> | lz4cat | redis-cli -p PORT --pipe`, as the contract
    and docs/persistence.md give it. Returns redis-cli's output; fails unless it
    reports 0 errors."""
    names = " ".join("'%s'" % f.name for f in manifest_files(aof_dir))
    cmd = "set -o pipefail; cat %s | lz4cat | redis-cli -h 127.0.0.1 -p %d --pipe" % (names, port)
    p = subprocess.run(["bash", "-c", cmd], cwd=str(aof_dir), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0 and re.search(r"errors: 0\b", out), \
        "replay with lz4cat | redis-cli --pipe failed (status %d):\n%s" % (p.returncode, out[-3000:])
    return out


# ---------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------


def queue_names(conn):
    names = set()
    cursor = b"0"
    for _ in range(100000):
        reply = conn.cmd("QSCAN", cursor, "COUNT", 100)
        assert isinstance(reply, list) and len(reply) == 2, reply
        cursor, batch = reply
        names.update(batch)
        if cursor in (b"0", "0"):
            return sorted(names)
    raise AssertionError("QSCAN did not finish")


def qinfo_dict(conn, q):
    reply = conn.cmd("QINFO", q)
    assert isinstance(reply, (list, RespMap)), "QINFO %r -> %r" % (q, reply)
    d = as_dict(reply)
    assert list(d) == QINFO_FIELDS, list(d)
    return d


def snapshot(conn):
    """{queue name (str): {"info": QINFO without oldest_age_ms, "peek": QPEEK COUNT 1000}},
    plus DBSIZE. Everything in it comes from the log, so a restart or a replay
    must give it back exactly."""
    out = {"#dbsize": conn.cmd("DBSIZE")}
    for q in queue_names(conn):
        info = qinfo_dict(conn, q)
        del info["oldest_age_ms"]
        peek = conn.cmd("QPEEK", q, "COUNT", 1000)
        assert isinstance(peek, list), "QPEEK %r -> %r" % (q, peek)
        out[q.decode()] = {"info": info, "peek": peek}   # names are ASCII
    return out


def _short(v, n=200):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


def state_diff(a, b, limit=12):
    lines = []
    for k in sorted(set(a) | set(b)):
        if k not in a:
            lines.append("%r only in the second state" % (k,))
        elif k not in b:
            lines.append("%r only in the first state" % (k,))
        elif a[k] != b[k]:
            if isinstance(a[k], dict) and isinstance(b[k], dict):
                for f in ("info", "peek"):
                    x, y = a[k].get(f), b[k].get(f)
                    if f == "info" and x != y:
                        for field in x:
                            if x.get(field) != y.get(field):
                                lines.append("%r %s: %s != %s" % (k, field, _short(x.get(field)),
                                                                  _short(y.get(field))))
                    elif x != y:
                        lines.append("%r QPEEK: %d vs %d messages; first difference: %s"
                                     % (k, len(x), len(y), _first_diff(x, y)))
            else:
                lines.append("%r: %s != %s" % (k, _short(a[k]), _short(b[k])))
        if len(lines) >= limit:
            lines.append("...")
            break
    return "\n".join(lines)


def _first_diff(x, y):
    for i in range(max(len(x), len(y))):
        u = x[i] if i < len(x) else None
        v = y[i] if i < len(y) else None
        if u != v:
            return "#%d %s vs %s" % (i, _short(u), _short(v))
    return "none"


def assert_same_state(before, after, what):
    assert before == after, "state differs %s:\n%s" % (what, state_diff(before, after))


# ---------------------------------------------------------------------------
# INFO
# ---------------------------------------------------------------------------


def info(conn, section="persistence"):
    text = conn.cmd("INFO", section)
    assert isinstance(text, bytes), text
    out = {}
    for line in text.decode().split("\r\n"):
        m = re.match(r"^([A-Za-z0-9_]+):(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def wait_rewrite_done(conn, timeout=30.0):
    """Waits until no rewrite runs or is scheduled; returns INFO persistence."""
    deadline = time.monotonic() + timeout
    while True:
        d = info(conn)
        if d.get("aof_rewrite_in_progress") == "0" and d.get("aof_rewrite_scheduled", "0") == "0":
            return d
        assert time.monotonic() < deadline, "rewrite still running after %.0fs: %r" % (timeout, d)
        time.sleep(0.02)


def bgrewriteaof(conn, wait=True):
    reply = conn.cmd_raw("BGREWRITEAOF")
    assert reply == BGREWRITE_STARTED, "BGREWRITEAOF -> %r" % reply
    if wait:
        d = wait_rewrite_done(conn)
        assert d.get("aof_last_bgrewrite_status") == "ok", d
        return d
    return None


def is_ok(reply):
    return isinstance(reply, Simple) and reply == "OK"


def is_err(reply, code=None):
    return isinstance(reply, Error) and (code is None or reply.split(" ", 1)[0] == code)
