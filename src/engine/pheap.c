/* pheap.c: the ready messages of a standard queue, in delivery order: highest
 * priority first, then send order (lowest seq).
 *
 * Two parts (internal.h's readyHeap):
 * - the run: a ring of messages of one priority whose seqs rise from head to
 *   end. QSEND makes exactly that (each seq is the queue's largest so far), so
 *   a queue fed by producers and drained by consumers pushes at the end and
 *   pops at the head, O(1), touching only the message taken. A message removed
 *   from the middle (retention, purge) leaves a NULL slot, skipped at the head
 *   and squeezed out when the ring is more than half holes.
 * - the heap: a binary heap for every other ready message (another priority
 *   than the run's, or an older seq: a lease that ran out, a delay that
 *   ended, a redriven message), O(log n), as before the run existed.
 * The next message is the better of the run's head and the heap's top.
 *
 * Each message keeps where it is in u.heapIdx, so removing any of them is
 * O(1) in the run and O(log n) in the heap (beanstalkd's heap does the same):
 * a heap index, or RUN_BIT | its run position (positions only grow, so a
 * message's stays valid while the ring grows; squeezing renumbers them).
 */
#include "engine/internal.h"

#include <string.h>

#include "mem.h"

#define RUN_BIT 0x80000000u
#define POS_MASK 0x7fffffffu /* positions live in the low 31 bits of heapIdx */

int heapBefore(const message *a, const message *b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->seq < b->seq;
}

/* ---- The heap ---- */

static void place(readyHeap *h, uint32_t i, message *m) {
    h->items[i] = m;
    m->u.heapIdx = i;
}

static void siftUp(readyHeap *h, uint32_t i) {
    message *m = h->items[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heapBefore(m, h->items[parent])) break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, m);
}

static void siftDown(readyHeap *h, uint32_t i) {
    message *m = h->items[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= h->count) break;
        if (child + 1 < h->count && heapBefore(h->items[child + 1], h->items[child]))
            child++;
        if (!heapBefore(h->items[child], m)) break;
        place(h, i, h->items[child]);
        i = child;
    }
    place(h, i, m);
}

static void treePush(readyHeap *h, message *m) {
    if (h->count == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->items = memRealloc(h->items, sizeof(message *) * h->cap);
    }
    h->items[h->count] = m;
    m->u.heapIdx = h->count;
    siftUp(h, h->count++);
}

static void treeRemove(readyHeap *h, message *m) {
    uint32_t i = m->u.heapIdx;
    message *last = h->items[--h->count];
    if (i != h->count) {
        place(h, i, last);
        if (i > 0 && heapBefore(last, h->items[(i - 1) / 2]))
            siftUp(h, i);
        else
            siftDown(h, i);
    }
    /* Give memory back after a burst drains: a 10M-message heap is 80 MB. */
    if (h->cap > 1024 && h->count < h->cap / 4) {
        h->cap /= 2;
        h->items = memRealloc(h->items, sizeof(message *) * h->cap);
    }
}

/* ---- The run ---- */

static message **slot(const readyHeap *h, uint32_t pos) {
    return &h->run[pos & (h->runCap - 1)];
}

/* Copies the live messages into a new ring of newCap slots, numbered from 0. */
static void runRebuild(readyHeap *h, uint32_t newCap) {
    message **ring = memAlloc(sizeof(message *) * newCap);
    uint32_t n = 0;
    for (uint32_t pos = h->runHead; pos != h->runEnd; pos++) {
        message *m = *slot(h, pos);
        if (!m) continue;
        ring[n] = m;
        m->u.heapIdx = RUN_BIT | n;
        n++;
    }
    memFree(h->run);
    h->run = ring;
    h->runCap = newCap;
    h->runHead = 0;
    h->runEnd = n;
}

static void runAppend(readyHeap *h, message *m) {
    if (h->runLive == 0) {
        /* A new run, of this message's priority; holes left over go. */
        h->runHead = h->runEnd = 0;
        h->runPriority = m->priority;
    }
    uint32_t len = h->runEnd - h->runHead;
    if (len == h->runCap) {
        /* Full: squeeze the holes out when they are half of it, else grow. */
        uint32_t cap = h->runCap == 0 ? 16
                       : h->runLive > len / 2 ? h->runCap * 2
                                              : h->runCap;
        runRebuild(h, cap);
    }
    uint32_t pos = h->runEnd++;
    *slot(h, pos) = m;
    m->u.heapIdx = RUN_BIT | (pos & POS_MASK);
    h->runLive++;
    h->runLastSeq = m->seq;
}

