/*
 * hiredis_async.c: the redis-compat session (redis-compat/README.md, "The session",
 * all twelve steps) driven through hiredis's asynchronous API on its libev adapter,
 * the way event-driven C servers use it: redisAsyncConnect + redisLibevAttach,
 * redisAsyncCommand with a callback per command, no blocking call anywhere.
 *
 * It is shaped as a chain of steps: a step issues its commands at once (they are
 * pipelined on the connection, and hiredis calls their callbacks in order), and the
 * callback of a step's last command starts the next step. The waits (the DELAY of
 * step 7, the 0.2 s before the long poll's send) are ev timers, and the long poll
 * uses a second async context on the same loop, so the blocked QRECV's callback can
 * only fire once the loop has carried the other context's QSEND. After step 12 a
 * burst of 1,000 QSENDs checks that callbacks come back in order under load.
 * A watchdog timer turns a reply that never comes into a FAIL rather than a hang.
 * What it shares with hiredis_sync.c (the ok/FAIL counting, the reply checks, the
 * QRECV message, the QINFO look-ups, RESPQ_HOST/RESPQ_PORT) is in compat_check.h;
 * the Makefile builds each program from its one .c, which includes it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libev.h>

#include "compat_check.h"

#define BURST_SIZE 1000
#define WATCHDOG_SECONDS 30.0

static const char jobs_queue[] = "c_async_jobs";
static const char orders_queue[] = "c_async_orders";
static const char wait_queue[] = "c_async_wait";
static const char missing_queue[] = "c_async_missing";
static const char burst_queue[] = "c_async_burst";

/* What came back, for FAIL lines. One static buffer: one describe() per message. */
static const char *describe(const redisAsyncContext *ac, const redisReply *reply) {
    return describe_reply(reply,
                          ac && ac->err ? ac->errstr : "connection closed or freed");
}

/* ---- the loop, the two connections, and what the steps carry between them ---- */

static struct ev_loop *loop;
/* main_conn runs the session; sender_conn only sends the long poll's wake-up. */
static redisAsyncContext *main_conn, *sender_conn;
static ev_timer pause_timer, watchdog;
static void (*after_pause)(void);
static bool finishing, aborted;
static const char *current_step = "connect";

static struct {
    char low_id[ID_MAX + 1], high_id[ID_MAX + 1], later_id[ID_MAX + 1],
        plain_id[ID_MAX + 1];
    ev_tstamp later_sent_at;
    struct message high, low, plain;
    char o1_id[ID_MAX + 1], o2_id[ID_MAX + 1], duplicate_id[ID_MAX + 1];
    ev_tstamp long_poll_started;
    int long_poll_arrivals;
    char wake_id[ID_MAX + 1];
    struct message woken;
    ev_tstamp woken_after;
    char (*burst_ids)[ID_MAX + 1];
    int burst_replies, burst_string_ids;
    struct message *burst_received;
} state;

/* Ends the session early: frees both contexts (hiredis then calls every pending
 * callback with a NULL reply, which the callbacks report and do not chain from) and
 * stops the timers, so ev_run returns. */
static void abort_session(const char *why) {
    if (aborted) return;
    aborted = true;
    printf("FAIL - session aborted during step \"%s\": %s\n", current_step, why);
    failed++;
    ev_timer_stop(loop, &pause_timer);
    ev_timer_stop(loop, &watchdog);
    redisAsyncContext *closing_main = main_conn, *closing_sender = sender_conn;
    main_conn = sender_conn = NULL;
    if (closing_main) redisAsyncFree(closing_main);
    if (closing_sender) redisAsyncFree(closing_sender);
}

static void on_watchdog(struct ev_loop *timer_loop, ev_timer *timer, int events) {
    (void)timer_loop;
    (void)timer;
    (void)events;
    abort_session(
        "the session did not finish within the watchdog's 30 s (a reply never came?)");
}

static void on_pause_over(struct ev_loop *timer_loop, ev_timer *timer, int events) {
    (void)timer_loop;
    (void)timer;
    (void)events;
    after_pause();
}

static void pause_then(ev_tstamp seconds, void (*next_step)(void)) {
    after_pause = next_step;
    ev_timer_set(&pause_timer, seconds > 0 ? seconds : 0, 0);
    ev_timer_start(loop, &pause_timer);
}

