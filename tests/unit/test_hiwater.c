/* test_hiwater.c: group peaks and the exited ring across snapshots, on a copy of the hostile
 * fixture from which one process disappears between two scans. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "collector/cgpeak.h"
#include "collector/taskstats.h"
#include "test.h"
#include "vmatlas/collector.h"
#include "vmatlas/state.h"

static const struct vm_group *find_group(const struct vm_snapshot *s, int by, const char *key) {
    const struct vm_group *g = vm_snapshot_groups(s);
    for (uint32_t i = 0; i < s->ngroups; i++) {
        const char *k = vm_snapshot_str(s, g[i].key);
        if (g[i].by == by && ((!k && !key) || (k && key && strcmp(k, key) == 0)))
            return &g[i];
    }
    return NULL;
}

int main(void) {
    const char *fixtures = getenv("VMATLAS_FIXTURES");
    char tmp[] = "/tmp/vmatlas-hiwater-XXXXXX", cmd[1024], proc[256], sys[256];
    if (!fixtures || !mkdtemp(tmp)) {
        fprintf(stderr, "test_hiwater: VMATLAS_FIXTURES unset or no temp dir\n");
        return 1;
    }
    snprintf(cmd, sizeof(cmd), "cp -a '%s/hostile/proc' '%s/hostile/sys' '%s/'", fixtures,
             fixtures, tmp);
    CHECK(system(cmd) == 0);
    snprintf(proc, sizeof(proc), "%s/proc", tmp);
    snprintf(sys, sizeof(sys), "%s/sys", tmp);

    struct vm_collector_options co = {.procfs_root = proc, .sysfs_root = sys, .exited_max = 2};
    struct vm_collector *c = NULL;
    CHECK_EQ_INT(vm_collector_new(&co, &c), 0);
    struct vm_snapshot *s1 = NULL, *s2 = NULL, *s3 = NULL;
    CHECK_EQ_INT(vm_collector_scan(c, NULL, &s1), 0);
    CHECK_EQ_U64(s1->nexited, 0);
    const struct vm_group *g = find_group(s1, VM_GROUP_UNIT, "hostile.service");
    CHECK(g != NULL);
    uint64_t peak1 = g ? g->observed_rss_peak : 0;
    CHECK(g && g->processes == 6 && g->rss == peak1 && g->observed_rss_peak_at_ms != 0);
    CHECK(g && g->vm_hwm_max_pid == 100); /* ties go to the lowest pid */
    CHECK(find_group(s1, VM_GROUP_NONE, NULL) != NULL);
    CHECK(find_group(s1, VM_GROUP_UNIT, NULL) == NULL); /* every user process has a unit */
    CHECK(find_group(s1, VM_GROUP_USER, "root") != NULL);

    /* pid 105 ("longline", hostile.service, VmHWM 3000 kB) exits. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/105'", proc);
    CHECK(system(cmd) == 0);
    CHECK_EQ_INT(vm_collector_scan(c, s1, &s2), 0);
    CHECK_EQ_U64(s2->seq, 2);
    CHECK_EQ_U64(s2->nexited, 1);
    const struct vm_exited *e = vm_snapshot_exited(s2);
    CHECK_EQ_INT(e[0].pid, 105);
    CHECK_STREQ(vm_snapshot_str(s2, e[0].comm), "longline");
    CHECK_STREQ(vm_snapshot_str(s2, e[0].unit), "hostile.service");
    CHECK_EQ_U64(e[0].vm_hwm, 3000 * 1024);
    CHECK_EQ_U64(e[0].vm_peak, 10000 * 1024);
    CHECK(e[0].flags == (VM_EXITED_HWM | VM_EXITED_PEAK));
    CHECK_EQ_U64(e[0].exited_by_ms, s2->collected_at_ms);
    CHECK_EQ_U64(e[0].starttime, 5000);

    g = find_group(s2, VM_GROUP_UNIT, "hostile.service");
    CHECK(g && g->processes == 5 && g->exited == 1 && g->exited_vm_hwm_max == 3000 * 1024);
    /* The group's peak is the larger sum of the first scan, not today's. */
    CHECK(g && g->observed_rss_peak == peak1 && g->rss < peak1);
    g = find_group(s2, VM_GROUP_COMM, "longline");
    CHECK(g && g->processes == 0 && g->exited == 1 && g->observed_rss_peak == 2500 * 1024);
    g = find_group(s2, VM_GROUP_NONE, NULL);
    CHECK(g && g->exited == 1);

    /* A third scan carries the ring and the counts without counting the exit twice. */
    CHECK_EQ_INT(vm_collector_scan(c, s2, &s3), 0);
    CHECK_EQ_U64(s3->nexited, 1);
    g = find_group(s3, VM_GROUP_COMM, "longline");
    CHECK(g && g->exited == 1);
    CHECK(vm_snapshot_validate(s3, s3->size) == 0);

    /* The cgroups' own peaks: v2 memory.peak, v1 memory.max_usage_in_bytes, none for "/". */
    g = find_group(s3, VM_GROUP_CGROUP, "/system.slice/hostile.service");
    CHECK(g && g->memory_peak_src == VM_MEMORY_PEAK_V2 && g->memory_peak == 123456789);
    g = find_group(s3, VM_GROUP_CGROUP, "/user.slice/user-0.slice/session-3.scope");
    CHECK(g && g->memory_peak_src == VM_MEMORY_PEAK_V1 && g->memory_peak == 7654321);
    /* Paths that would leave the cgroup tree are refused, not joined. */
    int sysfd = open(sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint64_t peak;
    uint8_t src;
    CHECK(sysfd >= 0);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "/system.slice/hostile.service", &peak, &src), 0);
    CHECK(peak == 123456789 && src == VM_MEMORY_PEAK_V2);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "/system.slice/../system.slice", &peak, &src), -EINVAL);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "/..", &peak, &src), -EINVAL);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "/./system.slice", &peak, &src), -EINVAL);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "//system.slice", &peak, &src), -EINVAL);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "system.slice", &peak, &src), -EINVAL);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "/system.slice (deleted)", &peak, &src), -EINVAL);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "/", &peak, &src), -ENOENT);
    CHECK_EQ_INT(cgroup_memory_peak(sysfd, "/nope.slice", &peak, &src), -ENOENT);
    close(sysfd);
    g = find_group(s3, VM_GROUP_COMM, "masked");
    CHECK(g && g->memory_peak_src == VM_MEMORY_PEAK_NONE);

    /* The state: encoded, every prefix and a flipped byte refused, the whole accepted. */
    void *state = NULL;
    size_t slen = 0;
    CHECK_EQ_INT(vm_state_encode(s3, &state, &slen), 0);
    struct vm_snapshot *seed = NULL;
    for (size_t cut = 0; cut < slen; cut += cut < 64 ? 1 : 97)
        CHECK_EQ_INT(vm_state_decode(state, cut, &seed), -EBADMSG);
    ((char *)state)[slen / 2] ^= 0x20;
    CHECK_EQ_INT(vm_state_decode(state, slen, &seed), -EBADMSG);
    ((char *)state)[slen / 2] ^= 0x20;
    CHECK_EQ_INT(vm_state_decode(state, slen, &seed), 0);
    CHECK(seed && seed->nexited == 1 && seed->ngroups == s3->ngroups);
    CHECK(seed && seed->nprocs == s3->nprocs - s3->nkthreads && seed->nvmas == 0);
    CHECK(seed && vm_snapshot_validate(seed, seed->size) == 0);

    /* A restart: a new collector whose first scan has the seed as previous snapshot. pid 107
     * exits while the daemon is down; the unit's peak stays the first scan's. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/107'", proc);
    CHECK(system(cmd) == 0);
    struct vm_collector *c2 = NULL;
    struct vm_snapshot *r1 = NULL, *r2 = NULL, *b1 = NULL;
    co.exited_max = 10;
    CHECK_EQ_INT(vm_collector_new(&co, &c2), 0);
    CHECK_EQ_INT(vm_collector_scan(c2, seed, &r1), 0);
    CHECK_EQ_U64(r1->seq, s3->seq + 1);
    g = find_group(r1, VM_GROUP_UNIT, "hostile.service");
    CHECK(g && g->processes == 4 && g->exited == 2 && g->observed_rss_peak == peak1);
    CHECK(g && g->rss < peak1);
    CHECK_EQ_U64(r1->nexited, 2);
    e = vm_snapshot_exited(r1);
    CHECK_EQ_INT(e[0].pid, 107); /* newest first */
    CHECK_EQ_U64(e[0].exited_by_ms, r1->collected_at_ms);
    CHECK_EQ_U64(e[0].vm_hwm, 3000 * 1024);
    CHECK_EQ_INT(e[1].pid, 105);
    const struct vm_process *p100 = vm_snapshot_find(r1, 100);
    const struct vm_process *o100 = vm_snapshot_find(s3, 100);
    CHECK(p100 && o100 && p100->observed_rss_max_at_ms == o100->observed_rss_max_at_ms);

    /* --reset-peaks unit:hostile.service: that group starts again from its sum now; its exit
     * count stays, the other groups keep their peaks. */
    CHECK_EQ_INT(vm_collector_reset_peaks(c2, VM_GROUP_UNIT, "hostile.service"), 0);
    CHECK_EQ_INT(vm_collector_reset_peaks(c2, 7, NULL), -EINVAL);
    CHECK_EQ_INT(vm_collector_scan(c2, r1, &r2), 0);
    g = find_group(r2, VM_GROUP_UNIT, "hostile.service");
    CHECK(g && g->observed_rss_peak == g->rss && g->observed_rss_peak < peak1 && g->exited == 2);
    CHECK(g && g->exited_vm_hwm_max == 0 && g->observed_rss_peak_at_ms == r2->collected_at_ms);
    g = find_group(r2, VM_GROUP_COMM, "longline");
    CHECK(g && g->observed_rss_peak == 2500 * 1024 && g->exited_vm_hwm_max == 3000 * 1024);

    /* A state from an earlier boot: every process of it exited (the reboot), and no identity
     * of it is carried, even where pid and start time happen to match. */
    snprintf(cmd, sizeof(cmd),
             "echo 00000000-1111-2222-3333-444444444444 > '%s/sys/kernel/random/boot_id'", proc);
    CHECK(system(cmd) == 0);
    struct vm_collector *c3 = NULL;
    CHECK_EQ_INT(vm_collector_new(&co, &c3), 0);
    CHECK_EQ_INT(vm_collector_scan(c3, r2, &b1), 0);
    CHECK_EQ_U64(b1->nexited, 2 + (r2->nprocs - r2->nkthreads));
    p100 = vm_snapshot_find(b1, 100);
    CHECK(p100 && p100->observed_rss_max_at_ms == b1->collected_at_ms);
    g = find_group(b1, VM_GROUP_UNIT, "hostile.service");
    CHECK(g && g->exited == 2 + 4 && g->processes == 4);

    /* taskstats: exit records matched to the processes the scans saw (by pid and start: the
     * fixture's starttime 5000 ticks is 50 s after boot), kept while the process is listed,
     * and entries of their own for processes no scan saw. */
    struct vm_collector *c4 = NULL;
    struct vm_snapshot *t1 = NULL, *t2 = NULL, *t3 = NULL;
    CHECK_EQ_INT(vm_collector_new(&co, &c4), 0);
    CHECK_EQ_INT(vm_collector_scan(c4, NULL, &t1), 0);
    struct vm_task_exit x[3] = {
        {.tid = 104, .tgid = 104, .group_dead = true, .exit_code = 9, .exit_ms = 1700000000123,
         .elapsed_us = 2000000, .seen_boottime_ns = 52000000000ull,
         .hiwater_rss_bytes = 3100 * 1024, .hiwater_vm_bytes = 10001 * 1024, .comm = "torn"},
        {.tid = 4242, .tgid = 4242, .group_dead = true, .uid = 0, .exit_code = 256,
         .exit_ms = 1700000000456, .elapsed_us = 30000, .seen_boottime_ns = 90000000000ull,
         .hiwater_rss_bytes = 64 << 20, .hiwater_vm_bytes = 80 << 20, .comm = "flash"},
        {.tid = 100, .tgid = 100, .group_dead = true, .elapsed_us = 1000000,
         .seen_boottime_ns = 51000000000ull, .hiwater_rss_bytes = 1, .comm = "zombie-ish"},
    };
    CHECK_EQ_INT(vm_collector_taskstats(c4, x, 3, 7), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/104'", proc);
    CHECK(system(cmd) == 0);
    CHECK_EQ_INT(vm_collector_scan(c4, t1, &t2), 0);
    CHECK(t2->node.caps & (1u << VM_CAP_TASKSTATS));
    CHECK_EQ_U64(t2->taskstats_exits_total, 3);
    CHECK_EQ_U64(t2->taskstats_unseen_total, 1);
    CHECK_EQ_U64(t2->taskstats_lost_total, 7);
    CHECK_EQ_U64(t2->nexited, 2);
    e = vm_snapshot_exited(t2);
    /* 104: seen by the scans; the kernel's figures at exit added. */
    CHECK_EQ_INT(e[0].pid, 104);
    CHECK(e[0].flags & VM_EXITED_TASKSTATS && !(e[0].flags & VM_EXITED_UNSEEN));
    CHECK_EQ_U64(e[0].vm_hwm, 3000 * 1024); /* the last VmHWM the scans saw */
    CHECK_EQ_U64(e[0].exit_hiwater_rss, 3100 * 1024);
    CHECK_EQ_U64(e[0].exit_hiwater_vm, 10001 * 1024);
    CHECK_EQ_INT(e[0].exit_code, 9);
    CHECK_EQ_U64(e[0].exit_ms, 1700000000123);
    /* 4242: never seen; its start derived from its lifetime (90 s - 30 ms after boot). */
    CHECK_EQ_INT(e[1].pid, 4242);
    CHECK(e[1].flags & VM_EXITED_UNSEEN && e[1].flags & VM_EXITED_TASKSTATS);
    CHECK_STREQ(vm_snapshot_str(t2, e[1].comm), "flash");
    CHECK(vm_snapshot_str(t2, e[1].unit) == NULL);
    CHECK_EQ_U64(e[1].vm_hwm, 64 << 20);
    CHECK_EQ_U64(e[1].starttime, 8997);
    CHECK_EQ_U64(e[1].observed_rss_max_at_ms, 0);
    g = find_group(t2, VM_GROUP_COMM, "flash");
    CHECK(g && g->processes == 0 && g->exited == 1 && g->exited_vm_hwm_max == 64 << 20);
    g = find_group(t2, VM_GROUP_USER, "root");
    CHECK(g && g->exited == 2);
    g = find_group(t2, VM_GROUP_UNIT, "hostile.service");
    CHECK(g && g->exited == 1); /* 104 only: the unseen one has no known unit */
    /* pid 100 is still listed: its record waits. When 100 goes, it is taken then, once. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/100'", proc);
    CHECK(system(cmd) == 0);
    CHECK_EQ_INT(vm_collector_scan(c4, t2, &t3), 0);
    CHECK_EQ_U64(t3->nexited, 3);
    e = vm_snapshot_exited(t3);
    CHECK(e[0].pid == 100 && (e[0].flags & VM_EXITED_TASKSTATS) && e[0].exit_hiwater_rss == 1);
    CHECK(e[1].pid == 104 && e[2].pid == 4242);
    CHECK(vm_snapshot_validate(t3, t3->size) == 0);
    vm_snapshot_unref(t1);
    vm_snapshot_unref(t2);
    vm_snapshot_unref(t3);
    vm_collector_free(c4);

    free(state);
    vm_snapshot_unref(seed);
    vm_snapshot_unref(r1);
    vm_snapshot_unref(r2);
    vm_snapshot_unref(b1);
    vm_collector_free(c2);
    vm_collector_free(c3);
    vm_snapshot_unref(s1);
    vm_snapshot_unref(s2);
    vm_snapshot_unref(s3);
    vm_collector_free(c);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    return test_result("test_hiwater");
}
