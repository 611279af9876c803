/* classify.h: the `kind` of a VMA (API.md), from its maps fields and, when known, VmFlags and
 * the kernel page size. */
#pragma once

#include <stdint.h>

#include "collector/maps.h"
#include "vmatlas/snapshot.h"

/* vmflags_mask: from vmflags.h, 0 when smaps was not read; kernel_page_kb: 0 when unknown.
 * Order of tests: special names ([heap] [stack] [vdso] [vvar] [vvar_vclock] [vsyscall]),
 * hugetlb (ht, page size > 4 kB, /anon_hugepage (deleted), a file under /dev/hugepages/),
 * device (pf/io flags, or a /dev/ path other than /dev/zero, /dev/shm/ and /dev/hugepages/),
 * SysV (/SYSVxxxxxxxx (deleted)), memfd (/memfd:), socket (socket:[...]), shared anonymous
 * (/dev/zero (deleted) shared, [anon_shmem:...]), anonymous (no name or [anon:...], inode 0),
 * file shared/private ('/' path with inode != 0, by the 's' perm), else other (anon_inode:[...],
 * [uprobes], ...). Pure; e == NULL gives VM_KIND_OTHER. */
enum vm_kind classify_vma(const struct maps_entry *e, uint64_t vmflags_mask,
                          uint64_t kernel_page_kb);
