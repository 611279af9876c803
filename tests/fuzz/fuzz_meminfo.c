/* fuzz_meminfo.c: hugepages_parse_meminfo on the whole input. */
#include <string.h>

#include "collector/hugepages.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct vm_thp thp;
    memset(&thp, 0, sizeof(thp));
    hugepages_parse_meminfo((const char *)data, size, &thp);
    FUZZ_CHECK(thp.present < (1u << _VM_THP_MAX));
    for (int i = 0; i < _VM_THP_MAX; i++) {
        FUZZ_CHECK((thp.present >> i) & 1u || thp.bytes[i] == 0);
        FUZZ_CHECK(thp.bytes[i] % 1024 == 0);
    }
    return 0;
}
