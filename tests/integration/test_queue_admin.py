"""Queue commands: names, durations, QCREATE, QSET, QDROP, QPURGE, QLEN, QINFO, QSCAN.

Spec: commands.md "Names and values", "Queue commands", "Rules that settle the corner
cases" (option names case-insensitive and in any order, \\xNN escapes in lower case,
-INUSE names the first source in name order).
"""

import time

import pytest

from queue_helpers import (DEFAULTS_MS, NOQUEUE_FMT, QINFO_FIELDS, err, held, integer,
                           now_ms, ok, qinfo, qlen, recv, recv1, send)
from respq_testlib import Error

# ---------------------------------------------------------------------------
# Queue names
# ---------------------------------------------------------------------------

# One valid invocation of each queue command, the queue name standing first.
COMMANDS_ON_A_QUEUE = [
    ("QCREATE",),
    ("QSET", "VISIBILITY", "1"),
    ("QDROP",),
    ("QPURGE",),
    ("QLEN",),
    ("QINFO",),
    ("QSEND", "body"),
    ("QRECV",),
    ("QDEL", "some-receipt"),
    ("QVIS", "some-receipt", "0"),
    ("QPEEK",),
    ("QREDRIVE",),
]


def _with_name(cmd, name):
    return (cmd[0], name) + cmd[1:]


@pytest.mark.parametrize("cmd", COMMANDS_ON_A_QUEUE, ids=[c[0] for c in COMMANDS_ON_A_QUEUE])
def test_invalid_name_on_every_command(raw, cmd):
    assert raw.cmd_raw(*_with_name(cmd, "bad name!")) == b"-ERR invalid queue name 'bad name!'\r\n"
    assert raw.cmd_raw(*_with_name(cmd, "")) == b"-ERR invalid queue name ''\r\n"
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


@pytest.mark.parametrize("cmd", COMMANDS_ON_A_QUEUE, ids=[c[0] for c in COMMANDS_ON_A_QUEUE])
def test_invalid_name_is_checked_before_anything_else(raw, cmd):
    # The name's syntax comes first: before NOQUEUE and before the other arguments.
    args = _with_name(cmd, "a*b")
    if cmd[0] in ("QRECV", "QPEEK", "QREDRIVE"):
        args = args + ("COUNT", "0")
    elif cmd[0] == "QSET":
        args = ("QSET", "a*b", "VISIBILITY", "-1")
    elif cmd[0] == "QVIS":
        args = ("QVIS", "a*b", "r", "1e3")
    elif cmd[0] == "QCREATE":
        args = ("QCREATE", "a*b", "VISIBILITY", "99999")
    elif cmd[0] == "QSEND":
        args = ("QSEND", "a*b", "x", "PRIORITY", "nope")
    assert raw.cmd_raw(*args) == b"-ERR invalid queue name 'a*b'\r\n"


@pytest.mark.parametrize("cmd", [c for c in COMMANDS_ON_A_QUEUE if c[0] not in ("QCREATE", "QDROP")],
                         ids=[c[0] for c in COMMANDS_ON_A_QUEUE if c[0] not in ("QCREATE", "QDROP")])
def test_noqueue_on_every_command_but_qcreate_and_qdrop(raw, cmd):
    assert raw.cmd_raw(*_with_name(cmd, "nope")) == b"-NOQUEUE no such queue 'nope'\r\n"
    # Also when another queue exists.
    ok(raw, "QCREATE", "other")
    assert raw.cmd(*_with_name(cmd, "nope")) == NOQUEUE_FMT % "nope"


def test_every_allowed_character(raw):
    name = "AZaz09_-.:{}"
    ok(raw, "QCREATE", name)
    assert qinfo(raw, name)["name"] == name.encode()
    ok(raw, "QCREATE", "{orders}")
    ok(raw, "QCREATE", "{orders}:dlq")
    ok(raw, "QCREATE", "x")


def test_name_length_1_to_128(raw):
    ok(raw, "QCREATE", "a" * 128)
    assert qlen(raw, "a" * 128) == 0
    reply = raw.cmd("QCREATE", "b" * 129)
    assert isinstance(reply, Error) and reply.startswith("ERR invalid queue name '"), reply
    assert integer(raw, "DBSIZE") == 1


def test_every_other_printable_character_is_refused(raw):
    allowed = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:{}")
    for c in range(0x20, 0x7F):
        if c in allowed:
            continue
        name = b"q" + bytes([c]) + b"q"
        shown = b"q\\x27q" if c == 0x27 else name
        assert raw.cmd_raw("QCREATE", name) == b"-ERR invalid queue name '" + shown + b"'\r\n", chr(c)
    assert integer(raw, "DBSIZE") == 0


@pytest.mark.parametrize("name, shown", [
    (b"it's", b"it\\x27s"),
    (b"caf\xc3\xa9", b"caf\\xc3\\xa9"),
    (b"tab\there", b"tab\\x09here"),
    (b"nl\r\nx", b"nl\\x0d\\x0ax"),
    (b"\x00", b"\\x00"),
    (b"del\x7f", b"del\\x7f"),
    (b"\xff\xfe", b"\\xff\\xfe"),
    (b"sp ace", b"sp ace"),
    (b"back\\slash", b"back\\slash"),
])
def test_invalid_name_escaping(raw, name, shown):
    expected = b"-ERR invalid queue name '" + shown + b"'\r\n"
    assert raw.cmd_raw("QCREATE", name) == expected
    assert raw.cmd_raw("QLEN", name) == expected
    assert raw.cmd_raw("QDROP", name) == expected


