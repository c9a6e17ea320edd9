/*
 * hiredis_sync.c: the redis-compat session (redis-compat/README.md, "The session")
 * driven through hiredis's synchronous API, plus what C programs use that API for:
 * pipelining with redisAppendCommand / redisGetReply (1,000 commands in flight, and
 * an error reply in the middle of a pipeline), binary-safe arguments (%b and
 * redisCommandArgv; bodies with NUL, CR, LF and 0xff, an empty one, 300 KB, and the
 * 1 MiB MAXSIZE edge), and the exact reply types hiredis hands back (STATUS for +OK,
 * STRING for bulk strings, INTEGER, ARRAY, NIL, ERROR with respq's exact texts).
 * After the session come the Redis-surface replies a hiredis program meets (ECHO,
 * PING, SELECT, arity and unknown-command errors), a blocked receiver that hangs up,
 * and small checks of QSET, QPURGE, QPEEK, QSCAN, QRECV WITHMETA and QREDRIVE, so
 * that this program sends every respq command at least once: docs/clients.md quotes
 * its lines.
 *
 * What it shares with hiredis_async.c (the ok/FAIL counting, the reply checks, the
 * QRECV message, the QINFO look-ups, RESPQ_HOST/RESPQ_PORT) is in compat_check.h;
 * the Makefile builds each program from its one .c, which includes it.
 * The long poll's second connection lives in a forked child rather than a thread
 * because the Makefile's rule links no -lpthread; the child's context has a read
 * timeout, and the parent waits for it only a bounded time, then kills it, so a
 * server that stops answering ends in FAIL lines, not a hang.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "compat_check.h"

#define PIPELINE_DEPTH 1000
/* Every blocking read gives up after this, so a server that never answers shows up
 * as a FAIL instead of a hang; it is longer than the session's WAIT 5. */
#define READ_TIMEOUT_SECONDS 15

static const char jobs_queue[] = "c_jobs";
static const char orders_queue[] = "c_orders";
static const char wait_queue[] = "c_wait";
static const char missing_queue[] = "c_missing";
static const char pipe_queue[] = "c_pipe";
static const char binary_queue[] = "c_binary";
static const char extra_queue[] = "c_extra";
static const char dlq_queue[] = "c_dlq";
static const char source_queue[] = "c_src";
static const char quitter_queue[] = "c_quit";

/* For the program's own setup (memory, pipe, fork): its failure must show as a FAIL,
 * but its success is not something respq did, so it prints no ok line. */
