/* fuzz_cgroup.c: cgroup_parse on the whole input, then cgroup_unit on the chosen path (from an
 * exact-size copy) and on the whole input. */
#include "collector/cgroup.h"
#include "fuzz.h"

static void unit(const char *path, size_t len) {
    char *p = fuzz_exact(path, len);
    const char *u;
    size_t ulen;
    int r = cgroup_unit(p, len, &u, &ulen);

    FUZZ_CHECK(r == 0 || r == -ENXIO);
    if (r == 0) {
        FUZZ_CHECK(ulen >= 3 && ulen < 256 && fuzz_inside(u, ulen, p, len));
        FUZZ_CHECK(memchr(u, '/', ulen) == NULL);
    }
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data, *path;
    size_t len;
    int r = cgroup_parse(s, size, &path, &len);

    FUZZ_CHECK(r == 0 || r == -ENOENT);
    if (r == 0) {
        FUZZ_CHECK(len > 0 && fuzz_inside(path, len, s, size));
        FUZZ_CHECK(memchr(path, '\n', len) == NULL);
        unit(path, len);
    }
    unit(s, size);
    return 0;
}
