/* aof.c: the server's append-only file: loading at start-up, one LZ4 frame per
 * event-loop turn, fsync per `appendfsync`, the durable-LSN barrier for replies,
 * rewrites in a forked child, and the manifest. docs/persistence.md specifies the
 * files and records; aofrec.c encodes and applies records; aofframe.c walks and
 * decodes frames.
 *
 * The write path. Engine effects are encoded into `turnBuf` as they happen, each
 * with the next LSN. Before the loop sleeps, aofBeforeSleep compresses the turn's
 * records into one frame, appends it to the current increment file and, under
 * `always`, fdatasyncs it: one fsync for every client of the turn (group commit).
 * Only then does net.c write replies, and it holds back the replies of any client
 * whose last change (c->waitLsn) is beyond aofDurableLsn(). Under `everysec` a
 * background thread fsyncs once a second, off the loop; a write that reached the
 * kernel counts as durable for acknowledgements, as in Redis.
 *
 * Failures are policy (docs/persistence.md): under `always` a failed write or
 * fsync ends the process before any owed reply is sent; otherwise the frame is
 * cut back off the file, state changes are refused with -MISCONF, and the cron
 * retries every second with the same bytes.
 *
 * Rewrites. The parent flushes, opens a new increment file (recorded in the
 * manifest at once, so that nothing written from then on can be lost), and forks.
 * The child writes the engine's state as of the fork into a temporary base, fsyncs
 * it and exits. The cron reaps it, renames the base into place, writes the manifest
 * [new base, new increment] and deletes the old files. A crash at any point leaves
 * a manifest naming files that load to the right state. aofmanifest.c parses and
 * formats the manifest's lines (respq-aof reads it with the same code); this file
 * decides what they name and replaces the manifest on disk.
 */
#include "aof.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aofframe.h"
#include "aofmanifest.h"
#include "aofrec.h"
#include "server.h"

static struct {
    int on;                  /* appendonly was yes at start-up */
    char dirPath[4096];      /* dir/appenddirname */
    aofManifestEntry files[AOF_MANIFEST_MAX_FILES];
    int fileCount;
    long long baseSeq, incrSeq;
    int fd;                  /* the current increment file, or -1 */
    off_t writeOffset;       /* fd's size, where the next frame starts; -1 until
                              * known (lseek once per file, not once per turn) */
    respBuf turnBuf;         /* records of this loop turn, not yet written */
    respBuf frameBuf;        /* the frame being written (kept for retries) */
    uint64_t lastLsn;        /* last LSN given to a record */
    uint64_t writtenLsn;     /* records up to here are in the kernel */
    uint64_t durableLsn;     /* records up to here may be acknowledged */
    long long baseSize, incrSize; /* bytes, for the rewrite trigger and INFO */
    char writeError[256];    /* "" when writes work */
    long long lastErrorLogMs;

    /* everysec fsync thread */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int threadStarted, fsyncWanted, threadStop;
    int fsyncFd;             /* guarded by lock */
    uint64_t fsyncLsn;       /* guarded by lock: writtenLsn when asked */
    uint64_t syncedLsn;      /* guarded by lock: fsynced up to here */
    int fsyncErrno;          /* guarded by lock */
    long long lastFsyncMs;

    /* rewrite */
    pid_t childPid;
    long long childBaseSeq;
    long long rewriteStartMs;
    int rewriteScheduled;
    long long lastRewriteSecs;
    long long lastRewriteEndMs;
    int lastRewriteOk;
} aof = {.fd = -1, .childPid = -1, .lastRewriteOk = 1, .lastRewriteSecs = -1};

/* ---- Paths and small helpers ---- */

static void pathOf(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", aof.dirPath, name);
}

