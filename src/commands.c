/* commands.c: the command table, the name lookup the dispatcher runs for every
 * request, and COMMAND (COUNT, INFO, DOCS, LIST, GETKEYS, HELP).
 *
 * The table is plain static data, one `command` per top-level command and one per
 * subcommand of CLIENT, CONFIG and COMMAND, so that what COMMAND reports is exactly
 * what the dispatcher enforces (arity, no_auth, denyoom, no_multi). Queue commands
 * name their queue as argument 1 and declare it as a key, so cluster-aware clients
 * (redis-py, ruby) route them by queue name, and argument docs follow the syntax of
 * the command contract so that redis-cli's hints (`help QSEND`, `help @queue`) read
 * as the contract does.
 *
 * Lookup: commandTableInit puts every command in one open-addressing hash keyed by
 * (parent, lower-cased name), parent NULL for top-level commands. A lookup lower-cases
 * the name into a stack buffer while hashing it, then probes; it never allocates, and
 * with the table at most a quarter full a probe sequence is one or two slots long.
 *
 * Reply shapes copy redis-server 7.0.15 byte for byte (captured with a raw socket):
 *   COMMAND INFO entry: *10 name arity ~flags first last step ~acl ~tips ~keyspecs
 *     subcommands, where "subcommands" is an array when there are some and an empty
 *     set when there are none (that is what 7.0 sends);
 *   key spec: %3 flags ~words, begin_search %2 {type index, spec %1 {index N}},
 *     find_keys %2 {type range, spec %3 {lastkey, keystep, limit}};
 *   COMMAND DOCS: %N name -> %M {summary, since, group, complexity, [arguments *N],
 *     [subcommands %N]}; each argument %K {name, type, [key_spec_index], [token],
 *     [value], [flags ~N], [arguments *N]}.
 * In RESP2 every % and ~ above is a flat array (the addReply* helpers do that).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* ---- Argument docs ---- */

/* The tables below keep clang-format off: an entry reads best with related fields
 * on one line (name and arity, flags and categories, docs), which clang-format would
 * spread to one field a line and triple the table's length. */
/* clang-format off */

/* Shorthands for the argument tables: an argument list ends at the first entry
 * whose name is NULL (ARGS_END). */
#define ARG(n, t) {.name = n, .type = t}
#define ARG_MULTI(n, t) {.name = n, .type = t, .flags = ARG_MULTIPLE}
#define OPT(n, t) {.name = n, .type = t, .flags = ARG_OPTIONAL}
#define OPT_TOKEN(n, t, tok) {.name = n, .type = t, .token = tok, .flags = ARG_OPTIONAL}
#define TOKEN_ARG(n, t, tok) {.name = n, .type = t, .token = tok}
#define PURE(n, tok) {.name = n, .type = "pure-token", .token = tok}
#define OPT_PURE(n, tok) \
    {.name = n, .type = "pure-token", .token = tok, .flags = ARG_OPTIONAL}
#define QUEUE_ARG {.name = "queue", .type = "key", .keySpecIndex = 0}
#define ARGS_END {.name = NULL}

/* Queue commands. Durations are "double": the contract allows `0.25`. */

/* The DLQ's name is documented as a string, not a key: the one key spec covers
 * argument 1, and the DLQ's position varies with the options before it. */
static const commandArg dlqBlockArgs[] = {
    TOKEN_ARG("name", "string", "DLQ"),
    TOKEN_ARG("n", "integer", "MAXRECEIVES"),
    ARGS_END,
};

static const commandArg qreplayArgs[] = {
    ARG("lsn", "integer"),
    ARG("type", "string"),
    {.name = "arg", .type = "string", .flags = ARG_OPTIONAL | ARG_MULTIPLE},
    ARGS_END,
};

static const commandArg qcreateArgs[] = {
    QUEUE_ARG,
    OPT_TOKEN("sec", "double", "VISIBILITY"),
    OPT_TOKEN("sec", "double", "DELAY"),
    OPT_TOKEN("sec", "double", "RETENTION"),
    OPT_TOKEN("bytes", "integer", "MAXSIZE"),
    OPT_TOKEN("sec", "double", "WAIT"),
    OPT_TOKEN("n", "integer", "MAXDEPTH"),
    {.name = "dlq", .type = "block", .flags = ARG_OPTIONAL, .subargs = dlqBlockArgs},
    OPT_PURE("fifo", "FIFO"),
    OPT_PURE("contentdedup", "CONTENTDEDUP"),
    ARGS_END,
};

static const commandArg qsetDlqChoice[] = {
    {.name = "dlq", .type = "block", .subargs = dlqBlockArgs},
    PURE("nodlq", "NODLQ"),
    ARGS_END,
};

static const commandArg qsetArgs[] = {
    QUEUE_ARG,
    OPT_TOKEN("sec", "double", "VISIBILITY"),
    OPT_TOKEN("sec", "double", "DELAY"),
    OPT_TOKEN("sec", "double", "RETENTION"),
    OPT_TOKEN("bytes", "integer", "MAXSIZE"),
    OPT_TOKEN("sec", "double", "WAIT"),
    OPT_TOKEN("n", "integer", "MAXDEPTH"),
    {.name = "dlq-target", .type = "oneof", .flags = ARG_OPTIONAL,
     .subargs = qsetDlqChoice},
    ARGS_END,
};

static const commandArg queueOnlyArgs[] = {
    QUEUE_ARG,
    ARGS_END,
};

static const commandArg qscanArgs[] = {
    ARG("cursor", "string"),
    OPT_TOKEN("pattern", "pattern", "MATCH"),
    OPT_TOKEN("n", "integer", "COUNT"),
    ARGS_END,
};

static const commandArg qsendArgs[] = {
    QUEUE_ARG,
    ARG("body", "string"),
    OPT_TOKEN("p", "integer", "PRIORITY"),
    OPT_TOKEN("sec", "double", "DELAY"),
    OPT_TOKEN("g", "string", "GROUP"),
    OPT_TOKEN("d", "string", "DEDUPID"),
    ARGS_END,
};

static const commandArg qrecvArgs[] = {
    QUEUE_ARG,
    OPT_TOKEN("n", "integer", "COUNT"),
    OPT_TOKEN("sec", "double", "VISIBILITY"),
    OPT_TOKEN("sec", "double", "WAIT"),
    OPT_PURE("withmeta", "WITHMETA"),
    ARGS_END,
};

static const commandArg qdelArgs[] = {
    QUEUE_ARG,
    ARG_MULTI("receipt", "string"),
    ARGS_END,
};

static const commandArg qvisArgs[] = {
    QUEUE_ARG,
    ARG("receipt", "string"),
    ARG("sec", "double"),
    ARGS_END,
};

