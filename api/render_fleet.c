/* render_fleet.c: the fleet documents (/api/v1/fleet/...) and the aggregator's /metrics families,
 * rendered from one merged view (API.md "Fleet documents"). Every document but targets carries
 * "snapshot" (the merge: seq, collected_at) and "nodes" (every peer's node, up, error), so a
 * partial answer says it is partial. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/fleet_view.h"
#include "api/json.h"
#include "api/jstream.h"
#include "api/render.h"
#include "api/utf8.h"

/* Strings of a peer document are valid UTF-8 without NUL (jansson checked them on the way in). */
static json_t *doc_string(const struct fleet_doc *d, uint32_t off) {
    const char *s = fleet_doc_str(d, off);
    return s ? json_string_nocheck(s) : json_null();
}

static json_t *fleet_snapshot_ref(const struct fleet_view *v) {
    json_t *o = json_object();
    int err = 0;
    json_put(o, "seq", json_u64(v->seq), &err);
    json_put(o, "collected_at", json_time_ms(v->merged_at_ms), &err);
    return json_done(o, err);
}

/* "nodes": [{"node", "up", "error"}...]: the state of every peer behind the answer. */
static json_t *nodes_summary(const struct fleet_view *v) {
    json_t *a = json_array();
    int err = 0;
    for (size_t i = 0; i < v->npeers; i++) {
        const struct fleet_view_peer *p = &v->peers[i];
        json_t *o = json_object();
        int oerr = 0;
        json_put(o, "node", json_string(p->url.node), &oerr);
        json_put(o, "up", json_boolean(p->up), &oerr);
        json_put(o, "error", json_kernel_string(p->error), &oerr);
        json_push(a, json_done(o, oerr), &err);
    }
    return json_done(a, err);
}

/* --- /api/v1/fleet/nodes ------------------------------------------------------------------ */

json_t *render_fleet_nodes(const struct fleet_view *v) {
    json_t *a = json_array();
    int err = 0;
    for (size_t i = 0; i < v->npeers; i++) {
        const struct fleet_view_peer *p = &v->peers[i];
        const struct fleet_doc *node = p->up ? p->docs[FLEET_DOC_NODE] : NULL;
        const struct fleet_doc *procs = p->up ? p->docs[FLEET_DOC_PROCESSES] : NULL;
        json_t *o = json_object();
        int oerr = 0;
        json_put(o, "url", json_string(p->url.url), &oerr);
        json_put(o, "node", json_string(p->url.node), &oerr);
        json_put(o, "up", json_boolean(p->up), &oerr);
        json_put(o, "error", json_kernel_string(p->error), &oerr);
        json_put(o, "last_success", json_time_ms(p->last_success_ms), &oerr);
        json_put(o, "latency_ms", p->fetched ? json_real((double)p->latency_us / 1000.0) : json_null(),
            &oerr);
        json_put(o, "snapshot_age_ms", node ? json_u64(p->snapshot_age_ms) : json_null(), &oerr);
        json_t *snap = NULL;
        if (node) {
            snap = json_object();
            int serr = 0;
            json_put(snap, "seq", json_u64(node->snapshot_seq), &serr);
            json_put(snap, "collected_at", json_time_ms(node->snapshot_at_ms), &serr);
            snap = json_done(snap, serr);
        }
        json_put(o, "snapshot", node ? snap : json_null(), &oerr);
        json_put(o, "hostname", node ? doc_string(node, node->hostname) : json_null(), &oerr);
        json_put(o, "kernel", node ? doc_string(node, node->kernel) : json_null(), &oerr);
        json_put(o, "version", node ? doc_string(node, node->version) : json_null(), &oerr);
        json_put(o, "max_map_count",
            node && node->max_map_count >= 0 ? json_integer(node->max_map_count) : json_null(),
            &oerr);
        json_put(o, "processes_total", procs ? json_u64(procs->total) : json_null(), &oerr);
        json_put(o, "not_modified", p->fetched ? json_integer(p->not_modified) : json_null(), &oerr);
        json_put(o, "bytes", p->fetched ? json_u64(p->bytes) : json_null(), &oerr);
        json_push(a, json_done(o, oerr), &err);
    }
    json_t *doc = json_object();
    json_put(doc, "snapshot", fleet_snapshot_ref(v), &err);
    json_put(doc, "nodes", json_done(a, err < 0 ? err : 0), &err);
    return json_done(doc, err);
}

