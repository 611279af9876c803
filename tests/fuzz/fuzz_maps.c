/* fuzz_maps.c: maps_parse_line, maps_is_header and classify_vma on every line of the input. */
#include "collector/classify.h"
#include "collector/maps.h"
#include "fuzz.h"
#include "vmatlas/snapshot.h"

static int start_has_upper(const char *line, size_t n) {
    for (size_t i = 0; i < n && line[i] != '-'; i++)
        if (line[i] >= 'A' && line[i] <= 'F')
            return 1;
    return 0;
}

static void one_line(const char *data, size_t n, uint64_t flags, uint64_t kpage) {
    char *line = fuzz_exact(data, n);
    struct maps_entry e;
    int r;

    (void)maps_is_header(line, n);
    r = maps_parse_line(line, n, &e);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(e.start <= e.end);
        FUZZ_CHECK(e.perms <= (VM_PERM_READ | VM_PERM_WRITE | VM_PERM_EXEC | VM_PERM_SHARED));
        FUZZ_CHECK(e.dev_major <= 0xfff && e.dev_minor <= 0xfffff);
        FUZZ_CHECK(!e.name || (e.name_len > 0 && fuzz_inside(e.name, e.name_len, line, n)));
        FUZZ_CHECK(e.name || (e.name_len == 0 && !e.deleted));
        /* a parsed line is a header, unless its addresses use upper-case hex (which the
         * kernel never prints, and parse_x64 accepts) */
        FUZZ_CHECK(maps_is_header(line, n) || start_has_upper(line, n));
        r = (int)classify_vma(&e, flags, kpage);
        FUZZ_CHECK(r >= 0 && r < _VM_KIND_MAX);
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    uint64_t flags = 0, kpage = 0;
    size_t start = 0;

    /* The first bytes also pick VmFlags and a page size for classify_vma. */
    for (size_t i = 0; i < size && i < 8; i++)
        flags = (flags << 8) | data[i];
    if (size > 8)
        kpage = data[8] & 1 ? 2048 : 4;

    one_line(s, size, flags, kpage); /* the whole input as one line */
    for (size_t i = 0; i <= size; i++)
        if (i == size || s[i] == '\n') {
            one_line(s + start, i - start, flags, kpage);
            start = i + 1;
        }
    return 0;
}