static const commandArg queueCountArgs[] = {
    QUEUE_ARG,
    OPT_TOKEN("n", "integer", "COUNT"),
    ARGS_END,
};

/* Server commands: the syntax respq accepts, with Redis's argument names where
 * respq follows Redis, since client libraries and users know them by those. */

static const commandArg messageOptArgs[] = {
    OPT("message", "string"),
    ARGS_END,
};

static const commandArg messageArgs[] = {
    ARG("message", "string"),
    ARGS_END,
};

static const commandArg helloAuthArgs[] = {
    ARG("username", "string"),
    ARG("password", "string"),
    ARGS_END,
};

static const commandArg helloInnerArgs[] = {
    ARG("protover", "integer"),
    {.name = "username_password", .type = "block", .token = "AUTH",
     .flags = ARG_OPTIONAL, .subargs = helloAuthArgs},
    OPT_TOKEN("clientname", "string", "SETNAME"),
    ARGS_END,
};

static const commandArg helloArgs[] = {
    {.name = "arguments", .type = "block", .flags = ARG_OPTIONAL,
     .subargs = helloInnerArgs},
    ARGS_END,
};

static const commandArg authArgs[] = {
    OPT("username", "string"),
    ARG("password", "string"),
    ARGS_END,
};

static const commandArg selectArgs[] = {
    ARG("index", "integer"),
    ARGS_END,
};

static const commandArg infoArgs[] = {
    {.name = "section", .type = "string", .flags = ARG_OPTIONAL | ARG_MULTIPLE},
    ARGS_END,
};

static const commandArg shutdownChoice[] = {
    PURE("nosave", "NOSAVE"),
    PURE("save", "SAVE"),
    ARGS_END,
};

/* NOW and FORCE are listed because Redis 7 clients send them; respq accepts them
 * and they change nothing (there are no replicas to wait for). */
static const commandArg shutdownArgs[] = {
    {.name = "nosave_save", .type = "oneof", .flags = ARG_OPTIONAL,
     .subargs = shutdownChoice},
    OPT_PURE("now", "NOW"),
    OPT_PURE("force", "FORCE"),
    ARGS_END,
};

static const commandArg flushallChoice[] = {
    PURE("async", "ASYNC"),
    PURE("sync", "SYNC"),
    ARGS_END,
};

static const commandArg flushallArgs[] = {
    {.name = "flush-type", .type = "oneof", .flags = ARG_OPTIONAL,
     .subargs = flushallChoice},
    ARGS_END,
};

static const commandArg clusterArgs[] = {
    ARG("subcommand", "string"),
    {.name = "arg", .type = "string", .flags = ARG_OPTIONAL | ARG_MULTIPLE},
    ARGS_END,
};

/* CLIENT */

static const commandArg onOffChoice[] = {
    PURE("on", "ON"),
    PURE("off", "OFF"),
    ARGS_END,
};

static const commandArg onOffArgs[] = {
    {.name = "enabled", .type = "oneof", .subargs = onOffChoice},
    ARGS_END,
};

static const commandArg clientSetnameArgs[] = {
    ARG("connection-name", "string"),
    ARGS_END,
};

static const commandArg clientSetinfoChoice[] = {
    TOKEN_ARG("libname", "string", "LIB-NAME"),
    TOKEN_ARG("libver", "string", "LIB-VER"),
    ARGS_END,
};

static const commandArg clientSetinfoArgs[] = {
    {.name = "attr", .type = "oneof", .subargs = clientSetinfoChoice},
    ARGS_END,
};

static const commandArg clientTypeChoice[] = {
    PURE("normal", "NORMAL"),
    PURE("master", "MASTER"),
    PURE("replica", "REPLICA"),
    PURE("pubsub", "PUBSUB"),
    ARGS_END,
};

static const commandArg clientIdListArgs[] = {
    ARG_MULTI("client-id", "integer"),
    ARGS_END,
};

static const commandArg clientListArgs[] = {
    {.name = "client-type", .type = "oneof", .token = "TYPE", .flags = ARG_OPTIONAL,
     .subargs = clientTypeChoice},
    {.name = "id", .type = "block", .token = "ID", .flags = ARG_OPTIONAL,
     .subargs = clientIdListArgs},
    ARGS_END,
};

static const commandArg clientKillFilters[] = {
    OPT_TOKEN("client-id", "integer", "ID"),
    {.name = "client-type", .type = "oneof", .token = "TYPE", .flags = ARG_OPTIONAL,
     .subargs = clientTypeChoice},
    OPT_TOKEN("username", "string", "USER"),
    OPT_TOKEN("ip:port", "string", "ADDR"),
    OPT_TOKEN("ip:port", "string", "LADDR"),
    OPT_TOKEN("yes/no", "string", "SKIPME"),
    OPT_TOKEN("maxage", "integer", "MAXAGE"),
    ARGS_END,
};

static const commandArg clientKillChoice[] = {
    ARG("ip:port", "string"),
    {.name = "filters", .type = "oneof", .flags = ARG_MULTIPLE,
     .subargs = clientKillFilters},
    ARGS_END,
};

static const commandArg clientKillArgs[] = {
    {.name = "filter", .type = "oneof", .subargs = clientKillChoice},
    ARGS_END,
};

/* CONFIG */

static const commandArg configGetArgs[] = {
    ARG_MULTI("parameter", "string"),
    ARGS_END,
};

static const commandArg configSetPair[] = {
    ARG("parameter", "string"),
    ARG("value", "string"),
    ARGS_END,
};

static const commandArg configSetArgs[] = {
    {.name = "parameter_value", .type = "block", .flags = ARG_MULTIPLE,
     .subargs = configSetPair},
    ARGS_END,
};

/* COMMAND */

static const commandArg commandNamesArgs[] = {
    {.name = "command-name", .type = "string", .flags = ARG_OPTIONAL | ARG_MULTIPLE},
    ARGS_END,
};

static const commandArg commandListFilters[] = {
    TOKEN_ARG("module-name", "string", "MODULE"),
    TOKEN_ARG("category", "string", "ACLCAT"),
    TOKEN_ARG("pattern", "pattern", "PATTERN"),
    ARGS_END,
};

static const commandArg commandListArgs[] = {
    {.name = "filterby", .type = "oneof", .token = "FILTERBY", .flags = ARG_OPTIONAL,
     .subargs = commandListFilters},
    ARGS_END,
};

static const commandArg commandGetkeysArgs[] = {
    ARG("command", "string"),
    {.name = "arg", .type = "string", .flags = ARG_OPTIONAL | ARG_MULTIPLE},
    ARGS_END,
};

/* ---- The table ---- */

/* COMMAND's subcommands run here; CLIENT's and CONFIG's have proc NULL and run in
 * their container's handler, which switches on argv[1]. */
