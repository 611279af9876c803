#!/usr/bin/env python3
"""Generate tests/http/corpus/: raw HTTP requests that a client should never send, one file
each, for tests/http/malformed.sh (which sends every file to a real vmatlasd over a raw socket).

Run from the repository root:  python3 tests/http/make-corpus.py
The output is fully determined by this script (no clock, no unseeded randomness): the
"random" bytes come from SHA-256 in counter mode. It rewrites every *.http file and MANIFEST.

MANIFEST has one line per file: FILE <TAB> EXPECT <TAB> WHAT. EXPECT is one of
  ok         a valid request (a control): exactly one answer, 200
  ok+reject  a valid request, then something malformed on the same connection: the first
             answer is 200, every later one a 4xx (or none: the connection is closed or left
             to time out)
  reject     malformed: every answer is a 4xx, or there is none (closed; or, for a request
             that never ends its header block, silent until the daemon's idle timeout closes
             it); never a 2xx, 3xx or 5xx
  no5xx      legal but unusual (RFC 9112 lets a server accept it): any answer but a 5xx
  trunc      an unfinished request, then the client shuts its side down (SHUT_WR): any
             answer must be a 4xx, and the daemon must close the connection
  abort      an unfinished request, then the client closes the socket at once
The fixture the test runs on is tests/fixtures/hostile (pids 100..107; 101's comm is the bytes
ff fe 5c 22 71, 105 is "longline")."""
import hashlib
import os

OUT = "tests/http/corpus"
H = b"Host: localhost\r\n"
entries = []  # (slug, expect, what, bytes)


def add(slug, expect, what, data):
    assert expect in ("ok", "ok+reject", "reject", "no5xx", "trunc", "abort"), expect
    assert isinstance(data, bytes) and "\t" not in what and "\n" not in what
    entries.append((slug, expect, what, data))


def get(target, headers=H, method=b"GET", version=b"HTTP/1.1"):
    if isinstance(target, str):
        target = target.encode()
    return method + b" " + target + b" " + version + b"\r\n" + headers + b"\r\n"


def noise(label, n):
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(b"vmatlas-corpus:%s:%d" % (label.encode(), i)).digest()
        i += 1
    return out[:n]


# --- controls: valid requests, answered 200 -----------------------------------------------------
add("ok-healthz", "ok", "GET /healthz", get("/healthz"))
add("ok-node", "ok", "GET /api/v1/node", get("/api/v1/node"))
add("ok-head-node", "ok", "HEAD /api/v1/node", get("/api/v1/node", method=b"HEAD"))
add("ok-processes-query", "ok", "a query with every parameter, each valid",
    get("/api/v1/processes?sort=pid&order=asc&limit=5&offset=0&kthreads=include&comm=longline"
        "&user=root&unit=hostile.service&cgroup=/system.slice&pretty=1"))
add("ok-process-100", "ok", "one process", get("/api/v1/processes/100"))
add("ok-vmas-100", "ok", "one process's VMAs", get("/api/v1/processes/100/vmas"))
add("ok-http10-no-host", "ok", "HTTP/1.0 needs no Host", get("/healthz", headers=b"", version=b"HTTP/1.0"))
add("ok-comm-invalid-utf8", "ok",
    "comm filter with the raw bytes ff fe 5c 22 71 (pid 101's comm is not UTF-8: matching it must work)",
    get("/api/v1/processes?comm=%ff%fe%5c%22q"))
add("ok-comm-newline", "ok", "comm filter with a newline (pid 100's comm ends in one)",
    get("/api/v1/processes?comm=a)%20b%20(c%0a"))
add("ok-limit-encoded", "ok", "limit=%31%30 is limit=10", get("/api/v1/processes?limit=%31%30"))
add("ok-pct-unreserved", "ok", "/%61pi/v1/node: percent-encoded unreserved letters (RFC 3986 6.2.2.2: the same URI)",
    get("/%61pi/v1/node"))
add("ok-hiwater-group", "ok", "hiwater group_by=unit", get("/api/v1/hiwater?group_by=unit"))
add("ok-metrics", "ok", "GET /metrics", get("/metrics"))

# --- methods ---------------------------------------------------------------------------------------
for m in [b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE", b"PROPFIND", b"BREW", b"get",
          b"GeT", b"HEADX", b"GETT", b"G-E-T", b"\xc7\xb5ET"]:
    slug = "method-" + "".join(c if c.isalnum() and c.isascii() else "_" for c in m.decode("latin-1"))
    add(slug, "reject", "method %r (only GET and HEAD)" % m.decode("latin-1"), get("/api/v1/node", method=m))
add("method-connect", "reject", "CONNECT in authority-form",
    b"CONNECT localhost:22 HTTP/1.1\r\n" + H + b"\r\n")
