/* fuzz_cmdline.c: cmdline_format with an output capacity taken from the first byte. */
#include "collector/cmdline.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t cap, n;
    char *out;
    bool cut;

    if (size == 0)
        return 0;
    cap = data[0]; /* 0..255, 0 included */
    out = malloc(cap ? cap : 1);
    if (!out)
        abort();
    n = cmdline_format((const char *)data + 1, size - 1, out, cap, &cut);
    if (cap == 0) {
        FUZZ_CHECK(n == 0);
    } else {
        FUZZ_CHECK(n < cap && out[n] == '\0' && memchr(out, '\0', n) == NULL);
        FUZZ_CHECK(n == size - 1 || cut || data[1 + n] == '\0');
    }
    free(out);
    return 0;
}
