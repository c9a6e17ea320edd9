/* respq-aof: checks, repairs, prints, measures and replays respq's append-only
 * files (docs/persistence.md, "respq-aof").
 *
 *   respq-aof check PATH                 is every frame and record sound?
 *   respq-aof fix PATH                   cut a torn tail (keeping a backup)
 *   respq-aof cat PATH [--text]          the decompressed RESP stream
 *   respq-aof stats PATH                 records by type, bytes, ratio, LSNs
 *   respq-aof replay PATH --host H --port P [--auth PASSWORD]
 *
 * PATH is one .lz4 file, or a directory holding respq.aof.manifest (or the
 * server's `dir`, above its appendonlydir): then every file the manifest names,
 * in its order.
 *
 * The tool owns no format of its own. Frames are walked and decoded with
 * aofframe.c and, in `check` and `fix`, every record is applied to a scratch
 * engine with aofrec.c: the very code the server loads with. So `check` passes
 * exactly the files the server would load, and what it calls a torn tail is what
 * the server would cut at start-up: a problem in the last frame of the last file,
 * with no intact frame anywhere after it. A frame whose checksums hold but whose
 * records are wrong was written whole, so it is damage, never a torn tail.
 *
 * Every command is the same scan (scanFile): read a file whole, walk its frames,
 * decode each, split it into records and check them, then hand the good frame to
 * the command (cat writes it, replay sends its records, stats counts). A frame is
 * checked entirely before any of it is handed on, so a command never emits half a
 * frame. Whole files in memory cost what the server's loader costs (it does the
 * same); the scratch engine of `check` holds the whole state, as the server would.
 *
 * Exit status: 0 all is well, 1 damage or a failure (every message names the
 * file), 2 a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aofframe.h"
#include "aofmanifest.h"
#include "aofrec.h"
#include "mem.h"
#include "resp.h"

#define MANIFEST_SUBDIR "appendonlydir" /* the default appenddirname */

#define REPLAY_WINDOW 1000   /* commands in flight: enough to hide a LAN round trip */
#define REPLAY_SHOW_ERRORS 5 /* refused records printed in full; the rest counted */
#define REPLAY_TIMEOUT_S 120 /* a reply that takes longer means a stuck server */

enum { EXIT_DAMAGE = 1, EXIT_USAGE = 2 };

/* ---- Record types (docs/persistence.md, "Records") ---- */

/* Arguments after the type, format version 1. The order is the table's, which is
 * also the order `stats` prints. */
static const struct {
    const char *name;
    int args;
} recordTypes[] = {
    {"HEADER", 5}, {"QUEUE", 13}, {"COUNTERS", 6}, {"DROP", 1},  {"PURGE", 1},
    {"SEND", 15},  {"MSG", 15},   {"LEASE", 6},    {"STATE", 4}, {"DEL", 2},
    {"EXPIRE", 2}, {"MOVE", 12},  {"DEDUP", 4},
};
#define NTYPES ((int)(sizeof(recordTypes) / sizeof(recordTypes[0])))
#define TYPE_HEADER 0

/* ---- Small helpers ---- */

/* Writes p[0..n) into out (cap > 4) for a message: printable ASCII as is, other
 * bytes as \xNN, cut with "..." past about 40 bytes, since what it shows may be
 * garbage from a damaged file. */
