/* live_probe.c: a real process with known mappings, read by vmatlas and by the kernel.
 *
 * The test re-executes itself as a child ("--child") so that the child shares no anonymous
 * pages with the test (a fork would: every write of the scanning parent would then change the
 * child's Shared/Private split and its Pss). The child maps one of each kind of memory at
 * fixed, well-separated addresses, names itself with a hostile comm, writes a report over a
 * pipe and sleeps; after that it touches no memory, so its figures stay put while we read.
 *
 * (a) In-process: a collector with an unlimited per-VMA budget scans; every figure of the
 *     child in the snapshot is compared with status, smaps_rollup, maps, smaps and stat read
 *     right before and right after the scan (when the two kernel reads differ, because some
 *     other process mapped or unmapped a shared library page meanwhile, the scan is retried;
 *     after the last retry a value between the two reads is accepted).
 * (b) Out-of-process: "$VMATLASD --once" is run and its JSON parsed with jansson; the child's
 *     summary is compared the same way. A second child has an invalid UTF-8 comm: the JSON
 *     must still be valid and the comm escaped as api/utf8.h documents.
 *
 * Needs root (hugetlb pool, reading every process): exits 77 otherwise.
 */
#include <dirent.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "api/render.h"
#include "live_tables.h"
#include "live_util.h"
#include "vmatlas/collector.h"
#include "vmatlas/snapshot.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define PAGE 4096ul
#define HUGE_2M (2ul << 20)
#define SLOT_SIZE (8ul << 20) /* each mapping gets its own 8 MiB slot: no neighbour merges */
#define ATTEMPTS 6

static const char COMM_HOSTILE[] = "a) (b c\n";
static const char COMM_BAD_UTF8[] = "\xff\xfe bad";
static const char WEIRD_BASENAME[] = "we ird\nname\xff (x)";

enum {
    M_ANON,          /* private anonymous, 16 pages, 5 touched */
    M_ANON_SHARED,   /* MAP_SHARED|MAP_ANONYMOUS, 8 pages, 3 touched */
    M_FILE_PRIVATE,  /* private mapping of a temp file, 8 pages: 2 read, 1 written (CoW) */
    M_FILE_SHARED,   /* shared writable mapping of the same file: 1 written + msync, 1 read */
    M_MEMFD,         /* memfd "vmatlas probe", 4 pages, 2 touched */
    M_GUARD,         /* PROT_NONE, 4 pages */
    M_GUARD_INSTALL, /* rw, 4 pages, MADV_GUARD_INSTALL on the third */
    M_SPLIT,         /* rw 3 pages, middle mprotect'ed to r-- */
    M_DELETED,       /* shared read-only mapping of a file unlinked afterwards */
    M_MLOCK,         /* rw 4 pages, first mlock'ed */
    M_HUGETLB,       /* MAP_HUGETLB 2 MiB, touched */
    M_THP,           /* 4 MiB, MADV_HUGEPAGE, both halves touched */
    M_SYSV,          /* SysV shm, 2 pages, 1 touched, IPC_RMID'd */
    M_WEIRD,         /* file whose name has a space, a newline, 0xff and " (x)" */
    M_ZERO,          /* PROT_READ anon, 4 pages read (shared zero page: Rss 0) */
    M_MAX
};

static const char *const m_names[M_MAX] = {
    "anon",    "anon_shared",   "file_private", "file_shared", "memfd",
    "guard",   "guard_install", "split",        "deleted",     "mlock",
    "hugetlb", "thp",           "sysv",         "weird",       "zero",
};

static const int m_kinds[M_MAX] = {
    VM_KIND_ANON,    VM_KIND_ANON_SHARED, VM_KIND_FILE_PRIVATE, VM_KIND_FILE_SHARED,  VM_KIND_MEMFD,
    VM_KIND_ANON,    VM_KIND_ANON,        VM_KIND_ANON,         VM_KIND_FILE_SHARED,  VM_KIND_ANON,
    VM_KIND_HUGETLB, VM_KIND_ANON,        VM_KIND_SYSV_SHM,     VM_KIND_FILE_PRIVATE, VM_KIND_ANON,
};

struct probe_report {
    int ok;
    char err[200];
    uint64_t addr[M_MAX], len[M_MAX];
    int present[M_MAX];
    int guard_installed;
    int hugetlb_errno;
    int sysv_id;
};

/* ------------------------------------------------------------------------------------------ */
/* The child                                                                                  */

#define CHILD_FAIL(rep, ...)                                                                       \
    do {                                                                                           \
        snprintf((rep)->err, sizeof((rep)->err), __VA_ARGS__);                                     \
        return;                                                                                    \
    } while (0)

static void *map_at(uintptr_t addr, size_t len, int prot, int flags, int fd, off_t off) {
    void *p = mmap((void *)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, off);
    if (p != MAP_FAILED && (uintptr_t)p != addr) { /* a kernel without NOREPLACE: only a hint */
        munmap(p, len);
        errno = EEXIST;
        return MAP_FAILED;
    }
    return p;
}

