/* server.c: the HTTP service on libmicrohttpd.
 *
 * Every request is checked before anything else (method allow-list, no body, URL and header
 * sizes), then routed. Documents are rendered once per snapshot and kept, with their gzip
 * variant and a 304 answer, in a small cache that belongs to the snapshot's "generation":
 * publishing a snapshot swaps the generation, and the old one goes away when the last request
 * using it completes. MHD responses are reference counted, so one cached response object is
 * queued on any number of connections at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "api/dashboard.h"
#include "api/guard.h"
#include "api/fleet_view.h"
#include "api/gate.h"
#include "api/gzip.h"
#include "api/json.h"
#include "api/render.h"
#include "api/reqhead.h"
#include "api/server.h"
#include "api/tls.h"
#include "api/utf8.h"
#include "api/vma_doc.h"
#include "vmatlas/macros.h"

#define URL_MAX 8192u               /* request target, query included (else 414) */
#define HEADERS_MAX 16384u          /* all header names and values (else 431) */
/* One request head at the gate: what libmicrohttpd's 32 KiB connection pool holds with room
 * for its bookkeeping (a 17 KiB head overflows it, and it answers with its own HTML page). */
#define HEAD_MAX 16384u
/* A request line at the gate: the target, the method and the version. */
#define REQUEST_LINE_MAX (URL_MAX + 64u)
/* Query parameters at the gate: libmicrohttpd 0.9.75 stores each in its pool and, from about
 * 550, runs out of it and drops the request without an answer. The API takes a handful. */
#define PARAMS_MAX 256u
#define QUERY_PARAMS_MAX 32u
#define CACHE_ENTRIES_MAX 64u
#define CACHE_BYTES_MAX (16u << 20) /* per generation, plain and gzip bodies */
#define CACHE_ENTRY_MAX (8u << 20)  /* bigger bodies are rendered for each request */
#define GZIP_MIN 1024u
#define LISTEN_MAX 16u
/* GnuTLS priorities: its defaults, without anything older than TLS 1.2. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* A process with more VMAs than this has its VMA documents streamed (about 700 bytes of JSON a
 * VMA): rendered piece by piece while the client reads, never whole in memory. */
#define STREAM_VMAS_MIN 16384u
#define STREAM_CHUNK_VMAS 256u

struct cached {
    char *key;
    struct MHD_Response *plain, *gz;                 /* identity and gzip bodies */
    struct MHD_Response *not_modified, *not_modified_gz; /* 304s with each variant's ETag */
    char etag[64], etag_gz[72];
    size_t bytes;
    uint64_t used; /* LRU tick */
};

/* The published snapshot (or fleet view) and the bodies rendered from it. */
struct generation {
    int refs; /* atomic */
    struct vm_snapshot *snap;
    struct fleet_view *fleet; /* a fleet generation has this instead of snap */
    uint64_t seq;             /* of snap or fleet: in ETags */
    pthread_mutex_t lock;
    struct cached entries[CACHE_ENTRIES_MAX];
    size_t n, bytes;
    uint64_t tick;
};

/* One listening address: the MHD daemon serving it and what it implies for a request. */
struct listener {
    struct api_server *server;
    bool loopback;
    bool redact; /* addresses as null on this listener */
    bool gated;  /* the gate checks its request heads (plain HTTP) */
};

struct api_server {
    struct MHD_Daemon *daemons[LISTEN_MAX];
    int fds[LISTEN_MAX]; /* the listening sockets, when the gate accepts on them */
    struct gate *gate;   /* plain HTTP: the front end that checks every request head */
    struct listener listeners[LISTEN_MAX];
    size_t ndaemons;
    char addrs[LISTEN_MAX][64];
    struct api_guard guard;
    char *token;
    char **hosts;
    bool client_certs; /* TLS with a client CA: every request shows a valid certificate */
    pthread_mutex_t lock; /* guards current and fleet */
    struct generation *current;
    struct generation *fleet; /* the last merged fleet view; NULL: none yet */
    bool fleet_mode;
    uint64_t requests; /* atomic */
    char instance[20]; /* random per process: ETags never repeat across restarts */
    uint32_t top_k;
    struct node_opts node;
    char *version;
    int (*refresh)(void *userdata, int32_t pid, unsigned *retry_after_s);
    void *refresh_userdata;
    /* ?refresh=1, one at a time: the refresher thread waits for the collector while the
     * connection is suspended (MHD_suspend_connection()), so no HTTP thread, and none of the
     * connections it serves, waits with it. */
    pthread_t refresher;
    bool refresher_started;
    pthread_mutex_t refresh_lock;
    pthread_cond_t refresh_cond;
    struct MHD_Connection *refresh_conn; /* the job; NULL: none */
    struct request *refresh_req;
    bool refresh_busy, refresh_stop;
};

/* Per request, in memory the connection owns (MHD_OPTION_NOTIFY_CONNECTION): libmicrohttpd
 * does not always call the completion callback (a request that overflows its memory pool is
 * dropped without it), so nothing here may depend on that call to be freed. */
struct request {
    size_t uri_len;
    const char *bad_target; /* why the raw target is refused (400); NULL: it is not */
    bool checked;  /* headers passed the checks; answer on the next call */
    bool answered; /* a response is queued */
    enum { REFRESH_NONE, REFRESH_PENDING, REFRESH_DONE } refresh;
    int32_t refresh_pid;
    int refresh_result; /* REFRESH_DONE: what the collector said */
    unsigned refresh_retry;
    struct generation *gen;
    struct generation *fleet_gen; /* /metrics of an aggregator: the fleet view it adds */
};

static uint64_t fnv64(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- generations ------------------------------------------------------------------------- */

static struct generation *generation_new(struct vm_snapshot *snap) {
    struct generation *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->refs = 1;
    g->snap = vm_snapshot_ref(snap);
    g->seq = snap->seq;
    pthread_mutex_init(&g->lock, NULL);
    return g;
}

static struct generation *generation_new_fleet(struct fleet_view *v) {
    struct generation *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->refs = 1;
    g->fleet = fleet_view_ref(v);
    g->seq = v->seq;
    pthread_mutex_init(&g->lock, NULL);
    return g;
}

static void cached_clear(struct cached *c) {
    free(c->key);
    if (c->plain)
        MHD_destroy_response(c->plain);
    if (c->gz)
        MHD_destroy_response(c->gz);
    if (c->not_modified)
        MHD_destroy_response(c->not_modified);
    if (c->not_modified_gz)
        MHD_destroy_response(c->not_modified_gz);
    memset(c, 0, sizeof(*c));
}

static struct generation *generation_ref(struct generation *g) {
    if (g)
        __atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
    return g;
}

static void generation_unref(struct generation *g) {
    if (!g || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < g->n; i++)
        cached_clear(&g->entries[i]);
    pthread_mutex_destroy(&g->lock);
    vm_snapshot_unref(g->snap);
    fleet_view_unref(g->fleet);
    free(g);
}

static struct generation *current_generation(struct api_server *s) {
    pthread_mutex_lock(&s->lock);
    struct generation *g = generation_ref(s->current);
    pthread_mutex_unlock(&s->lock);
    return g;
}

static struct generation *current_fleet(struct api_server *s) {
    pthread_mutex_lock(&s->lock);
    struct generation *g = generation_ref(s->fleet);
    pthread_mutex_unlock(&s->lock);
    return g;
}

/* --- responses --------------------------------------------------------------------------- */

static struct MHD_Response *response_from(char *body, size_t len, const char *type) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!r) {
        free(body);
        return NULL;
    }
    if (type)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return r;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status,
                             struct MHD_Response *r) {
    if (!r)
        return MHD_NO; /* out of memory: MHD closes the connection */
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *fmt,
                                  ...) __attribute__((format(printf, 3, 4)));
