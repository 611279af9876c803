/* status.c: parser for /proc/PID/status (memory lines, Uid, Threads, Kthread, PPid, State). */
#include "collector/status.h"

#include <errno.h>
#include <string.h>

#include "collector/parse.h"

/* status keys outside VM_MEMORY_FIELDS that we keep. */
enum status_extra {
    STATUS_UID,
    STATUS_KTHREAD,
    STATUS_THREADS,
    STATUS_PPID,
    STATUS_STATE,
    _STATUS_EXTRA_MAX
};

static const struct vm_field status_extra_fields[_STATUS_EXTRA_MAX] = {
    [STATUS_UID] = {"Uid", "uid", "real, effective, saved and fs uid"},
    [STATUS_KTHREAD] = {"Kthread", "kthread", "1 for kernel threads"},
    [STATUS_THREADS] = {"Threads", "threads", "number of threads"},
    [STATUS_PPID] = {"PPid", "ppid", "parent pid"},
    [STATUS_STATE] = {"State", "state", "task state letter"},
};

static void skip_blanks(const char **s, size_t *len) {
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
}

/* "\t0\t0\t0\t0": exactly four tab-separated decimal ids. */
static int parse_uids(const char *val, size_t vlen, uint32_t ret[4]) {
    uint32_t ids[4];
    size_t pos = 0;
    const char *f;
    size_t flen;

    skip_blanks(&val, &vlen);
    for (size_t i = 0; i < 4; i++) {
        uint64_t id;

        if (next_field(val, vlen, &pos, '\t', &f, &flen) < 0 || parse_u64(f, flen, &id) < 0 ||
            id > UINT32_MAX)
            return -EINVAL;
        ids[i] = (uint32_t)id;
    }
    if (pos < vlen || (vlen > 0 && val[vlen - 1] == '\t'))
        return -EINVAL; /* a fifth field, or a trailing separator */
    memcpy(ret, ids, sizeof(ids));
    return 0;
}

static void parse_extra(enum status_extra which, const char *val, size_t vlen,
                        struct status_info *st) {
    uint64_t n;

    switch (which) {
    case STATUS_UID:
        st->has_uid = parse_uids(val, vlen, st->uid) == 0;
        if (!st->has_uid)
            memset(st->uid, 0, sizeof(st->uid));
        break;
    case STATUS_KTHREAD:
        skip_blanks(&val, &vlen);
        st->kthread = parse_u64(val, vlen, &n) == 0 && n <= 1 ? (int)n : -1;
        break;
    case STATUS_THREADS:
        skip_blanks(&val, &vlen);
        st->has_threads = parse_u64(val, vlen, &n) == 0;
        st->threads = st->has_threads ? n : 0;
        break;
    case STATUS_PPID:
        skip_blanks(&val, &vlen);
        st->has_ppid = parse_u64(val, vlen, &n) == 0 && n <= INT32_MAX;
        st->ppid = st->has_ppid ? (int32_t)n : 0;
        break;
    case STATUS_STATE:
        /* "S (sleeping)": the letter, alone or followed by a space. */
        skip_blanks(&val, &vlen);
        st->state = vlen > 0 && (vlen == 1 || val[1] == ' ') ? val[0] : 0;
        break;
    default:
        break;
    }
}

int status_parse(const char *buf, size_t len, struct status_info *ret) {
    struct status_info st;
    const char *line;
    size_t pos = 0, line_len;
    bool any = false;

    memset(&st, 0, sizeof(st));
    st.kthread = -1;

    while (next_field(buf, len, &pos, '\n', &line, &line_len) == 0) {
        const char *key, *val;
        size_t klen, vlen;
        uint64_t bytes;
        int i;

        if (parse_key_value(line, line_len, &key, &klen, &val, &vlen) < 0)
            continue;
        any = true;

        i = parse_field_index(vm_memory_fields, _VM_MEM_MAX, key, klen);
        if (i >= 0) {
            if (parse_kb(val, vlen, &bytes) == 0) {
                st.memory[i] = bytes;
                st.memory_present |= 1u << i;
            } else {
                st.memory[i] = 0;
                st.memory_present &= ~(1u << i);
            }
            continue;
        }
        i = parse_field_index(status_extra_fields, _STATUS_EXTRA_MAX, key, klen);
        if (i >= 0)
            parse_extra((enum status_extra)i, val, vlen, &st);
    }

    if (!any)
        return -EINVAL;
    *ret = st;
    return 0;
}
