/* test_aofmanifest.c: the AOF manifest parser and formatter (src/aofmanifest.c),
 * which the server's loader and respq-aof share.
 *
 * Each case writes a manifest into a temporary directory, reads it with
 * aofManifestRead and checks the entries, or, for a manifest that must be
 * refused, both messages word for word: the sentence the server logs and the
 * detail respq-aof prints after the path. Covered: good manifests (comments, blank
 * lines, no final newline, the 64-file limit), every way a line can be wrong
 * (keywords, names, seqs, types, extra words, over-long lines, NUL and control
 * bytes), too many files, no file, a missing manifest, one that cannot be read,
 * messages cut to small buffers, and the formatter read back.
 *
 *     make tests/unit/test_aofmanifest && ./tests/unit/test_aofmanifest
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aofmanifest.h"

#define FORM "'file <name> seq <n> type b|i'"

static char tmpDir[256];
static char manifestPath[512];

static int setupDir(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpDir, sizeof(tmpDir), "%s/test_aofmanifest.XXXXXX",
             base ? base : "/tmp");
    if (!mkdtemp(tmpDir)) return -1;
    snprintf(manifestPath, sizeof(manifestPath), "%s/%s", tmpDir, AOF_MANIFEST_NAME);
    return 0;
}

static int teardownDir(void **state) {
    (void)state;
    unlink(manifestPath);
    return rmdir(tmpDir);
}

/* Writes the manifest: len bytes of text (which may hold NULs). */
static void writeManifestBytes(const char *text, size_t len) {
    FILE *fp = fopen(manifestPath, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void writeManifest(const char *text) {
    writeManifestBytes(text, strlen(text));
}

typedef struct readResult {
    aofManifestEntry files[AOF_MANIFEST_MAX_FILES];
    int count;
    int rc;
    char err[8192];
    char detail[8192];
} readResult;

static readResult *readPath(const char *path) {
    static readResult r;
    memset(&r, 0, sizeof(r));
    r.rc = aofManifestRead(path, r.files, &r.count, r.err, sizeof(r.err), r.detail,
                           sizeof(r.detail));
    return &r;
}

static readResult *readIt(void) {
    return readPath(manifestPath);
}

static void expectEntry(const readResult *r, int i, const char *name, long long seq,
                        char type) {
    assert_true(i < r->count);
    assert_string_equal(r->files[i].name, name);
    assert_int_equal(r->files[i].seq, seq);
    assert_int_equal(r->files[i].type, type);
}

/* The manifest must be refused with this detail; the server's sentence is
 * "The AOF manifest <path> " then "is " for a damaged line, then the detail. */
static void expectRefused(const readResult *r, const char *detail) {
    char err[8192];
    int isLine = !strncmp(detail, "damaged at line ", 16);
    snprintf(err, sizeof(err), "The AOF manifest %s %s%s", manifestPath,
             isLine ? "is " : "", detail);
    assert_int_equal(r->rc, -1);
    assert_string_equal(r->detail, detail);
    assert_string_equal(r->err, err);
}

/* ---- Good manifests ---- */

static void test_good(void **state) {
    (void)state;
    writeManifest("file respq.aof.3.base.lz4 seq 3 type b\n"
                  "file respq.aof.3.incr.lz4 seq 3 type i\n"
                  "file respq.aof.4.incr.lz4 seq 4 type i\n");
    readResult *r = readIt();
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->count, 3);
    expectEntry(r, 0, "respq.aof.3.base.lz4", 3, 'b');
    expectEntry(r, 1, "respq.aof.3.incr.lz4", 3, 'i');
    expectEntry(r, 2, "respq.aof.4.incr.lz4", 4, 'i');
    assert_string_equal(r->err, "");
    assert_string_equal(r->detail, "");

    /* Messages are optional. */
    aofManifestEntry files[AOF_MANIFEST_MAX_FILES];
    int count = -1;
    assert_int_equal(aofManifestRead(manifestPath, files, &count, NULL, 0, NULL, 0), 0);
    assert_int_equal(count, 3);
}

static void test_comments_and_blank_lines(void **state) {
    (void)state;
    /* Comments, empty lines, CRLF line ends, tabs and runs of spaces between the
     * words (sscanf's white space, as the reader has always taken), no newline at
     * the end. */
    writeManifest("# written by hand\n"
                  "\n"
                  "file respq.aof.1.base.lz4 seq 1 type b\r\n"
                  "#file respq.aof.9.base.lz4 seq 9 type b\n"
                  "\n"
                  "file\trespq.aof.2.incr.lz4   seq  12\ttype i  \n"
                  "file respq.aof.x seq 5 type i");
    readResult *r = readIt();
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->count, 3);
    expectEntry(r, 0, "respq.aof.1.base.lz4", 1, 'b');
    expectEntry(r, 1, "respq.aof.2.incr.lz4", 12, 'i');
    expectEntry(r, 2, "respq.aof.x", 5, 'i');
}

