/* timespec.h: deadlines on CLOCK_MONOTONIC for the daemon's fixed-rate loops. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* start + ms. */
static inline struct timespec deadline_after(const struct timespec *start, uint64_t ms) {
    struct timespec t = *start;
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Whether a comes before b. */
static inline bool before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}
