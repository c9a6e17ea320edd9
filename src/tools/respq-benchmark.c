/* respq-benchmark: measures a queue server with queue workloads, the way a
 * user would run them, and checks that nothing was lost or delivered twice.
 *
 * Workloads:
 *   send       every connection sends until -n messages were acknowledged;
 *   recv       every connection receives and acknowledges what is there
 *              (pipelined, COUNT per receive) until the queues are empty, and
 *              checks it got messages 0 .. n-1 of an earlier `send` run once each;
 *   mixed      producers and consumers at once for -T seconds (consumers block
 *              in long polls), then the consumers drain what is left;
 *   roundtrip  as mixed, with producers held to -r messages a second, and the
 *              time from each send to its receipt through the long-polling
 *              consumer reported.
 * The same code speaks to respq, Redis (lists, the LMOVE reliable pattern,
 * streams) and beanstalkd (benchproto.h), so ratios between servers compare
 * servers, not clients.
 *
 * One thread and epoll: every connection keeps up to -P requests in flight
 * (consumers that long-poll keep one receive and its acknowledgements). Each
 * body starts with "<run id>:<seq>:<send time ns>:" and is padded to -d bytes;
 * the seq marks a bitmap on receipt, which is how duplicates and losses are
 * counted. mixed and roundtrip count only their own run's messages (a body of
 * another run, left in the queue, fails the check); recv counts any run's, as
 * it drains what an earlier `send` process left.
 * Output: a human summary, then one `RESULT key=value ...` line for scripts.
 * Exit status 1 on any error reply, lost or duplicated message, or dropped
 * connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchhist.h"
#include "benchproto.h"
#include "mem.h"

/* ---- Options and run state ---- */

typedef enum { WL_SEND, WL_RECV, WL_MIXED, WL_ROUNDTRIP } workload;
static const char *const workloadNames[] = {"send", "recv", "mixed", "roundtrip"};

static struct {
    const char *host;
    const char *port;
    benchTarget target;
    workload wl;
    int connections;
    int pipeline;
    size_t bodySize;
    long long messages; /* 0: no limit (mixed, roundtrip) */
    int queues;
    int count;          /* messages per receive */
    double rate;        /* messages a second over all producers; 0 = flat out */
    double seconds;     /* sending time of mixed and roundtrip */
    int producers;      /* mixed, roundtrip; 0 = half of the connections */
    const char *prefix;
    int quiet;
} opt = {"127.0.0.1", "6390", BENCH_RESPQ, WL_SEND, 50, 1, 100, -1, 1, 1, 0, 10, 0,
         "bench", 0};

#define BLOCK_MS 1000       /* a long poll's wait, on every target */
#define RATE_GRAIN_NS 100000ULL /* rate-limited producers wake at most this often */
#define DRAIN_STALL_NS 10000000000ULL /* give up draining after 10 s without news */

typedef struct pending {
    benchReqKind kind;
    int queue;
    int acks;          /* RECV: -, ACK: messages this request acknowledges */
    uint64_t startNs;
} pending;

typedef struct conn {
    int fd;
    int index;
    int consumer;      /* 1: receives, 0: sends */
    int blocking;      /* consumer that long-polls (one receive at a time) */
    int queue;         /* its queue (producers, long-polling consumers) */
    int nextQueue;     /* draining consumers: next queue to ask */
    int emptyStreak;   /* draining consumers: empty replies in a row */
    int stopped;       /* issues no new requests */
    respBuf out;
    size_t outOff;     /* bytes of out already written */
    int wantWrite;     /* EPOLLOUT registered */
    benchDecoder dec;
    pending *ring;     /* owned; requests in flight, oldest first */
    size_t ringCap, ringHead, ringLen;
    int primaryInFlight; /* sends or receives in flight (acks not counted) */
    uint64_t nextSendNs; /* rate limit: when this producer may send again */
    char consumerName[16];
} conn;

