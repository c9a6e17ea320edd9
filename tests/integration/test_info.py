"""INFO: sections, fields clients read, format.

Spec: redis-surface.md §4.1 (INFO row); commands.md "Server commands" (sections,
respq_* fields) and "Rules that settle the corner cases" (# Queues fields,
commandstats not in plain INFO).
"""

import re
import time

import pytest

DEFAULT_SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication",
                    "Queues", "Keyspace"]
QUEUE_FIELDS = ["respq_queues", "respq_messages_ready", "respq_messages_inflight",
                "respq_messages_delayed", "respq_messages_blocked", "respq_sent_total",
                "respq_received_total", "respq_deleted_total", "respq_expired_total",
                "respq_deadlettered_total", "respq_blocked_receivers"]
# Field names that redis-cli and client libraries look for with strstr/regex.
REDIS_FIELDS = ["redis_version", "redis_mode", "loading", "connected_clients", "blocked_clients",
                "used_memory", "total_connections_received", "total_commands_processed",
                "bgsave_in_progress", "aof_rewrite_in_progress", "role", "cluster_enabled"]


def parse_info(text):
    """INFO text -> {section title: {field: value}}, checking the format as it goes."""
    if isinstance(text, bytes):
        text = text.decode()
    assert "\n" not in text.replace("\r\n", ""), "a line ends without \\r"
    sections = {}
    current = None
    lines = text.split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines):
        if line.startswith("# "):
            current = line[2:]
            assert current not in sections, "section %s twice" % current
            if sections:
                assert lines[i - 1] == "", "no blank line before # %s" % current
            sections[current] = {}
        elif line == "":
            assert i + 1 < len(lines) and lines[i + 1].startswith("# "), \
                "blank line not followed by a section header (line %d)" % i
        else:
            assert current is not None, "field before any section: %r" % line
            m = re.match(r"^([A-Za-z0-9_|.\-]+):(.*)$", line)
            assert m, "not a field:value line: %r" % line
            assert m.group(1) not in sections[current], "field %s twice" % m.group(1)
            sections[current][m.group(1)] = m.group(2)
    return sections


def flat(sections):
    out = {}
    for fields in sections.values():
        out.update(fields)
    return out


def test_plain_info_sections_and_format(raw):
    reply = raw.cmd_raw("INFO")
    assert reply.startswith(b"$")
    sections = parse_info(raw.cmd("INFO"))
    for s in DEFAULT_SECTIONS:
        assert s in sections, s
    assert "Commandstats" not in sections
    assert list(sections)[0] == "Server"


def test_info_fields_clients_read(raw):
    s = parse_info(raw.cmd("INFO"))
    f = flat(s)
    assert s["Server"]["redis_version"] == "7.0.0"
    assert s["Server"]["redis_mode"] == "standalone"
    assert s["Persistence"]["loading"] == "0"
    assert s["Replication"]["role"] == "master"
    assert f["cluster_enabled"] == "0"
    assert int(s["Clients"]["connected_clients"]) >= 1
    assert int(s["Clients"]["blocked_clients"]) == 0
    assert int(s["Memory"]["used_memory"]) > 0
    assert int(s["Stats"]["total_connections_received"]) >= 1
    assert int(s["Stats"]["total_commands_processed"]) >= 0
    assert s["Persistence"].get("rdb_bgsave_in_progress", s["Persistence"].get("bgsave_in_progress")) == "0"
    assert s["Persistence"]["aof_rewrite_in_progress"] == "0"


def test_respq_version_field(raw):
    f = flat(parse_info(raw.cmd("INFO")))
    assert re.fullmatch(r"\d+\.\d+\.\d+", f["respq_version"])


def test_own_fields_are_prefixed_and_never_contain_redis_field_names(raw):
    f = flat(parse_info(raw.cmd("INFO", "everything")))
    for name in f:
        if name.startswith("respq_"):
            for rf in REDIS_FIELDS:
                assert rf not in name, (name, rf)


