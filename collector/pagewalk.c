/* pagewalk.c: residency of each VMA of one process from /proc/PID/pagemap, by the PAGEMAP_SCAN
 * ioctl (whole address space, regions joined to the VMAs here) or by pread() of its entries.
 *
 * Kernel behaviour this relies on (kernel-interfaces.md sections 5, 6, 11.3 and 13):
 *   - PAGEMAP_SCAN returns the number of regions written. When it is below vec_len the walk is
 *     complete, whatever walk_end says: on 6.18 walk_end is stale after a complete walk that
 *     returned more than 512 regions. Only a full vector means "resume", from the later of
 *     walk_end and the end of the last region, so nothing is counted twice.
 *   - The zero page (4K or huge) is PRESENT|PFNZERO; a guard-region marker is SWAPPED|GUARD in
 *     the ioctl and bit 62 plus bit 58 in pagemap.
 *   - A pagemap fd of a process that exited, or exec'd since the open, reads 0 bytes. The ioctl
 *     does NOT fail then (6.18, verified): it does not take a reference on the mm, walks an
 *     address space exit_mmap() already emptied and returns 0 regions, as for a process with
 *     nothing resident. So after the walk one entry is read: when that read still returns data
 *     the mm was alive during the whole walk (mm_users never comes back from 0).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "collector/kernel_abi.h"
#include "collector/pagewalk.h"
#include "vmatlas/limits.h"

/* Regions per PAGEMAP_SCAN call (24 bytes each: 96 KiB). A process needs more than one call
 * only when its residency is fragmented into more runs than this. */
/* pagemap entries per pread() (8 bytes each: 512 KiB, 256 MiB of address space). */

_Static_assert(sizeof(struct pagewalk_region) == sizeof(struct page_region), "page_region");
_Static_assert(offsetof(struct pagewalk_region, start) == offsetof(struct page_region, start),
               "page_region.start");
_Static_assert(offsetof(struct pagewalk_region, end) == offsetof(struct page_region, end),
               "page_region.end");
_Static_assert(offsetof(struct pagewalk_region, categories) ==
                   offsetof(struct page_region, categories),
               "page_region.categories");

#define BIT(r) (1u << (r))

void pagewalk_join_init(struct pagewalk_join *j, struct pagewalk_vma *v, size_t n,
                        uint64_t page_size, bool soft_dirty) {
    *j = (struct pagewalk_join){.v = v, .n = n, .page_size = page_size, .soft_dirty = soft_dirty};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < _RES_MAX; k++)
            v[i].pages[k] = 0;
}

/* Add `pages` pages with the categories c to the counts of the VMA. */
static void join_count(const struct pagewalk_join *j, struct pagewalk_vma *vma, uint64_t c,
                       uint64_t pages) {
    bool present = (c & PAGE_IS_PRESENT) && !(c & PAGE_IS_PFNZERO);
    if (present)
        vma->pages[RES_PRESENT] += pages;
    if ((c & PAGE_IS_SWAPPED) && !(c & PAGE_IS_GUARD))
        vma->pages[RES_SWAPPED] += pages;
    /* HUGE is PMD-mapped THP or hugetlb; the huge zero page is HUGE|PRESENT|PFNZERO and is no
     * THP to smaps (AnonHugePages) either. */
    if (present && (c & PAGE_IS_HUGE) && !vma->hugetlb)
        vma->pages[RES_THP] += pages;
    if (j->soft_dirty && (c & PAGE_IS_SOFT_DIRTY))
        vma->pages[RES_SOFT_DIRTY] += pages;
}

