// session.js: the parts of the redis-compat session (../README.md) that
// ioredis.js and node_redis.js share because they do not depend on the client's
// API: each function here takes the replies a program got with its own client
// and makes the checks on them, so that the commands themselves (what
// docs/clients.md quotes) stay in the programs. Also the loop that runs a
// program's steps once per mode, and QSCAN's cursor loop.
"use strict";

const { performance } = require("node:perf_hooks");
const {
  QINFO_FIELDS, WITHMETA_FIELDS, fieldEntries, mapShapeOf, nestedKindOf, pick, sleep,
} = require("./check");

// [id, body, receives] of each message of a QRECV reply.
const received = (batch) => batch.map(([id, , body, receives]) => [id, body, receives]);

// CLIENT INFO's "k=v k=v" line: the protocol and the library the client announced.
function clientInfo(checks, reply, mode, libName, libVersion) {
  const fields = new Map(String(reply).trim().split(" ").map((pair) => pair.split("=")));
  checks.equal(`CLIENT INFO shows the protocol and the library ${libName} announced`,
    pick(fields, ["resp", "lib-name", "lib-ver"]),
    { resp: String(mode.resp), "lib-name": libName, "lib-ver": libVersion });
}

// 2. Four sends, each replying a string id: ids is { low, high, later, plain }.
function sentIds(checks, ids) {
  for (const [body, id] of Object.entries(ids)) {
    checks.kind(`QSEND ${body} replies a string id`, id, "string");
  }
  checks.equal("the four ids differ", new Set(Object.values(ids)).size, 4);
}

// 4. Priority first, then send order. Returns the receipts of high, low, plain.
function firstBatch(checks, batch, ids) {
  checks.kind("QRECV replies a list", batch, "list");
  batch.forEach((message, i) =>
    checks.message(`message ${i} is [id, receipt, body, receives]`, message));
  checks.equal("QRECV COUNT 10 gives high, low, plain with their ids and receives 1",
    received(batch), [[ids.high, "high", 1], [ids.low, "low", 1], [ids.plain, "plain", 1]]);
  return batch.map((message) => message[1]);
}

// 7. Waits until the message sent with DELAY 1 at sentAt (performance.now()) is due.
const untilDelayOver = (sentAt) => sleep(Math.max(0, sentAt + 1100 - performance.now()));

// 7. Once the delay is over: low (received before) ahead of later (priority 1 > 0).
function secondBatch(checks, batch, ids) {
  checks.equal("after the delay QRECV gives low (receives 2) then later (receives 1)",
    received(batch), [[ids.low, "low", 2], [ids.later, "later", 1]]);
}

// 8. FIFO order and deduplication.
function fifo(checks, o1Id, o2Id, o1AgainId, batch) {
  checks.kind("a FIFO QSEND replies a string id", o1Id, "string");
  checks.that("o1 and o2 have different ids", o1Id !== o2Id, `both ${o1Id}`);
  checks.equal("a second QSEND with DEDUPID d1 replies the first id", o1AgainId, o1Id);
  checks.equal("QRECV on the FIFO queue gives o1 then o2, once each",
    batch.map(([id, , body]) => [id, body]), [[o1Id, "o1"], [o2Id, "o2"]]);
}

// 9. The QRECV ... WAIT 5 blocked for blockedFor ms, until the other connection
// sent wakeId 200 ms in.
function woken(checks, batch, wakeId, blockedFor) {
  checks.equal("the blocked QRECV ... WAIT 5 returns the message sent by the other connection",
    received(batch), [[wakeId, "wake", 1]]);
  checks.that("it blocked until that send and returned well before 5 s",
    blockedFor >= 200 && blockedFor < 1500, `returned after ${blockedFor.toFixed(0)} ms`);
}

// 9. QRECV WAIT 0.2 on the empty queue, which took emptyFor ms.
function emptyWait(checks, nothing, emptyFor) {
  checks.equal("QRECV WAIT 0.2 on the empty queue is an empty list", nothing, []);
  // The server waits at least the time asked, so even 1 ms early is a failure.
  checks.that("it returned after at least 0.2 s", emptyFor >= 200 && emptyFor < 1500,
    `returned after ${emptyFor.toFixed(0)} ms`);
}

