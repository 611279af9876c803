/* live_util.h: helpers of the live tests: reading kernel files, parsing them with simple code
 * of our own (never the collector's parsers), and children that set up mappings, say they are
 * ready over a pipe and then sleep until they are killed.
 *
 * Everything here is test code: sscanf is fine, failures are reported with CHECK, and every
 * wait is bounded. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define LIVE_UNUSED __attribute__((unused))

LIVE_UNUSED static uint64_t live_now_ns(void) {
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The whole file (procfs files report size 0: read until EOF), NUL-terminated, malloc'd.
 * NULL with errno set on failure. */
LIVE_UNUSED static char *live_slurp(const char *path, size_t *ret_len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    if (ret_len)
        *ret_len = len;
    return buf;
}

LIVE_UNUSED static char *live_slurp_pid(pid_t pid, const char *file, size_t *ret_len) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    return live_slurp(path, ret_len);
}

LIVE_UNUSED static size_t live_count_lines(const char *buf) {
    size_t n = 0;
    for (const char *c = buf; c && *c; c++)
        if (*c == '\n')
            n++;
    return n;
}

/* --- "Key:   value [kB]" files: status, smaps_rollup, smaps field lines ------------------- */

struct live_kv {
    char key[48];
    uint64_t value; /* as printed (kB for kB lines) */
    bool kb;        /* the line ends in " kB" */
};

struct live_kvs {
    size_t n;
    struct live_kv e[96];
};

/* Parse one "Key:<blanks>N[ kB]" line (no newline) into kv; false for other lines. */
LIVE_UNUSED static bool live_kv_line(const char *line, size_t len, struct live_kv *kv) {
    char tmp[256];
    if (len >= sizeof(tmp))
        return false;
    memcpy(tmp, line, len);
    tmp[len] = 0;
    char key[48];
    unsigned long long v;
    int n = 0;
    if (sscanf(tmp, "%47[A-Za-z0-9_]:%llu%n", key, &v, &n) != 2)
        return false;
    /* nothing but " kB" (or nothing) may follow the number */
    const char *rest = tmp + n;
    bool kb = strcmp(rest, " kB") == 0;
    if (!kb && *rest != 0)
        return false;
    snprintf(kv->key, sizeof(kv->key), "%s", key);
    kv->value = v;
    kv->kb = kb;
    return true;
}

LIVE_UNUSED static void live_kvs_parse(const char *buf, struct live_kvs *out) {
    out->n = 0;
    for (const char *line = buf; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (out->n < sizeof(out->e) / sizeof(out->e[0]) && live_kv_line(line, len, &out->e[out->n]))
            out->n++;
        line = nl ? nl + 1 : NULL;
    }
}

LIVE_UNUSED static const struct live_kv *live_kvs_get(const struct live_kvs *k, const char *key) {
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->e[i].key, key) == 0)
            return &k->e[i];
    return NULL;
}

/* --- maps / smaps ------------------------------------------------------------------------- */

struct live_vma {
    uint64_t start, end, offset, inode;
    unsigned maj, min;
    char perms[5];
    char *name;        /* exact bytes as printed, NULL for nameless (malloc'd) */
    struct live_kvs f; /* smaps figures */
    char *vmflags;     /* the VmFlags value with the trailing space removed, NULL if absent */
    int thp_eligible;  /* -1 absent */
};

struct live_maps {
    size_t n, cap;
    struct live_vma *v;
};

LIVE_UNUSED static void live_maps_free(struct live_maps *m) {
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        free(m->v[i].vmflags);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
}

/* A maps header line (no newline): "START-END PERMS OFFSET MAJ:MIN INODE [pad NAME]".
 * The name starts at byte max(L, 72) + 1 where L is the length up to and including the space
 * after the inode (fs/proc/task_mmu.c: seq_setwidth 25 + 6 * 8 - 1, then seq_pad ' '). */
