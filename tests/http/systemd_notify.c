/* systemd_notify.c: vmatlasd speaks the sd_notify protocol as a Type=notify service: READY=1
 * with STATUS= once the first snapshot is served, WATCHDOG=1 at least every half WatchdogSec
 * from the scan loop, RELOADING=1 then READY=1 around a SIGHUP reload, STOPPING=1 and exit 0
 * on SIGTERM. The test plays systemd's side: it owns NOTIFY_SOCKET and sets WATCHDOG_USEC. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to timeout_ms for a datagram containing want; count WATCHDOG=1 seen on the way. */
static bool await(int fd, const char *want, int timeout_ms, int *watchdogs, char *last,
                  size_t lastlen) {
    int64_t end = now_ms() + timeout_ms;
    for (int64_t left; (left = end - now_ms()) > 0;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        snprintf(last, lastlen, "%s", buf);
        if (watchdogs && strstr(buf, "WATCHDOG=1"))
            (*watchdogs)++;
        if (want && strstr(buf, want))
            return true;
    }
    return false;
}

int main(int argc, char **argv) {
    const char *daemon = argc > 1 ? argv[1] : getenv("VMATLASD");
    char dir[] = "/tmp/vmatlas-notify-XXXXXX", last[4096] = "";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!daemon || !mkdtemp(dir)) {
        fprintf(stderr, "usage: systemd_notify VMATLASD\n");
        return 1;
    }
    /* As /run/systemd/notify: reachable by the daemon's unprivileged server process. */
    CHECK(chmod(dir, 0755) == 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(chmod(sa.sun_path, 0666) == 0);

    pid_t pid = fork();
    if (pid == 0) {
        char wpid[16];
        snprintf(wpid, sizeof(wpid), "%d", getpid());
        setenv("NOTIFY_SOCKET", sa.sun_path, 1);
        setenv("WATCHDOG_USEC", "600000", 1); /* pings every 300 ms */
        setenv("WATCHDOG_PID", wpid, 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO);
        execl(daemon, daemon, "--listen", "127.0.0.1:0", "--interval", "3600", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    CHECK(await(fd, "READY=1", 30000, NULL, last, sizeof(last)));
    CHECK(strstr(last, "STATUS=Scan 1:") != NULL);
    int watchdogs = 0;
    (void)await(fd, NULL, 1500, &watchdogs, last, sizeof(last));
    printf("WATCHDOG=1 pings in 1.5 s: %d\n", watchdogs);
    CHECK(watchdogs >= 3);

    kill(pid, SIGHUP);
    CHECK(await(fd, "RELOADING=1", 5000, NULL, last, sizeof(last)));
    CHECK(await(fd, "READY=1", 5000, NULL, last, sizeof(last)));

    int64_t t0 = now_ms();
    kill(pid, SIGTERM);
    CHECK(await(fd, "STOPPING=1", 5000, NULL, last, sizeof(last)));
    int status = -1;
    while (waitpid(pid, &status, WNOHANG) == 0 && now_ms() - t0 < 5000)
        usleep(10000);
    printf("exit after SIGTERM: %lld ms\n", (long long)(now_ms() - t0));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(now_ms() - t0 < 3000);
    if (!WIFEXITED(status))
        kill(pid, SIGKILL);
    close(fd);
    unlink(sa.sun_path);
    rmdir(dir);
    return test_result("systemd_notify");
}
