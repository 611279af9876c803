/*
 * mmap_probe.c - a target that feels every holder of its mmap lock: it times a loop of
 * mmap(64 KiB anon) + touch + munmap while holding a large address space.
 *
 *   mmap_probe [-s HELD_MIB] [-v VMAS] [-k ITER_KIB] [-p PAUSE_US] [-d SECONDS] [-T MAX_S]
 *
 * Set-up: maps HELD_MIB (default 2048) of private anonymous memory with MADV_NOHUGEPAGE (4 KiB
 * pages, so a page-table walk of it visits HELD_MIB * 256 entries), writes every page, then
 * makes every other one of VMAS (default 8192) equal slices read-only, which splits the region
 * into VMAS mappings. Then it prints one line to stdout,
 *
 *   READY pid=<pid> held_mib=<n> vmas=<n> setup_s=<s>
 *
 * and waits. Every SIGUSR1 starts one measured phase of SECONDS (default 20): a loop of
 *   t0 = CLOCK_MONOTONIC; p = mmap(ITER_KIB anon); write one byte per page; munmap(p);
 *   t1 = CLOCK_MONOTONIC; then sleep PAUSE_US (default 50; 0 = none) with 1 us timer slack
 * and one line per phase:
 *
 *   RESULT phase=<k> n=<iterations> p50_us=.. p99_us=.. p999_us=.. max_us=.. mean_us=..
 *          over1ms=<n> over10ms=<n>
 *
 * mmap and munmap take the mmap lock for writing, and every page fault takes it (or the VMA
 * lock) for reading, so an observer that holds it (smaps, smaps_rollup, a pagemap walk) for
 * long shows up as a slow iteration; an observer that only takes CPU shows up as scheduling
 * delay. Quantiles come from a log-linear histogram (64 sub-buckets per power of two: within
 * 0.8 %); max is exact. SIGTERM/SIGINT end it at once; it ends itself after MAX_S seconds
 * (default 3600) and when its parent dies.
 *
 * Build: cc -O2 -Wall -Wextra -o mmap_probe mmap_probe.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define SUB_BITS 6
#define SUB (1u << SUB_BITS)
#define NBUCKETS (SUB + 58u * SUB)

static uint64_t hist[NBUCKETS];
static volatile sig_atomic_t go, stop;

static void on_usr1(int s)
{
	(void)s;
	go = 1;
}

static void on_term(int s)
{
	(void)s;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned bucket_of(uint64_t v)
{
	if (v < SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= SUB_BITS */
	unsigned sub = (unsigned)(v >> (e - SUB_BITS)) & (SUB - 1);
	unsigned b = SUB + (e - SUB_BITS) * SUB + sub;
	return b < NBUCKETS ? b : NBUCKETS - 1;
}

/* The middle of bucket b, in ns. */
static double bucket_mid(unsigned b)
{
	if (b < SUB)
		return (double)b;
	unsigned e = (b - SUB) / SUB + SUB_BITS, sub = (b - SUB) % SUB;
	double lo = (double)((uint64_t)(SUB + sub) << (e - SUB_BITS));
	double width = (double)(1ull << (e - SUB_BITS));
	return lo + width / 2;
}

