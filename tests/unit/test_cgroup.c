/* test_cgroup.c: cgroup path choice on v1/hybrid/v2 hosts and the systemd unit of a path. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/cgroup.h"
#include "test.h"

static char out[4096];

/* The chosen path as a string, or "-ENOENT". */
static const char *path_of(const char *s) {
    size_t n = strlen(s), len;
    char *p = exact(s, n);
    const char *path;
    int r = cgroup_parse(p, n, &path, &len);

    if (r < 0) {
        snprintf(out, sizeof(out), "%s", r == -ENOENT ? "-ENOENT" : "error");
    } else {
        CHECK(path >= p && path + len <= p + n);
        snprintf(out, sizeof(out), "%.*s", (int)len, path);
    }
    free(p);
    return out;
}

/* The unit as a string, or "-ENXIO". */
static const char *unit_of(const char *s) {
    size_t n = strlen(s), len;
    char *p = exact(s, n);
    const char *unit;
    int r = cgroup_unit(p, n, &unit, &len);

    if (r < 0) {
        snprintf(out, sizeof(out), "%s", r == -ENXIO ? "-ENXIO" : "error");
    } else {
        CHECK(unit >= p && unit + len <= p + n);
        snprintf(out, sizeof(out), "%.*s", (int)len, unit);
    }
    free(p);
    return out;
}

static void test_parse(void) {
    /* This VM (hybrid v1, our own process): 0:: is "/", so name=systemd ("/") wins. */
    CHECK_STREQ(path_of("9:name=systemd:/\n"
                        "8:pids:/\n"
                        "7:blkio:/\n"
                        "6:freezer:/\n"
                        "5:devices:/\n"
                        "4:memory:/process_api/6ab550c7eadb40fb382e716e7757a21f\n"
                        "3:cpuset:/\n"
                        "2:cpuacct:/\n"
                        "1:cpu:/\n"
                        "0::/\n"),
                "/");
    /* Hybrid host with systemd: name=systemd carries the unit. */
    CHECK_STREQ(path_of("12:memory:/system.slice/ssh.service\n"
                        "1:name=systemd:/system.slice/ssh.service\n"
                        "0::/\n"),
                "/system.slice/ssh.service");
    /* Hybrid host where 0:: has a real path: 0:: wins. */
    CHECK_STREQ(path_of("1:name=systemd:/user.slice/user-0.slice/session-3.scope\n"
                        "0::/user.slice/user-0.slice/session-3.scope\n"),
                "/user.slice/user-0.slice/session-3.scope");
    /* Pure v2. */
    CHECK_STREQ(path_of("0::/system.slice/cron.service\n"), "/system.slice/cron.service");
    CHECK_STREQ(path_of("0::/system.slice/cron.service"), "/system.slice/cron.service");
    CHECK_STREQ(path_of("0::/\n"), "/");
    /* Pure v1 without name=systemd: the first line. */
    CHECK_STREQ(path_of("3:cpu,cpuacct:/a\n2:memory:/b\n"), "/a");
    /* name=systemd among other controllers; ':' inside the path. */
    CHECK_STREQ(path_of("2:cpu,name=systemd,x:/a:b\n0::/\n"), "/a:b");
    CHECK_STREQ(path_of("2:name=systemdx:/a\n1:name=systemd:/b\n"), "/b");
    /* Removed v2 cgroup: kept as printed. */
    CHECK_STREQ(path_of("0::/system.slice/gone.service (deleted)\n"),
                "/system.slice/gone.service (deleted)");
    /* Malformed lines are skipped. */
    CHECK_STREQ(path_of("garbage\nx:y:/z\n:name=systemd:/q\n5:memory\n4:memory:\n0::/ok\n"), "/ok");
    CHECK_STREQ(path_of(""), "-ENOENT");
    CHECK_STREQ(path_of("\n\n"), "-ENOENT");
    CHECK_STREQ(path_of("0::\n"), "-ENOENT");
    CHECK_STREQ(path_of("no colons"), "-ENOENT");
    {
        const char *r = "keep";
        size_t rl = 4;
        CHECK_EQ_INT(cgroup_parse(NULL, 0, &r, &rl), -ENOENT);
        CHECK(r && strcmp(r, "keep") == 0 && rl == 4);
    }
}

