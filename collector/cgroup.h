/* cgroup.h: parser for /proc/PID/cgroup and the systemd unit of a cgroup path. */
#pragma once

#include <stddef.h>

/* Pick the cgroup path of the process from lines "ID:CONTROLLERS:PATH" (PATH is the rest of the
 * line and may contain ':'): the cgroup v2 line ("0::/path") when it is not "/", else the
 * "name=systemd" v1 line (hybrid hosts), else the v2 line, else the first line's path. Lines
 * without a decimal ID, two colons and a non-empty path are skipped. The path is returned as
 * printed (a removed v2 cgroup keeps its " (deleted)"). *ret points into buf. Returns 0, or
 * -ENOENT when there is no line with a path (outputs untouched). */
int cgroup_parse(const char *buf, size_t len, const char **ret, size_t *ret_len);

/* The systemd unit of a cgroup path, as systemd's cg_path_get_unit(): skip leading "*.slice"
 * components; the next component is the unit if it is a valid unit name (name.type with a known
 * unit type other than slice, shorter than 256 bytes, [A-Za-z0-9:_.\\-] plus '@' for instances,
 * "\x2d" escapes kept as they are; a leading '_' escape is dropped as cg_unescape() does). A
 * trailing " (deleted)" is ignored. "/user.slice/user-1000.slice/user@1000.service/app.slice/x"
 * gives "user@1000.service"; "/" gives none. *ret points into path. Returns 0, or -ENXIO when
 * there is none (outputs untouched). */
int cgroup_unit(const char *path, size_t len, const char **ret, size_t *ret_len);