/* ---- generic expectations: the reply callback checks, then chains ---- */

enum expected_kind { EXPECT_STATUS, EXPECT_ERROR, EXPECT_INTEGER, EXPECT_EMPTY_ARRAY };

struct expectation {
    const char *what;
    enum expected_kind kind;
    const char *text; /* the status, or the exact error text */
    long long integer;
    void (*then)(void); /* the next step, on a step's last command */
};

static void on_expected_reply(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    const redisReply *reply = raw_reply;
    const struct expectation *expected = privdata;
    switch (expected->kind) {
    case EXPECT_STATUS:
        check_status(reply, expected->text, expected->what, describe(ac, reply));
        break;
    case EXPECT_ERROR:
        check_error(reply, expected->text, expected->what, describe(ac, reply));
        break;
    case EXPECT_INTEGER:
        check_integer(reply, expected->integer, expected->what, describe(ac, reply));
        break;
    case EXPECT_EMPTY_ARRAY:
        check_empty_array(reply, expected->what, describe(ac, reply));
        break;
    }
    if (reply && expected->then) expected->then();
}

/* A QSEND reply: a string id of 1 to ID_MAX bytes, copied to id. */
struct id_expectation {
    const char *what;
    char *id;
    ev_tstamp *replied_at; /* when the reply came, for the steps that wait on it */
    void (*then)(void);
};

static void on_id_reply(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    const redisReply *reply = raw_reply;
    const struct id_expectation *expected = privdata;
    check_id(reply, expected->id, expected->what, describe(ac, reply));
    if (expected->replied_at) *expected->replied_at = ev_now(loop);
    if (reply && expected->then) expected->then();
}

/* Checks that a QRECV reply is an array of exactly `expected` well-shaped messages
 * and copies them to out (zeroed first, so a bad reply leaves empty messages for the
 * checks that follow). hiredis frees the reply after the callback, hence the copies. */
static bool take_messages(const redisAsyncContext *ac, const redisReply *reply,
                          size_t expected, struct message *out, const char *what) {
    memset(out, 0, expected * sizeof *out);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != expected)
        return check(false, what, "expected an array of %zu messages, got %s", expected,
                     describe(ac, reply));
    for (size_t i = 0; i < expected; i++) {
        const char *problem = message_shape_problem(reply->element[i]);
        if (problem) return check(false, what, "message %zu %s", i, problem);
    }
    for (size_t i = 0; i < expected; i++)
        copy_message(reply->element[i], &out[i]);
    return check(true, what, "-");
}

/* ---- the session, steps 1 to 12 of redis-compat/README.md ---- */

static void step2_send(void);
static void step3_len(void);
static void step4_receive(void);
static void step5_delete(void);
static void step6_visibility(void);
static void step7_after_delay(void);
static void step8_fifo(void);
static void step9_long_poll(void);
static void step10_info(void);
static void step11_missing_queue(void);
static void step12_drop(void);
static void burst(void);
static void finish(void);

static void step1_create(void) {
    current_step = "1 QCREATE";
    static struct expectation created = {
        "1 QCREATE c_async_jobs VISIBILITY 30 is the status OK", EXPECT_STATUS, "OK", 0,
        NULL};
    static struct expectation created_again = {"1 the same QCREATE again is OK",
                                               EXPECT_STATUS, "OK", 0, NULL};
    static struct expectation conflict = {
        "1 QCREATE c_async_jobs VISIBILITY 10 is the EXISTS error", EXPECT_ERROR,
        "EXISTS queue 'c_async_jobs' exists with different attributes", 0, NULL};
    static struct expectation fifo_created = {"1 QCREATE c_async_orders FIFO is OK",
                                              EXPECT_STATUS, "OK", 0, step2_send};
    redisAsyncCommand(main_conn, on_expected_reply, &created,
                      "QCREATE %s VISIBILITY 30", jobs_queue);
    redisAsyncCommand(main_conn, on_expected_reply, &created_again,
                      "QCREATE %s VISIBILITY 30", jobs_queue);
    redisAsyncCommand(main_conn, on_expected_reply, &conflict,
                      "QCREATE %s VISIBILITY 10", jobs_queue);
    redisAsyncCommand(main_conn, on_expected_reply, &fifo_created, "QCREATE %s FIFO",
                      orders_queue);
}

