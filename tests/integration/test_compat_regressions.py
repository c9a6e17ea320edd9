"""One regression test per row of redis-surface.md §5's "what broke" table: each
replays what that client or tool sends for the command and checks the reply it
needs. (Rows exercised through redis-cli / redis-benchmark also have a test in
test_tools.py.)
"""

import os

from respq_testlib import RespMap, as_dict, encode_command, pairs


def test_row_hello_node_redis_6_default_connect(server):
    # node-redis 6.3.1 default: HELLO 3 pipelined with its CLIENT SETINFO; connect
    # fails unless HELLO is answered with a map.
    c = server.raw()
    c.send(encode_command("HELLO", "3")
           + encode_command("CLIENT", "SETINFO", "LIB-NAME", "node-redis")
           + encode_command("CLIENT", "SETINFO", "LIB-VER", "6.3.1"))
    hello = c.read_reply()
    assert isinstance(hello, RespMap)
    assert hello[b"proto"] == 3
    assert c.read_reply_raw() == b"+OK\r\n"
    assert c.read_reply_raw() == b"+OK\r\n"
    assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_row_hello_ioredis_6_downgrade_texts(raw):
    # ioredis 6 downgrades only on "unknown command" naming HELLO, or NOPROTO: the
    # refusal of an unsupported version must be NOPROTO, and unknown-command errors
    # must carry the name.
    assert raw.cmd_raw("HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
    assert raw.cmd_raw("HELLOX", "3") == \
        b"-ERR unknown command 'HELLOX', with args beginning with: '3' \r\n"


def test_row_info_ioredis_ready_check(raw):
    # ioredis 5/6: `info` (lower case) at connect; parses loading:0 line by line.
    reply = raw.cmd_raw("info")
    assert reply.startswith(b"$")
    text = raw.cmd("info").decode()
    lines = text.split("\r\n")
    assert "loading:0" in lines
    assert "redis_version:7.0.0" in lines


def test_row_client_setname_redis_py_ruby_node_redis(server):
    # redis-py client_name=
    r = server.client(client_name="svc-a")
    assert r.client_getname() in ("svc-a", b"svc-a")
    # ruby id: / node-redis 4/5 name: send CLIENT SETNAME (ruby in lower case)
    c = server.raw()
    assert c.cmd_raw("client", "setname", "svc-b") == b"+OK\r\n"
    assert c.cmd_raw("CLIENT", "GETNAME") == b"$5\r\nsvc-b\r\n"


def test_row_client_setinfo_ioredis_mixed_case(raw):
    assert raw.cmd_raw("client", "SETINFO", "LIB-NAME", "ioredis") == b"+OK\r\n"
    assert raw.cmd_raw("client", "SETINFO", "LIB-VER", "5.11.1") == b"+OK\r\n"


def test_row_multi_exec_redis_py_pipeline(r):
    p = r.pipeline()
    p.echo("a")
    p.echo("b")
    assert p.execute() == [b"a", b"b"]


def test_row_echo_redis_cli_pipe_magic(raw):
    # redis-cli --pipe ends with "\r\n" + ECHO <20 random bytes> and waits for them.
    magic = os.urandom(20)
    raw.send(b"PING\r\n" + b"\r\n" + encode_command(b"ECHO", magic))
    assert raw.read_reply_raw() == b"+PONG\r\n"
    assert raw.read_reply_raw() == b"$20\r\n" + magic + b"\r\n"


def test_row_config_get_redis_benchmark_probe(raw):
    # redis-benchmark sends these two at start-up.
    raw.send(encode_command("CONFIG", "GET", "save") + encode_command("CONFIG", "GET", "appendonly"))
    assert raw.read_reply_raw() == b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    assert raw.read_reply_raw() == b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"


def test_row_command_docs_redis_cli_hints(raw):
    # redis-cli's interactive start-up: COMMAND DOCS with no argument; it asserts on
    # the field types and renders "QSEND queue body [PRIORITY ...]" hints.
    docs = dict(pairs(raw.cmd("COMMAND", "DOCS")))
    assert b"qsend" in docs
    d = as_dict(docs[b"qsend"])
    assert isinstance(d["summary"], bytes) and isinstance(d["since"], bytes)
    assert d["group"] == b"queue"
    assert isinstance(d["arguments"], list) and len(d["arguments"]) >= 2
