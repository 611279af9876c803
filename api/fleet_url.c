/* fleet_url.c: peer URLs and lists of them (--peers, --peers-file), parsed strictly from
 * (buf, len): the result is what the fetcher requests and the `node` every document names. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/fleet_url.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}
static bool is_hex(char c) {
    return is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f');
}

/* Path bytes: RFC 3986 unreserved, sub-delims but ',' (the list separator), ':', '@', '/',
 * and '%' followed by two hex digits. */
static bool path_ok(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (is_alpha(c) || is_digit(c) || strchr("-._~!$&'()*+;=:@/", c))
            continue;
        if (c == '%' && i + 2 < n && is_hex(p[i + 1]) && is_hex(p[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

int fleet_url_parse(const char *s, size_t len, struct fleet_url *ret, char *err, size_t errlen) {
    if (len == 0)
        return fail(err, errlen, "empty URL");
    if (len > VM_FLEET_URL_MAX)
        return fail(err, errlen, "URL longer than %u bytes", VM_FLEET_URL_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return fail(err, errlen, "URL with a space, control or non-ASCII byte");
    /* For messages: the URL is printable ASCII now. */
    int shown = len > 200 ? 200 : (int)len;

    bool https;
    size_t off;
    if (len >= 7 && strncasecmp(s, "http://", 7) == 0)
        https = false, off = 7;
    else if (len >= 8 && strncasecmp(s, "https://", 8) == 0)
        https = true, off = 8;
    else
        return fail(err, errlen, "\"%.*s\": only http:// and https:// URLs", shown, s);

    size_t auth_end = off;
    while (auth_end < len && s[auth_end] != '/' && s[auth_end] != '?' && s[auth_end] != '#')
        auth_end++;
    if (memchr(s + off, '@', auth_end - off))
        return fail(err, errlen, "\"%.*s\": no credentials in the URL (use --auth-token-file)",
                    shown, s);
    if (auth_end < len && (s[auth_end] == '?' || s[auth_end] == '#'))
        return fail(err, errlen, "\"%.*s\": no query or fragment in a peer URL", shown, s);
    for (size_t i = auth_end; i < len; i++)
        if (s[i] == '?' || s[i] == '#')
            return fail(err, errlen, "\"%.*s\": no query or fragment in a peer URL", shown, s);

    /* Host: "[v6]" or a name / IPv4 of letters, digits, '-' and '.'. */
    const char *host = s + off;
    size_t hlen, port_at;
    bool v6 = false;
    if (off < auth_end && s[off] == '[') {
        const char *close = memchr(s + off, ']', auth_end - off);
        if (!close)
            return fail(err, errlen, "\"%.*s\": unterminated [IPv6] address", shown, s);
        hlen = (size_t)(close - host) + 1;
        for (size_t i = 1; i + 1 < hlen; i++)
            if (!is_hex(host[i]) && host[i] != ':' && host[i] != '.')
                return fail(err, errlen, "\"%.*s\": bad IPv6 address", shown, s);
        if (hlen < 4)
            return fail(err, errlen, "\"%.*s\": bad IPv6 address", shown, s);
        v6 = true;
    } else {
        hlen = 0;
        while (off + hlen < auth_end && s[off + hlen] != ':')
            hlen++;
        for (size_t i = 0; i < hlen; i++)
            if (!is_alpha(host[i]) && !is_digit(host[i]) && host[i] != '-' && host[i] != '.')
                return fail(err, errlen, "\"%.*s\": bad host name", shown, s);
    }
    if (hlen == 0 || (!v6 && hlen > 253))
        return fail(err, errlen, "\"%.*s\": no host (or a host name that is too long)", shown, s);
    port_at = off + hlen;

    unsigned long port = https ? 443 : 80;
    if (port_at < auth_end) {
        if (s[port_at] != ':')
            return fail(err, errlen, "\"%.*s\": bad host", shown, s);
        size_t plen = auth_end - port_at - 1;
        if (plen == 0 || plen > 5)
            return fail(err, errlen, "\"%.*s\": bad port", shown, s);
        port = 0;
        for (size_t i = 0; i < plen; i++) {
            char c = s[port_at + 1 + i];
            if (!is_digit(c))
                return fail(err, errlen, "\"%.*s\": bad port", shown, s);
            port = port * 10 + (unsigned long)(c - '0');
        }
        if (port == 0 || port > 65535)
            return fail(err, errlen, "\"%.*s\": port must be 1 to 65535", shown, s);
    }

    /* Path: kept as written, trailing '/' removed ("http://h:1/" is "http://h:1"). */
    const char *path = s + auth_end;
    size_t plen = len - auth_end;
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    if (!path_ok(path, plen))
        return fail(err, errlen, "\"%.*s\": bad byte in the path", shown, s);

    char hostbuf[256 + 2];
    if (hlen >= sizeof(hostbuf))
        return fail(err, errlen, "\"%.*s\": host too long", shown, s);
    for (size_t i = 0; i < hlen; i++)
        hostbuf[i] = lower(host[i]);
    hostbuf[hlen] = 0;

    struct fleet_url u = {.https = https};
    char *url = NULL, *node = NULL, *p = NULL;
    if (asprintf(&node, "%s:%lu", hostbuf, port) < 0)
        node = NULL;
    if (asprintf(&url, "%s://%s:%lu%.*s", https ? "https" : "http", hostbuf, port, (int)plen,
                 path) < 0)
        url = NULL;
    p = strndup(path, plen);
    if (!url || !node || !p) {
        free(url), free(node), free(p);
        return -ENOMEM;
    }
    u.url = url, u.node = node, u.path = p;
    *ret = u;
    return 0;
}

void fleet_url_done(struct fleet_url *u) {
    if (!u)
        return;
    free(u->url), free(u->node), free(u->path);
    u->url = u->node = u->path = NULL;
}

int fleet_url_copy(const struct fleet_url *u, struct fleet_url *ret) {
    struct fleet_url c = {
        .url = strdup(u->url), .node = strdup(u->node), .path = strdup(u->path), .https = u->https};
    if (!c.url || !c.node || !c.path) {
        fleet_url_done(&c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

struct fleet_url *fleet_urls_free(struct fleet_url *list, size_t n) {
    for (size_t i = 0; list && i < n; i++)
        fleet_url_done(&list[i]);
    free(list);
    return NULL;
}

int fleet_urls_parse(const char *buf, size_t len, const char *what, struct fleet_url **list,
                     size_t *n, char *err, size_t errlen) {
    size_t n0 = *n, cap = *n, line = 1;
    struct fleet_url *l = *list;
    int r = 0;
    what = what ? what : "peers";
    for (size_t i = 0; i < len && r == 0;) {
        /* One entry: up to ',' or '\n'; a '#' comments out the rest of its line. */
        size_t start = i, end;
        while (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '#')
            i++;
        end = i;
        if (i < len && buf[i] == '#')
            while (i < len && buf[i] != '\n')
                i++;
        bool newline = i < len && buf[i] == '\n';
        if (i < len)
            i++; /* the separator */
        while (start < end && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\r'))
            start++;
        while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t' || buf[end - 1] == '\r'))
            end--;
        size_t this_line = line;
        if (newline)
            line++;
        if (start == end)
            continue;
        if (*n >= VM_FLEET_PEERS_MAX) {
            r = fail(err, errlen, "%s: more than %u peers", what, VM_FLEET_PEERS_MAX);
            break;
        }
        char msg[384];
        struct fleet_url u;
        r = fleet_url_parse(buf + start, end - start, &u, msg, sizeof(msg));
        if (r == -EINVAL) {
            (void)fail(err, errlen, "%s line %zu: %s", what, this_line, msg);
            break;
        }
        if (r < 0)
            break;
        for (size_t k = 0; k < *n; k++)
            if (strcmp(l[k].node, u.node) == 0) {
                r = fail(err, errlen, "%s line %zu: peer %s is listed twice (as %s and %s)", what,
                         this_line, u.node, l[k].url, u.url);
                break;
            }
        if (r == 0 && GROW(l, cap, *n + 1) < 0)
            r = -ENOMEM;
        if (r < 0) {
            fleet_url_done(&u);
            break;
        }
        l[(*n)++] = u;
    }
    if (r < 0) {
        /* Back to what the caller had. */
        for (size_t k = n0; k < *n; k++)
            fleet_url_done(&l[k]);
        *n = n0;
    }
    *list = l;
    return r;
}
