/* test_smaps.c: smaps field lines and smaps_rollup, on real text from this machine. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/maps.h"
#include "collector/parse.h"
#include "collector/smaps.h"
#include "collector/vmflags.h"
#include "test.h"

/* One field line from an exact-size copy. The copy is kept until the next call so that
 * v->vmflags stays valid for the checks that follow. */
static char *last_line;
static int field(const char *line, struct smaps_vma *v) {
    size_t n = strlen(line);
    free(last_line);
    last_line = exact(line, n);
    return smaps_parse_field(last_line, n, v);
}

#define HAS(v, f) (((v).present >> (f)) & 1u)

/* A THP-backed anonymous block, captured on the 6.18 test VM after MADV_HUGEPAGE. */
static const char thp_block[] = "7fcf4c400000-7fcf4c800000 rw-p 00000000 00:00 0 \n"
                                "Size:               4096 kB\n"
                                "KernelPageSize:        4 kB\n"
                                "MMUPageSize:           4 kB\n"
                                "Rss:                4096 kB\n"
                                "Pss:                4096 kB\n"
                                "Pss_Dirty:          4096 kB\n"
                                "Shared_Clean:          0 kB\n"
                                "Shared_Dirty:          0 kB\n"
                                "Private_Clean:         0 kB\n"
                                "Private_Dirty:      4096 kB\n"
                                "Referenced:         4096 kB\n"
                                "Anonymous:          4096 kB\n"
                                "KSM:                   0 kB\n"
                                "LazyFree:              0 kB\n"
                                "AnonHugePages:      4096 kB\n"
                                "ShmemPmdMapped:        0 kB\n"
                                "FilePmdMapped:         0 kB\n"
                                "Shared_Hugetlb:        0 kB\n"
                                "Private_Hugetlb:       0 kB\n"
                                "Swap:                  0 kB\n"
                                "SwapPss:               0 kB\n"
                                "Locked:                0 kB\n"
                                "THPeligible:           1\n"
                                "VmFlags: rd wr mr mw me ac hg \n";

/* Feed a block the way the builder does: the header to maps_parse_line, the rest here. */
static int block(const char *text, size_t len, struct maps_entry *e, struct smaps_vma *v) {
    const char *line;
    size_t pos = 0, n;
    int errors = 0;

    smaps_vma_init(v);
    while (next_field(text, len, &pos, '\n', &line, &n) == 0) {
        if (maps_is_header(line, n)) {
            if (maps_parse_line(line, n, e) < 0)
                errors++;
        } else if (smaps_parse_field(line, n, v) < 0) {
            errors++;
        }
    }
    return errors;
}

static void test_real_block(void) {
    struct maps_entry e;
    struct smaps_vma v;
    char *p = exact(thp_block, sizeof(thp_block) - 1);

    CHECK_EQ_INT(block(p, sizeof(thp_block) - 1, &e, &v), 0);
    CHECK_EQ_U64(e.start, 0x7fcf4c400000ull);
    CHECK(e.name == NULL);
    CHECK_EQ_U64(v.present, (1u << _VM_VMAF_MAX) - 1); /* every VM_VMA_FIELDS row found */
    CHECK_EQ_U64(v.size_kb, 4096);
    CHECK_EQ_U64(v.kernel_page_kb, 4);
    CHECK_EQ_U64(v.mmu_page_kb, 4);
    CHECK_EQ_U64(v.kb[VM_VMAF_RSS], 4096);
    CHECK_EQ_U64(v.kb[VM_VMAF_PSS], 4096);
    CHECK_EQ_U64(v.kb[VM_VMAF_PRIVATE_DIRTY], 4096);
    CHECK_EQ_U64(v.kb[VM_VMAF_ANON_HUGE], 4096);
    CHECK_EQ_U64(v.kb[VM_VMAF_SHARED_CLEAN], 0);
    CHECK_EQ_U64(v.kb[VM_VMAF_LOCKED], 0);
    CHECK_EQ_INT(v.thp_eligible, 1);
    CHECK(v.has_vmflags);
    CHECK_MEMEQ(v.vmflags, v.vmflags_len, "rd wr mr mw me ac hg"); /* trailing space stripped */
    CHECK(v.vmflags >= p && v.vmflags + v.vmflags_len <= p + sizeof(thp_block) - 1);
    CHECK_EQ_U64(v.vmflags_mask, VMF(VMF_RD) | VMF(VMF_WR) | VMF(VMF_MR) | VMF(VMF_MW) |
                                     VMF(VMF_ME) | VMF(VMF_AC) | VMF(VMF_HG));
    free(p);
}

