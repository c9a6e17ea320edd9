#!/usr/bin/env node
// node_redis.js: the redis-compat session (../README.md) written as a Node.js user
// of node-redis 6 (`redis` on npm) would write it, plus what node-redis is for:
// automatic pipelining of concurrent commands, multi() for MULTI/EXEC and for
// explicit pipelines, duplicate() for the second connection of the long poll, and
// close() that lets the process exit. respq's commands go through
// client.sendCommand([...]), whose arguments must all be strings.
// node-redis 6 says HELLO 3 unless told RESP: 2, and gives a RESP3 map as a plain
// object unless a type mapping asks for a Map, so the whole run is done three
// times: RESP: 2 (maps come as flat field/value lists), the default (RESP3, plain
// objects) and RESP: 3 with typeMapping { [RESP_TYPES.MAP]: Map }. Queue names
// start with node_redis_<mode>_.
"use strict";

const { performance } = require("node:perf_hooks");
const {
  Checks, QINFO_FIELDS, WITHMETA_FIELDS, fieldEntries, host, mapShapeOf, nestedKindOf, pick,
  port, sleep,
} = require("./check");

const checks = new Checks();
// Set by main() once the package has loaded.
let createClient;
let ErrorReply;
let MultiErrorReply;
let RESP_TYPES;

function modes() {
  return [
    { tag: "resp2", options: { RESP: 2 }, resp: 2, mapShape: "flat list" },
    { tag: "default", options: {}, resp: 3, mapShape: "plain object" },
    {
      tag: "resp3map",
      options: { RESP: 3, commandOptions: { typeMapping: { [RESP_TYPES.MAP]: Map } } },
      resp: 3,
      mapShape: "Map",
    },
  ];
}

async function connect(mode) {
  const client = createClient({
    // reconnectStrategy false: a dropped connection must show up as failures, not
    // be papered over by a reconnect.
    socket: { host, port, reconnectStrategy: false },
    ...mode.options,
  });
  client.on("error", (err) => checks.fail("no connection error", err.message));
  // connect() resolves once the handshake (HELLO or not, CLIENT SETINFO) is answered.
  await client.connect();
  return client;
}

async function handshake(client, mode, clientVersion) {
  checks.equal("connected and ready", client.isReady, true);
  const clientInfo = await client.sendCommand(["CLIENT", "INFO"]);
  const fields = new Map(String(clientInfo).trim().split(" ").map((pair) => pair.split("=")));
  checks.equal("CLIENT INFO shows the protocol and the library node-redis announced",
    pick(fields, ["resp", "lib-name", "lib-ver"]),
    { resp: String(mode.resp), "lib-name": "node-redis", "lib-ver": clientVersion });
}

