/* test_engine.c: scenario tests of the queue engine (src/engine/queue.c and the
 * heap and table under it), one contract rule of docs/commands.md per test, on
 * a simulated clock: nothing sleeps; each test moves `now` itself and runs
 * engineAdvance and engineServeWaiters as the server's loop would.
 *
 * Every expectation is the contract's (the "Queue commands" and "Message
 * commands" of the spec), checked through the public API only (engine.h); the
 * effect sink and the waiter callback record what the engine reports.
 *
 *     gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
 *         -fsanitize=address,undefined -I src src/engine/[a-z]*.c src/mem.c \
 *         tests/unit/test_engine.c -lcmocka -o /tmp/test_engine && /tmp/test_engine
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

#define SEC INT64_C(1000)
#define MINUTE (60 * SEC)
#define T0 INT64_C(1800000000000) /* January 2027 */
#define EPOCH 0x5eed0001u

#define MAXGOT 64
#define MAXEFFECTS 256
#define MAXDONE 32

/* ---- Fixture: an engine, its clock, and what its callbacks reported ---- */

typedef struct effectRec {
    int type;
    char q[QE_NAME_MAX + 1];
    char target[QE_NAME_MAX + 1];
    char id[QE_ID_LEN + 1]; /* "" without a message */
    int64_t timeMs;
    int64_t untilMs;
} effectRec;

/* A waiter of the tests: the engine's waiter plus what it was answered. */
typedef struct testWaiter {
    engineWaiter w;
    int why; /* 0 while parked */
    int64_t doneMs;
    int got;
    char ids[MAXGOT][QE_ID_LEN + 1];
} testWaiter;

typedef struct fx {
    engine *e;
    int64_t now;
    effectRec effects[MAXEFFECTS];
    int neffects;
    testWaiter *done[MAXDONE]; /* in the order they were answered */
    int ndone;
} fx;

/* The messages one QRECV returned, copied before the next engine call. */
typedef struct got {
    int n;
    char id[MAXGOT][QE_ID_LEN + 1];
    char receipt[MAXGOT][QE_RECEIPT_LEN + 1];
    char body[MAXGOT][64];
    uint32_t receives[MAXGOT];
} got;

static void copyName(char *out, const queue *q) {
    out[0] = '\0';
    if (!q) return;
    size_t len;
    const char *name = queueName(q, &len);
    memcpy(out, name, len);
    out[len] = '\0';
}

static void sink(void *ctx, const effect *ef) {
    fx *f = ctx;
    if (f->neffects == MAXEFFECTS) return; /* tests that look clear it first */
    effectRec *r = &f->effects[f->neffects++];
    memset(r, 0, sizeof(*r));
    r->type = ef->type;
    copyName(r->q, ef->q);
    copyName(r->target, ef->target);
    if (ef->msg) messageId(ef->msg, r->id);
    r->timeMs = ef->timeMs;
    r->untilMs = ef->untilMs;
}

static void waiterDone(void *ctx, engineWaiter *w, queue *q, int why) {
    fx *f = ctx;
    testWaiter *t = w->owner;
    assert_int_equal(t->why, 0); /* answered once */
    assert_null(w->q);           /* already unparked */
    t->why = why;
    t->doneMs = f->now;
    assert_true(f->ndone < MAXDONE);
    f->done[f->ndone++] = t;
    if (why != WAIT_READY) return;
    message *out[MAXGOT];
    size_t n = engineReceive(f->e, q, (size_t)w->count, w->visibilityMs, f->now, out);
    for (size_t i = 0; i < n; i++)
        messageId(out[i], t->ids[i]);
    t->got = (int)n;
}

static int setup(void **state) {
    fx *f = calloc(1, sizeof(*f));
    f->now = T0;
    f->e = engineCreate(EPOCH, f->now);
    engineSetEffectSink(f->e, sink, f);
    engineSetWaiterDone(f->e, waiterDone, f);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    engineFree(f->e);
    free(f);
    return 0;
}

/* ---- Helpers ---- */

/* The server's loop: timers due, then waiters. */
static void advanceTo(fx *f, int64_t t) {
    assert_true(t >= f->now);
    f->now = t;
    engineAdvance(f->e, f->now);
    engineServeWaiters(f->e, f->now);
}

static void tick(fx *f, int64_t ms) {
    advanceTo(f, f->now + ms);
}

static queueAttrs attrs(void) {
    queueAttrs a;
    queueAttrsDefaults(&a);
    return a;
}

static void withDlq(queueAttrs *a, const char *dlq, int maxReceives) {
    a->dlqLen = strlen(dlq);
    memcpy(a->dlq, dlq, a->dlqLen + 1);
    a->maxReceives = maxReceives;
}

static int createRc(fx *f, const char *name, const queueAttrs *a, char *err) {
    char buf[256];
    return engineCreateQueue(f->e, name, strlen(name), a, f->now, err ? err : buf, 256);
}

static queue *mkq(fx *f, const char *name, const queueAttrs *a) {
    char err[256] = "";
    int rc = createRc(f, name, a, err);
    if (rc != QE_OK) fail_msg("QCREATE %s: %d %s", name, rc, err);
    queue *q = engineLookup(f->e, name, strlen(name));
    assert_non_null(q);
    return q;
}

static queue *mkStd(fx *f, const char *name) {
    queueAttrs a = attrs();
    return mkq(f, name, &a);
}

static queue *mkFifo(fx *f, const char *name) {
    queueAttrs a = attrs();
    a.fifo = 1;
    return mkq(f, name, &a);
}

static queue *lookup(fx *f, const char *name) {
    return engineLookup(f->e, name, strlen(name));
}

typedef struct sendArgs {
    int32_t priority;
    int64_t delayMs;
    const char *group;
    const char *dedup;
    int memoryFull;
} sendArgs;

#define NOARGS ((sendArgs){.delayMs = -1})

static int sendRc(fx *f, queue *q, const char *body, sendArgs a, char *id, char *err) {
    sendOptions o = {.priority = a.priority,
                     .delayMs = a.delayMs,
                     .group = a.group,
                     .groupLen = a.group ? strlen(a.group) : 0,
                     .dedupId = a.dedup,
                     .dedupIdLen = a.dedup ? strlen(a.dedup) : 0,
                     .memoryFull = a.memoryFull};
    char idbuf[QE_ID_LEN + 1], errbuf[256];
    return engineSend(f->e, q, body, strlen(body), &o, f->now, id ? id : idbuf,
                      err ? err : errbuf, 256);
}

/* Sends and expects QE_OK; id (QE_ID_LEN+1 bytes) may be NULL. */
static void sendWith(fx *f, queue *q, const char *body, sendArgs a, char *id) {
    char err[256] = "";
    int rc = sendRc(f, q, body, a, id, err);
    if (rc != QE_OK) fail_msg("QSEND %s: %d %s", body, rc, err);
}

static void send(fx *f, queue *q, const char *body, char *id) {
    sendWith(f, q, body, NOARGS, id);
}

/* FIFO send: a group and a fresh dedup id (the body). */
static void sendG(fx *f, queue *q, const char *body, const char *group, char *id) {
    sendWith(f, q, body, (sendArgs){.delayMs = -1, .group = group, .dedup = body}, id);
}

static void copyMsg(got *g, const message *m) {
    int i = g->n++;
    messageId(m, g->id[i]);
    messageReceipt(m, g->receipt[i]);
    size_t len;
    const char *body = messageBody(m, &len);
    assert_true(len < sizeof(g->body[i]));
    memcpy(g->body[i], body, len);
    g->body[i][len] = '\0';
    g->receives[i] = messageReceives(m);
}

static int recv(fx *f, queue *q, size_t count, int64_t visMs, got *g) {
    message *out[MAXGOT];
    memset(g, 0, sizeof(*g));
    size_t n = engineReceive(f->e, q, count, visMs, f->now, out);
    for (size_t i = 0; i < n; i++)
        copyMsg(g, out[i]);
    return (int)n;
}

static int peek(fx *f, queue *q, size_t count, got *g) {
    message *out[MAXGOT];
    memset(g, 0, sizeof(*g));
    size_t n = enginePeek(f->e, q, count, f->now, out);
    for (size_t i = 0; i < n; i++)
        copyMsg(g, out[i]);
    return (int)n;
}

/* Bodies of a reply joined with spaces, for readable order assertions. */
static const char *bodies(const got *g) {
    static char buf[MAXGOT * 64];
    buf[0] = '\0';
    for (int i = 0; i < g->n; i++) {
        if (i) strcat(buf, " ");
        strcat(buf, g->body[i]);
    }
    return buf;
}

static int del(fx *f, queue *q, const char *receipt) {
    return engineDelete(f->e, q, receipt, strlen(receipt), f->now);
}

static int vis(fx *f, queue *q, const char *receipt, int64_t ms) {
    return engineVisibility(f->e, q, receipt, strlen(receipt), ms, f->now);
}

static queueInfo info(fx *f, queue *q) {
    queueInfo qi;
    queueGetInfo(q, f->now, &qi);
    return qi;
}

static int64_t held(const queueInfo *qi) {
    return qi->ready + qi->inflight + qi->delayed + qi->blocked;
}

#define assert_counts(f, q, r, i, d, b)                                                \
    do {                                                                               \
        queueInfo qi_ = info((f), (q));                                                \
        assert_int_equal(qi_.ready, (r));                                              \
        assert_int_equal(qi_.inflight, (i));                                           \
        assert_int_equal(qi_.delayed, (d));                                            \
        assert_int_equal(qi_.blocked, (b));                                            \
        assert_int_equal(queueReceivable(q), (r));                                     \
    } while (0)

static const message *peekOne(fx *f, queue *q) {
    message *out[1];
    assert_int_equal(enginePeek(f->e, q, 1, f->now, out), 1);
    return out[0];
}

static void assert_str_n(const char *p, size_t len, const char *want) {
    assert_non_null(p);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
}

static void clearEffects(fx *f) {
    f->neffects = 0;
}

static void parkW(fx *f, queue *q, testWaiter *t, int count, int64_t deadline) {
    memset(t, 0, sizeof(*t));
    t->w.owner = t;
    t->w.count = count;
    t->w.visibilityMs = -1;
    engineWaitPark(f->e, q, &t->w, deadline);
}

/* ---- Leases ---- */