/* Every VM_VMA_FIELDS row is matched by name, whatever the order. */
static void test_table(void) {
    struct smaps_vma v;
    char line[128];

    smaps_vma_init(&v);
    for (int i = _VM_VMAF_MAX - 1; i >= 0; i--) {
        snprintf(line, sizeof(line), "%s:%*d kB", vm_vma_fields[i].key, 20, 100 + i);
        CHECK_EQ_INT(field(line, &v), 0);
    }
    CHECK_EQ_U64(v.present, (1u << _VM_VMAF_MAX) - 1);
    for (int i = 0; i < _VM_VMAF_MAX; i++)
        CHECK_EQ_U64(v.kb[i], 100 + i);
    CHECK_EQ_U64(v.size_kb, 0);
    CHECK_EQ_INT(v.thp_eligible, -1);
    CHECK(!v.has_vmflags && v.vmflags == NULL);
}

static void test_fields(void) {
    struct smaps_vma v;

    smaps_vma_init(&v);
    CHECK_EQ_INT(v.thp_eligible, -1);
    CHECK_EQ_U64(v.present, 0);

    /* hugetlb */
    CHECK_EQ_INT(field("KernelPageSize:     2048 kB", &v), 0);
    CHECK_EQ_U64(v.kernel_page_kb, 2048);
    CHECK_EQ_INT(field("MMUPageSize:     1048576 kB", &v), 0);
    CHECK_EQ_U64(v.mmu_page_kb, 1048576);
    CHECK_EQ_INT(field("Private_Hugetlb:    4096 kB", &v), 0);
    CHECK_EQ_U64(v.kb[VM_VMAF_PRIVATE_HUGETLB], 4096);
    CHECK_EQ_INT(field("VmFlags: rd wr sh mr mw me ms de ht ", &v), 0);
    CHECK(v.vmflags_mask & VMF(VMF_HT));
    CHECK_MEMEQ(v.vmflags, v.vmflags_len, "rd wr sh mr mw me ms de ht");

    /* Unknown keys, including smaps-only and rollup-only ones, are ignored. */
    CHECK_EQ_INT(field("Pss_Dirty:          4096 kB", &v), 0);
    CHECK_EQ_INT(field("KSM:                   0 kB", &v), 0);
    CHECK_EQ_INT(field("ProtectionKey:         0", &v), 0);
    CHECK_EQ_INT(field("Pss_Anon:              0 kB", &v), 0);
    CHECK_EQ_INT(field("FutureField:   whatever \xff", &v), 0);
    CHECK_EQ_INT(field("X:", &v), 0);
    CHECK_EQ_U64(v.present, 1u << VM_VMAF_PRIVATE_HUGETLB);

    /* Empty VmFlags (no flag set) is valid. */
    CHECK_EQ_INT(field("VmFlags: ", &v), 0);
    CHECK(v.has_vmflags);
    CHECK_EQ_U64(v.vmflags_len, 0);
    CHECK_EQ_U64(v.vmflags_mask, 0);
    CHECK_EQ_INT(field("VmFlags:", &v), 0);
    CHECK(v.has_vmflags);
    CHECK_EQ_INT(field("VmFlags: rd ?? ", &v), 0);
    CHECK_EQ_U64(v.vmflags_mask, VMF(VMF_RD) | VMF(VMF_UNKNOWN));

    CHECK_EQ_INT(field("THPeligible:    0", &v), 0);
    CHECK_EQ_INT(v.thp_eligible, 0);
    CHECK_EQ_INT(field("THPeligible:1", &v), 0);
    CHECK_EQ_INT(v.thp_eligible, 1);
}