static void child_setup(struct probe_report *rep, const char *dir, bool hugetlb) {
    char path[4096];
    uintptr_t span = (uintptr_t)M_MAX * SLOT_SIZE + HUGE_2M;
    void *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (res == MAP_FAILED)
        CHILD_FAIL(rep, "reserve: %s", strerror(errno));
    munmap(res, span);
    uintptr_t base = ((uintptr_t)res + HUGE_2M - 1) & ~(HUGE_2M - 1);
#define SLOT(i) (base + (uintptr_t)(i)*SLOT_SIZE)
    void *p;
    int fd;

    /* anon private, partly touched */
    p = map_at(SLOT(M_ANON), 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "anon: %s", strerror(errno));
    touch_w(p, 5 * PAGE, PAGE);
    rep->addr[M_ANON] = (uintptr_t)p, rep->len[M_ANON] = 16 * PAGE;

    /* anon shared */
    p = map_at(SLOT(M_ANON_SHARED), 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "anon shared: %s", strerror(errno));
    touch_w(p, 3 * PAGE, PAGE);
    rep->addr[M_ANON_SHARED] = (uintptr_t)p, rep->len[M_ANON_SHARED] = 8 * PAGE;

    /* file private and file shared (the parent wrote and fsync'ed the file) */
    snprintf(path, sizeof(path), "%s/data", dir);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        CHILD_FAIL(rep, "open %.120s: %s", path, strerror(errno));
    p = map_at(SLOT(M_FILE_PRIVATE), 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "file private: %s", strerror(errno));
    touch_r(p, 2 * PAGE, PAGE);
    touch_w((char *)p + 2 * PAGE, PAGE, PAGE);
    rep->addr[M_FILE_PRIVATE] = (uintptr_t)p, rep->len[M_FILE_PRIVATE] = 8 * PAGE;
    p = map_at(SLOT(M_FILE_SHARED), 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "file shared: %s", strerror(errno));
    touch_w((char *)p + 3 * PAGE, PAGE, PAGE);
    touch_r((char *)p + 4 * PAGE, PAGE, PAGE);
    /* written back now, so background writeback cannot change Dirty while we read */
    if (msync(p, 8 * PAGE, MS_SYNC) < 0)
        CHILD_FAIL(rep, "msync: %s", strerror(errno));
    rep->addr[M_FILE_SHARED] = (uintptr_t)p, rep->len[M_FILE_SHARED] = 8 * PAGE;
    close(fd);

    /* memfd whose name has a space */
    fd = memfd_create("vmatlas probe", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4 * PAGE) < 0)
        CHILD_FAIL(rep, "memfd: %s", strerror(errno));
    p = map_at(SLOT(M_MEMFD), 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "memfd map: %s", strerror(errno));
    touch_w(p, 2 * PAGE, PAGE);
    rep->addr[M_MEMFD] = (uintptr_t)p, rep->len[M_MEMFD] = 4 * PAGE;
    close(fd);

    /* guard PROT_NONE region */
    p = map_at(SLOT(M_GUARD), 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "guard: %s", strerror(errno));
    rep->addr[M_GUARD] = (uintptr_t)p, rep->len[M_GUARD] = 4 * PAGE;

    /* guard markers (6.13+): VmFlags gets "gu" */
    p = map_at(SLOT(M_GUARD_INSTALL), 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
               -1, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "guard install: %s", strerror(errno));
    touch_w(p, PAGE, PAGE);
    rep->guard_installed = madvise((char *)p + 2 * PAGE, PAGE, MADV_GUARD_INSTALL) == 0;
    rep->addr[M_GUARD_INSTALL] = (uintptr_t)p, rep->len[M_GUARD_INSTALL] = 4 * PAGE;

    /* mprotect split: rw-p | r--p | rw-p */
    p = map_at(SLOT(M_SPLIT), 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "split: %s", strerror(errno));
    touch_w(p, 3 * PAGE, PAGE);
    if (mprotect((char *)p + PAGE, PAGE, PROT_READ) < 0)
        CHILD_FAIL(rep, "mprotect: %s", strerror(errno));
    rep->addr[M_SPLIT] = (uintptr_t)p, rep->len[M_SPLIT] = 3 * PAGE;

    /* a file unlinked while mapped: " (deleted)" */
    snprintf(path, sizeof(path), "%s/deleted", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        CHILD_FAIL(rep, "open %.120s: %s", path, strerror(errno));
    p = map_at(SLOT(M_DELETED), 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "deleted map: %s", strerror(errno));
    touch_r(p, PAGE, PAGE);
    close(fd);
    if (unlink(path) < 0)
        CHILD_FAIL(rep, "unlink: %s", strerror(errno));
    rep->addr[M_DELETED] = (uintptr_t)p, rep->len[M_DELETED] = 2 * PAGE;

    /* one mlock'ed page */
    p = map_at(SLOT(M_MLOCK), 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "mlock map: %s", strerror(errno));
    /* the raw syscall: sanitizer runtimes turn mlock() into a no-op */
    if (syscall(SYS_mlock, p, PAGE) < 0)
        CHILD_FAIL(rep, "mlock: %s", strerror(errno));
    rep->addr[M_MLOCK] = (uintptr_t)p, rep->len[M_MLOCK] = 4 * PAGE;

    /* hugetlb (the parent made sure a 2 MiB page is free) */
    if (hugetlb) {
        p = map_at(SLOT(M_HUGETLB), HUGE_2M, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (p == MAP_FAILED) {
            rep->hugetlb_errno = errno;
        } else {
            touch_w(p, HUGE_2M, HUGE_2M);
            rep->addr[M_HUGETLB] = (uintptr_t)p, rep->len[M_HUGETLB] = HUGE_2M;
        }
    }

    /* THP: 2 MiB aligned, MADV_HUGEPAGE (THP is "madvise" here) */
    p = map_at(SLOT(M_THP), 2 * HUGE_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
               0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "thp: %s", strerror(errno));
    (void)madvise(p, 2 * HUGE_2M, MADV_HUGEPAGE);
    touch_w(p, 2 * HUGE_2M, HUGE_2M);
    rep->addr[M_THP] = (uintptr_t)p, rep->len[M_THP] = 2 * HUGE_2M;

    /* SysV shm */
    int id = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
    if (id < 0)
        CHILD_FAIL(rep, "shmget: %s", strerror(errno));
    p = shmat(id, (void *)SLOT(M_SYSV), 0);
    (void)shmctl(id, IPC_RMID, NULL); /* gone with us */
    if (p == (void *)-1)
        CHILD_FAIL(rep, "shmat: %s", strerror(errno));
    touch_w(p, PAGE, PAGE);
    rep->sysv_id = id;
    rep->addr[M_SYSV] = (uintptr_t)p, rep->len[M_SYSV] = 2 * PAGE;

    /* a hostile file name */
    snprintf(path, sizeof(path), "%s/%s", dir, WEIRD_BASENAME);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        CHILD_FAIL(rep, "open weird: %s", strerror(errno));
    p = map_at(SLOT(M_WEIRD), PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "weird map: %s", strerror(errno));
    touch_r(p, PAGE, PAGE);
    close(fd);
    rep->addr[M_WEIRD] = (uintptr_t)p, rep->len[M_WEIRD] = PAGE;

    /* read-faulted anon: the shared zero page, not counted in Rss */
    p = map_at(SLOT(M_ZERO), 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        CHILD_FAIL(rep, "zero: %s", strerror(errno));
    touch_r(p, 4 * PAGE, PAGE);
    rep->addr[M_ZERO] = (uintptr_t)p, rep->len[M_ZERO] = 4 * PAGE;

    /* make sure there is a [heap] */
    void *brk0 = sbrk(16 * PAGE);
    if (brk0 != (void *)-1)
        touch_w(brk0, 16 * PAGE, PAGE);

    for (int i = 0; i < M_MAX; i++)
        rep->present[i] = rep->addr[i] != 0;
    rep->ok = 1;
#undef SLOT
}

/* argv: self --child MODE(full|mini) DIR HUGETLB(0|1) COMM */
static int run_child(int argc, char **argv) {
    static struct probe_report rep; /* static: touched before "ready", never after */
    if (argc < 6)
        _exit(2);
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    char comm[16] = {0};
    strncpy(comm, argv[5], 15);
    if (prctl(PR_SET_NAME, comm) < 0) {
        snprintf(rep.err, sizeof(rep.err), "PR_SET_NAME: %s", strerror(errno));
    } else if (strcmp(argv[2], "full") == 0) {
        child_setup(&rep, argv[3], strcmp(argv[4], "1") == 0);
    } else {
        rep.ok = 1;
    }
    live_write_all(3, &rep, sizeof(rep));
    close(3);
    for (;;)
        pause();
}

static pid_t spawn_probe(const char *mode, const char *dir, bool hugetlb, const char *comm,
                         struct probe_report *rep) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (dup2(p[1], 3) < 0)
            _exit(2);
        if (p[1] == 3)
            (void)fcntl(3, F_SETFD, 0);
        char *args[] = {"live_probe",        "--child",    (char *)mode, (char *)dir,
                        hugetlb ? "1" : "0", (char *)comm, NULL};
        execv("/proc/self/exe", args);
        _exit(2);
    }
    close(p[1]);
    size_t got = 0;
    uint64_t deadline = live_now_ns() + 20ull * 1000000000ull;
    while (got < sizeof(*rep) && live_now_ns() < deadline) {
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int r = poll(&pfd, 1, 1000);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        ssize_t n = read(p[0], (char *)rep + got, sizeof(*rep) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    if (got != sizeof(*rep) || !rep->ok) {
        fprintf(stderr, "live_probe: child %s failed: %s\n", mode,
                got == sizeof(*rep) ? rep->err : "no report");
        live_kill(pid);
        return -1;
    }
    return pid;
}

/* ------------------------------------------------------------------------------------------ */
/* Temp files, the hugetlb pool, cleanup                                                      */

static char tmpdir[256];
static char weird_path[512];
static long hp_old = -1; /* nr_hugepages to restore, -1 = untouched */

static void restore_hugepages(void) {
    if (hp_old < 0)
        return;
    int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        char b[32];
        int n = snprintf(b, sizeof(b), "%ld\n", hp_old);
        (void)!write(fd, b, (size_t)n);
        close(fd);
    }
    hp_old = -1;
}

static void cleanup_files(void) {
    char p[512];
    if (!tmpdir[0])
        return;
    if (weird_path[0])
        (void)unlink(weird_path);
    snprintf(p, sizeof(p), "%s/data", tmpdir);
    (void)unlink(p);
    snprintf(p, sizeof(p), "%s/deleted", tmpdir);
    (void)unlink(p);
    (void)rmdir(tmpdir);
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "live_probe: timed out\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    restore_hugepages();
    _exit(1);
}

static int write_file(const char *path, size_t len, char fill) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    char buf[PAGE];
    memset(buf, fill, sizeof(buf));
    for (size_t o = 0; o < len; o += PAGE)
        if (write(fd, buf, PAGE) != (ssize_t)PAGE) {
            close(fd);
            return -1;
        }
    int r = fsync(fd); /* clean page cache: writeback cannot change Dirty while we read */
    close(fd);
    return r;
}

static long read_long(const char *path) {
    char *b = live_slurp(path, NULL);
    long v = b ? strtol(b, NULL, 10) : -1;
    free(b);
    return v;
}