static struct MHD_Response *error_response(unsigned status, const char *msg) {
    json_t *doc = json_pack("{s:{s:i, s:o}}", "error", "status", (int)status, "message",
                            json_kernel_string(msg));
    char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!body)
        return NULL;
    struct MHD_Response *r = response_from(body, strlen(body), "application/json");
    if (r && status == MHD_HTTP_METHOD_NOT_ALLOWED)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (r && status == MHD_HTTP_SERVICE_UNAVAILABLE)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (r && status == MHD_HTTP_UNAUTHORIZED)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                      "Bearer realm=\"vmatlas\"");
    if (r)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return r;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *fmt,
                                  ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return queue(conn, status, error_response(status, msg));
}

/* The gate's refusal of a request head it did not pass on (gate.h): the last answer of the
 * connection. */
static enum MHD_Result send_refusal(struct MHD_Connection *conn, const char *code) {
    char *end;
    long e = strtol(code, &end, 10);
    if (*end != '\0' || e <= REQHEAD_OK || e >= REQHEAD_ERROR_COUNT)
        e = REQHEAD_REQUEST_LINE;
    unsigned status = reqhead_error_status((enum reqhead_error)e);
    struct MHD_Response *r = error_response(status, reqhead_error_message((enum reqhead_error)e));
    if (r)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue(conn, status, r);
}

/* 429 with Retry-After: the page-walk budget is spent. */
static enum MHD_Result send_too_many(struct MHD_Connection *conn, unsigned retry_after_s) {
    char after[16];
    json_t *doc = json_pack("{s:{s:i, s:s}}", "error", "status", MHD_HTTP_TOO_MANY_REQUESTS,
                            "message", "the page-walk budget is spent; retry later");
    char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!body)
        return MHD_NO;
    struct MHD_Response *r = response_from(body, strlen(body), "application/json");
    if (!r)
        return MHD_NO;
    (void)snprintf(after, sizeof(after), "%u", retry_after_s ? retry_after_s : 1);
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, after);
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return queue(conn, MHD_HTTP_TOO_MANY_REQUESTS, r);
}

/* A small JSON document that is not worth caching (/healthz, /readyz). */
static enum MHD_Result send_small(struct MHD_Connection *conn, unsigned status, json_t *doc,
                                  bool pretty) {
    char *body = doc ? json_dumps(doc, JSON_SORT_KEYS | (pretty ? JSON_INDENT(2) : JSON_COMPACT))
                     : NULL;
    json_decref(doc);
    if (!body)
        return MHD_NO;
    struct MHD_Response *r = response_from(body, strlen(body), "application/json");
    if (r)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return queue(conn, status, r);
}

/* --- documents --------------------------------------------------------------------------- */

struct param {
    const char *name, *value;
};

struct params {
    struct param p[QUERY_PARAMS_MAX];
    size_t n;
    bool too_many;
    bool pretty;
    bool bad_pretty;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value) {
    (void)kind;
    struct params *ps = cls;
    if (ps->n == QUERY_PARAMS_MAX) {
        ps->too_many = true;
        return MHD_NO;
    }
    ps->p[ps->n++] = (struct param){key, value};
    return MHD_YES;
}

/* What to render, decided by the router; the render step runs under the generation lock. */
enum doc_kind {
    DOC_NODE, DOC_PROCESSES, DOC_PROCESS, DOC_VMAS, DOC_RESIDENCY, DOC_HUGEPAGES, DOC_HIWATER,
    DOC_EXITED, DOC_METRICS, DOC_OPENMETRICS,
    DOC_FLEET_NODES, DOC_FLEET_PROCESSES, DOC_FLEET_HIWATER, DOC_FLEET_HUGEPAGES, DOC_FLEET_TARGETS
};

struct doc {
    enum doc_kind kind;
    const struct vm_process *proc; /* DOC_PROCESS, DOC_VMAS */
    struct proc_query query;       /* DOC_PROCESSES */
    enum vm_group_by group_by;     /* DOC_HIWATER */
    struct render_opts ro;
    const struct fleet_view *fleet; /* DOC_FLEET_*; DOC_METRICS of an aggregator */
    const char *node;               /* DOC_FLEET_PROCESSES: ?node= */
};

static const char *doc_type(enum doc_kind k) {
    switch (k) {
    case DOC_METRICS:
        return "text/plain; version=0.0.4; charset=utf-8";
    case DOC_OPENMETRICS:
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    default:
        return "application/json";
    }
}

static int render_doc(struct api_server *s, const struct vm_snapshot *snap, const struct doc *d,
                      char **ret, size_t *ret_len) {
    json_t *tree = NULL;
    switch (d->kind) {
    case DOC_FLEET_NODES:
        tree = render_fleet_nodes(d->fleet);
        break;
    case DOC_FLEET_PROCESSES:
        return render_fleet_processes(d->fleet, &d->query, d->node, &d->ro, ret, ret_len);
    case DOC_FLEET_HIWATER:
        return render_fleet_hiwater(d->fleet, d->group_by, &d->ro, ret, ret_len);
    case DOC_FLEET_HUGEPAGES:
        tree = render_fleet_hugepages(d->fleet);
        break;
    case DOC_FLEET_TARGETS:
        tree = render_fleet_targets(d->fleet);
        break;
    case DOC_NODE:
        tree = render_node(snap, &s->node);
        break;
    case DOC_PROCESSES:
        return render_processes(snap, &d->query, &d->ro, ret, ret_len);
    case DOC_PROCESS:
        tree = json_pack("{s:o, s:o}", "snapshot", render_snapshot_ref(snap), "process",
                         render_process_detail(snap, d->proc, &d->ro));
        break;
    case DOC_VMAS:
        return render_vmas_doc(snap, d->proc, &d->ro, ret, ret_len);
    case DOC_RESIDENCY:
        return render_residency_doc(snap, d->proc, &d->ro, ret, ret_len);
    case DOC_HUGEPAGES:
        tree = render_hugepages(snap);
        break;
    case DOC_HIWATER:
        tree = render_hiwater(snap, d->group_by);
        break;
    case DOC_EXITED:
        tree = render_exited(snap);
        break;
    case DOC_METRICS:
    case DOC_OPENMETRICS: {
        struct metrics_opts mo = {.top_k = s->top_k,
                                  .version = s->version,
                                  /* no age gauge in a body that is served for a whole
                                   * interval: time() - vmatlas_snapshot_timestamp_seconds */
                                  .now_ms = 0,
                                  .openmetrics = d->kind == DOC_OPENMETRICS,
                                  .fleet = d->fleet};
        return render_metrics(snap, &mo, ret, ret_len);
    }
    }
    if (!tree)
        return -ENOMEM;
    int r = render_dump(tree, &d->ro, ret, ret_len);
    json_decref(tree);
    return r;
}