static void commandCountCommand(client *c);
static void commandInfoCommand(client *c);
static void commandDocsCommand(client *c);
static void commandListCommand(client *c);
static void commandGetkeysCommand(client *c);
static void commandHelpCommand(client *c);

/* A queue command's only key is its queue, argument 1. */
#define QUEUE_KEY(specFlags)                                                          \
    .firstKey = 1, .lastKey = 1, .keyStep = 1, .keySpecFlags = specFlags
#define QUEUE_DOC(sum, cx) .summary = sum, .since = "0.1.0", .group = "queue",        \
                           .complexity = cx

/* Flags the Redis 7.0 connection commands share. */
#define CONN_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define CONN_AUTHLESS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST |          \
                       CMD_NO_AUTH | CMD_ALLOW_BUSY)
#define ADMIN_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

static command clientSubcommands[] = {
    {.name = "id", .arity = 2, .flags = CONN_FLAGS, .acl = "@slow @connection",
     .summary = "Returns the unique id of this connection", .since = "5.0.0",
     .group = "connection", .complexity = "O(1)"},
    {.name = "setname", .arity = 3, .flags = CONN_FLAGS, .acl = "@slow @connection",
     .summary = "Names this connection (shown by CLIENT LIST)", .since = "2.6.9",
     .group = "connection", .complexity = "O(1)", .args = clientSetnameArgs},
    {.name = "getname", .arity = 2, .flags = CONN_FLAGS, .acl = "@slow @connection",
     .summary = "Returns the name of this connection, or null", .since = "2.6.9",
     .group = "connection", .complexity = "O(1)"},
    {.name = "setinfo", .arity = 4, .flags = CONN_FLAGS, .acl = "@slow @connection",
     .summary = "Records the client library's name or version for CLIENT LIST",
     .since = "7.2.0", .group = "connection", .complexity = "O(1)",
     .args = clientSetinfoArgs},
    {.name = "list", .arity = -2, .flags = ADMIN_FLAGS,
     .acl = "@admin @slow @dangerous @connection",
     .summary = "Lists the open connections, one line each", .since = "2.4.0",
     .group = "connection",
     .complexity = "O(N) where N is the number of connections",
     .args = clientListArgs},
    {.name = "info", .arity = 2, .flags = CONN_FLAGS, .acl = "@slow @connection",
     .summary = "Describes this connection in CLIENT LIST's format",
     .since = "6.2.0", .group = "connection", .complexity = "O(1)"},
    {.name = "kill", .arity = -3, .flags = ADMIN_FLAGS,
     .acl = "@admin @slow @dangerous @connection",
     .summary = "Closes the connections that match a filter", .since = "2.4.0",
     .group = "connection",
     .complexity = "O(N) where N is the number of connections",
     .args = clientKillArgs},
    {.name = "no-evict", .arity = 3, .flags = ADMIN_FLAGS,
     .acl = "@admin @slow @dangerous @connection",
     .summary = "Sets this connection's no-evict mode (recorded, no other effect)",
     .since = "7.0.0", .group = "connection", .complexity = "O(1)",
     .args = onOffArgs},
    {.name = "no-touch", .arity = 3, .flags = CONN_FLAGS, .acl = "@slow @connection",
     .summary = "Sets this connection's no-touch mode (recorded, no other effect)",
     .since = "7.2.0", .group = "connection", .complexity = "O(1)",
     .args = onOffArgs},
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .acl = "@slow @connection", .summary = "Lists the CLIENT subcommands",
     .since = "5.0.0", .group = "connection", .complexity = "O(1)"},
    {.name = NULL},
};

static command configSubcommands[] = {
    {.name = "get", .arity = -3, .flags = ADMIN_FLAGS,
     .acl = "@admin @slow @dangerous",
     .summary = "Returns the settings whose names match the given patterns",
     .since = "2.0.0", .group = "server",
     .complexity = "O(N) where N is the number of parameters asked for",
     .args = configGetArgs},
    {.name = "set", .arity = -4, .flags = ADMIN_FLAGS,
     .acl = "@admin @slow @dangerous",
     .summary = "Changes settings at run time, all or none of them",
     .since = "2.0.0", .group = "server",
     .complexity = "O(N) where N is the number of parameters set",
     .args = configSetArgs},
    {.name = "resetstat", .arity = 2, .flags = ADMIN_FLAGS,
     .acl = "@admin @slow @dangerous",
     .summary = "Zeroes the statistics that INFO reports", .since = "2.0.0",
     .group = "server", .complexity = "O(1)"},
    {.name = "rewrite", .arity = 2, .flags = ADMIN_FLAGS,
     .acl = "@admin @slow @dangerous",
     .summary = "Writes the settings in force back to the configuration file",
     .since = "2.8.0", .group = "server", .complexity = "O(1)"},
    {.name = "help", .arity = 2, .flags = CMD_LOADING | CMD_STALE, .acl = "@slow",
     .summary = "Lists the CONFIG subcommands", .since = "5.0.0", .group = "server",
     .complexity = "O(1)"},
    {.name = NULL},
};

static command commandSubcommands[] = {
    {.name = "count", .proc = commandCountCommand, .arity = 2,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @connection",
     .summary = "Returns the number of top-level commands", .since = "2.8.13",
     .group = "server", .complexity = "O(1)"},
    {.name = "info", .proc = commandInfoCommand, .arity = -2,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @connection",
     .summary = "Describes the named commands, or every command",
     .since = "2.8.13", .group = "server",
     .complexity = "O(N) where N is the number of commands described",
     .args = commandNamesArgs},
    {.name = "docs", .proc = commandDocsCommand, .arity = -2,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @connection",
     .summary = "Returns the documentation of the named commands, or of every one",
     .since = "7.0.0", .group = "server",
     .complexity = "O(N) where N is the number of commands documented",
     .args = commandNamesArgs},
    {.name = "list", .proc = commandListCommand, .arity = -2,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @connection",
     .summary = "Returns the names of the commands and subcommands",
     .since = "7.0.0", .group = "server",
     .complexity = "O(N) where N is the number of commands",
     .args = commandListArgs},
    {.name = "getkeys", .proc = commandGetkeysCommand, .arity = -4,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @connection",
     .summary = "Returns the keys (queue names) a full command would use",
     .since = "2.8.13", .group = "server",
     .complexity = "O(N) where N is the number of arguments of the command",
     .args = commandGetkeysArgs},
    {.name = "help", .proc = commandHelpCommand, .arity = 2,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @connection",
     .summary = "Lists the COMMAND subcommands", .since = "5.0.0", .group = "server",
     .complexity = "O(1)"},
    {.name = NULL},
};

