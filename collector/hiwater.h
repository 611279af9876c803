/* hiwater.h: group high-water marks and the ring of exited processes, carried from one
 * snapshot to the next. */
#pragma once

#include <stdint.h>

#include "collector/builder.h"
#include "vmatlas/snapshot.h"

/* With every process of the new snapshot in the builder: build the groups of each way of
 * grouping (their current sums and maxima), carry the peaks and exit counts of prev's groups
 * (prev may be NULL), and record the processes of prev that are gone (newest first, at most
 * exited_max, older entries of prev's ring after them). now_ms is the new snapshot's time.
 * Returns 0 or -ENOMEM. */
int hiwater_update(struct snap_builder *b, const struct vm_snapshot *prev, uint64_t now_ms,
                   uint32_t exited_max);
