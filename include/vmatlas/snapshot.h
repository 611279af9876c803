/* snapshot.h: the immutable snapshot model, the contract between collector/ and api/.
 *
 * A snapshot is ONE allocation: a header followed by the process array, the VMA array, the
 * array of pids the per-VMA tier visited, and a string table. Everything inside refers to
 * everything else by offset or index, never by pointer, so the block can be copied whole into
 * another process (privilege separation) or onto disk and read back unchanged. The block is
 * read-only once published; only the reference count in the header changes.
 *
 * Strings are NUL-terminated byte strings exactly as the kernel printed them (they may hold
 * invalid UTF-8; renderers escape). String offset 0 is the empty string and means "none".
 * Presence is tracked with bitmasks: a missing field is absent, never 0.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/fields.h"
#include "vmatlas/limits.h"

#define VM_SNAPSHOT_MAGIC 0x564d41544c415331ull /* "VMATLAS1" */
#define VM_SNAPSHOT_VERSION 2u

/* VMA kinds, as API.md defines them. */
#define VM_KINDS(X)                                                                                \
    X(HEAP, "heap")                                                                                \
    X(STACK, "stack")                                                                              \
    X(VDSO, "vdso")                                                                                \
    X(VVAR, "vvar")                                                                                \
    X(VSYSCALL, "vsyscall")                                                                        \
    X(ANON, "anon")                                                                                \
    X(ANON_SHARED, "anon_shared")                                                                  \
    X(FILE_PRIVATE, "file_private")                                                                \
    X(FILE_SHARED, "file_shared")                                                                  \
    X(HUGETLB, "hugetlb")                                                                          \
    X(SYSV_SHM, "sysv_shm")                                                                        \
    X(MEMFD, "memfd")                                                                              \
    X(SOCKET, "socket")                                                                            \
    X(DEVICE, "device")                                                                            \
    X(OTHER, "other")
#define VM__ENUM_KIND(e, n) VM_KIND_##e,
enum vm_kind { VM_KINDS(VM__ENUM_KIND) _VM_KIND_MAX, _VM_KIND_INVALID = -EINVAL };

/* Where a per-process error came from: the file (or probe) named in `errors`. */
#define VM_SOURCES(X)                                                                              \
    X(STAT, "stat")                                                                                \
    X(STATUS, "status")                                                                            \
    X(CMDLINE, "cmdline")                                                                          \
    X(CGROUP, "cgroup")                                                                            \
    X(MAPS, "maps")                                                                                \
    X(SMAPS_ROLLUP, "smaps_rollup")                                                                \
    X(SMAPS, "smaps")                                                                              \
    X(PERSONALITY, "personality")                                                                  \
    X(PAGEMAP, "pagemap")
#define VM__ENUM_SOURCE(e, n) VM_SOURCE_##e,
enum vm_source { VM_SOURCES(VM__ENUM_SOURCE) _VM_SOURCE_MAX, _VM_SOURCE_INVALID = -EINVAL };

/* Interfaces probed at start (node `capabilities`). */
#define VM_CAPS(X)                                                                                 \
    X(PAGEMAP_SCAN, "pagemap_scan")                                                                \
    X(PROCMAP_QUERY, "procmap_query")                                                              \
    X(PFN_VISIBLE, "pfn_visible")                                                                  \
    X(KPAGEFLAGS, "kpageflags")                                                                    \
    X(SMAPS_ROLLUP, "smaps_rollup")                                                                \
    X(CGROUP_V2, "cgroup_v2")                                                                      \
    X(MEMORY_PEAK, "memory_peak")                                                                  \
    X(SOFT_DIRTY, "soft_dirty")                                                                    \
    X(TASKSTATS, "taskstats")
#define VM__ENUM_CAP(e, n) VM_CAP_##e,
enum vm_cap { VM_CAPS(VM__ENUM_CAP) _VM_CAP_MAX, _VM_CAP_INVALID = -EINVAL };

