/* dashboard.h: the dashboard page at "/" and its script and style sheet, compiled into the
 * binary. The files hold no data: the page reads the JSON API like any other client, with the
 * same token. */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>

#include "api/dashboard_assets.h"

/* Queue the answer for asset a on conn: 200 with the body (gzip when the request accepts it),
 * or 304 when If-None-Match names its ETag; with the page's security headers
 * (Content-Security-Policy, nosniff, no referrer). Returns what MHD_queue_response returned. */
enum MHD_Result dashboard_serve(struct MHD_Connection *conn, const struct dashboard_asset *a);
