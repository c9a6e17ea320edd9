/* test_resp.c: unit tests of the RESP codec (src/resp.c).
 *
 * The writer is checked byte for byte in RESP2 and RESP3. The parser is checked
 * against Redis 7.0's behaviour case by case, and then by one property that catches
 * most incremental-parsing bugs: the sequence of results (a "transcript") is the
 * same however the input is cut into reads. A small driver plays the network layer:
 * it keeps the unconsumed bytes, appends each chunk, and (for small inputs) moves
 * the bytes to a fresh allocation before every call, so ASan catches any pointer the
 * parser kept into an old buffer. Every input is fed whole, cut at every offset,
 * byte by byte and in random chunks; random garbage and mutated pipelines run
 * through the same comparison with a seeded PRNG, so failures replay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "resp.h"

#define LIT(s) s, sizeof(s) - 1

/* ---- Helpers ---- */

static uint64_t rngState;

static void rngSeed(uint64_t seed) {
    rngState = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint64_t rng(void) { /* xorshift64*: small, fast, reproducible */
    rngState ^= rngState >> 12;
    rngState ^= rngState << 25;
    rngState ^= rngState >> 27;
    return rngState * 0x2545F4914F6CDD1DULL;
}

static size_t rngBelow(size_t n) {
    return n ? (size_t)(rng() % n) : 0;
}

/* Asserts that b holds exactly want[0..n), then empties b for the next check. */
static void expectBuf(respBuf *b, const char *want, size_t n) {
    if (b->len != n || (n && memcmp(b->data, want, n) != 0)) {
        fprintf(stderr, "want %zu bytes: ", n);
        fwrite(want, 1, n, stderr);
        fprintf(stderr, "\ngot %zu bytes: ", b->len);
        if (b->len) fwrite(b->data, 1, b->len, stderr);
        fprintf(stderr, "\n");
        fail();
    }
    b->len = 0;
}

#define EXPECT(b, lit) expectBuf((b), LIT(lit))

/* ---- Transcript driver ---- */

enum { FEED_WHOLE, FEED_SPLIT, FEED_BYTES, FEED_RANDOM };

typedef struct feedOpts {
    long long maxBulkLen; /* 0: parser default */
    long long maxMultibulk;
    int unauthenticated;
    int copy; /* move the pending bytes to a fresh allocation before each call */
} feedOpts;

static void appendRecord(respBuf *t, const char *s) {
    respBufAppend(t, s, strlen(s));
}

/* Runs the parser over the pending bytes until it needs more; appends what it saw
 * to the transcript. Returns 0 once an error ended the stream. */
static int drain(respParser *p, respBuf *q, respBuf *t, int copy) {
    for (;;) {
        size_t consumed = 12345;
        const char *buf = q->data;
        char *fresh = NULL;
        if (copy && q->len && q->len <= 4096) { /* bounded: byte feeds stay fast */
            fresh = memAlloc(q->len);
            memcpy(fresh, q->data, q->len);
            buf = fresh;
        }
        int r = respParse(p, buf, q->len, &consumed);
        char rec[64];
        switch (r) {
        case RESP_OK:
            assert_true(consumed > 0 && consumed <= q->len);
            assert_true(p->argc > 0);
            snprintf(rec, sizeof rec, "OK %d %zu:", p->argc, consumed);
            appendRecord(t, rec);
            for (int i = 0; i < p->argc; i++) {
                const char *a = p->argv[i].ptr;
                size_t n = p->argv[i].len;
                /* each argument lies in the buffer handed in or in scratch */
                int inBuf = a >= buf && a + n <= buf + q->len;
                int inScratch = p->scratch && a >= p->scratch &&
                                a + n <= p->scratch + p->scratchCap;
                assert_true(inBuf || inScratch);
                snprintf(rec, sizeof rec, "[%zu]", n);
                appendRecord(t, rec);
                respBufAppend(t, a, n);
            }
            appendRecord(t, ";");
            break;
        case RESP_EMPTY:
            assert_true(consumed > 0 && consumed <= q->len);
            snprintf(rec, sizeof rec, "E %zu;", consumed);
            appendRecord(t, rec);
            break;
        case RESP_NEED_MORE:
            assert_int_equal(consumed, 0);
            memFree(fresh);
            return 1;
        case RESP_ERROR:
            assert_int_equal(consumed, 0);
            appendRecord(t, "ERR ");
            appendRecord(t, p->err);
            appendRecord(t, ";");
            memFree(fresh);
            return 0;
        default:
            fail_msg("respParse returned %d", r);
        }
        memFree(fresh);
        memmove(q->data, q->data + consumed, q->len - consumed);
        q->len -= consumed;
    }
}

/* Feeds in[0..n) cut as `mode` says (cut = the offset for FEED_SPLIT) and returns
 * the transcript in t: every result, then how many bytes were left pending. */
static void feed(const char *in, size_t n, int mode, size_t cut, const feedOpts *o,
                 respBuf *t) {
    respParser p;
    respParserInit(&p);
    if (o && o->maxBulkLen) p.maxBulkLen = o->maxBulkLen;
    if (o && o->maxMultibulk) p.maxMultibulk = o->maxMultibulk;
    if (o) p.unauthenticated = o->unauthenticated;
    int copy = o ? o->copy : 1;
    respBuf q = {0};
    size_t off = 0;
    int alive = 1;
    t->len = 0;
    while (alive && off < n) {
        size_t chunk;
        switch (mode) {
        case FEED_WHOLE:
            chunk = n;
            break;
        case FEED_SPLIT:
            chunk = off < cut ? cut - off : n - off;
            break;
        case FEED_BYTES:
            chunk = 1;
            break;
        default:
            chunk = 1 + rngBelow(rngBelow(4) ? 8 : 200);
            break;
        }
        if (chunk > n - off) chunk = n - off;
        respBufAppend(&q, in + off, chunk);
        off += chunk;
        alive = drain(&p, &q, t, copy);
        /* the pending count never asks for more than one bulk can hold */
        if (alive)
            assert_true(respParserPending(&p, q.len) <= (size_t)p.maxBulkLen + 2);
    }
    char rec[48];
    snprintf(rec, sizeof rec, alive ? "MORE %zu" : "DEAD", q.len);
    appendRecord(t, rec);
    respBufFree(&q);
    respParserFree(&p);
}

/* The transcript is the same whole, at every cut (if exhaustive), byte by byte and
 * in random chunks. Returns nothing; fails the test with the two transcripts. */
static void checkSplits(const char *in, size_t n, const feedOpts *o, int exhaustive) {
    respBuf want = {0}, got = {0};
    feed(in, n, FEED_WHOLE, 0, o, &want);
    for (int mode = FEED_SPLIT; mode <= FEED_RANDOM; mode++) {
        size_t cuts = mode == FEED_SPLIT ? (exhaustive ? n + 1 : 3) : 1;
        for (size_t c = 0; c < cuts; c++) {
            size_t cut = exhaustive ? c : rngBelow(n + 1);
            feed(in, n, mode, cut, o, &got);
            if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0) {
                fprintf(stderr, "mode %d cut %zu\nwhole: %.*s\nsplit: %.*s\n", mode,
                        cut, (int)want.len, want.data, (int)got.len, got.data);
                fail();
            }
        }
    }
    respBufFree(&want);
    respBufFree(&got);
}

