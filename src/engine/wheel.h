/* wheel.h: the engine's hierarchical timer wheel, exact to the millisecond. It owns
 * the schedule of every deadline in the engine (message delays, lease ends,
 * retention expiry, the dedup window, long-poll timeouts); the nodes themselves are
 * embedded in the caller's structs, so the wheel never allocates, and it has no
 * clock of its own: every call that needs the time is given it.
 *
 * Times are absolute milliseconds (int64, Unix time in practice, but any value
 * works: the wheel never assumes its clock starts at 0, and the whole int64 range is
 * covered). The wheel has eleven levels of 64 slots. A timer sits at the lowest
 * level whose block, the aligned span of time that contains `now`, also contains its
 * expiry; within the level, its slot is the expiry's digit at that level. A timer
 * whose delay is d ms therefore starts at level floor(log2(d) / 6), or higher when
 * its expiry lies past a block boundary of that level:
 *
 *   Level  Slot width               Block (longest delay held)    Slots used
 *     0         1 ms                          64 ms                  64
 *     1        64 ms                        ~4.1 s                   64
 *     2      ~4.1 s  (2^12 ms)              ~4.4 min (2^18 ms)       64
 *     3      ~4.4 min (2^18 ms)             ~4.7 h   (2^24 ms)       64
 *     4      ~4.7 h   (2^24 ms)            ~12.4 d   (2^30 ms)       64
 *     5     ~12.4 d   (2^30 ms)             ~795 d   (2^36 ms)       64
 *     6      ~795 d   (2^36 ms)             ~139 y   (2^42 ms)       64
 *     7      ~139 y   (2^42 ms)           ~8,900 y   (2^48 ms)       64
 *     8    ~8,900 y   (2^48 ms)           ~571 ky    (2^54 ms)       64
 *     9     ~571 ky   (2^54 ms)           ~36.5 My   (2^60 ms)       64
 *    10    ~36.5 My   (2^60 ms)         all of int64 (2^64 ms)       16
 *
 * So a 1 ms delay and a 400-day retention (level 5) both cost one O(1) insert;
 * what differs is that the far timer is moved down ("cascaded") once per level as
 * its slot comes due, at most five times for anything under ~795 days. Granularity
 * is only about where a timer waits: every timer fires exactly at its millisecond,
 * never early and never later than the wheelAdvance that reaches it.
 *
 * Costs: wheelAdd, wheelDel, wheelPopExpired, wheelNextExpiry and wheelNow are O(1).
 * wheelAdvance costs O(1) per slot that holds timers between the old and the new
 * time plus O(1) per timer moved or expired, never anything per elapsed
 * millisecond, so the loop may sleep for hours. Over its life a timer is moved at
 * most (its starting level) times. sizeof(wheel) is about 5.8 KB.
 *
 * Expired order: wheelAdvance appends the timers that came due to the expired list
 * in ascending expiresMs, and timers with the same expiresMs in the order of the
 * wheelAdd calls that scheduled them (moving a node counts as a new add). This
 * costs no sorting: slots of level 0 are one millisecond wide and are visited in
 * time order, and a slot of a higher level is split into lower levels before any
 * of its timers is declared due. Successive advances append in order too, so the
 * list stays ascending, except that wheelAdd with expiresMs <= now appends the node
 * at the tail at once, whatever is already waiting.
 */
#ifndef RESPQ_ENGINE_WHEEL_H
#define RESPQ_ENGINE_WHEEL_H

#include <stddef.h>
#include <stdint.h>

#define WHEEL_LEVEL_BITS 6                  /* one slot index per level */
#define WHEEL_SLOTS (1 << WHEEL_LEVEL_BITS) /* 64: one uint64_t bitmap */
#define WHEEL_LEVELS ((64 + WHEEL_LEVEL_BITS - 1) / WHEEL_LEVEL_BITS) /* 11 */

/* A timer, embedded in the struct it times (recover that with offsetof). While
 * scheduled, the links and expiresMs belong to the wheel: change the expiry only
 * through wheelAdd. A zero-initialised node is unscheduled. */
typedef struct wheelNode {
    struct wheelNode *next, *prev; /* circular list of one slot; NULL: unscheduled */
    int64_t expiresMs;             /* absolute deadline, set by wheelAdd */
} wheelNode;

/* Embeddable. Nothing points into it (nodes link only to nodes), so it may be moved
 * with memcpy; the old copy must not be used afterwards. */
typedef struct wheel {
    uint64_t clock;                  /* now, as an order-preserving key (wheel.c) */
    unsigned levelsUsed;             /* bit l set iff occupied[l] != 0 */
    size_t count;                    /* nodes scheduled, including expired ones */
    uint64_t occupied[WHEEL_LEVELS]; /* bit s of level l set iff slot[l][s] != NULL */
    wheelNode *expired;              /* due, not yet popped: first of a circular list */
    wheelNode *slot[WHEEL_LEVELS][WHEEL_SLOTS]; /* first node of each slot or NULL */
} wheel;

/* Makes w an empty wheel whose time is nowMs. Nodes scheduled on it before are
 * forgotten, not unscheduled: call this only on a new or emptied wheel. */
void wheelInit(wheel *w, int64_t nowMs);

/* Schedules n to expire at expiresMs. A node that is already scheduled (pending or
 * expired-not-popped) is moved. expiresMs <= wheelNow(w) puts the node straight on
 * the tail of the expired list, so the next wheelPopExpired calls will return it.
 * Invalidates nothing; n must stay at its address until it is unscheduled. */
void wheelAdd(wheel *w, wheelNode *n, int64_t expiresMs);

/* Unschedules n, pending or expired-not-popped; a no-op when n is not scheduled.
 * n must not be scheduled on another wheel. */
void wheelDel(wheel *w, wheelNode *n);

/* 1 when n is scheduled (pending or expired-not-popped), else 0. */
static inline int wheelScheduled(const wheelNode *n) {
    return n->next != NULL;
}

/* Moves the wheel's time forward to nowMs, moving every node with expiresMs <=
 * nowMs to the tail of the expired list (in the order described above). A nowMs at
 * or before the wheel's time is ignored: time never goes back. */
void wheelAdvance(wheel *w, int64_t nowMs);

/* Unlinks and returns the first expired node, which is unscheduled afterwards and
 * belongs to the caller again; NULL when none is waiting. The caller may wheelAdd or
 * wheelDel any node, this one included, between calls. Re-adding a popped node with
 * expiresMs <= now makes a later call return it again. */
wheelNode *wheelPopExpired(wheel *w);

/* The time by which the wheel must next be advanced: never later than the earliest
 * expiresMs of a pending node. It may be earlier (the start of a higher-level slot):
 * advancing to it then only moves timers down a level, and repeating reaches the
 * earliest expiry in at most WHEEL_LEVELS advances. Returns wheelNow(w) while
 * expired nodes wait to be popped, INT64_MAX when nothing is scheduled. O(1). */
int64_t wheelNextExpiry(const wheel *w);

/* The wheel's time: nowMs of wheelInit or of the last wheelAdvance that moved it. */
int64_t wheelNow(const wheel *w);

/* Nodes scheduled, pending or expired-not-popped. */
size_t wheelCount(const wheel *w);

/* Checks every invariant of the wheel by walking all its lists (O(nodes + slots)),
 * for tests and debugging. Returns 1 when all hold, 0 at the first that does not. */
int wheelCheck(const wheel *w);

#endif
