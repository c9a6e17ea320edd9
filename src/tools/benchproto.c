/* benchproto.c: the five ways respq-benchmark speaks a queue workload; see
 * benchproto.h for the table of requests per target and why it is shaped so.
 *
 * Sample exchange, beanstalkd (the one protocol read here rather than by
 * hiredis):
 *   put 0 0 60 5\r\nhello\r\n      -> INSERTED 17\r\n
 *   reserve-with-timeout 0\r\n     -> RESERVED 17 5\r\nhello\r\n  or  TIMED_OUT\r\n
 *   delete 17\r\n                  -> DELETED\r\n
 */
#include "benchproto.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* ---- Targets ---- */

static const char *const targetNames[] = {"respq", "redis-list", "redis-lmove",
                                          "redis-stream", "beanstalkd"};

int benchTargetParse(const char *name, benchTarget *out) {
    for (size_t i = 0; i < sizeof(targetNames) / sizeof(targetNames[0]); i++) {
        if (strcmp(name, targetNames[i]) == 0) {
            *out = (benchTarget)i;
            return 0;
        }
    }
    return -1;
}

const char *benchTargetName(benchTarget t) { return targetNames[t]; }

int benchTargetAcks(benchTarget t) { return t != BENCH_REDIS_LIST; }

/* ---- Encoding ---- */

static void addCmd(respBuf *out, int argc, const char *const *argv, const size_t *lens) {
    respAddArrayLen(out, argc);
    for (int i = 0; i < argc; i++)
        respAddBulk(out, argv[i], lens ? lens[i] : strlen(argv[i]));
}

static void addLine(respBuf *out, const char *text) {
    respBufAppend(out, text, strlen(text));
    respBufAppend(out, "\r\n", 2);
}

static void processingList(char *out, size_t cap, const char *queue) {
    snprintf(out, cap, "%s:processing", queue);
}

int benchProtoConnSetup(benchTarget t, respBuf *out, int consumer,
                        const char *const *queues, int nqueues, int queue) {
    if (t != BENCH_BEANSTALKD) return 0;
    char line[300];
    if (!consumer) {
        snprintf(line, sizeof(line), "use %s", queues[queue]);
        addLine(out, line);
        return 1;
    }
    /* A consumer takes from every tube it watches: all of the run's tubes, and
     * not the default one. */
    for (int i = 0; i < nqueues; i++) {
        snprintf(line, sizeof(line), "watch %s", queues[i]);
        addLine(out, line);
    }
    addLine(out, "ignore default");
    return nqueues + 1;
}

void benchProtoSend(benchTarget t, respBuf *out, const char *queue, const char *body,
                    size_t len) {
    switch (t) {
    case BENCH_RESPQ: {
        const char *argv[] = {"QSEND", queue, body};
        size_t lens[] = {5, strlen(queue), len};
        addCmd(out, 3, argv, lens);
        break;
    }
    case BENCH_REDIS_LIST:
    case BENCH_REDIS_LMOVE: {
        const char *argv[] = {"LPUSH", queue, body};
        size_t lens[] = {5, strlen(queue), len};
        addCmd(out, 3, argv, lens);
        break;
    }
    case BENCH_REDIS_STREAM: {
        const char *argv[] = {"XADD", queue, "*", "m", body};
        size_t lens[] = {4, strlen(queue), 1, 1, len};
        addCmd(out, 5, argv, lens);
        break;
    }
    case BENCH_BEANSTALKD: {
        char head[64];
        int n = snprintf(head, sizeof(head), "put 0 0 60 %zu\r\n", len);
        respBufAppend(out, head, (size_t)n);
        respBufAppend(out, body, len);
        respBufAppend(out, "\r\n", 2);
        break;
    }
    }
}

