/* test_status.c: /proc/PID/status parser: memory table, Uid, Kthread, absent lines. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/status.h"
#include "test.h"

static int parse_n(const char *s, size_t n, struct status_info *st) {
    char *p = exact(s, n);
    int r = status_parse(p, n, st);
    free(p);
    return r;
}

static int parse(const char *s, struct status_info *st) {
    return parse_n(s, strlen(s), st);
}

#define HAS(st, f) (((st).memory_present >> (f)) & 1u)

/* Captured on the 6.18 test VM: a probe process (comm "a) (b c\n", escaped by status). */
static const char probe_status[] = "Name:\ta) (b c\\n\n"
                                   "Umask:\t0022\n"
                                   "State:\tS (sleeping)\n"
                                   "Tgid:\t4068\n"
                                   "Ngid:\t0\n"
                                   "Pid:\t4068\n"
                                   "PPid:\t1\n"
                                   "TracerPid:\t0\n"
                                   "Uid:\t0\t0\t0\t0\n"
                                   "Gid:\t0\t0\t0\t0\n"
                                   "FDSize:\t256\n"
                                   "Groups:\t \n"
                                   "NStgid:\t4068\n"
                                   "NSpid:\t4068\n"
                                   "NSpgid:\t4057\n"
                                   "NSsid:\t2481\n"
                                   "Kthread:\t0\n"
                                   "VmPeak:\t    6700 kB\n"
                                   "VmSize:\t    6700 kB\n"
                                   "VmLck:\t       8 kB\n"
                                   "VmPin:\t       0 kB\n"
                                   "VmHWM:\t    5392 kB\n"
                                   "VmRSS:\t    5392 kB\n"
                                   "RssAnon:\t    4208 kB\n"
                                   "RssFile:\t    1172 kB\n"
                                   "RssShmem:\t      12 kB\n"
                                   "VmData:\t    4336 kB\n"
                                   "VmStk:\t     132 kB\n"
                                   "VmExe:\t       4 kB\n"
                                   "VmLib:\t    1528 kB\n"
                                   "VmPTE:\t      52 kB\n"
                                   "VmSwap:\t       0 kB\n"
                                   "HugetlbPages:\t       0 kB\n"
                                   "CoreDumping:\t0\n"
                                   "THP_enabled:\t1\n"
                                   "untag_mask:\t0xffffffffffffffff\n"
                                   "Threads:\t1\n"
                                   "SigQ:\t0/96365\n"
                                   "SigPnd:\t0000000000000000\n"
                                   "ShdPnd:\t0000000000000000\n"
                                   "SigBlk:\t0000000000000000\n"
                                   "SigIgn:\t0000000000000006\n"
                                   "SigCgt:\t0000000000000000\n"
                                   "CapInh:\t0000000000000000\n"
                                   "CapPrm:\t000001fffeffffff\n"
                                   "CapEff:\t000001fffeffffff\n"
                                   "CapBnd:\t000001fffeffffff\n"
                                   "CapAmb:\t0000000000000000\n"
                                   "NoNewPrivs:\t0\n"
                                   "Seccomp:\t0\n"
                                   "Seccomp_filters:\t0\n"
                                   "Speculation_Store_Bypass:\tvulnerable\n"
                                   "SpeculationIndirectBranch:\talways enabled\n"
                                   "Cpus_allowed:\t3\n"
                                   "Cpus_allowed_list:\t0-1\n"
                                   "Mems_allowed:\t00000000,00000001\n"
                                   "Mems_allowed_list:\t0\n"
                                   "voluntary_ctxt_switches:\t1\n"
                                   "nonvoluntary_ctxt_switches:\t3\n";

/* kthreadd: no memory lines at all. */
static const char kthread_status[] = "Name:\tkthreadd\n"
                                     "Umask:\t0022\n"
                                     "State:\tS (sleeping)\n"
                                     "Tgid:\t2\n"
                                     "Ngid:\t0\n"
                                     "Pid:\t2\n"
                                     "PPid:\t0\n"
                                     "TracerPid:\t0\n"
                                     "Uid:\t0\t0\t0\t0\n"
                                     "Gid:\t0\t0\t0\t0\n"
                                     "FDSize:\t64\n"
                                     "Groups:\t \n"
                                     "NStgid:\t2\n"
                                     "NSpid:\t2\n"
                                     "NSpgid:\t0\n"
                                     "NSsid:\t0\n"
                                     "Kthread:\t1\n"
                                     "Threads:\t1\n"
                                     "SigQ:\t0/96365\n";

