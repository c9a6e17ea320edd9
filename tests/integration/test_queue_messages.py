"""Message commands: QSEND, QRECV, QDEL, QVIS, QPEEK, QREDRIVE on standard queues, with
delays, leases and retention run on short real durations.

Spec: commands.md "Message commands", "Names and values" (priorities, ids, receipts).
Time-based checks poll for the eventual state and never assert exact timings.
"""

import time

import pytest

from queue_helpers import (BADRECEIPT, NOQUEUE_FMT, bodies, err, held, integer, meta, now_ms,
                           ok, peek, qinfo, qlen, recv, recv1, send, wait_until)
from respq_testlib import Error

# ---------------------------------------------------------------------------
# QSEND
# ---------------------------------------------------------------------------


def test_qsend_replies_id_as_bulk_string(raw):
    ok(raw, "QCREATE", "q")
    reply = raw.cmd_raw("QSEND", "q", "hello")
    assert reply.startswith(b"$")
    ids = {send(raw, "q", "m%d" % i) for i in range(50)}
    assert len(ids) == 50
    assert qlen(raw, "q") == 51


def test_ids_unique_across_drop_and_flushall(raw):
    ok(raw, "QCREATE", "q")
    seen = {send(raw, "q", "a")}
    integer(raw, "QDROP", "q")
    ok(raw, "QCREATE", "q")
    seen.add(send(raw, "q", "a"))
    ok(raw, "FLUSHALL")
    ok(raw, "QCREATE", "q")
    seen.add(send(raw, "q", "a"))
    assert len(seen) == 3


def test_qsend_binary_and_empty_bodies(raw):
    ok(raw, "QCREATE", "q")
    payloads = [b"", b"\x00\r\n\xff", bytes(range(256)), b"x" * 100000]
    for p in payloads:
        send(raw, "q", p)
    msgs = recv(raw, "q", "COUNT", "10")
    assert bodies(msgs) == payloads


def test_qsend_toobig(raw):
    ok(raw, "QCREATE", "q", "MAXSIZE", "10")
    send(raw, "q", "0123456789")
    assert raw.cmd_raw("QSEND", "q", "0123456789A") == \
        b"-TOOBIG message body is 11 bytes; queue 'q' accepts at most 10\r\n"
    assert qinfo(raw, "q")["sent_total"] == 1


def test_qsend_toobig_default_maxsize(raw):
    ok(raw, "QCREATE", "{big}")
    send(raw, "{big}", b"x" * 1048576)
    assert raw.cmd_raw("QSEND", "{big}", b"x" * 1048577) == \
        b"-TOOBIG message body is 1048577 bytes; queue '{big}' accepts at most 1048576\r\n"
    assert qlen(raw, "{big}") == 1


def test_qsend_toobig_checked_before_dedup(raw):
    ok(raw, "QCREATE", "q", "MAXSIZE", "3")
    send(raw, "q", "abc", "DEDUPID", "d")
    assert raw.cmd("QSEND", "q", "abcd", "DEDUPID", "d").startswith("TOOBIG")


@pytest.mark.parametrize("p", ["2147483647", "-2147483648", "0", "-1", "5"])
def test_qsend_priority_range_ok(raw, p):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "m", "PRIORITY", p)
    m = recv1(raw, "q", "WITHMETA")
    assert meta(m)["priority"] == int(p)


@pytest.mark.parametrize("p", ["2147483648", "-2147483649", "1.5", "x", "", "1e3"])
def test_qsend_priority_range_refused(raw, p):
    ok(raw, "QCREATE", "q")
    err(raw, "QSEND", "q", "m", "PRIORITY", p, has="PRIORITY")
    assert held(qinfo(raw, "q")) == 0


