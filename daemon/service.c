/* service.c: scan every interval on a thread of its own, publish each snapshot to the HTTP
 * service, and wait for signals on the main thread (never in handler context). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "api/server.h"
#include "daemon/fleet.h"
#include "daemon/log.h"
#include "daemon/service.h"
#include "vmatlas/macros.h"

struct scanner {
    struct vm_collector *collector;
    struct api_server *server;
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
    struct fleet_service *fleet; /* fleet mode: fetches the peers, publishes merged views */
};

/* The scan thread: do the refresh that is asked for (sc->lock held; released meanwhile). */
static void do_refresh(struct scanner *sc) {
    int32_t pid = sc->refresh_pid;
    pthread_mutex_unlock(&sc->lock);
    struct vm_snapshot *snap = NULL;
    uint64_t retry_ns = 0;
    int r = vm_collector_refresh(sc->collector, sc->prev, pid, &retry_ns, &snap);
    if (snap) {
        api_server_publish(sc->server, snap);
        vm_snapshot_unref(sc->prev);
        sc->prev = snap;
    }
    pthread_mutex_lock(&sc->lock);
    sc->refresh_result = r;
    sc->refresh_retry_ns = retry_ns;
    sc->refresh_pid = 0;
    pthread_cond_broadcast(&sc->refresh_done);
}

