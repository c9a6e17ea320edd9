/* internal.h: the engine's structs, shared by the files of src/engine/ and by
 * nothing outside it (engine.h is the public surface).
 *
 * A message is one allocation: header and body together, with every index it
 * sits in linked through fields inside it (timer node, the queue's list of all
 * messages, the ready heap index or the FIFO group links), so sending a message
 * allocates once and deleting it frees once. Rare metadata (dedup id, the queue
 * it was dead-lettered from, the id of a moved message) lives in `extra`, NULL
 * for most messages.
 *
 * Ordering: `seq` is the message's place in delivery order among equal
 * priorities, unique across the engine, taken from one counter. A send takes the
 * next value; a dead-letter move or a redrive takes a fresh one too, which puts
 * the message behind those already waiting in its new queue. The id keeps the
 * sequence the message was sent with (`extra->idSeq` once it moved). Within a
 * FIFO group, messages are therefore always in ascending seq order (every
 * message joins a group at its tail with a fresh seq), which is what lets a
 * replay rebuild a group from messages given in any order.
 *
 * Replay (the "Replay and snapshots" part of engine.h, in queue.c) sets states
 * through the same enter/leave helpers as the live paths, so every counter and
 * index stays exact; it only skips the decisions (timers, dead-letter rules)
 * that the record already made.
 */
#ifndef RESPQ_ENGINE_INTERNAL_H
#define RESPQ_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "engine/ptable.h"

/* Message states. */
enum { MSG_DELAYED = 1, MSG_READY, MSG_INFLIGHT };

/* Timer kinds (engineTimer.kind). */
enum { TIMER_MESSAGE = 1, TIMER_DEDUP, TIMER_WAITER };

typedef struct fifoGroup fifoGroup;

typedef struct msgExtra {
    uint64_t idSeq;       /* the sequence of the message's id */
    uint16_t dedupLen;    /* bytes of data[] holding the dedup id */
    uint16_t sourceLen;   /* then the dlq_source name; 0 = none */
    char data[];
} msgExtra;

struct message {
    engineTimer timer;       /* the next deadline: delay end, lease end, retention */
    message *allPrev, *allNext; /* the queue's list of every message, by sentMs */
    queue *q;                /* borrowed: the queue holding it */
    uint64_t seq;            /* delivery order among equal priorities; receipts */
    int64_t sentMs;
    int64_t expireMs;        /* retention deadline, INT64_MAX for none */
    int64_t firstReceivedMs; /* 0 until the first delivery */
    union {
        uint32_t heapIdx;    /* standard queue, READY: index in q->ready */
        struct {
            message *prev, *next; /* the group's messages, in send order */
            fifoGroup *group;     /* borrowed: owned by the queue */
        } fifo;
    } u;
    msgExtra *extra;         /* owned, or NULL */
    int32_t priority;
    uint32_t receives;
    uint32_t tag;            /* random per delivery: part of the receipt */
    uint32_t bodyLen;
    uint8_t state;           /* MSG_* */
    char body[];
};

/* Ready messages of a standard queue, highest priority first, then lowest seq:
 * a "run" (a ring of messages of one priority in rising seq, as QSEND makes
 * them) and a binary heap for the rest (other priorities, leases that ran out,
 * delays that ended). The next message is the better of the run's head and the
 * heap's top, so the common send-then-receive path costs O(1) and touches one
 * message, where a heap pop walks log n messages scattered in memory (34% of
 * the server's CPU receiving from a queue of 1M). pheap.c has the details. */
typedef struct readyHeap {
    message **items;     /* owned: the binary heap */
    uint32_t count;      /* messages in the heap */
    uint32_t cap;
    message **run;       /* owned: ring of runCap slots; NULL = removed */
    uint32_t runHead;    /* position of the first slot (a live one, or runEnd) */
    uint32_t runEnd;     /* position after the last slot */
    uint32_t runCap;     /* a power of two, or 0 */
    uint32_t runLive;    /* messages in the run */
    int32_t runPriority; /* of every message in the run */
    uint64_t runLastSeq; /* seq of the message appended last */
} readyHeap;

