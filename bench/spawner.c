/* spawner.c: process churn at a steady rate, for the load benchmarks.
 *
 *   spawner [-r PER_SECOND] [-l MAX_LIFETIME_MS] [-d SECONDS] [-c NAMES] [-m KIB]
 *
 * Forks -r children a second (200), on a fixed schedule. Each child maps -m KiB (256) of
 * anonymous memory and touches it, names itself "churn-NNN" (NNN cycling over -c distinct
 * names, 100, at most 1000), lives a uniformly random 0..-l ms (1000), and exits; the parent reaps
 * them. So about r*l/2000 children are alive at any time, and r a second appear and vanish: some
 * between two scans of a collector, some in the middle of one. -d: stop after that many
 * seconds (0: until SIGTERM/SIGINT). Children die with the parent (PR_SET_PDEATHSIG), and are
 * killed on exit. At the end it prints:
 *   spawned=N reaped=N fork_failures=N seconds=S rate=N/s max_alive=N */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define ALIVE_MAX 65536

static pid_t g_alive[ALIVE_MAX];
static size_t g_nalive;

static void child(unsigned long seq, int names, long lifetime_ms, long kib, pid_t parent) {
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    char name[16];
    (void)snprintf(name, sizeof(name), "churn-%03u",
                   names > 0 ? (unsigned)(seq % (unsigned)names) % 1000u : 0u);
    (void)prctl(PR_SET_NAME, name);
    if (kib > 0) {
        char *p = mmap(NULL, (size_t)kib << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p != MAP_FAILED)
            memset(p, (int)(seq & 0xff), (size_t)kib << 10);
    }
    unsigned s = (unsigned)(seq * 2654435761u);
    long ms = lifetime_ms > 0 ? (long)(rand_r(&s) % (lifetime_ms + 1)) : 0;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    _exit(0);
}

static unsigned long reap(void) {
    unsigned long n = 0;
    pid_t p;
    while ((p = waitpid(-1, NULL, WNOHANG)) > 0) {
        n++;
        for (size_t i = 0; i < g_nalive; i++)
            if (g_alive[i] == p) {
                g_alive[i] = g_alive[--g_nalive];
                break;
            }
    }
    return n;
}

int main(int argc, char **argv) {
    double rate = 200, duration = 0;
    long lifetime_ms = 1000, kib = 256;
    int names = 100, opt;
    while ((opt = getopt(argc, argv, "r:l:d:c:m:")) != -1) {
        switch (opt) {
        case 'r':
            rate = atof(optarg);
            break;
        case 'l':
            lifetime_ms = atol(optarg);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'c':
            names = atoi(optarg);
            break;
        case 'm':
            kib = atol(optarg);
            break;
        default:
            fprintf(stderr, "usage: spawner [-r PER_SECOND] [-l MAX_LIFETIME_MS] [-d SECONDS] [-c "
                            "NAMES] [-m KIB]\n");
            return 1;
        }
    }
    if (rate <= 0 || lifetime_ms < 0 || kib < 0 || names < 0 || names > 1000) {
        fprintf(stderr, "spawner: bad arguments\n");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pid_t self = getpid();
    unsigned long spawned = 0, reaped = 0, failures = 0;
    size_t max_alive = 0;
    double t0 = now_s(), step = 1.0 / rate;
    struct timespec next;
    (void)clock_gettime(CLOCK_MONOTONIC, &next);
    while (!g_stop && (duration <= 0 || now_s() - t0 < duration)) {
        reaped += reap();
        if (g_nalive < ALIVE_MAX) {
            pid_t p = fork();
            if (p == 0)
                child(spawned, names, lifetime_ms, kib, self);
            if (p > 0) {
                g_alive[g_nalive++] = p;
                spawned++;
            } else {
                failures++;
            }
        }
        if (g_nalive > max_alive)
            max_alive = g_nalive;
        /* fixed schedule: t0 + k * step, so the rate holds even when a fork is slow */
        long ns = next.tv_nsec + (long)(step * 1e9);
        next.tv_sec += ns / 1000000000L;
        next.tv_nsec = ns % 1000000000L;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR && !g_stop)
            ;
    }
    double secs = now_s() - t0;
    for (size_t i = 0; i < g_nalive; i++)
        kill(g_alive[i], SIGKILL);
    while (g_nalive > 0) {
        pid_t p = waitpid(-1, NULL, 0);
        if (p < 0)
            break;
        reaped++;
        for (size_t i = 0; i < g_nalive; i++)
            if (g_alive[i] == p) {
                g_alive[i] = g_alive[--g_nalive];
                break;
            }
    }
    printf("spawned=%lu reaped=%lu fork_failures=%lu seconds=%.1f rate=%.1f/s max_alive=%zu\n",
           spawned, reaped, failures, secs, (double)spawned / secs, max_alive);
    return 0;
}