static command commandTable[] = {
    /* -- connection -- */
    {.name = "ping", .proc = pingCommand, .arity = -1, .flags = CMD_FAST,
     .acl = "@fast @connection",
     .summary = "Checks that the server answers; replies PONG or the message",
     .since = "1.0.0", .group = "connection", .complexity = "O(1)",
     .args = messageOptArgs},
    {.name = "echo", .proc = echoCommand, .arity = 2,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .acl = "@fast @connection",
     .summary = "Replies with its argument, byte for byte", .since = "1.0.0",
     .group = "connection", .complexity = "O(1)", .args = messageArgs},
    {.name = "hello", .proc = helloCommand, .arity = -1, .flags = CONN_AUTHLESS,
     .acl = "@fast @connection",
     .summary = "Picks the protocol (RESP2 or RESP3), optionally authenticating "
                "and naming the connection, and describes the server",
     .since = "6.0.0", .group = "connection", .complexity = "O(1)",
     .args = helloArgs},
    {.name = "auth", .proc = authCommand, .arity = -2, .flags = CONN_AUTHLESS,
     .acl = "@fast @connection",
     .summary = "Authenticates this connection with the configured password",
     .since = "1.0.0", .group = "connection", .complexity = "O(1)",
     .args = authArgs},
    {.name = "select", .proc = selectCommand, .arity = 2,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .acl = "@fast @connection",
     .summary = "Selects a database; respq has only database 0", .since = "1.0.0",
     .group = "connection", .complexity = "O(1)", .args = selectArgs},
    {.name = "quit", .proc = quitCommand, .arity = -1, .flags = CONN_AUTHLESS,
     .acl = "@fast @connection",
     .summary = "Closes the connection once the replies before it are written",
     .since = "1.0.0", .group = "connection", .complexity = "O(1)"},
    {.name = "reset", .proc = resetCommand, .arity = 1, .flags = CONN_AUTHLESS,
     .acl = "@fast @connection",
     .summary = "Returns the connection to the state it had when it was opened",
     .since = "6.2.0", .group = "connection", .complexity = "O(1)"},
    {.name = "client", .proc = clientCommand, .arity = -2, .acl = "@slow",
     .summary = "Commands about client connections", .since = "2.4.0",
     .group = "connection", .complexity = "Depends on the subcommand.",
     .subcommands = clientSubcommands},
    {.name = "readonly", .proc = readonlyCommand, .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .acl = "@fast @connection",
     .summary = "Allows reads from a cluster replica; refused, since respq does "
                "not run as a cluster",
     .since = "3.0.0", .group = "cluster", .complexity = "O(1)"},

    /* -- server -- */
    {.name = "role", .proc = roleCommand, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl = "@admin @fast @dangerous",
     .summary = "Returns the replication role of this server (always master)",
     .since = "2.8.12", .group = "server", .complexity = "O(1)"},
    {.name = "info", .proc = infoCommand, .arity = -1,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @dangerous",
     .summary = "Returns server information and statistics, by section",
     .since = "1.0.0", .group = "server", .complexity = "O(1)",
     .args = infoArgs},
    {.name = "command", .proc = commandCommand, .arity = -1,
     .flags = CMD_LOADING | CMD_STALE, .acl = "@slow @connection",
     .summary = "Describes every command: arity, flags, keys, ACL categories",
     .since = "2.8.13", .group = "server",
     .complexity = "O(N) where N is the number of commands",
     .subcommands = commandSubcommands},
    {.name = "config", .proc = configCommand, .arity = -2, .acl = "@slow",
     .summary = "Commands that read and change the configuration",
     .since = "2.0.0", .group = "server", .complexity = "Depends on the subcommand.",
     .subcommands = configSubcommands},
    {.name = "dbsize", .proc = dbsizeCommand, .arity = 1,
     .flags = CMD_READONLY | CMD_FAST, .acl = "@keyspace @read @fast",
     .summary = "Returns the number of queues", .since = "1.0.0", .group = "server",
     .complexity = "O(1)"},
    {.name = "time", .proc = timeCommand, .arity = 1,
     .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .acl = "@fast",
     .summary = "Returns the server's clock: Unix seconds and microseconds",
     .since = "2.6.0", .group = "server", .complexity = "O(1)"},
    {.name = "shutdown", .proc = shutdownCommand, .arity = -1,
     .flags = ADMIN_FLAGS | CMD_NO_MULTI | CMD_ALLOW_BUSY,
     .acl = "@admin @slow @dangerous",
     .summary = "Writes and syncs the append-only file, then stops the server",
     .since = "1.0.0", .group = "server",
     .complexity = "O(N) where N is the amount of data not yet on disk",
     .args = shutdownArgs},
    {.name = "bgrewriteaof", .proc = bgrewriteaofCommand, .arity = 1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT, .acl = "@admin @slow @dangerous",
     .summary = "Compacts the append-only file in the background",
     .since = "1.0.0", .group = "server", .complexity = "O(1)"},
    {.name = "flushall", .proc = flushallCommand, .arity = -1, .flags = CMD_WRITE,
     .acl = "@keyspace @write @slow @dangerous",
     .summary = "Drops every queue and every message", .since = "1.0.0",
     .group = "server",
     .complexity = "O(N) where N is the number of messages held",
     .args = flushallArgs},
    {.name = "cluster", .proc = clusterCommand, .arity = -2, .acl = "@slow",
     .summary = "Cluster commands; refused, since respq does not run as a cluster",
     .since = "3.0.0", .group = "cluster", .complexity = "O(1)",
     .args = clusterArgs},

    /* -- transactions -- */
    {.name = "multi", .proc = multiCommand, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     .acl = "@fast @transaction",
     .summary = "Starts a transaction: later commands are queued until EXEC",
     .since = "1.2.0", .group = "transactions", .complexity = "O(1)"},
    {.name = "exec", .proc = execCommand, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG,
     .acl = "@slow @transaction",
     .summary = "Runs the commands queued since MULTI, together", .since = "1.2.0",
     .group = "transactions", .complexity = "Depends on the queued commands"},
    {.name = "discard", .proc = discardCommand, .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY,
     .acl = "@fast @transaction",
     .summary = "Drops the commands queued since MULTI", .since = "2.0.0",
     .group = "transactions",
     .complexity = "O(N) where N is the number of queued commands"},

    /* -- queues -- */
    {.name = "qcreate", .proc = qcreateCommand, .arity = -2,
     .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = "@write @queue @fast",
     QUEUE_KEY("RW insert"),
     QUEUE_DOC("Creates a queue, or checks that the existing one has the same "
               "attributes",
               "O(1)"),
     .args = qcreateArgs},
    {.name = "qset", .proc = qsetCommand, .arity = -3,
     .flags = CMD_WRITE | CMD_FAST, .acl = "@write @queue @fast",
     QUEUE_KEY("RW update"),
     QUEUE_DOC("Changes the attributes of a queue", "O(1)"), .args = qsetArgs},
    {.name = "qdrop", .proc = qdropCommand, .arity = 2, .flags = CMD_WRITE,
     .acl = "@write @queue @slow", QUEUE_KEY("RM delete"),
     QUEUE_DOC("Deletes a queue with its messages and dedup ids",
               "O(N) where N is the number of messages in the queue"),
     .args = queueOnlyArgs},
    {.name = "qpurge", .proc = qpurgeCommand, .arity = 2, .flags = CMD_WRITE,
     .acl = "@write @queue @slow", QUEUE_KEY("RW delete"),
     QUEUE_DOC("Removes every message of a queue, whatever its state",
               "O(N) where N is the number of messages in the queue"),
     .args = queueOnlyArgs},
    {.name = "qlen", .proc = qlenCommand, .arity = 2,
     .flags = CMD_READONLY | CMD_FAST, .acl = "@read @queue @fast",
     QUEUE_KEY("RO"),
     QUEUE_DOC("Returns the number of messages a QRECV could receive now", "O(1)"),
     .args = queueOnlyArgs},
    {.name = "qinfo", .proc = qinfoCommand, .arity = 2,
     .flags = CMD_READONLY | CMD_FAST, .acl = "@read @queue @fast",
     QUEUE_KEY("RO"),
     QUEUE_DOC("Returns the attributes and counters of a queue",
               "O(1) plus O(S) where S is the number of queues that dead-letter "
               "into it"),
     .args = queueOnlyArgs},
    {.name = "qscan", .proc = qscanCommand, .arity = -2, .flags = CMD_READONLY,
     .acl = "@read @queue @slow",
     QUEUE_DOC("Iterates over the names of the queues, like SCAN",
               "O(1) for every call. O(N) for a complete iteration, where N is "
               "the number of queues"),
     .args = qscanArgs},
    /* No CMD_DENYOOM: the contract checks a duplicate (which adds nothing and
     * replies the first id) before FULL and OOM, so qsendCommand makes the
     * maxmemory check itself, after dedup, instead of the dispatcher. */
    {.name = "qsend", .proc = qsendCommand, .arity = -3,
     .flags = CMD_WRITE | CMD_FAST, .acl = "@write @queue @fast",
     QUEUE_KEY("RW insert"),
     QUEUE_DOC("Adds a message to a queue and returns its id",
               "O(log N) where N is the number of messages in the queue"),
     .args = qsendArgs},
    {.name = "qrecv", .proc = qrecvCommand, .arity = -2,
     .flags = CMD_WRITE | CMD_BLOCKING, .acl = "@write @queue @slow @blocking",
     QUEUE_KEY("RW access update"),
     QUEUE_DOC("Leases up to COUNT ready messages, waiting up to WAIT seconds for "
               "one",
               "O(M log N) where M is the number of messages received and N the "
               "number of messages in the queue"),
     .args = qrecvArgs},
    {.name = "qdel", .proc = qdelCommand, .arity = -3,
     .flags = CMD_WRITE | CMD_FAST, .acl = "@write @queue @fast",
     QUEUE_KEY("RW delete"),
     QUEUE_DOC("Deletes (acknowledges) received messages by their receipts",
               "O(R log N) where R is the number of receipts and N the number of "
               "messages in the queue"),
     .args = qdelArgs},
    {.name = "qvis", .proc = qvisCommand, .arity = 4,
     .flags = CMD_WRITE | CMD_FAST, .acl = "@write @queue @fast",
     QUEUE_KEY("RW update"),
     QUEUE_DOC("Changes when the lease of a received message ends; 0 gives it back",
               "O(log N) where N is the number of messages in the queue"),
     .args = qvisArgs},
    {.name = "qpeek", .proc = qpeekCommand, .arity = -2,
     .flags = CMD_READONLY | CMD_FAST, .acl = "@read @queue @fast",
     QUEUE_KEY("RO access"),
     QUEUE_DOC("Returns the messages a QRECV would receive now, without leasing "
               "them",
               "O(M log N) where M is the number of messages returned and N the "
               "number of messages in the queue"),
     .args = queueCountArgs},
    {.name = "qredrive", .proc = qredriveCommand, .arity = -2, .flags = CMD_WRITE,
     .acl = "@write @queue @slow", QUEUE_KEY("RW access delete"),
     QUEUE_DOC("Moves dead-lettered messages back to the queues they came from",
               "O(M log N) where M is the number of messages moved"),
     .args = queueCountArgs},
    /* A record of the append-only file. No key: argument 1 is the LSN, and the
     * queues a record names sit at positions that vary with its type. No
     * CMD_DENYOOM: a replay must not stop half-way because memory is full. */
    {.name = "qreplay", .proc = qreplayCommand, .arity = -3,
     .flags = CMD_WRITE | CMD_ADMIN | CMD_LOADING, .acl = "@admin @queue @slow",
     QUEUE_DOC("Applies one record of the append-only file (used by AOF replay)",
               "O(1) for most records; O(N) for DROP and PURGE, where N is the "
               "number of messages in the queue"),
     .args = qreplayArgs},

    {.name = NULL},
};
/* clang-format on */

