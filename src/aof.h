/* aof.h: the append-only file of the server: writer (one LZ4 frame per loop turn,
 * fsync per appendfsync), loader (start-up), rewrites (fork) and the manifest.
 * The record format is aofrec.h's; the frame walker shared with respq-aof is
 * aofframe.h's. See docs/persistence.md.
 */
#ifndef RESPQ_AOF_H
#define RESPQ_AOF_H

#include <stdint.h>

#include "engine/engine.h"
#include "resp.h"

/* Loads dir/appenddirname (creating it on first start) into server.engine and
 * opens the files for appending. 0 on success; -1 after logging why (the caller
 * exits with status 1). With appendonly no, only logs if files exist. */
int aofStart(void);
/* The engine's effect sink: encodes each effect into this turn's buffer. */
void aofEffectSink(void *ctx, const effect *ef);
/* Logs an already-encoded QREPLAY command (argv[0] QREPLAY, argv[1] its old LSN)
 * under a new LSN: a live server that applies a replayed record logs it too. */
void aofLogReplay(int argc, const respArg *argv);
/* Before the loop sleeps: compress this turn's records into one frame, write it,
 * fsync under `always`. Replies may go out after it (see aofDurableLsn). */
void aofBeforeSleep(void);
/* From the cron: everysec fsync, retries after errors, finished rewrites, the
 * automatic rewrite trigger. */
void aofCron(void);
/* SHUTDOWN / SIGTERM: write and fsync everything. */
void aofShutdown(void);
/* BGREWRITEAOF: 0 started (or scheduled), -1 with a reason in err. */
int aofRewriteStart(char *err, size_t errcap);

uint64_t aofLastLsn(void);    /* LSN of the last record produced */
uint64_t aofDurableLsn(void); /* records up to here may be acknowledged */
/* NULL when writes work; else why they do not (state changes are refused). */
const char *aofWriteError(void);
/* INFO persistence fields (CRLF lines). */
void aofInfo(respBuf *out);

#endif