static void setup_failed(const char *what, const char *why) {
    printf("FAIL - %s: %s\n", what, why);
    failed++;
}

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void sleep_seconds(double seconds) {
    if (seconds <= 0) return;
    struct timespec pause = {(time_t)seconds,
                             (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
        ;
}

/* What came back, for FAIL lines. One static buffer: one describe() per message. */
static const char *describe(const redisContext *c, const redisReply *reply) {
    return describe_reply(reply, c && c->err ? c->errstr : "connection error");
}

/* The expect_* helpers own the reply they are given and free it: most replies are
 * checked once and dropped, and this keeps every step free of freeReplyObject lines. */

static bool expect_status(const redisContext *c, redisReply *reply, const char *status,
                          const char *what) {
    bool good = check_status(reply, status, what, describe(c, reply));
    freeReplyObject(reply);
    return good;
}

static bool expect_integer(const redisContext *c, redisReply *reply, long long value,
                           const char *what) {
    bool good = check_integer(reply, value, what, describe(c, reply));
    freeReplyObject(reply);
    return good;
}

static bool expect_error(const redisContext *c, redisReply *reply, const char *text,
                         const char *what) {
    bool good = check_error(reply, text, what, describe(c, reply));
    freeReplyObject(reply);
    return good;
}

static bool expect_empty_array(const redisContext *c, redisReply *reply,
                               const char *what) {
    bool good = check_empty_array(reply, what, describe(c, reply));
    freeReplyObject(reply);
    return good;
}

/* A QSEND reply: a bulk string (hiredis STRING) of 1 to ID_MAX bytes, copied to id. */
static bool take_id(const redisContext *c, redisReply *reply, char id[ID_MAX + 1],
                    const char *what) {
    bool good = check_id(reply, id, what, describe(c, reply));
    freeReplyObject(reply);
    return good;
}

/* Checks that a QRECV reply is an array of exactly `expected` well-shaped messages
 * and copies them to out (zeroed first, so a failed reply leaves empty messages for
 * the checks that follow). Frees the reply. */
static bool take_messages(const redisContext *c, redisReply *reply, size_t expected,
                          struct message *out, const char *what) {
    memset(out, 0, expected * sizeof *out);
    bool good =
        reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == expected;
    if (!good) {
        check(false, what, "expected an array of %zu messages, got %s", expected,
              describe(c, reply));
        freeReplyObject(reply);
        return false;
    }
    for (size_t i = 0; i < expected; i++) {
        const char *problem = message_shape_problem(reply->element[i]);
        if (problem) {
            check(false, what, "message %zu %s", i, problem);
            freeReplyObject(reply);
            return false;
        }
        copy_message(reply->element[i], &out[i]);
    }
    check(true, what, "-");
    freeReplyObject(reply);
    return true;
}

static bool info_integer_is(const redisReply *info, const char *name, long long value) {
    return info_integer(info, name) == value;
}

/* ---- the session, steps 1 to 12 of redis-compat/README.md ---- */

struct session {
    const char *host;
    int port;
    char low_id[ID_MAX + 1], high_id[ID_MAX + 1], later_id[ID_MAX + 1],
        plain_id[ID_MAX + 1];
    double later_sent_at;
    struct message high, low, plain;
};

static void step1_create(redisContext *c) {
    redisReply *reply;
    reply = redisCommand(c, "QCREATE %s VISIBILITY 30", jobs_queue);
    expect_status(c, reply, "OK", "1 QCREATE c_jobs VISIBILITY 30 is the status OK");
    reply = redisCommand(c, "QCREATE %s VISIBILITY 30", jobs_queue);
    expect_status(c, reply, "OK", "1 the same QCREATE again is OK");
    reply = redisCommand(c, "QCREATE %s VISIBILITY 10", jobs_queue);
    expect_error(c, reply, "EXISTS queue 'c_jobs' exists with different attributes",
                 "1 QCREATE c_jobs VISIBILITY 10 is the EXISTS error");
    reply = redisCommand(c, "QCREATE %s FIFO", orders_queue);
    expect_status(c, reply, "OK", "1 QCREATE c_orders FIFO is OK");
}

/* The four sends use the three ways hiredis builds a command: plain text in the
 * format, %s / %b arguments, and an argv vector. */
static void step2_send(redisContext *c, struct session *s) {
    redisReply *reply;
    reply = redisCommand(c, "QSEND %s low PRIORITY 1", jobs_queue);
    take_id(c, reply, s->low_id, "2 QSEND c_jobs low PRIORITY 1 replies a string id");
    reply = redisCommand(c, "QSEND %s %s PRIORITY %d", jobs_queue, "high", 9);
    take_id(c, reply, s->high_id, "2 QSEND c_jobs high PRIORITY 9 replies a string id");
    reply = redisCommand(c, "QSEND %s %b DELAY 1", jobs_queue, "later", (size_t)5);
    s->later_sent_at = monotonic_seconds();
    take_id(c, reply, s->later_id, "2 QSEND c_jobs later DELAY 1 replies a string id");
    const char *argv[] = {"QSEND", jobs_queue, "plain"};
    size_t argv_lengths[] = {5, strlen(jobs_queue), 5};
    reply = redisCommandArgv(c, 3, argv, argv_lengths);
    take_id(c, reply, s->plain_id,
            "2 QSEND c_jobs plain (redisCommandArgv) replies a string id");

    const char *ids[] = {s->low_id, s->high_id, s->later_id, s->plain_id};
    bool all_different = true;
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (strcmp(ids[i], ids[j]) == 0) all_different = false;
    check(all_different, "2 the four ids are all different", "got %s %s %s %s", ids[0],
          ids[1], ids[2], ids[3]);
}

static void step3_len(redisContext *c) {
    redisReply *reply = redisCommand(c, "QLEN %s", jobs_queue);
    expect_integer(c, reply, 3,
                   "3 QLEN c_jobs is the integer 3 (the delayed one is not ready)");
}

static void step4_receive(redisContext *c, struct session *s) {
    struct message got[3];
    redisReply *reply = redisCommand(c, "QRECV %s COUNT 10 VISIBILITY 5", jobs_queue);
    take_messages(c, reply, 3, got,
                  "4 QRECV c_jobs COUNT 10 VISIBILITY 5 is an array of 3 [id, receipt, "
                  "body, receives]");
    check_message(&got[0], "high", s->high_id, 1,
                  "4 first message is high, its QSEND id, receives 1");
    check_message(&got[1], "low", s->low_id, 1,
                  "4 second message is low, its QSEND id, receives 1");
    check_message(&got[2], "plain", s->plain_id, 1,
                  "4 third message is plain, its QSEND id, receives 1");
    check(strcmp(got[0].receipt, got[1].receipt) != 0 &&
              strcmp(got[1].receipt, got[2].receipt) != 0 &&
              strcmp(got[0].receipt, got[2].receipt) != 0,
          "4 the three receipts are different", "got %s %s %s", got[0].receipt,
          got[1].receipt, got[2].receipt);
    s->high = got[0];
    s->low = got[1];
    s->plain = got[2];
}

static void step5_delete(redisContext *c, const struct session *s) {
    redisReply *reply;
    reply = redisCommand(c, "QDEL %s %s", jobs_queue, s->high.receipt);
    expect_integer(c, reply, 1, "5 QDEL c_jobs <receipt of high> is the integer 1");
    reply = redisCommand(c, "QDEL %s %s", jobs_queue, s->high.receipt);
    expect_integer(c, reply, 0, "5 the same QDEL again is the integer 0");
}

static void step6_visibility(redisContext *c, const struct session *s) {
    redisReply *reply;
    reply = redisCommand(c, "QVIS %s %s %d", jobs_queue, s->low.receipt, 0);
    expect_status(c, reply, "OK", "6 QVIS c_jobs <receipt of low> 0 is OK");
    reply = redisCommand(c, "QVIS %s %s %d", jobs_queue, s->plain.receipt, 60);
    expect_status(c, reply, "OK", "6 QVIS c_jobs <receipt of plain> 60 is OK");
    reply = redisCommand(c, "QVIS %s %s %d", jobs_queue, s->high.receipt, 5);
    expect_error(c, reply, "BADRECEIPT receipt is stale or unknown",
                 "6 QVIS of the deleted high's receipt is the BADRECEIPT error");
}

static void step7_after_delay(redisContext *c, const struct session *s) {
    sleep_seconds(s->later_sent_at + 1.1 - monotonic_seconds());
    struct message got[2];
    redisReply *reply = redisCommand(c, "QRECV %s COUNT 10", jobs_queue);
    take_messages(c, reply, 2, got,
                  "7 after the delay QRECV c_jobs COUNT 10 is an array of 2 messages");
    check_message(&got[0], "low", s->low_id, 2,
                  "7 first is low, delivered for the 2nd time");
    check_message(&got[1], "later", s->later_id, 1, "7 second is later, receives 1");
}

static void step8_fifo(redisContext *c) {
    char o1_id[ID_MAX + 1], o2_id[ID_MAX + 1], duplicate_id[ID_MAX + 1];
    redisReply *reply;
    reply = redisCommand(c, "QSEND %s o1 GROUP g1 DEDUPID d1", orders_queue);
    take_id(c, reply, o1_id,
            "8 QSEND c_orders o1 GROUP g1 DEDUPID d1 replies a string id");
    reply = redisCommand(c, "QSEND %s o2 GROUP g1 DEDUPID d2", orders_queue);
    take_id(c, reply, o2_id,
            "8 QSEND c_orders o2 GROUP g1 DEDUPID d2 replies a string id");
    reply = redisCommand(c, "QSEND %s o1 GROUP g1 DEDUPID d1", orders_queue);
    take_id(c, reply, duplicate_id,
            "8 QSEND of o1 with DEDUPID d1 again replies a string id");
    check(strcmp(duplicate_id, o1_id) == 0 && strcmp(o1_id, o2_id) != 0,
          "8 the duplicate's id is the first o1's id", "o1 %s, o2 %s, duplicate %s",
          o1_id, o2_id, duplicate_id);

    struct message got[2];
    reply = redisCommand(c, "QRECV %s COUNT 10", orders_queue);
    take_messages(c, reply, 2, got,
                  "8 QRECV c_orders COUNT 10 is an array of 2 messages");
    check_message(&got[0], "o1", o1_id, 1, "8 FIFO: o1 comes first");
    check_message(&got[1], "o2", o2_id, 1, "8 FIFO: o2 comes second");
}

/* The long poll's second connection: a child process that waits, sends, writes the
 * id it got to id_pipe and exits 0 when that id was a string. It never prints: the
 * parent owns the ok/FAIL lines and the counters. Its read timeout ends it when the
 * server does not answer; the parent kills it if it is still there anyway. */
static pid_t spawn_delayed_sender(const struct session *s, int id_pipe) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0) return pid;
    sleep_seconds(0.2);
    int status = 1;
    redisContext *sender = redisConnect(s->host, s->port);
    if (sender && !sender->err) {
        redisSetTimeout(sender, (struct timeval){READ_TIMEOUT_SECONDS, 0});
        redisReply *reply = redisCommand(sender, "QSEND %s wake", wait_queue);
        if (reply && reply->type == REDIS_REPLY_STRING &&
            write(id_pipe, reply->str, reply->len) == (ssize_t)reply->len)
            status = 0;
        freeReplyObject(reply);
    }
    if (sender) redisFree(sender);
    close(id_pipe);
    _exit(status);
}