/* ---- Lookup ---- */

/* About 9x the 56 commands and subcommands, so probe sequences stay one or two
 * slots long; the table is 12 KiB. commandTableInit refuses to fill it past a
 * quarter (that would abort at start-up, never at run time). */
#define LOOKUP_SLOTS 512
#define LOOKUP_MAX_NAME 32 /* longest name a lookup lower-cases; fullName is 48 */

typedef struct lookupSlot {
    command *cmd;          /* NULL: empty slot */
    const command *parent; /* NULL for a top-level command */
    uint32_t hash;
    uint32_t len;
} lookupSlot;

static lookupSlot lookupTable[LOOKUP_SLOTS];
static size_t longestName;
static long long topLevelCount;

/* FNV-1a of the lower-cased name, seeded with the parent's address so that
 * "config|get" and "client|getname" land apart. Writes the lowered bytes to out. */
static uint32_t hashName(const command *parent, const char *name, size_t len,
                         char *out) {
    uint32_t h = 2166136261u ^ (uint32_t)((uintptr_t)parent >> 4);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch + ('a' - 'A'));
        out[i] = (char)ch;
        h = (h ^ ch) * 16777619u;
    }
    return h;
}

static command *lookup(const command *parent, const char *name, size_t len) {
    char low[LOOKUP_MAX_NAME];
    if (len == 0 || len > longestName) return NULL;
    uint32_t h = hashName(parent, name, len, low);
    for (uint32_t i = h & (LOOKUP_SLOTS - 1);; i = (i + 1) & (LOOKUP_SLOTS - 1)) {
        lookupSlot *s = &lookupTable[i];
        if (!s->cmd) return NULL;
        if (s->hash == h && s->len == len && s->parent == parent &&
            memcmp(s->cmd->name, low, len) == 0)
            return s->cmd;
    }
}

