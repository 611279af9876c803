/* query.c: the /api/v1/processes query parameters (API.md "/api/v1/processes query"), parsed
 * strictly into a struct proc_query, with a 400 message for every value that is not allowed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/render.h"

static const char *const sort_names[_PROC_SORT_MAX] = {
    [PROC_SORT_RSS] = "rss",         [PROC_SORT_PSS] = "pss",
    [PROC_SORT_USS] = "uss",         [PROC_SORT_SWAP] = "swap",
    [PROC_SORT_VM_HWM] = "vm_hwm",   [PROC_SORT_VM_PEAK] = "vm_peak",
    [PROC_SORT_HUGETLB] = "hugetlb", [PROC_SORT_ANON_HUGE] = "anon_huge",
    [PROC_SORT_VMAS] = "vmas",       [PROC_SORT_PID] = "pid",
    [PROC_SORT_COMM] = "comm",
};

#define PROC_QUERY_LIMIT_DEFAULT 100u

/* Sizes and counts are most interesting largest first; pid and comm read best ascending. */
static bool sort_default_desc(enum proc_sort s) {
    return s != PROC_SORT_PID && s != PROC_SORT_COMM;
}

void proc_query_init(struct proc_query *q) {
    *q = (struct proc_query){
        .sort = PROC_SORT_RSS,
        .desc = true,
        .limit = PROC_QUERY_LIMIT_DEFAULT,
        .offset = 0,
        .kthreads = PROC_KTHREADS_EXCLUDE,
    };
}

/* Decimal digits only: no sign, no spaces, no empty string; overflow past max is -ERANGE. */
static int parse_u64(const char *s, uint64_t max, uint64_t *ret) {
    if (!s || !*s)
        return -EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            return -ERANGE;
    }
    if (v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

/* A filter value: NULL or empty means "any" (an HTML form submits empty fields). */
static const char *filter_value(const char *v) {
    return v && *v ? v : NULL;
}

static int fail(const char *msg, const char **ret_msg) {
    if (ret_msg)
        *ret_msg = msg;
    return -EINVAL;
}

int proc_query_set(struct proc_query *q, const char *name, const char *value, char *msgbuf,
                   size_t msglen, const char **ret_msg) {
    if (!name)
        return fail("parameter without a name", ret_msg);

    if (strcmp(name, "sort") == 0) {
        for (int i = 0; i < _PROC_SORT_MAX; i++)
            if (value && strcmp(value, sort_names[i]) == 0) {
                q->sort = (enum proc_sort)i;
                if (!q->order_set)
                    q->desc = sort_default_desc(q->sort);
                return 0;
            }
        return fail("sort must be one of rss, pss, uss, swap, vm_hwm, vm_peak, hugetlb, "
                    "anon_huge, vmas, pid, comm",
                    ret_msg);
    }
    if (strcmp(name, "order") == 0) {
        if (value && strcmp(value, "desc") == 0)
            q->desc = true;
        else if (value && strcmp(value, "asc") == 0)
            q->desc = false;
        else
            return fail("order must be asc or desc", ret_msg);
        q->order_set = true;
        return 0;
    }
    if (strcmp(name, "limit") == 0) {
        uint64_t v;
        if (parse_u64(value, PROC_QUERY_LIMIT_MAX, &v) < 0 || v < 1)
            return fail("limit must be an integer from 1 to 10000", ret_msg);
        q->limit = (uint32_t)v;
        return 0;
    }
    if (strcmp(name, "offset") == 0) {
        uint64_t v;
        if (parse_u64(value, UINT64_MAX, &v) < 0)
            return fail("offset must be an integer of 0 or more", ret_msg);
        q->offset = v;
        return 0;
    }
    if (strcmp(name, "kthreads") == 0) {
        if (value && strcmp(value, "exclude") == 0)
            q->kthreads = PROC_KTHREADS_EXCLUDE;
        else if (value && strcmp(value, "include") == 0)
            q->kthreads = PROC_KTHREADS_INCLUDE;
        else if (value && strcmp(value, "only") == 0)
            q->kthreads = PROC_KTHREADS_ONLY;
        else
            return fail("kthreads must be one of exclude, include, only", ret_msg);
        return 0;
    }
    if (strcmp(name, "comm") == 0) {
        q->comm = filter_value(value);
        return 0;
    }
    if (strcmp(name, "user") == 0) {
        q->user = filter_value(value);
        return 0;
    }
    if (strcmp(name, "unit") == 0) {
        q->unit = filter_value(value);
        return 0;
    }
    if (strcmp(name, "cgroup") == 0) {
        q->cgroup = filter_value(value);
        return 0;
    }
    if (strcmp(name, "pretty") == 0) {
        /* Read by the server, not the query; "?pretty" alone means pretty. */
        if (!value || strcmp(value, "1") == 0 || strcmp(value, "0") == 0 ||
            strcmp(value, "true") == 0 || strcmp(value, "false") == 0 || !*value)
            return 0;
        return fail("pretty must be 1, 0, true or false", ret_msg);
    }

    /* Unknown: name it, but only with printable ASCII (the message goes into a JSON body and
     * a log line) and not at any length. */
    if (!msgbuf || msglen < 32)
        return fail("unknown parameter", ret_msg);
    char shown[65];
    size_t n = 0;
    for (const char *c = name; *c && n < sizeof(shown) - 1; c++)
        shown[n++] = (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\') ? *c : '?';
    shown[n] = 0;
    (void)snprintf(msgbuf, msglen, "unknown parameter \"%s%s\"", shown, name[n] ? "..." : "");
    return fail(msgbuf, ret_msg);
}
