/* cmd_queue.c: the queue commands of the contract (QCREATE ... QREDRIVE).
 *
 * The queue engine is the next piece of work (issue 3); until it lands, each
 * command is registered in the table (so COMMAND DOCS and redis-cli hints already
 * show it) and answers "-ERR not yet implemented". No queue can exist yet, so the
 * INFO queue section and DBSIZE report an empty server.
 */
#include "server.h"

#include <stdio.h>

#include "commands.h"

static void notYetImplemented(client *c) {
    addReplyErrorFormat(c, "ERR not yet implemented: '%s' comes with the queue engine",
                        c->cmd ? c->cmd->fullName : "?");
}

void qcreateCommand(client *c) { notYetImplemented(c); }
void qsetCommand(client *c) { notYetImplemented(c); }
void qdropCommand(client *c) { notYetImplemented(c); }
void qpurgeCommand(client *c) { notYetImplemented(c); }
void qlenCommand(client *c) { notYetImplemented(c); }
void qinfoCommand(client *c) { notYetImplemented(c); }
void qscanCommand(client *c) { notYetImplemented(c); }
void qsendCommand(client *c) { notYetImplemented(c); }
void qrecvCommand(client *c) { notYetImplemented(c); }
void qdelCommand(client *c) { notYetImplemented(c); }
void qvisCommand(client *c) { notYetImplemented(c); }
void qpeekCommand(client *c) { notYetImplemented(c); }
void qredriveCommand(client *c) { notYetImplemented(c); }

void queueInfoSection(respBuf *out, long long blockedReceivers) {
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "respq_queues:0\r\nrespq_messages_ready:0\r\n"
                     "respq_messages_inflight:0\r\nrespq_messages_delayed:0\r\n"
                     "respq_messages_blocked:0\r\nrespq_sent_total:0\r\n"
                     "respq_received_total:0\r\nrespq_deleted_total:0\r\n"
                     "respq_expired_total:0\r\nrespq_deadlettered_total:0\r\n"
                     "respq_blocked_receivers:%lld\r\n",
                     blockedReceivers);
    respBufAppend(out, buf, (size_t)n);
}

long long queueCount(void) { return 0; }

void queueFlushAll(long long nowMs) { (void)nowMs; }
