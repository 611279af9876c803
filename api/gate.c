/* gate.c: the plain-HTTP front end (see gate.h). Per thread one epoll set, edge-triggered:
 * each connection remembers which of its two sockets may be ready, and progress() moves bytes
 * until neither side can move. */
#include "gate.h"

#include "reqhead.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IN_CHUNK 4096u          /* the first buffer of a connection's request bytes */
#define PIPE_SIZE (1u << 20)    /* asked for a connection's pipe (default: 64 KiB) */
#define ANSWER_BUF (512u << 10) /* answers move through this: more than the socketpair holds */

enum ep_kind { EP_LISTEN, EP_STOP, EP_CLIENT, EP_BACKEND };

struct conn;
struct endpoint {
    enum ep_kind kind;
    size_t index;      /* EP_LISTEN: which listener */
    struct conn *conn; /* EP_CLIENT, EP_BACKEND */
};

struct conn {
    struct endpoint client_ep, backend_ep;
    int cfd; /* the client's socket */
    int bfd; /* our end of the socketpair to libmicrohttpd; -1: none yet */
    size_t listener;
    struct sockaddr_storage addr; /* the client's, handed to libmicrohttpd (per-IP limits) */
    socklen_t addrlen;
    char *in; /* bytes from the client not passed on yet */
    size_t in_len, in_cap;
    size_t pass;                   /* in[0..pass): a checked head, being written to bfd */
    int pipe_r, pipe_w;            /* answer bytes the client did not take at once */
    size_t pipe_cap, piped;        /* its size, and the bytes in it */
    uint64_t deadline_ms;          /* 0, or when the head being read must be whole */
    bool c_in, c_out, b_in, b_out; /* the socket may be ready (edge-triggered) */
    bool client_eof, backend_eof, backend_shut, refused, dead;
    struct conn *prev, *next;
};

/* One thread of the gate: its own epoll set and connections. Every worker watches every
 * listening socket (EPOLLEXCLUSIVE: one of them wakes per connection) and keeps what it
 * accepted. */
struct worker {
    const struct gate_options *o; /* the gate's */
    const int *fds;
    struct MHD_Daemon *const *daemons;
    unsigned connections_max; /* this worker's share */
    struct endpoint *listen_eps;
    bool *paused; /* a listener left after EMFILE, watched again at the next sweep */
    struct endpoint stop_ep;
    int ep;
    pthread_t thread;
    bool started;
    struct conn *conns;     /* open connections */
    struct conn *graveyard; /* closed during this round of events; freed after it */
    unsigned nconns;
    uint64_t next_sweep_ms;
    char *buf; /* ANSWER_BUF bytes */
};

struct gate {
    struct gate_options o;
    int *fds;
    struct MHD_Daemon **daemons;
    int stopfd; /* readable: every worker returns */
    size_t nworkers;
    struct worker *workers[];
};

static uint64_t now_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- connections ------------------------------------------------------------------------- */

static void conn_close(struct worker *g, struct conn *c) {
    if (c->dead)
        return;
    /* Take what the client still sends, so that close() does not turn into a reset that
     * could destroy the answer in flight (the lingering close of every HTTP server). */
    if (!c->client_eof) {
        (void)shutdown(c->cfd, SHUT_WR);
        for (int i = 0; i < 4 && recv(c->cfd, g->buf, ANSWER_BUF, MSG_DONTWAIT) > 0; i++)
            ;
    }
    close(c->cfd);
    if (c->bfd >= 0) {
        close(c->bfd);
        close(c->pipe_r);
        close(c->pipe_w);
    }
    c->dead = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = g->graveyard;
    g->graveyard = c;
    g->nconns--;
}

static void bury(struct worker *g) {
    while (g->graveyard) {
        struct conn *c = g->graveyard;
        g->graveyard = c->next;
        free(c->in);
        free(c);
    }
}

static int watch_listener(struct worker *g, size_t i) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &g->listen_eps[i]};
    return epoll_ctl(g->ep, EPOLL_CTL_ADD, g->fds[i], &ev) < 0 ? -errno : 0;
}

static int watch(struct worker *g, int fd, struct endpoint *e) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = e};
    return epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The socketpair to libmicrohttpd (and the pipe of its answers), once the first head has
 * passed. */
