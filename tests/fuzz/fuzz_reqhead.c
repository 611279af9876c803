/* fuzz_reqhead.c: the strict request-head check (api/reqhead.c) on arbitrary bytes, with small
 * limits so the fuzzer reaches them. A COMPLETE head lies inside the buffer, has no NUL, no CR
 * but before LF and a ':' on every field line, and checks the same on its own; an INVALID one
 * has an error of the table with a 4xx status; nothing past head_max is INCOMPLETE; and more
 * bytes never take back a verdict: a prefix (half the buffer) that is INVALID or COMPLETE
 * leaves the whole buffer so. The target and field-name pieces run on the same bytes. */
#include "api/reqhead.h"
#include "fuzz.h"

static const struct reqhead_limits lim = {.line_max = 256, .head_max = 1024, .params_max = 8};

static enum reqhead_status check(const char *buf, size_t n, struct reqhead *h) {
    char *c = fuzz_exact(buf, n);
    enum reqhead_status st = reqhead_check(c, n, &lim, h);
    free(c);
    return st;
}

/* The bytes of a COMPLETE head, h[0..len). */
static void check_head(const char *h, size_t len) {
    FUZZ_CHECK(h[len - 1] == '\n');
    FUZZ_CHECK(memchr(h, '\0', len) == NULL);
    for (size_t i = 0; i < len; i++)
        if (h[i] == '\r')
            FUZZ_CHECK(i + 1 < len && h[i + 1] == '\n');
    /* Lines: empty ones, the request line, field lines (each with a ':'), the empty one. */
    bool seen_request = false;
    for (size_t pos = 0; pos < len;) {
        const char *lf = memchr(h + pos, '\n', len - pos);
        FUZZ_CHECK(lf != NULL);
        size_t end = (size_t)(lf - h), next = end + 1;
        if (end > pos && h[end - 1] == '\r')
            end--;
        if (end == pos) { /* empty: before the request line, or the head's last line */
            FUZZ_CHECK(!seen_request || next == len);
        } else if (!seen_request) {
            seen_request = true;
            FUZZ_CHECK(memchr(h + pos, ' ', end - pos) != NULL);
        } else {
            FUZZ_CHECK(memchr(h + pos, ':', end - pos) != NULL);
            FUZZ_CHECK(h[pos] != ' ' && h[pos] != '\t');
        }
        pos = next;
    }
    FUZZ_CHECK(seen_request);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *buf = (const char *)data;
    struct reqhead h;
    enum reqhead_status st = check(buf, size, &h);
    switch (st) {
    case REQHEAD_COMPLETE: {
        FUZZ_CHECK(h.len > 0 && h.len <= size && h.error == REQHEAD_OK);
        check_head(buf, h.len);
        struct reqhead again;
        FUZZ_CHECK(check(buf, h.len, &again) == REQHEAD_COMPLETE && again.len == h.len);
        break;
    }
    case REQHEAD_INVALID: {
        FUZZ_CHECK(h.error > REQHEAD_OK && h.error < REQHEAD_ERROR_COUNT && h.len == 0);
        unsigned s = reqhead_error_status(h.error);
        FUZZ_CHECK(s == 400 || s == 413 || s == 414 || s == 431);
        const char *m = reqhead_error_message(h.error);
        FUZZ_CHECK(m != NULL && m[0] != '\0');
        break;
    }
    case REQHEAD_INCOMPLETE:
        FUZZ_CHECK(size <= lim.head_max && h.len == 0 && h.error == REQHEAD_OK);
        break;
    default:
        FUZZ_CHECK(0);
    }

    /* More bytes never take a verdict back. */
    size_t k = size / 2;
    struct reqhead p;
    enum reqhead_status pst = check(buf, k, &p);
    if (pst == REQHEAD_INVALID)
        FUZZ_CHECK(st == REQHEAD_INVALID);
    if (pst == REQHEAD_COMPLETE)
        FUZZ_CHECK(st == REQHEAD_COMPLETE && h.len == p.len);

    /* The pieces: a target or a field name that passes has none of the bytes they exclude. */
    char *c = fuzz_exact(buf, size);
    enum reqhead_error why = REQHEAD_ERROR_COUNT;
    bool target = reqhead_target_ok(c, size, &why);
    FUZZ_CHECK(target == (why == REQHEAD_OK));
    FUZZ_CHECK(why == REQHEAD_OK || why == REQHEAD_REQUEST_LINE || why == REQHEAD_TARGET ||
               why == REQHEAD_PERCENT);
    if (target)
        FUZZ_CHECK(size > 0 && memchr(c, ' ', size) == NULL && memchr(c, '\0', size) == NULL &&
                   memchr(c, '#', size) == NULL);
    if (reqhead_field_name_ok(c, size))
        FUZZ_CHECK(size > 0 && memchr(c, ':', size) == NULL && memchr(c, ' ', size) == NULL &&
                   memchr(c, '\0', size) == NULL && memchr(c, '\r', size) == NULL);
    free(c);
    return 0;
}