def test_qsend_delay_range(raw):
    ok(raw, "QCREATE", "q")  # RETENTION 345600
    send(raw, "q", "a", "DELAY", "345599.999")
    err(raw, "QSEND", "q", "b", "DELAY", "345600", has="DELAY")
    err(raw, "QSEND", "q", "b", "DELAY", "-1", has="DELAY")
    ok(raw, "QCREATE", "forever", "RETENTION", "0")
    send(raw, "forever", "a", "DELAY", "31536000")
    err(raw, "QSEND", "forever", "b", "DELAY", "31536000.001", has="DELAY")
    assert qinfo(raw, "q")["delayed"] == 1
    assert qinfo(raw, "forever")["delayed"] == 1


@pytest.mark.parametrize("args, named", [
    (("GROUP", "g"), "GROUP"), (("BOGUS", "1"), "BOGUS"), (("PRIORITY",), "PRIORITY"),
    (("DELAY",), "DELAY"), (("DEDUPID",), "DEDUPID"), (("DEDUPID", ""), "DEDUPID"),
    (("DEDUPID", "x" * 129), "DEDUPID"), (("PRIORITY", "1", "extra"), "extra")])
def test_qsend_refused_on_standard_queue(raw, args, named):
    # Every error message says what was wrong and with which argument.
    ok(raw, "QCREATE", "q")
    err(raw, "QSEND", "q", "m", *args, has=named)
    assert held(qinfo(raw, "q")) == 0


def test_qsend_options_case_insensitive_any_order(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a", "dedupid", "d", "priority", "3", "Delay", "0")
    m = recv1(raw, "q", "withmeta")
    assert meta(m)["priority"] == 3 and meta(m)["dedupid"] == b"d"


def test_qsend_dedupid_on_standard_queue(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "QCREATE", "other")
    id1 = send(raw, "q", "a", "DEDUPID", "x" * 128)
    assert send(raw, "q", "different body", "DEDUPID", "x" * 128) == id1
    assert qlen(raw, "q") == 1
    assert qinfo(raw, "q")["sent_total"] == 1
    # Another queue has its own dedup ids.
    assert send(raw, "other", "a", "DEDUPID", "x" * 128) != id1
    # Still a duplicate after the first was received and deleted (within 5 minutes).
    m = recv1(raw, "q")
    assert integer(raw, "QDEL", "q", m[1]) == 1
    assert send(raw, "q", "a", "DEDUPID", "x" * 128) == id1
    assert held(qinfo(raw, "q")) == 0
    # Messages without DEDUPID are never duplicates.
    assert send(raw, "q", "a") != send(raw, "q", "a")


def test_qsend_full(raw):
    ok(raw, "QCREATE", "q", "MAXDEPTH", "3")
    id1 = send(raw, "q", "ready", "DEDUPID", "d1")
    send(raw, "q", "delayed", "DELAY", "60")
    send(raw, "q", "inflight")
    recv1(raw, "q")
    info = qinfo(raw, "q")
    assert held(info) == 3
    reply = raw.cmd("QSEND", "q", "one more")
    assert isinstance(reply, Error) and reply.startswith("FULL"), reply
    # A duplicate still replies the first id when the queue is full.
    assert raw.cmd("QSEND", "q", "dup", "DEDUPID", "d1") == id1
    # Room again after a delete.
    msgs = recv(raw, "q")
    assert integer(raw, "QDEL", "q", msgs[0][1]) == 1
    send(raw, "q", "fits")
    assert raw.cmd("QSEND", "q", "no").startswith("FULL")
    assert qinfo(raw, "q")["sent_total"] == 4


def test_qsend_full_after_qset_maxdepth(raw):
    ok(raw, "QCREATE", "q")
    for i in range(3):
        send(raw, "q", str(i))
    ok(raw, "QSET", "q", "MAXDEPTH", "2")
    assert raw.cmd("QSEND", "q", "x").startswith("FULL")
    assert qlen(raw, "q") == 3
    ok(raw, "QSET", "q", "MAXDEPTH", "0")
    send(raw, "q", "x")


def test_qsend_oom_and_order_of_checks(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "QCREATE", "full", "MAXDEPTH", "1", "MAXSIZE", "1")
    id1 = send(raw, "q", "a", "DEDUPID", "d")
    send(raw, "full", "a")
    ok(raw, "CONFIG", "SET", "maxmemory", "1")
    try:
        reply = raw.cmd("QSEND", "q", "b")
        assert isinstance(reply, Error) and reply.startswith("OOM"), reply
        # Dedup comes before OOM, FULL before OOM, TOOBIG (arguments) first of all.
        assert raw.cmd("QSEND", "q", "b", "DEDUPID", "d") == id1
        assert raw.cmd("QSEND", "full", "b").startswith("FULL")
        assert raw.cmd("QSEND", "full", "bb").startswith("TOOBIG")
        assert qlen(raw, "q") == 1
        # Nothing was evicted.
        assert qlen(raw, "full") == 1
    finally:
        ok(raw, "CONFIG", "SET", "maxmemory", "0")
    send(raw, "q", "b")
    assert qlen(raw, "q") == 2


# ---------------------------------------------------------------------------
# QRECV
# ---------------------------------------------------------------------------


def test_qrecv_shape(raw):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "hello")
    reply = raw.cmd("QRECV", "q")
    assert isinstance(reply, list) and len(reply) == 1
    m = reply[0]
    assert len(m) == 4
    assert m[0] == mid
    assert isinstance(m[1], bytes) and 1 <= len(m[1]) <= 64
    assert m[2] == b"hello"
    assert m[3] == 1 and isinstance(m[3], int)
    raw_reply_prefix = b"*1\r\n*4\r\n$%d\r\n%s\r\n" % (len(mid), mid)
    ok(raw, "QVIS", "q", m[1], "0")
    assert raw.cmd_raw("QRECV", "q").startswith(raw_reply_prefix)


