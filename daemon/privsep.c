/* privsep.c: the collector process and the server process, and the socket between them. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "api/server.h"
#include "daemon/bridge.h"
#include "daemon/credentials.h"
#include "daemon/fleet.h"
#include "daemon/log.h"
#include "daemon/privsep.h"
#include "daemon/sandbox.h"
#include "daemon/scanner.h"
#include "daemon/service.h"

/* --- the collector process --------------------------------------------------------------- */

struct collector_side {
    int sock;
    struct scanner *scanner;
    pthread_mutex_t send_lock; /* the scan thread and the control thread both send */
};

static void send_locked(struct collector_side *c, const struct bridge_msg *m, int fd) {
    pthread_mutex_lock(&c->send_lock);
    int r = bridge_send(c->sock, m, fd);
    pthread_mutex_unlock(&c->send_lock);
    if (r < 0 && r != -EPIPE)
        log_msg(LOG_WARNING, "to the server process: %s", strerror(-r));
}

static void collector_publish(void *userdata, struct vm_snapshot *snap) {
    struct collector_side *c = userdata;
    int fd;
    int r = bridge_snapshot_to_fd(snap, &fd);
    if (r < 0) {
        log_msg(LOG_WARNING, "cannot hand a snapshot over: %s", strerror(-r));
        return;
    }
    struct bridge_msg m = {.type = BRIDGE_SNAPSHOT, .arg = snap->seq};
    send_locked(c, &m, fd);
    close(fd);
}

static void collector_notify(void *userdata, const char *state) {
    struct bridge_msg m = {.type = BRIDGE_NOTIFY};
    (void)snprintf(m.text, sizeof(m.text), "%s", state);
    send_locked(userdata, &m, -1);
}

/* Requests from the server: refreshes. The end of the socket (the server is gone) stops the
 * collector. */
static void *control_loop(void *arg) {
    struct collector_side *c = arg;
    for (;;) {
        struct bridge_msg m;
        int fd;
        int r = bridge_recv(c->sock, &m, &fd);
        if (r == -EBADMSG)
            continue;
        if (r < 0)
            break;
        if (m.type == BRIDGE_RELOAD) {
            kill(getpid(), SIGHUP); /* the main thread reloads, as on a SIGHUP of its own */
            continue;
        }
        if (m.type != BRIDGE_REFRESH)
            continue;
        unsigned retry = 1;
        r = m.value > 0 ? scanner_refresh(c->scanner, m.value, &retry) : -EINVAL;
        struct bridge_msg done = {.type = BRIDGE_REFRESH_DONE, .value = r, .arg = retry};
        send_locked(c, &done, -1);
    }
    kill(getpid(), SIGTERM);
    return NULL;
}

static int collector_main(const struct vm_config *cfg, struct vm_collector *collector,
                          int sock, const sigset_t *sigs, pid_t server, uint64_t watchdog_ms,
                          int argc, char **argv) {
    /* Outlive the server by nothing; and no one of our uid may look into us. */
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    (void)prctl(PR_SET_DUMPABLE, 0);
    if (getppid() != server)
        return 1; /* the server died before we got here */
    struct collector_side c = {.sock = sock};
    pthread_mutex_init(&c.send_lock, NULL);
    struct scanner_sink sink = {collector_publish, collector_notify, &c};
    if (scanner_start(cfg, collector, &sink, watchdog_ms, &c.scanner) < 0)
        return 1;
    pthread_t control;
    if (pthread_create(&control, NULL, control_loop, &c) != 0) {
        scanner_stop(c.scanner);
        return 1;
    }
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(sigs, &si);
        if (sig < 0 || sig == SIGCHLD)
            continue;
        if (sig == SIGHUP) {
            scanner_reload(c.scanner, argc, argv);
            continue;
        }
        break;
    }
    scanner_cancel(c.scanner);
    shutdown(sock, SHUT_RDWR); /* ends the control thread's recv */
    pthread_join(control, NULL);
    scanner_stop(c.scanner); /* the last scan ends, the state is saved */
    pthread_mutex_destroy(&c.send_lock);
    close(sock);
    return 0;
}

/* --- the server process ------------------------------------------------------------------ */

struct server_side {
    int sock;
    struct api_server *server;
    pthread_mutex_t lock;
    pthread_cond_t done;
    bool refresh_busy, refresh_answered, collector_gone;
    int refresh_result;
    unsigned refresh_retry;
};

