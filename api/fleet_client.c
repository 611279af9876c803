/* fleet_client.c: one fetch round over every peer with libcurl's multi interface (see
 * fleet_client.h for what a round does and promises). */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/fleet_client.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

#define POLL_SLICE_MS 1000 /* curl_multi_poll() waits at most this long between checks */
#define BODY_BUF_FIRST 16384u /* a body buffer's first size; it doubles up to the cap */
#define BODY_BUF_KEEP BODY_BUF_FIRST

struct peer {
    struct fleet_url url;
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    /* Kept from round to round. */
    char *etag[_FLEET_DOC_MAX];
    struct fleet_doc *last[_FLEET_DOC_MAX];
    /* This round. */
    struct fleet_result *res;
    int kind;         /* document being fetched */
    bool active;      /* a transfer is in the multi handle */
    bool conditional; /* If-None-Match was sent */
    bool too_big;     /* the write callback stopped the body */
    char *buf;        /* the body so far (decoded) */
    size_t len, cap;
    char etag_seen[VM_FLEET_ETAG_MAX + 1]; /* "" when none, or not usable */
    char type_seen[64];
};

struct fleet_client {
    CURLM *multi;
    struct peer *peers;
    size_t npeers;
    uint64_t timeout_ms, body_max;
    uint32_t procs_limit_max;      /* processes asked of a peer at most (the options') */
    uint32_t procs_limit;          /* asked of each peer now: the fleet-wide budget shared out */
    char *ca, *token, *user_agent; /* ca: PEM text, or NULL */
    char *cert, *key; /* PEM texts of the client certificate, or NULL */
    int cancelled; /* atomic */
};

static uint64_t mono_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- callbacks ---------------------------------------------------------------------------- */

/* The cap is checked against the client's body_max; the peer needs to reach it. */
struct body_ctx {
    struct peer *p;
    uint64_t max;
};

