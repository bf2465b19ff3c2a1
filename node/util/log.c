/* Leveled stderr logging (see log.h). One fprintf per line so lines never interleave. */
#include "node/util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int cur_level = CN_LOGL_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void cn_log_set_level(int level) { cur_level = level; }
int cn_log_enabled(int level) { return level <= cur_level; }

void cn_log(int level, const char *fmt, ...) {
    if (level > cur_level || level < 0)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", when, ts.tv_nsec / 1000000L, names[level], msg);
}
