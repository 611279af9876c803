/* prometheus.c: the /metrics document, Prometheus text exposition format 0.0.4, rendered from
 * one snapshot on every scrape.
 *
 * Naming follows the Prometheus naming and exporter-writing guides: the vmatlas_ prefix, base
 * units (bytes, seconds), _total only on counters, HELP and TYPE before every family, no
 * timestamps. Cardinality is bounded: comm groups (bounded by the distinct comms of one node)
 * and per-process series for the top K processes by RSS only, with K exported. Label values
 * are kernel bytes: they are made valid UTF-8 ("\xHH" for other bytes) and then escaped
 * (backslash, double quote, newline).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fleet_view.h"
#include "api/render.h"
#include "api/utf8.h"

/* Growable byte buffer for label values: one allocation for all of them, not one each. */
struct label_buf {
    char *data;
    size_t len, cap;
};

static int label_reserve(struct label_buf *b, size_t more) {
    size_t need;
    if (__builtin_add_overflow(b->len, more, &need))
        return -ENOMEM;
    return GROW(b->data, b->cap, need);
}

/* Append the escaped label value of s[0..len), NUL-terminated; *ret_off gets its offset. */
static int label_append(struct label_buf *b, const char *s, size_t len, size_t *ret_off) {
    size_t worst; /* "\xHH" becomes "\\xHH": 5 bytes per input byte at most */
    if (__builtin_mul_overflow(len, (size_t)5, &worst) ||
        __builtin_add_overflow(worst, (size_t)1, &worst))
        return -ENOMEM;
    if (label_reserve(b, worst) < 0)
        return -ENOMEM;
    static const char hex[] = "0123456789abcdef";
    size_t off = b->len;
    char *o = b->data + b->len;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence_length(s + i, len - i);
        if (n == 0) {
            uint8_t c = (uint8_t)s[i++];
            *o++ = '\\';
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
        } else if (n == 1 && (s[i] == '\\' || s[i] == '"' || s[i] == '\n')) {
            *o++ = '\\';
            *o++ = s[i] == '\n' ? 'n' : s[i];
            i++;
        } else {
            memcpy(o, s + i, n);
            o += n;
            i += n;
        }
    }
    *o++ = 0;
    b->len = (size_t)(o - b->data);
    *ret_off = off;
    return 0;
}

static int label_append_str(struct label_buf *b, const char *s, size_t *ret_off) {
    return label_append(b, s ? s : "", s ? strlen(s) : 0, ret_off);
}

/* HELP and TYPE of a family. OpenMetrics names a counter family without its "_total" suffix
 * (its samples keep it). */
static void family(FILE *f, bool om, const char *name, const char *type, const char *help) {
    size_t len = strlen(name);
    if (om && strcmp(type, "counter") == 0 && len > 6 && strcmp(name + len - 6, "_total") == 0)
        len -= 6;
    fprintf(f, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, name, help, (int)len, name, type);
}

/* Exact decimal seconds from integer nanoseconds / milliseconds: no floating point. */
static void print_ns_seconds(FILE *f, uint64_t ns) {
    fprintf(f, "%" PRIu64 ".%09" PRIu64 "\n", ns / 1000000000u, ns % 1000000000u);
}
static void print_ms_seconds(FILE *f, uint64_t ms) {
    fprintf(f, "%" PRIu64 ".%03" PRIu64 "\n", ms / 1000u, ms % 1000u);
}

/* Observed peaks of the comm groups, by the offset of their key string (groups are keyed by the
 * same interned strings as the processes), for lookups while the comm families are written. */
struct comm_peak {
    uint32_t key;
    uint64_t peak;
};

