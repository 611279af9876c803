/* http_api.c: the real vmatlasd binary over real HTTP (API.md is the contract).
 *
 *   http_api VMATLASD FIXTURE_DIR
 *
 * (or $VMATLASD and $VMATLAS_FIXTURES/hostile). Starts the daemon, mostly with --interval 3600
 * so that exactly one scan happens, on 127.0.0.1:0 (the port is read from its "listening on"
 * log line), against the hostile fixture tree and against the live /proc, and checks every
 * implemented endpoint: document shapes and types, the /api/v1/processes query semantics,
 * errors, HEAD, caching (ETag, 304, gzip, pretty), the scan count under load, IPv6, SIGTERM,
 * --redact-addresses and configuration errors.
 *
 * Before the first snapshot exists /readyz must answer 503: the fixture tree is copied with
 * one process's stat replaced by a FIFO, so the first scan blocks in open() until this
 * program writes the file.
 *
 * Scenarios, in order:
 *   config     bad flags and config keys: exit status 2, the flag/key named on stderr
 *   fixture    503 before the first snapshot; every document against expected.json and the
 *              schema tables; /api/v1/processes query semantics against an oracle; hugepages,
 *              hiwater (recomputed from the list), exited; errors and limits; HEAD; ETag, 304,
 *              gzip, pretty; cache keys and eviction; 1,000 requests and one scan; SIGHUP
 *   redact     --redact-addresses (addresses null, sizes and gaps kept), --deep-walk-budget,
 *              --metrics-top-k
 *   ipv6       [::1]:0
 *   refresh    --interval 0.2 with four concurrent clients; ETags follow the snapshot;
 *              SIGTERM with requests in flight
 *   exited     children killed between scans: /api/v1/exited, hiwater groups keep the peak
 *   live       the live /proc, including a child with more VMAs than the server renders in
 *              one piece (streamed /vmas and /residency)
 * Every daemon is stopped with SIGTERM and must exit 0 within 1 s (3 s in sanitizer builds).
 *
 * Exit 0 pass, 1 fail, 77 skip. Every wait is bounded; every daemon started is stopped. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#if defined(__GNUC__) && !defined(__clang__)
/* Messages and paths are cut at their buffer size on purpose. */
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

#define READY_TIMEOUT_S 90.0 /* ASan builds scan a busy /proc slowly */
/* SIGTERM to exit: 1 s is the contract; a sanitizer build (leak check at exit, a loaded machine)
 * gets more, and says so when it needs it. */
#define STOP_CONTRACT_S 1.0
#ifdef SANITIZED
#define STOP_LIMIT_S 3.0
#else
#define STOP_LIMIT_S STOP_CONTRACT_S
#endif

static const char *g_daemon;   /* vmatlasd */
static const char *g_fixture;  /* tests/fixtures/hostile */
static char g_tmp[PATH_MAX];   /* scratch directory, removed at exit */
static CURL *g_curl;           /* one handle: keep-alive connections are reused */
static json_t *g_expected;     /* the fixture's expected.json */

/* --- small utilities --------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
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

static bool write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static bool starts_with(const char *s, const char *prefix) {
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* --- daemons ----------------------------------------------------------------------------- */

struct daemon {
    const char *name;
    pid_t pid;        /* 0: not running */
    char ip[64];      /* "127.0.0.1" or "::1" */
    int port;
    char base[128];   /* "http://127.0.0.1:PORT" */
    char log[PATH_MAX];
};

#define MAX_DAEMONS 16
static struct daemon *g_running[MAX_DAEMONS];

static void dump_log(const struct daemon *d) {
    char *log = slurp(d->log, NULL);
    fprintf(stderr, "---- %s stderr (%s) ----\n%s---- end ----\n", d->name, d->log,
            log ? log : "(unreadable)\n");
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

static void cleanup_all(void) {
    for (size_t i = 0; i < MAX_DAEMONS; i++)
        if (g_running[i])
            kill_hard(g_running[i]);
    if (g_tmp[0]) {
        char *cmd = xasprintf("rm -rf '%s'", g_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "note: could not remove %s\n", g_tmp);
        free(cmd);
        g_tmp[0] = 0;
    }
}

/* fork+exec vmatlasd ARGS with stderr into a log file; stdin and stdout are /dev/null. */
static pid_t spawn(const char *log, const char *const *args) {
    const char *argv[40];
    size_t n = 0;
    argv[n++] = g_daemon;
    for (size_t i = 0; args && args[i] && n < 38; i++)
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

/* Start and wait for "vmatlasd: listening on ADDR:PORT". */
static bool daemon_start(struct daemon *d, const char *name, const char *const *args) {
    memset(d, 0, sizeof(*d));
    d->name = name;
    (void)snprintf(d->log, sizeof(d->log), "%s/%s.log", g_tmp, name);
    d->pid = spawn(d->log, args);
    if (d->pid < 0) {
        FAIL("%s: cannot start %s: %s", name, g_daemon, strerror(errno));
        d->pid = 0;
        return false;
    }
    for (size_t i = 0; i < MAX_DAEMONS; i++)
        if (!g_running[i]) {
            g_running[i] = d;
            break;
        }
    double deadline = now_s() + READY_TIMEOUT_S;
    while (now_s() < deadline) {
        char *log = slurp(d->log, NULL);
        const char *p = log ? strstr(log, "vmatlasd: listening on ") : NULL;
        const char *nl = p ? strchr(p, '\n') : NULL;
        if (nl) {
            p += strlen("vmatlasd: listening on ");
            char addr[128];
            size_t n = (size_t)(nl - p) < sizeof(addr) - 1 ? (size_t)(nl - p) : sizeof(addr) - 1;
            memcpy(addr, p, n);
            addr[n] = 0;
            free(log);
            char *colon = strrchr(addr, ':');
            if (!colon) {
                FAIL("%s: cannot parse the listen address \"%s\"", name, addr);
                return false;
            }
            *colon = 0;
            d->port = atoi(colon + 1);
            if (addr[0] == '[') {
                addr[strlen(addr) - 1] = 0;
                (void)snprintf(d->ip, sizeof(d->ip), "%s", addr + 1);
                (void)snprintf(d->base, sizeof(d->base), "http://[%s]:%d", d->ip, d->port);
            } else {
                (void)snprintf(d->ip, sizeof(d->ip), "%s", addr);
                (void)snprintf(d->base, sizeof(d->base), "http://%s:%d", d->ip, d->port);
            }
            EXPECT(d->port > 0 && d->port < 65536, "%s: port %d", name, d->port);
            printf("%s: pid %d listening on %s\n", name, (int)d->pid, d->base);
            return true;
        }
        free(log);
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            FAIL("%s: exited before listening (wait status 0x%x)", name, st);
            dump_log(d);
            d->pid = 0;
            forget(d);
            return false;
        }
        sleep_ms(20);
    }
    FAIL("%s: no \"listening on\" line within %.0f s", name, READY_TIMEOUT_S);
    dump_log(d);
    kill_hard(d);
    return false;
}

/* SIGTERM; wait (bounded). Returns the wait status, or -1 when it had to be killed. */
static int daemon_stop(struct daemon *d, double *ret_secs) {
    if (d->pid <= 0)
        return -1;
    double t0 = now_s();
    kill(d->pid, SIGTERM);
    int st = -1;
    while (now_s() - t0 < 20.0) {
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid)
            break;
        sleep_ms(2);
    }
    double secs = now_s() - t0;
    if (ret_secs)
        *ret_secs = secs;
    if (waitpid(d->pid, NULL, WNOHANG) == 0) {
        FAIL("%s: still running %.1f s after SIGTERM; killed", d->name, secs);
        kill_hard(d);
        return -1;
    }
    d->pid = 0;
    forget(d);
    char *log = slurp(d->log, NULL);
    if (log && (strstr(log, "Sanitizer") || strstr(log, "runtime error"))) {
        FAIL("%s: sanitizer report on stderr", d->name);
        dump_log(d);
    }
    free(log);
    return st;
}

/* Stop and check the contract of SIGTERM: exit status 0 within STOP_LIMIT_S. */
static void daemon_stop_checked(struct daemon *d) {
    double secs = 0;
    int st = daemon_stop(d, &secs);
    EXPECT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "%s: SIGTERM: wait status 0x%x, want exit status 0", d->name, st);
    EXPECT(secs < STOP_LIMIT_S, "%s: SIGTERM took %.3f s (limit %.1f s)", d->name, secs,
           STOP_LIMIT_S);
    printf("%s: SIGTERM -> exit in %.3f s\n", d->name, secs);
    if (secs >= STOP_CONTRACT_S && secs < STOP_LIMIT_S)
        printf("note: %s: over %.0f s, allowed in a sanitizer build\n", d->name, STOP_CONTRACT_S);
}

/* --- HTTP with libcurl ------------------------------------------------------------------- */

struct resp {
    long status; /* -1: transport error */
    char *body;
    size_t len;
    char *hdrs; /* the header block of the final response */
    size_t hlen;
};

struct req {
    const char *method;          /* NULL: GET; "HEAD" uses CURLOPT_NOBODY */
    const char *const *headers;  /* NULL-terminated extra request headers */
    const char *body;            /* sent (with Content-Length) when not NULL */
    size_t body_len;
    bool decode;                 /* let curl ask for gzip and decode it */
};

struct sink {
    char **p;
    size_t *n;
    bool headers;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    struct sink *s = ud;
    size_t len = size * nmemb;
    if (s->headers && len >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
        *s->n = 0; /* a new response (after 100 Continue, say): keep only the last */
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

static struct resp http_with(CURL *c, const char *url, const struct req *q, bool quiet) {
    struct resp r = {0};
    struct sink body = {&r.body, &r.len, false}, hdrs = {&r.hdrs, &r.hlen, true};
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; q && q->headers && q->headers[i]; i++)
        h = curl_slist_append(h, q->headers[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (q && q->method && strcmp(q->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (q && q->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)q->body_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method ? q->method : "GET");
    } else if (q && q->method && strcmp(q->method, "HEAD") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    }
    if (q && q->decode)
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        if (!quiet)
            fprintf(stderr, "note: %s %s: curl: %s\n", q && q->method ? q->method : "GET", url,
                curl_easy_strerror(rc));
        r.status = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    }
    if (!r.body)
        r.body = calloc(1, 1);
    if (!r.hdrs)
        r.hdrs = calloc(1, 1);
    return r;
}

static struct resp http_url(const char *url, const struct req *q) {
    return http_with(g_curl, url, q, false);
}

static struct resp http(const struct daemon *d, const char *path, const struct req *q) {
    char *url = xasprintf("%s%s", d->base, path);
    struct resp r = http_url(url, q);
    free(url);
    return r;
}

static struct resp get(const struct daemon *d, const char *path) {
    return http(d, path, NULL);
}

/* The value of the first header NAME (case-insensitive), trimmed, malloc'd; NULL if none. */
static char *header(const char *hdrs, const char *name) {
    size_t n = strlen(name);
    for (const char *line = hdrs; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1, *e = line + len;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            return strndup(v, (size_t)(e - v));
        }
        line = eol ? eol + 2 : NULL;
    }
    return NULL;
}

static bool header_has(const char *hdrs, const char *name, const char *needle) {
    char *v = header(hdrs, name);
    bool ok = v && strcasestr(v, needle);
    free(v);
    return ok;
}

/* --- raw HTTP over a socket: exact bytes, and proof that no body follows ----------------- */

/* Send REQ, read until the server closes (bounded), split status, headers and body. */
static struct resp raw_http(const struct daemon *d, const char *req, size_t reqlen) {
    struct resp r = {.status = -1};
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char port[16];
    (void)snprintf(port, sizeof(port), "%d", d->port);
    int fd = -1;
    if (getaddrinfo(d->ip, port, &hints, &ai) == 0) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
    }
    r.body = calloc(1, 1);
    r.hdrs = calloc(1, 1);
    if (fd < 0) {
        fprintf(stderr, "note: raw connect to %s: %s\n", d->base, strerror(errno));
        return r;
    }
    for (size_t off = 0; off < reqlen;) {
        ssize_t n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* the server may answer and close before reading everything */
        off += (size_t)n;
    }
    char *data = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&data, &len);
    double deadline = now_s() + 30;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        char buf[16384];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        fwrite(buf, 1, (size_t)n, m);
    }
    fclose(m);
    close(fd);
    const char *end = data ? strstr(data, "\r\n\r\n") : NULL;
    if (!end) {
        free(data);
        return r;
    }
    free(r.body);
    free(r.hdrs);
    size_t hlen = (size_t)(end - data) + 4;
    r.hdrs = strndup(data, hlen);
    r.hlen = hlen;
    r.len = len - hlen;
    r.body = malloc(r.len + 1);
    memcpy(r.body, data + hlen, r.len);
    r.body[r.len] = 0;
    if (sscanf(data, "HTTP/1.%*d %ld", &r.status) != 1)
        r.status = -1;
    free(data);
    if (header_has(r.hdrs, "Transfer-Encoding", "chunked")) {
        /* De-chunk; a malformed stream leaves r.len at what could be decoded. */
        char *out = malloc(r.len + 1);
        size_t olen = 0, pos = 0;
        for (;;) {
            char *num_end = NULL;
            unsigned long long n = strtoull(r.body + pos, &num_end, 16);
            const char *crlf = strstr(r.body + pos, "\r\n");
            if (!num_end || !crlf || num_end == r.body + pos)
                break;
            pos = (size_t)(crlf - r.body) + 2;
            if (n == 0 || pos + n > r.len)
                break;
            memcpy(out + olen, r.body + pos, n);
            olen += n;
            pos += n + 2;
        }
        out[olen] = 0;
        free(r.body);
        r.body = out;
        r.len = olen;
    }
    return r;
}

static struct resp raw_simple(const struct daemon *d, const char *method, const char *path,
                              const char *extra_headers) {
    char *req = xasprintf("%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n%s\r\n", method,
                          path, d->ip, d->port, extra_headers ? extra_headers : "");
    struct resp r = raw_http(d, req, strlen(req));
    free(req);
    return r;
}

/* --- JSON helpers ------------------------------------------------------------------------ */

static json_t *parse_json(const struct resp *r, const char *what) {
    json_error_t e;
    json_t *v = json_loadb(r->body, r->len, 0, &e);
    if (!v)
        FAIL("%s: body is not JSON (%s at %d): %.200s", what, e.text, e.position, r->body);
    return v;
}

/* The JSON document at PATH: status 200, application/json, parsed. NULL (and a failure)
 * otherwise. */
static json_t *get_json(const struct daemon *d, const char *path) {
    struct resp r = get(d, path);
    json_t *v = NULL;
    if (r.status != 200) {
        FAIL("GET %s: status %ld, want 200: %.300s", path, r.status, r.body);
    } else {
        EXPECT(header_has(r.hdrs, "Content-Type", "application/json"),
               "GET %s: Content-Type is not application/json", path);
        v = parse_json(&r, path);
    }
    resp_free(&r);
    return v;
}

/* Walk "a.b.c". *hit_null is set when an intermediate value is null (the child is then not
 * checked: the parent's entry says whether null is allowed). */
static json_t *lookup(json_t *root, const char *path, bool *hit_null) {
    char buf[256];
    (void)snprintf(buf, sizeof(buf), "%s", path);
    *hit_null = false;
    json_t *v = root;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok;
         tok = strtok_r(NULL, ".", &save)) {
        if (json_is_null(v)) {
            *hit_null = true;
            return NULL;
        }
        v = json_is_object(v) ? json_object_get(v, tok) : NULL;
        if (!v)
            return NULL;
    }
    return v;
}

static bool is_addr(const char *s) {
    if (!starts_with(s, "0x") || !s[2] || strlen(s) > 18)
        return false;
    for (const char *p = s + 2; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* RFC 3339 UTC with milliseconds: 2026-11-24T18:00:00.123Z */
static bool is_time(const char *s) {
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != sizeof(pat) - 1)
        return false;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return false;
    int mon = atoi(s + 5), day = atoi(s + 8), h = atoi(s + 11), mi = atoi(s + 14),
        sec = atoi(s + 17);
    return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && h < 24 && mi < 60 && sec <= 60;
}

static uint64_t addr_value(json_t *v) {
    return json_is_string(v) ? strtoull(json_string_value(v), NULL, 16) : 0;
}

enum jtype { J_INT = 1, J_SIZE, J_POS, J_STR, J_ADDR, J_TIME, J_BOOL, J_OBJ, J_ARR, J_NUM, J_RATIO };
#define J_NULL 0x100

struct field {
    const char *path;
    int type;
};

static const char *type_name(int t) {
    static const char *const names[] = {"?", "integer", "size (integer >= 0)", "integer > 0",
                                        "string", "address (\"0x...\" lower-case hex)",
                                        "RFC 3339 time with ms and Z", "bool", "object", "array",
                                        "number", "ratio in [0,1]"};
    t &= 0xff;
    return t > 0 && t <= J_RATIO ? names[t] : "?";
}

/* Check one value against one type. redacted: every address must be null. */
static bool type_ok(json_t *v, int type, bool redacted) {
    int t = type & 0xff;
    if (t == J_ADDR && redacted)
        return json_is_null(v);
    if (json_is_null(v))
        return type & J_NULL;
    switch (t) {
    case J_INT:
        return json_is_integer(v);
    case J_SIZE:
        return json_is_integer(v) && json_integer_value(v) >= 0;
    case J_POS:
        return json_is_integer(v) && json_integer_value(v) > 0;
    case J_STR:
        return json_is_string(v);
    case J_ADDR:
        return json_is_string(v) && is_addr(json_string_value(v));
    case J_TIME:
        return json_is_string(v) && is_time(json_string_value(v));
    case J_BOOL:
        return json_is_boolean(v);
    case J_OBJ:
        return json_is_object(v);
    case J_ARR:
        return json_is_array(v);
    case J_NUM:
        return json_is_number(v);
    case J_RATIO:
        return json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) <= 1;
    default:
        return false;
    }
}

static int g_schema_failures; /* printed in full only for the first few */

static void check_fields(json_t *root, const struct field *tab, size_t n, const char *ctx,
                         bool redacted) {
    for (size_t i = 0; i < n; i++) {
        bool hit_null;
        json_t *v = lookup(root, tab[i].path, &hit_null);
        if (hit_null)
            continue;
        if (!v) {
            if (g_schema_failures++ < 40)
                FAIL("%s: \"%s\" is missing", ctx, tab[i].path);
            else
                test_failures++;
            continue;
        }
        if (!type_ok(v, tab[i].type, redacted)) {
            char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (g_schema_failures++ < 40)
                FAIL("%s: \"%s\" = %.120s, want %s%s%s", ctx, tab[i].path, dump ? dump : "?",
                     type_name(tab[i].type), tab[i].type & J_NULL ? " or null" : "",
                     redacted && (tab[i].type & 0xff) == J_ADDR ? " (redacted: null)" : "");
            else
                test_failures++;
            free(dump);
        }
    }
}

