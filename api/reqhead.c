/* reqhead.c: the strict request-head check (see reqhead.h). One pass over the lines; nothing
 * is copied and nothing is trusted: every byte is classified before it is used. */
#include "reqhead.h"

#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2): the bytes of methods and field names. */
static bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A request-target byte: RFC 3986 unreserved, sub-delims, ':', '@', '/', '?', '%' (checked
 * apart), and '[' ']' (IP literals of the absolute form; clients send them raw in queries). */
static bool is_target_char(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("-._~!$&'()*+,;=:@/?%[]", c) != NULL;
}

static bool is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* field-value bytes (RFC 9110 5.5): VCHAR, obs-text, SP, HTAB. */
static bool is_value_char(unsigned char c) {
    return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

bool reqhead_field_name_ok(const char *s, size_t n) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

bool reqhead_target_ok(const char *s, size_t n, enum reqhead_error *why) {
    enum reqhead_error e = REQHEAD_OK;
    if (n == 0)
        e = REQHEAD_REQUEST_LINE;
    for (size_t i = 0; i < n && e == REQHEAD_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_target_char(c))
            e = REQHEAD_TARGET;
        else if (c == '%' && (n - i < 3 || !is_hex((unsigned char)s[i + 1]) ||
                              !is_hex((unsigned char)s[i + 2])))
            e = REQHEAD_PERCENT;
    }
    if (why)
        *why = e;
    return e == REQHEAD_OK;
}

/* The next line of buf[pos..n): its length without the terminator in *len, the terminator's
 * length in *eol. 0 when the line is not complete yet, -1 for a CR that is not before LF. */
static int next_line(const char *buf, size_t n, size_t pos, size_t *len, size_t *eol) {
    const char *lf = memchr(buf + pos, '\n', n - pos);
    size_t end = lf ? (size_t)(lf - buf) : n;
    const char *cr = memchr(buf + pos, '\r', end - pos);
    if (cr && (!lf || cr + 1 != lf))
        return !lf && cr == buf + n - 1 ? 0 : -1; /* a CR last: its LF may follow */
    if (!lf)
        return 0;
    *len = (size_t)(cr ? cr - (buf + pos) : lf - (buf + pos));
    *eol = cr ? 2 : 1;
    return 1;
}

/* Whether the start of a line not complete yet, l[0..n), can begin a valid line. */
static enum reqhead_error check_partial(const char *l, size_t n, bool request_line) {
    size_t i = 0;
    if (request_line) {
        for (; i < n && l[i] != ' '; i++)
            if (!is_tchar((unsigned char)l[i]))
                return REQHEAD_METHOD;
        for (i++; i < n && l[i] != ' '; i++)
            if (!is_target_char((unsigned char)l[i]))
                return REQHEAD_TARGET;
        return REQHEAD_OK;
    }
    if (n > 0 && (l[0] == ' ' || l[0] == '\t'))
        return REQHEAD_OBS_FOLD;
    for (; i < n && l[i] != ':'; i++)
        if (!is_tchar((unsigned char)l[i]))
            return REQHEAD_FIELD_NAME;
    for (i++; i < n; i++)
        if (!is_value_char((unsigned char)l[i]))
            return REQHEAD_FIELD_VALUE;
    return REQHEAD_OK;
}

/* "METHOD SP TARGET SP HTTP/1.x", exactly; *needs_host for HTTP/1.1 and later minors. */
static enum reqhead_error check_request_line(const char *l, size_t n, size_t params_max,
                                             bool *needs_host) {
    const char *sp1 = memchr(l, ' ', n);
    if (!sp1 || sp1 == l)
        return REQHEAD_REQUEST_LINE;
    for (const char *p = l; p < sp1; p++)
        if (!is_tchar((unsigned char)*p))
            return REQHEAD_METHOD;
    const char *t = sp1 + 1, *end = l + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2)
        return REQHEAD_REQUEST_LINE;
    enum reqhead_error e;
    if (!reqhead_target_ok(t, (size_t)(sp2 - t), &e))
        return e;
    const char *q = memchr(t, '?', (size_t)(sp2 - t));
    size_t params = q != NULL;
    for (const char *p = q; p && p < sp2 && params <= params_max; p++)
        params += *p == '&';
    if (params > params_max)
        return REQHEAD_PARAMS;
    const char *v = sp2 + 1;
    if ((size_t)(end - v) != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[7] < '0' ||
        v[7] > '9')
        return memchr(v, ' ', (size_t)(end - v)) ? REQHEAD_REQUEST_LINE : REQHEAD_VERSION;
    *needs_host = v[7] != '0';
    return v[5] == '1' ? REQHEAD_OK : REQHEAD_VERSION;
}

struct framing {
    unsigned content_lengths;
    unsigned hosts;
    bool body;
};