static void reprShort(char *out, size_t cap, const char *p, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (o + 8 >= cap || i == 40) {
            memcpy(out + o, "...", 4);
            return;
        }
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

/* A canonical decimal (no sign, no leading zero), as the loader reads an LSN or a
 * format version (aofrec.c). 0, or -1. */
static int parseU64(const char *p, size_t n, uint64_t *out) {
    if (n == 0 || n > 20 || (p[0] == '0' && n > 1)) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The loader's rules for comparing (aofrecApply): a record type and the HEADER
 * magic must be exactly as written (argIs); the command name, QREPLAY, may be in
 * any case, as any command's (argIsNoCase). */
static int argIs(const respArg *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && memcmp(a->ptr, s, n) == 0;
}

static int argIsNoCase(const respArg *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->ptr, s, n) == 0;
}

/* The index in recordTypes of the type a names, or -1. */
static int recordTypeOf(const respArg *a) {
    for (int t = 0; t < NTYPES; t++)
        if (argIs(a, recordTypes[t].name)) return t;
    return -1;
}

static double monotonicSec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int writeAll(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- The files to read ---- */

typedef struct aofInput {
    char *paths[AOF_MANIFEST_MAX_FILES]; /* owned: each file's path, in replay order */
    int count;
} aofInput;

static void inputFree(aofInput *in) {
    for (int i = 0; i < in->count; i++)
        memFree(in->paths[i]);
    in->count = 0;
}

/* Reads the manifest at `path` (in directory dir) into in, with the server's
 * parser (aofmanifest.c), so a manifest the server refuses is refused here for the
 * same reason. 0, or -1 after saying why, naming the manifest and the line. */
static int readManifest(const char *dir, const char *path, aofInput *in) {
    aofManifestEntry files[AOF_MANIFEST_MAX_FILES];
    int count;
    char why[4400]; /* a damaged line is quoted whole */
    if (aofManifestRead(path, files, &count, NULL, 0, why, sizeof(why)) == -1) {
        fprintf(stderr, "respq-aof: %s: %s\n", path, why);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        size_t cap = strlen(dir) + 1 + strlen(files[i].name) + 1;
        char *p = memAlloc(cap);
        snprintf(p, cap, "%s/%s", dir, files[i].name);
        in->paths[in->count++] = p;
    }
    return 0;
}

static int isFile(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Resolves what the user named: a file is itself (and counts as the last file, so
 * its last frame may be a torn tail); a directory is its manifest's files, or
 * those of its appendonlydir. 0, or -1 after saying why. */
static int inputResolve(const char *arg, aofInput *in) {
    memset(in, 0, sizeof(*in));
    struct stat st;
    if (stat(arg, &st) == -1) {
        fprintf(stderr, "respq-aof: %s: %s\n", arg, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        in->paths[in->count++] = memStrdup(arg);
        return 0;
    }
    size_t cap = strlen(arg) + sizeof(MANIFEST_SUBDIR) + sizeof(AOF_MANIFEST_NAME) + 4;
    char *dir = memAlloc(cap), *manifest = memAlloc(cap);
    snprintf(dir, cap, "%s", arg);
    snprintf(manifest, cap, "%s/%s", dir, AOF_MANIFEST_NAME);
    if (!isFile(manifest)) {
        snprintf(dir, cap, "%s/%s", arg, MANIFEST_SUBDIR);
        snprintf(manifest, cap, "%s/%s", dir, AOF_MANIFEST_NAME);
    }
    int rc = 0;
    if (!isFile(manifest)) {
        fprintf(stderr,
                "respq-aof: %s: no %s in this directory (nor in its %s/): not an AOF "
                "directory\n",
                arg, AOF_MANIFEST_NAME, MANIFEST_SUBDIR);
        rc = -1;
    } else {
        rc = readManifest(dir, manifest, in);
    }
    memFree(dir);
    memFree(manifest);
    return rc;
}

/* ---- The scan: frames and records of one file ---- */

enum {
    PROBLEM_NONE = 0,
    PROBLEM_TORN,   /* in the last frame of the last file: the server cuts it */
    PROBLEM_DAMAGE, /* anywhere else, or records in a whole frame: the server stops */
    PROBLEM_READ    /* the file cannot be read at all */
};

typedef struct fileScan {
    const char *path;  /* borrowed from the aofInput */
    int isLast;        /* the last file: its last frame may be a torn tail */
    size_t size;       /* bytes in the file */
    long long frames;  /* intact frames */
    long long records; /* records in them */
    size_t plainBytes; /* their decompressed bytes */
    size_t goodEnd;    /* where the last intact frame ends: all before is good */
    int problem;       /* PROBLEM_* */
    size_t problemOff; /* offset of the frame with the problem */
    char what[640];    /* what is wrong with it */
    int wholeFrame;    /* the problem frame's checksums held (records wrong) */
    int hasNext;       /* damage: an intact frame starts after it... */
    size_t nextIntact; /* ...at this offset */
    int firstType;     /* type of the file's first record, -1 before it */
} fileScan;

typedef struct scanCtx scanCtx;
struct scanCtx {
    engine *eng;              /* owned, or NULL: check and fix apply every record
                                 here, as the server's loader does */
    long long byType[NTYPES]; /* records of each type */
    uint64_t minLsn, maxLsn;
    int haveLsn;
    /* What the command does with a checked frame: each record, then the frame.
     * Either may be NULL; -1 stops the scan (the hook has said why). */
    int (*onRecord)(scanCtx *s, fileScan *f, size_t off, int argc, const respArg *argv);
    int (*onFrame)(scanCtx *s, fileScan *f, size_t off, size_t end, const char *plain,
                   size_t len);
    void *user;    /* borrowed: the command's state */
    respBuf plain; /* owned: the frame being looked at, decompressed */
};

/* Checks one record's shape: QREPLAY <lsn> <TYPE> with the arguments format
 * version 1 gives that type, by the loader's rules (aofrecApply), so that what
 * `cat`, `stats` and `replay` accept is what a starting server accepts (`check`
 * and `fix` then apply the record with aofrecApply itself). Sets *type and *lsn.
 * 0, or -1 with err set. */
static int recordCheck(int argc, const respArg *argv, int *type, uint64_t *lsn,
                       char *err, size_t cap) {
    char shown[200];
    if (argc < 3 || !argIsNoCase(&argv[0], "QREPLAY")) {
        reprShort(shown, sizeof(shown), argv[0].ptr, argv[0].len);
        snprintf(err, cap,
                 "a record is '%s' with %d arguments, not QREPLAY <lsn> "
                 "<TYPE> ...",
                 shown, argc - 1);
        return -1;
    }
    if (parseU64(argv[1].ptr, argv[1].len, lsn) == -1) {
        reprShort(shown, sizeof(shown), argv[1].ptr, argv[1].len);
        snprintf(err, cap, "a record's LSN '%s' is not a plain decimal number", shown);
        return -1;
    }
    *type = recordTypeOf(&argv[2]);
    if (*type == -1) {
        const char *like = NULL;
        for (int t = 0; t < NTYPES; t++)
            if (argIsNoCase(&argv[2], recordTypes[t].name)) like = recordTypes[t].name;
        reprShort(shown, sizeof(shown), argv[2].ptr, argv[2].len);
        int n = snprintf(err, cap, "record LSN %llu has an unknown type '%s'",
                         (unsigned long long)*lsn, shown);
        if (like && n > 0 && (size_t)n < cap)
            snprintf(err + n, cap - (size_t)n,
                     " (the server reads only '%s', in capitals)", like);
        return -1;
    }
    int want = recordTypes[*type].args;
    if (argc - 3 != want) {
        snprintf(err, cap,
                 "record LSN %llu (%s) has %d arguments after its type; "
                 "format version %d gives it %d",
                 (unsigned long long)*lsn, recordTypes[*type].name, argc - 3,
                 AOF_FORMAT_VERSION, want);
        return -1;
    }
    if (*type == TYPE_HEADER) {
        uint64_t version;
        if (!argIs(&argv[3], AOF_MAGIC)) {
            reprShort(shown, sizeof(shown), argv[3].ptr, argv[3].len);
            snprintf(err, cap, "HEADER record LSN %llu has the magic '%s', not '%s'",
                     (unsigned long long)*lsn, shown, AOF_MAGIC);
            return -1;
        }
        if (parseU64(argv[4].ptr, argv[4].len, &version) == -1 ||
            version != AOF_FORMAT_VERSION) {
            reprShort(shown, sizeof(shown), argv[4].ptr, argv[4].len);
            snprintf(err, cap,
                     "HEADER record LSN %llu is of format version '%s'; "
                     "this respq-aof reads version %d",
                     (unsigned long long)*lsn, shown, AOF_FORMAT_VERSION);
            return -1;
        }
    }
    return 0;
}

/* Splits the decoded frame s->plain into records and checks each (and applies it
 * to s->eng). With emit, hands each record to s->onRecord instead, which is only
 * done for a frame already checked. Counts into f and s when counting. 0, or -1
 * with err set (or the hook's -1 when emitting). */
static int frameRecords(scanCtx *s, fileScan *f, size_t off, int emit, char *err,
                        size_t cap) {
    const char *data = s->plain.data ? s->plain.data : "";
    size_t len = s->plain.len, pos = 0;
    respParser parser;
    respParserInit(&parser);
    parser.maxBulkLen =
        (long long)len; /* as the loader: no record outgrows its frame */
    long long n = 0;
    int rc = 0;
    while (pos < len && rc == 0) {
        size_t used = 0;
        int r = respParse(&parser, data + pos, len - pos, &used);
        if (r == RESP_EMPTY) {
            pos += used;
            continue;
        }
        n++;
        if (r != RESP_OK) {
            snprintf(err, cap,
                     "record %lld of the frame is not a complete RESP "
                     "command (%s)",
                     n, r == RESP_ERROR ? parser.err : "cut short");
            rc = -1;
            break;
        }
        pos += used;
        if (emit) {
            rc = s->onRecord(s, f, off, parser.argc, parser.argv);
            continue;
        }
        int type;
        uint64_t lsn;
        if (recordCheck(parser.argc, parser.argv, &type, &lsn, err, cap) == -1) {
            rc = -1;
            break;
        }
        if (s->eng) {
            char why[400];
            uint64_t applied;
            if (aofrecApply(s->eng, parser.argc, parser.argv, &applied, why,
                            sizeof(why)) == -1) {
                snprintf(err, cap, "record LSN %llu (%s) does not apply: %s",
                         (unsigned long long)lsn, recordTypes[type].name, why);
                rc = -1;
                break;
            }
        }
        if (f->firstType == -1) f->firstType = type;
        s->byType[type]++;
        if (!s->haveLsn || lsn < s->minLsn) s->minLsn = lsn;
        if (!s->haveLsn || lsn > s->maxLsn) s->maxLsn = lsn;
        s->haveLsn = 1;
        f->records++;
    }
    respParserFree(&parser);
    return rc;
}

/* Scans the file f->path up to its first problem, handing every checked frame to
 * the hooks. Fills f. 0 (f->problem says how it ended), or -1 when a hook stopped
 * the scan. */
static int scanFile(scanCtx *s, fileScan *f) {
    unsigned char *data;
    size_t len;
    f->firstType = -1;
    if (aofReadWholeFile(f->path, &data, &len) == -1) {
        f->problem = PROBLEM_READ;
        snprintf(f->what, sizeof(f->what), "cannot read: %s", strerror(errno));
        return 0;
    }
    f->size = len;
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        size_t end = 0;
        int walk = aofFrameWalk(data, len, off, &end);
        s->plain.len = 0;
        if (walk == AOF_FRAME_TRUNCATED) {
            snprintf(f->what, sizeof(f->what),
                     "the file ends inside an LZ4 frame, after %zu of its bytes",
                     len - off);
        } else if (walk == AOF_FRAME_BAD) {
            snprintf(f->what, sizeof(f->what),
                     "not an LZ4 frame (bad magic, header or block size)");
        } else if (aofFrameDecode(data, off, end, &s->plain, f->what,
                                  sizeof(f->what)) == 0) {
            if (frameRecords(s, f, off, 0, f->what, sizeof(f->what)) == -1) {
                /* The checksums hold, so the frame was written whole: its records
                 * are wrong, which no cut repairs. */
                f->problem = PROBLEM_DAMAGE;
                f->wholeFrame = 1;
                f->problemOff = off;
                break;
            }
            if (s->onRecord &&
                frameRecords(s, f, off, 1, f->what, sizeof(f->what)) == -1) {
                rc = -1;
                break;
            }
            if (s->onFrame &&
                s->onFrame(s, f, off, end, s->plain.data ? s->plain.data : "",
                           s->plain.len) == -1) {
                rc = -1;
                break;
            }
            f->frames++;
            f->plainBytes += s->plain.len;
            f->goodEnd = off = end;
            continue;
        }
        /* A frame that does not walk or decode: the server's rule decides. */
        f->problemOff = off;
        size_t next = aofFrameNextIntact(data, len, off);
        if (f->isLast && !next) {
            f->problem = PROBLEM_TORN;
        } else {
            f->problem = PROBLEM_DAMAGE;
            f->nextIntact = next;
            f->hasNext = next != 0;
        }
        break;
    }
    memFree(data);
    return rc;
}

static void scanInit(scanCtx *s, int withEngine) {
    memset(s, 0, sizeof(*s));
    if (withEngine) s->eng = engineCreate(0, (int64_t)time(NULL) * 1000);
}

static void scanFree(scanCtx *s) {
    if (s->eng) engineFree(s->eng);
    respBufFree(&s->plain);
}

/* Prints the problem of f (if any) to stderr, with what can be done about it. */
static void problemReport(const fileScan *f, const char *cmd) {
    if (f->problem == PROBLEM_NONE) return;
    if (f->problem == PROBLEM_READ) {
        fprintf(stderr, "respq-aof %s: %s: %s\n", cmd, f->path, f->what);
        return;
    }
    fprintf(stderr, "respq-aof %s: %s: bad frame at offset %zu: %s\n", cmd, f->path,
            f->problemOff, f->what);
    if (f->problem == PROBLEM_TORN) {
        fprintf(stderr,
                "respq-aof %s: %s: this is a torn tail (%zu bytes from offset %zu, no "
                "intact frame after it): 'respq-aof fix' cuts it off, as the server "
                "does at start-up with aof-load-truncated yes\n",
                cmd, f->path, f->size - f->problemOff, f->problemOff);
        return;
    }
    const char *why;
    char buf[160];
    if (f->wholeFrame) {
        why = "the frame's checksums hold, so it was written whole and its records "
              "are wrong";
    } else if (f->hasNext) {
        snprintf(buf, sizeof(buf), "an intact frame follows at offset %zu",
                 f->nextIntact);
        why = buf;
    } else {
        why = "it is not in the last file of the manifest";
    }
    fprintf(stderr,
            "respq-aof %s: %s: this is not a torn tail (%s): 'respq-aof fix' cannot "
            "repair it and the server will not start; restore the file from a backup\n",
            cmd, f->path, why);
}

/* Scans every file of in, in order, with the hooks of s. The last file is the only
 * one whose last frame may be a torn tail. Stops at the first problem unless
 * keepGoing (check reports every file). Fills scans[]. Returns the number of files
 * scanned, or -1 when a hook stopped the scan. */
static int scanAll(scanCtx *s, const aofInput *in, fileScan *scans, int keepGoing) {
    int done = 0;
    for (int i = 0; i < in->count; i++) {
        fileScan *f = &scans[i];
        memset(f, 0, sizeof(*f));
        f->path = in->paths[i];
        f->isLast = i == in->count - 1;
        if (scanFile(s, f) == -1) return -1;
        done++;
        if (f->problem != PROBLEM_NONE && !keepGoing) break;
    }
    return done;
}

/* The worst problem among scans[0..n): PROBLEM_NONE, _TORN or _DAMAGE (a file that
 * cannot be read counts as damage). */
static int worstProblem(const fileScan *scans, int n, const fileScan **which) {
    int worst = PROBLEM_NONE;
    *which = NULL;
    for (int i = 0; i < n; i++) {
        int p = scans[i].problem == PROBLEM_READ ? PROBLEM_DAMAGE : scans[i].problem;
        if (p > worst) {
            worst = p;
            *which = &scans[i];
        }
    }
    return worst;
}

/* ---- check ---- */

static int checkCommand(const aofInput *in) {
    scanCtx s;
    scanInit(&s, 1);
    fileScan scans[AOF_MANIFEST_MAX_FILES];
    int n = scanAll(&s, in, scans, 1);
    long long frames = 0, records = 0;
    for (int i = 0; i < n; i++) {
        const fileScan *f = &scans[i];
        frames += f->frames;
        records += f->records;
        if (f->problem == PROBLEM_READ) {
            problemReport(f, "check");
            continue;
        }
        printf("%s: %lld frames, %lld records, %zu bytes (%zu decompressed), last good "
               "offset %zu: %s\n",
               f->path, f->frames, f->records, f->size, f->plainBytes, f->goodEnd,
               f->problem == PROBLEM_NONE   ? "ok"
               : f->problem == PROBLEM_TORN ? "torn tail"
                                            : "damaged");
        if (f->problem == PROBLEM_NONE && f->records > 0 && f->firstType != TYPE_HEADER)
            printf("%s: note: the first record is %s, not HEADER (the server appends "
                   "to a file whose header frame was cut as a torn tail)\n",
                   f->path, recordTypes[f->firstType].name);
        fflush(stdout);
        problemReport(f, "check");
    }
    const fileScan *bad;
    int worst = worstProblem(scans, n, &bad);
    printf("%d file%s, %lld frames, %lld records: %s\n", n, n == 1 ? "" : "s", frames,
           records,
           worst == PROBLEM_NONE   ? "ok"
           : worst == PROBLEM_TORN ? "torn tail ('respq-aof fix' can cut it)"
                                   : "damaged ('respq-aof fix' cannot repair it)");
    scanFree(&s);
    return worst == PROBLEM_NONE ? 0 : EXIT_DAMAGE;
}

/* ---- fix ---- */

/* Copies data[0..len) to a new file next to path, named path.bak-<unixtime> (or
 * with -2, -3... if that exists), fsynced. The name goes into bak. 0 or -1. */
static int writeBackup(const char *path, const unsigned char *data, size_t len,
                       char *bak, size_t cap) {
    long long now = (long long)time(NULL);
    int fd = -1;
    for (int i = 1; i < 100 && fd == -1; i++) {
        if (i == 1)
            snprintf(bak, cap, "%s.bak-%lld", path, now);
        else
            snprintf(bak, cap, "%s.bak-%lld-%d", path, now, i);
        fd = open(bak, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd == -1 && errno != EEXIST) break;
    }
    if (fd == -1) return -1;
    if (writeAll(fd, data, len) == -1 || fsync(fd) == -1) {
        int saved = errno;
        close(fd);
        unlink(bak);
        errno = saved;
        return -1;
    }
    return close(fd);
}

static int fsyncPath(const char *path, int dir) {
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_WRONLY) | O_CLOEXEC);
    if (fd == -1) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int fixCommand(const aofInput *in) {
    scanCtx s;
    scanInit(&s, 1);
    fileScan scans[AOF_MANIFEST_MAX_FILES];
    int n = scanAll(&s, in, scans, 0);
    scanFree(&s);
    const fileScan *bad;
    int worst = worstProblem(scans, n, &bad);
    if (worst == PROBLEM_NONE) {
        printf("nothing to fix: %d file%s, every frame intact\n", n, n == 1 ? "" : "s");
        return 0;
    }
    if (worst == PROBLEM_DAMAGE) {
        problemReport(bad, "fix");
        fprintf(stderr,
                "respq-aof fix: %s: refused: fix only cuts a torn tail; nothing "
                "was changed\n",
                bad->path);
        return EXIT_DAMAGE;
    }

    /* A torn tail, necessarily in the last file: back it up whole, then cut. The
     * file is read again so that the backup is exactly what was there, and the cut
     * is refused if it changed since the scan (a server still writing it). */
    const char *path = bad->path;
    unsigned char *data = NULL;
    size_t len;
    char bak[4200];
    int rc = EXIT_DAMAGE;
    if (aofReadWholeFile(path, &data, &len) == -1) {
        fprintf(stderr, "respq-aof fix: %s: cannot read: %s\n", path, strerror(errno));
        goto cleanup;
    }
    if (len != bad->size) {
        fprintf(stderr,
                "respq-aof fix: %s: the file changed while it was checked (%zu "
                "bytes, now %zu): is a server writing it? Stop it first; nothing was "
                "changed\n",
                path, bad->size, len);
        goto cleanup;
    }
    if (writeBackup(path, data, len, bak, sizeof(bak)) == -1) {
        fprintf(stderr,
                "respq-aof fix: %s: cannot write the backup %s: %s; nothing was "
                "changed\n",
                path, bak, strerror(errno));
        goto cleanup;
    }
    if (truncate(path, (off_t)bad->problemOff) == -1 || fsyncPath(path, 0) == -1) {
        fprintf(stderr,
                "respq-aof fix: %s: cannot cut at offset %zu: %s (the backup "
                "is %s)\n",
                path, bad->problemOff, strerror(errno), bak);
        goto cleanup;
    }
    /* The backup's directory entry, so that a crash now cannot lose both. */
    char *dir = memStrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    fsyncPath(dir, 1);
    memFree(dir);
    printf("%s: cut %zu bytes at offset %zu (%s); the file before the cut is %s\n",
           path, len - bad->problemOff, bad->problemOff, bad->what, bak);
    rc = 0;
cleanup:
    memFree(data);
    return rc;
}

/* ---- cat ---- */

/* Writes one argument for --text: bare when it is non-empty printable ASCII with no
 * space, quote or backslash; otherwise in double quotes, with \" \\ and every
 * non-printable byte as \xNN, so that a line always reads back unambiguously. */
static void textArg(FILE *out, const char *p, size_t n) {
    int bare = n > 0;
    for (size_t i = 0; i < n && bare; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\') bare = 0;
    }
    if (bare) {
        fwrite(p, 1, n, out);
        return;
    }
    putc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') {
            putc('\\', out);
            putc(c, out);
        } else if (c < ' ' || c >= 0x7f) {
            fprintf(out, "\\x%02x", c);
        } else {
            putc(c, out);
        }
    }
    putc('"', out);
}

