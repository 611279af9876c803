/* live_pagewalk.c: collector/pagewalk.c's two sources on a child with known mappings, checked
 * against pagemap entries and smaps read here, and run over every process of the machine.
 *
 * The child is forked (so one region, mapped and written before the fork, is shared with the
 * test and not exclusive), then maps one region of each kind at fixed, well-separated
 * addresses, reports them over a pipe and sleeps. The test then reads, for every VMA of the
 * child: smaps, and the pagemap entries with this file's own loop (the zero page is told apart
 * by its PFN's kpageflags ZERO_PAGE bit, so this needs CAP_SYS_ADMIN); runs PAGEWALK_SCAN and
 * PAGEWALK_PAGEMAP; reads both kernel views again, and retries while the two views differ (the
 * test's own writes break CoW sharing with the child, which changes "exclusive"). Then:
 *   - PAGEWALK_PAGEMAP equals the entries (present, swapped minus guard markers, exclusive);
 *   - PAGEWALK_SCAN equals the entries minus zero pages, and smaps Rss; its THP pages equal
 *     AnonHugePages + ShmemPmdMapped + FilePmdMapped;
 *   - each known region has the counts it was built to have, and the known masks are right;
 *   - there are more regions than one PAGEMAP_SCAN vector holds (4096), so the restart runs;
 *     and VMAs of this process with 511 ... 12288 one-page regions, around multiples of the
 *     vector size, count each page once (walk_end is stale when the vector fills exactly);
 *   - both sources fail with -ESRCH on a zombie, on a reaped child, and after an execve.
 * VMAs over 64 GiB (sanitizer shadow) are read by PAGEWALK_SCAN and compared with smaps only.
 * Last, both sources run over every process (0 or -ESRCH) and their times are printed.
 *
 * "live_pagewalk --bench [REPS [MAX_GIB]]" runs only the all-process timing, REPS times each
 * (best kept), per process, skipping PAGEWALK_PAGEMAP for processes with more than MAX_GIB
 * mapped (default: no limit).
 *
 * Needs root with CAP_SYS_ADMIN (other processes' pagemap, PFNs, kpageflags): exits 77
 * otherwise. */
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "collector/kernel_abi.h"
#include "collector/pagewalk.h"
#include "live_util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define PAGE 4096ul
#define HUGE_2M (2ul << 20)
#define SLOT_SIZE (64ul << 20) /* each region gets its own slot: no neighbour merges */
#define KPF_ZERO_PAGE (1ull << 24)
#define BIG_VMA (64ull << 30)            /* bigger VMAs: PAGEWALK_SCAN and smaps only */
#define SWEEP_PAGEMAP_MAX (256ull << 30) /* the all-process check skips pagemap above this */
#define ATTEMPTS 6

enum {
    R_SPARSE,    /* 16 MiB anon, no THP, every 4th page written: 1024 */
    R_MANY,      /* 40 MiB anon, no THP, every 2nd page written: 5120 one-page regions */
    R_ZERO,      /* 1 MiB anon, no THP, every page read: 256 zero pages */
    R_UNTOUCHED, /* 1 MiB anon */
    R_FILE,      /* 64-page file, private read-only, pages 0 and 40 read (plus fault-around) */
    R_THP,       /* 8 MiB anon, 2 MiB aligned, MADV_HUGEPAGE, all written */
    R_HZERO,     /* 4 MiB anon, 2 MiB aligned, MADV_HUGEPAGE, all read: huge zero pages */
    R_GUARD,     /* 16 pages anon written, MADV_GUARD_INSTALL on pages 4..7 */
    R_SHARED,    /* 16 pages MAP_SHARED anon, 8 written: mapped once, so exclusive */
    R_FORKED,    /* 32 pages anon written by the test before the fork: shared with the test */
    R_HUGETLB,   /* 2 MiB MAP_HUGETLB written, when a pool page is free */
    R_MAX
};

static const char *const region_name[R_MAX] = {
    "sparse", "many",  "zero",   "untouched", "file",    "thp",
    "hzero",  "guard", "shared", "forked",    "hugetlb",
};

struct setup {
    uintptr_t base; /* slot i starts at base + i * SLOT_SIZE */
    bool hugetlb;
};

struct report {
    int ok;
    char err[160];
    uint64_t addr[R_MAX], len[R_MAX];
    int guard_ok;
    int hugetlb_errno;
};

#define SLOT(s, i) ((s)->base + (uintptr_t)(i)*SLOT_SIZE)

/* ------------------------------------------------------------------------------------------ */
/* The child                                                                                  */

