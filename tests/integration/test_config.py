"""CONFIG GET / SET / RESETSTAT, maxclients, timeout, and the config file.

Spec: redis-surface.md §4.2 (CONFIG GET row); commands.md "Wire protocol" (limits
and their defaults) and "Rules that settle the corner cases" (what CONFIG SET may
change, and the exact refusal texts).
"""

import os
import time

import pytest

from respq_testlib import as_dict

MAXCLIENTS_REACHED = b"-ERR max number of clients reached\r\n"


# ---- CONFIG GET ----

def test_config_get_save_exact(raw):
    assert raw.cmd_raw("CONFIG", "GET", "save") == b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"


def test_config_get_appendonly_exact(raw):
    assert raw.cmd_raw("CONFIG", "GET", "appendonly") == b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"


def test_config_get_unknown_is_empty_array(raw):
    assert raw.cmd_raw("CONFIG", "GET", "no-such-parameter") == b"*0\r\n"


def test_config_get_several_parameters(raw):
    d = as_dict(raw.cmd("CONFIG", "GET", "save", "appendonly", "nosuch"))
    assert d == {"save": b"", "appendonly": b"no"}


def test_config_get_glob(server, raw):
    d = as_dict(raw.cmd("CONFIG", "GET", "max*"))
    assert "maxclients" in d and "maxmemory" in d
    assert all(k.startswith("max") for k in d)
    d = as_dict(raw.cmd("CONFIG", "GET", "*"))
    assert d["port"] == str(server.port).encode()
    assert d["appendonly"] == b"no"
    assert "requirepass" in d and "timeout" in d and "proto-max-bulk-len" in d
    d = as_dict(raw.cmd("CONFIG", "GET", "client-*-limit"))
    assert "client-query-buffer-limit" in d and "client-output-buffer-limit" in d


def test_config_get_star_has_no_duplicates(raw):
    reply = raw.cmd("CONFIG", "GET", "*")
    names = reply[::2]
    assert len(names) == len(set(names))


def test_config_get_parameter_name_is_case_insensitive(raw):
    # Redis 7.0 echoes the name as asked; either spelling of the name is fine.
    name, value = raw.cmd("CONFIG", "GET", "MAXCLIENTS")
    assert name.lower() == b"maxclients" and value == b"10000"


def test_config_get_defaults(raw):
    d = as_dict(raw.cmd("CONFIG", "GET", "maxclients", "proto-max-bulk-len",
                        "client-query-buffer-limit", "timeout"))
    assert d == {"maxclients": b"10000", "proto-max-bulk-len": b"536870912",
                 "client-query-buffer-limit": b"1073741824", "timeout": b"0"}


def test_config_get_dir_is_the_data_dir(server, raw):
    d = as_dict(raw.cmd("CONFIG", "GET", "dir"))
    assert os.path.realpath(d["dir"].decode()) == os.path.realpath(str(server.dir))


def test_command_line_settings_show_in_config_get(server):
    srv = server.spawn("--maxclients", "77", "--timeout", "300")
    d = as_dict(srv.raw().cmd("CONFIG", "GET", "maxclients", "timeout"))
    assert d == {"maxclients": b"77", "timeout": b"300"}


def test_config_file_then_command_line_overrides(server, tmp_path):
    conf = tmp_path / "respq.conf"
    conf.write_text("# a comment\nmaxclients 55\ntimeout 120\n\nloglevel warning\n")
    srv = server.spawn("--timeout", "7", config_file=conf)
    d = as_dict(srv.raw().cmd("CONFIG", "GET", "maxclients", "timeout", "loglevel"))
    assert d == {"maxclients": b"55", "timeout": b"7", "loglevel": b"warning"}


# ---- CONFIG SET ----

def test_config_set_then_get(raw):
    assert raw.cmd_raw("CONFIG", "SET", "maxclients", "50") == b"+OK\r\n"
    assert raw.cmd("CONFIG", "GET", "maxclients") == [b"maxclients", b"50"]
    assert raw.cmd_raw("CONFIG", "SET", "loglevel", "verbose") == b"+OK\r\n"
    assert raw.cmd("CONFIG", "GET", "loglevel") == [b"loglevel", b"verbose"]


@pytest.mark.parametrize("name,value", [
    ("appendfsync", "always"), ("requirepass", ""), ("maxclients", "100"),
    ("maxmemory", "104857600"), ("timeout", "0"), ("loglevel", "notice"),
    ("proto-max-bulk-len", "1048576"), ("client-query-buffer-limit", "1048576"),
    ("client-output-buffer-limit", "normal 0 0 0"),
    ("auto-aof-rewrite-percentage", "100"), ("auto-aof-rewrite-min-size", "67108864"),
])
def test_config_set_mutable_settings(raw, name, value):
    assert raw.cmd_raw("CONFIG", "SET", name, value) == b"+OK\r\n"


