/* test_taskstats.c: taskstats_parse on crafted exit messages: single- and multi-threaded
 * exits, the struct versions (older and shorter ones, the two version-15 layouts), truncation,
 * NLMSG_ERROR, bad lengths and messages of other families.
 *
 * Field offsets here come from the uapi header's struct (offsetof), not from the parser. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/taskstats.h"
#include "test.h"

#define FAMILY 0x1c
#define AFORK 0x01
#define AXSIG 0x10
#define AGROUP 0x20

/* Struct sizes by version (x86-64): v8 ends after freepages, v10 adds ac_btime64, v11
 * compact, v12 ac_tgid..ac_exe_inode, v13 wpcopy, v14 irq, v16 the delay max/min pairs. */
#define SIZE_V8 328
#define SIZE_V10 352
#define SIZE_V11 368
#define SIZE_V12 400
#define SIZE_V13 416
#define SIZE_V14 432
#define SIZE_V15_MAX 496
#define SIZE_V16 560

/* ---- a message builder --------------------------------------------------------------------- */

struct mb {
    uint8_t buf[16384];
    size_t len;
};

static void put(struct mb *m, const void *p, size_t n) {
    if (n == 0)
        return;
    if (m->len + n > sizeof(m->buf))
        abort();
    memcpy(m->buf + m->len, p, n);
    m->len += n;
}

static void pad4(struct mb *m) {
    static const uint8_t zero[4];
    put(m, zero, NLA_ALIGN(m->len) - m->len);
}

/* Start a netlink message; returns where its header is. */
static size_t msg_begin(struct mb *m, uint16_t type) {
    size_t at = m->len;
    struct nlmsghdr h = {.nlmsg_type = type, .nlmsg_seq = 7};
    put(m, &h, sizeof(h));
    return at;
}

static void msg_end(struct mb *m, size_t at) {
    uint32_t len = (uint32_t)(m->len - at);
    memcpy(m->buf + at, &len, sizeof(len));
    pad4(m);
}

static void genl(struct mb *m, uint8_t cmd) {
    struct genlmsghdr g = {.cmd = cmd, .version = 1};
    put(m, &g, sizeof(g));
}

static void attr(struct mb *m, uint16_t type, const void *data, size_t n) {
    struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type};
    put(m, &a, sizeof(a));
    put(m, data, n);
    pad4(m);
}

static size_t nest_begin(struct mb *m, uint16_t type) {
    size_t at = m->len;
    struct nlattr a = {.nla_type = type};
    put(m, &a, sizeof(a));
    return at;
}

static void nest_end(struct mb *m, size_t at) {
    uint16_t len = (uint16_t)(m->len - at);
    memcpy(m->buf + at, &len, sizeof(len));
}

static void u32attr(struct mb *m, uint16_t type, uint32_t v) {
    attr(m, type, &v, sizeof(v));
}

/* The fields of one struct taskstats. */
struct ts {
    size_t size;  /* bytes of the STATS attribute */
    size_t shift; /* version 15: bytes inserted after each delay total (8 or 16) */
    uint16_t version;
    uint32_t exitcode;
    uint8_t flag;
    const char *comm;
    uint32_t uid, pid, ppid, btime, tgid;
    uint64_t etime, hiwater_rss, hiwater_vm, btime64, tgetime;
};

#define OFF(f) offsetof(struct taskstats, f)

static void store(uint8_t *s, const struct ts *t, size_t off, const void *v, size_t n) {
    if (off + n <= t->size)
        memcpy(s + off, v, n);
}

