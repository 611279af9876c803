/* test_guard.c: the exposure rules as pure functions: Host allow-list, bearer tokens,
 * loopback addresses. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "api/guard.h"
#include "test.h"

int main(void) {
    static const char *const hosts[] = {"vmatlas.internal", "node-7"};
    struct api_guard open = {0};
    struct api_guard listed = {.hosts = hosts, .nhosts = 2};
    struct api_guard tok = {.token = "0123456789abcdef0123", .token_len = 20};

    /* Hosts: IP literals and localhost always; names only when listed. */
    static const char *const good[] = {"127.0.0.1", "127.0.0.1:9477", "10.1.2.3:80", "[::1]",
                                       "[::1]:9477", "[fe80::1]:1", "localhost", "LocalHost:1",
                                       "localhost.", "localhost.:9477"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!guard_host_allowed(&open, good[i])) {
            fprintf(stderr, "host %s refused\n", good[i]);
            CHECK(0);
        }
    static const char *const bad[] = {"", "evil.example", "evil.example:9477",
                                      "127.0.0.1.nip.io", "localhost.evil.example",
                                      "::1", "[::1", "[::1]x", "[evil]", "127.0.0.1:",
                                      "127.0.0.1:123456", "127.0.0.1:9a", "localhost:80:80",
                                      "vmatlas.internal", "[127.0.0.1]", "localhost..",
                                      ":9477", "127.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (guard_host_allowed(&open, bad[i])) {
            fprintf(stderr, "host \"%s\" allowed\n", bad[i]);
            CHECK(0);
        }
    CHECK(guard_host_allowed(&listed, "vmatlas.internal"));
    CHECK(guard_host_allowed(&listed, "VMATLAS.internal:9477"));
    CHECK(guard_host_allowed(&listed, "node-7."));
    CHECK(!guard_host_allowed(&listed, "vmatlas.internal.evil"));
    CHECK(!guard_host_allowed(&listed, "node-77"));

    /* When the Host is checked: loopback listeners, or any listener with a list. No Host
     * header (HTTP/1.0) passes. */
    CHECK(guard_check(&open, true, "/api/v1/node", NULL, "evil.example") == GUARD_BAD_HOST);
    CHECK(guard_check(&open, false, "/api/v1/node", NULL, "evil.example") == GUARD_OK);
    CHECK(guard_check(&listed, false, "/api/v1/node", NULL, "evil.example") == GUARD_BAD_HOST);
    CHECK(guard_check(&open, true, "/api/v1/node", NULL, NULL) == GUARD_OK);
    CHECK(guard_check(&open, true, "/healthz", NULL, "evil.example") == GUARD_BAD_HOST);

    /* Tokens. */
    CHECK(guard_check(&tok, false, "/metrics", NULL, NULL) == GUARD_NO_TOKEN);
    CHECK(guard_check(&tok, false, "/metrics", "Basic 0123456789abcdef0123", NULL) ==
          GUARD_NO_TOKEN);
    CHECK(guard_check(&tok, false, "/metrics", "Bearer 0123456789abcdef0123", NULL) == GUARD_OK);
    CHECK(guard_check(&tok, false, "/metrics", "bearer  0123456789abcdef0123 ", NULL) ==
          GUARD_OK);
    CHECK(guard_check(&tok, false, "/metrics", "Bearer 0123456789abcdef012", NULL) ==
          GUARD_BAD_TOKEN);
    CHECK(guard_check(&tok, false, "/metrics", "Bearer 0123456789abcdef01234", NULL) ==
          GUARD_BAD_TOKEN);
    CHECK(guard_check(&tok, false, "/metrics", "Bearer 0123456789abcdef0124", NULL) ==
          GUARD_BAD_TOKEN);
    CHECK(guard_check(&tok, false, "/metrics", "Bearer ", NULL) == GUARD_BAD_TOKEN);
    CHECK(guard_check(&tok, false, "/healthz", NULL, NULL) == GUARD_OK);
    CHECK(guard_check(&tok, false, "/readyz", NULL, NULL) == GUARD_OK);
    CHECK(guard_check(&tok, false, "/healthz/", NULL, NULL) == GUARD_NO_TOKEN);
    /* The dashboard's static files need none (they hold no data); its API requests do. */
    CHECK(guard_check(&tok, false, "/", NULL, NULL) == GUARD_OK);
    CHECK(guard_check(&tok, false, "/dashboard/app.js", NULL, NULL) == GUARD_OK);
    CHECK(guard_check(&tok, false, "/dashboard/style.css", NULL, NULL) == GUARD_OK);
    CHECK(guard_check(&tok, false, "/dashboard/", NULL, NULL) == GUARD_NO_TOKEN);
    CHECK(guard_check(&tok, false, "//", NULL, NULL) == GUARD_NO_TOKEN);
    CHECK(guard_check(&tok, true, "/", NULL, "evil.example") == GUARD_BAD_HOST);
    CHECK(guard_check(&tok, true, "/metrics", "Bearer 0123456789abcdef0123", "evil") ==
          GUARD_BAD_HOST);

    /* Host syntax (RFC 9110 7.2), whatever the allow-list. */
    static const char *const valid[] = {"localhost", "a.b-c_d~e:80", "127.0.0.1:9477", "[::1]",
                                        "[fe80::1]:443", "x:", "node-7"};
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        if (!guard_host_valid(valid[i])) {
            fprintf(stderr, "host \"%s\" not valid\n", valid[i]);
            CHECK(0);
        }
    static const char *const invalid[] = {"", "a b", "a,b", "user@host", "host:http", "[::1",
                                          "[zz]:1", "host:123456", "ho\x01st", ":80", "a:1:2",
                                          "[::1]x", "\xff"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        if (guard_host_valid(invalid[i])) {
            fprintf(stderr, "host \"%s\" valid\n", invalid[i]);
            CHECK(0);
        }

    /* Loopback addresses. */
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET, "127.3.2.1", &v4.sin_addr);
    CHECK(guard_is_loopback((struct sockaddr *)&v4, sizeof(v4)));
    inet_pton(AF_INET, "0.0.0.0", &v4.sin_addr);
    CHECK(!guard_is_loopback((struct sockaddr *)&v4, sizeof(v4)));
    inet_pton(AF_INET, "10.213.0.1", &v4.sin_addr);
    CHECK(!guard_is_loopback((struct sockaddr *)&v4, sizeof(v4)));
    inet_pton(AF_INET6, "::1", &v6.sin6_addr);
    CHECK(guard_is_loopback((struct sockaddr *)&v6, sizeof(v6)));
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
    CHECK(guard_is_loopback((struct sockaddr *)&v6, sizeof(v6)));
    inet_pton(AF_INET6, "::", &v6.sin6_addr);
    CHECK(!guard_is_loopback((struct sockaddr *)&v6, sizeof(v6)));
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &v6.sin6_addr);
    CHECK(!guard_is_loopback((struct sockaddr *)&v6, sizeof(v6)));
    CHECK(!guard_is_loopback((struct sockaddr *)&v4, 4)); /* short */
    return test_result("test_guard");
}
