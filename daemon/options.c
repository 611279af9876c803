/* options.c: flags and config-file keys, one table for both. */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fleet_url.h"
#include "collector/parse.h"
#include "daemon/fleet.h"
#include "daemon/options.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"
#include "vmatlas/snapshot.h"

#define DEFAULT_LISTEN "127.0.0.1:9477"
#define INTERVAL_MAX_MS (24ull * 3600 * 1000)

typedef int (*option_setter)(struct vm_config *cfg, const char *value, char *err, size_t errlen,
                             const char *name);

struct option_def {
    const char *name;   /* flag without "--", and the config-file key */
    int has_arg;        /* no_argument, required_argument, optional_argument */
    option_setter set;  /* NULL: handled in config_load (help, version, config) */
    bool in_file;       /* may appear in the config file */
    const char *arg;    /* argument name for --help */
    const char *help;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int set_str(char **slot, const char *value, char *err, size_t errlen, const char *name) {
    if (!value || !*value)
        return fail(err, errlen, "%s: a value is required", name);
    char *s = strdup(value);
    if (!s)
        return fail(err, errlen, "%s: out of memory", name);
    free(*slot);
    *slot = s;
    return 0;
}

/* A decimal number with up to `scale_digits` fractional digits, scaled: "2.5" -> 2500 for 3. */
static int parse_decimal(const char *s, unsigned scale_digits, uint64_t *ret) {
    const char *dot = strchr(s, '.');
    size_t ilen = dot ? (size_t)(dot - s) : strlen(s);
    uint64_t ip = 0, fp = 0, scale = 1;
    if (ilen > 0 && parse_u64(s, ilen, &ip) < 0)
        return -EINVAL;
    for (unsigned i = 0; i < scale_digits; i++)
        scale *= 10;
    if (dot) {
        size_t flen = strlen(dot + 1);
        if (flen == 0 || flen > scale_digits || parse_u64(dot + 1, flen, &fp) < 0)
            return -EINVAL;
        for (size_t i = flen; i < scale_digits; i++)
            fp *= 10;
    } else if (ilen == 0) {
        return -EINVAL;
    }
    if (ip > UINT64_MAX / scale)
        return -ERANGE;
    *ret = ip * scale + fp;
    return 0;
}

static int set_interval(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                        const char *name) {
    uint64_t ms;
    if (!v || parse_decimal(v, 3, &ms) < 0 || ms < 100 || ms > INTERVAL_MAX_MS)
        return fail(err, errlen, "%s must be a number of seconds from 0.1 to 86400, not \"%s\"",
                    name, v ? v : "");
    cfg->interval_ms = ms;
    return 0;
}

static int set_procfs_root(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                           const char *name) {
    return set_str(&cfg->procfs_root, v, err, errlen, name);
}

static int set_sysfs_root(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                          const char *name) {
    return set_str(&cfg->sysfs_root, v, err, errlen, name);
}

static int set_once(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                    const char *name) {
    (void)v, (void)err, (void)errlen, (void)name;
    cfg->once = true;
    return 0;
}

static int set_check_config(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                            const char *name) {
    (void)v, (void)err, (void)errlen, (void)name;
    cfg->check_config = true;
    return 0;
}

static int set_format(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                      const char *name) {
    if (v && strcmp(v, "json") == 0)
        cfg->format = OUTPUT_JSON;
    else if (v && strcmp(v, "prometheus") == 0)
        cfg->format = OUTPUT_PROMETHEUS;
    else
        return fail(err, errlen, "%s must be json or prometheus, not \"%s\"", name, v ? v : "");
    return 0;
}

static int set_top_k(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                     const char *name) {
    uint64_t n;
    if (!v || parse_u64(v, strlen(v), &n) < 0 || n > 10000)
        return fail(err, errlen, "%s must be an integer from 0 to 10000, not \"%s\"", name,
                    v ? v : "");
    cfg->metrics_top_k = (uint32_t)n;
    return 0;
}

static int set_exited_max(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                          const char *name) {
    uint64_t n;
    if (!v || parse_u64(v, strlen(v), &n) < 0 || n < 1 || n > VM_EXITED_MAX)
        return fail(err, errlen, "%s must be an integer from 1 to %u, not \"%s\"", name,
                    VM_EXITED_MAX, v ? v : "");
    cfg->exited_max = (uint32_t)n;
    return 0;
}

static int set_residency(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                         const char *name) {
    static const char *const modes[] = {"auto", "pagemap_scan", "pagemap", "smaps"};
    for (size_t i = 0; v && i < ARRAY_SIZE(modes); i++)
        if (strcmp(v, modes[i]) == 0) {
            cfg->residency_source = (int)i; /* enum vm_residency_mode, same order */
            return 0;
        }
    return fail(err, errlen, "%s must be auto, pagemap_scan, pagemap or smaps, not \"%s\"", name,
                v ? v : "");
}

static int set_budget(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                      const char *name) {
    uint64_t bp;
    if (!v || parse_decimal(v, 2, &bp) < 0 || bp > 10000)
        return fail(err, errlen, "%s must be a percentage from 0 to 100, not \"%s\"", name,
                    v ? v : "");
    cfg->deep_walk_budget_bp = (uint32_t)bp;
    return 0;
}

static int parse_bool(const char *v, bool *ret) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (strcmp(v, yes[i]) == 0)
            return *ret = true, 0;
        if (strcmp(v, no[i]) == 0)
            return *ret = false, 0;
    }
    return -EINVAL;
}

