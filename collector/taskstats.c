/* taskstats.c: the taskstats exit listener (a NETLINK_GENERIC socket registered for every
 * possible CPU) and the parser of the exit messages it receives. */
#include "collector/taskstats.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector/readfile.h"
#include "vmatlas/macros.h"

/* linux/acct.h: "... was the last task of the process (task group)" (set from version 12). */
#define TS_AGROUP 0x20u

/* Offsets into struct taskstats (include/uapi/linux/taskstats.h, x86-64 and every other ABI:
 * the struct forces 8-byte alignment itself). Versions only append fields, except version 15,
 * which inserted delay maxima (and, later in the same version, minima) after each delay
 * total; version 16 moved them to the end again. */
enum {
    TS_VERSION = 0,       /* __u16 version */
    TS_EXITCODE = 4,      /* __u32 ac_exitcode */
    TS_FLAG = 8,          /* __u8 ac_flag */
    TS_COMM = 80,         /* char ac_comm[32] */
    TS_UID = 120,         /* __u32 ac_uid */
    TS_PID = 128,         /* __u32 ac_pid */
    TS_PPID = 132,        /* __u32 ac_ppid */
    TS_BTIME = 136,       /* __u32 ac_btime, s */
    TS_ETIME = 144,       /* __u64 ac_etime, us */
    TS_HIWATER_RSS = 200, /* __u64 hiwater_rss, KiB */
    TS_HIWATER_VM = 208,  /* __u64 hiwater_vm, KiB */
    TS_BTIME64 = 344,     /* __u64 ac_btime64, s (v10) */
    TS_TGID = 368,        /* __u32 ac_tgid (v12) */
    TS_TGETIME = 376,     /* __u64 ac_tgetime, us (v12) */
    TS_SIZE_V14 = 432,    /* sizeof(struct taskstats) of version 14 */
};

#if defined(TASKSTATS_VERSION) && TASKSTATS_VERSION >= 12 && TASKSTATS_VERSION != 15
#include <stddef.h>
_Static_assert(offsetof(struct taskstats, ac_exitcode) == TS_EXITCODE, "ac_exitcode");
_Static_assert(offsetof(struct taskstats, ac_flag) == TS_FLAG, "ac_flag");
_Static_assert(offsetof(struct taskstats, ac_comm) == TS_COMM, "ac_comm");
_Static_assert(offsetof(struct taskstats, ac_uid) == TS_UID, "ac_uid");
_Static_assert(offsetof(struct taskstats, ac_pid) == TS_PID, "ac_pid");
_Static_assert(offsetof(struct taskstats, ac_ppid) == TS_PPID, "ac_ppid");
_Static_assert(offsetof(struct taskstats, ac_btime) == TS_BTIME, "ac_btime");
_Static_assert(offsetof(struct taskstats, ac_etime) == TS_ETIME, "ac_etime");
_Static_assert(offsetof(struct taskstats, hiwater_rss) == TS_HIWATER_RSS, "hiwater_rss");
_Static_assert(offsetof(struct taskstats, hiwater_vm) == TS_HIWATER_VM, "hiwater_vm");
_Static_assert(offsetof(struct taskstats, ac_btime64) == TS_BTIME64, "ac_btime64");
_Static_assert(offsetof(struct taskstats, ac_tgid) == TS_TGID, "ac_tgid");
_Static_assert(offsetof(struct taskstats, ac_tgetime) == TS_TGETIME, "ac_tgetime");
#endif

/* Where the fields are in a struct of a given version and size. */
struct ts_layout {
    size_t comm, uid, pid, ppid, btime, etime, hiwater_rss, hiwater_vm, btime64, tgid, tgetime;
};

/* The layout of a struct taskstats of this version and length (the attribute's payload).
 * Returns 0; -EPROTONOSUPPORT when it is too short to reach hiwater_vm or is a version 15 of
 * unknown size; -EBADMSG when it is too short for the fields its version has (ac_btime64 from
 * 10, ac_tgid and ac_tgetime from 12): no kernel sends that. */
