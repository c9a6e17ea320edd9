/* server.c: the command pipeline, from a parsed argv to a handler, and the
 * transaction commands that live inside it (MULTI, EXEC, DISCARD).
 *
 * processCommand checks, in Redis 7's order, so that clients that match on error
 * texts see the same thing: the command exists, then its subcommand, then arity,
 * then authentication, then MULTI queueing, then maxmemory for commands that grow
 * state. Only then does the handler run, timed for INFO commandstats.
 *
 * Inside MULTI, commands are copied out of the query buffer (their argv points into
 * it and is only valid while the command is parsed) and run back to back at EXEC.
 * A refused command (unknown, wrong arity, NOAUTH) poisons the transaction, as Redis
 * does, and EXEC answers EXECABORT.
 */
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aof.h"
#include "commands.h"

struct server server;

/* ---- Time ---- */

long long unixTimeMs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long monotonicUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- Argument helpers ---- */

int argIs(const respArg *a, const char *word) {
    size_t n = strlen(word);
    return a->len == n && strncasecmp(a->ptr, word, n) == 0;
}

int argToLongLong(const respArg *a, long long *out) {
    /* Same grammar as Redis's string2ll: optional '-', digits, no leading zeros,
     * no spaces, must fit. */
    const char *p = a->ptr;
    size_t n = a->len, i = 0;
    if (n == 0 || n > 20) return 0;
    int neg = 0;
    if (p[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1) return 0;
    }
    if (p[i] == '0' && n > i + 1) return 0;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (~0ULL - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        *out = (long long)v;
    }
    if (neg && v == 0) return 0; /* "-0" is not a number Redis accepts */
    return 1;
}

char *escapeForError(char *out, size_t cap, const char *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 <= cap; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\'') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- Transactions ---- */

void freeClientMultiState(client *c) {
    for (int i = 0; i < c->mcount; i++) {
        queuedCommand *mc = &c->mstate[i];
        for (int j = 0; j < mc->argc; j++) memFree((void *)mc->argv[j].ptr);
        memFree(mc->argv);
    }
    memFree(c->mstate);
    c->mstate = NULL;
    c->mcount = c->mcap = 0;
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_EXEC);
}

static void queueMultiCommand(client *c, command *cmd) {
    if (c->mcount == c->mcap) {
        c->mcap = c->mcap ? c->mcap * 2 : 8;
        c->mstate = memRealloc(c->mstate, sizeof(queuedCommand) * (size_t)c->mcap);
    }
    queuedCommand *mc = &c->mstate[c->mcount++];
    mc->cmd = cmd;
    mc->argc = c->argc;
    mc->argv = memAlloc(sizeof(respArg) * (size_t)c->argc);
    for (int i = 0; i < c->argc; i++) {
        mc->argv[i].ptr = memStrndup(c->argv[i].ptr, c->argv[i].len);
        mc->argv[i].len = c->argv[i].len;
    }
}

/* Refuses the command with an error; inside MULTI this also poisons the
 * transaction, as Redis's rejectCommand does. */
static void rejectCommand(client *c, const char *err) {
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
    addReplyError(c, err);
}

/* Runs one resolved command with its statistics. */
static void call(client *c, command *cmd) {
    long long errorsBefore = server.statErrorReplies;
    long long start = monotonicUs();
    c->cmd = cmd;
    commandProc *proc = cmd->proc ? cmd->proc : cmd->parent->proc;
    proc(c);
    cmd->usec += monotonicUs() - start;
    cmd->calls++;
    if (server.statErrorReplies != errorsBefore) cmd->failedCalls++;
    server.statCommands++;
}

void multiCommand(client *c) {
    if (c->flags & CLIENT_MULTI) {
        addReplyError(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    addReplyOk(c);
}

void discardCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        addReplyError(c, "ERR DISCARD without MULTI");
        return;
    }
    freeClientMultiState(c);
    addReplyOk(c);
}

void execCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        addReplyError(c, "ERR EXEC without MULTI");
        return;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        freeClientMultiState(c);
        addReplyError(c, "EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    /* The queued commands now own the client's argv; the transaction state is
     * detached first so that a command run inside it sees a normal client. */
    queuedCommand *queued = c->mstate;
    int count = c->mcount;
    c->mstate = NULL;
    c->mcount = c->mcap = 0;
    c->flags &= ~CLIENT_MULTI;
    c->flags |= CLIENT_IN_EXEC;
    addReplyArrayLen(c, count);
    int savedArgc = c->argc;
    respArg *savedArgv = c->argv;
    command *execCmd = c->cmd;
    for (int i = 0; i < count; i++) {
        c->argc = queued[i].argc;
        c->argv = queued[i].argv;
        call(c, queued[i].cmd);
    }
    c->argc = savedArgc;
    c->argv = savedArgv;
    c->cmd = execCmd;
    c->flags &= ~CLIENT_IN_EXEC;
    for (int i = 0; i < count; i++) {
        for (int j = 0; j < queued[i].argc; j++) memFree((void *)queued[i].argv[j].ptr);
        memFree(queued[i].argv);
    }
    memFree(queued);
}