/* Make one 2 MiB hugetlb page available; false (with a message) when root cannot. */
static bool setup_hugepages(void) {
    long free_pages = live_hugepages_free();
    if (free_pages >= 1)
        return true;
    long old = read_long("/proc/sys/vm/nr_hugepages");
    if (old < 0) {
        printf("live_probe: hugetlb part skipped: cannot read /proc/sys/vm/nr_hugepages\n");
        return false;
    }
    int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("live_probe: hugetlb part skipped: cannot open nr_hugepages for writing: %s\n",
               strerror(errno));
        return false;
    }
    char b[32];
    int n = snprintf(b, sizeof(b), "%ld\n", old + 1);
    hp_old = old;
    ssize_t w = write(fd, b, (size_t)n);
    int e = errno;
    close(fd);
    if (w != n) {
        printf("live_probe: hugetlb part skipped: writing nr_hugepages failed: %s\n", strerror(e));
        restore_hugepages();
        return false;
    }
    if (live_hugepages_free() < 1) {
        printf("live_probe: hugetlb part skipped: the kernel could not allocate a 2 MiB page\n");
        restore_hugepages();
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* The kernel's view of one process                                                           */

struct ksnap {
    char *status, *rollup, *smaps, *maps, *stat;
    size_t stat_len;
    struct live_kvs st, ro;
    struct live_maps sm, mp;
    size_t maps_lines;
    struct live_stat sp;
};

static void ksnap_free(struct ksnap *k) {
    free(k->status), free(k->rollup), free(k->smaps), free(k->maps), free(k->stat);
    live_maps_free(&k->sm);
    live_maps_free(&k->mp);
    memset(k, 0, sizeof(*k));
}

static bool ksnap_parse(struct ksnap *k) {
    live_kvs_parse(k->status, &k->st);
    live_kvs_parse(k->rollup, &k->ro);
    k->maps_lines = live_count_lines(k->maps);
    return live_maps_parse(k->smaps, &k->sm) && live_maps_parse(k->maps, &k->mp) &&
           live_stat_parse(k->stat, k->stat_len, &k->sp);
}

static bool ksnap_read(pid_t pid, struct ksnap *k) {
    memset(k, 0, sizeof(*k));
    k->status = live_slurp_pid(pid, "status", NULL);
    k->rollup = live_slurp_pid(pid, "smaps_rollup", NULL);
    k->smaps = live_slurp_pid(pid, "smaps", NULL);
    k->maps = live_slurp_pid(pid, "maps", NULL);
    k->stat = live_slurp_pid(pid, "stat", &k->stat_len);
    if (!k->status || !k->rollup || !k->smaps || !k->maps || !k->stat)
        return false;
    return ksnap_parse(k);
}

static bool ksnap_dup(struct ksnap *dst, const struct ksnap *src) {
    memset(dst, 0, sizeof(*dst));
    dst->status = strdup(src->status);
    dst->rollup = strdup(src->rollup);
    dst->smaps = strdup(src->smaps);
    dst->maps = strdup(src->maps);
    dst->stat = malloc(src->stat_len + 1);
    if (!dst->status || !dst->rollup || !dst->smaps || !dst->maps || !dst->stat)
        return false;
    memcpy(dst->stat, src->stat, src->stat_len + 1);
    dst->stat_len = src->stat_len;
    return ksnap_parse(dst);
}

static bool kvs_merge(struct live_kvs *lo, struct live_kvs *hi, const struct live_kvs *s) {
    if (lo->n != s->n || hi->n != s->n)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(lo->e[i].key, s->e[i].key) != 0)
            return false;
        if (s->e[i].value < lo->e[i].value)
            lo->e[i].value = s->e[i].value;
        if (s->e[i].value > hi->e[i].value)
            hi->e[i].value = s->e[i].value;
    }
    return true;
}

/* Widen [lo, hi] by the figures of sample s (same VMAs, same keys). */
static bool ksnap_merge(struct ksnap *lo, struct ksnap *hi, const struct ksnap *s) {
    if (!kvs_merge(&lo->st, &hi->st, &s->st) || !kvs_merge(&lo->ro, &hi->ro, &s->ro) ||
        lo->sm.n != s->sm.n || hi->sm.n != s->sm.n || lo->maps_lines != s->maps_lines)
        return false;
    for (size_t i = 0; i < s->sm.n; i++) {
        if (lo->sm.v[i].start != s->sm.v[i].start || lo->sm.v[i].end != s->sm.v[i].end ||
            !kvs_merge(&lo->sm.v[i].f, &hi->sm.v[i].f, &s->sm.v[i].f))
            return false;
    }
    return true;
}

static bool kvs_equal(const struct live_kvs *a, const struct live_kvs *b) {
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->e[i].value != b->e[i].value)
            return false;
    return true;
}

/* Did every figure stay put over all samples? */
static bool ksnap_range_flat(const struct ksnap *lo, const struct ksnap *hi) {
    if (!kvs_equal(&lo->st, &hi->st) || !kvs_equal(&lo->ro, &hi->ro) || lo->sm.n != hi->sm.n)
        return false;
    for (size_t i = 0; i < lo->sm.n; i++)
        if (!kvs_equal(&lo->sm.v[i].f, &hi->sm.v[i].f))
            return false;
    return true;
}

/* Print the figures that moved over the samples. */
static void ksnap_print_range(const char *label, const struct ksnap *lo, const struct ksnap *hi) {
    int shown = 0;
    for (size_t i = 0; i < lo->ro.n && shown < 8; i++)
        if (lo->ro.e[i].value != hi->ro.e[i].value) {
            printf("  %s smaps_rollup %s moved %" PRIu64 "..%" PRIu64 " kB\n", label,
                   lo->ro.e[i].key, lo->ro.e[i].value, hi->ro.e[i].value);
            shown++;
        }
    for (size_t i = 0; i < lo->st.n && shown < 8; i++)
        if (lo->st.e[i].value != hi->st.e[i].value) {
            printf("  %s status %s moved %" PRIu64 "..%" PRIu64 "\n", label, lo->st.e[i].key,
                   lo->st.e[i].value, hi->st.e[i].value);
            shown++;
        }
    for (size_t v = 0; v < lo->sm.n && shown < 8; v++)
        for (size_t i = 0; i < lo->sm.v[v].f.n && shown < 8; i++)
            if (lo->sm.v[v].f.e[i].value != hi->sm.v[v].f.e[i].value) {
                printf("  %s smaps VMA %zu (%s) %s moved %" PRIu64 "..%" PRIu64 " kB\n", label, v,
                       lo->sm.v[v].name ? lo->sm.v[v].name : "", lo->sm.v[v].f.e[i].key,
                       lo->sm.v[v].f.e[i].value, hi->sm.v[v].f.e[i].value);
                shown++;
            }
}

/* A thread that keeps reading the targets' kernel files while a scan runs, widening [lo, hi]
 * to every value it sees: Pss and the Shared/Private split of shared library pages move
 * whenever any other process maps or unmaps the same pages, and on a busy machine that
 * happens all the time. */
struct sampler {
    pthread_t th;
    int stop;
    const pid_t *pids;
    size_t n;
    struct ksnap *lo, *hi;
    unsigned samples;
    bool ok;
};

static void *sampler_main(void *arg) {
    struct sampler *sm = arg;
    while (!__atomic_load_n(&sm->stop, __ATOMIC_ACQUIRE)) {
        for (size_t i = 0; i < sm->n; i++) {
            struct ksnap k;
            if (ksnap_read(sm->pids[i], &k))
                sm->ok &= ksnap_merge(&sm->lo[i], &sm->hi[i], &k);
            else
                sm->ok = false;
            ksnap_free(&k);
        }
        sm->samples++;
    }
    return NULL;
}

/* Start sampling: lo/hi start as copies of first[]. */
static bool sampler_start(struct sampler *sm, const pid_t *pids, size_t n,
                          const struct ksnap *first, struct ksnap *lo, struct ksnap *hi) {
    memset(sm, 0, sizeof(*sm));
    sm->pids = pids, sm->n = n, sm->lo = lo, sm->hi = hi, sm->ok = true;
    for (size_t i = 0; i < n; i++) {
        ksnap_free(&lo[i]);
        ksnap_free(&hi[i]);
        if (!ksnap_dup(&lo[i], &first[i]) || !ksnap_dup(&hi[i], &first[i]))
            return false;
    }
    return pthread_create(&sm->th, NULL, sampler_main, sm) == 0;
}

static bool sampler_stop(struct sampler *sm) {
    __atomic_store_n(&sm->stop, 1, __ATOMIC_RELEASE);
    pthread_join(sm->th, NULL);
    return sm->ok;
}

