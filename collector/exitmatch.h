/* exitmatch.h: process exits heard from taskstats, matched with the processes the scans saw. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "collector/taskstats.h"
#include "vmatlas/snapshot.h"

/* How far apart the start of an exit record (receive time less lifetime) and /proc's
 * starttime may be for the same process: delivery latency, one clock tick, and the reader
 * thread's scheduling. pids do not come round again within a second. */
#define EXIT_MATCH_NS 1000000000ull

/* Whether exit record x is the end of the process (pid, starttime): same pid, and a start
 * that agrees with /proc's starttime (clock ticks since boot). */
bool exit_matches(const struct vm_task_exit *x, int32_t pid, uint64_t starttime,
                  uint32_t clk_tck);

/* Add what the kernel said at exit to the ring entry e. */
void exit_enrich(struct vm_exited *e, const struct vm_task_exit *x);

/* A ring entry for a process no scan saw: pid, start (starttime in clock ticks derived from
 * the lifetime, start_time_ms from boot_time_ms), the exit's peaks as vm_hwm/vm_peak,
 * exited_by now_ms. comm and unit are left 0 for the caller to intern. */
struct vm_exited exit_unseen(const struct vm_task_exit *x, uint32_t clk_tck,
                             uint64_t boot_time_ms, uint64_t now_ms);
