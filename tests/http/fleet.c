/* fleet.c: fleet mode over real HTTP: real vmatlasd peers, hostile test peers, one aggregator.
 *
 *   http_fleet VMATLASD FIXTURES_DIR        (or $VMATLASD and $VMATLAS_FIXTURES)
 *
 * Peers (all on loopback):
 *   A, B, C    real vmatlasd daemons on the fixture trees (A: hostile, B: basic, C: basic on
 *              [::1] with --interval 0.5, so its ETags change and it answers 200 every round)
 *   closed     a port nobody listens on
 *   hang       accepts and reads, never answers
 *   garbage    200 application/json with bytes that are not JSON
 *   html       200 text/html
 *   wrong      /api/v1/node with "seq" a string
 *   deep       /api/v1/node nested 200,000 levels deep
 *   huge       /api/v1/processes with a total past 2^64
 *   chunked    /api/v1/node: 100 MiB of chunked body (past the 64 MiB cap)
 *   redirect   302 to peer A (redirects must not be followed)
 *   etag       A's documents with its own ETags: 304 when If-None-Match matches; counts
 *              connections (keep-alive), gzip offers and bearer tokens
 *   evil       A's documents with a comm that tries to break out of its string, a 60 KiB
 *              cgroup and a cmdline full of escapes: valid, so up, and kept as they are
 * The aggregator takes its peers from a config file (peers, peer-timeout, auth-token-file) and a
 * --peers-file; --interval 1, --peer-timeout 1.5.
 *
 * Checks: fleet documents answer within peer-timeout + 0.5 s from the first request on (also
 * while the hang peer holds a round), the first merge is published within the timeout + 0.5 s;
 * /api/v1/fleet/nodes has every peer with its state and the expected error; processes, hiwater
 * and hugepages against an oracle built from the peers' own documents; query parameters and
 * 400s; targets; /metrics peer families (and promtool check metrics, when installed); ETags,
 * 304 and gzip on the fleet documents; the 304 path to the etag peer, one kept-alive connection,
 * the token on every request, and a new version picked up; the 100 MiB body cut at the cap with
 * the aggregator's memory bounded; the peers file changed (picked up) and broken (kept); SIGHUP
 * with a new config; 404 without fleet mode; configuration errors; SIGTERM exits 0 within 1 s
 * with a round in flight.
 *
 * Exit 0 pass, 1 fail, 77 skip. Every wait is bounded; every process and thread started is
 * stopped. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/fleet_doc.h"
#include "test.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                      \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        test_failures++;                                                                           \
    } while (0)
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            FAIL(__VA_ARGS__);                                                                     \
    } while (0)

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
#define SLACK_S                                                                                    \
    1.5 /* sanitizer builds on a shared machine: more time where time is not the point */
#define STOP_LIMIT_S 3.0
#else
#define SLACK_S 0.0
#define STOP_LIMIT_S 1.0
#endif

#define PEER_TIMEOUT_S 1.5
#define ANSWER_LIMIT_S (PEER_TIMEOUT_S + 0.5) /* the contract for every fleet document */
#define PROCS_LIMIT 1000u                     /* what the aggregator asks of every peer */
#define TOKEN "s3cr3t-T0ken_v1.~+/=="
#define BODY_CAP (64ull << 20)
#define CHUNKED_TOTAL (100ull << 20)

static const char *g_daemon, *g_fixtures;
static char g_tmp[PATH_MAX];
static CURL *g_curl;

/* --- utilities ------------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static char *slurp(const char *path, size_t *ret_len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    fclose(f);
    if (ret_len)
        *ret_len = len;
    return buf;
}

static bool write_file(const char *path, const char *text) {
    /* Atomically, as configuration management does: a new inode under the old name. */
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    free(tmp);
    return ok;
}

/* --- daemons --------------------------------------------------------------------------------- */

struct daemon {
    const char *name;
    pid_t pid;
    char ip[64];
    int port;
    char base[128]; /* http://127.0.0.1:PORT or http://[::1]:PORT */
    char node[96];  /* 127.0.0.1:PORT or [::1]:PORT */
    char log[PATH_MAX];
};

#define MAX_DAEMONS 16
static struct daemon *g_running[MAX_DAEMONS];

static void dump_log(const struct daemon *d) {
    char *log = slurp(d->log, NULL);
    fprintf(stderr, "---- %s stderr ----\n%s---- end ----\n", d->name, log ? log : "(none)\n");
    free(log);
}

static void forget(struct daemon *d) {
    for (size_t i = 0; i < MAX_DAEMONS; i++)
        if (g_running[i] == d)
            g_running[i] = NULL;
}

static void kill_hard(struct daemon *d) {
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        (void)waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
    forget(d);
}

