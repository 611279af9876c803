/* fdio.h: writing a whole buffer to a descriptor (the state file, the snapshot memfd, stdout in
 * one-shot mode). */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

/* Writes buf[0..len) whole, across short writes and EINTR. 0 or -errno (-EIO when write()
 * makes no progress). */
static inline int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