static int set_flag(bool *slot, const char *v, char *err, size_t errlen, const char *name) {
    if (!v) {
        *slot = true;
        return 0;
    }
    if (parse_bool(v, slot) < 0)
        return fail(err, errlen, "%s must be true or false, not \"%s\"", name, v);
    return 0;
}

static int set_redact(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                      const char *name) {
    bool b = false;
    int r = set_flag(&b, v, err, errlen, name);
    if (r == 0)
        cfg->redact_addresses = b;
    return r;
}

static int set_allow_unauth(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                            const char *name) {
    return set_flag(&cfg->allow_unauthenticated, v, err, errlen, name);
}

static int set_file(char **slot, const char *v, char *err, size_t errlen, const char *name) {
    if (!v || !*v)
        return fail(err, errlen, "%s: a file name is required", name);
    return set_str(slot, v, err, errlen, name);
}

static int set_token_file(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                          const char *name) {
    return set_file(&cfg->auth_token_file, v, err, errlen, name);
}

static int set_tls_cert(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                        const char *name) {
    return set_file(&cfg->tls_cert, v, err, errlen, name);
}

static int set_tls_key(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                       const char *name) {
    return set_file(&cfg->tls_key, v, err, errlen, name);
}

static int set_tls_client_ca(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                             const char *name) {
    return set_file(&cfg->tls_client_ca, v, err, errlen, name);
}

static int set_privsep(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                       const char *name) {
    bool b = false;
    int r = set_flag(&b, v, err, errlen, name);
    if (r == 0)
        cfg->privsep = b;
    return r;
}

static int set_taskstats(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                         const char *name) {
    bool b = false;
    int r = set_flag(&b, v, err, errlen, name);
    if (r == 0)
        cfg->taskstats = b;
    return r;
}

static int set_privsep_user(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                            const char *name) {
    if (!v || !*v || strlen(v) > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz"
                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
                                              strlen(v))
        return fail(err, errlen, "%s must be a user name, not \"%s\"", name, v ? v : "");
    return set_str(&cfg->privsep_user, v, err, errlen, name);
}