static void test_unit(void) {
    CHECK_STREQ(unit_of("/system.slice/ssh.service"), "ssh.service");
    CHECK_STREQ(unit_of("/user.slice/user-0.slice/session-3.scope"), "session-3.scope");
    CHECK_STREQ(unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/x.service"),
                "user@1000.service");
    CHECK_STREQ(unit_of("/"), "-ENXIO");
    CHECK_STREQ(unit_of(""), "-ENXIO");
    CHECK_STREQ(unit_of("/init.scope"), "init.scope");
    CHECK_STREQ(unit_of("/system.slice/system-getty.slice/getty@tty1.service"),
                "getty@tty1.service");
    CHECK_STREQ(unit_of("/system.slice/systemd-fsck@dev-disk-by\\x2duuid-1234.service"),
                "systemd-fsck@dev-disk-by\\x2duuid-1234.service");
    CHECK_STREQ(unit_of("/system.slice/docker-0123abcd.scope/init"), "docker-0123abcd.scope");
    CHECK_STREQ(unit_of("//system.slice//ssh.service/"), "ssh.service");
    CHECK_STREQ(unit_of("/system.slice/_cpu.service"), "cpu.service"); /* cg_escape()d */
    CHECK_STREQ(unit_of("/system.slice/gone.service (deleted)"), "gone.service");

    /* Not units. */
    CHECK_STREQ(unit_of("/user.slice"), "-ENXIO"); /* only slices */
    CHECK_STREQ(unit_of("/system.slice/"), "-ENXIO");
    CHECK_STREQ(unit_of("/process_api/6ab550c7eadb40fb382e716e7757a21f"), "-ENXIO");
    CHECK_STREQ(unit_of("/system.slice/foo.bar"), "-ENXIO");      /* unknown type */
    CHECK_STREQ(unit_of("/system.slice/foo@.service"), "-ENXIO"); /* template */
    CHECK_STREQ(unit_of("/system.slice/@foo.service"), "-ENXIO");
    CHECK_STREQ(unit_of("/system.slice/.service"), "-ENXIO");
    CHECK_STREQ(unit_of("/system.slice/a b.service"), "-ENXIO");
    CHECK_STREQ(unit_of("/system.slice/\xc3\xa9.service"), "-ENXIO");
    CHECK_STREQ(unit_of("/system.slice/x.service\n"), "-ENXIO");
    CHECK_STREQ(unit_of("/a.b"), "-ENXIO");
    CHECK_STREQ(unit_of("/ab"), "-ENXIO");
    CHECK_STREQ(unit_of("/x.slice/y"), "-ENXIO");
    CHECK_STREQ(unit_of("/-.slice/foo.service"), "foo.service");
    CHECK_STREQ(unit_of("/a@b@c.service"), "a@b@c.service"); /* systemd allows more '@' */
    {
        /* A NUL inside the component. */
        static const char nul[] = "/sys\0.service";
        const char *u;
        size_t ul;
        char *p = exact(nul, sizeof(nul) - 1);
        CHECK_EQ_INT(cgroup_unit(p, sizeof(nul) - 1, &u, &ul), -ENXIO);
        free(p);
    }
    {
        /* 255 bytes is the longest valid name, 256 is too long. */
        char path[300];
        size_t n = 0;
        path[n++] = '/';
        memset(path + n, 'a', 247);
        n += 247;
        memcpy(path + n, ".service", 8);
        n += 8;
        path[n] = '\0';
        CHECK_EQ_U64(strlen(unit_of(path)), 255);
        memmove(path + 2, path + 1, n);
        path[1] = 'a';
        CHECK_STREQ(unit_of(path), "-ENXIO");
    }
    {
        const char *r = "keep";
        size_t rl = 4;
        CHECK_EQ_INT(cgroup_unit(NULL, 0, &r, &rl), -ENXIO);
        CHECK(r && strcmp(r, "keep") == 0 && rl == 4);
    }
}

int main(void) {
    test_parse();
    test_unit();
    return test_result("test_cgroup");
}
