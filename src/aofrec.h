/* aofrec.h: the records of the append-only file: engine effects and snapshots
 * encoded as RESP commands (`QREPLAY <lsn> <TYPE> ...`), and the other way round,
 * a QREPLAY command applied to an engine. docs/persistence.md is the format's
 * specification; the server (aof.c, the QREPLAY command), respq-aof and the tests
 * share this one codec.
 */
#ifndef RESPQ_AOFREC_H
#define RESPQ_AOFREC_H

#include <stdint.h>

#include "engine/engine.h"
#include "resp.h"

#define AOF_MAGIC "respq-aof"
#define AOF_FORMAT_VERSION 1

/* Appends the record of one effect, numbered lsn, to out. */
void aofrecEncodeEffect(respBuf *out, uint64_t lsn, const effect *ef);
/* Appends a HEADER record. */
void aofrecEncodeHeader(respBuf *out, uint64_t lsn, uint32_t epoch, uint64_t nextSeq,
                        int64_t nowMs);
/* Writes the whole state of e as records (all numbered lsn, the state's LSN),
 * HEADER first, in the order docs/persistence.md gives. Calls flush whenever the
 * buffer holds at least flushAt bytes, and once at the end; flush empties buf
 * (and returns 0, or -1 to stop: aofrecSnapshot then returns -1). */
int aofrecSnapshot(const engine *e, uint64_t lsn, int64_t nowMs, respBuf *buf,
                   size_t flushAt, int (*flush)(void *ctx, respBuf *buf), void *ctx);

/* Applies one QREPLAY command (argv[0] is QREPLAY) to e. Returns 0 and the
 * record's LSN, or -1 with a message naming what was wrong in err. A record
 * about a message or queue that is gone applies as nothing (0), so that a
 * replay into a live server whose timers already acted still converges. */
int aofrecApply(engine *e, int argc, const respArg *argv, uint64_t *lsn, char *err,
                size_t errcap);

#endif
