/* vmflags.c: the two-letter VmFlags codes of smaps (fs/proc/task_mmu.c show_smap_vma_flags). */
#include "collector/vmflags.h"

#include <errno.h>
#include <stdbool.h>

#include "vmatlas/macros.h"

/* Indexed by enum vmflag (see vmflags.h for the order). */
static const char vmflag_codes[_VMF_MAX][3] = {
    [VMF_RD] = "rd", [VMF_WR] = "wr", [VMF_EX] = "ex", [VMF_SH] = "sh", [VMF_MR] = "mr",
    [VMF_MW] = "mw", [VMF_ME] = "me", [VMF_MS] = "ms", [VMF_GD] = "gd", [VMF_PF] = "pf",
    [VMF_LO] = "lo", [VMF_IO] = "io", [VMF_SR] = "sr", [VMF_RR] = "rr", [VMF_DC] = "dc",
    [VMF_DE] = "de", [VMF_LF] = "lf", [VMF_AC] = "ac", [VMF_NR] = "nr", [VMF_HT] = "ht",
    [VMF_SF] = "sf", [VMF_AR] = "ar", [VMF_WF] = "wf", [VMF_DD] = "dd", [VMF_BT] = "bt",
    [VMF_SD] = "sd", [VMF_MM] = "mm", [VMF_HG] = "hg", [VMF_NH] = "nh", [VMF_MG] = "mg",
    [VMF_UM] = "um", [VMF_UW] = "uw", [VMF_UI] = "ui", [VMF_MT] = "mt", [VMF_SS] = "ss",
    [VMF_SL] = "sl", [VMF_DP] = "dp", [VMF_GU] = "gu", [VMF_DW] = "dw", [VMF_NL] = "nl",
    /* VMF_UNKNOWN has no code: the kernel prints "??" for bits it has no mnemonic for, and we
     * fold every code we do not know into it. */
};

_Static_assert(_VMF_MAX <= 64, "the VmFlags mask is 64 bits");

const char *vmflag_code(enum vmflag f) {
    if ((int)f < 0 || f >= _VMF_MAX || !vmflag_codes[f][0])
        return NULL;
    return vmflag_codes[f];
}

static enum vmflag vmflag_from_code(char a, char b) {
    for (size_t i = 0; i < ARRAY_SIZE(vmflag_codes); i++)
        if (vmflag_codes[i][0] && vmflag_codes[i][0] == a && vmflag_codes[i][1] == b)
            return (enum vmflag)i;
    return VMF_UNKNOWN;
}

int vmflags_parse(const char *s, size_t len, uint64_t *ret_mask) {
    uint64_t mask = 0;
    size_t i = 0;

    if (!s && len > 0)
        return -EINVAL;
    while (i < len) {
        size_t start;

        if (s[i] == ' ') {
            i++;
            continue;
        }
        start = i;
        while (i < len && s[i] != ' ')
            i++;
        if (i - start != 2)
            return -EINVAL;
        mask |= VMF(vmflag_from_code(s[start], s[start + 1]));
    }
    *ret_mask = mask;
    return 0;
}
