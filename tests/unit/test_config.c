/* test_config.c: unit tests of config.c: memory sizes, integers, line splitting and
 * quoting, glob matching (against a recursive oracle on random inputs), defaults,
 * loading a file and flags, and the CONFIG command (GET/SET/RESETSTAT/REWRITE).
 *
 * config.c is included whole, so its static helpers are reachable, and the few
 * functions it calls from other files (replies, the event loop, logging, stats) are
 * stubbed here: replies are recorded as RESP2 text in `out`, which the tests compare
 * byte for byte. Self-contained on purpose, so it builds without the rest of the
 * server:
 *
 *     gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I src \
 *         tests/unit/test_config.c -o test_config -lcmocka
 */
#include "../../src/config.c"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

/* ---- Stubs ---- */

struct server server;

void *memAlloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) abort();
    return p;
}
void *memCalloc(size_t size) {
    void *p = calloc(1, size ? size : 1);
    if (!p) abort();
    return p;
}
void *memRealloc(void *ptr, size_t size) {
    void *p = realloc(ptr, size ? size : 1);
    if (!p) abort();
    return p;
}
void memFree(void *ptr) { free(ptr); }
char *memStrdup(const char *s) { return memStrndup(s, strlen(s)); }
char *memStrndup(const char *s, size_t n) {
    char *p = memAlloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
size_t memUsed(void) { return 0; }

static sbuf out; /* replies, as RESP2 */

void addReplyError(client *c, const char *s) {
    (void)c;
    sbufAddFormat(&out, "-%s\r\n", s);
}
void addReplyErrorArity(client *c) {
    (void)c;
    sbufAddStr(&out, "-ERR wrong number of arguments\r\n");
}
void addReplyOk(client *c) {
    (void)c;
    sbufAddStr(&out, "+OK\r\n");
}
void addReplySimple(client *c, const char *s) {
    (void)c;
    sbufAddFormat(&out, "+%s\r\n", s);
}
void addReplyBulkStr(client *c, const char *s) {
    (void)c;
    sbufAddFormat(&out, "$%zu\r\n%s\r\n", strlen(s), s);
}
void addReplyArrayLen(client *c, long long n) {
    (void)c;
    sbufAddFormat(&out, "*%lld\r\n", n);
}
void addReplyMapLen(client *c, long long n) {
    (void)c;
    sbufAddFormat(&out, "*%lld\r\n", n * 2);
}

char *escapeForError(char *o, size_t cap, const char *p, size_t n) {
    size_t j = 0;
    for (size_t i = 0; i < n && j + 5 < cap; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\'') o[j++] = (char)ch;
        else j += (size_t)snprintf(o + j, cap - j, "\\x%02x", ch);
    }
    o[j] = '\0';
    return o;
}

int argIs(const respArg *a, const char *word) {
    return strlen(word) == a->len && !strncasecmp(a->ptr, word, a->len);
}

static int evResizeRc;
static int evResizeSize;
int evResize(evLoop *loop, int setsize) {
    (void)loop;
    if (evResizeRc == 0) evResizeSize = setsize;
    return evResizeRc;
}

void logMsg(int level, const char *fmt, ...) {
    (void)level;
    (void)fmt;
}

static int resetStatsCalls;
void resetStats(void) { resetStatsCalls++; }

static command fakeCommand;
void commandForEach(void (*fn)(command *cmd, void *ctx), void *ctx) {
    fn(&fakeCommand, ctx);
}

/* ---- Helpers ---- */

/* Runs CONFIG with the given words (NULL-terminated) and returns the reply text,
 * valid until the next call. */
static const char *run(const char *first, ...) {
    respArg argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *w = first; w; w = va_arg(ap, const char *))
        argv[argc++] = (respArg){w, strlen(w)};
    va_end(ap);
    client c;
    memset(&c, 0, sizeof(c));
    c.argc = argc;
    c.argv = argv;
    sbufFree(&out);
    configCommand(&c);
    return out.p ? out.p : "";
}

static char tmpDir[64];
static char startDir[PATH_MAX];

static int setupDir(void **state) {
    (void)state;
    strcpy(tmpDir, "/tmp/respq-test-config-XXXXXX");
    if (!mkdtemp(tmpDir)) return -1;
    if (!getcwd(startDir, sizeof(startDir))) return -1;
    configInitDefaults();
    memFree(server.configFile);
    server.configFile = NULL;
    server.loop = NULL;
    return 0;
}

static int teardownDir(void **state) {
    (void)state;
    if (chdir(startDir) != 0) return -1;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpDir);
    return system(cmd) == 0 ? 0 : -1;
}

