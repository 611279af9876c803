/* test_fleet.c: fleet mode without a network: peer URLs and lists, the validation of peer
 * documents on hostile literals, the merge (sums, maxima with their node, the fleet-wide peak
 * carried from merge to merge, down peers left out), the fleet documents rendered from a view
 * (also with jansson's allocations failing one by one), and the time a merge and a render take
 * for a large fleet (printed, bounded loosely). */
#include <errno.h>
#include <jansson.h>
#include <time.h>

#include "api/fleet_client.h"
#include "api/fleet_doc.h"
#include "api/fleet_url.h"
#include "api/fleet_view.h"
#include "test.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- URLs ------------------------------------------------------------------------------------ */

static void url_ok(const char *in, const char *url, const char *node, const char *path,
                   bool https) {
    struct fleet_url u;
    char err[256] = "";
    char *buf = exact(in, strlen(in));
    int r = fleet_url_parse(buf, strlen(in), &u, err, sizeof(err));
    free(buf);
    CHECK_EQ_INT(r, 0);
    if (r < 0) {
        fprintf(stderr, "  %s: %s\n", in, err);
        return;
    }
    CHECK_STREQ(u.url, url);
    CHECK_STREQ(u.node, node);
    CHECK_STREQ(u.path, path);
    CHECK(u.https == https);
    fleet_url_done(&u);
}

static void url_bad(const char *in, const char *why) {
    struct fleet_url u = {0};
    char err[256] = "";
    char *buf = exact(in, strlen(in));
    int r = fleet_url_parse(buf, strlen(in), &u, err, sizeof(err));
    free(buf);
    CHECK_EQ_INT(r, -EINVAL);
    if (r == 0) {
        fprintf(stderr, "  accepted: %s\n", in);
        fleet_url_done(&u);
    } else if (!strstr(err, why)) {
        fprintf(stderr, "  %s: message \"%s\" lacks \"%s\"\n", in, err, why);
        test_failures++;
    }
}

static void test_urls(void) {
    url_ok("http://127.0.0.1:9477", "http://127.0.0.1:9477", "127.0.0.1:9477", "", false);
    url_ok("HTTP://Node-1.Example.COM/", "http://node-1.example.com:80", "node-1.example.com:80",
           "", false);
    url_ok("https://h", "https://h:443", "h:443", "", true);
    url_ok("http://[::1]:9477/vmatlas//", "http://[::1]:9477/vmatlas", "[::1]:9477", "/vmatlas",
           false);
    url_ok("http://h:1/a%2Fb", "http://h:1/a%2Fb", "h:1", "/a%2Fb", false);
    url_bad("", "empty");
    url_bad("ftp://h", "only http");
    url_bad("http://", "no host");
    url_bad("http://:80", "no host");
    url_bad("http://user:pw@h:1", "credentials");
    url_bad("http://h:0", "port");
    url_bad("http://h:65536", "port");
    url_bad("http://h:12a", "port");
    url_bad("http://h:", "port");
    url_bad("http://h?x=1", "query");
    url_bad("http://h/p?x", "query");
    url_bad("http://h/p#f", "fragment");
    url_bad("http://h/a b", "space");
    url_bad("http://h/\xc3\xa9", "non-ASCII");
    url_bad("http://h/a\"b", "path");
    url_bad("http://h/a,b", "path");
    url_bad("http://[::1:9477", "IPv6");
    url_bad("http://[zz]:1", "IPv6");
    url_bad("http://h_x:1", "host");
    char longurl[VM_FLEET_URL_MAX + 16];
    memset(longurl, 'a', sizeof(longurl) - 1);
    memcpy(longurl, "http://h/", 9);
    longurl[sizeof(longurl) - 1] = 0;
    url_bad(longurl, "longer");
}

static void test_lists(void) {
    const char *text = "  http://a:1 # the first\n\n# a comment line, http://z:9\n"
                       "http://b:2,http://c:3\r\n\t,  ,\nhttps://d";
    struct fleet_url *l = NULL;
    size_t n = 0;
    char err[512] = "";
    char *buf = exact(text, strlen(text));
    CHECK_EQ_INT(fleet_urls_parse(buf, strlen(text), "peers.txt", &l, &n, err, sizeof(err)), 0);
    free(buf);
    CHECK_EQ_U64(n, 4);
    if (n == 4) {
        CHECK_STREQ(l[0].node, "a:1");
        CHECK_STREQ(l[1].node, "b:2");
        CHECK_STREQ(l[2].node, "c:3");
        CHECK_STREQ(l[3].node, "d:443");
    }
    /* A duplicate node (another path does not make another node) refuses the list, names the
     * line, and leaves what was there. */
    const char *dup = "http://e:5\nhttp://A:1/x\n";
    CHECK_EQ_INT(fleet_urls_parse(dup, strlen(dup), "f", &l, &n, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "f line 2") && strstr(err, "a:1") && strstr(err, "twice"));
    CHECK_EQ_U64(n, 4);
    const char *bad = "http://e:5\n\nftp://x\n";
    CHECK_EQ_INT(fleet_urls_parse(bad, strlen(bad), "f", &l, &n, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "f line 3") != NULL);
    CHECK_EQ_U64(n, 4);
    l = fleet_urls_free(l, n);

    /* At most VM_FLEET_PEERS_MAX. */
    size_t cap = (VM_FLEET_PEERS_MAX + 2) * 24, len = 0;
    char *many = malloc(cap);
    for (unsigned i = 0; i < VM_FLEET_PEERS_MAX + 1; i++)
        len += (size_t)snprintf(many + len, cap - len, "http://h:%u\n", 1000 + i);
    n = 0;
    CHECK_EQ_INT(fleet_urls_parse(many, len, "many", &l, &n, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "more than") != NULL);
    CHECK_EQ_U64(n, 0);
    free(many);
    fleet_urls_free(l, n);
}

static void test_times(void) {
    uint64_t ms = 0;
    CHECK_EQ_INT(fleet_parse_time_ms("1970-01-01T00:00:00.000Z", 24, &ms), 0);
    CHECK_EQ_U64(ms, 0);
    CHECK_EQ_INT(fleet_parse_time_ms("2026-11-24T18:00:00.123Z", 24, &ms), 0);
    CHECK_EQ_U64(ms, 1795543200123ull);
    CHECK_EQ_INT(fleet_parse_time_ms("2024-02-29T23:59:59Z", 20, &ms), 0);
    CHECK_EQ_U64(ms, 1709251199000ull);
    static const char *const bad[] = {"2023-02-29T00:00:00Z",      "2026-13-01T00:00:00Z",
                                      "2026-11-24T24:00:00Z",      "2026-11-24 18:00:00Z",
                                      "2026-11-24T18:00:00+01:00", "1969-12-31T23:59:59Z",
                                      "2026-11-24T18:00:00.12Z",   "+026-11-24T18:00:00Z",
                                      "2026-11-24T18:00:60Z",      ""};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (fleet_parse_time_ms(bad[i], strlen(bad[i]), &ms) == 0) {
            fprintf(stderr, "accepted time %s\n", bad[i]);
            test_failures++;
        }
}