/* NAME[,NAME...]: DNS names (letters, digits, '-', '.') accepted in the Host header. */
static int set_allowed_hosts(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                             const char *name) {
    const char *p = v ? v : "";
    do {
        size_t n = strcspn(p, ",");
        if (n == 0 || n > 253 || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-.") < n)
            return fail(err, errlen, "%s: \"%.*s\" is not a host name", name, (int)n, p);
        if (cfg->nallowed_hosts >= VM_ALLOWED_HOSTS_MAX)
            return fail(err, errlen, "%s: at most %d names", name, VM_ALLOWED_HOSTS_MAX);
        char *s = strndup(p, n);
        if (!s)
            return fail(err, errlen, "%s: out of memory", name);
        cfg->allowed_hosts[cfg->nallowed_hosts++] = s;
        p += n;
    } while (*p++ == ',');
    return 0;
}

static int set_state_dir(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                         const char *name) {
    if (!v || v[0] != '/')
        return fail(err, errlen, "%s must be an absolute directory path, not \"%s\"", name,
                    v ? v : "");
    return set_str(&cfg->state_dir, v, err, errlen, name);
}

int reset_spec_parse(const char *spec, int *ret_by, const char **ret_key) {
    if (strcmp(spec, "all") == 0) {
        *ret_by = -1;
        *ret_key = NULL;
        return 0;
    }
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int by = 0; by < _VM_GROUP_MAX; by++) {
        const char *name = vm_group_by_name(by);
        if (strlen(name) == n && strncmp(spec, name, n) == 0) {
            *ret_by = by;
            *ret_key = colon ? colon + 1 : NULL;
            return 0;
        }
    }
    return -EINVAL;
}

static int set_reset_peaks(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                           const char *name) {
    int by;
    const char *key;
    if (!v || reset_spec_parse(v, &by, &key) < 0)
        return fail(err, errlen,
                    "%s must be all, BY or BY:KEY with BY one of comm, unit, cgroup, user, "
                    "none, not \"%s\"", name, v ? v : "");
    if (cfg->nreset_peaks >= VM_RESET_PEAKS_MAX)
        return fail(err, errlen, "%s: at most %d", name, VM_RESET_PEAKS_MAX);
    char *s = strdup(v);
    if (!s)
        return fail(err, errlen, "%s: out of memory", name);
    cfg->reset_peaks[cfg->nreset_peaks++] = s;
    return 0;
}

/* ADDR:PORT with a numeric IPv4 address or a bracketed IPv6 one; port 0 picks a free port. */
static int set_listen(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                      const char *name) {
    char host[128];
    const char *colon = v ? strrchr(v, ':') : NULL;
    if (!colon || colon == v)
        return fail(err, errlen, "%s must be ADDR:PORT (e.g. 127.0.0.1:9477 or [::1]:9477), not \"%s\"",
                    name, v ? v : "");
    size_t hlen = (size_t)(colon - v);
    const char *h = v;
    if (v[0] == '[') {
        if (hlen < 3 || v[hlen - 1] != ']')
            return fail(err, errlen, "%s: bad IPv6 address in \"%s\"", name, v);
        h = v + 1;
        hlen -= 2;
    }
    uint64_t port;
    if (hlen >= sizeof(host) || parse_u64(colon + 1, strlen(colon + 1), &port) < 0 || port > 65535)
        return fail(err, errlen, "%s: bad port in \"%s\" (0-65535)", name, v);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return fail(err, errlen, "%s: \"%s\" is not a numeric IP address", name, host);
    freeaddrinfo(res);
    if (cfg->nlisten >= VM_LISTEN_MAX)
        return fail(err, errlen, "%s: at most %d addresses", name, VM_LISTEN_MAX);
    char *s = strdup(v);
    if (!s)
        return fail(err, errlen, "%s: out of memory", name);
    cfg->listen[cfg->nlisten++] = s;
    return 0;
}

/* --peers URL,...: checked now (each URL, no node twice); repeated flags add up. */
static int set_peers(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                     const char *name) {
    struct fleet_url *list = NULL;
    size_t n = 0;
    char msg[400];
    if (!v || !*v)
        return fail(err, errlen, "%s: a value is required", name);
    if (cfg->peers && fleet_urls_parse(cfg->peers, strlen(cfg->peers), name, &list, &n, msg,
                                       sizeof(msg)) < 0) {
        fleet_urls_free(list, n);
        return fail(err, errlen, "%s: %s", name, msg);
    }
    int r = fleet_urls_parse(v, strlen(v), name, &list, &n, msg, sizeof(msg));
    fleet_urls_free(list, n);
    if (r < 0)
        return fail(err, errlen, "%s", r == -ENOMEM ? "out of memory" : msg);
    char *joined = NULL;
    if (asprintf(&joined, "%s%s%s", cfg->peers ? cfg->peers : "", cfg->peers ? "," : "", v) < 0)
        return fail(err, errlen, "%s: out of memory", name);
    free(cfg->peers);
    cfg->peers = joined;
    return 0;
}

