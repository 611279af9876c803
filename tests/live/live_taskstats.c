/* live_taskstats.c: short-lived processes caught at exit by taskstats, compared with what the
 * children measured themselves.
 *
 * (a) The raw listener (collector/taskstats.h): a single-threaded child and a multi-threaded
 *     one whose two threads end before the main thread; every record of theirs is checked,
 *     thread records included (tgid, tid, comm, group_dead on the last one only). With
 *     VMATLAS_TASKSTATS_CAPTURE=DIR the datagrams are written there as fuzz seeds (two bytes of
 *     family id, little-endian, then the datagram).
 * (b) The exit watcher (daemon/exitwatch.h):
 *     - three children that map and touch 64 MiB of anonymous memory, read their own VmRSS
 *       before and VmHWM/VmPeak after, report them over a pipe and _exit() at once: hiwater_rss
 *       >= 64 MiB, >= their VmHWM, < VmRSS before + 64 MiB + 16 MiB, hiwater_vm >= hiwater_rss
 *       and == VmPeak (1 MiB slack), exit code, comm, exit time inside the test's window, and
 *       the /proc identity: the start on the CLOCK_BOOTTIME scale (seen - elapsed) within
 *       50 ms of the zombie's stat starttime;
 *     - a multi-threaded child whose three threads exit (joined) before the main thread
 *       touches 64 MiB and exits: one record, from the main thread;
 *     - a child whose main thread calls pthread_exit() first and whose last thread touches
 *       64 MiB and _exit()s: one record, tid != tgid, the last thread's comm (the leader's
 *       own end is no process end);
 *     - a burst of 500 children that _exit() at once: each one's record, exactly once, with its
 *       exit code, unless the socket reported overruns (or the queue drops), which are then
 *       printed; a silent loss fails.
 * Every process must have exactly one group_dead record.
 *
 * Needs root in the initial user and pid namespaces (CAP_NET_ADMIN for the registration):
 * exits 77 otherwise, saying why.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "collector/taskstats.h"
#include "daemon/exitwatch.h"
#include "live_util.h"
#include "vmatlas/macros.h"

#define MIB (1024ull * 1024ull)
#define BIG (64 * MIB)
#define BURST 500
#define WAIT_MS 5000

/* ---- children ------------------------------------------------------------------------------ */

struct mem_report {
    uint64_t rss_before_kb, hwm_after_kb, peak_after_kb;
    int32_t tid; /* the thread that touched the memory and ends the process */
};