static void tableBroken(const char *what, const char *name) {
    logMsg(LL_WARNING, "command table: %s: '%s'", what, name ? name : "(null)");
    abort();
}

static void insertCommand(command *parent, command *cmd, size_t *used) {
    size_t len = strlen(cmd->name);
    char low[LOOKUP_MAX_NAME];
    if (len == 0 || len > LOOKUP_MAX_NAME) tableBroken("name too long", cmd->name);
    if (!cmd->summary || !cmd->since || !cmd->group || !cmd->complexity || !cmd->acl)
        tableBroken("missing docs", cmd->name);
    if (++*used > LOOKUP_SLOTS / 4) tableBroken("lookup table too full", cmd->name);
    uint32_t h = hashName(parent, cmd->name, len, low);
    if (memcmp(low, cmd->name, len) != 0) tableBroken("name not lower case", cmd->name);
    uint32_t i = h & (LOOKUP_SLOTS - 1);
    while (lookupTable[i].cmd) {
        if (lookupTable[i].parent == parent && lookupTable[i].len == len &&
            memcmp(lookupTable[i].cmd->name, cmd->name, len) == 0)
            tableBroken("duplicate name", cmd->name);
        i = (i + 1) & (LOOKUP_SLOTS - 1);
    }
    lookupTable[i] =
        (lookupSlot){.cmd = cmd, .parent = parent, .hash = h, .len = (uint32_t)len};
    if (len > longestName) longestName = len;

    cmd->parent = parent;
    int n = parent ? snprintf(cmd->fullName, sizeof(cmd->fullName), "%s|%s",
                              parent->name, cmd->name)
                   : snprintf(cmd->fullName, sizeof(cmd->fullName), "%s", cmd->name);
    if (n < 0 || (size_t)n >= sizeof(cmd->fullName))
        tableBroken("full name too long", cmd->name);
}

/* Fills parent and fullName of every entry and builds the lookup hash. Runs once at
 * start-up, before the first lookup; a malformed table (a duplicate or upper-case
 * name, missing docs) is a programming error and aborts with a log line. */
void commandTableInit(void) {
    size_t used = 0;
    memset(lookupTable, 0, sizeof(lookupTable));
    longestName = 0;
    topLevelCount = 0;
    for (command *cmd = commandTable; cmd->name; cmd++) {
        insertCommand(NULL, cmd, &used);
        topLevelCount++;
        for (command *sub = cmd->subcommands; sub && sub->name; sub++)
            insertCommand(cmd, sub, &used);
    }
}

/* Top-level command by name, any case; NULL if unknown. Borrowed pointer into the
 * static table, valid for the life of the process. */
command *commandLookup(const char *name, size_t len) {
    return lookup(NULL, name, len);
}

/* Subcommand of a container by name, any case; NULL if parent is NULL, has no
 * subcommands or has none of that name. */
command *commandLookupSub(command *parent, const char *name, size_t len) {
    if (!parent || !parent->subcommands) return NULL;
    return lookup(parent, name, len);
}

/* Every entry in table order, each container before its subcommands. */
void commandForEach(void (*fn)(command *cmd, void *ctx), void *ctx) {
    for (command *cmd = commandTable; cmd->name; cmd++) {
        fn(cmd, ctx);
        for (command *sub = cmd->subcommands; sub && sub->name; sub++)
            fn(sub, ctx);
    }
}

long long commandCount(void) {
    return topLevelCount;
}

/* "client|setname" as COMMAND INFO/DOCS accept it, or a plain name. */
static command *lookupFullName(const char *name, size_t len) {
    const char *bar = memchr(name, '|', len);
    if (!bar) return commandLookup(name, len);
    command *parent = commandLookup(name, (size_t)(bar - name));
    return commandLookupSub(parent, bar + 1, len - (size_t)(bar - name) - 1);
}

/* ---- Reply building blocks ---- */

/* Flag names in the order Redis 7.0 prints them, so that COMMAND INFO lines up
 * with a real server's when compared. */
static const struct {
    unsigned flag;
    const char *name;
} flagNames[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_SENTINEL, "sentinel"},
    {CMD_NO_MULTI, "no_multi"},
    {CMD_ALLOW_BUSY, "allow_busy"},
};
#define FLAG_NAMES (sizeof(flagNames) / sizeof(flagNames[0]))

static void addReplyCommandFlags(client *c, unsigned flags) {
    long long n = 0;
    for (size_t i = 0; i < FLAG_NAMES; i++)
        if (flags & flagNames[i].flag) n++;
    addReplySetLen(c, n);
    for (size_t i = 0; i < FLAG_NAMES; i++)
        if (flags & flagNames[i].flag) addReplySimple(c, flagNames[i].name);
}

/* A set of simple strings from a space-separated list ("RW access delete"). */
static void addReplyWords(client *c, const char *s) {
    long long n = 0;
    for (const char *p = s; p && *p;) {
        while (*p == ' ')
            p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ')
            p++;
    }
    addReplySetLen(c, n);
    for (const char *p = s; p && *p;) {
        char word[64];
        size_t len = 0;
        while (*p == ' ')
            p++;
        if (!*p) break;
        while (*p && *p != ' ') {
            if (len < sizeof(word) - 1) word[len++] = *p;
            p++;
        }
        word[len] = '\0';
        addReplySimple(c, word);
    }
}

/* Does the space-separated list hold this word (ACL category without '@')? */
static int hasCategory(const char *acl, const char *cat, size_t catLen) {
    for (const char *p = acl; *p;) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        size_t len = (size_t)(p - start);
        if (len == catLen + 1 && start[0] == '@') {
            size_t i = 0;
            for (; i < catLen; i++) {
                unsigned char a = (unsigned char)start[1 + i];
                unsigned char b = (unsigned char)cat[i];
                if (b >= 'A' && b <= 'Z') b = (unsigned char)(b + ('a' - 'A'));
                if (a != b) break;
            }
            if (i == catLen) return 1;
        }
    }
    return 0;
}

static void addReplyKeySpecs(client *c, const command *cmd) {
    if (!cmd->keySpecFlags) {
        addReplySetLen(c, 0);
        return;
    }
    addReplySetLen(c, 1);
    addReplyMapLen(c, 3);
    addReplyBulkStr(c, "flags");
    addReplyWords(c, cmd->keySpecFlags);
    addReplyBulkStr(c, "begin_search");
    addReplyMapLen(c, 2);
    addReplyBulkStr(c, "type");
    addReplyBulkStr(c, "index");
    addReplyBulkStr(c, "spec");
    addReplyMapLen(c, 1);
    addReplyBulkStr(c, "index");
    addReplyInt(c, cmd->firstKey);
    addReplyBulkStr(c, "find_keys");
    addReplyMapLen(c, 2);
    addReplyBulkStr(c, "type");
    addReplyBulkStr(c, "range");
    addReplyBulkStr(c, "spec");
    addReplyMapLen(c, 3);
    /* lastkey counts from the first key (0: just that one), or from the end of the
     * arguments when negative, as in Redis's range spec. */
    addReplyBulkStr(c, "lastkey");
    addReplyInt(c, cmd->lastKey < 0 ? cmd->lastKey : cmd->lastKey - cmd->firstKey);
    addReplyBulkStr(c, "keystep");
    addReplyInt(c, cmd->keyStep);
    addReplyBulkStr(c, "limit");
    addReplyInt(c, 0);
}

