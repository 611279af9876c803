/* live_residency_sources.c: each --residency-source is used as configured, on this process:
 * PAGEMAP_SCAN (no "exclusive"), pagemap (no THP) and smaps (no page walk), and the figures of
 * the two page walks agree with smaps Rss for a region with no zero pages. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/render.h"
#include "test.h"
#include "vmatlas/collector.h"

#define REGION (8u << 20)

static const struct vm_vma *find_vma(const struct vm_snapshot *s, const struct vm_process *p,
                                     uintptr_t addr) {
    const struct vm_vma *v = vm_snapshot_vmas(s, p);
    for (uint32_t i = 0; i < p->vma_n; i++)
        if (v[i].start <= addr && addr < v[i].end)
            return &v[i];
    return NULL;
}

int main(void) {
    if (geteuid() != 0) {
        printf("live_residency_sources: needs root (pagemap of every process); skipping\n");
        return TEST_SKIP;
    }
    /* 8 MiB with every other page written: 1024 resident pages, no zero pages. */
    char *region = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(region != MAP_FAILED);
    (void)madvise(region, REGION, MADV_NOHUGEPAGE);
    for (size_t off = 0; off < REGION; off += 2 * 4096)
        region[off] = 1;

    static const struct {
        enum vm_residency_mode mode;
        enum vm_res_source want;
        const char *name;
        uint8_t known; /* bits that must be known */
        uint8_t unknown; /* bits that must not be */
    } cases[] = {
        {VM_RESIDENCY_PAGEMAP_SCAN, VM_RES_PAGEMAP_SCAN, "pagemap_scan",
         1u << VM_RES_F_PRESENT | 1u << VM_RES_F_SWAPPED | 1u << VM_RES_F_THP,
         1u << VM_RES_F_EXCLUSIVE},
        {VM_RESIDENCY_PAGEMAP, VM_RES_PAGEMAP, "pagemap",
         1u << VM_RES_F_PRESENT | 1u << VM_RES_F_SWAPPED | 1u << VM_RES_F_EXCLUSIVE,
         1u << VM_RES_F_THP},
        {VM_RESIDENCY_SMAPS, VM_RES_NONE, "smaps", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vm_collector_options co = {.deep_budget_ns = UINT64_MAX,
                                          .residency = cases[i].mode};
        struct vm_collector *c = NULL;
        struct vm_snapshot *s = NULL;
        CHECK_EQ_INT(vm_collector_new(&co, &c), 0);
        CHECK_EQ_INT(vm_collector_scan(c, NULL, &s), 0);
        const struct vm_process *p = s ? vm_snapshot_find(s, getpid()) : NULL;
        CHECK(p != NULL);
        if (p) {
            CHECK_EQ_INT(s->node.walk_source, cases[i].want);
            CHECK_EQ_INT(p->res_source, cases[i].want);
            const struct vm_vma *v = find_vma(s, p, (uintptr_t)region);
            CHECK(v != NULL);
            if (v && cases[i].want != VM_RES_NONE) {
                CHECK((v->res_known & cases[i].known) == cases[i].known);
                CHECK((v->res_known & cases[i].unknown) == 0);
                CHECK_EQ_U64(v->res_pages[VM_RES_F_PRESENT], REGION / 4096 / 2);
                /* smaps Rss of the same VMA, read in the same visit */
                CHECK_EQ_U64((uint64_t)v->kb[VM_VMAF_RSS] * 1024,
                             (uint64_t)v->res_pages[VM_RES_F_PRESENT] * 4096);
                if (cases[i].want == VM_RES_PAGEMAP)
                    CHECK_EQ_U64(v->res_pages[VM_RES_F_EXCLUSIVE], REGION / 4096 / 2);
            }
            json_t *res = render_process_residency(s, p);
            CHECK(res != NULL);
            CHECK_STREQ(json_string_value(json_object_get(res, "source")), cases[i].name);
            if (cases[i].want == VM_RES_PAGEMAP_SCAN)
                CHECK(json_is_null(json_object_get(res, "exclusive")));
            if (cases[i].want == VM_RES_PAGEMAP)
                CHECK(json_is_null(json_object_get(res, "thp")));
            json_decref(res);
        }
        vm_snapshot_unref(s);
        vm_collector_free(c);
    }
    munmap(region, REGION);
    return test_result("live_residency_sources");
}