static int ts_layout(uint16_t version, size_t len, struct ts_layout *ret) {
    size_t d = 0; /* bytes version 15 inserted after each delay total */
    if (version == 0)
        return -EPROTONOSUPPORT;
    if (version == 15) {
        /* 8 classes (cpu, blkio, swapin, freepages, thrashing, compact, wpcopy, irq) got a
         * max (8 bytes each), then also a min, in place. The size says which. */
        if (len == TS_SIZE_V14 + 8 * 8)
            d = 8;
        else if (len == TS_SIZE_V14 + 8 * 16)
            d = 16;
        else
            return -EPROTONOSUPPORT;
    }
    /* cpu, blkio, swapin come before ac_comm; freepages and thrashing before ac_btime64;
     * compact before ac_tgid. */
    *ret = (struct ts_layout){
        .comm = TS_COMM + 3 * d,
        .uid = TS_UID + 3 * d,
        .pid = TS_PID + 3 * d,
        .ppid = TS_PPID + 3 * d,
        .btime = TS_BTIME + 3 * d,
        .etime = TS_ETIME + 3 * d,
        .hiwater_rss = TS_HIWATER_RSS + 3 * d,
        .hiwater_vm = TS_HIWATER_VM + 3 * d,
        .btime64 = TS_BTIME64 + 5 * d,
        .tgid = TS_TGID + 6 * d,
        .tgetime = TS_TGETIME + 6 * d,
    };
    if (len < ret->hiwater_vm + 8)
        return -EPROTONOSUPPORT;
    if ((version >= 10 && len < ret->btime64 + 8) || (version >= 12 && len < ret->tgetime + 8))
        return -EBADMSG;
    return 0;
}

/* Unaligned host-order loads; callers have checked the bounds. */
static uint16_t ld16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static uint32_t ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static uint64_t ld64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* A pid of the initial namespace: 1..INT32_MAX (pid_max is at most 4M). */
static bool pid_ok(uint32_t v) {
    return v >= 1 && v <= INT32_MAX;
}

/* The next netlink attribute of [p, p+len) at *pos: its type (flags masked), payload and
 * payload length. Returns 1, 0 at the end, or -EBADMSG for a header or length that does not
 * fit (then the walk cannot go on). */
static int nla_next(const uint8_t *p, size_t len, size_t *pos, uint16_t *ret_type,
                    const uint8_t **ret_data, size_t *ret_dlen) {
    size_t left = len - *pos;
    struct nlattr a;
    if (left == 0)
        return 0;
    if (left < NLA_HDRLEN)
        return -EBADMSG;
    memcpy(&a, p + *pos, sizeof(a));
    if (a.nla_len < NLA_HDRLEN || a.nla_len > left)
        return -EBADMSG;
    *ret_type = a.nla_type & NLA_TYPE_MASK;
    *ret_data = p + *pos + NLA_HDRLEN;
    *ret_dlen = a.nla_len - NLA_HDRLEN;
    /* The last attribute need not be padded. */
    size_t step = NLA_ALIGN((size_t)a.nla_len);
    *pos += step < left ? step : left;
    return 1;
}

/* The next netlink message of [p, p+len) at *pos: header and payload. Returns 1, 0 at the
 * end, or -EBADMSG when the framing is broken (a header or nlmsg_len that does not fit). */
