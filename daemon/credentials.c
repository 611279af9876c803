/* credentials.c: reading the token and TLS files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/credentials.h"
#include "daemon/log.h"
#include "vmatlas/macros.h"

#define TOKEN_MIN 16u
#define TOKEN_MAX 4096u
#define PEM_MAX (1u << 20)

/* The whole file (at most max bytes) as a NUL-terminated string in *ret. */
static int read_text(const char *key, const char *path, size_t max, bool secret, char **ret,
                     char *err, size_t errlen) {
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        (void)snprintf(err, errlen, "%s: cannot read %s: %s", key, path, strerror(e));
        return -e;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        (void)snprintf(err, errlen, "%s: %s is not a regular file of at most %zu bytes", key,
                       path, max);
        return -EINVAL;
    }
    if (secret && (st.st_mode & 0077))
        log_msg(LOG_WARNING, "%s: %s can be read by others (mode %03o); it holds a secret",
                key, path, (unsigned)(st.st_mode & 0777));
    char *buf = calloc(1, (size_t)st.st_size + 1);
    if (!buf)
        return -ENOMEM;
    size_t len = 0;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        (void)snprintf(err, errlen, "%s: %s holds a NUL byte", key, path);
        return -EINVAL;
    }
    *ret = buf;
    return 0;
}

static int load_token(const char *path, char **ret, char *err, size_t errlen) {
    char *t = NULL;
    int r = read_text("auth-token-file", path, TOKEN_MAX + 2, true, &t, err, errlen);
    if (r < 0)
        return r;
    size_t n = strcspn(t, "\r\n");
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    t[n] = '\0';
    bool visible = true;
    for (size_t i = 0; i < n; i++)
        visible &= t[i] > 0x20 && t[i] < 0x7f;
    if (n < TOKEN_MIN || n > TOKEN_MAX || !visible) {
        explicit_bzero(t, strlen(t));
        free(t);
        (void)snprintf(err, errlen,
                       "auth-token-file: the token in %s must be %u to %u visible ASCII "
                       "characters without spaces (e.g. openssl rand -hex 32)",
                       path, TOKEN_MIN, TOKEN_MAX);
        return -EINVAL;
    }
    *ret = t;
    return 0;
}

int credentials_load(const struct vm_config *cfg, struct credentials *ret, char *err,
                     size_t errlen) {
    struct credentials c = {0};
    int r = 0;
    if (cfg->auth_token_file)
        r = load_token(cfg->auth_token_file, &c.token, err, errlen);
    if (r == 0 && cfg->tls_cert)
        r = read_text("tls-cert", cfg->tls_cert, PEM_MAX, false, &c.tls_cert, err, errlen);
    if (r == 0 && cfg->tls_key)
        r = read_text("tls-key", cfg->tls_key, PEM_MAX, true, &c.tls_key, err, errlen);
    if (r == 0 && cfg->tls_client_ca)
        r = read_text("tls-client-ca", cfg->tls_client_ca, PEM_MAX, false, &c.tls_ca, err,
                      errlen);
    if (r == 0 && cfg->peer_ca_file)
        r = read_text("peer-ca-file", cfg->peer_ca_file, PEM_MAX, false, &c.peer_ca, err,
                      errlen);
    if (r < 0) {
        credentials_free(&c);
        return r;
    }
    *ret = c;
    return 0;
}

static void wipe(char **p) {
    if (*p) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

void credentials_free(struct credentials *c) {
    wipe(&c->token);
    wipe(&c->tls_key);
    free(c->tls_cert);
    free(c->tls_ca);
    free(c->peer_ca);
    c->tls_cert = c->tls_ca = c->peer_ca = NULL;
}