/* --- documents ----------------------------------------------------------------------------- */

static struct fleet_doc *parse(int kind, const char *text, uint32_t limit, char *err,
                               size_t errlen) {
    struct fleet_doc *d = NULL;
    char *buf = exact(text, strlen(text));
    int r = fleet_doc_parse(kind, buf, strlen(text), limit, &d, err, errlen);
    free(buf);
    return r == 0 ? d : NULL;
}

static struct fleet_doc *parse_json(int kind, json_t *doc, uint32_t limit) {
    char *text = json_dumps(doc, JSON_COMPACT);
    char err[256] = "";
    json_decref(doc);
    struct fleet_doc *d = parse(kind, text, limit, err, sizeof(err));
    if (!d) {
        fprintf(stderr, "refused: %s\n  %.300s\n", err, text);
        test_failures++;
    }
    free(text);
    return d;
}

static void refused(int kind, const char *text, uint32_t limit, const char *why) {
    char err[256] = "";
    struct fleet_doc *d = parse(kind, text, limit, err, sizeof(err));
    if (d) {
        fprintf(stderr, "accepted: %.200s\n", text);
        test_failures++;
        fleet_doc_unref(d);
    } else if (!strstr(err, why)) {
        fprintf(stderr, "refused %.120s\n  with \"%s\", want \"%s\"\n", text, err, why);
        test_failures++;
    }
}

#define SNAP "\"snapshot\":{\"seq\":7,\"collected_at\":\"2026-11-24T18:00:00.123Z\"}"

static json_t *snapshot_json(uint64_t seq) {
    return json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "collected_at",
                     "2026-11-24T18:00:00.123Z");
}

/* A process summary as vmatlasd renders it, every member filled. */
static json_t *proc_json(int pid, uint64_t rss, const char *comm, const char *unit, bool kthread) {
    json_t *mem = json_object(), *rollup = json_object();
    for (int f = 0; f < _VM_MEM_MAX; f++)
        json_object_set_new(mem, vm_memory_fields[f].json,
                            kthread ? json_null() : json_integer((json_int_t)(rss + (uint64_t)f)));
    if (!kthread)
        json_object_set_new(mem, "vm_rss", json_integer((json_int_t)rss));
    for (int f = 0; f < _VM_ROLLUP_MAX; f++)
        json_object_set_new(rollup, vm_rollup_fields[f].json, json_integer(pid * 10 + f));
    json_object_set_new(rollup, "uss", json_integer(pid));
    if (kthread) {
        json_decref(rollup);
        rollup = json_null();
    }
    char id[32];
    snprintf(id, sizeof(id), "%d:100", pid);
    return json_pack(
        "{s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:o, s:b, s:o, s:o, s:o, "
        "s:o, s:[{s:s, s:s}]}",
        "pid", pid, "ppid", 1, "id", id, "start_time", "2026-11-24T17:00:00.000Z", "comm", comm,
        "cmdline", "cmd --x", "uid", 0, "user", "root", "state", "S", "threads", 2, "cgroup",
        "/system.slice/x.service", "unit", unit ? json_string(unit) : json_null(), "kthread",
        kthread, "vma_count", kthread ? json_null() : json_integer(10 + pid), "memory", mem,
        "rollup", rollup, "hiwater",
        json_pack("{s:o, s:o, s:I, s:s}", "vm_hwm",
                  kthread ? json_null() : json_integer((json_int_t)rss + VM_MEM_VM_HWM), "vm_peak",
                  kthread ? json_null() : json_integer((json_int_t)rss + VM_MEM_VM_PEAK),
                  "observed_rss_max", (json_int_t)rss, "observed_rss_max_at",
                  "2026-11-24T18:00:00.123Z"),
        "errors", "source", "smaps", "errno", "EACCES");
}

static void test_doc_valid(void) {
    char err[256];
    struct fleet_doc *d =
        parse(FLEET_DOC_NODE,
              "{" SNAP ",\"hostname\":\"h\",\"kernel\":\"6.1\",\"version\":\"0.1\","
              "\"max_map_count\":65530,\"unknown\":[1,{\"x\":null}]}",
              0, err, sizeof(err));
    CHECK(d != NULL);
    if (d) {
        CHECK_EQ_U64(d->snapshot_seq, 7);
        CHECK_EQ_U64(d->snapshot_at_ms, 1795543200123ull);
        CHECK_STREQ(fleet_doc_str(d, d->hostname), "h");
        CHECK(fleet_doc_str(d, d->boot_id) == NULL); /* missing nullable: null */
        CHECK_EQ_INT(d->max_map_count, 65530);
        fleet_doc_unref(d);
    }

    json_t *procs = json_array();
    json_array_append_new(procs, proc_json(10, 5000, "a) b (c\n", "x.service", false));
    json_array_append_new(procs, proc_json(2, 0, "kthreadd", NULL, true));
    d = parse_json(
        FLEET_DOC_PROCESSES,
        json_pack("{s:o, s:i, s:o}", "snapshot", snapshot_json(3), "total", 5, "processes", procs),
        10);
    if (d) {
        CHECK_EQ_U64(d->nprocs, 2);
        CHECK_EQ_U64(d->total, 5);
        const struct fleet_proc *p = &d->procs[0];
        CHECK_EQ_INT(p->pid, 10);
        CHECK_STREQ(fleet_doc_str(d, p->comm), "a) b (c\n");
        CHECK_EQ_U64(p->memory[VM_MEM_VM_RSS], 5000);
        CHECK(p->memory_present == (1u << _VM_MEM_MAX) - 1);
        CHECK(p->has_rollup && (p->rollup_present & (1u << FLEET_ROLLUP_USS)));
        CHECK_EQ_U64(p->rollup[FLEET_ROLLUP_USS], 10);
        CHECK_EQ_INT(p->nerrors, 1);
        CHECK_STREQ(fleet_doc_str(d, p->errors[0].errnum), "EACCES");
        const struct fleet_proc *k = &d->procs[1];
        CHECK(k->kthread && !k->has_rollup && k->memory_present == 0 && k->vma_count == -1);
        CHECK(fleet_doc_str(d, k->unit) == NULL);
        fleet_doc_unref(d);
    }

    d = parse(FLEET_DOC_HIWATER + VM_GROUP_UNIT,
              "{" SNAP ",\"group_by\":\"unit\",\"groups\":["
              "{\"key\":\"b\",\"processes\":1,\"rss\":5,\"vm_hwm_sum\":6,\"vm_hwm_max\":6,"
              "\"vm_hwm_max_pid\":4,\"vm_peak_max\":9,\"observed_rss_peak\":7,"
              "\"observed_rss_peak_at\":null,\"exited\":0,\"exited_vm_hwm_max\":0},"
              "{\"key\":null,\"processes\":2,\"rss\":1,\"vm_hwm_sum\":1,\"vm_hwm_max\":1,"
              "\"vm_hwm_max_pid\":null,\"vm_peak_max\":1,\"observed_rss_peak\":1,"
              "\"exited\":3,\"exited_vm_hwm_max\":8}]}",
              0, err, sizeof(err));
    CHECK(d != NULL);
    if (d) {
        CHECK_EQ_U64(d->ngroups, 2);
        CHECK(fleet_doc_str(d, d->groups[0].key) == NULL); /* sorted: null first */
        CHECK_STREQ(fleet_doc_str(d, d->groups[1].key), "b");
        CHECK_EQ_INT(d->groups[1].vm_hwm_max_pid, 4);
        fleet_doc_unref(d);
    }
}