/* name ":" OWS value OWS, and what it says about a body. */
static enum reqhead_error check_field(const char *l, size_t n, struct framing *f) {
    if (l[0] == ' ' || l[0] == '\t')
        return REQHEAD_OBS_FOLD;
    const char *colon = memchr(l, ':', n);
    if (!colon || !reqhead_field_name_ok(l, (size_t)(colon - l)))
        return REQHEAD_FIELD_NAME;
    size_t name_len = (size_t)(colon - l);
    const char *v = colon + 1, *end = l + n;
    for (const char *p = v; p < end; p++)
        if (!is_value_char((unsigned char)*p))
            return REQHEAD_FIELD_VALUE;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
#define NAME_IS(s) (name_len == sizeof(s) - 1 && strncasecmp(l, s, sizeof(s) - 1) == 0)
    if (NAME_IS(REQHEAD_GATE_HEADER))
        return REQHEAD_RESERVED;
    if (NAME_IS("Host"))
        f->hosts++;
    if (NAME_IS("Transfer-Encoding"))
        f->body = true;
    if (NAME_IS("Content-Length")) {
        if (v == end || ++f->content_lengths > 1)
            return REQHEAD_CONTENT_LENGTH;
        for (const char *p = v; p < end; p++) {
            if (*p < '0' || *p > '9')
                return REQHEAD_CONTENT_LENGTH;
            f->body |= *p != '0';
        }
    }
#undef NAME_IS
    return REQHEAD_OK;
}

static enum reqhead_status invalid(struct reqhead *out, enum reqhead_error e) {
    out->len = 0;
    out->error = e;
    return REQHEAD_INVALID;
}

enum reqhead_status reqhead_check(const char *buf, size_t n, const struct reqhead_limits *lim,
                                  struct reqhead *out) {
    size_t pos = 0, len = 0, eol = 0;
    bool request_line = true, needs_host = false;
    struct framing f = {0};
    *out = (struct reqhead){0};
    for (;;) {
        int r = next_line(buf, n, pos, &len, &eol);
        if (r < 0)
            return invalid(out, REQHEAD_BARE_CR);
        if (r == 0) { /* an incomplete line: may it still fit, and begin a valid one? */
            size_t part = n - pos - (n > pos && buf[n - 1] == '\r'); /* without a last CR */
            if (request_line && part > lim->line_max)
                return invalid(out, REQHEAD_LINE_TOO_LONG);
            if (n > lim->head_max)
                return invalid(out, REQHEAD_TOO_LARGE);
            enum reqhead_error e = check_partial(buf + pos, part, request_line);
            return e == REQHEAD_OK ? REQHEAD_INCOMPLETE : invalid(out, e);
        }
        if (request_line && len == 0) { /* empty lines before the request line */
            pos += eol;
            continue;
        }
        if (pos + len + eol > lim->head_max || (request_line && len > lim->line_max))
            return invalid(out, request_line && len > lim->line_max ? REQHEAD_LINE_TOO_LONG
                                                                    : REQHEAD_TOO_LARGE);
        if (len == 0) { /* the empty line: the end of the head */
            if (f.body)
                return invalid(out, REQHEAD_BODY);
            if (f.hosts > 1 || (needs_host && f.hosts == 0))
                return invalid(out, REQHEAD_HOST);
            out->len = pos + eol;
            return REQHEAD_COMPLETE;
        }
        enum reqhead_error e =
            request_line ? check_request_line(buf + pos, len, lim->params_max, &needs_host)
                         : check_field(buf + pos, len, &f);
        if (e != REQHEAD_OK)
            return invalid(out, e);
        request_line = false;
        pos += len + eol;
    }
}

static const struct {
    unsigned status;
    const char *message;
} errors[REQHEAD_ERROR_COUNT] = {
    [REQHEAD_OK] = {200, "ok"},
    [REQHEAD_REQUEST_LINE] = {400, "the request line is not METHOD SP TARGET SP HTTP/1.x"},
    [REQHEAD_METHOD] = {400, "the method has a byte that is not a token character"},
    [REQHEAD_TARGET] = {400, "the request target has a byte RFC 3986 does not allow "
                             "(percent-encode it)"},
    [REQHEAD_PERCENT] = {400, "the request target has a '%' not followed by two hex digits"},
    [REQHEAD_VERSION] = {400, "only HTTP/1.0 and HTTP/1.1 are spoken here"},
    [REQHEAD_FIELD_NAME] = {400, "a header line has no name, or a name with a byte that is "
                                 "not a token character"},
    [REQHEAD_FIELD_VALUE] = {400, "a header value has a control byte (NUL, CR, DEL...)"},
    [REQHEAD_OBS_FOLD] = {400, "a header line starts with a space or a tab "
                               "(obsolete line folding)"},
    [REQHEAD_BARE_CR] = {400, "a CR that does not end a line"},
    [REQHEAD_BODY] = {413, "requests take no body"},
    [REQHEAD_CONTENT_LENGTH] = {400, "Content-Length is not one decimal number"},
    [REQHEAD_RESERVED] = {400, "the " REQHEAD_GATE_HEADER " header is reserved"},
    [REQHEAD_HOST] = {400, "an HTTP/1.1 request needs exactly one Host header"},
    [REQHEAD_PARAMS] = {414, "too many query parameters"},
    [REQHEAD_LINE_TOO_LONG] = {414, "request line too long"},
    [REQHEAD_TOO_LARGE] = {431, "request head too large"},
    [REQHEAD_TRUNCATED] = {400, "the request head ends before its empty line"},
};

unsigned reqhead_error_status(enum reqhead_error e) {
    return (unsigned)e < REQHEAD_ERROR_COUNT ? errors[e].status : 400;
}

const char *reqhead_error_message(enum reqhead_error e) {
    return (unsigned)e < REQHEAD_ERROR_COUNT ? errors[e].message : "bad request";
}
