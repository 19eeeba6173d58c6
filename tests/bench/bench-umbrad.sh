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

echo "starting $guests guests across the lab hosts..."
nhosts=$(bash "$lab" env | sed -n 's/^LAB_HOST_COUNT=//p')
nhosts=${nhosts:-3}
for i in $(seq 1 "$guests"); do
    bash "$lab" guest-define "bench-$i" "umbra-h$(( (i - 1) % nhosts + 1 ))" \
        --start >/dev/null
done
sleep 15
c0=$(cpu_ticks $pid)
t0=$(date +%s%N)
sleep "$run_s"
c1=$(cpu_ticks $pid)
t1=$(date +%s%N)
rss1=$(rss_kib $pid)
ndom=$("$build/src/cli/umbractl" --json list |
    jq '[.domains[] | select(.name | startswith("bench-"))] | length')
secs=$(( (t1 - t0) / 1000000 ))
umbra_ms=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$ndom" -v s="$secs" \
    'BEGIN { printf "%.4f", c / hz * 1000 / (n * s / 1000) }')
umbra_rss=$(awk -v a="$rss0" -v b="$rss1" -v n="$ndom" \
    'BEGIN { printf "%.1f", (b - a) / n }')

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
echo "umbrad on the lab: $ndom domains, 1 s sampling, ${secs} ms measured"
printf "%-32s %10s %12s %10s %12s\n" metric umbra "virsh poll" target \
    "umbra/target"
printf "%-32s %10s %12s %10s %12s\n" "CPU ms per domain-sample" \
    "$umbra_ms" "$ref_ms" 0.1 \
    "$(awk -v a="$umbra_ms" 'BEGIN { printf "%.2f", a / 0.1 }')"
printf "%-32s %10s %12s %10s %12s\n" "RSS KiB per domain" "$umbra_rss" \
    "-" 20 "$(awk -v a="$umbra_rss" 'BEGIN { printf "%.2f", a / 20 }')"
printf "%-32s %10s\n" "umbrad RSS KiB (0 / $ndom domains)" "$rss0 / $rss1"
echo "umbra vs virsh poller, CPU per domain-sample: $(awk -v a="$umbra_ms" \
    -v b="$ref_ms" 'BEGIN { printf "%.3f", a / b }')x"
echo
"$build/tests/bench/bench-monitor" "$repo/tests/data/bench/domstats-lab.txt" \
    1000 30