static pid_t spawn(const char *log, const char *const *args) {
    const char *argv[48];
    size_t n = 0;
    argv[n++] = g_daemon;
    for (size_t i = 0; args && args[i] && n < 46; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(fd, 2);
        execv(g_daemon, (char *const *)argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

static bool daemon_start(struct daemon *d, const char *name, const char *const *args) {
    memset(d, 0, sizeof(*d));
    d->name = name;
    (void)snprintf(d->log, sizeof(d->log), "%s/%s.log", g_tmp, name);
    d->pid = spawn(d->log, args);
    if (d->pid < 0) {
        FAIL("%s: cannot start: %s", name, strerror(errno));
        d->pid = 0;
        return false;
    }
    for (size_t i = 0; i < MAX_DAEMONS; i++)
        if (!g_running[i]) {
            g_running[i] = d;
            break;
        }
    double deadline = now_s() + 60;
    while (now_s() < deadline) {
        char *log = slurp(d->log, NULL);
        const char *p = log ? strstr(log, "vmatlasd: listening on ") : NULL;
        const char *nl = p ? strchr(p, '\n') : NULL;
        if (nl) {
            p += strlen("vmatlasd: listening on ");
            (void)snprintf(d->node, sizeof(d->node), "%.*s", (int)(nl - p), p);
            free(log);
            char *colon = strrchr(d->node, ':');
            d->port = colon ? atoi(colon + 1) : 0;
            (void)snprintf(d->base, sizeof(d->base), "http://%s", d->node);
            (void)snprintf(d->ip, sizeof(d->ip), "%.*s", (int)(colon - d->node), d->node);
            printf("%s: pid %d on %s\n", name, (int)d->pid, d->base);
            return d->port > 0;
        }
        free(log);
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            FAIL("%s: exited before listening (status 0x%x)", name, st);
            dump_log(d);
            d->pid = 0;
            forget(d);
            return false;
        }
        sleep_ms(10);
    }
    FAIL("%s: not listening within 60 s", name);
    dump_log(d);
    kill_hard(d);
    return false;
}

/* SIGTERM, bounded wait; checks exit 0 within STOP_LIMIT_S and no sanitizer report. */
static void daemon_stop(struct daemon *d) {
    if (d->pid <= 0)
        return;
    double t0 = now_s();
    kill(d->pid, SIGTERM);
    int st = -1;
    while (now_s() - t0 < 20) {
        if (waitpid(d->pid, &st, WNOHANG) == d->pid)
            break;
        sleep_ms(2);
    }
    double secs = now_s() - t0;
    if (waitpid(d->pid, NULL, WNOHANG) == 0) {
        FAIL("%s: still running %.1f s after SIGTERM", d->name, secs);
        kill_hard(d);
        return;
    }
    d->pid = 0;
    forget(d);
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: SIGTERM: wait status 0x%x", d->name, st);
    EXPECT(secs < STOP_LIMIT_S, "%s: SIGTERM took %.3f s (limit %.1f s)", d->name, secs,
           STOP_LIMIT_S);
    printf("%s: SIGTERM -> exit in %.3f s\n", d->name, secs);
    char *log = slurp(d->log, NULL);
    if (log && (strstr(log, "Sanitizer") || strstr(log, "runtime error"))) {
        FAIL("%s: sanitizer report", d->name);
        dump_log(d);
    }
    free(log);
}

/* Run vmatlasd ARGS to completion (config errors); returns the exit status, stderr in *err. */
static int run_status(const char *const *args, char **err) {
    char *log = xasprintf("%s/run.log", g_tmp);
    pid_t pid = spawn(log, args);
    int st = -1;
    double t0 = now_s();
    while (pid > 0 && now_s() - t0 < 20) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            break;
        sleep_ms(5);
    }
    if (pid > 0 && waitpid(pid, NULL, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        st = -1;
    }
    *err = slurp(log, NULL);
    free(log);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --- HTTP client ------------------------------------------------------------------------------ */

struct resp {
    long status;
    char *body;
    size_t len;
    char *hdrs;
    double secs;
};

struct sink {
    char **p;
    size_t *n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    struct sink *s = ud;
    size_t len = size * nmemb;
    char *np = realloc(*s->p, *s->n + len + 1);
    if (!np)
        return 0;
    memcpy(np + *s->n, ptr, len);
    *s->n += len;
    np[*s->n] = 0;
    *s->p = np;
    return len;
}

static void resp_free(struct resp *r) {
    free(r->body);
    free(r->hdrs);
    memset(r, 0, sizeof(*r));
}

static struct resp http_get(const char *url, const char *const *headers, bool decode) {
    struct resp r = {0};
    size_t hlen = 0;
    struct sink body = {&r.body, &r.len}, hdrs = {&r.hdrs, &hlen};
    curl_easy_reset(g_curl);
    curl_easy_setopt(g_curl, CURLOPT_URL, url);
    curl_easy_setopt(g_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(g_curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(g_curl, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(g_curl, CURLOPT_HEADERDATA, &hdrs);
    struct curl_slist *h = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    /* The aggregator has a token and checks it; the peers have none and ignore it. */
    h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
    curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, h);
    if (decode)
        curl_easy_setopt(g_curl, CURLOPT_ACCEPT_ENCODING, "gzip");
    double t0 = now_s();
    CURLcode rc = curl_easy_perform(g_curl);
    r.secs = now_s() - t0;
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "note: GET %s: %s\n", url, curl_easy_strerror(rc));
        r.status = -1;
    } else {
        curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &r.status);
    }
    if (!r.body)
        r.body = calloc(1, 1);
    if (!r.hdrs)
        r.hdrs = calloc(1, 1);
    return r;
}

static char *header(const char *hdrs, const char *name) {
    size_t n = strlen(name);
    for (const char *line = hdrs; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1, *e = line + len;
            while (v < e && *v == ' ')
                v++;
            return strndup(v, (size_t)(e - v));
        }
        line = eol ? eol + 2 : NULL;
    }
    return NULL;
}

/* GET a JSON document (200) and parse it; NULL and a failure otherwise. Checks the fleet
 * contract on the way: a fleet document answers within ANSWER_LIMIT_S. */
static double g_max_fleet_secs;
static json_t *get_json(const struct daemon *d, const char *path) {
    char *url = xasprintf("%s%s", d->base, path);
    struct resp r = http_get(url, NULL, false);
    free(url);
    json_t *v = NULL;
    if (strstr(path, "/api/v1/fleet/")) {
        if (r.secs > g_max_fleet_secs)
            g_max_fleet_secs = r.secs;
        EXPECT(r.secs < ANSWER_LIMIT_S, "GET %s took %.3f s (limit %.1f s)", path, r.secs,
               ANSWER_LIMIT_S);
    }
    if (r.status != 200) {
        FAIL("GET %s%s: status %ld: %.300s", d->base, path, r.status, r.body);
    } else {
        json_error_t e;
        v = json_loadb(r.body, r.len, 0, &e);
        EXPECT(v, "GET %s: not JSON: %s", path, e.text);
    }
    resp_free(&r);
    return v;
}

static long get_status(const struct daemon *d, const char *path, char **ret_body) {
    char *url = xasprintf("%s%s", d->base, path);
    struct resp r = http_get(url, NULL, false);
    free(url);
    long st = r.status;
    if (ret_body)
        *ret_body = strdup(r.body);
    resp_free(&r);
    return st;
}

static const char *jstr(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_int_t jint(const json_t *o, const char *key) {
    return json_integer_value(json_object_get(o, key));
}

/* --- test peers ---------------------------------------------------------------------------- */

enum tmode {
    T_HANG,
    T_GARBAGE,
    T_HTML,
    T_WRONG,
    T_DEEP,
    T_HUGE,
    T_CHUNKED,
    T_REDIRECT,
    T_ETAG,
    T_EVIL
};

struct doc {
    char path[128];
    char *body;  /* version 1 */
    char *body2; /* version 2 (etag peer) */
};

struct tserver {
    const char *name;
    enum tmode mode;
    int lfd, port;
    char node[64], url[96];
    pthread_t thread;
    int stop;
    /* statistics (atomic) */
    long connections, requests, conditional, not_modified, gzip_offered, token_ok, token_bad,
        chunked_answers;
    long long chunked_sent_max; /* bytes of the largest chunked answer before the peer left */
    int version;                /* T_ETAG: 1 or 2 */
    struct doc *docs;           /* T_ETAG, T_EVIL */
    size_t ndocs;
    const char *redirect_to; /* T_REDIRECT */
};

static bool send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool respond(int fd, int status, const char *type, const char *extra, const char *body,
                    size_t len, bool keep) {
    char *h =
        xasprintf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
                  status == 200   ? "OK"
                  : status == 304 ? "Not Modified"
                                  : "Other",
                  type, len, extra ? extra : "", keep ? "" : "Connection: close\r\n");
    bool ok = send_all(fd, h, strlen(h)) && (len == 0 || send_all(fd, body, len));
    free(h);
    return ok;
}

static const char *node_body(void) {
    return "{\"snapshot\":{\"seq\":1,\"collected_at\":\"2026-11-24T18:00:00.123Z\"},"
           "\"hostname\":\"t\"}";
}

/* Answer one request; false: close the connection. */
static bool serve(struct tserver *t, int fd, const char *req) {
    char path[1024] = "";
    (void)sscanf(req, "GET %1023s HTTP/1.1", path);
    __atomic_add_fetch(&t->requests, 1, __ATOMIC_RELAXED);
    char *inm = header(strstr(req, "\r\n") ? strstr(req, "\r\n") + 2 : "", "If-None-Match");
    char *ae = header(strstr(req, "\r\n") + 2, "Accept-Encoding");
    char *auth = header(strstr(req, "\r\n") + 2, "Authorization");
    if (ae && strstr(ae, "gzip"))
        __atomic_add_fetch(&t->gzip_offered, 1, __ATOMIC_RELAXED);
    if (auth && strcmp(auth, "Bearer " TOKEN) == 0)
        __atomic_add_fetch(&t->token_ok, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&t->token_bad, 1, __ATOMIC_RELAXED);
    bool keep = true;
    switch (t->mode) {
    case T_HANG:
        break; /* never answer; the aggregator gives up */
    case T_GARBAGE: {
        static const char junk[] = "\x7f\x45\x4c\x46 {{{ not json ]]]\xff\xfe";
        keep = respond(fd, 200, "application/json", NULL, junk, sizeof(junk) - 1, true);
        break;
    }
    case T_HTML: {
        const char *b = "<html><body>502 Bad Gateway</body></html>";
        keep = respond(fd, 200, "text/html", NULL, b, strlen(b), true);
        break;
    }
    case T_WRONG: {
        const char *b = "{\"snapshot\":{\"seq\":\"1\",\"collected_at\":\"2026-11-24T18:00:00Z\"}}";
        keep = respond(fd, 200, "application/json", NULL, b, strlen(b), true);
        break;
    }
    case T_DEEP: {
        size_t depth = 200000;
        char *b = malloc(2 * depth);
        memset(b, '[', depth);
        memset(b + depth, ']', depth);
        keep = respond(fd, 200, "application/json", NULL, b, 2 * depth, true);
        free(b);
        break;
    }
    case T_HUGE: {
        char *b;
        if (strncmp(path, "/api/v1/processes", 17) == 0)
            b = strdup("{\"snapshot\":{\"seq\":1,\"collected_at\":\"2026-11-24T18:00:00.123Z\"},"
                       "\"total\":123456789012345678901234567890,\"processes\":[]}");
        else
            b = strdup(node_body());
        keep = respond(fd, 200, "application/json", NULL, b, strlen(b), true);
        free(b);
        break;
    }
    case T_CHUNKED: {
        const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        long long sent = 0;
        __atomic_add_fetch(&t->chunked_answers, 1, __ATOMIC_RELAXED);
        if (send_all(fd, h, strlen(h))) {
            /* 64 KiB chunks of "aaa...", the first starting as JSON: {"x":"aaa... */
            static char chunk[7 + 65536 + 2], first[7 + 65536 + 2];
            memcpy(chunk, "10000\r\n", 7);
            memset(chunk + 7, 'a', 65536);
            memcpy(chunk + 7 + 65536, "\r\n", 2);
            memcpy(first, chunk, sizeof(chunk));
            memcpy(first + 7, "{\"x\":\"", 6);
            while ((unsigned long long)sent < CHUNKED_TOTAL &&
                   send_all(fd, sent ? chunk : first, sizeof(chunk)))
                sent += 65536;
            if ((unsigned long long)sent >= CHUNKED_TOTAL)
                (void)send_all(fd, "0\r\n\r\n", 5);
        }
        long long old = __atomic_load_n(&t->chunked_sent_max, __ATOMIC_RELAXED);
        if (sent > old)
            __atomic_store_n(&t->chunked_sent_max, sent, __ATOMIC_RELAXED);
        keep = false;
        break;
    }
    case T_REDIRECT: {
        char *loc = xasprintf("Location: %s%s\r\n", t->redirect_to, path);
        keep = respond(fd, 302, "text/plain", loc, "moved", 5, true);
        free(loc);
        break;
    }
    case T_ETAG:
    case T_EVIL: {
        const struct doc *d = NULL;
        for (size_t i = 0; i < t->ndocs; i++)
            if (strcmp(t->docs[i].path, path) == 0)
                d = &t->docs[i];
        if (!d) {
            keep = respond(fd, 404, "application/json", NULL, "{}", 2, true);
            break;
        }
        int ver = __atomic_load_n(&t->version, __ATOMIC_RELAXED);
        const char *body = ver == 2 && d->body2 ? d->body2 : d->body;
        char etag[64], *hdr;
        (void)snprintf(etag, sizeof(etag), "\"%s-%d-%zu\"", t->name, ver, (size_t)(d - t->docs));
        if (inm)
            __atomic_add_fetch(&t->conditional, 1, __ATOMIC_RELAXED);
        hdr = xasprintf("ETag: %s\r\n", etag);
        if (t->mode == T_ETAG && inm && strcmp(inm, etag) == 0) {
            __atomic_add_fetch(&t->not_modified, 1, __ATOMIC_RELAXED);
            keep = respond(fd, 304, "application/json", hdr, "", 0, true);
        } else {
            keep =
                respond(fd, 200, "application/json; charset=utf-8", hdr, body, strlen(body), true);
        }
        free(hdr);
        break;
    }
    }
    free(inm);
    free(ae);
    free(auth);
    return keep;
}

#define CONNS_MAX 64

static void *tserver_loop(void *arg) {
    struct tserver *t = arg;
    struct pollfd pfd[CONNS_MAX + 1];
    char *buf[CONNS_MAX + 1] = {0};
    size_t len[CONNS_MAX + 1] = {0};
    size_t n = 1;
    pfd[0] = (struct pollfd){.fd = t->lfd, .events = POLLIN};
    while (!__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) {
        if (poll(pfd, n, 100) <= 0)
            continue;
        if ((pfd[0].revents & POLLIN) && n < CONNS_MAX + 1) {
            int c = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                struct timeval tv = {5, 0};
                setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
                __atomic_add_fetch(&t->connections, 1, __ATOMIC_RELAXED);
                pfd[n] = (struct pollfd){.fd = c, .events = POLLIN};
                buf[n] = malloc(65536);
                len[n] = 0;
                n++;
            }
        }
        for (size_t i = 1; i < n; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            bool close_it = false;
            ssize_t r = recv(pfd[i].fd, buf[i] + len[i], 65535 - len[i], 0);
            if (r <= 0) {
                close_it = true;
            } else {
                len[i] += (size_t)r;
                buf[i][len[i]] = 0;
                char *end;
                while (!close_it && (end = strstr(buf[i], "\r\n\r\n"))) {
                    size_t used = (size_t)(end - buf[i]) + 4;
                    char save = buf[i][used];
                    buf[i][used] = 0;
                    close_it = !serve(t, pfd[i].fd, buf[i]);
                    buf[i][used] = save;
                    memmove(buf[i], buf[i] + used, len[i] - used + 1);
                    len[i] -= used;
                }
                if (len[i] >= 65535)
                    close_it = true;
            }
            if (close_it) {
                close(pfd[i].fd);
                free(buf[i]);
                pfd[i] = pfd[n - 1];
                buf[i] = buf[n - 1];
                len[i] = len[n - 1];
                n--;
                i--;
            }
        }
    }
    for (size_t i = 1; i < n; i++) {
        close(pfd[i].fd);
        free(buf[i]);
    }
    return NULL;
}

