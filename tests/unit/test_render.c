/* test_render.c: JSON renderers (summary, detail, VMA, /api/v1/processes, dump) on a hand-made
 * snapshot, checked by parsing the rendered text back and comparing members. */
#include <errno.h>
#include <time.h>

#include "api/json.h"
#include "api/render.h"
#include "render_fixture.h"
#include "test.h"

#define CHECK_JSTR(o, key, want)                                                                   \
    do {                                                                                           \
        json_t *_v = json_object_get((o), (key));                                                  \
        CHECK(json_is_string(_v));                                                                 \
        CHECK_STREQ(json_string_value(_v), (want));                                                \
    } while (0)
#define CHECK_JINT(o, key, want)                                                                   \
    do {                                                                                           \
        json_t *_v = json_object_get((o), (key));                                                  \
        CHECK(json_is_integer(_v));                                                                \
        CHECK_EQ_INT(json_integer_value(_v), (want));                                              \
    } while (0)
#define CHECK_JNULL(o, key)                                                                        \
    do {                                                                                           \
        json_t *_v = json_object_get((o), (key));                                                  \
        CHECK(_v != NULL);                                                                         \
        CHECK(json_is_null(_v));                                                                   \
    } while (0)
#define CHECK_JBOOL(o, key, want)                                                                  \
    do {                                                                                           \
        json_t *_v = json_object_get((o), (key));                                                  \
        CHECK(json_is_boolean(_v));                                                                \
        CHECK(json_is_true(_v) == (want));                                                         \
    } while (0)

static const struct render_opts plain = {0};
static const struct render_opts redacted = {.redact_addresses = true};

/* Dump v (and drop it), then parse the text back: what a client sees. */
static json_t *roundtrip(json_t *v, const struct render_opts *o) {
    CHECK(v != NULL);
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_dump(v, o, &body, &len), 0);
    json_decref(v);
    if (!body)
        return NULL;
    CHECK_EQ_U64(strlen(body), len);
    json_error_t e;
    json_t *doc = json_loadb(body, len, 0, &e);
    if (!doc)
        fprintf(stderr, "parse error: %s in %s\n", e.text, body);
    CHECK(doc != NULL);
    free(body);
    return doc;
}

static json_t *processes_doc(const struct vm_snapshot *s, const struct proc_query *q) {
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_processes(s, q, &plain, &body, &len), 0);
    if (!body)
        return NULL;
    CHECK_EQ_U64(strlen(body), len);
    json_t *doc = json_loadb(body, len, 0, NULL);
    CHECK(doc != NULL);
    free(body);
    return doc;
}

/* pids of a /api/v1/processes document, in order, as "1,2,3". */
static void pid_list(json_t *doc, char *buf, size_t len) {
    size_t o = 0;
    buf[0] = 0;
    json_t *arr = json_object_get(doc, "processes");
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p) {
        int n = snprintf(buf + o, len - o, "%s%lld", i ? "," : "",
                         (long long)json_integer_value(json_object_get(p, "pid")));
        if (n > 0 && (size_t)n < len - o)
            o += (size_t)n;
    }
}

static json_t *query_pids(const struct vm_snapshot *s, const char *const *params, char *buf,
                          size_t len, uint64_t *ret_total) {
    struct proc_query q;
    proc_query_init(&q);
    for (size_t i = 0; params && params[i]; i += 2) {
        char msg[128];
        const char *m = NULL;
        int r = proc_query_set(&q, params[i], params[i + 1], msg, sizeof(msg), &m);
        if (r < 0)
            fprintf(stderr, "query %s=%s: %s\n", params[i], params[i + 1], m);
        CHECK_EQ_INT(r, 0);
    }
    json_t *doc = processes_doc(s, &q);
    pid_list(doc, buf, len);
    *ret_total = (uint64_t)json_integer_value(json_object_get(doc, "total"));
    return doc;
}

