#!/bin/bash
# tests/demo.sh: umbra's main job in the lab, from a fresh Debian 12 machine
# (README command 1).
#
# Installs what is missing and builds (tests/setup.sh), brings up the lab
# (3 libvirtd hosts in 2 cells, with umbra's libvirt hook), then plays the
# scenario of tests/lab/scenario.sh twice, predictive then reactive: web1
# serves a day of a real VM's load (time compressed) on umbra-h1 while its
# neighbour batch1 ramps up until the host runs out of CPU. umbrad as
# shipped foresees it, stages a shadow of web1 in the other cell and cuts
# over before the overload; the reactive rule (host above 90 % CPU for
# 30 s) moves web1 only once the overload is there. It prints the timeline
# as it happens, then the comparison, and writes an HTML report and
# summary.json.
#
# Usage: tests/demo.sh [--seconds N] [--out DIR] [--down] | --stop
#   --seconds N  length of each policy's run (default 480)
#   --out DIR    where the report goes (default /var/lib/umbra-lab/scenario)
#   --down       tear the lab down at the end (default: leave it up, with
#                umbrad serving the predictive run's store, to explore)
#   --stop       only stop umbrad and tear the lab down
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$repo/build
lab=$repo/tests/lab/lab.sh
state=/run/umbra-lab
seconds=480
out=/var/lib/umbra-lab/scenario
down=0

stop_umbrad() {
    if [ -f $state/umbrad.pid ]; then
        kill "$(cat $state/umbrad.pid)" 2>/dev/null || true
        rm -f $state/umbrad.pid
    fi
}

while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --down) down=1; shift ;;
    --stop)
        stop_umbrad
        exec bash "$lab" down
        ;;
    *) echo "usage: $0 [--seconds N] [--out DIR] [--down] | --stop" >&2; exit 2 ;;
    esac
done

say() {
    echo
    echo "### $*"
}

say "1/4 install packages and build"
bash "$here/setup.sh" "$build"

say "2/4 bring up the lab (3 hypervisor hosts, cells a and b)"
stop_umbrad
UMBRA_HOOK_BIN=$build/hooks/umbra-hook bash "$lab" up
bash "$lab" status

say "3/4 the scenario, predictive then reactive ($seconds s each, plus about a minute to set up each)"
UMBRA_BUILD=$build bash "$repo/tests/lab/scenario.sh" --out "$out" --seconds "$seconds"

say "4/4 what umbra recorded"
echo "report:  $out/report.html (self-contained: copy it anywhere and open it)"
echo "summary: $out/summary.json"
jq -c '.policies | to_entries[] | {policy: .key, slo_violation_seconds: .value.slo_violation_seconds,
    failed_requests: .value.failed_requests, migrations: .value.migrations,
    cutover: (.value.cutover | if . then {bytes_sent, total_seconds, downtime_ms} else null end)}' \
    "$out/summary.json"

if [ $down = 1 ]; then
    say "tearing down"
    bash "$lab" down
    exit 0
fi
# Serve the predictive run's store on the default socket, to explore it.
conf=$out/predictive/umbra.conf
if [ -f "$conf" ]; then
    # Its guests are gone: nothing to move any more.
    sed -e '/^socket = /d' -e '/^\[umbrad\]/a shadow_auto = off' "$conf" \
        >"$out/explore.conf"
    "$build/src/daemon/umbrad" -f "$out/explore.conf" -d -p $state/umbrad.pid \
        -l "$out/explore-umbrad.log"
fi
cat <<EOM

The lab is still up, and umbrad serves the predictive run's history. Try:
  $build/src/cli/umbractl shadow-info web1    # the shadow's journal
  $build/src/cli/umbractl events --limit 30
  $build/src/cli/umbractl domstats web1 --history 900
  $build/src/cli/umbractl risk --host umbra-h1
Stop everything with: bash tests/demo.sh --stop
EOM
