/* hiwater.c: groups (comm, unit, cgroup, user, the whole host) with the peaks they reach
 * together, and the processes that exited, kept across snapshots.
 *
 * The kernel keeps each process's own peak (VmHWM) but no group's: ten workers peaking at
 * different times sum to less than the sum of their peaks. The observed group peak is the
 * largest sum of the members' VmRSS seen in one snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/cgpeak.h"
#include "collector/exitmatch.h"
#include "collector/hiwater.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

/* (by, key) -> index into the builder's group array; keys are interned string offsets, so
 * equal strings have equal keys. Open addressing, power-of-two size. */
struct group_index {
    uint64_t *slots; /* (by + 1) << 32 | key, 0 = empty */
    uint32_t *where;
    size_t n;
};

static int index_init(struct group_index *ix, size_t want) {
    size_t n = 64;
    while (n < want * 2)
        n *= 2;
    ix->slots = calloc(n, sizeof(*ix->slots));
    ix->where = calloc(n, sizeof(*ix->where));
    ix->n = n;
    return ix->slots && ix->where ? 0 : -ENOMEM;
}

static void index_free(struct group_index *ix) {
    free(ix->slots);
    free(ix->where);
}

static uint64_t slot_key(int by, uint32_t key) {
    return ((uint64_t)(by + 1) << 32) | key;
}

static int index_grow(struct group_index *ix) {
    struct group_index bigger;
    if (index_init(&bigger, ix->n) < 0) {
        index_free(&bigger);
        return -ENOMEM;
    }
    for (size_t i = 0; i < ix->n; i++) {
        if (!ix->slots[i])
            continue;
        size_t k = (ix->slots[i] * 0x9e3779b97f4a7c15ull) >> 7 & (bigger.n - 1);
        while (bigger.slots[k])
            k = (k + 1) & (bigger.n - 1);
        bigger.slots[k] = ix->slots[i];
        bigger.where[k] = ix->where[i];
    }
    index_free(ix);
    *ix = bigger;
    return 0;
}

/* The group (by, key) of the builder, added (empty) when missing. The pointer is valid until
 * the next group is added. */
static int group_get(struct snap_builder *b, struct group_index *ix, int by, uint32_t key,
                     struct vm_group **ret) {
    uint64_t sk = slot_key(by, key);
    size_t n, k = (sk * 0x9e3779b97f4a7c15ull) >> 7 & (ix->n - 1);
    for (; ix->slots[k]; k = (k + 1) & (ix->n - 1))
        if (ix->slots[k] == sk) {
            *ret = &snap_builder_groups(b, &n)[ix->where[k]];
            return 0;
        }
    (void)snap_builder_groups(b, &n);
    struct vm_group g = {.key = key, .by = (uint8_t)by};
    int r = snap_builder_add_group(b, &g);
    if (r < 0)
        return r;
    ix->slots[k] = sk;
    ix->where[k] = (uint32_t)n;
    if ((n + 1) * 2 > ix->n && (r = index_grow(ix)) < 0)
        return r;
    *ret = &snap_builder_groups(b, &n)[n - 1];
    return 0;
}

/* The group keys of a process, interned in the builder. For "user" an unnamed uid is its
 * number; a process without a unit is in the unit group null. */
static int keys_of(struct snap_builder *b, uint32_t comm, uint32_t unit, uint32_t cgroup,
                   uint32_t user, bool has_uid, uint32_t uid, uint32_t keys[_VM_GROUP_MAX]) {
    keys[VM_GROUP_COMM] = comm;
    keys[VM_GROUP_UNIT] = unit;
    keys[VM_GROUP_CGROUP] = cgroup;
    keys[VM_GROUP_USER] = user;
    keys[VM_GROUP_NONE] = 0;
    if (!user && has_uid) {
        char num[16];
        int n = snprintf(num, sizeof(num), "%u", uid);
        return snap_builder_intern(b, num, (size_t)n, &keys[VM_GROUP_USER]);
    }
    return 0;
}

