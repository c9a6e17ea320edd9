/* aofrec.c: the record codec of the append-only file. It owns the mapping
 * between the engine's state changes and `QREPLAY` commands, both ways, and
 * nothing else: no files, no frames, no LSN counter (aof.c has those), so the
 * server, respq-aof and the tests share one definition of every record.
 *
 * A record is one RESP command, `QREPLAY <lsn> <TYPE> <arg> ...`, and the
 * format is docs/persistence.md's. For example, a QSEND of "hello" to queue
 * `jobs` (default attributes: 4 days of retention), delayed 5 seconds, is
 * (each element's CRLFs left out; test_aofrec.c checks the bytes):
 *
 *     *18  $7 QREPLAY  $2 42  $4 SEND  $4 jobs  $1 1  $1 1
 *     $13 1800000000000  $13 1800345600000  $2 -1  $1 0  $1 0  $1 0
 *     $1 d  $13 1800000005000  $0  $0  $0  $5 hello
 *
 * that is: queue, seq, id-seq, sent, expire, first-received (never), priority,
 * receives, tag, state (delayed) until, group, dedup id, DLQ source, body.
 *
 * Encoding: records log effects, the state a change produced, with every id,
 * time and tag the engine chose, so applying them needs no clock and makes no
 * decision. Each effect is encoded from the effect and the message after the
 * change (messageGetImage); numbers are decimal bulk strings, absent strings
 * and times are "" and -1. The encoder appends straight to the caller's buffer
 * (one per loop turn in the server): no allocation but the buffer's growth.
 *
 * Decoding is strict, because a log is input like any other: each type has an
 * exact argument count, integers are canonical decimals within the field's range
 * (no sign but a leading '-', no leading zeros, no spaces), queue names are
 * valid names, groups and dedup ids 1 - QE_NAME_MAX bytes or empty where they
 * may be absent, states one of d r i. The first bad argument is reported as
 * "<TYPE> record: bad <argument> '<value>'". A record about a queue or message
 * that is gone applies as nothing, so that a replay into a live server, whose
 * own timers may already have done what the record says, still converges; a
 * record that cannot apply consistently (a QUEUE naming a DLQ that does not
 * exist, a message of the wrong type for its queue) is an error.
 */
#include "aofrec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- Writing ---- */

static void addU64(respBuf *b, uint64_t v) {
    respAddBulkUInt(b, (unsigned long long)v);
}

static void addI64(respBuf *b, int64_t v) {
    respAddBulkInt(b, (long long)v);
}

/* Times that may be absent: retention INT64_MAX and first-received 0 are "none". */
static void addExpire(respBuf *b, int64_t expireMs) {
    addI64(b, expireMs == INT64_MAX ? -1 : expireMs);
}

static void addFirstReceived(respBuf *b, int64_t firstReceivedMs) {
    addI64(b, firstReceivedMs == 0 ? -1 : firstReceivedMs);
}

static void addStr(respBuf *b, const char *p, size_t len) {
    respAddBulk(b, p ? p : "", p ? len : 0);
}

static void addQueueName(respBuf *b, const queue *q) {
    size_t len;
    const char *name = queueName(q, &len);
    respAddBulk(b, name, len);
}

static void addState(respBuf *b, int state, int64_t untilMs) {
    const char *letter = state == MSG_STATE_DELAYED    ? "d"
                         : state == MSG_STATE_INFLIGHT ? "i"
                                                       : "r";
    respAddBulk(b, letter, 1);
    addI64(b, state == MSG_STATE_READY ? -1 : untilMs);
}

static void beginRecord(respBuf *b, uint64_t lsn, const char *type, int nargs) {
    respAddArrayLen(b, 3 + nargs);
    respAddBulk(b, "QREPLAY", 7);
    addU64(b, lsn);
    respAddBulkStr(b, type);
}

void aofrecEncodeHeader(respBuf *out, uint64_t lsn, uint32_t epoch, uint64_t nextSeq,
                        int64_t nowMs) {
    char hex[9];
    snprintf(hex, sizeof(hex), "%08" PRIx32, epoch);
    beginRecord(out, lsn, "HEADER", 5);
    respAddBulk(out, AOF_MAGIC, strlen(AOF_MAGIC));
    addI64(out, AOF_FORMAT_VERSION);
    respAddBulk(out, hex, 8);
    addU64(out, nextSeq);
    addI64(out, nowMs);
}

/* QUEUE: the whole attribute set; withDlq 0 writes it without its DLQ (the
 * first pass of a rewrite, before every queue exists). */