static int backend_open(struct worker *g, struct conn *c) {
    int sv[2], p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
        return -errno;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    /* Room for a whole answer in the socketpair: libmicrohttpd then writes it in one go
     * instead of waking up for every 100 KiB the gate takes (clamped to net.core.wmem_max,
     * doubled by the kernel). */
    int big = 1 << 20;
    (void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    /* libmicrohttpd owns sv[1] from here, and closes it itself when it refuses it (its
     * connection limits). */
    if (MHD_add_connection(g->daemons[c->listener], sv[1], (const struct sockaddr *)&c->addr,
                           c->addrlen) != MHD_YES) {
        close(sv[0]);
        close(p[0]);
        close(p[1]);
        return -EAGAIN;
    }
    c->bfd = sv[0];
    c->pipe_r = p[0];
    c->pipe_w = p[1];
    /* Room for a whole answer: refused past the user's pipe-user-pages-soft, and the default
     * 64 KiB then bounds what is read from libmicrohttpd at a time. */
    (void)fcntl(c->pipe_w, F_SETPIPE_SZ, (int)PIPE_SIZE);
    int cap = fcntl(c->pipe_w, F_GETPIPE_SZ);
    c->pipe_cap = cap > 0 ? (size_t)cap : 4096u;
    c->backend_ep = (struct endpoint){.kind = EP_BACKEND, .conn = c};
    c->b_in = c->b_out = true;
    return watch(g, c->bfd, &c->backend_ep);
}

static int in_reserve(struct conn *c, size_t want, size_t max) {
    if (want <= c->in_cap)
        return 0;
    size_t cap = c->in_cap ? c->in_cap : IN_CHUNK;
    while (cap < want)
        cap *= 2;
    if (cap > max)
        cap = max;
    char *p = realloc(c->in, cap);
    if (!p)
        return -ENOMEM;
    c->in = p;
    c->in_cap = cap;
    return 0;
}

/* In place of a head that failed the check: a request only the handler's refusal answers. */
static int refuse(struct worker *g, struct conn *c, enum reqhead_error e) {
    char req[128];
    int n = snprintf(req, sizeof(req),
                     "GET / HTTP/1.1\r\nHost: localhost\r\n" REQHEAD_GATE_HEADER ": %d\r\n\r\n",
                     (int)e);
    if (in_reserve(c, (size_t)n, g->o->head_max) < 0)
        return -ENOMEM;
    memcpy(c->in, req, (size_t)n);
    c->in_len = c->pass = (size_t)n;
    c->refused = true;
    return 0;
}

/* Reads what the client sent (up to a head's worth). 1: moved, 0: nothing to do, <0: close. */
static int client_read(struct worker *g, struct conn *c) {
    size_t max = g->o->head_max + 1; /* one byte past: "too large" is then certain */
    if (!c->c_in || c->client_eof || c->refused || c->in_len >= max)
        return 0;
    if (in_reserve(c, c->in_len + IN_CHUNK, max) < 0)
        return -ENOMEM;
    ssize_t r = recv(c->cfd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (r > 0) {
        c->in_len += (size_t)r;
        return 1;
    }
    if (r == 0) {
        c->client_eof = true;
        return 1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        c->c_in = errno == EINTR;
        return 0;
    }
    return -errno;
}

/* Checks the head at the front of the buffer once the one before it is passed on. */
static int check_head(struct worker *g, struct conn *c) {
    if (c->pass > 0 || c->refused || c->in_len == 0)
        return 0;
    struct reqhead h;
    struct reqhead_limits lim = {g->o->line_max, g->o->head_max, g->o->params_max};
    switch (reqhead_check(c->in, c->in_len, &lim, &h)) {
    case REQHEAD_COMPLETE:
        c->pass = h.len;
        return 1;
    case REQHEAD_INVALID:
        return refuse(g, c, h.error) < 0 ? -ENOMEM : 1;
    case REQHEAD_INCOMPLETE:
        if (c->client_eof)
            return refuse(g, c, REQHEAD_TRUNCATED) < 0 ? -ENOMEM : 1;
        return 0;
    }
    return 0;
}

static int backend_write(struct worker *g, struct conn *c) {
    if (c->pass == 0)
        return 0;
    if (c->bfd < 0) {
        int r = backend_open(g, c);
        if (r < 0)
            return r;
    }
    if (!c->b_out)
        return 0;
    ssize_t w = send(c->bfd, c->in, c->pass, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            c->b_out = errno == EINTR;
            return 0;
        }
        return -errno;
    }
    memmove(c->in, c->in + w, c->in_len - (size_t)w);
    c->in_len -= (size_t)w;
    c->pass -= (size_t)w;
    return 1;
}

/* Moves answer bytes from libmicrohttpd to the client: read in one piece and written with one
 * send() (a large TCP write: splice() would hand TCP a page at a time and cost more). What
 * the client does not take at once waits in the pipe (kernel memory; never more than the pipe
 * holds is read), and nothing more is read from libmicrohttpd until it is gone. */
static int backend_read(struct worker *g, struct conn *c) {
    if (c->piped > 0) {
        if (!c->c_out)
            return 0;
        ssize_t w =
            splice(c->pipe_r, NULL, c->cfd, NULL, c->piped, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (w < 0) {
            if (errno != EAGAIN && errno != EINTR)
                return -errno;
            c->c_out = errno == EINTR; /* the client's socket is full */
            return 0;
        }
        c->piped -= (size_t)w;
        return w > 0;
    }
    if (c->bfd < 0 || !c->b_in || c->backend_eof)
        return 0;
    ssize_t r = recv(c->bfd, g->buf, c->pipe_cap < ANSWER_BUF ? c->pipe_cap : ANSWER_BUF, 0);
    if (r == 0) {
        c->backend_eof = true;
        return 1;
    }
    if (r < 0) {
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        c->b_in = errno == EINTR;
        return 0;
    }
    ssize_t w = 0;
    while (w < r && c->c_out) {
        ssize_t k = send(c->cfd, g->buf + w, (size_t)(r - w), MSG_NOSIGNAL);
        if (k >= 0)
            w += k;
        else if (errno == EAGAIN)
            c->c_out = false;
        else if (errno != EINTR)
            return -errno;
    }
    if (w < r) { /* the pipe is empty and holds r bytes: one write() takes them */
        if (write(c->pipe_w, g->buf + w, (size_t)(r - w)) != r - w)
            return -EIO;
        c->piped = (size_t)(r - w);
    }
    return 1;
}

/* Moves every byte that can move, until both sockets would block (edge-triggered: nothing
 * may be left that a new event would not announce); closes the connection when it is over.
 * It ends: each round reads at most what the sockets hold, and the client's side stops at a
 * head's worth. */
static void progress(struct worker *g, struct conn *c) {
    for (;;) {
        int moved = 0, r;
        if ((r = client_read(g, c)) < 0)
            goto close;
        moved |= r;
        if ((r = check_head(g, c)) < 0)
            goto close;
        moved |= r;
        if ((r = backend_write(g, c)) < 0)
            goto close;
        moved |= r;
        if ((r = backend_read(g, c)) < 0)
            goto close;
        moved |= r;
        if (c->backend_eof && c->piped == 0)
            goto close; /* libmicrohttpd closed and the client has every byte */
        if (c->client_eof && !c->refused && c->in_len == 0) {
            if (c->bfd < 0)
                goto close;
            if (!c->backend_shut) { /* libmicrohttpd finishes its answer, then closes */
                (void)shutdown(c->bfd, SHUT_WR);
                c->backend_shut = true;
            }
        }
        if (!moved)
            break;
    }
    /* A head is awaited (the first one, or the rest of one already begun): it has a time. */
    bool awaiting = !c->refused && c->pass == 0 && (c->bfd < 0 || c->in_len > 0);
    if (!awaiting)
        c->deadline_ms = 0;
    else if (c->deadline_ms == 0)
        c->deadline_ms = now_ms() + (uint64_t)g->o->head_timeout_s * 1000u;
    return;
close:
    conn_close(g, c);
}

static void accept_all(struct worker *g, size_t i) {
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(g->fds[i], (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop listening until the next sweep frees some. */
                (void)epoll_ctl(g->ep, EPOLL_CTL_DEL, g->fds[i], NULL);
                g->paused[i] = true;
            }
            return; /* EAGAIN, or a connection that died in the queue */
        }
        struct conn *c = g->nconns < g->connections_max ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
            close(fd);
            continue;
        }
        /* Answers leave in the pieces the gate moves: without TCP_NODELAY, Nagle holds each
         * answer's last segment until the client's delayed ACK (40 ms). */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        *c = (struct conn){.cfd = fd,
                           .bfd = -1,
                           .listener = i,
                           .addr = ss,
                           .addrlen = sl,
                           .c_in = true,
                           .c_out = true,
                           .next = g->conns};
        c->client_ep = (struct endpoint){.kind = EP_CLIENT, .conn = c};
        if (g->conns)
            g->conns->prev = c;
        g->conns = c;
        g->nconns++;
        if (watch(g, fd, &c->client_ep) < 0)
            conn_close(g, c);
        else
            progress(g, c);
    }
}

