#!/bin/bash
# Stopping and restarting one host's libvirtd loses no samples from the
# other hosts, and umbrad reconnects by itself (and the guests on the
# restarted host are seen again).
. "$(dirname "$0")/lib.sh"
require_lab

guest_up it-rc-1 umbra-h1
guest_up it-rc-2 umbra-h2
umbrad_start 2 "keepalive_interval = 1" "keepalive_count = 2" \
    "reconnect_max = 4"
jwait 20 "both guests listed" \
    '[.domains[] | select(.name | startswith("it-rc-"))] | length == 2' list
sleep 3

t0=$(date +%s%6N)
it_log "stopping libvirtd on umbra-h2"
lab stop-libvirtd umbra-h2
jwait 20 "umbra-h2 seen as down" \
    '.hosts[] | select(.name == "umbra-h2") | .state != "connected"' hosts
jcheck "umbra-h1 still connected" \
    '.hosts[] | select(.name == "umbra-h1") | .state == "connected"' hosts
jcheck "umbra-h2's guest no longer in the active list" \
    '[.domains[] | select(.name == "it-rc-2")] | length == 0' list
jcheck "hosts shows why umbra-h2 is down" \
    '.hosts[] | select(.name == "umbra-h2") | .last_error != null' hosts
sleep 6
it_log "starting libvirtd on umbra-h2 again"
lab start-libvirtd umbra-h2
jwait 30 "umbra-h2 reconnected" \
    '.hosts[] | select(.name == "umbra-h2") |
     .state == "connected" and .reconnects >= 1' hosts
jwait 15 "it-rc-2 listed again on umbra-h2" '.domain.host == "umbra-h2"' \
    domstats it-rc-2
sleep 3
t1=$(date +%s%6N)

# Samples of the guest on umbra-h1 over the whole window: one per second.
jctl domstats it-rc-1 --history 600 --max-points 100000 \
    >"$IT_DIR/h1.json"
# The guest on umbra-h1 was sampled every 2 s throughout: no tick without
# a sample (a late one, on a busy 2-core machine, is not a lost one).
n=$(jq "[.history[] | select(.time >= $t0 and .time <= $t1)] | length" \
    "$IT_DIR/h1.json")
span=$(( (t1 - t0) / 1000000 ))
gap=$(jq "[.history | map(select(.time >= $t0 - 2000000 and
    .time <= $t1)) | [.[].time] as \$t | range(1; \$t | length) |
    \$t[.] - \$t[. - 1]] | max / 1000000" "$IT_DIR/h1.json")
it_log "umbra-h1 guest: $n samples in ${span}s, largest gap ${gap}s"
check "no sample of umbra-h1 lost while umbra-h2 was down (gap ${gap}s)" \
    jq -e "[.history | map(select(.time >= $t0 - 2000000 and
        .time <= $t1)) | [.[].time] as \$t | range(1; \$t | length) |
        \$t[.] - \$t[. - 1]] | max < 4000000" "$IT_DIR/h1.json"
check "one sample per tick on umbra-h1 ($n in ${span}s at 2 s)" \
    [ "$n" -ge $((span / 2 - 1)) ]

jctl events --limit 500 >"$IT_DIR/events.json"
check "host-disconnected then host-reconnected recorded for umbra-h2" \
    jq -e '[.events[] | select(.host == "umbra-h2" and .source == "umbrad") |
        .type] | (index("host-disconnected") != null) and
        (index("host-reconnected") != null)' "$IT_DIR/events.json"
check "umbra-h1 never disconnected" \
    jq -e '[.events[] | select(.host == "umbra-h1" and
        .type == "host-disconnected")] | length == 0' "$IT_DIR/events.json"
check "the hook reported reconnect/begin for it-rc-2 on umbra-h2" \
    jq -e '[.events[] | select(.source == "hook" and .domain == "it-rc-2" and
        .type == "reconnect/begin")] | length > 0' "$IT_DIR/events.json"
it_log "PASS"
