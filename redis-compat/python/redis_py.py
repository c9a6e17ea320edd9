#!/usr/bin/python3
# redis-compat/python/redis_py.py: the redis-compat session (see ../README.md) driven
# by redis-py 4.3.4 over RESP2, plus what redis-py users lean on: an explicit
# ConnectionPool, pipelines with and without MULTI/EXEC, long polling on two pooled
# connections, and threads sharing one pool; at the end, the server's count of
# accepted connections shows that the pool never reconnected behind the program's back.
# It runs once per reply parser (--parser python|hiredis) because the two parsers
# are separate code paths that decode the same bytes; the hiredis run must prove
# hiredis is really the one in use, and fails (never skips) when it cannot load.
# Queue commands go through execute_command, which applies no reply callback, so the
# checks see exactly the types the parser produced (bytes, int, list, None).
import argparse
import os
import sys
import threading
import time

from report import Report, same

PREFIX = "py_"
JOBS, ORDERS, WAITQ = PREFIX + "jobs", PREFIX + "orders", PREFIX + "wait"
MISSING = PREFIX + "missing"

# QINFO's fields in the order commands.md gives them.
QINFO_FIELDS = [
    "name", "type", "dlq", "visibility_ms", "delay_ms", "retention_ms", "wait_ms",
    "maxsize", "maxdepth", "maxreceives", "contentdedup", "created_ms",
    "modified_ms", "ready", "inflight", "delayed", "blocked", "oldest_age_ms",
    "sent_total", "received_total", "deleted_total", "expired_total",
    "deadlettered_total", "dlq_sources",
]


class PyReport(Report):
    """Report, plus the check of a refusal as redis-py raises it."""

    def error(self, what, call, expected_text):
        """The call must raise exactly redis.exceptions.ResponseError with this text
        (redis-py strips a leading "ERR " from top-level errors, nothing else)."""
        try:
            reply = call()
        except redis.exceptions.ResponseError as exc:
            return self.check(what, type(exc) is redis.exceptions.ResponseError
                              and str(exc) == expected_text,
                              f"expected ResponseError({expected_text!r}), got "
                              f"{type(exc).__name__}({str(exc)!r})")
        self.fail(what, f"expected ResponseError({expected_text!r}), got reply {reply!r}")
        return False


def is_message(item, fields):
    """A QRECV message [id, receipt, body, receives] (or QPEEK's [id, body, receives]):
    bulk strings as bytes, then an int."""
    return (type(item) is list and len(item) == fields
            and all(type(part) is bytes for part in item[:-1])
            and type(item[-1]) is int)


def as_fields(flat):
    """A RESP2 map (flat field, value, ... list) as a dict keyed by str."""
    return {name.decode(): value for name, value in zip(flat[0::2], flat[1::2])}


