/* stat.h: parser for /proc/PID/stat. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmatlas/limits.h"

#define PF_KTHREAD_FLAG 0x00200000u /* stat field 9 */

struct stat_info {
    int32_t pid;            /* 1 */
    char comm[VM_COMM_MAX]; /* 2: bytes between the first '(' and the LAST ')', NUL added;
                             * may hold spaces, parens, newlines (and, in hostile input, NULs) */
    size_t comm_len;        /* bytes kept in comm, at most VM_COMM_MAX - 1 */
    bool comm_cut;          /* comm longer than VM_COMM_MAX - 1: the rest was dropped */
    char state;             /* 3 */
    int32_t ppid;           /* 4 */
    uint64_t flags;         /* 9, PF_* */
    uint64_t num_threads;   /* 20 */
    uint64_t starttime;     /* 22, ticks since boot */
    uint64_t vsize;         /* 23, bytes */
    uint64_t rss;           /* 24, pages */
    uint64_t start_code, end_code, start_stack;      /* 26, 27, 28 */
    uint64_t start_data, end_data, start_brk;        /* 45, 46, 47 */
    uint64_t arg_start, arg_end, env_start, env_end; /* 48..51 */
    bool has_layout; /* fields 45..51 were present (kernels since 3.5) */
};

/* Parse the whole stat text (one trailing '\n' allowed). Fields after ") " are separated by
 * single spaces; numbers are strict (signed only where the kernel prints them signed). Returns 0,
 * or -EINVAL when a required field (1-28) is missing or malformed, pid or ppid do not fit
 * int32, or num_threads is negative; *ret is then untouched. A malformed or missing field after
 * 28 ends the parse there: has_layout is true only when fields 45-51 all parsed, otherwise they
 * read 0. Fields after 52 are ignored. Never reads past len; needs no NUL. */
int stat_parse(const char *buf, size_t len, struct stat_info *ret);

/* True when the layout fields look masked (no ptrace-read access: 26/27 read 1, 28 reads 0,
 * 45-51 read 0 or are absent) for a task that has an mm. A task without an mm (kernel thread,
 * zombie) reads 0 in 26/27 and is not "masked". False for NULL. */
bool stat_layout_masked(const struct stat_info *st);
