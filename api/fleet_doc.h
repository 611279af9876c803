/* fleet_doc.h: a peer's documents, validated into typed, immutable structs.
 *
 * A peer is another vmatlasd, but nothing it sends is trusted: every document is checked
 * before a byte of it is used (size, nesting and token count before parsing; then every member
 * the merge or the renderers read, with its type and range), and a document that fails any
 * check is refused whole, with a message naming the member. Members that are not read are
 * ignored (a newer peer may add some); a nullable member that is missing counts as null.
 * What passes is copied into the structs below, so the merged view never holds a peer's JSON.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/snapshot.h"

/* The documents fetched from every peer: /api/v1/node, /api/v1/processes, /api/v1/hugepages and
 * /api/v1/hiwater for each way of grouping (FLEET_DOC_HIWATER + enum vm_group_by). */
enum fleet_doc_kind {
    FLEET_DOC_NODE,
    FLEET_DOC_PROCESSES,
    FLEET_DOC_HUGEPAGES,
    FLEET_DOC_HIWATER,
    _FLEET_DOC_MAX = FLEET_DOC_HIWATER + _VM_GROUP_MAX,
    _FLEET_DOC_INVALID = -EINVAL
};

/* The request path of a document kind (query included); procs_limit is the processes asked
 * for. Written into buf; returns buf, or NULL for a kind out of range. */
const char *fleet_doc_path(int kind, uint32_t procs_limit, char *buf, size_t len);

/* Strings are offsets into the document's string table; 0 is null (absent). */
struct fleet_proc {
    int32_t pid, ppid;
    int64_t uid;       /* -1: null */
    int64_t vma_count; /* -1: null */
    uint32_t threads;
    bool kthread;
    bool has_rollup;   /* rollup is an object (else null) */
    bool has_observed; /* hiwater.observed_rss_max is not null */
    uint8_t nerrors;
    uint32_t id, comm, cmdline, user, state, cgroup, unit; /* comm, cmdline, id: never 0 */
    uint32_t memory_present;                               /* bit per enum vm_mem_field */
    uint32_t rollup_present; /* bit per enum vm_rollup_field, and FLEET_ROLLUP_USS for uss */
    uint64_t start_time_ms;  /* 0: null */
    uint64_t observed_rss_max, observed_rss_max_at_ms;
    uint64_t memory[_VM_MEM_MAX];
    uint64_t rollup[_VM_ROLLUP_MAX + 1];
    struct {
        uint32_t source, errnum; /* strings */
    } errors[VM_PROC_ERRORS_MAX];
};
#define FLEET_ROLLUP_USS _VM_ROLLUP_MAX

struct fleet_group {
    uint32_t key; /* string; 0: null (no unit, the whole host for "none") */
    uint32_t processes, exited;
    int32_t vm_hwm_max_pid; /* 0: null */
    uint64_t rss, vm_hwm_sum, vm_hwm_max, vm_peak_max, exited_vm_hwm_max;
    uint64_t observed_rss_peak, observed_rss_peak_at_ms;
};

struct fleet_pool {
    uint64_t size_bytes;
    int32_t numa_node;                       /* -1: the global pool */
    uint64_t total, free, reserved, surplus; /* VM_UNKNOWN: null */
};

struct fleet_thp {
    uint32_t enabled, defrag, shmem_enabled; /* strings */
    uint32_t present;                        /* bit per VM_THP_* */
    uint64_t bytes[_VM_THP_MAX];
};

struct fleet_doc {
    int refs;                              /* atomic */
    int kind;                              /* enum fleet_doc_kind */
    uint64_t snapshot_seq, snapshot_at_ms; /* the peer's snapshot behind the document */
    /* FLEET_DOC_NODE */
    uint32_t hostname, kernel, version, boot_id;
    int64_t max_map_count; /* -1: null */
    /* FLEET_DOC_PROCESSES: the peer's top processes by RSS, in its order */
    struct fleet_proc *procs;
    uint32_t nprocs;
    uint64_t total; /* processes the peer has (kernel threads included) */
    /* FLEET_DOC_HIWATER + by: sorted by key (null first, then bytewise), keys unique */
    struct fleet_group *groups;
    uint32_t ngroups;
    /* FLEET_DOC_HUGEPAGES: as the peer listed them, (size, node) unique */
    struct fleet_pool *pools;
    uint32_t npools;
    struct fleet_thp thp;
    char *strings; /* string table; offset 0 is "" and means null */
    size_t strings_len, strings_cap;
};

static inline const char *fleet_doc_str(const struct fleet_doc *d, uint32_t off) {
    return off ? d->strings + off : NULL;
}

/* Validate the body buf[0..len) of a document of this kind (procs_limit: the processes asked
 * for; more is refused). Returns 0 and a new document (one reference) in *ret, -EBADMSG with a
 * message in err (the document is refused), or -ENOMEM. Never reads past len; buf needs no
 * NUL. */
int fleet_doc_parse(int kind, const char *buf, size_t len, uint32_t procs_limit,
                    struct fleet_doc **ret, char *err, size_t errlen);

/* Reference counting (thread-safe). unref accepts NULL and returns NULL. */
struct fleet_doc *fleet_doc_ref(struct fleet_doc *d);
struct fleet_doc *fleet_doc_unref(struct fleet_doc *d);

/* Parse an RFC 3339 UTC time as vmatlasd writes it ("2026-11-24T18:00:00.123Z", also without
 * the milliseconds) from s[0..len) into Unix ms. 0, or -EINVAL. */
int fleet_parse_time_ms(const char *s, size_t len, uint64_t *ret);