static int catRecordText(scanCtx *s, fileScan *f, size_t off, int argc,
                         const respArg *argv) {
    (void)s;
    (void)f;
    (void)off;
    for (int i = 0; i < argc; i++) {
        if (i) putchar(' ');
        textArg(stdout, argv[i].ptr, argv[i].len);
    }
    putchar('\n');
    return ferror(stdout) ? -1 : 0;
}

static int catFrameRaw(scanCtx *s, fileScan *f, size_t off, size_t end,
                       const char *plain, size_t len) {
    (void)s;
    (void)f;
    (void)off;
    (void)end;
    return fwrite(plain, 1, len, stdout) == len ? 0 : -1;
}

/* After a scan that a command used: a torn tail is what the server would cut, so
 * it is a warning and everything before it counts; damage is an error. Returns the
 * exit status. */
static int scanVerdict(const fileScan *scans, int n, const char *cmd) {
    const fileScan *bad;
    int worst = worstProblem(scans, n, &bad);
    if (worst == PROBLEM_NONE) return 0;
    problemReport(bad, cmd);
    if (worst == PROBLEM_TORN) {
        fprintf(stderr,
                "respq-aof %s: %s: stopped at the torn tail (offset %zu); "
                "everything before it was used, as the server would load it\n",
                cmd, bad->path, bad->problemOff);
        return 0;
    }
    fprintf(stderr, "respq-aof %s: %s: stopped at offset %zu: the file is damaged\n",
            cmd, bad->path, bad->problemOff);
    return EXIT_DAMAGE;
}

