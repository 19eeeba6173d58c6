#!/bin/bash
# The libvirt hook, as libvirtd runs it in a lab host, returns within a
# fraction of a second and lets libvirt proceed whether umbrad is up,
# killed, or frozen (SIGSTOP); what it could not deliver is spooled and
# taken by umbrad later, so no lifecycle event is lost.
. "$(dirname "$0")/lib.sh"
require_lab

G=it-hook
H=umbra-h1
HOOK=/etc/libvirt/hooks/qemu.d/umbra
SPOOL=/var/spool/umbra/hook.jsonl
lab exec $H test -x $HOOK || it_fail "hook not installed in $H (UMBRA_HOOK_BIN)"

guest_up $G $H
lab virsh $H dumpxml $G >"$IT_DIR/dom.xml"

# time_hook: run the installed hook inside the host the way libvirtd does
# (argv, domain XML on stdin), timed inside the host's namespaces so that
# entering them is not counted; print milliseconds; fail if it prints
# anything or exits non-zero.
time_hook() {
    local res rc ms
    # shellcheck disable=SC2016 # expanded by the inner shell
    res=$(lab exec $H sh -c 't0=$(date +%s%N); "$0" "$1" "$2" begin - \
        >"$3"; rc=$?; t1=$(date +%s%N); echo "$rc $(((t1 - t0) / 1000000))"' \
        $HOOK $G "$1" "$IT_DIR/hook.out" <"$IT_DIR/dom.xml")
    read -r rc ms <<<"$res"
    [ "$rc" = 0 ] || it_fail "hook exited with $rc for $1"
    [ ! -s "$IT_DIR/hook.out" ] ||
        it_fail "hook printed something (would alter the XML)"
    echo "$ms"
}

# time_cycle: destroy + start the guest through libvirt; print seconds.
time_cycle() {
    local t0 t1
    t0=$(date +%s%3N)
    lab virsh $H destroy $G >/dev/null || it_fail "virsh destroy failed"
    lab virsh $H start $G >/dev/null || it_fail "virsh start failed"
    t1=$(date +%s%3N)
    echo $((t1 - t0))
}

umbrad_start 1
jwait 20 "$G listed" '.domain.name == "it-hook"' domstats $G
up_ms=$(time_hook prepare)
up_cycle=$(time_cycle)
jwait 10 "hook events of the cycle arrived (umbrad up)" \
    '[.events[] | select(.source == "hook" and .type == "prepare/begin")] |
     length > 0' events --domain $G --limit 200
it_log "umbrad up: hook ${up_ms} ms, destroy+start ${up_cycle} ms"

# Frozen: the datagram queue fills or not, the hook must not wait.
kill -STOP "$UMBRAD_PID"
frozen_ms=0
for _ in $(seq 1 40); do
    t=$(time_hook release)
    [ "$t" -gt "$frozen_ms" ] && frozen_ms=$t
done
frozen_cycle=$(time_cycle)
it_log "umbrad frozen: worst hook ${frozen_ms} ms, destroy+start" \
    "${frozen_cycle} ms"
kill -CONT "$UMBRAD_PID"

# Killed: no socket listener at all.
last_id=$(jctl events --limit 1 | jq '.events[-1].id')
kill -KILL "$UMBRAD_PID"
wait "$UMBRAD_PID" 2>/dev/null || true
UMBRAD_PID=""
killed_ms=$(time_hook prepare)
killed_cycle=$(time_cycle)
it_log "umbrad killed: hook ${killed_ms} ms, destroy+start ${killed_cycle} ms"
check "spool holds the events of the killed period" \
    grep -q "\"domain\":\"$G\"" $SPOOL

for v in $up_ms $frozen_ms $killed_ms; do
    check "hook returned in ${v} ms (< 500)" [ "$v" -lt 500 ]
done
check "libvirt is not slowed by a frozen umbrad (${frozen_cycle} vs ${up_cycle} ms)" \
    [ "$frozen_cycle" -lt $((up_cycle + 3000)) ]
check "libvirt is not slowed by a dead umbrad (${killed_cycle} vs ${up_cycle} ms)" \
    [ "$killed_cycle" -lt $((up_cycle + 3000)) ]

# Restart: the store keeps the old events; the spool is drained.
umbrad_start 1
jwait 20 "spooled events taken after restart" \
    "[.events[] | select(.id > $last_id and .source == \"hook\" and
      .type == \"prepare/begin\")] | length >= 2" \
    events --domain $G --limit 1000
check "spool file emptied" test ! -s $SPOOL
jcheck "events of the killed period are attributed to $H" \
    "[.events[] | select(.id > $last_id and .source == \"hook\") |
      .host] | unique == [\"$H\"]" events --domain $G --limit 1000
check "domain XML untouched by the hook (libvirt still has the same UUID)" \
    [ "$(lab virsh $H domuuid $G | sed '/^$/d')" = \
      "$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$IT_DIR/dom.xml")" ]
it_log "PASS"