static void test_doc_hostile(void) {
    const int P = FLEET_DOC_PROCESSES, N = FLEET_DOC_NODE, H = FLEET_DOC_HUGEPAGES,
              W = FLEET_DOC_HIWATER + VM_GROUP_COMM;
    refused(N, "", 0, "not JSON");
    refused(N, "\x89PNG\r\n\x1a\n\0\0", 0, "not JSON");
    refused(N, "<html>oops</html>", 0, "not JSON");
    refused(N, "{" SNAP ",\"hostname\":\"h\"", 0, "not JSON"); /* truncated */
    refused(N, "[1,2,3]", 0, "not a JSON object");
    refused(N, "{\"hostname\":\"h\"}", 0, "snapshot: missing");
    refused(N, "{\"snapshot\":{\"seq\":-1,\"collected_at\":\"2026-11-24T18:00:00Z\"}}", 0,
            "snapshot.seq: -1 out of range");
    refused(N, "{\"snapshot\":{\"seq\":18446744073709551616,\"collected_at\":\"x\"}}", 0,
            "not JSON");
    refused(N, "{\"snapshot\":{\"seq\":1e300,\"collected_at\":\"2026-11-24T18:00:00Z\"}}", 0,
            "snapshot.seq: not an integer");
    refused(N, "{\"snapshot\":{\"seq\":1,\"collected_at\":\"yesterday\"}}", 0, "RFC 3339");
    refused(N, "{" SNAP ",\"hostname\":42}", 0, "hostname: not a string");
    refused(N, "{" SNAP ",\"hostname\":\"a\\u0000b\"}", 0, "not JSON");
    refused(N, "{" SNAP ",\"hostname\":\"a\",\"hostname\":\"b\"}", 0, "not JSON"); /* duplicate */
    refused(N, "{" SNAP ",\"max_map_count\":\"65530\"}", 0, "max_map_count: not an integer");

    /* Deep nesting is refused before jansson recurses; so is a flood of tiny values. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = 0;
    refused(N, deep, 0, "nested deeper");
    free(deep);
    size_t nvals = VM_FLEET_TOKENS_MAX + 10;
    char *flood = malloc(2 * nvals + 256);
    size_t len = (size_t)sprintf(flood, "{" SNAP ",\"x\":[");
    for (size_t i = 0; i < nvals; i++)
        flood[len++] = '0', flood[len++] = ',';
    flood[len - 1] = ']';
    flood[len++] = '}';
    flood[len] = 0;
    refused(N, flood, 0, "more than");
    free(flood);

    refused(P, "{" SNAP ",\"total\":1,\"processes\":{}}", 10, "processes: not an array");
    refused(P, "{" SNAP ",\"total\":\"1\",\"processes\":[]}", 10, "total: not an integer");
    refused(P, "{" SNAP ",\"total\":0,\"processes\":[1]}", 10, "but a total of 0");
    refused(P, "{" SNAP ",\"total\":5,\"processes\":[1,2,3]}", 2, "3 entries (at most 2)");
    refused(P, "{" SNAP ",\"total\":5,\"processes\":[1]}", 2, "processes[0]: not an object");

    /* One bad member anywhere in a process refuses the document, and is named. */
    static const struct {
        const char *member, *value, *why;
    } bad[] = {
        {"pid", "0", "processes[1].pid: 0 out of range"},
        {"pid", "2147483648", "processes[1].pid: 2147483648 out of range"},
        {"pid", "\"12\"", "processes[1].pid: not an integer"},
        {"comm", "null", "processes[1].comm: null where a value is required"},
        {"comm", "[\"x\"]", "processes[1].comm: not a string"},
        {"kthread", "1", "processes[1].kthread: not a boolean"},
        {"memory", "[]", "processes[1].memory: not an object"},
        {"memory", "{\"vm_rss\":-5}", "processes[1].memory.vm_rss: -5 out of range"},
        {"memory", "{\"vm_rss\":1.5}", "processes[1].memory.vm_rss: not an integer"},
        {"rollup", "{\"pss\":true}", "processes[1].rollup.pss: not an integer"},
        {"rollup", "7", "processes[1].rollup: not an object"},
        {"hiwater", "{\"observed_rss_max_at\":5}", "processes[1].hiwater.observed_rss_max_at"},
        {"errors", "[{\"source\":1,\"errno\":\"E\"}]", "processes[1].errors[0].source"},
        {"errors", "[1]", "entry 0 is not an object"},
        {"start_time", "\"2026-02-30T00:00:00Z\"", "processes[1].start_time: not an RFC 3339"},
        {"state", "\"SSSSSSSSS\"", "processes[1].state: string of 9 bytes"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        json_t *good = proc_json(5, 100, "ok", "u", false),
               *evil = proc_json(6, 100, "x", "u", false);
        json_error_t je;
        json_t *v = json_loads(bad[i].value, JSON_DECODE_ANY, &je);
        CHECK(v != NULL);
        json_object_set_new(evil, bad[i].member, v);
        json_t *doc = json_pack("{s:o, s:i, s:[o, o]}", "snapshot", snapshot_json(1), "total", 2,
                                "processes", good, evil);
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        refused(P, text, 10, bad[i].why);
        free(text);
    }
    /* A cmdline past VM_FLEET_STRING_MAX. */
    char *huge = malloc(VM_FLEET_STRING_MAX + 2);
    memset(huge, 'x', VM_FLEET_STRING_MAX + 1);
    huge[VM_FLEET_STRING_MAX + 1] = 0;
    json_t *p = proc_json(5, 1, "c", NULL, false);
    json_object_set_new(p, "cmdline", json_string(huge));
    free(huge);
    json_t *doc =
        json_pack("{s:o, s:i, s:[o]}", "snapshot", snapshot_json(1), "total", 1, "processes", p);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    refused(P, text, 10, "cmdline: string of 65537 bytes");
    free(text);

    refused(W, "{" SNAP ",\"group_by\":\"unit\",\"groups\":[]}", 0, "group_by: not \"comm\"");
    refused(W,
            "{" SNAP ",\"group_by\":\"comm\",\"groups\":["
            "{\"key\":\"a\",\"processes\":1,\"rss\":1,\"vm_hwm_sum\":1,\"vm_hwm_max\":1,"
            "\"vm_peak_max\":1,\"observed_rss_peak\":1,\"exited\":0,\"exited_vm_hwm_max\":0},"
            "{\"key\":\"a\",\"processes\":1,\"rss\":1,\"vm_hwm_sum\":1,\"vm_hwm_max\":1,"
            "\"vm_peak_max\":1,\"observed_rss_peak\":1,\"exited\":0,\"exited_vm_hwm_max\":0}]}",
            0, "listed twice");
    refused(W,
            "{" SNAP ",\"group_by\":\"comm\",\"groups\":[{\"key\":\"a\",\"processes\":4294967296,"
            "\"rss\":1,\"vm_hwm_sum\":1,\"vm_hwm_max\":1,\"vm_peak_max\":1,"
            "\"observed_rss_peak\":1,\"exited\":0,\"exited_vm_hwm_max\":0}]}",
            0, "groups[0].processes: 4294967296 out of range");
    refused(H, "{" SNAP ",\"pools\":[{\"size_bytes\":0,\"total\":1}],\"thp\":{}}", 0,
            "pools[0].size_bytes: 0");
    refused(H,
            "{" SNAP ",\"pools\":[{\"size_bytes\":2097152,\"numa_node\":0},"
            "{\"size_bytes\":2097152,\"numa_node\":0}],\"thp\":{}}",
            0, "listed twice");
    refused(H, "{" SNAP ",\"pools\":[],\"thp\":{\"anon\":\"lots\"}}", 0,
            "thp.anon: not an integer");
    refused(H, "{" SNAP ",\"pools\":[]}", 0, "thp: missing");
}

/* --- merge and render ------------------------------------------------------------------------ */

struct group_spec {
    const char *key;
    uint64_t processes, rss, hwm;
    int pid;
};

static json_t *hiwater_json(int by, const struct group_spec *g, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a,
            json_pack("{s:o, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:s, s:i, s:I}", "key",
                      g[i].key ? json_string(g[i].key) : json_null(), "processes",
                      (json_int_t)g[i].processes, "rss", (json_int_t)g[i].rss, "vm_hwm_sum",
                      (json_int_t)g[i].hwm, "vm_hwm_max", (json_int_t)g[i].hwm, "vm_hwm_max_pid",
                      g[i].pid, "vm_peak_max", (json_int_t)g[i].hwm * 2, "observed_rss_peak",
                      (json_int_t)g[i].rss * 3, "observed_rss_peak_at", "2026-11-24T18:00:00.000Z",
                      "exited", 1, "exited_vm_hwm_max", (json_int_t)g[i].hwm));
    return json_pack("{s:o, s:s, s:o}", "snapshot", snapshot_json(1), "group_by",
                     vm_group_by_name(by), "groups", a);
}

