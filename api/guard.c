/* guard.c: bearer tokens, Host allow-list, loopback addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "api/dashboard_assets.h"
#include "api/guard.h"

/* Equal in time that depends on want_len only. */
static bool token_equal(const char *given, size_t given_len, const char *want, size_t want_len) {
    unsigned char diff = given_len != want_len;
    for (size_t i = 0; i < want_len; i++)
        diff |= (unsigned char)((i < given_len ? given[i] : 0) ^ want[i]);
    return diff == 0;
}

bool guard_host_valid(const char *host) {
    size_t len = strlen(host);
    const char *port;
    if (len == 0 || len > 255)
        return false;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        char v6[INET6_ADDRSTRLEN];
        unsigned char addr[sizeof(struct in6_addr)];
        size_t n = close ? (size_t)(close - host - 1) : 0;
        if (!close || n == 0 || n >= sizeof(v6))
            return false;
        memcpy(v6, host + 1, n);
        v6[n] = '\0';
        if (inet_pton(AF_INET6, v6, addr) != 1)
            return false;
        port = close + 1;
    } else {
        size_t n = strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-._~");
        if (n == 0)
            return false;
        port = host + n;
    }
    if (*port == '\0')
        return true;
    size_t digits = strspn(port + 1, "0123456789");
    return port[0] == ':' && digits <= 5 && port[1 + digits] == '\0';
}

bool guard_host_allowed(const struct api_guard *g, const char *host) {
    char name[256];
    size_t len = strlen(host);
    if (len == 0 || len >= sizeof(name))
        return false;
    /* Split off the port: "[v6]:port", "[v6]", "name:port", "v4:port". */
    const char *start = host, *end = host + len;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', len);
        if (!close || (close[1] && close[1] != ':'))
            return false;
        start = host + 1;
        end = close;
    } else {
        const char *colon = memchr(host, ':', len);
        if (colon) {
            if (memchr(colon + 1, ':', (size_t)(host + len - colon - 1)))
                return false; /* a bare IPv6 literal is not a valid Host */
            end = colon;
        }
    }
    const char *port = *end == ']' ? end + 1 : end;
    if (*port == ':') {
        size_t n = strlen(port + 1);
        if (n == 0 || n > 5 || strspn(port + 1, "0123456789") != n)
            return false;
    }
    size_t n = (size_t)(end - start);
    if (n == 0)
        return false;
    memcpy(name, start, n);
    name[n] = '\0';
    unsigned char addr[sizeof(struct in6_addr)];
    if (host[0] == '[')
        return inet_pton(AF_INET6, name, addr) == 1;
    if (inet_pton(AF_INET, name, addr) == 1)
        return true;
    if (n > 1 && name[n - 1] == '.')
        name[--n] = '\0'; /* "localhost." is "localhost" */
    if (strcasecmp(name, "localhost") == 0)
        return true;
    for (size_t i = 0; i < g->nhosts; i++)
        if (strcasecmp(name, g->hosts[i]) == 0)
            return true;
    return false;
}

enum guard_verdict guard_check(const struct api_guard *g, bool loopback_listener,
                               const char *path, const char *authorization, const char *host) {
    if ((loopback_listener || g->nhosts > 0) && host && !guard_host_allowed(g, host))
        return GUARD_BAD_HOST;
    /* The dashboard's static files hold no data, and a browser cannot add the token to a
     * navigation: the page asks for it and sends it on its own requests. */
    if (!g->token || strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
        dashboard_find(path))
        return GUARD_OK;
    static const char bearer[] = "Bearer ";
    if (!authorization || strncasecmp(authorization, bearer, sizeof(bearer) - 1) != 0)
        return GUARD_NO_TOKEN;
    const char *t = authorization + sizeof(bearer) - 1;
    while (*t == ' ')
        t++;
    size_t tlen = strlen(t);
    while (tlen > 0 && (t[tlen - 1] == ' ' || t[tlen - 1] == '\t'))
        tlen--;
    return token_equal(t, tlen, g->token, g->token_len) ? GUARD_OK : GUARD_BAD_TOKEN;
}

bool guard_is_loopback(const struct sockaddr *sa, socklen_t len) {
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a = (const void *)sa;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const void *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}
