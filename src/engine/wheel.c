/* wheel.c: the hierarchical timer wheel (the levels, the costs and the expired
 * order are in wheel.h). This file owns the slot lists, the occupancy bitmaps and
 * the wheel's clock; the nodes belong to the caller's structs.
 *
 * Keys. Times are mapped to uint64 keys by flipping the sign bit, which keeps their
 * order, so every int64 works and bit arithmetic needs no special case for
 * negative values. Let `clock` be the key of now and digit(k, l) the 6 bits of k
 * that index level l (bits 6l..6l+5).
 *
 * Invariants, true between any two calls:
 *  1. A node with key <= clock is on the expired list; any other scheduled node is
 *     in slot[l][digit(key, l)] where l is the level of the highest bit in which
 *     key and clock differ (l = msb(key ^ clock) / 6). Key and clock then agree
 *     above level l and digit(key, l) > digit(clock, l).
 *  2. So a node's list follows from its expiresMs and the clock alone: wheelDel
 *     needs no back pointer, and every occupied slot of level l lies after clock's
 *     own digit in the current block of that level. Each level's earliest slot is
 *     its lowest set bit (no rotation, unlike a wheel placed by relative delay),
 *     and every slot of level l begins before every slot of a higher level (the
 *     higher one begins in a later block of level l). The earliest occupied slot
 *     of the wheel is the lowest set bit of the lowest non-empty level, which is
 *     what makes wheelNextExpiry O(1).
 *  3. occupied[l] has a bit set exactly for the non-empty slots of level l, and
 *     levelsUsed a bit exactly for the non-zero occupied[l].
 *
 * Advancing. wheelAdvance repeatedly takes the earliest occupied slot; if it begins
 * at or before the target time, the clock jumps to the slot's start and the slot is
 * emptied: a level-0 slot is one millisecond wide, so its whole list is spliced onto
 * the expired list; a node of a higher slot either expires (its expiry is the
 * slot's start) or is filed again, which puts it at a lower level because it now
 * agrees with the clock down to that slot's level. Finally the clock jumps to the
 * target. Moving the clock to any time before the start of every remaining slot
 * keeps invariant 1 for the nodes not touched: the clock and a node's slot start
 * both lie in the node's block, so the clock cannot have passed the node's digit.
 * Slots are thus visited in time order, which yields the expired order without
 * sorting, and the work is per occupied slot and per node moved, never per
 * millisecond: a jump of hours over an empty stretch costs a couple of bit scans.
 *
 * Where the time goes: the wheel's own arithmetic is a few instructions per call;
 * with millions of timers the cost is cache misses on the nodes (a move touches the
 * node and its list neighbours). Moving a slot's nodes walks its list, one miss per
 * node when the nodes lie at addresses unrelated to their expiries, and few when
 * they were allocated in roughly the order they expire (one queue's messages).
 *
 * Lists are circular and doubly linked through the nodes alone; a slot holds only a
 * pointer to its first node (8 bytes instead of a 16-byte sentinel), and appending
 * at the tail keeps ties in the order they were added.
 */
#include "wheel.h"

#include <string.h>

#define SLOT_MASK (WHEEL_SLOTS - 1)
#define KEY_FLIP (UINT64_C(1) << 63)

/* ---- Keys and slots ---- */

static inline uint64_t keyOf(int64_t ms) {
    return (uint64_t)ms ^ KEY_FLIP;
}

/* The inverse of keyOf, without converting an out-of-range uint64 to int64. */
static inline int64_t msOf(uint64_t key) {
    if (key >= KEY_FLIP) return (int64_t)(key - KEY_FLIP);
    return -(int64_t)(KEY_FLIP - 1 - key) - 1;
}

/* The level of a node whose key differs from the clock by diff (non-zero). */
static inline int levelOf(uint64_t diff) {
    return (63 - __builtin_clzll(diff)) / WHEEL_LEVEL_BITS;
}

static inline unsigned slotOf(uint64_t key, int level) {
    return (unsigned)(key >> (level * WHEEL_LEVEL_BITS)) & SLOT_MASK;
}

/* Where slot `slot` of `level` begins, for the current clock: the clock's bits above
 * the level, the slot index, zeros below. The top level has no bits above it. */
static inline uint64_t slotStart(uint64_t clock, int level, unsigned slot) {
    int shift = level * WHEEL_LEVEL_BITS;
    int above = shift + WHEEL_LEVEL_BITS;
    uint64_t high = above >= 64 ? 0 : clock & (~UINT64_C(0) << above);
    return high | ((uint64_t)slot << shift);
}

/* ---- Circular lists ---- */

static void listAppend(wheelNode **head, wheelNode *n) {
    wheelNode *first = *head;
    if (first == NULL) {
        n->next = n->prev = n;
        *head = n;
        return;
    }
    wheelNode *last = first->prev;
    n->prev = last;
    n->next = first;
    last->next = n;
    first->prev = n;
}

/* Appends the whole list starting at `first` after the tail of *head. */
static void listSplice(wheelNode **head, wheelNode *first) {
    wheelNode *into = *head;
    if (into == NULL) {
        *head = first;
        return;
    }
    wheelNode *intoLast = into->prev, *last = first->prev;
    intoLast->next = first;
    first->prev = intoLast;
    last->next = into;
    into->prev = last;
}

/* Unlinks n from the list at *head; returns 1 when the list is empty afterwards. */
static int listRemove(wheelNode **head, wheelNode *n) {
    if (n->next == n) {
        *head = NULL;
        return 1;
    }
    n->prev->next = n->next;
    n->next->prev = n->prev;
    if (*head == n) *head = n->next;
    return 0;
}

/* ---- Filing nodes ---- */