static struct {
    conn *conns;
    char **queueNames;
    int ep;
    uint64_t startNs, endNs, sendEndNs;
    long long nextSeq;    /* the seq of the next message sent */
    long long sentOk;     /* sends the server acknowledged */
    long long sendErrors;
    long long received;   /* messages received, duplicates included */
    long long unique;
    long long duplicates;
    long long outOfRange;
    long long badBodies;  /* unreadable, or another run's (mixed, roundtrip) */
    long long ackErrors;
    long long ackMissed;  /* QDEL answered fewer than it was given */
    long long recvErrors;
    char firstError[256]; /* what, then the server's text (at most 199 bytes) */
    int stopSending;
    uint64_t lastNewsNs;  /* the last time a message arrived */
    unsigned char *seen;  /* bitmap by seq, owned */
    size_t seenBytes;
    benchHist reqHist;    /* request to reply, per send or receive */
    benchHist e2eHist;    /* send to receipt, from the body's time stamp */
    int producerCount;
    unsigned runId;       /* random: tells this run's bodies from others' */
} run;

static uint64_t nowNs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "respq-benchmark: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static void noteError(const char *what, const char *text) {
    if (run.firstError[0]) return;
    snprintf(run.firstError, sizeof(run.firstError), "%s: %s", what, text);
}

/* ---- Connections ---- */

static int connectTo(const char *host, const char *port) {
    struct addrinfo hints = {0}, *res;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) die("cannot resolve the host: %s", gai_strerror(rc));
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd == -1) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd == -1) die("cannot connect: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void pushPending(conn *c, benchReqKind kind, int queue, int acks, uint64_t t) {
    if (c->ringLen == c->ringCap) {
        size_t cap = c->ringCap ? c->ringCap * 2 : 64;
        pending *ring = memAlloc(cap * sizeof(*ring));
        for (size_t i = 0; i < c->ringLen; i++) ring[i] = c->ring[(c->ringHead + i) % c->ringCap];
        memFree(c->ring);
        c->ring = ring;
        c->ringCap = cap;
        c->ringHead = 0;
    }
    pending *p = &c->ring[(c->ringHead + c->ringLen) % c->ringCap];
    p->kind = kind;
    p->queue = queue;
    p->acks = acks;
    p->startNs = t;
    c->ringLen++;
}

static pending popPending(conn *c) {
    pending p = c->ring[c->ringHead];
    c->ringHead = (c->ringHead + 1) % c->ringCap;
    c->ringLen--;
    return p;
}

static void setWriteInterest(conn *c, int want) {
    if (c->wantWrite == want) return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(run.ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->wantWrite = want;
}

static void flushOut(conn *c) {
    while (c->outOff < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->outOff, c->out.len - c->outOff);
        if (n > 0) {
            c->outOff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            setWriteInterest(c, 1);
            return;
        } else {
            die("write to the server failed: %s", strerror(errno));
        }
    }
    c->out.len = c->outOff = 0;
    setWriteInterest(c, 0);
}

/* ---- Messages ---- */

static void markSeen(long long seq) {
    size_t byte = (size_t)(seq / 8);
    if (byte >= run.seenBytes) {
        size_t n = run.seenBytes ? run.seenBytes : 4096;
        while (n <= byte) n *= 2;
        unsigned char *grown = memAlloc(n);
        memset(grown, 0, n);
        if (run.seen) memcpy(grown, run.seen, run.seenBytes);
        memFree(run.seen);
        run.seen = grown;
        run.seenBytes = n;
    }
    unsigned char bit = (unsigned char)(1u << (seq % 8));
    if (run.seen[byte] & bit) {
        run.duplicates++;
    } else {
        run.seen[byte] |= bit;
        run.unique++;
    }
}

/* Reads "<run id>:<seq>:<ns>:" at the start of a body; -1 when it is not
 * there or a number does not fit (at most 18 digits each). */
static int parseBody(const char *p, size_t n, unsigned long long *id, long long *seq,
                     uint64_t *ns) {
    unsigned long long v[3] = {0, 0, 0};
    size_t i = 0;
    for (int f = 0; f < 3; f++) {
        size_t start = i;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (i - start == 18) return -1;
            v[f] = v[f] * 10 + (unsigned long long)(p[i++] - '0');
        }
        if (i == start || i >= n || p[i] != ':') return -1;
        i++;
    }
    *id = v[0];
    *seq = (long long)v[1];
    *ns = v[2];
    return 0;
}

