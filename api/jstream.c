/* jstream.c: a JSON document written piece by piece (see jstream.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/jstream.h"
#include "vmatlas/macros.h"

void jstream_init(struct jstream *js, bool pretty) {
    *js = (struct jstream){.pretty = pretty, .first = true};
}

static void put(struct jstream *js, const char *s, size_t n) {
    if (js->err)
        return;
    size_t need;
    if (__builtin_add_overflow(js->len, n + 1, &need) || GROW(js->data, js->cap, need) < 0) {
        js->err = -ENOMEM;
        return;
    }
    memcpy(js->data + js->len, s, n);
    js->len += n;
}

static void puts_(struct jstream *js, const char *s) {
    put(js, s, strlen(s));
}

/* Newline and indentation before a member or an element (pretty only). */
static void indent(struct jstream *js, int depth) {
    if (!js->pretty)
        return;
    put(js, "\n", 1);
    for (int i = 0; i < depth; i++)
        put(js, "  ", 2);
}

static void separator(struct jstream *js) {
    if (!js->first)
        put(js, ",", 1);
    js->first = false;
    indent(js, js->depth);
}

struct dump_ctx {
    struct jstream *js;
};

/* jansson writes the nested value at column 0; shift every line it writes to our depth. */
static int dump_cb(const char *buffer, size_t size, void *data) {
    struct jstream *js = ((struct dump_ctx *)data)->js;
    size_t start = 0;
    for (size_t i = 0; i < size; i++) {
        if (buffer[i] != '\n')
            continue;
        put(js, buffer + start, i - start);
        indent(js, js->depth);
        start = i + 1;
    }
    put(js, buffer + start, size - start);
    return js->err ? -1 : 0;
}

static void value(struct jstream *js, json_t *v) {
    if (!v) {
        js->err = js->err ? js->err : -ENOMEM;
        return;
    }
    struct dump_ctx ctx = {js};
    size_t flags = JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(9) |
                   (js->pretty ? JSON_INDENT(2) : JSON_COMPACT);
    if (!js->err && json_dump_callback(v, dump_cb, &ctx, flags) < 0 && !js->err)
        js->err = -ENOMEM;
    json_decref(v);
}

static void key(struct jstream *js, const char *k) {
    json_t *s = json_string(k);
    value(js, s);
    put(js, js->pretty ? ": " : ":", js->pretty ? 2 : 1);
}

void jstream_begin_object(struct jstream *js) {
    put(js, "{", 1);
    js->depth++;
    js->first = true;
}

void jstream_end_object(struct jstream *js) {
    js->depth--;
    if (!js->first)
        indent(js, js->depth);
    put(js, "}", 1);
    js->first = false;
}

void jstream_begin_array(struct jstream *js, const char *k) {
    separator(js);
    key(js, k);
    put(js, "[", 1);
    js->depth++;
    js->first = true;
}

void jstream_end_array(struct jstream *js) {
    js->depth--;
    if (!js->first)
        indent(js, js->depth);
    put(js, "]", 1);
    js->first = false;
}

void jstream_member(struct jstream *js, const char *k, json_t *v) {
    separator(js);
    key(js, k);
    value(js, v);
}

void jstream_element(struct jstream *js, json_t *v) {
    separator(js);
    value(js, v);
}

int jstream_finish(struct jstream *js, char **ret_body, size_t *ret_len) {
    puts_(js, "");
    if (js->err || !js->data) {
        int r = js->err ? js->err : -ENOMEM;
        free(js->data);
        js->data = NULL;
        return r;
    }
    js->data[js->len] = '\0';
    *ret_body = js->data;
    if (ret_len)
        *ret_len = js->len;
    js->data = NULL;
    return 0;
}
