"""respq-benchmark (src/tools/respq-benchmark.c) against a real respq server:
every workload runs to the end, its RESULT line matches what the server holds
afterwards, and the exactly-once check fails the run (exit 1) when messages are
missing or the server refuses requests. Bad options exit 2 naming the option.

Only respq is driven here: redis-server and beanstalkd are benchmark-only
dependencies (tests/bench/compare.sh runs the other targets).
"""

import re
import subprocess

from respq_testlib import REPO

BENCH = str(REPO / "src" / "respq-benchmark")


def bench(server, *args, timeout=120):
    p = subprocess.run([BENCH, "-p", str(server.port), "--quiet", *args],
                       capture_output=True, text=True, timeout=timeout)
    result = {}
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            result = dict(kv.split("=", 1) for kv in line.split()[1:])
    return p.returncode, result, p.stdout + p.stderr


def test_send_then_recv_moves_every_message_once(server):
    c = server.raw()
    rc, res, out = bench(server, "-n", "3000", "-c", "10", "-P", "8", "-d", "200", "--prefix", "t")
    assert rc == 0, out
    assert res["workload"] == "send" and res["messages"] == "3000" and res["errors"] == "0"
    assert c.cmd("QLEN", "t.0") == 3000
    rc, res, out = bench(server, "-w", "recv", "-n", "3000", "-c", "10", "-P", "4", "-C", "7",
                         "--prefix", "t")
    assert rc == 0, out
    assert res["messages"] == "3000" and res["duplicates"] == "0" and res["missing"] == "0"
    assert "3000 unique, 0 duplicates, 0 missing" in out
    info = dict(zip(*[iter(c.cmd("QINFO", "t.0"))] * 2))
    assert info[b"ready"] == 0 and info[b"inflight"] == 0 and info[b"deleted_total"] == 3000


def test_bodies_have_the_size_asked_and_carry_their_sequence(server):
    c = server.raw()
    rc, _, out = bench(server, "-n", "5", "-c", "1", "-d", "120", "--prefix", "b")
    assert rc == 0, out
    peeked = c.cmd("QPEEK", "b.0", "COUNT", "5")
    assert [len(m[1]) for m in peeked] == [120] * 5
    # "<run id>:<seq>:<send time>:" then padding; one run id for the run.
    fields = [m[1].split(b":") for m in peeked]
    assert [int(f[1]) for f in fields] == [0, 1, 2, 3, 4]
    assert len({f[0] for f in fields}) == 1


def test_several_queues_are_filled_and_drained(server):
    c = server.raw()
    rc, _, out = bench(server, "-n", "2000", "-c", "6", "-q", "3", "-P", "4", "--prefix", "m")
    assert rc == 0, out
    lens = [c.cmd("QLEN", "m.%d" % i) for i in range(3)]
    assert sum(lens) == 2000 and all(n > 0 for n in lens)
    rc, res, out = bench(server, "-w", "recv", "-n", "2000", "-c", "4", "-q", "3", "-P", "2",
                         "-C", "10", "--prefix", "m")
    assert rc == 0 and res["missing"] == "0", out
    assert [c.cmd("QLEN", "m.%d" % i) for i in range(3)] == [0, 0, 0]


def test_recv_reports_missing_messages_and_fails(server):
    rc, _, out = bench(server, "-n", "100", "-c", "2", "--prefix", "s")
    assert rc == 0, out
    rc, res, out = bench(server, "-w", "recv", "-n", "150", "-c", "2", "--prefix", "s")
    assert rc == 1, out
    assert res["missing"] == "50" and res["messages"] == "100"


def test_recv_counts_duplicates(server):
    # The same messages sent twice (two send runs number from 0 each time).
    for _ in range(2):
        assert bench(server, "-n", "50", "-c", "1", "--prefix", "d")[0] == 0
    rc, res, out = bench(server, "-w", "recv", "-n", "50", "-c", "1", "-C", "10", "--prefix", "d")
    assert rc == 1, out
    assert res["duplicates"] == "50" and res["missing"] == "0"


