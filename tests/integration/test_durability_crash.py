"""Crashes: SIGKILL at random moments under load, torn tails, damaged frames.

Spec: commands.md "Durability contract" (appendfsync always: a reply only once its
record is on disk; a torn tail is cut off at start-up and reported with the file and
the offset where its frame begins; damage anywhere else stops the start, exit status
not 0, with a message naming the file, the offset and respq-aof check / fix);
"Rules that settle the corner cases" (receipts and leases survive a restart);
"Names and values" (a message id is unique for the life of the data directory);
docs/persistence.md (Files, Start-up, Rewrites).

The kill loop is seeded: the seed is printed, and named in the failure message.
RESPQ_TEST_SEED=<n> replays a run; RESPQ_DURABILITY_KILLS=<n> changes the number of
kill points (30 by default).
"""

import os
import random
import re
import threading
import time

import pytest

from durability_helpers import (aof, assert_same_state, bgrewriteaof, is_ok,  # noqa: F401
                                lz4_decode, lz4_frames, make_seed, manifest_files,
                                qinfo_dict, read_manifest, run_server_expect_exit, seeded,
                                snapshot, state_diff, wait_rewrite_done)
from queue_helpers import BADRECEIPT
from respq_testlib import Closed, Error

KILLS = int(os.environ.get("RESPQ_DURABILITY_KILLS", "30"))
CONN_ERRORS = (OSError, Closed, TimeoutError)
Q = "crash"


# ---------------------------------------------------------------------------
# Kill points under load
# ---------------------------------------------------------------------------


