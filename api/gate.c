/* gate.c: the plain-HTTP front end (see gate.h). One thread, one epoll set, edge-triggered:
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

#define IN_CHUNK 4096u     /* the first buffer of a connection's request bytes */
#define SCRATCH (64u << 10) /* answers move through this; only what the client cannot take
                             * at once is copied into the connection */

enum ep_kind { EP_LISTEN, EP_STOP, EP_CLIENT, EP_BACKEND };

struct conn;
struct endpoint {
    enum ep_kind kind;
    size_t index;      /* EP_LISTEN: which listener */
    struct conn *conn; /* EP_CLIENT, EP_BACKEND */
};

struct conn {
    struct endpoint client_ep, backend_ep;
    int cfd;                 /* the client's socket */
    int bfd;                 /* our end of the socketpair to libmicrohttpd; -1: none yet */
    size_t listener;
    struct sockaddr_storage addr; /* the client's, handed to libmicrohttpd (per-IP limits) */
    socklen_t addrlen;
    char *in;                /* bytes from the client not passed on yet */
    size_t in_len, in_cap;
    size_t pass;             /* in[0..pass): a checked head, being written to bfd */
    char *out;               /* answer bytes the client has not taken yet */
    size_t out_len, out_off;
    uint64_t deadline_ms;    /* 0, or when the head being read must be whole */
    bool c_in, c_out, b_in, b_out; /* the socket may be ready (edge-triggered) */
    bool client_eof, backend_eof, backend_shut, refused, dead;
    struct conn *prev, *next;
};

struct gate {
    struct gate_options o;
    int *fds;
    struct MHD_Daemon **daemons;
    struct endpoint *listen_eps;
    bool *paused;            /* a listener paused after EMFILE, resumed at the next sweep */
    struct endpoint stop_ep;
    int ep, stopfd;
    pthread_t thread;
    struct conn *conns;      /* open connections */
    struct conn *graveyard;  /* closed during this round of events; freed after it */
    unsigned nconns;
    uint64_t next_sweep_ms;
    char scratch[SCRATCH];
};

static uint64_t now_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- connections ------------------------------------------------------------------------- */

static void conn_close(struct gate *g, struct conn *c) {
    if (c->dead)
        return;
    /* Take what the client still sends, so that close() does not turn into a reset that
     * could destroy the answer in flight (the lingering close of every HTTP server). */
    if (!c->client_eof) {
        (void)shutdown(c->cfd, SHUT_WR);
        while (recv(c->cfd, g->scratch, sizeof(g->scratch), MSG_DONTWAIT) > 0)
            ;
    }
    close(c->cfd);
    if (c->bfd >= 0)
        close(c->bfd);
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

static void bury(struct gate *g) {
    while (g->graveyard) {
        struct conn *c = g->graveyard;
        g->graveyard = c->next;
        free(c->in);
        free(c->out);
        free(c);
    }
}

static int watch(struct gate *g, int fd, struct endpoint *e) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = e};
    return epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The socketpair to libmicrohttpd, once the first head has passed. */
static int backend_open(struct gate *g, struct conn *c) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    /* libmicrohttpd owns sv[1] from here, and closes it itself when it refuses it (its
     * connection limits). */
    if (MHD_add_connection(g->daemons[c->listener], sv[1], (const struct sockaddr *)&c->addr,
                           c->addrlen) != MHD_YES) {
        close(sv[0]);
        return -EAGAIN;
    }
    c->bfd = sv[0];
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
static int refuse(struct gate *g, struct conn *c, enum reqhead_error e) {
    char req[128];
    int n = snprintf(req, sizeof(req),
                     "GET / HTTP/1.1\r\nHost: localhost\r\n" REQHEAD_GATE_HEADER ": %d\r\n\r\n",
                     (int)e);
    if (in_reserve(c, (size_t)n, g->o.head_max) < 0)
        return -ENOMEM;
    memcpy(c->in, req, (size_t)n);
    c->in_len = c->pass = (size_t)n;
    c->refused = true;
    return 0;
}