#define CHECK_FIELDS(root, tab, ctx, redacted)                                                     \
    check_fields(root, tab, sizeof(tab) / sizeof(tab[0]), ctx, redacted)

/* API.md "Process summary". */
static const struct field summary_fields[] = {
    {"pid", J_POS}, {"ppid", J_SIZE | J_NULL}, {"id", J_STR}, {"start_time", J_TIME | J_NULL},
    {"comm", J_STR | J_NULL}, {"cmdline", J_STR | J_NULL}, {"uid", J_SIZE | J_NULL},
    {"user", J_STR | J_NULL}, {"state", J_STR | J_NULL}, {"threads", J_SIZE | J_NULL},
    {"cgroup", J_STR | J_NULL}, {"unit", J_STR | J_NULL}, {"kthread", J_BOOL},
    {"vma_count", J_SIZE | J_NULL},
    {"memory", J_OBJ},
    {"memory.vm_peak", J_SIZE | J_NULL}, {"memory.vm_size", J_SIZE | J_NULL},
    {"memory.vm_lck", J_SIZE | J_NULL}, {"memory.vm_pin", J_SIZE | J_NULL},
    {"memory.vm_hwm", J_SIZE | J_NULL}, {"memory.vm_rss", J_SIZE | J_NULL},
    {"memory.rss_anon", J_SIZE | J_NULL}, {"memory.rss_file", J_SIZE | J_NULL},
    {"memory.rss_shmem", J_SIZE | J_NULL}, {"memory.vm_data", J_SIZE | J_NULL},
    {"memory.vm_stk", J_SIZE | J_NULL}, {"memory.vm_exe", J_SIZE | J_NULL},
    {"memory.vm_lib", J_SIZE | J_NULL}, {"memory.vm_pte", J_SIZE | J_NULL},
    {"memory.vm_swap", J_SIZE | J_NULL}, {"memory.hugetlb", J_SIZE | J_NULL},
    {"rollup", J_OBJ | J_NULL},
    {"rollup.rss", J_SIZE | J_NULL}, {"rollup.pss", J_SIZE | J_NULL},
    {"rollup.pss_anon", J_SIZE | J_NULL}, {"rollup.pss_file", J_SIZE | J_NULL},
    {"rollup.pss_shmem", J_SIZE | J_NULL}, {"rollup.pss_dirty", J_SIZE | J_NULL},
    {"rollup.uss", J_SIZE | J_NULL}, {"rollup.shared_clean", J_SIZE | J_NULL},
    {"rollup.shared_dirty", J_SIZE | J_NULL}, {"rollup.private_clean", J_SIZE | J_NULL},
    {"rollup.private_dirty", J_SIZE | J_NULL}, {"rollup.referenced", J_SIZE | J_NULL},
    {"rollup.anonymous", J_SIZE | J_NULL}, {"rollup.anon_huge", J_SIZE | J_NULL},
    {"rollup.shmem_pmd_mapped", J_SIZE | J_NULL}, {"rollup.file_pmd_mapped", J_SIZE | J_NULL},
    {"rollup.shared_hugetlb", J_SIZE | J_NULL}, {"rollup.private_hugetlb", J_SIZE | J_NULL},
    {"rollup.swap", J_SIZE | J_NULL}, {"rollup.swap_pss", J_SIZE | J_NULL},
    {"rollup.locked", J_SIZE | J_NULL},
    {"hiwater", J_OBJ},
    {"hiwater.vm_hwm", J_SIZE | J_NULL}, {"hiwater.vm_peak", J_SIZE | J_NULL},
    {"hiwater.observed_rss_max", J_SIZE | J_NULL},
    {"hiwater.observed_rss_max_at", J_TIME | J_NULL},
    {"errors", J_ARR},
};

/* API.md "Process detail adds". */
static const struct field detail_fields[] = {
    {"layout", J_OBJ},
    {"layout.start_code", J_ADDR | J_NULL}, {"layout.end_code", J_ADDR | J_NULL},
    {"layout.start_data", J_ADDR | J_NULL}, {"layout.end_data", J_ADDR | J_NULL},
    {"layout.start_brk", J_ADDR | J_NULL}, {"layout.brk", J_ADDR | J_NULL},
    {"layout.start_stack", J_ADDR | J_NULL}, {"layout.arg_start", J_ADDR | J_NULL},
    {"layout.arg_end", J_ADDR | J_NULL}, {"layout.env_start", J_ADDR | J_NULL},
    {"layout.env_end", J_ADDR | J_NULL}, {"layout.mmap_base", J_ADDR | J_NULL},
    {"layout.top_down", J_BOOL | J_NULL}, {"layout.address_bits", J_INT | J_NULL},
    {"layout.lowest", J_ADDR | J_NULL}, {"layout.highest", J_ADDR | J_NULL},
    {"layout.gap_count", J_SIZE | J_NULL}, {"layout.largest_gap", J_SIZE | J_NULL},
    {"kinds", J_OBJ},
    {"hugepages", J_OBJ},
    {"hugepages.hugetlb", J_SIZE | J_NULL}, {"hugepages.anon_huge", J_SIZE | J_NULL},
    {"hugepages.shmem_pmd_mapped", J_SIZE | J_NULL},
    {"hugepages.file_pmd_mapped", J_SIZE | J_NULL},
    {"hugepages.thp_eligible_size", J_SIZE | J_NULL},
    {"residency", J_OBJ | J_NULL},
    {"residency.source", J_STR}, {"residency.collected_at", J_TIME},
    {"residency.present", J_SIZE | J_NULL}, {"residency.swapped", J_SIZE | J_NULL},
    {"residency.thp", J_SIZE | J_NULL}, {"residency.soft_dirty", J_SIZE | J_NULL},
    {"residency.exclusive", J_SIZE | J_NULL}, {"residency.resident_ratio", J_RATIO | J_NULL},
};

static const struct field kind_fields[] = {
    {"count", J_SIZE}, {"size", J_SIZE},
};

/* API.md "VMA". */
static const struct field vma_fields[] = {
    {"start", J_ADDR}, {"end", J_ADDR}, {"size", J_SIZE}, {"perms", J_STR}, {"offset", J_SIZE},
    {"dev", J_STR}, {"inode", J_SIZE}, {"name", J_STR | J_NULL}, {"deleted", J_BOOL},
    {"kind", J_STR}, {"flags", J_ARR | J_NULL},
    {"rss", J_SIZE | J_NULL}, {"pss", J_SIZE | J_NULL}, {"shared_clean", J_SIZE | J_NULL},
    {"shared_dirty", J_SIZE | J_NULL}, {"private_clean", J_SIZE | J_NULL},
    {"private_dirty", J_SIZE | J_NULL}, {"referenced", J_SIZE | J_NULL},
    {"anonymous", J_SIZE | J_NULL}, {"anon_huge", J_SIZE | J_NULL}, {"swap", J_SIZE | J_NULL},
    {"swap_pss", J_SIZE | J_NULL}, {"locked", J_SIZE | J_NULL},
    {"kernel_page_size", J_SIZE | J_NULL}, {"mmu_page_size", J_SIZE | J_NULL},
    {"thp_eligible", J_BOOL | J_NULL},
    {"residency", J_OBJ | J_NULL},
    {"residency.present", J_SIZE | J_NULL}, {"residency.swapped", J_SIZE | J_NULL},
    {"residency.thp", J_SIZE | J_NULL}, {"residency.soft_dirty", J_SIZE | J_NULL},
    {"residency.exclusive", J_SIZE | J_NULL}, {"residency.resident_ratio", J_RATIO | J_NULL},
    {"residency.source", J_STR},
};

/* API.md "/api/v1/node". */
static const struct field node_fields[] = {
    {"hostname", J_STR}, {"boot_id", J_STR}, {"kernel", J_STR}, {"page_size", J_POS},
    {"address_bits", J_INT}, {"legacy_va_layout", J_INT | J_NULL},
    {"randomize_va_space", J_INT | J_NULL}, {"thp_enabled", J_STR | J_NULL},
    {"max_map_count", J_SIZE | J_NULL},
    {"capabilities", J_OBJ},
    {"capabilities.pagemap_scan", J_BOOL}, {"capabilities.procmap_query", J_BOOL},
    {"capabilities.pfn_visible", J_BOOL}, {"capabilities.kpageflags", J_BOOL},
    {"capabilities.smaps_rollup", J_BOOL}, {"capabilities.cgroup_v2", J_BOOL},
    {"capabilities.memory_peak", J_BOOL},
    {"snapshot", J_OBJ},
    {"snapshot.seq", J_POS}, {"snapshot.collected_at", J_TIME}, {"snapshot.duration_ms", J_NUM},
    {"snapshot.processes", J_SIZE}, {"snapshot.kthreads", J_SIZE}, {"snapshot.vmas", J_SIZE},
    {"snapshot.errors", J_SIZE},
    {"collector", J_OBJ},
    {"collector.interval_ms", J_POS}, {"collector.deep_walk_budget", J_NUM},
    {"collector.last_deep_walk_pids", J_ARR},
    {"version", J_STR},
};

static const struct field snapshot_ref_fields[] = {
    {"snapshot", J_OBJ}, {"snapshot.seq", J_POS}, {"snapshot.collected_at", J_TIME},
};

static const char *const vma_kinds[] = {"heap",  "stack",        "vdso",          "vvar",
                                        "vsyscall", "anon",      "anon_shared",   "file_private",
                                        "file_shared", "hugetlb", "sysv_shm",     "memfd",
                                        "socket", "device",      "other",         NULL};

static bool in_list(const char *s, const char *const *list) {
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static json_int_t int_at(json_t *root, const char *path, json_int_t dflt) {
    bool hn;
    json_t *v = lookup(root, path, &hn);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const char *str_at(json_t *root, const char *path) {
    bool hn;
    json_t *v = lookup(root, path, &hn);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* expected (from expected.json) equals actual, where the expected string "<time>" stands for
 * any RFC 3339 time. Reports the first difference under PATH. */
static bool json_match(json_t *exp, json_t *act, const char *path, char *where, size_t wlen) {
    if (json_is_string(exp) && strcmp(json_string_value(exp), "<time>") == 0) {
        if (json_is_string(act) && is_time(json_string_value(act)))
            return true;
        (void)snprintf(where, wlen, "%s", path);
        return false;
    }
    if (json_is_object(exp) && json_is_object(act)) {
        const char *k;
        json_t *v;
        json_object_foreach(exp, k, v) {
            char sub[512];
            (void)snprintf(sub, sizeof(sub), "%s.%s", path, k);
            json_t *a = json_object_get(act, k);
            if (!a) {
                (void)snprintf(where, wlen, "%s (missing)", sub);
                return false;
            }
            if (!json_match(v, a, sub, where, wlen))
                return false;
        }
        json_object_foreach(act, k, v) if (!json_object_get(exp, k)) {
            (void)snprintf(where, wlen, "%s.%s (not expected)", path, k);
            return false;
        }
        return true;
    }
    if (json_is_array(exp) && json_is_array(act)) {
        if (json_array_size(exp) != json_array_size(act)) {
            (void)snprintf(where, wlen, "%s (length %zu, want %zu)", path, json_array_size(act),
                           json_array_size(exp));
            return false;
        }
        for (size_t i = 0; i < json_array_size(exp); i++) {
            char sub[512];
            (void)snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (!json_match(json_array_get(exp, i), json_array_get(act, i), sub, where, wlen))
                return false;
        }
        return true;
    }
    if (json_equal(exp, act))
        return true;
    if (json_is_real(exp) && json_is_number(act)) {
        /* The server prints reals with fewer digits than expected.json holds. */
        double e = json_number_value(exp), a = json_number_value(act);
        if (fabs(e - a) <= 1e-6 * (fabs(e) > 1 ? fabs(e) : 1))
            return true;
    }
    (void)snprintf(where, wlen, "%s", path);
    return false;
}

/* --- error responses --------------------------------------------------------------------- */

/* status (one of want[]), a JSON body {"error":{"status":N,"message":"..."}}, never 5xx. */
static void check_error_resp(const char *what, const struct resp *r, const long *want,
                             size_t nwant) {
    bool ok = false;
    for (size_t i = 0; i < nwant; i++)
        ok = ok || r->status == want[i];
    if (!ok) {
        char list[64] = "";
        for (size_t i = 0; i < nwant; i++)
            (void)snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%ld",
                           i ? " or " : "", want[i]);
        FAIL("%s: status %ld, want %s: %.200s", what, r->status, list, r->body);
    }
    if (nwant > 0 && want[0] < 500)
        EXPECT(r->status < 500, "%s: status %ld (5xx for bad input)", what, r->status);
    EXPECT(header_has(r->hdrs, "Content-Type", "application/json"),
           "%s: error Content-Type is not application/json", what);
    json_error_t e;
    json_t *doc = json_loadb(r->body, r->len, 0, &e);
    json_t *err = json_object_get(doc, "error");
    EXPECT(json_is_object(err), "%s: body is not {\"error\":{...}}: %.200s", what, r->body);
    if (json_is_object(err)) {
        json_t *st = json_object_get(err, "status"), *msg = json_object_get(err, "message");
        EXPECT(json_is_integer(st) && json_integer_value(st) == r->status,
               "%s: error.status is not %ld: %.200s", what, r->status, r->body);
        EXPECT(json_is_string(msg) && json_string_length(msg) > 0,
               "%s: error.message is not a non-empty string: %.200s", what, r->body);
        EXPECT(json_object_size(doc) == 1, "%s: more than \"error\" at the top: %.200s", what,
               r->body);
    }
    json_decref(doc);
}

static void expect_error(const struct daemon *d, const char *path, const struct req *q,
                         long status) {
    struct resp r = http(d, path, q);
    char what[256];
    (void)snprintf(what, sizeof(what), "%s %.150s", q && q->method ? q->method : "GET", path);
    check_error_resp(what, &r, &status, 1);
    resp_free(&r);
}

/* --- documents --------------------------------------------------------------------------- */

static void check_snapshot_ref(json_t *doc, const char *ctx, json_int_t seq) {
    CHECK_FIELDS(doc, snapshot_ref_fields, ctx, false);
    json_int_t got = int_at(doc, "snapshot.seq", -1);
    EXPECT(seq < 0 || got == seq, "%s: snapshot.seq = %lld, want %lld", ctx, (long long)got, (long long)seq);
}

static void check_summary(json_t *p, const char *ctx) {
    CHECK_FIELDS(p, summary_fields, ctx, false);
    json_int_t pid = int_at(p, "pid", -1);
    const char *id = str_at(p, "id");
    char prefix[32];
    (void)snprintf(prefix, sizeof(prefix), "%lld:", (long long)pid);
    bool id_ok = id && starts_with(id, prefix) && id[strlen(prefix)];
    for (const char *c = id ? id + strlen(prefix) : NULL; id_ok && *c; c++)
        id_ok = *c >= '0' && *c <= '9';
    EXPECT(id_ok, "%s: id \"%s\" is not \"<pid>:<starttime-ticks>\"", ctx, id ? id : "(null)");
    if (json_is_true(json_object_get(p, "kthread")))
        EXPECT(int_at(p, "vma_count", 0) == 0, "%s: kernel thread with %lld VMAs", ctx,
               (long long)int_at(p, "vma_count", 0));
    json_t *cmd = json_object_get(p, "cmdline");
    if (json_is_string(cmd))
        EXPECT(strlen(json_string_value(cmd)) == json_string_length(cmd),
               "%s: cmdline holds a NUL", ctx);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(p, "errors"), i, e) {
        const char *src = str_at(e, "source"), *en = str_at(e, "errno");
        EXPECT(src && en && en[0] == 'E', "%s: errors[%zu] is not {source, errno \"E...\"}", ctx,
               i);
    }
    json_t *ro = json_object_get(p, "rollup");
    if (json_is_object(ro) && json_is_integer(json_object_get(ro, "uss")) &&
        json_is_integer(json_object_get(ro, "private_clean")) &&
        json_is_integer(json_object_get(ro, "private_dirty")))
        EXPECT(int_at(ro, "uss", 0) ==
                   int_at(ro, "private_clean", 0) + int_at(ro, "private_dirty", 0),
               "%s: rollup.uss != private_clean + private_dirty", ctx);
}

static bool is_vsyscall(json_t *v) {
    const char *name = str_at(v, "name");
    const char *kind = str_at(v, "kind");
    return (name && strcmp(name, "[vsyscall]") == 0) || (kind && strcmp(kind, "vsyscall") == 0);
}

static void check_vma(json_t *v, const char *ctx, bool redacted) {
    CHECK_FIELDS(v, vma_fields, ctx, redacted);
    const char *perms = str_at(v, "perms"), *dev = str_at(v, "dev"), *kind = str_at(v, "kind");
    const char *name = str_at(v, "name");
    EXPECT(perms && strlen(perms) == 4 && (perms[0] == 'r' || perms[0] == '-') &&
               (perms[1] == 'w' || perms[1] == '-') && (perms[2] == 'x' || perms[2] == '-') &&
               (perms[3] == 'p' || perms[3] == 's'),
           "%s: perms \"%s\"", ctx, perms ? perms : "(null)");
    unsigned maj, mnr;
    char tail;
    EXPECT(dev && sscanf(dev, "%x:%x%c", &maj, &mnr, &tail) == 2, "%s: dev \"%s\"", ctx,
           dev ? dev : "(null)");
    EXPECT(in_list(kind, vma_kinds), "%s: kind \"%s\" is not one of API.md's", ctx,
           kind ? kind : "(null)");
    json_t *del = json_object_get(v, "deleted");
    EXPECT(json_is_boolean(del) && json_is_true(del) == (name && ends_with(name, " (deleted)")),
           "%s: deleted does not match the name \"%s\"", ctx, name ? name : "(null)");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(v, "flags"), i, f) {
        const char *s = json_string_value(f);
        EXPECT(s && strlen(s) == 2 && s[0] >= 'a' && s[0] <= 'z', "%s: flags[%zu]", ctx, i);
    }
    json_int_t kps = int_at(v, "kernel_page_size", 4096);
    EXPECT(kps > 0 && (kps & (kps - 1)) == 0, "%s: kernel_page_size %lld", ctx, (long long)kps);
    if (!redacted) {
        uint64_t s = addr_value(json_object_get(v, "start")),
                 e = addr_value(json_object_get(v, "end"));
        EXPECT(e > s, "%s: end <= start", ctx);
        EXPECT((uint64_t)int_at(v, "size", 0) == e - s, "%s: size %lld != end - start %" PRIu64,
               ctx, (long long)int_at(v, "size", 0), e - s);
    }
}

