/* vma_doc.h: the per-VMA documents of one process (/vmas and /residency), written step by step.
 *
 * The same writer renders a document whole (render_vmas_doc, render_residency_doc) and streams
 * the documents of huge processes a few hundred VMAs at a time, so both give identical bytes,
 * pretty or compact. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "api/jstream.h"
#include "api/render.h"

struct vma_doc {
    const struct vm_snapshot *s;
    const struct vm_process *p;
    struct render_opts ro;
    bool residency; /* /residency rather than /vmas */
    uint32_t next;  /* next VMA */
    int stage;      /* 0 head, 1 VMAs, 2 tail, 3 done */
    struct jstream js;
};

void vma_doc_init(struct vma_doc *d, const struct vm_snapshot *s, const struct vm_process *p,
                  const struct render_opts *ro, bool residency);

/* Append the next piece (the head, up to max_vmas VMAs, or the tail) to d->js. Returns 1 while
 * there is more to write, 0 when the document is complete, or -ENOMEM. */
int vma_doc_step(struct vma_doc *d, uint32_t max_vmas);

/* Free what the writer holds. */
void vma_doc_done(struct vma_doc *d);
