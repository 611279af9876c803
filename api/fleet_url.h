/* fleet_url.h: peer URLs (--peers, --peers-file) and the node name each one gets.
 *
 * A peer is "http://HOST[:PORT][/PATH]" or "https://...": a base under which its /api/v1/...
 * documents live (PATH for a daemon behind a reverse proxy). Its `node` is the URL's
 * "host:port" (the scheme's port when none is written; IPv6 in brackets), so several daemons
 * on one host stay apart (API.md). Credentials in the URL, a query, a fragment, other schemes
 * and bytes outside printable ASCII are refused: tokens come from --auth-token-file.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct fleet_url {
    char *url;  /* normalized: lower-case scheme and host, no trailing '/' */
    char *node; /* "host:port", "[v6]:port" */
    char *path; /* "" or "/prefix" (no trailing '/') */
    bool https;
};

/* Parse one URL from s[0..len) (no NUL needed; surrounding spaces are not trimmed). Returns 0
 * and fills *ret (strings malloc'd, freed with fleet_url_done), or -EINVAL with a message in
 * err, or -ENOMEM. *ret is untouched on failure. */
int fleet_url_parse(const char *s, size_t len, struct fleet_url *ret, char *err, size_t errlen);
void fleet_url_done(struct fleet_url *u);
/* A deep copy of u into *ret. 0 or -ENOMEM (*ret untouched). */
int fleet_url_copy(const struct fleet_url *u, struct fleet_url *ret);

/* A list of peers: URLs separated by commas or newlines; '#' starts a comment that runs to the
 * end of its line; spaces, tabs and '\r' around a URL are ignored, empty entries too. Appends to
 * (*list, *n) (which may hold URLs already: duplicates are refused by node, across both), at
 * most VM_FLEET_PEERS_MAX in all. Returns 0, or -EINVAL (err says which entry and why; the
 * list is then as it was) or -ENOMEM. what names the source in messages ("--peers", a path). */
int fleet_urls_parse(const char *buf, size_t len, const char *what, struct fleet_url **list,
                     size_t *n, char *err, size_t errlen);

/* Free every URL of list[0..n) and the array. Accepts NULL; returns NULL. */
struct fleet_url *fleet_urls_free(struct fleet_url *list, size_t n);