/* --- /api/v1/fleet/processes -------------------------------------------------------------- */

static json_t *proc_memory(const struct fleet_proc *p) {
    json_t *o = json_object();
    int err = 0;
    for (int f = 0; f < _VM_MEM_MAX; f++)
        json_put(o, vm_memory_fields[f].json,
            p->memory_present & (1u << f) ? json_u64(p->memory[f]) : json_null(), &err);
    return json_done(o, err);
}

static json_t *proc_rollup(const struct fleet_proc *p) {
    if (!p->has_rollup)
        return json_null();
    json_t *o = json_object();
    int err = 0;
    for (int f = 0; f <= _VM_ROLLUP_MAX; f++)
        json_put(o, f < _VM_ROLLUP_MAX ? vm_rollup_fields[f].json : "uss",
            p->rollup_present & (1u << f) ? json_u64(p->rollup[f]) : json_null(), &err);
    return json_done(o, err);
}

static json_t *mem_or_null(const struct fleet_proc *p, enum vm_mem_field f) {
    return p->memory_present & (1u << f) ? json_u64(p->memory[f]) : json_null();
}

/* A process summary as the peer rendered it (the members it validated), plus "node". */
static json_t *proc_summary(const struct fleet_doc *d, const struct fleet_proc *p,
                            const char *node) {
    json_t *o = json_object();
    int err = 0;
    json_put(o, "node", json_string(node), &err);
    json_put(o, "pid", json_integer(p->pid), &err);
    json_put(o, "ppid", json_integer(p->ppid), &err);
    json_put(o, "id", doc_string(d, p->id), &err);
    json_put(o, "start_time", json_time_ms(p->start_time_ms), &err);
    json_put(o, "comm", doc_string(d, p->comm), &err);
    json_put(o, "cmdline", doc_string(d, p->cmdline), &err);
    json_put(o, "uid", p->uid >= 0 ? json_integer(p->uid) : json_null(), &err);
    json_put(o, "user", doc_string(d, p->user), &err);
    json_put(o, "state", doc_string(d, p->state), &err);
    json_put(o, "threads", json_integer(p->threads), &err);
    json_put(o, "cgroup", doc_string(d, p->cgroup), &err);
    json_put(o, "unit", doc_string(d, p->unit), &err);
    json_put(o, "kthread", json_boolean(p->kthread), &err);
    json_put(o, "vma_count", p->vma_count >= 0 ? json_integer(p->vma_count) : json_null(), &err);
    json_put(o, "memory", proc_memory(p), &err);
    json_put(o, "rollup", proc_rollup(p), &err);
    json_t *hw = json_object();
    int herr = 0;
    json_put(hw, "vm_hwm", mem_or_null(p, VM_MEM_VM_HWM), &herr);
    json_put(hw, "vm_peak", mem_or_null(p, VM_MEM_VM_PEAK), &herr);
    json_put(hw, "observed_rss_max", p->has_observed ? json_u64(p->observed_rss_max) : json_null(),
        &herr);
    json_put(hw, "observed_rss_max_at", json_time_ms(p->observed_rss_max_at_ms), &herr);
    json_put(o, "hiwater", json_done(hw, herr), &err);
    json_t *errs = json_array();
    int eerr = 0;
    for (unsigned i = 0; i < p->nerrors; i++) {
        json_t *e = json_object();
        int xerr = 0;
        json_put(e, "source", doc_string(d, p->errors[i].source), &xerr);
        json_put(e, "errno", doc_string(d, p->errors[i].errnum), &xerr);
        json_push(errs, json_done(e, xerr), &eerr);
    }
    json_put(o, "errors", json_done(errs, eerr), &err);
    return json_done(o, err);
}

