/* render.h: documents rendered from a snapshot (JSON with jansson, Prometheus text).
 *
 * Renderers read a snapshot and nothing else: no procfs, no clocks except where named, no
 * logging. Bodies are returned as malloc'd buffers owned by the caller.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/snapshot.h"

struct render_opts {
    bool redact_addresses; /* addresses become null; sizes, offsets and gaps stay */
    bool pretty;           /* indent JSON (?pretty=1) */
};

enum proc_sort {
    PROC_SORT_RSS, PROC_SORT_PSS, PROC_SORT_USS, PROC_SORT_SWAP, PROC_SORT_VM_HWM,
    PROC_SORT_VM_PEAK, PROC_SORT_HUGETLB, PROC_SORT_ANON_HUGE, PROC_SORT_VMAS, PROC_SORT_PID,
    PROC_SORT_COMM, _PROC_SORT_MAX, _PROC_SORT_INVALID = -22
};
enum proc_kthreads { PROC_KTHREADS_EXCLUDE, PROC_KTHREADS_INCLUDE, PROC_KTHREADS_ONLY };

/* /api/v1/processes query (API.md). */
struct proc_query {
    enum proc_sort sort;        /* default rss */
    bool desc;                  /* default: true for sizes, false for pid and comm */
    uint32_t limit;             /* 1..10000, default 100 */
    uint64_t offset;            /* default 0 */
    const char *comm, *user, *unit; /* exact match, NULL = any (borrowed) */
    const char *cgroup;         /* prefix match, NULL = any (borrowed) */
    enum proc_kthreads kthreads; /* default exclude */
    bool order_set;             /* "order" was given: a later "sort" keeps its direction */
};
#define PROC_QUERY_LIMIT_MAX 10000u

/* Defaults as API.md gives them. */
void proc_query_init(struct proc_query *q);

/* Set one query parameter from its URL-decoded name and value (values are borrowed and must
 * outlive q; a NULL value is a parameter without '='). Returns 0, or -EINVAL with a message
 * for a 400 in *ret_msg (static string or written into msgbuf of msglen bytes; always valid
 * UTF-8 without quotes, fit for a JSON body). "order" given explicitly overrides the sort
 * default, whatever the order of the parameters; a repeated parameter takes its last value.
 * An empty comm/user/unit/cgroup value switches that filter off. "pretty" (1, 0, true, false
 * or empty) is accepted and ignored: the server reads it. Unknown names are -EINVAL with a
 * message naming them. */
int proc_query_set(struct proc_query *q, const char *name, const char *value, char *msgbuf,
                   size_t msglen, const char **ret_msg);

/* {"seq": N, "collected_at": "RFC 3339 ms"} */
json_t *render_snapshot_ref(const struct vm_snapshot *s);

/* One process summary (every summary field of API.md; memory and rollup carry every field
 * of their table, null where absent). Holds no addresses: o may be NULL. NULL on OOM. */
json_t *render_process_summary(const struct vm_snapshot *s, const struct vm_process *p,
                               const struct render_opts *o);
/* Summary + detail: layout (addresses null when redacted), kinds (per VMA kind: count, size,
 * and rss/pss/swap when every VMA of the kind has smaps figures), hugepages (status, rollup,
 * thp_eligible_size), residency (null until the page walk exists), smaps_collected_at,
 * vmas_truncated. NULL on OOM. */
json_t *render_process_detail(const struct vm_snapshot *s, const struct vm_process *p,
                              const struct render_opts *o);
/* One VMA object (API.md "VMA"); smaps figures, page sizes and thp_eligible null until the
 * per-VMA tier read them; residency null until the page walk exists. NULL on OOM. */
json_t *render_vma(const struct vm_snapshot *s, const struct vm_vma *v,
                   const struct render_opts *o);

/* The /api/v1/processes document {"snapshot", "total", "processes": [summary...]}.
 * Filters: kthreads mode, comm/user/unit exact (bytewise), cgroup a plain string prefix.
 * "total" counts the processes that pass the filters, before offset and limit. Sorting is by
 * the value q->sort names (rss, swap, vm_hwm, vm_peak, hugetlb from status; pss, uss,
 * anon_huge from smaps_rollup; vmas = vma_count; comm bytewise); a process whose value is
 * absent goes last whatever the order, and ties go by pid ascending. NULL q or o mean the
 * defaults. Returns 0 and a malloc'd body (*ret_len bytes, not counting the NUL that
 * follows), or -ENOMEM. */