/* A string of prev, interned into the builder. */
static int reintern(struct snap_builder *b, const struct vm_snapshot *prev, uint32_t off,
                    uint32_t *ret) {
    const char *str = vm_snapshot_str(prev, off);
    return snap_builder_intern(b, str ? str : "", str ? strlen(str) : 0, ret);
}

struct ident {
    int32_t pid;
    uint64_t starttime;
};

static int cmp_ident(const void *a, const void *b) {
    const struct ident *x = a, *y = b;
    if (x->pid != y->pid)
        return (x->pid > y->pid) - (x->pid < y->pid);
    return (x->starttime > y->starttime) - (x->starttime < y->starttime);
}

static uint64_t mem_or_0(const struct vm_process *p, enum vm_mem_field f) {
    return vm_process_has_memory(p, f) ? p->memory[f] : 0;
}

/* Groups of the processes now in the builder. */
static int add_members(struct snap_builder *b, struct group_index *ix) {
    size_t nprocs = snap_builder_nprocs(b);
    for (size_t i = 0; i < nprocs; i++) {
        const struct vm_process p = *snap_builder_process(b, i);
        if (p.flags & VM_PROC_KTHREAD)
            continue;
        uint32_t keys[_VM_GROUP_MAX];
        int r = keys_of(b, p.comm, p.unit, p.cgroup, p.user, p.flags & VM_PROC_UID, p.uid, keys);
        if (r < 0)
            return r;
        for (int by = 0; by < _VM_GROUP_MAX; by++) {
            struct vm_group *g;
            if ((r = group_get(b, ix, by, keys[by], &g)) < 0)
                return r;
            uint64_t hwm = mem_or_0(&p, VM_MEM_VM_HWM), peak = mem_or_0(&p, VM_MEM_VM_PEAK);
            g->processes++;
            g->rss += mem_or_0(&p, VM_MEM_VM_RSS);
            g->vm_hwm_sum += hwm;
            /* Ties go to the lowest pid, whatever order /proc listed them in; a member
             * without a VmHWM (a zombie, an unreadable status) is never the one. */
            if (vm_process_has_memory(&p, VM_MEM_VM_HWM) &&
                (!g->vm_hwm_max_pid || hwm > g->vm_hwm_max ||
                 (hwm == g->vm_hwm_max && p.pid < g->vm_hwm_max_pid))) {
                g->vm_hwm_max = hwm;
                g->vm_hwm_max_pid = p.pid;
            }
            if (peak > g->vm_peak_max)
                g->vm_peak_max = peak;
        }
    }
    return 0;
}

static bool is_reset(const struct hiwater_opts *o, int by, const char *key) {
    for (size_t i = 0; i < o->nresets; i++) {
        const struct hiwater_reset *r = &o->resets[i];
        if ((r->by < 0 || r->by == by) && (!r->key || strcmp(r->key, key ? key : "") == 0))
            return true;
    }
    return false;
}

/* Peaks and exit counts of prev's groups. */
static int carry_groups(struct snap_builder *b, struct group_index *ix,
                        const struct vm_snapshot *prev, const struct hiwater_opts *o) {
    const struct vm_group *old = vm_snapshot_groups(prev);
    for (uint32_t i = 0; i < prev->ngroups; i++) {
        uint32_t key;
        struct vm_group *g;
        int r = reintern(b, prev, old[i].key, &key);
        if (r < 0 || (r = group_get(b, ix, old[i].by, key, &g)) < 0)
            return r;
        g->exited += old[i].exited;
        if (!g->memory_peak_src) {
            g->memory_peak = old[i].memory_peak; /* the last known, until read again */
            g->memory_peak_src = old[i].memory_peak_src;
        }
        if (is_reset(o, old[i].by, vm_snapshot_str(prev, old[i].key)))
            continue;
        if (old[i].exited_vm_hwm_max > g->exited_vm_hwm_max)
            g->exited_vm_hwm_max = old[i].exited_vm_hwm_max;
        if (old[i].observed_rss_peak_at_ms &&
            (old[i].observed_rss_peak > g->observed_rss_peak || !g->observed_rss_peak_at_ms)) {
            g->observed_rss_peak = old[i].observed_rss_peak;
            g->observed_rss_peak_at_ms = old[i].observed_rss_peak_at_ms;
        }
    }
    return 0;
}

