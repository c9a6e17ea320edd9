/* test_engine_model.c: the queue engine against a brute-force reference model,
 * over long random sequences of commands and clock steps.
 *
 * The model is written from the contract (docs/commands.md), not from the
 * engine: plain arrays of messages, each with its queue, state, times, receive
 * count and order number, and every answer recomputed by scanning them. After
 * every step both must agree on QLEN, every QINFO count and total, the exact
 * messages of every QRECV and QPEEK (ids, bodies, receive counts), the result
 * of every QSEND (id, duplicate, FULL, OOM), QDEL, QVIS, QREDRIVE, QSET and
 * QDROP.
 *
 * The rules the model applies:
 *  - Standard queues deliver by priority (higher first), then by order number:
 *    a send takes the next number, and so does a dead-letter move or a redrive,
 *    which puts the message behind those waiting in its new queue. A lease
 *    that ends gives the message back its old place.
 *  - FIFO: within a group, send order; a group with a message in flight is
 *    blocked; the ready messages of an unblocked group come together in one
 *    reply. Between groups the contract fixes no order; the engine serves them
 *    in the order they became receivable (a group that was blocked goes to the
 *    back), and the model does the same. A message never becomes visible before
 *    an earlier one of its group: a delay ends no earlier than the delay of the
 *    group's last message.
 *  - A lease that ends (timer or QVIS 0) on a message delivered MAXRECEIVES
 *    times moves it to the DLQ; a ready message at or past MAXRECEIVES (QSET
 *    lowered it) moves when a QRECV meets it, and QPEEK passes over it. The
 *    DLQ's retention counts from the original sent time.
 *  - QREDRIVE takes the oldest sent dead letters first.
 *  - Time: every timed event happens at its own millisecond, in time order; a
 *    tie goes to the event scheduled first. An event whose time had already
 *    passed when it was scheduled (a retention that ran out while the message
 *    was in flight) is settled after the others due in the same step, as the
 *    engine's timer wheel does; such events are always removals, whose order
 *    changes nothing but the relative order of groups.
 *
 * Seeds, steps and verbosity can be changed with ENGINE_MODEL_SEEDS,
 * ENGINE_MODEL_STEPS and ENGINE_MODEL_FIRST_SEED in the environment.
 *
 *     gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
 *         -fsanitize=address,undefined -I src src/engine/[a-z]*.c src/mem.c \
 *         tests/unit/test_engine_model.c -lcmocka -o /tmp/tem && /tmp/tem
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
#define T0 INT64_C(1800000000000)

#define NQ 5
#define NGROUPS 4
#define MAXMSG 8192
#define MAXDEDUP 4096
#define NHISTORY 512
#define MAXCOUNT 16

enum { Q_STD, Q_SRC, Q_DLQ, Q_FIFO, Q_FDLQ };
static const char *const qnames[NQ] = {"std", "src", "dlq", "fifo", "fdlq"};
static const char *const groupNames[NGROUPS] = {"A", "B", "C", "D"};

enum { M_DELAYED = 1, M_READY, M_INFLIGHT };

/* ---- The model ---- */

typedef struct mmsg {
    uint64_t uid;           /* the model's name for it; the body is "m<uid>" */
    int q;                  /* queue index */
    char id[QE_ID_LEN + 1]; /* learned from the engine's QSEND reply */
    uint64_t order;         /* delivery order among equal priorities */
    int32_t prio;
    int group; /* -1 on standard queues */
    int state;
    int64_t visibleAt, leaseEnd, expire, sent, firstRecv;
    uint32_t receives;
    int src;                          /* dlq_source, -1 for none */
    char receipt[QE_RECEIPT_LEN + 1]; /* the valid receipt, "" when none */
    uint64_t tseq;                    /* when its current deadline was scheduled */
    int late;                         /* scheduled with the deadline already passed */
    uint64_t lateGen;                 /* the advance generation it was scheduled in */
} mmsg;

typedef struct mdedup {
    char key[24];
    int64_t until;
    char id[QE_ID_LEN + 1];
} mdedup;

typedef struct mqueue {
    int exists;
    int fifo;
    int64_t vis, delay, ret, maxDepth;
    int dlq, maxRec;
    int64_t sent, received, deleted, expired, dl;
    uint64_t availSeq[NGROUPS];
    int avail[NGROUPS];
    mdedup dedup[MAXDEDUP];
    int ndedup;
} mqueue;

typedef struct receiptRec {
    char receipt[QE_RECEIPT_LEN + 1];
    uint64_t uid;
} receiptRec;

static struct {
    engine *e;
    int64_t now;
    uint64_t rng;
    unsigned seed;
    long step;
    char op[160]; /* what the current step does, for failures */
    mqueue q[NQ];
    mmsg m[MAXMSG];
    int nm;
    uint64_t nextUid, nextOrder, nextTseq, nextAvail, gen;
    int inAdvance;
    receiptRec hist[NHISTORY];
    int nhist;
    long nextHist;
    long stats[16];
} M;

enum {
    ST_RECV_MSGS,
    ST_DEADLETTERS,
    ST_EXPIRED,
    ST_REDRIVEN,
    ST_DUPS,
    ST_FULL,
    ST_DEL_OK,
    ST_DEL_STALE,
    ST_VIS_OK,
    ST_VIS_BAD,
    ST_DROPS,
    ST_INUSE,
    ST_BLOCKED_SEEN
};

