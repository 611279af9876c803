/* bridge.c: messages and snapshots between the collector and the server processes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/bridge.h"
#include "daemon/fdio.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int bridge_send(int sock, const struct bridge_msg *msg, int fd) {
    struct iovec iov = {.iov_base = (void *)msg, .iov_len = sizeof(*msg)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof(u.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        if (n == (ssize_t)sizeof(*msg))
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -errno : -EIO;
    }
}

int bridge_recv(int sock, struct bridge_msg *msg, int *ret_fd) {
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ECONNRESET;
    *ret_fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*ret_fd < 0)
                *ret_fd = fd;
            else
                close(fd); /* one fd a message */
        }
    }
    bool fd_wanted = msg->type == BRIDGE_SNAPSHOT;
    if (n != (ssize_t)sizeof(*msg) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        msg->type < BRIDGE_SNAPSHOT || msg->type > BRIDGE_RELOAD ||
        fd_wanted != (*ret_fd >= 0)) {
        if (*ret_fd >= 0)
            close(*ret_fd);
        *ret_fd = -1;
        return -EBADMSG;
    }
    msg->text[sizeof(msg->text) - 1] = '\0';
    return 0;
}

int bridge_snapshot_to_fd(const struct vm_snapshot *s, int *ret_fd) {
    int fd = memfd_create("vmatlas-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    int r = write_all(fd, s, s->size);
    if (r == 0 && fcntl(fd, F_ADD_SEALS, SEALS) < 0)
        r = -errno;
    if (r < 0) {
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

int bridge_snapshot_from_fd(int fd, struct vm_snapshot **ret) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0)
        return -errno;
    if ((seals & SEALS) != SEALS)
        return -EPERM; /* the sender could still change it under us */
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (st.st_size < (off_t)sizeof(struct vm_snapshot) ||
        (uint64_t)st.st_size > VM_SNAPSHOT_MAX_BYTES)
        return -EBADMSG;
    size_t len = (size_t)st.st_size, off = 0;
    /* malloc: released by vm_snapshot_unref() like any snapshot. */
    struct vm_snapshot *s = malloc(len);
    if (!s)
        return -ENOMEM;
    while (off < len) {
        ssize_t n = pread(fd, (char *)s + off, len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(s);
            return n < 0 ? -errno : -EBADMSG;
        }
        off += (size_t)n;
    }
    if (vm_snapshot_validate(s, len) < 0) {
        free(s);
        return -EBADMSG;
    }
    s->refs = 1;
    *ret = s;
    return 0;
}
