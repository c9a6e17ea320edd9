/* engine.h: the queue engine's public surface: queues with SQS semantics plus
 * priorities, as a library.
 *
 * The engine knows nothing of sockets, RESP or files, and has no clock: every call
 * takes `nowMs` (Unix milliseconds), so it is deterministic and unit-testable with
 * a simulated clock. Time-driven work (delays ending, leases ending, retention,
 * the dedup window, long-poll timeouts) happens in engineAdvance, which the caller
 * runs before each command and whenever engineNextDeadline says.
 *
 * Every change of state is also reported as an effect record to the sink set with
 * engineSetEffectSink: that is what the append-only file stores and what a replica
 * would apply. Long polling is expressed with waiters: the caller parks a waiter on
 * a queue; engineServeWaiters hands each one back (in arrival order) when the queue
 * has something receivable, or when its deadline passes or its queue is dropped.
 *
 * Ownership: the engine owns queues and messages. Pointers to messages returned by
 * engineReceive/enginePeek stay valid until the next engine call that changes state
 * (format the reply first). Waiters belong to the caller and are only linked here.
 */
#ifndef RESPQ_ENGINE_H
#define RESPQ_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/wheel.h"

typedef struct engine engine;
typedef struct queue queue;
typedef struct message message;

/* Status codes of engine calls. Calls that can fail write a message naming the
 * argument into the caller's error buffer (text after the code, e.g. for QE_ERR
 * "DELAY must be shorter than RETENTION"). */
enum {
    QE_OK = 0,
    QE_ERR,         /* refused argument: reply -ERR <text> */
    QE_NOQUEUE,     /* the queue (or named DLQ) does not exist: -NOQUEUE <text> */
    QE_EXISTS,      /* QCREATE of an existing queue with other attributes */
    QE_INUSE,       /* QDROP of a queue that is another's dead-letter queue */
    QE_TOOBIG,      /* body larger than MAXSIZE */
    QE_FULL,        /* MAXDEPTH reached */
    QE_OOM,         /* the caller said memory is full */
    QE_DUPLICATE,   /* QSEND within the dedup window: the first id is returned */
    QE_BADRECEIPT,  /* QVIS with a stale or unknown receipt */
};

#define QE_NAME_MAX 128      /* queue names, groups, dedup ids */
#define QE_ID_LEN 24         /* message ids: 8 hex of epoch + 16 hex of sequence */
#define QE_RECEIPT_LEN 32    /* receipts: 16 hex sequence, 8 receives, 8 tag */
#define QE_DEDUP_WINDOW_MS (5 * 60 * 1000)
#define QE_MAX_RECEIVES_MAX 1000

/* Queue attributes. A QCREATE starts from queueAttrsDefaults and changes what it
 * names; QINFO reads them back. */
typedef struct queueAttrs {
    int64_t visibilityMs; /* 0 - 43200000 */
    int64_t delayMs;      /* 0 - 31536000000, < retentionMs when retention > 0 */
    int64_t retentionMs;  /* 0 (forever) or 1000 - 31536000000 */
    int64_t waitMs;       /* 0 - 43200000 */
    int64_t maxSize;      /* bytes, 1 - proto-max-bulk-len */
    int64_t maxDepth;     /* 0 = no limit */
    char dlq[QE_NAME_MAX + 1]; /* dead-letter queue name, "" for none */
    size_t dlqLen;
    int maxReceives;      /* 1 - 1000 with a DLQ, 0 without */
    int fifo;
    int contentDedup;
} queueAttrs;

void queueAttrsDefaults(queueAttrs *a);

/* Bits of queueAttrs that a QSET changes (others are left as they are). */
#define QA_VISIBILITY (1u << 0)
#define QA_DELAY (1u << 1)
#define QA_RETENTION (1u << 2)
#define QA_WAIT (1u << 3)
#define QA_MAXSIZE (1u << 4)
#define QA_MAXDEPTH (1u << 5)
#define QA_DLQ (1u << 6)   /* dlq + maxReceives */
#define QA_NODLQ (1u << 7) /* remove the DLQ */

/* Counters and state of one queue, for QINFO and INFO. */
typedef struct queueInfo {
    int64_t createdMs, modifiedMs;
    int64_t ready, inflight, delayed, blocked;
    int64_t oldestSentMs; /* 0 when empty */
    int64_t sentTotal, receivedTotal, deletedTotal, expiredTotal, deadletteredTotal;
} queueInfo;