static void gotMessage(const benchMsg *m, uint64_t now) {
    unsigned long long id;
    long long seq;
    uint64_t sentNs;
    run.received++;
    run.lastNewsNs = now;
    int own = opt.wl == WL_MIXED || opt.wl == WL_ROUNDTRIP;
    if (parseBody(m->body, m->bodyLen, &id, &seq, &sentNs) == -1 ||
        (own && id != run.runId)) {
        run.badBodies++;
        return;
    }
    /* recv checks the messages of an earlier run, numbered 0 .. n-1; mixed and
     * roundtrip their own, numbered below the next seq to send. */
    if (seq >= (own ? run.nextSeq : opt.messages)) {
        run.outOfRange++;
        return;
    }
    markSeen(seq);
    if (own) benchHistRecord(&run.e2eHist, now > sentNs ? now - sentNs : 0);
}

/* ---- Issuing requests ---- */

static int producerMaySend(void) {
    if (run.stopSending) return 0;
    return opt.messages <= 0 || run.nextSeq < opt.messages;
}

/* sentNs goes in the body: the time the send was due. Under a rate limit that
 * is its slot in the schedule, not when the loop got to it, so time a message
 * waits behind a slow server or a full pipeline counts in its latency. */
static void issueSend(conn *c, uint64_t now, uint64_t sentNs) {
    static char *body;
    static size_t bodyCap;
    size_t need = opt.bodySize > 64 ? opt.bodySize : 64;
    if (bodyCap < need) {
        memFree(body);
        body = memAlloc(need);
        bodyCap = need;
    }
    int n = snprintf(body, bodyCap, "%u:%lld:%llu:", run.runId, run.nextSeq++,
                     (unsigned long long)sentNs);
    size_t len = (size_t)n;
    if (len < opt.bodySize) {
        memset(body + len, 'x', opt.bodySize - len);
        len = opt.bodySize;
    }
    benchProtoSend(opt.target, &c->out, run.queueNames[c->queue], body, len);
    pushPending(c, BENCH_REQ_SEND, c->queue, 0, now);
    c->primaryInFlight++;
}

static void issueRecv(conn *c, uint64_t now) {
    int q = c->blocking ? c->queue : c->nextQueue;
    if (!c->blocking) c->nextQueue = (c->nextQueue + 1) % opt.queues;
    benchProtoRecv(opt.target, &c->out, run.queueNames[q], opt.count,
                   c->blocking ? BLOCK_MS : -1, c->consumerName);
    pushPending(c, BENCH_REQ_RECV, q, 0, now);
    c->primaryInFlight++;
}

/* Issues what the connection may issue now, then writes it. */
static void fill(conn *c, uint64_t now) {
    if (!c->stopped) {
        if (!c->consumer) {
            double interval = opt.rate > 0 ? 1e9 * run.producerCount / opt.rate : 0;
            while (c->primaryInFlight < opt.pipeline && producerMaySend()) {
                uint64_t due = now;
                if (interval > 0) {
                    if (now < c->nextSendNs) break;
                    /* Sends that came due while the loop slept go out now, each
                     * stamped with its own slot; only after a stall of a second
                     * does the schedule start again from now. */
                    if (now - c->nextSendNs > 1000000000ULL) c->nextSendNs = now;
                    due = c->nextSendNs;
                    c->nextSendNs += (uint64_t)interval;
                }
                issueSend(c, now, due);
            }
        } else {
            int limit = c->blocking ? 1 : opt.pipeline;
            while (c->primaryInFlight < limit) issueRecv(c, now);
        }
    }
    if (c->out.len > c->outOff) flushOut(c);
}

/* ---- Replies ---- */

static benchReply reply; /* large (a batch of messages); one reply at a time */

