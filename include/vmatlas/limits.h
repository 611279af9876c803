/* limits.h: every growable thing the daemon holds has a named limit here. */
#pragma once

/* One read of a small kernfs/procfs file (status, stat, cgroup, sysfs values). */
#define VM_SMALL_FILE_MAX (64u * 1024u)
/* /proc/PID/cmdline bytes kept (the rest is cut, and the cut is recorded). */
#define VM_CMDLINE_MAX 4096u
/* comm as printed in stat: TASK_COMM_LEN is 16, workqueue workers print up to 64. */
#define VM_COMM_MAX 128u
/* One line of maps/smaps: 3 hex fields, perms, dev, inode and a PATH_MAX name, padded. */
#define VM_LINE_MAX (4096u + 256u)
/* Read buffer for maps/smaps streams. */
#define VM_STREAM_BUF (64u * 1024u)
/* VMAs kept per process: the kernel's own default vm.max_map_count is 65530; allow more. */
#define VM_VMAS_PER_PID_MAX (1u << 20)
/* Processes per snapshot (pid_max can be 4M; a snapshot bigger than this is cut). */
#define VM_PIDS_MAX (1u << 22)
/* Error entries kept per process (there are fewer sources than this). */
#define VM_PROC_ERRORS_MAX 8u
/* Total snapshot arena (processes + VMAs + strings). */
#define VM_SNAPSHOT_MAX_BYTES (4ull << 30)
/* Distinct uids whose user names are cached by one collector. */
#define VM_USER_CACHE_MAX 4096u
/* Groups kept per way of grouping (comm, unit, cgroup, user), members or not. */
#define VM_GROUPS_PER_BY_MAX 4096u
/* Exited processes remembered (default of --exited-max, and its upper bound). */
#define VM_EXITED_DEFAULT 1000u
#define VM_EXITED_MAX 100000u
/* Page walks: PAGEMAP_SCAN output regions per ioctl (24 bytes each), and pagemap entries per
 * pread() (8 bytes each). */
#define VM_PAGEMAP_SCAN_VEC 4096u
#define VM_PAGEMAP_BATCH (64u * 1024u)
/* pagemap costs 8 bytes per virtual page however little is mapped: a VMA bigger than this
 * (sanitizer shadow, huge reservations) is left unknown by the pagemap source (PAGEMAP_SCAN,
 * which skips unpopulated ranges, has no such limit). 16 Mi pages = 64 GiB. */
#define VM_PAGEMAP_VMA_PAGES_MAX (16ull << 20)

/* Fleet mode (api/fleet_*.c, daemon/fleet.c). Peers of one aggregator: all of them are fetched
 * at once, one connection each, so this also bounds the sockets the fetch round holds (the
 * fleet thread raises the soft RLIMIT_NOFILE to the hard one for them). bench/fleet.sh measures
 * 1,000 peers. */
#define VM_FLEET_PEERS_MAX 4096u
/* Bytes of one peer URL, and of the --peers-file. */
#define VM_FLEET_URL_MAX 2048u
#define VM_FLEET_PEERS_FILE_MAX (1u << 20)
/* Decoded body bytes one peer may send in one round, all its documents together (a gzip bomb
 * is counted after decoding); past it the transfer is aborted and the peer is down. */
#define VM_FLEET_BODY_MAX (64ull << 20)
/* Processes fetched from each peer: its top N by RSS (kernel threads included), N at most
 * VM_FLEET_PROCS_PER_PEER, and fleet-wide at most VM_FLEET_PROCS_TOTAL shared out evenly (so
 * 1,000 peers send their top 100), but never fewer than VM_FLEET_PROCS_PER_PEER_MIN each. Parsed,
 * a process costs ~600 bytes, held twice while a round replaces the last one's documents. */
#define VM_FLEET_PROCS_PER_PEER 1000u
#define VM_FLEET_PROCS_TOTAL 100000u
#define VM_FLEET_PROCS_PER_PEER_MIN 20u
/* Structural JSON tokens ('{' '[' ',' ':') a peer document may hold before it is parsed:
 * bounds the memory of the parsed tree, whatever the body size. Per process, and for the
 * other documents. Nesting deeper than VM_FLEET_JSON_DEPTH_MAX is refused before parsing. */
#define VM_FLEET_TOKENS_PER_PROC 256u
#define VM_FLEET_TOKENS_MAX (1u << 17)
#define VM_FLEET_JSON_DEPTH_MAX 16u
/* One string of a peer document (a cmdline of 4096 kernel bytes is at most 16 KiB escaped). */
#define VM_FLEET_STRING_MAX (64u * 1024u)
/* Hugetlb pools (sizes x NUMA nodes) and high-water groups accepted from one peer. */
#define VM_FLEET_POOLS_MAX 1024u
#define VM_FLEET_PEER_GROUPS_MAX VM_GROUPS_PER_BY_MAX
/* Merged groups kept per way of grouping (with their fleet-wide peaks); past it the groups
 * without members and with the smallest peaks go first, counted as truncations. */
#define VM_FLEET_GROUPS_MAX 16384u
/* An ETag kept per peer document, a bearer token, and --peer-timeout. */
#define VM_FLEET_ETAG_MAX 256u
#define VM_FLEET_TOKEN_MAX 4096u
#define VM_FLEET_TIMEOUT_MIN_MS 100u
#define VM_FLEET_TIMEOUT_MAX_MS (300u * 1000u)
#define VM_FLEET_TIMEOUT_DEFAULT_MS 5000u