/* Reads from fd into buffer (at most size bytes) until the writer closes it or the
 * deadline (monotonic seconds) passes. Returns the number of bytes read. */
static size_t read_until_closed(int fd, char *buffer, size_t size, double deadline) {
    size_t used = 0;
    while (used < size) {
        double left = deadline - monotonic_seconds();
        if (left <= 0) break;
        struct pollfd readable = {.fd = fd, .events = POLLIN};
        int ready = poll(&readable, 1, (int)(left * 1000) + 1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        ssize_t got = read(fd, buffer + used, size - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        used += (size_t)got;
    }
    return used;
}

/* waitpid for the child until the deadline; past it, the child is killed. Returns
 * whether it ended by itself, with its status in *status. */
static bool reap_by(pid_t child, int *status, double deadline) {
    for (;;) {
        pid_t done = waitpid(child, status, WNOHANG);
        if (done == child) return true;
        if (done < 0 && errno != EINTR) return false;
        if (monotonic_seconds() >= deadline) {
            kill(child, SIGKILL);
            while (waitpid(child, status, 0) < 0 && errno == EINTR)
                ;
            return false;
        }
        sleep_seconds(0.01);
    }
}

static void step9_long_poll(redisContext *c, const struct session *s) {
    redisReply *reply = redisCommand(c, "QCREATE %s", wait_queue);
    expect_status(c, reply, "OK", "9 QCREATE c_wait is OK");

    int id_pipe[2];
    if (pipe(id_pipe) != 0) {
        setup_failed("9 a pipe for the sender process", strerror(errno));
        return;
    }
    pid_t sender = spawn_delayed_sender(s, id_pipe[1]);
    close(id_pipe[1]);
    if (sender < 0) {
        setup_failed("9 fork the sender process", strerror(errno));
        close(id_pipe[0]);
        return;
    }

    double started = monotonic_seconds();
    reply = redisCommand(c, "QRECV %s WAIT 5", wait_queue);
    double waited = monotonic_seconds() - started;

    /* The message that woke the receiver is the sender's, so the sender has its reply
     * or is about to: 5 s is ample, and bounds the wait if the server stopped. */
    double deadline = monotonic_seconds() + 5.0;
    char sent_id[ID_MAX + 2] = "";
    size_t sent_len = read_until_closed(id_pipe[0], sent_id, ID_MAX + 1, deadline);
    sent_id[sent_len] = '\0';
    close(id_pipe[0]);
    int sender_status = 0;
    bool sender_ended = reap_by(sender, &sender_status, deadline);
    if (sender_ended)
        check(WIFEXITED(sender_status) && WEXITSTATUS(sender_status) == 0,
              "9 the other connection's QSEND c_wait wake replied a string id",
              "sender process status %d", sender_status);
    else
        check(false, "9 the other connection's QSEND c_wait wake replied a string id",
              "the sender process was still running 5 s after the long poll ended; "
              "killed it");

    struct message woken;
    take_messages(c, reply, 1, &woken,
                  "9 the blocked QRECV c_wait WAIT 5 returns an array of 1 message");
    check_message(&woken, "wake", sent_id, 1,
                  "9 it is the message the other connection sent");
    check(waited >= 0.15 && waited < 2.0,
          "9 it returned after the send, well before 5 s", "returned after %.3f s",
          waited);

    started = monotonic_seconds();
    reply = redisCommand(c, "QRECV %s WAIT 0.2", wait_queue);
    waited = monotonic_seconds() - started;
    expect_empty_array(c, reply,
                       "9 QRECV c_wait WAIT 0.2 on the empty queue is an empty array");
    /* 1 ms of slack: durations have millisecond resolution in the contract. */
    check(waited >= 0.199 && waited < 1.5, "9 it came after at least 0.2 s",
          "returned after %.3f s", waited);
}

static void step10_info(redisContext *c) {
    /* commands.md lists QINFO's fields in this order. */
    static const char *const field_order[] = {"name",
                                              "type",
                                              "dlq",
                                              "visibility_ms",
                                              "delay_ms",
                                              "retention_ms",
                                              "wait_ms",
                                              "maxsize",
                                              "maxdepth",
                                              "maxreceives",
                                              "contentdedup",
                                              "created_ms",
                                              "modified_ms",
                                              "ready",
                                              "inflight",
                                              "delayed",
                                              "blocked",
                                              "oldest_age_ms",
                                              "sent_total",
                                              "received_total",
                                              "deleted_total",
                                              "expired_total",
                                              "deadlettered_total",
                                              "dlq_sources"};
    const size_t field_count = sizeof field_order / sizeof field_order[0];

    redisReply *info = redisCommand(c, "QINFO %s", jobs_queue);
    bool flat =
        info && info->type == REDIS_REPLY_ARRAY && info->elements == 2 * field_count;
    check(flat, "10 QINFO c_jobs is a flat field/value array of 24 pairs", "got %s",
          describe(c, info));
    size_t misplaced = field_count;
    for (size_t i = 0; flat && i < field_count; i++)
        if (!is_string(info->element[2 * i], field_order[i])) {
            misplaced = i;
            break;
        }
    check(flat && misplaced == field_count,
          "10 its field names are strings in the contract's order",
          "field %zu is not \"%s\"", misplaced,
          misplaced < field_count ? field_order[misplaced] : "");
    check(is_string(info_field(info, "name"), jobs_queue),
          "10 name is the string c_jobs", "got %s",
          describe(c, info_field(info, "name")));
    check(is_string(info_field(info, "type"), "standard"),
          "10 type is the string standard", "got %s",
          describe(c, info_field(info, "type")));
    const redisReply *dlq = info_field(info, "dlq");
    check(dlq && dlq->type == REDIS_REPLY_NIL, "10 dlq is nil", "got %s",
          describe(c, dlq));
    check(info_integer_is(info, "visibility_ms", 30000),
          "10 visibility_ms is the integer 30000", "got %s",
          describe(c, info_field(info, "visibility_ms")));
    /* In flight now: low and later (step 7) and plain (QVIS 60). */
    check(info_integer_is(info, "inflight", 3), "10 inflight is the integer 3",
          "got %s", describe(c, info_field(info, "inflight")));
    check(info_integer_is(info, "ready", 0) && info_integer_is(info, "delayed", 0) &&
              info_integer_is(info, "sent_total", 4) &&
              info_integer_is(info, "deleted_total", 1),
          "10 ready 0, delayed 0, sent_total 4, deleted_total 1",
          "got %lld, %lld, %lld, %lld", info_integer(info, "ready"),
          info_integer(info, "delayed"), info_integer(info, "sent_total"),
          info_integer(info, "deleted_total"));
    const redisReply *sources = info_field(info, "dlq_sources");
    check(sources && sources->type == REDIS_REPLY_ARRAY && sources->elements == 0,
          "10 dlq_sources is an empty array", "got %s", describe(c, sources));
    freeReplyObject(info);
}

static void step11_missing_queue(redisContext *c) {
    redisReply *reply = redisCommand(c, "QSEND %s x", missing_queue);
    expect_error(c, reply, "NOQUEUE no such queue 'c_missing'",
                 "11 QSEND c_missing x is the NOQUEUE error");
    reply = redisCommand(c, "PING");
    expect_status(c, reply, "PONG", "11 the connection still works (PING is PONG)");
}

static void step12_drop(redisContext *c) {
    const char *queues[] = {jobs_queue, orders_queue, wait_queue};
    for (size_t i = 0; i < 3; i++) {
        char what[80];
        snprintf(what, sizeof what, "12 QDROP %s is the integer 1", queues[i]);
        redisReply *reply = redisCommand(c, "QDROP %s", queues[i]);
        expect_integer(c, reply, 1, what);
    }
}

/* ---- what the synchronous API is used for beyond the session ---- */

static int compare_ids(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* 1,000 QSENDs appended then 1,000 replies read; one QRECV COUNT 1000 through the
 * same append/get path; then half the receipts deleted by 500 pipelined QDELs and
 * the rest by one QDEL carrying all 1,000 receipts (the first 500 are stale by then,
 * so it must count 500). */
static void pipelining(redisContext *c) {
    redisReply *reply = redisCommand(c, "QCREATE %s", pipe_queue);
    expect_status(c, reply, "OK", "pipeline: QCREATE c_pipe is OK");

    char(*sent_ids)[ID_MAX + 1] = calloc(PIPELINE_DEPTH, sizeof *sent_ids);
    struct message *received = calloc(PIPELINE_DEPTH, sizeof *received);
    if (!sent_ids || !received) {
        setup_failed("pipeline: memory for 1000 messages", "calloc failed");
        free(sent_ids);
        free(received);
        return;
    }

    int appended = 0;
    for (int i = 0; i < PIPELINE_DEPTH; i++)
        if (redisAppendCommand(c, "QSEND %s msg-%d", pipe_queue, i) == REDIS_OK)
            appended++;
    check(appended == PIPELINE_DEPTH, "pipeline: 1000 QSENDs appended", "%d appended",
          appended);
    int string_replies = 0;
    char first_bad[600] = "";
    for (int i = 0; i < appended; i++) {
        void *raw = NULL;
        int status = redisGetReply(c, &raw);
        redisReply *sent = raw;
        if (status == REDIS_OK && sent && sent->type == REDIS_REPLY_STRING &&
            sent->len >= 1 && sent->len <= ID_MAX) {
            memcpy(sent_ids[i], sent->str, sent->len + 1);
            string_replies++;
        } else if (!first_bad[0]) {
            snprintf(first_bad, sizeof first_bad, "reply %d is %s", i,
                     describe(c, sent));
        }
        freeReplyObject(sent);
        if (status != REDIS_OK) break;
    }
    check(string_replies == PIPELINE_DEPTH, "pipeline: 1000 replies, each a string id",
          "%d string ids; %s", string_replies, first_bad);

    char(*sorted_ids)[ID_MAX + 1] = malloc(PIPELINE_DEPTH * sizeof *sorted_ids);
    if (sorted_ids) {
        memcpy(sorted_ids, sent_ids, PIPELINE_DEPTH * sizeof *sorted_ids);
        qsort(sorted_ids, PIPELINE_DEPTH, sizeof *sorted_ids, compare_ids);
        int repeats = 0;
        for (int i = 1; i < PIPELINE_DEPTH; i++)
            if (strcmp(sorted_ids[i - 1], sorted_ids[i]) == 0) repeats++;
        check(repeats == 0, "pipeline: the 1000 ids are all different", "%d repeats",
              repeats);
        free(sorted_ids);
    } else {
        setup_failed("pipeline: memory to sort 1000 ids", "malloc failed");
    }

    reply = redisCommand(c, "QLEN %s", pipe_queue);
    expect_integer(c, reply, PIPELINE_DEPTH, "pipeline: QLEN c_pipe is 1000");

    void *raw = NULL;
    redisAppendCommand(c, "QRECV %s COUNT %d VISIBILITY 60", pipe_queue,
                       PIPELINE_DEPTH);
    redisGetReply(c, &raw);
    take_messages(c, raw, PIPELINE_DEPTH, received,
                  "pipeline: QRECV c_pipe COUNT 1000 is an array of 1000 messages");
    int in_order = 0;
    for (int i = 0; i < PIPELINE_DEPTH; i++) {
        char body[16];
        snprintf(body, sizeof body, "msg-%d", i);
        if (message_is(&received[i], body, sent_ids[i], 1)) in_order++;
    }
    check(in_order == PIPELINE_DEPTH,
          "pipeline: they are msg-0 .. msg-999 in send order, ids as sent",
          "%d of 1000 match", in_order);

    const int deleted_one_by_one = PIPELINE_DEPTH / 2;
    for (int i = 0; i < deleted_one_by_one; i++)
        redisAppendCommand(c, "QDEL %s %s", pipe_queue, received[i].receipt);
    int ones = 0;
    for (int i = 0; i < deleted_one_by_one; i++) {
        raw = NULL;
        int status = redisGetReply(c, &raw);
        redisReply *deleted = raw;
        if (status == REDIS_OK && deleted && deleted->type == REDIS_REPLY_INTEGER &&
            deleted->integer == 1)
            ones++;
        freeReplyObject(deleted);
        if (status != REDIS_OK) break;
    }
    check(ones == deleted_one_by_one,
          "pipeline: 500 pipelined QDELs each reply the integer 1", "%d did", ones);

    const char **argv = calloc(PIPELINE_DEPTH + 2, sizeof *argv);
    size_t *argv_lengths = calloc(PIPELINE_DEPTH + 2, sizeof *argv_lengths);
    if (argv && argv_lengths) {
        argv[0] = "QDEL";
        argv[1] = pipe_queue;
        for (int i = 0; i < PIPELINE_DEPTH; i++)
            argv[i + 2] = received[i].receipt;
        for (int i = 0; i < PIPELINE_DEPTH + 2; i++)
            argv_lengths[i] = strlen(argv[i]);
        reply = redisCommandArgv(c, PIPELINE_DEPTH + 2, argv, argv_lengths);
        expect_integer(
            c, reply, PIPELINE_DEPTH - deleted_one_by_one,
            "pipeline: one QDEL with all 1000 receipts deletes the other 500");
    } else {
        setup_failed("pipeline: memory for a 1002-argument QDEL", "calloc failed");
    }
    free(argv);
    free(argv_lengths);

    reply = redisCommand(c, "QLEN %s", pipe_queue);
    expect_integer(c, reply, 0, "pipeline: QLEN c_pipe is 0 afterwards");

    /* An error reply in the middle of a pipeline takes its own place in the order and
     * spoils nothing around it. */
    redisAppendCommand(c, "QSEND %s before", pipe_queue);
    redisAppendCommand(c, "QSEND %s lost", missing_queue);
    redisAppendCommand(c, "QSEND %s after", pipe_queue);
    char before_id[ID_MAX + 1], after_id[ID_MAX + 1];
    raw = NULL;
    redisGetReply(c, &raw);
    take_id(c, raw, before_id, "pipeline: QSEND before an error replies a string id");
    raw = NULL;
    redisGetReply(c, &raw);
    expect_error(c, raw, "NOQUEUE no such queue 'c_missing'",
                 "pipeline: the QSEND to c_missing in between is the NOQUEUE error");
    raw = NULL;
    redisGetReply(c, &raw);
    take_id(c, raw, after_id, "pipeline: QSEND after the error replies a string id");

    reply = redisCommand(c, "QDROP %s", pipe_queue);
    expect_integer(c, reply, 1, "pipeline: QDROP c_pipe is 1");
    free(sent_ids);
    free(received);
}

static bool string_has_bytes(const redisReply *reply, const char *bytes, size_t len) {
    return reply && reply->type == REDIS_REPLY_STRING && reply->len == len &&
           memcmp(reply->str, bytes, len) == 0;
}

/* %b carries any bytes; what comes back must be the same bytes, an empty body must be
 * an empty string (not nil), and a body larger than one socket read must arrive whole.
 */
static void binary_bodies(redisContext *c) {
    static const char binary_body[] = "nul\0cr\rlf\n\xff\x01 $5\r\n*1 end";
    const size_t binary_len = sizeof binary_body - 1;
    const size_t large_len = 300000;
    char *large_body = malloc(large_len);
    if (!large_body) {
        setup_failed("binary: memory for a 300000-byte body", "malloc failed");
        return;
    }
    for (size_t i = 0; i < large_len; i++)
        large_body[i] = (char)(i * 7 % 256);

    redisReply *reply = redisCommand(c, "QCREATE %s", binary_queue);
    expect_status(c, reply, "OK", "binary: QCREATE c_binary is OK");
    char id[ID_MAX + 1];
    reply = redisCommand(c, "QSEND %s %b", binary_queue, binary_body, binary_len);
    take_id(c, reply, id,
            "binary: QSEND of a body with NUL, CR, LF and 0xff replies an id");
    reply = redisCommand(c, "QSEND %s %b", binary_queue, "", (size_t)0);
    take_id(c, reply, id, "binary: QSEND of an empty body replies an id");
    reply = redisCommand(c, "QSEND %s %b", binary_queue, large_body, large_len);
    take_id(c, reply, id, "binary: QSEND of a 300000-byte body replies an id");

    reply = redisCommand(c, "QRECV %s COUNT 3", binary_queue);
    bool three = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3;
    for (size_t i = 0; three && i < 3; i++)
        if (message_shape_problem(reply->element[i])) three = false;
    check(three, "binary: QRECV c_binary COUNT 3 is an array of 3 messages", "got %s",
          describe(c, reply));
    if (three) {
        const redisReply *body = reply->element[0]->element[2];
        check(string_has_bytes(body, binary_body, binary_len),
              "binary: the first body comes back byte for byte", "got %s",
              describe(c, body));
        body = reply->element[1]->element[2];
        check(string_has_bytes(body, "", 0),
              "binary: the empty body is an empty string, not nil", "got %s",
              describe(c, body));
        body = reply->element[2]->element[2];
        check(string_has_bytes(body, large_body, large_len),
              "binary: the 300000-byte body comes back whole", "got %s",
              describe(c, body));

        const char *argv[] = {"QDEL", binary_queue, reply->element[0]->element[1]->str,
                              reply->element[1]->element[1]->str,
                              reply->element[2]->element[1]->str};
        size_t argv_lengths[5];
        for (int i = 0; i < 5; i++)
            argv_lengths[i] = strlen(argv[i]);
        redisReply *deleted = redisCommandArgv(c, 5, argv, argv_lengths);
        expect_integer(c, deleted, 3, "binary: QDEL with the three receipts is 3");
    }
    freeReplyObject(reply);

    /* The default MAXSIZE is 1 MiB: that much is accepted, one byte more is TOOBIG. */
    const size_t max_size = 1048576;
    char *max_body = calloc(max_size + 1, 1);
    if (max_body) {
        reply = redisCommand(c, "QSEND %s %b", binary_queue, max_body, max_size);
        take_id(
            c, reply, id,
            "binary: QSEND of a 1048576-byte body (the default MAXSIZE) replies an id");
        reply = redisCommand(c, "QSEND %s %b", binary_queue, max_body, max_size + 1);
        expect_error(c, reply,
                     "TOOBIG message body is 1048577 bytes; queue 'c_binary' accepts "
                     "at most 1048576",
                     "binary: QSEND of 1048577 bytes is the TOOBIG error");
        free(max_body);
    } else {
        setup_failed("binary: memory for a 1 MiB body", "calloc failed");
    }
    reply = redisCommand(c, "QDROP %s", binary_queue);
    expect_integer(c, reply, 1, "binary: QDROP c_binary is 1");
    free(large_body);
}

/* The integer "field:value" of INFO <section>, or -1 when the reply has none. */
static long long server_info_integer(redisContext *c, const char *section,
                                     const char *field) {
    redisReply *reply = redisCommand(c, "INFO %s", section);
    long long value = -1;
    size_t field_len = strlen(field);
    if (reply && reply->type == REDIS_REPLY_STRING) {
        for (const char *line = reply->str; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            if (strncmp(line, field, field_len) == 0 && line[field_len] == ':') {
                value = strtoll(line + field_len + 1, NULL, 10);
                break;
            }
        }
    }
    freeReplyObject(reply);
    return value;
}

/* Polls INFO <section> until field is wanted or 2 s have passed; the last value. */
static long long await_info_field(redisContext *c, const char *section,
                                  const char *field, long long wanted) {
    double deadline = monotonic_seconds() + 2.0;
    long long value = server_info_integer(c, section, field);
    while (value != wanted && monotonic_seconds() < deadline) {
        sleep_seconds(0.02);
        value = server_info_integer(c, section, field);
    }
    return value;
}

/* commands.md: "A receiver that disconnects while blocked takes nothing with it."
 * A third connection blocks in QRECV, then closes without reading; a message sent
 * afterwards must still be there for the next receiver. INFO shows that it
 * really was blocked before it closed, and no longer counts it afterwards. */
static void blocked_receiver_disconnects(redisContext *c, const struct session *s) {
    redisReply *reply = redisCommand(c, "QCREATE %s", quitter_queue);
    expect_status(c, reply, "OK", "quitter: QCREATE c_quit is OK");
    redisContext *quitter = redisConnect(s->host, s->port);
    if (!quitter || quitter->err) {
        setup_failed("quitter: connect a third context",
                     quitter ? quitter->errstr : "out of memory");
        if (quitter) redisFree(quitter);
        return;
    }
    redisAppendCommand(quitter, "QRECV %s WAIT 5", quitter_queue);
    int written_all = 0;
    while (!written_all && redisBufferWrite(quitter, &written_all) == REDIS_OK)
        ;
    long long blocked = await_info_field(c, "queues", "respq_blocked_receivers", 1);
    check(blocked == 1,
          "quitter: INFO queues counts the third context's QRECV WAIT 5 as blocked",
          "respq_blocked_receivers is %lld", blocked);
    redisFree(quitter);
    blocked = await_info_field(c, "queues", "respq_blocked_receivers", 0);
    check(blocked == 0,
          "quitter: once it hung up, INFO queues counts no blocked receiver",
          "respq_blocked_receivers is %lld", blocked);

    char sent_id[ID_MAX + 1];
    reply = redisCommand(c, "QSEND %s left", quitter_queue);
    take_id(c, reply, sent_id, "quitter: QSEND c_quit left replies an id");
    struct message got;
    reply = redisCommand(c, "QRECV %s", quitter_queue);
    take_messages(c, reply, 1, &got,
                  "quitter: after the blocked receiver closed, QRECV c_quit still gets "
                  "1 message");
    check_message(&got, "left", sent_id, 1,
                  "quitter: it is the message sent, first delivery");
    reply = redisCommand(c, "QDROP %s", quitter_queue);
    expect_integer(c, reply, 1, "quitter: QDROP c_quit is 1");
}

/* ---- commands the session does not use: QSET, QPEEK, QPURGE, QSCAN, QREDRIVE ---- */

static void queue_settings_peek_purge(redisContext *c) {
    redisReply *reply = redisCommand(c, "QCREATE %s", extra_queue);
    expect_status(c, reply, "OK", "extra: QCREATE c_extra is OK");

    reply = redisCommand(c, "QSET %s VISIBILITY 7 WAIT 0.25", extra_queue);
    expect_status(c, reply, "OK", "extra: QSET c_extra VISIBILITY 7 WAIT 0.25 is OK");
    redisReply *info = redisCommand(c, "QINFO %s", extra_queue);
    check(info_integer_is(info, "visibility_ms", 7000) &&
              info_integer_is(info, "wait_ms", 250),
          "extra: QINFO shows visibility_ms 7000 and wait_ms 250", "got %lld and %lld",
          info_integer(info, "visibility_ms"), info_integer(info, "wait_ms"));
    freeReplyObject(info);
    reply = redisCommand(c, "QSET %s VISIBILITY %s", extra_queue, "-1");
    bool names_option = reply && reply->type == REDIS_REPLY_ERROR &&
                        strncmp(reply->str, "ERR ", 4) == 0 &&
                        strcasestr(reply->str, "VISIBILITY");
    check(names_option, "extra: QSET c_extra VISIBILITY -1 is an ERR naming VISIBILITY",
          "got %s", describe(c, reply));
    freeReplyObject(reply);

    char first_id[ID_MAX + 1], urgent_id[ID_MAX + 1];
    reply = redisCommand(c, "QSEND %s first", extra_queue);
    take_id(c, reply, first_id, "extra: QSEND c_extra first replies an id");
    reply = redisCommand(c, "QSEND %s urgent PRIORITY 5", extra_queue);
    take_id(c, reply, urgent_id,
            "extra: QSEND c_extra urgent PRIORITY 5 replies an id");

    reply = redisCommand(c, "QPEEK %s COUNT 5", extra_queue);
    bool peeked = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2;
    for (size_t i = 0; peeked && i < 2; i++) {
        const redisReply *entry = reply->element[i];
        peeked = entry->type == REDIS_REPLY_ARRAY && entry->elements == 3 &&
                 entry->element[0]->type == REDIS_REPLY_STRING &&
                 entry->element[1]->type == REDIS_REPLY_STRING &&
                 entry->element[2]->type == REDIS_REPLY_INTEGER;
    }
    check(peeked, "extra: QPEEK c_extra COUNT 5 is an array of 2 [id, body, receives]",
          "got %s", describe(c, reply));
    if (peeked) {
        redisReply **urgent = reply->element[0]->element,
                   **first = reply->element[1]->element;
        check(is_string(urgent[0], urgent_id) && is_string(urgent[1], "urgent") &&
                  urgent[2]->integer == 0 && is_string(first[0], first_id) &&
                  is_string(first[1], "first") && first[2]->integer == 0,
              "extra: QPEEK shows urgent then first, in delivery order, receives 0",
              "got %s", describe(c, urgent[1]));
    }
    freeReplyObject(reply);
    reply = redisCommand(c, "QLEN %s", extra_queue);
    expect_integer(c, reply, 2, "extra: after QPEEK both are still ready (QLEN 2)");

    reply = redisCommand(c, "QPURGE %s", extra_queue);
    expect_integer(c, reply, 2, "extra: QPURGE c_extra removes 2");
    reply = redisCommand(c, "QLEN %s", extra_queue);
    expect_integer(c, reply, 0, "extra: QLEN c_extra is 0 after the purge");
    reply = redisCommand(c, "QDROP %s", extra_queue);
    expect_integer(c, reply, 1, "extra: QDROP c_extra is 1");
}

/* COUNT 1 forces several round trips, so the cursor really is carried between calls. */
static void queue_scan(redisContext *c) {
    static const char *const scanned[] = {"c_scan_a", "c_scan_b", "c_scan_c"};
    redisReply *reply;
    char what[80];
    for (int i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "scan: QCREATE %s is OK", scanned[i]);
        reply = redisCommand(c, "QCREATE %s", scanned[i]);
        expect_status(c, reply, "OK", what);
    }
    bool seen[3] = {false, false, false};
    bool well_formed = true;
    char cursor[64] = "0", problem[700] = "";
    int calls = 0, strangers = 0;
    do {
        reply = redisCommand(c, "QSCAN %s MATCH %s COUNT 1", cursor, "c_scan_*");
        calls++;
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING ||
            reply->element[0]->len >= sizeof cursor ||
            reply->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(problem, sizeof problem, "call %d got %s", calls,
                     describe(c, reply));
            well_formed = false;
            freeReplyObject(reply);
            break;
        }
        memcpy(cursor, reply->element[0]->str, reply->element[0]->len + 1);
        const redisReply *names = reply->element[1];
        for (size_t i = 0; i < names->elements; i++) {
            bool known = false;
            for (int q = 0; q < 3; q++)
                if (is_string(names->element[i], scanned[q])) seen[q] = known = true;
            if (!known) strangers++;
        }
        freeReplyObject(reply);
    } while (strcmp(cursor, "0") != 0 && calls < 100);
    check(well_formed && strcmp(cursor, "0") == 0,
          "scan: QSCAN ... MATCH c_scan_* COUNT 1 replies [string cursor, array] until "
          "cursor 0",
          "%s; %d calls, last cursor %s", problem, calls, cursor);
    check(seen[0] && seen[1] && seen[2] && strangers == 0,
          "scan: the iteration returned exactly c_scan_a, c_scan_b, c_scan_c",
          "seen a=%d b=%d c=%d, %d names not matching", seen[0], seen[1], seen[2],
          strangers);
    for (int i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "scan: QDROP %s is 1", scanned[i]);
        reply = redisCommand(c, "QDROP %s", scanned[i]);
        expect_integer(c, reply, 1, what);
    }
}