static void encodeQueue(respBuf *b, uint64_t lsn, const queue *q, int withDlq) {
    const queueAttrs *a = queueGetAttrs(q);
    queueInfo info;
    queueGetInfo(q, 0, &info);
    beginRecord(b, lsn, "QUEUE", 13);
    addQueueName(b, q);
    addI64(b, info.createdMs);
    addI64(b, info.modifiedMs);
    addI64(b, a->visibilityMs);
    addI64(b, a->delayMs);
    addI64(b, a->retentionMs);
    addI64(b, a->waitMs);
    addI64(b, a->maxSize);
    addI64(b, a->maxDepth);
    if (withDlq) {
        respAddBulk(b, a->dlq, a->dlqLen);
        addI64(b, a->maxReceives);
    } else {
        respAddBulk(b, "", 0);
        addI64(b, 0);
    }
    addI64(b, a->fifo ? 1 : 0);
    addI64(b, a->contentDedup ? 1 : 0);
}

static void encodeCounters(respBuf *b, uint64_t lsn, const queue *q) {
    queueInfo info;
    queueGetInfo(q, 0, &info);
    beginRecord(b, lsn, "COUNTERS", 6);
    addQueueName(b, q);
    addI64(b, info.sentTotal);
    addI64(b, info.receivedTotal);
    addI64(b, info.deletedTotal);
    addI64(b, info.expiredTotal);
    addI64(b, info.deadletteredTotal);
}

/* The first three fields of a SEND or MSG record, and the field after
 * first-received when it is -1 ("never"): constant bytes, copied whole. */
#define MSG_HEAD "*18\r\n$7\r\nQREPLAY\r\n"
#define NEVER "$2\r\n-1\r\n"

/* SEND and MSG: the whole message. Every SEND is one of these, on the loop
 * thread before its reply, so it is written with one reservation for the
 * whole record and no per-field calls into respBuf: the same bytes as the
 * respAdd* helpers would write (test_aofrec.c checks them). typeBulk is the
 * type as a whole bulk, e.g. "$4\r\nSEND\r\n". */
static void encodeMessage(respBuf *b, uint64_t lsn, const char *typeBulk,
                          size_t typeBulkLen, const queue *q, const message *m) {
    messageImage img;
    messageGetImage(m, &img);
    size_t qlen;
    const char *qname = queueName(q, &qlen);
    const char *group = img.group ? img.group : "";
    const char *dedupId = img.dedupId ? img.dedupId : "";
    const char *dlqSource = img.dlqSource ? img.dlqSource : "";
    size_t groupLen = img.group ? img.groupLen : 0;
    size_t dedupIdLen = img.dedupId ? img.dedupIdLen : 0;
    size_t dlqSourceLen = img.dlqSource ? img.dlqSourceLen : 0;
    /* 11 numbers, 6 strings (queue, state, group, dedup id, DLQ source, body). */
    respBufReserve(b, sizeof(MSG_HEAD) + typeBulkLen + 11 * RESP_BULK_INT_MAX +
                          6 * (RESP_BULK_HEAD_MAX + 2) + qlen + 1 + groupLen +
                          dedupIdLen + dlqSourceLen + img.bodyLen);
    char *w = b->data + b->len;
    memcpy(w, MSG_HEAD, sizeof(MSG_HEAD) - 1);
    w += sizeof(MSG_HEAD) - 1;
    w = respPutBulkUInt(w, lsn);
    memcpy(w, typeBulk, typeBulkLen);
    w += typeBulkLen;
    w = respPutBulk(w, qname, qlen);
    w = respPutBulkUInt(w, img.seq);
    w = respPutBulkUInt(w, img.idSeq);
    w = respPutBulkInt(w, img.sentMs);
    if (img.expireMs == INT64_MAX) {
        memcpy(w, NEVER, sizeof(NEVER) - 1);
        w += sizeof(NEVER) - 1;
    } else {
        w = respPutBulkInt(w, img.expireMs);
    }
    if (img.firstReceivedMs == 0) {
        memcpy(w, NEVER, sizeof(NEVER) - 1);
        w += sizeof(NEVER) - 1;
    } else {
        w = respPutBulkInt(w, img.firstReceivedMs);
    }
    w = respPutBulkInt(w, img.priority);
    w = respPutBulkUInt(w, img.receives);
    w = respPutBulkUInt(w, img.tag);
    if (img.state == MSG_STATE_READY) {
        memcpy(w, "$1\r\nr\r\n" NEVER, 7 + sizeof(NEVER) - 1);
        w += 7 + sizeof(NEVER) - 1;
    } else {
        w = respPutBulk(w, img.state == MSG_STATE_DELAYED ? "d" : "i", 1);
        w = respPutBulkInt(w, img.untilMs);
    }
    w = respPutBulk(w, group, groupLen);
    w = respPutBulk(w, dedupId, dedupIdLen);
    w = respPutBulk(w, dlqSource, dlqSourceLen);
    w = respPutBulk(w, img.body, img.bodyLen);
    b->len = (size_t)(w - b->data);
}