/* Parses a buffer that should hold exactly one command (or one error). */
static int parseOne(respParser *p, const char *in, size_t n, size_t *consumed) {
    return respParse(p, in, n, consumed);
}

static void expectArgs(const respParser *p, int argc, const char *const *args,
                       const size_t *lens) {
    assert_int_equal(p->argc, argc);
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(args[i]);
        assert_int_equal(p->argv[i].len, n);
        assert_memory_equal(p->argv[i].ptr, args[i], n);
    }
}

static void expectError(const char *in, size_t n, const feedOpts *o, const char *err) {
    respParser p;
    respParserInit(&p);
    if (o && o->maxBulkLen) p.maxBulkLen = o->maxBulkLen;
    if (o && o->maxMultibulk) p.maxMultibulk = o->maxMultibulk;
    if (o) p.unauthenticated = o->unauthenticated;
    size_t consumed = 99;
    int r = parseOne(&p, in, n, &consumed);
    if (r != RESP_ERROR || strcmp(p.err, err) != 0)
        fail_msg("input %.*s: got %d '%s', want error '%s'", (int)n, in, r, p.err, err);
    assert_int_equal(consumed, 0);
    respParserFree(&p);
    checkSplits(in, n, o, 1);
}

/* ---- Writer ---- */

static void test_buf_basics(void **state) {
    (void)state;
    respBuf b = {0};
    respBufAppend(&b, "", 0);
    assert_null(b.data);
    for (int i = 0; i < 10000; i++)
        respBufAppend(&b, "abc", 3);
    assert_int_equal(b.len, 30000);
    assert_true(b.cap >= b.len);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], "abc"[i % 3]);
    respBufReserve(&b, 100000);
    assert_true(b.cap - b.len >= 100000);
    char *before = b.data;
    respBufAppend(&b, "x", 1); /* reserved room: no move */
    assert_ptr_equal(b.data, before);
    respBufFree(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    respBufFree(&b); /* twice is harmless */
}

static void test_write_simple_error(void **state) {
    (void)state;
    respBuf b = {0};
    respAddSimple(&b, "OK");
    EXPECT(&b, "+OK\r\n");
    respAddSimpleLen(&b, "PONGxx", 4);
    EXPECT(&b, "+PONG\r\n");
    respAddSimple(&b, "");
    EXPECT(&b, "+\r\n");
    respAddSimple(&b, "a\r\nb");
    EXPECT(&b, "+a  b\r\n");
    respAddError(&b, "ERR Protocol error: invalid multibulk length");
    EXPECT(&b, "-ERR Protocol error: invalid multibulk length\r\n");
    respAddError(&b, "ERR bad\r\nthing\n");
    EXPECT(&b, "-ERR bad  thing \r\n");
    respAddErrorLen(&b, "NOAUTH Authentication required.XXX", 31);
    EXPECT(&b, "-NOAUTH Authentication required.\r\n");
    respAddErrorLen(&b, "ERR a\0b", 7);
    expectBuf(&b, "-ERR a\0b\r\n", 10);
    respBufFree(&b);
}

static void test_write_int(void **state) {
    (void)state;
    respBuf b = {0};
    respAddInt(&b, 0);
    EXPECT(&b, ":0\r\n");
    respAddInt(&b, 7);
    EXPECT(&b, ":7\r\n");
    respAddInt(&b, 42);
    EXPECT(&b, ":42\r\n");
    respAddInt(&b, -1);
    EXPECT(&b, ":-1\r\n");
    respAddInt(&b, 100);
    EXPECT(&b, ":100\r\n");
    respAddInt(&b, LLONG_MAX);
    EXPECT(&b, ":9223372036854775807\r\n");
    respAddInt(&b, LLONG_MIN);
    EXPECT(&b, ":-9223372036854775808\r\n");
    respAddBulkInt(&b, -12345);
    EXPECT(&b, "$6\r\n-12345\r\n");
    respAddBulkInt(&b, 0);
    EXPECT(&b, "$1\r\n0\r\n");
    respAddBulkInt(&b, LLONG_MIN);
    EXPECT(&b, "$20\r\n-9223372036854775808\r\n");

    /* the hand-written conversion agrees with printf on edges and random values */
    rngSeed(1);
    char want[64];
    for (int i = 0; i < 200000; i++) {
        long long v;
        switch (i % 4) {
        case 0:
            v = (long long)rng();
            break;
        case 1:
            v = (long long)(rng() >> rngBelow(64));
            break;
        case 2:
            v = -(long long)(rng() >> (1 + rngBelow(63)));
            break;
        default:
            v = (long long)(i / 4) - 1000;
            break;
        }
        int n = snprintf(want, sizeof want, ":%lld\r\n", v);
        respAddInt(&b, v);
        expectBuf(&b, want, (size_t)n);
    }
    respBufFree(&b);
}

static void test_write_bulk(void **state) {
    (void)state;
    respBuf b = {0};
    respAddBulk(&b, "hello", 5);
    EXPECT(&b, "$5\r\nhello\r\n");
    respAddBulk(&b, NULL, 0);
    EXPECT(&b, "$0\r\n\r\n");
    respAddBulk(&b, "a\0\r\nb", 5);
    expectBuf(&b, "$5\r\na\0\r\nb\r\n", 11);
    respAddBulkStr(&b, "QSEND");
    EXPECT(&b, "$5\r\nQSEND\r\n");
    respAddBulkStr(&b, "");
    EXPECT(&b, "$0\r\n\r\n");

    size_t big = 100000;
    char *data = memAlloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 7);
    respAddBulk(&b, data, big);
    assert_int_equal(b.len, 9 + big + 2);
    assert_memory_equal(b.data, "$100000\r\n", 9);
    assert_memory_equal(b.data + 9, data, big);
    assert_memory_equal(b.data + 9 + big, "\r\n", 2);
    b.len = 0;
    memFree(data);
    respBufFree(&b);
}

