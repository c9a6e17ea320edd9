/* cmd_server.c: the server commands every Redis client library sends (PING, ECHO,
 * HELLO, AUTH, SELECT, QUIT, RESET, ROLE, CLIENT, INFO, DBSIZE, TIME, SHUTDOWN,
 * BGREWRITEAOF, FLUSHALL, CLUSTER, READONLY). MULTI/EXEC live in server.c with
 * the pipeline; CONFIG in config.c; COMMAND in commands.c.
 *
 * Reply bytes and error texts are Redis 7.0's, copied from
 * shared/spec/redis-surface.md, because client libraries match on them (redis-py
 * reads HELLO's `proto`; ioredis downgrades on the text of an unknown HELLO; redis-cli
 * --stat parses INFO). Where respq differs from Redis (HELLO's `server`, the queue
 * section of INFO), the field is respq's own and named so that no Redis field name
 * is a substring of it, since redis-cli finds INFO fields with strstr.
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "aof.h"
#include "commands.h"

/* ---- Connection commands ---- */

void pingCommand(client *c) {
    if (c->argc > 2) {
        addReplyErrorArity(c);
        return;
    }
    if (c->argc == 2)
        addReplyBulk(c, c->argv[1].ptr, c->argv[1].len);
    else
        addReplyRaw(c, "+PONG\r\n", 7);
}

void echoCommand(client *c) { addReplyBulk(c, c->argv[1].ptr, c->argv[1].len); }

/* Checks a password for `user` against requirepass. respq has one user,
 * `default`, as Redis has without an ACL file. */
static int passwordMatches(const respArg *user, const respArg *pass) {
    if (user && !argIs(user, "default")) return 0;
    if (!server.requirePass) return 1; /* default user with no password: any */
    size_t n = strlen(server.requirePass);
    /* Compare every byte whatever the first mismatch, so the time taken does not
     * tell how much of a guess was right. */
    unsigned diff = (unsigned)(pass->len ^ n);
    for (size_t i = 0; i < pass->len; i++)
        diff |= (unsigned char)pass->ptr[i] ^
                (unsigned char)(i < n ? server.requirePass[i] : 0);
    return diff == 0;
}

void authCommand(client *c) {
    if (c->argc > 3) {
        addReplyError(c, "ERR syntax error");
        return;
    }
    if (c->argc == 2 && !server.requirePass) {
        addReplyError(c, "ERR AUTH <password> called without any password configured "
                         "for the default user. Are you sure your configuration is "
                         "correct?");
        return;
    }
    const respArg *user = c->argc == 3 ? &c->argv[1] : NULL;
    const respArg *pass = &c->argv[c->argc - 1];
    if (!passwordMatches(user, pass)) {
        addReplyError(c, "WRONGPASS invalid username-password pair or user is "
                         "disabled.");
        return;
    }
    c->authenticated = 1;
    addReplyOk(c);
}

static int validClientName(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] < '!' || p[i] > '~') return 0;
    return 1;
}

static void setClientName(client *c, const respArg *a) {
    memFree(c->name);
    c->name = a->len ? memStrndup(a->ptr, a->len) : NULL;
}