static void test_lease_expiry_redelivers_counting_receives(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    char id[QE_ID_LEN + 1];
    send(f, q, "a", id);
    got g1, g2, g3;
    assert_int_equal(recv(f, q, 1, -1, &g1), 1);
    assert_string_equal(g1.id[0], id);
    assert_int_equal(g1.receives[0], 1);
    assert_counts(f, q, 0, 1, 0, 0);

    tick(f, 30 * SEC - 1); /* the queue's VISIBILITY is 30 s */
    assert_counts(f, q, 0, 1, 0, 0);
    assert_int_equal(recv(f, q, 1, -1, &g2), 0);
    tick(f, 1);
    assert_counts(f, q, 1, 0, 0, 0);
    assert_int_equal(recv(f, q, 1, 5 * SEC, &g2), 1);
    assert_string_equal(g2.id[0], id);
    assert_int_equal(g2.receives[0], 2);
    assert_string_not_equal(g2.receipt[0], g1.receipt[0]);

    tick(f, 5 * SEC); /* the VISIBILITY of that QRECV */
    assert_int_equal(recv(f, q, 1, -1, &g3), 1);
    assert_int_equal(g3.receives[0], 3);
    assert_int_equal(info(f, q).receivedTotal, 3);
    assert_int_equal(del(f, q, g3.receipt[0]), 1);
    assert_counts(f, q, 0, 0, 0, 0);
    assert_int_equal(info(f, q).deletedTotal, 1);
}

static void test_stale_receipts_after_redelivery(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    queue *other = mkStd(f, "other");
    send(f, q, "a", NULL);
    got g1, g2;
    recv(f, q, 1, 10 * SEC, &g1);
    tick(f, 10 * SEC);
    assert_int_equal(recv(f, q, 1, 10 * SEC, &g2), 1);

    /* The first delivery's receipt is stale now. */
    assert_int_equal(del(f, q, g1.receipt[0]), 0);
    assert_int_equal(vis(f, q, g1.receipt[0], 20 * SEC), QE_BADRECEIPT);
    assert_int_equal(vis(f, q, g1.receipt[0], 0), QE_BADRECEIPT);
    assert_counts(f, q, 0, 1, 0, 0);
    /* Not a receipt, or one of another queue. */
    assert_int_equal(del(f, q, "nonsense"), 0);
    assert_int_equal(del(f, q, "0000000000000001000000020000000Z"), 0);
    assert_int_equal(del(f, other, g2.receipt[0]), 0);
    assert_int_equal(vis(f, other, g2.receipt[0], 0), QE_BADRECEIPT);
    /* The new one works: QVIS keeps it valid, QDEL ends it. */
    assert_int_equal(vis(f, q, g2.receipt[0], 20 * SEC), QE_OK);
    tick(f, 15 * SEC); /* past the old lease end, within the new one */
    assert_counts(f, q, 0, 1, 0, 0);
    assert_int_equal(del(f, q, g2.receipt[0]), 1);
    assert_int_equal(del(f, q, g2.receipt[0]), 0);
    assert_int_equal(vis(f, q, g2.receipt[0], 1), QE_BADRECEIPT);
    assert_int_equal(info(f, q).deletedTotal, 1);
}

static void test_qvis_zero_makes_ready_at_once(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    send(f, q, "a", NULL);
    send(f, q, "b", NULL);
    got g, g2;
    recv(f, q, 2, -1, &g);
    assert_int_equal(vis(f, q, g.receipt[1], 0), QE_OK);
    /* No clock step: ready at once. */
    assert_counts(f, q, 1, 1, 0, 0);
    assert_int_equal(recv(f, q, 5, -1, &g2), 1);
    assert_string_equal(g2.body[0], "b");
    assert_int_equal(g2.receives[0], 2);
    assert_int_equal(del(f, q, g.receipt[1]), 0); /* delivered again: stale */
}

static void test_qvis_after_lease_ran_out_leases_again(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    send(f, q, "a", NULL);
    got g, g2;
    recv(f, q, 1, 10 * SEC, &g);
    tick(f, 10 * SEC);
    assert_counts(f, q, 1, 0, 0, 0); /* lease over, not delivered again */
    assert_int_equal(vis(f, q, g.receipt[0], 20 * SEC), QE_OK);
    assert_counts(f, q, 0, 1, 0, 0);
    assert_int_equal(info(f, q).receivedTotal, 1); /* not a delivery */
    tick(f, 20 * SEC - 1);
    assert_counts(f, q, 0, 1, 0, 0);
    tick(f, 1);
    assert_counts(f, q, 1, 0, 0, 0);
    /* QVIS 0 on a message already ready changes nothing and is OK. */
    assert_int_equal(vis(f, q, g.receipt[0], 0), QE_OK);
    assert_counts(f, q, 1, 0, 0, 0);
    assert_int_equal(recv(f, q, 1, -1, &g2), 1);
    assert_int_equal(g2.receives[0], 2); /* the QVIS did not count */

    /* A second message: the old receipt still deletes it after the re-lease. */
    send(f, q, "b", NULL);
    recv(f, q, 1, 1 * SEC, &g);
    tick(f, 1 * SEC);
    assert_int_equal(vis(f, q, g.receipt[0], 5 * SEC), QE_OK);
    assert_int_equal(del(f, q, g.receipt[0]), 1);
    assert_int_equal(info(f, q).inflight, 1); /* "a" */
}

/* QRECV VISIBILITY 0: the lease ends at once (at the next engineAdvance, which
 * the server runs before every command); the receipt stays valid until the
 * message is delivered again. */
static void test_recv_visibility_zero(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    send(f, q, "a", NULL);
    send(f, q, "b", NULL);
    got g, g2;
    assert_int_equal(recv(f, q, 2, 0, &g), 2);
    tick(f, 0);
    assert_counts(f, q, 2, 0, 0, 0);
    assert_int_equal(info(f, q).receivedTotal, 2);
    assert_int_equal(del(f, q, g.receipt[1]), 1); /* ready, receipt still valid */
    assert_int_equal(recv(f, q, 2, -1, &g2), 1);
    assert_string_equal(g2.body[0], "a");
    assert_int_equal(g2.receives[0], 2);
    assert_int_equal(del(f, q, g.receipt[0]), 0);
}

/* ---- Dead letters ---- */

static void checkDeadLetter(const message *m, const char *id, const char *body,
                            int32_t prio, const char *group, const char *dedup,
                            int64_t sentMs, int64_t firstMs, uint32_t receives,
                            const char *source) {
    char mid[QE_ID_LEN + 1];
    messageId(m, mid);
    assert_string_equal(mid, id);
    size_t len;
    const char *p = messageBody(m, &len);
    assert_str_n(p, len, body);
    assert_int_equal(messagePriority(m), prio);
    if (group) {
        p = messageGroup(m, &len);
        assert_str_n(p, len, group);
    } else {
        assert_null(messageGroup(m, &len));
    }
    p = messageDedupId(m, &len);
    assert_str_n(p, len, dedup);
    assert_int_equal(messageSentMs(m), sentMs);
    assert_int_equal(messageFirstReceivedMs(m), firstMs);
    assert_int_equal(messageReceives(m), receives);
    if (source) {
        p = messageDlqSource(m, &len);
        assert_str_n(p, len, source);
    } else {
        assert_null(messageDlqSource(m, &len));
    }
}

static void test_deadletter_on_lease_end_keeps_metadata(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 2);
    queue *s = mkq(f, "s", &a);
    assert_int_equal(queueDlqSourceCount(d), 1);
    assert_ptr_equal(queueDlqSource(d, 0), s);
    send(f, d, "already-there", NULL);

    char id[QE_ID_LEN + 1];
    int64_t sent = f->now;
    sendWith(f, s, "payload", (sendArgs){.priority = 7, .delayMs = -1, .dedup = "dd"},
             id);
    tick(f, 1 * SEC);
    int64_t first = f->now;
    got g1, g2, g3;
    recv(f, s, 1, 5 * SEC, &g1);
    tick(f, 5 * SEC);
    assert_counts(f, s, 1, 0, 0, 0); /* 1 delivery < 2: ready again */
    recv(f, s, 1, 5 * SEC, &g2);
    assert_int_equal(g2.receives[0], 2);
    tick(f, 5 * SEC - 1);
    assert_counts(f, s, 0, 1, 0, 0);
    tick(f, 1); /* the lease of its 2nd delivery ends: to the DLQ */
    assert_counts(f, s, 0, 0, 0, 0);
    assert_counts(f, d, 2, 0, 0, 0);
    assert_int_equal(info(f, s).deadletteredTotal, 1);
    assert_int_equal(info(f, d).deadletteredTotal, 0);
    assert_int_equal(info(f, d).sentTotal, 1); /* the dead letter is not counted */
    assert_int_equal(info(f, s).expiredTotal, 0);

    /* Behind "already-there" (priority 0!) would be wrong: priority 7 leads. */
    const message *m = peekOne(f, d);
    checkDeadLetter(m, id, "payload", 7, NULL, "dd", sent, first, 2, "s");
    /* Its receipts are stale in both queues. */
    assert_int_equal(del(f, s, g2.receipt[0]), 0);
    assert_int_equal(del(f, d, g2.receipt[0]), 0);
    assert_int_equal(recv(f, d, 1, -1, &g3), 1);
    assert_string_equal(g3.id[0], id);
    assert_int_equal(g3.receives[0], 3);
    assert_int_equal(del(f, d, g3.receipt[0]), 1);
}

static void test_deadletter_goes_behind_waiting_messages(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    send(f, s, "old", NULL); /* sent first, dead-lettered last */
    tick(f, 1);
    send(f, d, "w1", NULL);
    send(f, d, "w2", NULL);
    got g;
    recv(f, s, 1, 10 * SEC, &g);
    tick(f, 10 * SEC);
    got all;
    assert_int_equal(recv(f, d, 10, -1, &all), 3);
    assert_string_equal(bodies(&all), "w1 w2 old");
    /* QINFO's oldest is the dead letter's sent_ms. */
    assert_int_equal(info(f, d).oldestSentMs, T0);
}

static void test_deadletter_fifo_keeps_group(void **state) {
    fx *f = *state;
    queue *d = mkFifo(f, "fd");
    queueAttrs a = attrs();
    a.fifo = 1;
    withDlq(&a, "fd", 1);
    queue *s = mkq(f, "fs", &a);
    char id[QE_ID_LEN + 1];
    sendG(f, s, "x1", "g", id);
    sendG(f, s, "x2", "g", NULL);
    got g;
    recv(f, s, 1, 3 * SEC, &g);
    assert_counts(f, s, 0, 1, 0, 1);
    tick(f, 3 * SEC);
    /* x1 left for the DLQ; that frees its group in the source. */
    assert_counts(f, s, 1, 0, 0, 0);
    assert_counts(f, d, 1, 0, 0, 0);
    checkDeadLetter(peekOne(f, d), id, "x1", 0, "g", "x1", T0, T0, 1, "fs");
    assert_int_equal(recv(f, s, 5, -1, &g), 1);
    assert_string_equal(g.body[0], "x2");
}

