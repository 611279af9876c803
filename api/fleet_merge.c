/* fleet_merge.c: a fetch round (and the previous view) merged into a new immutable view:
 * peers' states, their documents by reference, high-water groups summed across the nodes that
 * are up with the fleet-wide peaks carried over, and hugepage totals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fleet_view.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

static uint64_t mono_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

struct fleet_view *fleet_view_ref(struct fleet_view *v) {
    if (v)
        __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

struct fleet_view *fleet_view_unref(struct fleet_view *v) {
    if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return NULL;
    for (size_t i = 0; i < v->npeers; i++) {
        struct fleet_view_peer *p = &v->peers[i];
        fleet_url_done(&p->url);
        free(p->error);
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            fleet_doc_unref(p->docs[k]);
    }
    free(v->peers);
    for (int by = 0; by < _VM_GROUP_MAX; by++) {
        free(v->groups[by]);
        free(v->shares[by]);
    }
    free(v->pools);
    free(v->strings);
    free(v);
    return NULL;
}

static int intern(struct fleet_view *v, const char *s, uint32_t *ret) {
    if (!s) {
        *ret = 0;
        return 0;
    }
    size_t n = strlen(s), need;
    if (__builtin_add_overflow(v->strings_len, n + 1, &need) || need > UINT32_MAX)
        return -ENOMEM;
    if (GROW(v->strings, v->strings_cap, need) < 0)
        return -ENOMEM;
    memcpy(v->strings + v->strings_len, s, n + 1);
    *ret = (uint32_t)v->strings_len;
    v->strings_len = need;
    return 0;
}

static struct fleet_view *view_new(size_t npeers) {
    struct fleet_view *v = calloc(1, sizeof(*v));
    uint32_t empty;
    if (!v)
        return NULL;
    v->refs = 1;
    v->peers = calloc(npeers ? npeers : 1, sizeof(*v->peers));
    if (!v->peers || intern(v, "", &empty) < 0)
        return fleet_view_unref(v);
    return v;
}

int fleet_view_pending(const struct fleet_url *peers, size_t n, uint64_t now_ms,
                       struct fleet_view **ret) {
    struct fleet_view *v = view_new(n);
    if (!v)
        return -ENOMEM;
    v->merged_at_ms = now_ms;
    for (size_t i = 0; i < n; i++, v->npeers++) {
        struct fleet_view_peer *p = &v->peers[i];
        if (fleet_url_copy(&peers[i], &p->url) < 0 || !(p->error = strdup("not fetched yet"))) {
            fleet_url_done(&p->url);
            fleet_view_unref(v);
            return -ENOMEM;
        }
    }
    *ret = v;
    return 0;
}

/* --- high-water groups -------------------------------------------------------------------- */

struct entry {
    const char *key; /* NULL: null */
    uint32_t peer;
    const struct fleet_group *g;
};

static int cmp_key(const char *a, const char *b) {
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    return strcmp(a, b);
}

static int cmp_entry(const void *x, const void *y) {
    const struct entry *a = x, *b = y;
    int c = cmp_key(a->key, b->key);
    return c ? c : (a->peer > b->peer) - (a->peer < b->peer);
}

