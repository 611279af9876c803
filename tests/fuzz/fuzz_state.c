/* fuzz_state.c: vm_state_decode on the input as it is, and again with the header's CRC made to
 * match (so mutations reach the snapshot validation behind it). A decoded seed must validate,
 * render, and survive another encode/decode round. */
#include <zlib.h>

#include "api/render.h"
#include "fuzz.h"
#include "vmatlas/state.h"

#define HEADER 24 /* magic[8], format, crc, block_len */

static void decode(const void *buf, size_t len) {
    struct vm_snapshot *s = NULL;
    int r = vm_state_decode(buf, len, &s);
    FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -ENOMEM);
    if (r < 0)
        return;
    FUZZ_CHECK(vm_snapshot_validate(s, s->size) == 0);
    FUZZ_CHECK(s->nvmas == 0 && s->npools == 0);
    for (int by = 0; by < _VM_GROUP_MAX; by++)
        json_decref(render_hiwater(s, (enum vm_group_by)by));
    json_decref(render_exited(s));
    void *again = NULL;
    size_t alen;
    struct vm_snapshot *s2 = NULL;
    FUZZ_CHECK(vm_state_encode(s, &again, &alen) == 0);
    FUZZ_CHECK(vm_state_decode(again, alen, &s2) == 0);
    FUZZ_CHECK(s2->ngroups == s->ngroups && s2->nexited == s->nexited && s2->nprocs == s->nprocs);
    free(again);
    vm_snapshot_unref(s2);
    vm_snapshot_unref(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    char *copy = fuzz_exact(data, size);
    decode(copy, size);
    if (size >= HEADER) {
        uint32_t crc = (uint32_t)crc32(0, (const Bytef *)copy + HEADER, (uInt)(size - HEADER));
        uint64_t block_len = size - HEADER;
        memcpy(copy + 12, &crc, sizeof(crc));
        memcpy(copy + 16, &block_len, sizeof(block_len));
        decode(copy, size);
    }
    free(copy);
    return 0;
}
