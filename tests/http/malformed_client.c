/* malformed_client.c: sends every request of tests/http/corpus/ to a running vmatlasd over a raw
 * TCP socket and checks the answers against the corpus MANIFEST (tests/http/make-corpus.py
 * documents the expectations: ok, ok+reject, reject, no5xx, trunc, abort).
 *
 *   malformed_client [-p DAEMON_PID] [-k KNOWN_FILE] [-s] [-w SECONDS] PORT CORPUS_DIR
 *
 * For each request: connect to 127.0.0.1:PORT, send the file's bytes (reading while sending:
 * the daemon may answer and close before it has read them all), then read every answer until
 * the daemon closes the connection, or until it has been quiet for a while after a complete
 * answer. An answer is parsed as HTTP/1.x (status line, headers, Content-Length or chunked
 * body); a 4xx whose Content-Type is JSON must be the API's error document with the same
 * status, any other 4xx body must be libmicrohttpd's own HTML page. A request that gets no
 * byte within -w seconds (default 2) is "silent": its socket is kept, and at the end every
 * silent socket must be closed by the daemon's idle timeout (30 s) within 40 s, without a 2xx,
 * 3xx or 5xx (a silent connection that the daemon closes early, or answers late on a loaded
 * machine, is judged like any other). After every request
 * the daemon must still be alive (kill -0 DAEMON_PID) and answer GET /healthz with 200 on a fresh
 * connection.
 *
 * KNOWN_FILE lists known failures, one "SLUG<TAB>reason" a line (SLUG is the file name without
 * its number and ".http"); they are reported as KNOWN and do not fail the run unless -s is
 * given. One that passes is reported as NOW PASSES, so the list can be shortened.
 *
 * Prints one line per request and a summary: answers per status, connections closed without
 * an answer, libmicrohttpd's own answers. Exit 0 when every request met its expectation, 1
 * otherwise, 2 on bad usage or an unreadable corpus. Every wait is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__) && !defined(__clang__)
/* Paths and messages are cut at their buffer size on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define MAX_ENTRIES 1024
#define MAX_ANSWERS 16
#define QUIET_AFTER_ANSWER_MS 200 /* no more bytes this long after a complete answer: done */
#define SEND_LIMIT_MS 10000
#define READ_LIMIT_MS 15000 /* an answer that has started must finish within this */
#define HEALTH_LIMIT_MS 10000
#define PENDING_LIMIT_MS 40000 /* the daemon's idle timeout is 30 s */
#define RESPONSE_MAX (4u << 20)

enum expect { EXP_OK, EXP_OK_REJECT, EXP_REJECT, EXP_NO5XX, EXP_TRUNC, EXP_ABORT };
static const char *const expect_names[] = {"ok", "ok+reject", "reject", "no5xx", "trunc", "abort"};

/* BODY_MHD_TWICE: libmicrohttpd 0.9.75 sends the header block of some of its own error answers
 * twice, so the declared body starts with the second copy (and its page runs past it). */
enum body_kind { BODY_NONE, BODY_JSON, BODY_BAD_JSON, BODY_MHD_HTML, BODY_MHD_TWICE, BODY_OTHER };
static const char *const body_names[] = {
    "empty", "json", "BAD-JSON", "mhd-html", "mhd-html(header block twice)", "other"};

struct answer {
    int status;
    enum body_kind body;
    bool close; /* Connection: close */
};

struct entry {
    char file[256], slug[256], what[512];
    enum expect expect;
    const char *known; /* reason, or NULL */
    /* results */
    struct answer answers[MAX_ANSWERS];
    size_t nanswers;
    bool closed;         /* the daemon closed the connection (EOF or reset) */
    bool reset;          /* ... with a reset */
    bool send_cut;       /* the daemon closed before all bytes were sent */
    bool silent;         /* nothing within the wait: left for the idle timeout */
    bool timed_out;      /* silent, and the daemon closed it by its idle timeout */
    long long silent_at; /* when it was found silent (ms) */
    long long late_ms;   /* silent at first, then answered this long after (a slow daemon) */
    bool garbage;        /* bytes that are not an HTTP/1.x answer */
    size_t trailing;     /* bytes after a Connection: close answer */
    int fd;              /* kept open while silent */
    char *buf;           /* what the daemon sent */
    size_t len;
    bool head;
    char verdict[512];
    bool failed;
};

static struct entry g_entries[MAX_ENTRIES];
static size_t g_n;
static int g_port;
static pid_t g_pid;
static int g_wait_ms = 2000;