static int nlmsg_next(const uint8_t *p, size_t len, size_t *pos, struct nlmsghdr *ret_hdr,
                      const uint8_t **ret_data, size_t *ret_dlen) {
    size_t left = len - *pos;
    if (left == 0)
        return 0;
    if (left < NLMSG_HDRLEN)
        return -EBADMSG;
    memcpy(ret_hdr, p + *pos, sizeof(*ret_hdr));
    if (ret_hdr->nlmsg_len < NLMSG_HDRLEN || ret_hdr->nlmsg_len > left)
        return -EBADMSG;
    *ret_data = p + *pos + NLMSG_HDRLEN;
    *ret_dlen = ret_hdr->nlmsg_len - NLMSG_HDRLEN;
    size_t step = NLMSG_ALIGN((size_t)ret_hdr->nlmsg_len);
    *pos += step < left ? step : left;
    return 1;
}

/* One TASKSTATS_TYPE_AGGR_PID or _AGGR_TGID nest: its id attribute and its stats. */
struct aggr {
    bool present;
    bool has_id;
    uint32_t id;
    const uint8_t *stats;
    size_t stats_len;
};

/* Parse the nest [p, p+len) whose id attribute is id_type. Returns 0 or -EBADMSG (bad
 * lengths, an id that is not exactly a u32, a doubled id or stats attribute). */
static int aggr_parse(const uint8_t *p, size_t len, uint16_t id_type, struct aggr *ret) {
    struct aggr a = {.present = true};
    const uint8_t *data;
    size_t pos = 0, dlen;
    uint16_t type;
    int r;

    while ((r = nla_next(p, len, &pos, &type, &data, &dlen)) > 0) {
        if (type == id_type) {
            if (a.has_id || dlen != sizeof(uint32_t))
                return -EBADMSG;
            a.has_id = true;
            a.id = ld32(data);
        } else if (type == TASKSTATS_TYPE_STATS) {
            if (a.stats)
                return -EBADMSG;
            a.stats = data;
            a.stats_len = dlen;
        } /* TASKSTATS_TYPE_NULL (alignment padding) and unknown types are skipped */
    }
    if (r < 0)
        return r;
    *ret = a;
    return 0;
}

/* The record of one exit from the exiting thread's nest and the TGID nest (present or not).
 * Returns 0, -EBADMSG or -EPROTONOSUPPORT. */
static int record_build(const struct aggr *pid, const struct aggr *tgid, struct vm_task_exit *ret) {
    struct vm_task_exit e = {0};
    struct ts_layout l;
    const uint8_t *s = pid->stats;
    size_t len = pid->stats_len;
    int r;

    if (!pid->has_id || !pid->stats || !pid_ok(pid->id))
        return -EBADMSG;
    if (tgid->present && (!tgid->has_id || !pid_ok(tgid->id)))
        return -EBADMSG;
    if (len < TS_FLAG + 1)
        return -EPROTONOSUPPORT;
    e.version = ld16(s + TS_VERSION);
    r = ts_layout(e.version, len, &l);
    if (r < 0)
        return r;

    e.tid = (int32_t)pid->id;
    if (ld32(s + l.pid) != pid->id)
        return -EBADMSG;
    e.exit_code = (int32_t)ld32(s + TS_EXITCODE);
    e.acct_flags = s[TS_FLAG];
    e.uid = ld32(s + l.uid);
    uint32_t ppid = ld32(s + l.ppid);
    if (ppid > INT32_MAX)
        return -EBADMSG;
    e.ppid = (int32_t)ppid;

    /* The process: ac_tgid and AGROUP from version 12; before, only the TGID nest says. */
    if (e.version >= 12) {
        uint32_t t = ld32(s + l.tgid);
        if (!pid_ok(t) || (tgid->present && tgid->id != t))
            return -EBADMSG;
        e.tgid = (int32_t)t;
        e.group_dead = (e.acct_flags & TS_AGROUP) || tgid->present;
    } else if (tgid->present) {
        e.tgid = (int32_t)tgid->id;
        e.group_dead = true;
    } else {
        e.tgid = e.tid;
        e.group_dead = true;
        e.guessed = true;
    }

    /* Times: the thread's start in whole seconds and lifetime in us; the leader's lifetime
     * (v12) moves the start back to the process's. */
    uint64_t btime = e.version >= 10 ? ld64(s + l.btime64) : ld32(s + l.btime);
    uint64_t etime_us = ld64(s + l.etime);
    uint64_t tgetime_us = e.version >= 12 ? ld64(s + l.tgetime) : etime_us;
    uint64_t now_s, exit_ms;
    if (__builtin_add_overflow(btime, etime_us / 1000000u, &now_s) ||
        __builtin_mul_overflow(btime, 1000u, &exit_ms) ||
        __builtin_add_overflow(exit_ms, etime_us / 1000u, &exit_ms))
        return -EBADMSG;
    e.exit_ms = exit_ms;
    e.elapsed_us = tgetime_us;
    /* The kernel's own formula, btime = now_s - elapsed_s, with the leader's elapsed time. A
     * leader younger than its thread cannot be: then keep the thread's start. */
    e.btime_s = tgetime_us >= etime_us && now_s >= tgetime_us / 1000000u
                    ? now_s - tgetime_us / 1000000u
                    : btime;

    if (__builtin_mul_overflow(ld64(s + l.hiwater_rss), 1024u, &e.hiwater_rss_bytes) ||
        __builtin_mul_overflow(ld64(s + l.hiwater_vm), 1024u, &e.hiwater_vm_bytes))
        return -EBADMSG;

    const uint8_t *comm = s + l.comm;
    size_t n = 0;
    while (n < sizeof(e.comm) - 1 && n < TS_COMM_LEN /* 32, the uapi's */ && comm[n])
        n++;
    memcpy(e.comm, comm, n);
    e.comm[n] = '\0';

    *ret = e;
    return 0;
}