static int catCommand(const aofInput *in, int text) {
    scanCtx s;
    scanInit(&s, 0);
    if (text)
        s.onRecord = catRecordText;
    else
        s.onFrame = catFrameRaw;
    fileScan scans[AOF_MANIFEST_MAX_FILES];
    int n = scanAll(&s, in, scans, 0);
    scanFree(&s);
    if (n == -1 || fflush(stdout) == EOF || ferror(stdout)) {
        fprintf(stderr, "respq-aof cat: writing to stdout: %s\n",
                errno ? strerror(errno) : "write error");
        return EXIT_DAMAGE;
    }
    return scanVerdict(scans, n, "cat");
}

/* ---- stats ---- */

static int statsCommand(const aofInput *in) {
    scanCtx s;
    scanInit(&s, 0);
    fileScan scans[AOF_MANIFEST_MAX_FILES];
    int n = scanAll(&s, in, scans, 0);
    long long frames = 0, records = 0;
    size_t packed = 0, plain = 0;
    for (int i = 0; i < n; i++) {
        frames += scans[i].frames;
        records += scans[i].records;
        packed += scans[i].goodEnd;
        plain += scans[i].plainBytes;
    }
    printf("files         %d\n", n);
    printf("frames        %lld\n", frames);
    printf("records       %lld\n", records);
    printf("compressed    %zu bytes\n", packed);
    printf("decompressed  %zu bytes\n", plain);
    if (packed)
        printf("ratio         %.2f\n", (double)plain / (double)packed);
    else
        printf("ratio         -\n");
    if (s.haveLsn)
        printf("lsn           %llu .. %llu\n", (unsigned long long)s.minLsn,
               (unsigned long long)s.maxLsn);
    else
        printf("lsn           -\n");
    printf("records by type\n");
    for (int t = 0; t < NTYPES; t++)
        printf("  %-10s  %lld\n", recordTypes[t].name, s.byType[t]);
    fflush(stdout);
    scanFree(&s);
    return scanVerdict(scans, n, "stats");
}

