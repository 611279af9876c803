/* server.h: the HTTP service (libmicrohttpd): routing, limits, and bodies rendered once per
 * snapshot. Requests only ever read the published snapshot; they never open a procfs file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/snapshot.h"

struct api_server;

struct api_server_options {
    const char *const *listen;  /* "ADDR:PORT" strings (port 0: any free port) */
    size_t nlisten;
    const int *listen_fds;      /* already-listening sockets (socket activation); used instead
                                 * of listen when nfds > 0; the server takes them over */
    size_t nfds;
    int redact;                 /* addresses as null: 1 always, 0 never, -1 on non-loopback
                                 * listeners only */
    /* Exposure: a listener that is not loopback needs a token, unless allow_unauthenticated. */
    const char *auth_token;     /* bearer token every path but /healthz and /readyz needs */
    bool allow_unauthenticated;
    const char *const *allowed_hosts; /* Host names allowed besides IP literals and localhost */
    size_t nallowed_hosts;
    /* TLS (PEM texts, not paths): with tls_cert and tls_key every listener speaks HTTPS
     * (TLS 1.2+); with tls_client_ca a client certificate signed by it is required. */
    const char *tls_cert, *tls_key, *tls_client_ca;
    uint32_t metrics_top_k;
    uint64_t interval_ms;           /* for /api/v1/node "collector" */
    uint32_t deep_walk_budget_bp;   /* basis points of one CPU */
    const char *version;
    unsigned threads;               /* MHD thread pool size; 0: one per CPU, 4 to 8 */
    unsigned connection_limit;      /* 0: default */
    unsigned per_ip_limit;          /* 0: default */
    unsigned timeout_s;             /* 0: default */
    /* /residency?refresh=1: read process pid anew (blocking), publish the result, and return
     * 0; -EAGAIN with *retry_after_s when the walk budget is spent; -ESRCH when the process is
     * gone; another -errno otherwise. NULL: refresh is refused with 503. */
    int (*refresh)(void *userdata, int32_t pid, unsigned *retry_after_s);
    void *refresh_userdata;
    bool fleet; /* fleet mode: the fleet paths answer 503 until the first merged view */
};

/* Bind and listen on "ADDR:PORT" ("[v6]:PORT", port 0: any free port). Returns the fd, or
 * -errno with a message naming the address in err. */
int api_listen(const char *spec, char *err, size_t errlen);

/* Bind every address (or take the given fds) and start serving. Returns 0 and the server in
 * *ret, or -errno with a message naming the address in err. */
int api_server_start(const struct api_server_options *o, struct api_server **ret, char *err,
                     size_t errlen);

/* The addresses actually bound, as "ADDR:PORT" (the port chosen for port 0 filled in); returns
 * how many were written to out[0..max). */
size_t api_server_addresses(const struct api_server *s, char (*out)[64], size_t max);

/* Publish a new snapshot (the server takes its own reference); bodies rendered for the old one
 * are dropped once the requests using them finish. */
void api_server_publish(struct api_server *s, struct vm_snapshot *snap);

/* Publish a new merged fleet view (the server takes its own reference): the fleet paths answer
 * from it, and /metrics adds its peer families. Until the first one, the fleet paths answer 503
 * (404 without options.fleet). */
struct fleet_view;
void api_server_publish_fleet(struct api_server *s, struct fleet_view *view);

/* Requests answered so far (any status). */
uint64_t api_server_requests(const struct api_server *s);

/* Stop accepting, finish in-flight requests, free everything. Accepts NULL; returns NULL. */
struct api_server *api_server_stop(struct api_server *s);