/* A zombie: Kthread 0 but no memory lines either. */
static const char zombie_status[] = "Name:\tpython3\n"
                                    "State:\tZ (zombie)\n"
                                    "Tgid:\t8533\n"
                                    "Ngid:\t0\n"
                                    "Pid:\t8533\n"
                                    "PPid:\t8486\n"
                                    "TracerPid:\t0\n"
                                    "Uid:\t0\t0\t0\t0\n"
                                    "Gid:\t0\t0\t0\t0\n"
                                    "FDSize:\t0\n"
                                    "Groups:\t \n"
                                    "Kthread:\t0\n"
                                    "Threads:\t1\n"
                                    "SigQ:\t1/96365\n";

static void test_real(void) {
    struct status_info st;

    CHECK_EQ_INT(parse(probe_status, &st), 0);
    CHECK_EQ_U64(st.memory_present, (1u << _VM_MEM_MAX) - 1); /* every table row found */
    CHECK_EQ_U64(st.memory[VM_MEM_VM_PEAK], 6700 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_SIZE], 6700 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_LCK], 8 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_PIN], 0);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_HWM], 5392 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_RSS], 5392 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_RSS_ANON], 4208 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_RSS_FILE], 1172 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_RSS_SHMEM], 12 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_DATA], 4336 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_STK], 132 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_EXE], 4 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_LIB], 1528 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_PTE], 52 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_SWAP], 0);
    CHECK_EQ_U64(st.memory[VM_MEM_HUGETLB], 0);
    CHECK(st.has_uid);
    CHECK_EQ_U64(st.uid[0], 0);
    CHECK_EQ_INT(st.kthread, 0);
    CHECK(st.has_threads);
    CHECK_EQ_U64(st.threads, 1);
    CHECK(st.has_ppid);
    CHECK_EQ_INT(st.ppid, 1);
    CHECK_EQ_INT(st.state, 'S');

    CHECK_EQ_INT(parse(kthread_status, &st), 0);
    CHECK_EQ_U64(st.memory_present, 0); /* absent, not zero */
    CHECK_EQ_INT(st.kthread, 1);
    CHECK_EQ_INT(st.ppid, 0);
    CHECK(st.has_ppid);

    CHECK_EQ_INT(parse(zombie_status, &st), 0);
    CHECK_EQ_U64(st.memory_present, 0);
    CHECK_EQ_INT(st.kthread, 0);
    CHECK_EQ_INT(st.state, 'Z');
    CHECK_EQ_INT(st.ppid, 8486);

    /* Cut inside the last line. */
    CHECK_EQ_INT(parse_n(probe_status, sizeof(probe_status) - 2, &st), 0);
    CHECK_EQ_INT(st.state, 'S');
}

/* Every table row is matched by its key, in any order and position. */
static void test_table(void) {
    struct status_info st;
    char buf[2048];
    size_t n = 0;

    for (int i = _VM_MEM_MAX - 1; i >= 0; i--)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Junk%d:\tx\n%s:\t%8d kB\n", i,
                              vm_memory_fields[i].key, i + 1);
    CHECK(n < sizeof(buf));
    CHECK_EQ_INT(parse_n(buf, n, &st), 0);
    CHECK_EQ_U64(st.memory_present, (1u << _VM_MEM_MAX) - 1);
    for (int i = 0; i < _VM_MEM_MAX; i++)
        CHECK_EQ_U64(st.memory[i], (uint64_t)(i + 1) * 1024);
    CHECK_EQ_INT(st.kthread, -1); /* absent */
    CHECK(!st.has_uid && !st.has_threads && !st.has_ppid);
    CHECK_EQ_INT(st.state, 0);
}

