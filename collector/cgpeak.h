/* cgpeak.h: a cgroup's own memory high-water mark, as the kernel keeps it. */
#pragma once

#include <stdint.h>

/* The memory peak of the cgroup at path (as /proc/PID/cgroup prints it: absolute, e.g.
 * "/system.slice/x.service") under the sysfs root sysfd: cgroup v2 "fs/cgroup<path>/memory.peak"
 * (5.19+), else cgroup v1 "fs/cgroup/memory<path>/memory.max_usage_in_bytes". Both are only
 * read, never written (a write resets them). *ret_src gets VM_MEMORY_PEAK_V2 or _V1.
 * Returns 0; -EINVAL for a path that is not absolute, has "." or ".." components, is a
 * removed cgroup ("... (deleted)") or is too long; -ENOENT when neither file exists; -EBADMSG
 * for a value that is not a number; or another -errno from reading. */
int cgroup_memory_peak(int sysfd, const char *path, uint64_t *ret, uint8_t *ret_src);