class Book:
    """What the clients were told, shared by the producer and consumer threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}            # id -> body: QSEND answered (or found after a restart)
        self.id_body = {}          # every id seen anywhere -> its body
        self.deleted = set()       # ids whose deletion was answered (or proven)
        self.unknown_sends = set()  # bodies whose QSEND got no answer
        self.open_receipts = {}    # receipt -> id: QRECV answered, QDEL/QVIS not answered
        self.attempted_sends = 0
        self.answered_receives = 0
        self.errors = []

    def see(self, mid, body, where):
        """Records that id mid carries body; an id seen with two bodies was reused."""
        old = self.id_body.get(mid)
        if old is not None and old != body:
            self.errors.append("%s: id %r came with body %r, earlier with %r (id reused?)"
                               % (where, mid, body, old))
        self.id_body[mid] = body


def producer(conn, book, stop, cycle, k, rng):
    n = 0
    while not stop.is_set():
        with book.lock:
            backlog = len(book.acked) - len(book.deleted)
        if backlog > 300:
            time.sleep(0.005)
            continue
        tail = rng.choice([b"", b"\r\n", b"\x00\xff", b" x" * rng.randint(1, 40)])
        body = b"c%d-p%d-%d%s" % (cycle, k, n, tail)
        n += 1
        with book.lock:
            book.unknown_sends.add(body)
            book.attempted_sends += 1
        try:
            reply = conn.cmd("QSEND", Q, body)
        except CONN_ERRORS:
            return
        with book.lock:
            if not isinstance(reply, bytes):
                book.errors.append("QSEND -> %r" % (reply,))
                return
            book.unknown_sends.discard(body)
            book.see(reply, body, "QSEND")
            book.acked[reply] = body


def consumer(conn, book, stop, rng):
    while not stop.is_set():
        try:
            reply = conn.cmd("QRECV", Q, "COUNT", rng.randint(1, 10), "VISIBILITY", 1,
                             "WAIT", "0.05")
        except CONN_ERRORS:
            return
        with book.lock:
            if not isinstance(reply, list):
                book.errors.append("QRECV -> %r" % (reply,))
                return
            for mid, receipt, body, _receives in reply:
                book.see(mid, body, "QRECV")
                book.open_receipts[receipt] = mid
                book.answered_receives += 1
        if not reply:
            continue
        receipts = [m[1] for m in reply]
        if rng.random() < 0.1:
            # A negative acknowledgement: the message is ready again.
            try:
                r = conn.cmd("QVIS", Q, receipts[0], 0)
            except CONN_ERRORS:
                return
            with book.lock:
                if not is_ok(r):
                    book.errors.append("QVIS %r 0 -> %r" % (receipts[0], r))
                    return
                book.open_receipts.pop(receipts[0])
            receipts = receipts[1:]
            if not receipts:
                continue
        try:
            n = conn.cmd("QDEL", Q, *receipts)
        except CONN_ERRORS:
            return
        with book.lock:
            if n != len(receipts):
                book.errors.append("QDEL of %d fresh receipts -> %r" % (len(receipts), n))
                return
            for r in receipts:
                book.deleted.add(book.open_receipts.pop(r))


def verify_after_restart(srv, book, cycle):
    """Checks the restarted server against what the clients were told, then makes
    the book exact again (unanswered requests resolved one way or the other)."""
    conn = srv.raw(timeout=10)
    where = "after kill point %d" % cycle
    # Receipts of answered deliveries whose QDEL (or QVIS) got no answer: the
    # receipt must still work if the message is still there, and be stale if the
    # QDEL took effect.
    still_there, gone = set(), set()
    for receipt, mid in sorted(book.open_receipts.items()):
        r = conn.cmd("QVIS", Q, receipt, 0)
        if is_ok(r):
            still_there.add(mid)
        elif isinstance(r, Error) and r == BADRECEIPT:
            gone.add(mid)
        else:
            raise AssertionError("%s: QVIS %r 0 -> %r" % (where, receipt, r))
    book.open_receipts.clear()
    # Leases of deliveries whose QRECV got no answer end within 1 s.
    deadline = time.monotonic() + 15
    while True:
        d = qinfo_dict(conn, Q)
        if d["inflight"] == 0 and d["delayed"] == 0:
            break
        assert time.monotonic() < deadline, "%s: messages still in flight after 15 s: %r" % (where, d)
        time.sleep(0.05)
    peek = conn.cmd("QPEEK", Q, "COUNT", 1000)
    assert isinstance(peek, list), peek
    present = {}
    for mid, body, _receives in peek:
        assert mid not in present, "%s: id %r listed twice by QPEEK" % (where, mid)
        present[mid] = body
    assert len(present) == d["ready"], "%s: QPEEK %d messages, QINFO ready %d" % (
        where, len(present), d["ready"])

    for mid in still_there:
        assert mid in present, "%s: QVIS accepted the receipt of %r but it is not there" % (where, mid)
    for mid in gone:
        assert mid not in present, "%s: receipt of %r stale but the message is there" % (where, mid)
        book.deleted.add(mid)
    lost = sorted(mid for mid in book.acked if mid not in book.deleted and mid not in present)
    assert not lost, "%s: %d answered QSENDs lost, e.g. %r (body %r)" % (
        where, len(lost), lost[0], book.acked[lost[0]])
    back = sorted(book.deleted & set(present))
    assert not back, "%s: %d messages deleted by an answered QDEL came back, e.g. %r" % (
        where, len(back), back[0])
    for mid, body in present.items():
        if mid in book.acked:
            assert book.acked[mid] == body, "%s: %r has body %r, sent %r" % (
                where, mid, body, book.acked[mid])
        elif body in book.unknown_sends:
            # A QSEND that got no answer took effect: fine, and from now on it must stay.
            book.see(mid, body, "QPEEK")
            book.acked[mid] = body
            book.unknown_sends.discard(body)
        else:
            raise AssertionError("%s: message %r (body %r) was never sent" % (where, mid, body))
    # Sends that got no answer and are not there now are gone for good.
    book.unknown_sends.clear()
    assert not book.errors, "%s: client errors: %s" % (where, book.errors[:5])

    # Counters: every message added is either there now or was deleted (nothing
    # expires here), and every deletion is known.
    added = set(book.acked) | book.deleted
    assert d["sent_total"] == len(added), "%s: sent_total %d, messages added %d" % (
        where, d["sent_total"], len(added))
    assert d["deleted_total"] == len(book.deleted), "%s: deleted_total %d, deleted %d" % (
        where, d["deleted_total"], len(book.deleted))
    assert d["received_total"] >= book.answered_receives, (where, d["received_total"],
                                                           book.answered_receives)
    conn.close()


def test_sigkill_under_load_loses_no_answered_change(aof):
    """Two producers and a consumer against appendfsync always; SIGKILL at random
    moments (some in the middle of a BGREWRITEAOF), restart, check: every answered
    QSEND is there unless an answered QDEL deleted it, no answered QDEL comes back,
    receipts whose QDEL got no answer still work or are stale, no id is reused,
    sent_total and deleted_total are exact."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", Q, "VISIBILITY", 1))
    c.close()
    book = Book()
    with seeded(make_seed()) as rng:
        for cycle in range(KILLS):
            stop = threading.Event()
            threads = []
            conns = []
            for k in range(2):
                conn = srv.raw(timeout=10)
                conns.append(conn)
                threads.append(threading.Thread(
                    target=producer, args=(conn, book, stop, cycle, k, random_from(rng))))
            conn = srv.raw(timeout=10)
            conns.append(conn)
            threads.append(threading.Thread(target=consumer, args=(conn, book, stop, random_from(rng))))
            for t in threads:
                t.start()
            # The kill point: some right away, most after a random stretch of load,
            # some in the middle of a rewrite.
            pick = rng.random()
            if pick < 0.1:
                pass
            elif pick < 0.4:
                time.sleep(rng.uniform(0.02, 0.3))
                admin = srv.raw(timeout=10)
                r = admin.cmd_raw("BGREWRITEAOF")
                assert r.startswith(b"+Background append only file rewriting started") or \
                    b"already in progress" in r, r
                if rng.random() < 0.3:
                    # Let this one finish, so that the files do not pile up.
                    wait_rewrite_done(admin)
                time.sleep(rng.uniform(0, 0.2))
                admin.close()
            else:
                time.sleep(rng.uniform(0.02, 0.6))
            srv.sigkill()
            stop.set()
            for t in threads:
                t.join(30)
                assert not t.is_alive(), "a client thread did not stop after the kill"
            for conn in conns:
                conn.close()
            srv.start()
            verify_after_restart(srv, book, cycle)
        print("kill points: %d; answered sends %d, deletions %d, deliveries %d"
              % (KILLS, len(book.acked), len(book.deleted), book.answered_receives))
        assert len(book.acked) > KILLS, "the load barely ran: %d sends" % len(book.acked)