static size_t write_body(char *data, size_t size, size_t nmemb, void *userdata) {
    struct body_ctx *b = userdata;
    struct peer *p = b->p;
    size_t n = size * nmemb;
    uint64_t total;
    if (__builtin_add_overflow(p->res->bytes, (uint64_t)n, &total) || total > b->max) {
        p->too_big = true;
        return 0; /* CURLE_WRITE_ERROR: the transfer stops here */
    }
    if (p->len + n + 1 > p->cap) {
        /* Double, but never past the cap: a body at the cap holds cap bytes, not twice that. */
        size_t cap = p->cap ? p->cap : BODY_BUF_FIRST;
        while (cap < p->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = (size_t)b->max + 1;
        char *nb = realloc(p->buf, cap);
        if (!nb)
            return 0;
        p->buf = nb;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    p->res->bytes = total;
    return n;
}

/* A header value without the name, trimmed, into out; false when it does not fit or holds a
 * byte that must not be sent back in a header. */
static bool header_value(const char *line, size_t len, size_t name_len, char *out, size_t outlen) {
    const char *v = line + name_len + 1, *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t n = (size_t)(e - v);
    if (n == 0 || n >= outlen)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
            return false;
    memcpy(out, v, n);
    out[n] = 0;
    return true;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata) {
    struct peer *p = userdata;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) { /* a new response: forget the last one's */
        p->etag_seen[0] = 0;
        p->type_seen[0] = 0;
    } else if (n > 5 && strncasecmp(line, "ETag:", 5) == 0) {
        if (!header_value(line, n, 4, p->etag_seen, sizeof(p->etag_seen)))
            p->etag_seen[0] = 0;
    } else if (n > 13 && strncasecmp(line, "Content-Type:", 13) == 0) {
        if (!header_value(line, n, 12, p->type_seen, sizeof(p->type_seen)))
            (void)snprintf(p->type_seen, sizeof(p->type_seen), "?");
    }
    return n;
}

/* --- peers -------------------------------------------------------------------------------- */

/* The processes asked of each peer: VM_FLEET_PROCS_TOTAL shared out over the peers, at most the
 * options' limit and at least VM_FLEET_PROCS_PER_PEER_MIN. Parsing the processes documents is
 * most of a round's CPU and their copies most of the aggregator's memory, both linear in the
 * processes fetched: with 1,000 peers of 1,000 processes each, a round could not be parsed
 * within the peer timeout nor held in 256 MiB (bench/fleet.sh). When the limit changes, the
 * processes documents kept are forgotten: one fetched for another limit is not reused by a 304.
 */
static void update_procs_limit(struct fleet_client *c) {
    uint32_t limit = c->procs_limit_max;
    if (c->npeers > 0 && VM_FLEET_PROCS_TOTAL / c->npeers < limit)
        limit = (uint32_t)(VM_FLEET_PROCS_TOTAL / c->npeers);
    if (limit < VM_FLEET_PROCS_PER_PEER_MIN)
        limit = VM_FLEET_PROCS_PER_PEER_MIN < c->procs_limit_max ? VM_FLEET_PROCS_PER_PEER_MIN
                                                                 : c->procs_limit_max;
    if (limit == c->procs_limit)
        return;
    c->procs_limit = limit;
    for (size_t i = 0; i < c->npeers; i++) {
        struct peer *p = &c->peers[i];
        free(p->etag[FLEET_DOC_PROCESSES]);
        p->etag[FLEET_DOC_PROCESSES] = NULL;
        p->last[FLEET_DOC_PROCESSES] = fleet_doc_unref(p->last[FLEET_DOC_PROCESSES]);
    }
}

static void peer_done(struct peer *p) {
    if (p->easy)
        curl_easy_cleanup(p->easy);
    curl_slist_free_all(p->headers);
    for (int k = 0; k < _FLEET_DOC_MAX; k++) {
        free(p->etag[k]);
        fleet_doc_unref(p->last[k]);
    }
    free(p->buf);
    fleet_url_done(&p->url);
    memset(p, 0, sizeof(*p));
}

static int peer_init(struct peer *p, const struct fleet_url *u) {
    memset(p, 0, sizeof(*p));
    if (fleet_url_copy(u, &p->url) < 0)
        return -ENOMEM;
    p->easy = curl_easy_init();
    if (!p->easy) {
        fleet_url_done(&p->url);
        return -ENOMEM;
    }
    return 0;
}

int fleet_client_set_peers(struct fleet_client *c, const struct fleet_url *urls, size_t n) {
    struct peer *np = calloc(n ? n : 1, sizeof(*np));
    bool *moved = calloc(c->npeers ? c->npeers : 1, sizeof(*moved));
    if (!np || !moved) {
        free(np), free(moved);
        return -ENOMEM;
    }
    size_t i;
    for (i = 0; i < n; i++) {
        size_t k;
        for (k = 0; k < c->npeers; k++)
            if (!moved[k] && strcmp(c->peers[k].url.url, urls[i].url) == 0)
                break;
        if (k < c->npeers) {
            np[i] = c->peers[k]; /* keeps its connection, ETags and last documents */
            moved[k] = true;
        } else if (peer_init(&np[i], &urls[i]) < 0) {
            break;
        }
    }
    if (i < n) { /* out of memory: put back what moved, drop what was new */
        for (size_t j = 0; j < i; j++) {
            size_t k;
            for (k = 0; k < c->npeers; k++)
                if (moved[k] && c->peers[k].easy == np[j].easy)
                    break;
            if (k == c->npeers)
                peer_done(&np[j]);
        }
        free(np), free(moved);
        return -ENOMEM;
    }
    for (size_t k = 0; k < c->npeers; k++)
        if (!moved[k])
            peer_done(&c->peers[k]);
    free(c->peers);
    free(moved);
    c->peers = np;
    c->npeers = n;
    update_procs_limit(c);
    /* Every peer's connection stays in the cache between rounds. */
    (void)curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)(n + 4));
    return 0;
}

size_t fleet_client_peers(const struct fleet_client *c) {
    return c->npeers;
}

uint32_t fleet_client_procs_limit(const struct fleet_client *c) {
    return c->procs_limit;
}

