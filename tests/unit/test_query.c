/* test_query.c: /api/v1/processes query parameters: defaults, every value, every 400 message. */
#include <errno.h>

#include "api/render.h"
#include "test.h"

/* Field by field: struct padding is not comparable. */
static bool query_eq(const struct proc_query *a, const struct proc_query *b) {
    return a->sort == b->sort && a->desc == b->desc && a->limit == b->limit &&
           a->offset == b->offset && a->comm == b->comm && a->user == b->user &&
           a->unit == b->unit && a->cgroup == b->cgroup && a->kthreads == b->kthreads &&
           a->order_set == b->order_set;
}

static int set(struct proc_query *q, const char *name, const char *value, const char **ret_msg) {
    static char msg[128];
    *ret_msg = NULL;
    return proc_query_set(q, name, value, msg, sizeof(msg), ret_msg);
}

/* name=value must be refused with exactly this message, leaving q unchanged. */
static void check_bad(const char *name, const char *value, const char *want) {
    struct proc_query q, before;
    proc_query_init(&q);
    before = q;
    const char *msg;
    CHECK_EQ_INT(set(&q, name, value, &msg), -EINVAL);
    CHECK_STREQ(msg, want);
    CHECK(query_eq(&q, &before));
}

static void test_defaults(void) {
    struct proc_query q;
    memset(&q, 0xa5, sizeof(q));
    proc_query_init(&q);
    CHECK_EQ_INT(q.sort, PROC_SORT_RSS);
    CHECK(q.desc);
    CHECK_EQ_INT(q.limit, 100);
    CHECK_EQ_U64(q.offset, 0);
    CHECK(!q.comm && !q.user && !q.unit && !q.cgroup);
    CHECK_EQ_INT(q.kthreads, PROC_KTHREADS_EXCLUDE);
    CHECK(!q.order_set);
}

static void test_sort(void) {
    static const struct {
        const char *name;
        enum proc_sort sort;
        bool desc;
    } cases[] = {
        {"rss", PROC_SORT_RSS, true},         {"pss", PROC_SORT_PSS, true},
        {"uss", PROC_SORT_USS, true},         {"swap", PROC_SORT_SWAP, true},
        {"vm_hwm", PROC_SORT_VM_HWM, true},   {"vm_peak", PROC_SORT_VM_PEAK, true},
        {"hugetlb", PROC_SORT_HUGETLB, true}, {"anon_huge", PROC_SORT_ANON_HUGE, true},
        {"vmas", PROC_SORT_VMAS, true},       {"pid", PROC_SORT_PID, false},
        {"comm", PROC_SORT_COMM, false},
    };
    CHECK_EQ_INT(ARRAY_SIZE(cases), _PROC_SORT_MAX);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct proc_query q;
        proc_query_init(&q);
        const char *msg;
        CHECK_EQ_INT(set(&q, "sort", cases[i].name, &msg), 0);
        CHECK_EQ_INT(q.sort, cases[i].sort);
        CHECK(q.desc == cases[i].desc);
    }

    /* explicit order wins, before or after sort */
    struct proc_query q;
    const char *msg;
    proc_query_init(&q);
    CHECK_EQ_INT(set(&q, "order", "desc", &msg), 0);
    CHECK_EQ_INT(set(&q, "sort", "pid", &msg), 0);
    CHECK(q.desc);
    proc_query_init(&q);
    CHECK_EQ_INT(set(&q, "sort", "pid", &msg), 0);
    CHECK_EQ_INT(set(&q, "order", "desc", &msg), 0);
    CHECK(q.desc);
    proc_query_init(&q);
    CHECK_EQ_INT(set(&q, "order", "asc", &msg), 0);
    CHECK_EQ_INT(set(&q, "sort", "rss", &msg), 0);
    CHECK(!q.desc);
    /* a later sort without an order takes its own default */
    proc_query_init(&q);
    CHECK_EQ_INT(set(&q, "sort", "pid", &msg), 0);
    CHECK_EQ_INT(set(&q, "sort", "pss", &msg), 0);
    CHECK(q.desc);

    const char *sort_msg = "sort must be one of rss, pss, uss, swap, vm_hwm, vm_peak, hugetlb, "
                           "anon_huge, vmas, pid, comm";
    check_bad("sort", "RSS", sort_msg);
    check_bad("sort", "", sort_msg);
    check_bad("sort", NULL, sort_msg);
    check_bad("sort", "rss ", sort_msg);
    check_bad("sort", "vm_rss", sort_msg);
    check_bad("order", "ascending", "order must be asc or desc");
    check_bad("order", "", "order must be asc or desc");
    check_bad("order", NULL, "order must be asc or desc");
}