/* Detail and VMA list of one process, their shapes, and how they agree with each other.
 * expected: the fixture's expected detail (with "vmas"), or NULL. */
static void check_process(const struct daemon *d, json_int_t pid, bool redacted,
                          json_t *expected) {
    char path[96], ctx[160];
    (void)snprintf(path, sizeof(path), "/api/v1/processes/%lld", (long long)pid);
    json_t *doc = get_json(d, path);
    (void)snprintf(path, sizeof(path), "/api/v1/processes/%lld/vmas", (long long)pid);
    json_t *vdoc = get_json(d, path);
    if (!doc || !vdoc) {
        json_decref(doc);
        json_decref(vdoc);
        return;
    }
    (void)snprintf(ctx, sizeof(ctx), "%s: detail of %lld", d->name, (long long)pid);
    EXPECT(json_object_size(doc) == 2 && json_object_get(doc, "process"),
           "%s: document is not {\"snapshot\", \"process\"}", ctx);
    check_snapshot_ref(doc, ctx, 1);
    json_t *p = json_object_get(doc, "process");
    check_summary(p, ctx);
    CHECK_FIELDS(p, detail_fields, ctx, redacted);
    EXPECT(int_at(p, "pid", -1) == pid, "%s: pid %lld", ctx, (long long)int_at(p, "pid", -1));
    json_int_t bits = int_at(p, "layout.address_bits", 47);
    EXPECT(bits == 47 || bits == 56, "%s: layout.address_bits %lld", ctx, (long long)bits);
    json_t *rs = json_object_get(p, "residency");
    if (json_is_object(rs))
        EXPECT(in_list(str_at(rs, "source"),
                       (const char *const[]){"pagemap_scan", "pagemap", "smaps", NULL}),
               "%s: residency.source \"%s\"", ctx, str_at(rs, "source"));
    const char *kk;
    json_t *kv;
    json_object_foreach(json_object_get(p, "kinds"), kk, kv) {
        char kctx[200];
        (void)snprintf(kctx, sizeof(kctx), "%s kinds.%s", ctx, kk);
        EXPECT(in_list(kk, vma_kinds), "%s: not a VMA kind", kctx);
        CHECK_FIELDS(kv, kind_fields, kctx, false);
        const char *const opt[] = {"rss", "pss", "swap"};
        for (size_t i = 0; i < 3; i++) {
            json_t *x = json_object_get(kv, opt[i]);
            EXPECT(!x || json_is_null(x) || (json_is_integer(x) && json_integer_value(x) >= 0),
                   "%s.%s is not a size", kctx, opt[i]);
        }
    }

    (void)snprintf(ctx, sizeof(ctx), "%s: vmas of %lld", d->name, (long long)pid);
    EXPECT(json_object_size(vdoc) == 4, "%s: document keys are not snapshot, pid, id, vmas", ctx);
    check_snapshot_ref(vdoc, ctx, 1);
    EXPECT(int_at(vdoc, "pid", -1) == pid, "%s: pid", ctx);
    EXPECT(str_at(vdoc, "id") && str_at(p, "id") && strcmp(str_at(vdoc, "id"), str_at(p, "id")) == 0,
           "%s: id differs from the detail's", ctx);
    json_t *vmas = json_object_get(vdoc, "vmas");
    EXPECT(json_is_array(vmas), "%s: vmas is not an array", ctx);
    size_t n = json_array_size(vmas);
    json_t *trunc = json_object_get(p, "vmas_truncated");
    json_t *vc = json_object_get(p, "vma_count");
    if (json_is_integer(vc) && !json_is_true(trunc))
        EXPECT((size_t)json_integer_value(vc) == n, "%s: %zu VMAs, vma_count %lld", ctx, n,
               (long long)json_integer_value(vc));

    /* Shapes; address order; layout and kinds recomputed from the list. */
    uint64_t prev_end = 0, lowest = 0, highest = 0, largest_gap = 0, heap_end = 0;
    json_int_t gaps = 0;
    bool have_user = false, have_heap = false;
    json_t *kinds = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(vmas, i);
        char vctx[200];
        (void)snprintf(vctx, sizeof(vctx), "%s [%zu]", ctx, i);
        check_vma(v, vctx, redacted);
        const char *kind = str_at(v, "kind");
        if (kind) {
            json_t *k = json_object_get(kinds, kind);
            if (!k) {
                k = json_pack("{s:I, s:I}", "count", (json_int_t)0, "size", (json_int_t)0);
                json_object_set_new(kinds, kind, k);
            }
            json_object_set_new(k, "count", json_integer(int_at(k, "count", 0) + 1));
            json_object_set_new(k, "size", json_integer(int_at(k, "size", 0) + int_at(v, "size", 0)));
        }
        if (redacted)
            continue;
        uint64_t s = addr_value(json_object_get(v, "start")),
                 e = addr_value(json_object_get(v, "end"));
        EXPECT(i == 0 || s >= prev_end, "%s: not in address order / overlapping", vctx);
        const char *name = str_at(v, "name");
        if (name && strcmp(name, "[heap]") == 0) {
            heap_end = e;
            have_heap = true;
        }
        if (!is_vsyscall(v)) {
            if (!have_user) {
                lowest = s;
            } else if (s > highest) {
                gaps++;
                if (s - highest > largest_gap)
                    largest_gap = s - highest;
            }
            highest = e;
            have_user = true;
        }
        prev_end = e;
    }
    json_t *layout = json_object_get(p, "layout");
    if (!redacted && json_is_object(layout) && json_is_string(json_object_get(layout, "lowest"))) {
        EXPECT(have_user && addr_value(json_object_get(layout, "lowest")) == lowest,
               "%s: layout.lowest != start of the first VMA (vsyscall left out)", ctx);
        EXPECT(addr_value(json_object_get(layout, "highest")) == highest,
               "%s: layout.highest != end of the last VMA (vsyscall left out)", ctx);
        EXPECT(int_at(layout, "gap_count", -1) == gaps, "%s: layout.gap_count %lld, VMAs say %lld",
               ctx, (long long)int_at(layout, "gap_count", -1), (long long)gaps);
        EXPECT((uint64_t)int_at(layout, "largest_gap", -1) == largest_gap,
               "%s: layout.largest_gap %lld, VMAs say %" PRIu64, ctx,
               (long long)int_at(layout, "largest_gap", -1), largest_gap);
        json_t *brk = json_object_get(layout, "brk");
        if (have_heap)
            EXPECT(addr_value(brk) == heap_end, "%s: layout.brk is not the end of [heap]", ctx);
        else if (json_is_string(json_object_get(layout, "start_brk")))
            EXPECT(json_equal(brk, json_object_get(layout, "start_brk")),
                   "%s: no [heap]: layout.brk is not start_brk", ctx);
    }
    if (redacted && json_is_object(layout)) {
        /* Sizes, offsets and gaps stay. */
        EXPECT(json_is_null(json_object_get(layout, "lowest")), "%s: redacted lowest", ctx);
        if (n > 1 && json_is_integer(vc))
            EXPECT(json_is_integer(json_object_get(layout, "gap_count")) &&
                       json_is_integer(json_object_get(layout, "largest_gap")),
                   "%s: redaction removed gap_count/largest_gap", ctx);
    }
    if (!json_is_true(trunc)) {
        json_object_foreach(kinds, kk, kv) {
            json_t *got = json_object_get(json_object_get(p, "kinds"), kk);
            EXPECT(got && int_at(got, "count", -1) == int_at(kv, "count", -2) &&
                       int_at(got, "size", -1) == int_at(kv, "size", -2),
                   "%s: kinds.%s is not the count/size of its VMAs (%lld/%lld)", ctx, kk,
                   (long long)int_at(kv, "count", 0), (long long)int_at(kv, "size", 0));
        }
        EXPECT(json_object_size(json_object_get(p, "kinds")) == json_object_size(kinds),
               "%s: kinds has entries for kinds without VMAs", ctx);
    }
    json_decref(kinds);

    if (expected) {
        char where[600];
        (void)snprintf(ctx, sizeof(ctx), "%s: process %lld", d->name, (long long)pid);
        const char *k;
        json_t *ev;
        json_object_foreach(expected, k, ev) {
            if (strcmp(k, "vmas") == 0 || strcmp(k, "residency_doc") == 0)
                continue;
            char sub[64];
            (void)snprintf(sub, sizeof(sub), "process.%s", k);
            json_t *av = json_object_get(p, k);
            EXPECT(av && json_match(ev, av, sub, where, sizeof(where)),
                   "%s: differs from expected.json at %s", ctx, av ? where : sub);
        }
        json_t *ev2 = json_object_get(expected, "vmas");
        if (ev2)
            EXPECT(json_match(ev2, vmas, "vmas", where, sizeof(where)),
                   "%s: differs from expected.json at %s", ctx, where);
    }

    /* /residency: the detail's residency summary and, per VMA, start/end/kind/name and the
     * residency of the /vmas document. */
    (void)snprintf(path, sizeof(path), "/api/v1/processes/%lld/residency", (long long)pid);
    json_t *rdoc = get_json(d, path);
    (void)snprintf(ctx, sizeof(ctx), "%s: residency of %lld", d->name, (long long)pid);
    if (rdoc) {
        EXPECT(json_object_size(rdoc) == 5,
               "%s: document keys are not snapshot, pid, id, residency, vmas", ctx);
        check_snapshot_ref(rdoc, ctx, 1);
        EXPECT(int_at(rdoc, "pid", -1) == pid, "%s: pid", ctx);
        EXPECT(str_at(rdoc, "id") && str_at(p, "id") && strcmp(str_at(rdoc, "id"), str_at(p, "id")) == 0,
               "%s: id differs from the detail's", ctx);
        json_t *rs2 = json_object_get(rdoc, "residency");
        EXPECT(rs2 && json_equal(rs2, json_object_get(p, "residency")),
               "%s: residency differs from the detail's", ctx);
        json_t *rv = json_object_get(rdoc, "vmas");
        EXPECT(json_array_size(rv) == n, "%s: %zu VMAs, /vmas has %zu", ctx, json_array_size(rv), n);
        size_t i;
        json_t *v;
        int bad = 0;
        json_array_foreach(rv, i, v) {
            json_t *full = json_array_get(vmas, i);
            const char *keys[] = {"start", "end", "kind", "name", "residency"};
            for (size_t k = 0; k < 5; k++)
                if (!json_object_get(v, keys[k]) ||
                    !json_equal(json_object_get(v, keys[k]), json_object_get(full, keys[k])))
                    if (bad++ < 3)
                        FAIL("%s: vmas[%zu].%s differs from /vmas", ctx, i, keys[k]);
            EXPECT(json_object_size(v) == 5 || bad++ >= 3,
                   "%s: vmas[%zu] has keys beyond start, end, kind, name, residency", ctx, i);
        }
        if (bad > 3)
            test_failures++;
        json_decref(rdoc);
    }
    json_decref(doc);
    json_decref(vdoc);
}

static json_t *check_node(const struct daemon *d, json_int_t interval_ms, double budget) {
    char ctx[96];
    (void)snprintf(ctx, sizeof(ctx), "%s: /api/v1/node", d->name);
    json_t *n = get_json(d, "/api/v1/node");
    if (!n)
        return NULL;
    CHECK_FIELDS(n, node_fields, ctx, false);
    EXPECT(int_at(n, "snapshot.seq", -1) == 1, "%s: snapshot.seq %lld, want 1", ctx,
           (long long)int_at(n, "snapshot.seq", -1));
    EXPECT(int_at(n, "collector.interval_ms", -1) == interval_ms, "%s: collector.interval_ms %lld",
           ctx, (long long)int_at(n, "collector.interval_ms", -1));
    bool hn;
    json_t *b = lookup(n, "collector.deep_walk_budget", &hn);
    EXPECT(json_is_number(b) && json_number_value(b) == budget,
           "%s: collector.deep_walk_budget is not %g", ctx, budget);
    json_int_t bits = int_at(n, "address_bits", 0);
    EXPECT(bits == 47 || bits == 56, "%s: address_bits %lld", ctx, (long long)bits);
    json_int_t ps = int_at(n, "page_size", 0);
    EXPECT(ps >= 4096 && (ps & (ps - 1)) == 0, "%s: page_size %lld", ctx, (long long)ps);
    size_t i;
    json_t *v;
    json_array_foreach(lookup(n, "collector.last_deep_walk_pids", &hn), i, v)
        EXPECT(json_is_integer(v) && json_integer_value(v) > 0,
               "%s: last_deep_walk_pids[%zu] is not a pid", ctx, i);
    return n;
}

/* --- /api/v1/hugepages, /api/v1/hiwater, /api/v1/exited ----------------------------------- */

static const struct field hugepages_fields[] = {
    {"pools", J_ARR}, {"thp", J_OBJ},
    {"thp.enabled", J_STR | J_NULL}, {"thp.defrag", J_STR | J_NULL},
    {"thp.shmem_enabled", J_STR | J_NULL}, {"thp.anon", J_SIZE | J_NULL},
    {"thp.shmem", J_SIZE | J_NULL}, {"thp.file", J_SIZE | J_NULL},
    {"top_users", J_ARR},
};
static const struct field pool_fields[] = {
    {"size_bytes", J_POS}, {"numa_node", J_SIZE | J_NULL}, {"total", J_SIZE}, {"free", J_SIZE},
    {"reserved", J_SIZE | J_NULL}, {"surplus", J_SIZE},
};
static const struct field top_user_fields[] = {
    {"pid", J_POS}, {"id", J_STR}, {"comm", J_STR | J_NULL}, {"hugetlb", J_SIZE | J_NULL},
    {"anon_huge", J_SIZE | J_NULL}, {"shmem_pmd_mapped", J_SIZE | J_NULL},
    {"file_pmd_mapped", J_SIZE | J_NULL},
};
static const struct field group_fields[] = {
    {"key", J_STR | J_NULL}, {"processes", J_SIZE}, {"rss", J_SIZE}, {"vm_hwm_sum", J_SIZE},
    {"vm_hwm_max", J_SIZE | J_NULL}, {"vm_hwm_max_pid", J_POS | J_NULL},
    {"vm_peak_max", J_SIZE | J_NULL}, {"observed_rss_peak", J_SIZE},
    {"observed_rss_peak_at", J_TIME | J_NULL}, {"exited", J_SIZE},
    {"exited_vm_hwm_max", J_SIZE | J_NULL},
};
static const struct field exited_fields[] = {
    {"pid", J_POS}, {"id", J_STR}, {"comm", J_STR | J_NULL}, {"unit", J_STR | J_NULL},
    {"start_time", J_TIME | J_NULL}, {"exited_by", J_TIME}, {"vm_hwm", J_SIZE | J_NULL},
    {"vm_peak", J_SIZE | J_NULL}, {"observed_rss_max", J_SIZE | J_NULL},
};

static json_int_t huge_total(json_t *u) {
    return int_at(u, "hugetlb", 0) + int_at(u, "anon_huge", 0) + int_at(u, "shmem_pmd_mapped", 0) +
           int_at(u, "file_pmd_mapped", 0);
}

static void check_hugepages(const struct daemon *d, bool fixture) {
    char ctx[96];
    (void)snprintf(ctx, sizeof(ctx), "%s: /api/v1/hugepages", d->name);
    json_t *doc = get_json(d, "/api/v1/hugepages");
    if (!doc)
        return;
    check_snapshot_ref(doc, ctx, 1);
    CHECK_FIELDS(doc, hugepages_fields, ctx, false);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "pools"), i, v) {
        char pctx[160];
        (void)snprintf(pctx, sizeof(pctx), "%s pools[%zu]", ctx, i);
        CHECK_FIELDS(v, pool_fields, pctx, false);
        /* The kernel keeps "reserved" only globally. */
        EXPECT(json_is_null(json_object_get(v, "numa_node")) ==
                   !json_is_null(json_object_get(v, "reserved")),
               "%s: reserved must be null exactly for per-NUMA-node pools", pctx);
        json_int_t sz = int_at(v, "size_bytes", 0);
        EXPECT(sz > 0 && (sz & (sz - 1)) == 0, "%s: size_bytes %lld", pctx, (long long)sz);
        EXPECT(int_at(v, "free", 0) <= int_at(v, "total", 0) + int_at(v, "surplus", 0),
               "%s: free > total", pctx);
    }
    json_t *users = json_object_get(doc, "top_users");
    EXPECT(json_array_size(users) <= 20, "%s: %zu top users (at most 20)", ctx,
           json_array_size(users));
    json_int_t prev = -1;
    json_array_foreach(users, i, v) {
        char uctx[160];
        (void)snprintf(uctx, sizeof(uctx), "%s top_users[%zu]", ctx, i);
        CHECK_FIELDS(v, top_user_fields, uctx, false);
        json_int_t t = huge_total(v);
        EXPECT(prev < 0 || t <= prev, "%s: not largest first", uctx);
        prev = t;
        /* Agrees with the process detail (same snapshot). */
        char path[64];
        (void)snprintf(path, sizeof(path), "/api/v1/processes/%lld", (long long)int_at(v, "pid", 0));
        json_t *pd = get_json(d, path);
        json_t *hp = lookup(pd, "process.hugepages", &(bool){0});
        const char *keys[] = {"hugetlb", "anon_huge", "shmem_pmd_mapped", "file_pmd_mapped"};
        for (size_t k = 0; k < 4; k++)
            EXPECT(json_equal(json_object_get(v, keys[k]), json_object_get(hp, keys[k])),
                   "%s: %s differs from the process detail's hugepages", uctx, keys[k]);
        EXPECT(json_equal(json_object_get(v, "id"), lookup(pd, "process.id", &(bool){0})),
               "%s: id differs from the process detail's", uctx);
        json_decref(pd);
    }
    if (fixture) {
        json_t *exp = json_object_get(g_expected, "hugepages");
        char where[600];
        if (exp)
            EXPECT(json_match(exp, doc, "hugepages", where, sizeof(where)),
                   "%s: differs from expected.json at %s", ctx, where);
    }
    json_decref(doc);
}

/* Groups recomputed from the process list (kernel threads excluded; one snapshot, so the
 * observed peak is today's sum). */
