"""Helpers shared by the test_queue_*.py integration tests.

Everything here is written from the command contract (spec/commands.md, v1.2): the
QINFO and WITHMETA field lists, the INFO # Queues field list, and small wrappers
over a RawConn (see respq_testlib) that keep reply types apart (Simple vs bytes vs
Error vs int vs None).
"""

import re
import time

from respq_testlib import Error, RespMap, Simple, as_dict, encode_command

# QINFO: a map, in this order (contract, QINFO).
QINFO_FIELDS = [
    "name", "type", "dlq",
    "visibility_ms", "delay_ms", "retention_ms", "wait_ms",
    "maxsize", "maxdepth", "maxreceives", "contentdedup",
    "created_ms", "modified_ms",
    "ready", "inflight", "delayed", "blocked",
    "oldest_age_ms", "sent_total", "received_total", "deleted_total",
    "expired_total", "deadlettered_total",
    "dlq_sources",
]

# QRECV WITHMETA: the fifth element of each message, a map.
WITHMETA_FIELDS = ["sent_ms", "first_received_ms", "priority", "group", "dedupid", "dlq_source"]

# INFO's # Queues section.
INFO_QUEUE_FIELDS = [
    "respq_queues", "respq_messages_ready", "respq_messages_inflight",
    "respq_messages_delayed", "respq_messages_blocked", "respq_sent_total",
    "respq_received_total", "respq_deleted_total", "respq_expired_total",
    "respq_deadlettered_total", "respq_blocked_receivers",
]

DEFAULTS_MS = {
    "visibility_ms": 30000,
    "delay_ms": 0,
    "retention_ms": 345600 * 1000,
    "wait_ms": 0,
    "maxsize": 1048576,
    "maxdepth": 0,
    "maxreceives": 0,
    "contentdedup": 0,
}

NOQUEUE_FMT = "NOQUEUE no such queue '%s'"
BADRECEIPT = "BADRECEIPT receipt is stale or unknown"


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# Reply checks
# ---------------------------------------------------------------------------


def ok(conn, *args):
    """Runs a command that must reply +OK (a simple string)."""
    reply = conn.cmd(*args)
    assert isinstance(reply, Simple) and reply == "OK", "%r -> %r" % (args, reply)
    return reply


def err(conn, *args, code="ERR", has=()):
    """Runs a command that must reply an error with this code; `has` are texts the
    message must contain (compared case-insensitively). Returns the error text."""
    reply = conn.cmd(*args)
    assert isinstance(reply, Error), "%r should be an error, got %r" % (args, reply)
    assert reply.split(" ", 1)[0] == code, "%r -> %r (expected code %s)" % (args, reply, code)
    for h in ([has] if isinstance(has, str) else has):
        assert h.lower() in reply.lower(), "%r -> %r does not mention %r" % (args, reply, h)
    # The connection stays usable after an error reply.
    return str(reply)


def integer(conn, *args):
    reply = conn.cmd(*args)
    assert isinstance(reply, int) and not isinstance(reply, bool), "%r -> %r" % (args, reply)
    return reply


def send(conn, q, body, *opts):
    """QSEND; returns the id (checked to be a bulk string of 1 to 40 bytes)."""
    reply = conn.cmd("QSEND", q, body, *opts)
    assert isinstance(reply, bytes), "QSEND %s %r %r -> %r" % (q, body, opts, reply)
    assert 1 <= len(reply) <= 40, reply
    return reply


def recv(conn, q, *opts):
    """QRECV; returns the list of messages, each checked to be
    [id bulk, receipt bulk, body bulk, receives int (, meta)]."""
    reply = conn.cmd("QRECV", q, *opts)
    check_messages(reply, q, opts)
    return reply


def check_messages(reply, q="?", opts=()):
    assert isinstance(reply, list), "QRECV %s %r -> %r" % (q, opts, reply)
    withmeta = any(str(o).upper() == "WITHMETA" for o in opts)
    for m in reply:
        assert isinstance(m, list) and len(m) == (5 if withmeta else 4), m
        mid, receipt, body, receives = m[:4]
        assert isinstance(mid, bytes) and 1 <= len(mid) <= 40, m
        assert isinstance(receipt, bytes) and 1 <= len(receipt) <= 64, m
        assert isinstance(body, bytes), m
        assert isinstance(receives, int) and receives >= 1, m
        if withmeta:
            meta = m[4]
            keys = [k.decode() if isinstance(k, bytes) else str(k)
                    for k in (meta.keys() if isinstance(meta, dict) else meta[0::2])]
            assert keys == WITHMETA_FIELDS, keys


def recv1(conn, q, *opts):
    """QRECV that must return exactly one message; returns it."""
    msgs = recv(conn, q, *opts)
    assert len(msgs) == 1, "QRECV %s %r -> %r" % (q, opts, msgs)
    return msgs[0]


def peek(conn, q, *opts):
    reply = conn.cmd("QPEEK", q, *opts)
    assert isinstance(reply, list), reply
    for m in reply:
        assert isinstance(m, list) and len(m) == 3, m
        assert isinstance(m[0], bytes) and isinstance(m[1], bytes) and isinstance(m[2], int), m
    return reply


def meta(msg):
    """The WITHMETA map of a received message as a dict with str keys."""
    return as_dict(msg[4])


def bodies(msgs):
    """Bodies of QRECV messages ([id, receipt, body, ...])."""
    return [m[2] for m in msgs]


def qinfo(conn, q):
    """QINFO as a dict with str keys; checks the field order."""
    reply = conn.cmd("QINFO", q)
    assert isinstance(reply, (list, RespMap)), "QINFO %s -> %r" % (q, reply)
    d = as_dict(reply)
    assert list(d) == QINFO_FIELDS, list(d)
    return d


def held(info):
    return info["ready"] + info["inflight"] + info["delayed"] + info["blocked"]


def qlen(conn, q):
    return integer(conn, "QLEN", q)


def wait_until(fn, timeout=5.0, interval=0.02, what="condition"):
    """Polls fn() until it returns a true value; returns it. Fails after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last %r)" % (timeout, what, last))
        time.sleep(interval)


def info_queues(conn):
    """INFO queues -> {field: int} for the # Queues section."""
    text = conn.cmd("INFO", "queues")
    assert isinstance(text, bytes), text
    text = text.decode()
    out = {}
    section = None
    for line in text.split("\r\n"):
        if line.startswith("# "):
            section = line[2:]
            continue
        m = re.match(r"^([A-Za-z0-9_]+):(.*)$", line)
        if m and section == "Queues":
            out[m.group(1)] = int(m.group(2))
    return out


def wait_blocked(conn, n, timeout=3.0):
    """Waits until INFO says n clients are blocked in QRECV. If INFO does not get
    there (a separate test checks respq_blocked_receivers), gives the server a moment
    and goes on, so that a fault there does not show up as a blocking fault."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if info_queues(conn).get("respq_blocked_receivers") == n:
                return True
        except (AssertionError, ValueError):
            break
        time.sleep(0.01)
    time.sleep(0.3)
    return False


def send_recv_cmd(conn, *args):
    conn.send(encode_command(*args))


def dead_letter(conn, q, mid_expected=None):
    """Receives the next message of q and gives it back at once with QVIS 0 (the
    caller arranges that this is its last allowed delivery). Returns the message."""
    m = recv1(conn, q)
    if mid_expected is not None:
        assert m[0] == mid_expected
    ok(conn, "QVIS", q, m[1], "0")
    return m


def is_error(reply):
    return isinstance(reply, Error)
