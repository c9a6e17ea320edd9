/* server.h: the server struct, the client struct, and the few things every layer
 * above the event loop shares (reply helpers, limits, status codes).
 *
 * One thread runs the event loop, command execution and (later) the AOF writer, so
 * nothing here is locked. There is one global `server`; a client is one connection.
 *
 * A client's life: net.c accepts it and reads into `qbuf`; resp.c parses one command
 * at a time into `argv` (slices of qbuf, valid only while the command runs);
 * server.c checks auth, arity and MULTI and calls the handler; handlers append
 * replies to `reply`; before the loop sleeps, net.c writes every pending client's
 * replies with one write each.
 */
#ifndef RESPQ_SERVER_H
#define RESPQ_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "ev.h"
#include "mem.h"
#include "resp.h"

#define RESPQ_VERSION "0.1.0"
#define REDIS_COMPAT_VERSION "7.0.0" /* the Redis surface respq follows (HELLO, INFO) */

#define DEFAULT_PORT 6390
#define MAX_CLIENT_NAME 256
/* Descriptors the server needs beside its clients (listeners, epoll, logs, AOF):
 * the event loop and the open-files limit are sized maxclients + this. */
#define RESERVED_FDS 128

typedef struct client client;
typedef struct command command;
typedef void commandProc(client *c);

/* ---- Client ---- */

/* Client flags. */
#define CLIENT_CLOSE_AFTER_REPLY (1 << 0) /* QUIT, protocol error: close once written */
#define CLIENT_CLOSE_ASAP (1 << 1)        /* close at the next safe point, unwritten
                                             replies dropped (KILL, output limit) */
#define CLIENT_MULTI (1 << 2)             /* inside MULTI: commands are queued */
#define CLIENT_DIRTY_EXEC (1 << 3)        /* a queued command was refused: EXECABORT */
#define CLIENT_UNIX (1 << 4)              /* connected over the unix socket */
#define CLIENT_PENDING_WRITE (1 << 5)     /* in server.pendingWrites */
#define CLIENT_BLOCKED (1 << 6)           /* waiting (QRECV WAIT): input is not read
                                             into commands until unblocked */
#define CLIENT_IN_EXEC (1 << 7)           /* running EXEC's queued commands */
#define CLIENT_WRITE_HANDLER (1 << 8)     /* EV_WRITABLE installed (kernel buffer full) */
#define CLIENT_NO_EVICT (1 << 9)          /* CLIENT NO-EVICT on (recorded only) */
#define CLIENT_NO_TOUCH (1 << 10)         /* CLIENT NO-TOUCH on (recorded only) */
#define CLIENT_RESUME (1 << 11)           /* just unblocked: its buffered input runs
                                             before the loop sleeps (net.c's resume
                                             list), never from inside the engine */

typedef struct queuedCommand {
    command *cmd;
    int argc;
    respArg *argv; /* owned: argv array and each ptr (copies of the query bytes) */
} queuedCommand;

struct client {
    long long id;     /* CLIENT ID: increasing, never reused */
    int fd;
    int flags;        /* CLIENT_* */
    int proto;        /* 2 or 3, switched by HELLO */
    int authenticated;
    char *name;       /* owned, or NULL: CLIENT SETNAME */
    char *libName;    /* owned, or NULL: CLIENT SETINFO LIB-NAME */
    char *libVer;     /* owned, or NULL */
    char addr[64];    /* peer "ip:port", or "path:0" style for unix */
    char laddr[64];   /* local address */
    long long ctimeMs;           /* connect time (unix ms) */
    long long lastInteractionMs; /* for `timeout` and CLIENT LIST idle */

    respBuf qbuf;     /* query buffer; bytes before qpos are consumed */
    size_t qpos;
    respParser parser;
    int argc;         /* the command being run */
    respArg *argv;    /* borrowed from parser or a multiCommand */
    command *cmd;     /* the command being run, or NULL */
    command *lastCmd; /* for CLIENT LIST cmd= */

    respBuf reply;    /* replies not yet written */
    size_t sentLen;   /* bytes of reply already written */
    long long outputSoftSinceMs; /* when the soft output limit was first passed, 0 */
    uint64_t waitLsn;             /* LSN of this client's last change: its replies
                                     wait until that LSN is durable (aof.c) */

    queuedCommand *mstate; /* owned: queued commands while CLIENT_MULTI */
    int mcount;
    int mcap;

