/* queue.c: the queue engine: the registry of queues and every state change of
 * their messages (send, lease, lease end, delete, delay end, retention, dead
 * letter, redrive), FIFO groups, dedup windows and long-poll waiters.
 *
 * A message is in exactly one state, and each state has one home:
 *
 *   DELAYED   the timer wheel (deadline: delay end, or retention if sooner)
 *   READY     standard: the ready heap; FIFO: its group's list (the group is on
 *             the queue's available list while nothing of it is in flight)
 *   INFLIGHT  the timer wheel (deadline: lease end, or retention if sooner)
 *
 * Besides, every message is on its queue's list of all messages (oldest sentMs
 * first: QPURGE, QDROP and QINFO's oldest_age_ms), and a message delivered at
 * least once is in the engine's `bySeq` table, which is how a receipt finds it
 * in O(1). While records of the append-only file are replayed, bySeq holds every
 * message (see indexAllMessages). Each message has one timer node whose deadline
 * is the earlier of its state's deadline and its retention deadline, so a timer
 * tick touches only messages that are due and never scans a queue.
 *
 * All state changes go through enter/leave helpers, which keep the counters
 * (ready, inflight, delayed, FIFO receivable/blocked) exact at every step, so
 * QLEN and QINFO are O(1). FIFO accounting: a group's `ready` messages count as
 * receivable while nothing of the group is in flight and as blocked otherwise;
 * groupBefore/groupAfter bracket every change to a group.
 *
 * Time comes in as nowMs and never goes back inside the engine (e->now). Timed
 * work runs in engineAdvance; waiters are served in engineServeWaiters, both
 * called by the server's loop. Every change is reported to the effect sink.
 *
 * Replay (the last chapter): the engineApply* functions set what a record of the
 * append-only file says (state, lease end, receive count, tag, seq), through the
 * same attach/enter/leave helpers, and emit nothing. They never decide anything
 * a timer would (they schedule each message's timer for its deadline but do not
 * run it), so an engine that only applies records and is never advanced is an
 * exact copy of the one that wrote them: apply-only mode. Waiters are not
 * state and are never replayed.
 */
#include "engine/internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define containerOf(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static void signalQueue(engine *e, queue *q);

/* ---- Small helpers ---- */

static int64_t minTime(int64_t a, int64_t b) { return a < b ? a : b; }