static void test_64_files(void **state) {
    (void)state;
    char text[64 * 64] = "";
    for (int i = 1; i <= AOF_MANIFEST_MAX_FILES; i++) {
        char line[64];
        snprintf(line, sizeof(line), "file respq.aof.%d.incr.lz4 seq %d type i\n", i,
                 i);
        strcat(text, line);
    }
    writeManifest(text);
    readResult *r = readIt();
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->count, AOF_MANIFEST_MAX_FILES);
    expectEntry(r, 63, "respq.aof.64.incr.lz4", 64, 'i');
}

/* ---- Bad lines ---- */

static void test_bad_lines(void **state) {
    (void)state;
    /* A good line, then the bad one: line 2. */
    static const char *bad[] = {
        /* keywords */
        "name respq.aof.1.base.lz4 seq 1 type b",
        "file respq.aof.1.base.lz4 sequence 1 type b",
        "file respq.aof.1.base.lz4 seq 1 kind b",
        "FILE respq.aof.1.base.lz4 seq 1 type b",
        " file respq.aof.1.base.lz4 seq 1 type b",
        /* missing and extra words */
        "file",
        "file respq.aof.1.base.lz4",
        "file respq.aof.1.base.lz4 seq 1",
        "file respq.aof.1.base.lz4 seq 1 type",
        "file respq.aof.1.base.lz4 seq 1 type b extra",
        "file respq.aof.1.base.lz4 seq 1 type b #",
        "   ",
        "\t",
        /* names */
        "file ../etc/passwd seq 1 type b",
        "file respq.aof.1/../../x seq 1 type b",
        "file other.aof.1.base.lz4 seq 1 type b",
        "file respq.aof seq 1 type b",
        "file /respq.aof.1.base.lz4 seq 1 type b",
        "file respq.aof.123456789012345678901234567890123456789012345678901234 seq 1 "
        "type b", /* 64 bytes: one too many */
        /* seqs */
        "file respq.aof.1.base.lz4 seq 0 type b",
        "file respq.aof.1.base.lz4 seq -3 type b",
        "file respq.aof.1.base.lz4 seq x type b",
        "file respq.aof.1.base.lz4 seq 0x10 type b",
        "file respq.aof.1.base.lz4 seq 1.5 type b",
        /* types */
        "file respq.aof.1.base.lz4 seq 1 type x",
        "file respq.aof.1.base.lz4 seq 1 type B",
        "file respq.aof.1.base.lz4 seq 1 type I",
        "file respq.aof.1.base.lz4 seq 1 type bi",
        "file respq.aof.1.base.lz4 seq 1 type base",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[512], detail[1024];
        snprintf(text, sizeof(text), "file respq.aof.1.base.lz4 seq 1 type b\n%s\n",
                 bad[i]);
        writeManifest(text);
        readResult *r = readIt();
        char shown[512];
        snprintf(shown, sizeof(shown), "%s", bad[i]);
        if (!strcmp(bad[i], "\t")) snprintf(shown, sizeof(shown), "\\x09");
        snprintf(detail, sizeof(detail), "damaged at line 2: '%s' is not " FORM, shown);
        expectRefused(r, detail);
    }
    /* A name of 63 bytes is the longest. */
    writeManifest(
        "file respq.aof.12345678901234567890123456789012345678901234567890123 seq 1 "
        "type b\n");
    readResult *r = readIt();
    assert_int_equal(r->rc, 0);
    assert_int_equal(strlen(r->files[0].name), AOF_MANIFEST_NAME_MAX - 1);
}

