/* layout.c: start_code..env_end, brk, the mmap_base estimate and the gaps of one process. */
#include "collector/kernel_abi.h"
#include "collector/layout.h"

/* The top-down mmap base sits at least 128 MiB below the top of the stack (mm/util.c
 * mmap_base(): the stack gap is clamped to >= 128 MiB), so a VMA closer to the stack than that
 * was placed there explicitly (MAP_FIXED or a hint) and says nothing about mmap_base. */
#define MIN_STACK_GAP (128ull << 20)

static void set(struct vm_process *p, enum vm_layout_field f, uint64_t v) {
    p->layout[f] = v;
    p->layout_present |= 1u << f;
}

/* Top-down: the dynamic loader is the first mmap after exec and ends at mmap_base; estimate it
 * as the highest end of a VMA well below the stack. Bottom-up (legacy layout): mmaps start at
 * TASK_UNMAPPED_BASE (TASK_SIZE / 3) plus a random offset, so take the lowest start above it. */
static bool estimate_mmap_base(const struct vm_vma *v, size_t n, const struct vm_vma *stack,
                               bool top_down, uint64_t *ret) {
    bool found = false;
    uint64_t best = 0;
    if (top_down) {
        if (!stack || stack->end < MIN_STACK_GAP)
            return false;
        uint64_t limit = stack->end - MIN_STACK_GAP;
        for (size_t i = 0; i < n; i++) {
            if (&v[i] == stack || v[i].kind == VM_KIND_VSYSCALL || v[i].end > limit)
                continue;
            if (v[i].end > best)
                best = v[i].end, found = true;
        }
    } else {
        uint64_t unmapped_base = (TASK_SIZE_47 / 3 + 4095) & ~4095ull;
        for (size_t i = 0; i < n; i++) {
            if (&v[i] == stack || v[i].kind == VM_KIND_VSYSCALL || v[i].kind == VM_KIND_HEAP ||
                v[i].start < unmapped_base)
                continue;
            if (!found || v[i].start < best)
                best = v[i].start, found = true;
        }
    }
    *ret = best;
    return found;
}

void layout_compute(struct vm_process *p, const struct vm_vma *v, size_t n,
                    const struct stat_info *st, bool stat_usable, bool top_down) {
    const struct vm_vma *heap = NULL, *stack = NULL;
    bool any = false;
    uint64_t prev_end = 0;

    p->layout_present = 0;
    p->gap_count = 0;
    p->largest_gap = 0;
    p->lowest = p->highest = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == VM_KIND_VSYSCALL)
            continue;
        if (v[i].kind == VM_KIND_HEAP && !heap)
            heap = &v[i];
        if (v[i].kind == VM_KIND_STACK && !stack)
            stack = &v[i];
        if (!any) {
            p->lowest = v[i].start;
            any = true;
        } else if (v[i].start > prev_end) {
            uint64_t gap = v[i].start - prev_end;
            p->gap_count++;
            if (gap > p->largest_gap)
                p->largest_gap = gap;
        }
        if (v[i].end > prev_end)
            prev_end = v[i].end;
    }
    if (any) {
        p->highest = prev_end;
        p->flags |= VM_PROC_LAYOUT;
    } else {
        p->flags &= ~(uint32_t)VM_PROC_LAYOUT;
    }
    p->address_bits = p->highest > TASK_SIZE_47 ? 56 : 47;
    if (top_down)
        p->flags |= VM_PROC_TOP_DOWN;
    else
        p->flags &= ~(uint32_t)VM_PROC_TOP_DOWN;

    if (st && stat_usable) {
        set(p, VM_LAYOUT_START_CODE, st->start_code);
        set(p, VM_LAYOUT_END_CODE, st->end_code);
        set(p, VM_LAYOUT_START_STACK, st->start_stack);
        if (st->has_layout) {
            set(p, VM_LAYOUT_START_DATA, st->start_data);
            set(p, VM_LAYOUT_END_DATA, st->end_data);
            set(p, VM_LAYOUT_START_BRK, st->start_brk);
            set(p, VM_LAYOUT_ARG_START, st->arg_start);
            set(p, VM_LAYOUT_ARG_END, st->arg_end);
            set(p, VM_LAYOUT_ENV_START, st->env_start);
            set(p, VM_LAYOUT_ENV_END, st->env_end);
            set(p, VM_LAYOUT_BRK, heap ? heap->end : st->start_brk);
        }
    } else if (heap) {
        set(p, VM_LAYOUT_BRK, heap->end);
    }
    uint64_t base;
    if (any && estimate_mmap_base(v, n, stack, top_down, &base))
        set(p, VM_LAYOUT_MMAP_BASE, base);
}
