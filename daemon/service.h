/* service.h: the long-running daemon: scan thread, HTTP service, signals. */
#pragma once

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "api/server.h"
#include "daemon/credentials.h"
#include "daemon/options.h"
#include "vmatlas/collector.h"

/* Serve until SIGTERM or SIGINT (SIGHUP reloads the configuration from argv and its file),
 * in one process. Returns the process exit status. */
int service_run(const struct vm_config *cfg, struct vm_collector *collector, int argc,
                char **argv);

/* Pieces shared with the two-process variant (privsep.c). */
/* Block SIGTERM, SIGINT, SIGHUP and SIGCHLD (waited for with sigwaitinfo) and ignore SIGPIPE;
 * call before any thread starts. Returns 0 or -errno. */
int service_block_signals(sigset_t *sigs);
/* Listening sockets handed over by systemd: how many (0 without socket activation), or
 * -EINVAL when they are not listening stream sockets or more than max. */
int service_inherited_sockets(int *fds, size_t max);
/* Half of WatchdogSec in ms (0 without a watchdog). */
uint64_t service_watchdog_ms(void);
/* Server options from the configuration and the credentials read for it. */
void service_server_options(const struct vm_config *cfg, const struct credentials *cred,
                            struct api_server_options *so);
struct fleet_service;
/* SIGHUP in fleet mode: the peers, peers file, timeout and CA file of the configuration as it
 * is now. Accepts NULL (no fleet mode). */
void service_reload_fleet(struct fleet_service *fleet, int argc, char **argv);
/* "listening on ADDR" for every address the server bound. */
void service_log_addresses(const struct api_server *server);