/* Count an exit in the groups of keys. */
static int count_exit(struct snap_builder *b, struct group_index *ix, const uint32_t *keys,
                      const bool *ways, uint64_t vm_hwm) {
    for (int by = 0; by < _VM_GROUP_MAX; by++) {
        struct vm_group *g;
        int r;
        if (!ways[by])
            continue;
        if ((r = group_get(b, ix, by, keys[by], &g)) < 0)
            return r;
        g->exited++;
        if (vm_hwm > g->exited_vm_hwm_max)
            g->exited_vm_hwm_max = vm_hwm;
    }
    return 0;
}

/* The taskstats exit of (pid, starttime) that is not taken yet, or NULL. */
static const struct vm_task_exit *take_exit(struct hiwater_opts *o, int32_t pid,
                                            uint64_t starttime) {
    for (size_t i = 0; i < o->nexits; i++)
        if (!o->used[i] && exit_matches(&o->exits[i], pid, starttime, o->clk_tck)) {
            o->used[i] = true;
            return &o->exits[i];
        }
    return NULL;
}

/* Whether the exit is of a process still listed now (a zombie), or one prev's ring holds. */
static bool exit_known(const struct hiwater_opts *o, const struct vm_task_exit *x,
                       const struct ident *now, size_t nnow, const struct vm_snapshot *prev) {
    struct ident key = {x->tgid, 0};
    size_t lo = 0, hi = nnow;
    while (lo < hi) { /* the first ident with this pid */
        size_t mid = (lo + hi) / 2;
        if (now[mid].pid < key.pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < nnow && now[lo].pid == x->tgid; lo++)
        if (exit_matches(x, now[lo].pid, now[lo].starttime, o->clk_tck))
            return true;
    const struct vm_exited *old = prev ? vm_snapshot_exited(prev) : NULL;
    for (uint32_t i = 0; old && i < prev->nexited; i++)
        if (exit_matches(x, old[i].pid, old[i].starttime, o->clk_tck))
            return true;
    return false;
}

/* Exits of processes no scan saw (started and ended between two scans). */
static int record_unseen(struct snap_builder *b, struct group_index *ix,
                         const struct vm_snapshot *prev, struct hiwater_opts *o,
                         const struct ident *now, size_t nnow) {
    static const bool ways[_VM_GROUP_MAX] = {[VM_GROUP_COMM] = true, [VM_GROUP_USER] = true,
                                             [VM_GROUP_NONE] = true};
    for (size_t i = 0; i < o->nexits; i++) {
        const struct vm_task_exit *x = &o->exits[i];
        if (o->used[i] || !x->group_dead || exit_known(o, x, now, nnow, prev))
            continue;
        o->used[i] = true;
        o->unseen++;
        struct vm_exited e = exit_unseen(x, o->clk_tck, o->boot_time_ms, o->now_ms);
        const char *user = o->user_name ? o->user_name(o->user_userdata, x->uid) : NULL;
        uint32_t u = 0, keys[_VM_GROUP_MAX];
        int r;
        if ((r = snap_builder_intern(b, x->comm, strnlen(x->comm, sizeof(x->comm)), &e.comm)) <
                0 ||
            (user && (r = snap_builder_intern(b, user, strlen(user), &u)) < 0) ||
            (r = keys_of(b, e.comm, 0, 0, u, true, x->uid, keys)) < 0 ||
            (r = count_exit(b, ix, keys, ways, e.vm_hwm)) < 0)
            return r;
        if (snap_builder_nexited(b) < o->exited_max && (r = snap_builder_add_exited(b, &e)) < 0)
            return r;
    }
    return 0;
}

/* Processes of prev that are not in the builder any more, and processes that lived and died
 * between the two scans (taskstats): exit records, and their groups' exit counts. */
static int record_exits(struct snap_builder *b, struct group_index *ix,
                        const struct vm_snapshot *prev, struct hiwater_opts *o) {
    static const bool all_ways[_VM_GROUP_MAX] = {true, true, true, true, true};
    uint64_t now_ms = o->now_ms;
    uint32_t exited_max = o->exited_max;
    size_t nprocs = snap_builder_nprocs(b);
    _cleanup_free_ struct ident *now = malloc_array(nprocs, sizeof(*now));
    if (!now)
        return -ENOMEM;
    for (size_t i = 0; i < nprocs; i++) {
        const struct vm_process *p = snap_builder_process(b, i);
        now[i] = (struct ident){p->pid, p->starttime};
    }
    qsort(now, nprocs, sizeof(*now), cmp_ident);

    const struct vm_process *procs = prev ? vm_snapshot_procs(prev) : NULL;
    for (uint32_t i = 0; prev && i < prev->nprocs; i++) {
        const struct vm_process *p = &procs[i];
        struct ident id = {p->pid, p->starttime};
        if ((p->flags & VM_PROC_KTHREAD) ||
            (o->prev_same_boot && bsearch(&id, now, nprocs, sizeof(id), cmp_ident)))
            continue;
        struct vm_exited e = {
            .pid = p->pid,
            .starttime = p->starttime,
            .start_time_ms = p->start_time_ms,
            .exited_by_ms = now_ms,
            .vm_hwm = p->last_vm_hwm,
            .vm_peak = p->last_vm_peak,
            .observed_rss_max = p->observed_rss_max,
            .observed_rss_max_at_ms = p->observed_rss_max_at_ms,
            .flags = ((p->flags & VM_PROC_LAST_HWM) ? VM_EXITED_HWM : 0) |
                     ((p->flags & VM_PROC_LAST_PEAK) ? VM_EXITED_PEAK : 0),
        };
        const struct vm_task_exit *x = o->prev_same_boot ? take_exit(o, p->pid, p->starttime)
                                                         : NULL;
        if (x)
            exit_enrich(&e, x);
        uint32_t cgroup, user, keys[_VM_GROUP_MAX];
        int r;
        if ((r = reintern(b, prev, p->comm, &e.comm)) < 0 ||
            (r = reintern(b, prev, p->unit, &e.unit)) < 0 ||
            (r = reintern(b, prev, p->cgroup, &cgroup)) < 0 ||
            (r = reintern(b, prev, p->user, &user)) < 0 ||
            (r = keys_of(b, e.comm, e.unit, cgroup, user, p->flags & VM_PROC_UID, p->uid,
                         keys)) < 0 ||
            (r = count_exit(b, ix, keys, all_ways, e.vm_hwm)) < 0)
            return r;
        if (snap_builder_nexited(b) < exited_max && (r = snap_builder_add_exited(b, &e)) < 0)
            return r;
    }
    int r = record_unseen(b, ix, prev, o, now, nprocs);
    if (r < 0 || !prev)
        return r;
    /* The newest exits are these (in pid order); then the older ring, where an exit heard
     * late (after the scan that missed the process) completes its entry. */
    const struct vm_exited *old = vm_snapshot_exited(prev);
    for (uint32_t i = 0; i < prev->nexited && snap_builder_nexited(b) < exited_max; i++) {
        struct vm_exited e = old[i];
        const struct vm_task_exit *x =
            (e.flags & VM_EXITED_TASKSTATS) ? NULL : take_exit(o, e.pid, e.starttime);
        if (x)
            exit_enrich(&e, x);
        if ((r = reintern(b, prev, old[i].comm, &e.comm)) < 0 ||
            (r = reintern(b, prev, old[i].unit, &e.unit)) < 0 ||
            (r = snap_builder_add_exited(b, &e)) < 0)
            return r;
    }
    return 0;
}

struct prune {
    uint64_t cutoff_at[_VM_GROUP_MAX];
    bool active[_VM_GROUP_MAX];
};

static bool keep_group(const struct vm_group *g, void *userdata) {
    const struct prune *pr = userdata;
    return g->processes > 0 || !pr->active[g->by] ||
           g->observed_rss_peak_at_ms > pr->cutoff_at[g->by];
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Bound each way of grouping to VM_GROUPS_PER_BY_MAX groups: memberless groups whose peak is
 * oldest go first. */
static int prune_groups(struct snap_builder *b) {
    size_t n;
    struct vm_group *groups = snap_builder_groups(b, &n);
    size_t count[_VM_GROUP_MAX] = {0};
    for (size_t i = 0; i < n; i++)
        count[groups[i].by]++;
    struct prune pr = {0};
    for (int by = 0; by < _VM_GROUP_MAX; by++) {
        if (count[by] <= VM_GROUPS_PER_BY_MAX)
            continue;
        _cleanup_free_ uint64_t *ats = malloc_array(count[by], sizeof(*ats));
        if (!ats)
            return -ENOMEM;
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (groups[i].by == by && groups[i].processes == 0)
                ats[m++] = groups[i].observed_rss_peak_at_ms;
        size_t excess = count[by] - VM_GROUPS_PER_BY_MAX;
        if (m == 0)
            continue;
        qsort(ats, m, sizeof(*ats), cmp_u64);
        pr.active[by] = true;
        pr.cutoff_at[by] = ats[(excess < m ? excess : m) - 1];
    }
    snap_builder_filter_groups(b, keep_group, &pr);
    return 0;
}

/* The cgroups' own peaks, for the cgroup groups with members (others keep the last value
 * read). A cgroup that is gone, unreadable or keeps no peak has none. */
static int read_memory_peaks(struct snap_builder *b, int sysfd) {
    size_t n;
    (void)snap_builder_groups(b, &n);
    for (size_t i = 0; i < n; i++) {
        struct vm_group *g = &snap_builder_groups(b, &n)[i];
        const char *path = snap_builder_str(b, g->key);
        if (g->by != VM_GROUP_CGROUP || g->processes == 0 || !path)
            continue;
        uint64_t peak;
        uint8_t src;
        if (cgroup_memory_peak(sysfd, path, &peak, &src) == 0) {
            g->memory_peak = peak;
            g->memory_peak_src = src;
        } else {
            g->memory_peak = 0;
            g->memory_peak_src = VM_MEMORY_PEAK_NONE;
        }
    }
    return 0;
}

int hiwater_update(struct snap_builder *b, const struct vm_snapshot *prev,
                   struct hiwater_opts *o) {
    struct group_index ix = {0};
    int r = index_init(&ix, snap_builder_nprocs(b) + (prev ? prev->ngroups : 0));
    if (r == 0)
        r = add_members(b, &ix);
    if (r == 0 && o->sysfd >= 0)
        r = read_memory_peaks(b, o->sysfd);
    if (r == 0 && prev)
        r = carry_groups(b, &ix, prev, o);
    if (r == 0 && (prev || o->nexits > 0))
        r = record_exits(b, &ix, prev, o);
    index_free(&ix);
    if (r < 0)
        return r;
    size_t n;
    struct vm_group *groups = snap_builder_groups(b, &n);
    for (size_t i = 0; i < n; i++) {
        struct vm_group *g = &groups[i];
        if (g->processes > 0 && (g->rss > g->observed_rss_peak || !g->observed_rss_peak_at_ms)) {
            g->observed_rss_peak = g->rss;
            g->observed_rss_peak_at_ms = o->now_ms;
        }
    }
    return prune_groups(b);
}
