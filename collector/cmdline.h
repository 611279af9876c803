/* cmdline.h: formatting of /proc/PID/cmdline. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Copy the NUL-separated argv in buf into out (capacity cap, > 0), NULs as spaces, trailing
 * NULs dropped, NUL-terminated; other bytes (invalid UTF-8, control characters) are copied as
 * they are, renderers escape them. Returns the length written (without the NUL); *ret_cut
 * (may be NULL) is set to whether the output was cut to fit. With cap == 0 nothing is written
 * and 0 is returned. */
size_t cmdline_format(const char *buf, size_t len, char *out, size_t cap, bool *ret_cut);
