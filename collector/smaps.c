/* smaps.c: parsers for the field lines of /proc/PID/smaps and for /proc/PID/smaps_rollup. */
#include "collector/smaps.h"

#include <errno.h>
#include <string.h>

#include "collector/maps.h"
#include "collector/parse.h"
#include "collector/vmflags.h"
#include "vmatlas/macros.h"

/* smaps keys outside VM_VMA_FIELDS that the block keeps. */
enum smaps_extra {
    SMAPS_SIZE,
    SMAPS_KERNEL_PAGE_SIZE,
    SMAPS_MMU_PAGE_SIZE,
    SMAPS_THP_ELIGIBLE,
    SMAPS_VMFLAGS,
    _SMAPS_EXTRA_MAX
};

static const struct vm_field smaps_extra_fields[_SMAPS_EXTRA_MAX] = {
    [SMAPS_SIZE] = {"Size", "size", "VMA length"},
    [SMAPS_KERNEL_PAGE_SIZE] = {"KernelPageSize", "kernel_page_size", "page size of the VMA"},
    [SMAPS_MMU_PAGE_SIZE] = {"MMUPageSize", "mmu_page_size", "MMU page size of the VMA"},
    [SMAPS_THP_ELIGIBLE] = {"THPeligible", "thp_eligible", "THP could be used here"},
    [SMAPS_VMFLAGS] = {"VmFlags", "flags", "VM_* flags as two-letter codes"},
};

void smaps_vma_init(struct smaps_vma *v) {
    memset(v, 0, sizeof(*v));
    v->thp_eligible = -1;
    v->vmflags = NULL;
}

static void trim_blanks(const char **s, size_t *len) {
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static int parse_extra(enum smaps_extra which, const char *val, size_t vlen, struct smaps_vma *v) {
    uint64_t n, mask;
    int r;

    switch (which) {
    case SMAPS_SIZE:
        r = parse_kb_raw(val, vlen, &n);
        v->size_kb = r < 0 ? 0 : n;
        return r < 0 ? -EINVAL : 0;
    case SMAPS_KERNEL_PAGE_SIZE:
        r = parse_kb_raw(val, vlen, &n);
        v->kernel_page_kb = r < 0 ? 0 : n;
        return r < 0 ? -EINVAL : 0;
    case SMAPS_MMU_PAGE_SIZE:
        r = parse_kb_raw(val, vlen, &n);
        v->mmu_page_kb = r < 0 ? 0 : n;
        return r < 0 ? -EINVAL : 0;
    case SMAPS_THP_ELIGIBLE:
        trim_blanks(&val, &vlen);
        r = parse_u64(val, vlen, &n);
        if (r < 0 || n > 1) {
            v->thp_eligible = -1;
            return -EINVAL;
        }
        v->thp_eligible = (int)n;
        return 0;
    case SMAPS_VMFLAGS:
        trim_blanks(&val, &vlen);
        if (vmflags_parse(val, vlen, &mask) < 0) {
            v->vmflags = NULL;
            v->vmflags_len = 0;
            v->has_vmflags = false;
            v->vmflags_mask = 0;
            return -EINVAL;
        }
        v->vmflags = val;
        v->vmflags_len = vlen;
        v->has_vmflags = true;
        v->vmflags_mask = mask;
        return 0;
    default:
        return 0;
    }
}

int smaps_parse_field(const char *line, size_t len, struct smaps_vma *v) {
    const char *key, *val;
    size_t klen, vlen;
    uint64_t kb;
    int i;

    if (parse_key_value(line, len, &key, &klen, &val, &vlen) < 0)
        return -EINVAL;

    i = parse_field_index(vm_vma_fields, _VM_VMAF_MAX, key, klen);
    if (i >= 0) {
        if (parse_kb_raw(val, vlen, &kb) < 0) {
            v->kb[i] = 0;
            v->present &= ~(1u << i);
            return -EINVAL;
        }
        v->kb[i] = kb;
        v->present |= 1u << i;
        return 0;
    }

    i = parse_field_index(smaps_extra_fields, _SMAPS_EXTRA_MAX, key, klen);
    if (i >= 0)
        return parse_extra((enum smaps_extra)i, val, vlen, v);

    return 0; /* unknown key: ignored */
}

int rollup_parse(const char *buf, size_t len, uint64_t rollup[_VM_ROLLUP_MAX],
                 uint32_t *ret_present) {
    uint64_t values[_VM_ROLLUP_MAX] = {0};
    uint32_t present = 0;
    const char *line;
    size_t pos = 0, line_len;

    while (next_field(buf, len, &pos, '\n', &line, &line_len) == 0) {
        const char *key, *val;
        size_t klen, vlen;
        uint64_t bytes;
        int i;

        if (maps_is_header(line, line_len))
            continue; /* "START-END ---p 00000000 00:00 0   [rollup]" */
        if (parse_key_value(line, line_len, &key, &klen, &val, &vlen) < 0)
            continue;
        i = parse_field_index(vm_rollup_fields, _VM_ROLLUP_MAX, key, klen);
        if (i < 0)
            continue;
        if (parse_kb(val, vlen, &bytes) < 0) {
            values[i] = 0;
            present &= ~(1u << i);
            continue;
        }
        values[i] = bytes;
        present |= 1u << i;
    }

    if (!present)
        return -EINVAL;
    memcpy(rollup, values, sizeof(values));
    *ret_present = present;
    return 0;
}