static void check_hiwater(const struct daemon *d, json_t *all, bool one_snapshot) {
    static const char *const bys[] = {"comm", "unit", "cgroup", "user", "none", NULL};
    for (size_t b = 0; bys[b]; b++) {
        char path[64], ctx[128];
        (void)snprintf(path, sizeof(path), "/api/v1/hiwater?group_by=%s", bys[b]);
        (void)snprintf(ctx, sizeof(ctx), "%s: %s", d->name, path);
        json_t *doc = get_json(d, b == 0 ? "/api/v1/hiwater" : path);
        if (!doc)
            continue;
        check_snapshot_ref(doc, ctx, one_snapshot ? 1 : -1);
        EXPECT(str_at(doc, "group_by") && strcmp(str_at(doc, "group_by"), bys[b]) == 0,
               "%s: group_by \"%s\"", ctx, str_at(doc, "group_by"));
        json_t *groups = json_object_get(doc, "groups");
        EXPECT(json_is_array(groups), "%s: groups is not an array", ctx);
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g) {
            char gctx[200];
            (void)snprintf(gctx, sizeof(gctx), "%s groups[%zu]", ctx, i);
            CHECK_FIELDS(g, group_fields, gctx, false);
            if (strcmp(bys[b], "none") == 0)
                EXPECT(json_is_null(json_object_get(g, "key")), "%s: key is not null", gctx);
            if (!all || !one_snapshot)
                continue;
            /* Members: user processes whose field equals the key. */
            json_int_t n = 0, rss = 0, hwm_sum = 0, hwm_max = -1, peak_max = -1;
            size_t k;
            json_t *p;
            json_array_foreach(all, k, p) {
                if (json_is_true(json_object_get(p, "kthread")))
                    continue;
                if (strcmp(bys[b], "none") != 0) {
                    json_t *f = json_object_get(p, bys[b]);
                    json_t *key = json_object_get(g, "key");
                    /* A process without a comm is "" in its summary and null as a group key. */
                    bool empty_comm = strcmp(bys[b], "comm") == 0 && json_is_null(key) &&
                                      json_is_string(f) && json_string_length(f) == 0;
                    if (!(json_equal(f, key) || (json_is_null(f) && json_is_null(key)) ||
                          empty_comm))
                        continue;
                }
                n++;
                rss += int_at(p, "memory.vm_rss", 0);
                hwm_sum += int_at(p, "memory.vm_hwm", 0);
                if (int_at(p, "memory.vm_hwm", -1) > hwm_max)
                    hwm_max = int_at(p, "memory.vm_hwm", -1);
                if (int_at(p, "memory.vm_peak", -1) > peak_max)
                    peak_max = int_at(p, "memory.vm_peak", -1);
            }
            EXPECT(int_at(g, "processes", -1) == n, "%s: processes %lld, the list says %lld", gctx,
                   (long long)int_at(g, "processes", -1), (long long)n);
            EXPECT(int_at(g, "rss", -1) == rss, "%s: rss %lld, the members' VmRSS sum to %lld",
                   gctx, (long long)int_at(g, "rss", -1), (long long)rss);
            EXPECT(int_at(g, "vm_hwm_sum", -1) == hwm_sum, "%s: vm_hwm_sum %lld, want %lld", gctx,
                   (long long)int_at(g, "vm_hwm_sum", -1), (long long)hwm_sum);
            if (hwm_max >= 0)
                EXPECT(int_at(g, "vm_hwm_max", -1) == hwm_max, "%s: vm_hwm_max %lld, want %lld",
                       gctx, (long long)int_at(g, "vm_hwm_max", -1), (long long)hwm_max);
            if (peak_max >= 0)
                EXPECT(int_at(g, "vm_peak_max", -1) == peak_max, "%s: vm_peak_max %lld, want %lld",
                       gctx, (long long)int_at(g, "vm_peak_max", -1), (long long)peak_max);
            EXPECT(int_at(g, "observed_rss_peak", -1) == rss,
                   "%s: observed_rss_peak %lld after one snapshot, rss %lld", gctx,
                   (long long)int_at(g, "observed_rss_peak", -1), (long long)rss);
            json_int_t mp = int_at(g, "vm_hwm_max_pid", 0);
            json_array_foreach(all, k, p) if (int_at(p, "pid", -1) == mp)
                EXPECT(int_at(p, "memory.vm_hwm", -1) == int_at(g, "vm_hwm_max", -2),
                       "%s: vm_hwm_max_pid %lld does not have the group's vm_hwm_max", gctx,
                       (long long)mp);
            EXPECT(int_at(g, "exited", -1) == 0, "%s: exited %lld in the first snapshot", gctx,
                   (long long)int_at(g, "exited", -1));
        }
        if (all && one_snapshot && strcmp(bys[b], "none") == 0)
            EXPECT(json_array_size(groups) == 1, "%s: %zu groups for group_by=none", ctx,
                   json_array_size(groups));
        json_decref(doc);
    }
    char what[64];
    (void)snprintf(what, sizeof(what), "%s", "/api/v1/hiwater?group_by=bogus");
    expect_error(d, what, NULL, 400);
    expect_error(d, "/api/v1/hiwater?group_by=", NULL, 400);
    expect_error(d, "/api/v1/hiwater?group_by=COMM", NULL, 400);
    expect_error(d, "/api/v1/hiwater?sort=rss", NULL, 400);
}

static json_t *check_exited(const struct daemon *d) {
    char ctx[96];
    (void)snprintf(ctx, sizeof(ctx), "%s: /api/v1/exited", d->name);
    json_t *doc = get_json(d, "/api/v1/exited");
    if (!doc)
        return NULL;
    check_snapshot_ref(doc, ctx, -1);
    json_t *list = json_object_get(doc, "exited");
    EXPECT(json_is_array(list), "%s: exited is not an array", ctx);
    size_t i;
    json_t *e;
    const char *prev = NULL;
    json_array_foreach(list, i, e) {
        char ectx[160];
        (void)snprintf(ectx, sizeof(ectx), "%s [%zu]", ctx, i);
        CHECK_FIELDS(e, exited_fields, ectx, false);
        const char *by = str_at(e, "exited_by");
        EXPECT(!prev || !by || strcmp(by, prev) <= 0, "%s: not newest first", ectx);
        prev = by;
    }
    return doc;
}

/* --- /api/v1/processes query semantics --------------------------------------------------- */

/* Decode the "\xHH" escapes of a kernel string back into bytes (for bytewise comparisons). */
static char *unescape_kernel(const char *s) {
    char *out = malloc(strlen(s) + 1), *o = out;
    while (*s) {
        unsigned b;
        if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &b) == 1 && s[2] && s[3]) {
            *o++ = (char)b;
            s += 4;
        } else {
            *o++ = *s++;
        }
    }
    *o = 0;
    return out;
}

struct pq {
    const char *sort, *order, *kthreads;
    long limit, offset; /* -1: not given */
    const char *comm, *user, *unit, *cgroup; /* raw bytes; NULL: not given */
};

struct sort_item {
    json_t *p;
    bool present;
    json_int_t key;
    char *str;
    json_int_t pid;
};

static int g_sort_desc;
static bool g_sort_str;

static int cmp_items(const void *a_, const void *b_) {
    const struct sort_item *a = a_, *b = b_;
    if (a->present != b->present)
        return a->present ? -1 : 1;
    if (a->present) {
        int c = g_sort_str ? strcmp(a->str, b->str)
                           : (a->key < b->key ? -1 : a->key > b->key ? 1 : 0);
        if (c)
            return g_sort_desc ? -c : c;
    }
    return a->pid < b->pid ? -1 : a->pid > b->pid;
}

