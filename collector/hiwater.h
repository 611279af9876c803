/* hiwater.h: group high-water marks and the ring of exited processes, carried from one
 * snapshot to the next. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/builder.h"
#include "collector/taskstats.h"
#include "vmatlas/snapshot.h"

/* Peaks to forget: the groups of way `by` (-1: every way) whose key is `key` (NULL: every
 * group of that way; "" the null key: no unit, the whole host). */
struct hiwater_reset {
    int by;
    const char *key;
};

struct hiwater_opts {
    uint64_t now_ms;       /* the new snapshot's time */
    uint32_t exited_max;   /* entries of the exited ring */
    bool prev_same_boot;   /* false: prev's processes are from an earlier boot, all gone */
    int sysfd;             /* sysfs root for the cgroups' own memory peaks; -1: don't read */
    const struct hiwater_reset *resets; /* peaks not carried from prev this time */
    size_t nresets;
    /* Process exits heard from taskstats and not taken yet. An exit of a process prev had
     * enriches its ring entry; one whose ring entry exists already enriches that; one of a
     * process no scan saw becomes an entry of its own (counted in its comm, user and none
     * groups); one of a process still listed (a zombie not reaped) waits. used[i] tells
     * which were taken. */
    const struct vm_task_exit *exits;
    size_t nexits;
    bool *used;
    uint64_t unseen;       /* out: entries made for processes no scan saw */
    uint32_t clk_tck;
    uint64_t boot_time_ms; /* btime, for the start of unseen processes */
    /* uid -> user name (NULL: none), for the user group of unseen processes. */
    const char *(*user_name)(void *userdata, uint32_t uid);
    void *user_userdata;
};

/* With every process of the new snapshot in the builder: build the groups of each way of
 * grouping (their current sums and maxima), carry the peaks and exit counts of prev's groups
 * (prev may be NULL), and record the processes of prev that are gone (newest first, at most
 * exited_max, older entries of prev's ring after them). Returns 0 or -ENOMEM. */
int hiwater_update(struct snap_builder *b, const struct vm_snapshot *prev,
                   struct hiwater_opts *o);
