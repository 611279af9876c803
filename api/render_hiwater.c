/* render_hiwater.c: /api/v1/hiwater (groups and their peaks) and /api/v1/exited. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/render.h"
#include "api/utf8.h"
#include "vmatlas/macros.h"

struct sorted_group {
    const struct vm_group *g;
    const char *key;
};

/* Largest observed peak first, then largest RSS now, then key. */
static int cmp_group(const void *a, const void *b) {
    const struct sorted_group *x = a, *y = b;
    if (x->g->observed_rss_peak != y->g->observed_rss_peak)
        return x->g->observed_rss_peak > y->g->observed_rss_peak ? -1 : 1;
    if (x->g->rss != y->g->rss)
        return x->g->rss > y->g->rss ? -1 : 1;
    if (!x->key || !y->key)
        return !x->key - !y->key;
    return strcmp(x->key, y->key);
}

static json_t *render_group(const struct vm_group *g, const char *key) {
    /* A comm is always a string (empty when stat could not be read), as in the summaries;
     * other keys are null when there is none (no unit, the whole host). */
    if (!key && g->by == VM_GROUP_COMM)
        key = "";
    json_t *o = json_pack("{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}",
                     "key", key ? json_kernel_string(key) : json_null(),
                     "processes", (json_int_t)g->processes,
                     "rss", json_u64(g->rss),
                     "vm_hwm_sum", json_u64(g->vm_hwm_sum),
                     "vm_hwm_max", json_u64(g->vm_hwm_max),
                     "vm_hwm_max_pid", g->vm_hwm_max_pid ? json_integer(g->vm_hwm_max_pid) : json_null(),
                     "vm_peak_max", json_u64(g->vm_peak_max),
                     "observed_rss_peak", json_u64(g->observed_rss_peak),
                     "observed_rss_peak_at", json_time_ms(g->observed_rss_peak_at_ms),
                     "exited", (json_int_t)g->exited,
                     "exited_vm_hwm_max", json_u64(g->exited_vm_hwm_max));
    if (o && g->by == VM_GROUP_CGROUP) {
        /* The cgroup's own high-water mark, as the kernel keeps it (and which file it is). */
        static const char *const src[_VM_MEMORY_PEAK_MAX] = {
            [VM_MEMORY_PEAK_V2] = "memory.peak",
            [VM_MEMORY_PEAK_V1] = "memory.max_usage_in_bytes",
        };
        const char *from = g->memory_peak_src < _VM_MEMORY_PEAK_MAX ? src[g->memory_peak_src]
                                                                     : NULL;
        if (json_object_set_new(o, "memory_peak", from ? json_u64(g->memory_peak) : json_null()) <
                0 ||
            json_object_set_new(o, "memory_peak_source", from ? json_string(from) : json_null()) <
                0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *render_hiwater(const struct vm_snapshot *s, enum vm_group_by by) {
    const struct vm_group *groups = vm_snapshot_groups(s);
    _cleanup_free_ struct sorted_group *sg = malloc_array(s->ngroups, sizeof(*sg));
    if (!sg)
        return NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < s->ngroups; i++)
        if (groups[i].by == by)
            sg[n++] = (struct sorted_group){&groups[i], vm_snapshot_str(s, groups[i].key)};
    qsort(sg, n, sizeof(*sg), cmp_group);
    json_t *list = json_array();
    for (size_t i = 0; i < n && list; i++)
        if (json_array_append_new(list, render_group(sg[i].g, sg[i].key)) < 0) {
            json_decref(list);
            list = NULL;
        }
    return json_pack("{s:o, s:s, s:o}", "snapshot", render_snapshot_ref(s), "group_by",
                     vm_group_by_name(by), "groups", list);
}

json_t *render_exited(const struct vm_snapshot *s) {
    const struct vm_exited *e = vm_snapshot_exited(s);
    json_t *list = json_array();
    for (uint32_t i = 0; i < s->nexited && list; i++) {
        char id[32];
        const char *comm = vm_snapshot_str(s, e[i].comm), *unit = vm_snapshot_str(s, e[i].unit);
        (void)snprintf(id, sizeof(id), "%d:%llu", e[i].pid, (unsigned long long)e[i].starttime);
        bool ts = e[i].flags & VM_EXITED_TASKSTATS;
        json_t *o = json_pack(
            "{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:o, s:o, s:o, s:o}",
            "pid",
            e[i].pid, "id", id,
            "comm", json_kernel_string(comm ? comm : ""),
            "unit", unit ? json_kernel_string(unit) : json_null(),
            "start_time", json_time_ms(e[i].start_time_ms),
            "exited_by", json_time_ms(e[i].exited_by_ms),
            "vm_hwm", e[i].flags & VM_EXITED_HWM ? json_u64(e[i].vm_hwm) : json_null(),
            "vm_peak", e[i].flags & VM_EXITED_PEAK ? json_u64(e[i].vm_peak) : json_null(),
            "observed_rss_max",
            e[i].observed_rss_max_at_ms ? json_u64(e[i].observed_rss_max) : json_null(),
            "observed_rss_max_at", json_time_ms(e[i].observed_rss_max_at_ms),
            /* "taskstats": the kernel told the exit (exit_* fields); "proc": only the scans */
            "source", ts ? "taskstats" : "proc",
            "seen", !(e[i].flags & VM_EXITED_UNSEEN),
            "exited_at", ts ? json_time_ms(e[i].exit_ms) : json_null(),
            "exit_code", ts ? json_integer(e[i].exit_code) : json_null(),
            /* The mm's peaks at exit (taskstats hiwater_rss/hiwater_vm). */
            "exit_hiwater_rss", ts ? json_u64(e[i].exit_hiwater_rss) : json_null(),
            "exit_hiwater_vm", ts ? json_u64(e[i].exit_hiwater_vm) : json_null());
        if (json_array_append_new(list, o) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return json_pack("{s:o, s:o}", "snapshot", render_snapshot_ref(s), "exited", list);
}
