"""HELLO and the RESP3 encoding it switches on.

Spec: redis-surface.md §4.0.3, §4.0.5, §4.1 (HELLO row), §4.5 (HELLO bytes);
commands.md "Server commands": server is respq, version 7.0.0, proto the integer
asked for.
"""

import pytest

from respq_testlib import RespMap, RespSet, encode_command


def hello_bytes(proto, client_id):
    """HELLO's reply, exactly, for a connection whose CLIENT ID is client_id."""
    cid = b"%d" % client_id
    body = (b"$6\r\nserver\r\n$5\r\nrespq\r\n"
            b"$7\r\nversion\r\n$5\r\n7.0.0\r\n"
            b"$5\r\nproto\r\n:%d\r\n"
            b"$2\r\nid\r\n:%s\r\n"
            b"$4\r\nmode\r\n$10\r\nstandalone\r\n"
            b"$4\r\nrole\r\n$6\r\nmaster\r\n"
            b"$7\r\nmodules\r\n*0\r\n") % (proto, cid)
    head = b"%7\r\n" if proto == 3 else b"*14\r\n"
    return head + body


def test_hello_3_exact_map(raw):
    cid = raw.cmd("CLIENT", "ID")
    assert raw.cmd_raw("HELLO", "3") == hello_bytes(3, cid)


def test_hello_3_fields_decoded(raw):
    reply = raw.cmd("HELLO", "3")
    assert isinstance(reply, RespMap)
    assert list(reply.keys()) == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
    assert reply[b"server"] == b"respq"
    assert reply[b"version"] == b"7.0.0"
    assert reply[b"proto"] == 3 and isinstance(reply[b"proto"], int)
    assert isinstance(reply[b"id"], int) and reply[b"id"] > 0
    assert reply[b"mode"] == b"standalone"
    assert reply[b"role"] == b"master"
    assert reply[b"modules"] == []


def test_hello_2_exact_flat_array(raw):
    cid = raw.cmd("CLIENT", "ID")
    assert raw.cmd_raw("HELLO", "2") == hello_bytes(2, cid)


def test_hello_without_arguments_reports_current_protocol(raw):
    cid = raw.cmd("CLIENT", "ID")
    assert raw.cmd_raw("HELLO") == hello_bytes(2, cid)
    raw.cmd("HELLO", "3")
    assert raw.cmd_raw("HELLO") == hello_bytes(3, cid)


def test_hello_lowercase_as_ioredis_sends(raw):
    cid = raw.cmd("client", "id")
    assert raw.cmd_raw("hello", "3") == hello_bytes(3, cid)


def test_hello_3_then_2_goes_back_to_resp2(raw):
    raw.cmd("HELLO", "3")
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"_\r\n"
    raw.cmd("HELLO", "2")
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"


@pytest.mark.parametrize("ver", ["1", "4", "0", "-1"])
def test_hello_unsupported_version(raw, ver):
    assert raw.cmd_raw("HELLO", ver) == b"-NOPROTO unsupported protocol version\r\n"
    # The protocol did not change.
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"


def test_hello_setname(raw):
    cid = raw.cmd("CLIENT", "ID")
    assert raw.cmd_raw("HELLO", "3", "SETNAME", "worker-1") == hello_bytes(3, cid)
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$8\r\nworker-1\r\n"


def test_hello_id_is_client_id(raw):
    reply = raw.cmd("HELLO", "2")
    d = dict(zip(reply[::2], reply[1::2]))
    assert d[b"id"] == raw.cmd("CLIENT", "ID")