/* got must lie between the kernel's value before (a) and after (b); a == b when stable. */
static void check_between(const char *ctx, const char *what, uint64_t got, uint64_t a, uint64_t b) {
    uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
    if (got < lo || got > hi) {
        if (a == b)
            fprintf(stderr, "%s: %s: vmatlas %" PRIu64 ", kernel %" PRIu64 "\n", ctx, what, got, a);
        else
            fprintf(stderr,
                    "%s: %s: vmatlas %" PRIu64 ", kernel %" PRIu64 " before / %" PRIu64 " after\n",
                    ctx, what, got, a, b);
        test_failures++;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* (a) the snapshot against the kernel                                                        */

static int expected_kind(const struct live_vma *kv, const struct probe_report *rep) {
    static const struct {
        const char *name;
        int kind;
    } special[] = {
        {"[heap]", VM_KIND_HEAP}, {"[stack]", VM_KIND_STACK},      {"[vdso]", VM_KIND_VDSO},
        {"[vvar]", VM_KIND_VVAR}, {"[vvar_vclock]", VM_KIND_VVAR}, {"[vsyscall]", VM_KIND_VSYSCALL},
    };
    for (size_t i = 0; i < LIVE_N(special); i++)
        if (live_name_is(kv, special[i].name))
            return special[i].kind;
    if (rep)
        for (int m = 0; m < M_MAX; m++)
            if (rep->present[m] && kv->start >= rep->addr[m] &&
                kv->end <= rep->addr[m] + rep->len[m])
                return m_kinds[m];
    /* what every process has: the executable, libraries, their bss */
    size_t nl = kv->name ? strlen(kv->name) : 0;
    bool deleted = nl >= 10 && strcmp(kv->name + nl - 10, " (deleted)") == 0;
    if (kv->name && kv->name[0] == '/' && kv->inode != 0 && kv->perms[3] == 'p' && !deleted &&
        kv->maj != 0)
        return VM_KIND_FILE_PRIVATE;
    if (!kv->name && kv->inode == 0 && kv->perms[3] == 'p' &&
        (!kv->vmflags || !strstr(kv->vmflags, "ht")))
        return VM_KIND_ANON;
    return -1;
}

static void perms_string(uint8_t perms, char out[5]) {
    out[0] = perms & VM_PERM_READ ? 'r' : '-';
    out[1] = perms & VM_PERM_WRITE ? 'w' : '-';
    out[2] = perms & VM_PERM_EXEC ? 'x' : '-';
    out[3] = perms & VM_PERM_SHARED ? 's' : 'p';
    out[4] = 0;
}

static int json_u64_member(json_t *o, const char *key, uint64_t *ret) {
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *ret = (uint64_t)json_integer_value(v);
    return 0;
}

/* The JSON of one VMA (render_vma), parsed back, against the kernel's smaps entry. */
static void check_vma_json(const char *ctx, const struct vm_snapshot *s, const struct vm_vma *v,
                           const struct live_vma *k1, const struct live_vma *k2, int kind) {
    json_t *o = render_vma(s, v, NULL);
    CHECK(o != NULL);
    if (!o)
        return;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    CHECK(text != NULL);
    if (!text)
        return;
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) {
        fprintf(stderr, "%s: VMA JSON does not parse back: %s\n", ctx, jerr.text);
        test_failures++;
        free(text);
        return;
    }
    char want[32];
    snprintf(want, sizeof(want), "0x%" PRIx64, k2->start);
    CHECK_STREQ(json_string_value(json_object_get(j, "start")), want);
    snprintf(want, sizeof(want), "0x%" PRIx64, k2->end);
    CHECK_STREQ(json_string_value(json_object_get(j, "end")), want);
    uint64_t u;
    CHECK(json_u64_member(j, "size", &u) == 0 && u == k2->end - k2->start);
    CHECK(json_u64_member(j, "offset", &u) == 0 && u == k2->offset);
    CHECK(json_u64_member(j, "inode", &u) == 0 && u == k2->inode);
    CHECK_STREQ(json_string_value(json_object_get(j, "perms")), k2->perms);
    snprintf(want, sizeof(want), "%02x:%02x", k2->maj, k2->min);
    CHECK_STREQ(json_string_value(json_object_get(j, "dev")), want);
    json_t *name = json_object_get(j, "name");
    if (k2->name) {
        char *esc = live_utf8_escape(k2->name, strlen(k2->name));
        if (!json_is_string(name) || strcmp(json_string_value(name), esc) != 0) {
            char q[512];
            fprintf(stderr, "%s: JSON name %s, expected \"%s\"\n", ctx,
                    json_is_string(name) ? live_quote(json_string_value(name),
                                                      strlen(json_string_value(name)), q, sizeof(q))
                                         : "(not a string)",
                    esc);
            test_failures++;
        }
        free(esc);
        size_t nl = strlen(k2->name);
        bool deleted = nl >= 10 && strcmp(k2->name + nl - 10, " (deleted)") == 0;
        CHECK(json_is_boolean(json_object_get(j, "deleted")) &&
              json_is_true(json_object_get(j, "deleted")) == deleted);
    } else {
        /* nameless: null (or an empty string) */
        if (!(json_is_null(name) || (json_is_string(name) && !*json_string_value(name)))) {
            fprintf(stderr, "%s: nameless VMA has JSON name that is neither null nor \"\"\n", ctx);
            test_failures++;
        }
        CHECK(json_is_false(json_object_get(j, "deleted")));
    }
    if (kind >= 0)
        CHECK_STREQ(json_string_value(json_object_get(j, "kind")), vm_kind_name(kind));
    for (size_t f = 0; f < LIVE_N(live_vma_fields); f++) {
        const struct live_kv *a = live_kvs_get(&k1->f, live_vma_fields[f].key);
        const struct live_kv *b = live_kvs_get(&k2->f, live_vma_fields[f].key);
        json_t *m = json_object_get(j, live_vma_fields[f].json);
        if (!m && f >= LIVE_VMA_API_FIELDS)
            continue;
        if (!a || !b) {
            /* the kernel does not print it: null */
            if (!json_is_null(m)) {
                fprintf(stderr, "%s: JSON %s should be null (not in smaps)\n", ctx,
                        live_vma_fields[f].json);
                test_failures++;
            }
            continue;
        }
        if (json_u64_member(j, live_vma_fields[f].json, &u) < 0) {
            fprintf(stderr, "%s: JSON %s missing or not an integer\n", ctx,
                    live_vma_fields[f].json);
            test_failures++;
            continue;
        }
        char what[64];
        snprintf(what, sizeof(what), "JSON %s", live_vma_fields[f].json);
        check_between(ctx, what, u, a->value * 1024, b->value * 1024);
    }
    const struct live_kv *kps = live_kvs_get(&k2->f, "KernelPageSize");
    const struct live_kv *mps = live_kvs_get(&k2->f, "MMUPageSize");
    if (kps)
        CHECK(json_u64_member(j, "kernel_page_size", &u) == 0 && u == kps->value * 1024);
    if (mps)
        CHECK(json_u64_member(j, "mmu_page_size", &u) == 0 && u == mps->value * 1024);
    if (k2->thp_eligible >= 0)
        CHECK(json_is_boolean(json_object_get(j, "thp_eligible")) &&
              json_is_true(json_object_get(j, "thp_eligible")) == (k2->thp_eligible == 1));
    /* flags: the kernel's codes, in order */
    json_t *flags = json_object_get(j, "flags");
    CHECK(json_is_array(flags));
    if (json_is_array(flags) && k2->vmflags) {
        char rebuilt[512] = "";
        size_t i;
        json_t *fl;
        json_array_foreach(flags, i, fl) {
            if (i)
                strncat(rebuilt, " ", sizeof(rebuilt) - strlen(rebuilt) - 1);
            strncat(rebuilt, json_is_string(fl) ? json_string_value(fl) : "?",
                    sizeof(rebuilt) - strlen(rebuilt) - 1);
        }
        if (strcmp(rebuilt, k2->vmflags) != 0) {
            char q[600];
            fprintf(stderr, "%s: JSON flags \"%s\", kernel \"%s\"\n", ctx,
                    live_quote(rebuilt, strlen(rebuilt), q, sizeof(q)), k2->vmflags);
            test_failures++;
        }
    }
    json_decref(j);
    free(text);
}

static void check_process_vs_kernel(const struct vm_snapshot *s, const struct vm_process *p,
                                    const struct ksnap *k1, const struct ksnap *k2,
                                    const struct probe_report *rep, const char *comm,
                                    size_t comm_len, const char *label) {
    char ctx[128];
    snprintf(ctx, sizeof(ctx), "%s pid %d", label, p->pid);

    /* identity and summary */
    CHECK_EQ_U64(p->starttime, k2->sp.f[22]);
    CHECK_EQ_INT(p->ppid, (int)k2->sp.f[4]);
    CHECK_EQ_INT(p->state, k2->sp.state);
    CHECK_EQ_U64(p->threads, k2->sp.f[20]);
    char id[48], want_id[48];
    snprintf(want_id, sizeof(want_id), "%d:%" PRIu64, p->pid, (uint64_t)k2->sp.f[22]);
    CHECK_STREQ(vm_process_id(p, id, sizeof(id)), want_id);
    const char *c = vm_snapshot_str(s, p->comm);
    if (!c || strlen(c) != comm_len || memcmp(c, comm, comm_len) != 0) {
        char q1[128], q2[128];
        fprintf(stderr, "%s: comm \"%s\", expected \"%s\"\n", ctx,
                c ? live_quote(c, strlen(c), q1, sizeof(q1)) : "(none)",
                live_quote(comm, comm_len, q2, sizeof(q2)));
        test_failures++;
    }
    /* the kernel's own stat agrees (premise) */
    CHECK(k2->sp.comm_len == comm_len && memcmp(k2->sp.comm, comm, comm_len) == 0);
    CHECK(!(p->flags & VM_PROC_KTHREAD));
    CHECK(p->flags & VM_PROC_UID);
    CHECK_EQ_U64(p->uid, getuid());
    if (p->nerrors) {
        for (unsigned i = 0; i < p->nerrors && i < VM_PROC_ERRORS_MAX; i++)
            fprintf(stderr, "%s: unexpected error entry {%s, %d}\n", ctx,
                    vm_source_name(p->errors[i].source), p->errors[i].errnum);
        test_failures++;
    }
    uint64_t want_ms = s->node.btime * 1000 + k2->sp.f[22] * 1000 / (uint64_t)sysconf(_SC_CLK_TCK);
    CHECK_EQ_U64(p->start_time_ms, want_ms);

    /* memory[] == status (kB * 1024), presence included */
    for (size_t f = 0; f < LIVE_N(live_memory); f++) {
        const struct live_kv *a = live_kvs_get(&k1->st, live_memory[f].key);
        const struct live_kv *b = live_kvs_get(&k2->st, live_memory[f].key);
        bool has = p->memory_present & (1u << live_memory[f].index);
        if (!a || !b) {
            if (has) {
                fprintf(stderr, "%s: memory.%s present, status has no %s\n", ctx,
                        live_memory[f].json, live_memory[f].key);
                test_failures++;
            }
            continue;
        }
        if (!has) {
            fprintf(stderr, "%s: memory.%s absent, status has %s\n", ctx, live_memory[f].json,
                    live_memory[f].key);
            test_failures++;
            continue;
        }
        char what[64];
        snprintf(what, sizeof(what), "memory.%s", live_memory[f].json);
        check_between(ctx, what, p->memory[live_memory[f].index], a->value * 1024, b->value * 1024);
    }

    /* rollup[] == smaps_rollup */
    CHECK(p->flags & VM_PROC_ROLLUP);
    for (size_t f = 0; f < LIVE_N(live_rollup); f++) {
        const struct live_kv *a = live_kvs_get(&k1->ro, live_rollup[f].key);
        const struct live_kv *b = live_kvs_get(&k2->ro, live_rollup[f].key);
        bool has =
            (p->flags & VM_PROC_ROLLUP) && (p->rollup_present & (1u << live_rollup[f].index));
        if (!a || !b) {
            if (has) {
                fprintf(stderr, "%s: rollup.%s present, smaps_rollup has no %s\n", ctx,
                        live_rollup[f].json, live_rollup[f].key);
                test_failures++;
            }
            continue;
        }
        if (!has) {
            fprintf(stderr, "%s: rollup.%s absent\n", ctx, live_rollup[f].json);
            test_failures++;
            continue;
        }
        char what[64];
        snprintf(what, sizeof(what), "rollup.%s", live_rollup[f].json);
        check_between(ctx, what, p->rollup[live_rollup[f].index], a->value * 1024, b->value * 1024);
    }

    /* vma_count == lines of maps; every VMA stored */
    CHECK(p->flags & VM_PROC_MAPS);
    CHECK_EQ_U64(p->vma_count, k2->maps_lines);
    CHECK_EQ_U64(p->vma_n, p->vma_count);
    CHECK(!(p->flags & VM_PROC_VMAS_CUT));
    CHECK_EQ_U64(k2->sm.n, k2->maps_lines); /* premise: smaps has one block per maps line */

    /* layout: stat 26-28, 45-51; brk = end of [heap] or start_brk */
    static const struct {
        int field;
        int stat_no;
        const char *name;
    } lay[] = {
        {VM_LAYOUT_START_CODE, 26, "start_code"},   {VM_LAYOUT_END_CODE, 27, "end_code"},
        {VM_LAYOUT_START_STACK, 28, "start_stack"}, {VM_LAYOUT_START_DATA, 45, "start_data"},
        {VM_LAYOUT_END_DATA, 46, "end_data"},       {VM_LAYOUT_START_BRK, 47, "start_brk"},
        {VM_LAYOUT_ARG_START, 48, "arg_start"},     {VM_LAYOUT_ARG_END, 49, "arg_end"},
        {VM_LAYOUT_ENV_START, 50, "env_start"},     {VM_LAYOUT_ENV_END, 51, "env_end"},
    };
    CHECK(k2->sp.nfields >= 51);
    for (size_t i = 0; i < LIVE_N(lay); i++) {
        if (!(p->layout_present & (1u << lay[i].field))) {
            fprintf(stderr, "%s: layout.%s absent\n", ctx, lay[i].name);
            test_failures++;
            continue;
        }
        if (p->layout[lay[i].field] != k2->sp.f[lay[i].stat_no]) {
            fprintf(stderr, "%s: layout.%s 0x%" PRIx64 ", stat field %d 0x%llx\n", ctx, lay[i].name,
                    p->layout[lay[i].field], lay[i].stat_no, k2->sp.f[lay[i].stat_no]);
            test_failures++;
        }
    }
    uint64_t want_brk = k2->sp.f[47];
    for (size_t i = 0; i < k2->mp.n; i++)
        if (live_name_is(&k2->mp.v[i], "[heap]")) {
            want_brk = k2->mp.v[i].end;
            break;
        }
    CHECK(p->layout_present & (1u << VM_LAYOUT_BRK));
    CHECK_EQ_U64(p->layout[VM_LAYOUT_BRK], want_brk);

    /* lowest / highest / gaps from maps, [vsyscall] left out */
    uint64_t lowest = 0, highest = 0, gaps = 0, largest = 0;
    bool any = false;
    for (size_t i = 0; i < k2->mp.n; i++) {
        const struct live_vma *v = &k2->mp.v[i];
        if (live_name_is(v, "[vsyscall]"))
            continue;
        if (!any) {
            lowest = v->start;
            any = true;
        } else if (v->start > highest) {
            gaps++;
            if (v->start - highest > largest)
                largest = v->start - highest;
        }
        highest = v->end;
    }
    CHECK(p->flags & VM_PROC_LAYOUT);
    CHECK_EQ_U64(p->lowest, lowest);
    CHECK_EQ_U64(p->highest, highest);
    CHECK_EQ_U64(p->gap_count, gaps);
    CHECK_EQ_U64(p->largest_gap, largest);

    /* the per-VMA tier visited it */
    CHECK(p->smaps_at_ms != 0);
    bool deep = false;
    for (uint32_t i = 0; i < s->ndeep; i++)
        if (vm_snapshot_deep_pids(s)[i] == p->pid)
            deep = true;
    CHECK(deep);

    /* VMA by VMA against smaps */
    const struct vm_vma *vv = vm_snapshot_vmas(s, p);
    size_t n = p->vma_n < k2->sm.n ? p->vma_n : k2->sm.n;
    unsigned kinds_checked = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vm_vma *v = &vv[i];
        const struct live_vma *b = &k2->sm.v[i];
        const struct live_vma *a = i < k1->sm.n ? &k1->sm.v[i] : b;
        char vctx[512], q[256]; /* ctx (up to 245 bytes) + the quoted name */
        snprintf(vctx, sizeof(vctx), "%s VMA %zu %" PRIx64 "-%" PRIx64 " %s", ctx, i, b->start,
                 b->end, b->name ? live_quote(b->name, strlen(b->name), q, sizeof(q)) : "");
        int before = test_failures;
        CHECK_EQ_U64(v->start, b->start);
        CHECK_EQ_U64(v->end, b->end);
        CHECK_EQ_U64(v->offset, b->offset);
        CHECK_EQ_U64(v->inode, b->inode);
        CHECK_EQ_U64(VM_DEV_MAJOR(v->dev), b->maj);
        CHECK_EQ_U64(VM_DEV_MINOR(v->dev), b->min);
        char perms[5];
        perms_string(v->perms, perms);
        CHECK_STREQ(perms, b->perms);
        const char *name = vm_snapshot_str(s, v->name);
        if (b->name) {
            if (!name || strcmp(name, b->name) != 0) {
                char q2[256];
                fprintf(stderr, "%s: name \"%s\"\n", vctx,
                        name ? live_quote(name, strlen(name), q2, sizeof(q2)) : "(none)");
                test_failures++;
            }
            size_t nl = strlen(b->name);
            bool deleted = nl >= 10 && strcmp(b->name + nl - 10, " (deleted)") == 0;
            CHECK(!!(v->flags & VM_VMA_DELETED) == deleted);
        } else {
            CHECK(!name || !*name);
            CHECK(!(v->flags & VM_VMA_DELETED));
        }
        CHECK(v->flags & VM_VMA_SMAPS);
        for (size_t f = 0; f < LIVE_N(live_vma_fields); f++) {
            const struct live_kv *fa = live_kvs_get(&a->f, live_vma_fields[f].key);
            const struct live_kv *fb = live_kvs_get(&b->f, live_vma_fields[f].key);
            bool has = v->kb_present & (1u << live_vma_fields[f].index);
            if (!fa || !fb) {
                if (has) {
                    fprintf(stderr, "%s: %s present, smaps has none\n", vctx,
                            live_vma_fields[f].key);
                    test_failures++;
                }
                continue;
            }
            if (!has) {
                fprintf(stderr, "%s: %s absent\n", vctx, live_vma_fields[f].key);
                test_failures++;
                continue;
            }
            check_between(vctx, live_vma_fields[f].key, v->kb[live_vma_fields[f].index], fa->value,
                          fb->value);
        }
        const struct live_kv *kps = live_kvs_get(&b->f, "KernelPageSize");
        const struct live_kv *mps = live_kvs_get(&b->f, "MMUPageSize");
        CHECK(kps && mps);
        if (kps)
            CHECK(v->kernel_page_shift && (1ull << v->kernel_page_shift) == kps->value * 1024);
        if (mps)
            CHECK(v->mmu_page_shift && (1ull << v->mmu_page_shift) == mps->value * 1024);
        CHECK(b->thp_eligible >= 0);
        CHECK(!!(v->flags & VM_VMA_THP_ELIGIBLE) == (b->thp_eligible == 1));
        const char *flags = vm_snapshot_str(s, v->vmflags);
        CHECK(b->vmflags != NULL);
        if (b->vmflags && (!flags || strcmp(flags, b->vmflags) != 0)) {
            char q2[256];
            fprintf(stderr, "%s: VmFlags \"%s\", kernel \"%s\"\n", vctx,
                    flags ? live_quote(flags, strlen(flags), q2, sizeof(q2)) : "(none)",
                    b->vmflags);
            test_failures++;
        }
        int kind = expected_kind(b, rep);
        kinds_checked += kind >= 0;
        if (kind >= 0 && v->kind != kind) {
            const char *what = "";
            for (int m = 0; rep && m < M_MAX; m++)
                if (rep->present[m] && b->start >= rep->addr[m] &&
                    b->end <= rep->addr[m] + rep->len[m])
                    what = m_names[m];
            fprintf(stderr, "%s: kind %s, expected %s (%s)\n", vctx, vm_kind_name(v->kind),
                    vm_kind_name(kind), what);
            test_failures++;
        }
        check_vma_json(vctx, s, v, a, b, kind);
        if (test_failures != before)
            fprintf(stderr,
                    "%s: ^ mismatches above (perms %s offset %" PRIx64 " dev %02x:%02x "
                    "inode %" PRIu64 " VmFlags %s)\n",
                    vctx, b->perms, b->offset, b->maj, b->min, b->inode,
                    b->vmflags ? b->vmflags : "-");
    }
    printf("live_probe: %s: compared %zu VMAs with smaps (%u with a known kind), %u error "
           "entries\n",
           ctx, n, kinds_checked, p->nerrors);
    if (rep) {
        printf("live_probe: %s: kinds of the known mappings:", ctx);
        for (int m = 0; m < M_MAX; m++) {
            if (!rep->present[m])
                continue;
            for (size_t i = 0; i < p->vma_n; i++)
                if (vv[i].start == rep->addr[m]) {
                    printf(" %s=%s", m_names[m], vm_kind_name(vv[i].kind));
                    break;
                }
        }
        printf("\n");
    }
}

