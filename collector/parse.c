/* parse.c: strict bounded number parsers, field and key splitters for kernel text. */
#include "collector/parse.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vmatlas/fields.h"

#define KB_SUFFIX " kB"
#define KB_SUFFIX_LEN (sizeof(KB_SUFFIX) - 1)

int parse_u64(const char *s, size_t len, uint64_t *ret) {
    uint64_t v = 0;

    if (!s || len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < '0' || c > '9')
            return -EINVAL;
        /* Keep scanning after an overflow so that "99999999999999999999x" is -EINVAL. */
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v)) {
            for (i++; i < len; i++)
                if ((unsigned char)s[i] < '0' || (unsigned char)s[i] > '9')
                    return -EINVAL;
            return -ERANGE;
        }
    }
    *ret = v;
    return 0;
}

static int hex_digit(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int parse_x64(const char *s, size_t len, uint64_t *ret) {
    uint64_t v = 0;
    bool overflow = false;

    if (!s || len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        int d = hex_digit((unsigned char)s[i]);
        if (d < 0)
            return -EINVAL;
        if (v >> 60)
            overflow = true; /* any further digit would shift bits out */
        v = (v << 4) | (uint64_t)d;
    }
    if (overflow)
        return -ERANGE;
    *ret = v;
    return 0;
}

int parse_i64(const char *s, size_t len, int64_t *ret) {
    uint64_t mag;
    bool neg = false;
    int r;

    if (!s || len == 0)
        return -EINVAL;
    if (s[0] == '-') {
        neg = true;
        s++;
        len--;
    }
    r = parse_u64(s, len, &mag);
    if (r < 0)
        return r;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        /* Negate in unsigned arithmetic: -(INT64_MIN) does not fit in int64_t. */
        *ret = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return -ERANGE;
        *ret = (int64_t)mag;
    }
    return 0;
}

int parse_kb_raw(const char *s, size_t len, uint64_t *ret_kb) {
    size_t i = 0;

    if (!s)
        return -EINVAL;
    /* The kernel right-aligns the number ("%8lu kB"); status puts a tab before it. */
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (len - i < KB_SUFFIX_LEN + 1 || memcmp(s + len - KB_SUFFIX_LEN, KB_SUFFIX, KB_SUFFIX_LEN))
        return -EINVAL;
    return parse_u64(s + i, len - i - KB_SUFFIX_LEN, ret_kb);
}

int parse_kb(const char *s, size_t len, uint64_t *ret_bytes) {
    uint64_t kb, bytes;
    int r;

    r = parse_kb_raw(s, len, &kb);
    if (r < 0)
        return r;
    if (__builtin_mul_overflow(kb, 1024, &bytes))
        return -ERANGE;
    *ret_bytes = bytes;
    return 0;
}

int next_field(const char *buf, size_t len, size_t *pos, char sep, const char **ret,
               size_t *ret_len) {
    const char *end;
    size_t start = *pos;

    if (!buf || start >= len)
        return -ENOENT;
    end = memchr(buf + start, sep, len - start);
    if (end) {
        *ret_len = (size_t)(end - (buf + start));
        *pos = start + *ret_len + 1;
    } else {
        *ret_len = len - start;
        *pos = len;
    }
    *ret = buf + start;
    return 0;
}

static bool is_key_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int parse_key_value(const char *line, size_t len, const char **ret_key, size_t *ret_key_len,
                    const char **ret_value, size_t *ret_value_len) {
    size_t i = 0;

    if (!line)
        return -EINVAL;
    while (i < len && is_key_char((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= len || line[i] != ':')
        return -EINVAL;
    *ret_key = line;
    *ret_key_len = i;
    *ret_value = line + i + 1;
    *ret_value_len = len - i - 1;
    return 0;
}

int parse_field_index(const struct vm_field *table, size_t n, const char *key, size_t key_len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(table[i].key) == key_len && memcmp(table[i].key, key, key_len) == 0)
            return (int)i;
    return -ENOENT;
}
