// check.js: what ioredis.js and node_redis.js share, and nothing client-specific:
// the report the redis-compat conventions ask for (one "ok - ..." or
// "FAIL - ...: why" line per check, then exactly "N passed, M failed", and the exit
// status), comparisons that look at a reply's JavaScript type as well as its value
// (telling a string from a number from null is the point of these suites), and the
// reading of respq's field/value replies, which reach JavaScript as a flat list, a
// plain object or a Map depending on the protocol and the client's settings.
"use strict";

const util = require("node:util");

const host = process.env.RESPQ_HOST || "127.0.0.1";
const port = Number(process.env.RESPQ_PORT || 6390);

// QINFO's fields and QRECV WITHMETA's, in the order commands.md fixes.
const QINFO_FIELDS = [
  "name", "type", "dlq", "visibility_ms", "delay_ms", "retention_ms", "wait_ms",
  "maxsize", "maxdepth", "maxreceives", "contentdedup", "created_ms", "modified_ms",
  "ready", "inflight", "delayed", "blocked", "oldest_age_ms", "sent_total",
  "received_total", "deleted_total", "expired_total", "deadlettered_total",
  "dlq_sources",
];
const WITHMETA_FIELDS = [
  "sent_ms", "first_received_ms", "priority", "group", "dedupid", "dlq_source",
];

function show(value) {
  return util.inspect(value, { depth: 4, breakLength: Infinity, maxArrayLength: 8 });
}

// The JavaScript type as these suites talk about it: "integer" rather than
// "number" because respq never replies a fraction, "list" for arrays, "Map" and
// "object" kept apart because node-redis can give either for a RESP3 map.
function kindOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  if (value instanceof Map) return "Map";
  if (Number.isInteger(value)) return "integer";
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return "object";
  }
  return typeof value;
}

// How a field/value reply came back: a RESP2 (or ioredis "legacy") flat list
// field, value, ...; a plain object; or a Map. Anything else is "not a field map".
// nestedKindOf gives what kindOf says of the same reply.
function mapShapeOf(reply) {
  const kind = kindOf(reply);
  if (kind === "list") {
    const evenWithStringFields = reply.length % 2 === 0 &&
      reply.every((item, i) => i % 2 === 1 || typeof item === "string");
    return evenWithStringFields ? "flat list" : "not a field map";
  }
  if (kind === "object") return "plain object";
  return kind === "Map" ? "Map" : "not a field map";
}

const NESTED_KIND = { "flat list": "list", "plain object": "object", Map: "Map" };
const nestedKindOf = (mapShape) => NESTED_KIND[mapShape];

// The field/value pairs of such a reply, in the order they arrived.
function fieldEntries(reply) {
  switch (mapShapeOf(reply)) {
    case "flat list": {
      const entries = [];
      for (let i = 0; i < reply.length; i += 2) entries.push([reply[i], reply[i + 1]]);
      return entries;
    }
    case "plain object": return Object.entries(reply);
    case "Map": return [...reply.entries()];
    default: throw new Error(`not a field/value reply: ${show(reply)}`);
  }
}

function pick(fields, names) {
  return Object.fromEntries(names.map((name) => [name, fields.get(name)]));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Checks {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    this.scope = "";
    this.finished = false;
  }

  label(what) {
    return this.scope ? `${this.scope}: ${what}` : what;
  }

  ok(what) {
    this.passed += 1;
    console.log(`ok - ${this.label(what)}`);
  }

  // A failure after finish() (a late "error" event of a client, say) is printed
  // and still makes the exit status 1, though the summary line is already out.
  fail(what, why) {
    this.failed += 1;
    console.log(`FAIL - ${this.label(what)}: ${String(why).replace(/\s*\n\s*/g, " ")}`);
    if (this.finished) process.exitCode = 1;
  }

  that(what, condition, why) {
    if (condition) this.ok(what);
    else this.fail(what, why);
    return condition;
  }

  // Strict deep equality: 3 and "3" differ, null and undefined differ.
  equal(what, actual, expected) {
    return this.that(what, util.isDeepStrictEqual(actual, expected),
      `got ${show(actual)}, expected ${show(expected)}`);
  }

  kind(what, value, expectedKind) {
    return this.that(what, kindOf(value) === expectedKind,
      `got ${kindOf(value)} ${show(value)}, expected ${expectedKind}`);
  }

  // A message of QRECV: [id, receipt, body, receives] (strings, then an integer),
  // plus, with WITHMETA, a fifth element of kind metaKind.
  message(what, message, metaKind) {
    const expected = ["string", "string", "string", "integer"];
    if (metaKind) expected.push(metaKind);
    const actual = kindOf(message) === "list" ? message.map(kindOf) : kindOf(message);
    return this.equal(what, actual, expected);
  }

  // The promise must reject with an error reply of errorClass whose message is
  // exactly expectedMessage (respq's error texts are part of its contract).
  async rejects(what, promise, errorClass, expectedMessage) {
    try {
      const reply = await promise;
      return this.fail(what, `no error, the reply was ${show(reply)}`);
    } catch (err) {
      if (!(err instanceof errorClass)) {
        return this.fail(what,
          `got ${err?.constructor?.name}: ${err?.message}, expected a ${errorClass.name}`);
      }
      return this.equal(what, err.message, expectedMessage);
    }
  }

  // One part of a program: a throw in it (an unexpected error reply, a reply of
  // the wrong shape) is one failure, and the program goes on with the next part.
  async section(what, body) {
    try {
      await body();
    } catch (err) {
      this.fail(what, `threw ${err?.constructor?.name}: ${err?.message}`);
    }
  }

  // A hung server or client must still end the program with a summary line
  // rather than let run.sh's 600 s timeout kill it silently. unref(): the
  // watchdog itself must not keep a finished program alive.
  armWatchdog(seconds) {
    const timer = setTimeout(() => {
      this.fail("the program finished in time", `still running after ${seconds} s`);
      this.finish();
      process.exit(1);
    }, seconds * 1000);
    timer.unref();
  }

  // Once every client is closed, no socket may keep Node's event loop alive:
  // otherwise the program would hang instead of exiting. A closed client's socket
  // goes away a moment after close() resolves, so this waits up to a second.
  async noOpenSockets(what) {
    const openSockets = () => process.getActiveResourcesInfo()
      .filter((name) => /TCP|ConnectWrap/.test(name));
    for (let waited = 0; openSockets().length > 0 && waited < 1000; waited += 10) await sleep(10);
    return this.equal(what, openSockets(), []);
  }

  finish() {
    this.finished = true;
    this.scope = "";
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exitCode = this.failed === 0 && this.passed > 0 ? 0 : 1;
  }
}

module.exports = {
  Checks, QINFO_FIELDS, WITHMETA_FIELDS, fieldEntries, host, kindOf, mapShapeOf,
  nestedKindOf, pick, port, show, sleep,
};