static bool etag_matches(const char *header, const char *etag) {
    if (!header)
        return false;
    if (strcmp(header, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = header; (p = strstr(p, etag)); p += n) {
        bool start = p == header || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/';
        bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
        if (start && end)
            return true;
    }
    return false;
}

static void add_cache_headers(struct MHD_Response *r, const char *etag, bool vary_accept) {
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
                                  vary_accept ? "Accept-Encoding, Accept" : "Accept-Encoding");
}

/* Render the document and build its responses into c. */
static int cache_fill(struct api_server *s, struct generation *g, const char *key,
                      const struct doc *d, struct cached *c) {
    char *body = NULL;
    size_t len = 0;
    int r = render_doc(s, g->snap, d, &body, &len);
    if (r < 0)
        return r;
    memset(c, 0, sizeof(*c));
    c->key = strdup(key);
    c->plain = response_from(body, len, doc_type(d->kind)); /* owns body from here on */
    c->not_modified = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (!c->key || !c->plain || !c->not_modified) {
        cached_clear(c);
        return -ENOMEM;
    }
    /* Strong ETags differ between the identity and the gzip variant (RFC 9110 8.8.3). */
    (void)snprintf(c->etag, sizeof(c->etag), "\"%s-%llu-%016llx\"", s->instance,
                   (unsigned long long)g->seq, (unsigned long long)fnv64(key));
    (void)snprintf(c->etag_gz, sizeof(c->etag_gz), "\"%s-%llu-%016llx-gz\"", s->instance,
                   (unsigned long long)g->seq, (unsigned long long)fnv64(key));
    bool vary_accept = d->kind == DOC_METRICS || d->kind == DOC_OPENMETRICS;
    add_cache_headers(c->plain, c->etag, vary_accept);
    add_cache_headers(c->not_modified, c->etag, vary_accept);
    c->bytes = len;
    char *gz;
    size_t gzlen;
    if (len >= GZIP_MIN && gzip_compress(body, len, &gz, &gzlen) == 0) {
        c->gz = response_from(gz, gzlen, doc_type(d->kind));
        c->not_modified_gz = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (c->gz && c->not_modified_gz) {
            (void)MHD_add_response_header(c->gz, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
            add_cache_headers(c->gz, c->etag_gz, vary_accept);
            add_cache_headers(c->not_modified_gz, c->etag_gz, vary_accept);
            c->bytes += gzlen;
        } else { /* serve identity only */
            if (c->gz)
                MHD_destroy_response(c->gz);
            if (c->not_modified_gz)
                MHD_destroy_response(c->not_modified_gz);
            c->gz = c->not_modified_gz = NULL;
        }
    }
    return 0;
}

/* Keep c in g (g->lock held), evicting the least recently used entries to make room. */
static struct cached *cache_insert(struct generation *g, struct cached *c) {
    while (g->n > 0 && (g->n == CACHE_ENTRIES_MAX || g->bytes + c->bytes > CACHE_BYTES_MAX)) {
        size_t lru = 0;
        for (size_t i = 1; i < g->n; i++)
            if (g->entries[i].used < g->entries[lru].used)
                lru = i;
        g->bytes -= g->entries[lru].bytes;
        cached_clear(&g->entries[lru]);
        g->entries[lru] = g->entries[--g->n];
        memset(&g->entries[g->n], 0, sizeof(g->entries[g->n]));
    }
    struct cached *slot = &g->entries[g->n++];
    *slot = *c;
    g->bytes += c->bytes;
    return slot;
}

static enum MHD_Result serve_doc(struct api_server *s, struct MHD_Connection *conn,
                                 struct generation *g, const char *key, const struct doc *d) {
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    bool gzip = gzip_accepted(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    enum MHD_Result ret;

    pthread_mutex_lock(&g->lock);
    struct cached *c = NULL, once = {0};
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->entries[i].key, key) == 0) {
            c = &g->entries[i];
            break;
        }
    if (!c) {
        int r = cache_fill(s, g, key, d, &once);
        if (r < 0) {
            pthread_mutex_unlock(&g->lock);
            return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "cannot render the document now: %s", strerror(-r));
        }
        /* A body too large to keep is served once and dropped (MHD holds its own reference
         * until the transfer ends). */
        c = once.bytes <= CACHE_ENTRY_MAX ? cache_insert(g, &once) : &once;
    }
    c->used = ++g->tick;
    bool gz = gzip && c->gz;
    if (etag_matches(inm, gz ? c->etag_gz : c->etag))
        ret = MHD_queue_response(conn, MHD_HTTP_NOT_MODIFIED,
                                 gz ? c->not_modified_gz : c->not_modified);
    else
        ret = MHD_queue_response(conn, MHD_HTTP_OK, gz ? c->gz : c->plain);
    if (c == &once)
        cached_clear(&once);
    pthread_mutex_unlock(&g->lock);
    return ret;
}

/* --- streamed documents ------------------------------------------------------------------
 * The VMA documents of a huge process (a 65,530-VMA process is about 40 MB of JSON) are written
 * while the client reads them, STREAM_CHUNK_VMAS VMAs at a time, with chunked transfer encoding,
 * gzip-compressed on the fly when the client accepts it. They are the same bytes as a whole
 * rendering (vma_doc), but have no ETag: they are not kept. */

struct vma_stream {
    struct generation *gen; /* keeps the snapshot alive while streaming */
    struct vma_doc doc;
    bool more;        /* the writer has more to write */
    bool gzip;
    bool finished;    /* gzip trailer written */
    z_stream z;
    char *out;        /* compressed bytes not yet handed to MHD */
    size_t out_len, out_off, out_cap;
    size_t text_off;  /* plain bytes of doc.js already handed to MHD */
};

