/* log.c: log lines to the journal (with structured fields) when stderr is connected to it,
 * else on stderr with sd-daemon priority prefixes ("<3>..."). */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "collector/parse.h"
#include "daemon/log.h"

/* Set once in log_init(), before any thread starts; read-only afterwards. */
static int to_journal;

void log_init(void) {
    /* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected stderr to. */
    const char *js = getenv("JOURNAL_STREAM");
    const char *colon = js ? strchr(js, ':') : NULL;
    struct stat st;
    uint64_t dev, ino;
    to_journal = colon && parse_u64(js, (size_t)(colon - js), &dev) == 0 &&
                 parse_u64(colon + 1, strlen(colon + 1), &ino) == 0 &&
                 fstat(STDERR_FILENO, &st) == 0 && (uint64_t)st.st_dev == dev &&
                 (uint64_t)st.st_ino == ino;
}

__attribute__((format(printf, 4, 0))) static void vlog(int priority, const char *message_id, int pid,
                                                     const char *fmt, va_list ap) {
    char line[1024];
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    if (to_journal) {
        if (message_id && pid > 0)
            sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", priority & 7, "MESSAGE_ID=%s",
                            message_id, "VMATLAS_PID=%d", pid, NULL);
        else if (message_id)
            sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", priority & 7, "MESSAGE_ID=%s",
                            message_id, NULL);
        else
            sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", priority & 7, NULL);
        return;
    }
    /* One write per line, so lines from two threads never interleave. */
    fprintf(stderr, "<%d>vmatlasd: %s\n", priority & 7, line);
}

void log_msg(int priority, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(priority, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_event(int priority, const char *message_id, int pid, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(priority, message_id, pid, fmt, ap);
    va_end(ap);
}