static void test_hostile(void) {
    struct status_info st, keep;

    /* Missing kB, overflow, negative, unknown keys, prefixes of known keys. */
    CHECK_EQ_INT(parse("VmRSS:\t    5392\n"
                       "VmHWM:\t18014398509481984 kB\n"
                       "VmPeak:\t   -1 kB\n"
                       "VmSize:\t    1 MB\n"
                       "VmSwa:\t    1 kB\n"
                       "VmSwapX:\t    1 kB\n"
                       "vmswap:\t    1 kB\n"
                       " VmPTE:\t    1 kB\n"
                       "VmLck:\t 7 kB\n"
                       "NewKey:\t    99 kB\n",
                       &st),
                 0);
    CHECK_EQ_U64(st.memory_present, 1u << VM_MEM_VM_LCK);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_LCK], 7 * 1024);
    CHECK_EQ_U64(st.memory[VM_MEM_VM_RSS], 0);

    /* A later malformed duplicate makes the field absent. */
    CHECK_EQ_INT(parse("VmRSS:\t 1 kB\nVmRSS:\t x kB\n", &st), 0);
    CHECK(!HAS(st, VM_MEM_VM_RSS));
    CHECK_EQ_INT(parse("VmRSS:\t x kB\nVmRSS:\t 2 kB\n", &st), 0);
    CHECK(HAS(st, VM_MEM_VM_RSS));
    CHECK_EQ_U64(st.memory[VM_MEM_VM_RSS], 2048);

    /* Uid needs exactly four ids that fit 32 bits. */
    CHECK_EQ_INT(parse("Uid:\t1000\t1001\t1002\t4294967295\n", &st), 0);
    CHECK(st.has_uid);
    CHECK_EQ_U64(st.uid[0], 1000);
    CHECK_EQ_U64(st.uid[1], 1001);
    CHECK_EQ_U64(st.uid[2], 1002);
    CHECK_EQ_U64(st.uid[3], 4294967295u);
    CHECK_EQ_INT(parse("Uid:\t1000\t1000\t1000\n", &st), 0);
    CHECK(!st.has_uid);
    CHECK_EQ_INT(parse("Uid:\t1000\t1000\t1000\t1000\t1000\n", &st), 0);
    CHECK(!st.has_uid);
    CHECK_EQ_INT(parse("Uid:\t1000\t1000\t1000\t1000\t\n", &st), 0);
    CHECK(!st.has_uid);
    CHECK_EQ_INT(parse("Uid:\t4294967296\t0\t0\t0\n", &st), 0);
    CHECK(!st.has_uid);
    CHECK_EQ_INT(parse("Uid:\t-1\t0\t0\t0\n", &st), 0);
    CHECK(!st.has_uid);
    CHECK_EQ_INT(parse("Uid:\t1 0 0 0\n", &st), 0);
    CHECK(!st.has_uid);
    CHECK_EQ_INT(parse("Uid:\n", &st), 0);
    CHECK(!st.has_uid);

    CHECK_EQ_INT(parse("Kthread:\t2\n", &st), 0);
    CHECK_EQ_INT(st.kthread, -1);
    CHECK_EQ_INT(parse("Kthread:\t\n", &st), 0);
    CHECK_EQ_INT(st.kthread, -1);
    CHECK_EQ_INT(parse("PPid:\t2147483648\n", &st), 0);
    CHECK(!st.has_ppid);
    CHECK_EQ_INT(parse("PPid:\t-1\n", &st), 0);
    CHECK(!st.has_ppid);
    CHECK_EQ_INT(parse("Threads:\t18446744073709551616\n", &st), 0);
    CHECK(!st.has_threads);
    CHECK_EQ_INT(parse("State:\t\n", &st), 0);
    CHECK_EQ_INT(st.state, 0);
    CHECK_EQ_INT(parse("State:\tSS\n", &st), 0);
    CHECK_EQ_INT(st.state, 0);
    CHECK_EQ_INT(parse("State:\tR\n", &st), 0);
    CHECK_EQ_INT(st.state, 'R');

    /* Bytes that are not text: NUL, invalid UTF-8, CR. */
    {
        static const char bin[] =
            "Name:\t\xff\xfe\0\n\0VmRSS:\t 1 kB\nVmHWM:\t 2 kB\r\nVmSize:\t 3 kB";
        CHECK_EQ_INT(parse_n(bin, sizeof(bin) - 1, &st), 0);
        CHECK_EQ_U64(st.memory_present, 1u << VM_MEM_VM_SIZE);
    }

    /* An over-long line is just an unknown key. */
    {
        static char big[70000];
        size_t n = (size_t)snprintf(big, sizeof(big), "Groups:\t");
        memset(big + n, '1', 65000);
        n += 65000;
        n += (size_t)snprintf(big + n, sizeof(big) - n, "\nVmRSS:\t 4 kB\n");
        CHECK_EQ_INT(parse_n(big, n, &st), 0);
        CHECK_EQ_U64(st.memory[VM_MEM_VM_RSS], 4096);
    }

    /* No "Key:" line at all: -EINVAL and *ret untouched. */
    memset(&keep, 0x5a, sizeof(keep));
    st = keep;
    CHECK_EQ_INT(parse("", &st), -EINVAL);
    CHECK_EQ_INT(parse("\n\n\n", &st), -EINVAL);
    CHECK_EQ_INT(parse("no colon here\nnor here", &st), -EINVAL);
    CHECK_EQ_INT(parse(":\t1\n", &st), -EINVAL);
    CHECK_EQ_INT(status_parse(NULL, 0, &st), -EINVAL);
    CHECK(memcmp(&st, &keep, sizeof(st)) == 0);
}

/* Every prefix of the real file parses (or fails cleanly) without reading past it. */
static void test_truncated(void) {
    for (size_t cut = 0; cut <= sizeof(probe_status) - 1; cut++) {
        struct status_info st;
        int r = parse_n(probe_status, cut, &st);
        CHECK(r == 0 || (r == -EINVAL && cut < 6));
    }
}

int main(void) {
    test_real();
    test_table();
    test_hostile();
    test_truncated();
    return test_result("test_status");
}