void helloCommand(client *c) {
    long long ver = c->proto;
    int next = 1;
    if (c->argc >= 2) {
        if (!argToLongLong(&c->argv[1], &ver)) {
            addReplyError(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            addReplyError(c, "NOPROTO unsupported protocol version");
            return;
        }
        next = 2;
    }
    const respArg *user = NULL, *pass = NULL, *name = NULL;
    for (int i = next; i < c->argc; i++) {
        int more = c->argc - i - 1;
        if (argIs(&c->argv[i], "AUTH") && more >= 2) {
            user = &c->argv[i + 1];
            pass = &c->argv[i + 2];
            i += 2;
        } else if (argIs(&c->argv[i], "SETNAME") && more >= 1) {
            name = &c->argv[i + 1];
            i += 1;
        } else {
            char opt[160];
            escapeForError(opt, sizeof(opt), c->argv[i].ptr, c->argv[i].len);
            addReplyErrorFormat(c, "ERR Syntax error in HELLO option '%s'", opt);
            return;
        }
    }
    if (pass && !passwordMatches(user, pass)) {
        addReplyError(c, "WRONGPASS invalid username-password pair or user is "
                         "disabled.");
        return;
    }
    if (!pass && !c->authenticated) {
        addReplyError(c, "NOAUTH HELLO must be called with the client already "
                         "authenticated, otherwise the HELLO AUTH <user> <pass> option "
                         "can be used to authenticate the client and select the RESP "
                         "protocol version at the same time");
        return;
    }
    if (name && !validClientName(name->ptr, name->len)) {
        addReplyError(c, "ERR Client names cannot contain spaces, newlines or special "
                         "characters.");
        return;
    }
    if (pass) c->authenticated = 1;
    if (name) setClientName(c, name);
    c->proto = (int)ver;

    addReplyMapLen(c, 7);
    addReplyBulkStr(c, "server");
    addReplyBulkStr(c, "respq");
    addReplyBulkStr(c, "version");
    addReplyBulkStr(c, REDIS_COMPAT_VERSION);
    addReplyBulkStr(c, "proto");
    addReplyInt(c, ver);
    addReplyBulkStr(c, "id");
    addReplyInt(c, c->id);
    addReplyBulkStr(c, "mode");
    addReplyBulkStr(c, "standalone");
    addReplyBulkStr(c, "role");
    addReplyBulkStr(c, "master");
    addReplyBulkStr(c, "modules");
    addReplyArrayLen(c, 0);
}

void selectCommand(client *c) {
    long long db;
    if (!argToLongLong(&c->argv[1], &db)) {
        addReplyError(c, "ERR value is not an integer or out of range");
        return;
    }
    if (db != 0) {
        addReplyError(c, "ERR DB index is out of range");
        return;
    }
    addReplyOk(c);
}

void quitCommand(client *c) {
    addReplyOk(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

void resetCommand(client *c) {
    freeClientMultiState(c);
    c->proto = 2;
    memFree(c->name);
    c->name = NULL;
    c->flags &= ~(CLIENT_NO_EVICT | CLIENT_NO_TOUCH);
    c->authenticated = server.requirePass == NULL;
    addReplyRaw(c, "+RESET\r\n", 8);
}

void roleCommand(client *c) {
    addReplyArrayLen(c, 3);
    addReplyBulkStr(c, "master");
    addReplyInt(c, 0);
    addReplyArrayLen(c, 0);
}

void clusterCommand(client *c) {
    addReplyError(c, "ERR This instance has cluster support disabled");
}

void readonlyCommand(client *c) {
    addReplyError(c, "ERR This instance has cluster support disabled");
}

/* ---- CLIENT ---- */

static void clientHelp(client *c) {
    static const char *lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ID",
        "    Return the ID of the current connection.",
        "GETNAME",
        "    Return the name of the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <LIB-NAME|LIB-VER> <value>",
        "    Record the client library's name or version (shown by CLIENT LIST).",
        "INFO",
        "    Return information about the current client connection.",
        "LIST [TYPE <normal|master|replica|pubsub>] [ID <id> [<id> ...]]",
        "    Return information about client connections.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options: ID <id>, ADDR <ip:port>, LADDR <ip:port>,",
        "    TYPE <normal|master|replica|pubsub>, USER <user>, SKIPME <yes|no>,",
        "    MAXAGE <seconds>.",
        "NO-EVICT <ON|OFF>",
        "    Protect the connection from eviction (recorded; respq evicts none).",
        "NO-TOUCH <ON|OFF>",
        "    Recorded for compatibility; respq keeps no access times.",
        "HELP",
        "    Print this help.",
    };
    size_t n = sizeof(lines) / sizeof(lines[0]);
    addReplyArrayLen(c, (long long)n);
    for (size_t i = 0; i < n; i++) addReplySimple(c, lines[i]);
}

static void clientList(client *c) {
    int normalOnly = 1;
    long long *ids = NULL;
    int idCount = 0;
    for (int i = 2; i < c->argc; i++) {
        if (argIs(&c->argv[i], "TYPE") && i + 1 < c->argc) {
            respArg *t = &c->argv[++i];
            if (argIs(t, "normal")) {
                normalOnly = 1;
            } else if (argIs(t, "master") || argIs(t, "replica") ||
                       argIs(t, "slave") || argIs(t, "pubsub")) {
                normalOnly = 0; /* respq has no clients of these kinds */
            } else {
                char bad[160];
                escapeForError(bad, sizeof(bad), t->ptr, t->len);
                addReplyErrorFormat(c, "ERR Unknown client type '%s'", bad);
                memFree(ids);
                return;
            }
        } else if (argIs(&c->argv[i], "ID") && i + 1 < c->argc) {
            ids = memRealloc(ids, sizeof(long long) * (size_t)(c->argc));
            for (i = i + 1; i < c->argc; i++) {
                long long id;
                if (!argToLongLong(&c->argv[i], &id) || id <= 0) {
                    addReplyError(c, "ERR Invalid client ID");
                    memFree(ids);
                    return;
                }
                ids[idCount++] = id;
            }
        } else {
            addReplyError(c, "ERR syntax error");
            memFree(ids);
            return;
        }
    }
    respBuf out = {0};
    if (normalOnly) {
        for (client *o = server.clients; o; o = o->next) {
            if (o->flags & CLIENT_CLOSE_ASAP) continue;
            if (ids) {
                int found = 0;
                for (int k = 0; k < idCount; k++) found |= ids[k] == o->id;
                if (!found) continue;
            }
            netClientInfo(o, &out);
        }
    }
    addReplyVerbatim(c, out.data ? out.data : "", out.len);
    respBufFree(&out);
    memFree(ids);
}

static void clientKill(client *c) {
    if (c->argc == 3) { /* old form: CLIENT KILL ip:port */
        for (client *o = server.clients; o; o = o->next) {
            if (o->flags & CLIENT_CLOSE_ASAP) continue;
            if (strlen(o->addr) == c->argv[2].len &&
                !memcmp(o->addr, c->argv[2].ptr, c->argv[2].len)) {
                addReplyOk(c);
                if (o == c)
                    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
                else
                    freeClientAsync(o);
                return;
            }
        }
        addReplyError(c, "ERR No such client");
        return;
    }
    if (c->argc % 2 != 0) {
        addReplyError(c, "ERR syntax error");
        return;
    }
    long long id = 0, maxAge = 0;
    const respArg *addr = NULL, *laddr = NULL, *user = NULL;
    int skipMe = 1, typeNormal = 1;
    for (int i = 2; i < c->argc; i += 2) {
        respArg *opt = &c->argv[i], *val = &c->argv[i + 1];
        if (argIs(opt, "ID")) {
            if (!argToLongLong(val, &id) || id <= 0) {
                addReplyError(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (argIs(opt, "ADDR")) {
            addr = val;
        } else if (argIs(opt, "LADDR")) {
            laddr = val;
        } else if (argIs(opt, "USER")) {
            user = val;
        } else if (argIs(opt, "TYPE")) {
            if (argIs(val, "normal")) {
                typeNormal = 1;
            } else if (argIs(val, "master") || argIs(val, "replica") ||
                       argIs(val, "slave") || argIs(val, "pubsub")) {
                typeNormal = 0;
            } else {
                char bad[160];
                escapeForError(bad, sizeof(bad), val->ptr, val->len);
                addReplyErrorFormat(c, "ERR Unknown client type '%s'", bad);
                return;
            }
        } else if (argIs(opt, "SKIPME")) {
            if (argIs(val, "yes")) {
                skipMe = 1;
            } else if (argIs(val, "no")) {
                skipMe = 0;
            } else {
                addReplyError(c, "ERR syntax error");
                return;
            }
        } else if (argIs(opt, "MAXAGE")) {
            if (!argToLongLong(val, &maxAge) || maxAge < 0) {
                addReplyError(c, "ERR value is not an integer or out of range");
                return;
            }
        } else {
            addReplyError(c, "ERR syntax error");
            return;
        }
    }
    long long killed = 0;
    int killSelf = 0;
    for (client *o = server.clients; o; o = o->next) {
        if (o->flags & CLIENT_CLOSE_ASAP) continue;
        if (!typeNormal) continue;
        if (id && o->id != id) continue;
        if (addr && (strlen(o->addr) != addr->len || memcmp(o->addr, addr->ptr, addr->len)))
            continue;
        if (laddr &&
            (strlen(o->laddr) != laddr->len || memcmp(o->laddr, laddr->ptr, laddr->len)))
            continue;
        if (user && !argIs(user, "default")) continue;
        if (maxAge && (server.nowMs - o->ctimeMs) / 1000 < maxAge) continue;
        if (o == c) {
            if (skipMe) continue;
            killSelf = 1;
        } else {
            freeClientAsync(o);
        }
        killed++;
    }
    addReplyInt(c, killed);
    if (killSelf) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void clientOnOff(client *c, int flag) {
    if (argIs(&c->argv[2], "ON")) {
        c->flags |= flag;
    } else if (argIs(&c->argv[2], "OFF")) {
        c->flags &= ~flag;
    } else {
        addReplyError(c, "ERR syntax error");
        return;
    }
    addReplyOk(c);
}

static void clientSetInfo(client *c) {
    respArg *attr = &c->argv[2], *val = &c->argv[3];
    char **slot;
    if (argIs(attr, "LIB-NAME"))
        slot = &c->libName;
    else if (argIs(attr, "LIB-VER"))
        slot = &c->libVer;
    else {
        char bad[160];
        escapeForError(bad, sizeof(bad), attr->ptr, attr->len);
        addReplyErrorFormat(c, "ERR Unrecognized option '%s'", bad);
        return;
    }
    if (!validClientName(val->ptr, val->len)) {
        addReplyErrorFormat(c, "ERR %s cannot contain spaces, newlines or special "
                               "characters.",
                            slot == &c->libName ? "lib-name" : "lib-ver");
        return;
    }
    memFree(*slot);
    *slot = val->len ? memStrndup(val->ptr, val->len) : NULL;
    addReplyOk(c);
}

/* Subcommand arity is checked by the pipeline from the table; this only routes. */
void clientCommand(client *c) {
    const respArg *sub = &c->argv[1];
    if (argIs(sub, "ID")) {
        addReplyInt(c, c->id);
    } else if (argIs(sub, "GETNAME")) {
        if (c->name)
            addReplyBulkStr(c, c->name);
        else
            addReplyNull(c);
    } else if (argIs(sub, "SETNAME")) {
        if (!validClientName(c->argv[2].ptr, c->argv[2].len)) {
            addReplyError(c, "ERR Client names cannot contain spaces, newlines or "
                             "special characters.");
            return;
        }
        setClientName(c, &c->argv[2]);
        addReplyOk(c);
    } else if (argIs(sub, "SETINFO")) {
        clientSetInfo(c);
    } else if (argIs(sub, "LIST")) {
        clientList(c);
    } else if (argIs(sub, "INFO")) {
        respBuf out = {0};
        netClientInfo(c, &out);
        addReplyVerbatim(c, out.data, out.len);
        respBufFree(&out);
    } else if (argIs(sub, "KILL")) {
        clientKill(c);
    } else if (argIs(sub, "NO-EVICT")) {
        clientOnOff(c, CLIENT_NO_EVICT);
    } else if (argIs(sub, "NO-TOUCH")) {
        clientOnOff(c, CLIENT_NO_TOUCH);
    } else if (argIs(sub, "HELP")) {
        clientHelp(c);
    } else {
        char bad[160];
        escapeForError(bad, sizeof(bad), sub->ptr, sub->len);
        addReplyErrorFormat(c, "ERR unknown subcommand '%s'. Try CLIENT HELP.", bad);
    }
}

/* ---- INFO ---- */

static void catf(respBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void catf(respBuf *b, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    respBufAppend(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void humanBytes(char *out, size_t cap, long long n) {
    double d = (double)n;
    if (n < 1024)
        snprintf(out, cap, "%lldB", n);
    else if (n < 1024LL * 1024)
        snprintf(out, cap, "%.2fK", d / 1024);
    else if (n < 1024LL * 1024 * 1024)
        snprintf(out, cap, "%.2fM", d / (1024 * 1024));
    else
        snprintf(out, cap, "%.2fG", d / (1024.0 * 1024 * 1024));
}

static long long rssBytes(void) {
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp) return 0;
    long long pages = 0, rss = 0;
    if (fscanf(fp, "%lld %lld", &pages, &rss) != 2) rss = 0;
    fclose(fp);
    return rss * sysconf(_SC_PAGESIZE);
}

static long long peakMemory;

enum {
    SEC_SERVER = 1 << 0,
    SEC_CLIENTS = 1 << 1,
    SEC_MEMORY = 1 << 2,
    SEC_PERSISTENCE = 1 << 3,
    SEC_STATS = 1 << 4,
    SEC_REPLICATION = 1 << 5,
    SEC_CPU = 1 << 6,
    SEC_QUEUES = 1 << 7,
    SEC_COMMANDSTATS = 1 << 8,
    SEC_KEYSPACE = 1 << 9,
    SEC_CLUSTER = 1 << 10,
    SEC_DEFAULT = SEC_SERVER | SEC_CLIENTS | SEC_MEMORY | SEC_PERSISTENCE | SEC_STATS |
                  SEC_REPLICATION | SEC_CPU | SEC_QUEUES | SEC_CLUSTER | SEC_KEYSPACE,
    SEC_ALL = SEC_DEFAULT | SEC_COMMANDSTATS,
};

static const struct {
    const char *name;
    int bit;
} sectionNames[] = {
    {"server", SEC_SERVER},           {"clients", SEC_CLIENTS},
    {"memory", SEC_MEMORY},           {"persistence", SEC_PERSISTENCE},
    {"stats", SEC_STATS},             {"replication", SEC_REPLICATION},
    {"cpu", SEC_CPU},                 {"queues", SEC_QUEUES},
    {"commandstats", SEC_COMMANDSTATS}, {"keyspace", SEC_KEYSPACE},
    {"cluster", SEC_CLUSTER},
    {"default", SEC_DEFAULT},         {"all", SEC_ALL},
    {"everything", SEC_ALL},
};

static void sectionHeader(respBuf *b, const char *title) {
    if (b->len) respBufAppend(b, "\r\n", 2);
    catf(b, "# %s\r\n", title);
}

static void commandStatLine(command *cmd, void *ctx) {
    respBuf *b = ctx;
    if (!cmd->calls && !cmd->rejectedCalls && !cmd->failedCalls) return;
    catf(b,
         "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
         "failed_calls=%lld\r\n",
         cmd->fullName, cmd->calls, cmd->usec,
         cmd->calls ? (double)cmd->usec / (double)cmd->calls : 0.0, cmd->rejectedCalls,
         cmd->failedCalls);
}

static long long blockedClients(void) {
    long long n = 0;
    for (client *o = server.clients; o; o = o->next) n += !!(o->flags & CLIENT_BLOCKED);
    return n;
}

/* Instantaneous ops: samples of the command counter, taken by serverCronSample. */
#define OPS_SAMPLES 16
static long long opsSamples[OPS_SAMPLES];
static int opsIdx;
static long long opsLastCount, opsLastMs;

void serverCronSample(void) {
    long long now = monotonicUs() / 1000;
    if (opsLastMs && now > opsLastMs) {
        opsSamples[opsIdx++ % OPS_SAMPLES] =
            (server.statCommands - opsLastCount) * 1000 / (now - opsLastMs);
    }
    opsLastMs = now;
    opsLastCount = server.statCommands;
    long long used = (long long)memUsed();
    if (used > peakMemory) peakMemory = used;
}

static long long instantaneousOps(void) {
    long long sum = 0;
    for (int i = 0; i < OPS_SAMPLES; i++) sum += opsSamples[i];
    return sum / OPS_SAMPLES;
}

static void genInfo(respBuf *b, int sections) {
    long long now = unixTimeMs();
    long long uptime = (now - server.startTimeMs) / 1000;
    if (sections & SEC_SERVER) {
        struct utsname un;
        uname(&un);
        sectionHeader(b, "Server");
        catf(b, "redis_version:%s\r\n", REDIS_COMPAT_VERSION);
        catf(b, "redis_git_sha1:00000000\r\nredis_git_dirty:0\r\n");
        catf(b, "redis_mode:standalone\r\n");
        catf(b, "respq_version:%s\r\n", RESPQ_VERSION);
        catf(b, "os:%s %s %s\r\n", un.sysname, un.release, un.machine);
        catf(b, "arch_bits:%d\r\n", (int)(sizeof(void *) * 8));
        catf(b, "multiplexing_api:epoll\r\n");
#ifdef __GNUC__
        catf(b, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__,
             __GNUC_PATCHLEVEL__);
#endif
        catf(b, "process_id:%d\r\n", (int)getpid());
        catf(b, "run_id:%s\r\n", server.runId);
        catf(b, "tcp_port:%d\r\n", server.port);
        catf(b, "server_time_usec:%lld\r\n", now * 1000);
        catf(b, "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n", uptime,
             uptime / 86400);
        catf(b, "hz:%d\r\nconfigured_hz:%d\r\n", server.hz, server.hz);
        catf(b, "config_file:%s\r\n", server.configFile ? server.configFile : "");
    }
    if (sections & SEC_CLIENTS) {
        sectionHeader(b, "Clients");
        catf(b, "connected_clients:%lld\r\n", server.numClients);
        catf(b, "cluster_connections:0\r\n");
        catf(b, "maxclients:%lld\r\n", server.maxClients);
        catf(b, "blocked_clients:%lld\r\n", blockedClients());
        catf(b, "tracking_clients:0\r\n");
    }
    if (sections & SEC_MEMORY) {
        char h1[32], h2[32], h3[32], h4[32];
        long long used = (long long)memUsed(), rss = rssBytes();
        if (used > peakMemory) peakMemory = used;
        humanBytes(h1, sizeof(h1), used);
        humanBytes(h2, sizeof(h2), rss);
        humanBytes(h3, sizeof(h3), peakMemory);
        humanBytes(h4, sizeof(h4), server.maxMemory);
        sectionHeader(b, "Memory");
        catf(b, "used_memory:%lld\r\nused_memory_human:%s\r\n", used, h1);
        catf(b, "used_memory_rss:%lld\r\nused_memory_rss_human:%s\r\n", rss, h2);
        catf(b, "used_memory_peak:%lld\r\nused_memory_peak_human:%s\r\n", peakMemory,
             h3);
        catf(b, "maxmemory:%lld\r\nmaxmemory_human:%s\r\n", server.maxMemory, h4);
        catf(b, "maxmemory_policy:noeviction\r\n");
        catf(b, "mem_allocator:jemalloc\r\n");
    }
    if (sections & SEC_PERSISTENCE) {
        sectionHeader(b, "Persistence");
        catf(b, "loading:0\r\nasync_loading:0\r\n");
        catf(b, "rdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\n");
        aofInfo(b);
    }
    if (sections & SEC_STATS) {
        sectionHeader(b, "Stats");
        catf(b, "total_connections_received:%lld\r\n", server.statConnections);
        catf(b, "total_commands_processed:%lld\r\n", server.statCommands);
        catf(b, "instantaneous_ops_per_sec:%lld\r\n", instantaneousOps());
        catf(b, "total_net_input_bytes:%lld\r\n", server.statNetInputBytes);
        catf(b, "total_net_output_bytes:%lld\r\n", server.statNetOutputBytes);
        catf(b, "rejected_connections:%lld\r\n", server.statRejectedConnections);
        catf(b, "total_error_replies:%lld\r\n", server.statErrorReplies);
        catf(b, "respq_protocol_errors:%lld\r\n", server.statProtocolErrors);
    }
    if (sections & SEC_REPLICATION) {
        sectionHeader(b, "Replication");
        catf(b, "role:master\r\nconnected_slaves:0\r\n");
        catf(b, "master_failover_state:no-failover\r\n");
        catf(b, "master_replid:%s\r\nmaster_repl_offset:0\r\n", server.runId);
    }
    if (sections & SEC_CPU) {
        struct rusage self;
        getrusage(RUSAGE_SELF, &self);
        sectionHeader(b, "CPU");
        catf(b, "used_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n",
             (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
             (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec);
    }
    if (sections & SEC_QUEUES) {
        sectionHeader(b, "Queues");
        queueInfoSection(b, blockedClients());
    }
    if (sections & SEC_COMMANDSTATS) {
        sectionHeader(b, "Commandstats");
        commandForEach(commandStatLine, b);
    }
    if (sections & SEC_CLUSTER) {
        sectionHeader(b, "Cluster");
        catf(b, "cluster_enabled:0\r\n");
    }
    if (sections & SEC_KEYSPACE) {
        sectionHeader(b, "Keyspace");
        long long queues = queueCount();
        if (queues) catf(b, "db0:keys=%lld,expires=0,avg_ttl=0\r\n", queues);
    }
}

void infoCommand(client *c) {
    int sections = 0;
    if (c->argc == 1) sections = SEC_DEFAULT;
    for (int i = 1; i < c->argc; i++) {
        for (size_t k = 0; k < sizeof(sectionNames) / sizeof(sectionNames[0]); k++)
            if (argIs(&c->argv[i], sectionNames[k].name)) sections |= sectionNames[k].bit;
    }
    respBuf b = {0};
    genInfo(&b, sections);
    addReplyVerbatim(c, b.data ? b.data : "", b.len);
    respBufFree(&b);
}

/* ---- Server-wide commands ---- */

void dbsizeCommand(client *c) { addReplyInt(c, queueCount()); }

void timeCommand(client *c) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    addReplyArrayLen(c, 2);
    addReplyBulkInt(c, us / 1000000);
    addReplyBulkInt(c, us % 1000000);
}

void shutdownCommand(client *c) {
    for (int i = 1; i < c->argc; i++) {
        if (!argIs(&c->argv[i], "NOSAVE") && !argIs(&c->argv[i], "SAVE") &&
            !argIs(&c->argv[i], "NOW") && !argIs(&c->argv[i], "FORCE")) {
            addReplyError(c, "ERR syntax error");
            return;
        }
    }
    logMsg(LL_WARNING, "User requested shutdown...");
    /* As Redis: no reply on success; the connection closes as the server exits. */
    server.shutdownAsap = 1;
    server.shutdownExitCode = 0;
    evStop(server.loop);
}

void bgrewriteaofCommand(client *c) {
    if (!server.appendOnly) {
        addReplyError(c, "ERR Background append only file rewriting is not possible: "
                         "the append-only file is off (appendonly no)");
        return;
    }
    char err[300];
    if (aofRewriteStart(err, sizeof(err)) == -1) {
        addReplyErrorFormat(c, "ERR %s", err);
        return;
    }
    addReplySimple(c, "Background append only file rewriting started");
}

void flushallCommand(client *c) {
    if (c->argc > 2 || (c->argc == 2 && !argIs(&c->argv[1], "SYNC") &&
                        !argIs(&c->argv[1], "ASYNC"))) {
        addReplyError(c, "ERR syntax error");
        return;
    }
    queueFlushAll(server.nowMs);
    addReplyOk(c);
}

void resetStats(void) {
    server.statConnections = 0;
    server.statRejectedConnections = 0;
    server.statCommands = 0;
    server.statNetInputBytes = 0;
    server.statNetOutputBytes = 0;
    server.statErrorReplies = 0;
    server.statProtocolErrors = 0;
    peakMemory = (long long)memUsed();
    memset(opsSamples, 0, sizeof(opsSamples));
}