/* HTTP thread: ask the collector to walk pid and wait for its answer; the snapshot with the
 * walk arrives (and is published) before the answer. */
static int server_refresh(void *userdata, int32_t pid, unsigned *retry_after_s) {
    struct server_side *s = userdata;
    pthread_mutex_lock(&s->lock);
    if (s->refresh_busy || s->collector_gone) {
        pthread_mutex_unlock(&s->lock);
        *retry_after_s = 1;
        return -EAGAIN;
    }
    s->refresh_busy = true;
    s->refresh_answered = false;
    struct bridge_msg m = {.type = BRIDGE_REFRESH, .value = pid};
    int r = bridge_send(s->sock, &m, -1);
    while (r == 0 && !s->refresh_answered && !s->collector_gone)
        pthread_cond_wait(&s->done, &s->lock);
    if (r == 0)
        r = s->refresh_answered ? s->refresh_result : -ECANCELED;
    *retry_after_s = s->refresh_retry ? s->refresh_retry : 1;
    s->refresh_busy = false;
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* Messages from the collector: snapshots to publish, states to pass to systemd, answers. */
static void *receive_loop(void *arg) {
    struct server_side *s = arg;
    for (;;) {
        struct bridge_msg m;
        int fd;
        int r = bridge_recv(s->sock, &m, &fd);
        if (r == -EBADMSG) {
            log_msg(LOG_WARNING, "a malformed message from the collector process was dropped");
            continue;
        }
        if (r < 0)
            break;
        if (m.type == BRIDGE_SNAPSHOT) {
            struct vm_snapshot *snap = NULL;
            r = bridge_snapshot_from_fd(fd, &snap);
            close(fd);
            if (r < 0) {
                log_msg(LOG_WARNING, "snapshot %llu from the collector refused: %s",
                        (unsigned long long)m.arg, strerror(-r));
                continue;
            }
            api_server_publish(s->server, snap);
            vm_snapshot_unref(snap);
        } else if (m.type == BRIDGE_NOTIFY) {
            (void)sd_notify(0, m.text);
        } else if (m.type == BRIDGE_REFRESH_DONE) {
            pthread_mutex_lock(&s->lock);
            if (s->refresh_busy) {
                s->refresh_result = m.value;
                s->refresh_retry = (unsigned)(m.arg > 3600 ? 3600 : m.arg);
                s->refresh_answered = true;
                pthread_cond_broadcast(&s->done);
            }
            pthread_mutex_unlock(&s->lock);
        }
    }
    pthread_mutex_lock(&s->lock);
    s->collector_gone = true;
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Bind (or take over) the listening sockets while still privileged; return how many. */
static int open_listeners(const struct vm_config *cfg, int *fds, size_t max, char *err,
                          size_t errlen) {
    int n = service_inherited_sockets(fds, max);
    if (n < 0) {
        (void)snprintf(err, errlen, "socket activation: only listening stream sockets (at "
                                    "most 16) can be handed over");
        return n;
    }
    if (n > 0)
        return n;
    for (size_t i = 0; i < cfg->nlisten && i < max; i++) {
        int fd = api_listen(cfg->listen[i], err, errlen);
        if (fd < 0) {
            for (size_t k = 0; k < i; k++)
                close(fds[k]);
            return fd;
        }
        fds[n++] = fd;
    }
    return n;
}

static int server_main(const struct vm_config *cfg, pid_t collector, int sock,
                       const sigset_t *sigs, struct credentials *cred, int *fds, int nfds,
                       int argc, char **argv) {
    char err[512];
    struct server_side s = {.sock = sock};
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.done, NULL);
    int status = 1;

    /* No privilege and the filter in place before any thread that speaks HTTP exists (the
     * threads started from here on inherit the filter). */
    int r = sandbox_drop(cfg->privsep_user, err, sizeof(err));
    if (r == 0)
        r = sandbox_seccomp(err, sizeof(err));
    if (r < 0) {
        credentials_free(cred);
        log_msg(LOG_ERR, "privilege separation: %s", err);
        goto out;
    }
    struct api_server_options so;
    service_server_options(cfg, cred, &so);
    so.listen_fds = fds;
    so.nfds = (size_t)nfds;
    so.refresh = server_refresh;
    so.refresh_userdata = &s;
    r = api_server_start(&so, &s.server, err, sizeof(err));
    if (r < 0) {
        credentials_free(cred);
        log_msg(LOG_ERR, "cannot listen: %s", err);
        goto out;
    }
    /* Fleet mode lives here: fetching peers is network work, done without privileges. */
    struct fleet_service *fleet = NULL;
    struct fleet_secrets secrets = {cred->token, cred->tls_cert, cred->tls_key, cred->peer_ca};
    r = fleet_configured(cfg) ? fleet_service_start(cfg, &secrets, s.server, &fleet) : 0;
    credentials_free(cred);
    if (r < 0) {
        api_server_stop(s.server);
        goto out;
    }
    service_log_addresses(s.server);
    pthread_t receiver;
    if (pthread_create(&receiver, NULL, receive_loop, &s) != 0) {
        log_msg(LOG_ERR, "cannot start the receiver thread");
        fleet_service_stop(fleet);
        api_server_stop(s.server);
        goto out;
    }
    log_msg(LOG_INFO, "serving as uid %u without capabilities (collector: pid %d)",
            (unsigned)getuid(), (int)collector);

    bool collector_died = false;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(sigs, &si);
        if (sig < 0)
            continue;
        if (sig == SIGHUP) {
            /* The collector owns what a reload changes. (A signal would not do: it runs as
             * root, and this process no longer may signal it.) */
            struct bridge_msg m = {.type = BRIDGE_RELOAD};
            if (bridge_send(sock, &m, -1) < 0)
                log_msg(LOG_WARNING, "reload: the collector process is not there");
            service_reload_fleet(fleet, argc, argv);
            continue;
        }
        if (sig == SIGCHLD) {
            int st;
            if (waitpid(collector, &st, WNOHANG) != collector)
                continue;
            log_msg(LOG_ERR, "the collector process ended (%s %d); stopping",
                    WIFSIGNALED(st) ? "signal" : "status",
                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            collector_died = true;
            break;
        }
        log_msg(LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        (void)sd_notify(0, "STOPPING=1");
        break;
    }
    /* The end of the socket stops the collector: it finishes its scan and saves the state.
     * (Under systemd it gets SIGTERM as well.) */
    shutdown(sock, SHUT_RDWR);
    pthread_join(receiver, NULL); /* refreshes in flight are answered (-ECANCELED) */
    fleet_service_stop(fleet);    /* a fetch round in flight is cut short */
    api_server_stop(s.server);    /* in-flight requests finish */
    int st = 0;
    if (!collector_died && waitpid(collector, &st, 0) == collector && WIFEXITED(st) &&
        WEXITSTATUS(st) == 0)
        status = 0;
    else if (!collector_died)
        log_msg(LOG_ERR, "the collector process did not stop cleanly");
out:
    close(sock);
    pthread_cond_destroy(&s.done);
    pthread_mutex_destroy(&s.lock);
    return status;
}

int privsep_run(const struct vm_config *cfg, struct vm_collector *collector, int argc,
                char **argv) {
    char err[512];
    sigset_t sigs;
    service_block_signals(&sigs);
    struct credentials cred;
    if (credentials_load(cfg, &cred, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        return 1;
    }
    int fds[16];
    int nfds = open_listeners(cfg, fds, 16, err, sizeof(err));
    if (nfds < 0) {
        log_msg(LOG_ERR, "cannot listen: %s", err);
        credentials_free(&cred);
        return 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        log_msg(LOG_ERR, "socketpair: %s", strerror(errno));
        credentials_free(&cred);
        return 1;
    }
    /* WATCHDOG_PID names this process: the collector's pings come through it. */
    uint64_t watchdog_ms = service_watchdog_ms();
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERR, "fork: %s", strerror(errno));
        credentials_free(&cred);
        return 1;
    }
    if (pid == 0) {
        /* The collector: no listening socket, no secret. */
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        credentials_free(&cred);
        close(sv[0]);
        _exit(collector_main(cfg, collector, sv[1], &sigs, server, watchdog_ms, argc, argv));
    }
    close(sv[1]);
    /* The server does not scan: its copy of the collector's descriptors goes. */
    vm_collector_free(collector);
    return server_main(cfg, pid, sv[0], &sigs, &cred, fds, nfds, argc, argv);
}
