#!/bin/bash
# prometheus.sh: a real Prometheus scrapes vmatlasd, and promtool lints /metrics.
#
#   prometheus.sh VMATLASD FIXTURE_DIR      (or $VMATLASD and $VMATLAS_FIXTURES/hostile)
#
# Starts two daemons on 127.0.0.1:0 with --interval 1: one on the live /proc and one on the
# hostile fixture tree (comm values with newlines, quotes, parentheses and invalid UTF-8 end up
# in label values). Runs `promtool check metrics` on both /metrics bodies (it must print
# nothing and exit 0), then a Prometheus scraping both every second, and waits (bounded) until
# its query API shows both targets up, vmatlas_processes > 0, a second scan counted, and the
# fixture's awkward label values intact.
#
# Needs the Debian "prometheus" package (/usr/bin/prometheus, /usr/bin/promtool) and curl; exits
# 77 (skip) without them. Loopback only; every process it starts is stopped on exit; < 60 s.
set -uo pipefail

DAEMON=${1:-${VMATLASD:-}}
FIXTURE=${2:-${VMATLAS_FIXTURES:+$VMATLAS_FIXTURES/hostile}}
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || true)}
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
DEADLINE=$((SECONDS + 50))

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; FAILED=1; }
FAILED=0

[ -n "$DAEMON" ] && [ -x "$DAEMON" ] || { echo "usage: $0 VMATLASD FIXTURE_DIR" >&2; exit 2; }
[ -n "$FIXTURE" ] && [ -d "$FIXTURE/proc" ] || { echo "no fixture tree: $FIXTURE" >&2; exit 2; }
command -v curl >/dev/null || skip "curl (the command) is not installed"
[ -n "$PROMETHEUS" ] && [ -x "$PROMETHEUS" ] ||
    skip "prometheus is not installed (Debian package \"prometheus\" provides /usr/bin/prometheus)"
[ -n "$PROMTOOL" ] && [ -x "$PROMTOOL" ] ||
    skip "promtool is not installed (Debian package \"prometheus\" provides /usr/bin/promtool)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-prom-XXXXXX") || exit 1
