#!/bin/bash
# prometheus_rules.sh VMATLASD FIXTURES_DIR: packaging/prometheus/ is sound.
#
#   - promtool check rules vmatlas.rules.yml: clean
#   - promtool test rules: the unit tests of every rule (vmatlas.rules*.test.yml)
#   - promtool check config prometheus.yml (the http_sd_configs example)
#   - the Grafana dashboard is JSON, and every panel query is valid PromQL (each is checked as
#     a recording rule, Grafana's $variables replaced) — needs jq, else this part is skipped
#   - every vmatlas_* family the rules and the dashboard use exists on a real /metrics: a
#     daemon on the hostile fixture, and an aggregator (basic fixture) with it as its peer
#
# Exits 77 (skip) without promtool (Debian package "prometheus"). Loopback only; < 30 s.
set -uo pipefail

DAEMON=${1:-${VMATLASD:-}}
FIXTURES=${2:-${VMATLAS_FIXTURES:-}}
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
SRC=$(cd "$(dirname "$0")/../../packaging/prometheus" && pwd)
DEADLINE=$((SECONDS + 25))
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }

[ -n "$DAEMON" ] && [ -x "$DAEMON" ] && [ -d "$FIXTURES/hostile/proc" ] ||
    { echo "usage: $0 VMATLASD FIXTURES_DIR" >&2; exit 2; }
[ -n "$PROMTOOL" ] && [ -x "$PROMTOOL" ] ||
    { echo "SKIP: promtool is not installed (Debian package \"prometheus\")"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl (the command) is not installed"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-rules-XXXXXX") || exit 1
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# --- the files themselves --------------------------------------------------------------------
out=$("$PROMTOOL" check rules "$SRC/vmatlas.rules.yml" 2>&1) || fail "promtool check rules: $out"
grep -q "SUCCESS" <<<"$out" && ! grep -qi "warn" <<<"$out" || fail "promtool check rules: $out"
echo "$out" | sed -n 's/^ *//p' | head -n 2
out=$(cd "$SRC" && "$PROMTOOL" test rules vmatlas.rules*.test.yml 2>&1) || fail "promtool test rules: $out"
echo "promtool test rules: $(grep -c SUCCESS <<<"$out") test file(s) passed"
out=$("$PROMTOOL" check config "$SRC/prometheus.yml" 2>&1) || fail "promtool check config: $out"

if command -v jq >/dev/null; then
    jq empty "$SRC/vmatlas-dashboard.json" || fail "the dashboard is not JSON"
    {
        echo "groups:"
        echo "  - name: dashboard"
        echo "    rules:"
        n=0
        while IFS= read -r expr; do
            n=$((n + 1))
            expr=${expr//\$__rate_interval/5m}
            expr=${expr//\$instance/.*}
            printf '      - record: dashboard:panel_query:%d\n        expr: %s\n' "$n" \
                "$(jq -Rn --arg e "$expr" '$e')"
        done < <(jq -r '.panels[].targets[]?.expr' "$SRC/vmatlas-dashboard.json")
    } >"$TMP/dashboard.rules.yml"
    out=$("$PROMTOOL" check rules "$TMP/dashboard.rules.yml" 2>&1) ||
        fail "dashboard queries are not valid PromQL: $out"
    echo "dashboard: $(grep -c 'record:' "$TMP/dashboard.rules.yml") panel queries are valid PromQL"
    jq -r '.panels[].targets[]?.expr' "$SRC/vmatlas-dashboard.json" >"$TMP/exprs.txt"
else
    echo "note: jq is not installed: the dashboard's queries are not checked"
    : >"$TMP/exprs.txt"
fi

# --- the families exist --------------------------------------------------------------------
# start NAME ARGS...: sets PORT_<NAME>.
start() {
    local name=$1; shift
    "$DAEMON" --listen 127.0.0.1:0 --interval 1 "$@" 2>"$TMP/$name.log" >/dev/null </dev/null &
    PIDS+=($!)
    local port=""
    while [ "$SECONDS" -lt "$DEADLINE" ] && [ -z "$port" ]; do
        port=$(sed -n 's/.*vmatlasd: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/$name.log" | head -n1)
        [ -n "$port" ] || sleep 0.05
    done
    [ -n "$port" ] || { cat "$TMP/$name.log" >&2; echo "FAIL: $name did not start" >&2; exit 1; }
    printf -v "PORT_$name" '%s' "$port"
}
start peer --procfs-root "$FIXTURES/hostile/proc" --sysfs-root "$FIXTURES/hostile/sys"
start agg --procfs-root "$FIXTURES/basic/proc" --sysfs-root "$FIXTURES/basic/sys" \
    --peers "http://127.0.0.1:$PORT_peer" --peer-timeout 1
# Until the aggregator has merged a round with its peer up.
while [ "$SECONDS" -lt "$DEADLINE" ]; do
    curl -s "http://127.0.0.1:$PORT_agg/metrics" >"$TMP/agg.prom"
    grep -q "^vmatlas_peer_up{node=\"127.0.0.1:$PORT_peer\"} 1$" "$TMP/agg.prom" && break
    sleep 0.2
done
curl -s "http://127.0.0.1:$PORT_peer/metrics" >"$TMP/peer.prom"
grep -q "^vmatlas_peer_up{.*} 1$" "$TMP/agg.prom" || fail "the aggregator never had its peer up"
cat "$TMP/agg.prom" "$TMP/peer.prom" | sed -n 's/^# TYPE \([a-z_0-9]*\) .*/\1/p' | sort -u >"$TMP/families"
# Names used: vmatlas_... not inside a recording rule's name (level:metric:operation).
used=$(cat "$SRC/vmatlas.rules.yml" "$TMP/exprs.txt" | grep -v '^ *#' |
    grep -oE '(^|[^:a-z_])vmatlas_[a-z0-9_]+' | sed 's/^[^v]//' | sort -u)
[ -n "$used" ] || fail "no vmatlas_ family found in the rules"
for name in $used; do
    grep -qx "$name" "$TMP/families" || fail "$name is used by the rules or the dashboard but no daemon serves it"
done
echo "families used by the rules and the dashboard: $(wc -w <<<"$used"), all served"

[ "$FAILED" -eq 0 ] || exit 1
echo "prometheus_rules.sh: ok ($SECONDS s)"