static long long now_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *slurp(const char *path, size_t *ret_len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) {
        fclose(f);
        return NULL;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        (void)fwrite(chunk, 1, n, m);
    fclose(f);
    if (fclose(m) != 0)
        return NULL;
    *ret_len = len;
    return buf;
}

static void append(struct entry *e, const char *p, size_t n) {
    if (e->len + n > RESPONSE_MAX)
        n = RESPONSE_MAX - e->len;
    char *b = realloc(e->buf, e->len + n + 1);
    if (!b) {
        perror("realloc");
        exit(2);
    }
    memcpy(b + e->len, p, n);
    e->len += n;
    b[e->len] = '\0';
    e->buf = b;
}

static int connect_local(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t el = sizeof(err);
    if (poll(&p, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
        close(fd);
        return err ? -err : -ETIMEDOUT;
    }
    return fd;
}

/* Read what is there; returns 1 on data, 0 on nothing (EAGAIN), -1 on EOF or reset. */
static int read_some(struct entry *e) {
    char b[65536];
    ssize_t n = recv(e->fd, b, sizeof(b), 0);
    if (n > 0) {
        append(e, b, (size_t)n);
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    e->closed = true;
    e->reset = n < 0;
    return -1;
}

/* --- parsing the daemon's answers --------------------------------------------------------- */

static const char *find_crlfcrlf(const char *p, const char *end) {
    for (; p + 3 < end; p++)
        if (p[0] == '\r' && p[1] == '\n' && p[2] == '\r' && p[3] == '\n')
            return p;
    return NULL;
}

/* The value of header NAME in the block [h, end), copied into out; false when absent. */
static bool header_value(const char *h, const char *end, const char *name, char *out, size_t len) {
    size_t nl = strlen(name);
    for (const char *line = h; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            size_t n = (size_t)(eol - v);
            while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' '))
                n--;
            if (n >= len)
                n = len - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        line = eol + 1;
    }
    return false;
}

static enum body_kind classify_body(int status, const char *ctype, const char *b, size_t n) {
    if (n == 0)
        return BODY_NONE;
    if (ctype && strncasecmp(ctype, "application/json", 16) == 0) {
        json_error_t err;
        json_t *doc = json_loadb(b, n, 0, &err);
        json_t *e = json_object_get(doc, "error");
        json_t *st = json_object_get(e, "status");
        bool ok = status < 400 ? doc != NULL
                               : json_is_integer(st) && json_integer_value(st) == status &&
                                     json_is_string(json_object_get(e, "message"));
        json_decref(doc);
        return ok ? BODY_JSON : BODY_BAD_JSON;
    }
    if (n >= 6 && strncmp(b, "<html>", 6) == 0)
        return BODY_MHD_HTML;
    if (!ctype && n >= 9 && strncmp(b, "HTTP/1.1 ", 9) == 0)
        return BODY_MHD_TWICE;
    return BODY_OTHER;
}

/* Parse the answers in e->buf. Returns true when everything received forms complete answers
 * (so quiet means done), false while an answer is still incomplete. */