class Session:
    """The twelve steps of README.md's session, in order; each step keeps what the
    later ones need (ids, receipts) on self."""

    def __init__(self, r, report):
        self.r = r
        self.t = report
        self.ids = {}
        self.receipts = {}
        self.later_sent_at = 0.0

    def run(self):
        for title, body in [
            ("1 QCREATE", self.create), ("2 QSEND", self.send), ("3 QLEN", self.length),
            ("4 QRECV", self.receive), ("5 QDEL", self.delete), ("6 QVIS", self.visibility),
            ("7 delayed message", self.delayed), ("8 FIFO", self.fifo),
            ("9 long polling", self.long_poll), ("10 QINFO", self.info),
            ("11 NOQUEUE", self.missing_queue), ("12 QDROP", self.drop),
        ]:
            self.t.step(title, body)

    def create(self):
        r, t = self.r, self.t
        t.equal(f"QCREATE {JOBS} VISIBILITY 30 is OK (bytes)",
                r.execute_command("QCREATE", JOBS, "VISIBILITY", "30"), b"OK")
        t.equal(f"QCREATE {JOBS} VISIBILITY 30 again is OK",
                r.execute_command("QCREATE", JOBS, "VISIBILITY", "30"), b"OK")
        t.error(f"QCREATE {JOBS} VISIBILITY 10 is EXISTS",
                lambda: r.execute_command("QCREATE", JOBS, "VISIBILITY", "10"),
                f"EXISTS queue '{JOBS}' exists with different attributes")
        t.equal(f"QCREATE {ORDERS} FIFO is OK", r.execute_command("QCREATE", ORDERS, "FIFO"), b"OK")

    def send(self):
        r, t = self.r, self.t
        for body, options in [("low", ["PRIORITY", "1"]), ("high", ["PRIORITY", "9"]),
                              ("later", ["DELAY", "1"]), ("plain", [])]:
            msg_id = r.execute_command("QSEND", JOBS, body, *options)
            if body == "later":
                # Taken once the reply is in: the server started the 1 s delay before
                # it replied, so 1.1 s from here is past it however long the send took.
                self.later_sent_at = time.monotonic()
            t.check(f"QSEND {' '.join([JOBS, body, *options])} replies an id (bytes, at most 40)",
                    type(msg_id) is bytes and 0 < len(msg_id) <= 40, f"got {msg_id!r}")
            self.ids[body] = msg_id
        t.check("the four ids are all different", len(set(self.ids.values())) == 4,
                f"got {self.ids!r}")

    def length(self):
        self.t.equal(f"QLEN {JOBS} is 3 (int; the delayed one is not ready)",
                     self.r.execute_command("QLEN", JOBS), 3)

    def receive(self):
        r, t = self.r, self.t
        reply = r.execute_command("QRECV", JOBS, "COUNT", "10", "VISIBILITY", "5")
        shaped = (type(reply) is list and len(reply) == 3
                  and all(is_message(m, 4) for m in reply))
        if not t.check("QRECV COUNT 10 VISIBILITY 5 is a list of three [bytes, bytes, bytes, int]",
                       shaped, f"got {reply!r}"):
            return
        t.equal("QRECV gives high, low, plain with the QSEND ids and receives 1",
                [[m[0], m[2], m[3]] for m in reply],
                [[self.ids[b], b.encode(), 1] for b in ("high", "low", "plain")])
        t.check("receipts are at most 64 bytes and all different",
                all(len(m[1]) <= 64 for m in reply) and len({m[1] for m in reply}) == 3,
                f"got {[m[1] for m in reply]!r}")
        self.receipts = {m[2].decode(): m[1] for m in reply}

    def delete(self):
        r, t = self.r, self.t
        t.equal("QDEL <receipt of high> is 1", r.execute_command("QDEL", JOBS, self.receipts["high"]), 1)
        t.equal("QDEL <receipt of high> again is 0",
                r.execute_command("QDEL", JOBS, self.receipts["high"]), 0)

    def visibility(self):
        r, t = self.r, self.t
        t.equal("QVIS <receipt of low> 0 is OK", r.execute_command("QVIS", JOBS, self.receipts["low"], "0"), b"OK")
        t.equal("QVIS <receipt of plain> 60 is OK",
                r.execute_command("QVIS", JOBS, self.receipts["plain"], "60"), b"OK")
        t.error("QVIS <receipt of high> 5 is BADRECEIPT",
                lambda: r.execute_command("QVIS", JOBS, self.receipts["high"], "5"),
                "BADRECEIPT receipt is stale or unknown")

    def delayed(self):
        time.sleep(max(0.0, self.later_sent_at + 1.1 - time.monotonic()))
        reply = self.r.execute_command("QRECV", JOBS, "COUNT", "10")
        shaped = type(reply) is list and all(is_message(m, 4) for m in reply)
        self.t.equal("after the delay QRECV COUNT 10 gives low (receives 2) then later (1)",
                     [[m[0], m[2], m[3]] for m in reply] if shaped else reply,
                     [[self.ids["low"], b"low", 2], [self.ids["later"], b"later", 1]])

    def fifo(self):
        r, t = self.r, self.t
        first = r.execute_command("QSEND", ORDERS, "o1", "GROUP", "g1", "DEDUPID", "d1")
        second = r.execute_command("QSEND", ORDERS, "o2", "GROUP", "g1", "DEDUPID", "d2")
        t.check("FIFO QSENDs reply two different ids (bytes)",
                type(first) is bytes and type(second) is bytes and first != second,
                f"got {first!r}, {second!r}")
        t.equal("QSEND o1 with DEDUPID d1 again replies the first id",
                r.execute_command("QSEND", ORDERS, "o1", "GROUP", "g1", "DEDUPID", "d1"), first)
        reply = r.execute_command("QRECV", ORDERS, "COUNT", "10")
        shaped = type(reply) is list and all(is_message(m, 4) for m in reply)
        t.equal(f"QRECV {ORDERS} COUNT 10 gives o1 then o2",
                [[m[0], m[2], m[3]] for m in reply] if shaped else reply,
                [[first, b"o1", 1], [second, b"o2", 1]])

    def long_poll(self):
        r, t = self.r, self.t
        t.equal(f"QCREATE {WAITQ} is OK", r.execute_command("QCREATE", WAITQ), b"OK")
        outcome = {}

        def waiter():
            # While this call blocks it holds its pooled connection, so everything
            # the main thread sends meanwhile goes out on a second one.
            started = time.monotonic()
            try:
                outcome["reply"] = r.execute_command("QRECV", WAITQ, "WAIT", "5")
            except Exception as exc:  # noqa: BLE001 - reported below
                outcome["reply"] = exc
            outcome["returned"] = time.monotonic()
            outcome["elapsed"] = outcome["returned"] - started

        thread = threading.Thread(target=waiter)
        thread.start()
        # The QSEND waits until the server counts the receiver as blocked (at least
        # 0.2 s, at most about 2 s), so that a slow thread start cannot turn the
        # blocking receive into a plain one.
        deadline = time.monotonic() + 2.0
        time.sleep(0.2)
        blocked = r.info("clients").get("blocked_clients")
        while blocked != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
            blocked = r.info("clients").get("blocked_clients")
        t.equal("while QRECV WAIT 5 blocks, INFO (on another pooled connection) shows 1 blocked client",
                blocked, 1)
        wake_sent = time.monotonic()
        wake_id = r.execute_command("QSEND", WAITQ, "wake")
        thread.join(10)
        reply = outcome.get("reply")
        t.check("the blocked QRECV returns the message sent from the other connection",
                type(reply) is list and len(reply) == 1 and is_message(reply[0], 4)
                and same([reply[0][0], reply[0][2], reply[0][3]], [wake_id, b"wake", 1]),
                f"expected [[{wake_id!r}, <receipt>, b'wake', 1]], got {reply!r}")
        elapsed = outcome.get("elapsed", 99.0)
        after_send = outcome.get("returned", 99.0 + wake_sent) - wake_sent
        t.check("it blocked (>= 0.15 s) and returned within 1 s of the QSEND, well before 5 s",
                elapsed >= 0.15 and after_send < 1.0,
                f"blocked {elapsed:.6f} s, returned {after_send:.6f} s after the QSEND")

        started = time.monotonic()
        reply = r.execute_command("QRECV", WAITQ, "WAIT", "0.2")
        elapsed = time.monotonic() - started
        t.equal("QRECV WAIT 0.2 on the empty queue is an empty list", reply, [])
        t.check("and it waited at least 0.2 s (and not the 5 s of before)", 0.2 <= elapsed < 2.0,
                f"took {elapsed:.6f} s")

    def info(self):
        t = self.t
        flat = self.r.execute_command("QINFO", JOBS)
        if not t.check("QINFO is a flat field/value list under RESP2",
                       type(flat) is list and len(flat) % 2 == 0
                       and all(type(name) is bytes for name in flat[0::2]),
                       f"got {flat!r}"):
            return
        t.equal("QINFO's fields come in the contract's order",
                [name.decode() for name in flat[0::2]], QINFO_FIELDS)
        info = as_fields(flat)
        t.equal("QINFO name", info.get("name"), JOBS.encode())
        t.equal("QINFO type", info.get("type"), b"standard")
        t.equal("QINFO dlq is None (null)", info.get("dlq"), None)
        t.equal("QINFO visibility_ms is the int 30000", info.get("visibility_ms"), 30000)
        # plain (QVIS 60), low and later (step 7) are leased; high was deleted.
        t.equal("QINFO inflight is the int 3", info.get("inflight"), 3)
        t.equal("QINFO dlq_sources is an empty list", info.get("dlq_sources"), [])
        integers = [name for name in QINFO_FIELDS
                    if name not in ("name", "type", "dlq", "dlq_sources")]
        t.check("every other QINFO field is an int",
                all(type(info.get(name)) is int for name in integers),
                f"got {[(n, info.get(n)) for n in integers if type(info.get(n)) is not int]!r}")

    def missing_queue(self):
        r, t = self.r, self.t
        # The pool hands back the connection released last, so CLIENT ID before and
        # after the error names the same connection unless the server closed it.
        before = r.execute_command("CLIENT", "ID")
        t.error(f"QSEND {MISSING} x is NOQUEUE",
                lambda: r.execute_command("QSEND", MISSING, "x"),
                f"NOQUEUE no such queue '{MISSING}'")
        t.equal("the connection still works afterwards (same CLIENT ID, QLEN replies 0)",
                [r.execute_command("CLIENT", "ID"), r.execute_command("QLEN", JOBS)], [before, 0])

    def drop(self):
        for name in (JOBS, ORDERS, WAITQ):
            self.t.equal(f"QDROP {name} is 1", self.r.execute_command("QDROP", name), 1)


