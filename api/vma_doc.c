/* vma_doc.c: /api/v1/processes/{pid}/vmas and /residency, written step by step. */
#include <errno.h>
#include <stdlib.h>

#include "api/json.h"
#include "api/utf8.h"
#include "api/vma_doc.h"

void vma_doc_init(struct vma_doc *d, const struct vm_snapshot *s, const struct vm_process *p,
                  const struct render_opts *ro, bool residency) {
    static const struct render_opts defaults = {0};
    *d = (struct vma_doc){.s = s, .p = p, .ro = ro ? *ro : defaults, .residency = residency};
    jstream_init(&d->js, d->ro.pretty);
}

static json_t *residency_element(const struct vm_snapshot *s, const struct vm_vma *v,
                                 bool redact) {
    const char *name = vm_snapshot_str(s, v->name);
    return json_pack("{s:o, s:o, s:s?, s:o, s:o}", "start", json_address(v->start, redact),
                     "end", json_address(v->end, redact), "kind", vm_kind_name(v->kind), "name",
                     name ? json_kernel_string(name) : json_null(), "residency",
                     render_vma_residency(s, v));
}

int vma_doc_step(struct vma_doc *d, uint32_t max_vmas) {
    struct jstream *js = &d->js;
    char id[32];
    switch (d->stage) {
    case 0: /* members in sorted order, as JSON_SORT_KEYS writes them */
        jstream_begin_object(js);
        jstream_member(js, "id", json_string(vm_process_id(d->p, id, sizeof(id))));
        jstream_member(js, "pid", json_integer(d->p->pid));
        if (d->residency)
            jstream_member(js, "residency", render_process_residency(d->s, d->p));
        jstream_member(js, "snapshot", render_snapshot_ref(d->s));
        jstream_begin_array(js, "vmas");
        d->stage = 1;
        break;
    case 1: {
        const struct vm_vma *v = vm_snapshot_vmas(d->s, d->p);
        uint32_t n = d->p->vma_n - d->next < max_vmas ? d->p->vma_n - d->next : max_vmas;
        for (uint32_t i = 0; i < n && js->err == 0; i++, d->next++)
            jstream_element(js, d->residency
                                    ? residency_element(d->s, &v[d->next], d->ro.redact_addresses)
                                    : render_vma(d->s, &v[d->next], &d->ro));
        if (d->next >= d->p->vma_n)
            d->stage = 2;
        break;
    }
    case 2:
        jstream_end_array(js);
        jstream_end_object(js);
        d->stage = 3;
        break;
    }
    if (js->err)
        return js->err;
    return d->stage < 3;
}

void vma_doc_done(struct vma_doc *d) {
    free(d->js.data);
    d->js.data = NULL;
}

/* The whole document at once (bodies that are cached). */
static int render_whole(const struct vm_snapshot *s, const struct vm_process *p,
                        const struct render_opts *o, bool residency, char **ret_body,
                        size_t *ret_len) {
    struct vma_doc d;
    int r;
    vma_doc_init(&d, s, p, o, residency);
    while ((r = vma_doc_step(&d, UINT32_MAX)) > 0)
        ;
    if (r < 0) {
        vma_doc_done(&d);
        return r;
    }
    return jstream_finish(&d.js, ret_body, ret_len);
}

int render_vmas_doc(const struct vm_snapshot *s, const struct vm_process *p,
                    const struct render_opts *o, char **ret_body, size_t *ret_len) {
    return render_whole(s, p, o, false, ret_body, ret_len);
}

int render_residency_doc(const struct vm_snapshot *s, const struct vm_process *p,
                         const struct render_opts *o, char **ret_body, size_t *ret_len) {
    return render_whole(s, p, o, true, ret_body, ret_len);
}