/* Where residency figures come from (API.md "residency.source"). */
#define VM_RES_SOURCES(X)                                                                          \
    X(NONE, "none")                                                                                \
    X(PAGEMAP_SCAN, "pagemap_scan")                                                                \
    X(PAGEMAP, "pagemap")                                                                          \
    X(SMAPS, "smaps")
#define VM__ENUM_RES_SOURCE(e, n) VM_RES_##e,
enum vm_res_source { VM_RES_SOURCES(VM__ENUM_RES_SOURCE) _VM_RES_SOURCE_MAX,
                     _VM_RES_SOURCE_INVALID = -EINVAL };

/* Page-walk residency figures (struct vm_vma.res_pages), in base pages. */
#define VM_RES_FIELDS(X)                                                                           \
    X(PRESENT, "present")                                                                          \
    X(SWAPPED, "swapped")                                                                          \
    X(THP, "thp")                                                                                  \
    X(SOFT_DIRTY, "soft_dirty")                                                                    \
    X(EXCLUSIVE, "exclusive")
#define VM__ENUM_RES(e, n) VM_RES_F_##e,
enum vm_res_field { VM_RES_FIELDS(VM__ENUM_RES) _VM_RES_MAX, _VM_RES_INVALID = -EINVAL };

/* maps permission bits (struct vm_vma.perms). */
enum {
    VM_PERM_READ = 1u << 0,
    VM_PERM_WRITE = 1u << 1,
    VM_PERM_EXEC = 1u << 2,
    VM_PERM_SHARED = 1u << 3, /* 's' (VM_MAYSHARE), else 'p' */
};

/* struct vm_vma.flags */
enum {
    VM_VMA_DELETED = 1u << 0,      /* name ends in " (deleted)" */
    VM_VMA_SMAPS = 1u << 1,        /* smaps figures below are valid (per-VMA tier visited) */
    VM_VMA_THP_ELIGIBLE = 1u << 2, /* smaps THPeligible: 1 (valid with VM_VMA_SMAPS) */
};

/* One VMA: a line of /proc/PID/maps plus, once the per-VMA tier has read smaps, its figures.
 * 144 bytes; names and VmFlags strings are interned in the string table. */
struct vm_vma {
    uint64_t start;  /* maps START */
    uint64_t end;    /* maps END, exclusive */
    uint64_t offset; /* maps OFFSET: file offset in bytes */
    uint64_t inode;  /* maps INODE (SysV: the shmid) */
    uint32_t name;   /* string: maps NAME as printed, 0 = nameless */
    uint32_t vmflags; /* string: smaps VmFlags codes, space separated; 0 = unknown */
    uint32_t dev;     /* maps MAJ:MIN as (major << 20) | minor */
    uint16_t kb_present; /* bit per enum vm_vma_field: kb[] entries smaps printed */
    uint8_t perms;    /* VM_PERM_* */
    uint8_t kind;     /* enum vm_kind */
    uint8_t flags;    /* VM_VMA_* */
    uint8_t kernel_page_shift; /* smaps KernelPageSize as log2(bytes); 0 = unknown */
    uint8_t mmu_page_shift;    /* smaps MMUPageSize as log2(bytes); 0 = unknown */
    uint8_t res_source;        /* enum vm_res_source of res_pages[]; VM_RES_NONE until walked */
    uint8_t res_known;         /* bit per enum vm_res_field the source could measure */
    uint8_t reserved[3];
    uint32_t kb[_VM_VMAF_MAX]; /* smaps figures in kB (as printed), enum vm_vma_field */
    uint32_t res_pages[_VM_RES_MAX]; /* page-walk residency in base pages (saturating) */
};

_Static_assert(sizeof(struct vm_vma) == 144, "struct vm_vma is 144 bytes");

#define VM_DEV_MAJOR(d) ((uint32_t)(d) >> 20)
#define VM_DEV_MINOR(d) ((uint32_t)(d) & 0xfffffu)

struct vm_error {
    uint16_t source; /* enum vm_source */
    uint16_t errnum; /* positive errno */
};

