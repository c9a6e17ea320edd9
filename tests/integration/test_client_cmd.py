"""CLIENT ID / SETNAME / GETNAME / SETINFO / INFO / LIST / KILL / NO-EVICT / NO-TOUCH.

Spec: redis-surface.md §4.1 (CLIENT SETNAME, SETINFO rows), §4.2 (CLIENT row), §4.6;
commands.md "Server commands".
"""

import pytest

BAD_NAME = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"


def parse_client_line(line):
    """'id=1 addr=... name= ...' -> ordered list of (field, value)."""
    assert isinstance(line, bytes)
    out = []
    for tok in line.decode().split(" "):
        k, sep, v = tok.partition("=")
        assert sep == "=", "field without '=': %r in %r" % (tok, line)
        out.append((k, v))
    return out


# ---- ID ----

def test_client_id_is_integer_and_increasing(server):
    a, b = server.raw(), server.raw()
    ida = a.cmd_raw("CLIENT", "ID")
    assert ida.startswith(b":") and ida.endswith(b"\r\n")
    ida = int(ida[1:-2])
    idb = b.cmd("CLIENT", "ID")
    assert idb > ida > 0
    assert a.cmd("CLIENT", "ID") == ida  # stable for the connection


# ---- SETNAME / GETNAME ----

def test_setname_getname(raw):
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"
    assert raw.cmd_raw("CLIENT", "SETNAME", "worker-7:a.b") == b"+OK\r\n"
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$12\r\nworker-7:a.b\r\n"


@pytest.mark.parametrize("name", [b"a b", b"a\nb", b"tab\tx", b"caf\xc3\xa9", b"\x00"],
                         ids=["space", "newline", "tab", "non_ascii", "nul"])
def test_setname_invalid_name(raw, name):
    assert raw.cmd_raw("CLIENT", "SETNAME", name) == BAD_NAME
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"


def test_setname_empty_clears_name(raw):
    raw.cmd("CLIENT", "SETNAME", "x")
    assert raw.cmd_raw("CLIENT", "SETNAME", "") == b"+OK\r\n"
    assert raw.cmd_raw("CLIENT", "GETNAME") == b"$-1\r\n"


def test_setname_wrong_arity_names_the_subcommand(raw):
    assert raw.cmd_raw("CLIENT", "SETNAME") == \
        b"-ERR wrong number of arguments for 'client|setname' command\r\n"


def test_redis_py_client_name(server):
    r = server.client(client_name="py-app")
    assert r.client_getname() == "py-app" or r.client_getname() == b"py-app"
    assert r.client_setname("other") is True


# ---- SETINFO ----