int render_processes(const struct vm_snapshot *s, const struct proc_query *q,
                     const struct render_opts *o, char **ret_body, size_t *ret_len);

/* The /api/v1/processes/{pid}/vmas document: {"id", "pid", "snapshot", "vmas": [VMA...]} in
 * address order, streamed one VMA at a time. Returns 0 and a malloc'd body, or -ENOMEM. */
int render_vmas_doc(const struct vm_snapshot *s, const struct vm_process *p,
                    const struct render_opts *o, char **ret_body, size_t *ret_len);

/* Dump a JSON value with JSON_SORT_KEYS and compact (or indented with o->pretty) into a
 * malloc'd, NUL-terminated buffer (freed with free(), whatever allocator jansson was given).
 * Steals nothing. A NULL doc (a renderer that ran out of memory) gives -ENOMEM too.
 * Returns 0 or -ENOMEM. */
int render_dump(const json_t *doc, const struct render_opts *o, char **ret_body,
                size_t *ret_len);

/* Residency of one VMA (null until the per-VMA tier read it) and of a process (from
 * smaps_rollup): {"present", "swapped", "thp", "soft_dirty", "exclusive", "resident_ratio",
 * "source"} (+ "collected_at" for a process). */
json_t *render_vma_residency(const struct vm_snapshot *s, const struct vm_vma *v);
json_t *render_process_residency(const struct vm_snapshot *s, const struct vm_process *p);
/* The /api/v1/processes/{pid}/residency document, streamed. 0 or -ENOMEM. */
int render_residency_doc(const struct vm_snapshot *s, const struct vm_process *p,
                         const struct render_opts *o, char **ret_body, size_t *ret_len);

/* The /api/v1/hugepages document, and its parts (also used by the fleet view later). */
json_t *render_hugepages(const struct vm_snapshot *s);
json_t *render_pools(const struct vm_snapshot *s);
json_t *render_thp(const struct vm_snapshot *s);

/* /api/v1/hiwater?group_by=by: {"snapshot", "group_by", "groups": [...]}, largest observed
 * peak first. NULL on OOM. */
json_t *render_hiwater(const struct vm_snapshot *s, enum vm_group_by by);
/* /api/v1/exited: {"snapshot", "exited": [...]}, newest first. NULL on OOM. */
json_t *render_exited(const struct vm_snapshot *s);

struct node_opts {
    uint64_t interval_ms;         /* collector.interval_ms */
    uint32_t deep_walk_budget_bp; /* collector.deep_walk_budget, in basis points */
    const char *version;
};

/* The /api/v1/node document: host facts, capabilities, the snapshot's own figures and the
 * collector's settings. NULL on OOM. */
json_t *render_node(const struct vm_snapshot *s, const struct node_opts *o);

struct fleet_view;
struct metrics_opts {
    uint32_t top_k;       /* per-process series for the top K by RSS; 0 = none */
    const char *version;  /* vmatlas_build_info{version} */
    uint64_t now_ms;      /* for the snapshot age gauge (Unix ms) */
    bool openmetrics;     /* OpenMetrics 1.0 text instead of Prometheus 0.0.4 */
    const struct fleet_view *fleet; /* an aggregator's merged view: its peer families are added */
};

/* Prometheus text exposition 0.0.4 of a snapshot: build info, scan gauges and counters,
 * process/kernel-thread/VMA counts, vm.max_map_count and the process with the most VMAs,
 * comm groups (kernel threads excluded), vmatlas_metrics_top_k and per-process series for the
 * top o->top_k user processes by VmRSS (ties by pid; a series whose value is absent is left
 * out). Label values are made valid UTF-8 ("\xHH") and escaped. The snapshot age is left out
 * when o->now_ms is 0, vmatlas_map_count_limit when max_map_count is unknown. NULL o means
 * top_k 20. Returns 0 and a malloc'd NUL-terminated body, or -ENOMEM. */
int render_metrics(const struct vm_snapshot *s, const struct metrics_opts *o, char **ret_body,
                   size_t *ret_len);
