/* kernel_abi.h: kernel interfaces newer than the build host's headers (linux-libc-dev 6.1).
 * Values checked against the running 6.18 kernel (kernel-interfaces.md section 12). */
#pragma once

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef PAGEMAP_SCAN
struct page_region {
    __u64 start, end, categories;
};
struct pm_scan_arg {
    __u64 size, flags, start, end, walk_end, vec, vec_len, max_pages;
    __u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WPALLOWED (1ULL << 0)
#define PAGE_IS_WRITTEN (1ULL << 1)
#define PAGE_IS_FILE (1ULL << 2)
#define PAGE_IS_PRESENT (1ULL << 3)
#define PAGE_IS_SWAPPED (1ULL << 4)
#define PAGE_IS_PFNZERO (1ULL << 5)
#define PAGE_IS_HUGE (1ULL << 6)
#define PAGE_IS_SOFT_DIRTY (1ULL << 7)
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD (1ULL << 8)
#endif

#ifndef PROCMAP_QUERY
struct procmap_query {
    __u64 size, query_flags, query_addr;
    __u64 vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    __u32 dev_major, dev_minor, vma_name_size, build_id_size;
    __u64 vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_VMA_SHARED 0x08
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#define PROCMAP_QUERY_FILE_BACKED_VMA 0x20
#endif

_Static_assert(sizeof(struct pm_scan_arg) == 96, "pm_scan_arg");
_Static_assert(sizeof(struct page_region) == 24, "page_region");
_Static_assert(sizeof(struct procmap_query) == 104, "procmap_query");

/* pagemap entry bits */
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_MMAP_EXCLUSIVE (1ULL << 56)
#define PM_GUARD_REGION (1ULL << 58)
#define PM_FILE (1ULL << 61)
#define PM_SWAP (1ULL << 62)
#define PM_PRESENT (1ULL << 63)

/* x86-64 user address space limits. */
#define TASK_SIZE_47 0x00007ffffffff000ULL
#define TASK_SIZE_56 0x00fffffffffff000ULL

/* personality(2) bits. */
#define PERSONA_ADDR_COMPAT_LAYOUT 0x0200000u
