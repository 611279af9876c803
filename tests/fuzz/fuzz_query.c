/* fuzz_query.c: /api/v1/processes query strings. The input is split on '&' into parameters
 * and on the first '=' into name and value (no '=' gives a NULL value, as MHD passes it), fed
 * to proc_query_set(); every refusal must carry a message that is valid UTF-8, and the query
 * that results must be in range and render a document that parses back. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/render.h"
#include "api/utf8.h"
#include "collector/builder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A few processes to sort and filter (built once, never freed: the fuzzer runs forever). */
static struct vm_snapshot *snapshot(void) {
    static struct vm_snapshot *s;
    if (s)
        return s;
    struct snap_builder *b = NULL;
    if (snap_builder_new(&b) < 0)
        abort();
    static const char *const comms[] = {"systemd", "a) b (c\n", "\xff\xfe", "worker", "worker",
                                        "kworker/0:1", ""};
    for (int i = 0; i < (int)(sizeof(comms) / sizeof(comms[0])); i++) {
        struct vm_process *p;
        if (snap_builder_add_process(b, &p) < 0)
            abort();
        p->pid = 100 - i * 7;
        p->state = 'S';
        if (snap_builder_intern(b, comms[i], strlen(comms[i]), &p->comm) < 0 ||
            snap_builder_intern(b, "/system.slice/x.service", 23, &p->cgroup) < 0 ||
            (i % 2 && snap_builder_intern(b, "x.service", 9, &p->unit) < 0) ||
            (i % 3 && snap_builder_intern(b, "root", 4, &p->user) < 0))
            abort();
        if (i == 5) {
            p->flags |= VM_PROC_KTHREAD | VM_PROC_MAPS;
            continue;
        }
        p->flags |= VM_PROC_MAPS | (i % 2 ? VM_PROC_ROLLUP : 0);
        p->vma_count = (uint32_t)i;
        if (i != 3) {
            p->memory[VM_MEM_VM_RSS] = (uint64_t)(i % 3) << 20;
            p->memory_present = 1u << VM_MEM_VM_RSS;
        }
        p->rollup[VM_ROLLUP_PSS] = (uint64_t)i << 19;
        p->rollup_present = 1u << VM_ROLLUP_PSS;
    }
    struct vm_snapshot hdr = {.seq = 1, .collected_at_ms = 1700000000000ull};
    if (snap_builder_finish(b, &hdr, &s) < 0)
        abort();
    (void)snap_builder_free(b);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 8192) /* the server refuses longer URLs (414) */
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0; /* a NUL inside simply ends the query early, as in a C string */

    struct proc_query q;
    proc_query_init(&q);
    char *save = NULL;
    for (char *param = strtok_r(buf, "&", &save); param; param = strtok_r(NULL, "&", &save)) {
        char *value = strchr(param, '=');
        if (value)
            *value++ = 0;
        char msgbuf[128];
        const char *msg = NULL;
        int r = proc_query_set(&q, param, value, msgbuf, sizeof(msgbuf), &msg);
        if (r < 0) {
            if (r != -EINVAL || !msg || !utf8_valid(msg, strlen(msg)))
                abort();
            json_t *m = json_string(msg);
            if (!m)
                abort();
            json_decref(m);
        } else if (r != 0)
            abort();
    }
    if (q.limit < 1 || q.limit > PROC_QUERY_LIMIT_MAX || q.sort < 0 || q.sort >= _PROC_SORT_MAX ||
        q.kthreads > PROC_KTHREADS_ONLY)
        abort();

    struct render_opts o = {0};
    char *body = NULL;
    size_t len = 0;
    if (render_processes(snapshot(), &q, &o, &body, &len) == 0) {
        json_t *doc = json_loadb(body, len, 0, NULL);
        if (!doc)
            abort();
        json_t *procs = json_object_get(doc, "processes");
        json_int_t total = json_integer_value(json_object_get(doc, "total"));
        if (!json_is_array(procs) || json_array_size(procs) > q.limit ||
            (json_int_t)json_array_size(procs) > total)
            abort();
        json_decref(doc);
        free(body);
    }
    free(buf);
    return 0;
}