static void test_deadletter_on_qvis_zero(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    char id[QE_ID_LEN + 1];
    send(f, s, "a", id);
    got g;
    recv(f, s, 1, -1, &g);
    clearEffects(f);
    assert_int_equal(vis(f, s, g.receipt[0], 0), QE_OK);
    assert_counts(f, s, 0, 0, 0, 0);
    assert_counts(f, d, 1, 0, 0, 0);
    assert_int_equal(info(f, s).deadletteredTotal, 1);
    assert_int_equal(vis(f, s, g.receipt[0], 0), QE_BADRECEIPT);
    /* The effects: the lease change, then the move (no RETURN). */
    assert_int_equal(f->neffects, 2);
    assert_int_equal(f->effects[0].type, EFFECT_VIS);
    assert_int_equal(f->effects[1].type, EFFECT_DEADLETTER);
    assert_string_equal(f->effects[1].q, "s");
    assert_string_equal(f->effects[1].target, "d");
    assert_string_equal(f->effects[1].id, id);
}

static void test_deadletter_when_qrecv_meets_after_qset(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 3);
    queue *s = mkq(f, "s", &a);
    send(f, s, "A", NULL); /* priority 0, delivered once below */
    sendWith(f, s, "C", (sendArgs){.priority = -1, .delayMs = -1}, NULL);
    got g;
    assert_int_equal(recv(f, s, 2, 5 * SEC, &g), 2);
    tick(f, 5 * SEC); /* both ready again, receives 1 < 3 */
    sendWith(f, s, "B", (sendArgs){.priority = -1, .delayMs = -1}, NULL);
    send(f, s, "fresh0", NULL);
    /* Order now: A(0, 1 receive) fresh0(0) C(-1, 1 receive) B(-1). */
    queueAttrs b = attrs();
    withDlq(&b, "d", 1);
    char err[256];
    assert_int_equal(engineSetQueue(f->e, s, &b, QA_DLQ, f->now, err, sizeof err),
                     QE_OK);
    /* Nothing moved yet: only a QRECV moves them. */
    assert_int_equal(info(f, d).ready, 0);
    /* QPEEK shows what a QRECV would get. */
    got p;
    assert_int_equal(peek(f, s, 10, &p), 2);
    assert_string_equal(bodies(&p), "fresh0 B");

    assert_int_equal(recv(f, s, 1, -1, &g), 1);
    assert_string_equal(g.body[0], "fresh0"); /* A was met and moved */
    assert_int_equal(info(f, s).deadletteredTotal, 1);
    assert_int_equal(info(f, d).ready, 1);
    assert_int_equal(info(f, s).ready + info(f, s).inflight, 3); /* C, B, fresh0 */
    assert_int_equal(recv(f, s, 1, -1, &g), 1);
    assert_string_equal(g.body[0], "B"); /* C met and moved */
    assert_int_equal(info(f, s).deadletteredTotal, 2);
    assert_int_equal(recv(f, d, 10, -1, &g), 2);
    assert_string_equal(bodies(&g), "A C");
    assert_int_equal(g.receives[0], 2);
    assert_int_equal(g.receives[1], 2);
}

static void test_deadletter_retention_counts_from_sent(void **state) {
    fx *f = *state;
    queueAttrs da = attrs();
    da.retentionMs = 100 * SEC;
    queue *d = mkq(f, "d", &da);
    queueAttrs a = attrs();
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    send(f, s, "a", NULL); /* sent at T0: expires from d at T0 + 100 s */
    got g;
    recv(f, s, 1, 60 * SEC, &g);
    tick(f, 60 * SEC);
    assert_counts(f, d, 1, 0, 0, 0);
    advanceTo(f, T0 + 100 * SEC - 1);
    assert_counts(f, d, 1, 0, 0, 0);
    tick(f, 1);
    assert_counts(f, d, 0, 0, 0, 0);
    assert_int_equal(info(f, d).expiredTotal, 1);

    /* Older than the DLQ's retention when it moves: gone at once. */
    send(f, s, "b", NULL);
    recv(f, s, 1, 200 * SEC, &g);
    tick(f, 200 * SEC);
    assert_counts(f, d, 0, 0, 0, 0);
    assert_int_equal(info(f, d).expiredTotal, 2);
    assert_int_equal(info(f, s).deadletteredTotal, 2);
    assert_int_equal(info(f, s).expiredTotal, 0);
}

/* A lease that ends before the message's retention must dead-letter it even when
 * the clock steps over both at once (a busy loop, a long poll timeout): the
 * source's retention came after the move, so it no longer applies. */
static void test_deadletter_before_retention_in_one_long_step(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    a.retentionMs = 100 * SEC;
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    send(f, s, "a", NULL);
    got g;
    recv(f, s, 1, 50 * SEC, &g); /* lease ends at 50 s, retention at 100 s */
    advanceTo(f, T0 + 150 * SEC);
    assert_int_equal(info(f, s).expiredTotal, 0);
    assert_int_equal(info(f, s).deadletteredTotal, 1);
    assert_counts(f, d, 1, 0, 0, 0);
}

static void test_redrive(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    char id1[QE_ID_LEN + 1], id2[QE_ID_LEN + 1];
    sendWith(f, s, "m1", (sendArgs){.priority = 3, .delayMs = -1, .dedup = "k1"}, id1);
    tick(f, 1);
    send(f, s, "m2", id2);
    send(f, d, "direct", NULL); /* never dead-lettered: never redriven */
    got g;
    assert_int_equal(recv(f, s, 2, 10 * SEC, &g), 2);
    tick(f, 10 * SEC);
    assert_int_equal(info(f, d).ready, 3);
    /* Messages waiting in the source, same priority as m1. */
    sendWith(f, s, "w1", (sendArgs){.priority = 3, .delayMs = -1}, NULL);
    send(f, s, "w2", NULL);

    tick(f, 1 * SEC);
    int64_t redriveAt = f->now;
    clearEffects(f);
    assert_int_equal(engineRedrive(f->e, d, 1, f->now), 1); /* the oldest: m1 */
    assert_int_equal(f->neffects, 1);
    assert_int_equal(f->effects[0].type, EFFECT_REDRIVE);
    assert_string_equal(f->effects[0].q, "d");
    assert_string_equal(f->effects[0].target, "s");
    assert_string_equal(f->effects[0].id, id1);
    assert_int_equal(info(f, d).ready, 2);
    assert_int_equal(info(f, s).ready, 3);
    assert_int_equal(info(f, s).sentTotal, 4); /* a redrive is not a send */

    got p;
    assert_int_equal(peek(f, s, 10, &p), 3);
    assert_string_equal(bodies(&p), "w1 m1 w2"); /* m1 behind w1, same priority */
    message *out[4];
    assert_int_equal(enginePeek(f->e, s, 2, f->now, out), 2);
    checkDeadLetter(out[1], id1, "m1", 3, NULL, "k1", redriveAt, 0, 0, NULL);
    assert_int_equal(messageExpireMs(out[1]), redriveAt + a.retentionMs);

    assert_int_equal(engineRedrive(f->e, d, INT64_MAX, f->now), 1); /* m2 */
    assert_int_equal(engineRedrive(f->e, d, INT64_MAX, f->now), 0);
    assert_int_equal(info(f, d).ready, 1); /* "direct" stays */
    assert_int_equal(recv(f, s, 10, -1, &g), 4);
    assert_string_equal(bodies(&g), "w1 m1 w2 m2");
    assert_string_equal(g.id[1], id1);
    assert_string_equal(g.id[3], id2);
    assert_int_equal(g.receives[1], 1); /* counting from 0 again */
    for (int i = 0; i < 4; i++)
        assert_int_equal(del(f, s, g.receipt[i]), 1);

    /* The source is gone: the dead letter stays. */
    queueAttrs b = attrs();
    withDlq(&b, "d", 1);
    queue *s2 = mkq(f, "s2", &b);
    send(f, s2, "orphan", NULL);
    recv(f, s2, 1, -1, &g);
    assert_int_equal(vis(f, s2, g.receipt[0], 0), QE_OK);
    char err[256];
    assert_int_equal(engineDropQueue(f->e, "s2", 2, f->now, err, sizeof err), QE_OK);
    assert_int_equal(engineRedrive(f->e, d, INT64_MAX, f->now), 0);
    assert_int_equal(info(f, d).ready, 2);
    /* Created again: the dead letter goes home. */
    s2 = mkStd(f, "s2");
    assert_int_equal(engineRedrive(f->e, d, INT64_MAX, f->now), 1);
    assert_int_equal(info(f, s2).ready, 1);
}

static void test_redrive_wakes_waiter_and_skips_inflight(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    send(f, s, "a", NULL);
    send(f, s, "b", NULL);
    got g;
    recv(f, s, 2, -1, &g);
    vis(f, s, g.receipt[0], 0);
    vis(f, s, g.receipt[1], 0);
    recv(f, d, 1, -1, &g); /* "a" in flight in the DLQ: not redriven */
    testWaiter w;
    parkW(f, s, &w, 5, f->now + 10 * SEC);
    assert_int_equal(engineRedrive(f->e, d, INT64_MAX, f->now), 1);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(w.why, WAIT_READY);
    assert_int_equal(w.got, 1);
    assert_int_equal(info(f, d).inflight, 1);
}

/* A dead letter whose source was dropped and made again with the other type has
 * no queue to go back to (a FIFO message would land without a group). */
static void test_redrive_to_source_of_other_type_stays(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    send(f, s, "a", NULL);
    got g;
    recv(f, s, 1, -1, &g);
    vis(f, s, g.receipt[0], 0);
    char err[256];
    assert_int_equal(engineDropQueue(f->e, "s", 1, f->now, err, sizeof err), QE_OK);
    queue *s2 = mkFifo(f, "s");
    assert_int_equal(engineRedrive(f->e, d, INT64_MAX, f->now), 0);
    assert_int_equal(info(f, d).ready, 1);
    assert_int_equal(info(f, s2).ready, 0);
}

/* ---- FIFO ---- */

