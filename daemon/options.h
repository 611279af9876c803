/* options.h: the daemon's configuration, from built-in defaults, the config file (--config,
 * INI, keys named like the flags) and the command line, in that order of precedence. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_LISTEN_MAX 16

enum output_format { OUTPUT_JSON, OUTPUT_PROMETHEUS };

struct vm_config {
    char *config;                 /* --config FILE */
    char *listen[VM_LISTEN_MAX];  /* --listen ADDR:PORT, repeatable; default 127.0.0.1:9477 */
    size_t nlisten;
    uint64_t interval_ms;         /* --interval SECONDS (default 10) */
    char *procfs_root;            /* --procfs-root DIR (default /proc) */
    char *sysfs_root;             /* --sysfs-root DIR (default /sys) */
    bool once;                    /* --once */
    enum output_format format;    /* --format json|prometheus (with --once) */
    uint32_t metrics_top_k;       /* --metrics-top-k N (default 20) */
    uint32_t deep_walk_budget_bp; /* --deep-walk-budget PERCENT, in basis points (default 500) */
    bool redact_addresses;        /* --redact-addresses[=true|false] */
    uint32_t exited_max;          /* --exited-max N: exited processes remembered (1000) */
    int residency_source;         /* --residency-source: enum vm_residency_mode (auto) */
    bool check_config;            /* --check-config: validate and exit */
    char *peers;                  /* --peers URL,...: fleet mode (flags joined with ',') */
    char *peers_file;             /* --peers-file FILE: one peer URL a line, '#' comments */
    uint64_t peer_timeout_ms;     /* --peer-timeout SECONDS (default 5) */
    char *peer_ca_file;           /* --peer-ca-file FILE: CA bundle for https peers */
    char *auth_token_file;        /* --auth-token-file FILE: bearer token (sent to peers) */
};

/* Fill *cfg from defaults, the config file named by --config (if any) and argv. Returns 0 to
 * run, 1 when --help or --version was printed (exit 0), or -EINVAL after writing a message
 * naming the flag or key into err (exit 2). *cfg must be released with config_free(). */
int config_load(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen);

/* Free the strings of cfg (not cfg itself). */
void config_free(struct vm_config *cfg);

/* The per-scan CPU budget of the per-VMA tier, in ns: budget share of the interval. */
uint64_t config_deep_budget_ns(const struct vm_config *cfg);
