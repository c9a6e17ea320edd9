/* ev.h: the event loop: epoll readiness for file descriptors and a short list of
 * millisecond timers. It knows fds and callbacks, never clients or commands.
 *
 * One loop turn: wait (epoll_wait with a timeout from the nearest timer), call the
 * file handlers of ready fds, call due timers, then the before-sleep hook, where the
 * server flushes replies. The hook also runs before the first wait.
 */
#ifndef RESPQ_EV_H
#define RESPQ_EV_H

#define EV_NONE 0
#define EV_READABLE 1
#define EV_WRITABLE 2

#define EV_NOMORE -1 /* a timer proc returns this to stop; else ms until next run */

typedef struct evLoop evLoop;
typedef void evFileProc(evLoop *loop, int fd, void *data, int mask);
typedef long long evTimerProc(evLoop *loop, long long id, void *data);
typedef void evHookProc(evLoop *loop);

/* Creates a loop for fds below setsize. NULL (errno set) on failure. */
evLoop *evCreate(int setsize);
void evDelete(evLoop *loop);
int evResize(evLoop *loop, int setsize); /* 0, or -1 when an fd >= setsize is in use */
int evGetSetSize(evLoop *loop);

/* Adds mask to the events watched on fd; both procs share one data pointer.
 * 0 on success, -1 (errno set) if fd is out of range or epoll refuses. */
int evAddFile(evLoop *loop, int fd, int mask, evFileProc *proc, void *data);
void evDelFile(evLoop *loop, int fd, int mask);
int evGetFileMask(evLoop *loop, int fd);

/* Runs proc after `ms`; it returns EV_NOMORE or the ms until it runs again.
 * Returns the timer id. */
long long evAddTimer(evLoop *loop, long long ms, evTimerProc *proc, void *data);
void evDelTimer(evLoop *loop, long long id);

void evSetBeforeSleep(evLoop *loop, evHookProc *proc);
/* A hook that may shorten the poll timeout: returns ms until the caller has work
 * (e.g. the next engine deadline), or -1 for none. */
void evSetNextDeadline(evLoop *loop, long long (*proc)(evLoop *loop));

void evMain(evLoop *loop);   /* runs until evStop */
void evStop(evLoop *loop);
int evProcessEvents(evLoop *loop, long long maxWaitMs); /* one turn; returns events */

#endif