/* "Key:   N kB" of a status file, read into a stack buffer (no malloc in children). */
static uint64_t status_kb(const char *path, const char *key) {
    char buf[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strstr(buf, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Map and touch bytes of anonymous memory (kept mapped), measuring before and after. */
static void touch(size_t bytes, const char *status, struct mem_report *rep) {
    rep->rss_before_kb = status_kb(status, "VmRSS:");
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(90);
    memset(p, 0x5a, bytes);
    rep->hwm_after_kb = status_kb(status, "VmHWM:");
    rep->peak_after_kb = status_kb(status, "VmPeak:");
    rep->tid = (int32_t)syscall(SYS_gettid);
}

static void name(const char *n) {
    (void)prctl(PR_SET_NAME, n);
}

struct child {
    pid_t pid;
    int rfd; /* the report pipe */
    struct mem_report rep;
    uint64_t starttime_ticks; /* stat field 22 of the zombie */
    int status;
};

/* Fork fn(wfd); the parent keeps the read end. */
static bool spawn(struct child *c, void (*fn)(int wfd, int arg), int arg) {
    int p[2];
    memset(c, 0, sizeof(*c));
    if (pipe2(p, O_CLOEXEC) < 0)
        return false;
    fflush(NULL);
    c->pid = fork();
    if (c->pid < 0)
        return false;
    if (c->pid == 0) {
        close(p[0]);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        fn(p[1], arg);
        _exit(91);
    }
    close(p[1]);
    c->rfd = p[0];
    return true;
}

/* Read the child's report, its starttime from the zombie, then reap it. */
static bool finish(struct child *c) {
    size_t got = 0;
    while (got < sizeof(c->rep)) {
        struct pollfd pfd = {.fd = c->rfd, .events = POLLIN};
        if (poll(&pfd, 1, WAIT_MS) <= 0)
            break;
        ssize_t n = read(c->rfd, (char *)&c->rep + got, sizeof(c->rep) - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(c->rfd);
    /* The child exits right after its report; until we reap it, its stat stays. */
    struct live_stat st;
    if (live_stat_read(c->pid, &st) && st.nfields >= 22)
        c->starttime_ticks = st.f[22];
    c->status = live_wait_timeout(c->pid, WAIT_MS);
    if (got != sizeof(c->rep)) {
        fprintf(stderr, "child %d: no report\n", (int)c->pid);
        test_failures++;
        return false;
    }
    return true;
}

static void child_single(int wfd, int code) {
    struct mem_report rep;
    char n[16];
    snprintf(n, sizeof(n), "ts-mem64-%d", code);
    name(n);
    touch(BIG, "/proc/self/status", &rep);
    live_write_all(wfd, &rep, sizeof(rep));
    _exit(code);
}

static void *thread_small(void *arg) {
    char n[16];
    snprintf(n, sizeof(n), "ts-mt-w%d", (int)(intptr_t)arg);
    name(n);
    void *p = mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED)
        memset(p, 1, 4 * MIB);
    return NULL;
}

/* nthreads threads touch 4 MiB each and end (joined); then the main thread touches 64 MiB. */
static void child_mt(int wfd, int nthreads) {
    struct mem_report rep;
    pthread_t t[8];
    name("ts-mt-main");
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, thread_small, (void *)(intptr_t)i) != 0)
            _exit(92);
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    touch(BIG, "/proc/self/status", &rep);
    live_write_all(wfd, &rep, sizeof(rep));
    _exit(5);
}

static void *thread_last(void *arg) {
    int wfd = (int)(intptr_t)arg;
    struct mem_report rep;
    /* Wait (2 s at most) for the leader to be a zombie: then this thread ends the process. */
    for (int i = 0; i < 2000; i++) {
        char buf[512];
        int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = 0;
            char *rp = strrchr(buf, ')');
            if (rp && rp[1] == ' ' && rp[2] == 'Z')
                break;
        }
        usleep(1000);
    }
    name("ts-last");
    /* The leader is gone: its status has no mm; this thread's has. */
    touch(BIG, "/proc/thread-self/status", &rep);
    live_write_all(wfd, &rep, sizeof(rep));
    _exit(7);
}

/* The main thread leaves first with pthread_exit(); the other thread ends the process. */
static void child_leader_first(int wfd, int unused) {
    (void)unused;
    pthread_t t;
    name("ts-lead");
    if (pthread_create(&t, NULL, thread_last, (void *)(intptr_t)wfd) != 0)
        _exit(93);
    pthread_exit(NULL);
}

/* ---- records seen -------------------------------------------------------------------------- */

static struct vm_task_exit *seen;
static size_t nseen, capseen;

static void keep(const struct vm_task_exit *e) {
    if (nseen == capseen) {
        capseen = capseen ? capseen * 2 : 1024;
        seen = realloc(seen, capseen * sizeof(*seen));
        if (!seen)
            abort();
    }
    seen[nseen++] = *e;
}

/* Records of processes whose parent is this test (the watcher sees every exit of the host). */
static void pump(struct exitwatch *w) {
    struct vm_task_exit buf[256];
    size_t k;
    while ((k = exitwatch_drain(w, buf, ARRAY_SIZE(buf))) > 0)
        for (size_t i = 0; i < k; i++)
            if (buf[i].ppid == (int32_t)getpid())
                keep(&buf[i]);
}

/* How many records of tgid, and the last one. */
static size_t records_of(pid_t tgid, const struct vm_task_exit **ret) {
    size_t n = 0;
    for (size_t i = 0; i < nseen; i++)
        if (seen[i].tgid == tgid) {
            n++;
            if (ret)
                *ret = &seen[i];
        }
    return n;
}

/* Pump until every pid has a record or WAIT_MS passed. */
static void wait_records(struct exitwatch *w, const pid_t *pids, size_t n) {
    uint64_t deadline = live_now_ns() + WAIT_MS * 1000000ull;
    for (;;) {
        pump(w);
        size_t missing = 0;
        for (size_t i = 0; i < n; i++)
            missing += records_of(pids[i], NULL) == 0;
        if (!missing || live_now_ns() >= deadline)
            return;
        usleep(2000);
    }
}

static uint64_t real_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t boot_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* How far below the exact RSS sum percpu_counter_read()s of the mm's three RSS counters can
 * be. */
static uint64_t rss_drift_bytes(void) {
    uint64_t cpus = (uint64_t)sysconf(_SC_NPROCESSORS_CONF);
    uint64_t batch = cpus * 2 > 32 ? cpus * 2 : 32;
    return 3 * cpus * batch * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The checks every process record gets: identity, times within [t0, t1] (ac_btime is whole
 * seconds: 1 s of slack), and the peaks against the child's own report. */
static void check_process(const char *what, const struct child *c, const struct vm_task_exit *e,
                          uint64_t t0_ms, uint64_t t1_ms, uint64_t boot0, uint64_t extra_bytes) {
    uint64_t rss = e->hiwater_rss_bytes, vm = e->hiwater_vm_bytes;
    printf("live_taskstats: %-13s pid %d tid %d comm %-12s code %#x: hiwater_rss %llu KiB "
           "(VmHWM %llu, VmRSS before %llu), hiwater_vm %llu KiB (VmPeak %llu), exit_ms %+lld "
           "ms from the first fork\n",
           what, e->tgid, e->tid, e->comm, e->exit_code, (unsigned long long)rss / 1024,
           (unsigned long long)c->rep.hwm_after_kb, (unsigned long long)c->rep.rss_before_kb,
           (unsigned long long)vm / 1024, (unsigned long long)c->rep.peak_after_kb,
           (long long)e->exit_ms - (long long)t0_ms);
    CHECK_EQ_INT(e->tgid, c->pid);
    CHECK_EQ_INT(e->ppid, getpid());
    CHECK_EQ_U64(e->uid, getuid());
    CHECK(e->group_dead);
    CHECK(!e->guessed);
    CHECK(e->exit_code == c->status);
    CHECK(e->exit_ms + 1000 >= t0_ms && e->exit_ms <= t1_ms + 1000);
    CHECK(e->btime_s + 1 >= t0_ms / 1000 && e->btime_s <= t1_ms / 1000 + 1);
    CHECK(e->elapsed_us <= (t1_ms - t0_ms + 1000) * 1000);
    CHECK(rss >= BIG + extra_bytes);
    /* taskstats reads the mm's RSS counters without folding in the per-CPU deltas
     * (get_mm_hiwater_rss -> get_mm_counter -> percpu_counter_read_positive) while status sums
     * them (get_mm_counter_sum): each of the three counters (anon, file, shmem) may be lower
     * by up to a batch, max(32, 2 * CPUs) pages, per CPU. */
    CHECK(rss + rss_drift_bytes() >= c->rep.hwm_after_kb * 1024);
    CHECK(rss <= c->rep.hwm_after_kb * 1024 + MIB);
    CHECK(rss < c->rep.rss_before_kb * 1024 + BIG + extra_bytes + 16 * MIB);
    CHECK(vm >= rss);
    CHECK(vm >= c->rep.peak_after_kb * 1024 && vm <= c->rep.peak_after_kb * 1024 + MIB);
    /* Matching the /proc identity (pid, starttime): the start on the CLOCK_BOOTTIME scale is
     * the receive time minus the process's lifetime (late by the delivery latency). */
    CHECK(e->seen_boottime_ns >= boot0 && e->seen_boottime_ns <= boot_ns());
    if (c->starttime_ticks) {
        long hz = sysconf(_SC_CLK_TCK);
        int64_t start_ns = (int64_t)e->seen_boottime_ns - (int64_t)e->elapsed_us * 1000;
        int64_t stat_ns = (int64_t)(c->starttime_ticks * (1000000000ull / (uint64_t)hz));
        int64_t diff_ms = (start_ns - stat_ns) / 1000000;
        printf("live_taskstats: %-13s start from taskstats - stat starttime = %lld ms\n", what,
               (long long)diff_ms);
        CHECK(diff_ms > -20 && diff_ms < 50);
    } else {
        fprintf(stderr, "%s: no starttime read from the zombie\n", what);
        test_failures++;
    }
}

/* ---- (a) the raw listener ------------------------------------------------------------------ */

static void capture(const char *dir, const char *tag, unsigned n, uint16_t family,
                    const uint8_t *buf, size_t len) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/real-%s-%u", dir, tag, n);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    uint8_t fam[2] = {(uint8_t)family, (uint8_t)(family >> 8)};
    live_write_all(fd, fam, 2);
    live_write_all(fd, buf, len);
    close(fd);
}

/* Collect the records of child's process from the raw socket until its group_dead one. */
static size_t raw_records(struct taskstats_listener *l, pid_t child, struct vm_task_exit *out,
                          size_t max, const char *tag) {
    const char *dir = getenv("VMATLAS_TASKSTATS_CAPTURE");
    uint8_t *buf = malloc(TASKSTATS_RECV_BUF);
    uint64_t deadline = live_now_ns() + WAIT_MS * 1000000ull;
    size_t n = 0;
    unsigned saved = 0;
    bool done = false;

    while (!done && live_now_ns() < deadline) {
        struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t got = recv(l->fd, buf, TASKSTATS_RECV_BUF, MSG_DONTWAIT);
        if (got < 0)
            continue; /* ENOBUFS: others' exits overran us; ours may still come */
        struct vm_task_exit recs[8];
        size_t k;
        int r = taskstats_parse(buf, (size_t)got, l->family, recs, ARRAY_SIZE(recs), &k);
        bool ours = false;
        for (size_t i = 0; i < k; i++) {
            if (recs[i].tgid != child)
                continue;
            ours = true;
            CHECK_EQ_INT(r, 0);
            if (n < max)
                out[n++] = recs[i];
            done |= recs[i].group_dead;
        }
        if (ours && dir)
            capture(dir, tag, saved++, l->family, buf, (size_t)got);
    }
    free(buf);
    return n;
}

static void test_raw(void) {
    _cleanup_(taskstats_closep) struct taskstats_listener *l = NULL;
    struct vm_task_exit recs[8];
    struct child c;
    int sys_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = taskstats_open(sys_fd, &l);
    close(sys_fd);
    CHECK_EQ_INT(r, 0);
    if (r < 0)
        return;
    printf("live_taskstats: raw listener: family %u, cpumask \"%s\"\n", l->family, l->cpumask);

    /* Single-threaded. */
    CHECK(spawn(&c, child_single, 42));
    finish(&c);
    size_t n = raw_records(l, c.pid, recs, ARRAY_SIZE(recs), "single");
    CHECK_EQ_U64(n, 1);
    if (n >= 1) {
        printf("live_taskstats: raw single: version %u, tid %d, comm %s, flags %#x, "
               "hiwater_rss %.1f MiB\n",
               recs[0].version, recs[0].tid, recs[0].comm, recs[0].acct_flags,
               (double)recs[0].hiwater_rss_bytes / MIB);
        CHECK_EQ_INT(recs[0].tid, c.pid);
        CHECK(recs[0].group_dead);
        CHECK_STREQ(recs[0].comm, "ts-mem64-42");
        CHECK_EQ_INT(recs[0].exit_code, 42 << 8);
        CHECK(recs[0].hiwater_rss_bytes >= BIG);
    }

    /* Two threads end before the main thread: two thread records, then the process's. */
    CHECK(spawn(&c, child_mt, 2));
    finish(&c);
    n = raw_records(l, c.pid, recs, ARRAY_SIZE(recs), "mt");
    CHECK_EQ_U64(n, 3);
    size_t dead = 0, threads = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(recs[i].tgid, c.pid);
        if (recs[i].group_dead) {
            dead++;
            CHECK_EQ_INT(recs[i].tid, c.pid);
            CHECK_STREQ(recs[i].comm, "ts-mt-main");
            CHECK(i == n - 1);
        } else {
            threads++;
            CHECK(recs[i].tid != c.pid);
            CHECK(strncmp(recs[i].comm, "ts-mt-w", 7) == 0);
        }
    }
    CHECK_EQ_U64(dead, 1);
    CHECK_EQ_U64(threads, 2);

    /* A listener that does not read, with the smallest buffer: the kernel drops exits and the
     * next recv() says so (ENOBUFS), which is what the watcher counts as an overrun. */
    int tiny = 1;
    CHECK(setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)) == 0);
    fflush(NULL);
    for (int i = 0; i < 64; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            (void)live_wait_timeout(pid, WAIT_MS);
    }
    uint8_t *buf = malloc(TASKSTATS_RECV_BUF);
    int enobufs = 0, datagrams = 0;
    for (;;) {
        ssize_t got = recv(l->fd, buf, TASKSTATS_RECV_BUF, MSG_DONTWAIT);
        if (got < 0 && errno == ENOBUFS)
            enobufs++;
        else if (got < 0)
            break;
        else
            datagrams++;
    }
    free(buf);
    printf("live_taskstats: raw listener with a minimal buffer, 64 exits: %d datagrams kept, "
           "%d ENOBUFS\n",
           datagrams, enobufs);
    CHECK(enobufs >= 1);
    CHECK(datagrams < 64);
}

