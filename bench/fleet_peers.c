/* fleet_peers.c: many fake vmatlasd peers in one process, for bench/fleet.sh.
 *
 * Listens on N loopback addresses (FIRST, FIRST+1, ... skipping .0 and .255 as last octets) on
 * one port, and answers GET PATH with documents captured from a real vmatlasd, one epoll loop,
 * HTTP/1.1 keep-alive, strong ETags with If-None-Match -> 304, and a gzip variant (built once
 * at start) when the request accepts gzip, as vmatlasd does. Per-peer variation, so that a
 * merge is not trivial: peer i serves variant (i + epoch) % V of a document given V files, and
 * its own /api/v1/node (hostname "peer-<i>", boot_id ending in i). With -c S the epoch moves
 * every S seconds, so every document changes (new ETag, new numbers) as a real peer's do on
 * every snapshot; with -c 0 the ETags stay and a conditional GET is answered 304.
 *
 * Usage: fleet_peers -a FIRST_ADDR -n N -p PORT [-c SECONDS] [-o URLS_FILE] PATH=FILE[,FILE...]...
 * Writes the peers' URLs (http://ADDR:PORT, one a line) to URLS_FILE, then prints
 * "READY peers=N" on stdout once every address listens; stops on SIGTERM/SIGINT.
 * Needs RLIMIT_NOFILE > N + connections (raised to the hard limit here).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_DOCS 16
#define MAX_VARIANTS 32
#define REQ_MAX 8192

struct body {
    char *plain, *gz;
    size_t plain_len, gz_len;
};

struct doc {
    const char *path;
    bool per_peer_node; /* /api/v1/node: one body per peer */
    size_t nvariants;
    struct body v[MAX_VARIANTS];
    struct body *peer; /* per_peer_node: [npeers] */
};

struct conn {
    int fd;
    uint32_t peer;
    char req[REQ_MAX];
    size_t req_len;
    char head[512];
    size_t head_len, head_off;
    const char *body;
    size_t body_len, body_off;
    bool close_after;
};

static struct doc docs[MAX_DOCS];
static size_t ndocs, npeers;
static unsigned change_s;
static volatile sig_atomic_t stopping;
static int *listen_fds; /* [npeers] */

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static void die(const char *what) {
    fprintf(stderr, "fleet_peers: %s: %s\n", what, strerror(errno));
    exit(1);
}

static char *read_file(const char *path, size_t *ret_len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += n;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (!buf)
        die("malloc");
    fclose(f);
    *ret_len = len;
    return buf;
}

static void gzip_body(struct body *b) {
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2");
    size_t cap = deflateBound(&z, b->plain_len) + 32;
    b->gz = malloc(cap);
    if (!b->gz)
        die("malloc");
    z.next_in = (Bytef *)b->plain;
    z.avail_in = (uInt)b->plain_len;
    z.next_out = (Bytef *)b->gz;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        die("deflate");
    b->gz_len = z.total_out;
    deflateEnd(&z);
}

/* Peer i's node document: the captured one with its own hostname and boot_id. */
static void node_for_peer(const struct body *src, size_t i, struct body *out) {
    char host[32];
    int hl = snprintf(host, sizeof(host), "peer-%04zu", i);
    const char *h = strstr(src->plain, "\"hostname\":\"");
    const char *he = h ? strchr(h + 12, '"') : NULL;
    if (!h || !he) {
        fprintf(stderr, "fleet_peers: the node document has no hostname\n");
        exit(1);
    }
    size_t pre = (size_t)(h + 12 - src->plain), old = (size_t)(he - (h + 12));
    out->plain_len = src->plain_len - old + (size_t)hl;
    out->plain = malloc(out->plain_len + 1);
    if (!out->plain)
        die("malloc");
    memcpy(out->plain, src->plain, pre);
    memcpy(out->plain + pre, host, (size_t)hl);
    memcpy(out->plain + pre + hl, he, src->plain_len - (size_t)(he - src->plain));
    out->plain[out->plain_len] = 0;
    char *b = strstr(out->plain, "\"boot_id\":\"");
    if (b && strlen(b) > 11 + 36) { /* a UUID: its last 8 hex digits become the peer's index */
        char tail[17];
        (void)snprintf(tail, sizeof(tail), "%08x", (unsigned)i);
        memcpy(b + 11 + 28, tail, 8);
    }
    gzip_body(out);
}

