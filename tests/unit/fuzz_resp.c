/* fuzz_resp.c: libFuzzer target for the RESP request parser (not built by default).
 *
 * Build and run (Debian's clang ships libFuzzer):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -I src src/resp.c src/mem.c tests/unit/fuzz_resp.c -o /tmp/fuzz_resp
 *   mkdir -p /tmp/fuzz_corpus && /tmp/fuzz_resp -max_len=4096 /tmp/fuzz_corpus
 *
 * The first input byte picks the limits (tiny maxBulkLen and maxMultibulk, the
 * unauthenticated flag) and the next ones the read sizes, so the fuzzer explores
 * cut points as well as contents. Beyond "no crash, no leak, no overflow" it
 * checks the parser's central promise: the results are the same whether the
 * stream arrives in one read or in the fuzzer-chosen pieces, each piece handed in
 * a freshly allocated buffer so a pointer kept across calls is caught by ASan.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses the stream, delivered in chunks of the given sizes (cycled), into a
 * transcript of results. */
static void run(const uint8_t *in, size_t n, const uint8_t *cuts, size_t ncuts,
                uint8_t cfg, respBuf *t) {
    respParser p;
    respParserInit(&p);
    if (cfg & 1) p.maxBulkLen = 16;
    if (cfg & 2) p.maxMultibulk = 4;
    p.unauthenticated = (cfg & 4) != 0;
    respBuf q = {0};
    size_t off = 0, c = 0;
    int alive = 1;
    while (alive && off < n) {
        size_t chunk = ncuts ? 1 + cuts[c++ % ncuts] % 64 : n;
        if (chunk > n - off) chunk = n - off;
        respBufAppend(&q, in + off, chunk);
        off += chunk;
        for (;;) {
            char *buf = memAlloc(q.len ? q.len : 1);
            if (q.len) memcpy(buf, q.data, q.len);
            size_t consumed = 0;
            int r = respParse(&p, buf, q.len, &consumed);
            if (r == RESP_OK) {
                if (consumed == 0 || consumed > q.len || p.argc <= 0) abort();
                respBufAppend(t, "K", 1);
                for (int i = 0; i < p.argc; i++) {
                    respAddBulk(t, p.argv[i].ptr, p.argv[i].len);
                }
            } else if (r == RESP_EMPTY) {
                if (consumed == 0 || consumed > q.len) abort();
                respBufAppend(t, "E", 1);
            } else if (r == RESP_ERROR) {
                respBufAppend(t, "X", 1);
                respBufAppend(t, p.err, strlen(p.err));
                alive = 0;
            } else if (r != RESP_NEED_MORE || consumed != 0) {
                abort();
            }
            memFree(buf);
            if (r != RESP_OK && r != RESP_EMPTY) break;
            memmove(q.data, q.data + consumed, q.len - consumed);
            q.len -= consumed;
        }
    }
    if (alive) respAddInt(t, (long long)q.len); /* bytes left waiting for more */
    respBufFree(&q);
    respParserFree(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t cfg = data[0];
    size_t ncuts = data[1] % 8;
    if (size < 2 + ncuts) return 0;
    const uint8_t *cuts = data + 2;
    const uint8_t *in = data + 2 + ncuts;
    size_t n = size - 2 - ncuts;

    respBuf whole = {0}, split = {0};
    run(in, n, NULL, 0, cfg, &whole);
    run(in, n, cuts, ncuts, cfg, &split);
    if (whole.len != split.len ||
        (whole.len && memcmp(whole.data, split.data, whole.len)))
        abort();
    respBufFree(&whole);
    respBufFree(&split);
    return 0;
}
