/* guard.h: who may ask what: the bearer token, the Host allow-list (DNS rebinding), and
 * whether an address is loopback. Pure functions over header values, so they are tested and
 * fuzzed without a server. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct api_guard {
    const char *token;           /* bearer token; NULL: no authentication */
    size_t token_len;
    const char *const *hosts;    /* extra Host names allowed (besides IP literals, localhost) */
    size_t nhosts;
};

enum guard_verdict {
    GUARD_OK,
    GUARD_NO_TOKEN,    /* 401: no "Authorization: Bearer" */
    GUARD_BAD_TOKEN,   /* 401: a token that is not the one */
    GUARD_BAD_HOST,    /* 403: a Host header that is not allowed */
};

/* The verdict on a request to path with the given Authorization and Host header values (NULL:
 * absent). /healthz, /readyz and the dashboard's static files need no token. The Host header is checked when the listener is
 * loopback (a browser tricked by DNS rebinding sends the attacker's name) or an allow-list is
 * set: IP literals (any port), "localhost" and the listed names pass. The token comparison
 * takes the same time whatever the given token's bytes. */
enum guard_verdict guard_check(const struct api_guard *g, bool loopback_listener,
                               const char *path, const char *authorization, const char *host);

/* Whether a bound address is loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
bool guard_is_loopback(const struct sockaddr *sa, socklen_t len);

/* Whether a Host header value is well formed (RFC 9110 7.2): a reg-name of letters, digits,
 * '-', '.', '_' and '~', an IPv4 address or a bracketed IPv6 one, then an optional ":port". */
bool guard_host_valid(const char *host);

/* Whether a Host header value (name or IP literal, optional ":port", IPv6 in brackets) is
 * allowed by g's list, being an IP literal, or "localhost". Exposed for the fuzzer. */
bool guard_host_allowed(const struct api_guard *g, const char *host);
