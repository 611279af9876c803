/* gate.h: the front end of the plain-HTTP listeners. A thread or two accept the connections,
 * reads each request head whole, checks it byte for byte (api/reqhead.c) and only then passes
 * it to libmicrohttpd, over a socketpair added with MHD_add_connection(); answers flow back
 * unchanged. A head that fails the check is never passed on: libmicrohttpd gets, in its place,
 * a request that carries REQHEAD_GATE_HEADER, which the handler answers with the gate's error
 * (4xx, Connection: close), in order after the answers to the requests before it.
 *
 * Why: libmicrohttpd 0.9.75 (Debian 12) cuts fields at raw NUL bytes, keeps header names with
 * any bytes, folds continuation lines into the name and answers other versions with its own
 * 505. Half-open connections (slowloris) cost the gate a small buffer each and never reach
 * libmicrohttpd. TLS listeners are served by libmicrohttpd directly: the gate cannot read
 * inside TLS (the handler checks the target and the header names there). */
#pragma once

#include <stddef.h>

struct MHD_Daemon;
struct gate;

struct gate_options {
    const int *fds;                    /* listening sockets (the gate accepts on them) */
    struct MHD_Daemon *const *daemons; /* started with MHD_USE_NO_LISTEN_SOCKET, one per fd */
    size_t n;
    unsigned threads;         /* each with its own connections (0: 1) */
    unsigned connections_max; /* open connections; beyond, new ones are closed at once */
    unsigned head_timeout_s;  /* a request head must be whole this long after it starts */
    size_t line_max;          /* bytes of a request line (414 beyond) */
    size_t head_max;          /* bytes of one request head (431 beyond) */
    size_t params_max;        /* query parameters of one request (414 beyond) */
};

/* Starts the gate's thread. 0 or -errno. */
int gate_start(const struct gate_options *o, struct gate **ret);

/* Stops the thread and closes every client connection (libmicrohttpd sees its ends close).
 * The listening sockets stay open: they are the caller's. NULL-safe. */
void gate_stop(struct gate *g);
