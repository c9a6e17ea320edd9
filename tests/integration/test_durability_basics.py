"""The append-only file's surface: the files of a new data directory, SHUTDOWN and
SIGTERM (write and fsync everything, exit 0, under any appendfsync), `appendonly
no` (nothing read or written, the log says existing files are ignored, BGREWRITEAOF
refused), and INFO persistence.

Spec: commands.md "Durability contract" (layout, LZ4 frames of RESP commands) and
"Rules that settle the corner cases" (`appendonly no`, SHUTDOWN and SIGTERM);
docs/persistence.md (Settings, Files, Records: a file's first record is its HEADER).
"""

import os
import time

import pytest

from durability_helpers import (AOF_DIRNAME, MANIFEST, aof, assert_same_state,  # noqa: F401
                                bgrewriteaof, dir_listing, info, is_ok, lz4_decode, lz4_frames,
                                manifest_files, read_manifest, snapshot, wait_rewrite_done)
from respq_testlib import Error


def small_workload(c):
    assert is_ok(c.cmd("QCREATE", "w", "VISIBILITY", 300))
    assert is_ok(c.cmd("QCREATE", "wf", "FIFO", "VISIBILITY", 300))
    for i in range(30):
        assert isinstance(c.cmd("QSEND", "w", b"w%d" % i, "PRIORITY", i % 4), bytes)
        assert isinstance(c.cmd("QSEND", "wf", b"f%d" % i, "GROUP", "g%d" % (i % 3),
                                "DEDUPID", "d%d" % i), bytes)
    got = c.cmd("QRECV", "w", "COUNT", 6)
    assert len(got) == 6
    assert c.cmd("QDEL", "w", got[0][1], got[1][1]) == 2
    assert is_ok(c.cmd("QVIS", "w", got[2][1], 0))
    assert c.cmd("QRECV", "wf", "COUNT", 2)
    return got[3:]


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def test_new_directory_layout(aof):
    srv = aof("always")
    d = srv.aof_dir
    assert d.is_dir(), "no %s in the data directory" % AOF_DIRNAME
    entries = read_manifest(d)
    assert [e[2] for e in entries] == ["b", "i"], entries
    names = [e[0] for e in entries]
    assert names[0] == "respq.aof.%d.base.lz4" % entries[0][1], names
    assert names[1] == "respq.aof.%d.incr.lz4" % entries[1][1], names
    assert dir_listing(d) == sorted([MANIFEST] + names), dir_listing(d)
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "lay"))
    assert isinstance(c.cmd("QSEND", "lay", b"a body to find\r\nin the file"), bytes)
    c.close()
    # Files are LZ4 frames; decompressed, RESP commands, HEADER first.
    for f in manifest_files(d):
        data = f.read_bytes()
        assert data, "%s is empty" % f.name
        lz4_frames(data)
        plain = lz4_decode(data)
        assert plain.startswith(b"*"), (f.name, plain[:80])
        assert b"QREPLAY" in plain[:80] and b"HEADER" in plain[:120] and b"respq-aof" in plain[:160], \
            (f.name, plain[:160])
    incr = lz4_decode((d / names[1]).read_bytes())
    assert b"a body to find\r\nin the file" in incr
    assert b"lay" in incr


