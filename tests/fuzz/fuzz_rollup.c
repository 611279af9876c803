/* fuzz_rollup.c: rollup_parse on the whole input. */
#include "collector/smaps.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t rollup[_VM_ROLLUP_MAX];
    uint32_t present;
    int r = rollup_parse((const char *)data, size, rollup, &present);

    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(present != 0 && present < (1u << _VM_ROLLUP_MAX));
        for (int i = 0; i < _VM_ROLLUP_MAX; i++) {
            FUZZ_CHECK((present >> i) & 1u || rollup[i] == 0);
            FUZZ_CHECK(rollup[i] % 1024 == 0);
        }
    }
    return 0;
}
