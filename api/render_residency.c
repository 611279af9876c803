/* render_residency.c: residency (present, swapped, THP, exclusive bytes) of processes and VMAs,
 * and the /api/v1/processes/{pid}/residency document.
 *
 * Page-walk figures (PAGEMAP_SCAN or pagemap) where the per-VMA tier walked the process; a
 * figure its source cannot know is null (PAGEMAP_SCAN has no "exclusive", pagemap alone cannot
 * tell THP, soft-dirty needs CONFIG_MEM_SOFT_DIRTY). Before the first walk, smaps figures:
 * per VMA from the per-VMA tier, per process from smaps_rollup; "present" counts resident
 * pages (Rss) plus hugetlb pages, which Rss leaves out, "exclusive" pages mapped once (the
 * Private_* lines), and soft-dirty is null. */
#include <errno.h>

#include "api/json.h"
#include "api/render.h"
#include "api/utf8.h"

struct residency {
    uint64_t present, swapped, thp, exclusive, soft_dirty;
    bool has_present, has_swapped, has_thp, has_exclusive, has_soft_dirty;
};

static json_t *maybe(bool has, uint64_t v) {
    return has ? json_u64(v) : json_null();
}

static json_t *ratio(bool has, uint64_t part, uint64_t whole) {
    if (!has || whole == 0)
        return json_null();
    double r = (double)part / (double)whole;
    return json_real(r > 1.0 ? 1.0 : r);
}

static json_t *render(const struct residency *r, uint64_t size, const char *source,
                      uint64_t collected_at_ms) {
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
                          "present", maybe(r->has_present, r->present),
                          "swapped", maybe(r->has_swapped, r->swapped),
                          "thp", maybe(r->has_thp, r->thp),
                          "exclusive", maybe(r->has_exclusive, r->exclusive),
                          "soft_dirty", maybe(r->has_soft_dirty, r->soft_dirty),
                          "resident_ratio", ratio(r->has_present, r->present, size),
                          "source", source);
    if (o && collected_at_ms && json_object_set_new(o, "collected_at",
                                                    json_time_ms(collected_at_ms)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Sum of kb[] fields (bytes); false when one is absent. */
static bool vma_sum(const struct vm_vma *v, const int *fields, size_t n, uint64_t *ret) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(v->kb_present & (1u << fields[i])))
            return false;
        sum += (uint64_t)v->kb[fields[i]] * 1024;
    }
    *ret = sum;
    return true;
}

static bool rollup_sum(const struct vm_process *p, const int *fields, size_t n, uint64_t *ret) {
    uint64_t sum = 0;
    if (!(p->flags & VM_PROC_ROLLUP))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!(p->rollup_present & (1u << fields[i])))
            return false;
        sum += p->rollup[fields[i]];
    }
    *ret = sum;
    return true;
}

/* Page-walk figures of one VMA (bytes), or of a whole process (sums). */
static void walk_residency(const struct vm_snapshot *s, const struct vm_vma *v, size_t n,
                           struct residency *r, uint64_t *ret_size) {
    uint64_t page = s->node.page_size ? s->node.page_size : 4096;
    uint64_t sum[_VM_RES_MAX] = {0}, size = 0;
    uint8_t known = 0xff;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == VM_KIND_VSYSCALL)
            continue;
        known &= v[i].res_known;
        size += v[i].end - v[i].start;
        for (int f = 0; f < _VM_RES_MAX; f++)
            sum[f] += (uint64_t)v[i].res_pages[f] * page;
    }
    r->has_present = known & (1u << VM_RES_F_PRESENT);
    r->has_swapped = known & (1u << VM_RES_F_SWAPPED);
    r->has_thp = known & (1u << VM_RES_F_THP);
    r->has_exclusive = known & (1u << VM_RES_F_EXCLUSIVE);
    r->has_soft_dirty = known & (1u << VM_RES_F_SOFT_DIRTY);
    r->present = sum[VM_RES_F_PRESENT];
    r->swapped = sum[VM_RES_F_SWAPPED];
    r->thp = sum[VM_RES_F_THP];
    r->exclusive = sum[VM_RES_F_EXCLUSIVE];
    r->soft_dirty = sum[VM_RES_F_SOFT_DIRTY];
    *ret_size = size;
}

json_t *render_vma_residency(const struct vm_snapshot *s, const struct vm_vma *v) {
    static const int present[] = {VM_VMAF_RSS, VM_VMAF_SHARED_HUGETLB, VM_VMAF_PRIVATE_HUGETLB};
    static const int swapped[] = {VM_VMAF_SWAP};
    static const int thp[] = {VM_VMAF_ANON_HUGE, VM_VMAF_SHMEM_PMD_MAPPED,
                              VM_VMAF_FILE_PMD_MAPPED};
    static const int exclusive[] = {VM_VMAF_PRIVATE_CLEAN, VM_VMAF_PRIVATE_DIRTY,
                                    VM_VMAF_PRIVATE_HUGETLB};
    struct residency r = {0};
    uint64_t size = v->end - v->start;
    if (v->res_source != VM_RES_NONE) {
        walk_residency(s, v, 1, &r, &size);
        return render(&r, size, vm_res_source_name(v->res_source), 0);
    }
    if (!(v->flags & VM_VMA_SMAPS))
        return json_null();
    r.has_present = vma_sum(v, present, 3, &r.present);
    r.has_swapped = vma_sum(v, swapped, 1, &r.swapped);
    r.has_thp = vma_sum(v, thp, 3, &r.thp);
    r.has_exclusive = vma_sum(v, exclusive, 3, &r.exclusive);
    return render(&r, size, "smaps", 0);
}

json_t *render_process_residency(const struct vm_snapshot *s, const struct vm_process *p) {
    static const int present[] = {VM_ROLLUP_RSS, VM_ROLLUP_SHARED_HUGETLB,
                                  VM_ROLLUP_PRIVATE_HUGETLB};
    static const int swapped[] = {VM_ROLLUP_SWAP};
    static const int thp[] = {VM_ROLLUP_ANON_HUGE, VM_ROLLUP_SHMEM_PMD_MAPPED,
                              VM_ROLLUP_FILE_PMD_MAPPED};
    static const int exclusive[] = {VM_ROLLUP_PRIVATE_CLEAN, VM_ROLLUP_PRIVATE_DIRTY,
                                    VM_ROLLUP_PRIVATE_HUGETLB};
    struct residency r = {0};
    if (p->res_source != VM_RES_NONE) {
        uint64_t size;
        walk_residency(s, vm_snapshot_vmas(s, p), p->vma_n, &r, &size);
        return render(&r, size, vm_res_source_name(p->res_source), p->res_at_ms);
    }
    if (!(p->flags & VM_PROC_ROLLUP))
        return json_null();
    r.has_present = rollup_sum(p, present, 3, &r.present);
    r.has_swapped = rollup_sum(p, swapped, 1, &r.swapped);
    r.has_thp = rollup_sum(p, thp, 3, &r.thp);
    r.has_exclusive = rollup_sum(p, exclusive, 3, &r.exclusive);
    uint64_t size = vm_process_has_memory(p, VM_MEM_VM_SIZE) ? p->memory[VM_MEM_VM_SIZE] : 0;
    return render(&r, size, "smaps", s->collected_at_ms);
}