/* ---- replay ---- */

typedef struct inFlight {
    const char *path; /* borrowed: the file the record came from */
    size_t off;       /* its frame's offset */
    uint64_t lsn;
    int type;
} inFlight;

typedef struct replayState {
    redisContext *rc;  /* owned */
    char target[300];  /* host:port, for messages */
    int window;        /* commands in flight at most */
    inFlight *ring;    /* owned: window entries, the commands awaiting replies */
    int head, count;   /* oldest entry, entries in use */
    const char **args; /* owned: argv for hiredis, grown as needed */
    size_t *lens;      /* owned */
    int argsCap;
    long long sent, replied, refused;
    int lost;     /* the connection failed: stop */
    int progress; /* stderr is a terminal: draw a progress bar */
    size_t doneBytes, totalBytes;
    double lastDraw, started;
} replayState;

static void progressDraw(replayState *r, int force) {
    if (!r->progress) return;
    double now = monotonicSec();
    if (!force && now - r->lastDraw < 0.1) return;
    r->lastDraw = now;
    double frac = r->totalBytes ? (double)r->doneBytes / (double)r->totalBytes : 1.0;
    char bar[31];
    int fill = (int)(frac * 30.0);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3d%%  %lld records sent, %lld refused ", bar,
            (int)(frac * 100.0), r->sent, r->refused);
    fflush(stderr);
}

