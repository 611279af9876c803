/* parse.h: strict bounded number parsers for kernel text.
 *
 * Each takes (s, len) and needs no NUL terminator. Digits only: no sign, no spaces, no
 * prefix; at least one digit. Overflow is -ERANGE, anything else malformed is -EINVAL.
 * *ret is written only on success.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int parse_u64(const char *s, size_t len, uint64_t *ret); /* decimal */
int parse_x64(const char *s, size_t len, uint64_t *ret); /* hex, either case, no 0x */
int parse_i64(const char *s, size_t len, int64_t *ret);  /* decimal with optional leading '-' */

/* "<blanks><decimal> kB" as in status and smaps values (blanks: spaces or tabs, possibly none):
 * returns the value in bytes. The " kB" suffix is required and must end the buffer;
 * multiplication overflow is -ERANGE. */
int parse_kb(const char *s, size_t len, uint64_t *ret_bytes);
/* Same, but returns the number of kB as printed (no multiplication). */
int parse_kb_raw(const char *s, size_t len, uint64_t *ret_kb);

/* Split off the next field separated by sep starting at *pos; returns 0 and the field (pointing
 * into buf) and advances *pos past the separator, or -ENOENT once *pos has reached len. Empty
 * fields between two separators are returned as such; a trailing separator does not start
 * another field, so "a\nb\n" and "a\nb" both give "a", "b" (this suits line iteration). */
int next_field(const char *buf, size_t len, size_t *pos, char sep, const char **ret,
               size_t *ret_len);

struct vm_field;

/* Split a "Key:<value>" line (no '\n') as in status and smaps: the key is everything before the
 * first ':' and must be non-empty and made of [A-Za-z0-9_] only; the value is everything after
 * the ':' (leading blanks kept). Returns 0, or -EINVAL when the line is not such a line. */
int parse_key_value(const char *line, size_t len, const char **ret_key, size_t *ret_key_len,
                    const char **ret_value, size_t *ret_value_len);

/* Index of the row of table[0..n) whose key is exactly (key, key_len), or -ENOENT. */
int parse_field_index(const struct vm_field *table, size_t n, const char *key, size_t key_len);