static void *map_at(uintptr_t addr, size_t len, int prot, int flags, int fd) {
    void *p = mmap((void *)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
    if (p != MAP_FAILED && (uintptr_t)p != addr) { /* a kernel without NOREPLACE: only a hint */
        munmap(p, len);
        errno = EEXIST;
        return MAP_FAILED;
    }
    return p;
}

#define CHILD_FAIL(rep, ...)                                                                       \
    do {                                                                                           \
        snprintf((rep)->err, sizeof((rep)->err), __VA_ARGS__);                                     \
        return;                                                                                    \
    } while (0)

static void *map_anon(struct report *rep, const struct setup *s, int r, size_t len, int advice) {
    void *p = map_at(SLOT(s, r), len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    if (p == MAP_FAILED)
        return p;
    if (advice >= 0 && madvise(p, len, advice) < 0) {
        munmap(p, len);
        return MAP_FAILED;
    }
    rep->addr[r] = (uintptr_t)p, rep->len[r] = len;
    return p;
}

static void child_setup(struct report *rep, const struct setup *s) {
    void *p;

    if ((p = map_anon(rep, s, R_SPARSE, 16ul << 20, MADV_NOHUGEPAGE)) == MAP_FAILED)
        CHILD_FAIL(rep, "sparse: %s", strerror(errno));
    touch_w(p, 16ul << 20, 4 * PAGE);

    if ((p = map_anon(rep, s, R_MANY, 40ul << 20, MADV_NOHUGEPAGE)) == MAP_FAILED)
        CHILD_FAIL(rep, "many: %s", strerror(errno));
    touch_w(p, 40ul << 20, 2 * PAGE);

    if ((p = map_anon(rep, s, R_ZERO, 1ul << 20, MADV_NOHUGEPAGE)) == MAP_FAILED)
        CHILD_FAIL(rep, "zero: %s", strerror(errno));
    touch_r(p, 1ul << 20, PAGE);

    if (map_anon(rep, s, R_UNTOUCHED, 1ul << 20, -1) == MAP_FAILED)
        CHILD_FAIL(rep, "untouched: %s", strerror(errno));

    /* a file in the page cache, unlinked once mapped */
    char path[] = "/tmp/live_pagewalk.XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        CHILD_FAIL(rep, "mkstemp: %s", strerror(errno));
    char buf[PAGE];
    memset(buf, 'x', sizeof(buf));
    for (int i = 0; i < 64; i++)
        if (write(fd, buf, PAGE) != (ssize_t)PAGE) {
            unlink(path);
            CHILD_FAIL(rep, "write: %s", strerror(errno));
        }
    (void)fsync(fd);
    p = map_at(SLOT(s, R_FILE), 64 * PAGE, PROT_READ, MAP_PRIVATE, fd);
    int e = errno;
    unlink(path);
    close(fd);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "file: %s", strerror(e));
    touch_r(p, PAGE, PAGE);
    touch_r((char *)p + 40 * PAGE, PAGE, PAGE);
    rep->addr[R_FILE] = (uintptr_t)p, rep->len[R_FILE] = 64 * PAGE;

    if ((p = map_anon(rep, s, R_THP, 8ul << 20, MADV_HUGEPAGE)) == MAP_FAILED)
        CHILD_FAIL(rep, "thp: %s", strerror(errno));
    touch_w(p, 8ul << 20, PAGE);

    if ((p = map_anon(rep, s, R_HZERO, 4ul << 20, MADV_HUGEPAGE)) == MAP_FAILED)
        CHILD_FAIL(rep, "hzero: %s", strerror(errno));
    touch_r(p, 4ul << 20, PAGE);

    if ((p = map_anon(rep, s, R_GUARD, 16 * PAGE, -1)) == MAP_FAILED)
        CHILD_FAIL(rep, "guard: %s", strerror(errno));
    touch_w(p, 16 * PAGE, PAGE);
    rep->guard_ok = madvise((char *)p + 4 * PAGE, 4 * PAGE, MADV_GUARD_INSTALL) == 0;

    p = map_at(SLOT(s, R_SHARED), 16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "shared: %s", strerror(errno));
    touch_w(p, 8 * PAGE, PAGE);
    rep->addr[R_SHARED] = (uintptr_t)p, rep->len[R_SHARED] = 16 * PAGE;

    rep->addr[R_FORKED] = SLOT(s, R_FORKED), rep->len[R_FORKED] = 32 * PAGE;

    if (s->hugetlb) {
        p = map_at(SLOT(s, R_HUGETLB), HUGE_2M, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1);
        if (p == MAP_FAILED) {
            rep->hugetlb_errno = errno;
        } else {
            touch_w(p, HUGE_2M, PAGE);
            rep->addr[R_HUGETLB] = (uintptr_t)p, rep->len[R_HUGETLB] = HUGE_2M;
        }
    }
    rep->ok = 1;
}

static void child_main(int wfd, void *arg) {
    static struct report rep; /* written before "ready", never after */
    child_setup(&rep, arg);
    live_write_all(wfd, &rep, sizeof(rep));
}

/* A child that execs sleep(1) once it reads a byte from the fd passed as arg. */
static void child_exec(int wfd, void *arg) {
    int go = *(int *)arg;
    char c = 1;
    live_write_all(wfd, &c, 1);
    if (read(go, &c, 1) != 1)
        _exit(4);
    execl("/bin/sleep", "sleep", "60", (char *)NULL);
    _exit(5);
}

/* ------------------------------------------------------------------------------------------ */
/* The kernel's view: smaps and our own reading of pagemap                                    */

struct indep {
    bool read;          /* false for VMAs over BIG_VMA */
    uint64_t present;   /* bit 63 */
    uint64_t zero;      /* present, and the PFN is the (huge) zero page */
    uint64_t swapped;   /* bit 62 without bit 58 */
    uint64_t guard;     /* bit 58 */
    uint64_t exclusive; /* bits 63 and 56 */
    uint64_t soft_dirty;
};

struct view {
    struct live_maps sm;
    struct indep *ind;
};

static void view_free(struct view *w) {
    live_maps_free(&w->sm);
    free(w->ind);
    w->ind = NULL;
}

static bool is_vsyscall(const struct live_vma *v) {
    return v->start >= TASK_SIZE_56;
}

static bool has_flag(const struct live_vma *v, const char *flag) {
    if (!v->vmflags)
        return false;
    size_t fl = strlen(flag);
    for (const char *c = v->vmflags; *c;) {
        const char *sp = strchr(c, ' ');
        size_t len = sp ? (size_t)(sp - c) : strlen(c);
        if (len == fl && memcmp(c, flag, fl) == 0)
            return true;
        if (!sp)
            break;
        c = sp + 1;
    }
    return false;
}

static uint64_t kv(const struct live_vma *v, const char *key) {
    const struct live_kv *e = live_kvs_get(&v->f, key);
    return e ? e->value : 0;
}

static int indep_read(int pm, int kpf, uint64_t start, uint64_t end, struct indep *out) {
    static uint64_t buf[4096];
    memset(out, 0, sizeof(*out));
    out->read = true;
    for (uint64_t page = start / PAGE; page < end / PAGE;) {
        uint64_t want = end / PAGE - page;
        if (want > 4096)
            want = 4096;
        ssize_t got = pread(pm, buf, want * 8, (off_t)(page * 8));
        if (got <= 0 || got % 8)
            return -1;
        for (size_t i = 0; i < (size_t)got / 8; i++) {
            uint64_t e = buf[i];
            bool p = e >> 63 & 1, s = e >> 62 & 1;
            out->present += p;
            out->swapped += s && !(e >> 58 & 1);
            out->guard += e >> 58 & 1;
            out->exclusive += p && (e >> 56 & 1);
            out->soft_dirty += (p || s) && (e >> 55 & 1);
            /* the zero page is never exclusive; look the others up */
            if (p && !(e >> 56 & 1) && (e & PM_PFN_MASK)) {
                uint64_t f;
                if (pread(kpf, &f, 8, (off_t)((e & PM_PFN_MASK) * 8)) == 8 && (f & KPF_ZERO_PAGE))
                    out->zero++;
            }
        }
        page += (uint64_t)got / 8;
    }
    return 0;
}

static bool view_take(pid_t pid, int pm, int kpf, struct view *w) {
    memset(w, 0, sizeof(*w));
    if (!live_maps_read(pid, "smaps", &w->sm))
        return false;
    w->ind = calloc(w->sm.n ? w->sm.n : 1, sizeof(*w->ind));
    if (!w->ind)
        return false;
    for (size_t i = 0; i < w->sm.n; i++) {
        const struct live_vma *v = &w->sm.v[i];
        if (is_vsyscall(v) || v->end - v->start > BIG_VMA)
            continue;
        if (indep_read(pm, kpf, v->start, v->end, &w->ind[i]) < 0)
            return false;
    }
    return true;
}

static bool view_equal(const struct view *a, const struct view *b) {
    static const char *const keys[] = {"Rss", "Swap", "AnonHugePages", "ShmemPmdMapped",
                                       "FilePmdMapped"};
    if (a->sm.n != b->sm.n)
        return false;
    for (size_t i = 0; i < a->sm.n; i++) {
        const struct live_vma *x = &a->sm.v[i], *y = &b->sm.v[i];
        if (x->start != y->start || x->end != y->end ||
            memcmp(&a->ind[i], &b->ind[i], sizeof(a->ind[i])) != 0)
            return false;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            if (kv(x, keys[k]) != kv(y, keys[k]))
                return false;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Running the sources                                                                        */

struct runs {
    struct pagewalk_vma *scan; /* every VMA but [vsyscall]; index as in the view */
    struct pagewalk_vma *pm;   /* only VMAs of at most BIG_VMA */
    size_t *scan_of, *pm_of;   /* view index -> index in scan/pm, SIZE_MAX when absent */
    size_t nscan, npm;
    int scan_r, pm_r;
    uint32_t scan_known, pm_known;
    uint64_t scan_ns, pm_ns;
};

static void runs_free(struct runs *r) {
    free(r->scan);
    free(r->pm);
    free(r->scan_of);
    free(r->pm_of);
    memset(r, 0, sizeof(*r));
}

static bool runs_build(const struct view *w, struct runs *r) {
    size_t n = w->sm.n ? w->sm.n : 1;
    memset(r, 0, sizeof(*r));
    r->scan = calloc(n, sizeof(*r->scan));
    r->pm = calloc(n, sizeof(*r->pm));
    r->scan_of = calloc(n, sizeof(*r->scan_of));
    r->pm_of = calloc(n, sizeof(*r->pm_of));
    if (!r->scan || !r->pm || !r->scan_of || !r->pm_of)
        return false;
    for (size_t i = 0; i < w->sm.n; i++) {
        const struct live_vma *v = &w->sm.v[i];
        r->scan_of[i] = r->pm_of[i] = SIZE_MAX;
        if (is_vsyscall(v))
            continue;
        struct pagewalk_vma pv = {.start = v->start, .end = v->end, .hugetlb = has_flag(v, "ht")};
        r->scan_of[i] = r->nscan;
        r->scan[r->nscan++] = pv;
        if (v->end - v->start <= BIG_VMA) {
            r->pm_of[i] = r->npm;
            r->pm[r->npm++] = pv;
        }
    }
    return true;
}

static void runs_go(int fd, struct runs *r, struct pagewalk_ctx *ctx) {
    uint64_t t0 = live_now_ns();
    r->scan_r = pagewalk_run(fd, PAGEWALK_SCAN, r->scan, r->nscan, ctx);
    r->scan_known = ctx->known;
    uint64_t t1 = live_now_ns();
    r->pm_r = pagewalk_run(fd, PAGEWALK_PAGEMAP, r->pm, r->npm, ctx);
    r->pm_known = ctx->known;
    uint64_t t2 = live_now_ns();
    r->scan_ns = t1 - t0, r->pm_ns = t2 - t1;
}

/* ------------------------------------------------------------------------------------------ */
/* Checks                                                                                     */

static size_t view_find(const struct view *w, uint64_t start, uint64_t len) {
    for (size_t i = 0; i < w->sm.n; i++)
        if (w->sm.v[i].start == start && w->sm.v[i].end == start + len)
            return i;
    return SIZE_MAX;
}

#define VCHECK(cond, i)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  VMA %" PRIx64 "-%" PRIx64 " %s\n", w->sm.v[i].start,                \
                    w->sm.v[i].end, w->sm.v[i].name ? w->sm.v[i].name : "");                       \
            CHECK(cond);                                                                           \
        }                                                                                          \
    } while (0)