static uint64_t rnd(void) {
    M.rng ^= M.rng >> 12;
    M.rng ^= M.rng << 25;
    M.rng ^= M.rng >> 27;
    return M.rng * 0x2545F4914F6CDD1DULL;
}

static int64_t rndRange(int64_t lo, int64_t hi) { /* inclusive */
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

#define FAIL(...)                                                                      \
    do {                                                                               \
        char what_[512];                                                               \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                    \
        fail_msg("seed %u step %ld (t=+%lld ms) %s: %s", M.seed, M.step,               \
                 (long long)(M.now - T0), M.op, what_);                                \
    } while (0)

#define CHECK_EQ(what, got, want)                                                      \
    do {                                                                               \
        long long g_ = (long long)(got), w_ = (long long)(want);                       \
        if (g_ != w_) FAIL("%s: engine %lld, model %lld", (what), g_, w_);             \
    } while (0)

static queue *eq(int qi) {
    return engineLookup(M.e, qnames[qi], strlen(qnames[qi]));
}

static int64_t deadlineOf(const mmsg *m) {
    switch (m->state) {
    case M_DELAYED:
        return m->visibleAt < m->expire ? m->visibleAt : m->expire;
    case M_INFLIGHT:
        return m->leaseEnd < m->expire ? m->leaseEnd : m->expire;
    default:
        return m->expire;
    }
}

/* The message's deadline was (re)scheduled now. */
static void scheduled(mmsg *m) {
    m->tseq = ++M.nextTseq;
    m->late = deadlineOf(m) <= M.now;
    m->lateGen = M.gen;
}

static mmsg *byUid(uint64_t uid) {
    for (int i = 0; i < M.nm; i++)
        if (M.m[i].uid == uid) return &M.m[i];
    return NULL;
}

static void removeMsg(mmsg *m) {
    *m = M.m[--M.nm];
}

/* FIFO: a group is available (receivable) when it has a ready message and none
 * in flight; it joins the back of the line each time it becomes so. */
static void syncAvail(int qi) {
    mqueue *q = &M.q[qi];
    if (!q->fifo) return;
    for (int g = 0; g < NGROUPS; g++) {
        int ready = 0, inflight = 0;
        for (int i = 0; i < M.nm; i++) {
            const mmsg *m = &M.m[i];
            if (m->q != qi || m->group != g) continue;
            if (m->state == M_READY) ready++;
            if (m->state == M_INFLIGHT) inflight++;
        }
        int avail = ready > 0 && inflight == 0;
        if (avail && !q->avail[g]) q->availSeq[g] = ++M.nextAvail;
        q->avail[g] = avail;
    }
}

static int mustDeadLetter(int qi, const mmsg *m) {
    const mqueue *q = &M.q[qi];
    return q->dlq >= 0 && m->receives >= (uint32_t)q->maxRec;
}

/* The last message of a group (the newest order number), m excluded. */
static const mmsg *groupTail(int qi, int g, const mmsg *except) {
    const mmsg *t = NULL;
    for (int i = 0; i < M.nm; i++) {
        const mmsg *m = &M.m[i];
        if (m == except || m->q != qi || m->group != g) continue;
        if (!t || m->order > t->order) t = m;
    }
    return t;
}

/* Puts m into queue qi, visible at visibleAt (no earlier than the delay of its
 * group's last message). */
static void attach(mmsg *m, int qi, int64_t visibleAt) {
    m->q = qi;
    m->order = ++M.nextOrder;
    if (M.q[qi].fifo) {
        const mmsg *t = groupTail(qi, m->group, m);
        if (t && t->state == M_DELAYED) {
            int64_t floor = deadlineOf(t);
            if (floor > visibleAt) visibleAt = floor;
        }
    }
    m->visibleAt = visibleAt;
    m->state = visibleAt > M.now ? M_DELAYED : M_READY;
    scheduled(m);
    syncAvail(qi);
}

static void deadLetter(mmsg *m) {
    int src = m->q;
    int dst = M.q[src].dlq;
    m->src = src;
    m->receipt[0] = '\0';
    m->expire = M.q[dst].ret ? m->sent + M.q[dst].ret : INT64_MAX;
    M.q[src].dl++;
    M.stats[ST_DEADLETTERS]++;
    attach(m, dst, M.now);
    syncAvail(src);
}

static void leaseEnded(mmsg *m) {
    if (mustDeadLetter(m->q, m)) {
        deadLetter(m);
        return;
    }
    m->state = M_READY;
    scheduled(m);
    syncAvail(m->q);
}

static void modelAdvance(void) {
    M.gen++;
    M.inAdvance = 1;
    for (;;) {
        mmsg *best = NULL;
        int bestClass = 0;
        int64_t bestKey = 0;
        for (int i = 0; i < M.nm; i++) {
            mmsg *m = &M.m[i];
            int64_t d = deadlineOf(m);
            if (d == INT64_MAX || d > M.now) continue;
            int cls = !m->late ? 1 : m->lateGen < M.gen ? 0 : 2;
            int64_t key = cls == 1 ? d : 0;
            if (!best || cls < bestClass || (cls == bestClass && key < bestKey) ||
                (cls == bestClass && key == bestKey && m->tseq < best->tseq)) {
                best = m;
                bestClass = cls;
                bestKey = key;
            }
        }
        if (!best) break;
        if (deadlineOf(best) >= best->expire) {
            int qi = best->q;
            M.q[qi].expired++;
            M.stats[ST_EXPIRED]++;
            removeMsg(best);
            syncAvail(qi);
        } else if (best->state == M_DELAYED) {
            best->state = M_READY;
            scheduled(best);
            syncAvail(best->q);
        } else {
            leaseEnded(best);
        }
    }
    M.inAdvance = 0;
}

static void lease(mmsg *m, int64_t visMs) {
    m->state = M_INFLIGHT;
    if (m->receives == 0) m->firstRecv = M.now;
    m->receives++;
    m->leaseEnd = M.now + visMs;
    scheduled(m);
    M.q[m->q].received++;
    syncAvail(m->q);
}

static int cmpDelivery(const void *a, const void *b) {
    const mmsg *x = *(mmsg *const *)a, *y = *(mmsg *const *)b;
    if (x->prio != y->prio) return x->prio > y->prio ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmpOrder(const void *a, const void *b) {
    const mmsg *x = *(mmsg *const *)a, *y = *(mmsg *const *)b;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The messages of group g in qi, in send order. */
static int groupList(int qi, int g, mmsg **out) {
    int n = 0;
    for (int i = 0; i < M.nm; i++)
        if (M.m[i].q == qi && M.m[i].group == g) out[n++] = &M.m[i];
    qsort(out, (size_t)n, sizeof out[0], cmpOrder);
    return n;
}

/* The first available group (the longest in line), or -1. */
static int firstAvailGroup(int qi, uint64_t after) {
    int best = -1;
    for (int g = 0; g < NGROUPS; g++) {
        if (!M.q[qi].avail[g] || M.q[qi].availSeq[g] <= after) continue;
        if (best < 0 || M.q[qi].availSeq[g] < M.q[qi].availSeq[best]) best = g;
    }
    return best;
}

/* QPEEK: uids of what a QRECV would get now. */
static int modelPeek(int qi, int count, uint64_t *uids) {
    static mmsg *list[MAXMSG];
    int n = 0;
    if (!M.q[qi].fifo) {
        int k = 0;
        for (int i = 0; i < M.nm; i++)
            if (M.m[i].q == qi && M.m[i].state == M_READY) list[k++] = &M.m[i];
        qsort(list, (size_t)k, sizeof list[0], cmpDelivery);
        for (int i = 0; i < k && n < count; i++)
            if (!mustDeadLetter(qi, list[i])) uids[n++] = list[i]->uid;
        return n;
    }
    uint64_t after = 0;
    int g;
    while (n < count && (g = firstAvailGroup(qi, after)) >= 0) {
        after = M.q[qi].availSeq[g];
        int k = groupList(qi, g, list);
        for (int i = 0; i < k && n < count && list[i]->state == M_READY; i++)
            if (!mustDeadLetter(qi, list[i])) uids[n++] = list[i]->uid;
    }
    return n;
}

/* QRECV on the model: uids of the messages leased, in reply order. */
static int modelRecv(int qi, int count, int64_t visMs, uint64_t *uids) {
    static mmsg *list[MAXMSG];
    if (visMs < 0) visMs = M.q[qi].vis;
    int n = 0;
    if (!M.q[qi].fifo) {
        while (n < count) {
            mmsg *best = NULL;
            for (int i = 0; i < M.nm; i++) {
                mmsg *m = &M.m[i];
                if (m->q != qi || m->state != M_READY) continue;
                if (!best || cmpDelivery(&m, &best) < 0) best = m;
            }
            if (!best) break;
            if (mustDeadLetter(qi, best)) {
                deadLetter(best);
                continue;
            }
            lease(best, visMs);
            uids[n++] = best->uid;
        }
        return n;
    }
    int g;
    while (n < count && (g = firstAvailGroup(qi, 0)) >= 0) {
        int k = groupList(qi, g, list);
        uint64_t run[MAXMSG];
        int nrun = 0;
        for (int i = 0; i < k && list[i]->state == M_READY; i++)
            run[nrun++] = list[i]->uid;
        for (int i = 0; i < nrun && n < count; i++) {
            mmsg *m = byUid(run[i]);
            if (mustDeadLetter(qi, m)) {
                deadLetter(m);
                continue;
            }
            lease(m, visMs);
            uids[n++] = m->uid;
        }
    }
    return n;
}

static void modelPurge(int qi) {
    for (int i = 0; i < M.nm;)
        if (M.m[i].q == qi)
            removeMsg(&M.m[i]);
        else
            i++;
    syncAvail(qi);
}

/* ---- Queues: attributes of each, as created ---- */

static void defaultAttrs(int qi, mqueue *q, queueAttrs *a) {
    queueAttrsDefaults(a);
    q->fifo = qi == Q_FIFO || qi == Q_FDLQ;
    q->dlq = -1;
    q->maxRec = 0;
    q->maxDepth = 0;
    q->delay = 0;
    switch (qi) {
    case Q_STD:
        q->vis = 10 * SEC, q->ret = 300 * SEC, q->maxDepth = 25;
        break;
    case Q_SRC:
        q->vis = 5 * SEC, q->ret = 120 * SEC;
        if (M.q[Q_DLQ].exists) q->dlq = Q_DLQ, q->maxRec = 2;
        break;
    case Q_DLQ:
        q->vis = 5 * SEC, q->ret = 200 * SEC;
        break;
    case Q_FIFO:
        q->vis = 4 * SEC, q->ret = 150 * SEC, q->delay = 1500;
        if (M.q[Q_FDLQ].exists) q->dlq = Q_FDLQ, q->maxRec = 2;
        break;
    case Q_FDLQ:
        q->vis = 6 * SEC, q->ret = 400 * SEC;
        break;
    }
    a->fifo = q->fifo;
    a->visibilityMs = q->vis;
    a->retentionMs = q->ret;
    a->delayMs = q->delay;
    a->maxDepth = q->maxDepth;
    if (q->dlq >= 0) {
        a->dlqLen = strlen(qnames[q->dlq]);
        memcpy(a->dlq, qnames[q->dlq], a->dlqLen + 1);
        a->maxReceives = q->maxRec;
    }
}

static void createQueue(int qi) {
    mqueue *q = &M.q[qi];
    memset(q, 0, sizeof(*q));
    queueAttrs a;
    defaultAttrs(qi, q, &a);
    char err[256];
    int rc = engineCreateQueue(M.e, qnames[qi], strlen(qnames[qi]), &a, M.now, err,
                               sizeof err);
    if (rc != QE_OK) FAIL("QCREATE %s: %d %s", qnames[qi], rc, err);
    q->exists = 1;
}

static int isDlqOfSomeone(int qi) {
    for (int k = 0; k < NQ; k++)
        if (M.q[k].exists && M.q[k].dlq == qi) return k;
    return -1;
}

/* ---- Comparing ---- */

static void compareMessages(const char *what, message **out, size_t n,
                            const uint64_t *uids, int want) {
    if ((int)n != want) {
        char buf[200] = "";
        for (int i = 0; i < want && strlen(buf) < 150; i++) {
            char one[24];
            snprintf(one, sizeof one, " m%llu", (unsigned long long)uids[i]);
            strcat(buf, one);
        }
        FAIL("%s: engine gave %zu messages, model %d:%s", what, n, want, buf);
    }
    for (size_t i = 0; i < n; i++) {
        mmsg *m = byUid(uids[i]);
        char id[QE_ID_LEN + 1], body[32];
        messageId(out[i], id);
        size_t len;
        const char *p = messageBody(out[i], &len);
        snprintf(body, sizeof body, "%.*s", (int)(len < 30 ? len : 30), p);
        if (strcmp(id, m->id) != 0)
            FAIL("%s: message %zu is %s (%s), model m%llu", what, i, body, id,
                 (unsigned long long)m->uid);
        CHECK_EQ("receives", messageReceives(out[i]), m->receives);
        CHECK_EQ("priority", messagePriority(out[i]), m->prio);
        CHECK_EQ("sent_ms", messageSentMs(out[i]), m->sent);
        CHECK_EQ("first_received_ms", messageFirstReceivedMs(out[i]),
                 m->receives ? m->firstRecv : 0);
        size_t slen;
        const char *s = messageDlqSource(out[i], &slen);
        if ((s != NULL) != (m->src >= 0) ||
            (s && (slen != strlen(qnames[m->src]) || memcmp(s, qnames[m->src], slen))))
            FAIL("%s: dlq_source of m%llu", what, (unsigned long long)m->uid);
        if (M.q[m->q].fifo) {
            const char *g = messageGroup(out[i], &slen);
            if (!g || slen != 1 || g[0] != groupNames[m->group][0])
                FAIL("%s: group of m%llu", what, (unsigned long long)m->uid);
        }
    }
}

static void checkQueue(int qi) {
    queue *q = eq(qi);
    if (!M.q[qi].exists) {
        if (q) FAIL("queue %s exists in the engine only", qnames[qi]);
        return;
    }
    if (!q) FAIL("queue %s missing from the engine", qnames[qi]);
    int64_t ready = 0, inflight = 0, delayed = 0, blocked = 0, oldest = 0;
    int ginflight[NGROUPS] = {0};
    for (int i = 0; i < M.nm; i++)
        if (M.m[i].q == qi && M.m[i].state == M_INFLIGHT && M.m[i].group >= 0)
            ginflight[M.m[i].group]++;
    for (int i = 0; i < M.nm; i++) {
        const mmsg *m = &M.m[i];
        if (m->q != qi) continue;
        if (!oldest || m->sent < oldest) oldest = m->sent;
        if (m->state == M_INFLIGHT) inflight++;
        if (m->state == M_DELAYED) delayed++;
        if (m->state == M_READY) {
            if (M.q[qi].fifo && ginflight[m->group])
                blocked++;
            else
                ready++;
        }
    }
    queueInfo qi_;
    queueGetInfo(q, M.now, &qi_);
    char what[64];
#define CMP(field, want)                                                               \
    do {                                                                               \
        snprintf(what, sizeof what, "%s %s", qnames[qi], #field);                      \
        CHECK_EQ(what, qi_.field, want);                                               \
    } while (0)
    CMP(ready, ready);
    CMP(inflight, inflight);
    CMP(delayed, delayed);
    CMP(blocked, blocked);
    CMP(oldestSentMs, oldest);
    CMP(sentTotal, M.q[qi].sent);
    CMP(receivedTotal, M.q[qi].received);
    CMP(deletedTotal, M.q[qi].deleted);
    CMP(expiredTotal, M.q[qi].expired);
    CMP(deadletteredTotal, M.q[qi].dl);
#undef CMP
    snprintf(what, sizeof what, "%s QLEN", qnames[qi]);
    CHECK_EQ(what, queueReceivable(q), ready);
    if (blocked) M.stats[ST_BLOCKED_SEEN]++;
    const queueAttrs *a = queueGetAttrs(q);
    CHECK_EQ("visibility_ms", a->visibilityMs, M.q[qi].vis);
    CHECK_EQ("delay_ms", a->delayMs, M.q[qi].delay);
    CHECK_EQ("maxreceives", a->maxReceives, M.q[qi].maxRec);
    const char *dlq = M.q[qi].dlq >= 0 ? qnames[M.q[qi].dlq] : "";
    if (a->dlqLen != strlen(dlq) || memcmp(a->dlq, dlq, a->dlqLen))
        FAIL("%s dlq: engine '%.*s', model '%s'", qnames[qi], (int)a->dlqLen, a->dlq,
             dlq);
    int src = isDlqOfSomeone(qi);
    CHECK_EQ("dlq_sources", queueDlqSourceCount(q), src >= 0 ? 1 : 0);
}

static void checkPeek(int qi, int count) {
    queue *q = eq(qi);
    if (!q) return;
    message *out[MAXCOUNT];
    uint64_t uids[MAXCOUNT];
    size_t n = enginePeek(M.e, q, (size_t)count, M.now, out);
    int want = modelPeek(qi, count, uids);
    char what[48];
    snprintf(what, sizeof what, "QPEEK %s COUNT %d", qnames[qi], count);
    compareMessages(what, out, n, uids, want);
}

static void checkAll(void) {
    int64_t queues = 0, sent = 0, ready = 0;
    for (int qi = 0; qi < NQ; qi++) {
        checkQueue(qi);
        if (!M.q[qi].exists) continue;
        queues++;
        sent += M.q[qi].sent;
        queueInfo x;
        queueGetInfo(eq(qi), M.now, &x);
        ready += x.ready;
    }
    queueInfo tot;
    int64_t nq;
    engineTotals(M.e, &tot, &nq);
    CHECK_EQ("queues", nq, queues);
    CHECK_EQ("total sent", tot.sentTotal, sent);
    CHECK_EQ("total ready", tot.ready, ready);
    checkPeek((int)(rnd() % NQ), (int)rndRange(1, 6));
}

/* ---- Operations ---- */

static int pickQueue(void) {
    static const int weights[NQ] = {3, 4, 1, 4, 1};
    int total = 0;
    for (int i = 0; i < NQ; i++)
        total += weights[i];
    int r = (int)(rnd() % (uint64_t)total);
    for (int i = 0; i < NQ; i++) {
        if (r < weights[i]) return i;
        r -= weights[i];
    }
    return 0;
}

static void opSend(int qi) {
    mqueue *q = &M.q[qi];
    uint64_t uid = ++M.nextUid;
    char body[24], dedup[24] = "";
    snprintf(body, sizeof body, "m%llu", (unsigned long long)uid);
    sendOptions o = {.delayMs = -1};
    int group = -1;
    if (q->fifo) {
        group = (int)(rnd() % NGROUPS);
        o.group = groupNames[group];
        o.groupLen = 1;
        if (rnd() % 5 == 0)
            snprintf(dedup, sizeof dedup, "p%d", (int)(rnd() % 12));
        else
            snprintf(dedup, sizeof dedup, "u%llu", (unsigned long long)uid);
    } else {
        o.priority = (int32_t)rndRange(-2, 2);
        int r = (int)(rnd() % 100);
        o.delayMs = r < 70 ? -1 : r < 80 ? 0 : rndRange(1, 5000);
        if (rnd() % 4 == 0) snprintf(dedup, sizeof dedup, "d%d", (int)(rnd() % 20));
    }
    if (dedup[0]) {
        o.dedupId = dedup;
        o.dedupIdLen = strlen(dedup);
    }
    o.memoryFull = rnd() % 50 == 0;
    snprintf(M.op, sizeof M.op,
             "QSEND %s %s PRIORITY %d DELAY %lld GROUP %s DEDUPID %s%s", qnames[qi],
             body, o.priority, (long long)o.delayMs, o.group ? o.group : "-",
             dedup[0] ? dedup : "-", o.memoryFull ? " (memory full)" : "");

    /* The model's answer: dedup, then FULL, then OOM. */
    int want = QE_OK;
    const char *dupId = NULL;
    if (dedup[0]) {
        for (int i = 0; i < q->ndedup; i++)
            if (!strcmp(q->dedup[i].key, dedup) && q->dedup[i].until > M.now) {
                want = QE_DUPLICATE;
                dupId = q->dedup[i].id;
            }
    }
    int64_t heldNow = 0;
    for (int i = 0; i < M.nm; i++)
        heldNow += M.m[i].q == qi;
    if (want == QE_OK && q->maxDepth && heldNow >= q->maxDepth) want = QE_FULL;
    if (want == QE_OK && o.memoryFull) want = QE_OOM;

    char id[QE_ID_LEN + 1], err[256];
    int rc =
        engineSend(M.e, eq(qi), body, strlen(body), &o, M.now, id, err, sizeof err);
    CHECK_EQ("QSEND status", rc, want);
    if (rc == QE_DUPLICATE) {
        if (strcmp(id, dupId)) FAIL("duplicate replied %s, first was %s", id, dupId);
        M.stats[ST_DUPS]++;
    }
    if (rc == QE_FULL) M.stats[ST_FULL]++;
    if (rc != QE_OK) return;

    if (M.nm == MAXMSG) FAIL("model full");
    mmsg *m = &M.m[M.nm++];
    memset(m, 0, sizeof(*m));
    m->uid = uid;
    strcpy(m->id, id);
    m->prio = o.priority;
    m->group = group;
    m->src = -1;
    m->sent = M.now;
    m->expire = q->ret ? M.now + q->ret : INT64_MAX;
    q->sent++;
    attach(m, qi, M.now + (o.delayMs >= 0 ? o.delayMs : q->delay));
    if (dedup[0]) {
        /* Drop expired entries, then remember this one. */
        int k = 0;
        for (int i = 0; i < q->ndedup; i++)
            if (q->dedup[i].until > M.now) q->dedup[k++] = q->dedup[i];
        q->ndedup = k;
        if (q->ndedup == MAXDEDUP) FAIL("model dedup table full");
        mdedup *d = &q->dedup[q->ndedup++];
        strcpy(d->key, dedup);
        d->until = M.now + QE_DEDUP_WINDOW_MS;
        strcpy(d->id, id);
    }
}

static void remember(const char *receipt, uint64_t uid) {
    receiptRec *r = &M.hist[M.nextHist++ % NHISTORY];
    strcpy(r->receipt, receipt);
    r->uid = uid;
    if (M.nhist < NHISTORY) M.nhist++;
}

static void opRecv(int qi) {
    int count = rnd() % 4 == 0 ? (int)rndRange(5, MAXCOUNT) : (int)rndRange(1, 3);
    int r = (int)(rnd() % 10);
    int64_t visMs = r < 5 ? -1 : r < 6 ? rndRange(1, 50) : rndRange(100, 20000);
    snprintf(M.op, sizeof M.op, "QRECV %s COUNT %d VISIBILITY %lld ms", qnames[qi],
             count, (long long)visMs);
    /* QPEEK first: it must name what this QRECV then gets, less the messages
     * that only a QRECV moves. */
    checkPeek(qi, count);
    message *out[MAXCOUNT];
    uint64_t uids[MAXCOUNT];
    size_t n = engineReceive(M.e, eq(qi), (size_t)count, visMs, M.now, out);
    int want = modelRecv(qi, count, visMs, uids);
    compareMessages("QRECV", out, n, uids, want);
    for (size_t i = 0; i < n; i++) {
        mmsg *m = byUid(uids[i]);
        char receipt[QE_RECEIPT_LEN + 1];
        messageReceipt(out[i], receipt);
        for (int k = 0; k < M.nhist; k++)
            if (!strcmp(M.hist[k].receipt, receipt)) FAIL("receipt %s reused", receipt);
        strcpy(m->receipt, receipt);
        remember(receipt, m->uid);
    }
    M.stats[ST_RECV_MSGS] += (long)n;
}

/* A receipt to use on qi: usually a valid one of a message there, else any seen
 * (stale, or of another queue). */
static const char *pickReceipt(int qi, uint64_t *uidOut) {
    if (rnd() % 3) {
        int cand[MAXMSG], k = 0;
        for (int i = 0; i < M.nm; i++)
            if (M.m[i].q == qi && M.m[i].receipt[0]) cand[k++] = i;
        if (k) {
            mmsg *m = &M.m[cand[rnd() % (uint64_t)k]];
            *uidOut = m->uid;
            return m->receipt;
        }
    }
    if (!M.nhist) return NULL;
    receiptRec *r = &M.hist[rnd() % (uint64_t)M.nhist];
    *uidOut = r->uid;
    return r->receipt;
}

/* The message a receipt names in qi, per the contract, or NULL when stale. */
static mmsg *modelFind(int qi, const char *receipt, uint64_t uid) {
    mmsg *m = byUid(uid);
    if (!m || m->q != qi || strcmp(m->receipt, receipt)) return NULL;
    return m;
}

static void opDelete(int qi) {
    uint64_t uid;
    const char *rp = pickReceipt(qi, &uid);
    if (!rp) return;
    char receipt[QE_RECEIPT_LEN + 1];
    strcpy(receipt, rp);
    snprintf(M.op, sizeof M.op, "QDEL %s %s (m%llu)", qnames[qi], receipt,
             (unsigned long long)uid);
    mmsg *m = modelFind(qi, receipt, uid);
    int rc = engineDelete(M.e, eq(qi), receipt, strlen(receipt), M.now);
    CHECK_EQ("QDEL", rc, m != NULL);
    if (!m) {
        M.stats[ST_DEL_STALE]++;
        return;
    }
    M.stats[ST_DEL_OK]++;
    M.q[qi].deleted++;
    removeMsg(m);
    syncAvail(qi);
}

static void opVis(int qi) {
    uint64_t uid;
    const char *rp = pickReceipt(qi, &uid);
    if (!rp) return;
    char receipt[QE_RECEIPT_LEN + 1];
    strcpy(receipt, rp);
    int64_t visMs = rnd() % 3 == 0 ? 0 : rndRange(1, 20000);
    snprintf(M.op, sizeof M.op, "QVIS %s %s (m%llu) %lld ms", qnames[qi], receipt,
             (unsigned long long)uid, (long long)visMs);
    mmsg *m = modelFind(qi, receipt, uid);
    int rc = engineVisibility(M.e, eq(qi), receipt, strlen(receipt), visMs, M.now);
    CHECK_EQ("QVIS", rc, m ? QE_OK : QE_BADRECEIPT);
    if (!m) {
        M.stats[ST_VIS_BAD]++;
        return;
    }
    M.stats[ST_VIS_OK]++;
    if (visMs == 0) {
        if (m->state == M_INFLIGHT) leaseEnded(m);
        return;
    }
    if (m->state != M_INFLIGHT && m->state != M_READY)
        FAIL("QVIS on a delivered message in state %d", m->state);
    m->state = M_INFLIGHT; /* a ready one is leased again: not a delivery */
    m->leaseEnd = M.now + visMs;
    scheduled(m);
    syncAvail(qi);
}

static int cmpRedrive(const void *a, const void *b) {
    const mmsg *x = *(mmsg *const *)a, *y = *(mmsg *const *)b;
    if (x->sent != y->sent) return x->sent < y->sent ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void opRedrive(int qi) {
    if (!M.q[qi].exists) return;
    int64_t count = rnd() % 2 ? INT64_MAX : rndRange(1, 3);
    snprintf(M.op, sizeof M.op, "QREDRIVE %s COUNT %lld", qnames[qi], (long long)count);
    static mmsg *list[MAXMSG];
    int k = 0;
    for (int i = 0; i < M.nm; i++) {
        mmsg *m = &M.m[i];
        if (m->q == qi && m->state == M_READY && m->src >= 0 && M.q[m->src].exists &&
            M.q[m->src].fifo == M.q[qi].fifo)
            list[k++] = m;
    }
    qsort(list, (size_t)k, sizeof list[0], cmpRedrive);
    uint64_t uids[MAXMSG];
    for (int i = 0; i < k; i++)
        uids[i] = list[i]->uid;
    int64_t moved = 0;
    for (int i = 0; i < k && moved < count; i++, moved++) {
        mmsg *m = byUid(uids[i]);
        int to = m->src;
        m->src = -1;
        m->sent = M.now;
        m->receives = 0;
        m->firstRecv = 0;
        m->receipt[0] = '\0';
        m->expire = M.q[to].ret ? M.now + M.q[to].ret : INT64_MAX;
        attach(m, to, M.now);
        syncAvail(qi);
    }
    int64_t rc = engineRedrive(M.e, eq(qi), count, M.now);
    CHECK_EQ("QREDRIVE", rc, moved);
    M.stats[ST_REDRIVEN] += moved;
}

static void opSet(int qi) {
    mqueue *q = &M.q[qi];
    queueAttrs a;
    queueAttrsDefaults(&a);
    unsigned changed = 0;
    int want = QE_OK;
    mqueue next = *q;
    int r = (int)(rnd() % 6);
    if ((qi == Q_SRC || qi == Q_FIFO) && rnd() % 2) r = 2; /* MAXRECEIVES: often */
    if (r <= 1) {
        changed |= QA_VISIBILITY;
        a.visibilityMs = next.vis = rndRange(1, 12) * SEC;
    }
    if (r == 2 && (qi == Q_SRC || qi == Q_FIFO)) {
        int target = qi == Q_SRC ? Q_DLQ : Q_FDLQ;
        if (rnd() % 8 == 0) target = qi == Q_SRC ? Q_FDLQ : Q_DLQ; /* other type */
        int mr = (int)rndRange(0, 3);
        if (mr == 0) {
            changed |= QA_NODLQ;
            next.dlq = -1;
            next.maxRec = 0;
        } else {
            changed |= QA_DLQ;
            a.dlqLen = strlen(qnames[target]);
            memcpy(a.dlq, qnames[target], a.dlqLen + 1);
            a.maxReceives = mr;
            next.dlq = target;
            next.maxRec = mr;
            if (!M.q[target].exists)
                want = QE_NOQUEUE;
            else if (M.q[target].fifo != q->fifo)
                want = QE_ERR;
        }
    }
    if (r == 3 && (qi == Q_STD || qi == Q_FIFO)) { /* the DLQs keep DELAY 0 */
        changed |= QA_DELAY;
        a.delayMs = next.delay = rnd() % 2 ? 0 : rndRange(1, 3000);
        if (rnd() % 4 == 0)
            a.delayMs = next.delay = q->ret + rndRange(0, 1); /* refused */
        if (next.delay >= q->ret) want = QE_ERR;
    }
    if (r >= 4) {
        changed |= QA_VISIBILITY | QA_DELAY;
        a.visibilityMs = next.vis = rndRange(1, 12) * SEC;
        a.delayMs = next.delay = q->ret; /* refused: all or nothing */
        want = QE_ERR;
    }
    if (!changed) return;
    snprintf(M.op, sizeof M.op, "QSET %s changed %#x vis %lld delay %lld dlq %.*s/%d",
             qnames[qi], changed, (long long)a.visibilityMs, (long long)a.delayMs,
             (int)a.dlqLen, a.dlq, a.maxReceives);
    char err[256];
    int rc = engineSetQueue(M.e, eq(qi), &a, changed, M.now, err, sizeof err);
    CHECK_EQ("QSET status", rc, want);
    if (rc == QE_OK) {
        q->vis = next.vis;
        q->delay = next.delay;
        q->dlq = next.dlq;
        q->maxRec = next.maxRec;
    }
}

static void opPurge(int qi) {
    snprintf(M.op, sizeof M.op, "QPURGE %s", qnames[qi]);
    int64_t want = 0;
    for (int i = 0; i < M.nm; i++)
        want += M.m[i].q == qi;
    int64_t rc = enginePurgeQueue(M.e, eq(qi), M.now);
    CHECK_EQ("QPURGE", rc, want);
    modelPurge(qi);
}

static void opDropOrCreate(int qi) {
    char err[256];
    if (!M.q[qi].exists) {
        snprintf(M.op, sizeof M.op, "QCREATE %s", qnames[qi]);
        createQueue(qi);
        return;
    }
    snprintf(M.op, sizeof M.op, "QDROP %s", qnames[qi]);
    int src = isDlqOfSomeone(qi);
    int rc =
        engineDropQueue(M.e, qnames[qi], strlen(qnames[qi]), M.now, err, sizeof err);
    if (src >= 0) {
        CHECK_EQ("QDROP status", rc, QE_INUSE);
        char want[256];
        snprintf(want, sizeof want, "queue '%s' is the dead-letter queue of '%s'",
                 qnames[qi], qnames[src]);
        if (strcmp(err, want)) FAIL("INUSE text '%s'", err);
        M.stats[ST_INUSE]++;
        return;
    }
    CHECK_EQ("QDROP status", rc, QE_OK);
    modelPurge(qi);
    M.q[qi].exists = 0;
    M.stats[ST_DROPS]++;
}

static void step(void) {
    int r = (int)(rnd() % 1000);
    int qi = pickQueue();
    snprintf(M.op, sizeof M.op, "(clock)");
    if (r >= 850) {
        M.now += r >= 985 ? rndRange(10 * SEC, 200 * SEC) : rndRange(1, 2000);
    }
    /* The server's loop runs timers before each command. */
    engineAdvance(M.e, M.now);
    modelAdvance();
    checkAll();
    if (r >= 850) return;
    if (!M.q[qi].exists) {
        if (r < 10) opDropOrCreate(qi);
        return;
    }
    if (r < 300)
        opSend(qi);
    else if (r < 520)
        opRecv(qi);
    else if (r < 620)
        opDelete(qi);
    else if (r < 700)
        opVis(qi);
    else if (r < 740)
        checkPeek(qi, (int)rndRange(1, MAXCOUNT));
    else if (r < 780)
        opRedrive(qi == Q_STD || qi == Q_SRC ? Q_DLQ : Q_FDLQ);
    else if (r < 820)
        opSet(qi);
    else if (r < 826)
        opPurge(qi);
    else if (r < 834)
        opDropOrCreate(qi);
    /* Answers that the next command (after the next engineAdvance) sees. */
    checkAll();
}

static long envLong(const char *name, long dflt) {
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

static void runSeed(unsigned seed, long steps) {
    memset(&M, 0, sizeof M);
    M.seed = seed;
    M.rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)seed * 0xD1B54A32D192ED03ULL);
    if (!M.rng) M.rng = 1;
    M.now = T0 + (int64_t)(seed * 7919u % 1000u);
    M.e = engineCreate(0xabc00000u + seed, M.now);
    /* DLQs first: a source names its DLQ. */
    createQueue(Q_DLQ);
    createQueue(Q_FDLQ);
    createQueue(Q_STD);
    createQueue(Q_SRC);
    createQueue(Q_FIFO);
    for (M.step = 0; M.step < steps; M.step++)
        step();
    /* Drain: every lease and delay ends, every retention runs out. */
    snprintf(M.op, sizeof M.op, "(drain)");
    M.now += 500 * SEC;
    engineAdvance(M.e, M.now);
    modelAdvance();
    checkAll();
    engineFree(M.e);
}

static void test_engine_model_random(void **state) {
    (void)state;
    long seeds = envLong("ENGINE_MODEL_SEEDS", 20);
    long steps = envLong("ENGINE_MODEL_STEPS", 10000);
    long first = envLong("ENGINE_MODEL_FIRST_SEED", 1);
    long total[16] = {0};
    for (long s = first; s < first + seeds; s++) {
        runSeed((unsigned)s, steps);
        for (int i = 0; i < 16; i++)
            total[i] += M.stats[i];
    }
    /* The run must have exercised what it claims to test. */
    static const char *const names[] = {
        "received", "dead-lettered", "expired",       "redriven", "duplicates",
        "full",     "deleted",       "stale deletes", "qvis",     "bad qvis",
        "drops",    "inuse",         "blocked seen"};
    char line[512] = "";
    for (int i = 0; i <= ST_BLOCKED_SEEN; i++) {
        char one[48];
        snprintf(one, sizeof one, "%s%s %ld", i ? ", " : "", names[i], total[i]);
        strcat(line, one);
    }
    print_message("model: %ld seeds x %ld steps: %s\n", seeds, steps, line);
    if (seeds * steps >= 20000)
        for (int i = 0; i <= ST_BLOCKED_SEEN; i++)
            if (total[i] == 0) fail_msg("nothing %s in the whole run", names[i]);
}

/* The model itself, on a hand-made case, so that a broken model cannot pass by
 * agreeing with a broken engine on nothing. */
static void test_model_sanity(void **state) {
    (void)state;
    memset(&M, 0, sizeof M);
    M.rng = 1;
    M.now = T0;
    M.e = engineCreate(1, M.now);
    createQueue(Q_DLQ);
    createQueue(Q_SRC);
    int n = 0;
    for (int tries = 0; tries < 50 && n < 3; tries++) {
        opSend(Q_SRC); /* random options: some may be refused */
        n = 0;
        for (int i = 0; i < M.nm; i++)
            n += M.m[i].q == Q_SRC;
    }
    assert_int_equal(n, 3);
    uint64_t uids[MAXCOUNT];
    message *out[MAXCOUNT];
    M.now += 10 * SEC; /* past any delay */
    engineAdvance(M.e, M.now);
    modelAdvance();
    checkAll();
    int want = modelPeek(Q_SRC, 8, uids);
    assert_int_equal(want, 3);
    assert_int_equal(enginePeek(M.e, eq(Q_SRC), 8, M.now, out), 3);
    engineFree(M.e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_sanity),
        cmocka_unit_test(test_engine_model_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