def test_invalid_dlq_name(raw):
    reply = err(raw, "QCREATE", "q", "DLQ", "no good", "MAXRECEIVES", "3")
    assert "invalid queue name 'no good'" in reply
    assert integer(raw, "DBSIZE") == 0


# ---------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------

GOOD_DURATIONS = [("30", 30000), ("0.25", 250), ("0.001", 1), ("1.5", 1500), ("007", 7000),
                  ("1.000", 1000), ("0", 0), ("12.34", 12340)]
BAD_DURATIONS = ["1e3", "-1", "1.2345", " 1", "1 ", "inf", "+1", "1.", ".5", "", "abc", "0x10",
                 "1,5", "nan", "-0", "1.0000", "Infinity", "1e-3"]


@pytest.mark.parametrize("text, ms", GOOD_DURATIONS)
def test_duration_grammar_accepts(raw, text, ms):
    ok(raw, "QCREATE", "q", "VISIBILITY", text)
    assert qinfo(raw, "q")["visibility_ms"] == ms


@pytest.mark.parametrize("text", BAD_DURATIONS)
def test_duration_grammar_refuses_in_qcreate(raw, text):
    err(raw, "QCREATE", "q", "VISIBILITY", text, has="VISIBILITY")
    err(raw, "QCREATE", "q", "WAIT", text, has="WAIT")
    err(raw, "QCREATE", "q", "DELAY", text, has="DELAY")
    err(raw, "QCREATE", "q", "RETENTION", text, has="RETENTION")
    assert integer(raw, "DBSIZE") == 0


@pytest.mark.parametrize("text", ["1e3", "-1", "1.2345", " 1", "inf", "1."])
def test_duration_grammar_refuses_everywhere(raw, text):
    ok(raw, "QCREATE", "q")
    err(raw, "QSET", "q", "VISIBILITY", text, has="VISIBILITY")
    err(raw, "QSEND", "q", "m", "DELAY", text, has="DELAY")
    err(raw, "QRECV", "q", "VISIBILITY", text, has="VISIBILITY")
    err(raw, "QRECV", "q", "WAIT", text, has="WAIT")
    assert qlen(raw, "q") == 0
    send(raw, "q", "m")
    m = recv1(raw, "q")
    err(raw, "QVIS", "q", m[1], text)
    assert qinfo(raw, "q")["inflight"] == 1


# ---------------------------------------------------------------------------
# QCREATE
# ---------------------------------------------------------------------------


def test_qcreate_defaults(raw):
    before = now_ms()
    assert raw.cmd_raw("QCREATE", "q") == b"+OK\r\n"
    after = now_ms()
    info = qinfo(raw, "q")
    assert info["name"] == b"q"
    assert info["type"] == b"standard"
    assert info["dlq"] is None
    for k, v in DEFAULTS_MS.items():
        assert info[k] == v, k
    assert before - 1000 <= info["created_ms"] <= after + 1000
    assert info["modified_ms"] >= info["created_ms"]
    for k in ("ready", "inflight", "delayed", "blocked", "oldest_age_ms", "sent_total",
              "received_total", "deleted_total", "expired_total", "deadlettered_total"):
        assert info[k] == 0, k
    assert info["dlq_sources"] == []


def test_qcreate_every_option(raw):
    ok(raw, "QCREATE", "d")
    ok(raw, "QCREATE", "q", "VISIBILITY", "12.5", "DELAY", "1.25", "RETENTION", "100",
       "MAXSIZE", "1000", "WAIT", "2.5", "MAXDEPTH", "7", "DLQ", "d", "MAXRECEIVES", "4")
    info = qinfo(raw, "q")
    assert info["type"] == b"standard"
    assert info["dlq"] == b"d"
    assert info["visibility_ms"] == 12500
    assert info["delay_ms"] == 1250
    assert info["retention_ms"] == 100000
    assert info["wait_ms"] == 2500
    assert info["maxsize"] == 1000
    assert info["maxdepth"] == 7
    assert info["maxreceives"] == 4
    assert info["contentdedup"] == 0
    assert qinfo(raw, "d")["dlq_sources"] == [b"q"]


