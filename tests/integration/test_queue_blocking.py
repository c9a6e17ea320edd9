"""Long polling: QRECV ... WAIT, over several real connections.

Spec: commands.md QRECV (WAIT: blocked receivers served in arrival order as soon as a
message becomes receivable for any reason; a woken receiver gets 1 to COUNT messages;
a receiver that disconnects takes nothing), QDROP (blocked receivers answered with an
empty array), "Server commands" (QRECV with WAIT inside MULTI does not block),
"Wire protocol" (pipelining: replies in order).

Timings: a test never asserts an upper bound tighter than "well before the WAIT would
have run out", nor a lower bound tighter than the WAIT minus a small slack.
"""

import time

import pytest

from queue_helpers import (bodies, check_messages, held, info_queues, integer, meta, ok, qinfo,
                           qlen, recv, recv1, send, wait_blocked, wait_until)
from respq_testlib import encode_command

SLACK = 0.06  # seconds a timed-out wait may seem short by (clock steps, rounding)


@pytest.fixture
def conns(server):
    made = []

    def make():
        c = server.raw(timeout=15)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def read_messages(conn, timeout=5.0, withmeta=False):
    reply = conn.read_reply(timeout=timeout)
    check_messages(reply, opts=("WITHMETA",) if withmeta else ())
    return reply


def test_blocked_receivers_info_count(raw, conns):
    ok(raw, "QCREATE", "q")
    assert info_queues(raw)["respq_blocked_receivers"] == 0
    c1, c2 = conns(), conns()
    c1.send_cmd("QRECV", "q", "WAIT", "10")
    assert wait_blocked(raw, 1), "respq_blocked_receivers did not reach 1"
    c2.send_cmd("QRECV", "q", "WAIT", "10")
    assert wait_blocked(raw, 2), "respq_blocked_receivers did not reach 2"
    send(raw, "q", "a")
    assert bodies(read_messages(c1)) == [b"a"]
    assert wait_blocked(raw, 1), "respq_blocked_receivers did not go back to 1"


def test_served_in_arrival_order(raw, conns):
    ok(raw, "QCREATE", "q")
    cs = [conns() for _ in range(4)]
    for i, c in enumerate(cs):
        c.send_cmd("QRECV", "q", "WAIT", "10")
        wait_blocked(raw, i + 1)
    assert cs[0].nothing_pending(0.1)
    for i, c in enumerate(cs):
        mid = send(raw, "q", "m%d" % i)
        got = read_messages(c)
        assert len(got) == 1 and got[0][0] == mid and got[0][2] == b"m%d" % i and got[0][3] == 1
        for later in cs[i + 1:]:
            assert later.nothing_pending(0.02), "a later receiver was served out of turn"
    info = qinfo(raw, "q")
    assert info["inflight"] == 4 and info["ready"] == 0 and info["received_total"] == 4


def test_wait_times_out_with_empty_array(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    t0 = time.monotonic()
    c.send_cmd("QRECV", "q", "WAIT", "0.5")
    assert c.read_reply_raw(timeout=10) == b"*0\r\n"
    assert time.monotonic() - t0 >= 0.5 - SLACK
    assert c.cmd_raw("PING") == b"+PONG\r\n"
    assert info_queues(raw)["respq_blocked_receivers"] == 0


def test_queue_default_wait_and_override(raw, conns):
    ok(raw, "QCREATE", "q", "WAIT", "0.4")
    c = conns()
    t0 = time.monotonic()
    assert c.cmd_raw("QRECV", "q") == b"*0\r\n"
    assert time.monotonic() - t0 >= 0.4 - SLACK
    ok(raw, "QSET", "q", "WAIT", "20")
    c.send_cmd("QRECV", "q", "WAIT", "0")
    assert c.read_reply_raw(timeout=5) == b"*0\r\n"  # WAIT 0: no waiting at all


def test_wait_returns_at_once_when_messages_are_ready(raw, conns):
    ok(raw, "QCREATE", "q", "WAIT", "20")
    send(raw, "q", "a")
    c = conns()
    c.send_cmd("QRECV", "q", "WAIT", "20", "COUNT", "5")
    assert bodies(read_messages(c, timeout=5)) == [b"a"]


def test_disconnected_receiver_takes_nothing(raw, conns):
    ok(raw, "QCREATE", "q")
    c1, c2 = conns(), conns()
    c1.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 1)
    c2.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 2)
    c1.close()
    wait_blocked(raw, 1)
    mid = send(raw, "q", "a")
    got = read_messages(c2)
    assert [m[0] for m in got] == [mid]
    info = qinfo(raw, "q")
    assert info["inflight"] == 1 and info["received_total"] == 1 and info["ready"] == 0