static void test_fifo_groups(void **state) {
    fx *f = *state;
    queue *q = mkFifo(f, "f");
    sendG(f, q, "a1", "A", NULL);
    sendG(f, q, "b1", "B", NULL);
    sendG(f, q, "a2", "A", NULL);
    sendG(f, q, "c1", "C", NULL);
    sendG(f, q, "a3", "A", NULL);
    sendG(f, q, "b2", "B", NULL);
    assert_counts(f, q, 6, 0, 0, 0);

    got ga, gb, g;
    assert_int_equal(recv(f, q, 1, 10 * SEC, &ga), 1);
    assert_string_equal(ga.body[0], "a1");
    /* A is blocked behind a1: a2 and a3 are not receivable. */
    assert_counts(f, q, 3, 1, 0, 2);
    got p;
    peek(f, q, 10, &p);
    assert_string_equal(bodies(&p), "b1 b2 c1");
    /* Several messages of one group in one reply, in send order. */
    assert_int_equal(recv(f, q, 2, 20 * SEC, &gb), 2);
    assert_string_equal(bodies(&gb), "b1 b2");
    assert_counts(f, q, 1, 3, 0, 2);
    assert_int_equal(recv(f, q, 10, 20 * SEC, &g), 1);
    assert_string_equal(g.body[0], "c1");
    assert_int_equal(recv(f, q, 10, -1, &g), 0);
    assert_counts(f, q, 0, 4, 0, 2);

    /* QDEL of a1 frees A. */
    assert_int_equal(del(f, q, ga.receipt[0]), 1);
    assert_counts(f, q, 2, 3, 0, 0);
    assert_int_equal(recv(f, q, 1, 10 * SEC, &ga), 1);
    assert_string_equal(ga.body[0], "a2");
    assert_counts(f, q, 0, 4, 0, 1);
    /* The end of a2's lease frees A again: a2 first, then a3. */
    tick(f, 10 * SEC);
    assert_counts(f, q, 2, 3, 0, 0);
    assert_int_equal(recv(f, q, 5, 10 * SEC, &ga), 2);
    assert_string_equal(bodies(&ga), "a2 a3");
    assert_int_equal(ga.receives[0], 2);
    assert_int_equal(ga.receives[1], 1);

    /* Of two in-flight messages of B, the group stays blocked until both end. */
    sendG(f, q, "b3", "B", NULL);
    assert_counts(f, q, 0, 5, 0, 1);
    assert_int_equal(del(f, q, gb.receipt[0]), 1);
    assert_counts(f, q, 0, 4, 0, 1);
    assert_int_equal(vis(f, q, gb.receipt[1], 0), QE_OK); /* b2 back */
    assert_counts(f, q, 2, 3, 0, 0);
    assert_int_equal(recv(f, q, 5, -1, &g), 2);
    assert_string_equal(bodies(&g), "b2 b3");
}

static void test_fifo_group_freed_on_lease_end_wakes_waiter(void **state) {
    fx *f = *state;
    queue *q = mkFifo(f, "f");
    sendG(f, q, "a1", "A", NULL);
    sendG(f, q, "a2", "A", NULL);
    got g;
    recv(f, q, 1, 5 * SEC, &g);
    testWaiter w;
    parkW(f, q, &w, 10, f->now + 60 * SEC);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(w.why, 0); /* a2 is blocked: nothing to give */
    tick(f, 5 * SEC);
    assert_int_equal(w.why, WAIT_READY);
    assert_int_equal(w.got, 2); /* a1 (again), a2 */
    /* And on QDEL: */
    sendG(f, q, "c1", "C", NULL);
    sendG(f, q, "c2", "C", NULL);
    recv(f, q, 1, -1, &g);
    testWaiter w2;
    parkW(f, q, &w2, 10, f->now + 60 * SEC);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(w2.why, 0);
    del(f, q, g.receipt[0]);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(w2.why, WAIT_READY);
    assert_int_equal(w2.got, 1);
}

static void test_fifo_queue_delay(void **state) {
    fx *f = *state;
    queueAttrs a = attrs();
    a.fifo = 1;
    a.delayMs = 2 * SEC;
    queue *q = mkq(f, "f", &a);
    sendG(f, q, "a1", "A", NULL);
    assert_counts(f, q, 0, 0, 1, 0);
    tick(f, 2 * SEC - 1);
    assert_counts(f, q, 0, 0, 1, 0);
    tick(f, 1);
    assert_counts(f, q, 1, 0, 0, 0);
}

/* A later message of a group never becomes receivable before an earlier one,
 * even when the queue's DELAY was lowered in between (strict send order within
 * a group). */
static void test_fifo_delay_keeps_group_order(void **state) {
    fx *f = *state;
    queueAttrs a = attrs();
    a.fifo = 1;
    a.delayMs = 5 * SEC;
    queue *q = mkq(f, "f", &a);
    sendG(f, q, "a1", "A", NULL);
    queueAttrs b = attrs();
    b.delayMs = 0;
    char err[256];
    engineSetQueue(f->e, q, &b, QA_DELAY, f->now, err, sizeof err);
    sendG(f, q, "a2", "A", NULL);
    sendG(f, q, "b1", "B", NULL);
    got g;
    assert_int_equal(recv(f, q, 10, -1, &g), 1);
    assert_string_equal(g.body[0], "b1");
    tick(f, 5 * SEC - 1);
    assert_int_equal(recv(f, q, 10, -1, &g), 0);
    tick(f, 1);
    assert_int_equal(recv(f, q, 10, -1, &g), 2);
    assert_string_equal(bodies(&g), "a1 a2");
}

/* ---- Dedup ---- */

static void test_dedup_window(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    char id1[QE_ID_LEN + 1], id[QE_ID_LEN + 1];
    sendWith(f, q, "first", (sendArgs){.delayMs = -1, .dedup = "x"}, id1);
    got g;
    recv(f, q, 1, -1, &g);
    del(f, q, g.receipt[0]); /* deleting it does not end the window */

    advanceTo(f, T0 + 5 * MINUTE - 1); /* 4:59.999 */
    assert_int_equal(
        sendRc(f, q, "again", (sendArgs){.delayMs = -1, .dedup = "x"}, id, NULL),
        QE_DUPLICATE);
    assert_string_equal(id, id1);
    assert_int_equal(info(f, q).sentTotal, 1);
    assert_counts(f, q, 0, 0, 0, 0);
    /* Even when FULL, or out of memory, a duplicate is a duplicate. */
    send(f, q, "filler", NULL);
    queueAttrs b = attrs();
    b.maxDepth = 1;
    char err[256];
    assert_int_equal(engineSetQueue(f->e, q, &b, QA_MAXDEPTH, f->now, err, sizeof err),
                     QE_OK);
    assert_int_equal(
        sendRc(f, q, "y", (sendArgs){.delayMs = -1, .dedup = "y"}, id, NULL), QE_FULL);
    assert_int_equal(
        sendRc(f, q, "again", (sendArgs){.delayMs = -1, .dedup = "x"}, id, NULL),
        QE_DUPLICATE);
    assert_string_equal(id, id1);
    assert_int_equal(sendRc(f, q, "again",
                            (sendArgs){.delayMs = -1, .dedup = "x", .memoryFull = 1},
                            id, NULL),
                     QE_DUPLICATE);
    assert_string_equal(id, id1);
    assert_counts(f, q, 1, 0, 0, 0);
    b.maxDepth = 0;
    engineSetQueue(f->e, q, &b, QA_MAXDEPTH, f->now, err, sizeof err);

    advanceTo(f, T0 + 5 * MINUTE); /* 5:00.000 */
    assert_int_equal(
        sendRc(f, q, "new", (sendArgs){.delayMs = -1, .dedup = "x"}, id, NULL), QE_OK);
    assert_string_not_equal(id, id1);
    assert_int_equal(info(f, q).sentTotal, 3);
    /* The new send opened a new window. */
    char id3[QE_ID_LEN + 1];
    tick(f, 5 * MINUTE - 1);
    assert_int_equal(
        sendRc(f, q, "z", (sendArgs){.delayMs = -1, .dedup = "x"}, id3, NULL),
        QE_DUPLICATE);
    assert_string_equal(id3, id);
}

/* The window ends at 5:00.000 even when no engineAdvance ran at that time. */
static void test_dedup_window_without_advance(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    char id1[QE_ID_LEN + 1], id[QE_ID_LEN + 1];
    sendWith(f, q, "first", (sendArgs){.delayMs = -1, .dedup = "x"}, id1);
    f->now = T0 + 5 * MINUTE - 1; /* no engineAdvance */
    assert_int_equal(
        sendRc(f, q, "b", (sendArgs){.delayMs = -1, .dedup = "x"}, id, NULL),
        QE_DUPLICATE);
    f->now = T0 + 5 * MINUTE;
    assert_int_equal(
        sendRc(f, q, "c", (sendArgs){.delayMs = -1, .dedup = "x"}, id, NULL), QE_OK);
    assert_string_not_equal(id, id1);
    tick(f, 0);
    f->now += 1;
    assert_int_equal(
        sendRc(f, q, "d", (sendArgs){.delayMs = -1, .dedup = "x"}, id1, NULL),
        QE_DUPLICATE);
    assert_string_equal(id1, id);
}

/* Dedup ids are per queue, and a dead letter brings its dedup id along without
 * claiming it in the DLQ. */
static void test_dedup_per_queue(void **state) {
    fx *f = *state;
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    sendWith(f, s, "a", (sendArgs){.delayMs = -1, .dedup = "k"}, NULL);
    got g;
    recv(f, s, 1, -1, &g);
    vis(f, s, g.receipt[0], 0);
    assert_int_equal(info(f, d).ready, 1);
    assert_int_equal(
        sendRc(f, d, "b", (sendArgs){.delayMs = -1, .dedup = "k"}, NULL, NULL), QE_OK);
}

/* ---- Retention ---- */

static void test_retention_of_every_state(void **state) {
    fx *f = *state;
    char err[256];
    queueAttrs a = attrs();
    a.retentionMs = 10 * SEC;
    queue *q = mkq(f, "q", &a);
    send(f, q, "ready", NULL);
    sendWith(f, q, "leased", (sendArgs){.priority = 9, .delayMs = -1}, NULL);
    got g;
    recv(f, q, 1, 60 * SEC, &g);
    assert_string_equal(g.body[0], "leased");
    /* A message's DELAY must be shorter than the RETENTION, as the queue's. */
    assert_int_equal(sendRc(f, q, "x", (sendArgs){.delayMs = 10 * SEC}, NULL, err),
                     QE_ERR);
    /* A delayed message reaches its retention on a FIFO queue: it waits for
     * the delay of the message before it in its group (made with a longer
     * DELAY and RETENTION, both lowered since). */
    queueAttrs fa = attrs();
    fa.fifo = 1;
    fa.delayMs = 20 * SEC;
    fa.retentionMs = 100 * SEC;
    queue *fq = mkq(f, "f", &fa);
    sendG(f, fq, "f1", "G", NULL); /* visible at 20 s */
    fa.delayMs = 0;
    fa.retentionMs = 10 * SEC;
    assert_int_equal(
        engineSetQueue(f->e, fq, &fa, QA_DELAY | QA_RETENTION, f->now, err, sizeof err),
        QE_OK);
    sendG(f, fq, "f2", "G", NULL); /* expires at 10 s, still delayed then */
    assert_counts(f, fq, 0, 0, 2, 0);
    tick(f, 1 * SEC);
    send(f, q, "later", NULL);
    assert_counts(f, q, 2, 1, 0, 0);
    assert_int_equal(info(f, q).oldestSentMs, T0);

    tick(f, 9 * SEC - 1);
    assert_counts(f, q, 2, 1, 0, 0);
    assert_counts(f, fq, 0, 0, 2, 0);
    assert_int_equal(info(f, q).expiredTotal, 0);
    tick(f, 1);
    assert_counts(f, q, 1, 0, 0, 0);
    assert_int_equal(info(f, q).expiredTotal, 2);
    assert_counts(f, fq, 0, 0, 1, 0);
    assert_int_equal(info(f, fq).expiredTotal, 1);
    assert_int_equal(info(f, q).oldestSentMs, T0 + 1 * SEC);
    assert_int_equal(del(f, q, g.receipt[0]), 0); /* expired: stale */
    tick(f, 1 * SEC);
    assert_counts(f, q, 0, 0, 0, 0);
    assert_int_equal(info(f, q).expiredTotal, 3);
    assert_int_equal(info(f, q).oldestSentMs, 0);
    advanceTo(f, T0 + 20 * SEC);
    assert_counts(f, fq, 1, 0, 0, 0); /* f1 */

    /* RETENTION 0: forever. */
    queueAttrs b = attrs();
    b.retentionMs = 0;
    queue *k = mkq(f, "keep", &b);
    send(f, k, "x", NULL);
    tick(f, 365LL * 24 * 3600 * SEC);
    assert_counts(f, k, 1, 0, 0, 0);
    assert_int_equal(messageExpireMs(peekOne(f, k)), INT64_MAX);
}

