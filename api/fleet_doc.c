/* fleet_doc.c: a peer's /api/v1/node, /processes, /hugepages and /hiwater documents, checked
 * member by member into struct fleet_doc. Nothing a peer sends is trusted: size, nesting and
 * the number of tokens are bounded before jansson builds a tree, numbers must be integers in
 * range (jansson refuses integers past int64 itself), strings are bounded, lists are bounded,
 * keys that must be unique are, and the first violation refuses the whole document. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fleet_doc.h"
#include "vmatlas/limits.h"
#include "vmatlas/macros.h"

#define ERRORS_ACCEPTED 16u /* entries of a process's "errors" accepted (VM_PROC_ERRORS_MAX kept)  \
                             */
#define SHORT_STRING_MAX 256u /* ids, states, errno and source names, THP modes, node facts */

const char *fleet_doc_path(int kind, uint32_t procs_limit, char *buf, size_t len) {
    switch (kind) {
    case FLEET_DOC_NODE:
        (void)snprintf(buf, len, "/api/v1/node");
        return buf;
    case FLEET_DOC_PROCESSES:
        (void)snprintf(buf, len, "/api/v1/processes?limit=%u&kthreads=include", procs_limit);
        return buf;
    case FLEET_DOC_HUGEPAGES:
        (void)snprintf(buf, len, "/api/v1/hugepages");
        return buf;
    default:
        if (kind < FLEET_DOC_HIWATER || kind >= _FLEET_DOC_MAX)
            return NULL;
        (void)snprintf(buf, len, "/api/v1/hiwater?group_by=%s",
                       vm_group_by_name(kind - FLEET_DOC_HIWATER));
        return buf;
    }
}

/* --- the document and its string table ---------------------------------------------------- */

struct fleet_doc *fleet_doc_ref(struct fleet_doc *d) {
    if (d)
        __atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
    return d;
}