def test_only_receiver_disconnects(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    c.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 1)
    c.close()
    wait_blocked(raw, 0)
    send(raw, "q", "a")
    time.sleep(0.05)
    info = qinfo(raw, "q")
    assert info["ready"] == 1 and info["inflight"] == 0 and info["received_total"] == 0
    assert bodies(recv(raw, "q")) == [b"a"]


def test_qdrop_answers_blocked_receivers(raw, conns):
    ok(raw, "QCREATE", "q")
    ok(raw, "QCREATE", "other")
    c1, c2, c3 = conns(), conns(), conns()
    c1.send_cmd("QRECV", "q", "WAIT", "10")
    c2.send_cmd("QRECV", "q", "WAIT", "10", "COUNT", "3", "WITHMETA")
    c3.send_cmd("QRECV", "other", "WAIT", "10")
    wait_blocked(raw, 3)
    assert raw.cmd_raw("QDROP", "q") == b":1\r\n"
    assert c1.read_reply_raw(timeout=5) == b"*0\r\n"
    assert c2.read_reply_raw(timeout=5) == b"*0\r\n"
    assert c3.nothing_pending(0.1)
    assert c1.cmd_raw("PING") == b"+PONG\r\n"
    # A queue made again under the same name does not revive the old waits.
    ok(raw, "QCREATE", "q")
    send(raw, "q", "new")
    assert qlen(raw, "q") == 1
    send(raw, "other", "x")
    assert bodies(read_messages(c3)) == [b"x"]


