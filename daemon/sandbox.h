/* sandbox.h: what the server process gives up before it parses any request. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Give up every privilege, for good (PR_SET_NO_NEW_PRIVS): as root with CAP_SETUID and
 * CAP_SETGID, become `user` (its uid and primary group, no supplementary groups; in every
 * thread); otherwise (systemd's DynamicUser= with ambient capabilities, or root with a reduced
 * bounding set) drop every capability and keep the uid (call before other threads start). Refuses to go on when a capability survives. Returns 0, or
 * -errno with a message in err. */
int sandbox_drop(const char *user, char *err, size_t errlen);

/* Whether this process has an effective capability (privilege separation is worth it). */
bool sandbox_has_caps(void);

/* A seccomp filter on every thread of the process: the system calls a network server needs
 * (sockets, epoll, memory, futexes, time, read-only opens, signals to the collector); the
 * ones that reach into other processes (ptrace, process_vm_readv/writev, pidfd_getfd,
 * process_madvise), exec, bpf, perf and userfaultfd kill the process; anything else fails with
 * EPERM. Returns 0, or -errno with a message in err. */
int sandbox_seccomp(char *err, size_t errlen);
