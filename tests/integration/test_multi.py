"""MULTI / EXEC / DISCARD.

Spec: redis-surface.md §4.1 (MULTI row), §4.6; commands.md "Server commands"
(redis-py's default pipeline wraps commands in MULTI/EXEC).
"""

import pytest
import redis

from respq_testlib import encode_command

EXECABORT = b"-EXECABORT Transaction discarded because of previous errors.\r\n"


def test_redis_py_default_pipeline_is_transactional(r):
    p = r.pipeline()  # transaction=True by default: MULTI ... EXEC
    p.ping()
    p.echo("x")
    p.client_setname("in-tx")
    assert p.execute() == [True, b"x", True]
    assert r.client_getname() in (b"in-tx", "in-tx")


def test_multi_exec_raw_bytes(raw):
    assert raw.cmd_raw("MULTI") == b"+OK\r\n"
    assert raw.cmd_raw("PING") == b"+QUEUED\r\n"
    assert raw.cmd_raw("ECHO", "a") == b"+QUEUED\r\n"
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"+QUEUED\r\n"
    assert raw.cmd_raw("EXEC") == b"*3\r\n+PONG\r\n$1\r\na\r\n$-1\r\n"


def test_multi_exec_pipelined_in_one_write(raw):
    raw.send(encode_command("MULTI") + encode_command("ECHO", "1") + encode_command("ECHO", "2")
             + encode_command("EXEC") + encode_command("PING"))
    assert raw.read_reply_raw() == b"+OK\r\n"
    assert raw.read_reply_raw() == b"+QUEUED\r\n"
    assert raw.read_reply_raw() == b"+QUEUED\r\n"
    assert raw.read_reply_raw() == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert raw.read_reply_raw() == b"+PONG\r\n"


def test_empty_transaction(raw):
    assert raw.cmd_raw("MULTI") == b"+OK\r\n"
    assert raw.cmd_raw("EXEC") == b"*0\r\n"


def test_queued_commands_run_only_at_exec(raw):
    raw.cmd("MULTI")
    assert raw.cmd_raw("CLIENT", "SETNAME", "later") == b"+QUEUED\r\n"
    raw.cmd("EXEC")
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$5\r\nlater\r\n"


def test_exec_in_resp3_uses_resp3_types(raw):
    raw.cmd("HELLO", "3")
    raw.cmd("MULTI")
    raw.cmd("CLIENT", "GETNAME")
    raw.cmd("CONFIG", "GET", "appendonly")
    assert raw.cmd_raw("EXEC") == b"*2\r\n_\r\n%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"


def test_execabort_after_unknown_command(raw):
    raw.cmd("MULTI")
    assert raw.cmd_raw("NOSUCHCMD", "a") == \
        b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' \r\n"
    assert raw.cmd_raw("CLIENT", "SETNAME", "never") == b"+QUEUED\r\n"
    assert raw.cmd_raw("EXEC") == EXECABORT
    # Nothing ran, and the transaction is over.
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"
    assert raw.cmd_raw("EXEC") == b"-ERR EXEC without MULTI\r\n"


def test_execabort_after_wrong_arity(raw):
    raw.cmd("MULTI")
    assert raw.cmd_raw("ECHO") == b"-ERR wrong number of arguments for 'echo' command\r\n"
    assert raw.cmd_raw("PING") == b"+QUEUED\r\n"
    assert raw.cmd_raw("EXEC") == EXECABORT


def test_redis_py_pipeline_with_unknown_command_raises(r):
    p = r.pipeline()
    p.ping()
    p.execute_command("NOSUCHCMD")
    with pytest.raises(redis.ResponseError):
        p.execute()
    assert r.ping() is True


def test_exec_without_multi(raw):
    assert raw.cmd_raw("EXEC") == b"-ERR EXEC without MULTI\r\n"


def test_discard_without_multi(raw):
    assert raw.cmd_raw("DISCARD") == b"-ERR DISCARD without MULTI\r\n"


def test_nested_multi(raw):
    assert raw.cmd_raw("MULTI") == b"+OK\r\n"
    assert raw.cmd_raw("PING") == b"+QUEUED\r\n"
    assert raw.cmd_raw("MULTI") == b"-ERR MULTI calls can not be nested\r\n"
    # The nested MULTI does not poison the transaction.
    assert raw.cmd_raw("EXEC") == b"*1\r\n+PONG\r\n"


def test_discard(raw):
    assert raw.cmd_raw("MULTI") == b"+OK\r\n"
    assert raw.cmd_raw("CLIENT", "SETNAME", "discarded") == b"+QUEUED\r\n"
    assert raw.cmd_raw("DISCARD") == b"+OK\r\n"
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"
    assert raw.cmd_raw("EXEC") == b"-ERR EXEC without MULTI\r\n"


def test_lowercase_multi_as_ioredis_sends(raw):
    assert raw.cmd_raw("multi") == b"+OK\r\n"
    assert raw.cmd_raw("ping") == b"+QUEUED\r\n"
    assert raw.cmd_raw("exec") == b"*1\r\n+PONG\r\n"


def test_transaction_is_per_connection(server):
    a, b = server.raw(), server.raw()
    a.cmd("MULTI")
    assert b.cmd_raw("PING") == b"+PONG\r\n"
    assert b.cmd_raw("EXEC") == b"-ERR EXEC without MULTI\r\n"
    assert a.cmd_raw("EXEC") == b"*0\r\n"