/* An HTTP thread: ask the scan thread for a refresh of pid and wait for it. */
static int refresh(void *userdata, int32_t pid, unsigned *retry_after_s) {
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

static struct timespec deadline_after(const struct timespec *start, uint64_t ms) {
    struct timespec t = *start;
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static bool before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *scan_loop(void *arg) {
    struct scanner *sc = arg;
    bool first = true;
    for (;;) {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        struct vm_snapshot *snap = NULL;
        int r = vm_collector_scan(sc->collector, sc->prev, &snap);
        if (r < 0) {
            log_event(LOG_ERR, LOG_ID_SCAN_FAILED, 0,
                      "scan failed: %s; keeping the previous snapshot", strerror(-r));
        } else {
            api_server_publish(sc->server, snap);
            vm_snapshot_unref(sc->prev);
            sc->prev = snap;
            if (first)
                log_msg(LOG_INFO, "first snapshot: %u processes, %llu VMAs in %llu ms",
                        snap->nprocs, (unsigned long long)snap->nvmas,
                        (unsigned long long)(snap->duration_ns / 1000000));
            /* READY=1 once the first snapshot is served; the watchdog is fed by this loop, so
             * a collector stuck in a read gets the service restarted. */
            (void)sd_notifyf(0, "%sSTATUS=Scan %llu: %u processes, %llu VMAs in %llu ms\nWATCHDOG=1",
                             first ? "READY=1\n" : "", (unsigned long long)snap->seq,
                             snap->nprocs, (unsigned long long)snap->nvmas,
                             (unsigned long long)(snap->duration_ns / 1000000));
            first = false;
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
                (void)sd_notify(0, "WATCHDOG=1"); /* waiting is not being stuck */
            }
        }
        bool stop = sc->stop;
        pthread_mutex_unlock(&sc->lock);
        if (stop)
            return NULL;
    }
}

/* SIGHUP: read the configuration again; keep the running one if the new one is bad. What a
 * reload changes: --interval, --deep-walk-budget. (Listen addresses, roots and the server's
 * options need a restart.) */
static void reload(struct scanner *sc, int argc, char **argv) {
    struct vm_config cfg;
    char err[512];
    (void)sd_notify(0, "RELOADING=1");
    int r = config_load(argc, argv, &cfg, err, sizeof(err));
    if (r != 0) {
        log_msg(LOG_ERR, "reload: %s; keeping the running configuration", r < 0 ? err : "no");
    } else {
        pthread_mutex_lock(&sc->lock);
        sc->interval_ms = cfg.interval_ms;
        sc->budget_ns = config_deep_budget_ns(&cfg);
        sc->reload = true;
        pthread_cond_signal(&sc->wake);
        pthread_mutex_unlock(&sc->lock);
        fleet_service_reload(sc->fleet, &cfg);
        log_msg(LOG_INFO, "reloaded: interval %llu ms, deep-walk budget %u.%02u%%",
                (unsigned long long)cfg.interval_ms, cfg.deep_walk_budget_bp / 100,
                cfg.deep_walk_budget_bp % 100);
    }
    config_free(&cfg);
    (void)sd_notify(0, "READY=1");
}

/* Sockets handed over by systemd (socket activation): listening TCP sockets only. Returns how
 * many (0 without socket activation) or -EINVAL. */
static int inherited_sockets(int *fds, size_t max) {
    int n = sd_listen_fds(1);
    if (n <= 0)
        return 0;
    if ((size_t)n > max)
        return -EINVAL;
    for (int i = 0; i < n; i++) {
        fds[i] = SD_LISTEN_FDS_START + i;
        if (sd_is_socket(fds[i], AF_UNSPEC, SOCK_STREAM, 1) <= 0)
            return -EINVAL;
    }
    return n;
}

int service_run(const struct vm_config *cfg, struct vm_collector *collector, int argc,
                char **argv) {
    char err[512];
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    /* Blocked before any thread starts, so every thread inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Ready before the server starts: HTTP threads reach it through the refresh callback. */
    struct scanner sc = {.collector = collector,
                         .interval_ms = cfg->interval_ms,
                         .budget_ns = config_deep_budget_ns(cfg)};
    pthread_mutex_init(&sc.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sc.wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&sc.refresh_done, NULL);

    int fds[16];
    int nfds = inherited_sockets(fds, 16);
    if (nfds < 0) {
        log_msg(LOG_ERR, "socket activation: only listening stream sockets (at most 16) can be "
                         "handed over");
        return 1;
    }
    uint64_t watchdog_usec = 0;
    if (sd_watchdog_enabled(1, &watchdog_usec) > 0 && watchdog_usec > 0)
        sc.watchdog_ms = watchdog_usec / 2000 ? watchdog_usec / 2000 : 1;

    struct api_server_options so = {
        .listen_fds = fds,
        .nfds = (size_t)nfds,
        .refresh = refresh,
        .refresh_userdata = &sc,
        .listen = (const char *const *)cfg->listen,
        .nlisten = cfg->nlisten,
        .redact_addresses = cfg->redact_addresses,
        .metrics_top_k = cfg->metrics_top_k,
        .interval_ms = cfg->interval_ms,
        .deep_walk_budget_bp = cfg->deep_walk_budget_bp,
        .version = VMATLAS_VERSION,
        .fleet = fleet_configured(cfg),
    };
    struct api_server *server = NULL;
    int r = api_server_start(&so, &server, err, sizeof(err));
    if (r < 0) {
        log_msg(LOG_ERR, "cannot listen: %s", err);
        return 1;
    }
    /* Fleet documents exist from the first request on (every peer "not fetched yet"). */
    if (fleet_configured(cfg) && fleet_service_start(cfg, server, &sc.fleet) < 0) {
        api_server_stop(server);
        return 1;
    }
    char addrs[16][64];
    size_t n = api_server_addresses(server, addrs, 16);
    for (size_t i = 0; i < n; i++)
        log_msg(LOG_INFO, "listening on %s", addrs[i]);

    sc.server = server;
    pthread_t thread;
    r = pthread_create(&thread, NULL, scan_loop, &sc);
    if (r != 0) {
        log_msg(LOG_ERR, "cannot start the scan thread: %s", strerror(r));
        fleet_service_stop(sc.fleet);
        api_server_stop(server);
        return 1;
    }

    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&sigs, &si);
        if (sig < 0)
            continue; /* EINTR */
        if (sig == SIGHUP) {
            reload(&sc, argc, argv);
            continue;
        }
        log_msg(LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        (void)sd_notify(0, "STOPPING=1");
        break;
    }

    pthread_mutex_lock(&sc.lock);
    sc.stop = true;
    pthread_cond_signal(&sc.wake);
    pthread_cond_broadcast(&sc.refresh_done);
    pthread_mutex_unlock(&sc.lock);
    pthread_join(thread, NULL);
    sc.fleet = fleet_service_stop(sc.fleet); /* cuts a fetch round short */
    api_server_stop(server); /* lets in-flight requests finish */
    vm_snapshot_unref(sc.prev);
    pthread_cond_destroy(&sc.wake);
    pthread_cond_destroy(&sc.refresh_done);
    pthread_mutex_destroy(&sc.lock);
    return 0;
}
