/* test_reqhead.c: the strict request-head check (api/reqhead.c) on raw bytes. Valid heads and
 * their length (CRLF and LF, leading empty lines, pipelined data after the head); every proper
 * prefix of a valid head INCOMPLETE (early rejection never fires on the start of a valid head);
 * each kind of invalid head with its error, whole and as early as a partial line shows it; the
 * limits at their edge and one byte past; the target and field-name pieces; the error table.
 * Every input is an exact heap copy, so ASan reports a read past its end. */
#include "api/reqhead.h"
#include "test.h"

/* Small limits, so the edges are a few hundred bytes away. */
static const struct reqhead_limits LIM = {.line_max = 64, .head_max = 256, .params_max = 8};

/* reqhead_check() of s[0..n) must give status st, error e and length len (out is reset on
 * every return: INCOMPLETE and INVALID have len 0, COMPLETE and INCOMPLETE error REQHEAD_OK). */
static void expect_at(int line, const char *s, size_t n, enum reqhead_status st,
                      enum reqhead_error e, size_t len) {
    char *p = exact(s, n);
    struct reqhead h = {.len = 99999, .error = REQHEAD_ERROR_COUNT};
    enum reqhead_status got = reqhead_check(p, n, &LIM, &h);
    free(p);
    if (got != st || h.error != e || h.len != len) {
        fprintf(stderr, "%s:%d: want status %d error %d len %zu, got status %d error %d len %zu\n",
                __FILE__, line, (int)st, (int)e, len, (int)got, (int)h.error, h.len);
        test_failures++;
    }
}
#define EXPECT_N(s, n, st, e, len) expect_at(__LINE__, s, n, st, e, len)
#define EXPECT(lit, st, e, len) expect_at(__LINE__, lit, sizeof(lit) - 1, st, e, len)
/* The whole literal is one valid head. */
#define VALID(lit) EXPECT(lit, REQHEAD_COMPLETE, REQHEAD_OK, sizeof(lit) - 1)
#define INCOMPLETE(lit) EXPECT(lit, REQHEAD_INCOMPLETE, REQHEAD_OK, 0)
#define INVALID(lit, e) EXPECT(lit, REQHEAD_INVALID, e, 0)

/* s[0..n) is one valid head, and every proper prefix of it is INCOMPLETE. */
static void prefixes_at(int line, const char *s, size_t n) {
    expect_at(line, s, n, REQHEAD_COMPLETE, REQHEAD_OK, n);
    for (size_t k = 0; k < n; k++) {
        char *p = exact(s, k);
        struct reqhead h;
        enum reqhead_status got = reqhead_check(p, k, &LIM, &h);
        free(p);
        if (got != REQHEAD_INCOMPLETE) {
            fprintf(stderr, "%s:%d: prefix %zu/%zu: status %d error %d, want INCOMPLETE\n",
                    __FILE__, line, k, n, (int)got, (int)h.error);
            test_failures++;
        }
    }
}
#define PREFIXES(lit) prefixes_at(__LINE__, lit, sizeof(lit) - 1)

#define GET11 "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"