/* Options of one QSEND. */
typedef struct sendOptions {
    int32_t priority;
    int64_t delayMs;        /* -1: the queue's DELAY */
    const char *group;      /* NULL: none */
    size_t groupLen;
    const char *dedupId;    /* NULL: none (or CONTENTDEDUP) */
    size_t dedupIdLen;
    int memoryFull;         /* the caller's maxmemory check: QE_OOM after dedup/FULL */
} sendOptions;

/* ---- Effects: each change of state, as the AOF will store it ---- */

enum {
    EFFECT_QCREATE = 1, /* queue, attrs, timeMs (created) */
    EFFECT_QSET,        /* queue, attrs (the whole new set), timeMs (modified) */
    EFFECT_QDROP,       /* queue */
    EFFECT_QPURGE,      /* queue, timeMs */
    EFFECT_SEND,        /* queue, msg (seq, priority, group, dedup, times, body) */
    EFFECT_LEASE,       /* queue, msg: receives, tag, lease end (untilMs) */
    EFFECT_VIS,         /* queue, msg: new lease end (untilMs) */
    EFFECT_RETURN,      /* queue, msg: lease ended, ready again */
    EFFECT_VISIBLE,     /* queue, msg: delay ended */
    EFFECT_DELETE,      /* queue, msg */
    EFFECT_EXPIRE,      /* queue, msg: retention */
    EFFECT_DEADLETTER,  /* queue (source), target, msg (with its new order seq) */
    EFFECT_REDRIVE,     /* queue (DLQ), target (source), msg */
    EFFECT_DEDUP,       /* queue, dedupId, seq of first message, timeMs */
};

typedef struct effect {
    int type;
    int64_t timeMs;         /* the engine's now when it happened */
    const queue *q;
    const queue *target;    /* DEADLETTER/REDRIVE: the queue the message went to */
    const message *msg;     /* SEND ... REDRIVE: the message (after the change) */
    int64_t untilMs;        /* LEASE/VIS: lease end; SEND: visible-at */
    const char *dedupId;    /* DEDUP */
    size_t dedupIdLen;
    uint64_t seq;           /* DEDUP: the first message's sequence; DEADLETTER,
                               REDRIVE: the message's sequence before the move */
} effect;

typedef void effectSinkProc(void *ctx, const effect *e);

/* A wheel node that knows what it belongs to, so that one timer wheel serves
 * messages, dedup entries and waiters. */
typedef struct engineTimer {
    wheelNode node;
    uint8_t kind; /* queue.c's TIMER_* */
} engineTimer;

/* ---- Long polling ---- */

enum { WAIT_READY = 1, WAIT_TIMEOUT, WAIT_DROPPED };

typedef struct engineWaiter {
    /* set by the caller */
    void *owner;              /* borrowed: the client */
    int count;                /* QRECV COUNT */
    int64_t visibilityMs;     /* -1: the queue's */
    int withMeta;
    /* engine-private */
    struct engineWaiter *prev, *next; /* the queue's waiters, arrival order */
    queue *q;                 /* NULL when not parked */
    engineTimer timer;        /* the deadline */
} engineWaiter;

/* Called by engineServeWaiters and engineAdvance for each waiter done (already
 * unparked). With WAIT_READY the queue has something receivable: the callback
 * calls engineReceive (the only engine call allowed inside it) and replies. With
 * WAIT_TIMEOUT / WAIT_DROPPED, q may be NULL or being dropped: reply only.
 * The callback must not run other commands synchronously (no re-entry into the
 * engine): a client's pipelined input behind the QRECV is resumed later, e.g.
 * from a list of unblocked clients handled before the loop sleeps. */
typedef void waiterDoneProc(void *ctx, engineWaiter *w, queue *q, int why);

/* ---- Engine ---- */

/* Creates an engine whose message ids start with `epoch` (8 hex digits: a
 * per-data-directory value, so ids from another server continuing the log stay
 * unique). Caller frees with engineFree. */
engine *engineCreate(uint32_t epoch, int64_t nowMs);

/* Reads `digits` lower-case hex digits at p (the form of ids, receipts and the
 * id epoch) into *out. 1, or 0 when one is not a hex digit. */
int engineParseHex(const char *p, int digits, uint64_t *out);
void engineFree(engine *e);
void engineSetEffectSink(engine *e, effectSinkProc *proc, void *ctx);
void engineSetWaiterDone(engine *e, waiterDoneProc *proc, void *ctx);

/* Runs every timer due at nowMs. Cheap when nothing is due. */
void engineAdvance(engine *e, int64_t nowMs);
/* When engineAdvance must next run: never later than the earliest deadline,
 * possibly earlier (the timer wheel then only moves timers down a level);
 * nowMs while waiters are to be served; INT64_MAX if nothing is scheduled. */
