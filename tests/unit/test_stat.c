/* test_stat.c: /proc/PID/stat parser: comm edge cases, signed fields, optional layout. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/stat.h"
#include "test.h"

static int parse_n(const char *s, size_t n, struct stat_info *st) {
    char *p = exact(s, n);
    int r = stat_parse(p, n, st);
    free(p);
    return r;
}

static int parse(const char *s, struct stat_info *st) {
    return parse_n(s, strlen(s), st);
}

/* Captured on the 6.18 test VM: a probe named with PR_SET_NAME "a) (b c\n". */
static const char probe_stat[] =
    "4068 (a) (b c\n) S 1 4057 2481 0 -1 4194560 120 0 1 0 0 1 0 0 20 0 1 0 55853 6860800 1341 "
    "18446744073709551615 93860751593472 93860751594877 140729034453008 0 0 0 0 6 0 1 0 0 17 0 0 "
    "0 0 0 0 93860751605200 93860751605912 93861369221120 140729034455507 140729034455515 "
    "140729034455515 140729034457072 0\n";
/* kthreadd: no mm. */
static const char kthreadd_stat[] =
    "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0 0 "
    "0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
/* pid 1 of the VM as read by us: layout masked (start_code/end_code 1). */
static const char masked_stat[] =
    "1 (process_api) S 0 0 0 0 -1 4194560 43735 922298 0 952 59 189 1285 956 20 0 12 0 24 "
    "39497728 2922 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 "
    "0 0\n";
/* migration/0: real-time, priority -100. */
static const char rt_stat[] =
    "18 (migration/0) S 2 0 0 0 -1 69238848 0 0 0 0 1 0 0 0 -100 0 1 0 24 0 0 "
    "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 0 99 1 0 0 0 0 0 0 0 0 0 0 0\n";

static void test_real(void) {
    struct stat_info st;

    CHECK_EQ_INT(parse(probe_stat, &st), 0);
    CHECK_EQ_INT(st.pid, 4068);
    CHECK_STREQ(st.comm, "a) (b c\n");
    CHECK_EQ_U64(st.comm_len, 8);
    CHECK(!st.comm_cut);
    CHECK_EQ_INT(st.state, 'S');
    CHECK_EQ_INT(st.ppid, 1);
    CHECK_EQ_U64(st.flags, 4194560);
    CHECK_EQ_U64(st.num_threads, 1);
    CHECK_EQ_U64(st.starttime, 55853);
    CHECK_EQ_U64(st.vsize, 6860800);
    CHECK_EQ_U64(st.rss, 1341);
    CHECK_EQ_U64(st.start_code, 93860751593472ull);
    CHECK_EQ_U64(st.end_code, 93860751594877ull);
    CHECK_EQ_U64(st.start_stack, 140729034453008ull);
    CHECK(st.has_layout);
    CHECK_EQ_U64(st.start_data, 93860751605200ull);
    CHECK_EQ_U64(st.end_data, 93860751605912ull);
    CHECK_EQ_U64(st.start_brk, 93861369221120ull);
    CHECK_EQ_U64(st.arg_start, 140729034455507ull);
    CHECK_EQ_U64(st.arg_end, 140729034455515ull);
    CHECK_EQ_U64(st.env_start, 140729034455515ull);
    CHECK_EQ_U64(st.env_end, 140729034457072ull);
    CHECK(!stat_layout_masked(&st));

    CHECK_EQ_INT(parse(kthreadd_stat, &st), 0);
    CHECK_EQ_INT(st.pid, 2);
    CHECK_STREQ(st.comm, "kthreadd");
    CHECK_EQ_INT(st.ppid, 0);
    CHECK(st.flags & PF_KTHREAD_FLAG);
    CHECK_EQ_U64(st.vsize, 0);
    CHECK(st.has_layout);
    CHECK(!stat_layout_masked(&st)); /* no mm: zeros, not masked */

    CHECK_EQ_INT(parse(masked_stat, &st), 0);
    CHECK_STREQ(st.comm, "process_api");
    CHECK_EQ_U64(st.num_threads, 12);
    CHECK_EQ_U64(st.start_code, 1);
    CHECK_EQ_U64(st.end_code, 1);
    CHECK(!(st.flags & PF_KTHREAD_FLAG));
    CHECK(stat_layout_masked(&st));

    CHECK_EQ_INT(parse(rt_stat, &st), 0);
    CHECK_STREQ(st.comm, "migration/0");
    CHECK_EQ_INT(st.ppid, 2);

    /* Without the final newline too. */
    CHECK_EQ_INT(parse_n(probe_stat, sizeof(probe_stat) - 2, &st), 0);
    CHECK_EQ_U64(st.env_end, 140729034457072ull);
    CHECK(!stat_layout_masked(NULL));
}