static bool parse_answers(struct entry *e) {
    const char *p = e->buf, *end = e->buf + e->len;
    e->nanswers = 0;
    e->garbage = false;
    e->trailing = 0;
    bool first = true;
    while (p < end) {
        if (end - p < 12) {
            if (strncmp(p, "HTTP/1.", (size_t)(end - p) < 7 ? (size_t)(end - p) : 7) != 0)
                e->garbage = true;
            return false;
        }
        if (strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' || p[9] > '5') {
            e->garbage = true;
            return true;
        }
        const char *hend = find_crlfcrlf(p, end);
        if (!hend)
            return false;
        int status = atoi(p + 9);
        const char *h = memchr(p, '\n', (size_t)(hend - p));
        h = h ? h + 1 : hend;
        char cl[64], te[64], conn[64], ct[128];
        bool has_cl = header_value(h, hend + 2, "Content-Length", cl, sizeof(cl));
        bool chunked = header_value(h, hend + 2, "Transfer-Encoding", te, sizeof(te)) &&
                       strcasecmp(te, "chunked") == 0;
        bool close = header_value(h, hend + 2, "Connection", conn, sizeof(conn)) &&
                     strcasestr(conn, "close");
        bool has_ct = header_value(h, hend + 2, "Content-Type", ct, sizeof(ct));
        const char *body = hend + 4;
        size_t blen = 0;
        char *dechunked = NULL;
        if (status < 200) {
            /* interim: no body, not counted as the answer */
            p = body;
            continue;
        }
        if ((first && e->head) || status == 204 || status == 304) {
            blen = 0;
            p = body;
        } else if (chunked) {
            size_t dlen = 0;
            const char *c = body;
            for (;;) {
                const char *le = NULL;
                for (const char *q = c; q + 1 < end; q++)
                    if (q[0] == '\r' && q[1] == '\n') {
                        le = q;
                        break;
                    }
                if (!le) {
                    free(dechunked);
                    return false;
                }
                unsigned long sz = strtoul(c, NULL, 16);
                if ((size_t)(end - (le + 2)) < sz + 2) {
                    free(dechunked);
                    return false;
                }
                if (sz == 0) {
                    /* no trailers from this server: "0\r\n\r\n" */
                    c = le + 4;
                    break;
                }
                char *d = realloc(dechunked, dlen + sz + 1);
                if (!d) {
                    free(dechunked);
                    return false;
                }
                dechunked = d;
                memcpy(dechunked + dlen, le + 2, sz);
                dlen += sz;
                c = le + 2 + sz + 2;
            }
            body = dechunked;
            blen = dlen;
            p = c;
        } else if (has_cl) {
            blen = strtoul(cl, NULL, 10);
            if ((size_t)(end - body) < blen)
                return false;
            p = body + blen;
        } else {
            if (!e->closed)
                return false; /* read until the close */
            blen = (size_t)(end - body);
            p = end;
        }
        if (e->nanswers < MAX_ANSWERS)
            e->answers[e->nanswers++] = (struct answer){
                status, classify_body(status, has_ct ? ct : NULL, body, blen), close};
        free(dechunked);
        first = false;
        if (close) {
            e->trailing = (size_t)(end - p);
            return true;
        }
    }
    return true;
}

/* --- running one request ---------------------------------------------------------------- */

static void run_entry(struct entry *e, const char *dir) {
    char path[4096];
    size_t len;
    (void)snprintf(path, sizeof(path), "%s/%s", dir, e->file);
    char *data = slurp(path, &len);
    if (!data) {
        fprintf(stderr, "malformed_client: cannot read %s: %s\n", path, strerror(errno));
        exit(2);
    }
    e->head = len >= 5 && memcmp(data, "HEAD ", 5) == 0;
    e->fd = connect_local();
    if (e->fd < 0) {
        (void)snprintf(e->verdict, sizeof(e->verdict), "cannot connect: %s", strerror(-e->fd));
        e->failed = true;
        e->fd = -1;
        free(data);
        return;
    }
    /* send everything, reading as we go */
    size_t off = 0;
    long long t0 = now_ms();
    while (off < len && !e->closed && now_ms() - t0 < SEND_LIMIT_MS) {
        struct pollfd p = {.fd = e->fd, .events = POLLIN | POLLOUT};
        if (poll(&p, 1, 200) <= 0)
            continue;
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            if (read_some(e) < 0)
                break;
        if (p.revents & POLLOUT) {
            ssize_t n = send(e->fd, data + off, len - off, MSG_NOSIGNAL);
            if (n > 0)
                off += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                break;
        }
    }
    e->send_cut = off < len;
    free(data);

    if (e->expect == EXP_ABORT) {
        close(e->fd);
        e->fd = -1;
        return;
    }
    if (e->expect == EXP_TRUNC)
        (void)shutdown(e->fd, SHUT_WR);

    long long last = now_ms(), start = last;
    while (!e->closed) {
        bool complete = e->len > 0 && parse_answers(e);
        long long quiet = now_ms() - last;
        if (complete && e->expect != EXP_TRUNC && quiet >= QUIET_AFTER_ANSWER_MS)
            break;
        if (e->len == 0 && quiet >= g_wait_ms) {
            e->silent = true; /* kept open: the idle timeout must close it */
            e->silent_at = now_ms();
            return;
        }
        if (e->len > 0 && now_ms() - start >= READ_LIMIT_MS)
            break;
        if (e->len == 0 && e->expect == EXP_TRUNC && quiet >= g_wait_ms) {
            e->silent = true;
            e->silent_at = now_ms();
            return;
        }
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            int r = read_some(e);
            if (r > 0)
                last = now_ms();
        }
    }
    close(e->fd);
    e->fd = -1;
    if (e->len > 0)
        (void)parse_answers(e);
}