def test_qrecv_empty(raw):
    ok(raw, "QCREATE", "q")
    assert raw.cmd_raw("QRECV", "q") == b"*0\r\n"
    assert raw.cmd_raw("QRECV", "q", "COUNT", "10") == b"*0\r\n"
    send(raw, "q", "a", "DELAY", "60")
    assert raw.cmd_raw("QRECV", "q") == b"*0\r\n"


def test_qrecv_count(raw):
    ok(raw, "QCREATE", "q")
    for i in range(5):
        send(raw, "q", "m%d" % i)
    assert bodies(recv(raw, "q", "COUNT", "3")) == [b"m0", b"m1", b"m2"]
    assert bodies(recv(raw, "q", "COUNT", "3")) == [b"m3", b"m4"]
    assert recv(raw, "q", "COUNT", "3") == []
    info = qinfo(raw, "q")
    assert info["inflight"] == 5 and info["received_total"] == 5


def test_qrecv_count_limits(raw):
    ok(raw, "QCREATE", "q")
    for i in range(1001):
        send(raw, "q", "m")
    assert len(recv(raw, "q", "COUNT", "1000")) == 1000
    assert len(recv(raw, "q", "COUNT", "1")) == 1
    for bad in ("0", "1001", "-1", "x", "1.5"):
        err(raw, "QRECV", "q", "COUNT", bad, has="COUNT")


@pytest.mark.parametrize("args, named", [
    (("VISIBILITY", "43201"), "VISIBILITY"), (("VISIBILITY", "43200.001"), "VISIBILITY"),
    (("WAIT", "43201"), "WAIT"), (("BOGUS",), "BOGUS"), (("COUNT",), "COUNT"),
    (("VISIBILITY",), "VISIBILITY"), (("WAIT",), "WAIT"), (("WITHMETA", "17"), "17")])
def test_qrecv_refused(raw, args, named):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "m")
    err(raw, "QRECV", "q", *args, has=named)
    assert qlen(raw, "q") == 1


