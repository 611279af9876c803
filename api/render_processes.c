/* render_processes.c: JSON documents of processes and VMAs (API.md "Process summary",
 * "Process detail adds", "VMA", "/api/v1/processes"), rendered from one snapshot.
 *
 * Objects are built with jansson's stealing setters. A NULL value (allocation failure) makes
 * json_object_set_new() fail; json_put() records that, and the builder returns NULL instead of a
 * document with members silently missing. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/jstream.h"
#include "api/render.h"
#include "api/utf8.h"

static const struct render_opts default_opts = {0};

static json_t *json_bool_of(bool b) {
    return b ? json_true() : json_false();
}

/* A snapshot string that is a string in the document even when empty (comm, cmdline). */
static json_t *json_snapshot_string(const struct vm_snapshot *s, uint32_t off) {
    const char *str = vm_snapshot_str(s, off);
    return json_kernel_string(str ? str : "");
}

/* A snapshot string, null when none (user, unit, cgroup, VMA name). */
static json_t *json_snapshot_string_or_null(const struct vm_snapshot *s, uint32_t off) {
    return json_kernel_string(vm_snapshot_str(s, off));
}

static bool has_rollup(const struct vm_process *p, enum vm_rollup_field f) {
    return (p->flags & VM_PROC_ROLLUP) && (p->rollup_present & (1u << f));
}

static json_t *json_memory_field(const struct vm_process *p, enum vm_mem_field f) {
    return vm_process_has_memory(p, f) ? json_u64(p->memory[f]) : json_null();
}

static json_t *json_rollup_field(const struct vm_process *p, enum vm_rollup_field f) {
    return has_rollup(p, f) ? json_u64(p->rollup[f]) : json_null();
}

/* uss = private_clean + private_dirty, present when both are. */
static bool rollup_uss(const struct vm_process *p, uint64_t *ret) {
    if (!has_rollup(p, VM_ROLLUP_PRIVATE_CLEAN) || !has_rollup(p, VM_ROLLUP_PRIVATE_DIRTY))
        return false;
    uint64_t v;
    if (__builtin_add_overflow(p->rollup[VM_ROLLUP_PRIVATE_CLEAN],
                               p->rollup[VM_ROLLUP_PRIVATE_DIRTY], &v))
        v = UINT64_MAX;
    *ret = v;
    return true;
}

static json_t *render_memory(const struct vm_process *p) {
    json_t *o = json_object();
    int err = 0;
    for (int f = 0; f < _VM_MEM_MAX; f++)
        json_put(o, vm_memory_fields[f].json, json_memory_field(p, (enum vm_mem_field)f), &err);
    return json_done(o, err);
}

static json_t *render_rollup(const struct vm_process *p) {
    if (!(p->flags & VM_PROC_ROLLUP))
        return json_null();
    json_t *o = json_object();
    int err = 0;
    for (int f = 0; f < _VM_ROLLUP_MAX; f++)
        json_put(o, vm_rollup_fields[f].json, json_rollup_field(p, (enum vm_rollup_field)f), &err);
    uint64_t uss;
    json_put(o, "uss", rollup_uss(p, &uss) ? json_u64(uss) : json_null(), &err);
    return json_done(o, err);
}

static json_t *render_process_hiwater(const struct vm_process *p) {
    json_t *o = json_object();
    int err = 0;
    json_put(o, "vm_hwm", json_memory_field(p, VM_MEM_VM_HWM), &err);
    json_put(o, "vm_peak", json_memory_field(p, VM_MEM_VM_PEAK), &err);
    /* 0 is a real maximum only when the process has an RSS to observe (not a kernel thread,
     * status readable). */
    bool observed = p->observed_rss_max > 0 || vm_process_has_memory(p, VM_MEM_VM_RSS);
    json_put(o, "observed_rss_max", observed ? json_u64(p->observed_rss_max) : json_null(), &err);
    json_put(o, "observed_rss_max_at", json_time_ms(p->observed_rss_max_at_ms), &err);
    return json_done(o, err);
}

