/* tls.c: client certificate verification through the connection's GnuTLS session. */
#include <gnutls/gnutls.h>

#include "api/tls.h"

bool tls_client_verified(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t session = (gnutls_session_t)ci->tls_session;
    unsigned n = 0, status = 0;
    if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509 ||
        !gnutls_certificate_get_peers(session, &n) || n == 0)
        return false;
    return gnutls_certificate_verify_peers2(session, &status) == 0 && status == 0;
}
