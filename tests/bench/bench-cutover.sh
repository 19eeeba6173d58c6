#!/bin/bash
# tests/bench/bench-cutover.sh: what a cutover onto a staged shadow costs,
# against a plain live migration with a full storage copy
# (--copy-storage-all), same guest shape, same data, same load, same run
# (issue 5).  Prints one table with the ratios and the targets (PASS or
# MISS); asserts nothing.
#
#   guest: 128 MiB RAM, 1 vCPU, a 1 GiB disk holding DATA_MIB of written
#   data, serving HTTP and writing 8 KiB/s (disk-writer) plus one 8 MiB
#   burst after staging, polled by a counter loop.
#   predictive: `umbractl shadow-create --wait` (staging, ahead of time,
#   reported apart), then after SETTLE_S `umbractl cutover --wait`.
#   plain: `virsh migrate --live --p2p --copy-storage-all` of a twin
#   guest from the same host to the same target, its disk landing in the
#   target's umbra pool.
#   link: both migrations capped at LINK_MIBPS (default 100 MiB/s, about
#   1 GbE), since the lab's veth links run at memory speed and no real
#   fleet's do; staging is not capped (it runs ahead of time).
#   bytes on the wire: the target's eth0 receive counter across the
#   migration (libvirt's own RPC to that host included; it is small);
#   total time: from the command to its return; downtime: the
#   target's completed-job statistics.
#
# Needs the lab up (tests/lab/lab.sh up) and a build in ./build.
# Environment: DATA_MIB (default 768), SETTLE_S (default 20), LINK_MIBPS
# (default 100), UMBRA_BUILD.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${UMBRA_BUILD:-$repo/build}
lab=$repo/tests/lab/lab.sh
data_mib=${DATA_MIB:-768}
link=${LINK_MIBPS:-100}
settle_s=${SETTLE_S:-20}
work=$(mktemp -d /tmp/umbra-bench-cutover.XXXXXX)
sock=/run/umbra/umbrad.sock
ctl="$build/src/cli/umbractl -c $sock"
pid=""
P=bc-pred
F=bc-full
SRC=umbra-h1
DST=umbra-h3

for a in "$@"; do
    case "$a" in
    -h | --help)
        sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "bench-cutover: unknown argument $a (try --help)" >&2
        exit 2
        ;;
    esac
done
ip netns list 2>/dev/null | grep -q '^umbra-h3' || {
    echo "bench-cutover: the lab is not up (bash tests/lab/lab.sh up)" >&2
    exit 1
}

cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    for g in $P $F; do
        bash "$lab" guest-undefine "$g" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

rx_bytes() {
    bash "$lab" exec "$DST" cat /sys/class/net/eth0/statistics/rx_bytes
}
now_ms() {
    date +%s%3N
}
# guest NAME: a guest on $SRC with a 1 GiB disk holding $data_mib MiB.
guest() {
    local ip
    bash "$lab" guest-define "$1" "$SRC" --disk-size 1G --wait >/dev/null
    ip=$(bash "$lab" guest-ip "$1")
    curl -sf -m 600 "http://$ip/cgi-bin/disk?op=bulk&mib=$data_mib" >/dev/null
    curl -sf -m 60 "http://$ip/cgi-bin/disk?op=fill&seed=3" >/dev/null
    echo "$ip"
}
# poll IP FILE: the counter 5 times a second until FILE.stop exists.
poll() {
    while [ ! -e "$2.stop" ]; do
        curl -sf -m 2 "http://$1/cgi-bin/counter" >/dev/null &&
            echo ok >>"$2" || echo fail >>"$2"
        sleep 0.2
    done
}
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'
}

bash "$lab" umbra-conf "$work/umbra.conf" >/dev/null
sed -i -e "s|^store = .*|store = $work/umbra.db|" \
    -e '/^\[umbrad\]/a shadow_warm_boot = 3s' \
    -e '/^\[umbrad\]/a shadow_auto = off' \
    -e "/^\[umbrad\]/a migration_bandwidth = $link" \
    -e "/^\[umbrad\]/a link_mibps = $link" "$work/umbra.conf"
"$build/src/daemon/umbrad" -f "$work/umbra.conf" --log-file "$work/umbrad.log" &
pid=$!
for _ in $(seq 1 30); do
    $ctl version >/dev/null 2>&1 && break
    sleep 0.5
