/* state.c: the state file's bytes: a header with a CRC-32, then a trimmed snapshot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collector/builder.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"
#include "vmatlas/state.h"

#define STATE_MAGIC "VMATLST\n" /* 8 bytes */
#define STATE_FORMAT 1u

struct state_header {
    char magic[8];      /* STATE_MAGIC */
    uint32_t format;    /* STATE_FORMAT: this header */
    uint32_t crc;       /* crc32 of the block */
    uint64_t block_len; /* bytes of the snapshot block that follows */
};
_Static_assert(sizeof(struct state_header) == 24, "no padding in the state header");

static int reintern(struct snap_builder *b, const struct vm_snapshot *s, uint32_t off,
                    uint32_t *ret) {
    const char *str = vm_snapshot_str(s, off);
    return snap_builder_intern(b, str ? str : "", str ? strlen(str) : 0, ret);
}

/* A copy of the part of s that the next scan carries: node identity, each user process's
 * identity and last peaks, the groups and the exited ring. Only fields copied here are ever
 * used from a decoded state. */
static int trim(const struct vm_snapshot *s, struct vm_snapshot **ret) {
    _cleanup_builder_ struct snap_builder *b = NULL;
    int r = snap_builder_new(&b);
    if (r < 0)
        return r;
    struct vm_snapshot hdr = {
        .seq = s->seq,
        .collected_at_ms = s->collected_at_ms,
        .node = {.page_size = s->node.page_size, .clk_tck = s->node.clk_tck,
                 .btime = s->node.btime},
    };
    if ((r = reintern(b, s, s->node.hostname, &hdr.node.hostname)) < 0 ||
        (r = reintern(b, s, s->node.boot_id, &hdr.node.boot_id)) < 0)
        return r;
    const struct vm_process *procs = vm_snapshot_procs(s);
    for (uint32_t i = 0; i < s->nprocs; i++) {
        const struct vm_process *o = &procs[i];
        if (o->flags & VM_PROC_KTHREAD)
            continue;
        struct vm_process *p;
        if ((r = snap_builder_add_process(b, &p)) < 0)
            return r;
        p->pid = o->pid;
        p->starttime = o->starttime;
        p->start_time_ms = o->start_time_ms;
        p->uid = o->uid;
        p->flags = o->flags & (VM_PROC_UID | VM_PROC_LAST_HWM | VM_PROC_LAST_PEAK);
        p->last_vm_hwm = o->last_vm_hwm;
        p->last_vm_peak = o->last_vm_peak;
        p->observed_rss_max = o->observed_rss_max;
        p->observed_rss_max_at_ms = o->observed_rss_max_at_ms;
        if ((r = reintern(b, s, o->comm, &p->comm)) < 0 ||
            (r = reintern(b, s, o->unit, &p->unit)) < 0 ||
            (r = reintern(b, s, o->cgroup, &p->cgroup)) < 0 ||
            (r = reintern(b, s, o->user, &p->user)) < 0)
            return r;
    }
    const struct vm_group *groups = vm_snapshot_groups(s);
    for (uint32_t i = 0; i < s->ngroups; i++) {
        struct vm_group g = groups[i];
        g.processes = 0; /* members are counted afresh */
        g.rss = g.vm_hwm_sum = g.vm_hwm_max = g.vm_peak_max = 0;
        g.vm_hwm_max_pid = 0;
        if (g.memory_peak_src >= _VM_MEMORY_PEAK_MAX)
            g.memory_peak_src = VM_MEMORY_PEAK_NONE;
        if ((r = reintern(b, s, groups[i].key, &g.key)) < 0 ||
            (r = snap_builder_add_group(b, &g)) < 0)
            return r;
    }
    const struct vm_exited *exited = vm_snapshot_exited(s);
    for (uint32_t i = 0; i < s->nexited && i < VM_EXITED_MAX; i++) {
        struct vm_exited e = exited[i];
        if ((r = reintern(b, s, exited[i].comm, &e.comm)) < 0 ||
            (r = reintern(b, s, exited[i].unit, &e.unit)) < 0 ||
            (r = snap_builder_add_exited(b, &e)) < 0)
            return r;
    }
    return snap_builder_finish(b, &hdr, ret);
}

int vm_state_encode(const struct vm_snapshot *s, void **ret, size_t *ret_len) {
    _cleanup_snapshot_ struct vm_snapshot *t = NULL;
    int r = trim(s, &t);
    if (r < 0)
        return r;
    if (t->size > VM_STATE_MAX_BYTES - sizeof(struct state_header))
        return -E2BIG;
    size_t len = sizeof(struct state_header) + t->size;
    char *buf = malloc(len);
    if (!buf)
        return -ENOMEM;
    memcpy(buf + sizeof(struct state_header), t, t->size);
    struct vm_snapshot *copy = (struct vm_snapshot *)(buf + sizeof(struct state_header));
    copy->refs = 0; /* meaningless outside this process; keeps the bytes deterministic */
    struct state_header h = {.format = STATE_FORMAT, .block_len = t->size};
    memcpy(h.magic, STATE_MAGIC, sizeof(h.magic));
    h.crc = (uint32_t)crc32(0, (const Bytef *)copy, (uInt)t->size);
    memcpy(buf, &h, sizeof(h));
    *ret = buf;
    *ret_len = len;
    return 0;
}

int vm_state_decode(const void *buf, size_t len, struct vm_snapshot **ret) {
    struct state_header h;
    if (!buf || len < sizeof(h) || len > VM_STATE_MAX_BYTES)
        return -EBADMSG;
    memcpy(&h, buf, sizeof(h));
    if (memcmp(h.magic, STATE_MAGIC, sizeof(h.magic)) != 0 || h.format != STATE_FORMAT ||
        h.block_len != len - sizeof(h) || h.block_len < sizeof(struct vm_snapshot))
        return -EBADMSG;
    const char *block = (const char *)buf + sizeof(h);
    if ((uint32_t)crc32(0, (const Bytef *)block, (uInt)h.block_len) != h.crc)
        return -EBADMSG;
    /* A copy: aligned for the structs, and a block that validates. */
    _cleanup_free_ struct vm_snapshot *copy = malloc(h.block_len);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, block, h.block_len);
    if (copy->magic != VM_SNAPSHOT_MAGIC)
        return -EBADMSG;
    if (copy->version != VM_SNAPSHOT_VERSION)
        return -EPROTONOSUPPORT;
    if (vm_snapshot_validate(copy, h.block_len) < 0)
        return -EBADMSG;
    /* Rebuilt from the fields the scan uses: nothing else of the file goes further. */
    return trim(copy, ret);
}