static void ts_bytes(const struct ts *t, uint8_t *s) {
    size_t d = t->shift;
    memset(s, 0, t->size);
    store(s, t, OFF(version), &t->version, 2);
    store(s, t, OFF(ac_exitcode), &t->exitcode, 4);
    store(s, t, OFF(ac_flag), &t->flag, 1);
    if (t->comm)
        store(s, t, OFF(ac_comm) + 3 * d, t->comm, strlen(t->comm));
    store(s, t, OFF(ac_uid) + 3 * d, &t->uid, 4);
    store(s, t, OFF(ac_pid) + 3 * d, &t->pid, 4);
    store(s, t, OFF(ac_ppid) + 3 * d, &t->ppid, 4);
    store(s, t, OFF(ac_btime) + 3 * d, &t->btime, 4);
    store(s, t, OFF(ac_etime) + 3 * d, &t->etime, 8);
    store(s, t, OFF(hiwater_rss) + 3 * d, &t->hiwater_rss, 8);
    store(s, t, OFF(hiwater_vm) + 3 * d, &t->hiwater_vm, 8);
    store(s, t, OFF(ac_btime64) + 5 * d, &t->btime64, 8);
    store(s, t, OFF(ac_tgid) + 6 * d, &t->tgid, 4);
    store(s, t, OFF(ac_tgetime) + 6 * d, &t->tgetime, 8);
}

/* One aggregate: the id attribute, [a NULL pad], the stats. */
static void aggr(struct mb *m, uint16_t type, uint32_t id, const struct ts *t, bool pad) {
    uint8_t s[1024];
    size_t at = nest_begin(m, type);
    bool is_pid = (type & NLA_TYPE_MASK) == TASKSTATS_TYPE_AGGR_PID;
    u32attr(m, is_pid ? TASKSTATS_TYPE_PID : TASKSTATS_TYPE_TGID, id);
    if (pad)
        attr(m, TASKSTATS_TYPE_NULL, NULL, 0);
    ts_bytes(t, s);
    attr(m, TASKSTATS_TYPE_STATS, s, t->size);
    nest_end(m, at);
}

/* A whole exit message as taskstats_exit() sends it: the thread, and the group when tg. */
static void exit_msg(struct mb *m, const struct ts *t, bool tg, uint32_t tgid) {
    size_t at = msg_begin(m, FAMILY);
    genl(m, TASKSTATS_CMD_NEW);
    aggr(m, TASKSTATS_TYPE_AGGR_PID, t->pid, t, false);
    if (tg) {
        /* The group's struct: delay sums only, version 0, same size. */
        struct ts g = {.size = t->size};
        aggr(m, TASKSTATS_TYPE_AGGR_TGID, tgid, &g, false);
    }
    msg_end(m, at);
}

static int parse(const struct mb *m, size_t len, struct vm_task_exit *out, size_t max, size_t *n) {
    char *p = exact((const char *)m->buf, len);
    int r = taskstats_parse(p, len, FAMILY, out, max, n);
    free(p);
    return r;
}

/* ---- cases --------------------------------------------------------------------------------- */

static const struct ts single = {
    .size = SIZE_V16,
    .version = 16,
    .exitcode = 3 << 8,
    .flag = AGROUP | AFORK,
    .comm = "short-lived",
    .uid = 1000,
    .pid = 4242,
    .ppid = 1,
    .btime = 1700000000,
    .btime64 = 1700000000,
    .etime = 1234567,
    .tgid = 4242,
    .tgetime = 1234567,
    .hiwater_rss = 65600,
    .hiwater_vm = 70000,
};

static void check_single(const struct vm_task_exit *e) {
    CHECK_EQ_INT(e->tid, 4242);
    CHECK_EQ_INT(e->tgid, 4242);
    CHECK_EQ_INT(e->ppid, 1);
    CHECK_EQ_U64(e->uid, 1000);
    CHECK_EQ_INT(e->exit_code, 3 << 8);
    CHECK_EQ_INT(e->version, 16);
    CHECK_EQ_INT(e->acct_flags, AGROUP | AFORK);
    CHECK(e->group_dead);
    CHECK(!e->guessed);
    CHECK_EQ_U64(e->btime_s, 1700000000);
    CHECK_EQ_U64(e->exit_ms, 1700000000000ull + 1234);
    CHECK_EQ_U64(e->elapsed_us, 1234567);
    CHECK_EQ_U64(e->hiwater_rss_bytes, 65600ull * 1024);
    CHECK_EQ_U64(e->hiwater_vm_bytes, 70000ull * 1024);
    CHECK_EQ_U64(e->seen_boottime_ns, 0);
    CHECK_STREQ(e->comm, "short-lived");
}

