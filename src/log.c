/* log.c: leveled logging to stderr or to `logfile`, in Redis's line format
 * ("pid:M 28 Nov 2026 23:09:45.123 * message") so that people and tools used to
 * reading Redis logs read ours the same way.
 *
 * The log file is opened in append mode at each message, as Redis does: a rotated
 * file is picked up without a signal, and the cost does not matter because logging is
 * never on the request path.
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *levelNames[] = {"debug", "verbose", "notice", "warning"};
static const char levelMarks[] = {'.', '-', '*', '#'};

int logLevelFromName(const char *name) {
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(name, levelNames[i])) return i;
    return -1;
}

const char *logLevelName(int level) {
    return (level >= 0 && level < 4) ? levelNames[level] : "notice";
}

void logReopen(void) {
    /* Nothing is kept open: the next message opens the new file. */
}

void logRaw(int level, const char *msg) {
    if (level < server.logLevel) return;
    int toFile = server.logFile && server.logFile[0];
    FILE *fp = toFile ? fopen(server.logFile, "a") : stderr;
    if (!fp) fp = stderr;

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[64];
    size_t off = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + off, sizeof(when) - off, "%03d", (int)(tv.tv_usec / 1000));
    fprintf(fp, "%d:M %s %c %s\n", (int)getpid(), when, levelMarks[level & 3], msg);
    fflush(fp);
    if (fp != stderr) fclose(fp);
}

void logMsg(int level, const char *fmt, ...) {
    if (level < server.logLevel) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    logRaw(level, msg);
}