static long long countSubcommands(const command *cmd) {
    long long n = 0;
    for (const command *sub = cmd->subcommands; sub && sub->name; sub++)
        n++;
    return n;
}

/* The 10-element entry of COMMAND and COMMAND INFO. */
static void addReplyCommandInfo(client *c, command *cmd) {
    addReplyArrayLen(c, 10);
    addReplyBulkStr(c, cmd->fullName);
    addReplyInt(c, cmd->arity);
    addReplyCommandFlags(c, cmd->flags);
    addReplyInt(c, cmd->firstKey);
    addReplyInt(c, cmd->lastKey);
    addReplyInt(c, cmd->keyStep);
    addReplyWords(c, cmd->acl);
    addReplySetLen(c, 0); /* tips: none are needed by respq's clients */
    addReplyKeySpecs(c, cmd);
    long long subs = countSubcommands(cmd);
    if (subs == 0) {
        addReplySetLen(c, 0);
        return;
    }
    addReplyArrayLen(c, subs);
    for (command *sub = cmd->subcommands; sub->name; sub++)
        addReplyCommandInfo(c, sub);
}

static long long countArgs(const commandArg *args) {
    long long n = 0;
    for (const commandArg *a = args; a && a->name; a++)
        n++;
    return n;
}

static void addReplyArgFlags(client *c, unsigned flags) {
    long long n = !!(flags & ARG_OPTIONAL) + !!(flags & ARG_MULTIPLE) +
                  !!(flags & ARG_MULTIPLE_TOKEN);
    addReplySetLen(c, n);
    if (flags & ARG_OPTIONAL) addReplySimple(c, "optional");
    if (flags & ARG_MULTIPLE) addReplySimple(c, "multiple");
    if (flags & ARG_MULTIPLE_TOKEN) addReplySimple(c, "multiple_token");
}

static void addReplyArgs(client *c, const commandArg *args) {
    addReplyArrayLen(c, countArgs(args));
    for (const commandArg *a = args; a && a->name; a++) {
        int isKey = strcmp(a->type, "key") == 0;
        long long fields = 2 + isKey + (a->token != NULL) + (a->value != NULL) +
                           (a->flags != 0) + (a->subargs != NULL);
        addReplyMapLen(c, fields);
        addReplyBulkStr(c, "name");
        addReplyBulkStr(c, a->name);
        addReplyBulkStr(c, "type");
        addReplyBulkStr(c, a->type);
        if (isKey) {
            addReplyBulkStr(c, "key_spec_index");
            addReplyInt(c, a->keySpecIndex);
        }
        if (a->token) {
            addReplyBulkStr(c, "token");
            addReplyBulkStr(c, a->token);
        }
        if (a->value) {
            addReplyBulkStr(c, "value");
            addReplyBulkStr(c, a->value);
        }
        if (a->flags) {
            addReplyBulkStr(c, "flags");
            addReplyArgFlags(c, a->flags);
        }
        if (a->subargs) {
            addReplyBulkStr(c, "arguments");
            addReplyArgs(c, a->subargs);
        }
    }
}

/* One command's doc map (the value under its name in COMMAND DOCS). */
static void addReplyCommandDocs(client *c, command *cmd) {
    long long subs = countSubcommands(cmd);
    addReplyMapLen(c, 4 + (cmd->args != NULL) + (subs > 0));
    addReplyBulkStr(c, "summary");
    addReplyBulkStr(c, cmd->summary);
    addReplyBulkStr(c, "since");
    addReplyBulkStr(c, cmd->since);
    addReplyBulkStr(c, "group");
    addReplyBulkStr(c, cmd->group);
    addReplyBulkStr(c, "complexity");
    addReplyBulkStr(c, cmd->complexity);
    if (cmd->args) {
        addReplyBulkStr(c, "arguments");
        addReplyArgs(c, cmd->args);
    }
    if (subs > 0) {
        addReplyBulkStr(c, "subcommands");
        addReplyMapLen(c, subs);
        for (command *sub = cmd->subcommands; sub->name; sub++) {
            addReplyBulkStr(c, sub->fullName);
            addReplyCommandDocs(c, sub);
        }
    }
}

/* ---- Glob matching (COMMAND LIST FILTERBY PATTERN) ---- */

static unsigned char foldCase(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch + ('a' - 'A')) : ch;
}

/* Matches ch against the class that starts after '[' at p; *after is set past
 * the closing ']' (or to pend when the class is not closed, as Redis treats it). */
static int classMatches(const char *p, const char *pend, unsigned char ch,
                        const char **after) {
    int negate = 0, hit = 0;
    if (p < pend && *p == '^') {
        negate = 1;
        p++;
    }
    while (p < pend && *p != ']') {
        if (*p == '\\' && p + 1 < pend) p++;
        unsigned char lo = foldCase((unsigned char)*p++), hi = lo;
        if (p + 1 < pend && *p == '-' && p[1] != ']') {
            p++;
            if (*p == '\\' && p + 1 < pend) p++;
            hi = foldCase((unsigned char)*p++);
        }
        if (lo > hi) {
            unsigned char t = lo;
            lo = hi;
            hi = t;
        }
        if (ch >= lo && ch <= hi) hit = 1;
    }
    *after = p < pend ? p + 1 : pend;
    return negate ? !hit : hit;
}

/* Case-insensitive glob match (* ? [a-z] [^x] \x), iterative: a '*' remembers
 * where it was and retries one byte further on a mismatch, so the cost is at most
 * pattern length times string length. */
static int globMatch(const char *pat, size_t plen, const char *s, size_t slen) {
    const char *p = pat, *pend = pat + plen, *send = s + slen;
    const char *starP = NULL, *starS = NULL;
    while (s < send) {
        if (p < pend && *p == '*') {
            while (p < pend && *p == '*')
                p++;
            if (p == pend) return 1;
            starP = p;
            starS = s;
            continue;
        }
        if (p < pend) {
            const char *next = p + 1;
            unsigned char ch = foldCase((unsigned char)*s);
            int ok;
            if (*p == '?') {
                ok = 1;
            } else if (*p == '[') {
                ok = classMatches(p + 1, pend, ch, &next);
            } else {
                const char *lit = p;
                if (*lit == '\\' && lit + 1 < pend) next = ++lit + 1;
                ok = foldCase((unsigned char)*lit) == ch;
            }
            if (ok) {
                p = next;
                s++;
                continue;
            }
        }
        if (!starP) return 0;
        p = starP;
        s = ++starS;
    }
    while (p < pend && *p == '*')
        p++;
    return p == pend;
}