static uint32_t nextTag(engine *e) {
    /* xorshift64*: receipt tags only need to be unpredictable enough that a stale
     * or forged receipt does not match by chance. */
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return (uint32_t)((e->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void emit(engine *e, int type, const queue *q, const message *m) {
    if (!e->sink) return;
    effect ef = {.type = type, .timeMs = e->now, .q = q, .msg = m};
    e->sink(e->sinkCtx, &ef);
}

static void emitUntil(engine *e, int type, const queue *q, const message *m,
                      int64_t until) {
    if (!e->sink) return;
    effect ef = {.type = type, .timeMs = e->now, .q = q, .msg = m, .untilMs = until};
    e->sink(e->sinkCtx, &ef);
}

static void writeHex(char *out, uint64_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--) {
        out[i] = hex[v & 15];
        v >>= 4;
    }
}

int engineParseHex(const char *p, int digits, uint64_t *out) {
    uint64_t v = 0;
    for (int i = 0; i < digits; i++) {
        char ch = p[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* ---- Table callbacks ---- */

static uint64_t queueHash(const void *entry) {
    const queue *q = entry;
    return ptableHashBytes(q->name, q->nameLen);
}

typedef struct nameKey {
    const char *p;
    size_t len;
} nameKey;

static int queueMatch(const void *entry, const void *key) {
    const queue *q = entry;
    const nameKey *k = key;
    return q->nameLen == k->len && !memcmp(q->name, k->p, k->len);
}

static uint64_t bySeqHash(const void *entry) {
    return ptableHashU64(((const message *)entry)->seq);
}

static int bySeqMatch(const void *entry, const void *key) {
    return ((const message *)entry)->seq == *(const uint64_t *)key;
}

/* Live, bySeq holds the messages delivered at least once: receipts are how
 * clients name messages, and a message never received has none. Replaying
 * records names messages by seq whatever their state, so the first apply turns
 * on indexAll and indexes the rest; engineReplayDone turns it off again. */
static int inBySeq(const engine *e, const message *m) {
    return e->indexAll || m->receives > 0;
}

static void indexAllMessages(engine *e) {
    if (e->indexAll) return;
    e->indexAll = 1;
    for (size_t i = 0; i < e->queueCount; i++)
        for (message *m = e->sorted[i]->allHead; m; m = m->allNext)
            if (m->receives == 0) ptableAdd(&e->bySeq, m);
}

void engineReplayDone(engine *e) {
    if (!e->indexAll) return;
    for (size_t i = 0; i < e->queueCount; i++)
        for (message *m = e->sorted[i]->allHead; m; m = m->allNext)
            if (m->receives == 0) ptableRemove(&e->bySeq, m);
    e->indexAll = 0;
}

static uint64_t groupHash(const void *entry) {
    const fifoGroup *g = entry;
    return ptableHashBytes(g->name, g->nameLen);
}

static int groupMatch(const void *entry, const void *key) {
    const fifoGroup *g = entry;
    const nameKey *k = key;
    return g->nameLen == k->len && !memcmp(g->name, k->p, k->len);
}

static uint64_t dedupHash(const void *entry) {
    const dedupEntry *d = entry;
    return ptableHashBytes(d->id, d->len);
}

static int dedupMatch(const void *entry, const void *key) {
    const dedupEntry *d = entry;
    const nameKey *k = key;
    return d->len == k->len && !memcmp(d->id, k->p, k->len);
}

/* ---- Names and attributes ---- */

int engineValidName(const char *name, size_t len) {
    if (len == 0 || len > QE_NAME_MAX) return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
            ch == ':' || ch == '{' || ch == '}')
            continue;
        return 0;
    }
    return 1;
}

void queueAttrsDefaults(queueAttrs *a) {
    memset(a, 0, sizeof(*a));
    a->visibilityMs = 30000;
    a->delayMs = 0;
    a->retentionMs = 345600000;
    a->waitMs = 0;
    a->maxSize = 1048576;
    a->maxDepth = 0;
}

static int attrsEqual(const queueAttrs *a, const queueAttrs *b) {
    return a->visibilityMs == b->visibilityMs && a->delayMs == b->delayMs &&
           a->retentionMs == b->retentionMs && a->waitMs == b->waitMs &&
           a->maxSize == b->maxSize && a->maxDepth == b->maxDepth &&
           a->dlqLen == b->dlqLen && !memcmp(a->dlq, b->dlq, a->dlqLen) &&
           a->maxReceives == b->maxReceives && a->fifo == b->fifo &&
           a->contentDedup == b->contentDedup;
}

/* The rules that tie attributes together (ranges of single values are the
 * command layer's). Resolves the DLQ into *dlqOut. */
static int checkAttrs(engine *e, const queue *self, const char *name, size_t len,
                      const queueAttrs *a, queue **dlqOut, char *err, size_t errcap) {
    *dlqOut = NULL;
    if (a->retentionMs > 0 && a->delayMs >= a->retentionMs) {
        snprintf(err, errcap, "DELAY must be shorter than RETENTION");
        return QE_ERR;
    }
    if (a->contentDedup && !a->fifo) {
        snprintf(err, errcap, "CONTENTDEDUP is for FIFO queues only");
        return QE_ERR;
    }
    if (a->dlqLen) {
        if (a->dlqLen == len && !memcmp(a->dlq, name, len)) {
            snprintf(err, errcap, "queue '%.*s' cannot be its own dead-letter queue",
                     (int)len, name);
            return QE_ERR;
        }
        queue *d = engineLookup(e, a->dlq, a->dlqLen);
        if (!d) {
            snprintf(err, errcap, "no such queue '%.*s'", (int)a->dlqLen, a->dlq);
            return QE_NOQUEUE;
        }
        if (d->attrs.fifo != a->fifo) {
            snprintf(err, errcap,
                     "dead-letter queue '%.*s' is %s but queue '%.*s' is %s",
                     (int)a->dlqLen, a->dlq, d->attrs.fifo ? "fifo" : "standard",
                     (int)len, name, a->fifo ? "fifo" : "standard");
            return QE_ERR;
        }
        if (a->maxReceives < 1 || a->maxReceives > QE_MAX_RECEIVES_MAX) {
            snprintf(err, errcap, "MAXRECEIVES must be 1 - %d", QE_MAX_RECEIVES_MAX);
            return QE_ERR;
        }
        /* No cycles of DLQs: a message past MAXRECEIVES in every queue of a
         * cycle would move around it forever (waiters on two of its queues
         * would pass it back and forth inside engineServeWaiters). A new queue
         * (self NULL) cannot close one. */
        for (const queue *t = d; self && t; t = t->dlq) {
            if (t == self) {
                snprintf(err, errcap,
                         "dead-letter queue '%.*s' leads back to queue '%.*s'",
                         (int)a->dlqLen, a->dlq, (int)len, name);
                return QE_ERR;
            }
        }
        *dlqOut = d;
    }
    return QE_OK;
}

/* ---- Registry ---- */

engine *engineCreate(uint32_t epoch, int64_t nowMs) {
    engine *e = memCalloc(sizeof(*e));
    ptableInit(&e->queues, queueHash, queueMatch);
    ptableInit(&e->bySeq, bySeqHash, bySeqMatch);
    wheelInit(&e->timers, nowMs);
    e->epoch = epoch;
    e->nextSeq = 1;
    e->now = nowMs;
    e->rng = ((uint64_t)epoch << 32 | 0x9e3779b9u) ^ (uint64_t)nowMs;
    if (!e->rng) e->rng = 1;
    return e;
}

void engineSetEffectSink(engine *e, effectSinkProc *proc, void *ctx) {
    e->sink = proc;
    e->sinkCtx = ctx;
}

void engineSetWaiterDone(engine *e, waiterDoneProc *proc, void *ctx) {
    e->waiterDone = proc;
    e->waiterCtx = ctx;
}

queue *engineLookup(engine *e, const char *name, size_t len) {
    nameKey k = {name, len};
    return ptableFind(&e->queues, ptableHashBytes(name, len), &k);
}

const char *queueName(const queue *q, size_t *len) {
    if (len) *len = q->nameLen;
    return q->name;
}

const queueAttrs *queueGetAttrs(const queue *q) { return &q->attrs; }

size_t engineQueueCount(const engine *e) { return e->queueCount; }

static int nameCmp(const char *a, size_t alen, const char *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of the first entry of arr (sorted by name) not before name. */
static size_t lowerBound(queue *const *arr, size_t n, const char *name, size_t len) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (nameCmp(arr[mid]->name, arr[mid]->nameLen, name, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sortedInsert(queue ***arr, size_t *n, size_t *cap, queue *q) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = memRealloc(*arr, sizeof(queue *) * *cap);
    }
    size_t i = lowerBound(*arr, *n, q->name, q->nameLen);
    memmove(*arr + i + 1, *arr + i, sizeof(queue *) * (*n - i));
    (*arr)[i] = q;
    (*n)++;
}

static void sortedRemove(queue **arr, size_t *n, queue *q) {
    size_t i = lowerBound(arr, *n, q->name, q->nameLen);
    if (i < *n && arr[i] == q) {
        memmove(arr + i, arr + i + 1, sizeof(queue *) * (*n - i - 1));
        (*n)--;
    }
}

static void linkDlq(queue *q, queue *dlq) {
    q->dlq = dlq;
    if (dlq) sortedInsert(&dlq->sources, &dlq->sourceCount, &dlq->sourceCap, q);
}

static void unlinkDlq(queue *q) {
    if (q->dlq) sortedRemove(q->dlq->sources, &q->dlq->sourceCount, q);
    q->dlq = NULL;
}

size_t queueDlqSourceCount(const queue *q) { return q->sourceCount; }

const queue *queueDlqSource(const queue *q, size_t i) {
    return i < q->sourceCount ? q->sources[i] : NULL;
}

/* ---- FIFO groups ---- */

static void availAppend(queue *q, fifoGroup *g) {
    g->available = 1;
    g->availNext = NULL;
    g->availPrev = q->availTail;
    if (q->availTail)
        q->availTail->availNext = g;
    else
        q->availHead = g;
    q->availTail = g;
}

static void availRemove(queue *q, fifoGroup *g) {
    if (g->availPrev)
        g->availPrev->availNext = g->availNext;
    else
        q->availHead = g->availNext;
    if (g->availNext)
        g->availNext->availPrev = g->availPrev;
    else
        q->availTail = g->availPrev;
    g->availPrev = g->availNext = NULL;
    g->available = 0;
}

/* Take the group's share out of the queue's counters before changing it... */
static void groupBefore(queue *q, fifoGroup *g) {
    if (g->inflight == 0)
        q->fifoReceivable -= g->ready;
    else
        q->fifoBlocked -= g->ready;
}

/* ...and put it back after, listing the group as available when it is. */
static void groupAfter(engine *e, queue *q, fifoGroup *g) {
    if (g->inflight == 0) {
        q->fifoReceivable += g->ready;
        if (g->ready > 0 && !g->available) {
            availAppend(q, g);
            signalQueue(e, q);
        } else if (g->ready == 0 && g->available) {
            availRemove(q, g);
        }
    } else {
        q->fifoBlocked += g->ready;
        if (g->available) availRemove(q, g);
    }
}

static fifoGroup *groupGet(queue *q, const char *name, size_t len) {
    nameKey k = {name, len};
    fifoGroup *g = ptableFind(&q->groups, ptableHashBytes(name, len), &k);
    if (g) return g;
    g = memCalloc(sizeof(*g) + len);
    memcpy(g->name, name, len);
    g->nameLen = len;
    ptableAdd(&q->groups, g);
    return g;
}

static void groupFreeIfEmpty(queue *q, fifoGroup *g) {
    if (g->head) return;
    if (g->available) availRemove(q, g);
    ptableRemove(&q->groups, g);
    memFree(g);
}

/* ---- Messages: allocation and indexes ---- */

static uint64_t idSeqOf(const message *m) { return m->extra ? m->extra->idSeq : m->seq; }

void messageId(const message *m, char *out) {
    writeHex(out, m->q->e->epoch, 8);
    writeHex(out + 8, idSeqOf(m), 16);
    out[QE_ID_LEN] = '\0';
}

static void setExtra(message *m, uint64_t idSeq, const char *dedup, size_t dedupLen,
                     const char *source, size_t sourceLen) {
    msgExtra *x = memAlloc(sizeof(msgExtra) + dedupLen + sourceLen);
    x->idSeq = idSeq;
    x->dedupLen = (uint16_t)dedupLen;
    x->sourceLen = (uint16_t)sourceLen;
    if (dedupLen) memcpy(x->data, dedup, dedupLen);
    if (sourceLen) memcpy(x->data + dedupLen, source, sourceLen);
    memFree(m->extra);
    m->extra = x;
}

static void allInsert(queue *q, message *m) {
    /* Sends arrive in time order and go at the tail; a dead-lettered message
     * carries its older sentMs and walks back to its place. */
    message *after = q->allTail;
    /* Ties go by seq, which is the order live inserts make (a moved message takes
     * a new, larger seq), so a replay in another order rebuilds the same list. */
    while (after && (after->sentMs > m->sentMs ||
                     (after->sentMs == m->sentMs && after->seq > m->seq)))
        after = after->allPrev;
    m->allPrev = after;
    m->allNext = after ? after->allNext : q->allHead;
    if (m->allNext)
        m->allNext->allPrev = m;
    else
        q->allTail = m;
    if (after)
        after->allNext = m;
    else
        q->allHead = m;
}

static void allRemove(queue *q, message *m) {
    if (m->allPrev)
        m->allPrev->allNext = m->allNext;
    else
        q->allHead = m->allNext;
    if (m->allNext)
        m->allNext->allPrev = m->allPrev;
    else
        q->allTail = m->allPrev;
    m->allPrev = m->allNext = NULL;
}

static void setTimer(engine *e, message *m, int64_t until) {
    wheelAdd(&e->timers, &m->timer.node, minTime(until, m->expireMs));
}

static void setRetentionTimer(engine *e, message *m) {
    if (m->expireMs == INT64_MAX)
        wheelDel(&e->timers, &m->timer.node);
    else
        wheelAdd(&e->timers, &m->timer.node, m->expireMs);
}

/* ---- Messages: states ---- */

static void enterReady(engine *e, queue *q, message *m) {
    m->state = MSG_READY;
    if (q->attrs.fifo) {
        fifoGroup *g = m->u.fifo.group;
        groupBefore(q, g);
        g->ready++;
        groupAfter(e, q, g);
    } else {
        heapPush(&q->ready, m);
        signalQueue(e, q);
    }
    setRetentionTimer(e, m);
}

static void enterDelayed(engine *e, queue *q, message *m, int64_t visibleAt) {
    m->state = MSG_DELAYED;
    q->delayed++;
    if (q->attrs.fifo) m->u.fifo.group->delayed++;
    setTimer(e, m, visibleAt);
}

static void enterInflight(engine *e, queue *q, message *m, int64_t leaseEnd) {
    m->state = MSG_INFLIGHT;
    q->inflight++;
    if (q->attrs.fifo) {
        fifoGroup *g = m->u.fifo.group;
        groupBefore(q, g);
        g->inflight++;
        groupAfter(e, q, g);
    }
    setTimer(e, m, leaseEnd);
}

/* Takes m out of its state's home and counters; leaves it stateless. */
static void leaveState(engine *e, queue *q, message *m) {
    fifoGroup *g = q->attrs.fifo ? m->u.fifo.group : NULL;
    if (g) groupBefore(q, g);
    switch (m->state) {
    case MSG_READY:
        if (g)
            g->ready--;
        else
            heapRemove(&q->ready, m);
        break;
    case MSG_DELAYED:
        q->delayed--;
        if (g) g->delayed--;
        break;
    case MSG_INFLIGHT:
        q->inflight--;
        if (g) g->inflight--;
        break;
    }
    if (g) groupAfter(e, q, g);
    m->state = 0;
}

/* The time at which a new message of group g may become visible: no earlier than
 * the group's last message, so that delays in a group end in send order. */
static int64_t groupVisibleFloor(const fifoGroup *g) {
    const message *t = g->tail;
    return (t && t->state == MSG_DELAYED) ? t->timer.node.expiresMs : 0;
}

/* Puts m into group g at its place by seq. Live paths always append (m has the
 * newest seq); a replayed snapshot may give a group's messages in another order
 * (a FIFO DLQ's list is by seq, its list of all messages by sentMs). */
static void groupLink(fifoGroup *g, message *m) {
    message *after = g->tail;
    while (after && after->seq > m->seq) after = after->u.fifo.prev;
    m->u.fifo.group = g;
    m->u.fifo.prev = after;
    m->u.fifo.next = after ? after->u.fifo.next : g->head;
    if (m->u.fifo.next)
        m->u.fifo.next->u.fifo.prev = m;
    else
        g->tail = m;
    if (after)
        after->u.fifo.next = m;
    else
        g->head = m;
}

/* Puts a stateless m into q's indexes: the list of all messages, group g (FIFO;
 * NULL for a standard queue), the seq table. The caller then enters a state. */
static void linkMessage(engine *e, queue *q, message *m, fifoGroup *g) {
    m->q = q;
    allInsert(q, m);
    q->held++;
    if (g) groupLink(g, m);
    if (inBySeq(e, m)) ptableAdd(&e->bySeq, m);
}

/* Puts a stateless m into q: linkMessage, then READY, or DELAYED until
 * visibleAt (no earlier than the end of its group's last delay). */
static void attachMessage(engine *e, queue *q, message *m, const char *group,
                          size_t groupLen, int64_t visibleAt) {
    fifoGroup *g = NULL;
    if (q->attrs.fifo) {
        g = groupGet(q, group, groupLen);
        int64_t floor = groupVisibleFloor(g);
        if (floor > visibleAt) visibleAt = floor;
    }
    linkMessage(e, q, m, g);
    if (visibleAt > e->now)
        enterDelayed(e, q, m, visibleAt);
    else
        enterReady(e, q, m);
}

/* Takes m out of every index of its queue (state, timer, lists, seq table);
 * the group is freed when it empties. m is not freed. */
static void detachMessage(engine *e, queue *q, message *m) {
    leaveState(e, q, m);
    wheelDel(&e->timers, &m->timer.node);
    allRemove(q, m);
    q->held--;
    if (inBySeq(e, m)) ptableRemove(&e->bySeq, m);
    if (q->attrs.fifo) {
        fifoGroup *g = m->u.fifo.group;
        if (m->u.fifo.prev)
            m->u.fifo.prev->u.fifo.next = m->u.fifo.next;
        else
            g->head = m->u.fifo.next;
        if (m->u.fifo.next)
            m->u.fifo.next->u.fifo.prev = m->u.fifo.prev;
        else
            g->tail = m->u.fifo.prev;
        m->u.fifo.group = NULL;
        groupFreeIfEmpty(q, g);
    }
}

static void freeMessage(message *m) {
    memFree(m->extra);
    memFree(m);
}

/* ---- Dead letters ---- */

static void deadLetter(engine *e, queue *src, message *m) {
    queue *dst = src->dlq;
    char group[QE_NAME_MAX];
    size_t groupLen = 0;
    if (src->attrs.fifo) {
        groupLen = m->u.fifo.group->nameLen;
        memcpy(group, m->u.fifo.group->name, groupLen);
    }
    uint64_t oldSeq = m->seq;
    detachMessage(e, src, m);
    const char *dedup = m->extra ? m->extra->data : NULL;
    size_t dedupLen = m->extra ? m->extra->dedupLen : 0;
    setExtra(m, idSeqOf(m), dedup, dedupLen, src->name, src->nameLen);
    m->seq = e->nextSeq++;
    m->expireMs = dst->attrs.retentionMs ? m->sentMs + dst->attrs.retentionMs : INT64_MAX;
    attachMessage(e, dst, m, group, groupLen, e->now);
    src->deadletteredTotal++;
    if (e->sink) {
        effect ef = {.type = EFFECT_DEADLETTER, .timeMs = e->now, .q = src,
                     .target = dst, .msg = m, .seq = oldSeq};
        e->sink(e->sinkCtx, &ef);
    }
}

static int mustDeadLetter(const queue *q, const message *m) {
    return q->dlq && m->receives >= (uint32_t)q->attrs.maxReceives;
}

/* A lease ended (timer or QVIS 0): back to READY, or to the DLQ. */
static void leaseEnded(engine *e, queue *q, message *m) {
    if (mustDeadLetter(q, m)) {
        deadLetter(e, q, m);
        return;
    }
    leaveState(e, q, m);
    enterReady(e, q, m);
    emit(e, EFFECT_RETURN, q, m);
}

/* Ready messages at the front of q that a QRECV would dead-letter rather than
 * deliver (MAXRECEIVES lowered by QSET) are moved first, so that "receivable"
 * means deliverable. */
static void settleFront(engine *e, queue *q) {
    if (!q->dlq) return;
    if (!q->attrs.fifo) {
        message *m;
        while ((m = heapTop(&q->ready)) && mustDeadLetter(q, m)) deadLetter(e, q, m);
        return;
    }
    fifoGroup *g = q->availHead;
    while (g) {
        fifoGroup *next = g->availNext;
        message *m = g->head;
        /* deadLetter may free g when m was its last message. */
        while (m && m->state == MSG_READY && mustDeadLetter(q, m)) {
            message *after = m->u.fifo.next;
            deadLetter(e, q, m);
            m = after;
        }
        g = next;
    }
}

/* ---- Waiters ---- */

static void signalQueue(engine *e, queue *q) {
    if (!q->waitHead || q->signaled) return;
    q->signaled = 1;
    q->signalNext = e->signalHead;
    e->signalHead = q;
}

static void unsignalQueue(engine *e, queue *q) {
    if (!q->signaled) return;
    for (queue **link = &e->signalHead; *link; link = &(*link)->signalNext) {
        if (*link == q) {
            *link = q->signalNext;
            break;
        }
    }
    q->signaled = 0;
}

static void waiterUnlink(engine *e, engineWaiter *w) {
    queue *q = w->q;
    if (!q) return;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->waitHead = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->waitTail = w->prev;
    w->prev = w->next = NULL;
    w->q = NULL;
    wheelDel(&e->timers, &w->timer.node);
}

void engineWaitPark(engine *e, queue *q, engineWaiter *w, int64_t deadlineMs) {
    w->q = q;
    w->next = NULL;
    w->prev = q->waitTail;
    if (q->waitTail)
        q->waitTail->next = w;
    else
        q->waitHead = w;
    q->waitTail = w;
    w->timer.kind = TIMER_WAITER;
    wheelAdd(&e->timers, &w->timer.node, deadlineMs);
    if (queueReceivable(q) > 0) signalQueue(e, q);
}

void engineWaitCancel(engine *e, engineWaiter *w) { waiterUnlink(e, w); }

void engineServeWaiters(engine *e, int64_t nowMs) {
    if (nowMs > e->now) e->now = nowMs;
    while (e->signalHead) {
        queue *q = e->signalHead;
        e->signalHead = q->signalNext;
        q->signaled = 0;
        while (q->waitHead) {
            settleFront(e, q);
            if (queueReceivable(q) == 0) break;
            engineWaiter *w = q->waitHead;
            waiterUnlink(e, w);
            if (e->waiterDone) e->waiterDone(e->waiterCtx, w, q, WAIT_READY);
        }
    }
}

/* ---- Timers ---- */

static void messageDue(engine *e, message *m) {
    queue *q = m->q;
    /* Judge by the timer's own time, not e->now: when one advance steps over a
     * lease end and then the retention, the lease end comes first (it may
     * dead-letter the message, and the DLQ's retention then applies). */
    if (m->timer.node.expiresMs >= m->expireMs) {
        detachMessage(e, q, m);
        q->expiredTotal++;
        emit(e, EFFECT_EXPIRE, q, m);
        freeMessage(m);
        return;
    }
    switch (m->state) {
    case MSG_DELAYED:
        leaveState(e, q, m);
        enterReady(e, q, m);
        emit(e, EFFECT_VISIBLE, q, m);
        break;
    case MSG_INFLIGHT:
        leaseEnded(e, q, m);
        break;
    default:
        setRetentionTimer(e, m); /* READY: only retention is timed */
        break;
    }
}

static void dedupFree(engine *e, dedupEntry *d) {
    wheelDel(&e->timers, &d->timer.node);
    ptableRemove(&d->q->dedup, d);
    memFree(d);
}

void engineAdvance(engine *e, int64_t nowMs) {
    if (nowMs > e->now) e->now = nowMs;
    if (wheelNextExpiry(&e->timers) > e->now) return;
    wheelAdvance(&e->timers, e->now);
    wheelNode *n;
    while ((n = wheelPopExpired(&e->timers))) {
        engineTimer *t = containerOf(n, engineTimer, node);
        switch (t->kind) {
        case TIMER_MESSAGE:
            messageDue(e, containerOf(t, message, timer));
            break;
        case TIMER_DEDUP:
            dedupFree(e, containerOf(t, dedupEntry, timer));
            break;
        case TIMER_WAITER: {
            engineWaiter *w = containerOf(t, engineWaiter, timer);
            queue *q = w->q;
            waiterUnlink(e, w);
            if (e->waiterDone) e->waiterDone(e->waiterCtx, w, q, WAIT_TIMEOUT);
            break;
        }
        }
    }
}

int64_t engineNextDeadline(engine *e) {
    if (e->signalHead) return e->now;
    return wheelNextExpiry(&e->timers);
}

/* ---- Queue commands ---- */

static int64_t readyCount(const queue *q) {
    return q->attrs.fifo ? q->fifoReceivable : (int64_t)heapCount(&q->ready);
}

int64_t queueReceivable(const queue *q) { return readyCount(q); }

void queueGetInfo(const queue *q, int64_t nowMs, queueInfo *out) {
    (void)nowMs;
    memset(out, 0, sizeof(*out));
    out->createdMs = q->createdMs;
    out->modifiedMs = q->modifiedMs;
    out->ready = readyCount(q);
    out->inflight = q->inflight;
    out->delayed = q->delayed;
    out->blocked = q->attrs.fifo ? q->fifoBlocked : 0;
    out->oldestSentMs = q->allHead ? q->allHead->sentMs : 0;
    out->sentTotal = q->sentTotal;
    out->receivedTotal = q->receivedTotal;
    out->deletedTotal = q->deletedTotal;
    out->expiredTotal = q->expiredTotal;
    out->deadletteredTotal = q->deadletteredTotal;
}

void engineTotals(const engine *e, queueInfo *out, int64_t *queues) {
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < e->queueCount; i++) {
        queueInfo qi;
        queueGetInfo(e->sorted[i], e->now, &qi);
        out->ready += qi.ready;
        out->inflight += qi.inflight;
        out->delayed += qi.delayed;
        out->blocked += qi.blocked;
        out->sentTotal += qi.sentTotal;
        out->receivedTotal += qi.receivedTotal;
        out->deletedTotal += qi.deletedTotal;
        out->expiredTotal += qi.expiredTotal;
        out->deadletteredTotal += qi.deadletteredTotal;
    }
    if (queues) *queues = (int64_t)e->queueCount;
}

/* Makes and registers an empty queue; the attributes were checked (checkAttrs
 * resolved dlq). */
static queue *newQueue(engine *e, const char *name, size_t len, const queueAttrs *a,
                       queue *dlq, int64_t createdMs) {
    queue *q = memCalloc(sizeof(*q));
    q->e = e;
    memcpy(q->name, name, len);
    q->nameLen = len;
    q->attrs = *a;
    if (!a->dlqLen) q->attrs.maxReceives = 0;
    q->createdMs = q->modifiedMs = createdMs;
    ptableInit(&q->groups, groupHash, groupMatch);
    ptableInit(&q->dedup, dedupHash, dedupMatch);
    ptableAdd(&e->queues, q);
    sortedInsert(&e->sorted, &e->queueCount, &e->sortedCap, q);
    linkDlq(q, dlq);
    return q;
}

int engineCreateQueue(engine *e, const char *name, size_t len, const queueAttrs *a,
                      int64_t nowMs, char *err, size_t errcap) {
    if (nowMs > e->now) e->now = nowMs;
    if (!engineValidName(name, len)) {
        snprintf(err, errcap, "invalid queue name");
        return QE_ERR;
    }
    queue *existing = engineLookup(e, name, len);
    if (existing) {
        if (attrsEqual(&existing->attrs, a)) return QE_OK;
        snprintf(err, errcap, "queue '%.*s' exists with different attributes",
                 (int)len, name);
        return QE_EXISTS;
    }
    queue *dlq;
    int rc = checkAttrs(e, NULL, name, len, a, &dlq, err, errcap);
    if (rc != QE_OK) return rc;

    queue *q = newQueue(e, name, len, a, dlq, e->now);
    if (e->sink) {
        effect ef = {.type = EFFECT_QCREATE, .timeMs = e->now, .q = q};
        e->sink(e->sinkCtx, &ef);
    }
    return QE_OK;
}

int engineSetQueue(engine *e, queue *q, const queueAttrs *a, unsigned changed,
                   int64_t nowMs, char *err, size_t errcap) {
    if (nowMs > e->now) e->now = nowMs;
    queueAttrs next = q->attrs;
    if (changed & QA_VISIBILITY) next.visibilityMs = a->visibilityMs;
    if (changed & QA_DELAY) next.delayMs = a->delayMs;
    if (changed & QA_RETENTION) next.retentionMs = a->retentionMs;
    if (changed & QA_WAIT) next.waitMs = a->waitMs;
    if (changed & QA_MAXSIZE) next.maxSize = a->maxSize;
    if (changed & QA_MAXDEPTH) next.maxDepth = a->maxDepth;
    if (changed & QA_NODLQ) {
        next.dlq[0] = '\0';
        next.dlqLen = 0;
        next.maxReceives = 0;
    }
    if (changed & QA_DLQ) {
        memcpy(next.dlq, a->dlq, a->dlqLen);
        next.dlq[a->dlqLen] = '\0';
        next.dlqLen = a->dlqLen;
        next.maxReceives = a->maxReceives;
    }
    queue *dlq;
    int rc = checkAttrs(e, q, q->name, q->nameLen, &next, &dlq, err, errcap);
    if (rc != QE_OK) return rc;
    if (dlq != q->dlq) {
        unlinkDlq(q);
        linkDlq(q, dlq);
    }
    q->attrs = next;
    q->modifiedMs = e->now;
    if (e->sink) {
        effect ef = {.type = EFFECT_QSET, .timeMs = e->now, .q = q};
        e->sink(e->sinkCtx, &ef);
    }
    /* A lower MAXRECEIVES may make front messages dead letters; waiters are
     * served after settling them. */
    signalQueue(e, q);
    return QE_OK;
}

/* Frees every message of q; returns how many. */
static int64_t removeAllMessages(engine *e, queue *q) {
    int64_t n = 0;
    while (q->allHead) {
        message *m = q->allHead;
        detachMessage(e, q, m);
        freeMessage(m);
        n++;
    }
    return n;
}

int64_t enginePurgeQueue(engine *e, queue *q, int64_t nowMs) {
    if (nowMs > e->now) e->now = nowMs;
    int64_t n = removeAllMessages(e, q);
    if (e->sink) {
        effect ef = {.type = EFFECT_QPURGE, .timeMs = e->now, .q = q};
        e->sink(e->sinkCtx, &ef);
    }
    return n;
}

/* Frees q with its messages and dedup ids; waiters get WAIT_DROPPED. Emits
 * nothing (dropQueue does, replay does not). */
static void freeQueue(engine *e, queue *q) {
    removeAllMessages(e, q);
    for (size_t i = 0; i < q->dedup.size; i++) {
        dedupEntry *d = q->dedup.slots[i];
        if (!d) continue;
        wheelDel(&e->timers, &d->timer.node);
        memFree(d);
    }
    ptableFree(&q->dedup);
    ptableFree(&q->groups);
    heapFree(&q->ready);
    unsignalQueue(e, q);
    unlinkDlq(q);
    /* Sources can only remain when every queue is dropped at once. */
    for (size_t i = 0; i < q->sourceCount; i++) q->sources[i]->dlq = NULL;
    memFree(q->sources);
    ptableRemove(&e->queues, q);
    sortedRemove(e->sorted, &e->queueCount, q);
    while (q->waitHead) {
        engineWaiter *w = q->waitHead;
        waiterUnlink(e, w);
        if (e->waiterDone) e->waiterDone(e->waiterCtx, w, q, WAIT_DROPPED);
    }
    memFree(q);
}

static void dropQueue(engine *e, queue *q) {
    if (e->sink) {
        effect ef = {.type = EFFECT_QDROP, .timeMs = e->now, .q = q};
        e->sink(e->sinkCtx, &ef);
    }
    freeQueue(e, q);
}

int engineDropQueue(engine *e, const char *name, size_t len, int64_t nowMs, char *err,
                    size_t errcap) {
    if (nowMs > e->now) e->now = nowMs;
    queue *q = engineLookup(e, name, len);
    if (!q) return QE_NOQUEUE;
    if (q->sourceCount) {
        const queue *s = q->sources[0];
        snprintf(err, errcap, "queue '%.*s' is the dead-letter queue of '%.*s'",
                 (int)q->nameLen, q->name, (int)s->nameLen, s->name);
        return QE_INUSE;
    }
    dropQueue(e, q);
    return QE_OK;
}

void engineDropAll(engine *e, int64_t nowMs) {
    if (nowMs > e->now) e->now = nowMs;
    /* Drop sources before their DLQs, so that every drop is one a client could
     * have made. */
    for (size_t i = 0; i < e->queueCount; i++) unlinkDlq(e->sorted[i]);
    while (e->queueCount) dropQueue(e, e->sorted[e->queueCount - 1]);
}

void engineFree(engine *e) {
    if (!e) return;
    e->sink = NULL;
    e->waiterDone = NULL;
    engineDropAll(e, e->now);
    ptableFree(&e->queues);
    ptableFree(&e->bySeq);
    memFree(e->sorted);
    memFree(e);
}

size_t engineScan(engine *e, const char *cursor, size_t cursorLen,
                  int (*match)(void *ctx, const char *name, size_t len), void *ctx,
                  size_t count, const queue **out, char *nextCursor) {
    /* A cursor is "1" + the hex of the next name to visit; names are visited in
     * sorted order, so a queue that exists throughout is seen exactly once. */
    size_t start = 0;
    if (!(cursorLen == 1 && cursor[0] == '0')) {
        if (cursorLen < 3 || cursor[0] != '1' || (cursorLen - 1) % 2 ||
            (cursorLen - 1) / 2 > QE_NAME_MAX)
            return (size_t)-1;
        char name[QE_NAME_MAX];
        size_t len = (cursorLen - 1) / 2;
        for (size_t i = 0; i < len; i++) {
            uint64_t v;
            if (!engineParseHex(cursor + 1 + 2 * i, 2, &v)) return (size_t)-1;
            name[i] = (char)v;
        }
        start = lowerBound(e->sorted, e->queueCount, name, len);
    }
    size_t stored = 0, i = start;
    if (count == 0) count = 10;
    for (; i < e->queueCount && i - start < count; i++) {
        const queue *q = e->sorted[i];
        if (!match || match(ctx, q->name, q->nameLen)) out[stored++] = q;
    }
    if (i >= e->queueCount) {
        strcpy(nextCursor, "0");
    } else {
        const queue *q = e->sorted[i];
        nextCursor[0] = '1';
        for (size_t k = 0; k < q->nameLen; k++)
            writeHex(nextCursor + 1 + 2 * k, (unsigned char)q->name[k], 2);
        nextCursor[1 + 2 * q->nameLen] = '\0';
    }
    return stored;
}

/* ---- Message commands ---- */

int engineSend(engine *e, queue *q, const char *body, size_t len, const sendOptions *o,
               int64_t nowMs, char *idOut, char *err, size_t errcap) {
    if (nowMs > e->now) e->now = nowMs;
    if ((int64_t)len > q->attrs.maxSize) {
        snprintf(err, errcap,
                 "message body is %zu bytes; queue '%.*s' accepts at most %lld", len,
                 (int)q->nameLen, q->name, (long long)q->attrs.maxSize);
        return QE_TOOBIG;
    }
    if (q->attrs.fifo && !o->group) {
        snprintf(err, errcap, "GROUP is required on FIFO queue '%.*s'", (int)q->nameLen,
                 q->name);
        return QE_ERR;
    }
    if (!q->attrs.fifo && o->group) {
        snprintf(err, errcap, "GROUP is for FIFO queues; '%.*s' is standard",
                 (int)q->nameLen, q->name);
        return QE_ERR;
    }
    if (q->attrs.fifo && !o->dedupId) {
        snprintf(err, errcap, "DEDUPID is required on FIFO queue '%.*s' (it has no "
                 "CONTENTDEDUP)", (int)q->nameLen, q->name);
        return QE_ERR;
    }
    if (o->delayMs > 0 && q->attrs.retentionMs > 0 && o->delayMs >= q->attrs.retentionMs) {
        snprintf(err, errcap, "DELAY must be shorter than the RETENTION of queue '%.*s'",
                 (int)q->nameLen, q->name);
        return QE_ERR;
    }
    if (o->dedupId) {
        nameKey k = {o->dedupId, o->dedupIdLen};
        dedupEntry *d = ptableFind(&q->dedup, ptableHashBytes(k.p, k.len), &k);
        if (d && d->timer.node.expiresMs > e->now) {
            writeHex(idOut, e->epoch, 8);
            writeHex(idOut + 8, d->idSeq, 16);
            idOut[QE_ID_LEN] = '\0';
            return QE_DUPLICATE;
        }
        if (d) dedupFree(e, d); /* window over, timer not run yet */
    }
    if (q->attrs.maxDepth && q->held >= q->attrs.maxDepth) {
        snprintf(err, errcap, "queue '%.*s' holds %lld messages, its MAXDEPTH",
                 (int)q->nameLen, q->name, (long long)q->held);
        return QE_FULL;
    }
    if (o->memoryFull) {
        snprintf(err, errcap, "command not allowed when used memory > 'maxmemory'");
        return QE_OOM;
    }

    message *m = memAlloc(sizeof(message) + len);
    memset(m, 0, sizeof(message));
    m->timer.kind = TIMER_MESSAGE;
    m->seq = e->nextSeq++;
    m->sentMs = e->now;
    m->expireMs = q->attrs.retentionMs ? e->now + q->attrs.retentionMs : INT64_MAX;
    m->priority = o->priority;
    m->bodyLen = (uint32_t)len;
    if (len) memcpy(m->body, body, len);
    if (o->dedupId) setExtra(m, m->seq, o->dedupId, o->dedupIdLen, NULL, 0);
    int64_t delay = o->delayMs >= 0 ? o->delayMs : q->attrs.delayMs;
    attachMessage(e, q, m, o->group, o->groupLen, e->now + delay);
    q->sentTotal++;
    emitUntil(e, EFFECT_SEND, q, m,
              m->state == MSG_DELAYED ? m->timer.node.expiresMs : e->now);

    if (o->dedupId) {
        dedupEntry *d = memCalloc(sizeof(dedupEntry) + o->dedupIdLen);
        d->timer.kind = TIMER_DEDUP;
        d->q = q;
        d->idSeq = m->seq;
        d->len = o->dedupIdLen;
        memcpy(d->id, o->dedupId, o->dedupIdLen);
        ptableAdd(&q->dedup, d);
        wheelAdd(&e->timers, &d->timer.node, e->now + QE_DEDUP_WINDOW_MS);
        if (e->sink) {
            effect ef = {.type = EFFECT_DEDUP, .timeMs = e->now, .q = q,
                         .dedupId = d->id, .dedupIdLen = d->len, .seq = d->idSeq};
            e->sink(e->sinkCtx, &ef);
        }
    }
    messageId(m, idOut);
    return QE_OK;
}

static void lease(engine *e, queue *q, message *m, int64_t visibilityMs) {
    leaveState(e, q, m);
    if (m->receives == 0) {
        m->firstReceivedMs = e->now;
        if (!e->indexAll) ptableAdd(&e->bySeq, m); /* its receipts must find it */
    }
    m->receives++;
    m->tag = nextTag(e);
    enterInflight(e, q, m, e->now + visibilityMs);
    q->receivedTotal++;
    emitUntil(e, EFFECT_LEASE, q, m, e->now + visibilityMs);
}

size_t engineReceive(engine *e, queue *q, size_t count, int64_t visibilityMs,
                     int64_t nowMs, message **out) {
    if (nowMs > e->now) e->now = nowMs;
    if (visibilityMs < 0) visibilityMs = q->attrs.visibilityMs;
    size_t n = 0;
    if (!q->attrs.fifo) {
        message *m;
        while (n < count && (m = heapTop(&q->ready))) {
            if (mustDeadLetter(q, m)) {
                deadLetter(e, q, m);
                continue;
            }
            lease(e, q, m, visibilityMs);
            out[n++] = m;
        }
        return n;
    }
    while (n < count && q->availHead) {
        fifoGroup *g = q->availHead;
        message *m = g->head;
        if (!m || m->state != MSG_READY) break; /* cannot happen: see fifoGroup */
        /* The group's ready messages lead its list (see fifoGroup); several of
         * them may go in one reply. After the first lease the group is off the
         * available list, so the outer loop moves on to the next group. */
        while (n < count && m && m->state == MSG_READY) {
            message *next = m->u.fifo.next;
            if (mustDeadLetter(q, m)) {
                deadLetter(e, q, m); /* may free g when m was its last */
            } else {
                lease(e, q, m, visibilityMs);
                out[n++] = m;
            }
            m = next;
        }
    }
    return n;
}

/* Finds the message a receipt names in q, or NULL when stale or unknown. */
static message *findByReceipt(engine *e, queue *q, const char *r, size_t len) {
    uint64_t seq, receives, tag;
    if (len != QE_RECEIPT_LEN || !engineParseHex(r, 16, &seq) ||
        !engineParseHex(r + 16, 8, &receives) || !engineParseHex(r + 24, 8, &tag))
        return NULL;
    message *m = ptableFind(&e->bySeq, ptableHashU64(seq), &seq);
    /* receives 0 never matches: the table also holds undelivered messages. */
    if (!m || m->q != q || m->receives == 0 || m->receives != receives ||
        m->tag != tag)
        return NULL;
    return m;
}

int engineDelete(engine *e, queue *q, const char *receipt, size_t len, int64_t nowMs) {
    if (nowMs > e->now) e->now = nowMs;
    message *m = findByReceipt(e, q, receipt, len);
    if (!m) return 0;
    detachMessage(e, q, m);
    q->deletedTotal++;
    emit(e, EFFECT_DELETE, q, m);
    freeMessage(m);
    return 1;
}

int engineVisibility(engine *e, queue *q, const char *receipt, size_t len,
                     int64_t visibilityMs, int64_t nowMs) {
    if (nowMs > e->now) e->now = nowMs;
    message *m = findByReceipt(e, q, receipt, len);
    if (!m) return QE_BADRECEIPT;
    if (visibilityMs == 0) {
        /* A negative acknowledgement: the lease ends now. A message whose lease
         * already ran out is ready (or was dead-lettered) and stays so. */
        if (m->state == MSG_INFLIGHT) {
            emitUntil(e, EFFECT_VIS, q, m, e->now);
            leaseEnded(e, q, m);
        }
        return QE_OK;
    }
    if (m->state == MSG_READY) {
        /* The lease ran out but nothing delivered it again: lease it again, not
         * a new delivery. */
        leaveState(e, q, m);
        enterInflight(e, q, m, e->now + visibilityMs);
    } else {
        setTimer(e, m, e->now + visibilityMs);
    }
    emitUntil(e, EFFECT_VIS, q, m, e->now + visibilityMs);
    return QE_OK;
}

size_t enginePeek(engine *e, queue *q, size_t count, int64_t nowMs, message **out) {
    if (nowMs > e->now) e->now = nowMs;
    size_t n = 0;
    if (q->attrs.fifo) {
        for (fifoGroup *g = q->availHead; g && n < count; g = g->availNext)
            for (message *m = g->head; m && n < count && m->state == MSG_READY;
                 m = m->u.fifo.next)
                if (!mustDeadLetter(q, m)) out[n++] = m;
        return n;
    }
    /* The first `count` in delivery order, without taking them. */
    heapIter it;
    heapIterInit(&it, &q->ready);
    message *m;
    while (n < count && (m = heapIterNext(&it)))
        if (!mustDeadLetter(q, m)) out[n++] = m;
    heapIterFree(&it);
    return n;
}

int64_t engineRedrive(engine *e, queue *q, int64_t count, int64_t nowMs) {
    if (nowMs > e->now) e->now = nowMs;
    int64_t moved = 0;
    message *m = q->allHead;
    while (m && moved < count) {
        message *next = m->allNext;
        if (m->state == MSG_READY && m->extra && m->extra->sourceLen) {
            queue *src = engineLookup(e, m->extra->data + m->extra->dedupLen,
                                      m->extra->sourceLen);
            /* A source made again with the other type is not the one it left. */
            if (src && src->attrs.fifo == q->attrs.fifo) {
                char group[QE_NAME_MAX];
                size_t groupLen = 0;
                if (q->attrs.fifo) {
                    groupLen = m->u.fifo.group->nameLen;
                    memcpy(group, m->u.fifo.group->name, groupLen);
                }
                uint64_t oldSeq = m->seq;
                detachMessage(e, q, m);
                setExtra(m, idSeqOf(m), m->extra->data, m->extra->dedupLen, NULL, 0);
                m->seq = e->nextSeq++;
                m->sentMs = e->now;
                m->receives = 0;
                m->firstReceivedMs = 0;
                m->expireMs = src->attrs.retentionMs ? e->now + src->attrs.retentionMs
                                                     : INT64_MAX;
                attachMessage(e, src, m, group, groupLen, e->now);
                moved++;
                if (e->sink) {
                    effect ef = {.type = EFFECT_REDRIVE, .timeMs = e->now, .q = q,
                                 .target = src, .msg = m, .seq = oldSeq};
                    e->sink(e->sinkCtx, &ef);
                }
            }
        }
        m = next;
    }
    return moved;
}

/* ---- Message accessors ---- */

void messageReceipt(const message *m, char *out) {
    writeHex(out, m->seq, 16);
    writeHex(out + 16, m->receives, 8);
    writeHex(out + 24, m->tag, 8);
    out[QE_RECEIPT_LEN] = '\0';
}

const char *messageBody(const message *m, size_t *len) {
    *len = m->bodyLen;
    return m->body;
}

uint32_t messageReceives(const message *m) { return m->receives; }
int32_t messagePriority(const message *m) { return m->priority; }
int64_t messageSentMs(const message *m) { return m->sentMs; }
int64_t messageFirstReceivedMs(const message *m) { return m->firstReceivedMs; }
int64_t messageExpireMs(const message *m) { return m->expireMs; }
uint64_t messageSeq(const message *m) { return m->seq; }

const char *messageGroup(const message *m, size_t *len) {
    if (!m->q || !m->q->attrs.fifo || !m->u.fifo.group) return NULL;
    *len = m->u.fifo.group->nameLen;
    return m->u.fifo.group->name;
}

const char *messageDedupId(const message *m, size_t *len) {
    if (!m->extra || !m->extra->dedupLen) return NULL;
    *len = m->extra->dedupLen;
    return m->extra->data;
}

const char *messageDlqSource(const message *m, size_t *len) {
    if (!m->extra || !m->extra->sourceLen) return NULL;
    *len = m->extra->sourceLen;
    return m->extra->data + m->extra->dedupLen;
}

/* ---- Replay and snapshots ---- */

void messageGetImage(const message *m, messageImage *img) {
    memset(img, 0, sizeof(*img));
    img->seq = m->seq;
    img->idSeq = idSeqOf(m);
    img->sentMs = m->sentMs;
    img->expireMs = m->expireMs;
    img->firstReceivedMs = m->firstReceivedMs;
    img->priority = m->priority;
    img->receives = m->receives;
    img->tag = m->tag;
    /* A delayed or leased message's timer holds the earlier of its state's end
     * and its retention: when retention comes first the message expires then
     * whatever the state's end was, so that is the end worth recording. */
    switch (m->state) {
    case MSG_DELAYED:
        img->state = MSG_STATE_DELAYED;
        img->untilMs = m->timer.node.expiresMs;
        break;
    case MSG_INFLIGHT:
        img->state = MSG_STATE_INFLIGHT;
        img->untilMs = m->timer.node.expiresMs;
        break;
    default:
        img->state = MSG_STATE_READY;
        img->untilMs = -1;
        break;
    }
    img->group = messageGroup(m, &img->groupLen);
    img->dedupId = messageDedupId(m, &img->dedupIdLen);
    img->dlqSource = messageDlqSource(m, &img->dlqSourceLen);
    img->body = m->body;
    img->bodyLen = m->bodyLen;
}

uint32_t engineEpoch(const engine *e) { return e->epoch; }
uint64_t engineNextSeq(const engine *e) { return e->nextSeq; }

/* A replayed seq is taken: the counter must never hand it out again. */
static void seqSeen(engine *e, uint64_t seq) {
    if (seq >= e->nextSeq && seq != UINT64_MAX) e->nextSeq = seq + 1;
}

void engineApplyHeader(engine *e, uint32_t epoch, uint64_t nextSeq) {
    /* Ids embed the epoch, so a loaded message keeps its id only if the engine
     * takes the epoch of the log that holds it. */
    e->epoch = epoch;
    if (nextSeq > e->nextSeq) e->nextSeq = nextSeq;
}

/* The message with this seq if it is in q, else NULL (gone, or elsewhere). */
static message *findInQueue(engine *e, const queue *q, uint64_t seq) {
    indexAllMessages(e);
    message *m = ptableFind(&e->bySeq, ptableHashU64(seq), &seq);
    return m && m->q == q ? m : NULL;
}

static int validState(int state) {
    return state == MSG_STATE_DELAYED || state == MSG_STATE_READY ||
           state == MSG_STATE_INFLIGHT;
}

/* Enters a stateless m into the state a record gives. */
static void enterApplied(engine *e, queue *q, message *m, int state, int64_t untilMs) {
    switch (state) {
    case MSG_STATE_DELAYED:
        enterDelayed(e, q, m, untilMs);
        break;
    case MSG_STATE_INFLIGHT:
        enterInflight(e, q, m, untilMs);
        break;
    default:
        enterReady(e, q, m);
        break;
    }
}

int engineApplyQueue(engine *e, const char *name, size_t len, const queueAttrs *a,
                     int64_t createdMs, int64_t modifiedMs, char *err, size_t errcap) {
    if (!engineValidName(name, len)) {
        snprintf(err, errcap, "invalid queue name");
        return QE_ERR;
    }
    queue *q = engineLookup(e, name, len);
    /* The same rules as QCREATE and QSET: a log the server wrote always passes
     * them, and the engine relies on them (a DLQ of the same type, no cycle). */
    queue *dlq;
    int rc = checkAttrs(e, q, name, len, a, &dlq, err, errcap);
    if (rc != QE_OK) return rc;
    if (!q) {
        q = newQueue(e, name, len, a, dlq, createdMs);
        q->modifiedMs = modifiedMs;
        return QE_OK;
    }
    /* A queue never changes type in place (QSET cannot do it): its messages,
     * groups and dead-letter links are built for the type it has. */
    if (q->attrs.fifo != a->fifo) {
        snprintf(err, errcap, "queue '%.*s' exists as a %s queue", (int)len, name,
                 q->attrs.fifo ? "fifo" : "standard");
        return QE_ERR;
    }
    if (dlq != q->dlq) {
        unlinkDlq(q);
        linkDlq(q, dlq);
    }
    q->attrs = *a;
    if (!a->dlqLen) q->attrs.maxReceives = 0;
    q->createdMs = createdMs;
    q->modifiedMs = modifiedMs;
    /* As after a QSET: a lower MAXRECEIVES may concern a live server's waiters
     * (it settles them itself and logs what moved). */
    signalQueue(e, q);
    return QE_OK;
}

int engineApplyCounters(engine *e, queue *q, const queueInfo *totals) {
    (void)e;
    q->sentTotal = totals->sentTotal;
    q->receivedTotal = totals->receivedTotal;
    q->deletedTotal = totals->deletedTotal;
    q->expiredTotal = totals->expiredTotal;
    q->deadletteredTotal = totals->deadletteredTotal;
    return QE_OK;
}

int engineApplyDrop(engine *e, queue *q) {
    /* FLUSHALL drops queues in reverse name order, so a DLQ may go before the
     * queues naming it (which follow at once). Those forget it entirely, so
     * that no queue is ever left naming a queue that does not exist. */
    while (q->sourceCount) {
        queue *s = q->sources[q->sourceCount - 1];
        unlinkDlq(s);
        s->attrs.dlq[0] = '\0';
        s->attrs.dlqLen = 0;
        s->attrs.maxReceives = 0;
    }
    freeQueue(e, q);
    return QE_OK;
}

int engineApplyPurge(engine *e, queue *q) {
    removeAllMessages(e, q);
    return QE_OK;
}

int engineApplyMessage(engine *e, queue *q, const messageImage *img, int countSend) {
    if (!validState(img->state) || img->bodyLen > UINT32_MAX ||
        img->groupLen > QE_NAME_MAX || img->dedupIdLen > QE_NAME_MAX ||
        img->dlqSourceLen > QE_NAME_MAX)
        return QE_ERR;
    if (q->attrs.fifo ? img->groupLen == 0 : img->groupLen != 0) return QE_ERR;
    /* Applying a message that exists replaces it (idempotent replay). */
    indexAllMessages(e);
    message *old = ptableFind(&e->bySeq, ptableHashU64(img->seq), &img->seq);
    if (old) {
        detachMessage(e, old->q, old);
        freeMessage(old);
    } else if (countSend) {
        q->sentTotal++;
    }
    message *m = memAlloc(sizeof(message) + img->bodyLen);
    memset(m, 0, sizeof(message));
    m->timer.kind = TIMER_MESSAGE;
    m->seq = img->seq;
    m->sentMs = img->sentMs;
    m->expireMs = img->expireMs;
    m->firstReceivedMs = img->firstReceivedMs;
    m->priority = img->priority;
    m->receives = img->receives;
    m->tag = img->tag;
    m->bodyLen = (uint32_t)img->bodyLen;
    if (img->bodyLen) memcpy(m->body, img->body, img->bodyLen);
    if (img->dedupIdLen || img->dlqSourceLen || img->idSeq != img->seq)
        setExtra(m, img->idSeq, img->dedupId, img->dedupIdLen, img->dlqSource,
                 img->dlqSourceLen);
    fifoGroup *g = q->attrs.fifo ? groupGet(q, img->group, img->groupLen) : NULL;
    linkMessage(e, q, m, g);
    enterApplied(e, q, m, img->state, img->untilMs);
    seqSeen(e, img->seq);
    seqSeen(e, img->idSeq);
    return QE_OK;
}

int engineApplyLease(engine *e, queue *q, uint64_t seq, uint32_t receives,
                     uint32_t tag, int64_t firstReceivedMs, int64_t untilMs) {
    message *m = findInQueue(e, q, seq);
    if (!m) return QE_OK; /* gone: a live server's timer got there first */
    /* The steps of lease(), so that a FIFO group leaves the available list
     * exactly as it did on the server that logged this. */
    leaveState(e, q, m);
    m->receives = receives;
    m->tag = tag;
    m->firstReceivedMs = firstReceivedMs;
    enterInflight(e, q, m, untilMs);
    q->receivedTotal++;
    return QE_OK;
}

int engineApplyState(engine *e, queue *q, uint64_t seq, int state, int64_t untilMs) {
    if (!validState(state)) return QE_ERR;
    message *m = findInQueue(e, q, seq);
    if (!m) return QE_OK;
    if (m->state == state) {
        /* A new lease end (QVIS) or delay end moves only the timer, as
         * engineVisibility does; ready again is already done. */
        if (state != MSG_STATE_READY) setTimer(e, m, untilMs);
        return QE_OK;
    }
    leaveState(e, q, m);
    enterApplied(e, q, m, state, untilMs);
    return QE_OK;
}

int engineApplyRemove(engine *e, queue *q, uint64_t seq, int expired) {
    message *m = findInQueue(e, q, seq);
    if (!m) return QE_OK;
    detachMessage(e, q, m);
    if (expired)
        q->expiredTotal++;
    else
        q->deletedTotal++;
    freeMessage(m);
    return QE_OK;
}

int engineApplyMove(engine *e, queue *from, queue *to, uint64_t oldSeq,
                    const messageImage *img, int deadletter) {
    if (!validState(img->state) || img->dlqSourceLen > QE_NAME_MAX) return QE_ERR;
    /* A message keeps its group, which only a queue of the same type has. */
    if (from->attrs.fifo != to->attrs.fifo) return QE_ERR;
    message *m = findInQueue(e, from, oldSeq);
    if (!m) return QE_OK;
    message *other = ptableFind(&e->bySeq, ptableHashU64(img->seq), &img->seq);
    if (other && other != m) return QE_ERR; /* the new seq is another's */
    /* The steps of deadLetter() and engineRedrive(): what the record gives is
     * set, the rest (priority, group, dedup id, body, tag, id) goes along. */
    char group[QE_NAME_MAX];
    size_t groupLen = 0;
    if (from->attrs.fifo) {
        groupLen = m->u.fifo.group->nameLen;
        memcpy(group, m->u.fifo.group->name, groupLen);
    }
    detachMessage(e, from, m);
    const char *dedup = m->extra ? m->extra->data : NULL;
    size_t dedupLen = m->extra ? m->extra->dedupLen : 0;
    setExtra(m, idSeqOf(m), dedup, dedupLen, img->dlqSource, img->dlqSourceLen);
    m->seq = img->seq;
    m->sentMs = img->sentMs;
    m->expireMs = img->expireMs;
    m->receives = img->receives;
    m->firstReceivedMs = img->firstReceivedMs;
    fifoGroup *g = to->attrs.fifo ? groupGet(to, group, groupLen) : NULL;
    linkMessage(e, to, m, g);
    enterApplied(e, to, m, img->state, img->untilMs);
    if (deadletter) from->deadletteredTotal++;
    seqSeen(e, img->seq);
    return QE_OK;
}

int engineApplyDedup(engine *e, queue *q, const char *id, size_t len, uint64_t idSeq,
                     int64_t expiresMs) {
    if (len == 0 || len > QE_NAME_MAX) return QE_ERR;
    nameKey k = {id, len};
    dedupEntry *d = ptableFind(&q->dedup, ptableHashBytes(id, len), &k);
    if (!d) {
        d = memCalloc(sizeof(dedupEntry) + len);
        d->timer.kind = TIMER_DEDUP;
        d->q = q;
        d->len = len;
        memcpy(d->id, id, len);
        ptableAdd(&q->dedup, d);
    }
    /* An entry still here may be one whose window ended before its timer ran:
     * the server that logged this replaced it the same way (engineSend). */
    d->idSeq = idSeq;
    wheelAdd(&e->timers, &d->timer.node, expiresMs);
    seqSeen(e, idSeq);
    return QE_OK;
}

const queue *engineQueueAt(const engine *e, size_t i) {
    return i < e->queueCount ? e->sorted[i] : NULL;
}

const message *queueFirstMessage(const queue *q) { return q->allHead; }

const message *messageNext(const message *m) { return m->allNext; }

void queueForEachMessage(const queue *q, void (*fn)(void *ctx, const message *m),
                         void *ctx) {
    if (!q->attrs.fifo) {
        for (const message *m = q->allHead; m; m = m->allNext) fn(ctx, m);
        return;
    }
    for (const fifoGroup *g = q->availHead; g; g = g->availNext)
        for (const message *m = g->head; m; m = m->u.fifo.next) fn(ctx, m);
    for (const message *m = q->allHead; m; m = m->allNext)
        if (!m->u.fifo.group->available) fn(ctx, m);
}

void queueForEachDedup(const queue *q,
                       void (*fn)(void *ctx, const char *id, size_t len,
                                  uint64_t idSeq, int64_t expiresMs),
                       void *ctx) {
    /* An entry whose window has ended is dead even before its timer runs
     * (engineSend ignores it), so it is not part of the state. */
    for (size_t i = 0; i < q->dedup.size; i++) {
        const dedupEntry *d = q->dedup.slots[i];
        if (!d || d->timer.node.expiresMs <= q->e->now) continue;
        fn(ctx, d->id, d->len, d->idSeq, d->timer.node.expiresMs);
    }
}
