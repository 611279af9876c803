/* cgroup.c: parser for /proc/PID/cgroup and the systemd unit of a cgroup path. */
#include "collector/cgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "collector/parse.h"
#include "vmatlas/macros.h"

/* systemd's UNIT_NAME_MAX: a unit name is shorter than this. */
#define UNIT_NAME_MAX 256u

#define DELETED_SUFFIX " (deleted)"
#define DELETED_SUFFIX_LEN (sizeof(DELETED_SUFFIX) - 1)

struct cgroup_pick {
    const char *path;
    size_t len;
    bool found;
};

static void pick_set(struct cgroup_pick *p, const char *path, size_t len) {
    if (p->found)
        return; /* the first line of a kind wins */
    p->path = path;
    p->len = len;
    p->found = true;
}

/* Is "name=systemd" one of the comma-separated controllers? */
static bool has_systemd_controller(const char *s, size_t len) {
    static const char name[] = "name=systemd";
    const char *f;
    size_t pos = 0, flen;

    while (next_field(s, len, &pos, ',', &f, &flen) == 0)
        if (flen == sizeof(name) - 1 && memcmp(f, name, flen) == 0)
            return true;
    return false;
}

int cgroup_parse(const char *buf, size_t len, const char **ret, size_t *ret_len) {
    struct cgroup_pick v2 = {0}, systemd = {0}, first = {0};
    const struct cgroup_pick *pick;
    const char *line;
    size_t pos = 0, line_len;

    while (next_field(buf, len, &pos, '\n', &line, &line_len) == 0) {
        const char *c1, *c2, *path;
        size_t ctl_len, path_len;
        uint64_t id;

        /* "ID:CONTROLLERS:PATH"; the path is the rest of the line and may contain ':'. */
        c1 = memchr(line, ':', line_len);
        if (!c1 || parse_u64(line, (size_t)(c1 - line), &id) < 0)
            continue;
        c2 = memchr(c1 + 1, ':', line_len - (size_t)(c1 + 1 - line));
        if (!c2)
            continue;
        ctl_len = (size_t)(c2 - c1 - 1);
        path = c2 + 1;
        path_len = line_len - (size_t)(path - line);
        if (path_len == 0)
            continue;

        pick_set(&first, path, path_len);
        if (id == 0 && ctl_len == 0)
            pick_set(&v2, path, path_len);
        else if (has_systemd_controller(c1 + 1, ctl_len))
            pick_set(&systemd, path, path_len);
    }

    if (v2.found && !(v2.len == 1 && v2.path[0] == '/'))
        pick = &v2;
    else if (systemd.found)
        pick = &systemd;
    else if (v2.found)
        pick = &v2;
    else if (first.found)
        pick = &first;
    else
        return -ENOENT;
    *ret = pick->path;
    *ret_len = pick->len;
    return 0;
}

static bool unit_type_valid(const char *s, size_t len) {
    static const char *const types[] = {"service", "socket", "device", "mount", "automount", "swap",
                                        "target",  "path",   "timer",  "slice", "scope"};

    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (strlen(types[i]) == len && memcmp(types[i], s, len) == 0)
            return true;
    return false;
}

static bool unit_char_valid(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ':' ||
           c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

/* systemd's unit_name_is_valid() with UNIT_NAME_PLAIN, plus UNIT_NAME_INSTANCE when asked. */
static bool unit_name_valid(const char *s, size_t len, bool allow_instance) {
    size_t dot = len, at = len;

    if (len == 0 || len >= UNIT_NAME_MAX)
        return false;
    for (size_t i = len; i > 0; i--)
        if (s[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    if (dot == len || dot == 0 || !unit_type_valid(s + dot + 1, len - dot - 1))
        return false;
    for (size_t i = 0; i < dot; i++) {
        if (s[i] == '@' && at == len)
            at = i;
        if (!unit_char_valid(s[i]))
            return false;
    }
    if (at == 0)
        return false;
    if (at == len)
        return true;                       /* foo.service */
    return allow_instance && dot > at + 1; /* foo@bar.service, not the template foo@.service */
}

static bool ends_with(const char *s, size_t len, const char *suffix) {
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* systemd's cg_unescape(): a component escaped with a leading '_' (e.g. "_cpu.service"). */
static void cg_unescape(const char **s, size_t *len) {
    if (*len > 0 && (*s)[0] == '_') {
        (*s)++;
        (*len)--;
    }
}

/* systemd's valid_slice_name(). */
static bool slice_name_valid(const char *s, size_t len) {
    if (len < sizeof("x.slice") - 1 || !ends_with(s, len, ".slice"))
        return false;
    cg_unescape(&s, &len);
    return unit_name_valid(s, len, false);
}

int cgroup_unit(const char *path, size_t len, const char **ret, size_t *ret_len) {
    const char *comp, *end;
    size_t pos = 0, n;

    if (!path)
        return -ENXIO;
    /* cgroup v2 marks a removed cgroup by appending " (deleted)" to the path. */
    if (ends_with(path, len, DELETED_SUFFIX))
        len -= DELETED_SUFFIX_LEN;

    /* skip_slices(): leading slashes, then every component that is a valid slice name. */
    for (;;) {
        while (pos < len && path[pos] == '/')
            pos++;
        end = memchr(path + pos, '/', len - pos);
        n = end ? (size_t)(end - (path + pos)) : len - pos;
        if (!slice_name_valid(path + pos, n))
            break;
        pos += n;
    }

    /* cg_path_decode_unit(): the next component must be a plain or instance unit name. */
    comp = path + pos;
    if (n < 3)
        return -ENXIO;
    cg_unescape(&comp, &n);
    if (!unit_name_valid(comp, n, true) || ends_with(comp, n, ".slice"))
        return -ENXIO;
    *ret = comp;
    *ret_len = n;
    return 0;
}