static int fsyncDir(void) {
    int fd = open(aof.dirPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int writeAll(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static long long fileSize(const char *name) {
    char path[4200];
    pathOf(path, sizeof(path), name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- Manifest ---- */

/* Writes the manifest naming files[0..count) atomically: temporary file, fsync,
 * rename, fsync of the directory. */
static int writeManifest(const aofManifestEntry *files, int count) {
    char tmp[4200], path[4200];
    pathOf(tmp, sizeof(tmp), "temp-" AOF_MANIFEST_NAME);
    pathOf(path, sizeof(path), AOF_MANIFEST_NAME);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) goto fail;
    respBuf b = {0};
    aofManifestFormat(&b, files, count);
    int rc = writeAll(fd, b.data ? b.data : "", b.len);
    respBufFree(&b);
    if (rc == -1 || fsync(fd) == -1) {
        close(fd);
        goto fail;
    }
    close(fd);
    if (rename(tmp, path) == -1 || fsyncDir() == -1) goto fail;
    return 0;
fail:
    logMsg(LL_WARNING, "Writing the AOF manifest %s: %s", path, strerror(errno));
    return -1;
}

/* Reads the manifest into aof.files and the highest seq of each type. 0, or -1
 * (logged, naming the manifest and the line). */
static int readManifest(const char *path) {
    char err[1024]; /* what logMsg shows at most */
    if (aofManifestRead(path, aof.files, &aof.fileCount, err, sizeof(err), NULL, 0) ==
        -1) {
        logMsg(LL_WARNING, "%s", err);
        return -1;
    }
    for (int i = 0; i < aof.fileCount; i++) {
        const aofManifestEntry *f = &aof.files[i];
        if (f->type == 'b' && f->seq > aof.baseSeq) aof.baseSeq = f->seq;
        if (f->type == 'i' && f->seq > aof.incrSeq) aof.incrSeq = f->seq;
    }
    return 0;
}

/* ---- Files ---- */

/* Creates a new file holding one frame with a HEADER record. */
static int createFileWithHeader(const char *name, int keepOpen) {
    char path[4200];
    pathOf(path, sizeof(path), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd == -1) {
        logMsg(LL_WARNING, "Creating AOF file %s: %s", path, strerror(errno));
        return -1;
    }
    respBuf rec = {0}, frame = {0};
    aofrecEncodeHeader(&rec, aof.lastLsn, engineEpoch(server.engine),
                       engineNextSeq(server.engine), server.nowMs);
    int rc = aofFrameEncode(rec.data, rec.len, &frame);
    if (rc == 0) rc = writeAll(fd, frame.data, frame.len);
    if (rc == 0) rc = fsync(fd);
    respBufFree(&rec);
    respBufFree(&frame);
    if (rc == -1) {
        logMsg(LL_WARNING, "Writing AOF file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!keepOpen) {
        close(fd);
        return 0;
    }
    return fd;
}

static void incrName(char *out, size_t cap, long long seq) {
    snprintf(out, cap, "respq.aof.%lld.incr.lz4", seq);
}

static void baseName(char *out, size_t cap, long long seq) {
    snprintf(out, cap, "respq.aof.%lld.base.lz4", seq);
}

/* ---- Loading ---- */

/* Applies every record of one decoded frame. 0, or -1 with err set. */
static int applyFrame(const char *data, size_t len, char *err, size_t errcap) {
    respParser parser;
    respParserInit(&parser);
    parser.maxBulkLen = (long long)len;
    size_t pos = 0;
    int rc = 0;
    while (pos < len) {
        size_t used = 0;
        int r = respParse(&parser, data + pos, len - pos, &used);
        if (r == RESP_EMPTY) {
            pos += used;
            continue;
        }
        if (r != RESP_OK) {
            snprintf(err, errcap, "a record is not a complete RESP command (%s)",
                     r == RESP_ERROR ? parser.err : "cut short");
            rc = -1;
            break;
        }
        uint64_t lsn = 0;
        if (aofrecApply(server.engine, parser.argc, parser.argv, &lsn, err, errcap) ==
            -1) {
            rc = -1;
            break;
        }
        if (lsn > aof.lastLsn) aof.lastLsn = lsn;
        pos += used;
    }
    respParserFree(&parser);
    return rc;
}

/* Loads one file. A problem in the last frame of the last file (isLast) is a torn
 * tail: cut off when aof-load-truncated is yes. 0, or -1 (logged). */
static int loadFile(const aofManifestEntry *f, int isLast) {
    char path[4200];
    pathOf(path, sizeof(path), f->name);
    unsigned char *data;
    size_t len;
    if (aofReadWholeFile(path, &data, &len) == -1) {
        logMsg(LL_WARNING, "Cannot read AOF file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t off = 0;
    long long frames = 0;
    respBuf plain = {0};
    char err[512] = "";
    int rc = 0;
    while (off < len) {
        size_t end = 0;
        int walk = aofFrameWalk(data, len, off, &end);
        plain.len = 0;
        if (walk == AOF_FRAME_TRUNCATED) {
            snprintf(err, sizeof(err), "the file ends inside an LZ4 frame");
        } else if (walk == AOF_FRAME_BAD) {
            snprintf(err, sizeof(err), "no valid LZ4 frame header");
        } else if (aofFrameDecode(data, off, end, &plain, err, sizeof(err)) == 0) {
            char applyErr[400];
            if (applyFrame(plain.data ? plain.data : "", plain.len, applyErr,
                           sizeof(applyErr)) == -1) {
                /* A frame whose checksums hold was written whole: its records are
                 * wrong, not torn. */
                logMsg(LL_WARNING,
                       "AOF file %s is damaged at offset %zu: %s. Check it with "
                       "'respq-aof check %s'; 'respq-aof fix' cuts off a torn tail",
                       path, off, applyErr, path);
                rc = -1;
                break;
            }
            frames++;
            off = end;
            continue;
        }
        /* A problem at `off`: a torn tail if this is the last file and no intact
         * frame follows; damage otherwise. */
        if (isLast && !aofFrameNextIntact(data, len, off)) {
            if (!server.aofLoadTruncated) {
                logMsg(LL_WARNING,
                       "AOF file %s has a torn tail at offset %zu (%s) and "
                       "aof-load-truncated is no. Cut it with 'respq-aof fix %s'",
                       path, off, err, path);
                rc = -1;
                break;
            }
            if (truncate(path, (off_t)off) == -1) {
                logMsg(LL_WARNING, "Cannot cut the torn tail of %s at offset %zu: %s",
                       path, off, strerror(errno));
                rc = -1;
                break;
            }
            logMsg(LL_WARNING,
                   "AOF file %s: torn tail cut off at offset %zu (%zu bytes: %s); "
                   "the records in it were never acknowledged",
                   path, off, len - off, err);
            break;
        }
        logMsg(LL_WARNING,
               "AOF file %s is damaged at offset %zu: %s. Check it with "
               "'respq-aof check %s'; repair a copy with 'respq-aof fix' or restore "
               "it from a backup",
               path, off, err, path);
        rc = -1;
        break;
    }
    respBufFree(&plain);
    memFree(data);
    if (rc == 0)
        logMsg(LL_NOTICE, "Loaded AOF file %s: %lld frames", f->name, frames);
    return rc;
}

/* ---- The fsync thread (everysec) ---- */

static void *fsyncThread(void *arg) {
    (void)arg;
    pthread_mutex_lock(&aof.lock);
    for (;;) {
        while (!aof.fsyncWanted && !aof.threadStop) pthread_cond_wait(&aof.wake, &aof.lock);
        if (aof.threadStop) break;
        aof.fsyncWanted = 0;
        int fd = aof.fsyncFd;
        uint64_t lsn = aof.fsyncLsn;
        /* The lock is held across the fsync so that the main thread never closes
         * the fd under it (it takes the lock to switch files). */
        int rc = fd == -1 ? 0 : fdatasync(fd);
        if (rc == -1)
            aof.fsyncErrno = errno;
        else if (lsn > aof.syncedLsn)
            aof.syncedLsn = lsn;
    }
    pthread_mutex_unlock(&aof.lock);
    return NULL;
}

static void startFsyncThread(void) {
    pthread_mutex_init(&aof.lock, NULL);
    pthread_cond_init(&aof.wake, NULL);
    if (pthread_create(&aof.thread, NULL, fsyncThread, NULL) == 0)
        aof.threadStarted = 1;
    else
        logMsg(LL_WARNING, "Cannot start the fsync thread: fsync runs in the loop");
}

/* Switches the writer to fd (closing the old one after an fsync). */
static void switchFd(int fd) {
    if (aof.threadStarted) pthread_mutex_lock(&aof.lock);
    if (aof.fd != -1) {
        fdatasync(aof.fd);
        close(aof.fd);
    }
    aof.fd = fd;
    aof.writeOffset = -1;
    aof.fsyncFd = fd;
    if (aof.threadStarted) pthread_mutex_unlock(&aof.lock);
}

/* ---- Start-up ---- */

static int dirExists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int aofStart(void) {
    snprintf(aof.dirPath, sizeof(aof.dirPath), "%s", server.appendDirName);
    char manifest[4200];
    pathOf(manifest, sizeof(manifest), AOF_MANIFEST_NAME);
    struct stat st;
    if (!server.appendOnly) {
        if (stat(manifest, &st) == 0)
            logMsg(LL_WARNING,
                   "appendonly is no: the AOF files in %s are being ignored (nothing "
                   "is read from them or written to them)",
                   aof.dirPath);
        return 0;
    }
    aof.on = 1;
    if (!dirExists(aof.dirPath) && mkdir(aof.dirPath, 0755) == -1) {
        logMsg(LL_WARNING, "Cannot create the AOF directory %s: %s", aof.dirPath,
               strerror(errno));
        return -1;
    }
    if (stat(manifest, &st) == -1) {
        /* A new data directory: a base holding only a header, and an increment. */
        aof.baseSeq = aof.incrSeq = 1;
        aof.fileCount = 2;
        baseName(aof.files[0].name, sizeof(aof.files[0].name), 1);
        aof.files[0].seq = 1;
        aof.files[0].type = 'b';
        incrName(aof.files[1].name, sizeof(aof.files[1].name), 1);
        aof.files[1].seq = 1;
        aof.files[1].type = 'i';
        if (createFileWithHeader(aof.files[0].name, 0) == -1) return -1;
        int fd = createFileWithHeader(aof.files[1].name, 1);
        if (fd == -1) return -1;
        if (writeManifest(aof.files, aof.fileCount) == -1) return -1;
        aof.fd = fd;
        logMsg(LL_NOTICE, "Created a new append-only file in %s", aof.dirPath);
    } else {
        if (readManifest(manifest) == -1) return -1;
        long long start = monotonicUs();
        for (int i = 0; i < aof.fileCount; i++)
            if (loadFile(&aof.files[i], i == aof.fileCount - 1) == -1) return -1;
        engineReplayDone(server.engine);
        logMsg(LL_NOTICE, "AOF loaded: %zu queues, last LSN %llu, in %.3f s",
               engineQueueCount(server.engine), (unsigned long long)aof.lastLsn,
               (double)(monotonicUs() - start) / 1e6);
        aofManifestEntry *last = &aof.files[aof.fileCount - 1];
        if (last->type == 'i') {
            char path[4200];
            pathOf(path, sizeof(path), last->name);
            aof.fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
            if (aof.fd == -1) {
                logMsg(LL_WARNING, "Cannot open %s for appending: %s", path,
                       strerror(errno));
                return -1;
            }
            /* A torn tail that was the file's only frame leaves it empty: every
             * file starts with a HEADER, so write it again. */
            if (fileSize(last->name) == 0) {
                close(aof.fd);
                aof.fd = createFileWithHeader(last->name, 1);
                if (aof.fd == -1) return -1;
            }
        } else {
            /* The server never writes such a manifest (a rewrite refuses to start
             * with AOF_MANIFEST_MAX_FILES - 1 files), but a hand-made one must not
             * overflow files[]. */
            if (aof.fileCount == AOF_MANIFEST_MAX_FILES) {
                logMsg(LL_WARNING,
                       "The AOF manifest %s names %d files and ends with a base: "
                       "there is no room for the increment file the server adds "
                       "after it (at most %d files)",
                       manifest, aof.fileCount, AOF_MANIFEST_MAX_FILES);
                return -1;
            }
            aofManifestEntry *f = &aof.files[aof.fileCount++];
            f->seq = ++aof.incrSeq;
            f->type = 'i';
            incrName(f->name, sizeof(f->name), f->seq);
            aof.fd = createFileWithHeader(f->name, 1);
            if (aof.fd == -1 || writeManifest(aof.files, aof.fileCount) == -1) return -1;
        }
    }
    aof.writeOffset = -1;
    aof.writtenLsn = aof.durableLsn = aof.lastLsn;
    aof.syncedLsn = aof.lastLsn;
    aof.baseSize = aof.incrSize = 0;
    for (int i = 0; i < aof.fileCount; i++) {
        long long size = fileSize(aof.files[i].name);
        if (aof.files[i].type == 'b')
            aof.baseSize += size;
        else
            aof.incrSize += size;
    }
    aof.fsyncFd = aof.fd;
    startFsyncThread();
    engineSetEffectSink(server.engine, aofEffectSink, NULL);
    return 0;
}

/* ---- Writing ---- */

void aofEffectSink(void *ctx, const effect *ef) {
    (void)ctx;
    if (!aof.on) return;
    aofrecEncodeEffect(&aof.turnBuf, ++aof.lastLsn, ef);
}

void aofLogReplay(int argc, const respArg *argv) {
    if (!aof.on || argc < 3) return;
    /* Same record, renumbered: QREPLAY <new lsn> <TYPE> <args...> */
    respAddArrayLen(&aof.turnBuf, argc);
    respAddBulk(&aof.turnBuf, "QREPLAY", 7);
    respAddBulkInt(&aof.turnBuf, (long long)++aof.lastLsn);
    for (int i = 2; i < argc; i++) respAddBulk(&aof.turnBuf, argv[i].ptr, argv[i].len);
}

static void setWriteError(const char *what, int err) {
    snprintf(aof.writeError, sizeof(aof.writeError), "%s: %s", what, strerror(err));
    if (server.nowMs - aof.lastErrorLogMs > 1000) {
        logMsg(LL_WARNING, "Append-only file: %s (state changes are refused until a "
                           "retry succeeds)", aof.writeError);
        aof.lastErrorLogMs = server.nowMs;
    }
}

static void fatalWriteError(const char *what, int err) {
    logMsg(LL_WARNING,
           "Append-only file: %s: %s, with appendfsync always. Exiting without "
           "acknowledging the changes of this turn.",
           what, strerror(err));
    _exit(1);
}

/* Writes frameBuf (a whole frame) to the current file. On a short write the
 * file is cut back to where the frame began, so a retry writes it whole. */
static int writeFrame(void) {
    if (aof.writeOffset < 0) aof.writeOffset = lseek(aof.fd, 0, SEEK_END);
    off_t start = aof.writeOffset;
    if (writeAll(aof.fd, aof.frameBuf.data, aof.frameBuf.len) == -1) {
        int saved = errno;
        if (start >= 0 && ftruncate(aof.fd, start) == -1)
            logMsg(LL_WARNING, "Cannot cut a partial frame off the AOF: %s",
                   strerror(errno));
        aof.writeOffset = -1; /* ask again: the cut may have failed */
        errno = saved;
        return -1;
    }
    if (aof.writeOffset >= 0) aof.writeOffset += (off_t)aof.frameBuf.len;
    aof.incrSize += (long long)aof.frameBuf.len;
    aof.frameBuf.len = 0;
    return 0;
}

/* Turns this turn's records into a frame (unless a failed frame is waiting for
 * its retry) and writes it. */
static void flushTurn(int forceFsync) {
    if (!aof.on || aof.fd == -1) return;
    if (aof.frameBuf.len == 0 && aof.turnBuf.len) {
        if (aofFrameEncode(aof.turnBuf.data, aof.turnBuf.len, &aof.frameBuf) == -1) {
            logMsg(LL_WARNING, "LZ4 compression of an AOF frame failed");
            _exit(1);
        }
        aof.turnBuf.len = 0;
    }
    if (aof.frameBuf.len) {
        uint64_t lsn = aof.lastLsn;
        if (writeFrame() == -1) {
            if (server.appendFsync == AOF_FSYNC_ALWAYS) fatalWriteError("write", errno);
            setWriteError("write", errno);
            return;
        }
        aof.writtenLsn = lsn;
        aof.writeError[0] = '\0';
    }
    if (server.appendFsync == AOF_FSYNC_ALWAYS || forceFsync) {
        if (aof.writtenLsn > aof.syncedLsn || forceFsync) {
            if (fdatasync(aof.fd) == -1) {
                if (server.appendFsync == AOF_FSYNC_ALWAYS || forceFsync)
                    fatalWriteError("fsync", errno);
            }
            if (aof.threadStarted) pthread_mutex_lock(&aof.lock);
            aof.syncedLsn = aof.writtenLsn;
            if (aof.threadStarted) pthread_mutex_unlock(&aof.lock);
        }
        aof.durableLsn = aof.writtenLsn;
    } else {
        aof.durableLsn = aof.writtenLsn;
    }
}

void aofBeforeSleep(void) { flushTurn(0); }

uint64_t aofLastLsn(void) { return aof.lastLsn; }
uint64_t aofDurableLsn(void) { return aof.on ? aof.durableLsn : aof.lastLsn; }
const char *aofWriteError(void) { return aof.writeError[0] ? aof.writeError : NULL; }

/* ---- Rewrites ---- */

static int childFlush(void *ctx, respBuf *buf) {
    int fd = *(int *)ctx;
    respBuf frame = {0};
    int rc = aofFrameEncode(buf->data, buf->len, &frame);
    if (rc == 0) rc = writeAll(fd, frame.data, frame.len);
    respBufFree(&frame);
    buf->len = 0;
    return rc;
}

static void tempBaseName(char *out, size_t cap, pid_t pid) {
    snprintf(out, cap, "temp-rewrite-%d.base.lz4", (int)pid);
}

/* The child: writes the state as of the fork into a temporary base. */
static void rewriteChild(uint64_t lsn) {
    char name[64], path[4200];
    tempBaseName(name, sizeof(name), getpid());
    pathOf(path, sizeof(path), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) _exit(1);
    respBuf buf = {0};
    if (aofrecSnapshot(server.engine, lsn, server.nowMs, &buf, 1 << 20, childFlush,
                       &fd) == -1)
        _exit(1);
    if (fsync(fd) == -1) _exit(1);
    close(fd);
    _exit(0);
}

int aofRewriteStart(char *err, size_t errcap) {
    if (!aof.on) {
        snprintf(err, errcap, "Background append only file rewriting is not possible: "
                              "the append-only file is off (appendonly no)");
        return -1;
    }
    if (aof.childPid != -1) {
        snprintf(err, errcap, "Background append only file rewriting already in "
                              "progress");
        return -1;
    }
    /* Everything so far goes into the old increment, fsynced. */
    flushTurn(1);
    if (aof.writeError[0]) {
        snprintf(err, errcap, "the append-only file cannot be written: %s",
                 aof.writeError);
        return -1;
    }
    /* A new increment, named in the manifest before anything is written to it. */
    aofManifestEntry *f = &aof.files[aof.fileCount];
    if (aof.fileCount + 1 >= AOF_MANIFEST_MAX_FILES) {
        snprintf(err, errcap, "too many AOF files; a rewrite is overdue");
        return -1;
    }
    f->seq = aof.incrSeq + 1;
    f->type = 'i';
    incrName(f->name, sizeof(f->name), f->seq);
    int fd = createFileWithHeader(f->name, 1);
    if (fd == -1) {
        snprintf(err, errcap, "cannot create a new increment file (see the log)");
        return -1;
    }
    if (writeManifest(aof.files, aof.fileCount + 1) == -1) {
        close(fd);
        snprintf(err, errcap, "cannot write the manifest (see the log)");
        return -1;
    }
    aof.fileCount++;
    aof.incrSeq = f->seq;
    switchFd(fd);
    aof.incrSize = fileSize(f->name);

    uint64_t lsn = aof.lastLsn;
    pid_t pid = fork();
    if (pid == -1) {
        snprintf(err, errcap, "fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        rewriteChild(lsn);
    }
    aof.childPid = pid;
    aof.childBaseSeq = aof.baseSeq + 1;
    aof.rewriteStartMs = server.nowMs;
    aof.rewriteScheduled = 0;
    logMsg(LL_NOTICE, "Background append only file rewriting started by pid %d",
           (int)pid);
    return 0;
}

static void rewriteDone(int ok) {
    char tmpName[64], tmpPath[4200];
    tempBaseName(tmpName, sizeof(tmpName), aof.childPid);
    pathOf(tmpPath, sizeof(tmpPath), tmpName);
    aof.lastRewriteSecs = (server.nowMs - aof.rewriteStartMs) / 1000;
    aof.lastRewriteEndMs = server.nowMs;
    aof.childPid = -1;
    if (!ok) {
        unlink(tmpPath);
        aof.lastRewriteOk = 0;
        logMsg(LL_WARNING, "Background AOF rewrite failed; the files stay as they were");
        return;
    }
    aofManifestEntry next[2];
    next[0].seq = aof.childBaseSeq;
    next[0].type = 'b';
    baseName(next[0].name, sizeof(next[0].name), next[0].seq);
    next[1] = aof.files[aof.fileCount - 1]; /* the increment opened at the fork */
    char basePath[4200];
    pathOf(basePath, sizeof(basePath), next[0].name);
    if (rename(tmpPath, basePath) == -1 || fsyncDir() == -1 ||
        writeManifest(next, 2) == -1) {
        logMsg(LL_WARNING, "Finishing the AOF rewrite: %s", strerror(errno));
        unlink(tmpPath);
        aof.lastRewriteOk = 0;
        return;
    }
    /* The old files are history now. */
    for (int i = 0; i < aof.fileCount - 1; i++) {
        char path[4200];
        pathOf(path, sizeof(path), aof.files[i].name);
        unlink(path);
    }
    aof.files[0] = next[0];
    aof.files[1] = next[1];
    aof.fileCount = 2;
    aof.baseSeq = next[0].seq;
    aof.baseSize = fileSize(next[0].name);
    aof.incrSize = fileSize(next[1].name);
    aof.lastRewriteOk = 1;
    logMsg(LL_NOTICE, "Background AOF rewrite finished: base %s (%lld bytes)",
           next[0].name, aof.baseSize);
}

void aofCron(void) {
    if (!aof.on) return;
    if (aof.childPid != -1) {
        int status;
        pid_t pid = waitpid(aof.childPid, &status, WNOHANG);
        if (pid == aof.childPid)
            rewriteDone(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* Retry a failed write with the same frame. */
    if (aof.writeError[0]) flushTurn(0);
    if (server.appendFsync == AOF_FSYNC_EVERYSEC && server.nowMs - aof.lastFsyncMs >= 1000) {
        aof.lastFsyncMs = server.nowMs;
        if (aof.threadStarted) {
            pthread_mutex_lock(&aof.lock);
            if (aof.fsyncErrno) {
                int e = aof.fsyncErrno;
                aof.fsyncErrno = 0;
                pthread_mutex_unlock(&aof.lock);
                setWriteError("fsync", e);
                pthread_mutex_lock(&aof.lock);
            }
            if (aof.writtenLsn > aof.syncedLsn) {
                aof.fsyncLsn = aof.writtenLsn;
                aof.fsyncWanted = 1;
                pthread_cond_signal(&aof.wake);
            }
            pthread_mutex_unlock(&aof.lock);
        } else if (aof.writtenLsn > aof.syncedLsn && fdatasync(aof.fd) == 0) {
            aof.syncedLsn = aof.writtenLsn;
        }
    }
    if (aof.rewriteScheduled && aof.childPid == -1) {
        char err[256];
        if (aofRewriteStart(err, sizeof(err)) == -1)
            logMsg(LL_WARNING, "Scheduled AOF rewrite: %s", err);
    }
    /* At most one automatic rewrite a second: with a small base and a small
     * min-size, a busy server would otherwise rewrite back to back. */
    if (aof.childPid == -1 && server.autoAofRewritePercentage > 0 &&
        server.nowMs - aof.lastRewriteEndMs >= 1000 &&
        aof.incrSize > server.autoAofRewriteMinSize &&
        aof.incrSize * 100 > aof.baseSize * server.autoAofRewritePercentage) {
        char err[256];
        logMsg(LL_NOTICE, "Starting an automatic AOF rewrite: increments are %lld bytes, "
                          "the base %lld",
               aof.incrSize, aof.baseSize);
        if (aofRewriteStart(err, sizeof(err)) == -1)
            logMsg(LL_WARNING, "Automatic AOF rewrite: %s", err);
    }
}

void aofShutdown(void) {
    if (!aof.on) return;
    if (aof.childPid != -1) {
        kill(aof.childPid, SIGKILL);
        waitpid(aof.childPid, NULL, 0);
        char name[64], path[4200];
        tempBaseName(name, sizeof(name), aof.childPid);
        pathOf(path, sizeof(path), name);
        unlink(path);
        aof.childPid = -1;
    }
    flushTurn(1);
    if (aof.threadStarted) {
        pthread_mutex_lock(&aof.lock);
        aof.threadStop = 1;
        pthread_cond_signal(&aof.wake);
        pthread_mutex_unlock(&aof.lock);
        pthread_join(aof.thread, NULL);
        aof.threadStarted = 0;
    }
    if (aof.fd != -1) {
        fdatasync(aof.fd);
        close(aof.fd);
        aof.fd = -1;
    }
    logMsg(LL_NOTICE, "Append-only file written and fsynced (last LSN %llu)",
           (unsigned long long)aof.lastLsn);
}

void aofInfo(respBuf *out) {
    char buf[1024];
    int n = snprintf(
        buf, sizeof(buf),
        "aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:%d\r\n"
        "aof_last_rewrite_time_sec:%lld\r\naof_current_rewrite_time_sec:%lld\r\n"
        "aof_last_bgrewrite_status:%s\r\naof_last_write_status:%s\r\n"
        "aof_current_size:%lld\r\naof_base_size:%lld\r\n"
        "respq_aof_last_lsn:%llu\r\nrespq_aof_durable_lsn:%llu\r\n",
        aof.on, aof.childPid != -1, aof.rewriteScheduled, aof.lastRewriteSecs,
        aof.childPid != -1 ? (server.nowMs - aof.rewriteStartMs) / 1000 : -1LL,
        aof.lastRewriteOk ? "ok" : "err", aof.writeError[0] ? "err" : "ok",
        aof.baseSize + aof.incrSize, aof.baseSize, (unsigned long long)aof.lastLsn,
        (unsigned long long)aofDurableLsn());
    respBufAppend(out, buf, (size_t)n);
}
