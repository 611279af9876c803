#!/bin/bash
# fleet_prometheus.sh VMATLASD FIXTURES_DIR: a real Prometheus finds a vmatlas fleet through the
# aggregator's /api/v1/fleet/targets (http_sd_configs), scrapes every node, scrapes the
# aggregator's peer families, and evaluates packaging/prometheus/vmatlas.rules.yml on them.
#
# Two real peers on the fixture trees and one closed port behind an aggregator; Prometheus
# (scrape and rule interval 1 s, http_sd refresh 1 s) must show: three discovered targets with
# their vmatlas_node label, two up and the closed one down; vmatlas_peer_up 1, 1 and 0 from the
# aggregator; the recording rules evaluated; every rule group healthy.
#
# Exits 77 (skip) without prometheus/promtool or curl. Loopback only; every process it starts
# is stopped; < 60 s.
set -uo pipefail

DAEMON=${1:-${VMATLASD:-}}
FIXTURES=${2:-${VMATLAS_FIXTURES:-}}
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || true)}
RULES=$(cd "$(dirname "$0")/../../packaging/prometheus" && pwd)/vmatlas.rules.yml
DEADLINE=$((SECONDS + 55))
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }
time_left() { [ "$SECONDS" -lt "$DEADLINE" ]; }

[ -n "$DAEMON" ] && [ -x "$DAEMON" ] && [ -d "$FIXTURES/hostile/proc" ] ||
    { echo "usage: $0 VMATLASD FIXTURES_DIR" >&2; exit 2; }
