/* utf8.h: kernel byte strings made safe for JSON and Prometheus labels.
 *
 * Kernel strings (comm, cmdline, maps names, cgroup paths) are bytes: a process may name
 * itself with any bytes but NUL (prctl PR_SET_NAME), file names may hold any bytes but '/'
 * and NUL, and cmdline comes with its NULs turned into spaces. The
 * escaping below keeps every valid UTF-8 sequence as it is and turns each other byte into the
 * four ASCII characters "\xHH", so the result is always valid UTF-8 and still readable. (A
 * name that really contains a backslash followed by "xHH" renders the same: the escape is for
 * people, not a reversible encoding.)
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* A JSON string for bytes s[0..len): valid UTF-8 sequences are kept as they are, every byte
 * that is not part of a valid sequence (overlong forms, surrogates, > U+10FFFF, truncated
 * sequences) and every NUL become the four characters "\xHH" (lower-case hex). Returns a new
 * reference, or NULL on OOM. */
json_t *json_kernel_stringn(const char *s, size_t len);
/* NULL-safe: NULL gives json null. */
json_t *json_kernel_string(const char *s);
/* True when s[0..len) is valid UTF-8 without NUL. */
int utf8_valid(const char *s, size_t len);
/* Length (1..4) of the valid UTF-8 sequence (not NUL) that starts s[0..len), or 0 when s[0]
 * must be escaped (len 0 gives 0). The building block of the escapers above and of the
 * Prometheus label escaping. */
size_t utf8_sequence_length(const char *s, size_t len);