static int listen_loopback(int *ret_port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &sl) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *ret_port = ntohs(a.sin_port);
    return fd;
}

static bool tserver_start(struct tserver *t, const char *name, enum tmode mode) {
    t->name = name;
    t->mode = mode;
    t->lfd = listen_loopback(&t->port);
    if (t->lfd < 0) {
        FAIL("%s: cannot listen: %s", name, strerror(errno));
        return false;
    }
    (void)snprintf(t->node, sizeof(t->node), "127.0.0.1:%d", t->port);
    (void)snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d", t->port);
    if (pthread_create(&t->thread, NULL, tserver_loop, t) != 0) {
        close(t->lfd);
        t->lfd = -1;
        return false;
    }
    return true;
}

static void tserver_stop(struct tserver *t) {
    if (t->lfd < 0 || !t->name)
        return;
    __atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
    pthread_join(t->thread, NULL);
    close(t->lfd);
    t->lfd = -1;
}

/* Until /readyz answers 200: the first snapshot exists (bounded; slow in sanitizer builds). */
static bool wait_ready(const struct daemon *d) {
    for (double deadline = now_s() + 60; now_s() < deadline; sleep_ms(20))
        if (get_status(d, "/readyz", NULL) == 200)
            return true;
    FAIL("%s: not ready within 60 s", d->name);
    return false;
}

/* --- the peers' own documents (the oracle) --------------------------------------------------- */

/* The eight documents of a real peer, at the paths the aggregator asks for. */
static struct doc *fetch_docs(const struct daemon *d, size_t *ret_n) {
    struct doc *docs = calloc(_FLEET_DOC_MAX, sizeof(*docs));
    for (int k = 0; k < _FLEET_DOC_MAX; k++) {
        (void)fleet_doc_path(k, PROCS_LIMIT, docs[k].path, sizeof(docs[k].path));
        char *url = xasprintf("%s%s", d->base, docs[k].path);
        struct resp r = http_get(url, NULL, false);
        free(url);
        EXPECT(r.status == 200, "%s %s: %ld", d->name, docs[k].path, r.status);
        docs[k].body = strdup(r.body);
        resp_free(&r);
    }
    *ret_n = _FLEET_DOC_MAX;
    return docs;
}

static void free_docs(struct doc *docs, size_t n) {
    for (size_t i = 0; docs && i < n; i++) {
        free(docs[i].body);
        free(docs[i].body2);
    }
    free(docs);
}

static const char *EVIL_COMM = "\",\"node\":\"evil\",\"x\":\"\\\u2028</script>";

/* A's documents made evil (valid all the same): strings that try to break out. */
static struct doc *evil_docs(const struct doc *a, size_t n) {
    struct doc *docs = calloc(n, sizeof(*docs));
    for (size_t i = 0; i < n; i++) {
        docs[i] = a[i];
        docs[i].body = strdup(a[i].body);
        docs[i].body2 = NULL;
        if (i != FLEET_DOC_PROCESSES)
            continue;
        json_t *doc = json_loads(a[i].body, 0, NULL);
        json_t *p0 = json_array_get(json_object_get(doc, "processes"), 0);
        char *cg = malloc(60 * 1024 + 1);
        memset(cg, 'g', 60 * 1024);
        cg[0] = '/';
        cg[60 * 1024] = 0;
        json_object_set_new(p0, "comm", json_string(EVIL_COMM));
        json_object_set_new(p0, "cgroup", json_string(cg));
        json_object_set_new(p0, "cmdline", json_string("a\tb\nc\\x00\"quoted\" \xc3\xa9"));
        json_object_set_new(p0, "brand_new_member", json_pack("{s:[i]}", "x", 1));
        free(cg);
        free(docs[i].body);
        docs[i].body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
    }
    return docs;
}