/* One genetlink message of the family (payload after the netlink header). Returns 1 with a
 * record in *ret, 0 when it holds none (another command, a TGID-only reply), or -errno. */
static int genl_parse(const uint8_t *p, size_t len, struct vm_task_exit *ret) {
    struct aggr pid = {0}, tgid = {0};
    const uint8_t *data;
    size_t pos = GENL_HDRLEN, dlen;
    uint16_t type;
    int r;

    if (len < GENL_HDRLEN)
        return -EBADMSG;
    if (p[0] != TASKSTATS_CMD_NEW)
        return 0;
    while ((r = nla_next(p, len, &pos, &type, &data, &dlen)) > 0) {
        struct aggr *a = type == TASKSTATS_TYPE_AGGR_PID    ? &pid
                         : type == TASKSTATS_TYPE_AGGR_TGID ? &tgid
                                                            : NULL;
        if (!a)
            continue; /* TASKSTATS_TYPE_NULL padding (before 4.7), unknown types */
        if (a->present)
            return -EBADMSG;
        r = aggr_parse(data, dlen,
                       type == TASKSTATS_TYPE_AGGR_PID ? TASKSTATS_TYPE_PID : TASKSTATS_TYPE_TGID,
                       a);
        if (r < 0)
            return r;
    }
    if (r < 0)
        return r;
    if (!pid.present)
        return 0;
    r = record_build(&pid, &tgid, ret);
    return r < 0 ? r : 1;
}

int taskstats_parse(const void *buf, size_t len, uint16_t family, struct vm_task_exit *out,
                    size_t max, size_t *ret_n) {
    const uint8_t *p = buf, *data;
    struct nlmsghdr h;
    size_t pos = 0, dlen, n = 0;
    int r, first = 0;

    while ((r = nlmsg_next(p, len, &pos, &h, &data, &dlen)) > 0) {
        if (h.nlmsg_type == NLMSG_DONE)
            break;
        if (h.nlmsg_type == NLMSG_ERROR) {
            int32_t err;
            if (dlen < sizeof(err)) {
                r = -EBADMSG;
            } else {
                memcpy(&err, data, sizeof(err));
                r = err > -4096 && err <= 0 ? err : -EBADMSG; /* 0 is an acknowledgement */
            }
        } else if (h.nlmsg_type == family && family >= NLMSG_MIN_TYPE) {
            struct vm_task_exit e;
            r = genl_parse(data, dlen, &e);
            if (r > 0) {
                if (n == max) {
                    r = -ENOBUFS;
                    if (!first)
                        first = r;
                    break;
                }
                out[n++] = e;
                r = 0;
            }
        } else {
            r = 0; /* NLMSG_NOOP, other families */
        }
        if (r < 0 && !first)
            first = r;
    }
    if (r < 0 && !first)
        first = r;
    *ret_n = n;
    return first;
}