int pagewalk_join_add(struct pagewalk_join *j, const struct pagewalk_region *r, size_t nr) {
    uint64_t mask = j->page_size - 1;
    for (size_t i = 0; i < nr; i++) {
        uint64_t a = r[i].start, end = r[i].end;
        if (a >= end || (a & mask) || (end & mask) || a < j->pos)
            return -EINVAL;
        j->pos = end;
        while (a < end) {
            /* VMAs wholly below a cannot get pages any more: regions come in address order */
            while (j->next_vma < j->n && j->v[j->next_vma].end <= a)
                j->next_vma++;
            if (j->next_vma == j->n) {
                j->outside_pages += (end - a) / j->page_size;
                break;
            }
            struct pagewalk_vma *vma = &j->v[j->next_vma];
            if (a < vma->start) {
                uint64_t b = end < vma->start ? end : vma->start;
                j->outside_pages += (b - a) / j->page_size;
                a = b;
                continue;
            }
            uint64_t b = end < vma->end ? end : vma->end;
            join_count(j, vma, r[i].categories, (b - a) / j->page_size);
            a = b;
        }
    }
    return 0;
}

/* ctx->scratch as a buffer of at least len bytes, grown (never shrunk) when needed. */
static int scratch_get(struct pagewalk_ctx *ctx, size_t len, void **ret) {
    if (!ctx->scratch || ctx->scratch_len < len) {
        void *p = malloc(len);
        if (!p)
            return -ENOMEM;
        free(ctx->scratch);
        ctx->scratch = p;
        ctx->scratch_len = len;
    }
    *ret = ctx->scratch;
    return 0;
}

/* The VMA rules of pagewalk_run. Ends above the largest x86-64 TASK_SIZE can only be
 * [vsyscall], which the caller must leave out (PAGEMAP_SCAN fails with EFAULT there). */
static int check_vmas(const struct pagewalk_vma *v, size_t n, uint64_t page_size) {
    uint64_t mask = page_size - 1, prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].start >= v[i].end || (v[i].start & mask) || (v[i].end & mask) ||
            v[i].start < prev_end || v[i].end > TASK_SIZE_56)
            return -EINVAL;
        prev_end = v[i].end;
    }
    return 0;
}

/* 0 while the mm of the pagemap fd is alive, -ESRCH once it is gone (pagemap_read returns 0
 * bytes when it cannot take a reference on the mm). page: any page of the address space. */
static int check_alive(int fd, uint64_t page) {
    uint64_t entry;
    ssize_t got = pread(fd, &entry, sizeof(entry), (off_t)(page * sizeof(entry)));
    if (got < 0)
        return -errno;
    return got == 0 ? -ESRCH : 0;
}

static int walk_scan(int fd, struct pagewalk_vma *v, size_t n, struct pagewalk_ctx *ctx) {
    struct pagewalk_region *vec;
    int r = scratch_get(ctx, VM_PAGEMAP_SCAN_VEC * sizeof(*vec), (void **)&vec);
    if (r < 0)
        return r;

    struct pagewalk_join j;
    pagewalk_join_init(&j, v, n, ctx->page_size, ctx->soft_dirty_supported);
    if (n == 0)
        return 0;

    uint64_t want = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE | PAGE_IS_PFNZERO |
                    PAGE_IS_GUARD | (ctx->soft_dirty_supported ? PAGE_IS_SOFT_DIRTY : 0);
    uint64_t cur = v[0].start, end = v[n - 1].end;
    bool first = true;
    while (cur < end) {
        struct pm_scan_arg arg = {
            .size = sizeof(arg),
            .start = cur,
            .end = end,
            .vec = (uint64_t)(uintptr_t)vec,
            .vec_len = VM_PAGEMAP_SCAN_VEC,
            .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
            .return_mask = want,
        };
        long got = ioctl(fd, PAGEMAP_SCAN, &arg);
        if (got < 0 && first && errno == EINVAL && (want & PAGE_IS_GUARD)) {
            /* Kernels from 6.7 until PAGE_IS_GUARD was added (2025, close to pagemap's bit 58
             * and after guard regions themselves, 6.13) reject the bit with EINVAL. There no
             * source tells a guard marker from swap, so the ioctl without it is as exact as
             * the pagemap fallback would be; and a second EINVAL still means -ENOTTY. */
            want &= ~PAGE_IS_GUARD;
            continue;
        }
        if (got < 0) {
            int e = errno;
            if (first && (e == ENOTTY || e == EINVAL))
                return -ENOTTY;
            return -e;
        }
        first = false;
        if ((uint64_t)got > VM_PAGEMAP_SCAN_VEC)
            return -EIO;
        r = pagewalk_join_add(&j, vec, (size_t)got);
        if (r < 0)
            return -EIO;
        if ((uint64_t)got < VM_PAGEMAP_SCAN_VEC)
            break; /* complete: walk_end may be stale (see the top of the file) */
        uint64_t next = arg.walk_end > vec[got - 1].end ? arg.walk_end : vec[got - 1].end;
        if (next <= cur)
            return -EIO; /* cannot happen: the last region ends above cur */
        cur = next;
    }
    return check_alive(fd, v[0].start / ctx->page_size);
}