def test_appendfsync_always_record_on_disk_before_reply(aof):
    """With always, the record of an answered QSEND is already in the file when the
    reply arrives (read the file right after the reply)."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "now"))
    incr = manifest_files(srv.aof_dir)[-1]
    for i in range(20):
        body = b"just-answered-%d" % i
        assert isinstance(c.cmd("QSEND", "now", body), bytes)
        assert body in lz4_decode(incr.read_bytes())
    c.close()


# ---------------------------------------------------------------------------
# SHUTDOWN and SIGTERM
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fsync", ["no", "everysec", "always"])
@pytest.mark.parametrize("how", ["SHUTDOWN", "SHUTDOWN NOSAVE", "SIGTERM"])
def test_clean_stop_loses_nothing(aof, fsync, how):
    srv = aof(fsync)
    c = srv.raw()
    leased = small_workload(c)
    want = snapshot(c)
    if how == "SIGTERM":
        assert srv.sigterm() == 0
    else:
        c.send_cmd(*how.split())
        data = c.read_all_until_close(20)
        assert data == b"" or data.startswith(b"+OK"), data
        assert srv.wait_exit(20) == 0
    c.close()
    srv.start()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after %s with appendfsync %s" % (how, fsync))
    for m in leased:
        assert c.cmd("QDEL", "w", m[1]) == 1, "receipt lost by %s" % how
    c.close()


def test_sigterm_during_rewrite_loses_nothing(aof):
    """SIGTERM in the middle of a rewrite: exit 0, and nothing lost."""
    srv = aof("everysec")
    c = srv.raw()
    small_workload(c)
    for i in range(500):
        c.send_cmd("QSEND", "w", os.urandom(2000))
    for i in range(500):
        assert isinstance(c.read_reply(), bytes)
    want = snapshot(c)
    assert c.cmd_raw("BGREWRITEAOF").startswith(b"+Background append only file rewriting started")
    assert srv.sigterm() == 0
    c.close()
    srv.start()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after SIGTERM during a rewrite")
    c.close()


# ---------------------------------------------------------------------------
# appendonly no
# ---------------------------------------------------------------------------


def _files_state(d):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(d.iterdir())}


def test_appendonly_no_ignores_existing_files(aof):
    srv = aof("always", name="data")
    c = srv.raw()
    small_workload(c)
    want = snapshot(c)
    c.close()
    assert srv.sigterm() == 0
    files = _files_state(srv.aof_dir)
    time.sleep(0.05)

    off = aof("always", name="data", appendonly="no")
    log = off.log_since_start()
    assert "ignor" in log.lower() and AOF_DIRNAME in log, \
        "the log does not say that the AOF files are ignored:\n%s" % log[-2000:]
    c = off.raw()
    assert c.cmd("DBSIZE") == 0, "appendonly no loaded the files"
    assert is_ok(c.cmd("QCREATE", "only-in-memory"))
    assert isinstance(c.cmd("QSEND", "only-in-memory", b"x"), bytes)
    r = c.cmd("BGREWRITEAOF")
    assert isinstance(r, Error) and r.startswith("ERR") and "append" in r.lower(), r
    d = info(c)
    assert d["aof_enabled"] == "0", d
    c.close()
    assert off.sigterm() == 0
    assert _files_state(srv.aof_dir) == files, "appendonly no changed the AOF files"

    # Back on: the state from before, without what was done while it was off.
    srv.start()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after a run with appendonly no")
    c.close()


def test_appendonly_no_writes_nothing(aof):
    off = aof("always", name="fresh", appendonly="no")
    c = off.raw()
    assert is_ok(c.cmd("QCREATE", "q"))
    c.cmd("QSEND", "q", b"x")
    c.close()
    assert off.sigterm() == 0
    assert not (off.dir / AOF_DIRNAME).exists()
    leftovers = [p.name for p in off.dir.iterdir() if p.name not in ("server.stdout", "server.stderr")]
    assert leftovers == [], leftovers


# ---------------------------------------------------------------------------
# INFO persistence
# ---------------------------------------------------------------------------


def test_info_persistence_fields(aof):
    srv = aof("always")
    c = srv.raw()
    d = info(c)
    for field, value in [("aof_enabled", "1"), ("aof_rewrite_in_progress", "0"),
                         ("aof_last_bgrewrite_status", "ok"), ("aof_last_write_status", "ok"),
                         ("loading", "0")]:
        assert d.get(field) == value, (field, d)
    for field in ("aof_current_size", "aof_base_size", "aof_rewrite_scheduled"):
        assert field in d and d[field].lstrip("-").isdigit(), (field, d)

    def on_disk():
        return sum(f.stat().st_size for f in manifest_files(srv.aof_dir))

    size0 = int(d["aof_current_size"])
    assert size0 == on_disk(), (size0, on_disk())
    assert is_ok(c.cmd("QCREATE", "i"))
    for i in range(50):
        c.cmd("QSEND", "i", os.urandom(100))
    d = info(c)
    size1 = int(d["aof_current_size"])
    assert size1 > size0 + 50 * 100, (size0, size1)
    assert size1 == on_disk(), (size1, on_disk())
    bgrewriteaof(c)
    d = info(c)
    base = manifest_files(srv.aof_dir)[0]
    assert int(d["aof_base_size"]) == base.stat().st_size, (d, base.stat().st_size)
    assert int(d["aof_current_size"]) == on_disk(), (d, on_disk())
    assert d["aof_last_bgrewrite_status"] == "ok"
    assert d["aof_rewrite_in_progress"] == "0"
    c.close()


def test_info_persistence_rewrite_in_progress_seen(aof):
    """aof_rewrite_in_progress is 1 while a rewrite runs (a big state makes it
    last long enough to be seen), then 0 with status ok."""
    srv = aof("no")
    c = srv.raw(timeout=30)
    assert is_ok(c.cmd("QCREATE", "big"))
    for i in range(4000):
        c.send_cmd("QSEND", "big", os.urandom(4000))
    for i in range(4000):
        assert isinstance(c.read_reply(), bytes)
    assert c.cmd_raw("BGREWRITEAOF").startswith(b"+Background append only file rewriting started")
    d = info(c)
    assert d["aof_rewrite_in_progress"] == "1", d
    # A second one while the first runs is refused, as in Redis.
    r = c.cmd("BGREWRITEAOF")
    assert isinstance(r, Error) and "already in progress" in r, r
    d = wait_rewrite_done(c)
    assert d["aof_last_bgrewrite_status"] == "ok"
    assert d["aof_rewrite_in_progress"] == "0"
    c.close()