def test_setinfo_lib_name_and_ver(raw):
    assert raw.cmd_raw("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == b"+OK\r\n"
    assert raw.cmd_raw("CLIENT", "SETINFO", "lib-ver", "4.3.4") == b"+OK\r\n"
    fields = dict(parse_client_line(raw.cmd("CLIENT", "INFO").rstrip(b"\n")))
    assert fields["lib-name"] == "redis-py"
    assert fields["lib-ver"] == "4.3.4"


def test_setinfo_unknown_attribute_is_error(raw):
    reply = raw.cmd_raw("CLIENT", "SETINFO", "COLOR", "blue")
    assert reply.startswith(b"-ERR ")
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


# ---- INFO / LIST ----

def test_client_info_fields(server):
    c = server.raw()
    cid = c.cmd("CLIENT", "ID")
    c.cmd("CLIENT", "SETNAME", "me")
    reply = c.cmd_raw("CLIENT", "INFO")
    assert reply.startswith(b"$")
    info = c.cmd("CLIENT", "INFO")
    assert info.endswith(b"\n") and info.count(b"\n") == 1
    fields = parse_client_line(info[:-1])
    keys = [k for k, _ in fields]
    assert keys[:9] == ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db"]
    assert keys[-3:] == ["resp", "lib-name", "lib-ver"]
    d = dict(fields)
    assert int(d["id"]) == cid
    assert d["addr"] == c.local_addr()
    assert d["laddr"] == "127.0.0.1:%d" % server.port
    assert int(d["fd"]) >= 0
    assert d["name"] == "me"
    assert int(d["age"]) >= 0 and int(d["idle"]) >= 0
    assert d["flags"] == "N"
    assert d["db"] == "0"
    assert d["resp"] == "2"
    assert d["lib-name"] == "" and d["lib-ver"] == ""


def test_client_list_has_one_line_per_connection(server):
    conns = [server.raw() for _ in range(3)]
    ids = [c.cmd("CLIENT", "ID") for c in conns]
    conns[1].cmd("CLIENT", "SETNAME", "second")
    listing = conns[0].cmd("CLIENT", "LIST")
    assert isinstance(listing, bytes) and listing.endswith(b"\n")
    lines = listing[:-1].split(b"\n")
    parsed = [dict(parse_client_line(l)) for l in lines]
    by_id = {int(p["id"]): p for p in parsed}
    assert set(ids) <= set(by_id)
    assert by_id[ids[1]]["name"] == "second"
    assert by_id[ids[2]]["addr"] == conns[2].local_addr()
    for p in parsed:
        keys = list(p)
        assert keys[:9] == ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db"]
        assert keys[-3:] == ["resp", "lib-name", "lib-ver"]


def test_client_list_same_format_as_client_info(raw):
    info = dict(parse_client_line(raw.cmd("CLIENT", "INFO").rstrip(b"\n")))
    listing = raw.cmd("CLIENT", "LIST").rstrip(b"\n").split(b"\n")
    mine = [dict(parse_client_line(l)) for l in listing]
    mine = [m for m in mine if m["id"] == info["id"]]
    assert len(mine) == 1
    assert list(mine[0]) == list(info)


def test_cmd_field_names_the_command_running_and_stays_exec_after_a_transaction(server):
    # Redis 7 shows the command being run (found by the ioredis compat program).
    c, other = server.raw(), server.raw()
    assert dict(parse_client_line(c.cmd("CLIENT", "INFO").rstrip(b"\n")))["cmd"] == "client|info"
    c.cmd("PING")
    cid = c.cmd("CLIENT", "ID")
    listing = other.cmd("CLIENT", "LIST").rstrip(b"\n").split(b"\n")
    by_id = {int(p["id"]): p for p in (dict(parse_client_line(l)) for l in listing)}
    assert by_id[cid]["cmd"] == "client|id"
    assert dict(parse_client_line(other.cmd("CLIENT", "INFO").rstrip(b"\n")))["cmd"] == "client|info"
    c.cmd("MULTI")
    c.cmd("PING")
    assert c.cmd("EXEC") == ["PONG"]
    listing = other.cmd("CLIENT", "LIST").rstrip(b"\n").split(b"\n")
    by_id = {int(p["id"]): p for p in (dict(parse_client_line(l)) for l in listing)}
    assert by_id[cid]["cmd"] == "exec"


# ---- KILL ----

def test_client_kill_id_closes_the_other_connection(server):
    killer, victim = server.raw(), server.raw()
    vid = victim.cmd("CLIENT", "ID")
    assert killer.cmd_raw("CLIENT", "KILL", "ID", str(vid)) == b":1\r\n"
    assert victim.is_closed(5)
    ids = [l.split(b" ")[0] for l in killer.cmd("CLIENT", "LIST").rstrip(b"\n").split(b"\n")]
    assert b"id=%d" % vid not in ids
    assert killer.cmd_raw("PING") == b"+PONG\r\n"


def test_client_kill_unknown_id_is_zero(raw):
    assert raw.cmd_raw("CLIENT", "KILL", "ID", "999999") == b":0\r\n"


def test_client_kill_addr_filter(server):
    killer, victim = server.raw(), server.raw()
    victim.cmd("PING")
    assert killer.cmd_raw("CLIENT", "KILL", "ADDR", victim.local_addr()) == b":1\r\n"
    assert victim.is_closed(5)
    assert killer.cmd_raw("PING") == b"+PONG\r\n"


def test_client_kill_old_style_addr(server):
    killer, victim = server.raw(), server.raw()
    victim.cmd("PING")
    assert killer.cmd_raw("CLIENT", "KILL", victim.local_addr()) == b"+OK\r\n"
    assert victim.is_closed(5)


def test_client_kill_old_style_unknown_addr(raw):
    assert raw.cmd_raw("CLIENT", "KILL", "127.0.0.1:1") == b"-ERR No such client\r\n"


# ---- NO-EVICT / NO-TOUCH ----

@pytest.mark.parametrize("sub", ["NO-EVICT", "NO-TOUCH"])
def test_no_evict_no_touch(raw, sub):
    assert raw.cmd_raw("CLIENT", sub, "on") == b"+OK\r\n"
    assert raw.cmd_raw("CLIENT", sub, "OFF") == b"+OK\r\n"
    assert raw.cmd_raw("CLIENT", sub, "maybe").startswith(b"-ERR ")


# ---- Unknown subcommand ----

@pytest.mark.parametrize("sub", ["FOO", "bogus"])
def test_unknown_client_subcommand(raw, sub):
    # The name is echoed as sent.
    assert raw.cmd_raw("CLIENT", sub) == b"-ERR unknown subcommand '%s'. Try CLIENT HELP.\r\n" % sub.encode()
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


def test_client_maint_notifications_ok_or_exact_error(raw):
    # node-redis 6 / redis-py 8 send it and tolerate this error (§4.2).
    reply = raw.cmd_raw("CLIENT", "MAINT_NOTIFICATIONS", "ON")
    assert reply in (b"+OK\r\n",
                     b"-ERR unknown subcommand 'MAINT_NOTIFICATIONS'. Try CLIENT HELP.\r\n")
