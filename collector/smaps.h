/* smaps.h: parsers for the field lines of /proc/PID/smaps and for /proc/PID/smaps_rollup. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/fields.h"

/* The fields of one smaps block (everything after its header line). */
struct smaps_vma {
    uint64_t kb[_VM_VMAF_MAX]; /* kB as printed, enum vm_vma_field */
    uint32_t present;          /* bit per enum vm_vma_field */
    uint64_t size_kb;          /* Size: */
    uint64_t kernel_page_kb;   /* KernelPageSize:, 0 when absent */
    uint64_t mmu_page_kb;      /* MMUPageSize:, 0 when absent */
    int thp_eligible;          /* THPeligible: 0/1, -1 when absent */
    const char *vmflags;       /* VmFlags: value (codes separated by spaces, outer blanks
                                * stripped); points into the line given to the parser */
    size_t vmflags_len;
    bool has_vmflags;
    uint64_t vmflags_mask; /* bit per known code, see vmflags.h */
};

/* Reset a block before its first field line: nothing present, thp_eligible -1, no VmFlags. */
void smaps_vma_init(struct smaps_vma *v);

/* Parse one field line (no '\n') into v. Keys are matched by name against VM_VMA_FIELDS (kept
 * in kb[] as printed) and Size, KernelPageSize, MMUPageSize, THPeligible and VmFlags; unknown
 * keys are ignored. Returns 0 when the line was a field line (known or not), -EINVAL when it is
 * malformed: no "Key:" ([A-Za-z0-9_]+ then ':'; a maps header line is not a field line), a known
 * kB key without a valid "<blanks><decimal> kB" value, THPeligible not 0/1, or a VmFlags token
 * that is not two bytes. A malformed known field is left absent (its bit cleared, or 0 / -1 /
 * NULL for the scalar members), even if an earlier line had set it. v->vmflags points into
 * line, so the caller keeps that line alive (or copies it) as long as it uses v->vmflags. */
int smaps_parse_field(const char *line, size_t len, struct smaps_vma *v);

/* Parse a whole smaps_rollup text (header line "... [rollup]" then fields). rollup[] gets bytes
 * (kB x 1024) indexed by enum vm_rollup_field, 0 where absent; *ret_present a bit per field.
 * Header lines, unknown keys and malformed lines are skipped; a known key with a malformed or
 * overflowing value is absent. Returns 0, or -EINVAL when no known field was found (rollup[]
 * and *ret_present are then untouched). */
int rollup_parse(const char *buf, size_t len, uint64_t rollup[_VM_ROLLUP_MAX],
                 uint32_t *ret_present);
