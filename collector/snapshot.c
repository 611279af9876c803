/* snapshot.c: lifetime, lookup and validation of snapshot blocks (see vmatlas/snapshot.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmatlas/snapshot.h"

struct vm_snapshot *vm_snapshot_ref(struct vm_snapshot *s) {
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    return s;
}

struct vm_snapshot *vm_snapshot_unref(struct vm_snapshot *s) {
    if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(s);
    return NULL;
}

static int cmp_pid(const void *key, const void *elem) {
    int32_t pid = *(const int32_t *)key;
    const struct vm_process *p = elem;
    return (pid > p->pid) - (pid < p->pid);
}

const struct vm_process *vm_snapshot_find(const struct vm_snapshot *s, int32_t pid) {
    if (!s || s->nprocs == 0)
        return NULL;
    return bsearch(&pid, vm_snapshot_procs(s), s->nprocs, sizeof(struct vm_process), cmp_pid);
}

char *vm_process_id(const struct vm_process *p, char *buf, size_t len) {
    (void)snprintf(buf, len, "%d:%llu", p->pid, (unsigned long long)p->starttime);
    return buf;
}

#define VM__NAME(e, n) n,
static const char *const kind_names[_VM_KIND_MAX] = {VM_KINDS(VM__NAME)};
static const char *const source_names[_VM_SOURCE_MAX] = {VM_SOURCES(VM__NAME)};
static const char *const cap_names[_VM_CAP_MAX] = {VM_CAPS(VM__NAME)};
static const char *const group_by_names[_VM_GROUP_MAX] = {VM_GROUP_BYS(VM__NAME)};
static const char *const res_source_names[_VM_RES_SOURCE_MAX] = {VM_RES_SOURCES(VM__NAME)};
static const char *const res_field_names[_VM_RES_MAX] = {VM_RES_FIELDS(VM__NAME)};

const char *vm_kind_name(int kind) {
    return kind >= 0 && kind < _VM_KIND_MAX ? kind_names[kind] : NULL;
}
const char *vm_source_name(int source) {
    return source >= 0 && source < _VM_SOURCE_MAX ? source_names[source] : NULL;
}
const char *vm_cap_name(int cap) {
    return cap >= 0 && cap < _VM_CAP_MAX ? cap_names[cap] : NULL;
}
const char *vm_res_source_name(int source) {
    return source >= 0 && source < _VM_RES_SOURCE_MAX ? res_source_names[source] : NULL;
}
const char *vm_res_field_name(int field) {
    return field >= 0 && field < _VM_RES_MAX ? res_field_names[field] : NULL;
}
const char *vm_group_by_name(int by) {
    return by >= 0 && by < _VM_GROUP_MAX ? group_by_names[by] : NULL;
}

/* [off, off + n * size) lies inside [0, len). */
static int span_ok(uint64_t off, uint64_t n, uint64_t size, uint64_t len) {
    uint64_t bytes, end;
    if (__builtin_mul_overflow(n, size, &bytes) || __builtin_add_overflow(off, bytes, &end))
        return 0;
    return end <= len;
}

static int str_ok(const struct vm_snapshot *s, uint32_t off) {
    if (off == 0)
        return 1;
    if (off >= s->strings_len)
        return 0;
    const char *base = (const char *)s + s->strings_off;
    return memchr(base + off, '\0', s->strings_len - off) != NULL;
}

int vm_snapshot_validate(const void *block, size_t len) {
    const struct vm_snapshot *s = block;
    if (!block || len < sizeof(*s) || s->magic != VM_SNAPSHOT_MAGIC ||
        s->version != VM_SNAPSHOT_VERSION || s->size != len)
        return -EBADMSG;
    if (((uintptr_t)block & 7) || (s->procs_off & 7) || (s->vmas_off & 7) || (s->pools_off & 7) ||
        (s->groups_off & 7) || (s->exited_off & 7) ||
        (s->deep_off & 3))
        return -EBADMSG;
    if (!span_ok(s->procs_off, s->nprocs, sizeof(struct vm_process), len) ||
        !span_ok(s->vmas_off, s->nvmas, sizeof(struct vm_vma), len) ||
        !span_ok(s->deep_off, s->ndeep, sizeof(int32_t), len) ||
        !span_ok(s->pools_off, s->npools, sizeof(struct vm_hugepool), len) ||
        !span_ok(s->groups_off, s->ngroups, sizeof(struct vm_group), len) ||
        !span_ok(s->exited_off, s->nexited, sizeof(struct vm_exited), len) ||
        !span_ok(s->strings_off, s->strings_len, 1, len) || s->strings_len == 0 ||
        s->strings_len > UINT32_MAX)
        return -EBADMSG;
    const char *strings = (const char *)s + s->strings_off;
    if (strings[0] != '\0' || strings[s->strings_len - 1] != '\0')
        return -EBADMSG;
    const struct vm_node *n = &s->node;
    if (!str_ok(s, n->hostname) || !str_ok(s, n->boot_id) || !str_ok(s, n->kernel) ||
        !str_ok(s, n->thp_enabled) || !str_ok(s, s->thp.enabled) || !str_ok(s, s->thp.defrag) ||
        !str_ok(s, s->thp.shmem_enabled))
        return -EBADMSG;
    const struct vm_group *groups = vm_snapshot_groups(s);
    for (uint32_t i = 0; i < s->ngroups; i++)
        if (groups[i].by >= _VM_GROUP_MAX || !str_ok(s, groups[i].key))
            return -EBADMSG;
    const struct vm_exited *exited = vm_snapshot_exited(s);
    for (uint32_t i = 0; i < s->nexited; i++)
        if (!str_ok(s, exited[i].comm) || !str_ok(s, exited[i].unit))
            return -EBADMSG;
    const struct vm_process *procs = vm_snapshot_procs(s);
    for (uint32_t i = 0; i < s->nprocs; i++) {
        const struct vm_process *p = &procs[i];
        if (i > 0 && procs[i - 1].pid >= p->pid)
            return -EBADMSG;
        if ((uint64_t)p->vma_first + p->vma_n > s->nvmas || p->nerrors > VM_PROC_ERRORS_MAX)
            return -EBADMSG;
        if (!str_ok(s, p->comm) || !str_ok(s, p->cmdline) || !str_ok(s, p->user) ||
            !str_ok(s, p->cgroup) || !str_ok(s, p->unit))
            return -EBADMSG;
        for (uint32_t k = 0; k < p->nerrors; k++)
            if (p->errors[k].source >= _VM_SOURCE_MAX)
                return -EBADMSG;
        const struct vm_vma *v = vm_snapshot_vmas(s, p);
        for (uint32_t k = 0; k < p->vma_n; k++)
            if (v[k].kind >= _VM_KIND_MAX || v[k].res_source >= _VM_RES_SOURCE_MAX ||
                !str_ok(s, v[k].name) || !str_ok(s, v[k].vmflags) ||
                v[k].end < v[k].start)
                return -EBADMSG;
    }
    return 0;
}