static void runRemove(readyHeap *h, message *m) {
    uint32_t stored = m->u.heapIdx & POS_MASK;
    *slot(h, stored) = NULL;
    h->runLive--;
    if (stored == (h->runHead & POS_MASK)) {
        /* Keep the head on a live message (heapTop reads it directly). */
        while (h->runHead != h->runEnd && *slot(h, h->runHead) == NULL) h->runHead++;
    }
    uint32_t len = h->runEnd - h->runHead;
    if (h->runCap > 1024 && h->runLive < h->runCap / 4)
        runRebuild(h, h->runCap / 2);
    else if (len > 64 && h->runLive < len / 2)
        runRebuild(h, h->runCap);
}

static message *runFirst(const readyHeap *h) {
    return h->runLive ? *slot(h, h->runHead) : NULL;
}

/* ---- Both ---- */

/* Moves a short run into the heap, so that a new run can start. */
static void runToTree(readyHeap *h) {
    for (uint32_t pos = h->runHead; pos != h->runEnd; pos++) {
        message *m = *slot(h, pos);
        if (m) treePush(h, m);
    }
    h->runHead = h->runEnd = 0;
    h->runLive = 0;
}

#define RUN_YIELD_MAX 64 /* a run this short gives way to a higher priority */

void heapPush(readyHeap *h, message *m) {
    /* A run of a lower priority than the sends that follow would be taken
     * last and keep every one of them in the heap until then (one stray
     * PRIORITY -1 message would switch the O(1) path off): while it is short,
     * it moves to the heap and the higher priority starts a run. */
    if (h->runLive > 0 && h->runLive <= RUN_YIELD_MAX && m->priority > h->runPriority)
        runToTree(h);
    if (h->runLive == 0 || (m->priority == h->runPriority && m->seq > h->runLastSeq))
        runAppend(h, m);
    else
        treePush(h, m);
}

message *heapTop(const readyHeap *h) {
    message *r = runFirst(h), *t = h->count ? h->items[0] : NULL;
    if (!r) return t;
    if (!t) return r;
    return heapBefore(t, r) ? t : r;
}

void heapRemove(readyHeap *h, message *m) {
    if (m->u.heapIdx & RUN_BIT)
        runRemove(h, m);
    else
        treeRemove(h, m);
}

message *heapPop(readyHeap *h) {
    message *m = heapTop(h);
    if (m) heapRemove(h, m);
    return m;
}

uint32_t heapCount(const readyHeap *h) { return h->count + h->runLive; }

void heapFree(readyHeap *h) {
    memFree(h->items);
    memFree(h->run);
    memset(h, 0, sizeof(*h));
}

/* ---- Walking in order ---- */

void heapIterInit(heapIter *it, const readyHeap *h) {
    it->h = h;
    it->runPos = h->runHead;
    it->fcap = 16;
    it->fcount = 0;
    it->frontier = memAlloc(sizeof(uint32_t) * it->fcap);
    if (h->count) it->frontier[it->fcount++] = 0;
}

/* The heap's part is a small frontier heap of indices that may come next,
 * starting at the root: taking one adds its two children. */
message *heapIterNext(heapIter *it) {
    const readyHeap *h = it->h;
    while (it->runPos != h->runEnd && *slot(h, it->runPos) == NULL) it->runPos++;
    message *r = it->runPos != h->runEnd ? *slot(h, it->runPos) : NULL;
    size_t best = 0;
    for (size_t i = 1; i < it->fcount; i++)
        if (heapBefore(h->items[it->frontier[i]], h->items[it->frontier[best]])) best = i;
    message *t = it->fcount ? h->items[it->frontier[best]] : NULL;
    if (r && (!t || heapBefore(r, t))) {
        it->runPos++;
        return r;
    }
    if (!t) return NULL;
    uint32_t idx = it->frontier[best];
    it->frontier[best] = it->frontier[--it->fcount];
    for (uint32_t c = 2 * idx + 1; c <= 2 * idx + 2 && c < h->count; c++) {
        if (it->fcount == it->fcap) {
            it->fcap *= 2;
            it->frontier = memRealloc(it->frontier, sizeof(uint32_t) * it->fcap);
        }
        it->frontier[it->fcount++] = c;
    }
    return t;
}

void heapIterFree(heapIter *it) {
    memFree(it->frontier);
    it->frontier = NULL;
}