/* --- lifecycle ---------------------------------------------------------------------------- */

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static void free_secret(char **p) {
    if (*p) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

int fleet_client_set_options(struct fleet_client *c, const struct fleet_client_options *o) {
    char *ca = dup_or_null(o->ca_pem), *tok = dup_or_null(o->bearer_token),
         *ua = strdup(o->user_agent ? o->user_agent : "vmatlasd"),
         *cert = dup_or_null(o->client_cert_pem), *key = dup_or_null(o->client_key_pem);
    if ((o->ca_pem && !ca) || (o->bearer_token && !tok) || !ua ||
        (o->client_cert_pem && !cert) || (o->client_key_pem && !key)) {
        free(ca), free(ua), free(cert);
        free_secret(&tok);
        free_secret(&key);
        return -ENOMEM;
    }
    free(c->ca), free(c->user_agent), free(c->cert);
    free_secret(&c->token);
    free_secret(&c->key);
    c->ca = ca, c->token = tok, c->user_agent = ua, c->cert = cert, c->key = key;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : VM_FLEET_TIMEOUT_DEFAULT_MS;
    c->body_max = o->body_max ? o->body_max : VM_FLEET_BODY_MAX;
    c->procs_limit_max = o->procs_limit ? o->procs_limit : VM_FLEET_PROCS_PER_PEER;
    update_procs_limit(c);
    return 0;
}

int fleet_client_new(const struct fleet_client_options *o, struct fleet_client **ret) {
    struct fleet_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->multi = curl_multi_init();
    if (!c->multi || fleet_client_set_options(c, o) < 0) {
        fleet_client_free(c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

void fleet_client_cancel(struct fleet_client *c) {
    __atomic_store_n(&c->cancelled, 1, __ATOMIC_RELEASE);
    (void)curl_multi_wakeup(c->multi); /* thread-safe: interrupts curl_multi_poll() */
}

struct fleet_client *fleet_client_free(struct fleet_client *c) {
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->npeers; i++)
        peer_done(&c->peers[i]);
    free(c->peers);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    free(c->ca), free(c->user_agent), free(c->cert);
    free_secret(&c->token);
    free_secret(&c->key);
    free(c);
    return NULL;
}

struct fleet_round *fleet_round_free(struct fleet_round *r) {
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        fleet_url_done(&r->peers[i].url);
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            fleet_doc_unref(r->peers[i].docs[k]);
    }
    free(r->peers);
    free(r);
    return NULL;
}

/* --- one round ---------------------------------------------------------------------------- */

struct round_ctx {
    struct fleet_client *c;
    struct body_ctx *bodies; /* one per peer */
    uint64_t start_ns, deadline_ns;
    size_t active;
};

static void peer_fail(struct round_ctx *rc, struct peer *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void peer_fail(struct round_ctx *rc, struct peer *p, const char *fmt, ...) {
    struct fleet_result *r = p->res;
    if (r->error[0] == 0) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(r->error, sizeof(r->error), fmt, ap);
        va_end(ap);
        for (char *c = r->error; *c; c++) /* it quotes what the peer sent: ASCII only */
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
    }
    r->up = false;
    r->latency_us = (mono_ns() - rc->start_ns) / 1000;
    for (int k = 0; k < _FLEET_DOC_MAX; k++)
        r->docs[k] = fleet_doc_unref(r->docs[k]);
}

/* Start the transfer of p's document p->kind. 0, or -ENOMEM (then p has failed). */
static int start_doc(struct round_ctx *rc, struct peer *p) {
    struct fleet_client *c = rc->c;
    char path[128], url[VM_FLEET_URL_MAX + 160], hdr[VM_FLEET_ETAG_MAX + 32];
    (void)fleet_doc_path(p->kind, c->procs_limit, path, sizeof(path));
    (void)snprintf(url, sizeof(url), "%s%s", p->url.url, path);

    curl_slist_free_all(p->headers);
    p->headers = curl_slist_append(NULL, "Accept: application/json");
    p->conditional = p->etag[p->kind] && p->last[p->kind];
    if (p->headers && p->conditional) {
        (void)snprintf(hdr, sizeof(hdr), "If-None-Match: %s", p->etag[p->kind]);
        struct curl_slist *h = curl_slist_append(p->headers, hdr);
        if (!h) {
            curl_slist_free_all(p->headers);
            p->headers = NULL;
        } else
            p->headers = h;
    }
    if (p->headers && c->token) {
        size_t n = strlen(c->token) + 32;
        char *auth = malloc(n);
        struct curl_slist *h = NULL;
        if (auth) {
            (void)snprintf(auth, n, "Authorization: Bearer %s", c->token);
            h = curl_slist_append(p->headers, auth);
            explicit_bzero(auth, n);
            free(auth);
        }
        if (!h) {
            curl_slist_free_all(p->headers);
            p->headers = NULL;
        } else
            p->headers = h;
    }
    if (!p->headers) {
        peer_fail(rc, p, "out of memory");
        return -ENOMEM;
    }

    uint64_t now = mono_ns();
    long left_ms = rc->deadline_ns > now ? (long)((rc->deadline_ns - now + 999999) / 1000000) : 1;
    CURL *e = p->easy;
    p->len = 0;
    p->too_big = false;
    p->etag_seen[0] = p->type_seen[0] = p->errbuf[0] = 0;
    CURLcode cr = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (cr == CURLE_OK)                                                                        \
            cr = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_HTTPHEADER, p->headers);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_ACCEPT_ENCODING, "gzip");
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, left_ms);
    SET(CURLOPT_TIMEOUT_MS, left_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L); /* and below: a peer that stalls is cut early */
    SET(CURLOPT_LOW_SPEED_TIME, (long)((c->timeout_ms + 999) / 1000));
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->body_max); /* a Content-Length past it */
    SET(CURLOPT_WRITEFUNCTION, write_body);
    SET(CURLOPT_WRITEDATA, &rc->bodies[p - c->peers]);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, p);
    SET(CURLOPT_ERRORBUFFER, p->errbuf);
    SET(CURLOPT_PRIVATE, p);
    SET(CURLOPT_USERAGENT, c->user_agent);
    if (c->ca) { /* else the system's bundle */
        struct curl_blob ca = {c->ca, strlen(c->ca), CURL_BLOB_COPY};
        SET(CURLOPT_CAINFO_BLOB, &ca);
    }
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->cert && c->key) {
        struct curl_blob cert = {c->cert, strlen(c->cert), CURL_BLOB_COPY};
        struct curl_blob key = {c->key, strlen(c->key), CURL_BLOB_COPY};
        SET(CURLOPT_SSLCERT_BLOB, &cert);
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLKEY_BLOB, &key);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
#undef SET
    if (cr != CURLE_OK) {
        peer_fail(rc, p, "curl: %s", curl_easy_strerror(cr));
        return 0;
    }
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        peer_fail(rc, p, "curl: cannot add the transfer");
        return 0;
    }
    p->active = true;
    rc->active++;
    return 0;
}