/* Premises about the child's own mappings (what the kernel shows): failures here mean the
 * test's set-up, not vmatlas, is wrong. */
static void check_premises(const struct ksnap *k, const struct probe_report *rep, const char *dir) {
    const struct live_vma *v;
    char want[1024];
    snprintf(want, sizeof(want), "/memfd:vmatlas probe (deleted)");
    v = live_maps_find(&k->sm, rep->addr[M_MEMFD]);
    CHECK(v && live_name_is(v, want));
    v = live_maps_find(&k->sm, rep->addr[M_ANON_SHARED]);
    CHECK(v && live_name_is(v, "/dev/zero (deleted)") && v->perms[3] == 's');
    v = live_maps_find(&k->sm, rep->addr[M_DELETED]);
    snprintf(want, sizeof(want), "%s/deleted (deleted)", dir);
    CHECK(v && live_name_is(v, want));
    v = live_maps_find(&k->sm, rep->addr[M_WEIRD]);
    snprintf(want, sizeof(want), "%s/we ird\\012name\xff (x)", dir);
    CHECK(v && live_name_is(v, want));
    v = live_maps_find(&k->sm, rep->addr[M_SYSV]);
    CHECK(v && live_name_is(v, "/SYSV00000000 (deleted)") && v->inode == (uint64_t)rep->sysv_id);
    v = live_maps_find(&k->sm, rep->addr[M_SPLIT]);
    CHECK(v && strcmp(v->perms, "rw-p") == 0 && v->end == rep->addr[M_SPLIT] + PAGE);
    v = live_maps_find(&k->sm, rep->addr[M_SPLIT] + PAGE);
    CHECK(v && strcmp(v->perms, "r--p") == 0 && v->end == rep->addr[M_SPLIT] + 2 * PAGE);
    v = live_maps_find(&k->sm, rep->addr[M_SPLIT] + 2 * PAGE);
    CHECK(v && strcmp(v->perms, "rw-p") == 0);
    v = live_maps_find(&k->sm, rep->addr[M_MLOCK]);
    CHECK(v && v->vmflags && strstr(v->vmflags, "lo") && v->end == rep->addr[M_MLOCK] + PAGE);
    v = live_maps_find(&k->sm, rep->addr[M_GUARD]);
    CHECK(v && strcmp(v->perms, "---p") == 0);
    if (rep->guard_installed) {
        v = live_maps_find(&k->sm, rep->addr[M_GUARD_INSTALL]);
        CHECK(v && v->vmflags && strstr(v->vmflags, "gu"));
    }
    v = live_maps_find(&k->sm, rep->addr[M_ANON]);
    CHECK(v && live_kvs_get(&v->f, "Rss") && live_kvs_get(&v->f, "Rss")->value == 20);
    v = live_maps_find(&k->sm, rep->addr[M_ZERO]);
    CHECK(v && live_kvs_get(&v->f, "Rss") && live_kvs_get(&v->f, "Rss")->value == 0);
    if (rep->present[M_HUGETLB]) {
        v = live_maps_find(&k->sm, rep->addr[M_HUGETLB]);
        CHECK(v && live_name_is(v, "/anon_hugepage (deleted)"));
        CHECK(v && live_kvs_get(&v->f, "KernelPageSize") &&
              live_kvs_get(&v->f, "KernelPageSize")->value == 2048);
        const struct live_kv *h = live_kvs_get(&k->st, "HugetlbPages");
        CHECK(h && h->value == 2048);
    }
    const struct live_kv *lck = live_kvs_get(&k->st, "VmLck");
    CHECK(lck && lck->value == 4);
    bool heap = false;
    for (size_t i = 0; i < k->sm.n; i++)
        heap |= live_name_is(&k->sm.v[i], "[heap]");
    CHECK(heap);
}