def exec_calls(r):
    stats = r.info("commandstats")
    return [stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("multi", "exec")]


def transactional_pipeline(r, t):
    tx, idle = PREFIX + "tx", PREFIX + "tx_idle"
    for name in (tx, idle):
        t.equal(f"QCREATE {name} is OK", r.execute_command("QCREATE", name), b"OK")

    multi_before, exec_before = exec_calls(r)
    pipe = r.pipeline()  # transaction=True by default: MULTI ... EXEC
    pipe.execute_command("QSEND", tx, "t1")
    pipe.execute_command("QSEND", MISSING, "t2")
    pipe.execute_command("QLEN", tx)
    replies = pipe.execute(raise_on_error=False)
    multi_after, exec_after = exec_calls(r)
    t.equal("r.pipeline() went to the server as one MULTI and one EXEC",
            [multi_after - multi_before, exec_after - exec_before], [1, 1])
    t.check("MULTI/EXEC replies: an id, the NOQUEUE error in its place, then QLEN 1",
            type(replies) is list and len(replies) == 3 and type(replies[0]) is bytes
            and type(replies[1]) is redis.exceptions.ResponseError
            and str(replies[1]) == f"NOQUEUE no such queue '{MISSING}'" and same(replies[2], 1),
            f"got {replies!r}")

    pipe = r.pipeline()
    pipe.execute_command("QRECV", idle, "WAIT", "5")
    started = time.monotonic()
    replies = pipe.execute()
    elapsed = time.monotonic() - started
    t.equal("QRECV WAIT 5 inside MULTI does not block: EXEC gives [[]]", replies, [[]])
    t.check("and EXEC came back at once (< 1 s)", elapsed < 1.0, f"took {elapsed:.6f} s")

    pipe = r.pipeline()
    pipe.execute_command("QSEND", tx, "t3")
    pipe.execute_command("QLEN")
    t.error("a wrong-arity command queued in MULTI aborts the transaction",
            pipe.execute,
            "Command # 2 (QLEN) of pipeline caused error: wrong number of arguments for 'qlen' command")
    t.equal("the aborted transaction's QSEND did not run (QLEN still 1)", r.execute_command("QLEN", tx), 1)
    for name in (tx, idle):
        t.equal(f"QDROP {name} is 1", r.execute_command("QDROP", name), 1)


