/* test_hiwater.c: group peaks and the exited ring across snapshots, on a copy of the hostile
 * fixture from which one process disappears between two scans. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vmatlas/collector.h"

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

    vm_snapshot_unref(s1);
    vm_snapshot_unref(s2);
    vm_snapshot_unref(s3);
    vm_collector_free(c);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    return test_result("test_hiwater");
}
