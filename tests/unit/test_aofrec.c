/* test_aofrec.c: the record codec of the append-only file (src/aofrec.c) and the
 * engine's replay functions under it (the "Replay and snapshots" part of
 * src/engine/queue.c).
 *
 * The central claim of the format is that records log effects, so an engine
 * that only applies them, and is never advanced, is an exact copy of the engine
 * that wrote them. The tests check it the strict way: a long random workload
 * runs on engine A with a simulated clock (every kind of queue and message
 * change, timers, long-poll waiters), an effect sink encodes every effect into
 * one buffer, and that buffer, parsed back with the RESP parser, is applied to
 * engine B. A and B are then compared through the engine's internals
 * (engine/internal.h): every queue's attributes, links, counters and totals,
 * every message's image, timer and place in its queue's list and FIFO group,
 * the seq table, the dedup entries still in their window, the epoch and the
 * next sequence. The same comparison covers a rewrite (a snapshot applied to
 * an empty engine) and a snapshot taken half-way followed by the rest of the
 * log, and the replayed engines must go on as A does when their timers run.
 *
 * What a snapshot cannot carry is the order in which a FIFO queue's groups
 * became receivable (the engine serves groups in that order; the contract
 * fixes none), so only the effect replay is compared on it.
 *
 * Seeds and steps can be changed with AOFREC_SEEDS and AOFREC_STEPS.
 *
 *     gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
 *         -fsanitize=address,undefined -I src src/engine/[a-z]*.c src/aofrec.c \
 *         src/resp.c src/mem.c tests/unit/test_aofrec.c -lcmocka \
 *         -o /tmp/test_aofrec && /tmp/test_aofrec
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aofrec.h"
#include "engine/internal.h"
#include "resp.h"

#define SEC INT64_C(1000)
#define MINUTE (60 * SEC)
#define T0 INT64_C(1800000000000)
#define EPOCH_A 0x5eed0042u

#define NRECEIPTS 256
#define NWAITERS 6
#define MAXRECV 8

/* ---- Failing with context ---- */

/* Where a comparison is, for failure messages: "seed 3 step 1712: queue 'src'". */
static char where[256];

#define CHECK(cond, ...)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            char msg_[512];                                                            \
            snprintf(msg_, sizeof(msg_), __VA_ARGS__);                                 \
            fail_msg("%s: %s (%s)", where, msg_, #cond);                               \
        }                                                                              \
    } while (0)

/* ---- The log: every effect encoded as a record ---- */

typedef struct recLog {
    respBuf buf;
    uint64_t lsn; /* of the last record */
} recLog;

static void logEffect(void *ctx, const effect *ef) {
    recLog *l = ctx;
    aofrecEncodeEffect(&l->buf, ++l->lsn, ef);
}

/* Applies every record of buf[*off..len) to e, each of which must apply;
 * *off ends at len. LSNs must increase by one from *lsn (strict) or all equal
 * *lsn (a snapshot). Returns the number of records applied. */
static size_t applyRecords(engine *e, const respBuf *buf, size_t *off, uint64_t *lsn,
                           int strict) {
    respParser p;
    respParserInit(&p);
    size_t n = 0;
    while (*off < buf->len) {
        size_t consumed = 0;
        int rc = respParse(&p, buf->data + *off, buf->len - *off, &consumed);
        CHECK(rc == RESP_OK, "record %zu at offset %zu does not parse (%d: %s)", n,
              *off, rc, p.err);
        uint64_t got;
        char err[256] = "";
        int ok = aofrecApply(e, p.argc, p.argv, &got, err, sizeof(err));
        CHECK(ok == 0, "record %zu (%.*s) refused: %s", n, (int)p.argv[2].len,
              p.argv[2].ptr, err);
        if (strict) {
            CHECK(got == *lsn + 1, "lsn %llu after %llu", (unsigned long long)got,
                  (unsigned long long)*lsn);
            *lsn = got;
        } else {
            CHECK(got == *lsn, "snapshot lsn %llu, expected %llu",
                  (unsigned long long)got, (unsigned long long)*lsn);
        }
        *off += consumed;
        n++;
    }
    respParserFree(&p);
    return n;
}

/* Collects the flushed pieces of a snapshot into one buffer. */
typedef struct collector {
    respBuf all;
    int flushes;
    int failAt; /* the flush that returns -1, 0 for none */
} collector;

static int collect(void *ctx, respBuf *buf) {
    collector *c = ctx;
    c->flushes++;
    if (c->failAt && c->flushes == c->failAt) return -1;
    respBufAppend(&c->all, buf->data, buf->len);
    buf->len = 0;
    return 0;
}

/* A snapshot of e as one buffer, flushed in small pieces. */
static void snapshotOf(const engine *e, uint64_t lsn, int64_t now, respBuf *out) {
    collector c = {.all = {0}};
    respBuf tmp = {0};
    assert_int_equal(aofrecSnapshot(e, lsn, now, &tmp, 512, collect, &c), 0);
    assert_true(c.flushes >= 1);
    assert_int_equal(tmp.len, 0);
    respBufFree(&tmp);
    respBufAppend(out, c.all.data, c.all.len);
    respBufFree(&c.all);
}

/* ---- Deep comparison ---- */

static const char *nameOf(const queue *q) {
    return q ? q->name : "(none)";
}

static void sameStr(const char *what, const char *a, size_t alen, const char *b,
                    size_t blen) {
    CHECK((a == NULL) == (b == NULL), "%s: present in one only", what);
    if (!a) return;
    CHECK(alen == blen && !memcmp(a, b, alen), "%s differs", what);
}

static void sameMessage(const engine *ea, const engine *eb, const message *a,
                        const message *b) {
    messageImage x, y;
    messageGetImage(a, &x);
    messageGetImage(b, &y);
    unsigned long long seq = (unsigned long long)x.seq;
    CHECK(x.seq == y.seq, "message seq %llu vs %llu", seq, (unsigned long long)y.seq);
    CHECK(x.idSeq == y.idSeq, "message %llu: idSeq", seq);
    CHECK(x.sentMs == y.sentMs, "message %llu: sent", seq);
    CHECK(x.expireMs == y.expireMs, "message %llu: expire", seq);
    CHECK(x.firstReceivedMs == y.firstReceivedMs, "message %llu: first received", seq);
    CHECK(x.priority == y.priority, "message %llu: priority", seq);
    CHECK(x.receives == y.receives, "message %llu: receives %u vs %u", seq, x.receives,
          y.receives);
    CHECK(x.tag == y.tag, "message %llu: tag", seq);
    CHECK(x.state == y.state, "message %llu: state %d vs %d", seq, x.state, y.state);
    CHECK(x.untilMs == y.untilMs, "message %llu: until %lld vs %lld", seq,
          (long long)x.untilMs, (long long)y.untilMs);
    sameStr("group", x.group, x.groupLen, y.group, y.groupLen);
    sameStr("dedup id", x.dedupId, x.dedupIdLen, y.dedupId, y.dedupIdLen);
    sameStr("dlq source", x.dlqSource, x.dlqSourceLen, y.dlqSource, y.dlqSourceLen);
    sameStr("body", x.body, x.bodyLen, y.body, y.bodyLen);
    /* The timer: what the engine will do next, and when. */
    CHECK(wheelScheduled(&a->timer.node) == wheelScheduled(&b->timer.node),
          "message %llu: timer scheduled in one only", seq);
    if (wheelScheduled(&a->timer.node))
        CHECK(a->timer.node.expiresMs == b->timer.node.expiresMs,
              "message %llu: timer %lld vs %lld", seq,
              (long long)a->timer.node.expiresMs, (long long)b->timer.node.expiresMs);
    char ida[QE_ID_LEN + 1], idb[QE_ID_LEN + 1];
    char ra[QE_RECEIPT_LEN + 1], rb[QE_RECEIPT_LEN + 1];
    messageId(a, ida);
    messageId(b, idb);
    messageReceipt(a, ra);
    messageReceipt(b, rb);
    CHECK(!strcmp(ida, idb), "message %llu: id %s vs %s", seq, ida, idb);
    CHECK(!strcmp(ra, rb), "message %llu: receipt", seq);
    (void)ea;
    /* bySeq holds the delivered messages, or every message while replaying. */
    const message *found = ptableFind(&eb->bySeq, ptableHashU64(x.seq), &x.seq);
    if (eb->indexAll || b->receives > 0)
        CHECK(found == b, "message %llu: not in the seq table", seq);
    else
        CHECK(found == NULL, "message %llu: undelivered yet in the seq table", seq);
}

