"""COMMAND, COMMAND COUNT / INFO / DOCS / LIST in Redis 7's shapes.

Spec: redis-surface.md §4.2 (COMMAND rows), §4.5 (exact shapes, DOCS field types as
an ABI), §7.3; commands.md "Server commands" and the queue commands' syntax (arity
and key positions follow from it).
"""

import pytest

from respq_testlib import RespMap, RespSet, Simple, as_dict, pairs

QUEUE_COMMANDS = ["qcreate", "qset", "qdrop", "qpurge", "qlen", "qinfo", "qscan",
                  "qsend", "qrecv", "qdel", "qvis", "qpeek", "qredrive"]
SERVER_COMMANDS = ["ping", "echo", "hello", "auth", "select", "quit", "reset", "role",
                   "client", "info", "multi", "exec", "discard", "config", "command",
                   "dbsize", "time", "shutdown", "bgrewriteaof", "flushall"]

# Arity from commands.md's syntax lines (the command name counts; QSET q NODLQ has 3).
QUEUE_ARITY = {"qcreate": -2, "qset": -3, "qdrop": 2, "qpurge": 2, "qlen": 2, "qinfo": 2,
               "qscan": -2, "qsend": -3, "qrecv": -2, "qdel": -3, "qvis": 4, "qpeek": -2,
               "qredrive": -2}
QUEUE_WRITE = {"qcreate", "qset", "qdrop", "qpurge", "qsend", "qrecv", "qdel", "qvis", "qredrive"}
QUEUE_READONLY = {"qlen", "qinfo", "qscan", "qpeek"}

ARG_TYPES = {"key", "string", "integer", "double", "pattern", "unix-time", "token",
             "pure-token", "oneof", "block"}
ARG_FLAGS = {"optional", "multiple", "multiple_token"}
DOC_KEYS = {"summary", "since", "group", "complexity", "module", "doc_flags",
            "deprecated_since", "replaced_by", "history", "arguments", "subcommands",
            "reply_schema"}
ARG_KEYS = {"name", "type", "display_text", "key_spec_index", "token", "summary", "since",
            "flags", "deprecated_since", "arguments", "value"}


def check_entry(entry, name=None):
    """One COMMAND INFO entry in the 10-element layout of §4.5 (RESP2)."""
    assert isinstance(entry, list) and len(entry) == 10, entry
    n, arity, flags, first, last, step, acl, tips, specs, subs = entry
    assert isinstance(n, bytes) and n == n.lower()
    if name:
        assert n == name.encode()
    assert isinstance(arity, int) and arity != 0
    assert isinstance(flags, list) and all(isinstance(f, Simple) for f in flags), flags
    assert all(isinstance(x, int) for x in (first, last, step))
    assert isinstance(acl, list) and all(isinstance(a, Simple) and a.startswith("@") for a in acl)
    assert isinstance(tips, list)
    assert isinstance(specs, list)
    for spec in specs:
        check_key_spec(spec)
    assert isinstance(subs, list)
    for s in subs:
        check_entry(s)
        assert b"|" in s[0], "subcommand names are container|sub: %r" % s[0]
    return entry


def check_key_spec(spec):
    d = as_dict(spec)
    assert "flags" in d and "begin_search" in d and "find_keys" in d
    assert all(isinstance(f, Simple) for f in d["flags"])
    bs = as_dict(d["begin_search"])
    assert bs["type"] in (b"index", b"keyword", b"unknown")
    fk = as_dict(d["find_keys"])
    assert fk["type"] in (b"range", b"keynum", b"unknown")


def check_doc(name, doc):
    """One COMMAND DOCS doc map: field names and argument types as redis-cli expects."""
    d = as_dict(doc)
    assert set(d) <= DOC_KEYS, (name, set(d) - DOC_KEYS)
    for k in ("summary", "since", "group"):
        assert isinstance(d.get(k), bytes) and d[k], (name, k)
    for k in ("complexity", "doc_flags", "deprecated_since", "replaced_by", "module"):
        if k in d:
            assert isinstance(d[k], (bytes, list)), (name, k)
    for a in d.get("arguments", []):
        check_doc_arg(name, a)
    if "subcommands" in d:
        for subname, subdoc in pairs(d["subcommands"]):
            check_doc(subname, subdoc)
    return d


