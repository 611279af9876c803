/* fleet_client.h: fetching every peer's documents in one round (libcurl multi interface).
 *
 * A round fetches the documents of all peers at once: one easy handle and one kept-alive
 * connection per peer, its documents one after the other on it (fleet_doc.h lists them), each
 * conditional on the ETag of the last valid copy (a 304 reuses that copy) and asking for gzip.
 * Every peer has the same budget, counted from the start of the round, for connecting and all
 * of its transfers; bodies are capped (decoded bytes, counted in the write callback, since
 * CURLOPT_MAXFILESIZE cannot stop a chunked body); redirects are not followed; only http and
 * https. A peer is up when every document arrived and passed fleet_doc_parse(), else it is
 * down with the first error: a failed peer is data, not an error of the round.
 *
 * One client belongs to one thread (the daemon's fleet thread); only fleet_client_cancel() may
 * be called from another.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/fleet_doc.h"
#include "api/fleet_url.h"

struct fleet_client;

struct fleet_client_options {
    uint64_t timeout_ms;      /* per peer and round: connect and every transfer */
    uint64_t body_max;        /* decoded bytes per peer and round; 0: VM_FLEET_BODY_MAX */
    /* Processes asked of each peer at most; 0: VM_FLEET_PROCS_PER_PEER. Each peer is asked for
     * VM_FLEET_PROCS_TOTAL / peers of them when that is fewer (but at least
     * VM_FLEET_PROCS_PER_PEER_MIN): a large fleet keeps every node's top processes. */
    uint32_t procs_limit;
    const char *ca_pem;       /* CA bundle (PEM text) for https peers; NULL: the system's */
    const char *bearer_token; /* sent as "Authorization: Bearer ..."; NULL: none */
    /* A client certificate for https peers that ask for one (PEM texts, kept in memory: the
     * server process may not read key files); NULL: none. The daemon passes its own. */
    const char *client_cert_pem, *client_key_pem;
    const char *user_agent;   /* NULL: "vmatlasd" */
};

/* What one round learned about one peer. */
struct fleet_result {
    struct fleet_url url;
    bool up;
    char error[256];       /* why it is down ("" when up) */
    uint64_t latency_us;   /* from the start of the round to its last answer or its failure */
    uint64_t bytes;        /* decoded body bytes received */
    uint32_t not_modified; /* documents answered 304 (the last valid copy reused) */
    struct fleet_doc *docs[_FLEET_DOC_MAX]; /* one reference each; all set when up, none else */
};

struct fleet_round {
    uint64_t started_at_ms; /* Unix ms */
    uint64_t duration_ns;
    bool cancelled; /* fleet_client_cancel() cut it short */
    size_t n;
    struct fleet_result *peers; /* in the order of fleet_client_set_peers() */
};

/* A client with no peers (curl_global_init() must have been called). 0 or -ENOMEM. The
 * options' strings are copied. */
int fleet_client_new(const struct fleet_client_options *o, struct fleet_client **ret);
/* New options for the next rounds. 0 or -ENOMEM (the old ones stay). */
int fleet_client_set_options(struct fleet_client *c, const struct fleet_client_options *o);
/* The peers of the next rounds (copied). A peer whose URL stays keeps its connection, its
 * ETags and its last documents. 0 or -ENOMEM (the old list stays). */
int fleet_client_set_peers(struct fleet_client *c, const struct fleet_url *peers, size_t n);
size_t fleet_client_peers(const struct fleet_client *c);
/* The processes asked of each peer now (see fleet_client_options.procs_limit). */
uint32_t fleet_client_procs_limit(const struct fleet_client *c);

/* Fetch every peer once; blocks for at most the timeout (plus the time to parse what
 * arrived). Returns 0 and the round in *ret (free it with fleet_round_free), or -ENOMEM. */
int fleet_client_round(struct fleet_client *c, struct fleet_round **ret);
struct fleet_round *fleet_round_free(struct fleet_round *r);

/* From any thread: cut the running round short, and every later one (for shutdown). */
void fleet_client_cancel(struct fleet_client *c);

/* Accepts NULL; returns NULL. */
struct fleet_client *fleet_client_free(struct fleet_client *c);
