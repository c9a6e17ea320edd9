"""State equality: after a random workload, a restart (SIGKILL or SIGTERM), a replay
of the files into an empty server with `lz4cat | redis-cli --pipe`, and a rewrite
(BGREWRITEAOF, automatic, and under load) all give back the same state.

Spec: commands.md "Durability contract" (every change of state is logged; files
are LZ4 frames that decompress to RESP commands which rebuild the same queues,
messages, leases, receipts and counters in an empty server; compaction
automatically and on BGREWRITEAOF, without stopping the server from answering);
"Rules that settle the corner cases" (receipts and leases survive a restart);
docs/persistence.md (Files, Rewrites, Settings).

"The same state" is every queue's QINFO except `oldest_age_ms` (created_ms and
modified_ms compared exactly: they come from the log) and QPEEK COUNT 1000 (ids,
bodies, receive counts, in delivery order), plus what QVIS says of every receipt
handed out, and QRECV WITHMETA of everything at the end. Leases and delays are 300 s
so that none ends during a test.
"""

import os
import threading
import time

from durability_helpers import (BGREWRITE_STARTED, aof, assert_same_state,  # noqa: F401
                                bgrewriteaof, dir_listing, info, is_ok, lz4_decode,
                                lz4_frames, make_seed, qinfo_dict,
                                queue_names, read_manifest, replay_into, seeded, snapshot,
                                wait_rewrite_done)
from respq_testlib import Closed, Simple

CONN_ERRORS = (OSError, Closed, TimeoutError)

QUEUES = [
    ("dlq", ["VISIBILITY", 300]),
    ("std", ["VISIBILITY", 300, "DLQ", "dlq", "MAXRECEIVES", 2, "RETENTION", 0]),
    ("plain", ["VISIBILITY", 300, "MAXDEPTH", 40, "MAXSIZE", 3000]),
    ("fdlq", ["VISIBILITY", 300, "FIFO"]),
    ("fifo", ["VISIBILITY", 300, "FIFO", "DLQ", "fdlq", "MAXRECEIVES", 2]),
    ("cfifo", ["VISIBILITY", 300, "FIFO", "CONTENTDEDUP"]),
    ("{t}:x", ["VISIBILITY", 300, "WAIT", 1]),
]


def reply_key(r):
    """A reply as something comparable that keeps its RESP type."""
    return (type(r).__name__, r if not isinstance(r, list) else repr(r))


