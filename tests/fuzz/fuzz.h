/* fuzz.h: helpers shared by the libFuzzer targets (also built with replay.c). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the parser under test: a violation is a crash the fuzzer reports. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

/* A heap copy of exactly n bytes (no NUL): ASan catches any read past n. */
static inline char *fuzz_exact(const void *p, size_t n) {
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

/* Is [p, p+n) inside [base, base+len)? */
static inline int fuzz_inside(const char *p, size_t n, const char *base, size_t len) {
    return p >= base && n <= len && (size_t)(p - base) <= len - n;
}
