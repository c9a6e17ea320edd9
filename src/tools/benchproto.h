/* benchproto.h: how respq-benchmark talks to each server it measures.
 *
 * One workload (send, receive, acknowledge) is spoken five ways, so that the
 * same client code, connection handling and clock measure every server:
 *
 *   target        send          receive (non-blocking / blocking)        ack
 *   respq         QSEND         QRECV q COUNT k [WAIT s]                 QDEL q r...
 *   redis-list    LPUSH         RPOP q k / BLMPOP s 1 q RIGHT COUNT k    (none)
 *   redis-lmove   LPUSH         LMOVE q q:processing RIGHT LEFT / BLMOVE LREM q:processing 1 body
 *   redis-stream  XADD q * m b  XREADGROUP GROUP g c COUNT k [BLOCK ms]  XACK q g id...
 *                                 STREAMS q >
 *   beanstalkd    put           reserve-with-timeout 0 / s               delete id
 *
 * redis-lmove is Redis's "reliable queue" pattern (a message survives a
 * consumer's crash in the processing list); it moves one message per request,
 * so COUNT does not apply to it, nor to beanstalkd's reserve.
 *
 * Encoders append requests to a respBuf; a decoder per connection turns the
 * bytes that come back into replies, one per request, in order. RESP targets
 * use hiredis's reader; beanstalkd's line protocol is read here. A reply's
 * messages point into the decoder's storage and stay valid until the next
 * benchProtoNext or benchDecoderFeed call on that decoder (feeding compacts
 * and may move beanstalkd's buffer).
 */
#ifndef RESPQ_BENCHPROTO_H
#define RESPQ_BENCHPROTO_H

#include <stddef.h>

#include "resp.h"

typedef enum {
    BENCH_RESPQ,
    BENCH_REDIS_LIST,
    BENCH_REDIS_LMOVE,
    BENCH_REDIS_STREAM,
    BENCH_BEANSTALKD,
} benchTarget;

#define BENCH_MAX_BATCH 1000 /* messages one receive may return (QRECV's COUNT) */

/* What a reply is expected to answer: the decoder needs it to read a message
 * list out of a receive's reply. */
typedef enum { BENCH_REQ_SETUP, BENCH_REQ_SEND, BENCH_REQ_RECV, BENCH_REQ_ACK } benchReqKind;

typedef struct benchMsg {
    const char *body;   /* borrowed from the decoder */
    size_t bodyLen;
    const char *handle; /* what the ack names: receipt, stream id, job id or body */
    size_t handleLen;
} benchMsg;

typedef struct benchReply {
    int isError;        /* the server refused the request; text in error */
    char error[200];
    long long integer;  /* an integer reply (QDEL's count), else -1 */
    int again;          /* a receive that says nothing of the queue (beanstalkd's
                         * DEADLINE_SOON): ask again */
    size_t nmsgs;       /* messages of a receive's reply */
    benchMsg msgs[BENCH_MAX_BATCH];
} benchReply;

typedef struct benchDecoder {
    benchTarget target;
    void *reader;      /* owned hiredis redisReader (RESP targets) */
    void *lastReply;   /* owned redisReply the last messages point into */
    respBuf in;        /* beanstalkd: bytes not read yet */
    size_t inOff;      /* beanstalkd: where the next reply begins in `in` */
} benchDecoder;

/* Parses a target's name (respq, redis-list, redis-lmove, redis-stream,
 * beanstalkd). 0 and *out set, or -1. */
int benchTargetParse(const char *name, benchTarget *out);
const char *benchTargetName(benchTarget t);

/* 1 when received messages must be acknowledged with a further request. */
int benchTargetAcks(benchTarget t);

/* Commands a connection sends first: beanstalkd's `use queues[queue]`
 * (producers) or `watch` of every queue and `ignore default` (consumers).
 * Returns how many replies they bring (0 for the other targets). */
int benchProtoConnSetup(benchTarget t, respBuf *out, int consumer,
                        const char *const *queues, int nqueues, int queue);

/* Appends one request. blockMs < 0 receives without waiting. consumer names
 * the stream consumer (redis-stream). */
void benchProtoSend(benchTarget t, respBuf *out, const char *queue, const char *body,
                    size_t len);
void benchProtoRecv(benchTarget t, respBuf *out, const char *queue, int count,
                    long blockMs, const char *consumer);

/* Appends the acknowledgement of msgs[0..n) received from queue. Returns the
 * number of requests appended (0 for redis-list, whose pop is final). */
int benchProtoAck(benchTarget t, respBuf *out, const char *queue, const benchMsg *msgs,
                  size_t n);

void benchDecoderInit(benchDecoder *d, benchTarget t);
void benchDecoderFree(benchDecoder *d);

/* Hands bytes read from the connection to the decoder. 0, or -1 when the
 * decoder cannot take them (out of memory). */
int benchDecoderFeed(benchDecoder *d, const char *buf, size_t len);

/* Takes the next complete reply, read as the answer to a request of kind
 * `kind`. 1 and *r filled; 0 when more bytes are needed; -1 when the bytes are
 * not the protocol expected (err says what). */
int benchProtoNext(benchDecoder *d, benchReqKind kind, benchReply *r, char *err,
                   size_t errcap);

#endif