static void onReply(conn *c, pending p, uint64_t now) {
    if (p.kind == BENCH_REQ_SETUP) {
        if (reply.isError) die("the server refused the connection's setup: %s", reply.error);
        return;
    }
    if (p.kind == BENCH_REQ_ACK) {
        if (reply.isError) {
            run.ackErrors++;
            noteError("acknowledgement", reply.error);
        } else if (reply.integer >= 0 && reply.integer < p.acks) {
            /* QDEL, XACK and LREM answer how many they removed: fewer than
             * asked means a lease ran out or the message was taken twice. */
            run.ackMissed += p.acks - reply.integer;
        }
        return;
    }
    c->primaryInFlight--;
    benchHistRecord(&run.reqHist, now - p.startNs);
    if (p.kind == BENCH_REQ_SEND) {
        if (reply.isError) {
            run.sendErrors++;
            noteError("send", reply.error);
        } else {
            run.sentOk++;
        }
        return;
    }
    /* A receive. */
    if (reply.isError) {
        run.recvErrors++;
        noteError("receive", reply.error);
        c->stopped = 1;
        return;
    }
    for (size_t i = 0; i < reply.nmsgs; i++) gotMessage(&reply.msgs[i], now);
    int acks = benchProtoAck(opt.target, &c->out, run.queueNames[p.queue], reply.msgs,
                             reply.nmsgs);
    for (int i = 0; i < acks; i++)
        pushPending(c, BENCH_REQ_ACK, p.queue, acks == 1 ? (int)reply.nmsgs : 1, now);
    if (c->blocking) return;
    /* A draining consumer stops once every queue answered empty in a row
     * (beanstalkd's DEADLINE_SOON is not an answer about the queue). */
    if (reply.again) return;
    if (reply.nmsgs == 0) {
        if (++c->emptyStreak >= opt.queues) c->stopped = 1;
    } else {
        c->emptyStreak = 0;
    }
}

static void readConn(conn *c) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n > 0) {
            if (benchDecoderFeed(&c->dec, buf, (size_t)n) == -1) die("%s", "out of memory");
            if ((size_t)n < sizeof(buf)) break;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        die("the server closed a connection: %s", n == 0 ? "end of stream" : strerror(errno));
    }
    uint64_t now = nowNs();
    char err[200];
    while (c->ringLen > 0) {
        benchReqKind kind = c->ring[c->ringHead].kind;
        int rc = benchProtoNext(&c->dec, kind, &reply, err, sizeof(err));
        if (rc == -1) die("%s", err);
        if (rc == 0) break;
        onReply(c, popPending(c), now);
    }
    fill(c, now);
}

/* ---- Setup ---- */

/* Creates the queues (respq QCREATE, the stream's consumer group) over one
 * plain blocking exchange before the clock starts; an existing queue is fine. */
static void createQueues(void) {
    if (opt.target != BENCH_RESPQ && opt.target != BENCH_REDIS_STREAM) return;
    int fd = connectTo(opt.host, opt.port);
    respBuf out = {0};
    for (int q = 0; q < opt.queues; q++) {
        if (opt.target == BENCH_RESPQ) {
            respAddArrayLen(&out, 2);
            respAddBulkStr(&out, "QCREATE");
        } else {
            respAddArrayLen(&out, 6);
            respAddBulkStr(&out, "XGROUP");
            respAddBulkStr(&out, "CREATE");
        }
        respAddBulkStr(&out, run.queueNames[q]);
        if (opt.target == BENCH_REDIS_STREAM) {
            respAddBulkStr(&out, "g");
            respAddBulkStr(&out, "0");
            respAddBulkStr(&out, "MKSTREAM");
        }
    }
    for (size_t off = 0; off < out.len;) {
        ssize_t n = write(fd, out.data + off, out.len - off);
        if (n <= 0) die("setup write failed: %s", strerror(errno));
        off += (size_t)n;
    }
    benchDecoder dec;
    benchDecoderInit(&dec, opt.target);
    char err[200], buf[4096];
    for (int got = 0; got < opt.queues;) {
        int rc = benchProtoNext(&dec, BENCH_REQ_SETUP, &reply, err, sizeof(err));
        if (rc == -1) die("%s", err);
        if (rc == 1) {
            got++;
            if (reply.isError && strncmp(reply.error, "EXISTS", 6) != 0 &&
                strncmp(reply.error, "BUSYGROUP", 9) != 0)
                die("cannot create a queue: %s", reply.error);
            continue;
        }
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) die("setup read failed: %s", n == 0 ? "connection closed" : strerror(errno));
        benchDecoderFeed(&dec, buf, (size_t)n);
    }
    benchDecoderFree(&dec);
    respBufFree(&out);
    close(fd);
}

