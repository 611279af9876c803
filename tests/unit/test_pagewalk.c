/* test_pagewalk.c: the PAGEMAP_SCAN region-to-VMA join on hand-made regions (the walk itself
 * needs a kernel: tests/live/live_pagewalk.c), and pagewalk_run's checks of its arguments. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "collector/kernel_abi.h"
#include "collector/pagewalk.h"
#include "test.h"
#include "vmatlas/macros.h"

#define PG 4096ull
#define P (PAGE_IS_PRESENT)
#define S (PAGE_IS_SWAPPED)
#define H (PAGE_IS_HUGE)
#define Z (PAGE_IS_PFNZERO)
#define G (PAGE_IS_GUARD)
#define D (PAGE_IS_SOFT_DIRTY)

static struct pagewalk_region reg(uint64_t start_pg, uint64_t end_pg, uint64_t cat) {
    return (struct pagewalk_region){.start = start_pg * PG, .end = end_pg * PG, .categories = cat};
}

static void vmas3(struct pagewalk_vma v[3]) {
    /* [10, 20) [20, 30) adjacent, a gap, [40, 50) hugetlb */
    v[0] = (struct pagewalk_vma){.start = 10 * PG, .end = 20 * PG};
    v[1] = (struct pagewalk_vma){.start = 20 * PG, .end = 30 * PG};
    v[2] = (struct pagewalk_vma){.start = 40 * PG, .end = 50 * PG, .hugetlb = true};
}

static void test_categories(void) {
    struct pagewalk_vma v[3];
    vmas3(v);
    v[0].pages[RES_PRESENT] = 99; /* init zeroes */
    struct pagewalk_join j;
    pagewalk_join_init(&j, v, 3, PG, false);
    CHECK_EQ_U64(v[0].pages[RES_PRESENT], 0);
    struct pagewalk_region r[] = {
        reg(10, 11, P),         /* present */
        reg(11, 13, P | Z),     /* zero page: nothing */
        reg(13, 14, S),         /* swapped */
        reg(14, 16, S | G),     /* guard marker: nothing */
        reg(16, 18, P | H),     /* THP */
        reg(18, 19, P | H | Z), /* huge zero page: nothing */
        reg(19, 20, P | D),     /* soft-dirty, not counted (not supported) */
        reg(40, 50, P | H),     /* hugetlb: present, not THP */
    };
    CHECK_EQ_INT(pagewalk_join_add(&j, r, ARRAY_SIZE(r)), 0);
    CHECK_EQ_U64(v[0].pages[RES_PRESENT], 1 + 2 + 1);
    CHECK_EQ_U64(v[0].pages[RES_SWAPPED], 1);
    CHECK_EQ_U64(v[0].pages[RES_THP], 2);
    CHECK_EQ_U64(v[0].pages[RES_SOFT_DIRTY], 0);
    CHECK_EQ_U64(v[0].pages[RES_EXCLUSIVE], 0);
    CHECK_EQ_U64(v[1].pages[RES_PRESENT], 0);
    CHECK_EQ_U64(v[2].pages[RES_PRESENT], 10);
    CHECK_EQ_U64(v[2].pages[RES_THP], 0);
    CHECK_EQ_U64(j.outside_pages, 0);

    /* soft-dirty counted when supported, whatever else the page is */
    vmas3(v);
    pagewalk_join_init(&j, v, 3, PG, true);
    struct pagewalk_region sd[] = {reg(10, 12, P | D), reg(12, 13, S | D), reg(13, 14, P)};
    CHECK_EQ_INT(pagewalk_join_add(&j, sd, ARRAY_SIZE(sd)), 0);
    CHECK_EQ_U64(v[0].pages[RES_SOFT_DIRTY], 3);
    CHECK_EQ_U64(v[0].pages[RES_PRESENT], 3);
}

