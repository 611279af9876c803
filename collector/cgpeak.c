/* cgpeak.c: memory.peak (cgroup v2) or memory.max_usage_in_bytes (v1) of a cgroup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "collector/cgpeak.h"
#include "collector/parse.h"
#include "collector/readfile.h"
#include "vmatlas/snapshot.h"

#define CGROUP_PATH_MAX 2048

/* An absolute cgroup path made of real directory names only: nothing that climbs out of the
 * cgroup tree when joined to it. */
static bool path_ok(const char *path, size_t len) {
    static const char deleted[] = " (deleted)";
    if (len == 0 || len > CGROUP_PATH_MAX || path[0] != '/')
        return false;
    if (len >= sizeof(deleted) - 1 &&
        memcmp(path + len - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0)
        return false;
    for (size_t i = 0; i < len;) {
        size_t j = i + 1;
        while (j < len && path[j] != '/')
            j++;
        size_t n = j - i - 1; /* the component path[i+1 .. j) */
        if ((n == 1 && path[i + 1] == '.') || (n == 2 && path[i + 1] == '.' && path[i + 2] == '.'))
            return false;
        if (n == 0 && j < len)
            return false; /* "//" */
        i = j;
    }
    return true;
}

static int read_u64_at(int dirfd, const char *file, uint64_t *ret) {
    char buf[32];
    size_t len;
    bool cut;
    int r = read_file_at(dirfd, file, buf, sizeof(buf), &len, &cut);
    if (r < 0)
        return r;
    while (len > 0 && buf[len - 1] == '\n')
        len--;
    if (cut || parse_u64(buf, len, ret) < 0)
        return -EBADMSG;
    return 0;
}

int cgroup_memory_peak(int sysfd, const char *path, uint64_t *ret, uint8_t *ret_src) {
    size_t len = strlen(path);
    if (!path_ok(path, len))
        return -EINVAL;
    /* "/" joins as "fs/cgroup/memory.peak": the root cgroup (v2 keeps no peak there). */
    const char *sep = len > 1 ? path : "";
    char file[CGROUP_PATH_MAX + 64];
    (void)snprintf(file, sizeof(file), "fs/cgroup%s/memory.peak", sep);
    int r = read_u64_at(sysfd, file, ret);
    if (r == 0) {
        *ret_src = VM_MEMORY_PEAK_V2;
        return 0;
    }
    if (r != -ENOENT)
        return r;
    (void)snprintf(file, sizeof(file), "fs/cgroup/memory%s/memory.max_usage_in_bytes", sep);
    r = read_u64_at(sysfd, file, ret);
    if (r == 0)
        *ret_src = VM_MEMORY_PEAK_V1;
    return r;
}