static const fifoGroup *findGroup(const queue *q, const char *name, size_t len) {
    for (size_t i = 0; i < q->groups.size; i++) {
        const fifoGroup *g = q->groups.slots[i];
        if (g && g->nameLen == len && !memcmp(g->name, name, len)) return g;
    }
    return NULL;
}

static size_t liveDedups(const queue *q, int64_t now) {
    size_t n = 0;
    for (size_t i = 0; i < q->dedup.size; i++) {
        const dedupEntry *d = q->dedup.slots[i];
        if (d && d->timer.node.expiresMs > now) n++;
    }
    return n;
}

static void sameQueue(const engine *ea, const engine *eb, const queue *a,
                      const queue *b, int64_t now, int sameGroupOrder) {
    CHECK(a->nameLen == b->nameLen && !memcmp(a->name, b->name, a->nameLen),
          "queue '%s' vs '%s'", a->name, b->name);
    const queueAttrs *x = &a->attrs, *y = &b->attrs;
    CHECK(x->visibilityMs == y->visibilityMs, "%s: visibility", a->name);
    CHECK(x->delayMs == y->delayMs, "%s: delay", a->name);
    CHECK(x->retentionMs == y->retentionMs, "%s: retention", a->name);
    CHECK(x->waitMs == y->waitMs, "%s: wait", a->name);
    CHECK(x->maxSize == y->maxSize, "%s: maxsize", a->name);
    CHECK(x->maxDepth == y->maxDepth, "%s: maxdepth", a->name);
    CHECK(x->dlqLen == y->dlqLen && !memcmp(x->dlq, y->dlq, x->dlqLen), "%s: dlq",
          a->name);
    CHECK(x->maxReceives == y->maxReceives, "%s: maxreceives", a->name);
    CHECK(x->fifo == y->fifo && x->contentDedup == y->contentDedup, "%s: type",
          a->name);
    CHECK(!strcmp(nameOf(a->dlq), nameOf(b->dlq)), "%s: dlq link %s vs %s", a->name,
          nameOf(a->dlq), nameOf(b->dlq));
    CHECK(a->sourceCount == b->sourceCount, "%s: sources", a->name);
    for (size_t i = 0; i < a->sourceCount; i++)
        CHECK(!strcmp(a->sources[i]->name, b->sources[i]->name), "%s: source %zu",
              a->name, i);
    CHECK(a->createdMs == b->createdMs, "%s: created", a->name);
    CHECK(a->modifiedMs == b->modifiedMs, "%s: modified", a->name);
    CHECK(a->held == b->held, "%s: held %lld vs %lld", a->name, (long long)a->held,
          (long long)b->held);
    CHECK(a->inflight == b->inflight, "%s: inflight", a->name);
    CHECK(a->delayed == b->delayed, "%s: delayed", a->name);
    CHECK(heapCount(&a->ready) == heapCount(&b->ready), "%s: ready messages", a->name);
    CHECK(a->fifoReceivable == b->fifoReceivable, "%s: fifo receivable %lld vs %lld",
          a->name, (long long)a->fifoReceivable, (long long)b->fifoReceivable);
    CHECK(a->fifoBlocked == b->fifoBlocked, "%s: fifo blocked", a->name);
    CHECK(a->sentTotal == b->sentTotal, "%s: sent_total %lld vs %lld", a->name,
          (long long)a->sentTotal, (long long)b->sentTotal);
    CHECK(a->receivedTotal == b->receivedTotal, "%s: received_total", a->name);
    CHECK(a->deletedTotal == b->deletedTotal, "%s: deleted_total", a->name);
    CHECK(a->expiredTotal == b->expiredTotal, "%s: expired_total", a->name);
    CHECK(a->deadletteredTotal == b->deadletteredTotal, "%s: deadlettered_total",
          a->name);
    CHECK(queueReceivable(a) == queueReceivable(b), "%s: receivable", a->name);

    /* Every message, in the queue's order. */
    const message *ma = a->allHead, *mb = b->allHead;
    int64_t count = 0;
    while (ma && mb) {
        CHECK(mb->q == b, "%s: message in the wrong queue", a->name);
        sameMessage(ea, eb, ma, mb);
        ma = ma->allNext;
        mb = mb->allNext;
        count++;
    }
    CHECK(!ma && !mb, "%s: message lists differ in length", a->name);
    CHECK(count == a->held, "%s: list length %lld, held %lld", a->name,
          (long long)count, (long long)a->held);

    /* FIFO groups: counts, availability and their lists, by seq. */
    CHECK(a->groups.count == b->groups.count, "%s: %zu groups vs %zu", a->name,
          a->groups.count, b->groups.count);
    for (size_t i = 0; i < a->groups.size; i++) {
        const fifoGroup *ga = a->groups.slots[i];
        if (!ga) continue;
        const fifoGroup *gb = findGroup(b, ga->name, ga->nameLen);
        CHECK(gb != NULL, "%s: group missing", a->name);
        CHECK(ga->ready == gb->ready && ga->inflight == gb->inflight &&
                  ga->delayed == gb->delayed,
              "%s: group counts", a->name);
        CHECK(ga->available == gb->available, "%s: group availability", a->name);
        const message *x1 = ga->head, *y1 = gb->head;
        for (; x1 && y1; x1 = x1->u.fifo.next, y1 = y1->u.fifo.next)
            CHECK(x1->seq == y1->seq, "%s: group order", a->name);
        CHECK(!x1 && !y1, "%s: group lengths", a->name);
    }
    if (sameGroupOrder) {
        const fifoGroup *ga = a->availHead, *gb = b->availHead;
        for (; ga && gb; ga = ga->availNext, gb = gb->availNext)
            CHECK(ga->nameLen == gb->nameLen &&
                      !memcmp(ga->name, gb->name, ga->nameLen),
                  "%s: order of available groups", a->name);
        CHECK(!ga && !gb, "%s: available groups", a->name);
    }

    /* Dedup ids still in their window. */
    CHECK(liveDedups(a, now) == liveDedups(b, now), "%s: dedup ids %zu vs %zu", a->name,
          liveDedups(a, now), liveDedups(b, now));
    for (size_t i = 0; i < a->dedup.size; i++) {
        const dedupEntry *d = a->dedup.slots[i];
        if (!d || d->timer.node.expiresMs <= now) continue;
        const dedupEntry *o = NULL;
        for (size_t k = 0; k < b->dedup.size && !o; k++) {
            const dedupEntry *c = b->dedup.slots[k];
            if (c && c->len == d->len && !memcmp(c->id, d->id, d->len)) o = c;
        }
        CHECK(o != NULL, "%s: dedup id missing", a->name);
        CHECK(o->idSeq == d->idSeq, "%s: dedup id's message", a->name);
        CHECK(o->timer.node.expiresMs == d->timer.node.expiresMs,
              "%s: dedup window end", a->name);
    }
}

/* A and B hold the same state as of `now` (A's clock). */
static void assertSameEngine(const engine *a, const engine *b, int64_t now,
                             int sameGroupOrder) {
    CHECK(engineEpoch(a) == engineEpoch(b), "epoch %08x vs %08x", engineEpoch(a),
          engineEpoch(b));
    CHECK(engineNextSeq(a) == engineNextSeq(b), "next seq %llu vs %llu",
          (unsigned long long)engineNextSeq(a), (unsigned long long)engineNextSeq(b));
    CHECK(engineQueueCount(a) == engineQueueCount(b), "%zu queues vs %zu",
          engineQueueCount(a), engineQueueCount(b));
    if (a->indexAll == b->indexAll)
        CHECK(a->bySeq.count == b->bySeq.count, "seq table %zu vs %zu",
              a->bySeq.count, b->bySeq.count);
    for (size_t i = 0; i < engineQueueCount(a); i++)
        sameQueue(a, b, engineQueueAt(a, i), engineQueueAt(b, i), now, sameGroupOrder);
}

/* Looser, for engines that ran their own timers after the log ended: ties
 * between timers due at the same millisecond may run in another order (new
 * seqs of dead letters then differ), so compare what does not depend on it. */
