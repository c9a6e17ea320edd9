/* aofmanifest.c: the manifest of the append-only file, both ways: text to
 * entries (aofManifestRead) and entries to text (aofManifestFormat). It owns the
 * manifest's line format and the rule for the file names a manifest may give,
 * and nothing else: the server's aof.c decides what the entries mean (which file
 * is appended to, what a rewrite replaces) and replaces the manifest on disk
 * atomically (temporary file, fsync, rename, fsync of the directory). The server
 * and respq-aof both read with this one parser, so that `respq-aof check` refuses
 * exactly the manifests a starting server refuses, for the same reason. Nothing
 * is logged here: a problem comes back as a message for the caller to show, in
 * the server's words or without the path for respq-aof's "<path>: <what>".
 *
 * The format (docs/persistence.md, "Files"), one file a line, in replay order:
 *
 *     file respq.aof.3.base.lz4 seq 3 type b
 *     file respq.aof.3.incr.lz4 seq 3 type i
 *
 * Blank lines and lines starting with '#' are skipped. A line holds the four
 * keywords and values separated by white space, nothing after the type; the seq is
 * a decimal >= 1 and the type `b` (base) or `i` (increment). A name is 1 - 63
 * bytes starting "respq.aof.", without '/', so a manifest can only name files in
 * its own directory. A line is at most MANIFEST_LINE_MAX bytes (the server's lines
 * are under 80), and a manifest names at most AOF_MANIFEST_MAX_FILES files: the
 * server writes two, three during a rewrite, and one more for each rewrite that
 * failed since the last good one (aof.c stops starting rewrites before the limit).
 */
#include "aofmanifest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MANIFEST_LINE_MAX 1024 /* bytes of one line, its newline left out */
#define LINE_FORM "'file <name> seq <n> type b|i'"

int aofManifestValidName(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= AOF_MANIFEST_NAME_MAX || strchr(s, '/')) return 0;
    return !strncmp(s, "respq.aof.", 10);
}

/* Reads one line of fp into buf (cap > MANIFEST_LINE_MAX), without its newline,
 * NUL-terminated. 1 when a line was read (*bad set when it is longer than
 * MANIFEST_LINE_MAX, then cut there, or holds a NUL byte), 0 at the end of the
 * file, -1 on a read error (errno set by the read). */
static int readLine(FILE *fp, char *buf, size_t cap, int *bad) {
    size_t n = 0;
    int c, any = 0;
    *bad = 0;
    while ((c = getc(fp)) != EOF) {
        any = 1;
        if (c == '\n') break;
        if (c == '\0') *bad = 1;
        if (n < MANIFEST_LINE_MAX && n + 1 < cap)
            buf[n++] = c ? (char)c : ' '; /* shown, but never accepted */
        else
            *bad = 1;
    }
    buf[n] = '\0';
    if (c == EOF && ferror(fp)) return -1;
    return any;
}

/* Writes s into out (cap > 4) for a message: control bytes as \xNN, so that a
 * damaged line cannot garble the log or the terminal it is shown on. */
static void showLine(char *out, size_t cap, const char *s) {
    size_t o = 0;
    for (; *s && o + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Parses one line that is not blank nor a comment into e. 0, or -1. */
static int parseLine(const char *line, aofManifestEntry *e) {
    char name[256], type[8], extra;
    long long seq;
    if (sscanf(line, "file %255s seq %lld type %7s %c", name, &seq, type, &extra) != 3)
        return -1;
    if (!aofManifestValidName(name) || (strcmp(type, "b") && strcmp(type, "i")) ||
        seq < 1)
        return -1;
    memcpy(e->name, name, strlen(name) + 1); /* valid: < AOF_MANIFEST_NAME_MAX */
    e->seq = seq;
    e->type = type[0];
    return 0;
}

enum { FAIL_OPEN, FAIL_READ, FAIL_LINE, FAIL_TOO_MANY, FAIL_EMPTY };

/* Writes the message for a problem of kind `fail` into err and detail (either may
 * be NULL), each worded once here. */
static void describe(const char *path, int fail, int lineNo, const char *line,
                     int errnum, char *err, size_t errcap, char *detail,
                     size_t detailcap) {
    char what[MANIFEST_LINE_MAX * 4 + 128];
    char shown[MANIFEST_LINE_MAX * 4 + 1];
    switch (fail) {
    case FAIL_OPEN:
    case FAIL_READ:
        snprintf(what, sizeof(what), "cannot %s: %s",
                 fail == FAIL_OPEN ? "open" : "read", strerror(errnum));
        break;
    case FAIL_LINE:
        showLine(shown, sizeof(shown), line);
        snprintf(what, sizeof(what), "damaged at line %d: '%s' is not " LINE_FORM,
                 lineNo, shown);
        break;
    case FAIL_TOO_MANY:
        snprintf(what, sizeof(what), "names more than %d files",
                 AOF_MANIFEST_MAX_FILES);
        break;
    default:
        snprintf(what, sizeof(what), "names no file");
        break;
    }
    if (detail && detailcap) snprintf(detail, detailcap, "%s", what);
    if (!err || !errcap) return;
    if (fail == FAIL_OPEN || fail == FAIL_READ)
        snprintf(err, errcap, "Cannot %s the AOF manifest %s: %s",
                 fail == FAIL_OPEN ? "open" : "read", path, strerror(errnum));
    else
        snprintf(err, errcap, "The AOF manifest %s %s%s", path,
                 fail == FAIL_LINE ? "is " : "", what);
}

int aofManifestRead(const char *path, aofManifestEntry *files, int *count, char *err,
                    size_t errcap, char *detail, size_t detailcap) {
    *count = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        describe(path, FAIL_OPEN, 0, NULL, errno, err, errcap, detail, detailcap);
        return -1;
    }
    char line[MANIFEST_LINE_MAX + 1];
    int lineNo = 0, bad, fail = -1, readErrno = 0, got;
    while ((got = readLine(fp, line, sizeof(line), &bad)) != 0) {
        if (got == -1) {
            readErrno = errno;
            fail = FAIL_READ;
            break;
        }
        lineNo++;
        if (!bad && (line[0] == '\0' || line[0] == '#')) continue;
        aofManifestEntry e;
        if (bad || parseLine(line, &e) == -1) {
            fail = FAIL_LINE;
            break;
        }
        if (*count == AOF_MANIFEST_MAX_FILES) {
            fail = FAIL_TOO_MANY;
            break;
        }
        files[(*count)++] = e;
    }
    fclose(fp);
    if (fail == -1 && *count == 0) fail = FAIL_EMPTY;
    if (fail == -1) return 0;
    describe(path, fail, lineNo, line, readErrno, err, errcap, detail, detailcap);
    return -1;
}

void aofManifestFormat(respBuf *out, const aofManifestEntry *files, int count) {
    for (int i = 0; i < count; i++) {
        char line[AOF_MANIFEST_NAME_MAX + 64];
        int n = snprintf(line, sizeof(line), "file %s seq %lld type %c\n",
                         files[i].name, files[i].seq, files[i].type);
        respBufAppend(out, line, (size_t)n);
    }
}
