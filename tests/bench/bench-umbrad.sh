#!/bin/bash
# tests/bench/bench-umbrad.sh: umbrad's CPU time and RSS per monitored
# domain at 1 s sampling, on real lab guests, compared in the same run with
# the obvious reference: polling `virsh domstats` every second for the
# same domains.  Then the replay of recorded stats for 1,000 domains
# (bench-monitor).  Prints tables; asserts nothing.
#
# Needs the lab up (tests/lab/lab.sh up) and a build in ./build.
# Environment: GUESTS (default 9), SECONDS_RUN (default 60).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${UMBRA_BUILD:-$repo/build}
lab=$repo/tests/lab/lab.sh
guests=${GUESTS:-9}
run_s=${SECONDS_RUN:-60}
work=$(mktemp -d /tmp/umbra-bench.XXXXXX)
hz=$(getconf CLK_TCK)
pid=""

cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    for i in $(seq 1 "$guests"); do
        bash "$lab" guest-undefine "bench-$i" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

bash "$lab" umbra-conf "$work/umbra.conf" >/dev/null
sed -i -e 's/^interval = .*/interval = 1/' \
    -e "s|^store = .*|store = $work/umbra.db|" "$work/umbra.conf"
"$build/src/daemon/umbrad" -f "$work/umbra.conf" --log-file "$work/log" &
pid=$!
sleep 5
rss0=$(rss_kib $pid)

nhosts=$(bash "$lab" env | sed -n 's/^LAB_HOST_COUNT=//p')
nhosts=${nhosts:-3}

# start_guests FROM TO: define and start bench-FROM..bench-TO round robin.
start_guests() {
    for i in $(seq "$1" "$2"); do
        bash "$lab" guest-define "bench-$i" \
            "umbra-h$(( (i - 1) % nhosts + 1 ))" --start >/dev/null
    done
    sleep 15
}

# measure: umbrad's CPU ticks and RSS over $run_s seconds; sets
# m_ticks, m_ms (elapsed), m_rss, m_dom.
measure() {
    local c0 c1 t0 t1
    c0=$(cpu_ticks $pid)
    t0=$(date +%s%N)
    sleep "$run_s"
    c1=$(cpu_ticks $pid)
    t1=$(date +%s%N)
    m_ticks=$((c1 - c0))
    m_ms=$(( (t1 - t0) / 1000000 ))
    m_rss=$(rss_kib $pid)
    m_dom=$("$build/src/cli/umbractl" --json list |
        jq '[.domains[] | select(.name | startswith("bench-"))] | length')
}

small=$nhosts
echo "phase 1: $small guests (one per host)"
start_guests 1 "$small"
measure
ticks1=$m_ticks ms1=$m_ms rss1=$m_rss dom1=$m_dom
echo "phase 2: $guests guests"
start_guests $((small + 1)) "$guests"
measure
ticks2=$m_ticks ms2=$m_ms rss2=$m_rss dom2=$m_dom
ndom=$dom2
# Average over all domains (includes every per-host fixed cost) and the
# marginal cost of one more domain (slope between the two phases).
umbra_ms=$(awk -v c="$ticks2" -v hz="$hz" -v n="$dom2" -v s="$ms2" \
    'BEGIN { printf "%.4f", c / hz * 1000 / (n * s / 1000) }')
marg_ms=$(awk -v c1="$ticks1" -v c2="$ticks2" -v s1="$ms1" -v s2="$ms2" \
    -v hz="$hz" -v n1="$dom1" -v n2="$dom2" 'BEGIN {
    r1 = c1 / hz / (s1 / 1000); r2 = c2 / hz / (s2 / 1000);
    printf "%.4f", (r2 - r1) * 1000 / (n2 - n1) }')
umbra_rss=$(awk -v a="$rss0" -v b="$rss2" -v n="$dom2" \
    'BEGIN { printf "%.1f", (b - a) / n }')
marg_rss=$(awk -v a="$rss1" -v b="$rss2" -v n1="$dom1" -v n2="$dom2" \
    'BEGIN { printf "%.1f", (b - a) / (n2 - n1) }')

# Reference: a virsh poller, one call per host per second, same domains.
ref_rounds=20
ref_cpu=$(bash -c '
    for r in $(seq 1 '"$ref_rounds"'); do
        for h in $(seq 1 '"$nhosts"'); do
            virsh -q -c "qemu+tcp://10.77.0.1$h/system" domstats --raw \
                --state --cpu-total --balloon --vcpu --interface --block \
                >/dev/null 2>&1
        done
    done
    times' | awk 'NR == 2 { gsub(/[ms]/, " "); print ($1 * 60 + $2) + ($3 * 60 + $4) }')
ref_ms=$(awk -v c="$ref_cpu" -v n="$ndom" -v r="$ref_rounds" \
    'BEGIN { printf "%.4f", c * 1000 / (n * r) }')

echo
echo "umbrad on the lab: $dom1 then $ndom domains on $nhosts hosts, 1 s" \
    "sampling, ${run_s} s measured per phase"
printf "%-40s %10s %12s %10s %12s\n" metric umbra "virsh poll" target \
    "umbra/target"
printf "%-40s %10s %12s %10s %12s\n" "CPU ms per domain-sample (average)" \
    "$umbra_ms" "$ref_ms" 0.1 \
    "$(awk -v a="$umbra_ms" 'BEGIN { printf "%.2f", a / 0.1 }')"
printf "%-40s %10s %12s %10s %12s\n" "CPU ms per domain-sample (marginal)" \
    "$marg_ms" "-" 0.1 \
    "$(awk -v a="$marg_ms" 'BEGIN { printf "%.2f", a / 0.1 }')"
printf "%-40s %10s %12s %10s %12s\n" "RSS KiB per domain (average)" \
    "$umbra_rss" "-" 20 \
    "$(awk -v a="$umbra_rss" 'BEGIN { printf "%.2f", a / 20 }')"
printf "%-40s %10s %12s %10s %12s\n" "RSS KiB per domain (marginal)" \
    "$marg_rss" "-" 20 \
    "$(awk -v a="$marg_rss" 'BEGIN { printf "%.2f", a / 20 }')"
printf "%-40s %s\n" "umbrad RSS KiB (0 / $dom1 / $ndom domains)" \
    "$rss0 / $rss1 / $rss2"
echo "umbra vs virsh poller, CPU per domain-sample: $(awk -v a="$umbra_ms" \
    -v b="$ref_ms" 'BEGIN { printf "%.3f", a / b }')x"
echo
"$build/tests/bench/bench-monitor" "$repo/tests/data/bench/domstats-lab.txt" \
    1000 30
