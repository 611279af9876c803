/* service.h: the long-running daemon: scan thread, HTTP service, signals. */
#pragma once

#include "daemon/options.h"
#include "vmatlas/collector.h"

/* Serve until SIGTERM or SIGINT (SIGHUP reloads the configuration from argv and its file).
 * Returns the process exit status. */
int service_run(const struct vm_config *cfg, struct vm_collector *collector, int argc,
                char **argv);