static void openConnections(void) {
    run.ep = epoll_create1(EPOLL_CLOEXEC);
    if (run.ep == -1) die("epoll_create1: %s", strerror(errno));
    run.conns = memAlloc(sizeof(conn) * (size_t)opt.connections);
    memset(run.conns, 0, sizeof(conn) * (size_t)opt.connections);
    int producers = run.producerCount; /* set and checked by parseOptions */
    uint64_t now = nowNs();
    for (int i = 0; i < opt.connections; i++) {
        conn *c = &run.conns[i];
        c->index = i;
        c->consumer = i >= producers;
        c->blocking = c->consumer && opt.wl != WL_RECV;
        int rank = c->consumer ? i - producers : i;
        c->queue = rank % opt.queues;
        c->nextQueue = c->queue;
        c->nextSendNs = now;
        snprintf(c->consumerName, sizeof(c->consumerName), "c%d", i);
        c->fd = connectTo(opt.host, opt.port);
        benchDecoderInit(&c->dec, opt.target);
        int setups = benchProtoConnSetup(opt.target, &c->out, c->consumer,
                                         (const char *const *)run.queueNames, opt.queues,
                                         c->queue);
        for (int s = 0; s < setups; s++) pushPending(c, BENCH_REQ_SETUP, c->queue, 0, now);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(run.ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
            die("epoll_ctl: %s", strerror(errno));
        /* Blocking connect above, non-blocking I/O from here on. */
        int flags = fcntl(c->fd, F_GETFL);
        if (flags == -1 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) == -1)
            die("fcntl: %s", strerror(errno));
    }
}

/* ---- The run ---- */

static int producersDone(void) {
    if (producerMaySend()) return 0;
    for (int i = 0; i < run.producerCount; i++)
        if (run.conns[i].ringLen > 0) return 0;
    return 1;
}

/* Whether the run is over. */
static int finished(uint64_t now) {
    switch (opt.wl) {
    case WL_SEND:
        return producersDone();
    case WL_RECV:
        for (int i = 0; i < opt.connections; i++)
            if (!run.conns[i].stopped || run.conns[i].ringLen > 0) return 0;
        return 1;
    case WL_MIXED:
    case WL_ROUNDTRIP:
        if (!producersDone()) return 0;
        if (!run.sendEndNs) run.sendEndNs = now;
        /* Everything sent has arrived (a long poll may still be waiting: it is
         * abandoned), and its acknowledgements are answered. */
        if (run.unique >= run.sentOk) {
            for (int i = run.producerCount; i < opt.connections; i++) {
                conn *c = &run.conns[i];
                for (size_t k = 0; k < c->ringLen; k++)
                    if (c->ring[(c->ringHead + k) % c->ringCap].kind == BENCH_REQ_ACK) return 0;
            }
            return 1;
        }
        return now - (run.lastNewsNs > run.sendEndNs ? run.lastNewsNs : run.sendEndNs) >
               DRAIN_STALL_NS;
    }
    return 1;
}

static void progress(uint64_t now, int last) {
    static uint64_t shownNs;
    if (opt.quiet || !isatty(STDERR_FILENO)) return;
    if (!last && now - shownNs < 250000000ULL) return;
    shownNs = now;
    double secs = (double)(now - run.startNs) / 1e9;
    long long done = opt.wl == WL_SEND ? run.sentOk + run.sendErrors : run.received;
    if (opt.wl == WL_SEND || opt.wl == WL_RECV) {
        fprintf(stderr, "\r%s %s: %lld/%lld messages, %.0f msg/s   ", benchTargetName(opt.target),
                workloadNames[opt.wl], done, opt.messages, secs > 0 ? (double)done / secs : 0);
    } else {
        fprintf(stderr, "\r%s %s: %.1f s, %lld sent, %lld received   ",
                benchTargetName(opt.target), workloadNames[opt.wl], secs, run.sentOk,
                run.received);
    }
    if (last) fprintf(stderr, "\r%*s\r", 78, "");
    fflush(stderr);
}