#define TAIL                                                                                       \
    " R 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 18446744073709551615 4096 8192 "    \
    "12288"

static void test_comm(void) {
    struct stat_info st;
    char big[400];
    size_t n;

    CHECK_EQ_INT(parse("7 () (x\n) y)" TAIL, &st), 0);
    CHECK_STREQ(st.comm, ") (x\n) y");
    CHECK_EQ_INT(st.state, 'R');
    CHECK_EQ_INT(parse("7 ()" TAIL, &st), 0);
    CHECK_STREQ(st.comm, "");
    CHECK_EQ_INT(parse("7 (()" TAIL, &st), 0);
    CHECK_STREQ(st.comm, "(");
    CHECK_EQ_INT(parse("7 ())" TAIL, &st), 0);
    CHECK_STREQ(st.comm, ")");
    CHECK_EQ_INT(parse("7 ( a b )" TAIL, &st), 0);
    CHECK_STREQ(st.comm, " a b ");
    CHECK_EQ_INT(parse("7 (\xff\xfe\x80)" TAIL, &st), 0); /* invalid UTF-8 kept */
    CHECK_STREQ(st.comm, "\xff\xfe\x80");
    /* A comm that looks like the rest of the line: the LAST ')' still wins. */
    CHECK_EQ_INT(parse("7 (x) S 1 2 3) Z)" TAIL, &st), 0);
    CHECK_STREQ(st.comm, "x) S 1 2 3) Z");
    CHECK_EQ_INT(st.state, 'R');

    {
        static const char nul[] = "7 (a\0b)" TAIL;
        CHECK_EQ_INT(parse_n(nul, sizeof(nul) - 1, &st), 0);
        CHECK_EQ_U64(st.comm_len, 3);
        CHECK(memcmp(st.comm, "a\0b", 4) == 0);
    }

    /* Longer than VM_COMM_MAX - 1: cut and flagged. */
    n = (size_t)snprintf(big, sizeof(big), "9 (");
    memset(big + n, 'w', 200);
    n += 200;
    n += (size_t)snprintf(big + n, sizeof(big) - n, ")%s", TAIL);
    CHECK_EQ_INT(parse_n(big, n, &st), 0);
    CHECK(st.comm_cut);
    CHECK_EQ_U64(st.comm_len, VM_COMM_MAX - 1);
    CHECK_EQ_U64(strlen(st.comm), VM_COMM_MAX - 1);

    /* Exactly VM_COMM_MAX - 1 fits. */
    n = (size_t)snprintf(big, sizeof(big), "9 (");
    memset(big + n, 'w', VM_COMM_MAX - 1);
    n += VM_COMM_MAX - 1;
    n += (size_t)snprintf(big + n, sizeof(big) - n, ")%s", TAIL);
    CHECK_EQ_INT(parse_n(big, n, &st), 0);
    CHECK(!st.comm_cut);
    CHECK_EQ_U64(st.comm_len, VM_COMM_MAX - 1);
}