static int walk_pagemap(int fd, struct pagewalk_vma *v, size_t n, struct pagewalk_ctx *ctx) {
    uint64_t *buf;
    int r = scratch_get(ctx, VM_PAGEMAP_BATCH * sizeof(*buf), (void **)&buf);
    if (r < 0)
        return r;

    uint64_t sd = ctx->soft_dirty_supported ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t present = 0, swapped = 0, exclusive = 0, soft_dirty = 0;
        uint64_t page = v[i].start / ctx->page_size, last = v[i].end / ctx->page_size;
        v[i].skipped = last - page > VM_PAGEMAP_VMA_PAGES_MAX;
        if (v[i].skipped) {
            memset(v[i].pages, 0, sizeof(v[i].pages));
            continue;
        }
        while (page < last) {
            uint64_t want =
                last - page < VM_PAGEMAP_BATCH ? last - page : VM_PAGEMAP_BATCH;
            ssize_t got = pread(fd, buf, (size_t)want * sizeof(*buf), (off_t)(page * sizeof(*buf)));
            if (got < 0)
                return -errno;
            if (got == 0)
                return -ESRCH; /* the mm is gone (exit or exec): the kernel reads nothing */
            if ((size_t)got % sizeof(*buf) || (size_t)got > want * sizeof(*buf))
                return -EIO;
            size_t k = (size_t)got / sizeof(*buf);
            for (size_t e = 0; e < k; e++) {
                uint64_t x = buf[e];
                uint64_t p = x >> 63, s = (x >> 62) & 1;
                present += p;
                swapped += s & ~(x >> 58) & 1; /* bit 58: guard-region marker, not swap */
                exclusive += p & (x >> 56) & 1;
                soft_dirty += sd & (p | s) & (x >> 55);
            }
            page += k;
        }
        v[i].pages[RES_PRESENT] = present;
        v[i].pages[RES_SWAPPED] = swapped;
        v[i].pages[RES_THP] = 0;
        v[i].pages[RES_SOFT_DIRTY] = soft_dirty;
        v[i].pages[RES_EXCLUSIVE] = exclusive;
    }
    return 0;
}

int pagewalk_run(int fd, enum pagewalk_source source, struct pagewalk_vma *v, size_t n,
                 struct pagewalk_ctx *ctx) {
    ctx->known = 0;
    uint64_t ps = ctx->page_size;
    if (ps == 0 || (ps & (ps - 1)) || fd < 0 || (n > 0 && !v))
        return -EINVAL;
    int r = check_vmas(v, n, ps);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        v[i].skipped = false;

    uint32_t known;
    switch (source) {
    case PAGEWALK_SCAN:
        r = walk_scan(fd, v, n, ctx);
        known = BIT(RES_PRESENT) | BIT(RES_SWAPPED) | BIT(RES_THP);
        break;
    case PAGEWALK_PAGEMAP:
        r = walk_pagemap(fd, v, n, ctx);
        known = BIT(RES_PRESENT) | BIT(RES_SWAPPED) | BIT(RES_EXCLUSIVE);
        break;
    default:
        return -EINVAL;
    }
    if (r < 0)
        return r;
    if (ctx->soft_dirty_supported)
        known |= BIT(RES_SOFT_DIRTY);
    ctx->known = known;
    return 0;
}

void pagewalk_ctx_done(struct pagewalk_ctx *ctx) {
    if (!ctx)
        return;
    free(ctx->scratch);
    ctx->scratch = NULL;
    ctx->scratch_len = 0;
}
