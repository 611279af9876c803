/* scanner.c: the scan thread: scan every interval (fixed rate), refresh one process on
 * request, reload, keep the state file, and hand every snapshot and sd_notify state to a sink
 * (the HTTP server in this process, or the socket to the server process). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/exitwatch.h"
#include "daemon/log.h"
#include "daemon/timespec.h"
#include "daemon/scanner.h"
#include "daemon/statefile.h"
#include "vmatlas/macros.h"

struct scanner {
    struct vm_collector *collector;
    struct scanner_sink sink;
    uint64_t interval_ms;
    uint64_t budget_ns; /* per-VMA tier budget per interval */
    uint64_t watchdog_ms; /* WATCHDOG=1 at least this often (half of WatchdogSec); 0 = none */
    bool reload;        /* new interval/budget_ns to apply on the scan thread */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct vm_snapshot *prev; /* the last published snapshot, for carry-over */
    /* A refresh asked for by an HTTP thread, done by the scan thread (the collector is not
     * thread-safe): one at a time. */
    pthread_cond_t refresh_done;
    int32_t refresh_pid;   /* > 0: asked, not yet done */
    bool refresh_busy;     /* a refresh is asked or running */
    int refresh_result;
    uint64_t refresh_retry_ns;
    /* --state-dir: saved every STATE_SAVE_MS by the scan thread, and at stop. */
    const char *state_dir;
    struct timespec saved_at;
    bool saved_once;
    /* --reset-peaks: the list in force, and what a reload newly listed (for the scan
     * thread, which owns the collector). */
    char *resets[VM_RESET_PEAKS_MAX];
    size_t nresets;
    char *pending[VM_RESET_PEAKS_MAX];
    size_t npending;
    pthread_t thread;
    bool started;
    struct exitwatch *exits; /* taskstats listener, NULL when off */
};

/* Hand the process exits heard since the last scan to the collector. */
static void drain_exits(struct scanner *sc) {
    struct vm_task_exit buf[256];
    size_t n;
    if (!sc->exits)
        return;
    do {
        struct exitwatch_counters ctr;
        n = exitwatch_drain(sc->exits, buf, sizeof(buf) / sizeof(buf[0]));
        exitwatch_counters(sc->exits, &ctr);
        if (vm_collector_taskstats(sc->collector, buf, n, ctr.dropped + ctr.overruns) < 0)
            break;
    } while (n == sizeof(buf) / sizeof(buf[0]));
}

#define STATE_SAVE_MS 60000

/* Hand the reset specs (already validated by the option parser) to the collector: the next
 * scan forgets those peaks. */
static void apply_resets(struct vm_collector *c, char *const *specs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int by;
        const char *key;
        if (reset_spec_parse(specs[i], &by, &key) == 0 &&
            vm_collector_reset_peaks(c, by, key) == 0)
            log_msg(LOG_NOTICE, "reset-peaks %s: the observed peaks start again", specs[i]);
    }
}

static void save_state(struct scanner *sc, const struct vm_snapshot *snap) {
    int r = state_save(sc->state_dir, snap);
    if (r < 0)
        log_msg(LOG_WARNING, "cannot save the state in %s: %s; the previous state is kept",
                sc->state_dir, strerror(-r));
    clock_gettime(CLOCK_MONOTONIC, &sc->saved_at);
    sc->saved_once = true;
}

/* The scan thread: do the refresh that is asked for (sc->lock held; released meanwhile). */
static void do_refresh(struct scanner *sc) {
    int32_t pid = sc->refresh_pid;
    pthread_mutex_unlock(&sc->lock);
    struct vm_snapshot *snap = NULL;
    uint64_t retry_ns = 0;
    drain_exits(sc);
    int r = vm_collector_refresh(sc->collector, sc->prev, pid, &retry_ns, &snap);
    if (snap) {
        sc->sink.publish(sc->sink.userdata, snap);
        vm_snapshot_unref(sc->prev);
        sc->prev = snap;
    }
    pthread_mutex_lock(&sc->lock);
    sc->refresh_result = r;
    sc->refresh_retry_ns = retry_ns;
    sc->refresh_pid = 0;
    pthread_cond_broadcast(&sc->refresh_done);
}

int scanner_refresh(void *userdata, int32_t pid, unsigned *retry_after_s) {
    struct scanner *sc = userdata;
    int r;
    pthread_mutex_lock(&sc->lock);
    if (sc->refresh_busy || sc->stop) {
        pthread_mutex_unlock(&sc->lock);
        *retry_after_s = 1;
        return -EAGAIN; /* one refresh at a time */
    }
    sc->refresh_busy = true;
    sc->refresh_pid = pid;
    pthread_cond_signal(&sc->wake);
    while (sc->refresh_pid != 0 && !sc->stop)
        pthread_cond_wait(&sc->refresh_done, &sc->lock);
    r = sc->stop && sc->refresh_pid != 0 ? -ECANCELED : sc->refresh_result;
    /* Spent: the debt left shrinks by one budget per interval. */
    uint64_t budget_ns = sc->budget_ns ? sc->budget_ns : 1;
    uint64_t intervals = sc->refresh_retry_ns / budget_ns + 1;
    uint64_t secs = (intervals * sc->interval_ms + 999) / 1000;
    *retry_after_s = secs > 3600 ? 3600 : (unsigned)secs;
    sc->refresh_pid = 0;
    sc->refresh_busy = false;
    pthread_mutex_unlock(&sc->lock);
    return r;
}