static const struct doc *find_doc(const char *path, size_t len) {
    for (size_t i = 0; i < ndocs; i++)
        if (strlen(docs[i].path) == len && memcmp(docs[i].path, path, len) == 0)
            return &docs[i];
    return NULL;
}

/* A header's value in the request head (case-insensitive name), or NULL. */
static const char *header(const char *req, const char *name, size_t *ret_len) {
    size_t n = strlen(name);
    for (const char *l = strstr(req, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':') {
            const char *v = l + 3 + n;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            *ret_len = (size_t)(e - v);
            return v;
        }
    }
    return NULL;
}

static void respond(struct conn *c, char *req) {
    char *sp1 = strchr(req, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    size_t n;
    const char *conn_h = header(req, "Connection", &n);
    c->close_after = conn_h && n == 5 && strncasecmp(conn_h, "close", 5) == 0;
    c->body = NULL;
    c->body_len = c->body_off = c->head_off = 0;
    const struct doc *d = sp1 && sp2 && strncmp(req, "GET ", 4) == 0
                              ? find_doc(sp1 + 1, (size_t)(sp2 - sp1 - 1))
                              : NULL;
    if (!d) {
        c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
                                       "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    uint64_t epoch = change_s ? (uint64_t)time(NULL) / change_s : 0;
    size_t var = (c->peer + epoch) % d->nvariants;
    const struct body *b = d->per_peer_node ? &d->peer[c->peer] : &d->v[var];
    const char *ae = header(req, "Accept-Encoding", &n);
    bool gz = ae && memmem(ae, n, "gzip", 4);
    char etag[64];
    (void)snprintf(etag, sizeof(etag), "\"p%u-v%zu-e%llu%s\"", c->peer, var,
                   (unsigned long long)epoch, gz ? "-gz" : "");
    const char *inm = header(req, "If-None-Match", &n);
    if (inm && n == strlen(etag) && memcmp(inm, etag, n) == 0) {
        c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
                                       "HTTP/1.1 304 Not Modified\r\nETag: %s\r\n"
                                       "Vary: Accept-Encoding\r\n\r\n",
                                       etag);
        return;
    }
    c->body = gz ? b->gz : b->plain;
    c->body_len = gz ? b->gz_len : b->plain_len;
    c->head_len = (size_t)snprintf(
        c->head, sizeof(c->head),
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
        "ETag: %s\r\nVary: Accept-Encoding\r\n%s\r\n",
        c->body_len, etag, gz ? "Content-Encoding: gzip\r\n" : "");
}

/* Write what is pending; true when all of it went (or the connection failed: c->fd < 0). */
static bool flush(struct conn *c) {
    while (c->head_off < c->head_len || c->body_off < c->body_len) {
        struct iovec iov[2] = {{c->head + c->head_off, c->head_len - c->head_off},
                               {(char *)c->body + c->body_off, c->body_len - c->body_off}};
        ssize_t w = writev(c->fd, iov, 2);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return false;
        if (w < 0) {
            close(c->fd);
            c->fd = -1;
            return true;
        }
        size_t h = c->head_len - c->head_off;
        if ((size_t)w <= h)
            c->head_off += (size_t)w;
        else {
            c->head_off = c->head_len;
            c->body_off += (size_t)w - h;
        }
    }
    return true;
}

static void drop(struct conn *c) {
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

/* Read and answer requests until the socket would block. False when c is gone. */
static bool serve(int ep, struct conn *c) {
    for (;;) {
        if (c->head_off < c->head_len || c->body_off < c->body_len) {
            if (!flush(c)) {
                struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
                (void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                return true;
            }
            if (c->fd < 0 || c->close_after) {
                drop(c);
                return false;
            }
            c->head_len = c->head_off = c->body_len = c->body_off = 0;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            (void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        char *end = c->req_len ? memmem(c->req, c->req_len, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t used = (size_t)(end + 4 - c->req);
            end[2] = 0; /* the head ends in one "\r\n", NUL-terminated */
            respond(c, c->req);
            memmove(c->req, c->req + used, c->req_len - used);
            c->req_len -= used;
            continue;
        }
        if (c->req_len >= sizeof(c->req) - 1) {
            drop(c);
            return false;
        }
        ssize_t r = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return true;
        if (r <= 0) {
            drop(c);
            return false;
        }
        c->req_len += (size_t)r;
    }
}

int main(int argc, char **argv) {
    const char *first = NULL, *urls_path = NULL;
    unsigned port = 0;
    int opt;
    while ((opt = getopt(argc, argv, "a:n:p:c:o:")) != -1) {
        if (opt == 'a')
            first = optarg;
        else if (opt == 'n')
            npeers = strtoul(optarg, NULL, 10);
        else if (opt == 'p')
            port = (unsigned)strtoul(optarg, NULL, 10);
        else if (opt == 'o')
            urls_path = optarg;
        else if (opt == 'c')
            change_s = (unsigned)strtoul(optarg, NULL, 10);
        else
            return 2;
    }
    struct in_addr a0;
    if (!first || inet_pton(AF_INET, first, &a0) != 1 || npeers == 0 || port == 0 || port > 65535 ||
        optind == argc) {
        fprintf(stderr, "usage: fleet_peers -a FIRST_ADDR -n N -p PORT [-c SECONDS] [-o URLS_FILE] "
                        "PATH=FILE[,FILE...]...\n");
        return 2;
    }
    for (int i = optind; i < argc && ndocs < MAX_DOCS; i++) {
        char *eq = strrchr(argv[i], '='); /* paths hold "=", file names do not */
        if (!eq)
            return 2;
        *eq = 0;
        struct doc *d = &docs[ndocs++];
        d->path = argv[i];
        d->per_peer_node = strcmp(d->path, "/api/v1/node") == 0;
        for (char *f = strtok(eq + 1, ","); f && d->nvariants < MAX_VARIANTS;
             f = strtok(NULL, ",")) {
            struct body *b = &d->v[d->nvariants++];
            b->plain = read_file(f, &b->plain_len);
            b->plain = realloc(b->plain, b->plain_len + 1);
            b->plain[b->plain_len] = 0;
            gzip_body(b);
        }
        if (d->per_peer_node) {
            d->peer = calloc(npeers, sizeof(*d->peer));
            if (!d->peer)
                die("calloc");
            for (size_t p = 0; p < npeers; p++)
                node_for_peer(&d->v[0], p, &d->peer[p]);
        }
    }

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    /* Listener i: data.u64 = i | 1 << 63 (connections carry their struct conn pointer). */
    uint32_t a = ntohl(a0.s_addr);
    listen_fds = calloc(npeers, sizeof(*listen_fds));
    if (!listen_fds)
        die("calloc");
    FILE *urls = urls_path ? fopen(urls_path, "w") : NULL;
    if (urls_path && !urls)
        die(urls_path);
    for (size_t i = 0; i < npeers; i++, a++) {
        while ((a & 0xff) == 0 || (a & 0xff) == 0xff)
            a++;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket");
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = {
            .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(a)};
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
            char what[64];
            (void)snprintf(what, sizeof(what), "bind/listen %s:%u", inet_ntoa(sa.sin_addr), port);
            die(what);
        }
        listen_fds[i] = fd;
        if (urls)
            fprintf(urls, "http://%s:%u\n", inet_ntoa(sa.sin_addr), port);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i | 1ull << 63};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }
    if (urls && fclose(urls) != 0)
        die(urls_path);
    printf("READY peers=%zu\n", npeers);
    fflush(stdout);

    struct epoll_event evs[256];
    while (!stopping) {
        int n = epoll_wait(ep, evs, 256, 500);
        for (int k = 0; k < n; k++) {
            if (evs[k].data.u64 >> 63) {
                uint32_t peer = (uint32_t)(evs[k].data.u64 & 0xffffffffu);
                int lfd = listen_fds[peer];
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    int one = 1;
                    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct conn *c = calloc(1, sizeof(*c));
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    c->peer = peer;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        drop(c);
                        continue;
                    }
                    (void)serve(ep, c);
                }
            } else {
                (void)serve(ep, evs[k].data.ptr);
            }
        }
    }
    return 0;
}
