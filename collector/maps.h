/* maps.h: parser for one line of /proc/PID/maps (also the header lines of smaps). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maps_entry {
    uint64_t start, end; /* end exclusive */
    uint64_t offset;     /* bytes */
    uint64_t inode;
    uint32_t dev_major, dev_minor;
    uint8_t perms;    /* VM_PERM_* from snapshot.h */
    const char *name; /* points into the line; NULL when there is no name */
    size_t name_len;
    bool deleted; /* name ends in " (deleted)" */
};

/* Parse one line WITHOUT its trailing '\n'. The name is located by the kernel's column rule
 * (it starts at max(L, 72) + 1 on 64-bit, where L is the length of the fixed fields plus the
 * space after the inode), so names that start with or contain spaces are kept exactly; a line
 * whose padding does not follow that rule falls back to skipping spaces. A nameless line (which
 * the kernel ends with the space after the inode; a missing trailing space is accepted too) gives
 * name == NULL, and so does a line with nothing but padding after the inode. The name may hold
 * any byte (it is kept as printed, ' (deleted)' included), and "\012" for a newline in
 * a path is not unescaped. dev_major/dev_minor are limited to the kernel's 12/20 bits.
 * Returns 0 and fills *ret, or -EINVAL for a malformed line (bad hex or decimal, overflow,
 * start > end, bad perms, missing field); *ret is untouched on failure. */
int maps_parse_line(const char *line, size_t len, struct maps_entry *ret);

/* True when the line looks like a maps/smaps header: it starts with lowercase hex digits
 * followed by '-' (smaps field lines start with a capitalised key). */
bool maps_is_header(const char *line, size_t len);