/* struct vm_process.flags */
enum {
    VM_PROC_KTHREAD = 1u << 0,    /* no address space (status Kthread: 1, or PF_KTHREAD) */
    VM_PROC_UID = 1u << 1,        /* uid valid */
    VM_PROC_ROLLUP = 1u << 2,     /* smaps_rollup was read (rollup/rollup_present valid) */
    VM_PROC_MAPS = 1u << 3,       /* maps was read (vma_count and the VMA list valid) */
    VM_PROC_TOP_DOWN = 1u << 4,   /* mmap grows down from mmap_base */
    VM_PROC_LAYOUT = 1u << 5,     /* lowest/highest/gaps valid (there is at least one VMA) */
    VM_PROC_VMAS_CUT = 1u << 6,   /* more VMAs than VM_VMAS_PER_PID_MAX: list truncated */
    VM_PROC_CMDLINE_CUT = 1u << 7, /* cmdline longer than VM_CMDLINE_MAX */
    VM_PROC_LAST_HWM = 1u << 8,    /* last_vm_hwm valid */
    VM_PROC_LAST_PEAK = 1u << 9    /* last_vm_peak valid */
};

/* One thread-group leader. Field sources are named per field. */
struct vm_process {
    int32_t pid;            /* stat 1 */
    int32_t ppid;           /* stat 4 */
    uint32_t uid;           /* status Uid: effective uid (as ps USER), valid with VM_PROC_UID */
    uint32_t threads;       /* stat 20 num_threads */
    uint64_t starttime;     /* stat 22, clock ticks since boot */
    uint64_t start_time_ms; /* Unix ms: btime * 1000 + starttime * 1000 / CLK_TCK */
    uint32_t comm;          /* string: stat 2, between the first '(' and the last ')' */
    uint32_t cmdline;       /* string: /proc/PID/cmdline, NULs as spaces */
    uint32_t user;          /* string: user name of uid, 0 if unknown */
    uint32_t cgroup;        /* string: cgroup path (v2 line, else name=systemd) */
    uint32_t unit;          /* string: systemd unit from the cgroup path, 0 if none */
    uint32_t flags;         /* VM_PROC_* */
    char state;             /* stat 3 */
    uint8_t address_bits;   /* 47 or 56 */
    uint8_t nerrors;        /* entries used in errors[] */
    uint8_t res_source;     /* enum vm_res_source of the last page walk; VM_RES_NONE if none */
    uint32_t vma_count;     /* lines of maps, [vsyscall] included */
    uint32_t vma_first;     /* index of the first VMA in the snapshot's VMA array */
    uint32_t vma_n;         /* VMAs stored (== vma_count unless VM_PROC_VMAS_CUT) */
    uint32_t gap_count;     /* gaps between consecutive user VMAs */
    uint32_t memory_present; /* bit per enum vm_mem_field */
    uint32_t rollup_present; /* bit per enum vm_rollup_field */
    uint32_t layout_present; /* bit per enum vm_layout_field */
    uint64_t memory[_VM_MEM_MAX];    /* status, bytes */
    uint64_t rollup[_VM_ROLLUP_MAX]; /* smaps_rollup, bytes */
    uint64_t layout[_VM_LAYOUT_MAX]; /* addresses */
    uint64_t lowest, highest;        /* first start / last end, [vsyscall] left out */
    uint64_t largest_gap;            /* bytes */
    uint64_t observed_rss_max;       /* largest VmRSS this daemon saw for this identity */
    uint64_t observed_rss_max_at_ms; /* Unix ms of the snapshot that saw it */
    uint64_t smaps_at_ms;            /* Unix ms the per-VMA tier last read smaps; 0 = never */
    uint64_t res_at_ms;              /* Unix ms of the last page walk (res_source); 0 = never */
    uint64_t last_vm_hwm;            /* VmHWM as last seen (kept while a zombie has none) */
    uint64_t last_vm_peak;           /* VmPeak as last seen */
    struct vm_error errors[VM_PROC_ERRORS_MAX];
};