class Workload:
    """A seeded random mix of every command that changes state."""

    def __init__(self, conn, rng):
        self.c = conn
        self.rng = rng
        self.receipts = []   # (queue, receipt) of every delivery
        self.n = 0
        self.tmp_exists = False

    def body(self):
        r = self.rng
        self.n += 1
        kind = r.random()
        if kind < 0.1:
            return b""
        if kind < 0.25:
            return r.randbytes(r.randint(1, 64)) + b"\r\n" + r.randbytes(3)
        if kind < 0.3:
            return r.randbytes(r.randint(2000, 3500))   # some over plain's MAXSIZE
        return b"body-%d-%s" % (self.n, b"x" * r.randint(0, 40))

    def setup(self):
        for name, opts in QUEUES:
            assert is_ok(self.c.cmd("QCREATE", name, *opts)), name

    def step(self):
        r, c = self.rng, self.c
        op = r.choices(["send", "recv", "del", "vis", "redrive", "set", "purge", "tmp"],
                       weights=[40, 20, 10, 12, 3, 3, 1, 2])[0]
        if op == "send":
            q = r.choice(["std", "std", "plain", "fifo", "cfifo", "{t}:x", "dlq"])
            args = ["QSEND", q, self.body()]
            if q in ("std", "plain", "{t}:x", "dlq"):
                if r.random() < 0.5:
                    args += ["PRIORITY", r.randint(-3, 3)]
                if r.random() < 0.1:
                    args += ["DELAY", 300]
                if r.random() < 0.1:
                    args += ["DEDUPID", "d%d" % r.randint(0, 5)]
            elif q == "fifo":
                args += ["GROUP", "g%d" % r.randint(0, 3), "DEDUPID", "f%d" % r.randint(0, 60)]
            else:
                args[2] = b"same-%d" % r.randint(0, 20) if r.random() < 0.5 else args[2]
                args += ["GROUP", "h%d" % r.randint(0, 2)]
            c.cmd(*args)
        elif op == "recv":
            q = r.choice([n for n, _ in QUEUES] + (["tmp"] if self.tmp_exists else []))
            reply = c.cmd("QRECV", q, "COUNT", r.randint(1, 5), "VISIBILITY", 300, "WAIT", 0)
            if isinstance(reply, list):
                for m in reply:
                    self.receipts.append((q, m[1]))
        elif op == "del" and self.receipts:
            picks = [r.choice(self.receipts) for _ in range(r.randint(1, 3))]
            q = picks[0][0]
            c.cmd("QDEL", q, *[p[1] for p in picks if p[0] == q])
        elif op == "vis" and self.receipts:
            q, rc = r.choice(self.receipts)
            c.cmd("QVIS", q, rc, r.choice([0, 0, 300, 600]))
        elif op == "redrive":
            q = r.choice(["dlq", "fdlq"])
            if r.random() < 0.5:
                c.cmd("QREDRIVE", q, "COUNT", r.randint(1, 3))
            else:
                c.cmd("QREDRIVE", q)
        elif op == "set":
            which = r.randint(0, 2)
            if which == 0:
                c.cmd("QSET", "plain", "VISIBILITY", r.choice([300, 400]))
            elif which == 1:
                c.cmd("QSET", "plain", "MAXDEPTH", r.choice([40, 60]))
            else:
                c.cmd("QSET", "std", "DLQ", "dlq", "MAXRECEIVES", r.choice([2, 3]))
        elif op == "purge":
            c.cmd("QPURGE", "plain")
        elif op == "tmp":
            if self.tmp_exists and r.random() < 0.5:
                assert c.cmd("QDROP", "tmp") == 1
                self.tmp_exists = False
            else:
                if not self.tmp_exists:
                    assert is_ok(c.cmd("QCREATE", "tmp", "VISIBILITY", 300))
                    self.tmp_exists = True
                for _ in range(r.randint(1, 5)):
                    c.cmd("QSEND", "tmp", self.body()[:1000])

    def run(self, n):
        for _ in range(n):
            self.step()
            # Nothing the workload does should end a connection.
            assert not self.c.eof

    def check_receipts(self, conn):
        """QVIS <receipt> 300 for every receipt handed out: OK for those still
        valid, BADRECEIPT (or NOQUEUE) for the others. A still-valid receipt of a
        ready message (given back by QVIS 0) leases it again, so take snapshots
        after this; asked again, it answers the same."""
        return [reply_key(conn.cmd("QVIS", q, rc, 300)) for q, rc in self.receipts]


def drain_withmeta(conn):
    """QRECV WITHMETA of every ready message of every queue (leases of 300 s):
    [(queue, id, body, receives, meta without first_received_ms of a first
    delivery)]. Changes the state, the same way on any server with the same state."""
    out = []
    for q in queue_names(conn):
        for _ in range(100):
            msgs = conn.cmd("QRECV", q, "COUNT", 1000, "VISIBILITY", 300, "WITHMETA")
            assert isinstance(msgs, list), msgs
            if not msgs:
                break
            for mid, _receipt, body, receives, meta in msgs:
                m = dict(zip(meta[0::2], meta[1::2])) if isinstance(meta, list) else dict(meta)
                m = {(k.decode() if isinstance(k, bytes) else k): v for k, v in m.items()}
                if receives == 1:
                    m.pop("first_received_ms")   # this delivery's time
                out.append((q, mid, body, receives, sorted(m.items())))
    return out


# ---------------------------------------------------------------------------