/* Compress everything the writer produced (finishing the stream at the end). */
static int stream_deflate(struct vma_stream *st) {
    st->z.next_in = (Bytef *)st->doc.js.data;
    st->z.avail_in = (uInt)st->doc.js.len;
    st->out_len = st->out_off = 0;
    for (;;) {
        if (st->out_cap - st->out_len < 16384) {
            size_t cap = st->out_cap ? st->out_cap * 2 : 65536;
            char *p = realloc(st->out, cap);
            if (!p)
                return -ENOMEM;
            st->out = p;
            st->out_cap = cap;
        }
        st->z.next_out = (Bytef *)st->out + st->out_len;
        st->z.avail_out = (uInt)(st->out_cap - st->out_len);
        int r = deflate(&st->z, st->more ? Z_NO_FLUSH : Z_FINISH);
        st->out_len = st->out_cap - st->z.avail_out;
        if (r == Z_STREAM_END) {
            st->finished = true;
            break;
        }
        if (r != Z_OK && r != Z_BUF_ERROR)
            return -EIO;
        if (st->z.avail_in == 0 && (st->more || st->z.avail_out > 0))
            break;
    }
    st->doc.js.len = 0;
    return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
    (void)pos;
    struct vma_stream *st = cls;
    for (;;) {
        const char *src = st->gzip ? st->out : st->doc.js.data;
        size_t avail = st->gzip ? st->out_len - st->out_off : st->doc.js.len - st->text_off;
        if (avail > 0) {
            size_t n = avail < max ? avail : max;
            memcpy(out, src + (st->gzip ? st->out_off : st->text_off), n);
            if (st->gzip)
                st->out_off += n;
            else
                st->text_off += n;
            return (ssize_t)n;
        }
        if (!st->more && (!st->gzip || st->finished))
            return MHD_CONTENT_READER_END_OF_STREAM;
        st->doc.js.len = st->text_off = 0;
        if (st->more) {
            int r = vma_doc_step(&st->doc, STREAM_CHUNK_VMAS);
            if (r < 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
            st->more = r > 0;
        }
        if (st->gzip && stream_deflate(st) < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

static void stream_free(void *cls) {
    struct vma_stream *st = cls;
    if (st->gzip)
        deflateEnd(&st->z);
    vma_doc_done(&st->doc);
    free(st->out);
    generation_unref(st->gen);
    free(st);
}

static enum MHD_Result serve_stream(struct MHD_Connection *conn, struct generation *g,
                                    const struct doc *d) {
    struct vma_stream *st = calloc(1, sizeof(*st));
    if (!st)
        return MHD_NO;
    st->gen = generation_ref(g);
    vma_doc_init(&st->doc, g->snap, d->proc, &d->ro, d->kind == DOC_RESIDENCY);
    st->more = true;
    st->gzip = gzip_accepted(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    if (st->gzip && deflateInit2(&st->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        st->gzip = false;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, st, stream_free);
    if (!r) {
        stream_free(st);
        return MHD_NO;
    }
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (st->gzip)
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    return queue(conn, MHD_HTTP_OK, r);
}

/* --- routing ----------------------------------------------------------------------------- */

/* Check that every parameter is one of the allowed names; handle "pretty". */
static bool params_check(struct MHD_Connection *conn, const struct params *ps,
                         const char *const *allowed, enum MHD_Result *ret) {
    if (ps->too_many) {
        *ret = send_error(conn, MHD_HTTP_BAD_REQUEST, "too many query parameters (at most %u)",
                          QUERY_PARAMS_MAX);
        return false;
    }
    for (size_t i = 0; i < ps->n; i++) {
        const char *name = ps->p[i].name;
        if (strcmp(name, "pretty") == 0)
            continue;
        bool ok = false;
        for (size_t k = 0; allowed && allowed[k]; k++)
            ok = ok || strcmp(name, allowed[k]) == 0;
        if (!ok) {
            char msgbuf[128];
            const char *msg;
            struct proc_query scratch;
            proc_query_init(&scratch);
            /* Reuse the query parser's message for an unknown name: it is escaped already. */
            (void)proc_query_set(&scratch, name, "", msgbuf, sizeof(msgbuf), &msg);
            *ret = send_error(conn, MHD_HTTP_BAD_REQUEST, "%s", msg);
            return false;
        }
    }
    if (ps->bad_pretty) {
        *ret = send_error(conn, MHD_HTTP_BAD_REQUEST, "pretty must be 1, 0, true or false");
        return false;
    }
    return true;
}

static bool parse_pretty(struct params *ps) {
    for (size_t i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].name, "pretty") != 0)
            continue;
        const char *v = ps->p[i].value;
        if (!v || !*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
            ps->pretty = true;
        else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
            ps->pretty = false;
        else
            ps->bad_pretty = true;
    }
    return !ps->bad_pretty;
}

/* The canonical cache key: the path, "pretty", the listener's redaction, then the parameters sorted by name (repeated
 * names keep their request order, which decides: the last value wins) with '%', '&' and '='
 * and control bytes of values percent-encoded, so no two different queries share a key. */
static int make_key(char *buf, size_t len, const char *path, bool redact, struct params *ps) {
    size_t order[QUERY_PARAMS_MAX];
    for (size_t i = 0; i < ps->n; i++)
        order[i] = i;
    for (size_t i = 1; i < ps->n; i++) /* insertion sort by name: stable, at most 32 */
        for (size_t k = i; k > 0 && strcmp(ps->p[order[k - 1]].name, ps->p[order[k]].name) > 0;
             k--) {
            size_t t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    /* "redact" is no query parameter (unknown ones are refused before): no clash. */
    size_t off = (size_t)snprintf(buf, len, "%s?pretty=%d&redact=%d", path, ps->pretty, redact);
    for (size_t i = 0; i < ps->n && off < len; i++) {
        const struct param *p = &ps->p[order[i]];
        if (strcmp(p->name, "pretty") == 0 || strcmp(p->name, "refresh") == 0)
            continue;
        off += (size_t)snprintf(buf + off, len - off, "&%s=", p->name);
        for (const unsigned char *v = (const unsigned char *)(p->value ? p->value : "");
             *v && off < len; v++) {
            if (*v == '%' || *v == '&' || *v == '=' || *v < 0x20)
                off += (size_t)snprintf(buf + off, len - off, "%%%02X", *v);
            else
                buf[off++] = (char)*v;
        }
    }
    if (off >= len)
        return -E2BIG;
    buf[off] = '\0';
    return 0;
}

static bool parse_pid(const char *s, size_t n, int32_t *ret) {
    if (n == 0 || n > 10 || s[0] < '1' || s[0] > '9')
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > INT32_MAX)
        return false;
    *ret = (int32_t)v;
    return true;
}

static bool wants_openmetrics(struct MHD_Connection *conn) {
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    return accept && strstr(accept, "application/openmetrics-text") != NULL;
}

static const char *const process_params[] = {"sort",   "order", "limit",  "offset", "comm",
                                             "user",   "unit",  "cgroup", "kthreads", NULL};

/* ?group_by= of the hiwater documents: false when a value is not a way of grouping. */
static bool fleet_group_by(const struct params *ps, enum vm_group_by *ret) {
    for (size_t i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].name, "group_by") != 0)
            continue;
        int by = -1;
        for (int k = 0; k < _VM_GROUP_MAX; k++)
            if (ps->p[i].value && strcmp(ps->p[i].value, vm_group_by_name(k)) == 0)
                by = k;
        if (by < 0)
            return false;
        *ret = (enum vm_group_by)by;
    }
    return true;
}

/* /api/v1/fleet/...: answered from the last merged view, never from the peers themselves. */
static enum MHD_Result route_fleet(const struct listener *l, struct MHD_Connection *conn,
                                   const char *url, struct request *req, struct params *ps) {
    struct api_server *s = l->server;
    static const char *const fleet_process_params[] = {
        "sort", "order", "limit", "offset", "comm", "user", "unit", "cgroup", "kthreads", "node",
        NULL};
    static const char *const hiwater_params[] = {"group_by", NULL};
    enum MHD_Result ret = MHD_NO;
    char key[3 * URL_MAX + 256];
    struct doc d = {.ro = {.redact_addresses = l->redact, .pretty = ps->pretty}};
    const char *const *allowed = NULL;
    const char *p = url + strlen("/api/v1/fleet/");

    if (strcmp(p, "nodes") == 0) {
        d.kind = DOC_FLEET_NODES;
    } else if (strcmp(p, "processes") == 0) {
        d.kind = DOC_FLEET_PROCESSES;
        allowed = fleet_process_params;
    } else if (strcmp(p, "hiwater") == 0) {
        d.kind = DOC_FLEET_HIWATER;
        d.group_by = VM_GROUP_COMM;
        allowed = hiwater_params;
        if (!fleet_group_by(ps, &d.group_by))
            return send_error(conn, MHD_HTTP_BAD_REQUEST,
                              "group_by must be comm, unit, cgroup, user or none");
    } else if (strcmp(p, "hugepages") == 0) {
        d.kind = DOC_FLEET_HUGEPAGES;
    } else if (strcmp(p, "targets") == 0) {
        d.kind = DOC_FLEET_TARGETS;
    } else {
        return send_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
    }
    if (!params_check(conn, ps, allowed, &ret))
        return ret;
    if (d.kind == DOC_FLEET_PROCESSES) {
        proc_query_init(&d.query);
        for (size_t i = 0; i < ps->n; i++) {
            char msgbuf[160];
            const char *msg, *v = ps->p[i].value ? ps->p[i].value : "";
            if (strcmp(ps->p[i].name, "pretty") == 0)
                continue;
            if (strcmp(ps->p[i].name, "node") == 0) {
                d.node = *v ? v : NULL;
                continue;
            }
            if (proc_query_set(&d.query, ps->p[i].name, v, msgbuf, sizeof(msgbuf), &msg) < 0)
                return send_error(conn, MHD_HTTP_BAD_REQUEST, "%s", msg);
        }
    }
    req->gen = current_fleet(s);
    if (!req->gen && s->fleet_mode)
        return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no fleet view yet");
    if (!req->gen)
        return send_error(conn, MHD_HTTP_NOT_FOUND,
                          "fleet mode is off: this daemon has no --peers or --peers-file");
    d.fleet = req->gen->fleet;
    if (make_key(key, sizeof(key), url, l->redact, ps) < 0)
        return send_error(conn, MHD_HTTP_URI_TOO_LONG, "request target too long");
    return serve_doc(s, conn, req->gen, key, &d);
}

/* --- ?refresh=1 --------------------------------------------------------------------------- */

static void *refresher_main(void *arg) {
    struct api_server *s = arg;
    pthread_mutex_lock(&s->refresh_lock);
    for (;;) {
        while (!s->refresh_conn && !s->refresh_stop)
            pthread_cond_wait(&s->refresh_cond, &s->refresh_lock);
        if (!s->refresh_conn)
            break; /* stopping, and nothing asked: every suspended connection is resumed */
        struct MHD_Connection *conn = s->refresh_conn;
        struct request *req = s->refresh_req;
        pthread_mutex_unlock(&s->refresh_lock);
        unsigned retry = 1;
        req->refresh_result = s->refresh(s->refresh_userdata, req->refresh_pid, &retry);
        req->refresh_retry = retry;
        req->refresh = REFRESH_DONE;
        pthread_mutex_lock(&s->refresh_lock);
        s->refresh_conn = NULL;
        s->refresh_req = NULL;
        s->refresh_busy = false;
        MHD_resume_connection(conn); /* the request (in the connection's memory) lives on */
    }
    pthread_mutex_unlock(&s->refresh_lock);
    return NULL;
}

/* Hands a refresh of pid to the refresher and suspends the connection (under the lock: the
 * refresher cannot resume it first). -EAGAIN: one is under way; -ENOTSUP: no collector. */
static int refresh_submit(struct api_server *s, struct MHD_Connection *conn,
                          struct request *req, int32_t pid) {
    if (!s->refresher_started)
        return -ENOTSUP;
    int r = 0;
    pthread_mutex_lock(&s->refresh_lock);
    if (s->refresh_busy || s->refresh_stop) {
        r = -EAGAIN;
    } else {
        s->refresh_busy = true;
        req->refresh = REFRESH_PENDING;
        req->refresh_pid = pid;
        MHD_suspend_connection(conn);
        s->refresh_conn = conn;
        s->refresh_req = req;
        pthread_cond_signal(&s->refresh_cond);
    }
    pthread_mutex_unlock(&s->refresh_lock);
    return r;
}

static enum MHD_Result route(const struct listener *l, struct MHD_Connection *conn,
                             const char *url, struct request *req) {
    struct api_server *s = l->server;
    struct params ps = {0};
    enum MHD_Result ret = MHD_NO;
    char key[3 * URL_MAX + 256]; /* values are percent-encoded in keys */

    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &ps);
    parse_pretty(&ps);

    /* The dashboard's files, at exactly their paths: no query, no escapes ("/%00" is not "/"). */
    const struct dashboard_asset *asset = dashboard_find(url);
    if (asset && req->uri_len == strlen(asset->path))
        return dashboard_serve(conn, asset);
    if (strcmp(url, "/healthz") == 0) {
        if (!params_check(conn, &ps, NULL, &ret))
            return ret;
        return send_small(conn, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), ps.pretty);
    }

    if (strncmp(url, "/api/v1/fleet/", strlen("/api/v1/fleet/")) == 0)
        return route_fleet(l, conn, url, req, &ps);

    req->gen = current_generation(s);
    struct generation *g = req->gen;
    if (strcmp(url, "/readyz") == 0) {
        if (!params_check(conn, &ps, NULL, &ret))
            return ret;
        if (!g)
            return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet");
        return send_small(conn, MHD_HTTP_OK,
                          json_pack("{s:s, s:o}", "status", "ready", "snapshot",
                                    render_snapshot_ref(g->snap)),
                          ps.pretty);
    }

    struct doc d = {.ro = {.redact_addresses = l->redact, .pretty = ps.pretty}};
    const char *const *allowed = NULL;
    const char *p = url;
    if (strcmp(p, "/metrics") == 0) {
        d.kind = wants_openmetrics(conn) ? DOC_OPENMETRICS : DOC_METRICS;
        req->fleet_gen = current_fleet(s); /* an aggregator adds its peers' families */
        d.fleet = req->fleet_gen ? req->fleet_gen->fleet : NULL;
    } else if (strcmp(p, "/api/v1/node") == 0) {
        d.kind = DOC_NODE;
    } else if (strcmp(p, "/api/v1/hugepages") == 0) {
        d.kind = DOC_HUGEPAGES;
    } else if (strcmp(p, "/api/v1/hiwater") == 0) {
        static const char *const hiwater_params[] = {"group_by", NULL};
        d.kind = DOC_HIWATER;
        d.group_by = VM_GROUP_COMM;
        allowed = hiwater_params;
        for (size_t i = 0; i < ps.n; i++) {
            if (strcmp(ps.p[i].name, "group_by") != 0)
                continue;
            int by = -1;
            for (int k = 0; k < _VM_GROUP_MAX; k++)
                if (ps.p[i].value && strcmp(ps.p[i].value, vm_group_by_name(k)) == 0)
                    by = k;
            if (by < 0)
                return send_error(conn, MHD_HTTP_BAD_REQUEST,
                                  "group_by must be comm, unit, cgroup, user or none");
            d.group_by = (enum vm_group_by)by;
        }
    } else if (strcmp(p, "/api/v1/exited") == 0) {
        d.kind = DOC_EXITED;
    } else if (strcmp(p, "/api/v1/processes") == 0) {
        d.kind = DOC_PROCESSES;
        allowed = process_params;
    } else if (strncmp(p, "/api/v1/processes/", 18) == 0) {
        const char *pid_s = p + 18, *slash = strchr(pid_s, '/');
        size_t n = slash ? (size_t)(slash - pid_s) : strlen(pid_s);
        int32_t pid;
        if (slash && strcmp(slash, "/vmas") != 0 && strcmp(slash, "/residency") != 0)
            return send_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
        if (!parse_pid(pid_s, n, &pid))
            return send_error(conn, MHD_HTTP_BAD_REQUEST, "pid must be a positive integer");
        d.kind = !slash ? DOC_PROCESS : strcmp(slash, "/vmas") == 0 ? DOC_VMAS : DOC_RESIDENCY;
        static const char *const residency_params[] = {"refresh", NULL};
        allowed = d.kind == DOC_RESIDENCY ? residency_params : NULL;
        if (!params_check(conn, &ps, allowed, &ret))
            return ret;
        bool refresh = false;
        for (size_t i = 0; i < ps.n; i++) {
            if (strcmp(ps.p[i].name, "refresh") != 0)
                continue;
            const char *v = ps.p[i].value ? ps.p[i].value : "";
            if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
                refresh = true;
            else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
                refresh = false;
            else
                return send_error(conn, MHD_HTTP_BAD_REQUEST, "refresh must be 1, 0, true or false");
        }
        if (refresh && req->refresh == REFRESH_NONE) {
            /* The one request that reads /proc: through the scan thread, within the budget.
             * The connection sleeps meanwhile; MHD calls answer() again when it is done. */
            int rr = refresh_submit(s, conn, req, pid);
            if (rr == 0) {
                generation_unref(req->gen);
                req->gen = NULL;
                req->answered = false;
                return MHD_YES;
            }
            if (rr == -EAGAIN)
                return send_too_many(conn, 1);
            return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "refresh failed: %s",
                              strerror(-rr));
        }
        if (refresh) {
            unsigned retry = req->refresh_retry;
            int rr = req->refresh_result;
            req->refresh = REFRESH_NONE;
            if (rr == -EAGAIN)
                return send_too_many(conn, retry);
            if (rr == -ESRCH)
                return send_error(conn, MHD_HTTP_NOT_FOUND, "no process with pid %d", pid);
            if (rr < 0)
                return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "refresh failed: %s",
                                  strerror(-rr));
            generation_unref(req->gen); /* answer from the snapshot the refresh published */
            req->gen = g = current_generation(s);
        }
        if (!g)
            return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet");
        d.proc = vm_snapshot_find(g->snap, pid);
        if (!d.proc)
            return send_error(conn, MHD_HTTP_NOT_FOUND, "no process with pid %d", pid);
    } else {
        return send_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
    }

    if (!params_check(conn, &ps, allowed, &ret))
        return ret;
    if (d.kind == DOC_PROCESSES) {
        proc_query_init(&d.query);
        for (size_t i = 0; i < ps.n; i++) {
            char msgbuf[160];
            const char *msg;
            if (strcmp(ps.p[i].name, "pretty") == 0)
                continue;
            if (proc_query_set(&d.query, ps.p[i].name, ps.p[i].value ? ps.p[i].value : "",
                               msgbuf, sizeof(msgbuf), &msg) < 0)
                return send_error(conn, MHD_HTTP_BAD_REQUEST, "%s", msg);
        }
    }
    if (!g)
        return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet");
    char metrics_key[64];
    if (d.kind == DOC_METRICS || d.kind == DOC_OPENMETRICS) /* a new merge is a new body */
        (void)snprintf(metrics_key, sizeof(metrics_key), "/metrics%s#fleet=%llu",
                       d.kind == DOC_OPENMETRICS ? "#om" : "",
                       (unsigned long long)(d.fleet ? d.fleet->seq : 0));
    if (make_key(key, sizeof(key),
                 d.kind == DOC_METRICS || d.kind == DOC_OPENMETRICS ? metrics_key : url, l->redact,
                 &ps) < 0)
        return send_error(conn, MHD_HTTP_URI_TOO_LONG, "request target too long");
    if ((d.kind == DOC_VMAS || d.kind == DOC_RESIDENCY) && d.proc->vma_n > STREAM_VMAS_MIN)
        return serve_stream(conn, g, &d);
    return serve_doc(s, conn, g, key, &d);
}