static void dead_letters_and_redrive(redisContext *c) {
    redisReply *reply;
    reply = redisCommand(c, "QCREATE %s", dlq_queue);
    expect_status(c, reply, "OK", "dlq: QCREATE c_dlq is OK");
    reply = redisCommand(c, "QCREATE %s DLQ %s MAXRECEIVES 1", source_queue, dlq_queue);
    expect_status(c, reply, "OK", "dlq: QCREATE c_src DLQ c_dlq MAXRECEIVES 1 is OK");
    char sent_id[ID_MAX + 1];
    reply = redisCommand(c, "QSEND %s doomed", source_queue);
    take_id(c, reply, sent_id, "dlq: QSEND c_src doomed replies an id");
    struct message got;
    reply = redisCommand(c, "QRECV %s", source_queue);
    take_messages(c, reply, 1, &got, "dlq: QRECV c_src gives 1 message");
    reply = redisCommand(c, "QVIS %s %s 0", source_queue, got.receipt);
    expect_status(c, reply, "OK", "dlq: QVIS c_src <receipt> 0 is OK");
    reply = redisCommand(c, "QLEN %s", source_queue);
    expect_integer(c, reply, 0, "dlq: the message left c_src (QLEN 0)");
    reply = redisCommand(c, "QLEN %s", dlq_queue);
    expect_integer(c, reply, 1, "dlq: it is ready in c_dlq (QLEN 1)");

    redisReply *info = redisCommand(c, "QINFO %s", dlq_queue);
    const redisReply *sources = info_field(info, "dlq_sources");
    check(sources && sources->type == REDIS_REPLY_ARRAY && sources->elements == 1 &&
              is_string(sources->element[0], source_queue),
          "dlq: QINFO c_dlq has dlq_sources [c_src]", "got %s", describe(c, sources));
    freeReplyObject(info);
    reply = redisCommand(c, "QDROP %s", dlq_queue);
    expect_error(c, reply, "INUSE queue 'c_dlq' is the dead-letter queue of 'c_src'",
                 "dlq: QDROP c_dlq is the INUSE error");

    /* WITHMETA's fifth element is a map, so under RESP2 a flat field/value array. */
    redisReply *with_meta = redisCommand(c, "QRECV %s WITHMETA", dlq_queue);
    const redisReply *entry =
        with_meta && with_meta->type == REDIS_REPLY_ARRAY && with_meta->elements == 1
            ? with_meta->element[0]
            : NULL;
    bool five = entry && entry->type == REDIS_REPLY_ARRAY && entry->elements == 5 &&
                entry->element[0]->type == REDIS_REPLY_STRING &&
                entry->element[1]->type == REDIS_REPLY_STRING &&
                entry->element[3]->type == REDIS_REPLY_INTEGER &&
                entry->element[4]->type == REDIS_REPLY_ARRAY;
    check(five,
          "dlq: QRECV c_dlq WITHMETA is 1 message [id, receipt, body, receives, meta "
          "array]",
          "got %s", describe(c, entry ? entry : with_meta));
    if (five) {
        const redisReply *meta = entry->element[4];
        const redisReply *group = info_field(meta, "group"),
                         *dedup = info_field(meta, "dedupid");
        check(is_string(entry->element[0], sent_id) &&
                  is_string(entry->element[2], "doomed") &&
                  entry->element[3]->integer == 2,
              "dlq: it keeps its id, body and receive count (now 2)", "receives %lld",
              entry->element[3]->integer);
        check(meta->elements == 12 && info_integer(meta, "sent_ms") > 0 &&
                  info_integer(meta, "first_received_ms") >=
                      info_integer(meta, "sent_ms") &&
                  info_integer_is(meta, "priority", 0) && group &&
                  group->type == REDIS_REPLY_NIL && dedup &&
                  dedup->type == REDIS_REPLY_NIL,
              "dlq: meta has sent_ms, first_received_ms, priority 0, group nil, "
              "dedupid nil",
              "meta is %s", describe(c, meta));
        check(is_string(info_field(meta, "dlq_source"), source_queue),
              "dlq: meta's dlq_source is the string c_src", "got %s",
              describe(c, info_field(meta, "dlq_source")));
        reply = redisCommand(c, "QVIS %s %s 0", dlq_queue, entry->element[1]->str);
        expect_status(c, reply, "OK",
                      "dlq: QVIS c_dlq <receipt> 0 makes it ready again");
    }
    freeReplyObject(with_meta);

    reply = redisCommand(c, "QREDRIVE %s", dlq_queue);
    expect_integer(c, reply, 1, "dlq: QREDRIVE c_dlq moves 1");
    reply = redisCommand(c, "QREDRIVE %s", dlq_queue);
    expect_integer(c, reply, 0, "dlq: QREDRIVE c_dlq again moves 0");
    reply = redisCommand(c, "QRECV %s", source_queue);
    take_messages(c, reply, 1, &got, "dlq: QRECV c_src gives the redriven message");
    check_message(&got, "doomed", sent_id, 1,
                  "dlq: same id and body, receives counted from 0 again");

    reply = redisCommand(c, "QDROP %s", source_queue);
    expect_integer(c, reply, 1, "dlq: QDROP c_src is 1");
    reply = redisCommand(c, "QDROP %s", dlq_queue);
    expect_integer(c, reply, 1, "dlq: QDROP c_dlq is 1 once its source is gone");
}