static json_t *hugepages_json(uint64_t total, uint64_t freep, bool thp) {
    return json_pack(
        "{s:o, s:[{s:I, s:n, s:I, s:I, s:I, s:I}, {s:I, s:i, s:I, s:I, s:n, s:I}], s:o}",
        "snapshot", snapshot_json(1), "pools", "size_bytes", (json_int_t)2097152, "numa_node",
        "total", (json_int_t)total, "free", (json_int_t)freep, "reserved", (json_int_t)1, "surplus",
        (json_int_t)0, "size_bytes", (json_int_t)2097152, "numa_node", 0, "total",
        (json_int_t)total, "free", (json_int_t)freep, "reserved", "surplus", (json_int_t)0, "thp",
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "enabled", "always", "defrag", "madvise",
                  "shmem_enabled", "never", "anon", thp ? json_integer(4096) : json_null(), "shmem",
                  json_integer(0), "file", json_null()));
}

/* One peer of a round: node "n<i>:1". */
static void result_init(struct fleet_result *r, int i, bool up) {
    char url[64];
    snprintf(url, sizeof(url), "http://n%d:1", i);
    memset(r, 0, sizeof(*r));
    if (fleet_url_parse(url, strlen(url), &r->url, NULL, 0) < 0)
        abort();
    r->up = up;
    r->latency_us = 1500 + (uint64_t)i;
    if (!up)
        snprintf(r->error, sizeof(r->error), "GET /api/v1/node: refused");
}

static struct fleet_doc *node_doc(void) {
    return parse_json(FLEET_DOC_NODE,
                      json_pack("{s:o, s:s, s:I}", "snapshot", snapshot_json(4), "hostname", "h",
                                "max_map_count", (json_int_t)65530),
                      0);
}

static json_t *hiwater_doc(const struct fleet_view *v, enum vm_group_by by) {
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_fleet_hiwater(v, by, NULL, &body, &len), 0);
    json_t *doc = body ? json_loadb(body, len, 0, NULL) : NULL;
    CHECK(doc != NULL);
    free(body);
    return doc;
}

static json_t *render_text(json_t *v) {
    char *body = NULL;
    size_t len;
    CHECK(render_dump(v, NULL, &body, &len) == 0);
    json_decref(v);
    json_t *back = body ? json_loadb(body, len, 0, NULL) : NULL;
    CHECK(back != NULL);
    free(body);
    return back;
}

static const json_t *group_of(const json_t *doc, const char *key) {
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(doc, "groups"), i, g) {
        const json_t *k = json_object_get(g, "key");
        if ((!key && json_is_null(k)) ||
            (key && json_is_string(k) && strcmp(json_string_value(k), key) == 0))
            return g;
    }
    return NULL;
}

static uint64_t u(const json_t *o, const char *key) {
    return (uint64_t)json_integer_value(json_object_get(o, key));
}

