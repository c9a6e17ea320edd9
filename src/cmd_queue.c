/* cmd_queue.c: the queue commands of the contract (QCREATE ... QREDRIVE), the
 * long-poll glue between blocked clients and the engine, and the queue parts of
 * INFO, DBSIZE and FLUSHALL.
 *
 * What it owns: turning argv into engine calls and engine results into replies.
 * The engine (src/engine/) owns every queue and message and knows no client, no
 * RESP and no clock; this file is the one place that knows both sides. Each
 * handler runs the same steps, in the order the contract fixes for errors:
 *
 *   1. engineAdvance to now, so timers due before the command (lease ends,
 *      delays, retention, dedup window) have happened when it looks;
 *   2. the queue name's syntax (-ERR invalid queue name), then its existence
 *      (-NOQUEUE), except QCREATE and QDROP, which do not need the queue;
 *   3. the options, parsed against a small table per command, so every option
 *      is case-insensitive, may come in any order and may be given once;
 *   4. the checks that need the queue (FIFO or standard, MAXSIZE) with the
 *      contract's texts, then the engine call, whose status becomes the error
 *      code (-EXISTS, -INUSE, -FULL, -OOM, -BADRECEIPT ...).
 *
 * Long polling: a QRECV that finds nothing and may wait parks the client's own
 * engineWaiter on the queue and flags the client CLIENT_BLOCKED; net.c then
 * buffers its input without running it. The engine hands the waiter back through
 * queueWaiterDone (ready, timed out or queue dropped), which replies and puts the
 * client on net.c's resume list. The client's pipelined commands run from that
 * list in queueBeforeSleep, never from inside the callback: the callback runs
 * inside an engine call (engineServeWaiters, engineAdvance, engineDropQueue), and
 * a command run there (a QDROP of the queue being served) would re-enter the
 * engine under its feet.
 *
 * Costs: option parsing is a linear scan of a table of at most ten names per
 * argument, with no allocation. Replies are formatted straight from the engine's
 * messages (valid until the next engine call that changes state), so a message is
 * never copied here. Only QSCAN allocates (its result array, freed before it
 * returns).
 */
#include "server.h"

#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

#include "aof.h"
#include "commands.h"

#define MAX_COUNT 1000                   /* QRECV and QPEEK COUNT */
#define LEASE_MAX_MS (43200LL * 1000)    /* VISIBILITY, WAIT, QVIS: 12 hours */
#define DELAY_MAX_MS (31536000LL * 1000) /* DELAY and RETENTION: 365 days */
#define ENGINE_ERR_CAP 256

/* ---- Clock ---- */

/* The last time given to the engine. The engine's timers assume time never goes
 * back, but the wall clock can be stepped back (NTP, an operator): then the
 * engine's clock holds still until the wall clock catches up. */
static int64_t clockMs;

static int64_t queueClock(void) {
    int64_t now = unixTimeMs();
    if (now < clockMs) now = clockMs;
    clockMs = now;
    return now;
}

/* Step 1 of every handler: timers due by now have run before the command looks
 * at a queue. Returns now. */
static int64_t engineNow(void) {
    int64_t now = queueClock();
    engineAdvance(server.engine, now);
    return now;
}

/* ---- Error texts ---- */

/* Bytes of a client-supplied value shown in an error text: longer values are cut
 * and end in "...", so one error line stays readable and within
 * addReplyErrorFormat's buffer. Escaped, a shown byte takes up to 4 characters. */
#define ESC_SHOWN 128
#define ESC_CAP (ESC_SHOWN * 4 + 8)

/* Writes p[0..n) escaped for an error text (see escapeForError) into out, which
 * has ESC_CAP bytes. Returns out. */
static const char *esc(char *out, const char *p, size_t n) {
    escapeForError(out, ESC_CAP, p, n > ESC_SHOWN ? ESC_SHOWN : n);
    if (n > ESC_SHOWN) strcat(out, "...");
    return out;
}

static const char *escArg(char *out, const respArg *a) {
    return esc(out, a->ptr, a->len);
}

static void replyNoQueue(client *c, const char *name, size_t len) {
    char e[ESC_CAP];
    addReplyErrorFormat(c, "NOQUEUE no such queue '%s'", esc(e, name, len));
}

/* Step 2: the name's syntax. Replies and returns 0 when it is not a valid name. */
static int checkName(client *c, const respArg *name) {
    if (engineValidName(name->ptr, name->len)) return 1;
    char e[ESC_CAP];
    addReplyErrorFormat(c, "ERR invalid queue name '%s'", escArg(e, name));
    return 0;
}

/* Step 2 for commands on an existing queue: syntax, then existence. Returns the
 * queue, or NULL after replying. */
static queue *lookupOrReply(client *c, const respArg *name) {
    if (!checkName(c, name)) return NULL;
    queue *q = engineLookup(server.engine, name->ptr, name->len);
    if (!q) replyNoQueue(c, name->ptr, name->len);
    return q;
}

/* A refusal from the engine whose text the contract leaves to the engine (a range
 * rule such as DELAY against RETENTION): "<CODE> <engine text>". */
