/* fields.h: the tables that drive every per-source field.
 *
 * Each X-macro row is (ENUM_SUFFIX, kernel key, json name, help). The enums, the parsers'
 * key tables and the renderers' names are all expanded from the same rows, so they cannot
 * drift apart. Sizes in these tables are printed by the kernel in kB and kept in bytes.
 */
#pragma once

#include "vmatlas/macros.h"

struct vm_field {
    const char *key;  /* kernel key, without the ':' */
    const char *json; /* JSON member name (and Prometheus name stem) */
    const char *help; /* one-line description, used for HELP text */
};

/* /proc/PID/status memory lines (kB). */
#define VM_MEMORY_FIELDS(X)                                                                        \
    X(VM_PEAK, "VmPeak", "vm_peak", "peak virtual size (hiwater_vm)")                              \
    X(VM_SIZE, "VmSize", "vm_size", "virtual size (total_vm)")                                     \
    X(VM_LCK, "VmLck", "vm_lck", "mlocked memory (locked_vm)")                                     \
    X(VM_PIN, "VmPin", "vm_pin", "long-term pinned memory (pinned_vm)")                            \
    X(VM_HWM, "VmHWM", "vm_hwm", "peak resident set size (hiwater_rss)")                           \
    X(VM_RSS, "VmRSS", "vm_rss", "resident set size")                                              \
    X(RSS_ANON, "RssAnon", "rss_anon", "resident anonymous memory")                                \
    X(RSS_FILE, "RssFile", "rss_file", "resident file mappings")                                   \
    X(RSS_SHMEM, "RssShmem", "rss_shmem", "resident shmem (shared anon, SysV, memfd, tmpfs)")      \
    X(VM_DATA, "VmData", "vm_data", "private writable non-stack mappings (data_vm)")               \
    X(VM_STK, "VmStk", "vm_stk", "stack mappings (stack_vm)")                                      \
    X(VM_EXE, "VmExe", "vm_exe", "text segment")                                                   \
    X(VM_LIB, "VmLib", "vm_lib", "other executable mappings")                                      \
    X(VM_PTE, "VmPTE", "vm_pte", "page tables")                                                    \
    X(VM_SWAP, "VmSwap", "vm_swap", "swapped-out anonymous memory")                                \
    X(HUGETLB, "HugetlbPages", "hugetlb", "hugetlb pages mapped")

/* /proc/PID/smaps_rollup lines (kB). uss is derived (private_clean + private_dirty). */
#define VM_ROLLUP_FIELDS(X)                                                                        \
    X(RSS, "Rss", "rss", "resident set size")                                                      \
    X(PSS, "Pss", "pss", "proportional set size")                                                  \
    X(PSS_DIRTY, "Pss_Dirty", "pss_dirty", "proportional size of dirty pages")                     \
    X(PSS_ANON, "Pss_Anon", "pss_anon", "proportional size of anonymous pages")                    \
    X(PSS_FILE, "Pss_File", "pss_file", "proportional size of file pages")                         \
    X(PSS_SHMEM, "Pss_Shmem", "pss_shmem", "proportional size of shmem pages")                     \
    X(SHARED_CLEAN, "Shared_Clean", "shared_clean", "clean pages mapped more than once")           \
    X(SHARED_DIRTY, "Shared_Dirty", "shared_dirty", "dirty pages mapped more than once")           \
    X(PRIVATE_CLEAN, "Private_Clean", "private_clean", "clean pages mapped once")                  \
    X(PRIVATE_DIRTY, "Private_Dirty", "private_dirty", "dirty pages mapped once")                  \
    X(REFERENCED, "Referenced", "referenced", "pages marked referenced or accessed")               \
    X(ANONYMOUS, "Anonymous", "anonymous", "anonymous pages")                                      \
    X(KSM, "KSM", "ksm", "KSM-merged pages")                                                       \
    X(LAZYFREE, "LazyFree", "lazyfree", "MADV_FREE pages not yet reclaimed")                       \
    X(ANON_HUGE, "AnonHugePages", "anon_huge", "PMD-mapped anonymous THP")                         \
    X(SHMEM_PMD_MAPPED, "ShmemPmdMapped", "shmem_pmd_mapped", "PMD-mapped shmem THP")              \
    X(FILE_PMD_MAPPED, "FilePmdMapped", "file_pmd_mapped", "PMD-mapped page-cache THP")            \
    X(SHARED_HUGETLB, "Shared_Hugetlb", "shared_hugetlb", "hugetlb pages mapped more than once")   \
    X(PRIVATE_HUGETLB, "Private_Hugetlb", "private_hugetlb", "hugetlb pages mapped once")          \
    X(SWAP, "Swap", "swap", "swapped-out pages")                                                   \
    X(SWAP_PSS, "SwapPss", "swap_pss", "proportional swap")                                        \
    X(LOCKED, "Locked", "locked", "proportional size of mlocked pages")

