"""Dead-letter queues (MAXRECEIVES, QREDRIVE) and FIFO queues (groups, dedup), end to
end over the socket.

Spec: commands.md QCREATE (DLQ name MAXRECEIVES n, FIFO, CONTENTDEDUP), QSEND (GROUP,
DEDUPID), QRECV (delivery order, dead-lettering), QREDRIVE, QLEN/QINFO `blocked`.
"""

import time


from queue_helpers import (BADRECEIPT, bodies, err, held, integer, meta, now_ms, ok, peek,
                           qinfo, qlen, recv, recv1, send, wait_until)

# ---------------------------------------------------------------------------
# Dead-letter queues
# ---------------------------------------------------------------------------


def test_dlq_end_to_end(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "2")
    mid = send(raw, "src", "payload", "PRIORITY", "3", "DEDUPID", "dd")
    m1 = recv1(raw, "src", "WITHMETA")
    assert m1[3] == 1
    ok(raw, "QVIS", "src", m1[1], "0")  # receives 1 < 2: ready again
    assert qlen(raw, "src") == 1
    m2 = recv1(raw, "src", "WITHMETA")
    assert m2[0] == mid and m2[3] == 2
    ok(raw, "QVIS", "src", m2[1], "0")  # delivered twice: to the DLQ at once
    src = qinfo(raw, "src")
    assert held(src) == 0 and src["deadlettered_total"] == 1 and src["deleted_total"] == 0
    d = qinfo(raw, "dlq")
    assert d["ready"] == 1 and held(d) == 1
    assert d["sent_total"] == 0
    # The old receipt is stale.
    assert integer(raw, "QDEL", "src", m2[1]) == 0
    assert raw.cmd("QVIS", "src", m2[1], "0") == BADRECEIPT
    assert peek(raw, "dlq") == [[mid, b"payload", 2]]
    m3 = recv1(raw, "dlq", "WITHMETA")
    assert m3[0] == mid and m3[2] == b"payload" and m3[3] == 3
    md = meta(m3)
    assert md["sent_ms"] == meta(m1)["sent_ms"]
    assert md["first_received_ms"] == meta(m1)["first_received_ms"]
    assert md["priority"] == 3 and md["dedupid"] == b"dd" and md["group"] is None
    assert md["dlq_source"] == b"src"
    assert meta(m1)["dlq_source"] is None
    assert integer(raw, "QDEL", "dlq", m3[1]) == 1
    assert qinfo(raw, "dlq")["deleted_total"] == 1