add("method-options-star", "reject", "OPTIONS *", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n")
add("method-post-body", "reject", "POST with a body", get("/api/v1/node", headers=H +
    b"Content-Type: application/json\r\nContent-Length: 13\r\n", method=b"POST") + b'{"limit": 10}')
add("method-empty", "reject", "no method: the line starts with a space", b" /healthz HTTP/1.1\r\n" + H + b"\r\n")
add("method-long", "reject", "a 10 KiB method", get("/healthz", method=b"G" * 10240))
add("method-ctl", "reject", "method with control bytes", get("/healthz", method=b"G\x01\x7fT"))
add("method-tab-sep", "no5xx", "TAB instead of SP between the parts (RFC 9112 3: a server MAY split on any whitespace)", b"GET\t/healthz\tHTTP/1.1\r\n" + H + b"\r\n")
add("method-double-space", "no5xx", "two spaces after the method (RFC 9112 3: MAY be accepted)", b"GET  /healthz HTTP/1.1\r\n" + H + b"\r\n")
add("method-trailing-space", "no5xx", "a space after the version (RFC 9112 3: MAY be ignored)", b"GET /healthz HTTP/1.1 \r\n" + H + b"\r\n")
add("method-extra-token", "reject", "a fourth token on the request line",
    b"GET /healthz HTTP/1.1 extra\r\n" + H + b"\r\n")

# --- NULs --------------------------------------------------------------------------------------------
add("nul-in-method", "reject", "NUL inside the method", get("/healthz", method=b"GE\x00T"))
add("nul-in-path", "reject", "raw NUL inside the path", get(b"/heal\x00thz"))
add("nul-after-path", "reject", "raw NUL after a valid path", get(b"/api/v1/node\x00"))
add("nul-before-version", "reject", "NUL between path and version", b"GET /healthz\x00HTTP/1.1\r\n" + H + b"\r\n")
add("nul-in-version", "reject", "NUL inside the version", get("/healthz", version=b"HTTP/1\x00.1"))
add("nul-in-query", "reject", "raw NUL in a query value", get(b"/api/v1/processes?comm=long\x00line"))
add("nul-in-header-name", "reject", "NUL in a header name", get("/healthz", headers=H + b"X-A\x00b: 1\r\n"))
add("nul-in-header-value", "reject", "NUL in a header value", get("/healthz", headers=H + b"X-A: 1\x002\r\n"))
add("nul-in-host", "reject", "NUL in Host", get("/healthz", headers=b"Host: local\x00host\r\n"))
add("nul-header-line", "reject", "a header line of 64 NULs", get("/healthz", headers=H + b"\x00" * 64 + b"\r\n"))
add("nul-only", "reject", "4 KiB of NULs", b"\x00" * 4096)
add("nul-before-request", "reject", "NULs, then a valid request", b"\x00\x00\x00\x00" + get("/healthz"))

# --- oversized headers -------------------------------------------------------------------------------
def big_header(n):
    return b"X-Big: " + b"a" * n + b"\r\n"
add("hdr-17k-one", "reject", "one header value of 17 KiB (over 16 KiB)", get("/api/v1/node", headers=H + big_header(17 * 1024)))
add("hdr-20k-one", "reject", "one header value of 20 KiB", get("/api/v1/node", headers=H + big_header(20 * 1024)))
add("hdr-33k-one", "reject", "one header value of 33 KiB (over 32 KiB)", get("/api/v1/node", headers=H + big_header(33 * 1024)))
add("hdr-64k-one", "reject", "one header value of 64 KiB", get("/api/v1/node", headers=H + big_header(64 * 1024)))
add("hdr-256k-one", "reject", "one header value of 256 KiB", get("/api/v1/node", headers=H + big_header(256 * 1024)))
add("hdr-17k-many", "reject", "170 headers of 100 bytes (17 KiB in all)",
    get("/api/v1/node", headers=H + b"".join(b"X-H%03d: %s\r\n" % (i, b"b" * 91) for i in range(170))))
add("hdr-33k-many", "reject", "330 headers of 100 bytes (33 KiB in all)",
    get("/api/v1/node", headers=H + b"".join(b"X-H%03d: %s\r\n" % (i, b"b" * 91) for i in range(330))))
add("hdr-4000-tiny", "reject", "4,000 one-letter headers",
    get("/api/v1/node", headers=H + b"".join(b"X%d: 1\r\n" % i for i in range(4000))))
add("hdr-long-name", "reject", "a header name of 20 KiB", get("/api/v1/node", headers=H + b"X" * 20480 + b": 1\r\n"))
add("hdr-long-host", "reject", "Host of 20 KiB", get("/api/v1/node", headers=b"Host: " + b"h" * 20480 + b"\r\n"))
add("hdr-17k-cookie", "reject", "Cookie of 17 KiB", get("/api/v1/node", headers=H + b"Cookie: " + b"c=1; " * 3500 + b"\r\n"))

# --- percent-encoding ----------------------------------------------------------------------------------
for slug, target in [
        ("pct-lone", "/api/v1/node%"), ("pct-one-digit", "/api/v1/node%4"),
        ("pct-nonhex", "/api/v1/%zznode"), ("pct-half-hex", "/api/v1/no%g1de"),
        ("pct-double", "/api/v1/node%%"), ("pct-encoded-slash", "/api%2Fv1%2Fnode"),
        ("pct-double-encoded", "/api/v1/%256eode"), ("pct-nul-end", "/healthz%00"),
        ("pct-nul-ext", "/healthz%00.html"), ("pct-nul-mid", "/api/v1/processes/100%00/vmas"),
        ("pct-ff", "/api/v1/node%ff"),
        ("pct-crlf", "/api/v1/node%0d%0aX-Injected:%201"), ("pct-space", "/api/v1/node%20"),
        ("pct-query-name-bad", "/api/v1/processes?%zz=1"), ("pct-query-value-bad", "/api/v1/processes?limit=%zz"),
        ("pct-query-lone", "/api/v1/processes?limit=%"), ("pct-query-trailing", "/api/v1/processes?limit=1%"),
        ("pct-query-eq", "/api/v1/processes?limit%3d5"), ("pct-query-amp", "/api/v1/processes?limit=5%26sort=pid"),
        ("pct-query-nul-name", "/api/v1/processes?limit%00=5"), ("pct-query-nul-limit", "/api/v1/processes?limit=5%00"),
        ("pct-query-plus", "/api/v1/processes?limit=+5"), ("pct-query-space", "/api/v1/processes?limit=%205"),
]:
    add(slug, "reject", "bad percent-encoding: " + target, get(target))
for name, val in [("comm", "longline%00x"), ("comm", "%00"), ("user", "root%00"), ("unit", "hostile.service%00x"),
                  ("cgroup", "/system.slice%00x")]:
    add("pct-nul-filter-%s-%s" % (name, "empty" if val == "%00" else "trunc"), "reject",
        "%s=%s: a NUL in a filter value (the value after it must not be dropped silently)" % (name, val),
        get("/api/v1/processes?%s=%s" % (name, val)))

# --- path tricks -----------------------------------------------------------------------------------------
for slug, target in [
        ("path-dotdot-root", "/.."), ("path-dotdot-passwd", "/../../../../etc/passwd"),
        ("path-dotdot-mid", "/api/v1/../v1/node"), ("path-dotdot-pct", "/api/v1/%2e%2e/v1/node"),
        ("path-dotdot-pct-upper", "/api/v1/%2E%2E/v1/node"), ("path-dotdot-mixed", "/api/v1/.%2e/v1/node"),
        ("path-dotdot-pid", "/api/v1/processes/100/../101"), ("path-dotdot-pid-pct", "/api/v1/processes/..%2f..%2fnode"),
        ("path-dot", "/./healthz"), ("path-dot-end", "/healthz/."), ("path-double-slash", "//healthz"),
        ("path-double-slash-mid", "/api//v1/node"), ("path-trailing-slash", "/api/v1/node/"),
        ("path-backslash", "\\api\\v1\\node"), ("path-backslash-mid", "/api\\v1/node"),
        ("path-backslash-dotdot", "/api/v1/..\\..\\etc\\passwd"), ("path-pct-backslash", "/api/v1%5cnode"),
        ("path-no-slash", "healthz"), ("path-empty-query", "?"), ("path-fragment", "/api/v1/node#frag"),
        ("path-semicolon", "/api/v1/node;jsessionid=1"), ("path-case", "/API/V1/NODE"),
        ("path-star", "*"), ("path-authority", "localhost:80"), ("path-proc-root", "/proc/self/maps"),
        ("path-file-uri", "file:///etc/passwd"), ("path-tilde", "/~root"),
]:
    add(slug, "reject", "path trick: " + target, get(target))
add("path-absolute-form", "no5xx", "absolute-form target (RFC 9112 3.2.2: a server MUST accept it)",
    get("http://localhost/healthz"))

# --- UTF-8 in path and query ---------------------------------------------------------------------------
for slug, target in [
        ("utf8-overlong-slash", b"/api/v1/processes/%c0%af"), ("utf8-overlong-dot", b"/api/v1/%c0%ae%c0%ae/v1/node"),
        ("utf8-overlong-3byte", b"/api/v1/%e0%80%afnode"), ("utf8-overlong-4byte", b"/api/v1/%f0%80%80%afnode"),
        ("utf8-lone-continuation", b"/api/v1/node%80"), ("utf8-surrogate", b"/api/v1/node%ed%a0%80"),
        ("utf8-5byte", b"/api/v1/node%f8%88%80%80%80"), ("utf8-fe-ff", b"/api/v1/node%fe%ff"),
        ("utf8-truncated", b"/api/v1/node%e2%82"), ("utf8-raw-ff", b"/api/v1/node\xff"),
        ("utf8-raw-overlong", b"/api/v1/\xc0\xaf"), ("utf8-raw-valid", "/api/v1/n\u00f6de".encode()),
        ("utf8-pid-arabic", "/api/v1/processes/\u0661\u0660\u0660".encode()),
        ("utf8-pid-fullwidth", "/api/v1/processes/\uff11\uff10\uff10".encode()),
        ("utf8-query-name-overlong", b"/api/v1/processes?%c0%af=1"),
        ("utf8-query-sort-overlong", b"/api/v1/processes?sort=%c0%af"),
        ("utf8-query-order-invalid", b"/api/v1/processes?order=%e0%80%af"),
        ("utf8-query-kthreads-ff", b"/api/v1/processes?kthreads=%ff"),
        ("utf8-query-limit-fullwidth", b"/api/v1/processes?limit=%ef%bc%91"),
        ("utf8-query-group-by-invalid", b"/api/v1/hiwater?group_by=comm%ff"),
        ("utf8-query-pretty-invalid", b"/api/v1/node?pretty=%c0%b1"),
        ("utf8-query-raw-value", b"/api/v1/processes?comm=\xff\xfe"),
]:
    add(slug, "reject", "UTF-8 trick: " + target.decode("latin-1").encode("unicode_escape").decode(), get(target))

# --- HTTP versions ---------------------------------------------------------------------------------------
for slug, v in [("ver-2", b"HTTP/2.0"), ("ver-3", b"HTTP/3"), ("ver-9-9", b"HTTP/9.9"), ("ver-0-9", b"HTTP/0.9"),
                ("ver-no-minor", b"HTTP/1"), ("ver-three-parts", b"HTTP/1.1.1"), ("ver-leading-zero", b"HTTP/01.1"),
                ("ver-lowercase", b"http/1.1"), ("ver-https", b"HTTPS/1.1"), ("ver-negative", b"HTTP/-1.1"),
                ("ver-letter", b"HTTP/1.a"), ("ver-empty", b"HTTP/"), ("ver-10-0", b"HTTP/10.0"),
                ("ver-1-10", b"HTTP/1.10"), ("ver-junk", b"FOO/1.1"), ("ver-long", b"HTTP/1." + b"1" * 1000)]:
    add(slug, "reject", "HTTP version %s" % v.decode()[:40], get("/healthz", version=v))
add("ver-1-2", "no5xx", "HTTP/1.2 (RFC 9110 2.5: a server may answer a higher minor version as 1.1)",
    get("/healthz", version=b"HTTP/1.2"))
add("ver-none", "reject", "HTTP/0.9-style request line without a version", b"GET /healthz\r\n\r\n")
add("ver-none-lf", "reject", "request line without a version, bare LF", b"GET /healthz\n\n")
add("ver-h2-preface", "reject", "the HTTP/2 connection preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
add("ver-h2-preface-frames", "reject", "the HTTP/2 preface and a SETTINGS frame",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")

# --- Host ----------------------------------------------------------------------------------------------------
add("host-missing", "reject", "HTTP/1.1 without Host (RFC 9112 3.2: 400)", get("/api/v1/node", headers=b""))
add("host-duplicate-same", "reject", "two Host headers, same value (RFC 9112 3.2: 400)",
    get("/api/v1/node", headers=H + H))
add("host-duplicate-differ", "reject", "two Host headers, different values (RFC 9112 3.2: 400)",
    get("/api/v1/node", headers=H + b"Host: evil.example\r\n"))
add("host-duplicate-case", "reject", "Host and hOST", get("/api/v1/node", headers=H + b"hOST: evil.example\r\n"))
add("host-list", "reject", "Host with a comma list", get("/api/v1/node", headers=b"Host: localhost, evil.example\r\n"))
add("host-space-before-colon", "reject", "space between the name and the colon (RFC 9112 5.1: 400)",
    get("/api/v1/node", headers=b"Host : localhost\r\n"))
add("host-tab-before-colon", "reject", "TAB between the name and the colon",
    get("/api/v1/node", headers=b"Host\t: localhost\r\n"))
add("host-spaces", "reject", "Host with inner spaces", get("/api/v1/node", headers=b"Host: local host\r\n"))
add("host-userinfo", "reject", "Host with userinfo", get("/api/v1/node", headers=b"Host: user:pw@localhost\r\n"))
add("host-bad-port", "reject", "Host with a port that is not a number",
    get("/api/v1/node", headers=b"Host: localhost:http\r\n"))
add("host-ctl", "reject", "Host with control bytes", get("/api/v1/node", headers=b"Host: local\x01\x7fhost\r\n"))
add("host-empty", "no5xx", "empty Host (RFC 9112 3.2 allows it when the target has no authority)",
    get("/api/v1/node", headers=b"Host:\r\n"))

# --- Content-Length, Transfer-Encoding, smuggling ------------------------------------------------------------
def cl(v, body=b""):
    return get("/api/v1/node", headers=H + b"Content-Length: " + v + b"\r\n") + body
for slug, v, body in [
        ("cl-1e9", b"1000000000", b""), ("cl-2p64", b"18446744073709551616", b""),
        ("cl-2p64-1", b"18446744073709551615", b""), ("cl-huge", b"9" * 40, b""),
        ("cl-negative", b"-1", b""), ("cl-hex", b"0x10", b""), ("cl-plus", b"+5", b"hello"),
        ("cl-float", b"5.0", b"hello"), ("cl-list", b"5, 5", b"hello"), ("cl-space-inside", b"5 5", b"hello"),
        ("cl-empty", b"", b""), ("cl-leading-zeros", b"0000000000000000000000000005", b"hello"),
        ("cl-with-body", b"5", b"hello"), ("cl-short-body", b"10", b"hello"), ("cl-letters", b"abc", b""),
]:
    add(slug, "reject", "GET with Content-Length: %s" % v.decode()[:40], cl(v, body))
add("cl-twice-differ", "reject", "two Content-Length values (RFC 9112 6.3: 400)",
    get("/api/v1/node", headers=H + b"Content-Length: 5\r\nContent-Length: 6\r\n") + b"hello!")
add("cl-twice-same", "reject", "two equal Content-Length headers with a body",
    get("/api/v1/node", headers=H + b"Content-Length: 5\r\nContent-Length: 5\r\n") + b"hello")
add("cl-zero-twice", "no5xx", "Content-Length: 0 twice", get("/api/v1/node", headers=H + b"Content-Length: 0\r\nContent-Length: 0\r\n"))
for slug, te, body in [
        ("te-chunked-get", b"chunked", b"5\r\nhello\r\n0\r\n\r\n"),
        ("te-chunked-empty", b"chunked", b"0\r\n\r\n"),
        ("te-chunked-bad-size", b"chunked", b"zz\r\nhello\r\n0\r\n\r\n"),
        ("te-chunked-huge-size", b"chunked", b"ffffffffffffffffff\r\nhello\r\n"),
        ("te-chunked-negative", b"chunked", b"-5\r\nhello\r\n0\r\n\r\n"),
        ("te-chunked-ext", b"chunked", b"5;ext=\"a\x00b\"\r\nhello\r\n0\r\n\r\n"),
        ("te-chunked-no-end", b"chunked", b"5\r\nhello\r\n"),
        ("te-gzip", b"gzip", b""), ("te-gzip-chunked", b"gzip, chunked", b"0\r\n\r\n"),
        ("te-chunked-chunked", b"chunked, chunked", b"0\r\n\r\n"), ("te-identity", b"identity", b""),
        ("te-xchunked", b"xchunked", b"0\r\n\r\n"), ("te-chunked-space", b"chunked ", b"0\r\n\r\n"),
        ("te-chunked-upper", b"CHUNKED", b"0\r\n\r\n"), ("te-empty", b"", b""),
]:
    add(slug, "reject", "GET with Transfer-Encoding: %s" % te.decode(),
        get("/api/v1/node", headers=H + b"Transfer-Encoding: " + te + b"\r\n") + body)
SMUGGLED = get("/api/v1/node")
add("smuggle-cl-te", "reject", "CL.TE: Content-Length covers a smuggled request, TE says it is the next one",
    get("/healthz", headers=H + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % (5 + len(SMUGGLED)))
    + b"0\r\n\r\n" + SMUGGLED)
add("smuggle-te-cl", "reject", "TE.CL: the chunk hides a request that Content-Length exposes",
    get("/healthz", headers=H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n")
    + b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n")
add("smuggle-te-space", "reject", "\"Transfer-Encoding : chunked\" (space before the colon) with Content-Length",
    get("/healthz", headers=H + b"Content-Length: %d\r\nTransfer-Encoding : chunked\r\n" % (5 + len(SMUGGLED)))
    + b"0\r\n\r\n" + SMUGGLED)
add("smuggle-te-tab", "reject", "Transfer-Encoding:<TAB>chunked with Content-Length",
    get("/healthz", headers=H + b"Content-Length: %d\r\nTransfer-Encoding:\tchunked\r\n" % (5 + len(SMUGGLED)))
    + b"0\r\n\r\n" + SMUGGLED)
add("smuggle-te-folded", "reject", "Transfer-Encoding folded onto a second line",
    get("/healthz", headers=H + b"Transfer-Encoding:\r\n chunked\r\n") + b"0\r\n\r\n" + SMUGGLED)
add("smuggle-te-twice", "reject", "Transfer-Encoding twice (identity, chunked)",
    get("/healthz", headers=H + b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n")
    + b"0\r\n\r\n" + SMUGGLED)
add("smuggle-cl-http10-te", "reject", "HTTP/1.0 with Transfer-Encoding: chunked",
    get("/healthz", headers=H + b"Transfer-Encoding: chunked\r\n", version=b"HTTP/1.0") + b"0\r\n\r\n" + SMUGGLED)
add("smuggle-expect", "reject", "Expect: 100-continue with a Content-Length",
    get("/api/v1/node", headers=H + b"Expect: 100-continue\r\nContent-Length: 5\r\n") + b"hello")
add("smuggle-expect-bogus", "no5xx", "Expect: bogus-value, no body (RFC 9110 10.1.1: 417 allowed)",
    get("/api/v1/node", headers=H + b"Expect: bogus-value\r\n"))
add("smuggle-upgrade-h2c", "no5xx", "Upgrade: h2c (a server may ignore it)",
    get("/healthz", headers=H + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"))

# --- header syntax: folding, bare CR and LF --------------------------------------------------------------------
add("fold-space", "no5xx", "obs-fold: a header continued with a space (RFC 9112 5.2: reject, or replace the fold with SP)",
    get("/healthz", headers=H + b"X-A: 1\r\n 2\r\n"))
add("fold-tab", "no5xx", "obs-fold: a header continued with a TAB (RFC 9112 5.2: reject, or replace with SP)", get("/healthz", headers=H + b"X-A: 1\r\n\t2\r\n"))
add("fold-first-line", "no5xx", "whitespace-led line right after the request line (RFC 9112 2.2: reject, or skip it)",
    b"GET /healthz HTTP/1.1\r\n X-A: 1\r\n" + H + b"\r\n")
add("fold-host", "reject", "Host folded onto a second line", get("/healthz", headers=b"Host:\r\n localhost\r\n"))
add("crlf-bare-lf", "no5xx", "bare LF line ends everywhere (RFC 9112 2.2: a recipient MAY accept them)",
    b"GET /healthz HTTP/1.1\nHost: localhost\n\n")
add("crlf-mixed", "no5xx", "CRLF and bare LF mixed", b"GET /healthz HTTP/1.1\r\nHost: localhost\n\r\n")
add("crlf-bare-cr-ends", "reject", "bare CR line ends (RFC 9112 2.2: invalid)", b"GET /healthz HTTP/1.1\rHost: localhost\r\r")
add("crlf-bare-cr-value", "no5xx", "bare CR inside a header value (RFC 9112 2.2: reject, or replace it with SP)", get("/healthz", headers=H + b"X-A: 1\r2\r\n"))
add("crlf-bare-cr-line", "reject", "bare CR inside the request line", b"GET /healthz\r HTTP/1.1\r\n" + H + b"\r\n")
add("crlf-cr-cr-lf", "reject", "CR CR LF line ends", b"GET /healthz HTTP/1.1\r\r\nHost: localhost\r\r\n\r\r\n")
add("crlf-leading-empty-lines", "no5xx", "empty lines before the request line (RFC 9112 2.2: ignore at least one)",
    b"\r\n\r\n" + get("/healthz"))
add("hdr-no-colon", "reject", "a header line without a colon", get("/healthz", headers=H + b"NoColonHere\r\n"))
add("hdr-empty-name", "reject", "a header with an empty name", get("/healthz", headers=H + b": value\r\n"))
add("hdr-space-in-name", "reject", "a space inside a header name", get("/healthz", headers=H + b"X A: 1\r\n"))
add("hdr-bad-name-chars", "reject", "a header name with separators", get("/healthz", headers=H + b"X(@): 1\r\n"))
add("hdr-del-in-value", "no5xx", "DEL and control bytes in a header value (RFC 9110 5.5: MAY be kept)", get("/healthz", headers=H + b"X-A: a\x7f\x01b\r\n"))
add("hdr-utf8-name", "reject", "a header name in UTF-8", get("/healthz", headers=H + "X-\u00fc: 1\r\n".encode()))

# --- /api/v1/processes and friends: wrong parameter values --------------------------------------------------
for q in ["sort=", "sort=RSS", "sort=rss%20", "sort=foo", "sort=rss&sort=bar", "sort", "order=up", "order=",
          "order=ASC", "order", "limit=0", "limit=-1", "limit=10001", "limit=1e3", "limit=0x10", "limit=",
          "limit=1.5", "limit=99999999999999999999999", "limit=18446744073709551617", "limit", "limit=5&limit=0",
          "offset=-1", "offset=abc", "offset=18446744073709551616", "offset=1.0", "offset=", "offset",
          "kthreads=yes", "kthreads=", "kthreads=EXCLUDE", "kthreads", "pretty=2", "pretty=yes", "pretty=-1",
          "foo=1", "LIMIT=5", "=5", "&&&=", "%3d=1", "sort=pid&nope"]:
    slug = "q-" + "".join(c if c.isalnum() else "_" for c in q)[:40]
    add(slug, "reject", "/api/v1/processes?" + q, get("/api/v1/processes?" + q))
add("q-33-params", "reject", "33 parameters (the limit is 32)",
    get("/api/v1/processes?" + "&".join("comm=a%d" % i for i in range(33))))
add("q-1000-params", "reject", "1,000 parameters", get("/api/v1/processes?" + "&".join("comm=%d" % i for i in range(1000))))
add("q-600-params", "reject", "600 parameters a=1 (2.4 KiB)", get("/api/v1/processes?" + "a=1&" * 600))
add("q-550-empty-params", "reject", "550 empty parameters: a 600-byte request line of '&'", get("/api/v1/processes?" + "&" * 550))
for slug, target in [
        ("q-hiwater-bad", "/api/v1/hiwater?group_by=bad"), ("q-hiwater-empty", "/api/v1/hiwater?group_by="),
        ("q-hiwater-case", "/api/v1/hiwater?group_by=COMM"), ("q-hiwater-unknown", "/api/v1/hiwater?sort=rss"),
        ("q-residency-refresh-2", "/api/v1/processes/100/residency?refresh=2"),
        ("q-residency-refresh-empty", "/api/v1/processes/100/residency?refresh="),
        ("q-vmas-refresh", "/api/v1/processes/100/vmas?refresh=1"),
        ("q-process-limit", "/api/v1/processes/100?limit=5"), ("q-healthz-unknown", "/healthz?x=1"),
        ("q-healthz-pretty-bad", "/healthz?pretty=2"), ("q-readyz-unknown", "/readyz?verbose"),
        ("q-node-unknown", "/api/v1/node?x=1"), ("q-metrics-unknown", "/metrics?name[]=up"),
        ("q-exited-unknown", "/api/v1/exited?limit=5"), ("q-hugepages-unknown", "/api/v1/hugepages?node=0"),
]:
    add(slug, "reject", target, get(target))

# --- pids -----------------------------------------------------------------------------------------------------
for slug, pid in [
        ("pid-negative", "-1"), ("pid-zero", "0"), ("pid-leading-zeros", "00100"), ("pid-leading-zero", "0100"),
        ("pid-2p31", "2147483648"), ("pid-2p32", "4294967296"), ("pid-2p63", "9223372036854775808"),
        ("pid-2p63-1", "9223372036854775807"), ("pid-2p64", "18446744073709551616"), ("pid-huge", "9" * 30),
        ("pid-exp", "1e3"), ("pid-hex", "0x64"), ("pid-plus", "+100"), ("pid-space", "%20100"),
        ("pid-trailing-space", "100%20"), ("pid-underscore", "1_000"), ("pid-letters", "abc"),
        ("pid-digits-letters", "100abc"), ("pid-decimal", "100.0"), ("pid-tab", "%09100"),
        ("pid-semicolon", "100;x=1"), ("pid-empty", ""), ("pid-missing", "2147483647"),
        ("pid-neg-zero", "-0"), ("pid-very-long", "1" * 5000),
]:
    add(slug, "reject", "pid %s" % pid[:40], get("/api/v1/processes/" + pid))
for slug, target in [
        ("pid-vmas-negative", "/api/v1/processes/-1/vmas"), ("pid-residency-zeros", "/api/v1/processes/00/residency"),
        ("pid-vmas-2p63", "/api/v1/processes/9223372036854775808/vmas"),
        ("pid-empty-vmas", "/api/v1/processes//vmas"), ("pid-vmas-extra", "/api/v1/processes/100/vmas/extra"),
        ("pid-vmas-case", "/api/v1/processes/100/VMAS"), ("pid-vmas-slash", "/api/v1/processes/100/vmas/"),
        ("pid-residency-extra", "/api/v1/processes/100/residency/x"), ("pid-unknown-sub", "/api/v1/processes/100/maps"),
        ("pid-refresh-letters", "/api/v1/processes/abc/residency?refresh=1"),
        ("pid-refresh-missing", "/api/v1/processes/2147483647/residency?refresh=0"),
]:
    add(slug, "reject", target, get(target))

# --- long URLs ------------------------------------------------------------------------------------------------
def long_path(n):
    base = b"/api/v1/node/"
    return base + b"a" * (n - len(base))
add("url-8192", "reject", "an unknown path of exactly 8 KiB", get(long_path(8192)))
add("url-8193", "reject", "a path of 8 KiB + 1 (over the limit)", get(long_path(8193)))
add("url-9k", "reject", "a path of 9 KiB", get(long_path(9 * 1024)))
add("url-16k", "reject", "a path of 16 KiB", get(long_path(16 * 1024)))
add("url-31k", "reject", "a path of 31 KiB", get(long_path(31 * 1024)))
add("url-33k", "reject", "a path of 33 KiB (over MHD's 32 KiB pool)", get(long_path(33 * 1024)))
add("url-64k", "reject", "a path of 64 KiB", get(long_path(64 * 1024)))
add("url-256k", "reject", "a path of 256 KiB", get(long_path(256 * 1024)))
add("url-query-9k", "reject", "a valid path with a 9 KiB query value", get(b"/api/v1/processes?comm=" + b"x" * 9216))
add("url-query-many-9k", "reject", "a 9 KiB query of repeated empty parameters", get(b"/api/v1/processes?" + b"&" * 9216))
add("url-pct-9k", "reject", "a 9 KiB path of %41 escapes (3 KiB decoded)", get(b"/api/v1/" + b"%41" * 3072))

# --- pipelining ---------------------------------------------------------------------------------------------------
VALID = get("/api/v1/node")
for slug, tail, what in [
        ("pipe-garbage", b"XYZZY garbage\r\n\r\n", "a line of garbage"),
        ("pipe-nuls", b"\x00" * 256, "256 NULs"),
        ("pipe-binary", noise("pipe-binary", 2048), "2 KiB of random bytes"),
        ("pipe-bad-version", get("/healthz", version=b"HTTP/9.9"), "a request with HTTP/9.9"),
        ("pipe-post", get("/api/v1/node", method=b"POST", headers=H + b"Content-Length: 2\r\n") + b"{}", "a POST"),
        ("pipe-huge-header", get("/api/v1/node", headers=H + big_header(40 * 1024)), "a request with a 40 KiB header"),
        ("pipe-partial", b"GET /api/v1/no", "half a request line, never finished"),
        ("pipe-smuggle", get("/healthz", headers=H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n") + b"0\r\n\r\n" + SMUGGLED,
         "a CL+TE request carrying a third one"),
        ("pipe-tls-hello", bytes.fromhex("16030100a1010000") + noise("tls", 160), "a TLS ClientHello"),
        ("pipe-no-host", get("/api/v1/node", headers=b""), "a request without Host"),
]:
    add(slug, "ok+reject", "a valid GET /api/v1/node, then " + what, VALID + tail)
add("pipe-garbage-first", "reject", "garbage, then a valid request (which must not be served)",
    b"XYZZY garbage\r\n\r\n" + VALID)
add("pipe-bad-then-valid", "reject", "a request without Host, then a valid one", get("/api/v1/node", headers=b"") + VALID)

# --- not HTTP at all --------------------------------------------------------------------------------------------------
add("raw-tls-hello", "reject", "a TLS ClientHello", bytes.fromhex("16030100a1010000") + noise("tls", 160))
add("raw-ssh-banner", "reject", "an SSH banner", b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
add("raw-empty-lines", "reject", "only CRLFs (8 KiB)", b"\r\n" * 4096)
add("raw-binary", "reject", "4 KiB of random bytes", noise("raw-binary", 4096))
add("raw-ff", "reject", "1 KiB of 0xff", b"\xff" * 1024)
add("raw-spaces", "reject", "1 KiB of spaces, then CRLF CRLF", b" " * 1024 + b"\r\n\r\n")
add("raw-response", "reject", "an HTTP response sent as a request", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
add("raw-json", "reject", "a JSON document", b'{"jsonrpc":"2.0","method":"x","id":1}\r\n\r\n')
add("raw-smtp", "reject", "an SMTP greeting", b"EHLO localhost\r\nMAIL FROM:<a@b>\r\n\r\n")

# --- unfinished, then shut down or closed ------------------------------------------------------------------------------
for slug, data in [("trunc-one-byte", b"G"), ("trunc-request-line", b"GET /api/v1/no"),
                   ("trunc-no-headers-end", b"GET /api/v1/node HTTP/1.1\r\n" + H),
                   ("trunc-mid-header", b"GET /api/v1/node HTTP/1.1\r\nHo"),
                   ("trunc-body", get("/api/v1/node", method=b"POST", headers=H + b"Content-Length: 100\r\n") + b"abc"),
                   ("trunc-chunk", get("/api/v1/node", headers=H + b"Transfer-Encoding: chunked\r\n") + b"10\r\nabc")]:
    add(slug, "trunc", "unfinished request, then shutdown(SHUT_WR)", data)
for slug, data in [("abort-request-line", b"GET /api/v1/processes?limit=10"),
                   ("abort-headers", b"GET /api/v1/node HTTP/1.1\r\n" + H + b"X-A: 1"),
                   ("abort-after-valid", VALID + b"GET /api/v1/node HTTP/1.1\r\n")]:
    add(slug, "abort", "unfinished request, then close()", data)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".http") or f == "MANIFEST":
            os.unlink(os.path.join(OUT, f))
    slugs = [e[0] for e in entries]
    assert len(slugs) == len(set(slugs)), [s for s in slugs if slugs.count(s) > 1]
    lines = []
    for i, (slug, expect, what, data) in enumerate(entries, 1):
        name = "%03d-%s.http" % (i, slug)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        lines.append("%s\t%s\t%s\n" % (name, expect, what))
    with open(os.path.join(OUT, "MANIFEST"), "w", encoding="utf-8") as f:
        f.write("# generated by tests/http/make-corpus.py: FILE<TAB>EXPECT<TAB>WHAT\n")
        f.writelines(lines)
    counts = {}
    for e in entries:
        counts[e[1]] = counts.get(e[1], 0) + 1
    print("%s: %d requests (%s)" % (OUT, len(entries),
                                    ", ".join("%s %d" % kv for kv in sorted(counts.items()))))


if __name__ == "__main__":
    main()
