/* scan.c: one pass over <procfs>/[0-9]* into a snapshot.
 *
 * Summary tier (every process, every scan): stat, status, cmdline, cgroup, smaps_rollup,
 * personality and maps. Per-VMA tier (budgeted): smaps instead of maps, which gives the same
 * VMA list plus per-VMA figures and VmFlags. Figures of processes the tier does not visit are
 * carried over from the previous snapshot for the VMAs that are still the same.
 *
 * Every file of a process is opened relative to one dirfd of /proc/PID, so a pid reused while
 * we read cannot mix two processes: once the task is reaped, openat() through the old dirfd
 * fails with ESRCH.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/builder.h"
#include "collector/cgroup.h"
#include "collector/classify.h"
#include "collector/hiwater.h"
#include "collector/hugepages.h"
#include "collector/kernel_abi.h"
#include "collector/cmdline.h"
#include "collector/layout.h"
#include "collector/maps.h"
#include "collector/node.h"
#include "collector/pagewalk.h"
#include "collector/parse.h"
#include "collector/readfile.h"
#include "collector/smaps.h"
#include "collector/stat.h"
#include "collector/status.h"
#include "collector/users.h"
#include "vmatlas/collector.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

#define USER_CACHE_AGE_NS (300ull * 1000000000ull)
/* Cost model of the per-VMA tier: ns per unit, where a process costs
 * vma_count * UNITS_PER_VMA + resident pages units. Learned from the visits of each scan. */
#define UNITS_PER_VMA 64u
#define DEEP_NS_PER_UNIT_INITIAL 60u
/* Attempts at reading maps when it tears (addresses going backwards). */
#define MAPS_READ_ATTEMPTS 3

struct vm_collector {
    int procfd, sysfd;
    struct node_facts node;
    uint64_t deep_budget_ns;
    uint64_t deep_debt_ns;    /* CPU the tier spent beyond its budget, repaid by later scans */
    uint64_t deep_ns_per_unit;
    uint32_t exited_max;
    struct user_cache *users;
    struct snap_builder *builder;
    char *buf;    /* small files, VM_SMALL_FILE_MAX */
    char *stream; /* maps/smaps, VM_STREAM_BUF */
    char *cmdline; /* formatted cmdline, VM_CMDLINE_MAX + 1 */
    char *name;    /* the name of the smaps block being read, VM_LINE_MAX */
    enum vm_res_source walk; /* page-walk source in use (VM_RES_NONE: smaps only) */
    struct pagewalk_ctx walk_ctx;
    struct pagewalk_vma *walk_vmas; /* scratch, one per VMA of the process being walked */
    size_t walk_cap;
    struct hiwater_reset *resets;   /* group peaks the next scan forgets (keys owned) */
    size_t nresets;
    bool cancelled;                 /* atomic: set by vm_collector_cancel() */
    /* taskstats: process exits handed in and not matched yet (bounded), and the totals. */
    struct vm_task_exit *exits;
    uint64_t *exits_at; /* CLOCK_MONOTONIC ns each was handed in */
    size_t nexits;
    bool taskstats;
    uint64_t exits_total, unseen_total, lost_total;
    uint64_t lost_pending; /* of which dropped here (the listener counts the rest) */
};

/* Exits kept while their process is still listed (a zombie) or not seen yet. */
#define PENDING_EXITS_MAX 16384u
/* An exit not taken after this long is dropped (its process was never seen again). */
#define PENDING_EXIT_MAX_AGE_NS (600ull * 1000000000ull)

_Static_assert((int)RES_PRESENT == (int)VM_RES_F_PRESENT && (int)RES_SWAPPED == (int)VM_RES_F_SWAPPED &&
                   (int)RES_THP == (int)VM_RES_F_THP &&
                   (int)RES_SOFT_DIRTY == (int)VM_RES_F_SOFT_DIRTY &&
                   (int)RES_EXCLUSIVE == (int)VM_RES_F_EXCLUSIVE && (int)_RES_MAX == (int)_VM_RES_MAX,
               "pagewalk and snapshot residency fields agree");

/* A process the per-VMA tier plans to visit: chosen from the previous snapshot. */
struct deep_pick {
    int32_t pid;
    uint64_t starttime;
};

/* State of one scan. */
struct scan {
    struct vm_collector *c;
    struct snap_builder *b;
    const struct vm_snapshot *prev;
    uint64_t now_ms, now_mono_ns;
    struct deep_pick *picks; /* sorted by pid */
    size_t npicks;
    uint64_t deep_ns;       /* CPU spent in the tier so far */
    uint64_t budget_ns;     /* what the tier may spend in this scan (budget less debt) */
    uint64_t deep_units;    /* cost units of the visits */
    bool deep_unplanned;    /* may visit processes outside picks while budget remains */
    int32_t force_pid;      /* a refresh: visit this process (and no other), > 0 */
    uint64_t errors[_VM_SOURCE_MAX];
    uint64_t truncations;
    uint64_t vanished;
};

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    (void)clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool gone(int r) {
    return r == -ENOENT || r == -ESRCH;
}

static void add_error(struct scan *sc, struct vm_process *p, enum vm_source source, int r) {
    sc->errors[source]++;
    if (p->nerrors < VM_PROC_ERRORS_MAX)
        p->errors[p->nerrors++] = (struct vm_error){.source = (uint16_t)source,
                                                    .errnum = (uint16_t)(r < 0 ? -r : r)};
}

static int intern(struct scan *sc, const char *s, size_t len, uint32_t *ret) {
    return snap_builder_intern(sc->b, s, len, ret);
}

static uint8_t page_shift(uint64_t kb) {
    if (kb == 0 || (kb & (kb - 1)))
        return 0;
    return (uint8_t)(__builtin_ctzll(kb) + 10);
}