static void progressClear(replayState *r) {
    if (r->progress) fprintf(stderr, "\r%-79s\r", "");
}

/* Reads the reply of the oldest command in flight. 0, or -1 when the connection
 * failed (said, and r->lost set). */
static int replayReadOne(replayState *r) {
    redisReply *reply = NULL;
    inFlight *p = &r->ring[r->head];
    if (redisGetReply(r->rc, (void **)&reply) != REDIS_OK) {
        progressClear(r);
        fprintf(stderr,
                "respq-aof replay: %s: connection to %s lost while replaying "
                "(record LSN %llu): %s\n",
                p->path, r->target, (unsigned long long)p->lsn, r->rc->errstr);
        r->lost = 1;
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        if (++r->refused <= REPLAY_SHOW_ERRORS) {
            progressClear(r);
            fprintf(stderr,
                    "respq-aof replay: %s: record LSN %llu (%s) in the frame "
                    "at offset %zu refused: %.*s\n",
                    p->path, (unsigned long long)p->lsn, recordTypes[p->type].name,
                    p->off, (int)reply->len, reply->str);
        }
    }
    freeReplyObject(reply);
    r->replied++;
    r->head = (r->head + 1) % r->window;
    r->count--;
    return 0;
}

static int replayRecord(scanCtx *s, fileScan *f, size_t off, int argc,
                        const respArg *argv) {
    replayState *r = s->user;
    if (argc > r->argsCap) {
        r->argsCap = argc * 2;
        r->args = memRealloc(r->args, sizeof(*r->args) * (size_t)r->argsCap);
        r->lens = memRealloc(r->lens, sizeof(*r->lens) * (size_t)r->argsCap);
    }
    for (int i = 0; i < argc; i++) {
        r->args[i] = argv[i].ptr;
        r->lens[i] = argv[i].len;
    }
    if (r->count == r->window && replayReadOne(r) == -1) return -1;
    /* hiredis copies the arguments into its output buffer here, so the frame's
     * bytes they point into may go right after. */
    if (redisAppendCommandArgv(r->rc, argc, r->args, r->lens) != REDIS_OK) {
        fprintf(stderr, "respq-aof replay: %s: cannot queue a command for %s: %s\n",
                f->path, r->target, r->rc->errstr);
        r->lost = 1;
        return -1;
    }
    inFlight *p = &r->ring[(r->head + r->count) % r->window];
    p->path = f->path;
    p->off = off;
    parseU64(argv[1].ptr, argv[1].len, &p->lsn); /* checked already */
    p->type = recordTypeOf(&argv[2]);            /* checked already: a known type */
    r->count++;
    r->sent++;
    return 0;
}