static void test_single(void) {
    struct mb m = {0};
    struct vm_task_exit out[4];
    size_t n = 99;

    exit_msg(&m, &single, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);
    check_single(&out[0]);

    /* Strict-alignment 64-bit kernels put a TASKSTATS_TYPE_NULL before the stats (inside the
     * nest; before 4.7, before the nest), and the nest may carry NLA_F_NESTED. Same record. */
    memset(&m, 0, sizeof(m));
    size_t at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    attr(&m, TASKSTATS_TYPE_NULL, NULL, 0);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID | NLA_F_NESTED, 4242, &single, true);
    msg_end(&m, at);
    n = 99;
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);
    check_single(&out[0]);

    /* The buffer needs no alignment. */
    char *odd = malloc(m.len + 1);
    memcpy(odd + 1, m.buf, m.len);
    n = 99;
    CHECK_EQ_INT(taskstats_parse(odd + 1, m.len, FAMILY, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);
    check_single(&out[0]);
    free(odd);

    /* A comm filling all 32 bytes without a NUL: cut to 31, terminated. */
    struct ts t = single;
    t.comm = "0123456789abcdef0123456789ABCDEF";
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &t, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);
    CHECK_STREQ(out[0].comm, "0123456789abcdef0123456789ABCDE");
}

static void test_multithreaded(void) {
    struct mb m = {0};
    struct vm_task_exit out[8];
    size_t n = 99;

    /* Process 5000: thread 5002 ends first (no AGROUP, no aggregate), then thread 5001 is the
     * last one (AGROUP and the TGID aggregate). Thread 5001 started 7.7 s after the leader. */
    struct ts t2 = {.size = SIZE_V14,
                    .version = 14,
                    .comm = "worker-2",
                    .uid = 33,
                    .pid = 5002,
                    .ppid = 4000,
                    .btime = 1700000095,
                    .btime64 = 1700000095,
                    .etime = 1000000,
                    .tgid = 5000,
                    .tgetime = 6000000,
                    .hiwater_rss = 90000,
                    .hiwater_vm = 300000};
    struct ts t1 = {.size = SIZE_V14,
                    .version = 14,
                    .exitcode = 9 /* SIGKILL */,
                    .flag = AGROUP | AXSIG,
                    .comm = "worker-3",
                    .uid = 33,
                    .pid = 5001,
                    .ppid = 4000,
                    .btime = 1700000100,
                    .btime64 = 1700000100,
                    .etime = 2500000,
                    .tgid = 5000,
                    .tgetime = 10200000,
                    .hiwater_rss = 100000,
                    .hiwater_vm = 400000};
    exit_msg(&m, &t2, false, 0);
    exit_msg(&m, &t1, true, 5000);
    CHECK_EQ_INT(parse(&m, m.len, out, 8, &n), 0);
    CHECK_EQ_U64(n, 2);

    CHECK_EQ_INT(out[0].tid, 5002);
    CHECK_EQ_INT(out[0].tgid, 5000);
    CHECK(!out[0].group_dead);
    CHECK(!out[0].guessed);
    CHECK_STREQ(out[0].comm, "worker-2");

    CHECK_EQ_INT(out[1].tid, 5001);
    CHECK_EQ_INT(out[1].tgid, 5000);
    CHECK_EQ_INT(out[1].ppid, 4000);
    CHECK_EQ_U64(out[1].uid, 33);
    CHECK(out[1].group_dead);
    CHECK(!out[1].guessed);
    CHECK_EQ_INT(out[1].exit_code, 9);
    CHECK_EQ_INT(out[1].acct_flags, AGROUP | AXSIG);
    CHECK_EQ_INT(out[1].version, 14);
    /* The process started at exit_s - 10 = (1700000100 + 2) - 10. */
    CHECK_EQ_U64(out[1].btime_s, 1700000092);
    CHECK_EQ_U64(out[1].exit_ms, 1700000100000ull + 2500);
    CHECK_EQ_U64(out[1].elapsed_us, 10200000);
    CHECK_EQ_U64(out[1].hiwater_rss_bytes, 100000ull * 1024);
    CHECK_EQ_U64(out[1].hiwater_vm_bytes, 400000ull * 1024);
    CHECK_STREQ(out[1].comm, "worker-3");

    /* The leader exiting first (pthread_exit() in main): tid == tgid, yet the process lives
     * on. Only AGROUP can tell; group_dead must be false. */
    struct ts lead = t2;
    lead.pid = 5000;
    lead.comm = "main";
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &lead, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 8, &n), 0);
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_INT(out[0].tid, 5000);
    CHECK_EQ_INT(out[0].tgid, 5000);
    CHECK(!out[0].group_dead);

    /* A TGID aggregate alone (a reply to a TGID query, not an exit): no record. */
    memset(&m, 0, sizeof(m));
    size_t at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    aggr(&m, TASKSTATS_TYPE_AGGR_TGID, 5000, &t1, false);
    msg_end(&m, at);
    n = 99;
    CHECK_EQ_INT(parse(&m, m.len, out, 8, &n), 0);
    CHECK_EQ_U64(n, 0);
}