def test_pipelined_command_behind_blocked_qrecv(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    c.send(encode_command("QRECV", "q", "WAIT", "10") + encode_command("PING")
           + encode_command("QLEN", "q") + encode_command("ECHO", "after"))
    wait_blocked(raw, 1)
    assert c.nothing_pending(0.2), "a command behind a blocked QRECV was answered early"
    send(raw, "q", "a")
    assert bodies(read_messages(c)) == [b"a"]
    assert c.read_reply_raw() == b"+PONG\r\n"
    assert c.read_reply_raw() == b":0\r\n"
    assert c.read_reply_raw() == b"$5\r\nafter\r\n"


def test_pipelined_command_behind_timed_out_qrecv(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    c.send(encode_command("QRECV", "q", "WAIT", "0.3") + encode_command("PING"))
    assert c.read_reply_raw(timeout=5) == b"*0\r\n"
    assert c.read_reply_raw() == b"+PONG\r\n"


def test_wait_inside_multi_does_not_block(raw, conns):
    ok(raw, "QCREATE", "q", "WAIT", "10")
    c = conns()
    assert c.cmd_raw("MULTI") == b"+OK\r\n"
    assert c.cmd_raw("QRECV", "q", "WAIT", "10") == b"+QUEUED\r\n"
    assert c.cmd_raw("QRECV", "q") == b"+QUEUED\r\n"  # the queue's default WAIT 10
    t0 = time.monotonic()
    c.send_cmd("EXEC")
    assert c.read_reply_raw(timeout=5) == b"*2\r\n*0\r\n*0\r\n"
    assert time.monotonic() - t0 < 5
    assert info_queues(raw)["respq_blocked_receivers"] == 0


def test_multi_sends_and_receives_together(raw):
    ok(raw, "QCREATE", "q")
    raw.cmd("MULTI")
    raw.cmd("QSEND", "q", "a")
    raw.cmd("QSEND", "q", "b")
    raw.cmd("QRECV", "q", "COUNT", "5", "WAIT", "5")
    raw.cmd("QLEN", "q")
    reply = raw.cmd("EXEC")
    ida, idb, msgs, n = reply
    assert [m[0] for m in msgs] == [ida, idb] and bodies(msgs) == [b"a", b"b"]
    assert n == 0


def test_woken_receiver_gets_one_to_count(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    c.send_cmd("QRECV", "q", "COUNT", "5", "WAIT", "10")
    wait_blocked(raw, 1)
    raw.cmd("MULTI")
    for b in ("a", "b", "c"):
        raw.cmd("QSEND", "q", b)
    assert len(raw.cmd("EXEC")) == 3
    got = read_messages(c)
    assert 1 <= len(got) <= 3
    assert bodies(got) == [b"a", b"b", b"c"][:len(got)]
    assert qlen(raw, "q") == 3 - len(got)


def test_woken_receiver_uses_its_visibility_and_withmeta(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    c.send_cmd("QRECV", "q", "VISIBILITY", "0.2", "WAIT", "10", "WITHMETA")
    wait_blocked(raw, 1)
    send(raw, "q", "a", "PRIORITY", "4")
    got = read_messages(c, withmeta=True)
    assert len(got) == 1 and meta(got[0])["priority"] == 4
    wait_until(lambda: qlen(raw, "q") == 1, what="the woken receiver's short lease to run out")


def test_blocked_on_different_queues(raw, conns):
    ok(raw, "QCREATE", "q1")
    ok(raw, "QCREATE", "q2")
    c1, c2 = conns(), conns()
    c1.send_cmd("QRECV", "q1", "WAIT", "10")
    wait_blocked(raw, 1)
    c2.send_cmd("QRECV", "q2", "WAIT", "10")
    wait_blocked(raw, 2)
    send(raw, "q2", "for-q2")
    assert bodies(read_messages(c2)) == [b"for-q2"]
    assert c1.nothing_pending(0.1)
    send(raw, "q1", "for-q1")
    assert bodies(read_messages(c1)) == [b"for-q1"]


def test_second_receiver_keeps_waiting_then_times_out(raw, conns):
    ok(raw, "QCREATE", "q")
    c1, c2 = conns(), conns()
    c1.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 1)
    c2.send_cmd("QRECV", "q", "WAIT", "1")
    wait_blocked(raw, 2)
    send(raw, "q", "only")
    assert bodies(read_messages(c1)) == [b"only"]
    assert c2.read_reply_raw(timeout=5) == b"*0\r\n"


# -- every way a message becomes receivable wakes a receiver --


def test_woken_by_delay_end(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    c.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 1)
    mid = send(raw, "q", "late", "DELAY", "0.3")
    assert c.nothing_pending(0.05)
    assert [m[0] for m in read_messages(c)] == [mid]


def test_woken_by_lease_end(raw, conns):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "a")
    recv1(raw, "q", "VISIBILITY", "0.3")
    c = conns()
    c.send_cmd("QRECV", "q", "WAIT", "10")
    got = read_messages(c)
    assert got[0][0] == mid and got[0][3] == 2


def test_woken_by_qvis_zero(raw, conns):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "a")
    m = recv1(raw, "q")
    c = conns()
    c.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 1)
    ok(raw, "QVIS", "q", m[1], "0")
    got = read_messages(c)
    assert got[0][0] == mid and got[0][3] == 2


def test_woken_by_redrive(raw, conns):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    mid = send(raw, "src", "a")
    ok(raw, "QVIS", "src", recv1(raw, "src")[1], "0")
    assert qlen(raw, "dlq") == 1
    c = conns()
    c.send_cmd("QRECV", "src", "WAIT", "10")
    wait_blocked(raw, 1)
    assert integer(raw, "QREDRIVE", "dlq") == 1
    got = read_messages(c)
    assert got[0][0] == mid and got[0][3] == 1


def test_woken_by_dead_lettering_into_dlq(raw, conns):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    mid = send(raw, "src", "a")
    m = recv1(raw, "src")
    c = conns()
    c.send_cmd("QRECV", "dlq", "WAIT", "10", "WITHMETA")
    wait_blocked(raw, 1)
    ok(raw, "QVIS", "src", m[1], "0")
    got = read_messages(c, withmeta=True)
    assert got[0][0] == mid and meta(got[0])["dlq_source"] == b"src"


