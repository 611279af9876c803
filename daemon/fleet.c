/* fleet.c: the fleet thread. Every interval it fetches all peers at once (api/fleet_client.c),
 * merges what came into a new view (api/fleet_merge.c) and publishes it to the HTTP service,
 * which serves every /api/v1/fleet document from the last view: a request never waits for a
 * peer. The peers file is re-read when it changes (checked before every round) and on SIGHUP;
 * peers that go down or come back are logged once per change. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/fleet_client.h"
#include "api/fleet_view.h"
#include "daemon/fleet.h"
#include "daemon/log.h"
#include "daemon/timespec.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

bool fleet_configured(const struct vm_config *cfg) {
    return cfg->peers || cfg->peers_file;
}

/* Read a whole small file (at most max bytes, else -EFBIG) into a malloc'd buffer. */
static int read_small(const char *path, size_t max, char **ret, size_t *ret_len,
                      struct stat *ret_st) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    _cleanup_free_ char *buf = malloc(max + 1);
    if (!buf)
        return -ENOMEM;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max)
            return -EFBIG;
    }
    *ret = TAKE_PTR(buf);
    *ret_len = len;
    if (ret_st)
        *ret_st = st;
    return 0;
}

static int load_peers(const struct vm_config *cfg, struct fleet_url **ret, size_t *ret_n,
                      struct stat *ret_st, char *err, size_t errlen) {
    struct fleet_url *list = NULL;
    size_t n = 0;
    int r = 0;
    if (cfg->peers)
        r = fleet_urls_parse(cfg->peers, strlen(cfg->peers), "--peers", &list, &n, err, errlen);
    if (r == 0 && cfg->peers_file) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = read_small(cfg->peers_file, VM_FLEET_PEERS_FILE_MAX, &buf, &len, ret_st);
        if (r < 0)
            (void)snprintf(err, errlen, "--peers-file %s: %s", cfg->peers_file,
                           r == -EFBIG    ? "larger than 1 MiB"
                           : r == -EINVAL ? "not a regular file"
                                          : strerror(-r));
        else
            r = fleet_urls_parse(buf, len, cfg->peers_file, &list, &n, err, errlen);
    }
    if (r < 0) {
        fleet_urls_free(list, n);
        return r;
    }
    *ret = list;
    *ret_n = n;
    return 0;
}

int fleet_peers_load(const struct vm_config *cfg, struct fleet_url **ret, size_t *ret_n, char *err,
                     size_t errlen) {
    return load_peers(cfg, ret, ret_n, NULL, err, errlen);
}

static void free_token(char *t) {
    if (t) {
        explicit_bzero(t, strlen(t));
        free(t);
    }
}

int fleet_config_check(const struct vm_config *cfg, char *err, size_t errlen) {
    if (fleet_configured(cfg)) {
        struct fleet_url *list = NULL;
        size_t n = 0;
        int r = fleet_peers_load(cfg, &list, &n, err, errlen);
        fleet_urls_free(list, n);
        if (r < 0)
            return -EINVAL;
    }
    if (cfg->peer_ca_file && access(cfg->peer_ca_file, R_OK) < 0) {
        (void)snprintf(err, errlen, "--peer-ca-file %s: %s", cfg->peer_ca_file, strerror(errno));
        return -EINVAL;
    }
    return 0;
}

/* --- the thread ----------------------------------------------------------------------------- */

/* What the thread needs of a configuration (copied: the daemon's cfg is freed on reload). */
struct fleet_settings {
    struct vm_config cfg; /* peers, peers_file, peer_ca_file only */
    char *token;          /* the bearer token read at start (the server may not read files) */
    char *cert, *key;     /* the daemon's TLS certificate and key (PEM), shown to peers */
    char *ca;             /* the CA of https peers (PEM) */
    uint64_t interval_ms, timeout_ms;
};

