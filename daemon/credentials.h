/* credentials.h: the bearer token and the TLS files named by the configuration, read once at
 * start (a restart picks up new ones). */
#pragma once

#include <stddef.h>

#include "daemon/options.h"

struct credentials {
    char *token;                        /* NULL: no --auth-token-file */
    char *tls_cert, *tls_key, *tls_ca;  /* PEM texts, NULL when not configured */
    char *peer_ca;                      /* --peer-ca-file (PEM), for https peers */
};

/* Read every file the configuration names. A token is the file's first line without trailing
 * whitespace: 16 to 4096 visible ASCII characters without spaces (bearer token syntax). A file
 * others can read gets a warning. Returns 0, or -errno with a message naming the key in err. */
int credentials_load(const struct vm_config *cfg, struct credentials *ret, char *err,
                     size_t errlen);

/* Wipe and free (not c itself). */
void credentials_free(struct credentials *c);