/* Every VMA: the sources against the entries and smaps. */
static void check_all_vmas(const struct view *w, const struct runs *r, bool sd) {
    size_t compared = 0, big = 0;
    for (size_t i = 0; i < w->sm.n; i++) {
        const struct live_vma *v = &w->sm.v[i];
        const struct indep *d = &w->ind[i];
        if (r->scan_of[i] == SIZE_MAX)
            continue;
        const uint64_t *s = r->scan[r->scan_of[i]].pages;
        bool hugetlb = r->scan[r->scan_of[i]].hugetlb;
        uint64_t rss = kv(v, "Rss"),
                 pmd_kb = kv(v, "AnonHugePages") + kv(v, "ShmemPmdMapped") + kv(v, "FilePmdMapped");
        /* PAGEWALK_SCAN against smaps (hugetlb is not in Rss) */
        if (!hugetlb) {
            VCHECK(s[RES_PRESENT] * 4 == rss, i);
            VCHECK(s[RES_THP] * 4 == pmd_kb, i);
        } else {
            VCHECK(s[RES_THP] == 0, i);
        }
        if (v->perms[3] == 'p')
            VCHECK(s[RES_SWAPPED] * 4 == kv(v, "Swap"), i);
        VCHECK(s[RES_EXCLUSIVE] == 0, i);
        if (!sd)
            VCHECK(s[RES_SOFT_DIRTY] == 0, i);
        if (!d->read) {
            big++;
            continue;
        }
        compared++;
        /* PAGEWALK_SCAN against the entries */
        VCHECK(s[RES_PRESENT] == d->present - d->zero, i);
        VCHECK(s[RES_SWAPPED] == d->swapped, i);
        if (sd)
            VCHECK(s[RES_SOFT_DIRTY] == d->soft_dirty, i);
        /* PAGEWALK_PAGEMAP against the entries, and smaps where no zero page blurs it */
        const uint64_t *p = r->pm[r->pm_of[i]].pages;
        VCHECK(p[RES_PRESENT] == d->present, i);
        VCHECK(p[RES_SWAPPED] == d->swapped, i);
        VCHECK(p[RES_EXCLUSIVE] == d->exclusive, i);
        VCHECK(p[RES_THP] == 0, i);
        VCHECK(p[RES_SOFT_DIRTY] == (sd ? d->soft_dirty : 0), i);
        if (!hugetlb && d->zero == 0)
            VCHECK(p[RES_PRESENT] * 4 == rss, i);
    }
    printf("live_pagewalk: %zu VMAs compared with the entries, %zu big ones with smaps only\n",
           compared, big);
}