static void test_split_and_gaps(void) {
    struct pagewalk_vma v[3];
    vmas3(v);
    struct pagewalk_join j;
    pagewalk_join_init(&j, v, 3, PG, false);
    /* below every VMA; across v0/v1 and on into the gap; across the gap into v2; past the
     * last VMA */
    struct pagewalk_region r[] = {reg(2, 5, P), reg(15, 35, P), reg(38, 42, S), reg(49, 60, P)};
    CHECK_EQ_INT(pagewalk_join_add(&j, r, ARRAY_SIZE(r)), 0);
    CHECK_EQ_U64(v[0].pages[RES_PRESENT], 5);
    CHECK_EQ_U64(v[1].pages[RES_PRESENT], 10);
    CHECK_EQ_U64(v[2].pages[RES_SWAPPED], 2);
    CHECK_EQ_U64(v[2].pages[RES_PRESENT], 1);
    CHECK_EQ_U64(j.outside_pages, 3 + 5 + 2 + 10);

    /* one region covering everything */
    vmas3(v);
    pagewalk_join_init(&j, v, 3, PG, false);
    struct pagewalk_region all = reg(0, 100, P | H);
    CHECK_EQ_INT(pagewalk_join_add(&j, &all, 1), 0);
    CHECK_EQ_U64(v[0].pages[RES_THP], 10);
    CHECK_EQ_U64(v[1].pages[RES_THP], 10);
    CHECK_EQ_U64(v[2].pages[RES_THP], 0);
    CHECK_EQ_U64(v[2].pages[RES_PRESENT], 10);
    CHECK_EQ_U64(j.outside_pages, 100 - 30);

    /* no VMAs at all */
    pagewalk_join_init(&j, NULL, 0, PG, false);
    CHECK_EQ_INT(pagewalk_join_add(&j, &all, 1), 0);
    CHECK_EQ_U64(j.outside_pages, 100);
}

static void test_batches(void) {
    /* the same stream in one batch and in batches of one and two give the same counts; a
     * region may continue exactly where the previous batch stopped (a full vector) */
    struct pagewalk_region r[] = {reg(10, 12, P), reg(12, 14, P), reg(14, 21, S),
                                  reg(25, 26, P), reg(29, 41, P), reg(45, 46, P)};
    struct pagewalk_vma one[3], split[3];
    vmas3(one);
    vmas3(split);
    struct pagewalk_join a, b;
    pagewalk_join_init(&a, one, 3, PG, false);
    CHECK_EQ_INT(pagewalk_join_add(&a, r, ARRAY_SIZE(r)), 0);
    pagewalk_join_init(&b, split, 3, PG, false);
    CHECK_EQ_INT(pagewalk_join_add(&b, r, 1), 0);
    CHECK_EQ_INT(pagewalk_join_add(&b, r + 1, 2), 0);
    CHECK_EQ_INT(pagewalk_join_add(&b, r + 3, 0), 0);
    CHECK_EQ_INT(pagewalk_join_add(&b, r + 3, 3), 0);
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < _RES_MAX; k++)
            CHECK_EQ_U64(one[i].pages[k], split[i].pages[k]);
    CHECK_EQ_U64(one[0].pages[RES_PRESENT], 4);
    CHECK_EQ_U64(one[0].pages[RES_SWAPPED], 6);
    CHECK_EQ_U64(one[1].pages[RES_SWAPPED], 1);
    CHECK_EQ_U64(one[1].pages[RES_PRESENT], 2);
    CHECK_EQ_U64(one[2].pages[RES_PRESENT], 2);
    CHECK_EQ_U64(a.outside_pages, 10);
    CHECK_EQ_U64(b.outside_pages, 10);
}

