/* readfile.h: reading procfs/sysfs files relative to directory fds, under caps. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read the file dirfd/path into buf (capacity cap) until EOF or the buffer is full; when it
 * is full, one more read tells whether the file was longer (*ret_cut, may be NULL). Returns 0
 * and the length in *ret_len, or -errno from open or read (-ENOENT, -ESRCH, -EACCES ...). */
int read_file_at(int dirfd, const char *path, char *buf, size_t cap, size_t *ret_len,
                 bool *ret_cut);

/* Read a one-line sysfs/procfs value into buf as a NUL-terminated string without the
 * trailing newline. Returns 0 or -errno; -EFBIG when it does not fit. */
int read_line_at(int dirfd, const char *path, char *buf, size_t cap);

/* Read a decimal integer file (e.g. /proc/sys/vm/max_map_count). 0 or -errno. */
int read_int_at(int dirfd, const char *path, int64_t *ret);

/* The bracketed word of a sysfs mode file ("always [madvise] never" gives "madvise") into out,
 * NUL-terminated. Returns 0, -errno, or -EBADMSG when there is no bracketed word (or it does
 * not fit). */
int read_mode_at(int dirfd, const char *path, char *out, size_t cap);

/* Open the directory dirfd/path for readdir() (path "." for dirfd itself, which keeps dirfd
 * open and usable). Returns 0 and the stream in *ret (closedir() it), or -errno. */
int opendir_at(int dirfd, const char *path, DIR **ret);

/* A line reader over an fd with a fixed buffer. Lines longer than the buffer are skipped whole
 * (and counted in cut_lines), so a tail never poses as the next line. */
struct line_reader {
    int fd;
    char *buf;
    size_t cap;   /* buffer size */
    size_t pos;   /* start of unread data */
    size_t end;   /* end of valid data */
    bool eof;
    uint64_t cut_lines;
    uint64_t bytes; /* bytes read so far */
};

void line_reader_init(struct line_reader *lr, int fd, char *buf, size_t cap);

/* The next line without its '\n' (a last line without '\n' is returned too). Returns 1 with
 * the line in *ret_line and *ret_len (valid until the next call), 0 at EOF, or -errno. */
int line_reader_next(struct line_reader *lr, const char **ret_line, size_t *ret_len);
