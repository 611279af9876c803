/* test_vmflags.c: the VmFlags code table against its enum, and the VmFlags value parser. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/vmflags.h"
#include "test.h"

static int parse(const char *s, uint64_t *mask) {
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    int r;

    if (!p)
        abort();
    memcpy(p, s, n);
    r = vmflags_parse(p, n, mask);
    free(p);
    return r;
}

/* The table matches the enum: every flag but VMF_UNKNOWN has a distinct two-letter code that
 * parses back to itself. */
static void test_table(void) {
    static const char *const table_order[] = {
        "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "lo", "io", "sr", "rr",
        "dc", "de", "lf", "ac", "nr", "ht", "sf", "ar", "wf", "dd", "bt", "sd", "mm", "hg",
        "nh", "mg", "um", "uw", "ui", "mt", "ss", "sl", "dp", "gu", "dw", "nl",
    };

    CHECK_EQ_INT(sizeof(table_order) / sizeof(table_order[0]), VMF_UNKNOWN);
    for (int f = 0; f < _VMF_MAX; f++) {
        const char *code = vmflag_code((enum vmflag)f);
        uint64_t mask = 0;

        if (f == VMF_UNKNOWN) {
            CHECK(code == NULL);
            continue;
        }
        CHECK(code != NULL);
        if (!code)
            continue;
        CHECK_EQ_U64(strlen(code), 2);
        CHECK_STREQ(code, table_order[f]);
        CHECK_EQ_INT(parse(code, &mask), 0);
        CHECK_EQ_U64(mask, VMF(f));
        for (int g = 0; g < f; g++) {
            const char *other = vmflag_code((enum vmflag)g);
            CHECK(!other || strcmp(other, code) != 0);
        }
    }
    CHECK(vmflag_code(_VMF_MAX) == NULL);
    CHECK(vmflag_code((enum vmflag) - 1) == NULL);
    CHECK(vmflag_code(_VMF_INVALID) == NULL);
}

static void test_parse(void) {
    uint64_t mask = 77;

    /* Real values from smaps on the 6.18 test VM. */
    CHECK_EQ_INT(parse("rd wr mr mw me ac ", &mask), 0);
    CHECK_EQ_U64(mask,
                 VMF(VMF_RD) | VMF(VMF_WR) | VMF(VMF_MR) | VMF(VMF_MW) | VMF(VMF_ME) | VMF(VMF_AC));
    CHECK_EQ_INT(parse("rd mr pf io de dd ", &mask), 0); /* [vvar] */
    CHECK_EQ_U64(mask,
                 VMF(VMF_RD) | VMF(VMF_MR) | VMF(VMF_PF) | VMF(VMF_IO) | VMF(VMF_DE) | VMF(VMF_DD));
    CHECK_EQ_INT(parse("rd wr mr mw me gd ac", &mask), 0); /* [stack], no trailing space */
    CHECK(mask & VMF(VMF_GD));
    CHECK_EQ_INT(parse("ex ", &mask), 0); /* [vsyscall] */
    CHECK_EQ_U64(mask, VMF(VMF_EX));
    CHECK_EQ_INT(parse("rd wr sh mr mw me ms ", &mask), 0);
    CHECK(mask & VMF(VMF_SH) && mask & VMF(VMF_MS));

    /* Empty, blanks, unknown codes (including the kernel's "??"), odd spacing. */
    CHECK_EQ_INT(parse("", &mask), 0);
    CHECK_EQ_U64(mask, 0);
    CHECK_EQ_INT(parse("   ", &mask), 0);
    CHECK_EQ_U64(mask, 0);
    CHECK_EQ_INT(parse("rd ?? zz", &mask), 0);
    CHECK_EQ_U64(mask, VMF(VMF_RD) | VMF(VMF_UNKNOWN));
    CHECK_EQ_INT(parse("  rd   wr  ", &mask), 0);
    CHECK_EQ_U64(mask, VMF(VMF_RD) | VMF(VMF_WR));
    CHECK_EQ_INT(parse("RD", &mask), 0); /* codes are case-sensitive */
    CHECK_EQ_U64(mask, VMF(VMF_UNKNOWN));
    CHECK_EQ_INT(parse("\xff\xfe", &mask), 0);
    CHECK_EQ_U64(mask, VMF(VMF_UNKNOWN));
    {
        uint64_t m = 0;
        CHECK_EQ_INT(vmflags_parse("\0\0 rd", 5, &m), 0);
        CHECK_EQ_U64(m, VMF(VMF_UNKNOWN) | VMF(VMF_RD));
    }

    /* Tokens that are not two bytes. */
    mask = 77;
    CHECK_EQ_INT(parse("rd w", &mask), -EINVAL);
    CHECK_EQ_INT(parse("rdwr", &mask), -EINVAL);
    CHECK_EQ_INT(parse("rd\twr", &mask), -EINVAL);
    CHECK_EQ_INT(parse("r", &mask), -EINVAL);
    CHECK_EQ_INT(parse("rd wr\n", &mask), -EINVAL);
    CHECK_EQ_U64(mask, 77);
    CHECK_EQ_INT(vmflags_parse("rd wr", 4, &mask), -EINVAL); /* "rd w": len is honoured */
    CHECK_EQ_INT(vmflags_parse(NULL, 0, &mask), 0);
    CHECK_EQ_INT(vmflags_parse(NULL, 3, &mask), -EINVAL);
}

int main(void) {
    test_table();
    test_parse();
    return test_result("test_vmflags");
}