static json_t *render_errors(const struct vm_process *p) {
    json_t *a = json_array();
    int err = 0;
    unsigned n = p->nerrors < VM_PROC_ERRORS_MAX ? p->nerrors : VM_PROC_ERRORS_MAX;
    for (unsigned i = 0; i < n; i++) {
        const char *source = vm_source_name(p->errors[i].source);
        char buf[16];
        json_t *e = json_object();
        int eerr = 0;
        json_put(e, "source", json_string_nocheck(source ? source : "unknown"), &eerr);
        json_put(e, "errno", json_string_nocheck(errno_name(p->errors[i].errnum, buf, sizeof(buf))),
            &eerr);
        json_push(a, json_done(e, eerr), &err);
    }
    return json_done(a, err);
}

json_t *render_snapshot_ref(const struct vm_snapshot *s) {
    json_t *o = json_object();
    int err = 0;
    json_put(o, "seq", json_u64(s->seq), &err);
    json_put(o, "collected_at", json_time_ms(s->collected_at_ms), &err);
    return json_done(o, err);
}

static int put_summary(json_t *o, const struct vm_snapshot *s, const struct vm_process *p) {
    int err = 0;
    char id[32];
    json_put(o, "pid", json_integer(p->pid), &err);
    json_put(o, "ppid", json_integer(p->ppid), &err);
    json_put(o, "id", json_string_nocheck(vm_process_id(p, id, sizeof(id))), &err);
    json_put(o, "start_time", json_time_ms(p->start_time_ms), &err);
    json_put(o, "comm", json_snapshot_string(s, p->comm), &err);
    json_put(o, "cmdline", json_snapshot_string(s, p->cmdline), &err);
    json_put(o, "uid", (p->flags & VM_PROC_UID) ? json_integer(p->uid) : json_null(), &err);
    json_put(o, "user", json_snapshot_string_or_null(s, p->user), &err);
    json_put(o, "state", p->state ? json_kernel_stringn(&p->state, 1) : json_null(), &err);
    json_put(o, "threads", json_integer(p->threads), &err);
    json_put(o, "cgroup", json_snapshot_string_or_null(s, p->cgroup), &err);
    json_put(o, "unit", json_snapshot_string_or_null(s, p->unit), &err);
    json_put(o, "kthread", json_bool_of(p->flags & VM_PROC_KTHREAD), &err);
    json_put(o, "vma_count", (p->flags & VM_PROC_MAPS) ? json_integer(p->vma_count) : json_null(),
        &err);
    json_put(o, "memory", render_memory(p), &err);
    json_put(o, "rollup", render_rollup(p), &err);
    json_put(o, "hiwater", render_process_hiwater(p), &err);
    json_put(o, "errors", render_errors(p), &err);
    return err;
}

json_t *render_process_summary(const struct vm_snapshot *s, const struct vm_process *p,
                               const struct render_opts *o) {
    (void)o; /* the summary holds no addresses */
    json_t *obj = json_object();
    return json_done(obj, obj ? put_summary(obj, s, p) : -ENOMEM);
}

/* VMAs the snapshot stores for p (vma_n, fewer than vma_count with VM_PROC_VMAS_CUT). */
static size_t stored_vmas(const struct vm_process *p) {
    return (p->flags & VM_PROC_MAPS) ? p->vma_n : 0;
}