static void writeFile(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *slurp(const char *path) {
    size_t len;
    char *s = readWholeFile(path, &len);
    assert_non_null(s);
    return s;
}

/* Runs configLoad with stderr captured; returns its rc, and the text in *msg (the
 * caller frees). */
static int loadCaptured(const char *path, int argc, char **argv, char **msg) {
    char errPath[128];
    snprintf(errPath, sizeof(errPath), "%s/stderr.txt", tmpDir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(errPath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    int rc = configLoad(path, argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    *msg = slurp(errPath);
    return rc;
}

/* ---- Values ---- */

static void test_memory_units(void **state) {
    (void)state;
    static const struct {
        const char *s;
        long long v;
    } ok[] = {
        {"0", 0},
        {"123", 123},
        {"1b", 1},
        {"1k", 1000},
        {"1kb", 1024},
        {"1K", 1000},
        {"1KB", 1024},
        {"1kB", 1024},
        {"1m", 1000000},
        {"1mb", 1048576},
        {"64MB", 64LL * 1048576},
        {"1g", 1000000000},
        {"1gb", 1073741824},
        {"1Gb", 1073741824},
        {"512mb", 536870912},
        {"9223372036854775807", LLONG_MAX},
        {"8589934591gb", 8589934591LL * 1073741824},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        long long v = -1;
        assert_int_equal(parseMemory(ok[i].s, &v), 0);
        assert_true(v == ok[i].v);
    }
    static const char *bad[] = {"",     "-1",  "1x",   "1 kb", " 1",  "1kbb",
                                "k",    "1.5m", "+1",  "1t",   "1kib", "8589934592gb",
                                "9223372036854775808", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long v;
        assert_int_equal(parseMemory(bad[i], &v), -1);
    }
}

static void test_memory_format(void **state) {
    (void)state;
    static const struct {
        long long v;
        const char *s;
    } cases[] = {{0, "0"},           {1000, "1000"},       {1024, "1kb"},
                 {1536, "1536"},     {3072, "3kb"},        {1048576, "1mb"},
                 {67108864, "64mb"}, {1073741824, "1gb"},  {1073741825, "1073741825"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sbuf b = {0};
        sbufAddMemory(&b, cases[i].v);
        assert_string_equal(b.p, cases[i].s);
        long long back;
        assert_int_equal(parseMemory(b.p, &back), 0);
        assert_true(back == cases[i].v);
        sbufFree(&b);
    }
}

static void test_integers(void **state) {
    (void)state;
    long long v;
    assert_int_equal(parseLongLong("0", &v), 0);
    assert_true(v == 0);
    assert_int_equal(parseLongLong("-42", &v), 0);
    assert_true(v == -42);
    assert_int_equal(parseLongLong("9223372036854775807", &v), 0);
    assert_true(v == LLONG_MAX);
    assert_int_equal(parseLongLong("-9223372036854775808", &v), 0);
    assert_true(v == LLONG_MIN);
    assert_int_equal(parseLongLong("9223372036854775808", &v), -1);
    assert_int_equal(parseLongLong("", &v), -1);
    assert_int_equal(parseLongLong("-", &v), -1);
    assert_int_equal(parseLongLong("1a", &v), -1);
    assert_int_equal(parseLongLong(" 1", &v), -1);
    assert_int_equal(parseLongLong("+1", &v), -1);
}

/* ---- Line splitting ---- */

/* Splits s and checks the words (NULL-terminated list). */
static void expectSplit(const char *s, ...) {
    argList l;
    const char *err = NULL;
    assert_int_equal(splitArgs(s, strlen(s), &l, &err), 0);
    va_list ap;
    va_start(ap, s);
    int i = 0;
    for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *)) {
        assert_true(i < l.n);
        assert_string_equal(l.v[i], w);
        i++;
    }
    va_end(ap);
    assert_int_equal(i, l.n);
    argListFree(&l);
}

static void expectSplitError(const char *s) {
    argList l;
    const char *err = NULL;
    assert_int_equal(splitArgs(s, strlen(s), &l, &err), -1);
    assert_non_null(err);
    assert_int_equal(l.n, 0);
    assert_null(l.v);
}

static void test_split(void **state) {
    (void)state;
    expectSplit("", NULL);
    expectSplit("   \t ", NULL);
    expectSplit("port 6390", "port", "6390", NULL);
    expectSplit("  bind   127.0.0.1\t::1  ", "bind", "127.0.0.1", "::1", NULL);
    expectSplit("save \"\"", "save", "", NULL);
    expectSplit("save ''", "save", "", NULL);
    expectSplit("a \"b c\" d", "a", "b c", "d", NULL);
    expectSplit("x \"\\n\\r\\t\\b\\a\\\\\\\"\\q\"", "x", "\n\r\t\b\a\\\"q", NULL);
    expectSplit("x \"\\x41\\x7a\\x7G\"", "x", "Azx7G", NULL); /* \x7G: not hex */
    expectSplit("x 'it\\'s' 'a\\nb'", "x", "it's", "a\\nb", NULL);
    expectSplit("x foo\"bar baz\"", "x", "foobar baz", NULL);
    expectSplit("x \"a\"\t\"b\"", "x", "a", "b", NULL);
    expectSplit("x a#b", "x", "a#b", NULL);
    expectSplit("x\r\n", "x", NULL);
    expectSplitError("x \"abc");
    expectSplitError("x 'abc");
    expectSplitError("x \"abc\"d");
    expectSplitError("x 'abc'd");
    expectSplitError("x \"abc\\");
    expectSplitError("x \"a\\x00b\"");
}

/* What the splitter reads back from sbufAddArg is what went in. */
static void test_quote_round_trip(void **state) {
    (void)state;
    static const char *words[] = {"",   "plain", "with space", "q\"uote", "s'ingle",
                                  "\\", "\n\r\t", "\x01\x7f\xff", "#hash", "ünï"};
    sbuf line = {0};
    sbufAddStr(&line, "name");
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        sbufAddChar(&line, ' ');
        sbufAddArg(&line, words[i]);
    }
    argList l;
    const char *err;
    assert_int_equal(splitArgs(line.p, line.len, &l, &err), 0);
    assert_int_equal(l.n, 1 + (int)(sizeof(words) / sizeof(words[0])));
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        assert_string_equal(l.v[i + 1], words[i]);
    argListFree(&l);
    sbufFree(&line);
}

/* ---- Glob ---- */

static int glob(const char *p, const char *s, int nocase) {
    return stringMatch(p, strlen(p), s, strlen(s), nocase);
}

static void test_glob_cases(void **state) {
    (void)state;
    assert_true(glob("*", "", 0));
    assert_true(glob("*", "anything", 0));
    assert_true(glob("", "", 0));
    assert_false(glob("", "a", 0));
    assert_true(glob("port", "port", 0));
    assert_false(glob("port", "ports", 0));
    assert_true(glob("p?rt", "port", 0));
    assert_false(glob("p?rt", "prt", 0));
    assert_true(glob("*ort", "port", 0));
    assert_true(glob("max*", "maxmemory", 0));
    assert_true(glob("*-*-*", "client-output-buffer-limit", 0));
    assert_true(glob("a*b*c", "aXXbYYc", 0));
    assert_false(glob("a*b*c", "aXXbYY", 0));
    assert_true(glob("pid[a-f]ile", "pidfile", 0));
    assert_false(glob("pid[a-e]ile", "pidfile", 0));
    assert_true(glob("pid[f-a]ile", "pidfile", 0)); /* reversed range */
    assert_true(glob("[^a]bc", "xbc", 0));
    assert_false(glob("[^a]bc", "abc", 0));
    assert_true(glob("[abc]", "b", 0));
    assert_false(glob("[abc]", "d", 0));
    assert_false(glob("[]", "a", 0));
    assert_true(glob("[\\]]", "]", 0));
    assert_true(glob("[a", "a", 0)); /* unterminated set runs to the end */
    assert_true(glob("\\*", "*", 0));
    assert_false(glob("\\*", "a", 0));
    assert_true(glob("\\?x", "?x", 0));
    assert_true(glob("a\\", "a\\", 0)); /* trailing backslash is literal */
    assert_true(glob("PORT", "port", 1));
    assert_false(glob("PORT", "port", 0));
    assert_true(glob("[A-Z]ort", "port", 1));
    assert_true(glob("*AOF*", "auto-aof-rewrite-min-size", 1));
    /* Would take exponential time with naive recursion. */
    assert_false(glob("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0));
}

/* Redis's original recursive algorithm, as the oracle; except that, as in any glob,
 * a pattern of stars matches the empty string (Redis's loop never runs then). */
static int oracle(const char *p, int plen, const char *s, int slen, int nocase) {
    if (slen == 0)
        while (plen && p[0] == '*') p++, plen--;
    while (plen && slen) {
        switch (p[0]) {
        case '*':
            while (plen > 1 && p[1] == '*') p++, plen--;
            if (plen == 1) return 1;
            while (slen) {
                if (oracle(p + 1, plen - 1, s, slen, nocase)) return 1;
                s++, slen--;
            }
            return 0;
        case '?':
            s++, slen--;
            break;
        case '[': {
            int neg, match = 0;
            p++, plen--;
            neg = plen > 0 && p[0] == '^';
            if (neg) p++, plen--;
            for (;;) {
                if (plen >= 2 && p[0] == '\\') {
                    p++, plen--;
                    if ((nocase ? tolower((unsigned char)p[0]) : p[0]) ==
                        (nocase ? tolower((unsigned char)s[0]) : s[0]))
                        match = 1;
                } else if (plen > 0 && p[0] == ']') {
                    break;
                } else if (plen == 0) {
                    p--, plen++;
                    break;
                } else if (plen >= 3 && p[1] == '-') {
                    int lo = (unsigned char)p[0], hi = (unsigned char)p[2];
                    int ch = (unsigned char)s[0];
                    if (lo > hi) {
                        int t = lo;
                        lo = hi;
                        hi = t;
                    }
                    if (nocase) lo = tolower(lo), hi = tolower(hi), ch = tolower(ch);
                    p += 2, plen -= 2;
                    if (ch >= lo && ch <= hi) match = 1;
                } else {
                    if ((nocase ? tolower((unsigned char)p[0]) : p[0]) ==
                        (nocase ? tolower((unsigned char)s[0]) : s[0]))
                        match = 1;
                }
                p++, plen--;
            }
            if (neg) match = !match;
            if (!match) return 0;
            s++, slen--;
            break;
        }
        case '\\':
            if (plen >= 2) p++, plen--;
            /* fall through */
        default:
            if ((nocase ? tolower((unsigned char)p[0]) : p[0]) !=
                (nocase ? tolower((unsigned char)s[0]) : s[0]))
                return 0;
            s++, slen--;
            break;
        }
        p++, plen--;
        if (slen == 0) {
            while (plen && p[0] == '*') p++, plen--;
            break;
        }
    }
    return plen == 0 && slen == 0;
}

static void test_glob_oracle(void **state) {
    (void)state;
    static const char palpha[] = "ab*?[]^-\\A";
    static const char salpha[] = "abAB-]^*\\";
    unsigned seed = 12345;
    char p[12], s[12];
    for (int iter = 0; iter < 300000; iter++) {
        seed = seed * 1103515245u + 12345u;
        int plen = (int)((seed >> 16) % 9);
        for (int i = 0; i < plen; i++) {
            seed = seed * 1103515245u + 12345u;
            p[i] = palpha[(seed >> 16) % (sizeof(palpha) - 1)];
        }
        seed = seed * 1103515245u + 12345u;
        int slen = (int)((seed >> 16) % 9);
        for (int i = 0; i < slen; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = salpha[(seed >> 16) % (sizeof(salpha) - 1)];
        }
        int nocase = iter & 1;
        int want = oracle(p, plen, s, slen, nocase);
        int got = stringMatch(p, (size_t)plen, s, (size_t)slen, nocase);
        if (want != got) {
            print_error("pattern '%.*s' string '%.*s' nocase %d: oracle %d, got %d\n",
                        plen, p, slen, s, nocase, want, got);
            fail();
        }
    }
}

/* ---- Defaults and loading ---- */

static void test_defaults(void **state) {
    (void)state;
    assert_int_equal(server.bindCount, 1);
    assert_string_equal(server.bindAddrs[0], "127.0.0.1");
    assert_int_equal(server.port, 6390);
    assert_null(server.unixSocket);
    assert_int_equal(server.unixSocketPerm, 0);
    assert_int_equal(server.tcpBacklog, 511);
    assert_int_equal(server.protectedMode, 1);
    assert_true(server.maxClients == 10000);
    assert_true(server.idleTimeoutSec == 0);
    assert_int_equal(server.tcpKeepalive, 300);
    assert_null(server.requirePass);
    assert_int_equal(server.logLevel, LL_NOTICE);
    assert_string_equal(server.logFile, "");
    assert_null(server.pidFile);
    assert_string_equal(server.dir, ".");
    assert_int_equal(server.appendOnly, 1);
    assert_string_equal(server.appendDirName, "appendonlydir");
    assert_int_equal(server.appendFsync, AOF_FSYNC_EVERYSEC);
    assert_int_equal(server.autoAofRewritePercentage, 100);
    assert_true(server.autoAofRewriteMinSize == 64LL * 1024 * 1024);
    assert_int_equal(server.aofLoadTruncated, 1);
    assert_true(server.maxMemory == 0);
    assert_true(server.protoMaxBulkLen == 512LL * 1024 * 1024);
    assert_true(server.clientQueryBufferLimit == 1024LL * 1024 * 1024);
    assert_true(server.clientOutputHardLimit == 1024LL * 1024 * 1024);
    assert_true(server.clientOutputSoftLimit == 256LL * 1024 * 1024);
    assert_true(server.clientOutputSoftSeconds == 60);
    assert_int_equal(server.hz, 10);
}

static void test_load_file(void **state) {
    (void)state;
    char path[128], data[128];
    snprintf(path, sizeof(path), "%s/respq.conf", tmpDir);
    snprintf(data, sizeof(data), "%s/data", tmpDir);
    assert_int_equal(mkdir(data, 0755), 0);
    char text[1024];
    snprintf(text, sizeof(text),
             "# comment\n"
             "\n"
             "   # indented comment\n"
             "PORT 7000\n"
             "bind 127.0.0.1 ::1\r\n"
             "  maxmemory   2GB  \n"
             "requirepass \"pa ss\\\"word\"\n"
             "unixsocketperm 700\n"
             "appendfsync always\n"
             "loglevel WARNING\n"
             "protected-mode no\n"
             "client-output-buffer-limit normal 10mb 5mb 30\n"
             "client-output-buffer-limit slave 1 2 3\n"
             "save \"\"\n"
             "databases 1\n"
             "dir %s\n"
             "port 7001\n",
             data);
    writeFile(path, text);
    char *argv[] = {"--timeout", "30", "--save", "", "--unixsocket", "/tmp/x.sock"};
    char *msg;
    assert_int_equal(loadCaptured(path, 6, argv, &msg), 0);
    assert_string_equal(msg, "");
    free(msg);
    assert_int_equal(server.port, 7001);
    assert_int_equal(server.bindCount, 2);
    assert_string_equal(server.bindAddrs[1], "::1");
    assert_true(server.maxMemory == 2LL * 1024 * 1024 * 1024);
    assert_string_equal(server.requirePass, "pa ss\"word");
    assert_int_equal(server.unixSocketPerm, 0700);
    assert_int_equal(server.appendFsync, AOF_FSYNC_ALWAYS);
    assert_int_equal(server.logLevel, LL_WARNING);
    assert_int_equal(server.protectedMode, 0);
    assert_true(server.clientOutputHardLimit == 10LL * 1024 * 1024);
    assert_true(server.clientOutputSoftSeconds == 30);
    assert_true(obufOther[OBUF_REPLICA][2] == 3);
    assert_true(server.idleTimeoutSec == 30);
    assert_string_equal(server.unixSocket, "/tmp/x.sock");
    assert_string_equal(server.configFile, path);

    /* configLoad entered dir. */
    char cwd[PATH_MAX], real[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_non_null(realpath(data, real));
    assert_string_equal(cwd, real);
}

/* The error names the file and line (or the flag), the setting and the reason. */
static void expectLoadError(const char *text, int argc, char **argv, const char *want1,
                            const char *want2) {
    char path[128];
    snprintf(path, sizeof(path), "%s/bad.conf", tmpDir);
    if (text) writeFile(path, text);
    char *msg;
    configInitDefaults();
    assert_int_equal(loadCaptured(text ? path : NULL, argc, argv, &msg), -1);
    if (!strstr(msg, want1) || (want2 && !strstr(msg, want2))) {
        print_error("message was:\n%s\nwanted '%s' and '%s'\n", msg, want1,
                    want2 ? want2 : "");
        fail();
    }
    free(msg);
}

static void test_load_errors(void **state) {
    (void)state;
    expectLoadError("port 1\nport abc\n", 0, NULL, "bad.conf at line 2",
                    "port: argument couldn't be parsed into an integer");
    expectLoadError("\n\nport 77777\n", 0, NULL, "at line 3",
                    "port: argument must be between 0 and 65535 inclusive");
    expectLoadError("nosuch 1\n", 0, NULL, "at line 1", "unknown setting 'nosuch'");
    expectLoadError("port \"abc\n", 0, NULL, "at line 1", "Unbalanced quotes");
    expectLoadError("port 1 2\n", 0, NULL, "at line 1", "wrong number of arguments");
    expectLoadError("maxmemory 1x\n", 0, NULL, "line 1",
                    "maxmemory: argument must be a memory value");
    expectLoadError("appendfsync sometimes\n", 0, NULL, "line 1",
                    "always, everysec, no");
    expectLoadError("save 900 1\n", 0, NULL, "line 1", "save: respq takes no snapshots");
    expectLoadError("appenddirname a/b\n", 0, NULL, "line 1", "can't be a path");
    expectLoadError("bind\n", 0, NULL, "line 1", "bind: wrong number of arguments");
    expectLoadError("client-output-buffer-limit master 1 2 3\n", 0, NULL, "line 1",
                    "Invalid client class");

    char *a1[] = {"--port", "77777"};
    expectLoadError(NULL, 2, a1, "--port", "between 0 and 65535");
    char *a2[] = {"--bogus", "1"};
    expectLoadError(NULL, 2, a2, "--bogus", "unknown setting 'bogus'");
    char *a3[] = {"port", "1"};
    expectLoadError(NULL, 2, a3, "command-line argument 1", "--name value");
    char *a4[] = {"--dir", "/nonexistent/respq"};
    expectLoadError(NULL, 2, a4, "Can't chdir", "/nonexistent/respq");

    char *msg;
    assert_int_equal(loadCaptured("/nonexistent/respq.conf", 0, NULL, &msg), -1);
    assert_non_null(strstr(msg, "/nonexistent/respq.conf"));
    free(msg);
}

/* ---- The CONFIG command ---- */

static void test_config_get(void **state) {
    (void)state;
    assert_string_equal(run("CONFIG", "GET", "port", NULL),
                        "*2\r\n$4\r\nport\r\n$4\r\n6390\r\n");
    assert_string_equal(run("config", "get", "save", NULL), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    assert_string_equal(run("config", "get", "appendonly", NULL),
                        "*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n");
    assert_string_equal(run("config", "get", "nosuch", NULL), "*0\r\n");
    assert_string_equal(run("config", "get", "MAXMEMORY", "maxmem*", NULL),
                        "*4\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
                        "$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n");
    assert_string_equal(run("config", "get", "client-output-buffer-limit", NULL),
                        "*2\r\n$26\r\nclient-output-buffer-limit\r\n$87\r\nnormal "
                        "1073741824 268435456 60 replica 268435456 67108864 60 pubsub "
                        "33554432 8388608 60\r\n");
    assert_string_equal(run("config", "get", "proto-max-bulk-len", "bind", NULL),
                        "*4\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"
                        "$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n");
    assert_string_equal(run("config", "get", "databases", "replica-read-only", NULL),
                        "*4\r\n$9\r\ndatabases\r\n$1\r\n1\r\n"
                        "$17\r\nreplica-read-only\r\n$3\r\nyes\r\n");
    assert_string_equal(run("config", "get", "loglevel", "appendfsync", "requirepass",
                            NULL),
                        "*6\r\n$11\r\nrequirepass\r\n$0\r\n\r\n"
                        "$8\r\nloglevel\r\n$6\r\nnotice\r\n"
                        "$11\r\nappendfsync\r\n$8\r\neverysec\r\n");
    /* Every setting once, and dir as an absolute path. */
    const char *all = run("config", "get", "*", NULL);
    char head[16];
    snprintf(head, sizeof(head), "*%d\r\n", 2 * CONFIG_COUNT);
    assert_memory_equal(all, head, strlen(head));
    char cwd[PATH_MAX], want[PATH_MAX + 64];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(want, sizeof(want), "$3\r\ndir\r\n$%zu\r\n%s\r\n", strlen(cwd), cwd);
    assert_non_null(strstr(all, want));
    assert_string_equal(run("config", "get", NULL), "-ERR wrong number of arguments\r\n");
}

static void test_config_set(void **state) {
    (void)state;
    assert_string_equal(run("config", "set", "maxmemory", "1gb", NULL), "+OK\r\n");
    assert_true(server.maxMemory == 1073741824);
    assert_string_equal(run("config", "get", "maxmemory", NULL),
                        "*2\r\n$9\r\nmaxmemory\r\n$10\r\n1073741824\r\n");
    assert_string_equal(run("config", "set", "LOGLEVEL", "debug", "timeout", "5", NULL),
                        "+OK\r\n");
    assert_int_equal(server.logLevel, LL_DEBUG);
    assert_true(server.idleTimeoutSec == 5);
    assert_string_equal(run("config", "set", "requirepass", "secret", NULL), "+OK\r\n");
    assert_string_equal(server.requirePass, "secret");
    assert_string_equal(run("config", "set", "requirepass", "", NULL), "+OK\r\n");
    assert_null(server.requirePass);
    assert_string_equal(run("config", "set", "appendfsync", "NO", NULL), "+OK\r\n");
    assert_int_equal(server.appendFsync, AOF_FSYNC_NO);

    /* client-output-buffer-limit: only the classes named change. */
    assert_string_equal(run("config", "set", "client-output-buffer-limit",
                            "normal 0 0 0 pubsub 1mb 1kb 5", NULL),
                        "+OK\r\n");
    assert_true(server.clientOutputHardLimit == 0);
    assert_string_equal(run("config", "get", "client-output-buffer-limit", NULL),
                        "*2\r\n$26\r\nclient-output-buffer-limit\r\n$64\r\nnormal 0 0 0 "
                        "replica 268435456 67108864 60 pubsub 1048576 1024 5\r\n");

    /* Errors, in Redis 7's words. */
    assert_string_equal(run("config", "set", "port", "7000", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument 'port') - "
                        "can't set immutable config\r\n");
    assert_string_equal(run("config", "set", "foo", "bar", NULL),
                        "-ERR Unknown option or number of arguments for CONFIG SET - "
                        "'foo'\r\n");
    assert_string_equal(run("config", "set", "maxmemory", "1x", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument "
                        "'maxmemory') - argument must be a memory value\r\n");
    assert_string_equal(run("config", "set", "timeout", "-1", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument 'timeout') "
                        "- argument must be between 0 and 2147483647 inclusive\r\n");
    assert_string_equal(run("config", "set", "maxclients", "x", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument "
                        "'maxclients') - argument couldn't be parsed into an integer\r\n");
    assert_string_equal(run("config", "set", "loglevel", "loud", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument 'loglevel') "
                        "- argument(s) must be one of the following: debug, verbose, "
                        "notice, warning\r\n");
    assert_string_equal(run("config", "set", "proto-max-bulk-len", "10", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument "
                        "'proto-max-bulk-len') - argument must be between 1048576 and "
                        "9223372036854775807 inclusive\r\n");
    assert_string_equal(run("config", "set", "client-output-buffer-limit", "normal 1 2",
                            NULL),
                        "-ERR CONFIG SET failed (possibly related to argument "
                        "'client-output-buffer-limit') - Wrong number of arguments in "
                        "buffer limit configuration.\r\n");
    assert_string_equal(run("config", "set", "maxmemory", "1", "maxmemory", "2", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument "
                        "'maxmemory') - duplicate parameter\r\n");
    /* An unknown name wins over a later immutable one, not over an earlier one. */
    assert_string_equal(run("config", "set", "foo", "1", "port", "1", NULL),
                        "-ERR Unknown option or number of arguments for CONFIG SET - "
                        "'foo'\r\n");
    assert_string_equal(run("config", "set", "port", "1", "foo", "1", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument 'port') - "
                        "can't set immutable config\r\n");
    assert_string_equal(run("config", "set", "maxmemory", NULL),
                        "-ERR wrong number of arguments\r\n");
    assert_string_equal(run("config", "set", "maxmemory", "1", "timeout", NULL),
                        "-ERR syntax error\r\n");
}

static void test_config_set_atomic(void **state) {
    (void)state;
    run("config", "set", "maxmemory", "100", "timeout", "7", NULL);
    /* The second value is bad: the first must not change. */
    assert_string_equal(run("config", "set", "maxmemory", "1gb", "timeout", "x", NULL),
                        "-ERR CONFIG SET failed (possibly related to argument 'timeout') "
                        "- argument couldn't be parsed into an integer\r\n");
    assert_true(server.maxMemory == 100);
    assert_true(server.idleTimeoutSec == 7);

    /* An apply hook refusing undoes every value, earlier hooks included. */
    int dummy;
    server.loop = (evLoop *)&dummy;
    evResizeRc = 0;
    assert_string_equal(run("config", "set", "maxclients", "100", NULL), "+OK\r\n");
    assert_int_equal(evResizeSize, 100 + RESERVED_FDS);
    evResizeRc = -1;
    const char *r = run("config", "set", "timeout", "9", "maxclients", "50", NULL);
    assert_non_null(strstr(r, "-ERR CONFIG SET failed (possibly related to argument "
                              "'maxclients') - the event loop cannot shrink"));
    assert_true(server.maxClients == 100);
    assert_true(server.idleTimeoutSec == 7);
    evResizeRc = 0;
    server.loop = NULL;
}

static void test_config_misc(void **state) {
    (void)state;
    fakeCommand.calls = 5;
    fakeCommand.usec = 6;
    fakeCommand.failedCalls = 7;
    fakeCommand.rejectedCalls = 8;
    assert_string_equal(run("config", "resetstat", NULL), "+OK\r\n");
    assert_int_equal(resetStatsCalls, 1);
    assert_true(fakeCommand.calls == 0 && fakeCommand.usec == 0 &&
                fakeCommand.failedCalls == 0 && fakeCommand.rejectedCalls == 0);
    assert_string_equal(run("config", "nope", NULL),
                        "-ERR unknown subcommand 'nope'. Try CONFIG HELP.\r\n");
    assert_memory_equal(run("config", "help", NULL), "*12\r\n+CONFIG <subcommand>", 25);
    assert_string_equal(run("config", "rewrite", NULL),
                        "-ERR The server is running without a config file\r\n");
}

static void test_config_rewrite(void **state) {
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/rw.conf", tmpDir);
    writeFile(path, "# top comment\n"
                    "port 7124\n"
                    "  maxmemory   100mb  \n"
                    "# mid\n"
                    "client-output-buffer-limit normal 0 0 0\n"
                    "client-output-buffer-limit pubsub 32mb 8mb 60\n"
                    "save \"\"\n"
                    "timeout 5\n"
                    "timeout 6\n"
                    "appendonly yes\n"
                    "nosuch-thing 1\n");
    configInitDefaults();
    char *msg;
    /* nosuch-thing makes the load fail at the last line; everything before holds. */
    assert_int_equal(loadCaptured(path, 0, NULL, &msg), -1);
    free(msg);
    memFree(server.configFile);
    server.configFile = memStrdup(path);

    assert_string_equal(run("config", "set", "maxmemory", "2gb", "timeout", "30",
                            "client-output-buffer-limit",
                            "normal 1mb 2mb 3 pubsub 1 2 3", "appendfsync", "always",
                            "requirepass", "x\"y z", NULL),
                        "+OK\r\n");
    assert_string_equal(run("config", "rewrite", NULL), "+OK\r\n");
    char *got = slurp(path);
    assert_string_equal(got, "# top comment\n"
                             "port 7124\n"
                             "maxmemory 2gb\n"
                             "# mid\n"
                             "client-output-buffer-limit normal 1mb 2mb 3\n"
                             "client-output-buffer-limit pubsub 1 2 3\n"
                             "save \"\"\n"
                             "timeout 30\n"
                             "appendonly yes\n"
                             "nosuch-thing 1\n"
                             "\n"
                             "# Generated by CONFIG REWRITE\n"
                             "requirepass \"x\\\"y z\"\n"
                             "appendfsync always\n");
    free(got);

    /* A second rewrite with nothing changed keeps the file; a change goes in place
     * and a value back at its default is written where its line is. */
    assert_string_equal(run("config", "rewrite", NULL), "+OK\r\n");
    got = slurp(path);
    assert_non_null(strstr(got, "# Generated by CONFIG REWRITE\nrequirepass"));
    assert_null(strstr(strstr(got, "# Generated") + 1, "# Generated"));
    free(got);
    run("config", "set", "appendfsync", "everysec", "loglevel", "debug", NULL);
    assert_string_equal(run("config", "rewrite", NULL), "+OK\r\n");
    got = slurp(path);
    assert_non_null(strstr(got, "appendfsync everysec\nloglevel debug\n"));
    free(got);

    /* Without the line it does not know, the rewritten file loads back to the same
     * values. */
    got = slurp(path);
    char *unknown = strstr(got, "nosuch-thing 1\n");
    assert_non_null(unknown);
    memmove(unknown, unknown + 15, strlen(unknown + 15) + 1);
    writeFile(path, got);
    free(got);
    configInitDefaults();
    assert_int_equal(loadCaptured(path, 0, NULL, &msg), 0);
    assert_string_equal(msg, "");
    free(msg);
    assert_int_equal(server.logLevel, LL_DEBUG);
    assert_true(server.maxMemory == 2LL * 1024 * 1024 * 1024);
    assert_string_equal(server.requirePass, "x\"y z");
    assert_true(obufOther[OBUF_PUBSUB][0] == 1);

    /* Permissions kept; no temp file left behind. */
    struct stat sb;
    chmod(path, 0600);
    assert_string_equal(run("config", "rewrite", NULL), "+OK\r\n");
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -q tmp-", tmpDir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_config_rewrite_new_file(void **state) {
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/new.conf", tmpDir);
    configInitDefaults();
    memFree(server.configFile);
    server.configFile = memStrdup(path); /* deleted since start-up */
    run("config", "set", "maxclients", "500", NULL);
    assert_string_equal(run("config", "rewrite", NULL), "+OK\r\n");
    char *got = slurp(path);
    assert_string_equal(got, "# Generated by CONFIG REWRITE\nmaxclients 500\n");
    free(got);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_units),
        cmocka_unit_test(test_memory_format),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_quote_round_trip),
        cmocka_unit_test(test_glob_cases),
        cmocka_unit_test(test_glob_oracle),
        cmocka_unit_test_setup_teardown(test_defaults, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_load_file, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_load_errors, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_config_get, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_config_set, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_config_set_atomic, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_config_misc, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_config_rewrite, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_config_rewrite_new_file, setupDir,
                                        teardownDir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
