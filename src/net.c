/* net.c: listeners, connections, query buffers and reply buffers.
 *
 * What it owns: every socket of the server and every client struct. It reads
 * bytes into a client's query buffer, hands complete commands to processCommand
 * (server.c) one at a time, and writes replies.
 *
 * Writes are batched per loop turn: a reply is only appended to c->reply and the
 * client is put on server.pendingWrites; netWritePending, called before the loop
 * sleeps, writes each pending client with one write(2). A pipeline of a thousand
 * commands read in one go is answered with one write, and a client whose kernel
 * buffer is full gets a writable handler instead of being spun on.
 *
 * Limits, checked before memory is committed: the parser refuses bulk lengths past
 * proto-max-bulk-len; the query buffer of a client may not grow past
 * client-query-buffer-limit (the client is closed and the log says why); replies
 * that pile up for a slow reader past client-output-buffer-limit close it.
 *
 * Freeing a client while one of its commands runs is never done in place: handlers
 * flag it (CLIENT_CLOSE_AFTER_REPLY, CLIENT_CLOSE_ASAP) and it is freed at the end
 * of its read handler or in netWritePending, so no caller holds a dangling pointer.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "aof.h"
#include "commands.h"

#define READ_CHUNK (16 * 1024)
#define MAX_ACCEPTS_PER_CALL 1000
#define REPLY_SHRINK_AT (64 * 1024) /* an idle buffer bigger than this is freed */

static const char *maxClientsErr = "-ERR max number of clients reached\r\n";
static const char *protectedModeErr =
    "-DENIED respq is running in protected mode: protected mode is on and no "
    "password is set, so only clients on the loopback interface are accepted. "
    "Set a password with 'requirepass' (CONFIG SET requirepass <password> from "
    "the loopback interface), or turn protected mode off with 'protected-mode no' "
    "in the configuration, then restart.\r\n";

static void readHandler(evLoop *loop, int fd, void *data, int mask);
static void writeHandler(evLoop *loop, int fd, void *data, int mask);

/* ---- Socket helpers ---- */

static int setNonBlocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void setKeepalive(int fd, int interval) {
    int yes = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes)) == -1) return;
    /* As Redis: the first probe after `interval` idle seconds, then every third of
     * it, and a peer silent for three probes is declared dead. */
    int idle = interval, intvl = interval / 3 > 0 ? interval / 3 : 1, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static void formatSockaddr(const struct sockaddr_storage *sa, char *out, size_t cap) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(out, cap, "%s:%d", ip, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(out, cap, "%s:%d", ip, port);
    } else {
        snprintf(out, cap, "%s:0", server.unixSocket ? server.unixSocket : "");
    }
}

static int isLoopback(const struct sockaddr_storage *sa) {
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr)) return 1;
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) return s->sin6_addr.s6_addr[12] == 127;
        return 0;
    }
    return 1; /* unix socket */
}

/* ---- Listeners ---- */

static void acceptHandler(evLoop *loop, int fd, void *data, int mask);

static int listenTcp(const char *addr) {
    char portStr[16];
    snprintf(portStr, sizeof(portStr), "%d", server.port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    hints.ai_family = AF_UNSPEC;
    const char *host = addr;
    if (!strcmp(addr, "*")) {
        host = NULL;
        hints.ai_family = AF_INET;
    } else if (!strcmp(addr, "::*")) {
        host = NULL;
        hints.ai_family = AF_INET6;
    }
    int rc = getaddrinfo(host, portStr, &hints, &res);
    if (rc != 0) {
        logMsg(LL_WARNING, "Could not resolve bind address '%s': %s", addr,
               gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd == -1) goto fail;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
    if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
        listen(fd, server.tcpBacklog) == -1 || setNonBlocking(fd) == -1)
        goto fail;
    freeaddrinfo(res);
    return fd;
fail:
    logMsg(LL_WARNING, "Could not listen on %s:%d: %s", addr, server.port,
           strerror(errno));
    if (fd != -1) close(fd);
    freeaddrinfo(res);
    return -1;
}

static int listenUnix(const char *path) {
    struct sockaddr_un sa = {0};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        logMsg(LL_WARNING, "unixsocket path '%s' is too long (at most %zu bytes)",
               path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) goto fail;
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    unlink(path); /* a stale socket of a previous run */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) goto fail;
    if (server.unixSocketPerm && chmod(path, (mode_t)server.unixSocketPerm) == -1)
        goto fail;
    if (listen(fd, server.tcpBacklog) == -1 || setNonBlocking(fd) == -1) goto fail;
    return fd;
fail:
    logMsg(LL_WARNING, "Could not listen on unix socket %s: %s", path,
           strerror(errno));
    if (fd != -1) close(fd);
    return -1;
}

