/* tls.h: what libmicrohttpd leaves to us about TLS: verifying client certificates. */
#pragma once

#include <stdbool.h>
#include <microhttpd.h>

/* Whether the TLS peer of conn showed an X.509 certificate that verifies against the trust
 * list the daemon was started with (MHD_OPTION_HTTPS_MEM_TRUST): signed by the client CA,
 * within its validity. False on a plain connection. */
bool tls_client_verified(struct MHD_Connection *conn);
