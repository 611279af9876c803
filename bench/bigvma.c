/* bigvma.c: a process with as many VMAs as vm.max_map_count allows (65,530 by default).
 *
 *   bigvma [-n VMAS] [-t]
 *
 * Maps one large anonymous read-write region and makes every other page read-only with
 * mprotect(), as tests/live/live_hardcases.c does: each call splits a VMA in two, until the map
 * count is full (ENOMEM) or, with -n below the limit, the process has about -n VMAs. -t touches
 * every page first (the region's pages become resident: 4 KiB per VMA). Then it prints READY
 * pid=PID vmas=N max_map_count=M mprotects=K stopped=ERRNO_NAME (N counted from /proc/self/maps)
 * and waits for SIGTERM or SIGINT. Exit 0, 1 on a setup error. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    long want = 0, max = 65530;
    int touch = 0, opt;
    while ((opt = getopt(argc, argv, "n:t")) != -1) {
        if (opt == 'n')
            want = atol(optarg);
        else if (opt == 't')
            touch = 1;
        else {
            fprintf(stderr, "usage: bigvma [-n VMAS] [-t]\n");
            return 1;
        }
    }
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 65530;
        fclose(f);
    }
    if (want <= 0 || want > max)
        want = max;
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (size_t)want + 16;
    char *base = mmap(NULL, pages * (size_t)page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        perror("bigvma: mmap");
        return 1;
    }
    if (touch)
        for (size_t i = 0; i < pages; i++)
            base[i * (size_t)page] = 1;
    long before = count_lines("/proc/self/maps"), ops = 0;
    int err = 0;
    /* each mprotect in the middle of a read-write run adds two VMAs; stop at the target */
    for (size_t i = 1; i + 1 < pages && (want == max || before + 2 * ops + 2 <= want); i += 2) {
        if (mprotect(base + i * (size_t)page, (size_t)page, PROT_READ) < 0) {
            err = errno;
            break;
        }
        ops++;
    }
    long n = count_lines("/proc/self/maps");
    printf("READY pid=%d vmas=%ld max_map_count=%ld mprotects=%ld stopped=%s\n", (int)getpid(), n,
           max, ops, err ? strerrorname_np(err) : "target");
    fflush(stdout);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    return 0;
}
