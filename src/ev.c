/* ev.c: an epoll event loop with a handful of timers (see ev.h).
 *
 * File events live in an array indexed by fd (setsize entries), as in Redis's ae:
 * the fd is the key, so registration and dispatch are O(1). Timers are a small
 * unsorted list: the server has a few periodic timers (cron), never one per
 * message — per-message deadlines belong to the engine's timer wheel, which reaches
 * the loop through the next-deadline hook that bounds the poll timeout.
 */
#include "ev.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"

typedef struct fileEvent {
    int mask;
    evFileProc *readProc;
    evFileProc *writeProc;
    void *data;
} fileEvent;

typedef struct timer {
    long long id;
    long long whenMs; /* monotonic */
    evTimerProc *proc;
    void *data;
    struct timer *next;
    int deleted;
} timer;

struct evLoop {
    int epfd;
    int setsize;
    fileEvent *files;          /* owned, setsize entries */
    struct epoll_event *ready; /* owned, setsize entries */
    timer *timers;             /* owned list */
    long long nextTimerId;
    int stop;
    evHookProc *beforeSleep;
    long long (*nextDeadline)(evLoop *loop);
};

static long long monoMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

evLoop *evCreate(int setsize) {
    evLoop *loop = memCalloc(sizeof(*loop));
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd == -1) {
        memFree(loop);
        return NULL;
    }
    loop->setsize = setsize;
    loop->files = memCalloc(sizeof(fileEvent) * (size_t)setsize);
    loop->ready = memCalloc(sizeof(struct epoll_event) * (size_t)setsize);
    return loop;
}

void evDelete(evLoop *loop) {
    if (!loop) return;
    close(loop->epfd);
    memFree(loop->files);
    memFree(loop->ready);
    for (timer *t = loop->timers, *n; t; t = n) {
        n = t->next;
        memFree(t);
    }
    memFree(loop);
}

int evResize(evLoop *loop, int setsize) {
    if (setsize == loop->setsize) return 0;
    for (int fd = setsize; fd < loop->setsize; fd++)
        if (loop->files[fd].mask != EV_NONE) return -1;
    loop->files = memRealloc(loop->files, sizeof(fileEvent) * (size_t)setsize);
    loop->ready = memRealloc(loop->ready, sizeof(struct epoll_event) * (size_t)setsize);
    for (int fd = loop->setsize; fd < setsize; fd++) loop->files[fd].mask = EV_NONE;
    loop->setsize = setsize;
    return 0;
}

int evGetSetSize(evLoop *loop) { return loop->setsize; }

static int epollUpdate(evLoop *loop, int fd, int oldMask, int newMask) {
    struct epoll_event ee = {0};
    ee.data.fd = fd;
    if (newMask & EV_READABLE) ee.events |= EPOLLIN;
    if (newMask & EV_WRITABLE) ee.events |= EPOLLOUT;
    int op = oldMask == EV_NONE ? EPOLL_CTL_ADD
             : newMask == EV_NONE ? EPOLL_CTL_DEL
                                  : EPOLL_CTL_MOD;
    return epoll_ctl(loop->epfd, op, fd, &ee);
}

int evAddFile(evLoop *loop, int fd, int mask, evFileProc *proc, void *data) {
    if (fd < 0 || fd >= loop->setsize) {
        errno = ERANGE;
        return -1;
    }
    fileEvent *fe = &loop->files[fd];
    int newMask = fe->mask | mask;
    if (newMask != fe->mask && epollUpdate(loop, fd, fe->mask, newMask) == -1)
        return -1;
    fe->mask = newMask;
    if (mask & EV_READABLE) fe->readProc = proc;
    if (mask & EV_WRITABLE) fe->writeProc = proc;
    fe->data = data;
    return 0;
}