@pytest.mark.parametrize("name,value", [("port", "1234"), ("bind", "0.0.0.0"),
                                        ("appendonly", "yes"), ("dir", "/tmp")])
def test_config_set_immutable(raw, name, value):
    expected = (b"-ERR CONFIG SET failed (possibly related to argument '%s') - can't set immutable config\r\n"
                % name.encode())
    assert raw.cmd_raw("CONFIG", "SET", name, value) == expected
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


def test_config_set_unknown(raw):
    assert raw.cmd_raw("CONFIG", "SET", "no-such-option", "1") == \
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'no-such-option'\r\n"


def test_config_set_bad_value_changes_nothing(raw):
    reply = raw.cmd_raw("CONFIG", "SET", "maxclients", "lots")
    assert reply.startswith(b"-ERR CONFIG SET failed (possibly related to argument 'maxclients')")
    assert raw.cmd("CONFIG", "GET", "maxclients") == [b"maxclients", b"10000"]


def test_unknown_config_subcommand(raw):
    assert raw.cmd_raw("CONFIG", "FROB") == b"-ERR unknown subcommand 'FROB'. Try CONFIG HELP.\r\n"


def test_config_resetstat(raw):
    for _ in range(5):
        raw.cmd("PING")
    assert raw.cmd_raw("CONFIG", "RESETSTAT") == b"+OK\r\n"
    stats = raw.cmd("INFO", "stats").decode()
    fields = dict(l.split(":", 1) for l in stats.split("\r\n") if ":" in l)
    assert int(fields["total_commands_processed"]) <= 2
    cs = raw.cmd("INFO", "commandstats").decode()
    assert "cmdstat_ping:calls=5" not in cs


# ---- maxclients ----

def accepted(srv, timeout=5.0):
    """A connection that got past maxclients. The start-up probe's connection may
    not be closed on the server's side yet, so a refusal is retried until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        c = srv.raw()
        reply = c.cmd_raw("PING")
        if reply == b"+PONG\r\n":
            return c
        assert reply == MAXCLIENTS_REACHED, reply
        c.close()
        assert time.monotonic() < deadline, "no connection accepted"
        time.sleep(0.05)


def test_maxclients_from_command_line(server):
    srv = server.spawn("--maxclients", "2")
    a = accepted(srv)
    b = accepted(srv)
    c = srv.raw()
    # Refused at connect: the error comes without any command, then a close.
    assert c.read_all_until_close() == MAXCLIENTS_REACHED
    assert a.cmd_raw("PING") == b"+PONG\r\n"
    # A slot freed is usable again.
    b.close()
    accepted(srv)


def test_config_set_maxclients_is_enforced(server, raw):
    assert raw.cmd_raw("CONFIG", "SET", "maxclients", "2") == b"+OK\r\n"
    second = accepted(server)  # keep a reference: a collected RawConn closes
    third = server.raw()
    assert third.read_all_until_close() == MAXCLIENTS_REACHED
    assert second.cmd_raw("PING") == b"+PONG\r\n"
    assert raw.cmd_raw("CONFIG", "SET", "maxclients", "10") == b"+OK\r\n"
    assert server.raw().cmd_raw("PING") == b"+PONG\r\n"


# ---- timeout ----

def test_config_set_timeout_closes_idle_clients(server, raw):
    assert raw.cmd_raw("CONFIG", "SET", "timeout", "1") == b"+OK\r\n"
    idle = server.raw()
    assert idle.cmd_raw("PING") == b"+PONG\r\n"
    assert idle.is_closed(10), "idle client was not closed with timeout 1"
    assert server.raw().cmd_raw("PING") == b"+PONG\r\n"


# ---- client-query-buffer-limit at run time ----

def test_config_set_client_query_buffer_limit(server, raw):
    assert raw.cmd_raw("CONFIG", "SET", "client-query-buffer-limit", "1048576") == b"+OK\r\n"
    victim = server.raw()
    victim.send(b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % (100 * 1024 * 1024))
    victim.send_until_closed(b"y" * (3 * 1048576), timeout=20)
    assert victim.is_closed(10)
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


def test_config_set_proto_max_bulk_len(server, raw):
    assert raw.cmd_raw("CONFIG", "SET", "proto-max-bulk-len", "1048576") == b"+OK\r\n"
    c = server.raw()
    c.send(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n")
    assert c.read_all_until_close() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert raw.cmd_raw("PING") == b"+PONG\r\n"
