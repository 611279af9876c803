/* reqhead.h: the strict check of an HTTP/1.1 request head (RFC 9112 2-5, RFC 3986 for the
 * target), byte for byte, before libmicrohttpd sees it. libmicrohttpd 0.9.75 parses lines as C
 * strings (a NUL cuts a field and the rest is dropped), does not check header names or the
 * target's characters, folds continuation lines into the field name, and answers other HTTP
 * versions with its own 505: the gate (api/gate.c) runs this on every request first.
 *
 * A pure function over a buffer: tested and fuzzed without a server. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum reqhead_status {
    REQHEAD_INCOMPLETE, /* no empty line yet: read more (unless n reached max) */
    REQHEAD_COMPLETE,   /* a valid head of ->len bytes */
    REQHEAD_INVALID,    /* ->error says why */
};

enum reqhead_error {
    REQHEAD_OK,
    REQHEAD_REQUEST_LINE,   /* not "METHOD SP TARGET SP VERSION" */
    REQHEAD_METHOD,         /* a method byte that is not a tchar */
    REQHEAD_TARGET,         /* a target byte outside RFC 3986 (NUL, space, controls, 8-bit, ...) */
    REQHEAD_PERCENT,        /* '%' not followed by two hex digits */
    REQHEAD_VERSION,        /* not HTTP/1.x */
    REQHEAD_FIELD_NAME,     /* empty, or a byte that is not a tchar (space before ':' included) */
    REQHEAD_FIELD_VALUE,    /* a control byte (NUL, CR, DEL, ...) in a value */
    REQHEAD_OBS_FOLD,       /* a line that starts with SP or HTAB (obsolete line folding) */
    REQHEAD_BARE_CR,        /* a CR not followed by LF */
    REQHEAD_BODY,           /* Transfer-Encoding, or a Content-Length other than 0: no bodies */
    REQHEAD_CONTENT_LENGTH, /* a Content-Length that is not digits, or more than one */
    REQHEAD_RESERVED,       /* the gate's own header, sent by a client */
    REQHEAD_HOST,           /* HTTP/1.1 without a Host field, or with more than one */
    REQHEAD_PARAMS,         /* more query parameters than the limit: 414 */
    REQHEAD_LINE_TOO_LONG,  /* the request line alone passes max: 414 */
    REQHEAD_TOO_LARGE,      /* the head passes max: 431 */
    REQHEAD_TRUNCATED,      /* the client stopped sending in the middle of a head */
    REQHEAD_ERROR_COUNT,
};

/* The header by which the gate tells the handler to refuse a request it did not pass on
 * (value: the enum reqhead_error as a decimal number). No client request carries it. */
#define REQHEAD_GATE_HEADER "X-Vmatlas-Gate"

struct reqhead {
    size_t len;               /* COMPLETE: bytes of the head, its empty line included */
    enum reqhead_error error; /* INVALID: why */
};

struct reqhead_limits {
    size_t line_max;   /* bytes of the request line (REQHEAD_LINE_TOO_LONG beyond) */
    size_t head_max;   /* bytes of the whole head, line ends included (REQHEAD_TOO_LARGE) */
    size_t params_max; /* '&'-separated query parameters (REQHEAD_PARAMS beyond) */
};

/* Checks the request head at the start of buf[0..n). Empty lines before the request line are
 * skipped (RFC 9112 2.2) and counted in len; lines end in CRLF or LF. A head, or a request
 * line, longer than the limits is INVALID as soon as the buffer shows it, and so is a line
 * not complete yet whose bytes so far cannot begin a valid one. */
enum reqhead_status reqhead_check(const char *buf, size_t n, const struct reqhead_limits *lim,
                                  struct reqhead *out);

/* The HTTP status (400, 413, 414, 431) and a one-line message for an error. */
unsigned reqhead_error_status(enum reqhead_error e);
const char *reqhead_error_message(enum reqhead_error e);

/* The pieces, for the listeners the gate does not stand in front of (TLS): a request target
 * (RFC 3986 characters, well-formed percent-escapes) and a field name (1*tchar). */
bool reqhead_target_ok(const char *s, size_t n, enum reqhead_error *why);
bool reqhead_field_name_ok(const char *s, size_t n);