/* Fill a VMA from a maps (or smaps header) line. */
static int vma_from_line(struct scan *sc, const char *line, size_t len, struct vm_vma *v,
                         struct maps_entry *e) {
    int r = maps_parse_line(line, len, e);
    if (r < 0)
        return r;
    memset(v, 0, sizeof(*v));
    v->start = e->start;
    v->end = e->end;
    v->offset = e->offset;
    v->inode = e->inode;
    v->dev = (e->dev_major << 20) | (e->dev_minor & 0xfffffu);
    v->perms = e->perms;
    if (e->deleted)
        v->flags |= VM_VMA_DELETED;
    r = intern(sc, e->name ? e->name : "", e->name ? e->name_len : 0, &v->name);
    if (r < 0)
        return r;
    v->kind = (uint8_t)classify_vma(e, 0, 0);
    return 0;
}

/* Complete a VMA with the fields of its smaps block (its VmFlags string was interned when its
 * line was read: f->vmflags points into a line that is gone by now). */
static void vma_add_smaps(struct scan *sc, struct vm_vma *v, const struct maps_entry *e,
                          const struct smaps_vma *f) {
    for (int i = 0; i < _VM_VMAF_MAX; i++)
        v->kb[i] = f->kb[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)f->kb[i];
    for (int i = 0; i < _VM_VMAF_MAX; i++)
        if (f->kb[i] > UINT32_MAX)
            sc->truncations++;
    v->kb_present = (uint16_t)f->present;
    v->kernel_page_shift = page_shift(f->kernel_page_kb);
    v->mmu_page_shift = page_shift(f->mmu_page_kb);
    v->flags |= VM_VMA_SMAPS;
    if (f->thp_eligible == 1)
        v->flags |= VM_VMA_THP_ELIGIBLE;
    v->kind = (uint8_t)classify_vma(e, f->vmflags_mask, f->kernel_page_kb);
}

/* Append a VMA of p to the snapshot, up to VM_VMAS_PER_PID_MAX (beyond it the list is cut and
 * says so; vma_count still counts every line). */
static int keep_vma(struct scan *sc, struct vm_process *p, const struct vm_vma *v) {
    if (p->vma_n >= VM_VMAS_PER_PID_MAX) {
        if (!(p->flags & VM_PROC_VMAS_CUT))
            sc->truncations++;
        p->flags |= VM_PROC_VMAS_CUT;
        return 0;
    }
    int r = snap_builder_add_vma(sc->b, v);
    if (r < 0)
        return r;
    p->vma_n++;
    return 0;
}

/* Read maps (deep == false) or smaps (deep == true) of the process into the builder.
 * Returns 0, -ESRCH when the process is gone (or exec'd) under us, -EAGAIN for a read that
 * tore, or another -errno. */