static void replyEngineError(client *c, int rc, const char *err) {
    static const char *const codes[] = {
        [QE_ERR] = "ERR",     [QE_NOQUEUE] = "NOQUEUE",       [QE_EXISTS] = "EXISTS",
        [QE_INUSE] = "INUSE", [QE_TOOBIG] = "TOOBIG",         [QE_FULL] = "FULL",
        [QE_OOM] = "OOM",     [QE_BADRECEIPT] = "BADRECEIPT",
    };
    const char *code = "ERR";
    if (rc >= 0 && (size_t)rc < sizeof(codes) / sizeof(codes[0]) && codes[rc])
        code = codes[rc];
    addReplyErrorFormat(c, "%s %s", code, err[0] ? err : "the queue engine refused it");
}

/* ---- Values ---- */

/* A duration: exactly [0-9]+ optionally followed by '.' and 1 to 3 digits, in
 * milliseconds. Returns 0 for anything else. A value too large for any range is
 * returned as LLONG_MAX rather than refused here, so the caller's range check
 * reports it as out of range. */
static int parseDurationMs(const char *p, size_t n, long long *ms) {
    size_t i = 0;
    long long sec = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        if (sec < 1000000000000LL) sec = sec * 10 + (p[i] - '0');
        i++;
    }
    if (i == 0) return 0;
    long long frac = 0;
    if (i < n) {
        if (p[i] != '.') return 0;
        size_t digits = n - i - 1;
        if (digits < 1 || digits > 3) return 0;
        for (i++; i < n; i++) {
            if (p[i] < '0' || p[i] > '9') return 0;
            frac = frac * 10 + (p[i] - '0');
        }
        for (; digits < 3; digits++)
            frac *= 10;
    }
    *ms = sec >= 1000000000000LL ? LLONG_MAX : sec * 1000 + frac;
    return 1;
}

/* A duration argument in [minMs, maxMs] (and 0 when zeroOk, RETENTION's "0, or
 * 1 - 31536000"). Replies and returns 0 when it is not; `what` names it. */
static int checkDuration(client *c, const char *what, const respArg *a, long long minMs,
                         long long maxMs, int zeroOk, long long *out) {
    long long ms;
    if (parseDurationMs(a->ptr, a->len, &ms) &&
        ((ms >= minMs && ms <= maxMs) || (zeroOk && ms == 0))) {
        *out = ms;
        return 1;
    }
    char e[ESC_CAP], range[64];
    if (zeroOk)
        snprintf(range, sizeof(range), "0, or %lld - %lld", minMs / 1000, maxMs / 1000);
    else
        snprintf(range, sizeof(range), "%lld - %lld", minMs / 1000, maxMs / 1000);
    addReplyErrorFormat(c,
                        "ERR invalid %s '%s': a duration in seconds with at most 3 "
                        "decimals, %s",
                        what, escArg(e, a), range);
    return 0;
}

/* An integer argument in [min, max]. Replies and returns 0 when it is not. */
static int checkInt(client *c, const char *what, const respArg *a, long long min,
                    long long max, long long *out) {
    long long v;
    if (argToLongLong(a, &v) && v >= min && v <= max) {
        *out = v;
        return 1;
    }
    char e[ESC_CAP];
    addReplyErrorFormat(c, "ERR invalid %s '%s': an integer, %lld - %lld", what,
                        escArg(e, a), min, max);
    return 0;
}

/* ---- Options ---- */

/* Kinds of option, each with its own value grammar. */
enum {
    OPT_DURATION,  /* seconds with up to 3 decimals, stored in ms, in [min, max] */
    OPT_RETENTION, /* as OPT_DURATION, or 0 */
    OPT_INT,       /* an integer in [min, max] (max OPT_MAX_BULK: proto-max-bulk-len) */
    OPT_TEXT,      /* 1 - QE_NAME_MAX bytes (GROUP, DEDUPID) */
    OPT_PATTERN,   /* any bytes (MATCH) */
    OPT_FLAG,      /* no value (FIFO, WITHMETA, NODLQ) */
    OPT_DLQ,       /* DLQ name MAXRECEIVES n: one option in three arguments */
    OPT_FIXED,     /* known but refused: FIFO and CONTENTDEDUP in QSET */
};

/* As `max` of MAXSIZE: the proto-max-bulk-len of the moment (CONFIG SET changes it). */
#define OPT_MAX_BULK -1
#define MAX_OPTS 12

typedef struct optSpec {
    const char *name; /* upper case: errors name the option this way */
    int kind;         /* OPT_* */
    long long min, max;
} optSpec;

typedef struct optValues {
    unsigned given;          /* bit i: specs[i] was given */
    long long num[MAX_OPTS]; /* durations (ms), integers, DLQ's MAXRECEIVES */
    respArg str[MAX_OPTS];   /* OPT_TEXT, OPT_PATTERN, and the DLQ's name */
} optValues;

#define GIVEN(v, i) (((v)->given >> (i)) & 1u)

/* QCREATE's options and QSET's share their indexes; QSET adds NODLQ and refuses
 * FIFO and CONTENTDEDUP with a reason instead of calling them unknown. */
enum {
    QO_VISIBILITY,
    QO_DELAY,
    QO_RETENTION,
    QO_MAXSIZE,
    QO_WAIT,
    QO_MAXDEPTH,
    QO_DLQ,
    QO_FIFO,
    QO_CONTENTDEDUP,
    QO_NODLQ,
};

