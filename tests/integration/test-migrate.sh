#!/bin/bash
# A domain live-migrated between hosts (cell a -> cell b) is tracked as one
# domain across the move: same UUID, one history whose samples continue
# through the migration, libvirt and hook events on both hosts, and a
# domain-moved event.
. "$(dirname "$0")/lib.sh"
require_lab

G=it-mig
guest_up $G umbra-h1
ip=$(guest_ip $G)
umbrad_start 1
jwait 20 "$G listed on umbra-h1" '.domain.host == "umbra-h1"' domstats $G
uuid=$(jctl domstats $G | jq -r .domain.uuid)
sleep 5
t_mig=$(date +%s%6N)
it_log "migrating $G umbra-h1 -> umbra-h3"
lab migrate $G umbra-h1 umbra-h3 || it_fail "migration failed"
t_done=$(date +%s%6N)
jwait 20 "$G listed on umbra-h3" '.domain.host == "umbra-h3"' domstats $G
sleep 5

jcheck "same UUID after the move" ".domain.uuid == \"$uuid\"" domstats $G
jcheck "listed once, on umbra-h3, cell b" \
    "[.domains[] | select(.name == \"$G\") | \"\(.host)/\(.cell)\"] ==
     [\"umbra-h3/b\"]" list
check "guest still answers HTTP at $ip" \
    curl -sf -m 5 -o /dev/null "http://$ip/cgi-bin/counter"

jctl events --domain $G --limit 200 >"$IT_DIR/events.json"
ev() {
    jq -e "[.events[] | select($1)] | length > 0" "$IT_DIR/events.json" \
        >/dev/null
}
check "hook reported migrate/begin on umbra-h3" \
    ev '.source == "hook" and .type == "migrate/begin" and
        .host == "umbra-h3"'
check "hook reported started/begin on umbra-h3" \
    ev '.source == "hook" and .type == "started/begin" and
        .host == "umbra-h3"'
check "hook reported stopped/end on umbra-h1" \
    ev '.source == "hook" and .type == "stopped/end" and
        .host == "umbra-h1"'
check "libvirt reported resumed/migrated or started/migrated on umbra-h3" \
    ev '.source == "libvirt" and .host == "umbra-h3" and
        (.detail == "migrated")'
check "libvirt reported stopped/migrated on umbra-h1" \
    ev '.source == "libvirt" and .host == "umbra-h1" and
        .type == "stopped" and .detail == "migrated"'
check "umbrad recorded domain-moved umbra-h1 -> umbra-h3" \
    ev '.source == "umbrad" and .type == "domain-moved" and
        .detail == "from umbra-h1 to umbra-h3"'

# One history across hosts, with no hole around the migration.
jctl domstats $G --history 600 >"$IT_DIR/history.json"
hosts=$(jq -r '[.history[].host] | unique | join(",")' "$IT_DIR/history.json")
check "history holds samples from both hosts ($hosts)" \
    [ "$hosts" = "umbra-h1,umbra-h3" ]
check "all history samples carry the one UUID" \
    jq -e "all(.history[]; .uuid == \"$uuid\")" "$IT_DIR/history.json"
gap=$(jq '[.history | [.[].time] as $t | range(1; $t | length) |
    $t[.] - $t[. - 1]] | max / 1000000' "$IT_DIR/history.json")
mig_s=$(( (t_done - t_mig) / 1000000 ))
it_log "largest gap between samples: ${gap}s (migration took ${mig_s}s)"
check "no gap over 3 s in the samples (largest ${gap}s)" \
    jq -e '[.history | [.[].time] as $t | range(1; $t | length) |
        $t[.] - $t[. - 1]] | max <= 3000000' "$IT_DIR/history.json"
check "CPU % known again on umbra-h3" \
    jq -e '[.history[] | select(.host == "umbra-h3" and .cpu_pct != null)] |
        length > 2' "$IT_DIR/history.json"
it_log "PASS"
