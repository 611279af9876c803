/* cmdline.c: formatting of /proc/PID/cmdline (NUL-separated argv) as one line. */
#include "collector/cmdline.h"

#include <string.h>

size_t cmdline_format(const char *buf, size_t len, char *out, size_t cap, bool *ret_cut) {
    size_t n;

    if (!buf)
        len = 0;
    while (len > 0 && buf[len - 1] == '\0')
        len--;
    if (cap == 0 || !out) {
        if (ret_cut)
            *ret_cut = len > 0;
        return 0;
    }
    n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = buf[i] == '\0' ? ' ' : buf[i];
    out[n] = '\0';
    if (ret_cut)
        *ret_cut = n < len;
    return n;
}