#undef MSG_HEAD
#undef NEVER

static void encodeMove(respBuf *b, uint64_t lsn, const effect *ef) {
    messageImage img;
    messageGetImage(ef->msg, &img);
    beginRecord(b, lsn, "MOVE", 12);
    addQueueName(b, ef->q);
    addQueueName(b, ef->target);
    addU64(b, ef->seq);
    addU64(b, img.seq);
    respAddBulkStr(b, ef->type == EFFECT_DEADLETTER ? "deadletter" : "redrive");
    addI64(b, img.sentMs);
    addExpire(b, img.expireMs);
    addU64(b, img.receives);
    addFirstReceived(b, img.firstReceivedMs);
    addStr(b, img.dlqSource, img.dlqSourceLen);
    addState(b, img.state, img.untilMs);
}

/* Records that name a message by its queue and seq: DEL, EXPIRE. */
static void encodeSeqRecord(respBuf *b, uint64_t lsn, const char *type,
                            const effect *ef) {
    beginRecord(b, lsn, type, 2);
    addQueueName(b, ef->q);
    addU64(b, messageSeq(ef->msg));
}

static void encodeState(respBuf *b, uint64_t lsn, const effect *ef, int state,
                        int64_t untilMs) {
    beginRecord(b, lsn, "STATE", 4);
    addQueueName(b, ef->q);
    addU64(b, messageSeq(ef->msg));
    addState(b, state, untilMs);
}

void aofrecEncodeEffect(respBuf *out, uint64_t lsn, const effect *ef) {
    switch (ef->type) {
    case EFFECT_QCREATE:
    case EFFECT_QSET:
        encodeQueue(out, lsn, ef->q, 1);
        break;
    case EFFECT_QDROP:
        beginRecord(out, lsn, "DROP", 1);
        addQueueName(out, ef->q);
        break;
    case EFFECT_QPURGE:
        beginRecord(out, lsn, "PURGE", 1);
        addQueueName(out, ef->q);
        break;
    case EFFECT_SEND:
        encodeMessage(out, lsn, "$4\r\nSEND\r\n", 10, ef->q, ef->msg);
        break;
    case EFFECT_LEASE: {
        /* untilMs is the lease end itself; the engine times the message by the
         * earlier of it and its retention, here as on the server. */
        beginRecord(out, lsn, "LEASE", 6);
        addQueueName(out, ef->q);
        addU64(out, messageSeq(ef->msg));
        addU64(out, messageReceives(ef->msg));
        messageImage img;
        messageGetImage(ef->msg, &img);
        addU64(out, img.tag);
        addFirstReceived(out, img.firstReceivedMs);
        addI64(out, ef->untilMs);
        break;
    }
    case EFFECT_VIS:
        /* QVIS 0 logs a lease ending now; the RETURN or DEADLETTER that
         * follows says where the message went. */
        encodeState(out, lsn, ef, MSG_STATE_INFLIGHT, ef->untilMs);
        break;
    case EFFECT_RETURN:
    case EFFECT_VISIBLE:
        encodeState(out, lsn, ef, MSG_STATE_READY, -1);
        break;
    case EFFECT_DELETE:
        encodeSeqRecord(out, lsn, "DEL", ef);
        break;
    case EFFECT_EXPIRE:
        encodeSeqRecord(out, lsn, "EXPIRE", ef);
        break;
    case EFFECT_DEADLETTER:
    case EFFECT_REDRIVE:
        encodeMove(out, lsn, ef);
        break;
    case EFFECT_DEDUP:
        /* The window is the engine's constant, from the first send. */
        beginRecord(out, lsn, "DEDUP", 4);
        addQueueName(out, ef->q);
        respAddBulk(out, ef->dedupId, ef->dedupIdLen);
        addU64(out, ef->seq);
        addI64(out, ef->timeMs + QE_DEDUP_WINDOW_MS);
        break;
    default:
        break; /* not a state change: nothing to log */
    }
}

/* ---- Snapshots ---- */

