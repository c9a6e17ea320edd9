/* resp.h: the Redis protocol, both directions, with no I/O and no knowledge of clients.
 *
 * The request parser turns bytes into one command at a time (multibulk `*N $L ...`
 * frames and inline lines, as Redis accepts them). It is incremental: feed it the
 * bytes of an unfinished command again, with more appended, and it resumes where it
 * stopped instead of rescanning. Arguments of a multibulk command are slices of the
 * caller's buffer, so a command costs no allocation; inline arguments (which may hold
 * quoted escapes) are decoded into the parser's own scratch buffer.
 *
 * The reply writer appends RESP2 or RESP3 encodings to a respBuf. Functions that
 * differ between the protocols take `proto` (2 or 3): a map is `%N` in RESP3 and a
 * flat array of 2N elements in RESP2, a null is `_` or `$-1`, and so on.
 */
#ifndef RESPQ_RESP_H
#define RESPQ_RESP_H

#include <stddef.h>

/* ---- Growable byte buffer (replies, query buffers) ---- */

typedef struct respBuf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
} respBuf;

void respBufReserve(respBuf *b, size_t extra); /* room for `extra` more bytes */
void respBufAppend(respBuf *b, const void *p, size_t n);
void respBufFree(respBuf *b); /* frees data, leaves an empty buffer */

/* ---- Request parser ---- */

#define RESP_INLINE_MAX (64 * 1024) /* longest inline line / count line, as Redis */

enum {
    RESP_NEED_MORE = 0, /* the command is incomplete: call again with more bytes */
    RESP_OK = 1,        /* a command is ready in argv/argc */
    RESP_EMPTY = 2,     /* bytes consumed that hold no command (`\r\n`, `*0`) */
    RESP_ERROR = -1     /* protocol error: text in p->err, connection must close */
};

typedef struct respArg {
    const char *ptr; /* borrowed: points into the caller's buffer or parser scratch */
    size_t len;
} respArg;

typedef struct respParser {
    /* Limits, set by the caller before parsing (respParserInit sets defaults). */
    long long maxBulkLen;   /* largest bulk string (proto-max-bulk-len) */
    long long maxMultibulk; /* largest element count of one command */
    int unauthenticated;    /* 1: Redis's tighter limits before AUTH (10 elements,
                               16 KiB bulk) */

    /* Result of the last RESP_OK: valid until the next respParse call. */
    respArg *argv; /* owned array */
    int argc;
    char err[128]; /* text of the last RESP_ERROR, without the code, '-' or CRLF,
                      e.g. "Protocol error: invalid multibulk length": the caller
                      replies "-ERR <err>" as Redis does, then closes */

    /* Private state of an unfinished command. */
    int kind;            /* 0 none yet, 1 multibulk, 2 inline, 3 failed (the error
                            is sticky: respParse keeps returning it until reset) */
    size_t pos;          /* bytes of the current command already parsed */
    long long remaining; /* multibulk elements still to read; 0 at the count line */
    long long bulkLen;   /* length of the bulk being read, -1 if at its `$` line */
    size_t lineScanned;  /* bytes of the current line already searched for its end,
                            so a line fed byte by byte is scanned once */
    int nread;           /* arguments of the unfinished command read so far */
    size_t *offsets;     /* owned: argument offsets from the command start (or from
                            scratch), never pointers: the caller's buffer may move */
    size_t *lengths;     /* owned */
    size_t argvCap;      /* capacity of argv/offsets/lengths */
    char *scratch;       /* owned: decoded inline arguments */
    size_t scratchCap;
} respParser;

/* Init allocates nothing and sets the default limits: maxBulkLen 512 MiB,
 * maxMultibulk INT_MAX, authenticated. Free releases the arrays and leaves an
 * empty parser (limits kept) that may be used again. Reset forgets an unfinished
 * command and a sticky error, keeping the arrays. */
void respParserInit(respParser *p);
void respParserFree(respParser *p);
void respParserReset(respParser *p);

/* Parses the next command from buf[0..len), which must begin at the first byte not
 * yet consumed (the start of the unfinished command, if any). Returns RESP_OK with
 * p->argv/p->argc set and *consumed = bytes of that command; RESP_EMPTY with
 * *consumed bytes to drop; RESP_NEED_MORE with *consumed = 0 (call again later
 * with the same bytes, more appended, at the front of buf: buf may have moved); or
 * RESP_ERROR with p->err set and *consumed = 0, returned again by every later call
 * until respParserReset. Multibulk argv point into buf, inline argv into scratch;
 * both stay valid until the next call (and while buf is unchanged). Memory
 * committed before the elements arrive is bounded (about 1024 slots), whatever
 * count the client announces. */
int respParse(respParser *p, const char *buf, size_t len, size_t *consumed);

/* Bytes the parser still needs before the command could be complete, when it knows
 * (inside a bulk string: the rest of that bulk and its CRLF); 0 otherwise. `len`
 * is how many bytes of the command the caller holds. Lets the caller size one big
 * read. */
size_t respParserPending(const respParser *p, size_t len);

/* ---- Reply writer ---- */

/* Simple strings and errors never carry CR or LF: any in s is written as a space,
 * so echoed text cannot break the framing. */
void respAddSimple(respBuf *b, const char *s); /* +s */
void respAddSimpleLen(respBuf *b, const char *s, size_t n);
void respAddError(respBuf *b, const char *s); /* -s; s starts with its CODE; any CR/LF
                                                 in s becomes a space */
void respAddErrorLen(respBuf *b, const char *s, size_t n);
void respAddInt(respBuf *b, long long v);              /* :v */
void respAddBulk(respBuf *b, const void *p, size_t n); /* $n p */
void respAddBulkStr(respBuf *b, const char *s);
void respAddBulkInt(respBuf *b, long long v);           /* a number as bulk */
void respAddBulkUInt(respBuf *b, unsigned long long v); /* the same, unsigned */
void respAddNull(respBuf *b, int proto);                /* $-1 or _ */
void respAddNullArray(respBuf *b, int proto);           /* *-1 or _ */
void respAddArrayLen(respBuf *b, long long n);          /* *n */
void respAddMapLen(respBuf *b, int proto, long long n); /* %n, or *2n */
void respAddSetLen(respBuf *b, int proto, long long n); /* ~n, or *n */
void respAddDouble(respBuf *b, int proto, double d);    /* ,d, or bulk */
void respAddBool(respBuf *b, int proto, int v);         /* #t/#f, or :1/:0 */
/* =n\r\ntxt:... in RESP3 (fmt is 3 bytes, e.g. "txt"), a plain bulk in RESP2 */
void respAddVerbatim(respBuf *b, int proto, const char *fmt, const char *p, size_t n);

/* In-place writers, for an encoder that reserves once for many elements (an AOF
 * record) instead of once per element: each writes one bulk at w, which must
 * have room for it (RESP_BULK_INT_MAX, or n + RESP_BULK_HEAD_MAX + 2), and
 * returns the end of what it wrote. The caller then sets b->len. */
#define RESP_BULK_HEAD_MAX (1 + 20 + 2)                   /* "$<n>\r\n" */
#define RESP_BULK_INT_MAX (RESP_BULK_HEAD_MAX + 20 + 2) /* "$<n>\r\n<v>\r\n" */
char *respPutBulk(char *w, const void *p, size_t n);
char *respPutBulkInt(char *w, long long v);
char *respPutBulkUInt(char *w, unsigned long long v);

#endif