static void step2_send(void) {
    current_step = "2 QSEND";
    static struct id_expectation sent_low = {
        "2 QSEND c_async_jobs low PRIORITY 1 replies a string id", state.low_id, NULL,
        NULL};
    static struct id_expectation sent_high = {
        "2 QSEND c_async_jobs high PRIORITY 9 replies a string id", state.high_id, NULL,
        NULL};
    static struct id_expectation sent_later = {
        "2 QSEND c_async_jobs later DELAY 1 replies a string id", state.later_id,
        &state.later_sent_at, NULL};
    static struct id_expectation sent_plain = {
        "2 QSEND c_async_jobs plain replies a string id", state.plain_id, NULL,
        step3_len};
    redisAsyncCommand(main_conn, on_id_reply, &sent_low, "QSEND %s low PRIORITY 1",
                      jobs_queue);
    redisAsyncCommand(main_conn, on_id_reply, &sent_high, "QSEND %s %s PRIORITY %d",
                      jobs_queue, "high", 9);
    redisAsyncCommand(main_conn, on_id_reply, &sent_later, "QSEND %s %b DELAY 1",
                      jobs_queue, "later", (size_t)5);
    const char *argv[] = {"QSEND", jobs_queue, "plain"};
    size_t argv_lengths[] = {5, strlen(jobs_queue), 5};
    redisAsyncCommandArgv(main_conn, on_id_reply, &sent_plain, 3, argv, argv_lengths);
}

static void step3_len(void) {
    current_step = "3 QLEN";
    const char *ids[] = {state.low_id, state.high_id, state.later_id, state.plain_id};
    bool all_different = true;
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            if (strcmp(ids[i], ids[j]) == 0) all_different = false;
    check(all_different, "2 the four ids are all different", "got %s %s %s %s", ids[0],
          ids[1], ids[2], ids[3]);
    static struct expectation three_ready = {
        "3 QLEN c_async_jobs is the integer 3 (the delayed one is not ready)",
        EXPECT_INTEGER, NULL, 3, step4_receive};
    redisAsyncCommand(main_conn, on_expected_reply, &three_ready, "QLEN %s",
                      jobs_queue);
}

static void on_first_receive(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    struct message got[3];
    take_messages(ac, raw_reply, 3, got,
                  "4 QRECV c_async_jobs COUNT 10 VISIBILITY 5 is an array of 3 [id, "
                  "receipt, body, receives]");
    check_message(&got[0], "high", state.high_id, 1,
                  "4 first message is high, its QSEND id, receives 1");
    check_message(&got[1], "low", state.low_id, 1,
                  "4 second message is low, its QSEND id, receives 1");
    check_message(&got[2], "plain", state.plain_id, 1,
                  "4 third message is plain, its QSEND id, receives 1");
    state.high = got[0];
    state.low = got[1];
    state.plain = got[2];
    if (raw_reply) step5_delete();
}

static void step4_receive(void) {
    current_step = "4 QRECV";
    redisAsyncCommand(main_conn, on_first_receive, NULL,
                      "QRECV %s COUNT 10 VISIBILITY 5", jobs_queue);
}

static void step5_delete(void) {
    current_step = "5 QDEL";
    static struct expectation deleted = {
        "5 QDEL c_async_jobs <receipt of high> is the integer 1", EXPECT_INTEGER, NULL,
        1, NULL};
    static struct expectation deleted_again = {"5 the same QDEL again is the integer 0",
                                               EXPECT_INTEGER, NULL, 0,
                                               step6_visibility};
    redisAsyncCommand(main_conn, on_expected_reply, &deleted, "QDEL %s %s", jobs_queue,
                      state.high.receipt);
    redisAsyncCommand(main_conn, on_expected_reply, &deleted_again, "QDEL %s %s",
                      jobs_queue, state.high.receipt);
}

static void wait_for_delay(void) {
    current_step = "7 waiting for the DELAY";
    pause_then(state.later_sent_at + 1.1 - ev_now(loop), step7_after_delay);
}