static void test_malformed(void) {
    struct smaps_vma v;

    smaps_vma_init(&v);
    CHECK_EQ_INT(field("Rss:                   8 kB", &v), 0);
    CHECK(HAS(v, VM_VMAF_RSS));

    /* A malformed value of a known field makes it absent and is reported. */
    CHECK_EQ_INT(field("Rss:                   8", &v), -EINVAL); /* missing kB */
    CHECK(!HAS(v, VM_VMAF_RSS));
    CHECK_EQ_U64(v.kb[VM_VMAF_RSS], 0);
    CHECK_EQ_INT(field("Pss:    99999999999999999999 kB", &v), -EINVAL); /* overflow */
    CHECK(!HAS(v, VM_VMAF_PSS));
    CHECK_EQ_INT(field("Swap:   -4 kB", &v), -EINVAL);
    CHECK_EQ_INT(field("Swap:   4 MB", &v), -EINVAL);
    CHECK_EQ_INT(field("Swap:   4 kB\r", &v), -EINVAL);
    CHECK_EQ_INT(field("Size:", &v), -EINVAL);
    CHECK_EQ_U64(v.size_kb, 0);
    CHECK_EQ_INT(field("KernelPageSize:  four kB", &v), -EINVAL);
    CHECK_EQ_U64(v.kernel_page_kb, 0);
    CHECK_EQ_INT(field("MMUPageSize:  4", &v), -EINVAL);
    CHECK_EQ_INT(field("THPeligible:    2", &v), -EINVAL);
    CHECK_EQ_INT(v.thp_eligible, -1);
    CHECK_EQ_INT(field("THPeligible:    1 kB", &v), -EINVAL);
    CHECK_EQ_INT(field("THPeligible:", &v), -EINVAL);

    CHECK_EQ_INT(field("VmFlags: rd mr", &v), 0);
    CHECK(v.has_vmflags);
    CHECK_EQ_INT(field("VmFlags: rd m r", &v), -EINVAL);
    CHECK(!v.has_vmflags && v.vmflags == NULL && v.vmflags_mask == 0);
    CHECK_EQ_INT(field("VmFlags: rdmr", &v), -EINVAL);

    /* Not field lines. */
    CHECK_EQ_INT(field("", &v), -EINVAL);
    CHECK_EQ_INT(field(":", &v), -EINVAL);
    CHECK_EQ_INT(field("Rss", &v), -EINVAL);
    CHECK_EQ_INT(field(" Rss: 4 kB", &v), -EINVAL);
    CHECK_EQ_INT(field("Rss : 4 kB", &v), -EINVAL);
    CHECK_EQ_INT(field("7fcf4c400000-7fcf4c800000 rw-p 00000000 00:00 0 ", &v), -EINVAL);
    CHECK_EQ_INT(smaps_parse_field(NULL, 0, &v), -EINVAL);

    /* len is honoured: "Rss:   8 kB" cut before the B. */
    {
        char *p = exact("Rss:   8 kB", 11);
        CHECK_EQ_INT(smaps_parse_field(p, 10, &v), -EINVAL);
        CHECK_EQ_INT(smaps_parse_field(p, 11, &v), 0);
        CHECK_EQ_U64(v.kb[VM_VMAF_RSS], 8);
        free(p);
    }
}

/* Captured on the 6.18 test VM. */
static const char real_rollup[] =
    "555da8c1c000-7ffe081bc000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:                5392 kB\n"
    "Pss:                4442 kB\n"
    "Pss_Dirty:          4232 kB\n"
    "Pss_Anon:           4208 kB\n"
    "Pss_File:            222 kB\n"
    "Pss_Shmem:            12 kB\n"
    "Shared_Clean:       1160 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:         0 kB\n"
    "Private_Dirty:      4232 kB\n"
    "Referenced:         5392 kB\n"
    "Anonymous:          4208 kB\n"
    "KSM:                   0 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:      4096 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "FilePmdMapped:         0 kB\n"
    "Shared_Hugetlb:        0 kB\n"
    "Private_Hugetlb:       0 kB\n"
    "Swap:                  0 kB\n"
    "SwapPss:               0 kB\n"
    "Locked:                8 kB\n";

