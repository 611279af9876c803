/* fuzz_guard.c: the Host allow-list and the token check on arbitrary header values (split
 * at the first NUL: Host, then Authorization). */
#include "api/guard.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const hosts[] = {"vmatlas.internal"};
    char *buf = malloc(size + 2);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    const char *host = buf, *auth = buf + strlen(buf) + 1;
    if (auth > buf + size)
        auth = buf + size;
    struct api_guard g = {.token = "0123456789abcdef", .token_len = 16, .hosts = hosts,
                          .nhosts = 1};
    bool allowed = guard_host_allowed(&g, host);
    enum guard_verdict v = guard_check(&g, true, "/metrics", auth, host);
    FUZZ_CHECK(allowed == (v != GUARD_BAD_HOST));
    if (v == GUARD_OK)
        FUZZ_CHECK(strstr(auth, "0123456789abcdef") != NULL);
    free(buf);
    return 0;
}
