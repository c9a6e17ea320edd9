"""respq-aof against append-only files written by a real server.

Spec: docs/persistence.md (the files, the records, "respq-aof"). Each test starts
its own server with `--appendonly yes`, puts queues and messages in every state
into it (ready, delayed, leased, dead-lettered, deleted, FIFO with dedup ids,
binary bodies), stops it with SIGTERM (which writes everything) and runs the tool
on the files it left.

"The same queues" is judged by QINFO of every queue (without oldest_age_ms, which
moves with the clock) and QPEEK of each, and by a receipt of the first server
deleting its message in the rebuilt one. The frames of a file are found by a small
LZ4 frame walker here, independent of the tool's, to cut and damage them at known
offsets.
"""

import os
import pty
import re
import select
import shutil
import struct
import subprocess
import time

import pytest

from respq_testlib import REPO, Error, Server, ServerStartError, as_dict

TOOL = os.environ.get("RESPQ_AOF") or str(REPO / "src" / "respq-aof")
REDIS_CLI = shutil.which("redis-cli")
LZ4_MAGIC = 0x184D2204
LONG = "3600"  # seconds: leases and delays that cannot end during a test


@pytest.fixture(autouse=True)
def _tool_built():
    if not os.path.exists(TOOL):
        pytest.fail("%s does not exist (make src/respq-aof, or set RESPQ_AOF)" % TOOL,
                    pytrace=False)