static void ksnaps_free(struct ksnap *k, size_t n) {
    for (size_t i = 0; i < n; i++)
        ksnap_free(&k[i]);
}

/* One round of checks may be retried when figures moved during it (see struct sampler):
 * mismatches of an attempt whose kernel view moved are printed but forgiven while attempts
 * remain. A mismatch with a flat kernel view always counts. */
static bool forgive(int failures_before, bool flat, int attempt, const char *what) {
    if (test_failures == failures_before || flat || attempt + 1 >= ATTEMPTS)
        return false;
    printf("live_probe: %s attempt %d: %d mismatch(es) while figures were moving: retrying\n", what,
           attempt + 1, test_failures - failures_before);
    test_failures = failures_before;
    return true;
}

static void check_detail_json(const struct vm_snapshot *snap, const struct vm_process *x,
                              const struct ksnap *k, const char *raw_comm) {
    json_t *o = render_process_detail(snap, x, NULL);
    CHECK(o != NULL);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    CHECK(text != NULL);
    json_error_t jerr;
    json_t *j = text ? json_loads(text, 0, &jerr) : NULL;
    CHECK(j != NULL);
    char *esc = live_utf8_escape(raw_comm, strlen(raw_comm));
    CHECK_STREQ(json_string_value(json_object_get(j, "comm")), esc);
    free(esc);
    json_t *layout = json_object_get(j, "layout");
    char want[32];
    snprintf(want, sizeof(want), "0x%llx", k->sp.f[26]);
    CHECK_STREQ(json_string_value(json_object_get(layout, "start_code")), want);
    snprintf(want, sizeof(want), "0x%llx", k->sp.f[51]);
    CHECK_STREQ(json_string_value(json_object_get(layout, "env_end")), want);
    json_decref(j);
    free(text);
}