/* ---- The pipeline ---- */

static void replyUnknownCommand(client *c) {
    char args[512];
    size_t used = 0;
    args[0] = '\0';
    /* As Redis: quote each argument, stop once 128 bytes of them are written. */
    for (int i = 1; i < c->argc && used < 128; i++) {
        int room = 128 - (int)used;
        int n = snprintf(args + used, sizeof(args) - used, "'%.*s' ",
                         (int)(c->argv[i].len < (size_t)room ? c->argv[i].len : (size_t)room),
                         c->argv[i].ptr);
        if (n < 0) break;
        used += (size_t)n;
        if (used >= sizeof(args)) used = sizeof(args) - 1;
    }
    int nameLen = c->argv[0].len > 128 ? 128 : (int)c->argv[0].len;
    char msg[800];
    snprintf(msg, sizeof(msg),
             "ERR unknown command '%.*s', with args beginning with: %s", nameLen,
             c->argv[0].ptr, args);
    rejectCommand(c, msg);
}

static int isTransactionControl(command *cmd) {
    return cmd->proc == execCommand || cmd->proc == discardCommand ||
           cmd->proc == multiCommand || cmd->proc == quitCommand ||
           cmd->proc == resetCommand;
}

int processCommand(client *c) {
    c->cmd = NULL;
    if (c->argc == 0) return 1;

    command *cmd = commandLookup(c->argv[0].ptr, c->argv[0].len);
    if (!cmd) {
        replyUnknownCommand(c);
        return 1;
    }
    if (cmd->subcommands && c->argc >= 2) {
        command *sub = commandLookupSub(cmd, c->argv[1].ptr, c->argv[1].len);
        if (!sub) {
            char upper[64];
            size_t n = strlen(cmd->name);
            if (n >= sizeof(upper)) n = sizeof(upper) - 1;
            for (size_t i = 0; i < n; i++)
                upper[i] = (char)(cmd->name[i] >= 'a' && cmd->name[i] <= 'z'
                                      ? cmd->name[i] - 32
                                      : cmd->name[i]);
            upper[n] = '\0';
            int subLen = c->argv[1].len > 128 ? 128 : (int)c->argv[1].len;
            char msg[300];
            snprintf(msg, sizeof(msg), "ERR unknown subcommand '%.*s'. Try %s HELP.",
                     subLen, c->argv[1].ptr, upper);
            rejectCommand(c, msg);
            return 1;
        }
        cmd = sub;
    }
    c->cmd = cmd;
    if ((cmd->arity > 0 && c->argc != cmd->arity) ||
        (cmd->arity < 0 && c->argc < -cmd->arity) ||
        (cmd->proc == NULL && cmd->subcommands && c->argc < 2)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command",
                 cmd->fullName);
        cmd->rejectedCalls++;
        rejectCommand(c, msg);
        return 1;
    }
    if (!c->authenticated && !(cmd->flags & CMD_NO_AUTH)) {
        cmd->rejectedCalls++;
        rejectCommand(c, "NOAUTH Authentication required.");
        return 1;
    }
    if (c->flags & CLIENT_MULTI && !isTransactionControl(cmd)) {
        if (cmd->flags & CMD_NO_MULTI) {
            rejectCommand(c, "ERR Command not allowed inside a transaction");
            return 1;
        }
        queueMultiCommand(c, cmd);
        addReplyRaw(c, "+QUEUED\r\n", 9);
        return 1;
    }
    if (server.maxMemory && (cmd->flags & CMD_DENYOOM) &&
        memUsed() > (size_t)server.maxMemory) {
        cmd->rejectedCalls++;
        rejectCommand(c, "OOM command not allowed when used memory > 'maxmemory'.");
        return 1;
    }
    if ((cmd->flags & CMD_WRITE) && aofWriteError()) {
        cmd->rejectedCalls++;
        char msg[400];
        snprintf(msg, sizeof(msg), "MISCONF Errors writing to the append-only file: %s",
                 aofWriteError());
        rejectCommand(c, msg);
        return 1;
    }
    /* Before the call, so that CLIENT INFO/LIST show themselves, as Redis's do;
     * commands run by EXEC leave it at exec. */
    c->lastCmd = cmd;
    call(c, cmd);
    /* The reply waits until every record made so far is durable: its own
     * change, and any change of another client that it could have seen. */
    c->waitLsn = aofLastLsn();
    return !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY));
}