struct fleet_doc *fleet_doc_unref(struct fleet_doc *d) {
    if (!d || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return NULL;
    free(d->procs);
    free(d->groups);
    free(d->pools);
    free(d->strings);
    free(d);
    return NULL;
}

static void fleet_doc_unrefp(struct fleet_doc **d) {
    (void)fleet_doc_unref(*d);
}

/* Intern s[0..n) (valid UTF-8 without NUL: jansson checked) into the table. */
static int intern(struct fleet_doc *d, const char *s, size_t n, uint32_t *ret) {
    size_t need;
    if (__builtin_add_overflow(d->strings_len, n + 1, &need) || need > UINT32_MAX)
        return -ENOMEM;
    if (GROW(d->strings, d->strings_cap, need) < 0)
        return -ENOMEM;
    memcpy(d->strings + d->strings_len, s, n);
    d->strings[d->strings_len + n] = 0;
    *ret = (uint32_t)d->strings_len;
    d->strings_len = need;
    return 0;
}

/* --- checking members ------------------------------------------------------------------- */

struct vctx {
    struct fleet_doc *d;
    char where[96]; /* the object being checked, e.g. "processes[3]" */
    char *err;
    size_t errlen;
    int r; /* first failure: -EBADMSG or -ENOMEM; sticky */
};

static int bad(struct vctx *v, const char *member, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct vctx *v, const char *member, const char *fmt, ...) {
    if (v->r < 0)
        return v->r;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (v->err && v->errlen)
        (void)snprintf(v->err, v->errlen, "%s%s%s: %s", v->where, v->where[0] && member ? "." : "",
                       member ? member : "", msg);
    return v->r = -EBADMSG;
}

static int oom(struct vctx *v) {
    if (v->r == 0)
        v->r = -ENOMEM;
    if (v->err && v->errlen)
        (void)snprintf(v->err, v->errlen, "out of memory");
    return v->r;
}

/* A member that may be null: NULL (and no failure) when missing or null. */
static const json_t *nullable(const json_t *o, const char *key) {
    const json_t *m = json_object_get(o, key);
    return m && !json_is_null(m) ? m : NULL;
}

/* A member that must be present and not null. */
static const json_t *required(struct vctx *v, const json_t *o, const char *key) {
    const json_t *m = json_object_get(o, key);
    if (!m || json_is_null(m)) {
        bad(v, key, m ? "null where a value is required" : "missing");
        return NULL;
    }
    return m;
}

/* An integer in [min, max] from m (not NULL). */
static bool int_in(struct vctx *v, const char *key, const json_t *m, int64_t min, int64_t max,
                   int64_t *ret) {
    if (!json_is_integer(m)) {
        bad(v, key, "not an integer");
        return false;
    }
    json_int_t x = json_integer_value(m);
    if (x < min || x > max) {
        bad(v, key, "%lld out of range [%lld, %lld]", (long long)x, (long long)min, (long long)max);
        return false;
    }
    *ret = x;
    return true;
}

/* A byte count or counter: an integer >= 0. Sets *present; false on a failure. */
static bool u64_member(struct vctx *v, const json_t *o, const char *key, bool may_be_null,
                       uint64_t *ret, bool *present) {
    const json_t *m = may_be_null ? nullable(o, key) : required(v, o, key);
    int64_t x;
    if (!m) {
        if (present)
            *present = false;
        return may_be_null;
    }
    if (!int_in(v, key, m, 0, INT64_MAX, &x))
        return false;
    *ret = (uint64_t)x;
    if (present)
        *present = true;
    return true;
}

static bool u32_member(struct vctx *v, const json_t *o, const char *key, uint32_t *ret) {
    const json_t *m = required(v, o, key);
    int64_t x;
    if (!m || !int_in(v, key, m, 0, UINT32_MAX, &x))
        return false;
    *ret = (uint32_t)x;
    return true;
}

/* A string of at most max bytes, interned; null (missing) gives 0 when allowed. */
static bool str_member(struct vctx *v, const json_t *o, const char *key, bool may_be_null,
                       size_t max, uint32_t *ret) {
    const json_t *m = may_be_null ? nullable(o, key) : required(v, o, key);
    if (!m) {
        *ret = 0;
        return may_be_null;
    }
    if (!json_is_string(m)) {
        bad(v, key, "not a string");
        return false;
    }
    size_t n = json_string_length(m);
    if (n > max) {
        bad(v, key, "string of %zu bytes (at most %zu)", n, max);
        return false;
    }
    if (intern(v->d, json_string_value(m), n, ret) < 0) {
        oom(v);
        return false;
    }
    return true;
}

static bool time_member(struct vctx *v, const json_t *o, const char *key, bool may_be_null,
                        uint64_t *ret) {
    const json_t *m = may_be_null ? nullable(o, key) : required(v, o, key);
    if (!m) {
        *ret = 0;
        return may_be_null;
    }
    if (!json_is_string(m) ||
        fleet_parse_time_ms(json_string_value(m), json_string_length(m), ret) < 0 || *ret == 0) {
        bad(v, key, "not an RFC 3339 UTC time");
        return false;
    }
    return true;
}

static bool bool_member(struct vctx *v, const json_t *o, const char *key, bool *ret) {
    const json_t *m = required(v, o, key);
    if (!m)
        return false;
    if (!json_is_boolean(m)) {
        bad(v, key, "not a boolean");
        return false;
    }
    *ret = json_is_true(m);
    return true;
}

static const json_t *object_member(struct vctx *v, const json_t *o, const char *key,
                                   bool may_be_null) {
    const json_t *m = may_be_null ? nullable(o, key) : required(v, o, key);
    if (m && !json_is_object(m)) {
        bad(v, key, "not an object");
        return NULL;
    }
    return m;
}

static const json_t *array_member(struct vctx *v, const json_t *o, const char *key, size_t max) {
    const json_t *m = required(v, o, key);
    if (m && !json_is_array(m)) {
        bad(v, key, "not an array");
        return NULL;
    }
    if (m && json_array_size(m) > max) {
        bad(v, key, "%zu entries (at most %zu)", json_array_size(m), max);
        return NULL;
    }
    return m;
}

/* --- times -------------------------------------------------------------------------------- */

static bool digits(const char *s, size_t n, unsigned *ret) {
    unsigned x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *ret = x;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int fleet_parse_time_ms(const char *s, size_t len, uint64_t *ret) {
    /* YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.mmmZ */
    unsigned y, mo, d, h, mi, sec, ms = 0;
    if (len != 20 && len != 24)
        return -EINVAL;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return -EINVAL;
    if (len == 24 && (s[19] != '.' || !digits(s + 20, 3, &ms)))
        return -EINVAL;
    if (s[len - 1] != 'Z')
        return -EINVAL;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
        return -EINVAL;
    int64_t days = days_from_civil(y, mo, d);
    *ret = ((uint64_t)days * 86400 + h * 3600u + mi * 60u + sec) * 1000u + ms;
    return 0;
}

/* --- before parsing ----------------------------------------------------------------------- */

/* Count the structural tokens outside strings ('{' '[' ',' ':') and the nesting depth, without
 * building anything: a body of a million tiny values would otherwise become a tree a hundred
 * times its size. 0, or -EBADMSG. */
static int prescan(const char *buf, size_t len, size_t max_tokens, char *err, size_t errlen) {
    size_t tokens = 0, depth = 0;
    bool in_string = false, escape = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (escape)
                escape = false;
            else if (c == '\\')
                escape = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '{':
        case '[':
            if (++depth > VM_FLEET_JSON_DEPTH_MAX) {
                (void)snprintf(err, errlen, "JSON nested deeper than %u levels",
                               VM_FLEET_JSON_DEPTH_MAX);
                return -EBADMSG;
            }
            tokens++;
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case ',':
        case ':':
            tokens++;
            break;
        default:
            break;
        }
        if (tokens > max_tokens) {
            (void)snprintf(err, errlen, "more than %zu JSON values", max_tokens);
            return -EBADMSG;
        }
    }
    return 0;
}