def check_doc_arg(name, arg):
    a = as_dict(arg)
    assert set(a) <= ARG_KEYS, (name, set(a) - ARG_KEYS)
    assert isinstance(a["name"], bytes) and a["name"], (name, a)
    assert a["type"].decode() in ARG_TYPES, (name, a)
    for f in a.get("flags", []):
        assert isinstance(f, Simple) and f in ARG_FLAGS, (name, a)
    if a["type"] == b"key":
        assert isinstance(a.get("key_spec_index"), int), (name, a)
    if a["type"] in (b"oneof", b"block"):
        assert a.get("arguments"), (name, a)
        for sub in a["arguments"]:
            check_doc_arg(name, sub)
    else:
        assert "arguments" not in a, (name, a)


# ---- COUNT / LIST / plain COMMAND ----

def test_command_count_matches_command(raw):
    count = raw.cmd_raw("COMMAND", "COUNT")
    assert count.startswith(b":")
    assert int(count[1:-2]) == len(raw.cmd("COMMAND"))


def test_command_lists_every_command(raw):
    entries = raw.cmd("COMMAND")
    names = [check_entry(e)[0].decode() for e in entries]
    assert len(names) == len(set(names))
    for n in QUEUE_COMMANDS + SERVER_COMMANDS:
        assert n in names, n


def test_command_list(raw):
    listed = raw.cmd("COMMAND", "LIST")
    assert all(isinstance(x, bytes) for x in listed)
    top = {x.decode() for x in listed if b"|" not in x}
    assert top == {e[0].decode() for e in raw.cmd("COMMAND")}
    for sub in ("client|setname", "client|id", "config|get", "command|docs"):
        assert sub.encode() in listed


def test_command_names_are_lowercase(raw):
    assert all(x == x.lower() for x in raw.cmd("COMMAND", "LIST"))


# ---- INFO ----

def test_command_info_unknown(raw):
    assert raw.cmd_raw("COMMAND", "INFO", "nosuchcommand") == b"*1\r\n$-1\r\n"


def test_command_info_several(raw):
    reply = raw.cmd("COMMAND", "INFO", "ping", "nosuch", "QSEND")
    assert len(reply) == 3
    assert reply[0][0] == b"ping" and reply[1] is None and reply[2][0] == b"qsend"


def test_command_info_qsend_exact_shape(raw):
    (e,) = raw.cmd("COMMAND", "INFO", "qsend")
    check_entry(e, "qsend")
    assert e[1] == -3
    assert "write" in e[2]
    assert e[3:6] == [1, 1, 1]
    assert len(e[8]) == 1
    spec = e[8][0]
    assert spec[0] == b"flags" and spec[2] == b"begin_search" and spec[4] == b"find_keys"
    assert spec[3] == [b"type", b"index", b"spec", [b"index", 1]]
    assert spec[5] == [b"type", b"range", b"spec", [b"lastkey", 0, b"keystep", 1, b"limit", 0]]


@pytest.mark.parametrize("name", QUEUE_COMMANDS)
def test_queue_command_info(raw, name):
    (e,) = raw.cmd("COMMAND", "INFO", name.upper())
    check_entry(e, name)
    assert e[1] == QUEUE_ARITY[name]
    if name == "qscan":
        assert e[3:6] == [0, 0, 0]
        assert e[8] == []
    else:
        assert e[3] == 1 and e[5] == 1
        if name not in ("qcreate", "qset"):  # these may name a DLQ key too
            assert e[4] == 1
        spec = as_dict(e[8][0])
        assert as_dict(spec["begin_search"])["type"] == b"index"
        assert as_dict(as_dict(spec["begin_search"])["spec"]) == {"index": 1}
    if name in QUEUE_WRITE:
        assert "write" in e[2]
    if name in QUEUE_READONLY:
        assert "readonly" in e[2]


