/* test.h: a minimal test harness. Each test program returns 0 (pass), 1 (fail) or
 * 77 (skip, mapped to CTest SKIP_RETURN_CODE). */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                           \
        if (_a != _b) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", __FILE__,       \
                    __LINE__, #a, #b, _a, _b);                                                     \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b) {                                                                            \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    _a, _b);                                                                       \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STREQ(a, b)                                                                          \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, _a ? _a : "(null)", _b ? _b : "(null)");                                   \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_MEMEQ(p, n, lit)                                                                     \
    do {                                                                                           \
        size_t _n = (n);                                                                           \
        if (_n != strlen(lit) || memcmp((p), (lit), _n) != 0) {                                    \
            fprintf(stderr, "%s:%d: %s == \"%s\" failed: \"%.*s\"\n", __FILE__, __LINE__, #p, lit,  \
                    (int)_n, (const char *)(p));                                                   \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define TEST_SKIP 77

/* A heap copy of exactly n bytes (no NUL after them), so ASan reports any read past the end
 * by a parser that takes (buf, len). */
static inline char *exact(const char *s, size_t n) {
    char *p = malloc(n ? n : 1);
    if (!p)
        abort();
    memcpy(p, s, n);
    return p;
}

static inline int test_result(const char *name) {
    if (test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}
