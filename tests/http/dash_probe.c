/* dash_probe.c: a process for the dashboard tests and screenshots, with a hostile name and
 * mappings worth drawing, that says it is ready on stdout and then sleeps until it is killed
 * (or its parent dies).
 *
 *   dash_probe NAME [VMAS] [IGNORED...]
 *
 * NAME becomes the comm (the kernel keeps 15 bytes). The probe maps a memfd whose name is
 * markup (the VMA's path is "/memfd:<img src=y onerror=alert(2)> (deleted)"), touches 4 MiB of
 * anonymous memory and asks for transparent huge pages on a 4 MiB aligned range; with
 * DASH_PROBE_HUGETLB=1 in the environment it also maps one hugetlb page when the pool has a
 * free one (not in the tests: the live tests want the pool's pages). With VMAS ("max" for
 * vm.max_map_count) it splits one anonymous mapping into alternating read-only and read-write
 * pages until the process has that many VMAs or the kernel refuses more. The extra arguments
 * land in its cmdline only.
 *
 * It prints "ready PID VMAS" (VMAS: the lines of its own /proc/self/maps) once set up. Test
 * code: failures exit 1 with a message on stderr. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static long maps_lines(void) {
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static long read_long(const char *path, long dflt) {
    FILE *f = fopen(path, "re");
    long v = dflt;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = dflt;
        fclose(f);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: dash_probe NAME [VMAS|max] [IGNORED...]\n");
        return 2;
    }
    (void)prctl(PR_SET_NAME, argv[1]);
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    long pg = sysconf(_SC_PAGESIZE);

    int fd = memfd_create("<img src=y onerror=alert(2)>", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4 * pg) < 0) {
        perror("dash_probe: memfd");
        return 1;
    }
    char *mf = mmap(NULL, 4 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mf == MAP_FAILED) {
        perror("dash_probe: mmap memfd");
        return 1;
    }
    memset(mf, 1, 2 * (size_t)pg);

    size_t anon = 4u << 20;
    char *a = mmap(NULL, anon, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) {
        perror("dash_probe: mmap anon");
        return 1;
    }
    memset(a, 2, anon);

    /* THP: an aligned 4 MiB inside an 8 MiB reservation. */
    size_t huge = 2u << 20;
    char *t = mmap(NULL, 4 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t != MAP_FAILED) {
        char *al = (char *)(((uintptr_t)t + huge - 1) & ~(uintptr_t)(huge - 1));
        (void)madvise(al, 2 * huge, MADV_HUGEPAGE);
        memset(al, 3, 2 * huge);
    }
    /* hugetlb: one page from the pool when asked and there is one free (no error when not). */
    const char *want_huge = getenv("DASH_PROBE_HUGETLB");
    if (want_huge && strcmp(want_huge, "1") == 0) {
        char *h = mmap(NULL, huge, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (h != MAP_FAILED)
            h[0] = 4;
    }

    long want = 0;
    if (argc > 2) {
        if (strcmp(argv[2], "max") == 0)
            want = read_long("/proc/sys/vm/max_map_count", 65530);
        else
            want = strtol(argv[2], NULL, 10);
    }
    long have = maps_lines();
    if (want > have) {
        /* A mapping with a hole on each side, so nothing merges with its ends. */
        size_t n = (size_t)(want - have) + 4;
        char *m = mmap(NULL, (n + 2) * (size_t)pg, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            perror("dash_probe: mmap split");
            return 1;
        }
        (void)munmap(m, (size_t)pg);
        (void)munmap(m + (n + 1) * (size_t)pg, (size_t)pg);
        m += pg;
        /* Each read-only page in the middle adds two VMAs; the last page adds one. */
        have += 1;
        size_t i = 1;
        for (; i + 2 < n && have + 2 <= want; i += 2) {
            if (mprotect(m + i * (size_t)pg, (size_t)pg, PROT_READ) < 0)
                break;
            have += 2;
        }
        if (have < want && mprotect(m + (n - 1) * (size_t)pg, (size_t)pg, PROT_READ) == 0)
            have += 1;
        have = maps_lines();
    }
    printf("ready %ld %ld\n", (long)getpid(), have);
    fflush(stdout);
    for (;;)
        pause();
}
