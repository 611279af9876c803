/* builder.c: builds a snapshot off to the side and freezes it into one block.
 *
 * Block layout: header | VMAs | processes | hugetlb pools | groups | exited | deep pids |
 * strings. The VMA array, by far the
 * largest part, is built in place right after room for the header, so freezing only has to
 * grow that allocation (mremap for large blocks) and append the small parts: peak memory
 * during a scan stays near one snapshot, not two.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector/builder.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)
#define VMAS_OFF ALIGN8(sizeof(struct vm_snapshot))

struct intern_slot {
    uint32_t off; /* 0 = empty slot */
    uint32_t len;
    uint32_t hash;
};

struct snap_builder {
    char *block;       /* header room + VMA array */
    size_t nvmas, vma_cap;
    struct vm_process *procs;
    size_t nprocs, proc_cap;
    int32_t *deep;
    size_t ndeep, deep_cap;
    struct vm_hugepool *pools;
    size_t npools, pool_cap;
    struct vm_group *groups;
    size_t ngroups, group_cap;
    struct vm_exited *exited;
    size_t nexited, exited_cap;
    char *strings;     /* string table; offset 0 is "" */
    size_t strings_len, strings_cap;
    struct intern_slot *slots; /* open addressing, power-of-two size */
    size_t nslots, used_slots;
};

int snap_builder_new(struct snap_builder **ret) {
    struct snap_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->strings = malloc(4096);
    b->slots = calloc(1024, sizeof(*b->slots));
    if (!b->strings || !b->slots) {
        snap_builder_free(b);
        return -ENOMEM;
    }
    b->strings_cap = 4096;
    b->nslots = 1024;
    snap_builder_reset(b);
    *ret = b;
    return 0;
}

struct snap_builder *snap_builder_free(struct snap_builder *b) {
    if (b) {
        free(b->block);
        free(b->procs);
        free(b->deep);
        free(b->pools);
        free(b->groups);
        free(b->exited);
        free(b->strings);
        free(b->slots);
        free(b);
    }
    return NULL;
}

void snap_builder_reset(struct snap_builder *b) {
    b->nvmas = 0;
    b->nprocs = 0;
    b->ndeep = 0;
    b->npools = 0;
    b->ngroups = 0;
    b->nexited = 0;
    b->strings[0] = '\0';
    b->strings_len = 1;
    memset(b->slots, 0, b->nslots * sizeof(*b->slots));
    b->used_slots = 0;
}

static uint32_t hash_bytes(const char *s, size_t len) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int rehash(struct snap_builder *b) {
    size_t n = b->nslots * 2;
    struct intern_slot *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < b->nslots; i++) {
        if (!b->slots[i].off)
            continue;
        size_t k = b->slots[i].hash & (n - 1);
        while (slots[k].off)
            k = (k + 1) & (n - 1);
        slots[k] = b->slots[i];
    }
    free(b->slots);
    b->slots = slots;
    b->nslots = n;
    return 0;
}

int snap_builder_intern(struct snap_builder *b, const char *s, size_t len, uint32_t *ret_off) {
    if (len == 0) {
        *ret_off = 0;
        return 0;
    }
    uint32_t h = hash_bytes(s, len);
    size_t k = h & (b->nslots - 1);
    for (; b->slots[k].off; k = (k + 1) & (b->nslots - 1)) {
        const struct intern_slot *e = &b->slots[k];
        if (e->hash == h && e->len == len && memcmp(b->strings + e->off, s, len) == 0) {
            *ret_off = e->off;
            return 0;
        }
    }
    if (len > VM_SNAPSHOT_MAX_BYTES || b->strings_len + len + 1 > UINT32_MAX ||
        b->strings_len + len + 1 > VM_SNAPSHOT_MAX_BYTES)
        return -E2BIG;
    if (b->strings_len + len + 1 > b->strings_cap) {
        size_t cap = b->strings_cap;
        while (cap < b->strings_len + len + 1)
            cap *= 2;
        char *p = realloc(b->strings, cap);
        if (!p)
            return -ENOMEM;
        b->strings = p;
        b->strings_cap = cap;
    }
    uint32_t off = (uint32_t)b->strings_len;
    memcpy(b->strings + off, s, len);
    b->strings[off + len] = '\0';
    b->strings_len += len + 1;
    b->slots[k] = (struct intern_slot){.off = off, .len = (uint32_t)len, .hash = h};
    if (++b->used_slots * 2 > b->nslots) { /* keep the load factor under 1/2 */
        int r = rehash(b);
        if (r < 0)
            return r;
    }
    *ret_off = off;
    return 0;
}