def test_state_equal_after_restart_and_replay(aof):
    srv = aof("always")
    c = srv.raw(timeout=10)
    with seeded(make_seed()) as rng:
        w = Workload(c, rng)
        w.setup()
        w.run(700)
        vis = w.check_receipts(c)
        want = snapshot(c)
        assert sum(q["info"]["sent_total"] for k, q in want.items() if k != "#dbsize") > 50
        c.close()

        # A crash and a restart.
        srv.restart_after_kill()
        c = srv.raw(timeout=10)
        assert_same_state(want, snapshot(c), "after SIGKILL and restart")
        assert w.check_receipts(c) == vis, "receipts answer differently after the restart"

        # The files replayed into an empty server.
        target = aof("always", name="replay")
        t = target.raw(timeout=10)
        assert t.cmd("DBSIZE") == 0
        replay_into(target.port, srv.aof_dir)
        assert_same_state(want, snapshot(t), "after lz4cat | redis-cli --pipe into an empty server")
        assert w.check_receipts(t) == vis, "receipts answer differently after the replay"

        # Every message, with its metadata, comes out the same from both.
        a = drain_withmeta(c)
        b = drain_withmeta(t)
        assert a == b, "QRECV WITHMETA differs between the restarted and the replayed server"
        want = snapshot(c)
        assert_same_state(want, snapshot(t), "after the same deliveries on both")

        # The replayed server logged what it replayed: it restarts to the same state.
        t.close()
        target.restart_after_kill()
        t = target.raw(timeout=10)
        assert_same_state(want, snapshot(t), "replayed server after its own restart")
        t.close()

        # A clean stop (SIGTERM) and a restart.
        w.c = c
        w.run(200)
        vis = w.check_receipts(c)   # may lease again: before the snapshot
        want = snapshot(c)
        c.close()
        assert srv.sigterm() == 0
        srv.start()
        c = srv.raw(timeout=10)
        assert_same_state(want, snapshot(c), "after SIGTERM and restart")
        assert w.check_receipts(c) == vis

        # A rewrite, then a crash and a restart; and the rewritten files replayed.
        bgrewriteaof(c)
        entries = read_manifest(srv.aof_dir)
        assert [e[2] for e in entries] == ["b", "i"], entries
        vis = w.check_receipts(c)
        want = snapshot(c)
        c.close()
        srv.restart_after_kill()
        c = srv.raw(timeout=10)
        assert_same_state(want, snapshot(c), "after BGREWRITEAOF, SIGKILL and restart")
        assert w.check_receipts(c) == vis
        target2 = aof("always", name="replay2")
        t = target2.raw(timeout=10)
        replay_into(target2.port, srv.aof_dir)
        assert_same_state(want, snapshot(t), "rewritten files replayed into an empty server")
        assert w.check_receipts(t) == vis
        assert drain_withmeta(c) == drain_withmeta(t)
        t.close()
        c.close()