/* GET /healthz on a fresh connection: true on 200 {"status":"ok"}. */
static bool healthy(char *why, size_t whylen) {
    static const char req[] =
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (g_pid > 0 && kill(g_pid, 0) < 0) {
        (void)snprintf(why, whylen, "the daemon (pid %d) is gone", (int)g_pid);
        return false;
    }
    struct entry h = {.fd = connect_local()};
    if (h.fd < 0) {
        (void)snprintf(why, whylen, "/healthz: cannot connect: %s", strerror(-h.fd));
        return false;
    }
    if (send(h.fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
        (void)snprintf(why, whylen, "/healthz: send: %s", strerror(errno));
        close(h.fd);
        return false;
    }
    long long t0 = now_ms();
    while (!h.closed && now_ms() - t0 < HEALTH_LIMIT_MS) {
        struct pollfd p = {.fd = h.fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0)
            (void)read_some(&h);
    }
    close(h.fd);
    bool ok =
        h.buf && strncmp(h.buf, "HTTP/1.1 200 ", 13) == 0 && strstr(h.buf, "{\"status\":\"ok\"}");
    if (!ok)
        (void)snprintf(why, whylen, "/healthz: %s after %lld ms: %.60s",
                       h.closed ? "closed" : "no answer", now_ms() - t0, h.buf ? h.buf : "");
    free(h.buf);
    return ok;
}

/* --- verdicts ----------------------------------------------------------------------------- */

static void describe(const struct entry *e, char *out, size_t len) {
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < e->nanswers && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%d %s", i ? " + " : "",
                                e->answers[i].status, body_names[e->answers[i].body]);
    if (off < len && e->nanswers == 0)
        off += (size_t)snprintf(out + off, len - off, "no answer");
    if (off < len && e->garbage)
        off += (size_t)snprintf(out + off, len - off, ", garbage bytes");
    if (off < len && e->trailing)
        off += (size_t)snprintf(out + off, len - off, ", %zu bytes after the close answer",
                                e->trailing);
    if (off < len && e->late_ms)
        off += (size_t)snprintf(out + off, len - off, ", late: seen after %lld ms", e->late_ms);
    if (off < len && e->silent)
        off += (size_t)snprintf(out + off, len - off,
                                e->timed_out ? ", silent, closed by the idle timeout"
                                             : ", silent, STILL OPEN");
    else if (off < len && e->expect == EXP_ABORT)
        off += (size_t)snprintf(out + off, len - off, ", client closed");
    else if (off < len && e->closed)
        off += (size_t)snprintf(out + off, len - off, ", closed%s", e->reset ? " (reset)" : "");
    else if (off < len)
        off += (size_t)snprintf(out + off, len - off, ", kept alive");
    if (off < len && e->send_cut)
        (void)snprintf(out + off, len - off, ", closed before the request was sent whole");
}

/* Check e against its expectation; fills e->verdict and e->failed. */
static void judge(struct entry *e) {
    char what[400];
    const char *bad = NULL;
    describe(e, what, sizeof(what));
    if (e->garbage)
        bad = "bytes that are not an HTTP/1.x answer";
    for (size_t i = 0; !bad && i < e->nanswers; i++) {
        const struct answer *a = &e->answers[i];
        bool want_ok = (e->expect == EXP_OK && i == 0) || (e->expect == EXP_OK_REJECT && i == 0);
        if (a->status >= 500)
            bad = "a 5xx answer";
        else if (want_ok && a->status != 200)
            bad = "a valid request not answered 200";
        else if (!want_ok && e->expect != EXP_NO5XX && (a->status < 400 || a->status >= 500))
            bad = a->status < 300 ? "a 2xx answer to a malformed request"
                                  : "an answer that is not 4xx";
        else if (a->body == BODY_BAD_JSON)
            bad = "a JSON body that is not the API's error document for this status";
        else if (a->status >= 400 && a->body == BODY_OTHER)
            bad = "a 4xx body that is neither the API's JSON nor libmicrohttpd's page";
    }
    if (!bad && e->expect == EXP_OK && e->nanswers != 1)
        bad = "a valid request not answered exactly once";
    if (!bad && e->expect == EXP_OK_REJECT && e->nanswers == 0)
        bad = "the valid request at the start got no answer";
    if (!bad && e->silent && !e->timed_out)
        bad = "the connection was still open after the idle timeout";
    if (!bad && e->expect == EXP_TRUNC && !e->closed && !e->timed_out)
        bad = "the daemon did not close a half-closed connection";
    e->failed = bad != NULL;
    (void)snprintf(e->verdict, sizeof(e->verdict), "%s%s%s", what, bad ? ": " : "", bad ? bad : "");
}

