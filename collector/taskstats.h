/* taskstats.h: task exits from the kernel's taskstats genetlink family ("TASKSTATS"): the
 * listener socket, and a pure parser of what it receives.
 *
 * A registered listener gets one message for every task (thread) that exits on a CPU it
 * registered for, sent by taskstats_exit() from do_exit() before exit_mm(): the record's
 * hiwater_rss/hiwater_vm are those of the mm at that moment, so the record of the last thread of
 * a process carries the process's final peaks (the figures /proc/PID/status would have shown as
 * VmHWM/VmPeak right before the exit). Each message holds
 *   - TASKSTATS_TYPE_AGGR_PID { TASKSTATS_TYPE_PID u32, [TASKSTATS_TYPE_NULL pad],
 *                               TASKSTATS_TYPE_STATS struct taskstats }: the exiting thread;
 *   - TASKSTATS_TYPE_AGGR_TGID { TASKSTATS_TYPE_TGID u32, TASKSTATS_TYPE_STATS }: only when the
 *     whole thread group died with this thread AND the group was ever multi-threaded (a
 *     thread of it exited while others lived). Its struct only sums delay accounting: no comm,
 *     pids, times or hiwater fields, version 0. Its presence is all we take from it.
 * Kernel facts (kernel/taskstats.c, kernel/tsacct.c, kernel/exit.c, include/uapi/linux/
 * taskstats.h, linux/acct.h), which decide the fields of struct vm_task_exit:
 *   - Registration (TASKSTATS_CMD_GET with TASKSTATS_CMD_ATTR_REGISTER_CPUMASK) needs
 *     CAP_NET_ADMIN (GENL_ADMIN_PERM: -EPERM) and the caller's user and pid namespaces must be
 *     the initial ones (-EINVAL, as for a cpumask that is not a subset of the possible CPUs).
 *     Messages are unicast in the initial network namespace: a listener in another netns
 *     (systemd PrivateNetwork=yes) registers fine and never receives anything.
 *   - pids are those of the initial pid namespace, so they match /proc of the host.
 *   - ac_flag AGROUP (0x20) marks the record of the thread whose exit ended the group; it and
 *     ac_tgid exist from struct version 12 (Linux 5.19). On older kernels the group's end is
 *     known only from the TGID aggregate, which single-threaded processes never get.
 *   - ac_comm is the exiting thread's comm (threads can rename themselves): for a process whose
 *     last thread is not the leader it is that thread's name, not /proc/PID/comm.
 *   - ac_btime is in whole seconds, computed at exit as now_real_s - elapsed_s. ac_etime is the
 *     thread's lifetime in us (CLOCK_MONOTONIC), ac_tgetime (v12) the group leader's, i.e. the
 *     process's so far.
 *   - Struct version 15 (Linux 6.15 development) inserted fields in the middle; version 16
 *     moved them to the end. Version 15 is read by its size (both variants are known).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SO_RCVBUF(FORCE) of the listener: about 4 KiB of skb per queued exit, so room for a few
 * thousand exits while the reader thread is not scheduled. */
#define TASKSTATS_RCVBUF_BYTES (16u << 20)
/* The cpulist registered ("0-255,512-767"): /sys/devices/system/cpu/possible, bounded. */
#define TASKSTATS_CPUMASK_MAX 1024u
/* Receive buffer for one datagram: an exit message is about 1.3 KiB (two struct taskstats). */
#define TASKSTATS_RECV_BUF (16u * 1024u)

/* One task exit, from the exiting thread's struct taskstats (and the presence of the TGID
 * aggregate). Fields name their kernel source. */
struct vm_task_exit {
    int32_t tid;  /* the exiting thread: TASKSTATS_TYPE_PID (== ac_pid), initial pid ns */
    int32_t tgid; /* its process: ac_tgid (v12+), else the TGID aggregate's id, else the
                   * guess tid (guessed is set) */
    int32_t ppid; /* ac_ppid: the parent's tgid at exit time (0: none) */
    uint32_t uid; /* ac_uid: real uid, in the initial user namespace */
    /* ac_exitcode: tsk->exit_code, in wait(2) status encoding: (status & 0xff) << 8 after
     * exit(status), the signal number (| 0x80 with a core dump) when killed. For the last
     * thread of a process it is the process's status as the parent sees it. */
    int32_t exit_code;
    uint16_t version;   /* struct taskstats version the kernel sent */
    uint8_t acct_flags; /* ac_flag: AFORK 0x01, ASU 0x02, ACORE 0x08, AXSIG 0x10, AGROUP 0x20 */
    /* The process (not just a thread) ended with this exit: AGROUP (v12+), or the TGID
     * aggregate is present. Exactly one record per process has it (unless lost). */
    bool group_dead;
    /* Version < 12 and no TGID aggregate: tgid = tid and group_dead = true are a guess (right
     * for single-threaded processes; wrong for a thread of a multi-threaded one). */
    bool guessed;
    /* Start of the process (the group leader), Unix seconds: ac_btime64 (v10+, else ac_btime)
     * moved back by ac_tgetime - ac_etime when the exiting thread is not the leader (v12+).
     * Whole seconds, derived at exit from the wall clock minus the lifetime. */
    uint64_t btime_s;
    /* The exit, Unix ms: ac_btime * 1000 + ac_etime / 1000. Within 1 s of the true time
     * (ac_btime is truncated to seconds). */
    uint64_t exit_ms;
    /* The process's lifetime up to this exit, us (CLOCK_MONOTONIC): ac_tgetime (v12+), else
     * the thread's ac_etime. With the receive time (seen_boottime_ns) it gives the start on the
     * CLOCK_BOOTTIME scale of /proc/PID/stat's starttime. */
    uint64_t elapsed_us;
    /* The mm's peaks at exit (hiwater_rss, hiwater_vm, KiB in the kernel), bytes. 0 for a task
     * without mm (kernel threads) and on kernels without CONFIG_TASK_XACCT. */
    uint64_t hiwater_rss_bytes;
    uint64_t hiwater_vm_bytes;
    /* CLOCK_BOOTTIME ns when the listener received the message: 0 from taskstats_parse, set
     * by the reader (daemon/exitwatch.c). */
    uint64_t seen_boottime_ns;
    char comm[32]; /* ac_comm (TS_COMM_LEN 32, a TASK_COMM_LEN 16 name), NUL-terminated */
};

