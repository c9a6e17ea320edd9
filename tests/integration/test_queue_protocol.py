"""Queue commands on the wire: RESP3 shapes after HELLO 3 (maps, `_` nulls), exact RESP2
bytes, inline commands, redis-py, and the server commands that see queues (INFO
# Queues, DBSIZE, FLUSHALL).

Spec: commands.md "Wire protocol" (maps in RESP3, flat arrays in RESP2), QINFO, QRECV
WITHMETA, QSCAN, "Server commands" (DBSIZE = number of queues, FLUSHALL drops every
queue), "Rules that settle the corner cases" (INFO # Queues fields).
"""

import re
import time

import pytest
import redis

from queue_helpers import (INFO_QUEUE_FIELDS, QINFO_FIELDS, WITHMETA_FIELDS, info_queues,
                           integer, ok, qlen, recv1, send, wait_blocked, wait_until)
from respq_testlib import RespMap, encode_command, parse_reply

# ---------------------------------------------------------------------------
# RESP3
# ---------------------------------------------------------------------------


@pytest.fixture
def raw3(raw):
    reply = raw.cmd("HELLO", "3")
    assert isinstance(reply, RespMap)
    return raw


def test_resp3_qinfo_is_a_map(raw3):
    ok(raw3, "QCREATE", "q")
    reply = raw3.cmd("QINFO", "q")
    assert isinstance(reply, RespMap)
    assert [k.decode() for k in reply.keys()] == QINFO_FIELDS
    assert reply[b"dlq"] is None
    assert reply[b"dlq_sources"] == []
    b = raw3.cmd_raw("QINFO", "q")
    assert b.startswith(b"%24\r\n$4\r\nname\r\n$1\r\nq\r\n$4\r\ntype\r\n$8\r\nstandard\r\n"
                        b"$3\r\ndlq\r\n_\r\n$13\r\nvisibility_ms\r\n:30000\r\n$8\r\ndelay_ms\r\n:0\r\n"
                        b"$12\r\nretention_ms\r\n:345600000\r\n$7\r\nwait_ms\r\n:0\r\n"
                        b"$7\r\nmaxsize\r\n:1048576\r\n$8\r\nmaxdepth\r\n:0\r\n"
                        b"$11\r\nmaxreceives\r\n:0\r\n$12\r\ncontentdedup\r\n:0\r\n"
                        b"$10\r\ncreated_ms\r\n:")
    assert b.endswith(b"$5\r\nready\r\n:0\r\n$8\r\ninflight\r\n:0\r\n$7\r\ndelayed\r\n:0\r\n"
                      b"$7\r\nblocked\r\n:0\r\n$13\r\noldest_age_ms\r\n:0\r\n"
                      b"$10\r\nsent_total\r\n:0\r\n$14\r\nreceived_total\r\n:0\r\n"
                      b"$13\r\ndeleted_total\r\n:0\r\n$13\r\nexpired_total\r\n:0\r\n"
                      b"$18\r\ndeadlettered_total\r\n:0\r\n$11\r\ndlq_sources\r\n*0\r\n")


def test_resp3_qinfo_with_dlq(raw3):
    ok(raw3, "QCREATE", "d")
    ok(raw3, "QCREATE", "q", "DLQ", "d", "MAXRECEIVES", "2")
    reply = raw3.cmd("QINFO", "q")
    assert reply[b"dlq"] == b"d" and reply[b"maxreceives"] == 2
    assert raw3.cmd("QINFO", "d")[b"dlq_sources"] == [b"q"]
    assert b"$3\r\ndlq\r\n$1\r\nd\r\n" in raw3.cmd_raw("QINFO", "q")


def test_resp3_withmeta_map_and_nulls(raw3):
    ok(raw3, "QCREATE", "q")
    mid = send(raw3, "q", "hello")
    reply = raw3.cmd("QRECV", "q", "WITHMETA")
    assert len(reply) == 1 and len(reply[0]) == 5
    m = reply[0]
    assert m[0] == mid and m[2] == b"hello" and m[3] == 1
    assert isinstance(m[4], RespMap)
    assert [k.decode() for k in m[4].keys()] == WITHMETA_FIELDS
    assert m[4][b"group"] is None and m[4][b"dedupid"] is None and m[4][b"dlq_source"] is None
    assert isinstance(m[4][b"sent_ms"], int) and m[4][b"priority"] == 0
    ok(raw3, "QVIS", "q", m[1], "0")
    b = raw3.cmd_raw("QRECV", "q", "WITHMETA")
    assert b.startswith(b"*1\r\n*5\r\n$%d\r\n%s\r\n$" % (len(mid), mid))
    assert b"$5\r\nhello\r\n:2\r\n%6\r\n$7\r\nsent_ms\r\n:" in b
    assert b.endswith(b"$8\r\npriority\r\n:0\r\n$5\r\ngroup\r\n_\r\n$7\r\ndedupid\r\n_\r\n"
                      b"$10\r\ndlq_source\r\n_\r\n")