def plain_pipeline(r, t):
    bulk = PREFIX + "bulk"
    t.equal(f"QCREATE {bulk} is OK", r.execute_command("QCREATE", bulk), b"OK")
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.execute_command("QSEND", bulk, f"m{i}")
    ids = pipe.execute()
    t.check("1,000 QSENDs in one transaction=False pipeline reply 1,000 different ids (bytes)",
            len(ids) == 1000 and all(type(i) is bytes for i in ids) and len(set(ids)) == 1000,
            f"got {len(ids)} replies, {len(set(ids))} different, first {ids[:3]!r}")
    t.equal(f"QLEN {bulk} is 1000", r.execute_command("QLEN", bulk), 1000)

    received = r.execute_command("QRECV", bulk, "COUNT", "1000")
    shaped = type(received) is list and all(is_message(m, 4) for m in received)
    t.check("QRECV COUNT 1000 gives all 1,000 in send order",
            shaped and [m[0] for m in received] == ids
            and [m[2] for m in received] == [f"m{i}".encode() for i in range(1000)],
            f"got {len(received) if type(received) is list else received!r} messages")
    if shaped:
        t.equal("one QDEL with 1,000 receipts is 1000", r.execute_command("QDEL", bulk, *[m[1] for m in received]), 1000)
    t.equal(f"QLEN {bulk} is 0 afterwards", r.execute_command("QLEN", bulk), 0)

    binary = b"\x00\xff\r\n$-1\r\n*0\r\n"
    binary_id = r.execute_command("QSEND", bulk, binary)
    received = r.execute_command("QRECV", bulk)
    t.check("a body with NUL, 0xff and CRLF comes back byte for byte",
            type(received) is list and len(received) == 1 and is_message(received[0], 4)
            and received[0][0] == binary_id and received[0][2] == binary,
            f"got {received!r}")

    pipe = r.pipeline(transaction=False)
    pipe.execute_command("QLEN", bulk)
    pipe.execute_command("QSEND", MISSING, "b")
    pipe.execute_command("QLEN", bulk)
    replies = pipe.execute(raise_on_error=False)
    t.check("an error in a plain pipeline takes only its own place: [0, NOQUEUE, 0]",
            len(replies) == 3 and same(replies[0], 0) and same(replies[2], 0)
            and type(replies[1]) is redis.exceptions.ResponseError
            and str(replies[1]) == f"NOQUEUE no such queue '{MISSING}'",
            f"got {replies!r}")
    t.equal(f"QDROP {bulk} is 1", r.execute_command("QDROP", bulk), 1)


