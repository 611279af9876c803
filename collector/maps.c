/* maps.c: parser for one line of /proc/PID/maps (and the header lines of smaps). */
#include "collector/maps.h"

#include <errno.h>
#include <string.h>

#include "collector/parse.h"
#include "vmatlas/snapshot.h"

/* seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) in fs/proc/task_mmu.c: on 64-bit the kernel pads
 * the fixed fields to this column, then writes one space before the name. */
#define MAPS_NAME_COLUMN 72u
/* MAJOR()/MINOR() of the kernel's 32-bit dev_t. */
#define MAPS_DEV_MAJOR_MAX 0xfffu
#define MAPS_DEV_MINOR_MAX 0xfffffu

#define DELETED_SUFFIX " (deleted)"
#define DELETED_SUFFIX_LEN (sizeof(DELETED_SUFFIX) - 1)

/* The bytes from *pos up to the next sep (which must exist); *pos moves past sep. */
static int field_to(const char *line, size_t len, size_t *pos, char sep, const char **ret,
                    size_t *ret_len) {
    const char *end;

    if (*pos >= len)
        return -EINVAL;
    end = memchr(line + *pos, sep, len - *pos);
    if (!end)
        return -EINVAL;
    *ret = line + *pos;
    *ret_len = (size_t)(end - *ret);
    *pos += *ret_len + 1;
    return 0;
}

static int parse_perms(const char *s, size_t len, uint8_t *ret) {
    uint8_t p = 0;

    if (len != 4)
        return -EINVAL;
    if (s[0] == 'r')
        p |= VM_PERM_READ;
    else if (s[0] != '-')
        return -EINVAL;
    if (s[1] == 'w')
        p |= VM_PERM_WRITE;
    else if (s[1] != '-')
        return -EINVAL;
    if (s[2] == 'x')
        p |= VM_PERM_EXEC;
    else if (s[2] != '-')
        return -EINVAL;
    if (s[3] == 's')
        p |= VM_PERM_SHARED;
    else if (s[3] != 'p')
        return -EINVAL;
    *ret = p;
    return 0;
}

static int parse_dev(const char *s, size_t len, uint32_t *ret_major, uint32_t *ret_minor) {
    const char *colon = memchr(s, ':', len);
    uint64_t major, minor;
    size_t n;

    if (!colon)
        return -EINVAL;
    n = (size_t)(colon - s);
    if (parse_x64(s, n, &major) < 0 || parse_x64(colon + 1, len - n - 1, &minor) < 0)
        return -EINVAL;
    if (major > MAPS_DEV_MAJOR_MAX || minor > MAPS_DEV_MINOR_MAX)
        return -EINVAL;
    *ret_major = (uint32_t)major;
    *ret_minor = (uint32_t)minor;
    return 0;
}

static bool all_spaces(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ')
            return false;
    return true;
}

int maps_parse_line(const char *line, size_t len, struct maps_entry *ret) {
    struct maps_entry e = {0};
    const char *f;
    size_t flen, pos = 0, name_at;

    if (!line || !ret)
        return -EINVAL;

    if (field_to(line, len, &pos, '-', &f, &flen) < 0 || parse_x64(f, flen, &e.start) < 0)
        return -EINVAL;
    if (field_to(line, len, &pos, ' ', &f, &flen) < 0 || parse_x64(f, flen, &e.end) < 0)
        return -EINVAL;
    if (e.start > e.end)
        return -EINVAL;
    if (field_to(line, len, &pos, ' ', &f, &flen) < 0 || parse_perms(f, flen, &e.perms) < 0)
        return -EINVAL;
    if (field_to(line, len, &pos, ' ', &f, &flen) < 0 || parse_x64(f, flen, &e.offset) < 0)
        return -EINVAL;
    if (field_to(line, len, &pos, ' ', &f, &flen) < 0 ||
        parse_dev(f, flen, &e.dev_major, &e.dev_minor) < 0)
        return -EINVAL;

    /* The inode ends at a space (always printed, even without a name), or at the end of a line
     * whose trailing space was stripped by someone else. */
    if (field_to(line, len, &pos, ' ', &f, &flen) < 0) {
        f = line + pos;
        flen = len - pos;
        pos = len;
    }
    if (parse_u64(f, flen, &e.inode) < 0)
        return -EINVAL;

    /* pos is L: the length of the fixed fields including the space after the inode. */
    if (pos < len) {
        name_at = (pos > MAPS_NAME_COLUMN ? pos : MAPS_NAME_COLUMN) + 1;
        if (name_at <= len && all_spaces(line + pos, name_at - pos))
            pos = name_at;
        else
            /* Not the 64-bit column rule (32-bit kernel, hand-edited text): skip blanks. */
            while (pos < len && line[pos] == ' ')
                pos++;
        if (pos < len) {
            e.name = line + pos;
            e.name_len = len - pos;
            e.deleted =
                e.name_len >= DELETED_SUFFIX_LEN && memcmp(e.name + e.name_len - DELETED_SUFFIX_LEN,
                                                           DELETED_SUFFIX, DELETED_SUFFIX_LEN) == 0;
        }
    }

    *ret = e;
    return 0;
}

bool maps_is_header(const char *line, size_t len) {
    size_t i = 0;

    if (!line)
        return false;
    while (i < len && ((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
        i++;
    return i > 0 && i < len && line[i] == '-';
}
