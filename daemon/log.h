/* log.h: the daemon's log lines: to the journal with structured fields when stderr is the
 * journal (JOURNAL_STREAM), else on stderr with sd-daemon priority prefixes ("<3>..."). */
#pragma once

#include <syslog.h>

/* Message ids (journalctl MESSAGE_ID=) of events worth finding. */
#define LOG_ID_SCAN_FAILED "6f3a1c2e9d8b4f7aa1b2c3d4e5f60718"

/* Decide where lines go; call once before threads start. */
void log_init(void);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line with a MESSAGE_ID and, when pid > 0, the process it is about (VMATLAS_PID=). */
void log_event(int priority, const char *message_id, int pid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
