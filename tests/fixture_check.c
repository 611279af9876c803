/* fixture_check.c: run the collector and the renderers over one fixture case
 * (tests/fixtures/<case>/{proc,sys}) and compare with the case's expected.json and
 * expected.prom. With --update it writes them instead (review the diff before committing).
 *
 * expected.json holds {"processes": the /api/v1/processes?limit=10000&kthreads=include
 * document, "details": {pid: process detail with its "vmas"}, "node": the node facts}. Fields
 * that depend on when the test runs (collected_at, observed_rss_max_at, smaps_collected_at,
 * scan timings) are replaced by "<time>" or dropped before comparing. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/render.h"
#include "vmatlas/collector.h"
#include "vmatlas/state.h"
#include "vmatlas/macros.h"

static void blank_times(json_t *v) {
    const char *key;
    json_t *child;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, child) {
            if ((strcmp(key, "collected_at") == 0 || strcmp(key, "observed_rss_max_at") == 0 ||
                 strcmp(key, "smaps_collected_at") == 0 ||
                 strcmp(key, "observed_rss_peak_at") == 0) &&
                json_is_string(child))
                json_object_set_new(v, key, json_string("<time>"));
            else
                blank_times(child);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child) blank_times(child);
    }
}

/* Metrics that measure the run itself. */
static bool volatile_metric(const char *line) {
    static const char *const prefixes[] = {
        "vmatlas_scan_duration_seconds", "vmatlas_scan_cpu_seconds",
        "vmatlas_scan_deep_cpu_seconds", "vmatlas_snapshot_timestamp_seconds",
        "vmatlas_snapshot_age_seconds",
    };
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(line, prefixes[i], n) == 0 && (line[n] == ' ' || line[n] == '{'))
            return true;
    }
    return false;
}

static char *filter_metrics(const char *text) {
    size_t len = strlen(text);
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (!volatile_metric(p)) {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = '\0';
    return out;
}

static json_t *build_expected(const struct vm_snapshot *s) {
    struct proc_query q;
    struct render_opts ro = {0};
    _cleanup_free_ char *body = NULL;
    size_t len;
    proc_query_init(&q);
    q.limit = PROC_QUERY_LIMIT_MAX;
    q.kthreads = PROC_KTHREADS_INCLUDE;
    if (render_processes(s, &q, &ro, &body, &len) < 0)
        return NULL;
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *details = json_object();
    const struct vm_process *procs = vm_snapshot_procs(s);
    for (uint32_t i = 0; i < s->nprocs; i++) {
        json_t *d = render_process_detail(s, &procs[i], &ro);
        json_t *vmas = json_array();
        const struct vm_vma *v = vm_snapshot_vmas(s, &procs[i]);
        for (uint32_t k = 0; k < procs[i].vma_n; k++)
            json_array_append_new(vmas, render_vma(s, &v[k], &ro));
        json_object_set_new(d, "vmas", vmas);
        char *res = NULL;
        size_t rlen;
        if (render_residency_doc(s, &procs[i], &ro, &res, &rlen) == 0) {
            json_object_set_new(d, "residency_doc", json_loadb(res, rlen, 0, NULL));
            free(res);
        }
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", procs[i].pid);
        json_object_set_new(details, pid, d);
    }
    const struct vm_node *n = &s->node;
    json_t *node = json_pack("{s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:i, s:i, s:I, s:I}",
                             "hostname", vm_snapshot_str(s, n->hostname),
                             "boot_id", vm_snapshot_str(s, n->boot_id),
                             "kernel", vm_snapshot_str(s, n->kernel),
                             "thp_enabled", vm_snapshot_str(s, n->thp_enabled),
                             "address_bits", n->address_bits,
                             "legacy_va_layout", n->legacy_va_layout,
                             "randomize_va_space", n->randomize_va_space,
                             "nvmas", (int)s->nvmas,
                             "max_map_count", (json_int_t)n->max_map_count,
                             "btime", (json_int_t)n->btime);
    json_t *hiwater = json_object();
    for (int by = 0; by < _VM_GROUP_MAX; by++)
        json_object_set_new(hiwater, vm_group_by_name(by), render_hiwater(s, by));
    json_t *all = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "processes", doc, "details", details,
                            "node", node, "hugepages", render_hugepages(s), "hiwater", hiwater,
                            "exited", render_exited(s));
    blank_times(all);
    return all;
}