/* --- checks ---------------------------------------------------------------------------------- */

struct peer_expect {
    const char *node, *url;
    bool up;
    const char *error;      /* substring of the error when down */
    const struct doc *docs; /* when up: its documents, for the oracle */
};

static const json_t *find_node(const json_t *nodes, const char *node) {
    size_t i;
    const json_t *n;
    json_array_foreach(nodes, i,
                       n) if (jstr(n, "node") && strcmp(jstr(n, "node"), node) == 0) return n;
    return NULL;
}

static void check_nodes(const struct daemon *agg, const struct peer_expect *pe, size_t npe) {
    json_t *doc = get_json(agg, "/api/v1/fleet/nodes");
    if (!doc)
        return;
    const json_t *nodes = json_object_get(doc, "nodes");
    EXPECT(json_array_size(nodes) == npe, "nodes: %zu peers, want %zu", json_array_size(nodes),
           npe);
    EXPECT(jint(json_object_get(doc, "snapshot"), "seq") >= 1, "nodes: snapshot.seq");
    for (size_t i = 0; i < npe; i++) {
        const json_t *n = find_node(nodes, pe[i].node);
        if (!n) {
            FAIL("nodes: %s missing", pe[i].node);
            continue;
        }
        EXPECT(jstr(n, "url") && strcmp(jstr(n, "url"), pe[i].url) == 0, "%s: url %s, want %s",
               pe[i].node, jstr(n, "url"), pe[i].url);
        bool up = json_is_true(json_object_get(n, "up"));
        EXPECT(up == pe[i].up, "%s: up %d, want %d (error: %s)", pe[i].node, up, pe[i].up,
               jstr(n, "error"));
        EXPECT(json_is_number(json_object_get(n, "latency_ms")), "%s: latency_ms", pe[i].node);
        if (pe[i].up) {
            EXPECT(json_is_null(json_object_get(n, "error")), "%s: error not null", pe[i].node);
            EXPECT(jstr(n, "last_success") && strlen(jstr(n, "last_success")) == 24,
                   "%s: last_success", pe[i].node);
            EXPECT(json_is_integer(json_object_get(n, "snapshot_age_ms")) &&
                       jint(n, "snapshot_age_ms") >= 0,
                   "%s: snapshot_age_ms", pe[i].node);
            EXPECT(jint(json_object_get(n, "snapshot"), "seq") >= 1, "%s: snapshot", pe[i].node);
            EXPECT(jstr(n, "hostname") != NULL, "%s: hostname", pe[i].node);
        } else {
            const char *e = jstr(n, "error");
            EXPECT(e && strcasestr(e, pe[i].error), "%s: error \"%s\", want \"%s\"", pe[i].node,
                   e ? e : "(null)", pe[i].error);
            EXPECT(json_is_null(json_object_get(n, "snapshot_age_ms")), "%s: age", pe[i].node);
        }
    }
    json_decref(doc);
}

/* The oracle of /api/v1/fleet/processes?limit=1000&kthreads=include: every process of every
 * up peer, with its node. */
struct oproc {
    const char *node;
    json_t *p; /* borrowed from docs[] */
};

static int cmp_oproc_rss(const void *x, const void *y) {
    const struct oproc *a = x, *b = y;
    const json_t *ra = json_object_get(json_object_get(a->p, "memory"), "vm_rss"),
                 *rb = json_object_get(json_object_get(b->p, "memory"), "vm_rss");
    bool pa = json_is_integer(ra), pb = json_is_integer(rb);
    if (pa != pb)
        return pa ? -1 : 1;
    if (pa && json_integer_value(ra) != json_integer_value(rb))
        return json_integer_value(ra) > json_integer_value(rb) ? -1 : 1;
    if (jint(a->p, "pid") != jint(b->p, "pid"))
        return jint(a->p, "pid") < jint(b->p, "pid") ? -1 : 1;
    return strcmp(a->node, b->node);
}

static void check_processes(const struct daemon *agg, const struct peer_expect *pe, size_t npe) {
    json_t *parsed[32];
    struct oproc o[4096];
    size_t n = 0, np = 0;
    for (size_t i = 0; i < npe; i++) {
        if (!pe[i].up)
            continue;
        parsed[np] = json_loads(pe[i].docs[FLEET_DOC_PROCESSES].body, 0, NULL);
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(parsed[np], "processes"), k, p) if (n < 4096) o[n++] =
            (struct oproc){pe[i].node, p};
        np++;
    }
    qsort(o, n, sizeof(*o), cmp_oproc_rss);

    /* Everything, kernel threads included: the same processes, in the same order, each the
     * peer's summary plus its node (times aside: C rescans). */
    json_t *doc = get_json(agg, "/api/v1/fleet/processes?limit=10000&kthreads=include");
    if (doc) {
        const json_t *list = json_object_get(doc, "processes");
        EXPECT((size_t)jint(doc, "total") == n, "processes: total %lld, want %zu",
               (long long)jint(doc, "total"), n);
        EXPECT(json_array_size(list) == n, "processes: %zu entries, want %zu",
               json_array_size(list), n);
        for (size_t i = 0; i < n && i < json_array_size(list); i++) {
            const json_t *got = json_array_get(list, i);
            EXPECT(jstr(got, "node") && strcmp(jstr(got, "node"), o[i].node) == 0 &&
                       jint(got, "pid") == jint(o[i].p, "pid"),
                   "processes[%zu]: %s pid %lld, want %s pid %lld", i, jstr(got, "node"),
                   (long long)jint(got, "pid"), o[i].node, (long long)jint(o[i].p, "pid"));
            json_t *copy = json_deep_copy(got), *want = json_deep_copy(o[i].p);
            json_object_del(copy, "node");
            json_object_del(want, "brand_new_member"); /* unknown members are not passed on */
            if (strcmp(o[i].node, pe[2].node) != 0) {  /* C rescans: its times move */
                EXPECT(json_equal(copy, want),
                       "processes[%zu] (%s pid %lld) differs from the "
                       "peer's summary",
                       i, o[i].node, (long long)jint(o[i].p, "pid"));
            } else {
                EXPECT(
                    json_equal(json_object_get(copy, "memory"), json_object_get(want, "memory")) &&
                        json_equal(json_object_get(copy, "comm"), json_object_get(want, "comm")),
                    "processes[%zu] (C) differs", i);
            }
            json_decref(copy);
            json_decref(want);
        }
        json_decref(doc);
    }

    /* Defaults: kernel threads out, the top 100 by RSS. */
    doc = get_json(agg, "/api/v1/fleet/processes");
    if (doc) {
        size_t users = 0;
        for (size_t i = 0; i < n; i++)
            users += !json_is_true(json_object_get(o[i].p, "kthread"));
        EXPECT((size_t)jint(doc, "total") == users, "default total %lld, want %zu",
               (long long)jint(doc, "total"), users);
        const json_t *first = json_array_get(json_object_get(doc, "processes"), 0);
        EXPECT(first && jint(first, "pid") == jint(o[0].p, "pid"), "default order");
        EXPECT(json_array_size(json_object_get(doc, "nodes")) >= npe, "processes: nodes");
        json_decref(doc);
    }
    /* Filters and paging, each against the oracle. */
    char *q = xasprintf("/api/v1/fleet/processes?node=%s&kthreads=include", pe[1].node);
    doc = get_json(agg, q);
    free(q);
    if (doc) {
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += strcmp(o[i].node, pe[1].node) == 0;
        EXPECT((size_t)jint(doc, "total") == want, "node filter: %lld, want %zu",
               (long long)jint(doc, "total"), want);
        json_decref(doc);
    }
    doc = get_json(agg, "/api/v1/fleet/processes?kthreads=only");
    if (doc) {
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += json_is_true(json_object_get(o[i].p, "kthread"));
        EXPECT((size_t)jint(doc, "total") == want && want > 0, "kthreads=only: %lld, want %zu",
               (long long)jint(doc, "total"), want);
        json_decref(doc);
    }
    doc = get_json(agg, "/api/v1/fleet/processes?sort=pid&order=asc&limit=3&offset=2");
    if (doc) {
        const json_t *list = json_object_get(doc, "processes");
        EXPECT(json_array_size(list) == 3, "paging: %zu", json_array_size(list));
        for (size_t i = 1; i < json_array_size(list); i++)
            EXPECT(jint(json_array_get(list, i - 1), "pid") <= jint(json_array_get(list, i), "pid"),
                   "sort=pid asc");
        json_decref(doc);
    }
    doc = get_json(agg, "/api/v1/fleet/processes?comm=bash");
    if (doc) {
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += jstr(o[i].p, "comm") && strcmp(jstr(o[i].p, "comm"), "bash") == 0;
        EXPECT((size_t)jint(doc, "total") == want && want > 0, "comm=bash: %lld, want %zu",
               (long long)jint(doc, "total"), want);
        json_decref(doc);
    }
    /* The evil peer's strings are data, intact, and its node is its node. */
    doc = get_json(agg, "/api/v1/fleet/processes?limit=10000&kthreads=include&sort=comm");
    if (doc) {
        size_t i, hits = 0;
        json_t *p;
        json_array_foreach(json_object_get(doc, "processes"), i, p) {
            if (jstr(p, "comm") && strcmp(jstr(p, "comm"), EVIL_COMM) == 0) {
                hits++;
                EXPECT(strcmp(jstr(p, "node"), "evil") != 0 && strstr(jstr(p, "node"), "127.0.0.1"),
                       "evil: node %s", jstr(p, "node"));
                EXPECT(strlen(jstr(p, "cgroup")) == 60 * 1024, "evil: cgroup kept");
                EXPECT(!json_object_get(p, "brand_new_member"), "evil: unknown member passed on");
            }
        }
        EXPECT(hits == 1, "evil comm: %zu hits", hits);
        json_decref(doc);
    }
    for (size_t i = 0; i < np; i++)
        json_decref(parsed[i]);

    /* Bad parameters are 400, as on /api/v1/processes. */
    static const char *const bad[] = {"limit=0", "sort=bogus", "kthreads=maybe",
                                      "nope=1",  "offset=-1",  "order=sideways"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *path = xasprintf("/api/v1/fleet/processes?%s", bad[i]), *body = NULL;
        long st = get_status(agg, path, &body);
        EXPECT(st == 400 && strstr(body, "\"status\":400"), "%s: %ld %s", path, st, body);
        free(body);
        free(path);
    }
}

