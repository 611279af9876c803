/* dashboard_assets.h: the dashboard's files as compiled into the binary (the table is generated
 * at build time by cmake/embed_dashboard.cmake from dashboard/), and the lookup by path. */
#pragma once

#include <stddef.h>

struct dashboard_asset {
    const char *path; /* "/" or "/dashboard/<file>" */
    const char *type; /* Content-Type */
    const unsigned char *body;
    size_t len;
    const char *etag;        /* quoted, from the SHA-256 of body */
    const unsigned char *gz; /* gzip of body, or NULL when it would not be smaller */
    size_t gz_len;
    const char *etag_gz;
};

extern const struct dashboard_asset dashboard_assets[];
extern const size_t dashboard_assets_n;

/* The asset served at path (exact match, no query), or NULL. */
const struct dashboard_asset *dashboard_find(const char *path);