/* The regions built with known contents. */
static void check_regions(const struct view *w, const struct runs *r, const struct report *rep) {
    for (int k = 0; k < R_MAX; k++) {
        if (!rep->addr[k])
            continue;
        size_t i = view_find(w, rep->addr[k], rep->len[k]);
        if (i == SIZE_MAX) {
            fprintf(stderr, "live_pagewalk: region %s at %" PRIx64 " is not one VMA\n",
                    region_name[k], rep->addr[k]);
            CHECK(i != SIZE_MAX);
            continue;
        }
        const uint64_t *s = r->scan[r->scan_of[i]].pages;
        const uint64_t *p = r->pm[r->pm_of[i]].pages;
        const struct indep *d = &w->ind[i];
        const struct live_vma *v = &w->sm.v[i];
        printf("  %-9s scan present %6" PRIu64 " swapped %" PRIu64 " thp %5" PRIu64
               " | pagemap present %6" PRIu64 " swapped %" PRIu64 " exclusive %6" PRIu64
               " | zero %5" PRIu64 " guard %" PRIu64 " | Rss %6" PRIu64 " kB AnonHuge %5" PRIu64
               " kB\n",
               region_name[k], s[RES_PRESENT], s[RES_SWAPPED], s[RES_THP], p[RES_PRESENT],
               p[RES_SWAPPED], p[RES_EXCLUSIVE], d->zero, d->guard, kv(v, "Rss"),
               kv(v, "AnonHugePages"));
        switch (k) {
        case R_SPARSE:
            CHECK_EQ_U64(s[RES_PRESENT], 1024);
            CHECK_EQ_U64(p[RES_PRESENT], 1024);
            CHECK_EQ_U64(p[RES_EXCLUSIVE], 1024);
            CHECK_EQ_U64(s[RES_THP], 0);
            break;
        case R_MANY:
            CHECK_EQ_U64(s[RES_PRESENT], 5120);
            CHECK_EQ_U64(p[RES_PRESENT], 5120);
            CHECK_EQ_U64(p[RES_EXCLUSIVE], 5120);
            break;
        case R_ZERO:
            CHECK_EQ_U64(d->zero, 256);
            CHECK_EQ_U64(s[RES_PRESENT], 0);
            CHECK_EQ_U64(p[RES_PRESENT], 256); /* pagemap cannot tell the zero page */
            CHECK_EQ_U64(p[RES_EXCLUSIVE], 0);
            break;
        case R_UNTOUCHED:
            for (int x = 0; x < _RES_MAX; x++) {
                CHECK_EQ_U64(s[x], 0);
                CHECK_EQ_U64(p[x], 0);
            }
            break;
        case R_FILE:
            CHECK(s[RES_PRESENT] >= 2 && s[RES_PRESENT] <= 64);
            CHECK_EQ_U64(s[RES_PRESENT], p[RES_PRESENT]);
            break;
        case R_THP:
            CHECK_EQ_U64(s[RES_PRESENT], 2048);
            CHECK_EQ_U64(p[RES_PRESENT], 2048);
            CHECK_EQ_U64(p[RES_EXCLUSIVE], 2048);
            if (kv(v, "AnonHugePages") == 8192)
                CHECK_EQ_U64(s[RES_THP], 2048);
            else
                printf("live_pagewalk: note: only %" PRIu64 " kB of the THP region got huge "
                       "pages\n",
                       kv(v, "AnonHugePages"));
            break;
        case R_HZERO:
            /* read faults map the huge zero page (use_zero_page=1) or 4K zero pages */
            CHECK_EQ_U64(s[RES_PRESENT], 0);
            CHECK_EQ_U64(s[RES_THP], 0);
            CHECK_EQ_U64(p[RES_PRESENT], d->zero);
            break;
        case R_GUARD:
            if (!rep->guard_ok) {
                printf("live_pagewalk: note: MADV_GUARD_INSTALL failed, guard part skipped\n");
                break;
            }
            CHECK_EQ_U64(d->guard, 4);
            CHECK_EQ_U64(s[RES_PRESENT], 12);
            CHECK_EQ_U64(p[RES_PRESENT], 12);
            CHECK_EQ_U64(s[RES_SWAPPED], 0);
            CHECK_EQ_U64(p[RES_SWAPPED], 0);
            break;
        case R_SHARED:
            CHECK_EQ_U64(s[RES_PRESENT], 8);
            CHECK_EQ_U64(p[RES_PRESENT], 8);
            CHECK_EQ_U64(p[RES_EXCLUSIVE], 8);
            break;
        case R_FORKED:
            CHECK_EQ_U64(s[RES_PRESENT], 32);
            CHECK_EQ_U64(p[RES_PRESENT], 32);
            CHECK_EQ_U64(p[RES_EXCLUSIVE], 0);
            break;
        case R_HUGETLB:
            CHECK(r->scan[r->scan_of[i]].hugetlb);
            CHECK_EQ_U64(s[RES_PRESENT], 512);
            CHECK_EQ_U64(p[RES_PRESENT], 512);
            CHECK_EQ_U64(s[RES_THP], 0);
            break;
        }
    }
}