/* ---- (b) the watcher ----------------------------------------------------------------------- */

static void test_watch(struct exitwatch *w) {
    struct child single[3], mt, lead;
    const struct vm_task_exit *e;
    uint64_t t0 = real_ms(), boot0 = boot_ns();
    pid_t pids[5];

    for (int i = 0; i < 3; i++) {
        CHECK(spawn(&single[i], child_single, i * 3));
        finish(&single[i]);
        pids[i] = single[i].pid;
    }
    CHECK(spawn(&mt, child_mt, 3));
    finish(&mt);
    pids[3] = mt.pid;
    CHECK(spawn(&lead, child_leader_first, 0));
    finish(&lead);
    pids[4] = lead.pid;
    uint64_t t1 = real_ms();
    wait_records(w, pids, ARRAY_SIZE(pids));

    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof(n), "ts-mem64-%d", i * 3);
        CHECK_EQ_U64(records_of(single[i].pid, &e), 1);
        if (records_of(single[i].pid, &e) == 1) {
            check_process("single", &single[i], e, t0, t1, boot0, 0);
            CHECK_EQ_INT(e->tid, single[i].pid);
            CHECK_STREQ(e->comm, n);
        }
    }
    CHECK_EQ_U64(records_of(mt.pid, &e), 1);
    if (records_of(mt.pid, &e) == 1) {
        check_process("mt-main-last", &mt, e, t0, t1, boot0, 12 * MIB);
        CHECK_EQ_INT(e->tid, mt.pid);
        CHECK_STREQ(e->comm, "ts-mt-main");
    }
    CHECK_EQ_U64(records_of(lead.pid, &e), 1);
    if (records_of(lead.pid, &e) == 1) {
        check_process("leader-first", &lead, e, t0, t1, boot0, 0);
        CHECK(e->tid != lead.pid);
        CHECK_EQ_INT(e->tid, lead.rep.tid);
        CHECK_STREQ(e->comm, "ts-last");
    }
}