/* hiwater: sums, maxima with their node, per_node, and the fleet-wide peak. */
static void check_hiwater(const struct daemon *agg, const struct peer_expect *pe, size_t npe,
                          const char *by) {
    char *path = xasprintf("/api/v1/fleet/hiwater?group_by=%s", by);
    json_t *doc = get_json(agg, path);
    free(path);
    if (!doc)
        return;
    EXPECT(jstr(doc, "group_by") && strcmp(jstr(doc, "group_by"), by) == 0, "group_by");
    int kind = FLEET_DOC_HIWATER;
    static const char *const names[] = {"comm", "unit", "cgroup", "user", "none"};
    for (int k = 0; k < 5; k++)
        if (strcmp(names[k], by) == 0)
            kind += k;
    const json_t *groups = json_object_get(doc, "groups");
    size_t gi;
    const json_t *g;
    size_t checked = 0;
    json_array_foreach(groups, gi, g) {
        const json_t *key = json_object_get(g, "key");
        json_int_t processes = 0, rss = 0, hwm_sum = 0, hwm_max = -1;
        size_t shares = 0;
        const char *hwm_node = NULL;
        for (size_t i = 0; i < npe; i++) {
            if (!pe[i].up)
                continue;
            json_t *pd = json_loads(pe[i].docs[kind].body, 0, NULL);
            size_t k;
            const json_t *pg;
            json_array_foreach(json_object_get(pd, "groups"), k, pg) {
                if (!json_equal(json_object_get(pg, "key"), key))
                    continue;
                processes += jint(pg, "processes");
                rss += jint(pg, "rss");
                hwm_sum += jint(pg, "vm_hwm_sum");
                if (jint(pg, "vm_hwm_max") > hwm_max) {
                    hwm_max = jint(pg, "vm_hwm_max");
                    hwm_node = pe[i].node;
                }
                shares++;
            }
            json_decref(pd);
        }
        EXPECT(jint(g, "processes") == processes && jint(g, "rss") == rss &&
                   jint(g, "vm_hwm_sum") == hwm_sum && jint(g, "vm_hwm_max") == hwm_max,
               "hiwater %s group %zu: sums/max differ", by, gi);
        EXPECT(hwm_node && jstr(g, "vm_hwm_max_node") &&
                   strcmp(jstr(g, "vm_hwm_max_node"), hwm_node) == 0,
               "hiwater %s group %zu: vm_hwm_max_node %s, want %s", by, gi,
               jstr(g, "vm_hwm_max_node"), hwm_node);
        EXPECT(json_array_size(json_object_get(g, "per_node")) == shares,
               "hiwater %s group %zu: %zu per_node, want %zu", by, gi,
               json_array_size(json_object_get(g, "per_node")), shares);
        /* The peers' figures do not change here: the fleet-wide peak is today's sum. */
        EXPECT(jint(g, "observed_rss_peak") == rss, "hiwater %s group %zu: peak %lld, rss %lld", by,
               gi, (long long)jint(g, "observed_rss_peak"), (long long)rss);
        EXPECT(jstr(g, "observed_rss_peak_at") != NULL, "observed_rss_peak_at");
        checked++;
    }
    EXPECT(checked > 0, "hiwater %s: no groups", by);
    json_decref(doc);
}

static void check_hugepages(const struct daemon *agg, const struct peer_expect *pe, size_t npe) {
    json_t *doc = get_json(agg, "/api/v1/fleet/hugepages");
    if (!doc)
        return;
    size_t up = 0;
    json_int_t total = 0, freep = 0;
    for (size_t i = 0; i < npe; i++) {
        if (!pe[i].up)
            continue;
        up++;
        json_t *pd = json_loads(pe[i].docs[FLEET_DOC_HUGEPAGES].body, 0, NULL);
        size_t k;
        const json_t *p;
        json_array_foreach(json_object_get(pd, "pools"), k, p) {
            if (json_is_null(json_object_get(p, "numa_node")) && jint(p, "size_bytes") == 2097152) {
                total += jint(p, "total");
                freep += jint(p, "free");
            }
        }
        json_decref(pd);
        EXPECT(find_node(json_object_get(doc, "per_node"), pe[i].node), "hugepages: %s missing",
               pe[i].node);
    }
    EXPECT(json_array_size(json_object_get(doc, "per_node")) == up, "hugepages per_node");
    const json_t *pools = json_object_get(json_object_get(doc, "totals"), "pools");
    size_t i;
    const json_t *p;
    bool found = false;
    json_array_foreach(pools, i, p) if (jint(p, "size_bytes") == 2097152) {
        found = true;
        EXPECT(jint(p, "total") == total && jint(p, "free") == freep,
               "hugepages totals: %lld/%lld, want %lld/%lld", (long long)jint(p, "total"),
               (long long)jint(p, "free"), (long long)total, (long long)freep);
    }
    EXPECT(found, "hugepages: no 2 MiB total");
    EXPECT(json_is_object(json_object_get(json_object_get(doc, "totals"), "thp")), "totals.thp");
    json_decref(doc);
}

static void check_targets(const struct daemon *agg, const struct peer_expect *pe, size_t npe) {
    json_t *doc = get_json(agg, "/api/v1/fleet/targets");
    if (!doc)
        return;
    EXPECT(json_is_array(doc) && json_array_size(doc) == npe, "targets: %zu, want %zu",
           json_array_size(doc), npe);
    for (size_t i = 0; i < npe; i++) {
        bool found = false;
        size_t k;
        const json_t *t;
        json_array_foreach(doc, k, t) {
            const json_t *tl = json_object_get(t, "targets");
            if (json_array_size(tl) == 1 &&
                strcmp(json_string_value(json_array_get(tl, 0)), pe[i].node) == 0) {
                found = true;
                EXPECT(jstr(json_object_get(t, "labels"), "vmatlas_node") &&
                           strcmp(jstr(json_object_get(t, "labels"), "vmatlas_node"), pe[i].node) ==
                               0,
                       "targets: label of %s", pe[i].node);
            }
        }
        EXPECT(found, "targets: %s missing", pe[i].node);
    }
    json_decref(doc);
}