static int read_vmas_once(struct scan *sc, int dirfd, struct vm_process *p, bool deep) {
    _cleanup_close_ int fd = openat(dirfd, deep ? "smaps" : "maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct line_reader lr;
    line_reader_init(&lr, fd, sc->c->stream, VM_STREAM_BUF);

    struct vm_vma v;
    struct maps_entry e;
    struct smaps_vma f;
    bool open_block = false, flags_interned = false;
    uint64_t prev_end = 0;
    uint32_t lines = 0;
    const char *line;
    size_t len;
    int r;

    while ((r = line_reader_next(&lr, &line, &len)) > 0) {
        if (deep && !maps_is_header(line, len)) {
            if (!open_block)
                continue;
            (void)smaps_parse_field(line, len, &f);
            if (f.has_vmflags && !flags_interned) {
                r = intern(sc, f.vmflags, f.vmflags_len, &v.vmflags);
                if (r < 0)
                    return r;
                flags_interned = true;
            }
            continue;
        }
        if (open_block) {
            vma_add_smaps(sc, &v, &e, &f);
            if ((r = keep_vma(sc, p, &v)) < 0)
                return r;
            open_block = false;
        }
        r = vma_from_line(sc, line, len, &v, &e);
        if (r == -EINVAL) {
            sc->truncations++;
            continue;
        }
        if (r < 0)
            return r;
        lines++;
        if (v.kind != VM_KIND_VSYSCALL) {
            if (v.start < prev_end)
                return -EAGAIN; /* went backwards or overlaps: torn read */
            prev_end = v.end;
        }
        if (deep) {
            /* The line buffer moves on while the block's fields are read; keep the name. */
            if (e.name) {
                if (e.name_len > VM_LINE_MAX)
                    e.name_len = VM_LINE_MAX; /* only classify reads it; the full name is interned */
                memcpy(sc->c->name, e.name, e.name_len);
                e.name = sc->c->name;
            }
            smaps_vma_init(&f);
            open_block = true;
            flags_interned = false;
            continue;
        }
        if ((r = keep_vma(sc, p, &v)) < 0)
            return r;
    }
    if (r < 0)
        return r;
    if (open_block) {
        vma_add_smaps(sc, &v, &e, &f);
        if ((r = keep_vma(sc, p, &v)) < 0)
            return r;
    }
    sc->truncations += lr.cut_lines;
    if (lines == 0)
        return -ESRCH; /* a task with an mm always has VMAs: it exited or exec'd meanwhile */
    p->vma_count = lines;
    return 0;
}

static int read_vmas(struct scan *sc, int dirfd, struct vm_process *p, bool deep) {
    int r = -EAGAIN;
    for (int attempt = 0; attempt < MAPS_READ_ATTEMPTS && r == -EAGAIN; attempt++) {
        snap_builder_truncate_vmas(sc->b, p->vma_first);
        p->vma_n = 0;
        p->flags &= ~(uint32_t)VM_PROC_VMAS_CUT;
        r = read_vmas_once(sc, dirfd, p, deep);
    }
    if (r == -EAGAIN) {
        /* Still torn after retries (a process remapping constantly): keep nothing rather than
         * a list that is not one state of the address space. */
        snap_builder_truncate_vmas(sc->b, p->vma_first);
        p->vma_n = 0;
        sc->truncations++;
    }
    return r;
}

/* Per-VMA figures of a process the tier did not visit: copy them from the previous snapshot
 * for every VMA that is unchanged (same range, offset, inode, device and permissions). */
static int carry_vmas(struct scan *sc, struct vm_process *p, const struct vm_process *old) {
    const struct vm_vma *ov = vm_snapshot_vmas(sc->prev, old);
    size_t i = 0, k = 0;
    while (i < p->vma_n && k < old->vma_n) {
        struct vm_vma *v = snap_builder_vma(sc->b, p->vma_first + i);
        const struct vm_vma *o = &ov[k];
        if (o->start < v->start) {
            k++;
            continue;
        }
        if (o->start > v->start) {
            i++;
            continue;
        }
        if (o->end == v->end && o->offset == v->offset && o->inode == v->inode &&
            o->dev == v->dev && o->perms == v->perms && (o->flags & VM_VMA_SMAPS)) {
            memcpy(v->kb, o->kb, sizeof(v->kb));
            v->kb_present = o->kb_present;
            v->kernel_page_shift = o->kernel_page_shift;
            v->mmu_page_shift = o->mmu_page_shift;
            v->flags |= o->flags & (VM_VMA_SMAPS | VM_VMA_THP_ELIGIBLE);
            v->kind = o->kind;
            v->res_source = o->res_source;
            v->res_known = o->res_known;
            memcpy(v->res_pages, o->res_pages, sizeof(v->res_pages));
            const char *flags = vm_snapshot_str(sc->prev, o->vmflags);
            if (flags) {
                int r = intern(sc, flags, strlen(flags), &v->vmflags);
                if (r < 0)
                    return r;
            }
        }
        i++;
        k++;
    }
    return 0;
}

static int cmp_pick(const void *a, const void *b) {
    const struct deep_pick *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static bool planned(const struct scan *sc, int32_t pid, uint64_t starttime) {
    if (sc->npicks == 0)
        return false;
    struct deep_pick key = {.pid = pid};
    const struct deep_pick *d = bsearch(&key, sc->picks, sc->npicks, sizeof(key), cmp_pick);
    return d && d->starttime == starttime;
}

/* Whether the per-VMA tier visits this process in this scan. */
static bool want_deep(const struct scan *sc, int32_t pid, uint64_t starttime) {
    if (sc->force_pid > 0)
        return pid == sc->force_pid;
    if (sc->c->deep_budget_ns == UINT64_MAX)
        return true;
    if (sc->budget_ns == 0)
        return false;
    if (planned(sc, pid, starttime))
        return true;
    if (!sc->deep_unplanned)
        return false;
    /* Not planned: a process the previous snapshot did not know (or there was none). */
    const struct vm_process *old = sc->prev ? vm_snapshot_find(sc->prev, pid) : NULL;
    if (old && old->starttime == starttime)
        return false;
    return sc->deep_ns < sc->budget_ns;
}

static uint64_t deep_units(const struct vm_process *p, uint32_t page_size) {
    uint64_t pages = (p->memory_present & (1u << VM_MEM_VM_RSS))
                         ? p->memory[VM_MEM_VM_RSS] / page_size
                         : 0;
    return (uint64_t)p->vma_count * UNITS_PER_VMA + pages;
}

struct candidate {
    const struct vm_process *p;
};

/* Order: never visited first, then least recently visited; larger RSS first among equals. */
static int cmp_candidate(const void *a, const void *b) {
    const struct vm_process *x = ((const struct candidate *)a)->p;
    const struct vm_process *y = ((const struct candidate *)b)->p;
    if (x->smaps_at_ms != y->smaps_at_ms)
        return x->smaps_at_ms < y->smaps_at_ms ? -1 : 1;
    uint64_t rx = x->memory[VM_MEM_VM_RSS], ry = y->memory[VM_MEM_VM_RSS];
    if (rx != ry)
        return rx > ry ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Choose, from the previous snapshot, the processes the per-VMA tier visits now: in
 * round-robin order (least recently visited first, largest first among equals) while their
 * estimated cost fits the budget; the first always goes, so a process bigger than the whole
 * budget is still visited in its turn. */
static int plan_deep(struct scan *sc) {
    const struct vm_collector *c = sc->c;
    sc->deep_unplanned = true;
    if (sc->budget_ns == 0 || !sc->prev || c->deep_budget_ns == UINT64_MAX)
        return 0;
    const struct vm_snapshot *prev = sc->prev;
    const struct vm_process *procs = vm_snapshot_procs(prev);
    _cleanup_free_ struct candidate *cand = malloc_array(prev->nprocs, sizeof(*cand));
    sc->picks = malloc_array(prev->nprocs, sizeof(*sc->picks));
    if (!cand || !sc->picks)
        return -ENOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < prev->nprocs; i++)
        if (!(procs[i].flags & VM_PROC_KTHREAD) && (procs[i].flags & VM_PROC_MAPS) &&
            procs[i].vma_count > 0)
            cand[n++].p = &procs[i];
    qsort(cand, n, sizeof(*cand), cmp_candidate);
    uint64_t spent = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t cost = deep_units(cand[i].p, c->node.page_size) * c->deep_ns_per_unit;
        if (i > 0 && spent + cost > sc->budget_ns) {
            sc->deep_unplanned = false; /* the budget is taken: no extra visits */
            break;
        }
        spent += cost;
        sc->picks[sc->npicks++] = (struct deep_pick){cand[i].p->pid, cand[i].p->starttime};
    }
    qsort(sc->picks, sc->npicks, sizeof(*sc->picks), cmp_pick);
    return 0;
}

/* The task's mmap direction: bottom-up under vm.legacy_va_layout or with ADDR_COMPAT_LAYOUT in
 * its personality (which needs ptrace-attach access; without it the sysctl decides). */
static bool read_top_down(struct scan *sc, int dirfd, struct vm_process *p) {
    bool top_down = sc->c->node.legacy_va_layout <= 0;
    size_t len;
    int r = read_file_at(dirfd, "personality", sc->c->buf, 64, &len, NULL);
    if (r < 0) {
        if (!gone(r))
            add_error(sc, p, VM_SOURCE_PERSONALITY, r);
        return top_down;
    }
    uint64_t persona;
    while (len > 0 && sc->c->buf[len - 1] == '\n')
        len--;
    if (parse_x64(sc->c->buf, len, &persona) == 0 && (persona & PERSONA_ADDR_COMPAT_LAYOUT))
        top_down = false;
    return top_down;
}

/* Observed peaks and unvisited per-VMA figures from the previous snapshot. */
static int carry_over(struct scan *sc, struct vm_process *p) {
    uint64_t rss = (p->memory_present & (1u << VM_MEM_VM_RSS)) ? p->memory[VM_MEM_VM_RSS] : 0;
    const struct vm_process *old = sc->prev ? vm_snapshot_find(sc->prev, p->pid) : NULL;
    if (old && old->starttime != p->starttime)
        old = NULL; /* the pid was reused: a new process */
    if (old && old->observed_rss_max >= rss && old->observed_rss_max_at_ms) {
        p->observed_rss_max = old->observed_rss_max;
        p->observed_rss_max_at_ms = old->observed_rss_max_at_ms;
    } else if (p->memory_present & (1u << VM_MEM_VM_RSS)) {
        p->observed_rss_max = rss;
        p->observed_rss_max_at_ms = sc->now_ms;
    }
    /* The last VmHWM/VmPeak seen: a zombie has none, and its exit record needs them. */
    if (vm_process_has_memory(p, VM_MEM_VM_HWM)) {
        p->last_vm_hwm = p->memory[VM_MEM_VM_HWM];
        p->flags |= VM_PROC_LAST_HWM;
    } else if (old && (old->flags & VM_PROC_LAST_HWM)) {
        p->last_vm_hwm = old->last_vm_hwm;
        p->flags |= VM_PROC_LAST_HWM;
    }
    if (vm_process_has_memory(p, VM_MEM_VM_PEAK)) {
        p->last_vm_peak = p->memory[VM_MEM_VM_PEAK];
        p->flags |= VM_PROC_LAST_PEAK;
    } else if (old && (old->flags & VM_PROC_LAST_PEAK)) {
        p->last_vm_peak = old->last_vm_peak;
        p->flags |= VM_PROC_LAST_PEAK;
    }
    if (old && p->smaps_at_ms == 0 && old->smaps_at_ms && (p->flags & VM_PROC_MAPS)) {
        p->smaps_at_ms = old->smaps_at_ms;
        p->res_at_ms = old->res_at_ms;
        p->res_source = old->res_source;
        return carry_vmas(sc, p, old);
    }
    return 0;
}

/* The page walk of a process the per-VMA tier visits (its VMAs are in the builder). Returns 0,
 * -ESRCH when it went away, -ENOMEM; other failures are error entries. */
static int walk_process(struct scan *sc, int dirfd, struct vm_process *p) {
    struct vm_collector *c = sc->c;
    struct vm_vma *vmas = snap_builder_vma(sc->b, p->vma_first);
    size_t n = 0;
    if (!vmas || p->vma_n == 0)
        return 0;
    if (GROW(c->walk_vmas, c->walk_cap, p->vma_n) < 0)
        return -ENOMEM;
    for (uint32_t i = 0; i < p->vma_n; i++)
        if (vmas[i].kind != VM_KIND_VSYSCALL)
            c->walk_vmas[n++] = (struct pagewalk_vma){.start = vmas[i].start,
                                                      .end = vmas[i].end,
                                                      .hugetlb = vmas[i].kind == VM_KIND_HUGETLB};
    _cleanup_close_ int fd = openat(dirfd, "pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (gone(-errno))
            return -ESRCH;
        add_error(sc, p, VM_SOURCE_PAGEMAP, -errno);
        return 0;
    }
    enum pagewalk_source src = c->walk == VM_RES_PAGEMAP_SCAN ? PAGEWALK_SCAN : PAGEWALK_PAGEMAP;
    int r = pagewalk_run(fd, src, c->walk_vmas, n, &c->walk_ctx);
    if (r == -ENOTTY && src == PAGEWALK_SCAN) {
        c->walk = VM_RES_PAGEMAP; /* the ioctl is not there after all: pagemap from now on */
        src = PAGEWALK_PAGEMAP;
        r = pagewalk_run(fd, src, c->walk_vmas, n, &c->walk_ctx);
    }
    if (r == -ESRCH || r == -ENOMEM)
        return r;
    if (r < 0) {
        add_error(sc, p, VM_SOURCE_PAGEMAP, r);
        return 0;
    }
    uint8_t source = src == PAGEWALK_SCAN ? VM_RES_PAGEMAP_SCAN : VM_RES_PAGEMAP;
    size_t k = 0;
    for (uint32_t i = 0; i < p->vma_n; i++) {
        if (vmas[i].kind == VM_KIND_VSYSCALL)
            continue;
        for (int f = 0; f < _VM_RES_MAX; f++) {
            uint64_t pages = c->walk_vmas[k].pages[f];
            vmas[i].res_pages[f] = pages > UINT32_MAX ? UINT32_MAX : (uint32_t)pages;
        }
        vmas[i].res_known = c->walk_vmas[k].skipped ? 0 : (uint8_t)c->walk_ctx.known;
        vmas[i].res_source = source;
        k++;
    }
    p->res_source = source;
    p->res_at_ms = sc->now_ms;
    return 0;
}

/* Read one process. Returns 0, -ESRCH when it vanished (the caller drops it), or a fatal
 * -errno (-ENOMEM, -E2BIG). */
static int collect_pid(struct scan *sc, const char *name, int32_t pid) {
    struct vm_collector *c = sc->c;
    char *buf = c->buf;
    size_t len;
    bool cut;
    int r;

    _cleanup_close_ int dirfd =
        openat(c->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    int open_errno = errno;
    if (dirfd < 0 && (open_errno == ENOENT || open_errno == ESRCH))
        return -ESRCH;

    struct vm_process *p;
    r = snap_builder_add_process(sc->b, &p);
    if (r < 0)
        return r;
    p->pid = pid;
    if (dirfd < 0) {
        /* Listed but not openable (procfs hidepid=noaccess gives EPERM): all we know is the pid. */
        add_error(sc, p, VM_SOURCE_STAT, -open_errno);
        return 0;
    }

    /* stat: identity (starttime), comm, state, ppid, threads, layout addresses. */
    struct stat_info st;
    bool have_stat = false;
    r = read_file_at(dirfd, "stat", buf, VM_SMALL_FILE_MAX, &len, NULL);
    if (gone(r))
        return -ESRCH;
    if (r == 0 && stat_parse(buf, len, &st) == 0 && st.pid == pid) {
        have_stat = true;
        p->ppid = st.ppid;
        p->state = st.state;
        p->threads = st.num_threads > UINT32_MAX ? UINT32_MAX : (uint32_t)st.num_threads;
        p->starttime = st.starttime;
        p->start_time_ms = c->node.btime * 1000 + st.starttime * 1000 / c->node.clk_tck;
        if (st.flags & PF_KTHREAD_FLAG)
            p->flags |= VM_PROC_KTHREAD;
        r = intern(sc, st.comm, st.comm_len, &p->comm);
        if (r < 0)
            return r;
        if (st.comm_cut)
            sc->truncations++;
    } else {
        add_error(sc, p, VM_SOURCE_STAT, r < 0 ? r : -EINVAL);
    }

    /* status: memory counters, uid, Kthread. */
    struct status_info status;
    bool have_status = false;
    r = read_file_at(dirfd, "status", buf, VM_SMALL_FILE_MAX, &len, NULL);
    if (gone(r))
        return -ESRCH;
    if (r == 0 && status_parse(buf, len, &status) == 0) {
        have_status = true;
        memcpy(p->memory, status.memory, sizeof(p->memory));
        p->memory_present = status.memory_present;
        if (status.has_uid) {
            p->uid = status.uid[1];
            p->flags |= VM_PROC_UID;
        }
        if (status.kthread == 1)
            p->flags |= VM_PROC_KTHREAD;
        if (!have_stat) {
            p->ppid = status.has_ppid ? status.ppid : 0;
            p->state = status.state;
            p->threads = status.has_threads && status.threads <= UINT32_MAX
                             ? (uint32_t)status.threads
                             : 0;
        }
    } else {
        add_error(sc, p, VM_SOURCE_STATUS, r < 0 ? r : -EINVAL);
    }

    /* cmdline, capped. */
    r = read_file_at(dirfd, "cmdline", buf, VM_CMDLINE_MAX, &len, &cut);
    if (gone(r))
        return -ESRCH;
    if (r == 0) {
        bool fcut;
        size_t n = cmdline_format(buf, len, c->cmdline, VM_CMDLINE_MAX + 1, &fcut);
        if (cut || fcut) {
            p->flags |= VM_PROC_CMDLINE_CUT;
            sc->truncations++;
        }
        r = intern(sc, c->cmdline, n, &p->cmdline);
        if (r < 0)
            return r;
    } else {
        add_error(sc, p, VM_SOURCE_CMDLINE, r);
    }

    /* cgroup and the systemd unit. */
    r = read_file_at(dirfd, "cgroup", buf, VM_SMALL_FILE_MAX, &len, NULL);
    if (gone(r))
        return -ESRCH;
    if (r == 0) {
        const char *path, *unit;
        size_t plen, ulen;
        if (cgroup_parse(buf, len, &path, &plen) == 0) {
            r = intern(sc, path, plen, &p->cgroup);
            if (r < 0)
                return r;
            if (cgroup_unit(path, plen, &unit, &ulen) == 0) {
                r = intern(sc, unit, ulen, &p->unit);
                if (r < 0)
                    return r;
            }
        }
    } else {
        add_error(sc, p, VM_SOURCE_CGROUP, r);
    }

    if (p->flags & VM_PROC_UID) {
        const char *user = user_cache_name(c->users, p->uid, sc->now_mono_ns, USER_CACHE_AGE_NS);
        if (user) {
            r = intern(sc, user, strlen(user), &p->user);
            if (r < 0)
                return r;
        }
    }

    /* Kernel threads and zombies have no mm: no VMAs, no rollup; that is the truth, not an
     * error. (status then has no Vm lines at all.) */
    bool has_mm = !(p->flags & VM_PROC_KTHREAD) && p->state != 'Z' && p->state != 'X' &&
                  (!have_status || p->memory_present != 0);
    if (!has_mm) {
        p->flags |= VM_PROC_MAPS;
        layout_compute(p, NULL, 0, NULL, false, c->node.legacy_va_layout <= 0);
        return carry_over(sc, p);
    }

    r = read_file_at(dirfd, "smaps_rollup", buf, VM_SMALL_FILE_MAX, &len, NULL);
    if (gone(r))
        return -ESRCH;
    if (r == 0 && len == 0)
        return -ESRCH; /* exited meanwhile */
    if (r == 0 && rollup_parse(buf, len, p->rollup, &p->rollup_present) == 0)
        p->flags |= VM_PROC_ROLLUP;
    else
        add_error(sc, p, VM_SOURCE_SMAPS_ROLLUP, r < 0 ? r : -EINVAL);

    bool top_down = read_top_down(sc, dirfd, p);

    bool deep = want_deep(sc, pid, p->starttime);
    uint64_t t0 = deep ? clock_ns(CLOCK_THREAD_CPUTIME_ID) : 0;
    r = read_vmas(sc, dirfd, p, deep);
    if (deep && r == 0 && c->walk != VM_RES_NONE) {
        r = walk_process(sc, dirfd, p);
        if (r == -ENOMEM)
            return r;
    }
    if (deep)
        sc->deep_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
    if (gone(r))
        return -ESRCH;
    if (r == -ENOMEM || r == -E2BIG)
        return r;
    if (r < 0) {
        /* -EAGAIN: the list tore on every attempt (the process remaps without pause). */
        add_error(sc, p, deep ? VM_SOURCE_SMAPS : VM_SOURCE_MAPS, r);
    } else {
        p->flags |= VM_PROC_MAPS;
        if (deep) {
            p->smaps_at_ms = sc->now_ms;
            sc->deep_units += deep_units(p, c->node.page_size);
            r = snap_builder_add_deep_pid(sc->b, pid);
            if (r < 0)
                return r;
        }
    }

    bool stat_usable = have_stat && !stat_layout_masked(&st);
    if (have_stat && !stat_usable)
        add_error(sc, p, VM_SOURCE_STAT, -EACCES); /* layout fields masked: no ptrace access */
    layout_compute(p, snap_builder_vma(sc->b, p->vma_first), p->vma_n, have_stat ? &st : NULL,
                   stat_usable, top_down);
    return carry_over(sc, p);
}

static bool parse_pid_name(const char *s, int32_t *ret) {
    uint64_t v;
    if (s[0] < '1' || s[0] > '9' || parse_u64(s, strlen(s), &v) < 0 || v > INT32_MAX)
        return false;
    *ret = (int32_t)v;
    return true;
}

static const char *user_name(void *userdata, uint32_t uid) {
    struct scan *sc = userdata;
    return user_cache_name(sc->c->users, uid, sc->now_mono_ns, USER_CACHE_AGE_NS);
}

/* Drop the exits a scan took, and those that waited too long. */
static void keep_pending_exits(struct vm_collector *c, const bool *used, uint64_t now_ns) {
    size_t k = 0;
    for (size_t i = 0; i < c->nexits; i++)
        if (!used[i] && c->exits_at[i] + PENDING_EXIT_MAX_AGE_NS > now_ns) {
            c->exits[k] = c->exits[i];
            c->exits_at[k++] = c->exits_at[i];
        }
    c->nexits = k;
}

/* Whether prev was taken in this boot: pids and start times of another boot mean nothing
 * now (a restored state from before a reboot). */
static bool same_boot(const struct vm_collector *c, const struct vm_snapshot *prev) {
    const char *boot = vm_snapshot_str(prev, prev->node.boot_id);
    return strcmp(boot ? boot : "", c->node.boot_id) == 0;
}

static void clear_resets(struct vm_collector *c) {
    for (size_t i = 0; i < c->nresets; i++)
        free((char *)c->resets[i].key);
    free(c->resets);
    c->resets = NULL;
    c->nresets = 0;
}

static int scan_all(struct vm_collector *c, const struct vm_snapshot *prev, int32_t force_pid,
                    struct vm_snapshot **ret) {
    bool prev_same_boot = prev && same_boot(c, prev);
    struct scan sc = {
        .c = c,
        .b = c->builder,
        .prev = prev_same_boot ? prev : NULL, /* per-process carry-over */
        .now_mono_ns = clock_ns(CLOCK_MONOTONIC),
        .force_pid = force_pid,
    };
    sc.now_ms = clock_ns(CLOCK_REALTIME) / 1000000;
    uint64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    bool *used = NULL; /* which pending exits this scan took */
    int r;

    snap_builder_reset(sc.b);
    node_refresh(c->procfd, c->sysfd, &c->node);
    /* The budget is an average: a scan whose tier went over it (the first process of the
     * round-robin is visited even when it alone costs more) leaves less to the next ones. */
    sc.budget_ns = c->deep_budget_ns > c->deep_debt_ns ? c->deep_budget_ns - c->deep_debt_ns : 0;
    r = force_pid > 0 ? 0 : plan_deep(&sc);
    if (r < 0)
        goto out;

    DIR *dir;
    if ((r = opendir_at(c->procfd, ".", &dir)) < 0)
        goto out;
    struct dirent *de;
    while ((de = readdir(dir))) {
        int32_t pid;
        if (__atomic_load_n(&c->cancelled, __ATOMIC_RELAXED)) {
            closedir(dir);
            r = -ECANCELED;
            goto out;
        }
        if (!parse_pid_name(de->d_name, &pid))
            continue;
        /* -ESRCH: the process went away, or exec'd, while being read. Try once more: a
         * process that exec'd is read afresh, one that exited fails at once (or is a zombie
         * now), and a pid that is gone is dropped and counted. */
        for (int attempt = 0; attempt < 2; attempt++) {
            size_t before = snap_builder_nprocs(sc.b);
            uint64_t errors[_VM_SOURCE_MAX];
            memcpy(errors, sc.errors, sizeof(errors));
            r = collect_pid(&sc, de->d_name, pid);
            if (r != -ESRCH)
                break;
            if (snap_builder_nprocs(sc.b) > before)
                snap_builder_drop_process(sc.b);
            memcpy(sc.errors, errors, sizeof(errors)); /* errors of a dropped read don't count */
        }
        if (r == -ESRCH) {
            sc.vanished++;
            continue;
        }
        if (r < 0) {
            closedir(dir);
            goto out;
        }
    }
    closedir(dir);

    if (c->deep_budget_ns != UINT64_MAX) {
        if (force_pid > 0) {
            /* A refresh is extra work on request: all of its CPU is owed, and only regular
             * scans (one budget each) pay it back. */
            c->deep_debt_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
        } else {
            uint64_t owed = c->deep_debt_ns + sc.deep_ns;
            c->deep_debt_ns = owed > c->deep_budget_ns ? owed - c->deep_budget_ns : 0;
        }
    }
    /* Learn the cost of the per-VMA tier (integer EWMA with weight 1/2). */
    if (sc.deep_units > 1000) {
        uint64_t rate = sc.deep_ns / sc.deep_units;
        c->deep_ns_per_unit = (c->deep_ns_per_unit + (rate ? rate : 1) + 1) / 2;
    }

    struct vm_snapshot hdr = {
        .seq = prev ? prev->seq + 1 : 1,
        .collected_at_ms = sc.now_ms,
        .duration_ns = clock_ns(CLOCK_MONOTONIC) - sc.now_mono_ns,
        .cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0,
        .deep_cpu_ns = sc.deep_ns,
        .scans_total = (prev ? prev->scans_total : 0) + 1,
        .truncations_total = (prev ? prev->truncations_total : 0) + sc.truncations,
        .vanished_total = (prev ? prev->vanished_total : 0) + sc.vanished,
    };
    for (int i = 0; i < _VM_SOURCE_MAX; i++)
        hdr.errors_total[i] = (prev ? prev->errors_total[i] : 0) + sc.errors[i];
    struct vm_node *n = &hdr.node;
    const struct node_facts *f = &c->node;
    if ((r = intern(&sc, f->hostname, strlen(f->hostname), &n->hostname)) < 0 ||
        (r = intern(&sc, f->boot_id, strlen(f->boot_id), &n->boot_id)) < 0 ||
        (r = intern(&sc, f->kernel, strlen(f->kernel), &n->kernel)) < 0 ||
        (r = intern(&sc, f->thp_enabled, strlen(f->thp_enabled), &n->thp_enabled)) < 0)
        goto out;
    n->page_size = f->page_size;
    n->clk_tck = f->clk_tck;
    n->address_bits = f->address_bits;
    n->legacy_va_layout = f->legacy_va_layout;
    n->randomize_va_space = f->randomize_va_space;
    n->caps = f->caps;
    n->walk_source = (uint8_t)c->walk;
    n->max_map_count = f->max_map_count;
    n->btime = f->btime;
    used = calloc(c->nexits ? c->nexits : 1, sizeof(*used));
    if (!used) {
        r = -ENOMEM;
        goto out;
    }
    struct hiwater_opts ho = {
        .now_ms = sc.now_ms,
        .exited_max = c->exited_max,
        .prev_same_boot = prev_same_boot,
        .sysfd = (f->caps & (1u << VM_CAP_MEMORY_PEAK)) ? c->sysfd : -1,
        .resets = c->resets,
        .nresets = c->nresets,
        .exits = c->exits,
        .nexits = c->nexits,
        .used = used,
        .clk_tck = f->clk_tck,
        .boot_time_ms = f->btime * 1000,
        .user_name = user_name,
        .user_userdata = &sc,
    };
    if ((r = hugepages_collect(c->procfd, c->sysfd, sc.b, &hdr.thp)) < 0 ||
        (r = hiwater_update(sc.b, prev, &ho)) < 0)
        goto out;
    if (c->taskstats)
        n->caps |= 1u << VM_CAP_TASKSTATS;
    hdr.taskstats_exits_total = c->exits_total;
    hdr.taskstats_unseen_total = c->unseen_total + ho.unseen;
    hdr.taskstats_lost_total = c->lost_total;
    r = snap_builder_finish(sc.b, &hdr, ret);
    if (r == 0) {
        clear_resets(c); /* done: the new snapshot no longer has those peaks */
        c->unseen_total += ho.unseen;
        keep_pending_exits(c, used, clock_ns(CLOCK_MONOTONIC));
    }
out:
    free(used);
    free(sc.picks);
    if (r < 0)
        snap_builder_reset(sc.b);
    return r;
}

int vm_collector_scan(struct vm_collector *c, const struct vm_snapshot *prev,
                      struct vm_snapshot **ret) {
    return scan_all(c, prev, 0, ret);
}

int vm_collector_refresh(struct vm_collector *c, const struct vm_snapshot *prev, int32_t pid,
                         uint64_t *ret_retry_ns, struct vm_snapshot **ret) {
    if (pid <= 0)
        return -EINVAL;
    if (c->deep_budget_ns != UINT64_MAX && c->deep_debt_ns >= c->deep_budget_ns) {
        /* Spent: the debt shrinks by one budget per regular scan. */
        if (ret_retry_ns)
            *ret_retry_ns = c->deep_debt_ns - c->deep_budget_ns + 1;
        return -EAGAIN;
    }
    int r = scan_all(c, prev, pid, ret);
    if (r < 0)
        return r;
    /* Without the process the snapshot is still the newest view of everything else. */
    return vm_snapshot_find(*ret, pid) ? 0 : -ESRCH;
}

void vm_collector_set_deep_budget(struct vm_collector *c, uint64_t deep_budget_ns) {
    c->deep_budget_ns = deep_budget_ns;
}

int vm_collector_taskstats(struct vm_collector *c, const struct vm_task_exit *exits, size_t n,
                           uint64_t lost_total) {
    c->taskstats = true;
    c->lost_total = lost_total + c->lost_pending;
    if (!c->exits) {
        c->exits = malloc_array(PENDING_EXITS_MAX, sizeof(*c->exits));
        c->exits_at = malloc_array(PENDING_EXITS_MAX, sizeof(*c->exits_at));
        if (!c->exits || !c->exits_at)
            return -ENOMEM;
    }
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    for (size_t i = 0; i < n; i++) {
        if (!exits[i].group_dead)
            continue;
        c->exits_total++;
        if (c->nexits == PENDING_EXITS_MAX) {
            /* Full: the oldest goes (counted lost). */
            memmove(c->exits, c->exits + 1, (c->nexits - 1) * sizeof(*c->exits));
            memmove(c->exits_at, c->exits_at + 1, (c->nexits - 1) * sizeof(*c->exits_at));
            c->nexits--;
            c->lost_pending++;
            c->lost_total++;
        }
        c->exits[c->nexits] = exits[i];
        c->exits_at[c->nexits++] = now;
    }
    return 0;
}

void vm_collector_cancel(struct vm_collector *c) {
    __atomic_store_n(&c->cancelled, true, __ATOMIC_RELAXED);
}

int vm_collector_reset_peaks(struct vm_collector *c, int by, const char *key) {
    if (by < -1 || by >= _VM_GROUP_MAX)
        return -EINVAL;
    struct hiwater_reset *more = realloc(c->resets, (c->nresets + 1) * sizeof(*more));
    if (!more)
        return -ENOMEM;
    c->resets = more;
    char *k = NULL;
    if (key && !(k = strdup(key)))
        return -ENOMEM;
    c->resets[c->nresets++] = (struct hiwater_reset){by, k};
    return 0;
}

static int open_root(const char *path, int *ret) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    *ret = fd;
    return 0;
}

int vm_collector_new(const struct vm_collector_options *opts, struct vm_collector **ret) {
    _cleanup_collector_ struct vm_collector *c = calloc(1, sizeof(*c));
    int r;
    if (!c)
        return -ENOMEM;
    c->procfd = c->sysfd = -1;
    c->deep_budget_ns = opts->deep_budget_ns;
    c->deep_ns_per_unit = DEEP_NS_PER_UNIT_INITIAL;
    c->exited_max = opts->exited_max ? opts->exited_max : VM_EXITED_DEFAULT;
    c->walk_ctx.page_size = (uint64_t)getpagesize();
    if (c->exited_max > VM_EXITED_MAX)
        c->exited_max = VM_EXITED_MAX;
    if ((r = open_root(opts->procfs_root ? opts->procfs_root : "/proc", &c->procfd)) < 0 ||
        (r = open_root(opts->sysfs_root ? opts->sysfs_root : "/sys", &c->sysfd)) < 0)
        return r;
    if ((r = user_cache_new(&c->users)) < 0 || (r = snap_builder_new(&c->builder)) < 0)
        return r;
    c->buf = malloc(VM_SMALL_FILE_MAX);
    c->stream = malloc(VM_STREAM_BUF);
    c->cmdline = malloc(VM_CMDLINE_MAX + 1);
    c->name = malloc(VM_LINE_MAX);
    if (!c->buf || !c->stream || !c->cmdline || !c->name)
        return -ENOMEM;
    r = node_probe(c->procfd, c->sysfd, &c->node);
    if (r < 0)
        return r == -ENOENT ? -ENOTDIR : r;
    c->walk_ctx.soft_dirty_supported = c->node.caps & (1u << VM_CAP_SOFT_DIRTY);
    /* A procfs root without pagemap files (a fixture tree) has nothing to walk. */
    bool pagemap = faccessat(c->procfd, "self/pagemap", R_OK, 0) == 0;
    switch (pagemap ? opts->residency : VM_RESIDENCY_SMAPS) {
    case VM_RESIDENCY_AUTO:
    case VM_RESIDENCY_PAGEMAP_SCAN:
        c->walk = (c->node.caps & (1u << VM_CAP_PAGEMAP_SCAN)) ? VM_RES_PAGEMAP_SCAN
                                                                : VM_RES_PAGEMAP;
        break;
    case VM_RESIDENCY_PAGEMAP:
        c->walk = VM_RES_PAGEMAP;
        break;
    case VM_RESIDENCY_SMAPS:
        c->walk = VM_RES_NONE;
        break;
    }
    *ret = TAKE_PTR(c);
    return 0;
}

struct vm_collector *vm_collector_free(struct vm_collector *c) {
    if (c) {
        if (c->procfd >= 0)
            close(c->procfd);
        if (c->sysfd >= 0)
            close(c->sysfd);
        user_cache_free(c->users);
        snap_builder_free(c->builder);
        free(c->buf);
        free(c->stream);
        free(c->cmdline);
        free(c->name);
        free(c->walk_vmas);
        free(c->exits);
        free(c->exits_at);
        clear_resets(c);
        pagewalk_ctx_done(&c->walk_ctx);
        free(c);
    }
    return NULL;
}
