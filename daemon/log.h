/* log.h: the daemon's log lines, on stderr with sd-daemon priority prefixes ("<3>..."), which
 * journald turns into priorities when stderr is the journal. */
#pragma once

#include <syslog.h>

void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
