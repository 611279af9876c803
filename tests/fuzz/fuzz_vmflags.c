/* fuzz_vmflags.c: vmflags_parse on the whole input; a parsed mask maps back to known codes. */
#include "collector/vmflags.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t mask;
    int r = vmflags_parse((const char *)data, size, &mask);

    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(mask >> _VMF_MAX == 0);
        for (int f = 0; f < _VMF_MAX; f++)
            if (mask & VMF(f) && f != VMF_UNKNOWN)
                FUZZ_CHECK(vmflag_code((enum vmflag)f) != NULL);
    }
    return 0;
}
