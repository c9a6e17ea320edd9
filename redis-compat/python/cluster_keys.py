#!/usr/bin/python3
# redis-compat/python/cluster_keys.py: shows that a Redis Cluster client can route
# every respq queue command by its queue name. redis-py's RedisCluster cannot start
# against respq (no cluster mode, so no CLUSTER SLOTS), but the part that matters
# for routing, redis.commands.parser.CommandsParser, needs only the plain COMMAND
# reply: it is built here on an ordinary connection, exactly as RedisCluster builds
# it on a node, and its get_keys() must return [queue] for each command.
# Every command line given to get_keys is also run for real, in an order that makes
# it succeed, so the arguments are ones the server accepts. The legacy
# first/last/step triple (what redis-py 4.3.4 reads) is compared with the Redis 7
# key specs (what newer clients read), which a small evaluator below interprets.
import os
import sys

from report import Report

PREFIX = "ck_"
JOBS, SOURCE, DLQ = PREFIX + "jobs", PREFIX + "src", PREFIX + "dlq"
# Hash-tagged names: how a queue and its DLQ land in one slot (commands.md).
TAGGED_SOURCE, TAGGED_DLQ = PREFIX + "{orders}", PREFIX + "{orders}:dlq"

# Arity from each command's syntax in commands.md (negative: at least that many
# words, the command's name included; QSET q NODLQ is its shortest form).
EXPECTED_ARITY = {
    "qcreate": -2, "qset": -3, "qdrop": 2, "qpurge": 2, "qlen": 2, "qinfo": 2,
    "qscan": -2, "qsend": -3, "qrecv": -2, "qdel": -3, "qvis": 4, "qpeek": -2,
    "qredrive": -2,
}


def flat_to_dict(flat):
    """A RESP2 map (field, value, ...) as a dict with str keys and str for bytes values."""
    def plain(value):
        return value.decode() if isinstance(value, bytes) else value
    return {plain(name): plain(value) for name, value in zip(flat[0::2], flat[1::2])}


def keys_from_key_specs(key_specs, args):
    """The keys Redis 7 key specs select in args (args[0] is the command name), as a
    server or a newer cluster client reads them. Only the spec types respq could
    use are known; any other raises, which shows up as a failure."""
    keys = []
    for raw_spec in key_specs:
        spec = flat_to_dict(raw_spec)
        begin, find = flat_to_dict(spec["begin_search"]), flat_to_dict(spec["find_keys"])
        begin_spec, find_spec = flat_to_dict(begin["spec"]), flat_to_dict(find["spec"])
        if begin["type"] == "index":
            start = begin_spec["index"]
        elif begin["type"] == "keyword":
            keyword, start_from = begin_spec["keyword"].upper(), begin_spec["startfrom"]
            where = (range(start_from, len(args)) if start_from > 0
                     else range(len(args) + start_from, 0, -1))
            start = next((i + 1 for i in where if args[i].upper() == keyword), None)
            if start is None:
                continue
        else:
            raise ValueError(f"begin_search type {begin['type']!r}")
        if find["type"] == "range":
            last_key, step = find_spec["lastkey"], find_spec["keystep"]
            if last_key < 0 and find_spec["limit"] > 1:
                raise ValueError("range with a limit")
            last = start + last_key if last_key >= 0 else len(args) + last_key
        elif find["type"] == "keynum":
            count = int(args[start + find_spec["keynumidx"]])
            start, step = start + find_spec["firstkey"], find_spec["keystep"]
            last = start + (count - 1) * step
        else:
            raise ValueError(f"find_keys type {find['type']!r}")
        keys.extend(args[start:last + 1:step])
    return keys


def main():
    t = Report()
    # socket_timeout: a server that stops answering ends the run with FAILs, not a hang.
    r = redis.Redis(host=os.environ.get("RESPQ_HOST", "127.0.0.1"),
                    port=int(os.environ.get("RESPQ_PORT", "6390")),
                    socket_timeout=15)
    parser = CommandsParser(r)
    t.equal("CommandsParser read one entry per command that COMMAND COUNT announces",
            len(parser.commands), r.command_count())

    t.step("command table", lambda: command_table(t, parser))
    t.step("get_keys per command", lambda: keys_of_each_command(t, r, parser))
    t.step("DLQ option", lambda: dlq_option(t, r, parser))
    t.step("unknown command", lambda: unknown_command(t, r, parser))
    t.finish()