static void test_valid(void) {
    VALID(GET11);
    VALID("GET /api/v1/node HTTP/1.0\r\n\r\n"); /* HTTP/1.0 needs no Host */
    VALID("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
    VALID("GET / HTTP/1.1\nHost: a\n\n");     /* bare LF line ends */
    VALID("GET / HTTP/1.1\r\nHost: a\n\r\n"); /* mixed */
    VALID("GET / HTTP/1.1\nHost: a\r\n\n");
    VALID("GET / HTTP/1.2\r\nHost: a\r\n\r\n"); /* a later HTTP/1 minor is HTTP/1.1 */
    /* Empty lines before the request line are skipped and counted in len. */
    EXPECT("\r\n\n\r\nGET / HTTP/1.0\r\n\r\n", REQHEAD_COMPLETE, REQHEAD_OK, 23);
    EXPECT("\n\nGET / HTTP/1.0\n\n", REQHEAD_COMPLETE, REQHEAD_OK, 18);
    /* Pipelined: len stops at the end of the first head, whatever follows. */
    EXPECT(GET11 "GET /b HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_COMPLETE, REQHEAD_OK,
           sizeof(GET11) - 1);
    EXPECT(GET11 "GET /b HT", REQHEAD_COMPLETE, REQHEAD_OK, sizeof(GET11) - 1);
    EXPECT(GET11 "\xff\0\r garbage", REQHEAD_COMPLETE, REQHEAD_OK, sizeof(GET11) - 1);
    EXPECT("GET / HTTP/1.0\n\n\n\n", REQHEAD_COMPLETE, REQHEAD_OK, 16);
    /* Values: obs-text (0x80-0xff) and tabs are field-value bytes; OWS around them. */
    VALID("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: caf\xc3\xa9\t\x80\xff~\r\n\r\n");
    VALID("GET / HTTP/1.1\r\nHost: \t localhost \t\r\nAccept:*/*\r\nX-Empty:\r\n\r\n");
    VALID("GET / HTTP/1.1\r\nHost:\r\n\r\n"); /* empty Host: a target without authority */
    VALID("GET / HTTP/1.1\r\nHOST: a\r\nhost-x: b\r\n\r\n");
    /* Content-Length 0 is no body; OWS around it. */
    VALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    VALID("GET / HTTP/1.1\r\nHost: a\r\ncontent-length:\t000 \t\r\n\r\n");
    /* Targets: query with percent-escapes, absolute form, IP literal, asterisk form. */
    VALID("GET /p?q=%2Fusr%2fbin%20x&sort=rss&n=10 HTTP/1.1\r\nHost: a\r\n\r\n");
    VALID("GET http://127.0.0.1:9477/metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9477\r\n\r\n");
    VALID("GET http://[::1]:9477/ HTTP/1.1\r\nHost: [::1]:9477\r\n\r\n");
    VALID("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    VALID("GET /a-._~!$&'()*+,;=:@/?%41[] HTTP/1.1\r\nHost: a\r\n\r\n");
    /* Methods are tokens, whatever their name. */
    VALID("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n");
    VALID("X!#$%&'*+-.^_`|~9 / HTTP/1.1\r\nHost: a\r\n\r\n");
}

/* Every proper prefix of a valid head is INCOMPLETE. */
static void test_prefixes(void) {
    PREFIXES(GET11);
    PREFIXES("GET / HTTP/1.1\nHost: a\nAccept: */*\n\n");
    PREFIXES("\r\n\nGET /api/v1/node?pid=1&x=%41 HTTP/1.0\r\nUser-Agent: caf\xc3\xa9\t\x80\r\n"
             "Content-Length: 0\r\n\r\n");
    PREFIXES("GET http://[::1]:9477/metrics HTTP/1.1\r\nHost: [::1]:9477\r\n\r\n");
    PREFIXES("OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n");
    PREFIXES("GET / HTTP/1.1\r\nHost:\r\n\r\n");
}

/* The end of a buffer between the CR and the LF of a line end: the start of a valid head
 * whose CR and LF arrive in two reads (the gate once answered those with 400). */
static void test_cr_lf_split(void) {
    INCOMPLETE("\r");
    INCOMPLETE("GET / HTTP/1.1\r");
    INCOMPLETE("GET / HTTP/1.1\r\nHost: a\r");
    INCOMPLETE("GET / HTTP/1.1\r\nHost: a\r\n\r");
    /* And at the edge of the line limit: a request line of exactly line_max bytes, then CR. */
    char line[128];
    memset(line, 'a', sizeof(line));
    memcpy(line, "GET /", 5);
    memcpy(line + LIM.line_max - 9, " HTTP/1.0\r", 10);
    /* (The partial line's length does not count the CR.) */
    EXPECT_N(line, LIM.line_max + 1, REQHEAD_INCOMPLETE, REQHEAD_OK, 0);
    /* The CR is bare as soon as a byte other than LF follows it. */
    INVALID("\rG", REQHEAD_BARE_CR);
    INVALID("GET / HTTP/1.1\rX", REQHEAD_BARE_CR);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\r", REQHEAD_BARE_CR);
}

static void test_request_line(void) {
    /* NUL, 8-bit and space in the target. */
    INVALID("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_TARGET);
    INVALID("GET /a?x=\0 HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_TARGET);
    INVALID("GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_TARGET);
    INVALID("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_TARGET);
    INVALID("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_TARGET);
    INVALID("GET /a\"<>\\^`{|} HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_TARGET);
    INVALID("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_TARGET);
    /* A space in the target ends it: what follows is no version. */
    INVALID("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_REQUEST_LINE);
    /* Percent-escapes. */
    INVALID("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_PERCENT);
    INVALID("GET /a%4 HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_PERCENT);
    INVALID("GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_PERCENT);
    INVALID("GET /?x=%4g HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_PERCENT);
    /* Versions: HTTP/1.x only, exactly. */
    INVALID("GET / HTTP/2.0\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / HTTP/9.9\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / HTTP/0.9\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / http/1.1\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / HTTP/1.10\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / HTTP/1.x\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / HTTP/1\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / HTTP/1.1\0\r\nHost: a\r\n\r\n", REQHEAD_VERSION);
    INVALID("GET / \r\nHost: a\r\n\r\n", REQHEAD_VERSION); /* an empty version */
    INVALID("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", REQHEAD_REQUEST_LINE);
    INVALID("GET /\r\nHost: a\r\n\r\n", REQHEAD_REQUEST_LINE); /* no version */
    INVALID("GET\r\n\r\n", REQHEAD_REQUEST_LINE);
    /* The HTTP/2 connection preface. */
    INVALID("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", REQHEAD_VERSION);
    /* Separators: one SP each, nothing else. */
    INVALID("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_REQUEST_LINE);
    INVALID("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_REQUEST_LINE);
    INVALID(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_REQUEST_LINE);
    INVALID("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_METHOD);
    /* Methods. */
    INVALID("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_METHOD);
    INVALID("G\xc3\x89T / HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_METHOD);
    INVALID("GET\0 / HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_METHOD);
    /* A line of NULs: no SP, so no request line at all. */
    INVALID("\0\0\0\0\r\n\r\n", REQHEAD_REQUEST_LINE);
    INVALID("\r\n\0\r\n\r\n", REQHEAD_REQUEST_LINE);
}

static void test_fields(void) {
    /* Names: 1*tchar, right up to the colon. */
    INVALID("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX A: v\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost : a\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX(a): v\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX-Caf\xc3\xa9: v\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX\0Y: v\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\n\0\0\0\0\r\n\r\n", REQHEAD_FIELD_NAME);
    /* Values: no control bytes. */
    INVALID("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", REQHEAD_FIELD_VALUE);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n", REQHEAD_FIELD_VALUE);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", REQHEAD_FIELD_VALUE);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b[0m\r\n\r\n", REQHEAD_FIELD_VALUE);
    /* Obsolete line folding, also on the first field line. */
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", REQHEAD_OBS_FOLD);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", REQHEAD_OBS_FOLD);
    INVALID("GET / HTTP/1.1\r\n Host: a\r\n\r\n", REQHEAD_OBS_FOLD);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\n \r\n\r\n", REQHEAD_OBS_FOLD);
    /* Bare CR: in a value, in the target, or as a line end of its own. */
    INVALID("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", REQHEAD_BARE_CR);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", REQHEAD_BARE_CR);
    INVALID("GET / HTTP/1.1\rHost: a\r\n\r\n", REQHEAD_BARE_CR);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", REQHEAD_BARE_CR);
    INVALID("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_BARE_CR);
    INVALID("\r\r\nGET / HTTP/1.0\r\n\r\n", REQHEAD_BARE_CR);
}

static void test_framing(void) {
    /* No bodies: Transfer-Encoding whatever its value, a Content-Length other than 0. */
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", REQHEAD_BODY);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: identity\r\n\r\n", REQHEAD_BODY);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", REQHEAD_BODY);
    INVALID("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", REQHEAD_BODY);
    INVALID("GET / HTTP/1.0\r\nContent-Length: 01\r\n\r\n", REQHEAD_BODY);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: x\r\n\r\n",
            REQHEAD_BODY);
    /* Content-Length: one decimal number, once. */
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", REQHEAD_CONTENT_LENGTH);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
            REQHEAD_CONTENT_LENGTH);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
            REQHEAD_CONTENT_LENGTH);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", REQHEAD_CONTENT_LENGTH);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 0\r\n\r\n", REQHEAD_CONTENT_LENGTH);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +0\r\n\r\n", REQHEAD_CONTENT_LENGTH);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", REQHEAD_CONTENT_LENGTH);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0 0\r\n\r\n", REQHEAD_CONTENT_LENGTH);
    /* The gate's own header, in any case, whatever its value. */
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX-Vmatlas-Gate: 0\r\n\r\n", REQHEAD_RESERVED);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nx-vmatlas-gate: 1\r\n\r\n", REQHEAD_RESERVED);
    INVALID("GET / HTTP/1.0\r\nX-VMATLAS-GATE:\r\n\r\n", REQHEAD_RESERVED);
    VALID("GET / HTTP/1.1\r\nHost: a\r\nX-Vmatlas-Gates: 0\r\nX-Vmatlas-Gat: 0\r\n\r\n");
    /* Host: exactly one in HTTP/1.1, at most one in HTTP/1.0. */
    INVALID("GET / HTTP/1.1\r\n\r\n", REQHEAD_HOST);
    INVALID("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", REQHEAD_HOST);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", REQHEAD_HOST);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", REQHEAD_HOST);
    INVALID("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", REQHEAD_HOST);
}

/* Query parameters: '&'-separated after the first '?'; params_max (8) passes, 9 do not. */
static void test_params(void) {
    VALID("GET /?a HTTP/1.1\r\nHost: a\r\n\r\n");
    VALID("GET /? HTTP/1.1\r\nHost: a\r\n\r\n");
    VALID("GET /?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8 HTTP/1.1\r\nHost: a\r\n\r\n");
    VALID("GET /a&b&c&d&e&f&g&h&i&j?x HTTP/1.1\r\nHost: a\r\n\r\n"); /* '&' in the path */
    VALID("GET /?a?b?c?d?e?f?g?h?i?j HTTP/1.1\r\nHost: a\r\n\r\n");  /* one parameter */
    INVALID("GET /?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9 HTTP/1.1\r\nHost: a\r\n\r\n",
            REQHEAD_PARAMS);
    INVALID("GET /?&&&&&&&& HTTP/1.1\r\nHost: a\r\n\r\n", REQHEAD_PARAMS);
}

/* The request line and head limits, at the edge and one byte past, complete or not. */
static void test_limits(void) {
    char b[512];
    size_t lm = LIM.line_max, hm = LIM.head_max;

    /* A request line of exactly line_max bytes passes, line_max + 1 does not. */
    memset(b, 'a', sizeof(b));
    memcpy(b, "GET /", 5);
    memcpy(b + lm - 9, " HTTP/1.0\r\n\r\n", 13);
    EXPECT_N(b, lm + 4, REQHEAD_COMPLETE, REQHEAD_OK, lm + 4);
    memset(b, 'a', sizeof(b));
    memcpy(b, "GET /", 5);
    memcpy(b + lm - 8, " HTTP/1.0\r\n\r\n", 13);
    EXPECT_N(b, lm + 5, REQHEAD_INVALID, REQHEAD_LINE_TOO_LONG, 0);
    /* Not complete yet: line_max bytes may still be a request line, one more cannot. */
    memset(b, 'a', sizeof(b));
    memcpy(b, "GET /", 5);
    EXPECT_N(b, lm, REQHEAD_INCOMPLETE, REQHEAD_OK, 0);
    EXPECT_N(b, lm + 1, REQHEAD_INVALID, REQHEAD_LINE_TOO_LONG, 0);
    EXPECT_N(b, sizeof(b), REQHEAD_INVALID, REQHEAD_LINE_TOO_LONG, 0);
    /* Leading empty lines do not count in the request line. */
    memcpy(b, "\r\n\r\nGET /", 9);
    EXPECT_N(b, lm + 4, REQHEAD_INCOMPLETE, REQHEAD_OK, 0);
    EXPECT_N(b, lm + 5, REQHEAD_INVALID, REQHEAD_LINE_TOO_LONG, 0);

    /* A head of exactly head_max bytes passes, head_max + 1 does not. */
    static const char start[] = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
    size_t sl = sizeof(start) - 1;
    memset(b, 'v', sizeof(b));
    memcpy(b, start, sl);
    memcpy(b + hm - 4, "\r\n\r\n", 4);
    EXPECT_N(b, hm, REQHEAD_COMPLETE, REQHEAD_OK, hm);
    EXPECT_N(b, hm + 50, REQHEAD_COMPLETE, REQHEAD_OK, hm); /* pipelined bytes past it */
    memset(b, 'v', sizeof(b));
    memcpy(b, start, sl);
    memcpy(b + hm - 3, "\r\n\r\n", 4);
    EXPECT_N(b, hm + 1, REQHEAD_INVALID, REQHEAD_TOO_LARGE, 0);
    memset(b, 'v', sizeof(b));
    memcpy(b, start, sl);
    memcpy(b + hm - 2, "\r\n\n", 3); /* the field line passes, the empty line too */
    EXPECT_N(b, hm + 1, REQHEAD_INVALID, REQHEAD_TOO_LARGE, 0);
    /* Not complete yet: head_max bytes may still end, one more cannot. */
    memset(b, 'v', sizeof(b));
    memcpy(b, start, sl);
    EXPECT_N(b, hm, REQHEAD_INCOMPLETE, REQHEAD_OK, 0);
    EXPECT_N(b, hm + 1, REQHEAD_INVALID, REQHEAD_TOO_LARGE, 0);
    EXPECT_N(b, sizeof(b), REQHEAD_INVALID, REQHEAD_TOO_LARGE, 0);
    /* Many short field lines, and many empty lines before the request line. */
    memcpy(b, "GET / HTTP/1.0\r\n", 16);
    for (size_t i = 16; i + 5 <= sizeof(b); i += 5)
        memcpy(b + i, "X:a\r\n", 5);
    EXPECT_N(b, hm, REQHEAD_INCOMPLETE, REQHEAD_OK, 0);
    EXPECT_N(b, hm + 1, REQHEAD_INVALID, REQHEAD_TOO_LARGE, 0);
    for (size_t i = 0; i + 2 <= sizeof(b); i += 2)
        memcpy(b + i, "\r\n", 2);
    EXPECT_N(b, hm, REQHEAD_INCOMPLETE, REQHEAD_OK, 0);
    EXPECT_N(b, hm + 2, REQHEAD_INVALID, REQHEAD_TOO_LARGE, 0);
    memcpy(b + hm - 18, "GET / HTTP/1.0\r\n\r\n", 18);
    EXPECT_N(b, hm, REQHEAD_COMPLETE, REQHEAD_OK, hm);
    memcpy(b + hm - 18, "\r\n\r\nGET / HTTP/1.0\r\n\r\n", 22); /* 4 bytes later */
    EXPECT_N(b, hm + 4, REQHEAD_INVALID, REQHEAD_TOO_LARGE, 0);
}

/* A line not complete yet that already shows a byte no valid line has: INVALID at once. */
static void test_early(void) {
    INCOMPLETE("");
    INCOMPLETE("\n");
    INCOMPLETE("GET / HTTP/1.1\r\nHost: a\r\n");
    INVALID("\xff\xff", REQHEAD_METHOD);
    INVALID("\0", REQHEAD_METHOD);
    INVALID("\r\n\nG(", REQHEAD_METHOD);
    INVALID("GET /a\0", REQHEAD_TARGET);
    INVALID("GET /a\xff", REQHEAD_TARGET);
    INVALID("GET /a\rb", REQHEAD_BARE_CR);
    INVALID("GET / HTTP/1.1\r\nHost: a\0", REQHEAD_FIELD_VALUE);
    INVALID("GET / HTTP/1.1\r\nHost: a\x7f", REQHEAD_FIELD_VALUE);
    INVALID("GET / HTTP/1.1\r\nHo st", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\n\0", REQHEAD_FIELD_NAME);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\n ", REQHEAD_OBS_FOLD);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\n\t", REQHEAD_OBS_FOLD);
    INVALID("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb", REQHEAD_BARE_CR);
    /* What a partial line cannot tell yet stays INCOMPLETE: the version, the name's end. */
    INCOMPLETE("GET / HTTP/9");
    INCOMPLETE("GET /%zz");
    INCOMPLETE("GET / HTTP/1.1\r\n:");
}

/* The pieces, as the TLS listeners use them. */
static void test_pieces(void) {
    static const struct {
        const char *s;
        enum reqhead_error why;
    } targets[] = {
        {"/", REQHEAD_OK},
        {"*", REQHEAD_OK},
        {"/a%20b?x=%7E", REQHEAD_OK},
        {"http://[::1]:1/a", REQHEAD_OK},
        {"", REQHEAD_REQUEST_LINE},
        {"/a b", REQHEAD_TARGET},
        {"/\x80", REQHEAD_TARGET},
        {"/#", REQHEAD_TARGET},
        {"%", REQHEAD_PERCENT},
        {"/%4", REQHEAD_PERCENT},
        {"/%4g", REQHEAD_PERCENT},
        {"/%g4", REQHEAD_PERCENT},
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        size_t n = strlen(targets[i].s);
        char *p = exact(targets[i].s, n);
        enum reqhead_error why = REQHEAD_ERROR_COUNT;
        bool ok = reqhead_target_ok(p, n, &why);
        if (ok != (targets[i].why == REQHEAD_OK) || why != targets[i].why) {
            fprintf(stderr, "target \"%s\": ok %d why %d, want why %d\n", targets[i].s, ok,
                    (int)why, (int)targets[i].why);
            CHECK(0);
        }
        CHECK(reqhead_target_ok(p, n, NULL) == ok);
        free(p);
    }
    CHECK(!reqhead_target_ok("/a\0b", 4, NULL));

    static const char *const names[] = {"Host", "X-Vmatlas-Gate", "!#$%&'*+-.^_`|~09azAZ", "a"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *p = exact(names[i], strlen(names[i]));
        CHECK(reqhead_field_name_ok(p, strlen(names[i])));
        free(p);
    }
    static const char *const bad[] = {"",    "a b",           "a:",   "Host ", " Host",
                                      "(",   "X-Caf\xc3\xa9", "a\tb", "a\x7f", "a\"",
                                      "a/b", "a@b",           "{}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *p = exact(bad[i], strlen(bad[i]));
        if (reqhead_field_name_ok(p, strlen(bad[i]))) {
            fprintf(stderr, "field name \"%s\" ok\n", bad[i]);
            CHECK(0);
        }
        free(p);
    }
    CHECK(!reqhead_field_name_ok("a\0b", 3));
}

/* Every error has a 4xx status and a message; out of range is a plain 400. */
static void test_errors(void) {
    for (int e = REQHEAD_OK + 1; e < REQHEAD_ERROR_COUNT; e++) {
        unsigned s = reqhead_error_status((enum reqhead_error)e);
        const char *m = reqhead_error_message((enum reqhead_error)e);
        if (s != 400 && s != 413 && s != 414 && s != 431) {
            fprintf(stderr, "error %d: status %u\n", e, s);
            CHECK(0);
        }
        CHECK(m != NULL && m[0] != '\0');
    }
    CHECK_EQ_INT(reqhead_error_status(REQHEAD_BODY), 413);
    CHECK_EQ_INT(reqhead_error_status(REQHEAD_PARAMS), 414);
    CHECK_EQ_INT(reqhead_error_status(REQHEAD_LINE_TOO_LONG), 414);
    CHECK_EQ_INT(reqhead_error_status(REQHEAD_TOO_LARGE), 431);
    CHECK_EQ_INT(reqhead_error_status(REQHEAD_TARGET), 400);
    CHECK_EQ_INT(reqhead_error_status(REQHEAD_TRUNCATED), 400);
    CHECK_EQ_INT(reqhead_error_status(REQHEAD_ERROR_COUNT), 400);
    CHECK_EQ_INT(reqhead_error_status((enum reqhead_error)1000), 400);
    CHECK(reqhead_error_message(REQHEAD_ERROR_COUNT)[0] != '\0');
    CHECK(reqhead_error_message((enum reqhead_error)1000)[0] != '\0');
    CHECK(strstr(reqhead_error_message(REQHEAD_RESERVED), REQHEAD_GATE_HEADER) != NULL);
}

int main(void) {
    test_valid();
    test_prefixes();
    test_cr_lf_split();
    test_request_line();
    test_fields();
    test_framing();
    test_params();
    test_limits();
    test_early();
    test_pieces();
    test_errors();
    return test_result("test_reqhead");
}
