/* node.h: host facts for /api/v1/node, and the capability probes run at start. */
#pragma once

#include <stdint.h>

struct node_facts {
    char hostname[256];
    char boot_id[64];
    char kernel[256];
    char thp_enabled[32];
    uint32_t page_size;
    uint32_t clk_tck;
    uint8_t address_bits;
    int8_t legacy_va_layout;   /* -1 unknown */
    int8_t randomize_va_space; /* -1 unknown */
    int64_t max_map_count;     /* -1 unknown */
    uint64_t btime;            /* Unix seconds, 0 unknown */
    uint32_t caps;             /* bit per enum vm_cap */
};

/* Facts that do not change while the system runs (btime, page size, address bits) and the
 * capability probes (ioctls tried on <procfs>/self). Returns 0, or -errno when <procfs>/stat
 * has no btime (then the procfs root is not a procfs). */
int node_probe(int procfd, int sysfd, struct node_facts *ret);

/* Refresh what can change between scans (hostname, sysctls, THP mode). Never fails: values
 * that cannot be read become unknown. */
void node_refresh(int procfd, int sysfd, struct node_facts *n);