static void test_versions(void) {
    struct mb m = {0};
    struct vm_task_exit out[4];
    size_t n;

    /* Version 8: no ac_btime64, no ac_tgid, no AGROUP. Without an aggregate the record is a
     * guessed single-threaded process; with one, the aggregate names the process. */
    struct ts v8 = {.size = SIZE_V8,
                    .version = 8,
                    .exitcode = 1 << 8,
                    .comm = "old",
                    .uid = 0,
                    .pid = 7000,
                    .ppid = 1,
                    .btime = 1200000000,
                    .etime = 5000,
                    .hiwater_rss = 1024,
                    .hiwater_vm = 4096};
    exit_msg(&m, &v8, false, 0);
    exit_msg(&m, &v8, true, 6999);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_INT(out[0].version, 8);
    CHECK_EQ_INT(out[0].tid, 7000);
    CHECK_EQ_INT(out[0].tgid, 7000);
    CHECK(out[0].group_dead);
    CHECK(out[0].guessed);
    CHECK_EQ_U64(out[0].btime_s, 1200000000);
    CHECK_EQ_U64(out[0].exit_ms, 1200000000005ull);
    CHECK_EQ_U64(out[0].elapsed_us, 5000);
    CHECK_EQ_U64(out[0].hiwater_rss_bytes, 1024ull * 1024);
    CHECK_EQ_U64(out[0].hiwater_vm_bytes, 4096ull * 1024);
    CHECK_STREQ(out[0].comm, "old");
    CHECK_EQ_INT(out[1].tid, 7000);
    CHECK_EQ_INT(out[1].tgid, 6999);
    CHECK(out[1].group_dead);
    CHECK(!out[1].guessed);

    /* Version 10 and 11: ac_btime64 wins over the clamped 32-bit ac_btime (past 2106). */
    for (int v = 10; v <= 11; v++) {
        struct ts t = v8;
        t.version = (uint16_t)v;
        t.size = v == 10 ? SIZE_V10 : SIZE_V11;
        t.btime = UINT32_MAX;
        t.btime64 = 5000000000ull;
        memset(&m, 0, sizeof(m));
        exit_msg(&m, &t, false, 0);
        CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
        CHECK_EQ_U64(n, 1);
        CHECK_EQ_U64(out[0].btime_s, 5000000000ull);
        CHECK(out[0].guessed);
    }

    /* Version 12 and 13 read like 16. */
    for (int v = 12; v <= 13; v++) {
        struct ts t = single;
        t.version = (uint16_t)v;
        t.size = v == 12 ? SIZE_V12 : SIZE_V13;
        memset(&m, 0, sizeof(m));
        exit_msg(&m, &t, false, 0);
        CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
        CHECK_EQ_U64(n, 1);
        CHECK_EQ_INT(out[0].version, v);
        out[0].version = 16;
        check_single(&out[0]);
    }

    /* A newer, longer struct (version 17 appends 128 bytes): read by the known offsets. */
    struct ts v17 = single;
    v17.version = 17;
    v17.size = SIZE_V16 + 128;
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &v17, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);
    out[0].version = 16;
    check_single(&out[0]);

    /* Version 15's two layouts: maxima only (8 bytes after each delay total), and maxima and
     * minima (16), told apart by the size. */
    for (size_t d = 8; d <= 16; d += 8) {
        struct ts t = single;
        t.version = 15;
        t.shift = d;
        t.size = d == 8 ? SIZE_V15_MAX : SIZE_V16;
        memset(&m, 0, sizeof(m));
        exit_msg(&m, &t, false, 0);
        CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
        CHECK_EQ_U64(n, 1);
        CHECK_EQ_INT(out[0].version, 15);
        out[0].version = 16;
        check_single(&out[0]);
    }
    /* A version 15 of another size cannot be read: skipped, the next message still is. */
    struct ts odd15 = single;
    odd15.version = 15;
    odd15.size = SIZE_V14;
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &odd15, false, 0);
    exit_msg(&m, &single, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EPROTONOSUPPORT);
    CHECK_EQ_U64(n, 1);
    check_single(&out[0]);

    /* Too short to reach hiwater_vm, and version 0. */
    struct ts shorty = single;
    shorty.size = OFF(hiwater_vm) + 4;
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &shorty, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EPROTONOSUPPORT);
    CHECK_EQ_U64(n, 0);
    struct ts zero = single;
    zero.version = 0;
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &zero, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EPROTONOSUPPORT);
    CHECK_EQ_U64(n, 0);
    /* A stats attribute of 0..8 bytes. */
    struct ts tiny = single;
    tiny.size = 6;
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &tiny, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EPROTONOSUPPORT);
    CHECK_EQ_U64(n, 0);

    /* A version whose fields do not fit its size (no kernel sends that): v12 cut before
     * ac_tgid, v10 cut before ac_btime64. */
    struct ts cut12 = single;
    cut12.version = 12;
    cut12.size = SIZE_V11;
    struct ts cut10 = v8;
    cut10.version = 10;
    cut10.size = OFF(ac_btime64);
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &cut12, false, 0);
    exit_msg(&m, &cut10, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EBADMSG);
    CHECK_EQ_U64(n, 0);
}

