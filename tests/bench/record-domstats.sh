#!/bin/bash
# tests/bench/record-domstats.sh: record real libvirt stats for the
# bench-monitor replay.  Starts a guest on the lab's umbra-h1 (the lab must
# be up), lets it serve some requests, and writes ROUNDS rounds of
# `virsh domstats --raw` (state, cpu, balloon, vcpu, interface, block) one
# second apart to OUT (default tests/data/bench/domstats-lab.txt).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/tests/data/bench/domstats-lab.txt}
rounds=${ROUNDS:-10}
lab=$repo/tests/lab/lab.sh
g=bench-rec

mkdir -p "$(dirname "$out")"
bash "$lab" guest-define $g umbra-h1 --start --wait >/dev/null
trap 'bash "$lab" guest-undefine $g >/dev/null 2>&1' EXIT
ip=$(bash "$lab" guest-ip $g)
: >"$out"
for _ in $(seq 1 "$rounds"); do
    curl -s -o /dev/null "http://$ip/cgi-bin/work?cpu_ms=50" || true
    bash "$lab" virsh umbra-h1 domstats --raw --state --cpu-total --balloon \
        --vcpu --interface --block $g >>"$out"
    sleep 1
done
echo "recorded $rounds rounds of $g to $out"