/* ---- COMMAND and its subcommands ---- */

static void commandCountCommand(client *c) {
    addReplyInt(c, commandCount());
}

static void commandInfoCommand(client *c) {
    if (c->argc == 2) {
        addReplyArrayLen(c, commandCount());
        for (command *cmd = commandTable; cmd->name; cmd++)
            addReplyCommandInfo(c, cmd);
        return;
    }
    addReplyArrayLen(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        command *cmd = lookupFullName(c->argv[i].ptr, c->argv[i].len);
        if (cmd)
            addReplyCommandInfo(c, cmd);
        else
            addReplyNull(c);
    }
}

static void commandDocsCommand(client *c) {
    if (c->argc == 2) {
        addReplyMapLen(c, commandCount());
        for (command *cmd = commandTable; cmd->name; cmd++) {
            addReplyBulkStr(c, cmd->fullName);
            addReplyCommandDocs(c, cmd);
        }
        return;
    }
    /* Unknown names are left out, as Redis does, so count the known ones first. */
    long long found = 0;
    for (int i = 2; i < c->argc; i++)
        if (lookupFullName(c->argv[i].ptr, c->argv[i].len)) found++;
    addReplyMapLen(c, found);
    for (int i = 2; i < c->argc; i++) {
        command *cmd = lookupFullName(c->argv[i].ptr, c->argv[i].len);
        if (!cmd) continue;
        addReplyBulkStr(c, cmd->fullName);
        addReplyCommandDocs(c, cmd);
    }
}

enum { LIST_ALL, LIST_ACLCAT, LIST_PATTERN, LIST_NONE };

static int listFilterAccepts(const command *cmd, int filter, const respArg *arg) {
    switch (filter) {
    case LIST_ALL:
        return 1;
    case LIST_ACLCAT:
        return hasCategory(cmd->acl, arg->ptr, arg->len);
    case LIST_PATTERN:
        return globMatch(arg->ptr, arg->len, cmd->fullName, strlen(cmd->fullName));
    default:
        return 0;
    }
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: every
 * name, subcommands as "client|setname", as Redis 7.0 lists them. respq has no
 * modules, so MODULE matches nothing. */
static void commandListCommand(client *c) {
    int filter = LIST_ALL;
    const respArg *arg = NULL;
    if (c->argc != 2) {
        if (c->argc != 5 || !argIs(&c->argv[2], "filterby")) {
            addReplyError(c, "ERR syntax error");
            return;
        }
        if (argIs(&c->argv[3], "module"))
            filter = LIST_NONE;
        else if (argIs(&c->argv[3], "aclcat"))
            filter = LIST_ACLCAT;
        else if (argIs(&c->argv[3], "pattern"))
            filter = LIST_PATTERN;
        else {
            addReplyError(c, "ERR syntax error");
            return;
        }
        arg = &c->argv[4];
    }
    long long n = 0;
    for (command *cmd = commandTable; cmd->name; cmd++) {
        n += listFilterAccepts(cmd, filter, arg);
        for (command *sub = cmd->subcommands; sub && sub->name; sub++)
            n += listFilterAccepts(sub, filter, arg);
    }
    addReplyArrayLen(c, n);
    for (command *cmd = commandTable; cmd->name; cmd++) {
        if (listFilterAccepts(cmd, filter, arg)) addReplyBulkStr(c, cmd->fullName);
        for (command *sub = cmd->subcommands; sub && sub->name; sub++)
            if (listFilterAccepts(sub, filter, arg)) addReplyBulkStr(c, sub->fullName);
    }
}

/* COMMAND GETKEYS cmd arg...: the key positions of the table applied to a full
 * command, with Redis's error texts. */
static void commandGetkeysCommand(client *c) {
    const respArg *argv = c->argv + 2;
    int argc = c->argc - 2;
    command *cmd = commandLookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc >= 2) {
        command *sub = commandLookupSub(cmd, argv[1].ptr, argv[1].len);
        cmd = sub; /* an unknown subcommand is an invalid command, as in Redis */
    }
    if (!cmd) {
        addReplyError(c, "ERR Invalid command specified");
        return;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        addReplyError(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    if (cmd->firstKey == 0) {
        addReplyError(c, "ERR The command has no key arguments");
        return;
    }
    int last = cmd->lastKey < 0 ? argc + cmd->lastKey : cmd->lastKey;
    int step = cmd->keyStep > 0 ? cmd->keyStep : 1;
    long long n = 0;
    for (int i = cmd->firstKey; i <= last && i < argc; i += step)
        n++;
    addReplyArrayLen(c, n);
    for (int i = cmd->firstKey; i <= last && i < argc; i += step)
        addReplyBulk(c, argv[i].ptr, argv[i].len);
}

static void commandHelpCommand(client *c) {
    static const char *lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about every command.",
        "COUNT",
        "    Return the number of top-level commands.",
        "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
        "    Return the names of every command and subcommand, optionally filtered.",
        "INFO [<command-name> ...]",
        "    Return details about the named commands, or about every command when",
        "    none is named.",
        "DOCS [<command-name> ...]",
        "    Return the documentation of the named commands, or of every command",
        "    when none is named.",
        "GETKEYS <full-command>",
        "    Return the keys (queue names) that a full command uses.",
        "HELP",
        "    Print this help.",
    };
    long long n = (long long)(sizeof(lines) / sizeof(lines[0]));
    addReplyArrayLen(c, n);
    for (long long i = 0; i < n; i++)
        addReplySimple(c, lines[i]);
}

/* COMMAND with no argument: every top-level entry, subcommands nested. */
void commandCommand(client *c) {
    if (c->argc == 1) {
        addReplyArrayLen(c, commandCount());
        for (command *cmd = commandTable; cmd->name; cmd++)
            addReplyCommandInfo(c, cmd);
        return;
    }
    /* The dispatcher normally calls the subcommand's proc itself; this covers a
     * caller that hands the whole command here. */
    command *container = commandLookup("command", 7);
    command *sub = commandLookupSub(container, c->argv[1].ptr, c->argv[1].len);
    if (sub && sub->proc) {
        sub->proc(c);
        return;
    }
    char name[160];
    escapeForError(name, sizeof(name), c->argv[1].ptr, c->argv[1].len);
    addReplyErrorFormat(c, "ERR unknown subcommand '%s'. Try COMMAND HELP.", name);
}
