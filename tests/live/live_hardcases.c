/* live_hardcases.c: the cases a procfs collector gets wrong, on the real system.
 *
 * (a) kernel threads: every process whose status says "Kthread:\t1" is flagged kthread, has
 *     vma_count 0, no VMAs, no rollup, no memory lines and no error entries (and the reverse).
 * (b) zombies: an exited, unreaped child is present with state 'Z', vma_count 0 and no error
 *     entries; so is a thread-group leader that exited while another thread runs on.
 * (c) churn: while a helper forks thousands of short-lived children (and another process
 *     re-executes itself in a loop), 36+ chained scans (4 s at least) must all succeed, never
 *     show an ENOENT/ESRCH error entry, and never lose a process that was alive (same pid and
 *     starttime) before and after the scan. Before the churn, 6 re-exec loopers alone (3 s):
 *     an exec is not an exit.
 * (d) EACCES: a child that dropped to uid/gid 65534 scans on its own: root's processes have
 *     {smaps_rollup, EACCES}, no rollup, a stat error and no layout, but their status memory.
 * (e) identity: id == "pid:starttime" (stat field 22); once the process is reaped, no
 *     snapshot shows that id again.
 * (f) 65,530 VMAs: a process at vm.max_map_count is scanned (maps and smaps), vma_count equals
 *     the lines of its maps and every VMA matches; the wall time is printed.
 * (g) seq and carry-over: scanning with prev increments seq, keeps observed_rss_max from
 *     going down (a child that shrank keeps its peak), carries smaps figures with
 *     smaps_at_ms for processes the per-VMA tier skipped, and snapshots are freed cleanly.
 *
 * Needs root: exits 77 otherwise.
 */
#include <dirent.h>
#include <grp.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "api/render.h"
#include "live_tables.h"
#include "live_util.h"
#include "vmatlas/collector.h"
#include "vmatlas/snapshot.h"

#define PAGE 4096ul

static char tmpdir[256];

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "live_hardcases: timed out\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

static struct vm_collector *new_collector(uint64_t deep_budget_ns) {
    struct vm_collector_options opts = {.deep_budget_ns = deep_budget_ns};
    struct vm_collector *c = NULL;
    int r = vm_collector_new(&opts, &c);
    CHECK_EQ_INT(r, 0);
    return r < 0 ? NULL : c;
}

static bool has_error(const struct vm_process *p, int source, int errnum) {
    for (unsigned i = 0; i < p->nerrors && i < VM_PROC_ERRORS_MAX; i++)
        if (p->errors[i].source == source && (errnum == 0 || p->errors[i].errnum == errnum))
            return true;
    return false;
}

static void print_errors(const char *ctx, const struct vm_process *p) {
    for (unsigned i = 0; i < p->nerrors && i < VM_PROC_ERRORS_MAX; i++)
        fprintf(stderr, "%s: error entry {%s, %s}\n", ctx, vm_source_name(p->errors[i].source),
                strerror(p->errors[i].errnum));
}

/* 1 / 0 for "Kthread:" in status, -1 when status cannot be read (gone) or has no such line. */
static int status_kthread(pid_t pid) {
    char *b = live_slurp_pid(pid, "status", NULL);
    if (!b)
        return -1;
    struct live_kvs k;
    live_kvs_parse(b, &k);
    free(b);
    const struct live_kv *e = live_kvs_get(&k, "Kthread");
    return e ? (int)e->value : -1;
}

static void idle_child(int wfd, void *arg) {
    (void)arg;
    live_write_all(wfd, "r", 1);
}

static json_t *summary_json(const struct vm_snapshot *s, const struct vm_process *p) {
    json_t *o = render_process_summary(s, p, NULL);
    if (!o)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return NULL;
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    free(text);
    return j;
}

/* ------------------------------------------------------------------------------------------ */
/* (a) kernel threads                                                                          */

