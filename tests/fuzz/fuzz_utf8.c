/* fuzz_utf8.c: kernel byte strings into JSON and Prometheus labels. json_kernel_stringn() of
 * any bytes must give a string that dumps and parses back unchanged (valid input is kept
 * byte for byte); the same bytes as a comm and a unit must render a process summary that
 * parses back and a /metrics page that is valid UTF-8, one sample per line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/render.h"
#include "api/utf8.h"
#include "collector/builder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const char *s, size_t len) {
    json_t *v = json_kernel_stringn(s, len);
    if (!v || !json_is_string(v))
        abort();
    const char *out = json_string_value(v);
    size_t out_len = json_string_length(v);
    if (!utf8_valid(out, out_len))
        abort();
    if (utf8_valid(s, len) && (out_len != len || memcmp(out, s, len) != 0))
        abort();
    if (out_len < len || out_len > 4 * len)
        abort();
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    if (!text)
        abort();
    json_t *back = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!back || !json_equal(back, v))
        abort();
    json_decref(back);
    free(text);
    json_decref(v);
}

static void check_renderers(const char *s, size_t len) {
    /* comm: up to the first NUL (a kernel string has none); unit: the rest. */
    size_t comm_len = strnlen(s, len);
    const char *unit = s + comm_len + (comm_len < len);
    size_t unit_len = strnlen(unit, len - (size_t)(unit - s));

    struct snap_builder *b = NULL;
    if (snap_builder_new(&b) < 0)
        abort();
    struct vm_process *p;
    if (snap_builder_add_process(b, &p) < 0)
        abort();
    p->pid = 42;
    p->state = len ? s[0] : 'R'; /* any byte, NUL included */
    p->flags = VM_PROC_MAPS;
    p->vma_count = 1;
    p->memory[VM_MEM_VM_RSS] = 4096;
    p->memory_present = 1u << VM_MEM_VM_RSS;
    if (snap_builder_intern(b, s, comm_len, &p->comm) < 0 ||
        snap_builder_intern(b, unit, unit_len, &p->unit) < 0 ||
        snap_builder_intern(b, s, comm_len, &p->cmdline) < 0)
        abort();
    struct vm_vma v = {.start = 0x1000, .end = 0x2000, .flags = VM_VMA_SMAPS};
    if (snap_builder_intern(b, unit, unit_len, &v.name) < 0 ||
        snap_builder_intern(b, s, comm_len, &v.vmflags) < 0 || snap_builder_add_vma(b, &v) < 0)
        abort();
    p->vma_n = 1;
    struct vm_snapshot hdr = {.seq = 1}, *snap = NULL;
    if (snap_builder_finish(b, &hdr, &snap) < 0)
        abort();
    (void)snap_builder_free(b);

    struct render_opts o = {0};
    const struct vm_process *sp = vm_snapshot_procs(snap);
    json_t *docs[2] = {render_process_detail(snap, sp, &o),
                       render_vma(snap, vm_snapshot_vmas(snap, sp), &o)};
    for (int i = 0; i < 2; i++) {
        char *body = NULL;
        size_t blen = 0;
        if (!docs[i] || render_dump(docs[i], &o, &body, &blen) < 0)
            abort();
        json_t *back = json_loadb(body, blen, 0, NULL);
        if (!back || !json_equal(back, docs[i]))
            abort();
        json_decref(back);
        json_decref(docs[i]);
        free(body);
    }

    struct metrics_opts mo = {.top_k = 5, .version = "fuzz"};
    char *text = NULL;
    size_t tlen = 0;
    if (render_metrics(snap, &mo, &text, &tlen) < 0)
        abort();
    if (strlen(text) != tlen || !utf8_valid(text, tlen))
        abort();
    for (const char *line = text; *line;) {
        if (strncmp(line, "# ", 2) != 0 && strncmp(line, "vmatlas_", 8) != 0)
            abort(); /* a raw newline escaped a label value */
        const char *nl = strchr(line, '\n');
        if (!nl)
            abort();
        line = nl + 1;
    }
    free(text);
    (void)vm_snapshot_unref(snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536)
        return 0;
    check_json((const char *)data, size);
    check_renderers((const char *)data, size);
    return 0;
}