#define CHECK_QUERY(s, total, want, ...)                                                           \
    do {                                                                                           \
        static const char *const _params[] = {__VA_ARGS__, NULL};                                  \
        char _buf[256];                                                                            \
        uint64_t _total = 0;                                                                       \
        json_t *_doc = query_pids((s), _params, _buf, sizeof(_buf), &_total);                      \
        CHECK_STREQ(_buf, (want));                                                                 \
        CHECK_EQ_U64(_total, (total));                                                             \
        json_decref(_doc);                                                                         \
    } while (0)

static void test_helpers(void) {
    char buf[32];
    CHECK_STREQ(format_time_ms(FIXTURE_COLLECTED_AT_MS, buf, sizeof(buf)),
                "2026-11-24T18:00:00.123Z");
    CHECK_STREQ(format_time_ms(1, buf, sizeof(buf)), "1970-01-01T00:00:00.001Z");
    CHECK_STREQ(format_time_ms(951782400000ull, buf, sizeof(buf)), "2000-02-29T00:00:00.000Z");
    CHECK_STREQ(format_time_ms(UINT64_MAX, buf, sizeof(buf)), "9999-12-31T23:59:59.999Z");
    json_t *v = json_time_ms(0);
    CHECK(json_is_null(v));
    json_decref(v);
    v = json_time_ms(FIXTURE_COLLECTED_AT_MS);
    CHECK_STREQ(json_string_value(v), "2026-11-24T18:00:00.123Z");
    json_decref(v);

    v = json_address(0x7ffd2c1e0000ull, false);
    CHECK_STREQ(json_string_value(v), "0x7ffd2c1e0000");
    json_decref(v);
    v = json_address(0xffffffffff600000ull, false); /* [vsyscall]: not a json_int_t */
    CHECK_STREQ(json_string_value(v), "0xffffffffff600000");
    json_decref(v);
    v = json_address(0, false);
    CHECK_STREQ(json_string_value(v), "0x0");
    json_decref(v);
    v = json_address(0x1000, true);
    CHECK(json_is_null(v));
    json_decref(v);

    v = json_u64(123);
    CHECK_EQ_INT(json_integer_value(v), 123);
    json_decref(v);
    v = json_u64(UINT64_MAX);
    CHECK_EQ_INT(json_integer_value(v), INT64_MAX);
    json_decref(v);

    CHECK_STREQ(errno_name(EACCES, buf, sizeof(buf)), "EACCES");
    CHECK_STREQ(errno_name(EPERM, buf, sizeof(buf)), "EPERM");
    CHECK_STREQ(errno_name(ESRCH, buf, sizeof(buf)), "ESRCH");
    CHECK_STREQ(errno_name(-ENOENT, buf, sizeof(buf)), "ENOENT");
    CHECK_STREQ(errno_name(4000, buf, sizeof(buf)), "E4000");
}

static void check_all_members(json_t *obj, const struct vm_field *fields, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(obj, fields[i].json)) {
            fprintf(stderr, "member %s missing\n", fields[i].json);
            CHECK(0);
        }
}