def test_replayed_server_gives_new_ids(aof):
    """A server rebuilt by replay goes on with ids that were never used."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "q", "VISIBILITY", 300))
    ids = {c.cmd("QSEND", "q", b"m%d" % i) for i in range(10)}
    target = aof("always", name="replay")
    replay_into(target.port, srv.aof_dir)
    t = target.raw()
    for i in range(10):
        mid = t.cmd("QSEND", "q", b"n%d" % i)
        assert isinstance(mid, bytes) and mid not in ids, mid
        ids.add(mid)
    t.close()
    c.close()


def test_counters_survive_restart_rewrite_and_replay(aof):
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "dl", "VISIBILITY", 300))
    assert is_ok(c.cmd("QCREATE", "src", "VISIBILITY", 300, "DLQ", "dl", "MAXRECEIVES", 1))
    assert is_ok(c.cmd("QCREATE", "ex", "RETENTION", 1))
    for i in range(4):
        assert isinstance(c.cmd("QSEND", "src", b"s%d" % i), bytes)
    m = c.cmd("QRECV", "src")[0]
    assert is_ok(c.cmd("QVIS", "src", m[1], 0))        # dead-lettered
    m = c.cmd("QRECV", "src")[0]
    assert c.cmd("QDEL", "src", m[1]) == 1               # deleted
    m = c.cmd("QRECV", "dl")[0]
    assert is_ok(c.cmd("QVIS", "dl", m[1], 0))
    assert c.cmd("QREDRIVE", "dl") == 1
    for i in range(3):
        c.cmd("QSEND", "ex", b"e%d" % i)
    deadline = time.monotonic() + 10
    while qinfo_dict(c, "ex")["expired_total"] < 3:
        assert time.monotonic() < deadline, qinfo_dict(c, "ex")
        time.sleep(0.1)
    want = snapshot(c)
    s, d = want["src"]["info"], want["dl"]["info"]
    assert (s["sent_total"], s["received_total"], s["deleted_total"], s["deadlettered_total"]) == (4, 2, 1, 1), s
    assert (d["sent_total"], d["received_total"]) == (0, 1), d
    assert want["ex"]["info"]["expired_total"] == 3
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "counters after SIGKILL and restart")
    bgrewriteaof(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "counters after a rewrite and a restart")
    target = aof("always", name="replay")
    replay_into(target.port, srv.aof_dir)
    t = target.raw()
    assert_same_state(want, snapshot(t), "counters replayed from the rewritten files")
    t.close()
    c.close()


# ---------------------------------------------------------------------------
# Rewrites
# ---------------------------------------------------------------------------


def test_bgrewriteaof_layout_and_restart(aof):
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "r", "VISIBILITY", 300))
    assert is_ok(c.cmd("QCREATE", "f", "FIFO", "CONTENTDEDUP", "VISIBILITY", 300))
    for i in range(50):
        c.cmd("QSEND", "r", b"m%d" % i, "PRIORITY", i % 5)
        c.cmd("QSEND", "f", b"f%d" % i, "GROUP", "g%d" % (i % 3))
    for m in c.cmd("QRECV", "r", "COUNT", 10):
        c.cmd("QDEL", "r", m[1])
    leased = c.cmd("QRECV", "r", "COUNT", 5)
    old = read_manifest(srv.aof_dir)
    old_base_seq = [e[1] for e in old if e[2] == "b"][0]
    assert c.cmd_raw("BGREWRITEAOF") == BGREWRITE_STARTED
    d = wait_rewrite_done(c)
    assert d["aof_last_bgrewrite_status"] == "ok", d
    entries = read_manifest(srv.aof_dir)
    assert [e[2] for e in entries] == ["b", "i"], entries
    assert entries[0][1] > old_base_seq, (old, entries)
    assert dir_listing(srv.aof_dir) == sorted(["respq.aof.manifest", entries[0][0], entries[1][0]]), \
        dir_listing(srv.aof_dir)
    for e in entries:
        assert e[0].startswith("respq.aof.%d." % e[1]) and e[0].endswith(
            ".base.lz4" if e[2] == "b" else ".incr.lz4"), e
    base = (srv.aof_dir / entries[0][0]).read_bytes()
    lz4_frames(base)
    plain = lz4_decode(base)
    assert plain.startswith(b"*"), plain[:100]
    assert b"HEADER" in plain[:200] and b"respq-aof" in plain[:200], plain[:200]
    want = snapshot(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after BGREWRITEAOF and a restart")
    # The leases taken before the rewrite are in the new base.
    for m in leased:
        assert c.cmd("QDEL", "r", m[1]) == 1
    c.close()


def test_auto_rewrite_with_small_min_size(aof):
    srv = aof("always", "--auto-aof-rewrite-percentage", 100, "--auto-aof-rewrite-min-size", "16kb")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "a", "VISIBILITY", 300))
    first = read_manifest(srv.aof_dir)
    base_seq = [e[1] for e in first if e[2] == "b"][0]
    deadline = time.monotonic() + 20
    i = 0
    while True:
        c.cmd("QSEND", "a", b"%d:" % i + os.urandom(700))
        i += 1
        entries = read_manifest(srv.aof_dir)
        if [e[1] for e in entries if e[2] == "b"][0] > base_seq and len(entries) == 2:
            break
        assert time.monotonic() < deadline, "no automatic rewrite after %d sends: %r" % (i, entries)
        time.sleep(0.005)
    wait_rewrite_done(c)
    entries = read_manifest(srv.aof_dir)
    assert [e[2] for e in entries] == ["b", "i"], entries
    want = snapshot(c)
    assert want["a"]["info"]["sent_total"] == i
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after an automatic rewrite and a restart")
    c.close()


def test_auto_rewrite_min_size_set_at_run_time(aof):
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "a"))
    for i in range(60):
        c.cmd("QSEND", "a", b"%d:" % i + os.urandom(1000))
    time.sleep(1.2)   # a few cron runs: the default 64mb is far away
    before = read_manifest(srv.aof_dir)
    assert [e[1] for e in before] == [1, 1], before
    assert is_ok(c.cmd("CONFIG", "SET", "auto-aof-rewrite-min-size", "8kb"))
    deadline = time.monotonic() + 10
    while True:
        entries = read_manifest(srv.aof_dir)
        if entries[0][1] > 1 and len(entries) == 2:
            break
        assert time.monotonic() < deadline, "no automatic rewrite after CONFIG SET: %r" % entries
        time.sleep(0.05)
    want = snapshot(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after a rewrite started by CONFIG SET")
    c.close()


# ---------------------------------------------------------------------------
# Compaction under load
# ---------------------------------------------------------------------------


def test_compaction_under_load_loses_nothing(aof):
    srv = aof("always", "--auto-aof-rewrite-percentage", 100, "--auto-aof-rewrite-min-size", "32kb")
    c = srv.raw(timeout=10)
    assert is_ok(c.cmd("QCREATE", "load", "VISIBILITY", 300))
    assert is_ok(c.cmd("QCREATE", "keep", "VISIBILITY", 300))
    lock = threading.Lock()
    acked = {"load": {}, "keep": {}}
    deleted = set()
    errors = []
    stop = threading.Event()

    def producer(k, q, limit):
        conn = srv.raw(timeout=10)
        n = 0
        while not stop.is_set() and n < limit:
            with lock:
                backlog = len(acked["load"]) - len(deleted)
            if q == "load" and backlog > 300:
                time.sleep(0.002)
                continue
            body = b"%s-%d-%d" % (q.encode(), k, n) + b"." * (n % 50)
            n += 1
            reply = conn.cmd("QSEND", q, body)
            with lock:
                if not isinstance(reply, bytes):
                    errors.append("QSEND -> %r" % (reply,))
                    return
                if reply in acked[q]:
                    errors.append("id %r given twice" % reply)
                acked[q][reply] = body
        conn.close()

    def consumer():
        conn = srv.raw(timeout=10)
        while not stop.is_set():
            msgs = conn.cmd("QRECV", "load", "COUNT", 8, "WAIT", "0.05")
            if not isinstance(msgs, list):
                errors.append("QRECV -> %r" % (msgs,))
                return
            if msgs:
                n = conn.cmd("QDEL", "load", *[m[1] for m in msgs])
                if n != len(msgs):
                    errors.append("QDEL -> %r for %d" % (n, len(msgs)))
                    return
                with lock:
                    deleted.update(m[0] for m in msgs)
        conn.close()

    threads = [threading.Thread(target=producer, args=(0, "load", 10 ** 9)),
               threading.Thread(target=producer, args=(1, "keep", 800)),
               threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    first_base = read_manifest(srv.aof_dir)[0][1]
    try:
        # Under this load the automatic rewrite starts again as soon as one ends;
        # BGREWRITEAOF on top of it may find one running.
        for _ in range(8):
            time.sleep(0.3)
            r = c.cmd_raw("BGREWRITEAOF")
            assert r == BGREWRITE_STARTED or b"already in progress" in r, r
            assert info(c)["aof_last_bgrewrite_status"] == "ok"
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    # No automatic rewrite may start between the wait and the look at the files.
    assert is_ok(c.cmd("CONFIG", "SET", "auto-aof-rewrite-percentage", 0))
    d = wait_rewrite_done(c)
    assert d["aof_last_bgrewrite_status"] == "ok", d
    rewrites = read_manifest(srv.aof_dir)[0][1] - first_base
    assert rewrites >= 3, "only %d rewrites finished" % rewrites
    # Nothing answered was lost while the files were being switched.
    present = {q: {m[0]: m[1] for m in c.cmd("QPEEK", q, "COUNT", 1000)} for q in ("load", "keep")}
    for q in ("load", "keep"):
        alive = {mid: b for mid, b in acked[q].items() if mid not in deleted}
        assert present[q] == alive, "%s: %d present, %d expected; missing %r, extra %r" % (
            q, len(present[q]), len(alive), sorted(set(alive) - set(present[q]))[:3],
            sorted(set(present[q]) - set(alive))[:3])
        info_q = qinfo_dict(c, q)
        assert info_q["sent_total"] == len(acked[q]), info_q
    assert qinfo_dict(c, "load")["deleted_total"] == len(deleted)
    entries = read_manifest(srv.aof_dir)
    assert [e[2] for e in entries] == ["b", "i"], entries
    want = snapshot(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw(timeout=10)
    assert_same_state(want, snapshot(c), "after compactions under load and a restart")
    # One more rewrite of the loaded state; its files alone load to the same state.
    # (The increment is past the automatic trigger: that one may be running.)
    assert is_ok(c.cmd("CONFIG", "SET", "auto-aof-rewrite-percentage", 0))
    wait_rewrite_done(c)
    bgrewriteaof(c)
    c.close()
    assert srv.sigterm() == 0
    srv.start()
    c = srv.raw(timeout=10)
    assert_same_state(want, snapshot(c), "after a rewrite of the loaded state")
    target = aof("always", name="replay")
    replay_into(target.port, srv.aof_dir)
    t = target.raw(timeout=10)
    assert_same_state(want, snapshot(t), "compacted files replayed into an empty server")
    t.close()
    c.close()


def test_bgrewriteaof_keeps_answering(aof):
    """While a rewrite runs the server answers; what is written meanwhile goes to the
    new increment and survives."""
    srv = aof("always")
    c = srv.raw(timeout=10)
    assert is_ok(c.cmd("QCREATE", "big", "VISIBILITY", 300))
    body = b"b" * 4000
    for i in range(2000):
        c.send_cmd("QSEND", "big", body)
    for i in range(2000):
        assert isinstance(c.read_reply(), bytes)
    assert c.cmd_raw("BGREWRITEAOF") == BGREWRITE_STARTED
    ids = []
    for i in range(50):
        mid = c.cmd("QSEND", "big", b"during %d" % i)
        assert isinstance(mid, bytes), mid
        ids.append(mid)
    assert c.cmd("PING") == Simple("PONG")
    wait_rewrite_done(c)
    want = snapshot(c)
    assert want["big"]["info"]["sent_total"] == 2050
    c.close()
    srv.restart_after_kill()
    c = srv.raw(timeout=10)
    assert_same_state(want, snapshot(c), "after a rewrite with writes during it")
    c.close()


def test_replay_keeps_lease_and_delay_end_times(aof):
    """Records carry times: in a server rebuilt by replay a lease and a delay end
    when they would have ended in the original, not counted from the replay."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "t", "VISIBILITY", 300))
    lease_id = c.cmd("QSEND", "t", b"leased")
    t0 = time.time()
    m = c.cmd("QRECV", "t", "VISIBILITY", 3)[0]
    assert m[0] == lease_id
    delayed_id = c.cmd("QSEND", "t", b"delayed", "DELAY", 3)
    c.close()
    time.sleep(1.0)   # so that "3 s from the replay" would be clearly later
    target = aof("always", name="replay")
    replay_into(target.port, srv.aof_dir)
    t = target.raw()
    info_t = qinfo_dict(t, "t")
    assert (info_t["inflight"], info_t["delayed"], info_t["ready"]) == (1, 1, 0), info_t
    deadline = t0 + 5.5
    while True:
        ids = sorted(x[0] for x in t.cmd("QPEEK", "t", "COUNT", 10))
        if ids == sorted([lease_id, delayed_id]):
            break
        assert time.time() < deadline, "lease/delay not over %.1f s after they began: %r" % (
            time.time() - t0, ids)
        time.sleep(0.05)
    assert time.time() < t0 + 3.9, "they ended %.2f s after they began, not 3 s" % (time.time() - t0)
    # The receipt handed out by the original works in the replayed server.
    assert t.cmd("QDEL", "t", m[1]) == 1
    t.close()


