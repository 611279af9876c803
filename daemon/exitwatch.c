/* exitwatch.c: the taskstats reader thread and its bounded queue of process exits. */
#include "daemon/exitwatch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vmatlas/macros.h"

/* First allocation of the queue; it doubles up to EXITWATCH_QUEUE_MAX. */
#define QUEUE_INITIAL 256u
/* Records one datagram can hold: an exit message has one. */
#define RECORDS_PER_DATAGRAM 8u

struct exitwatch {
    struct taskstats_listener *listener;
    int stop_fd; /* eventfd: written once by exitwatch_stop() */
    pthread_t thread;
    bool started;
    uint8_t *buf; /* TASKSTATS_RECV_BUF bytes, the reader's only */

    pthread_mutex_t lock; /* guards everything below */
    struct vm_task_exit *ring;
    size_t cap, head, count;
    struct exitwatch_counters counters;
};

/* Append one exit (lock held): grow the ring while under the limit, else count a drop. */
static void queue_push(struct exitwatch *w, const struct vm_task_exit *e) {
    if (w->count == w->cap) {
        size_t cap = w->cap * 2;
        struct vm_task_exit *ring =
            w->cap < EXITWATCH_QUEUE_MAX ? malloc_array(cap, sizeof(*ring)) : NULL;
        if (!ring) {
            w->counters.dropped++;
            return;
        }
        /* Unwrap into the new ring: the oldest first. */
        size_t first = w->cap - w->head < w->count ? w->cap - w->head : w->count;
        memcpy(ring, w->ring + w->head, first * sizeof(*ring));
        memcpy(ring + first, w->ring, (w->count - first) * sizeof(*ring));
        free(w->ring);
        w->ring = ring;
        w->cap = cap;
        w->head = 0;
    }
    w->ring[(w->head + w->count) % w->cap] = *e;
    w->count++;
}

static uint64_t boottime_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Read what the socket holds (at most EXITWATCH_BATCH datagrams). Returns 0 or the -errno that
 * ends the reader. */
static int read_batch(struct exitwatch *w) {
    for (unsigned i = 0; i < EXITWATCH_BATCH; i++) {
        struct sockaddr_nl from;
        socklen_t fromlen = sizeof(from);
        /* MSG_TRUNC: the real length, so a datagram cut by the buffer is seen as such. */
        ssize_t got = recvfrom(w->listener->fd, w->buf, TASKSTATS_RECV_BUF,
                               MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                pthread_mutex_lock(&w->lock);
                w->counters.overruns++;
                pthread_mutex_unlock(&w->lock);
                continue;
            }
            return -errno;
        }
        uint64_t seen = boottime_ns();
        struct vm_task_exit recs[RECORDS_PER_DATAGRAM];
        size_t n = 0;
        bool foreign = fromlen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0;
        bool bad = (size_t)got > TASKSTATS_RECV_BUF;
        if (!foreign && !bad)
            bad = taskstats_parse(w->buf, (size_t)got, w->listener->family, recs, ARRAY_SIZE(recs),
                                  &n) < 0;

        pthread_mutex_lock(&w->lock);
        if (foreign) {
            w->counters.foreign++;
        } else {
            w->counters.messages++;
            w->counters.malformed += bad;
        }
        for (size_t k = 0; k < n; k++) {
            if (!recs[k].group_dead) {
                w->counters.threads++;
                continue;
            }
            recs[k].seen_boottime_ns = seen;
            w->counters.processes++;
            queue_push(w, &recs[k]);
        }
        pthread_mutex_unlock(&w->lock);
    }
    return 0;
}

static void *reader(void *arg) {
    struct exitwatch *w = arg;
    struct pollfd p[2] = {
        {.fd = w->listener->fd, .events = POLLIN},
        {.fd = w->stop_fd, .events = POLLIN},
    };
    int r = 0;

    for (;;) {
        if (poll(p, ARRAY_SIZE(p), -1) < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        if (p[1].revents)
            break;
        /* POLLERR is the socket's pending ENOBUFS: recvfrom() reports and clears it. */
        if (p[0].revents & (POLLIN | POLLERR)) {
            r = read_batch(w);
            if (r < 0)
                break;
        } else if (p[0].revents & (POLLHUP | POLLNVAL)) {
            r = -EPIPE;
            break;
        }
    }
    pthread_mutex_lock(&w->lock);
    w->counters.error = r;
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct exitwatch *exitwatch_stop(struct exitwatch *w) {
    if (!w)
        return NULL;
    if (w->started) {
        uint64_t one = 1;
        /* An eventfd write of 1 cannot fail short of overflowing the counter. */
        (void)!write(w->stop_fd, &one, sizeof(one));
        (void)pthread_join(w->thread, NULL);
    }
    if (w->stop_fd >= 0)
        (void)close(w->stop_fd);
    w->listener = taskstats_close(w->listener);
    pthread_mutex_destroy(&w->lock);
    free(w->ring);
    free(w->buf);
    free(w);
    return NULL;
}

static void exitwatch_stopp(struct exitwatch **w) {
    (void)exitwatch_stop(*w);
}

int exitwatch_start(int sys_fd, struct exitwatch **ret) {
    _cleanup_(exitwatch_stopp) struct exitwatch *w = calloc(1, sizeof(*w));
    int r;
    if (!w)
        return -ENOMEM;
    w->stop_fd = -1;
    pthread_mutex_init(&w->lock, NULL);

    w->buf = malloc(TASKSTATS_RECV_BUF);
    w->ring = malloc_array(QUEUE_INITIAL, sizeof(*w->ring));
    if (!w->buf || !w->ring)
        return -ENOMEM;
    w->cap = QUEUE_INITIAL;
    w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->stop_fd < 0)
        return -errno;
    r = taskstats_open(sys_fd, &w->listener);
    if (r < 0)
        return r;

    /* Signals are the main loop's: the reader starts with all of them blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    r = pthread_create(&w->thread, NULL, reader, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return -r;
    w->started = true;
    *ret = TAKE_PTR(w);
    return 0;
}

size_t exitwatch_drain(struct exitwatch *w, struct vm_task_exit *out, size_t max) {
    pthread_mutex_lock(&w->lock);
    size_t k = w->count < max ? w->count : max;
    for (size_t i = 0; i < k; i++)
        out[i] = w->ring[(w->head + i) % w->cap];
    w->head = k ? (w->head + k) % w->cap : w->head;
    w->count -= k;
    pthread_mutex_unlock(&w->lock);
    return k;
}

void exitwatch_counters(struct exitwatch *w, struct exitwatch_counters *ret) {
    pthread_mutex_lock(&w->lock);
    *ret = w->counters;
    ret->queued = w->count;
    pthread_mutex_unlock(&w->lock);
}