def test_resp3_withmeta_fifo_values(raw3):
    ok(raw3, "QCREATE", "f", "FIFO")
    send(raw3, "f", "x", "GROUP", "g1", "DEDUPID", "d1")
    b = raw3.cmd_raw("QRECV", "f", "WITHMETA")
    assert b.endswith(b"$8\r\npriority\r\n:0\r\n$5\r\ngroup\r\n$2\r\ng1\r\n$7\r\ndedupid\r\n$2\r\nd1\r\n"
                      b"$10\r\ndlq_source\r\n_\r\n")


def test_resp3_empty_replies_are_empty_arrays(raw3):
    ok(raw3, "QCREATE", "q")
    assert raw3.cmd_raw("QRECV", "q") == b"*0\r\n"
    assert raw3.cmd_raw("QRECV", "q", "WAIT", "0.1") == b"*0\r\n"
    assert raw3.cmd_raw("QPEEK", "q", "COUNT", "5") == b"*0\r\n"


def test_resp3_scalar_replies(raw3):
    assert raw3.cmd_raw("QCREATE", "q") == b"+OK\r\n"
    mid = send(raw3, "q", "a")
    assert raw3.cmd_raw("QSEND", "q", "a", "DEDUPID", "x")[:1] == b"$"
    assert raw3.cmd_raw("QLEN", "q") == b":2\r\n"
    assert raw3.cmd_raw("QPEEK", "q") == b"*1\r\n*3\r\n$%d\r\n%s\r\n$1\r\na\r\n:0\r\n" % (len(mid), mid)
    m = recv1(raw3, "q")
    assert raw3.cmd_raw("QVIS", "q", m[1], "5") == b"+OK\r\n"
    assert raw3.cmd_raw("QVIS", "q", "zzz", "5") == b"-BADRECEIPT receipt is stale or unknown\r\n"
    assert raw3.cmd_raw("QDEL", "q", m[1]) == b":1\r\n"
    assert raw3.cmd_raw("QREDRIVE", "q") == b":0\r\n"
    assert raw3.cmd_raw("QPURGE", "q") == b":1\r\n"
    assert raw3.cmd_raw("QLEN", "nope") == b"-NOQUEUE no such queue 'nope'\r\n"
    assert raw3.cmd_raw("QDROP", "q") == b":1\r\n"
    assert raw3.cmd_raw("QDROP", "q") == b":0\r\n"


def test_resp3_qscan_shape(raw3):
    ok(raw3, "QCREATE", "only")
    cursor = b"0"
    names = []
    while True:
        b = raw3.cmd_raw("QSCAN", cursor)
        assert b.startswith(b"*2\r\n$"), b
        cursor, page = _parse(b)
        names += page
        if cursor == b"0":
            break
    assert names == [b"only"]


def _parse(b):
    v, _ = parse_reply(b, 0)
    assert isinstance(v[0], bytes) and isinstance(v[1], list)
    return v[0], v[1]


def test_hello3_inside_pipeline_switches_queue_replies(raw):
    ok(raw, "QCREATE", "q")
    raw.send(encode_command("QINFO", "q") + encode_command("HELLO", "3") + encode_command("QINFO", "q"))
    first = raw.read_reply()
    raw.read_reply()
    second = raw.read_reply()
    assert isinstance(first, list) and len(first) == 48
    assert isinstance(second, RespMap) and len(second) == 24


def test_resp2_qrecv_exact_bytes(raw):
    ok(raw, "QCREATE", "q")
    mid = send(raw, "q", "body")
    b = raw.cmd_raw("QRECV", "q")
    prefix = b"*1\r\n*4\r\n$%d\r\n%s\r\n$" % (len(mid), mid)
    assert b.startswith(prefix) and b.endswith(b"\r\n$4\r\nbody\r\n:1\r\n")


