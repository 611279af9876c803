/* users.h: uid -> user name, cached across scans. */
#pragma once

#include <stdint.h>

struct user_cache;

/* Returns 0 and a new empty cache, or -ENOMEM. */
int user_cache_new(struct user_cache **ret);
/* Accepts NULL; returns NULL. */
struct user_cache *user_cache_free(struct user_cache *c);

/* The user name of uid (getpwuid_r, through NSS), or NULL when there is none. Entries older
 * than max_age_ns (by now_ns, monotonic) are looked up again. The string belongs to the cache
 * and stays valid until the next call. */
const char *user_cache_name(struct user_cache *c, uint32_t uid, uint64_t now_ns,
                            uint64_t max_age_ns);