def test_large_and_binary_bodies_survive(aof):
    srv = aof("always")
    c = srv.raw(timeout=20)
    assert is_ok(c.cmd("QCREATE", "big", "VISIBILITY", 300))
    bodies = [os.urandom(1048576), bytes(range(256)) * 4, b"", b"\r\n", b"*1\r\n$4\r\nPING\r\n",
              b"QREPLAY 1 DROP big\r\n", b"\x00" * 70000]
    ids = [c.cmd("QSEND", "big", b) for b in bodies]
    assert all(isinstance(i, bytes) for i in ids), [i for i in ids if not isinstance(i, bytes)]
    want = snapshot(c)
    assert [m[1] for m in want["big"]["peek"]] == bodies
    c.close()
    srv.restart_after_kill()
    c = srv.raw(timeout=20)
    assert_same_state(want, snapshot(c), "large and binary bodies after a restart")
    bgrewriteaof(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw(timeout=20)
    assert_same_state(want, snapshot(c), "large and binary bodies after a rewrite")
    target = aof("always", name="replay")
    replay_into(target.port, srv.aof_dir)
    t = target.raw(timeout=20)
    assert_same_state(want, snapshot(t), "large and binary bodies replayed")
    t.close()
    c.close()


def test_state_equal_across_kill_cycles_with_rewrites(aof):
    """Rounds of the random workload, each ended by SIGKILL at a moment with no
    request outstanding, some while a rewrite runs, some right after one: every
    restart gives back the state of the last answer."""
    srv = aof("always")
    c = srv.raw(timeout=10)
    with seeded(make_seed()) as rng:
        w = Workload(c, rng)
        w.setup()
        for cycle in range(20):
            w.c = c
            w.run(rng.randint(20, 150))
            pick = rng.random()
            if pick < 0.4:
                r = c.cmd_raw("BGREWRITEAOF")
                assert r == BGREWRITE_STARTED or b"already in progress" in r, r
                if pick < 0.2:
                    wait_rewrite_done(c)
                else:
                    w.run(rng.randint(0, 30))   # written while the child runs
            vis = w.check_receipts(c)
            want = snapshot(c)
            c.close()
            srv.restart_after_kill()
            c = srv.raw(timeout=10)
            assert_same_state(want, snapshot(c), "after kill cycle %d" % cycle)
            assert w.check_receipts(c) == vis, "receipts differ after kill cycle %d" % cycle
        c.close()


def test_rewrite_keeps_order_between_fifo_groups(aof):
    """docs/commands.md: between FIFO groups, a group that was blocked goes to the
    back when it is freed. A rewrite must keep that order: B (group g0, freed by
    the QDEL of A) is delivered after C (group g3) before the rewrite, so after it
    too."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "f", "FIFO", "VISIBILITY", 300))
    c.cmd("QSEND", "f", b"A", "GROUP", "g0", "DEDUPID", "a")
    a = c.cmd("QRECV", "f")[0]
    c.cmd("QSEND", "f", b"B", "GROUP", "g0", "DEDUPID", "b")
    c.cmd("QSEND", "f", b"C", "GROUP", "g3", "DEDUPID", "c")
    assert c.cmd("QDEL", "f", a[1]) == 1
    live = [m[1] for m in c.cmd("QPEEK", "f", "COUNT", 10)]
    want = snapshot(c)
    # Without a rewrite, a restart keeps the order.
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "FIFO group order after a restart")
    bgrewriteaof(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    after = [m[1] for m in c.cmd("QPEEK", "f", "COUNT", 10)]
    assert after == live, "order between FIFO groups changed by a rewrite: %r before, %r after" % (
        live, after)
    assert_same_state(want, snapshot(c), "FIFO group order after a rewrite")
    c.close()
