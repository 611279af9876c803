/* classify.c: the `kind` of a VMA (API.md), following kernel-interfaces.md section 1.3. */
#include "collector/classify.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "collector/vmflags.h"


static bool name_is(const struct maps_entry *e, const char *lit) {
    size_t n = strlen(lit);
    return e->name && e->name_len == n && memcmp(e->name, lit, n) == 0;
}

static bool name_starts(const struct maps_entry *e, const char *lit) {
    size_t n = strlen(lit);
    return e->name && e->name_len >= n && memcmp(e->name, lit, n) == 0;
}

static bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* "/SYSV%08x (deleted)" (ipc/shm.c names the segment "SYSV%08x" after its key). The suffix is
 * optional here: a kernel always prints it, but nothing else looks like this. */
static bool name_is_sysv(const struct maps_entry *e) {
    static const char prefix[] = "/SYSV", suffix[] = " (deleted)";
    const size_t plen = sizeof(prefix) - 1, slen = sizeof(suffix) - 1;

    if (!name_starts(e, prefix) || e->name_len < plen + 8)
        return false;
    for (size_t i = plen; i < plen + 8; i++)
        if (!is_lower_hex(e->name[i]))
            return false;
    return e->name_len == plen + 8 ||
           (e->name_len == plen + 8 + slen && memcmp(e->name + plen + 8, suffix, slen) == 0);
}

static bool name_is_device(const struct maps_entry *e) {
    /* A file on /dev, except shared anonymous memory (which the kernel backs with a shmem file
     * it names after /dev/zero), POSIX shm on its tmpfs and hugetlbfs at its usual mount. */
    return name_starts(e, "/dev/") && !name_is(e, "/dev/zero") &&
           !name_is(e, "/dev/zero (deleted)") && !name_starts(e, "/dev/shm/") &&
           !name_starts(e, "/dev/hugepages/");
}

enum vm_kind classify_vma(const struct maps_entry *e, uint64_t vmflags_mask,
                          uint64_t kernel_page_kb) {
    bool shared;

    if (!e)
        return VM_KIND_OTHER;
    shared = e->perms & VM_PERM_SHARED;

    if (name_is(e, "[heap]"))
        return VM_KIND_HEAP;
    if (name_is(e, "[stack]"))
        return VM_KIND_STACK;
    if (name_is(e, "[vdso]"))
        return VM_KIND_VDSO;
    if (name_is(e, "[vvar]") || name_is(e, "[vvar_vclock]"))
        return VM_KIND_VVAR;
    if (name_is(e, "[vsyscall]"))
        return VM_KIND_VSYSCALL;

    /* A kernel page bigger than the base page is a hugetlb page (64K-page kernels included). */
    if ((vmflags_mask & VMF(VMF_HT)) || kernel_page_kb > (uint64_t)getpagesize() / 1024 ||
        name_is(e, "/anon_hugepage (deleted)") || name_is(e, "/anon_hugepage") ||
        name_starts(e, "/dev/hugepages/"))
        return VM_KIND_HUGETLB;

    if ((vmflags_mask & (VMF(VMF_PF) | VMF(VMF_IO))) || name_is_device(e))
        return VM_KIND_DEVICE;

    if (name_is_sysv(e))
        return VM_KIND_SYSV_SHM;
    if (name_starts(e, "/memfd:"))
        return VM_KIND_MEMFD;
    if (name_starts(e, "socket:["))
        return VM_KIND_SOCKET;

    if ((shared && name_is(e, "/dev/zero (deleted)")) || name_starts(e, "[anon_shmem:"))
        return VM_KIND_ANON_SHARED;

    if (e->inode == 0 && (!e->name || e->name_len == 0 || name_starts(e, "[anon:")))
        return VM_KIND_ANON;

    if (e->name && e->name_len > 0 && e->name[0] == '/' && e->inode != 0)
        return shared ? VM_KIND_FILE_SHARED : VM_KIND_FILE_PRIVATE;

    return VM_KIND_OTHER; /* anon_inode:[...], [uprobes], unknown bracketed names */
}