static uint64_t idSeqOfMessage(const message *m) {
    messageImage img;
    messageGetImage(m, &img);
    return img.idSeq;
}

static int cmpU64(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static void assertSameOutcome(const engine *a, const engine *b) {
    CHECK(engineQueueCount(a) == engineQueueCount(b), "queue count");
    for (size_t i = 0; i < engineQueueCount(a); i++) {
        const queue *qa = engineQueueAt(a, i), *qb = engineQueueAt(b, i);
        CHECK(!strcmp(qa->name, qb->name), "queue names");
        queueInfo x, y;
        queueGetInfo(qa, 0, &x);
        queueGetInfo(qb, 0, &y);
        CHECK(x.ready == y.ready && x.inflight == y.inflight &&
                  x.delayed == y.delayed && x.blocked == y.blocked,
              "%s: counts", qa->name);
        CHECK(x.sentTotal == y.sentTotal && x.receivedTotal == y.receivedTotal &&
                  x.deletedTotal == y.deletedTotal &&
                  x.expiredTotal == y.expiredTotal &&
                  x.deadletteredTotal == y.deadletteredTotal,
              "%s: totals", qa->name);
        CHECK(qa->held == qb->held, "%s: held", qa->name);
        size_t n = (size_t)qa->held;
        uint64_t *ia = calloc(n + 1, sizeof(uint64_t)),
                 *ib = calloc(n + 1, sizeof(uint64_t));
        size_t k = 0;
        for (const message *m = qa->allHead; m; m = m->allNext)
            ia[k++] = idSeqOfMessage(m);
        k = 0;
        for (const message *m = qb->allHead; m; m = m->allNext)
            ib[k++] = idSeqOfMessage(m);
        qsort(ia, n, sizeof(uint64_t), cmpU64);
        qsort(ib, n, sizeof(uint64_t), cmpU64);
        CHECK(!memcmp(ia, ib, n * sizeof(uint64_t)), "%s: message ids", qa->name);
        free(ia);
        free(ib);
    }
}

/* ---- A random workload on a simulated clock ---- */

/* The queues the workload uses, each with the DLQ a QSET may give it: DLQs
 * chain (src -> dlq -> dlq.2) but never loop. */
static const struct {
    const char *name;
    int fifo;
    int contentDedup;
    const char *dlq; /* NULL: never has one */
} qdefs[] = {
    {"dlq.2", 0, 0, NULL},  {"dlq", 0, 0, "dlq.2"},   {"src", 0, 0, "dlq"},
    {"src:2", 0, 0, "dlq"}, {"std", 0, 0, NULL},      {"fdlq", 1, 0, NULL},
    {"fifo", 1, 0, "fdlq"}, {"{f}.cd", 1, 1, "fdlq"},
};
#define NQDEFS ((int)(sizeof(qdefs) / sizeof(qdefs[0])))

typedef struct workload {
    engine *e;
    int64_t now;
    uint64_t rng;
    recLog log;
    /* receipts handed out, with the queue they came from (some go stale) */
    char receipts[NRECEIPTS][QE_RECEIPT_LEN + 1];
    int receiptQ[NRECEIPTS];
    int nreceipts;
    int receiptNext;
    engineWaiter waiters[NWAITERS];
    int parked[NWAITERS];
} workload;

static uint64_t rnd64(workload *w) {
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static int64_t rnd(workload *w, int64_t n) {
    return (int64_t)(rnd64(w) % (uint64_t)n);
}

static queue *lookupDef(workload *w, int i) {
    return engineLookup(w->e, qdefs[i].name, strlen(qdefs[i].name));
}

static int defIndex(const queue *q) {
    for (int i = 0; i < NQDEFS; i++)
        if (!strcmp(qdefs[i].name, q->name)) return i;
    return -1;
}

static void keepReceipts(workload *w, message **got, size_t n, int qi) {
    for (size_t i = 0; i < n; i++) {
        messageReceipt(got[i], w->receipts[w->receiptNext]);
        w->receiptQ[w->receiptNext] = qi;
        w->receiptNext = (w->receiptNext + 1) % NRECEIPTS;
        if (w->nreceipts < NRECEIPTS) w->nreceipts++;
    }
}

static void waiterDone(void *ctx, engineWaiter *ew, queue *q, int why) {
    workload *w = ctx;
    int i = (int)(ew - w->waiters);
    w->parked[i] = 0;
    if (why != WAIT_READY) return;
    message *got[MAXRECV];
    size_t n = engineReceive(w->e, q, (size_t)ew->count, ew->visibilityMs, w->now, got);
    keepReceipts(w, got, n, defIndex(q));
}

static void randomAttrs(workload *w, int i, queueAttrs *a) {
    queueAttrsDefaults(a);
    a->visibilityMs = rnd(w, 8) == 0 ? 0 : 200 + rnd(w, 8000);
    a->retentionMs = rnd(w, 3) == 0 ? 0 : 20 * SEC + rnd(w, 600 * SEC);
    a->delayMs = rnd(w, 3) == 0 ? rnd(w, 2000) : 0;
    a->waitMs = rnd(w, 2) ? rnd(w, 5000) : 0;
    a->maxSize = rnd(w, 6) == 0 ? 1 + rnd(w, 200) : 1048576;
    a->maxDepth = rnd(w, 6) == 0 ? 20 + rnd(w, 100) : 0;
    a->fifo = qdefs[i].fifo;
    a->contentDedup = qdefs[i].contentDedup;
    const char *dlq = qdefs[i].dlq;
    if (dlq && rnd(w, 4) && engineLookup(w->e, dlq, strlen(dlq))) {
        strcpy(a->dlq, dlq);
        a->dlqLen = strlen(dlq);
        a->maxReceives = 1 + (int)rnd(w, 3);
    }
}

static void opCreate(workload *w) {
    int i = (int)rnd(w, NQDEFS);
    queueAttrs a;
    randomAttrs(w, i, &a);
    char err[256];
    engineCreateQueue(w->e, qdefs[i].name, strlen(qdefs[i].name), &a, w->now, err,
                      sizeof(err));
}

static void opSet(workload *w, queue *q) {
    int i = defIndex(q);
    queueAttrs a;
    randomAttrs(w, i, &a);
    unsigned changed = 0;
    unsigned bits[] = {QA_VISIBILITY, QA_DELAY,   QA_RETENTION,
                       QA_WAIT,       QA_MAXSIZE, QA_MAXDEPTH};
    for (size_t k = 0; k < sizeof(bits) / sizeof(bits[0]); k++)
        if (rnd(w, 3) == 0) changed |= bits[k];
    if (qdefs[i].dlq && rnd(w, 2)) changed |= a.dlqLen ? QA_DLQ : QA_NODLQ;
    char err[256];
    engineSetQueue(w->e, q, &a, changed, w->now, err, sizeof(err));
}

static void opSend(workload *w, queue *q) {
    char body[4096];
    size_t len = (size_t)(rnd(w, 10) == 0 ? rnd(w, sizeof(body)) : rnd(w, 40));
    for (size_t k = 0; k < len; k++)
        body[k] = (char)rnd64(w); /* any bytes */
    char group[3], dedup[16];
    sendOptions o = {.priority = (int32_t)rnd(w, 7) - 3, .delayMs = -1};
    if (rnd(w, 3) == 0) o.delayMs = rnd(w, 4000);
    if (q->attrs.retentionMs && o.delayMs >= q->attrs.retentionMs) o.delayMs = -1;
    if (q->attrs.fifo) {
        /* Groups and dedup ids are any bytes. */
        group[0] = 'g';
        group[1] = '\0';
        group[2] = (char)('0' + rnd(w, 4));
        o.group = group;
        o.groupLen = sizeof(group);
    }
    if (q->attrs.fifo || rnd(w, 5) == 0) {
        snprintf(dedup, sizeof(dedup), "d\r\n%d", (int)rnd(w, 60));
        o.dedupId = dedup;
        o.dedupIdLen = strlen(dedup);
    }
    char id[QE_ID_LEN + 1], err[256];
    engineSend(w->e, q, body, len, &o, w->now, id, err, sizeof(err));
}

static void opRecv(workload *w, queue *q) {
    message *got[MAXRECV];
    int64_t vis = -1;
    int64_t r = rnd(w, 10);
    if (r == 0)
        vis = 0;
    else if (r < 4)
        vis = 100 + rnd(w, 6000);
    size_t n = engineReceive(w->e, q, 1 + (size_t)rnd(w, 4), vis, w->now, got);
    keepReceipts(w, got, n, defIndex(q));
}

static void opDelOrVis(workload *w, int vis) {
    if (!w->nreceipts) return;
    /* Mostly recent receipts, which are still good; sometimes stale ones. */
    int k = (int)rnd(w, w->nreceipts);
    if (rnd(w, 4))
        k = (int)((w->receiptNext + NRECEIPTS - 1 - rnd(w, 6)) % NRECEIPTS) %
            w->nreceipts;
    queue *q = lookupDef(w, w->receiptQ[k]);
    if (!q) return;
    if (vis)
        engineVisibility(w->e, q, w->receipts[k], QE_RECEIPT_LEN,
                         rnd(w, 3) == 0 ? 0 : 50 + rnd(w, 6000), w->now);
    else
        engineDelete(w->e, q, w->receipts[k], QE_RECEIPT_LEN, w->now);
}

static void opPark(workload *w, queue *q) {
    for (int i = 0; i < NWAITERS; i++) {
        if (w->parked[i]) continue;
        engineWaiter *ew = &w->waiters[i];
        memset(ew, 0, sizeof(*ew));
        ew->owner = w;
        ew->count = 1 + (int)rnd(w, 3);
        ew->visibilityMs = rnd(w, 2) ? -1 : 100 + rnd(w, 3000);
        w->parked[i] = 1;
        engineWaitPark(w->e, q, ew, w->now + rnd(w, 5000));
        return;
    }
}

/* One step: the clock moves, timers run, one command, waiters are served: the
 * server's loop in miniature. */
static void step(workload *w) {
    int64_t r = rnd(w, 1000);
    if (r < 150) {
        int64_t k = rnd(w, 100);
        w->now += k < 70 ? rnd(w, 500) : k < 98 ? rnd(w, 10 * SEC) : rnd(w, 150 * SEC);
    }
    engineAdvance(w->e, w->now);
    queue *q = lookupDef(w, (int)rnd(w, NQDEFS));
    if (r < 150) {
        /* the clock step was the event */
    } else if (r < 180 || !q) {
        if (engineQueueCount(w->e) < (size_t)NQDEFS || rnd(w, 2)) opCreate(w);
    } else if (r < 480) {
        opSend(w, q);
    } else if (r < 660) {
        opRecv(w, q);
    } else if (r < 770) {
        opDelOrVis(w, 0);
    } else if (r < 850) {
        opDelOrVis(w, 1);
    } else if (r < 890) {
        opSet(w, q);
    } else if (r < 930) {
        engineRedrive(w->e, q, 1 + rnd(w, 5), w->now);
    } else if (r < 960) {
        opPark(w, q);
    } else if (r < 975) {
        message *peek[MAXRECV];
        enginePeek(w->e, q, MAXRECV, w->now, peek);
    } else if (r < 980) {
        enginePurgeQueue(w->e, q, w->now);
    } else if (r < 983) {
        char err[256];
        engineDropQueue(w->e, q->name, q->nameLen, w->now, err, sizeof(err));
    } else if (r == 983 && rnd(w, 3) == 0) {
        engineDropAll(w->e, w->now);
    } else {
        opSend(w, q);
    }
    engineServeWaiters(w->e, w->now);
}

static void workloadInit(workload *w, uint64_t seed) {
    memset(w, 0, sizeof(*w));
    w->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    w->now = T0;
    w->e = engineCreate(EPOCH_A, w->now);
    engineSetEffectSink(w->e, logEffect, &w->log);
    engineSetWaiterDone(w->e, waiterDone, w);
    /* A file starts with its HEADER. */
    aofrecEncodeHeader(&w->log.buf, ++w->log.lsn, EPOCH_A, engineNextSeq(w->e), w->now);
    for (int i = 0; i < NQDEFS; i++) {
        queueAttrs a;
        randomAttrs(w, i, &a);
        char err[256];
        engineCreateQueue(w->e, qdefs[i].name, strlen(qdefs[i].name), &a, w->now, err,
                          sizeof(err));
    }
}

static void workloadFree(workload *w) {
    engineFree(w->e);
    respBufFree(&w->log.buf);
}

static int envInt(const char *name, int dflt) {
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}

/* From here on the engines' own timers run, the same steps for each, with
 * nobody logging. */
static void runOn(engine **es, int n, int64_t from, int64_t to, uint64_t seed) {
    uint64_t s = seed | 1;
    for (int i = 0; i < n; i++)
        engineSetEffectSink(es[i], NULL, NULL);
    for (int64_t t = from; t < to;) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        t += (int64_t)(s % (uint64_t)(20 * SEC));
        for (int i = 0; i < n; i++) {
            engineAdvance(es[i], t);
            engineServeWaiters(es[i], t);
        }
    }
}

/* Cancels A's parked waiters: they are not state, and B has none. */
static void unparkAll(workload *w) {
    for (int i = 0; i < NWAITERS; i++)
        if (w->parked[i]) {
            engineWaitCancel(w->e, &w->waiters[i]);
            w->parked[i] = 0;
        }
}

/* With AOFREC_STATS set, prints how many records of each type a log holds, to
 * see what a workload exercises. */
static void printStats(const char *label, const respBuf *buf, const engine *e) {
    if (!getenv("AOFREC_STATS")) return;
    static const char *const types[] = {"HEADER", "QUEUE", "COUNTERS", "DROP",  "PURGE",
                                        "SEND",   "MSG",   "LEASE",    "STATE", "DEL",
                                        "EXPIRE", "MOVE",  "DEDUP"};
    long counts[13] = {0}, stateCounts[3] = {0}, moves[2] = {0};
    respParser p;
    respParserInit(&p);
    size_t off = 0, consumed;
    while (off < buf->len &&
           respParse(&p, buf->data + off, buf->len - off, &consumed) == RESP_OK) {
        for (int i = 0; i < 13; i++)
            if (p.argv[2].len == strlen(types[i]) &&
                !memcmp(p.argv[2].ptr, types[i], p.argv[2].len))
                counts[i]++;
        if (p.argv[2].len == 5 && !memcmp(p.argv[2].ptr, "STATE", 5))
            stateCounts[p.argv[5].ptr[0] == 'r'   ? 0
                        : p.argv[5].ptr[0] == 'i' ? 1
                                                  : 2]++;
        if (p.argv[2].len == 4 && !memcmp(p.argv[2].ptr, "MOVE", 4))
            moves[p.argv[7].ptr[0] == 'd']++;
        off += consumed;
    }
    respParserFree(&p);
    printf("%s: %zu bytes;", label, buf->len);
    for (int i = 0; i < 13; i++)
        printf(" %s %ld", types[i], counts[i]);
    printf(" (STATE r %ld i %ld; MOVE redrive %ld deadletter %ld)", stateCounts[0],
           stateCounts[1], moves[0], moves[1]);
    int64_t held = 0;
    for (size_t i = 0; i < engineQueueCount(e); i++)
        held += engineQueueAt(e, i)->held;
    printf("; at the end %zu queues, %lld messages\n", engineQueueCount(e),
           (long long)held);
}

/* ---- The tests ---- */

/* The key property: the effect log, applied record by record to an engine that
 * is never advanced, keeps it equal to A after every step; the whole log
 * applied at once gives the same; receipts from A work on the copy; and the
 * copy goes on as A does once its own timers run. */
static void test_replay_equals_source(void **state) {
    (void)state;
    int seeds = envInt("AOFREC_SEEDS", 8), steps = envInt("AOFREC_STEPS", 6000);
    for (int seed = 1; seed <= seeds; seed++) {
        workload w;
        workloadInit(&w, (uint64_t)seed);
        engine *b = engineCreate(0, T0);
        size_t off = 0;
        uint64_t lsn = 0;
        for (int i = 0; i < steps; i++) {
            step(&w);
            applyRecords(b, &w.log.buf, &off, &lsn, 1);
            snprintf(where, sizeof(where), "seed %d step %d", seed, i);
            assertSameEngine(w.e, b, w.now, 1);
        }
        assert_int_equal(lsn, w.log.lsn);
        char label[32];
        snprintf(label, sizeof(label), "seed %d", seed);
        printStats(label, &w.log.buf, w.e);

        /* The whole log at once, into an engine made at the end of it (as a
         * restart does: every deadline then lies in its past). */
        engine *b2 = engineCreate(0x11111111u, w.now + MINUTE);
        off = 0;
        lsn = 0;
        applyRecords(b2, &w.log.buf, &off, &lsn, 1);
        snprintf(where, sizeof(where), "seed %d, whole log", seed);
        assertSameEngine(w.e, b2, w.now, 1);

        /* Receipts A handed out work on the copies. */
        unparkAll(&w);
        engineSetEffectSink(w.e, NULL, NULL);
        int deleted = 0;
        for (size_t i = 0; i < engineQueueCount(w.e); i++) {
            queue *qa = (queue *)engineQueueAt(w.e, i);
            queue *qb = (queue *)engineQueueAt(b, i);
            const message *m = qa->allHead;
            while (m) {
                const message *next = m->allNext;
                if (m->state == MSG_INFLIGHT) {
                    char receipt[QE_RECEIPT_LEN + 1];
                    messageReceipt(m, receipt);
                    assert_int_equal(
                        engineDelete(b, qb, receipt, QE_RECEIPT_LEN, w.now), 1);
                    queue *qb2 = engineLookup(b2, qa->name, qa->nameLen);
                    assert_int_equal(
                        engineDelete(b2, qb2, receipt, QE_RECEIPT_LEN, w.now), 1);
                    assert_int_equal(
                        engineDelete(w.e, qa, receipt, QE_RECEIPT_LEN, w.now), 1);
                    deleted++;
                }
                m = next;
            }
        }
        snprintf(where, sizeof(where), "seed %d, after deleting %d by receipt", seed,
                 deleted);
        assertSameEngine(w.e, b, w.now, 1);
        assertSameEngine(w.e, b2, w.now, 1);

        /* The copies' own timers take over: same outcome. */
        engine *all[] = {w.e, b, b2};
        runOn(all, 3, w.now, w.now + 20 * MINUTE, (uint64_t)seed);
        snprintf(where, sizeof(where), "seed %d, after running on", seed);
        assertSameOutcome(w.e, b);
        assertSameOutcome(w.e, b2);

        engineFree(b);
        engineFree(b2);
        workloadFree(&w);
    }
}

/* A rewrite: the snapshot of A, applied to an empty engine, is A. */
static void test_snapshot_equals_source(void **state) {
    (void)state;
    int seeds = envInt("AOFREC_SEEDS", 8), steps = envInt("AOFREC_STEPS", 6000);
    for (int seed = 101; seed < 101 + seeds; seed++) {
        workload w;
        workloadInit(&w, (uint64_t)seed);
        for (int i = 0; i < steps; i++) {
            step(&w);
            if (i % 997 != 0 && i != steps - 1) continue;
            respBuf snap = {0};
            snapshotOf(w.e, w.log.lsn, w.now, &snap);
            engine *c = engineCreate(0, w.now);
            size_t off = 0;
            uint64_t lsn = w.log.lsn;
            size_t n = applyRecords(c, &snap, &off, &lsn, 0);
            assert_true(n >= 1 + engineQueueCount(w.e) * 2);
            snprintf(where, sizeof(where), "seed %d, snapshot at step %d", seed, i);
            assertSameEngine(w.e, c, w.now, 0);
            engineFree(c);
            respBufFree(&snap);
        }
        workloadFree(&w);
    }
}

/* A rewrite half-way, then the records logged after it: A at the end. */
static void test_snapshot_then_log_equals_source(void **state) {
    (void)state;
    int seeds = envInt("AOFREC_SEEDS", 8), steps = envInt("AOFREC_STEPS", 6000);
    for (int seed = 201; seed < 201 + seeds; seed++) {
        workload w;
        workloadInit(&w, (uint64_t)seed);
        int at = (int)rnd(&w, steps);
        respBuf snap = {0};
        size_t tail = 0;
        uint64_t snapLsn = 0;
        for (int i = 0; i < steps; i++) {
            step(&w);
            if (i == at) {
                snapLsn = w.log.lsn;
                snapshotOf(w.e, snapLsn, w.now, &snap);
                tail = w.log.buf.len;
            }
        }
        engine *d = engineCreate(0, w.now);
        size_t off = 0;
        uint64_t lsn = snapLsn;
        applyRecords(d, &snap, &off, &lsn, 0);
        off = tail;
        applyRecords(d, &w.log.buf, &off, &lsn, 1);
        assert_int_equal(lsn, w.log.lsn);
        snprintf(where, sizeof(where), "seed %d, snapshot at step %d + log", seed, at);
        assertSameEngine(w.e, d, w.now, 0);

        unparkAll(&w);
        engine *all[] = {w.e, d};
        runOn(all, 2, w.now, w.now + 20 * MINUTE, (uint64_t)seed);
        snprintf(where, sizeof(where), "seed %d, snapshot + log, after running on",
                 seed);
        assertSameOutcome(w.e, d);
        engineFree(d);
        respBufFree(&snap);
        workloadFree(&w);
    }
}

/* The order a rewrite writes in (docs/persistence.md): HEADER, every queue
 * without its DLQ, those with one again with it, COUNTERS, MSG, DEDUP. */
static void test_snapshot_order(void **state) {
    (void)state;
    workload w;
    workloadInit(&w, 77);
    for (int i = 0; i < 1500; i++)
        step(&w);
    /* Make sure DLQs are named, chained. */
    for (int i = 0; i < NQDEFS; i++)
        if (!lookupDef(&w, i)) {
            queueAttrs a;
            queueAttrsDefaults(&a);
            a.fifo = qdefs[i].fifo;
            a.contentDedup = qdefs[i].contentDedup;
            char err[256];
            engineCreateQueue(w.e, qdefs[i].name, strlen(qdefs[i].name), &a, w.now, err,
                              sizeof(err));
        }
    for (int i = 0; i < NQDEFS; i++) {
        if (!qdefs[i].dlq) continue;
        queueAttrs a;
        memset(&a, 0, sizeof(a));
        strcpy(a.dlq, qdefs[i].dlq);
        a.dlqLen = strlen(a.dlq);
        a.maxReceives = 2;
        char err[256];
        assert_int_equal(
            engineSetQueue(w.e, lookupDef(&w, i), &a, QA_DLQ, w.now, err, sizeof(err)),
            QE_OK);
    }
    respBuf snap = {0};
    snapshotOf(w.e, 9, w.now, &snap);
    static const char *const ranks[] = {"HEADER",   "QUEUE", "QUEUE+",
                                        "COUNTERS", "MSG",   "DEDUP"};
    respParser p;
    respParserInit(&p);
    size_t off = 0;
    int rank = 0, records = 0, queues = 0;
    while (off < snap.len) {
        size_t consumed;
        assert_int_equal(respParse(&p, snap.data + off, snap.len - off, &consumed),
                         RESP_OK);
        char type[16];
        snprintf(type, sizeof(type), "%.*s", (int)p.argv[2].len, p.argv[2].ptr);
        if (!strcmp(type, "QUEUE")) {
            queues++;
            if ((size_t)queues > engineQueueCount(w.e)) strcat(type, "+");
            /* First pass without DLQs, second only queues that have one. */
            assert_int_equal(p.argv[12].len == 0,
                             (size_t)queues <= engineQueueCount(w.e));
        }
        int r = 0;
        while (r < 6 && strcmp(ranks[r], type))
            r++;
        assert_true(r < 6);
        assert_true(r >= rank);
        if (records == 0) assert_int_equal(r, 0);
        rank = r;
        assert_int_equal(p.argv[1].len, 1); /* every record has the state's LSN */
        assert_int_equal(p.argv[1].ptr[0], '9');
        off += consumed;
        records++;
    }
    assert_int_equal(rank, 5); /* there were dedup ids in their window */
    respParserFree(&p);
    respBufFree(&snap);
    workloadFree(&w);
}

static void test_snapshot_flush_failure(void **state) {
    (void)state;
    workload w;
    workloadInit(&w, 5);
    for (int i = 0; i < 800; i++)
        step(&w);
    for (int failAt = 1; failAt <= 4; failAt++) {
        collector c = {.failAt = failAt};
        respBuf tmp = {0};
        assert_int_equal(aofrecSnapshot(w.e, 1, w.now, &tmp, 256, collect, &c), -1);
        assert_int_equal(c.flushes, failAt); /* nothing more after the failure */
        respBufFree(&tmp);
        respBufFree(&c.all);
    }
    workloadFree(&w);
}

/* ---- Exact bytes ---- */

typedef struct capture {
    respBuf buf;
    uint64_t lsn;
} capture;

static void captureEffect(void *ctx, const effect *ef) {
    capture *c = ctx;
    aofrecEncodeEffect(&c->buf, c->lsn++, ef);
}

#define CRLF "\r\n"

/* The records of a QCREATE and a delayed QSEND, byte for byte (the sample in
 * aofrec.c's header comment). */
static void test_encoding_bytes(void **state) {
    (void)state;
    engine *e = engineCreate(EPOCH_A, T0);
    capture c = {.lsn = 41};
    engineSetEffectSink(e, captureEffect, &c);
    queueAttrs a;
    queueAttrsDefaults(&a);
    char err[256], id[QE_ID_LEN + 1];
    assert_int_equal(engineCreateQueue(e, "jobs", 4, &a, T0, err, sizeof(err)), QE_OK);
    sendOptions o = {.delayMs = 5000};
    assert_int_equal(engineSend(e, engineLookup(e, "jobs", 4), "hello", 5, &o, T0, id,
                                err, sizeof(err)),
                     QE_OK);
    aofrecEncodeHeader(&c.buf, 43, EPOCH_A, engineNextSeq(e), T0);
    const char *expect =
        "*16" CRLF "$7" CRLF "QREPLAY" CRLF "$2" CRLF "41" CRLF "$5" CRLF "QUEUE" CRLF
        "$4" CRLF "jobs" CRLF "$13" CRLF "1800000000000" CRLF "$13" CRLF
        "1800000000000" CRLF "$5" CRLF "30000" CRLF "$1" CRLF "0" CRLF "$9" CRLF
        "345600000" CRLF "$1" CRLF "0" CRLF "$7" CRLF "1048576" CRLF "$1" CRLF "0" CRLF
        "$0" CRLF CRLF "$1" CRLF "0" CRLF "$1" CRLF "0" CRLF "$1" CRLF "0" CRLF
        /* QSEND "hello" DELAY 5 */
        "*18" CRLF "$7" CRLF "QREPLAY" CRLF "$2" CRLF "42" CRLF "$4" CRLF "SEND" CRLF
        "$4" CRLF "jobs" CRLF "$1" CRLF "1" CRLF "$1" CRLF "1" CRLF "$13" CRLF
        "1800000000000" CRLF "$13" CRLF "1800345600000" CRLF "$2" CRLF "-1" CRLF
        "$1" CRLF "0" CRLF "$1" CRLF "0" CRLF "$1" CRLF "0" CRLF "$1" CRLF "d" CRLF
        "$13" CRLF "1800000005000" CRLF "$0" CRLF CRLF "$0" CRLF CRLF "$0" CRLF CRLF
        "$5" CRLF "hello" CRLF
        /* a HEADER */
        "*8" CRLF "$7" CRLF "QREPLAY" CRLF "$2" CRLF "43" CRLF "$6" CRLF "HEADER" CRLF
        "$9" CRLF "respq-aof" CRLF "$1" CRLF "1" CRLF "$8" CRLF "5eed0042" CRLF
        "$1" CRLF "2" CRLF "$13" CRLF "1800000000000" CRLF;
    assert_int_equal(c.buf.len, strlen(expect));
    assert_memory_equal(c.buf.data, expect, c.buf.len);
    respBufFree(&c.buf);
    engineFree(e);
}

/* ---- Malformed records ---- */

#define MAXWORDS 20

/* argv from words, which a NULL ends; returns argc. */
static int makeArgv(respArg *argv, const char *const *words) {
    int n = 0;
    while (words[n]) {
        argv[n].ptr = words[n];
        argv[n].len = strlen(words[n]);
        n++;
    }
    return n;
}

/* Two engines with the same queues and messages: E takes the bad records, R
 * shows what E must still be. */
static engine *setupEngine(void) {
    engine *e = engineCreate(EPOCH_A, T0);
    char err[256], id[QE_ID_LEN + 1];
    queueAttrs a;
    queueAttrsDefaults(&a);
    assert_int_equal(engineCreateQueue(e, "d", 1, &a, T0, err, sizeof(err)), QE_OK);
    strcpy(a.dlq, "d");
    a.dlqLen = 1;
    a.maxReceives = 2;
    assert_int_equal(engineCreateQueue(e, "q", 1, &a, T0, err, sizeof(err)), QE_OK);
    queueAttrsDefaults(&a);
    a.fifo = 1;
    assert_int_equal(engineCreateQueue(e, "f", 1, &a, T0, err, sizeof(err)), QE_OK);
    assert_int_equal(engineCreateQueue(e, "fd", 2, &a, T0, err, sizeof(err)), QE_OK);
    sendOptions o = {.delayMs = 0};
    queue *q = engineLookup(e, "q", 1);
    assert_int_equal(engineSend(e, q, "m1", 2, &o, T0, id, err, sizeof(err)), QE_OK);
    assert_int_equal(engineSend(e, q, "m2", 2, &o, T0, id, err, sizeof(err)), QE_OK);
    return e;
}

/* Valid arguments of each type (after QREPLAY <lsn> <TYPE>), for the setup
 * engine; the tests break one argument at a time. */
typedef struct recTemplate {
    const char *type;
    const char *args[16];
} recTemplate;

static const recTemplate templates[] = {
    {"HEADER", {"respq-aof", "1", "5eed0042", "10", "1800000000000"}},
    {"QUEUE",
     {"q2", "1800000000000", "1800000000000", "30000", "0", "345600000", "0", "1048576",
      "0", "", "0", "0", "0"}},
    {"COUNTERS", {"q", "1", "2", "3", "4", "5"}},
    {"DROP", {"q2"}},
    {"PURGE", {"q"}},
    {"SEND",
     {"q", "7", "7", "1800000000000", "-1", "-1", "0", "0", "0", "r", "-1", "", "", "",
      "body"}},
    {"MSG",
     {"q", "1", "1", "1800000000000", "-1", "-1", "0", "0", "0", "r", "-1", "", "", "",
      "body"}},
    {"LEASE", {"q", "1", "1", "123", "1800000000000", "1800000030000"}},
    {"STATE", {"q", "1", "i", "1800000030000"}},
    {"DEL", {"q", "2"}},
    {"EXPIRE", {"q", "2"}},
    {"MOVE",
     {"q", "d", "1", "9", "deadletter", "1800000000000", "-1", "1", "1800000000000",
      "q", "r", "-1"}},
    {"DEDUP", {"q", "id", "1", "1800000300000"}},
};
#define NTEMPLATES ((int)(sizeof(templates) / sizeof(templates[0])))

static const recTemplate *templateOf(const char *type) {
    for (int i = 0; i < NTEMPLATES; i++)
        if (!strcmp(templates[i].type, type)) return &templates[i];
    return NULL;
}

static int templateArgc(const recTemplate *t) {
    int n = 0;
    while (n < 16 && t->args[n])
        n++;
    return n;
}

/* Applies QREPLAY 5 <type> <args> with argument `at` replaced by (value, len)
 * (at -1: none); returns aofrecApply's result, the error in err. */
static int applyTemplate(engine *e, const recTemplate *t, int at, const char *value,
                         size_t len, int argcDelta, char *err, size_t errcap) {
    respArg argv[MAXWORDS];
    int n = templateArgc(t);
    argv[0] = (respArg){"QREPLAY", 7};
    argv[1] = (respArg){"5", 1};
    argv[2] = (respArg){t->type, strlen(t->type)};
    for (int i = 0; i < n; i++)
        argv[3 + i] = (respArg){t->args[i], strlen(t->args[i])};
    if (at >= 0) argv[3 + at] = (respArg){value, len};
    int argc = 3 + n + argcDelta;
    if (argcDelta > 0) argv[argc - 1] = (respArg){"0", 1};
    uint64_t lsn = 0;
    err[0] = '\0';
    int rc = aofrecApply(e, argc, argv, &lsn, err, errcap);
    if (rc == 0) assert_int_equal(lsn, 5);
    return rc;
}

static void expectError(const char *err, const char *want) {
    if (!strstr(err, want)) fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_templates_apply(void **state) {
    (void)state;
    for (int i = 0; i < NTEMPLATES; i++) {
        engine *e = setupEngine();
        char err[256];
        if (applyTemplate(e, &templates[i], -1, NULL, 0, 0, err, sizeof(err)) != 0)
            fail_msg("%s: %s", templates[i].type, err);
        engineFree(e);
    }
}

/* One bad argument per case: the record is refused, naming the record type and
 * the argument, and nothing changes. */
static void test_malformed_arguments(void **state) {
    (void)state;
    char long129[130];
    memset(long129, 'x', 129);
    long129[129] = '\0';
    const struct {
        const char *type;
        int at;
        const char *value;
        const char *want; /* after "<TYPE> record: " */
    } cases[] = {
        {"HEADER", 0, "respq-aoff", "bad magic 'respq-aoff'"},
        {"HEADER", 1, "2", "unsupported format version '2'"},
        {"HEADER", 1, "01", "unsupported format version '01'"},
        {"HEADER", 2, "5eed004", "bad epoch '5eed004'"},
        {"HEADER", 2, "5EED0042", "bad epoch"},
        {"HEADER", 2, "5eed004g", "bad epoch"},
        {"HEADER", 3, "0", "bad next-seq '0'"},
        {"HEADER", 4, "-5", "bad time '-5'"},
        {"HEADER", 4, "1e3", "bad time"},
        {"QUEUE", 0, "bad name", "bad name 'bad name'"},
        {"QUEUE", 0, "", "bad name ''"},
        {"QUEUE", 1, "-1", "bad created '-1'"},
        {"QUEUE", 2, "x", "bad modified"},
        {"QUEUE", 3, "1.5", "bad visibility '1.5'"},
        {"QUEUE", 3, " 1", "bad visibility"},
        {"QUEUE", 3, "1 ", "bad visibility"},
        {"QUEUE", 3, "01", "bad visibility"},
        {"QUEUE", 3, "+1", "bad visibility"},
        {"QUEUE", 4, "-0", "bad delay"},
        {"QUEUE", 5, "9223372036854775808", "bad retention"},
        {"QUEUE", 6, "", "bad wait"},
        {"QUEUE", 7, "0", "bad maxsize"},
        {"QUEUE", 8, "-1", "bad maxdepth"},
        {"QUEUE", 9, "no such", "bad dlq 'no such'"},
        {"QUEUE", 10, "3", "bad maxreceives '3'"}, /* without a DLQ */
        {"QUEUE", 11, "2", "bad fifo '2'"},
        {"QUEUE", 12, "yes", "bad contentdedup"},
        {"COUNTERS", 1, "-1", "bad sent"},
        {"COUNTERS", 2, "x", "bad received"},
        {"COUNTERS", 3, "1.0", "bad deleted"},
        {"COUNTERS", 4, "", "bad expired"},
        {"COUNTERS", 5, "-3", "bad deadlettered"},
        {"DROP", 0, "a b", "bad name 'a b'"},
        {"PURGE", 0, "x\x01", "bad name 'x\\x01'"},
        {"SEND", 0, "", "bad name"},
        {"SEND", 1, "0", "bad seq '0'"},
        {"SEND", 1, "18446744073709551615", "bad seq"},
        {"SEND", 1, "18446744073709551616", "bad seq"},
        {"SEND", 1, "-7", "bad seq"},
        {"SEND", 2, "abc", "bad id-seq"},
        {"SEND", 3, "-1", "bad sent"},
        {"SEND", 4, "-2", "bad expire '-2'"},
        {"SEND", 5, "-2", "bad first-received"},
        {"SEND", 6, "2147483648", "bad priority"},
        {"SEND", 6, "-2147483649", "bad priority"},
        {"SEND", 7, "4294967296", "bad receives"},
        {"SEND", 8, "-1", "bad tag"},
        {"SEND", 9, "x", "bad state 'x'"},
        {"SEND", 9, "R", "bad state 'R'"},
        {"SEND", 9, "", "bad state"},
        {"SEND", 9, "rr", "bad state"},
        {"SEND", 10, "5", "bad until '5'"}, /* ready: -1 */
        {"SEND", 11, long129, "bad group"},
        {"SEND", 12, long129, "bad dedupid"},
        {"SEND", 13, "bad source", "bad dlq-source"},
        {"MSG", 9, "D", "bad state"},
        {"MSG", 4, "", "bad expire"},
        {"LEASE", 1, "x", "bad seq"},
        {"LEASE", 2, "0", "bad receives '0'"},
        {"LEASE", 3, "4294967296", "bad tag"},
        {"LEASE", 4, "-1", "bad first-received"},
        {"LEASE", 5, "-1", "bad until"},
        {"STATE", 2, "q", "bad state 'q'"},
        {"STATE", 3, "-1", "bad until '-1'"}, /* in flight: a time */
        {"STATE", 3, "abc", "bad until"},
        {"DEL", 1, "abc", "bad seq"},
        {"DEL", 0, "", "bad name"},
        {"EXPIRE", 1, "", "bad seq"},
        {"MOVE", 0, "", "bad from"},
        {"MOVE", 1, "bad!", "bad to 'bad!'"},
        {"MOVE", 2, "0", "bad old-seq"},
        {"MOVE", 3, "x", "bad new-seq"},
        {"MOVE", 4, "deadLetter", "bad kind 'deadLetter'"},
        {"MOVE", 4, "", "bad kind"},
        {"MOVE", 5, "-1", "bad sent"},
        {"MOVE", 6, "-9", "bad expire"},
        {"MOVE", 7, "-1", "bad receives"},
        {"MOVE", 8, "x", "bad first-received"},
        {"MOVE", 9, "a b", "bad dlq-source"},
        {"MOVE", 10, "z", "bad state 'z'"},
        {"MOVE", 11, "5", "bad until"},
        {"DEDUP", 1, "", "bad dedupid ''"},
        {"DEDUP", 1, long129, "bad dedupid"},
        {"DEDUP", 2, "0", "bad id-seq"},
        {"DEDUP", 3, "-1", "bad expires"},
    };
    engine *r = setupEngine(), *e = setupEngine();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const recTemplate *t = templateOf(cases[i].type);
        assert_non_null(t);
        char err[512], want[256];
        int rc = applyTemplate(e, t, cases[i].at, cases[i].value,
                               strlen(cases[i].value), 0, err, sizeof(err));
        if (rc != -1)
            fail_msg("case %zu (%s arg %d '%s') was accepted", i, cases[i].type,
                     cases[i].at, cases[i].value);
        snprintf(want, sizeof(want), "%s record: %s", cases[i].type, cases[i].want);
        if (!strcmp(cases[i].type, "HEADER") && strstr(cases[i].want, "version"))
            snprintf(want, sizeof(want), "HEADER record: %s", cases[i].want);
        expectError(err, want);
        snprintf(where, sizeof(where), "after bad %s arg %d", cases[i].type,
                 cases[i].at);
        assertSameEngine(r, e, T0, 1);
    }
    engineFree(r);
    engineFree(e);
}

/* Each type with one argument too few and one too many. */
static void test_malformed_arity(void **state) {
    (void)state;
    engine *r = setupEngine(), *e = setupEngine();
    for (int i = 0; i < NTEMPLATES; i++) {
        const recTemplate *t = &templates[i];
        int n = templateArgc(t);
        for (int delta = -1; delta <= 1; delta += 2) {
            char err[512], want[128];
            assert_int_equal(applyTemplate(e, t, -1, NULL, 0, delta, err, sizeof(err)),
                             -1);
            snprintf(want, sizeof(want), "%s record needs %d arguments, got %d",
                     t->type, n, n + delta);
            expectError(err, want);
        }
    }
    snprintf(where, sizeof(where), "after bad arities");
    assertSameEngine(r, e, T0, 1);
    engineFree(r);
    engineFree(e);
}

/* Whole records that are wrong: not QREPLAY, no type, a bad LSN, an unknown
 * type, and records that parse but cannot apply consistently. */
static void test_malformed_records(void **state) {
    (void)state;
    static const struct {
        const char *words[MAXWORDS];
        const char *want;
    } cases[] = {
        {{"QSEND", "1", "DROP", "q"}, "not a QREPLAY record"},
        {{"QREPLAY", "1"}, "QREPLAY needs an LSN and a record type"},
        {{"QREPLAY"}, "QREPLAY needs an LSN and a record type"},
        {{"QREPLAY", "x", "DROP", "q"}, "bad LSN 'x'"},
        {{"QREPLAY", "-1", "DROP", "q"}, "bad LSN '-1'"},
        {{"QREPLAY", "18446744073709551616", "DROP", "q"}, "bad LSN"},
        {{"QREPLAY", "1", "NOPE", "q"}, "unknown record type 'NOPE'"},
        {{"QREPLAY", "1", "drop", "q"}, "unknown record type 'drop'"},
        {{"QREPLAY", "1", "", "q"}, "unknown record type ''"},
        /* consistent records only */
        {{"QREPLAY", "1", "QUEUE", "q2", "1", "1", "30000", "0", "0", "0", "1", "0",
          "nosuch", "1", "0", "0"},
         "QUEUE record: no such queue 'nosuch'"},
        {{"QREPLAY", "1", "QUEUE", "f", "1", "1", "30000", "0", "0", "0", "1", "0", "",
          "0", "0", "0"},
         "QUEUE record: queue 'f' exists as a fifo queue"},
        {{"QREPLAY", "1", "QUEUE", "q2", "1", "1", "30000", "0", "0", "0", "1", "0", "",
          "0", "0", "1"},
         "QUEUE record: CONTENTDEDUP is for FIFO queues only"},
        {{"QREPLAY", "1", "QUEUE", "q2", "1", "1", "30000", "0", "0", "0", "1", "0",
          "f", "1", "0", "0"},
         "QUEUE record: dead-letter queue 'f' is fifo"},
        {{"QREPLAY", "1", "QUEUE", "q", "1", "1", "30000", "0", "0", "0", "1", "0", "q",
          "1", "0", "0"},
         "cannot be its own dead-letter queue"},
        {{"QREPLAY", "1", "QUEUE", "d", "1", "1", "30000", "0", "0", "0", "1", "0", "q",
          "1", "0", "0"},
         "leads back to queue 'd'"},
        {{"QREPLAY", "1", "SEND", "f", "7", "7", "1", "-1", "-1", "0", "0", "0", "r",
          "-1", "", "x", "", "body"},
         "SEND record: a message of a fifo queue needs a group"},
        {{"QREPLAY", "1", "MSG", "q", "7", "7", "1", "-1", "-1", "0", "0", "0", "r",
          "-1", "g", "", "", "body"},
         "MSG record: a message of a standard queue has no group"},
        {{"QREPLAY", "1", "MOVE", "q", "fd", "1", "9", "deadletter", "1", "-1", "1",
          "1", "q", "r", "-1"},
         "MOVE record: a message cannot move between a fifo and a standard queue"},
        {{"QREPLAY", "1", "MOVE", "q", "d", "1", "2", "deadletter", "1", "-1", "1", "1",
          "q", "r", "-1"},
         "MOVE record: the new seq belongs to another message"},
    };
    engine *r = setupEngine(), *e = setupEngine();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        respArg argv[MAXWORDS];
        int argc = makeArgv(argv, cases[i].words);
        char err[512] = "";
        uint64_t lsn;
        if (aofrecApply(e, argc, argv, &lsn, err, sizeof(err)) != -1)
            fail_msg("case %zu was accepted", i);
        expectError(err, cases[i].want);
        snprintf(where, sizeof(where), "after bad record %zu", i);
        assertSameEngine(r, e, T0, 1);
    }
    engineFree(r);
    engineFree(e);
}