async function session(client, mode, P) {
  const jobs = `${P}jobs`;
  const orders = `${P}orders`;
  const wait = `${P}wait`;
  const missing = `${P}missing`;

  // 1. QCREATE, idempotent for the same attributes, EXISTS for others.
  checks.equal(`QCREATE ${jobs} VISIBILITY 30 is OK`,
    await client.sendCommand(["QCREATE", jobs, "VISIBILITY", "30"]), "OK");
  checks.equal("the same QCREATE again is OK",
    await client.sendCommand(["QCREATE", jobs, "VISIBILITY", "30"]), "OK");
  await checks.rejects(`QCREATE ${jobs} VISIBILITY 10 is the EXISTS error`,
    client.sendCommand(["QCREATE", jobs, "VISIBILITY", "10"]), ErrorReply,
    `EXISTS queue '${jobs}' exists with different attributes`);
  checks.equal(`QCREATE ${orders} FIFO is OK`,
    await client.sendCommand(["QCREATE", orders, "FIFO"]), "OK");

  // 2. Four sends, each replying a string id.
  const lowId = await client.sendCommand(["QSEND", jobs, "low", "PRIORITY", "1"]);
  const highId = await client.sendCommand(["QSEND", jobs, "high", "PRIORITY", "9"]);
  const laterId = await client.sendCommand(["QSEND", jobs, "later", "DELAY", "1"]);
  const laterSentAt = performance.now();
  const plainId = await client.sendCommand(["QSEND", jobs, "plain"]);
  const ids = { low: lowId, high: highId, later: laterId, plain: plainId };
  for (const [body, id] of Object.entries(ids)) {
    checks.kind(`QSEND ${body} replies a string id`, id, "string");
  }
  checks.equal("the four ids differ", new Set(Object.values(ids)).size, 4);

  // 3. The delayed message does not count.
  checks.equal(`QLEN ${jobs} is the integer 3`, await client.sendCommand(["QLEN", jobs]), 3);

  // 4. Priority first, then send order.
  const firstBatch = await client.sendCommand(["QRECV", jobs, "COUNT", "10", "VISIBILITY", "5"]);
  checks.kind("QRECV replies a list", firstBatch, "list");
  firstBatch.forEach((message, i) =>
    checks.message(`message ${i} is [id, receipt, body, receives]`, message));
  checks.equal("QRECV COUNT 10 gives high, low, plain with their ids and receives 1",
    firstBatch.map(([id, , body, receives]) => [id, body, receives]),
    [[highId, "high", 1], [lowId, "low", 1], [plainId, "plain", 1]]);
  const [highReceipt, lowReceipt, plainReceipt] = firstBatch.map((message) => message[1]);

  // 5. QDEL counts what it deleted; a stale receipt is not an error.
  checks.equal("QDEL of high's receipt is 1",
    await client.sendCommand(["QDEL", jobs, highReceipt]), 1);
  checks.equal("the same QDEL again is 0",
    await client.sendCommand(["QDEL", jobs, highReceipt]), 0);

  // 6. QVIS 0 gives a message back; a deleted message's receipt is stale.
  checks.equal("QVIS low 0 is OK", await client.sendCommand(["QVIS", jobs, lowReceipt, "0"]), "OK");
  checks.equal("QVIS plain 60 is OK",
    await client.sendCommand(["QVIS", jobs, plainReceipt, "60"]), "OK");
  await checks.rejects("QVIS of high's receipt is the BADRECEIPT error",
    client.sendCommand(["QVIS", jobs, highReceipt, "5"]), ErrorReply,
    "BADRECEIPT receipt is stale or unknown");

  // 7. Once the delay is over: low (received before) ahead of later (priority 1 > 0).
  await sleep(Math.max(0, laterSentAt + 1100 - performance.now()));
  const secondBatch = await client.sendCommand(["QRECV", jobs, "COUNT", "10"]);
  checks.equal("after the delay QRECV gives low (receives 2) then later (receives 1)",
    secondBatch.map(([id, , body, receives]) => [id, body, receives]),
    [[lowId, "low", 2], [laterId, "later", 1]]);

  // 8. FIFO order and deduplication.
  const o1Id = await client.sendCommand(["QSEND", orders, "o1", "GROUP", "g1", "DEDUPID", "d1"]);
  const o2Id = await client.sendCommand(["QSEND", orders, "o2", "GROUP", "g1", "DEDUPID", "d2"]);
  const o1AgainId =
    await client.sendCommand(["QSEND", orders, "o1", "GROUP", "g1", "DEDUPID", "d1"]);
  checks.kind("a FIFO QSEND replies a string id", o1Id, "string");
  checks.that("o1 and o2 have different ids", o1Id !== o2Id, `both ${o1Id}`);
  checks.equal("a second QSEND with DEDUPID d1 replies the first id", o1AgainId, o1Id);
  const fifoBatch = await client.sendCommand(["QRECV", orders, "COUNT", "10"]);
  checks.equal("QRECV on the FIFO queue gives o1 then o2, once each",
    fifoBatch.map(([id, , body]) => [id, body]), [[o1Id, "o1"], [o2Id, "o2"]]);

  // 9. Long polling: the blocked QRECV is woken by a QSEND on another connection.
  // (node-redis's 5 s command timeout only runs until a command is written, so a
  // long WAIT needs no option.)
  checks.equal(`QCREATE ${wait} is OK`, await client.sendCommand(["QCREATE", wait]), "OK");
  const waker = client.duplicate();
  waker.on("error", (err) => checks.fail("no error on the second connection", err.message));
  await waker.connect();
  const blockedSince = performance.now();
  const blockedReceive = client.sendCommand(["QRECV", wait, "WAIT", "5"]);
  await sleep(200);
  const wakeId = await waker.sendCommand(["QSEND", wait, "wake"]);
  const woken = await blockedReceive;
  const blockedFor = performance.now() - blockedSince;
  checks.equal("the blocked QRECV ... WAIT 5 returns the message sent by the other connection",
    woken.map(([id, , body, receives]) => [id, body, receives]), [[wakeId, "wake", 1]]);
  checks.that("it blocked until that send and returned well before 5 s",
    blockedFor >= 200 && blockedFor < 1500, `returned after ${blockedFor.toFixed(0)} ms`);
  await waker.close();
  checks.equal("the second connection closes", waker.isOpen, false);
  const emptySince = performance.now();
  const nothing = await client.sendCommand(["QRECV", wait, "WAIT", "0.2"]);
  const emptyFor = performance.now() - emptySince;
  checks.equal("QRECV WAIT 0.2 on the empty queue is an empty list", nothing, []);
  // The server waits at least the time asked, so even 1 ms early is a failure.
  checks.that("it returned after at least 0.2 s", emptyFor >= 200 && emptyFor < 1500,
    `returned after ${emptyFor.toFixed(0)} ms`);

  // 10. QINFO: its shape depends on the protocol and the type mapping, its content not.
  const info = await client.sendCommand(["QINFO", jobs]);
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

  // 11. An error reply leaves the connection usable.
  await checks.rejects(`QSEND ${missing} is the NOQUEUE error`,
    client.sendCommand(["QSEND", missing, "x"]), ErrorReply, `NOQUEUE no such queue '${missing}'`);
  checks.equal("the connection still works: QLEN is 0 (all leased)",
    await client.sendCommand(["QLEN", jobs]), 0);

  // QSCAN, while the session's three queues exist.
  checks.equal(`QSCAN MATCH ${P}* finds the session's queues`, await scanQueues(client, `${P}*`),
    [jobs, orders, wait].sort());

  // 12. QDROP of each queue.
  for (const queue of [jobs, orders, wait]) {
    checks.equal(`QDROP ${queue} is 1`, await client.sendCommand(["QDROP", queue]), 1);
  }
  checks.equal("QSCAN finds none of them any more", await scanQueues(client, `${P}*`), []);
}