static void loop(void) {
    struct epoll_event events[128];
    run.startNs = run.lastNewsNs = nowNs();
    uint64_t stopAt = run.startNs + (uint64_t)(opt.seconds * 1e9);
    for (int i = 0; i < opt.connections; i++) fill(&run.conns[i], run.startNs);
    for (;;) {
        uint64_t now = nowNs();
        if ((opt.wl == WL_MIXED || opt.wl == WL_ROUNDTRIP) && !run.stopSending && now >= stopAt)
            run.stopSending = 1;
        if (finished(now)) break;
        uint64_t waitNs = 250000000ULL;
        if (opt.rate > 0) {
            /* Wake for the earliest producer's next send, in microseconds
             * (epoll_wait's milliseconds would spin or miss the rate), but at
             * most every RATE_GRAIN_NS: each wake then sends what came due
             * meanwhile in one write, instead of a write per message. */
            for (int i = 0; i < run.producerCount; i++) {
                conn *c = &run.conns[i];
                if (c->primaryInFlight >= opt.pipeline || !producerMaySend()) continue;
                uint64_t w = c->nextSendNs > now ? c->nextSendNs - now : 0;
                if (w < RATE_GRAIN_NS) w = RATE_GRAIN_NS;
                if (w < waitNs) waitNs = w;
            }
        }
        struct timespec timeout = {(time_t)(waitNs / 1000000000ULL),
                                   (long)(waitNs % 1000000000ULL)};
        int n = epoll_pwait2(run.ep, events, 128, &timeout, NULL);
        if (n == -1 && errno != EINTR) die("epoll_pwait2: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readConn(c);
            if (events[i].events & EPOLLOUT) flushOut(c);
        }
        now = nowNs();
        if (opt.rate > 0)
            for (int i = 0; i < run.producerCount; i++) fill(&run.conns[i], now);
        progress(now, 0);
    }
    run.endNs = nowNs();
    progress(run.endNs, 1);
}

/* ---- Report ---- */

static double us(uint64_t ns) { return (double)ns / 1000.0; }

static int report(void) {
    double secs = (double)(run.endNs - run.startNs) / 1e9;
    const benchHist *lat = (opt.wl == WL_MIXED || opt.wl == WL_ROUNDTRIP) ? &run.e2eHist
                                                                         : &run.reqHist;
    long long missing = 0;
    if (opt.wl == WL_RECV) missing = opt.messages - run.unique;
    if (opt.wl == WL_MIXED || opt.wl == WL_ROUNDTRIP) missing = run.sentOk - run.unique;
    long long moved = opt.wl == WL_SEND ? run.sentOk : run.received;
    double rate = secs > 0 ? (double)moved / secs : 0;
    double sendSecs = run.sendEndNs ? (double)(run.sendEndNs - run.startNs) / 1e9 : secs;
    /* The rate the producers kept: below -r when the pipeline was full, and
     * then the latency is not that of the load asked for. */
    double sendRate = sendSecs > 0 ? (double)run.sentOk / sendSecs : 0;
    char rateNote[64];
    snprintf(rateNote, sizeof(rateNote), " of %.0f asked", opt.rate);
    printf("respq-benchmark: %s, workload %s, %d connections, pipeline %d, body %zu bytes, "
           "%d queue%s, count %d%s\n",
           benchTargetName(opt.target), workloadNames[opt.wl], opt.connections, opt.pipeline,
           opt.bodySize, opt.queues, opt.queues == 1 ? "" : "s", opt.count,
           opt.rate > 0 ? "" : ", no rate limit");
    if (opt.wl == WL_SEND)
        printf("  sent %lld messages in %.3f s: %.0f msg/s\n", run.sentOk, secs, rate);
    else if (opt.wl == WL_RECV)
        printf("  received %lld messages in %.3f s: %.0f msg/s\n", run.received, secs, rate);
    else
        printf("  sent %lld in %.3f s (%.0f msg/s%s), received %lld in %.3f s (%.0f msg/s)\n",
               run.sentOk, sendSecs, sendRate, opt.rate > 0 ? rateNote : "", run.received,
               secs, rate);
    printf("  latency (%s): p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
           lat == &run.e2eHist ? "send to receipt" : "request to reply",
           us(benchHistPercentile(lat, 0.50)), us(benchHistPercentile(lat, 0.99)),
           us(benchHistPercentile(lat, 0.999)), us(lat->maxNs));
    if (opt.wl != WL_SEND)
        printf("  check: %lld unique, %lld duplicates, %lld missing, %lld out of range, "
               "%lld unreadable or of another run\n",
               run.unique, run.duplicates, missing, run.outOfRange, run.badBodies);
    long long errors = run.sendErrors + run.recvErrors + run.ackErrors;
    if (errors || run.ackMissed)
        printf("  errors: %lld sends, %lld receives, %lld acknowledgements refused, %lld "
               "acknowledgements that found nothing; first: %s\n",
               run.sendErrors, run.recvErrors, run.ackErrors, run.ackMissed,
               run.firstError[0] ? run.firstError : "-");
    printf("RESULT target=%s workload=%s connections=%d pipeline=%d size=%zu queues=%d "
           "count=%d rate_limit=%.0f send_rate=%.0f messages=%lld seconds=%.3f rate=%.0f p50_us=%.1f "
           "p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%lld duplicates=%lld missing=%lld\n",
           benchTargetName(opt.target), workloadNames[opt.wl], opt.connections, opt.pipeline,
           opt.bodySize, opt.queues, opt.count, opt.rate, sendRate, moved, secs, rate,
           us(benchHistPercentile(lat, 0.50)), us(benchHistPercentile(lat, 0.99)),
           us(benchHistPercentile(lat, 0.999)), us(lat->maxNs), errors + run.ackMissed,
           run.duplicates, missing);
    return errors || run.ackMissed || run.duplicates || missing || run.outOfRange ||
                   run.badBodies
               ? 1
               : 0;
}