static int replayFrame(scanCtx *s, fileScan *f, size_t off, size_t end,
                       const char *plain, size_t len) {
    (void)f;
    (void)off;
    (void)plain;
    (void)len;
    replayState *r = s->user;
    r->doneBytes += end - off;
    progressDraw(r, 0);
    return 0;
}

static int replayCommand(const aofInput *in, const char *host, int port,
                         const char *auth, int window) {
    /* A first pass checks every frame, so that a damaged file sends nothing rather
     * than leave the server with half of it. */
    scanCtx s;
    scanInit(&s, 0);
    fileScan scans[AOF_MANIFEST_MAX_FILES];
    int n = scanAll(&s, in, scans, 0);
    scanFree(&s);
    const fileScan *bad;
    if (worstProblem(scans, n, &bad) == PROBLEM_DAMAGE) {
        problemReport(bad, "replay");
        fprintf(stderr,
                "respq-aof replay: %s: refused: the file is damaged; nothing "
                "was sent\n",
                bad->path);
        return EXIT_DAMAGE;
    }

    replayState r;
    memset(&r, 0, sizeof(r));
    snprintf(r.target, sizeof(r.target), "%s:%d", host, port);
    r.window = window;
    for (int i = 0; i < n; i++)
        r.totalBytes += scans[i].goodEnd;
    r.progress = isatty(STDERR_FILENO);
    r.started = monotonicSec();
    struct timeval tv = {5, 0};
    r.rc = redisConnectWithTimeout(host, port, tv);
    if (!r.rc || r.rc->err) {
        fprintf(stderr, "respq-aof replay: cannot connect to %s: %s\n", r.target,
                r.rc ? r.rc->errstr : "out of memory");
        if (r.rc) redisFree(r.rc);
        return EXIT_DAMAGE;
    }
    tv.tv_sec = REPLAY_TIMEOUT_S;
    redisSetTimeout(r.rc, tv);
    if (auth) {
        redisReply *reply = redisCommand(r.rc, "AUTH %s", auth);
        int ok = reply && reply->type != REDIS_REPLY_ERROR;
        if (!ok)
            fprintf(stderr, "respq-aof replay: AUTH on %s failed: %s\n", r.target,
                    reply ? reply->str : r.rc->errstr);
        if (reply) freeReplyObject(reply);
        if (!ok) {
            redisFree(r.rc);
            return EXIT_DAMAGE;
        }
    }
    r.ring = memAlloc(sizeof(*r.ring) * (size_t)window);

    scanInit(&s, 0);
    s.onRecord = replayRecord;
    s.onFrame = replayFrame;
    s.user = &r;
    n = scanAll(&s, in, scans, 0);
    scanFree(&s);
    while (!r.lost && r.count > 0)
        replayReadOne(&r);
    progressDraw(&r, 1);
    progressClear(&r);

    int rc = r.lost ? EXIT_DAMAGE : scanVerdict(scans, n < 0 ? 0 : n, "replay");
    double secs = monotonicSec() - r.started;
    printf("replayed %lld records from %d file%s into %s in %.2f s: %lld accepted, "
           "%lld refused",
           r.replied, in->count, in->count == 1 ? "" : "s", r.target, secs,
           r.replied - r.refused, r.refused);
    if (r.lost)
        printf(" (connection lost: %lld records sent got no reply, the rest were not "
               "sent)",
               r.sent - r.replied);
    printf("\n");
    if (r.refused > REPLAY_SHOW_ERRORS)
        fprintf(stderr, "respq-aof replay: %lld more refused records not shown\n",
                r.refused - REPLAY_SHOW_ERRORS);
    if (r.refused > 0) rc = EXIT_DAMAGE;
    redisFree(r.rc);
    memFree(r.ring);
    memFree(r.args);
    memFree(r.lens);
    return rc;
}

