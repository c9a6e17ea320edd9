/* main.c: start-up, signals and shutdown of respq-server.
 *
 * Start-up order matters: configuration first (it may chdir to `dir` and decides
 * the fd limit), then the event loop sized for maxclients, then the listeners, and
 * only then "Ready to accept connections", which scripts and tests wait for.
 * SIGTERM and SIGINT only set a flag; the loop notices it at the next turn (the
 * cron runs at least every 1000/hz ms), writes what clients are owed and exits 0.
 */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "aof.h"
#include "commands.h"

static volatile sig_atomic_t signalled;

static void onSignal(int sig) {
    (void)sig;
    signalled = 1;
}

static void usage(FILE *out) {
    fprintf(out,
            "Usage: respq-server [/path/to/respq.conf] [--setting value ...]\n"
            "       respq-server --version | -v\n"
            "       respq-server --help | -h\n\n"
            "Any setting of respq.conf can be given as --name value, and overrides\n"
            "the file. Examples:\n"
            "       respq-server                      (defaults: 127.0.0.1:%d)\n"
            "       respq-server respq.conf\n"
            "       respq-server --port 7777 --appendonly no\n",
            DEFAULT_PORT);
}

static void setupSignals(void) {
    struct sigaction sa = {0};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void makeRunId(void) {
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[20];
    FILE *fp = fopen("/dev/urandom", "r");
    if (!fp || fread(raw, 1, sizeof(raw), fp) != sizeof(raw)) {
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (unsigned char)(rand() ^ (int)getpid() ^ (int)unixTimeMs());
    }
    if (fp) fclose(fp);
    for (size_t i = 0; i < sizeof(raw); i++) {
        server.runId[i * 2] = hex[raw[i] >> 4];
        server.runId[i * 2 + 1] = hex[raw[i] & 15];
    }
    server.runId[40] = '\0';
}

/* Raises the fd limit to what maxclients needs; lowers maxclients if the system
 * refuses, as Redis does, and says so. */
static void adjustOpenFilesLimit(void) {
    rlim_t want = (rlim_t)server.maxClients + RESERVED_FDS;
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == -1) return;
    if (lim.rlim_cur >= want) return;
    struct rlimit raised = lim;
    raised.rlim_cur = want;
    if (raised.rlim_max < want) raised.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    raised.rlim_max = lim.rlim_max;
    raised.rlim_cur = lim.rlim_max < want ? lim.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &raised);
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < want) {
        long long old = server.maxClients;
        server.maxClients = (long long)lim.rlim_cur - RESERVED_FDS;
        if (server.maxClients < 1) server.maxClients = 1;
        logMsg(LL_WARNING,
               "The open files limit is %llu, so maxclients is lowered from %lld "
               "to %lld",
               (unsigned long long)lim.rlim_cur, old, server.maxClients);
    }
}

static long long serverCron(evLoop *loop, long long id, void *data) {
    (void)id, (void)data;
    server.nowMs = unixTimeMs();
    serverCronSample();
    aofCron();
    netCron();
    if (signalled && !server.shutdownAsap) {
        logMsg(LL_WARNING, "Received a shutdown signal, scheduling shutdown...");
        server.shutdownAsap = 1;
        server.shutdownExitCode = 0;
        evStop(loop);
    }
    return 1000 / (server.hz > 0 ? server.hz : 10);
}

static void beforeSleep(evLoop *loop) {
    server.nowMs = unixTimeMs();
    /* Engine timers and blocked receivers first, so that the replies they make
     * (and those of the pipelined commands they release) go out in this turn's
     * writes. */
    queueBeforeSleep();
    aofBeforeSleep(); /* records of this turn on disk before any reply */
    netWritePending();
    if (signalled && !server.shutdownAsap) {
        logMsg(LL_WARNING, "Received a shutdown signal, scheduling shutdown...");
        server.shutdownAsap = 1;
        evStop(loop);
    }
}

/* The poll timeout honours the engine's next deadline (a lease, delay, retention
 * or long-poll end), so nothing waits for the cron's next tick. */
static long long engineDeadlineMs(evLoop *loop) {
    (void)loop;
    int64_t when = engineNextDeadline(server.engine);
    if (when == INT64_MAX) return -1;
    long long now = unixTimeMs();
    return when > now ? when - now : 0;
}

/* The per-data-directory part of message ids: random for a new data directory,
 * then kept in every AOF file's HEADER record (the loader puts it back), so ids
 * stay unique for the life of the directory. With appendonly no, each start is a
 * new life. */
static uint32_t makeEpoch(void) {
    uint32_t epoch = 0;
    FILE *fp = fopen("/dev/urandom", "r");
    if (!fp || fread(&epoch, 1, sizeof(epoch), fp) != sizeof(epoch))
        epoch = (uint32_t)unixTimeMs() ^ ((uint32_t)getpid() << 16) ^ (uint32_t)rand();
    if (fp) fclose(fp);
    return epoch;
}

static void writePidFile(void) {
    if (!server.pidFile || !server.pidFile[0]) return;
    FILE *fp = fopen(server.pidFile, "w");
    if (!fp) {
        logMsg(LL_WARNING, "Could not write pidfile %s: %s", server.pidFile,
               strerror(errno));
        return;
    }
    fprintf(fp, "%d\n", (int)getpid());
    fclose(fp);
}

int main(int argc, char **argv) {
    const char *configPath = NULL;
    int firstFlag = 1;
    if (argc >= 2) {
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
            printf("respq-server v=%s redis-compat=%s malloc=jemalloc\n", RESPQ_VERSION,
                   REDIS_COMPAT_VERSION);
            return 0;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
            usage(stdout);
            return 0;
        }
        if (strncmp(argv[1], "--", 2) != 0) {
            configPath = argv[1];
            firstFlag = 2;
        }
    }

    server.startTimeMs = server.nowMs = unixTimeMs();
    configInitDefaults();
    if (configLoad(configPath, argc - firstFlag, argv + firstFlag) == -1) return 1;
    makeRunId();
    commandTableInit();
    setupSignals();
    adjustOpenFilesLimit();

    server.loop = evCreate((int)server.maxClients + RESERVED_FDS);
    if (!server.loop) {
        logMsg(LL_WARNING, "Could not create the event loop: %s", strerror(errno));
        return 1;
    }
    server.engine = engineCreate(makeEpoch(), server.nowMs);
    engineSetWaiterDone(server.engine, queueWaiterDone, NULL);
    /* Load before listening: no client sees a half-loaded state. aofStart sets
     * the engine's effect sink once loading is over. */
    if (aofStart() == -1) return 1;
    if (netListen() == -1) return 1;
    evAddTimer(server.loop, 1, serverCron, NULL);
    evSetBeforeSleep(server.loop, beforeSleep);
    evSetNextDeadline(server.loop, engineDeadlineMs);

    logMsg(LL_NOTICE, "respq %s starting, pid %d", RESPQ_VERSION, (int)getpid());
    writePidFile();
    logMsg(LL_NOTICE, "Ready to accept connections on %s:%d%s%s",
           server.bindCount ? server.bindAddrs[0] : "-", server.port,
           server.unixSocket ? " and unix socket " : "",
           server.unixSocket ? server.unixSocket : "");

    evMain(server.loop);

    logMsg(LL_WARNING, "respq is shutting down");
    aofShutdown();
    netFlushAllBlocking();
    netCloseListeners();
    if (server.pidFile && server.pidFile[0]) unlink(server.pidFile);
    logMsg(LL_WARNING, "respq is now ready to exit, bye bye...");
    return server.shutdownExitCode;
}
