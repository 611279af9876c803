#!/bin/bash
# exposure.sh VMATLASD FIXTURE: the exposure rules and TLS, each checked so that breaking it
# fails the test.
#   - a non-loopback listener without --auth-token-file refuses to start (naming the address);
#     --allow-unauthenticated overrides;
#   - with a token every path but /healthz and /readyz needs "Authorization: Bearer TOKEN"
#     (401 with WWW-Authenticate otherwise); bad token files are refused;
#   - addresses are null by default on non-loopback listeners, shown on loopback ones, and
#     --redact-addresses[=BOOL] decides when given;
#   - the Host header of requests to a loopback listener must be an IP address, localhost or a
#     name of --allowed-hosts (DNS rebinding);
#   - no CORS headers, whatever the Origin;
#   - TLS 1.2+ with --tls-cert/--tls-key; TLS 1.1 and plain HTTP are refused; with
#     --tls-client-ca only clients with a certificate from that CA get answers;
#   - over TLS (no gate), header names and target bytes are still checked (400).
# The non-loopback address lives in a network namespace the test creates (on its lo),
# so nothing listens outside the machine.
set -euo pipefail
VMATLASD=${1:?usage: exposure.sh VMATLASD FIXTURE}
FIXTURE=${2:?usage: exposure.sh VMATLASD FIXTURE}
if [ -z "${EXPOSURE_IN_NETNS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "exposure.sh: needs root (a network namespace); skipping"; exit 77; }
    for t in curl jq openssl ip unshare; do
        command -v $t >/dev/null || { echo "exposure.sh: $t is missing; skipping"; exit 77; }
    done
    EXPOSURE_IN_NETNS=1 exec unshare --net bash "$0" "$@"
fi
ip link set lo up
ip addr add 10.213.0.1/32 dev lo # a global (non-loopback) address, reachable only in here
EXT=10.213.0.1

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "exposure.sh: FAIL: $*" >&2; exit 1; }
checks=0
ok() { checks=$((checks + 1)); }

ROOTS=(--procfs-root "$FIXTURE/proc" --sysfs-root "$FIXTURE/sys")
start() { # NAME ADDR ARGS...: start a daemon listening on ADDR:0, set URL (scheme from $SCHEME)
    local name=$1 addr=$2; shift 2
    "$VMATLASD" --listen "$addr:0" "${ROOTS[@]}" "$@" 2>"$tmp/$name.log" &
    pids+=($!)
    for _ in $(seq 200); do
        local port
        port=$(grep -o "listening on $addr:[0-9]*" "$tmp/$name.log" | sed 's/.*://' || true)
        if [ -n "$port" ]; then URL=${SCHEME:-http}://$addr:$port; return 0; fi
        sleep 0.05
    done
    fail "$name did not start: $(cat "$tmp/$name.log")"
}
code() { curl -s -o "$tmp/body" -D "$tmp/hdrs" -w '%{http_code}' "$@" || true; }

# --- a non-loopback listener needs a token ---------------------------------------------
if "$VMATLASD" --listen "$EXT:0" "${ROOTS[@]}" 2>"$tmp/refused.log"; then
    fail "a non-loopback listener without a token started"
fi
grep -q "$EXT:.* is not a loopback address.*--auth-token-file" "$tmp/refused.log" ||
    fail "refusal does not name the address and the way out: $(cat "$tmp/refused.log")"
ok
start open "$EXT" --allow-unauthenticated
[ "$(code "$URL/api/v1/node")" = 200 ] || fail "--allow-unauthenticated did not serve"
ok

# --- addresses: null on non-loopback listeners by default --------------------------------
start_addr() { jq -r '.vmas[0].start' <"$tmp/body"; }
code "$URL/api/v1/processes/100/vmas" >/dev/null
[ "$(start_addr)" = null ] || fail "addresses shown on a non-loopback listener by default"
start open2 "$EXT" --allow-unauthenticated --redact-addresses=false
code "$URL/api/v1/processes/100/vmas" >/dev/null
[ "$(start_addr)" = 0x55d4e0a00000 ] || [ "$(start_addr)" != null ] ||
    fail "--redact-addresses=false still redacts"
