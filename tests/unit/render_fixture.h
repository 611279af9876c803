/* render_fixture.h: hand-made snapshots for the renderer tests (test_render, test_metrics),
 * built with the snap_builder API like the collector builds real ones. */
#pragma once

#include <jansson.h>
#include <string.h>

#include "collector/builder.h"
#include "test.h"

#define KB 1024ull
#define MB (1024ull * 1024ull)

/* Unix ms of 2026-11-24T18:00:00.123Z */
#define FIXTURE_COLLECTED_AT_MS 1795543200123ull

static inline uint32_t fx_str(struct snap_builder *b, const char *s) {
    uint32_t off = 0;
    if (s && snap_builder_intern(b, s, strlen(s), &off) < 0)
        abort();
    return off;
}

static inline struct vm_process *fx_proc(struct snap_builder *b, int32_t pid, const char *comm) {
    struct vm_process *p;
    if (snap_builder_add_process(b, &p) < 0)
        abort();
    p->pid = pid;
    p->ppid = 1;
    p->starttime = 1000u + (uint64_t)pid;
    p->start_time_ms = FIXTURE_COLLECTED_AT_MS - 60000u;
    p->comm = fx_str(b, comm);
    p->state = 'S';
    p->threads = 1;
    p->address_bits = 47;
    return p;
}

static inline void fx_mem(struct vm_process *p, enum vm_mem_field f, uint64_t bytes) {
    p->memory[f] = bytes;
    p->memory_present |= 1u << f;
}

static inline void fx_rollup(struct vm_process *p, enum vm_rollup_field f, uint64_t bytes) {
    p->flags |= VM_PROC_ROLLUP;
    p->rollup[f] = bytes;
    p->rollup_present |= 1u << f;
}

static inline void fx_layout(struct vm_process *p, enum vm_layout_field f, uint64_t addr) {
    p->layout[f] = addr;
    p->layout_present |= 1u << f;
}

static inline void fx_error(struct vm_process *p, enum vm_source src, int errnum) {
    p->errors[p->nerrors].source = (uint16_t)src;
    p->errors[p->nerrors].errnum = (uint16_t)errnum;
    p->nerrors++;
}

/* A user process with the usual status lines; rss in bytes. */
static inline struct vm_process *fx_user_proc(struct snap_builder *b, int32_t pid,
                                              const char *comm, uint64_t rss) {
    struct vm_process *p = fx_proc(b, pid, comm);
    p->flags |= VM_PROC_UID | VM_PROC_MAPS;
    p->uid = 1000;
    p->user = fx_str(b, "alice");
    p->cmdline = fx_str(b, comm);
    p->cgroup = fx_str(b, "/user.slice/user-1000.slice/session-1.scope");
    fx_mem(p, VM_MEM_VM_RSS, rss);
    fx_mem(p, VM_MEM_VM_HWM, rss * 2);
    fx_mem(p, VM_MEM_VM_PEAK, rss * 4);
    fx_mem(p, VM_MEM_VM_SIZE, rss * 3);
    fx_mem(p, VM_MEM_VM_SWAP, 0);
    fx_mem(p, VM_MEM_HUGETLB, 0);
    p->observed_rss_max = rss;
    p->observed_rss_max_at_ms = FIXTURE_COLLECTED_AT_MS;
    return p;
}

static inline void fx_vma(struct snap_builder *b, struct vm_process *p, uint64_t start,
                          uint64_t end, uint8_t perms, enum vm_kind kind, const char *name,
                          bool smaps, uint32_t rss_kb) {
    struct vm_vma v = {
        .start = start,
        .end = end,
        .perms = perms,
        .kind = (uint8_t)kind,
        .name = fx_str(b, name),
    };
    if (name && strlen(name) > 10 && strcmp(name + strlen(name) - 10, " (deleted)") == 0)
        v.flags |= VM_VMA_DELETED;
    if (smaps) {
        v.flags |= VM_VMA_SMAPS;
        v.kb_present = (uint16_t)((1u << _VM_VMAF_MAX) - 1);
        v.vmflags = fx_str(b, "rd wr mr mw me ac");
        v.kernel_page_shift = 12;
        v.mmu_page_shift = 12;
        v.kb[VM_VMAF_RSS] = rss_kb;
        v.kb[VM_VMAF_PSS] = rss_kb / 2;
        v.kb[VM_VMAF_SWAP] = 4;
    }
    if (snap_builder_add_vma(b, &v) < 0)
        abort();
    p->vma_count++;
    p->vma_n++;
}

