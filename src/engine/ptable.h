/* ptable.h: an open-addressing hash table of pointers, for the engine's indexes
 * (queues by name, messages by sequence, FIFO groups, dedup ids).
 *
 * Entries are the caller's structs; the table stores only pointers and asks the
 * caller's hash function for an entry's hash, so it holds no copy of any key and
 * costs 8 bytes a slot. Linear probing with backward-shift deletion (no
 * tombstones), power-of-two sizes, grown at 3/4 load and shrunk at 1/8: lookups
 * and deletes stay short however many inserts and deletes came before.
 */
#ifndef RESPQ_PTABLE_H
#define RESPQ_PTABLE_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t ptableHashProc(const void *entry);
/* 1 when entry has the key `key` (whatever the caller means by a key). */
typedef int ptableMatchProc(const void *entry, const void *key);

typedef struct ptable {
    void **slots; /* owned; NULL while empty */
    size_t size;  /* slots, a power of two, or 0 */
    size_t count;
    ptableHashProc *hash;
    ptableMatchProc *match;
} ptable;

void ptableInit(ptable *t, ptableHashProc *hash, ptableMatchProc *match);
void ptableFree(ptable *t); /* frees the slots, not the entries */
/* Finds the entry with `key`, whose hash is `h`. */
void *ptableFind(const ptable *t, uint64_t h, const void *key);
/* Adds an entry (its key must not be present). */
void ptableAdd(ptable *t, void *entry);
/* Removes this entry (by identity). 1 if it was there. */
int ptableRemove(ptable *t, void *entry);

uint64_t ptableHashBytes(const void *p, size_t n);
uint64_t ptableHashU64(uint64_t v);

#endif