struct fentry {
    const struct fleet_doc *doc;
    const struct fleet_proc *p;
    const char *node;
    uint64_t key;
    const char *str;
    bool present;
};

static bool fleet_sort_key(const struct fleet_doc *d, const struct fleet_proc *p, enum proc_sort by,
                           uint64_t *ret, const char **ret_str) {
    int mem = -1, rollup = -1;
    switch (by) {
    case PROC_SORT_RSS:
        mem = VM_MEM_VM_RSS;
        break;
    case PROC_SORT_SWAP:
        mem = VM_MEM_VM_SWAP;
        break;
    case PROC_SORT_VM_HWM:
        mem = VM_MEM_VM_HWM;
        break;
    case PROC_SORT_VM_PEAK:
        mem = VM_MEM_VM_PEAK;
        break;
    case PROC_SORT_HUGETLB:
        mem = VM_MEM_HUGETLB;
        break;
    case PROC_SORT_PSS:
        rollup = VM_ROLLUP_PSS;
        break;
    case PROC_SORT_ANON_HUGE:
        rollup = VM_ROLLUP_ANON_HUGE;
        break;
    case PROC_SORT_USS:
        rollup = FLEET_ROLLUP_USS;
        break;
    case PROC_SORT_VMAS:
        if (p->vma_count < 0)
            return false;
        *ret = (uint64_t)p->vma_count;
        return true;
    case PROC_SORT_PID:
        *ret = (uint64_t)p->pid;
        return true;
    case PROC_SORT_COMM:
        *ret_str = fleet_doc_str(d, p->comm);
        if (!*ret_str)
            *ret_str = "";
        return true;
    default:
        return false;
    }
    if (mem >= 0) {
        if (!(p->memory_present & (1u << mem)))
            return false;
        *ret = p->memory[mem];
        return true;
    }
    if (!p->has_rollup || !(p->rollup_present & (1u << rollup)))
        return false;
    *ret = p->rollup[rollup];
    return true;
}

struct fsort_ctx {
    bool by_str, desc;
};

static int fentry_cmp(const void *x, const void *y, void *ctx_) {
    const struct fentry *a = x, *b = y;
    const struct fsort_ctx *ctx = ctx_;
    if (a->present != b->present)
        return a->present ? -1 : 1; /* absent last, whatever the order */
    if (a->present) {
        int c = ctx->by_str ? strcmp(a->str, b->str) : (a->key > b->key) - (a->key < b->key);
        if (c)
            return ctx->desc ? -c : c;
    }
    if (a->p->pid != b->p->pid)
        return a->p->pid < b->p->pid ? -1 : 1;
    return strcmp(a->node, b->node);
}