/* --- MHD callbacks ----------------------------------------------------------------------- */

struct header_size {
    size_t bytes;
    unsigned hosts; /* Host fields */
    bool bad_name;  /* a field name that is not a token (the gate refuses those first) */
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value) {
    (void)kind;
    struct header_size *h = cls;
    h->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    h->hosts += strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0;
    h->bad_name |= !reqhead_field_name_ok(key, strlen(key));
    return MHD_YES;
}

/* The exposure rules: client certificate, Host allow-list, bearer token. Returns true to go
 * on, false with *ret set after queueing the refusal. */
static bool admitted(const struct listener *l, struct MHD_Connection *conn, const char *url,
                     enum MHD_Result *ret) {
    const struct api_server *s = l->server;
    if (s->client_certs && !tls_client_verified(conn)) {
        *ret = send_error(conn, MHD_HTTP_FORBIDDEN, "a valid client certificate is required");
        return false;
    }
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    switch (guard_check(&s->guard, l->loopback, url, auth, host)) {
    case GUARD_OK:
        return true;
    case GUARD_BAD_HOST:
        *ret = send_error(conn, MHD_HTTP_FORBIDDEN,
                          "Host header not allowed (use an IP address, localhost or a name "
                          "listed in --allowed-hosts)");
        return false;
    case GUARD_NO_TOKEN:
        *ret = send_error(conn, MHD_HTTP_UNAUTHORIZED, "a bearer token is required");
        return false;
    case GUARD_BAD_TOKEN:
        *ret = send_error(conn, MHD_HTTP_UNAUTHORIZED, "the bearer token is not valid");
        return false;
    }
    return true;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls) {
    (void)version, (void)upload_data;
    const struct listener *l = cls;
    struct api_server *s = l->server;
    struct request *req = *con_cls;
    enum MHD_Result refused;

    if (!req) /* the URI logger always runs first; without it there is no memory left */
        return MHD_NO;
    if (req->answered) {
        /* A body arrived although the answer (413) is queued already: drop it. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->checked) {
        /* Second call: the whole request is in; answering now keeps the connection alive. */
        req->answered = true;
        return route(l, conn, url, req);
    }
    __atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);

    /* First call, headers only. The gate's refusal, then the method allow-list come before
     * anything else; a request that is refused here is answered at once. */
    req->answered = true;
    const char *gate = l->gated ? MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                              REQHEAD_GATE_HEADER)
                                : NULL;
    if (gate)
        return send_refusal(conn, gate);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are allowed");
    if (req->bad_target)
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "%s", req->bad_target);
    if (req->uri_len > URL_MAX)
        return send_error(conn, MHD_HTTP_URI_TOO_LONG, "request target longer than %u bytes",
                          URL_MAX);
    struct header_size hs = {0};
    (void)MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hs);
    /* One Host, well formed (RFC 9112 3.2: 400 otherwise). */
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (hs.bad_name)
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "%s",
                          reqhead_error_message(REQHEAD_FIELD_NAME));
    if (hs.hosts > 1 || (host && !guard_host_valid(host)))
        return send_error(conn, MHD_HTTP_BAD_REQUEST, "one well-formed Host header, please");
    if (hs.bytes > HEADERS_MAX)
        return send_error(conn, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                          "request headers larger than %u bytes", HEADERS_MAX);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te || (cl && strcmp(cl, "0") != 0))
        return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "requests take no body");
    if (!admitted(l, conn, url, &refused))
        return refused;
    req->answered = false;
    req->checked = true;
    return MHD_YES;
}