static json_t *render_layout(const struct vm_process *p, bool redact) {
    json_t *o = json_object();
    int err = 0;
    for (int f = 0; f < _VM_LAYOUT_MAX; f++)
        json_put(o, vm_layout_fields[f].json,
            (p->layout_present & (1u << f)) ? json_address(p->layout[f], redact) : json_null(),
            &err);
    bool layout = p->flags & VM_PROC_LAYOUT;
    /* Without a VMA (kernel threads, zombies) there is no address space to describe. */
    json_put(o, "top_down", layout ? json_bool_of(p->flags & VM_PROC_TOP_DOWN) : json_null(), &err);
    json_put(o, "address_bits", layout && p->address_bits ? json_integer(p->address_bits) : json_null(),
        &err);
    json_put(o, "lowest", layout ? json_address(p->lowest, redact) : json_null(), &err);
    json_put(o, "highest", layout ? json_address(p->highest, redact) : json_null(), &err);
    json_put(o, "gap_count", layout ? json_integer(p->gap_count) : json_null(), &err);
    json_put(o, "largest_gap", layout ? json_u64(p->largest_gap) : json_null(), &err);
    return json_done(o, err);
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t kb_bytes(uint32_t kb) {
    return (uint64_t)kb * 1024u;
}

static json_t *render_kinds(const struct vm_snapshot *s, const struct vm_process *p) {
    struct {
        uint64_t count, size, rss, pss, swap;
        bool all_smaps;
    } k[_VM_KIND_MAX];
    for (int i = 0; i < _VM_KIND_MAX; i++)
        k[i] = (__typeof__(k[0])){.all_smaps = true};

    size_t n = stored_vmas(p);
    const struct vm_vma *v = n ? vm_snapshot_vmas(s, p) : NULL;
    for (size_t i = 0; i < n; i++) {
        int kind = v[i].kind < _VM_KIND_MAX ? v[i].kind : VM_KIND_OTHER;
        k[kind].count++;
        k[kind].size = sat_add(k[kind].size, v[i].end >= v[i].start ? v[i].end - v[i].start : 0);
        if (!(v[i].flags & VM_VMA_SMAPS)) {
            k[kind].all_smaps = false;
            continue;
        }
        k[kind].rss = sat_add(k[kind].rss, kb_bytes(v[i].kb[VM_VMAF_RSS]));
        k[kind].pss = sat_add(k[kind].pss, kb_bytes(v[i].kb[VM_VMAF_PSS]));
        k[kind].swap = sat_add(k[kind].swap, kb_bytes(v[i].kb[VM_VMAF_SWAP]));
    }

    json_t *o = json_object();
    int err = 0;
    for (int i = 0; i < _VM_KIND_MAX; i++) {
        if (k[i].count == 0)
            continue;
        json_t *e = json_object();
        int eerr = 0;
        json_put(e, "count", json_u64(k[i].count), &eerr);
        json_put(e, "size", json_u64(k[i].size), &eerr);
        json_put(e, "rss", k[i].all_smaps ? json_u64(k[i].rss) : json_null(), &eerr);
        json_put(e, "pss", k[i].all_smaps ? json_u64(k[i].pss) : json_null(), &eerr);
        json_put(e, "swap", k[i].all_smaps ? json_u64(k[i].swap) : json_null(), &eerr);
        const char *name = vm_kind_name(i);
        json_put(o, name ? name : "other", json_done(e, eerr), &err);
    }
    return json_done(o, err);
}

static json_t *render_process_hugepages(const struct vm_snapshot *s, const struct vm_process *p) {
    json_t *o = json_object();
    int err = 0;
    json_put(o, "hugetlb", json_memory_field(p, VM_MEM_HUGETLB), &err);
    json_put(o, "anon_huge", json_rollup_field(p, VM_ROLLUP_ANON_HUGE), &err);
    json_put(o, "shmem_pmd_mapped", json_rollup_field(p, VM_ROLLUP_SHMEM_PMD_MAPPED), &err);
    json_put(o, "file_pmd_mapped", json_rollup_field(p, VM_ROLLUP_FILE_PMD_MAPPED), &err);

    /* A process total: known only when every VMA is stored and has its smaps figures. */
    bool known = (p->flags & VM_PROC_MAPS) && !(p->flags & VM_PROC_VMAS_CUT);
    uint64_t eligible = 0;
    size_t n = stored_vmas(p);
    const struct vm_vma *v = n ? vm_snapshot_vmas(s, p) : NULL;
    for (size_t i = 0; known && i < n; i++) {
        if (!(v[i].flags & VM_VMA_SMAPS))
            known = false;
        else if (v[i].flags & VM_VMA_THP_ELIGIBLE)
            eligible = sat_add(eligible, v[i].end >= v[i].start ? v[i].end - v[i].start : 0);
    }
    json_put(o, "thp_eligible_size", known ? json_u64(eligible) : json_null(), &err);
    return json_done(o, err);
}

json_t *render_process_detail(const struct vm_snapshot *s, const struct vm_process *p,
                              const struct render_opts *o) {
    if (!o)
        o = &default_opts;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    int err = put_summary(obj, s, p);
    json_put(obj, "layout", render_layout(p, o->redact_addresses), &err);
    json_put(obj, "kinds", render_kinds(s, p), &err);
    json_put(obj, "hugepages", render_process_hugepages(s, p), &err);
    json_put(obj, "residency", render_process_residency(s, p), &err);
    json_put(obj, "smaps_collected_at", json_time_ms(p->smaps_at_ms), &err);
    json_put(obj, "vmas_truncated", json_bool_of(p->flags & VM_PROC_VMAS_CUT), &err);
    return json_done(obj, err);
}

/* "rd wr mr" -> ["rd","wr","mr"]; null when VmFlags is unknown. */
static json_t *render_vmflags(const char *flags) {
    if (!flags)
        return json_null();
    json_t *a = json_array();
    int err = 0;
    for (const char *c = flags; *c;) {
        if (*c == ' ') {
            c++;
            continue;
        }
        size_t n = strcspn(c, " ");
        json_push(a, json_kernel_stringn(c, n), &err);
        c += n;
    }
    return json_done(a, err);
}

static json_t *json_page_size(uint8_t shift) {
    return shift > 0 && shift < 64 ? json_u64(UINT64_C(1) << shift) : json_null();
}

json_t *render_vma(const struct vm_snapshot *s, const struct vm_vma *v,
                   const struct render_opts *o) {
    if (!o)
        o = &default_opts;
    bool redact = o->redact_addresses;
    bool smaps = v->flags & VM_VMA_SMAPS;
    json_t *obj = json_object();
    int err = 0;

    char perms[5] = {
        v->perms & VM_PERM_READ ? 'r' : '-',
        v->perms & VM_PERM_WRITE ? 'w' : '-',
        v->perms & VM_PERM_EXEC ? 'x' : '-',
        v->perms & VM_PERM_SHARED ? 's' : 'p',
        0,
    };
    /* The kernel prints "%02x:%02x" (more digits when needed). */
    char dev[24];
    (void)snprintf(dev, sizeof(dev), "%02" PRIx32 ":%02" PRIx32, VM_DEV_MAJOR(v->dev),
                   VM_DEV_MINOR(v->dev));
    const char *kind = vm_kind_name(v->kind);

    json_put(obj, "start", json_address(v->start, redact), &err);
    json_put(obj, "end", json_address(v->end, redact), &err);
    json_put(obj, "size", json_u64(v->end >= v->start ? v->end - v->start : 0), &err);
    json_put(obj, "perms", json_string_nocheck(perms), &err);
    json_put(obj, "offset", json_u64(v->offset), &err);
    json_put(obj, "dev", json_string_nocheck(dev), &err);
    json_put(obj, "inode", json_u64(v->inode), &err);
    json_put(obj, "name", json_snapshot_string_or_null(s, v->name), &err);
    json_put(obj, "deleted", json_bool_of(v->flags & VM_VMA_DELETED), &err);
    json_put(obj, "kind", kind ? json_string_nocheck(kind) : json_null(), &err);
    json_put(obj, "flags", render_vmflags(vm_snapshot_str(s, v->vmflags)), &err);
    for (int f = 0; f < _VM_VMAF_MAX; f++)
        json_put(obj, vm_vma_fields[f].json,
            smaps && (v->kb_present & (1u << f)) ? json_u64(kb_bytes(v->kb[f])) : json_null(),
            &err);
    json_put(obj, "kernel_page_size", json_page_size(v->kernel_page_shift), &err);
    json_put(obj, "mmu_page_size", json_page_size(v->mmu_page_shift), &err);
    json_put(obj, "thp_eligible", smaps ? json_bool_of(v->flags & VM_VMA_THP_ELIGIBLE) : json_null(),
        &err);
    json_put(obj, "residency", render_vma_residency(s, v), &err);
    return json_done(obj, err);
}

/* --- /api/v1/processes ------------------------------------------------------------------ */

struct sort_entry {
    uint64_t key;    /* sort value (sizes, counts, pid) */
    const char *str; /* comm, for PROC_SORT_COMM */
    int32_t pid;
    uint32_t index; /* into the process array */
    bool present;   /* false: the sort value is absent, always sorted last */
};

static bool sort_key(const struct vm_snapshot *s, const struct vm_process *p, enum proc_sort by,
                     uint64_t *ret_key, const char **ret_str) {
    switch (by) {
    case PROC_SORT_RSS:
    case PROC_SORT_SWAP:
    case PROC_SORT_VM_HWM:
    case PROC_SORT_VM_PEAK:
    case PROC_SORT_HUGETLB: {
        enum vm_mem_field f = by == PROC_SORT_RSS       ? VM_MEM_VM_RSS
                              : by == PROC_SORT_SWAP    ? VM_MEM_VM_SWAP
                              : by == PROC_SORT_VM_HWM  ? VM_MEM_VM_HWM
                              : by == PROC_SORT_VM_PEAK ? VM_MEM_VM_PEAK
                                                        : VM_MEM_HUGETLB;
        if (!vm_process_has_memory(p, f))
            return false;
        *ret_key = p->memory[f];
        return true;
    }
    case PROC_SORT_PSS:
    case PROC_SORT_ANON_HUGE: {
        enum vm_rollup_field f = by == PROC_SORT_PSS ? VM_ROLLUP_PSS : VM_ROLLUP_ANON_HUGE;
        if (!has_rollup(p, f))
            return false;
        *ret_key = p->rollup[f];
        return true;
    }
    case PROC_SORT_USS:
        return rollup_uss(p, ret_key);
    case PROC_SORT_VMAS:
        if (!(p->flags & VM_PROC_MAPS))
            return false;
        *ret_key = p->vma_count;
        return true;
    case PROC_SORT_PID:
        *ret_key = (uint64_t)(int64_t)p->pid;
        return true;
    case PROC_SORT_COMM: {
        const char *c = vm_snapshot_str(s, p->comm);
        *ret_str = c ? c : "";
        return true;
    }
    default:
        return false;
    }
}

struct sort_ctx {
    bool by_str;
    bool desc;
};

static int sort_cmp(const void *a_, const void *b_, void *ctx_) {
    const struct sort_entry *a = a_, *b = b_;
    const struct sort_ctx *ctx = ctx_;
    if (a->present != b->present)
        return a->present ? -1 : 1; /* absent last, whatever the order */
    if (a->present) {
        int c;
        if (ctx->by_str)
            c = strcmp(a->str, b->str); /* bytewise: strcmp compares as unsigned char */
        else
            c = a->key < b->key ? -1 : a->key > b->key ? 1 : 0;
        if (c != 0)
            return ctx->desc ? -c : c;
    }
    return a->pid < b->pid ? -1 : a->pid > b->pid ? 1 : 0; /* ties: pid ascending */
}

static bool str_eq(const char *a, const char *b) {
    return a && b && strcmp(a, b) == 0;
}

static bool query_match(const struct vm_snapshot *s, const struct vm_process *p,
                        const struct proc_query *q) {
    bool kthread = p->flags & VM_PROC_KTHREAD;
    if (q->kthreads == PROC_KTHREADS_EXCLUDE && kthread)
        return false;
    if (q->kthreads == PROC_KTHREADS_ONLY && !kthread)
        return false;
    if (q->comm) {
        const char *c = vm_snapshot_str(s, p->comm);
        if (!str_eq(c ? c : "", q->comm))
            return false;
    }
    if (q->user && !str_eq(vm_snapshot_str(s, p->user), q->user))
        return false;
    if (q->unit && !str_eq(vm_snapshot_str(s, p->unit), q->unit))
        return false;
    if (q->cgroup) {
        const char *cg = vm_snapshot_str(s, p->cgroup);
        if (!cg || strncmp(cg, q->cgroup, strlen(q->cgroup)) != 0)
            return false;
    }
    return true;
}

int render_processes(const struct vm_snapshot *s, const struct proc_query *q,
                     const struct render_opts *o, char **ret_body, size_t *ret_len) {
    struct proc_query defaults;
    if (!q) {
        proc_query_init(&defaults);
        q = &defaults;
    }
    if (!o)
        o = &default_opts;

    const struct vm_process *procs = vm_snapshot_procs(s);
    _cleanup_free_ struct sort_entry *e = malloc_array(s->nprocs, sizeof(*e));
    if (!e)
        return -ENOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < s->nprocs; i++) {
        const struct vm_process *p = &procs[i];
        if (!query_match(s, p, q))
            continue;
        e[n] = (struct sort_entry){.pid = p->pid, .index = i};
        e[n].present = sort_key(s, p, q->sort, &e[n].key, &e[n].str);
        n++;
    }
    struct sort_ctx ctx = {.by_str = q->sort == PROC_SORT_COMM, .desc = q->desc};
    qsort_r(e, n, sizeof(*e), sort_cmp, &ctx);

    /* Streamed one summary at a time: 10,000 processes never exist as one jansson tree. */
    struct jstream js;
    jstream_init(&js, o->pretty);
    jstream_begin_object(&js);
    uint64_t first = q->offset < n ? q->offset : n;
    uint64_t last = first + (q->limit < n - first ? q->limit : n - first);
    jstream_begin_array(&js, "processes");
    for (uint64_t i = first; i < last && js.err == 0; i++)
        jstream_element(&js, render_process_summary(s, &procs[e[i].index], o));
    jstream_end_array(&js);
    jstream_member(&js, "snapshot", render_snapshot_ref(s));
    jstream_member(&js, "total", json_u64(n));
    jstream_end_object(&js);
    return jstream_finish(&js, ret_body, ret_len);
}

