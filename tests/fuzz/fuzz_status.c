/* fuzz_status.c: status_parse on the whole input. */
#include "collector/status.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct status_info st;
    int r = status_parse((const char *)data, size, &st);

    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(st.memory_present < (1u << _VM_MEM_MAX));
        for (int i = 0; i < _VM_MEM_MAX; i++) {
            FUZZ_CHECK((st.memory_present >> i) & 1u || st.memory[i] == 0);
            FUZZ_CHECK(st.memory[i] % 1024 == 0);
        }
        FUZZ_CHECK(st.kthread >= -1 && st.kthread <= 1);
        FUZZ_CHECK(st.ppid >= 0);
    }
    return 0;
}
