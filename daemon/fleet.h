/* fleet.h: fleet mode in the daemon: the peers of the configuration (--peers, --peers-file), the
 * bearer token for them, and the thread that fetches them every interval and publishes each
 * merged view to the HTTP service. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "api/fleet_url.h"
#include "api/server.h"
#include "daemon/options.h"

/* True when cfg asks for fleet mode (--peers or --peers-file, even with no peer in them). */
bool fleet_configured(const struct vm_config *cfg);

/* The peers of cfg: those of --peers, then the lines of --peers-file (read now). Returns 0 and
 * the list (free with fleet_urls_free), or -EINVAL with a message naming the flag or file and
 * line, or -errno of reading the file (with a message). */
int fleet_peers_load(const struct vm_config *cfg, struct fleet_url **ret, size_t *ret_n, char *err,
                     size_t errlen);

/* Check what fleet mode would read (peers, peers file, CA file), so that
 * --check-config and a SIGHUP reload refuse a configuration it could not start with. 0 or
 * -EINVAL with a message. */
int fleet_config_check(const struct vm_config *cfg, char *err, size_t errlen);

struct fleet_service;

/* Publish the view "not fetched yet" and start the fleet thread, which fetches all peers
 * every interval (its first round at once). 0, or -errno after logging why. */
/* What the daemon read at start for its peers (each may be NULL): its bearer token
 * (--auth-token-file), its TLS certificate and key (--tls-cert, --tls-key, PEM texts) and the
 * CA to verify https peers with (--peer-ca-file). Read once: the fleet thread runs in the
 * unprivileged server process. */
struct fleet_secrets {
    const char *token, *cert, *key;
    const char *ca; /* --peer-ca-file's PEM text */
};

int fleet_service_start(const struct vm_config *cfg, const struct fleet_secrets *secrets,
                        struct api_server *server, struct fleet_service **ret);
/* SIGHUP: take the new peers, peers file, timeout and interval (a part that cannot be read is
 * logged and the running one kept), and fetch at once. The secrets (token, certificate, CA)
 * stay those read at start. */
void fleet_service_reload(struct fleet_service *f, const struct vm_config *cfg);
/* Cut the running round short, stop the thread, free everything. Accepts NULL; returns NULL. */
struct fleet_service *fleet_service_stop(struct fleet_service *f);