PIDS=()
DPIDS=() # name:pid of the daemons
cleanup() {
    local pid alive
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for _ in $(seq 30); do # up to 3 s for all of them, then SIGKILL
        alive=0
        for pid in "${PIDS[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

time_left() { [ "$SECONDS" -lt "$DEADLINE" ]; }

# start_daemon NAME ARGS...: sets PORT_<NAME> from the "listening on" line.
start_daemon() {
    local name=$1; shift
    : >"$TMP/$name.log"
    "$DAEMON" --listen 127.0.0.1:0 --interval 1 "$@" 2>"$TMP/$name.log" >/dev/null </dev/null &
    local pid=$!
    PIDS+=("$pid")
    DPIDS+=("$name:$pid")
    local port=""
    while time_left; do
        port=$(sed -n 's/.*vmatlasd: listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$TMP/$name.log" 2>/dev/null | head -n1)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        cat "$TMP/$name.log" >&2
        echo "FAIL: $name: vmatlasd did not report its port" >&2
        exit 1
    fi
    printf -v "PORT_$name" '%s' "$port"
    # Ready: the first snapshot exists (generous for sanitizer builds).
    local ready=""
    while time_left; do
        ready=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
        [ "$ready" = 200 ] && break
        sleep 0.1
    done
    if [ "$ready" != 200 ]; then
        cat "$TMP/$name.log" >&2
        echo "FAIL: $name: /readyz is $ready, not 200, after ${SECONDS}s" >&2
        exit 1
    fi
    echo "[${SECONDS}s] $name: vmatlasd pid $pid on 127.0.0.1:$port"
}

start_daemon live
start_daemon fixture --procfs-root "$FIXTURE/proc" --sysfs-root "$FIXTURE/sys"

# promtool check metrics: nothing printed, exit 0.
for name in live fixture; do
    var=PORT_$name
    port=${!var}
    if ! curl -sf --max-time 10 -o "$TMP/$name.prom" "http://127.0.0.1:$port/metrics"; then
        fail "$name: GET /metrics failed"
        continue
    fi
    out=$("$PROMTOOL" check metrics <"$TMP/$name.prom" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        fail "$name: promtool check metrics (exit $rc): $out"
    else
        echo "$name: promtool check metrics: clean ($(grep -vc '^#' "$TMP/$name.prom") samples)"
    fi
done

# A free loopback port for Prometheus (it cannot take port 0).
port_busy() {
    if command -v ss >/dev/null; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: vmatlas
    static_configs:
      - targets: ['127.0.0.1:$PORT_live', '127.0.0.1:$PORT_fixture']
EOF
"$PROMTOOL" check config "$TMP/prometheus.yml" >/dev/null 2>&1 ||
    fail "promtool check config rejects the generated prometheus.yml"

PPORT=""
for attempt in 1 2 3 4 5; do
    time_left || break
    port=$((20000 + RANDOM % 40000))
    port_busy "$port" && continue
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
    echo "note: [${SECONDS}s] prometheus did not come up on port $port (attempt $attempt)" >&2
    tail -n 5 "$TMP/prometheus.log" >&2
    kill -TERM "$ppid" 2>/dev/null
    wait "$ppid" 2>/dev/null
    unset 'PIDS[${#PIDS[@]}-1]'
done
if [ -z "$PPORT" ]; then
    cat "$TMP/prometheus.log" >&2
    echo "FAIL: prometheus did not start" >&2
    exit 1
fi
echo "[${SECONDS}s] prometheus: pid $ppid on 127.0.0.1:$PPORT"

# query PROMQL: true when the instant vector is not empty.
query() {
    curl -s -G --max-time 5 --data-urlencode "query=$1" "http://127.0.0.1:$PPORT/api/v1/query" \
        >"$TMP/query.json" 2>/dev/null || return 1
    grep -q '"status":"success"' "$TMP/query.json" && grep -q '"result":\[{' "$TMP/query.json"
}

# wait_for DESCRIPTION PROMQL: up to 20 s each, within the overall limit.
wait_for() {
    local until=$((SECONDS + 20))
    while time_left && [ "$SECONDS" -lt "$until" ]; do
        if query "$2"; then
            echo "[${SECONDS}s] prometheus: $1"
            return 0
        fi
        sleep 0.5
    done
    fail "prometheus: not within the time limit: $1 ($2); last answer: $(cat "$TMP/query.json" 2>/dev/null)"
    return 1
}

wait_for "both targets up" 'count(up{job="vmatlas"} == 1) == 2'
wait_for "vmatlas_processes > 0 on the live daemon" "vmatlas_processes{instance=\"127.0.0.1:$PORT_live\"} > 0"
NPROC_fixture=$(sed -n 's/^vmatlas_processes \([0-9][0-9]*\)$/\1/p' "$TMP/fixture.prom")
wait_for "the fixture's ${NPROC_fixture:-?} processes, as the daemon serves them" \
    "vmatlas_processes{instance=\"127.0.0.1:$PORT_fixture\"} == ${NPROC_fixture:--1}"
wait_for "a second scan counted" "vmatlas_scans_total{instance=\"127.0.0.1:$PORT_live\"} >= 2"
wait_for "per-process series" "count(vmatlas_process_resident_bytes{instance=\"127.0.0.1:$PORT_live\"}) > 0"
# Label values survive the exposition: a comm with a newline and parentheses, and one with
# invalid UTF-8 (shown as \xff) and a double quote.
wait_for "comm \"a) b (c\\n\" as a label value" \
    "vmatlas_process_resident_bytes{instance=\"127.0.0.1:$PORT_fixture\", comm=\"a) b (c\\n\", pid=\"100\"} == 2560000"
wait_for "comm with \\xff and a quote as a label value" \
    "vmatlas_process_resident_bytes{instance=\"127.0.0.1:$PORT_fixture\", comm=\"\\\\xff\\\\xfe\\\\\\\"q\", pid=\"101\"}"
wait_for "no failed scrapes" "sum(up{job=\"vmatlas\"}) == 2 and on() (count(scrape_samples_scraped{job=\"vmatlas\"} > 0) == 2)"

for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "process $pid exited early"
done
# The daemons, scraped for a while, stop on SIGTERM with exit status 0.
for np in "${DPIDS[@]}"; do
    name=${np%%:*}
    pid=${np#*:}
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name: vmatlasd still running 5 s after SIGTERM"
    else
        wait "$pid"
        rc=$?
        [ "$rc" -eq 0 ] || fail "$name: vmatlasd exited with status $rc after SIGTERM"
    fi
done
for name in live fixture; do
    if grep -qE 'Sanitizer|runtime error' "$TMP/$name.log"; then
        cat "$TMP/$name.log" >&2
        fail "$name: sanitizer report"
    fi
done
if [ "$FAILED" -ne 0 ]; then
    echo "--- prometheus log ---" >&2
    tail -n 20 "$TMP/prometheus.log" >&2
    exit 1
fi
echo "prometheus.sh: ok ($SECONDS s)"
exit 0