/* --- the documents ---------------------------------------------------------------------- */

static bool check_snapshot(struct vctx *v, const json_t *root) {
    const json_t *snap = object_member(v, root, "snapshot", false);
    if (!snap)
        return false;
    (void)snprintf(v->where, sizeof(v->where), "snapshot");
    bool ok = u64_member(v, snap, "seq", false, &v->d->snapshot_seq, NULL) &&
              time_member(v, snap, "collected_at", false, &v->d->snapshot_at_ms);
    v->where[0] = 0;
    return ok;
}

static bool check_node(struct vctx *v, const json_t *root) {
    struct fleet_doc *d = v->d;
    int64_t mmc = -1;
    const json_t *m = nullable(root, "max_map_count");
    if (m && !int_in(v, "max_map_count", m, 0, INT64_MAX, &mmc))
        return false;
    d->max_map_count = mmc;
    return str_member(v, root, "hostname", true, SHORT_STRING_MAX, &d->hostname) &&
           str_member(v, root, "kernel", true, SHORT_STRING_MAX, &d->kernel) &&
           str_member(v, root, "version", true, SHORT_STRING_MAX, &d->version) &&
           str_member(v, root, "boot_id", true, SHORT_STRING_MAX, &d->boot_id);
}

static bool check_proc(struct vctx *v, const json_t *o, struct fleet_proc *p) {
    int64_t x;
    const json_t *m;
    if (!json_is_object(o))
        return bad(v, NULL, "not an object"), false;
    if (!(m = required(v, o, "pid")) || !int_in(v, "pid", m, 1, INT32_MAX, &x))
        return false;
    p->pid = (int32_t)x;
    if (!(m = required(v, o, "ppid")) || !int_in(v, "ppid", m, 0, INT32_MAX, &x))
        return false;
    p->ppid = (int32_t)x;
    p->uid = -1;
    if ((m = nullable(o, "uid")) && !int_in(v, "uid", m, 0, UINT32_MAX, &p->uid))
        return false;
    p->vma_count = -1;
    if ((m = nullable(o, "vma_count")) && !int_in(v, "vma_count", m, 0, UINT32_MAX, &p->vma_count))
        return false;
    if (!u32_member(v, o, "threads", &p->threads) || !bool_member(v, o, "kthread", &p->kthread) ||
        !str_member(v, o, "id", false, SHORT_STRING_MAX, &p->id) ||
        !str_member(v, o, "comm", false, VM_FLEET_STRING_MAX, &p->comm) ||
        !str_member(v, o, "cmdline", false, VM_FLEET_STRING_MAX, &p->cmdline) ||
        !str_member(v, o, "user", true, VM_FLEET_STRING_MAX, &p->user) ||
        !str_member(v, o, "state", true, 8, &p->state) ||
        !str_member(v, o, "cgroup", true, VM_FLEET_STRING_MAX, &p->cgroup) ||
        !str_member(v, o, "unit", true, VM_FLEET_STRING_MAX, &p->unit) ||
        !time_member(v, o, "start_time", true, &p->start_time_ms))
        return false;

    size_t at = strlen(v->where); /* members of nested objects are named "where.object" */
    const json_t *mem = object_member(v, o, "memory", false);
    if (!mem)
        return false;
    (void)snprintf(v->where + at, sizeof(v->where) - at, ".memory");
    for (int f = 0; f < _VM_MEM_MAX; f++) {
        bool present;
        if (!u64_member(v, mem, vm_memory_fields[f].json, true, &p->memory[f], &present))
            return false;
        if (present)
            p->memory_present |= 1u << f;
    }
    v->where[at] = 0;
    const json_t *rollup = object_member(v, o, "rollup", true);
    if (v->r < 0)
        return false;
    p->has_rollup = rollup != NULL;
    (void)snprintf(v->where + at, sizeof(v->where) - at, ".rollup");
    for (int f = 0; rollup && f <= _VM_ROLLUP_MAX; f++) {
        bool present;
        const char *name = f < _VM_ROLLUP_MAX ? vm_rollup_fields[f].json : "uss";
        if (!u64_member(v, rollup, name, true, &p->rollup[f], &present))
            return false;
        if (present)
            p->rollup_present |= 1u << f;
    }
    v->where[at] = 0;
    const json_t *hw = object_member(v, o, "hiwater", false);
    if (!hw)
        return false;
    (void)snprintf(v->where + at, sizeof(v->where) - at, ".hiwater");
    if (!u64_member(v, hw, "observed_rss_max", true, &p->observed_rss_max, &p->has_observed) ||
        !time_member(v, hw, "observed_rss_max_at", true, &p->observed_rss_max_at_ms))
        return false;
    v->where[at] = 0;

    const json_t *errs = array_member(v, o, "errors", ERRORS_ACCEPTED);
    if (!errs)
        return false;
    for (size_t i = 0; i < json_array_size(errs); i++) {
        const json_t *e = json_array_get(errs, i);
        uint32_t src, num;
        if (!json_is_object(e))
            return bad(v, "errors", "entry %zu is not an object", i), false;
        (void)snprintf(v->where + at, sizeof(v->where) - at, ".errors[%zu]", i);
        if (!str_member(v, e, "source", false, SHORT_STRING_MAX, &src) ||
            !str_member(v, e, "errno", false, SHORT_STRING_MAX, &num))
            return false;
        if (p->nerrors < VM_PROC_ERRORS_MAX) {
            p->errors[p->nerrors].source = src;
            p->errors[p->nerrors].errnum = num;
            p->nerrors++;
        }
    }
    v->where[at] = 0;
    return true;
}

