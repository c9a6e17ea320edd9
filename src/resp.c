/* resp.c: the Redis protocol codec: requests in (multibulk and inline), replies out.
 *
 * The parser follows Redis 7.0 (networking.c processMultibulkBuffer and
 * processInlineBuffer) byte for byte in what it accepts and in its error texts,
 * because clients and tools (redis-cli --pipe, redis-benchmark, telnet users) are
 * written against that behaviour:
 *
 *   *<count>\r\n   count <= 0 is consumed and ignored; > INT_MAX is an error
 *   $<len>\r\n     then len bytes, then two bytes that are skipped unchecked
 *   anything else  one inline line up to '\n' (a '\r' before it is dropped), split
 *                  with sdssplitargs quoting ("..." with escapes, '...')
 *
 * Two deliberate differences, both about inputs no client sends:
 *  - Redis finds line ends with strchr, so a NUL byte hides the rest of its buffer;
 *    here lines are searched with memchr and a NUL is an ordinary byte.
 *  - Redis reports "too big" only when a whole read lacks the line end, so a 70 KB
 *    line may or may not pass depending on how TCP cut it. Here a line end must lie
 *    within the first RESP_INLINE_MAX + 1 bytes of its line, which is the answer
 *    Redis gives when the bytes come in reads of at most that size. The result never
 *    depends on how the bytes were split, which the tests check at every offset.
 *
 * Incremental state: the parser keeps offsets from the command start (never
 * pointers, since the caller's buffer may move between calls) and how far the
 * current line was already searched, so bytes are looked at once however the
 * command is split. The argument arrays are reused between commands; they are
 * sized from the element count only up to ARGV_PREALLOC_MAX, so `*2000000000`
 * costs 32 KB, not 64 GB, until the elements really arrive.
 *
 * The writer reserves the worst case once per reply element and writes in place;
 * integers are converted by hand, two digits per step, since lengths and counts
 * head almost every reply.
 */
#include "resp.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define ARGV_PREALLOC_MAX 1024  /* argv slots committed on the count alone */
#define ARGV_KEEP_MAX 1024      /* larger arrays are released between commands */
#define UNAUTH_MULTIBULK_MAX 10 /* Redis's limits before AUTH */
#define UNAUTH_BULK_MAX 16384
#define DEFAULT_MAX_BULK (512LL * 1024 * 1024)
#define LL_STR_MAX 21 /* string2ll refuses strings this long: 20 chars + sign fit */

enum { KIND_NONE = 0, KIND_MULTIBULK = 1, KIND_INLINE = 2, KIND_FAILED = 3 };

/* ---- Growable buffer ---- */

void respBufReserve(respBuf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t need = b->len + extra;
    if (need < b->len) need = (size_t)-1; /* overflow: memRealloc reports the OOM */
    /* Doubling keeps appends amortised O(1); past 1 MiB grow by half, so a large
     * reply does not reserve twice its size. */
    size_t cap = b->cap < (1u << 20) ? b->cap * 2 : b->cap + b->cap / 2;
    if (cap < 64) cap = 64;
    if (cap < need) cap = need;
    b->data = memRealloc(b->data, cap);
    b->cap = cap;
}