static void step6_visibility(void) {
    current_step = "6 QVIS";
    static struct expectation released = {
        "6 QVIS c_async_jobs <receipt of low> 0 is OK", EXPECT_STATUS, "OK", 0, NULL};
    static struct expectation extended = {
        "6 QVIS c_async_jobs <receipt of plain> 60 is OK", EXPECT_STATUS, "OK", 0,
        NULL};
    static struct expectation stale = {
        "6 QVIS of the deleted high's receipt is the BADRECEIPT error", EXPECT_ERROR,
        "BADRECEIPT receipt is stale or unknown", 0, wait_for_delay};
    redisAsyncCommand(main_conn, on_expected_reply, &released, "QVIS %s %s 0",
                      jobs_queue, state.low.receipt);
    redisAsyncCommand(main_conn, on_expected_reply, &extended, "QVIS %s %s 60",
                      jobs_queue, state.plain.receipt);
    redisAsyncCommand(main_conn, on_expected_reply, &stale, "QVIS %s %s 5", jobs_queue,
                      state.high.receipt);
}

static void on_second_receive(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    struct message got[2];
    take_messages(
        ac, raw_reply, 2, got,
        "7 after the delay QRECV c_async_jobs COUNT 10 is an array of 2 messages");
    check_message(&got[0], "low", state.low_id, 2,
                  "7 first is low, delivered for the 2nd time");
    check_message(&got[1], "later", state.later_id, 1, "7 second is later, receives 1");
    if (raw_reply) step8_fifo();
}

static void step7_after_delay(void) {
    current_step = "7 QRECV after the delay";
    redisAsyncCommand(main_conn, on_second_receive, NULL, "QRECV %s COUNT 10",
                      jobs_queue);
}

static void on_fifo_receive(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    check(strcmp(state.duplicate_id, state.o1_id) == 0 &&
              strcmp(state.o1_id, state.o2_id) != 0,
          "8 the duplicate's id is the first o1's id", "o1 %s, o2 %s, duplicate %s",
          state.o1_id, state.o2_id, state.duplicate_id);
    struct message got[2];
    take_messages(ac, raw_reply, 2, got,
                  "8 QRECV c_async_orders COUNT 10 is an array of 2 messages");
    check_message(&got[0], "o1", state.o1_id, 1, "8 FIFO: o1 comes first");
    check_message(&got[1], "o2", state.o2_id, 1, "8 FIFO: o2 comes second");
    if (raw_reply) step9_long_poll();
}

static void step8_fifo(void) {
    current_step = "8 FIFO";
    static struct id_expectation sent_o1 = {
        "8 QSEND c_async_orders o1 GROUP g1 DEDUPID d1 replies a string id",
        state.o1_id, NULL, NULL};
    static struct id_expectation sent_o2 = {
        "8 QSEND c_async_orders o2 GROUP g1 DEDUPID d2 replies a string id",
        state.o2_id, NULL, NULL};
    static struct id_expectation sent_duplicate = {
        "8 QSEND of o1 with DEDUPID d1 again replies a string id", state.duplicate_id,
        NULL, NULL};
    redisAsyncCommand(main_conn, on_id_reply, &sent_o1,
                      "QSEND %s o1 GROUP g1 DEDUPID d1", orders_queue);
    redisAsyncCommand(main_conn, on_id_reply, &sent_o2,
                      "QSEND %s o2 GROUP g1 DEDUPID d2", orders_queue);
    redisAsyncCommand(main_conn, on_id_reply, &sent_duplicate,
                      "QSEND %s o1 GROUP g1 DEDUPID d1", orders_queue);
    redisAsyncCommand(main_conn, on_fifo_receive, NULL, "QRECV %s COUNT 10",
                      orders_queue);
}

/* Step 9. The blocked QRECV's reply and the sender's QSEND reply may come back in
 * either order; the comparison waits for both. */
static void on_empty_wait(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    ev_now_update(loop);
    ev_tstamp waited = ev_now(loop) - state.long_poll_started;
    const redisReply *reply = raw_reply;
    check(reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 0,
          "9 QRECV c_async_wait WAIT 0.2 on the empty queue is an empty array",
          "got %s", describe(ac, reply));
    /* 1 ms of slack: durations have millisecond resolution in the contract. */
    check(waited >= 0.199 && waited < 1.5, "9 it came after at least 0.2 s",
          "returned after %.3f s", waited);
    if (reply) step10_info();
}