static void test_write_aggregates_and_nulls(void **state) {
    (void)state;
    respBuf b = {0};
    respAddArrayLen(&b, 0);
    EXPECT(&b, "*0\r\n");
    respAddArrayLen(&b, 3);
    EXPECT(&b, "*3\r\n");
    respAddArrayLen(&b, -1);
    EXPECT(&b, "*-1\r\n");
    respAddMapLen(&b, 2, 3);
    EXPECT(&b, "*6\r\n");
    respAddMapLen(&b, 3, 3);
    EXPECT(&b, "%3\r\n");
    respAddMapLen(&b, 2, 0);
    EXPECT(&b, "*0\r\n");
    respAddMapLen(&b, 3, 0);
    EXPECT(&b, "%0\r\n");
    respAddSetLen(&b, 2, 4);
    EXPECT(&b, "*4\r\n");
    respAddSetLen(&b, 3, 4);
    EXPECT(&b, "~4\r\n");
    respAddNull(&b, 2);
    EXPECT(&b, "$-1\r\n");
    respAddNull(&b, 3);
    EXPECT(&b, "_\r\n");
    respAddNullArray(&b, 2);
    EXPECT(&b, "*-1\r\n");
    respAddNullArray(&b, 3);
    EXPECT(&b, "_\r\n");
    respAddBool(&b, 2, 1);
    EXPECT(&b, ":1\r\n");
    respAddBool(&b, 2, 0);
    EXPECT(&b, ":0\r\n");
    respAddBool(&b, 3, 1);
    EXPECT(&b, "#t\r\n");
    respAddBool(&b, 3, 0);
    EXPECT(&b, "#f\r\n");
    respAddBool(&b, 3, 42);
    EXPECT(&b, "#t\r\n");
    respAddVerbatim(&b, 3, "txt", "hello", 5);
    EXPECT(&b, "=9\r\ntxt:hello\r\n");
    respAddVerbatim(&b, 2, "txt", "hello", 5);
    EXPECT(&b, "$5\r\nhello\r\n");
    respAddVerbatim(&b, 3, "mkd", "", 0);
    EXPECT(&b, "=4\r\nmkd:\r\n");
    respAddVerbatim(&b, 3, "txt", "# Server\r\nredis_version:7.0.0\r\n", 31);
    EXPECT(&b, "=35\r\ntxt:# Server\r\nredis_version:7.0.0\r\n\r\n");

    /* a whole HELLO-like reply: appends accumulate */
    respAddMapLen(&b, 3, 2);
    respAddBulkStr(&b, "server");
    respAddBulkStr(&b, "redis");
    respAddBulkStr(&b, "proto");
    respAddInt(&b, 3);
    EXPECT(&b, "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n");
    respBufFree(&b);
}

static void test_write_double(void **state) {
    (void)state;
    respBuf b = {0};
    respAddDouble(&b, 3, 1.5);
    EXPECT(&b, ",1.5\r\n");
    respAddDouble(&b, 2, 1.5);
    EXPECT(&b, "$3\r\n1.5\r\n");
    respAddDouble(&b, 3, 0.1);
    EXPECT(&b, ",0.10000000000000001\r\n");
    respAddDouble(&b, 2, 0.1);
    EXPECT(&b, "$19\r\n0.10000000000000001\r\n");
    respAddDouble(&b, 3, 3);
    EXPECT(&b, ",3\r\n");
    respAddDouble(&b, 3, 0);
    EXPECT(&b, ",0\r\n");
    respAddDouble(&b, 3, -0.0);
    EXPECT(&b, ",-0\r\n");
    respAddDouble(&b, 3, -2.25);
    EXPECT(&b, ",-2.25\r\n");
    respAddDouble(&b, 3, 1e300);
    EXPECT(&b, ",1.0000000000000001e+300\r\n");
    respAddDouble(&b, 2, -1.7976931348623157e308);
    EXPECT(&b, "$24\r\n-1.7976931348623157e+308\r\n");
    respAddDouble(&b, 3, INFINITY);
    EXPECT(&b, ",inf\r\n");
    respAddDouble(&b, 3, -INFINITY);
    EXPECT(&b, ",-inf\r\n");
    respAddDouble(&b, 3, NAN);
    EXPECT(&b, ",nan\r\n");
    respAddDouble(&b, 3, -NAN);
    EXPECT(&b, ",nan\r\n");
    respAddDouble(&b, 2, INFINITY);
    EXPECT(&b, "$3\r\ninf\r\n");
    respAddDouble(&b, 2, -INFINITY);
    EXPECT(&b, "$4\r\n-inf\r\n");
    respAddDouble(&b, 2, NAN);
    EXPECT(&b, "$3\r\nnan\r\n");
    respAddDouble(&b, 3, 4.9406564584124654e-324);
    EXPECT(&b, ",4.9406564584124654e-324\r\n");
    respBufFree(&b);
}

/* ---- Parser: multibulk ---- */