start lo 127.0.0.1
code "$URL/api/v1/processes/100/vmas" >/dev/null
[ "$(start_addr)" != null ] || fail "addresses redacted on a loopback listener by default"
start lo_red 127.0.0.1 --redact-addresses
code "$URL/api/v1/processes/100/vmas" >/dev/null
[ "$(start_addr)" = null ] || fail "--redact-addresses on loopback did not redact"
ok

# --- bearer token --------------------------------------------------------------------------
TOKEN=$(openssl rand -hex 32)
printf '%s\n' "$TOKEN" >"$tmp/token"
chmod 600 "$tmp/token"
start auth "$EXT" --auth-token-file "$tmp/token"
c=$(code "$URL/api/v1/node")
[ "$c" = 401 ] || fail "no token: status $c"
grep -qi '^WWW-Authenticate: Bearer' "$tmp/hdrs" || fail "401 without WWW-Authenticate"
jq -e '.error.status == 401' "$tmp/body" >/dev/null || fail "401 without a JSON error"
c=$(code -H "Authorization: Bearer ${TOKEN}x" "$URL/api/v1/node")
[ "$c" = 401 ] || fail "wrong token: status $c"
c=$(code -H "Authorization: Bearer ${TOKEN:0:63}" "$URL/metrics")
[ "$c" = 401 ] || fail "a prefix of the token: status $c"
c=$(code -H "Authorization: Basic $TOKEN" "$URL/metrics")
[ "$c" = 401 ] || fail "Basic instead of Bearer: status $c"
for path in /api/v1/node /api/v1/processes /metrics /api/v1/hiwater /api/v1/exited; do
    c=$(code -H "Authorization: Bearer $TOKEN" "$URL$path")
    [ "$c" = 200 ] || fail "right token on $path: status $c"
done
for path in /healthz /readyz; do
    c=$(code "$URL$path")
    [ "$c" = 200 ] || fail "$path should need no token: status $c"
done
ok
printf 'short\n' >"$tmp/short"
if "$VMATLASD" --listen 127.0.0.1:0 "${ROOTS[@]}" --auth-token-file "$tmp/short" 2>"$tmp/short.log"; then
    fail "a 5-character token was accepted"
fi
grep -q 'auth-token-file' "$tmp/short.log" || fail "bad token file: message does not name the key"
if "$VMATLASD" --check-config --auth-token-file "$tmp/missing" 2>"$tmp/missing.log"; then
    fail "--check-config accepted a missing token file"
fi
grep -q 'auth-token-file: cannot read' "$tmp/missing.log" || fail "missing token file message"
ok

