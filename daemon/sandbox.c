/* sandbox.c: dropping to an unprivileged user, and the server's seccomp filter (libseccomp). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/sandbox.h"

/* LeakSanitizer stops the threads of its own process with ptrace at exit: sanitizer builds
 * (the test suite's second build) allow that one call; release builds never do. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_LSAN 1
#endif
#endif

static int fail(char *err, size_t errlen, int r, const char *what) {
    (void)snprintf(err, errlen, "%s: %s", what, strerror(-r));
    return r;
}

static int caps_get(struct __user_cap_data_struct d[2]) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    return syscall(SYS_capget, &h, d) < 0 ? -errno : 0;
}

bool sandbox_has_caps(void) {
    struct __user_cap_data_struct d[2];
    return caps_get(d) == 0 && (d[0].effective || d[1].effective);
}

/* Become user: its uid and primary group, no supplementary groups. A uid change from 0
 * clears the permitted, effective and ambient capability sets. */
static int switch_user(const char *user, char *err, size_t errlen) {
    struct passwd pw, *res = NULL;
    char buf[4096];
    int e = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
    if (e != 0 || !res) {
        (void)snprintf(err, errlen, "privsep-user: no user \"%s\"", user);
        return e ? -e : -ENOENT;
    }
    if (pw.pw_uid == 0) {
        (void)snprintf(err, errlen, "privsep-user: \"%s\" is root", user);
        return -EINVAL;
    }
    /* glibc applies set*id to every thread of the process. */
    if (setgroups(0, NULL) < 0)
        return fail(err, errlen, -errno, "setgroups");
    if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0)
        return fail(err, errlen, -errno, "setresgid");
    if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0)
        return fail(err, errlen, -errno, "setresuid");
    if (setuid(0) == 0) {
        (void)snprintf(err, errlen, "could become root again after the switch");
        return -EPERM;
    }
    return 0;
}

static bool cap_effective(struct __user_cap_data_struct d[2], int cap) {
    return d[cap / 32].effective & (1u << (cap % 32));
}

int sandbox_drop(const char *user, char *err, size_t errlen) {
    struct __user_cap_data_struct d[2];
    int r = caps_get(d);
    if (r < 0)
        return fail(err, errlen, r, "capget");
    /* Root that may not change its user (a bounding set without CAP_SETUID/CAP_SETGID) drops
     * what capabilities it has and keeps uid 0. */
    if (geteuid() == 0 && cap_effective(d, CAP_SETUID) && cap_effective(d, CAP_SETGID)) {
        if ((r = switch_user(user, err, errlen)) < 0)
            return r;
    } else {
        /* Not root (e.g. systemd's DynamicUser= with ambient capabilities): keep the user,
         * give up every capability. capset() of this thread only: no other thread runs yet. */
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct none[2] = {{0}};
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
            return fail(err, errlen, -errno, "clearing the ambient capabilities");
        if (syscall(SYS_capset, &h, none) < 0)
            return fail(err, errlen, -errno, "capset");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return fail(err, errlen, -errno, "PR_SET_NO_NEW_PRIVS");
#ifdef SANDBOX_LSAN
    /* The uid change made the process non-dumpable, which hides /proc/self/task from
     * LeakSanitizer's tracer. Sanitizer builds only. */
    (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
    if ((r = caps_get(d)) < 0)
        return fail(err, errlen, r, "capget");
    for (int i = 0; i < 2; i++)
        if (d[i].effective || d[i].permitted || d[i].inheritable) {
            (void)snprintf(err, errlen, "capabilities survived the drop");
            return -EPERM;
        }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_PTRACE, 0, 0) > 0) {
        (void)snprintf(err, errlen, "an ambient capability survived the drop");
        return -EPERM;
    }
    return 0;
}

/* System calls the server needs. */
static const int allowed[] = {
    /* I/O on descriptors it has */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek),
    SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(pipe2), SCMP_SYS(eventfd2),
    SCMP_SYS(sendfile), SCMP_SYS(splice), SCMP_SYS(ftruncate), SCMP_SYS(memfd_create),
    SCMP_SYS(access),
    SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(getdents64),
    SCMP_SYS(getdents),
    /* sockets: serving, the journal and sd_notify, fleet peers */
    SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
    SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
    SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
    SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(shutdown), SCMP_SYS(socketpair),
    /* waiting */
    SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
    SCMP_SYS(pselect6), SCMP_SYS(futex), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
    /* memory */
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
    SCMP_SYS(mprotect), SCMP_SYS(mincore),
    /* threads (libcurl's resolver, libmicrohttpd's pool) and the process */
    SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(getpid),
    SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
    SCMP_SYS(getegid), SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(prctl),
    SCMP_SYS(sched_getaffinity), SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(uname),
    SCMP_SYS(sysinfo), SCMP_SYS(getrusage), SCMP_SYS(umask), SCMP_SYS(getcwd),
    /* signals: its own; waiting for the collector */
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigtimedwait), SCMP_SYS(sigaltstack), SCMP_SYS(tgkill),
    SCMP_SYS(wait4), SCMP_SYS(waitid),
    /* time and randomness */
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(time),
    SCMP_SYS(getrandom),
};

/* System calls that only an attack would make: the process dies. */
static const int fatal[] = {
#ifndef SANDBOX_LSAN
    SCMP_SYS(ptrace),
#endif
    SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
    SCMP_SYS(process_madvise), SCMP_SYS(pidfd_getfd), SCMP_SYS(execve), SCMP_SYS(execveat),
    SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd), SCMP_SYS(kcmp),
    SCMP_SYS(open_by_handle_at), SCMP_SYS(setuid), SCMP_SYS(setresuid), SCMP_SYS(setgid),
    SCMP_SYS(setresgid), SCMP_SYS(setgroups), SCMP_SYS(capset), SCMP_SYS(unshare),
    SCMP_SYS(setns), SCMP_SYS(mount), SCMP_SYS(init_module), SCMP_SYS(finit_module),
};

int sandbox_seccomp(char *err, size_t errlen) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    int r = ctx ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    for (size_t i = 0; r == 0 && i < sizeof(fatal) / sizeof(fatal[0]); i++)
        r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, fatal[i], 0);
#ifdef SANDBOX_LSAN
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 0);
#endif
    /* New sockets: Unix (journal, sd_notify), IPv4 and IPv6 (peers) only. */
    for (int af = 0; r == 0 && af < 3; af++) {
        static const int families[] = {AF_UNIX, AF_INET, AF_INET6};
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[af]));
    }
    /* getaddrinfo() asks the kernel for the host's addresses over NETLINK_ROUTE. */
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                             SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_EQ, 0));
    /* Opening files: read only (no write, create or truncate). */
    const scmp_datum_t writes = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND |
                                (O_TMPFILE & ~O_DIRECTORY); /* O_TMPFILE includes O_DIRECTORY */
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                             SCMP_A2(SCMP_CMP_MASKED_EQ, writes, 0));
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, writes, 0));
    /* ioctl: non-blocking mode and readable byte counts only. */
    for (int k = 0; r == 0 && k < 3; k++) {
        static const unsigned long reqs[] = {FIONBIO, FIONREAD, TIOCOUTQ};
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)reqs[k]));
    }
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    return r < 0 ? fail(err, errlen, r, "seccomp filter") : 0;
}
