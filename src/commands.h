/* commands.h: the command table: every command respq answers, with what COMMAND,
 * COMMAND INFO/DOCS/LIST and redis-cli's hints need (arity, flags, keys, docs), and
 * the handler that runs it.
 *
 * The table is static data in commands.c. Container commands (CLIENT, CONFIG,
 * COMMAND) list their subcommands, each a full entry of its own, so arity and docs
 * are per subcommand as in Redis 7. Run-time statistics live in the entries, which is
 * why the table is not const.
 */
#ifndef RESPQ_COMMANDS_H
#define RESPQ_COMMANDS_H

#include "server.h"

/* Command flags; each prints under its Redis name in COMMAND INFO. */
#define CMD_WRITE (1u << 0)       /* "write": changes state */
#define CMD_READONLY (1u << 1)    /* "readonly" */
#define CMD_DENYOOM (1u << 2)     /* "denyoom": refused when maxmemory is reached */
#define CMD_ADMIN (1u << 3)       /* "admin" */
#define CMD_NOSCRIPT (1u << 4)    /* "noscript" */
#define CMD_BLOCKING (1u << 5)    /* "blocking": may block the client (QRECV WAIT) */
#define CMD_LOADING (1u << 6)     /* "loading": allowed while loading the AOF */
#define CMD_STALE (1u << 7)       /* "stale" */
#define CMD_FAST (1u << 8)        /* "fast": O(1) or O(log n) */
#define CMD_NO_AUTH (1u << 9)     /* "no_auth": allowed before AUTH */
#define CMD_NO_MULTI (1u << 10)   /* "no_multi": refused inside MULTI */
#define CMD_ALLOW_BUSY (1u << 11) /* "allow_busy" */
#define CMD_SKIP_SLOWLOG (1u << 12) /* "skip_slowlog" */
#define CMD_SENTINEL (1u << 13)   /* "sentinel" */

/* Argument flags for COMMAND DOCS. */
#define ARG_OPTIONAL (1u << 0)
#define ARG_MULTIPLE (1u << 1)
#define ARG_MULTIPLE_TOKEN (1u << 2)

typedef struct commandArg {
    const char *name;
    const char *type;  /* key string integer double pattern unix-time token
                          pure-token oneof block */
    const char *token; /* e.g. "PRIORITY", or NULL */
    unsigned flags;    /* ARG_* */
    int keySpecIndex;  /* for type "key": index into the key specs (always 0) */
    const struct commandArg *subargs; /* for oneof/block: NULL-name terminated */
    const char *value; /* for pure-token/oneof entries shown as `value`, or NULL */
} commandArg;

struct command {
    const char *name;       /* lower case; a subcommand's own name ("setname") */
    commandProc *proc;      /* NULL for a container: dispatch goes to subcommands */
    int arity;              /* N exactly, or -N at least N (counting the name, and
                               for a subcommand its container too) */
    unsigned flags;         /* CMD_* */
    const char *acl;        /* space-separated categories: "@write @queue @fast" */
    int firstKey, lastKey, keyStep;
    const char *keySpecFlags; /* NULL: no key spec; else e.g. "RW insert" */
    const char *summary;
    const char *since;
    const char *group;      /* "connection", "server", "generic", "queue", ... */
    const char *complexity;
    const commandArg *args; /* NULL-name terminated, or NULL */
    command *subcommands;   /* NULL-name terminated array, or NULL */
    command *parent;        /* set by commandTableInit */
    char fullName[48];      /* "client|setname": filled by commandTableInit */

    /* statistics for INFO commandstats (CONFIG RESETSTAT zeroes them) */
    long long calls;
    long long usec;
    long long rejectedCalls;
    long long failedCalls;
};

void commandTableInit(void);
/* Case-insensitive lookup of a top-level command; NULL if unknown. */
command *commandLookup(const char *name, size_t len);
command *commandLookupSub(command *parent, const char *name, size_t len);
/* Calls fn for every command and subcommand (INFO commandstats, RESETSTAT). */
void commandForEach(void (*fn)(command *cmd, void *ctx), void *ctx);
long long commandCount(void); /* top-level commands, for COMMAND COUNT */
void commandCommand(client *c); /* COMMAND [COUNT|INFO|DOCS|LIST|GETKEYS|HELP] */

#endif
