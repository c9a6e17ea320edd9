/* test_wheel.c: unit tests of the timer wheel (src/engine/wheel.c) against a
 * brute-force oracle.
 *
 * The oracle keeps each timer's expiry and state in an array and, next to it, the
 * exact order in which the wheel must hand out expired nodes: each advance appends
 * the timers it makes due sorted by (expiresMs, order of their wheelAdd), and an
 * add at or before now appends at once (the contract in wheel.h). Every pop must
 * return the head of that queue, so a timer that fires early, late, twice or out of
 * order is caught at the pop; `verify` also checks counts, scheduled flags, the
 * wheel's own invariants (wheelCheck) and that wheelNextExpiry is never later than
 * the earliest pending expiry and always ahead of now, so that advancing to it makes
 * progress. `converge` checks that advancing to wheelNextExpiry again and again
 * reaches the earliest expiry within WHEEL_LEVELS steps.
 *
 * Self-contained besides wheel.c and mem.c:
 *
 *     gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
 *         -fsanitize=address,undefined -I src src/engine/wheel.c src/mem.c \
 *         tests/unit/test_wheel.c -lcmocka -o /tmp/test_wheel && /tmp/test_wheel
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/wheel.h"
#include "mem.h"

#define MS_SECOND INT64_C(1000)
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR (60 * MS_MINUTE)
#define MS_DAY (24 * MS_HOUR)
#define NOW_UNIX_MS INT64_C(1800000000000) /* January 2027 */

/* Start times: today's clock, values with many low bits set (a 1 ms timer then
 * crosses every level below), a clock at 0, one crossing from negative to positive
 * and one near the top of int64. */
static const int64_t starts[] = {
    NOW_UNIX_MS + 12345,
    (INT64_C(1) << 36) - 1,
    (INT64_C(1) << 42) - 1,
    (INT64_C(1) << 60) - 1,
    0,
    -3,
    INT64_MAX - (INT64_C(1) << 45),
};
#define NSTARTS (sizeof(starts) / sizeof(starts[0]))

/* ---- Helpers ---- */

static uint64_t rngState;

static uint64_t rnd(void) { /* xorshift64*: deterministic per seed */
    rngState ^= rngState >> 12;
    rngState ^= rngState << 25;
    rngState ^= rngState >> 27;
    return rngState * UINT64_C(2685821657736338717);
}

