#!/bin/bash
# tests/lab/scenario.sh: umbra's main job, predictive against reactive, in
# the namespace lab (issue 5; docs/lab.md, "The scenario").
#
# The same scenario is played once per policy, from scratch each time (new
# guests, a new umbrad with its own store):
#
#   * umbra-h1 is confined to CPU 0 and planned with one CPU; umbra-h2 and
#     umbra-h3 share CPU 1 (lab.sh cpuset), so one host's overload does
#     not slow the others.
#   * web1 (1 vCPU) on umbra-h1 serves requests that follow a day of a real
#     VM's CPU trace (Bitbrains GWA-T-12 VM 194), time compressed; each
#     request is a fixed amount of work (rounds=), so its latency grows when
#     web1 gets less CPU.
#   * batch1 (3 vCPUs), its neighbour on umbra-h1, idles, then ramps up so
#     that the host runs out of CPU partway through; with its three busy
#     vCPU threads against web1's one, web1 then gets about a quarter of
#     the CPU, less than it needs.
#   * predictive: umbrad as shipped (shadow_auto, web1 in shadow_protect):
#     it should see the contention coming, stage a warm shadow of web1 in
#     the other cell and cut over onto it before the overload.
#     reactive: cutover_policy = reactive: nothing prepared; when umbra-h1
#     runs above 90 % of its CPU for 30 s, web1 is staged cold and cut over.
#
# Everything is recorded under OUT/POLICY/ (the load generator's requests,
# umbra's risk and both guests' CPU forecasts every 3 s, domstats histories, the shadow journal, events),
# then tests/lab umbra-lab-report writes OUT/report.html and
# OUT/summary.json and prints the comparison.
#
# Usage: tests/lab/scenario.sh [--out DIR] [--seconds N] [--policies "P..."]
#   --seconds N   length of each policy's run (default 480; the neighbour
#                 ramps from N/4 to 3N/4)
# Needs: the lab up (lab.sh up), a build in ./build (or UMBRA_BUILD), no
# other umbrad on the lab (it starts its own), ../shared/data for the trace
# (without it, a synthetic daily curve is used and the report says so).
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${UMBRA_BUILD:-$repo/build}
lab=$here/lab.sh
data=${UMBRA_DATA:-$repo/../shared/data}
out=/var/lib/umbra-lab/scenario
seconds=480
policies="predictive reactive"
slo_ms=1000
slo_window=10
# web1's busiest rate: its peaks use about 0.6 of umbra-h1's CPU, more than
# the half a fair share leaves it once batch1 is busy, and leave the rest
# for batch1's ramp to take (docs/lab.md, "The scenario").
web_rps=${UMBRA_SCENARIO_WEB_RPS:-14}
sock=/run/umbra-lab/scenario.sock

while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --policies) policies=$2; shift 2 ;;
    *) echo "usage: $0 [--out DIR] [--seconds N] [--policies \"predictive reactive\"]" >&2
       exit 2 ;;
    esac
done
[ "$seconds" -ge 240 ] || { echo "scenario: --seconds must be at least 240" >&2; exit 2; }

UMBRAD=$build/src/daemon/umbrad
UMBRACTL=$build/src/cli/umbractl
LOADGEN=$build/tests/lab/umbra-loadgen
REPORT=${UMBRA_REPORT:-$build/tests/lab/umbra-lab-report}
for b in "$UMBRAD" "$UMBRACTL" "$LOADGEN" "$REPORT"; do
    [ -x "$b" ] || { echo "scenario: $b is not built" >&2; exit 1; }
done
bash "$lab" status >/dev/null 2>&1 || { echo "scenario: the lab is not up (lab.sh up)" >&2; exit 1; }
if pgrep -x umbrad >/dev/null; then
    echo "scenario: an umbrad is running (pid $(pgrep -x umbrad | xargs)); stop it first:" \
        "the scenario starts its own, one per policy" >&2
    exit 1
fi

ctl() { "$UMBRACTL" -c "$sock" "$@"; }
jctl() { "$UMBRACTL" -c "$sock" --json "$@"; }
# One line of JSON, or null when umbrad does not answer.
jnull() {
    local o
    if o=$(jctl "$@" 2>/dev/null) && [ -n "$o" ]; then
        printf '%s' "$o" | tr -d '\n'
    else
        printf null
    fi
}
say() { printf '%s\n' "$*"; }

umbrad_pid=""
bg_pids=""
stop_all() {
    local p
    for p in $bg_pids; do
        kill "$p" 2>/dev/null || true
    done
    for p in $bg_pids; do
        wait "$p" 2>/dev/null || true
    done
    bg_pids=""
    if [ -n "$umbrad_pid" ]; then
        kill "$umbrad_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$umbrad_pid" 2>/dev/null || break
            sleep 0.1
        done
        umbrad_pid=""
    fi
}
finish() {
    set +e
    stop_all
    for h in umbra-h1 umbra-h2 umbra-h3; do
        bash "$lab" cpuset "$h" all >/dev/null 2>&1
    done
}
trap finish EXIT
trap 'exit 130' INT TERM

