/* gzip.c: gzip bodies with zlib, and Accept-Encoding negotiation. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "api/gzip.h"

int gzip_compress(const char *in, size_t len, char **ret, size_t *ret_len) {
    z_stream z = {0};
    /* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    size_t cap = deflateBound(&z, (uLong)len);
    char *out = malloc(cap ? cap : 1);
    if (!out) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int r = len > UINT32_MAX ? Z_BUF_ERROR : deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(out);
        return -EIO;
    }
    *ret = out;
    *ret_len = n;
    return 0;
}

/* One comma-separated element: "gzip", "gzip;q=0.5", "*;q=0", " x-gzip ". */
static int element_accepts(const char *s, size_t n) {
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    size_t tok = 0;
    while (tok < n && s[tok] != ';' && s[tok] != ' ' && s[tok] != '\t')
        tok++;
    if (!((tok == 4 && strncasecmp(s, "gzip", 4) == 0) ||
          (tok == 6 && strncasecmp(s, "x-gzip", 6) == 0) || (tok == 1 && s[0] == '*')))
        return 0;
    /* q=0 (0, 0.0, 0.00, 0.000) refuses it. */
    const char *q = memchr(s, ';', n);
    while (q) {
        size_t rest = n - (size_t)(q - s) - 1;
        const char *p = q + 1;
        while (rest > 0 && (*p == ' ' || *p == '\t'))
            p++, rest--;
        if (rest >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            p += 2, rest -= 2;
            if (rest == 0 || *p != '0')
                return 1;
            p++, rest--;
            if (rest > 0 && *p == '.') {
                p++, rest--;
                while (rest > 0 && *p == '0')
                    p++, rest--;
            }
            return rest > 0 && *p >= '1' && *p <= '9';
        }
        q = memchr(p, ';', rest);
    }
    return 1;
}

int gzip_accepted(const char *header) {
    if (!header)
        return 0;
    const char *s = header;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (element_accepts(s, n))
            return 1;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}