static void test_line_numbers_count_comments(void **state) {
    (void)state;
    writeManifest("# one\n"
                  "\n"
                  "file respq.aof.1.base.lz4 seq 1 type b\n"
                  "# four\n"
                  "file respq.aof.1.incr.lz4 seq one type i\n"
                  "file respq.aof.2.incr.lz4 seq 2 type i\n");
    expectRefused(readIt(),
                  "damaged at line 5: 'file respq.aof.1.incr.lz4 seq one type "
                  "i' is not " FORM);
    /* The first bad line is the one named. */
    writeManifest("bad one\nbad two\n");
    expectRefused(readIt(), "damaged at line 1: 'bad one' is not " FORM);
}

static void test_control_and_nul_bytes(void **state) {
    (void)state;
    /* Control bytes are shown as \xNN. */
    writeManifest("file respq.aof.1.base.lz4 seq 1 type \x01\n");
    expectRefused(
        readIt(),
        "damaged at line 1: 'file respq.aof.1.base.lz4 seq 1 type \\x01' is not " FORM);
    writeManifest("file respq.aof.1.base.lz4 seq 1 type b\r\r\n");
    readResult *r = readIt();
    assert_int_equal(r->rc, 0); /* trailing white space, as before */
    writeManifest("\r\n");
    expectRefused(readIt(), "damaged at line 1: '\\x0d' is not " FORM);

    /* A NUL byte: the line is refused whole (sscanf would stop at it and take the
     * good words before it), and shown with a space for the NUL. */
    static const char withNul[] = "file respq.aof.1.base.lz4 seq 1 type b\0junk\n";
    writeManifestBytes(withNul, sizeof(withNul) - 1);
    expectRefused(readIt(),
                  "damaged at line 1: 'file respq.aof.1.base.lz4 seq 1 type b "
                  "junk' is not " FORM);
}

static void test_long_lines(void **state) {
    (void)state;
    /* 1024 bytes is the longest line: here a good line padded with spaces. */
    char text[4096];
    const char *good = "file respq.aof.1.base.lz4 seq 1 type b";
    snprintf(text, sizeof(text), "%-1024s\n", good);
    writeManifest(text);
    readResult *r = readIt();
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->count, 1);

    /* One byte more is a damaged line, shown cut at 1024 bytes, and the line after
     * it keeps its own number (fgets would have split the long line in two: a
     * good entry from its first 1023 bytes, then a second "line"). */
    char pad[2048];
    snprintf(pad, sizeof(pad), "%-1025s", good);
    snprintf(text, sizeof(text), "%s\nfile respq.aof.2.incr.lz4 seq 2 type i\n", pad);
    writeManifest(text);
    char detail[2048];
    snprintf(detail, sizeof(detail), "damaged at line 1: '%.1024s' is not " FORM, pad);
    expectRefused(readIt(), detail);

    /* A long line that would have split into two good entries. */
    snprintf(text, sizeof(text), "%-1023sfile respq.aof.2.incr.lz4 seq 2 type i\n",
             good);
    writeManifest(text);
    snprintf(detail, sizeof(detail), "damaged at line 1: '%.1024s' is not " FORM, text);
    expectRefused(readIt(), detail);
}

/* ---- Whole-manifest problems ---- */

static void test_too_many_files(void **state) {
    (void)state;
    char text[66 * 64] = "";
    for (int i = 1; i <= AOF_MANIFEST_MAX_FILES + 1; i++) {
        char line[64];
        snprintf(line, sizeof(line), "file respq.aof.%d.incr.lz4 seq %d type i\n", i,
                 i);
        strcat(text, line);
    }
    writeManifest(text);
    expectRefused(readIt(), "names more than 64 files");

    /* A bad 65th line is named as such, before the count is checked. */
    char *last = strstr(text, "file respq.aof.65.");
    snprintf(last, 64, "nonsense\n");
    writeManifest(text);
    expectRefused(readIt(), "damaged at line 65: 'nonsense' is not " FORM);
}

static void test_no_file(void **state) {
    (void)state;
    writeManifest("");
    expectRefused(readIt(), "names no file");
    writeManifest("# nothing here\n\n#\n");
    expectRefused(readIt(), "names no file");
}