def threads_sharing_the_pool(r, pool, t):
    shared = PREFIX + "shared"
    t.equal(f"QCREATE {shared} is OK", r.execute_command("QCREATE", shared), b"OK")
    # Earlier steps left connections in the pool (two from the long poll): only
    # connections opened beyond those show that the threads needed more.
    pooled_before = len(pool._available_connections) + len(pool._in_use_connections)
    sent, received, deleted, problems = [], [], [], []
    lock = threading.Lock()

    def sender(n):
        try:
            mine = [r.execute_command("QSEND", shared, f"t{n}-{i}") for i in range(250)]
            with lock:
                sent.extend(mine)
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(exc)

    def receiver():
        try:
            while True:
                batch = r.execute_command("QRECV", shared, "COUNT", "25")
                if not batch:
                    return
                count = r.execute_command("QDEL", shared, *[m[1] for m in batch])
                with lock:
                    received.extend(m[0] for m in batch)
                    deleted.append(count)
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(exc)

    for work in [lambda n=n: sender(n) for n in range(4)], [receiver] * 4:
        threads = [threading.Thread(target=fn) for fn in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    t.equal("no thread raised", problems, [])
    t.check("4 threads x 250 QSEND on one pool give 1,000 different ids",
            len(sent) == 1000 and len(set(sent)) == 1000, f"{len(sent)} ids, {len(set(sent))} different")
    t.check("4 receiving threads got each of them exactly once",
            len(received) == 1000 and set(received) == set(sent),
            f"{len(received)} received, {len(set(received))} different, "
            f"{len(set(sent) - set(received))} never received")
    t.equal("their QDELs deleted 1000 in all", sum(deleted), 1000)
    info = as_fields(r.execute_command("QINFO", shared))
    t.equal(f"{shared} ends empty: ready, inflight, deleted_total",
            [info.get("ready"), info.get("inflight"), info.get("deleted_total")], [0, 0, 1000])
    pooled_after = len(pool._available_connections) + len(pool._in_use_connections)
    t.check("the pool opened more connections for the threads than it already had",
            pooled_after > pooled_before,
            f"{pooled_before} pooled before the threads, {pooled_after} after")
    t.equal(f"QDROP {shared} is 1", r.execute_command("QDROP", shared), 1)


def other_queue_commands(r, t):
    extra, dlq, src = PREFIX + "extra", PREFIX + "dlq", PREFIX + "src"
    t.equal(f"QCREATE {extra} is OK", r.execute_command("QCREATE", extra), b"OK")
    t.equal("QSET VISIBILITY 45 MAXDEPTH 10 is OK",
            r.execute_command("QSET", extra, "VISIBILITY", "45", "MAXDEPTH", "10"), b"OK")
    info = as_fields(r.execute_command("QINFO", extra))
    t.equal("QINFO shows the QSET values", [info.get("visibility_ms"), info.get("maxdepth")], [45000, 10])

    first, second = r.execute_command("QSEND", extra, "e1"), r.execute_command("QSEND", extra, "e2")
    peeked = r.execute_command("QPEEK", extra, "COUNT", "5")
    t.equal("QPEEK COUNT 5 gives [id, body, receives] of both, unleased",
            peeked, [[first, b"e1", 0], [second, b"e2", 0]])
    t.equal("QLEN is still 2 after QPEEK", r.execute_command("QLEN", extra), 2)
    t.equal("QPURGE removes 2", r.execute_command("QPURGE", extra), 2)
    t.equal("QLEN is 0 after QPURGE", r.execute_command("QLEN", extra), 0)

    t.equal(f"QCREATE {dlq} is OK", r.execute_command("QCREATE", dlq), b"OK")
    t.equal(f"QCREATE {src} DLQ {dlq} MAXRECEIVES 1 is OK",
            r.execute_command("QCREATE", src, "DLQ", dlq, "MAXRECEIVES", "1"), b"OK")

    found, cursor, rounds = [], b"0", 0
    while True:
        reply = r.execute_command("QSCAN", cursor, "MATCH", PREFIX + "*", "COUNT", "2")
        if not (type(reply) is list and len(reply) == 2 and type(reply[0]) is bytes
                and type(reply[1]) is list):
            t.fail("QSCAN replies [cursor (bytes), [name, ...]]", f"got {reply!r}")
            break
        cursor, rounds = reply[0], rounds + 1
        found.extend(reply[1])
        if cursor == b"0" or rounds > 100:
            break
    t.equal("QSCAN from 0 to 0 with MATCH py_* finds exactly the three queues",
            sorted(set(found)), sorted(name.encode() for name in (extra, dlq, src)))

    msg_id = r.execute_command("QSEND", src, "d1")
    received = r.execute_command("QRECV", src)
    t.check("QRECV from the source gives d1 (receives 1)",
            type(received) is list and len(received) == 1 and is_message(received[0], 4)
            and same([received[0][0], received[0][2], received[0][3]], [msg_id, b"d1", 1]),
            f"got {received!r}")
    t.equal("QVIS 0 on its last allowed delivery is OK",
            r.execute_command("QVIS", src, received[0][1], "0"), b"OK")
    t.equal("it moved to the DLQ: QLEN source 0, QLEN DLQ 1",
            [r.execute_command("QLEN", src), r.execute_command("QLEN", dlq)], [0, 1])
    t.error("QDROP of a queue in use as a DLQ is INUSE", lambda: r.execute_command("QDROP", dlq),
            f"INUSE queue '{dlq}' is the dead-letter queue of '{src}'")
    t.equal(f"QREDRIVE {dlq} moves 1", r.execute_command("QREDRIVE", dlq), 1)
    t.equal("the message is back in the source with receives 0",
            r.execute_command("QPEEK", src), [[msg_id, b"d1", 0]])
    t.equal("QSET NODLQ is OK", r.execute_command("QSET", src, "NODLQ"), b"OK")
    for name in (src, dlq, extra):
        t.equal(f"QDROP {name} is 1", r.execute_command("QDROP", name), 1)


def accepted_connections(r):
    return r.info("stats").get("total_connections_received")


def no_reconnects(r, pool, t, accepted):
    """redis-py's pool quietly reconnects a connection the server closed (at the next
    get_connection, or the next command on it), which would hide a server that hangs
    up mid-run. So the server must have accepted exactly the connections the pool
    opened since the count at the start: one more would be such a reconnect. (This
    counts every client of the server: run.sh gives each program a server of its own.)"""
    end = accepted_connections(r)
    opened = pool._created_connections - accepted["opened"]
    t.check("the server accepted only the connections the pool opened (no silent reconnect)",
            type(end) is int and end - accepted["start"] == opened,
            f"total_connections_received went {accepted['start']} -> {end}, "
            f"the pool opened {opened}")


def make_pool(parser_name, t):
    """The pool with the asked-for parser, or None after a FAIL line when that
    parser cannot be used."""
    from redis.connection import HiredisParser, PythonParser
    parser_class, hiredis = PythonParser, None
    if parser_name == "hiredis":
        try:
            import hiredis
        except ImportError as exc:
            t.fail("import hiredis", f"{exc}")
            return None
        t.equal("redis.utils.HIREDIS_AVAILABLE is True", redis.utils.HIREDIS_AVAILABLE, True)
        parser_class = HiredisParser
    pool = redis.ConnectionPool(
        host=os.environ.get("RESPQ_HOST", "127.0.0.1"),
        port=int(os.environ.get("RESPQ_PORT", "6390")),
        parser_class=parser_class,
        client_name="respq-compat-py",
        max_connections=16,
        # A server that stops answering must end in an error, not a hang; the
        # longest wait the program asks for is QRECV ... WAIT 5.
        socket_timeout=15,
    )
    connection = pool.get_connection("PING")
    try:
        in_use = type(connection._parser)
        t.check(f"pooled connections decode with {parser_class.__name__}",
                in_use is parser_class, f"the connection uses {in_use.__name__}")
        if hiredis is not None:
            reader = getattr(connection._parser, "_reader", None)
            t.check("and its reader is a hiredis.Reader", isinstance(reader, hiredis.Reader),
                    f"reader is {reader!r}")
    finally:
        pool.release(connection)
    return pool


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--parser", choices=["python", "hiredis"], required=True)
    args = parser.parse_args()
    t = PyReport()
    pool = make_pool(args.parser, t)
    if pool is None:
        t.finish()
    # The host and port live in the pool: redis.Redis ignores its own when given one.
    r = redis.Redis(connection_pool=pool)
    t.step("connect", lambda: t.equal("PING is True and CLIENT GETNAME the pool's client_name",
                                      [r.ping(), r.execute_command("CLIENT", "GETNAME")],
                                      [True, b"respq-compat-py"]))
    accepted = {}
    t.step("count connections", lambda: accepted.update(
        start=accepted_connections(r), opened=pool._created_connections))
    Session(r, t).run()
    t.step("transactional pipeline", lambda: transactional_pipeline(r, t))
    t.step("plain pipeline", lambda: plain_pipeline(r, t))
    t.step("threads sharing the pool", lambda: threads_sharing_the_pool(r, pool, t))
    t.step("QSET, QPEEK, QPURGE, QSCAN, QREDRIVE", lambda: other_queue_commands(r, t))
    t.step("no reconnects", lambda: no_reconnects(r, pool, t, accepted))
    pool.disconnect()
    t.finish()


try:
    import redis
    import redis.exceptions
    import redis.utils
except ImportError as import_error:
    print(f"FAIL - import redis: {import_error}")
    print("0 passed, 1 failed")
    sys.exit(1)

if __name__ == "__main__":
    main()
