/* users.c: a small cache of user names by uid (getpwuid_r through NSS). */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "collector/users.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

struct user_entry {
    uint32_t uid;
    uint64_t at_ns;
    char *name; /* NULL: no such user */
};

struct user_cache {
    struct user_entry *entries; /* sorted by uid */
    size_t n, cap;
};

int user_cache_new(struct user_cache **ret) {
    struct user_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    *ret = c;
    return 0;
}

struct user_cache *user_cache_free(struct user_cache *c) {
    if (c) {
        for (size_t i = 0; i < c->n; i++)
            free(c->entries[i].name);
        free(c->entries);
        free(c);
    }
    return NULL;
}

static char *lookup(uint32_t uid) {
    char buf[4096];
    struct passwd pw, *res = NULL;
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) != 0 || !res || !res->pw_name)
        return NULL;
    return strdup(res->pw_name);
}

const char *user_cache_name(struct user_cache *c, uint32_t uid, uint64_t now_ns,
                            uint64_t max_age_ns) {
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->entries[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->n && c->entries[lo].uid == uid) {
        struct user_entry *e = &c->entries[lo];
        if (now_ns - e->at_ns > max_age_ns) {
            free(e->name);
            e->name = lookup(uid);
            e->at_ns = now_ns;
        }
        return e->name;
    }
    if (c->n >= VM_USER_CACHE_MAX) /* full: unknown users stay unnamed */
        return NULL;
    if (GROW(c->entries, c->cap, c->n + 1) < 0)
        return NULL;
    memmove(&c->entries[lo + 1], &c->entries[lo], (c->n - lo) * sizeof(*c->entries));
    c->entries[lo] = (struct user_entry){.uid = uid, .at_ns = now_ns, .name = lookup(uid)};
    c->n++;
    return c->entries[lo].name;
}
