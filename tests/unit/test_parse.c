/* test_parse.c: strict number parsers, kB values, field and key splitters. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/parse.h"
#include "test.h"
#include "vmatlas/fields.h"

/* A heap copy of exactly n bytes, without a NUL, so ASan flags any read past n. */
static int u64(const char *s, uint64_t *v) {
    char *p = exact(s, strlen(s));
    int r = parse_u64(p, strlen(s), v);
    free(p);
    return r;
}

static int x64(const char *s, uint64_t *v) {
    char *p = exact(s, strlen(s));
    int r = parse_x64(p, strlen(s), v);
    free(p);
    return r;
}

static int i64(const char *s, int64_t *v) {
    char *p = exact(s, strlen(s));
    int r = parse_i64(p, strlen(s), v);
    free(p);
    return r;
}

static int kb(const char *s, uint64_t *v) {
    char *p = exact(s, strlen(s));
    int r = parse_kb(p, strlen(s), v);
    free(p);
    return r;
}

static void test_u64(void) {
    uint64_t v = 77;

    CHECK_EQ_INT(u64("0", &v), 0);
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_INT(u64("18446744073709551615", &v), 0);
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK_EQ_INT(u64("000123", &v), 0);
    CHECK_EQ_U64(v, 123);

    v = 77;
    CHECK_EQ_INT(u64("18446744073709551616", &v), -ERANGE);
    CHECK_EQ_INT(u64("99999999999999999999999", &v), -ERANGE);
    CHECK_EQ_INT(u64("99999999999999999999999x", &v), -EINVAL);
    CHECK_EQ_INT(u64("", &v), -EINVAL);
    CHECK_EQ_INT(u64("-1", &v), -EINVAL);
    CHECK_EQ_INT(u64("+1", &v), -EINVAL);
    CHECK_EQ_INT(u64(" 1", &v), -EINVAL);
    CHECK_EQ_INT(u64("1 ", &v), -EINVAL);
    CHECK_EQ_INT(u64("1\n", &v), -EINVAL);
    CHECK_EQ_INT(u64("0x10", &v), -EINVAL);
    CHECK_EQ_INT(u64("1e3", &v), -EINVAL);
    CHECK_EQ_INT(u64("\xd9\xa1", &v), -EINVAL); /* ARABIC-INDIC DIGIT ONE */
    CHECK_EQ_U64(v, 77);                        /* untouched on failure */

    /* Bounded: the digits after len are not looked at, and no NUL is needed. */
    CHECK_EQ_INT(parse_u64("12345", 3, &v), 0);
    CHECK_EQ_U64(v, 123);
    CHECK_EQ_INT(parse_u64(NULL, 0, &v), -EINVAL);
    {
        char nul[3] = {'1', '\0', '2'};
        CHECK_EQ_INT(parse_u64(nul, 3, &v), -EINVAL);
    }
}

static void test_x64(void) {
    uint64_t v = 77;

    CHECK_EQ_INT(x64("ffffffffff600000", &v), 0);
    CHECK_EQ_U64(v, 0xffffffffff600000ull);
    CHECK_EQ_INT(x64("FFFFFFFFFFFFFFFF", &v), 0);
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK_EQ_INT(x64("00000000", &v), 0);
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_INT(x64("0000000000000000000000ff", &v), 0); /* leading zeros do not overflow */
    CHECK_EQ_U64(v, 0xff);
    CHECK_EQ_INT(x64("aBcD", &v), 0);
    CHECK_EQ_U64(v, 0xabcd);

    v = 77;
    CHECK_EQ_INT(x64("10000000000000000", &v), -ERANGE);
    CHECK_EQ_INT(x64("1ffffffffffffffff", &v), -ERANGE);
    CHECK_EQ_INT(x64("", &v), -EINVAL);
    CHECK_EQ_INT(x64("0x1", &v), -EINVAL);
    CHECK_EQ_INT(x64("g", &v), -EINVAL);
    CHECK_EQ_INT(x64("-1", &v), -EINVAL);
    CHECK_EQ_INT(x64("1 ", &v), -EINVAL);
    CHECK_EQ_U64(v, 77);
}