static int write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "w");
    if (!f || fwrite(data, 1, len, f) != len) {
        if (f)
            fclose(f);
        return -errno;
    }
    return fclose(f) == 0 ? 0 : -errno;
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CASE_DIR [--update | --state FILE]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    bool update = argc > 2 && strcmp(argv[2], "--update") == 0;
    /* --state FILE: write the case's state file (the fuzz corpus of vm_state_decode). */
    const char *state_out = argc > 3 && strcmp(argv[2], "--state") == 0 ? argv[3] : NULL;
    char proc[4096], sys[4096], path[4200];
    snprintf(proc, sizeof(proc), "%s/proc", dir);
    snprintf(sys, sizeof(sys), "%s/sys", dir);

    struct vm_collector_options co = {
        .procfs_root = proc, .sysfs_root = sys, .deep_budget_ns = UINT64_MAX};
    _cleanup_collector_ struct vm_collector *c = NULL;
    int r = vm_collector_new(&co, &c);
    if (r < 0) {
        fprintf(stderr, "%s: collector: %s\n", dir, strerror(-r));
        return 1;
    }
    _cleanup_snapshot_ struct vm_snapshot *s = NULL;
    r = vm_collector_scan(c, NULL, &s);
    if (r < 0) {
        fprintf(stderr, "%s: scan: %s\n", dir, strerror(-r));
        return 1;
    }
    if (vm_snapshot_validate(s, s->size) < 0) {
        fprintf(stderr, "%s: the snapshot does not validate\n", dir);
        return 1;
    }

    if (state_out) {
        _cleanup_free_ void *state = NULL;
        size_t slen;
        if ((r = vm_state_encode(s, &state, &slen)) < 0 ||
            (r = write_file(state_out, (const char *)state, slen)) < 0) {
            fprintf(stderr, "%s: %s\n", state_out, strerror(-r));
            return 1;
        }
        printf("%s: state written (%zu bytes)\n", state_out, slen);
        return 0;
    }

    json_t *got = build_expected(s);
    struct metrics_opts mo = {.top_k = 20, .version = "fixture", .now_ms = s->collected_at_ms};
    _cleanup_free_ char *prom = NULL, *prom_f = NULL, *got_text = NULL;
    size_t plen;
    if (!got || render_metrics(s, &mo, &prom, &plen) < 0 || !(prom_f = filter_metrics(prom))) {
        fprintf(stderr, "%s: rendering failed\n", dir);
        return 1;
    }
    got_text = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));

    if (update) {
        snprintf(path, sizeof(path), "%s/expected.json", dir);
        r = write_file(path, got_text, strlen(got_text));
        snprintf(path, sizeof(path), "%s/expected.prom", dir);
        if (r == 0)
            r = write_file(path, prom_f, strlen(prom_f));
        json_decref(got);
        if (r < 0) {
            fprintf(stderr, "%s: %s\n", path, strerror(-r));
            return 1;
        }
        printf("%s: expected files written\n", dir);
        return 0;
    }

    int failed = 0;
    snprintf(path, sizeof(path), "%s/expected.json", dir);
    json_error_t jerr;
    json_t *want = json_load_file(path, 0, &jerr);
    if (!want) {
        fprintf(stderr, "%s: %s\n", path, jerr.text);
        failed = 1;
    } else if (!json_equal(want, got)) {
        fprintf(stderr, "%s: JSON differs from expected.json; got:\n%s\n", dir, got_text);
        failed = 1;
    }
    snprintf(path, sizeof(path), "%s/expected.prom", dir);
    _cleanup_free_ char *want_prom = read_text(path);
    if (!want_prom || strcmp(want_prom, prom_f) != 0) {
        fprintf(stderr, "%s: metrics differ from expected.prom; got:\n%s\n", dir, prom_f);
        failed = 1;
    }
    json_decref(want);
    json_decref(got);
    if (!failed)
        printf("%s: ok (%u processes, %llu VMAs)\n", dir, s->nprocs,
               (unsigned long long)s->nvmas);
    return failed;
}