/* Records about what is gone apply as nothing: a replay into a live server
 * whose own timers got there first converges. */
static void test_gone_applies_as_nothing(void **state) {
    (void)state;
    static const char *const records[][MAXWORDS] = {
        {"QREPLAY", "1", "DEL", "q", "99"},
        {"QREPLAY", "1", "EXPIRE", "d", "1"}, /* message 1 is in q, not d */
        {"QREPLAY", "1", "LEASE", "q", "99", "1", "5", "1", "2"},
        {"QREPLAY", "1", "STATE", "q", "99", "r", "-1"},
        {"QREPLAY", "1", "LEASE", "gone", "1", "1", "5", "1", "2"},
        {"QREPLAY", "1", "COUNTERS", "gone", "1", "1", "1", "1", "1"},
        {"QREPLAY", "1", "DROP", "gone"},
        {"QREPLAY", "1", "PURGE", "gone"},
        {"QREPLAY", "1", "SEND", "gone", "7", "7", "1", "-1", "-1", "0", "0", "0", "r",
         "-1", "", "", "", "body"},
        {"QREPLAY", "1", "MOVE", "gone", "d", "1", "9", "deadletter", "1", "-1", "1",
         "1", "q", "r", "-1"},
        {"QREPLAY", "1", "MOVE", "q", "gone", "1", "9", "deadletter", "1", "-1", "1",
         "1", "q", "r", "-1"},
        {"QREPLAY", "1", "MOVE", "q", "d", "99", "9", "redrive", "1", "-1", "1", "1",
         "", "r", "-1"},
        {"QREPLAY", "1", "DEDUP", "gone", "x", "1", "5"},
    };
    engine *r = setupEngine(), *e = setupEngine();
    for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        respArg argv[MAXWORDS];
        int argc = makeArgv(argv, records[i]);
        char err[512] = "";
        uint64_t lsn;
        if (aofrecApply(e, argc, argv, &lsn, err, sizeof(err)) != 0)
            fail_msg("record %zu refused: %s", i, err);
        snprintf(where, sizeof(where), "after gone record %zu", i);
        assertSameEngine(r, e, T0, 1);
    }
    engineFree(r);
    engineFree(e);
}

