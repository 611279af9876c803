/* state.h: what survives a restart (--state-dir): the group peaks, the ring of exited
 * processes and the identities and last peaks of the processes alive at the time.
 *
 * The state is a trimmed snapshot (no VMAs, no per-process figures but the peaks) behind a
 * small header with a CRC-32. It is read back as a seed snapshot, handed to the first scan as
 * its previous snapshot: groups keep their peaks, the exited ring goes on, and processes that
 * exited while the daemon was down are recorded as exited by that first scan (all of them
 * after a reboot: the seed's boot_id tells). The file is the daemon's own format for this
 * build of it (a different snapshot version is refused, not misread); it is bounded by the
 * same limits as a snapshot (groups per way of grouping, the exited ring).
 */
#pragma once

#include <stddef.h>

#include "vmatlas/snapshot.h"

/* Largest state accepted. */
#define VM_STATE_MAX_BYTES (256ull << 20)

/* Encode what of snapshot s survives a restart into a new buffer (*ret, the caller frees it)
 * of *ret_len bytes. Returns 0, -ENOMEM, or -E2BIG past VM_STATE_MAX_BYTES. */
int vm_state_encode(const struct vm_snapshot *s, void **ret, size_t *ret_len);

/* Decode a state from buf[0..len), trusting nothing: a seed snapshot (refcount 1) in *ret.
 * Returns 0; -EBADMSG for a truncated, corrupt or foreign buffer; -EPROTONOSUPPORT for a state
 * written by a build with another snapshot layout; -ENOMEM. */
int vm_state_decode(const void *buf, size_t len, struct vm_snapshot **ret);