static void test_summary(const struct vm_snapshot *s) {
    /* systemd: everything present */
    json_t *o = roundtrip(render_process_summary(s, vm_snapshot_find(s, 1), &plain), &plain);
    CHECK_JINT(o, "pid", 1);
    CHECK_JINT(o, "ppid", 0);
    CHECK_JSTR(o, "id", "1:1001");
    CHECK_JSTR(o, "start_time", "2026-11-24T17:59:00.123Z");
    CHECK_JSTR(o, "comm", "systemd");
    CHECK_JSTR(o, "cmdline", "/sbin/init splash");
    CHECK_JINT(o, "uid", 0);
    CHECK_JSTR(o, "user", "root");
    CHECK_JSTR(o, "state", "S");
    CHECK_JINT(o, "threads", 1);
    CHECK_JSTR(o, "cgroup", "/init.scope");
    CHECK_JSTR(o, "unit", "init.scope");
    CHECK_JBOOL(o, "kthread", false);
    CHECK_JINT(o, "vma_count", 3);
    json_t *mem = json_object_get(o, "memory");
    CHECK(json_is_object(mem));
    CHECK_EQ_U64(json_object_size(mem), _VM_MEM_MAX);
    check_all_members(mem, vm_memory_fields, _VM_MEM_MAX);
    CHECK_JINT(mem, "vm_rss", 12 * MB);
    CHECK_JINT(mem, "vm_hwm", 24 * MB);
    CHECK_JINT(mem, "vm_swap", 0);
    CHECK_JNULL(mem, "vm_lck");
    json_t *rollup = json_object_get(o, "rollup");
    CHECK(json_is_object(rollup));
    CHECK_EQ_U64(json_object_size(rollup), _VM_ROLLUP_MAX + 1);
    check_all_members(rollup, vm_rollup_fields, _VM_ROLLUP_MAX);
    CHECK_JINT(rollup, "pss", 8 * MB);
    CHECK_JINT(rollup, "uss", 4 * MB);
    CHECK_JNULL(rollup, "swap");
    json_t *hw = json_object_get(o, "hiwater");
    CHECK_JINT(hw, "vm_hwm", 24 * MB);
    CHECK_JINT(hw, "vm_peak", 48 * MB);
    CHECK_JINT(hw, "observed_rss_max", 12 * MB);
    CHECK_JSTR(hw, "observed_rss_max_at", "2026-11-24T18:00:00.123Z");
    json_t *errs = json_object_get(o, "errors");
    CHECK(json_is_array(errs) && json_array_size(errs) == 0);
    /* the summary has no detail members */
    CHECK(json_object_get(o, "layout") == NULL);
    CHECK(json_object_get(o, "kinds") == NULL);
    json_decref(o);

    /* kernel thread: no memory, maps read with 0 VMAs */
    o = roundtrip(render_process_summary(s, vm_snapshot_find(s, 2), &plain), &plain);
    CHECK_JBOOL(o, "kthread", true);
    CHECK_JINT(o, "vma_count", 0);
    CHECK_JSTR(o, "cmdline", "");
    CHECK_JNULL(o, "unit");
    CHECK_JNULL(o, "rollup");
    mem = json_object_get(o, "memory");
    CHECK_EQ_U64(json_object_size(mem), _VM_MEM_MAX);
    CHECK_JNULL(mem, "vm_rss");
    CHECK_JNULL(mem, "vm_peak");
    hw = json_object_get(o, "hiwater");
    CHECK_JNULL(hw, "vm_hwm");
    CHECK_JNULL(hw, "observed_rss_max");
    CHECK_JNULL(hw, "observed_rss_max_at");
    json_decref(o);

    /* comm with parentheses and a newline, rollup unreadable */
    o = roundtrip(render_process_summary(s, vm_snapshot_find(s, 100), &plain), &plain);
    CHECK_JSTR(o, "comm", "a) b (c\n");
    CHECK_JNULL(o, "rollup");
    CHECK_JNULL(o, "unit");
    errs = json_object_get(o, "errors");
    CHECK_EQ_U64(json_array_size(errs), 1);
    CHECK_JSTR(json_array_get(errs, 0), "source", "smaps_rollup");
    CHECK_JSTR(json_array_get(errs, 0), "errno", "EACCES");
    json_decref(o);

    /* invalid UTF-8 in comm and cmdline */
    o = roundtrip(render_process_summary(s, vm_snapshot_find(s, 200), &plain), &plain);
    CHECK_JSTR(o, "comm", "\\xff\\xfe x");
    CHECK_JSTR(o, "cmdline", "bad\\xc0\\x80 arg");
    rollup = json_object_get(o, "rollup");
    CHECK_JINT(rollup, "uss", 5 * MB);
    json_decref(o);

    /* status unreadable: no uid, every memory field null, vma_count null, two errors */
    o = roundtrip(render_process_summary(s, vm_snapshot_find(s, 400), &plain), &plain);
    CHECK_JNULL(o, "uid");
    CHECK_JNULL(o, "user");
    CHECK_JNULL(o, "vma_count");
    mem = json_object_get(o, "memory");
    const char *k;
    json_t *v;
    json_object_foreach(mem, k, v) CHECK(json_is_null(v));
    errs = json_object_get(o, "errors");
    CHECK_EQ_U64(json_array_size(errs), 2);
    CHECK_JSTR(json_array_get(errs, 0), "source", "status");
    CHECK_JSTR(json_array_get(errs, 1), "source", "maps");
    CHECK_JSTR(json_array_get(errs, 1), "errno", "EACCES");
    json_decref(o);
}

