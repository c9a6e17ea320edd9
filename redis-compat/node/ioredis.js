#!/usr/bin/env node
// ioredis.js: the redis-compat session (../README.md) written as a Node.js user of
// ioredis 6 would write it, plus what ioredis is for: pipelines, MULTI/EXEC, and
// a second connection from duplicate() for the long poll. respq's commands go
// through redis.call(): ioredis sends any command name that way, so neither
// defineCommand (which is for Lua scripts) nor addBuiltinCommand is needed.
// ioredis 6 says HELLO 3 on connect, then CLIENT SETINFO, then INFO for its ready
// check, so the whole run is done once per way a user may set the protocol up:
// the default (RESP3, with the "legacy" reply mapping that flattens maps into
// field/value lists as RESP2 does), protocol 2, and replyMapping "resp3" (maps
// become plain objects). Queue names start with ioredis_<mode>_. The checks that
// do not depend on ioredis's API are in session.js, the report in check.js.
"use strict";

const { once } = require("node:events");
const { performance } = require("node:perf_hooks");
const { Checks, fieldEntries, host, pick, port, sleep } = require("./check");
const shared = require("./session");

const checks = new Checks();
// Set by main() once the package has loaded.
let Redis;

const MODES = [
  { tag: "default", options: {}, resp: 3, mapShape: "flat list" },
  { tag: "resp2", options: { protocol: 2 }, resp: 2, mapShape: "flat list" },
  {
    tag: "resp3map",
    options: { protocol: 3, replyMapping: "resp3" },
    resp: 3,
    mapShape: "plain object",
  },
];

async function connect(mode) {
  const redis = new Redis({
    host,
    port,
    lazyConnect: true,
    // A dropped connection must show up as failures, not be papered over by a
    // reconnect and a silent retry of the command.
    retryStrategy: () => null,
    ...mode.options,
  });
  redis.on("error", (err) => checks.fail("no connection error", err.message));
  // connect() resolves only once HELLO, CLIENT SETINFO and the INFO ready check
  // have all been answered to ioredis's liking.
  await redis.connect();
  return redis;
}

// QUIT, then wait for ioredis's "end": the reply alone does not mean the socket
// is gone, and a socket left open would keep the process from exiting.
async function quit(redis, what) {
  const ended = once(redis, "end");
  const reply = await redis.quit();
  await ended;
  checks.equal(what, [reply, redis.status], ["OK", "end"]);
}

async function handshake(redis, mode, ioredisVersion) {
  checks.equal("connected and ready (HELLO, CLIENT SETINFO, INFO ready check)",
    redis.status, "ready");
  shared.clientInfo(checks, await redis.call("CLIENT", "INFO"), mode, "ioredis", ioredisVersion);
  const serverInfo = await redis.info("server");
  checks.that("INFO server carries redis_version:7.0.0 (what the ready check and users read)",
    serverInfo.split("\r\n").includes("redis_version:7.0.0"),
    JSON.stringify(serverInfo.slice(0, 120)));
}