static bool json_type(const char *t) {
    return strncasecmp(t, "application/json", 16) == 0 &&
           (t[16] == 0 || t[16] == ';' || t[16] == ' ');
}

/* A transfer of p ended with result: check it, then start the next document or finish. */
static void finish_doc(struct round_ctx *rc, struct peer *p, CURLcode result) {
    struct fleet_client *c = rc->c;
    struct fleet_result *r = p->res;
    char path[128];
    (void)curl_multi_remove_handle(c->multi, p->easy);
    p->active = false;
    rc->active--;
    (void)fleet_doc_path(p->kind, c->procs_limit, path, sizeof(path));

    long status = 0;
    (void)curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
    if (p->too_big || result == CURLE_FILESIZE_EXCEEDED) {
        peer_fail(rc, p, "GET %s: answer larger than %llu bytes", path,
                  (unsigned long long)c->body_max);
        goto out;
    }
    if (result != CURLE_OK) {
        /* curl's error buffer says more than its code (the address, the time) when it has it */
        peer_fail(rc, p, "GET %s: %s", path, p->errbuf[0] ? p->errbuf : curl_easy_strerror(result));
        goto out;
    }
    if (status == 304 && p->conditional) {
        r->docs[p->kind] = fleet_doc_ref(p->last[p->kind]);
        r->not_modified++;
    } else if (status == 200) {
        char msg[200];
        struct fleet_doc *d = NULL;
        if (!json_type(p->type_seen)) {
            peer_fail(rc, p, "GET %s: Content-Type \"%.48s\", not application/json", path,
                      p->type_seen);
            goto out;
        }
        int pr = fleet_doc_parse(p->kind, p->buf ? p->buf : "", p->len, c->procs_limit, &d, msg,
                                 sizeof(msg));
        if (pr < 0) {
            peer_fail(rc, p, "GET %s: invalid document: %s", path,
                      pr == -ENOMEM ? "out of memory" : msg);
            goto out;
        }
        r->docs[p->kind] = fleet_doc_ref(d);
        fleet_doc_unref(p->last[p->kind]);
        p->last[p->kind] = d;
        free(p->etag[p->kind]);
        p->etag[p->kind] = p->etag_seen[0] ? strdup(p->etag_seen) : NULL;
    } else {
        peer_fail(rc, p, "GET %s: HTTP status %ld%s", path, status,
                  status >= 300 && status < 400 ? " (redirects are not followed)" : "");
        goto out;
    }

    if (++p->kind < _FLEET_DOC_MAX) {
        (void)start_doc(rc, p);
    } else {
        r->up = true;
        r->latency_us = (mono_ns() - rc->start_ns) / 1000;
    }
out:
    /* The body is parsed (or refused): only a first-size buffer is kept for the next document.
     * Keeping every peer's largest (the processes document, ~130 KiB a host) cost a fleet of
     * 1,000 peers 135 MiB of RSS between rounds (bench/fleet.sh). */
    if (p->cap > BODY_BUF_KEEP) {
        free(p->buf);
        p->buf = NULL;
        p->cap = 0;
    }
    p->len = 0;
}

