/* node.c: host facts (<procfs>/sys, <procfs>/stat, <sysfs>/kernel/mm) and capability probes. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collector/kernel_abi.h"
#include "collector/node.h"
#include "collector/parse.h"
#include "collector/readfile.h"
#include "vmatlas/macros.h"
#include "vmatlas/snapshot.h"

/* "btime N" line of <procfs>/stat. */
static int read_btime(int procfd, uint64_t *ret) {
    char buf[16384];
    size_t len;
    int r = read_file_at(procfd, "stat", buf, sizeof(buf), &len, NULL);
    if (r < 0)
        return r;
    for (size_t pos = 0; pos < len;) {
        const char *line;
        size_t n;
        if (next_field(buf, len, &pos, '\n', &line, &n) < 0)
            break;
        if (n > 6 && memcmp(line, "btime ", 6) == 0)
            return parse_u64(line + 6, n - 6, ret);
    }
    return -ENODATA;
}

/* 56 when the CPU has la57 (5-level paging), else 47. Looks only at the first "flags" line. */
static uint8_t probe_address_bits(int procfd) {
    char buf[65536];
    size_t len;
    if (read_file_at(procfd, "cpuinfo", buf, sizeof(buf), &len, NULL) < 0)
        return 47;
    for (size_t pos = 0; pos < len;) {
        const char *line;
        size_t n;
        if (next_field(buf, len, &pos, '\n', &line, &n) < 0)
            break;
        if (n < 6 || memcmp(line, "flags", 5) != 0)
            continue;
        for (size_t i = 0; i + 5 <= n; i++)
            if (memcmp(line + i, " la57", 5) == 0 && (i + 5 == n || line[i + 5] == ' '))
                return 56;
        break;
    }
    return 47;
}