static void settings_free(struct fleet_settings *s) {
    free(s->cfg.peers), free(s->cfg.peers_file), free(s->cfg.peer_ca_file), free(s->cert),
        free(s->ca);
    free_token(s->token);
    free_token(s->key);
    memset(s, 0, sizeof(*s));
}

static int settings_copy(const struct vm_config *cfg, const struct fleet_secrets *sec,
                         struct fleet_settings *ret) {
    const char *token = sec ? sec->token : NULL;
    const char *cert = sec ? sec->cert : NULL, *key = sec ? sec->key : NULL;
    const char *ca = sec ? sec->ca : NULL;
    struct fleet_settings s = {.interval_ms = cfg->interval_ms, .timeout_ms = cfg->peer_timeout_ms};
    s.cfg.peers = cfg->peers ? strdup(cfg->peers) : NULL;
    s.cfg.peers_file = cfg->peers_file ? strdup(cfg->peers_file) : NULL;
    s.cfg.peer_ca_file = cfg->peer_ca_file ? strdup(cfg->peer_ca_file) : NULL;
    s.token = token ? strdup(token) : NULL;
    s.cert = cert ? strdup(cert) : NULL;
    s.key = key ? strdup(key) : NULL;
    s.ca = ca ? strdup(ca) : NULL;
    if ((cfg->peers && !s.cfg.peers) || (cfg->peers_file && !s.cfg.peers_file) ||
        (cfg->peer_ca_file && !s.cfg.peer_ca_file) || (token && !s.token) ||
        (cert && !s.cert) || (key && !s.key) || (ca && !s.ca)) {
        settings_free(&s);
        return -ENOMEM;
    }
    *ret = s;
    return 0;
}

struct fleet_service {
    struct api_server *server;
    struct fleet_client *client;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool reload; /* pending holds new settings */
    struct fleet_settings pending;
    /* The fleet thread's own. */
    struct fleet_settings cur;
    struct fleet_view *view; /* the last published */
    struct stat file_st;     /* of the peers file when last read */
    bool file_known, file_error_logged;
};

static uint64_t real_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* File descriptors kept for the rest of the daemon (listeners, HTTP connections, the
 * collector's link, logs) on top of one socket per peer. */
#define FDS_RESERVED 256u

/* A round holds one socket per peer at once, and a default soft RLIMIT_NOFILE of 1024 (systemd's
 * and most shells') is fewer than VM_FLEET_PEERS_MAX of them: raise the soft limit to the hard
 * one (no privilege needed; systemd's hard default is 524288). Peers past what even the hard
 * limit allows fail to connect, each one down with curl's error; this is logged once. */
static void raise_nofile(size_t npeers) {
    static bool warned;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < npeers + FDS_RESERVED && !warned) {
        log_msg(LOG_WARNING,
                "fleet: %zu peers need about %zu file descriptors, RLIMIT_NOFILE allows %llu; "
                "raise LimitNOFILE=, some peers will be down",
                npeers, npeers + FDS_RESERVED, (unsigned long long)rl.rlim_cur);
        warned = true;
    }
}

/* Apply settings to the client: options (token, CA file, timeout) and peers. A part that cannot
 * be read is logged, and the running one kept. */