def run_tool(*args, input=None, timeout=60):
    p = subprocess.run([TOOL] + [str(a) for a in args], input=input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Servers and state
# ---------------------------------------------------------------------------


def aof_server(server, *args):
    return server.spawn("--appendonly", "yes", *args)


def start_on(server, data_dir, *args):
    """A server on an existing data dir (stopped and checked at teardown)."""
    srv = Server(data_dir, args=args)
    server.servers.append(srv)
    try:
        srv.start()
    except ServerStartError as e:
        pytest.fail(str(e), pytrace=False)
    return srv


def cmd(conn, *args):
    reply = conn.cmd(*args)
    assert not isinstance(reply, Error), (args, reply)
    return reply


def populate(conn, rewrite=False):
    """Queues and messages in every state; returns a receipt still leased in 'jobs'
    and the number of messages QSEND added."""
    sends = 0
    cmd(conn, "QCREATE", "jobs:dlq")
    cmd(conn, "QCREATE", "jobs", "VISIBILITY", "60", "DLQ", "jobs:dlq", "MAXRECEIVES", "1")
    cmd(conn, "QCREATE", "plain", "RETENTION", "0")
    cmd(conn, "QCREATE", "{pay}", "FIFO", "CONTENTDEDUP")
    cmd(conn, "QCREATE", "gone")
    cmd(conn, "QSEND", "gone", "x")
    sends += 1
    # One command per round trip: one frame per command, so many frames.
    for i in range(120):
        cmd(conn, "QSEND", "jobs", "job %d" % i, "PRIORITY", str(i % 3))
        sends += 1
    bodies = [b"", b"\x00\r\n\xff binary", bytes(range(256)), b"y" * 70000]
    for b in bodies:
        cmd(conn, "QSEND", "plain", b)
        sends += 1
    cmd(conn, "QSEND", "plain", "later", "DELAY", LONG)
    sends += 1
    for i in range(6):
        cmd(conn, "QSEND", "{pay}", "charge %d" % i, "GROUP", "g%d" % (i % 2))
        sends += 1
    # A duplicate: the same body on a CONTENTDEDUP queue adds nothing.
    cmd(conn, "QSEND", "{pay}", "charge 0", "GROUP", "g0")
    cmd(conn, "QSEND", "{pay}", "explicit", "GROUP", "g1", "DEDUPID", "d-1")
    sends += 1
    # Deliveries: one deleted, one leased, one given back (dead-lettered: MAXRECEIVES 1).
    got = cmd(conn, "QRECV", "jobs", "COUNT", "3", "VISIBILITY", LONG)
    cmd(conn, "QDEL", "jobs", got[0][1])
    cmd(conn, "QVIS", "jobs", got[2][1], "0")
    leased_receipt = got[1][1]
    cmd(conn, "QRECV", "{pay}", "VISIBILITY", LONG)
    cmd(conn, "QSET", "plain", "VISIBILITY", "45")
    cmd(conn, "QDROP", "gone")
    if rewrite:
        cmd(conn, "BGREWRITEAOF")
        wait_rewrite(conn)
        for i in range(20):
            cmd(conn, "QSEND", "plain", "after rewrite %d" % i)
            sends += 1
        got = cmd(conn, "QRECV", "plain", "COUNT", "2", "VISIBILITY", LONG)
        cmd(conn, "QDEL", "plain", got[0][1])
    return leased_receipt, sends


def wait_rewrite(conn, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = conn.cmd("INFO", "persistence")
        text = info.decode() if isinstance(info, bytes) else str(info)
        if "aof_rewrite_in_progress:0" in text and "aof_rewrite_scheduled:0" in text:
            return
        time.sleep(0.05)
    pytest.fail("BGREWRITEAOF did not finish within %ss" % timeout)


def queue_names(conn):
    names, cursor = set(), b"0"
    while True:
        cursor, batch = conn.cmd("QSCAN", cursor, "COUNT", "100")
        names.update(batch)
        if cursor in (b"0", "0"):
            return sorted(names)


def snapshot(conn):
    """Every queue's QINFO (less oldest_age_ms) and QPEEK."""
    state = {}
    for name in queue_names(conn):
        info = as_dict(conn.cmd("QINFO", name))
        info.pop("oldest_age_ms")
        peek = conn.cmd("QPEEK", name, "COUNT", "1000")
        state[name] = (info, peek)
    return state


def build_aof(server, rewrite=False):
    """A stopped server's data dir with its AOF; the state it held; a receipt."""
    srv = aof_server(server)
    conn = srv.raw()
    receipt, sends = populate(conn, rewrite)
    state = snapshot(conn)
    conn.close()
    assert srv.stop() == 0, srv.output()[-2000:]
    aof_dir = srv.dir / "appendonlydir"
    assert (aof_dir / "respq.aof.manifest").exists()
    return srv.dir, aof_dir, state, receipt, sends


def manifest_files(aof_dir):
    files = []
    for line in (aof_dir / "respq.aof.manifest").read_text().splitlines():
        if line.startswith("file "):
            files.append(aof_dir / line.split()[1])
    return files


def assert_rebuilt(target, state, receipt):
    conn = target.raw()
    assert snapshot(conn) == state
    # The lease and its receipt came along.
    assert conn.cmd("QDEL", "jobs", receipt) == 1
    conn.close()


# ---------------------------------------------------------------------------
# An LZ4 frame walker of our own (the frame format, as in lz4's doc)
# ---------------------------------------------------------------------------


def frame_offsets(data):
    """[(start, end)] of the frames of a well-formed file."""
    frames, pos = [], 0
    while pos < len(data):
        start = pos
        assert struct.unpack_from("<I", data, pos)[0] == LZ4_MAGIC, "no frame at %d" % pos
        flg = data[pos + 4]
        pos += 4 + 2 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0) + 1
        while True:
            size = struct.unpack_from("<I", data, pos)[0]
            pos += 4
            if size == 0:
                break
            pos += (size & 0x7FFFFFFF) + (4 if flg & 0x10 else 0)
        pos += 4 if flg & 0x04 else 0
        frames.append((start, pos))
    assert pos == len(data)
    return frames


# ---------------------------------------------------------------------------
# check, cat, replay on a healthy AOF
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("rewrite", [False, True], ids=["incremental", "after-rewrite"])
def test_check_passes(server, rewrite):
    data_dir, aof_dir, _, _, _ = build_aof(server, rewrite)
    files = manifest_files(aof_dir)
    for where in (data_dir, aof_dir):
        rc, out, err = run_tool("check", where)
        assert rc == 0, out + err
        assert err == ""
        for f in files:
            line = next(l for l in out.splitlines() if l.startswith(str(f) + ":"))
            size = f.stat().st_size
            assert re.search(r": \d+ frames, \d+ records, %d bytes \(\d+ decompressed\), "
                             r"last good offset %d: ok$" % (size, size), line), line
        assert out.splitlines()[-1].endswith(": ok")
    # One file alone.
    rc, out, err = run_tool("check", files[-1])
    frames = len(frame_offsets(files[-1].read_bytes()))
    assert rc == 0 and re.fullmatch(r"1 file, %d frames, \d+ records: ok" % frames,
                                    out.splitlines()[-1]), out + err


@pytest.mark.skipif(not REDIS_CLI, reason="redis-cli not installed")
@pytest.mark.parametrize("rewrite", [False, True], ids=["incremental", "after-rewrite"])
def test_cat_into_redis_cli_pipe_rebuilds(server, rewrite):
    data_dir, _, state, receipt, _ = build_aof(server, rewrite)
    p = subprocess.run([TOOL, "cat", str(data_dir)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    # The stream is the files decompressed, in manifest order: lz4cat agrees.
    if shutil.which("lz4cat"):
        files = manifest_files(data_dir / "appendonlydir")
        plain = b"".join(subprocess.run(["lz4cat"], input=f.read_bytes(),
                                        stdout=subprocess.PIPE, check=True).stdout
                         for f in files)
        assert p.stdout == plain
    target = server.spawn()
    pipe = subprocess.run([REDIS_CLI, "-h", target.host, "-p", str(target.port), "--pipe"],
                          input=p.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)
    out = pipe.stdout.decode()
    assert pipe.returncode == 0 and "errors: 0" in out, out + pipe.stderr.decode()
    assert_rebuilt(target, state, receipt)


@pytest.mark.parametrize("rewrite", [False, True], ids=["incremental", "after-rewrite"])
def test_replay_rebuilds(server, rewrite):
    data_dir, _, state, receipt, _ = build_aof(server, rewrite)
    target = server.spawn()
    rc, out, err = run_tool("replay", data_dir, "--host", target.host, "--port", target.port,
                            "--window", "50")
    assert rc == 0, out + err
    n = int(re.search(r"^replayed (\d+) records from \d+ files? into ", out, re.M).group(1))
    assert re.search(r": %d accepted, 0 refused$" % n, out.strip()), out
    assert err == ""  # no progress bar: stderr is not a terminal
    assert_rebuilt(target, state, receipt)


def test_replay_counts_refused_records(server):
    data_dir, _, _, _, _ = build_aof(server)
    target = server.spawn()
    conn = target.raw()
    assert conn.cmd("QCREATE", "jobs", "FIFO") == "OK"  # no standard message fits
    rc, out, err = run_tool("replay", data_dir, "--port", target.port)
    assert rc == 1
    m = re.search(r"^replayed (\d+) records from \d+ files into 127\.0\.0\.1:%d in "
                  r"[\d.]+ s: (\d+) accepted, (\d+) refused$" % target.port, out, re.M)
    assert m, out
    total, accepted, refused = map(int, m.groups())
    assert total == accepted + refused and refused > 120 and accepted > 0
    shown = [l for l in err.splitlines() if " refused: " in l]
    assert len(shown) == 5, err
    assert re.match(r"respq-aof replay: \S+/appendonlydir/respq\.aof\.\d+\.incr\.lz4: "
                    r"record LSN \d+ \(QUEUE\) in the frame at offset \d+ refused: ERR ",
                    shown[0]), shown[0]
    assert "%d more refused records not shown" % (refused - 5) in err
    # The other queues came through.
    assert conn.cmd("QLEN", "plain") == 4
    conn.close()


def test_replay_with_auth(server):
    data_dir, _, state, receipt, _ = build_aof(server)
    target = server.spawn("--requirepass", "s3cret")
    # Without the password: NOAUTH, then (as Redis) the server closes a connection
    # that sends an unauthenticated command of more than 10 elements.
    rc, out, err = run_tool("replay", data_dir, "--host", target.host, "--port", target.port)
    assert rc == 1
    assert "refused: NOAUTH Authentication required." in err, err
    assert "connection to %s:%d lost while replaying" % (target.host, target.port) in err
    assert "(connection lost: " in out, out
    rc, out, err = run_tool("replay", data_dir, "--host", target.host, "--port", target.port,
                            "--auth", "wrong")
    assert rc == 1 and "AUTH on %s:%d failed" % (target.host, target.port) in err, err
    rc, out, err = run_tool("replay", data_dir, "--host", target.host, "--port", target.port,
                            "--auth", "s3cret")
    assert rc == 0 and out.strip().endswith(" 0 refused"), out + err
    conn = target.raw()
    assert conn.cmd("AUTH", "s3cret") == "OK"
    assert snapshot(conn) == state
    assert conn.cmd("QDEL", "jobs", receipt) == 1
    conn.close()


def test_replay_progress_bar_on_a_terminal(server):
    data_dir, _, _, _, _ = build_aof(server)
    target = server.spawn()
    master, slave = pty.openpty()
    p = subprocess.Popen([TOOL, "replay", str(data_dir), "--host", target.host,
                          "--port", str(target.port)],
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    out = p.communicate(timeout=30)[0].decode()
    os.close(master)
    assert p.returncode == 0, out + seen.decode("replace")
    assert b"100%" in seen and b"records sent" in seen, seen
    assert "0 refused" in out


def test_replay_cannot_connect(server):
    data_dir, _, _, _, _ = build_aof(server)
    port = server.port
    server.main.stop()
    rc, out, err = run_tool("replay", data_dir, "--port", port)
    assert rc == 1 and "cannot connect to 127.0.0.1:%d" % port in err, err


# ---------------------------------------------------------------------------
# cat --text and stats
# ---------------------------------------------------------------------------


def test_cat_text(server):
    data_dir, aof_dir, _, _, sends = build_aof(server)
    rc, out, err = run_tool("cat", data_dir, "--text")
    assert rc == 0 and err == "", err
    lines = out.splitlines()
    assert all(l.startswith("QREPLAY ") for l in lines)
    assert lines[0].split()[2] == "HEADER" and lines[0].split()[3] == "respq-aof"
    sends_lines = [l for l in lines if l.split()[2] == "SEND"]
    assert len(sends_lines) == sends
    text = "\n".join(lines)
    # Binary bytes escaped, empty and spaced arguments quoted, long bodies whole.
    assert '"\\x00\\x0d\\x0a\\xff binary"' in text
    assert '"\\x00\\x01\\x02' in text and '!\\"#$%&\'()*' in text
    assert " " + "y" * 70000 in text
    assert '"job 7"' in text
    assert re.search(r' "" "" "" "job 0"$', text, re.M)
    rc, out2, _ = run_tool("stats", data_dir)
    assert int(re.search(r"^records +(\d+)$", out2, re.M).group(1)) == len(lines)


def test_stats(server):
    data_dir, aof_dir, _, _, sends = build_aof(server)
    rc, out, err = run_tool("stats", aof_dir)
    assert rc == 0 and err == "", err
    fields = dict(re.findall(r"^(\w+) {2,}(.+)$", out, re.M))
    types = dict((t, int(n)) for t, n in re.findall(r"^  ([A-Z]+) +(\d+)$", out, re.M))
    files = manifest_files(aof_dir)
    assert fields["files"] == str(len(files))
    assert int(fields["frames"]) == sum(len(frame_offsets(f.read_bytes())) for f in files)
    assert fields["compressed"] == "%d bytes" % sum(f.stat().st_size for f in files)
    plain = int(fields["decompressed"].split()[0])
    ratio = float(fields["ratio"])
    assert abs(ratio - plain / sum(f.stat().st_size for f in files)) < 0.01
    assert int(fields["records"]) == sum(types.values())
    assert list(types) == ["HEADER", "QUEUE", "COUNTERS", "DROP", "PURGE", "SEND", "MSG",
                           "LEASE", "STATE", "DEL", "EXPIRE", "MOVE", "DEDUP"]
    assert types["HEADER"] == len(files)
    assert types["SEND"] == sends
    assert types["QUEUE"] == 6  # five QCREATEs, one QSET
    assert types["DROP"] == 1 and types["DEL"] == 1 and types["MOVE"] == 1
    assert types["LEASE"] == 4  # three from jobs, one from {pay}
    lo, hi = map(int, re.match(r"(\d+) \.\. (\d+)$", fields["lsn"]).groups())
    assert hi - lo + 1 >= int(fields["records"]) - types["HEADER"]


# ---------------------------------------------------------------------------
# Damage: a torn tail, and a flipped byte
# ---------------------------------------------------------------------------


def test_torn_tail_check_and_fix(server):
    data_dir, aof_dir, _, _, _ = build_aof(server)
    last = manifest_files(aof_dir)[-1]
    data = last.read_bytes()
    start, end = frame_offsets(data)[-1]
    cut_at = start + (end - start) // 2
    last.write_bytes(data[:cut_at])

    rc, out, err = run_tool("check", data_dir)
    assert rc == 1
    assert "%s: bad frame at offset %d: the file ends inside an LZ4 frame" % (last, start) in err
    assert "%s: this is a torn tail (%d bytes from offset %d" % (last, cut_at - start, start) \
        in err
    assert re.search(r"last good offset %d: torn tail$" % start, out, re.M), out
    assert "torn tail ('respq-aof fix' can cut it)" in out

    before = int(time.time())
    rc, out, err = run_tool("fix", data_dir)
    assert rc == 0, out + err
    m = re.search(r"^%s: cut (\d+) bytes at offset (\d+) .*; the file before the cut is (\S+)$"
                  % re.escape(str(last)), out, re.M)
    assert m, out
    assert (int(m.group(1)), int(m.group(2))) == (cut_at - start, start)
    backup = m.group(3)
    assert re.fullmatch(re.escape(str(last)) + r"\.bak-(\d+)", backup)
    assert int(backup.rsplit("-", 1)[1]) >= before
    assert open(backup, "rb").read() == data[:cut_at]
    assert last.read_bytes() == data[:start]

    rc, out, err = run_tool("check", data_dir)
    assert rc == 0, out + err
    rc, out, err = run_tool("fix", data_dir)
    assert rc == 0 and out.startswith("nothing to fix"), out + err
    # The server loads what is left.
    srv = start_on(server, data_dir, "--appendonly", "yes")
    assert srv.raw().cmd("QLEN", "plain") >= 0
    assert srv.stop() == 0


def test_damaged_last_frame_is_a_torn_tail(server):
    """Any problem in the last frame of the last file, not only a short one."""
    data_dir, aof_dir, _, _, _ = build_aof(server)
    last = manifest_files(aof_dir)[-1]
    data = bytearray(last.read_bytes())
    start, end = frame_offsets(bytes(data))[-1]
    data[end - 6] ^= 0xFF  # the last block's checksum (then only the 4-byte end mark)
    last.write_bytes(bytes(data))
    rc, out, err = run_tool("check", last)
    assert rc == 1 and "bad frame at offset %d" % start in err and "torn tail" in err, err
    rc, out, err = run_tool("fix", last)
    assert rc == 0 and "cut %d bytes at offset %d" % (end - start, start) in out, out + err
    assert last.read_bytes() == bytes(data[:start])


def test_flipped_byte_in_an_early_frame(server):
    data_dir, aof_dir, _, _, _ = build_aof(server)
    last = manifest_files(aof_dir)[-1]
    data = bytearray(last.read_bytes())
    frames = frame_offsets(bytes(data))
    assert len(frames) > 10
    start, end = frames[3]
    data[start + 7 + 4 + 2] ^= 0x01  # inside the first block's data
    last.write_bytes(bytes(data))
    rc, out, err = run_tool("check", data_dir)
    assert rc == 1
    assert "%s: bad frame at offset %d: LZ4 frame is damaged" % (last, start) in err, err
    assert "not a torn tail (an intact frame follows at offset %d)" % end in err, err
    assert "damaged ('respq-aof fix' cannot repair it)" in out

    rc, out, err = run_tool("fix", data_dir)
    assert rc == 1
    assert "%s: refused: fix only cuts a torn tail; nothing was changed" % last in err, err
    assert last.read_bytes() == bytes(data)
    assert not [p for p in os.listdir(aof_dir) if ".bak-" in p]

    # cat and stats stop there, with exit status 1; replay sends nothing.
    rc, out, err = run_tool("cat", data_dir)
    assert rc == 1 and "stopped at offset %d" % start in err
    rc, out, err = run_tool("stats", data_dir)
    assert rc == 1 and "stopped at offset %d" % start in err
    target = server.spawn()
    rc, out, err = run_tool("replay", data_dir, "--port", target.port)
    assert rc == 1 and "nothing was sent" in err
    assert target.raw().cmd("DBSIZE") == 0


def test_damage_in_a_file_that_is_not_the_last(server):
    data_dir, aof_dir, _, _, _ = build_aof(server, rewrite=True)
    files = manifest_files(aof_dir)
    assert len(files) >= 2
    first = files[0]
    data = first.read_bytes()
    first.write_bytes(data[:len(data) - 3])  # short, as a torn tail would be
    rc, out, err = run_tool("check", data_dir)
    assert rc == 1
    assert "%s: this is not a torn tail (it is not in the last file of the manifest)" \
        % first in err, err
    rc, out, err = run_tool("fix", data_dir)
    assert rc == 1 and "refused" in err
    # Checked alone, the same file is its own last file: a torn tail.
    rc, out, err = run_tool("check", first)
    assert rc == 1 and "this is a torn tail" in err


# ---------------------------------------------------------------------------
# The tool judges records and manifests as the server's loader does
# ---------------------------------------------------------------------------


def resp_command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def lz4_frame(data):
    """One LZ4 frame holding data, with block checksums, from the lz4 command."""
    return subprocess.run(["lz4", "-c", "-BX"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def small_aof(server):
    """A stopped server's data dir holding one queue, 'plain', with one message;
    its last file; the last LSN; the HEADER record's words."""
    srv = aof_server(server)
    conn = srv.raw()
    cmd(conn, "QCREATE", "plain")
    cmd(conn, "QSEND", "plain", "first")
    conn.close()
    assert srv.stop() == 0, srv.output()[-2000:]
    rc, out, err = run_tool("stats", srv.dir)
    assert rc == 0, out + err
    last_lsn = int(re.search(r"^lsn +\d+ \.\. (\d+)$", out, re.M).group(1))
    rc, out, err = run_tool("cat", srv.dir, "--text")
    assert rc == 0, out + err
    header = out.splitlines()[0].split()
    assert header[2:4] == ["HEADER", "respq-aof"], header
    return srv.dir, manifest_files(srv.dir / "appendonlydir")[-1], last_lsn, header


def send_record(name, lsn, type_="SEND"):
    now = int(time.time() * 1000)
    return (name, lsn, type_, "plain", 1000, 1000, now, now + 86400000, -1, 0, 0, 0, "r",
            -1, "", "", "", "second")


# (case, how the record is spelled, the server's reason to refuse it or None).
RECORD_SPELLINGS = [
    ("type in capitals", lambda lsn, h: send_record("QREPLAY", lsn), None),
    ("command name in lower case", lambda lsn, h: send_record("qreplay", lsn), None),
    ("type in lower case", lambda lsn, h: send_record("QREPLAY", lsn, "send"),
     "unknown record type 'send'"),
    ("type in mixed case", lambda lsn, h: send_record("QREPLAY", lsn, "Send"),
     "unknown record type 'Send'"),
    ("HEADER magic in capitals",
     lambda lsn, h: ("QREPLAY", lsn, "HEADER", "RESPQ-AOF") + tuple(h[4:]),
     "HEADER record: bad magic 'RESPQ-AOF'"),
    ("LSN with a leading zero", lambda lsn, h: send_record("QREPLAY", "0%d" % lsn),
     "bad LSN '0%d'"),
]

TOOL_REASONS = {
    "type in lower case": "record LSN %d has an unknown type 'send' (the server reads "
                          "only 'SEND', in capitals)",
    "type in mixed case": "record LSN %d has an unknown type 'Send' (the server reads "
                          "only 'SEND', in capitals)",
    "HEADER magic in capitals": "HEADER record LSN %d has the magic 'RESPQ-AOF', not "
                                "'respq-aof'",
    "LSN with a leading zero": "a record's LSN '0%d' is not a plain decimal number",
}


@pytest.mark.parametrize("case,make,server_reason", RECORD_SPELLINGS,
                         ids=[c[0] for c in RECORD_SPELLINGS])
def test_record_spelling_judged_as_the_loader_does(server, case, make, server_reason):
    """A frame (intact, so never a torn tail) with one record spelled otherwise than
    the server writes it: every command of the tool accepts it exactly when a
    starting server loads it. The server takes any command's name in any case but
    a record type and the HEADER magic only as written, and numbers only plain."""
    from durability_helpers import run_server_expect_exit

    data_dir, last, last_lsn, header = small_aof(server)
    lsn = last_lsn + 1
    offset = last.stat().st_size
    with open(last, "ab") as f:
        f.write(lz4_frame(resp_command(*make(lsn, header))))

    if server_reason is None:
        for command in ("check", "stats", "cat"):
            rc, out, err = run_tool(command, data_dir)
            assert rc == 0 and err == "", (command, out, err)
        srv = start_on(server, data_dir, "--appendonly", "yes")
        assert srv.raw().cmd("QLEN", "plain") == 2
        assert srv.stop() == 0
        return

    # The server refuses to start, naming the frame...
    status, log = run_server_expect_exit(data_dir, "--appendonly", "yes")
    assert status == 1, log[-2000:]
    if "%d" in server_reason:
        server_reason %= lsn
    assert "AOF file appendonlydir/%s is damaged at offset %d: %s. Check it with" \
        % (last.name, offset, server_reason) in log, log[-2000:]
    # ...and so does every command of the tool, with the same frame and cause.
    why = TOOL_REASONS[case] % lsn
    rc, out, err = run_tool("check", data_dir)
    assert rc == 1, out + err
    assert "%s: bad frame at offset %d: %s\n" % (last, offset, why) in err, err
    assert "this is not a torn tail (the frame's checksums hold" in err, err
    assert "damaged ('respq-aof fix' cannot repair it)" in out, out
    for command in ("stats", "cat", "fix"):
        rc, out, err = run_tool(command, data_dir)
        assert rc == 1, (command, out, err)
        assert "%s: bad frame at offset %d: %s\n" % (last, offset, why) in err, (command, err)
    rc, out, err = run_tool("replay", data_dir, "--port", server.port)
    assert rc == 1 and "nothing was sent" in err, out + err
    assert server.raw().cmd("DBSIZE") == 0


def test_bad_manifest_refused_by_server_and_tool(server):
    """One parser (src/aofmanifest.c) for both: what the server refuses to start
    from, the tool refuses too, each saying it its own way."""
    from durability_helpers import run_server_expect_exit

    data_dir, last, _, _ = small_aof(server)
    manifest = last.parent / "respq.aof.manifest"
    good = manifest.read_text()
    cases = [
        (good + "file respq.aof.9.incr.lz4 seq 9 type x\n",
         "is damaged at line 3: 'file respq.aof.9.incr.lz4 seq 9 type x' is not "
         "'file <name> seq <n> type b|i'"),
        ("# nothing\n", "names no file"),
        ("".join("file %s seq 1 type i\n" % last.name for _ in range(65)),
         "names more than 64 files"),
    ]
    for text, reason in cases:
        manifest.write_text(text)
        status, log = run_server_expect_exit(data_dir, "--appendonly", "yes")
        assert status == 1, log[-2000:]
        assert "The AOF manifest %s %s" % (manifest.relative_to(data_dir), reason) in log, \
            log[-2000:]
        rc, out, err = run_tool("check", data_dir)
        assert rc == 1 and out == "", out + err
        tool_reason = reason.replace("is damaged", "damaged")
        assert err == "respq-aof: %s: %s\n" % (manifest, tool_reason), err
    manifest.write_text(good)
    rc, out, err = run_tool("check", data_dir)
    assert rc == 0, out + err


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def test_usage_and_bad_paths(tmp_path):
    rc, out, err = run_tool("--help")
    assert rc == 0 and out.startswith("usage: respq-aof check PATH")
    rc, out, err = run_tool()
    assert rc == 2 and "usage:" in err
    rc, out, err = run_tool("frobnicate", tmp_path)
    assert rc == 2 and "unknown command 'frobnicate'" in err
    rc, out, err = run_tool("check")
    assert rc == 2 and "check needs a PATH" in err
    rc, out, err = run_tool("replay", tmp_path, "--port", "x")
    assert rc == 2 and "--port needs a port number" in err
    rc, out, err = run_tool("check", tmp_path / "nope")
    assert rc == 1 and "%s: No such file or directory" % (tmp_path / "nope") in err
    rc, out, err = run_tool("check", tmp_path)
    assert rc == 1 and "%s: no respq.aof.manifest in this directory" % tmp_path in err
    (tmp_path / "respq.aof.manifest").write_text("file respq.aof.1.base.lz4 seq 1 type b\n")
    rc, out, err = run_tool("check", tmp_path)
    assert rc == 1 and "%s: cannot read" % (tmp_path / "respq.aof.1.base.lz4") in err, err
    (tmp_path / "respq.aof.manifest").write_text("file ../etc/passwd seq 1 type b\n")
    rc, out, err = run_tool("stats", tmp_path)
    assert rc == 1 and "respq.aof.manifest: damaged at line 1" in err, err
    junk = tmp_path / "junk.lz4"
    junk.write_bytes(b"not lz4 at all")
    rc, out, err = run_tool("check", junk)
    assert rc == 1 and "%s: bad frame at offset 0: not an LZ4 frame" % junk in err
