/* log.c: log lines on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon/log.h"

void log_msg(int priority, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One write per line, so lines from two threads never interleave. */
    fprintf(stderr, "<%d>vmatlasd: %s\n", priority & 7, line);
}