static void apply(struct fleet_service *f, const struct fleet_settings *s, bool log_peers) {
    char err[512];
    struct fleet_client_options o = {
        .timeout_ms = s->timeout_ms,
        .ca_pem = s->ca,
        .bearer_token = s->token,
        .client_cert_pem = s->cert,
        .client_key_pem = s->key,
        .user_agent = "vmatlasd/" VMATLAS_VERSION,
    };
    if (fleet_client_set_options(f->client, &o) < 0)
        log_msg(LOG_ERR, "fleet: out of memory; keeping the running options");

    struct fleet_url *list = NULL;
    size_t n = 0;
    struct stat st;
    int r = load_peers(&s->cfg, &list, &n, &st, err, sizeof(err));
    if (r < 0) {
        log_msg(LOG_ERR, "fleet: %s; keeping the running peers", err);
        /* Do not re-read the same broken file before it changes again. */
        if (s->cfg.peers_file && stat(s->cfg.peers_file, &st) == 0) {
            f->file_st = st;
            f->file_known = true;
        }
        return;
    }
    if (s->cfg.peers_file) {
        f->file_st = st;
        f->file_known = true;
        f->file_error_logged = false;
    }
    raise_nofile(n);
    if (fleet_client_set_peers(f->client, list, n) < 0)
        log_msg(LOG_ERR, "fleet: out of memory; keeping the running peers");
    else if (log_peers)
        log_msg(LOG_INFO, "fleet: %zu peer%s%s%s%s, the top %u processes of each", n,
                n == 1 ? "" : "s", s->cfg.peers_file ? " (peers file " : "",
                s->cfg.peers_file ? s->cfg.peers_file : "", s->cfg.peers_file ? ")" : "",
                fleet_client_procs_limit(f->client));
    fleet_urls_free(list, n);
}

/* Has the peers file changed since it was read? (Replaced, rewritten, or touched.) */
static bool file_changed(struct fleet_service *f) {
    const char *path = f->cur.cfg.peers_file;
    struct stat st;
    if (!path)
        return false;
    if (stat(path, &st) < 0) {
        if (!f->file_error_logged)
            log_msg(LOG_WARNING, "fleet: --peers-file %s: %s; keeping the running peers", path,
                    strerror(errno));
        f->file_error_logged = true;
        return false;
    }
    f->file_error_logged = false;
    return !f->file_known || st.st_dev != f->file_st.st_dev || st.st_ino != f->file_st.st_ino ||
           st.st_size != f->file_st.st_size || st.st_mtim.tv_sec != f->file_st.st_mtim.tv_sec ||
           st.st_mtim.tv_nsec != f->file_st.st_mtim.tv_nsec;
}

/* Log the peers whose state changed between the last view and this one. */
static void log_changes(const struct fleet_view *old, const struct fleet_view *v) {
    for (size_t i = 0; i < v->npeers; i++) {
        const struct fleet_view_peer *p = &v->peers[i], *was = NULL;
        for (size_t k = 0; old && k < old->npeers; k++)
            if (strcmp(old->peers[k].url.url, p->url.url) == 0)
                was = &old->peers[k];
        bool was_up = was && was->up, was_fetched = was && was->fetched;
        if (!p->up && (was_up || !was_fetched))
            log_msg(LOG_WARNING, "fleet: peer %s (%s) is down: %s, skipping", p->url.node,
                    p->url.url, p->error ? p->error : "?");
        else if (p->up && was_fetched && !was_up)
            log_msg(LOG_INFO, "fleet: peer %s is up again", p->url.node);
    }
}

static void *fleet_loop(void *arg) {
    struct fleet_service *f = arg;
    bool first = true;
    for (;;) {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);

        pthread_mutex_lock(&f->lock);
        bool reload = f->reload;
        if (reload) {
            settings_free(&f->cur);
            f->cur = f->pending;
            memset(&f->pending, 0, sizeof(f->pending));
            f->reload = false;
        }
        pthread_mutex_unlock(&f->lock);
        if (reload)
            apply(f, &f->cur, true);
        else if (file_changed(f)) {
            log_msg(LOG_INFO, "fleet: %s changed, reading it again", f->cur.cfg.peers_file);
            apply(f, &f->cur, true);
        }

        struct fleet_round *round = NULL;
        int r = fleet_client_round(f->client, &round);
        if (r == 0 && round->cancelled) {
            fleet_round_free(round);
            return NULL;
        }
        struct fleet_view *view = NULL;
        if (r == 0)
            r = fleet_merge(f->view, round, &view);
        if (r < 0) {
            log_msg(LOG_ERR, "fleet: round failed: %s; keeping the last merge", strerror(-r));
        } else {
            log_changes(f->view, view);
            api_server_publish_fleet(f->server, view);
            if (first) {
                size_t up = 0;
                for (size_t i = 0; i < view->npeers; i++)
                    up += view->peers[i].up;
                log_msg(LOG_INFO, "fleet: first merge: %zu of %zu peers up, round %llu ms", up,
                        view->npeers, (unsigned long long)(view->round_ns / 1000000));
                first = false;
            }
            fleet_view_unref(f->view);
            f->view = view;
        }
        fleet_round_free(round);
        /* A round frees the last round's documents and every parse's JSON tree: many small
         * blocks across the heap that malloc keeps otherwise, under the next round's own
         * (bench/fleet.sh, 1,000 peers: peak 260 -> 253 MiB). */
        (void)malloc_trim(0);

        /* Fixed rate, as the scan: the next round starts one interval after this one did. */
        pthread_mutex_lock(&f->lock);
        struct timespec until = deadline_after(&start, f->cur.interval_ms);
        while (!f->stop && !f->reload)
            if (pthread_cond_timedwait(&f->wake, &f->lock, &until) == ETIMEDOUT)
                break;
        bool stop = f->stop;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            return NULL;
    }
}