static bool str_eq(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

static bool fleet_match(const struct fleet_doc *d, const struct fleet_proc *p,
                        const struct proc_query *q) {
    if (q->kthreads == PROC_KTHREADS_EXCLUDE && p->kthread)
        return false;
    if (q->kthreads == PROC_KTHREADS_ONLY && !p->kthread)
        return false;
    if (q->comm && !str_eq(fleet_doc_str(d, p->comm), q->comm))
        return false;
    if (q->user && !str_eq(fleet_doc_str(d, p->user), q->user))
        return false;
    if (q->unit && !str_eq(fleet_doc_str(d, p->unit), q->unit))
        return false;
    if (q->cgroup) {
        const char *cg = fleet_doc_str(d, p->cgroup);
        if (!cg || strncmp(cg, q->cgroup, strlen(q->cgroup)) != 0)
            return false;
    }
    return true;
}

int render_fleet_processes(const struct fleet_view *v, const struct proc_query *q, const char *node,
                           const struct render_opts *o, char **ret_body, size_t *ret_len) {
    struct proc_query defaults;
    static const struct render_opts default_opts = {0};
    if (!q) {
        proc_query_init(&defaults);
        q = &defaults;
    }
    if (!o)
        o = &default_opts;
    size_t n = 0;
    for (size_t i = 0; i < v->npeers; i++)
        if (v->peers[i].up)
            n += v->peers[i].docs[FLEET_DOC_PROCESSES]->nprocs;
    _cleanup_free_ struct fentry *e = malloc_array(n, sizeof(*e));
    if (!e)
        return -ENOMEM;
    n = 0;
    for (size_t i = 0; i < v->npeers; i++) {
        const struct fleet_view_peer *peer = &v->peers[i];
        if (!peer->up || (node && strcmp(node, peer->url.node) != 0))
            continue;
        const struct fleet_doc *d = peer->docs[FLEET_DOC_PROCESSES];
        for (uint32_t k = 0; k < d->nprocs; k++) {
            const struct fleet_proc *p = &d->procs[k];
            if (!fleet_match(d, p, q))
                continue;
            e[n] = (struct fentry){.doc = d, .p = p, .node = peer->url.node};
            e[n].present = fleet_sort_key(d, p, q->sort, &e[n].key, &e[n].str);
            n++;
        }
    }
    struct fsort_ctx ctx = {.by_str = q->sort == PROC_SORT_COMM, .desc = q->desc};
    qsort_r(e, n, sizeof(*e), fentry_cmp, &ctx);

    struct jstream js;
    jstream_init(&js, o->pretty);
    jstream_begin_object(&js);
    jstream_member(&js, "nodes", nodes_summary(v));
    uint64_t first = q->offset < n ? q->offset : n;
    uint64_t last = first + (q->limit < n - first ? q->limit : n - first);
    jstream_begin_array(&js, "processes");
    for (uint64_t i = first; i < last && js.err == 0; i++)
        jstream_element(&js, proc_summary(e[i].doc, e[i].p, e[i].node));
    jstream_end_array(&js);
    jstream_member(&js, "snapshot", fleet_snapshot_ref(v));
    jstream_member(&js, "total", json_u64(n));
    jstream_end_object(&js);
    return jstream_finish(&js, ret_body, ret_len);
}

/* --- /api/v1/fleet/hiwater ---------------------------------------------------------------- */

struct gsort {
    const struct fleet_view *v;
};

static int cmp_peak(const void *x, const void *y, void *ctx) {
    const struct fleet_view *v = ((const struct gsort *)ctx)->v;
    const struct fleet_group_merged *a = *(const struct fleet_group_merged *const *)x,
                                    *b = *(const struct fleet_group_merged *const *)y;
    if (a->observed_rss_peak != b->observed_rss_peak)
        return a->observed_rss_peak > b->observed_rss_peak ? -1 : 1;
    if (a->rss != b->rss)
        return a->rss > b->rss ? -1 : 1;
    const char *ka = fleet_view_str(v, a->key), *kb = fleet_view_str(v, b->key);
    if (!ka || !kb)
        return ka ? 1 : kb ? -1 : 0;
    return strcmp(ka, kb);
}

static json_t *merged_group(const struct fleet_view *v, enum vm_group_by by,
                            const struct fleet_group_merged *g) {
    json_t *o = json_object();
    int err = 0;
    const char *key = fleet_view_str(v, g->key);
    json_put(o, "key", key ? json_string_nocheck(key) : json_null(), &err);
    json_put(o, "processes", json_u64(g->processes), &err);
    json_put(o, "rss", json_u64(g->rss), &err);
    json_put(o, "vm_hwm_sum", json_u64(g->vm_hwm_sum), &err);
    json_put(o, "vm_hwm_max", json_u64(g->vm_hwm_max), &err);
    json_put(o, "vm_hwm_max_node",
        g->vm_hwm_max_peer >= 0 ? json_string(v->peers[g->vm_hwm_max_peer].url.node) : json_null(),
        &err);
    json_put(o, "vm_hwm_max_pid", g->vm_hwm_max_pid > 0 ? json_integer(g->vm_hwm_max_pid) : json_null(),
        &err);
    json_put(o, "vm_peak_max", json_u64(g->vm_peak_max), &err);
    json_put(o, "exited", json_u64(g->exited), &err);
    json_put(o, "exited_vm_hwm_max", json_u64(g->exited_vm_hwm_max), &err);
    json_put(o, "observed_rss_peak", json_u64(g->observed_rss_peak), &err);
    json_put(o, "observed_rss_peak_at", json_time_ms(g->observed_rss_peak_at_ms), &err);
    json_t *per = json_array();
    int perr = 0;
    for (uint32_t i = 0; i < g->nshares; i++) {
        const struct fleet_share *s = &v->shares[by][g->first_share + i];
        json_t *e = json_object();
        int eerr = 0;
        json_put(e, "node", json_string(v->peers[s->peer].url.node), &eerr);
        json_put(e, "processes", json_integer(s->processes), &eerr);
        json_put(e, "rss", json_u64(s->rss), &eerr);
        json_put(e, "observed_rss_peak", json_u64(s->observed_rss_peak), &eerr);
        json_push(per, json_done(e, eerr), &perr);
    }
    json_put(o, "per_node", json_done(per, perr), &err);
    return json_done(o, err);
}

int render_fleet_hiwater(const struct fleet_view *v, enum vm_group_by by,
                         const struct render_opts *o, char **ret_body, size_t *ret_len) {
    uint32_t n = v->ngroups[by];
    _cleanup_free_ const struct fleet_group_merged **order = malloc_array(n, sizeof(*order));
    if (!order)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        order[i] = &v->groups[by][i];
    struct gsort ctx = {v};
    qsort_r(order, n, sizeof(*order), cmp_peak, &ctx);
    /* Streamed one group at a time: with every node's share, a large fleet's document is tens
     * of MB, and never one jansson tree. */
    struct jstream js;
    jstream_init(&js, o && o->pretty);
    jstream_begin_object(&js);
    jstream_member(&js, "group_by", json_string(vm_group_by_name(by)));
    jstream_begin_array(&js, "groups");
    for (uint32_t i = 0; i < n && js.err == 0; i++)
        jstream_element(&js, merged_group(v, by, order[i]));
    jstream_end_array(&js);
    jstream_member(&js, "nodes", nodes_summary(v));
    jstream_member(&js, "snapshot", fleet_snapshot_ref(v));
    jstream_end_object(&js);
    return jstream_finish(&js, ret_body, ret_len);
}

/* --- /api/v1/fleet/hugepages -------------------------------------------------------------- */

static json_t *count_or_null(uint64_t x) {
    return x == VM_UNKNOWN ? json_null() : json_u64(x);
}

static json_t *peer_pools(const struct fleet_doc *d) {
    json_t *a = json_array();
    int err = 0;
    for (uint32_t i = 0; i < d->npools; i++) {
        const struct fleet_pool *p = &d->pools[i];
        json_t *o = json_object();
        int oerr = 0;
        json_put(o, "size_bytes", json_u64(p->size_bytes), &oerr);
        json_put(o, "numa_node", p->numa_node < 0 ? json_null() : json_integer(p->numa_node), &oerr);
        json_put(o, "total", count_or_null(p->total), &oerr);
        json_put(o, "free", count_or_null(p->free), &oerr);
        json_put(o, "reserved", count_or_null(p->reserved), &oerr);
        json_put(o, "surplus", count_or_null(p->surplus), &oerr);
        json_push(a, json_done(o, oerr), &err);
    }
    return json_done(a, err);
}

static json_t *thp_bytes(json_t *o, const uint64_t *bytes, uint32_t present, int *err) {
    static const char *const kinds[_VM_THP_MAX] = {"anon", "shmem", "file"};
    for (int k = 0; k < _VM_THP_MAX; k++)
        json_put(o, kinds[k], present & (1u << k) ? json_u64(bytes[k]) : json_null(), err);
    return o;
}

json_t *render_fleet_hugepages(const struct fleet_view *v) {
    int err = 0;
    json_t *per = json_array();
    for (size_t i = 0; i < v->npeers; i++) {
        const struct fleet_view_peer *peer = &v->peers[i];
        if (!peer->up)
            continue;
        const struct fleet_doc *d = peer->docs[FLEET_DOC_HUGEPAGES];
        json_t *thp = json_object();
        int terr = 0;
        json_put(thp, "enabled", doc_string(d, d->thp.enabled), &terr);
        json_put(thp, "defrag", doc_string(d, d->thp.defrag), &terr);
        json_put(thp, "shmem_enabled", doc_string(d, d->thp.shmem_enabled), &terr);
        thp_bytes(thp, d->thp.bytes, d->thp.present, &terr);
        json_t *o = json_object();
        int oerr = 0;
        json_put(o, "node", json_string(peer->url.node), &oerr);
        json_put(o, "pools", peer_pools(d), &oerr);
        json_put(o, "thp", json_done(thp, terr), &oerr);
        json_push(per, json_done(o, oerr), &err);
    }
    json_t *pools = json_array();
    static const char *const names[4] = {"total", "free", "reserved", "surplus"};
    for (uint32_t i = 0; i < v->npools; i++) {
        const struct fleet_pool_total *t = &v->pools[i];
        json_t *o = json_object();
        int oerr = 0;
        json_put(o, "size_bytes", json_u64(t->size_bytes), &oerr);
        for (int k = 0; k < 4; k++)
            json_put(o, names[k], t->present & (1u << k) ? json_u64(t->v[k]) : json_null(), &oerr);
        json_push(pools, json_done(o, oerr), &err);
    }
    json_t *thp = json_object();
    int terr = 0;
    thp_bytes(thp, v->thp, v->thp_present, &terr);
    json_t *totals = json_object();
    int toerr = 0;
    json_put(totals, "pools", pools, &toerr);
    json_put(totals, "thp", json_done(thp, terr), &toerr);
    json_t *doc = json_object();
    json_put(doc, "snapshot", fleet_snapshot_ref(v), &err);
    json_put(doc, "nodes", nodes_summary(v), &err);
    json_put(doc, "per_node", per, &err);
    json_put(doc, "totals", json_done(totals, toerr), &err);
    return json_done(doc, err);
}

/* --- /api/v1/fleet/targets ---------------------------------------------------------------- */

json_t *render_fleet_targets(const struct fleet_view *v) {
    json_t *a = json_array();
    int err = 0;
    for (size_t i = 0; i < v->npeers; i++) {
        const struct fleet_url *u = &v->peers[i].url;
        json_t *labels = json_object(), *targets = json_array(), *o = json_object();
        int lerr = 0, oerr = 0;
        json_put(labels, "vmatlas_node", json_string(u->node), &lerr);
        /* Relabeling labels of http_sd: how Prometheus reaches a peer that is not plain http
         * at the root. */
        if (u->https)
            json_put(labels, "__scheme__", json_string("https"), &lerr);
        if (u->path[0]) {
            char *mp = NULL;
            if (asprintf(&mp, "%s/metrics", u->path) < 0)
                mp = NULL;
            json_put(labels, "__metrics_path__", mp ? json_string(mp) : NULL, &lerr);
            free(mp);
        }
        json_push(targets, json_string(u->node), &oerr);
        json_put(o, "targets", json_done(targets, oerr < 0 ? oerr : 0), &oerr);
        json_put(o, "labels", json_done(labels, lerr), &oerr);
        json_push(a, json_done(o, oerr), &err);
    }
    return json_done(a, err);
}

/* --- /metrics ----------------------------------------------------------------------------- */

static void family(FILE *f, bool om, const char *name, const char *type, const char *help) {
    size_t len = strlen(name);
    if (om && strcmp(type, "counter") == 0 && len > 6 && strcmp(name + len - 6, "_total") == 0)
        len -= 6;
    fprintf(f, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, name, help, (int)len, name, type);
}

/* A label value: node names are host:port (fleet_url.c allows no quote, backslash or newline),
 * escaped all the same. */
static void label(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f), fputc(*s, f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void print_seconds_us(FILE *f, uint64_t us) {
    fprintf(f, "%" PRIu64 ".%06" PRIu64 "\n", us / 1000000u, us % 1000000u);
}

void render_fleet_metrics(FILE *f, const struct fleet_view *v, bool om) {
    size_t up = 0;
    for (size_t i = 0; i < v->npeers; i++)
        up += v->peers[i].up;
    family(f, om, "vmatlas_fleet_peers", "gauge",
           "Peers this daemon aggregates (--peers, --peers-file).");
    fprintf(f, "vmatlas_fleet_peers %zu\n", v->npeers);
    family(f, om, "vmatlas_fleet_peers_up", "gauge",
           "Peers whose documents all arrived and were valid in the last round.");
    fprintf(f, "vmatlas_fleet_peers_up %zu\n", up);
    family(f, om, "vmatlas_fleet_merges_total", "counter",
           "Fetch rounds merged into a fleet view.");
    fprintf(f, "vmatlas_fleet_merges_total %" PRIu64 "\n", v->seq);
    family(f, om, "vmatlas_fleet_round_duration_seconds", "gauge",
           "Wall time of the last fetch round over all peers.");
    fprintf(f, "vmatlas_fleet_round_duration_seconds ");
    print_seconds_us(f, v->round_ns / 1000);
    family(f, om, "vmatlas_fleet_merge_duration_seconds", "gauge",
           "Wall time of the last merge of the peers' documents.");
    fprintf(f, "vmatlas_fleet_merge_duration_seconds ");
    print_seconds_us(f, v->merge_ns / 1000);
    family(f, om, "vmatlas_fleet_truncations_total", "counter",
           "Merged high-water groups dropped past the fleet's group limit.");
    fprintf(f, "vmatlas_fleet_truncations_total %" PRIu64 "\n", v->truncations_total);

    family(f, om, "vmatlas_peer_up", "gauge",
           "1 when every document of the peer arrived and was valid in the last round, else 0.");
    for (size_t i = 0; i < v->npeers; i++) {
        fputs("vmatlas_peer_up{node=\"", f);
        label(f, v->peers[i].url.node);
        fprintf(f, "\"} %d\n", v->peers[i].up ? 1 : 0);
    }
    family(f, om, "vmatlas_peer_scrape_duration_seconds", "gauge",
           "Time the last round spent on the peer, until its last answer or its failure.");
    for (size_t i = 0; i < v->npeers; i++) {
        if (!v->peers[i].fetched)
            continue;
        fputs("vmatlas_peer_scrape_duration_seconds{node=\"", f);
        label(f, v->peers[i].url.node);
        fputs("\"} ", f);
        print_seconds_us(f, v->peers[i].latency_us);
    }
    family(f, om, "vmatlas_peer_last_success_timestamp_seconds", "gauge",
           "Unix time of the peer's last complete and valid answer.");
    for (size_t i = 0; i < v->npeers; i++) {
        uint64_t ms = v->peers[i].last_success_ms;
        if (!ms)
            continue;
        fputs("vmatlas_peer_last_success_timestamp_seconds{node=\"", f);
        label(f, v->peers[i].url.node);
        fprintf(f, "\"} %" PRIu64 ".%03" PRIu64 "\n", ms / 1000u, ms % 1000u);
    }
}
