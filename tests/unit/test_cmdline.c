/* test_cmdline.c: /proc/PID/cmdline formatting (NULs as spaces, cut, empty). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/cmdline.h"
#include "test.h"

static size_t fmt(const char *s, size_t n, char *o, size_t cap, bool *cut) {
    char *p = malloc(n ? n : 1);
    size_t r;

    if (!p)
        abort();
    memcpy(p, s, n);
    r = cmdline_format(p, n, o, cap, cut);
    free(p);
    return r;
}

int main(void) {
    char o[64];
    bool cut = true;
    /* pid 1 of the 6.18 test VM, captured. */
    static const char real[] = "/process_api\0--firecracker-init\0--addr\0000.0.0.0:2024\0";

    CHECK_EQ_U64(fmt(real, sizeof(real) - 1, o, sizeof(o), &cut), 51);
    CHECK_STREQ(o, "/process_api --firecracker-init --addr 0.0.0.0:2024");
    CHECK(!cut);

    /* empty (kernel thread, zombie) */
    cut = true;
    CHECK_EQ_U64(fmt("", 0, o, sizeof(o), &cut), 0);
    CHECK_STREQ(o, "");
    CHECK(!cut);
    CHECK_EQ_U64(fmt("\0\0\0", 3, o, sizeof(o), &cut), 0);
    CHECK_STREQ(o, "");

    /* no trailing NUL (setproctitle), inner empty args, spaces, invalid UTF-8, newlines */
    CHECK_EQ_U64(fmt("a\0\0b c\n\xff", 8, o, sizeof(o), &cut), 8);
    CHECK_STREQ(o, "a  b c\n\xff");
    CHECK(!cut);

    /* cut to fit: cap 5 keeps 4 bytes */
    CHECK_EQ_U64(fmt("abcdef\0", 7, o, 5, &cut), 4);
    CHECK_STREQ(o, "abcd");
    CHECK(cut);
    /* exactly fits */
    CHECK_EQ_U64(fmt("abcd\0", 5, o, 5, &cut), 4);
    CHECK_STREQ(o, "abcd");
    CHECK(!cut);
    /* cap 1: only the NUL */
    CHECK_EQ_U64(fmt("abc", 3, o, 1, &cut), 0);
    CHECK_STREQ(o, "");
    CHECK(cut);
    /* cap 0 writes nothing */
    o[0] = 'z';
    CHECK_EQ_U64(fmt("abc", 3, o, 0, &cut), 0);
    CHECK_EQ_INT(o[0], 'z');
    CHECK(cut);
    /* NULL ret_cut and NULL buffer */
    CHECK_EQ_U64(cmdline_format("ab", 2, o, sizeof(o), NULL), 2);
    CHECK_EQ_U64(cmdline_format(NULL, 5, o, sizeof(o), &cut), 0);
    CHECK_STREQ(o, "");

    /* a VM_CMDLINE_MAX-sized argument */
    {
        static char big[5000], res[4097];
        memset(big, 'x', sizeof(big));
        CHECK_EQ_U64(fmt(big, sizeof(big), res, sizeof(res), &cut), 4096);
        CHECK(cut);
        CHECK_EQ_U64(strlen(res), 4096);
    }
    return test_result("test_cmdline");
}