static void test_burst(struct exitwatch *w) {
    static pid_t pids[BURST];
    struct exitwatch_counters before, after;
    exitwatch_counters(w, &before);

    uint64_t t0 = live_now_ns();
    fflush(NULL);
    for (int i = 0; i < BURST; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(i & 0xff);
        if (pids[i] < 0) {
            fprintf(stderr, "burst: fork %d: %s\n", i, strerror(errno));
            test_failures++;
            return;
        }
    }
    for (int i = 0; i < BURST; i++)
        (void)live_wait_timeout(pids[i], WAIT_MS);
    uint64_t t1 = live_now_ns();
    wait_records(w, pids, BURST);
    exitwatch_counters(w, &after);

    size_t missing = 0, twice = 0;
    for (int i = 0; i < BURST; i++) {
        const struct vm_task_exit *e;
        size_t n = records_of(pids[i], &e);
        missing += n == 0;
        twice += n > 1;
        if (n == 1) {
            CHECK_EQ_INT(e->exit_code, (i & 0xff) << 8);
            CHECK_EQ_INT(e->tid, pids[i]);
            CHECK(e->group_dead);
        }
    }
    uint64_t overruns = after.overruns - before.overruns, dropped = after.dropped - before.dropped;
    printf("live_taskstats: burst of %d children in %.1f ms: %zu recorded, %zu missing, "
           "%zu twice; watcher: %llu messages, %llu processes, %llu threads, %llu overruns, "
           "%llu dropped, %llu malformed, %llu foreign, queue %llu\n",
           BURST, (double)(t1 - t0) / 1e6, BURST - missing, missing, twice,
           (unsigned long long)(after.messages - before.messages),
           (unsigned long long)(after.processes - before.processes),
           (unsigned long long)(after.threads - before.threads), (unsigned long long)overruns,
           (unsigned long long)dropped, (unsigned long long)(after.malformed - before.malformed),
           (unsigned long long)(after.foreign - before.foreign), (unsigned long long)after.queued);
    CHECK_EQ_U64(twice, 0);
    /* A loss must show in the counters. */
    if (missing && !overruns && !dropped) {
        fprintf(stderr, "burst: %zu exits lost silently\n", missing);
        test_failures++;
    }
    CHECK_EQ_INT(after.error, 0);
}

