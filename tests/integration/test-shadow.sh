#!/bin/bash
# Shadows in the lab (issue 5): a shadow lands in another cell, never on
# its primary's host; two at once honour each other's reservation; the
# staged disk holds exactly what the primary's disk held at the staging
# point (checksums computed inside guests); a restart of umbrad in the
# middle of staging leaves the journal and libvirt agreeing, nothing
# leaked and no shadow twice; orphans are removed; bad input is a clear
# error that leaves nothing behind; retiring folds the primary's disk
# back.
. "$(dirname "$0")/lib.sh"
require_lab

A=it-sha
B=it-shb
CHK=it-shchk
POOL_DIR=/var/lib/libvirt/umbra

# 4 vCPUs each: with the lab's cpu_overcommit of 4, a 2-CPU host plans
# with 8, so one host has room for one such shadow, not two.
guest_up $A umbra-h1 --vcpus 4
guest_up $B umbra-h2 --vcpus 4
ip_a=$(guest_ip $A)
umbrad_start 1 "shadow_auto = off" "shadow_warm_boot = 3s"
jwait 30 "$A and $B listed" \
    '[.domains[] | select(.state == "running")] | length >= 2' list

# --- staging point and checksums --------------------------------------
s1=$(disk_sum "$ip_a" "op=fill&seed=11")
[ -n "$s1" ] || it_fail "cannot write the marked region in $A"
it_log "$A marked region before staging: $s1"
disk_a0=$(disk_of $A umbra-h1)

# Two primaries ask at once: A's shadow takes umbra-h3 (cell b), whose
# remaining CPU cannot hold B's too, so B's goes elsewhere.
ctl shadow-create $A >"$IT_DIR/create-a.txt" ||
    it_fail "shadow-create $A failed: $(cat "$IT_DIR/create-a.txt")"
ctl shadow-create $B >"$IT_DIR/create-b.txt" ||
    it_fail "shadow-create $B failed: $(cat "$IT_DIR/create-b.txt")"
jwait 180 "$A's shadow warm" '.state == "warm" and (.busy | not)' \
    shadow-info $A
jwait 180 "$B's shadow warm" '.state == "warm" and (.busy | not)' \
    shadow-info $B
jctl shadow-info $A >"$IT_DIR/info-a.json"
jctl shadow-info $B >"$IT_DIR/info-b.json"
host_a=$(jq -r .host "$IT_DIR/info-a.json")
host_b=$(jq -r .host "$IT_DIR/info-b.json")
it_log "shadows: $A -> $host_a, $B -> $host_b"
check "$A's shadow is on umbra-h3 in cell b" \
    jq -e '.host == "umbra-h3" and .cell == "b"' "$IT_DIR/info-a.json"
check "$B's shadow is not on its primary's host nor on $A's shadow's host" \
    [ "$host_b" != umbra-h2 ] && [ "$host_b" != "$host_a" ]
check "the ledger shows the reservation to place" \
    jq_ok '[.candidates[] | select(.host == "umbra-h3") | .reason] |
           .[0] | test("reserved|own host")' place $B
check "$A~shadow is paused on umbra-h3 and nowhere else" \
    [ "$(where "$A~shadow")" = "umbra-h3 paused" ]
check "$A runs on umbra-h1 only" \
    [ "$(where "$A")" = "umbra-h1 running" ]

vshq umbra-h3 dumpxml "$A~shadow" >"$IT_DIR/shadow-a.xml"
mac_a=$(lab guest-list | awk -v g=$A '$1 == g { print $3 }')
check "the shadow has a MAC address of its own (not $mac_a)" \
    bash -c "grep -q 'mac address=' '$IT_DIR/shadow-a.xml' &&
             ! grep -q '$mac_a' '$IT_DIR/shadow-a.xml'"
check "the shadow's links are down" grep -q "<link state='down'/>" \
    "$IT_DIR/shadow-a.xml"
check "the shadow carries its primary's UUID in umbra metadata" \
    grep -q "primary-uuid=\"$(jq -r .uuid "$IT_DIR/info-a.json")\"" \
    "$IT_DIR/shadow-a.xml"