static void test_detail(const struct vm_snapshot *s) {
    const struct vm_process *p = vm_snapshot_find(s, 1);
    json_t *o = roundtrip(render_process_detail(s, p, &plain), &plain);
    CHECK_JSTR(o, "comm", "systemd"); /* summary members are there */
    CHECK(json_is_object(json_object_get(o, "memory")));
    json_t *l = json_object_get(o, "layout");
    CHECK(json_is_object(l));
    check_all_members(l, vm_layout_fields, _VM_LAYOUT_MAX);
    CHECK_JSTR(l, "start_code", "0x55d0c0000000");
    CHECK_JSTR(l, "brk", "0x55d0c2000000");
    CHECK_JNULL(l, "env_start"); /* layout_present bit off */
    CHECK_JBOOL(l, "top_down", true);
    CHECK_JINT(l, "address_bits", 47);
    CHECK_JSTR(l, "lowest", "0x55d0c0000000");
    CHECK_JSTR(l, "highest", "0x7ffd2c200000");
    CHECK_JINT(l, "gap_count", 2);
    CHECK_JINT(l, "largest_gap", 0x7ffd2c1e0000ll - 0x55d0c2000000ll);
    json_t *kinds = json_object_get(o, "kinds");
    CHECK_EQ_U64(json_object_size(kinds), 3);
    json_t *heap = json_object_get(kinds, "heap");
    CHECK_JINT(heap, "count", 1);
    CHECK_JINT(heap, "size", 0x1000000);
    CHECK_JINT(heap, "rss", 2048 * KB);
    CHECK_JINT(heap, "pss", 1024 * KB);
    CHECK_JINT(heap, "swap", 4 * KB);
    CHECK(json_object_get(kinds, "stack") && json_object_get(kinds, "file_private"));
    json_t *hp = json_object_get(o, "hugepages");
    CHECK_JINT(hp, "hugetlb", 0);
    CHECK_JINT(hp, "anon_huge", 0);
    CHECK_JINT(hp, "shmem_pmd_mapped", 0);
    CHECK_JINT(hp, "thp_eligible_size", 0x1000000);
    CHECK_JSTR(o, "smaps_collected_at", "2026-11-24T18:00:00.123Z");
    CHECK_JBOOL(o, "vmas_truncated", false);
    /* Process residency from smaps_rollup: present = Rss + hugetlb, exclusive = Private_*. */
    json_t *res = json_object_get(o, "residency");
    CHECK(json_is_object(res));
    CHECK_JSTR(res, "source", "smaps");
    CHECK_JNULL(res, "soft_dirty");
    json_decref(o);

    /* redaction: addresses null, sizes and gaps stay */
    o = roundtrip(render_process_detail(s, p, &redacted), &plain);
    l = json_object_get(o, "layout");
    CHECK_JNULL(l, "start_code");
    CHECK_JNULL(l, "brk");
    CHECK_JNULL(l, "lowest");
    CHECK_JNULL(l, "highest");
    CHECK_JINT(l, "gap_count", 2);
    CHECK_JINT(l, "largest_gap", 0x7ffd2c1e0000ll - 0x55d0c2000000ll);
    CHECK_JINT(json_object_get(json_object_get(o, "kinds"), "heap"), "size", 0x1000000);
    json_decref(o);

    /* a VMA of a kind without smaps: that kind's figures null, thp_eligible_size null */
    o = roundtrip(render_process_detail(s, vm_snapshot_find(s, 200), &plain), &plain);
    kinds = json_object_get(o, "kinds");
    json_t *anon = json_object_get(kinds, "anon");
    CHECK_JINT(anon, "count", 2);
    CHECK_JINT(anon, "size", 0x201000);
    CHECK_JNULL(anon, "rss");
    CHECK_JNULL(anon, "pss");
    CHECK_JNULL(anon, "swap");
    json_t *memfd = json_object_get(kinds, "memfd");
    CHECK_JINT(memfd, "rss", 1024 * KB);
    CHECK_JNULL(json_object_get(o, "hugepages"), "thp_eligible_size");
    CHECK_JNULL(json_object_get(o, "hugepages"), "anon_huge");
    CHECK_JNULL(o, "smaps_collected_at");
    json_decref(o);

    /* kernel thread: no layout at all, no kinds, thp_eligible_size 0 (no VMAs) */
    o = roundtrip(render_process_detail(s, vm_snapshot_find(s, 2), &plain), &plain);
    l = json_object_get(o, "layout");
    CHECK_JNULL(l, "lowest");
    CHECK_JNULL(l, "gap_count");
    CHECK_JNULL(l, "largest_gap");
    CHECK_JNULL(l, "start_code");
    CHECK_EQ_U64(json_object_size(json_object_get(o, "kinds")), 0);
    CHECK_JINT(json_object_get(o, "hugepages"), "thp_eligible_size", 0);
    json_decref(o);
}