void heapPush(readyHeap *h, message *m);
message *heapTop(const readyHeap *h);
message *heapPop(readyHeap *h);
void heapRemove(readyHeap *h, message *m);
void heapFree(readyHeap *h);
uint32_t heapCount(const readyHeap *h); /* ready messages, run and heap */

/* Walks the ready messages in delivery order without removing them. */
typedef struct heapIter {
    const readyHeap *h;
    uint32_t runPos;     /* next run position to look at */
    uint32_t *frontier;  /* owned: heap indices that may come next */
    size_t fcount, fcap;
} heapIter;
void heapIterInit(heapIter *it, const readyHeap *h);
message *heapIterNext(heapIter *it); /* NULL at the end */
void heapIterFree(heapIter *it);
int heapBefore(const message *a, const message *b); /* a delivered before b */

/* A FIFO message group. Invariant: while nothing of the group is in flight, its
 * list is READY messages then DELAYED ones (delays in a group never end out of
 * send order: a message's visible time is at least its predecessor's), so the
 * receivable messages are exactly the first `ready` of the list. */
struct fifoGroup {
    message *head, *tail;    /* the group's messages, in send order */
    int64_t ready, inflight, delayed;
    fifoGroup *availPrev, *availNext; /* q's available groups, when listed */
    int available;           /* in q's available list */
    size_t nameLen;
    char name[];
};

typedef struct dedupEntry {
    engineTimer timer;       /* expiry, QE_DEDUP_WINDOW_MS after the first send */
    queue *q;
    uint64_t idSeq;          /* the first message's id */
    size_t len;
    char id[];
} dedupEntry;

struct queue {
    engine *e;               /* borrowed: the engine holding it (ids need its epoch) */
    queueAttrs attrs;
    queue *dlq;              /* borrowed: resolved attrs.dlq, NULL for none */
    queue **sources;         /* owned array of borrowed queues whose DLQ is this,
                                sorted by name */
    size_t sourceCount, sourceCap;
    int64_t createdMs, modifiedMs;

    message *allHead, *allTail; /* every message, oldest sentMs first */
    int64_t held;            /* messages in any state */
    int64_t inflight, delayed;
    readyHeap ready;         /* standard queues */
    ptable groups;           /* FIFO: fifoGroup by name */
    fifoGroup *availHead, *availTail; /* FIFO: groups with receivable messages */
    int64_t fifoReceivable;  /* sum of `ready` of available groups */
    int64_t fifoBlocked;     /* sum of `ready` of groups with something in flight */
    ptable dedup;            /* dedupEntry by id */

    int64_t sentTotal, receivedTotal, deletedTotal, expiredTotal, deadletteredTotal;

    engineWaiter *waitHead, *waitTail;
    queue *signalNext;       /* engine's list of queues to serve waiters of */
    int signaled;

    size_t nameLen;
    char name[QE_NAME_MAX + 1];
};

struct engine {
    ptable queues;           /* by name */
    queue **sorted;          /* owned array of borrowed queues, by name (QSCAN) */
    size_t queueCount, sortedCap;
    int indexAll;            /* bySeq holds every message, not only delivered ones
                                (while replaying: see queue.c) */
    ptable bySeq;            /* messages by seq: the delivered ones (receipts find
                                their message in O(1)), or all while indexAll */
    wheel timers;
    uint64_t nextSeq;
    uint32_t epoch;
    uint64_t rng;            /* xorshift state for receipt tags */
    int64_t now;
    queue *signalHead;       /* queues whose waiters may be served */
    effectSinkProc *sink;
    void *sinkCtx;
    waiterDoneProc *waiterDone;
    void *waiterCtx;
    /* totals of dropped queues are not kept: INFO sums queues that exist */
};

#endif