static void long_poll_compare(void) {
    if (++state.long_poll_arrivals < 2) return;
    check_message(&state.woken, "wake", state.wake_id, 1,
                  "9 it is the message the other connection sent");
    check(state.woken_after >= 0.15 && state.woken_after < 2.0,
          "9 it returned after the send, well before 5 s", "returned after %.3f s",
          state.woken_after);
    ev_now_update(loop);
    state.long_poll_started = ev_now(loop);
    redisAsyncCommand(main_conn, on_empty_wait, NULL, "QRECV %s WAIT 0.2", wait_queue);
}

static void on_woken(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    ev_now_update(loop);
    state.woken_after = ev_now(loop) - state.long_poll_started;
    take_messages(
        ac, raw_reply, 1, &state.woken,
        "9 the blocked QRECV c_async_wait WAIT 5 returns an array of 1 message");
    if (raw_reply) long_poll_compare();
}

static void on_wake_sent(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    const redisReply *reply = raw_reply;
    check(copy_id(reply, state.wake_id),
          "9 the other context's QSEND c_async_wait wake replies a string id", "got %s",
          describe(ac, reply));
    if (reply) long_poll_compare();
}

static void send_wake(void) {
    current_step = "9 the other context's QSEND";
    redisAsyncCommand(sender_conn, on_wake_sent, NULL, "QSEND %s wake", wait_queue);
}

static void start_blocked_receive(void) {
    current_step = "9 blocked QRECV";
    ev_now_update(loop);
    state.long_poll_started = ev_now(loop);
    redisAsyncCommand(main_conn, on_woken, NULL, "QRECV %s WAIT 5", wait_queue);
    pause_then(0.2, send_wake);
}

static void step9_long_poll(void) {
    current_step = "9 long polling";
    static struct expectation created = {"9 QCREATE c_async_wait is OK", EXPECT_STATUS,
                                         "OK", 0, start_blocked_receive};
    redisAsyncCommand(main_conn, on_expected_reply, &created, "QCREATE %s", wait_queue);
}

static void on_info(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    const redisReply *info = raw_reply;
    check(info && info->type == REDIS_REPLY_ARRAY && info->elements == 48,
          "10 QINFO c_async_jobs is a flat field/value array of 24 pairs", "got %s",
          describe(ac, info));
    check(is_string(info_field(info, "name"), jobs_queue),
          "10 name is the string c_async_jobs", "got %s",
          describe(ac, info_field(info, "name")));
    check(is_string(info_field(info, "type"), "standard"),
          "10 type is the string standard", "got %s",
          describe(ac, info_field(info, "type")));
    const redisReply *dlq = info_field(info, "dlq");
    check(dlq && dlq->type == REDIS_REPLY_NIL, "10 dlq is nil", "got %s",
          describe(ac, dlq));
    check(info_integer(info, "visibility_ms") == 30000,
          "10 visibility_ms is the integer 30000", "got %s",
          describe(ac, info_field(info, "visibility_ms")));
    /* In flight now: low and later (step 7) and plain (QVIS 60). */
    check(info_integer(info, "inflight") == 3, "10 inflight is the integer 3", "got %s",
          describe(ac, info_field(info, "inflight")));
    const redisReply *sources = info_field(info, "dlq_sources");
    check(sources && sources->type == REDIS_REPLY_ARRAY && sources->elements == 0,
          "10 dlq_sources is an empty array", "got %s", describe(ac, sources));
    if (info) step11_missing_queue();
}

static void step10_info(void) {
    current_step = "10 QINFO";
    redisAsyncCommand(main_conn, on_info, NULL, "QINFO %s", jobs_queue);
}

static void step11_missing_queue(void) {
    current_step = "11 NOQUEUE";
    static struct expectation no_queue = {
        "11 QSEND c_async_missing x is the NOQUEUE error", EXPECT_ERROR,
        "NOQUEUE no such queue 'c_async_missing'", 0, NULL};
    static struct expectation still_works = {
        "11 the connection still works (PING is PONG)", EXPECT_STATUS, "PONG", 0,
        step12_drop};
    redisAsyncCommand(main_conn, on_expected_reply, &no_queue, "QSEND %s x",
                      missing_queue);
    redisAsyncCommand(main_conn, on_expected_reply, &still_works, "PING");
}

