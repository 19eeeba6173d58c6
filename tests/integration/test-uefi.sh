#!/bin/bash
# A UEFI guest keeps its variable store through a cutover (issue 5).  The
# guest sets a non-volatile EFI variable (as efibootmgr sets a boot
# entry); after umbra moves it, the variable is still there at run time
# and after a cold boot on its new host.  QEMU carries the firmware's
# flash with the guest's memory and writes it into the target's store;
# the shadow had a store of its own, another file, removed with it.
. "$(dirname "$0")/lib.sh"
require_lab
# The lab's packages include ovmf (tests/lab/packages.txt): a machine
# without it was not set up, which must not pass as a skip.
[ -e /usr/share/OVMF/OVMF_VARS_4M.fd ] ||
    it_fail "no OVMF firmware: run tests/setup.sh (it installs ovmf)"

G=it-uefi
guest_up $G umbra-h1 --uefi
ip=$(guest_ip $G)
val=$(($(date +%s) % 1000000))

# efivar: what the guest reads from its variable store.
efivar() {
    curl -s -m 10 "http://$ip/cgi-bin/efivar?op=get"
}
# store_written: $target's copy of $nv differs from the template (cmp
# exits 1; 2 is trouble, such as no file).
store_written() {
    local rc=0
    lab exec "$target" cmp -s "$nv" /usr/share/OVMF/OVMF_VARS_4M.fd || rc=$?
    [ "$rc" -eq 1 ]
}
# different A B: two non-empty, different strings.
different() {
    [ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]
}
# shadow_gone: $target lists its domains, and the shadow is not among them.
shadow_gone() {
    local names
    names=$(vshq "$target" list --all --name) && [ -n "$names" ] &&
        ! grep -qxF "$G~shadow" <<<"$names"
}
# nvram_of DOMAIN HOST: the file of its variable store.
nvram_of() {
    vshq "$2" dumpxml "$1" | sed -n 's|.*<nvram[^>]*>\(.*\)</nvram>.*|\1|p'
}

check "the guest booted through UEFI and set a variable" \
    curl -sf -m 10 "http://$ip/cgi-bin/efivar?op=set&val=$val"
check "... which it reads back" [ "$(efivar)" = "val=$val" ]
nv=$(nvram_of $G umbra-h1)
check "$G has a variable store ($nv)" [ -n "$nv" ]

umbrad_start 1 "shadow_auto = off" "shadow_warm_boot = 3s"
jwait 30 "$G listed" '[.domains[] | select(.name == "'$G'")] | length == 1' list
ctl shadow-create $G --wait 180 >/dev/null || it_fail "shadow-create $G"
target=$(jctl shadow-info $G | jq -r .host)
snv=$(nvram_of "$G~shadow" "$target")
it_log "shadow on $target, its store: $snv"
check "the shadow has a store of its own" different "$snv" "$nv"

ctl cutover $G --wait 180 >"$IT_DIR/cutover.txt" ||
    it_fail "cutover failed: $(cat "$IT_DIR/cutover.txt")"
it_log "$(cat "$IT_DIR/cutover.txt")"
check "$G runs on $target, once" [ "$(where $G)" = "$target running" ]
check "its store there is the same file path ($nv)" \
    [ "$(nvram_of $G "$target")" = "$nv" ]
check "the variable is still set, at run time" [ "$(efivar)" = "val=$val" ]
check "the target's store is not the firmware's template" store_written
wait_for 60 "the shadow removed from $target" shadow_gone
check "the shadow's store went with it" lab exec "$target" test ! -e "$snv"

# A cold boot on the new host: the firmware reads the store from the file.
vshq "$target" destroy $G >/dev/null || it_fail "destroy $G on $target"
vshq "$target" start $G >/dev/null || it_fail "start $G on $target"
lab guest-wait $G 120 >/dev/null || it_fail "$G did not boot again on $target"
check "the variable is still set after a cold boot on $target" \
    [ "$(efivar)" = "val=$val" ]
it_log "PASS"