/* ---- Options ---- */

static void usage(FILE *f) {
    fprintf(f,
            "Usage: respq-benchmark [options]\n"
            "  -h, --host HOST          server address (127.0.0.1)\n"
            "  -p, --port PORT          server port (6390)\n"
            "  -t, --target NAME        respq | redis-list | redis-lmove | redis-stream |\n"
            "                           beanstalkd (respq)\n"
            "  -w, --workload NAME      send | recv | mixed | roundtrip (send)\n"
            "  -c, --connections N      connections (50)\n"
            "  -P, --pipeline N         requests in flight per connection (1)\n"
            "  -d, --size BYTES         body size; the header (up to 60 bytes) is kept (100)\n"
            "  -n, --messages N         messages to send, or to expect in recv (100000;\n"
            "                           mixed and roundtrip: no limit unless given)\n"
            "  -q, --queues N           queues, spread over the connections (1)\n"
            "  -C, --count N            messages per receive, 1 - %d (1)\n"
            "  -r, --rate N             messages a second over all producers (0: no limit;\n"
            "                           roundtrip: 1000)\n"
            "  -T, --time SECONDS       sending time of mixed and roundtrip (10)\n"
            "      --producers N        producer connections of mixed/roundtrip (half)\n"
            "      --prefix NAME        queue names are NAME.0, NAME.1, ... (bench)\n"
            "      --quiet              no progress line on a terminal\n"
            "      --help               this text\n",
            BENCH_MAX_BATCH);
}

static long long number(const char *what, const char *s, long long lo, long long hi) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "respq-benchmark: %s must be a whole number from %lld to %lld, not '%s'\n",
                what, lo, hi, s);
        exit(2);
    }
    return v;
}