void benchProtoRecv(benchTarget t, respBuf *out, const char *queue, int count,
                    long blockMs, const char *consumer) {
    char countStr[24], waitStr[32], proc[300];
    snprintf(countStr, sizeof(countStr), "%d", count);
    /* Seconds with millisecond resolution, as QRECV WAIT and BLMPOP take them. */
    if (blockMs >= 0) snprintf(waitStr, sizeof(waitStr), "%ld.%03ld", blockMs / 1000, blockMs % 1000);
    switch (t) {
    case BENCH_RESPQ:
        if (blockMs >= 0) {
            const char *argv[] = {"QRECV", queue, "COUNT", countStr, "WAIT", waitStr};
            addCmd(out, 6, argv, NULL);
        } else {
            const char *argv[] = {"QRECV", queue, "COUNT", countStr};
            addCmd(out, 4, argv, NULL);
        }
        break;
    case BENCH_REDIS_LIST:
        if (blockMs >= 0) {
            const char *argv[] = {"BLMPOP", waitStr, "1", queue, "RIGHT", "COUNT", countStr};
            addCmd(out, 7, argv, NULL);
        } else {
            const char *argv[] = {"RPOP", queue, countStr};
            addCmd(out, 3, argv, NULL);
        }
        break;
    case BENCH_REDIS_LMOVE:
        processingList(proc, sizeof(proc), queue);
        if (blockMs >= 0) {
            const char *argv[] = {"BLMOVE", queue, proc, "RIGHT", "LEFT", waitStr};
            addCmd(out, 6, argv, NULL);
        } else {
            const char *argv[] = {"LMOVE", queue, proc, "RIGHT", "LEFT"};
            addCmd(out, 5, argv, NULL);
        }
        break;
    case BENCH_REDIS_STREAM: {
        char blockStr[24];
        snprintf(blockStr, sizeof(blockStr), "%ld", blockMs);
        if (blockMs >= 0) {
            const char *argv[] = {"XREADGROUP", "GROUP", "g", consumer, "COUNT", countStr,
                                  "BLOCK", blockStr, "STREAMS", queue, ">"};
            addCmd(out, 11, argv, NULL);
        } else {
            const char *argv[] = {"XREADGROUP", "GROUP", "g", consumer, "COUNT",
                                  countStr, "STREAMS", queue, ">"};
            addCmd(out, 9, argv, NULL);
        }
        break;
    }
    case BENCH_BEANSTALKD: {
        char line[64];
        /* beanstalkd waits in whole seconds; 0 answers at once. */
        snprintf(line, sizeof(line), "reserve-with-timeout %ld",
                 blockMs < 0 ? 0 : (blockMs + 999) / 1000);
        addLine(out, line);
        break;
    }
    }
}

int benchProtoAck(benchTarget t, respBuf *out, const char *queue, const benchMsg *msgs,
                  size_t n) {
    if (n == 0) return 0;
    switch (t) {
    case BENCH_RESPQ:
    case BENCH_REDIS_STREAM: {
        /* One request names them all: QDEL q r1 r2 ... / XACK q g id1 id2 ... */
        int stream = t == BENCH_REDIS_STREAM;
        respAddArrayLen(out, (long long)n + (stream ? 3 : 2));
        respAddBulkStr(out, stream ? "XACK" : "QDEL");
        respAddBulkStr(out, queue);
        if (stream) respAddBulkStr(out, "g");
        for (size_t i = 0; i < n; i++) respAddBulk(out, msgs[i].handle, msgs[i].handleLen);
        return 1;
    }
    case BENCH_REDIS_LIST:
        return 0;
    case BENCH_REDIS_LMOVE: {
        char proc[300];
        processingList(proc, sizeof(proc), queue);
        for (size_t i = 0; i < n; i++) {
            const char *argv[] = {"LREM", proc, "1", msgs[i].handle};
            size_t lens[] = {4, strlen(proc), 1, msgs[i].handleLen};
            addCmd(out, 4, argv, lens);
        }
        return (int)n;
    }
    case BENCH_BEANSTALKD:
        for (size_t i = 0; i < n; i++) {
            char line[64];
            snprintf(line, sizeof(line), "delete %.*s", (int)msgs[i].handleLen, msgs[i].handle);
            addLine(out, line);
        }
        return (int)n;
    }
    return 0;
}

/* ---- Decoding ---- */

void benchDecoderInit(benchDecoder *d, benchTarget t) {
    memset(d, 0, sizeof(*d));
    d->target = t;
    if (t != BENCH_BEANSTALKD) d->reader = redisReaderCreate();
}

