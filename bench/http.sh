#!/usr/bin/env bash
# bench/http.sh - throughput, tail latency and RSS of vmatlasd's cached HTTP bodies against
# nginx serving the very same bytes as static files, on the reference process table of
# ../shared/bench/workload.c. Loopback only. See bench/README.md ("HTTP benchmark").
#
# Usage (as root):  bench/http.sh
# Environment:
#   ROUNDS=3        measured rounds; each round runs every body against both servers
#   DURATION=10     seconds per wrk run          CONNS=50 WRK_THREADS=2   wrk -c / -t
#   WARMUP=2        seconds of untimed wrk per server and body before the rounds (0 = none)
#   N=300 M=100     workload processes / mappings per process
#   VMATLASD=PATH   use this daemon binary instead of building one (Release) in BUILD_DIR
#   BUILD_DIR=DIR   where the daemon and the workload are built (default <repo>/build-bench)
#   SHARED_DIR=DIR  the shared folder (holding bench/workload.c) or the bench folder itself
#                   (default <repo>/../shared)
#   CC=cc           compiler for the workload
#   READY_TIMEOUT=300  seconds to wait for the workload's READY line and the daemon's /readyz
#   TIME_LIMIT=1800    the whole script is stopped (and cleaned up) after this many seconds
#   NO_INSTALL=1       never install missing tools (wrk, nginx-light, curl): fail instead
#
# Exit: 0 when every run worked (PASS or FAIL against the targets alike: this is a benchmark,
# not a test), 77 when not root, 1 when something could not be installed, built or run,
# 130/143 when interrupted.
set -euo pipefail

PROG=bench/http.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }
note() { echo "# $*"; }

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "$PROG: must run as root (vmatlasd reads every process's /proc files; missing tools are installed with apt-get); skipping" >&2
    exit 77
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
bench_locate_shared workload.c

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-2}
N=${N:-300}
M=${M:-100}
READY_TIMEOUT=${READY_TIMEOUT:-300}
TIME_LIMIT=${TIME_LIMIT:-1800}
BUILD_DIR=${BUILD_DIR:-$REPO/build-bench}
BIN=$BUILD_DIR/bench
CC=${CC:-cc}
for v in ROUNDS DURATION CONNS WRK_THREADS N M READY_TIMEOUT TIME_LIMIT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer, not '$WARMUP'"

# Targets (see bench/README.md).
T_RPS_RATIO=0.5     # daemon req/s >= 0.5 x nginx req/s for the same bytes
T_P99_RATIO=2       # daemon p99 <= 2 x nginx p99
NODE_EXPORTER_RPS=172
T_NE_RATIO=50       # /metrics >= 50 x node_exporter's req/s
T_RSS_KB=19456      # daemon RSS <= 19 MiB

