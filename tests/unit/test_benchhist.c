/* test_benchhist.c: unit tests of respq-benchmark's latency histogram
 * (src/tools/benchhist.c) against the exact percentiles of the same samples,
 * sorted.
 *
 * The histogram promises that a percentile is never below the exact one and at
 * most 1/32 above it (the width of a bucket relative to its start), and that
 * the maximum is exact; the tests feed values from single nanoseconds to hours,
 * with the bucket edges themselves among them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tools/benchhist.h"

static int compareU64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact value of rank ceil(q * n) (at least 1) of sorted[0..n). */
static uint64_t exactPercentile(const uint64_t *sorted, size_t n, double q) {
    double want = q * (double)n;
    size_t rank = (size_t)want;
    if ((double)rank < want) rank++;
    if (rank == 0) rank = 1;
    return sorted[rank - 1];
}

static void checkAgainstExact(uint64_t *values, size_t n) {
    static benchHist h;
    memset(&h, 0, sizeof(h));
    for (size_t i = 0; i < n; i++) benchHistRecord(&h, values[i]);
    qsort(values, n, sizeof(*values), compareU64);
    assert_int_equal(h.total, n);
    assert_int_equal(h.maxNs, values[n - 1]);
    static const double qs[] = {0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        uint64_t exact = exactPercentile(values, n, qs[i]);
        uint64_t got = benchHistPercentile(&h, qs[i]);
        assert_true(got >= exact);
        assert_true(got - exact <= exact / 32);
    }
}

static void test_empty_histogram_reports_zero(void **state) {
    (void)state;
    benchHist h;
    memset(&h, 0, sizeof(h));
    assert_int_equal(benchHistPercentile(&h, 0.5), 0);
    assert_int_equal(benchHistPercentile(&h, 1), 0);
}

static void test_small_values_are_exact(void **state) {
    (void)state;
    uint64_t v[64];
    for (size_t i = 0; i < 64; i++) v[i] = 63 - i;
    checkAgainstExact(v, 64);
    benchHist h;
    memset(&h, 0, sizeof(h));
    for (uint64_t i = 0; i < 64; i++) benchHistRecord(&h, i);
    assert_int_equal(benchHistPercentile(&h, 0.5), 31);
}

static void test_bucket_edges_and_powers_of_two(void **state) {
    (void)state;
    uint64_t v[3 * 57];
    size_t n = 0;
    for (unsigned b = 6; b < 63; b++) {
        uint64_t p = (uint64_t)1 << b;
        v[n++] = p - 1;
        v[n++] = p;
        v[n++] = p + (p >> 5) - 1; /* the last value of the power's first bucket */
    }
    checkAgainstExact(v, n);
}

static void test_random_latencies_from_ns_to_hours(void **state) {
    (void)state;
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof(*v));
    assert_non_null(v);
    srand(7);
    for (size_t i = 0; i < N; i++) {
        /* Log-uniform over 2^0 .. 2^42 ns (about 73 minutes). */
        unsigned bits = (unsigned)(rand() % 43);
        uint64_t r = ((uint64_t)rand() << 31) ^ (uint64_t)rand();
        v[i] = bits ? r & (((uint64_t)1 << bits) - 1) : 0;
    }
    checkAgainstExact(v, N);
    free(v);
}

static void test_merge_adds_counts_and_keeps_max(void **state) {
    (void)state;
    static benchHist a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    for (uint64_t i = 1; i <= 1000; i++) benchHistRecord(&a, i * 1000);
    for (uint64_t i = 1; i <= 1000; i++) benchHistRecord(&b, i * 1000 + 1000000);
    benchHistMerge(&a, &b);
    assert_int_equal(a.total, 2000);
    assert_int_equal(a.maxNs, 2000000);
    uint64_t median = benchHistPercentile(&a, 0.5);
    assert_true(median >= 1000000 && median <= 1000000 + 1000000 / 32);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_histogram_reports_zero),
        cmocka_unit_test(test_small_values_are_exact),
        cmocka_unit_test(test_bucket_edges_and_powers_of_two),
        cmocka_unit_test(test_random_latencies_from_ns_to_hours),
        cmocka_unit_test(test_merge_adds_counts_and_keeps_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
