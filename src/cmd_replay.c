/* cmd_replay.c: QREPLAY, the one command every record of the append-only file is.
 *
 * What it owns: running one record against the live engine, for whoever sends
 * it: `lz4cat ... | redis-cli --pipe` rebuilding a server from its files (see
 * docs/persistence.md), respq-aof's replay, and later a replica's link. The
 * record codec (aofrec.c) does the parsing and the applying; this file only
 * adds what a live server needs around it:
 *
 *   1. engineAdvance first, as every queue command does, so that timers due by
 *      now have run before the record looks at a message. A record that finds
 *      its message already gone (its lease ended, it expired) applies as
 *      nothing, and the effects the timers produced were logged as usual, so
 *      the server converges on the logged state whatever its clock says.
 *   2. A record that applied is logged again (aofLogReplay) under this
 *      server's next LSN: the apply functions emit no effects, and a change
 *      that is not in this server's own log would be lost at its next restart.
 *      A refused record changed nothing and is not logged.
 *
 * The start-up loader does not come through here: it applies records with
 * aofrecApply directly, with the engine's timers stopped and nothing logged.
 */
#include "server.h"

#include "aof.h"
#include "aofrec.h"

#define REPLAY_ERR_CAP 512

void qreplayCommand(client *c) {
    engineAdvance(server.engine, server.nowMs);
    char err[REPLAY_ERR_CAP];
    uint64_t lsn;
    if (aofrecApply(server.engine, c->argc, c->argv, &lsn, err, sizeof(err)) != 0) {
        addReplyErrorFormat(c, "ERR %s", err);
        return;
    }
    aofLogReplay(c->argc, c->argv);
    addReplyOk(c);
}
