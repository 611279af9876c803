/* test_maps.c: maps line parser on real lines from this machine and hostile ones. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/maps.h"
#include "test.h"
#include "vmatlas/snapshot.h"

/* Parse a literal from an exact-size heap copy; the name is copied out before freeing. */
static char name_buf[8192];
static int parse(const char *line, struct maps_entry *e) {
    size_t n = strlen(line);
    char *p = exact(line, n);
    int r = maps_parse_line(p, n, e);
    if (r == 0 && e->name) {
        CHECK(e->name >= p && e->name + e->name_len == p + n);
        memcpy(name_buf, e->name, e->name_len < sizeof(name_buf) ? e->name_len : 0);
        name_buf[e->name_len < sizeof(name_buf) ? e->name_len : 0] = '\0';
        e->name = name_buf;
    }
    free(p);
    return r;
}

/* Captured from /proc/PID/maps on the 6.18 test VM (a probe with memfd, SysV, /dev/zero and
 * odd file names). */
static const char *const real_maps[] = {
    "555da8c1c000-555da8c1d000 r--p 00000000 fe:00 10952833                   /tmp/probe/probe",
    "555dcd921000-555dcd942000 rw-p 00000000 00:00 0                          [heap]",
    "7fcf4c400000-7fcf4c800000 rw-p 00000000 00:00 0 ",
    "7fcf4c838000-7fcf4c839000 r--s 100000000000 fe:00 10952770               /tmp/probe/  lead "
    "space\\012nl file",
    "7fcf4c839000-7fcf4c849000 ---p 00000000 00:00 0 ",
    "7fcf4c84b000-7fcf4c84d000 rw-p 00000000 fe:00 10952786                   /tmp/probe/deleted "
    "me (deleted)",
    "7fcf4c876000-7fcf4c9cc000 r-xp 00026000 fe:00 332835                     "
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "7fcf4ca32000-7fcf4ca36000 r--s 00000000 fe:00 10952770                   /tmp/probe/  lead "
    "space\\012nl file",
    "7fcf4ca36000-7fcf4ca38000 rw-s 00000000 00:01 0                          /SYSV00000000 "
    "(deleted)",
    "7fcf4ca38000-7fcf4ca3b000 rw-s 00000000 00:01 26                         /dev/zero (deleted)",
    "7fcf4ca3b000-7fcf4ca3d000 rw-s 00000000 00:01 25                         /memfd:my memfd "
    "(deleted)",
    "7fcf4ca3f000-7fcf4ca43000 r--p 00000000 00:00 0                          [vvar]",
    "7fcf4ca43000-7fcf4ca45000 r--p 00000000 00:00 0                          [vvar_vclock]",
    "7fcf4ca45000-7fcf4ca47000 r-xp 00000000 00:00 0                          [vdso]",
    "7ffe0819b000-7ffe081bc000 rw-p 00000000 00:00 0                          [stack]",
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
};

static void test_real(void) {
    struct maps_entry e;

    for (size_t i = 0; i < sizeof(real_maps) / sizeof(real_maps[0]); i++)
        CHECK_EQ_INT(parse(real_maps[i], &e), 0);

    CHECK_EQ_INT(parse(real_maps[0], &e), 0);
    CHECK_EQ_U64(e.start, 0x555da8c1c000ull);
    CHECK_EQ_U64(e.end, 0x555da8c1d000ull);
    CHECK_EQ_U64(e.perms, VM_PERM_READ);
    CHECK_EQ_U64(e.offset, 0);
    CHECK_EQ_U64(e.dev_major, 0xfe);
    CHECK_EQ_U64(e.dev_minor, 0);
    CHECK_EQ_U64(e.inode, 10952833);
    CHECK_STREQ(e.name, "/tmp/probe/probe");
    CHECK(!e.deleted);

    CHECK_EQ_INT(parse(real_maps[2], &e), 0); /* nameless: ends with the inode's space */
    CHECK(e.name == NULL);
    CHECK_EQ_U64(e.name_len, 0);
    CHECK_EQ_U64(e.perms, VM_PERM_READ | VM_PERM_WRITE);

    CHECK_EQ_INT(parse(real_maps[3], &e), 0); /* leading spaces in a component, "\012" kept */
    CHECK_STREQ(e.name, "/tmp/probe/  lead space\\012nl file");
    CHECK_EQ_U64(e.offset, 0x100000000000ull);
    CHECK_EQ_U64(e.perms, VM_PERM_READ | VM_PERM_SHARED);

    CHECK_EQ_INT(parse(real_maps[4], &e), 0);
    CHECK_EQ_U64(e.perms, 0);

    CHECK_EQ_INT(parse(real_maps[5], &e), 0);
    CHECK_STREQ(e.name, "/tmp/probe/deleted me (deleted)");
    CHECK(e.deleted);

    CHECK_EQ_INT(parse(real_maps[6], &e), 0);
    CHECK_EQ_U64(e.perms, VM_PERM_READ | VM_PERM_EXEC);
    CHECK_EQ_U64(e.offset, 0x26000);

    CHECK_EQ_INT(parse(real_maps[8], &e), 0);
    CHECK_STREQ(e.name, "/SYSV00000000 (deleted)");
    CHECK_EQ_U64(e.inode, 0); /* the shmid */
    CHECK_EQ_U64(e.dev_minor, 1);
    CHECK(e.deleted);

    CHECK_EQ_INT(parse(real_maps[10], &e), 0);
    CHECK_STREQ(e.name, "/memfd:my memfd (deleted)");
    CHECK_EQ_U64(e.perms, VM_PERM_READ | VM_PERM_WRITE | VM_PERM_SHARED);

    CHECK_EQ_INT(parse(real_maps[15], &e), 0);
    CHECK_EQ_U64(e.start, 0xffffffffff600000ull);
    CHECK_EQ_U64(e.end, 0xffffffffff601000ull);
    CHECK_EQ_U64(e.perms, VM_PERM_EXEC);
    CHECK_STREQ(e.name, "[vsyscall]");
}