void benchDecoderFree(benchDecoder *d) {
    if (d->lastReply) freeReplyObject(d->lastReply);
    if (d->reader) redisReaderFree(d->reader);
    respBufFree(&d->in);
    memset(d, 0, sizeof(*d));
}

int benchDecoderFeed(benchDecoder *d, const char *buf, size_t len) {
    if (d->reader) return redisReaderFeed(d->reader, buf, len) == REDIS_OK ? 0 : -1;
    /* Drop what was read before appending, so the buffer holds one window. */
    if (d->inOff) {
        memmove(d->in.data, d->in.data + d->inOff, d->in.len - d->inOff);
        d->in.len -= d->inOff;
        d->inOff = 0;
    }
    respBufAppend(&d->in, buf, len);
    return 0;
}

static void setError(benchReply *r, const char *p, size_t n) {
    r->isError = 1;
    if (n >= sizeof(r->error)) n = sizeof(r->error) - 1;
    memcpy(r->error, p, n);
    r->error[n] = '\0';
}

static int isBulk(const redisReply *x) { return x && x->type == REDIS_REPLY_STRING; }

static int addMsg(benchReply *r, const char *body, size_t bodyLen, const char *handle,
                  size_t handleLen) {
    if (r->nmsgs == BENCH_MAX_BATCH) return -1;
    benchMsg *m = &r->msgs[r->nmsgs++];
    m->body = body;
    m->bodyLen = bodyLen;
    m->handle = handle;
    m->handleLen = handleLen;
    return 0;
}

/* The messages of a receive's RESP reply, by target. */
static int readMessages(benchTarget t, const redisReply *x, benchReply *r, char *err,
                        size_t errcap) {
    if (x->type == REDIS_REPLY_NIL) return 0; /* nothing there */
    switch (t) {
    case BENCH_RESPQ:
        if (x->type != REDIS_REPLY_ARRAY) break;
        for (size_t i = 0; i < x->elements; i++) {
            const redisReply *m = x->element[i];
            if (m->type != REDIS_REPLY_ARRAY || m->elements < 4 || !isBulk(m->element[1]) ||
                !isBulk(m->element[2]))
                goto bad;
            if (addMsg(r, m->element[2]->str, m->element[2]->len, m->element[1]->str,
                       m->element[1]->len) == -1)
                goto bad;
        }
        return 0;
    case BENCH_REDIS_LIST: {
        const redisReply *list = x;
        /* BLMPOP: [key, [elements]]; RPOP with a count: [elements]. */
        if (x->type == REDIS_REPLY_ARRAY && x->elements == 2 &&
            x->element[1]->type == REDIS_REPLY_ARRAY)
            list = x->element[1];
        if (list->type != REDIS_REPLY_ARRAY) break;
        for (size_t i = 0; i < list->elements; i++) {
            if (!isBulk(list->element[i])) goto bad;
            if (addMsg(r, list->element[i]->str, list->element[i]->len, NULL, 0) == -1)
                goto bad;
        }
        return 0;
    }
    case BENCH_REDIS_LMOVE:
        if (!isBulk(x)) break;
        return addMsg(r, x->str, x->len, x->str, x->len) == -1 ? -1 : 0;
    case BENCH_REDIS_STREAM:
        /* [[key, [[id, [field, value]], ...]]] */
        if (x->type != REDIS_REPLY_ARRAY) break;
        for (size_t s = 0; s < x->elements; s++) {
            const redisReply *st = x->element[s];
            if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 ||
                st->element[1]->type != REDIS_REPLY_ARRAY)
                goto bad;
            const redisReply *entries = st->element[1];
            for (size_t i = 0; i < entries->elements; i++) {
                const redisReply *e = entries->element[i];
                if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !isBulk(e->element[0]) ||
                    e->element[1]->type != REDIS_REPLY_ARRAY || e->element[1]->elements < 2 ||
                    !isBulk(e->element[1]->element[1]))
                    goto bad;
                const redisReply *v = e->element[1]->element[1];
                if (addMsg(r, v->str, v->len, e->element[0]->str, e->element[0]->len) == -1)
                    goto bad;
            }
        }
        return 0;
    case BENCH_BEANSTALKD:
        break;
    }
