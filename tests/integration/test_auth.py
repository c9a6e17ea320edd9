"""AUTH, NOAUTH and HELLO AUTH, with and without requirepass.

Spec: redis-surface.md §4.1 (AUTH and HELLO rows), §4.6; commands.md CONFIG SET
(requirepass changes at run time).
"""

import pytest
import redis

from respq_testlib import RespMap

NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
HELLO_NOAUTH = (b"-NOAUTH HELLO must be called with the client already authenticated, otherwise "
                b"the HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                b"select the RESP protocol version at the same time\r\n")
NO_PASSWORD_SET = (b"-ERR AUTH <password> called without any password configured for the default "
                   b"user. Are you sure your configuration is correct?\r\n")


@pytest.fixture
def secured(server):
    return server.spawn("--requirepass", "s3cret")


def test_commands_before_auth_get_noauth(secured):
    c = secured.raw()
    assert c.cmd_raw("PING") == NOAUTH
    assert c.cmd_raw("CLIENT", "ID") == NOAUTH
    assert c.cmd_raw("INFO") == NOAUTH
    assert c.cmd_raw("CONFIG", "GET", "save") == NOAUTH
    # Inline too.
    c.send(b"PING\r\n")
    assert c.read_reply_raw() == NOAUTH


def test_noauth_inside_pipeline_keeps_connection_usable(secured):
    c = secured.raw()
    c.send(b"PING\r\nAUTH s3cret\r\nPING\r\n")
    assert c.read_reply_raw() == NOAUTH
    assert c.read_reply_raw() == b"+OK\r\n"
    assert c.read_reply_raw() == b"+PONG\r\n"


def test_wrong_password(secured):
    c = secured.raw()
    assert c.cmd_raw("AUTH", "wrong") == WRONGPASS
    assert c.cmd_raw("PING") == NOAUTH


def test_auth_password(secured):
    c = secured.raw()
    assert c.cmd_raw("AUTH", "s3cret") == b"+OK\r\n"
    assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_auth_default_user_and_password(secured):
    c = secured.raw()
    assert c.cmd_raw("AUTH", "default", "s3cret") == b"+OK\r\n"
    assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_auth_default_user_wrong_password(secured):
    c = secured.raw()
    assert c.cmd_raw("AUTH", "default", "nope") == WRONGPASS
    assert c.cmd_raw("PING") == NOAUTH


def test_auth_unknown_user_is_wrongpass(secured):
    c = secured.raw()
    assert c.cmd_raw("AUTH", "alice", "s3cret") == WRONGPASS
    assert c.cmd_raw("PING") == NOAUTH


def test_auth_wrong_arity(secured):
    # redis-py's AUTH retry matches this text.
    c = secured.raw()
    assert c.cmd_raw("AUTH") == b"-ERR wrong number of arguments for 'auth' command\r\n"


def test_hello_without_auth_exact_noauth(secured):
    c = secured.raw()
    assert c.cmd_raw("HELLO", "3") == HELLO_NOAUTH
    assert c.cmd_raw("HELLO") == HELLO_NOAUTH
    # Still RESP2 and unauthenticated.
    assert c.cmd_raw("PING") == NOAUTH


def test_hello_3_auth_setname(secured):
    c = secured.raw()
    reply = c.cmd("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "x")
    assert isinstance(reply, RespMap)
    assert reply[b"proto"] == 3 and reply[b"server"] == b"respq"
    assert c.cmd_raw("CLIENT", "GETNAME") == b"$1\r\nx\r\n"
    assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_hello_auth_wrong_password_does_not_switch_protocol(secured):
    c = secured.raw()
    assert c.cmd_raw("HELLO", "3", "AUTH", "default", "bad") == WRONGPASS
    assert c.cmd_raw("PING") == NOAUTH
    assert c.cmd_raw("AUTH", "s3cret") == b"+OK\r\n"
    # Still RESP2: a missing name is $-1, not _.
    assert c.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"


def test_redis_py_with_password(secured):
    r = secured.client(password="s3cret")
    assert r.ping() is True
    r2 = secured.client(username="default", password="s3cret")
    assert r2.ping() is True


def test_redis_py_errors_map_to_its_exceptions(secured):
    # redis-py 4.3.4 maps NOAUTH to AuthenticationError; a WRONGPASS reply to its
    # AUTH at connect comes out as ResponseError (newer versions: AuthenticationError).
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):
        secured.client().ping()
    with pytest.raises((redis.AuthenticationError, redis.ResponseError), match="^WRONGPASS "):
        secured.client(password="wrong").ping()


def test_auth_without_configured_password_exact_error(raw):
    assert raw.cmd_raw("AUTH", "x") == NO_PASSWORD_SET
    # The connection stays usable.
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


def test_config_set_requirepass_takes_effect(server, raw):
    assert raw.cmd_raw("CONFIG", "SET", "requirepass", "newpass") == b"+OK\r\n"
    fresh = server.raw()
    assert fresh.cmd_raw("PING") == NOAUTH
    assert fresh.cmd_raw("AUTH", "newpass") == b"+OK\r\n"
    assert fresh.cmd_raw("PING") == b"+PONG\r\n"
    # Clearing it lets new clients in without AUTH again.
    assert fresh.cmd_raw("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
    assert server.raw().cmd_raw("PING") == b"+PONG\r\n"


def test_config_get_requirepass_reflects_set(server, raw):
    raw.cmd("CONFIG", "SET", "requirepass", "abc")
    assert raw.cmd("CONFIG", "GET", "requirepass") == [b"requirepass", b"abc"]