/* The attributes QCREATE and QSET share, in the QO_ order. */
#define QUEUE_ATTR_OPTS \
    {"VISIBILITY", OPT_DURATION, 0, LEASE_MAX_MS}, \
    {"DELAY", OPT_DURATION, 0, DELAY_MAX_MS}, \
    {"RETENTION", OPT_RETENTION, 1000, DELAY_MAX_MS}, \
    {"MAXSIZE", OPT_INT, 1, OPT_MAX_BULK}, \
    {"WAIT", OPT_DURATION, 0, LEASE_MAX_MS}, \
    {"MAXDEPTH", OPT_INT, 0, LLONG_MAX}, \
    {"DLQ", OPT_DLQ, 1, QE_MAX_RECEIVES_MAX}

static const optSpec qcreateOpts[] = {
    QUEUE_ATTR_OPTS,
    {"FIFO", OPT_FLAG, 0, 0},
    {"CONTENTDEDUP", OPT_FLAG, 0, 0},
};

static const optSpec qsetOpts[] = {
    QUEUE_ATTR_OPTS,
    {"FIFO", OPT_FIXED, 0, 0},
    {"CONTENTDEDUP", OPT_FIXED, 0, 0},
    {"NODLQ", OPT_FLAG, 0, 0},
};

enum { SO_PRIORITY, SO_DELAY, SO_GROUP, SO_DEDUPID };
static const optSpec qsendOpts[] = {
    {"PRIORITY", OPT_INT, INT32_MIN, INT32_MAX},
    {"DELAY", OPT_DURATION, 0, DELAY_MAX_MS},
    {"GROUP", OPT_TEXT, 0, 0},
    {"DEDUPID", OPT_TEXT, 0, 0},
};

enum { RO_COUNT, RO_VISIBILITY, RO_WAIT, RO_WITHMETA };
static const optSpec qrecvOpts[] = {
    {"COUNT", OPT_INT, 1, MAX_COUNT},
    {"VISIBILITY", OPT_DURATION, 0, LEASE_MAX_MS},
    {"WAIT", OPT_DURATION, 0, LEASE_MAX_MS},
    {"WITHMETA", OPT_FLAG, 0, 0},
};

enum { CO_COUNT };
static const optSpec qpeekOpts[] = {{"COUNT", OPT_INT, 1, MAX_COUNT}};
static const optSpec qredriveOpts[] = {{"COUNT", OPT_INT, 1, INT32_MAX}};

enum { SC_MATCH, SC_COUNT };
static const optSpec qscanOpts[] = {
    {"MATCH", OPT_PATTERN, 0, 0},
    {"COUNT", OPT_INT, 1, INT32_MAX},
};

#define NOPTS(t) ((int)(sizeof(t) / sizeof((t)[0])))

static int hasDlqOption(const optSpec *specs, int nspecs) {
    for (int k = 0; k < nspecs; k++)
        if (specs[k].kind == OPT_DLQ) return 1;
    return 0;
}

/* Parses c->argv[start..] against specs into v. Every option may be given once:
 * a repeated one is an error rather than "the last wins", since a second value
 * is far more often a mistake (a pasted line, a mixed-up name) than an intent.
 * Replies and returns 0 at the first bad argument. */
static int parseOptions(client *c, int start, const optSpec *specs, int nspecs,
                        optValues *v) {
    char e[ESC_CAP];
    memset(v, 0, sizeof(*v));
    for (int i = start; i < c->argc; i++) {
        const respArg *a = &c->argv[i];
        int k = 0;
        while (k < nspecs && !argIs(a, specs[k].name))
            k++;
        if (k == nspecs) {
            if (argIs(a, "MAXRECEIVES") && hasDlqOption(specs, nspecs))
                addReplyError(c, "ERR syntax error: MAXRECEIVES only comes after DLQ "
                                 "name (DLQ name MAXRECEIVES n is one option)");
            else
                addReplyErrorFormat(c, "ERR syntax error: unknown option '%s'",
                                    escArg(e, a));
            return 0;
        }
        const optSpec *s = &specs[k];
        if (s->kind == OPT_FIXED) {
            addReplyErrorFormat(c,
                                "ERR %s is fixed when a queue is created: only QCREATE "
                                "takes it",
                                s->name);
            return 0;
        }
        if (GIVEN(v, k)) {
            addReplyErrorFormat(c, "ERR syntax error: %s is given more than once",
                                s->name);
            return 0;
        }
        v->given |= 1u << k;
        if (s->kind == OPT_FLAG) continue;
        if (s->kind == OPT_DLQ) {
            if (i + 3 >= c->argc || !argIs(&c->argv[i + 2], "MAXRECEIVES")) {
                addReplyError(c, "ERR syntax error: DLQ needs a name and MAXRECEIVES n "
                                 "(DLQ name MAXRECEIVES n is one option)");
                return 0;
            }
            v->str[k] = c->argv[i + 1];
            if (!checkInt(c, "MAXRECEIVES", &c->argv[i + 3], s->min, s->max,
                          &v->num[k]))
                return 0;
            i += 3;
            continue;
        }
        if (i + 1 >= c->argc) {
            addReplyErrorFormat(c, "ERR syntax error: %s needs a value", s->name);
            return 0;
        }
        const respArg *val = &c->argv[++i];
        switch (s->kind) {
        case OPT_DURATION:
        case OPT_RETENTION:
            if (!checkDuration(c, s->name, val, s->min, s->max,
                               s->kind == OPT_RETENTION, &v->num[k]))
                return 0;
            break;
        case OPT_INT: {
            long long max = s->max == OPT_MAX_BULK ? server.protoMaxBulkLen : s->max;
            if (!checkInt(c, s->name, val, s->min, max, &v->num[k])) return 0;
            break;
        }
        case OPT_TEXT:
            if (val->len < 1 || val->len > QE_NAME_MAX) {
                addReplyErrorFormat(c, "ERR invalid %s: 1 to %d bytes, not %zu",
                                    s->name, QE_NAME_MAX, val->len);
                return 0;
            }
            v->str[k] = *val;
            break;
        default: /* OPT_PATTERN */
            v->str[k] = *val;
            break;
        }
    }
    return 1;
}