static void test_multibulk_basic(void **state) {
    (void)state;
    respParser p;
    respParserInit(&p);
    assert_int_equal(p.maxBulkLen, 512LL * 1024 * 1024);
    assert_int_equal(p.maxMultibulk, INT_MAX);
    assert_int_equal(p.unauthenticated, 0);

    const char in[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
    size_t consumed;
    assert_int_equal(respParse(&p, LIT(in), &consumed), RESP_OK);
    assert_int_equal(consumed, sizeof in - 1);
    const char *want[] = {"SET", "k", "hello"};
    expectArgs(&p, 3, want, NULL);
    assert_ptr_equal(p.argv[0].ptr, in + 8); /* slices of the caller's buffer */

    /* binary-safe, empty argument, and an argument holding CRLF */
    const char bin[] = "*3\r\n$4\r\nECHO\r\n$0\r\n\r\n$6\r\na\0\r\nb\n\r\n";
    assert_int_equal(respParse(&p, LIT(bin), &consumed), RESP_OK);
    assert_int_equal(consumed, sizeof bin - 1);
    const char *wantBin[] = {"ECHO", "", "a\0\r\nb\n"};
    const size_t lens[] = {4, 0, 6};
    expectArgs(&p, 3, wantBin, lens);

    /* empty buffer: nothing to do */
    assert_int_equal(respParse(&p, "", 0, &consumed), RESP_NEED_MORE);
    assert_int_equal(consumed, 0);
    respParserFree(&p);
}

static void test_multibulk_trailing_bytes_unchecked(void **state) {
    (void)state;
    respParser p;
    respParserInit(&p);
    size_t consumed;
    /* Redis skips the two bytes after a bulk, and the byte after a line's '\r' */
    assert_int_equal(respParse(&p, LIT("*2\r\n$1\r\naXY$1\r\nbZZ"), &consumed),
                     RESP_OK);
    assert_int_equal(consumed, 18);
    const char *want[] = {"a", "b"};
    expectArgs(&p, 2, want, NULL);
    assert_int_equal(respParse(&p, LIT("*1\rX$1\rYc\r\n"), &consumed), RESP_OK);
    assert_int_equal(consumed, 11);
    const char *want2[] = {"c"};
    expectArgs(&p, 1, want2, NULL);
    /* the skipped bytes must have arrived, though */
    respParserReset(&p);
    assert_int_equal(respParse(&p, LIT("*1\r\n$1\r\na\r"), &consumed), RESP_NEED_MORE);
    respParserFree(&p);
}

static void test_multibulk_empty_counts(void **state) {
    (void)state;
    respParser p;
    respParserInit(&p);
    size_t consumed;
    assert_int_equal(respParse(&p, LIT("*0\r\n"), &consumed), RESP_EMPTY);
    assert_int_equal(consumed, 4);
    assert_int_equal(p.argc, 0);
    assert_int_equal(respParse(&p, LIT("*-1\r\n"), &consumed), RESP_EMPTY);
    assert_int_equal(consumed, 5);
    assert_int_equal(respParse(&p, LIT("*-100\r\n*1\r\n$4\r\nPING\r\n"), &consumed),
                     RESP_EMPTY);
    assert_int_equal(consumed, 7);
    assert_int_equal(respParse(&p, LIT("*-9223372036854775808\r\n"), &consumed),
                     RESP_EMPTY);
    /* the unauthenticated limit is on positive counts only */
    p.unauthenticated = 1;
    assert_int_equal(respParse(&p, LIT("*-5\r\n"), &consumed), RESP_EMPTY);
    respParserFree(&p);

    const char pipe[] = "*0\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n*0\r\n";
    checkSplits(LIT(pipe), NULL, 1);
}

static void test_multibulk_bad_count(void **state) {
    (void)state;
    const char *inv = "Protocol error: invalid multibulk length";
    expectError(LIT("*abc\r\n"), NULL, inv);
    expectError(LIT("*\r\n"), NULL, inv);
    expectError(LIT("*+1\r\n"), NULL, inv);
    expectError(LIT("*01\r\n"), NULL, inv);
    expectError(LIT("*00\r\n"), NULL, inv);
    expectError(LIT("*-0\r\n"), NULL, inv);
    expectError(LIT("*-\r\n"), NULL, inv);
    expectError(LIT("* 1\r\n"), NULL, inv);
    expectError(LIT("*1 \r\n"), NULL, inv);
    expectError(LIT("*1a\r\n"), NULL, inv);
    expectError(LIT("*1\n\r\n"), NULL, inv);
    expectError(LIT("*2147483648\r\n"), NULL, inv); /* INT_MAX + 1 */
    expectError(LIT("*9223372036854775807\r\n"), NULL, inv);
    expectError(LIT("*9223372036854775808\r\n"), NULL, inv);
    expectError(LIT("*99999999999999999999\r\n"), NULL, inv);
    expectError(LIT("*-9223372036854775809\r\n"), NULL, inv);
    expectError(LIT("*1\0\r\n"), NULL, inv);
    feedOpts o = {.maxMultibulk = 5, .copy = 1};
    expectError(LIT("*6\r\n"), &o, inv);

    respParser p;
    respParserInit(&p);
    p.maxMultibulk = 5;
    size_t consumed;
    assert_int_equal(respParse(&p, LIT("*5\r\n"), &consumed), RESP_NEED_MORE);
    respParserFree(&p);
}

static void test_multibulk_bad_bulk_length(void **state) {
    (void)state;
    const char *inv = "Protocol error: invalid bulk length";
    expectError(LIT("*1\r\n$-1\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$-0\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$abc\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$+3\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$03\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$ 3\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$3 \r\n"), NULL, inv);
    expectError(LIT("*1\r\n$536870913\r\n"), NULL, inv); /* 512 MiB + 1 */
    expectError(LIT("*1\r\n$9223372036854775807\r\n"), NULL, inv);
    expectError(LIT("*1\r\n$9223372036854775808\r\n"), NULL, inv);
    expectError(LIT("*2\r\n$1\r\na\r\n$x\r\n"), NULL, inv);
    feedOpts o = {.maxBulkLen = 10, .copy = 1};
    expectError(LIT("*1\r\n$11\r\n"), &o, inv);

    respParser p;
    respParserInit(&p);
    size_t consumed;
    /* exactly the limit is fine; the bytes just have to come */
    assert_int_equal(respParse(&p, LIT("*1\r\n$536870912\r\n"), &consumed),
                     RESP_NEED_MORE);
    assert_int_equal(respParserPending(&p, 16), 536870912 + 2);
    respParserReset(&p);
    p.maxBulkLen = 10;
    assert_int_equal(respParse(&p, LIT("*1\r\n$10\r\n0123456789\r\n"), &consumed),
                     RESP_OK);
    respParserFree(&p);
}

static void test_multibulk_expected_dollar(void **state) {
    (void)state;
    expectError(LIT("*1\r\nX\r\n"), NULL, "Protocol error: expected '$', got 'X'");
    expectError(LIT("*1\r\n:1\r\n"), NULL, "Protocol error: expected '$', got ':'");
    expectError(LIT("*2\r\n$1\r\na\r\n*1\r\n"), NULL,
                "Protocol error: expected '$', got '*'");
    /* Redis maps CR/LF in the message to spaces, and its %c of a NUL ends the text */
    expectError(LIT("*1\r\n\r\n"), NULL, "Protocol error: expected '$', got ' '");
    expectError(LIT("*1\r\n\n\r\n"), NULL, "Protocol error: expected '$', got ' '");
    expectError(LIT("*1\r\n\0\r\n"), NULL, "Protocol error: expected '$', got '");
    expectError(LIT("*1\r\n\xff\r\n"), NULL,
                "Protocol error: expected '$', got '\xff'");

    /* the check waits for a whole line, as Redis does */
    respParser p;
    respParserInit(&p);
    size_t consumed;
    assert_int_equal(respParse(&p, LIT("*1\r\nX"), &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, LIT("*1\r\nX\r"), &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, LIT("*1\r\nX\r\n"), &consumed), RESP_ERROR);
    respParserFree(&p);
}

static void test_multibulk_too_big_lines(void **state) {
    (void)state;
    size_t n = RESP_INLINE_MAX + 64;
    char *in = memAlloc(n);
    feedOpts fast = {.copy = 0};

    /* count line: no '\r' in the first RESP_INLINE_MAX + 1 bytes */
    in[0] = '*';
    memset(in + 1, '1', n - 1);
    respParser p;
    respParserInit(&p);
    size_t consumed;
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX, &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX + 1, &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: too big mbulk count string");
    respParserFree(&p);
    checkSplits(in, RESP_INLINE_MAX + 1, &fast, 0);

    /* a '\r' inside the window is a line; this one holds no valid number */
    in[RESP_INLINE_MAX] = '\r';
    in[RESP_INLINE_MAX + 1] = '\n';
    respParserInit(&p);
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX + 2, &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: invalid multibulk length");
    respParserFree(&p);

    /* a '\r' past the window: too big, however the bytes were cut */
    in[RESP_INLINE_MAX] = '1';
    in[RESP_INLINE_MAX + 1] = '\r';
    in[RESP_INLINE_MAX + 2] = '\n';
    respParserInit(&p);
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX + 3, &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: too big mbulk count string");
    respParserFree(&p);
    checkSplits(in, RESP_INLINE_MAX + 3, &fast, 0);

    /* bulk count line */
    memcpy(in, "*1\r\n$", 5);
    memset(in + 5, '1', n - 5);
    respParserInit(&p);
    assert_int_equal(respParse(&p, in, 4 + RESP_INLINE_MAX, &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, in, 4 + RESP_INLINE_MAX + 1, &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: too big bulk count string");
    respParserFree(&p);
    /* fed byte by byte this stays linear thanks to lineScanned */
    checkSplits(in, n, &fast, 0);

    /* the too-big check comes before the '$' check, as in Redis */
    memset(in + 4, 'X', n - 4);
    respParserInit(&p);
    assert_int_equal(respParse(&p, in, n, &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: too big bulk count string");
    respParserFree(&p);
    memFree(in);
}

static void test_unauthenticated_limits(void **state) {
    (void)state;
    feedOpts un = {.unauthenticated = 1, .copy = 1};
    expectError(LIT("*11\r\n"), &un,
                "Protocol error: unauthenticated multibulk length");
    expectError(LIT("*1\r\n$16385\r\n"), &un,
                "Protocol error: unauthenticated bulk length");
    /* the invalid checks come first */
    expectError(LIT("*2147483648\r\n"), &un,
                "Protocol error: invalid multibulk length");
    expectError(LIT("*1\r\n$-1\r\n"), &un, "Protocol error: invalid bulk length");
    expectError(LIT("*1\r\n$536870913\r\n"), &un,
                "Protocol error: invalid bulk length");

    respParser p;
    respParserInit(&p);
    p.unauthenticated = 1;
    size_t consumed;
    /* 10 elements and 16 KiB bulks are still allowed */
    respBuf b = {0};
    respAddArrayLen(&b, 10);
    for (int i = 0; i < 9; i++)
        respAddBulkStr(&b, "x");
    char *big = memAlloc(16384);
    memset(big, 'b', 16384);
    respAddBulk(&b, big, 16384);
    assert_int_equal(respParse(&p, b.data, b.len, &consumed), RESP_OK);
    assert_int_equal(consumed, b.len);
    assert_int_equal(p.argc, 10);
    assert_int_equal(p.argv[9].len, 16384);

    /* inline requests have no such limit (only the line length) */
    const char in[] = "a b c d e f g h i j k l m n\r\n";
    assert_int_equal(respParse(&p, LIT(in), &consumed), RESP_OK);
    assert_int_equal(p.argc, 14);

    /* the same inputs after AUTH */
    p.unauthenticated = 0;
    assert_int_equal(respParse(&p, LIT("*11\r\n"), &consumed), RESP_NEED_MORE);
    respParserReset(&p);
    assert_int_equal(respParse(&p, LIT("*1\r\n$16385\r\n"), &consumed), RESP_NEED_MORE);
    memFree(big);
    respBufFree(&b);
    respParserFree(&p);
}

static void test_huge_count_bounded_memory(void **state) {
    (void)state;
    size_t base = memUsed();
    respParser p;
    respParserInit(&p);
    size_t consumed;
    assert_int_equal(respParse(&p, LIT("*2000000000\r\n"), &consumed), RESP_NEED_MORE);
    assert_true(memUsed() < base + 64 * 1024);

    /* elements arrive: the arrays grow with them, not with the count */
    respBuf b = {0};
    respBufAppend(&b, LIT("*2000000000\r\n"));
    for (int i = 0; i < 3000; i++)
        respAddBulkStr(&b, "v");
    size_t before = memUsed();
    assert_int_equal(respParse(&p, b.data, b.len, &consumed), RESP_NEED_MORE);
    assert_true(memUsed() < before + 3000 * 4 * 32);
    respBufFree(&b);

    /* a big bulk announced is not allocated either: the data stays in the caller's
     * buffer, and the pending count tells how much to read */
    respParserReset(&p);
    before = memUsed();
    assert_int_equal(respParse(&p, LIT("*1\r\n$536870912\r\nab"), &consumed),
                     RESP_NEED_MORE);
    assert_int_equal(respParserPending(&p, 18), 536870912 - 2 + 2);
    assert_true(memUsed() < before + 64 * 1024);

    respParserFree(&p);
    assert_int_equal(memUsed(), base);
}

static void test_large_command_arrays_released(void **state) {
    (void)state;
    size_t base = memUsed();
    respParser p;
    respParserInit(&p);
    respBuf b = {0};
    respAddArrayLen(&b, 5000);
    for (int i = 0; i < 5000; i++)
        respAddBulkInt(&b, i);
    size_t consumed;
    assert_int_equal(respParse(&p, b.data, b.len, &consumed), RESP_OK);
    assert_int_equal(p.argc, 5000);
    assert_int_equal(consumed, b.len);
    for (int i = 0; i < 5000; i += 777) {
        char num[16];
        int n = snprintf(num, sizeof num, "%d", i);
        assert_int_equal(p.argv[i].len, n);
        assert_memory_equal(p.argv[i].ptr, num, n);
    }
    size_t afterBig = memUsed();
    assert_int_equal(respParse(&p, LIT("*1\r\n$4\r\nPING\r\n"), &consumed), RESP_OK);
    assert_true(memUsed() < afterBig); /* the 5000-slot arrays went back */
    respBufFree(&b);
    assert_true(memUsed() < base + 4096);
    respParserFree(&p);
    assert_int_equal(memUsed(), base);
}

static void test_pending(void **state) {
    (void)state;
    respParser p;
    respParserInit(&p);
    size_t consumed;
    const char in[] = "*2\r\n$3\r\nfoo\r\n$100\r\nab";
    assert_int_equal(respParserPending(&p, 0), 0);
    assert_int_equal(respParse(&p, in, 6, &consumed), RESP_NEED_MORE);
    assert_int_equal(respParserPending(&p, 6), 0); /* not inside a bulk yet */
    assert_int_equal(respParse(&p, in, 10, &consumed), RESP_NEED_MORE);
    assert_int_equal(respParserPending(&p, 10), 3 + 2 - 2);
    assert_int_equal(respParse(&p, LIT(in), &consumed), RESP_NEED_MORE);
    assert_int_equal(respParserPending(&p, sizeof in - 1), 100);
    respParserReset(&p);
    assert_int_equal(respParse(&p, LIT("PING"), &consumed), RESP_NEED_MORE);
    assert_int_equal(respParserPending(&p, 4), 0); /* inline: unknown */
    respParserFree(&p);
}

static void test_sticky_error_and_reset(void **state) {
    (void)state;
    respParser p;
    respParserInit(&p);
    size_t consumed;
    assert_int_equal(respParse(&p, LIT("*x\r\n"), &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: invalid multibulk length");
    assert_int_equal(respParse(&p, LIT("PING\r\n"), &consumed), RESP_ERROR);
    assert_int_equal(consumed, 0);
    assert_string_equal(p.err, "Protocol error: invalid multibulk length");
    respParserReset(&p);
    assert_int_equal(respParse(&p, LIT("PING\r\n"), &consumed), RESP_OK);
    assert_int_equal(consumed, 6);
    /* reset also drops an unfinished command */
    assert_int_equal(respParse(&p, LIT("*2\r\n$3\r\nfoo\r\n"), &consumed),
                     RESP_NEED_MORE);
    respParserReset(&p);
    assert_int_equal(respParse(&p, LIT("*1\r\n$3\r\nbar\r\n"), &consumed), RESP_OK);
    const char *want[] = {"bar"};
    expectArgs(&p, 1, want, NULL);
    /* the parser is usable again after Free */
    respParserFree(&p);
    assert_int_equal(respParse(&p, LIT("*1\r\n$3\r\nbaz\r\n"), &consumed), RESP_OK);
    respParserFree(&p);
}

/* ---- Parser: inline ---- */

typedef struct inlineCase {
    const char *line; /* without its line end */
    int argc;         /* -1: unbalanced quotes */
    const char *args[6];
    size_t lens[6]; /* 0: strlen */
} inlineCase;

static void test_inline_quoting(void **state) {
    (void)state;
    static const inlineCase cases[] = {
        {"PING", 1, {"PING"}, {0}},
        {"  set   k\tv  ", 3, {"set", "k", "v"}, {0}},
        {"SET k \"a b\"", 3, {"SET", "k", "a b"}, {0}},
        {"\"\\x41\\x4a\\x4A\\xZZ\\x4\"", 1, {"AJJxZZx4"}, {0}},
        {"\"\\n\\r\\t\\b\\a\\\\\\\"\\q\"", 1, {"\n\r\t\b\a\\\"q"}, {0}},
        {"\"\\x00\" z", 2, {"", "z"}, {1, 1}},
        {"'it\\'s'", 1, {"it's"}, {0}},
        {"'a\\nb\"c'", 1, {"a\\nb\"c"}, {0}},
        {"\"\" ''", 2, {"", ""}, {0}},
        {"a\"b c\"", 1, {"ab c"}, {0}},
        {"a'b c'd e", -1, {0}, {0}},
        {"x'y' z", 2, {"xy", "z"}, {0}},
        {"\"a\"b", -1, {0}, {0}},
        {"'a'b", -1, {0}, {0}},
        {"\"abc", -1, {0}, {0}},
        {"'abc", -1, {0}, {0}},
        {"\"abc\\\"", -1, {0}, {0}},
        {"\"abc\\", -1, {0}, {0}},
        {"x\"", -1, {0}, {0}},
        {"\"a\"\tb", 2, {"a", "b"}, {0}},
        {"\"a\"\vb", 2, {"a", "b"}, {0}},
        {"a\vb", 1, {"a\vb"}, {0}},
        {"\va\f", 1, {"a\f"}, {0}}, /* \f ends nothing */
        {"a\rb", 2, {"a", "b"}, {0}},
        {"$3", 1, {"$3"}, {0}},
        {"a\0b c", 2, {"a\0b", "c"}, {3, 1}},
        {"\"a\0b\"", 1, {"a\0b"}, {3}},
        {"ECHO \"\xff\xfe\"", 2, {"ECHO", "\xff\xfe"}, {0}},
        {"   ", 0, {0}, {0}},
        {"", 0, {0}, {0}},
    };
    /* inline lines in a[0..n): the case table uses strlen except for NUL cases */
    static const size_t lineLens[] = {[25] = 5, [26] = 5};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const inlineCase *k = &cases[c];
        size_t n = c < sizeof lineLens / sizeof lineLens[0] && lineLens[c]
                       ? lineLens[c]
                       : strlen(k->line);
        for (int ending = 0; ending < 2; ending++) {
            char in[128];
            memcpy(in, k->line, n);
            size_t len = n;
            if (ending) in[len++] = '\r';
            in[len++] = '\n';
            respParser p;
            respParserInit(&p);
            size_t consumed = 77;
            int r = respParse(&p, in, len, &consumed);
            if (k->argc < 0) {
                assert_int_equal(r, RESP_ERROR);
                assert_string_equal(p.err,
                                    "Protocol error: unbalanced quotes in request");
                assert_int_equal(consumed, 0);
            } else if (k->argc == 0) {
                assert_int_equal(r, RESP_EMPTY);
                assert_int_equal(consumed, len);
            } else {
                if (r != RESP_OK) fail_msg("case %zu: got %d (%s)", c, r, p.err);
                assert_int_equal(consumed, len);
                expectArgs(&p, k->argc, k->args, k->lens[0] ? k->lens : NULL);
            }
            respParserFree(&p);
            checkSplits(in, len, NULL, 1);
        }
    }
}

static void test_inline_line_ends(void **state) {
    (void)state;
    respParser p;
    respParserInit(&p);
    size_t consumed;
    assert_int_equal(respParse(&p, LIT("PING\n"), &consumed), RESP_OK);
    assert_int_equal(consumed, 5);
    assert_int_equal(respParse(&p, LIT("PING\r\r\n"), &consumed), RESP_OK);
    assert_int_equal(consumed, 7);
    assert_int_equal(p.argc, 1);
    assert_int_equal(respParse(&p, LIT("\r\n"), &consumed), RESP_EMPTY);
    assert_int_equal(consumed, 2);
    assert_int_equal(respParse(&p, LIT("\n"), &consumed), RESP_EMPTY);
    assert_int_equal(consumed, 1);
    assert_int_equal(respParse(&p, LIT("  \t \r\n"), &consumed), RESP_EMPTY);
    assert_int_equal(consumed, 6);
    assert_int_equal(respParse(&p, LIT("\r"), &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, LIT("PING"), &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, LIT("PING\r"), &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, LIT("PING\r\nPING\r\n"), &consumed), RESP_OK);
    assert_int_equal(consumed, 6);
    respParserFree(&p);

    /* redis-cli --pipe sends a bare CRLF before its ECHO: ignored, no reply */
    const char pipe[] = "\r\n*2\r\n$4\r\nECHO\r\n$20\r\n01234567890123456789\r\n";
    checkSplits(LIT(pipe), NULL, 1);
}

static void test_inline_too_big(void **state) {
    (void)state;
    size_t n = RESP_INLINE_MAX + 2;
    char *in = memAlloc(n);
    memset(in, 'a', n);
    respParser p;
    respParserInit(&p);
    size_t consumed;
    feedOpts fast = {.copy = 0};

    /* a line of exactly RESP_INLINE_MAX bytes plus '\n' passes */
    in[RESP_INLINE_MAX] = '\n';
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX, &consumed), RESP_NEED_MORE);
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX + 1, &consumed), RESP_OK);
    assert_int_equal(consumed, RESP_INLINE_MAX + 1);
    assert_int_equal(p.argc, 1);
    assert_int_equal(p.argv[0].len, RESP_INLINE_MAX);
    checkSplits(in, RESP_INLINE_MAX + 1, &fast, 0);

    /* one more byte and no '\n' in the window: too big, however it was cut */
    in[RESP_INLINE_MAX] = 'a';
    in[RESP_INLINE_MAX + 1] = '\n';
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX + 1, &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: too big inline request");
    respParserReset(&p);
    assert_int_equal(respParse(&p, in, n, &consumed), RESP_ERROR);
    assert_string_equal(p.err, "Protocol error: too big inline request");
    checkSplits(in, n, &fast, 0);

    /* many small arguments in one long line */
    for (size_t i = 0; i < RESP_INLINE_MAX; i++)
        in[i] = (i % 2) ? ' ' : 'x';
    in[RESP_INLINE_MAX] = '\n';
    respParserReset(&p);
    assert_int_equal(respParse(&p, in, RESP_INLINE_MAX + 1, &consumed), RESP_OK);
    assert_int_equal(p.argc, RESP_INLINE_MAX / 2);
    respParserFree(&p);
    memFree(in);
}

/* ---- Parser: pipelines and splits ---- */

static const struct {
    const char *s;
    size_t n;
    int argc;
} samples[] = {
    {LIT("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"), 3},
    {LIT("*1\r\n$4\r\nPING\r\n"), 1},
    {LIT("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), 2},
    {LIT("*2\r\n$4\r\nECHO\r\n$20\r\n\0\r\n\xff\r\n\r\n\n\n\r\r\0\0xyz*$1\r\n"), 2},
    {LIT("*12\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
         "$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n$1\r\nk\r\n$"
         "10\r\n0123456789\r\n"),
     12},
    {LIT("PING\r\n"), 1},
    {LIT("SET k \"a b\\x41\\n\" 'c\\'d'\r\n"), 4},
    {LIT("QSEND q hello PRIORITY 5\n"), 5},
};

static void test_every_split_of_samples(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        const char *in = samples[s].s;
        size_t n = samples[s].n;
        /* a prefix is never enough; then the whole command is */
        for (size_t k = 0; k < n; k++) {
            respParser p;
            respParserInit(&p);
            char *pre = memAlloc(k + 1);
            memcpy(pre, in, k);
            size_t consumed;
            assert_int_equal(respParse(&p, pre, k, &consumed), RESP_NEED_MORE);
            memFree(pre); /* the parser must not keep pointers into it */
            char *whole = memAlloc(n);
            memcpy(whole, in, n);
            assert_int_equal(respParse(&p, whole, n, &consumed), RESP_OK);
            assert_int_equal(consumed, n);
            assert_int_equal(p.argc, samples[s].argc);
            memFree(whole);
            respParserFree(&p);
        }
        /* byte by byte, each call on a fresh copy */
        respParser p;
        respParserInit(&p);
        size_t consumed = 0;
        for (size_t k = 1; k <= n; k++) {
            char *pre = memAlloc(k);
            memcpy(pre, in, k);
            int r = respParse(&p, pre, k, &consumed);
            memFree(pre);
            assert_int_equal(r, k == n ? RESP_OK : RESP_NEED_MORE);
        }
        assert_int_equal(consumed, n);
        respParserFree(&p);
        checkSplits(in, n, NULL, 1);
    }
}

static void test_pipeline(void **state) {
    (void)state;
    /* all samples back to back, and with garbage at the end */
    respBuf b = {0};
    for (int rep = 0; rep < 3; rep++)
        for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
            respBufAppend(&b, samples[s].s, samples[s].n);
            respBufAppend(&b, LIT("\r\n*0\r\n"));
        }
    checkSplits(b.data, b.len, NULL, 1);
    respBufAppend(&b, LIT("*1\r\n$2\r\nab\r\n*1\r\n$-5\r\n*1\r\n$1\r\nz\r\n"));
    checkSplits(b.data, b.len, NULL, 1);

    respBuf t = {0};
    feed(b.data, b.len, FEED_WHOLE, 0, NULL, &t);
    assert_true(t.len > 5);
    assert_memory_equal(t.data + t.len - 4, "DEAD", 4);
    respBufFree(&t);
    respBufFree(&b);
}

/* Encodes argv as a multibulk or as an inline line with "\xHH" quoting. */
static void encodeCommand(respBuf *b, int argc, char args[][40], const size_t *lens,
                          int asInline) {
    if (!asInline) {
        respAddArrayLen(b, argc);
        for (int i = 0; i < argc; i++)
            respAddBulk(b, args[i], lens[i]);
        return;
    }
    for (int i = 0; i < argc; i++) {
        respBufAppend(b, i ? " \"" : "\"", i ? 2 : 1);
        for (size_t j = 0; j < lens[i]; j++) {
            unsigned char c = (unsigned char)args[i][j];
            char esc[8];
            if (c == '"' || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)c;
                respBufAppend(b, esc, 2);
            } else if (c >= 0x20 && c < 0x7f) {
                respBufAppend(b, &c, 1);
            } else {
                snprintf(esc, sizeof esc, "\\x%02x", c);
                respBufAppend(b, esc, 4);
            }
        }
        respBufAppend(b, "\"", 1);
    }
    int crlf = (int)rngBelow(2);
    respBufAppend(b, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
}

static void test_random_roundtrip(void **state) {
    (void)state;
    rngSeed(42);
    for (int round = 0; round < 300; round++) {
        respBuf in = {0}, want = {0};
        int ncmd = 1 + (int)rngBelow(12);
        static char args[8][40];
        size_t lens[8];
        for (int c = 0; c < ncmd; c++) {
            int argc = 1 + (int)rngBelow(8);
            for (int i = 0; i < argc; i++) {
                lens[i] = rngBelow(40);
                for (size_t j = 0; j < lens[i]; j++)
                    args[i][j] = (char)rng();
            }
            encodeCommand(&in, argc, args, lens, (int)rngBelow(2));
        }
        /* decode the whole stream and compare with a second encoding */
        respParser p;
        respParserInit(&p);
        size_t off = 0, consumed;
        int seen = 0;
        while (off < in.len) {
            int r = respParse(&p, in.data + off, in.len - off, &consumed);
            assert_int_equal(r, RESP_OK);
            respAddArrayLen(&want, p.argc);
            for (int i = 0; i < p.argc; i++)
                respAddBulk(&want, p.argv[i].ptr, p.argv[i].len);
            off += consumed;
            seen++;
        }
        assert_int_equal(seen, ncmd);
        respParserFree(&p);
        /* re-parsing the multibulk re-encoding gives the same bytes again */
        respBuf again = {0};
        respParserInit(&p);
        off = 0;
        while (off < want.len) {
            assert_int_equal(respParse(&p, want.data + off, want.len - off, &consumed),
                             RESP_OK);
            respAddArrayLen(&again, p.argc);
            for (int i = 0; i < p.argc; i++)
                respAddBulk(&again, p.argv[i].ptr, p.argv[i].len);
            off += consumed;
        }
        assert_int_equal(again.len, want.len);
        assert_memory_equal(again.data, want.data, want.len);
        respParserFree(&p);
        checkSplits(in.data, in.len, NULL, round < 8);
        respBufFree(&again);
        respBufFree(&in);
        respBufFree(&want);
    }
}

static void test_random_garbage(void **state) {
    (void)state;
    static const char alphabet[] = "**$$\r\r\n\n\n0123456789--+ \"'\\xaA\t\v";
    rngSeed(7);
    char buf[256];
    for (int round = 0; round < 6000; round++) {
        size_t n = rngBelow(sizeof buf);
        int style = (int)rngBelow(3);
        for (size_t i = 0; i < n; i++) {
            if (style == 0 || rngBelow(8) == 0)
                buf[i] = (char)rng();
            else
                buf[i] = alphabet[rngBelow(sizeof alphabet - 1)];
        }
        if (style == 2 && n > 0) buf[0] = '*';
        feedOpts o = {.copy = 1,
                      .maxBulkLen = rngBelow(2) ? 20 : 0,
                      .maxMultibulk = rngBelow(2) ? 6 : 0,
                      .unauthenticated = (int)rngBelow(2)};
        checkSplits(buf, n, &o, 0);
    }
}

static void test_mutated_pipelines(void **state) {
    (void)state;
    rngSeed(99);
    respBuf base = {0};
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        respBufAppend(&base, samples[s].s, samples[s].n);
        if (s % 3 == 0) respBufAppend(&base, LIT("\r\n*0\r\n"));
    }
    char *buf = memAlloc(base.len + 16);
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, base.data, base.len);
        size_t n = base.len;
        int edits = 1 + (int)rngBelow(4);
        for (int e = 0; e < edits; e++) {
            size_t at = rngBelow(n);
            switch (rngBelow(4)) {
            case 0:
                buf[at] = (char)rng();
                break;
            case 1:
                buf[at] = "*$\r\n-0 9"[rngBelow(8)];
                break;
            case 2: /* delete a byte */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            default: /* insert a byte */
                if (n < base.len + 16) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = "*$\r\n1x\" "[rngBelow(8)];
                    n++;
                }
            }
        }
        feedOpts o = {.copy = 1, .unauthenticated = (int)rngBelow(2)};
        checkSplits(buf, n, &o, round < 50);
    }
    memFree(buf);
    respBufFree(&base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_basics),
        cmocka_unit_test(test_write_simple_error),
        cmocka_unit_test(test_write_int),
        cmocka_unit_test(test_write_bulk),
        cmocka_unit_test(test_write_aggregates_and_nulls),
        cmocka_unit_test(test_write_double),
        cmocka_unit_test(test_multibulk_basic),
        cmocka_unit_test(test_multibulk_trailing_bytes_unchecked),
        cmocka_unit_test(test_multibulk_empty_counts),
        cmocka_unit_test(test_multibulk_bad_count),
        cmocka_unit_test(test_multibulk_bad_bulk_length),
        cmocka_unit_test(test_multibulk_expected_dollar),
        cmocka_unit_test(test_multibulk_too_big_lines),
        cmocka_unit_test(test_unauthenticated_limits),
        cmocka_unit_test(test_huge_count_bounded_memory),
        cmocka_unit_test(test_large_command_arrays_released),
        cmocka_unit_test(test_pending),
        cmocka_unit_test(test_sticky_error_and_reset),
        cmocka_unit_test(test_inline_quoting),
        cmocka_unit_test(test_inline_line_ends),
        cmocka_unit_test(test_inline_too_big),
        cmocka_unit_test(test_every_split_of_samples),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_mutated_pipelines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
