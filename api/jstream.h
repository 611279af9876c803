/* jstream.h: writing a large JSON document piece by piece.
 *
 * A document with thousands of elements (processes, a 65,530-VMA process) is written one element
 * at a time: each element is a small jansson tree, dumped and freed before the next, so memory
 * stays at one element plus the output text. Members must be written in sorted key order, which
 * keeps the output identical to a JSON_SORT_KEYS dump of the whole tree. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct jstream {
    char *data;
    size_t len, cap;
    bool pretty;
    int depth;
    bool first; /* no member/element written yet at this depth */
    int err;    /* first error (-ENOMEM), sticky */
};

void jstream_init(struct jstream *js, bool pretty);
/* "{", "}" of an object; "key": [ and ] of an array member. */
void jstream_begin_object(struct jstream *js);
void jstream_end_object(struct jstream *js);
void jstream_begin_array(struct jstream *js, const char *key);
void jstream_end_array(struct jstream *js);
/* A member "key": value of the current object (value stolen; NULL counts as -ENOMEM). */
void jstream_member(struct jstream *js, const char *key, json_t *value);
/* An element of the current array (value stolen; NULL counts as -ENOMEM). */
void jstream_element(struct jstream *js, json_t *value);
/* Hand the text over: 0 with a malloc'd NUL-terminated body, or the first error (then nothing
 * is returned and the buffer is freed). */
int jstream_finish(struct jstream *js, char **ret_body, size_t *ret_len);