/* Copies the queue options given into a, marking them in *changed (QA_*). */
static void applyQueueOptions(const optValues *v, queueAttrs *a, unsigned *changed) {
    *changed = 0;
#define APPLY(opt, field, bit)                                                         \
    if (GIVEN(v, opt)) {                                                               \
        a->field = v->num[opt];                                                        \
        *changed |= bit;                                                               \
    }
    APPLY(QO_VISIBILITY, visibilityMs, QA_VISIBILITY)
    APPLY(QO_DELAY, delayMs, QA_DELAY)
    APPLY(QO_RETENTION, retentionMs, QA_RETENTION)
    APPLY(QO_MAXSIZE, maxSize, QA_MAXSIZE)
    APPLY(QO_WAIT, waitMs, QA_WAIT)
    APPLY(QO_MAXDEPTH, maxDepth, QA_MAXDEPTH)
#undef APPLY
    if (GIVEN(v, QO_DLQ)) {
        /* checkDlq has made sure the name fits (a valid name is at most
         * QE_NAME_MAX bytes). */
        memcpy(a->dlq, v->str[QO_DLQ].ptr, v->str[QO_DLQ].len);
        a->dlq[v->str[QO_DLQ].len] = '\0';
        a->dlqLen = v->str[QO_DLQ].len;
        a->maxReceives = (int)v->num[QO_DLQ];
        *changed |= QA_DLQ;
    }
}

/* The DLQ named by a QCREATE or QSET of queue `name` (fifo: that queue's type):
 * a valid name, not the queue itself, existing, of the same type. Replies and
 * returns 0 when it is not. Must run before applyQueueOptions copies the name
 * into a fixed-size buffer. */
static int checkDlq(client *c, const respArg *name, const respArg *dlq, int fifo) {
    char e[ESC_CAP], e2[ESC_CAP];
    if (!checkName(c, dlq)) return 0;
    if (dlq->len == name->len && memcmp(dlq->ptr, name->ptr, name->len) == 0) {
        addReplyErrorFormat(c, "ERR queue '%s' cannot be its own DLQ", escArg(e, name));
        return 0;
    }
    queue *d = engineLookup(server.engine, dlq->ptr, dlq->len);
    if (!d) {
        replyNoQueue(c, dlq->ptr, dlq->len);
        return 0;
    }
    if (queueGetAttrs(d)->fifo != fifo) {
        addReplyErrorFormat(
            c,
            "ERR DLQ '%s' is a %s queue and '%s' is %s: a queue and its "
            "DLQ must be of the same type",
            escArg(e, dlq), fifo ? "standard" : "FIFO", escArg(e2, name),
            fifo ? "FIFO" : "standard");
        return 0;
    }
    return 1;
}

/* ---- Replies ---- */

static void replyQueueName(client *c, const queue *q) {
    size_t len;
    const char *name = queueName(q, &len);
    addReplyBulk(c, name, len);
}

static void replyStringOrNull(client *c, const char *p, size_t len) {
    if (p)
        addReplyBulk(c, p, len);
    else
        addReplyNull(c);
}

/* One message as QRECV replies it: [id, receipt, body, receives(, meta)]. */
static void replyReceived(client *c, const message *m, int withMeta) {
    char id[QE_ID_LEN + 1], receipt[QE_RECEIPT_LEN + 1];
    size_t len;
    messageId(m, id);
    messageReceipt(m, receipt);
    addReplyArrayLen(c, withMeta ? 5 : 4);
    addReplyBulk(c, id, strlen(id));
    addReplyBulk(c, receipt, strlen(receipt));
    const char *body = messageBody(m, &len);
    addReplyBulk(c, body, len);
    addReplyInt(c, messageReceives(m));
    if (!withMeta) return;
    addReplyMapLen(c, 6);
    addReplyBulkStr(c, "sent_ms");
    addReplyInt(c, messageSentMs(m));
    addReplyBulkStr(c, "first_received_ms");
    addReplyInt(c, messageFirstReceivedMs(m));
    addReplyBulkStr(c, "priority");
    addReplyInt(c, messagePriority(m));
    const char *p;
    addReplyBulkStr(c, "group");
    p = messageGroup(m, &len);
    replyStringOrNull(c, p, len);
    addReplyBulkStr(c, "dedupid");
    p = messageDedupId(m, &len);
    replyStringOrNull(c, p, len);
    addReplyBulkStr(c, "dlq_source");
    p = messageDlqSource(m, &len);
    replyStringOrNull(c, p, len);
}