static void test_vma(const struct vm_snapshot *s) {
    const struct vm_process *p = vm_snapshot_find(s, 1);
    const struct vm_vma *v = vm_snapshot_vmas(s, p);
    json_t *o = roundtrip(render_vma(s, &v[0], &plain), &plain);
    CHECK_JSTR(o, "start", "0x55d0c0000000");
    CHECK_JSTR(o, "end", "0x55d0c0100000");
    CHECK_JINT(o, "size", 0x100000);
    CHECK_JSTR(o, "perms", "r-xp");
    CHECK_JINT(o, "offset", 0x1000);
    CHECK_JSTR(o, "dev", "fd:01");
    CHECK_JINT(o, "inode", 42);
    CHECK_JSTR(o, "name", "/usr/lib/systemd/systemd");
    CHECK_JBOOL(o, "deleted", false);
    CHECK_JSTR(o, "kind", "file_private");
    json_t *flags = json_object_get(o, "flags");
    CHECK(json_is_array(flags));
    CHECK_EQ_U64(json_array_size(flags), 6);
    CHECK_STREQ(json_string_value(json_array_get(flags, 0)), "rd");
    CHECK_STREQ(json_string_value(json_array_get(flags, 5)), "ac");
    check_all_members(o, vm_vma_fields, _VM_VMAF_MAX);
    CHECK_JINT(o, "rss", 800 * KB);
    CHECK_JINT(o, "pss", 400 * KB);
    CHECK_JINT(o, "swap", 4 * KB);
    CHECK_JINT(o, "private_dirty", 0);
    CHECK_JINT(o, "kernel_page_size", 4096);
    CHECK_JINT(o, "mmu_page_size", 4096);
    CHECK_JBOOL(o, "thp_eligible", false);
    /* VMA residency from smaps: present = Rss + hugetlb pages, swapped = Swap. */
    json_t *vres = json_object_get(o, "residency");
    CHECK(json_is_object(vres));
    CHECK_JINT(vres, "present", 800 * KB);
    CHECK_JINT(vres, "swapped", 4 * KB);
    CHECK_JSTR(vres, "source", "smaps");
    CHECK_JNULL(vres, "soft_dirty");
    json_decref(o);

    o = roundtrip(render_vma(s, &v[1], &redacted), &plain);
    CHECK_JNULL(o, "start");
    CHECK_JNULL(o, "end");
    CHECK_JINT(o, "size", 0x1000000);
    CHECK_JSTR(o, "perms", "rw-p");
    CHECK_JSTR(o, "dev", "00:00");
    CHECK_JSTR(o, "name", "[heap]");
    CHECK_JSTR(o, "kind", "heap");
    CHECK_JBOOL(o, "thp_eligible", true);
    json_decref(o);

    p = vm_snapshot_find(s, 200);
    v = vm_snapshot_vmas(s, p);
    o = roundtrip(render_vma(s, &v[0], &plain), &plain);
    CHECK_JSTR(o, "name", "/memfd:x (deleted)");
    CHECK_JBOOL(o, "deleted", true);
    CHECK_JSTR(o, "kind", "memfd");
    CHECK_JSTR(o, "perms", "rw-s");
    json_decref(o);

    /* no smaps yet: figures, page sizes, thp_eligible and flags null; nameless */
    o = roundtrip(render_vma(s, &v[1], &plain), &plain);
    CHECK_JNULL(o, "name");
    CHECK_JBOOL(o, "deleted", false);
    CHECK_JNULL(o, "flags");
    for (int f = 0; f < _VM_VMAF_MAX; f++)
        CHECK_JNULL(o, vm_vma_fields[f].json);
    CHECK_JNULL(o, "kernel_page_size");
    CHECK_JNULL(o, "mmu_page_size");
    CHECK_JNULL(o, "thp_eligible");
    json_decref(o);
}