static const char *sort_path(const char *sort) {
    static const char *const map[][2] = {
        {"rss", "memory.vm_rss"},   {"pss", "rollup.pss"},        {"uss", "rollup.uss"},
        {"swap", "memory.vm_swap"}, {"vm_hwm", "memory.vm_hwm"},  {"vm_peak", "memory.vm_peak"},
        {"hugetlb", "memory.hugetlb"}, {"anon_huge", "rollup.anon_huge"},
        {"vmas", "vma_count"},      {"pid", "pid"},                {"comm", "comm"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(sort, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static bool str_match(json_t *p, const char *key, const char *want, bool prefix) {
    const char *s = str_at(p, key);
    if (!s)
        return false;
    char *raw = unescape_kernel(s);
    bool ok = prefix ? starts_with(raw, want) : strcmp(raw, want) == 0;
    free(raw);
    return ok;
}

static void append_param(char **url, const char *name, const char *value) {
    char *esc = curl_easy_escape(g_curl, value, (int)strlen(value));
    char *n = xasprintf("%s%s%s=%s", *url, strchr(*url, '?') ? "&" : "?", name, esc);
    curl_free(esc);
    free(*url);
    *url = n;
}

/* Run the query and compare with what the full list (same snapshot) says it must return. */
static void check_query(const struct daemon *d, json_t *all, const struct pq *q) {
    char *url = strdup("/api/v1/processes");
    char num[32];
    if (q->sort)
        append_param(&url, "sort", q->sort);
    if (q->order)
        append_param(&url, "order", q->order);
    if (q->limit >= 0) {
        (void)snprintf(num, sizeof(num), "%ld", q->limit);
        append_param(&url, "limit", num);
    }
    if (q->offset >= 0) {
        (void)snprintf(num, sizeof(num), "%ld", q->offset);
        append_param(&url, "offset", num);
    }
    if (q->comm)
        append_param(&url, "comm", q->comm);
    if (q->user)
        append_param(&url, "user", q->user);
    if (q->unit)
        append_param(&url, "unit", q->unit);
    if (q->cgroup)
        append_param(&url, "cgroup", q->cgroup);
    if (q->kthreads)
        append_param(&url, "kthreads", q->kthreads);

    /* Expected: filter, sort (absent last, ties by pid), offset, limit. */
    const char *sort = q->sort ? q->sort : "rss";
    const char *kpath = sort_path(sort);
    const char *kt = q->kthreads ? q->kthreads : "exclude";
    size_t n = json_array_size(all), m = 0;
    struct sort_item *items = calloc(n + 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(all, i);
        bool kthread = json_is_true(json_object_get(p, "kthread"));
        if ((strcmp(kt, "exclude") == 0 && kthread) || (strcmp(kt, "only") == 0 && !kthread))
            continue;
        if (q->comm && *q->comm) {
            const char *c = str_at(p, "comm");
            char *raw = unescape_kernel(c ? c : "");
            bool ok = strcmp(raw, q->comm) == 0;
            free(raw);
            if (!ok)
                continue;
        }
        if (q->user && *q->user && !str_match(p, "user", q->user, false))
            continue;
        if (q->unit && *q->unit && !str_match(p, "unit", q->unit, false))
            continue;
        if (q->cgroup && *q->cgroup && !str_match(p, "cgroup", q->cgroup, true))
            continue;
        struct sort_item *it = &items[m++];
        it->p = p;
        it->pid = int_at(p, "pid", 0);
        bool hn;
        json_t *kv = lookup(p, kpath, &hn);
        if (strcmp(sort, "comm") == 0) {
            it->present = true;
            it->str = unescape_kernel(json_is_string(kv) ? json_string_value(kv) : "");
        } else {
            it->present = json_is_integer(kv);
            it->key = it->present ? json_integer_value(kv) : 0;
        }
    }
    g_sort_str = strcmp(sort, "comm") == 0;
    g_sort_desc = q->order ? strcmp(q->order, "desc") == 0
                           : !(strcmp(sort, "pid") == 0 || strcmp(sort, "comm") == 0);
    qsort(items, m, sizeof(*items), cmp_items);
    size_t first = q->offset > 0 ? (size_t)q->offset : 0;
    size_t limit = q->limit > 0 ? (size_t)q->limit : 100;
    if (first > m)
        first = m;
    size_t last = first + (limit < m - first ? limit : m - first);

    char ctx[600];
    (void)snprintf(ctx, sizeof(ctx), "%s: GET %s", d->name, url);
    json_t *doc = get_json(d, url);
    if (doc) {
        json_t *got = json_object_get(doc, "processes");
        EXPECT((size_t)int_at(doc, "total", -1) == m, "%s: total %lld, want %zu", ctx,
               (long long)int_at(doc, "total", -1), m);
        bool same = json_array_size(got) == last - first;
        for (size_t i = 0; same && i < last - first; i++)
            same = json_equal(json_array_get(got, i), items[first + i].p);
        if (!same) {
            FAIL("%s: wrong processes or order", ctx);
            fprintf(stderr, "   want pids:");
            for (size_t i = first; i < last; i++)
                fprintf(stderr, " %lld", (long long)items[i].pid);
            fprintf(stderr, "\n   got pids: ");
            size_t i;
            json_t *v;
            json_array_foreach(got, i, v) fprintf(stderr, " %lld", (long long)int_at(v, "pid", -1));
            fprintf(stderr, "\n");
        }
        json_decref(doc);
    }
    for (size_t i = 0; i < m; i++)
        free(items[i].str);
    free(items);
    free(url);
}

static const char *const sort_keys[] = {"rss",     "pss",     "uss",  "swap", "vm_hwm", "vm_peak",
                                        "hugetlb", "anon_huge", "vmas", "pid", "comm",   NULL};

/* The list and every query parameter. Returns the full list (kthreads included). */
static json_t *check_processes(const struct daemon *d, json_t *node, bool fixture) {
    char ctx[128];
    (void)snprintf(ctx, sizeof(ctx), "%s: /api/v1/processes", d->name);
    json_t *full = get_json(d, "/api/v1/processes?kthreads=include&limit=10000&sort=pid&order=asc");
    if (!full)
        return NULL;
    EXPECT(json_object_size(full) == 3 && json_is_array(json_object_get(full, "processes")) &&
               json_is_integer(json_object_get(full, "total")),
           "%s: document is not {snapshot, total, processes}", ctx);
    check_snapshot_ref(full, ctx, 1);
    json_t *all = json_object_get(full, "processes");
    size_t i;
    json_t *p;
    size_t kthreads = 0;
    json_int_t vmas = 0;
    json_array_foreach(all, i, p) {
        char pctx[160];
        (void)snprintf(pctx, sizeof(pctx), "%s [pid %lld]", ctx, (long long)int_at(p, "pid", -1));
        check_summary(p, pctx);
        kthreads += json_is_true(json_object_get(p, "kthread"));
        vmas += int_at(p, "vma_count", 0);
    }
    if (node) {
        EXPECT(int_at(node, "snapshot.processes", -1) == (json_int_t)(json_array_size(all) - kthreads),
               "%s: node snapshot.processes %lld, list has %zu user processes", ctx,
               (long long)int_at(node, "snapshot.processes", -1), json_array_size(all) - kthreads);
        EXPECT(int_at(node, "snapshot.kthreads", -1) == (json_int_t)kthreads,
               "%s: node snapshot.kthreads %lld, list has %zu", ctx,
               (long long)int_at(node, "snapshot.kthreads", -1), kthreads);
        EXPECT(int_at(node, "snapshot.vmas", -1) == vmas,
               "%s: node snapshot.vmas %lld, the processes' vma_count sum to %lld", ctx,
               (long long)int_at(node, "snapshot.vmas", -1), (long long)vmas);
    }
    if (fixture) {
        json_t *exp = json_object_get(json_object_get(g_expected, "processes"), "processes");
        /* expected.json lists them in the default order; compare by pid. */
        EXPECT(json_array_size(exp) == json_array_size(all), "%s: %zu processes, expected.json has %zu",
               ctx, json_array_size(all), json_array_size(exp));
        json_t *e;
        json_array_foreach(exp, i, e) {
            json_int_t pid = int_at(e, "pid", -1);
            json_t *a = NULL;
            size_t k;
            json_array_foreach(all, k, p) if (int_at(p, "pid", -2) == pid) a = p;
            char where[600], pctx[64];
            (void)snprintf(pctx, sizeof(pctx), "[pid %lld]", (long long)pid);
            EXPECT(a && json_match(e, a, pctx, where, sizeof(where)),
                   "%s: differs from expected.json at %s", ctx, a ? where : pctx);
        }
    }

    /* Every sort key, default order and both orders, kernel threads included. */
    for (size_t k = 0; sort_keys[k]; k++) {
        check_query(d, all, &(struct pq){.sort = sort_keys[k], .kthreads = "include", .limit = 10000, .offset = -1});
        check_query(d, all, &(struct pq){.sort = sort_keys[k], .order = "asc", .kthreads = "include", .limit = 10000, .offset = -1});
        check_query(d, all, &(struct pq){.sort = sort_keys[k], .order = "desc", .limit = -1, .offset = -1});
    }
    /* Defaults, kthreads modes, paging. */
    check_query(d, all, &(struct pq){.limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.kthreads = "exclude", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.kthreads = "include", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.kthreads = "only", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.order = "asc", .limit = -1, .offset = -1}); /* order before sort */
    check_query(d, all, &(struct pq){.sort = "vmas", .order = "asc", .limit = 2, .offset = -1});
    check_query(d, all, &(struct pq){.sort = "pid", .limit = 1, .offset = 0});
    check_query(d, all, &(struct pq){.sort = "pid", .limit = 2, .offset = 2, .kthreads = "include"});
    check_query(d, all, &(struct pq){.sort = "pid", .limit = 3, .offset = 6, .kthreads = "include"});
    check_query(d, all, &(struct pq){.sort = "comm", .limit = 10000, .offset = 1});
    check_query(d, all, &(struct pq){.limit = 5, .offset = 1000000});
    check_query(d, all, &(struct pq){.limit = 10000, .offset = 0});
    /* Filters: values taken from the data, and ones that match nothing. */
    json_t *some = json_array_get(all, json_array_size(all) / 2);
    const char *vals[4] = {str_at(some, "comm"), str_at(some, "user"), str_at(some, "unit"),
                           str_at(some, "cgroup")};
    char *raw_comm = unescape_kernel(vals[0] ? vals[0] : "x");
    check_query(d, all, &(struct pq){.comm = raw_comm, .kthreads = "include", .limit = -1, .offset = -1});
    free(raw_comm);
    if (vals[1])
        check_query(d, all, &(struct pq){.user = vals[1], .kthreads = "include", .limit = -1, .offset = -1});
    if (vals[2])
        check_query(d, all, &(struct pq){.unit = vals[2], .limit = -1, .offset = -1});
    if (vals[3]) {
        check_query(d, all, &(struct pq){.cgroup = vals[3], .kthreads = "include", .limit = -1, .offset = -1});
        char *half = strndup(vals[3], strlen(vals[3]) / 2 + 1);
        check_query(d, all, &(struct pq){.cgroup = half, .kthreads = "include", .sort = "pid", .limit = -1, .offset = -1});
        free(half);
    }
    check_query(d, all, &(struct pq){.comm = "no such comm", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.user = "no-such-user", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.unit = "no-such.service", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.cgroup = "/no/such", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.cgroup = "/", .kthreads = "include", .limit = -1, .offset = -1});
    check_query(d, all, &(struct pq){.comm = "", .user = "", .limit = -1, .offset = -1}); /* empty = any */

    if (fixture) {
        /* The hostile case's own facts (tests/fixtures/hostile/expected.json). */
        struct {
            struct pq q;
            const char *pids;
        } facts[] = {
            {{.kthreads = "only", .limit = -1, .offset = -1}, "106"},
            {{.sort = "pid", .limit = -1, .offset = -1}, "100 101 102 103 104 105 107"},
            {{.sort = "pid", .kthreads = "include", .limit = -1, .offset = -1}, "100 101 102 103 104 105 106 107"},
            {{.comm = "a) b (c\n", .limit = -1, .offset = -1}, "100"},
            {{.comm = "kworker/u8:1-events_unbound", .limit = -1, .offset = -1}, ""},
            {{.comm = "kworker/u8:1-events_unbound", .kthreads = "include", .limit = -1, .offset = -1}, "106"},
            {{.unit = "session-3.scope", .limit = -1, .offset = -1}, "101"},
            {{.cgroup = "/user.slice", .limit = -1, .offset = -1}, "101"},
            {{.cgroup = "/system.slice/hostile", .sort = "pid", .order = "desc", .limit = 2, .offset = 1}, "105 104"},
            {{.sort = "vmas", .limit = -1, .offset = -1}, "100 101 102 103 105 107 104"},
            {{.sort = "vmas", .order = "asc", .limit = -1, .offset = -1}, "102 103 105 107 101 100 104"},
            {{.sort = "pss", .order = "asc", .limit = -1, .offset = -1}, "100 101 103 104 105 107 102"},
            {{.sort = "comm", .limit = -1, .offset = -1}, "107 100 105 103 104 102 101"},
            {{.sort = "comm", .order = "desc", .limit = 3, .offset = -1}, "101 102 104"},
        };
        for (size_t f = 0; f < sizeof(facts) / sizeof(facts[0]); f++) {
            char *url = strdup("/api/v1/processes");
            const struct pq *q = &facts[f].q;
            char num[16];
            if (q->sort) append_param(&url, "sort", q->sort);
            if (q->order) append_param(&url, "order", q->order);
            if (q->limit >= 0) { (void)snprintf(num, sizeof(num), "%ld", q->limit); append_param(&url, "limit", num); }
            if (q->offset >= 0) { (void)snprintf(num, sizeof(num), "%ld", q->offset); append_param(&url, "offset", num); }
            if (q->comm) append_param(&url, "comm", q->comm);
            if (q->unit) append_param(&url, "unit", q->unit);
            if (q->cgroup) append_param(&url, "cgroup", q->cgroup);
            if (q->kthreads) append_param(&url, "kthreads", q->kthreads);
            json_t *doc = get_json(d, url);
            char got[256] = "";
            json_t *v;
            json_array_foreach(json_object_get(doc, "processes"), i, v)
                (void)snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%lld",
                               i ? " " : "", (long long)int_at(v, "pid", -1));
            EXPECT(doc && strcmp(got, facts[f].pids) == 0, "%s: GET %s: pids \"%s\", want \"%s\"",
                   d->name, url, got, facts[f].pids);
            json_decref(doc);
            free(url);
        }
        /* Check the facts themselves against expected.json: 104 has no vma_count, 102 no pss. */
        check_query(d, all, &(struct pq){.sort = "vmas", .limit = -1, .offset = -1});
    }
    json_incref(all);
    json_decref(full);
    return all;
}

/* --- /metrics ---------------------------------------------------------------------------- */

static const char *const required_families[] = {
    "vmatlas_build_info", "vmatlas_scan_duration_seconds", "vmatlas_scans_total",
    "vmatlas_scan_errors_total", "vmatlas_processes", "vmatlas_kernel_threads", "vmatlas_vmas",
    "vmatlas_map_count_limit", "vmatlas_process_vmas_max", "vmatlas_hugepages",
    "vmatlas_thp_bytes", "vmatlas_group_resident_bytes", "vmatlas_group_hiwater_bytes",
    "vmatlas_group_observed_peak_bytes", "vmatlas_group_processes",
    "vmatlas_process_resident_bytes", "vmatlas_process_hiwater_bytes",
    "vmatlas_process_virtual_peak_bytes", "vmatlas_process_pss_bytes",
    "vmatlas_process_swap_bytes", "vmatlas_process_hugetlb_bytes",
    "vmatlas_process_anon_huge_bytes", NULL};

/* The value of the first sample line "NAME VALUE" or "NAME{...} VALUE" (labels must contain
 * label_part when given). NAN when there is none. */
static double metric_value(const char *text, const char *name, const char *label_part) {
    size_t n = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > n && strncmp(line, name, n) == 0 && (line[n] == ' ' || line[n] == '{')) {
            char *l = strndup(line, len);
            const char *val = strrchr(l, ' ');
            bool ok = !label_part || strstr(l, label_part);
            double v = ok && val ? strtod(val + 1, NULL) : -1;
            free(l);
            if (ok)
                return v;
        }
        line = eol ? eol + 1 : NULL;
    }
    return -1;
}

/* Distinct pid="..." labels of a per-process family. */
static size_t process_series(const char *text, const char *family) {
    size_t count = 0, n = strlen(family);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (strncmp(line, family, n) == 0 && line[n] == '{')
            count++;
        line = eol ? eol + 1 : NULL;
    }
    return count;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void check_metrics(const struct daemon *d, json_t *node, size_t top_k, bool live) {
    char ctx[96];
    (void)snprintf(ctx, sizeof(ctx), "%s: /metrics", d->name);
    struct resp r = get(d, "/metrics");
    EXPECT(r.status == 200, "%s: status %ld", ctx, r.status);
    char *ct = header(r.hdrs, "Content-Type");
    EXPECT(ct && starts_with(ct, "text/plain") && strstr(ct, "version=0.0.4"),
           "%s: Content-Type \"%s\", want text/plain; version=0.0.4", ctx, ct ? ct : "(none)");
    free(ct);
    EXPECT(header_has(r.hdrs, "Vary", "Accept"), "%s: no Vary: Accept", ctx);
    EXPECT(!strstr(r.body, "# EOF"), "%s: \"# EOF\" in the 0.0.4 text", ctx);
    for (size_t i = 0; required_families[i]; i++) {
        /* A fixture tree without /proc/meminfo or hugepage pools has no data for these. */
        if (!live && (strcmp(required_families[i], "vmatlas_thp_bytes") == 0 ||
                      strcmp(required_families[i], "vmatlas_hugepages") == 0) &&
            !strstr(r.body, required_families[i]))
            continue;
        char *help = xasprintf("# HELP %s ", required_families[i]);
        char *type = xasprintf("# TYPE %s ", required_families[i]);
        EXPECT(strstr(r.body, help) && strstr(r.body, type),
               "%s: family %s (API.md: must exist) has no # HELP / # TYPE", ctx,
               required_families[i]);
        free(help);
        free(type);
    }
    /* Every sample is a vmatlas_ series. */
    for (const char *line = r.body; *line;) {
        const char *eol = strchr(line, '\n');
        if (*line != '#' && *line != '\n')
            EXPECT(starts_with(line, "vmatlas_"), "%s: sample without the prefix: %.80s", ctx, line);
        if (!eol)
            break;
        line = eol + 1;
    }
    EXPECT(r.len > 0 && r.body[r.len - 1] == '\n', "%s: body does not end with a newline", ctx);
    EXPECT(metric_value(r.body, "vmatlas_scans_total", NULL) == 1, "%s: vmatlas_scans_total %g",
           ctx, metric_value(r.body, "vmatlas_scans_total", NULL));
    if (node) {
        EXPECT(metric_value(r.body, "vmatlas_processes", NULL) ==
                   (double)int_at(node, "snapshot.processes", -1),
               "%s: vmatlas_processes != node snapshot.processes", ctx);
        EXPECT(metric_value(r.body, "vmatlas_kernel_threads", NULL) ==
                   (double)int_at(node, "snapshot.kthreads", -1),
               "%s: vmatlas_kernel_threads != node snapshot.kthreads", ctx);
        EXPECT(metric_value(r.body, "vmatlas_vmas", NULL) == (double)int_at(node, "snapshot.vmas", -1),
               "%s: vmatlas_vmas != node snapshot.vmas", ctx);
        char *ver = xasprintf("version=\"%s\"", str_at(node, "version") ? str_at(node, "version") : "?");
        EXPECT(metric_value(r.body, "vmatlas_build_info", ver) == 1,
               "%s: no vmatlas_build_info{%s} 1", ctx, ver);
        free(ver);
        if (int_at(node, "max_map_count", -1) > 0)
            EXPECT(metric_value(r.body, "vmatlas_map_count_limit", NULL) ==
                       (double)int_at(node, "max_map_count", -1),
                   "%s: vmatlas_map_count_limit != node max_map_count", ctx);
    }
    /* Per-process series: the top K user processes by RSS (ties by pid), the ones whose RSS
     * is known; the same order /api/v1/processes?sort=rss gives. */
    char *q = xasprintf("/api/v1/processes?sort=rss&limit=%zu", top_k ? top_k : 1);
    json_t *top = get_json(d, q);
    free(q);
    int wpids[512], gpids[512];
    size_t nw = 0, ng = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(top, "processes"), i, p) {
        if (top_k && nw < 512 && json_is_integer(lookup(p, "memory.vm_rss", &(bool){0})))
            wpids[nw++] = (int)int_at(p, "pid", -1);
    }
    json_decref(top);
    for (const char *line = r.body; (line = strstr(line, "\nvmatlas_process_resident_bytes{"));) {
        line++;
        const char *pid = strstr(line, "pid=\"");
        const char *eol = strchr(line, '\n');
        if (pid && (!eol || pid < eol) && ng < 512)
            gpids[ng++] = atoi(pid + 5);
    }
    /* As sets: the order of series is not part of the contract. */
    qsort(wpids, nw, sizeof(int), cmp_int);
    qsort(gpids, ng, sizeof(int), cmp_int);
    char want[4096] = "", got[4096] = "";
    for (size_t k = 0; k < nw; k++)
        (void)snprintf(want + strlen(want), sizeof(want) - strlen(want), " %d", wpids[k]);
    for (size_t k = 0; k < ng; k++)
        (void)snprintf(got + strlen(got), sizeof(got) - strlen(got), " %d", gpids[k]);
    EXPECT(strcmp(want, got) == 0,
           "%s: vmatlas_process_resident_bytes series for pids [%s ], want the top %zu by RSS "
           "[%s ]",
           ctx, got, top_k, want);
    size_t series = process_series(r.body, "vmatlas_process_hiwater_bytes");
    EXPECT(series <= top_k, "%s: %zu vmatlas_process_hiwater_bytes series, top-k %zu", ctx, series,
           top_k);
    char *etag_text = header(r.hdrs, "ETag");

    const char *om_hdr[] = {"Accept: application/openmetrics-text; version=1.0.0", NULL};
    struct resp o = http(d, "/metrics", &(struct req){.headers = om_hdr});
    EXPECT(o.status == 200, "%s (OpenMetrics): status %ld", ctx, o.status);
    ct = header(o.hdrs, "Content-Type");
    EXPECT(ct && starts_with(ct, "application/openmetrics-text") && strstr(ct, "version=1.0.0"),
           "%s: OpenMetrics Content-Type \"%s\"", ctx, ct ? ct : "(none)");
    free(ct);
    EXPECT(ends_with(o.body, "\n# EOF\n") || strcmp(o.body, "# EOF\n") == 0,
           "%s: OpenMetrics body does not end with a final \"# EOF\" line: ...%s", ctx,
           o.len > 40 ? o.body + o.len - 40 : o.body);
    EXPECT(strstr(o.body, "# EOF") == o.body + o.len - 6, "%s: \"# EOF\" before the end", ctx);
    char *etag_om = header(o.hdrs, "ETag");
    EXPECT(etag_text && etag_om && strcmp(etag_text, etag_om) != 0,
           "%s: the text and OpenMetrics bodies share an ETag", ctx);
    /* An If-None-Match of the text variant does not make the OpenMetrics one 304. */
    if (etag_text) {
        char *inm = xasprintf("If-None-Match: %s", etag_text);
        const char *h2[] = {om_hdr[0], inm, NULL};
        struct resp o2 = http(d, "/metrics", &(struct req){.headers = h2});
        EXPECT(o2.status == 200, "%s: OpenMetrics with the text ETag: status %ld", ctx, o2.status);
        resp_free(&o2);
        free(inm);
    }
    free(etag_text);
    free(etag_om);
    resp_free(&o);
    resp_free(&r);
}

/* --- errors ------------------------------------------------------------------------------ */

