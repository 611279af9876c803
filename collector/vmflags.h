/* vmflags.h: the two-letter VmFlags codes of smaps, in kernel bit order. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Bits of the mask returned by vmflags_parse; codes not in the table set VMF_UNKNOWN. Listed as
 * the kernel's mnemonics[] table in fs/proc/task_mmu.c show_smap_vma_flags() lists them (close
 * to, but not exactly, VM_* bit order, which is the order smaps prints them in), then the codes
 * only older kernels print (dw: VM_DENYWRITE, nl: VM_NONLINEAR). The bit numbers are ours, not
 * the kernel's VM_* bits, and the order of codes in a VmFlags value does not matter. */
enum vmflag {
    VMF_RD,
    VMF_WR,
    VMF_EX,
    VMF_SH,
    VMF_MR,
    VMF_MW,
    VMF_ME,
    VMF_MS,
    VMF_GD,
    VMF_PF,
    VMF_LO,
    VMF_IO,
    VMF_SR,
    VMF_RR,
    VMF_DC,
    VMF_DE,
    VMF_LF,
    VMF_AC,
    VMF_NR,
    VMF_HT,
    VMF_SF,
    VMF_AR,
    VMF_WF,
    VMF_DD,
    VMF_BT,
    VMF_SD,
    VMF_MM,
    VMF_HG,
    VMF_NH,
    VMF_MG,
    VMF_UM,
    VMF_UW,
    VMF_UI,
    VMF_MT,
    VMF_SS,
    VMF_SL,
    VMF_DP,
    VMF_GU,
    VMF_DW,
    VMF_NL,
    VMF_UNKNOWN,
    _VMF_MAX,
    _VMF_INVALID = -EINVAL
};
#define VMF(f) (1ull << (f))

/* The two-letter code of a flag, or NULL. */
const char *vmflag_code(enum vmflag f);

/* Parse a VmFlags value ("rd wr mr mw me ac", separators are spaces, leading, trailing and
 * repeated spaces allowed, an empty value is an empty mask) into a mask. Unknown codes,
 * including the kernel's "??", set VMF_UNKNOWN. Returns 0, or -EINVAL for a token that is not
 * exactly two bytes (*ret_mask is then untouched). */
int vmflags_parse(const char *s, size_t len, uint64_t *ret_mask);