static void test_truncated(void) {
    struct mb m = {0};
    struct vm_task_exit out[4];
    size_t n;

    exit_msg(&m, &single, true, 4242);
    size_t full = m.len;
    /* Every prefix of a message is broken framing: nothing, -EBADMSG. */
    for (size_t len = 1; len < full; len++) {
        n = 99;
        int r = parse(&m, len, out, 4, &n);
        if (r != -EBADMSG || n != 0) {
            fprintf(stderr, "prefix %zu: r=%d n=%zu\n", len, r, n);
            test_failures++;
        }
    }
    n = 99;
    CHECK_EQ_INT(parse(&m, 0, out, 4, &n), 0);
    CHECK_EQ_U64(n, 0);

    /* A good message, then a cut one: the first stays. */
    exit_msg(&m, &single, false, 0);
    n = 99;
    CHECK_EQ_INT(parse(&m, m.len - 100, out, 4, &n), -EBADMSG);
    CHECK_EQ_U64(n, 1);
    check_single(&out[0]);

    /* The last message need not be padded to 4 bytes; trailing garbage shorter than a header
     * is an error. */
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &single, false, 0);
    uint8_t junk[3] = {1, 2, 3};
    put(&m, junk, sizeof(junk));
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EBADMSG);
    CHECK_EQ_U64(n, 1);
}

static void nlmsg_error(struct mb *m, int32_t err) {
    size_t at = msg_begin(m, NLMSG_ERROR);
    struct nlmsghdr orig = {.nlmsg_len = 16, .nlmsg_type = FAMILY};
    put(m, &err, sizeof(err));
    put(m, &orig, sizeof(orig));
    msg_end(m, at);
}

