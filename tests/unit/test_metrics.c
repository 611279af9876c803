/* test_metrics.c: the Prometheus text exposition (0.0.4) rendered from a hand-made snapshot:
 * HELP and TYPE before every family, contiguous families, label escaping, valid UTF-8, no
 * timestamps, the top-K cap; and `promtool check metrics` when promtool is installed. */
#include <stdbool.h>
#include <sys/wait.h>

#include "api/render.h"
#include "api/utf8.h"
#include "render_fixture.h"
#include "test.h"

static char *metrics(const struct vm_snapshot *s, uint32_t top_k, uint64_t now_ms) {
    struct metrics_opts o = {.top_k = top_k, .version = "0.1.0", .now_ms = now_ms};
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_metrics(s, &o, &body, &len), 0);
    CHECK(body != NULL);
    if (body)
        CHECK_EQ_U64(strlen(body), len);
    return body;
}

static bool has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}
#define CHECK_LINE(text, line)                                                                     \
    do {                                                                                           \
        if (!has_line((text), (line))) {                                                           \
            fprintf(stderr, "%s:%d: line missing: %s\n", __FILE__, __LINE__, line);                \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

static size_t count_prefix(const char *text, const char *prefix) {
    size_t n = 0, plen = strlen(prefix);
    for (const char *p = text; *p;) {
        if (strncmp(p, prefix, plen) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* A sample line: name, optional {label="value",...} with only \\ \" \n escapes and valid
 * UTF-8, one space, a number, nothing after (no timestamp). Returns the name length or 0. */
static size_t check_sample(const char *line, size_t len) {
    size_t i = 0;
    while (i < len && (line[i] == '_' || (line[i] >= 'a' && line[i] <= 'z') ||
                       (line[i] >= '0' && line[i] <= '9')))
        i++;
    size_t name_len = i;
    if (name_len == 0)
        return 0;
    if (i < len && line[i] == '{') {
        i++;
        while (i < len && line[i] != '}') {
            while (i < len && line[i] != '=')
                if (!(line[i] == '_' || (line[i] >= 'a' && line[i] <= 'z')))
                    return 0;
                else
                    i++;
            if (i + 1 >= len || line[i + 1] != '"')
                return 0;
            i += 2;
            size_t vstart = i;
            while (i < len && line[i] != '"') {
                if (line[i] == '\\') {
                    if (i + 1 >= len || !strchr("\\\"n", line[i + 1]))
                        return 0;
                    i++;
                }
                i++;
            }
            if (i >= len || !utf8_valid(line + vstart, i - vstart))
                return 0;
            i++; /* closing quote */
            if (i < len && line[i] == ',')
                i++;
        }
        if (i >= len)
            return 0;
        i++; /* '}' */
    }
    if (i >= len || line[i] != ' ')
        return 0;
    i++;
    size_t vstart = i;
    while (i < len && ((line[i] >= '0' && line[i] <= '9') || line[i] == '.'))
        i++;
    if (i == vstart || i != len)
        return 0; /* a value, and nothing after it */
    return name_len;
}

/* Structure of the whole text: each family's HELP then TYPE (gauge or counter, counters end
 * in _total, everything starts with vmatlas_), its samples right after, never reopened. */
static void check_structure(const char *text) {
    char family[128] = "", seen[8192] = " ";
    bool help = false;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        CHECK(nl != NULL); /* every line ends in \n */
        if (!nl)
            break;
        size_t len = (size_t)(nl - p);
        char line[4096];
        CHECK(len < sizeof(line));
        memcpy(line, p, len < sizeof(line) ? len : sizeof(line) - 1);
        line[len < sizeof(line) ? len : sizeof(line) - 1] = 0;
        if (strncmp(line, "# HELP ", 7) == 0) {
            char name[128];
            CHECK(sscanf(line + 7, "%127s", name) == 1);
            CHECK(strncmp(name, "vmatlas_", 8) == 0);
            char key[140];
            snprintf(key, sizeof(key), " %s ", name);
            if (strstr(seen, key)) {
                fprintf(stderr, "family %s appears twice\n", name);
                test_failures++;
            }
            if (strlen(seen) + strlen(key) < sizeof(seen))
                strcat(seen, key + 1);
            snprintf(family, sizeof(family), "%s", name);
            help = true;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[128], type[32];
            CHECK(sscanf(line + 7, "%127s %31s", name, type) == 2);
            CHECK(help);
            CHECK_STREQ(name, family);
            bool counter = strcmp(type, "counter") == 0;
            CHECK(counter || strcmp(type, "gauge") == 0);
            size_t n = strlen(name);
            CHECK(counter == (n > 6 && strcmp(name + n - 6, "_total") == 0));
            help = false;
        } else {
            CHECK(!help); /* HELP is followed by TYPE */
            size_t n = check_sample(line, len);
            if (n == 0) {
                fprintf(stderr, "bad sample line: %s\n", line);
                test_failures++;
            } else if (n != strlen(family) || strncmp(line, family, n) != 0) {
                fprintf(stderr, "sample outside its family %s: %s\n", family, line);
                test_failures++;
            }
        }
        p = nl + 1;
    }
}

/* promtool check metrics, when it is installed (Debian package prometheus). */
static void check_promtool(const char *text) {
    char path[] = "/tmp/vmatlas-metrics-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    size_t len = strlen(text);
    CHECK(write(fd, text, len) == (ssize_t)len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "command -v promtool >/dev/null 2>&1 || exit 77; "
                               "promtool check metrics < %s",
             path);
    int r = system(cmd);
    unlink(path);
    if (WIFEXITED(r) && WEXITSTATUS(r) == 77) {
        printf("promtool not installed: not run\n");
        return;
    }
    CHECK(WIFEXITED(r) && WEXITSTATUS(r) == 0);
}

static void test_fixture(const struct vm_snapshot *s) {
    char *text = metrics(s, 3, FIXTURE_COLLECTED_AT_MS + 1500);
    if (!text)
        return;
    check_structure(text);
    static const char *const families[] = {
        "vmatlas_build_info", "vmatlas_scan_duration_seconds", "vmatlas_scan_cpu_seconds",
        "vmatlas_scans_total", "vmatlas_scan_errors_total", "vmatlas_scan_truncations_total",
        "vmatlas_processes_vanished_total", "vmatlas_snapshot_timestamp_seconds",
        "vmatlas_snapshot_age_seconds", "vmatlas_processes", "vmatlas_kernel_threads",
        "vmatlas_vmas", "vmatlas_map_count_limit", "vmatlas_process_vmas_max",
        "vmatlas_group_resident_bytes", "vmatlas_group_hiwater_bytes", "vmatlas_group_processes",
        "vmatlas_metrics_top_k", "vmatlas_process_resident_bytes", "vmatlas_process_hiwater_bytes",
        "vmatlas_process_virtual_peak_bytes", "vmatlas_process_pss_bytes",
        "vmatlas_process_swap_bytes", "vmatlas_process_hugetlb_bytes",
        "vmatlas_process_anon_huge_bytes"};
    for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
        char help[160], type[160];
        snprintf(help, sizeof(help), "# HELP %s ", families[i]);
        snprintf(type, sizeof(type), "# TYPE %s ", families[i]);
        if (count_prefix(text, help) != 1 || count_prefix(text, type) != 1) {
            fprintf(stderr, "family %s: HELP/TYPE missing or repeated\n", families[i]);
            test_failures++;
        }
    }

    CHECK_LINE(text, "vmatlas_build_info{version=\"0.1.0\"} 1");
    CHECK_LINE(text, "vmatlas_scan_duration_seconds 0.012345678");
    CHECK_LINE(text, "vmatlas_scan_cpu_seconds 2.000000001");
    CHECK_LINE(text, "vmatlas_scans_total 7");
    CHECK_LINE(text, "vmatlas_scan_errors_total{source=\"smaps_rollup\"} 5");
    CHECK_LINE(text, "vmatlas_scan_errors_total{source=\"status\"} 2");
    CHECK_LINE(text, "vmatlas_scan_errors_total{source=\"pagemap\"} 0");
    CHECK_EQ_U64(count_prefix(text, "vmatlas_scan_errors_total{"), _VM_SOURCE_MAX);
    CHECK_LINE(text, "vmatlas_scan_truncations_total 1");
    CHECK_LINE(text, "vmatlas_processes_vanished_total 3");
    CHECK_LINE(text, "vmatlas_snapshot_timestamp_seconds 1795543200.123");
    CHECK_LINE(text, "vmatlas_snapshot_age_seconds 1.500");
    CHECK_LINE(text, "vmatlas_processes 7");
    CHECK_LINE(text, "vmatlas_kernel_threads 2");
    CHECK_LINE(text, "vmatlas_vmas 6");
    CHECK_LINE(text, "vmatlas_map_count_limit 65530");
    CHECK_LINE(text, "vmatlas_process_vmas_max{pid=\"1\",comm=\"systemd\"} 3");

    /* groups by comm, kernel threads left out, escaped */
    CHECK_LINE(text, "vmatlas_group_resident_bytes{group=\"worker\"} 104857600");
    CHECK_LINE(text, "vmatlas_group_processes{group=\"worker\"} 2");
    CHECK_LINE(text, "vmatlas_group_hiwater_bytes{group=\"worker\"} 104857600");
    CHECK_LINE(text, "vmatlas_group_processes{group=\"back\\\\slash \\\"q\\\"\"} 1");
    CHECK_LINE(text, "vmatlas_group_processes{group=\"a) b (c\\n\"} 1");
    CHECK_LINE(text, "vmatlas_group_processes{group=\"\\\\xff\\\\xfe x\"} 1");
    CHECK_LINE(text, "vmatlas_group_processes{group=\"nostatus\"} 1");
    CHECK(strstr(text, "group=\"kthreadd\"") == NULL);
    CHECK(strstr(text, "vmatlas_group_hiwater_bytes{group=\"nostatus\"}") == NULL);

    /* top 3 by RSS: 500 and 501 (tie, by pid), then 100 */
    CHECK_LINE(text, "vmatlas_metrics_top_k 3");
    CHECK_EQ_U64(count_prefix(text, "vmatlas_process_resident_bytes{"), 3);
    CHECK_LINE(text, "vmatlas_process_resident_bytes{pid=\"500\",comm=\"worker\","
                     "unit=\"app.service\"} 52428800");
    CHECK_LINE(text, "vmatlas_process_resident_bytes{pid=\"100\",comm=\"a) b (c\\n\",unit=\"\"} "
                     "31457280");
    CHECK(strstr(text, "pid=\"200\"") == NULL);
    /* absent values have no series: 100's rollup is unreadable */
    CHECK_EQ_U64(count_prefix(text, "vmatlas_process_pss_bytes{"), 2);
    CHECK_EQ_U64(count_prefix(text, "vmatlas_process_anon_huge_bytes{"), 1);
    CHECK(strstr(text, "vmatlas_process_pss_bytes{pid=\"100\"") == NULL);
    CHECK_LINE(text, "vmatlas_process_pss_bytes{pid=\"501\",comm=\"worker\","
                     "unit=\"app.service\"} 47185920");
    check_promtool(text);
    free(text);

    /* every process with an RSS (6 of the 7 user processes); the unit needs escaping too */
    text = metrics(s, 100, 0);
    check_structure(text);
    CHECK_LINE(text, "vmatlas_metrics_top_k 100");
    CHECK_EQ_U64(count_prefix(text, "vmatlas_process_resident_bytes{"), 6);
    CHECK_LINE(text, "vmatlas_process_resident_bytes{pid=\"300\",comm=\"back\\\\slash \\\"q\\\"\","
                     "unit=\"we\\\"ird\\\\.service\"} 10485760");
    CHECK_LINE(text, "vmatlas_process_resident_bytes{pid=\"200\",comm=\"\\\\xff\\\\xfe x\","
                     "unit=\"\"} 20971520");
    CHECK(strstr(text, "vmatlas_snapshot_age_seconds") == NULL); /* no clock given */
    check_promtool(text);
    free(text);

    /* K = 0: no per-process series at all, the cap still exported */
    text = metrics(s, 0, FIXTURE_COLLECTED_AT_MS);
    check_structure(text);
    CHECK_LINE(text, "vmatlas_metrics_top_k 0");
    CHECK(strstr(text, "vmatlas_process_resident_bytes") == NULL);
    CHECK(strstr(text, "vmatlas_process_pss_bytes") == NULL);
    CHECK_LINE(text, "vmatlas_snapshot_age_seconds 0.000");
    free(text);
}

/* No user processes (one kernel thread), max_map_count unknown: the families that need
 * data are left out. */
static void test_empty(void) {
    struct snap_builder *b = NULL;
    CHECK_EQ_INT(snap_builder_new(&b), 0);
    struct vm_process *p = fx_proc(b, 2, "kthreadd");
    p->flags |= VM_PROC_KTHREAD | VM_PROC_MAPS;
    struct vm_snapshot hdr = {.seq = 1, .collected_at_ms = 1000};
    hdr.node.max_map_count = -1;
    struct vm_snapshot *s = NULL;
    CHECK_EQ_INT(snap_builder_finish(b, &hdr, &s), 0);
    (void)snap_builder_free(b);

    struct metrics_opts o = {.top_k = 20, .version = "1.0 \"x\"\n", .now_ms = 500};
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_metrics(s, &o, &text, &len), 0);
    check_structure(text);
    CHECK_LINE(text, "vmatlas_build_info{version=\"1.0 \\\"x\\\"\\n\"} 1");
    CHECK_LINE(text, "vmatlas_processes 0");
    CHECK_LINE(text, "vmatlas_kernel_threads 1");
    CHECK_LINE(text, "vmatlas_vmas 0");
    CHECK_LINE(text, "vmatlas_snapshot_age_seconds 0.000"); /* clock behind: not negative */
    CHECK_LINE(text, "vmatlas_snapshot_timestamp_seconds 1.000");
    CHECK(strstr(text, "vmatlas_map_count_limit") == NULL);
    CHECK(strstr(text, "vmatlas_process_vmas_max") == NULL);
    CHECK(strstr(text, "vmatlas_process_resident_bytes") == NULL);
    CHECK_LINE(text, "# TYPE vmatlas_group_processes gauge");
    check_promtool(text);
    free(text);
    (void)vm_snapshot_unref(s);
}

int main(void) {
    struct vm_snapshot *s = fixture_snapshot();
    test_fixture(s);
    (void)vm_snapshot_unref(s);
    test_empty();
    return test_result("test_metrics");
}