/*
 * The fixture:
 *   pid 1    systemd       root, unit init.scope, rollup, 3 VMAs (heap, stack, file), layout
 *   pid 2    kthreadd      kernel thread: no memory, VM_PROC_MAPS with 0 VMAs
 *   pid 3    kworker/0:1   kernel thread
 *   pid 100  "a) b (c\n"   rollup unreadable: errors [{smaps_rollup, EACCES}]
 *   pid 200  "\xff\xfe x"  VMAs incl. "/memfd:x (deleted)" and a VMA without smaps
 *   pid 300  back\slash "q" comm needing Prometheus escaping, unit with a quote
 *   pid 400  nostatus      status unreadable: no memory at all, errors [{status, EACCES}]
 *   pid 500  worker        same RSS as pid 501 (tie), unit app.service
 *   pid 501  worker
 */
static inline struct vm_snapshot *fixture_snapshot(void) {
    struct snap_builder *b = NULL;
    if (snap_builder_new(&b) < 0)
        abort();
    struct vm_process *p;

    /* Added out of pid order: finish() sorts. */
    p = fx_user_proc(b, 500, "worker", 50 * MB);
    p->unit = fx_str(b, "app.service");
    p->cgroup = fx_str(b, "/system.slice/app.service");
    fx_rollup(p, VM_ROLLUP_PSS, 40 * MB);
    fx_rollup(p, VM_ROLLUP_PRIVATE_CLEAN, 1 * MB);
    fx_rollup(p, VM_ROLLUP_PRIVATE_DIRTY, 10 * MB);
    fx_rollup(p, VM_ROLLUP_ANON_HUGE, 2 * MB);

    p = fx_user_proc(b, 501, "worker", 50 * MB);
    p->unit = fx_str(b, "app.service");
    p->cgroup = fx_str(b, "/system.slice/app.service");
    fx_rollup(p, VM_ROLLUP_PSS, 45 * MB);
    fx_rollup(p, VM_ROLLUP_PRIVATE_CLEAN, 1 * MB);
    fx_rollup(p, VM_ROLLUP_PRIVATE_DIRTY, 20 * MB);

    p = fx_user_proc(b, 1, "systemd", 12 * MB);
    p->uid = 0;
    p->user = fx_str(b, "root");
    p->cmdline = fx_str(b, "/sbin/init splash");
    p->cgroup = fx_str(b, "/init.scope");
    p->unit = fx_str(b, "init.scope");
    p->flags |= VM_PROC_LAYOUT | VM_PROC_TOP_DOWN;
    p->threads = 1;
    p->ppid = 0;
    fx_rollup(p, VM_ROLLUP_RSS, 12 * MB);
    fx_rollup(p, VM_ROLLUP_PSS, 8 * MB);
    fx_rollup(p, VM_ROLLUP_PRIVATE_CLEAN, 1 * MB);
    fx_rollup(p, VM_ROLLUP_PRIVATE_DIRTY, 3 * MB);
    fx_rollup(p, VM_ROLLUP_ANON_HUGE, 0);
    fx_rollup(p, VM_ROLLUP_SHMEM_PMD_MAPPED, 0);
    fx_rollup(p, VM_ROLLUP_FILE_PMD_MAPPED, 0);
    fx_layout(p, VM_LAYOUT_START_CODE, 0x55d0c0000000ull);
    fx_layout(p, VM_LAYOUT_END_CODE, 0x55d0c0100000ull);
    fx_layout(p, VM_LAYOUT_BRK, 0x55d0c2000000ull);
    fx_layout(p, VM_LAYOUT_MMAP_BASE, 0x7f0000000000ull);
    p->lowest = 0x55d0c0000000ull;
    p->highest = 0x7ffd2c200000ull;
    p->gap_count = 2;
    p->largest_gap = 0x7ffd2c1e0000ull - 0x55d0c2000000ull;
    p->smaps_at_ms = FIXTURE_COLLECTED_AT_MS;
    fx_vma(b, p, 0x55d0c0000000ull, 0x55d0c0100000ull, VM_PERM_READ | VM_PERM_EXEC,
           VM_KIND_FILE_PRIVATE, "/usr/lib/systemd/systemd", true, 800);
    fx_vma(b, p, 0x55d0c1000000ull, 0x55d0c2000000ull, VM_PERM_READ | VM_PERM_WRITE,
           VM_KIND_HEAP, "[heap]", true, 2048);
    fx_vma(b, p, 0x7ffd2c1e0000ull, 0x7ffd2c200000ull, VM_PERM_READ | VM_PERM_WRITE,
           VM_KIND_STACK, "[stack]", true, 64);
    {
        /* the heap is THP-eligible, the file dev 0xfd:0x01 inode 42 offset 0x1000 */
        struct vm_vma *v = snap_builder_vma(b, snap_builder_nvmas(b) - 2);
        v->flags |= VM_VMA_THP_ELIGIBLE;
        v = snap_builder_vma(b, snap_builder_nvmas(b) - 3);
        v->dev = (0xfdu << 20) | 0x01u;
        v->inode = 42;
        v->offset = 0x1000;
    }

    p = fx_proc(b, 2, "kthreadd");
    p->flags |= VM_PROC_KTHREAD | VM_PROC_MAPS | VM_PROC_UID;
    p->ppid = 0;
    p->cgroup = fx_str(b, "/");
    p->user = fx_str(b, "root");

    p = fx_proc(b, 3, "kworker/0:1");
    p->flags |= VM_PROC_KTHREAD | VM_PROC_MAPS | VM_PROC_UID;
    p->ppid = 2;
    p->state = 'I';
    p->cgroup = fx_str(b, "/");
    p->user = fx_str(b, "root");

    p = fx_user_proc(b, 100, "a) b (c\n", 30 * MB);
    fx_error(p, VM_SOURCE_SMAPS_ROLLUP, EACCES);

    p = fx_user_proc(b, 200, "\xff\xfe x", 20 * MB);
    p->cmdline = fx_str(b, "bad\xc0\x80 arg");
    fx_rollup(p, VM_ROLLUP_PSS, 20 * MB);
    fx_rollup(p, VM_ROLLUP_PRIVATE_CLEAN, 0);
    fx_rollup(p, VM_ROLLUP_PRIVATE_DIRTY, 5 * MB);
    fx_vma(b, p, 0x7f0000000000ull, 0x7f0000200000ull, VM_PERM_READ | VM_PERM_WRITE |
           VM_PERM_SHARED, VM_KIND_MEMFD, "/memfd:x (deleted)", true, 1024);
    fx_vma(b, p, 0x7f0000200000ull, 0x7f0000400000ull, VM_PERM_READ | VM_PERM_WRITE,
           VM_KIND_ANON, NULL, false, 0);
    fx_vma(b, p, 0x7f0000400000ull, 0x7f0000401000ull, VM_PERM_READ | VM_PERM_WRITE,
           VM_KIND_ANON, NULL, true, 4);

    p = fx_user_proc(b, 300, "back\\slash \"q\"", 10 * MB);
    p->unit = fx_str(b, "we\"ird\\.service");

    p = fx_proc(b, 400, "nostatus");
    p->cgroup = fx_str(b, "/user.slice");
    fx_error(p, VM_SOURCE_STATUS, EACCES);
    fx_error(p, VM_SOURCE_MAPS, EACCES);

    struct vm_snapshot hdr = {
        .seq = 7,
        .collected_at_ms = FIXTURE_COLLECTED_AT_MS,
        .duration_ns = 12345678,
        .cpu_ns = 2000000001,
        .deep_cpu_ns = 500,
        .scans_total = 7,
        .truncations_total = 1,
        .vanished_total = 3,
    };
    hdr.errors_total[VM_SOURCE_SMAPS_ROLLUP] = 5;
    hdr.errors_total[VM_SOURCE_STATUS] = 2;
    hdr.node.max_map_count = 65530;
    hdr.node.page_size = 4096;

    struct vm_snapshot *s = NULL;
    if (snap_builder_finish(b, &hdr, &s) < 0)
        abort();
    (void)snap_builder_free(b);
    CHECK_EQ_INT(vm_snapshot_validate(s, s->size), 0);
    return s;
}