@pytest.mark.parametrize("section,title", [
    ("server", "Server"), ("clients", "Clients"), ("memory", "Memory"),
    ("persistence", "Persistence"), ("stats", "Stats"), ("replication", "Replication"),
    ("queues", "Queues"), ("commandstats", "Commandstats"), ("keyspace", "Keyspace"),
])
def test_each_section_alone(raw, section, title):
    raw.cmd("PING")  # so that commandstats is not empty
    text = raw.cmd("INFO", section)
    sections = parse_info(text)
    assert list(sections) == [title]
    assert text.startswith(("# %s\r\n" % title).encode())


def test_section_name_case_insensitive(raw):
    assert list(parse_info(raw.cmd("INFO", "SERVER"))) == ["Server"]
    assert list(parse_info(raw.cmd("info", "Clients"))) == ["Clients"]


def test_unknown_section_is_empty_bulk(raw):
    assert raw.cmd_raw("INFO", "nosuchsection") == b"$0\r\n\r\n"


def test_info_everything_and_all_include_commandstats(raw):
    raw.cmd("PING")
    for arg in ("everything", "all"):
        sections = parse_info(raw.cmd("INFO", arg))
        assert "Commandstats" in sections and "Queues" in sections and "Server" in sections


def test_queues_section_fields(raw):
    q = parse_info(raw.cmd("INFO", "queues"))["Queues"]
    assert list(q) == QUEUE_FIELDS
    assert all(v == "0" for v in q.values()), q


def test_queues_section_in_plain_info(raw):
    q = parse_info(raw.cmd("INFO"))["Queues"]
    assert set(QUEUE_FIELDS) <= set(q)


def test_connected_clients_counts_connections(server):
    conns = [server.raw() for _ in range(3)]
    for c in conns:
        c.cmd("PING")
    # The start-up probe's connection may still be closing: allow it to go.
    deadline = time.monotonic() + 5
    while True:
        n = int(parse_info(conns[0].cmd("INFO", "clients"))["Clients"]["connected_clients"])
        if n == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert n == 3
    conns[2].close()
    deadline = time.monotonic() + 5
    while True:
        n = int(parse_info(conns[0].cmd("INFO", "clients"))["Clients"]["connected_clients"])
        if n == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert n == 2


def test_total_counters_increase(server, raw):
    before = parse_info(raw.cmd("INFO", "stats"))["Stats"]
    for _ in range(10):
        raw.cmd("PING")
    server.raw().cmd("PING")
    after = parse_info(raw.cmd("INFO", "stats"))["Stats"]
    assert int(after["total_commands_processed"]) - int(before["total_commands_processed"]) >= 11
    assert int(after["total_connections_received"]) - int(before["total_connections_received"]) == 1


def test_commandstats_counts_calls(raw):
    for _ in range(3):
        raw.cmd("PING")
    raw.cmd("CLIENT", "ID")
    cs = parse_info(raw.cmd("INFO", "commandstats"))["Commandstats"]
    ping = dict(kv.split("=", 1) for kv in cs["cmdstat_ping"].split(","))
    assert ping["calls"] == "3"
    assert {"usec", "usec_per_call", "rejected_calls", "failed_calls"} <= set(ping)
    assert "cmdstat_client|id" in cs


def test_info_ending_and_blank_lines(raw):
    text = raw.cmd("INFO")
    assert text.endswith(b"\r\n")
    assert b"\r\n\r\n\r\n" not in text
    assert text.count(b"\r\n\r\n# ") == text.count(b"# ") - 1


def test_keyspace_reflects_no_keys_on_empty_server(raw):
    ks = parse_info(raw.cmd("INFO", "keyspace"))["Keyspace"]
    for k, v in ks.items():
        assert re.fullmatch(r"db\d+", k) and v.startswith("keys=")
