#!/bin/bash
# tests/demo.sh: umbra's main job in the lab, from a fresh Debian 12 machine.
#
# Installs what is missing and builds (tests/setup.sh), brings up the lab
# (3 libvirtd hosts in 2 cells, with umbra's libvirt hook), starts umbrad,
# boots three guests, replays a real VM's CPU curve (Bitbrains, time
# compressed) as requests against one of them, and while that load runs
# stages a shadow of it in the other cell and cuts it over onto it (live
# migration over the staged disk), then shows what an operator sees
# through umbractl: hosts, cells, list, top, shadows, domstats history and
# the event stream.
#
# Usage: tests/demo.sh [--minutes N] [--down]
#   --minutes N  how long to replay load (default 3)
#   --down       stop umbrad and tear the lab down at the end (default:
#                leave everything running to explore; stop it later with
#                tests/demo.sh --stop)
#   --stop       only stop umbrad and tear the lab down
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$repo/build
lab=$repo/tests/lab/lab.sh
data=${UMBRA_DATA:-$repo/../shared/data}
minutes=3
down=0
state=/run/umbra-lab
conf=/etc/umbra/umbra-lab.conf

while [ $# -gt 0 ]; do
    case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --down) down=1; shift ;;
    --stop)
        if [ -f $state/umbrad.pid ]; then
            kill "$(cat $state/umbrad.pid)" 2>/dev/null || true
        fi
        exec bash "$lab" down
        ;;
    *) echo "usage: $0 [--minutes N] [--down] | --stop" >&2; exit 2 ;;
    esac
done

say() {
    echo
    echo "### $*"
}

ctl() {
    echo "\$ umbractl $*"
    "$build/src/cli/umbractl" "$@"
}

say "1/7 install packages and build"
bash "$here/setup.sh" "$build"

say "2/7 bring up the lab (3 hypervisor hosts, cells a and b)"
if [ -f $state/umbrad.pid ]; then
    kill "$(cat $state/umbrad.pid)" 2>/dev/null || true
fi
UMBRA_HOOK_BIN=$build/hooks/umbra-hook bash "$lab" up
bash "$lab" status

say "3/7 start umbrad (2 s sampling) with the lab's configuration"
mkdir -p /etc/umbra
bash "$lab" umbra-conf $conf >/dev/null
sed -i 's/^interval = .*/interval = 2/' $conf
# This walk-through moves web1 by hand; shadow_auto = on (the default)
# would also let risk make shadows and move domains by itself.
sed -i -e '/^\[umbrad\]/a shadow_auto = off' \
    -e '/^\[umbrad\]/a shadow_warm_boot = 5s' $conf
cat $conf
"$build/src/daemon/umbrad" -f $conf -d -p $state/umbrad.pid \
    -l /var/lib/umbra-lab/umbrad.log
for _ in $(seq 1 30); do
    "$build/src/cli/umbractl" version >/dev/null 2>&1 && break
    sleep 0.5
done
ctl version

say "4/7 boot three guests: web1 on umbra-h1, web2 on umbra-h2, db1 on umbra-h3"
bash "$lab" guest-define web1 umbra-h1 --start --wait
bash "$lab" guest-define web2 umbra-h2 --start --wait
bash "$lab" guest-define db1 umbra-h3 --start --wait
sleep 5
ctl hosts
ctl cells
ctl list

say "5/7 replay a real VM's CPU curve against web1 for $minutes min"
trace=$data/bitbrains_rnd/2013-8/194.csv
ip=$(bash "$lab" guest-ip web1)
if [ -f "$trace" ]; then
    echo "trace: Bitbrains GWA-T-12 VM 194, one 5-minute sample per 2 s"
    "$build/tests/lab/umbra-loadgen" \
        --url "http://$ip/cgi-bin/work?cpu_ms=20&mem_kb=1024" \
        --trace "$trace" --column 'CPU usage [%]' --start-row 3780 \
        --step-seconds 2 --max-rps 25 --duration $((minutes * 60)) \
        --concurrency 8 --out /var/lib/umbra-lab/demo-requests.csv -q \
        >/var/lib/umbra-lab/demo-loadgen.txt 2>&1 &
else
    echo "../shared/data not found: sending a constant 10 requests/s instead"
    "$build/tests/lab/umbra-loadgen" \
        --url "http://$ip/cgi-bin/work?cpu_ms=20" --rps 10 \
        --duration $((minutes * 60)) -q \
        >/var/lib/umbra-lab/demo-loadgen.txt 2>&1 &
fi
lg=$!
end=$(($(date +%s) + minutes * 60))
moved=0
while kill -0 $lg 2>/dev/null; do
    ctl top --iterations 1 --sort cpu
    if [ $moved = 0 ] && [ $(($(date +%s) + minutes * 40)) -ge "$end" ]; then
        say "6/7 a shadow of web1 in the other cell, then a cutover onto it, under load"
        ctl place web1
        ctl shadow-create web1 --wait 5m
        ctl shadow-list
        ctl cutover web1 --wait 5m
        ctl shadow-info web1
        moved=1
    fi
    sleep 15
done
echo "(the load generator's account, cutover included)"
tail -n 3 /var/lib/umbra-lab/demo-loadgen.txt

say "7/7 what umbra recorded"
ctl list
ctl domstats web1
echo "(web1's CPU %, one line per 30 s, as the trace drove it)"
"$build/src/cli/umbractl" --json domstats web1 --history $((minutes * 60 + 60)) \
    --max-points 100000 | jq -r '.history | to_entries[] |
    select(.key % 15 == 0) | .value | "\(.time / 1000000 | strftime("%H:%M:%S"))  \(.cpu_pct // "-")"'
ctl events --domain web1 --limit 20

if [ $down = 1 ]; then
    say "tearing down"
    kill "$(cat $state/umbrad.pid)" 2>/dev/null || true
    bash "$lab" down
else
    cat <<EOM

The lab and umbrad are still running. Try:
  $build/src/cli/umbractl            # interactive shell (help, list, top, ...)
  $build/src/cli/umbractl top
  $build/src/cli/umbractl events --follow
  bash $lab status
Stop everything with: bash tests/demo.sh --stop
EOM
fi
