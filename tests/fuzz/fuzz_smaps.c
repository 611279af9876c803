/* fuzz_smaps.c: an smaps stream split into lines as the builder does: header lines go to
 * maps_parse_line, field lines to smaps_parse_field, and each finished block to classify_vma. */
#include "collector/classify.h"
#include "collector/maps.h"
#include "collector/smaps.h"
#include "collector/vmflags.h"
#include "fuzz.h"

struct block {
    struct maps_entry e;
    char *header; /* the header line e.name points into */
    struct smaps_vma v;
    int open;
};

static void block_end(struct block *b) {
    if (b->open) {
        int k = (int)classify_vma(&b->e, b->v.vmflags_mask, b->v.kernel_page_kb);
        FUZZ_CHECK(k >= 0 && k < _VM_KIND_MAX);
        FUZZ_CHECK(b->v.present < (1u << _VM_VMAF_MAX));
        FUZZ_CHECK(b->v.thp_eligible >= -1 && b->v.thp_eligible <= 1);
    }
    free(b->header);
    b->header = NULL;
    b->open = 0;
}

static void one_line(struct block *b, const char *data, size_t n) {
    char *line = fuzz_exact(data, n);
    int r;

    if (maps_is_header(line, n)) {
        block_end(b);
        r = maps_parse_line(line, n, &b->e);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        smaps_vma_init(&b->v);
        if (r == 0) {
            b->header = line; /* kept: b->e.name points into it */
            b->open = 1;
            return;
        }
    } else {
        r = smaps_parse_field(line, n, &b->v);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (b->v.has_vmflags) {
            uint64_t mask;
            if (b->v.vmflags_len > 0 && fuzz_inside(b->v.vmflags, b->v.vmflags_len, line, n)) {
                /* set by this line: it must re-parse to the same mask */
                FUZZ_CHECK(vmflags_parse(b->v.vmflags, b->v.vmflags_len, &mask) == 0);
                FUZZ_CHECK(mask == b->v.vmflags_mask);
            }
            /* the line goes away: keep the mask only, as a caller that copies would */
            b->v.vmflags = NULL;
            b->v.vmflags_len = 0;
        }
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    struct block b = {0};
    size_t start = 0;

    smaps_vma_init(&b.v);
    for (size_t i = 0; i <= size; i++)
        if (i == size || s[i] == '\n') {
            if (i > start || i < size)
                one_line(&b, s + start, i - start);
            start = i + 1;
        }
    block_end(&b);
    return 0;
}