async function session(redis, mode, P) {
  const jobs = `${P}jobs`;
  const orders = `${P}orders`;
  const wait = `${P}wait`;
  const missing = `${P}missing`;

  // 1. QCREATE, idempotent for the same attributes, EXISTS for others.
  checks.equal(`QCREATE ${jobs} VISIBILITY 30 is OK`,
    await redis.call("QCREATE", jobs, "VISIBILITY", 30), "OK");
  checks.equal("the same QCREATE again is OK",
    await redis.call("QCREATE", jobs, "VISIBILITY", 30), "OK");
  await checks.rejects(`QCREATE ${jobs} VISIBILITY 10 is the EXISTS error`,
    redis.call("QCREATE", jobs, "VISIBILITY", 10), Redis.ReplyError,
    `EXISTS queue '${jobs}' exists with different attributes`);
  checks.equal(`QCREATE ${orders} FIFO is OK`, await redis.call("QCREATE", orders, "FIFO"), "OK");

  // 2. Four sends, each replying a string id.
  const lowId = await redis.call("QSEND", jobs, "low", "PRIORITY", 1);
  const highId = await redis.call("QSEND", jobs, "high", "PRIORITY", 9);
  const laterId = await redis.call("QSEND", jobs, "later", "DELAY", 1);
  const laterSentAt = performance.now();
  const plainId = await redis.call("QSEND", jobs, "plain");
  const ids = { low: lowId, high: highId, later: laterId, plain: plainId };
  shared.sentIds(checks, ids);

  // 3. The delayed message does not count.
  checks.equal(`QLEN ${jobs} is the integer 3`, await redis.call("QLEN", jobs), 3);

  // 4. Priority first, then send order.
  const firstBatch = await redis.call("QRECV", jobs, "COUNT", 10, "VISIBILITY", 5);
  const [highReceipt, lowReceipt, plainReceipt] = shared.firstBatch(checks, firstBatch, ids);

  // 5. QDEL counts what it deleted; a stale receipt is not an error.
  checks.equal("QDEL of high's receipt is 1", await redis.call("QDEL", jobs, highReceipt), 1);
  checks.equal("the same QDEL again is 0", await redis.call("QDEL", jobs, highReceipt), 0);

  // 6. QVIS 0 gives a message back; a deleted message's receipt is stale.
  checks.equal("QVIS low 0 is OK", await redis.call("QVIS", jobs, lowReceipt, 0), "OK");
  checks.equal("QVIS plain 60 is OK", await redis.call("QVIS", jobs, plainReceipt, 60), "OK");
  await checks.rejects("QVIS of high's receipt is the BADRECEIPT error",
    redis.call("QVIS", jobs, highReceipt, 5), Redis.ReplyError,
    "BADRECEIPT receipt is stale or unknown");

  // 7. Once the delay is over: low (received before) ahead of later (priority 1 > 0).
  await shared.untilDelayOver(laterSentAt);
  const secondBatch = await redis.call("QRECV", jobs, "COUNT", 10);
  shared.secondBatch(checks, secondBatch, ids);

  // 8. FIFO order and deduplication.
  const o1Id = await redis.call("QSEND", orders, "o1", "GROUP", "g1", "DEDUPID", "d1");
  const o2Id = await redis.call("QSEND", orders, "o2", "GROUP", "g1", "DEDUPID", "d2");
  const o1AgainId = await redis.call("QSEND", orders, "o1", "GROUP", "g1", "DEDUPID", "d1");
  const fifoBatch = await redis.call("QRECV", orders, "COUNT", 10);
  shared.fifo(checks, o1Id, o2Id, o1AgainId, fifoBatch);

  // 9. Long polling: the blocked QRECV is woken by a QSEND on another connection.
  checks.equal(`QCREATE ${wait} is OK`, await redis.call("QCREATE", wait), "OK");
  const waker = redis.duplicate();
  await waker.connect();
  const blockedSince = performance.now();
  const blockedReceive = redis.call("QRECV", wait, "WAIT", 5);
  await sleep(200);
  const wakeId = await waker.call("QSEND", wait, "wake");
  const woken = await blockedReceive;
  const blockedFor = performance.now() - blockedSince;
  shared.woken(checks, woken, wakeId, blockedFor);
  await quit(waker, "QUIT on the second connection is OK, and it closes");
  const emptySince = performance.now();
  const nothing = await redis.call("QRECV", wait, "WAIT", 0.2);
  const emptyFor = performance.now() - emptySince;
  shared.emptyWait(checks, nothing, emptyFor);

  // 10. QINFO: its shape depends on the protocol and replyMapping, its content not.
  const info = await redis.call("QINFO", jobs);
  shared.qinfo(checks, info, mode, jobs);

  // 11. An error reply leaves the connection usable.
  await checks.rejects(`QSEND ${missing} is the NOQUEUE error`,
    redis.call("QSEND", missing, "x"), Redis.ReplyError, `NOQUEUE no such queue '${missing}'`);
  checks.equal("the connection still works: QLEN is 0 (all leased)",
    await redis.call("QLEN", jobs), 0);

  // QSCAN, while the session's three queues exist.
  checks.equal(`QSCAN MATCH ${P}* finds the session's queues`, await scanQueues(redis, `${P}*`),
    [jobs, orders, wait].sort());

  // 12. QDROP of each queue.
  for (const queue of [jobs, orders, wait]) {
    checks.equal(`QDROP ${queue} is 1`, await redis.call("QDROP", queue), 1);
  }
  checks.equal("QSCAN finds none of them any more", await scanQueues(redis, `${P}*`), []);
}