// Every queue name QSCAN returns for the pattern, following the cursor (a string)
// until it is "0" again. COUNT 2 makes it take several rounds.
async function scanQueues(client, pattern) {
  const names = new Set();
  let cursor = "0";
  do {
    const [next, batch] =
      await client.sendCommand(["QSCAN", cursor, "MATCH", pattern, "COUNT", "2"]);
    if (typeof next !== "string" || !Array.isArray(batch)) {
      throw new Error(`QSCAN replied ${JSON.stringify([next, batch])}`);
    }
    batch.forEach((name) => names.add(name));
    cursor = next;
  } while (cursor !== "0");
  return [...names].sort();
}

// Pipelines, MULTI/EXEC, QPEEK, QSET and QPURGE on a queue of 1,000 messages,
// and a binary body.
async function batches(client, P) {
  const bulk = `${P}bulk`;
  const missing = `${P}missing`;
  checks.equal(`QCREATE ${bulk} is OK`, await client.sendCommand(["QCREATE", bulk]), "OK");

  // Commands issued in the same tick leave in one write: node-redis's own pipelining.
  const bodies = Array.from({ length: 1000 }, (_, i) => `m${i}`);
  const bulkIds =
    await Promise.all(bodies.map((body) => client.sendCommand(["QSEND", bulk, body])));
  checks.equal("1,000 concurrent QSENDs give 1,000 string ids",
    bulkIds.filter((id) => typeof id === "string").length, 1000);
  checks.equal("the 1,000 ids differ", new Set(bulkIds).size, 1000);
  checks.equal(`QLEN ${bulk} is 1000`, await client.sendCommand(["QLEN", bulk]), 1000);

  const explicitPipeline = await client.multi()
    .sendCommand(["QSEND", bulk, "p1"]).sendCommand(["QLEN", bulk]).execAsPipeline();
  checks.equal("multi().sendCommand(...).execAsPipeline() gives [id, 1001]",
    [typeof explicitPipeline[0], explicitPipeline[1]], ["string", 1001]);
  await checks.rejects("an error in an explicit pipeline rejects it with that command's error",
    client.multi()
      .sendCommand(["QSEND", missing, "x"]).sendCommand(["QLEN", bulk]).execAsPipeline(),
    ErrorReply, `NOQUEUE no such queue '${missing}'`);

  checks.equal("QPEEK COUNT 3 shows the first three, never received, without leasing them",
    await client.sendCommand(["QPEEK", bulk, "COUNT", "3"]),
    [[bulkIds[0], "m0", 0], [bulkIds[1], "m1", 0], [bulkIds[2], "m2", 0]]);
  const everything = await client.sendCommand(["QRECV", bulk, "COUNT", "1000"]);
  checks.equal("QRECV COUNT 1000 gives the first 1,000 in send order",
    everything.map(([id, , body]) => `${id} ${body}`), bulkIds.map((id, i) => `${id} m${i}`));

  checks.equal("QSET VISIBILITY 45 MAXDEPTH 5000 is OK",
    await client.sendCommand(["QSET", bulk, "VISIBILITY", "45", "MAXDEPTH", "5000"]), "OK");
  const changed = new Map(fieldEntries(await client.sendCommand(["QINFO", bulk])));
  checks.equal("QINFO shows the new settings",
    pick(changed, ["visibility_ms", "maxdepth", "inflight", "ready"]),
    { visibility_ms: 45000, maxdepth: 5000, inflight: 1000, ready: 1 });

  checks.equal("QPURGE removes all 1,001 messages, leased or not",
    await client.sendCommand(["QPURGE", bulk]), 1001);
  checks.equal("QLEN is 0 after QPURGE", await client.sendCommand(["QLEN", bulk]), 0);

  // Bodies are bytes: a Buffer goes out as it is; a BLOB_STRING type mapping brings
  // bytes back.
  const binaryBody = Buffer.from([0, 255, 13, 10, 36, 42, 200]);
  const binaryId = await client.sendCommand(["QSEND", bulk, binaryBody]);
  const bytesClient = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const [[idBytes, receiptBytes, bodyBytes]] = await bytesClient.sendCommand(["QRECV", bulk]);
  checks.equal("a binary body (NUL, 0xff, CR LF, $, *) comes back byte for byte",
    [idBytes.toString(), Buffer.isBuffer(bodyBytes) && bodyBytes.equals(binaryBody)],
    [binaryId, true]);
  checks.equal("QDEL with the receipt as a Buffer is 1",
    await client.sendCommand(["QDEL", bulk, receiptBytes]), 1);

  const transaction = await client.multi()
    .sendCommand(["QSEND", bulk, "t1"]).sendCommand(["QLEN", bulk]).exec();
  checks.equal("multi().exec() (MULTI/EXEC) with QSEND and QLEN gives [id, 1]",
    [typeof transaction[0], transaction[1]], ["string", 1]);
  try {
    await client.multi().sendCommand(["QLEN", bulk]).sendCommand(["QSEND", missing, "x"]).exec();
    checks.fail("a failing command inside MULTI/EXEC rejects exec()", "it resolved");
  } catch (err) {
    checks.equal("a failing command inside MULTI/EXEC: MultiErrorReply with every reply",
      [err instanceof MultiErrorReply, err.errorIndexes, err.replies?.[0],
        err.replies?.[1] instanceof ErrorReply && err.replies[1].message],
      [true, [1], 1, `NOQUEUE no such queue '${missing}'`]);
  }
  checks.equal(`QDROP ${bulk} is 1`, await client.sendCommand(["QDROP", bulk]), 1);
}