/* One PAGEMAP_SCAN over the child with a large vector, as pagewalk.c asks it: the number of
 * regions (it must exceed pagewalk.c's 4096 for the restart to run), and whether walk_end is
 * stale after a complete walk (kernel-interfaces.md 6.4). */
static void count_regions(int fd, const struct runs *r) {
    size_t cap = 1u << 16;
    struct page_region *vec = calloc(cap, sizeof(*vec));
    CHECK(vec != NULL);
    if (!vec || r->nscan == 0)
        goto out;
    struct pm_scan_arg arg = {
        .size = sizeof(arg),
        .start = r->scan[0].start,
        .end = r->scan[r->nscan - 1].end,
        .vec = (uintptr_t)vec,
        .vec_len = cap,
        .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
        .return_mask =
            PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE | PAGE_IS_PFNZERO | PAGE_IS_GUARD,
    };
    long n = ioctl(fd, PAGEMAP_SCAN, &arg);
    CHECK(n > 4096 && (size_t)n < cap);
    printf("live_pagewalk: the child has %ld PAGEMAP_SCAN regions; after the complete walk "
           "walk_end is %s end (%#llx vs %#llx)\n",
           n, arg.walk_end == arg.end ? "equal to" : "NOT equal to",
           (unsigned long long)arg.walk_end, (unsigned long long)arg.end);
out:
    free(vec);
}

/* A VMA of this process with exactly k one-page regions, for k around multiples of the
 * vector size (4096 in pagewalk.c): when the vector fills with the last region the kernel's
 * walk_end is stale (below the last region's end), and resuming from it would count regions
 * twice. */
