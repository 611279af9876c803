/* gzip.h: gzip encoding of response bodies (zlib). */
#pragma once

#include <stddef.h>

/* Compress in[0..len) into a malloc'd gzip stream. Returns 0, or -ENOMEM / -EIO. */
int gzip_compress(const char *in, size_t len, char **ret, size_t *ret_len);

/* Whether an Accept-Encoding header value accepts gzip (a "gzip" or "*" token whose q is not
 * 0). NULL accepts nothing. */
int gzip_accepted(const char *accept_encoding);