static bool probe_pagemap_scan(int procfd) {
    _cleanup_close_ int fd = openat(procfd, "self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct page_region region;
    struct pm_scan_arg arg = {
        .size = sizeof(arg),
        .start = (uintptr_t)&region & ~(uintptr_t)4095,
        .vec = (uintptr_t)&region,
        .vec_len = 1,
        .category_anyof_mask = PAGE_IS_PRESENT,
        .return_mask = PAGE_IS_PRESENT,
    };
    arg.end = arg.start + 4096;
    return ioctl(fd, PAGEMAP_SCAN, &arg) >= 0;
}

static bool probe_procmap_query(int procfd) {
    _cleanup_close_ int fd = openat(procfd, "self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct procmap_query q = {
        .size = sizeof(q),
        .query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
    };
    return ioctl(fd, PROCMAP_QUERY, &q) == 0 && q.vma_end > q.vma_start;
}

/* The pagemap entry of one of our own resident pages carries its PFN only with
 * CAP_SYS_ADMIN; without it the PFN bits read as zero. */
static bool probe_pfn_visible(int procfd, uint32_t page_size) {
    _cleanup_close_ int fd = openat(procfd, "self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    volatile char *page = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return false;
    page[0] = 1; /* fault it in */
    uint64_t entry = 0;
    off_t off = (off_t)((uintptr_t)page / page_size * 8);
    ssize_t r = pread(fd, &entry, sizeof(entry), off);
    (void)munmap((void *)page, page_size);
    return r == (ssize_t)sizeof(entry) && (entry & PM_PRESENT) && (entry & PM_PFN_MASK);
}

static bool probe_readable(int dirfd, const char *path, size_t bytes) {
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    char buf[64];
    return fd >= 0 && read(fd, buf, bytes) == (ssize_t)bytes;
}

/* Soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY) marks every new VMA VM_SOFTDIRTY, shown as
 * "sd" in VmFlags; without it the flag never appears. Looks at our own smaps. */
static bool probe_soft_dirty(int procfd) {
    _cleanup_close_ int fd = openat(procfd, "self/smaps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[4096];
    struct line_reader lr;
    const char *line;
    size_t len;
    line_reader_init(&lr, fd, buf, sizeof(buf));
    while (line_reader_next(&lr, &line, &len) > 0) {
        if (len < 8 || memcmp(line, "VmFlags:", 8) != 0)
            continue;
        for (size_t i = 8; i + 3 <= len; i++)
            if (line[i] == ' ' && line[i + 1] == 's' && line[i + 2] == 'd' &&
                (i + 3 == len || line[i + 3] == ' '))
                return true;
    }
    return false;
}

static bool exists_at(int dirfd, const char *path) {
    return faccessat(dirfd, path, F_OK, 0) == 0;
}

int node_probe(int procfd, int sysfd, struct node_facts *ret) {
    struct node_facts n = {0};
    int r = read_btime(procfd, &n.btime);
    if (r < 0)
        return r;
    long ps = sysconf(_SC_PAGESIZE), tck = sysconf(_SC_CLK_TCK);
    n.page_size = ps > 0 ? (uint32_t)ps : 4096;
    n.clk_tck = tck > 0 ? (uint32_t)tck : 100;
    n.address_bits = probe_address_bits(procfd);
    if (probe_pagemap_scan(procfd))
        n.caps |= 1u << VM_CAP_PAGEMAP_SCAN;
    if (probe_procmap_query(procfd))
        n.caps |= 1u << VM_CAP_PROCMAP_QUERY;
    if (probe_pfn_visible(procfd, n.page_size))
        n.caps |= 1u << VM_CAP_PFN_VISIBLE;
    if (probe_readable(procfd, "kpageflags", 8))
        n.caps |= 1u << VM_CAP_KPAGEFLAGS;
    if (probe_readable(procfd, "self/smaps_rollup", 32))
        n.caps |= 1u << VM_CAP_SMAPS_ROLLUP;
    if (probe_soft_dirty(procfd))
        n.caps |= 1u << VM_CAP_SOFT_DIRTY;
    /* A pure cgroup v2 host has cgroup.controllers at the top of /sys/fs/cgroup. */
    if (exists_at(sysfd, "fs/cgroup/cgroup.controllers"))
        n.caps |= 1u << VM_CAP_CGROUP_V2;
    /* The kernel keeps a cgroup memory peak: memory.peak (v2, 5.19+) or the v1 counterpart. */
    if (exists_at(sysfd, "fs/cgroup/system.slice/memory.peak") ||
        exists_at(sysfd, "fs/cgroup/init.scope/memory.peak") ||
        exists_at(sysfd, "fs/cgroup/memory/memory.max_usage_in_bytes"))
        n.caps |= 1u << VM_CAP_MEMORY_PEAK;
    node_refresh(procfd, sysfd, &n);
    *ret = n;
    return 0;
}

void node_refresh(int procfd, int sysfd, struct node_facts *n) {
    int64_t v;
    if (read_line_at(procfd, "sys/kernel/hostname", n->hostname, sizeof(n->hostname)) < 0)
        n->hostname[0] = '\0';
    if (read_line_at(procfd, "sys/kernel/random/boot_id", n->boot_id, sizeof(n->boot_id)) < 0)
        n->boot_id[0] = '\0';
    if (read_line_at(procfd, "sys/kernel/osrelease", n->kernel, sizeof(n->kernel)) < 0)
        n->kernel[0] = '\0';
    if (read_mode_at(sysfd, "kernel/mm/transparent_hugepage/enabled", n->thp_enabled,
                     sizeof(n->thp_enabled)) < 0)
        n->thp_enabled[0] = '\0';
    n->legacy_va_layout =
        read_int_at(procfd, "sys/vm/legacy_va_layout", &v) == 0 && v >= 0 && v < 128 ? (int8_t)v
                                                                                    : -1;
    n->randomize_va_space =
        read_int_at(procfd, "sys/kernel/randomize_va_space", &v) == 0 && v >= 0 && v < 128
            ? (int8_t)v
            : -1;
    n->max_map_count = read_int_at(procfd, "sys/vm/max_map_count", &v) == 0 && v >= 0 ? v : -1;
}