check "the shadow's disk is in the target's pool" \
    grep -q "$POOL_DIR/$A~shadow.vda.qcow2" "$IT_DIR/shadow-a.xml"

# The primary goes on, on its new overlay.
s2=$(disk_sum "$ip_a" "op=fill&seed=22")
check "the primary writes on after staging ($s2)" [ -n "$s2" ] &&
    [ "$s2" != "$s1" ]
disk_a1=$(disk_of $A umbra-h1)
check "the primary writes to a staging overlay now ($disk_a1)" \
    bash -c "[[ '$disk_a1' == *.umbra-*.qcow2 ]]"

# Inside a guest booted on umbra-h3 from the staged copy: the marked
# region reads what the primary held at the staging point.
base_a=$(jq -r '.disks[0].base' "$IT_DIR/info-a.json")
vshq umbra-h3 vol-create-as umbra "$CHK.qcow2" 64M --format qcow2 \
    --backing-vol "$base_a" --backing-vol-format qcow2 >/dev/null ||
    it_fail "cannot make a checking overlay over $base_a"
IT_GUESTS="$IT_GUESTS $CHK"
lab guest-define $CHK umbra-h3 --disk "$POOL_DIR/$CHK.qcow2" --wait \
    >/dev/null || it_fail "the checking guest did not boot on umbra-h3"
s_chk=$(disk_sum "$(guest_ip $CHK)" "op=sum")
it_log "staged copy reads $s_chk (primary at staging $s1, now $s2)"
check "the staged disk matches the primary at the staging point" \
    [ "$s_chk" = "$s1" ]
lab guest-undefine $CHK >/dev/null
vshq umbra-h3 vol-delete "$CHK.qcow2" --pool umbra >/dev/null || true
check "$A still answers HTTP" curl -sf -m 5 -o /dev/null \
    "http://$ip_a/cgi-bin/counter"

# --- bad input ----------------------------------------------------------
check "shadow-create of an unknown domain fails" \
    bash -c "! '$UMBRACTL' -c '$SOCK' shadow-create no-such-domain 2>'$IT_DIR/e1'"
check "... saying so" grep -q "no-such-domain" "$IT_DIR/e1"
check "shadow-create in an unknown cell fails" \
    bash -c "! '$UMBRACTL' -c '$SOCK' shadow-create $A --cell zz 2>'$IT_DIR/e2'"
check "a second shadow of $A is refused" \
    bash -c "! '$UMBRACTL' -c '$SOCK' shadow-create $A 2>'$IT_DIR/e3'"
check "... saying it has one" grep -q "already has a shadow" "$IT_DIR/e3"
check "shadow-retire of a domain without shadow fails" \
    bash -c "! '$UMBRACTL' -c '$SOCK' shadow-retire no-such-domain 2>/dev/null"
check "shadow-info of a domain without shadow fails" \
    bash -c "! '$UMBRACTL' -c '$SOCK' shadow-info no-such-domain 2>/dev/null"

# --- a restart in the middle of staging ---------------------------------
umbrad_stop
umbrad_start 1 "shadow_auto = off" "shadow_warm_boot = 30s"
jwait 30 "$B listed again" '[.domains[] | select(.name == "'$B'")] | length == 1' list
ctl shadow-retire $B --wait 120 >/dev/null || it_fail "retiring $B's shadow"
check "$B's primary disk is folded back" \
    [ "$(disk_of $B umbra-h2)" = "$(lab env | sed -n 's/^LAB_DISKS=//p')/$B.qcow2" ]
# A target cell with no capacity: cell b is umbra-h3 alone, and $A's
# shadow holds the room there that $B's would need.
check "a shadow of $B in cell b (full) is refused" \
    bash -c "! '$UMBRACTL' -c '$SOCK' shadow-create $B --cell b 2>'$IT_DIR/e4'"
check "... saying why (the reservation)" grep -q "reserved" "$IT_DIR/e4"
check "... leaving no shadow of $B behind" \
    [ -z "$(where "$B~shadow")" ] && jq_ok '.state == "retired"' shadow-info $B