/* ---- Order ---- */

static void test_priority_then_send_order(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    static const struct {
        const char *body;
        int32_t prio;
    } msgs[] = {{"p0a", 0},  {"p5a", 5}, {"p0b", 0},         {"p5b", 5},
                {"m3a", -3}, {"p5c", 5}, {"max", INT32_MAX}, {"min", INT32_MIN},
                {"p0c", 0},  {"p5d", 5}};
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
        sendWith(f, q, msgs[i].body,
                 (sendArgs){.priority = msgs[i].prio, .delayMs = -1}, NULL);
    got p, g1, g2, g3;
    peek(f, q, 20, &p);
    assert_string_equal(bodies(&p), "max p5a p5b p5c p5d p0a p0b p0c m3a min");

    recv(f, q, 3, 10 * SEC, &g1);
    assert_string_equal(bodies(&g1), "max p5a p5b");
    recv(f, q, 2, 20 * SEC, &g2);
    assert_string_equal(bodies(&g2), "p5c p5d");
    tick(f, 10 * SEC); /* max, p5a, p5b come back to their places */
    recv(f, q, 4, 20 * SEC, &g3);
    assert_string_equal(bodies(&g3), "max p5a p5b p0a");
    tick(f, 10 * SEC); /* p5c, p5d back */
    peek(f, q, 20, &p);
    assert_string_equal(bodies(&p), "p5c p5d p0b p0c m3a min");
    /* QVIS 0 puts a message back in its place too. */
    vis(f, q, g3.receipt[3], 0);
    vis(f, q, g3.receipt[0], 0);
    recv(f, q, 20, -1, &g1);
    assert_string_equal(bodies(&g1), "max p5c p5d p0a p0b p0c m3a min");
}

/* Many messages through the heap, with random removals (QDEL of leased ones,
 * retention of some): the order stays priority, then send order. */
static void test_priority_order_many(void **state) {
    fx *f = *state;
    queueAttrs a = attrs();
    a.retentionMs = 0;
    queue *q = mkq(f, "q", &a);
    uint64_t x = 88172645463325252ULL;
    enum { N = 3000 };
    static int32_t prio[N];
    static char ids[N][QE_ID_LEN + 1];
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        prio[i] = (int32_t)(x % 7) - 3;
        char body[16];
        snprintf(body, sizeof body, "%d", i);
        sendWith(f, q, body, (sendArgs){.priority = prio[i], .delayMs = -1}, ids[i]);
    }
    /* Lease a scattered third and give half of those back. */
    got g;
    for (int i = 0; i < N / 3 / 50; i++) {
        recv(f, q, 50, 1 * SEC, &g);
        for (int k = 0; k < g.n; k += 2)
            assert_int_equal(del(f, q, g.receipt[k]), 1);
        tick(f, 1);
    }
    tick(f, 1 * SEC);
    /* Drain and check the order. */
    int lastPrio = INT32_MAX, lastIdx = -1, total = 0;
    while (recv(f, q, 50, -1, &g) > 0) {
        for (int k = 0; k < g.n; k++) {
            int idx = atoi(g.body[k]);
            assert_string_equal(g.id[k], ids[idx]);
            if (prio[idx] == lastPrio)
                assert_true(idx > lastIdx);
            else
                assert_true(prio[idx] < lastPrio);
            lastPrio = prio[idx];
            lastIdx = idx;
            total++;
        }
    }
    assert_int_equal(total, N - (N / 3 / 50) * 25);
}

static void test_delay_per_message_and_queue(void **state) {
    fx *f = *state;
    queueAttrs a = attrs();
    a.delayMs = 2 * SEC;
    queue *q = mkq(f, "q", &a);
    send(f, q, "queue-delay", NULL);
    sendWith(f, q, "no-delay", (sendArgs){.delayMs = 0}, NULL);
    sendWith(f, q, "five", (sendArgs){.delayMs = 5 * SEC}, NULL);
    assert_counts(f, q, 1, 0, 2, 0);
    tick(f, 2 * SEC - 1);
    assert_counts(f, q, 1, 0, 2, 0);
    tick(f, 1);
    assert_counts(f, q, 2, 0, 1, 0);
    got g;
    recv(f, q, 5, -1, &g);
    assert_string_equal(bodies(&g), "queue-delay no-delay"); /* send order */
    tick(f, 3 * SEC - 1);
    assert_int_equal(recv(f, q, 5, -1, &g), 0);
    tick(f, 1);
    assert_int_equal(recv(f, q, 5, -1, &g), 1);
    assert_string_equal(g.body[0], "five");
    /* QSET DELAY applies to later sends; a delayed message keeps its delay. */
    sendWith(f, q, "old", (sendArgs){.delayMs = -1}, NULL);
    queueAttrs b = attrs();
    b.delayMs = 0;
    char err[256];
    engineSetQueue(f->e, q, &b, QA_DELAY, f->now, err, sizeof err);
    send(f, q, "new", NULL);
    assert_counts(f, q, 1, 3, 1, 0);
}

/* ---- Limits ---- */

static void test_limits_full_toobig_oom(void **state) {
    fx *f = *state;
    queueAttrs a = attrs();
    a.maxDepth = 3;
    a.maxSize = 4;
    queue *q = mkq(f, "q", &a);
    char err[256], id[QE_ID_LEN + 1];
    /* TOOBIG first of all, even for a duplicate. */
    send(f, q, "abcd", NULL);
    assert_int_equal(sendRc(f, q, "abcde", NOARGS, id, err), QE_TOOBIG);
    assert_string_equal(err, "message body is 5 bytes; queue 'q' accepts at most 4");
    sendWith(f, q, "", (sendArgs){.delayMs = 10 * SEC, .dedup = "d"}, NULL);
    assert_int_equal(
        sendRc(f, q, "abcde", (sendArgs){.delayMs = -1, .dedup = "d"}, id, err),
        QE_TOOBIG);
    got g;
    recv(f, q, 1, -1, &g);
    /* Held in any state counts: ready, delayed, in flight. */
    send(f, q, "c", NULL);
    assert_int_equal(sendRc(f, q, "x", NOARGS, id, err), QE_FULL);
    assert_non_null(strstr(err, "'q'"));
    assert_int_equal(
        sendRc(f, q, "x", (sendArgs){.delayMs = -1, .memoryFull = 1}, id, err),
        QE_FULL); /* FULL before OOM */
    assert_int_equal(info(f, q).sentTotal, 3);
    del(f, q, g.receipt[0]);
    assert_int_equal(
        sendRc(f, q, "x", (sendArgs){.delayMs = -1, .memoryFull = 1}, id, err), QE_OOM);
    assert_int_equal(sendRc(f, q, "x",
                            (sendArgs){.delayMs = -1, .dedup = "new", .memoryFull = 1},
                            id, err),
                     QE_OOM);
    /* The refused send did not claim its dedup id. */
    assert_int_equal(
        sendRc(f, q, "x", (sendArgs){.delayMs = -1, .dedup = "new"}, id, err), QE_OK);
    assert_int_equal(info(f, q).sentTotal, 4);
    assert_counts(f, q, 2, 0, 1, 0);
}

/* ---- Queue commands ---- */

static void test_purge(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    send(f, q, "a", NULL);
    sendWith(f, q, "b", (sendArgs){.delayMs = 5 * SEC, .dedup = "k"}, NULL);
    send(f, q, "c", NULL);
    got g;
    recv(f, q, 1, -1, &g);
    clearEffects(f);
    assert_int_equal(enginePurgeQueue(f->e, q, f->now), 3);
    assert_counts(f, q, 0, 0, 0, 0);
    assert_int_equal(info(f, q).oldestSentMs, 0);
    assert_int_equal(f->neffects, 1);
    assert_int_equal(f->effects[0].type, EFFECT_QPURGE);
    queueInfo qi = info(f, q);
    assert_int_equal(qi.deletedTotal, 0);
    assert_int_equal(qi.expiredTotal, 0);
    assert_int_equal(qi.sentTotal, 3);
    assert_int_equal(del(f, q, g.receipt[0]), 0);
    /* Dedup ids are kept. */
    assert_int_equal(
        sendRc(f, q, "b", (sendArgs){.delayMs = -1, .dedup = "k"}, NULL, NULL),
        QE_DUPLICATE);
    assert_int_equal(enginePurgeQueue(f->e, q, f->now), 0);
    tick(f, 10 * SEC); /* no timer of a purged message fires */
    assert_counts(f, q, 0, 0, 0, 0);
    assert_int_equal(info(f, q).expiredTotal, 0);
    advanceTo(f, T0 + 5 * MINUTE); /* the dedup window still ends */
    assert_int_equal(
        sendRc(f, q, "b", (sendArgs){.delayMs = -1, .dedup = "k"}, NULL, NULL), QE_OK);
}

