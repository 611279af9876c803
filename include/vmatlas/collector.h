/* collector.h: the seam between the daemon and the procfs/sysfs collector.
 *
 * A collector owns the opened procfs and sysfs roots, the probed capabilities, caches that
 * live across scans (user names, the per-VMA tier's round-robin position) and reusable scratch
 * buffers. It is not thread-safe: one thread scans. Snapshots it returns are independent of it.
 */
#pragma once

#include <stdint.h>

#include "vmatlas/snapshot.h"

struct vm_collector;

/* Where the per-VMA tier takes residency from (--residency-source). */
enum vm_residency_mode {
    VM_RESIDENCY_AUTO,         /* PAGEMAP_SCAN where the kernel has it, else pagemap */
    VM_RESIDENCY_PAGEMAP_SCAN, /* the PAGEMAP_SCAN ioctl only (falls back to pagemap if absent) */
    VM_RESIDENCY_PAGEMAP,      /* pread() of /proc/PID/pagemap */
    VM_RESIDENCY_SMAPS,        /* no page walk: smaps figures only */
};

struct vm_collector_options {
    const char *procfs_root; /* default "/proc" when NULL */
    const char *sysfs_root;  /* default "/sys" when NULL */
    /* CPU time the per-VMA (smaps) tier may spend in one scan, in ns. 0 turns the tier off;
     * UINT64_MAX visits every process. Processes are visited round-robin, largest RSS first
     * among those never visited. */
    uint64_t deep_budget_ns;
    /* Exited processes remembered (0: VM_EXITED_DEFAULT). */
    uint32_t exited_max;
    enum vm_residency_mode residency;
};

/* Open the roots and probe the kernel. Returns 0 and a new collector in *ret, or -errno
 * (-ENOENT/-ENOTDIR for a bad root). The caller owns *ret. */
int vm_collector_new(const struct vm_collector_options *opts, struct vm_collector **ret);

/* Free a collector. Accepts NULL; returns NULL. */
struct vm_collector *vm_collector_free(struct vm_collector *c);
static inline void vm_collector_freep(struct vm_collector **c) {
    (void)vm_collector_free(*c);
}
#define _cleanup_collector_ _cleanup_(vm_collector_freep)

/* A scan that also visits process pid with the per-VMA tier now (smaps and the page walk),
 * whatever the round-robin says: /residency?refresh=1. Its whole CPU counts against the
 * budget. Returns 0 and the new snapshot in *ret; -ESRCH with the new snapshot in *ret when
 * the process is not there (any more); -EAGAIN without a snapshot when the budget is spent
 * (*ret_retry_ns: the debt left after the next scan, a hint); or another -errno. */
int vm_collector_refresh(struct vm_collector *c, const struct vm_snapshot *prev, int32_t pid,
                         uint64_t *ret_retry_ns, struct vm_snapshot **ret);

struct vm_task_exit;

/* Process exits heard from the kernel (taskstats; thread exits are ignored), for the next
 * scans to match with the processes they saw: an exit fills in the ring entry of its process
 * (exit code, time, the peaks at exit), and one of a process no scan saw gets an entry of its
 * own. lost_total: exits the listener lost so far. Marks the "taskstats" capability. At most
 * 16384 wait (the oldest go, counted lost); one not matched within 10 minutes is dropped.
 * Returns 0 or -ENOMEM. Not thread-safe: the scanning thread calls it. */
int vm_collector_taskstats(struct vm_collector *c, const struct vm_task_exit *exits, size_t n,
                           uint64_t lost_total);

/* From any thread: make the scan in progress (and every later one) stop between two processes
 * and return -ECANCELED, so that a daemon told to stop does not wait for a whole scan. */
void vm_collector_cancel(struct vm_collector *c);

/* Make the next scan forget the observed peaks (observed_rss_peak, exited_vm_hwm_max) of the
 * groups of way `by` (enum vm_group_by; -1: every way) whose key is `key` (NULL: every group
 * of that way; "": the null key). The groups start again from their current sums; exit counts
 * are kept, and kernel counters are never touched. Returns 0, -EINVAL or -ENOMEM. */
int vm_collector_reset_peaks(struct vm_collector *c, int by, const char *key);

/* Change the per-scan CPU budget of the per-VMA tier (see the options). */
void vm_collector_set_deep_budget(struct vm_collector *c, uint64_t deep_budget_ns);

/* Read every process into a new snapshot. prev (may be NULL) is the previous snapshot of this
 * collector: observed peaks, cumulative counters and per-VMA smaps figures of processes the
 * tier does not visit this time are carried over from it. A process that vanishes mid-read is
 * left out; a file that cannot be read is an error entry of its process. Returns 0 and the
 * snapshot (refcount 1, owned by the caller) in *ret, or -errno when the process table itself
 * cannot be listed or memory runs out. */
int vm_collector_scan(struct vm_collector *c, const struct vm_snapshot *prev,
                      struct vm_snapshot **ret);