    engineWaiter waiter; /* QRECV WAIT: parked on a queue while CLIENT_BLOCKED;
                            owned here, only linked by the engine */
    client *resumePrev, *resumeNext; /* net.c's resume list (CLIENT_RESUME) */

    client *prev, *next;         /* server.clients list */
    client *pendingPrev, *pendingNext; /* server.pendingWrites list
                                          (CLIENT_PENDING_WRITE) */
};

/* ---- Server ---- */

/* appendfsync values */
#define AOF_FSYNC_NO 0
#define AOF_FSYNC_ALWAYS 1
#define AOF_FSYNC_EVERYSEC 2

/* loglevel values */
#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3

#define MAX_BIND_ADDRS 16

struct server {
    /* -- configuration (config.c owns the table that fills these) -- */
    char *configFile;            /* owned absolute path, or NULL */
    char *bindAddrs[MAX_BIND_ADDRS]; /* owned */
    int bindCount;
    int port;
    char *unixSocket;            /* owned, or NULL */
    int unixSocketPerm;          /* octal mode, e.g. 0700; 0 = leave umask's */
    int tcpBacklog;
    int protectedMode;
    long long maxClients;
    long long idleTimeoutSec;    /* `timeout`: close idle clients; 0 = never */
    int tcpKeepalive;            /* seconds; 0 = off */
    char *requirePass;           /* owned, or NULL when no password */
    int logLevel;                /* LL_* */
    char *logFile;               /* owned; "" = stderr */
    char *pidFile;               /* owned, or NULL */
    char *dir;                   /* owned: working directory for data files */
    int appendOnly;
    char *appendDirName;         /* owned: "appendonlydir" */
    int appendFsync;             /* AOF_FSYNC_* */
    int autoAofRewritePercentage;
    long long autoAofRewriteMinSize;
    int aofLoadTruncated;
    long long maxMemory;         /* bytes; 0 = no limit */
    long long protoMaxBulkLen;
    long long clientQueryBufferLimit;
    long long clientOutputHardLimit; /* bytes; 0 = none (normal class) */
    long long clientOutputSoftLimit;
    long long clientOutputSoftSeconds;
    int hz;                      /* server cron frequency */

    /* -- run-time state -- */
    evLoop *loop;
    engine *engine;              /* owned: every queue and message (cmd_queue.c
                                    drives it) */
    int listenFds[MAX_BIND_ADDRS + 1];
    int listenCount;
    int unixFd;                  /* -1 when no unix socket */
    client *clients;             /* list of every connection */
    long long numClients;
    client *pendingWrites;       /* clients with replies to write this turn */
    long long nextClientId;
    long long startTimeMs;
    long long nowMs;             /* unix ms, refreshed every loop turn */
    int shutdownAsap;            /* SIGTERM/SIGINT/SHUTDOWN seen */
    int shutdownExitCode;
    char runId[41];

    /* -- statistics (CONFIG RESETSTAT zeroes these) -- */
    long long statConnections;
    long long statRejectedConnections;
    long long statCommands;
    long long statNetInputBytes;
    long long statNetOutputBytes;
    long long statErrorReplies;
    long long statProtocolErrors;
};

extern struct server server;

/* ---- Time ---- */
long long unixTimeMs(void);   /* wall clock, ms */
long long monotonicUs(void);  /* for durations */

