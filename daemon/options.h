/* options.h: the daemon's configuration, from built-in defaults, the config file (--config,
 * INI, keys named like the flags) and the command line, in that order of precedence. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_LISTEN_MAX 16
#define VM_RESET_PEAKS_MAX 32
#define VM_ALLOWED_HOSTS_MAX 32

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
    int redact_addresses;         /* --redact-addresses[=true|false]; -1 (unset): addresses are
                                   * null on non-loopback listeners only */
    char *auth_token_file;        /* --auth-token-file FILE: bearer token for every path but
                                   * /healthz and /readyz */
    bool allow_unauthenticated;   /* --allow-unauthenticated: non-loopback without a token */
    char *allowed_hosts[VM_ALLOWED_HOSTS_MAX]; /* --allowed-hosts NAME[,NAME...] */
    size_t nallowed_hosts;
    char *tls_cert, *tls_key;     /* --tls-cert FILE --tls-key FILE (PEM) */
    char *tls_client_ca;          /* --tls-client-ca FILE: require client certificates */
    int privsep;                  /* --privsep[=BOOL]; -1 (unset): on when started as root */
    int taskstats;                /* --taskstats[=BOOL]; -1 (unset): on for the live /proc */
    char *privsep_user;           /* --privsep-user NAME: the server process's user (nobody) */
    uint32_t exited_max;          /* --exited-max N: exited processes remembered (1000) */
    int residency_source;         /* --residency-source: enum vm_residency_mode (auto) */
    bool check_config;            /* --check-config: validate and exit */
    char *state_dir;              /* --state-dir DIR: peaks and exited ring survive restarts */
    char *reset_peaks[VM_RESET_PEAKS_MAX]; /* --reset-peaks all|BY|BY:KEY, repeatable */
    size_t nreset_peaks;
    char *peers;                  /* --peers URL,...: fleet mode (flags joined with ',') */
    char *peers_file;             /* --peers-file FILE: one peer URL a line, '#' comments */
    uint64_t peer_timeout_ms;     /* --peer-timeout SECONDS (default 5) */
    char *peer_ca_file;           /* --peer-ca-file FILE: CA bundle for https peers */
};

/* Fill *cfg from defaults, the config file named by --config (if any) and argv. Returns 0 to
 * run, 1 when --help or --version was printed (exit 0), or -EINVAL after writing a message
 * naming the flag or key into err (exit 2). *cfg must be released with config_free(). */
int config_load(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen);

/* Free the strings of cfg (not cfg itself). */
void config_free(struct vm_config *cfg);

/* A --reset-peaks value: "all" (by -1, key NULL), "BY" (every group of that way: key NULL)
 * or "BY:KEY" (key points into spec; empty for the null key). BY is comm, unit, cgroup, user
 * or none. Returns 0 or -EINVAL. */
int reset_spec_parse(const char *spec, int *ret_by, const char **ret_key);

/* The per-scan CPU budget of the per-VMA tier, in ns: budget share of the interval. */
uint64_t config_deep_budget_ns(const struct vm_config *cfg);