static int64_t rndRange(int64_t lo, int64_t hi) { /* inclusive, hi >= lo */
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int64_t addSat(int64_t a, int64_t b) {
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

/* ---- The oracle ---- */

enum { IDLE, PENDING, DUE };

typedef struct timer {
    wheelNode node;
    int64_t exp;  /* what the oracle believes node.expiresMs is */
    int state;    /* IDLE, PENDING (in the wheel) or DUE (expired, not popped) */
    uint64_t seq; /* order of the wheelAdd that scheduled it */
} timer;

typedef struct oracle {
    wheel w;
    int64_t now;
    timer *t; /* owned */
    size_t n;
    size_t *due; /* owned: indices of DUE timers in the order pops must return them */
    size_t dueLen;
    size_t *batch; /* owned: scratch for one advance */
    uint64_t seq;
    size_t scheduled; /* PENDING + DUE */
} oracle;

static oracle *oracleNew(size_t n, int64_t now) {
    oracle *o = memCalloc(sizeof(*o));
    o->t = memCalloc(n * sizeof(*o->t));
    o->due = memCalloc(n * sizeof(*o->due));
    o->batch = memCalloc(n * sizeof(*o->batch));
    o->n = n;
    o->now = now;
    wheelInit(&o->w, now);
    return o;
}

static void oracleFree(oracle *o) {
    memFree(o->t);
    memFree(o->due);
    memFree(o->batch);
    memFree(o);
}

static size_t indexOf(oracle *o, wheelNode *n) {
    timer *t = (timer *)((char *)n - offsetof(timer, node));
    assert_true(t >= o->t && t < o->t + o->n);
    return (size_t)(t - o->t);
}

static void dueRemove(oracle *o, size_t i) {
    for (size_t k = 0; k < o->dueLen; k++) {
        if (o->due[k] != i) continue;
        memmove(o->due + k, o->due + k + 1, (o->dueLen - k - 1) * sizeof(*o->due));
        o->dueLen--;
        return;
    }
    fail_msg("timer %zu is not in the due queue", i);
}

static void oAdd(oracle *o, size_t i, int64_t exp) {
    timer *t = &o->t[i];
    wheelAdd(&o->w, &t->node, exp);
    if (t->state == DUE) dueRemove(o, i);
    if (t->state == IDLE) o->scheduled++;
    t->exp = exp;
    t->seq = o->seq++;
    if (exp <= o->now) {
        t->state = DUE;
        o->due[o->dueLen++] = i;
    } else {
        t->state = PENDING;
    }
}

static void oDel(oracle *o, size_t i) {
    timer *t = &o->t[i];
    wheelDel(&o->w, &t->node);
    if (t->state == DUE) dueRemove(o, i);
    if (t->state != IDLE) o->scheduled--;
    t->state = IDLE;
}

static const timer *sortBase;

static int byExpThenSeq(const void *a, const void *b) {
    const timer *x = &sortBase[*(const size_t *)a], *y = &sortBase[*(const size_t *)b];
    if (x->exp != y->exp) return x->exp < y->exp ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void oAdvance(oracle *o, int64_t to) {
    wheelAdvance(&o->w, to);
    if (to <= o->now) return; /* time never goes back */
    size_t k = 0;
    for (size_t i = 0; i < o->n; i++)
        if (o->t[i].state == PENDING && o->t[i].exp <= to) o->batch[k++] = i;
    sortBase = o->t;
    qsort(o->batch, k, sizeof(*o->batch), byExpThenSeq);
    for (size_t j = 0; j < k; j++) {
        o->t[o->batch[j]].state = DUE;
        o->due[o->dueLen++] = o->batch[j];
    }
    o->now = to;
}

/* Pops one node and checks it is the one the oracle expects; returns its index or
 * SIZE_MAX when none was due. */
static size_t oPop(oracle *o) {
    wheelNode *n = wheelPopExpired(&o->w);
    if (o->dueLen == 0) {
        assert_null(n);
        return SIZE_MAX;
    }
    assert_non_null(n);
    size_t i = indexOf(o, n);
    if (i != o->due[0])
        fail_msg("popped timer %zu (exp %lld), expected %zu (exp %lld)", i,
                 (long long)o->t[i].exp, o->due[0], (long long)o->t[o->due[0]].exp);
    assert_false(wheelScheduled(n));
    assert_true(o->t[i].exp <= o->now); /* never early */
    dueRemove(o, i);
    o->t[i].state = IDLE;
    o->scheduled--;
    return i;
}

static size_t oPopAll(oracle *o) {
    size_t popped = 0;
    while (oPop(o) != SIZE_MAX)
        popped++;
    return popped;
}

/* The earliest pending expiry and (in *which) the first timer holding it;
 * INT64_MAX and SIZE_MAX when nothing is pending. */
static int64_t oMinPending(const oracle *o, size_t *which) {
    int64_t min = INT64_MAX;
    *which = SIZE_MAX;
    for (size_t i = 0; i < o->n; i++) {
        const timer *t = &o->t[i];
        if (t->state == PENDING && (*which == SIZE_MAX || t->exp < min)) {
            min = t->exp;
            *which = i;
        }
    }
    return min;
}

static void verify(oracle *o) {
    const wheel *w = &o->w;
    assert_true(wheelCheck(w));
    assert_int_equal(wheelCount(w), o->scheduled);
    assert_true(wheelNow(w) == o->now);
    int anyPending = 0;
    for (size_t i = 0; i < o->n; i++) {
        const timer *t = &o->t[i];
        assert_int_equal(wheelScheduled(&t->node), t->state != IDLE);
        if (t->state != IDLE) assert_true(t->node.expiresMs == t->exp);
        if (t->state == PENDING) {
            assert_true(t->exp > o->now); /* never late */
            anyPending = 1;
        }
    }
    int64_t next = wheelNextExpiry(w);
    if (o->dueLen > 0) {
        assert_true(next == o->now);
    } else if (!anyPending) {
        assert_true(next == INT64_MAX);
    } else {
        size_t which;
        int64_t min = oMinPending(o, &which);
        if (next > min || next <= o->now)
            fail_msg("next expiry %lld, now %lld, earliest pending %lld",
                     (long long)next, (long long)o->now, (long long)min);
    }
}

/* Advances to wheelNextExpiry until the earliest pending timer is due; it must take
 * at most WHEEL_LEVELS steps, each one strictly forward and never past it. Returns
 * the number of timers that came due. */
static size_t converge(oracle *o) {
    size_t which;
    int64_t min = oMinPending(o, &which);
    if (which == SIZE_MAX) return 0;
    oPopAll(o);
    int steps = 0;
    while (o->t[which].state == PENDING) {
        int64_t next = wheelNextExpiry(&o->w);
        assert_true(next > o->now);
        assert_true(next <= min);
        oAdvance(o, next);
        steps++;
        if (steps > WHEEL_LEVELS)
            fail_msg("no expiry after %d steps (now %lld, target %lld)", steps,
                     (long long)o->now, (long long)min);
    }
    assert_true(o->now == min);
    verify(o);
    return oPopAll(o);
}

/* ---- Tests ---- */

static void test_wheel_empty(void **state) {
    (void)state;
    wheel w;
    wheelInit(&w, NOW_UNIX_MS);
    wheelNode zero = {0};
    assert_false(wheelScheduled(&zero));
    assert_int_equal(wheelCount(&w), 0);
    assert_true(wheelNow(&w) == NOW_UNIX_MS);
    assert_true(wheelNextExpiry(&w) == INT64_MAX);
    assert_null(wheelPopExpired(&w));
    wheelDel(&w, &zero); /* not scheduled: a no-op */
    assert_false(wheelScheduled(&zero));
    wheelAdvance(&w, NOW_UNIX_MS - 1000); /* ignored */
    assert_true(wheelNow(&w) == NOW_UNIX_MS);
    wheelAdvance(&w, NOW_UNIX_MS + 7 * MS_DAY); /* a long sleep with nothing to do */
    assert_true(wheelNow(&w) == NOW_UNIX_MS + 7 * MS_DAY);
    assert_true(wheelCheck(&w));
    assert_true(sizeof(wheel) < 6000); /* embeddable: the size wheel.h promises */
}

/* A timer alone, for delays at and around every level boundary and the delays the
 * engine uses, from every start: not due one millisecond before, due exactly at its
 * time, and reached by following wheelNextExpiry within WHEEL_LEVELS steps. */
static void test_wheel_each_delay_alone(void **state) {
    (void)state;
    int64_t delays[64];
    size_t nd = 0;
    for (int b = 0; b <= 42; b += 6) {
        int64_t p = INT64_C(1) << b;
        delays[nd++] = p;
        delays[nd++] = p + 1;
        if (p > 1) delays[nd++] = p - 1;
    }
    const int64_t named[] = {2,
                             1000,
                             MS_MINUTE,
                             MS_HOUR,
                             MS_DAY,
                             4 * MS_DAY,
                             14 * MS_DAY,
                             300 * MS_DAY,
                             400 * MS_DAY,
                             INT64_C(1) << 50,
                             INT64_C(1) << 62};
    for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
        delays[nd++] = named[k];

    for (size_t s = 0; s < NSTARTS; s++) {
        for (size_t d = 0; d < nd; d++) {
            int64_t exp = addSat(starts[s], delays[d]);
            if (exp == starts[s]) continue;
            oracle *o = oracleNew(1, starts[s]);
            oAdd(o, 0, exp);
            verify(o);
            oAdvance(o, exp - 1);
            verify(o);
            assert_int_equal(oPopAll(o), 0);
            assert_int_equal(converge(o), 1);
            assert_true(wheelNow(&o->w) == exp);
            verify(o);

            /* And the same timer reached by one jump well past it. */
            wheelInit(&o->w, starts[s]);
            memset(o->t, 0, sizeof(*o->t));
            o->now = starts[s];
            o->scheduled = 0;
            oAdd(o, 0, exp);
            oAdvance(o, addSat(exp, 12345));
            verify(o);
            assert_int_equal(oPopAll(o), 1);
            verify(o);
            oracleFree(o);
        }
    }
}

/* Many timers in one slot: 3000 sharing one expiry 10 ms ahead, then 3000 sharing
 * another ~100 s ahead (ties pop in add order) interleaved with 3000 distinct
 * expiries of the same 4096-ms slot, added latest first (they pop ascending). */
static void test_wheel_many_in_one_slot(void **state) {
    (void)state;
    for (size_t s = 0; s < NSTARTS; s++) {
        if (starts[s] > INT64_MAX / 2) continue; /* needs room for + 100 s */
        oracle *o = oracleNew(9000, starts[s]);
        int64_t base = (starts[s] + 100000) & ~INT64_C(4095); /* one 4096-ms slot */
        for (size_t i = 0; i < 3000; i++) {
            oAdd(o, i, base + 777);
            oAdd(o, 3000 + i, base + 3000 - (int64_t)i); /* base + 3000 .. base + 1 */
            oAdd(o, 6000 + i, starts[s] + 10);
        }
        verify(o);
        assert_int_equal(converge(o), 3000); /* the first 3000 ties */
        oAdvance(o, base + 776);
        verify(o);
        assert_int_equal(oPopAll(o), 776);
        oAdvance(o, base + 777);
        verify(o);
        assert_int_equal(oPopAll(o), 3000 + 1); /* the ties and one distinct */
        oAdvance(o, base + 5000);
        verify(o);
        assert_int_equal(oPopAll(o), 3000 - 777);
        verify(o);
        assert_int_equal(wheelCount(&o->w), 0);
        oracleFree(o);
    }
}

/* 2000 timers over 10 s, the clock moved one millisecond at a time; after every
 * step exactly the timers of that millisecond pop. */
static void test_wheel_step_by_ms(void **state) {
    (void)state;
    const size_t starts2[] = {0, 1, 4}; /* 1.8e12, 2^36 - 1, 0 */
    for (size_t s = 0; s < 3; s++) {
        int64_t start = starts[starts2[s]];
        rngState = 0x9E3779B97F4A7C15u + s;
        oracle *o = oracleNew(2000, start);
        for (size_t i = 0; i < o->n; i++)
            oAdd(o, i, start + rndRange(1, 10000));
        verify(o);
        size_t popped = 0;
        for (int64_t t = start + 1; t <= start + 10001; t++) {
            oAdvance(o, t);
            popped += oPopAll(o);
            if (t % 64 == 0) verify(o);
        }
        verify(o);
        assert_int_equal(popped, o->n);
        oracleFree(o);
    }
}

/* Timers over 400 days, reached by jumps of up to a month, then by one jump. */
static void test_wheel_huge_jumps(void **state) {
    (void)state;
    for (size_t s = 0; s < NSTARTS; s++) {
        int64_t start = starts[s];
        rngState = 0x1234567u + s;
        oracle *o = oracleNew(3000, start);
        for (size_t i = 0; i < o->n; i++)
            oAdd(o, i, addSat(start, rndRange(1, 400 * MS_DAY)));
        verify(o);
        size_t popped = 0;
        while (o->now < INT64_MAX && o->scheduled > 0) {
            oAdvance(o, addSat(o->now, rndRange(0, 30 * MS_DAY)));
            verify(o);
            popped += oPopAll(o);
        }
        assert_int_equal(popped, o->n);

        /* All of them at once: one advance of 401 days, popped in ascending order. */
        wheelInit(&o->w, start);
        memset(o->t, 0, o->n * sizeof(*o->t));
        o->now = start;
        o->scheduled = 0;
        for (size_t i = 0; i < o->n; i++)
            oAdd(o, i, addSat(start, rndRange(1, 400 * MS_DAY)));
        oAdvance(o, addSat(start, 401 * MS_DAY));
        verify(o);
        int64_t last = INT64_MIN;
        for (size_t k = 0; k < o->n; k++) {
            size_t i = oPop(o);
            assert_true(i != SIZE_MAX);
            assert_true(o->t[i].exp >= last);
            last = o->t[i].exp;
        }
        verify(o);
        oracleFree(o);
    }
}

/* Timers of every scale: following wheelNextExpiry reaches each earliest expiry in
 * at most WHEEL_LEVELS steps, until all have fired. */
static void test_wheel_next_expiry_converges(void **state) {
    (void)state;
    for (size_t s = 0; s < NSTARTS; s++) {
        rngState = 0xABCDEFu + s;
        oracle *o = oracleNew(400, starts[s]);
        for (size_t i = 0; i < o->n; i++) {
            int bits = (int)rndRange(0, 40);
            oAdd(o, i, addSat(starts[s], rndRange(1, INT64_C(1) << bits)));
        }
        size_t fired = 0;
        while (o->scheduled > 0)
            fired += converge(o);
        assert_int_equal(fired, o->n);
        oracleFree(o);
    }
}

/* A random expiry for the interleaving test: mostly near, some far, some ties with
 * another timer, some on level boundaries, some already past. */
static int64_t randomExpiry(oracle *o) {
    int64_t now = o->now;
    int r = (int)rndRange(0, 99);
    if (r < 25) return addSat(now, rndRange(1, 100));
    if (r < 40) return addSat(now, rndRange(1, 10 * MS_SECOND));
    if (r < 50) return addSat(now, rndRange(1, 4 * MS_DAY));
    if (r < 58) return addSat(now, rndRange(1, 400 * MS_DAY));
    if (r < 62) return addSat(now, rndRange(INT64_C(1) << 36, INT64_C(1) << 40));
    if (r < 68) return addSat(now, -rndRange(0, 1000));
    if (r < 80) {
        const timer *t = &o->t[rnd() % o->n];
        if (t->state == PENDING) return t->exp;
        return addSat(now, 5);
    }
    if (r < 95) {
        int64_t p = INT64_C(1) << (6 * rndRange(1, 6));
        int64_t edge = (addSat(now, p) & ~(p - 1)) + rndRange(-1, 1);
        return edge > now ? edge : addSat(now, 1);
    }
    if (r < 97) return INT64_MAX;
    return addSat(now, rndRange(INT64_C(1) << 50, INT64_C(1) << 62));
}

static int64_t randomTarget(oracle *o) {
    int64_t now = o->now;
    int r = (int)rndRange(0, 99);
    if (r < 20) return addSat(now, 1);
    if (r < 35) return addSat(now, rndRange(0, 100));
    if (r < 50) {
        int64_t next = wheelNextExpiry(&o->w);
        return next == INT64_MAX ? now : next;
    }
    if (r < 70) {
        size_t which;
        int64_t min = oMinPending(o, &which);
        if (which == SIZE_MAX) return now;
        if (r < 60) return min - 1; /* one before: nothing may fire early */
        return min;
    }
    if (r < 80) return addSat(now, rndRange(0, MS_DAY));
    if (r < 85) return addSat(now, rndRange(0, 400 * MS_DAY));
    if (r < 92) return addSat(now, -rndRange(0, 1000)); /* ignored */
    const timer *t = &o->t[rnd() % o->n];
    return t->state == PENDING ? t->exp : now;
}

/* Random interleavings of add, move, delete, advance and pop (one or all), the
 * oracle checking after every step. */
static void test_wheel_random_interleavings(void **state) {
    (void)state;
    for (size_t s = 0; s < NSTARTS; s++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            rngState = seed * 0x9E3779B97F4A7C15u + s;
            oracle *o = oracleNew(200, starts[s]);
            for (int step = 0; step < 6000; step++) {
                int r = (int)rndRange(0, 99);
                size_t i = rnd() % o->n;
                if (r < 35) {
                    oAdd(o, i, randomExpiry(o));
                } else if (r < 45) {
                    oDel(o, i);
                } else if (r < 75) {
                    oAdvance(o, randomTarget(o));
                } else if (r < 90) {
                    size_t p = oPop(o);
                    /* sometimes re-add the popped timer: later, or already due */
                    if (p != SIZE_MAX && rnd() % 3 == 0) oAdd(o, p, randomExpiry(o));
                } else if (r < 97) {
                    oPopAll(o);
                } else {
                    converge(o);
                }
                verify(o);
            }
            oracleFree(o);
        }
    }
}

/* Between pops the caller deletes, moves and adds other timers and re-adds the one
 * it popped; the rest still come out right. */
static void test_wheel_changes_between_pops(void **state) {
    (void)state;
    oracle *o = oracleNew(40, NOW_UNIX_MS);
    for (size_t i = 0; i < 30; i++)
        oAdd(o, i, NOW_UNIX_MS + 1 + (int64_t)(i % 10));
    oAdvance(o, NOW_UNIX_MS + 10);
    verify(o);
    assert_int_equal(o->dueLen, 30);
    size_t p = oPop(o);
    oAdd(o, p, NOW_UNIX_MS + 5); /* re-added already due: goes to the tail */
    verify(o);
    oDel(o, o->due[0]); /* the next one due, deleted before its pop */
    oDel(o, o->due[5]);
    oAdd(o, o->due[3], NOW_UNIX_MS + 100); /* an expired one moved to the future */
    oAdd(o, 30, NOW_UNIX_MS + 10);         /* a new one, due now */
    oAdd(o, 31, NOW_UNIX_MS + 11);         /* a new one, pending */
    verify(o);
    for (int k = 0; k < 5; k++) {
        p = oPop(o);
        oAdd(o, 32 + (size_t)k, NOW_UNIX_MS + 11); /* ties with 31, after it */
        if (k == 2) oAdd(o, p, NOW_UNIX_MS + 11);
        verify(o);
    }
    oPopAll(o);
    oAdvance(o, NOW_UNIX_MS + 11);
    verify(o);
    assert_int_equal(oPopAll(o), 7);
    assert_int_equal(converge(o), 1);
    assert_int_equal(wheelCount(&o->w), 0);
    verify(o);
    oracleFree(o);
}

/* The ends of int64: a clock crossing zero, expiries at INT64_MIN and INT64_MAX, a
 * timer parked in the top level, and time that does not go back. */
static void test_wheel_extremes(void **state) {
    (void)state;
    oracle *o = oracleNew(6, -3);
    oAdd(o, 0, 2);                /* crosses from negative keys to positive */
    oAdd(o, 1, INT64_MIN);        /* long past: due at once */
    oAdd(o, 2, INT64_MAX);        /* the top level */
    oAdd(o, 3, INT64_C(1) << 62); /* parked high, cascades all the way down */
    oAdd(o, 4, (INT64_C(1) << 36) + 17);
    oAdd(o, 5, -1);
    verify(o);
    assert_int_equal(oPopAll(o), 1);
    assert_int_equal(converge(o), 1);
    assert_int_equal(converge(o), 1);
    oAdvance(o, 0); /* backwards: ignored */
    verify(o);
    assert_int_equal(converge(o), 1);
    assert_int_equal(converge(o), 1);
    assert_int_equal(converge(o), 1);
    assert_true(wheelNow(&o->w) == INT64_MAX);
    oAdd(o, 0, INT64_MAX); /* nothing can be later than now any more */
    verify(o);
    assert_int_equal(oPopAll(o), 1);
    verify(o);
    oracleFree(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wheel_empty),
        cmocka_unit_test(test_wheel_each_delay_alone),
        cmocka_unit_test(test_wheel_many_in_one_slot),
        cmocka_unit_test(test_wheel_step_by_ms),
        cmocka_unit_test(test_wheel_huge_jumps),
        cmocka_unit_test(test_wheel_next_expiry_converges),
        cmocka_unit_test(test_wheel_random_interleavings),
        cmocka_unit_test(test_wheel_changes_between_pops),
        cmocka_unit_test(test_wheel_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