static void check_metrics(const struct daemon *agg, const struct peer_expect *pe, size_t npe) {
    char *url = xasprintf("%s/metrics", agg->base);
    struct resp r = http_get(url, NULL, false);
    free(url);
    EXPECT(r.status == 200, "/metrics: %ld", r.status);
    for (size_t i = 0; i < npe; i++) {
        char *line = xasprintf("vmatlas_peer_up{node=\"%s\"} %d\n", pe[i].node, pe[i].up);
        EXPECT(strstr(r.body, line), "/metrics lacks %s", line);
        free(line);
        line = xasprintf("vmatlas_peer_scrape_duration_seconds{node=\"%s\"} ", pe[i].node);
        EXPECT(strstr(r.body, line), "/metrics lacks %s", line);
        free(line);
    }
    EXPECT(strstr(r.body, "# TYPE vmatlas_peer_up gauge\n"), "peer_up TYPE");
    EXPECT(strstr(r.body, "vmatlas_processes "), "node families still there");
    /* promtool finds nothing to say (when it is installed). */
    if (access("/usr/bin/promtool", X_OK) == 0) {
        char *path = xasprintf("%s/metrics.txt", g_tmp);
        FILE *f = fopen(path, "w");
        fwrite(r.body, 1, r.len, f);
        fclose(f);
        char *cmd =
            xasprintf("/usr/bin/promtool check metrics < %s > %s/promtool.out 2>&1", path, g_tmp);
        int st = system(cmd);
        char *out = xasprintf("%s/promtool.out", g_tmp);
        char *text = slurp(out, NULL);
        EXPECT(st == 0 && text && !*text, "promtool check metrics: %d: %s", st, text);
        free(text);
        free(out);
        free(cmd);
        free(path);
    }
    resp_free(&r);
}

/* ETag, 304 and gzip on the fleet documents themselves. */
static void check_caching(const struct daemon *agg) {
    char *url = xasprintf("%s/api/v1/fleet/hiwater?group_by=comm", agg->base);
    struct resp a = http_get(url, NULL, false);
    char *etag = header(a.hdrs, "ETag");
    EXPECT(a.status == 200 && etag, "fleet hiwater: ETag");
    if (etag) {
        char *inm = xasprintf("If-None-Match: %s", etag);
        const char *hs[] = {inm, NULL};
        struct resp b = http_get(url, hs, false);
        /* A new merge may have come in between: then 200 with a new ETag. */
        char *etag2 = header(b.hdrs, "ETag");
        EXPECT(b.status == 304 || (b.status == 200 && etag2 && strcmp(etag, etag2) != 0),
               "If-None-Match: %ld", b.status);
        free(etag2);
        resp_free(&b);
        free(inm);
    }
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    struct resp c = http_get(url, gz, false);
    char *ce = header(c.hdrs, "Content-Encoding");
    EXPECT(c.status == 200 && ce && strcmp(ce, "gzip") == 0, "fleet hiwater: gzip");
    free(ce);
    resp_free(&c);
    free(etag);
    resp_free(&a);
    free(url);
}

static long vm_hwm_kb(pid_t pid) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    char *s = slurp(path, NULL);
    const char *p = s ? strstr(s, "VmHWM:") : NULL;
    long kb = p ? strtol(p + 6, NULL, 10) : -1;
    free(s);
    return kb;
}

/* Wait until the aggregator's nodes document satisfies pred (bounded); returns it or NULL. */
static json_t *wait_nodes(const struct daemon *agg, double secs,
                          bool (*pred)(const json_t *nodes, const void *arg), const void *arg) {
    double deadline = now_s() + secs;
    while (now_s() < deadline) {
        json_t *doc = get_json(agg, "/api/v1/fleet/nodes");
        if (doc && pred(json_object_get(doc, "nodes"), arg))
            return doc;
        json_decref(doc);
        sleep_ms(50);
    }
    return NULL;
}

static bool pred_up(const json_t *nodes, const void *arg) {
    const char *const *want = arg;
    for (size_t i = 0; want[i]; i++) {
        const json_t *n = find_node(nodes, want[i]);
        if (!n || !json_is_true(json_object_get(n, "up")))
            return false;
    }
    return true;
}

static bool pred_absent(const json_t *nodes, const void *arg) {
    return find_node(nodes, arg) == NULL;
}

/* --- scenarios ------------------------------------------------------------------------------- */

