"""PING, ECHO, SELECT, QUIT, RESET, ROLE, TIME, DBSIZE, FLUSHALL, SHUTDOWN, CLUSTER,
READONLY, BGREWRITEAOF, unknown commands, SIGTERM and the unix socket.

Spec: redis-surface.md §4.1, §4.2, §4.6; commands.md "Server commands" and "Rules
that settle the corner cases" (appendonly no, SHUTDOWN and SIGTERM exit 0).
"""

import time

import pytest

from respq_testlib import RawConn

UNKNOWN = b"-ERR unknown command '%s', with args beginning with: %s\r\n"
CLUSTER_DISABLED = b"-ERR This instance has cluster support disabled\r\n"


# ---- PING / ECHO ----

def test_ping(raw):
    assert raw.cmd_raw("PING") == b"+PONG\r\n"
    assert raw.cmd_raw("PING", "hello") == b"$5\r\nhello\r\n"


def test_ping_wrong_arity(raw):
    assert raw.cmd_raw("PING", "a", "b") == b"-ERR wrong number of arguments for 'ping' command\r\n"


def test_echo(raw):
    assert raw.cmd_raw("ECHO", "hello") == b"$5\r\nhello\r\n"


@pytest.mark.parametrize("args", [[], ["a", "b"]], ids=["no_arg", "two_args"])
def test_echo_wrong_arity_exact(raw, args):
    assert raw.cmd_raw("ECHO", *args) == b"-ERR wrong number of arguments for 'echo' command\r\n"
    # Lower-case name even when sent in capitals; the connection stays usable.
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


# ---- Unknown commands ----

def test_unknown_command_with_args_exact(raw):
    assert raw.cmd_raw("QFOO", "q", "hi") == UNKNOWN % (b"QFOO", b"'q' 'hi' ")


def test_unknown_command_without_args_exact(raw):
    assert raw.cmd_raw("FOOBAR") == UNKNOWN % (b"FOOBAR", b"")


def test_unknown_command_name_echoed_as_sent(raw):
    assert raw.cmd_raw("fooBar", "x") == UNKNOWN % (b"fooBar", b"'x' ")


def test_unknown_inline_command(raw):
    raw.send(b"NOPE a b\r\n")
    assert raw.read_reply_raw() == UNKNOWN % (b"NOPE", b"'a' 'b' ")


def test_unknown_command_keeps_connection(raw):
    raw.cmd("NOPE")
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


# ---- SELECT ----

def test_select_0(raw):
    assert raw.cmd_raw("SELECT", "0") == b"+OK\r\n"


@pytest.mark.parametrize("n", ["1", "2", "15", "-1"])
def test_select_other_db_out_of_range(raw, n):
    assert raw.cmd_raw("SELECT", n) == b"-ERR DB index is out of range\r\n"


@pytest.mark.parametrize("n", ["abc", "1.5", ""])
def test_select_not_an_integer(raw, n):
    assert raw.cmd_raw("SELECT", n) == b"-ERR value is not an integer or out of range\r\n"


def test_redis_py_db_0(server):
    assert server.client(db=0).ping() is True


# ---- QUIT ----

def test_quit(raw):
    assert raw.cmd_raw("QUIT") == b"+OK\r\n"
    assert raw.read_all_until_close() == b""


def test_quit_in_pipeline_ignores_later_commands(raw):
    raw.send(b"PING\r\nQUIT\r\nPING\r\n")
    assert raw.read_all_until_close() == b"+PONG\r\n+OK\r\n"


def test_quit_keeps_server_running(server, raw):
    raw.cmd("QUIT")
    assert server.raw().cmd_raw("PING") == b"+PONG\r\n"


# ---- RESET ----

def test_reset_returns_to_defaults(raw):
    raw.cmd("HELLO", "3", "SETNAME", "named")
    raw.cmd("MULTI")
    assert raw.cmd_raw("RESET") == b"+RESET\r\n"
    # Not in MULTI any more, RESP2 again, no name.
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"
    assert raw.cmd_raw("EXEC") == b"-ERR EXEC without MULTI\r\n"
    fields = dict(kv.split(b"=", 1) for kv in raw.cmd("CLIENT", "INFO").rstrip(b"\n").split(b" "))
    assert fields[b"resp"] == b"2" and fields[b"name"] == b""


def test_reset_on_fresh_connection(raw):
    assert raw.cmd_raw("RESET") == b"+RESET\r\n"
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


# ---- ROLE / TIME / DBSIZE / FLUSHALL ----

def test_role_exact(raw):
    assert raw.cmd_raw("ROLE") == b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"


def test_time(raw):
    reply = raw.cmd("TIME")
    assert isinstance(reply, list) and len(reply) == 2
    assert all(isinstance(x, bytes) and x.isdigit() for x in reply)
    sec, usec = int(reply[0]), int(reply[1])
    assert abs(sec - time.time()) < 60
    assert 0 <= usec < 1000000


def test_dbsize_empty(raw):
    assert raw.cmd_raw("DBSIZE") == b":0\r\n"


def test_flushall(raw):
    assert raw.cmd_raw("FLUSHALL") == b"+OK\r\n"
    assert raw.cmd_raw("DBSIZE") == b":0\r\n"


# ---- CLUSTER / READONLY ----

@pytest.mark.parametrize("args", [["CLUSTER", "SLOTS"], ["CLUSTER", "INFO"], ["cluster", "SLOTS"],
                                  ["CLUSTER", "NODES"], ["CLUSTER", "SHARDS"], ["READONLY"]])
def test_cluster_support_disabled(raw, args):
    assert raw.cmd_raw(*args) == CLUSTER_DISABLED


# ---- BGREWRITEAOF with appendonly no ----

def test_bgrewriteaof_with_appendonly_off_is_error(raw):
    reply = raw.cmd_raw("BGREWRITEAOF")
    assert reply.startswith(b"-ERR ")
    assert b"append" in reply.lower()


# ---- SHUTDOWN / SIGTERM ----

@pytest.mark.parametrize("args", [["SHUTDOWN"], ["SHUTDOWN", "NOSAVE"], ["shutdown", "save"]])
def test_shutdown_exits_zero(server, args):
    srv = server.spawn()
    c = srv.raw()
    c.send_cmd(*args)
    data = c.read_all_until_close(10)
    # Redis sends no reply to a successful SHUTDOWN.
    assert data == b"" or data.startswith(b"+OK"), data
    assert srv.wait_exit(10) == 0
    assert srv.problems() == []


def test_sigterm_with_clients_connected_exits_zero(server):
    srv = server.spawn()
    conns = [srv.raw() for _ in range(3)]
    conns[0].send(b"*2\r\n$4\r\nECHO\r\n$10\r\nunfin")  # an unfinished command
    conns[1].cmd("MULTI")
    assert srv.stop() == 0
    assert srv.problems() == []
    for c in conns:
        assert c.is_closed(5)


# ---- unix socket ----

def test_unix_socket(server, tmp_path):
    path = str(tmp_path / "respq.sock")
    srv = server.spawn("--unixsocket", path)
    c = RawConn(unix_path=path)
    assert c.cmd_raw("PING") == b"+PONG\r\n"
    assert c.cmd_raw("ECHO", "over unix") == b"$9\r\nover unix\r\n"
    assert srv.raw().cmd_raw("PING") == b"+PONG\r\n"
