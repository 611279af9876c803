/* json.c: small JSON helpers shared by the renderers: addresses as "0x..." strings, RFC 3339
 * millisecond times, unsigned sizes, and errno names for the `errors` lists. */
#include "api/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

json_t *json_address(uint64_t addr, bool redact) {
    if (redact)
        return json_null();
    /* A JSON number would lose bits above 2^53 in JavaScript, and json_int_t is signed. */
    char buf[2 + 16 + 1];
    int n = snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
    return json_stringn_nocheck(buf, (size_t)n);
}

char *format_time_ms(uint64_t unix_ms, char *buf, size_t len) {
    if (!buf || len == 0)
        return buf;
    time_t secs = (time_t)(unix_ms / 1000);
    unsigned ms = (unsigned)(unix_ms % 1000);
    struct tm tm;
    /* Years past 9999 would not be RFC 3339; no clock we read gets there, clamp anyway. */
    if (unix_ms / 1000 > 253402300799ull || !gmtime_r(&secs, &tm)) {
        (void)snprintf(buf, len, "9999-12-31T23:59:59.999Z");
        return buf;
    }
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0) {
        buf[0] = '\0';
        return buf;
    }
    (void)snprintf(buf + n, len - n, ".%03uZ", ms);
    return buf;
}

json_t *json_time_ms(uint64_t unix_ms) {
    if (unix_ms == 0)
        return json_null();
    char buf[32];
    return json_string_nocheck(format_time_ms(unix_ms, buf, sizeof(buf)));
}

json_t *json_u64(uint64_t v) {
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* Linux errno names (aliases such as EWOULDBLOCK, EDEADLOCK and ENOTSUP are left out: they
 * share a value with the name listed). Written out rather than strerrorname_np(), which musl
 * lacks. */
#define ERRNO_NAMES(X)                                                                             \
    X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD)    \
    X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(ENOTBLK) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV)       \
    X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) X(ETXTBSY) X(EFBIG) X(ENOSPC)     \
    X(ESPIPE) X(EROFS) X(EMLINK) X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK) X(ENAMETOOLONG) X(ENOLCK)   \
    X(ENOSYS) X(ENOTEMPTY) X(ELOOP) X(ENOMSG) X(EIDRM) X(ENOSTR) X(ENODATA) X(ETIME) X(ENOSR)     \
    X(ENOLINK) X(EPROTO) X(EBADMSG) X(EOVERFLOW) X(EILSEQ) X(EUSERS) X(ENOTSOCK) X(EDESTADDRREQ)  \
    X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT) X(EPROTONOSUPPORT) X(EOPNOTSUPP) X(EAFNOSUPPORT)      \
    X(EADDRINUSE) X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) X(ENETRESET) X(ECONNABORTED)        \
    X(ECONNRESET) X(ENOBUFS) X(EISCONN) X(ENOTCONN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTDOWN)    \
    X(EHOSTUNREACH) X(EALREADY) X(EINPROGRESS) X(ESTALE) X(EDQUOT) X(ECANCELED) X(EOWNERDEAD)     \
    X(ENOTRECOVERABLE) X(ENOMEDIUM) X(EMEDIUMTYPE) X(ENOKEY) X(EKEYEXPIRED) X(EKEYREVOKED)        \
    X(EKEYREJECTED) X(ERFKILL) X(EHWPOISON)

const char *errno_name(int errnum, char *buf, size_t len) {
    if (errnum < 0)
        errnum = -errnum; /* tolerate the -errno convention */
    switch (errnum) {
#define ERRNO_CASE(e)                                                                              \
    case e:                                                                                        \
        return #e;
        ERRNO_NAMES(ERRNO_CASE)
#undef ERRNO_CASE
    default:
        break;
    }
    if (!buf || len == 0)
        return "EUNKNOWN";
    (void)snprintf(buf, len, "E%d", errnum);
    return buf;
}

void json_put(json_t *o, const char *key, json_t *v, int *err) {
    if (json_object_set_new_nocheck(o, key, v) < 0)
        *err = -ENOMEM;
}

void json_push(json_t *a, json_t *v, int *err) {
    if (json_array_append_new(a, v) < 0)
        *err = -ENOMEM;
}

json_t *json_done(json_t *o, int err) {
    if (err < 0 || !o) {
        json_decref(o);
        return NULL;
    }
    return o;
}