command -v curl >/dev/null || { echo "SKIP: curl (the command) is not installed"; exit 77; }
[ -n "$PROMETHEUS" ] && [ -x "$PROMETHEUS" ] ||
    { echo "SKIP: prometheus is not installed (Debian package \"prometheus\")"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-fleetprom-XXXXXX") || exit 1
PIDS=()
DPIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 30); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start NAME ARGS...: sets PORT_<NAME> from the "listening on" line.
start() {
    local name=$1; shift
    "$DAEMON" --listen 127.0.0.1:0 "$@" 2>"$TMP/$name.log" >/dev/null </dev/null &
    local pid=$!
    PIDS+=("$pid")
    DPIDS+=("$name:$pid")
    local port=""
    while time_left && [ -z "$port" ]; do
        port=$(sed -n 's/.*vmatlasd: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/$name.log" | head -n1)
        [ -n "$port" ] || { kill -0 "$pid" 2>/dev/null || break; sleep 0.05; }
    done
    [ -n "$port" ] || { cat "$TMP/$name.log" >&2; echo "FAIL: $name did not start" >&2; exit 1; }
    printf -v "PORT_$name" '%s' "$port"
    echo "[${SECONDS}s] $name: vmatlasd pid $pid on 127.0.0.1:$port"
}

port_busy() {
    if command -v ss >/dev/null; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        port_busy "$p" || { echo "$p"; return; }
    done
}

start a --procfs-root "$FIXTURES/hostile/proc" --sysfs-root "$FIXTURES/hostile/sys" --interval 1
start b --procfs-root "$FIXTURES/basic/proc" --sysfs-root "$FIXTURES/basic/sys" --interval 1
CLOSED=$(free_port)
start agg --procfs-root "$FIXTURES/basic/proc" --sysfs-root "$FIXTURES/basic/sys" --interval 1 \
    --peer-timeout 1 \
    --peers "http://127.0.0.1:$PORT_a,http://127.0.0.1:$PORT_b,http://127.0.0.1:$CLOSED"

# What Prometheus will read: the http_sd document.
curl -sf "http://127.0.0.1:$PORT_agg/api/v1/fleet/targets" >"$TMP/targets.json" ||
    fail "GET /api/v1/fleet/targets"
for p in "$PORT_a" "$PORT_b" "$CLOSED"; do
    grep -q "\"targets\":\[\"127.0.0.1:$p\"\]" "$TMP/targets.json" || fail "targets: 127.0.0.1:$p missing"
done

cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: vmatlas
    http_sd_configs:
      - url: http://127.0.0.1:$PORT_agg/api/v1/fleet/targets
        refresh_interval: 1s
  - job_name: vmatlas-fleet
    static_configs:
      - targets: ['127.0.0.1:$PORT_agg']
EOF

PPORT=""
for attempt in 1 2 3 4 5; do
    time_left || break
    port=$(free_port)
    "$PROMETHEUS" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
        --web.listen-address="127.0.0.1:$port" --log.level=warn \
        >"$TMP/prometheus.log" 2>&1 </dev/null &
    ppid=$!
    PIDS+=("$ppid")
    while time_left && kill -0 "$ppid" 2>/dev/null; do
        if [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/-/ready")" = 200 ]; then
            PPORT=$port
            break
        fi
        sleep 0.2
    done
    [ -n "$PPORT" ] && break
    echo "note: prometheus did not come up on port $port (attempt $attempt)" >&2
    kill -TERM "$ppid" 2>/dev/null
    wait "$ppid" 2>/dev/null
    unset 'PIDS[${#PIDS[@]}-1]'
done
[ -n "$PPORT" ] || { cat "$TMP/prometheus.log" >&2; echo "FAIL: prometheus did not start" >&2; exit 1; }
echo "[${SECONDS}s] prometheus on 127.0.0.1:$PPORT"

query() {
    curl -s -G --max-time 5 --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query" \
        >"$TMP/query.json" 2>/dev/null || return 1
    grep -q '"status":"success"' "$TMP/query.json" && grep -q '"result":\[{' "$TMP/query.json"
}
wait_for() {
    local until=$((SECONDS + 25))
    while time_left && [ "$SECONDS" -lt "$until" ]; do
        if query "$2"; then
            echo "[${SECONDS}s] prometheus: $1"
            return 0
        fi
        sleep 0.5
    done
    fail "prometheus: not within the time limit: $1 ($2); last answer: $(cat "$TMP/query.json" 2>/dev/null)"
}

wait_for "three targets discovered through http_sd" 'count(up{job="vmatlas"}) == 3'
wait_for "the two real peers up, with their vmatlas_node label" \
    "count(up{job=\"vmatlas\", vmatlas_node=~\"127.0.0.1:($PORT_a|$PORT_b)\"} == 1) == 2"
wait_for "the closed port down" "up{job=\"vmatlas\", vmatlas_node=\"127.0.0.1:$CLOSED\"} == 0"
wait_for "the aggregator's vmatlas_peer_up: two up" 'count(vmatlas_peer_up{job="vmatlas-fleet"} == 1) == 2'
wait_for "the aggregator's vmatlas_peer_up: the closed port 0" \
    "vmatlas_peer_up{job=\"vmatlas-fleet\", node=\"127.0.0.1:$CLOSED\"} == 0"
wait_for "vmatlas_peer_scrape_duration_seconds for every peer" \
    'count(vmatlas_peer_scrape_duration_seconds{job="vmatlas-fleet"}) == 3'
wait_for "a recording rule over the discovered nodes" \
    'count(instance:vmatlas_map_count_used:ratio{job="vmatlas"}) == 2'
wait_for "fleet-wide group sums" 'count(group:vmatlas_group_resident_bytes:sum) > 0'
curl -s "http://127.0.0.1:$PPORT/api/v1/rules" >"$TMP/rules.json"
grep -q '"name":"vmatlas-alerts"' "$TMP/rules.json" || fail "the alert rules are not loaded"
grep -q '"health":"err' "$TMP/rules.json" && fail "a rule is unhealthy: $(cat "$TMP/rules.json")"

for np in "${DPIDS[@]}"; do
    name=${np%%:*}
    pid=${np#*:}
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name: still running 5 s after SIGTERM"
    else
        wait "$pid"
        rc=$?
        [ "$rc" -eq 0 ] || fail "$name: exit status $rc after SIGTERM"
    fi
    if grep -qE 'Sanitizer|runtime error' "$TMP/$name.log"; then
        cat "$TMP/$name.log" >&2
        fail "$name: sanitizer report"
    fi
done
if [ "$FAILED" -ne 0 ]; then
    tail -n 20 "$TMP/prometheus.log" >&2
    exit 1
fi
echo "fleet_prometheus.sh: ok ($SECONDS s)"