static char *repeat(char c, size_t n) {
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

static void check_errors(const struct daemon *d) {
    printf("%s: error cases\n", d->name);
    /* Unknown parameters, on every endpoint. */
    const char *unknown[] = {"/api/v1/processes?bogus=1", "/api/v1/processes?sort=pid&bogus",
                             "/api/v1/node?x=1", "/api/v1/processes/100?x=1",
                             "/api/v1/processes/100/vmas?x=1", "/metrics?x=1", "/healthz?x=1",
                             "/readyz?x=1", "/api/v1/processes?SORT=pid",
                             "/api/v1/hugepages?x=1", "/api/v1/exited?x=1",
                             "/api/v1/hiwater?x=1", "/api/v1/processes/100/residency?x=1", NULL};
    for (size_t i = 0; unknown[i]; i++)
        expect_error(d, unknown[i], NULL, 400);
    struct resp r = get(d, "/api/v1/processes?bogus_name=1");
    EXPECT(strstr(r.body, "bogus_name"), "unknown parameter: the message does not name it: %s",
           r.body);
    resp_free(&r);
    /* Bad values. */
    const char *bad[] = {
        "sort=bogus", "sort=RSS", "sort=", "sort", "order=up", "order=", "order=DESC",
        "limit=0", "limit=10001", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=%201",
        "limit=1e3", "limit=99999999999999999999999", "offset=-1", "offset=abc", "offset=1.5",
        "offset=", "kthreads=all", "kthreads=", "kthreads=ONLY", "pretty=2", "pretty=yes",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        char *p = xasprintf("/api/v1/processes?%s", bad[i]);
        expect_error(d, p, NULL, 400);
        free(p);
    }
    /* Limits that are allowed. */
    const char *good[] = {"/api/v1/processes?limit=1", "/api/v1/processes?limit=10000",
                          "/api/v1/processes?offset=0", "/api/v1/processes?pretty=0",
                          "/api/v1/processes?pretty=true", "/api/v1/processes?pretty",
                          "/api/v1/processes?limit=1&limit=2", NULL};
    for (size_t i = 0; good[i]; i++) {
        r = get(d, good[i]);
        EXPECT(r.status == 200, "GET %s: status %ld, want 200: %.200s", good[i], r.status, r.body);
        resp_free(&r);
    }
    /* pid not a positive integer -> 400; unknown pid -> 404. */
    const char *bad_pid[] = {"abc", "0", "-1", "1.5", "99999999999", "%201", "1a", "0x10", "%2B5",
                             "1e3", NULL};
    for (size_t i = 0; bad_pid[i]; i++) {
        char *p = xasprintf("/api/v1/processes/%s", bad_pid[i]);
        expect_error(d, p, NULL, 400);
        free(p);
        p = xasprintf("/api/v1/processes/%s/vmas", bad_pid[i]);
        expect_error(d, p, NULL, 400);
        free(p);
        p = xasprintf("/api/v1/processes/%s/residency", bad_pid[i]);
        expect_error(d, p, NULL, 400);
        free(p);
    }
    const char *no_pid[] = {"/api/v1/processes/99999", "/api/v1/processes/2147483647",
                            "/api/v1/processes/4194305/vmas", "/api/v1/processes/99999/residency",
                            NULL};
    for (size_t i = 0; no_pid[i]; i++)
        expect_error(d, no_pid[i], NULL, 404);
    /* ?refresh=1 on /residency (a budgeted page walk, 429 when spent) comes with the page-walk
     * residency issue, together with its own checks. */
    /* Unknown paths. */
    const char *no_path[] = {"/nope", "/api", "/api/v1", "/api/v2/node", "/api/v1/nodes",
                             "/api/v1/node/", "/metricsx", "/healthz/", "/readyz/x",
                             "/api/v1/processes/100/bogus", "/api/v1/processes/100/vmas/",
                             "/api/v1/processes/100/vmas/x", "/API/V1/NODE",
                             "/api/v1/processes/abc/bogus", "/api/v1/hugepages/",
                             "/api/v1/processes/100/residency/", "/api/v1/hiwater/comm", NULL};
    for (size_t i = 0; no_path[i]; i++)
        expect_error(d, no_path[i], NULL, 404);
    /* Targets whose decoded form would lie: a NUL cuts it, an encoded '/' adds a segment. */
    const char *bad_target[] = {"/%00", "/healthz%00.html", "/api%2Fv1%2Fnode",
                                "/api/v1/processes?comm=x%00y", NULL};
    for (size_t i = 0; bad_target[i]; i++)
        expect_error(d, bad_target[i], NULL, 400);

    /* Methods: 405 with Allow: GET, HEAD (before anything else, even on unknown paths). */
    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW", "TRACE", NULL};
    const char *paths[] = {"/healthz", "/api/v1/processes", "/metrics", "/nope", NULL};
    for (size_t m = 0; methods[m]; m++)
        for (size_t p = 0; paths[p]; p++) {
            r = http(d, paths[p], &(struct req){.method = methods[m]});
            char what[128];
            (void)snprintf(what, sizeof(what), "%s %s", methods[m], paths[p]);
            check_error_resp(what, &r, (const long[]){405}, 1);
            char *allow = header(r.hdrs, "Allow");
            EXPECT(allow && strstr(allow, "GET") && strstr(allow, "HEAD"),
                   "%s: Allow \"%s\", want GET and HEAD", what, allow ? allow : "(none)");
            free(allow);
            resp_free(&r);
        }

    /* Bodies. */
    r = http(d, "/healthz", &(struct req){.method = "POST", .body = "hello", .body_len = 5});
    check_error_resp("POST /healthz with a body", &r, (const long[]){405, 413}, 2);
    resp_free(&r);
    r = http(d, "/api/v1/processes", &(struct req){.body = "hello", .body_len = 5});
    check_error_resp("GET with Content-Length: 5 and a body", &r, (const long[]){413}, 1);
    resp_free(&r);
    const char *raw_bodies[] = {
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        "GET /api/v1/node HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        NULL};
    for (size_t i = 0; raw_bodies[i]; i++) {
        r = raw_http(d, raw_bodies[i], strlen(raw_bodies[i]));
        check_error_resp(i ? "GET chunked body (raw)" : "GET Content-Length: 5 (raw)", &r,
                         (const long[]){413}, 1);
        resp_free(&r);
    }
    r = raw_simple(d, "GET", "/healthz", "Content-Length: 0\r\n");
    EXPECT(r.status == 200, "GET with Content-Length: 0: status %ld, want 200", r.status);
    resp_free(&r);

    /* URL longer than 8 KiB -> 414; in the query and in the path. */
    char *a = repeat('a', 9000);
    char *p = xasprintf("/api/v1/processes?comm=%s", a);
    expect_error(d, p, NULL, 414);
    free(p);
    p = xasprintf("/%s", a);
    expect_error(d, p, NULL, 414);
    free(p);
    p = xasprintf("/api/v1/processes?comm=%s", a + 9000 - (8192 - 23 - 40));
    r = get(d, p); /* just under the limit: answered normally */
    EXPECT(r.status == 200, "GET of a %zu-byte URL: status %ld, want 200", strlen(p), r.status);
    resp_free(&r);
    free(p);
    free(a);
    /* The boundary: a request target of exactly 8192 bytes is served, 8193 is 414. */
    a = repeat('a', 8192);
    a[0] = '/';
    r = get(d, a);
    EXPECT(r.status == 404, "GET of an 8192-byte target: status %ld, want 404 (no such path)",
           r.status);
    resp_free(&r);
    free(a);
    a = repeat('a', 8193);
    a[0] = '/';
    expect_error(d, a, NULL, 414);
    free(a);
    /* Far beyond: libmicrohttpd's own buffer limit answers; the status must still be right. */
    a = repeat('a', 100000);
    p = xasprintf("/api/v1/processes?comm=%s", a);
    r = get(d, p);
    EXPECT(r.status == 414 || r.status == 431 || r.status == 413,
           "GET of a 100 KB URL: status %ld, want 414", r.status);
    if (r.status == 414 && !header_has(r.hdrs, "Content-Type", "application/json"))
        printf("note: a 100 KB URL gets libmicrohttpd's own 414 page, not a JSON error body\n");
    resp_free(&r);
    free(p);
    free(a);

    /* Headers larger than 16 KiB -> 431 (or 413): one big header, and many small ones. */
    a = repeat('b', 17000);
    char *h = xasprintf("X-Big: %s", a);
    const char *hh[] = {h, NULL};
    r = http(d, "/healthz", &(struct req){.headers = hh});
    check_error_resp("GET with a 17 KB header", &r, (const long[]){431, 413}, 2);
    resp_free(&r);
    free(h);
    free(a);
    char *many = NULL;
    size_t mlen = 0;
    FILE *m = open_memstream(&many, &mlen);
    for (int i = 0; i < 40; i++) {
        char *v = repeat('c', 480);
        fprintf(m, "X-H%d: %s\r\n", i, v);
        free(v);
    }
    fclose(m);
    r = raw_simple(d, "GET", "/api/v1/node", many);
    check_error_resp("GET with 40 headers of 0.5 KB", &r, (const long[]){431, 413}, 2);
    resp_free(&r);
    free(many);
    a = repeat('d', 100000);
    h = xasprintf("X-Huge: %s", a);
    const char *hh2[] = {h, NULL};
    r = http(d, "/healthz", &(struct req){.headers = hh2});
    EXPECT(r.status == 431 || r.status == 413, "GET with a 100 KB header: status %ld, want 431",
           r.status);
    if (r.status > 0 && !header_has(r.hdrs, "Content-Type", "application/json"))
        printf("note: a 100 KB header gets libmicrohttpd's own %ld page, not a JSON error body\n",
               r.status);
    resp_free(&r);
    free(h);
    free(a);

    /* Odd but harmless input never gets a 5xx. */
    const char *odd[] = {"/api/v1/processes?comm=%00", "/api/v1/processes?comm=%ZZ",
                         "/api/v1/processes?%00=1", "/api/v1/processes?=1",
                         "/api/v1/processes?&&&", "/api/v1/processes?comm=%FF%FE",
                         "/api/v1/processes?cgroup=%2F..%2F..", "/api/v1/processes/%31",
                         "/api/v1/processes/1%2Fvmas", "/..%2F..%2Fetc%2Fpasswd", "/%FF",
                         "/api/v1/processes?sort=pid&sort=comm&order=asc&order=desc",
                         "/api/v1/processes?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12"
                         "&m=13&n=14&o=15&p=16&q=17&r=18&s=19&t=20&u=21&v=22&w=23&x=24&y=25"
                         "&z=26&aa=27&bb=28&cc=29&dd=30&ee=31&ff=32&gg=33&hh=34",
                         NULL};
    for (size_t i = 0; odd[i]; i++) {
        r = get(d, odd[i]);
        EXPECT(r.status > 0 && r.status < 500, "GET %s: status %ld", odd[i], r.status);
        if (r.status >= 400)
            check_error_resp(odd[i], &r, &r.status, 1);
        resp_free(&r);
    }
    /* HTTP/1.0 and a request without Host still work. */
    const char *old = "GET /healthz HTTP/1.0\r\n\r\n";
    r = raw_http(d, old, strlen(old));
    EXPECT(r.status == 200, "HTTP/1.0 GET /healthz: status %ld", r.status);
    resp_free(&r);
}

/* --- HEAD, caching, pretty, gzip --------------------------------------------------------- */

static void check_head(const struct daemon *d, const char *path) {
    struct resp g = raw_simple(d, "GET", path, NULL);
    struct resp h = raw_simple(d, "HEAD", path, NULL);
    char ctx[300];
    (void)snprintf(ctx, sizeof(ctx), "%s: HEAD %s", d->name, path);
    EXPECT(g.status > 0 && h.status == g.status, "%s: status %ld, GET gave %ld", ctx, h.status,
           g.status);
    EXPECT(h.len == 0, "%s: %zu body bytes after the headers", ctx, h.len);
    const char *names[] = {"Content-Type", "Content-Length", "ETag", "Cache-Control", "Vary",
                           "Content-Encoding", "Allow", "Retry-After", NULL};
    for (size_t i = 0; names[i]; i++) {
        char *a = header(g.hdrs, names[i]), *b = header(h.hdrs, names[i]);
        EXPECT((!a && !b) || (a && b && strcmp(a, b) == 0), "%s: %s \"%s\", GET has \"%s\"", ctx,
               names[i], b ? b : "(none)", a ? a : "(none)");
        free(a);
        free(b);
    }
    char *cl = header(g.hdrs, "Content-Length");
    if (header_has(g.hdrs, "Transfer-Encoding", "chunked"))
        EXPECT(!cl, "%s: chunked and a Content-Length", ctx);
    else
        EXPECT(cl && strtoull(cl, NULL, 10) == g.len, "%s: GET Content-Length %s, body %zu bytes",
               ctx, cl ? cl : "(none)", g.len);
    free(cl);
    char *te_g = header(g.hdrs, "Transfer-Encoding"), *te_h = header(h.hdrs, "Transfer-Encoding");
    EXPECT((!te_g && !te_h) || (te_g && te_h && strcmp(te_g, te_h) == 0) || (te_g && !te_h),
           "%s: Transfer-Encoding \"%s\", GET has \"%s\"", ctx, te_h ? te_h : "(none)",
           te_g ? te_g : "(none)");
    free(te_g);
    free(te_h);
    resp_free(&g);
    resp_free(&h);
}

static bool is_json_path(const char *path) {
    return starts_with(path, "/api/") || starts_with(path, "/healthz") ||
           starts_with(path, "/readyz");
}

/* Cached documents: ETag, 304, gzip, pretty. */
static void check_caching(const struct daemon *d, const char *path) {
    char ctx[300];
    (void)snprintf(ctx, sizeof(ctx), "%s: %s", d->name, path);
    struct resp a = get(d, path), b = get(d, path);
    EXPECT(a.status == 200 && b.status == 200, "%s: status %ld/%ld", ctx, a.status, b.status);
    EXPECT(a.len == b.len && memcmp(a.body, b.body, a.len) == 0, "%s: two GETs differ", ctx);
    char *ea = header(a.hdrs, "ETag"), *eb = header(b.hdrs, "ETag");
    EXPECT(ea && eb && strcmp(ea, eb) == 0 && ea[0] != 0, "%s: ETag \"%s\" / \"%s\"", ctx,
           ea ? ea : "(none)", eb ? eb : "(none)");
    EXPECT(header_has(a.hdrs, "Vary", "Accept-Encoding"), "%s: no Vary: Accept-Encoding", ctx);
    if (ea) {
        for (int i = 0; i < 4; i++) {
            char *inm = i == 0   ? xasprintf("If-None-Match: %s", ea)
                        : i == 1 ? xasprintf("If-None-Match: W/%s", ea)
                        : i == 2 ? xasprintf("If-None-Match: \"nope\", %s", ea)
                                 : strdup("If-None-Match: *");
            const char *hh[] = {inm, NULL};
            struct resp n = http(d, path, &(struct req){.headers = hh});
            EXPECT(n.status == 304, "%s: %s: status %ld, want 304", ctx, inm, n.status);
            EXPECT(n.len == 0, "%s: 304 with a body", ctx);
            char *en = header(n.hdrs, "ETag");
            EXPECT(en && strcmp(en, ea) == 0, "%s: 304 without the ETag", ctx);
            free(en);
            resp_free(&n);
            free(inm);
        }
        /* The raw bytes: nothing after a 304's headers. */
        char *inm = xasprintf("If-None-Match: %s\r\n", ea);
        struct resp n = raw_simple(d, "GET", path, inm);
        EXPECT(n.status == 304 && n.len == 0, "%s: raw 304: status %ld, %zu body bytes", ctx,
               n.status, n.len);
        resp_free(&n);
        free(inm);
        const char *other[] = {"If-None-Match: \"other\"", NULL};
        n = http(d, path, &(struct req){.headers = other});
        EXPECT(n.status == 200 && n.len == a.len, "%s: If-None-Match of another ETag: %ld", ctx,
               n.status);
        resp_free(&n);
    }
    /* gzip: raw bytes with the header set by hand, then decoded by curl. */
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    struct resp z = http(d, path, &(struct req){.headers = gz});
    bool big = a.len >= 1024;
    EXPECT(z.status == 200, "%s: gzip: status %ld", ctx, z.status);
    if (big) {
        EXPECT(header_has(z.hdrs, "Content-Encoding", "gzip"),
               "%s: %zu-byte body without Content-Encoding: gzip", ctx, a.len);
        EXPECT(z.len >= 2 && (unsigned char)z.body[0] == 0x1f && (unsigned char)z.body[1] == 0x8b,
               "%s: gzip body has no gzip magic", ctx);
        EXPECT(z.len < a.len, "%s: gzip body (%zu) not smaller than identity (%zu)", ctx, z.len,
               a.len);
    } else {
        EXPECT(!header_has(z.hdrs, "Content-Encoding", ""), "%s: %zu-byte body gzipped", ctx,
               a.len);
    }
    resp_free(&z);
    const char *gz_q[] = {"Accept-Encoding: identity;q=1, gzip;q=0", NULL};
    z = http(d, path, &(struct req){.headers = gz_q});
    if (header_has(z.hdrs, "Content-Encoding", "gzip"))
        printf("note: %s: gzip sent although the client said gzip;q=0\n", ctx);
    resp_free(&z);
    z = http(d, path, &(struct req){.decode = true});
    EXPECT(z.status == 200 && z.len == a.len && memcmp(z.body, a.body, a.len) == 0,
           "%s: the decoded gzip body differs from the identity body (%zu vs %zu bytes)", ctx,
           z.len, a.len);
    resp_free(&z);
    /* pretty=1: indented, same value. */
    if (is_json_path(path)) {
        char *pp = xasprintf("%s%spretty=1", path, strchr(path, '?') ? "&" : "?");
        struct resp pr = get(d, pp);
        EXPECT(pr.status == 200, "%s: pretty: status %ld", ctx, pr.status);
        EXPECT(strstr(pr.body, "\n "), "%s: ?pretty=1 is not indented", ctx);
        EXPECT(!strchr(a.body, '\n') || a.body[a.len - 1] == '\n', "%s: compact body has newlines",
               ctx);
        json_t *x = json_loadb(a.body, a.len, 0, NULL), *y = json_loadb(pr.body, pr.len, 0, NULL);
        EXPECT(x && y && json_equal(x, y), "%s: ?pretty=1 parses to a different value", ctx);
        json_decref(x);
        json_decref(y);
        char *ep = header(pr.hdrs, "ETag");
        if (ea && ep)
            EXPECT(strcmp(ea, ep) != 0, "%s: pretty and compact bodies share an ETag", ctx);
        free(ep);
        resp_free(&pr);
        free(pp);
    }
    free(ea);
    free(eb);
    resp_free(&a);
    resp_free(&b);
}

/* Documents are cached per snapshot under a key made from the query: two requests that mean
 * different things must never share a cache entry (the first one's body served for the
 * second). Each URL here is requested for the first time, in an order that would expose a
 * collision. */
static json_int_t list_total(const struct daemon *d, const char *path, char *pids, size_t plen) {
    json_t *doc = get_json(d, path);
    size_t i;
    json_t *v;
    pids[0] = 0;
    json_array_foreach(json_object_get(doc, "processes"), i, v)
        (void)snprintf(pids + strlen(pids), plen - strlen(pids), "%s%lld", i ? " " : "",
                       (long long)int_at(v, "pid", -1));
    json_int_t t = doc ? int_at(doc, "total", -1) : -1;
    json_decref(doc);
    return t;
}

/* More distinct documents than the per-snapshot cache holds: every answer stays right. */
static void check_cache_eviction(const struct daemon *d) {
    int bad = 0;
    for (int round = 0; round < 2; round++)
        for (int k = 1; k <= 150; k++) {
            char path[96];
            (void)snprintf(path, sizeof(path), "/api/v1/processes?kthreads=include&sort=pid&limit=%d",
                           round ? 151 - k : k);
            int limit = round ? 151 - k : k;
            json_t *doc = get_json(d, path);
            json_int_t total = int_at(doc, "total", -1);
            size_t n = json_array_size(json_object_get(doc, "processes"));
            if ((json_int_t)n != (total < limit ? total : limit) && bad++ < 3)
                FAIL("%s: GET %s: %zu processes of %lld", d->name, path, n, (long long)total);
            json_decref(doc);
        }
}

static void check_cache_keys(const struct daemon *d) {
    char a[128], b[128];
    /* A '&' or '=' inside a value is not a parameter boundary. */
    list_total(d, "/api/v1/processes?comm=torn%26user%3Droot", a, sizeof(a));
    list_total(d, "/api/v1/processes?comm=torn&user=root", b, sizeof(b));
    EXPECT(strcmp(a, "") == 0, "%s: comm=torn%%26user%%3Droot (comm \"torn&user=root\"): pids "
           "\"%s\", want none", d->name, a);
    EXPECT(strcmp(b, "104") == 0, "%s: comm=torn&user=root after comm=torn%%26user%%3Droot: pids "
           "\"%s\", want \"104\" (cache key collision)", d->name, b);
    list_total(d, "/api/v1/processes?comm=masked&user=root", a, sizeof(a));
    list_total(d, "/api/v1/processes?comm=masked%26user%3Droot", b, sizeof(b));
    EXPECT(strcmp(a, "103") == 0, "%s: comm=masked&user=root: pids \"%s\", want \"103\"", d->name,
           a);
    EXPECT(strcmp(b, "") == 0, "%s: comm=masked%%26user%%3Droot after comm=masked&user=root: pids "
           "\"%s\", want none (cache key collision)", d->name, b);
    /* A repeated parameter: whichever value wins, the two orders are two different queries. */
    struct resp r1 = get(d, "/api/v1/processes?sort=pid&limit=3&limit=2");
    struct resp r2 = get(d, "/api/v1/processes?sort=pid&limit=2&limit=3");
    if (r1.status == 200 && r2.status == 200) {
        json_t *x = json_loadb(r1.body, r1.len, 0, NULL), *y = json_loadb(r2.body, r2.len, 0, NULL);
        size_t n1 = json_array_size(json_object_get(x, "processes")),
               n2 = json_array_size(json_object_get(y, "processes"));
        EXPECT(n1 != n2 && (n1 == 2 || n1 == 3) && (n2 == 2 || n2 == 3),
               "%s: limit=3&limit=2 gave %zu processes and limit=2&limit=3 gave %zu: the second "
               "got the first one's cached body (cache key collision)",
               d->name, n1, n2);
        json_decref(x);
        json_decref(y);
    } else {
        EXPECT(r1.status == 400 && r2.status == 400,
               "%s: repeated limit: statuses %ld and %ld", d->name, r1.status, r2.status);
    }
    resp_free(&r1);
    resp_free(&r2);
    /* Parameter order alone does not change the document: one ETag. */
    struct resp p1 = get(d, "/api/v1/processes?sort=comm&limit=4");
    struct resp p2 = get(d, "/api/v1/processes?limit=4&sort=comm");
    char *e1 = header(p1.hdrs, "ETag"), *e2 = header(p2.hdrs, "ETag");
    EXPECT(p1.status == 200 && p1.len == p2.len && memcmp(p1.body, p2.body, p1.len) == 0,
           "%s: sort=comm&limit=4 and limit=4&sort=comm differ", d->name);
    if (!(e1 && e2 && strcmp(e1, e2) == 0))
        printf("note: %s: parameter order changes the ETag\n", d->name);
    free(e1);
    free(e2);
    resp_free(&p1);
    resp_free(&p2);
}

/* --- scenarios --------------------------------------------------------------------------- */

static const char *g_get_paths[] = {
    "/healthz", "/readyz", "/api/v1/node", "/api/v1/processes",
    "/api/v1/processes?sort=pid&limit=3&kthreads=include", "/api/v1/processes/100",
    "/api/v1/processes/100/vmas", "/metrics", "/nope", "/api/v1/processes/abc",
    "/api/v1/processes/99999", "/api/v1/processes?bogus=1", "/api/v1/hugepages",
    "/api/v1/hiwater", "/api/v1/hiwater?group_by=cgroup", "/api/v1/exited",
    "/api/v1/processes/100/residency", "/api/v1/hiwater?group_by=x", NULL};

static void check_endpoints_basic(const struct daemon *d) {
    json_t *h = get_json(d, "/healthz");
    json_t *want = json_pack("{s:s}", "status", "ok");
    EXPECT(h && json_equal(h, want), "%s: /healthz is not {\"status\":\"ok\"}", d->name);
    json_decref(want);
    json_decref(h);
    json_t *r = get_json(d, "/readyz");
    if (r)
        check_snapshot_ref(r, "/readyz", 1);
    json_decref(r);
}

/* 1,000 mixed requests; the scan count stays 1. */
static void check_load(const struct daemon *d) {
    struct {
        const char *path;
        long status;
    } mix[] = {
        {"/healthz", 200}, {"/readyz", 200}, {"/api/v1/node", 200}, {"/api/v1/processes", 200},
        {"/api/v1/processes?sort=comm&kthreads=include", 200}, {"/api/v1/processes/100", 200},
        {"/api/v1/processes/101/vmas", 200}, {"/metrics", 200}, {"/nope", 404},
        {"/api/v1/processes?limit=0", 400}, {"/api/v1/processes/abc", 400},
        {"/api/v1/processes?pretty=1&limit=2", 200}, {"/api/v1/hugepages", 200},
        {"/api/v1/hiwater?group_by=user", 200}, {"/api/v1/processes/103/residency", 200},
        {"/api/v1/exited", 200},
    };
    size_t nmix = sizeof(mix) / sizeof(mix[0]);
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < 1000; i++) {
        size_t k = (size_t)i % nmix;
        struct resp r = (i % 7 == 3) ? http(d, mix[k].path, &(struct req){.decode = true})
                                     : get(d, mix[k].path);
        if (r.status != mix[k].status && bad++ < 5)
            FAIL("%s: request %d GET %s: status %ld, want %ld", d->name, i, mix[k].path, r.status,
                 mix[k].status);
        resp_free(&r);
    }
    if (bad > 5)
        FAIL("%s: %d of 1000 requests had the wrong status", d->name, bad);
    printf("%s: 1000 requests in %.2f s\n", d->name, now_s() - t0);
    struct resp m = get(d, "/metrics");
    EXPECT(metric_value(m.body, "vmatlas_scans_total", NULL) == 1,
           "%s: vmatlas_scans_total %g after 1000 requests, want 1", d->name,
           metric_value(m.body, "vmatlas_scans_total", NULL));
    resp_free(&m);
    json_t *n = get_json(d, "/api/v1/node");
    EXPECT(int_at(n, "snapshot.seq", -1) == 1, "%s: snapshot.seq %lld after 1000 requests", d->name,
           (long long)int_at(n, "snapshot.seq", -1));
    json_decref(n);
}

static bool wait_ready(const struct daemon *d) {
    double deadline = now_s() + READY_TIMEOUT_S;
    long last = 0;
    while (now_s() < deadline) {
        struct resp r = get(d, "/readyz");
        last = r.status;
        resp_free(&r);
        if (last == 200)
            return true;
        if (last != 503) {
            FAIL("%s: /readyz answered %ld while waiting (want 503 then 200)", d->name, last);
            return false;
        }
        sleep_ms(50);
    }
    FAIL("%s: /readyz not 200 within %.0f s (last %ld)", d->name, READY_TIMEOUT_S, last);
    dump_log(d);
    return false;
}

/* A copy of the fixture whose /proc/100/stat is a FIFO: the first scan blocks on it. */
static bool fixture_with_fifo(char *root, size_t len, char *fifo, size_t flen) {
    (void)snprintf(root, len, "%s/hostile", g_tmp);
    char *cmd = xasprintf("cp -a '%s' '%s'", g_fixture, root);
    int r = system(cmd);
    free(cmd);
    if (r != 0)
        return false;
    (void)snprintf(fifo, flen, "%s/proc/100/stat", root);
    return unlink(fifo) == 0 && mkfifo(fifo, 0644) == 0;
}

static bool feed_fifo(const char *fifo, const char *data) {
    int fd = -1;
    double deadline = now_s() + 60;
    while ((fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 && errno == ENXIO &&
           now_s() < deadline)
        sleep_ms(10);
    if (fd < 0)
        return false;
    (void)fcntl(fd, F_SETFL, 0);
    size_t len = strlen(data);
    bool ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    return ok;
}

/* --- children with known shapes ---------------------------------------------------------- */

/* A child named NAME that touches TOUCH bytes of anonymous memory and, with VMAS > 0, splits a
 * mapping into VMAS separate VMAs (alternating protections), then sleeps until killed. */
static pid_t spawn_child(const char *name, size_t touch, size_t vmas) {
    int pfd[2];
    if (pipe(pfd) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        (void)prctl(PR_SET_NAME, name);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (touch) {
            char *m = mmap(NULL, touch, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED)
                _exit(1);
            memset(m, 1, touch);
        }
        if (vmas) {
            long pg = sysconf(_SC_PAGESIZE);
            char *m = mmap(NULL, vmas * (size_t)pg, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED)
                _exit(1);
            for (size_t i = 0; i < vmas; i += 2)
                if (mprotect(m + i * (size_t)pg, (size_t)pg, PROT_READ) < 0)
                    _exit(1);
        }
        if (write(pfd[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(pfd[1]);
    char c = 0;
    struct pollfd p = {pfd[0], POLLIN, 0};
    bool ok = pid > 0 && poll(&p, 1, 30000) == 1 && read(pfd[0], &c, 1) == 1 && c == 'r';
    close(pfd[0]);
    if (!ok && pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static void reap(pid_t pid) {
    if (pid > 0) {
        kill(pid, SIGKILL);
        (void)waitpid(pid, NULL, 0);
    }
}

/* The /api/v1/exited entry of PID, waiting (bounded) for it to show up. New reference. */
static json_t *wait_exited(const struct daemon *d, json_int_t pid) {
    double deadline = now_s() + 30;
    while (now_s() < deadline) {
        json_t *doc = get_json(d, "/api/v1/exited");
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(doc, "exited"), i, e) if (int_at(e, "pid", 0) == pid) {
            json_incref(e);
            json_decref(doc);
            return e;
        }
        json_decref(doc);
        sleep_ms(100);
    }
    FAIL("%s: pid %lld not in /api/v1/exited within 30 s of its exit", d->name, (long long)pid);
    return NULL;
}

/* Processes that exit between scans: /api/v1/exited, and the groups of /api/v1/hiwater that
 * keep their peaks. */
static void scenario_exited(void) {
    printf("== exited processes (live /proc, --interval 0.5) ==\n");
    pid_t a = spawn_child("vmatlas-exit-a", 8u << 20, 0);
    pid_t b = spawn_child("vmatlas-exit-b", 4u << 20, 0);
    if (a < 0 || b < 0) {
        FAIL("exited: cannot start the children");
        reap(a);
        reap(b);
        return;
    }
    const char *args[] = {"--listen", "127.0.0.1:0", "--interval", "0.5", NULL};
    struct daemon d;
    if (!daemon_start(&d, "exited", args)) {
        reap(a);
        reap(b);
        return;
    }
    if (!wait_ready(&d)) {
        kill_hard(&d);
        reap(a);
        reap(b);
        return;
    }
    char path[96];
    (void)snprintf(path, sizeof(path), "/api/v1/processes/%d", (int)a);
    json_t *da = get_json(&d, path);
    json_t *pa = json_object_get(da, "process");
    EXPECT(str_at(pa, "comm") && strcmp(str_at(pa, "comm"), "vmatlas-exit-a") == 0,
           "exited: child a's comm \"%s\"", str_at(pa, "comm"));
    json_int_t hwm = int_at(pa, "memory.vm_hwm", -1);
    EXPECT(hwm >= 8 << 20, "exited: child a's VmHWM %lld < 8 MiB", (long long)hwm);
    reap(a);
    json_t *ea = wait_exited(&d, a);
    if (ea && pa) {
        CHECK_FIELDS(ea, exited_fields, "exited: entry of a", false);
        const char *same[] = {"id", "comm", "unit", "start_time", NULL};
        for (size_t i = 0; same[i]; i++)
            EXPECT(json_equal(json_object_get(ea, same[i]), json_object_get(pa, same[i])),
                   "exited: a's %s differs from its last summary", same[i]);
        EXPECT(int_at(ea, "vm_hwm", -1) >= hwm, "exited: a's vm_hwm %lld, last seen %lld",
               (long long)int_at(ea, "vm_hwm", -1), (long long)hwm);
        EXPECT(int_at(ea, "observed_rss_max", -1) >= int_at(pa, "memory.vm_rss", 0),
               "exited: a's observed_rss_max %lld below an RSS seen (%lld)",
               (long long)int_at(ea, "observed_rss_max", -1),
               (long long)int_at(pa, "memory.vm_rss", 0));
        const char *by = str_at(ea, "exited_by"), *seen = str_at(da, "snapshot.collected_at");
        EXPECT(by && seen && strcmp(by, seen) > 0, "exited: a exited_by %s, not after %s",
               by ? by : "(null)", seen ? seen : "(null)");
    }
    struct resp r = get(&d, path);
    check_error_resp("exited: detail of an exited pid", &r, (const long[]){404}, 1);
    resp_free(&r);
    /* The group keeps the peak of the member that left. */
    json_t *hw = get_json(&d, "/api/v1/hiwater?group_by=comm");
    json_t *ga = NULL;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(hw, "groups"), i, g) {
        const char *key = str_at(g, "key");
        if (key && strcmp(key, "vmatlas-exit-a") == 0)
            ga = g;
    }
    EXPECT(ga, "exited: the comm group of an exited process is gone from /api/v1/hiwater");
    if (ga) {
        EXPECT(int_at(ga, "processes", -1) == 0, "exited: group a has %lld processes",
               (long long)int_at(ga, "processes", -1));
        EXPECT(int_at(ga, "exited", -1) == 1, "exited: group a exited %lld, want 1",
               (long long)int_at(ga, "exited", -1));
        EXPECT(int_at(ga, "exited_vm_hwm_max", -1) == int_at(ea, "vm_hwm", -2),
               "exited: group a exited_vm_hwm_max %lld, the process's vm_hwm %lld",
               (long long)int_at(ga, "exited_vm_hwm_max", -1), (long long)int_at(ea, "vm_hwm", -2));
        EXPECT(int_at(ga, "observed_rss_peak", -1) >= int_at(pa, "memory.vm_rss", 0),
               "exited: group a observed_rss_peak %lld below a sum seen",
               (long long)int_at(ga, "observed_rss_peak", -1));
    }
    json_decref(hw);
    /* Newest first. */
    reap(b);
    json_t *eb = wait_exited(&d, b);
    json_t *ex = check_exited(&d);
    long ia = -1, ib = -1;
    json_array_foreach(json_object_get(ex, "exited"), i, g) {
        if (int_at(g, "pid", 0) == a)
            ia = (long)i;
        if (int_at(g, "pid", 0) == b)
            ib = (long)i;
    }
    EXPECT(ia >= 0 && ib >= 0 && ib < ia, "exited: b (exited last) at %ld, a at %ld: not newest first",
           ib, ia);
    json_decref(ex);
    json_decref(eb);
    json_decref(ea);
    json_decref(da);
    daemon_stop_checked(&d);
}

/* More than the server renders in one piece (api/server.c STREAM_VMAS_MIN, 16384). */
#define BIG_VMAS 17000

/* A process with more VMAs than the server renders in one piece: its /vmas and /residency
 * documents are streamed. */
static void check_big_process(const struct daemon *d, pid_t big) {
    char path[96];
    check_process(d, big, false, NULL);
    (void)snprintf(path, sizeof(path), "/api/v1/processes/%d/vmas", (int)big);
    check_head(d, path);
    struct resp a = get(d, path);
    EXPECT(a.status == 200 && a.len > 1024, "%s: GET %s: %ld", d->name, path, a.status);
    const char *gz[] = {"Accept-Encoding: gzip", NULL};
    struct resp z = http(d, path, &(struct req){.headers = gz});
    EXPECT(header_has(z.hdrs, "Content-Encoding", "gzip"),
           "%s: GET %s with Accept-Encoding: gzip: a %zu-byte body sent without gzip (API.md: "
           "\"Responses support Accept-Encoding: gzip where the body is large\")",
           d->name, path, a.len);
    resp_free(&z);
    z = http(d, path, &(struct req){.decode = true});
    EXPECT(z.status == 200 && z.len == a.len && memcmp(z.body, a.body, a.len) == 0,
           "%s: %s: the gzip-accepting answer decodes to a different body", d->name, path);
    resp_free(&z);
    struct resp b = get(d, path);
    EXPECT(b.len == a.len && memcmp(a.body, b.body, a.len) == 0, "%s: two GETs of %s differ",
           d->name, path);
    if (!header_has(a.hdrs, "ETag", ""))
        printf("note: %s: %s (%zu bytes, streamed) has no ETag\n", d->name, path, a.len);
    resp_free(&a);
    resp_free(&b);
    (void)snprintf(path, sizeof(path), "/api/v1/processes/%d/residency?pretty=1", (int)big);
    a = get(d, path);
    json_t *v = parse_json(&a, path);
    EXPECT(json_array_size(json_object_get(v, "vmas")) >= BIG_VMAS, "%s: %s: %zu VMAs, want %d",
           d->name, path, json_array_size(json_object_get(v, "vmas")), BIG_VMAS);
    EXPECT(strstr(a.body, "\n "), "%s: %s: ?pretty=1 is ignored (the body is not indented)",
           d->name, path);
    json_decref(v);
    resp_free(&a);
}

static void scenario_fixture(void) {
    printf("== fixture (%s) ==\n", g_fixture);
    char root[PATH_MAX], fifo[PATH_MAX];
    char *stat_path = xasprintf("%s/proc/100/stat", g_fixture);
    char *stat_text = slurp(stat_path, NULL);
    free(stat_path);
    bool fifo_ok = stat_text && fixture_with_fifo(root, sizeof(root), fifo, sizeof(fifo));
    if (!fifo_ok) {
        printf("note: could not build the FIFO copy of the fixture; the 503 check is skipped\n");
        (void)snprintf(root, sizeof(root), "%s", g_fixture);
    }
    char *procfs = xasprintf("%s/proc", root), *sysfs = xasprintf("%s/sys", root);
    const char *args[] = {"--listen", "127.0.0.1:0", "--interval", "3600", "--procfs-root", procfs,
                          "--sysfs-root", sysfs, NULL};
    struct daemon d;
    if (!daemon_start(&d, "fixture", args))
        goto out;

    if (fifo_ok) {
        /* The scan is stuck in open() of the FIFO: no snapshot yet. */
        struct resp r = get(&d, "/readyz");
        check_error_resp("/readyz before the first snapshot", &r, (const long[]){503}, 1);
        resp_free(&r);
        const char *not_yet[] = {"/api/v1/node", "/api/v1/processes", "/api/v1/processes/100",
                                 "/api/v1/processes/100/vmas", "/metrics", NULL};
        for (size_t i = 0; not_yet[i]; i++) {
            r = get(&d, not_yet[i]);
            char what[128];
            (void)snprintf(what, sizeof(what), "%s before the first snapshot", not_yet[i]);
            check_error_resp(what, &r, (const long[]){503}, 1);
            resp_free(&r);
        }
        check_head(&d, "/readyz");
        json_t *h = get_json(&d, "/healthz");
        EXPECT(h, "/healthz before the first snapshot is not 200");
        json_decref(h);
        /* Input errors still win over "not ready". */
        expect_error(&d, "/api/v1/processes?limit=0", NULL, 400);
        expect_error(&d, "/api/v1/processes/abc", NULL, 400);
        expect_error(&d, "/nope", NULL, 404);
        expect_error(&d, "/readyz", &(struct req){.method = "POST"}, 405);
        printf("fixture: 503 before the first snapshot checked\n");
        EXPECT(feed_fifo(fifo, stat_text), "cannot feed %s", fifo);
    }
    if (!wait_ready(&d)) {
        kill_hard(&d);
        goto out;
    }
    check_endpoints_basic(&d);
    json_t *node = check_node(&d, 3600000, 5.0);
    if (node) {
        json_t *en = json_object_get(g_expected, "node");
        const char *keys[] = {"hostname", "boot_id", "kernel", "address_bits", "legacy_va_layout",
                              "randomize_va_space", "thp_enabled", "max_map_count", NULL};
        for (size_t i = 0; keys[i]; i++)
            EXPECT(json_equal(json_object_get(en, keys[i]), json_object_get(node, keys[i])),
                   "fixture: /api/v1/node %s differs from expected.json", keys[i]);
        EXPECT(int_at(node, "snapshot.vmas", -1) == int_at(en, "nvmas", -2),
               "fixture: /api/v1/node snapshot.vmas %lld, expected.json nvmas %lld",
               (long long)int_at(node, "snapshot.vmas", -1), (long long)int_at(en, "nvmas", -2));
    }
    json_t *all = check_processes(&d, node, true);
    json_t *details = json_object_get(g_expected, "details");
    const char *pid_s;
    json_t *ed;
    check_cache_keys(&d);
    check_cache_eviction(&d);
    json_object_foreach(details, pid_s, ed) check_process(&d, atoll(pid_s), false, ed);
    check_metrics(&d, node, 20, false);
    check_hugepages(&d, true);
    check_hiwater(&d, all, true);
    json_t *ex = check_exited(&d);
    EXPECT(json_array_size(json_object_get(ex, "exited")) == 0,
           "fixture: /api/v1/exited is not empty after one snapshot");
    json_decref(ex);
    check_errors(&d);
    for (size_t i = 0; g_get_paths[i]; i++)
        check_head(&d, g_get_paths[i]);
    const char *cached[] = {"/api/v1/node", "/api/v1/processes",
                            "/api/v1/processes?kthreads=include&sort=comm",
                            "/api/v1/processes?limit=1&comm=torn", "/api/v1/processes/100",
                            "/api/v1/processes/107", "/api/v1/processes/100/vmas", "/metrics",
                            "/api/v1/hugepages", "/api/v1/hiwater?group_by=unit", "/api/v1/exited",
                            "/api/v1/processes/101/residency", NULL};
    for (size_t i = 0; cached[i]; i++)
        check_caching(&d, cached[i]);
    /* /healthz and /readyz: pretty too. */
    struct resp a = get(&d, "/healthz"), b = get(&d, "/healthz?pretty=1");
    json_t *x = json_loadb(a.body, a.len, 0, NULL), *y = json_loadb(b.body, b.len, 0, NULL);
    EXPECT(b.status == 200 && x && y && json_equal(x, y) && strchr(b.body, '\n'),
           "fixture: /healthz?pretty=1");
    json_decref(x);
    json_decref(y);
    resp_free(&a);
    resp_free(&b);
    check_load(&d);
    /* SIGHUP does not stop it. */
    kill(d.pid, SIGHUP);
    sleep_ms(100);
    struct resp hup = get(&d, "/healthz");
    EXPECT(hup.status == 200, "fixture: /healthz after SIGHUP: %ld", hup.status);
    resp_free(&hup);
    daemon_stop_checked(&d);
    json_decref(all);
    json_decref(node);
out:
    free(procfs);
    free(sysfs);
    free(stat_text);
}

static void scenario_live(void) {
    printf("== live /proc ==\n");
    pid_t big = spawn_child("vmatlas-17kvmas", 0, BIG_VMAS);
    EXPECT(big > 0, "live: cannot start a child with %d VMAs", BIG_VMAS);
    /* No taskstats here: it hears exits before the first scan, and the checks below want the
     * first snapshot's groups without any (scenario_exited runs with it). */
    const char *args[] = {"--listen", "127.0.0.1:0", "--interval", "3600", "--taskstats=false",
                          NULL};
    struct daemon d;
    if (!daemon_start(&d, "live", args)) {
        reap(big);
        return;
    }
    if (!wait_ready(&d)) {
        kill_hard(&d);
        reap(big);
        return;
    }
    if (big > 0)
        check_big_process(&d, big);
    check_endpoints_basic(&d);
    json_t *node = check_node(&d, 3600000, 5.0);
    json_t *all = check_processes(&d, node, false);
    /* Details: the daemon, this program, pid 1, the largest processes, a kernel thread. */
    json_int_t pids[16];
    size_t n = 0;
    pids[n++] = d.pid;
    pids[n++] = getpid();
    json_t *top = get_json(&d, "/api/v1/processes?limit=4");
    json_t *kt = get_json(&d, "/api/v1/processes?kthreads=only&limit=1&sort=pid");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(top, "processes"), i, p) pids[n++] = int_at(p, "pid", 0);
    json_array_foreach(json_object_get(kt, "processes"), i, p) pids[n++] = int_at(p, "pid", 0);
    json_array_foreach(all, i, p) if (int_at(p, "pid", 0) == 1) pids[n++] = 1;
    json_decref(top);
    json_decref(kt);
    for (size_t k = 0; k < n; k++) {
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen = seen || pids[j] == pids[k];
        if (!seen && pids[k] > 0)
            check_process(&d, pids[k], false, NULL);
    }
    check_metrics(&d, node, 20, true);
    check_hugepages(&d, false);
    check_hiwater(&d, all, true);
    json_decref(check_exited(&d));
    char path[64];
    (void)snprintf(path, sizeof(path), "/api/v1/processes/%d", (int)d.pid);
    check_head(&d, path);
    check_head(&d, "/api/v1/processes?kthreads=include&limit=10000");
    check_caching(&d, path);
    check_caching(&d, "/api/v1/processes?kthreads=include&limit=10000");
    check_caching(&d, "/metrics");
    daemon_stop_checked(&d);
    reap(big);
    json_decref(all);
    json_decref(node);
}

static void scenario_redact(void) {
    printf("== --redact-addresses, --deep-walk-budget 2.5, --metrics-top-k 3 ==\n");
    char *procfs = xasprintf("%s/proc", g_fixture), *sysfs = xasprintf("%s/sys", g_fixture);
    const char *args[] = {"--listen", "127.0.0.1:0", "--interval", "3600", "--procfs-root",
                          procfs, "--sysfs-root", sysfs, "--redact-addresses",
                          "--deep-walk-budget", "2.5", "--metrics-top-k", "3", NULL};
    struct daemon d;
    bool started = daemon_start(&d, "redact", args);
    if (started && !wait_ready(&d)) {
        kill_hard(&d);
        started = false;
    }
    if (started) {
        json_t *node = check_node(&d, 3600000, 2.5);
        const char *pid_s;
        json_t *ed;
        json_object_foreach(json_object_get(g_expected, "details"), pid_s, ed) {
            check_process(&d, atoll(pid_s), true, NULL);
            /* Sizes and gaps are the unredacted ones. */
            char path[64];
            (void)snprintf(path, sizeof(path), "/api/v1/processes/%s", pid_s);
            json_t *doc = get_json(&d, path);
            json_t *lay = json_object_get(json_object_get(doc, "process"), "layout"),
                   *elay = json_object_get(ed, "layout");
            const char *keep[] = {"gap_count", "largest_gap", "address_bits", "top_down", NULL};
            for (size_t i = 0; keep[i]; i++)
                EXPECT(json_equal(json_object_get(lay, keep[i]), json_object_get(elay, keep[i])),
                       "redact: pid %s layout.%s changed by redaction", pid_s, keep[i]);
            const char *k;
            json_t *v;
            json_object_foreach(lay, k, v) if (json_is_string(v))
                FAIL("redact: pid %s layout.%s = %s is not null", pid_s, k, json_string_value(v));
            json_decref(doc);
            (void)snprintf(path, sizeof(path), "/api/v1/processes/%s/vmas", pid_s);
            doc = get_json(&d, path);
            json_t *vmas = json_object_get(doc, "vmas"), *evmas = json_object_get(ed, "vmas");
            EXPECT(json_array_size(vmas) == json_array_size(evmas), "redact: pid %s VMA count",
                   pid_s);
            size_t i;
            json_array_foreach(vmas, i, v) {
                json_t *e = json_array_get(evmas, i);
                EXPECT(json_is_null(json_object_get(v, "start")) &&
                           json_is_null(json_object_get(v, "end")),
                       "redact: pid %s vma[%zu] start/end not null", pid_s, i);
                const char *same[] = {"size", "offset", "inode", "perms", "name", "rss", NULL};
                for (size_t s = 0; same[s]; s++)
                    EXPECT(json_equal(json_object_get(v, same[s]), json_object_get(e, same[s])),
                           "redact: pid %s vma[%zu].%s differs from the unredacted value", pid_s,
                           i, same[s]);
            }
            json_decref(doc);
        }
        /* No address-looking string anywhere in a detail or VMA document. */
        const char *docs[] = {"/api/v1/processes/100", "/api/v1/processes/100/vmas",
                              "/api/v1/processes?kthreads=include", NULL};
        for (size_t i = 0; docs[i]; i++) {
            struct resp r = get(&d, docs[i]);
            EXPECT(!strstr(r.body, "\"0x"), "redact: %s still holds an address string", docs[i]);
            resp_free(&r);
        }
        check_metrics(&d, node, 3, false);
        json_decref(node);
        daemon_stop_checked(&d);
    }
    free(procfs);
    free(sysfs);
}

static void scenario_ipv6(void) {
    printf("== IPv6 [::1]:0 ==\n");
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0)
        close(fd);
    if (!have) {
        printf("note: no IPv6 loopback here (::1 cannot be bound); the IPv6 check is skipped\n");
        return;
    }
    char *procfs = xasprintf("%s/proc", g_fixture), *sysfs = xasprintf("%s/sys", g_fixture);
    const char *args[] = {"--listen", "[::1]:0", "--interval", "3600", "--procfs-root", procfs,
                          "--sysfs-root", sysfs, NULL};
    struct daemon d;
    if (daemon_start(&d, "ipv6", args)) {
        EXPECT(strcmp(d.ip, "::1") == 0, "ipv6: listening on %s, want [::1]", d.ip);
        json_t *h = get_json(&d, "/healthz");
        json_t *want = json_pack("{s:s}", "status", "ok");
        EXPECT(h && json_equal(h, want), "ipv6: /healthz over [::1] is not {\"status\":\"ok\"}");
        json_decref(h);
        json_decref(want);
        if (wait_ready(&d))
            check_head(&d, "/api/v1/node");
        daemon_stop_checked(&d);
    }
    free(procfs);
    free(sysfs);
}

/* --- snapshots replaced under load --------------------------------------------------------- */

struct hammer {
    const struct daemon *d;
    int id;
    volatile int *stop;     /* set by the main thread: SIGTERM is on its way */
    long requests, bad, transport_errors;
    char first_bad[256];
};

static void *hammer_run(void *arg) {
    struct hammer *h = arg;
    static const char *const paths[] = {"/api/v1/node", "/api/v1/processes?kthreads=include",
                                        "/api/v1/processes/100", "/api/v1/processes/100/vmas",
                                        "/metrics", "/readyz", "/api/v1/processes?sort=comm",
                                        "/api/v1/hiwater", "/api/v1/processes/101/residency",
                                        "/api/v1/exited", "/api/v1/hugepages"};
    CURL *c = curl_easy_init();
    for (long i = 0; c && !__atomic_load_n(h->stop, __ATOMIC_RELAXED); i++) {
        const char *path = paths[(size_t)(i + h->id) % (sizeof(paths) / sizeof(paths[0]))];
        /* Every fourth request a query of its own: the per-snapshot cache fills up and evicts
         * while the other clients use its entries. */
        long limit = i % 4 == 3 ? 1 + (i * 7 + h->id * 131) % 400 : 0;
        char dyn[64];
        if (limit) {
            (void)snprintf(dyn, sizeof(dyn), "/api/v1/processes?kthreads=include&limit=%ld", limit);
            path = dyn;
        }
        char *url = xasprintf("%s%s", h->d->base, path);
        struct resp r = http_with(c, url, &(struct req){.decode = (i % 3) == 0}, true);
        free(url);
        bool stopping = __atomic_load_n(h->stop, __ATOMIC_RELAXED);
        if (r.status < 0) {
            if (!stopping)
                h->transport_errors++;
        } else {
            h->requests++;
            bool ok = r.status == 200 && r.len > 0;
            if (ok && path[1] != 'm') { /* JSON documents parse and carry their snapshot */
                json_t *v = json_loadb(r.body, r.len, 0, NULL);
                ok = v && int_at(v, "snapshot.seq", -1) > 0;
                if (ok && limit) {
                    json_int_t total = int_at(v, "total", -1);
                    ok = (json_int_t)json_array_size(json_object_get(v, "processes")) ==
                         (total < limit ? total : limit);
                }
                json_decref(v);
            }
            if (!ok && h->bad++ == 0)
                (void)snprintf(h->first_bad, sizeof(h->first_bad), "GET %s: %ld %.150s", path,
                               r.status, r.body);
        }
        resp_free(&r);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* --interval 0.2: snapshots are replaced while four clients keep asking; ETags follow the
 * snapshot; SIGTERM arrives while requests are in flight. */
static void scenario_refresh(void) {
    printf("== --interval 0.2 under load ==\n");
    char *procfs = xasprintf("%s/proc", g_fixture), *sysfs = xasprintf("%s/sys", g_fixture);
    const char *args[] = {"--listen", "127.0.0.1:0", "--interval", "0.2", "--procfs-root", procfs,
                          "--sysfs-root", sysfs, NULL};
    struct daemon d;
    if (!daemon_start(&d, "refresh", args))
        goto out;
    if (!wait_ready(&d)) {
        kill_hard(&d);
        goto out;
    }
    struct resp first = get(&d, "/api/v1/processes");
    char *etag1 = header(first.hdrs, "ETag");
    json_t *doc1 = parse_json(&first, "refresh: /api/v1/processes");
    json_int_t seq1 = int_at(doc1, "snapshot.seq", -1);
    json_decref(doc1);

    volatile int stop = 0;
    struct hammer hs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        hs[i] = (struct hammer){.d = &d, .id = i, .stop = &stop};
        if (pthread_create(&th[i], NULL, hammer_run, &hs[i]) != 0)
            abort();
    }
    sleep_ms(2000);
    json_t *n1 = get_json(&d, "/api/v1/node");
    EXPECT(int_at(n1, "collector.interval_ms", -1) == 200, "refresh: collector.interval_ms %lld, "
           "want 200", (long long)int_at(n1, "collector.interval_ms", -1));
    struct resp m = get(&d, "/metrics");
    json_t *n2 = get_json(&d, "/api/v1/node");
    json_int_t s1 = int_at(n1, "snapshot.seq", -1), s2 = int_at(n2, "snapshot.seq", -1);
    double scans = metric_value(m.body, "vmatlas_scans_total", NULL);
    EXPECT(s1 >= seq1 + 3, "refresh: snapshot.seq went from %lld to %lld in 2 s at 0.2 s intervals",
           (long long)seq1, (long long)s1);
    EXPECT(scans >= (double)s1 && scans <= (double)s2,
           "refresh: vmatlas_scans_total %g, snapshot.seq %lld..%lld", scans, (long long)s1,
           (long long)s2);
    resp_free(&m);
    json_decref(n1);
    json_decref(n2);
    /* The first ETag is stale now: a full answer with a new ETag. */
    if (etag1) {
        char *inm = xasprintf("If-None-Match: %s", etag1);
        const char *hh[] = {inm, NULL};
        struct resp r = http(&d, "/api/v1/processes", &(struct req){.headers = hh});
        char *etag2 = header(r.hdrs, "ETag");
        EXPECT(r.status == 200, "refresh: If-None-Match of an old snapshot's ETag: %ld, want 200",
               r.status);
        EXPECT(etag2 && strcmp(etag1, etag2) != 0, "refresh: the ETag did not change with the snapshot");
        free(etag2);
        resp_free(&r);
        free(inm);
    }
    free(etag1);
    resp_free(&first);

    /* SIGTERM with requests in flight. */
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    daemon_stop_checked(&d);
    long total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += hs[i].requests;
        EXPECT(hs[i].bad == 0, "refresh: client %d: %ld bad answers, first: %s", i, hs[i].bad,
               hs[i].first_bad);
        EXPECT(hs[i].transport_errors == 0, "refresh: client %d: %ld transport errors", i,
               hs[i].transport_errors);
    }
    printf("refresh: %ld requests from 4 clients while snapshots were replaced\n", total);
    EXPECT(total > 40, "refresh: only %ld requests answered", total);
out:
    free(procfs);
    free(sysfs);
}

/* Run vmatlasd to completion (bounded): wait status and stderr. */
static int run_sync(const char *name, const char *const *args, char **ret_err) {
    char log[PATH_MAX];
    (void)snprintf(log, sizeof(log), "%s/%s.log", g_tmp, name);
    pid_t pid = spawn(log, args);
    int st = -1;
    double t0 = now_s();
    while (pid > 0 && now_s() - t0 < 30) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            pid = 0;
            break;
        }
        sleep_ms(10);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        st = -1;
    }
    *ret_err = slurp(log, NULL);
    if (!*ret_err)
        *ret_err = strdup("");
    return st;
}

static void scenario_config_errors(void) {
    printf("== configuration errors ==\n");
    char *conf = xasprintf("%s/bad.conf", g_tmp);
    char *conf2 = xasprintf("%s/bad2.conf", g_tmp);
    EXPECT(write_text(conf, "interval = 5\nbogus_key = 1\n"), "cannot write %s", conf);
    EXPECT(write_text(conf2, "interval = 0\n"), "cannot write %s", conf2);
    struct {
        const char *args[6];
        const char *names;
    } cases[] = {
        {{"--interval", "0", NULL}, "--interval"},
        {{"--interval", "abc", NULL}, "--interval"},
        {{"--interval", "-5", NULL}, "--interval"},
        {{"--listen", "nonsense", NULL}, "--listen"},
        {{"--listen", "127.0.0.1:99999", NULL}, "--listen"},
        {{"--listen", "localhost:80", NULL}, "--listen"},
        {{"--metrics-top-k", "-1", NULL}, "--metrics-top-k"},
        {{"--deep-walk-budget", "101", NULL}, "--deep-walk-budget"},
        {{"--config", conf, NULL}, "bogus_key"},
        {{"--config", conf2, NULL}, "interval"},
        {{"--no-such-flag", NULL}, "--no-such-flag"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *err = NULL;
        int st = run_sync("config", cases[i].args, &err);
        char what[256] = "vmatlasd";
        for (size_t a = 0; cases[i].args[a]; a++)
            (void)snprintf(what + strlen(what), sizeof(what) - strlen(what), " %s",
                           cases[i].args[a]);
        EXPECT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2,
               "%s: wait status 0x%x, want exit status 2", what, st);
        EXPECT(strstr(err, cases[i].names), "%s: stderr does not name %s: %s", what,
               cases[i].names, err);
        EXPECT(!strstr(err, "listening on"), "%s: it started listening", what);
        free(err);
    }
    free(conf);
    free(conf2);
}

int main(int argc, char **argv) {
    g_daemon = argc > 1 ? argv[1] : getenv("VMATLASD");
    static char fixture_buf[PATH_MAX];
    if (argc > 2) {
        g_fixture = argv[2];
    } else if (getenv("VMATLAS_FIXTURES")) {
        (void)snprintf(fixture_buf, sizeof(fixture_buf), "%s/hostile", getenv("VMATLAS_FIXTURES"));
        g_fixture = fixture_buf;
    }
    if (!g_daemon || !g_fixture) {
        fprintf(stderr, "usage: %s VMATLASD FIXTURE_DIR (or $VMATLASD, $VMATLAS_FIXTURES)\n",
                argv[0]);
        return 2;
    }
    if (access(g_daemon, X_OK) != 0) {
        printf("SKIP: %s is not executable\n", g_daemon);
        return TEST_SKIP;
    }
    char *exp_path = xasprintf("%s/expected.json", g_fixture);
    json_error_t je;
    g_expected = json_load_file(exp_path, 0, &je);
    if (!g_expected) {
        fprintf(stderr, "cannot read %s: %s\n", exp_path, je.text);
        free(exp_path);
        return 1;
    }
    free(exp_path);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    (void)snprintf(g_tmp, sizeof(g_tmp), "%s/vmatlas-http-XXXXXX",
                   getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    atexit(cleanup_all);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(g_curl = curl_easy_init())) {
        fprintf(stderr, "curl init failed\n");
        return 1;
    }

    scenario_config_errors();
    scenario_fixture();
    scenario_redact();
    scenario_ipv6();
    scenario_refresh();
    scenario_exited();
    scenario_live();

    curl_easy_cleanup(g_curl);
    curl_global_cleanup();
    json_decref(g_expected);
    cleanup_all();
    return test_result("http_api");
}