def command_table(t, parser):
    for name, arity in EXPECTED_ARITY.items():
        entry = parser.commands.get(name)
        if not t.check(f"COMMAND has an entry for {name.upper()}", entry is not None,
                       f"missing; the table has {sorted(parser.commands)}"):
            continue
        expected_positions = [0, 0, 0] if name == "qscan" else [1, 1, 1]
        t.equal(f"{name.upper()}: arity {arity}, first/last/step {expected_positions}",
                [entry["arity"], entry["first_key_pos"], entry["last_key_pos"], entry["step_count"]],
                [arity] + expected_positions)
        # movablekeys would make redis-py ask COMMAND GETKEYS, which respq lacks.
        t.check(f"{name.upper()} is not flagged movablekeys", "movablekeys" not in entry["flags"],
                f"flags {entry['flags']!r}")


def keys_of_each_command(t, r, parser):
    """Runs the command lines in an order in which each one succeeds, checking the
    keys get_keys and the key specs find in each."""
    def routed(args, expected_keys, shown=None):
        specs = parser.commands[args[0].lower()]["key_specifications"]
        found = parser.get_keys(r, *args)
        shown = shown or " ".join(args)
        t.equal(f"get_keys({shown}) is {expected_keys!r}", found, expected_keys)
        t.equal(f"the key specs of {args[0]} select the same in it",
                keys_from_key_specs(specs, list(args)), expected_keys or [])
        return r.execute_command(*args)

    def accepted(what, reply, expected):
        t.equal(f"the server accepts {what}", reply, expected)

    accepted("QCREATE", routed(["QCREATE", JOBS, "VISIBILITY", "30", "MAXSIZE", "1024"], [JOBS]), b"OK")
    accepted("QSET", routed(["QSET", JOBS, "VISIBILITY", "45", "WAIT", "0"], [JOBS]), b"OK")
    msg_id = routed(["QSEND", JOBS, "hello", "PRIORITY", "5", "DELAY", "0"], [JOBS])
    t.check("the server accepts QSEND (an id)", type(msg_id) is bytes, f"got {msg_id!r}")
    accepted("QLEN", routed(["QLEN", JOBS], [JOBS]), 1)
    info = routed(["QINFO", JOBS], [JOBS])
    t.check("the server accepts QINFO (a field/value list)",
            type(info) is list and info[:2] == [b"name", JOBS.encode()], f"got {info!r}")
    accepted("QPEEK", routed(["QPEEK", JOBS, "COUNT", "10"], [JOBS]), [[msg_id, b"hello", 0]])
    first = routed(["QRECV", JOBS, "COUNT", "10", "VISIBILITY", "30", "WAIT", "0"], [JOBS])
    t.check("the server accepts QRECV (the message)", first and first[0][0] == msg_id, f"got {first!r}")
    accepted("QVIS", routed(["QVIS", JOBS, first[0][1].decode(), "0"], [JOBS],
                            f"QVIS {JOBS} <receipt> 0"), b"OK")
    second = r.execute_command("QRECV", JOBS)
    # Two receipts (the first one now stale): QDEL's last key is its first argument,
    # not every argument.
    accepted("QDEL", routed(["QDEL", JOBS, second[0][1].decode(), first[0][1].decode()], [JOBS],
                            f"QDEL {JOBS} <receipt> <stale receipt>"), 1)
    r.execute_command("QSEND", JOBS, "left over")
    accepted("QPURGE", routed(["QPURGE", JOBS], [JOBS]), 1)
    scan = routed(["QSCAN", "0", "MATCH", PREFIX + "*", "COUNT", "100"], None)
    names = list(scan[1])
    while scan[0] != b"0" and len(names) < 1000:
        scan = r.execute_command("QSCAN", scan[0], "MATCH", PREFIX + "*", "COUNT", "100")
        names.extend(scan[1])
    t.equal("the server accepts QSCAN (its iteration finds the one queue)", sorted(set(names)),
            [JOBS.encode()])

    r.execute_command("QCREATE", DLQ)
    r.execute_command("QCREATE", SOURCE, "DLQ", DLQ, "MAXRECEIVES", "1")
    r.execute_command("QSEND", SOURCE, "poison")
    lease = r.execute_command("QRECV", SOURCE)
    r.execute_command("QVIS", SOURCE, lease[0][1], "0")
    accepted("QREDRIVE", routed(["QREDRIVE", DLQ, "COUNT", "10"], [DLQ]), 1)
    r.execute_command("QSET", SOURCE, "NODLQ")
    for name in (SOURCE, DLQ):
        r.execute_command("QDROP", name)
    accepted("QDROP", routed(["QDROP", JOBS], [JOBS]), 1)


