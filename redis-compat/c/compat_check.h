/*
 * compat_check.h: what hiredis_sync.c and hiredis_async.c share, so that the two
 * programs check respq's replies the same way and print the same lines: the ok/FAIL
 * counting and the summary line, how a reply is described in a FAIL line, the
 * reply-type expectations (status, error, integer, empty array, string id), the
 * QRECV message and its shape, the QINFO field look-ups, and where the server is
 * (RESPQ_HOST, RESPQ_PORT).
 *
 * It holds only what does not depend on which hiredis API a program drives: nothing
 * here takes a redisContext or a redisAsyncContext, and nothing frees a reply (the
 * synchronous program owns its replies, hiredis frees the asynchronous ones). Each
 * program is built by the Makefile from its one .c, so everything here is static and
 * the header is included as "compat_check.h", found next to the .c that includes it.
 */
#ifndef COMPAT_CHECK_H
#define COMPAT_CHECK_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

/* commands.md: a message id is at most 40 bytes, a receipt at most 64. */
#define ID_MAX 40
#define RECEIPT_MAX 64
/* The session's bodies are short words; a longer one is a mismatch anyway. */
#define SHORT_BODY_MAX 63

/* ---- counting: one "ok - " or "FAIL - " line per check, then the summary ---- */

static int passed, failed;

__attribute__((format(printf, 3, 4))) static bool check(bool good, const char *what,
                                                        const char *why_format, ...) {
    if (good) {
        printf("ok - %s\n", what);
        passed++;
        return true;
    }
    char why[1024];
    va_list args;
    va_start(args, why_format);
    vsnprintf(why, sizeof why, why_format, args);
    va_end(args);
    printf("FAIL - %s: %s\n", what, why);
    failed++;
    return false;
}

/* The last line, "N passed, M failed", and the exit status: 0 only when something
 * passed and nothing failed. */
static int report_summary(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

/* ---- describing a reply for FAIL lines ---- */

/* Bodies and errors can carry any byte; FAIL lines must stay one printable line. */
static void escape_bytes(const char *bytes, size_t len, char *out, size_t out_size) {
    size_t used = 0;
    for (size_t i = 0; i < len && used + 8 < out_size; i++) {
        unsigned char byte = (unsigned char)bytes[i];
        if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\')
            out[used++] = (char)byte;
        else
            used += (size_t)snprintf(out + used, out_size - used, "\\x%02x", byte);
        if (i + 1 < len && used + 8 >= out_size) {
            used += (size_t)snprintf(out + used, out_size - used, "...");
            break;
        }
    }
    out[used] = '\0';
}

/* What came back, for FAIL lines; no_reply_why says why there is no reply (each
 * program's describe() takes it from its context). One static buffer: one
 * describe_reply() per message. */
static const char *describe_reply(const redisReply *reply, const char *no_reply_why) {
    static char text[600];
    char escaped[400];
    if (!reply) {
        snprintf(text, sizeof text, "no reply (%s)", no_reply_why);
        return text;
    }
    switch (reply->type) {
    case REDIS_REPLY_STATUS:
        escape_bytes(reply->str, reply->len, escaped, sizeof escaped);
        snprintf(text, sizeof text, "status \"%s\"", escaped);
        break;
    case REDIS_REPLY_ERROR:
        escape_bytes(reply->str, reply->len, escaped, sizeof escaped);
        snprintf(text, sizeof text, "error \"%s\"", escaped);
        break;
    case REDIS_REPLY_STRING:
        escape_bytes(reply->str, reply->len, escaped, sizeof escaped);
        snprintf(text, sizeof text, "string \"%s\" (%zu bytes)", escaped, reply->len);
        break;
    case REDIS_REPLY_INTEGER:
        snprintf(text, sizeof text, "integer %lld", reply->integer);
        break;
    case REDIS_REPLY_NIL:
        snprintf(text, sizeof text, "nil");
        break;
    case REDIS_REPLY_ARRAY:
        snprintf(text, sizeof text, "array of %zu elements", reply->elements);
        break;
    default:
        snprintf(text, sizeof text, "reply of unknown type %d", reply->type);
    }
    return text;
}

/* ---- expectations on one reply: each checks, with `got` (the program's describe()
 * of the reply) in its FAIL line, and leaves the reply to the caller ---- */

static bool is_string(const redisReply *reply, const char *text) {
    return reply && reply->type == REDIS_REPLY_STRING && reply->len == strlen(text) &&
           memcmp(reply->str, text, reply->len) == 0;
}

static bool check_status(const redisReply *reply, const char *status, const char *what,
                         const char *got) {
    bool good =
        reply && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, status) == 0;
    check(good, what, "expected status \"%s\", got %s", status, got);
    return good;
}

static bool check_error(const redisReply *reply, const char *text, const char *what,
                        const char *got) {
    bool good =
        reply && reply->type == REDIS_REPLY_ERROR && strcmp(reply->str, text) == 0;
    check(good, what, "expected error \"%s\", got %s", text, got);
    return good;
}