static void step12_drop(void) {
    current_step = "12 QDROP";
    static struct expectation jobs_dropped = {"12 QDROP c_async_jobs is the integer 1",
                                              EXPECT_INTEGER, NULL, 1, NULL};
    static struct expectation orders_dropped = {
        "12 QDROP c_async_orders is the integer 1", EXPECT_INTEGER, NULL, 1, NULL};
    static struct expectation wait_dropped = {"12 QDROP c_async_wait is the integer 1",
                                              EXPECT_INTEGER, NULL, 1, burst};
    redisAsyncCommand(main_conn, on_expected_reply, &jobs_dropped, "QDROP %s",
                      jobs_queue);
    redisAsyncCommand(main_conn, on_expected_reply, &orders_dropped, "QDROP %s",
                      orders_queue);
    redisAsyncCommand(main_conn, on_expected_reply, &wait_dropped, "QDROP %s",
                      wait_queue);
}

/* ---- a burst: 1,000 callbacks in flight, then all received and deleted ---- */

static void on_burst_deleted(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    const redisReply *reply = raw_reply;
    check(reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == BURST_SIZE,
          "burst: one QDEL with the 1000 receipts (redisAsyncCommandArgv) deletes 1000",
          "got %s", describe(ac, reply));
    static struct expectation empty = {"burst: QLEN c_async_burst is 0 afterwards",
                                       EXPECT_INTEGER, NULL, 0, NULL};
    static struct expectation dropped = {"burst: QDROP c_async_burst is 1",
                                         EXPECT_INTEGER, NULL, 1, finish};
    if (!reply) return;
    redisAsyncCommand(main_conn, on_expected_reply, &empty, "QLEN %s", burst_queue);
    redisAsyncCommand(main_conn, on_expected_reply, &dropped, "QDROP %s", burst_queue);
}

static void on_burst_received(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)privdata;
    take_messages(ac, raw_reply, BURST_SIZE, state.burst_received,
                  "burst: QRECV c_async_burst COUNT 1000 is an array of 1000 messages");
    int in_order = 0;
    for (int i = 0; i < BURST_SIZE; i++) {
        char body[16];
        snprintf(body, sizeof body, "msg-%d", i);
        if (message_is(&state.burst_received[i], body, state.burst_ids[i], 1))
            in_order++;
    }
    check(in_order == BURST_SIZE,
          "burst: they are msg-0 .. msg-999 in send order, ids as sent",
          "%d of 1000 match", in_order);
    if (!raw_reply) return;
    const char **argv = calloc(BURST_SIZE + 2, sizeof *argv);
    size_t *argv_lengths = calloc(BURST_SIZE + 2, sizeof *argv_lengths);
    if (argv && argv_lengths) {
        argv[0] = "QDEL";
        argv[1] = burst_queue;
        for (int i = 0; i < BURST_SIZE; i++)
            argv[i + 2] = state.burst_received[i].receipt;
        for (int i = 0; i < BURST_SIZE + 2; i++)
            argv_lengths[i] = strlen(argv[i]);
        redisAsyncCommandArgv(main_conn, on_burst_deleted, NULL, BURST_SIZE + 2, argv,
                              argv_lengths);
    } else {
        abort_session("calloc failed for the QDEL argument vector");
    }
    free(argv);
    free(argv_lengths);
}

/* privdata carries the send's index, so an out-of-order callback would be seen. */
static void on_burst_sent(redisAsyncContext *ac, void *raw_reply, void *privdata) {
    (void)ac;
    int index = (int)(intptr_t)privdata;
    bool in_turn = index == state.burst_replies;
    state.burst_replies++;
    if (in_turn && copy_id(raw_reply, state.burst_ids[index])) state.burst_string_ids++;
    if (!raw_reply || state.burst_replies < BURST_SIZE) return;
    check(state.burst_string_ids == BURST_SIZE,
          "burst: 1000 QSEND callbacks, in order, each with a string id", "%d of 1000",
          state.burst_string_ids);
    redisAsyncCommand(main_conn, on_burst_received, NULL, "QRECV %s COUNT %d",
                      burst_queue, BURST_SIZE);
}