static void part_a(pid_t full, const struct probe_report *rep, pid_t mini) {
    printf("live_probe: (a) in-process scan against the kernel\n");
    struct vm_collector_options opts = {.deep_budget_ns = UINT64_MAX};
    struct vm_collector *col = NULL;
    int r = vm_collector_new(&opts, &col);
    CHECK_EQ_INT(r, 0);
    if (r < 0)
        return;
    pid_t pids[2] = {full, mini};
    const char *comms[2] = {COMM_HOSTILE, COMM_BAD_UTF8};
    const char *labels[2] = {"probe", "bad-utf8"};
    struct ksnap k1[2] = {0}, lo[2] = {0}, hi[2] = {0};
    bool missing_reported = false;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        bool ok = true;
        ksnaps_free(k1, 2);
        for (int i = 0; i < 2; i++)
            ok &= ksnap_read(pids[i], &k1[i]);
        struct sampler sm;
        CHECK(ok && sampler_start(&sm, pids, 2, k1, lo, hi));
        struct vm_snapshot *snap = NULL;
        uint64_t t0 = live_now_ns();
        r = vm_collector_scan(col, NULL, &snap);
        uint64_t t1 = live_now_ns();
        bool merged = sampler_stop(&sm);
        for (int i = 0; i < 2; i++) {
            struct ksnap k2;
            ok &= ksnap_read(pids[i], &k2) && ksnap_merge(&lo[i], &hi[i], &k2);
            ksnap_free(&k2);
        }
        CHECK_EQ_INT(r, 0);
        CHECK(ok && merged);
        if (r < 0 || !ok || !merged) {
            vm_snapshot_unref(snap);
            break;
        }
        bool flat = ksnap_range_flat(&lo[0], &hi[0]) && ksnap_range_flat(&lo[1], &hi[1]);
        printf("live_probe: in-process scan %d: %u processes, %" PRIu64 " VMAs, %.1f ms, %u kernel "
               "samples meanwhile, figures %s\n",
               attempt + 1, snap->nprocs, snap->nvmas, (double)(t1 - t0) / 1e6, sm.samples,
               flat ? "stable" : "moved");
        if (!flat)
            for (int i = 0; i < 2; i++)
                ksnap_print_range(labels[i], &lo[i], &hi[i]);
        CHECK(vm_snapshot_validate(snap, snap->size) == 0);
        const struct vm_process *p = vm_snapshot_find(snap, full);
        const struct vm_process *q = vm_snapshot_find(snap, mini);
        if (!p || !q) {
            /* a live, paused process must never be missing from a snapshot */
            if (!missing_reported) {
                fprintf(stderr,
                        "live_probe: the probe (pid %d)%s / bad-utf8 child (pid %d)%s is "
                        "missing from the snapshot although alive and paused "
                        "(vanished_total %" PRIu64 ")\n",
                        full, p ? " present" : " MISSING", mini, q ? " present" : " MISSING",
                        snap->vanished_total);
                test_failures++;
                missing_reported = true;
            }
            vm_snapshot_unref(snap);
            continue; /* try for a snapshot that has them, to check the rest */
        }
        int before = test_failures;
        check_premises(&k1[0], rep, tmpdir);
        const struct vm_process *x[2] = {p, q};
        for (int i = 0; i < 2; i++) {
            check_process_vs_kernel(snap, x[i], &lo[i], &hi[i], i ? NULL : rep, comms[i],
                                    strlen(comms[i]), labels[i]);
            check_detail_json(snap, x[i], &k1[i], comms[i]);
        }
        vm_snapshot_unref(snap);
        if (!forgive(before, flat, attempt, "in-process"))
            break;
    }
    ksnaps_free(k1, 2);
    ksnaps_free(lo, 2);
    ksnaps_free(hi, 2);
    vm_collector_free(col);
}

/* ------------------------------------------------------------------------------------------ */
/* (b) vmatlasd --once                                                                        */

static const char *daemon_path(char *buf, size_t cap) {
    const char *env = getenv("VMATLASD");
    if (env && *env)
        return env;
    /* not under CTest: build/tests/live_probe -> build/vmatlasd */
    ssize_t n = readlink("/proc/self/exe", buf, cap - 16);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    char *d = dirname(dirname(buf));
    memmove(buf, d, strlen(d) + 1);
    strcat(buf, "/vmatlasd");
    return access(buf, X_OK) == 0 ? buf : NULL;
}

/* Run "DAEMON --once" (no shell) with its stdout on a pipe shrunk to one page, so that once it
 * has scanned it blocks writing its document with every mapping it made still in place. While
 * it is blocked there, the kernel's view of pids is read into at_block: what the targets'
 * figures were with the daemon alive (its own mappings of shared libraries lower the targets'
 * Pss and move pages from Private_* to Shared_*). Returns the parsed document or NULL;
 * *ret_blocked says whether the blocked state was seen. */
static json_t *run_once(const char *daemon, const pid_t *pids, size_t npids, struct ksnap *at_block,
                        bool *ret_blocked, double *ret_ms) {
    int p[2];
    *ret_blocked = false;
    if (pipe2(p, O_CLOEXEC) < 0)
        return NULL;
    (void)fcntl(p[0], F_SETPIPE_SZ, 4096);
    uint64_t t0 = live_now_ns();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return NULL;
    }
    if (pid == 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(p[1], 1) < 0)
            _exit(127);
        char *args[] = {(char *)daemon, "--once", NULL};
        execv(daemon, args);
        _exit(127);
    }
    close(p[1]);
    /* wait until it sits in write(2) (x86_64 syscall 1) on the full pipe */
    char sysc[64];
    snprintf(sysc, sizeof(sysc), "/proc/%d/syscall", (int)pid);
    uint64_t deadline = live_now_ns() + 30ull * 1000000000ull;
    while (live_now_ns() < deadline) {
        char *b = live_slurp(sysc, NULL);
        bool writing = b && strncmp(b, "1 0x1 ", 6) == 0;
        free(b);
        if (writing) {
            bool ok = true;
            for (size_t i = 0; i < npids; i++) {
                ksnap_free(&at_block[i]);
                ok &= ksnap_read(pids[i], &at_block[i]);
            }
            *ret_blocked = ok;
            break;
        }
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLHUP))
            break; /* exited (or closed stdout) without blocking */
        usleep(500);
    }
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb, cap *= 2;
        }
        ssize_t n = read(p[0], buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(p[0]);
    int st = live_wait_timeout(pid, 30000);
    *ret_ms = (double)(live_now_ns() - t0) / 1e6;
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "live_probe: %s --once failed (wait status %d)\n", daemon, st);
        test_failures++;
    }
    json_error_t jerr;
    json_t *doc = buf ? json_loadb(buf, len, 0, &jerr) : NULL;
    if (!doc) {
        fprintf(stderr, "live_probe: --once output (%zu bytes) is not valid JSON: %s at %d:%d\n",
                len, jerr.text, jerr.line, jerr.column);
        test_failures++;
    }
    free(buf);
    return doc;
}

static json_t *find_pid(json_t *doc, pid_t pid) {
    json_t *procs = json_object_get(doc, "processes");
    size_t i;
    json_t *p;
    json_array_foreach(procs, i, p) {
        if (json_integer_value(json_object_get(p, "pid")) == pid)
            return p;
    }
    return NULL;
}