def test_qrecv_visibility_limits_accepted(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "m")
    send(raw, "q", "n")
    recv1(raw, "q", "VISIBILITY", "43200", "WAIT", "43200")
    recv1(raw, "q", "visibility", "0.001", "wait", "0")


def test_qrecv_receipts_new_per_delivery(raw):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "a")
    receipts = set()
    for n in range(1, 4):
        m = recv1(raw, "q")
        assert m[0] == mid and m[3] == n
        receipts.add(m[1])
        ok(raw, "QVIS", "q", m[1], "0")
    assert len(receipts) == 3


def test_qrecv_visibility_zero_makes_ready_again(raw):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "a")
    m1 = recv1(raw, "q", "VISIBILITY", "0")
    wait_until(lambda: qlen(raw, "q") == 1, what="lease of 0 s to run out")
    m2 = recv1(raw, "q")
    assert m2[0] == mid and m2[3] == 2 and m2[1] != m1[1]


def test_queue_visibility_lease_runs_out(raw):
    ok(raw, "QCREATE", "q", "VISIBILITY", "0.2")
    send(raw, "q", "a")
    m1 = recv1(raw, "q")
    assert recv(raw, "q") == []
    wait_until(lambda: qlen(raw, "q") == 1, what="lease to run out")
    info = qinfo(raw, "q")
    assert info["inflight"] == 0 and info["ready"] == 1
    m2 = recv1(raw, "q", "VISIBILITY", "60")
    assert m2[3] == 2
    # m1's receipt is stale now that the message was delivered again.
    assert integer(raw, "QDEL", "q", m1[1]) == 0
    assert raw.cmd("QVIS", "q", m1[1], "0") == BADRECEIPT
    assert qinfo(raw, "q")["inflight"] == 1


def test_delivery_order_priority_then_send_order(raw):
    ok(raw, "QCREATE", "q")
    plan = [("a", 0), ("b", 5), ("c", 0), ("d", 5), ("e", -1), ("f", 2147483647),
            ("g", -2147483648), ("h", 2), ("i", 0)]
    for body, p in plan:
        send(raw, "q", body, "PRIORITY", str(p))
    expected = [b"f", b"b", b"d", b"h", b"a", b"c", b"i", b"e", b"g"]
    assert [m[1] for m in peek(raw, "q", "COUNT", "100")] == expected
    got = bodies(recv(raw, "q", "COUNT", "4")) + bodies(recv(raw, "q", "COUNT", "100"))
    assert got == expected


def test_redelivered_message_keeps_its_place_in_send_order(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "first")
    send(raw, "q", "second")
    m = recv1(raw, "q")
    assert m[2] == b"first"
    ok(raw, "QVIS", "q", m[1], "0")
    assert bodies(recv(raw, "q", "COUNT", "2")) == [b"first", b"second"]


def test_delayed_message_keeps_its_place_in_send_order(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "first", "DELAY", "0.2")
    send(raw, "q", "second")
    wait_until(lambda: qlen(raw, "q") == 2, what="delay to end")
    assert bodies(recv(raw, "q", "COUNT", "2")) == [b"first", b"second"]


def test_withmeta_standard(raw):
    ok(raw, "QCREATE", "q")
    before = now_ms()
    send(raw, "q", "a", "PRIORITY", "-5", "DEDUPID", "dd")
    send(raw, "q", "b")
    msgs = recv(raw, "q", "COUNT", "2", "WITHMETA")
    after = now_ms()
    a = meta(msgs[1]) if msgs[0][2] == b"b" else meta(msgs[0])
    b = meta(msgs[0]) if msgs[0][2] == b"b" else meta(msgs[1])
    assert before - 1000 <= a["sent_ms"] <= after + 1000
    assert a["sent_ms"] <= a["first_received_ms"] <= after + 1000
    assert a["priority"] == -5 and a["group"] is None and a["dedupid"] == b"dd"
    assert a["dlq_source"] is None
    assert b["priority"] == 0 and b["group"] is None and b["dedupid"] is None
    assert b["dlq_source"] is None