static void *scan_loop(void *arg) {
    struct scanner *sc = arg;
    bool first = true;
    for (;;) {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        struct vm_snapshot *snap = NULL;
        drain_exits(sc);
        int r = vm_collector_scan(sc->collector, sc->prev, &snap);
        if (r == -ECANCELED)
            return NULL; /* stopping */
        if (r < 0) {
            log_event(LOG_ERR, LOG_ID_SCAN_FAILED, 0,
                      "scan failed: %s; keeping the previous snapshot", strerror(-r));
        } else {
            sc->sink.publish(sc->sink.userdata, snap);
            vm_snapshot_unref(sc->prev);
            sc->prev = snap;
            if (first)
                log_msg(LOG_INFO, "first snapshot: %u processes, %llu VMAs in %llu ms",
                        snap->nprocs, (unsigned long long)snap->nvmas,
                        (unsigned long long)(snap->duration_ns / 1000000));
            /* READY=1 once the first snapshot is served; the watchdog is fed by this loop, so
             * a collector stuck in a read gets the service restarted. */
            char state[256];
            (void)snprintf(state, sizeof(state),
                           "%sSTATUS=Scan %llu: %u processes, %llu VMAs in %llu ms\nWATCHDOG=1",
                           first ? "READY=1\n" : "", (unsigned long long)snap->seq,
                           snap->nprocs, (unsigned long long)snap->nvmas,
                           (unsigned long long)(snap->duration_ns / 1000000));
            sc->sink.notify(sc->sink.userdata, state);
            first = false;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            struct timespec due = deadline_after(&sc->saved_at, STATE_SAVE_MS);
            if (sc->state_dir && (!sc->saved_once || !before(&now, &due)))
                save_state(sc, snap);
        }
        /* Fixed rate: the next scan starts one interval after this one started. */
        struct timespec until = deadline_after(&start, sc->interval_ms);
        pthread_mutex_lock(&sc->lock);
        while (!sc->stop) {
            if (sc->refresh_pid > 0) {
                do_refresh(sc);
                continue;
            }
            if (sc->reload) {
                sc->reload = false;
                vm_collector_set_deep_budget(sc->collector, sc->budget_ns);
                apply_resets(sc->collector, sc->pending, sc->npending);
                for (size_t i = 0; i < sc->npending; i++)
                    free(sc->pending[i]);
                sc->npending = 0;
                until = deadline_after(&start, sc->interval_ms);
            }
            struct timespec wake = until, now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (sc->watchdog_ms) {
                struct timespec ping = deadline_after(&now, sc->watchdog_ms);
                if (before(&ping, &wake))
                    wake = ping;
            }
            if (pthread_cond_timedwait(&sc->wake, &sc->lock, &wake) == ETIMEDOUT) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (!before(&now, &until))
                    break;
                sc->sink.notify(sc->sink.userdata, "WATCHDOG=1"); /* waiting is not stuck */
            }
        }
        bool stop = sc->stop;
        pthread_mutex_unlock(&sc->lock);
        if (stop)
            return NULL;
    }
}

static bool listed(char *const *list, size_t n, const char *s) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* The reset specs of a new configuration that the running one did not list: a reload applies
 * a reset-peaks line once, when it appears. (sc->lock held.) */
static void take_new_resets(struct scanner *sc, struct vm_config *cfg) {
    for (size_t i = 0; i < cfg->nreset_peaks; i++)
        if (!listed(sc->resets, sc->nresets, cfg->reset_peaks[i]) &&
            !listed(sc->pending, sc->npending, cfg->reset_peaks[i]) &&
            sc->npending < VM_RESET_PEAKS_MAX) {
            char *copy = strdup(cfg->reset_peaks[i]);
            if (copy)
                sc->pending[sc->npending++] = copy;
        }
    for (size_t i = 0; i < sc->nresets; i++)
        free(sc->resets[i]);
    /* Take over the new list. */
    memcpy(sc->resets, cfg->reset_peaks, cfg->nreset_peaks * sizeof(char *));
    sc->nresets = cfg->nreset_peaks;
    cfg->nreset_peaks = 0;
}

/* SIGHUP: read the configuration again; keep the running one if the new one is bad. What a
 * reload changes: --interval, --deep-walk-budget, and reset-peaks lines that are new. (Listen
 * addresses, roots, the state directory and the server's options need a restart.) */