int netListen(void) {
    server.listenCount = 0;
    server.unixFd = -1;
    if (server.port != 0) {
        for (int i = 0; i < server.bindCount; i++) {
            int fd = listenTcp(server.bindAddrs[i]);
            if (fd == -1) return -1;
            server.listenFds[server.listenCount++] = fd;
        }
    }
    if (server.unixSocket && server.unixSocket[0]) {
        server.unixFd = listenUnix(server.unixSocket);
        if (server.unixFd == -1) return -1;
        server.listenFds[server.listenCount++] = server.unixFd;
    }
    if (server.listenCount == 0) {
        logMsg(LL_WARNING, "Nothing to listen on: port is 0 and no unixsocket is set");
        return -1;
    }
    for (int i = 0; i < server.listenCount; i++) {
        if (evAddFile(server.loop, server.listenFds[i], EV_READABLE, acceptHandler,
                      NULL) == -1) {
            logMsg(LL_WARNING, "Could not watch listener: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

void netCloseListeners(void) {
    for (int i = 0; i < server.listenCount; i++) {
        evDelFile(server.loop, server.listenFds[i], EV_READABLE | EV_WRITABLE);
        close(server.listenFds[i]);
    }
    server.listenCount = 0;
    if (server.unixFd != -1 && server.unixSocket) unlink(server.unixSocket);
    server.unixFd = -1;
}

/* ---- Client life ---- */

static client *createClient(int fd, int isUnix, const struct sockaddr_storage *peer) {
    client *c = memCalloc(sizeof(*c));
    c->id = ++server.nextClientId;
    c->fd = fd;
    c->proto = 2;
    c->authenticated = server.requirePass == NULL;
    c->ctimeMs = c->lastInteractionMs = server.nowMs;
    if (isUnix) c->flags |= CLIENT_UNIX;
    respParserInit(&c->parser);
    formatSockaddr(peer, c->addr, sizeof(c->addr));
    struct sockaddr_storage local;
    socklen_t llen = sizeof(local);
    if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
        formatSockaddr(&local, c->laddr, sizeof(c->laddr));

    if (evAddFile(server.loop, fd, EV_READABLE, readHandler, c) == -1) {
        logMsg(LL_WARNING, "Could not watch client fd %d: %s", fd, strerror(errno));
        respParserFree(&c->parser);
        memFree(c);
        return NULL;
    }
    c->next = server.clients;
    if (server.clients) server.clients->prev = c;
    server.clients = c;
    server.numClients++;
    return c;
}

static void unlinkPending(client *c) {
    if (!(c->flags & CLIENT_PENDING_WRITE)) return;
    if (c->pendingPrev)
        c->pendingPrev->pendingNext = c->pendingNext;
    else
        server.pendingWrites = c->pendingNext;
    if (c->pendingNext) c->pendingNext->pendingPrev = c->pendingPrev;
    c->pendingPrev = c->pendingNext = NULL;
    c->flags &= ~CLIENT_PENDING_WRITE;
}

static void schedulePending(client *c) {
    if (c->flags & CLIENT_PENDING_WRITE) return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->pendingPrev = NULL;
    c->pendingNext = server.pendingWrites;
    if (server.pendingWrites) server.pendingWrites->pendingPrev = c;
    server.pendingWrites = c;
}

/* Clients unblocked by the engine whose buffered input has not run yet, in the
 * order they were answered (see netScheduleResume). */
static client *resumeHead, *resumeTail;

static void unlinkResume(client *c) {
    if (!(c->flags & CLIENT_RESUME)) return;
    if (c->resumePrev)
        c->resumePrev->resumeNext = c->resumeNext;
    else
        resumeHead = c->resumeNext;
    if (c->resumeNext)
        c->resumeNext->resumePrev = c->resumePrev;
    else
        resumeTail = c->resumePrev;
    c->resumePrev = c->resumeNext = NULL;
    c->flags &= ~CLIENT_RESUME;
}

void freeClient(client *c) {
    /* A blocked receiver leaves its queue first, so that the engine never hands
     * messages to a client that is gone (it takes nothing with it). */
    if (server.engine) engineWaitCancel(server.engine, &c->waiter);
    unlinkPending(c);
    unlinkResume(c);
    if (c->fd != -1) {
        evDelFile(server.loop, c->fd, EV_READABLE | EV_WRITABLE);
        close(c->fd);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        server.clients = c->next;
    if (c->next) c->next->prev = c->prev;
    server.numClients--;
    freeClientMultiState(c);
    respParserFree(&c->parser);
    respBufFree(&c->qbuf);
    respBufFree(&c->reply);
    memFree(c->name);
    memFree(c->libName);
    memFree(c->libVer);
    memFree(c);
}

void freeClientAsync(client *c) {
    /* Unpark now rather than in freeClient: a killed receiver must not be served
     * (and lease messages) in the turn between the kill and the free. */
    if (server.engine) engineWaitCancel(server.engine, &c->waiter);
    c->flags |= CLIENT_CLOSE_ASAP;
    schedulePending(c); /* netWritePending frees it before the loop sleeps */
}

client *netFindClient(long long id) {
    for (client *c = server.clients; c; c = c->next)
        if (c->id == id && !(c->flags & CLIENT_CLOSE_ASAP)) return c;
    return NULL;
}

static void acceptHandler(evLoop *loop, int lfd, void *data, int mask) {
    (void)loop, (void)data, (void)mask;
    int isUnix = lfd == server.unixFd;
    for (int i = 0; i < MAX_ACCEPTS_PER_CALL; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                logMsg(LL_WARNING, "Accepting client connection: %s", strerror(errno));
            return;
        }
        if (isUnix) peer.ss_family = AF_UNIX;
        server.statConnections++;
        if (server.numClients >= server.maxClients) {
            /* Best effort: the socket is new, so its buffer has room for this. */
            ssize_t w = write(fd, maxClientsErr, strlen(maxClientsErr));
            (void)w;
            server.statRejectedConnections++;
            close(fd);
            continue;
        }
        if (server.protectedMode && !server.requirePass && !isLoopback(&peer)) {
            ssize_t w = write(fd, protectedModeErr, strlen(protectedModeErr));
            (void)w;
            server.statRejectedConnections++;
            close(fd);
            continue;
        }
        if (!isUnix) {
            int yes = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
            if (server.tcpKeepalive > 0) setKeepalive(fd, server.tcpKeepalive);
        }
        if (!createClient(fd, isUnix, &peer)) close(fd);
    }
}

/* ---- Reading ---- */

/* Runs every complete command in the query buffer, stopping early when the client
 * blocks or is to be closed. Consumed bytes are dropped at the end in one move. */
static void processInputBuffer(client *c) {
    while (c->qpos < c->qbuf.len) {
        if (c->flags & (CLIENT_BLOCKED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))
            break;
        c->parser.unauthenticated = !c->authenticated;
        c->parser.maxBulkLen = server.protoMaxBulkLen;
        size_t consumed = 0;
        int rc = respParse(&c->parser, c->qbuf.data + c->qpos, c->qbuf.len - c->qpos,
                           &consumed);
        if (rc == RESP_NEED_MORE) break;
        if (rc == RESP_ERROR) {
            char msg[160];
            snprintf(msg, sizeof(msg), "ERR %s", c->parser.err);
            addReplyError(c, msg);
            logMsg(LL_VERBOSE, "Protocol error (%s) from client id=%lld addr=%s",
                   c->parser.err, c->id, c->addr);
            server.statProtocolErrors++;
            c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            c->qpos = c->qbuf.len;
            break;
        }
        if (rc == RESP_OK) {
            c->argc = c->parser.argc;
            c->argv = c->parser.argv;
            processCommand(c);
            c->argc = 0;
            c->argv = NULL;
        }
        c->qpos += consumed;
    }
    if (c->qpos == c->qbuf.len) {
        c->qpos = c->qbuf.len = 0;
        if (c->qbuf.cap > REPLY_SHRINK_AT) respBufFree(&c->qbuf);
    } else if (c->qpos > 0) {
        memmove(c->qbuf.data, c->qbuf.data + c->qpos, c->qbuf.len - c->qpos);
        c->qbuf.len -= c->qpos;
        c->qpos = 0;
    }
}

static void readHandler(evLoop *loop, int fd, void *data, int mask) {
    (void)loop, (void)mask;
    client *c = data;
    size_t unparsed = c->qbuf.len - c->qpos;
    /* Inside a big bulk string, read it whole in one go rather than 16 KiB at a
     * time; the parser has already checked its length against the limits. */
    size_t want = respParserPending(&c->parser, unparsed);
    if (want < READ_CHUNK) want = READ_CHUNK;
    if (unparsed + want > (size_t)server.clientQueryBufferLimit + READ_CHUNK)
        want = READ_CHUNK;
    respBufReserve(&c->qbuf, want);
    ssize_t n = read(fd, c->qbuf.data + c->qbuf.len, want);
    if (n == 0) {
        freeClient(c);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        logMsg(LL_VERBOSE, "Reading from client id=%lld: %s", c->id, strerror(errno));
        freeClient(c);
        return;
    }
    c->qbuf.len += (size_t)n;
    server.statNetInputBytes += n;
    server.nowMs = unixTimeMs();
    c->lastInteractionMs = server.nowMs;

    if (c->qbuf.len - c->qpos > (size_t)server.clientQueryBufferLimit) {
        logMsg(LL_WARNING,
               "Closing client id=%lld addr=%s: query buffer of %zu bytes is past "
               "client-query-buffer-limit (%lld)",
               c->id, c->addr, c->qbuf.len - c->qpos, server.clientQueryBufferLimit);
        freeClient(c);
        return;
    }
    processInputBuffer(c);
    if (c->flags & CLIENT_CLOSE_ASAP) freeClient(c);
}

/* Re-runs the input of a client that was blocked and is now free (engine wake-ups
 * call this). */
void netResumeClient(client *c) {
    if (c->flags & CLIENT_BLOCKED) return;
    processInputBuffer(c);
}

void netScheduleResume(client *c) {
    if (c->flags & CLIENT_RESUME) return;
    c->flags |= CLIENT_RESUME;
    c->resumeNext = NULL;
    c->resumePrev = resumeTail;
    if (resumeTail)
        resumeTail->resumeNext = c;
    else
        resumeHead = c;
    resumeTail = c;
}

int netRunResumes(void) {
    int n = 0;
    /* Commands run here may unblock more clients (QSEND, QDROP): they join the
     * tail and are run in the same pass. */
    while (resumeHead) {
        client *c = resumeHead;
        unlinkResume(c);
        netResumeClient(c);
        if (c->flags & CLIENT_CLOSE_ASAP) freeClient(c);
        n++;
    }
    return n;
}

/* ---- Writing ---- */

static void checkOutputLimits(client *c) {
    size_t pending = c->reply.len - c->sentLen;
    if (server.clientOutputHardLimit && pending > (size_t)server.clientOutputHardLimit)
        goto cut;
    if (server.clientOutputSoftLimit && pending > (size_t)server.clientOutputSoftLimit) {
        if (c->outputSoftSinceMs == 0) {
            c->outputSoftSinceMs = server.nowMs;
        } else if (server.nowMs - c->outputSoftSinceMs >=
                   server.clientOutputSoftSeconds * 1000) {
            goto cut;
        }
    } else {
        c->outputSoftSinceMs = 0;
    }
    return;
cut:
    logMsg(LL_WARNING,
           "Closing client id=%lld addr=%s: %zu bytes of replies not yet read are "
           "past client-output-buffer-limit",
           c->id, c->addr, pending);
    c->flags |= CLIENT_CLOSE_ASAP;
}

/* Writes as much of c->reply as the socket takes. Returns -1 if the client was
 * freed, 0 otherwise. */
static int writeToClient(client *c) {
    while (c->sentLen < c->reply.len) {
        ssize_t n = write(c->fd, c->reply.data + c->sentLen, c->reply.len - c->sentLen);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            logMsg(LL_VERBOSE, "Writing to client id=%lld: %s", c->id,
                   strerror(errno));
            freeClient(c);
            return -1;
        }
        c->sentLen += (size_t)n;
        server.statNetOutputBytes += n;
    }
    if (c->sentLen == c->reply.len) {
        c->sentLen = c->reply.len = 0;
        c->outputSoftSinceMs = 0;
        if (c->reply.cap > REPLY_SHRINK_AT) respBufFree(&c->reply);
        if (c->flags & CLIENT_WRITE_HANDLER) {
            evDelFile(server.loop, c->fd, EV_WRITABLE);
            c->flags &= ~CLIENT_WRITE_HANDLER;
        }
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            freeClient(c);
            return -1;
        }
        return 0;
    }
    checkOutputLimits(c);
    if (c->flags & CLIENT_CLOSE_ASAP) {
        freeClient(c);
        return -1;
    }
    if (!(c->flags & CLIENT_WRITE_HANDLER)) {
        if (evAddFile(server.loop, c->fd, EV_WRITABLE, writeHandler, c) == -1) {
            freeClient(c);
            return -1;
        }
        c->flags |= CLIENT_WRITE_HANDLER;
    }
    return 0;
}

/* 1 when c's replies must wait: they acknowledge a change whose AOF record is
 * not durable yet (appendfsync always: not fsynced; see aof.c). */
static int repliesHeld(const client *c) { return c->waitLsn > aofDurableLsn(); }

static void writeHandler(evLoop *loop, int fd, void *data, int mask) {
    (void)loop, (void)fd, (void)mask;
    client *c = data;
    server.nowMs = unixTimeMs();
    if (repliesHeld(c)) {
        /* Replies added in this turn wait for the flush before the loop sleeps. */
        evDelFile(server.loop, c->fd, EV_WRITABLE);
        c->flags &= ~CLIENT_WRITE_HANDLER;
        schedulePending(c);
        return;
    }
    writeToClient(c);
}

int netWritePending(void) {
    int written = 0;
    client *held = NULL;
    while (server.pendingWrites) {
        client *c = server.pendingWrites;
        unlinkPending(c);
        if (c->flags & CLIENT_CLOSE_ASAP) {
            freeClient(c);
            continue;
        }
        if (repliesHeld(c)) {
            /* A failed AOF write: no acknowledgement until a retry succeeds. */
            c->pendingNext = held;
            held = c;
            continue;
        }
        /* A client already waiting for EV_WRITABLE is written by that handler. */
        if (c->flags & CLIENT_WRITE_HANDLER) {
            checkOutputLimits(c);
            if (c->flags & CLIENT_CLOSE_ASAP) freeClient(c);
            continue;
        }
        writeToClient(c);
        written++;
    }
    while (held) {
        client *c = held;
        held = c->pendingNext;
        schedulePending(c);
    }
    return written;
}

void netFlushAllBlocking(void) {
    for (client *c = server.clients; c; c = c->next) {
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        while (c->sentLen < c->reply.len) {
            ssize_t n =
                write(c->fd, c->reply.data + c->sentLen, c->reply.len - c->sentLen);
            if (n <= 0) break; /* a reader that is not reading is not waited for */
            c->sentLen += (size_t)n;
        }
    }
}

void netCron(void) {
    if (server.idleTimeoutSec <= 0) return;
    long long limit = server.idleTimeoutSec * 1000;
    for (client *c = server.clients, *next; c; c = next) {
        next = c->next;
        if (c->flags & (CLIENT_BLOCKED | CLIENT_CLOSE_ASAP)) continue;
        if (server.nowMs - c->lastInteractionMs > limit) {
            logMsg(LL_VERBOSE, "Closing idle client id=%lld addr=%s", c->id, c->addr);
            freeClient(c);
        }
    }
}

/* ---- CLIENT LIST lines ---- */

static void catFlags(client *c, char *out) {
    char *p = out;
    if (c->flags & CLIENT_MULTI) *p++ = 'x';
    if (c->flags & CLIENT_BLOCKED) *p++ = 'b';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) *p++ = 'A';
    if (c->flags & CLIENT_UNIX) *p++ = 'U';
    if (c->flags & CLIENT_NO_EVICT) *p++ = 'e';
    if (c->flags & CLIENT_NO_TOUCH) *p++ = 'T';
    if (p == out) *p++ = 'N';
    *p = '\0';
}

void netClientInfo(client *c, respBuf *out) {
    char flags[16], events[3] = {0}, line[1024];
    catFlags(c, flags);
    int mask = c->fd == -1 ? 0 : evGetFileMask(server.loop, c->fd);
    int e = 0;
    if (mask & EV_READABLE) events[e++] = 'r';
    if (mask & EV_WRITABLE) events[e++] = 'w';
    long long now = server.nowMs;
    size_t qbuf = c->qbuf.len - c->qpos;
    size_t omem = c->reply.cap;
    size_t totMem = sizeof(client) + c->qbuf.cap + c->reply.cap +
                    c->parser.argvCap * (sizeof(respArg) + 2 * sizeof(size_t)) +
                    c->parser.scratchCap;
    int n = snprintf(
        line, sizeof(line),
        "id=%lld addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=0 "
        "sub=0 psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=0 multi-mem=0 "
        "rbs=%zu rbp=0 obl=%zu oll=0 omem=%zu tot-mem=%zu events=%s cmd=%s "
        "user=default redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
        c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
        (now - c->ctimeMs) / 1000, (now - c->lastInteractionMs) / 1000, flags,
        (c->flags & CLIENT_MULTI) ? c->mcount : -1, qbuf, c->qbuf.cap - c->qbuf.len,
        c->reply.cap, c->reply.len - c->sentLen, omem, totMem, events,
        c->lastCmd ? c->lastCmd->fullName : "NULL", c->proto,
        c->libName ? c->libName : "", c->libVer ? c->libVer : "");
    if (n < 0) return;
    respBufAppend(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* ---- Replies ---- */

void addReplyRaw(client *c, const char *p, size_t n) {
    respBufAppend(&c->reply, p, n);
    schedulePending(c);
}

void addReplySimple(client *c, const char *s) {
    respAddSimple(&c->reply, s);
    schedulePending(c);
}

void addReplyOk(client *c) { addReplyRaw(c, "+OK\r\n", 5); }

void addReplyError(client *c, const char *s) {
    respAddError(&c->reply, s);
    server.statErrorReplies++;
    schedulePending(c);
}

void addReplyErrorFormat(client *c, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    addReplyError(c, msg);
}

void addReplyErrorArity(client *c) {
    addReplyErrorFormat(c, "ERR wrong number of arguments for '%s' command",
                        c->cmd ? c->cmd->fullName : "?");
}

void addReplyInt(client *c, long long v) {
    respAddInt(&c->reply, v);
    schedulePending(c);
}

void addReplyBulk(client *c, const void *p, size_t n) {
    respAddBulk(&c->reply, p, n);
    schedulePending(c);
}

void addReplyBulkStr(client *c, const char *s) { addReplyBulk(c, s, strlen(s)); }

void addReplyBulkInt(client *c, long long v) {
    respAddBulkInt(&c->reply, v);
    schedulePending(c);
}

void addReplyNull(client *c) {
    respAddNull(&c->reply, c->proto);
    schedulePending(c);
}

void addReplyNullArray(client *c) {
    respAddNullArray(&c->reply, c->proto);
    schedulePending(c);
}

void addReplyArrayLen(client *c, long long n) {
    respAddArrayLen(&c->reply, n);
    schedulePending(c);
}

void addReplyMapLen(client *c, long long n) {
    respAddMapLen(&c->reply, c->proto, n);
    schedulePending(c);
}

void addReplySetLen(client *c, long long n) {
    respAddSetLen(&c->reply, c->proto, n);
    schedulePending(c);
}

void addReplyDouble(client *c, double d) {
    respAddDouble(&c->reply, c->proto, d);
    schedulePending(c);
}

void addReplyBool(client *c, int v) {
    respAddBool(&c->reply, c->proto, v);
    schedulePending(c);
}

void addReplyVerbatim(client *c, const char *p, size_t n) {
    respAddVerbatim(&c->reply, c->proto, "txt", p, n);
    schedulePending(c);
}
