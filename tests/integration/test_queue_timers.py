"""Many timers at once, and long durations that must not fire early: delays, leases
and retention over the socket, checked by their eventual state and by order.

Spec: commands.md QSEND (DELAY), QRECV (VISIBILITY, delivery order: priority, then
send order), QCREATE (RETENTION), durations with millisecond resolution.
"""

import random
import time

from queue_helpers import (bodies, held, integer, ok, peek, qinfo, qlen, recv, send,
                           wait_until)
from respq_testlib import encode_command


def _pipeline(raw, cmds):
    raw.send(b"".join(encode_command(*c) for c in cmds))
    return [raw.read_reply() for _ in cmds]


def test_many_delays_all_arrive_in_send_order(raw):
    ok(raw, "QCREATE", "q")
    rnd = random.Random(7)
    cmds = [("QSEND", "q", "m%03d" % i, "DELAY", "%.3f" % rnd.uniform(0.001, 0.4))
            for i in range(300)]
    ids = _pipeline(raw, cmds)
    assert all(isinstance(i, bytes) for i in ids)
    wait_until(lambda: qlen(raw, "q") == 300, what="all 300 delays to end")
    assert qinfo(raw, "q")["delayed"] == 0
    got = recv(raw, "q", "COUNT", "1000")
    assert [m[0] for m in got] == ids
    assert bodies(got) == [("m%03d" % i).encode() for i in range(300)]


def test_many_leases_all_run_out(raw):
    ok(raw, "QCREATE", "q")
    _pipeline(raw, [("QSEND", "q", "m%03d" % i) for i in range(300)])
    got = recv(raw, "q", "COUNT", "1000", "VISIBILITY", "60")
    assert len(got) == 300
    rnd = random.Random(11)
    replies = _pipeline(raw, [("QVIS", "q", m[1], "%.3f" % rnd.uniform(0.001, 0.4)) for m in got])
    assert all(r == "OK" for r in replies)
    wait_until(lambda: qlen(raw, "q") == 300, what="all 300 leases to run out")
    got = recv(raw, "q", "COUNT", "1000")
    assert len(got) == 300 and all(m[3] == 2 for m in got)
    assert bodies(got) == [("m%03d" % i).encode() for i in range(300)]
    info = qinfo(raw, "q")
    assert info["received_total"] == 600 and info["inflight"] == 300


def test_delayed_high_priority_overtakes_once_ready(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "low")
    send(raw, "q", "high", "PRIORITY", "9", "DELAY", "0.2")
    assert [p[1] for p in peek(raw, "q", "COUNT", "5")] == [b"low"]
    wait_until(lambda: qlen(raw, "q") == 2, what="delay to end")
    assert [p[1] for p in peek(raw, "q", "COUNT", "5")] == [b"high", b"low"]


def test_long_durations_do_not_fire_early(raw):
    ok(raw, "QCREATE", "q", "RETENTION", "31536000")
    ok(raw, "QCREATE", "forever", "RETENTION", "0")
    for d in ("1", "59.999", "60", "3600", "43200", "86400.5", "1000000", "31535999.999"):
        send(raw, "q", "d" + d, "DELAY", d)
    send(raw, "forever", "x", "DELAY", "31536000")
    for v in ("1", "60", "3600", "43200"):
        send(raw, "q", "v" + v)
    for v in ("1", "60", "3600", "43200"):
        assert len(recv(raw, "q", "VISIBILITY", v)) == 1
    ok(raw, "QCREATE", "r1", "RETENTION", "2")
    send(raw, "r1", "kept-a-while")
    time.sleep(0.5)
    info = qinfo(raw, "q")
    assert (info["delayed"], info["inflight"], info["ready"]) == (8, 4, 0)
    assert qinfo(raw, "forever")["delayed"] == 1
    assert qlen(raw, "r1") == 1
    assert info["expired_total"] == 0


def test_millisecond_resolution_is_kept(raw):
    ok(raw, "QCREATE", "q", "VISIBILITY", "0.001", "DELAY", "0.002", "WAIT", "0.003",
       "RETENTION", "1.004")
    info = qinfo(raw, "q")
    assert (info["visibility_ms"], info["delay_ms"], info["wait_ms"], info["retention_ms"]) == \
        (1, 2, 3, 1004)


def test_retention_and_lease_race_ends_with_nothing_held(raw):
    ok(raw, "QCREATE", "q", "RETENTION", "1", "VISIBILITY", "0.05")
    _pipeline(raw, [("QSEND", "q", "m%d" % i) for i in range(100)])
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and held(qinfo(raw, "q")):
        recv(raw, "q", "COUNT", "10")
        time.sleep(0.01)
    info = qinfo(raw, "q")
    assert held(info) == 0
    assert info["expired_total"] == 100
    assert integer(raw, "QPURGE", "q") == 0
