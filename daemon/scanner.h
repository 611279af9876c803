/* scanner.h: the scan thread and what it feeds. */
#pragma once

#include <stdint.h>

#include "daemon/options.h"
#include "vmatlas/collector.h"

/* Where snapshots and service states go. publish() takes its own reference if it keeps the
 * snapshot; notify() gets sd_notify(3) text ("READY=1", "WATCHDOG=1", "STATUS=...", ...). */
struct scanner_sink {
    void (*publish)(void *userdata, struct vm_snapshot *snap);
    void (*notify)(void *userdata, const char *state);
    void *userdata;
};

struct scanner;

/* Load the state (--state-dir), queue --reset-peaks, and start the scan thread; it scans at
 * once and then every interval, and sends WATCHDOG=1 at least every watchdog_ms while it
 * waits (0: never). Returns 0 or -errno. */
int scanner_start(const struct vm_config *cfg, struct vm_collector *collector,
                  const struct scanner_sink *sink, uint64_t watchdog_ms, struct scanner **ret);

/* Walk process pid now (the scan thread does it; one refresh at a time), blocking until the
 * snapshot with it is published. Returns 0; -EAGAIN with *retry_after_s when the budget is
 * spent or another refresh runs; -ESRCH when the process is gone; another -errno. userdata is
 * the scanner (the signature of api_server_options.refresh). */
int scanner_refresh(void *userdata, int32_t pid, unsigned *retry_after_s);

/* SIGHUP: read the configuration again (argv and its file); keep the running one when the
 * new one is bad. Changes the interval, the budget, and applies new reset-peaks lines. */
void scanner_reload(struct scanner *sc, int argc, char **argv);

/* Ask the thread to stop and fail waiting refreshes with -ECANCELED (no refresh is taken
 * after it); the scanner stays valid for callers still inside scanner_refresh(). */
void scanner_cancel(struct scanner *sc);

/* Stop the thread (a scan in progress finishes), save the state, free. Accepts NULL. No
 * scanner_refresh() may run any more (stop their callers first, after scanner_cancel()). */
void scanner_stop(struct scanner *sc);
