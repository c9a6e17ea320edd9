/* test_pheap.c: unit tests of the ready messages' order (src/engine/pheap.c:
 * the run of rising seqs plus the binary heap) against a brute-force oracle.
 *
 * The oracle is the set of ready messages in an array; the next message is its
 * minimum by heapBefore. Random operations mimic what the engine does: sends
 * (the queue's next seq, at one of a few priorities, mostly one), returns of
 * older seqs (leases running out), removals of any message (retention,
 * purge), pops (QRECV); after each, heapTop must be the oracle's minimum,
 * heapCount its size, and a walk with heapIter must give every message in
 * order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "mem.h"

enum { MAX_MSGS = 4096 };

typedef struct oracle {
    message *live[MAX_MSGS];
    size_t n;
} oracle;

static message *newMessage(uint64_t seq, int32_t priority) {
    message *m = memAlloc(sizeof(message));
    memset(m, 0, sizeof(*m));
    m->seq = seq;
    m->priority = priority;
    return m;
}

static message *oracleMin(const oracle *o) {
    message *best = NULL;
    for (size_t i = 0; i < o->n; i++)
        if (!best || heapBefore(o->live[i], best)) best = o->live[i];
    return best;
}

static void oracleDrop(oracle *o, message *m) {
    for (size_t i = 0; i < o->n; i++) {
        if (o->live[i] == m) {
            o->live[i] = o->live[--o->n];
            return;
        }
    }
    fail_msg("message not in the oracle");
}

static int byDelivery(const void *a, const void *b) {
    const message *x = *(message *const *)a, *y = *(message *const *)b;
    return heapBefore(x, y) ? -1 : heapBefore(y, x) ? 1 : 0;
}

static void verify(readyHeap *h, oracle *o, int walk) {
    assert_int_equal(heapCount(h), o->n);
    assert_ptr_equal(heapTop(h), oracleMin(o));
    if (!walk) return;
    static message *sorted[MAX_MSGS];
    memcpy(sorted, o->live, o->n * sizeof(message *));
    qsort(sorted, o->n, sizeof(message *), byDelivery);
    heapIter it;
    heapIterInit(&it, h);
    for (size_t i = 0; i < o->n; i++) assert_ptr_equal(heapIterNext(&it), sorted[i]);
    assert_null(heapIterNext(&it));
    heapIterFree(&it);
}

static void runRandom(unsigned seed, int steps, int priorities, int walkEvery) {
    srand(seed);
    readyHeap h;
    memset(&h, 0, sizeof(h));
    oracle o = {.n = 0};
    uint64_t nextSeq = 1;
    /* Messages taken out (popped or removed) that may come back, as a lease
     * that runs out brings its message back with its old seq. */
    static message *out[MAX_MSGS];
    size_t outN = 0;
    for (int step = 0; step < steps; step++) {
        int op = rand() % 100;
        if (op < 45 && o.n < MAX_MSGS - 1) {
            int32_t prio = rand() % 10 < 8 ? 0 : (int32_t)(rand() % priorities) - 1;
            message *m = newMessage(nextSeq++, prio);
            heapPush(&h, m);
            o.live[o.n++] = m;
        } else if (op < 55 && outN > 0 && o.n < MAX_MSGS - 1) {
            size_t k = (size_t)rand() % outN;
            message *m = out[k];
            out[k] = out[--outN];
            heapPush(&h, m);
            o.live[o.n++] = m;
        } else if (op < 85 && o.n > 0) {
            message *m = heapPop(&h);
            assert_non_null(m);
            oracleDrop(&o, m);
            if (outN < MAX_MSGS && rand() % 2) out[outN++] = m;
            else memFree(m);
        } else if (o.n > 0) {
            message *m = o.live[(size_t)rand() % o.n];
            heapRemove(&h, m);
            oracleDrop(&o, m);
            memFree(m);
        }
        verify(&h, &o, walkEvery && step % walkEvery == 0);
    }
    while (o.n) {
        message *m = heapPop(&h);
        assert_ptr_equal(m, oracleMin(&o));
        oracleDrop(&o, m);
        memFree(m);
    }
    assert_null(heapPop(&h));
    for (size_t i = 0; i < outN; i++) memFree(out[i]);
    heapFree(&h);
}

static void test_one_priority_random(void **state) {
    (void)state;
    for (unsigned seed = 1; seed <= 10; seed++) runRandom(seed, 20000, 1, 97);
}

static void test_mixed_priorities_random(void **state) {
    (void)state;
    for (unsigned seed = 11; seed <= 20; seed++) runRandom(seed, 20000, 5, 89);
}

static void test_send_then_drain_is_in_send_order(void **state) {
    (void)state;
    readyHeap h;
    memset(&h, 0, sizeof(h));
    enum { N = 100000 };
    static message *msgs[N];
    for (uint64_t i = 0; i < N; i++) heapPush(&h, msgs[i] = newMessage(i + 1, 0));
    assert_int_equal(h.count, 0); /* all in the run: nothing went to the heap */
    for (uint64_t i = 0; i < N; i++) {
        message *m = heapPop(&h);
        assert_ptr_equal(m, msgs[i]);
        memFree(m);
    }
    assert_int_equal(heapCount(&h), 0);
    heapFree(&h);
}

/* N holes-then-keep: 1000 stays below the ring size (1024) at which shrinking
 * squeezes anyway, so only the holes rule can keep the ring short. */
static void holesSqueezed(int n) {
    readyHeap h;
    memset(&h, 0, sizeof(h));
    enum { N_MAX = 5000 };
    const uint64_t N = (uint64_t)n;
    static message *msgs[N_MAX];
    for (uint64_t i = 0; i < N; i++) heapPush(&h, msgs[i] = newMessage(i + 1, 7));
    /* Remove every message but each tenth, from the middle. */
    for (uint64_t i = 0; i < N; i++) {
        if (i % 10 == 0) continue;
        heapRemove(&h, msgs[i]);
        memFree(msgs[i]);
    }
    assert_int_equal(heapCount(&h), N / 10);
    assert_true(h.runEnd - h.runHead <= 2 * (N / 10) + 64);
    for (uint64_t i = 0; i < N; i += 10) {
        message *m = heapPop(&h);
        assert_ptr_equal(m, msgs[i]);
        memFree(m);
    }
    heapFree(&h);
}

static void test_a_stray_low_priority_message_gives_the_run_way(void **state) {
    (void)state;
    readyHeap h;
    memset(&h, 0, sizeof(h));
    message *low = newMessage(1, -1);
    heapPush(&h, low);
    enum { N = 1000 };
    static message *msgs[N];
    for (uint64_t i = 0; i < N; i++) heapPush(&h, msgs[i] = newMessage(i + 2, 0));
    assert_int_equal(h.count, 1);        /* only the stray one is in the heap */
    assert_int_equal(h.runLive, N);
    for (uint64_t i = 0; i < N; i++) {
        message *m = heapPop(&h);
        assert_ptr_equal(m, msgs[i]);
        memFree(m);
    }
    assert_ptr_equal(heapPop(&h), low);
    memFree(low);
    heapFree(&h);
}

static void test_holes_are_squeezed_and_order_kept(void **state) {
    (void)state;
    holesSqueezed(1000);
    holesSqueezed(5000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_priority_random),
        cmocka_unit_test(test_mixed_priorities_random),
        cmocka_unit_test(test_send_then_drain_is_in_send_order),
        cmocka_unit_test(test_a_stray_low_priority_message_gives_the_run_way),
        cmocka_unit_test(test_holes_are_squeezed_and_order_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