static int cmp_comm_peak(const void *a, const void *b) {
    const struct comm_peak *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static struct comm_peak *comm_peaks(const struct vm_snapshot *s, size_t *ret_n) {
    const struct vm_group *groups = vm_snapshot_groups(s);
    struct comm_peak *cp = malloc_array(s->ngroups, sizeof(*cp));
    size_t n = 0;
    if (!cp)
        return NULL;
    for (uint32_t i = 0; i < s->ngroups; i++)
        if (groups[i].by == VM_GROUP_COMM)
            cp[n++] = (struct comm_peak){groups[i].key, groups[i].observed_rss_peak};
    qsort(cp, n, sizeof(*cp), cmp_comm_peak);
    *ret_n = n;
    return cp;
}

static uint64_t comm_peak_of(const struct comm_peak *cp, size_t n, uint32_t comm) {
    struct comm_peak key = {.key = comm};
    const struct comm_peak *hit = bsearch(&key, cp, n, sizeof(key), cmp_comm_peak);
    return hit ? hit->peak : 0;
}

/* vmatlas_hugepages{size_bytes,numa_node,state} and vmatlas_thp_bytes{kind}. */
static void render_hugepage_families(FILE *f, const struct vm_snapshot *s,
                                     const struct metrics_opts *o) {
    static const char *const states[] = {"total", "free", "reserved", "surplus"};
    static const char *const thp_kinds[_VM_THP_MAX] = {"anon", "shmem", "file"};
    const struct vm_hugepool *pools = vm_snapshot_pools(s);
    if (s->npools > 0)
        family(f, o->openmetrics, "vmatlas_hugepages", "gauge",
               "hugetlb pages per page size and NUMA node (numa_node=\"\" is the global pool), by "
               "state.");
    for (uint32_t i = 0; i < s->npools; i++) {
        const struct vm_hugepool *p = &pools[i];
        const uint64_t v[] = {p->total, p->free, p->reserved, p->surplus};
        char node[16] = "";
        if (p->numa_node >= 0)
            (void)snprintf(node, sizeof(node), "%d", p->numa_node);
        for (size_t k = 0; k < ARRAY_SIZE(states); k++)
            if (v[k] != VM_UNKNOWN)
                fprintf(f, "vmatlas_hugepages{size_bytes=\"%" PRIu64 "\",numa_node=\"%s\",state=\"%s\"} %" PRIu64 "\n",
                        p->size_bytes, node, states[k], v[k]);
    }
    if (s->thp.present) {
        family(f, o->openmetrics, "vmatlas_thp_bytes", "gauge",
               "Transparent hugepages in use (/proc/meminfo AnonHugePages, ShmemHugePages, "
               "FileHugePages).");
        for (int k = 0; k < _VM_THP_MAX; k++)
            if (s->thp.present & (1u << k))
                fprintf(f, "vmatlas_thp_bytes{kind=\"%s\"} %" PRIu64 "\n", thp_kinds[k],
                        s->thp.bytes[k]);
    }
}

struct proc_entry {
    uint32_t index;    /* into the process array */
    size_t comm_label; /* offset of the escaped comm in the label buffer */
    size_t unit_label; /* offset of the escaped unit ("" when none) */
};

struct cmp_ctx {
    const struct vm_process *procs;
    const char *labels;
};

/* By escaped comm (two comms that escape alike are one group), then pid. */
static int cmp_comm(const void *a_, const void *b_, void *ctx_) {
    const struct proc_entry *a = a_, *b = b_;
    const struct cmp_ctx *ctx = ctx_;
    int c = strcmp(ctx->labels + a->comm_label, ctx->labels + b->comm_label);
    if (c)
        return c;
    int32_t pa = ctx->procs[a->index].pid, pb = ctx->procs[b->index].pid;
    return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/* By VmRSS descending (absent last), then pid ascending. */
static int cmp_rss(const void *a_, const void *b_, void *ctx_) {
    const struct cmp_ctx *ctx = ctx_;
    const struct vm_process *a = &ctx->procs[((const struct proc_entry *)a_)->index];
    const struct vm_process *b = &ctx->procs[((const struct proc_entry *)b_)->index];
    bool ha = vm_process_has_memory(a, VM_MEM_VM_RSS), hb = vm_process_has_memory(b, VM_MEM_VM_RSS);
    if (ha != hb)
        return ha ? -1 : 1;
    if (ha && a->memory[VM_MEM_VM_RSS] != b->memory[VM_MEM_VM_RSS])
        return a->memory[VM_MEM_VM_RSS] > b->memory[VM_MEM_VM_RSS] ? -1 : 1;
    return a->pid < b->pid ? -1 : a->pid > b->pid ? 1 : 0;
}

static bool rollup_has(const struct vm_process *p, enum vm_rollup_field f) {
    return (p->flags & VM_PROC_ROLLUP) && (p->rollup_present & (1u << f));
}

/* The per-process families: {pid, comm, unit}; a process without the value has no series. */
#define PROCESS_FAMILIES(X)                                                                        \
    X("vmatlas_process_resident_bytes", "Resident set size (VmRSS) of a top-K process.", 0,       \
      VM_MEM_VM_RSS)                                                                               \
    X("vmatlas_process_hiwater_bytes", "Peak resident set size (VmHWM) of a top-K process.", 0,   \
      VM_MEM_VM_HWM)                                                                               \
    X("vmatlas_process_virtual_peak_bytes", "Peak virtual size (VmPeak) of a top-K process.", 0,  \
      VM_MEM_VM_PEAK)                                                                              \
    X("vmatlas_process_pss_bytes", "Proportional set size (smaps_rollup Pss) of a top-K process.", \
      1, VM_ROLLUP_PSS)                                                                            \
    X("vmatlas_process_swap_bytes", "Swapped-out anonymous memory (VmSwap) of a top-K process.",  \
      0, VM_MEM_VM_SWAP)                                                                           \
    X("vmatlas_process_hugetlb_bytes", "Hugetlb pages mapped (HugetlbPages) by a top-K process.", \
      0, VM_MEM_HUGETLB)                                                                           \
    X("vmatlas_process_anon_huge_bytes",                                                           \
      "PMD-mapped anonymous THP (smaps_rollup AnonHugePages) of a top-K process.", 1,              \
      VM_ROLLUP_ANON_HUGE)

struct process_family {
    const char *name, *help;
    bool rollup; /* field is a vm_rollup_field, else a vm_mem_field */
    int field;
};

static const struct process_family process_families[] = {
#define PROCESS_FAMILY_ROW(n, h, r, f) {n, h, r, f},
    PROCESS_FAMILIES(PROCESS_FAMILY_ROW)
#undef PROCESS_FAMILY_ROW
};

static void render_body(FILE *f, const struct vm_snapshot *s, const struct metrics_opts *o,
                        const struct proc_entry *users, size_t nusers, const char *labels,
                        size_t version_label, size_t vmax_label, const struct vm_process *vmax,
                        const struct proc_entry *top, size_t ntop,
                        const struct comm_peak *peaks, size_t npeaks) {
    const struct vm_process *procs = vm_snapshot_procs(s);

    family(f, o->openmetrics, "vmatlas_build_info", "gauge", "vmatlas build information; the value is 1.");
    fprintf(f, "vmatlas_build_info{version=\"%s\"} 1\n", labels + version_label);

    family(f, o->openmetrics, "vmatlas_scan_duration_seconds", "gauge", "Wall time of the last scan of /proc.");
    fprintf(f, "vmatlas_scan_duration_seconds ");
    print_ns_seconds(f, s->duration_ns);
    family(f, o->openmetrics, "vmatlas_scan_cpu_seconds", "gauge", "CPU time (user and system) of the last scan.");
    fprintf(f, "vmatlas_scan_cpu_seconds ");
    print_ns_seconds(f, s->cpu_ns);
    family(f, o->openmetrics, "vmatlas_scan_deep_cpu_seconds", "gauge",
           "CPU time of the last scan spent in the per-VMA (smaps) tier.");
    fprintf(f, "vmatlas_scan_deep_cpu_seconds ");
    print_ns_seconds(f, s->deep_cpu_ns);
    family(f, o->openmetrics, "vmatlas_scan_deep_processes", "gauge",
           "Processes whose smaps the per-VMA tier read in the last scan.");
    fprintf(f, "vmatlas_scan_deep_processes %" PRIu32 "\n", s->ndeep);

    family(f, o->openmetrics, "vmatlas_scans_total", "counter", "Scans of /proc completed.");
    fprintf(f, "vmatlas_scans_total %" PRIu64 "\n", s->scans_total);
    family(f, o->openmetrics, "vmatlas_scan_errors_total", "counter",
           "Per-process read errors (EACCES and the like), by the file that could not be read.");
    for (int i = 0; i < _VM_SOURCE_MAX; i++) {
        const char *src = vm_source_name(i);
        if (src)
            fprintf(f, "vmatlas_scan_errors_total{source=\"%s\"} %" PRIu64 "\n", src,
                    s->errors_total[i]);
    }
    family(f, o->openmetrics, "vmatlas_scan_truncations_total", "counter",
           "Over-long lines, cut VMA lists and cut command lines met while scanning.");
    fprintf(f, "vmatlas_scan_truncations_total %" PRIu64 "\n", s->truncations_total);
    family(f, o->openmetrics, "vmatlas_processes_vanished_total", "counter",
           "Processes that exited while being read (dropped from the snapshot).");
    fprintf(f, "vmatlas_processes_vanished_total %" PRIu64 "\n", s->vanished_total);
    if (s->node.caps & (1u << VM_CAP_TASKSTATS)) {
        family(f, o->openmetrics, "vmatlas_taskstats_exits_total", "counter",
               "Process exits heard from the kernel (taskstats).");
        fprintf(f, "vmatlas_taskstats_exits_total %" PRIu64 "\n", s->taskstats_exits_total);
        family(f, o->openmetrics, "vmatlas_taskstats_unseen_exits_total", "counter",
               "Exits of processes that started and ended between two scans.");
        fprintf(f, "vmatlas_taskstats_unseen_exits_total %" PRIu64 "\n",
                s->taskstats_unseen_total);
        family(f, o->openmetrics, "vmatlas_taskstats_lost_exits_total", "counter",
               "Process exits the taskstats listener lost (queue full or socket overrun).");
        fprintf(f, "vmatlas_taskstats_lost_exits_total %" PRIu64 "\n", s->taskstats_lost_total);
    }

    family(f, o->openmetrics, "vmatlas_snapshot_timestamp_seconds", "gauge",
           "Unix time at which the current snapshot's scan started.");
    fprintf(f, "vmatlas_snapshot_timestamp_seconds ");
    print_ms_seconds(f, s->collected_at_ms);
    if (o->now_ms) {
        family(f, o->openmetrics, "vmatlas_snapshot_age_seconds", "gauge",
               "Age of the current snapshot when this page was rendered.");
        fprintf(f, "vmatlas_snapshot_age_seconds ");
        print_ms_seconds(f, o->now_ms > s->collected_at_ms ? o->now_ms - s->collected_at_ms : 0);
    }

    uint64_t vmas = 0, kthreads = 0;
    for (uint32_t i = 0; i < s->nprocs; i++) {
        if (procs[i].flags & VM_PROC_KTHREAD)
            kthreads++;
        if (procs[i].flags & VM_PROC_MAPS)
            vmas += procs[i].vma_count;
    }
    family(f, o->openmetrics, "vmatlas_processes", "gauge", "User processes (kernel threads excluded).");
    fprintf(f, "vmatlas_processes %" PRIu64 "\n", (uint64_t)s->nprocs - kthreads);
    family(f, o->openmetrics, "vmatlas_kernel_threads", "gauge", "Kernel threads.");
    fprintf(f, "vmatlas_kernel_threads %" PRIu64 "\n", kthreads);
    family(f, o->openmetrics, "vmatlas_vmas", "gauge", "Memory mappings (VMAs, lines of maps) of all processes.");
    fprintf(f, "vmatlas_vmas %" PRIu64 "\n", vmas);
    family(f, o->openmetrics, "vmatlas_snapshot_bytes", "gauge",
           "Size of the current snapshot (processes, VMAs and strings, one block).");
    fprintf(f, "vmatlas_snapshot_bytes %" PRIu64 "\n", s->size);
    render_hugepage_families(f, s, o);
    if (s->node.max_map_count >= 0) {
        family(f, o->openmetrics, "vmatlas_map_count_limit", "gauge",
               "Maximum number of VMAs a process may have (vm.max_map_count).");
        fprintf(f, "vmatlas_map_count_limit %" PRId64 "\n", s->node.max_map_count);
    }
    if (vmax) {
        family(f, o->openmetrics, "vmatlas_process_vmas_max", "gauge",
               "VMA count of the process with the most VMAs (compare with vm.max_map_count).");
        fprintf(f, "vmatlas_process_vmas_max{pid=\"%" PRId32 "\",comm=\"%s\"} %" PRIu32 "\n",
                vmax->pid, labels + vmax_label, vmax->vma_count);
    }

    /* Comm groups: users[] is sorted by escaped comm, kernel threads left out. */
    static const char *const group_names[] = {
        "vmatlas_group_resident_bytes", "vmatlas_group_hiwater_bytes", "vmatlas_group_processes",
        "vmatlas_group_observed_peak_bytes"};
    static const char *const group_help[] = {
        "Sum of the resident set sizes (VmRSS) of the processes with this comm.",
        "Largest peak resident set size (VmHWM) among the processes with this comm.",
        "Processes with this comm (kernel threads excluded).",
        ("Largest sum of the resident set sizes of the processes with this comm seen in one "
         "snapshot (the group's own high-water mark).")};
    for (int g = 0; g < 4; g++) {
        family(f, o->openmetrics, group_names[g], "gauge", group_help[g]);
        for (size_t i = 0; i < nusers;) {
            const char *comm = labels + users[i].comm_label;
            uint64_t rss = 0, hwm = 0, count = 0, peak = 0;
            bool has_hwm = false;
            for (; i < nusers && strcmp(labels + users[i].comm_label, comm) == 0; i++) {
                const struct vm_process *p = &procs[users[i].index];
                uint64_t cpk = comm_peak_of(peaks, npeaks, p->comm);
                if (cpk > peak)
                    peak = cpk;
                count++;
                if (vm_process_has_memory(p, VM_MEM_VM_RSS))
                    rss += p->memory[VM_MEM_VM_RSS];
                if (vm_process_has_memory(p, VM_MEM_VM_HWM)) {
                    has_hwm = true;
                    if (p->memory[VM_MEM_VM_HWM] > hwm)
                        hwm = p->memory[VM_MEM_VM_HWM];
                }
            }
            if (g == 1 && !has_hwm)
                continue;
            fprintf(f, "%s{group=\"%s\"} %" PRIu64 "\n", group_names[g], comm,
                    g == 0 ? rss : g == 1 ? hwm : g == 2 ? count : peak);
        }
    }

    family(f, o->openmetrics, "vmatlas_metrics_top_k", "gauge",
           "Processes that get per-process series (the top K by resident set size).");
    fprintf(f, "vmatlas_metrics_top_k %" PRIu32 "\n", o->top_k);
    for (size_t fam = 0; fam < ARRAY_SIZE(process_families) && ntop > 0; fam++) {
        const struct process_family *pf = &process_families[fam];
        family(f, o->openmetrics, pf->name, "gauge", pf->help);
        for (size_t i = 0; i < ntop; i++) {
            const struct vm_process *p = &procs[top[i].index];
            uint64_t v;
            if (pf->rollup) {
                if (!rollup_has(p, (enum vm_rollup_field)pf->field))
                    continue;
                v = p->rollup[pf->field];
            } else {
                if (!vm_process_has_memory(p, (enum vm_mem_field)pf->field))
                    continue;
                v = p->memory[pf->field];
            }
            fprintf(f, "%s{pid=\"%" PRId32 "\",comm=\"%s\",unit=\"%s\"} %" PRIu64 "\n", pf->name,
                    p->pid, labels + top[i].comm_label, labels + top[i].unit_label, v);
        }
    }
}

int render_metrics(const struct vm_snapshot *s, const struct metrics_opts *o, char **ret_body,
                   size_t *ret_len) {
    static const struct metrics_opts default_opts = {.top_k = 20};
    if (!o)
        o = &default_opts;
    const struct vm_process *procs = vm_snapshot_procs(s);

    /* Labels first, all into one buffer; offsets stay valid as it grows. */
    _cleanup_free_ struct proc_entry *users = malloc_array(s->nprocs, sizeof(*users));
    struct label_buf lb = {0};
    _cleanup_free_ char *labels_owner = NULL;
    if (!users)
        return -ENOMEM;
    size_t nusers = 0, version_label, vmax_label = 0;
    const struct vm_process *vmax = NULL;
    int r = label_append_str(&lb, o->version ? o->version : "unknown", &version_label);
    for (uint32_t i = 0; r >= 0 && i < s->nprocs; i++) {
        const struct vm_process *p = &procs[i];
        if (p->flags & VM_PROC_KTHREAD)
            continue;
        if ((p->flags & VM_PROC_MAPS) &&
            (!vmax || p->vma_count > vmax->vma_count)) /* ties: the lowest pid */
            vmax = p;
        struct proc_entry *e = &users[nusers++];
        e->index = i;
        r = label_append_str(&lb, vm_snapshot_str(s, p->comm), &e->comm_label);
        if (r >= 0)
            r = label_append_str(&lb, vm_snapshot_str(s, p->unit), &e->unit_label);
    }
    if (r >= 0 && vmax)
        r = label_append_str(&lb, vm_snapshot_str(s, vmax->comm), &vmax_label);
    labels_owner = lb.data;
    if (r < 0)
        return -ENOMEM;
    if (!lb.data) /* nothing appended at all cannot happen (version), but stay safe */
        return -ENOMEM;

    /* Top K by RSS: processes with a VmRSS, largest first. */
    size_t ntop = 0;
    _cleanup_free_ struct proc_entry *top = NULL;
    struct cmp_ctx ctx = {.procs = procs, .labels = lb.data};
    if (o->top_k > 0 && nusers > 0) {
        top = malloc_array(nusers, sizeof(*top));
        if (!top)
            return -ENOMEM;
        memcpy(top, users, nusers * sizeof(*top));
        qsort_r(top, nusers, sizeof(*top), cmp_rss, &ctx);
        while (ntop < nusers && ntop < o->top_k &&
               vm_process_has_memory(&procs[top[ntop].index], VM_MEM_VM_RSS))
            ntop++;
    }
    qsort_r(users, nusers, sizeof(*users), cmp_comm, &ctx);

    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f)
        return -ENOMEM;
    size_t npeaks = 0;
    _cleanup_free_ struct comm_peak *peaks = comm_peaks(s, &npeaks);
    if (!peaks) {
        fclose(f);
        free(body);
        return -ENOMEM;
    }
    render_body(f, s, o, users, nusers, lb.data, version_label, vmax_label, vmax, top, ntop,
                peaks, npeaks);
    if (o->fleet)
        render_fleet_metrics(f, o->fleet, o->openmetrics);
    if (o->openmetrics)
        fputs("# EOF\n", f);
    bool failed = ferror(f);
    if (fclose(f) != 0 || failed || !body) {
        free(body);
        return -ENOMEM;
    }
    *ret_body = body;
    if (ret_len)
        *ret_len = len;
    return 0;
}