def random_from(rng):
    return random.Random(rng.randrange(1 << 62))


# ---------------------------------------------------------------------------
# Leases and receipts across a crash
# ---------------------------------------------------------------------------


def test_leases_and_receipts_survive_sigkill(aof):
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "lq", "VISIBILITY", 300))
    ids = [c.cmd("QSEND", "lq", b"m%d" % i) for i in range(4)]
    assert all(isinstance(i, bytes) for i in ids), ids
    long1 = c.cmd("QRECV", "lq")[0]               # lease 300 s: QDEL after the crash
    long2 = c.cmd("QRECV", "lq")[0]               # lease 300 s: QVIS 0 after the crash
    t_short = time.time()
    short = c.cmd("QRECV", "lq", "VISIBILITY", 3)[0]  # ends 3 s from now
    assert [long1[0], long2[0], short[0]] == ids[:3]
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    info = qinfo_dict(c, "lq")
    if time.time() < t_short + 2.5:
        assert (info["inflight"], info["ready"]) == (3, 1), info
        # Only the one never delivered is ready.
        assert c.cmd("QPEEK", "lq", "COUNT", 10) == [[ids[3], b"m3", 0]]
    # The receipts from before the crash still work.
    assert c.cmd("QDEL", "lq", long1[1]) == 1
    assert c.cmd("QDEL", "lq", long1[1]) == 0
    assert is_ok(c.cmd("QVIS", "lq", long2[1], 0))
    # long2 is ready again with its receive count kept.
    peek = c.cmd("QPEEK", "lq", "COUNT", 10)
    assert [ids[1], b"m1", 1] in peek, peek
    # The short lease ends at its time, not at restart + 3 s, and no sooner.
    while time.time() < t_short + 2.7:
        peek = c.cmd("QPEEK", "lq", "COUNT", 10)
        assert ids[2] not in [m[0] for m in peek], "lease ended %.2f s early" % (t_short + 3 - time.time())
        time.sleep(0.05)
    deadline = t_short + 6
    while True:
        peek = c.cmd("QPEEK", "lq", "COUNT", 10)
        if ids[2] in [m[0] for m in peek]:
            break
        assert time.time() < deadline, "short lease did not end after the restart: %r" % peek
        time.sleep(0.05)
    assert [ids[2], b"m2", 1] in peek
    # Its receipt is still valid: the message was not delivered again.
    assert is_ok(c.cmd("QVIS", "lq", short[1], 300))
    info = qinfo_dict(c, "lq")
    assert (info["inflight"], info["ready"]) == (1, 2), info
    # And after one more crash, the lease set by QVIS is still there.
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    info = qinfo_dict(c, "lq")
    assert (info["inflight"], info["ready"], info["deleted_total"]) == (1, 2, 1), info
    assert c.cmd("QDEL", "lq", short[1]) == 1
    c.close()