static void check_vector_boundaries(struct pagewalk_ctx *ctx) {
    static const uint64_t ks[] = {511, 512, 513, 4095, 4096, 4097, 8191, 8192, 8193, 12288};
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    for (size_t x = 0; fd >= 0 && x < sizeof(ks) / sizeof(ks[0]); x++) {
        size_t len = ks[x] * 2 * PAGE;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p != MAP_FAILED);
        if (p == MAP_FAILED)
            break;
        CHECK(madvise(p, len, MADV_NOHUGEPAGE) == 0);
        touch_w(p, len, 2 * PAGE);
        struct pagewalk_vma v = {.start = (uintptr_t)p, .end = (uintptr_t)p + len};
        CHECK_EQ_INT(pagewalk_run(fd, PAGEWALK_SCAN, &v, 1, ctx), 0);
        CHECK_EQ_U64(v.pages[RES_PRESENT], ks[x]);
        CHECK_EQ_INT(pagewalk_run(fd, PAGEWALK_PAGEMAP, &v, 1, ctx), 0);
        CHECK_EQ_U64(v.pages[RES_PRESENT], ks[x]);
        CHECK_EQ_U64(v.pages[RES_EXCLUSIVE], ks[x]);
        munmap(p, len);
    }
    if (fd >= 0)
        close(fd);
}

/* ------------------------------------------------------------------------------------------ */
/* The exit and exec cases                                                                    */

/* Wait (2 s at most) until the mm behind the pagemap fd pm is torn down. A dead process's mm
 * lives on while someone else holds a reference (e.g. a concurrent reader of its smaps or
 * pagemap: another live test running in parallel), and until then it can still be read. */
static bool wait_mm_gone(int pm, uint64_t addr) {
    for (int i = 0; i < 2000; i++) {
        uint64_t e;
        if (pread(pm, &e, 8, (off_t)(addr / PAGE * 8)) == 0)
            return true;
        usleep(1000);
    }
    return false;
}

static void check_gone(int fd, struct runs *r, struct pagewalk_ctx *ctx, const char *what) {
    CHECK(r->nscan > 0);
    if (!wait_mm_gone(fd, r->nscan ? r->scan[0].start : 0)) {
        fprintf(stderr, "live_pagewalk: %s: the mm is still readable after 2 s\n", what);
        CHECK(false);
        return;
    }
    int a = pagewalk_run(fd, PAGEWALK_SCAN, r->scan, r->nscan, ctx);
    CHECK_EQ_INT(a, -ESRCH);
    CHECK_EQ_U64(ctx->known, 0);
    int b = pagewalk_run(fd, PAGEWALK_PAGEMAP, r->pm, r->npm, ctx);
    CHECK_EQ_INT(b, -ESRCH);
    CHECK_EQ_U64(ctx->known, 0);
    printf("live_pagewalk: %s: scan %d, pagemap %d\n", what, a, b);
}

static void test_exec(struct pagewalk_ctx *ctx) {
    if (access("/bin/sleep", X_OK) < 0) {
        printf("live_pagewalk: exec part skipped: no /bin/sleep\n");
        return;
    }
    int go[2];
    CHECK(pipe2(go, O_CLOEXEC) == 0);
    char c;
    pid_t pid = live_spawn(child_exec, &go[0], &c, 1);
    close(go[0]);
    CHECK(pid > 0);
    if (pid <= 0) {
        close(go[1]);
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct view w = {0};
    struct runs r = {0};
    CHECK(fd >= 0);
    CHECK(live_maps_read(pid, "maps", &w.sm));
    w.ind = calloc(w.sm.n ? w.sm.n : 1, sizeof(*w.ind));
    CHECK(w.ind && runs_build(&w, &r));
    CHECK(pagewalk_run(fd, PAGEWALK_SCAN, r.scan, r.nscan, ctx) == 0); /* alive: fine */
    CHECK(write(go[1], "x", 1) == 1);
    close(go[1]);
    bool execd = false;
    for (int i = 0; i < 500 && !execd; i++) {
        char *comm = live_slurp_pid(pid, "comm", NULL);
        execd = comm && strcmp(comm, "sleep\n") == 0;
        free(comm);
        if (!execd)
            usleep(10000);
    }
    CHECK(execd);
    if (execd && fd >= 0)
        check_gone(fd, &r, ctx, "after execve (fd opened before)");
    if (fd >= 0)
        close(fd);
    runs_free(&r);
    view_free(&w);
    live_kill(pid);
}

/* ------------------------------------------------------------------------------------------ */
/* Every process of the machine                                                               */

struct sweep {
    size_t pids, vmas, gone, skipped_pm;
    uint64_t virt_bytes, scan_present, pm_present, scan_ns, pm_ns; /* pids timed with both */
    uint64_t big_scan_ns, big_scan_present; /* pids where pagemap was skipped: scan only */
};

/* Both sources over every process (but this one): 0 or -ESRCH each, timed (best of reps).
 * PAGEWALK_PAGEMAP is left out for processes with more than pm_max_bytes mapped. */
static void sweep_all(int reps, uint64_t pm_max_bytes, bool verbose, struct sweep *out) {
    memset(out, 0, sizeof(*out));
    struct pagewalk_ctx ctx = {.page_size = PAGE};
    DIR *d = opendir("/proc");
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *endp;
        long pid = strtol(de->d_name, &endp, 10);
        if (*endp || pid <= 0 || pid == getpid())
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/pagemap", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* gone, or a kernel thread (ESRCH) */
        struct view w = {0};
        struct runs r = {0};
        if (!live_maps_read((pid_t)pid, "maps", &w.sm) || w.sm.n == 0) {
            close(fd);
            live_maps_free(&w.sm);
            continue;
        }
        w.ind = calloc(w.sm.n, sizeof(*w.ind));
        if (!w.ind || !runs_build(&w, &r)) {
            CHECK(false);
            close(fd);
            view_free(&w);
            runs_free(&r);
            break;
        }
        uint64_t virt = 0;
        for (size_t i = 0; i < r.nscan; i++)
            virt += r.scan[i].end - r.scan[i].start;
        bool do_pm = virt <= pm_max_bytes;
        uint64_t best_scan = UINT64_MAX, best_pm = UINT64_MAX, sp = 0, pp = 0;
        int rs = 0, rp = 0;
        for (int k = 0; k < reps; k++) {
            /* alternate the order so neither source always runs on warm caches */
            for (int o = 0; o < 2; o++) {
                bool scan_turn = (o == 0) == (k % 2 == 0);
                if (!scan_turn && !do_pm)
                    continue;
                uint64_t t0 = live_now_ns();
                int x = scan_turn ? pagewalk_run(fd, PAGEWALK_SCAN, r.scan, r.nscan, &ctx)
                                  : pagewalk_run(fd, PAGEWALK_PAGEMAP, r.scan, r.nscan, &ctx);
                uint64_t t = live_now_ns() - t0;
                uint64_t present = 0;
                for (size_t i = 0; i < r.nscan; i++)
                    present += r.scan[i].pages[RES_PRESENT];
                if (scan_turn) {
                    rs = rs ? rs : x;
                    best_scan = t < best_scan ? t : best_scan;
                    sp = present;
                } else {
                    rp = rp ? rp : x;
                    best_pm = t < best_pm ? t : best_pm;
                    pp = present;
                }
            }
        }
        if (rs != 0 && rs != -ESRCH)
            fprintf(stderr, "live_pagewalk: pid %ld: scan %d\n", pid, rs);
        if (rp != 0 && rp != -ESRCH)
            fprintf(stderr, "live_pagewalk: pid %ld: pagemap %d\n", pid, rp);
        CHECK(rs == 0 || rs == -ESRCH);
        CHECK(rp == 0 || rp == -ESRCH);
        if (verbose) {
            char *comm = live_slurp_pid((pid_t)pid, "comm", NULL);
            if (comm)
                comm[strcspn(comm, "\n")] = 0;
            printf("  pid %7ld %-16s %5zu VMAs %9" PRIu64 " MiB: scan %8.3f ms %7" PRIu64
                   " pages, pagemap %8.3f ms %7" PRIu64 " pages\n",
                   pid, comm ? comm : "?", r.nscan, virt >> 20, (double)best_scan / 1e6, sp,
                   do_pm ? (double)best_pm / 1e6 : -1.0, pp);
            free(comm);
        }
        if (rs == -ESRCH || rp == -ESRCH) {
            out->gone++;
        } else {
            out->pids++;
            out->vmas += r.nscan;
            out->virt_bytes += virt;
            if (do_pm) {
                out->scan_ns += best_scan;
                out->scan_present += sp;
                out->pm_ns += best_pm;
                out->pm_present += pp;
            } else {
                out->skipped_pm++;
                out->big_scan_ns += best_scan;
                out->big_scan_present += sp;
                printf("live_pagewalk: pid %ld: %" PRIu64 " GiB mapped, pagemap not timed\n", pid,
                       virt >> 30);
            }
        }
        close(fd);
        view_free(&w);
        runs_free(&r);
    }
    closedir(d);
    pagewalk_ctx_done(&ctx);
}