// Every queue name QSCAN returns for the pattern (session.js follows the cursor).
function scanQueues(redis, pattern) {
  return shared.scanQueues(async (cursor) => {
    const [next, batch] = await redis.call("QSCAN", cursor, "MATCH", pattern, "COUNT", 2);
    return [next, batch];
  });
}

// Pipelines, MULTI/EXEC, QPEEK, QSET and QPURGE on a queue of 1,000 messages,
// and a binary body.
async function batches(redis, P) {
  const bulk = `${P}bulk`;
  const missing = `${P}missing`;
  // respq's commands need no registration: redis.call sends any name (ioredis has
  // no redis.qsend method, which says nothing about respq, so it is not checked).
  checks.equal(`QCREATE ${bulk} is OK`, await redis.call("QCREATE", bulk), "OK");

  const pipeline = redis.pipeline();
  for (let i = 0; i < 1000; i++) pipeline.call("QSEND", bulk, `m${i}`);
  const sent = await pipeline.exec();
  checks.equal("a pipeline of 1,000 QSENDs gives 1,000 [null, id] results",
    sent.filter(([err, id]) => err === null && typeof id === "string").length, 1000);
  const bulkIds = sent.map(([, id]) => id);
  checks.equal("the 1,000 ids differ", new Set(bulkIds).size, 1000);
  checks.equal(`QLEN ${bulk} is 1000`, await redis.call("QLEN", bulk), 1000);

  const errorInPipeline = await redis.pipeline()
    .call("QLEN", bulk).call("QSEND", missing, "x").call("QLEN", bulk).exec();
  checks.equal("an error in a pipeline is that command's result only",
    errorInPipeline.map(([err, reply]) => [err && `${err.name}: ${err.message}`, reply]),
    [[null, 1000], [`ReplyError: NOQUEUE no such queue '${missing}'`, undefined], [null, 1000]]);

  checks.equal("QPEEK COUNT 3 shows the first three, never received, without leasing them",
    await redis.call("QPEEK", bulk, "COUNT", 3),
    [[bulkIds[0], "m0", 0], [bulkIds[1], "m1", 0], [bulkIds[2], "m2", 0]]);
  const everything = await redis.call("QRECV", bulk, "COUNT", 1000);
  checks.equal("QRECV COUNT 1000 gives all 1,000 in send order",
    everything.map(([id, , body]) => `${id} ${body}`), bulkIds.map((id, i) => `${id} m${i}`));

  checks.equal("QSET VISIBILITY 45 MAXDEPTH 5000 is OK",
    await redis.call("QSET", bulk, "VISIBILITY", 45, "MAXDEPTH", 5000), "OK");
  const changed = new Map(fieldEntries(await redis.call("QINFO", bulk)));
  checks.equal("QINFO shows the new settings",
    pick(changed, ["visibility_ms", "maxdepth", "inflight"]),
    { visibility_ms: 45000, maxdepth: 5000, inflight: 1000 });

  checks.equal("QPURGE removes the 1,000 leased messages", await redis.call("QPURGE", bulk), 1000);
  checks.equal("QLEN is 0 after QPURGE", await redis.call("QLEN", bulk), 0);

  // Bodies are bytes: a Buffer goes out as it is, callBuffer() brings bytes back.
  const binaryBody = Buffer.from([0, 255, 13, 10, 36, 42, 200]);
  const binaryId = await redis.call("QSEND", bulk, binaryBody);
  const [[idBytes, receiptBytes, bodyBytes]] = await redis.callBuffer("QRECV", bulk);
  shared.binaryBack(checks, binaryBody, binaryId, idBytes, bodyBytes);
  checks.equal("QDEL with the receipt as a Buffer is 1",
    await redis.call("QDEL", bulk, receiptBytes), 1);

  const transaction = await redis.multi().call("QSEND", bulk, "t1").call("QLEN", bulk).exec();
  checks.equal("multi() (MULTI/EXEC) with QSEND and QLEN gives [[null, id], [null, 1]]",
    transaction.map(([err, reply]) => [err, typeof reply === "string" ? "an id" : reply]),
    [[null, "an id"], [null, 1]]);
  const failedInside = await redis.multi().call("QLEN", bulk).call("QSEND", missing, "x").exec();
  checks.equal("a command failing inside MULTI/EXEC is a ReplyError in its place only",
    failedInside.map(([err, reply]) => [err && `${err.name}: ${err.message}`, reply]),
    [[null, 1], [`ReplyError: NOQUEUE no such queue '${missing}'`, undefined]]);

  // addBuiltinCommand is only sugar over redis.call: a method named after the command.
  redis.addBuiltinCommand("qlen");
  checks.equal("after addBuiltinCommand('qlen'), redis.qlen() works too",
    await redis.qlen(bulk), 1);
  checks.equal(`QDROP ${bulk} is 1`, await redis.call("QDROP", bulk), 1);
}

