#!/bin/bash
#
# smoke.sh - end-to-end smoke test of the namespace lab.
#
# lab up; two guests on hosts of different cells; HTTP work and counter
# checks from the root namespace; domstats; one live migration
# umbra-h1 -> umbra-h3 with the guest still answering at the same IP and
# its counter still counting; lab down, and nothing left behind.
# Prints the time of every phase. Exits non-zero on any failure (the lab
# is torn down anyway unless KEEP=1). Takes about a minute.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lab=$here/lab.sh
t_start=$(date +%s%3N)
t_phase=$t_start
timings=""
ok=0

step() {
    local now
    now=$(date +%s%3N)
    timings="$timings$(printf '  %-28s %6d ms' "$1" $((now - t_phase)))
"
    t_phase=$now
}

fail() {
    echo "smoke: FAILED: $*" >&2
    exit 1
}

finish() {
    local rc=$?
    if [ "$ok" != 1 ] && [ "${KEEP:-0}" != 1 ]; then
        bash "$lab" down >/dev/null 2>&1 || true
    fi
    printf 'smoke: timings\n%s' "$timings"
    printf '  %-28s %6d ms\n' total $(($(date +%s%3N) - t_start))
    if [ "$rc" = 0 ]; then
        echo "smoke: PASSED"
    fi
}
trap finish EXIT

http() {
    curl -fsS -m 5 "$@"
}

counter() {
    http "http://$1/cgi-bin/counter" | sed -n 's/^counter=\([0-9]*\).*/\1/p'
}

bash "$lab" up
step "lab up"

ip1=$(bash "$lab" guest-define smoke1 umbra-h1 --start)
ip2=$(bash "$lab" guest-define smoke2 umbra-h3 --start)
bash "$lab" guest-wait smoke1 60
step "guest smoke1 boot"
bash "$lab" guest-wait smoke2 60
step "guest smoke2 boot"

for ip in "$ip1" "$ip2"; do
    body=$(http "http://$ip/cgi-bin/work?cpu_ms=20&mem_kb=2048") ||
        fail "no HTTP answer from $ip"
    case "$body" in ok*) ;; *) fail "unexpected body from $ip: $body" ;; esac
    echo "smoke: $ip: $body"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$ip1/cgi-bin/work?cpu_ms=x")
[ "$code" = 400 ] || fail "bad query gave HTTP $code, not 400"
step "HTTP checks"

uri1=$(bash "$lab" uri umbra-h1)
uri3=$(bash "$lab" uri umbra-h3)
virsh -q -c "$uri1" domstats smoke1 >"/tmp/smoke-stats.$$" ||
    fail "domstats on umbra-h1"
for key in cpu.time balloon.rss block.0.wr.reqs net.0.rx.bytes; do
    grep -q "^ *$key=" "/tmp/smoke-stats.$$" || fail "domstats lacks $key"
done
rm -f "/tmp/smoke-stats.$$"
step "domstats"

c1=$(counter "$ip1")
[ -n "$c1" ] || fail "no counter from smoke1"
bash "$lab" migrate smoke1 umbra-h1 umbra-h3
step "migrate smoke1 h1 -> h3"
virsh -q -c "$uri3" domstate smoke1 | grep -q running ||
    fail "smoke1 is not running on umbra-h3"
if virsh -q -c "$uri1" domstate smoke1 >/dev/null 2>&1; then
    fail "smoke1 is still defined on umbra-h1"
fi
http "http://$ip1/cgi-bin/work?cpu_ms=5" >/dev/null || fail "no HTTP from $ip1 after migration"
c2=$(counter "$ip1")
sleep 2
c3=$(counter "$ip1")
echo "smoke: counter before $c1, after $c2, 2 s later $c3"
if [ -z "$c2" ] || [ -z "$c3" ]; then
    fail "no counter after migration"
fi
if [ "$c2" -lt "$c1" ] || [ "$c3" -le "$c2" ]; then
    fail "counter did not keep counting ($c1 -> $c2 -> $c3)"
fi
step "after-migration checks"

bash "$lab" down
step "lab down"
if ip netns list | grep -q '^umbra-h'; then
    fail "network namespaces left"
fi
if ip -o link show | grep -qE 'umbra-(mgmt0|gst0|h[0-9]+-[mg])'; then
    fail "links left"
fi
if grep -l -a -s '^umbra-lab-holder:' /proc/[0-9]*/cmdline >/dev/null; then
    fail "holder processes left"
fi
if [ -e /run/umbra-lab ]; then
    fail "/run/umbra-lab left"
fi
ok=1
