/* readfile.c: capped reads of procfs/sysfs files and a line reader for maps/smaps. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "collector/parse.h"
#include "collector/readfile.h"
#include "vmatlas/macros.h"

static ssize_t read_retry(int fd, char *buf, size_t len) {
    for (;;) {
        ssize_t r = read(fd, buf, len);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

int read_file_at(int dirfd, const char *path, char *buf, size_t cap, size_t *ret_len,
                 bool *ret_cut) {
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    bool cut = false;
    for (;;) {
        if (len == cap) {
            char extra;
            ssize_t r = read_retry(fd, &extra, 1);
            if (r < 0)
                return -errno;
            cut = r > 0;
            break;
        }
        ssize_t r = read_retry(fd, buf + len, cap - len);
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        len += (size_t)r;
    }
    *ret_len = len;
    if (ret_cut)
        *ret_cut = cut;
    return 0;
}

int read_line_at(int dirfd, const char *path, char *buf, size_t cap) {
    size_t len;
    bool cut;
    if (cap < 2)
        return -EINVAL;
    int r = read_file_at(dirfd, path, buf, cap - 1, &len, &cut);
    if (r < 0)
        return r;
    if (cut)
        return -EFBIG;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    buf[len] = '\0';
    return 0;
}

int read_int_at(int dirfd, const char *path, int64_t *ret) {
    char buf[64];
    int r = read_line_at(dirfd, path, buf, sizeof(buf));
    if (r < 0)
        return r;
    return parse_i64(buf, strlen(buf), ret);
}

int read_mode_at(int dirfd, const char *path, char *out, size_t cap) {
    char buf[256];
    int r = read_line_at(dirfd, path, buf, sizeof(buf));
    if (r < 0)
        return r;
    const char *l = strchr(buf, '['), *rb = l ? strchr(l, ']') : NULL;
    if (!l || !rb || (size_t)(rb - l - 1) >= cap)
        return -EBADMSG;
    memcpy(out, l + 1, (size_t)(rb - l - 1));
    out[rb - l - 1] = '\0';
    return 0;
}

int opendir_at(int dirfd, const char *path, DIR **ret) {
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int r = -errno;
        close(fd);
        return r;
    }
    *ret = d;
    return 0;
}

void line_reader_init(struct line_reader *lr, int fd, char *buf, size_t cap) {
    *lr = (struct line_reader){.fd = fd, .buf = buf, .cap = cap};
}

/* Refill: move unread data to the front and read more. Returns bytes read, 0 at EOF, -errno. */
static int refill(struct line_reader *lr) {
    if (lr->pos > 0) {
        memmove(lr->buf, lr->buf + lr->pos, lr->end - lr->pos);
        lr->end -= lr->pos;
        lr->pos = 0;
    }
    if (lr->end == lr->cap)
        return -ENOBUFS;
    ssize_t r = read_retry(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
    if (r < 0)
        return -errno;
    if (r == 0)
        lr->eof = true;
    lr->end += (size_t)r;
    lr->bytes += (size_t)r;
    return (int)(r > 0);
}

int line_reader_next(struct line_reader *lr, const char **ret_line, size_t *ret_len) {
    bool skipping = false;
    for (;;) {
        char *start = lr->buf + lr->pos;
        char *nl = memchr(start, '\n', lr->end - lr->pos);
        if (nl) {
            size_t len = (size_t)(nl - start);
            lr->pos += len + 1;
            if (skipping) {
                skipping = false;
                continue;
            }
            *ret_line = start;
            *ret_len = len;
            return 1;
        }
        if (lr->eof) {
            size_t len = lr->end - lr->pos;
            lr->pos = lr->end;
            if (len == 0 || skipping)
                return 0;
            *ret_line = start;
            *ret_len = len;
            return 1;
        }
        int r = refill(lr);
        if (r == -ENOBUFS) {
            /* A line longer than the whole buffer: drop what we have and skip to its end. */
            lr->cut_lines++;
            skipping = true;
            lr->pos = lr->end = 0;
            continue;
        }
        if (r < 0)
            return r;
    }
}