clean_guests() {
    local g
    for g in web1 batch1; do
        bash "$lab" guest-undefine "$g" >/dev/null 2>&1 || true
    done
}

# The load: web1's rate follows a day of the trace over $seconds; batch1's
# ramps from a trickle to 8 requests/s of 100 ms of work between N/4 and
# 3N/4.
ramp_start=$((seconds / 4))
ramp_end=$((seconds * 3 / 4))
mkdir -p "$out"
rm -rf "${out:?}"/*
trace=$data/bitbrains_rnd/2013-8/194.csv
if [ -f "$trace" ]; then
    trace_desc="Bitbrains GWA-T-12 rnd VM 194, CPU usage [%], rows 3780-4067 (one day, 5-minute samples)"
    trace_args=(--trace "$trace" --column 'CPU usage [%]' --start-row 3780 --rows 288)
else
    echo "scenario: $trace not found: web1 follows a synthetic daily curve instead"
    trace_desc="synthetic daily curve (../shared/data not found)"
    awk 'BEGIN { print "t,value"; for (i = 0; i < 288; i++)
        printf "%d,%.3f\n", i, 60 + 25 * sin(6.2832 * (i - 96) / 288) }' \
        >"$out/synthetic-day.csv"
    trace_args=(--trace "$out/synthetic-day.csv" --rows 288)
fi
step=$(awk -v s="$seconds" 'BEGIN { printf "%.4f", s / 288 }')
awk -v n="$seconds" -v a="$ramp_start" -v b="$ramp_end" 'BEGIN {
        print "t,value"
        for (t = 0; t < n; t++) {
            v = t < a ? 0.2 : t >= b ? 8 : 0.2 + 7.8 * (t - a) / (b - a)
            printf "%d,%.3f\n", t, v
        }
    }' >"$out/neighbour-ramp.csv"

cat >"$out/scenario.json" <<EOF
{
  "title": "umbra in the lab: predictive cutover against a reactive rule",
  "trace": "web1: $trace_desc, replayed in $seconds s at up to $web_rps requests/s of fixed work (rounds=3500, about 40 ms of CPU); batch1: ramps from 0.2 to 8 requests/s of rounds=17500 between ${ramp_start} s and ${ramp_end} s",
  "primary": "web1",
  "neighbour": "batch1",
  "vcpus": {"web1": 1, "batch1": 3},
  "host": "umbra-h1",
  "host_cpus": 1,
  "slo_p99_ms": $slo_ms,
  "slo_window_s": $slo_window,
  "policies": [$(printf '"%s", ' $policies | sed 's/, $//')],
  "rules": {
    "predictive": "umbrad as shipped: web1 in shadow_protect; a shadow when trouble within 1 h reaches the threshold, a cutover when trouble within 15 min does",
    "reactive": "cutover_policy = reactive: when the host's CPU stays above 90 % for 30 s, stage a cold shadow (full copy) and cut over at once"
  }
}
EOF

play() {
    local policy=$1 dir=$out/$1 ip1 ip2 t0 now last_j=0 rel lg1 lg2 smp
    mkdir -p "$dir"
    say ""
    say "=== $policy: preparing (new guests, new umbrad) ==="
    clean_guests
    bash "$lab" cpuset umbra-h1 0 >/dev/null
    bash "$lab" cpuset umbra-h2 1 >/dev/null
    bash "$lab" cpuset umbra-h3 1 >/dev/null
    bash "$lab" guest-define web1 umbra-h1 --vcpus 1 --start >/dev/null
    bash "$lab" guest-define batch1 umbra-h1 --vcpus 3 --start >/dev/null
    bash "$lab" guest-wait web1 120 >/dev/null
    bash "$lab" guest-wait batch1 120 >/dev/null
    ip1=$(bash "$lab" guest-ip web1)
    ip2=$(bash "$lab" guest-ip batch1)

    bash "$lab" umbra-conf "$dir/umbra.conf" >/dev/null
    sed -i -e "s|^interval = .*|interval = 2|" \
        -e "s|^store = .*|store = $dir/umbra.db|" \
        -e "s|^socket = .*|socket = $sock|" "$dir/umbra.conf"
    grep -q '^socket = ' "$dir/umbra.conf" ||
        sed -i "/^\[umbrad\]/a socket = $sock" "$dir/umbra.conf"
    # Time is compressed about 180 times: a finer forecasting grid and a
    # faster risk tick let umbra see minutes-long changes (docs/lab.md).
    sed -i -e "/^\[umbrad\]/a forecast_step = 10s" \
        -e "/^\[umbrad\]/a forecast_refit = 20s" \
        -e "/^\[umbrad\]/a risk_interval = 5s" \
        -e "/^\[umbrad\]/a shadow_warm_boot = 5s" \
        -e "/^\[umbrad\]/a shadow_protect = web1" \
        -e "/^\[umbrad\]/a cutover_policy = $policy" \
        -e "s/^cpu_overcommit = .*/cpu_overcommit = 1/" "$dir/umbra.conf"
    for h in umbra-h1 umbra-h2 umbra-h3; do
        sed -i "/^\[host:$h\]/a cpus = 1" "$dir/umbra.conf"
    done
    "$UMBRAD" -f "$dir/umbra.conf" --log-file "$dir/umbrad.log" &
    umbrad_pid=$!
    for _ in $(seq 1 50); do
        ctl version >/dev/null 2>&1 && break
        sleep 0.2
    done
    ctl version >/dev/null

    say "=== $policy: playing ${seconds} s (web1 follows the trace; batch1 ramps from +${ramp_start}s to +${ramp_end}s) ==="
    t0=$(date +%s.%N)
    "$LOADGEN" --url "http://$ip1/cgi-bin/work?rounds=3500" "${trace_args[@]}" \
        --step-seconds "$step" --max-rps "$web_rps" --duration "$seconds" \
        --concurrency 64 --timeout-ms 10000 --out "$dir/requests.csv" -q \
        >"$dir/loadgen-web1.txt" 2>&1 &
    lg1=$!
    "$LOADGEN" --url "http://$ip2/cgi-bin/work?rounds=17500" \
        --trace "$out/neighbour-ramp.csv" --step-seconds 1 --max-rps 8 \
        --duration "$seconds" --concurrency 64 --timeout-ms 60000 \
        --out "$dir/requests-batch1.csv" -q >"$dir/loadgen-batch1.txt" 2>&1 &
    lg2=$!
    (
        while :; do
            printf '{"t": %s, "host": %s, "domain": %s, "forecast": {"web1": %s, "batch1": %s}}\n' \
                "$(date +%s.%N)" \
                "$(jnull risk --host umbra-h1)" "$(jnull risk web1)" \
                "$(jnull forecast web1 --metric cpu)" \
                "$(jnull forecast batch1 --metric cpu)"
            sleep 3
        done
    ) >"$dir/risk.jsonl" 2>/dev/null &
    smp=$!
    bg_pids="$lg1 $lg2 $smp"
    # The timeline, as it happens: each new journal row of web1's shadow.
    while kill -0 "$lg1" 2>/dev/null; do
        sleep 2
        jctl shadow-info web1 >"$dir/shadow.json" 2>/dev/null || continue
        # The record as the first cutover left it (a later shadow of web1
        # would replace it).
        if [ ! -f "$dir/shadow-cutover.json" ] &&
            jq -e '.state == "promoted"' "$dir/shadow.json" >/dev/null 2>&1; then
            cp "$dir/shadow.json" "$dir/shadow-cutover.json"
        fi
        jq -r --argjson t0 "$t0" --argjson last "$last_j" \
            '.journal[]? | select(.time / 1e6 > $last) |
             ((.time / 1e6 - $t0) * 10 | floor) as $d |
             "\(.time / 1e6)\t  +\($d / 10 | floor).\($d % 10)s  \(.to // "-")  \(.event): \(.detail // "")"' \
            "$dir/shadow.json" 2>/dev/null |
            while IFS=$'\t' read -r ts line; do
                echo "$line"
                echo "$ts" >"$dir/.last"
            done
        [ -f "$dir/.last" ] && last_j=$(cat "$dir/.last")
    done
    wait "$lg1" 2>/dev/null || true
    wait "$lg2" 2>/dev/null || true
    kill "$smp" 2>/dev/null || true
    wait "$smp" 2>/dev/null || true
    bg_pids=""
    rm -f "$dir/.last"
    now=$(date +%s.%N)
    rel=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%d", b - a + 30 }')
    jctl domstats web1 --history "$rel" --max-points 100000 >"$dir/domstats-web1.json"
    jctl domstats batch1 --history "$rel" --max-points 100000 >"$dir/domstats-batch1.json"
    jctl shadow-info web1 >"$dir/shadow.json" 2>/dev/null || rm -f "$dir/shadow.json"
    jctl events --limit 500 >"$dir/events.json" 2>/dev/null || true
    cat >"$dir/meta.json" <<EOF
{"policy": "$policy", "t0": $t0, "duration_s": $seconds,
 "ramp_start_s": $ramp_start, "ramp_end_s": $ramp_end}
EOF
    say "web1's requests: $(tail -n 1 "$dir/loadgen-web1.txt")"
    say "web1 ended on: $(bash "$lab" guest-host web1 2>/dev/null || echo '?')"
    stop_all
}

for p in $policies; do
    case "$p" in
    predictive | reactive) play "$p" ;;
    *) echo "scenario: unknown policy $p" >&2; exit 2 ;;
    esac
done
clean_guests
say ""
"$REPORT" "$out"
