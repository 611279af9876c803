/* fuzz_stat.c: stat_parse and stat_layout_masked on the whole input. */
#include "collector/stat.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct stat_info st;
    int r = stat_parse((const char *)data, size, &st);

    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(st.comm_len <= VM_COMM_MAX - 1);
        FUZZ_CHECK(st.comm[st.comm_len] == '\0');
        FUZZ_CHECK(st.pid >= 0 && st.ppid >= 0);
        FUZZ_CHECK(st.has_layout || (st.start_data == 0 && st.env_end == 0));
        (void)stat_layout_masked(&st);
    }
    return 0;
}
