/* benchhist.h: the latency histogram of respq-benchmark.
 *
 * Log-linear buckets over nanoseconds: values below 64 ns have a bucket each;
 * above, every power of two is cut into 32 equal buckets, so a reported
 * percentile is within 1/32 (about 3%) of the true value, from 64 ns to hours,
 * in a fixed 15 KB array. Recording is one bit scan and an increment, cheap
 * enough for every request of a run at a million requests a second; exact
 * percentiles would need every sample kept and sorted.
 */
#ifndef RESPQ_BENCHHIST_H
#define RESPQ_BENCHHIST_H

#include <stdint.h>

#define BENCHHIST_SUB 32                        /* buckets per power of two */
#define BENCHHIST_BUCKETS (64 + 58 * BENCHHIST_SUB) /* up to 2^63 ns */

typedef struct benchHist {
    uint64_t count[BENCHHIST_BUCKETS];
    uint64_t total;  /* samples recorded */
    uint64_t maxNs;  /* the largest sample, exact */
    uint64_t sumNs;  /* for the mean */
} benchHist;

/* Adds one sample of ns nanoseconds. */
void benchHistRecord(benchHist *h, uint64_t ns);

/* Adds every sample of src to dst. */
void benchHistMerge(benchHist *dst, const benchHist *src);

/* The value below which a fraction q (0 - 1) of the samples lie, in
 * nanoseconds: the upper edge of the bucket holding that rank, capped at the
 * exact maximum. 0 when nothing was recorded. */
uint64_t benchHistPercentile(const benchHist *h, double q);

#endif