// A dead-letter queue: a message given back once too often moves there, carries
// where it came from in WITHMETA, and QREDRIVE sends it home.
async function deadLetters(redis, mode, P) {
  const dlq = `${P}dlq`;
  const src = `${P}src`;
  checks.equal(`QCREATE ${dlq} is OK`, await redis.call("QCREATE", dlq), "OK");
  checks.equal(`QCREATE ${src} DLQ ${dlq} MAXRECEIVES 1 is OK`,
    await redis.call("QCREATE", src, "DLQ", dlq, "MAXRECEIVES", 1), "OK");
  const poisonId = await redis.call("QSEND", src, "poison", "PRIORITY", 3);
  const [[, receipt]] = await redis.call("QRECV", src);
  checks.equal("QVIS 0 after the last allowed receive is OK",
    await redis.call("QVIS", src, receipt, 0), "OK");
  checks.equal("the message left the source queue and is ready in the DLQ",
    [await redis.call("QLEN", src), await redis.call("QLEN", dlq)], [0, 1]);
  checks.equal("QPEEK of the DLQ shows it with its receive count",
    await redis.call("QPEEK", dlq), [[poisonId, "poison", 1]]);

  const [dead] = await redis.call("QRECV", dlq, "WITHMETA", "VISIBILITY", 30);
  shared.withMeta(checks, dead, mode, poisonId, src);
  checks.equal("QVIS 0 gives it back to the DLQ", await redis.call("QVIS", dlq, dead[1], 0), "OK");

  shared.dlqInfos(checks, await redis.call("QINFO", dlq), await redis.call("QINFO", src),
    dlq, src);
  await checks.rejects("QDROP of a DLQ in use is the INUSE error",
    redis.call("QDROP", dlq), Redis.ReplyError,
    `INUSE queue '${dlq}' is the dead-letter queue of '${src}'`);

  checks.equal(`QREDRIVE ${dlq} moves 1 message`, await redis.call("QREDRIVE", dlq), 1);
  checks.equal("the source queue delivers it again: same id, receives counted afresh",
    shared.received(await redis.call("QRECV", src)),
    [[poisonId, "poison", 1]]);
  checks.equal(`QDROP ${src} then ${dlq} are 1 and 1`,
    [await redis.call("QDROP", src), await redis.call("QDROP", dlq)], [1, 1]);
}

async function main() {
  checks.armWatchdog(120);
  let ioredisVersion;
  try {
    Redis = require("ioredis");
    ioredisVersion = require("ioredis/package.json").version;
    checks.ok(`ioredis ${ioredisVersion} loads`);
  } catch (err) {
    checks.fail("ioredis loads (run npm ci in redis-compat/node)", err.message);
    return checks.finish();
  }

  await shared.runModes(checks, {
    modes: MODES,
    prefix: "ioredis_",
    connect,
    steps: [
      ["handshake", (redis, mode) => handshake(redis, mode, ioredisVersion)],
      ["session", session],
      ["pipelines and transactions", (redis, mode, P) => batches(redis, P)],
      ["dead-letter queue", deadLetters],
      ["quit", (redis) => quit(redis, "QUIT is OK, and the connection closes")],
    ],
    release: (redis) => {
      if (redis.status !== "end") redis.disconnect();
    },
  });
}

main();