LIVE_UNUSED static bool live_parse_header(const char *line, size_t len, struct live_vma *v) {
    char tmp[8192];
    if (len >= sizeof(tmp) || len == 0 ||
        !((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')))
        return false;
    memcpy(tmp, line, len);
    tmp[len] = 0;
    unsigned long long s, e, off, ino;
    unsigned maj, min;
    char perms[5];
    int n = 0;
    if (sscanf(tmp, "%llx-%llx %4s %llx %x:%x %llu%n", &s, &e, perms, &off, &maj, &min, &ino, &n) !=
        7)
        return false;
    memset(v, 0, sizeof(*v));
    v->start = s, v->end = e, v->offset = off, v->inode = ino, v->maj = maj, v->min = min;
    memcpy(v->perms, perms, 5);
    v->thp_eligible = -1;
    if ((size_t)n >= len || tmp[n] != ' ')
        return false; /* the kernel always prints the space after the inode */
    size_t L = (size_t)n + 1;
    if (L == len)
        return true; /* nameless */
    size_t at = (L > 72 ? L : 72) + 1;
    if (at > len)
        return false;
    for (size_t i = L; i < at; i++)
        if (tmp[i] != ' ')
            return false;
    v->name = malloc(len - at + 1);
    if (!v->name)
        return false;
    memcpy(v->name, tmp + at, len - at);
    v->name[len - at] = 0;
    return true;
}

/* maps or smaps text into m. Returns false on a line it cannot understand. */
LIVE_UNUSED static bool live_maps_parse(const char *buf, struct live_maps *m) {
    memset(m, 0, sizeof(*m));
    struct live_vma *cur = NULL;
    for (const char *line = buf; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        struct live_vma v;
        if (live_parse_header(line, len, &v)) {
            if (m->n == m->cap) {
                size_t nc = m->cap ? m->cap * 2 : 64;
                struct live_vma *nv = realloc(m->v, nc * sizeof(*nv));
                if (!nv) {
                    free(v.name);
                    return false;
                }
                m->v = nv, m->cap = nc;
            }
            m->v[m->n] = v;
            cur = &m->v[m->n++];
        } else if (cur && len > 9 && memcmp(line, "VmFlags: ", 9) == 0) {
            size_t vl = len - 9;
            while (vl > 0 && line[9 + vl - 1] == ' ')
                vl--;
            cur->vmflags = strndup(line + 9, vl);
        } else if (cur) {
            struct live_kv kv;
            if (!live_kv_line(line, len, &kv)) {
                fprintf(stderr, "live: cannot parse smaps line \"%.*s\"\n", (int)len, line);
                return false;
            }
            if (strcmp(kv.key, "THPeligible") == 0)
                cur->thp_eligible = (int)kv.value;
            else if (cur->f.n < sizeof(cur->f.e) / sizeof(cur->f.e[0]))
                cur->f.e[cur->f.n++] = kv;
        } else {
            return false;
        }
        line = nl ? nl + 1 : NULL;
    }
    return true;
}

LIVE_UNUSED static bool live_maps_read(pid_t pid, const char *file, struct live_maps *m) {
    char *buf = live_slurp_pid(pid, file, NULL);
    if (!buf)
        return false;
    bool ok = live_maps_parse(buf, m);
    free(buf);
    return ok;
}

LIVE_UNUSED static bool live_name_is(const struct live_vma *v, const char *name) {
    return v->name && strcmp(v->name, name) == 0;
}

/* The VMA containing addr, or NULL. */
LIVE_UNUSED static const struct live_vma *live_maps_find(const struct live_maps *m, uint64_t addr) {
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].start <= addr && addr < m->v[i].end)
            return &m->v[i];
    return NULL;
}

/* --- /proc/PID/stat ----------------------------------------------------------------------- */

struct live_stat {
    char comm[128];
    size_t comm_len;
    char state;
    /* fields by 1-based number; 0..2 unused; numeric fields from 4 on */
    unsigned long long f[64];
    int nfields;
};

/* comm between the first '(' and the last ')', then space-separated fields. */
LIVE_UNUSED static bool live_stat_parse(const char *buf, size_t len, struct live_stat *st) {
    memset(st, 0, sizeof(*st));
    const char *open = memchr(buf, '(', len);
    const char *close = NULL;
    for (size_t i = len; i > 0; i--)
        if (buf[i - 1] == ')') {
            close = buf + i - 1;
            break;
        }
    if (!open || !close || close < open || (size_t)(close - open - 1) >= sizeof(st->comm))
        return false;
    st->comm_len = (size_t)(close - open - 1);
    memcpy(st->comm, open + 1, st->comm_len);
    st->f[1] = strtoull(buf, NULL, 10);
    const char *p = close + 2;
    if (p >= buf + len)
        return false;
    st->state = *p;
    p++;
    int n = 3;
    while (p < buf + len && *p == ' ' && n < 63) {
        p++;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p)
            break;
        n++;
        st->f[n] = (unsigned long long)v;
        p = end;
    }
    st->nfields = n;
    return true;
}