static bool check_integer(const redisReply *reply, long long value, const char *what,
                          const char *got) {
    bool good = reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == value;
    check(good, what, "expected integer %lld, got %s", value, got);
    return good;
}

static bool check_empty_array(const redisReply *reply, const char *what,
                              const char *got) {
    bool good = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 0;
    check(good, what, "expected an empty array, got %s", got);
    return good;
}

/* A QSEND reply: a bulk string (hiredis STRING) of 1 to ID_MAX bytes, copied to id
 * (which is left empty when the reply is not one). */
static bool copy_id(const redisReply *reply, char id[ID_MAX + 1]) {
    bool good = reply && reply->type == REDIS_REPLY_STRING && reply->len >= 1 &&
                reply->len <= ID_MAX;
    if (good)
        memcpy(id, reply->str, reply->len + 1);
    else
        id[0] = '\0';
    return good;
}

static bool check_id(const redisReply *reply, char id[ID_MAX + 1], const char *what,
                     const char *got) {
    bool good = copy_id(reply, id);
    check(good, what, "expected a string id of 1 to %d bytes, got %s", ID_MAX, got);
    return good;
}

/* ---- QRECV's messages ---- */

struct message {
    char id[ID_MAX + 1];
    char receipt[RECEIPT_MAX + 1];
    char body[SHORT_BODY_MAX + 1];
    size_t body_len;
    long long receives;
};

/* Why one QRECV entry is not [id, receipt, body, receives] with hiredis types STRING,
 * STRING, STRING, INTEGER and the contract's lengths; NULL when it is. */
static const char *message_shape_problem(const redisReply *entry) {
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 4)
        return "is not an array of 4";
    const redisReply *id = entry->element[0], *receipt = entry->element[1],
                     *body = entry->element[2], *receives = entry->element[3];
    if (id->type != REDIS_REPLY_STRING || id->len < 1 || id->len > ID_MAX)
        return "has no string id of 1 to 40 bytes";
    if (receipt->type != REDIS_REPLY_STRING || receipt->len < 1 ||
        receipt->len > RECEIPT_MAX)
        return "has no string receipt of 1 to 64 bytes";
    if (body->type != REDIS_REPLY_STRING) return "has a body that is not a string";
    if (receives->type != REDIS_REPLY_INTEGER)
        return "has a receive count that is not an integer";
    return NULL;
}

/* Copies one entry that message_shape_problem() found well-shaped; the body is cut
 * to SHORT_BODY_MAX bytes, body_len keeps its real length. */
static void copy_message(const redisReply *entry, struct message *out) {
    redisReply **fields = entry->element;
    memcpy(out->id, fields[0]->str, fields[0]->len + 1);
    memcpy(out->receipt, fields[1]->str, fields[1]->len + 1);
    out->body_len = fields[2]->len;
    size_t kept = fields[2]->len < SHORT_BODY_MAX ? fields[2]->len : SHORT_BODY_MAX;
    memcpy(out->body, fields[2]->str, kept);
    out->body[kept] = '\0';
    out->receives = fields[3]->integer;
}

static bool message_is(const struct message *m, const char *body, const char *id,
                       long long receives) {
    return m->body_len == strlen(body) && strcmp(m->body, body) == 0 &&
           strcmp(m->id, id) == 0 && m->receives == receives;
}

static void check_message(const struct message *got, const char *body, const char *id,
                          long long receives, const char *what) {
    check(
        message_is(got, body, id, receives), what,
        "expected body \"%s\" id %s receives %lld, got body \"%s\" id %s receives %lld",
        body, id, receives, got->body, got->id, got->receives);
}

/* ---- QINFO (and WITHMETA's meta) ---- */

/* The value of one field of a QINFO reply, which under RESP2 is a flat array
 * field, value, field, value, ...; NULL when the field is absent. */
static const redisReply *info_field(const redisReply *info, const char *name) {
    if (!info || info->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < info->elements; i += 2)
        if (is_string(info->element[i], name)) return info->element[i + 1];
    return NULL;
}

/* LLONG_MIN stands for "absent or not an integer", which no checked value is. */
static long long info_integer(const redisReply *info, const char *name) {
    const redisReply *field = info_field(info, name);
    return field && field->type == REDIS_REPLY_INTEGER ? field->integer : LLONG_MIN;
}

/* ---- where the server is ---- */

/* RESPQ_HOST, or 127.0.0.1 when it is unset or empty. */
static const char *host_from_environment(void) {
    return getenv("RESPQ_HOST") && *getenv("RESPQ_HOST") ? getenv("RESPQ_HOST")
                                                         : "127.0.0.1";
}

/* RESPQ_PORT, 6390 when it is unset or empty, -1 when it is not a port number. */
static int port_from_environment(void) {
    const char *text = getenv("RESPQ_PORT");
    if (!text || !*text) return 6390;
    char *end;
    long port = strtol(text, &end, 10);
    return (*end == '\0' && port > 0 && port < 65536) ? (int)port : -1;
}

#endif /* COMPAT_CHECK_H */