static void test_errors(void) {
    struct mb m = {0};
    struct vm_task_exit out[4];
    size_t n;

    nlmsg_error(&m, -EPERM);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EPERM);
    CHECK_EQ_U64(n, 0);

    /* An acknowledgement (error 0) is no error. */
    memset(&m, 0, sizeof(m));
    nlmsg_error(&m, 0);
    exit_msg(&m, &single, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);
    check_single(&out[0]);

    /* An error, then an exit: the exit is kept, the error returned. */
    memset(&m, 0, sizeof(m));
    nlmsg_error(&m, -EINVAL);
    exit_msg(&m, &single, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EINVAL);
    CHECK_EQ_U64(n, 1);

    /* An NLMSG_ERROR too short for its code; a positive or absurd code. */
    memset(&m, 0, sizeof(m));
    size_t at = msg_begin(&m, NLMSG_ERROR);
    put(&m, "ab", 2);
    msg_end(&m, at);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EBADMSG);
    memset(&m, 0, sizeof(m));
    nlmsg_error(&m, 5);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EBADMSG);
    memset(&m, 0, sizeof(m));
    nlmsg_error(&m, INT32_MIN);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), -EBADMSG);

    /* NLMSG_DONE ends the walk; NLMSG_NOOP is skipped. */
    memset(&m, 0, sizeof(m));
    msg_end(&m, msg_begin(&m, NLMSG_NOOP));
    exit_msg(&m, &single, false, 0);
    msg_end(&m, msg_begin(&m, NLMSG_DONE));
    exit_msg(&m, &single, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);

    /* More records than room: -ENOBUFS with the first max. */
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &single, false, 0);
    exit_msg(&m, &single, false, 0);
    CHECK_EQ_INT(parse(&m, m.len, out, 1, &n), -ENOBUFS);
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_INT(parse(&m, m.len, NULL, 0, &n), -ENOBUFS);
    CHECK_EQ_U64(n, 0);
}

/* One bad message followed by a good one: -EBADMSG and the good record. */
static void bad_then_good(const struct mb *bad, const char *what) {
    struct mb m = *bad;
    struct vm_task_exit out[4];
    size_t n = 99;
    exit_msg(&m, &single, false, 0);
    int r = parse(&m, m.len, out, 4, &n);
    if (r != -EBADMSG || n != 1) {
        fprintf(stderr, "%s: r=%d n=%zu\n", what, r, n);
        test_failures++;
    } else {
        check_single(&out[0]);
    }
}

