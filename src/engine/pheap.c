/* pheap.c: the ready heap of a standard queue: highest priority first, then send
 * order (lowest seq), with each message's index kept inside it (u.heapIdx) so that
 * removing any message (QDEL of a ready one, retention) is O(log n), as
 * beanstalkd's heap does.
 *
 * A QSEND at one priority pushes a seq larger than every other, which never sifts
 * up past its parent: O(1) in the common case. Pops are O(log n).
 */
#include "engine/internal.h"

#include "mem.h"

int heapBefore(const message *a, const message *b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->seq < b->seq;
}

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

void heapPush(readyHeap *h, message *m) {
    if (h->count == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->items = memRealloc(h->items, sizeof(message *) * h->cap);
    }
    h->items[h->count] = m;
    m->u.heapIdx = h->count;
    siftUp(h, h->count++);
}

message *heapTop(const readyHeap *h) { return h->count ? h->items[0] : NULL; }

void heapRemove(readyHeap *h, message *m) {
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

message *heapPop(readyHeap *h) {
    message *m = heapTop(h);
    if (m) heapRemove(h, m);
    return m;
}

void heapFree(readyHeap *h) {
    memFree(h->items);
    h->items = NULL;
    h->count = h->cap = 0;
}