int fleet_service_start(const struct vm_config *cfg, const struct fleet_secrets *secrets,
                        struct api_server *server, struct fleet_service **ret) {
    char err[512];
    struct fleet_service *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->server = server;
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);

    CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
    struct fleet_client_options o = {.timeout_ms = cfg->peer_timeout_ms};
    int r = cc == CURLE_OK ? fleet_client_new(&o, &f->client) : -EIO;
    if (r == 0)
        r = settings_copy(cfg, secrets, &f->cur);
    if (r < 0) {
        log_msg(LOG_ERR, "fleet: cannot start: %s",
                cc != CURLE_OK ? curl_easy_strerror(cc) : strerror(-r));
        fleet_service_stop(f);
        return r;
    }
    apply(f, &f->cur, true);

    /* Until the first round is merged, fleet documents list every peer as not fetched yet. */
    struct fleet_url *list = NULL;
    size_t n = 0;
    if (fleet_peers_load(&f->cur.cfg, &list, &n, err, sizeof(err)) == 0 &&
        fleet_view_pending(list, n, real_ms(), &f->view) == 0)
        api_server_publish_fleet(server, f->view);
    fleet_urls_free(list, n);

    r = pthread_create(&f->thread, NULL, fleet_loop, f);
    if (r != 0) {
        log_msg(LOG_ERR, "fleet: cannot start the fleet thread: %s", strerror(r));
        fleet_service_stop(f);
        return -r;
    }
    f->started = true;
    *ret = f;
    return 0;
}

void fleet_service_reload(struct fleet_service *f, const struct vm_config *cfg) {
    struct fleet_settings s;
    if (!f)
        return;
    /* The token stays the one read at start (a restart takes a new one). */
    pthread_mutex_lock(&f->lock);
    struct fleet_secrets keep = {f->cur.token, f->cur.cert, f->cur.key, f->cur.ca};
    int r = settings_copy(cfg, &keep, &s);
    pthread_mutex_unlock(&f->lock);
    if (r < 0) {
        log_msg(LOG_ERR, "fleet: reload: out of memory; keeping the running peers");
        return;
    }
    if (!fleet_configured(cfg))
        log_msg(LOG_WARNING, "fleet: no --peers or --peers-file any more: no peers until a "
                             "restart turns fleet mode off");
    pthread_mutex_lock(&f->lock);
    settings_free(&f->pending);
    f->pending = s;
    f->reload = true;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
}

struct fleet_service *fleet_service_stop(struct fleet_service *f) {
    if (!f)
        return NULL;
    if (f->started) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->lock);
        fleet_client_cancel(f->client);
        pthread_join(f->thread, NULL);
    }
    fleet_client_free(f->client);
    fleet_view_unref(f->view);
    settings_free(&f->cur);
    settings_free(&f->pending);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    free(f);
    curl_global_cleanup();
    return NULL;
}