static bool check_processes(struct vctx *v, const json_t *root, uint32_t limit) {
    struct fleet_doc *d = v->d;
    if (!u64_member(v, root, "total", false, &d->total, NULL))
        return false;
    const json_t *list = array_member(v, root, "processes", limit);
    if (!list)
        return false;
    size_t n = json_array_size(list);
    if (n > d->total)
        return bad(v, "processes", "%zu entries but a total of %llu", n,
                   (unsigned long long)d->total),
               false;
    d->procs = calloc(n ? n : 1, sizeof(*d->procs));
    if (!d->procs)
        return oom(v), false;
    for (size_t i = 0; i < n; i++) {
        (void)snprintf(v->where, sizeof(v->where), "processes[%zu]", i);
        if (!check_proc(v, json_array_get(list, i), &d->procs[i]))
            return false;
        d->nprocs++;
    }
    v->where[0] = 0;
    return true;
}

/* Null keys first, then bytewise. */
static int cmp_key(const char *a, const char *b) {
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    return strcmp(a, b);
}

static int cmp_group(const void *x, const void *y, void *ctx) {
    const struct fleet_doc *d = ctx;
    const struct fleet_group *a = x, *b = y;
    return cmp_key(fleet_doc_str(d, a->key), fleet_doc_str(d, b->key));
}