/* ---- Replies (net.c): append to c->reply and schedule the write ---- */
void addReplyRaw(client *c, const char *p, size_t n);
void addReplySimple(client *c, const char *s);
void addReplyOk(client *c);
void addReplyError(client *c, const char *s); /* s = "CODE message", e.g. "ERR x" */
void addReplyErrorFormat(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void addReplyErrorArity(client *c);  /* wrong number of arguments for '<cmd>' */
void addReplyInt(client *c, long long v);
void addReplyBulk(client *c, const void *p, size_t n);
void addReplyBulkStr(client *c, const char *s);
void addReplyBulkInt(client *c, long long v);
void addReplyNull(client *c);
void addReplyNullArray(client *c);
void addReplyArrayLen(client *c, long long n);
void addReplyMapLen(client *c, long long n);
void addReplySetLen(client *c, long long n);
void addReplyDouble(client *c, double d);
void addReplyBool(client *c, int v);
void addReplyVerbatim(client *c, const char *p, size_t n); /* txt */

/* ---- Command pipeline (server.c) ---- */

/* Runs the command in c->argv/c->argc: auth, lookup, arity, MULTI queueing, stats,
 * then the handler. Returns 0 when the client must not be used any more by the
 * caller's loop (it is flagged to close), 1 otherwise. */
int processCommand(client *c);
void freeClientMultiState(client *c);
/* A name's bytes as they may appear in an error text: printable ASCII except ' is
 * kept, the rest becomes \xNN (lower-case hex). Writes at most cap-1 bytes plus NUL
 * and returns out. */
char *escapeForError(char *out, size_t cap, const char *p, size_t n);
/* Case-insensitive compare of an argument with a NUL-terminated word. */
int argIs(const respArg *a, const char *word);
/* Parses a whole argument as a signed 64-bit integer: 1 on success. */
int argToLongLong(const respArg *a, long long *out);

/* ---- Connections (net.c) ---- */
int netListen(void);                 /* open every listener; 0 ok, -1 (logged) */
void netCloseListeners(void);
void freeClient(client *c);
void freeClientAsync(client *c);     /* CLIENT_CLOSE_ASAP, freed before the loop sleeps */
int netWritePending(void);           /* write every pending client; before sleeping */
void netCron(void);                  /* idle timeouts, output soft limits */
void netFlushAllBlocking(void);      /* at shutdown: best-effort write of all replies */
client *netFindClient(long long id);
void netClientInfo(client *c, respBuf *out); /* one CLIENT LIST line, with \n */
/* Runs the buffered input of a client that has just been unblocked. */
void netResumeClient(client *c);
/* Puts an unblocked client on the resume list (at most once). Engine callbacks use
 * this instead of netResumeClient: running a client's next commands from inside
 * an engine call would re-enter the engine. */
void netScheduleResume(client *c);
/* Runs the buffered input of every client on the resume list, including those
 * added meanwhile; returns how many were run. Call only from the loop's top
 * level. */
int netRunResumes(void);

/* ---- Logging (log.c) ---- */
void logMsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void logRaw(int level, const char *msg);
int logLevelFromName(const char *name); /* -1 if unknown */
const char *logLevelName(int level);
void logReopen(void);                   /* after `logfile` changes */

/* ---- Configuration (config.c) ---- */
void configInitDefaults(void);
/* Loads the file then the `--name value` argv overrides. On a bad line prints the
 * reason, naming file and line, and returns -1. */
int configLoad(const char *path, int argc, char **argv);
void configCommand(client *c);       /* CONFIG GET/SET/RESETSTAT/REWRITE/HELP */
/* Redis glob match (* ? [a-z] [^a] \\x) of s against pattern: 1 if it matches. */
int stringMatch(const char *pattern, size_t plen, const char *s, size_t slen,
                int nocase);

/* ---- Server commands (cmd_server.c) ---- */
void pingCommand(client *c);
void echoCommand(client *c);
void helloCommand(client *c);
void authCommand(client *c);
void selectCommand(client *c);
void quitCommand(client *c);
void resetCommand(client *c);
void roleCommand(client *c);
void clientCommand(client *c);
void infoCommand(client *c);
void multiCommand(client *c);
void execCommand(client *c);
void discardCommand(client *c);
void dbsizeCommand(client *c);
void timeCommand(client *c);
void shutdownCommand(client *c);
void bgrewriteaofCommand(client *c);
void flushallCommand(client *c);
void clusterCommand(client *c);
void readonlyCommand(client *c);
void resetStats(void);
void serverCronSample(void); /* from the cron: ops/sec samples, memory peak */

/* ---- Queue commands (cmd_queue.c) ---- */
void qcreateCommand(client *c);
void qsetCommand(client *c);
void qdropCommand(client *c);
void qpurgeCommand(client *c);
void qlenCommand(client *c);
void qinfoCommand(client *c);
void qscanCommand(client *c);
void qsendCommand(client *c);
void qrecvCommand(client *c);
void qdelCommand(client *c);
void qvisCommand(client *c);
void qpeekCommand(client *c);
void qredriveCommand(client *c);
void qreplayCommand(client *c);       /* cmd_replay.c: one AOF record */
/* The `# Queues` section of INFO (fields only, CRLF endings). */
void queueInfoSection(respBuf *out, long long blockedReceivers);
long long queueCount(void);           /* DBSIZE, INFO keyspace */
void queueFlushAll(long long nowMs);  /* FLUSHALL: drop every queue */
/* The engine's waiterDone callback (set once in main.c): answers a blocked QRECV. */
void queueWaiterDone(void *ctx, engineWaiter *w, queue *q, int why);
/* Before the loop sleeps: runs due engine timers, serves blocked receivers and
 * runs the input of the clients that unblocked, until nothing more moves. */
void queueBeforeSleep(void);

#endif
