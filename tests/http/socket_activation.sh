#!/bin/bash
# socket_activation.sh VMATLASD: vmatlasd serves on a socket systemd hands it (sd_listen_fds),
# as systemd-socket-activate does it, instead of binding --listen itself.
set -euo pipefail
VMATLASD=${1:?usage: socket_activation.sh VMATLASD}
command -v systemd-socket-activate >/dev/null || { echo "no systemd-socket-activate; skipping"; exit 77; }
command -v curl >/dev/null || { echo "no curl; skipping"; exit 77; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
for try in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    systemd-socket-activate -l "127.0.0.1:$port" "$VMATLASD" --interval 3600 \
        --listen 127.0.0.1:1 >"$tmp/log" 2>&1 &
    pid=$!
    sleep 0.3
    grep -q "Listening on 127.0.0.1:$port" "$tmp/log" && break
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=
done
[ -n "$pid" ] || { echo "socket_activation.sh: FAIL: could not bind a port"; exit 1; }
for _ in $(seq 100); do
    code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
    [ "$code" = 200 ] && break
    sleep 0.1
done
[ "$code" = 200 ] || { echo "socket_activation.sh: FAIL: /readyz $code"; cat "$tmp/log"; exit 1; }
# The inherited socket is used instead of --listen (port 1 would need privileges anyway).
grep -q "listening on 127.0.0.1:$port" "$tmp/log" ||
    { echo "socket_activation.sh: FAIL: not serving on the inherited socket"; cat "$tmp/log"; exit 1; }
echo "socket_activation.sh: ok (port $port)"