def test_hello_3_switches_from_the_next_reply_inside_a_pipeline(server):
    c = server.raw()
    cid = c.cmd("CLIENT", "ID")
    c.send(encode_command("CLIENT", "GETNAME")
           + encode_command("HELLO", "3")
           + encode_command("CLIENT", "GETNAME")
           + encode_command("SELECT", "0")
           + encode_command("HELLO", "2")
           + encode_command("CLIENT", "GETNAME"))
    assert c.read_reply_raw() == b"$-1\r\n"
    assert c.read_reply_raw() == hello_bytes(3, cid)
    assert c.read_reply_raw() == b"_\r\n"
    assert c.read_reply_raw() == b"+OK\r\n"
    assert c.read_reply_raw() == hello_bytes(2, cid)
    assert c.read_reply_raw() == b"$-1\r\n"


def test_node_redis_6_style_pipelined_handshake(server):
    # node-redis 6 / ioredis 6 pipeline HELLO with SELECT and CLIENT commands.
    c = server.raw()
    c.send(encode_command("HELLO", "3", "SETNAME", "app")
           + encode_command("CLIENT", "SETINFO", "LIB-NAME", "node-redis")
           + encode_command("CLIENT", "SETINFO", "LIB-VER", "6.3.1")
           + encode_command("SELECT", "0")
           + encode_command("PING"))
    hello = c.read_reply()
    assert isinstance(hello, RespMap) and hello[b"proto"] == 3
    assert c.read_reply_raw() == b"+OK\r\n"
    assert c.read_reply_raw() == b"+OK\r\n"
    assert c.read_reply_raw() == b"+OK\r\n"
    assert c.read_reply_raw() == b"+PONG\r\n"


# ---- RESP3 reply types ----

@pytest.fixture
def raw3(raw):
    assert isinstance(raw.cmd("HELLO", "3"), RespMap)
    return raw


def test_resp3_null_for_missing_name(raw3):
    assert raw3.cmd_raw("CLIENT", "GETNAME") == b"_\r\n"


def test_resp3_config_get_is_a_map(raw3):
    assert raw3.cmd_raw("CONFIG", "GET", "save") == b"%1\r\n$4\r\nsave\r\n$0\r\n\r\n"
    assert raw3.cmd_raw("CONFIG", "GET", "appendonly") == b"%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"


def test_resp3_config_get_unknown_is_empty_map(raw3):
    assert raw3.cmd_raw("CONFIG", "GET", "no-such-parameter") == b"%0\r\n"


def test_resp3_command_info_unknown_is_null(raw3):
    assert raw3.cmd_raw("COMMAND", "INFO", "nosuchcommand") == b"*1\r\n_\r\n"


def test_resp3_command_info_uses_sets_for_flags(raw3):
    (entry,) = raw3.cmd("COMMAND", "INFO", "qsend")
    assert entry[0] == b"qsend"
    assert isinstance(entry[2], RespSet), "flags must be a RESP3 set"
    assert isinstance(entry[6], RespSet), "ACL categories must be a RESP3 set"
    assert isinstance(entry[7], RespSet), "tips must be a RESP3 set"
    spec = entry[8][0]
    assert isinstance(spec, RespMap) and list(spec.keys()) == [b"flags", b"begin_search", b"find_keys"]
    assert isinstance(spec[b"flags"], RespSet)
    assert isinstance(spec[b"begin_search"], RespMap)


def test_resp3_ping_and_role_unchanged(raw3):
    assert raw3.cmd_raw("PING") == b"+PONG\r\n"
    assert raw3.cmd_raw("ROLE") == b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"


def test_resp3_info_is_bulk_or_verbatim(raw3):
    raw_reply = raw3.cmd_raw("INFO", "server")
    assert raw_reply[:1] in (b"$", b"=")
    if raw_reply[:1] == b"=":
        assert b"\r\ntxt:" in raw_reply[:20]
    assert b"redis_version:7.0.0\r\n" in raw_reply


def test_resp3_client_info_shows_resp_3(raw3):
    info = raw3.cmd("CLIENT", "INFO")
    assert b" resp=3" in info


def test_resp3_hello_2_after_3(raw3):
    cid = raw3.cmd("CLIENT", "ID")
    assert raw3.cmd_raw("HELLO", "2") == hello_bytes(2, cid)
