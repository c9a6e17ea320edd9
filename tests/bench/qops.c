/* qops.c: measures the cost of QSEND, QRECV, QVIS and QDEL at a given queue depth,
 * to show that they do not grow with the number of queued messages.
 *
 * It fills queue `q` to DEPTH messages (pipelined QSENDs), then runs ROUNDS rounds
 * of BATCH operations of each kind, each batch pipelined in one write: QSEND of
 * new messages, QRECV COUNT 1 of the front ones, QVIS of their receipts, QDEL of
 * the receipts. The queue's depth stays at DEPTH +/- BATCH throughout. Prints
 * microseconds per operation of each kind. redis-benchmark cannot chain a QRECV's
 * receipt into a QDEL, hence this small hiredis client.
 *
 * Usage: qops PORT DEPTH [ROUNDS] [BATCH]
 */
#define _POSIX_C_SOURCE 200809L
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double nowUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static redisReply *get(redisContext *c) {
    void *r = NULL;
    if (redisGetReply(c, &r) != REDIS_OK || !r) {
        fprintf(stderr, "qops: %s\n", c->errstr);
        exit(1);
    }
    redisReply *rep = r;
    if (rep->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "qops: server error: %s\n", rep->str);
        exit(1);
    }
    return rep;
}

static char body[101];

static void sendBatch(redisContext *c, long n) {
    for (long i = 0; i < n; i++) redisAppendCommand(c, "QSEND q %s", body);
    for (long i = 0; i < n; i++) freeReplyObject(get(c));
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: qops PORT DEPTH [ROUNDS] [BATCH]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long depth = atol(argv[2]);
    long rounds = argc > 3 ? atol(argv[3]) : 200;
    long batch = argc > 4 ? atol(argv[4]) : 500;
    memset(body, 'x', 100);

    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        fprintf(stderr, "qops: cannot connect to port %d\n", port);
        return 1;
    }
    freeReplyObject(redisCommand(c, "QDROP q"));
    freeReplyObject(redisCommand(c, "QCREATE q VISIBILITY 3600 RETENTION 0"));

    for (long filled = 0; filled < depth; filled += 1000)
        sendBatch(c, depth - filled < 1000 ? depth - filled : 1000);

    double tSend = 0, tRecv = 0, tVis = 0, tDel = 0;
    char **receipts = calloc((size_t)batch, sizeof(char *));
    for (long r = 0; r < rounds; r++) {
        double t0 = nowUs();
        sendBatch(c, batch);
        double t1 = nowUs();
        for (long i = 0; i < batch; i++) redisAppendCommand(c, "QRECV q");
        for (long i = 0; i < batch; i++) {
            redisReply *rep = get(c);
            if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1) {
                fprintf(stderr, "qops: QRECV returned no message\n");
                return 1;
            }
            receipts[i] = strdup(rep->element[0]->element[1]->str);
            freeReplyObject(rep);
        }
        double t2 = nowUs();
        for (long i = 0; i < batch; i++)
            redisAppendCommand(c, "QVIS q %s 3600", receipts[i]);
        for (long i = 0; i < batch; i++) freeReplyObject(get(c));
        double t3 = nowUs();
        for (long i = 0; i < batch; i++) redisAppendCommand(c, "QDEL q %s", receipts[i]);
        for (long i = 0; i < batch; i++) freeReplyObject(get(c));
        double t4 = nowUs();
        for (long i = 0; i < batch; i++) free(receipts[i]);
        tSend += t1 - t0;
        tRecv += t2 - t1;
        tVis += t3 - t2;
        tDel += t4 - t3;
    }
    double ops = (double)rounds * (double)batch;
    printf("depth=%ld ops/kind=%.0f us/op: QSEND %.3f QRECV %.3f QVIS %.3f QDEL %.3f\n",
           depth, ops, tSend / ops, tRecv / ops, tVis / ops, tDel / ops);
    free(receipts);
    redisFree(c);
    return 0;
}