static void request_release(struct request *req) {
    generation_unref(req->gen);
    generation_unref(req->fleet_gen);
    req->gen = req->fleet_gen = NULL;
}

/* Why a raw request target is refused, or NULL: bytes RFC 3986 does not allow (the gate
 * refuses those first on plain HTTP), a NUL ("%00": the decoded string ends there,
 * "/healthz%00.html" would be "/healthz") or an encoded '/' in the path ("/api%2Fv1%2Fnode"
 * would route as "/api/v1/node"). */
static const char *target_bad(const char *uri) {
    size_t len = strlen(uri);
    enum reqhead_error e;
    if (!reqhead_target_ok(uri, len, &e))
        return reqhead_error_message(e);
    const char *q = memchr(uri, '?', len);
    size_t path_len = q ? (size_t)(q - uri) : len;
    for (const char *p = uri; (p = strchr(p, '%')); p++) {
        if ((p[1] == '0' && p[2] == '0') ||
            ((size_t)(p - uri) < path_len && p[1] == '2' && (p[2] == 'f' || p[2] == 'F')))
            return "the request target has %00 or an encoded '/' in its path";
    }
    return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
    (void)cls, (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct request)); /* NULL: the request is refused */
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        request_release(*socket_context);
        free(*socket_context);
        *socket_context = NULL;
    }
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct request *req = ci ? ci->socket_context : NULL;
    if (!req)
        return NULL;
    request_release(req); /* a request the completion callback never saw */
    *req = (struct request){.uri_len = strlen(uri), .bad_target = target_bad(uri)};
    return req;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)conn, (void)toe;
    if (*con_cls)
        request_release(*con_cls); /* the memory stays the connection's */
    *con_cls = NULL;
}

