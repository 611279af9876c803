/* fuzz_pagewalk.c: the join of PAGEMAP_SCAN regions to VMAs, on regions and VMAs made from the
 * input (the kernel's output is data: never trusted to be sorted, aligned or in range). The
 * first byte gives the VMA count; VMAs are built sorted and disjoint from 16-bit page deltas,
 * the rest of the input is regions (3 x u64 each). Counted pages can never exceed the VMAs. */
#include <errno.h>
#include <string.h>

#include "collector/pagewalk.h"
#include "fuzz.h"

#define PAGE 4096u
#define MAX_VMAS 32u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct pagewalk_vma v[MAX_VMAS];
    size_t n = 0, pos = 0;
    if (size < 1)
        return 0;
    size_t want = data[pos++] % (MAX_VMAS + 1);
    uint64_t addr = 0;
    while (n < want && pos + 4 <= size) {
        uint16_t gap, len;
        memcpy(&gap, data + pos, 2);
        memcpy(&len, data + pos + 2, 2);
        pos += 4;
        addr += (uint64_t)gap * PAGE;
        memset(&v[n], 0, sizeof(v[n]));
        v[n].start = addr;
        v[n].end = addr + ((uint64_t)len + 1) * PAGE;
        v[n].hugetlb = len & 1;
        addr = v[n].end;
        n++;
    }
    struct pagewalk_join j;
    pagewalk_join_init(&j, v, n, PAGE, data[0] & 0x80);
    size_t nr = (size - pos) / sizeof(struct pagewalk_region);
    struct pagewalk_region r[64];
    if (nr > 64)
        nr = 64;
    memcpy(r, data + pos, nr * sizeof(r[0]));
    int rc = pagewalk_join_add(&j, r, nr);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    for (size_t i = 0; i < n; i++) {
        uint64_t pages = (v[i].end - v[i].start) / PAGE;
        for (int f = 0; f < _RES_MAX; f++)
            FUZZ_CHECK(rc < 0 || v[i].pages[f] <= pages);
    }
    return 0;
}
