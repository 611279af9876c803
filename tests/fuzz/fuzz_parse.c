/* fuzz_parse.c: the number parsers and splitters of parse.h. The first byte picks the parser;
 * successful number parses are checked against printf of the result. */
#include <inttypes.h>
#include <stdio.h>

#include "collector/parse.h"
#include "fuzz.h"
#include "vmatlas/fields.h"

/* s with leading zeros dropped (keeping one digit), lower-cased. */
static size_t canon(const char *s, size_t n, char *out, size_t cap) {
    size_t i = 0, o = 0;
    while (i + 1 < n && s[i] == '0')
        i++;
    for (; i < n && o < cap; i++)
        out[o++] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s;
    char *in, want[64], got[64];
    uint64_t u;
    int64_t i64;
    size_t n, pos = 0, fl, klen, vlen;
    const char *f, *k, *v;
    int r;

    if (size == 0)
        return 0;
    in = fuzz_exact(data + 1, size - 1);
    s = in;
    n = size - 1;

    switch (data[0] % 8) {
    case 0:
        r = parse_u64(s, n, &u);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r == 0 && n < sizeof(want)) {
            size_t w = canon(s, n, want, sizeof(want));
            int g = snprintf(got, sizeof(got), "%" PRIu64, u);
            FUZZ_CHECK((size_t)g == w && memcmp(got, want, w) == 0);
        }
        break;
    case 1:
        r = parse_x64(s, n, &u);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r == 0 && n < sizeof(want)) {
            size_t w = canon(s, n, want, sizeof(want));
            int g = snprintf(got, sizeof(got), "%" PRIx64, u);
            FUZZ_CHECK((size_t)g == w && memcmp(got, want, w) == 0);
        }
        break;
    case 2:
        r = parse_i64(s, n, &i64);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r == 0 && n > 0 && s[0] != '-')
            FUZZ_CHECK(parse_u64(s, n, &u) == 0 && u == (uint64_t)i64);
        break;
    case 3:
        r = parse_kb(s, n, &u);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r == 0) {
            uint64_t raw;
            FUZZ_CHECK(parse_kb_raw(s, n, &raw) == 0 && raw * 1024 == u);
        }
        break;
    case 4:
        r = parse_kb_raw(s, n, &u);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        break;
    case 5: {
        size_t total = 0, fields = 0;
        while (next_field(s, n, &pos, '\n', &f, &fl) == 0) {
            FUZZ_CHECK(fuzz_inside(f, fl, s, n) && memchr(f, '\n', fl) == NULL);
            total += fl;
            fields++;
            FUZZ_CHECK(fields <= n);
        }
        FUZZ_CHECK(total <= n);
        break;
    }
    case 6:
        r = parse_key_value(s, n, &k, &klen, &v, &vlen);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r == 0) {
            FUZZ_CHECK(klen > 0 && klen + 1 + vlen == n && k == s && v == s + klen + 1);
            r = parse_field_index(vm_memory_fields, _VM_MEM_MAX, k, klen);
            FUZZ_CHECK(r == -ENOENT || (r >= 0 && r < _VM_MEM_MAX));
        }
        break;
    default:
        while (next_field(s, n, &pos, ' ', &f, &fl) == 0)
            (void)parse_u64(f, fl, &u);
        break;
    }
    free(in);
    return 0;
}
