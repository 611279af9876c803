/* dashboard.c: serving the dashboard's static files from the arrays compiled into the binary.
 *
 * Everything is constant: the bodies, their gzip variants and their ETags were made at build
 * time, so a request only wraps the right buffer in a response (MHD does not copy a persistent
 * buffer) and adds headers. */
#include <string.h>

#include "api/dashboard.h"
#include "api/gzip.h"

/* The page loads its script and style sheet from this origin and talks only to it; nothing may
 * be framed, inlined or evaluated. */
#define DASHBOARD_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

const struct dashboard_asset *dashboard_find(const char *path) {
    for (size_t i = 0; i < dashboard_assets_n; i++)
        if (strcmp(path, dashboard_assets[i].path) == 0)
            return &dashboard_assets[i];
    return NULL;
}

/* If-None-Match names etag (a quoted strong tag: a plain substring search cannot match a
 * longer tag, and finds it inside W/"..." too, which is the weak comparison RFC 9110 13.1.2
 * asks for), or is "*". */
static bool none_match(const char *header, const char *etag) {
    if (!header)
        return false;
    return strcmp(header, "*") == 0 || strstr(header, etag) != NULL;
}

enum MHD_Result dashboard_serve(struct MHD_Connection *conn, const struct dashboard_asset *a) {
    bool gz = a->gz && gzip_accepted(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                                 MHD_HTTP_HEADER_ACCEPT_ENCODING));
    const char *etag = gz ? a->etag_gz : a->etag;
    bool fresh = none_match(
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH), etag);
    struct MHD_Response *r;
    if (fresh)
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(gz ? a->gz_len : a->len, (void *)(gz ? a->gz : a->body),
                                            MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO; /* out of memory: MHD closes the connection */
    if (!fresh) {
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
        if (gz)
            (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    /* Revalidate every time (304 when unchanged): the paths carry no version, and a new
     * binary must not run an old script against its API. */
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    (void)MHD_add_response_header(r, "Content-Security-Policy", DASHBOARD_CSP);
    (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    (void)MHD_add_response_header(r, "X-Frame-Options", "DENY");
    enum MHD_Result ret = MHD_queue_response(conn, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