static void test_processes(const struct vm_snapshot *s) {
    /* document shape */
    json_t *doc = processes_doc(s, NULL);
    json_t *snap = json_object_get(doc, "snapshot");
    CHECK_JINT(snap, "seq", 7);
    CHECK_JSTR(snap, "collected_at", "2026-11-24T18:00:00.123Z");
    CHECK_EQ_U64(json_object_size(doc), 3);
    json_decref(doc);

    /* default: rss desc, kthreads excluded, ties by pid, absent (pid 400) last */
    CHECK_QUERY(s, 7, "500,501,100,200,1,300,400", "sort", "rss");
    CHECK_QUERY(s, 7, "300,1,200,100,500,501,400", "order", "asc");
    /* order before or after sort: the explicit order wins either way */
    CHECK_QUERY(s, 7, "300,1,200,100,500,501,400", "order", "asc", "sort", "vm_hwm");
    CHECK_QUERY(s, 7, "300,1,200,100,500,501,400", "sort", "vm_hwm", "order", "asc");
    CHECK_QUERY(s, 7, "400,300,200,100,1", "sort", "pid", "order", "desc", "limit", "5",
                "offset", "2");
    CHECK_QUERY(s, 7, "1,100,200,300,400,500,501", "sort", "pid");
    /* pss: rollup; 100 (unreadable) and 300/400 (none) last, by pid */
    CHECK_QUERY(s, 7, "501,500,200,1,100,300,400", "sort", "pss");
    CHECK_QUERY(s, 7, "1,200,500,501,100,300,400", "sort", "pss", "order", "asc");
    CHECK_QUERY(s, 7, "501,500,200,1,100,300,400", "sort", "uss");
    CHECK_QUERY(s, 7, "500,1,100,200,300,400,501", "sort", "anon_huge");
    CHECK_QUERY(s, 7, "1,200,100,300,500,501,400", "sort", "vmas");
    CHECK_QUERY(s, 7, "1,100,200,300,500,501,400", "sort", "swap");
    CHECK_QUERY(s, 7, "500,501,100,200,1,300,400", "sort", "vm_peak");
    CHECK_QUERY(s, 7, "1,100,200,300,500,501,400", "sort", "hugetlb");
    /* comm bytewise: "\xff..." sorts after ASCII */
    CHECK_QUERY(s, 7, "100,300,400,1,500,501,200", "sort", "comm");
    CHECK_QUERY(s, 7, "200,500,501,1,400,300,100", "sort", "comm", "order", "desc");
    /* kthreads */
    CHECK_QUERY(s, 9, "500,501,100,200,1,300,2,3,400", "kthreads", "include");
    CHECK_QUERY(s, 2, "2,3", "kthreads", "only");
    CHECK_QUERY(s, 2, "2,3", "kthreads", "only", "sort", "pid");
    /* filters: total counts after filtering, before limit/offset */
    CHECK_QUERY(s, 2, "500,501", "comm", "worker");
    CHECK_QUERY(s, 1, "100", "comm", "a) b (c\n");
    CHECK_QUERY(s, 1, "1", "user", "root");
    CHECK_QUERY(s, 3, "1,2,3", "user", "root", "kthreads", "include");
    CHECK_QUERY(s, 2, "500,501", "unit", "app.service");
    CHECK_QUERY(s, 2, "500,501", "cgroup", "/system.slice");
    CHECK_QUERY(s, 4, "100,200,300", "cgroup", "/user.slice", "offset", "0", "limit", "3",
                "sort", "pid");
    CHECK_QUERY(s, 0, "", "comm", "nope");
    CHECK_QUERY(s, 0, "", "unit", "init");
    /* limit / offset */
    CHECK_QUERY(s, 7, "500", "limit", "1");
    CHECK_QUERY(s, 7, "501,100", "limit", "2", "offset", "1");
    CHECK_QUERY(s, 7, "400", "offset", "6");
    CHECK_QUERY(s, 7, "", "offset", "7");
    CHECK_QUERY(s, 7, "", "offset", "18446744073709551615");
    CHECK_QUERY(s, 7, "500,501,100,200,1,300,400", "limit", "10000");

    /* pretty dumps indent and parse the same */
    struct proc_query q;
    proc_query_init(&q);
    struct render_opts pretty = {.pretty = true};
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_processes(s, &q, &pretty, &body, &len), 0);
    CHECK(body && strstr(body, "\n  \"processes\": [") != NULL);
    json_t *d2 = json_loadb(body, len, 0, NULL);
    CHECK(d2 != NULL);
    json_decref(d2);
    free(body);
    CHECK_EQ_INT(render_processes(s, &q, &plain, &body, &len), 0);
    CHECK(body && strchr(body, '\n') == NULL && strncmp(body, "{\"processes\":[", 14) == 0);
    free(body);
}

