/* service.c: the daemon in one process: the scan thread publishes to the HTTP server in the
 * same address space; the main thread waits for signals (never in handler context). Used when
 * privilege separation is off (--privsep=false, or not started as root). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "api/server.h"
#include "daemon/credentials.h"
#include "daemon/fleet.h"
#include "daemon/log.h"
#include "daemon/scanner.h"
#include "daemon/service.h"

/* The server and the scanner refer to each other: the server is started first and reaches
 * the scanner through here once it exists. */
struct wiring {
    struct api_server *server;
    struct scanner *scanner; /* atomic: read by HTTP threads */
};

static void publish(void *userdata, struct vm_snapshot *snap) {
    struct wiring *w = userdata;
    api_server_publish(w->server, snap);
}

static void notify(void *userdata, const char *state) {
    (void)userdata;
    (void)sd_notify(0, state);
}

static int refresh(void *userdata, int32_t pid, unsigned *retry_after_s) {
    struct wiring *w = userdata;
    struct scanner *sc = __atomic_load_n(&w->scanner, __ATOMIC_ACQUIRE);
    if (!sc) {
        *retry_after_s = 1;
        return -EAGAIN;
    }
    return scanner_refresh(sc, pid, retry_after_s);
}

int service_block_signals(sigset_t *sigs) {
    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    sigaddset(sigs, SIGHUP);
    sigaddset(sigs, SIGCHLD);
    /* Blocked before any thread starts, so every thread inherits the mask. */
    signal(SIGPIPE, SIG_IGN);
    return -pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

int service_inherited_sockets(int *fds, size_t max) {
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

uint64_t service_watchdog_ms(void) {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        return usec / 2000 ? usec / 2000 : 1;
    return 0;
}

void service_server_options(const struct vm_config *cfg, const struct credentials *cred,
                            struct api_server_options *so) {
    *so = (struct api_server_options){
        .listen = (const char *const *)cfg->listen,
        .nlisten = cfg->nlisten,
        .redact = cfg->redact_addresses,
        .auth_token = cred->token,
        .allow_unauthenticated = cfg->allow_unauthenticated,
        .allowed_hosts = (const char *const *)cfg->allowed_hosts,
        .nallowed_hosts = cfg->nallowed_hosts,
        .tls_cert = cred->tls_cert,
        .tls_key = cred->tls_key,
        .tls_client_ca = cred->tls_ca,
        .metrics_top_k = cfg->metrics_top_k,
        .interval_ms = cfg->interval_ms,
        .deep_walk_budget_bp = cfg->deep_walk_budget_bp,
        .version = VMATLAS_VERSION,
        .fleet = fleet_configured(cfg),
    };
}

void service_reload_fleet(struct fleet_service *fleet, int argc, char **argv) {
    struct vm_config cfg;
    char err[512];
    if (!fleet)
        return;
    if (config_load(argc, argv, &cfg, err, sizeof(err)) == 0)
        fleet_service_reload(fleet, &cfg);
    config_free(&cfg); /* a bad configuration: the scanner's reload logs it */
}

void service_log_addresses(const struct api_server *server) {
    char addrs[16][64];
    size_t n = api_server_addresses(server, addrs, 16);
    for (size_t i = 0; i < n; i++)
        log_msg(LOG_INFO, "listening on %s", addrs[i]);
}

int service_run(const struct vm_config *cfg, struct vm_collector *collector, int argc,
                char **argv) {
    char err[512];
    sigset_t sigs;
    service_block_signals(&sigs);

    int fds[16];
    int nfds = service_inherited_sockets(fds, 16);
    if (nfds < 0) {
        log_msg(LOG_ERR, "socket activation: only listening stream sockets (at most 16) can be "
                         "handed over");
        return 1;
    }
    struct credentials cred;
    if (credentials_load(cfg, &cred, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return 1;
    }
    struct wiring w = {0};
    struct api_server_options so;
    service_server_options(cfg, &cred, &so);
    so.listen_fds = fds;
    so.nfds = (size_t)nfds;
    so.refresh = refresh;
    so.refresh_userdata = &w;
    int r = api_server_start(&so, &w.server, err, sizeof(err));
    if (r < 0) {
        credentials_free(&cred);
        log_msg(LOG_ERR, "cannot listen: %s", err);
        return 1;
    }
    /* Fleet documents exist from the first request on (every peer "not fetched yet"). */
    struct fleet_service *fleet = NULL;
    struct fleet_secrets secrets = {cred.token, cred.tls_cert, cred.tls_key, cred.peer_ca};
    r = fleet_configured(cfg) ? fleet_service_start(cfg, &secrets, w.server, &fleet) : 0;
    credentials_free(&cred); /* the server and the fleet thread keep their own copies */
    if (r < 0) {
        api_server_stop(w.server);
        return 1;
    }
    service_log_addresses(w.server);

    struct scanner_sink sink = {.publish = publish, .notify = notify, .userdata = &w};
    struct scanner *sc = NULL;
    if (scanner_start(cfg, collector, &sink, service_watchdog_ms(), &sc) < 0) {
        fleet_service_stop(fleet);
        api_server_stop(w.server);
        return 1;
    }
    __atomic_store_n(&w.scanner, sc, __ATOMIC_RELEASE);

    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&sigs, &si);
        if (sig < 0 || sig == SIGCHLD)
            continue; /* EINTR; children are not ours to reap here */
        if (sig == SIGHUP) {
            scanner_reload(sc, argc, argv);
            service_reload_fleet(fleet, argc, argv);
            continue;
        }
        log_msg(LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        (void)sd_notify(0, "STOPPING=1");
        break;
    }
    scanner_cancel(sc);          /* refreshes in flight give up ... */
    fleet_service_stop(fleet);   /* (a fetch round is cut short) */
    api_server_stop(w.server);   /* ... so that in-flight requests finish */
    scanner_stop(sc);          /* then the last scan ends and the state is saved */
    return 0;
}