def test_withmeta_first_received_kept_on_redelivery(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    m1 = recv1(raw, "q", "WITHMETA")
    time.sleep(0.05)
    ok(raw, "QVIS", "q", m1[1], "0")
    m2 = recv1(raw, "q", "WITHMETA")
    assert m2[3] == 2
    assert meta(m2)["first_received_ms"] == meta(m1)["first_received_ms"]
    assert meta(m2)["sent_ms"] == meta(m1)["sent_ms"]


def test_withmeta_resp2_flat_array(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    m = recv1(raw, "q", "WITHMETA")
    assert isinstance(m[4], list) and len(m[4]) == 12
    assert m[4][0::2] == [b"sent_ms", b"first_received_ms", b"priority", b"group", b"dedupid",
                          b"dlq_source"]
    assert m[4][7] is None and m[4][9] is None and m[4][11] is None


# ---------------------------------------------------------------------------
# QDEL
# ---------------------------------------------------------------------------


def test_qdel(raw):
    ok(raw, "QCREATE", "q")
    for i in range(4):
        send(raw, "q", str(i))
    msgs = recv(raw, "q", "COUNT", "4")
    assert raw.cmd_raw("QDEL", "q", msgs[0][1]) == b":1\r\n"
    assert raw.cmd_raw("QDEL", "q", msgs[0][1]) == b":0\r\n"
    assert raw.cmd_raw("QDEL", "q", msgs[1][1], "unknown-receipt", msgs[0][1], msgs[2][1]) == b":2\r\n"
    assert raw.cmd_raw("QDEL", "q", msgs[3][1], msgs[3][1]) == b":1\r\n"
    assert raw.cmd_raw("QDEL", "q", "x" * 64) == b":0\r\n"
    assert raw.cmd_raw("QDEL", "q", "") == b":0\r\n"
    info = qinfo(raw, "q")
    assert held(info) == 0 and info["deleted_total"] == 4


def test_qdel_stale_receipt_not_counted(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    m1 = recv1(raw, "q")
    ok(raw, "QVIS", "q", m1[1], "0")
    m2 = recv1(raw, "q")
    assert integer(raw, "QDEL", "q", m1[1]) == 0
    assert qinfo(raw, "q")["inflight"] == 1
    assert integer(raw, "QDEL", "q", m2[1]) == 1


def test_qdel_receipt_still_valid_after_lease_ran_out(raw):
    # Valid until the message is delivered again: a lease that ran out does not stale it.
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    m = recv1(raw, "q", "VISIBILITY", "0.1")
    wait_until(lambda: qlen(raw, "q") == 1, what="lease to run out")
    assert integer(raw, "QDEL", "q", m[1]) == 1
    assert held(qinfo(raw, "q")) == 0


def test_qdel_receipt_of_another_queue(raw):
    ok(raw, "QCREATE", "a")
    ok(raw, "QCREATE", "b")
    send(raw, "a", "x")
    send(raw, "b", "y")
    m = recv1(raw, "a")
    assert integer(raw, "QDEL", "b", m[1]) == 0
    assert qinfo(raw, "a")["inflight"] == 1
    assert integer(raw, "QDEL", "a", m[1]) == 1


# ---------------------------------------------------------------------------
# QVIS
# ---------------------------------------------------------------------------


def test_qvis_ok_and_badreceipt(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    m = recv1(raw, "q")
    assert raw.cmd_raw("QVIS", "q", m[1], "60") == b"+OK\r\n"
    assert raw.cmd_raw("QVIS", "q", "nonsense", "60") == b"-BADRECEIPT receipt is stale or unknown\r\n"
    assert raw.cmd_raw("QVIS", "q", m[1], "43200") == b"+OK\r\n"
    err(raw, "QVIS", "q", m[1], "43201")
    err(raw, "QVIS", "q", m[1], "-1")
    err(raw, "QVIS", "q", m[1], "x")
    assert integer(raw, "QDEL", "q", m[1]) == 1
    assert raw.cmd_raw("QVIS", "q", m[1], "0") == b"-BADRECEIPT receipt is stale or unknown\r\n"


def test_qvis_zero_makes_ready_at_once(raw):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "a")
    m = recv1(raw, "q")
    assert qlen(raw, "q") == 0
    ok(raw, "QVIS", "q", m[1], "0")
    assert qlen(raw, "q") == 1
    assert [x[:3] for x in peek(raw, "q")] == [[mid, b"a", 1]]
    m2 = recv1(raw, "q")
    assert m2[0] == mid and m2[3] == 2


def test_qvis_extends_and_shortens_lease(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    send(raw, "q", "b")
    ma = recv1(raw, "q", "VISIBILITY", "0.2")
    mb = recv1(raw, "q", "VISIBILITY", "60")
    ok(raw, "QVIS", "q", ma[1], "60")
    ok(raw, "QVIS", "q", mb[1], "0.1")
    wait_until(lambda: qlen(raw, "q") == 1, what="shortened lease to run out")
    time.sleep(0.2)
    assert [m[1] for m in peek(raw, "q", "COUNT", "10")] == [b"b"]
    assert qinfo(raw, "q")["inflight"] == 1


def test_qvis_releases_after_lease_ran_out_without_new_delivery(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    m = recv1(raw, "q", "VISIBILITY", "0.1")
    wait_until(lambda: qlen(raw, "q") == 1, what="lease to run out")
    ok(raw, "QVIS", "q", m[1], "60")  # leased again by the old, still valid receipt
    info = qinfo(raw, "q")
    assert (info["ready"], info["inflight"]) == (0, 1)
    assert info["received_total"] == 1
    ok(raw, "QVIS", "q", m[1], "0")
    m2 = recv1(raw, "q")
    assert m2[3] == 2  # the QVIS was not a delivery
    assert raw.cmd("QVIS", "q", m[1], "60") == BADRECEIPT


def test_qvis_noqueue(raw):
    assert raw.cmd("QVIS", "nope", "r", "1") == NOQUEUE_FMT % "nope"


# ---------------------------------------------------------------------------
# QPEEK
# ---------------------------------------------------------------------------


def test_qpeek(raw):
    ok(raw, "QCREATE", "q")
    assert raw.cmd_raw("QPEEK", "q") == b"*0\r\n"
    ida = send(raw, "q", "a")
    idb = send(raw, "q", "b", "PRIORITY", "1")
    send(raw, "q", "c", "DELAY", "60")
    reply = raw.cmd_raw("QPEEK", "q")
    assert reply == b"*1\r\n*3\r\n$%d\r\n%s\r\n$1\r\nb\r\n:0\r\n" % (len(idb), idb)
    assert peek(raw, "q", "COUNT", "10") == [[idb, b"b", 0], [ida, b"a", 0]]
    # No lease, no delivery counted.
    info = qinfo(raw, "q")
    assert (info["ready"], info["inflight"], info["received_total"]) == (2, 0, 0)
    m = recv1(raw, "q")
    assert m[0] == idb and m[3] == 1
    ok(raw, "QVIS", "q", m[1], "0")
    assert peek(raw, "q", "COUNT", "1") == [[idb, b"b", 1]]


def test_qpeek_count(raw):
    ok(raw, "QCREATE", "q")
    for i in range(1001):
        send(raw, "q", "m")
    assert len(peek(raw, "q", "COUNT", "1000")) == 1000
    assert len(peek(raw, "q", "count", "3")) == 3
    for bad in ("0", "1001", "x", "-1"):
        err(raw, "QPEEK", "q", "COUNT", bad, has="COUNT")
    err(raw, "QPEEK", "q", "BOGUS", "1")
    assert qlen(raw, "q") == 1001


# ---------------------------------------------------------------------------
# Delay
# ---------------------------------------------------------------------------


def test_qsend_delay(raw):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "later", "DELAY", "0.3")
    send(raw, "q", "now")
    info = qinfo(raw, "q")
    assert (info["ready"], info["delayed"]) == (1, 1)
    assert bodies(recv(raw, "q", "COUNT", "10")) == [b"now"]
    assert peek(raw, "q") == []
    wait_until(lambda: qlen(raw, "q") == 1, what="delay to end")
    assert qinfo(raw, "q")["delayed"] == 0
    m = recv1(raw, "q")
    assert m[0] == mid and m[3] == 1


def test_queue_delay_and_override(raw):
    ok(raw, "QCREATE", "q", "DELAY", "0.3")
    send(raw, "q", "queue-delay")
    send(raw, "q", "no-delay", "DELAY", "0")
    assert bodies(recv(raw, "q", "COUNT", "10")) == [b"no-delay"]
    assert qinfo(raw, "q")["delayed"] == 1
    wait_until(lambda: qlen(raw, "q") == 1, what="queue delay to end")
    assert bodies(recv(raw, "q")) == [b"queue-delay"]


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


def test_retention_removes_messages_in_every_state(raw):
    ok(raw, "QCREATE", "q", "RETENTION", "1")
    send(raw, "q", "inflight")
    send(raw, "q", "ready")
    send(raw, "q", "delayed", "DELAY", "0.5")
    m = recv1(raw, "q", "VISIBILITY", "60")
    assert held(qinfo(raw, "q")) == 3
    wait_until(lambda: held(qinfo(raw, "q")) == 0, timeout=6, what="messages to expire")
    info = qinfo(raw, "q")
    assert info["expired_total"] == 3 and info["sent_total"] == 3 and info["oldest_age_ms"] == 0
    assert info["deleted_total"] == 0
    assert integer(raw, "QDEL", "q", m[1]) == 0
    assert raw.cmd("QVIS", "q", m[1], "0") == BADRECEIPT


def test_retention_zero_keeps_forever_and_qset_retention(raw):
    ok(raw, "QCREATE", "q", "RETENTION", "0")
    send(raw, "q", "a")
    ok(raw, "QSET", "q", "RETENTION", "1")
    send(raw, "q", "b")
    # What happens to "a" (sent under RETENTION 0) is not asserted; "b" must go.
    wait_until(lambda: b"b" not in [m[1] for m in peek(raw, "q", "COUNT", "10")], timeout=6,
               what="b to expire")
    assert qinfo(raw, "q")["expired_total"] >= 1


# ---------------------------------------------------------------------------
# QREDRIVE (dead-lettering itself is in test_queue_dlq_fifo.py)
# ---------------------------------------------------------------------------


def test_qredrive_nothing_to_move(raw):
    ok(raw, "QCREATE", "q")
    assert raw.cmd_raw("QREDRIVE", "q") == b":0\r\n"
    send(raw, "q", "not dead-lettered")
    assert raw.cmd_raw("QREDRIVE", "q") == b":0\r\n"
    assert raw.cmd_raw("QREDRIVE", "q", "COUNT", "5") == b":0\r\n"
    assert qlen(raw, "q") == 1


def test_qredrive_count_range(raw):
    ok(raw, "QCREATE", "q")
    assert integer(raw, "QREDRIVE", "q", "COUNT", "1") == 0
    assert integer(raw, "QREDRIVE", "q", "COUNT", "2147483647") == 0
    for bad in ("0", "2147483648", "-1", "x"):
        err(raw, "QREDRIVE", "q", "COUNT", bad, has="COUNT")
    err(raw, "QREDRIVE", "q", "BOGUS", "1")