/* Once a second: heads past their time are dropped (slowloris), paused listeners resume. */
static void sweep(struct worker *g) {
    uint64_t now = now_ms();
    if (now < g->next_sweep_ms)
        return;
    g->next_sweep_ms = now + 1000;
    for (struct conn *c = g->conns, *next; c; c = next) {
        next = c->next;
        if (c->deadline_ms && c->deadline_ms <= now)
            conn_close(g, c);
    }
    for (size_t i = 0; i < g->o->n; i++) {
        if (!g->paused[i])
            continue;
        if (watch_listener(g, i) == 0)
            g->paused[i] = false;
    }
}

static void *gate_main(void *arg) {
    struct worker *g = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(g->ep, evs, 64, 1000);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            struct endpoint *e = evs[i].data.ptr;
            uint32_t ev = evs[i].events;
            bool in = ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
            bool out = ev & (EPOLLOUT | EPOLLHUP | EPOLLERR);
            switch (e->kind) {
            case EP_STOP:
                return NULL;
            case EP_LISTEN:
                accept_all(g, e->index);
                break;
            case EP_CLIENT:
            case EP_BACKEND:
                if (e->conn->dead)
                    break;
                if (e->kind == EP_CLIENT)
                    e->conn->c_in |= in, e->conn->c_out |= out;
                else
                    e->conn->b_in |= in, e->conn->b_out |= out;
                progress(g, e->conn);
                break;
            }
        }
        bury(g);
        sweep(g);
        bury(g);
    }
    return NULL;
}

