/* macros.h: small shared helpers (cleanup attributes, ownership transfer, array sizes). */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _pure_ __attribute__((pure))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

/* Hand the value of a cleanup-owned variable on and leave NULL/-1 behind. */
#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) _tp = (p);                                                                   \
        (p) = NULL;                                                                                \
        _tp;                                                                                       \
    })
#define TAKE_FD(fd)                                                                                \
    ({                                                                                             \
        int _tf = (fd);                                                                            \
        (fd) = -1;                                                                                 \
        _tf;                                                                                       \
    })

static inline void freep(void *p) {
    free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
    if (*fd >= 0) {
        int saved = errno;
        (void)close(*fd);
        errno = saved;
    }
}
#define _cleanup_close_ _cleanup_(closep)

/* Overflow-checked array allocation: NULL on overflow or OOM. */
static inline void *malloc_array(size_t n, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return NULL;
    return malloc(bytes ? bytes : 1);
}
static inline void *realloc_array(void *p, size_t n, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return NULL;
    return realloc(p, bytes ? bytes : 1);
}

/* Grow *array (of *cap elements of size) so that it holds at least need elements.
 * Returns 0 or -ENOMEM; *array and *cap are untouched on failure. */
static inline int grow_array(void **array, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (__builtin_mul_overflow(n, 2, &n))
            return -ENOMEM;
    }
    void *p = realloc_array(*array, n, size);
    if (!p)
        return -ENOMEM;
    *array = p;
    *cap = n;
    return 0;
}
#define GROW(array, cap, need) grow_array((void **)&(array), &(cap), (need), sizeof(*(array)))