def dlq_option(t, r, parser):
    """QCREATE/QSET ... DLQ name name a second queue. respq declares only the first
    argument as a key (one key spec, and COMMAND DOCS types the DLQ name a string),
    so a cluster client routes by the source alone; that is safe only when both
    names share a hash tag, which is why commands.md allows braces in names."""
    specs = parser.commands["qcreate"]["key_specifications"]
    shapes = [[flat_to_dict(flat_to_dict(s)["begin_search"])["type"],
               flat_to_dict(flat_to_dict(s)["find_keys"])["type"]] for s in specs]
    t.equal("COMMAND INFO QCREATE has one key spec: begin_search index, find_keys range",
            shapes, [["index", "range"]])
    t.equal("QSET's key specs are shaped the same",
            [[flat_to_dict(flat_to_dict(s)["begin_search"])["type"],
              flat_to_dict(flat_to_dict(s)["find_keys"])["type"]]
             for s in parser.commands["qset"]["key_specifications"]], [["index", "range"]])
    r.execute_command("QCREATE", TAGGED_DLQ)
    create = ["QCREATE", TAGGED_SOURCE, "DLQ", TAGGED_DLQ, "MAXRECEIVES", "3"]
    t.equal("get_keys(QCREATE ... DLQ ...) is the source queue only",
            parser.get_keys(r, *create), [TAGGED_SOURCE])
    t.equal("the server accepts that QCREATE", r.execute_command(*create), b"OK")
    change = ["QSET", TAGGED_SOURCE, "DLQ", TAGGED_DLQ, "MAXRECEIVES", "2"]
    t.equal("get_keys(QSET ... DLQ ...) is the source queue only",
            parser.get_keys(r, *change), [TAGGED_SOURCE])
    t.equal("the server accepts that QSET", r.execute_command(*change), b"OK")
    r.execute_command("QSET", TAGGED_SOURCE, "NODLQ")
    for name in (TAGGED_SOURCE, TAGGED_DLQ):
        r.execute_command("QDROP", name)


def unknown_command(t, r, parser):
    calls_before = r.info("commandstats").get("cmdstat_command", {}).get("calls", 0)
    try:
        keys = parser.get_keys(r, "QNOSUCH", JOBS, "x")
        t.check("get_keys refuses a command missing from COMMAND", False, f"it gave {keys!r}")
    except RedisError as exc:
        t.check("get_keys refuses a command missing from COMMAND with RedisError",
                type(exc) is RedisError and str(exc) == "QNOSUCH command doesn't exist in Redis commands",
                f"got {type(exc).__name__}({str(exc)!r})")
    calls_after = r.info("commandstats").get("cmdstat_command", {}).get("calls", 0)
    t.equal("before refusing it, it fetched COMMAND again once", calls_after - calls_before, 1)
    try:
        reply = r.execute_command("QNOSUCH", JOBS, "x")
        t.check("the server refuses QNOSUCH too", False, f"it replied {reply!r}")
    except ResponseError as exc:
        # redis-py drops the leading "ERR " of the error line.
        t.equal("the server refuses QNOSUCH with Redis's unknown-command text", str(exc),
                f"unknown command 'QNOSUCH', with args beginning with: '{JOBS}' 'x' ")


try:
    import redis
    from redis.commands.parser import CommandsParser
    from redis.exceptions import RedisError, ResponseError
except ImportError as import_error:
    print(f"FAIL - import redis: {import_error}")
    print("0 passed, 1 failed")
    sys.exit(1)

if __name__ == "__main__":
    main()