/* --- lifecycle --------------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return r;
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t len) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        (void)snprintf(out, len, "[%s]:%u", host, port);
    } else {
        const struct sockaddr_in *a = (const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        (void)snprintf(out, len, "%s:%u", host, port);
    }
}

int api_listen(const char *spec, char *err, size_t errlen) {
    char host[128];
    const char *colon = strrchr(spec, ':');
    if (!colon)
        return fail(err, errlen, -EINVAL, "%s: not ADDR:PORT", spec);
    size_t hlen = (size_t)(colon - spec);
    const char *h = spec;
    if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']')
        h++, hlen -= 2;
    if (hlen >= sizeof(host))
        return fail(err, errlen, -EINVAL, "%s: address too long", spec);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
        return fail(err, errlen, -EINVAL, "%s: not a numeric address", spec);
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        freeaddrinfo(ai);
        return fail(err, errlen, -e, "%s: socket: %s", spec, strerror(e));
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0) {
        int e = errno;
        freeaddrinfo(ai);
        close(fd);
        return fail(err, errlen, -e, "%s: %s", spec, strerror(e));
    }
    freeaddrinfo(ai);
    return fd;
}

static int start_daemon(struct api_server *s, const struct api_server_options *o, int fd,
                        char *err, size_t errlen) {
    unsigned threads = o->threads;
    if (threads == 0) {
        /* At least 4: a /residency?refresh=1 holds its thread while the collector walks,
         * and the connections of that thread wait with it. */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 4 ? 4 : n > 8 ? 8 : (unsigned)n;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct listener *l = &s->listeners[s->ndaemons];
    *l = (struct listener){.server = s};
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        format_addr(&ss, s->addrs[s->ndaemons], sizeof(s->addrs[0]));
        l->loopback = guard_is_loopback((struct sockaddr *)&ss, sl);
    }
    /* Anyone who reaches a non-loopback address reads every process's layout: not without a
     * token, unless asked for in so many words. */
    if (!l->loopback && !o->auth_token && !o->allow_unauthenticated) {
        close(fd);
        return fail(err, errlen, -EPERM,
                    "%s is not a loopback address: serving every process's memory layout there "
                    "needs --auth-token-file (or --allow-unauthenticated)",
                    s->addrs[s->ndaemons]);
    }
    l->redact = o->redact < 0 ? !l->loopback : o->redact > 0;
    l->gated = !(o->tls_cert && o->tls_key);

    /* MHD_USE_ITC: lets MHD_quiesce_daemon() hand the listening socket back at stop, and
     * wakes a worker for a connection the gate adds. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_OptionItem extra[6], *t = extra; /* listen socket, 4 TLS, end */
    if (l->gated) { /* the gate accepts, checks each head, and hands the rest over */
        flags |= MHD_USE_NO_LISTEN_SOCKET;
        s->fds[s->ndaemons] = fd;
    } else {
        *t++ = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
        flags |= MHD_USE_TLS;
        *t++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert};
        *t++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key};
        *t++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES};
        if (o->tls_client_ca) /* asks for a certificate; answer() verifies it */
            *t++ = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0,
                                           (void *)o->tls_client_ca};
    }
    *t = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, answer, l,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        /* Room for a slowloris from many addresses (each holds at most 64) while a probe
         * still gets in: 2048 connections (the daemon raises RLIMIT_NOFILE for them). Each
         * holds a 32 KiB memory pool while open, resident once used: 64 MiB at the worst. */
        MHD_OPTION_CONNECTION_LIMIT, o->connection_limit ? o->connection_limit : 2048u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_limit ? o->per_ip_limit : 64u,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 30u,
        /* Request line (8 KiB) and headers (16 KiB) must fit. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32u << 10),
        MHD_OPTION_STRICT_FOR_CLIENT, 1,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_ARRAY, extra,
        MHD_OPTION_END);
    if (!d) {
        close(fd);
        return fail(err, errlen, -EIO, "%s: libmicrohttpd could not start%s",
                    s->addrs[s->ndaemons],
                    (flags & MHD_USE_TLS) ? " (check the TLS certificate and key)" : "");
    }
    s->daemons[s->ndaemons++] = d;
    return 0;
}

static char *dup_or_null(const char *str, bool *oom) {
    char *d = str ? strdup(str) : NULL;
    if (str && !d)
        *oom = true;
    return d;
}

int api_server_start(const struct api_server_options *o, struct api_server **ret, char *err,
                     size_t errlen) {
    struct api_server *s = calloc(1, sizeof(*s));
    int r = 0;
    if (!s)
        return fail(err, errlen, -ENOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->refresh_lock, NULL);
    pthread_cond_init(&s->refresh_cond, NULL);
    bool oom = false;
    s->token = dup_or_null(o->auth_token, &oom);
    s->guard.token = s->token;
    s->guard.token_len = s->token ? strlen(s->token) : 0;
    if (o->nallowed_hosts > 0) {
        s->hosts = calloc(o->nallowed_hosts, sizeof(*s->hosts));
        oom |= !s->hosts;
        for (size_t i = 0; s->hosts && i < o->nallowed_hosts; i++)
            s->hosts[s->guard.nhosts++] = dup_or_null(o->allowed_hosts[i], &oom);
        s->guard.hosts = (const char *const *)s->hosts;
    }
    s->client_certs = o->tls_cert && o->tls_key && o->tls_client_ca;
    s->refresh = o->refresh;
    s->refresh_userdata = o->refresh_userdata;
    if (s->refresh)
        s->refresher_started = pthread_create(&s->refresher, NULL, refresher_main, s) == 0;
    s->fleet_mode = o->fleet;
    s->top_k = o->metrics_top_k;
    s->version = strdup(o->version ? o->version : "unknown");
    s->node = (struct node_opts){o->interval_ms, o->deep_walk_budget_bp, s->version};
    uint64_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd = now_ms() ^ (uint64_t)getpid() << 32;
    (void)snprintf(s->instance, sizeof(s->instance), "%016llx", (unsigned long long)rnd);
    if (!s->version || oom) {
        api_server_stop(s);
        return fail(err, errlen, -ENOMEM, "out of memory");
    }
    size_t n = o->nfds ? o->nfds : o->nlisten;
    if (n == 0 || n > LISTEN_MAX) {
        api_server_stop(s);
        return fail(err, errlen, -EINVAL, "between 1 and %u listen addresses", LISTEN_MAX);
    }
    for (size_t i = 0; i < n && r == 0; i++) {
        int fd = o->nfds ? o->listen_fds[i] : api_listen(o->listen[i], err, errlen);
        r = fd < 0 ? fd : start_daemon(s, o, fd, err, errlen);
    }
    if (r == 0 && s->listeners[0].gated) {
        unsigned limit = o->connection_limit ? o->connection_limit : 2048u;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        struct gate_options go = {
            .fds = s->fds, .daemons = s->daemons, .n = s->ndaemons,
            /* The gate moves every byte twice: a thread per core (at most 4) keeps up. */
            .threads = cpus < 1 ? 1u : cpus > 4 ? 4u : (unsigned)cpus,
            /* Half-open connections wait in the gate, not in libmicrohttpd: room for both. */
            .connections_max = 2 * limit,
            .head_timeout_s = o->timeout_s ? o->timeout_s : 30u,
            .line_max = REQUEST_LINE_MAX,
            .head_max = HEAD_MAX,
            .params_max = PARAMS_MAX,
        };
        r = gate_start(&go, &s->gate);
        if (r < 0)
            (void)fail(err, errlen, r, "the request gate could not start: %s", strerror(-r));
    }
    if (r < 0) {
        api_server_stop(s);
        return r;
    }
    *ret = s;
    return 0;
}

