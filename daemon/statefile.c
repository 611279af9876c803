/* statefile.c: reading and atomically replacing the state file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/fdio.h"
#include "daemon/statefile.h"
#include "vmatlas/macros.h"
#include "vmatlas/state.h"

int state_load(const char *dir, struct vm_snapshot **ret) {
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    _cleanup_close_ int fd = openat(dfd, STATE_FILE_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > VM_STATE_MAX_BYTES)
        return -EBADMSG;
    size_t want = (size_t)st.st_size, len = 0;
    _cleanup_free_ char *buf = malloc(want ? want : 1);
    if (!buf)
        return -ENOMEM;
    while (len < want) {
        ssize_t n = read(fd, buf + len, want - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break; /* shrank under us: decode what is there (and refuse it) */
        len += (size_t)n;
    }
    return vm_state_decode(buf, len, ret);
}

int state_save(const char *dir, const struct vm_snapshot *s) {
    _cleanup_free_ void *buf = NULL;
    size_t len;
    int r = vm_state_encode(s, &buf, &len);
    if (r < 0)
        return r;
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    static const char tmp[] = STATE_FILE_NAME ".tmp";
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    r = write_all(fd, buf, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(dfd, tmp, dfd, STATE_FILE_NAME) < 0)
        r = -errno;
    if (r < 0) {
        (void)unlinkat(dfd, tmp, 0);
        return r;
    }
    return fsync(dfd) < 0 ? -errno : 0;
}