typedef struct snapshotCtx {
    respBuf *buf;
    uint64_t lsn;
    int64_t nowMs;
    size_t flushAt;
    int (*flush)(void *ctx, respBuf *buf);
    void *flushCtx;
    const queue *q; /* the queue whose messages or dedup ids are being written */
    int failed;     /* a flush returned -1: write nothing more */
} snapshotCtx;

static void maybeFlush(snapshotCtx *s) {
    if (!s->failed && s->buf->len >= s->flushAt && s->flush(s->flushCtx, s->buf) != 0)
        s->failed = 1;
}

static void snapshotDedup(void *ctx, const char *id, size_t len, uint64_t idSeq,
                          int64_t expiresMs) {
    snapshotCtx *s = ctx;
    if (s->failed || expiresMs <= s->nowMs) return;
    beginRecord(s->buf, s->lsn, "DEDUP", 4);
    addQueueName(s->buf, s->q);
    respAddBulk(s->buf, id, len);
    addU64(s->buf, idSeq);
    addI64(s->buf, expiresMs);
    maybeFlush(s);
}

/* One MSG record of a rewrite (queueForEachMessage gives them in replay order). */
static void snapshotMessage(void *ctx, const message *m) {
    snapshotCtx *s = ctx;
    if (s->failed) return;
    encodeMessage(s->buf, s->lsn, "$3\r\nMSG\r\n", 9, s->q, m);
    maybeFlush(s);
}

int aofrecSnapshot(const engine *e, uint64_t lsn, int64_t nowMs, respBuf *buf,
                   size_t flushAt, int (*flush)(void *ctx, respBuf *buf), void *ctx) {
    snapshotCtx s = {.buf = buf,
                     .lsn = lsn,
                     .nowMs = nowMs,
                     .flushAt = flushAt,
                     .flush = flush,
                     .flushCtx = ctx};
    size_t n = engineQueueCount(e);
    aofrecEncodeHeader(buf, lsn, engineEpoch(e), engineNextSeq(e), nowMs);
    /* Every queue first without its DLQ, then those with one again with it, so
     * that a DLQ always exists before a queue names it (DLQs may chain). */
    for (size_t i = 0; i < n && !s.failed; i++) {
        encodeQueue(buf, lsn, engineQueueAt(e, i), 0);
        maybeFlush(&s);
    }
    for (size_t i = 0; i < n && !s.failed; i++) {
        const queue *q = engineQueueAt(e, i);
        if (!queueGetAttrs(q)->dlqLen) continue;
        encodeQueue(buf, lsn, q, 1);
        maybeFlush(&s);
    }
    for (size_t i = 0; i < n && !s.failed; i++) {
        encodeCounters(buf, lsn, engineQueueAt(e, i));
        maybeFlush(&s);
    }
    for (size_t i = 0; i < n && !s.failed; i++) {
        s.q = engineQueueAt(e, i);
        queueForEachMessage(s.q, snapshotMessage, &s);
    }
    for (size_t i = 0; i < n && !s.failed; i++) {
        s.q = engineQueueAt(e, i);
        queueForEachDedup(s.q, snapshotDedup, &s);
    }
    if (s.failed || flush(ctx, buf) != 0) return -1;
    return 0;
}

/* ---- Reading ---- */

/* The record being applied: its type and its arguments after the type. */
typedef struct record {
    const char *type;
    const respArg *arg;
    int argc;
    char *err;
    size_t errcap;
} record;

/* Writes p[0..n) for an error text: printable ASCII as is, other bytes as \xNN,
 * at most 64 bytes shown, so one bad argument cannot flood a log line. */
static void escapeValue(char *out, size_t cap, const char *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t w = 0, shown = n > 64 ? 64 : n;
    for (size_t i = 0; i < shown && w + 5 < cap; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f) {
            out[w++] = (char)ch;
        } else {
            out[w++] = '\\';
            out[w++] = 'x';
            out[w++] = hex[ch >> 4];
            out[w++] = hex[ch & 15];
        }
    }
    if (shown < n && w + 4 < cap) {
        memcpy(out + w, "...", 3);
        w += 3;
    }
    out[w] = '\0';
}

static int badArg(record *r, int i, const char *what) {
    char shown[300];
    escapeValue(shown, sizeof(shown), r->arg[i].ptr, r->arg[i].len);
    snprintf(r->err, r->errcap, "%s record: bad %s '%s'", r->type, what, shown);
    return -1;
}

/* Canonical decimal: "0", or [1-9][0-9]* with an optional leading '-'. */
static int parseI64(const char *p, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (n > 0 && p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 19) return 0;
    if (p[i] == '0' && (n - i > 1 || neg)) return 0;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return 0;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)v;
    }
    return 1;
}