def test_dlq_after_lease_runs_out(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1", "VISIBILITY", "0.1")
    mid = send(raw, "src", "a")
    recv1(raw, "src")
    wait_until(lambda: qlen(raw, "dlq") == 1, what="message to be dead-lettered")
    assert held(qinfo(raw, "src")) == 0
    assert qinfo(raw, "src")["deadlettered_total"] == 1
    assert peek(raw, "dlq") == [[mid, b"a", 1]]


def test_dlq_maxreceives_counts_deliveries(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "3")
    send(raw, "src", "a")
    for n in (1, 2, 3):
        m = recv1(raw, "src")
        assert m[3] == n
        assert qlen(raw, "dlq") == 0
        ok(raw, "QVIS", "src", m[1], "0")
    assert qlen(raw, "src") == 0 and qlen(raw, "dlq") == 1
    assert recv(raw, "src") == []


def test_dlq_deleted_message_is_not_dead_lettered(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    send(raw, "src", "a")
    m = recv1(raw, "src", "VISIBILITY", "0.1")
    assert integer(raw, "QDEL", "src", m[1]) == 1
    time.sleep(0.2)
    assert held(qinfo(raw, "dlq")) == 0
    assert qinfo(raw, "src")["deadlettered_total"] == 0


def test_dlq_when_qset_lowers_maxreceives(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "5")
    mid = send(raw, "src", "a")
    for _ in range(2):
        ok(raw, "QVIS", "src", recv1(raw, "src")[1], "0")
    send(raw, "src", "b")
    ok(raw, "QSET", "src", "DLQ", "dlq", "MAXRECEIVES", "2")
    # A QRECV meets "a" (delivered twice already): it moves, and "b" is delivered.
    assert bodies(recv(raw, "src", "COUNT", "10")) == [b"b"]
    assert peek(raw, "dlq") == [[mid, b"a", 2]]
    assert qinfo(raw, "src")["deadlettered_total"] == 1


def test_dlq_limits_and_dedup_do_not_apply(raw):
    ok(raw, "QCREATE", "dlq", "MAXSIZE", "1", "MAXDEPTH", "2")
    send(raw, "dlq", "x", "DEDUPID", "d")
    ok(raw, "QSET", "dlq", "MAXDEPTH", "1")
    assert raw.cmd("QSEND", "dlq", "y").startswith("FULL")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    mid = send(raw, "src", "a body longer than one byte", "DEDUPID", "d")
    m = recv1(raw, "src")
    ok(raw, "QVIS", "src", m[1], "0")
    d = qinfo(raw, "dlq")
    assert held(d) == 2 and d["sent_total"] == 1
    assert [p[0] for p in peek(raw, "dlq", "COUNT", "10")][1] == mid


def test_dlq_message_goes_behind_waiting_ones(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    old = send(raw, "src", "old")  # sent before "direct"
    direct = send(raw, "dlq", "direct")
    ok(raw, "QVIS", "src", recv1(raw, "src")[1], "0")
    assert [p[0] for p in peek(raw, "dlq", "COUNT", "10")] == [direct, old]


def test_dlq_retention_counts_from_original_send(raw):
    ok(raw, "QCREATE", "dlq", "RETENTION", "1")
    ok(raw, "QCREATE", "src", "RETENTION", "0", "DLQ", "dlq", "MAXRECEIVES", "1")
    send(raw, "src", "a")
    m = recv1(raw, "src", "VISIBILITY", "60")
    time.sleep(1.1)
    ok(raw, "QVIS", "src", m[1], "0")
    assert qinfo(raw, "src")["deadlettered_total"] == 1
    wait_until(lambda: qinfo(raw, "dlq")["expired_total"] == 1, timeout=3,
               what="the dead-lettered message to expire in the DLQ")
    assert held(qinfo(raw, "dlq")) == 0


def test_dlq_fifo(raw):
    ok(raw, "QCREATE", "fdlq", "FIFO")
    ok(raw, "QCREATE", "f", "FIFO", "DLQ", "fdlq", "MAXRECEIVES", "1")
    a1 = send(raw, "f", "a1", "GROUP", "g", "DEDUPID", "1")
    send(raw, "f", "a2", "GROUP", "g", "DEDUPID", "2")
    m = recv1(raw, "f")
    assert m[0] == a1
    assert recv(raw, "f") == []
    ok(raw, "QVIS", "f", m[1], "0")
    # a1 went to the DLQ, which frees its group.
    assert bodies(recv(raw, "f")) == [b"a2"]
    d = recv1(raw, "fdlq", "WITHMETA")
    assert d[0] == a1 and d[3] == 2
    md = meta(d)
    assert md["group"] == b"g" and md["dedupid"] == b"1" and md["dlq_source"] == b"f"


# ---------------------------------------------------------------------------
# QREDRIVE
# ---------------------------------------------------------------------------


def _dead_letter_all(raw, src, n):
    for _ in range(n):
        ok(raw, "QVIS", src, recv1(raw, src)[1], "0")


def test_qredrive_round_trip(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    ida = send(raw, "src", "a", "DEDUPID", "x")
    idb = send(raw, "src", "b", "PRIORITY", "7")
    _dead_letter_all(raw, "src", 2)
    assert qlen(raw, "dlq") == 2 and held(qinfo(raw, "src")) == 0
    idc = send(raw, "src", "c", "PRIORITY", "7")
    before = now_ms()
    assert raw.cmd_raw("QREDRIVE", "dlq", "COUNT", "1") == b":1\r\n"
    assert raw.cmd_raw("QREDRIVE", "dlq") == b":1\r\n"
    assert raw.cmd_raw("QREDRIVE", "dlq") == b":0\r\n"
    assert held(qinfo(raw, "dlq")) == 0
    # Same ids, receives back to 0; b (priority 7) goes behind c (priority 7, waiting).
    assert peek(raw, "src", "COUNT", "10") == [[idc, b"c", 0], [idb, b"b", 0], [ida, b"a", 0]]
    msgs = recv(raw, "src", "COUNT", "10", "WITHMETA")
    assert [m[0] for m in msgs] == [idc, idb, ida]
    assert [m[3] for m in msgs] == [1, 1, 1]
    mb, ma = meta(msgs[1]), meta(msgs[2])
    assert mb["priority"] == 7 and mb["dlq_source"] is None
    assert ma["dedupid"] == b"x" and ma["dlq_source"] is None
    assert ma["sent_ms"] >= before - 1000  # sent_ms set to the redrive time


def test_qredrive_count(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    for i in range(5):
        send(raw, "src", str(i))
    _dead_letter_all(raw, "src", 5)
    assert integer(raw, "QREDRIVE", "dlq", "COUNT", "2") == 2
    assert integer(raw, "QREDRIVE", "dlq", "count", "2147483647") == 3
    # Which two the first call moves is not specified; all five are back.
    assert sorted(p[1] for p in peek(raw, "src", "COUNT", "10")) == [b"0", b"1", b"2", b"3", b"4"]
    assert held(qinfo(raw, "dlq")) == 0


def test_qredrive_moves_only_ready_dead_lettered_messages(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    send(raw, "dlq", "direct")
    send(raw, "src", "a")
    _dead_letter_all(raw, "src", 1)
    msgs = recv(raw, "dlq", "COUNT", "2")  # both in flight now
    assert integer(raw, "QREDRIVE", "dlq") == 0
    for m in msgs:
        ok(raw, "QVIS", "dlq", m[1], "0")
    assert integer(raw, "QREDRIVE", "dlq") == 1
    assert [p[1] for p in peek(raw, "dlq", "COUNT", "10")] == [b"direct"]
    assert [p[1] for p in peek(raw, "src", "COUNT", "10")] == [b"a"]


def test_qredrive_several_sources_and_a_dropped_one(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "s1", "DLQ", "dlq", "MAXRECEIVES", "1")
    ok(raw, "QCREATE", "s2", "DLQ", "dlq", "MAXRECEIVES", "1")
    ok(raw, "QCREATE", "s3", "DLQ", "dlq", "MAXRECEIVES", "1")
    for s in ("s1", "s2", "s3"):
        send(raw, s, "from-" + s)
        _dead_letter_all(raw, s, 1)
    assert qlen(raw, "dlq") == 3
    assert integer(raw, "QDROP", "s2") == 1
    assert integer(raw, "QREDRIVE", "dlq") == 2
    assert [p[1] for p in peek(raw, "dlq", "COUNT", "10")] == [b"from-s2"]
    assert [p[1] for p in peek(raw, "s1")] == [b"from-s1"]
    assert [p[1] for p in peek(raw, "s3")] == [b"from-s3"]
    assert integer(raw, "QREDRIVE", "dlq") == 0
    assert qlen(raw, "dlq") == 1


def test_qredrive_to_a_source_that_has_nodlq_now(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    send(raw, "src", "a")
    _dead_letter_all(raw, "src", 1)
    ok(raw, "QSET", "src", "NODLQ")
    assert integer(raw, "QREDRIVE", "dlq") == 1
    assert qlen(raw, "src") == 1


def test_qredrive_ignores_source_limits(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1", "MAXDEPTH", "1")
    send(raw, "src", "long body")
    _dead_letter_all(raw, "src", 1)
    send(raw, "src", "b")
    ok(raw, "QSET", "src", "MAXSIZE", "1")
    assert raw.cmd("QSEND", "src", "c").startswith("FULL")
    assert integer(raw, "QREDRIVE", "dlq") == 1
    assert held(qinfo(raw, "src")) == 2


def test_deadletter_counters_in_info(raw):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    send(raw, "src", "a")
    send(raw, "src", "b")
    _dead_letter_all(raw, "src", 2)
    text = raw.cmd("INFO", "queues").decode()
    assert "respq_deadlettered_total:2\r\n" in text
    assert qinfo(raw, "dlq")["deadlettered_total"] == 0


# ---------------------------------------------------------------------------
# FIFO queues
# ---------------------------------------------------------------------------


def test_fifo_send_rules(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    err(raw, "QSEND", "f", "m", has="GROUP")                     # no GROUP
    err(raw, "QSEND", "f", "m", "DEDUPID", "1", has="GROUP")     # no GROUP
    err(raw, "QSEND", "f", "m", "GROUP", "g", has="DEDUPID")     # no DEDUPID, no CONTENTDEDUP
    err(raw, "QSEND", "f", "m", "GROUP", "g", "DEDUPID", "1", "PRIORITY", "1", has="PRIORITY")
    err(raw, "QSEND", "f", "m", "GROUP", "g", "DEDUPID", "1", "DELAY", "1", has="DELAY")
    err(raw, "QSEND", "f", "m", "GROUP", "", "DEDUPID", "1", has="GROUP")
    err(raw, "QSEND", "f", "m", "GROUP", "g" * 129, "DEDUPID", "1", has="GROUP")
    err(raw, "QSEND", "f", "m", "GROUP", "g", "DEDUPID", "", has="DEDUPID")
    err(raw, "QSEND", "f", "m", "GROUP", "g", "DEDUPID", "d" * 129, has="DEDUPID")
    assert held(qinfo(raw, "f")) == 0
    send(raw, "f", "m", "GROUP", "g" * 128, "DEDUPID", "d" * 128)
    send(raw, "f", "m", "dedupid", "2", "group", "\x00\xff any bytes")
    m = recv1(raw, "f", "WITHMETA")
    assert meta(m)["group"] == b"g" * 128 and meta(m)["dedupid"] == b"d" * 128
    assert meta(m)["priority"] == 0


def test_fifo_contentdedup(raw):
    ok(raw, "QCREATE", "f", "FIFO", "CONTENTDEDUP")
    id1 = send(raw, "f", "same", "GROUP", "g")
    assert send(raw, "f", "same", "GROUP", "g") == id1
    assert send(raw, "f", "same", "GROUP", "other-group") == id1
    id2 = send(raw, "f", "different", "GROUP", "g")
    assert id2 != id1
    id3 = send(raw, "f", "same", "GROUP", "g", "DEDUPID", "explicit")
    assert id3 not in (id1, id2)
    assert send(raw, "f", "whatever", "GROUP", "g", "DEDUPID", "explicit") == id3
    info = qinfo(raw, "f")
    assert info["sent_total"] == 3 and held(info) == 3
    m = recv1(raw, "f", "WITHMETA")
    assert m[0] == id1 and meta(m)["dedupid"] is not None


def test_fifo_dedup_is_per_queue_not_per_group(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    ok(raw, "QCREATE", "f2", "FIFO")
    id1 = send(raw, "f", "a", "GROUP", "g1", "DEDUPID", "d")
    assert send(raw, "f", "b", "GROUP", "g2", "DEDUPID", "d") == id1
    assert send(raw, "f2", "a", "GROUP", "g1", "DEDUPID", "d") != id1
    assert held(qinfo(raw, "f")) == 1


def test_fifo_queue_level_delay(raw):
    ok(raw, "QCREATE", "f", "FIFO", "DELAY", "0.2")
    send(raw, "f", "a", "GROUP", "g", "DEDUPID", "1")
    info = qinfo(raw, "f")
    assert (info["delayed"], info["ready"]) == (1, 0)
    wait_until(lambda: qlen(raw, "f") == 1, what="delay to end")
    assert bodies(recv(raw, "f")) == [b"a"]


def test_fifo_group_order_one_at_a_time(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    for i, (body, g) in enumerate([("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("b2", "b")]):
        send(raw, "f", body, "GROUP", g, "DEDUPID", str(i))
    assert qlen(raw, "f") == 5
    ra1 = recv1(raw, "f")
    assert ra1[2] == b"a1"
    info = qinfo(raw, "f")
    assert (info["ready"], info["inflight"], info["blocked"]) == (2, 1, 2)
    assert qlen(raw, "f") == 2
    rb1 = recv1(raw, "f")
    assert rb1[2] == b"b1"
    info = qinfo(raw, "f")
    assert (info["ready"], info["inflight"], info["blocked"], info["delayed"]) == (0, 2, 3, 0)
    assert held(info) == 5
    assert recv(raw, "f", "COUNT", "10") == []
    assert peek(raw, "f", "COUNT", "10") == []
    assert integer(raw, "QDEL", "f", ra1[1]) == 1
    # a2 and a3 can be received now (nothing of group a is in flight); b2 still waits.
    assert qlen(raw, "f") == 2
    assert [p[1] for p in peek(raw, "f", "COUNT", "10")] == [b"a2", b"a3"]
    info = qinfo(raw, "f")
    assert (info["ready"], info["inflight"], info["blocked"]) == (2, 1, 1)
    got = recv(raw, "f", "COUNT", "10")
    assert bodies(got)[0] == b"a2" and set(bodies(got)) <= {b"a2", b"a3"}
    assert bodies(got) in ([b"a2"], [b"a2", b"a3"])
    integer(raw, "QDEL", "f", *[m[1] for m in got])
    if len(got) == 1:
        got = recv(raw, "f", "COUNT", "10")
        assert bodies(got) == [b"a3"]
        integer(raw, "QDEL", "f", got[0][1])
    assert recv(raw, "f") == []
    assert integer(raw, "QDEL", "f", rb1[1]) == 1
    assert bodies(recv(raw, "f", "COUNT", "10")) == [b"b2"]


def test_fifo_interleaved_groups(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    for i, (body, g) in enumerate([("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b")]):
        send(raw, "f", body, "GROUP", g, "DEDUPID", str(i))
    a1 = recv1(raw, "f")
    b1 = recv1(raw, "f")
    assert (a1[2], b1[2]) == (b"a1", b"b1")
    assert recv(raw, "f") == []
    integer(raw, "QDEL", "f", b1[1])
    assert bodies(recv(raw, "f", "COUNT", "10")) == [b"b2"]
    integer(raw, "QDEL", "f", a1[1])
    assert bodies(recv(raw, "f", "COUNT", "10")) == [b"a2"]


def test_fifo_many_in_one_reply_keep_group_order(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    plan = [("a1", "a"), ("b1", "b"), ("a2", "a"), ("c1", "c"), ("b2", "b"), ("a3", "a")]
    for i, (body, g) in enumerate(plan):
        send(raw, "f", body, "GROUP", g, "DEDUPID", str(i))
    seen = []
    for _ in range(10):
        got = recv(raw, "f", "COUNT", "10")
        if not got:
            assert len(seen) == 6
            break
        seen += bodies(got)
        assert got[0][2] in (b"a1", b"b1", b"c1", b"a2", b"b2", b"a3")
        integer(raw, "QDEL", "f", *[m[1] for m in got])
    assert sorted(seen) == sorted(b.encode() for b, _ in plan)
    for g in "abc":
        mine = [b for b in seen if b.startswith(g.encode())]
        assert mine == sorted(mine), seen
    assert seen[0] == b"a1"


def test_fifo_lease_end_frees_group_and_first_comes_again(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "f", "a1", "GROUP", "g", "DEDUPID", "1")
    send(raw, "f", "a2", "GROUP", "g", "DEDUPID", "2")
    m = recv1(raw, "f", "VISIBILITY", "0.2")
    assert m[2] == b"a1"
    assert recv(raw, "f") == []
    wait_until(lambda: qlen(raw, "f") >= 1, what="lease to run out")
    m2 = recv1(raw, "f")
    assert m2[2] == b"a1" and m2[3] == 2


def test_fifo_qvis_zero_first_comes_again(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "f", "a1", "GROUP", "g", "DEDUPID", "1")
    send(raw, "f", "a2", "GROUP", "g", "DEDUPID", "2")
    m = recv1(raw, "f")
    ok(raw, "QVIS", "f", m[1], "0")
    assert [p[1] for p in peek(raw, "f")] == [b"a1"]
    got = recv(raw, "f", "COUNT", "10")
    assert bodies(got)[0] == b"a1" and got[0][3] == 2


def test_fifo_qpurge_counts_blocked(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "f", "a1", "GROUP", "g", "DEDUPID", "1")
    send(raw, "f", "a2", "GROUP", "g", "DEDUPID", "2")
    recv1(raw, "f")
    assert qinfo(raw, "f")["blocked"] == 1
    assert integer(raw, "QPURGE", "f") == 2
    assert held(qinfo(raw, "f")) == 0


def test_standard_queue_blocked_always_zero(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a", "DEDUPID", "1")
    send(raw, "q", "b")
    recv1(raw, "q")
    assert qinfo(raw, "q")["blocked"] == 0