// 10. QINFO: its shape depends on the protocol and the client's settings, its
// content not.
function qinfo(checks, info, mode, jobs) {
  checks.equal(`QINFO comes as a ${mode.mapShape}`, mapShapeOf(info), mode.mapShape);
  const infoFields = new Map(fieldEntries(info));
  checks.equal("QINFO has the contract's fields in the contract's order",
    [...infoFields.keys()], QINFO_FIELDS);
  checks.equal("QINFO's values: name, type, no DLQ, 30 s lease, counters of the session",
    pick(infoFields, ["name", "type", "dlq", "visibility_ms", "ready", "inflight", "delayed",
      "sent_total", "received_total", "deleted_total", "dlq_sources"]),
    { name: jobs, type: "standard", dlq: null, visibility_ms: 30000, ready: 0, inflight: 3,
      delayed: 0, sent_total: 4, received_total: 5, deleted_total: 1, dlq_sources: [] });
  const nonIntegers = QINFO_FIELDS.slice(3, -1)
    .filter((name) => !Number.isInteger(infoFields.get(name)));
  checks.equal("every QINFO count and time is an integer", nonIntegers, []);
}

// Every queue name QSCAN returns, following the cursor (a string) until it is
// "0" again; scan(cursor) sends QSCAN cursor MATCH pattern COUNT 2 and gives
// [next, batch]. COUNT 2 makes it take several rounds.
async function scanQueues(scan) {
  const names = new Set();
  let cursor = "0";
  do {
    const [next, batch] = await scan(cursor);
    if (typeof next !== "string" || !Array.isArray(batch)) {
      throw new Error(`QSCAN replied ${JSON.stringify([next, batch])}`);
    }
    batch.forEach((name) => names.add(name));
    cursor = next;
  } while (cursor !== "0");
  return [...names].sort();
}

// A binary body (sent as binaryBody, id binaryId) as QRECV gave it back in bytes.
function binaryBack(checks, binaryBody, binaryId, idBytes, bodyBytes) {
  checks.equal("a binary body (NUL, 0xff, CR LF, $, *) comes back byte for byte",
    [idBytes.toString(), Buffer.isBuffer(bodyBytes) && bodyBytes.equals(binaryBody)],
    [binaryId, true]);
}

// The dead-lettered message (sent as poisonId to src) as QRECV WITHMETA gave it
// from the DLQ.
function withMeta(checks, dead, mode, poisonId, src) {
  checks.message("QRECV WITHMETA gives [id, receipt, body, receives, meta]", dead,
    nestedKindOf(mode.mapShape));
  checks.equal(`WITHMETA's map comes as a ${mode.mapShape}`, mapShapeOf(dead[4]), mode.mapShape);
  const meta = new Map(fieldEntries(dead[4]));
  checks.equal("WITHMETA has the contract's fields in order", [...meta.keys()], WITHMETA_FIELDS);
  checks.equal("WITHMETA: priority kept, no group or dedup id, dlq_source is the source queue",
    { id: dead[0], receives: dead[3],
      ...pick(meta, ["priority", "group", "dedupid", "dlq_source"]) },
    { id: poisonId, receives: 2, priority: 3, group: null, dedupid: null, dlq_source: src });
  checks.equal("WITHMETA's times are integers",
    ["sent_ms", "first_received_ms"].map((name) => Number.isInteger(meta.get(name))),
    [true, true]);
}

// QINFO of the DLQ and of its source queue, while the message waits in the DLQ.
function dlqInfos(checks, dlqReply, srcReply, dlq, src) {
  const dlqInfo = new Map(fieldEntries(dlqReply));
  const srcInfo = new Map(fieldEntries(srcReply));
  checks.equal("QINFO of the DLQ lists its source in dlq_sources",
    pick(dlqInfo, ["dlq", "dlq_sources", "ready"]), { dlq: null, dlq_sources: [src], ready: 1 });
  checks.equal("QINFO of the source names its DLQ and counts the dead-lettering",
    pick(srcInfo, ["dlq", "maxreceives", "deadlettered_total"]),
    { dlq, maxreceives: 1, deadlettered_total: 1 });
}

// The whole run, once per mode with queue names starting <prefix><mode.tag>_:
// connect(mode) in a "connect" section, then each [name, step] of steps as a
// section with step(client, mode, P) (the last one closing the client), and
// release(client) for a client the steps left open. Then every socket must be
// gone, and the summary line.
async function runModes(checks, { modes, prefix, connect, steps, release }) {
  for (const mode of modes) {
    checks.scope = mode.tag;
    const P = `${prefix}${mode.tag}_`;
    let client;
    await checks.section("connect", async () => {
      client = await connect(mode);
    });
    if (!client) continue;
    for (const [name, step] of steps) {
      await checks.section(name, () => step(client, mode, P));
    }
    release(client);
  }
  checks.scope = "";
  await checks.noOpenSockets("every connection is closed, so the process can exit");
  checks.finish();
}

module.exports = {
  binaryBack, clientInfo, dlqInfos, emptyWait, fifo, firstBatch, qinfo, received, runModes,
  scanQueues, secondBatch, sentIds, untilDelayOver, withMeta, woken,
};