ctl shadow-create $B >/dev/null || it_fail "shadow-create $B (2): $(ctl place $B 2>&1)"
# Wait until the shadow domain exists (booting, before its pause).
wait_for 120 "$B~shadow defined and booting" \
    bash -c "[ -n \"\$(bash '$LAB' virsh umbra-h1 domstate '$B~shadow' 2>/dev/null)\$(bash '$LAB' virsh umbra-h3 domstate '$B~shadow' 2>/dev/null)\" ]"
check "$B's shadow is still staging" [ "$(state_of $B)" = staging ]
it_log "killing umbrad (-9) in the middle of staging"
kill -9 "$UMBRAD_PID"
wait "$UMBRAD_PID" 2>/dev/null || true
UMBRAD_PID=""
umbrad_start 1 "shadow_auto = off" "shadow_warm_boot = 3s"
jwait 240 "$B's shadow staged again" \
    '.state == "warm" and (.busy | not) and
     ([.journal[] | select(.event == "stage-failed" and
                           (.detail | test("interrupted")))] | length == 1)' \
    shadow-info $B
jctl shadow-info $B >"$IT_DIR/info-b2.json"
host_b2=$(jq -r .host "$IT_DIR/info-b2.json")
check "$B~shadow exists once, paused on $host_b2" \
    [ "$(where "$B~shadow")" = "$host_b2 paused" ]
check "$B runs once, on umbra-h2" \
    [ "$(where "$B")" = "umbra-h2 running" ]
tag=$(jq -r .tag "$IT_DIR/info-b2.json")
check "$B writes to the new staging's overlay only" \
    bash -c "[[ '$(disk_of $B umbra-h2)' == *.umbra-$tag.qcow2 ]]"
chain=$(lab exec umbra-h2 qemu-img info -U --backing-chain "$(disk_of $B umbra-h2)" |
    grep -c '^image:')
check "$B's chain is base, disk, one overlay ($chain images)" [ "$chain" = 3 ]
for h in umbra-h1 umbra-h3; do
    n=$(vshq $h vol-list umbra 2>/dev/null | grep -c "$B~shadow" || true)
    want=0
    [ "$h" = "$host_b2" ] && want=2
    check "$h holds $want volume(s) of $B~shadow ($n)" [ "$n" = "$want" ]
done