static void test_merge(void) {
    /* Three peers: n0 and n1 up, n2 down. */
    struct fleet_doc *node = node_doc();
    struct fleet_doc *hw[2][_VM_GROUP_MAX], *procs[2], *huge[2];
    const struct group_spec g0[] = {{"web", 2, 1000, 700, 11}, {"db", 1, 5000, 6000, 12}};
    const struct group_spec g1[] = {{"web", 3, 2000, 900, 21}, {"cron", 1, 10, 10, 22}};
    for (int by = 0; by < _VM_GROUP_MAX; by++) {
        hw[0][by] = parse_json(FLEET_DOC_HIWATER + by, hiwater_json(by, g0, 2), 0);
        hw[1][by] = parse_json(FLEET_DOC_HIWATER + by, hiwater_json(by, g1, 2), 0);
    }
    for (int i = 0; i < 2; i++) {
        json_t *a = json_array();
        json_array_append_new(a, proc_json(100, i ? 3000 : 9000, "web", "web.service", false));
        json_array_append_new(a, proc_json(200, 5000, "db", NULL, false));
        json_array_append_new(a, proc_json(2, 0, "kthreadd", NULL, true));
        procs[i] = parse_json(
            FLEET_DOC_PROCESSES,
            json_pack("{s:o, s:i, s:o}", "snapshot", snapshot_json(1), "total", 3, "processes", a),
            10);
        huge[i] = parse_json(FLEET_DOC_HUGEPAGES, hugepages_json(4, 1 + (uint64_t)i, i == 0), 0);
    }
    struct fleet_round round = {.started_at_ms = 1795543201000ull, .duration_ns = 2000000, .n = 3};
    struct fleet_result res[3];
    round.peers = res;
    for (int i = 0; i < 3; i++) {
        result_init(&res[i], i, i < 2);
        if (i == 2)
            continue;
        res[i].docs[FLEET_DOC_NODE] = fleet_doc_ref(node);
        res[i].docs[FLEET_DOC_PROCESSES] = fleet_doc_ref(procs[i]);
        res[i].docs[FLEET_DOC_HUGEPAGES] = fleet_doc_ref(huge[i]);
        for (int by = 0; by < _VM_GROUP_MAX; by++)
            res[i].docs[FLEET_DOC_HIWATER + by] = fleet_doc_ref(hw[i][by]);
    }
    struct fleet_view *v1 = NULL;
    CHECK_EQ_INT(fleet_merge(NULL, &round, &v1), 0);
    if (!v1)
        return;
    CHECK_EQ_U64(v1->seq, 1);
    CHECK(v1->peers[0].up && v1->peers[1].up && !v1->peers[2].up);
    CHECK_STREQ(v1->peers[2].error, "GET /api/v1/node: refused");
    CHECK_EQ_U64(v1->peers[0].last_success_ms, 1795543201001ull);
    CHECK_EQ_U64(v1->peers[2].last_success_ms, 0);
    CHECK_EQ_U64(v1->peers[0].snapshot_age_ms, 1795543201001ull - 1795543200123ull);

    json_t *doc = hiwater_doc(v1, VM_GROUP_COMM);
    const json_t *web = group_of(doc, "web"), *db = group_of(doc, "db");
    CHECK(web && db && group_of(doc, "cron"));
    if (web) {
        CHECK_EQ_U64(u(web, "processes"), 5);
        CHECK_EQ_U64(u(web, "rss"), 3000);
        CHECK_EQ_U64(u(web, "vm_hwm_sum"), 1600);
        CHECK_EQ_U64(u(web, "vm_hwm_max"), 900);
        CHECK_STREQ(json_string_value(json_object_get(web, "vm_hwm_max_node")), "n1:1");
        CHECK_EQ_U64(u(web, "vm_hwm_max_pid"), 21);
        CHECK_EQ_U64(u(web, "vm_peak_max"), 1800);
        CHECK_EQ_U64(u(web, "exited"), 2);
        CHECK_EQ_U64(u(web, "observed_rss_peak"), 3000); /* the fleet-wide sum, not per node */
        CHECK_STREQ(json_string_value(json_object_get(web, "observed_rss_peak_at")),
                    "2026-11-24T18:00:01.000Z");
        const json_t *per = json_object_get(web, "per_node");
        CHECK_EQ_U64(json_array_size(per), 2);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(per, 0), "node")), "n0:1");
        CHECK_EQ_U64(u(json_array_get(per, 1), "observed_rss_peak"), 6000);
    }
    /* Largest peak first. */
    CHECK_STREQ(json_string_value(
                    json_object_get(json_array_get(json_object_get(doc, "groups"), 0), "key")),
                "db");
    CHECK_EQ_U64(json_array_size(json_object_get(doc, "nodes")), 3);
    json_decref(doc);

    doc = render_text(render_fleet_hugepages(v1));
    const json_t *tot = json_array_get(json_object_get(json_object_get(doc, "totals"), "pools"), 0);
    CHECK_EQ_U64(u(tot, "total"), 8); /* global pools only: the NUMA ones are parts of them */
    CHECK_EQ_U64(u(tot, "free"), 3);
    CHECK_EQ_U64(u(tot, "reserved"), 2);
    CHECK_EQ_U64(json_array_size(json_object_get(json_object_get(doc, "totals"), "pools")), 1);
    CHECK_EQ_U64(u(json_object_get(json_object_get(doc, "totals"), "thp"), "anon"), 4096);
    CHECK(json_is_null(
        json_object_get(json_object_get(json_object_get(doc, "totals"), "thp"), "file")));
    CHECK_EQ_U64(json_array_size(json_object_get(doc, "per_node")), 2);
    json_decref(doc);

    /* Processes: both nodes, sorted by rss, ties by pid then node; filters; node. */
    struct proc_query q;
    proc_query_init(&q);
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_fleet_processes(v1, &q, NULL, NULL, &body, &len), 0);
    doc = json_loadb(body, len, 0, NULL);
    free(body);
    const json_t *list = json_object_get(doc, "processes");
    CHECK_EQ_U64(u(doc, "total"), 4); /* kernel threads excluded */
    CHECK_EQ_U64(u(json_array_get(list, 0), "pid"), 100);
    CHECK_STREQ(json_string_value(json_object_get(json_array_get(list, 0), "node")), "n0:1");
    CHECK_STREQ(json_string_value(json_object_get(json_array_get(list, 1), "node")), "n0:1");
    CHECK_EQ_U64(u(json_array_get(list, 1), "pid"), 200);
    CHECK_STREQ(json_string_value(json_object_get(json_array_get(list, 2), "node")), "n1:1");
    CHECK_EQ_U64(u(json_array_get(list, 3), "pid"), 100);
    /* The summary is the peer's, member for member, plus node. */
    json_t *want = proc_json(100, 9000, "web", "web.service", false);
    json_object_set_new(want, "node", json_string("n0:1"));
    CHECK(json_equal(want, json_array_get(list, 0)));
    json_decref(want);
    json_decref(doc);
    q.kthreads = PROC_KTHREADS_ONLY;
    CHECK_EQ_INT(render_fleet_processes(v1, &q, "n1:1", NULL, &body, &len), 0);
    doc = json_loadb(body, len, 0, NULL);
    free(body);
    CHECK_EQ_U64(u(doc, "total"), 1);
    CHECK_STREQ(json_string_value(
                    json_object_get(json_array_get(json_object_get(doc, "processes"), 0), "node")),
                "n1:1");
    json_decref(doc);

    /* Round 2: n1 is down, n0 has grown web to 2500: the fleet sum (2500) stays under the peak
     * (3000); db and cron keep theirs; cron has no node any more. */
    const struct group_spec g0b[] = {{"web", 2, 2500, 700, 11}, {"db", 1, 5000, 6000, 12}};
    struct fleet_doc *hw0b =
        parse_json(FLEET_DOC_HIWATER + VM_GROUP_COMM, hiwater_json(VM_GROUP_COMM, g0b, 2), 0);
    fleet_doc_unref(res[0].docs[FLEET_DOC_HIWATER + VM_GROUP_COMM]);
    res[0].docs[FLEET_DOC_HIWATER + VM_GROUP_COMM] = hw0b;
    for (int k = 0; k < _FLEET_DOC_MAX; k++)
        res[1].docs[k] = fleet_doc_unref(res[1].docs[k]);
    res[1].up = false;
    snprintf(res[1].error, sizeof(res[1].error), "GET /api/v1/node: timed out");
    round.started_at_ms += 10000;
    struct fleet_view *v2 = NULL;
    CHECK_EQ_INT(fleet_merge(v1, &round, &v2), 0);
    CHECK_EQ_U64(v2->seq, 2);
    CHECK_EQ_U64(v2->peers[1].last_success_ms, 1795543201001ull); /* carried */
    doc = hiwater_doc(v2, VM_GROUP_COMM);
    web = group_of(doc, "web");
    CHECK(web && u(web, "rss") == 2500 && u(web, "observed_rss_peak") == 3000);
    const json_t *cron = group_of(doc, "cron");
    CHECK(cron && u(cron, "processes") == 0 && u(cron, "rss") == 0 &&
          json_array_size(json_object_get(cron, "per_node")) == 0 &&
          u(cron, "observed_rss_peak") == 10 &&
          json_is_null(json_object_get(cron, "vm_hwm_max_node")));
    json_decref(doc);

    /* Round 3: both up, web 2500 + 2000 = 4500 > 3000: a new peak, at this merge. */
    res[1].up = true;
    res[1].error[0] = 0;
    res[1].docs[FLEET_DOC_NODE] = fleet_doc_ref(node);
    res[1].docs[FLEET_DOC_PROCESSES] = fleet_doc_ref(procs[1]);
    res[1].docs[FLEET_DOC_HUGEPAGES] = fleet_doc_ref(huge[1]);
    for (int by = 0; by < _VM_GROUP_MAX; by++)
        res[1].docs[FLEET_DOC_HIWATER + by] = fleet_doc_ref(hw[1][by]);
    round.started_at_ms += 10000;
    struct fleet_view *v3 = NULL;
    CHECK_EQ_INT(fleet_merge(v2, &round, &v3), 0);
    doc = hiwater_doc(v3, VM_GROUP_COMM);
    web = group_of(doc, "web");
    CHECK(web && u(web, "observed_rss_peak") == 4500);
    CHECK_STREQ(json_string_value(json_object_get(web, "observed_rss_peak_at")),
                "2026-11-24T18:00:21.000Z");
    json_decref(doc);

    /* Nodes, targets, metrics. */
    doc = render_text(render_fleet_nodes(v2));
    const json_t *n1 = json_array_get(json_object_get(doc, "nodes"), 1);
    CHECK(json_is_false(json_object_get(n1, "up")));
    CHECK_STREQ(json_string_value(json_object_get(n1, "error")), "GET /api/v1/node: timed out");
    CHECK_STREQ(json_string_value(json_object_get(n1, "last_success")), "2026-11-24T18:00:01.001Z");
    CHECK(json_is_null(json_object_get(n1, "snapshot_age_ms")));
    const json_t *n0 = json_array_get(json_object_get(doc, "nodes"), 0);
    CHECK_EQ_U64(u(n0, "max_map_count"), 65530);
    CHECK(json_real_value(json_object_get(n0, "latency_ms")) == 1.5);
    CHECK_EQ_U64(u(json_object_get(doc, "snapshot"), "seq"), 2);
    json_decref(doc);
    doc = render_text(render_fleet_targets(v2));
    CHECK(json_is_array(doc) && json_array_size(doc) == 3);
    CHECK_STREQ(
        json_string_value(json_array_get(json_object_get(json_array_get(doc, 2), "targets"), 0)),
        "n2:1");
    CHECK_STREQ(json_string_value(json_object_get(json_object_get(json_array_get(doc, 2), "labels"),
                                                  "vmatlas_node")),
                "n2:1");
    json_decref(doc);
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    render_fleet_metrics(f, v2, false);
    fclose(f);
    CHECK(strstr(text, "vmatlas_peer_up{node=\"n0:1\"} 1\n") != NULL);
    CHECK(strstr(text, "vmatlas_peer_up{node=\"n1:1\"} 0\n") != NULL);
    CHECK(strstr(text, "vmatlas_peer_scrape_duration_seconds{node=\"n2:1\"} 0.001502\n") != NULL);
    CHECK(
        strstr(text, "# TYPE vmatlas_fleet_merges_total counter\nvmatlas_fleet_merges_total 2\n") !=
        NULL);
    free(text);

    fleet_view_unref(v1);
    fleet_view_unref(v2);
    fleet_view_unref(v3);
    for (int i = 0; i < 3; i++) {
        fleet_url_done(&res[i].url);
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            fleet_doc_unref(res[i].docs[k]);
    }
    for (int i = 0; i < 2; i++) {
        fleet_doc_unref(procs[i]);
        fleet_doc_unref(huge[i]);
        for (int by = 0; by < _VM_GROUP_MAX; by++)
            fleet_doc_unref(hw[i][by]);
    }
    fleet_doc_unref(node);
}