/* ---- the socket ---------------------------------------------------------------------------- */

#define TS_REPLY_TIMEOUT_MS 5000

static uint64_t now_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Send one request: nlmsghdr, genlmsghdr {cmd, version 1}, one attribute. */
static int request(struct taskstats_listener *l, uint16_t type, uint8_t cmd, uint16_t attr,
                   const void *data, size_t dlen, uint16_t flags) {
    uint8_t msg[NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + NLA_ALIGN(TASKSTATS_CPUMASK_MAX)];
    if (dlen > TASKSTATS_CPUMASK_MAX)
        return -E2BIG;
    size_t alen = NLA_HDRLEN + dlen, total = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(alen);
    memset(msg, 0, total);
    struct nlmsghdr h = {
        .nlmsg_len = (uint32_t)total,
        .nlmsg_type = type,
        .nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags),
        .nlmsg_seq = ++l->seq,
    };
    struct genlmsghdr g = {.cmd = cmd, .version = TASKSTATS_GENL_VERSION};
    struct nlattr a = {.nla_len = (uint16_t)alen, .nla_type = attr};
    memcpy(msg, &h, sizeof(h));
    memcpy(msg + NLMSG_HDRLEN, &g, sizeof(g));
    memcpy(msg + NLMSG_HDRLEN + GENL_HDRLEN, &a, sizeof(a));
    memcpy(msg + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, data, dlen);

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t w;
    do
        w = sendto(l->fd, msg, total, 0, (const struct sockaddr *)&kernel, sizeof(kernel));
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return -errno;
    return (size_t)w == total ? 0 : -EIO;
}

/* CTRL_ATTR_FAMILY_ID of a CTRL_CMD_NEWFAMILY payload. Returns 0 or -EBADMSG. */
static int family_id_parse(const uint8_t *p, size_t len, uint16_t *ret) {
    const uint8_t *data;
    size_t pos = GENL_HDRLEN, dlen;
    uint16_t type;
    int r;

    if (len < GENL_HDRLEN || p[0] != CTRL_CMD_NEWFAMILY)
        return -EBADMSG;
    while ((r = nla_next(p, len, &pos, &type, &data, &dlen)) > 0)
        if (type == CTRL_ATTR_FAMILY_ID && dlen == sizeof(uint16_t)) {
            *ret = ld16(data);
            return *ret >= NLMSG_MIN_TYPE ? 0 : -EBADMSG;
        }
    return -EBADMSG;
}

/* Wait for the answer to request l->seq: the family id (ret_family) or an acknowledgement
 * (ret_family NULL). Messages from anyone but the kernel, other sequence numbers and exit
 * messages are dropped. Returns 0, the request's -errno, -ETIMEDOUT or a socket error. */