static void test_optional(void) {
    struct stat_info st;

    /* 28 fields only (a very old kernel, or a cut read): fine, no layout. */
    CHECK_EQ_INT(parse("7 (x)" TAIL, &st), 0);
    CHECK(!st.has_layout);
    CHECK_EQ_U64(st.start_stack, 12288);
    CHECK_EQ_U64(st.start_code, 4096);
    CHECK_EQ_U64(st.end_code, 8192);

    /* 44 fields (before 3.5). */
    CHECK_EQ_INT(parse("7 (x)" TAIL " 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0\n", &st), 0);
    CHECK(!st.has_layout);

    /* 45..50 there but 51 missing: no layout, and the partial fields are not kept. */
    CHECK_EQ_INT(parse("7 (x)" TAIL " 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 1 2 3 4 5 6\n", &st), 0);
    CHECK(!st.has_layout);
    CHECK_EQ_U64(st.start_data, 0);
    CHECK_EQ_U64(st.env_start, 0);

    /* Malformed optional field: kept what is required, no layout. */
    CHECK_EQ_INT(parse("7 (x)" TAIL " 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 1 2 3 x 5 6 7 0\n", &st), 0);
    CHECK(!st.has_layout);
    CHECK_EQ_U64(st.start_data, 0);

    /* Extra fields after 52 (a future kernel) are ignored. */
    CHECK_EQ_INT(
        parse("7 (x)" TAIL " 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 1 2 3 4 5 6 7 0 99 98\n", &st), 0);
    CHECK(st.has_layout);
    CHECK_EQ_U64(st.start_data, 1);
    CHECK_EQ_U64(st.env_end, 7);

    /* Negative values where the kernel prints signed numbers. */
    CHECK_EQ_INT(parse("7 (x) S 1 -1 -1 -1 -1 4194560 0 0 0 0 0 0 -5 -5 -100 -20 3 0 100 4096 1 "
                       "18446744073709551615 4096 8192 12288 0 0 0 0 0 0 0 0 0 -1 -1 0 0 0 0 -7 "
                       "0 0 0 0 0 0 0 -9\n",
                       &st),
                 0);
    CHECK_EQ_U64(st.num_threads, 3);
    CHECK(st.has_layout);
}

static void test_malformed(void) {
    struct stat_info st, keep;
    static const char *const bad[] = {
        "",
        "\n",
        "7",
        "7 (x)",
        "7 (x) ",
        "7 (x) S",
        "7 (x) S ",
        "(x)" TAIL,
        "7(x)" TAIL,
        " 7 (x)" TAIL,
        "-7 (x)" TAIL,
        "x7 (x)" TAIL,
        "2147483648 (x)" TAIL, /* pid beyond int32 */
        "7 x)" TAIL,           /* no '(' */
        "7 (x" TAIL,           /* no ')' */
        "7 )x(" TAIL,          /* ')' before '(' */
        "7 (x)S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 12288",
        "7 (x)  S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 12288",
        "7 (x) SS 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 12288",
        "7 (x) S -1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 12288",
        "7 (x) S 2147483648 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 1",
        "7 (x) S 1 1 1 0 -1 -4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 12288",
        "7 (x) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 -1 0 100 4096 1 1 4096 8192 12288",
        "7 (x) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192",
        "7 (x) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096  8192 12288",
        "7 (x) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 0x10",
        "7 (x) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 1 1 4096 8192 12288\n\n",
        ("7 (x) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551616 4096 1 1 4096 "
         "8192 12288"),
    };

    memset(&keep, 0x5a, sizeof(keep));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        st = keep;
        if (parse(bad[i], &st) != -EINVAL)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(parse(bad[i], &st), -EINVAL);
        CHECK(memcmp(&st, &keep, sizeof(st)) == 0);
    }
    CHECK_EQ_INT(stat_parse(NULL, 0, &st), -EINVAL);
}

/* Every prefix of the real file: no overread; a cut before field 28 fails. */
static void test_truncated(void) {
    const char *f28 = strstr(probe_stat, " 140729034453008 ");
    size_t n = sizeof(probe_stat) - 1, need = (size_t)(f28 - probe_stat) + 2;

    for (size_t cut = 0; cut <= n; cut++) {
        struct stat_info st;
        int r = parse_n(probe_stat, cut, &st);
        if (cut < need)
            CHECK_EQ_INT(r, -EINVAL);
        else
            CHECK_EQ_INT(r, 0);
    }
}

int main(void) {
    test_real();
    test_comm();
    test_optional();
    test_malformed();
    test_truncated();
    return test_result("test_stat");
}