void respBufAppend(respBuf *b, const void *p, size_t n) {
    if (n == 0) return;
    respBufReserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void respBufFree(respBuf *b) {
    memFree(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- Numbers ---- */

static const char digitPairs[201] = "00010203040506070809"
                                    "10111213141516171819"
                                    "20212223242526272829"
                                    "30313233343536373839"
                                    "40414243444546474849"
                                    "50515253545556575859"
                                    "60616263646566676869"
                                    "70717273747576777879"
                                    "80818283848586878889"
                                    "90919293949596979899";

/* The number of decimal digits of v, 1 - 20. */
static size_t ullDigits(unsigned long long v) {
    size_t n = 1;
    for (;;) {
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000;
        n += 4;
    }
}

/* Writes v in decimal so that its last digit is at end[-1]: the caller knows the
 * length (ullDigits), so nothing needs moving afterwards. */
static void ullToStrBack(char *end, unsigned long long v) {
    char *p = end;
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        p -= 2;
        p[0] = digitPairs[i];
        p[1] = digitPairs[i + 1];
    }
    if (v >= 10) {
        unsigned i = (unsigned)v * 2;
        p -= 2;
        p[0] = digitPairs[i];
        p[1] = digitPairs[i + 1];
    } else {
        *--p = (char)('0' + v);
    }
}

/* Writes v in decimal at dst (no NUL); returns the length, at most 20. */
static size_t ullToStr(char *dst, unsigned long long v) {
    size_t n = ullDigits(v);
    ullToStrBack(dst + n, v);
    return n;
}

/* Writes v in decimal at dst (no NUL); returns the length, at most 20. */
static size_t llToStr(char *dst, long long v) {
    if (v >= 0) return ullToStr(dst, (unsigned long long)v);
    *dst = '-';
    /* Negate in unsigned arithmetic: -LLONG_MIN does not fit a long long. */
    return 1 + ullToStr(dst + 1, 0ULL - (unsigned long long)v);
}

/* Redis's string2ll: an optional '-', then "0" or a digit 1-9 followed by digits,
 * nothing else (no '+', no spaces, no leading zeros, no "-0"), within long long. */
static int strToLL(const char *s, size_t n, long long *out) {
    if (n == 0 || n >= LL_STR_MAX) return 0;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    size_t i = 0;
    int negative = 0;
    if (s[0] == '-') {
        negative = 1;
        if (++i == n) return 0;
    }
    if (s[i] < '1' || s[i] > '9') return 0;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *out = (long long)v;
    }
    return 1;
}

/* ---- Request parser: state ---- */

/* Forgets the unfinished command but keeps the arrays for the next one. */
static void clearState(respParser *p) {
    p->kind = KIND_NONE;
    p->pos = 0;
    p->remaining = 0;
    p->bulkLen = -1;
    p->lineScanned = 0;
    p->nread = 0;
}

static void freeArgs(respParser *p) {
    memFree(p->argv);
    memFree(p->offsets);
    memFree(p->lengths);
    p->argv = NULL;
    p->offsets = p->lengths = NULL;
    p->argvCap = 0;
}

void respParserInit(respParser *p) {
    memset(p, 0, sizeof *p);
    p->maxBulkLen = DEFAULT_MAX_BULK;
    p->maxMultibulk = INT_MAX;
    clearState(p);
}

void respParserFree(respParser *p) {
    freeArgs(p);
    memFree(p->scratch);
    p->scratch = NULL;
    p->scratchCap = 0;
    p->argc = 0;
    p->err[0] = '\0';
    clearState(p);
}

void respParserReset(respParser *p) {
    p->argc = 0;
    p->err[0] = '\0';
    clearState(p);
}

static void growArgs(respParser *p, size_t cap) {
    if (cap <= p->argvCap) return;
    p->argv = memRealloc(p->argv, cap * sizeof *p->argv);
    p->offsets = memRealloc(p->offsets, cap * sizeof *p->offsets);
    p->lengths = memRealloc(p->lengths, cap * sizeof *p->lengths);
    p->argvCap = cap;
}

/* Makes room for one more argument; `bound` is the most the command can have, so
 * doubling never overshoots a count the client announced. */
static void pushArg(respParser *p, size_t off, size_t len, size_t bound) {
    if ((size_t)p->nread == p->argvCap) {
        size_t cap = p->argvCap ? p->argvCap * 2 : 16;
        if (cap > bound) cap = bound;
        if (cap <= p->argvCap) cap = p->argvCap + 1; /* a bound that was too tight */
        growArgs(p, cap);
    }
    p->offsets[p->nread] = off;
    p->lengths[p->nread] = len;
    p->nread++;
}

/* Publishes the finished command: argv slices of `base` (the caller's buffer or
 * scratch), *consumed set, state cleared for the next command. */
static int finish(respParser *p, const char *base, size_t consumed, size_t *out) {
    for (int i = 0; i < p->nread; i++) {
        p->argv[i].ptr = base + p->offsets[i];
        p->argv[i].len = p->lengths[i];
    }
    p->argc = p->nread;
    *out = consumed;
    int code = p->nread ? RESP_OK : RESP_EMPTY;
    clearState(p);
    return code;
}

static int fail(respParser *p, const char *msg) {
    snprintf(p->err, sizeof p->err, "%s", msg);
    p->kind = KIND_FAILED;
    return RESP_ERROR;
}

enum { LINE_MORE = 0, LINE_FOUND = 1, LINE_TOO_BIG = -1 };

/* Finds the '\r' ending the line at buf[start], with the byte after it present
 * (Redis skips that byte without looking at it). On LINE_FOUND *eol is the index of
 * the '\r'. The search resumes at p->lineScanned and is limited to
 * RESP_INLINE_MAX + 1 bytes of line, see the file comment. */
static int findLineEnd(respParser *p, const char *buf, size_t len, size_t start,
                       size_t *eol) {
    size_t avail = len - start;
    size_t window = avail < RESP_INLINE_MAX + 1 ? avail : RESP_INLINE_MAX + 1;
    if (p->lineScanned > window) p->lineScanned = 0; /* caller shrank buf: rescan */
    const char *cr =
        memchr(buf + start + p->lineScanned, '\r', window - p->lineScanned);
    if (cr == NULL) {
        if (avail > RESP_INLINE_MAX) return LINE_TOO_BIG;
        p->lineScanned = window;
        return LINE_MORE;
    }
    size_t at = (size_t)(cr - buf);
    if (at + 1 >= len) {
        p->lineScanned = at - start; /* find this '\r' again once its pair is here */
        return LINE_MORE;
    }
    *eol = at;
    p->lineScanned = 0;
    return LINE_FOUND;
}

/* ---- Request parser: multibulk ---- */

static int parseMultibulk(respParser *p, const char *buf, size_t len,
                          size_t *consumed) {
    size_t eol;
    long long n;

    if (p->remaining == 0) { /* the count line; a count <= 0 never stays pending */
        int r = findLineEnd(p, buf, len, 0, &eol);
        if (r == LINE_TOO_BIG)
            return fail(p, "Protocol error: too big mbulk count string");
        if (r == LINE_MORE) return RESP_NEED_MORE;
        if (!strToLL(buf + 1, eol - 1, &n) || n > INT_MAX || n > p->maxMultibulk)
            return fail(p, "Protocol error: invalid multibulk length");
        if (n > UNAUTH_MULTIBULK_MAX && p->unauthenticated)
            return fail(p, "Protocol error: unauthenticated multibulk length");
        p->pos = eol + 2;
        if (n <= 0) return finish(p, buf, p->pos, consumed); /* RESP_EMPTY */
        p->remaining = n;
        p->nread = 0;
        growArgs(p, n < ARGV_PREALLOC_MAX ? (size_t)n : ARGV_PREALLOC_MAX);
    }

    while (p->remaining > 0) {
        if (p->bulkLen < 0) {
            int r = findLineEnd(p, buf, len, p->pos, &eol);
            if (r == LINE_TOO_BIG)
                return fail(p, "Protocol error: too big bulk count string");
            if (r == LINE_MORE) return RESP_NEED_MORE;
            unsigned char c = (unsigned char)buf[p->pos];
            if (c != '$') {
                /* Redis formats this with %c and then maps CR/LF to spaces; a NUL
                 * ends its C string right there. */
                char msg[64];
                if (c == '\r' || c == '\n') c = ' ';
                snprintf(msg, sizeof msg, "Protocol error: expected '$', got '%c'", c);
                return fail(p, msg);
            }
            if (!strToLL(buf + p->pos + 1, eol - p->pos - 1, &n) || n < 0 ||
                n > p->maxBulkLen)
                return fail(p, "Protocol error: invalid bulk length");
            if (n > UNAUTH_BULK_MAX && p->unauthenticated)
                return fail(p, "Protocol error: unauthenticated bulk length");
            p->pos = eol + 2;
            p->bulkLen = n;
        }
        if (len - p->pos < (unsigned long long)p->bulkLen + 2) return RESP_NEED_MORE;
        pushArg(p, p->pos, (size_t)p->bulkLen, (size_t)p->nread + (size_t)p->remaining);
        p->pos += (size_t)p->bulkLen + 2; /* the CRLF is skipped unchecked, as Redis */
        p->bulkLen = -1;
        p->remaining--;
    }
    return finish(p, buf, p->pos, consumed);
}

/* ---- Request parser: inline ---- */

/* isspace() in the C locale; Redis skips these between arguments. */
static int isBlank(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int hexValue(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Splits line[0..n) by sdssplitargs's rules into p->scratch and the argument
 * arrays. Quirks kept on purpose: only space, tab, CR and LF end an unquoted
 * argument (a \v or \f inside one is kept), a quote may open mid-argument
 * (a"b c" is `ab c`), and a closing quote must be followed by a blank or the end.
 * Returns 0 on unbalanced quotes. */
static int splitInline(respParser *p, const char *line, size_t n) {
    if (n > p->scratchCap) {
        /* Decoding only shrinks, so the line length bounds the whole output. */
        memFree(p->scratch);
        p->scratch = memAlloc(n);
        p->scratchCap = n;
    }
    char *out = p->scratch;
    size_t o = 0, i = 0;
    for (;;) {
        while (i < n && isBlank((unsigned char)line[i]))
            i++;
        if (i == n) return 1;
        size_t start = o;
        int inDouble = 0, inSingle = 0;
        for (;;) {
            if (inDouble) {
                if (i == n) return 0;
                if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' &&
                    hexValue((unsigned char)line[i + 2]) >= 0 &&
                    hexValue((unsigned char)line[i + 3]) >= 0) {
                    out[o++] = (char)(hexValue((unsigned char)line[i + 2]) * 16 +
                                      hexValue((unsigned char)line[i + 3]));
                    i += 4;
                } else if (line[i] == '\\' && i + 1 < n) {
                    char c = line[i + 1];
                    switch (c) {
                    case 'n':
                        c = '\n';
                        break;
                    case 'r':
                        c = '\r';
                        break;
                    case 't':
                        c = '\t';
                        break;
                    case 'b':
                        c = '\b';
                        break;
                    case 'a':
                        c = '\a';
                        break;
                    default:
                        break;
                    }
                    out[o++] = c;
                    i += 2;
                } else if (line[i] == '"') {
                    if (i + 1 < n && !isBlank((unsigned char)line[i + 1])) return 0;
                    i++;
                    break;
                } else {
                    out[o++] = line[i++];
                }
            } else if (inSingle) {
                if (i == n) return 0;
                if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
                    out[o++] = '\'';
                    i += 2;
                } else if (line[i] == '\'') {
                    if (i + 1 < n && !isBlank((unsigned char)line[i + 1])) return 0;
                    i++;
                    break;
                } else {
                    out[o++] = line[i++];
                }
            } else {
                if (i == n) break;
                char c = line[i++];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') break;
                if (c == '"') {
                    inDouble = 1;
                } else if (c == '\'') {
                    inSingle = 1;
                } else {
                    out[o++] = c;
                }
            }
        }
        /* At most one argument per two line bytes, plus one. */
        pushArg(p, start, o - start, n / 2 + 1);
    }
}

static int parseInline(respParser *p, const char *buf, size_t len, size_t *consumed) {
    /* Same window rule as findLineEnd, but Redis ends inline lines at '\n'. */
    size_t window = len < RESP_INLINE_MAX + 1 ? len : RESP_INLINE_MAX + 1;
    if (p->lineScanned > window) p->lineScanned = 0;
    const char *nl = memchr(buf + p->lineScanned, '\n', window - p->lineScanned);
    if (nl == NULL) {
        if (len > RESP_INLINE_MAX)
            return fail(p, "Protocol error: too big inline request");
        p->lineScanned = window;
        return RESP_NEED_MORE;
    }
    size_t end = (size_t)(nl - buf);
    size_t lineLen = end > 0 && buf[end - 1] == '\r' ? end - 1 : end;
    p->nread = 0;
    if (!splitInline(p, buf, lineLen))
        return fail(p, "Protocol error: unbalanced quotes in request");
    return finish(p, p->scratch, end + 1, consumed);
}

/* ---- Request parser: entry points ---- */

int respParse(respParser *p, const char *buf, size_t len, size_t *consumed) {
    *consumed = 0;
    p->argc = 0;
    if (p->kind == KIND_FAILED) return RESP_ERROR; /* sticky until respParserReset */
    if (p->kind == KIND_NONE) {
        if (len == 0) return RESP_NEED_MORE;
        /* The previous argv is dead now, so an array sized for a huge command can
         * go back to the allocator instead of staying with the connection. */
        if (p->argvCap > ARGV_KEEP_MAX) freeArgs(p);
        p->kind = buf[0] == '*' ? KIND_MULTIBULK : KIND_INLINE;
    }
    if (len < p->pos) return RESP_NEED_MORE; /* not the bytes we saw: caller bug */
    if (p->kind == KIND_MULTIBULK) return parseMultibulk(p, buf, len, consumed);
    return parseInline(p, buf, len, consumed);
}

size_t respParserPending(const respParser *p, size_t len) {
    if (p->kind != KIND_MULTIBULK || p->remaining == 0 || p->bulkLen < 0) return 0;
    size_t need = p->pos + (size_t)p->bulkLen + 2;
    return need > len ? need - len : 0;
}

/* ---- Reply writer ---- */

/* Appends "<type><n>\r\n", the head of most replies. */
static void addHeader(respBuf *b, char type, long long n) {
    respBufReserve(b, 1 + 20 + 2);
    char *w = b->data + b->len;
    *w++ = type;
    w += llToStr(w, n);
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}

static void addRaw(respBuf *b, const char *s, size_t n) {
    respBufReserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* "<type>s\r\n" with CR/LF in s turned into spaces, so that no text, whatever it
 * echoes, can end the line early and inject a reply. */
static void addLine(respBuf *b, char type, const char *s, size_t n) {
    respBufReserve(b, n + 3);
    char *w = b->data + b->len;
    *w++ = type;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        *w++ = (c == '\r' || c == '\n') ? ' ' : c;
    }
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}

void respAddSimple(respBuf *b, const char *s) {
    addLine(b, '+', s, strlen(s));
}

void respAddSimpleLen(respBuf *b, const char *s, size_t n) {
    addLine(b, '+', s, n);
}

void respAddError(respBuf *b, const char *s) {
    addLine(b, '-', s, strlen(s));
}

void respAddErrorLen(respBuf *b, const char *s, size_t n) {
    addLine(b, '-', s, n);
}

void respAddInt(respBuf *b, long long v) {
    addHeader(b, ':', v);
}

char *respPutBulk(char *w, const void *p, size_t n) {
    *w++ = '$';
    w += ullToStr(w, n);
    *w++ = '\r';
    *w++ = '\n';
    if (n) memcpy(w, p, n);
    w += n;
    *w++ = '\r';
    *w++ = '\n';
    return w;
}

/* The digits are written in place, backwards from their known end, rather than
 * into a scratch buffer and copied: numbers are most of the fields of a record. */
char *respPutBulkUInt(char *w, unsigned long long v) {
    size_t n = ullDigits(v);
    *w++ = '$';
    if (n >= 10) *w++ = (char)('0' + n / 10);
    *w++ = (char)('0' + n % 10);
    *w++ = '\r';
    *w++ = '\n';
    ullToStrBack(w + n, v);
    w += n;
    *w++ = '\r';
    *w++ = '\n';
    return w;
}

char *respPutBulkInt(char *w, long long v) {
    if (v >= 0) return respPutBulkUInt(w, (unsigned long long)v);
    /* Negate in unsigned arithmetic: -LLONG_MIN does not fit a long long. */
    unsigned long long u = 0ULL - (unsigned long long)v;
    size_t n = ullDigits(u) + 1;
    *w++ = '$';
    if (n >= 10) *w++ = (char)('0' + n / 10);
    *w++ = (char)('0' + n % 10);
    *w++ = '\r';
    *w++ = '\n';
    *w = '-';
    ullToStrBack(w + n, u);
    w += n;
    *w++ = '\r';
    *w++ = '\n';
    return w;
}

void respAddBulk(respBuf *b, const void *p, size_t n) {
    respBufReserve(b, RESP_BULK_HEAD_MAX + n + 2);
    b->len = (size_t)(respPutBulk(b->data + b->len, p, n) - b->data);
}

void respAddBulkStr(respBuf *b, const char *s) {
    respAddBulk(b, s, strlen(s));
}

void respAddBulkInt(respBuf *b, long long v) {
    respBufReserve(b, RESP_BULK_INT_MAX);
    b->len = (size_t)(respPutBulkInt(b->data + b->len, v) - b->data);
}

void respAddBulkUInt(respBuf *b, unsigned long long v) {
    respBufReserve(b, RESP_BULK_INT_MAX);
    b->len = (size_t)(respPutBulkUInt(b->data + b->len, v) - b->data);
}

void respAddNull(respBuf *b, int proto) {
    if (proto >= 3)
        addRaw(b, "_\r\n", 3);
    else
        addRaw(b, "$-1\r\n", 5);
}

void respAddNullArray(respBuf *b, int proto) {
    if (proto >= 3)
        addRaw(b, "_\r\n", 3);
    else
        addRaw(b, "*-1\r\n", 5);
}

void respAddArrayLen(respBuf *b, long long n) {
    addHeader(b, '*', n);
}

void respAddMapLen(respBuf *b, int proto, long long n) {
    if (proto >= 3)
        addHeader(b, '%', n);
    else
        addHeader(b, '*', n * 2);
}

void respAddSetLen(respBuf *b, int proto, long long n) {
    addHeader(b, proto >= 3 ? '~' : '*', n);
}

void respAddDouble(respBuf *b, int proto, double d) {
    /* Redis 7.0 prints %.17g, spelling the infinities itself; a NaN is always
     * "nan" (glibc would print "-nan" for a negative one). */
    char num[48];
    size_t n;
    if (isnan(d)) {
        n = (size_t)snprintf(num, sizeof num, "nan");
    } else if (isinf(d)) {
        n = (size_t)snprintf(num, sizeof num, "%s", d > 0 ? "inf" : "-inf");
    } else {
        n = (size_t)snprintf(num, sizeof num, "%.17g", d);
    }
    if (proto >= 3) {
        respBufReserve(b, n + 3);
        char *w = b->data + b->len;
        *w++ = ',';
        memcpy(w, num, n);
        w += n;
        *w++ = '\r';
        *w++ = '\n';
        b->len = (size_t)(w - b->data);
    } else {
        respAddBulk(b, num, n);
    }
}

void respAddBool(respBuf *b, int proto, int v) {
    if (proto >= 3)
        addRaw(b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        addRaw(b, v ? ":1\r\n" : ":0\r\n", 4);
}

void respAddVerbatim(respBuf *b, int proto, const char *fmt, const char *p, size_t n) {
    if (proto < 3) {
        respAddBulk(b, p, n);
        return;
    }
    respBufReserve(b, 1 + 20 + 2 + 4 + n + 2);
    char *w = b->data + b->len;
    *w++ = '=';
    w += ullToStr(w, n + 4);
    *w++ = '\r';
    *w++ = '\n';
    memcpy(w, fmt, 3);
    w[3] = ':';
    w += 4;
    if (n) memcpy(w, p, n);
    w += n;
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->data);
}
