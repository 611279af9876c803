/* fleet_view.h: the merged view of a fleet, and the documents rendered from it.
 *
 * After every fetch round the fleet thread merges what the peers sent into a new view: every
 * peer's state, its validated documents (shared by reference, not copied), and what only a
 * merge can know: high-water groups summed across nodes, with the fleet-wide sum's own peak
 * carried from view to view, and hugepage totals. A view is immutable once built and reference
 * counted; the HTTP threads render fleet documents from the one last published, so a fleet
 * document never waits for a peer. A peer that is down contributes nothing but its state: the
 * documents are partial, and say so in their "nodes" list.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api/fleet_client.h"
#include "api/fleet_doc.h"
#include "api/fleet_url.h"
#include "api/render.h"

struct fleet_view_peer {
    struct fleet_url url;
    bool up;
    bool fetched;             /* a round has asked it (else it is down, "not fetched yet") */
    char *error;              /* NULL when up */
    uint64_t last_success_ms; /* Unix ms of its last complete answer; 0: never */
    uint64_t latency_us;      /* of the last round */
    uint64_t bytes;           /* body bytes of the last round */
    uint32_t not_modified;    /* documents of the last round answered 304 */
    uint64_t snapshot_age_ms; /* its snapshot's age when it answered (its clock against ours) */
    struct fleet_doc *docs[_FLEET_DOC_MAX]; /* references; set when up */
};

/* One node's part of a merged group. */
struct fleet_share {
    uint32_t peer; /* index into the view's peers */
    uint32_t processes;
    uint64_t rss, observed_rss_peak;
};

/* A high-water group merged across nodes. */
struct fleet_group_merged {
    uint32_t key;               /* view string; 0: null */
    uint64_t processes, exited; /* sums over the nodes */
    uint64_t rss, vm_hwm_sum;   /* sums */
    uint64_t vm_hwm_max;        /* the largest VmHWM, on vm_hwm_max_peer, pid ... */
    int32_t vm_hwm_max_peer;    /* -1: none */
    int32_t vm_hwm_max_pid;     /* 0: none */
    uint64_t vm_peak_max, exited_vm_hwm_max;
    uint64_t observed_rss_peak; /* the largest fleet-wide rss sum seen in one merge */
    uint64_t observed_rss_peak_at_ms;
    uint32_t first_share, nshares; /* shares[by][first_share ...] */
};

/* Sums of the global hugetlb pools (numa_node null) of one page size over the nodes. */
struct fleet_pool_total {
    uint64_t size_bytes;
    uint64_t v[4];    /* total, free, reserved, surplus */
    uint32_t present; /* bit per v[]: at least one node had it */
};

struct fleet_view {
    int refs;                   /* atomic */
    uint64_t seq;               /* 1, 2, ... per merge of this daemon */
    uint64_t merged_at_ms;      /* Unix ms: start of the round behind it */
    uint64_t round_ns;          /* wall time of that round */
    uint64_t merge_ns;          /* wall time of the merge */
    uint64_t truncations_total; /* merged groups dropped past VM_FLEET_GROUPS_MAX, cumulative */
    size_t npeers;
    struct fleet_view_peer *peers;
    struct fleet_group_merged *groups[_VM_GROUP_MAX]; /* sorted by key, null first */
    uint32_t ngroups[_VM_GROUP_MAX];
    struct fleet_share *shares[_VM_GROUP_MAX];
    struct fleet_pool_total *pools; /* by size */
    uint32_t npools;
    uint64_t thp[_VM_THP_MAX];
    uint32_t thp_present;
    char *strings; /* offset 0 is "" and means null */
    size_t strings_len, strings_cap;
};

static inline const char *fleet_view_str(const struct fleet_view *v, uint32_t off) {
    return off ? v->strings + off : NULL;
}

/* The view before the first round: every peer down with "not fetched yet". 0 or -ENOMEM. */
int fleet_view_pending(const struct fleet_url *peers, size_t n, uint64_t now_ms,
                       struct fleet_view **ret);

/* Merge a round into a new view (seq one past prev's), carrying group peaks and each peer's
 * last success (by URL) from prev (may be NULL). Returns 0 or -ENOMEM. */
int fleet_merge(const struct fleet_view *prev, const struct fleet_round *round,
                struct fleet_view **ret);

/* Reference counting (thread-safe). unref accepts NULL and returns NULL. */
struct fleet_view *fleet_view_ref(struct fleet_view *v);
struct fleet_view *fleet_view_unref(struct fleet_view *v);
static inline void fleet_view_unrefp(struct fleet_view **v) {
    (void)fleet_view_unref(*v);
}

/* --- documents (render_fleet.c) ------------------------------------------------------------ */

/* /api/v1/fleet/nodes: {"snapshot", "nodes": [{"url", "node", "up", "error", "last_success",
 * "latency_ms", "snapshot_age_ms", "snapshot", "hostname", "kernel", "version",
 * "processes_total", "not_modified", "bytes"}...]}. NULL on OOM. */
json_t *render_fleet_nodes(const struct fleet_view *v);
/* /api/v1/fleet/processes: the processes of every node that is up, filtered, sorted and cut as
 * /api/v1/processes does (q; NULL: defaults), node (exact, NULL: any) filtering by node, each
 * summary with "node"; ties go by pid, then node. 0 and a malloc'd body, or -ENOMEM. */
int render_fleet_processes(const struct fleet_view *v, const struct proc_query *q, const char *node,
                           const struct render_opts *o, char **ret_body, size_t *ret_len);
/* /api/v1/fleet/hiwater?group_by=by: {"snapshot", "nodes", "group_by", "groups": [{"key",
 * "processes", "rss", "vm_hwm_sum", "vm_hwm_max", "vm_hwm_max_node", "vm_hwm_max_pid",
 * "vm_peak_max", "exited", "exited_vm_hwm_max", "observed_rss_peak", "observed_rss_peak_at",
 * "per_node": [{"node", "processes", "rss", "observed_rss_peak"}...]}...]}, largest fleet-wide
 * peak first, streamed. 0 and a malloc'd body, or -ENOMEM. */
int render_fleet_hiwater(const struct fleet_view *v, enum vm_group_by by,
                         const struct render_opts *o, char **ret_body, size_t *ret_len);
/* /api/v1/fleet/hugepages. NULL on OOM. */
json_t *render_fleet_hugepages(const struct fleet_view *v);
/* /api/v1/fleet/targets: the http_sd_configs array, every peer up or not. NULL on OOM. */
json_t *render_fleet_targets(const struct fleet_view *v);
/* The aggregator's own families for /metrics (vmatlas_peer_up{node} and the like), written to
 * f in the text format (OpenMetrics when om). */
void render_fleet_metrics(FILE *f, const struct fleet_view *v, bool om);
