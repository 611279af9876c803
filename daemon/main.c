/* main.c: vmatlasd entry point: configuration, then one-shot collection or the service. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/render.h"
#include "daemon/credentials.h"
#include "daemon/fdio.h"
#include "daemon/log.h"
#include "daemon/options.h"
#include "daemon/privsep.h"
#include "daemon/sandbox.h"
#include "daemon/service.h"
#include "vmatlas/collector.h"
#include "vmatlas/macros.h"

static uint64_t now_ms(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --once: one snapshot, printed as the /api/v1/processes?limit=10000&kthreads=include
 * document or as the metrics text, by the renderers the server uses. */
static int run_once(const struct vm_config *cfg, struct vm_collector *collector) {
    _cleanup_snapshot_ struct vm_snapshot *snap = NULL;
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    int r = vm_collector_scan(collector, NULL, &snap);
    if (r < 0) {
        fprintf(stderr, "<3>vmatlasd: scan failed: %s\n", strerror(-r));
        return 1;
    }
    if (cfg->format == OUTPUT_PROMETHEUS) {
        struct metrics_opts mo = {
            .top_k = cfg->metrics_top_k, .version = VMATLAS_VERSION, .now_ms = now_ms()};
        r = render_metrics(snap, &mo, &body, &len);
    } else {
        struct proc_query q;
        struct render_opts ro = {.redact_addresses = cfg->redact_addresses > 0};
        proc_query_init(&q);
        q.limit = PROC_QUERY_LIMIT_MAX;
        q.kthreads = PROC_KTHREADS_INCLUDE;
        r = render_processes(snap, &q, &ro, &body, &len);
    }
    if (r < 0) {
        fprintf(stderr, "<3>vmatlasd: rendering failed: %s\n", strerror(-r));
        return 1;
    }
    if ((r = write_all(STDOUT_FILENO, body, len)) < 0 ||
        (cfg->format == OUTPUT_JSON && (r = write_all(STDOUT_FILENO, "\n", 1)) < 0)) {
        fprintf(stderr, "<3>vmatlasd: writing the output failed: %s\n", strerror(-r));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct vm_config cfg;
    char err[512];
    int r;

    /* Snapshots are large blocks that come and go every interval: keep them in mmap'd chunks
     * so that freeing one returns its memory to the system. */
    (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);

    log_init();
    r = config_load(argc, argv, &cfg, err, sizeof(err));
    if (r != 0) {
        if (r < 0)
            fprintf(stderr, "vmatlasd: %s\nTry 'vmatlasd --help'.\n", err);
        config_free(&cfg);
        return r < 0 ? 2 : 0;
    }
    if (cfg.check_config) {
        struct credentials cred;
        if (credentials_load(&cfg, &cred, err, sizeof(err)) < 0) {
            fprintf(stderr, "vmatlasd: %s\n", err);
            config_free(&cfg);
            return 2;
        }
        credentials_free(&cred);
        printf("vmatlasd: configuration ok\n");
        config_free(&cfg);
        return 0;
    }

    struct vm_collector_options co = {
        .procfs_root = cfg.procfs_root,
        .sysfs_root = cfg.sysfs_root,
        .deep_budget_ns = config_deep_budget_ns(&cfg),
        .exited_max = cfg.exited_max,
        .residency = (enum vm_residency_mode)cfg.residency_source,
    };
    _cleanup_collector_ struct vm_collector *collector = NULL;
    r = vm_collector_new(&co, &collector);
    if (r < 0) {
        fprintf(stderr, "<3>vmatlasd: cannot open procfs root %s / sysfs root %s: %s\n",
                cfg.procfs_root ? cfg.procfs_root : "/proc",
                cfg.sysfs_root ? cfg.sysfs_root : "/sys", strerror(-r));
        config_free(&cfg);
        return 1;
    }

    /* The HTTP server takes up to 2048 connections (and fleet mode a socket a peer): the
     * default soft limit of 1024 descriptors is too low. The hard limit is the ceiling. */
    struct rlimit nofile;
    if (!cfg.once && getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (cfg.once)
        r = run_once(&cfg, collector);
    else if (cfg.privsep > 0 || (cfg.privsep < 0 && (geteuid() == 0 || sandbox_has_caps())))
        r = privsep_run(&cfg, TAKE_PTR(collector), argc, argv);
    else
        r = service_run(&cfg, collector, argc, argv);
    config_free(&cfg);
    return r;
}
