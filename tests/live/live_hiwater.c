/* live_hiwater.c: high-water marks with real processes and the collector on the live /proc.
 *
 * - A child allocates 64 MiB and frees it: its VmHWM stays high while VmRSS falls, and
 *   observed_rss_max keeps the highest RSS a scan saw, with that scan's time.
 * - Two children of one comm peak at different times: the group's observed peak (the largest
 *   sum seen in one snapshot) is at least each one's peak and less than the sum of the peaks.
 * - A child exits: it is in the exited ring with the last VmHWM and VmPeak the kernel showed
 *   for it, and in its groups' exit counts; with taskstats (root), also with the peaks the
 *   kernel reported at its exit.
 * - With taskstats, children that allocate and exit between two scans are in the ring too,
 *   with their exit-time peaks, though no scan saw them.
 * - A pid reused before the next scan (arranged through ns_last_pid as root) starts afresh.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/exitwatch.h"
#include "test.h"
#include "vmatlas/collector.h"

#define MiB (1024ull * 1024)

struct child {
    pid_t pid;
    int cmd, ack; /* pipe ends: commands to it, acknowledgements from it */
};

/* The child: 'a' maps and touches `bytes`, 'f' unmaps them, 'q' exits. */
static void child_loop(int cmd, int ack, size_t bytes) {
    char *mem = NULL;
    char c;
    while (read(cmd, &c, 1) == 1) {
        if (c == 'a' && !mem) {
            mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (mem == MAP_FAILED)
                _exit(3);
            memset(mem, 0x5a, bytes);
        } else if (c == 'f' && mem) {
            munmap(mem, bytes);
            mem = NULL;
        } else if (c == 'q') {
            _exit(0);
        }
        if (write(ack, "k", 1) != 1)
            _exit(4);
    }
    _exit(0);
}

static int child_start(struct child *ch, const char *comm, size_t bytes) {
    int to[2], from[2];
    if (pipe(to) < 0 || pipe(from) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)prctl(PR_SET_NAME, comm);
        close(to[1]);
        close(from[0]);
        child_loop(to[0], from[1], bytes);
    }
    close(to[0]);
    close(from[1]);
    *ch = (struct child){pid, to[1], from[0]};
    return 0;
}

static int child_do(struct child *ch, char c) {
    char k;
    if (write(ch->cmd, &c, 1) != 1 || read(ch->ack, &k, 1) != 1)
        return -EIO;
    return 0;
}

static const struct vm_group *find_group(const struct vm_snapshot *s, int by, const char *key) {
    const struct vm_group *g = vm_snapshot_groups(s);
    for (uint32_t i = 0; i < s->ngroups; i++) {
        const char *k = vm_snapshot_str(s, g[i].key);
        if (g[i].by == by && k && strcmp(k, key) == 0)
            return &g[i];
    }
    return NULL;
}

static struct exitwatch *g_watch; /* taskstats listener, NULL without */

/* Scan into *cur, with *cur (the previous snapshot) as prev; the old one is released. The
 * exits heard so far go to the collector first (as the daemon's scan thread does). */
static int rescan(struct vm_collector *c, struct vm_snapshot **cur) {
    struct vm_snapshot *next = NULL;
    if (g_watch) {
        struct vm_task_exit buf[256];
        size_t n;
        usleep(50000); /* let the reader thread queue what the kernel sent */
        while ((n = exitwatch_drain(g_watch, buf, 256)) > 0)
            if (vm_collector_taskstats(c, buf, n, 0) < 0)
                return -ENOMEM;
    }
    int r = vm_collector_scan(c, *cur, &next);
    if (r < 0)
        return r;
    vm_snapshot_unref(*cur);
    *cur = next;
    return 0;
}

static uint64_t mem(const struct vm_process *p, enum vm_mem_field f) {
    return p && vm_process_has_memory(p, f) ? p->memory[f] : 0;
}