# --- orphans: a store that forgot them ----------------------------------
umbrad_stop
IT_STORE=$IT_DIR/fresh.db umbrad_start 1 "shadow_auto = off"
wait_for 60 "orphan shadows removed" \
    bash -c "[ -z \"\$(bash '$LAB' virsh umbra-h3 list --all --name 2>/dev/null | grep '~shadow')\" ] &&
             [ -z \"\$(bash '$LAB' virsh umbra-h1 list --all --name 2>/dev/null | grep '~shadow')\" ]"
check "$A's disk is folded back after its orphan shadow went" \
    [ "$(disk_of $A umbra-h1)" = "$disk_a0" ]
check "$A still reads what it wrote ($s2)" \
    [ "$(disk_sum "$ip_a" "op=sum")" = "$s2" ]
check "no shadow volume is left on umbra-h3" \
    bash -c "! bash '$LAB' virsh umbra-h3 vol-list umbra 2>/dev/null | grep -q '~shadow'"
check "the fresh store lists no shadow" jq_ok '.shadows | length == 0' \
    shadow-list

# --- a target host that is down ------------------------------------------
lab stop-libvirtd umbra-h3 >/dev/null
if ctl shadow-create $A --cell b --wait 60 >"$IT_DIR/down.txt" 2>&1; then
    lab start-libvirtd umbra-h3 >/dev/null
    it_fail "a shadow in cell b with umbra-h3 down succeeded"
fi
it_log "with umbra-h3 down: $(tail -n 1 "$IT_DIR/down.txt")"
lab start-libvirtd umbra-h3 >/dev/null
check "... and left $A's disk as it was" [ "$(disk_of $A umbra-h1)" = "$disk_a0" ]
check "... and no shadow of $A" \
    bash -c "[ -z \"\$(bash '$LAB' virsh umbra-h1 list --all --name 2>/dev/null | grep '~shadow')\" ]"

# --- retiring --------------------------------------------------------------
ctl shadow-create $A --wait 180 >/dev/null || it_fail "shadow-create $A (2)"
ctl shadow-retire $A --wait 120 >/dev/null || it_fail "shadow-retire $A"
check "$A's shadow domain is gone" [ -z "$(where "$A~shadow")" ]
check "$A's disk is folded back" [ "$(disk_of $A umbra-h1)" = "$disk_a0" ]
check "$A keeps its data through the fold" \
    [ "$(disk_sum "$ip_a" "op=sum")" = "$s2" ]
check "the journal shows the retirement" \
    jq_ok '[.journal[] | .to] | .[-2:] == ["retiring", "retired"]' \
    shadow-info $A

# --- a target host that dies in the middle of staging ----------------------
# umbra-h3's libvirtd stops while $A's shadow boots there: the staging
# fails; $A's disk is folded back at once (its own host is up); the record
# stays `retiring`, not `retired`, since the shadow domain and its volumes
# are still on umbra-h3; once umbra-h3 is back, umbrad removes them.
umbrad_stop
IT_STORE=$IT_DIR/mid.db umbrad_start 1 "shadow_auto = off" \
    "shadow_warm_boot = 30s"
jwait 30 "$A listed again" '[.domains[] | select(.name == "'$A'")] | length == 1' list
ctl shadow-create $A --cell b >/dev/null || it_fail "shadow-create $A (3)"
wait_for 120 "$A~shadow defined on umbra-h3" \
    bash -c "[ -n \"\$(bash '$LAB' virsh umbra-h3 domstate '$A~shadow' 2>/dev/null)\" ]"
check "$A's shadow is still staging" [ "$(state_of $A)" = staging ]
it_log "stopping libvirtd on umbra-h3 in the middle of staging"
# Whatever fails from here on, umbra-h3's libvirtd comes back for the
# tests that follow.
h3_back() {
    local rc=$?
    # errexit off first: with it, the '(exit "$rc")' of a failed test ended
    # the trap before it_cleanup, leaving umbrad to hold meson's pipe until
    # the test's 900 s timeout (CI, 2026-11-23 23:42).
    set +e
    lab start-libvirtd umbra-h3 >/dev/null 2>&1
    (exit "$rc")
    it_cleanup
}
trap h3_back EXIT
lab stop-libvirtd umbra-h3 >/dev/null
jwait 60 "the staging failed and the record is retiring" \
    '.state == "retiring" and any(.journal[]; .event == "stage-failed")' \
    shadow-info $A
if [ "$(disk_of $A umbra-h1)" != "$disk_a0" ]; then
    # What umbrad says of the fold (its note names the error), for CI.
    it_log "not folded: $(jctl shadow-info $A |
        jq -c '{state, note, journal: [.journal[-3:][] | {event, detail}]}')"
fi
check "$A's disk is folded back at once" [ "$(disk_of $A umbra-h1)" = "$disk_a0" ]
check "$A keeps its data" [ "$(disk_sum "$ip_a" "op=sum")" = "$s2" ]
jwait 30 "the note says what is left and why" \
    '.state == "retiring" and (.note | test("not cleaned yet.*umbra-h3"))' \
    shadow-info $A
it_log "note: $(jctl shadow-info $A | jq -r .note)"
lab start-libvirtd umbra-h3 >/dev/null
trap it_cleanup EXIT
jwait 90 "$A's shadow cleaned up once umbra-h3 is back" \
    '.state == "retired" and (.journal[-1].to == "retired")' shadow-info $A
check "no $A~shadow left on any host" [ -z "$(where "$A~shadow")" ]
check "no shadow volume left on umbra-h3" \
    bash -c "! bash '$LAB' virsh umbra-h3 vol-list umbra 2>/dev/null | grep -q '~shadow'"
check "$A runs once, on umbra-h1, on its own disk" \
    [ "$(where $A)" = "umbra-h1 running" ] && [ "$(disk_of $A umbra-h1)" = "$disk_a0" ]
it_log "PASS"