static void test_pending_and_paths(void) {
    struct fleet_url u[2];
    CHECK_EQ_INT(fleet_url_parse("https://a:9/x", 13, &u[0], NULL, 0), 0);
    CHECK_EQ_INT(fleet_url_parse("http://b:9", 10, &u[1], NULL, 0), 0);
    struct fleet_view *v = NULL;
    CHECK_EQ_INT(fleet_view_pending(u, 2, 1795543200123ull, &v), 0);
    json_t *doc = render_text(render_fleet_nodes(v));
    const json_t *a = json_array_get(json_object_get(doc, "nodes"), 0);
    CHECK(json_is_false(json_object_get(a, "up")));
    CHECK_STREQ(json_string_value(json_object_get(a, "error")), "not fetched yet");
    CHECK(json_is_null(json_object_get(a, "latency_ms")));
    json_decref(doc);
    doc = render_text(render_fleet_targets(v));
    const json_t *l = json_object_get(json_array_get(doc, 0), "labels");
    CHECK_STREQ(json_string_value(json_object_get(l, "__scheme__")), "https");
    CHECK_STREQ(json_string_value(json_object_get(l, "__metrics_path__")), "/x/metrics");
    CHECK(!json_object_get(json_object_get(json_array_get(doc, 1), "labels"), "__scheme__"));
    json_decref(doc);
    doc = render_text(render_fleet_hugepages(v));
    CHECK_EQ_U64(json_array_size(json_object_get(doc, "per_node")), 0);
    json_decref(doc);
    fleet_view_unref(v);
    fleet_url_done(&u[0]);
    fleet_url_done(&u[1]);

    char buf[128];
    CHECK_STREQ(fleet_doc_path(FLEET_DOC_PROCESSES, 1000, buf, sizeof(buf)),
                "/api/v1/processes?limit=1000&kthreads=include");
    CHECK_STREQ(fleet_doc_path(FLEET_DOC_HIWATER + VM_GROUP_NONE, 0, buf, sizeof(buf)),
                "/api/v1/hiwater?group_by=none");
    CHECK(fleet_doc_path(_FLEET_DOC_MAX, 0, buf, sizeof(buf)) == NULL);
}