int snap_builder_add_process(struct snap_builder *b, struct vm_process **ret) {
    if (b->nprocs >= VM_PIDS_MAX)
        return -E2BIG;
    if (GROW(b->procs, b->proc_cap, b->nprocs + 1) < 0)
        return -ENOMEM;
    struct vm_process *p = &b->procs[b->nprocs++];
    memset(p, 0, sizeof(*p));
    p->vma_first = (uint32_t)b->nvmas;
    *ret = p;
    return 0;
}

void snap_builder_drop_process(struct snap_builder *b) {
    if (b->nprocs == 0)
        return;
    b->nprocs--;
    b->nvmas = b->procs[b->nprocs].vma_first;
}

int snap_builder_add_vma(struct snap_builder *b, const struct vm_vma *v) {
    if (b->nvmas >= UINT32_MAX)
        return -E2BIG;
    if (b->nvmas == b->vma_cap) {
        size_t cap = b->vma_cap ? b->vma_cap * 2 : 4096;
        uint64_t bytes = VMAS_OFF + (uint64_t)cap * sizeof(struct vm_vma);
        if (bytes > VM_SNAPSHOT_MAX_BYTES)
            return -E2BIG;
        char *p = realloc(b->block, bytes);
        if (!p)
            return -ENOMEM;
        b->block = p;
        b->vma_cap = cap;
    }
    memcpy(b->block + VMAS_OFF + b->nvmas * sizeof(struct vm_vma), v, sizeof(*v));
    b->nvmas++;
    return 0;
}

void snap_builder_truncate_vmas(struct snap_builder *b, size_t n) {
    if (n < b->nvmas)
        b->nvmas = n;
}

size_t snap_builder_nvmas(const struct snap_builder *b) {
    return b->nvmas;
}

struct vm_vma *snap_builder_vma(struct snap_builder *b, size_t index) {
    if (!b->block) /* no VMA added yet */
        return NULL;
    return (struct vm_vma *)(b->block + VMAS_OFF) + index;
}

size_t snap_builder_nprocs(const struct snap_builder *b) {
    return b->nprocs;
}

struct vm_process *snap_builder_process(struct snap_builder *b, size_t index) {
    return &b->procs[index];
}

int snap_builder_add_pool(struct snap_builder *b, const struct vm_hugepool *pool) {
    if (GROW(b->pools, b->pool_cap, b->npools + 1) < 0)
        return -ENOMEM;
    b->pools[b->npools++] = *pool;
    return 0;
}

int snap_builder_add_group(struct snap_builder *b, const struct vm_group *g) {
    if (GROW(b->groups, b->group_cap, b->ngroups + 1) < 0)
        return -ENOMEM;
    b->groups[b->ngroups++] = *g;
    return 0;
}

struct vm_group *snap_builder_groups(struct snap_builder *b, size_t *ret_n) {
    *ret_n = b->ngroups;
    return b->groups;
}

void snap_builder_filter_groups(struct snap_builder *b, bool (*keep)(const struct vm_group *, void *),
                                void *userdata) {
    size_t n = 0;
    for (size_t i = 0; i < b->ngroups; i++)
        if (keep(&b->groups[i], userdata))
            b->groups[n++] = b->groups[i];
    b->ngroups = n;
}

int snap_builder_add_exited(struct snap_builder *b, const struct vm_exited *e) {
    if (GROW(b->exited, b->exited_cap, b->nexited + 1) < 0)
        return -ENOMEM;
    b->exited[b->nexited++] = *e;
    return 0;
}

size_t snap_builder_nexited(const struct snap_builder *b) {
    return b->nexited;
}

const char *snap_builder_str(const struct snap_builder *b, uint32_t off) {
    return off ? b->strings + off : NULL;
}