static void test_drop(void **state) {
    fx *f = *state;
    char err[256];
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 2);
    mkq(f, "src-b", &a);
    mkq(f, "src-a", &a);
    assert_int_equal(queueDlqSourceCount(d), 2);
    assert_int_equal(engineDropQueue(f->e, "d", 1, f->now, err, sizeof err), QE_INUSE);
    assert_string_equal(err, "queue 'd' is the dead-letter queue of 'src-a'");
    assert_non_null(lookup(f, "d"));
    queueAttrs none = attrs();
    assert_int_equal(engineSetQueue(f->e, lookup(f, "src-a"), &none, QA_NODLQ, f->now,
                                    err, sizeof err),
                     QE_OK);
    assert_int_equal(engineDropQueue(f->e, "d", 1, f->now, err, sizeof err), QE_INUSE);
    assert_string_equal(err, "queue 'd' is the dead-letter queue of 'src-b'");
    /* Dropping the source unlinks it. */
    queue *sb = lookup(f, "src-b");
    send(f, sb, "m", NULL);
    testWaiter w1, w2;
    parkW(f, d, &w1, 1, f->now + 10 * SEC);
    parkW(f, d, &w2, 1, f->now + 10 * SEC);
    assert_int_equal(engineDropQueue(f->e, "src-b", 5, f->now, err, sizeof err), QE_OK);
    assert_int_equal(queueDlqSourceCount(d), 0);
    assert_int_equal(engineDropQueue(f->e, "src-b", 5, f->now, err, sizeof err),
                     QE_NOQUEUE);
    /* The DLQ's waiters are answered, in order, when it goes. */
    clearEffects(f);
    assert_int_equal(engineDropQueue(f->e, "d", 1, f->now, err, sizeof err), QE_OK);
    assert_int_equal(f->ndone, 2);
    assert_ptr_equal(f->done[0], &w1);
    assert_ptr_equal(f->done[1], &w2);
    assert_int_equal(w1.why, WAIT_DROPPED);
    assert_int_equal(w2.why, WAIT_DROPPED);
    assert_null(lookup(f, "d"));
    assert_int_equal(engineQueueCount(f->e), 1);
    assert_int_equal(f->neffects, 1);
    assert_int_equal(f->effects[0].type, EFFECT_QDROP);
    /* Nothing of them fires later. */
    tick(f, 20 * SEC);
    assert_int_equal(f->ndone, 2);
    /* A dropped queue's name is free, with fresh dedup ids. */
    queue *sa = lookup(f, "src-a");
    sendWith(f, sa, "x", (sendArgs){.delayMs = -1, .dedup = "k"}, NULL);
    assert_int_equal(engineDropQueue(f->e, "src-a", 5, f->now, err, sizeof err), QE_OK);
    sa = mkStd(f, "src-a");
    assert_int_equal(
        sendRc(f, sa, "x", (sendArgs){.delayMs = -1, .dedup = "k"}, NULL, NULL), QE_OK);
}

static void test_create(void **state) {
    fx *f = *state;
    char err[256];
    queueAttrs a = attrs();
    a.visibilityMs = 10 * SEC;
    assert_int_equal(createRc(f, "q", &a, err), QE_OK);
    int64_t created = info(f, lookup(f, "q")).createdMs;
    tick(f, 1);
    assert_int_equal(createRc(f, "q", &a, err), QE_OK); /* same attributes */
    assert_int_equal(info(f, lookup(f, "q")).createdMs, created);
    queueAttrs dflt = attrs();
    assert_int_equal(createRc(f, "q", &dflt, err), QE_EXISTS);
    assert_string_equal(err, "queue 'q' exists with different attributes");
    assert_int_equal(queueGetAttrs(lookup(f, "q"))->visibilityMs, 10 * SEC);
    assert_int_equal(engineQueueCount(f->e), 1);

    queueAttrs b = attrs();
    withDlq(&b, "missing", 3);
    assert_int_equal(createRc(f, "s", &b, err), QE_NOQUEUE);
    assert_non_null(strstr(err, "'missing'"));
    assert_null(lookup(f, "s"));
    queueAttrs fifo = attrs();
    fifo.fifo = 1;
    mkq(f, "fq", &fifo);
    withDlq(&b, "fq", 3);
    assert_int_equal(createRc(f, "s", &b, err), QE_ERR);
    assert_null(lookup(f, "s"));
    withDlq(&b, "s", 3);
    assert_int_equal(createRc(f, "s", &b, err), QE_ERR); /* its own DLQ */
    assert_int_equal(createRc(f, "bad name", &dflt, err), QE_ERR);
    assert_int_equal(engineQueueCount(f->e), 2);

    /* Same attributes with a DLQ, and with it changed. */
    withDlq(&b, "q", 3);
    assert_int_equal(createRc(f, "s", &b, err), QE_OK);
    assert_int_equal(createRc(f, "s", &b, err), QE_OK);
    b.maxReceives = 4;
    assert_int_equal(createRc(f, "s", &b, err), QE_EXISTS);
    assert_int_equal(queueDlqSourceCount(lookup(f, "q")), 1);
}

/* A DLQ that leads back to the queue (directly or further on) is refused: a
 * message past MAXRECEIVES would move around the cycle without end. */
static void test_dlq_cycle_refused(void **state) {
    fx *f = *state;
    char err[256];
    queue *c = mkStd(f, "c");
    queueAttrs a = attrs();
    withDlq(&a, "c", 1);
    queue *b = mkq(f, "b", &a);
    withDlq(&a, "b", 1);
    queue *q = mkq(f, "a", &a); /* a -> b -> c */
    queueAttrs x = attrs();
    withDlq(&x, "a", 1);
    assert_int_equal(engineSetQueue(f->e, b, &x, QA_DLQ, f->now, err, sizeof err),
                     QE_ERR);
    assert_string_equal(err, "dead-letter queue 'a' leads back to queue 'b'");
    assert_int_equal(
        engineSetQueue(f->e, c, &x, QA_DLQ | QA_VISIBILITY, f->now, err, sizeof err),
        QE_ERR);
    assert_int_equal(queueGetAttrs(c)->dlqLen, 0);
    assert_int_equal(queueDlqSourceCount(q), 0);
    /* Not a cycle: c -> d. */
    mkStd(f, "d");
    withDlq(&x, "d", 1);
    assert_int_equal(engineSetQueue(f->e, c, &x, QA_DLQ, f->now, err, sizeof err),
                     QE_OK);
    /* A longer one: d -> a -> b -> c -> d. */
    queueAttrs y = attrs();
    withDlq(&y, "a", 1);
    assert_int_equal(
        engineSetQueue(f->e, lookup(f, "d"), &y, QA_DLQ, f->now, err, sizeof err),
        QE_ERR);
}

static void test_qset_all_or_nothing(void **state) {
    fx *f = *state;
    char err[256];
    queueAttrs a = attrs();
    a.retentionMs = 10 * SEC;
    queue *q = mkq(f, "q", &a);
    tick(f, 5);
    queueAttrs b = attrs();
    b.visibilityMs = 5 * SEC;
    b.delayMs = 10 * SEC; /* not shorter than RETENTION */
    clearEffects(f);
    assert_int_equal(
        engineSetQueue(f->e, q, &b, QA_VISIBILITY | QA_DELAY, f->now, err, sizeof err),
        QE_ERR);
    assert_string_equal(err, "DELAY must be shorter than RETENTION");
    const queueAttrs *cur = queueGetAttrs(q);
    assert_int_equal(cur->visibilityMs, 30 * SEC);
    assert_int_equal(cur->delayMs, 0);
    assert_int_equal(info(f, q).modifiedMs, T0);
    assert_int_equal(f->neffects, 0);

    b.delayMs = 5 * SEC;
    assert_int_equal(engineSetQueue(f->e, q, &b, QA_DELAY, f->now, err, sizeof err),
                     QE_OK);
    b.retentionMs = 5 * SEC; /* equal to DELAY */
    assert_int_equal(engineSetQueue(f->e, q, &b, QA_RETENTION | QA_VISIBILITY, f->now,
                                    err, sizeof err),
                     QE_ERR);
    assert_int_equal(cur->retentionMs, 10 * SEC);
    assert_int_equal(cur->visibilityMs, 30 * SEC);
    b.retentionMs = 0; /* forever: any DELAY */
    assert_int_equal(engineSetQueue(f->e, q, &b, QA_RETENTION, f->now, err, sizeof err),
                     QE_OK);
    assert_int_equal(cur->retentionMs, 0);
    /* A missing DLQ refuses the whole change. */
    withDlq(&b, "nope", 2);
    assert_int_equal(
        engineSetQueue(f->e, q, &b, QA_DLQ | QA_VISIBILITY, f->now, err, sizeof err),
        QE_NOQUEUE);
    assert_int_equal(cur->visibilityMs, 30 * SEC);
    assert_int_equal(cur->dlqLen, 0);
    assert_int_equal(f->neffects, 2);
    assert_int_equal(f->effects[0].type, EFFECT_QSET);
    assert_int_equal(info(f, q).modifiedMs, T0 + 5);
}

/* ---- QSCAN ---- */

static int matchEven(void *ctx, const char *name, size_t len) {
    (void)ctx;
    return len == 3 && (name[2] - '0') % 2 == 0;
}

static void test_scan(void **state) {
    fx *f = *state;
    char err[256], name[16];
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "q%02d", i);
        mkStd(f, name);
    }
    int seen[300] = {0};
    const queue *out[8];
    char cursor[QE_CURSOR_MAX] = "0";
    int calls = 0;
    do {
        size_t n = engineScan(f->e, cursor, strlen(cursor), NULL, NULL, 4, out, cursor);
        assert_true(n != (size_t)-1);
        assert_true(n <= 4);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *p = queueName(out[i], &len);
            if (p[0] == 'q') seen[atoi(p + 1)]++;
        }
        /* Between calls: drop some, make some, before and after the cursor. */
        if (calls == 2) {
            engineDropQueue(f->e, "q03", 3, f->now, err, sizeof err);
            engineDropQueue(f->e, "q25", 3, f->now, err, sizeof err);
            mkStd(f, "a-new");
            mkStd(f, "q255");
            /* The queue the cursor names next. */
            assert_string_equal(cursor, "1713132");
            engineDropQueue(f->e, "q12", 3, f->now, err, sizeof err);
        }
        calls++;
        assert_true(calls < 100);
    } while (strcmp(cursor, "0") != 0);
    for (int i = 0; i < 30; i++) {
        if (i == 3 || i == 25 || i == 12) {
            assert_true(seen[i] <= 1);
            continue;
        }
        if (seen[i] != 1) fail_msg("q%02d seen %d times", i, seen[i]);
    }
    assert_int_equal(seen[255], 1); /* made after the cursor: seen */

    /* MATCH: the callback decides; COUNT counts visited queues. */
    int total = 0;
    strcpy(cursor, "0");
    do {
        size_t n =
            engineScan(f->e, cursor, strlen(cursor), matchEven, NULL, 5, out, cursor);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *p = queueName(out[i], &len);
            assert_true(matchEven(NULL, p, len));
            total++;
        }
    } while (strcmp(cursor, "0") != 0);
    assert_int_equal(total, 14); /* q00..q28 even, less q12 */

    /* Cursors the engine could not have given. */
    char longCursor[QE_CURSOR_MAX + 8];
    memset(longCursor, 'a', sizeof longCursor);
    longCursor[0] = '1';
    longCursor[2 * QE_NAME_MAX + 3] = '\0'; /* 129 bytes of name */
    static const char *bad[] = {"", "1", "2", "10", "1zz", "1A0", "00", "x", "0 "};
    assert_int_equal(
        engineScan(f->e, longCursor, strlen(longCursor), NULL, NULL, 5, out, cursor),
        (size_t)-1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (engineScan(f->e, bad[i], strlen(bad[i]), NULL, NULL, 5, out, cursor) !=
            (size_t)-1)
            fail_msg("cursor '%s' accepted", bad[i]);
    /* A cursor naming a dropped queue continues after it. */
    size_t n = engineScan(f->e, "1713130", 7, NULL, NULL, 1, out, cursor); /* "q10" */
    assert_int_equal(n, 1);
    size_t len;
    const char *p = queueName(out[0], &len);
    assert_str_n(p, len, "q10");
    n = engineScan(f->e, "1713132", 7, NULL, NULL, 1, out, cursor); /* "q12" */
    assert_int_equal(n, 1);
    p = queueName(out[0], &len);
    assert_str_n(p, len, "q13");
    /* An empty engine: one call, cursor 0. */
    engineDropAll(f->e, f->now);
    assert_int_equal(engineScan(f->e, "0", 1, NULL, NULL, 5, out, cursor), 0);
    assert_string_equal(cursor, "0");
}

