/* mem.h: the one allocation path of respq.
 *
 * Every heap allocation of the server goes through memAlloc/memRealloc/memFree so
 * that used memory is accounted (INFO used_memory, maxmemory) and so that tests can
 * make the N-th allocation fail (memFailAfter) to exercise out-of-memory paths.
 * The allocator underneath is jemalloc (linked in place of malloc), and sizes are
 * accounted with malloc_usable_size, so the figure is what jemalloc really handed
 * out, not what was asked for.
 *
 * memAlloc and memRealloc abort with a crash report when the allocator itself
 * fails (as Redis does): a server that cannot allocate 64 bytes cannot answer
 * anything sensibly. memTryAlloc returns NULL instead, for the few places (large
 * client-sized buffers) where refusing one request is the right answer.
 */
#ifndef RESPQ_MEM_H
#define RESPQ_MEM_H

#include <stddef.h>

void *memAlloc(size_t size);
void *memCalloc(size_t size);
void *memRealloc(void *ptr, size_t size);
void *memTryAlloc(size_t size);       /* NULL on failure instead of abort */
void *memTryRealloc(void *ptr, size_t size);
void memFree(void *ptr);
char *memStrdup(const char *s);       /* caller frees with memFree */
char *memStrndup(const char *s, size_t n); /* NUL-terminated copy; caller frees */
size_t memUsed(void);                 /* bytes currently allocated through mem* */

/* Test hook: the n-th allocation from now (1 = the next one) fails as if the
 * allocator were out of memory; 0 disables. A failed memAlloc aborts, a failed
 * memTryAlloc returns NULL. */
void memFailAfter(long n);

#endif