def test_message_ids_unique_across_restarts(aof):
    """Ids stay unique for the life of the data directory: across SIGKILL,
    SIGTERM, and a rewrite made when every message was deleted."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "u", "VISIBILITY", 300))
    seen = []

    def send_some(n):
        for _ in range(n):
            mid = c.cmd("QSEND", "u", b"x")
            assert isinstance(mid, bytes), mid
            seen.append(mid)

    def delete_all():
        while True:
            msgs = c.cmd("QRECV", "u", "COUNT", 100)
            if not msgs:
                return
            assert c.cmd("QDEL", "u", *[m[1] for m in msgs]) == len(msgs)

    send_some(5)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    send_some(5)
    delete_all()
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    send_some(5)
    delete_all()
    bgrewriteaof(c)           # the new base holds no message at all
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    send_some(5)
    c.close()
    assert srv.sigterm() == 0
    srv.start()
    c = srv.raw()
    # The queue dropped and made again: ids go on.
    assert c.cmd("QDROP", "u") == 1
    assert is_ok(c.cmd("QCREATE", "u"))
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    send_some(5)
    assert len(set(seen)) == len(seen), "an id was given twice: %r" % seen
    c.close()


# ---------------------------------------------------------------------------
# Torn tails and damage
# ---------------------------------------------------------------------------


def _build_log(srv):
    """A few queues and messages; then one last QSEND whose frame ends the
    increment. Returns (state before the last QSEND, state after, incr path)."""
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "t1", "VISIBILITY", 300))
    assert is_ok(c.cmd("QCREATE", "t2", "FIFO", "VISIBILITY", 300))
    for i in range(20):
        assert isinstance(c.cmd("QSEND", "t1", b"body %d" % i, "PRIORITY", i % 3), bytes)
        assert isinstance(c.cmd("QSEND", "t2", b"f%d" % i, "GROUP", "g%d" % (i % 4),
                                "DEDUPID", "d%d" % i), bytes)
    got = c.cmd("QRECV", "t1", "COUNT", 3)
    assert len(got) == 3
    assert c.cmd("QDEL", "t1", got[0][1]) == 1
    before = snapshot(c)
    assert isinstance(c.cmd("QSEND", "t1", b"the-last-message"), bytes)
    after = snapshot(c)
    c.close()
    srv.sigkill()
    files = manifest_files(srv.aof_dir)
    last = files[-1]
    frames = lz4_frames(last.read_bytes())
    start, end = frames[-1]
    tail = lz4_decode(last.read_bytes()[start:end])
    assert b"the-last-message" in tail, "the last frame is not the last QSEND's: %r" % tail[:300]
    assert b"the-last-message" not in lz4_decode(last.read_bytes()[:start])
    return before, after, last


def _torn_report(log, name, offset):
    """The log line that reports the cut: names the file and the offset."""
    for line in log.splitlines():
        if name in line and re.search(r"(?<![0-9])%d(?![0-9])" % offset, line):
            return line
    return None


def test_torn_tail_cut_at_every_offset_of_last_frame(aof):
    srv = aof("always")
    before, after, last = _build_log(srv)
    original = last.read_bytes()
    start, end = lz4_frames(original)[-1]
    assert end == len(original)
    failures = []
    for cut in range(start, end + 1):
        last.write_bytes(original[:cut])
        try:
            srv.start()
        except Exception as e:  # noqa: BLE001 -- reported with the offset below
            failures.append("cut at %d (frame %d-%d): server did not start: %s"
                            % (cut, start, end, str(e)[-1500:]))
            break
        c = srv.raw()
        state = snapshot(c)
        c.close()
        log = srv.log_since_start()
        srv.sigkill()
        want = after if cut == end else before
        if state != want:
            failures.append("cut at %d (frame %d-%d): wrong state:\n%s"
                            % (cut, start, end, state_diff(want, state)))
        if start < cut < end:
            if not _torn_report(log, last.name, start):
                failures.append("cut at %d: no log line names %s and offset %d:\n%s"
                                % (cut, last.name, start, log[-2000:]))
            size = last.stat().st_size
            if size != start:
                failures.append("cut at %d: the file is %d bytes after start-up, not cut at %d"
                                % (cut, size, start))
        if len(failures) > 5:
            break
    assert not failures, "\n".join(failures)


def test_torn_tail_then_new_writes_load(aof):
    """After a cut the server appends after the cut, and the whole file loads."""
    srv = aof("always")
    before, _after, last = _build_log(srv)
    original = last.read_bytes()
    start, end = lz4_frames(original)[-1]
    last.write_bytes(original[:start + (end - start) // 2])
    srv.start()
    c = srv.raw()
    assert_same_state(before, snapshot(c), "after the torn tail was cut")
    assert isinstance(c.cmd("QSEND", "t1", b"after the cut"), bytes)
    want = snapshot(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after writes that followed a cut")
    assert "damaged" not in srv.log_since_start().lower()
    c.close()


@pytest.mark.parametrize("junk", [b"\x00" * 100, b"\x04\x22\x4d\x18", b"garbage\r\n" * 7],
                         ids=["zeros", "lone_magic", "text"])
def test_junk_after_last_frame_is_a_torn_tail(aof, junk):
    """Bytes after the last whole frame (a file extended by a crash) are a torn tail."""
    srv = aof("always")
    _before, after, last = _build_log(srv)
    original = last.read_bytes()
    last.write_bytes(original + junk)
    srv.start()
    c = srv.raw()
    assert_same_state(after, snapshot(c), "after junk was cut off the tail")
    c.close()
    assert _torn_report(srv.log_since_start(), last.name, len(original)), srv.log_since_start()[-2000:]
    assert last.stat().st_size == len(original)


def _damage_positions(start, end, data):
    """Offsets to flip in the frame data[start:end]: magic, flags, header checksum,
    the first block's size, the middle of its data, the last block's checksum
    and the end mark."""
    pos = {start, start + 4, start + 6, start + 7, start + 9, (start + end) // 2, end - 5, end - 1}
    return sorted(p for p in pos if start <= p < end)


@pytest.mark.parametrize("which", ["incr_early_frame", "base_last_frame"])
def test_flipped_byte_in_early_frame_refuses_start(aof, which):
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "d", "VISIBILITY", 300))
    for i in range(10):
        assert isinstance(c.cmd("QSEND", "d", b"before rewrite %d" % i), bytes)
    if which == "base_last_frame":
        bgrewriteaof(c)
    for i in range(10):
        assert isinstance(c.cmd("QSEND", "d", b"message %d" % i), bytes)
    want = snapshot(c)
    c.close()
    srv.sigkill()
    files = manifest_files(srv.aof_dir)
    if which == "base_last_frame":
        # The base is not the last file: even its last frame is not a tail.
        target = files[0]
        assert read_manifest(srv.aof_dir)[0][2] == "b"
        frames = lz4_frames(target.read_bytes())
        start, end = frames[-1]
    else:
        target = files[-1]
        frames = lz4_frames(target.read_bytes())
        assert len(frames) >= 5, frames
        start, end = frames[2]
    original = target.read_bytes()
    failures = []
    for pos in _damage_positions(start, end, original):
        damaged = bytearray(original)
        damaged[pos] ^= 0x5A
        target.write_bytes(bytes(damaged))
        status, out = run_server_expect_exit(srv.dir, "--appendonly", "yes")
        what = "byte %d of %s flipped (frame %d-%d)" % (pos, target.name, start, end)
        if status == 0:
            failures.append("%s: exit status 0" % what)
        if target.name not in out or not re.search(r"(?<![0-9])%d(?![0-9])" % start, out) \
                or "respq-aof check" not in out or "respq-aof fix" not in out:
            failures.append("%s: the message does not name the file, offset %d, "
                            "'respq-aof check' and 'respq-aof fix':\n%s" % (what, start, out[-1500:]))
        if target.read_bytes() != bytes(damaged):
            failures.append("%s: the server changed the damaged file" % what)
    target.write_bytes(original)
    assert not failures, "\n".join(failures)
    # Put back, the files load to the same state.
    srv.start()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after the damage was undone")
    c.close()


def test_damaged_middle_file_refuses_start(aof):
    """A manifest naming a missing file, or garbage in the middle of an
    increment that is not the last, stops the start."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "m", "VISIBILITY", 300))
    for i in range(5):
        c.cmd("QSEND", "m", b"x%d" % i)
    # A rewrite killed right away leaves old base, old incr, new incr.
    assert c.cmd_raw("BGREWRITEAOF").startswith(b"+Background append only file rewriting started")
    srv.sigkill()
    entries = read_manifest(srv.aof_dir)
    if len(entries) < 3:
        pytest.skip("the rewrite finished before the kill: %r" % entries)
    middle = srv.aof_dir / entries[-2][0]
    original = middle.read_bytes()
    middle.write_bytes(original + b"\x00" * 64)   # junk after its last frame
    status, out = run_server_expect_exit(srv.dir, "--appendonly", "yes")
    assert status != 0, out[-2000:]
    assert middle.name in out and "respq-aof check" in out, out[-2000:]
    assert re.search(r"(?<![0-9])%d(?![0-9])" % len(original), out), out[-2000:]
    middle.write_bytes(original)
    srv.start()