static void check_json_process(json_t *j, const struct ksnap *k1, const struct ksnap *k2,
                               const char *comm, uint64_t btime, const char *label) {
    char ctx[64];
    snprintf(ctx, sizeof(ctx), "--once %s", label);
    json_t *memory = json_object_get(j, "memory");
    json_t *rollup = json_object_get(j, "rollup");
    CHECK(json_is_object(memory));
    CHECK(json_is_object(rollup));
    for (size_t f = 0; f < LIVE_N(live_memory); f++) {
        const struct live_kv *a = live_kvs_get(&k1->st, live_memory[f].key);
        const struct live_kv *b = live_kvs_get(&k2->st, live_memory[f].key);
        json_t *m = json_object_get(memory, live_memory[f].json);
        char what[64];
        snprintf(what, sizeof(what), "memory.%s", live_memory[f].json);
        if (!a || !b) {
            if (!json_is_null(m)) {
                fprintf(stderr, "%s: %s should be null\n", ctx, what);
                test_failures++;
            }
            continue;
        }
        if (!json_is_integer(m)) {
            fprintf(stderr, "%s: %s is not an integer\n", ctx, what);
            test_failures++;
            continue;
        }
        check_between(ctx, what, (uint64_t)json_integer_value(m), a->value * 1024, b->value * 1024);
    }
    for (size_t f = 0; f < LIVE_N(live_rollup); f++) {
        const struct live_kv *a = live_kvs_get(&k1->ro, live_rollup[f].key);
        const struct live_kv *b = live_kvs_get(&k2->ro, live_rollup[f].key);
        json_t *m = json_object_get(rollup, live_rollup[f].json);
        char what[64];
        snprintf(what, sizeof(what), "rollup.%s", live_rollup[f].json);
        if (!a || !b || !json_is_integer(m)) {
            fprintf(stderr, "%s: %s missing (kernel %s, JSON %s)\n", ctx, what,
                    a ? "has it" : "has not", json_is_integer(m) ? "integer" : "not integer");
            test_failures++;
            continue;
        }
        check_between(ctx, what, (uint64_t)json_integer_value(m), a->value * 1024, b->value * 1024);
    }
    const struct live_kv *pc1 = live_kvs_get(&k1->ro, "Private_Clean");
    const struct live_kv *pd1 = live_kvs_get(&k1->ro, "Private_Dirty");
    const struct live_kv *pc2 = live_kvs_get(&k2->ro, "Private_Clean");
    const struct live_kv *pd2 = live_kvs_get(&k2->ro, "Private_Dirty");
    json_t *uss = json_object_get(rollup, "uss");
    CHECK(json_is_integer(uss) && pc1 && pd1 && pc2 && pd2);
    if (json_is_integer(uss) && pc1 && pd1 && pc2 && pd2)
        check_between(ctx, "rollup.uss", (uint64_t)json_integer_value(uss),
                      (pc1->value + pd1->value) * 1024, (pc2->value + pd2->value) * 1024);
    CHECK(json_is_integer(json_object_get(j, "vma_count")) &&
          (size_t)json_integer_value(json_object_get(j, "vma_count")) == k2->maps_lines);
    json_t *jc = json_object_get(j, "comm");
    char *esc = live_utf8_escape(comm, strlen(comm));
    if (!json_is_string(jc) || json_string_length(jc) != strlen(esc) ||
        memcmp(json_string_value(jc), esc, strlen(esc)) != 0) {
        char q[128];
        fprintf(stderr, "%s: comm %s, expected \"%s\"\n", ctx,
                json_is_string(jc)
                    ? live_quote(json_string_value(jc), json_string_length(jc), q, sizeof(q))
                    : "(not a string)",
                esc);
        test_failures++;
    }
    free(esc);
    char want[64];
    snprintf(want, sizeof(want), "%d:%llu", (int)k2->sp.f[1], k2->sp.f[22]);
    CHECK_STREQ(json_string_value(json_object_get(j, "id")), want);
    CHECK(json_is_false(json_object_get(j, "kthread")));
    CHECK(json_is_array(json_object_get(j, "errors")) &&
          json_array_size(json_object_get(j, "errors")) == 0);
    CHECK(json_integer_value(json_object_get(j, "ppid")) == (json_int_t)k2->sp.f[4]);
    CHECK(json_integer_value(json_object_get(j, "threads")) == (json_int_t)k2->sp.f[20]);
    char st[2] = {k2->sp.state, 0};
    CHECK_STREQ(json_string_value(json_object_get(j, "state")), st);
    /* start_time: btime + starttime / CLK_TCK, RFC 3339 UTC with milliseconds */
    uint64_t ms = btime * 1000 + k2->sp.f[22] * 1000 / (uint64_t)sysconf(_SC_CLK_TCK);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[64];
    size_t tl = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + tl, sizeof(ts) - tl, ".%03uZ", (unsigned)(ms % 1000));
    CHECK_STREQ(json_string_value(json_object_get(j, "start_time")), ts);
    CHECK(json_integer_value(json_object_get(j, "uid")) == (json_int_t)getuid());
}

static uint64_t read_btime(void) {
    char *b = live_slurp("/proc/stat", NULL);
    uint64_t v = 0;
    const char *l = b ? strstr(b, "\nbtime ") : NULL;
    if (l)
        v = strtoull(l + 7, NULL, 10);
    free(b);
    return v;
}

static void part_b(pid_t full, pid_t mini) {
    printf("live_probe: (b) vmatlasd --once against the kernel\n");
    char pathbuf[4096];
    const char *daemon = daemon_path(pathbuf, sizeof(pathbuf));
    if (!daemon) {
        fprintf(stderr, "live_probe: VMATLASD is not set and no vmatlasd next to the test\n");
        test_failures++;
        return;
    }
    uint64_t btime = read_btime();
    CHECK(btime != 0);
    pid_t pids[2] = {full, mini};
    /* The kernel's view is sampled from before the daemon starts until it blocks writing
     * its document (run_once), so [lo, hi] holds every value the daemon could have read:
     * the daemon's own library mappings move the targets' pss, pss_file and the
     * Shared/Private split while it runs, other processes move them too. */
    struct ksnap k0[2] = {0}, kb[2] = {0}, lo[2] = {0}, hi[2] = {0};
    bool missing_reported = false;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        bool ok = true, blocked = false;
        ksnaps_free(k0, 2);
        for (int i = 0; i < 2; i++)
            ok &= ksnap_read(pids[i], &k0[i]);
        struct sampler sm;
        CHECK(ok && sampler_start(&sm, pids, 2, k0, lo, hi));
        double ms;
        json_t *doc = run_once(daemon, pids, 2, kb, &blocked, &ms);
        bool merged = sampler_stop(&sm);
        if (blocked)
            for (int i = 0; i < 2; i++)
                merged &= ksnap_merge(&lo[i], &hi[i], &kb[i]);
        CHECK(merged);
        if (!doc || !ok || !merged) {
            json_decref(doc);
            break;
        }
        bool flat = ksnap_range_flat(&lo[0], &hi[0]) && ksnap_range_flat(&lo[1], &hi[1]);
        printf("live_probe: --once run %d: %.1f ms, %s, %u kernel samples meanwhile, figures %s\n",
               attempt + 1, ms,
               blocked ? "targets read again while it was blocked writing" : "never saw it block",
               sm.samples, flat ? "stable" : "moved");
        if (!flat) {
            ksnap_print_range("probe", &lo[0], &hi[0]);
            ksnap_print_range("bad-utf8", &lo[1], &hi[1]);
        }
        int before = test_failures;
        CHECK(json_is_object(json_object_get(doc, "snapshot")));
        CHECK(json_is_integer(json_object_get(doc, "total")));
        json_t *a = find_pid(doc, full), *b = find_pid(doc, mini);
        if (!a || !b) {
            if (!missing_reported) {
                fprintf(stderr,
                        "live_probe: --once: probe (pid %d) %s, bad-utf8 child (pid %d) "
                        "%s in the document, although alive and paused\n",
                        full, a ? "present" : "MISSING", mini, b ? "present" : "MISSING");
                test_failures++;
                missing_reported = true;
            }
            json_decref(doc);
            continue;
        }
        check_json_process(a, &lo[0], &hi[0], COMM_HOSTILE, btime, "probe");
        check_json_process(b, &lo[1], &hi[1], COMM_BAD_UTF8, btime, "bad-utf8");
        char q1[64], q2[64];
        json_t *c1 = json_object_get(a, "comm"), *c2 = json_object_get(b, "comm");
        printf("live_probe: --once: %zu processes in the document; comms as decoded from the "
               "JSON: \"%s\" and \"%s\"\n",
               json_array_size(json_object_get(doc, "processes")),
               json_is_string(c1)
                   ? live_quote(json_string_value(c1), json_string_length(c1), q1, sizeof(q1))
                   : "?",
               json_is_string(c2)
                   ? live_quote(json_string_value(c2), json_string_length(c2), q2, sizeof(q2))
                   : "?");
        /* kernel threads are in the document too (kthreads=include), flagged */
        json_t *two = find_pid(doc, 2);
        if (two)
            CHECK(json_is_true(json_object_get(two, "kthread")));
        json_decref(doc);
        if (!forgive(before, flat, attempt, "--once"))
            break;
    }
    ksnaps_free(k0, 2);
    ksnaps_free(kb, 2);
    ksnaps_free(lo, 2);
    ksnaps_free(hi, 2);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--child") == 0)
        return run_child(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (geteuid() != 0) {
        printf("live_probe: SKIP: needs root (hugetlb pool, reading every process's smaps)\n");
        return TEST_SKIP;
    }
    signal(SIGALRM, on_alarm);
    alarm(100);

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/vmatlas-live-probe-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/data", tmpdir);
    int ok = write_file(path, 8 * PAGE, 'd') == 0;
    snprintf(path, sizeof(path), "%s/deleted", tmpdir);
    ok &= write_file(path, 2 * PAGE, 'x') == 0;
    snprintf(weird_path, sizeof(weird_path), "%s/%s", tmpdir, WEIRD_BASENAME);
    ok &= write_file(weird_path, PAGE, 'w') == 0;
    if (!ok) {
        perror("creating temp files");
        cleanup_files();
        return 1;
    }

    bool hugetlb = setup_hugepages();
    struct probe_report rep = {0}, rep2 = {0};
    pid_t full = spawn_probe("full", tmpdir, hugetlb, COMM_HOSTILE, &rep);
    pid_t mini = spawn_probe("mini", tmpdir, false, COMM_BAD_UTF8, &rep2);
    CHECK(full > 0);
    CHECK(mini > 0);
    if (full > 0 && hugetlb && !rep.present[M_HUGETLB])
        printf("live_probe: hugetlb part skipped: MAP_HUGETLB failed: %s\n",
               strerror(rep.hugetlb_errno));
    if (full > 0 && !rep.guard_installed)
        printf("live_probe: note: MADV_GUARD_INSTALL not supported, no \"gu\" VMA\n");

    if (full > 0 && mini > 0) {
        part_a(full, &rep, mini);
        part_b(full, mini);
    }

    live_kill(full);
    live_kill(mini);
    restore_hugepages();
    cleanup_files();
    return test_result("live_probe");
}
