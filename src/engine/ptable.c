/* ptable.c: open-addressing pointer table; see ptable.h for the shape and why. */
#include "engine/ptable.h"

#include <string.h>

#include "mem.h"

#define MIN_SIZE 8

void ptableInit(ptable *t, ptableHashProc *hash, ptableMatchProc *match) {
    t->slots = NULL;
    t->size = t->count = 0;
    t->hash = hash;
    t->match = match;
}

void ptableFree(ptable *t) {
    memFree(t->slots);
    t->slots = NULL;
    t->size = t->count = 0;
}

static void placeEntry(void **slots, size_t mask, void *entry, uint64_t h) {
    size_t i = (size_t)h & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = entry;
}

static void resize(ptable *t, size_t size) {
    void **slots = memCalloc(sizeof(void *) * size);
    for (size_t i = 0; i < t->size; i++)
        if (t->slots[i]) placeEntry(slots, size - 1, t->slots[i], t->hash(t->slots[i]));
    memFree(t->slots);
    t->slots = slots;
    t->size = size;
}

void *ptableFind(const ptable *t, uint64_t h, const void *key) {
    if (!t->size) return NULL;
    size_t mask = t->size - 1;
    for (size_t i = (size_t)h & mask; t->slots[i]; i = (i + 1) & mask)
        if (t->match(t->slots[i], key)) return t->slots[i];
    return NULL;
}

void ptableAdd(ptable *t, void *entry) {
    if ((t->count + 1) * 4 > t->size * 3) resize(t, t->size ? t->size * 2 : MIN_SIZE);
    placeEntry(t->slots, t->size - 1, entry, t->hash(entry));
    t->count++;
}

int ptableRemove(ptable *t, void *entry) {
    if (!t->size) return 0;
    size_t mask = t->size - 1;
    size_t i = (size_t)t->hash(entry) & mask;
    while (t->slots[i] != entry) {
        if (!t->slots[i]) return 0;
        i = (i + 1) & mask;
    }
    /* Backward shift: pull later entries of the probe run into the hole when
     * their home slot is not between the hole and where they sit. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t home = (size_t)t->hash(t->slots[j]) & mask;
        int between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole] = NULL;
    t->count--;
    if (t->size > MIN_SIZE && t->count * 8 < t->size) {
        if (t->count == 0) {
            ptableFree(t);
        } else {
            resize(t, t->size / 2);
        }
    }
    return 1;
}

uint64_t ptableHashBytes(const void *p, size_t n) {
    /* FNV-1a, then a final mix so that the low bits (the slot) depend on every
     * byte. */
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return ptableHashU64(h);
}

uint64_t ptableHashU64(uint64_t v) {
    /* splitmix64's finalizer: sequential message sequences spread evenly. */
    v ^= v >> 30;
    v *= 0xbf58476d1ce4e5b9ULL;
    v ^= v >> 27;
    v *= 0x94d049bb133111ebULL;
    v ^= v >> 31;
    return v;
}