static void send_burst(void) {
    current_step = "burst of 1000 QSENDs";
    for (int i = 0; i < BURST_SIZE; i++)
        redisAsyncCommand(main_conn, on_burst_sent, (void *)(intptr_t)i,
                          "QSEND %s msg-%d", burst_queue, i);
}

static void burst(void) {
    current_step = "burst QCREATE";
    state.burst_ids = calloc(BURST_SIZE, sizeof *state.burst_ids);
    state.burst_received = calloc(BURST_SIZE, sizeof *state.burst_received);
    if (!state.burst_ids || !state.burst_received) {
        abort_session("calloc failed for the burst's bookkeeping");
        return;
    }
    static struct expectation created = {"burst: QCREATE c_async_burst is OK",
                                         EXPECT_STATUS, "OK", 0, send_burst};
    redisAsyncCommand(main_conn, on_expected_reply, &created, "QCREATE %s",
                      burst_queue);
}

/* ---- connecting and closing ---- */

static void finish(void) {
    current_step = "disconnect";
    finishing = true;
    ev_timer_stop(loop, &watchdog);
    if (main_conn) redisAsyncDisconnect(main_conn);
    if (sender_conn) redisAsyncDisconnect(sender_conn);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    bool is_main = ac == main_conn;
    if (is_main)
        main_conn = NULL;
    else if (ac == sender_conn)
        sender_conn = NULL;
    else
        return; /* freed by abort_session, which already reported */
    if (finishing) {
        check(status == REDIS_OK,
              is_main ? "the main context disconnects cleanly"
                      : "the sender context disconnects cleanly",
              "status %d: %s", status, ac->errstr);
    } else {
        char why[200];
        snprintf(why, sizeof why, "the %s context was disconnected: %s",
                 is_main ? "main" : "sender", ac->err ? ac->errstr : "by the server");
        abort_session(why);
    }
}

static int contexts_connected;

static void on_connect(const redisAsyncContext *ac, int status) {
    bool is_main = ac == main_conn;
    if (status != REDIS_OK) {
        /* hiredis frees a context whose connection failed once this returns. */
        if (is_main)
            main_conn = NULL;
        else
            sender_conn = NULL;
        char why[200];
        snprintf(why, sizeof why, "connecting the %s context: %s",
                 is_main ? "main" : "sender", ac->errstr);
        abort_session(why);
        return;
    }
    if (++contexts_connected == 2) {
        check(true, "two async contexts connected on one libev loop", "-");
        step1_create();
    }
}

static redisAsyncContext *open_context(const char *host, int port, const char *role) {
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (!ac || ac->err) {
        printf("FAIL - connect the %s context to %s:%d: %s\n", role, host, port,
               ac ? ac->errstr : "out of memory");
        failed++;
        if (ac) redisAsyncFree(ac);
        return NULL;
    }
    redisLibevAttach(loop, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

int main(void) {
    /* Line-buffered even into the runner's file: a crash keeps the lines before it. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *host = host_from_environment();
    int port = port_from_environment();
    if (port < 0) {
        printf("FAIL - RESPQ_PORT is a port number: got \"%s\"\n",
               getenv("RESPQ_PORT"));
        printf("0 passed, 1 failed\n");
        return 1;
    }

    loop = ev_loop_new(EVFLAG_AUTO);
    if (!loop) {
        printf("FAIL - create a libev loop: ev_loop_new failed\n0 passed, 1 failed\n");
        return 1;
    }
    ev_timer_init(&pause_timer, on_pause_over, 0, 0);
    ev_timer_init(&watchdog, on_watchdog, WATCHDOG_SECONDS, 0);
    main_conn = open_context(host, port, "main");
    sender_conn = open_context(host, port, "sender");
    if (main_conn && sender_conn) {
        ev_timer_start(loop, &watchdog);
        ev_run(loop, 0);
    } else {
        if (main_conn) redisAsyncFree(main_conn);
        if (sender_conn) redisAsyncFree(sender_conn);
    }
    ev_loop_destroy(loop);
    free(state.burst_ids);
    free(state.burst_received);

    return report_summary();
}