def test_torn_header_of_a_new_increment(aof):
    """A crash right after a new increment was created: its only frame, the
    HEADER, is torn at every offset (the empty file included). The server starts,
    and what it writes after the cut loads again."""
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "h", "VISIBILITY", 300))
    assert isinstance(c.cmd("QSEND", "h", b"kept"), bytes)
    r = c.cmd_raw("BGREWRITEAOF")
    assert r.startswith(b"+Background append only file rewriting started"), r
    c.close()
    srv.sigkill()
    entries = read_manifest(srv.aof_dir)
    last = srv.aof_dir / entries[-1][0]
    original = last.read_bytes()
    frames = lz4_frames(original)
    if len(entries) < 3 or len(frames) != 1:
        # The rewrite finished first: tear the header of a fresh directory's
        # increment instead.
        srv = aof("always", name="fresh")
        srv.sigkill()
        entries = read_manifest(srv.aof_dir)
        last = srv.aof_dir / entries[-1][0]
        original = last.read_bytes()
        frames = lz4_frames(original)
        assert len(frames) == 1, frames
    print("tearing %s (%d bytes), manifest %r" % (last.name, len(original), entries))
    saved = {p.name: p.read_bytes() for p in srv.aof_dir.iterdir()}
    failures = []
    for cut in range(0, len(original)):
        for name, data in saved.items():
            (srv.aof_dir / name).write_bytes(data)
        last.write_bytes(original[:cut])
        try:
            srv.start()
        except Exception as e:  # noqa: BLE001
            failures.append("header cut at %d: no start: %s" % (cut, str(e)[-1500:]))
            break
        c = srv.raw()
        names_before = c.cmd("DBSIZE")
        r = c.cmd("QCREATE", "after-cut-%d" % cut)
        if not is_ok(r):
            failures.append("header cut at %d: QCREATE -> %r" % (cut, r))
        c.close()
        srv.sigkill()
        try:
            srv.start()
        except Exception as e:  # noqa: BLE001
            failures.append("header cut at %d: writes after the cut do not load: %s"
                            % (cut, str(e)[-1500:]))
            break
        c = srv.raw()
        if c.cmd("DBSIZE") != names_before + 1 or not is_ok(c.cmd("QCREATE", "after-cut-%d" % cut)):
            failures.append("header cut at %d: the queue made after the cut is not there" % cut)
        c.close()
        srv.sigkill()
        if len(failures) > 3:
            break
    assert not failures, "\n".join(failures)