/* 10,000 processes: render the default query quickly (sorting an index, not documents). */
static void test_many(void) {
    struct snap_builder *b = NULL;
    CHECK_EQ_INT(snap_builder_new(&b), 0);
    for (int32_t pid = 1; pid <= 10000; pid++) {
        char comm[16];
        snprintf(comm, sizeof(comm), "p%d", pid % 97);
        fx_user_proc(b, pid, comm, (uint64_t)((pid * 7919) % 10007) * 4096);
    }
    struct vm_snapshot hdr = {.seq = 1, .collected_at_ms = FIXTURE_COLLECTED_AT_MS};
    struct vm_snapshot *s = NULL;
    CHECK_EQ_INT(snap_builder_finish(b, &hdr, &s), 0);
    (void)snap_builder_free(b);

    struct proc_query q;
    proc_query_init(&q);
    q.limit = PROC_QUERY_LIMIT_MAX;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *body = NULL;
    size_t len = 0;
    CHECK_EQ_INT(render_processes(s, &q, &plain, &body, &len), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("10000 processes: %zu bytes in %.3f s\n", len, secs);
    json_t *doc = json_loadb(body, len, 0, NULL);
    CHECK(doc != NULL);
    CHECK_EQ_U64(json_array_size(json_object_get(doc, "processes")), 10000);
    /* sorted by rss descending */
    json_t *arr = json_object_get(doc, "processes");
    json_int_t prev = INT64_MAX;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_int_t rss = json_integer_value(
            json_object_get(json_object_get(json_array_get(arr, i), "memory"), "vm_rss"));
        CHECK(rss <= prev);
        prev = rss;
    }
    json_decref(doc);
    free(body);

    q.limit = 10;
    CHECK_EQ_INT(render_processes(s, &q, &plain, &body, &len), 0);
    free(body);
    (void)vm_snapshot_unref(s);
}

int main(void) {
    test_helpers();
    struct vm_snapshot *s = fixture_snapshot();
    test_summary(s);
    test_detail(s);
    test_vma(s);
    test_processes(s);
    (void)vm_snapshot_unref(s);
    test_many();
    return test_result("test_render");
}