/* A record applied twice (a replay into a server that has it already) leaves
 * the same state as once, for the records that can be idempotent. */
static void test_message_replaced(void **state) {
    (void)state;
    engine *e = setupEngine();
    static const char *const msg[MAXWORDS] = {"QREPLAY",
                                              "3",
                                              "MSG",
                                              "q",
                                              "1",
                                              "1",
                                              "1800000000000",
                                              "-1",
                                              "1800000001000",
                                              "5",
                                              "2",
                                              "77",
                                              "i",
                                              "1800000031000",
                                              "",
                                              "",
                                              "",
                                              "new body"};
    respArg argv[MAXWORDS];
    int argc = makeArgv(argv, msg);
    char err[256];
    uint64_t lsn;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(aofrecApply(e, argc, argv, &lsn, err, sizeof(err)), 0);
        queue *q = engineLookup(e, "q", 1);
        assert_int_equal(q->held, 2);
        assert_int_equal(q->inflight, 1);
        assert_int_equal(q->sentTotal, 2); /* MSG counts nothing */
        /* Sent at the same ms as message 2: ties go by seq, so it stays first. */
        assert_int_equal(q->allHead->seq, 1);
        uint64_t one = 1;
        const message *m = ptableFind(&e->bySeq, ptableHashU64(one), &one);
        assert_non_null(m);
        messageImage img;
        messageGetImage(m, &img);
        assert_int_equal(img.seq, 1);
        assert_int_equal(img.receives, 2);
        assert_int_equal(img.tag, 77);
        assert_int_equal(img.priority, 5);
        assert_int_equal(img.untilMs, INT64_C(1800000031000));
        assert_int_equal(img.bodyLen, 8);
        assert_memory_equal(img.body, "new body", 8);
        /* its receipt works */
        char receipt[QE_RECEIPT_LEN + 1];
        messageReceipt(m, receipt);
        assert_string_equal(receipt, "0000000000000001000000020000004d");
    }
    assert_int_equal(engineDelete(e, engineLookup(e, "q", 1),
                                  "0000000000000001000000020000004d", QE_RECEIPT_LEN,
                                  T0),
                     1);
    /* A receipt never matches a message that was never delivered. */
    assert_int_equal(engineDelete(e, engineLookup(e, "q", 1),
                                  "00000000000000020000000000000000", QE_RECEIPT_LEN,
                                  T0),
                     0);
    engineFree(e);
}

#define T(f) cmocka_unit_test(f)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_encoding_bytes),         T(test_templates_apply),
        T(test_malformed_arguments),    T(test_malformed_arity),
        T(test_malformed_records),      T(test_gone_applies_as_nothing),
        T(test_message_replaced),       T(test_snapshot_order),
        T(test_snapshot_flush_failure), T(test_replay_equals_source),
        T(test_snapshot_equals_source), T(test_snapshot_then_log_equals_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
