/* live_tables.h: the field names of API.md written out again by hand, each with the kernel key
 * it comes from, so the live tests do not trust the project's own tables (fields.h) for the
 * mapping they are checking. Only the enum constants (the snapshot's array indices) are shared. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmatlas/fields.h"

struct live_field {
    const char *key;  /* kernel key */
    const char *json; /* API.md name */
    int index;        /* enum vm_*_field */
};

/* API.md "memory — from status, bytes" */
static const struct live_field live_memory[] = {
    {"VmPeak", "vm_peak", VM_MEM_VM_PEAK},       {"VmSize", "vm_size", VM_MEM_VM_SIZE},
    {"VmLck", "vm_lck", VM_MEM_VM_LCK},          {"VmPin", "vm_pin", VM_MEM_VM_PIN},
    {"VmHWM", "vm_hwm", VM_MEM_VM_HWM},          {"VmRSS", "vm_rss", VM_MEM_VM_RSS},
    {"RssAnon", "rss_anon", VM_MEM_RSS_ANON},    {"RssFile", "rss_file", VM_MEM_RSS_FILE},
    {"RssShmem", "rss_shmem", VM_MEM_RSS_SHMEM}, {"VmData", "vm_data", VM_MEM_VM_DATA},
    {"VmStk", "vm_stk", VM_MEM_VM_STK},          {"VmExe", "vm_exe", VM_MEM_VM_EXE},
    {"VmLib", "vm_lib", VM_MEM_VM_LIB},          {"VmPTE", "vm_pte", VM_MEM_VM_PTE},
    {"VmSwap", "vm_swap", VM_MEM_VM_SWAP},       {"HugetlbPages", "hugetlb", VM_MEM_HUGETLB},
};

/* API.md "rollup — from smaps_rollup, bytes" (uss is derived) */
static const struct live_field live_rollup[] = {
    {"Rss", "rss", VM_ROLLUP_RSS},
    {"Pss", "pss", VM_ROLLUP_PSS},
    {"Pss_Anon", "pss_anon", VM_ROLLUP_PSS_ANON},
    {"Pss_File", "pss_file", VM_ROLLUP_PSS_FILE},
    {"Pss_Shmem", "pss_shmem", VM_ROLLUP_PSS_SHMEM},
    {"Pss_Dirty", "pss_dirty", VM_ROLLUP_PSS_DIRTY},
    {"Shared_Clean", "shared_clean", VM_ROLLUP_SHARED_CLEAN},
    {"Shared_Dirty", "shared_dirty", VM_ROLLUP_SHARED_DIRTY},
    {"Private_Clean", "private_clean", VM_ROLLUP_PRIVATE_CLEAN},
    {"Private_Dirty", "private_dirty", VM_ROLLUP_PRIVATE_DIRTY},
    {"Referenced", "referenced", VM_ROLLUP_REFERENCED},
    {"Anonymous", "anonymous", VM_ROLLUP_ANONYMOUS},
    {"AnonHugePages", "anon_huge", VM_ROLLUP_ANON_HUGE},
    {"ShmemPmdMapped", "shmem_pmd_mapped", VM_ROLLUP_SHMEM_PMD_MAPPED},
    {"FilePmdMapped", "file_pmd_mapped", VM_ROLLUP_FILE_PMD_MAPPED},
    {"Shared_Hugetlb", "shared_hugetlb", VM_ROLLUP_SHARED_HUGETLB},
    {"Private_Hugetlb", "private_hugetlb", VM_ROLLUP_PRIVATE_HUGETLB},
    {"Swap", "swap", VM_ROLLUP_SWAP},
    {"SwapPss", "swap_pss", VM_ROLLUP_SWAP_PSS},
    {"Locked", "locked", VM_ROLLUP_LOCKED},
};

/* API.md "VMA": smaps figures in bytes */
static const struct live_field live_vma_fields[] = {
    {"Rss", "rss", VM_VMAF_RSS},
    {"Pss", "pss", VM_VMAF_PSS},
    {"Shared_Clean", "shared_clean", VM_VMAF_SHARED_CLEAN},
    {"Shared_Dirty", "shared_dirty", VM_VMAF_SHARED_DIRTY},
    {"Private_Clean", "private_clean", VM_VMAF_PRIVATE_CLEAN},
    {"Private_Dirty", "private_dirty", VM_VMAF_PRIVATE_DIRTY},
    {"Referenced", "referenced", VM_VMAF_REFERENCED},
    {"Anonymous", "anonymous", VM_VMAF_ANONYMOUS},
    {"AnonHugePages", "anon_huge", VM_VMAF_ANON_HUGE},
    {"Swap", "swap", VM_VMAF_SWAP},
    {"SwapPss", "swap_pss", VM_VMAF_SWAP_PSS},
    {"Locked", "locked", VM_VMAF_LOCKED},
    /* smaps per-VMA keys the snapshot keeps but API.md's VMA list does not name: checked in
     * the snapshot always, in JSON only when the member is there */
    {"ShmemPmdMapped", "shmem_pmd_mapped", VM_VMAF_SHMEM_PMD_MAPPED},
    {"FilePmdMapped", "file_pmd_mapped", VM_VMAF_FILE_PMD_MAPPED},
    {"Shared_Hugetlb", "shared_hugetlb", VM_VMAF_SHARED_HUGETLB},
    {"Private_Hugetlb", "private_hugetlb", VM_VMAF_PRIVATE_HUGETLB},
};

#define LIVE_VMA_API_FIELDS 12 /* the first 12 rows are named by API.md */
#define LIVE_N(a) (sizeof(a) / sizeof((a)[0]))

/* Length (1..4) of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), 0 when s[0] is not the start of one, and 0 for NUL. */
static inline size_t live_utf8_len(const unsigned char *s, size_t n) {
    if (n == 0 || s[0] == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        need = 2;
    else if (c == 0xe0)
        need = 3, lo = 0xa0;
    else if (c == 0xed)
        need = 3, hi = 0x9f;
    else if (c >= 0xe1 && c <= 0xef)
        need = 3;
    else if (c == 0xf0)
        need = 4, lo = 0x90;
    else if (c == 0xf4)
        need = 4, hi = 0x8f;
    else if (c >= 0xf1 && c <= 0xf3)
        need = 4;
    else
        return 0;
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return need;
}

/* What api/utf8.h promises for kernel bytes: valid sequences kept, every other byte "\xHH".
 * Returns a malloc'd NUL-terminated string. */
static inline char *live_utf8_escape(const char *s, size_t n) {
    char *out = malloc(n * 4 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t l = live_utf8_len((const unsigned char *)s + i, n - i);
        if (l) {
            memcpy(out + o, s + i, l);
            o += l, i += l;
        } else {
            o += (size_t)sprintf(out + o, "\\x%02x", (unsigned char)s[i]);
            i++;
        }
    }
    out[o] = 0;
    return out;
}