static int parseU64(const char *p, size_t n, uint64_t *out) {
    if (n == 0 || n > 20 || (p[0] == '0' && n > 1)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* A signed field within [min, max]. */
static int argI64(record *r, int i, const char *what, int64_t min, int64_t max,
                  int64_t *out) {
    if (!parseI64(r->arg[i].ptr, r->arg[i].len, out) || *out < min || *out > max)
        return badArg(r, i, what);
    return 0;
}

static int argU64(record *r, int i, const char *what, uint64_t min, uint64_t max,
                  uint64_t *out) {
    if (!parseU64(r->arg[i].ptr, r->arg[i].len, out) || *out < min || *out > max)
        return badArg(r, i, what);
    return 0;
}

/* A message sequence: 1 or more, and below UINT64_MAX so that the engine's
 * counter can always step past it. */
static int argSeq(record *r, int i, const char *what, uint64_t *out) {
    return argU64(r, i, what, 1, UINT64_MAX - 1, out);
}

static int argU32(record *r, int i, const char *what, uint32_t min, uint32_t *out) {
    uint64_t v;
    if (argU64(r, i, what, min, UINT32_MAX, &v)) return -1;
    *out = (uint32_t)v;
    return 0;
}

/* A time: Unix ms, 0 or more. */
static int argTime(record *r, int i, const char *what, int64_t *out) {
    return argI64(r, i, what, 0, INT64_MAX, out);
}

/* A time that may be absent (-1): absentValue is what the engine uses for none. */
static int argOptTime(record *r, int i, const char *what, int64_t absentValue,
                      int64_t *out) {
    if (argI64(r, i, what, -1, INT64_MAX, out)) return -1;
    if (*out == -1) *out = absentValue;
    return 0;
}

static int argBool(record *r, int i, const char *what, int *out) {
    int64_t v;
    if (argI64(r, i, what, 0, 1, &v)) return -1;
    *out = (int)v;
    return 0;
}

static int argQueueName(record *r, int i, const char *what) {
    if (!engineValidName(r->arg[i].ptr, r->arg[i].len)) return badArg(r, i, what);
    return 0;
}

/* A queue name or "" (none). */
static int argOptQueueName(record *r, int i, const char *what) {
    if (r->arg[i].len == 0) return 0;
    return argQueueName(r, i, what);
}

/* A group or dedup id: any 1 - QE_NAME_MAX bytes, or "" when it may be absent. */
static int argText(record *r, int i, const char *what, int mayBeEmpty) {
    size_t len = r->arg[i].len;
    if ((len == 0 && !mayBeEmpty) || len > QE_NAME_MAX) return badArg(r, i, what);
    return 0;
}

/* <state> <until>: d and i need a time, r needs -1. */
static int argState(record *r, int i, int *state, int64_t *untilMs) {
    const respArg *a = &r->arg[i];
    if (a->len != 1) return badArg(r, i, "state");
    switch (a->ptr[0]) {
    case 'd':
        *state = MSG_STATE_DELAYED;
        break;
    case 'r':
        *state = MSG_STATE_READY;
        break;
    case 'i':
        *state = MSG_STATE_INFLIGHT;
        break;
    default:
        return badArg(r, i, "state");
    }
    if (*state == MSG_STATE_READY) return argI64(r, i + 1, "until", -1, -1, untilMs);
    return argTime(r, i + 1, "until", untilMs);
}

/* The queue an argument names, or NULL when it does not exist (the record then
 * applies as nothing). */
static queue *lookupArg(engine *e, const record *r, int i) {
    return engineLookup(e, r->arg[i].ptr, r->arg[i].len);
}

static int engineRefused(record *r, const char *why) {
    snprintf(r->err, r->errcap, "%s record: %s", r->type, why);
    return -1;
}

/* HEADER respq-aof 1 <epoch> <next-seq> <time> */
static int applyHeader(engine *e, record *r) {
    const respArg *magic = &r->arg[0];
    if (magic->len != strlen(AOF_MAGIC) || memcmp(magic->ptr, AOF_MAGIC, magic->len))
        return badArg(r, 0, "magic");
    int64_t version, timeMs;
    if (!parseI64(r->arg[1].ptr, r->arg[1].len, &version) ||
        version != AOF_FORMAT_VERSION) {
        char shown[300];
        escapeValue(shown, sizeof(shown), r->arg[1].ptr, r->arg[1].len);
        snprintf(r->err, r->errcap,
                 "HEADER record: unsupported format version '%s' (this server reads "
                 "version %d)",
                 shown, AOF_FORMAT_VERSION);
        return -1;
    }
    const respArg *ep = &r->arg[2];
    uint64_t epochHex;
    if (ep->len != 8 || !engineParseHex(ep->ptr, 8, &epochHex)) return badArg(r, 2, "epoch");
    uint32_t epoch = (uint32_t)epochHex;
    uint64_t nextSeq;
    if (argU64(r, 3, "next-seq", 1, UINT64_MAX, &nextSeq) ||
        argTime(r, 4, "time", &timeMs))
        return -1;
    engineApplyHeader(e, epoch, nextSeq);
    return 0;
}

/* QUEUE <name> <created> <modified> <visibility> <delay> <retention> <wait>
 *       <maxsize> <maxdepth> <dlq> <maxreceives> <fifo> <contentdedup> */
static int applyQueue(engine *e, record *r) {
    queueAttrs a;
    int64_t created, modified, maxReceives;
    queueAttrsDefaults(&a);
    if (argQueueName(r, 0, "name") || argTime(r, 1, "created", &created) ||
        argTime(r, 2, "modified", &modified) ||
        argI64(r, 3, "visibility", 0, INT64_MAX, &a.visibilityMs) ||
        argI64(r, 4, "delay", 0, INT64_MAX, &a.delayMs) ||
        argI64(r, 5, "retention", 0, INT64_MAX, &a.retentionMs) ||
        argI64(r, 6, "wait", 0, INT64_MAX, &a.waitMs) ||
        argI64(r, 7, "maxsize", 1, INT64_MAX, &a.maxSize) ||
        argI64(r, 8, "maxdepth", 0, INT64_MAX, &a.maxDepth) ||
        argOptQueueName(r, 9, "dlq") ||
        argI64(r, 10, "maxreceives", r->arg[9].len ? 1 : 0,
               r->arg[9].len ? QE_MAX_RECEIVES_MAX : 0, &maxReceives) ||
        argBool(r, 11, "fifo", &a.fifo) ||
        argBool(r, 12, "contentdedup", &a.contentDedup))
        return -1;
    memcpy(a.dlq, r->arg[9].ptr, r->arg[9].len);
    a.dlq[r->arg[9].len] = '\0';
    a.dlqLen = r->arg[9].len;
    a.maxReceives = (int)maxReceives;
    char why[256] = "";
    if (engineApplyQueue(e, r->arg[0].ptr, r->arg[0].len, &a, created, modified, why,
                         sizeof(why)) != QE_OK)
        return engineRefused(r, why[0] ? why : "the queue engine refused it");
    return 0;
}

/* COUNTERS <name> <sent> <received> <deleted> <expired> <deadlettered> */
static int applyCounters(engine *e, record *r) {
    queueInfo t;
    memset(&t, 0, sizeof(t));
    if (argQueueName(r, 0, "name") ||
        argI64(r, 1, "sent", 0, INT64_MAX, &t.sentTotal) ||
        argI64(r, 2, "received", 0, INT64_MAX, &t.receivedTotal) ||
        argI64(r, 3, "deleted", 0, INT64_MAX, &t.deletedTotal) ||
        argI64(r, 4, "expired", 0, INT64_MAX, &t.expiredTotal) ||
        argI64(r, 5, "deadlettered", 0, INT64_MAX, &t.deadletteredTotal))
        return -1;
    queue *q = lookupArg(e, r, 0);
    if (q) engineApplyCounters(e, q, &t);
    return 0;
}

/* DROP <name>, PURGE <name> */
static int applyDropOrPurge(engine *e, record *r, int drop) {
    if (argQueueName(r, 0, "name")) return -1;
    queue *q = lookupArg(e, r, 0);
    if (!q) return 0;
    if (drop)
        engineApplyDrop(e, q);
    else
        engineApplyPurge(e, q);
    return 0;
}

/* SEND and MSG <name> <seq> <id-seq> <sent> <expire> <first-received>
 *   <priority> <receives> <tag> <state> <until> <group> <dedupid> <dlq-source>
 *   <body> */
static int applyMessage(engine *e, record *r, int countSend) {
    messageImage img;
    int64_t priority;
    memset(&img, 0, sizeof(img));
    if (argQueueName(r, 0, "name") || argSeq(r, 1, "seq", &img.seq) ||
        argSeq(r, 2, "id-seq", &img.idSeq) || argTime(r, 3, "sent", &img.sentMs) ||
        argOptTime(r, 4, "expire", INT64_MAX, &img.expireMs) ||
        argOptTime(r, 5, "first-received", 0, &img.firstReceivedMs) ||
        argI64(r, 6, "priority", INT32_MIN, INT32_MAX, &priority) ||
        argU32(r, 7, "receives", 0, &img.receives) ||
        argU32(r, 8, "tag", 0, &img.tag) || argState(r, 9, &img.state, &img.untilMs) ||
        argText(r, 11, "group", 1) || argText(r, 12, "dedupid", 1) ||
        argOptQueueName(r, 13, "dlq-source"))
        return -1;
    if (r->arg[14].len > UINT32_MAX) return badArg(r, 14, "body");
    img.priority = (int32_t)priority;
    img.group = r->arg[11].ptr;
    img.groupLen = r->arg[11].len;
    img.dedupId = r->arg[12].ptr;
    img.dedupIdLen = r->arg[12].len;
    img.dlqSource = r->arg[13].ptr;
    img.dlqSourceLen = r->arg[13].len;
    img.body = r->arg[14].ptr;
    img.bodyLen = r->arg[14].len;
    queue *q = lookupArg(e, r, 0);
    if (!q) return 0;
    int fifo = queueGetAttrs(q)->fifo;
    if (fifo && !img.groupLen)
        return engineRefused(r, "a message of a fifo queue needs a group");
    if (!fifo && img.groupLen)
        return engineRefused(r, "a message of a standard queue has no group");
    if (engineApplyMessage(e, q, &img, countSend) != QE_OK)
        return engineRefused(r, "the queue engine refused it");
    return 0;
}

/* LEASE <name> <seq> <receives> <tag> <first-received> <until> */
static int applyLease(engine *e, record *r) {
    uint64_t seq;
    uint32_t receives, tag;
    int64_t firstReceived, until;
    if (argQueueName(r, 0, "name") || argSeq(r, 1, "seq", &seq) ||
        argU32(r, 2, "receives", 1, &receives) || argU32(r, 3, "tag", 0, &tag) ||
        argTime(r, 4, "first-received", &firstReceived) ||
        argTime(r, 5, "until", &until))
        return -1;
    queue *q = lookupArg(e, r, 0);
    if (q) engineApplyLease(e, q, seq, receives, tag, firstReceived, until);
    return 0;
}

/* STATE <name> <seq> <state> <until> */
static int applyState(engine *e, record *r) {
    uint64_t seq;
    int state;
    int64_t until;
    if (argQueueName(r, 0, "name") || argSeq(r, 1, "seq", &seq) ||
        argState(r, 2, &state, &until))
        return -1;
    queue *q = lookupArg(e, r, 0);
    if (q) engineApplyState(e, q, seq, state, until);
    return 0;
}

/* DEL <name> <seq>, EXPIRE <name> <seq> */
static int applyRemove(engine *e, record *r, int expired) {
    uint64_t seq;
    if (argQueueName(r, 0, "name") || argSeq(r, 1, "seq", &seq)) return -1;
    queue *q = lookupArg(e, r, 0);
    if (q) engineApplyRemove(e, q, seq, expired);
    return 0;
}

/* MOVE <from> <to> <old-seq> <new-seq> <kind> <sent> <expire> <receives>
 *      <first-received> <dlq-source> <state> <until> */
static int applyMove(engine *e, record *r) {
    uint64_t oldSeq;
    messageImage img;
    memset(&img, 0, sizeof(img));
    if (argQueueName(r, 0, "from") || argQueueName(r, 1, "to") ||
        argSeq(r, 2, "old-seq", &oldSeq) || argSeq(r, 3, "new-seq", &img.seq))
        return -1;
    const respArg *kind = &r->arg[4];
    int deadletter;
    if (kind->len == 10 && !memcmp(kind->ptr, "deadletter", 10))
        deadletter = 1;
    else if (kind->len == 7 && !memcmp(kind->ptr, "redrive", 7))
        deadletter = 0;
    else
        return badArg(r, 4, "kind");
    if (argTime(r, 5, "sent", &img.sentMs) ||
        argOptTime(r, 6, "expire", INT64_MAX, &img.expireMs) ||
        argU32(r, 7, "receives", 0, &img.receives) ||
        argOptTime(r, 8, "first-received", 0, &img.firstReceivedMs) ||
        argOptQueueName(r, 9, "dlq-source") ||
        argState(r, 10, &img.state, &img.untilMs))
        return -1;
    img.dlqSource = r->arg[9].ptr;
    img.dlqSourceLen = r->arg[9].len;
    queue *from = lookupArg(e, r, 0), *to = lookupArg(e, r, 1);
    if (!from || !to) return 0;
    if (queueGetAttrs(from)->fifo != queueGetAttrs(to)->fifo)
        return engineRefused(r, "a message cannot move between a fifo and a "
                                "standard queue");
    if (engineApplyMove(e, from, to, oldSeq, &img, deadletter) != QE_OK)
        return engineRefused(r, "the new seq belongs to another message");
    return 0;
}

/* DEDUP <name> <dedupid> <id-seq> <expires> */
static int applyDedup(engine *e, record *r) {
    uint64_t idSeq;
    int64_t expires;
    if (argQueueName(r, 0, "name") || argText(r, 1, "dedupid", 0) ||
        argSeq(r, 2, "id-seq", &idSeq) || argTime(r, 3, "expires", &expires))
        return -1;
    queue *q = lookupArg(e, r, 0);
    if (q) engineApplyDedup(e, q, r->arg[1].ptr, r->arg[1].len, idSeq, expires);
    return 0;
}

enum {
    REC_HEADER,
    REC_QUEUE,
    REC_COUNTERS,
    REC_DROP,
    REC_PURGE,
    REC_SEND,
    REC_MSG,
    REC_LEASE,
    REC_STATE,
    REC_DEL,
    REC_EXPIRE,
    REC_MOVE,
    REC_DEDUP,
};

/* Every record type and its exact number of arguments after the type. */
static const struct {
    const char *name;
    int nargs;
} recordTypes[] = {
    [REC_HEADER] = {"HEADER", 5},     [REC_QUEUE] = {"QUEUE", 13},
    [REC_COUNTERS] = {"COUNTERS", 6}, [REC_DROP] = {"DROP", 1},
    [REC_PURGE] = {"PURGE", 1},       [REC_SEND] = {"SEND", 15},
    [REC_MSG] = {"MSG", 15},          [REC_LEASE] = {"LEASE", 6},
    [REC_STATE] = {"STATE", 4},       [REC_DEL] = {"DEL", 2},
    [REC_EXPIRE] = {"EXPIRE", 2},     [REC_MOVE] = {"MOVE", 12},
    [REC_DEDUP] = {"DEDUP", 4},
};

int aofrecApply(engine *e, int argc, const respArg *argv, uint64_t *lsn, char *err,
                size_t errcap) {
    if (argc < 1 || argv[0].len != 7 || strncasecmp(argv[0].ptr, "QREPLAY", 7)) {
        snprintf(err, errcap, "not a QREPLAY record");
        return -1;
    }
    if (argc < 3) {
        snprintf(err, errcap, "QREPLAY needs an LSN and a record type");
        return -1;
    }
    if (!parseU64(argv[1].ptr, argv[1].len, lsn)) {
        char shown[300];
        escapeValue(shown, sizeof(shown), argv[1].ptr, argv[1].len);
        snprintf(err, errcap, "bad LSN '%s'", shown);
        return -1;
    }
    const respArg *t = &argv[2];
    int type = -1;
    for (size_t i = 0; i < sizeof(recordTypes) / sizeof(recordTypes[0]); i++) {
        size_t len = strlen(recordTypes[i].name);
        if (t->len == len && !memcmp(t->ptr, recordTypes[i].name, len)) {
            type = (int)i;
            break;
        }
    }
    if (type < 0) {
        char shown[300];
        escapeValue(shown, sizeof(shown), t->ptr, t->len);
        snprintf(err, errcap, "unknown record type '%s'", shown);
        return -1;
    }
    record r = {.type = recordTypes[type].name,
                .arg = argv + 3,
                .argc = argc - 3,
                .err = err,
                .errcap = errcap};
    if (r.argc != recordTypes[type].nargs) {
        snprintf(err, errcap, "%s record needs %d arguments, got %d", r.type,
                 recordTypes[type].nargs, r.argc);
        return -1;
    }
    switch (type) {
    case REC_HEADER:
        return applyHeader(e, &r);
    case REC_QUEUE:
        return applyQueue(e, &r);
    case REC_COUNTERS:
        return applyCounters(e, &r);
    case REC_DROP:
        return applyDropOrPurge(e, &r, 1);
    case REC_PURGE:
        return applyDropOrPurge(e, &r, 0);
    case REC_SEND:
        return applyMessage(e, &r, 1);
    case REC_MSG:
        return applyMessage(e, &r, 0);
    case REC_LEASE:
        return applyLease(e, &r);
    case REC_STATE:
        return applyState(e, &r);
    case REC_DEL:
        return applyRemove(e, &r, 0);
    case REC_EXPIRE:
        return applyRemove(e, &r, 1);
    case REC_MOVE:
        return applyMove(e, &r);
    default:
        return applyDedup(e, &r);
    }
}