def test_refused_sends_fail_the_run_and_name_the_error(server):
    c = server.raw()
    assert c.cmd("QCREATE", "f.0", "MAXDEPTH", "10") == "OK"  # the tool's QCREATE meets EXISTS
    rc, res, out = bench(server, "-n", "25", "-c", "1", "--prefix", "f")
    assert rc == 1, out
    assert res["errors"] == "15"
    assert "first: send: FULL" in out
    assert c.cmd("QLEN", "f.0") == 10


def test_mixed_delivers_everything_sent(server):
    rc, res, out = bench(server, "-w", "mixed", "-T", "1", "-c", "6", "-P", "4", "-C", "5",
                         "--prefix", "x")
    assert rc == 0, out
    m = re.search(r"sent (\d+) in .* received (\d+) in", out)
    assert m and int(m.group(1)) > 0 and m.group(1) == m.group(2), out
    assert res["duplicates"] == "0" and res["missing"] == "0"
    assert server.raw().cmd("QLEN", "x.0") == 0


def test_roundtrip_holds_the_rate_and_reports_latency(server):
    rc, res, out = bench(server, "-w", "roundtrip", "-T", "1", "-c", "2", "-r", "300",
                         "--prefix", "r")
    assert rc == 0, out
    # About 300 messages in the second; the limiter never runs ahead of the rate.
    assert 150 <= int(res["messages"]) <= 301, out
    assert float(res["p50_us"]) > 0 and float(res["max_us"]) >= float(res["p99_us"])
    assert "latency (send to receipt)" in out


def test_mixed_fails_on_messages_of_another_run(server):
    # Leftovers of an earlier run in the same queue must not pass for this run's.
    assert bench(server, "-n", "100", "-c", "1", "--prefix", "z")[0] == 0
    rc, res, out = bench(server, "-w", "mixed", "-T", "0.5", "-c", "2", "--prefix", "z")
    assert rc == 1, out
    assert "100 unreadable or of another run" in out
    assert res["duplicates"] == "0" and res["missing"] == "0"


def test_a_body_with_a_huge_sequence_is_unreadable_not_a_hang(server):
    c = server.raw()
    assert c.cmd("QCREATE", "h.0") == "OK"
    assert isinstance(c.cmd("QSEND", "h.0", b"1:99999999999999999999:1:x"), bytes)
    assert isinstance(c.cmd("QSEND", "h.0", b"1:-5:1:x"), bytes)
    rc, _, out = bench(server, "-w", "recv", "-n", "10", "-c", "1", "--prefix", "h",
                       timeout=30)
    assert rc == 1 and "2 unreadable" in out, out


def test_every_queue_needs_a_producer_and_a_consumer(server):
    for args, text in [
        (["-w", "mixed", "-c", "3", "-q", "2"], "2 queues need at least 2 consumer connections, not 1"),
        (["-w", "send", "-c", "2", "-q", "4"], "4 queues need at least 4 producer connections, not 2"),
        (["-w", "roundtrip", "-c", "5", "--producers", "4", "-q", "4"],
         "4 queues need at least 4 consumer connections, not 1"),
    ]:
        rc, _, out = bench(server, *args)
        assert rc == 2 and text in out, (args, out)


def test_roundtrip_reports_the_rate_its_producers_kept(server):
    rc, res, out = bench(server, "-w", "roundtrip", "-T", "1", "-c", "2", "-r", "200",
                         "--prefix", "k")
    assert rc == 0, out
    assert 150 <= float(res["send_rate"]) <= 201 and "of 200 asked" in out, out


def test_bad_options_exit_2_naming_them(server):
    for args, text in [
        (["-t", "kafka"], "unknown target 'kafka'"),
        (["-w", "fetch"], "unknown workload 'fetch'"),
        (["-C", "0"], "--count must be a whole number from 1 to 1000, not '0'"),
        (["-c", "x"], "--connections must be a whole number"),
        (["-r", "-5"], "--rate must be a number of 0 or more, not '-5'"),
        (["-w", "mixed", "-c", "1"], "mixed needs at least 2 connections"),
        (["extra"], "unexpected argument 'extra'"),
    ]:
        rc, _, out = bench(server, *args)
        assert rc == 2 and text in out, (args, out)


def test_unreachable_server_is_an_error():
    p = subprocess.run([BENCH, "-p", "1", "--quiet"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "cannot connect" in p.stderr