static bool check_hiwater(struct vctx *v, const json_t *root, int by) {
    struct fleet_doc *d = v->d;
    const json_t *gb = required(v, root, "group_by");
    if (!gb)
        return false;
    if (!json_is_string(gb) || strcmp(json_string_value(gb), vm_group_by_name(by)) != 0)
        return bad(v, "group_by", "not \"%s\", as asked for", vm_group_by_name(by)), false;
    const json_t *list = array_member(v, root, "groups", VM_FLEET_PEER_GROUPS_MAX);
    if (!list)
        return false;
    size_t n = json_array_size(list);
    d->groups = calloc(n ? n : 1, sizeof(*d->groups));
    if (!d->groups)
        return oom(v), false;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(list, i);
        struct fleet_group *g = &d->groups[i];
        const json_t *m;
        int64_t pid = 0;
        (void)snprintf(v->where, sizeof(v->where), "groups[%zu]", i);
        if (!json_is_object(o))
            return bad(v, NULL, "not an object"), false;
        if ((m = nullable(o, "vm_hwm_max_pid")) &&
            !int_in(v, "vm_hwm_max_pid", m, 1, INT32_MAX, &pid))
            return false;
        g->vm_hwm_max_pid = (int32_t)pid;
        if (!str_member(v, o, "key", true, VM_FLEET_STRING_MAX, &g->key) ||
            !u32_member(v, o, "processes", &g->processes) ||
            !u32_member(v, o, "exited", &g->exited) ||
            !u64_member(v, o, "rss", false, &g->rss, NULL) ||
            !u64_member(v, o, "vm_hwm_sum", false, &g->vm_hwm_sum, NULL) ||
            !u64_member(v, o, "vm_hwm_max", false, &g->vm_hwm_max, NULL) ||
            !u64_member(v, o, "vm_peak_max", false, &g->vm_peak_max, NULL) ||
            !u64_member(v, o, "exited_vm_hwm_max", false, &g->exited_vm_hwm_max, NULL) ||
            !u64_member(v, o, "observed_rss_peak", false, &g->observed_rss_peak, NULL) ||
            !time_member(v, o, "observed_rss_peak_at", true, &g->observed_rss_peak_at_ms))
            return false;
        d->ngroups++;
    }
    v->where[0] = 0;
    qsort_r(d->groups, d->ngroups, sizeof(*d->groups), cmp_group, d);
    for (uint32_t i = 1; i < d->ngroups; i++)
        if (cmp_group(&d->groups[i - 1], &d->groups[i], d) == 0) {
            const char *k = fleet_doc_str(d, d->groups[i].key);
            return bad(v, "groups", "the key %s%.64s%s is listed twice", k ? "\"" : "",
                       k ? k : "null", k ? "\"" : ""),
                   false;
        }
    return true;
}