static void test_limit_offset(void) {
    struct proc_query q;
    const char *msg;
    proc_query_init(&q);
    CHECK_EQ_INT(set(&q, "limit", "1", &msg), 0);
    CHECK_EQ_INT(q.limit, 1);
    CHECK_EQ_INT(set(&q, "limit", "10000", &msg), 0);
    CHECK_EQ_INT(q.limit, 10000);
    CHECK_EQ_INT(set(&q, "limit", "007", &msg), 0);
    CHECK_EQ_INT(q.limit, 7);
    const char *limit_msg = "limit must be an integer from 1 to 10000";
    static const char *const bad_limits[] = {"0",  "10001", "-1",  "+5",  " 5", "5 ",
                                             "",   "abc",   "1e3", "5.0", "0x10",
                                             "99999999999999999999999999"};
    for (size_t i = 0; i < ARRAY_SIZE(bad_limits); i++)
        check_bad("limit", bad_limits[i], limit_msg);
    check_bad("limit", NULL, limit_msg);

    CHECK_EQ_INT(set(&q, "offset", "0", &msg), 0);
    CHECK_EQ_U64(q.offset, 0);
    CHECK_EQ_INT(set(&q, "offset", "123456", &msg), 0);
    CHECK_EQ_U64(q.offset, 123456);
    CHECK_EQ_INT(set(&q, "offset", "18446744073709551615", &msg), 0);
    CHECK_EQ_U64(q.offset, UINT64_MAX);
    const char *offset_msg = "offset must be an integer of 0 or more";
    static const char *const bad_offsets[] = {"-1", "+1", "", "1 ", "x", "18446744073709551616"};
    for (size_t i = 0; i < ARRAY_SIZE(bad_offsets); i++)
        check_bad("offset", bad_offsets[i], offset_msg);
    check_bad("offset", NULL, offset_msg);
}

static void test_filters(void) {
    struct proc_query q;
    const char *msg;
    proc_query_init(&q);
    CHECK_EQ_INT(set(&q, "kthreads", "include", &msg), 0);
    CHECK_EQ_INT(q.kthreads, PROC_KTHREADS_INCLUDE);
    CHECK_EQ_INT(set(&q, "kthreads", "only", &msg), 0);
    CHECK_EQ_INT(q.kthreads, PROC_KTHREADS_ONLY);
    CHECK_EQ_INT(set(&q, "kthreads", "exclude", &msg), 0);
    CHECK_EQ_INT(q.kthreads, PROC_KTHREADS_EXCLUDE);
    check_bad("kthreads", "yes", "kthreads must be one of exclude, include, only");
    check_bad("kthreads", "", "kthreads must be one of exclude, include, only");

    const char *comm = "a) b (c", *user = "root", *unit = "x.service", *cg = "/system.slice";
    CHECK_EQ_INT(set(&q, "comm", comm, &msg), 0);
    CHECK_EQ_INT(set(&q, "user", user, &msg), 0);
    CHECK_EQ_INT(set(&q, "unit", unit, &msg), 0);
    CHECK_EQ_INT(set(&q, "cgroup", cg, &msg), 0);
    CHECK(q.comm == comm && q.user == user && q.unit == unit && q.cgroup == cg); /* borrowed */
    /* empty values switch a filter off */
    CHECK_EQ_INT(set(&q, "comm", "", &msg), 0);
    CHECK_EQ_INT(set(&q, "cgroup", NULL, &msg), 0);
    CHECK(q.comm == NULL && q.cgroup == NULL);

    /* pretty is known (the server reads it) and changes nothing here */
    struct proc_query before = q;
    static const char *const prettys[] = {"1", "0", "true", "false", ""};
    for (size_t i = 0; i < ARRAY_SIZE(prettys); i++)
        CHECK_EQ_INT(set(&q, "pretty", prettys[i], &msg), 0);
    CHECK_EQ_INT(set(&q, "pretty", NULL, &msg), 0);
    CHECK(query_eq(&q, &before));
    check_bad("pretty", "yes", "pretty must be 1, 0, true or false");
}

static void test_unknown(void) {
    check_bad("frobnicate", "1", "unknown parameter \"frobnicate\"");
    check_bad("Sort", "rss", "unknown parameter \"Sort\"");
    check_bad("", "1", "unknown parameter \"\"");
    /* quotes, control and non-ASCII bytes are not echoed */
    check_bad("a\"b\\c\n\xff", "1", "unknown parameter \"a?b?c??\"");
    /* long names are cut */
    char longname[200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    struct proc_query q;
    proc_query_init(&q);
    char buf[128];
    const char *msg = NULL;
    CHECK_EQ_INT(proc_query_set(&q, longname, "1", buf, sizeof(buf), &msg), -EINVAL);
    CHECK(msg && strlen(msg) < 100 && strstr(msg, "...\"") != NULL);
    /* no buffer: a static message */
    CHECK_EQ_INT(proc_query_set(&q, "zzz", "1", NULL, 0, &msg), -EINVAL);
    CHECK_STREQ(msg, "unknown parameter");
    /* a tiny buffer is never overrun */
    char tiny[40];
    CHECK_EQ_INT(proc_query_set(&q, longname, "1", tiny, sizeof(tiny), &msg), -EINVAL);
    CHECK(msg == tiny && strlen(tiny) == sizeof(tiny) - 1);
}

int main(void) {
    test_defaults();
    test_sort();
    test_limit_offset();
    test_filters();
    test_unknown();
    return test_result("test_query");
}