void scanner_reload(struct scanner *sc, int argc, char **argv) {
    struct vm_config cfg;
    char err[512];
    sc->sink.notify(sc->sink.userdata, "RELOADING=1");
    int r = config_load(argc, argv, &cfg, err, sizeof(err));
    if (r != 0) {
        log_msg(LOG_ERR, "reload: %s; keeping the running configuration", r < 0 ? err : "no");
    } else {
        pthread_mutex_lock(&sc->lock);
        sc->interval_ms = cfg.interval_ms;
        sc->budget_ns = config_deep_budget_ns(&cfg);
        take_new_resets(sc, &cfg);
        sc->reload = true;
        pthread_cond_signal(&sc->wake);
        pthread_mutex_unlock(&sc->lock);
        log_msg(LOG_INFO, "reloaded: interval %llu ms, deep-walk budget %u.%02u%%",
                (unsigned long long)cfg.interval_ms, cfg.deep_walk_budget_bp / 100,
                cfg.deep_walk_budget_bp % 100);
    }
    config_free(&cfg);
    sc->sink.notify(sc->sink.userdata, "READY=1");
}


int scanner_start(const struct vm_config *cfg, struct vm_collector *collector,
                  const struct scanner_sink *sink, uint64_t watchdog_ms, struct scanner **ret) {
    struct scanner *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return -ENOMEM;
    sc->collector = collector;
    sc->sink = *sink;
    sc->interval_ms = cfg->interval_ms;
    sc->budget_ns = config_deep_budget_ns(cfg);
    sc->state_dir = cfg->state_dir;
    sc->watchdog_ms = watchdog_ms;
    pthread_mutex_init(&sc->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sc->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&sc->refresh_done, NULL);

    /* The state of the last run is the first scan's previous snapshot. */
    if (sc->state_dir) {
        int r = state_load(sc->state_dir, &sc->prev);
        if (r == 0)
            log_msg(LOG_INFO, "state from %s/%s: %u groups, %u exited processes, %u processes",
                    sc->state_dir, STATE_FILE_NAME, sc->prev->ngroups, sc->prev->nexited,
                    sc->prev->nprocs);
        else if (r != -ENOENT)
            log_msg(LOG_WARNING, "state %s/%s ignored (%s): peaks start afresh", sc->state_dir,
                    STATE_FILE_NAME,
                    r == -EBADMSG ? "corrupt or truncated"
                    : r == -EPROTONOSUPPORT ? "written by another version"
                                            : strerror(-r));
    }
    for (size_t i = 0; i < cfg->nreset_peaks; i++)
        if ((sc->resets[sc->nresets] = strdup(cfg->reset_peaks[i])))
            sc->nresets++;
    apply_resets(collector, sc->resets, sc->nresets);

    /* taskstats: by default only when reading the live /proc (a fixture tree's processes
     * are not the ones exiting on this host). */
    bool live = !cfg->procfs_root || strcmp(cfg->procfs_root, "/proc") == 0;
    if (cfg->taskstats > 0 || (cfg->taskstats < 0 && live)) {
        int sysfd = open(cfg->sysfs_root ? cfg->sysfs_root : "/sys",
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = exitwatch_start(sysfd, &sc->exits);
        if (sysfd >= 0)
            close(sysfd);
        if (r < 0)
            log_msg(cfg->taskstats > 0 ? LOG_WARNING : LOG_INFO,
                    "taskstats unavailable (%s): processes that start and exit between two "
                    "scans are not seen", strerror(-r));
        else
            log_msg(LOG_INFO, "taskstats: listening for process exits");
    }

    int r = pthread_create(&sc->thread, NULL, scan_loop, sc);
    if (r != 0) {
        log_msg(LOG_ERR, "cannot start the scan thread: %s", strerror(r));
        sc->started = false;
        scanner_stop(sc);
        return -r;
    }
    sc->started = true;
    *ret = sc;
    return 0;
}

void scanner_cancel(struct scanner *sc) {
    vm_collector_cancel(sc->collector); /* a scan in progress ends at the next process */
    pthread_mutex_lock(&sc->lock);
    sc->stop = true;
    pthread_cond_signal(&sc->wake);
    pthread_cond_broadcast(&sc->refresh_done);
    pthread_mutex_unlock(&sc->lock);
}

void scanner_stop(struct scanner *sc) {
    if (!sc)
        return;
    scanner_cancel(sc);
    if (sc->started)
        pthread_join(sc->thread, NULL);
    sc->exits = exitwatch_stop(sc->exits);
    if (sc->state_dir && sc->prev && sc->prev->scans_total > 0)
        save_state(sc, sc->prev);
    vm_snapshot_unref(sc->prev);
    for (size_t i = 0; i < sc->nresets; i++)
        free(sc->resets[i]);
    for (size_t i = 0; i < sc->npending; i++)
        free(sc->pending[i]);
    pthread_cond_destroy(&sc->wake);
    pthread_cond_destroy(&sc->refresh_done);
    pthread_mutex_destroy(&sc->lock);
    free(sc);
}