/* --- lifecycle --------------------------------------------------------------------------- */

static void worker_free(struct worker *w) {
    if (!w)
        return;
    while (w->conns)
        conn_close(w, w->conns);
    bury(w);
    if (w->ep >= 0)
        close(w->ep);
    free(w->listen_eps);
    free(w->paused);
    free(w->buf);
    free(w);
}

static int worker_new(struct gate *gate, int stopfd, struct worker **ret) {
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    const struct gate_options *o = &gate->o;
    *w = (struct worker){.o = o,
                         .fds = gate->fds,
                         .daemons = gate->daemons,
                         .ep = -1,
                         .connections_max = o->connections_max / (unsigned)gate->nworkers};
    w->stop_ep.kind = EP_STOP;
    w->listen_eps = calloc(o->n, sizeof(*w->listen_eps));
    w->paused = calloc(o->n, sizeof(*w->paused));
    w->buf = malloc(ANSWER_BUF);
    int r = 0;
    if (!w->listen_eps || !w->paused || !w->buf)
        r = -ENOMEM;
    else if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        r = -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->stop_ep};
    if (r == 0 && epoll_ctl(w->ep, EPOLL_CTL_ADD, stopfd, &ev) < 0)
        r = -errno;
    for (size_t i = 0; r == 0 && i < o->n; i++) {
        w->listen_eps[i] = (struct endpoint){.kind = EP_LISTEN, .index = i};
        r = watch_listener(w, i);
    }
    if (r < 0) {
        worker_free(w);
        return r;
    }
    *ret = w;
    return 0;
}

int gate_start(const struct gate_options *o, struct gate **ret) {
    size_t nw = o->threads ? o->threads : 1;
    struct gate *g = calloc(1, sizeof(*g) + nw * sizeof(g->workers[0]));
    if (!g)
        return -ENOMEM;
    g->o = *o;
    g->nworkers = nw;
    g->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    g->fds = calloc(o->n, sizeof(*g->fds));
    g->daemons = calloc(o->n, sizeof(*g->daemons));
    int r = g->stopfd < 0 ? -errno : !g->fds || !g->daemons ? -ENOMEM : 0;
    for (size_t i = 0; r == 0 && i < o->n; i++) {
        g->fds[i] = o->fds[i];
        g->daemons[i] = o->daemons[i];
        int fl = fcntl(g->fds[i], F_GETFL); /* accept_all() takes every waiting connection */
        if (fl < 0 || fcntl(g->fds[i], F_SETFL, fl | O_NONBLOCK) < 0)
            r = -errno;
    }
    g->o.fds = NULL;
    g->o.daemons = NULL;
    for (size_t i = 0; r == 0 && i < nw; i++)
        r = worker_new(g, g->stopfd, &g->workers[i]);
    for (size_t i = 0; r == 0 && i < nw; i++) {
        r = -pthread_create(&g->workers[i]->thread, NULL, gate_main, g->workers[i]);
        g->workers[i]->started = r == 0;
    }
    if (r < 0) {
        gate_stop(g);
        return r;
    }
    *ret = g;
    return 0;
}

void gate_stop(struct gate *g) {
    if (!g)
        return;
    uint64_t one = 1;
    if (g->stopfd >= 0)
        (void)!write(g->stopfd, &one, sizeof(one));
    for (size_t i = 0; i < g->nworkers; i++) {
        if (g->workers[i] && g->workers[i]->started)
            pthread_join(g->workers[i]->thread, NULL);
        worker_free(g->workers[i]);
    }
    if (g->stopfd >= 0)
        close(g->stopfd);
    free(g->fds);
    free(g->daemons);
    free(g);
}