static void test_kthreads(void) {
    printf("live_hardcases: (a) kernel threads\n");
    struct vm_collector *c = new_collector(UINT64_MAX);
    if (!c)
        return;
    struct vm_snapshot *s = NULL;
    CHECK_EQ_INT(vm_collector_scan(c, NULL, &s), 0);
    if (!s) {
        vm_collector_free(c);
        return;
    }
    const struct vm_process *procs = vm_snapshot_procs(s);
    unsigned kthreads = 0, flagged = 0, checked = 0;
    for (uint32_t i = 0; i < s->nprocs; i++) {
        const struct vm_process *p = &procs[i];
        int kt = status_kthread(p->pid);
        if (p->flags & VM_PROC_KTHREAD)
            flagged++;
        if (kt < 0)
            continue; /* gone since the scan */
        checked++;
        char ctx[64];
        snprintf(ctx, sizeof(ctx), "kthread check pid %d", p->pid);
        if (kt == 1) {
            kthreads++;
            int before = test_failures;
            CHECK(p->flags & VM_PROC_KTHREAD);
            CHECK_EQ_U64(p->vma_count, 0);
            CHECK_EQ_U64(p->vma_n, 0);
            CHECK(!(p->flags & VM_PROC_ROLLUP));
            CHECK_EQ_U64(p->memory_present, 0);
            CHECK_EQ_U64(p->nerrors, 0);
            CHECK_EQ_U64(p->smaps_at_ms, 0);
            json_t *j = summary_json(s, p);
            CHECK(j != NULL);
            CHECK(json_is_true(json_object_get(j, "kthread")));
            CHECK(json_integer_value(json_object_get(j, "vma_count")) == 0 &&
                  json_is_integer(json_object_get(j, "vma_count")));
            CHECK(json_is_null(json_object_get(j, "rollup")));
            CHECK(json_is_null(json_object_get(json_object_get(j, "memory"), "vm_rss")));
            CHECK(json_array_size(json_object_get(j, "errors")) == 0);
            json_decref(j);
            if (test_failures != before) {
                fprintf(stderr, "%s: ^ (comm %s)\n", ctx, vm_snapshot_str(s, p->comm));
                print_errors(ctx, p);
            }
        } else if (p->flags & VM_PROC_KTHREAD) {
            fprintf(stderr, "%s: flagged kthread, status says Kthread: %d\n", ctx, kt);
            test_failures++;
        }
    }
    printf("live_hardcases: %u processes checked, %u kernel threads per status, %u flagged, "
           "nkthreads %u\n",
           checked, kthreads, flagged, s->nkthreads);
    CHECK(kthreads > 0);
    CHECK_EQ_U64(s->nkthreads, flagged);
    vm_snapshot_unref(s);
    vm_collector_free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* (b) zombies                                                                                 */

static bool wait_state(pid_t pid, char state, int timeout_ms) {
    uint64_t deadline = live_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (live_now_ns() < deadline) {
        struct live_stat st;
        if (live_stat_read(pid, &st) && st.state == state)
            return true;
        usleep(2000);
    }
    return false;
}

static void *sleeper_thread(void *arg) {
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void check_no_mm_process(const struct vm_snapshot *s, pid_t pid, const char *what) {
    const struct vm_process *p = vm_snapshot_find(s, pid);
    if (!p) {
        fprintf(stderr, "%s (pid %d) missing from the snapshot\n", what, pid);
        test_failures++;
        return;
    }
    char *maps = live_slurp_pid(pid, "maps", NULL);
    size_t lines = live_count_lines(maps);
    free(maps);
    int before = test_failures;
    CHECK_EQ_INT(p->state, 'Z');
    CHECK_EQ_U64(p->nerrors, 0);
    CHECK(p->flags & VM_PROC_MAPS);
    CHECK_EQ_U64(p->vma_count, 0);
    CHECK_EQ_U64(p->vma_count, lines);
    CHECK_EQ_U64(p->vma_n, 0);
    CHECK(!(p->flags & VM_PROC_KTHREAD));
    CHECK(!(p->flags & VM_PROC_ROLLUP));
    CHECK_EQ_U64(p->memory_present, 0); /* status has no Vm lines without an mm */
    json_t *j = summary_json(s, p);
    CHECK_STREQ(json_string_value(json_object_get(j, "state")), "Z");
    CHECK(json_is_false(json_object_get(j, "kthread")));
    CHECK(json_array_size(json_object_get(j, "errors")) == 0);
    CHECK(json_is_integer(json_object_get(j, "vma_count")) &&
          json_integer_value(json_object_get(j, "vma_count")) == 0);
    json_decref(j);
    if (test_failures != before)
        print_errors(what, p);
}

static void test_zombies(void) {
    printf("live_hardcases: (b) zombies\n");
    fflush(NULL);
    pid_t z = fork();
    if (z == 0)
        _exit(7);
    CHECK(z > 0);
    /* a leader that exits while its other thread runs on: the leader is 'Z' */
    int ready[2];
    CHECK(pipe2(ready, O_CLOEXEC) == 0);
    pid_t zl = fork();
    if (zl == 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        pthread_t th;
        if (pthread_create(&th, NULL, sleeper_thread, NULL) != 0)
            _exit(1);
        live_write_all(ready[1], "r", 1);
        pthread_exit(NULL);
    }
    close(ready[1]);
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    close(ready[0]);
    bool zok = wait_state(z, 'Z', 5000), zlok = wait_state(zl, 'Z', 5000);
    CHECK(zok);
    CHECK(zlok);
    if (zok && zlok) {
        struct vm_collector *col = new_collector(UINT64_MAX);
        struct vm_snapshot *s = NULL;
        if (col)
            CHECK_EQ_INT(vm_collector_scan(col, NULL, &s), 0);
        if (s) {
            check_no_mm_process(s, z, "zombie");
            /* the kernel shows no mm for a zombie leader either: maps is empty, status has no
             * Vm lines, although the thread still runs in that address space */
            check_no_mm_process(s, zl, "zombie leader with a live thread");
            const struct vm_process *p = vm_snapshot_find(s, zl);
            if (p)
                CHECK_EQ_U64(p->threads, 2);
        }
        vm_snapshot_unref(s);
        vm_collector_free(col);
    }
    int st;
    CHECK(waitpid(z, &st, 0) == z && WIFEXITED(st) && WEXITSTATUS(st) == 7);
    live_kill(zl);
}

/* ------------------------------------------------------------------------------------------ */
/* (c) churn                                                                                   */

struct proc_id {
    int pid;
    unsigned long long starttime;
    char comm[64];
};

static int cmp_proc_id(const void *a, const void *b) {
    const struct proc_id *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process now: pid, starttime, comm. Sorted by pid. */
static size_t list_procs(struct proc_id **ret) {
    DIR *d = opendir("/proc");
    size_t n = 0, cap = 1024;
    struct proc_id *v = malloc(cap * sizeof(*v));
    struct dirent *e;
    while (d && v && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        struct live_stat st;
        if (!live_stat_read(pid, &st))
            continue;
        if (n == cap) {
            struct proc_id *nv = realloc(v, cap * 2 * sizeof(*v));
            if (!nv)
                break;
            v = nv, cap *= 2;
        }
        v[n].pid = pid;
        v[n].starttime = st.f[22];
        snprintf(v[n].comm, sizeof(v[n].comm), "%.*s", (int)st.comm_len, st.comm);
        n++;
    }
    if (d)
        closedir(d);
    qsort(v, n, sizeof(*v), cmp_proc_id);
    *ret = v;
    return n;
}

static const struct proc_id *find_proc_id(const struct proc_id *v, size_t n, int pid) {
    struct proc_id key = {.pid = pid};
    return bsearch(&key, v, n, sizeof(key), cmp_proc_id);
}

/* Forks since boot (/proc/stat "processes"). */
static uint64_t forks_since_boot(void) {
    char *b = live_slurp("/proc/stat", NULL);
    const char *l = b ? strstr(b, "\nprocesses ") : NULL;
    uint64_t v = l ? strtoull(l + 11, NULL, 10) : 0;
    free(b);
    return v;
}

/* The churn helper is a shell, not a fork of this (possibly sanitized, hence slow to fork)
 * program: bursts of subshells that exit at once and of sleeps that live a millisecond or two,
 * until it is killed. */
static const char churn_script[] = "while :; do\n"
                                   "  : & : & : & : & : & : & : & : &\n"
                                   "  sleep 0.001 & sleep 0.002 & : & : &\n"
                                   "  wait\n"
                                   "done\n";

struct churn_stats {
    unsigned scans, lost_plain, lost_exec, looper_missing, gone_errors;
    unsigned looper_missing_alone; /* looper missing while its neighbour (pid + 1) is present */
    uint64_t vanished0, vanished1;
};

/* n chained scans (half with the per-VMA tier on every process, half maps only); after each,
 * every process alive before and after it (same pid and starttime) must be in it. */
#define LOOPERS 6

/* Re-exec loopers and their neighbours (paused processes, ideally at looper pid + 1). */
struct loopers {
    pid_t looper[LOOPERS], neighbour[LOOPERS];
};

static int looper_index(const struct loopers *l, pid_t pid) {
    for (int i = 0; i < LOOPERS; i++)
        if (l->looper[i] == pid)
            return i;
    return -1;
}

static void churn_scans(const char *phase, int n, double min_seconds, const struct loopers *lp,
                        struct churn_stats *cs) {
    memset(cs, 0, sizeof(*cs));
    struct vm_collector *c = new_collector(UINT64_MAX);
    struct vm_snapshot *prev = NULL;
    uint64_t until = live_now_ns() + (uint64_t)(min_seconds * 1e9);
    for (int i = 0; c && (i < n || (live_now_ns() < until && i < 2000)); i++) {
        vm_collector_set_deep_budget(c, (i & 1) ? 0 : UINT64_MAX);
        struct proc_id *before = NULL, *after = NULL;
        size_t nb = list_procs(&before);
        struct vm_snapshot *s = NULL;
        int r = vm_collector_scan(c, prev, &s);
        size_t na = list_procs(&after);
        if (r != 0) {
            fprintf(stderr, "%s scan %d returned %d (%s)\n", phase, i, r, strerror(-r));
            test_failures++;
            free(before), free(after);
            continue;
        }
        cs->scans++;
        if (prev) {
            CHECK_EQ_U64(s->seq, prev->seq + 1);
            CHECK(s->vanished_total >= prev->vanished_total);
            CHECK_EQ_U64(s->scans_total, prev->scans_total + 1);
        } else {
            cs->vanished0 = s->vanished_total;
        }
        cs->vanished1 = s->vanished_total;
        CHECK(vm_snapshot_validate(s, s->size) == 0);
        /* no process may carry an error for having vanished: it is left out instead */
        const struct vm_process *procs = vm_snapshot_procs(s);
        for (uint32_t k = 0; k < s->nprocs; k++)
            for (unsigned e = 0; e < procs[k].nerrors && e < VM_PROC_ERRORS_MAX; e++)
                if (procs[k].errors[e].errnum == ENOENT || procs[k].errors[e].errnum == ESRCH) {
                    fprintf(stderr, "%s scan %d: pid %d has error entry {%s, %s}\n", phase, i,
                            procs[k].pid, vm_source_name(procs[k].errors[e].source),
                            strerror(procs[k].errors[e].errnum));
                    cs->gone_errors++;
                }
        /* a process alive before and after the scan (same pid, same starttime) was alive
         * during all of it: it must be in the snapshot */
        for (size_t k = 0; k < nb; k++) {
            const struct proc_id *a = find_proc_id(after, na, before[k].pid);
            if (!a || a->starttime != before[k].starttime)
                continue;
            const struct vm_process *p = vm_snapshot_find(s, before[k].pid);
            if (p && p->starttime == before[k].starttime)
                continue;
            bool exec = strcmp(a->comm, before[k].comm) != 0;
            int li = looper_index(lp, before[k].pid);
            if (li >= 0) {
                cs->looper_missing++;
                /* the next pid is our own paused process: if it is in the snapshot, no pid
                 * that vanished after the looper can have pushed it out */
                if (lp->neighbour[li] == lp->looper[li] + 1 &&
                    vm_snapshot_find(s, lp->neighbour[li]))
                    cs->looper_missing_alone++;
            } else if (exec)
                cs->lost_exec++;
            else
                cs->lost_plain++;
            if (cs->lost_plain + cs->lost_exec + cs->looper_missing <= 8)
                fprintf(stderr,
                        "%s scan %d: pid %d (%s%s%s, starttime %llu) alive before and after "
                        "the scan but %s the snapshot\n",
                        phase, i, before[k].pid, before[k].comm, exec ? " -> " : "",
                        exec ? a->comm : "", before[k].starttime,
                        p ? "with another starttime in" : "missing from");
        }
        free(before), free(after);
        vm_snapshot_unref(prev);
        prev = s;
    }
    vm_snapshot_unref(prev);
    vm_collector_free(c);
}

static void test_churn(void) {
    printf("live_hardcases: (c) churn\n");
    /* a process that re-executes itself all the time: same pid and starttime throughout */
    char script[512];
    snprintf(script, sizeof(script), "%s/reexec.sh", tmpdir);
    FILE *f = fopen(script, "w");
    CHECK(f != NULL);
    struct loopers lp;
    for (int i = 0; i < LOOPERS; i++)
        lp.looper[i] = lp.neighbour[i] = -1;
    if (f) {
        fprintf(f, "exec /bin/sh \"$0\"\n");
        fclose(f);
        for (int i = 0; i < LOOPERS; i++) {
            fflush(NULL);
            lp.looper[i] = fork();
            if (lp.looper[i] == 0) {
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                execl("/bin/sh", "sh", script, (char *)NULL);
                _exit(127);
            }
            char r;
            lp.neighbour[i] = live_spawn(idle_child, NULL, &r, 1);
        }
    }
    usleep(20000);

    /* 1: the loopers alone (no churn of ours): an exec'ing process is not a vanished one */
    struct churn_stats quiet;
    uint64_t t0 = live_now_ns();
    churn_scans("exec", 40, 3.0, &lp, &quiet);
    printf("live_hardcases: %u scans without churn in %.1f s: %d re-exec loopers (pid %d...) "
           "missing %u times (%u of them while the looper's neighbour was there); other live "
           "processes lost: %u\n",
           quiet.scans, (double)(live_now_ns() - t0) / 1e9, LOOPERS, (int)lp.looper[0],
           quiet.looper_missing, quiet.looper_missing_alone, quiet.lost_plain + quiet.lost_exec);

    /* 2: churn */
    char churn_path[512];
    snprintf(churn_path, sizeof(churn_path), "%s/churn.sh", tmpdir);
    f = fopen(churn_path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(churn_script, f);
    fclose(f);
    uint64_t forks0 = forks_since_boot();
    fflush(NULL);
    pid_t helper = fork();
    if (helper == 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl("/bin/sh", "sh", churn_path, (char *)NULL);
        _exit(127);
    }
    CHECK(helper > 0);
    usleep(20000);
    struct churn_stats cs;
    t0 = live_now_ns();
    churn_scans("churn", 36, 4.0, &lp, &cs);
    double secs = (double)(live_now_ns() - t0) / 1e9;
    uint64_t forks = forks_since_boot() - forks0;
    live_kill(helper);
    for (int i = 0; i < LOOPERS; i++) {
        live_kill(lp.looper[i]);
        live_kill(lp.neighbour[i]);
    }
    printf("live_hardcases: %u scans in %.1f s while %" PRIu64
           " processes were forked (system-wide); vanished_total %" PRIu64 " -> %" PRIu64 "\n",
           cs.scans, secs, forks, cs.vanished0, cs.vanished1);
    printf("live_hardcases: processes alive throughout a scan but not in it: %u without exec, %u "
           "that exec'd during the scan, re-exec loopers missing %u times in %u scans (%u while "
           "the neighbour was there)\n",
           cs.lost_plain, cs.lost_exec, cs.looper_missing, cs.scans, cs.looper_missing_alone);
    CHECK(cs.scans >= 30);
    CHECK(forks >= 1000);
    CHECK(cs.vanished1 >= cs.vanished0);
    CHECK_EQ_U64(quiet.gone_errors + cs.gone_errors, 0);
    /* a live process is never left out: not when pids around it vanish ... */
    CHECK_EQ_U64(quiet.lost_plain + cs.lost_plain, 0);
    CHECK_EQ_U64(quiet.lost_exec + cs.lost_exec, 0);
    /* ... and not while it exec's (kernel-interfaces.md 11.3: re-check the identity and
     * reopen; exec'ing is not exiting). Counted only when its neighbour was in the snapshot,
     * i.e. when no vanished pid after it can explain the loss; the other losses of the
     * looper are counted with the plain ones. */
    CHECK_EQ_U64(quiet.looper_missing_alone, 0);
    CHECK_EQ_U64(cs.looper_missing_alone, 0);
    CHECK_EQ_U64(quiet.looper_missing + cs.looper_missing, 0);
    unlink(script);
    unlink(churn_path);
}

/* ------------------------------------------------------------------------------------------ */
/* (d) EACCES as uid 65534                                                                     */

static int eacces_child(pid_t root_pid) {
    int failures0 = test_failures;
    /* status of the root process, read as root before dropping, for the memory check */
    if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
        setresuid(65534, 65534, 65534) < 0) {
        perror("dropping privileges");
        return 2;
    }
    if (geteuid() != 65534 || getegid() != 65534) {
        fprintf(stderr, "still privileged\n");
        return 2;
    }
    /* changing credentials made us non-dumpable (our /proc files became root's): undo it so
     * that we can read ourselves, as any process of the same user can */
    (void)prctl(PR_SET_DUMPABLE, 1);
    struct vm_collector *c = new_collector(UINT64_MAX);
    if (!c)
        return 1;
    struct vm_snapshot *s = NULL;
    int r = vm_collector_scan(c, NULL, &s);
    CHECK_EQ_INT(r, 0);
    if (r < 0)
        return 1;
    const struct vm_process *p = vm_snapshot_find(s, root_pid);
    CHECK(p != NULL);
    if (p) {
        int before = test_failures;
        CHECK(has_error(p, VM_SOURCE_SMAPS_ROLLUP, EACCES));
        CHECK(!(p->flags & VM_PROC_ROLLUP));
        CHECK(has_error(p, VM_SOURCE_STAT, EACCES));
        CHECK(has_error(p, VM_SOURCE_MAPS, EACCES) || has_error(p, VM_SOURCE_SMAPS, EACCES));
        CHECK(!(p->flags & VM_PROC_MAPS));
        static const int layout_fields[] = {
            VM_LAYOUT_START_CODE, VM_LAYOUT_END_CODE,  VM_LAYOUT_START_DATA,  VM_LAYOUT_END_DATA,
            VM_LAYOUT_START_BRK,  VM_LAYOUT_BRK,       VM_LAYOUT_START_STACK, VM_LAYOUT_ARG_START,
            VM_LAYOUT_ARG_END,    VM_LAYOUT_ENV_START, VM_LAYOUT_ENV_END,
        };
        for (size_t i = 0; i < LIVE_N(layout_fields); i++)
            if (p->layout_present & (1u << layout_fields[i])) {
                fprintf(stderr, "EACCES: layout field %d present (0x%" PRIx64 ")\n",
                        layout_fields[i], p->layout[layout_fields[i]]);
                test_failures++;
            }
        /* status is world-readable: the memory figures are still there */
        char *b = live_slurp_pid(root_pid, "status", NULL);
        struct live_kvs k;
        live_kvs_parse(b ? b : "", &k);
        free(b);
        for (size_t f = 0; f < LIVE_N(live_memory); f++) {
            const struct live_kv *e = live_kvs_get(&k, live_memory[f].key);
            bool has = p->memory_present & (1u << live_memory[f].index);
            if (!e || !has) {
                fprintf(stderr, "EACCES: memory.%s %s, status %s\n", live_memory[f].json,
                        has ? "present" : "absent", e ? "has it" : "has not");
                test_failures++;
            }
        }
        const struct live_kv *rss = live_kvs_get(&k, "VmRSS");
        if (rss && rss->value * 1024 != p->memory[VM_MEM_VM_RSS])
            fprintf(stderr,
                    "EACCES: note: VmRSS moved between scan and read (%" PRIu64 " vs %" PRIu64
                    ")\n",
                    p->memory[VM_MEM_VM_RSS], rss->value * 1024);
        json_t *j = summary_json(s, p);
        CHECK(j != NULL);
        CHECK(json_is_null(json_object_get(j, "rollup")));
        CHECK(json_is_null(json_object_get(j, "vma_count")));
        CHECK(json_is_integer(json_object_get(json_object_get(j, "memory"), "vm_rss")));
        bool found = false;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(j, "errors"), i, e) {
            if (json_is_string(json_object_get(e, "source")) &&
                strcmp(json_string_value(json_object_get(e, "source")), "smaps_rollup") == 0 &&
                json_is_string(json_object_get(e, "errno")) &&
                strcmp(json_string_value(json_object_get(e, "errno")), "EACCES") == 0)
                found = true;
        }
        CHECK(found);
        /* the detail's layout: addresses null */
        json_t *d = render_process_detail(s, p, NULL);
        json_t *lay = json_object_get(d, "layout");
        CHECK(json_is_null(json_object_get(lay, "start_code")));
        CHECK(json_is_null(json_object_get(lay, "env_end")));
        CHECK(json_is_null(json_object_get(lay, "brk")));
        json_decref(d);
        json_decref(j);
        if (test_failures != before)
            print_errors("EACCES root process", p);
        printf("live_hardcases: as uid 65534, root's pid %d has %u error entries:", (int)root_pid,
               p->nerrors);
        for (unsigned e2 = 0; e2 < p->nerrors && e2 < VM_PROC_ERRORS_MAX; e2++)
            printf(" {%s, %s}", vm_source_name(p->errors[e2].source),
                   p->errors[e2].errnum == EACCES ? "EACCES" : strerror(p->errors[e2].errnum));
        printf("; %d memory fields, rollup %s, layout mask 0x%x\n",
               __builtin_popcount(p->memory_present),
               (p->flags & VM_PROC_ROLLUP) ? "present" : "absent", p->layout_present);
    }
    /* ourselves: same uid, dumpable again: everything readable, no errors */
    const struct vm_process *me = vm_snapshot_find(s, getpid());
    CHECK(me != NULL);
    if (me) {
        CHECK_EQ_U64(me->nerrors, 0);
        CHECK(me->flags & VM_PROC_ROLLUP);
        CHECK(me->flags & VM_PROC_MAPS);
        CHECK(me->layout_present & (1u << VM_LAYOUT_START_CODE));
        if (me->nerrors)
            print_errors("EACCES self", me);
    }
    vm_snapshot_unref(s);
    vm_collector_free(c);
    return test_failures == failures0 ? 0 : 1;
}

static void test_eacces(void) {
    printf("live_hardcases: (d) reading root's processes as uid 65534\n");
    fflush(NULL);
    pid_t k = fork();
    if (k == 0) {
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(eacces_child(getppid()));
    }
    CHECK(k > 0);
    int st = live_wait_timeout(k, 30000);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "EACCES child failed (wait status %d)\n", st);
        test_failures++;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* (e) identity                                                                                */

static void test_identity(void) {
    printf("live_hardcases: (e) pid identity\n");
    char r;
    pid_t k = live_spawn(idle_child, NULL, &r, 1);
    CHECK(k > 0);
    if (k <= 0)
        return;
    struct live_stat st;
    CHECK(live_stat_read(k, &st));
    char want[64];
    snprintf(want, sizeof(want), "%d:%llu", (int)k, st.f[22]);
    struct vm_collector *c = new_collector(0);
    struct vm_snapshot *s1 = NULL, *s2 = NULL;
    if (c)
        CHECK_EQ_INT(vm_collector_scan(c, NULL, &s1), 0);
    const struct vm_process *p = s1 ? vm_snapshot_find(s1, k) : NULL;
    CHECK(p != NULL);
    if (p) {
        char id[48];
        CHECK_STREQ(vm_process_id(p, id, sizeof(id)), want);
        CHECK_EQ_U64(p->starttime, st.f[22]);
        json_t *j = summary_json(s1, p);
        CHECK_STREQ(json_string_value(json_object_get(j, "id")), want);
        json_decref(j);
    }
    live_kill(k);
    if (c && s1)
        CHECK_EQ_INT(vm_collector_scan(c, s1, &s2), 0);
    if (s2) {
        const struct vm_process *q = vm_snapshot_find(s2, k);
        if (q) {
            char id[48];
            /* the pid was reused already: it must be another process */
            CHECK(strcmp(vm_process_id(q, id, sizeof(id)), want) != 0);
            CHECK(q->starttime != st.f[22]);
            printf("live_hardcases: pid %d was reused by %s\n", (int)k, id);
        }
        /* and no process anywhere carries the old id */
        const struct vm_process *procs = vm_snapshot_procs(s2);
        for (uint32_t i = 0; i < s2->nprocs; i++) {
            char id[48];
            if (strcmp(vm_process_id(&procs[i], id, sizeof(id)), want) == 0) {
                fprintf(stderr, "identity: %s still in the snapshot after it was reaped\n", want);
                test_failures++;
            }
        }
    }
    vm_snapshot_unref(s2);
    vm_snapshot_unref(s1);
    vm_collector_free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* (f) 65,530 VMAs                                                                             */

struct many_report {
    int ok;
    int err;
    unsigned long ops;
    uint64_t base;
};

static void many_vmas_child(int wfd, void *arg) {
    (void)arg;
    struct many_report rep = {0};
    long max = 65530;
    char *b = live_slurp("/proc/sys/vm/max_map_count", NULL);
    if (b)
        max = strtol(b, NULL, 10);
    free(b);
    size_t pages = (size_t)max * 2 + 64;
    char *base =
        mmap(NULL, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        rep.err = errno;
        live_write_all(wfd, &rep, sizeof(rep));
        return;
    }
    rep.base = (uintptr_t)base;
    /* every other page readable: each mprotect adds two VMAs, until the map count is full */
    for (size_t i = 1; i + 1 < pages; i += 2) {
        if (mprotect(base + i * PAGE, PAGE, PROT_READ) < 0) {
            rep.err = errno;
            break;
        }
        rep.ops++;
    }
    rep.ok = rep.err == ENOMEM;
    live_write_all(wfd, &rep, sizeof(rep));
}

static void test_many_vmas(void) {
    printf("live_hardcases: (f) a process at vm.max_map_count\n");
    struct many_report rep;
    pid_t k = live_spawn(many_vmas_child, NULL, &rep, sizeof(rep));
    CHECK(k > 0);
    if (k <= 0)
        return;
    CHECK(rep.ok);
    long max = 0;
    char *b = live_slurp("/proc/sys/vm/max_map_count", NULL);
    if (b)
        max = strtol(b, NULL, 10);
    free(b);
    struct live_maps m;
    CHECK(live_maps_read(k, "maps", &m));
    printf("live_hardcases: child %d: %lu mprotects, stopped with %s; maps has %zu lines "
           "(max_map_count %ld)\n",
           (int)k, rep.ops, strerror(rep.err), m.n, max);
    /* the map count is full: at most [vsyscall] on top */
    CHECK(m.n + 1 >= (size_t)max);
    struct vm_collector *c = new_collector(0);
    for (int deep = 0; c && deep < 2; deep++) {
        vm_collector_set_deep_budget(c, deep ? UINT64_MAX : 0);
        struct vm_snapshot *s = NULL;
        uint64_t t0 = live_now_ns();
        int r = vm_collector_scan(c, NULL, &s);
        uint64_t t1 = live_now_ns();
        CHECK_EQ_INT(r, 0);
        if (r < 0)
            continue;
        const struct vm_process *p = vm_snapshot_find(s, k);
        CHECK(p != NULL);
        if (p) {
            printf("live_hardcases: %s scan of %u processes took %.0f ms (duration_ns %.0f ms, "
                   "cpu %.0f ms); the child has vma_count %u\n",
                   deep ? "deep (smaps)" : "maps-only", s->nprocs, (double)(t1 - t0) / 1e6,
                   (double)s->duration_ns / 1e6, (double)s->cpu_ns / 1e6, p->vma_count);
            CHECK_EQ_U64(p->vma_count, m.n);
            CHECK_EQ_U64(p->vma_n, m.n);
            CHECK(!(p->flags & VM_PROC_VMAS_CUT));
            CHECK(p->flags & VM_PROC_MAPS);
            CHECK_EQ_U64(p->nerrors, 0);
            if (deep)
                CHECK(p->smaps_at_ms != 0);
            const struct vm_vma *v = vm_snapshot_vmas(s, p);
            size_t bad = 0, n = p->vma_n < m.n ? p->vma_n : m.n;
            for (size_t i = 0; i < n; i++) {
                char perms[5] = {v[i].perms & VM_PERM_READ ? 'r' : '-',
                                 v[i].perms & VM_PERM_WRITE ? 'w' : '-',
                                 v[i].perms & VM_PERM_EXEC ? 'x' : '-',
                                 v[i].perms & VM_PERM_SHARED ? 's' : 'p', 0};
                if (v[i].start != m.v[i].start || v[i].end != m.v[i].end ||
                    strcmp(perms, m.v[i].perms) != 0 || (deep && !(v[i].flags & VM_VMA_SMAPS))) {
                    if (bad++ < 5)
                        fprintf(stderr,
                                "many VMAs: VMA %zu %" PRIx64 "-%" PRIx64 " %s, kernel %" PRIx64
                                "-%" PRIx64 " %s\n",
                                i, v[i].start, v[i].end, perms, m.v[i].start, m.v[i].end,
                                m.v[i].perms);
                }
            }
            CHECK_EQ_U64(bad, 0);
            /* gaps: none inside the big region; recompute from maps */
            uint64_t gaps = 0, prev_end = 0;
            bool any = false;
            for (size_t i = 0; i < m.n; i++) {
                if (live_name_is(&m.v[i], "[vsyscall]"))
                    continue;
                if (any && m.v[i].start > prev_end)
                    gaps++;
                any = true;
                prev_end = m.v[i].end;
            }
            CHECK_EQ_U64(p->gap_count, gaps);
        }
        vm_snapshot_unref(s);
    }
    live_maps_free(&m);
    vm_collector_free(c);
    live_kill(k);
}

/* ------------------------------------------------------------------------------------------ */
/* (g) seq, observed peaks, carry-over                                                         */

#define BIG_BYTES (64ul << 20)

struct shrink_ctl {
    int cmd[2], ack[2];
};

static void shrink_child(int wfd, void *arg) {
    struct shrink_ctl *ctl = arg;
    char *big = mmap(NULL, BIG_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED)
        _exit(1);
    for (size_t o = 0; o < BIG_BYTES; o += PAGE)
        big[o] = 1;
    live_write_all(wfd, "r", 1);
    char c;
    if (read(ctl->cmd[0], &c, 1) != 1)
        _exit(1);
    munmap(big, BIG_BYTES);
    live_write_all(ctl->ack[1], "a", 1);
}

static void test_carry_over(void) {
    printf("live_hardcases: (g) seq, observed peaks and carry-over\n");
    struct shrink_ctl ctl;
    CHECK(pipe2(ctl.cmd, O_CLOEXEC) == 0 && pipe2(ctl.ack, O_CLOEXEC) == 0);
    char r;
    pid_t k = live_spawn(shrink_child, &ctl, &r, 1);
    CHECK(k > 0);
    if (k <= 0)
        return;
    struct vm_collector *c = new_collector(UINT64_MAX);
    struct vm_snapshot *s1 = NULL, *s2 = NULL;
    if (c)
        CHECK_EQ_INT(vm_collector_scan(c, NULL, &s1), 0);
    const struct vm_process *p1 = s1 ? vm_snapshot_find(s1, k) : NULL;
    CHECK(p1 != NULL);
    /* the child shrinks by 64 MiB */
    CHECK(write(ctl.cmd[1], "s", 1) == 1);
    char a;
    CHECK(read(ctl.ack[0], &a, 1) == 1);
    /* the per-VMA tier may now visit a single process (the first always goes) */
    if (c)
        vm_collector_set_deep_budget(c, 1);
    if (c && s1)
        CHECK_EQ_INT(vm_collector_scan(c, s1, &s2), 0);
    if (s1 && s2) {
        CHECK_EQ_U64(s1->seq, 1);
        CHECK_EQ_U64(s2->seq, s1->seq + 1);
        CHECK_EQ_U64(s2->scans_total, s1->scans_total + 1);
        CHECK(s2->vanished_total >= s1->vanished_total);
        CHECK(s2->truncations_total >= s1->truncations_total);
        for (int i = 0; i < _VM_SOURCE_MAX; i++)
            CHECK(s2->errors_total[i] >= s1->errors_total[i]);
        CHECK(s2->collected_at_ms >= s1->collected_at_ms);
        printf("live_hardcases: second scan visited %u process(es) with smaps\n", s2->ndeep);
        CHECK(s2->ndeep <= 2);

        const struct vm_process *p2 = vm_snapshot_find(s2, k);
        CHECK(p2 != NULL);
        if (p1 && p2) {
            CHECK(p1->observed_rss_max >= BIG_BYTES);
            CHECK(p2->memory[VM_MEM_VM_RSS] + BIG_BYTES / 2 < p1->memory[VM_MEM_VM_RSS]);
            CHECK_EQ_U64(p2->observed_rss_max, p1->observed_rss_max);
            CHECK_EQ_U64(p2->observed_rss_max_at_ms, p1->observed_rss_max_at_ms);
            json_t *j = summary_json(s2, p2);
            json_t *hw = json_object_get(j, "hiwater");
            CHECK(json_integer_value(json_object_get(hw, "observed_rss_max")) ==
                  (json_int_t)p1->observed_rss_max);
            json_decref(j);
        }
        /* every process in both: the observed peak never goes down, and is at least the RSS */
        const struct vm_process *procs = vm_snapshot_procs(s2);
        unsigned carried = 0, carried_vmas = 0;
        for (uint32_t i = 0; i < s2->nprocs; i++) {
            const struct vm_process *q2 = &procs[i];
            const struct vm_process *q1 = vm_snapshot_find(s1, q2->pid);
            if (vm_process_has_memory(q2, VM_MEM_VM_RSS))
                CHECK(q2->observed_rss_max >= q2->memory[VM_MEM_VM_RSS]);
            if (!q1 || q1->starttime != q2->starttime)
                continue;
            CHECK(q2->observed_rss_max >= q1->observed_rss_max);
            if (q2->flags & VM_PROC_KTHREAD || !(q2->flags & VM_PROC_MAPS) || !q2->vma_n ||
                !q1->smaps_at_ms)
                continue;
            bool visited = false;
            for (uint32_t d = 0; d < s2->ndeep; d++)
                visited |= vm_snapshot_deep_pids(s2)[d] == q2->pid;
            if (visited) {
                CHECK_EQ_U64(q2->smaps_at_ms, s2->collected_at_ms);
                continue;
            }
            /* not visited: smaps_at_ms and the figures of unchanged VMAs come from s1 */
            carried++;
            if (q2->smaps_at_ms != q1->smaps_at_ms) {
                fprintf(stderr,
                        "carry-over pid %d: smaps_at_ms %" PRIu64 ", previous %" PRIu64 "\n",
                        q2->pid, q2->smaps_at_ms, q1->smaps_at_ms);
                test_failures++;
            }
            const struct vm_vma *v1 = vm_snapshot_vmas(s1, q1), *v2 = vm_snapshot_vmas(s2, q2);
            for (uint32_t a2 = 0, a1 = 0; a2 < q2->vma_n; a2++) {
                while (a1 < q1->vma_n && v1[a1].start < v2[a2].start)
                    a1++;
                bool same = a1 < q1->vma_n && v1[a1].start == v2[a2].start &&
                            v1[a1].end == v2[a2].end && v1[a1].offset == v2[a2].offset &&
                            v1[a1].inode == v2[a2].inode && v1[a1].dev == v2[a2].dev &&
                            v1[a1].perms == v2[a2].perms;
                if (!same) {
                    /* a new or changed VMA has no figures yet */
                    CHECK(!(v2[a2].flags & VM_VMA_SMAPS));
                    continue;
                }
                carried_vmas++;
                int before = test_failures;
                CHECK(v2[a2].flags & VM_VMA_SMAPS);
                CHECK(memcmp(v2[a2].kb, v1[a1].kb, sizeof(v1[a1].kb)) == 0);
                CHECK_EQ_U64(v2[a2].kb_present, v1[a1].kb_present);
                CHECK_EQ_U64(v2[a2].kernel_page_shift, v1[a1].kernel_page_shift);
                CHECK_EQ_U64(v2[a2].flags & VM_VMA_THP_ELIGIBLE,
                             v1[a1].flags & VM_VMA_THP_ELIGIBLE);
                CHECK_EQ_U64(v2[a2].kind, v1[a1].kind);
                const char *f1 = vm_snapshot_str(s1, v1[a1].vmflags);
                const char *f2 = vm_snapshot_str(s2, v2[a2].vmflags);
                CHECK((!f1 && !f2) || (f1 && f2 && strcmp(f1, f2) == 0));
                if (test_failures != before)
                    fprintf(stderr, "carry-over pid %d VMA %" PRIx64 "-%" PRIx64 "\n", q2->pid,
                            v2[a2].start, v2[a2].end);
            }
        }
        printf("live_hardcases: %u processes carried over, %u VMAs with carried figures\n", carried,
               carried_vmas);
        CHECK(carried > 0);
        /* the shrunk child: its 64 MiB VMA is gone, so it has nothing to carry for it */
    }
    /* references: an extra ref keeps the block alive after the owner's unref */
    if (s2) {
        struct vm_snapshot *extra = vm_snapshot_ref(s2);
        CHECK(extra == s2);
        CHECK(vm_snapshot_unref(s2) == NULL);
        CHECK_EQ_U64(extra->seq, 2); /* still readable (ASan would flag a use after free) */
        CHECK(vm_snapshot_unref(extra) == NULL);
    }
    CHECK(vm_snapshot_unref(NULL) == NULL);
    vm_snapshot_unref(s1);
    vm_collector_free(c);
    live_kill(k);
    close(ctl.cmd[0]), close(ctl.cmd[1]), close(ctl.ack[0]), close(ctl.ack[1]);
}

/* The daemon's configuration: a finite per-VMA budget, first scan without a previous
 * snapshot, then one with it. Run in a child: under UBSan a runtime error ends the process. */
static void test_finite_budget(void) {
    printf("live_hardcases: (g2) first scans with a finite per-VMA budget (5 ms)\n");
    fflush(NULL);
    pid_t k = fork();
    if (k == 0) {
        struct vm_collector *c = new_collector(5000000);
        struct vm_snapshot *s1 = NULL, *s2 = NULL;
        int r1 = c ? vm_collector_scan(c, NULL, &s1) : -1;
        int r2 = s1 ? vm_collector_scan(c, s1, &s2) : -1;
        bool ok = r1 == 0 && r2 == 0 && s1->ndeep > 0 && s2->seq == 2;
        vm_snapshot_unref(s2);
        vm_snapshot_unref(s1);
        vm_collector_free(c);
        _exit(ok ? 0 : 1);
    }
    int st = live_wait_timeout(k, 60000);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "finite budget: the scanning child failed (%s %d)\n",
                st >= 0 && WIFSIGNALED(st) ? "signal" : "wait status",
                st >= 0 && WIFSIGNALED(st) ? WTERMSIG(st) : st);
        test_failures++;
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (geteuid() != 0) {
        printf("live_hardcases: SKIP: needs root (reading every process, dropping to uid 65534)\n");
        return TEST_SKIP;
    }
    signal(SIGALRM, on_alarm);
    alarm(280); /* under the sanitizers on a busy 2-core machine the churn scans take ~2 min */
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/vmatlas-live-hard-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    uint64_t t[9];
    t[0] = live_now_ns();
    test_kthreads();
    t[1] = live_now_ns();
    test_zombies();
    t[2] = live_now_ns();
    test_churn();
    t[3] = live_now_ns();
    test_eacces();
    t[4] = live_now_ns();
    test_identity();
    t[5] = live_now_ns();
    test_many_vmas();
    t[6] = live_now_ns();
    test_carry_over();
    t[7] = live_now_ns();
    test_finite_budget();
    t[8] = live_now_ns();
    static const char *const names[] = {"kthreads", "zombies",   "churn",      "eacces",
                                        "identity", "many-vmas", "carry-over", "budget"};
    for (int i = 0; i < 8; i++)
        printf("live_hardcases: %-10s %.2f s\n", names[i], (double)(t[i + 1] - t[i]) / 1e9);
    rmdir(tmpdir);
    return test_result("live_hardcases");
}