/* The group of prev with this key, or NULL (prev's groups are sorted by key). */
static const struct fleet_group_merged *prev_group(const struct fleet_view *prev, int by,
                                                   const char *key) {
    if (!prev)
        return NULL;
    size_t lo = 0, hi = prev->ngroups[by];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct fleet_group_merged *g = &prev->groups[by][mid];
        int c = cmp_key(fleet_view_str(prev, g->key), key);
        if (c == 0)
            return g;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

struct sort_ctx {
    const struct fleet_view *v;
};

static int cmp_merged_key(const void *x, const void *y, void *ctx) {
    const struct fleet_view *v = ((const struct sort_ctx *)ctx)->v;
    const struct fleet_group_merged *a = x, *b = y;
    return cmp_key(fleet_view_str(v, a->key), fleet_view_str(v, b->key));
}

/* Which groups to keep when there are too many: those with members, then the largest peaks. */
static int cmp_keep(const void *x, const void *y) {
    const struct fleet_group_merged *a = x, *b = y;
    if ((a->nshares > 0) != (b->nshares > 0))
        return a->nshares > 0 ? -1 : 1;
    if (a->observed_rss_peak != b->observed_rss_peak)
        return a->observed_rss_peak > b->observed_rss_peak ? -1 : 1;
    return (a->rss < b->rss) - (a->rss > b->rss);
}

static int merge_groups(struct fleet_view *v, const struct fleet_view *prev, int by) {
    int kind = FLEET_DOC_HIWATER + by;
    size_t n = 0;
    for (size_t i = 0; i < v->npeers; i++)
        if (v->peers[i].up)
            n += v->peers[i].docs[kind]->ngroups;
    _cleanup_free_ struct entry *e = malloc_array(n, sizeof(*e));
    struct fleet_share *shares = malloc_array(n, sizeof(*shares));
    size_t cap = n + (prev ? prev->ngroups[by] : 0);
    struct fleet_group_merged *groups = malloc_array(cap, sizeof(*groups));
    v->shares[by] = shares;
    v->groups[by] = groups;
    if (!e || !shares || !groups)
        return -ENOMEM;
    n = 0;
    for (size_t i = 0; i < v->npeers; i++) {
        const struct fleet_doc *d = v->peers[i].up ? v->peers[i].docs[kind] : NULL;
        for (uint32_t j = 0; d && j < d->ngroups; j++)
            e[n++] = (struct entry){fleet_doc_str(d, d->groups[j].key), (uint32_t)i, &d->groups[j]};
    }
    qsort(e, n, sizeof(*e), cmp_entry);

    size_t ng = 0;
    for (size_t i = 0; i < n;) {
        struct fleet_group_merged *m = &groups[ng];
        *m = (struct fleet_group_merged){.vm_hwm_max_peer = -1, .first_share = (uint32_t)i};
        if (intern(v, e[i].key, &m->key) < 0)
            return -ENOMEM;
        size_t j = i;
        for (; j < n && cmp_key(e[j].key, e[i].key) == 0; j++) {
            const struct fleet_group *g = e[j].g;
            m->processes += g->processes;
            m->exited += g->exited;
            m->rss = sat_add(m->rss, g->rss);
            m->vm_hwm_sum = sat_add(m->vm_hwm_sum, g->vm_hwm_sum);
            if (m->vm_hwm_max_peer < 0 || g->vm_hwm_max > m->vm_hwm_max) {
                m->vm_hwm_max = g->vm_hwm_max;
                m->vm_hwm_max_peer = (int32_t)e[j].peer;
                m->vm_hwm_max_pid = g->vm_hwm_max_pid;
            }
            if (g->vm_peak_max > m->vm_peak_max)
                m->vm_peak_max = g->vm_peak_max;
            if (g->exited_vm_hwm_max > m->exited_vm_hwm_max)
                m->exited_vm_hwm_max = g->exited_vm_hwm_max;
            shares[j] = (struct fleet_share){e[j].peer, g->processes, g->rss, g->observed_rss_peak};
        }
        m->nshares = (uint32_t)(j - i);
        /* The fleet-wide peak: the largest sum seen in one merge, carried from view to view. */
        const struct fleet_group_merged *old = prev_group(prev, by, e[i].key);
        if (old && old->observed_rss_peak >= m->rss) {
            m->observed_rss_peak = old->observed_rss_peak;
            m->observed_rss_peak_at_ms = old->observed_rss_peak_at_ms;
        } else {
            m->observed_rss_peak = m->rss;
            m->observed_rss_peak_at_ms = v->merged_at_ms;
        }
        ng++;
        i = j;
    }
    /* Groups no node has now keep their peak (bounded below), as a node keeps its groups. */
    size_t nnew = ng;
    for (uint32_t i = 0; prev && i < prev->ngroups[by]; i++) {
        const struct fleet_group_merged *old = &prev->groups[by][i];
        const char *key = fleet_view_str(prev, old->key);
        bool present = false;
        size_t lo = 0, hi = nnew;
        while (lo < hi && !present) { /* groups[0, nnew) are in key order */
            size_t mid = lo + (hi - lo) / 2;
            int c = cmp_key(fleet_view_str(v, groups[mid].key), key);
            if (c == 0)
                present = true;
            else if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (present)
            continue;
        struct fleet_group_merged *m = &groups[ng];
        *m = (struct fleet_group_merged){.vm_hwm_max_peer = -1,
                                         .observed_rss_peak = old->observed_rss_peak,
                                         .observed_rss_peak_at_ms = old->observed_rss_peak_at_ms};
        if (intern(v, key, &m->key) < 0)
            return -ENOMEM;
        ng++;
    }
    if (ng > VM_FLEET_GROUPS_MAX) {
        qsort(groups, ng, sizeof(*groups), cmp_keep);
        v->truncations_total += ng - VM_FLEET_GROUPS_MAX;
        ng = VM_FLEET_GROUPS_MAX;
    }
    struct sort_ctx ctx = {v};
    qsort_r(groups, ng, sizeof(*groups), cmp_merged_key, &ctx);
    v->ngroups[by] = (uint32_t)ng;
    return 0;
}

/* --- hugepages ---------------------------------------------------------------------------- */

static int cmp_pool(const void *x, const void *y) {
    const struct fleet_pool *a = *(const struct fleet_pool *const *)x,
                            *b = *(const struct fleet_pool *const *)y;
    return (a->size_bytes > b->size_bytes) - (a->size_bytes < b->size_bytes);
}

static int merge_hugepages(struct fleet_view *v) {
    size_t n = 0;
    for (size_t i = 0; i < v->npeers; i++)
        if (v->peers[i].up)
            n += v->peers[i].docs[FLEET_DOC_HUGEPAGES]->npools;
    _cleanup_free_ const struct fleet_pool **globals = malloc_array(n, sizeof(*globals));
    v->pools = malloc_array(n, sizeof(*v->pools));
    if (!globals || !v->pools)
        return -ENOMEM;
    n = 0;
    for (size_t i = 0; i < v->npeers; i++) {
        if (!v->peers[i].up)
            continue;
        const struct fleet_doc *d = v->peers[i].docs[FLEET_DOC_HUGEPAGES];
        /* Only the global pools: the per-NUMA-node ones are parts of them. */
        for (uint32_t k = 0; k < d->npools; k++)
            if (d->pools[k].numa_node < 0)
                globals[n++] = &d->pools[k];
        for (int k = 0; k < _VM_THP_MAX; k++)
            if (d->thp.present & (1u << k)) {
                v->thp[k] = sat_add(v->thp[k], d->thp.bytes[k]);
                v->thp_present |= 1u << k;
            }
    }
    qsort(globals, n, sizeof(*globals), cmp_pool);
    for (size_t i = 0; i < n; i++) {
        const struct fleet_pool *p = globals[i];
        if (v->npools == 0 || v->pools[v->npools - 1].size_bytes != p->size_bytes)
            v->pools[v->npools++] = (struct fleet_pool_total){.size_bytes = p->size_bytes};
        struct fleet_pool_total *t = &v->pools[v->npools - 1];
        const uint64_t vals[4] = {p->total, p->free, p->reserved, p->surplus};
        for (int k = 0; k < 4; k++)
            if (vals[k] != VM_UNKNOWN) {
                t->v[k] = sat_add(t->v[k], vals[k]);
                t->present |= 1u << k;
            }
    }
    return 0;
}

/* --- the view ----------------------------------------------------------------------------- */

int fleet_merge(const struct fleet_view *prev, const struct fleet_round *round,
                struct fleet_view **ret) {
    uint64_t t0 = mono_ns();
    _cleanup_(fleet_view_unrefp) struct fleet_view *v = view_new(round->n);
    if (!v)
        return -ENOMEM;
    v->seq = prev ? prev->seq + 1 : 1;
    v->merged_at_ms = round->started_at_ms;
    v->round_ns = round->duration_ns;
    v->truncations_total = prev ? prev->truncations_total : 0;

    for (size_t i = 0; i < round->n; i++) {
        const struct fleet_result *r = &round->peers[i];
        struct fleet_view_peer *p = &v->peers[i];
        if (fleet_url_copy(&r->url, &p->url) < 0)
            return -ENOMEM;
        v->npeers = i + 1; /* owned by v from here on */
        p->fetched = true;
        p->latency_us = r->latency_us;
        p->bytes = r->bytes;
        p->not_modified = r->not_modified;
        bool all = true;
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            all = all && r->docs[k];
        p->up = r->up && all;
        for (size_t k = 0; prev && k < prev->npeers; k++)
            if (strcmp(prev->peers[k].url.url, r->url.url) == 0)
                p->last_success_ms = prev->peers[k].last_success_ms;
        if (!p->up) {
            p->error = strdup(r->error[0] ? r->error : "no answer");
            if (!p->error)
                return -ENOMEM;
            continue;
        }
        uint64_t answered_ms = round->started_at_ms + r->latency_us / 1000;
        p->last_success_ms = answered_ms;
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            p->docs[k] = fleet_doc_ref(r->docs[k]);
        uint64_t at = p->docs[FLEET_DOC_NODE]->snapshot_at_ms;
        p->snapshot_age_ms = answered_ms > at ? answered_ms - at : 0;
    }
    for (int by = 0; by < _VM_GROUP_MAX; by++)
        if (merge_groups(v, prev, by) < 0)
            return -ENOMEM;
    if (merge_hugepages(v) < 0)
        return -ENOMEM;
    v->merge_ns = mono_ns() - t0;
    *ret = TAKE_PTR(v);
    return 0;
}