int64_t engineNextDeadline(engine *e);
/* Hands back parked waiters whose queue has receivable messages (WAIT_READY), in
 * arrival order per queue, until no more can be served. */
void engineServeWaiters(engine *e, int64_t nowMs);

/* ---- Queues ---- */

/* Validates a name (1-128 bytes of A-Z a-z 0-9 _ - . : { }). */
int engineValidName(const char *name, size_t len);
queue *engineLookup(engine *e, const char *name, size_t len);
const char *queueName(const queue *q, size_t *len);
const queueAttrs *queueGetAttrs(const queue *q);
void queueGetInfo(const queue *q, int64_t nowMs, queueInfo *out);
/* Number of queues whose DLQ is q, and the i-th in name order. */
size_t queueDlqSourceCount(const queue *q);
const queue *queueDlqSource(const queue *q, size_t i);
size_t engineQueueCount(const engine *e);
/* Totals over every queue (INFO's queue section). */
void engineTotals(const engine *e, queueInfo *out, int64_t *queues);

/* Creates a queue (QCREATE). QE_OK when created or when it exists with the same
 * attributes; QE_EXISTS; QE_NOQUEUE (the DLQ); QE_ERR (DLQ of another type, or a
 * range rule). err gets the text. */
int engineCreateQueue(engine *e, const char *name, size_t len, const queueAttrs *a,
                      int64_t nowMs, char *err, size_t errcap);
/* Changes the attributes named by `changed` (QA_*), all or nothing. */
int engineSetQueue(engine *e, queue *q, const queueAttrs *a, unsigned changed,
                   int64_t nowMs, char *err, size_t errcap);
/* Drops a queue: QE_OK (dropped; waiters get WAIT_DROPPED), QE_NOQUEUE (none),
 * QE_INUSE (err names the first source in name order). */
int engineDropQueue(engine *e, const char *name, size_t len, int64_t nowMs,
                    char *err, size_t errcap);
int64_t enginePurgeQueue(engine *e, queue *q, int64_t nowMs);
void engineDropAll(engine *e, int64_t nowMs);

/* QSCAN: visits up to `count` queues in name order from the cursor (a string the
 * engine gave; "0" starts), storing those that `match` accepts (match NULL =
 * all) in out. Writes the next cursor ("0" when done) into nextCursor (at least
 * QE_CURSOR_MAX bytes). Returns the number stored, or (size_t)-1 when the cursor
 * is not one the engine could have given (reply "-ERR invalid cursor"). */
#define QE_CURSOR_MAX (QE_NAME_MAX * 2 + 4)
size_t engineScan(engine *e, const char *cursor, size_t cursorLen,
                  int (*match)(void *ctx, const char *name, size_t len), void *ctx,
                  size_t count, const queue **out, char *nextCursor);

/* ---- Messages ---- */

/* QSEND. On QE_OK or QE_DUPLICATE, idOut (QE_ID_LEN+1 bytes) holds the id. */
int engineSend(engine *e, queue *q, const char *body, size_t len,
               const sendOptions *o, int64_t nowMs, char *idOut, char *err,
               size_t errcap);
/* QRECV: leases up to count ready messages (dead-lettering those past
 * MAXRECEIVES on the way). visibilityMs -1 = the queue's. Returns how many were
 * stored in out. */
size_t engineReceive(engine *e, queue *q, size_t count, int64_t visibilityMs,
                     int64_t nowMs, message **out);
/* QDEL of one receipt: 1 deleted, 0 stale or unknown. */
int engineDelete(engine *e, queue *q, const char *receipt, size_t len, int64_t nowMs);
/* QVIS: QE_OK or QE_BADRECEIPT. */
int engineVisibility(engine *e, queue *q, const char *receipt, size_t len,
                     int64_t visibilityMs, int64_t nowMs);
/* QPEEK: what a QRECV would receive now, in order, without leasing. */
size_t enginePeek(engine *e, queue *q, size_t count, int64_t nowMs, message **out);
/* QREDRIVE: moves up to count dead-lettered ready messages back; returns moved. */
int64_t engineRedrive(engine *e, queue *q, int64_t count, int64_t nowMs);
/* Number of messages a QRECV could receive now (QLEN). */
int64_t queueReceivable(const queue *q);

/* Parks a waiter on q until deadlineMs; it comes back through the waiterDone
 * callback. */
void engineWaitPark(engine *e, queue *q, engineWaiter *w, int64_t deadlineMs);
/* Unparks (client gone): no callback. No-op when not parked. */
void engineWaitCancel(engine *e, engineWaiter *w);