static double decimal(const char *what, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e12) {
        fprintf(stderr, "respq-benchmark: %s must be a number of 0 or more, not '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static void parseOptions(int argc, char **argv) {
    static const struct option longOpts[] = {
        {"host", required_argument, 0, 'h'},        {"port", required_argument, 0, 'p'},
        {"target", required_argument, 0, 't'},      {"workload", required_argument, 0, 'w'},
        {"connections", required_argument, 0, 'c'}, {"pipeline", required_argument, 0, 'P'},
        {"size", required_argument, 0, 'd'},        {"messages", required_argument, 0, 'n'},
        {"queues", required_argument, 0, 'q'},      {"count", required_argument, 0, 'C'},
        {"rate", required_argument, 0, 'r'},        {"time", required_argument, 0, 'T'},
        {"producers", required_argument, 0, 1},     {"prefix", required_argument, 0, 2},
        {"quiet", no_argument, 0, 3},               {"help", no_argument, 0, 4},
        {0, 0, 0, 0}};
    int ch, rateGiven = 0;
    while ((ch = getopt_long(argc, argv, "h:p:t:w:c:P:d:n:q:C:r:T:", longOpts, NULL)) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = optarg; break;
        case 't':
            if (benchTargetParse(optarg, &opt.target) == -1) {
                fprintf(stderr, "respq-benchmark: unknown target '%s' (respq, redis-list, "
                                "redis-lmove, redis-stream, beanstalkd)\n", optarg);
                exit(2);
            }
            break;
        case 'w': {
            int found = -1;
            for (int i = 0; i < 4; i++)
                if (strcmp(optarg, workloadNames[i]) == 0) found = i;
            if (found < 0) {
                fprintf(stderr, "respq-benchmark: unknown workload '%s' (send, recv, mixed, "
                                "roundtrip)\n", optarg);
                exit(2);
            }
            opt.wl = (workload)found;
            break;
        }
        case 'c': opt.connections = (int)number("--connections", optarg, 1, 10000); break;
        case 'P': opt.pipeline = (int)number("--pipeline", optarg, 1, 100000); break;
        case 'd': opt.bodySize = (size_t)number("--size", optarg, 0, 512 << 20); break;
        case 'n': opt.messages = number("--messages", optarg, 1, (1LL << 40)); break;
        case 'q': opt.queues = (int)number("--queues", optarg, 1, 10000); break;
        case 'C': opt.count = (int)number("--count", optarg, 1, BENCH_MAX_BATCH); break;
        case 'r': opt.rate = decimal("--rate", optarg); rateGiven = 1; break;
        case 'T': opt.seconds = decimal("--time", optarg); break;
        case 1: opt.producers = (int)number("--producers", optarg, 1, 10000); break;
        case 2: opt.prefix = optarg; break;
        case 3: opt.quiet = 1; break;
        case 4: usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "respq-benchmark: unexpected argument '%s'\n", argv[optind]);
        exit(2);
    }
    int blocking = opt.wl == WL_MIXED || opt.wl == WL_ROUNDTRIP;
    if (opt.messages < 0) opt.messages = blocking ? 0 : 100000;
    if (opt.wl == WL_ROUNDTRIP && !rateGiven) opt.rate = 1000;
    if (blocking && opt.connections < 2) {
        fprintf(stderr, "respq-benchmark: %s needs at least 2 connections (producers and "
                        "consumers)\n", workloadNames[opt.wl]);
        exit(2);
    }
    if (blocking && opt.producers >= opt.connections) {
        fprintf(stderr, "respq-benchmark: --producers must leave at least one consumer\n");
        exit(2);
    }
    /* Producers and long-polling consumers keep to one queue each (queue =
     * rank modulo queues), so every queue needs one of each, or a queue is
     * never filled or never read. */
    int producers = opt.wl == WL_RECV ? 0 : opt.connections;
    if (blocking) producers = opt.producers > 0 ? opt.producers : (opt.connections + 1) / 2;
    run.producerCount = producers;
    int consumers = opt.connections - producers;
    if (opt.wl != WL_RECV && producers < opt.queues) {
        fprintf(stderr, "respq-benchmark: %d queues need at least %d producer connections, "
                        "not %d\n", opt.queues, opt.queues, producers);
        exit(2);
    }
    if (blocking && consumers < opt.queues) {
        fprintf(stderr, "respq-benchmark: %d queues need at least %d consumer connections, "
                        "not %d\n", opt.queues, opt.queues, consumers);
        exit(2);
    }
}

int main(int argc, char **argv) {
    parseOptions(argc, argv);
    /* A server that resets a connection is reported by the next read; a write
     * to it must not kill the process before the report. */
    signal(SIGPIPE, SIG_IGN);
    struct timespec seed;
    clock_gettime(CLOCK_REALTIME, &seed);
    run.runId = (unsigned)(seed.tv_nsec ^ (seed.tv_sec << 16) ^ getpid()) % 1000000000u;
    run.queueNames = memAlloc(sizeof(char *) * (size_t)opt.queues);
    for (int q = 0; q < opt.queues; q++) {
        size_t n = strlen(opt.prefix) + 24;
        run.queueNames[q] = memAlloc(n);
        snprintf(run.queueNames[q], n, "%s.%d", opt.prefix, q);
    }
    createQueues();
    openConnections();
    loop();
    return report();
}
