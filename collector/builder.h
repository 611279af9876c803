/* builder.h: building a snapshot off to the side, then freezing it into one block.
 *
 * The builder holds growable arrays (processes, VMAs, deep-walk pids) and an interning string
 * table (identical strings are stored once: library paths, VmFlags strings, user names).
 * snap_builder_finish() copies everything into one allocation laid out as snapshot.h says.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/snapshot.h"

struct snap_builder;

/* Returns 0 and a new empty builder, or -ENOMEM. */
int snap_builder_new(struct snap_builder **ret);
/* Accepts NULL; returns NULL. */
struct snap_builder *snap_builder_free(struct snap_builder *b);
static inline void snap_builder_freep(struct snap_builder **b) {
    (void)snap_builder_free(*b);
}
#define _cleanup_builder_ _cleanup_(snap_builder_freep)

/* Drop every process, VMA and string (keeps allocated capacity for the next scan). */
void snap_builder_reset(struct snap_builder *b);

/* Intern bytes s[0..len) (no NUL inside); *ret_off gets the offset (0 for len 0).
 * Returns 0, -ENOMEM, or -E2BIG when the table would pass VM_SNAPSHOT_MAX_BYTES. */
int snap_builder_intern(struct snap_builder *b, const char *s, size_t len, uint32_t *ret_off);

/* Append a zeroed process; *ret points into the builder and stays valid until the next
 * snap_builder_add_process() or reset. Its vma_first is set to the current VMA count. */
int snap_builder_add_process(struct snap_builder *b, struct vm_process **ret);
/* Remove the last process added and every VMA added after it (a pid that vanished). */
void snap_builder_drop_process(struct snap_builder *b);
/* Append a VMA (copied). Returns 0 or -ENOMEM. */
int snap_builder_add_vma(struct snap_builder *b, const struct vm_vma *v);
/* Forget the VMAs from index n on (a torn maps read being re-read). */
void snap_builder_truncate_vmas(struct snap_builder *b, size_t n);
/* Number of VMAs added so far, and access to one of them (valid until the next add; NULL
 * while no VMA was ever added). */
size_t snap_builder_nvmas(const struct snap_builder *b);
struct vm_vma *snap_builder_vma(struct snap_builder *b, size_t index);
size_t snap_builder_nprocs(const struct snap_builder *b);
struct vm_process *snap_builder_process(struct snap_builder *b, size_t index);
/* Append a hugetlb pool (copied). */
int snap_builder_add_pool(struct snap_builder *b, const struct vm_hugepool *pool);
/* The groups and the exited ring under construction (the builder owns them; the pointers stay
 * valid until the next call that adds to the same array). */
int snap_builder_add_group(struct snap_builder *b, const struct vm_group *g);
struct vm_group *snap_builder_groups(struct snap_builder *b, size_t *ret_n);
/* Drop groups for which keep(g) is false, keeping the order of the others. */
void snap_builder_filter_groups(struct snap_builder *b, bool (*keep)(const struct vm_group *, void *),
                                void *userdata);
int snap_builder_add_exited(struct snap_builder *b, const struct vm_exited *e);
size_t snap_builder_nexited(const struct snap_builder *b);
/* The interned string at off (NULL for 0). Valid until the next intern. */
const char *snap_builder_str(const struct snap_builder *b, uint32_t off);
/* Record a pid the per-VMA tier visited. */
int snap_builder_add_deep_pid(struct snap_builder *b, int32_t pid);

/* Freeze: sort processes by pid (their VMA ranges move with them), fill the header from
 * *hdr (magic, version, size and offsets are set here; counts are computed), and return the
 * block with refcount 1 in *ret. The builder is reset afterwards. Returns 0 or -ENOMEM. */
int snap_builder_finish(struct snap_builder *b, const struct vm_snapshot *hdr,
                        struct vm_snapshot **ret);