/* --- dumping ---------------------------------------------------------------------------- */

struct dump_buf {
    char *data;
    size_t len, cap;
};

static int dump_cb(const char *buffer, size_t size, void *data) {
    struct dump_buf *b = data;
    size_t need;
    if (__builtin_add_overflow(b->len, size, &need) || __builtin_add_overflow(need, 1, &need))
        return -1;
    if (GROW(b->data, b->cap, need) < 0)
        return -1;
    memcpy(b->data + b->len, buffer, size);
    b->len += size;
    return 0;
}

int render_dump(const json_t *doc, const struct render_opts *o, char **ret_body,
                size_t *ret_len) {
    if (!doc)
        return -ENOMEM; /* the renderer that built it ran out of memory */
    size_t flags = JSON_SORT_KEYS | JSON_REAL_PRECISION(9) |
                   ((o && o->pretty) ? JSON_INDENT(2) : JSON_COMPACT);
    struct dump_buf b = {0};
    /* One pass into our own buffer: freed with free() even if the daemon gives jansson
     * other allocation functions. */
    if (json_dump_callback(doc, dump_cb, &b, flags) < 0 || dump_cb("", 0, &b) < 0) {
        free(b.data);
        return -ENOMEM;
    }
    b.data[b.len] = 0;
    *ret_body = b.data;
    if (ret_len)
        *ret_len = b.len;
    return 0;
}