def test_command_info_subcommands_of_client(raw):
    (e,) = raw.cmd("COMMAND", "INFO", "client")
    check_entry(e, "client")
    subs = {s[0].decode() for s in e[9]}
    for s in ("id", "setname", "getname", "setinfo", "list", "info", "kill", "no-evict", "no-touch"):
        assert "client|" + s in subs


def test_redis_py_command_parsing(r):
    # redis-py reads indices 0-5 and 7-9 of each entry (§4.5).
    cmds = r.command()
    assert cmds["qsend"]["arity"] == -3
    assert cmds["qsend"]["first_key_pos"] == 1 and cmds["qsend"]["step_count"] == 1


# ---- DOCS ----

def test_command_docs_qsend(raw):
    reply = raw.cmd("COMMAND", "DOCS", "qsend")
    assert isinstance(reply, list) and len(reply) == 2 and reply[0] == b"qsend"
    d = check_doc("qsend", reply[1])
    assert list(d)[:4] == ["summary", "since", "group", "complexity"]
    assert d["group"] == b"queue"
    args = [as_dict(a) for a in d["arguments"]]
    assert args[0]["name"] == b"queue" and args[0]["type"] == b"key" and args[0]["key_spec_index"] == 0
    assert args[1]["type"] == b"string"
    assert "flags" not in args[0] or "optional" not in args[0]["flags"]
    tokens = {a["token"]: a for a in args[2:]}
    assert set(tokens) == {b"PRIORITY", b"DELAY", b"GROUP", b"DEDUPID"}
    for a in tokens.values():
        assert "optional" in a["flags"]
    assert tokens[b"PRIORITY"]["type"] == b"integer"
    assert tokens[b"DELAY"]["type"] in (b"double", b"integer")


@pytest.mark.parametrize("name", QUEUE_COMMANDS)
def test_queue_command_docs_group_queue(raw, name):
    reply = raw.cmd("COMMAND", "DOCS", name)
    assert len(reply) == 2 and reply[0] == name.encode()
    d = check_doc(name, reply[1])
    assert d["group"] == b"queue"


def test_command_docs_all_commands_abi(raw):
    reply = raw.cmd("COMMAND", "DOCS")
    docs = pairs(reply)
    names = {n.decode() for n, _ in docs}
    assert {e[0].decode() for e in raw.cmd("COMMAND")} == names
    for n, doc in docs:
        check_doc(n.decode(), doc)


def test_command_docs_unknown_is_empty(raw):
    assert raw.cmd_raw("COMMAND", "DOCS", "nosuchcommand") == b"*0\r\n"


def test_command_docs_resp3_types(raw):
    raw.cmd("HELLO", "3")
    reply = raw.cmd("COMMAND", "DOCS", "qsend")
    assert isinstance(reply, RespMap) and list(reply) == [b"qsend"]
    doc = reply[b"qsend"]
    assert isinstance(doc, RespMap)
    for a in doc[b"arguments"]:
        assert isinstance(a, RespMap)
        if b"flags" in a:
            assert isinstance(a[b"flags"], RespSet)
    assert raw.cmd_raw("COMMAND", "DOCS", "nosuchcommand") == b"%0\r\n"


def test_command_unknown_subcommand(raw):
    assert raw.cmd_raw("COMMAND", "FROB") == b"-ERR unknown subcommand 'FROB'. Try COMMAND HELP.\r\n"


def test_queue_commands_exist(raw):
    # Not their semantics: only that they are not unknown commands.
    for name in QUEUE_COMMANDS:
        reply = raw.cmd_raw(name.upper(), "q", "a", "b", "c")
        assert not reply.startswith(b"-ERR unknown command"), (name, reply)