static void sweep_print(const struct sweep *s, int reps) {
    printf("live_pagewalk: all processes (best of %d each): %zu pids, %zu VMAs, %" PRIu64
           " GiB mapped, %zu gone meanwhile\n"
           "  %zu pids with both: PAGEWALK_SCAN %.2f ms (%" PRIu64 " present pages, zero page "
           "excluded), PAGEWALK_PAGEMAP %.2f ms (%" PRIu64 " present pages, zero page included)\n",
           reps, s->pids, s->vmas, s->virt_bytes >> 30, s->gone, s->pids - s->skipped_pm,
           (double)s->scan_ns / 1e6, s->scan_present, (double)s->pm_ns / 1e6, s->pm_present);
    if (s->skipped_pm)
        printf("  %zu big pids, PAGEWALK_SCAN only: %.2f ms (%" PRIu64 " present pages)\n",
               s->skipped_pm, (double)s->big_scan_ns / 1e6, s->big_scan_present);
}

/* ------------------------------------------------------------------------------------------ */

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "live_pagewalk: timed out\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

/* PFNs visible (CAP_SYS_ADMIN) and kpageflags readable: the zero page can be recognised. */
static bool can_see_pfns(void) {
    static volatile char page[PAGE] __attribute__((aligned(4096)));
    page[0] = 1;
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    int kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
    uint64_t e = 0;
    bool ok = fd >= 0 && kpf >= 0 && pread(fd, &e, 8, (off_t)((uintptr_t)page / PAGE * 8)) == 8 &&
              (e & PM_PFN_MASK);
    if (fd >= 0)
        close(fd);
    if (kpf >= 0)
        close(kpf);
    return ok;
}

/* soft-dirty is tracked when a fresh VMA shows "sd" */
static bool soft_dirty_supported(void) {
    void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    struct live_maps m;
    bool sd = false;
    if (live_maps_read(getpid(), "smaps", &m)) {
        const struct live_vma *v = live_maps_find(&m, (uintptr_t)p);
        sd = v && has_flag(v, "sd");
    }
    live_maps_free(&m);
    munmap(p, PAGE);
    return sd;
}

static int bench(int reps, uint64_t pm_max) {
    struct sweep s;
    sweep_all(reps, pm_max, true, &s);
    sweep_print(&s, reps);
    return test_result("live_pagewalk --bench");
}