def test_aof_load_truncated_no_refuses_torn_tail(aof):
    srv = aof("always")
    _before, after, last = _build_log(srv)
    original = last.read_bytes()
    start, end = lz4_frames(original)[-1]
    torn = original[:end - 3]
    last.write_bytes(torn)
    status, out = run_server_expect_exit(srv.dir, "--appendonly", "yes", "--aof-load-truncated", "no")
    assert status != 0, out[-2000:]
    assert last.name in out and re.search(r"(?<![0-9])%d(?![0-9])" % start, out), out[-2000:]
    assert last.read_bytes() == torn, "the server cut the file although aof-load-truncated is no"
    last.write_bytes(original)
    srv.start()
    c = srv.raw()
    assert_same_state(after, snapshot(c), "whole file again")
    c.close()


def test_timers_that_ended_while_down_take_effect_after_loading(aof):
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "lease", "VISIBILITY", 1))
    assert is_ok(c.cmd("QCREATE", "delay", "DELAY", 1))
    assert is_ok(c.cmd("QCREATE", "ret", "RETENTION", 1))
    assert is_ok(c.cmd("QCREATE", "d4"))
    assert is_ok(c.cmd("QCREATE", "src", "VISIBILITY", 1, "DLQ", "d4", "MAXRECEIVES", 1))
    lease_id = c.cmd("QSEND", "lease", b"L")
    assert c.cmd("QRECV", "lease")[0][0] == lease_id
    c.cmd("QSEND", "delay", b"D")
    c.cmd("QSEND", "ret", b"R")
    src_id = c.cmd("QSEND", "src", b"S")
    assert c.cmd("QRECV", "src")[0][0] == src_id
    c.close()
    srv.sigkill()
    time.sleep(1.6)
    srv.start()
    c = srv.raw()
    deadline = time.monotonic() + 1.5
    while True:
        got = {q: qinfo_dict(c, q) for q in ("lease", "delay", "ret", "src", "d4")}
        done = (got["lease"]["ready"] == 1 and got["delay"]["ready"] == 1
                and got["ret"]["expired_total"] == 1 and got["d4"]["ready"] == 1)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert (got["lease"]["ready"], got["lease"]["inflight"]) == (1, 0), got["lease"]
    assert c.cmd("QPEEK", "lease") == [[lease_id, b"L", 1]]
    assert (got["delay"]["ready"], got["delay"]["delayed"]) == (1, 0), got["delay"]
    assert (got["ret"]["ready"], got["ret"]["expired_total"]) == (0, 1), got["ret"]
    assert (got["src"]["inflight"], got["src"]["ready"], got["src"]["deadlettered_total"]) == (0, 0, 1), got["src"]
    assert c.cmd("QPEEK", "d4") == [[src_id, b"S", 1]]
    # And those effects were logged: one more restart keeps them.
    want = snapshot(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after a restart that ran ended timers")
    c.close()


def test_dedup_ids_survive_restart_and_rewrite(aof):
    srv = aof("always")
    c = srv.raw()
    assert is_ok(c.cmd("QCREATE", "dd", "VISIBILITY", 300))
    assert is_ok(c.cmd("QCREATE", "cf", "FIFO", "CONTENTDEDUP"))
    id_x = c.cmd("QSEND", "dd", b"first", "DEDUPID", "x")
    id_y = c.cmd("QSEND", "dd", b"deleted later", "DEDUPID", "y")
    m = c.cmd("QRECV", "dd", "COUNT", 2)
    assert [x[0] for x in m] == [id_x, id_y]
    assert c.cmd("QDEL", "dd", m[1][1]) == 1
    id_c = c.cmd("QSEND", "cf", b"same body", "GROUP", "g")
    c.close()
    for step in ("SIGKILL", "BGREWRITEAOF+SIGKILL"):
        srv.restart_after_kill()
        c = srv.raw()
        assert c.cmd("QSEND", "dd", b"second", "DEDUPID", "x") == id_x, step
        assert c.cmd("QSEND", "dd", b"again", "DEDUPID", "y") == id_y, step
        assert c.cmd("QSEND", "cf", b"same body", "GROUP", "g") == id_c, step
        info_dd = qinfo_dict(c, "dd")
        assert (info_dd["sent_total"], info_dd["inflight"], info_dd["ready"]) == (2, 1, 0), (step, info_dd)
        assert qinfo_dict(c, "cf")["sent_total"] == 1, step
        if step == "SIGKILL":
            bgrewriteaof(c)
        c.close()


def test_drop_purge_flushall_are_logged(aof):
    srv = aof("always")
    c = srv.raw()
    for q in ("pa", "pb", "pc"):
        assert is_ok(c.cmd("QCREATE", q))
        for i in range(5):
            c.cmd("QSEND", q, b"%s-%d" % (q.encode(), i))
    assert c.cmd("QPURGE", "pa") == 5
    assert c.cmd("QDROP", "pb") == 1
    want = snapshot(c)
    assert sorted(k for k in want if k != "#dbsize") == ["pa", "pc"]
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after QPURGE and QDROP")
    assert is_ok(c.cmd("FLUSHALL"))
    assert is_ok(c.cmd("QCREATE", "pb", "VISIBILITY", 7))
    want = snapshot(c)
    c.close()
    srv.restart_after_kill()
    c = srv.raw()
    assert_same_state(want, snapshot(c), "after FLUSHALL")
    assert c.cmd("DBSIZE") == 1
    c.close()