/* ---- Command line ---- */

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: respq-aof check PATH\n"
        "       respq-aof fix PATH\n"
        "       respq-aof cat PATH [--text]\n"
        "       respq-aof stats PATH\n"
        "       respq-aof replay PATH [--host H] [--port P] [--auth PASSWORD] "
        "[--window N]\n"
        "\n"
        "PATH is an AOF directory (the one holding " AOF_MANIFEST_NAME ", or the\n"
        "server's dir above its " MANIFEST_SUBDIR "/), then every file of the "
        "manifest in\n"
        "order, or one .lz4 file of it (then treated as the last file).\n"
        "\n"
        "  check   walk, decompress and parse every frame and record, as the server\n"
        "          loads them; on damage, name the file and offset and say whether\n"
        "          it is a torn tail (the last frame of the last file) that fix cuts\n"
        "  fix     cut a torn tail off the last file, keeping the file as it was in\n"
        "          FILE.bak-<unixtime>; refuses damage that is not a torn tail.\n"
        "          Stop the server first\n"
        "  cat     the decompressed RESP stream on stdout (for redis-cli --pipe);\n"
        "          --text: one record a line, non-printable bytes as \\xNN\n"
        "  stats   records by type, frames, bytes, compression ratio, LSN range\n"
        "  replay  send every record to a running server, pipelined (N in flight,\n"
        "          default %d); defaults 127.0.0.1 and 6390; the password may also\n"
        "          come from $REDISCLI_AUTH\n"
        "\n"
        "Exit status: 0 all is well; 1 damage, a refused record or a failure (the\n"
        "message names the file); 2 a usage error.\n",
        REPLAY_WINDOW);
}

static int usageError(const char *fmt, const char *arg) {
    fprintf(stderr, "respq-aof: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(respq-aof --help for usage)\n");
    return EXIT_USAGE;
}

static int parseInt(const char *s, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1], *path = NULL, *host = "127.0.0.1";
    const char *auth = getenv("REDISCLI_AUTH");
    int port = 6390, window = REPLAY_WINDOW, text = 0;
    int isReplay = !strcmp(cmd, "replay");
    if (strcmp(cmd, "check") && strcmp(cmd, "fix") && strcmp(cmd, "cat") &&
        strcmp(cmd, "stats") && !isReplay)
        return usageError("unknown command '%s'", cmd);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int hasValue = i + 1 < argc;
        if (!strcmp(a, "--text") && !strcmp(cmd, "cat")) {
            text = 1;
        } else if (isReplay && !strcmp(a, "--host")) {
            if (!hasValue) return usageError("%s needs a value", a);
            host = argv[++i];
        } else if (isReplay && !strcmp(a, "--port")) {
            if (!hasValue || parseInt(argv[++i], 1, 65535, &port) == -1)
                return usageError("--port needs a port number (1-65535), not '%s'",
                                  hasValue ? argv[i] : "");
        } else if (isReplay && !strcmp(a, "--auth")) {
            if (!hasValue) return usageError("%s needs a value", a);
            auth = argv[++i];
        } else if (isReplay && !strcmp(a, "--window")) {
            if (!hasValue || parseInt(argv[++i], 1, 1000000, &window) == -1)
                return usageError("--window needs a number (1-1000000), not '%s'",
                                  hasValue ? argv[i] : "");
        } else if (a[0] == '-' && a[1] == '-') {
            return usageError("unknown option '%s' for this command", a);
        } else if (!path) {
            path = a;
        } else {
            return usageError("one PATH only: '%s' is one too many", a);
        }
    }
    if (!path) return usageError("%s needs a PATH (an AOF directory or file)", cmd);

    aofInput in;
    if (inputResolve(path, &in) == -1) return EXIT_DAMAGE;
    int rc;
    if (!strcmp(cmd, "check"))
        rc = checkCommand(&in);
    else if (!strcmp(cmd, "fix"))
        rc = fixCommand(&in);
    else if (!strcmp(cmd, "cat"))
        rc = catCommand(&in, text);
    else if (!strcmp(cmd, "stats"))
        rc = statsCommand(&in);
    else
        rc = replayCommand(&in, host, port, auth, window);
    inputFree(&in);
    return rc;
}