// A dead-letter queue: a message given back once too often moves there, carries
// where it came from in WITHMETA, and QREDRIVE sends it home.
async function deadLetters(client, mode, P) {
  const dlq = `${P}dlq`;
  const src = `${P}src`;
  checks.equal(`QCREATE ${dlq} is OK`, await client.sendCommand(["QCREATE", dlq]), "OK");
  checks.equal(`QCREATE ${src} DLQ ${dlq} MAXRECEIVES 1 is OK`,
    await client.sendCommand(["QCREATE", src, "DLQ", dlq, "MAXRECEIVES", "1"]), "OK");
  const poisonId = await client.sendCommand(["QSEND", src, "poison", "PRIORITY", "3"]);
  const [[, receipt]] = await client.sendCommand(["QRECV", src]);
  checks.equal("QVIS 0 after the last allowed receive is OK",
    await client.sendCommand(["QVIS", src, receipt, "0"]), "OK");
  checks.equal("the message left the source queue and is ready in the DLQ",
    [await client.sendCommand(["QLEN", src]), await client.sendCommand(["QLEN", dlq])], [0, 1]);
  checks.equal("QPEEK of the DLQ shows it with its receive count",
    await client.sendCommand(["QPEEK", dlq]), [[poisonId, "poison", 1]]);

  const [dead] = await client.sendCommand(["QRECV", dlq, "WITHMETA", "VISIBILITY", "30"]);
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
  checks.equal("QVIS 0 gives it back to the DLQ",
    await client.sendCommand(["QVIS", dlq, dead[1], "0"]), "OK");

  const dlqInfo = new Map(fieldEntries(await client.sendCommand(["QINFO", dlq])));
  const srcInfo = new Map(fieldEntries(await client.sendCommand(["QINFO", src])));
  checks.equal("QINFO of the DLQ lists its source in dlq_sources",
    pick(dlqInfo, ["dlq", "dlq_sources", "ready"]), { dlq: null, dlq_sources: [src], ready: 1 });
  checks.equal("QINFO of the source names its DLQ and counts the dead-lettering",
    pick(srcInfo, ["dlq", "maxreceives", "deadlettered_total"]),
    { dlq, maxreceives: 1, deadlettered_total: 1 });
  await checks.rejects("QDROP of a DLQ in use is the INUSE error",
    client.sendCommand(["QDROP", dlq]), ErrorReply,
    `INUSE queue '${dlq}' is the dead-letter queue of '${src}'`);

  checks.equal(`QREDRIVE ${dlq} moves 1 message`, await client.sendCommand(["QREDRIVE", dlq]), 1);
  checks.equal("the source queue delivers it again: same id, receives counted afresh",
    (await client.sendCommand(["QRECV", src]))
      .map(([id, , body, receives]) => [id, body, receives]),
    [[poisonId, "poison", 1]]);
  checks.equal(`QDROP ${src} then ${dlq} are 1 and 1`,
    [await client.sendCommand(["QDROP", src]), await client.sendCommand(["QDROP", dlq])], [1, 1]);
}