def test_fifo_woken_by_qdel_freeing_group(raw, conns):
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "f", "a1", "GROUP", "g", "DEDUPID", "1")
    send(raw, "f", "a2", "GROUP", "g", "DEDUPID", "2")
    m = recv1(raw, "f")
    c = conns()
    c.send_cmd("QRECV", "f", "WAIT", "10")
    wait_blocked(raw, 1)
    assert c.nothing_pending(0.1)
    assert integer(raw, "QDEL", "f", m[1]) == 1
    assert bodies(read_messages(c)) == [b"a2"]


def test_fifo_woken_by_lease_end_freeing_group(raw, conns):
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "f", "a1", "GROUP", "g", "DEDUPID", "1")
    send(raw, "f", "a2", "GROUP", "g", "DEDUPID", "2")
    recv1(raw, "f", "VISIBILITY", "0.3")
    c = conns()
    c.send_cmd("QRECV", "f", "WAIT", "10")
    got = read_messages(c)
    assert got[0][2] == b"a1" and got[0][3] == 2


def test_fifo_blocked_receivers_in_order_across_groups(raw, conns):
    ok(raw, "QCREATE", "f", "FIFO")
    cs = [conns() for _ in range(2)]
    for i, c in enumerate(cs):
        c.send_cmd("QRECV", "f", "WAIT", "10", "COUNT", "10")
        wait_blocked(raw, i + 1)
    send(raw, "f", "a1", "GROUP", "a", "DEDUPID", "1")
    assert bodies(read_messages(cs[0])) == [b"a1"]
    send(raw, "f", "a2", "GROUP", "a", "DEDUPID", "2")  # blocked behind a1
    assert cs[1].nothing_pending(0.1)
    send(raw, "f", "b1", "GROUP", "b", "DEDUPID", "3")
    assert bodies(read_messages(cs[1])) == [b"b1"]
    info = qinfo(raw, "f")
    assert (info["inflight"], info["blocked"], info["ready"]) == (2, 1, 0)
    assert held(info) == 3


def test_sigterm_with_blocked_receivers_exits_zero(server, raw, conns):
    ok(raw, "QCREATE", "q")
    for _ in range(3):
        conns().send_cmd("QRECV", "q", "WAIT", "30")
    wait_blocked(raw, 3)
    assert server.main.stop() == 0


def test_client_kill_of_blocked_receiver(raw, conns):
    ok(raw, "QCREATE", "q")
    c1, c2 = conns(), conns()
    id1 = c1.cmd("CLIENT", "ID")
    c1.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 1)
    c2.send_cmd("QRECV", "q", "WAIT", "10")
    wait_blocked(raw, 2)
    assert raw.cmd("CLIENT", "KILL", "ID", str(id1)) == 1
    assert c1.is_closed(5)
    wait_blocked(raw, 1)
    send(raw, "q", "a")
    assert bodies(read_messages(c2)) == [b"a"]
    assert qinfo(raw, "q")["inflight"] == 1


def test_flushall_with_blocked_receiver(raw, conns):
    ok(raw, "QCREATE", "q")
    c = conns()
    c.send_cmd("QRECV", "q", "WAIT", "0.5")
    wait_blocked(raw, 1)
    assert raw.cmd_raw("FLUSHALL") == b"+OK\r\n"
    # Answered at once (as QDROP does) or when the wait runs out: an empty array either way.
    assert c.read_reply_raw(timeout=5) == b"*0\r\n"
    assert c.cmd_raw("PING") == b"+PONG\r\n"
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    assert qlen(raw, "q") == 1


def test_woken_by_dead_lettering_after_lease_end(raw, conns):
    ok(raw, "QCREATE", "dlq")
    ok(raw, "QCREATE", "src", "DLQ", "dlq", "MAXRECEIVES", "1")
    mid = send(raw, "src", "a")
    recv1(raw, "src", "VISIBILITY", "0.3")
    c = conns()
    c.send_cmd("QRECV", "dlq", "WAIT", "10")
    got = read_messages(c)
    assert [m[0] for m in got] == [mid]


def test_wait_lasts_at_least_what_was_asked(raw):
    """The server's clock drops the fraction of its millisecond; a wait that ended
    at the truncated deadline came back up to 1 ms early (seen by redis-compat)."""
    assert raw.cmd("QCREATE", "w") == "OK"
    for _ in range(20):
        start = time.monotonic()
        assert raw.cmd("QRECV", "w", "WAIT", "0.05") == []
        assert time.monotonic() - start >= 0.05