static void test_columns(void) {
    struct maps_entry e;

    /* A name that starts with spaces: exactly one space after column 72. */
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 rw-s 00000000 00:01 25                         "
                       "   /memfd: x",
                       &e),
                 0);
    CHECK_STREQ(e.name, "   /memfd: x");

    /* L > 72 (16-digit offset, 3-digit major, 20-digit inode): the name follows the inode's
     * space and the one seq_pad() adds, even with no padding. */
    CHECK_EQ_INT(parse("ffffffffff600000-ffffffffff601000 r--p ffffffffffff0000 fff:fffff "
                       "18446744073709551615  /x",
                       &e),
                 0);
    CHECK_STREQ(e.name, "/x");
    CHECK_EQ_U64(e.offset, 0xffffffffffff0000ull);
    CHECK_EQ_U64(e.dev_major, 0xfff);
    CHECK_EQ_U64(e.dev_minor, 0xfffff);
    CHECK_EQ_U64(e.inode, UINT64_MAX);
    CHECK_EQ_INT(parse("ffffffffff600000-ffffffffff601000 r--p ffffffffffff0000 fff:fffff "
                       "18446744073709551615    /x y",
                       &e),
                 0);
    CHECK_STREQ(e.name, "  /x y");
    CHECK_EQ_INT(parse("ffffffffff600000-ffffffffff601000 r--p ffffffffffff0000 fff:fffff "
                       "18446744073709551615 ",
                       &e),
                 0);
    CHECK(e.name == NULL);

    /* L == 72 exactly: name at 73. */
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 rw-p 0000000000000000 00:2a 123456789012345 "
                       " /y",
                       &e),
                 0);
    CHECK_STREQ(e.name, "/y");

    /* Not the 64-bit column rule (a 32-bit kernel pads to 48): fall back to skipping blanks. */
    CHECK_EQ_INT(parse("08048000-08056000 r-xp 00000000 03:0c 64593      /usr/sbin/gpm", &e), 0);
    CHECK_STREQ(e.name, "/usr/sbin/gpm");
    CHECK_EQ_U64(e.dev_major, 3);
    CHECK_EQ_U64(e.dev_minor, 0xc);
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 [anon:x y]", &e), 0);
    CHECK_STREQ(e.name, "[anon:x y]");

    /* Nameless without the trailing space (someone stripped it), and pure padding. */
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0", &e), 0);
    CHECK(e.name == NULL);
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0      ", &e), 0);
    CHECK(e.name == NULL);
    CHECK_EQ_INT(
        parse("7f0000000000-7f0000001000 rw-p 00000000 00:00 0                          ", &e), 0);
    CHECK(e.name == NULL);
}

static void test_names(void) {
    struct maps_entry e;
    static char line[5000];
    size_t n;

    /* deleted only for the exact suffix */
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 r--p 00000000 fe:00 5                          "
                       "/x(deleted)",
                       &e),
                 0);
    CHECK(!e.deleted);
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 r--p 00000000 fe:00 5                          "
                       "/x (deleted) ",
                       &e),
                 0);
    CHECK(!e.deleted);
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 r--p 00000000 fe:00 5                          "
                       " (deleted)",
                       &e),
                 0);
    CHECK(e.deleted);

    /* invalid UTF-8 is kept byte for byte */
    CHECK_EQ_INT(parse("7f0000000000-7f0000001000 r--p 00000000 fe:00 5                          "
                       "/\xff\xfe\xc3(",
                       &e),
                 0);
    CHECK_STREQ(e.name, "/\xff\xfe\xc3(");

    /* an embedded NUL is part of the name (len-based) */
    {
        static const char l[] = "7f0000000000-7f0000001000 r--p 00000000 fe:00 5                 "
                                "         /a\0b";
        char *p = exact(l, sizeof(l) - 1);
        CHECK_EQ_INT(maps_parse_line(p, sizeof(l) - 1, &e), 0);
        CHECK_EQ_U64(e.name_len, 4);
        CHECK(e.name && memcmp(e.name, "/a\0b", 4) == 0);
        free(p);
    }

    /* a PATH_MAX-long name */
    n = (size_t)snprintf(line, sizeof(line), "%s",
                         "7f0000000000-7f0000001000 r--p 00000000 fe:00 5                     "
                         "     /");
    memset(line + n, 'a', 4095);
    line[n + 4095] = '\0';
    CHECK_EQ_INT(parse(line, &e), 0);
    CHECK_EQ_U64(e.name_len, 4096);
}

