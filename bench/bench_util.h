/* bench_util.h: what the load helpers (slowloris.c, spawner.c) share: a stop flag set by a
 * signal, and a monotonic clock in seconds. Each helper is one translation unit. */
#pragma once

#include <signal.h>
#include <time.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static inline double now_s(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
