"""Wire protocol: request formats, pipelining, malformed frames and input limits.

Spec: commands.md "Wire protocol" and "Rules that settle the corner cases";
redis-surface.md §4.0. Malformed frames follow Redis exactly, so the protocol
error texts are Redis 7.0's.
"""

import os
import threading

import pytest

from respq_testlib import encode_command


# ---- Request formats ----

def test_multibulk_ping(raw):
    raw.send(b"*1\r\n$4\r\nPING\r\n")
    assert raw.read_reply_raw() == b"+PONG\r\n"


def test_ping_with_argument_is_bulk(raw):
    assert raw.cmd_raw("PING", "hello") == b"$5\r\nhello\r\n"


def test_inline_ping(raw):
    raw.send(b"PING\r\n")
    assert raw.read_reply_raw() == b"+PONG\r\n"


def test_inline_lf_only_line_is_accepted(raw):
    # Redis accepts an inline line ended by \n alone (netcat, some scripts).
    raw.send(b"PING\n")
    assert raw.read_reply_raw() == b"+PONG\r\n"


def test_inline_echo_double_quotes(raw):
    raw.send(b'ECHO "hello world"\r\n')
    assert raw.read_reply_raw() == b"$11\r\nhello world\r\n"


def test_inline_echo_single_quotes(raw):
    raw.send(b"ECHO 'a \"b\" c'\r\n")
    assert raw.read_reply_raw() == b'$7\r\na "b" c\r\n'


def test_inline_echo_escapes_in_double_quotes(raw):
    raw.send(b'ECHO "x\\x41\\ny\\"z"\r\n')
    assert raw.read_reply_raw() == b'$6\r\nxA\ny"z\r\n'


def test_inline_empty_quoted_argument(raw):
    raw.send(b'ECHO ""\r\n')
    assert raw.read_reply_raw() == b"$0\r\n\r\n"


def test_inline_extra_spaces_between_arguments(raw):
    raw.send(b"  ECHO    hi   \r\n")
    assert raw.read_reply_raw() == b"$2\r\nhi\r\n"


def test_bare_crlf_is_ignored_without_reply(raw):
    raw.send(b"\r\n\r\n\r\nPING\r\n\r\n")
    assert raw.read_reply_raw() == b"+PONG\r\n"
    assert raw.nothing_pending(0.3)


def test_bare_crlf_before_multibulk_as_redis_cli_pipe_sends(raw):
    raw.send(b"\r\n*2\r\n$4\r\nECHO\r\n$3\r\nend\r\n")
    assert raw.read_reply_raw() == b"$3\r\nend\r\n"
    assert raw.nothing_pending(0.3)


def test_empty_and_negative_multibulk_counts_are_ignored(raw):
    raw.send(b"*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n")
    assert raw.read_reply_raw() == b"+PONG\r\n"
    assert raw.nothing_pending(0.3)


def test_command_fed_byte_by_byte(raw):
    for b in encode_command("ECHO", "slow") + b"PING\r\n":
        raw.send(bytes([b]))
    assert raw.read_reply_raw() == b"$4\r\nslow\r\n"
    assert raw.read_reply_raw() == b"+PONG\r\n"


def test_binary_safe_bulk(raw):
    payload = bytes(range(256)) + b"\r\n\x00end"
    assert raw.cmd_raw(b"ECHO", payload) == b"$%d\r\n%s\r\n" % (len(payload), payload)


def test_binary_echo_20_random_bytes_like_redis_cli_pipe(raw):
    magic = os.urandom(20)
    assert raw.cmd("ECHO", magic) == magic


def test_empty_bulk_argument(raw):
    assert raw.cmd_raw("ECHO", b"") == b"$0\r\n\r\n"


@pytest.mark.parametrize("name", ["ping", "Ping", "pInG"])
def test_command_names_case_insensitive(raw, name):
    assert raw.cmd_raw(name) == b"+PONG\r\n"


def test_subcommand_names_case_insensitive(raw):
    assert raw.cmd_raw("client", "SETNAME", "a") == b"+OK\r\n"
    assert raw.cmd_raw("Client", "getname") == b"$1\r\na\r\n"
    assert raw.cmd_raw("config", "GET", "appendonly") == b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"


# ---- Pipelining ----

N_PIPELINE = 10000


def test_redis_py_pipeline_of_10000_commands(r):
    p = r.pipeline(transaction=False)
    for i in range(N_PIPELINE):
        p.echo("m%d" % i)
    res = p.execute()
    assert res == [b"m%d" % i for i in range(N_PIPELINE)]


def _send_in_thread(conn, data):
    errors = []

    def run():
        try:
            conn.send(data)
        except OSError as e:  # reported by the reader's assertion
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


def test_raw_pipeline_of_10000_multibulk_commands(raw):
    data = b"".join(encode_command("ECHO", str(i)) for i in range(N_PIPELINE))
    expected = b"".join(b"$%d\r\n%d\r\n" % (len(str(i)), i) for i in range(N_PIPELINE))
    t, errors = _send_in_thread(raw, data)
    got = raw.read_exact(len(expected), timeout=30)
    t.join(10)
    assert not errors
    assert got == expected
    assert raw.nothing_pending(0.2)