static void config_errors(void) {
    static const struct {
        const char *args[6];
        const char *msg;
    } cases[] = {
        {{"--peers", "ftp://x:1", "--check-config"}, "only http"},
        {{"--peers", "http://a:1,http://A:1/x", "--check-config"}, "twice"},
        {{"--peers", "http://u:p@a:1", "--check-config"}, "credentials"},
        {{"--peer-timeout", "0", "--check-config"}, "--peer-timeout"},
        {{"--peer-timeout", "301", "--check-config"}, "--peer-timeout"},
        {{"--peers-file", "/nonexistent/peers", "--check-config"}, "/nonexistent/peers"},
        {{"--peers", "http://a:1", "--peer-ca-file", "/nonexistent/ca", "--check-config"},
         "--peer-ca-file"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *err = NULL;
        int st = run_status(cases[i].args, &err);
        EXPECT(st == 2 && err && strstr(err, cases[i].msg), "%s %s: status %d, stderr %s",
               cases[i].args[0], cases[i].args[1], st, err ? err : "");
        free(err);
    }
    /* A token with a space (it would go into a header) is refused; a good one passes. */
    char *bad = xasprintf("%s/bad.token", g_tmp), *good = xasprintf("%s/good.token", g_tmp);
    write_file(bad, "two words\n");
    write_file(good, TOKEN "\n");
    const char *a1[] = {"--auth-token-file", bad, "--check-config", NULL};
    char *err = NULL;
    int st = run_status(a1, &err);
    EXPECT(st == 2 && err && strstr(err, "auth-token-file: the token in"), "bad token: %d %s", st,
           err);
    free(err);
    const char *a2[] = {"--auth-token-file", good, "--peers", "http://a:1,https://[::1]:2/p",
                        "--check-config",    NULL};
    st = run_status(a2, &err);
    EXPECT(st == 0, "good fleet config: %d %s", st, err);
    free(err);
    free(bad);
    free(good);
}

int main(int argc, char **argv) {
    g_daemon = argc > 1 ? argv[1] : getenv("VMATLASD");
    g_fixtures = argc > 2 ? argv[2] : getenv("VMATLAS_FIXTURES");
    if (!g_daemon || !g_fixtures) {
        fprintf(stderr, "usage: %s VMATLASD FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    (void)snprintf(g_tmp, sizeof(g_tmp), "%s/vmatlas-fleet-XXXXXX",
                   getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_tmp))
        return 1;
    /* As /etc/vmatlas: the peers file is read by the aggregator's unprivileged server process
     * (privilege separation when the test runs as root). */
    if (chmod(g_tmp, 0755) < 0)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_curl = curl_easy_init();

    config_errors();

    char *hostile_proc = xasprintf("%s/hostile/proc", g_fixtures),
         *hostile_sys = xasprintf("%s/hostile/sys", g_fixtures),
         *basic_proc = xasprintf("%s/basic/proc", g_fixtures),
         *basic_sys = xasprintf("%s/basic/sys", g_fixtures);
    struct daemon A = {0}, B = {0}, C = {0}, D = {0}, agg = {0};
    const char *aa[] = {"--procfs-root", hostile_proc, "--sysfs-root", hostile_sys, "--listen",
                        "127.0.0.1:0",   "--interval", "3600",         NULL};
    const char *ba[] = {"--procfs-root", basic_proc,   "--sysfs-root", basic_sys, "--listen",
                        "127.0.0.1:0",   "--interval", "3600",         NULL};
    const char *ca[] = {"--procfs-root", basic_proc,   "--sysfs-root", basic_sys, "--listen",
                        "[::1]:0",       "--interval", "0.5",          NULL};
    struct tserver ts[12];
    memset(ts, 0, sizeof(ts));
    for (size_t i = 0; i < ARRAY_SIZE(ts); i++)
        ts[i].lfd = -1;
    struct doc *adocs = NULL, *bdocs = NULL, *cdocs = NULL, *edocs = NULL;
    size_t nd = 0;
    if (!daemon_start(&A, "A", aa) || !daemon_start(&B, "B", ba) || !daemon_start(&C, "C", ca) ||
        !wait_ready(&A) || !wait_ready(&B) || !wait_ready(&C))
        goto out;
    adocs = fetch_docs(&A, &nd);
    bdocs = fetch_docs(&B, &nd);
    cdocs = fetch_docs(&C, &nd);
    edocs = evil_docs(adocs, nd);

    /* A port nobody listens on. */
    int closed_port = 0, cfd = listen_loopback(&closed_port);
    close(cfd);
    struct tserver *hang = &ts[0], *garbage = &ts[1], *html = &ts[2], *wrong = &ts[3],
                   *deep = &ts[4], *huge = &ts[5], *chunked = &ts[6], *redirect = &ts[7],
                   *etag = &ts[8], *evil = &ts[9];
    redirect->redirect_to = A.base;
    etag->docs = calloc(nd, sizeof(*etag->docs));
    for (size_t i = 0; i < nd; i++) {
        etag->docs[i] = adocs[i];
        etag->docs[i].body = adocs[i].body;
        etag->docs[i].body2 = NULL;
    }
    etag->ndocs = nd;
    /* Version 2 of the etag peer: a process renamed. */
    json_t *v2 = json_loads(adocs[FLEET_DOC_PROCESSES].body, 0, NULL);
    json_object_set_new(json_array_get(json_object_get(v2, "processes"), 0), "comm",
                        json_string("renamed-in-v2"));
    etag->docs[FLEET_DOC_PROCESSES].body2 = json_dumps(v2, JSON_COMPACT);
    json_decref(v2);
    etag->version = 1;
    evil->docs = edocs;
    evil->ndocs = nd;
    if (!tserver_start(hang, "hang", T_HANG) || !tserver_start(garbage, "garbage", T_GARBAGE) ||
        !tserver_start(html, "html", T_HTML) || !tserver_start(wrong, "wrong", T_WRONG) ||
        !tserver_start(deep, "deep", T_DEEP) || !tserver_start(huge, "huge", T_HUGE) ||
        !tserver_start(chunked, "chunked", T_CHUNKED) ||
        !tserver_start(redirect, "redirect", T_REDIRECT) || !tserver_start(etag, "etag", T_ETAG) ||
        !tserver_start(evil, "evil", T_EVIL))
        goto out;

    /* The aggregator: static peers in its config file, two in a peers file. */
    char closed_url[64], closed_node[64];
    snprintf(closed_url, sizeof(closed_url), "http://127.0.0.1:%d", closed_port);
    snprintf(closed_node, sizeof(closed_node), "127.0.0.1:%d", closed_port);
    char *token = xasprintf("%s/token", g_tmp), *peers_file = xasprintf("%s/peers", g_tmp),
         *conf = xasprintf("%s/vmatlasd.conf", g_tmp);
    write_file(token, TOKEN "\n");
    char *ptext = xasprintf("# test peers\n%s/\n\n  %s   # evil\n", etag->url, evil->url);
    write_file(peers_file, ptext);
    free(ptext);
    /* The INI reader cuts lines at 200 bytes: one key per peer or two (the key repeats), and
     * an indented continuation line. */
    char *static_peers =
        xasprintf("peers = %s, %s\npeers = %s\n  %s\npeers = %s,%s\n"
                  "peers = %s,%s\npeers = %s,%s\npeers = %s,%s\n",
                  A.base, B.base, C.base, closed_url, hang->url, garbage->url, html->url,
                  wrong->url, deep->url, huge->url, chunked->url, redirect->url);
    char *ctext = xasprintf("[vmatlasd]\n%speers-file = %s\npeer-timeout = %.1f\n"
                            "auth-token-file = %s\n",
                            static_peers, peers_file, PEER_TIMEOUT_S, token);
    write_file(conf, ctext);
    free(ctext);
    const char *ga[] = {"--config", conf,       "--procfs-root", basic_proc,   "--sysfs-root",
                        basic_sys,  "--listen", "127.0.0.1:0",   "--interval", "1",
                        NULL};
    if (!daemon_start(&agg, "aggregator", ga))
        goto out2;
    double t_listening = now_s();

    /* From the first request on, fleet documents answer at once (partial, never late). */
    json_t *first = get_json(&agg, "/api/v1/fleet/nodes");
    EXPECT(first != NULL, "first fleet document");
    json_decref(first);

    const char *real_nodes[] = {A.node, B.node, C.node, etag->node, evil->node, NULL};
    json_t *full = wait_nodes(&agg, PEER_TIMEOUT_S + 0.5 + 3.0 + SLACK_S, pred_up, real_nodes);
    double t_full = now_s() - t_listening;
    EXPECT(full != NULL, "the real peers are not all up after %.1f s", t_full);
    EXPECT(t_full < PEER_TIMEOUT_S + 0.5 + SLACK_S,
           "first merge with the real peers up after %.3f s (limit %.1f s)", t_full,
           PEER_TIMEOUT_S + 0.5 + SLACK_S);
    printf("first merge with every real peer up: %.3f s after listening (hang peer: %.1f s "
           "timeout)\n",
           t_full, PEER_TIMEOUT_S);
    json_decref(full);

    /* Every down peer's error is what it did wrong. Some only show it after their first round
     * completes: wait for two more merges. */
    json_t *n0 = get_json(&agg, "/api/v1/fleet/nodes");
    json_int_t seq0 = n0 ? jint(json_object_get(n0, "snapshot"), "seq") : 0;
    json_decref(n0);
    for (double deadline = now_s() + 10 + SLACK_S; now_s() < deadline; sleep_ms(100)) {
        json_t *n1 = get_json(&agg, "/api/v1/fleet/nodes");
        json_int_t seq = n1 ? jint(json_object_get(n1, "snapshot"), "seq") : 0;
        json_decref(n1);
        if (seq >= seq0 + 2)
            break;
    }
    struct peer_expect pe[] = {
        {A.node, A.base, true, NULL, adocs},
        {B.node, B.base, true, NULL, bdocs},
        {C.node, C.base, true, NULL, cdocs},
        {etag->node, etag->url, true, NULL, adocs},
        {evil->node, evil->url, true, NULL, edocs},
        {closed_node, closed_url, false, "connect", NULL},
        {hang->node, hang->url, false, "timed out", NULL},
        {garbage->node, garbage->url, false, "invalid document: not JSON", NULL},
        {html->node, html->url, false, "not application/json", NULL},
        {wrong->node, wrong->url, false, "snapshot.seq: not an integer", NULL},
        {deep->node, deep->url, false, "nested deeper", NULL},
        {huge->node, huge->url, false, "integer", NULL},
        {chunked->node, chunked->url, false, "larger than 67108864 bytes", NULL},
        {redirect->node, redirect->url, false, "302 (redirects are not followed)", NULL},
    };
    size_t npe = ARRAY_SIZE(pe);
    check_nodes(&agg, pe, npe);
    check_processes(&agg, pe, npe);
    static const char *const bys[] = {"comm", "unit", "cgroup", "user", "none"};
    for (size_t i = 0; i < ARRAY_SIZE(bys); i++)
        check_hiwater(&agg, pe, npe, bys[i]);
    check_hugepages(&agg, pe, npe);
    check_targets(&agg, pe, npe);
    check_metrics(&agg, pe, npe);
    check_caching(&agg);
    {
        char *body = NULL;
        long st = get_status(&agg, "/api/v1/fleet/hiwater?group_by=pid", &body);
        EXPECT(st == 400, "group_by=pid: %ld", st);
        free(body);
        st = get_status(&agg, "/api/v1/fleet/nope", &body);
        EXPECT(st == 404, "/api/v1/fleet/nope: %ld", st);
        free(body);
        st = get_status(&A, "/api/v1/fleet/nodes", &body);
        EXPECT(st == 404 && strstr(body, "fleet mode is off"), "no fleet mode: %ld %s", st, body);
        free(body);
    }

    /* Every fleet document, over and over for 3 s while the hang peer holds rounds open. */
    static const char *const paths[] = {"/api/v1/fleet/nodes", "/api/v1/fleet/processes",
                                        "/api/v1/fleet/hiwater", "/api/v1/fleet/hugepages",
                                        "/api/v1/fleet/targets"};
    size_t nreq = 0;
    for (double end = now_s() + 3; now_s() < end; nreq++)
        json_decref(get_json(&agg, paths[nreq % ARRAY_SIZE(paths)]));
    printf("%zu fleet requests: slowest %.1f ms (limit %.0f ms)\n", nreq, g_max_fleet_secs * 1e3,
           ANSWER_LIMIT_S * 1e3);

    /* The etag peer: 304s, one connection, gzip offered, the token every time. */
    long req = __atomic_load_n(&etag->requests, __ATOMIC_RELAXED);
    long nm = __atomic_load_n(&etag->not_modified, __ATOMIC_RELAXED);
    long conns = __atomic_load_n(&etag->connections, __ATOMIC_RELAXED);
    printf("etag peer: %ld requests, %ld conditional, %ld answered 304, %ld connection(s)\n", req,
           __atomic_load_n(&etag->conditional, __ATOMIC_RELAXED), nm, conns);
    EXPECT(req >= 3 * _FLEET_DOC_MAX, "etag: only %ld requests", req);
    EXPECT(nm >= req - 2 * _FLEET_DOC_MAX, "etag: %ld of %ld answered 304", nm, req);
    EXPECT(conns == 1, "etag: %ld connections (keep-alive: want 1)", conns);
    EXPECT(__atomic_load_n(&etag->gzip_offered, __ATOMIC_RELAXED) == req, "etag: gzip not offered");
    EXPECT(__atomic_load_n(&etag->token_ok, __ATOMIC_RELAXED) == req &&
               __atomic_load_n(&etag->token_bad, __ATOMIC_RELAXED) == 0,
           "etag: bearer token on %ld of %ld requests",
           __atomic_load_n(&etag->token_ok, __ATOMIC_RELAXED), req);
    json_t *nodes = get_json(&agg, "/api/v1/fleet/nodes");
    const json_t *en = nodes ? find_node(json_object_get(nodes, "nodes"), etag->node) : NULL;
    EXPECT(en && jint(en, "not_modified") == _FLEET_DOC_MAX && jint(en, "bytes") == 0,
           "etag: not_modified %lld, bytes %lld", en ? (long long)jint(en, "not_modified") : -1,
           en ? (long long)jint(en, "bytes") : -1);
    const json_t *cn = nodes ? find_node(json_object_get(nodes, "nodes"), C.node) : NULL;
    EXPECT(cn && jint(cn, "bytes") > 0, "C rescans: its documents come whole");
    json_decref(nodes);
    /* A new version is fetched whole, and shows. */
    __atomic_store_n(&etag->version, 2, __ATOMIC_RELAXED);
    bool renamed = false;
    for (double deadline = now_s() + 3 * PEER_TIMEOUT_S + 2 + SLACK_S;
         now_s() < deadline && !renamed; sleep_ms(100)) {
        char *q = xasprintf("/api/v1/fleet/processes?comm=renamed-in-v2&node=%s", etag->node);
        json_t *doc = get_json(&agg, q);
        free(q);
        renamed = doc && jint(doc, "total") == 1;
        json_decref(doc);
    }
    EXPECT(renamed, "etag: version 2 never showed");

    /* The 100 MiB body was cut at the cap, and the aggregator never held it. */
    long long sent = __atomic_load_n(&chunked->chunked_sent_max, __ATOMIC_RELAXED);
    long hwm = vm_hwm_kb(agg.pid);
    printf("chunked peer: %ld answers, at most %.1f MiB sent of %llu MiB; aggregator VmHWM %.1f "
           "MiB\n",
           __atomic_load_n(&chunked->chunked_answers, __ATOMIC_RELAXED), (double)sent / 1048576.0,
           CHUNKED_TOTAL >> 20, (double)hwm / 1024.0);
    EXPECT(sent > 0 && (unsigned long long)sent < CHUNKED_TOTAL - (8ull << 20),
           "chunked: %lld bytes sent: not cut at the cap", sent);
    EXPECT(hwm > 0 && hwm < (long)((BODY_CAP >> 10) + (96 << 10) + (SLACK_S > 0 ? 512 << 10 : 0)),
           "aggregator VmHWM %ld kB", hwm);

    /* The peers file changes: a new peer D shows up; a broken file keeps the peers it has. */
    const char *da[] = {"--procfs-root", hostile_proc, "--sysfs-root", hostile_sys, "--listen",
                        "127.0.0.1:0",   "--interval", "3600",         NULL};
    if (daemon_start(&D, "D", da) && wait_ready(&D)) {
        ptext = xasprintf("%s\n%s\n%s\n", etag->url, evil->url, D.base);
        write_file(peers_file, ptext);
        free(ptext);
        const char *want[] = {D.node, etag->node, evil->node, NULL};
        json_t *doc = wait_nodes(&agg, 3 * PEER_TIMEOUT_S + 2 + SLACK_S, pred_up, want);
        EXPECT(doc != NULL, "peers file: the new peer D never came up");
        json_decref(doc);
        write_file(peers_file, "ftp://broken\n");
        sleep_ms((long)(2.5 * PEER_TIMEOUT_S * 1000));
        doc = get_json(&agg, "/api/v1/fleet/nodes");
        EXPECT(doc && find_node(json_object_get(doc, "nodes"), D.node),
               "peers file: a broken file dropped the peers");
        json_decref(doc);
        char *log = slurp(agg.log, NULL);
        EXPECT(log && strstr(log, "only http:// and https://") &&
                   strstr(log, "keeping the running peers"),
               "peers file: the broken file was not logged");
        free(log);
        write_file(peers_file, ptext = xasprintf("%s\n%s\n%s\n", etag->url, evil->url, D.base));
        free(ptext);
    }

    /* SIGHUP with the closed-port peer gone from the config file. */
    {
        char *without = xasprintf("peers = %s,%s\npeers = %s\npeers = %s,%s\n", A.base, B.base,
                                  C.base, hang->url, chunked->url);
        ctext = xasprintf("[vmatlasd]\n%speers-file = %s\npeer-timeout = %.1f\n"
                          "auth-token-file = %s\n",
                          without, peers_file, PEER_TIMEOUT_S, token);
        write_file(conf, ctext);
        free(ctext);
        free(without);
        kill(agg.pid, SIGHUP);
        json_t *doc = wait_nodes(&agg, 3 * PEER_TIMEOUT_S + 2 + SLACK_S, pred_absent, closed_node);
        EXPECT(doc != NULL, "SIGHUP: the removed peer is still listed");
        if (doc) {
            EXPECT(json_array_size(json_object_get(doc, "nodes")) == 8, "SIGHUP: %zu peers, want 8",
                   json_array_size(json_object_get(doc, "nodes")));
            EXPECT(find_node(json_object_get(doc, "nodes"), D.node),
                   "SIGHUP: lost the file's peers");
        }
        json_decref(doc);
    }

    /* Still alive, no sanitizer report, and SIGTERM is quick with a round in flight (the hang
     * peer is always in flight, the chunked one often). */
    EXPECT(get_status(&agg, "/healthz", NULL) == 200, "aggregator alive");
    daemon_stop(&agg);
    char *log = slurp(agg.log, NULL);
    EXPECT(log && strstr(log, "is down:") && strstr(log, "first merge"), "aggregator log");
    EXPECT(log && !strstr(log, TOKEN), "the token is in the log");
    free(log);
    daemon_stop(&D);
out2:
    free(token);
    free(peers_file);
    free(conf);
    free(static_peers);
out:
    for (size_t i = 0; i < ARRAY_SIZE(ts); i++)
        tserver_stop(&ts[i]);
    daemon_stop(&A);
    daemon_stop(&B);
    daemon_stop(&C);
    for (size_t i = 0; i < MAX_DAEMONS; i++)
        if (g_running[i])
            kill_hard(g_running[i]);
    if (ts[8].docs) {
        free(ts[8].docs[FLEET_DOC_PROCESSES].body2);
        free(ts[8].docs);
    }
    free_docs(adocs, nd);
    free_docs(bdocs, nd);
    free_docs(cdocs, nd);
    free_docs(edocs, nd);
    free(hostile_proc), free(hostile_sys), free(basic_proc), free(basic_sys);
    curl_easy_cleanup(g_curl);
    curl_global_cleanup();
    char *cmd = xasprintf("rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", g_tmp);
    free(cmd);
    return test_result("http/fleet");
}