static bool check_hugepages(struct vctx *v, const json_t *root) {
    struct fleet_doc *d = v->d;
    const json_t *list = array_member(v, root, "pools", VM_FLEET_POOLS_MAX);
    if (!list)
        return false;
    size_t n = json_array_size(list);
    d->pools = calloc(n ? n : 1, sizeof(*d->pools));
    if (!d->pools)
        return oom(v), false;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(list, i), *m;
        struct fleet_pool *p = &d->pools[i];
        int64_t node = -1;
        bool present;
        (void)snprintf(v->where, sizeof(v->where), "pools[%zu]", i);
        if (!json_is_object(o))
            return bad(v, NULL, "not an object"), false;
        if ((m = nullable(o, "numa_node")) && !int_in(v, "numa_node", m, 0, 65535, &node))
            return false;
        p->numa_node = (int32_t)node;
        if (!u64_member(v, o, "size_bytes", false, &p->size_bytes, NULL))
            return false;
        if (p->size_bytes == 0)
            return bad(v, "size_bytes", "0"), false;
        uint64_t *vals[] = {&p->total, &p->free, &p->reserved, &p->surplus};
        static const char *const names[] = {"total", "free", "reserved", "surplus"};
        for (size_t k = 0; k < ARRAY_SIZE(vals); k++) {
            if (!u64_member(v, o, names[k], true, vals[k], &present))
                return false;
            if (!present)
                *vals[k] = VM_UNKNOWN;
        }
        for (uint32_t k = 0; k < d->npools; k++)
            if (d->pools[k].size_bytes == p->size_bytes && d->pools[k].numa_node == node)
                return bad(v, NULL, "the pool of this size and node is listed twice"), false;
        d->npools++;
    }
    v->where[0] = 0;
    const json_t *thp = object_member(v, root, "thp", false);
    if (!thp)
        return false;
    (void)snprintf(v->where, sizeof(v->where), "thp");
    static const char *const kinds[_VM_THP_MAX] = {"anon", "shmem", "file"};
    for (int k = 0; k < _VM_THP_MAX; k++) {
        bool present;
        if (!u64_member(v, thp, kinds[k], true, &d->thp.bytes[k], &present))
            return false;
        if (present)
            d->thp.present |= 1u << k;
    }
    if (!str_member(v, thp, "enabled", true, SHORT_STRING_MAX, &d->thp.enabled) ||
        !str_member(v, thp, "defrag", true, SHORT_STRING_MAX, &d->thp.defrag) ||
        !str_member(v, thp, "shmem_enabled", true, SHORT_STRING_MAX, &d->thp.shmem_enabled))
        return false;
    v->where[0] = 0;
    return true;
}

int fleet_doc_parse(int kind, const char *buf, size_t len, uint32_t procs_limit,
                    struct fleet_doc **ret, char *err, size_t errlen) {
    char scratch[8];
    if (!err || errlen == 0)
        err = scratch, errlen = sizeof(scratch);
    err[0] = 0;
    if (kind < 0 || kind >= _FLEET_DOC_MAX)
        return -EINVAL;
    size_t max_tokens = kind == FLEET_DOC_PROCESSES
                            ? ((size_t)procs_limit + 4) * VM_FLEET_TOKENS_PER_PROC
                            : VM_FLEET_TOKENS_MAX;
    int r = prescan(buf, len, max_tokens, err, errlen);
    if (r < 0)
        return r;

    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root && json_error_code(&je) == json_error_out_of_memory) {
        (void)snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (!root) {
        /* je.text comes from jansson and may quote the input: keep it printable. */
        char text[80];
        size_t n = 0;
        for (const char *c = je.text; *c && n < sizeof(text) - 1; c++)
            text[n++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
        text[n] = 0;
        (void)snprintf(err, errlen, "not JSON: %s (line %d, column %d)", text, je.line, je.column);
        return -EBADMSG;
    }
    _cleanup_(fleet_doc_unrefp) struct fleet_doc *d = calloc(1, sizeof(*d));
    if (!d) {
        json_decref(root);
        return -ENOMEM;
    }
    d->refs = 1;
    d->kind = kind;
    d->max_map_count = -1;
    uint32_t empty;
    struct vctx v = {.d = d, .err = err, .errlen = errlen};
    if (intern(d, "", 0, &empty) < 0) /* offset 0: null */
        oom(&v);
    else if (!json_is_object(root))
        bad(&v, NULL, "the document is not a JSON object");
    else if (check_snapshot(&v, root)) {
        if (kind == FLEET_DOC_NODE)
            (void)check_node(&v, root);
        else if (kind == FLEET_DOC_PROCESSES)
            (void)check_processes(&v, root, procs_limit);
        else if (kind == FLEET_DOC_HUGEPAGES)
            (void)check_hugepages(&v, root);
        else
            (void)check_hiwater(&v, root, kind - FLEET_DOC_HIWATER);
    }
    json_decref(root);
    if (v.r < 0) {
        /* The message quotes keys the peer chose, maybe cut mid-character: printable ASCII
         * only, so it can go into a log line and a JSON string as it is. */
        for (char *c = err; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        return v.r;
    }
    *ret = TAKE_PTR(d);
    return 0;
}