/* Puts a node whose links are free where invariant 1 says it belongs. */
static void fileNode(wheel *w, wheelNode *n) {
    uint64_t key = keyOf(n->expiresMs);
    if (key <= w->clock) {
        listAppend(&w->expired, n);
        return;
    }
    int level = levelOf(key ^ w->clock);
    unsigned slot = slotOf(key, level);
    listAppend(&w->slot[level][slot], n);
    w->occupied[level] |= UINT64_C(1) << slot;
    w->levelsUsed |= 1u << level;
}

static void clearSlotBit(wheel *w, int level, unsigned slot) {
    w->occupied[level] &= ~(UINT64_C(1) << slot);
    if (w->occupied[level] == 0) w->levelsUsed &= ~(1u << level);
}

/* Takes a scheduled node off its list, found from its expiry (invariant 2). */
static void unfileNode(wheel *w, wheelNode *n) {
    uint64_t key = keyOf(n->expiresMs);
    if (key <= w->clock) {
        listRemove(&w->expired, n);
        return;
    }
    int level = levelOf(key ^ w->clock);
    unsigned slot = slotOf(key, level);
    if (listRemove(&w->slot[level][slot], n)) clearSlotBit(w, level, slot);
}

/* ---- Public API ---- */

void wheelInit(wheel *w, int64_t nowMs) {
    memset(w, 0, sizeof(*w));
    w->clock = keyOf(nowMs);
}

void wheelAdd(wheel *w, wheelNode *n, int64_t expiresMs) {
    if (wheelScheduled(n))
        unfileNode(w, n);
    else
        w->count++;
    n->expiresMs = expiresMs;
    fileNode(w, n);
}

void wheelDel(wheel *w, wheelNode *n) {
    if (!wheelScheduled(n)) return;
    unfileNode(w, n);
    n->next = n->prev = NULL;
    w->count--;
}

void wheelAdvance(wheel *w, int64_t nowMs) {
    uint64_t target = keyOf(nowMs);
    if (target <= w->clock) return;
    while (w->levelsUsed) {
        /* The earliest occupied slot (invariant 2); later ones can wait if it can. */
        int level = __builtin_ctz(w->levelsUsed);
        unsigned slot = (unsigned)__builtin_ctzll(w->occupied[level]);
        uint64_t start = slotStart(w->clock, level, slot);
        if (start > target) break;

        wheelNode *first = w->slot[level][slot];
        w->slot[level][slot] = NULL;
        clearSlotBit(w, level, slot);
        w->clock = start;
        if (level == 0) {
            /* One millisecond wide: all of it expires now, in its own order. */
            listSplice(&w->expired, first);
            continue;
        }
        /* Open the circle so the walk ends however fileNode relinks the nodes. */
        first->prev->next = NULL;
        wheelNode *n = first;
        while (n != NULL) {
            wheelNode *next = n->next;
            fileNode(w, n); /* expires, or lands at a lower level */
            n = next;
        }
    }
    w->clock = target;
}

wheelNode *wheelPopExpired(wheel *w) {
    wheelNode *n = w->expired;
    if (n == NULL) return NULL;
    listRemove(&w->expired, n);
    n->next = n->prev = NULL; /* the caller owns it again */
    w->count--;
    return n;
}

int64_t wheelNextExpiry(const wheel *w) {
    if (w->expired != NULL) return msOf(w->clock);
    if (w->levelsUsed == 0) return INT64_MAX;
    int level = __builtin_ctz(w->levelsUsed);
    unsigned slot = (unsigned)__builtin_ctzll(w->occupied[level]);
    return msOf(slotStart(w->clock, level, slot));
}

int64_t wheelNow(const wheel *w) {
    return msOf(w->clock);
}

size_t wheelCount(const wheel *w) {
    return w->count;
}

/* ---- Consistency check ---- */

/* Walks one circular list: links consistent both ways, at most `budget` nodes (so a
 * corrupt circle cannot hang the check). Returns the length, or SIZE_MAX. */
static size_t checkList(const wheelNode *first, size_t budget) {
    if (first == NULL) return 0;
    size_t len = 0;
    const wheelNode *n = first;
    do {
        if (n->next == NULL || n->prev == NULL) return SIZE_MAX;
        if (n->next->prev != n || n->prev->next != n) return SIZE_MAX;
        if (++len > budget) return SIZE_MAX;
        n = n->next;
    } while (n != first);
    return len;
}

int wheelCheck(const wheel *w) {
    size_t seen = 0;
    unsigned levels = 0;
    for (int level = 0; level < WHEEL_LEVELS; level++) {
        uint64_t bits = 0;
        for (unsigned slot = 0; slot < WHEEL_SLOTS; slot++) {
            const wheelNode *first = w->slot[level][slot];
            size_t len = checkList(first, w->count - seen);
            if (len == SIZE_MAX) return 0;
            if (len == 0) continue;
            bits |= UINT64_C(1) << slot;
            seen += len;
            const wheelNode *n = first;
            do {
                uint64_t key = keyOf(n->expiresMs);
                if (key <= w->clock) return 0;
                if (levelOf(key ^ w->clock) != level) return 0;
                if (slotOf(key, level) != slot) return 0;
                n = n->next;
            } while (n != first);
        }
        if (bits != w->occupied[level]) return 0;
        if (bits) levels |= 1u << level;
    }
    if (levels != w->levelsUsed) return 0;
    size_t len = checkList(w->expired, w->count - seen);
    if (len == SIZE_MAX) return 0;
    if (len > 0) {
        const wheelNode *n = w->expired;
        do {
            if (keyOf(n->expiresMs) > w->clock) return 0;
            n = n->next;
        } while (n != w->expired);
    }
    return seen + len == w->count;
}