/* Per-VMA smaps lines kept in the snapshot (kB; stored as 32-bit kB, see struct vm_vma). */
#define VM_VMA_FIELDS(X)                                                                           \
    X(RSS, "Rss", "rss", "resident set size")                                                      \
    X(PSS, "Pss", "pss", "proportional set size")                                                  \
    X(SHARED_CLEAN, "Shared_Clean", "shared_clean", "clean pages mapped more than once")           \
    X(SHARED_DIRTY, "Shared_Dirty", "shared_dirty", "dirty pages mapped more than once")           \
    X(PRIVATE_CLEAN, "Private_Clean", "private_clean", "clean pages mapped once")                  \
    X(PRIVATE_DIRTY, "Private_Dirty", "private_dirty", "dirty pages mapped once")                  \
    X(REFERENCED, "Referenced", "referenced", "pages marked referenced or accessed")               \
    X(ANONYMOUS, "Anonymous", "anonymous", "anonymous pages")                                      \
    X(ANON_HUGE, "AnonHugePages", "anon_huge", "PMD-mapped anonymous THP")                         \
    X(SHMEM_PMD_MAPPED, "ShmemPmdMapped", "shmem_pmd_mapped", "PMD-mapped shmem THP")              \
    X(FILE_PMD_MAPPED, "FilePmdMapped", "file_pmd_mapped", "PMD-mapped page-cache THP")            \
    X(SHARED_HUGETLB, "Shared_Hugetlb", "shared_hugetlb", "hugetlb pages mapped more than once")   \
    X(PRIVATE_HUGETLB, "Private_Hugetlb", "private_hugetlb", "hugetlb pages mapped once")          \
    X(SWAP, "Swap", "swap", "swapped-out pages")                                                   \
    X(SWAP_PSS, "SwapPss", "swap_pss", "proportional swap")                                        \
    X(LOCKED, "Locked", "locked", "proportional size of mlocked pages")

/* Layout addresses of the process detail (stat fields 26-28, 45-51, plus derived ones). */
#define VM_LAYOUT_FIELDS(X)                                                                        \
    X(START_CODE, "start_code", "start_code", "stat field 26")                                     \
    X(END_CODE, "end_code", "end_code", "stat field 27")                                           \
    X(START_DATA, "start_data", "start_data", "stat field 45")                                     \
    X(END_DATA, "end_data", "end_data", "stat field 46")                                           \
    X(START_BRK, "start_brk", "start_brk", "stat field 47")                                        \
    X(BRK, "brk", "brk", "end of [heap], or start_brk without a heap")                             \
    X(START_STACK, "start_stack", "start_stack", "stat field 28")                                  \
    X(ARG_START, "arg_start", "arg_start", "stat field 48")                                        \
    X(ARG_END, "arg_end", "arg_end", "stat field 49")                                              \
    X(ENV_START, "env_start", "env_start", "stat field 50")                                        \
    X(ENV_END, "env_end", "env_end", "stat field 51")                                              \
    X(MMAP_BASE, "mmap_base", "mmap_base", "estimated from the maps")

#define VM__ENUM_MEM(e, k, j, h) VM_MEM_##e,
#define VM__ENUM_ROLLUP(e, k, j, h) VM_ROLLUP_##e,
#define VM__ENUM_VMAF(e, k, j, h) VM_VMAF_##e,
#define VM__ENUM_LAYOUT(e, k, j, h) VM_LAYOUT_##e,
#define VM__FIELD_ROW(e, k, j, h) {k, j, h},

enum vm_mem_field { VM_MEMORY_FIELDS(VM__ENUM_MEM) _VM_MEM_MAX, _VM_MEM_INVALID = -EINVAL };
enum vm_rollup_field { VM_ROLLUP_FIELDS(VM__ENUM_ROLLUP) _VM_ROLLUP_MAX, _VM_ROLLUP_INVALID = -EINVAL };
enum vm_vma_field { VM_VMA_FIELDS(VM__ENUM_VMAF) _VM_VMAF_MAX, _VM_VMAF_INVALID = -EINVAL };
enum vm_layout_field { VM_LAYOUT_FIELDS(VM__ENUM_LAYOUT) _VM_LAYOUT_MAX, _VM_LAYOUT_INVALID = -EINVAL };

_unused_ static const struct vm_field vm_memory_fields[_VM_MEM_MAX] = {VM_MEMORY_FIELDS(VM__FIELD_ROW)};
_unused_ static const struct vm_field vm_rollup_fields[_VM_ROLLUP_MAX] = {VM_ROLLUP_FIELDS(VM__FIELD_ROW)};
_unused_ static const struct vm_field vm_vma_fields[_VM_VMAF_MAX] = {VM_VMA_FIELDS(VM__FIELD_ROW)};
_unused_ static const struct vm_field vm_layout_fields[_VM_LAYOUT_MAX] = {VM_LAYOUT_FIELDS(VM__FIELD_ROW)};

_Static_assert(_VM_MEM_MAX <= 32, "memory presence mask is 32 bits");
_Static_assert(_VM_ROLLUP_MAX <= 32, "rollup presence mask is 32 bits");
_Static_assert(_VM_VMAF_MAX <= 16, "vma presence mask is 16 bits");
_Static_assert(_VM_LAYOUT_MAX <= 32, "layout presence mask is 32 bits");