async function main() {
  checks.armWatchdog(120);
  let clientVersion;
  try {
    ({ createClient, ErrorReply, MultiErrorReply, RESP_TYPES } = require("redis"));
    // CLIENT SETINFO LIB-VER carries @redis/client's version, the package that
    // `redis` wraps.
    clientVersion = require("@redis/client/package.json").version;
    const redisVersion = require("redis/package.json").version;
    checks.ok(`node-redis ${redisVersion} (@redis/client ${clientVersion}) loads`);
  } catch (err) {
    checks.fail("node-redis loads (run npm ci in redis-compat/node)", err.message);
    return checks.finish();
  }

  for (const mode of modes()) {
    checks.scope = mode.tag;
    const P = `node_redis_${mode.tag}_`;
    let client;
    await checks.section("connect", async () => {
      client = await connect(mode);
    });
    if (!client) continue;
    await checks.section("handshake", () => handshake(client, mode, clientVersion));
    await checks.section("session", () => session(client, mode, P));
    await checks.section("pipelines and transactions", () => batches(client, P));
    await checks.section("dead-letter queue", () => deadLetters(client, mode, P));
    await checks.section("close", async () => {
      await client.close();
      checks.equal("close() closes the connection", client.isOpen, false);
    });
    if (client.isOpen) client.destroy();
  }
  checks.scope = "";
  await checks.noOpenSockets("every connection is closed, so the process can exit");
  checks.finish();
}

main();
