/*
 * cpu_of.c - run one command and report what the whole process cost.
 *
 *   cpu_of [-o FILE] CMD ARGS...
 *
 * Runs CMD with stdout sent to /dev/null (or to FILE with -o, to keep its output), waits for it
 * with wait4() and prints one line to stderr:
 *
 *   cpu_ms=<user+sys ms> wall_ms=<ms> maxrss_kb=<ru_maxrss> user_ms=<ms> sys_ms=<ms> status=<n>
 *
 * cpu_ms covers the child's whole life (exec, dynamic linking, start-up, work, exit), as
 * reported by the kernel's rusage for that one child; wall_ms is CLOCK_MONOTONIC around
 * fork..wait4. Exit status: the command's exit status, 128+signal if it was killed, 127 if it
 * could not be run, 2 on usage errors.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -o cpu_of cpu_of.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv_ms(struct timeval tv)
{
	return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: cpu_of [-o FILE] CMD [ARGS...]\n"
			"  runs CMD with stdout to /dev/null (or FILE) and prints\n"
			"  cpu_ms=.. wall_ms=.. maxrss_kb=.. user_ms=.. sys_ms=.. status=.. to stderr\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *out = "/dev/null";
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
		} else {
			break; /* a command that starts with '-': let exec fail on it */
		}
	}
	if (i >= argc)
		usage();

	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "cpu_of: %s: %s\n", out, strerror(errno));
		return 127;
	}

	double t0 = mono_ms();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "cpu_of: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		if (dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		execvp(argv[i], argv + i);
		fprintf(stderr, "cpu_of: %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	close(fd);

	int status = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	pid_t w;
	while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	double t1 = mono_ms();
	if (w < 0) {
		fprintf(stderr, "cpu_of: wait4: %s\n", strerror(errno));
		return 127;
	}

	int rc;
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = 127;

	double u = tv_ms(ru.ru_utime), s = tv_ms(ru.ru_stime);
	fprintf(stderr, "cpu_ms=%.3f wall_ms=%.3f maxrss_kb=%ld user_ms=%.3f sys_ms=%.3f status=%d\n",
		u + s, t1 - t0, ru.ru_maxrss, u, s, rc);
	return rc;
}
