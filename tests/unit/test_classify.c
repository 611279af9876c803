/* test_classify.c: VMA kinds from real maps lines and VmFlags, in the documented order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/classify.h"
#include "collector/maps.h"
#include "collector/vmflags.h"
#include "test.h"

static int kind_of(const char *line, uint64_t flags, uint64_t kpage_kb) {
    struct maps_entry e;
    size_t n = strlen(line);
    char *p = malloc(n ? n : 1);
    int k;

    if (!p)
        abort();
    memcpy(p, line, n);
    if (maps_parse_line(p, n, &e) < 0) {
        fprintf(stderr, "unparsable: %s\n", line);
        free(p);
        return -1;
    }
    k = (int)classify_vma(&e, flags, kpage_kb);
    free(p);
    return k;
}

/* "START-END PERMS 00000000 MAJ:MIN INODE" padded to column 73 as the kernel does. */
static const char *L(const char *perms, const char *dev, const char *inode, const char *name) {
    static char buf[512];
    int n = snprintf(buf, sizeof(buf), "7f0000000000-7f0000200000 %s 00000000 %s %s ", perms, dev,
                     inode);
    if (name) {
        while (n < 73)
            buf[n++] = ' ';
        snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", name);
    }
    return buf;
}

#define RD VMF(VMF_RD)
#define ANONF (VMF(VMF_RD) | VMF(VMF_WR) | VMF(VMF_MR) | VMF(VMF_MW) | VMF(VMF_ME) | VMF(VMF_AC))

static void test_real(void) {
    /* Lines captured on the 6.18 test VM, with the VmFlags smaps showed for them. */
    CHECK_EQ_INT(kind_of("555dcd921000-555dcd942000 rw-p 00000000 00:00 0                          "
                         "[heap]",
                         ANONF, 4),
                 VM_KIND_HEAP);
    CHECK_EQ_INT(kind_of("7ffe0819b000-7ffe081bc000 rw-p 00000000 00:00 0                          "
                         "[stack]",
                         ANONF | VMF(VMF_GD), 4),
                 VM_KIND_STACK);
    CHECK_EQ_INT(kind_of("7fcf4ca45000-7fcf4ca47000 r-xp 00000000 00:00 0                          "
                         "[vdso]",
                         0, 0),
                 VM_KIND_VDSO);
    /* [vvar] has pf io, but the name wins. */
    CHECK_EQ_INT(kind_of("7fcf4ca3f000-7fcf4ca43000 r--p 00000000 00:00 0                          "
                         "[vvar]",
                         RD | VMF(VMF_PF) | VMF(VMF_IO), 4),
                 VM_KIND_VVAR);
    CHECK_EQ_INT(kind_of("7fcf4ca43000-7fcf4ca45000 r--p 00000000 00:00 0                          "
                         "[vvar_vclock]",
                         RD | VMF(VMF_PF) | VMF(VMF_IO), 4),
                 VM_KIND_VVAR);
    CHECK_EQ_INT(kind_of("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  "
                         "[vsyscall]",
                         VMF(VMF_EX), 4),
                 VM_KIND_VSYSCALL);
    CHECK_EQ_INT(
        kind_of("7fcf4c400000-7fcf4c800000 rw-p 00000000 00:00 0 ", ANONF | VMF(VMF_HG), 4),
        VM_KIND_ANON); /* THP is not hugetlb */
    CHECK_EQ_INT(kind_of("7fcf4c839000-7fcf4c849000 ---p 00000000 00:00 0 ", 0, 0), VM_KIND_ANON);
    CHECK_EQ_INT(kind_of("7fcf4ca36000-7fcf4ca38000 rw-s 00000000 00:01 0                          "
                         "/SYSV00000000 (deleted)",
                         0, 0),
                 VM_KIND_SYSV_SHM);
    CHECK_EQ_INT(kind_of("7fcf4ca38000-7fcf4ca3b000 rw-s 00000000 00:01 26                         "
                         "/dev/zero (deleted)",
                         0, 0),
                 VM_KIND_ANON_SHARED);
    CHECK_EQ_INT(kind_of("7fcf4ca3b000-7fcf4ca3d000 rw-s 00000000 00:01 25                         "
                         "/memfd:my memfd (deleted)",
                         0, 4),
                 VM_KIND_MEMFD);
    CHECK_EQ_INT(kind_of("7fcf4c876000-7fcf4c9cc000 r-xp 00026000 fe:00 332835                     "
                         "/usr/lib/x86_64-linux-gnu/libc.so.6",
                         0, 0),
                 VM_KIND_FILE_PRIVATE);
    CHECK_EQ_INT(kind_of("7fcf4c84b000-7fcf4c84d000 rw-p 00000000 fe:00 10952786                   "
                         "/tmp/probe/deleted me (deleted)",
                         0, 0),
                 VM_KIND_FILE_PRIVATE);
    CHECK_EQ_INT(kind_of("7fcf4ca32000-7fcf4ca36000 r--s 00000000 fe:00 10952770                   "
                         "/tmp/probe/  lead space\\012nl file",
                         0, 0),
                 VM_KIND_FILE_SHARED);
}

