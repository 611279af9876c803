/* hugepages.c: <sysfs>/kernel/mm/hugepages, <sysfs>/devices/system/node/nodeN/hugepages,
 * <sysfs>/kernel/mm/transparent_hugepage and the THP lines of <procfs>/meminfo. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/hugepages.h"
#include "collector/parse.h"
#include "collector/readfile.h"
#include "vmatlas/macros.h"

#define POOLS_MAX 64u /* page sizes x (nodes + 1) kept per snapshot */

static const struct {
    const char *key;
    int index;
} meminfo_keys[] = {
    {"AnonHugePages", VM_THP_ANON},
    {"ShmemHugePages", VM_THP_SHMEM},
    {"FileHugePages", VM_THP_FILE},
};

void hugepages_parse_meminfo(const char *buf, size_t len, struct vm_thp *thp) {
    const char *line;
    size_t n, pos = 0;
    while (next_field(buf, len, &pos, '\n', &line, &n) == 0) {
        const char *key, *value;
        size_t klen, vlen;
        uint64_t bytes;
        if (parse_key_value(line, n, &key, &klen, &value, &vlen) < 0)
            continue;
        for (size_t i = 0; i < ARRAY_SIZE(meminfo_keys); i++)
            if (strlen(meminfo_keys[i].key) == klen && memcmp(meminfo_keys[i].key, key, klen) == 0 &&
                parse_kb(value, vlen, &bytes) == 0) {
                thp->bytes[meminfo_keys[i].index] = bytes;
                thp->present |= 1u << meminfo_keys[i].index;
            }
    }
}

/* "hugepages-2048kB" -> 2 MiB in bytes. */
static bool pool_size(const char *name, uint64_t *ret) {
    size_t n = strlen(name);
    uint64_t kb;
    if (n < 13 || strncmp(name, "hugepages-", 10) != 0 || strcmp(name + n - 2, "kB") != 0 ||
        parse_u64(name + 10, n - 12, &kb) < 0 || kb > UINT64_MAX / 1024)
        return false;
    *ret = kb * 1024;
    return true;
}

static uint64_t read_count(int dirfd, const char *path) {
    int64_t v;
    return read_int_at(dirfd, path, &v) == 0 && v >= 0 ? (uint64_t)v : VM_UNKNOWN;
}

/* The pools under dirfd (a "hugepages" directory) for one node (-1: global). */
static int collect_pools(int dirfd, int32_t node, struct snap_builder *b, size_t *count) {
    DIR *d;
    if (opendir_at(dirfd, ".", &d) < 0)
        return 0;
    struct dirent *de;
    int r = 0;
    while (r == 0 && (de = readdir(d)) && *count < POOLS_MAX) {
        struct vm_hugepool pool = {.numa_node = node};
        if (!pool_size(de->d_name, &pool.size_bytes))
            continue;
        _cleanup_close_ int pfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
            continue;
        pool.total = read_count(pfd, "nr_hugepages");
        pool.free = read_count(pfd, "free_hugepages");
        pool.surplus = read_count(pfd, "surplus_hugepages");
        /* The kernel keeps reservations only globally. */
        pool.reserved = node < 0 ? read_count(pfd, "resv_hugepages") : VM_UNKNOWN;
        r = snap_builder_add_pool(b, &pool);
        (*count)++;
    }
    closedir(d);
    return r;
}

static int collect_nodes(int sysfd, struct snap_builder *b, size_t *count) {
    DIR *d;
    if (opendir_at(sysfd, "devices/system/node", &d) < 0)
        return 0;
    struct dirent *de;
    int r = 0;
    while (r == 0 && (de = readdir(d))) {
        uint64_t node;
        if (strncmp(de->d_name, "node", 4) != 0 ||
            parse_u64(de->d_name + 4, strlen(de->d_name + 4), &node) < 0 || node > INT32_MAX)
            continue;
        char path[300];
        (void)snprintf(path, sizeof(path), "%s/hugepages", de->d_name);
        _cleanup_close_ int hfd = openat(dirfd(d), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (hfd >= 0)
            r = collect_pools(hfd, (int32_t)node, b, count);
    }
    closedir(d);
    return r;
}

static int intern_mode(struct snap_builder *b, int sysfd, const char *path, uint32_t *ret) {
    char mode[64];
    *ret = 0;
    if (read_mode_at(sysfd, path, mode, sizeof(mode)) < 0)
        return 0;
    return snap_builder_intern(b, mode, strlen(mode), ret);
}

int hugepages_collect(int procfd, int sysfd, struct snap_builder *b, struct vm_thp *thp) {
    size_t count = 0;
    int r;
    _cleanup_close_ int hfd = openat(sysfd, "kernel/mm/hugepages", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (hfd >= 0 && (r = collect_pools(hfd, -1, b, &count)) < 0)
        return r;
    if ((r = collect_nodes(sysfd, b, &count)) < 0)
        return r;

    memset(thp, 0, sizeof(*thp));
    if ((r = intern_mode(b, sysfd, "kernel/mm/transparent_hugepage/enabled", &thp->enabled)) < 0 ||
        (r = intern_mode(b, sysfd, "kernel/mm/transparent_hugepage/defrag", &thp->defrag)) < 0 ||
        (r = intern_mode(b, sysfd, "kernel/mm/transparent_hugepage/shmem_enabled",
                         &thp->shmem_enabled)) < 0)
        return r;
    char buf[16384];
    size_t len;
    if (read_file_at(procfd, "meminfo", buf, sizeof(buf), &len, NULL) == 0)
        hugepages_parse_meminfo(buf, len, thp);
    return 0;
}