LIVE_UNUSED static bool live_stat_read(pid_t pid, struct live_stat *st) {
    size_t len;
    char *buf = live_slurp_pid(pid, "stat", &len);
    if (!buf)
        return false;
    bool ok = live_stat_parse(buf, len, st);
    free(buf);
    return ok;
}

/* --- children ----------------------------------------------------------------------------- */

/* Fork a child that runs fn(wfd, arg): it sets up its mappings, writes its payload to wfd and
 * then sleeps until it is killed (it also dies with its parent). The parent reads exactly
 * payload_len bytes into payload (10 s at most). Returns the pid or -1. */
LIVE_UNUSED static pid_t live_spawn(void (*fn)(int wfd, void *arg), void *arg, void *payload,
                                    size_t payload_len) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(1);
        fn(p[1], arg);
        for (;;)
            pause();
    }
    close(p[1]);
    size_t got = 0;
    uint64_t deadline = live_now_ns() + 10ull * 1000000000ull;
    while (got < payload_len) {
        uint64_t now = live_now_ns();
        if (now >= deadline)
            break;
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int r = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t n = read(p[0], (char *)payload + got, payload_len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    if (got != payload_len) {
        fprintf(stderr, "live: child %d did not report ready (%zu of %zu bytes)\n", (int)pid, got,
                payload_len);
        kill(pid, SIGKILL);
        (void)waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

/* Write all of buf (in the child). */
LIVE_UNUSED static void live_write_all(int fd, const void *buf, size_t len) {
    const char *c = buf;
    while (len > 0) {
        ssize_t n = write(fd, c, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(3);
        c += n;
        len -= (size_t)n;
    }
}

/* Kill and reap (bounded: SIGKILL cannot be ignored). */
LIVE_UNUSED static void live_kill(pid_t pid) {
    if (pid <= 0)
        return;
    (void)kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Wait for pid with a timeout in ms; returns the wait status or -1 (then it was killed). */
LIVE_UNUSED static int live_wait_timeout(pid_t pid, int timeout_ms) {
    uint64_t deadline = live_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        if (live_now_ns() >= deadline) {
            live_kill(pid);
            return -1;
        }
        usleep(10000);
    }
}

/* "a\x01b" style rendering of bytes for messages. */
LIVE_UNUSED static const char *live_quote(const char *s, size_t len, char *buf, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
    }
    buf[o] = 0;
    return buf;
}

/* Write (touch_w) or read (touch_r) one byte every step bytes of [p, p + len): fault the
 * pages in, or read them without changing them. */
static inline void touch_w(void *p, size_t len, size_t step) {
    for (size_t o = 0; o < len; o += step)
        ((volatile char *)p)[o] = 1;
}

static inline void touch_r(const void *p, size_t len, size_t step) {
    unsigned sum = 0;
    for (size_t o = 0; o < len; o += step)
        sum += ((const volatile unsigned char *)p)[o];
    (void)sum;
}

/* HugePages_Free of /proc/meminfo (default-size pool), or -1. */
static inline long live_hugepages_free(void) {
    char *b = live_slurp("/proc/meminfo", NULL);
    struct live_kvs k;
    long v = -1;
    if (b) {
        live_kvs_parse(b, &k);
        const struct live_kv *e = live_kvs_get(&k, "HugePages_Free");
        if (e)
            v = (long)e->value;
    }
    free(b);
    return v;
}