/* An open, registered listener. */
struct taskstats_listener {
    int fd;          /* NETLINK_GENERIC socket, SOCK_CLOEXEC, bound, registered */
    uint16_t family; /* the TASKSTATS family id: taskstats_parse() needs it */
    uint32_t seq;    /* last request sequence number */
    bool registered; /* the kernel acknowledged the registration of cpumask */
    char cpumask[TASKSTATS_CPUMASK_MAX]; /* the cpulist registered, to deregister it */
};

/* Open a NETLINK_GENERIC socket, resolve the "TASKSTATS" family (CTRL_CMD_GETFAMILY), set the
 * receive buffer (SO_RCVBUFFORCE to TASKSTATS_RCVBUF_BYTES when permitted, else SO_RCVBUF,
 * which rmem_max caps) and register for the exits on every possible CPU. The possible CPUs
 * are read from devices/system/cpu/possible under sys_fd (a directory fd of the sysfs root),
 * or, when sys_fd < 0 or that fails, taken as 0..sysconf(_SC_NPROCESSORS_CONF)-1.
 * Exits that happen while the registration is acknowledged are read and dropped.
 * Returns 0 and a new listener in *ret (the caller owns it: taskstats_close()), or -errno:
 * -EPERM (no CAP_NET_ADMIN), -ENOENT (no TASKSTATS family: CONFIG_TASKSTATS=n), -EINVAL (not
 * in the initial user and pid namespaces, or a cpumask the kernel refuses), -EAFNOSUPPORT /
 * -EACCES (netlink sockets not allowed), -ETIMEDOUT (no answer within 5 s), -ENOMEM, or
 * another socket error. */
int taskstats_open(int sys_fd, struct taskstats_listener **ret);

/* Deregister the cpumask (best effort), close the socket and free the listener. Accepts NULL;
 * returns NULL. */
struct taskstats_listener *taskstats_close(struct taskstats_listener *l);
static inline void taskstats_closep(struct taskstats_listener **l) {
    (void)taskstats_close(*l);
}

/* Parse the netlink messages of one recv() buffer: every TASKSTATS_CMD_NEW message of family
 * with a TASKSTATS_TYPE_AGGR_PID becomes one record in out (in message order), threads and
 * processes alike (group_dead tells them apart). Messages of other families or commands,
 * NLMSG_NOOP, acknowledgements and unknown attributes are skipped; NLMSG_DONE ends the walk.
 * Every length is checked against the buffer, the message and the enclosing attribute; the
 * buffer needs no alignment. Never reads outside [buf, buf+len), does no I/O.
 * *ret_n is always set: the records in out[0..*ret_n) are complete and valid whatever the
 * return value (a bad message never hides the good ones before or after it).
 * Returns 0 when everything was well-formed, or the first problem met:
 *   -EBADMSG: a message or attribute whose length does not fit, a missing or doubled PID or
 *             STATS attribute, ac_pid/ac_tgid disagreeing with the attributes, a pid outside
 *             1..INT32_MAX, a struct shorter than the fields of its version, a time or hiwater
 *             that overflows: that message is skipped (and the walk ends when the message
 *             framing itself is broken);
 *   -EPROTONOSUPPORT: a struct taskstats too short for the fields above (before hiwater_vm),
 *             of version 0, or of version 15 with an unknown size: that record is skipped;
 *   -ENOBUFS: more than max records: the rest are not parsed;
 *   -E...:    an NLMSG_ERROR message carrying an error (its negative errno).
 */
int taskstats_parse(const void *buf, size_t len, uint16_t family, struct vm_task_exit *out,
                    size_t max, size_t *ret_n);
