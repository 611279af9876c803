/* json.h: small JSON helpers shared by the renderers (addresses, times, errno names). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* "0x7ffd2c1e0000" (lower-case hex), or null when redact is set. */
json_t *json_address(uint64_t addr, bool redact);
/* RFC 3339 UTC with milliseconds: "2026-11-24T18:00:00.123Z". 0 gives null. */
json_t *json_time_ms(uint64_t unix_ms);
/* Format into buf (at least 32 bytes); returns buf. */
char *format_time_ms(uint64_t unix_ms, char *buf, size_t len);
/* Unsigned sizes as JSON integers (json_int_t is signed: values above INT64_MAX are clamped,
 * which no byte count reaches). */
json_t *json_u64(uint64_t v);
/* "EACCES" for 13, "E<number>" (written into buf of len bytes) for unknown values; a negative
 * errnum is taken as -errno. */
const char *errno_name(int errnum, char *buf, size_t len);

/* Building documents member by member: jansson's stealing setters fail on a NULL value (an
 * allocation that failed). json_put / json_push record the failure in *err (-ENOMEM) and go
 * on; json_done returns o, or drops it and returns NULL when anything failed. */
void json_put(json_t *o, const char *key, json_t *v, int *err);
void json_push(json_t *a, json_t *v, int *err);
json_t *json_done(json_t *o, int err);
