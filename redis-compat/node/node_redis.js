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
// start with node_redis_<mode>_. The checks that do not depend on node-redis's API
// are in session.js, the report in check.js.
"use strict";

const { performance } = require("node:perf_hooks");
const { Checks, fieldEntries, host, pick, port, sleep } = require("./check");
const shared = require("./session");

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
  shared.clientInfo(checks, await client.sendCommand(["CLIENT", "INFO"]), mode, "node-redis",
    clientVersion);
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
  shared.sentIds(checks, ids);

  // 3. The delayed message does not count.
  checks.equal(`QLEN ${jobs} is the integer 3`, await client.sendCommand(["QLEN", jobs]), 3);

  // 4. Priority first, then send order.
  const firstBatch = await client.sendCommand(["QRECV", jobs, "COUNT", "10", "VISIBILITY", "5"]);
  const [highReceipt, lowReceipt, plainReceipt] = shared.firstBatch(checks, firstBatch, ids);

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
  await shared.untilDelayOver(laterSentAt);
  const secondBatch = await client.sendCommand(["QRECV", jobs, "COUNT", "10"]);
  shared.secondBatch(checks, secondBatch, ids);

  // 8. FIFO order and deduplication.
  const o1Id = await client.sendCommand(["QSEND", orders, "o1", "GROUP", "g1", "DEDUPID", "d1"]);
  const o2Id = await client.sendCommand(["QSEND", orders, "o2", "GROUP", "g1", "DEDUPID", "d2"]);
  const o1AgainId =
    await client.sendCommand(["QSEND", orders, "o1", "GROUP", "g1", "DEDUPID", "d1"]);
  const fifoBatch = await client.sendCommand(["QRECV", orders, "COUNT", "10"]);
  shared.fifo(checks, o1Id, o2Id, o1AgainId, fifoBatch);

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
  shared.woken(checks, woken, wakeId, blockedFor);
  await waker.close();
  checks.equal("the second connection closes", waker.isOpen, false);
  const emptySince = performance.now();
  const nothing = await client.sendCommand(["QRECV", wait, "WAIT", "0.2"]);
  const emptyFor = performance.now() - emptySince;
  shared.emptyWait(checks, nothing, emptyFor);

  // 10. QINFO: its shape depends on the protocol and the type mapping, its content not.
  const info = await client.sendCommand(["QINFO", jobs]);
  shared.qinfo(checks, info, mode, jobs);

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

// Every queue name QSCAN returns for the pattern (session.js follows the cursor).
function scanQueues(client, pattern) {
  return shared.scanQueues(async (cursor) => {
    const [next, batch] =
      await client.sendCommand(["QSCAN", cursor, "MATCH", pattern, "COUNT", "2"]);
    return [next, batch];
  });
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
  shared.binaryBack(checks, binaryBody, binaryId, idBytes, bodyBytes);
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
  shared.withMeta(checks, dead, mode, poisonId, src);
  checks.equal("QVIS 0 gives it back to the DLQ",
    await client.sendCommand(["QVIS", dlq, dead[1], "0"]), "OK");

  shared.dlqInfos(checks, await client.sendCommand(["QINFO", dlq]),
    await client.sendCommand(["QINFO", src]), dlq, src);
  await checks.rejects("QDROP of a DLQ in use is the INUSE error",
    client.sendCommand(["QDROP", dlq]), ErrorReply,
    `INUSE queue '${dlq}' is the dead-letter queue of '${src}'`);

  checks.equal(`QREDRIVE ${dlq} moves 1 message`, await client.sendCommand(["QREDRIVE", dlq]), 1);
  checks.equal("the source queue delivers it again: same id, receives counted afresh",
    shared.received(await client.sendCommand(["QRECV", src])),
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

  await shared.runModes(checks, {
    modes: modes(),
    prefix: "node_redis_",
    connect,
    steps: [
      ["handshake", (client, mode) => handshake(client, mode, clientVersion)],
      ["session", session],
      ["pipelines and transactions", (client, mode, P) => batches(client, P)],
      ["dead-letter queue", deadLetters],
      ["close", async (client) => {
        await client.close();
        checks.equal("close() closes the connection", client.isOpen, false);
      }],
    ],
    release: (client) => {
      if (client.isOpen) client.destroy();
    },
  });
}

main();