int fleet_client_round(struct fleet_client *c, struct fleet_round **ret) {
    struct fleet_round *round = calloc(1, sizeof(*round));
    struct body_ctx *bodies = calloc(c->npeers ? c->npeers : 1, sizeof(*bodies));
    if (!round || !bodies ||
        !(round->peers = calloc(c->npeers ? c->npeers : 1, sizeof(*round->peers)))) {
        free(bodies);
        fleet_round_free(round);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->npeers; i++, round->n++)
        if (fleet_url_copy(&c->peers[i].url, &round->peers[i].url) < 0) {
            free(bodies);
            fleet_round_free(round);
            return -ENOMEM;
        }

    struct round_ctx rc = {.c = c, .bodies = bodies, .start_ns = mono_ns()};
    rc.deadline_ns = rc.start_ns + c->timeout_ms * 1000000u;
    round->started_at_ms = real_ms();
    for (size_t i = 0; i < c->npeers; i++) {
        struct peer *p = &c->peers[i];
        p->res = &round->peers[i];
        p->kind = 0;
        bodies[i] = (struct body_ctx){p, c->body_max};
        (void)start_doc(&rc, p);
    }

    while (rc.active > 0) {
        if (__atomic_load_n(&c->cancelled, __ATOMIC_ACQUIRE)) {
            round->cancelled = true;
            break;
        }
        uint64_t now = mono_ns();
        if (now >= rc.deadline_ns)
            break;
        int running = 0;
        (void)curl_multi_perform(c->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(c->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct peer *p = NULL;
            (void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
            CURLcode result = m->data.result; /* m is invalid once the handle is removed */
            if (p && p->active)
                finish_doc(&rc, p, result);
        }
        if (rc.active == 0)
            break;
        now = mono_ns();
        uint64_t left_ms = now < rc.deadline_ns ? (rc.deadline_ns - now + 999999) / 1000000 : 0;
        (void)curl_multi_poll(c->multi, NULL, 0,
                              (int)(left_ms < POLL_SLICE_MS ? left_ms : POLL_SLICE_MS), NULL);
    }
    /* What is still running has run out of time (or the daemon is stopping). */
    for (size_t i = 0; i < c->npeers; i++) {
        struct peer *p = &c->peers[i];
        if (p->active) {
            char path[128];
            (void)curl_multi_remove_handle(c->multi, p->easy);
            p->active = false;
            (void)fleet_doc_path(p->kind, c->procs_limit, path, sizeof(path));
            if (round->cancelled)
                peer_fail(&rc, p, "GET %s: cancelled (the daemon is stopping)", path);
            else
                peer_fail(&rc, p, "GET %s: timed out (no complete answer within %llu ms)", path,
                          (unsigned long long)c->timeout_ms);
            free(p->buf);
            p->buf = NULL;
            p->cap = p->len = 0;
        }
        p->res = NULL;
    }
    round->duration_ns = mono_ns() - rc.start_ns;
    free(bodies);
    *ret = round;
    return 0;
}
