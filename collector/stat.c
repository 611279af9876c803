/* stat.c: parser for /proc/PID/stat (fs/proc/array.c do_task_stat). */
#include "collector/stat.h"

#include <errno.h>
#include <string.h>

#include "collector/parse.h"

#define STAT_REQUIRED_LAST 28 /* fields 1..28 must be there */
#define STAT_LAYOUT_LAST 51   /* env_end */

/* Fields the kernel prints with seq_put_decimal_ll (may be negative); all others after field 3
 * are unsigned. */
static bool stat_field_signed(unsigned n) {
    switch (n) {
    case 4:  /* ppid */
    case 5:  /* pgrp */
    case 6:  /* session */
    case 7:  /* tty_nr */
    case 8:  /* tpgid, -1 without a controlling terminal */
    case 16: /* cutime */
    case 17: /* cstime */
    case 18: /* priority, negative for real-time tasks */
    case 19: /* nice */
    case 20: /* num_threads */
    case 38: /* exit_signal */
    case 39: /* processor */
    case 44: /* cguest_time */
    case 52: /* exit_code */
        return true;
    default:
        return false;
    }
}

/* Where the unsigned fields we keep go; NULL for the fields we only validate. */
static uint64_t *stat_field_slot(struct stat_info *st, unsigned n) {
    switch (n) {
    case 9:
        return &st->flags;
    case 22:
        return &st->starttime;
    case 23:
        return &st->vsize;
    case 24:
        return &st->rss;
    case 26:
        return &st->start_code;
    case 27:
        return &st->end_code;
    case 28:
        return &st->start_stack;
    case 45:
        return &st->start_data;
    case 46:
        return &st->end_data;
    case 47:
        return &st->start_brk;
    case 48:
        return &st->arg_start;
    case 49:
        return &st->arg_end;
    case 50:
        return &st->env_start;
    case 51:
        return &st->env_end;
    default:
        return NULL;
    }
}

/* Field n (>= 4) into st; -EINVAL when malformed. */
static int stat_field(struct stat_info *st, unsigned n, const char *f, size_t flen) {
    uint64_t u;
    int64_t s;
    uint64_t *slot;

    if (stat_field_signed(n)) {
        if (parse_i64(f, flen, &s) < 0)
            return -EINVAL;
        if (n == 4) {
            if (s < 0 || s > INT32_MAX)
                return -EINVAL;
            st->ppid = (int32_t)s;
        } else if (n == 20) {
            if (s < 0)
                return -EINVAL;
            st->num_threads = (uint64_t)s;
        }
        return 0;
    }
    if (parse_u64(f, flen, &u) < 0)
        return -EINVAL;
    slot = stat_field_slot(st, n);
    if (slot)
        *slot = u;
    return 0;
}

int stat_parse(const char *buf, size_t len, struct stat_info *ret) {
    struct stat_info st;
    const char *open, *close = NULL, *tail, *f;
    size_t tail_len, pos, flen, comm_len;
    uint64_t pid;
    unsigned n;

    if (!buf || !ret)
        return -EINVAL;
    memset(&st, 0, sizeof(st));

    /* comm can hold any byte but NUL, ')' and newlines included: it runs from the first '('
     * to the LAST ')', and nothing after it can contain a ')'. */
    open = memchr(buf, '(', len);
    for (size_t i = len; i > 0; i--)
        if (buf[i - 1] == ')') {
            close = buf + i - 1;
            break;
        }
    if (!open || !close || close < open)
        return -EINVAL;

    /* "PID (" */
    if (open - buf < 2 || open[-1] != ' ' || parse_u64(buf, (size_t)(open - buf) - 1, &pid) < 0 ||
        pid > INT32_MAX)
        return -EINVAL;
    st.pid = (int32_t)pid;

    comm_len = (size_t)(close - open) - 1;
    st.comm_cut = comm_len > VM_COMM_MAX - 1;
    st.comm_len = st.comm_cut ? VM_COMM_MAX - 1 : comm_len;
    memcpy(st.comm, open + 1, st.comm_len);
    st.comm[st.comm_len] = '\0';

    /* ") S 1 2 ...\n" */
    tail = close + 1;
    tail_len = (size_t)(buf + len - tail);
    if (tail_len > 0 && tail[tail_len - 1] == '\n')
        tail_len--;
    if (tail_len < 2 || tail[0] != ' ')
        return -EINVAL;
    pos = 1;
    if (next_field(tail, tail_len, &pos, ' ', &f, &flen) < 0 || flen != 1)
        return -EINVAL;
    st.state = f[0];

    for (n = 4; next_field(tail, tail_len, &pos, ' ', &f, &flen) == 0; n++) {
        if (stat_field(&st, n, f, flen) < 0) {
            if (n <= STAT_REQUIRED_LAST)
                return -EINVAL;
            break; /* keep what came before; later fields are optional */
        }
        if (n == STAT_LAYOUT_LAST)
            st.has_layout = true;
    }
    if (n <= STAT_REQUIRED_LAST)
        return -EINVAL;
    if (!st.has_layout) {
        /* Fields before a malformed or missing one may have been stored: drop them all. */
        st.start_data = st.end_data = st.start_brk = 0;
        st.arg_start = st.arg_end = st.env_start = st.env_end = 0;
    }

    *ret = st;
    return 0;
}

bool stat_layout_masked(const struct stat_info *st) {
    /* Without ptrace-read access the kernel prints 1 for start_code/end_code (so old ps does not
     * take the task for a kernel thread), 0 for start_stack and the layout fields. */
    if (!st || st->start_code != 1 || st->end_code != 1 || st->start_stack != 0)
        return false;
    if (st->has_layout && (st->start_data || st->end_data || st->start_brk || st->arg_start ||
                           st->arg_end || st->env_start || st->env_end))
        return false;
    return true;
}