/* QRECV's reply: the messages just leased (an empty array when n is 0). */
static void replyReceivedList(client *c, message **msgs, size_t n, int withMeta) {
    addReplyArrayLen(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        replyReceived(c, msgs[i], withMeta);
}

/* Leases up to count (1 - MAX_COUNT) messages of q into out. */
static size_t receive(queue *q, int count, int64_t visibilityMs, int64_t now,
                      message **out) {
    if (count < 1) count = 1;
    if (count > MAX_COUNT) count = MAX_COUNT;
    return engineReceive(server.engine, q, (size_t)count, visibilityMs, now, out);
}

/* ---- Long polling ---- */

void queueWaiterDone(void *ctx, engineWaiter *w, queue *q, int why) {
    (void)ctx;
    client *c = w->owner;
    /* A client killed while blocked is unparked by freeClientAsync, so this is
     * only a guard: it must take nothing with it. */
    if (why == WAIT_READY && q && !(c->flags & CLIENT_CLOSE_ASAP)) {
        message *out[MAX_COUNT];
        size_t n = receive(q, w->count, w->visibilityMs, clockMs, out);
        replyReceivedList(c, out, n, w->withMeta);
    } else {
        addReplyArrayLen(c, 0); /* timed out or queue dropped: empty, in RESP3 too */
    }
    c->flags &= ~CLIENT_BLOCKED;
    c->lastInteractionMs = server.nowMs; /* the wait was not idleness */
    c->waitLsn = aofLastLsn(); /* the reply waits for its leases' records */
    /* Its pipelined commands run from the loop's top level (see the file's
     * comment), before this turn's replies are written. */
    netScheduleResume(c);
}

void queueBeforeSleep(void) {
    if (!server.engine) return;
    /* The released clients' commands may make more messages receivable (a
     * pipelined QSEND) or unblock others (a QDROP): go round until quiet. */
    do {
        int64_t now = queueClock();
        engineAdvance(server.engine, now);
        engineServeWaiters(server.engine, now);
    } while (netRunResumes() > 0);
}

/* ---- Server glue: INFO, DBSIZE, FLUSHALL ---- */

void queueInfoSection(respBuf *out, long long blockedReceivers) {
    queueInfo t;
    int64_t queues = 0;
    memset(&t, 0, sizeof(t));
    if (server.engine) engineTotals(server.engine, &t, &queues);
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "respq_queues:%lld\r\n"
                     "respq_messages_ready:%lld\r\n"
                     "respq_messages_inflight:%lld\r\n"
                     "respq_messages_delayed:%lld\r\n"
                     "respq_messages_blocked:%lld\r\n"
                     "respq_sent_total:%lld\r\n"
                     "respq_received_total:%lld\r\n"
                     "respq_deleted_total:%lld\r\n"
                     "respq_expired_total:%lld\r\n"
                     "respq_deadlettered_total:%lld\r\n"
                     "respq_blocked_receivers:%lld\r\n",
                     (long long)queues, (long long)t.ready, (long long)t.inflight,
                     (long long)t.delayed, (long long)t.blocked, (long long)t.sentTotal,
                     (long long)t.receivedTotal, (long long)t.deletedTotal,
                     (long long)t.expiredTotal, (long long)t.deadletteredTotal,
                     blockedReceivers);
    if (n > 0)
        respBufAppend(out, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

long long queueCount(void) {
    return server.engine ? (long long)engineQueueCount(server.engine) : 0;
}

void queueFlushAll(long long nowMs) {
    (void)nowMs; /* the engine's clock must not go back: use queueClock's */
    if (!server.engine) return;
    int64_t now = engineNow();
    engineDropAll(server.engine, now); /* blocked receivers get an empty array */
}

/* ---- Queue commands ---- */

/* QCREATE queue [option value ...] [FIFO] [CONTENTDEDUP] */
void qcreateCommand(client *c) {
    int64_t now = engineNow();
    const respArg *name = &c->argv[1];
    if (!checkName(c, name)) return;
    optValues v;
    if (!parseOptions(c, 2, qcreateOpts, NOPTS(qcreateOpts), &v)) return;
    if (GIVEN(&v, QO_CONTENTDEDUP) && !GIVEN(&v, QO_FIFO)) {
        addReplyError(c, "ERR CONTENTDEDUP needs FIFO: content-based deduplication is "
                         "for FIFO queues");
        return;
    }
    if (GIVEN(&v, QO_DLQ) && !checkDlq(c, name, &v.str[QO_DLQ], GIVEN(&v, QO_FIFO)))
        return;
    queueAttrs a;
    unsigned changed;
    queueAttrsDefaults(&a);
    applyQueueOptions(&v, &a, &changed);
    a.fifo = (int)GIVEN(&v, QO_FIFO);
    a.contentDedup = (int)GIVEN(&v, QO_CONTENTDEDUP);
    char err[ENGINE_ERR_CAP] = "";
    int rc = engineCreateQueue(server.engine, name->ptr, name->len, &a, now, err,
                               sizeof(err));
    if (rc == QE_OK) {
        addReplyOk(c);
    } else if (rc == QE_EXISTS) {
        char e[ESC_CAP];
        addReplyErrorFormat(c, "EXISTS queue '%s' exists with different attributes",
                            escArg(e, name));
    } else {
        replyEngineError(c, rc, err);
    }
}

/* QSET queue option value [option value ...] */
void qsetCommand(client *c) {
    int64_t now = engineNow();
    const respArg *name = &c->argv[1];
    queue *q = lookupOrReply(c, name);
    if (!q) return;
    optValues v;
    if (!parseOptions(c, 2, qsetOpts, NOPTS(qsetOpts), &v)) return;
    if (GIVEN(&v, QO_DLQ) && GIVEN(&v, QO_NODLQ)) {
        addReplyError(c, "ERR syntax error: DLQ and NODLQ exclude each other");
        return;
    }
    queueAttrs a = *queueGetAttrs(q);
    if (GIVEN(&v, QO_DLQ) && !checkDlq(c, name, &v.str[QO_DLQ], a.fifo)) return;
    unsigned changed;
    applyQueueOptions(&v, &a, &changed);
    if (GIVEN(&v, QO_NODLQ)) {
        a.dlq[0] = '\0';
        a.dlqLen = 0;
        a.maxReceives = 0;
        changed |= QA_NODLQ;
    }
    char err[ENGINE_ERR_CAP] = "";
    int rc = engineSetQueue(server.engine, q, &a, changed, now, err, sizeof(err));
    if (rc == QE_OK)
        addReplyOk(c);
    else
        replyEngineError(c, rc, err);
}

/* QDROP queue */
void qdropCommand(client *c) {
    int64_t now = engineNow();
    const respArg *name = &c->argv[1];
    if (!checkName(c, name)) return;
    char err[ENGINE_ERR_CAP] = "";
    int rc =
        engineDropQueue(server.engine, name->ptr, name->len, now, err, sizeof(err));
    if (rc == QE_OK) {
        addReplyInt(c, 1);
    } else if (rc == QE_NOQUEUE) {
        addReplyInt(c, 0);
    } else if (rc == QE_INUSE) {
        /* The text is built here from the registry so it is the contract's, word
         * for word, whatever the engine wrote. */
        queue *q = engineLookup(server.engine, name->ptr, name->len);
        const queue *src = q && queueDlqSourceCount(q) ? queueDlqSource(q, 0) : NULL;
        if (!src) {
            replyEngineError(c, rc, err);
            return;
        }
        size_t slen;
        const char *sname = queueName(src, &slen);
        char e[ESC_CAP], e2[ESC_CAP];
        addReplyErrorFormat(c, "INUSE queue '%s' is the dead-letter queue of '%s'",
                            escArg(e, name), esc(e2, sname, slen));
    } else {
        replyEngineError(c, rc, err);
    }
}

/* QPURGE queue */
void qpurgeCommand(client *c) {
    int64_t now = engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    addReplyInt(c, enginePurgeQueue(server.engine, q, now));
}

/* QLEN queue */
void qlenCommand(client *c) {
    engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    addReplyInt(c, queueReceivable(q));
}

/* QINFO queue: a map in the contract's order (a flat array in RESP2). */
void qinfoCommand(client *c) {
    int64_t now = engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    const queueAttrs *a = queueGetAttrs(q);
    queueInfo in;
    queueGetInfo(q, now, &in);
    int64_t oldestAge =
        in.oldestSentMs && now > in.oldestSentMs ? now - in.oldestSentMs : 0;
    const struct {
        const char *field;
        int64_t value;
    } ints[] = {
        {"visibility_ms", a->visibilityMs},
        {"delay_ms", a->delayMs},
        {"retention_ms", a->retentionMs},
        {"wait_ms", a->waitMs},
        {"maxsize", a->maxSize},
        {"maxdepth", a->maxDepth},
        {"maxreceives", a->dlqLen ? a->maxReceives : 0},
        {"contentdedup", a->contentDedup},
        {"created_ms", in.createdMs},
        {"modified_ms", in.modifiedMs},
        {"ready", in.ready},
        {"inflight", in.inflight},
        {"delayed", in.delayed},
        {"blocked", a->fifo ? in.blocked : 0},
        {"oldest_age_ms", oldestAge},
        {"sent_total", in.sentTotal},
        {"received_total", in.receivedTotal},
        {"deleted_total", in.deletedTotal},
        {"expired_total", in.expiredTotal},
        {"deadlettered_total", in.deadletteredTotal},
    };
    size_t nints = sizeof(ints) / sizeof(ints[0]);
    addReplyMapLen(c, 3 + (long long)nints + 1);
    addReplyBulkStr(c, "name");
    replyQueueName(c, q);
    addReplyBulkStr(c, "type");
    addReplyBulkStr(c, a->fifo ? "fifo" : "standard");
    addReplyBulkStr(c, "dlq");
    replyStringOrNull(c, a->dlqLen ? a->dlq : NULL, a->dlqLen);
    for (size_t i = 0; i < nints; i++) {
        addReplyBulkStr(c, ints[i].field);
        addReplyInt(c, ints[i].value);
    }
    addReplyBulkStr(c, "dlq_sources");
    size_t sources = queueDlqSourceCount(q);
    addReplyArrayLen(c, (long long)sources);
    for (size_t i = 0; i < sources; i++)
        replyQueueName(c, queueDlqSource(q, i));
}

static int scanMatch(void *ctx, const char *name, size_t len) {
    const respArg *pattern = ctx;
    return stringMatch(pattern->ptr, pattern->len, name, len, 0);
}

/* QSCAN cursor [MATCH pattern] [COUNT n] */
void qscanCommand(client *c) {
    engineNow();
    const respArg *cursor = &c->argv[1];
    /* Cursors are strings the engine made ("0", or at most QE_NAME_MAX*2+3
     * bytes); the engine checks the rest of their syntax. */
    if (cursor->len == 0 || cursor->len > QE_NAME_MAX * 2 + 3) {
        addReplyError(c, "ERR invalid cursor");
        return;
    }
    optValues v;
    if (!parseOptions(c, 2, qscanOpts, NOPTS(qscanOpts), &v)) return;
    long long count = GIVEN(&v, SC_COUNT) ? v.num[SC_COUNT] : 10; /* SCAN's default */
    const respArg *pattern = GIVEN(&v, SC_MATCH) ? &v.str[SC_MATCH] : NULL;
    if (pattern && pattern->len == 1 && pattern->ptr[0] == '*') pattern = NULL;
    /* No call can return more names than there are queues, so a huge COUNT costs
     * no more memory than the registry's size. */
    size_t room = engineQueueCount(server.engine);
    if ((long long)room > count) room = (size_t)count;
    if (room == 0) room = 1;
    const queue **out = memAlloc(room * sizeof(*out));
    char next[QE_NAME_MAX * 2 + 4];
    size_t n = engineScan(server.engine, cursor->ptr, cursor->len,
                          pattern ? scanMatch : NULL, (void *)pattern, room, out, next);
    if (n == (size_t)-1) { /* not a cursor the engine made */
        memFree(out);
        addReplyError(c, "ERR invalid cursor");
        return;
    }
    addReplyArrayLen(c, 2);
    addReplyBulk(c, next, strlen(next));
    addReplyArrayLen(c, (long long)n);
    for (size_t i = 0; i < n; i++)
        replyQueueName(c, out[i]);
    memFree(out);
}

/* ---- Message commands ---- */

/* The SHA-256 of body in lower-case hex (64 characters and a NUL): the dedup id
 * of a CONTENTDEDUP queue's message sent without DEDUPID. */
static void contentDedupId(const char *body, size_t len, char out[65]) {
    static const char hex[] = "0123456789abcdef";
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, (const uint8_t *)body);
    sha256_digest(&ctx, sizeof(digest), digest);
    for (size_t i = 0; i < sizeof(digest); i++) {
        out[i * 2] = hex[digest[i] >> 4];
        out[i * 2 + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
}

/* QSEND queue body [PRIORITY p] [DELAY sec] [GROUP g] [DEDUPID d]
 * Errors in the contract's order: the arguments (TOOBIG among them), then what the
 * engine decides in its own order: a duplicate (the first id, not an error), then
 * FULL, then OOM. */
void qsendCommand(client *c) {
    int64_t now = engineNow();
    const respArg *name = &c->argv[1];
    queue *q = lookupOrReply(c, name);
    if (!q) return;
    const respArg *body = &c->argv[2];
    optValues v;
    if (!parseOptions(c, 3, qsendOpts, NOPTS(qsendOpts), &v)) return;
    const queueAttrs *a = queueGetAttrs(q);
    char e[ESC_CAP];
    if (a->fifo) {
        int refused = GIVEN(&v, SO_PRIORITY) ? SO_PRIORITY
                      : GIVEN(&v, SO_DELAY)  ? SO_DELAY
                                             : -1;
        if (refused >= 0) {
            addReplyErrorFormat(c,
                                "ERR %s is for standard queues only: queue '%s' is "
                                "FIFO",
                                qsendOpts[refused].name, escArg(e, name));
            return;
        }
        if (!GIVEN(&v, SO_GROUP)) {
            addReplyErrorFormat(c, "ERR GROUP is required on FIFO queue '%s'",
                                escArg(e, name));
            return;
        }
        if (!GIVEN(&v, SO_DEDUPID) && !a->contentDedup) {
            addReplyErrorFormat(c,
                                "ERR DEDUPID is required on FIFO queue '%s', which has "
                                "no CONTENTDEDUP",
                                escArg(e, name));
            return;
        }
    } else if (GIVEN(&v, SO_GROUP)) {
        addReplyErrorFormat(c,
                            "ERR GROUP is for FIFO queues only: queue '%s' is standard",
                            escArg(e, name));
        return;
    }
    if ((int64_t)body->len > a->maxSize) {
        addReplyErrorFormat(c,
                            "TOOBIG message body is %zu bytes; queue '%s' accepts at "
                            "most %lld",
                            body->len, escArg(e, name), (long long)a->maxSize);
        return;
    }

    sendOptions o;
    memset(&o, 0, sizeof(o));
    o.priority = GIVEN(&v, SO_PRIORITY) ? (int32_t)v.num[SO_PRIORITY] : 0;
    o.delayMs = GIVEN(&v, SO_DELAY) ? v.num[SO_DELAY] : -1;
    if (GIVEN(&v, SO_GROUP)) {
        o.group = v.str[SO_GROUP].ptr;
        o.groupLen = v.str[SO_GROUP].len;
    }
    char digest[65];
    if (GIVEN(&v, SO_DEDUPID)) {
        /* An explicit dedup id wins over CONTENTDEDUP, as in SQS. */
        o.dedupId = v.str[SO_DEDUPID].ptr;
        o.dedupIdLen = v.str[SO_DEDUPID].len;
    } else if (a->fifo && a->contentDedup) {
        contentDedupId(body->ptr, body->len, digest);
        o.dedupId = digest;
        o.dedupIdLen = 64;
    }
    o.memoryFull = server.maxMemory && memUsed() > (size_t)server.maxMemory;

    char id[QE_ID_LEN + 1], err[ENGINE_ERR_CAP] = "";
    int rc = engineSend(server.engine, q, body->ptr, body->len, &o, now, id, err,
                        sizeof(err));
    switch (rc) {
    case QE_OK:
    case QE_DUPLICATE:
        addReplyBulk(c, id, strlen(id));
        break;
    case QE_TOOBIG:
        addReplyErrorFormat(c,
                            "TOOBIG message body is %zu bytes; queue '%s' accepts at "
                            "most %lld",
                            body->len, escArg(e, name), (long long)a->maxSize);
        break;
    case QE_FULL:
        addReplyErrorFormat(c, "FULL queue '%s' holds MAXDEPTH (%lld) messages",
                            escArg(e, name), (long long)a->maxDepth);
        break;
    case QE_OOM:
        /* Redis's text, which clients already recognise. */
        addReplyError(c, "OOM command not allowed when used memory > 'maxmemory'.");
        break;
    default:
        replyEngineError(c, rc, err);
        break;
    }
}

/* QRECV queue [COUNT n] [VISIBILITY sec] [WAIT sec] [WITHMETA] */
void qrecvCommand(client *c) {
    int64_t now = engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    optValues v;
    if (!parseOptions(c, 2, qrecvOpts, NOPTS(qrecvOpts), &v)) return;
    int count = GIVEN(&v, RO_COUNT) ? (int)v.num[RO_COUNT] : 1;
    int64_t visibilityMs = GIVEN(&v, RO_VISIBILITY) ? v.num[RO_VISIBILITY] : -1;
    int64_t waitMs = GIVEN(&v, RO_WAIT) ? v.num[RO_WAIT] : queueGetAttrs(q)->waitMs;
    int withMeta = (int)GIVEN(&v, RO_WITHMETA);

    /* Receivers already parked are served before this one may take anything:
     * blocked receivers come first, in the order they arrived. */
    engineServeWaiters(server.engine, now);
    message *out[MAX_COUNT];
    size_t n = receive(q, count, visibilityMs, now, out);
    /* Nothing received and allowed to wait: park instead of replying. Inside EXEC
     * a transaction never waits (as BLPOP inside MULTI): it replies at once. */
    if (n == 0 && waitMs > 0 && !(c->flags & CLIENT_IN_EXEC)) {
        engineWaiter *w = &c->waiter;
        w->owner = c;
        w->count = count;
        w->visibilityMs = visibilityMs;
        w->withMeta = withMeta;
        c->flags |= CLIENT_BLOCKED;
        /* now is the clock's millisecond with its fraction dropped, so a wait
         * must end one millisecond later to last at least waitMs. */
        engineWaitPark(server.engine, q, w, now + waitMs + 1);
        return;
    }
    replyReceivedList(c, out, n, withMeta);
}

/* QDEL queue receipt [receipt ...] */
void qdelCommand(client *c) {
    int64_t now = engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    long long deleted = 0;
    for (int i = 2; i < c->argc; i++)
        deleted += engineDelete(server.engine, q, c->argv[i].ptr, c->argv[i].len, now);
    addReplyInt(c, deleted);
}

/* QVIS queue receipt sec */
void qvisCommand(client *c) {
    int64_t now = engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    long long ms;
    if (!checkDuration(c, "lease duration", &c->argv[3], 0, LEASE_MAX_MS, 0, &ms))
        return;
    int rc =
        engineVisibility(server.engine, q, c->argv[2].ptr, c->argv[2].len, ms, now);
    if (rc == QE_OK)
        addReplyOk(c);
    else if (rc == QE_BADRECEIPT)
        addReplyError(c, "BADRECEIPT receipt is stale or unknown");
    else
        replyEngineError(c, rc, "");
}

/* QPEEK queue [COUNT n]: each [id, body, receives], leasing nothing. */
void qpeekCommand(client *c) {
    int64_t now = engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    optValues v;
    if (!parseOptions(c, 2, qpeekOpts, NOPTS(qpeekOpts), &v)) return;
    size_t count = GIVEN(&v, CO_COUNT) ? (size_t)v.num[CO_COUNT] : 1;
    message *out[MAX_COUNT];
    size_t n = enginePeek(server.engine, q, count, now, out);
    addReplyArrayLen(c, (long long)n);
    for (size_t i = 0; i < n; i++) {
        char id[QE_ID_LEN + 1];
        size_t len;
        messageId(out[i], id);
        addReplyArrayLen(c, 3);
        addReplyBulk(c, id, strlen(id));
        const char *body = messageBody(out[i], &len);
        addReplyBulk(c, body, len);
        addReplyInt(c, messageReceives(out[i]));
    }
}

/* QREDRIVE queue [COUNT n] */
void qredriveCommand(client *c) {
    int64_t now = engineNow();
    queue *q = lookupOrReply(c, &c->argv[1]);
    if (!q) return;
    optValues v;
    if (!parseOptions(c, 2, qredriveOpts, NOPTS(qredriveOpts), &v)) return;
    int64_t count = GIVEN(&v, CO_COUNT) ? v.num[CO_COUNT] : INT64_MAX; /* all */
    addReplyInt(c, engineRedrive(server.engine, q, count, now));
}