static void test_missing_manifest(void **state) {
    (void)state;
    unlink(manifestPath);
    readResult *r = readIt();
    char err[1024];
    snprintf(err, sizeof(err),
             "Cannot open the AOF manifest %s: No such file or directory",
             manifestPath);
    assert_int_equal(r->rc, -1);
    assert_int_equal(r->count, 0);
    assert_string_equal(r->err, err);
    assert_string_equal(r->detail, "cannot open: No such file or directory");
}

static void test_unreadable_manifest(void **state) {
    (void)state;
    /* fopen takes a directory; reading it fails. */
    readResult *r = readPath(tmpDir);
    char err[1024];
    snprintf(err, sizeof(err), "Cannot read the AOF manifest %s: Is a directory",
             tmpDir);
    assert_int_equal(r->rc, -1);
    assert_string_equal(r->err, err);
    assert_string_equal(r->detail, "cannot read: Is a directory");
}

static void test_small_buffers(void **state) {
    (void)state;
    writeManifest("file respq.aof.1.base.lz4 seq 1 type q\n");
    aofManifestEntry files[AOF_MANIFEST_MAX_FILES];
    int count;
    char err[20], detail[9];
    memset(err, 'x', sizeof(err));
    memset(detail, 'x', sizeof(detail));
    assert_int_equal(aofManifestRead(manifestPath, files, &count, err, sizeof(err),
                                     detail, sizeof(detail)),
                     -1);
    char want[1024]; /* the whole message, then cut as err was */
    snprintf(want, sizeof(want), "The AOF manifest %s", manifestPath);
    want[sizeof(err) - 1] = '\0';
    assert_string_equal(err, want);
    assert_string_equal(detail, "damaged ");
}

/* ---- Names and the formatter ---- */

static void test_valid_names(void **state) {
    (void)state;
    assert_true(aofManifestValidName("respq.aof.1.base.lz4"));
    assert_true(aofManifestValidName("respq.aof.x"));
    assert_false(aofManifestValidName(""));
    assert_false(aofManifestValidName("respq.aof"));
    assert_false(aofManifestValidName("respq.aof./x"));
    assert_false(aofManifestValidName("../respq.aof.1.base.lz4"));
    assert_false(aofManifestValidName("RESPQ.AOF.1.base.lz4"));
    char name[80];
    memset(name, 'a', sizeof(name));
    memcpy(name, "respq.aof.", 10);
    name[AOF_MANIFEST_NAME_MAX - 1] = '\0';
    assert_true(aofManifestValidName(name));
    name[AOF_MANIFEST_NAME_MAX - 1] = 'a';
    name[AOF_MANIFEST_NAME_MAX] = '\0';
    assert_false(aofManifestValidName(name));
}

static void test_format_round_trip(void **state) {
    (void)state;
    aofManifestEntry files[3] = {
        {"respq.aof.7.base.lz4", 7, 'b'},
        {"respq.aof.7.incr.lz4", 7, 'i'},
        {"respq.aof.8.incr.lz4", 8, 'i'},
    };
    respBuf b = {0};
    aofManifestFormat(&b, files, 3);
    const char *want = "file respq.aof.7.base.lz4 seq 7 type b\n"
                       "file respq.aof.7.incr.lz4 seq 7 type i\n"
                       "file respq.aof.8.incr.lz4 seq 8 type i\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    writeManifestBytes(b.data, b.len);
    respBufFree(&b);
    readResult *r = readIt();
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->count, 3);
    for (int i = 0; i < 3; i++)
        expectEntry(r, i, files[i].name, files[i].seq, files[i].type);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_comments_and_blank_lines, setupDir,
                                        teardownDir),
        cmocka_unit_test_setup_teardown(test_64_files, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_bad_lines, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_line_numbers_count_comments, setupDir,
                                        teardownDir),
        cmocka_unit_test_setup_teardown(test_control_and_nul_bytes, setupDir,
                                        teardownDir),
        cmocka_unit_test_setup_teardown(test_long_lines, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_too_many_files, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_no_file, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_missing_manifest, setupDir, teardownDir),
        cmocka_unit_test_setup_teardown(test_unreadable_manifest, setupDir,
                                        teardownDir),
        cmocka_unit_test_setup_teardown(test_small_buffers, setupDir, teardownDir),
        cmocka_unit_test(test_valid_names),
        cmocka_unit_test_setup_teardown(test_format_round_trip, setupDir, teardownDir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
