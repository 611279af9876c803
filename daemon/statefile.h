/* statefile.h: the state file in --state-dir: read once at start, written every minute and at
 * stop, atomically (a crash or a full disk mid-write leaves the previous state whole). */
#pragma once

#include "vmatlas/snapshot.h"

#define STATE_FILE_NAME "vmatlasd.state"

/* Read DIR/vmatlasd.state into a seed snapshot (*ret, refcount 1). Returns 0; -ENOENT when
 * there is none yet; -EBADMSG / -EPROTONOSUPPORT for a corrupt, truncated or foreign file
 * (the caller logs and starts afresh; the next save replaces it); or another -errno. */
int state_load(const char *dir, struct vm_snapshot **ret);

/* Write what of s survives a restart to DIR/vmatlasd.state: into a temporary file in DIR,
 * fsync, rename over the old one, fsync DIR. On any failure the temporary file is removed
 * and the old state stays. Returns 0 or -errno. */
int state_save(const char *dir, const struct vm_snapshot *s);
