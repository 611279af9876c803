/* privsep.h: the daemon as two processes.
 *
 * The collector process keeps the privileges (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH) and reads
 * /proc; it has no network socket. The server process parses HTTP: it binds its sockets, then
 * becomes an unprivileged user with no capabilities and a seccomp filter before it accepts a
 * single connection. Snapshots go from collector to server as sealed memfds over a socketpair
 * (the server validates every block); the server asks for refreshes over the same socket and
 * forwards the collector's sd_notify states to systemd as the main process. A bug in request
 * parsing can then neither read nor write other processes' memory. */
#pragma once

#include "daemon/options.h"
#include "vmatlas/collector.h"

/* Serve until SIGTERM or SIGINT, as service_run() does, in two processes. Takes the collector
 * over (the collector process uses it; the server process frees it at once). Returns the exit
 * status of the main (server) process. */
int privsep_run(const struct vm_config *cfg, struct vm_collector *collector, int argc,
                char **argv);