# ---------------------------------------------------------------------------
# Inline commands, case-insensitive names
# ---------------------------------------------------------------------------


def test_inline_queue_commands(raw):
    raw.send(b"QCREATE inl VISIBILITY 5\r\n")
    assert raw.read_reply_raw() == b"+OK\r\n"
    raw.send(b"QSEND inl hello PRIORITY 2\r\n")
    mid = raw.read_reply()
    assert isinstance(mid, bytes)
    raw.send(b"QLEN inl\r\n")
    assert raw.read_reply_raw() == b":1\r\n"
    raw.send(b"qpeek inl\r\n")
    assert raw.read_reply() == [[mid, b"hello", 0]]


def test_command_names_case_insensitive(raw):
    ok(raw, "qcreate", "q")
    ok(raw, "QcReAtE", "q")
    send(raw, "q", "a")
    assert raw.cmd("qsend", "q", "b")
    assert integer(raw, "qLen", "q") == 2
    assert len(raw.cmd("qrecv", "q", "count", "2")) == 2


# ---------------------------------------------------------------------------
# redis-py
# ---------------------------------------------------------------------------


def test_redis_py_round_trip(r):
    assert r.execute_command("QCREATE", "orders") in (b"OK", True, "OK")
    mid = r.execute_command("QSEND", "orders", "hello")
    assert isinstance(mid, bytes)
    msgs = r.execute_command("QRECV", "orders", "COUNT", "10")
    assert msgs[0][0] == mid and msgs[0][2] == b"hello" and msgs[0][3] == 1
    assert r.execute_command("QDEL", "orders", msgs[0][1]) == 1
    assert r.execute_command("QLEN", "orders") == 0
    info = r.execute_command("QINFO", "orders")
    assert info[0::2] == [f.encode() for f in QINFO_FIELDS]
    assert r.dbsize() == 1


def test_redis_py_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("QLEN", "missing")
    assert "no such queue 'missing'" in str(e.value)
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("QCREATE", "bad name")
    assert "invalid queue name 'bad name'" in str(e.value)
    r.execute_command("QCREATE", "q", "MAXSIZE", "2")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("QSEND", "q", "abc")
    assert "message body is 3 bytes; queue 'q' accepts at most 2" in str(e.value)
    assert r.ping()


def test_redis_py_transactional_pipeline(r):
    r.execute_command("QCREATE", "q", "WAIT", "10")
    p = r.pipeline()  # MULTI ... EXEC
    p.execute_command("QSEND", "q", "a")
    p.execute_command("QSEND", "q", "b", "PRIORITY", "1")
    p.execute_command("QRECV", "q", "COUNT", "10")
    p.execute_command("QRECV", "q", "WAIT", "10")  # does not block inside MULTI
    t0 = time.monotonic()
    ida, idb, msgs, empty = p.execute()
    assert time.monotonic() - t0 < 5
    assert [m[0] for m in msgs] == [idb, ida]
    assert empty == []


def test_redis_py_plain_pipeline(r):
    r.execute_command("QCREATE", "q")
    p = r.pipeline(transaction=False)
    for i in range(100):
        p.execute_command("QSEND", "q", "m%d" % i)
    ids = p.execute()
    assert len(set(ids)) == 100
    assert r.execute_command("QLEN", "q") == 100


def test_redis_py_resp2_withmeta(r):
    r.execute_command("QCREATE", "f", "FIFO", "CONTENTDEDUP")
    r.execute_command("QSEND", "f", "x", "GROUP", "g")
    m = r.execute_command("QRECV", "f", "WITHMETA")[0]
    fields = dict(zip(m[4][0::2], m[4][1::2]))
    assert fields[b"group"] == b"g" and fields[b"dlq_source"] is None


# ---------------------------------------------------------------------------
# DBSIZE, FLUSHALL, INFO # Queues
# ---------------------------------------------------------------------------


def test_dbsize_counts_queues(raw):
    assert raw.cmd_raw("DBSIZE") == b":0\r\n"
    for n in ("a", "b", "c"):
        ok(raw, "QCREATE", n)
    send(raw, "a", "m")
    send(raw, "a", "m")
    assert raw.cmd_raw("DBSIZE") == b":3\r\n"
    integer(raw, "QDROP", "b")
    assert raw.cmd_raw("DBSIZE") == b":2\r\n"


