#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static log_level_t max_level = LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(log_level_t level)
{
    max_level = level;
}

int log_enabled(log_level_t level)
{
    return level <= max_level;
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (!log_enabled(level)) return;
    char line[1024];
    int n = snprintf(line, sizeof line, "%s: ", names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    /* One write per line so lines from several threads never interleave. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