static void test_i64(void) {
    int64_t v = 77;

    CHECK_EQ_INT(i64("-1", &v), 0);
    CHECK_EQ_INT(v, -1);
    CHECK_EQ_INT(i64("-0", &v), 0);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(i64("9223372036854775807", &v), 0);
    CHECK(v == INT64_MAX);
    CHECK_EQ_INT(i64("-9223372036854775808", &v), 0);
    CHECK(v == INT64_MIN);

    v = 77;
    CHECK_EQ_INT(i64("9223372036854775808", &v), -ERANGE);
    CHECK_EQ_INT(i64("-9223372036854775809", &v), -ERANGE);
    CHECK_EQ_INT(i64("-18446744073709551616", &v), -ERANGE);
    CHECK_EQ_INT(i64("-", &v), -EINVAL);
    CHECK_EQ_INT(i64("--1", &v), -EINVAL);
    CHECK_EQ_INT(i64("+1", &v), -EINVAL);
    CHECK_EQ_INT(i64("- 1", &v), -EINVAL);
    CHECK_EQ_INT(i64("", &v), -EINVAL);
    CHECK_EQ_INT(v, 77);
}

static void test_kb(void) {
    uint64_t v = 77;
    char *p;

    CHECK_EQ_INT(kb("    1234 kB", &v), 0); /* smaps */
    CHECK_EQ_U64(v, 1234 * 1024);
    CHECK_EQ_INT(kb("\t    6700 kB", &v), 0); /* status */
    CHECK_EQ_U64(v, 6700 * 1024);
    CHECK_EQ_INT(kb("0 kB", &v), 0);
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_INT(kb("18014398509481983 kB", &v), 0); /* 2^54 - 1 kB: the largest that fits */
    CHECK_EQ_U64(v, UINT64_MAX - 1023);

    v = 77;
    CHECK_EQ_INT(kb("18014398509481984 kB", &v), -ERANGE);
    CHECK_EQ_INT(kb("99999999999999999999 kB", &v), -ERANGE);
    CHECK_EQ_INT(kb("    1234", &v), -EINVAL); /* missing kB */
    CHECK_EQ_INT(kb("    1234 KB", &v), -EINVAL);
    CHECK_EQ_INT(kb("    1234kB", &v), -EINVAL);
    CHECK_EQ_INT(kb("    1234 kB ", &v), -EINVAL);
    CHECK_EQ_INT(kb("    1234  kB", &v), -EINVAL);
    CHECK_EQ_INT(kb("    -1 kB", &v), -EINVAL);
    CHECK_EQ_INT(kb("     kB", &v), -EINVAL);
    CHECK_EQ_INT(kb(" kB", &v), -EINVAL);
    CHECK_EQ_INT(kb("kB", &v), -EINVAL);
    CHECK_EQ_INT(kb("", &v), -EINVAL);
    CHECK_EQ_INT(kb("    1 2 kB", &v), -EINVAL);
    CHECK_EQ_U64(v, 77);

    CHECK_EQ_INT(parse_kb_raw("   2048 kB", 10, &v), 0);
    CHECK_EQ_U64(v, 2048);
    CHECK_EQ_INT(parse_kb_raw("99999999999999999999 kB", 23, &v), -ERANGE);
    /* The suffix must end the buffer: a longer buffer holding " kB" later is not read. */
    p = exact("   8 kB", 7);
    CHECK_EQ_INT(parse_kb(p, 5, &v), -EINVAL);
    free(p);
}