/* Message accessors, for replies and the AOF. */
void messageId(const message *m, char *out);      /* QE_ID_LEN chars + NUL */
void messageReceipt(const message *m, char *out); /* QE_RECEIPT_LEN chars + NUL */
const char *messageBody(const message *m, size_t *len);
uint32_t messageReceives(const message *m);
int32_t messagePriority(const message *m);
int64_t messageSentMs(const message *m);
int64_t messageFirstReceivedMs(const message *m); /* 0 if never received */
int64_t messageExpireMs(const message *m);        /* INT64_MAX: no retention */
const char *messageGroup(const message *m, size_t *len);   /* NULL if none */
const char *messageDedupId(const message *m, size_t *len); /* NULL if none */
const char *messageDlqSource(const message *m, size_t *len); /* NULL if none */
uint64_t messageSeq(const message *m);

/* ---- Replay and snapshots (the append-only file) ---- */

/* The whole state of one message, as a rewrite writes it and a replay applies
 * it. Strings are borrowed. */
typedef struct messageImage {
    uint64_t seq, idSeq;
    int64_t sentMs, expireMs;   /* expireMs INT64_MAX: no retention */
    int64_t firstReceivedMs;    /* 0: never received */
    int32_t priority;
    uint32_t receives, tag;
    int state;                  /* MSG_STATE_* */
    int64_t untilMs;            /* delay or lease end; ignored when ready */
    const char *group, *dedupId, *dlqSource; /* NULL or with their lengths */
    size_t groupLen, dedupIdLen, dlqSourceLen;
    const char *body;
    size_t bodyLen;
} messageImage;

enum { MSG_STATE_DELAYED = 1, MSG_STATE_READY, MSG_STATE_INFLIGHT };

/* Fills img from m (strings point into m; valid while m is). */
void messageGetImage(const message *m, messageImage *img);

/* Apply functions replay records: they set state as the record says, with no
 * checks beyond what keeps the engine consistent, fire no timers, and emit no
 * effects. Each returns QE_OK, or QE_NOQUEUE / QE_ERR (with err) when the record
 * cannot apply (an unknown queue, a message that is gone: callers replaying into
 * a live server treat a gone message as already done). */
void engineApplyHeader(engine *e, uint32_t epoch, uint64_t nextSeq);
/* After loading: drops the index of never-delivered messages that replaying
 * needed (a live engine finds messages by receipt only). */
void engineReplayDone(engine *e);
uint32_t engineEpoch(const engine *e);
uint64_t engineNextSeq(const engine *e);
int engineApplyQueue(engine *e, const char *name, size_t len, const queueAttrs *a,
                     int64_t createdMs, int64_t modifiedMs, char *err, size_t errcap);
int engineApplyCounters(engine *e, queue *q, const queueInfo *totals);
int engineApplyDrop(engine *e, queue *q);
int engineApplyPurge(engine *e, queue *q);
/* Creates or replaces a message of q; countSend adds it to sent_total. */
int engineApplyMessage(engine *e, queue *q, const messageImage *img, int countSend);
/* A delivery: receives, tag, first-received, lease end; counts received_total. */
int engineApplyLease(engine *e, queue *q, uint64_t seq, uint32_t receives,
                     uint32_t tag, int64_t firstReceivedMs, int64_t untilMs);
int engineApplyState(engine *e, queue *q, uint64_t seq, int state, int64_t untilMs);
int engineApplyRemove(engine *e, queue *q, uint64_t seq, int expired);
/* Moves message oldSeq of `from` into `to` with the image's new fields
 * (seq, times, receives, dlq source, state); deadletter counts in from's
 * deadlettered_total. */
int engineApplyMove(engine *e, queue *from, queue *to, uint64_t oldSeq,
                    const messageImage *img, int deadletter);
int engineApplyDedup(engine *e, queue *q, const char *id, size_t len, uint64_t idSeq,
                     int64_t expiresMs);

/* Snapshot iteration, for a rewrite: queues in name order, each queue's messages
 * oldest first, each queue's dedup entries still in their window. */
const queue *engineQueueAt(const engine *e, size_t i); /* i < engineQueueCount */
const message *queueFirstMessage(const queue *q);
const message *messageNext(const message *m);
/* Every message of q in replay order: oldest first, except that a FIFO queue
 * gives first the messages of its available groups, group by group in the order
 * they are served, so that replaying them rebuilds that order. */
void queueForEachMessage(const queue *q, void (*fn)(void *ctx, const message *m),
                         void *ctx);
void queueForEachDedup(const queue *q,
                       void (*fn)(void *ctx, const char *id, size_t len,
                                  uint64_t idSeq, int64_t expiresMs),
                       void *ctx);

#endif