void evDelFile(evLoop *loop, int fd, int mask) {
    if (fd < 0 || fd >= loop->setsize) return;
    fileEvent *fe = &loop->files[fd];
    if (fe->mask == EV_NONE) return;
    int newMask = fe->mask & ~mask;
    if (newMask != fe->mask) epollUpdate(loop, fd, fe->mask, newMask);
    fe->mask = newMask;
}

int evGetFileMask(evLoop *loop, int fd) {
    if (fd < 0 || fd >= loop->setsize) return EV_NONE;
    return loop->files[fd].mask;
}

long long evAddTimer(evLoop *loop, long long ms, evTimerProc *proc, void *data) {
    timer *t = memCalloc(sizeof(*t));
    t->id = ++loop->nextTimerId;
    t->whenMs = monoMs() + ms;
    t->proc = proc;
    t->data = data;
    t->next = loop->timers;
    loop->timers = t;
    return t->id;
}

void evDelTimer(evLoop *loop, long long id) {
    for (timer *t = loop->timers; t; t = t->next)
        if (t->id == id) t->deleted = 1;
}

void evSetBeforeSleep(evLoop *loop, evHookProc *proc) { loop->beforeSleep = proc; }

void evSetNextDeadline(evLoop *loop, long long (*proc)(evLoop *loop)) {
    loop->nextDeadline = proc;
}

static long long msUntilNextTimer(evLoop *loop) {
    long long now = monoMs(), best = -1;
    for (timer *t = loop->timers; t; t = t->next) {
        if (t->deleted) continue;
        long long wait = t->whenMs > now ? t->whenMs - now : 0;
        if (best < 0 || wait < best) best = wait;
    }
    return best;
}

static void runTimers(evLoop *loop) {
    long long now = monoMs();
    /* Timers added by a proc go to the head and are not run in this pass, since
     * the walk started after them. */
    for (timer *t = loop->timers; t; t = t->next) {
        if (t->deleted || t->whenMs > now) continue;
        long long again = t->proc(loop, t->id, t->data);
        if (again == EV_NOMORE)
            t->deleted = 1;
        else
            t->whenMs = monoMs() + again;
    }
    timer **link = &loop->timers;
    while (*link) {
        timer *t = *link;
        if (t->deleted) {
            *link = t->next;
            memFree(t);
        } else {
            link = &t->next;
        }
    }
}

int evProcessEvents(evLoop *loop, long long maxWaitMs) {
    long long wait = msUntilNextTimer(loop);
    if (loop->nextDeadline) {
        long long d = loop->nextDeadline(loop);
        if (d >= 0 && (wait < 0 || d < wait)) wait = d;
    }
    if (maxWaitMs >= 0 && (wait < 0 || maxWaitMs < wait)) wait = maxWaitMs;
    if (wait > 1000000) wait = 1000000;

    int n = epoll_wait(loop->epfd, loop->ready, loop->setsize, (int)wait);
    for (int i = 0; i < n; i++) {
        int fd = loop->ready[i].data.fd;
        uint32_t ev = loop->ready[i].events;
        fileEvent *fe = &loop->files[fd];
        int fired = 0;
        /* Errors and hangups are delivered to both handlers, so the read side sees
         * the EOF and the write side the error, whichever is installed. */
        if ((fe->mask & EV_READABLE) && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
            fe->readProc(loop, fd, fe->data, EV_READABLE);
            fired = 1;
        }
        fe = &loop->files[fd]; /* the handler may have changed it */
        if ((fe->mask & EV_WRITABLE) && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            if (!fired || fe->writeProc != fe->readProc)
                fe->writeProc(loop, fd, fe->data, EV_WRITABLE);
        }
    }
    runTimers(loop);
    return n > 0 ? n : 0;
}

void evMain(evLoop *loop) {
    loop->stop = 0;
    while (!loop->stop) {
        if (loop->beforeSleep) loop->beforeSleep(loop);
        if (loop->stop) break;
        evProcessEvents(loop, -1);
    }
}

void evStop(evLoop *loop) { loop->stop = 1; }