def test_raw_pipeline_of_10000_inline_pings(raw):
    t, errors = _send_in_thread(raw, b"PING\r\n" * N_PIPELINE)
    got = raw.read_exact(len(b"+PONG\r\n") * N_PIPELINE, timeout=30)
    t.join(10)
    assert not errors
    assert got == b"+PONG\r\n" * N_PIPELINE


def test_pipeline_mixing_inline_multibulk_and_errors_keeps_order(raw):
    raw.send(b"PING\r\n" + encode_command("ECHO", "a") + b"NOSUCH x\r\n"
             + encode_command("ECHO") + b"ECHO b\r\n")
    assert raw.read_reply_raw() == b"+PONG\r\n"
    assert raw.read_reply_raw() == b"$1\r\na\r\n"
    assert raw.read_reply_raw() == b"-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"
    assert raw.read_reply_raw() == b"-ERR wrong number of arguments for 'echo' command\r\n"
    assert raw.read_reply_raw() == b"$1\r\nb\r\n"


def test_pipeline_split_at_every_offset(raw):
    data = encode_command("ECHO", "abc") + b"PING\r\n" + encode_command("PING")
    for cut in range(1, len(data)):
        raw.send(data[:cut])
        raw.send(data[cut:])
        assert raw.read_reply_raw() == b"$3\r\nabc\r\n", cut
        assert raw.read_reply_raw() == b"+PONG\r\n", cut
        assert raw.read_reply_raw() == b"+PONG\r\n", cut


# ---- Protocol errors: reply, then close only that connection ----

PROTOCOL_ERRORS = [
    ("invalid_multibulk_length", b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("multibulk_length_too_big", b"*3000000000\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("invalid_bulk_length", b"*2\r\n$4\r\nECHO\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("negative_bulk_length", b"*2\r\n$4\r\nECHO\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    ("expected_dollar", b"*1\r\nPING\r\n", b"-ERR Protocol error: expected '$', got 'P'\r\n"),
    ("unbalanced_quotes", b'ECHO "abc\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ("unbalanced_single_quotes", b"ECHO 'abc\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
]


@pytest.mark.parametrize("bad,expected", [p[1:] for p in PROTOCOL_ERRORS],
                         ids=[p[0] for p in PROTOCOL_ERRORS])
def test_protocol_error_replies_and_closes_only_that_connection(server, bad, expected):
    other = server.raw()
    assert other.cmd_raw("PING") == b"+PONG\r\n"
    bad_conn = server.raw()
    bad_conn.send(b"PING\r\n" + bad + b"PING\r\n")
    # The command before the bad frame is answered, then the error, then a close.
    assert bad_conn.read_all_until_close() == b"+PONG\r\n" + expected
    # Other connections, old and new, keep working.
    assert other.cmd_raw("ECHO", "still") == b"$5\r\nstill\r\n"
    assert server.raw().cmd_raw("PING") == b"+PONG\r\n"


def test_bulk_longer_than_proto_max_bulk_len_is_a_protocol_error(server):
    srv = server.spawn("--proto-max-bulk-len", "1048576")
    c = srv.raw()
    c.send(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n")
    assert c.read_all_until_close() == b"-ERR Protocol error: invalid bulk length\r\n"
    c2 = srv.raw()
    payload = b"x" * 1048576
    assert c2.cmd("ECHO", payload) == payload


def test_large_bulk_before_auth_is_refused(server):
    # Tighter limits before AUTH (style guide; Redis 7.0 refuses a bulk over 16 KiB
    # with "-ERR Protocol error: unauthenticated bulk length").
    srv = server.spawn("--requirepass", "secret")
    c = srv.raw()
    c.send(b"*2\r\n$4\r\nAUTH\r\n$100000000\r\n")
    data = c.read_all_until_close()
    assert data.startswith(b"-ERR Protocol error: ") and data.endswith(b"bulk length\r\n"), data
    assert srv.raw().cmd_raw("AUTH", "secret") == b"+OK\r\n"


# ---- Query buffer limit ----

def _overflow_query_buffer(srv, limit):
    victim = srv.raw()
    bystander = srv.raw()
    assert bystander.cmd_raw("PING") == b"+PONG\r\n"
    # A bulk that is allowed by proto-max-bulk-len but never completes.
    victim.send(b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % (100 * 1024 * 1024))
    victim.send_until_closed(b"x" * (3 * limit), timeout=20)
    assert victim.is_closed(10), "client past client-query-buffer-limit was not closed"
    assert bystander.cmd_raw("PING") == b"+PONG\r\n"
    assert srv.raw().cmd_raw("PING") == b"+PONG\r\n"


def test_client_query_buffer_limit_closes_the_client(server):
    limit = 1048576
    srv = server.spawn("--client-query-buffer-limit", str(limit))
    _overflow_query_buffer(srv, limit)
    assert srv.running()


def test_data_under_the_query_buffer_limit_is_fine(server):
    srv = server.spawn("--client-query-buffer-limit", "4194304")
    c = srv.raw()
    payload = os.urandom(2 * 1024 * 1024)
    assert c.cmd("ECHO", payload) == payload
