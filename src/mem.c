/* mem.c: accounted allocation on top of jemalloc; see mem.h for the why.
 *
 * The counter is a plain size_t: the server is single-threaded on the hot path, and
 * the background threads (fsync) never allocate through here.
 */
#include "mem.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t usedBytes;
static long failCountdown;

static int shouldFail(void) {
    if (failCountdown <= 0) return 0;
    return --failCountdown == 0;
}

static void oom(size_t size) {
    fprintf(stderr, "respq: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *memTryAlloc(size_t size) {
    if (shouldFail()) return NULL;
    void *p = malloc(size ? size : 1);
    if (p) usedBytes += malloc_usable_size(p);
    return p;
}

void *memAlloc(size_t size) {
    void *p = memTryAlloc(size);
    if (!p) oom(size);
    return p;
}

void *memCalloc(size_t size) {
    void *p = memAlloc(size);
    memset(p, 0, size);
    return p;
}

void *memTryRealloc(void *ptr, size_t size) {
    if (!ptr) return memTryAlloc(size);
    if (shouldFail()) return NULL;
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size ? size : 1);
    if (!p) return NULL;
    usedBytes = usedBytes - old + malloc_usable_size(p);
    return p;
}

void *memRealloc(void *ptr, size_t size) {
    void *p = memTryRealloc(ptr, size);
    if (!p) oom(size);
    return p;
}

void memFree(void *ptr) {
    if (!ptr) return;
    usedBytes -= malloc_usable_size(ptr);
    free(ptr);
}

char *memStrndup(const char *s, size_t n) {
    char *p = memAlloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *memStrdup(const char *s) { return memStrndup(s, strlen(s)); }

size_t memUsed(void) { return usedBytes; }

void memFailAfter(long n) { failCountdown = n; }