static int await_reply(struct taskstats_listener *l, uint16_t *ret_family) {
    _cleanup_free_ uint8_t *buf = malloc(TASKSTATS_RECV_BUF);
    uint64_t deadline = now_ms() + TS_REPLY_TIMEOUT_MS;
    if (!buf)
        return -ENOMEM;

    for (;;) {
        uint64_t t = now_ms();
        if (t >= deadline)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(deadline - t));
        if (pr < 0 && errno != EINTR)
            return -errno;
        if (pr <= 0)
            continue;

        struct sockaddr_nl from;
        socklen_t fromlen = sizeof(from);
        ssize_t got = recvfrom(l->fd, buf, TASKSTATS_RECV_BUF, MSG_DONTWAIT,
                               (struct sockaddr *)&from, &fromlen);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)
                continue; /* ENOBUFS: exits overran the buffer; the reply is still to come */
            return -errno;
        }
        if (fromlen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
            continue;

        const uint8_t *data;
        struct nlmsghdr h;
        size_t pos = 0, dlen;
        while (nlmsg_next(buf, (size_t)got, &pos, &h, &data, &dlen) > 0) {
            if (h.nlmsg_seq != l->seq)
                continue;
            if (h.nlmsg_type == NLMSG_ERROR) {
                int32_t err;
                if (dlen < sizeof(err))
                    return -EBADMSG;
                memcpy(&err, data, sizeof(err));
                if (err > 0 || err <= -4096)
                    return -EBADMSG;
                if (err < 0 || !ret_family)
                    return err;
            } else if (ret_family && h.nlmsg_type == GENL_ID_CTRL) {
                return family_id_parse(data, dlen, ret_family);
            }
        }
    }
}

/* Is s a cpulist ("0-3,8,10-11")? */
static bool cpulist_ok(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == ','))
            return false;
    return true;
}

/* The possible CPUs as a cpulist in l->cpumask. */
static int possible_cpus(int sys_fd, struct taskstats_listener *l) {
    if (sys_fd >= 0 &&
        read_line_at(sys_fd, "devices/system/cpu/possible", l->cpumask, sizeof(l->cpumask)) == 0 &&
        cpulist_ok(l->cpumask))
        return 0;
    long n = sysconf(_SC_NPROCESSORS_CONF);
    if (n < 1)
        n = 1;
    int w = n == 1 ? snprintf(l->cpumask, sizeof(l->cpumask), "0")
                   : snprintf(l->cpumask, sizeof(l->cpumask), "0-%ld", n - 1);
    return w > 0 && (size_t)w < sizeof(l->cpumask) ? 0 : -E2BIG;
}

int taskstats_open(int sys_fd, struct taskstats_listener **ret) {
    _cleanup_(taskstats_closep) struct taskstats_listener *l = calloc(1, sizeof(*l));
    int r;
    if (!l)
        return -ENOMEM;
    l->fd = -1;
    r = possible_cpus(sys_fd, l);
    if (r < 0)
        return r;

    l->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (l->fd < 0)
        return -errno;
    struct sockaddr_nl self = {.nl_family = AF_NETLINK}; /* nl_pid 0: the kernel picks one */
    if (bind(l->fd, (const struct sockaddr *)&self, sizeof(self)) < 0)
        return -errno;
    /* SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN, which registering needs anyway. */
    int bytes = (int)TASKSTATS_RCVBUF_BYTES;
    if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
        (void)setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));

    static const char name[] = TASKSTATS_GENL_NAME;
    r = request(l, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, name, sizeof(name), 0);
    if (r < 0)
        return r;
    r = await_reply(l, &l->family);
    if (r < 0)
        return r;

    r = request(l, l->family, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, l->cpumask,
                strlen(l->cpumask) + 1, NLM_F_ACK);
    if (r < 0)
        return r;
    r = await_reply(l, NULL);
    if (r < 0)
        return r;
    l->registered = true;
    *ret = TAKE_PTR(l);
    return 0;
}

struct taskstats_listener *taskstats_close(struct taskstats_listener *l) {
    if (!l)
        return NULL;
    if (l->fd >= 0) {
        /* Without this the kernel drops us at the first exit it cannot deliver. */
        if (l->registered)
            (void)request(l, l->family, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK,
                          l->cpumask, strlen(l->cpumask) + 1, 0);
        (void)close(l->fd);
    }
    free(l);
    return NULL;
}