size_t api_server_addresses(const struct api_server *s, char (*out)[64], size_t max) {
    size_t n = s->ndaemons < max ? s->ndaemons : max;
    for (size_t i = 0; i < n; i++)
        memcpy(out[i], s->addrs[i], sizeof(out[i]));
    return n;
}

void api_server_publish(struct api_server *s, struct vm_snapshot *snap) {
    struct generation *g = generation_new(snap);
    if (!g)
        return; /* out of memory: keep serving the previous snapshot */
    pthread_mutex_lock(&s->lock);
    struct generation *old = s->current;
    s->current = g;
    pthread_mutex_unlock(&s->lock);
    generation_unref(old);
}

void api_server_publish_fleet(struct api_server *s, struct fleet_view *view) {
    struct generation *g = generation_new_fleet(view);
    if (!g)
        return; /* out of memory: keep serving the previous merge */
    pthread_mutex_lock(&s->lock);
    struct generation *old = s->fleet;
    s->fleet = g;
    pthread_mutex_unlock(&s->lock);
    generation_unref(old);
}

uint64_t api_server_requests(const struct api_server *s) {
    return __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
}

struct api_server *api_server_stop(struct api_server *s) {
    if (!s)
        return NULL;
    if (s->refresher_started) { /* the refresh under way ends (the collector is told to stop
                                 * first) and its connection is resumed */
        pthread_mutex_lock(&s->refresh_lock);
        s->refresh_stop = true;
        pthread_cond_signal(&s->refresh_cond);
        pthread_mutex_unlock(&s->refresh_lock);
        pthread_join(s->refresher, NULL);
    }
    gate_stop(s->gate); /* no new connection reaches the daemons after this */
    for (size_t i = 0; i < s->ndaemons; i++) {
        /* Take the listening socket back and close it ourselves: MHD_stop_daemon() would
         * shutdown() it, and a socket systemd handed over must stay listening for the next
         * activation (systemd fails the socket unit on that POLLHUP). */
        MHD_socket fd = s->listeners[i].gated ? s->fds[i] : MHD_quiesce_daemon(s->daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        MHD_stop_daemon(s->daemons[i]);
    }
    generation_unref(s->current);
    generation_unref(s->fleet);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->refresh_lock);
    pthread_cond_destroy(&s->refresh_cond);
    free(s->version);
    free(s->token);
    for (size_t i = 0; i < s->guard.nhosts; i++)
        free(s->hosts[i]);
    free(s->hosts);
    free(s);
    return NULL;
}