/* ---- QPEEK ---- */

static void test_peek_equals_next_recv(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    for (int i = 0; i < 40; i++) {
        char body[16];
        snprintf(body, sizeof body, "m%d", i);
        sendWith(f, q, body, (sendArgs){.priority = (i * 7) % 5, .delayMs = -1}, NULL);
    }
    got p, g;
    for (int round = 0; round < 5; round++) {
        size_t count = (size_t)(1 + round * 2);
        queueInfo before = info(f, q);
        assert_int_equal(peek(f, q, count, &p), (int)count);
        queueInfo after = info(f, q);
        assert_int_equal(after.inflight, before.inflight); /* nothing leased */
        assert_int_equal(after.ready, before.ready);
        assert_int_equal(after.receivedTotal, before.receivedTotal);
        assert_int_equal(recv(f, q, count, -1, &g), (int)count);
        assert_string_equal(bodies(&p), bodies(&g));
        /* Give back a few so the heap is churned. */
        vis(f, q, g.receipt[0], 0);
        if (g.n > 2) del(f, q, g.receipt[2]);
    }
    assert_int_equal(info(f, q).receivedTotal, 1 + 3 + 5 + 7 + 9);

    queue *fq = mkFifo(f, "f");
    sendG(f, fq, "a1", "A", NULL);
    sendG(f, fq, "b1", "B", NULL);
    sendG(f, fq, "a2", "A", NULL);
    peek(f, fq, 10, &p);
    assert_int_equal(info(f, fq).inflight, 0);
    recv(f, fq, 10, -1, &g);
    assert_string_equal(bodies(&p), bodies(&g));
}

/* QPEEK passes over messages that a QRECV would dead-letter (after QSET lowered
 * MAXRECEIVES), however many: it still finds the next deliverable one. */
static void test_peek_skips_many_deadletter_candidates(void **state) {
    fx *f = *state;
    mkStd(f, "d");
    queueAttrs a = attrs();
    withDlq(&a, "d", 5);
    queue *q = mkq(f, "q", &a);
    for (int i = 0; i < 20; i++)
        send(f, q, "old", NULL);
    got g;
    assert_int_equal(recv(f, q, 20, 1 * SEC, &g), 20);
    tick(f, 1 * SEC);
    send(f, q, "fresh1", NULL);
    sendWith(f, q, "fresh2", (sendArgs){.priority = -1, .delayMs = -1}, NULL);
    queueAttrs b = attrs();
    withDlq(&b, "d", 1);
    char err[256];
    engineSetQueue(f->e, q, &b, QA_DLQ, f->now, err, sizeof err);
    got p;
    assert_int_equal(peek(f, q, 1, &p), 1);
    assert_string_equal(p.body[0], "fresh1");
    assert_int_equal(peek(f, q, 3, &p), 2);
    assert_string_equal(bodies(&p), "fresh1 fresh2");
    assert_int_equal(recv(f, q, 1, -1, &g), 1);
    assert_string_equal(g.body[0], "fresh1");
}

/* ---- Waiters ---- */

static void test_waiters_in_arrival_order(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    testWaiter w[3];
    for (int i = 0; i < 3; i++)
        parkW(f, q, &w[i], 1, f->now + 10 * SEC);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(f->ndone, 0);
    char id1[QE_ID_LEN + 1], id2[QE_ID_LEN + 1], id3[QE_ID_LEN + 1];
    send(f, q, "m1", id1);
    assert_int_equal(engineNextDeadline(f->e), f->now); /* waiters to serve */
    engineServeWaiters(f->e, f->now);
    assert_int_equal(f->ndone, 1);
    assert_ptr_equal(f->done[0], &w[0]);
    assert_int_equal(w[0].got, 1);
    assert_string_equal(w[0].ids[0], id1);
    send(f, q, "m2", id2);
    send(f, q, "m3", id3);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(f->ndone, 3);
    assert_ptr_equal(f->done[1], &w[1]);
    assert_ptr_equal(f->done[2], &w[2]);
    assert_string_equal(w[1].ids[0], id2);
    assert_string_equal(w[2].ids[0], id3);
    assert_int_equal(info(f, q).inflight, 3);
}

static void test_waiter_timeout_at_deadline(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    testWaiter w;
    parkW(f, q, &w, 1, f->now + 5 * SEC);
    /* The loop may be woken early (a wheel slot's start), never late. */
    assert_true(engineNextDeadline(f->e) <= T0 + 5 * SEC);
    assert_true(engineNextDeadline(f->e) > T0);
    tick(f, 5 * SEC - 1);
    assert_int_equal(w.why, 0);
    tick(f, 1);
    assert_int_equal(w.why, WAIT_TIMEOUT);
    assert_int_equal(w.doneMs, T0 + 5 * SEC);
    assert_int_equal(engineNextDeadline(f->e), INT64_MAX);
    /* Not parked any more: a send does not reach it. */
    send(f, q, "m", NULL);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(f->ndone, 1);
}

static void test_woken_waiter_gets_what_is_receivable(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    testWaiter w1, w2;
    parkW(f, q, &w1, 5, f->now + 60 * SEC);
    parkW(f, q, &w2, 5, f->now + 60 * SEC);
    sendWith(f, q, "d1", (sendArgs){.delayMs = 1 * SEC}, NULL);
    sendWith(f, q, "d2", (sendArgs){.delayMs = 1 * SEC}, NULL);
    tick(f, 1 * SEC - 1);
    assert_int_equal(f->ndone, 0);
    tick(f, 1); /* both delays end together: the first waiter takes both */
    assert_int_equal(w1.why, WAIT_READY);
    assert_int_equal(w1.got, 2);
    assert_int_equal(w2.why, 0);
    /* The next send wakes the next. */
    send(f, q, "x", NULL);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(w2.got, 1);
}

static void test_wait_cancel_leaves_no_trace(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    testWaiter w1, w2, w3;
    parkW(f, q, &w1, 1, f->now + 5 * SEC);
    parkW(f, q, &w2, 1, f->now + 7 * SEC);
    parkW(f, q, &w3, 1, f->now + 9 * SEC);
    engineWaitCancel(f->e, &w2.w);
    assert_null(w2.w.q);
    engineWaitCancel(f->e, &w2.w); /* twice: a no-op */
    engineWaitCancel(f->e, &w1.w);
    tick(f, 9 * SEC - 1); /* the cancelled deadlines passed */
    assert_int_equal(f->ndone, 0);
    send(f, q, "m", NULL);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(f->ndone, 1);
    assert_ptr_equal(f->done[0], &w3);
    assert_int_equal(w3.why, WAIT_READY);
    send(f, q, "m2", NULL);
    tick(f, 60 * SEC);
    assert_int_equal(f->ndone, 1);
    assert_int_equal(w1.why, 0);
    assert_int_equal(w2.why, 0);
    assert_counts(f, q, 2, 0, 0, 0); /* w3's lease of "m" ran out too */
    /* Cancelled waiters may go away; dropping the queue does not touch them. */
    char err[64];
    testWaiter w4;
    parkW(f, q, &w4, 1, f->now + 5 * SEC);
    engineWaitCancel(f->e, &w4.w);
    memset(&w4, 0xa5, sizeof w4);
    assert_int_equal(engineDropQueue(f->e, "q", 1, f->now, err, sizeof err), QE_OK);
    assert_int_equal(f->ndone, 1);
}

/* A woken receiver gets 1 to COUNT messages: when a message became ready and a
 * QSET then lowered MAXRECEIVES below its receives (all before the waiters are
 * served), the waiter is not woken to an empty reply; the message goes to the
 * DLQ and the waiter keeps waiting. */
static void waiterAfterQset(fx *f, int fifo) {
    queueAttrs da = attrs();
    da.fifo = fifo;
    queue *d = mkq(f, "d", &da);
    queueAttrs a = attrs();
    a.fifo = fifo;
    withDlq(&a, "d", 5);
    queue *q = mkq(f, "q", &a);
    if (fifo)
        sendG(f, q, "old", "G", NULL);
    else
        send(f, q, "old", NULL);
    got g;
    recv(f, q, 1, 1 * SEC, &g);
    testWaiter w;
    parkW(f, q, &w, 1, f->now + 60 * SEC);
    f->now += 1 * SEC;
    engineAdvance(f->e, f->now); /* "old" is ready again, 1 receive < 5 */
    assert_int_equal(info(f, q).ready, 1);
    queueAttrs b = attrs();
    withDlq(&b, "d", 1);
    char err[256];
    assert_int_equal(engineSetQueue(f->e, q, &b, QA_DLQ, f->now, err, sizeof err),
                     QE_OK);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(w.why, 0);
    assert_int_equal(info(f, d).ready, 1);
    assert_int_equal(info(f, q).deadletteredTotal, 1);
    if (fifo)
        sendG(f, q, "new", "G", NULL);
    else
        send(f, q, "new", NULL);
    engineServeWaiters(f->e, f->now);
    assert_int_equal(w.why, WAIT_READY);
    assert_int_equal(w.got, 1);
}

static void test_waiter_after_qset_maxreceives(void **state) {
    waiterAfterQset(*state, 0);
}

static void test_waiter_after_qset_maxreceives_fifo(void **state) {
    waiterAfterQset(*state, 1);
}

/* ---- QINFO ---- */