struct vm_node {
    uint32_t hostname;       /* string: <procfs>/sys/kernel/hostname */
    uint32_t boot_id;        /* string: <procfs>/sys/kernel/random/boot_id */
    uint32_t kernel;         /* string: <procfs>/sys/kernel/osrelease */
    uint32_t thp_enabled;    /* string: bracketed word of <sysfs>/kernel/mm/transparent_hugepage/enabled */
    uint32_t page_size;      /* bytes */
    uint32_t clk_tck;        /* sysconf(_SC_CLK_TCK) */
    uint8_t address_bits;    /* 47, or 56 with la57 */
    int8_t legacy_va_layout; /* vm.legacy_va_layout, -1 unknown */
    int8_t randomize_va_space; /* kernel.randomize_va_space, -1 unknown */
    uint8_t walk_source;       /* enum vm_res_source the per-VMA tier walks with (NONE: smaps) */
    uint32_t caps;           /* bit per enum vm_cap */
    int64_t max_map_count;   /* vm.max_map_count, -1 unknown */
    uint64_t btime;          /* /proc/stat btime, Unix seconds */
};

/* One hugetlb pool: <sysfs>/kernel/mm/hugepages/hugepages-<size>kB (numa_node -1, the global
 * pool) or <sysfs>/devices/system/node/node<N>/hugepages/hugepages-<size>kB. */
#define VM_UNKNOWN UINT64_MAX /* a pool counter the kernel does not keep there */
struct vm_hugepool {
    uint64_t size_bytes;
    int32_t numa_node; /* -1: the global pool */
    uint32_t reserved0;
    uint64_t total;    /* nr_hugepages */
    uint64_t free;     /* free_hugepages */
    uint64_t reserved; /* resv_hugepages (global pool only; VM_UNKNOWN per node) */
    uint64_t surplus;  /* surplus_hugepages */
};

/* Transparent hugepages: the sysfs modes and the bytes in use from <procfs>/meminfo. */
enum { VM_THP_ANON, VM_THP_SHMEM, VM_THP_FILE, _VM_THP_MAX };
struct vm_thp {
    uint32_t enabled;       /* string: bracketed word of transparent_hugepage/enabled */
    uint32_t defrag;        /* string: ... /defrag */
    uint32_t shmem_enabled; /* string: ... /shmem_enabled */
    uint32_t present;       /* bit per VM_THP_*: the meminfo line was there */
    uint64_t bytes[_VM_THP_MAX]; /* AnonHugePages, ShmemHugePages, FileHugePages */
};

/* High-water groups (API.md /api/v1/hiwater): one table per way of grouping. */
#define VM_GROUP_BYS(X)                                                                            \
    X(COMM, "comm")                                                                                \
    X(UNIT, "unit")                                                                                \
    X(CGROUP, "cgroup")                                                                            \
    X(USER, "user")                                                                                \
    X(NONE, "none")
#define VM__ENUM_GROUP(e, n) VM_GROUP_##e,
enum vm_group_by { VM_GROUP_BYS(VM__ENUM_GROUP) _VM_GROUP_MAX, _VM_GROUP_INVALID = -EINVAL };

/* The cgroup's own memory high-water mark (group_by=cgroup), bytes. */
enum vm_memory_peak_src {
    VM_MEMORY_PEAK_NONE,   /* not kept, or not readable */
    VM_MEMORY_PEAK_V2,     /* cgroup v2 memory.peak */
    VM_MEMORY_PEAK_V1,     /* cgroup v1 memory.max_usage_in_bytes */
    _VM_MEMORY_PEAK_MAX,
};

/* A group of processes and its peaks. Groups stay after their last member exits, so their
 * peaks and exit counts survive (bounded: VM_GROUPS_PER_BY_MAX per way of grouping). */