static void test_rejects(void) {
    struct pagewalk_vma v[3];
    struct pagewalk_join j;
    const struct {
        struct pagewalk_region r[2];
        size_t n;
    } bad[] = {
        {{reg(12, 14, P), reg(10, 11, P)}, 2},                          /* unsorted */
        {{reg(12, 14, P), reg(13, 15, P)}, 2},                          /* overlapping */
        {{reg(12, 12, P)}, 1},                                          /* empty */
        {{reg(14, 12, P)}, 1},                                          /* backwards */
        {{{.start = 10 * PG + 1, .end = 12 * PG, .categories = P}}, 1}, /* unaligned start */
        {{{.start = 10 * PG, .end = 12 * PG - 8, .categories = P}}, 1}, /* unaligned end */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        vmas3(v);
        pagewalk_join_init(&j, v, 3, PG, false);
        CHECK_EQ_INT(pagewalk_join_add(&j, bad[i].r, bad[i].n), -EINVAL);
    }
    /* also across batches */
    vmas3(v);
    pagewalk_join_init(&j, v, 3, PG, false);
    struct pagewalk_region a = reg(20, 25, P), b = reg(24, 26, P);
    CHECK_EQ_INT(pagewalk_join_add(&j, &a, 1), 0);
    CHECK_EQ_INT(pagewalk_join_add(&j, &b, 1), -EINVAL);
    CHECK_EQ_U64(v[1].pages[RES_PRESENT], 5);
}

static void test_run_args(void) {
    struct pagewalk_ctx ctx = {.page_size = PG};
    struct pagewalk_vma v[3];
    /* bad VMAs are rejected before any I/O (fd 0 is not a pagemap file) */
    vmas3(v);
    v[1].start = 15 * PG; /* overlaps v[0] */
    CHECK_EQ_INT(pagewalk_run(0, PAGEWALK_SCAN, v, 3, &ctx), -EINVAL);
    CHECK_EQ_U64(ctx.known, 0);
    vmas3(v);
    v[2].end = v[2].start; /* empty */
    CHECK_EQ_INT(pagewalk_run(0, PAGEWALK_PAGEMAP, v, 3, &ctx), -EINVAL);
    vmas3(v);
    v[0].end += 1; /* unaligned */
    CHECK_EQ_INT(pagewalk_run(0, PAGEWALK_SCAN, v, 3, &ctx), -EINVAL);
    vmas3(v);
    v[2].start = 0xffffffffff600000ull, v[2].end = 0xffffffffff601000ull; /* [vsyscall] */
    CHECK_EQ_INT(pagewalk_run(0, PAGEWALK_SCAN, v, 3, &ctx), -EINVAL);
    vmas3(v);
    CHECK_EQ_INT(pagewalk_run(0, _PAGEWALK_MAX, v, 3, &ctx), -EINVAL);
    CHECK_EQ_INT(pagewalk_run(-1, PAGEWALK_SCAN, v, 3, &ctx), -EINVAL);
    ctx.page_size = 3000;
    CHECK_EQ_INT(pagewalk_run(0, PAGEWALK_SCAN, v, 3, &ctx), -EINVAL);
    ctx.page_size = 0;
    CHECK_EQ_INT(pagewalk_run(0, PAGEWALK_SCAN, v, 3, &ctx), -EINVAL);
    /* not a pagemap file: the ioctl is unknown there (as on kernels before 6.7), and reads of
     * /dev/null return nothing, as those of an exited process's pagemap do */
    ctx.page_size = PG;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        vmas3(v);
        CHECK_EQ_INT(pagewalk_run(fd, PAGEWALK_SCAN, v, 3, &ctx), -ENOTTY);
        CHECK_EQ_U64(ctx.known, 0);
        CHECK_EQ_INT(pagewalk_run(fd, PAGEWALK_PAGEMAP, v, 3, &ctx), -ESRCH);
        CHECK_EQ_U64(ctx.known, 0);
        close(fd);
    }
    /* no VMAs: nothing to do, nothing read */
    ctx.page_size = PG;
    CHECK_EQ_INT(pagewalk_run(0, PAGEWALK_PAGEMAP, NULL, 0, &ctx), 0);
    CHECK_EQ_U64(ctx.known, (1u << RES_PRESENT) | (1u << RES_SWAPPED) | (1u << RES_EXCLUSIVE));
    pagewalk_ctx_done(&ctx);
    pagewalk_ctx_done(&ctx); /* twice is fine */
    pagewalk_ctx_done(NULL);
    CHECK(ctx.scratch == NULL && ctx.scratch_len == 0);
}

int main(void) {
    test_categories();
    test_split_and_gaps();
    test_batches();
    test_rejects();
    test_run_args();
    return test_result("test_pagewalk");
}
