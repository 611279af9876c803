/* render_hugepages.c: the /api/v1/hugepages document (API.md): hugetlb pools per size and NUMA
 * node, THP modes and bytes, and the processes that use hugepages most. */
#include <errno.h>
#include <stdlib.h>

#include "api/json.h"
#include "api/render.h"
#include "api/utf8.h"
#include "vmatlas/macros.h"

#define TOP_USERS 20

static json_t *count_or_null(uint64_t v) {
    return v == VM_UNKNOWN ? json_null() : json_u64(v);
}

json_t *render_pools(const struct vm_snapshot *s) {
    json_t *a = json_array();
    const struct vm_hugepool *pools = vm_snapshot_pools(s);
    for (uint32_t i = 0; i < s->npools && a; i++) {
        const struct vm_hugepool *p = &pools[i];
        json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
                              "size_bytes", json_u64(p->size_bytes),
                              "numa_node", p->numa_node < 0 ? json_null() : json_integer(p->numa_node),
                              "total", count_or_null(p->total),
                              "free", count_or_null(p->free),
                              "reserved", count_or_null(p->reserved),
                              "surplus", count_or_null(p->surplus));
        if (json_array_append_new(a, o) < 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

json_t *render_thp(const struct vm_snapshot *s) {
    const struct vm_thp *t = &s->thp;
    const char *e = vm_snapshot_str(s, t->enabled), *d = vm_snapshot_str(s, t->defrag),
               *sh = vm_snapshot_str(s, t->shmem_enabled);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
                     "enabled", e ? json_kernel_string(e) : json_null(),
                     "defrag", d ? json_kernel_string(d) : json_null(),
                     "shmem_enabled", sh ? json_kernel_string(sh) : json_null(),
                     "anon", t->present & (1u << VM_THP_ANON) ? json_u64(t->bytes[VM_THP_ANON]) : json_null(),
                     "shmem", t->present & (1u << VM_THP_SHMEM) ? json_u64(t->bytes[VM_THP_SHMEM]) : json_null(),
                     "file", t->present & (1u << VM_THP_FILE) ? json_u64(t->bytes[VM_THP_FILE]) : json_null());
}

struct user {
    const struct vm_process *p;
    uint64_t total;
};

static uint64_t rollup_or_0(const struct vm_process *p, enum vm_rollup_field f) {
    return (p->flags & VM_PROC_ROLLUP) && (p->rollup_present & (1u << f)) ? p->rollup[f] : 0;
}

static json_t *rollup_or_null(const struct vm_process *p, enum vm_rollup_field f) {
    return (p->flags & VM_PROC_ROLLUP) && (p->rollup_present & (1u << f)) ? json_u64(p->rollup[f])
                                                                          : json_null();
}

static int cmp_user(const void *a, const void *b) {
    const struct user *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return (x->p->pid > y->p->pid) - (x->p->pid < y->p->pid);
}

static json_t *render_top_users(const struct vm_snapshot *s) {
    const struct vm_process *procs = vm_snapshot_procs(s);
    _cleanup_free_ struct user *u = malloc_array(s->nprocs, sizeof(*u));
    if (!u)
        return NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < s->nprocs; i++) {
        const struct vm_process *p = &procs[i];
        uint64_t hugetlb = vm_process_has_memory(p, VM_MEM_HUGETLB) ? p->memory[VM_MEM_HUGETLB] : 0;
        uint64_t total = hugetlb + rollup_or_0(p, VM_ROLLUP_ANON_HUGE) +
                         rollup_or_0(p, VM_ROLLUP_SHMEM_PMD_MAPPED) +
                         rollup_or_0(p, VM_ROLLUP_FILE_PMD_MAPPED);
        if (total > 0)
            u[n++] = (struct user){p, total};
    }
    qsort(u, n, sizeof(*u), cmp_user);
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < TOP_USERS && a; i++) {
        const struct vm_process *p = u[i].p;
        char id[32];
        const char *comm = vm_snapshot_str(s, p->comm);
        json_t *o = json_pack(
            "{s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "pid", p->pid, "id",
            vm_process_id(p, id, sizeof(id)), "comm", json_kernel_string(comm ? comm : ""),
            "hugetlb",
            vm_process_has_memory(p, VM_MEM_HUGETLB) ? json_u64(p->memory[VM_MEM_HUGETLB])
                                                     : json_null(),
            "anon_huge", rollup_or_null(p, VM_ROLLUP_ANON_HUGE), "shmem_pmd_mapped",
            rollup_or_null(p, VM_ROLLUP_SHMEM_PMD_MAPPED), "file_pmd_mapped",
            rollup_or_null(p, VM_ROLLUP_FILE_PMD_MAPPED));
        if (json_array_append_new(a, o) < 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

json_t *render_hugepages(const struct vm_snapshot *s) {
    return json_pack("{s:o, s:o, s:o, s:o}", "snapshot", render_snapshot_ref(s), "pools",
                     render_pools(s), "thp", render_thp(s), "top_users", render_top_users(s));
}
