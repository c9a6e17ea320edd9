/* benchhist.c: the latency histogram of respq-benchmark; see benchhist.h for the
 * bucket layout and why it is shaped so. */
#include "benchhist.h"

static unsigned bucketOf(uint64_t ns) {
    if (ns < 64) return (unsigned)ns;
    unsigned msb = 63u - (unsigned)__builtin_clzll(ns); /* 6 .. 63 */
    unsigned sub = (unsigned)(ns >> (msb - 5)) & (BENCHHIST_SUB - 1);
    return 64 + (msb - 6) * BENCHHIST_SUB + sub;
}

/* The largest value that falls in bucket b. */
static uint64_t bucketTop(unsigned b) {
    if (b < 64) return b;
    unsigned msb = (b - 64) / BENCHHIST_SUB + 6, sub = (b - 64) % BENCHHIST_SUB;
    uint64_t low = ((uint64_t)1 << msb) + ((uint64_t)sub << (msb - 5));
    return low + ((uint64_t)1 << (msb - 5)) - 1;
}

void benchHistRecord(benchHist *h, uint64_t ns) {
    h->count[bucketOf(ns)]++;
    h->total++;
    h->sumNs += ns;
    if (ns > h->maxNs) h->maxNs = ns;
}

void benchHistMerge(benchHist *dst, const benchHist *src) {
    for (unsigned i = 0; i < BENCHHIST_BUCKETS; i++) dst->count[i] += src->count[i];
    dst->total += src->total;
    dst->sumNs += src->sumNs;
    if (src->maxNs > dst->maxNs) dst->maxNs = src->maxNs;
}

uint64_t benchHistPercentile(const benchHist *h, double q) {
    if (h->total == 0) return 0;
    /* The rank of the sample asked for, 1-based: the smallest r with
     * r >= q * total, at least 1. */
    double want = q * (double)h->total;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want) rank++;
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < BENCHHIST_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= rank) {
            uint64_t top = bucketTop(b);
            return top < h->maxNs ? top : h->maxNs;
        }
    }
    return h->maxNs;
}