int main(void) {
    if (geteuid() != 0) {
        printf("live_taskstats: SKIP: needs root (CAP_NET_ADMIN registers a taskstats "
               "listener)\n");
        return TEST_SKIP;
    }
    alarm(120);

    struct exitwatch *w = NULL;
    int sys_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = exitwatch_start(sys_fd, &w);
    close(sys_fd);
    if (r == -EPERM || r == -EINVAL || r == -ENOENT || r == -EAFNOSUPPORT || r == -EACCES ||
        r == -EPROTONOSUPPORT) {
        printf("live_taskstats: SKIP: taskstats unavailable: %s (%s)\n", strerror(-r),
               r == -EPERM    ? "no CAP_NET_ADMIN"
               : r == -EINVAL ? "not in the initial user and pid namespaces"
               : r == -ENOENT ? "no TASKSTATS genetlink family (CONFIG_TASKSTATS=n)"
                              : "netlink sockets not allowed");
        return TEST_SKIP;
    }
    CHECK_EQ_INT(r, 0);
    if (r < 0)
        return test_result("live_taskstats");

    test_watch(w);
    test_burst(w);

    struct exitwatch_counters c;
    exitwatch_counters(w, &c);
    uint64_t t = live_now_ns();
    w = exitwatch_stop(w);
    printf("live_taskstats: exitwatch_stop took %.2f ms\n", (double)(live_now_ns() - t) / 1e6);
    CHECK(live_now_ns() - t < 1000000000ull);

    /* Two listeners at once are fine; the raw one after the watcher is gone, too. */
    test_raw();
    free(seen);
    return test_result("live_taskstats");
}