def test_qcreate_fifo_and_contentdedup(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    info = qinfo(raw, "f")
    assert info["type"] == b"fifo" and info["contentdedup"] == 0
    ok(raw, "QCREATE", "fc", "FIFO", "CONTENTDEDUP")
    info = qinfo(raw, "fc")
    assert info["type"] == b"fifo" and info["contentdedup"] == 1


def test_qcreate_options_case_insensitive_and_any_order(raw):
    ok(raw, "QCREATE", "d", "fifo")
    ok(raw, "qcreate", "q", "contentdedup", "dlq", "d", "maxreceives", "2", "Visibility", "3",
       "FiFo", "wait", "1")
    info = qinfo(raw, "q")
    assert info["type"] == b"fifo" and info["contentdedup"] == 1
    assert info["dlq"] == b"d" and info["maxreceives"] == 2
    assert info["visibility_ms"] == 3000 and info["wait_ms"] == 1000


def test_contentdedup_is_fifo_only(raw):
    err(raw, "QCREATE", "q", "CONTENTDEDUP", has="CONTENTDEDUP")
    assert integer(raw, "DBSIZE") == 0


@pytest.mark.parametrize("opt, good, bad", [
    ("VISIBILITY", [("0", 0), ("43200", 43200000)], ["43200.001", "43201", "100000"]),
    ("WAIT", [("0", 0), ("43200", 43200000)], ["43200.001", "43201"]),
    ("RETENTION", [("0", 0), ("1", 1000), ("31536000", 31536000000)],
     ["0.5", "0.999", "31536000.001", "31536001"]),
    ("MAXSIZE", [("1", 1), ("536870912", 536870912)], ["0", "536870913", "-1", "1.5", "x"]),
    ("MAXDEPTH", [("0", 0), ("9223372036854775807", 9223372036854775807)],
     ["-1", "9223372036854775808", "1.5", "x"]),
])
def test_qcreate_option_ranges(raw, opt, good, bad):
    field = {"VISIBILITY": "visibility_ms", "WAIT": "wait_ms", "RETENTION": "retention_ms",
             "MAXSIZE": "maxsize", "MAXDEPTH": "maxdepth"}[opt]
    for i, (text, value) in enumerate(good):
        name = "ok%d" % i
        ok(raw, "QCREATE", name, opt, text)
        assert qinfo(raw, name)[field] == value, text
    for text in bad:
        err(raw, "QCREATE", "bad", opt, text, has=opt)
    assert raw.cmd("QLEN", "bad") == NOQUEUE_FMT % "bad"


def test_qcreate_delay_range(raw):
    # 0 - 31536000, and shorter than RETENTION when RETENTION > 0.
    ok(raw, "QCREATE", "a", "DELAY", "31536000", "RETENTION", "0")
    assert qinfo(raw, "a")["delay_ms"] == 31536000000
    err(raw, "QCREATE", "b", "DELAY", "31536000.001", "RETENTION", "0", has="DELAY")
    ok(raw, "QCREATE", "c", "DELAY", "345599.999")  # default RETENTION 345600
    err(raw, "QCREATE", "d", "DELAY", "345600")
    err(raw, "QCREATE", "e", "DELAY", "10", "RETENTION", "10")
    err(raw, "QCREATE", "f", "RETENTION", "10", "DELAY", "11")
    ok(raw, "QCREATE", "g", "RETENTION", "1", "DELAY", "0.999")
    assert integer(raw, "DBSIZE") == 3


def test_qcreate_maxreceives_range(raw):
    ok(raw, "QCREATE", "d")
    ok(raw, "QCREATE", "a", "DLQ", "d", "MAXRECEIVES", "1")
    ok(raw, "QCREATE", "b", "DLQ", "d", "MAXRECEIVES", "1000")
    for bad in ("0", "1001", "-1", "x", "1.5"):
        err(raw, "QCREATE", "c", "DLQ", "d", "MAXRECEIVES", bad, has="MAXRECEIVES")
    assert qinfo(raw, "b")["maxreceives"] == 1000
    assert sorted(qinfo(raw, "d")["dlq_sources"]) == [b"a", b"b"]


def test_qcreate_maxsize_follows_proto_max_bulk_len(raw):
    ok(raw, "CONFIG", "SET", "proto-max-bulk-len", "2097152")
    ok(raw, "QCREATE", "a", "MAXSIZE", "2097152")
    err(raw, "QCREATE", "b", "MAXSIZE", "2097153", has="MAXSIZE")


def test_dlq_and_maxreceives_are_one_option(raw):
    ok(raw, "QCREATE", "d")
    err(raw, "QCREATE", "q", "DLQ", "d", has="DLQ")
    err(raw, "QCREATE", "q", "MAXRECEIVES", "3", has="MAXRECEIVES")
    err(raw, "QCREATE", "q", "DLQ", "d", "VISIBILITY", "5", "MAXRECEIVES", "3", has="DLQ")
    err(raw, "QCREATE", "q", "VISIBILITY", "5", "DLQ", "d", has="DLQ")
    err(raw, "QCREATE", "q", "DLQ", has="DLQ")
    assert integer(raw, "DBSIZE") == 1
    ok(raw, "QCREATE", "q", "VISIBILITY", "5", "DLQ", "d", "MAXRECEIVES", "3", "WAIT", "1")


@pytest.mark.parametrize("args, named", [
    (("BOGUS", "1"), "BOGUS"),
    (("VISIBILITY",), "VISIBILITY"),
    (("FIFO", "VISIBILITY"), "VISIBILITY"),
    (("VISIBILITY", "1", "extra"), "extra"),
    (("NODLQ",), "NODLQ"),
])
def test_qcreate_syntax_errors(raw, args, named):
    err(raw, "QCREATE", "q", *args, has=named)
    assert integer(raw, "DBSIZE") == 0


def test_qcreate_missing_dlq_is_noqueue_naming_it(raw):
    reply = err(raw, "QCREATE", "q", "DLQ", "missing-dlq", "MAXRECEIVES", "3", code="NOQUEUE")
    assert "'missing-dlq'" in reply
    assert integer(raw, "DBSIZE") == 0


def test_qcreate_dlq_type_mismatch(raw):
    ok(raw, "QCREATE", "std")
    ok(raw, "QCREATE", "fifo", "FIFO")
    err(raw, "QCREATE", "a", "DLQ", "fifo", "MAXRECEIVES", "1", has="DLQ")
    err(raw, "QCREATE", "b", "FIFO", "DLQ", "std", "MAXRECEIVES", "1", has="DLQ")
    assert integer(raw, "DBSIZE") == 2
    ok(raw, "QCREATE", "c", "FIFO", "DLQ", "fifo", "MAXRECEIVES", "1")


def test_qcreate_idempotent(raw):
    ok(raw, "QCREATE", "q", "VISIBILITY", "10")
    created = qinfo(raw, "q")["created_ms"]
    ok(raw, "QCREATE", "q", "VISIBILITY", "10")
    ok(raw, "QCREATE", "q", "VISIBILITY", "10.000", "DELAY", "0", "MAXSIZE", "1048576")
    assert qinfo(raw, "q")["created_ms"] == created
    ok(raw, "QCREATE", "p")
    ok(raw, "QCREATE", "p", "VISIBILITY", "30", "RETENTION", "345600", "WAIT", "0", "MAXDEPTH", "0")
    ok(raw, "QCREATE", "f", "FIFO", "CONTENTDEDUP")
    ok(raw, "QCREATE", "f", "CONTENTDEDUP", "FIFO")
    ok(raw, "QCREATE", "d")
    ok(raw, "QCREATE", "s", "DLQ", "d", "MAXRECEIVES", "3")
    ok(raw, "QCREATE", "s", "DLQ", "d", "MAXRECEIVES", "3")
    assert integer(raw, "DBSIZE") == 5


def test_qcreate_idempotent_keeps_messages(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "m")
    ok(raw, "QCREATE", "q")
    assert qlen(raw, "q") == 1


@pytest.mark.parametrize("first, second", [
    (("VISIBILITY", "10"), ()),
    ((), ("VISIBILITY", "10")),
    ((), ("FIFO",)),
    (("FIFO",), ()),
    (("FIFO",), ("FIFO", "CONTENTDEDUP")),
    ((), ("MAXDEPTH", "5")),
    ((), ("DLQ", "d", "MAXRECEIVES", "2")),
    (("DLQ", "d", "MAXRECEIVES", "2"), ("DLQ", "d", "MAXRECEIVES", "3")),
    (("DLQ", "d", "MAXRECEIVES", "2"), ()),
    (("RETENTION", "0"), ()),
])
def test_qcreate_exists_with_different_attributes(raw, first, second):
    ok(raw, "QCREATE", "d")
    ok(raw, "QCREATE", "dfifo", "FIFO")
    if "FIFO" in first:
        first = tuple("dfifo" if a == "d" else a for a in first)
    if "FIFO" in second:
        second = tuple("dfifo" if a == "d" else a for a in second)
    ok(raw, "QCREATE", "q", *first)
    before = qinfo(raw, "q")
    assert raw.cmd_raw("QCREATE", "q", *second) == \
        b"-EXISTS queue 'q' exists with different attributes\r\n"
    after = qinfo(raw, "q")
    for k in ("type", "dlq", "visibility_ms", "maxdepth", "maxreceives", "contentdedup", "retention_ms"):
        assert after[k] == before[k], k


def test_qcreate_compares_with_current_attributes_after_qset(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "QSET", "q", "VISIBILITY", "10")
    ok(raw, "QCREATE", "q", "VISIBILITY", "10")
    assert raw.cmd("QCREATE", "q").startswith("EXISTS")


# ---------------------------------------------------------------------------
# QSET
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("opt, text, field, value", [
    ("VISIBILITY", "5", "visibility_ms", 5000),
    ("VISIBILITY", "0", "visibility_ms", 0),
    ("DELAY", "1.5", "delay_ms", 1500),
    ("RETENTION", "100", "retention_ms", 100000),
    ("RETENTION", "0", "retention_ms", 0),
    ("MAXSIZE", "10", "maxsize", 10),
    ("WAIT", "2", "wait_ms", 2000),
    ("MAXDEPTH", "3", "maxdepth", 3),
])
def test_qset_each_option(raw, opt, text, field, value):
    ok(raw, "QCREATE", "q")
    created = qinfo(raw, "q")["created_ms"]
    assert raw.cmd_raw("QSET", "q", opt, text) == b"+OK\r\n"
    info = qinfo(raw, "q")
    assert info[field] == value
    assert info["created_ms"] == created
    assert info["modified_ms"] >= created
    for k, v in DEFAULTS_MS.items():
        if k != field:
            assert info[k] == v, k


def test_qset_several_options_case_insensitive(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "qset", "q", "visibility", "7", "Wait", "1", "maxdepth", "9")
    info = qinfo(raw, "q")
    assert (info["visibility_ms"], info["wait_ms"], info["maxdepth"]) == (7000, 1000, 9)


def test_qset_dlq_and_nodlq(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "QCREATE", "d")
    ok(raw, "QSET", "q", "DLQ", "d", "MAXRECEIVES", "2")
    info = qinfo(raw, "q")
    assert info["dlq"] == b"d" and info["maxreceives"] == 2
    assert qinfo(raw, "d")["dlq_sources"] == [b"q"]
    ok(raw, "QSET", "q", "DLQ", "d", "MAXRECEIVES", "5")
    assert qinfo(raw, "q")["maxreceives"] == 5
    ok(raw, "QSET", "q", "nodlq")
    info = qinfo(raw, "q")
    assert info["dlq"] is None and info["maxreceives"] == 0
    assert qinfo(raw, "d")["dlq_sources"] == []
    ok(raw, "QSET", "q", "NODLQ")  # no DLQ to remove: still fine


def test_qset_dlq_errors(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "QCREATE", "d")
    ok(raw, "QCREATE", "f", "FIFO")
    reply = err(raw, "QSET", "q", "DLQ", "gone", "MAXRECEIVES", "2", code="NOQUEUE")
    assert "'gone'" in reply
    err(raw, "QSET", "q", "DLQ", "f", "MAXRECEIVES", "2", has="DLQ")  # type mismatch
    err(raw, "QSET", "f", "DLQ", "d", "MAXRECEIVES", "2", has="DLQ")
    err(raw, "QSET", "q", "DLQ", "d", has="DLQ")
    err(raw, "QSET", "q", "MAXRECEIVES", "2", has="MAXRECEIVES")
    err(raw, "QSET", "q", "DLQ", "d", "MAXRECEIVES", "0", has="MAXRECEIVES")
    err(raw, "QSET", "q", "DLQ", "d", "MAXRECEIVES", "1001", has="MAXRECEIVES")
    assert qinfo(raw, "q")["dlq"] is None
    assert qinfo(raw, "d")["dlq_sources"] == []


@pytest.mark.parametrize("args", [("FIFO",), ("CONTENTDEDUP",), ("BOGUS", "1"), ("VISIBILITY",),
                                  ("VISIBILITY", "43201"), ("WAIT", "43201"), ("MAXSIZE", "0"),
                                  ("MAXDEPTH", "-1"), ("RETENTION", "0.5")])
def test_qset_refused(raw, args):
    ok(raw, "QCREATE", "q")
    err(raw, "QSET", "q", *args, has=args[0])
    info = qinfo(raw, "q")
    assert info["type"] == b"standard"
    for k, v in DEFAULTS_MS.items():
        assert info[k] == v, k


def test_qset_needs_an_option(raw):
    ok(raw, "QCREATE", "q")
    err(raw, "QSET", "q")


def test_qset_all_or_nothing(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "QCREATE", "d")
    # RETENTION not longer than DELAY: the whole QSET is refused.
    err(raw, "QSET", "q", "VISIBILITY", "5", "DELAY", "100", "RETENTION", "50")
    err(raw, "QSET", "q", "VISIBILITY", "5", "WAIT", "99999")
    err(raw, "QSET", "q", "VISIBILITY", "5", "BOGUS", "1")
    err(raw, "QSET", "q", "VISIBILITY", "5", "DLQ", "gone", "MAXRECEIVES", "1", code="NOQUEUE")
    err(raw, "QSET", "q", "DLQ", "d", "MAXRECEIVES", "1", "MAXSIZE", "0")
    info = qinfo(raw, "q")
    for k, v in DEFAULTS_MS.items():
        assert info[k] == v, k
    assert info["dlq"] is None
    assert qinfo(raw, "d")["dlq_sources"] == []


def test_qset_retention_against_existing_delay(raw):
    ok(raw, "QCREATE", "q", "DELAY", "10")
    err(raw, "QSET", "q", "RETENTION", "10")
    err(raw, "QSET", "q", "RETENTION", "5")
    assert qinfo(raw, "q")["retention_ms"] == 345600000
    ok(raw, "QSET", "q", "RETENTION", "10.001")
    err(raw, "QSET", "q", "DELAY", "10.001")
    ok(raw, "QSET", "q", "RETENTION", "0")
    ok(raw, "QSET", "q", "DELAY", "31536000")
    info = qinfo(raw, "q")
    assert (info["retention_ms"], info["delay_ms"]) == (0, 31536000000)
    # Both together, in either order, as long as the result is in range.
    ok(raw, "QSET", "q", "RETENTION", "20", "DELAY", "2")
    ok(raw, "QSET", "q", "DELAY", "30", "RETENTION", "40")
    info = qinfo(raw, "q")
    assert (info["retention_ms"], info["delay_ms"]) == (40000, 30000)


def test_qset_new_delay_applies_to_later_sends_only(raw):
    ok(raw, "QCREATE", "q", "DELAY", "60")
    send(raw, "q", "early")
    ok(raw, "QSET", "q", "DELAY", "0")
    send(raw, "q", "late")
    info = qinfo(raw, "q")
    assert info["delayed"] == 1 and info["ready"] == 1
    assert [m[2] for m in recv(raw, "q", "COUNT", "10")] == [b"late"]


def test_qset_new_visibility_applies_to_later_receives_only(raw):
    ok(raw, "QCREATE", "q", "VISIBILITY", "60")
    send(raw, "q", "a")
    recv1(raw, "q")
    ok(raw, "QSET", "q", "VISIBILITY", "0")
    time.sleep(0.1)
    info = qinfo(raw, "q")
    assert info["inflight"] == 1 and info["ready"] == 0


def test_qset_maxsize_applies_to_sends(raw):
    ok(raw, "QCREATE", "q")
    ok(raw, "QSET", "q", "MAXSIZE", "3")
    send(raw, "q", "abc")
    assert raw.cmd_raw("QSEND", "q", "abcd") == \
        b"-TOOBIG message body is 4 bytes; queue 'q' accepts at most 3\r\n"


# ---------------------------------------------------------------------------
# QDROP
# ---------------------------------------------------------------------------


def test_qdrop(raw):
    assert raw.cmd_raw("QDROP", "q") == b":0\r\n"
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    send(raw, "q", "b")
    recv1(raw, "q")
    assert raw.cmd_raw("QDROP", "q") == b":1\r\n"
    assert raw.cmd_raw("QDROP", "q") == b":0\r\n"
    assert raw.cmd("QLEN", "q") == NOQUEUE_FMT % "q"
    assert integer(raw, "DBSIZE") == 0


def test_qdrop_then_recreate_is_a_fresh_queue(raw):
    ok(raw, "QCREATE", "q", "VISIBILITY", "10")
    id1 = send(raw, "q", "a", "DEDUPID", "x")
    m = recv1(raw, "q")
    assert integer(raw, "QDROP", "q") == 1
    ok(raw, "QCREATE", "q")  # different attributes: fine, the old one is gone
    info = qinfo(raw, "q")
    assert info["visibility_ms"] == 30000 and held(info) == 0 and info["sent_total"] == 0
    # Dedup ids went with the queue.
    id2 = send(raw, "q", "a", "DEDUPID", "x")
    assert id2 != id1
    assert qlen(raw, "q") == 1
    # An old receipt does not touch the new queue.
    assert integer(raw, "QDEL", "q", m[1]) == 0
    assert qlen(raw, "q") == 1


def test_qdrop_inuse_names_first_source_in_name_order(raw):
    ok(raw, "QCREATE", "dlq")
    for src in ("src-c", "src-a", "src-b"):
        ok(raw, "QCREATE", src, "DLQ", "dlq", "MAXRECEIVES", "3")
    assert sorted(qinfo(raw, "dlq")["dlq_sources"]) == [b"src-a", b"src-b", b"src-c"]
    assert raw.cmd_raw("QDROP", "dlq") == b"-INUSE queue 'dlq' is the dead-letter queue of 'src-a'\r\n"
    ok(raw, "QSET", "src-a", "NODLQ")
    assert raw.cmd_raw("QDROP", "dlq") == b"-INUSE queue 'dlq' is the dead-letter queue of 'src-b'\r\n"
    # Dropping a source is fine, and detaches it.
    assert integer(raw, "QDROP", "src-b") == 1
    assert qinfo(raw, "dlq")["dlq_sources"] == [b"src-c"]
    assert raw.cmd_raw("QDROP", "dlq") == b"-INUSE queue 'dlq' is the dead-letter queue of 'src-c'\r\n"
    assert qlen(raw, "dlq") == 0
    ok(raw, "QSET", "src-c", "NODLQ")
    assert integer(raw, "QDROP", "dlq") == 1


def test_qdrop_other_queues_untouched(raw):
    ok(raw, "QCREATE", "a")
    ok(raw, "QCREATE", "b")
    send(raw, "b", "x")
    assert integer(raw, "QDROP", "a") == 1
    assert qlen(raw, "b") == 1


# ---------------------------------------------------------------------------
# QPURGE
# ---------------------------------------------------------------------------


def test_qpurge_every_state(raw):
    ok(raw, "QCREATE", "q")
    assert raw.cmd_raw("QPURGE", "q") == b":0\r\n"
    send(raw, "q", "ready")
    send(raw, "q", "inflight")
    send(raw, "q", "delayed", "DELAY", "60")
    ok(raw, "QVIS", "q", recv1(raw, "q")[1], "60")  # "ready" is now in flight
    m = recv1(raw, "q")
    ok(raw, "QVIS", "q", m[1], "0")  # ... and back to ready
    info = qinfo(raw, "q")
    assert (info["ready"], info["inflight"], info["delayed"]) == (1, 1, 1)
    assert raw.cmd_raw("QPURGE", "q") == b":3\r\n"
    info = qinfo(raw, "q")
    assert held(info) == 0 and info["oldest_age_ms"] == 0
    assert raw.cmd_raw("QPURGE", "q") == b":0\r\n"
    # The queue stays, with its options.
    assert info["visibility_ms"] == 30000
    # Receipts of purged messages are stale.
    assert integer(raw, "QDEL", "q", m[1]) == 0
    assert raw.cmd("QVIS", "q", m[1], "0") == "BADRECEIPT receipt is stale or unknown"


def test_qpurge_keeps_dedup_ids(raw):
    ok(raw, "QCREATE", "q")
    id1 = send(raw, "q", "a", "DEDUPID", "d1")
    assert integer(raw, "QPURGE", "q") == 1
    assert send(raw, "q", "a", "DEDUPID", "d1") == id1
    assert qlen(raw, "q") == 0
    assert send(raw, "q", "a", "DEDUPID", "d2") != id1
    assert qlen(raw, "q") == 1


def test_qpurge_fifo_keeps_dedup_ids(raw):
    ok(raw, "QCREATE", "f", "FIFO", "CONTENTDEDUP")
    id1 = send(raw, "f", "same", "GROUP", "g")
    send(raw, "f", "other", "GROUP", "g")
    recv1(raw, "f")
    assert integer(raw, "QPURGE", "f") == 2
    assert send(raw, "f", "same", "GROUP", "g") == id1
    assert held(qinfo(raw, "f")) == 0


# ---------------------------------------------------------------------------
# QLEN
# ---------------------------------------------------------------------------


def test_qlen_counts_ready_only(raw):
    ok(raw, "QCREATE", "q")
    assert raw.cmd_raw("QLEN", "q") == b":0\r\n"
    send(raw, "q", "a")
    send(raw, "q", "b")
    send(raw, "q", "c", "DELAY", "60")
    assert raw.cmd_raw("QLEN", "q") == b":2\r\n"
    recv1(raw, "q")
    assert raw.cmd_raw("QLEN", "q") == b":1\r\n"


def test_qlen_fifo_excludes_blocked(raw):
    ok(raw, "QCREATE", "f", "FIFO")
    send(raw, "f", "a1", "GROUP", "a", "DEDUPID", "1")
    send(raw, "f", "a2", "GROUP", "a", "DEDUPID", "2")
    send(raw, "f", "b1", "GROUP", "b", "DEDUPID", "3")
    assert qlen(raw, "f") == 3
    assert recv1(raw, "f")[2] == b"a1"
    assert qlen(raw, "f") == 1  # a2 waits behind a1
    info = qinfo(raw, "f")
    assert (info["ready"], info["inflight"], info["blocked"]) == (1, 1, 1)


# ---------------------------------------------------------------------------
# QINFO
# ---------------------------------------------------------------------------


def test_qinfo_resp2_flat_array(raw):
    ok(raw, "QCREATE", "q")
    reply = raw.cmd("QINFO", "q")
    assert isinstance(reply, list) and len(reply) == 2 * len(QINFO_FIELDS)
    assert reply[0::2] == [f.encode() for f in QINFO_FIELDS]
    values = dict(zip(QINFO_FIELDS, reply[1::2]))
    assert isinstance(values["name"], bytes) and isinstance(values["type"], bytes)
    for f in QINFO_FIELDS[3:-1]:
        assert isinstance(values[f], int), f
    assert values["dlq_sources"] == []
    # RESP2 null for dlq: $-1 (a null bulk string, as Redis writes a missing string).
    raw_reply = raw.cmd_raw("QINFO", "q")
    assert raw_reply.startswith(b"*48\r\n$4\r\nname\r\n$1\r\nq\r\n$4\r\ntype\r\n$8\r\nstandard\r\n"
                                b"$3\r\ndlq\r\n$-1\r\n$13\r\nvisibility_ms\r\n:30000\r\n")
    assert raw_reply.endswith(b"$11\r\ndlq_sources\r\n*0\r\n")


def test_qinfo_counts_add_up(raw):
    ok(raw, "QCREATE", "q")
    send(raw, "q", "a")
    send(raw, "q", "b")
    send(raw, "q", "c")
    send(raw, "q", "d", "DELAY", "60")
    send(raw, "q", "e", "DELAY", "60")
    m = recv1(raw, "q")
    info = qinfo(raw, "q")
    assert (info["ready"], info["inflight"], info["delayed"], info["blocked"]) == (2, 1, 2, 0)
    assert held(info) == 5
    assert info["sent_total"] == 5 and info["received_total"] == 1 and info["deleted_total"] == 0
    assert integer(raw, "QDEL", "q", m[1]) == 1
    info = qinfo(raw, "q")
    assert held(info) == 4 and info["deleted_total"] == 1


def test_qinfo_counters(raw):
    ok(raw, "QCREATE", "q")
    id1 = send(raw, "q", "a", "DEDUPID", "x")
    assert send(raw, "q", "a", "DEDUPID", "x") == id1  # duplicate: not counted
    send(raw, "q", "b")
    m1 = recv1(raw, "q", "VISIBILITY", "0")
    wait_ready = time.monotonic() + 5
    while qlen(raw, "q") < 2 and time.monotonic() < wait_ready:
        time.sleep(0.02)
    msgs = recv(raw, "q", "COUNT", "10")
    assert len(msgs) == 2
    assert integer(raw, "QDEL", "q", *[m[1] for m in msgs]) == 2
    info = qinfo(raw, "q")
    assert info["sent_total"] == 2
    assert info["received_total"] == 3
    assert info["deleted_total"] == 2
    assert info["expired_total"] == 0 and info["deadlettered_total"] == 0
    assert held(info) == 0
    assert m1[3] == 1


def test_qinfo_oldest_age(raw):
    ok(raw, "QCREATE", "q")
    assert qinfo(raw, "q")["oldest_age_ms"] == 0
    send(raw, "q", "a", "DELAY", "60")  # any state counts
    time.sleep(0.2)
    send(raw, "q", "b")
    age = qinfo(raw, "q")["oldest_age_ms"]
    assert 150 <= age < 60000
    assert integer(raw, "QPURGE", "q") == 2
    assert qinfo(raw, "q")["oldest_age_ms"] == 0


def test_qinfo_dlq_fields(raw):
    ok(raw, "QCREATE", "d")
    ok(raw, "QCREATE", "s1", "DLQ", "d", "MAXRECEIVES", "3")
    ok(raw, "QCREATE", "s2", "DLQ", "d", "MAXRECEIVES", "1")
    info = qinfo(raw, "s1")
    assert info["dlq"] == b"d" and info["maxreceives"] == 3 and info["dlq_sources"] == []
    d = qinfo(raw, "d")
    assert d["dlq"] is None and d["maxreceives"] == 0
    assert sorted(d["dlq_sources"]) == [b"s1", b"s2"]
    assert all(isinstance(x, bytes) for x in d["dlq_sources"])


def test_qinfo_modified_ms_moves_with_qset(raw):
    ok(raw, "QCREATE", "q")
    first = qinfo(raw, "q")
    time.sleep(0.05)
    ok(raw, "QSET", "q", "VISIBILITY", "3")
    second = qinfo(raw, "q")
    assert second["created_ms"] == first["created_ms"]
    assert second["modified_ms"] > first["modified_ms"]


# ---------------------------------------------------------------------------
# QSCAN
# ---------------------------------------------------------------------------


def scan_all(raw, *opts):
    cursor = b"0"
    seen = []
    for _ in range(10000):
        reply = raw.cmd("QSCAN", cursor, *opts)
        assert isinstance(reply, list) and len(reply) == 2, reply
        cursor, names = reply
        assert isinstance(cursor, bytes), "cursor must be a bulk string: %r" % (cursor,)
        assert isinstance(names, list) and all(isinstance(n, bytes) for n in names), names
        seen += names
        if cursor == b"0":
            return seen
    raise AssertionError("QSCAN did not end")


def test_qscan_empty(raw):
    assert scan_all(raw) == []
    reply = raw.cmd("QSCAN", "0")
    assert reply[0] == b"0" and reply[1] == []


def test_qscan_full_iteration(raw):
    names = ["q%03d" % i for i in range(60)] + ["{t}", "{t}:dlq", "a.b-c_d:e"]
    for n in names:
        ok(raw, "QCREATE", n)
    assert sorted(set(scan_all(raw))) == sorted(n.encode() for n in names)
    assert sorted(set(scan_all(raw, "COUNT", "3"))) == sorted(n.encode() for n in names)
    assert sorted(set(scan_all(raw, "COUNT", "1000"))) == sorted(n.encode() for n in names)
    assert sorted(set(scan_all(raw, "count", "1"))) == sorted(n.encode() for n in names)


def test_qscan_match(raw):
    for n in ["orders", "orders:dlq", "ordersx", "payments", "{pay}:dlq", "o1", "o2", "oa"]:
        ok(raw, "QCREATE", n)
    assert sorted(set(scan_all(raw, "MATCH", "orders*"))) == [b"orders", b"orders:dlq", b"ordersx"]
    assert sorted(set(scan_all(raw, "MATCH", "*:dlq", "COUNT", "2"))) == [b"orders:dlq", b"{pay}:dlq"]
    assert sorted(set(scan_all(raw, "MATCH", "o?"))) == [b"o1", b"o2", b"oa"]
    assert sorted(set(scan_all(raw, "match", "o[0-9]"))) == [b"o1", b"o2"]
    assert sorted(set(scan_all(raw, "MATCH", "o[^0-9]"))) == [b"oa"]
    assert sorted(set(scan_all(raw, "MATCH", "nothing*"))) == []
    assert sorted(set(scan_all(raw, "MATCH", "payments"))) == [b"payments"]


def test_qscan_after_drop(raw):
    for n in ("a", "b", "c"):
        ok(raw, "QCREATE", n)
    integer(raw, "QDROP", "b")
    assert sorted(set(scan_all(raw))) == [b"a", b"c"]


@pytest.mark.parametrize("args", [("0", "BOGUS"), ("0", "MATCH"), ("0", "COUNT"),
                                  ("0", "COUNT", "x"), ("notacursor",)])
def test_qscan_errors(raw, args):
    err(raw, "QSCAN", *args)
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


# ---------------------------------------------------------------------------
# Arity
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("QCREATE",), ("QSET", "q"), ("QDROP",), ("QPURGE",), ("QLEN",),
                                  ("QINFO",), ("QSCAN",), ("QSEND", "q"), ("QRECV",), ("QDEL", "q"),
                                  ("QVIS", "q", "r"), ("QPEEK",), ("QREDRIVE",)])