static void test_info_counters(void **state) {
    fx *f = *state;
    queueAttrs a = attrs();
    a.fifo = 1;
    queue *q = mkq(f, "f", &a);
    int64_t sent = 0;
    sendG(f, q, "a1", "A", NULL), sent++;
    tick(f, 10);
    sendG(f, q, "a2", "A", NULL), sent++;
    sendG(f, q, "a3", "A", NULL), sent++;
    sendG(f, q, "b1", "B", NULL), sent++;
    sendG(f, q, "c1", "C", NULL), sent++;
    queueAttrs b = attrs();
    b.delayMs = 3 * SEC;
    char err[256];
    engineSetQueue(f->e, q, &b, QA_DELAY, f->now, err, sizeof err);
    sendG(f, q, "d1", "D", NULL), sent++;
    sendG(f, q, "c2", "C", NULL), sent++; /* delayed behind a ready c1 */
    got g;
    recv(f, q, 1, -1, &g); /* a1: a2, a3 blocked */
    queueInfo qi = info(f, q);
    assert_int_equal(qi.ready, 2);
    assert_int_equal(qi.inflight, 1);
    assert_int_equal(qi.delayed, 2);
    assert_int_equal(qi.blocked, 2);
    assert_int_equal(held(&qi), sent);
    assert_int_equal(qi.oldestSentMs, T0);
    assert_int_equal(qi.sentTotal, sent);
    assert_int_equal(qi.receivedTotal, 1);
    assert_int_equal(qi.createdMs, T0);
    assert_int_equal(qi.modifiedMs, T0 + 10);
    del(f, q, g.receipt[0]);
    qi = info(f, q);
    assert_int_equal(held(&qi), sent - 1);
    assert_int_equal(qi.oldestSentMs, T0 + 10);
    assert_int_equal(qi.deletedTotal, 1);
    tick(f, 3 * SEC);
    qi = info(f, q);
    assert_int_equal(qi.ready, 6);
    assert_int_equal(qi.delayed, 0);

    queueInfo tot;
    int64_t nq;
    mkStd(f, "other");
    send(f, lookup(f, "other"), "x", NULL);
    engineTotals(f->e, &tot, &nq);
    assert_int_equal(nq, 2);
    assert_int_equal(tot.ready, 7);
    assert_int_equal(tot.sentTotal, sent + 1);
    assert_int_equal(tot.deletedTotal, 1);
}

/* ---- Effects ---- */

static void expectEffect(fx *f, int i, int type, const char *q, const char *id) {
    if (i >= f->neffects) fail_msg("effect %d missing (have %d)", i, f->neffects);
    effectRec *r = &f->effects[i];
    if (r->type != type) fail_msg("effect %d: type %d, want %d", i, r->type, type);
    assert_string_equal(r->q, q);
    if (id) assert_string_equal(r->id, id);
    assert_int_equal(r->timeMs, f->now);
}

static void test_effects(void **state) {
    fx *f = *state;
    clearEffects(f);
    queue *d = mkStd(f, "d");
    queueAttrs a = attrs();
    a.retentionMs = 60 * SEC;
    withDlq(&a, "d", 1);
    queue *s = mkq(f, "s", &a);
    expectEffect(f, 0, EFFECT_QCREATE, "d", NULL);
    expectEffect(f, 1, EFFECT_QCREATE, "s", NULL);
    char id1[QE_ID_LEN + 1], id2[QE_ID_LEN + 1], id3[QE_ID_LEN + 1];
    clearEffects(f);
    sendWith(f, s, "one", (sendArgs){.delayMs = -1, .dedup = "k"}, id1);
    expectEffect(f, 0, EFFECT_SEND, "s", id1);
    assert_int_equal(f->effects[0].untilMs, f->now);
    expectEffect(f, 1, EFFECT_DEDUP, "s", NULL);
    assert_int_equal(f->neffects, 2);
    clearEffects(f);
    sendRc(f, s, "dup", (sendArgs){.delayMs = -1, .dedup = "k"}, NULL, NULL);
    assert_int_equal(f->neffects, 0);
    sendWith(f, s, "two", (sendArgs){.delayMs = 2 * SEC}, id2);
    expectEffect(f, 0, EFFECT_SEND, "s", id2);
    assert_int_equal(f->effects[0].untilMs, f->now + 2 * SEC);

    clearEffects(f);
    got g;
    recv(f, s, 1, 5 * SEC, &g);
    expectEffect(f, 0, EFFECT_LEASE, "s", id1);
    assert_int_equal(f->effects[0].untilMs, f->now + 5 * SEC);
    clearEffects(f);
    vis(f, s, g.receipt[0], 7 * SEC);
    expectEffect(f, 0, EFFECT_VIS, "s", id1);
    assert_int_equal(f->effects[0].untilMs, f->now + 7 * SEC);
    clearEffects(f);
    del(f, s, g.receipt[0]);
    expectEffect(f, 0, EFFECT_DELETE, "s", id1);
    assert_int_equal(f->neffects, 1);

    clearEffects(f);
    tick(f, 2 * SEC);
    expectEffect(f, 0, EFFECT_VISIBLE, "s", id2);
    assert_int_equal(f->neffects, 1);
    recv(f, s, 1, 1 * SEC, &g);
    clearEffects(f);
    tick(f, 1 * SEC); /* lease end with 1 receive: dead letter, no RETURN */
    expectEffect(f, 0, EFFECT_DEADLETTER, "s", id2);
    assert_string_equal(f->effects[0].target, "d");
    assert_int_equal(f->neffects, 1);

    clearEffects(f);
    engineRedrive(f->e, d, INT64_MAX, f->now);
    expectEffect(f, 0, EFFECT_REDRIVE, "d", id2);
    assert_string_equal(f->effects[0].target, "s");
    assert_int_equal(f->neffects, 1);

    /* A lease that ends with receives below MAXRECEIVES: RETURN. */
    queueAttrs b = attrs();
    withDlq(&b, "d", 3);
    char err[256];
    engineSetQueue(f->e, s, &b, QA_DLQ, f->now, err, sizeof err);
    recv(f, s, 1, 1 * SEC, &g);
    clearEffects(f);
    tick(f, 1 * SEC);
    expectEffect(f, 0, EFFECT_RETURN, "s", id2);
    assert_int_equal(f->neffects, 1);

    /* Retention: id2 (sent again by the redrive, 1 s ago), then id3. */
    send(f, s, "three", id3);
    clearEffects(f);
    tick(f, 59 * SEC);
    expectEffect(f, 0, EFFECT_EXPIRE, "s", id2);
    assert_int_equal(f->neffects, 1);
    tick(f, 1 * SEC);
    expectEffect(f, 1, EFFECT_EXPIRE, "s", id3);
    assert_int_equal(f->neffects, 2);
    assert_int_equal(info(f, s).expiredTotal, 2);
}

/* ---- Ids and receipts ---- */

static int isLowerHex(const char *s) {
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static int cmpStr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_ids_and_receipts(void **state) {
    fx *f = *state;
    queue *q = mkStd(f, "q");
    queue *q2 = mkStd(f, "q2");
    enum { N = 200 };
    static char ids[N][QE_ID_LEN + 1];
    static char receipts[3 * N][QE_RECEIPT_LEN + 1];
    const char *ptrs[3 * N];
    int nr = 0;
    for (int i = 0; i < N; i++)
        send(f, i % 2 ? q : q2, "m", ids[i]);
    for (int i = 0; i < N; i++) {
        assert_int_equal(strlen(ids[i]), QE_ID_LEN);
        assert_true(isLowerHex(ids[i]));
        assert_memory_equal(ids[i], "5eed0001", 8);
        ptrs[i] = ids[i];
    }
    qsort(ptrs, N, sizeof ptrs[0], cmpStr);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ptrs[i - 1], ptrs[i]);

    /* Three deliveries of each: every receipt differs. */
    for (int round = 0; round < 3; round++) {
        got g;
        for (queue *qq = q; qq; qq = qq == q ? q2 : NULL) {
            while (recv(f, qq, 50, 1 * SEC, &g) > 0)
                for (int k = 0; k < g.n; k++) {
                    assert_int_equal(strlen(g.receipt[k]), QE_RECEIPT_LEN);
                    assert_true(isLowerHex(g.receipt[k]));
                    strcpy(receipts[nr++], g.receipt[k]);
                }
        }
        tick(f, 1 * SEC);
    }
    assert_int_equal(nr, 3 * N);
    for (int i = 0; i < nr; i++)
        ptrs[i] = receipts[i];
    qsort(ptrs, (size_t)nr, sizeof ptrs[0], cmpStr);
    for (int i = 1; i < nr; i++)
        assert_string_not_equal(ptrs[i - 1], ptrs[i]);
    assert_true(QE_ID_LEN <= 40 && QE_RECEIPT_LEN <= 64);
}

/* ---- Drop all and free with everything in it ---- */

static void test_free_with_everything(void **state) {
    fx *f = *state;
    queue *d = mkFifo(f, "fd");
    queueAttrs a = attrs();
    a.fifo = 1;
    withDlq(&a, "fd", 1);
    queue *s = mkq(f, "fs", &a);
    for (int i = 0; i < 50; i++) {
        char body[16], group[8];
        snprintf(body, sizeof body, "m%d", i);
        snprintf(group, sizeof group, "g%d", i % 7);
        sendG(f, i % 3 ? s : d, body, group, NULL);
    }
    got g;
    recv(f, s, 10, 1 * SEC, &g);
    tick(f, 1 * SEC);
    testWaiter w;
    parkW(f, mkStd(f, "empty"), &w, 1, f->now + 10 * SEC);
    assert_true(info(f, d).ready > 0);
    engineDropAll(f->e, f->now);
    assert_int_equal(engineQueueCount(f->e), 0);
    assert_int_equal(w.why, WAIT_DROPPED);
    assert_int_equal(engineNextDeadline(f->e), INT64_MAX);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_lease_expiry_redelivers_counting_receives),
        T(test_stale_receipts_after_redelivery),
        T(test_qvis_zero_makes_ready_at_once),
        T(test_qvis_after_lease_ran_out_leases_again),
        T(test_recv_visibility_zero),
        T(test_deadletter_on_lease_end_keeps_metadata),
        T(test_deadletter_goes_behind_waiting_messages),
        T(test_deadletter_fifo_keeps_group),
        T(test_deadletter_on_qvis_zero),
        T(test_deadletter_when_qrecv_meets_after_qset),
        T(test_deadletter_retention_counts_from_sent),
        T(test_deadletter_before_retention_in_one_long_step),
        T(test_redrive),
        T(test_redrive_wakes_waiter_and_skips_inflight),
        T(test_redrive_to_source_of_other_type_stays),
        T(test_fifo_groups),
        T(test_fifo_group_freed_on_lease_end_wakes_waiter),
        T(test_fifo_queue_delay),
        T(test_fifo_delay_keeps_group_order),
        T(test_dedup_window),
        T(test_dedup_window_without_advance),
        T(test_dedup_per_queue),
        T(test_retention_of_every_state),
        T(test_priority_then_send_order),
        T(test_priority_order_many),
        T(test_delay_per_message_and_queue),
        T(test_limits_full_toobig_oom),
        T(test_purge),
        T(test_drop),
        T(test_create),
        T(test_dlq_cycle_refused),
        T(test_qset_all_or_nothing),
        T(test_scan),
        T(test_peek_equals_next_recv),
        T(test_peek_skips_many_deadletter_candidates),
        T(test_waiters_in_arrival_order),
        T(test_waiter_timeout_at_deadline),
        T(test_woken_waiter_gets_what_is_receivable),
        T(test_wait_cancel_leaves_no_trace),
        T(test_waiter_after_qset_maxreceives),
        T(test_waiter_after_qset_maxreceives_fifo),
        T(test_info_counters),
        T(test_effects),
        T(test_ids_and_receipts),
        T(test_free_with_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