done

echo "bench-cutover: preparing two guests with $data_mib MiB of data each" >&2
ip_p=$(guest $P)
ip_f=$(guest $F)
sleep 5

# --- predictive: stage ahead, then cut over ----------------------------------
t0=$(now_ms)
rx0=$(rx_bytes)
$ctl shadow-create $P --cell b --wait 600 >/dev/null
stage_ms=$(($(now_ms) - t0))
stage_wire=$(($(rx_bytes) - rx0))
curl -sf -m 60 "http://$ip_p/cgi-bin/disk?op=fill&seed=4" >/dev/null
sleep "$settle_s"
poll "$ip_p" "$work/poll-p" &
poller=$!
rx0=$(rx_bytes)
t0=$(now_ms)
$ctl cutover $P --wait 600 >/dev/null
p_ms=$(($(now_ms) - t0))
p_wire=$(($(rx_bytes) - rx0))
touch "$work/poll-p.stop"
wait "$poller" || true
$ctl --json shadow-info $P >"$work/pred.json"
p_down=$(jq .cutover.downtime_ms "$work/pred.json")
p_mig=$(jq .cutover.total_ms "$work/pred.json")
p_disk=$(jq .cutover.disk_bytes "$work/pred.json")
p_fail=$(grep -c fail "$work/poll-p" || true)

# --- plain: a full storage copy of the twin ----------------------------------
curl -sf -m 60 "http://$ip_f/cgi-bin/disk?op=fill&seed=4" >/dev/null
sleep "$settle_s"
bash "$lab" virsh "$SRC" dumpxml --migratable $F |
    sed -e "s|<source file='[^']*$F\.qcow2'[^/]*/>|<source file='/var/lib/libvirt/umbra/$F.vda.qcow2'/>|" \
        -e '/<backingStore/,/<\/backingStore>/d' >"$work/full.xml"
poll "$ip_f" "$work/poll-f" &
poller=$!
rx0=$(rx_bytes)
t0=$(now_ms)
dst_addr=$(bash "$lab" env | sed -n 's/^LAB_ADDR_H3=//p')
virsh -c "$(bash "$lab" uri $SRC)" migrate --live --p2p --persistent \
    --undefinesource --copy-storage-all --migrate-disks vda --bandwidth "$link" \
    --xml "$work/full.xml" $F "$(bash "$lab" uri $DST)" \
    --migrateuri "tcp://$dst_addr" --disks-uri "tcp://$dst_addr" >/dev/null
f_ms=$(($(now_ms) - t0))
f_wire=$(($(rx_bytes) - rx0))
touch "$work/poll-f.stop"
wait "$poller" || true
bash "$lab" virsh "$DST" domjobinfo $F --completed >"$work/full-job.txt"
f_down=$(awk '/^Total downtime:/ { print $3 }' "$work/full-job.txt")
f_mig=$(awk '/^Time elapsed:/ { print $3; exit }' "$work/full-job.txt")
f_fail=$(grep -c fail "$work/poll-f" || true)

mib() {
    awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'
}
br=$(ratio "$f_wire" "$p_wire")
tr=$(ratio "$f_ms" "$p_ms")
verdict() {
    awk -v r="$1" -v t="$2" 'BEGIN { print (r + 0 >= t ? "PASS" : "MISS") }'
}
cat <<EOF

Cutover cost, $data_mib MiB of disk data, 128 MiB RAM, link capped at $link MiB/s (lab, TCG; one run)
| path                              | wire MiB | total ms | migration ms | downtime ms | HTTP fails |
|-----------------------------------|---------:|---------:|-------------:|------------:|-----------:|
| plain --copy-storage-all          | $(mib "$f_wire") | $f_ms | ${f_mig:--} | ${f_down:--} | $f_fail |
| umbra cutover onto staged shadow  | $(mib "$p_wire") | $p_ms | $p_mig | $p_down | $p_fail |
| ratio plain / umbra               | $br x | $tr x | | | |

staging, ahead of the cutover (off its critical path): $(mib "$stage_wire") MiB on the
wire in $stage_ms ms; incremental disk layer sent at cutover: $(mib "$p_disk") MiB

targets: >= 5x fewer bytes: $(verdict "$br" 5) ($br x); >= 3x shorter total time: $(verdict "$tr" 3) ($tr x)
EOF