static void test_next_field(void) {
    const char *f;
    size_t pos = 0, n;
    char *p = exact("a::bc:", 6);

    CHECK_EQ_INT(next_field(p, 6, &pos, ':', &f, &n), 0);
    CHECK_MEMEQ(f, n, "a");
    CHECK_EQ_INT(next_field(p, 6, &pos, ':', &f, &n), 0);
    CHECK_MEMEQ(f, n, "");
    CHECK_EQ_INT(next_field(p, 6, &pos, ':', &f, &n), 0);
    CHECK_MEMEQ(f, n, "bc");
    CHECK_EQ_INT(next_field(p, 6, &pos, ':', &f, &n), -ENOENT); /* trailing sep: no field */
    CHECK_EQ_INT(next_field(p, 6, &pos, ':', &f, &n), -ENOENT);
    free(p);

    pos = 0;
    p = exact("x\ny", 3);
    CHECK_EQ_INT(next_field(p, 3, &pos, '\n', &f, &n), 0);
    CHECK_MEMEQ(f, n, "x");
    CHECK_EQ_INT(next_field(p, 3, &pos, '\n', &f, &n), 0);
    CHECK_MEMEQ(f, n, "y");
    CHECK_EQ_INT(next_field(p, 3, &pos, '\n', &f, &n), -ENOENT);
    free(p);

    pos = 0;
    CHECK_EQ_INT(next_field("", 0, &pos, '\n', &f, &n), -ENOENT);
    pos = 0;
    CHECK_EQ_INT(next_field(NULL, 0, &pos, '\n', &f, &n), -ENOENT);
    pos = 7; /* a cursor past the end */
    CHECK_EQ_INT(next_field("abc", 3, &pos, '\n', &f, &n), -ENOENT);
    pos = 0;
    CHECK_EQ_INT(next_field("\n", 1, &pos, '\n', &f, &n), 0);
    CHECK_MEMEQ(f, n, "");
    CHECK_EQ_INT(next_field("\n", 1, &pos, '\n', &f, &n), -ENOENT);
}

static void test_key_value(void) {
    const char *k, *v;
    size_t kl, vl;
    char *p;

    CHECK_EQ_INT(parse_key_value("VmRSS:\t  12 kB", 14, &k, &kl, &v, &vl), 0);
    CHECK_MEMEQ(k, kl, "VmRSS");
    CHECK_MEMEQ(v, vl, "\t  12 kB");
    CHECK_EQ_INT(parse_key_value("Pss_Dirty:", 10, &k, &kl, &v, &vl), 0);
    CHECK_MEMEQ(k, kl, "Pss_Dirty");
    CHECK_EQ_U64(vl, 0);
    CHECK_EQ_INT(parse_key_value(":x", 2, &k, &kl, &v, &vl), -EINVAL);
    CHECK_EQ_INT(parse_key_value("Vm RSS: 1", 9, &k, &kl, &v, &vl), -EINVAL);
    CHECK_EQ_INT(parse_key_value("VmRSS", 5, &k, &kl, &v, &vl), -EINVAL);
    CHECK_EQ_INT(parse_key_value("", 0, &k, &kl, &v, &vl), -EINVAL);
    /* A maps header line has a ':' in the device but is not a field line. */
    p = exact("7f00-7f01 rw-p 00000000 00:00 0 ", 32);
    CHECK_EQ_INT(parse_key_value(p, 32, &k, &kl, &v, &vl), -EINVAL);
    free(p);
    p = exact("VmRSS", 5); /* no ':' within len */
    CHECK_EQ_INT(parse_key_value(p, 5, &k, &kl, &v, &vl), -EINVAL);
    free(p);

    CHECK_EQ_INT(parse_field_index(vm_memory_fields, _VM_MEM_MAX, "VmRSS", 5), VM_MEM_VM_RSS);
    CHECK_EQ_INT(parse_field_index(vm_memory_fields, _VM_MEM_MAX, "VmRS", 4), -ENOENT);
    CHECK_EQ_INT(parse_field_index(vm_memory_fields, _VM_MEM_MAX, "VmRSSx", 6), -ENOENT);
    CHECK_EQ_INT(parse_field_index(vm_rollup_fields, _VM_ROLLUP_MAX, "Pss", 3), VM_ROLLUP_PSS);
    CHECK_EQ_INT(parse_field_index(vm_rollup_fields, _VM_ROLLUP_MAX, "Pss_Anon", 8),
                 VM_ROLLUP_PSS_ANON);
}

int main(void) {
    test_u64();
    test_x64();
    test_i64();
    test_kb();
    test_next_field();
    test_key_value();
    return test_result("test_parse");
}
