/* exitwatch.h: a thread that reads task exits from the taskstats listener and queues the ends
 * of processes, so that processes living between two scans are still seen (with their final
 * peaks) by the next snapshot.
 *
 * Only records with group_dead are queued: one per process, from its last thread, whose
 * hiwater_rss/hiwater_vm are those of the process's mm at its end. Records of threads that end
 * while their process lives on are counted and dropped, on purpose: all threads share the mm
 * and its high-water marks only grow, so a thread's record never holds more than the final
 * record of the same mm. The one case where it would is a multi-threaded execve(): the other
 * threads exit with the old image's mm, and the process goes on with a new one whose peaks
 * start again. /proc's VmHWM restarts at execve() too (and a single-threaded execve() sends
 * no record at all), so keeping the old image's peak for multi-threaded processes only would
 * make the figure mean two things. The final record is consistent with what a scan would have
 * read from /proc/PID/status just before the exit.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "collector/taskstats.h"

/* Process exits held until the snapshot drains them (112 bytes each, 7 MiB when full; the
 * queue grows on demand up to this). */
#define EXITWATCH_QUEUE_MAX 65536u
/* Datagrams read per wakeup before looking at the stop request again. */
#define EXITWATCH_BATCH 256u

struct exitwatch;

struct exitwatch_counters {
    uint64_t messages;  /* datagrams from the kernel */
    uint64_t processes; /* process exits (group_dead records) received */
    uint64_t threads;   /* exits of threads whose process lived on: counted, not queued */
    uint64_t dropped;   /* process exits lost because the queue was full */
    uint64_t overruns;  /* ENOBUFS from the socket: the kernel dropped exits (how many is not
                         * known) because the receive buffer was full */
    uint64_t malformed; /* datagrams the parser found a problem in (truncated ones included) */
    uint64_t foreign;   /* datagrams not sent by the kernel, ignored */
    uint64_t queued;    /* process exits in the queue now */
    int error;          /* 0 while the reader runs, or the -errno that stopped it */
};

/* Open and register a taskstats listener (taskstats_open(sys_fd), see collector/taskstats.h)
 * and start the reader thread (all signals blocked in it). Returns 0 and the watcher in *ret
 * (the caller owns it: exitwatch_stop()), or -errno: the listener's (-EPERM without
 * CAP_NET_ADMIN, -EINVAL outside the initial user/pid namespaces, -ENOENT without
 * CONFIG_TASKSTATS), -ENOMEM, or pthread_create()'s. The daemon reports the errno as the
 * capability's state. */
int exitwatch_start(int sys_fd, struct exitwatch **ret);

/* Move up to max of the oldest queued process exits to out, oldest first, and return how many.
 * Thread-safe against the reader. */
size_t exitwatch_drain(struct exitwatch *w, struct vm_task_exit *out, size_t max);

/* The counters since the start, read together. */
void exitwatch_counters(struct exitwatch *w, struct exitwatch_counters *ret);

/* Stop the reader (it wakes at once: it polls an eventfd next to the socket), deregister and
 * close the listener and free everything, queued exits included. Accepts NULL; returns NULL. */
struct exitwatch *exitwatch_stop(struct exitwatch *w);
