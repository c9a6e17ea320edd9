"""redis-surface.md §4.6, line by line: each error string Redis 7.0.15 sends, which
client libraries match on, byte for byte. (Most are also checked in context in the
other files; this is the checklist.)
"""

import pytest

# (id, server args, commands sent before, the command, exact reply)
CASES = [
    ("unknown_command_with_args", [], [], ["QSEND_X", "q", "hi"],
     b"-ERR unknown command 'QSEND_X', with args beginning with: 'q' 'hi' \r\n"),
    ("unknown_command_no_args", [], [], ["INFOX"],
     b"-ERR unknown command 'INFOX', with args beginning with: \r\n"),
    ("unknown_subcommand", [], [], ["CLIENT", "NOSUCHSUB"],
     b"-ERR unknown subcommand 'NOSUCHSUB'. Try CLIENT HELP.\r\n"),
    ("wrong_arity_lowercase_name", [], [], ["ECHO"],
     b"-ERR wrong number of arguments for 'echo' command\r\n"),
    ("noproto", [], [], ["HELLO", "4"], b"-NOPROTO unsupported protocol version\r\n"),
    ("noauth", ["--requirepass", "pw"], [], ["PING"], b"-NOAUTH Authentication required.\r\n"),
    ("wrongpass", ["--requirepass", "pw"], [], ["AUTH", "bad"],
     b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
    ("auth_without_password", [], [], ["AUTH", "x"],
     b"-ERR AUTH <password> called without any password configured for the default user. "
     b"Are you sure your configuration is correct?\r\n"),
    ("db_index_out_of_range", [], [], ["SELECT", "1"], b"-ERR DB index is out of range\r\n"),
    ("not_an_integer", [], [], ["SELECT", "x"], b"-ERR value is not an integer or out of range\r\n"),
    ("bad_client_name", [], [], ["CLIENT", "SETNAME", "a b"],
     b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"),
    ("exec_without_multi", [], [], ["EXEC"], b"-ERR EXEC without MULTI\r\n"),
    ("nested_multi", [], [["MULTI"]], ["MULTI"], b"-ERR MULTI calls can not be nested\r\n"),
    ("execabort", [], [["MULTI"], ["NOSUCHCMD"]], ["EXEC"],
     b"-EXECABORT Transaction discarded because of previous errors.\r\n"),
    ("cluster_disabled", [], [], ["CLUSTER", "SLOTS"],
     b"-ERR This instance has cluster support disabled\r\n"),
    ("readonly_cluster_disabled", [], [], ["READONLY"],
     b"-ERR This instance has cluster support disabled\r\n"),
]


@pytest.mark.parametrize("args,before,command,expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_error_text(server, args, before, command, expected):
    srv = server.spawn(*args) if args else server
    c = srv.raw()
    for b in before:
        c.cmd(*b)
    assert c.cmd_raw(*command) == expected
    # Only protocol errors close the connection.
    assert c.cmd_raw("ECHO", "alive") in (b"$5\r\nalive\r\n", b"+QUEUED\r\n",
                                          b"-NOAUTH Authentication required.\r\n")


def test_protocol_error_text_and_close(raw):
    raw.send(b"*x\r\n")
    assert raw.read_all_until_close() == b"-ERR Protocol error: invalid multibulk length\r\n"
