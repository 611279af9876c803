/* render_node.c: the /api/v1/node document (API.md "/api/v1/node"). */
#include <errno.h>

#include "api/json.h"
#include "api/render.h"
#include "api/utf8.h"

static json_t *render_caps(const struct vm_snapshot *s) {
    json_t *o = json_object();
    for (int c = 0; c < _VM_CAP_MAX && o; c++)
        if (json_object_set_new(o, vm_cap_name(c), json_boolean(s->node.caps & (1u << c))) < 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

static json_t *render_snapshot_stats(const struct vm_snapshot *s) {
    uint64_t vmas = 0;
    const struct vm_process *procs = vm_snapshot_procs(s);
    for (uint32_t i = 0; i < s->nprocs; i++)
        if (procs[i].flags & VM_PROC_MAPS)
            vmas += procs[i].vma_count;
    return json_pack("{s:o, s:o, s:o, s:I, s:I, s:o, s:I, s:o, s:o}",
                     "seq", json_u64(s->seq),
                     "collected_at", json_time_ms(s->collected_at_ms),
                     "duration_ms", json_real((double)s->duration_ns / 1e6),
                     "processes", (json_int_t)(s->nprocs - s->nkthreads),
                     "kthreads", (json_int_t)s->nkthreads,
                     "vmas", json_u64(vmas),
                     "errors", (json_int_t)s->nerrors,
                     "cpu_ms", json_real((double)s->cpu_ns / 1e6),
                     "bytes", json_u64(s->size));
}

static json_t *render_collector(const struct vm_snapshot *s, const struct node_opts *o) {
    json_t *pids = json_array();
    const int32_t *deep = vm_snapshot_deep_pids(s);
    for (uint32_t i = 0; i < s->ndeep && pids; i++)
        if (json_array_append_new(pids, json_integer(deep[i])) < 0) {
            json_decref(pids);
            pids = NULL;
        }
    /* taskstats: process exits heard from the kernel; null when not listening. */
    json_t *ts = (s->node.caps & (1u << VM_CAP_TASKSTATS))
                     ? json_pack("{s:o, s:o, s:o}", "exits", json_u64(s->taskstats_exits_total),
                                 "unseen", json_u64(s->taskstats_unseen_total), "lost",
                                 json_u64(s->taskstats_lost_total))
                     : json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:s, s:o}",
                     "interval_ms", (json_int_t)o->interval_ms,
                     "deep_walk_budget", json_real(o->deep_walk_budget_bp / 100.0),
                     "deep_walk_cpu_ms", json_real((double)s->deep_cpu_ns / 1e6),
                     "last_deep_walk_pids", pids,
                     "residency_source",
                     s->node.walk_source == VM_RES_NONE ? "smaps"
                                                        : vm_res_source_name(s->node.walk_source),
                     "taskstats", ts);
}

static json_t *int_or_null(int64_t v) {
    return v < 0 ? json_null() : json_integer(v);
}

json_t *render_node(const struct vm_snapshot *s, const struct node_opts *o) {
    const struct vm_node *n = &s->node;
    const char *thp = vm_snapshot_str(s, n->thp_enabled);
    return json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
                     "snapshot", render_snapshot_stats(s),
                     "hostname", json_kernel_string(vm_snapshot_str(s, n->hostname)),
                     "boot_id", json_kernel_string(vm_snapshot_str(s, n->boot_id)),
                     "kernel", json_kernel_string(vm_snapshot_str(s, n->kernel)),
                     "page_size", (json_int_t)n->page_size,
                     "address_bits", (json_int_t)n->address_bits,
                     "legacy_va_layout", int_or_null(n->legacy_va_layout),
                     "randomize_va_space", int_or_null(n->randomize_va_space),
                     "thp_enabled", thp ? json_kernel_string(thp) : json_null(),
                     "max_map_count", int_or_null(n->max_map_count),
                     "boot_time", n->btime ? json_time_ms(n->btime * 1000) : json_null(),
                     "capabilities", render_caps(s),
                     "collector", render_collector(s, o),
                     "version", o->version ? o->version : "");
}