# ---- tools ------------------------------------------------------------------------------------
find_nginx() {
    NGINX=$(command -v nginx 2>/dev/null || true)
    [[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
    [[ -n $NGINX ]]
}
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
find_nginx || missing+=(nginx-light)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if ((${#missing[@]})); then
    [[ -z ${NO_INSTALL:-} ]] || die "missing: ${missing[*]} (NO_INSTALL is set)"
    command -v apt-get >/dev/null 2>&1 || die "missing: ${missing[*]}, and there is no apt-get to install them"
    export DEBIAN_FRONTEND=noninteractive
    need_update=0
    for p in "${missing[@]}"; do
        cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/{print $2}')
        [[ -z $cand || $cand == "(none)" ]] && need_update=1
    done
    if ((need_update)); then
        note "apt-get update (no install candidate for one of: ${missing[*]}) ..."
        timeout 600 apt-get update -q >"${TMPDIR:-/tmp}/vmatlas-http-apt.log" 2>&1 ||
            die "apt-get update failed (log: ${TMPDIR:-/tmp}/vmatlas-http-apt.log)"
    fi
    note "apt-get install -y ${missing[*]} ..."
    # Debian's nginx package does not start the distribution's service where policy-rc.d or
    # the missing init system forbids it; this script never touches that instance either way.
    timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}" \
        >"${TMPDIR:-/tmp}/vmatlas-http-apt.log" 2>&1 ||
        die "apt-get install ${missing[*]} failed (log: ${TMPDIR:-/tmp}/vmatlas-http-apt.log)"
    rm -f "${TMPDIR:-/tmp}/vmatlas-http-apt.log" # kept only when apt-get failed
    command -v wrk >/dev/null 2>&1 || die "wrk still missing after apt-get install"
    find_nginx || die "nginx still missing after apt-get install"
    command -v curl >/dev/null 2>&1 || die "curl still missing after apt-get install"
fi
find_nginx
CLK_TCK=$(getconf CLK_TCK)

# ---- build ----------------------------------------------------------------------------------
mkdir -p "$BIN"
bench_build_daemon
"$CC" -O2 -Wall -o "$BIN/workload" "$BENCH_SRC/workload.c" || die "cannot build workload"

# ---- clean-up -------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmatlas-http.XXXXXX")
WL_PID='' D_PID='' NG_PID='' WRK_PID='' WD_PID=''


# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    trap - INT TERM
    bench_stop_pid "$WRK_PID" TERM 20 # timeout(1) passes the signal on to wrk
    if [[ -n $NG_PID ]] && kill -0 "$NG_PID" 2>/dev/null; then
        local workers
        workers=$(pgrep -P "$NG_PID" 2>/dev/null || true)
        bench_stop_pid "$NG_PID" QUIT 50 # graceful: the master stops its workers
        for w in $workers; do kill -KILL "$w" 2>/dev/null || true; done
    fi
    bench_stop_pid "$D_PID" TERM 50
    bench_stop_pid "$WL_PID" TERM 100 # it SIGKILLs its children and removes its file
    [[ -n $WD_PID ]] && kill -KILL -- "-$WD_PID" 2>/dev/null
    rm -rf "$TMP"
    return 0 # keep the script's own exit status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Watchdog: its own process group (sleep + kill), removed as a group by the clean-up.
setsid bash -c "sleep $TIME_LIMIT; echo '$PROG: time limit of ${TIME_LIMIT}s reached' >&2; kill -TERM $$" &
WD_PID=$!
disown "$WD_PID" # no job notice when the clean-up kills it

# ---- workload -------------------------------------------------------------------------------
note "starting workload -n $N -m $M -r 2048 -t 0.5 -q ..."
bench_start_workload
note "workload: $READY_LINE"

# ---- vmatlasd ---------------------------------------------------------------------------------
note "starting vmatlasd --listen 127.0.0.1:0 --interval 3600 ..."
bench_start_daemon "$TMP/vmatlasd.log" --interval 3600
note "vmatlasd pid $D_PID ready on $D_BASE: $(curl -sf --max-time 5 "$D_BASE/readyz")"

# ---- the bodies -----------------------------------------------------------------------------
PATHS=("/api/v1/processes?limit=100" "/api/v1/processes?limit=10000" "/metrics")
FILES=(processes-100.json processes-10000.json metrics.txt)
NB=${#PATHS[@]}
WWW=$TMP/www
mkdir -p "$WWW"
declare -a SIZE
for ((b = 0; b < NB; b++)); do
    curl -sS --fail --max-time 30 -o "$WWW/${FILES[b]}" "$D_BASE${PATHS[b]}" ||
        die "cannot fetch $D_BASE${PATHS[b]}"
    SIZE[b]=$(stat -c %s "$WWW/${FILES[b]}")
    ((SIZE[b] > 0)) || die "$D_BASE${PATHS[b]}: empty body"
    note "body ${PATHS[b]}: ${SIZE[b]} bytes"
done

# ---- nginx ------------------------------------------------------------------------------------
# Its own prefix, configuration, pid file, logs and temp directories; never /etc/nginx's.
# The master runs as root and its workers as nobody: they must be able to read the files.
chmod 755 "$TMP" "$WWW"
chmod 644 "$WWW"/*
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
NGINX_V=$("$NGINX" -V 2>&1)
temp_paths=
for m in client_body proxy fastcgi uwsgi scgi; do
    flag=${m//_/-}
    if [[ $NGINX_V == *"--http-$flag-temp-path"* && $NGINX_V != *"--without-http_${m}_module"* ]]; then
        temp_paths+="    ${m}_temp_path $TMP/nginx/tmp/$m;"$'\n'
    fi
done
NG_CONF=$TMP/nginx/nginx.conf
write_nginx_conf() { # PORT
    cat >"$NG_CONF" <<EOF
# bench/http.sh: a static file server for the daemon's bodies, nothing else.
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server_tokens off;
$temp_paths    types {
        application/json json;
        text/plain txt;
    }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$1;
        root $WWW;
    }
}
EOF
}
port_in_use() { # PORT: any TCP socket (v4 or v6) bound to it locally
    local hex
    hex=$(printf ':%04X ' "$1")
    grep -qi "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
NG_PORT=
for ((try = 0; try < 10; try++)); do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" && continue
    write_nginx_conf "$port"
    "$NGINX" -t -q -e "$TMP/nginx/logs/error.log" -p "$TMP/nginx" -c "$NG_CONF" \
        >"$TMP/nginx/test.log" 2>&1 || { cat "$TMP/nginx/test.log" >&2; die "nginx -t rejected $NG_CONF"; }
    "$NGINX" -e "$TMP/nginx/logs/error.log" -p "$TMP/nginx" -c "$NG_CONF" -g 'daemon off;' \
        >"$TMP/nginx/stdout.log" 2>&1 &
    NG_PID=$!
    for ((waited = 0; waited < 50; waited++)); do
        curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/${FILES[0]}" && { NG_PORT=$port; break; }
        kill -0 "$NG_PID" 2>/dev/null || break
        sleep 0.1
    done
    [[ -n $NG_PORT ]] && break
    bench_stop_pid "$NG_PID" QUIT 30
    NG_PID=
done
[[ -n $NG_PORT ]] || { tail -n 5 "$TMP/nginx/logs/error.log" >&2 2>/dev/null; die "nginx did not start on any port tried"; }
N_BASE=http://127.0.0.1:$NG_PORT
NG_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
note "nginx ($NG_VERSION) master pid $NG_PID, workers $(pgrep -P "$NG_PID" | tr '\n' ' ')on $N_BASE"

# Byte-identical: nginx's file and a fresh fetch from the daemon (the cached body) must match.
declare -a D_URL N_URL
for ((b = 0; b < NB; b++)); do
    D_URL[b]=$D_BASE${PATHS[b]}
    N_URL[b]=$N_BASE/${FILES[b]}
    curl -sS --fail --max-time 30 -o "$TMP/check.d" "${D_URL[b]}" || die "cannot fetch ${D_URL[b]}"
    curl -sS --fail --max-time 30 -o "$TMP/check.n" "${N_URL[b]}" || die "cannot fetch ${N_URL[b]}"
    cmp -s "$TMP/check.d" "$WWW/${FILES[b]}" || die "${D_URL[b]}: the body changed between two fetches"
    cmp -s "$TMP/check.n" "$WWW/${FILES[b]}" || die "${N_URL[b]}: nginx does not serve the same bytes"
done
note "bodies byte-identical on both servers"

# Keep-alive: curl fetching the same URL twice must re-use its connection.
keepalive() { # URL -> "yes" / "NO"
    local out
    out=$(curl -sv --max-time 10 -o /dev/null -o /dev/null "$1" "$1" 2>&1 || true)
    if grep -qi 're-using existing connection' <<<"$out"; then
        echo yes
    else
        echo NO
    fi
}
KA_D=$(keepalive "${D_URL[0]}")
KA_N=$(keepalive "${N_URL[0]}")
note "HTTP/1.1 keep-alive (curl re-uses its connection): daemon $KA_D, nginx $KA_N"
note "daemon response headers (${PATHS[0]}): $(curl -sS -D - -o /dev/null --max-time 10 "${D_URL[0]}" |
    tr -d '\r' | sed 1d | grep . | cut -d: -f1 | tr '\n' ' ')"
GZ_HDR=$(curl -sS --fail -D - -o "$TMP/check.gz" --max-time 10 -H 'Accept-Encoding: gzip' "${D_URL[1]}") ||
    die "cannot fetch ${D_URL[1]} with Accept-Encoding: gzip"
GZ_HDR=${GZ_HDR//$'\r'/}
GZ_SIZE=$(stat -c %s "$TMP/check.gz")
grep -qi '^content-encoding: gzip' <<<"$GZ_HDR" ||
    note "WARNING: the daemon answered Accept-Encoding: gzip without Content-Encoding: gzip"

# ---- measuring --------------------------------------------------------------------------------
client_ports() { # PORT: local ports of the established client sockets connected to PORT
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" '$4 == "01" && substr($3, length($3) - 4) == p {
        n = split($2, a, ":"); print a[n] }' /proc/net/tcp 2>/dev/null
}
cpu_ticks() { # PID... -> utime+stime of those processes, in clock ticks
    local t=0 p f
    for p in "$@"; do
        f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        f=${f##*) }
        # shellcheck disable=SC2086
        set -- $f
        t=$((t + ${12} + ${13}))
    done
    echo "$t"
}
server_pids() { # daemon|nginx
    if [[ $1 == daemon ]]; then echo "$D_PID"; else echo "$NG_PID" $(pgrep -P "$NG_PID"); fi
}
status_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status"; }
to_bytes() { # "2.34GB" -> bytes (wrk's units are powers of 1024)
    awk -v s="$1" 'BEGIN{ n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
        m = (u=="KB") ? 1024 : (u=="MB") ? 1048576 : (u=="GB") ? 1073741824 : (u=="TB") ? 1099511627776 : 1
        printf "%.0f\n", n * m }'
}
to_ms() { # "635.00us" / "1.20ms" / "1.01s" / "1.00m" -> ms
    awk -v s="$1" 'BEGIN{ n = s + 0; u = s; sub(/^[0-9.]+/, "", u)
        m = (u=="us") ? 0.001 : (u=="ms") ? 1 : (u=="s") ? 1000 : (u=="m") ? 60000 : (u=="h") ? 3600000 : -1
        if (m < 0) print "nan"; else printf "%.3f\n", n * m }'
}

D_RSS_MAX_LOAD=0
D_RSS_IDLE=$(status_kb "$D_PID" VmRSS)
D_HWM_IDLE=$(status_kb "$D_PID" VmHWM)
RES=$TMP/results.tsv # label server body rps p99_ms non2xx sockerr conns bytes_per_resp cpu_us_per_req
: >"$RES"
RUN_ERRORS=0
# run_wrk LABEL SERVER BODY URL DURATION [WRK ARGS...]: one wrk run, one line in $RES
run_wrk() {
    local label=$1 server=$2 b=$3 url=$4 dur=$5
    shift 5
    local out=$TMP/wrk.out pids t0 t1 rss port
    read -ra pids <<<"$(server_pids "$server")"
    if [[ $server == daemon ]]; then port=$D_PORT; else port=$NG_PORT; fi
    : >"$TMP/ports"
    t0=$(cpu_ticks "${pids[@]}")
    timeout $((dur + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${dur}s" --latency "$@" "$url" >"$out" 2>&1 &
    WRK_PID=$!
    while kill -0 "$WRK_PID" 2>/dev/null; do
        client_ports "$port" >>"$TMP/ports"
        if [[ $server == daemon ]]; then
            rss=$(status_kb "$D_PID" VmRSS 2>/dev/null || echo 0)
            ((${rss:-0} > D_RSS_MAX_LOAD)) && D_RSS_MAX_LOAD=$rss
        fi
        sleep 0.5
    done
    local rc=0
    wait "$WRK_PID" || rc=$?
    WRK_PID=
    t1=$(cpu_ticks "${pids[@]}")
    kill -0 "$D_PID" 2>/dev/null || { cat "$out" >&2; tail -n 20 "$TMP/vmatlasd.log" >&2; D_PID=; die "vmatlasd died during a wrk run"; }
    kill -0 "$NG_PID" 2>/dev/null || { cat "$out" >&2; NG_PID=; die "nginx died during a wrk run"; }
    if ((rc != 0)); then
        cat "$out" >&2
        die "wrk $* $url exited with status $rc"
    fi
    [[ $label == warmup ]] && return 0
    local rps p99 non2xx=0 sockerr=0 reqs read_s bpr conns cpu_us
    rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
    p99=$(awk '$1=="99%"{print $2}' "$out")
    [[ -n $rps && -n $p99 ]] || { cat "$out" >&2; die "no Requests/sec or 99% line in the wrk output"; }
    p99=$(to_ms "$p99")
    if grep -q 'Non-2xx or 3xx responses:' "$out"; then
        non2xx=$(awk -F: '/Non-2xx or 3xx responses:/{gsub(/ /, "", $2); print $2}' "$out")
    fi
    if grep -q 'Socket errors:' "$out"; then
        sockerr=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/c\1\/r\2\/w\3\/t\4/p' "$out")
    fi
    reqs=$(awk '/requests in/{print $1}' "$out")
    read_s=$(awk '/requests in/{print ($NF == "read" ? $(NF-1) : "")}' "$out")
    bpr=$(awk -v b="$(to_bytes "$read_s")" -v n="$reqs" 'BEGIN{ if (n > 0) printf "%.0f\n", b / n; else print 0 }')
    conns=$(sort -u "$TMP/ports" | grep -c . || true)
    cpu_us=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN{ if (n > 0) printf "%.1f\n", t / hz * 1e6 / n; else print "nan" }')
    if [[ $non2xx != 0 || $sockerr != 0 ]]; then
        RUN_ERRORS=$((RUN_ERRORS + 1))
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$server" "$b" "$rps" "$p99" \
        "$non2xx" "$sockerr" "$conns" "$bpr" "$cpu_us" >>"$RES"
    printf '#   %-6s %-6s %-32s %10.0f req/s  p99 %8.3f ms  %5d conns seen  %8d B/resp  %6.1f us CPU/req  non-2xx %s  socket errors %s\n' \
        "$label" "$server" "${PATHS[b]}" "$rps" "$p99" "$conns" "$bpr" "$cpu_us" "$non2xx" "$sockerr"
}

if ((WARMUP > 0)); then
    note "warm-up: ${WARMUP}s of wrk per server and body ..."
    for ((b = 0; b < NB; b++)); do
        run_wrk warmup daemon "$b" "${D_URL[b]}" "$WARMUP"
        run_wrk warmup nginx "$b" "${N_URL[b]}" "$WARMUP"
    done
fi

note "$ROUNDS rounds x $NB bodies x 2 servers, wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency (order alternates every round) ..."
T0=$SECONDS
for ((r = 1; r <= ROUNDS; r++)); do
    for ((b = 0; b < NB; b++)); do
        if ((r % 2)); then
            run_wrk "r$r" daemon "$b" "${D_URL[b]}" "$DURATION"
            run_wrk "r$r" nginx "$b" "${N_URL[b]}" "$DURATION"
        else
            run_wrk "r$r" nginx "$b" "${N_URL[b]}" "$DURATION"
            run_wrk "r$r" daemon "$b" "${D_URL[b]}" "$DURATION"
        fi
    done
done
note "rounds took $((SECONDS - T0)) s"

note "gzip pass: wrk -H 'Accept-Encoding: gzip' on ${PATHS[1]} ..."
run_wrk gzip daemon 1 "${D_URL[1]}" "$DURATION" -H 'Accept-Encoding: gzip'

D_RSS=$(status_kb "$D_PID" VmRSS)
D_HWM=$(status_kb "$D_PID" VmHWM)
D_THREADS=$(status_kb "$D_PID" Threads)
D_PEAK=$D_HWM # VmHWM lags a little behind VmRSS (per-CPU counters): take the larger
((D_RSS_MAX_LOAD > D_PEAK)) && D_PEAK=$D_RSS_MAX_LOAD
LOG_LINES=$(grep -c . "$TMP/vmatlasd.log" || true)

# ---- report -----------------------------------------------------------------------------------
median() { grep . | sort -g | awk '{v[NR]=$1} END{if(NR==0){print "nan";exit}
    if(NR%2) printf "%.3f\n", v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }
col() { # SERVER BODY COLUMN -> the values of the measured rounds, one a line
    awk -F'\t' -v s="$1" -v b="$2" -v c="$3" '$1 ~ /^r[0-9]+$/ && $2==s && $3==b {print $c}' "$RES"
}
minmax() { grep . | sort -g | awk 'NR==1{mn=$1} {mx=$1} END{printf "%.0f..%.0f\n", mn, mx}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN{if(b>0) printf "%.3f\n", a/b; else print "nan"}'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a+0 >= b+0)}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a+0 <= b+0)}'; }
v_ge() { if ge "$1" "$2"; then echo PASS; else echo FAIL; fi; }
v_le() { if le "$1" "$2"; then echo PASS; else echo FAIL; fi; }

echo
echo "== vmatlas HTTP benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) cores"
echo "== workload: $(sed -E 's/ parent=[0-9]+//' <<<"$READY_LINE")"
echo "== vmatlasd --interval 3600 (one snapshot, every request served from the cache) vs nginx $NG_VERSION"
echo "   (worker_processes 2, sendfile, keep-alive, access_log off) serving the same bytes as static files;"
echo "   wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency, $ROUNDS rounds interleaved, medians over the rounds"
echo
printf '%-30s %8s %10s %10s %6s %-4s %9s %9s %6s %-4s %16s %16s\n' body bytes daemon_rps nginx_rps ratio "" \
    d_p99_ms n_p99_ms ratio "" "d_rps min..max" "n_rps min..max"
declare -a D_RPS N_RPS
for ((b = 0; b < NB; b++)); do
    D_RPS[b]=$(col daemon "$b" 4 | median)
    N_RPS[b]=$(col nginx "$b" 4 | median)
    d99=$(col daemon "$b" 5 | median)
    n99=$(col nginx "$b" 5 | median)
    rr=$(div "${D_RPS[b]}" "${N_RPS[b]}")
    pr=$(div "$d99" "$n99")
    printf '%-30s %8d %10.0f %10.0f %6.2f %-4s %9.3f %9.3f %6.2f %-4s %16s %16s\n' "${PATHS[b]}" "${SIZE[b]}" \
        "${D_RPS[b]}" "${N_RPS[b]}" "$rr" "$(v_ge "$rr" $T_RPS_RATIO)" "$d99" "$n99" "$pr" \
        "$(v_le "$pr" $T_P99_RATIO)" "$(col daemon "$b" 4 | minmax)" "$(col nginx "$b" 4 | minmax)"
done
echo "(ratio = daemon/nginx; targets: req/s ratio >= $T_RPS_RATIO, p99 ratio <= $T_P99_RATIO)"
echo
printf '%-30s %8s %13s %13s %12s %12s\n' "" "" d_us_cpu/req n_us_cpu/req d_conns/run n_conns/run
for ((b = 0; b < NB; b++)); do
    printf '%-30s %8s %13.1f %13.1f %12.0f %12.0f\n' "${PATHS[b]}" "" \
        "$(col daemon "$b" 10 | median)" "$(col nginx "$b" 10 | median)" \
        "$(col daemon "$b" 8 | median)" "$(col nginx "$b" 8 | median)"
done
echo "(medians; server CPU per request: user+sys of the daemon / of the nginx master and workers during"
echo " the run; conns/run: distinct client connections to the server's port seen in /proc/net/tcp"
echo " every 0.5 s, $CONNS when keep-alive holds for the whole run, far more when connections are closed)"
echo
NE=$(div "${D_RPS[2]}" $NODE_EXPORTER_RPS)
printf '%-52s %8.0f req/s = %.1fx node_exporter (%d req/s)  target >= %dx (%d req/s): %s\n' \
    "/metrics vs node_exporter:" "${D_RPS[2]}" "$NE" $NODE_EXPORTER_RPS $T_NE_RATIO \
    $((T_NE_RATIO * NODE_EXPORTER_RPS)) "$(v_ge "$NE" $T_NE_RATIO)"
GZ_RPS=$(awk -F'\t' '$1=="gzip"{print $4}' "$RES")
GZ_BPR=$(awk -F'\t' '$1=="gzip"{print $9}' "$RES")
GZ_P99=$(awk -F'\t' '$1=="gzip"{print $5}' "$RES")
printf '%-52s %8.0f req/s, p99 %.3f ms (gzip body %d bytes of %d; %s B/response in wrk)  informative\n' \
    "gzip: ${PATHS[1]}, Accept-Encoding: gzip" "$GZ_RPS" "$GZ_P99" "$GZ_SIZE" "${SIZE[1]}" "$GZ_BPR"
printf '%-52s VmRSS %d kB, VmHWM %d kB (first snapshot and the three bodies rendered)\n' \
    "daemon RSS before wrk:" "$D_RSS_IDLE" "$D_HWM_IDLE"
printf '%-52s max VmRSS %d kB (%.1f MiB), sampled every 0.5 s\n' "daemon RSS under wrk ($CONNS connections):" \
    "$D_RSS_MAX_LOAD" "$(div "$D_RSS_MAX_LOAD" 1024)"
printf '%-52s VmRSS %d kB (%.1f MiB), VmHWM %d kB (%.1f MiB), %d threads\n' \
    "daemon RSS after the runs:" "$D_RSS" "$(div "$D_RSS" 1024)" "$D_HWM" "$(div "$D_HWM" 1024)" "$D_THREADS"
printf '%-52s %d kB (%.1f MiB)  target <= %d kB (19 MiB): %s\n' \
    "daemon peak RSS (max of VmHWM and the samples):" "$D_PEAK" "$(div "$D_PEAK" 1024)" $T_RSS_KB \
    "$(v_le "$D_PEAK" $T_RSS_KB)"
echo "keep-alive (curl re-use): daemon $KA_D, nginx $KA_N"
errs=$(awk -F'\t' '$6!=0 || $7!=0 {printf "  %s %s %s: non-2xx %s, socket errors %s\n", $1, $2, $3, $6, $7}' "$RES")
if [[ -n $errs ]]; then
    echo "runs with non-2xx responses or socket errors ($RUN_ERRORS):"
    echo "$errs"
else
    echo "no non-2xx responses and no socket errors in any run"
fi
if grep -qv 'listening on\|first snapshot' "$TMP/vmatlasd.log"; then
    echo "vmatlasd log lines beyond start-up ($LOG_LINES lines in all):"
    grep -v 'listening on\|first snapshot' "$TMP/vmatlasd.log" | head -n 10 | sed 's/^/  /'
fi
if [[ -s $TMP/nginx/logs/error.log ]]; then
    echo "nginx error log:"
    head -n 10 "$TMP/nginx/logs/error.log" | sed 's/^/  /'
fi
exit 0