static const char *label(const struct entry *e) {
    if (e->failed)
        return e->known ? "KNOWN" : "FAIL";
    return e->known ? "NOWOK" : "ok";
}

/* Wait until every silent connection is closed by the daemon (its idle timeout). */
static void wait_pending(void) {
    long long t0 = now_ms();
    size_t left;
    do {
        left = 0;
        for (size_t i = 0; i < g_n; i++) {
            struct entry *e = &g_entries[i];
            if (!e->silent || e->fd < 0)
                continue;
            struct pollfd p = {.fd = e->fd, .events = POLLIN};
            if (poll(&p, 1, 0) > 0)
                while (read_some(e) > 0)
                    ;
            bool answered = e->len > 0 && parse_answers(e) && e->nanswers > 0;
            if (e->closed || answered) {
                /* closed by the idle timeout (30 s), or earlier: a slow close or a late answer
                 * (a loaded machine), judged like any other */
                long long after = now_ms() - e->silent_at;
                e->timed_out = e->closed && e->nanswers == 0 && after >= 20000;
                if (!e->timed_out) {
                    e->silent = false;
                    e->late_ms = after + g_wait_ms;
                }
                close(e->fd);
                e->fd = -1;
                if (e->len)
                    (void)parse_answers(e);
            } else {
                left++;
            }
        }
        if (left)
            usleep(100000);
    } while (left && now_ms() - t0 < PENDING_LIMIT_MS);
    if (left)
        printf("# %zu silent connections still open after %d s\n", left, PENDING_LIMIT_MS / 1000);
}

/* --- manifest and known failures --------------------------------------------------------- */

static char *g_known_text;

static void load_known(const char *path) {
    size_t len;
    g_known_text = slurp(path, &len);
    if (!g_known_text) {
        fprintf(stderr, "malformed_client: cannot read %s: %s\n", path, strerror(errno));
        exit(2);
    }
    for (char *line = strtok(g_known_text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !strchr(line, '\t'))
            continue;
        char *tab = strchr(line, '\t');
        *tab = '\0';
        bool found = false;
        for (size_t i = 0; i < g_n; i++)
            if (strcmp(g_entries[i].slug, line) == 0) {
                g_entries[i].known = tab + 1;
                found = true;
            }
        if (!found)
            fprintf(stderr, "malformed_client: %s: no request %s in the corpus\n", path, line);
    }
}