static double quantile_us(uint64_t n, double q)
{
	uint64_t rank = (uint64_t)(q * (double)n);
	if (rank >= n)
		rank = n - 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < NBUCKETS; b++) {
		seen += hist[b];
		if (seen > rank)
			return bucket_mid(b) / 1000.0;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mmap_probe [-s held_MiB] [-v vmas] [-k iter_KiB] [-p pause_us] "
			"[-d phase_seconds] [-T max_seconds]\n");
	exit(2);
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	long held_mib = 2048, vmas = 8192, iter_kib = 64, pause_us = 50, phase_s = 20, max_s = 3600;
	int c;
	while ((c = getopt(argc, argv, "s:v:k:p:d:T:h")) != -1) {
		switch (c) {
		case 's': held_mib = num(optarg, 1, 1 << 20); break;
		case 'v': vmas = num(optarg, 1, 1 << 20); break;
		case 'k': iter_kib = num(optarg, 4, 1 << 20); break;
		case 'p': pause_us = num(optarg, 0, 1000000); break;
		case 'd': phase_s = num(optarg, 1, 86400); break;
		case 'T': max_s = num(optarg, 1, 86400); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	alarm((unsigned)max_s);

	long page = sysconf(_SC_PAGESIZE);
	uint64_t t0 = now_ns();
	size_t held = (size_t)held_mib << 20;
	size_t slice = held / (size_t)vmas / (size_t)page * (size_t)page;
	if (slice == 0) {
		fprintf(stderr, "mmap_probe: %ld VMAs do not fit in %ld MiB\n", vmas, held_mib);
		return 2;
	}
	char *region = mmap(NULL, held, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		perror("mmap_probe: mmap");
		return 1;
	}
	if (madvise(region, held, MADV_NOHUGEPAGE) != 0)
		perror("mmap_probe: madvise(MADV_NOHUGEPAGE)"); /* THP off: only fewer entries */
	for (size_t off = 0; off < held && !stop; off += (size_t)page)
		region[off] = 1;
	long made = 0;
	for (long i = 0; i < vmas && !stop; i++) {
		if ((i & 1) && mprotect(region + (size_t)i * slice, slice, PROT_READ) != 0) {
			perror("mmap_probe: mprotect");
			return 1;
		}
		made++;
	}
	if (stop)
		return 0;
	printf("READY pid=%d held_mib=%ld vmas=%ld setup_s=%.2f\n", (int)getpid(), held_mib, made,
	       (double)(now_ns() - t0) / 1e9);
	fflush(stdout);

	size_t iter_len = (size_t)iter_kib << 10;
	sigset_t wake, open_mask;
	sigemptyset(&wake);
	sigaddset(&wake, SIGUSR1);
	sigaddset(&wake, SIGTERM);
	sigaddset(&wake, SIGINT);
	sigaddset(&wake, SIGALRM);
	struct timespec nap = {.tv_sec = pause_us / 1000000, .tv_nsec = (pause_us % 1000000) * 1000};
	for (int phase = 1; !stop; phase++) {
		/* blocked between the test and the wait, so a SIGUSR1 is never lost */
		sigprocmask(SIG_BLOCK, &wake, &open_mask);
		while (!go && !stop)
			sigsuspend(&open_mask);
		sigprocmask(SIG_SETMASK, &open_mask, NULL);
		if (stop)
			break;
		go = 0;
		memset(hist, 0, sizeof hist);
		uint64_t n = 0, sum = 0, max = 0, over1 = 0, over10 = 0;
		uint64_t end = now_ns() + (uint64_t)phase_s * 1000000000ull;
		for (;;) {
			uint64_t a = now_ns();
			if (a >= end || stop)
				break;
			char *p = mmap(NULL, iter_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);
			if (p == MAP_FAILED) {
				perror("mmap_probe: mmap in the loop");
				return 1;
			}
			for (size_t off = 0; off < iter_len; off += (size_t)page)
				p[off] = 1;
			munmap(p, iter_len);
			uint64_t d = now_ns() - a;
			hist[bucket_of(d)]++;
			n++;
			sum += d;
			if (d > max)
				max = d;
			over1 += d > 1000000;
			over10 += d > 10000000;
			if (pause_us > 0)
				clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
		}
		if (n == 0)
			n = 1, hist[0] = 1;
		printf("RESULT phase=%d n=%llu p50_us=%.2f p99_us=%.2f p999_us=%.2f max_us=%.2f "
		       "mean_us=%.2f over1ms=%llu over10ms=%llu\n",
		       phase, (unsigned long long)n, quantile_us(n, 0.50), quantile_us(n, 0.99),
		       quantile_us(n, 0.999), (double)max / 1000.0, (double)sum / (double)n / 1000.0,
		       (unsigned long long)over1, (unsigned long long)over10);
		fflush(stdout);
	}
	return 0;
}