static void test_bad_lengths(void) {
    struct mb m;
    size_t at, nest;
    uint8_t s[SIZE_V16];
    ts_bytes(&single, s);

    /* A top-level attribute longer than the message. */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    struct nlattr big = {.nla_len = 200, .nla_type = TASKSTATS_TYPE_AGGR_PID};
    put(&m, &big, sizeof(big));
    put(&m, s, 64);
    msg_end(&m, at);
    bad_then_good(&m, "attribute past the message");

    /* nla_len below the header size. */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    struct nlattr tiny = {.nla_len = 2, .nla_type = TASKSTATS_TYPE_AGGR_PID};
    put(&m, &tiny, sizeof(tiny));
    msg_end(&m, at);
    bad_then_good(&m, "nla_len 2");

    /* A nested attribute running past its nest (but inside the message). */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    nest = nest_begin(&m, TASKSTATS_TYPE_AGGR_PID);
    u32attr(&m, TASKSTATS_TYPE_PID, 4242);
    struct nlattr st = {.nla_len = NLA_HDRLEN + SIZE_V16, .nla_type = TASKSTATS_TYPE_STATS};
    put(&m, &st, sizeof(st));
    put(&m, s, SIZE_V16);
    nest_end(&m, nest);
    uint16_t cut = (uint16_t)(m.len - nest - 8); /* the nest now ends inside the stats */
    memcpy(m.buf + nest, &cut, sizeof(cut));
    msg_end(&m, at);
    bad_then_good(&m, "stats past the nest");

    /* A PID attribute of 8 bytes. */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    nest = nest_begin(&m, TASKSTATS_TYPE_AGGR_PID);
    uint64_t wide = 4242;
    attr(&m, TASKSTATS_TYPE_PID, &wide, sizeof(wide));
    attr(&m, TASKSTATS_TYPE_STATS, s, SIZE_V16);
    nest_end(&m, nest);
    msg_end(&m, at);
    bad_then_good(&m, "8-byte pid");

    /* No stats; doubled stats; doubled aggregate. */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    nest = nest_begin(&m, TASKSTATS_TYPE_AGGR_PID);
    u32attr(&m, TASKSTATS_TYPE_PID, 4242);
    nest_end(&m, nest);
    msg_end(&m, at);
    bad_then_good(&m, "no stats");

    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    nest = nest_begin(&m, TASKSTATS_TYPE_AGGR_PID);
    u32attr(&m, TASKSTATS_TYPE_PID, 4242);
    attr(&m, TASKSTATS_TYPE_STATS, s, SIZE_V16);
    attr(&m, TASKSTATS_TYPE_STATS, s, SIZE_V16);
    nest_end(&m, nest);
    msg_end(&m, at);
    bad_then_good(&m, "two stats");

    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 4242, &single, false);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 4242, &single, false);
    msg_end(&m, at);
    bad_then_good(&m, "two AGGR_PID");

    /* pid 0; the attribute and ac_pid disagreeing; ac_tgid and the aggregate disagreeing. */
    struct ts t = single;
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 0, &t, false);
    msg_end(&m, at);
    bad_then_good(&m, "pid 0");

    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 4243, &t, false);
    msg_end(&m, at);
    bad_then_good(&m, "pid mismatch");

    memset(&m, 0, sizeof(m));
    exit_msg(&m, &t, true, 4000);
    bad_then_good(&m, "tgid mismatch");

    t.pid = 0x80000000u;
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &t, false, 0);
    bad_then_good(&m, "pid past INT32_MAX");

    /* A hiwater whose bytes overflow 64 bits. */
    t = single;
    t.hiwater_vm = 1ull << 60;
    memset(&m, 0, sizeof(m));
    exit_msg(&m, &t, false, 0);
    bad_then_good(&m, "hiwater overflow");

    /* A message shorter than its genetlink header. */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    put(&m, "\x02", 1);
    msg_end(&m, at);
    bad_then_good(&m, "no genl header");
}

static void test_other(void) {
    struct mb m = {0};
    struct vm_task_exit out[4];
    size_t n = 99;

    /* Another family (same bytes), another command of ours: skipped, no error. */
    size_t at = msg_begin(&m, FAMILY + 1);
    genl(&m, TASKSTATS_CMD_NEW);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 4242, &single, false);
    msg_end(&m, at);
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_GET);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 4242, &single, false);
    msg_end(&m, at);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 0);

    /* Unknown attribute types are skipped. */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, FAMILY);
    genl(&m, TASKSTATS_CMD_NEW);
    u32attr(&m, 99, 12345);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 4242, &single, false);
    msg_end(&m, at);
    CHECK_EQ_INT(parse(&m, m.len, out, 4, &n), 0);
    CHECK_EQ_U64(n, 1);
    check_single(&out[0]);

    /* A family id below NLMSG_MIN_TYPE is nobody's: the control messages are not exits. */
    memset(&m, 0, sizeof(m));
    at = msg_begin(&m, NLMSG_NOOP);
    genl(&m, TASKSTATS_CMD_NEW);
    aggr(&m, TASKSTATS_TYPE_AGGR_PID, 4242, &single, false);
    msg_end(&m, at);
    char *p = exact((const char *)m.buf, m.len);
    CHECK_EQ_INT(taskstats_parse(p, m.len, NLMSG_NOOP, out, 4, &n), 0);
    CHECK_EQ_U64(n, 0);
    free(p);
}

int main(void) {
    test_single();
    test_multithreaded();
    test_versions();
    test_truncated();
    test_errors();
    test_bad_lengths();
    test_other();
    return test_result("test_taskstats");
}