static void load_manifest(const char *dir) {
    char path[4096];
    size_t len;
    (void)snprintf(path, sizeof(path), "%s/MANIFEST", dir);
    char *text = slurp(path, &len);
    if (!text) {
        fprintf(stderr, "malformed_client: cannot read %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *f = line, *x = strchr(f, '\t'), *w = x ? strchr(x + 1, '\t') : NULL;
        if (!x || !w || g_n == MAX_ENTRIES) {
            fprintf(stderr, "malformed_client: %s: bad line: %s\n", path, line);
            exit(2);
        }
        *x++ = '\0';
        *w++ = '\0';
        struct entry *e = &g_entries[g_n];
        int k;
        for (k = 0; k <= EXP_ABORT; k++)
            if (strcmp(x, expect_names[k]) == 0)
                break;
        if (k > EXP_ABORT || strlen(f) < 10 || strlen(f) >= sizeof(e->file)) {
            fprintf(stderr, "malformed_client: %s: bad entry %s (%s)\n", path, f, x);
            exit(2);
        }
        e->expect = (enum expect)k;
        (void)snprintf(e->file, sizeof(e->file), "%s", f);
        (void)snprintf(e->slug, sizeof(e->slug), "%.*s", (int)(strlen(f) - 9), f + 4);
        (void)snprintf(e->what, sizeof(e->what), "%s", w);
        e->fd = -1;
        g_n++;
    }
    free(text);
}

static void usage(void) {
    fprintf(stderr, "usage: malformed_client [-p DAEMON_PID] [-k KNOWN_FILE] [-s] [-w SECONDS] "
                    "PORT CORPUS_DIR\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *known = NULL;
    bool strict = false;
    int opt;
    while ((opt = getopt(argc, argv, "p:k:sw:")) != -1) {
        switch (opt) {
        case 'p':
            g_pid = (pid_t)atoi(optarg);
            break;
        case 'k':
            known = optarg;
            break;
        case 's':
            strict = true;
            break;
        case 'w':
            g_wait_ms = (int)(atof(optarg) * 1000);
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 2)
        usage();
    g_port = atoi(argv[optind]);
    const char *dir = argv[optind + 1];
    if (g_port <= 0 || g_port > 65535 || g_wait_ms <= 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    load_manifest(dir);
    if (known)
        load_known(known);

    char why[256];
    if (!healthy(why, sizeof(why))) {
        printf("malformed_client: the daemon is not healthy before the first request: %s\n", why);
        return 1;
    }
    long long t0 = now_ms();
    size_t died_at = g_n;
    for (size_t i = 0; i < g_n; i++) {
        struct entry *e = &g_entries[i];
        run_entry(e, dir);
        if (!e->silent) {
            judge(e);
            printf("  %-5s %-44s [%s] %s\n", label(e), e->file, expect_names[e->expect],
                   e->verdict);
        } else {
            printf("  ...   %-44s [%s] silent for %d ms: kept open for the idle timeout\n", e->file,
                   expect_names[e->expect], g_wait_ms);
        }
        fflush(stdout);
        if (!healthy(why, sizeof(why))) {
            printf("FAIL: after %s: %s\n", e->file, why);
            died_at = i;
            break;
        }
    }
    if (died_at == g_n) {
        wait_pending();
        for (size_t i = 0; i < g_n; i++) {
            struct entry *e = &g_entries[i];
            if (!e->silent_at) /* judged already: it was never left pending */
                continue;
            judge(e);
            printf("  %-5s %-44s [%s] %s\n", label(e), e->file, expect_names[e->expect],
                   e->verdict);
        }
        if (!healthy(why, sizeof(why))) {
            printf("FAIL: after the silent connections: %s\n", why);
            died_at = g_n - 1;
        }
    }

    /* summary */
    size_t per_status[600] = {0}, closed_none = 0, timeout_none = 0, fails = 0, knowns = 0,
           fixed = 0;
    size_t nrun = died_at == g_n ? g_n : died_at + 1;
    printf("\n== %zu requests in %.1f s\n", nrun, (double)(now_ms() - t0) / 1000.0);
    printf("== libmicrohttpd's own answers (HTML, not the daemon's JSON):\n");
    for (size_t i = 0; i < nrun; i++) {
        struct entry *e = &g_entries[i];
        for (size_t k = 0; k < e->nanswers; k++) {
            if (e->answers[k].status > 0 && e->answers[k].status < 600)
                per_status[e->answers[k].status]++;
            if (e->answers[k].body == BODY_MHD_HTML || e->answers[k].body == BODY_MHD_TWICE)
                printf("   %d  %-44s%s\n", e->answers[k].status, e->file,
                       e->answers[k].body == BODY_MHD_TWICE
                           ? "  (malformed: its header block twice, the page cut by Content-Length)"
                           : "");
        }
        if (e->nanswers == 0 && e->expect != EXP_ABORT)
            e->timed_out ? timeout_none++ : closed_none++;
    }
    printf("== answers per status:");
    for (int s = 0; s < 600; s++)
        if (per_status[s])
            printf(" %d: %zu", s, per_status[s]);
    printf("\n== no answer: %zu closed by the daemon, %zu silent until its idle timeout closed them"
           " (abort entries, closed by the client, not counted)\n",
           closed_none, timeout_none);
    for (size_t i = 0; i < nrun; i++) {
        struct entry *e = &g_entries[i];
        if (e->failed && e->known) {
            knowns++;
            printf("KNOWN  %s: %s -- %s\n", e->file, e->verdict, e->known);
        } else if (e->failed) {
            fails++;
            printf("FAIL   %s (%s): %s\n", e->file, e->what, e->verdict);
        } else if (e->known) {
            fixed++;
            printf("NOW PASSES  %s: %s (listed as known: %s)\n", e->file, e->verdict, e->known);
        }
    }
    if (died_at != g_n)
        fails++;
    printf("== %zu requests: %zu failed, %zu known failures%s, %zu known failures now pass\n", nrun,
           fails, knowns, strict ? " (counted: -s)" : "", fixed);
    free(g_known_text);
    for (size_t i = 0; i < g_n; i++)
        free(g_entries[i].buf);
    return fails || (strict && knowns) ? 1 : 0;
}
