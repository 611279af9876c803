/* utf8.c: UTF-8 validation (RFC 3629, as jansson checks it) and "\xHH" escaping of the bytes
 * that are not part of a valid sequence. */
#include "api/utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmatlas/macros.h"

size_t utf8_sequence_length(const char *str, size_t len) {
    const uint8_t *s = (const uint8_t *)str;
    if (len == 0 || s[0] == 0)
        return 0;
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0; /* continuation byte, 0xc0/0xc1 (overlong), 0xf5..0xff */
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

int utf8_valid(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path */
        if ((uint8_t)s[i] < 0x80 && s[i] != 0) {
            i++;
            continue;
        }
        size_t n = utf8_sequence_length(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

json_t *json_kernel_stringn(const char *s, size_t len) {
    if (!s)
        len = 0;
    if (len == 0)
        return json_stringn_nocheck("", 0);
    if (utf8_valid(s, len))
        return json_stringn(s, len);

    /* Worst case every byte becomes 4 characters. */
    size_t cap;
    if (__builtin_mul_overflow(len, (size_t)4, &cap))
        return NULL;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence_length(s + i, len - i);
        if (n > 0) {
            memcpy(buf + o, s + i, n);
            o += n;
            i += n;
        } else {
            uint8_t c = (uint8_t)s[i++];
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 0xf];
        }
    }
    /* json_stringn checks again: a bug here gives NULL, never invalid JSON. */
    return json_stringn(buf, o);
}

json_t *json_kernel_string(const char *s) {
    if (!s)
        return json_null();
    return json_kernel_stringn(s, strlen(s));
}