static void test_malformed(void) {
    struct maps_entry e, keep;
    static const char *const bad[] = {
        "",
        " ",
        "\n",
        "7f0000001000-7f0000000000 rw-p 00000000 00:00 0 ",                    /* start > end */
        "7f0000000000-7f0000001000 rw-x 00000000 00:00 0 ",                    /* 4th perm */
        "7f0000000000-7f0000001000 rw-pp 00000000 00:00 0 ",                   /* 5 perms */
        "7f0000000000-7f0000001000 rw- 00000000 00:00 0 ",                     /* 3 perms */
        "7f0000000000-7f0000001000 RW-P 00000000 00:00 0 ",                    /* uppercase perms */
        "7f000000000g-7f0000001000 rw-p 00000000 00:00 0 ",                    /* bad hex */
        "-7f0000001000 rw-p 00000000 00:00 0 ",                                /* empty start */
        "7f0000000000- rw-p 00000000 00:00 0 ",                                /* empty end */
        "0x7f000000-0x7f001000 rw-p 00000000 00:00 0 ",                        /* 0x */
        "10000000000000000-10000000000000001 rw-p 0 00:00 0 ",                 /* 17 hex digits */
        "7f0000000000-7f0000001000 rw-p 00000000 0000 0 ",                     /* no ':' in dev */
        "7f0000000000-7f0000001000 rw-p 00000000 :00 0 ",                      /* empty major */
        "7f0000000000-7f0000001000 rw-p 00000000 00: 0 ",                      /* empty minor */
        "7f0000000000-7f0000001000 rw-p 00000000 1000:00 0 ",                  /* major > 12 bits */
        "7f0000000000-7f0000001000 rw-p 00000000 00:100000 0 ",                /* minor > 20 bits */
        "7f0000000000-7f0000001000 rw-p 00000000 00:00 -1 ",                   /* signed inode */
        "7f0000000000-7f0000001000 rw-p 00000000 00:00 12a ",                  /* bad inode */
        "7f0000000000-7f0000001000 rw-p 00000000 00:00 18446744073709551616 ", /* inode overflow */
        "7f0000000000-7f0000001000 rw-p 00000000 00:00  ",                     /* empty inode */
        "7f0000000000-7f0000001000  rw-p 00000000 00:00 0 ",                   /* double space */
        "7f0000000000-7f0000001000\trw-p 00000000 00:00 0 ",                   /* tab */
        "Rss:                   8 kB",
        "VmFlags: rd mr mw me ",
    };

    memset(&keep, 0x5a, sizeof(keep));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e = keep;
        if (parse(bad[i], &e) != -EINVAL)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(parse(bad[i], &e), -EINVAL);
        CHECK(memcmp(&e, &keep, sizeof(e)) == 0); /* untouched on failure */
    }
    CHECK_EQ_INT(maps_parse_line(NULL, 0, &e), -EINVAL);
}

/* Every prefix of a real line: no overread, and only cuts after the first inode digit parse. */
static void test_truncated(void) {
    const char *full = real_maps[10];
    size_t n = strlen(full), inode_end = strlen("7fcf4ca3b000-7fcf4ca3d000 rw-s 00000000 00:01 25");

    for (size_t cut = 0; cut <= n; cut++) {
        struct maps_entry e;
        char *p = exact(full, cut);
        int r = maps_parse_line(p, cut, &e);
        /* A nameless line may lack its trailing space, so a cut inside the inode reads as a
         * shorter inode: the line reader never hands over a cut line. */
        if (cut + 1 < inode_end)
            CHECK_EQ_INT(r, -EINVAL);
        else
            CHECK_EQ_INT(r, 0);
        if (cut + 1 == inode_end)
            CHECK_EQ_U64(e.inode, 2);
        free(p);
    }
}

static void test_is_header(void) {
    CHECK(maps_is_header(real_maps[0], strlen(real_maps[0])));
    CHECK(maps_is_header(real_maps[15], strlen(real_maps[15])));
    CHECK(maps_is_header("555da8c1c000-7ffe081bc000 ---p 00000000 00:00 0   [rollup]", 58));
    CHECK(!maps_is_header("Rss:                   8 kB", 27));
    CHECK(!maps_is_header("VmFlags: rd mr mw me ", 21));
    CHECK(!maps_is_header("KSM:                   0 kB", 27));
    CHECK(!maps_is_header("", 0));
    CHECK(!maps_is_header("abc", 3));
    CHECK(!maps_is_header("-1", 2));
    CHECK(!maps_is_header("ABC-DEF", 7));
    CHECK(!maps_is_header("abc-", 3)); /* the '-' is past len */
    CHECK(!maps_is_header(NULL, 0));
}

int main(void) {
    test_real();
    test_columns();
    test_names();
    test_malformed();
    test_truncated();
    test_is_header();
    return test_result("test_maps");
}
