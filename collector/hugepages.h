/* hugepages.h: hugetlb pools (sysfs) and transparent hugepages (sysfs modes, meminfo). */
#pragma once

#include "collector/builder.h"
#include "vmatlas/snapshot.h"

/* Add every hugetlb pool to the builder: each page size globally (numa_node -1) and per NUMA
 * node, ordered by size and then node; fill *thp (strings interned in the builder). Files that
 * cannot be read leave their figures unknown; only -ENOMEM is returned as an error. */
int hugepages_collect(int procfd, int sysfd, struct snap_builder *b, struct vm_thp *thp);

/* Parse the THP lines of /proc/meminfo (AnonHugePages, ShmemHugePages, FileHugePages) into
 * thp->bytes and thp->present. Pure: (buf, len), no I/O. */
void hugepages_parse_meminfo(const char *buf, size_t len, struct vm_thp *thp);
