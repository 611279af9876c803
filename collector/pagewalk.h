/* pagewalk.h: page-walk residency of a process's VMAs, from /proc/PID/pagemap.
 *
 * Two sources: the PAGEMAP_SCAN ioctl (Linux 6.7+; one call over the whole user address space,
 * restarted only when the output vector filled up, regions joined to the VMAs in user space),
 * and plain pread() of pagemap entries over each VMA (8 bytes a page, in batches). What a source
 * cannot know stays unknown (its bit in `known` is clear): PAGEMAP_SCAN has no "exclusive"
 * category; pagemap alone cannot tell THP; soft-dirty only exists with CONFIG_MEM_SOFT_DIRTY.
 *
 * Cost: PAGEMAP_SCAN costs about one region per run of pages with equal categories. pagemap
 * costs 8 bytes per virtual page of every VMA, touched or not, so a huge sparse reservation
 * (sanitizer shadow, a JVM or Go heap reservation) is slow to read that way.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pagewalk_source { PAGEWALK_SCAN, PAGEWALK_PAGEMAP, _PAGEWALK_MAX };

enum {
    RES_PRESENT,    /* resident pages. PAGEWALK_SCAN leaves out the shared zero page (4K and
                     * huge), as smaps Rss does; PAGEWALK_PAGEMAP cannot tell it apart without
                     * PFNs and counts it. */
    RES_SWAPPED,    /* swap-type entries (true swap, also migration/hwpoison entries), guard-region
                     * markers (MADV_GUARD_INSTALL) not counted */
    RES_THP,        /* pages of PMD-mapped THP, anon or file/shmem, the huge zero page left out
                     * (hugetlb VMAs: 0); PAGEWALK_SCAN only */
    RES_SOFT_DIRTY, /* soft-dirty pages among the present or swap-type ones (pages never faulted
                     * in are not counted, though pagemap marks them in a soft-dirty VMA) */
    RES_EXCLUSIVE,  /* present pages mapped exactly once (pagemap bit 56); PAGEWALK_PAGEMAP only */
    _RES_MAX
};

/* Residency of one VMA, in base pages. */
struct pagewalk_vma {
    uint64_t start, end;      /* in: the VMA range (page aligned) */
    bool hugetlb;             /* in: a hugetlb VMA (HUGE there is not THP) */
    bool skipped;             /* out: not walked (pagemap source, VMA over
                               * VM_PAGEMAP_VMA_PAGES_MAX pages): pages[] unknown */
    uint64_t pages[_RES_MAX]; /* out */
};

struct pagewalk_ctx {
    uint32_t known;            /* out: bit per RES_* this source could measure (1u << RES_*) */
    bool soft_dirty_supported; /* in: the kernel tracks soft-dirty (a fresh VMA shows "sd") */
    uint64_t page_size;        /* in: the base page size, a power of two (4096 on x86-64) */
    void *scratch;             /* owned: reusable buffers (pagewalk_ctx_done frees them) */
    size_t scratch_len;
};

/* Walk the VMAs v[0..n) (in address order, non-overlapping, page aligned, [vsyscall] left out)
 * of the process whose pagemap file is open as fd, with the given source; fill v[i].pages and
 * ctx->known. A ctx (and its scratch buffer, at most 512 KiB, allocated on first use) is meant
 * to be reused for many processes, by one thread at a time.
 *
 * Returns 0, -ESRCH when the process exited (or exec'd since fd was opened) before the walk
 * ended (PAGEMAP_SCAN then reports nothing instead of failing, so PAGEWALK_SCAN reads one pagemap
 * entry after the walk to tell that from an empty process), -ENOTTY when PAGEMAP_SCAN is
 * not supported (kernel older than 6.7; the caller falls back to PAGEWALK_PAGEMAP), -EINVAL for
 * VMAs that break the rules above or a bad ctx, -EIO when the kernel returned data that cannot
 * be interpreted, or another -errno (-ENOMEM, -EINTR on a fatal signal, -EACCES ...). On failure
 * ctx->known is 0 and v[i].pages hold partial counts that mean nothing. */
int pagewalk_run(int fd, enum pagewalk_source source, struct pagewalk_vma *v, size_t n,
                 struct pagewalk_ctx *ctx);

/* Free the scratch buffer of ctx; ctx may be reused afterwards. Accepts NULL. */
void pagewalk_ctx_done(struct pagewalk_ctx *ctx);

/* --- the region-to-VMA join of PAGEWALK_SCAN, exposed for the unit tests -------------------- */

/* One PAGEMAP_SCAN output region. Its layout is the kernel's struct page_region (pagewalk.c
 * checks that), so the ioctl writes straight into an array of these. */
struct pagewalk_region {
    uint64_t start, end; /* page aligned, end exclusive */
    uint64_t categories; /* PAGE_IS_* (collector/kernel_abi.h) as masked by return_mask */
};

/* Joining an address-ordered stream of regions, given in one or more batches, to the VMAs. */
struct pagewalk_join {
    struct pagewalk_vma *v; /* the VMAs, in address order, non-overlapping */
    size_t n;
    uint64_t page_size;
    bool soft_dirty;        /* count RES_SOFT_DIRTY */
    size_t next_vma;        /* first VMA that can still receive pages */
    uint64_t pos;           /* end of the last region seen */
    uint64_t outside_pages; /* out: pages of regions in no VMA (VMAs mapped after maps was read) */
};

/* Start a join over v[0..n) and zero their counts. */
void pagewalk_join_init(struct pagewalk_join *j, struct pagewalk_vma *v, size_t n,
                        uint64_t page_size, bool soft_dirty);

/* Add the regions r[0..nr) to the VMAs they overlap; a region spanning several VMAs is split at
 * their boundaries, and the parts in gaps go to outside_pages. Categories are counted as
 * follows: present = PRESENT && !PFNZERO; swapped = SWAPPED && !GUARD; thp = HUGE && PRESENT &&
 * !PFNZERO in a VMA that is not hugetlb; soft_dirty = SOFT_DIRTY (when j->soft_dirty).
 * Returns 0, or -EINVAL when a region is empty, not page aligned, or starts before the end of
 * the previous one (the kernel returns them in address order); the regions of the batch before
 * the bad one have been counted then. */
int pagewalk_join_add(struct pagewalk_join *j, const struct pagewalk_region *r, size_t nr);