/* A large fleet: 1,000 peers (bench/fleet.sh's size; VM_FLEET_PEERS_MAX would make this test
 * take minutes), each with VM_FLEET_PROCS_PER_PEER processes and 2,000
 * groups per way of grouping (the documents are shared: the merge takes references, as it does
 * from the client). Prints the time of the merge and of the renders. */
static void test_scale(void) {
    /* 256 peers keep this test short under the sanitizers; bench/fleet.sh measures 1,000. */
    const size_t npeers = 256, nprocs = VM_FLEET_PROCS_PER_PEER, ngroups = 2000;
    struct fleet_doc *node = node_doc();
    json_t *a = json_array();
    for (size_t i = 0; i < nprocs; i++) {
        char comm[32];
        snprintf(comm, sizeof(comm), "proc-%zu", i % 300);
        json_array_append_new(a,
                              proc_json((int)i + 1, (i * 7919) % 100000, comm, "x.service", false));
    }
    struct fleet_doc *procs = parse_json(FLEET_DOC_PROCESSES,
                                         json_pack("{s:o, s:I, s:o}", "snapshot", snapshot_json(1),
                                                   "total", (json_int_t)nprocs, "processes", a),
                                         (uint32_t)nprocs);
    struct group_spec *gs = calloc(ngroups, sizeof(*gs));
    char(*keys)[24] = calloc(ngroups, sizeof(*keys));
    struct fleet_doc *hw[_VM_GROUP_MAX];
    for (int by = 0; by < _VM_GROUP_MAX; by++) {
        for (size_t i = 0; i < ngroups; i++) {
            snprintf(keys[i], sizeof(keys[i]), "group-%zu-%d", i, by);
            gs[i] = (struct group_spec){keys[i], 3, 1000 + i, 500 + i, (int)i + 1};
        }
        hw[by] = parse_json(FLEET_DOC_HIWATER + by, hiwater_json(by, gs, ngroups), 0);
    }
    struct fleet_doc *huge = parse_json(FLEET_DOC_HUGEPAGES, hugepages_json(4, 1, true), 0);
    if (!procs || !huge || !node)
        return;
    struct fleet_round round = {.started_at_ms = 1795543201000ull, .n = npeers};
    round.peers = calloc(npeers, sizeof(*round.peers));
    for (size_t i = 0; i < npeers; i++) {
        result_init(&round.peers[i], (int)i, true);
        round.peers[i].docs[FLEET_DOC_NODE] = fleet_doc_ref(node);
        round.peers[i].docs[FLEET_DOC_PROCESSES] = fleet_doc_ref(procs);
        round.peers[i].docs[FLEET_DOC_HUGEPAGES] = fleet_doc_ref(huge);
        for (int by = 0; by < _VM_GROUP_MAX; by++)
            round.peers[i].docs[FLEET_DOC_HIWATER + by] = fleet_doc_ref(hw[by]);
    }
    struct fleet_view *v1 = NULL, *v2 = NULL;
    double t0 = now_s();
    CHECK_EQ_INT(fleet_merge(NULL, &round, &v1), 0);
    double t1 = now_s();
    CHECK_EQ_INT(fleet_merge(v1, &round, &v2), 0);
    double t2 = now_s();
    struct proc_query q;
    proc_query_init(&q);
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_fleet_processes(v2, &q, NULL, NULL, &body, &len), 0);
    double t3 = now_s();
    free(body);
    CHECK_EQ_INT(render_fleet_hiwater(v2, VM_GROUP_COMM, NULL, &body, &len), 0);
    double t4 = now_s();
    printf("scale: %zu peers x %zu processes, %zu groups x 5 ways each: merge %.1f ms (first), "
           "%.1f ms (with carry-over); render processes (top 100 of %zu) %.1f ms; render "
           "hiwater (%u groups, %zu bytes) %.1f ms\n",
           npeers, nprocs, ngroups, (t1 - t0) * 1e3, (t2 - t1) * 1e3, npeers * nprocs,
           (t3 - t2) * 1e3, v2->ngroups[VM_GROUP_COMM], len, (t4 - t3) * 1e3);
    free(body);
    CHECK_EQ_U64(v2->ngroups[VM_GROUP_COMM], ngroups);
    CHECK(t2 - t1 < 30.0); /* loose: sanitizer builds on a shared machine */
    fleet_view_unref(v1);
    fleet_view_unref(v2);
    for (size_t i = 0; i < npeers; i++) {
        fleet_url_done(&round.peers[i].url);
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            fleet_doc_unref(round.peers[i].docs[k]);
    }
    free(round.peers);
    for (int by = 0; by < _VM_GROUP_MAX; by++)
        fleet_doc_unref(hw[by]);
    fleet_doc_unref(procs);
    fleet_doc_unref(huge);
    fleet_doc_unref(node);
    free(gs);
    free(keys);
}

/* --- allocation failures -------------------------------------------------------------------- */

static long alloc_countdown = -1; /* fail when it reaches 0; -1 = never */
static long allocs;

static void *failing_malloc(size_t n) {
    allocs++;
    if (alloc_countdown >= 0 && alloc_countdown-- == 0)
        return NULL;
    return malloc(n);
}

/* Render kind k of v: 0 and the body, or -ENOMEM. */
static int render_kind(const struct fleet_view *v, int k, char **body, size_t *len) {
    struct proc_query q;
    proc_query_init(&q);
    q.kthreads = PROC_KTHREADS_INCLUDE;
    json_t *tree = NULL;
    switch (k) {
    case 0:
        return render_fleet_processes(v, &q, NULL, NULL, body, len);
    case 1:
        return render_fleet_hiwater(v, VM_GROUP_UNIT, NULL, body, len);
    case 2:
        tree = render_fleet_nodes(v);
        break;
    case 3:
        tree = render_fleet_hugepages(v);
        break;
    default:
        tree = render_fleet_targets(v);
        break;
    }
    int r = tree ? render_dump(tree, NULL, body, len) : -ENOMEM;
    json_decref(tree);
    return r;
}