/* The parts of the Redis surface a hiredis program meets: %b through ECHO (the
 * NUL-carrying case of redis-surface.md), a bulk PING reply, SELECT, and Redis's
 * exact texts for a wrong arity and an unknown command. */
static void server_surface(redisContext *c) {
    static const char echoed[] = "a\0b\r\n\xfe";
    redisReply *reply = redisCommand(c, "ECHO %b", echoed, sizeof echoed - 1);
    check(string_has_bytes(reply, echoed, sizeof echoed - 1),
          "surface: ECHO of 6 bytes with NUL and CRLF is the same bulk string",
          "got %s", describe(c, reply));
    freeReplyObject(reply);
    reply = redisCommand(c, "PING %s", "hello");
    check(is_string(reply, "hello"), "surface: PING hello is the bulk string hello",
          "got %s", describe(c, reply));
    freeReplyObject(reply);
    reply = redisCommand(c, "SELECT 0");
    expect_status(c, reply, "OK", "surface: SELECT 0 is OK");
    reply = redisCommand(c, "SELECT 1");
    expect_error(c, reply, "ERR DB index is out of range",
                 "surface: SELECT 1 is Redis's out-of-range error");
    reply = redisCommand(c, "QSEND %s", jobs_queue);
    expect_error(c, reply, "ERR wrong number of arguments for 'qsend' command",
                 "surface: QSEND with only a queue is Redis's arity error");
    reply = redisCommand(c, "QNOPE a b");
    expect_error(c, reply,
                 "ERR unknown command 'QNOPE', with args beginning with: 'a' 'b' ",
                 "surface: an unknown command is Redis's unknown-command error");
}

int main(void) {
    /* Line-buffered even into the runner's file: a crash keeps the lines before it. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct session session = {0};
    session.host = host_from_environment();
    session.port = port_from_environment();

    redisContext *c =
        session.port > 0 ? redisConnect(session.host, session.port) : NULL;
    if (!check(c && !c->err, "connect with redisConnect", "%s:%d: %s", session.host,
               session.port, c ? c->errstr : "bad RESPQ_PORT or out of memory")) {
        if (c) redisFree(c);
        return report_summary();
    }
    redisSetTimeout(c, (struct timeval){READ_TIMEOUT_SECONDS, 0});

    step1_create(c);
    step2_send(c, &session);
    step3_len(c);
    step4_receive(c, &session);
    step5_delete(c, &session);
    step6_visibility(c, &session);
    step7_after_delay(c, &session);
    step8_fifo(c);
    step9_long_poll(c, &session);
    step10_info(c);
    step11_missing_queue(c);
    step12_drop(c);

    pipelining(c);
    binary_bodies(c);
    server_surface(c);
    blocked_receiver_disconnects(c, &session);
    queue_settings_peek_purge(c);
    queue_scan(c);
    dead_letters_and_redrive(c);

    redisFree(c);
    return report_summary();
}