int main(void) {
    char solo[16], pair[16];
    snprintf(solo, sizeof(solo), "hwa%d", (int)getpid() % 100000);
    snprintf(pair, sizeof(pair), "hwp%d", (int)getpid() % 100000);

    struct child a, b1, b2;
    CHECK_EQ_INT(child_start(&a, solo, 64 * MiB), 0);
    CHECK_EQ_INT(child_start(&b1, pair, 48 * MiB), 0);
    CHECK_EQ_INT(child_start(&b2, pair, 48 * MiB), 0);

    int wr = exitwatch_start(-1, &g_watch);
    if (wr < 0)
        fprintf(stderr, "live_hiwater: taskstats unavailable (%s): its checks are skipped%s\n",
                strerror(-wr), geteuid() ? " (needs root)" : "");
    struct vm_collector_options co = {.deep_budget_ns = 0};
    struct vm_collector *c = NULL;
    struct vm_snapshot *s = NULL;
    CHECK_EQ_INT(vm_collector_new(&co, &c), 0);
    if (!c)
        return test_result("live_hiwater");

    /* A: allocate, scan, free, scan. */
    CHECK_EQ_INT(child_do(&a, 'a'), 0);
    CHECK_EQ_INT(rescan(c, &s), 0);
    const struct vm_process *p = vm_snapshot_find(s, a.pid);
    CHECK(p && mem(p, VM_MEM_VM_HWM) >= 64 * MiB && mem(p, VM_MEM_VM_RSS) >= 64 * MiB);
    uint64_t high = p ? p->observed_rss_max : 0, high_at = p ? p->observed_rss_max_at_ms : 0;
    CHECK(p && high == mem(p, VM_MEM_VM_RSS) && high_at == s->collected_at_ms);
    CHECK_EQ_INT(child_do(&a, 'f'), 0);
    CHECK_EQ_INT(rescan(c, &s), 0);
    p = vm_snapshot_find(s, a.pid);
    CHECK(p && mem(p, VM_MEM_VM_RSS) + 60 * MiB < high); /* RSS fell ... */
    CHECK(p && mem(p, VM_MEM_VM_HWM) >= 64 * MiB);       /* ... the kernel's peak did not */
    CHECK(p && p->observed_rss_max == high && p->observed_rss_max_at_ms == high_at);
    fprintf(stderr, "live_hiwater: A: VmHWM %llu kB, VmRSS %llu kB, observed_rss_max %llu kB\n",
            (unsigned long long)mem(p, VM_MEM_VM_HWM) / 1024,
            (unsigned long long)mem(p, VM_MEM_VM_RSS) / 1024, (unsigned long long)high / 1024);

    /* The pair: B1 peaks, frees; then B2 peaks, frees. */
    CHECK_EQ_INT(child_do(&b1, 'a'), 0);
    CHECK_EQ_INT(rescan(c, &s), 0);
    CHECK_EQ_INT(child_do(&b1, 'f'), 0);
    CHECK_EQ_INT(child_do(&b2, 'a'), 0);
    CHECK_EQ_INT(rescan(c, &s), 0);
    CHECK_EQ_INT(child_do(&b2, 'f'), 0);
    CHECK_EQ_INT(rescan(c, &s), 0);
    const struct vm_process *q1 = vm_snapshot_find(s, b1.pid), *q2 = vm_snapshot_find(s, b2.pid);
    const struct vm_group *g = find_group(s, VM_GROUP_COMM, pair);
    CHECK(q1 && q2 && g);
    if (q1 && q2 && g) {
        uint64_t m1 = q1->observed_rss_max, m2 = q2->observed_rss_max;
        fprintf(stderr,
                "live_hiwater: pair: peaks %llu + %llu kB, group observed peak %llu kB, "
                "rss now %llu kB, vm_hwm_sum %llu kB\n",
                (unsigned long long)m1 / 1024, (unsigned long long)m2 / 1024,
                (unsigned long long)g->observed_rss_peak / 1024,
                (unsigned long long)g->rss / 1024, (unsigned long long)g->vm_hwm_sum / 1024);
        CHECK(m1 >= 48 * MiB && m2 >= 48 * MiB);
        CHECK(g->processes == 2 && g->observed_rss_peak >= m1 && g->observed_rss_peak >= m2);
        CHECK(g->observed_rss_peak < m1 + m2);
        CHECK(g->rss < g->observed_rss_peak && g->observed_rss_peak_at_ms < s->collected_at_ms);
        CHECK(g->vm_hwm_sum >= 96 * MiB && g->vm_hwm_max >= 48 * MiB);
        CHECK(g->vm_hwm_max_pid == b1.pid || g->vm_hwm_max_pid == b2.pid);
        CHECK(g->exited == 0);
    }

    /* A exits: its last VmHWM/VmPeak and its observed maximum go to the ring. */
    p = vm_snapshot_find(s, a.pid);
    uint64_t last_hwm = mem(p, VM_MEM_VM_HWM), last_peak = mem(p, VM_MEM_VM_PEAK);
    CHECK(write(a.cmd, "q", 1) == 1);
    CHECK(waitpid(a.pid, NULL, 0) == a.pid);
    CHECK_EQ_INT(rescan(c, &s), 0);
    const struct vm_exited *e = NULL;
    for (uint32_t i = 0; i < s->nexited; i++)
        if (vm_snapshot_exited(s)[i].pid == a.pid)
            e = &vm_snapshot_exited(s)[i];
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_U64(e->vm_hwm, last_hwm);
        CHECK_EQ_U64(e->vm_peak, last_peak);
        CHECK_EQ_U64(e->observed_rss_max, high);
        CHECK_EQ_U64(e->exited_by_ms, s->collected_at_ms);
        CHECK_STREQ(vm_snapshot_str(s, e->comm), solo);
        CHECK(e->flags & VM_EXITED_HWM);
    }
    g = find_group(s, VM_GROUP_COMM, solo);
    CHECK(g && g->processes == 0 && g->exited == 1 && g->exited_vm_hwm_max == last_hwm);
    CHECK(g && g->observed_rss_peak == high);
    /* An exit heard late (the reader thread was not scheduled in time) completes the ring
     * entry at a later scan. */
    for (int tries = 0; g_watch && e && !(e->flags & VM_EXITED_TASKSTATS) && tries < 20; tries++) {
        usleep(100000);
        CHECK_EQ_INT(rescan(c, &s), 0);
        e = NULL;
        for (uint32_t i = 0; i < s->nexited; i++)
            if (vm_snapshot_exited(s)[i].pid == a.pid)
                e = &vm_snapshot_exited(s)[i];
    }
    if (g_watch && e) {
        /* The kernel's peaks at exit: its RSS counters are per-CPU approximations, so within
         * a few hundred KiB of the VmHWM /proc showed. */
        CHECK(e->flags & VM_EXITED_TASKSTATS);
        CHECK(e->exit_hiwater_rss + 1 * MiB >= last_hwm && e->exit_hiwater_rss <= last_hwm + MiB);
        CHECK(e->exit_hiwater_vm + MiB >= last_peak && e->exit_hiwater_vm <= last_peak + MiB);
        CHECK_EQ_INT(e->exit_code, 0);
        fprintf(stderr, "live_hiwater: A at exit: hiwater_rss %llu kB (last VmHWM %llu kB)\n",
                (unsigned long long)e->exit_hiwater_rss / 1024,
                (unsigned long long)last_hwm / 1024);
    }

    /* Short-lived: five children allocate 32 MiB and exit between two scans. */
    if (g_watch) {
        char flash[16];
        snprintf(flash, sizeof(flash), "hwf%d", (int)getpid() % 100000);
        pid_t kids[5];
        const struct vm_process *me = vm_snapshot_find(s, getpid());
        uint64_t base_rss = mem(me, VM_MEM_VM_RSS);
        for (int i = 0; i < 5; i++) {
            kids[i] = fork();
            if (kids[i] == 0) {
                (void)prctl(PR_SET_NAME, flash);
                char *m = mmap(NULL, 32 * MiB, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m != MAP_FAILED)
                    memset(m, 1, 32 * MiB);
                _exit(3);
            }
            CHECK(kids[i] > 0 && waitpid(kids[i], NULL, 0) == kids[i]);
        }
        int found = 0;
        for (int tries = 0; tries < 20 && found < 5; tries++) {
            CHECK_EQ_INT(rescan(c, &s), 0);
            found = 0;
            for (uint32_t i = 0; i < s->nexited; i++)
                for (int k = 0; k < 5; k++)
                    found += vm_snapshot_exited(s)[i].pid == kids[k];
            if (found < 5)
                usleep(100000);
        }
        found = 0;
        for (uint32_t i = 0; i < s->nexited; i++) {
            const struct vm_exited *x = &vm_snapshot_exited(s)[i];
            for (int k = 0; k < 5; k++)
                if (x->pid == kids[k]) {
                    found++;
                    CHECK(x->flags & VM_EXITED_UNSEEN);
                    /* 32 MiB touched, on top of what the fork shares with this process
                     * (much more under the sanitizers) */
                    CHECK(x->vm_hwm >= 32 * MiB && x->vm_hwm < base_rss + 48 * MiB);
                    CHECK_STREQ(vm_snapshot_str(s, x->comm), flash);
                    CHECK_EQ_INT(x->exit_code, 3 << 8);
                }
        }
        CHECK_EQ_INT(found, 5);
        g = find_group(s, VM_GROUP_COMM, flash);
        CHECK(g && g->exited == 5 && g->exited_vm_hwm_max >= 32 * MiB);
        fprintf(stderr, "live_hiwater: %d short-lived children caught by taskstats\n", found);
    }

    /* pid reuse: a process exits and its pid goes to a new one before the next scan (as root,
     * through ns_last_pid). The new one starts afresh; the old one is in the ring. */
    struct child x;
    char reuse_comm[16];
    snprintf(reuse_comm, sizeof(reuse_comm), "hwr%d", (int)getpid() % 100000);
    CHECK_EQ_INT(child_start(&x, reuse_comm, 64 * MiB), 0);
    CHECK_EQ_INT(child_do(&x, 'a'), 0);
    CHECK_EQ_INT(rescan(c, &s), 0);
    p = vm_snapshot_find(s, x.pid);
    uint64_t x_max = p ? p->observed_rss_max : 0, x_start = p ? p->starttime : 0;
    CHECK(x_max >= 64 * MiB);
    CHECK(write(x.cmd, "q", 1) == 1 && waitpid(x.pid, NULL, 0) == x.pid);
    pid_t y = -1;
    for (int tries = 0; tries < 50 && y != x.pid; tries++) {
        FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
        if (!f)
            break;
        fprintf(f, "%d", x.pid - 1);
        if (fclose(f) != 0)
            break;
        if (y > 0) {
            kill(y, SIGKILL);
            waitpid(y, NULL, 0);
        }
        y = fork();
        if (y == 0) {
            (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
            pause();
            _exit(0);
        }
    }
    if (y == x.pid) {
        CHECK_EQ_INT(rescan(c, &s), 0);
        p = vm_snapshot_find(s, y);
        CHECK(p && p->starttime != x_start);
        /* Afresh: the new process's own RSS (what its fork shares with this one), not the
         * old one's 64 MiB more. */
        CHECK(p && p->observed_rss_max + 32 * MiB < x_max &&
              p->observed_rss_max_at_ms == s->collected_at_ms);
        const struct vm_exited *old = NULL;
        for (uint32_t i = 0; i < s->nexited; i++)
            if (vm_snapshot_exited(s)[i].pid == x.pid &&
                vm_snapshot_exited(s)[i].starttime == x_start)
                old = &vm_snapshot_exited(s)[i];
        CHECK(old && old->observed_rss_max == x_max);
        fprintf(stderr, "live_hiwater: pid %d reused: new observed_rss_max %llu kB, the old "
                        "one (%llu kB) in the ring\n",
                (int)y, (unsigned long long)(p ? p->observed_rss_max / 1024 : 0),
                (unsigned long long)x_max / 1024);
    } else {
        fprintf(stderr, "live_hiwater: pid reuse not arranged (needs root and ns_last_pid): "
                        "that check is skipped\n");
    }
    if (y > 0) {
        kill(y, SIGKILL);
        waitpid(y, NULL, 0);
    }

    CHECK(write(b1.cmd, "q", 1) == 1 && write(b2.cmd, "q", 1) == 1);
    waitpid(b1.pid, NULL, 0);
    waitpid(b2.pid, NULL, 0);
    vm_snapshot_unref(s);
    vm_collector_free(c);
    exitwatch_stop(g_watch);
    return test_result("live_hiwater");
}