int snap_builder_add_deep_pid(struct snap_builder *b, int32_t pid) {
    if (GROW(b->deep, b->deep_cap, b->ndeep + 1) < 0)
        return -ENOMEM;
    b->deep[b->ndeep++] = pid;
    return 0;
}

static int cmp_pool(const void *a, const void *b) {
    const struct vm_hugepool *x = a, *y = b;
    if (x->size_bytes != y->size_bytes)
        return x->size_bytes < y->size_bytes ? -1 : 1;
    return (x->numa_node > y->numa_node) - (x->numa_node < y->numa_node);
}

static int cmp_pid(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_proc(const void *a, const void *b) {
    const struct vm_process *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

int snap_builder_finish(struct snap_builder *b, const struct vm_snapshot *hdr,
                        struct vm_snapshot **ret) {
    if (b->nprocs > 1)
        qsort(b->procs, b->nprocs, sizeof(*b->procs), cmp_proc);
    if (b->npools > 1)
        qsort(b->pools, b->npools, sizeof(*b->pools), cmp_pool);
    if (b->ndeep > 1)
        qsort(b->deep, b->ndeep, sizeof(*b->deep), cmp_pid);

    uint64_t vmas_bytes = (uint64_t)b->nvmas * sizeof(struct vm_vma);
    uint64_t procs_off = VMAS_OFF + vmas_bytes;
    uint64_t pools_off = procs_off + (uint64_t)b->nprocs * sizeof(struct vm_process);
    uint64_t groups_off = pools_off + (uint64_t)b->npools * sizeof(struct vm_hugepool);
    uint64_t exited_off = groups_off + (uint64_t)b->ngroups * sizeof(struct vm_group);
    uint64_t deep_off = exited_off + (uint64_t)b->nexited * sizeof(struct vm_exited);
    uint64_t strings_off = deep_off + (uint64_t)b->ndeep * sizeof(int32_t);
    uint64_t size = strings_off + b->strings_len;
    if (size > VM_SNAPSHOT_MAX_BYTES)
        return -E2BIG;

    char *block = realloc(b->block, size);
    if (!block)
        return -ENOMEM;
    b->block = NULL;
    b->vma_cap = 0;

    struct vm_snapshot *s = (struct vm_snapshot *)block;
    *s = *hdr;
    s->magic = VM_SNAPSHOT_MAGIC;
    s->version = VM_SNAPSHOT_VERSION;
    s->refs = 1;
    s->size = size;
    s->nprocs = (uint32_t)b->nprocs;
    s->nvmas = b->nvmas;
    s->ndeep = (uint32_t)b->ndeep;
    s->npools = (uint32_t)b->npools;
    s->ngroups = (uint32_t)b->ngroups;
    s->nexited = (uint32_t)b->nexited;
    s->nkthreads = 0;
    s->nerrors = 0;
    for (size_t i = 0; i < b->nprocs; i++) {
        s->nkthreads += !!(b->procs[i].flags & VM_PROC_KTHREAD);
        s->nerrors += b->procs[i].nerrors;
    }
    s->vmas_off = VMAS_OFF;
    s->procs_off = procs_off;
    s->pools_off = pools_off;
    s->groups_off = groups_off;
    s->exited_off = exited_off;
    s->deep_off = deep_off;
    s->strings_off = strings_off;
    s->strings_len = b->strings_len;
    if (b->nprocs)
        memcpy(block + procs_off, b->procs, b->nprocs * sizeof(struct vm_process));
    if (b->npools)
        memcpy(block + pools_off, b->pools, b->npools * sizeof(struct vm_hugepool));
    if (b->ngroups)
        memcpy(block + groups_off, b->groups, b->ngroups * sizeof(struct vm_group));
    if (b->nexited)
        memcpy(block + exited_off, b->exited, b->nexited * sizeof(struct vm_exited));
    if (b->ndeep)
        memcpy(block + deep_off, b->deep, b->ndeep * sizeof(int32_t));
    memcpy(block + strings_off, b->strings, b->strings_len);

    snap_builder_reset(b);
    *ret = s;
    return 0;
}