static int rollup(const char *s, size_t n, uint64_t r[_VM_ROLLUP_MAX], uint32_t *present) {
    char *p = exact(s, n);
    int ret = rollup_parse(p, n, r, present);
    free(p);
    return ret;
}

static void test_rollup(void) {
    uint64_t r[_VM_ROLLUP_MAX], keep[_VM_ROLLUP_MAX];
    uint32_t present = 0;

    CHECK_EQ_INT(rollup(real_rollup, sizeof(real_rollup) - 1, r, &present), 0);
    CHECK_EQ_U64(present, (1u << _VM_ROLLUP_MAX) - 1); /* every VM_ROLLUP_FIELDS row */
    CHECK_EQ_U64(r[VM_ROLLUP_RSS], 5392 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_PSS], 4442 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_PSS_DIRTY], 4232 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_PSS_ANON], 4208 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_PSS_FILE], 222 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_PSS_SHMEM], 12 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_SHARED_CLEAN], 1160 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_PRIVATE_DIRTY], 4232 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_KSM], 0);
    CHECK_EQ_U64(r[VM_ROLLUP_ANON_HUGE], 4096 * 1024);
    CHECK_EQ_U64(r[VM_ROLLUP_LOCKED], 8 * 1024);

    /* Without the final newline; without a header; with junk, unknown and broken lines. */
    CHECK_EQ_INT(rollup(real_rollup, sizeof(real_rollup) - 2, r, &present), 0);
    CHECK_EQ_U64(r[VM_ROLLUP_LOCKED], 8 * 1024);
    {
        static const char s[] = "Rss:   4 kB\n"
                                "garbage line\n"
                                "\n"
                                "NewThing:  7 kB\n"
                                "Pss:   x kB\n"
                                "Swap:  99999999999999999999 kB\n"
                                "Locked: 18014398509481984 kB\n"
                                "Anonymous: 2 kB";
        CHECK_EQ_INT(rollup(s, sizeof(s) - 1, r, &present), 0);
        CHECK_EQ_U64(present, (1u << VM_ROLLUP_RSS) | (1u << VM_ROLLUP_ANONYMOUS));
        CHECK_EQ_U64(r[VM_ROLLUP_RSS], 4096);
        CHECK_EQ_U64(r[VM_ROLLUP_ANONYMOUS], 2048);
        CHECK_EQ_U64(r[VM_ROLLUP_PSS], 0);
        CHECK_EQ_U64(r[VM_ROLLUP_SWAP], 0);
    }

    /* Nothing known: -EINVAL, outputs untouched. An empty file (a zombie's) is that case. */
    memset(keep, 0x5a, sizeof(keep));
    memcpy(r, keep, sizeof(r));
    present = 77;
    CHECK_EQ_INT(rollup("", 0, r, &present), -EINVAL);
    CHECK_EQ_INT(rollup(real_rollup, 80, r, &present), -EINVAL); /* header only */
    CHECK_EQ_INT(rollup("Pss: 4\n", 7, r, &present), -EINVAL);
    CHECK_EQ_INT(rollup_parse(NULL, 0, r, &present), -EINVAL);
    CHECK(memcmp(r, keep, sizeof(r)) == 0);
    CHECK_EQ_U64(present, 77);

    /* Every prefix: no overread. */
    for (size_t cut = 0; cut < sizeof(real_rollup); cut++) {
        int ret = rollup(real_rollup, cut, r, &present);
        CHECK(ret == 0 || cut < 110);
    }
}

int main(void) {
    test_real_block();
    test_table();
    test_fields();
    test_malformed();
    test_rollup();
    free(last_line);
    return test_result("test_smaps");
}