struct vm_group {
    uint32_t key;               /* string: comm, unit, cgroup path or user; 0 = null (no unit,
                                 * the whole host for "none") */
    uint8_t by;                 /* enum vm_group_by */
    uint8_t memory_peak_src;    /* enum vm_memory_peak_src: where memory_peak comes from */
    uint8_t reserved[2];
    uint32_t processes;         /* members now (kernel threads left out) */
    uint32_t exited;            /* members seen to exit since the collector started */
    int32_t vm_hwm_max_pid;     /* the member with the largest VmHWM now, 0 when none */
    uint32_t reserved2;
    uint64_t rss;               /* sum of the members' VmRSS now */
    uint64_t vm_hwm_sum;        /* sum of their VmHWM */
    uint64_t vm_hwm_max;        /* largest VmHWM */
    uint64_t vm_peak_max;       /* largest VmPeak */
    uint64_t observed_rss_peak; /* largest rss seen in one snapshot (the group's own peak) */
    uint64_t observed_rss_peak_at_ms;
    uint64_t exited_vm_hwm_max; /* largest last-seen VmHWM of a member that exited */
    uint64_t memory_peak;       /* by cgroup: the cgroup's own peak as the kernel keeps it */
};

/* A process that was in the previous snapshot and is gone from this one. */
enum {
    VM_EXITED_HWM = 1u << 0,       /* vm_hwm known */
    VM_EXITED_PEAK = 1u << 1,      /* vm_peak known */
    VM_EXITED_TASKSTATS = 1u << 2, /* the kernel told its exit (taskstats): exit_code, exit_ms,
                                    * uid and exit_hiwater_rss/vm are known */
    VM_EXITED_UNSEEN = 1u << 3,    /* no scan saw it: known from taskstats only (vm_hwm and
                                    * vm_peak are the exit's, starttime is derived from its
                                    * lifetime, unit unknown) */
};
struct vm_exited {
    int32_t pid;
    uint32_t comm;     /* string */
    uint32_t unit;     /* string, 0 = none */
    uint32_t flags;    /* VM_EXITED_* */
    int32_t exit_code; /* wait status, with VM_EXITED_TASKSTATS */
    uint32_t uid;      /* with VM_EXITED_TASKSTATS */
    uint64_t exit_ms;  /* Unix ms of the exit, with VM_EXITED_TASKSTATS */
    uint64_t exit_hiwater_rss; /* the mm's hiwater_rss at exit, bytes, with VM_EXITED_TASKSTATS */
    uint64_t exit_hiwater_vm;  /* its hiwater_vm (VmPeak) at exit */
    uint64_t starttime; /* stat 22: id is "pid:starttime" */
    uint64_t start_time_ms;
    uint64_t exited_by_ms; /* collected_at of the first snapshot that missed it */
    uint64_t vm_hwm;       /* last VmHWM seen, bytes */
    uint64_t vm_peak;      /* last VmPeak seen, bytes */
    uint64_t observed_rss_max;
    uint64_t observed_rss_max_at_ms;
};

struct vm_snapshot {
    uint64_t magic;   /* VM_SNAPSHOT_MAGIC */
    uint32_t version; /* VM_SNAPSHOT_VERSION */
    int32_t refs;     /* reference count (atomic); meaningless outside this process */
    uint64_t size;    /* bytes of the whole block */

    uint64_t seq;             /* 1 for the first snapshot of a collector, then +1 */
    uint64_t collected_at_ms; /* Unix ms at the start of the scan */
    uint64_t duration_ns;     /* wall time of the scan */
    uint64_t cpu_ns;          /* CPU time (user+sys) of the scanning thread */
    uint64_t deep_cpu_ns;     /* of which the per-VMA tier */

    uint32_t nprocs;    /* entries in the process array, kernel threads included */
    uint32_t nkthreads; /* of which kernel threads */
    uint64_t nvmas;     /* entries in the VMA array */
    uint32_t nerrors;   /* error entries over all processes */
    uint32_t ndeep;     /* entries in the deep-pid array */

