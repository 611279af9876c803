/* test_render_oom.c: allocation-failure loop over the JSON renderers. jansson's allocator is
 * made to fail its 1st, 2nd, ... allocation until the render succeeds; every failing run must
 * report the failure (NULL or -ENOMEM, never a document with members missing) and leak
 * nothing (LeakSanitizer, in the sanitizer build). */
#include <errno.h>

#include "api/render.h"
#include "render_fixture.h"
#include "test.h"

static long alloc_countdown = -1; /* fail when it reaches 0; -1 = never */
static long allocs;

static void *failing_malloc(size_t n) {
    allocs++;
    if (alloc_countdown >= 0 && alloc_countdown-- == 0)
        return NULL;
    return malloc(n);
}

static void failing_free(void *p) {
    free(p);
}

static void fail_after(long n) {
    alloc_countdown = n;
    allocs = 0;
    json_set_alloc_funcs(failing_malloc, failing_free);
}

static void stop_failing(void) {
    alloc_countdown = -1;
}

/* Returns the complete dump of what render() built, or NULL when it reported failure. */
typedef json_t *(*render_fn)(const struct vm_snapshot *s, const void *arg);

static json_t *r_detail(const struct vm_snapshot *s, const void *arg) {
    return render_process_detail(s, arg, NULL);
}
static json_t *r_summary(const struct vm_snapshot *s, const void *arg) {
    return render_process_summary(s, arg, NULL);
}
static json_t *r_vma(const struct vm_snapshot *s, const void *arg) {
    return render_vma(s, arg, NULL);
}
static json_t *r_ref(const struct vm_snapshot *s, const void *arg) {
    (void)arg;
    return render_snapshot_ref(s);
}

static char *dump(json_t *v) {
    char *body = NULL;
    size_t len;
    if (render_dump(v, NULL, &body, &len) < 0)
        return NULL;
    return body;
}

static void loop(const char *what, const struct vm_snapshot *s, render_fn fn, const void *arg) {
    json_set_alloc_funcs(malloc, free);
    json_t *good = fn(s, arg);
    char *want = dump(good);
    json_decref(good);
    CHECK(want != NULL);

    long n;
    for (n = 0; n < 100000; n++) {
        fail_after(n);
        json_t *v = fn(s, arg);
        stop_failing();
        if (!v)
            continue; /* reported: fine */
        char *got = dump(v);
        json_decref(v);
        /* Once the render succeeded under failure injection it must be the whole thing. */
        CHECK(got && want && strcmp(got, want) == 0);
        free(got);
        if (allocs <= n)
            break; /* the countdown never fired: done */
    }
    printf("%s: %ld allocation points\n", what, n);
    CHECK(n < 100000);
    json_set_alloc_funcs(malloc, free);
    free(want);
}

static void loop_processes(const struct vm_snapshot *s) {
    struct proc_query q;
    proc_query_init(&q);
    q.kthreads = PROC_KTHREADS_INCLUDE;
    char *want = NULL;
    size_t want_len = 0;
    json_set_alloc_funcs(malloc, free);
    CHECK_EQ_INT(render_processes(s, &q, NULL, &want, &want_len), 0);
    long n;
    for (n = 0; n < 100000; n++) {
        char *body = NULL;
        size_t len = 0;
        fail_after(n);
        int r = render_processes(s, &q, NULL, &body, &len);
        stop_failing();
        if (r < 0) {
            CHECK_EQ_INT(r, -ENOMEM);
            CHECK(body == NULL);
            continue;
        }
        CHECK(len == want_len && memcmp(body, want, len) == 0);
        free(body);
        if (allocs <= n)
            break;
    }
    printf("render_processes: %ld allocation points\n", n);
    json_set_alloc_funcs(malloc, free);
    free(want);
}

int main(void) {
    struct vm_snapshot *s = fixture_snapshot();
    loop("render_snapshot_ref", s, r_ref, NULL);
    loop("render_process_summary", s, r_summary, vm_snapshot_find(s, 100));
    loop("render_process_detail", s, r_detail, vm_snapshot_find(s, 1));
    loop("render_process_detail kthread", s, r_detail, vm_snapshot_find(s, 2));
    loop("render_vma", s, r_vma, vm_snapshot_vmas(s, vm_snapshot_find(s, 200)));
    loop_processes(s);
    (void)vm_snapshot_unref(s);
    return test_result("test_render_oom");
}