static int set_peers_file(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                          const char *name) {
    return set_str(&cfg->peers_file, v, err, errlen, name);
}

static int set_peer_ca_file(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                            const char *name) {
    return set_str(&cfg->peer_ca_file, v, err, errlen, name);
}

static int set_peer_timeout(struct vm_config *cfg, const char *v, char *err, size_t errlen,
                            const char *name) {
    uint64_t ms;
    if (!v || parse_decimal(v, 3, &ms) < 0 || ms < VM_FLEET_TIMEOUT_MIN_MS ||
        ms > VM_FLEET_TIMEOUT_MAX_MS)
        return fail(err, errlen, "%s must be a number of seconds from 0.1 to 300, not \"%s\"",
                    name, v ? v : "");
    cfg->peer_timeout_ms = ms;
    return 0;
}

static const struct option_def options[] = {
    {"config", required_argument, NULL, false, "FILE", "read settings from FILE (INI, keys named like the flags)"},
    {"listen", required_argument, set_listen, true, "ADDR:PORT", "listen here (repeatable; default " DEFAULT_LISTEN ", port 0 picks one)"},
    {"interval", required_argument, set_interval, true, "SECONDS", "seconds between scans (default 10)"},
    {"procfs-root", required_argument, set_procfs_root, true, "DIR", "procfs to read (default /proc)"},
    {"sysfs-root", required_argument, set_sysfs_root, true, "DIR", "sysfs to read (default /sys)"},
    {"once", no_argument, set_once, false, NULL, "collect one snapshot, print it and exit"},
    {"format", required_argument, set_format, false, "json|prometheus", "output of --once (default json)"},
    {"metrics-top-k", required_argument, set_top_k, true, "N", "per-process series for the top N by RSS (default 20, 0 = none)"},
    {"deep-walk-budget", required_argument, set_budget, true, "PERCENT", "CPU share of one core for per-VMA reads (default 5)"},
    {"residency-source", required_argument, set_residency, true, "auto|pagemap_scan|pagemap|smaps", "where page residency comes from (default auto: PAGEMAP_SCAN, else pagemap)"},
    {"exited-max", required_argument, set_exited_max, true, "N", "exited processes remembered with their peaks (default 1000)"},
    {"redact-addresses", optional_argument, set_redact, true, "[=BOOL]", "serve addresses as null (default: on non-loopback listeners only)"},
    {"auth-token-file", required_argument, set_token_file, true, "FILE", "require \"Authorization: Bearer <token in FILE>\" (not for /healthz, /readyz); also sent to fleet peers"},
    {"allow-unauthenticated", optional_argument, set_allow_unauth, true, "[=BOOL]", "serve a non-loopback address without a token"},
    {"allowed-hosts", required_argument, set_allowed_hosts, true, "NAME[,NAME]", "Host header names allowed besides IP addresses and localhost"},
    {"tls-cert", required_argument, set_tls_cert, true, "FILE", "serve HTTPS with this PEM certificate (chain)"},
    {"tls-key", required_argument, set_tls_key, true, "FILE", "the PEM private key of --tls-cert"},
    {"tls-client-ca", required_argument, set_tls_client_ca, true, "FILE", "require client certificates signed by this PEM CA"},
    {"taskstats", optional_argument, set_taskstats, true, "[=BOOL]", "hear process exits from the kernel (taskstats; default: on for the live /proc)"},
    {"privsep", optional_argument, set_privsep, true, "[=BOOL]", "collector and HTTP server in two processes (default: when started as root or with capabilities)"},
    {"privsep-user", required_argument, set_privsep_user, true, "NAME", "user of the HTTP server process when started as root (default nobody)"},
    {"state-dir", required_argument, set_state_dir, true, "DIR", "keep group peaks and exited processes here across restarts"},
    {"reset-peaks", required_argument, set_reset_peaks, true, "all|BY[:KEY]", "forget observed group peaks at start (repeatable; BY: comm, unit, cgroup, user, none)"},
    {"peers", required_argument, set_peers, true, "URL,...", "fleet mode: merge these vmatlasd peers (http[s]://HOST:PORT[/PATH])"},
    {"peers-file", required_argument, set_peers_file, true, "FILE", "fleet mode: peers from FILE, one URL a line (re-read when it changes)"},
    {"peer-timeout", required_argument, set_peer_timeout, true, "SECONDS", "time for each peer's fetch, connect included (default 5)"},
    {"peer-ca-file", required_argument, set_peer_ca_file, true, "FILE", "CA bundle to verify https peers with (default: the system's)"},
    {"check-config", no_argument, set_check_config, false, NULL, "validate the configuration and exit"},
    {"version", no_argument, NULL, false, NULL, "print the version and exit"},
    {"help", no_argument, NULL, false, NULL, "print this help and exit"},
};