bad:
    snprintf(err, errcap, "unexpected reply to a %s receive (type %d)", benchTargetName(t),
             x->type);
    return -1;
}

static int nextResp(benchDecoder *d, benchReqKind kind, benchReply *r, char *err,
                    size_t errcap) {
    void *obj = NULL;
    if (redisReaderGetReply(d->reader, &obj) != REDIS_OK) {
        snprintf(err, errcap, "protocol error: %s", ((redisReader *)d->reader)->errstr);
        return -1;
    }
    if (!obj) return 0;
    redisReply *x = obj;
    d->lastReply = x; /* the messages point into it until the next call */
    if (x->type == REDIS_REPLY_ERROR) {
        setError(r, x->str, x->len);
        return 1;
    }
    if (x->type == REDIS_REPLY_INTEGER) r->integer = x->integer;
    if (kind == BENCH_REQ_RECV && readMessages(d->target, x, r, err, errcap) == -1) return -1;
    return 1;
}

/* beanstalkd: one line, and for RESERVED its body. */
static int nextBeanstalk(benchDecoder *d, benchReqKind kind, benchReply *r, char *err,
                         size_t errcap) {
    const char *p = d->in.data + d->inOff;
    size_t avail = d->in.len - d->inOff;
    const char *eol = avail ? memchr(p, '\n', avail) : NULL;
    if (!eol) {
        if (avail > 256) {
            snprintf(err, errcap, "beanstalkd reply line longer than 256 bytes");
            return -1;
        }
        return 0;
    }
    size_t lineLen = (size_t)(eol - p) + 1;
    if (lineLen < 2 || eol[-1] != '\r') {
        snprintf(err, errcap, "beanstalkd reply line without CRLF");
        return -1;
    }
    size_t textLen = lineLen - 2;
    if (textLen >= 9 && memcmp(p, "RESERVED ", 9) == 0) {
        char *end;
        const char *id = p + 9;
        const char *sp = memchr(id, ' ', textLen - 9);
        if (!sp) goto bad;
        unsigned long long bytes = strtoull(sp + 1, &end, 10);
        if (end != p + textLen || bytes > (1ULL << 32)) goto bad;
        if (avail < lineLen + bytes + 2) return 0;
        if (p[lineLen + bytes] != '\r' || p[lineLen + bytes + 1] != '\n') goto bad;
        if (addMsg(r, p + lineLen, (size_t)bytes, id, (size_t)(sp - id)) == -1) goto bad;
        d->inOff += lineLen + (size_t)bytes + 2;
        return 1;
    }
    d->inOff += lineLen;
    static const char *const fine[] = {"INSERTED ", "DELETED", "TIMED_OUT", "DEADLINE_SOON",
                                       "USING ", "WATCHING "};
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        size_t n = strlen(fine[i]);
        if (textLen >= n && memcmp(p, fine[i], n) == 0) {
            if (kind == BENCH_REQ_ACK && i != 1) goto bad;
            if (i == 3) r->again = 1;
            if (i == 1) r->integer = 1; /* DELETED: one job removed */
            return 1;
        }
    }
    /* NOT_FOUND, OUT_OF_MEMORY, BURIED, JOB_TOO_BIG, DRAINING, ...: a refusal. */
    setError(r, p, textLen);
    return 1;
bad:
    snprintf(err, errcap, "unexpected beanstalkd reply '%.*s'", (int)(textLen > 60 ? 60 : textLen), p);
    return -1;
}

int benchProtoNext(benchDecoder *d, benchReqKind kind, benchReply *r, char *err,
                   size_t errcap) {
    if (d->lastReply) {
        freeReplyObject(d->lastReply);
        d->lastReply = NULL;
    }
    r->isError = 0;
    r->error[0] = '\0';
    r->integer = -1;
    r->again = 0;
    r->nmsgs = 0;
    return d->reader ? nextResp(d, kind, r, err, errcap) : nextBeanstalk(d, kind, r, err, errcap);
}