def test_flushall_drops_every_queue(raw):
    ok(raw, "QCREATE", "d")
    ok(raw, "QCREATE", "src", "DLQ", "d", "MAXRECEIVES", "1")
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "src", "a")
    send(raw, "f", "b", "GROUP", "g", "DEDUPID", "x")
    recv1(raw, "src")
    assert raw.cmd_raw("FLUSHALL") == b"+OK\r\n"
    assert raw.cmd_raw("DBSIZE") == b":0\r\n"
    for q in ("d", "src", "f"):
        assert raw.cmd("QLEN", q) == "NOQUEUE no such queue '%s'" % q
    assert raw.cmd("QSCAN", "0")[1] == []
    info = info_queues(raw)
    for k in INFO_QUEUE_FIELDS:
        assert info[k] == 0, k
    # Dedup ids went too.
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "f", "b", "GROUP", "g", "DEDUPID", "x")
    assert qlen(raw, "f") == 1


def test_flushall_async_sync(raw):
    ok(raw, "QCREATE", "a")
    assert raw.cmd_raw("FLUSHALL", "ASYNC") == b"+OK\r\n"
    assert raw.cmd_raw("DBSIZE") == b":0\r\n"
    ok(raw, "QCREATE", "a")
    assert raw.cmd_raw("FLUSHALL", "SYNC") == b"+OK\r\n"
    assert raw.cmd_raw("DBSIZE") == b":0\r\n"


def test_info_queues_section(raw, server):
    text = raw.cmd("INFO").decode()
    assert "# Queues\r\n" in text
    for f in INFO_QUEUE_FIELDS:
        assert re.search(r"\r\n%s:\d+\r\n" % f, text), f
    ok(raw, "QCREATE", "q1")
    ok(raw, "QCREATE", "q2", "FIFO")
    send(raw, "q1", "r1")
    send(raw, "q1", "r2")
    send(raw, "q1", "inflight", "PRIORITY", "9")
    send(raw, "q1", "delayed", "DELAY", "60")
    send(raw, "q1", "r1-dup", "DEDUPID", "x")
    send(raw, "q1", "r1-dup", "DEDUPID", "x")  # duplicate: not counted
    send(raw, "q2", "a1", "GROUP", "g", "DEDUPID", "1")
    send(raw, "q2", "a2", "GROUP", "g", "DEDUPID", "2")
    m1 = recv1(raw, "q1")
    recv1(raw, "q2")
    info = info_queues(raw)
    assert info["respq_queues"] == 2
    assert info["respq_messages_ready"] == 3
    assert info["respq_messages_inflight"] == 2
    assert info["respq_messages_delayed"] == 1
    assert info["respq_messages_blocked"] == 1
    assert info["respq_sent_total"] == 7
    assert info["respq_received_total"] == 2
    assert info["respq_deleted_total"] == 0
    assert info["respq_expired_total"] == 0
    assert info["respq_deadlettered_total"] == 0
    assert info["respq_blocked_receivers"] == 0
    integer(raw, "QDEL", "q1", m1[1])
    assert info_queues(raw)["respq_deleted_total"] == 1
    # The _total fields are sums over the queues that exist.
    integer(raw, "QDROP", "q1")
    info = info_queues(raw)
    assert info["respq_queues"] == 1
    assert info["respq_sent_total"] == 2 and info["respq_received_total"] == 1
    assert info["respq_deleted_total"] == 0
    assert info["respq_messages_ready"] == 0 and info["respq_messages_delayed"] == 0
    # Blocked receivers.
    c = server.raw(timeout=10)
    try:
        c.send_cmd("QRECV", "q2", "WAIT", "10")
        assert wait_blocked(raw, 1)
        assert info_queues(raw)["respq_blocked_receivers"] == 1
    finally:
        c.close()


def test_info_expired_total(raw):
    ok(raw, "QCREATE", "q", "RETENTION", "1")
    send(raw, "q", "a")
    wait_until(lambda: info_queues(raw)["respq_expired_total"] == 1, timeout=6,
               what="respq_expired_total to reach 1")
    assert info_queues(raw)["respq_messages_ready"] == 0


def test_info_in_resp3(raw3):
    ok(raw3, "QCREATE", "q")
    reply = raw3.cmd("INFO", "queues")
    assert isinstance(reply, bytes)  # bulk, or verbatim (a bytes subclass)
    assert b"respq_queues:1\r\n" in reply