static void test_rules(void) {
    /* hugetlb: by flag, by page size, by name; before memfd and device. */
    CHECK_EQ_INT(kind_of(L("rw-p", "00:00", "0", NULL), VMF(VMF_HT), 0), VM_KIND_HUGETLB);
    CHECK_EQ_INT(kind_of(L("rw-p", "00:00", "0", NULL), 0, 2048), VM_KIND_HUGETLB);
    CHECK_EQ_INT(kind_of(L("rw-p", "00:00", "0", NULL), 0, 4), VM_KIND_ANON);
    CHECK_EQ_INT(kind_of(L("rw-p", "00:0f", "4242", "/anon_hugepage (deleted)"), 0, 0),
                 VM_KIND_HUGETLB);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:01", "7", "/memfd:huge (deleted)"), VMF(VMF_HT), 2048),
                 VM_KIND_HUGETLB);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:2e", "7", "/dev/hugepages/db"), 0, 0), VM_KIND_HUGETLB);

    /* device: pf/io flags or a /dev path, not /dev/zero or /dev/shm */
    CHECK_EQ_INT(kind_of(L("rw-s", "00:05", "7", "/dev/dri/card0"), 0, 0), VM_KIND_DEVICE);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:05", "7", "/dev/mem"), VMF(VMF_PF) | VMF(VMF_IO), 0),
                 VM_KIND_DEVICE);
    CHECK_EQ_INT(kind_of(L("rw-p", "00:00", "0", NULL), VMF(VMF_PF), 0), VM_KIND_DEVICE);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:06", "9", "anon_inode:[perf_event]"), VMF(VMF_IO), 0),
                 VM_KIND_DEVICE);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:19", "12", "/dev/shm/pulse-shm-1"), 0, 0),
                 VM_KIND_FILE_SHARED);
    CHECK_EQ_INT(kind_of(L("rw-p", "00:01", "26", "/dev/zero (deleted)"), 0, 0),
                 VM_KIND_FILE_PRIVATE); /* not shared: no shared anon; not a device either */
    CHECK_EQ_INT(kind_of(L("r--s", "00:05", "7", "/devices/x"), 0, 0), VM_KIND_FILE_SHARED);

    /* SysV: exactly 8 lowercase hex digits */
    CHECK_EQ_INT(kind_of(L("rw-s", "00:01", "32769", "/SYSV0000a1b2 (deleted)"), 0, 0),
                 VM_KIND_SYSV_SHM);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:01", "32769", "/SYSV0000a1b2"), 0, 0), VM_KIND_SYSV_SHM);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:01", "32769", "/SYSV0000A1B2 (deleted)"), 0, 0),
                 VM_KIND_FILE_SHARED);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:01", "32769", "/SYSV0000a1b (deleted)"), 0, 0),
                 VM_KIND_FILE_SHARED);
    CHECK_EQ_INT(kind_of(L("rw-s", "00:01", "32769", "/SYSV0000a1b2x"), 0, 0), VM_KIND_FILE_SHARED);

    /* memfd, private mapping too */
    CHECK_EQ_INT(kind_of(L("r--p", "00:01", "25", "/memfd:x"), 0, 0), VM_KIND_MEMFD);

    /* socket */
    CHECK_EQ_INT(kind_of(L("rw-s", "00:08", "123456", "socket:[123456]"), 0, 0), VM_KIND_SOCKET);

    /* shared anon */
    CHECK_EQ_INT(kind_of(L("rw-s", "00:01", "3", "[anon_shmem:ring]"), 0, 0), VM_KIND_ANON_SHARED);

    /* anon private: no name or [anon:...], inode 0 */
    CHECK_EQ_INT(kind_of(L("rw-p", "00:00", "0", "[anon:glibc: malloc arena]"), 0, 0),
                 VM_KIND_ANON);
    CHECK_EQ_INT(kind_of(L("rw-p", "00:00", "5", NULL), 0, 0), VM_KIND_OTHER);

    /* file needs '/' and an inode */
    CHECK_EQ_INT(kind_of(L("r--p", "fe:00", "0", "/odd"), 0, 0), VM_KIND_OTHER);
    CHECK_EQ_INT(kind_of(L("r--p", "fe:00", "7", "relative"), 0, 0), VM_KIND_OTHER);

    /* other */
    CHECK_EQ_INT(kind_of(L("rw-s", "00:0f", "1053", "anon_inode:[io_uring]"), 0, 0), VM_KIND_OTHER);
    CHECK_EQ_INT(kind_of(L("r-xp", "00:00", "0", "[uprobes]"), 0, 0), VM_KIND_OTHER);
    CHECK_EQ_INT(kind_of(L("r-xp", "00:00", "0", "[heap] "), 0, 0), VM_KIND_OTHER);
    CHECK_EQ_INT(kind_of(L("r-xp", "00:00", "0", "[HEAP]"), 0, 0), VM_KIND_OTHER);

    /* a name that merely starts with a special one is not special */
    CHECK_EQ_INT(kind_of(L("r--p", "fe:00", "7", "/[heap]"), 0, 0), VM_KIND_FILE_PRIVATE);

    CHECK_EQ_INT(classify_vma(NULL, 0, 0), VM_KIND_OTHER);
}

int main(void) {
    test_real();
    test_rules();
    return test_result("test_classify");
}