def test_wrong_number_of_arguments(raw, args):
    ok(raw, "QCREATE", "q")
    reply = raw.cmd(*args)
    assert isinstance(reply, Error)
    assert reply.startswith("ERR wrong number of arguments for '") or args[0] == "QSET", reply
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


@pytest.mark.parametrize("args", [("QDROP", "q", "x"), ("QPURGE", "q", "x"), ("QLEN", "q", "x"),
                                  ("QINFO", "q", "x"), ("QVIS", "q", "r", "1", "x")])
def test_extra_arguments_refused(raw, args):
    ok(raw, "QCREATE", "q")
    err(raw, *args)
    assert integer(raw, "DBSIZE") == 1


def test_qscan_returns_every_queue_that_exists_throughout(raw):
    stable = ["s%04d" % i for i in range(300)]
    doomed = ["d%04d" % i for i in range(100)]
    for n in stable + doomed:
        ok(raw, "QCREATE", n)
    cursor = b"0"
    seen = set()
    added = 0
    for step in range(100000):
        cursor, names = raw.cmd("QSCAN", cursor, "COUNT", "3")
        seen.update(names)
        # Meanwhile the table grows (past a doubling) and shrinks.
        if step < 120:
            for _ in range(4):
                ok(raw, "QCREATE", "n%05d" % added)
                added += 1
        if step < len(doomed):
            assert integer(raw, "QDROP", doomed[step]) == 1
        if cursor == b"0":
            break
    missing = sorted(set(n.encode() for n in stable) - seen)
    assert not missing, "QSCAN missed %d stable queues, e.g. %r" % (len(missing), missing[:5])
    assert integer(raw, "DBSIZE") == len(stable) + added + max(0, len(doomed) - step - 1)