# --- Host allow-list on loopback (DNS rebinding) -------------------------------------------
start hosts 127.0.0.1 --allowed-hosts vmatlas.internal
port=${URL##*:}
for h in "127.0.0.1:$port" "localhost:$port" "LOCALHOST" "[::1]:$port" "vmatlas.internal:$port"; do
    c=$(code -H "Host: $h" "$URL/api/v1/node")
    [ "$c" = 200 ] || fail "Host $h: status $c"
done
for h in "evil.example:$port" "127.0.0.1.nip.io" "localhost.evil.example" "vmatlas.internal.evil"; do
    c=$(code -H "Host: $h" "$URL/api/v1/node")
    [ "$c" = 403 ] || fail "Host $h: status $c (want 403)"
done
ok

# --- no CORS ---------------------------------------------------------------------------------
code -H "Origin: http://evil.example" "$URL/api/v1/node" >/dev/null
! grep -qi '^Access-Control-' "$tmp/hdrs" || fail "CORS headers sent"
c=$(code -X OPTIONS -H "Origin: http://evil.example" -H "Access-Control-Request-Method: GET" "$URL/api/v1/node")
[ "$c" = 405 ] && ! grep -qi '^Access-Control-' "$tmp/hdrs" || fail "preflight: status $c"
ok

# --- TLS -------------------------------------------------------------------------------------
cd "$tmp"
mkca() { # NAME: a CA key and self-signed certificate
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
mkcert() { # NAME CA SAN: a key and a certificate signed by CA
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$1.key" -out "$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
mkca ca; mkca otherca
mkcert server ca "IP:127.0.0.1,IP:$EXT"
mkcert client ca "DNS:client"
mkcert stranger otherca "DNS:stranger"
cd - >/dev/null
SCHEME=https start tls 127.0.0.1 --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key"
c=$(code --cacert "$tmp/ca.pem" "$URL/api/v1/node")
[ "$c" = 200 ] || fail "HTTPS: status $c"
c=$(code --cacert "$tmp/ca.pem" --tlsv1.2 --tls-max 1.2 "$URL/healthz")
[ "$c" = 200 ] || fail "TLS 1.2: status $c"
c=$(code --cacert "$tmp/ca.pem" --tlsv1.1 --tls-max 1.1 "$URL/healthz")
[ "$c" = 000 ] || fail "TLS 1.1 was accepted: status $c"
c=$(code "http://${URL#https://}/healthz")
[ "$c" != 200 ] || fail "plain HTTP answered on the TLS port"
# libmicrohttpd reads TLS connections itself (the gate cannot): the handler still refuses a
# header name that is not a token and a raw 8-bit byte in the target.
c=$(code --cacert "$tmp/ca.pem" -H 'X A: b' "$URL/api/v1/node")
[ "$c" = 400 ] || fail "TLS: a header name with a space: status $c"
c=$(code --cacert "$tmp/ca.pem" --path-as-is "$URL/api/v1/node?x=$(printf '\xff')")
[ "$c" = 400 ] || fail "TLS: a raw 0xff in the target: status $c"
ok
SCHEME=https start mtls "$EXT" --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key" \
    --tls-client-ca "$tmp/ca.pem" --auth-token-file "$tmp/token"
A=(-H "Authorization: Bearer $TOKEN" --cacert "$tmp/ca.pem")
c=$(code "${A[@]}" "$URL/api/v1/node")
[ "$c" = 403 ] || [ "$c" = 000 ] || fail "mTLS without a client certificate: status $c"
c=$(code "${A[@]}" --cert "$tmp/stranger.pem" --key "$tmp/stranger.key" "$URL/api/v1/node")
[ "$c" = 403 ] || [ "$c" = 000 ] || fail "mTLS with another CA's certificate: status $c"
c=$(code "${A[@]}" --cert "$tmp/client.pem" --key "$tmp/client.key" "$URL/api/v1/node")
[ "$c" = 200 ] || fail "mTLS with a good client certificate: status $c"
ok
# Fleet peers get the same settings: the aggregator sends its token and shows its own
# certificate; a peer that requires both sees it up, one without the certificate down.
PEER=${URL#https://}
fleet_node() { # URL: the peer's entry in the aggregator's fleet/nodes, once fetched
    for _ in $(seq 100); do
        code -H "Authorization: Bearer $TOKEN" --cacert "$tmp/ca.pem" "$1/api/v1/fleet/nodes" >/dev/null
        if jq -e '.nodes[0].last_success != null or (.nodes[0].error // "" | test("not fetched") | not)' \
            "$tmp/body" >/dev/null 2>&1; then jq -c '.nodes[0]' "$tmp/body"; return 0; fi
        sleep 0.1
    done
    cat "$tmp/body"
}
SCHEME=https start agg 127.0.0.1 --interval 0.5 --peers "https://$PEER" --peer-ca-file "$tmp/ca.pem" \
    --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key" --auth-token-file "$tmp/token"
node=$(fleet_node "$URL")
[ "$(jq -r .up <<<"$node")" = true ] || fail "an mTLS+token peer is not up for the aggregator: $node"
start agg_plain 127.0.0.1 --interval 0.5 --peers "https://$PEER" --peer-ca-file "$tmp/ca.pem" \
    --auth-token-file "$tmp/token"
for _ in $(seq 100); do
    code -H "Authorization: Bearer $TOKEN" "$URL/api/v1/fleet/nodes" >/dev/null
    [ "$(jq -r '.nodes[0].error // ""' "$tmp/body")" != "" ] &&
        ! jq -e '.nodes[0].error | test("not fetched")' "$tmp/body" >/dev/null && break
    sleep 0.1
done
[ "$(jq -r '.nodes[0].up' "$tmp/body")" = false ] || fail "a peer requiring a client certificate is up without one"
ok
if "$VMATLASD" --check-config --tls-cert "$tmp/server.pem" 2>"$tmp/half.log"; then
    fail "--tls-cert without --tls-key was accepted"
fi
grep -q 'tls-cert needs tls-key' "$tmp/half.log" || fail "half TLS config message"
ok
echo "exposure.sh: ok ($checks groups of checks)"