/* Reads what the client sent (up to a head's worth). 1: moved, 0: nothing to do, <0: close. */
static int client_read(struct gate *g, struct conn *c) {
    size_t max = g->o.head_max + 1; /* one byte past: "too large" is then certain */
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
static int check_head(struct gate *g, struct conn *c) {
    if (c->pass > 0 || c->refused || c->in_len == 0)
        return 0;
    struct reqhead h;
    struct reqhead_limits lim = {g->o.line_max, g->o.head_max, g->o.params_max};
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

static int backend_write(struct gate *g, struct conn *c) {
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

/* Writes data[0..n) to the client while it takes it: the count written, or -errno. */
static ssize_t client_send(struct conn *c, const char *data, size_t n) {
    size_t done = 0;
    while (c->c_out && done < n) {
        ssize_t w = send(c->cfd, data + done, n - done, MSG_NOSIGNAL);
        if (w >= 0)
            done += (size_t)w;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            c->c_out = false;
        else if (errno != EINTR)
            return -errno;
    }
    return (ssize_t)done;
}

/* Moves answer bytes from libmicrohttpd to the client: what the client does not take at once
 * waits in c->out, and nothing more is read from libmicrohttpd until it is gone. */
static int backend_read(struct gate *g, struct conn *c) {
    if (c->out_off < c->out_len) {
        ssize_t w = client_send(c, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0)
            return (int)w;
        c->out_off += (size_t)w;
        if (c->out_off == c->out_len) {
            free(c->out);
            c->out = NULL;
            c->out_len = c->out_off = 0;
        }
        return w > 0;
    }
    if (c->bfd < 0 || !c->b_in || c->backend_eof)
        return 0;
    ssize_t r = recv(c->bfd, g->scratch, sizeof(g->scratch), 0);
    if (r == 0) {
        c->backend_eof = true;
        return 1;
    }
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            c->b_in = errno == EINTR;
            return 0;
        }
        return -errno;
    }
    ssize_t w = client_send(c, g->scratch, (size_t)r);
    if (w < 0)
        return (int)w;
    if (w < r) {
        c->out = malloc((size_t)(r - w));
        if (!c->out)
            return -ENOMEM;
        memcpy(c->out, g->scratch + w, (size_t)(r - w));
        c->out_len = (size_t)(r - w);
        c->out_off = 0;
    }
    return 1;
}

/* Moves every byte that can move; closes the connection when it is over. */
static void progress(struct gate *g, struct conn *c) {
    for (int rounds = 0; rounds < 64; rounds++) {
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
        if (c->backend_eof && c->out_off >= c->out_len)
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
        c->deadline_ms = now_ms() + (uint64_t)g->o.head_timeout_s * 1000u;
    return;
close:
    conn_close(g, c);
}

static void accept_all(struct gate *g, size_t i) {
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(g->fds[i], (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop listening until the next sweep frees some. */
                struct epoll_event ev = {.events = 0, .data.ptr = &g->listen_eps[i]};
                (void)epoll_ctl(g->ep, EPOLL_CTL_MOD, g->fds[i], &ev);
                g->paused[i] = true;
            }
            return; /* EAGAIN, or a connection that died in the queue */
        }
        struct conn *c = g->nconns < g->o.connections_max ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
            close(fd);
            continue;
        }
        /* Answers leave in the pieces the gate moves: without TCP_NODELAY, Nagle holds each
         * answer's last segment until the client's delayed ACK (40 ms). */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        *c = (struct conn){.cfd = fd, .bfd = -1, .listener = i, .addr = ss, .addrlen = sl,
                           .c_in = true, .c_out = true, .next = g->conns};
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
static void sweep(struct gate *g) {
    uint64_t now = now_ms();
    if (now < g->next_sweep_ms)
        return;
    g->next_sweep_ms = now + 1000;
    for (struct conn *c = g->conns, *next; c; c = next) {
        next = c->next;
        if (c->deadline_ms && c->deadline_ms <= now)
            conn_close(g, c);
    }
    for (size_t i = 0; i < g->o.n; i++) {
        if (!g->paused[i])
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &g->listen_eps[i]};
        if (epoll_ctl(g->ep, EPOLL_CTL_MOD, g->fds[i], &ev) == 0)
            g->paused[i] = false;
    }
}

static void *gate_main(void *arg) {
    struct gate *g = arg;
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

int gate_start(const struct gate_options *o, struct gate **ret) {
    struct gate *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->o = *o;
    g->ep = g->stopfd = -1;
    g->fds = calloc(o->n, sizeof(*g->fds));
    g->daemons = calloc(o->n, sizeof(*g->daemons));
    g->listen_eps = calloc(o->n, sizeof(*g->listen_eps));
    g->paused = calloc(o->n, sizeof(*g->paused));
    int r = 0;
    if (!g->fds || !g->daemons || !g->listen_eps || !g->paused)
        r = -ENOMEM;
    if (r == 0 && ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
                   (g->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0))
        r = -errno;
    g->stop_ep.kind = EP_STOP;
    if (r == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &g->stop_ep};
        if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->stopfd, &ev) < 0)
            r = -errno;
    }
    for (size_t i = 0; r == 0 && i < o->n; i++) {
        g->fds[i] = o->fds[i];
        g->daemons[i] = o->daemons[i];
        g->listen_eps[i] = (struct endpoint){.kind = EP_LISTEN, .index = i};
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &g->listen_eps[i]};
        int fl = fcntl(g->fds[i], F_GETFL);
        if (fl < 0 || fcntl(g->fds[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
            epoll_ctl(g->ep, EPOLL_CTL_ADD, g->fds[i], &ev) < 0)
            r = -errno;
    }
    g->o.fds = NULL;
    g->o.daemons = NULL;
    if (r == 0)
        r = -pthread_create(&g->thread, NULL, gate_main, g);
    if (r < 0) {
        if (g->ep >= 0)
            close(g->ep);
        if (g->stopfd >= 0)
            close(g->stopfd);
        free(g->fds), free(g->daemons), free(g->listen_eps), free(g->paused);
        free(g);
        return r;
    }
    *ret = g;
    return 0;
}

void gate_stop(struct gate *g) {
    if (!g)
        return;
    uint64_t one = 1;
    (void)!write(g->stopfd, &one, sizeof(one));
    pthread_join(g->thread, NULL);
    while (g->conns)
        conn_close(g, g->conns);
    bury(g);
    close(g->ep);
    close(g->stopfd);
    free(g->fds), free(g->daemons), free(g->listen_eps), free(g->paused);
    free(g);
}