    /* Cumulative over the collector's life (Prometheus counters). */
    uint64_t scans_total;
    uint64_t errors_total[_VM_SOURCE_MAX]; /* per-process read errors, by source */
    uint64_t truncations_total;            /* over-long lines, cut lists, cut cmdlines */
    uint64_t vanished_total;               /* pids gone mid-read (dropped, not errors) */
    /* taskstats (node capability "taskstats"): process exits heard from the kernel, those of
     * processes no scan ever saw, and exits lost (queue full or socket overrun). */
    uint64_t taskstats_exits_total;
    uint64_t taskstats_unseen_total;
    uint64_t taskstats_lost_total;

    struct vm_node node;
    struct vm_thp thp;
    uint32_t npools;  /* entries in the hugetlb pool array */
    uint32_t ngroups; /* entries in the group array */
    uint32_t nexited; /* entries in the exited ring */
    uint32_t reserved1;

    uint64_t procs_off;   /* struct vm_process[nprocs], sorted by pid */
    uint64_t vmas_off;    /* struct vm_vma[nvmas], grouped by process, in address order */
    uint64_t deep_off;    /* int32_t[ndeep]: pids the per-VMA tier visited in this scan */
    uint64_t pools_off;   /* struct vm_hugepool[npools], by size then node (global first) */
    uint64_t groups_off;  /* struct vm_group[ngroups], by group_by */
    uint64_t exited_off;  /* struct vm_exited[nexited], newest first */
    uint64_t strings_off; /* string table */
    uint64_t strings_len;
};

static inline const struct vm_process *vm_snapshot_procs(const struct vm_snapshot *s) {
    return (const struct vm_process *)((const char *)s + s->procs_off);
}
static inline const struct vm_vma *vm_snapshot_vmas(const struct vm_snapshot *s,
                                                    const struct vm_process *p) {
    return (const struct vm_vma *)((const char *)s + s->vmas_off) + p->vma_first;
}
static inline const struct vm_hugepool *vm_snapshot_pools(const struct vm_snapshot *s) {
    return (const struct vm_hugepool *)((const char *)s + s->pools_off);
}
static inline const struct vm_group *vm_snapshot_groups(const struct vm_snapshot *s) {
    return (const struct vm_group *)((const char *)s + s->groups_off);
}
static inline const struct vm_exited *vm_snapshot_exited(const struct vm_snapshot *s) {
    return (const struct vm_exited *)((const char *)s + s->exited_off);
}
static inline const int32_t *vm_snapshot_deep_pids(const struct vm_snapshot *s) {
    return (const int32_t *)((const char *)s + s->deep_off);
}
/* The string at offset off, or NULL for offset 0 ("none"). */
static inline const char *vm_snapshot_str(const struct vm_snapshot *s, uint32_t off) {
    return off ? (const char *)s + s->strings_off + off : NULL;
}
static inline bool vm_process_has_memory(const struct vm_process *p, enum vm_mem_field f) {
    return p->memory_present & (1u << f);
}

/* Take a reference; returns s. Thread-safe. */
struct vm_snapshot *vm_snapshot_ref(struct vm_snapshot *s);
/* Drop a reference and free the block with the last one. Accepts NULL; returns NULL. */
struct vm_snapshot *vm_snapshot_unref(struct vm_snapshot *s);
static inline void vm_snapshot_unrefp(struct vm_snapshot **s) {
    (void)vm_snapshot_unref(*s);
}
#define _cleanup_snapshot_ _cleanup_(vm_snapshot_unrefp)

/* Check that a block of len bytes (e.g. received from another process or read from disk) is a
 * well-formed snapshot: magic, version, every offset, index and string in bounds. 0 or -EBADMSG. */
int vm_snapshot_validate(const void *block, size_t len);

/* The process with this pid, or NULL. O(log n). */
const struct vm_process *vm_snapshot_find(const struct vm_snapshot *s, int32_t pid);

/* "pid:starttime" into buf (at least 32 bytes). Returns buf. */
char *vm_process_id(const struct vm_process *p, char *buf, size_t len);

/* Names for the enums above; NULL when out of range. */
const char *vm_kind_name(int kind);
const char *vm_source_name(int source);
const char *vm_cap_name(int cap);
const char *vm_group_by_name(int by);
const char *vm_res_source_name(int source);
const char *vm_res_field_name(int field);