static const struct option_def *find_option(const char *name) {
    for (size_t i = 0; i < ARRAY_SIZE(options); i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static void print_help(const char *prog) {
    printf("Usage: %s [OPTION]...\n"
           "Collect the address-space layout of every process and serve it as JSON and\n"
           "Prometheus metrics.\n\n",
           prog);
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        const struct option_def *o = &options[i];
        char left[64];
        (void)snprintf(left, sizeof(left), "--%s%s%s", o->name,
                       o->arg && o->has_arg == required_argument ? " " : "", o->arg ? o->arg : "");
        printf("  %-32s %s\n", left, o->help);
    }
    printf("\nEvery option but --config, --once, --format, --check-config, --help and --version\n"
           "can be set in the config file as \"name = value\".\n");
}

struct file_ctx {
    struct vm_config *cfg;
    char *err;
    size_t errlen;
    int r;
};

static int file_handler(void *user, const char *section, const char *name, const char *value) {
    struct file_ctx *ctx = user;
    char key[96];
    if (ctx->r < 0)
        return 0;
    if (section[0] && strcmp(section, "vmatlasd") != 0) {
        ctx->r = fail(ctx->err, ctx->errlen, "config: unknown section [%s]", section);
        return 0;
    }
    const struct option_def *o = find_option(name);
    (void)snprintf(key, sizeof(key), "config key \"%s\"", name);
    if (!o || !o->in_file) {
        ctx->r = fail(ctx->err, ctx->errlen, "config: unknown key \"%s\"", name);
        return 0;
    }
    ctx->r = o->set(ctx->cfg, value, ctx->err, ctx->errlen, key);
    return ctx->r == 0;
}

static void set_defaults(struct vm_config *cfg) {
    *cfg = (struct vm_config){
        .interval_ms = 10000,
        .metrics_top_k = 20,
        .deep_walk_budget_bp = 500,
        .exited_max = VM_EXITED_DEFAULT,
        .redact_addresses = -1,
        .privsep = -1,
        .taskstats = -1,
        .format = OUTPUT_JSON,
        .peer_timeout_ms = VM_FLEET_TIMEOUT_DEFAULT_MS,
    };
}

int config_load(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen) {
    struct option longopts[ARRAY_SIZE(options) + 1];
    const char *prog = argc > 0 ? argv[0] : "vmatlasd";
    int r;

    set_defaults(cfg);
    for (size_t i = 0; i < ARRAY_SIZE(options); i++)
        longopts[i] = (struct option){options[i].name, options[i].has_arg, NULL, (int)i};
    longopts[ARRAY_SIZE(options)] = (struct option){0};

    /* Pass 1: --help, --version and --config; the file is applied before the other flags. */
    opterr = 0;
    optind = 1;
    for (;;) {
        int idx = getopt_long(argc, argv, "", longopts, NULL);
        if (idx == -1)
            break;
        if (idx == '?' || idx == ':')
            return fail(err, errlen, "unknown option or missing value: %s", argv[optind - 1]);
        const char *name = options[idx].name;
        if (strcmp(name, "help") == 0) {
            print_help(prog);
            return 1;
        }
        if (strcmp(name, "version") == 0) {
            printf("vmatlasd %s\n", VMATLAS_VERSION);
            return 1;
        }
        if (strcmp(name, "config") == 0 && (r = set_str(&cfg->config, optarg, err, errlen,
                                                       "--config")) < 0)
            return r;
    }
    if (optind < argc)
        return fail(err, errlen, "unexpected argument: %s", argv[optind]);

    if (cfg->config) {
        struct file_ctx ctx = {cfg, err, errlen, 0};
        int line = ini_parse(cfg->config, file_handler, &ctx);
        if (ctx.r < 0)
            return ctx.r;
        if (line == -1)
            return fail(err, errlen, "--config: cannot open %s: %s", cfg->config,
                        strerror(errno));
        if (line != 0)
            return fail(err, errlen, "config %s: syntax error on line %d", cfg->config, line);
    }

    /* Pass 2: every other flag, overriding the file (--listen flags replace the file's list). */
    bool listen_from_args = false, peers_from_args = false;
    optind = 1;
    for (;;) {
        int idx = getopt_long(argc, argv, "", longopts, NULL);
        if (idx == -1)
            break;
        const struct option_def *o = &options[idx];
        if (!o->set)
            continue;
        char flag[64];
        (void)snprintf(flag, sizeof(flag), "--%s", o->name);
        if (o->set == set_listen && !listen_from_args) {
            for (size_t i = 0; i < cfg->nlisten; i++)
                free(cfg->listen[i]);
            cfg->nlisten = 0;
            listen_from_args = true;
        }
        if (o->set == set_peers && !peers_from_args) { /* --peers replace the file's peers */
            free(cfg->peers);
            cfg->peers = NULL;
            peers_from_args = true;
        }
        if ((r = o->set(cfg, optarg, err, errlen, flag)) < 0)
            return r;
    }
    if (cfg->nlisten == 0 && (r = set_listen(cfg, DEFAULT_LISTEN, err, errlen, "--listen")) < 0)
        return r;
    if (!cfg->privsep_user && (r = set_str(&cfg->privsep_user, "nobody", err, errlen,
                                           "--privsep-user")) < 0)
        return r;
    if (!cfg->tls_cert != !cfg->tls_key)
        return fail(err, errlen, "%s needs %s too", cfg->tls_cert ? "tls-cert" : "tls-key",
                    cfg->tls_cert ? "tls-key" : "tls-cert");
    if (cfg->tls_client_ca && !cfg->tls_cert)
        return fail(err, errlen, "tls-client-ca needs tls-cert and tls-key");
    return fleet_config_check(cfg, err, errlen);
}

void config_free(struct vm_config *cfg) {
    free(cfg->config);
    free(cfg->procfs_root);
    free(cfg->sysfs_root);
    free(cfg->state_dir);
    free(cfg->auth_token_file);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_client_ca);
    free(cfg->privsep_user);
    cfg->privsep_user = NULL;
    for (size_t i = 0; i < cfg->nallowed_hosts; i++)
        free(cfg->allowed_hosts[i]);
    cfg->nallowed_hosts = 0;
    cfg->auth_token_file = cfg->tls_cert = cfg->tls_key = cfg->tls_client_ca = NULL;
    for (size_t i = 0; i < cfg->nlisten; i++)
        free(cfg->listen[i]);
    cfg->nlisten = 0;
    for (size_t i = 0; i < cfg->nreset_peaks; i++)
        free(cfg->reset_peaks[i]);
    cfg->nreset_peaks = 0;
    cfg->config = cfg->procfs_root = cfg->sysfs_root = cfg->state_dir = NULL;
    free(cfg->peers), free(cfg->peers_file), free(cfg->peer_ca_file);
    cfg->peers = cfg->peers_file = cfg->peer_ca_file = NULL;
}

uint64_t config_deep_budget_ns(const struct vm_config *cfg) {
    /* interval_ms * 1e6 ns * bp / 10000 */
    return cfg->interval_ms * 100ull * cfg->deep_walk_budget_bp;
}