/* Fail jansson's 1st, 2nd, ... allocation in every fleet renderer and in the validator: each
 * run reports the failure (-ENOMEM, or NULL) or gives the whole document, never a part; and
 * LeakSanitizer (sanitizer build) sees nothing left behind. */
static void test_oom(void) {
    struct fleet_doc *node = node_doc(), *docs[_FLEET_DOC_MAX];
    json_t *a = json_array();
    json_array_append_new(a, proc_json(3, 7, "x", "u.service", false));
    json_array_append_new(a, proc_json(2, 0, "kthreadd", NULL, true));
    docs[FLEET_DOC_NODE] = node;
    docs[FLEET_DOC_PROCESSES] = parse_json(
        FLEET_DOC_PROCESSES,
        json_pack("{s:o, s:i, s:o}", "snapshot", snapshot_json(1), "total", 2, "processes", a), 10);
    docs[FLEET_DOC_HUGEPAGES] = parse_json(FLEET_DOC_HUGEPAGES, hugepages_json(2, 1, true), 0);
    const struct group_spec g[] = {{"a", 1, 5, 5, 3}, {NULL, 1, 1, 1, 2}};
    for (int by = 0; by < _VM_GROUP_MAX; by++)
        docs[FLEET_DOC_HIWATER + by] =
            parse_json(FLEET_DOC_HIWATER + by, hiwater_json(by, g, 2), 0);
    struct fleet_result res[2];
    struct fleet_round round = {.started_at_ms = 1795543201000ull, .n = 2, .peers = res};
    result_init(&res[0], 0, true);
    result_init(&res[1], 1, false);
    for (int k = 0; k < _FLEET_DOC_MAX; k++)
        res[0].docs[k] = fleet_doc_ref(docs[k]);
    struct fleet_view *v = NULL;
    CHECK_EQ_INT(fleet_merge(NULL, &round, &v), 0);
    if (!v)
        return;
    for (int k = 0; k < 5; k++) {
        char *want = NULL, *got = NULL;
        size_t wlen = 0, glen = 0;
        CHECK_EQ_INT(render_kind(v, k, &want, &wlen), 0);
        long n;
        for (n = 0; n < 100000; n++) {
            alloc_countdown = n;
            allocs = 0;
            json_set_alloc_funcs(failing_malloc, free);
            int r = render_kind(v, k, &got, &glen);
            json_set_alloc_funcs(malloc, free);
            alloc_countdown = -1;
            if (r < 0) {
                CHECK_EQ_INT(r, -ENOMEM);
                continue;
            }
            CHECK(want && glen == wlen && memcmp(got, want, wlen) == 0);
            free(got);
            if (allocs <= n)
                break; /* the countdown never fired: done */
        }
        CHECK(n < 100000);
        free(want);
    }
    /* The validator under allocation failure. */
    const char *body = "{\"snapshot\":{\"seq\":1,\"collected_at\":\"2026-11-24T18:00:00Z\"},"
                       "\"hostname\":\"h\",\"kernel\":\"k\"}";
    for (long n = 0; n < 1000; n++) {
        struct fleet_doc *d = NULL;
        char err[128];
        alloc_countdown = n;
        allocs = 0;
        json_set_alloc_funcs(failing_malloc, free);
        int r = fleet_doc_parse(FLEET_DOC_NODE, body, strlen(body), 0, &d, err, sizeof(err));
        json_set_alloc_funcs(malloc, free);
        alloc_countdown = -1;
        /* jansson's parser does not always tell its own allocation failure from bad input
         * (it may say "invalid token"): either refusal is fine, a crash or a leak is not. */
        CHECK(r == 0 || r == -ENOMEM || r == -EBADMSG);
        fleet_doc_unref(d);
        if (r == 0 && allocs <= n)
            break;
    }
    fleet_view_unref(v);
    for (int i = 0; i < 2; i++) {
        fleet_url_done(&res[i].url);
        for (int k = 0; k < _FLEET_DOC_MAX; k++)
            fleet_doc_unref(res[i].docs[k]);
    }
    for (int k = 0; k < _FLEET_DOC_MAX; k++)
        fleet_doc_unref(docs[k]);
}

/* The processes asked of each peer: VM_FLEET_PROCS_TOTAL shared out, between the minimum and
 * the options' limit, following the peers list. */
static void test_procs_budget(void) {
    static const struct {
        size_t npeers;
        uint32_t opt, want;
    } cases[] = {
        {0, 0, VM_FLEET_PROCS_PER_PEER},
        {10, 0, VM_FLEET_PROCS_PER_PEER},
        {100, 0,
         VM_FLEET_PROCS_TOTAL / 100 < VM_FLEET_PROCS_PER_PEER ? VM_FLEET_PROCS_TOTAL / 100
                                                              : VM_FLEET_PROCS_PER_PEER},
        {1000, 0, VM_FLEET_PROCS_TOTAL / 1000},
        {VM_FLEET_PEERS_MAX, 0,
         VM_FLEET_PROCS_TOTAL / VM_FLEET_PEERS_MAX > VM_FLEET_PROCS_PER_PEER_MIN
             ? VM_FLEET_PROCS_TOTAL / VM_FLEET_PEERS_MAX
             : VM_FLEET_PROCS_PER_PEER_MIN},
        {1000, 50, 50},
        {VM_FLEET_PEERS_MAX, 5, 5},
    };
    struct fleet_url *urls = calloc(VM_FLEET_PEERS_MAX, sizeof(*urls));
    for (size_t i = 0; urls && i < VM_FLEET_PEERS_MAX; i++) {
        char u[64];
        size_t n = 0;
        struct fleet_url *one = NULL;
        snprintf(u, sizeof(u), "http://10.%zu.%zu.1:9477", i / 256, i % 256);
        char err[256];
        CHECK_EQ_INT(fleet_urls_parse(u, strlen(u), "t", &one, &n, err, sizeof(err)), 0);
        CHECK_EQ_U64(n, 1);
        urls[i] = one[0];
        free(one);
    }
    for (size_t k = 0; urls && k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct fleet_client_options o = {.procs_limit = cases[k].opt};
        struct fleet_client *c = NULL;
        CHECK_EQ_INT(fleet_client_new(&o, &c), 0);
        if (!c)
            continue;
        CHECK_EQ_INT(fleet_client_set_peers(c, urls, cases[k].npeers), 0);
        CHECK_EQ_U64(fleet_client_procs_limit(c), cases[k].want);
        c = fleet_client_free(c);
    }
    for (size_t i = 0; urls && i < VM_FLEET_PEERS_MAX; i++)
        fleet_url_done(&urls[i]);
    free(urls);
}

int main(void) {
    test_procs_budget();
    test_urls();
    test_lists();
    test_times();
    test_doc_valid();
    test_doc_hostile();
    test_merge();
    test_pending_and_paths();
    test_oom();
    test_scale();
    return test_result("test_fleet");
}