int main(int argc, char **argv) {
    if (geteuid() != 0) {
        printf("live_pagewalk: SKIP: needs root\n");
        return TEST_SKIP;
    }
    if (!can_see_pfns()) {
        printf("live_pagewalk: SKIP: needs CAP_SYS_ADMIN (PFNs in pagemap, kpageflags)\n");
        return TEST_SKIP;
    }
    signal(SIGALRM, on_alarm);
    if (argc >= 2 && strcmp(argv[1], "--bench") == 0) {
        alarm(1800);
        int reps = argc >= 3 ? atoi(argv[2]) : 5;
        uint64_t pm_max_gib = argc >= 4 ? strtoull(argv[3], NULL, 10) : 0;
        return bench(reps > 0 ? reps : 1, pm_max_gib ? pm_max_gib << 30 : UINT64_MAX);
    }
    alarm(240);

    struct pagewalk_ctx ctx = {.page_size = PAGE, .soft_dirty_supported = soft_dirty_supported()};
    printf("live_pagewalk: soft-dirty %s\n", ctx.soft_dirty_supported ? "tracked" : "not tracked");

    /* slots for the child's regions, and the region shared over the fork */
    struct setup s = {.hugetlb = live_hugepages_free() >= 1};
    size_t span = (size_t)R_MAX * SLOT_SIZE + HUGE_2M;
    void *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(res != MAP_FAILED);
    if (res == MAP_FAILED)
        return test_result("live_pagewalk");
    munmap(res, span);
    s.base = ((uintptr_t)res + HUGE_2M - 1) & ~(HUGE_2M - 1);
    void *forked = map_at(SLOT(&s, R_FORKED), 32 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1);
    CHECK(forked != MAP_FAILED);
    if (forked == MAP_FAILED)
        return test_result("live_pagewalk");
    touch_w(forked, 32 * PAGE, PAGE); /* never written again: the pages stay shared */

    struct report rep;
    pid_t pid = live_spawn(child_main, &s, &rep, sizeof(rep));
    CHECK(pid > 0);
    if (pid <= 0)
        return test_result("live_pagewalk");
    if (!rep.ok) {
        fprintf(stderr, "live_pagewalk: child setup failed: %s\n", rep.err);
        CHECK(rep.ok);
        live_kill(pid);
        return test_result("live_pagewalk");
    }
    if (s.hugetlb && !rep.addr[R_HUGETLB])
        printf("live_pagewalk: hugetlb part skipped: MAP_HUGETLB: %s\n",
               strerror(rep.hugetlb_errno));
    else if (!s.hugetlb)
        printf("live_pagewalk: hugetlb part skipped: no free pool page\n");

    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC); /* the collector's fd */
    int pm = open(path, O_RDONLY | O_CLOEXEC); /* ours */
    int kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0 && pm >= 0 && kpf >= 0);

    struct view before = {0}, after = {0};
    struct runs r = {0};
    bool stable = false;
    for (int attempt = 1; attempt <= ATTEMPTS && !stable; attempt++) {
        view_free(&before);
        view_free(&after);
        runs_free(&r);
        if (!view_take(pid, pm, kpf, &before) || !runs_build(&before, &r)) {
            CHECK(false);
            break;
        }
        runs_go(fd, &r, &ctx);
        CHECK(view_take(pid, pm, kpf, &after));
        stable = view_equal(&before, &after);
        if (!stable)
            printf("live_pagewalk: the child's pages changed while we read, again (%d)\n", attempt);
    }
    CHECK(stable);
    if (stable) {
        CHECK_EQ_INT(r.scan_r, 0);
        CHECK_EQ_INT(r.pm_r, 0);
        uint32_t sd = ctx.soft_dirty_supported ? 1u << RES_SOFT_DIRTY : 0;
        CHECK_EQ_U64(r.scan_known,
                     (1u << RES_PRESENT) | (1u << RES_SWAPPED) | (1u << RES_THP) | sd);
        CHECK_EQ_U64(r.pm_known,
                     (1u << RES_PRESENT) | (1u << RES_SWAPPED) | (1u << RES_EXCLUSIVE) | sd);
        printf("live_pagewalk: child %d, %zu VMAs: PAGEWALK_SCAN %.3f ms, PAGEWALK_PAGEMAP %.3f ms "
               "(%zu VMAs)\n",
               (int)pid, r.nscan, (double)r.scan_ns / 1e6, (double)r.pm_ns / 1e6, r.npm);
        check_regions(&before, &r, &rep);
        check_all_vmas(&before, &r, ctx.soft_dirty_supported);
        count_regions(fd, &r);
    }

    /* exit: a zombie, then reaped; the fd was opened before */
    (void)kill(pid, SIGKILL);
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    if (fd >= 0)
        check_gone(fd, &r, &ctx, "zombie");
    live_kill(pid);
    if (fd >= 0)
        check_gone(fd, &r, &ctx, "reaped");
    if (fd >= 0)
        close(fd);
    if (pm >= 0)
        close(pm);
    if (kpf >= 0)
        close(kpf);
    view_free(&before);
    view_free(&after);
    runs_free(&r);
    munmap(forked, 32 * PAGE);

    test_exec(&ctx);
    check_vector_boundaries(&ctx);

    struct sweep sw;
    sweep_all(1, SWEEP_PAGEMAP_MAX, false, &sw);
    sweep_print(&sw, 1);

    pagewalk_ctx_done(&ctx);
    return test_result("live_pagewalk");
}
