/* layout.h: the mm layout of a process (API.md "layout") from stat and its VMA list. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "collector/stat.h"
#include "vmatlas/snapshot.h"

/* Fill p->layout[], p->layout_present, lowest, highest, gap_count, largest_gap, address_bits
 * and the VM_PROC_LAYOUT / VM_PROC_TOP_DOWN flags. vmas[0..n) are in address order with their
 * kinds set. st may be NULL; stat_usable says whether its layout fields are real (the task has
 * an mm and the reader had ptrace-read access). top_down is the mmap direction. */
void layout_compute(struct vm_process *p, const struct vm_vma *vmas, size_t n,
                    const struct stat_info *st, bool stat_usable, bool top_down);
