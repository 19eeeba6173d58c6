#!/bin/bash
# umbrad sees the domains of every lab host, in the right host and cell,
# agreeing with what each host's own libvirtd says (virsh, test-only).
. "$(dirname "$0")/lib.sh"
require_lab

guest_up it-fleet-1 umbra-h1
guest_up it-fleet-2 umbra-h2
guest_up it-fleet-3 umbra-h3
umbrad_start 1

jwait 20 "every lab host connected" \
    '(.hosts | length) >= 3 and all(.hosts[]; .state == "connected")' hosts
jwait 20 "all three guests listed" \
    '[.domains[] | select(.name | startswith("it-fleet-"))] | length == 3' list

for n in 1 2 3; do
    h=umbra-h$n
    # Ground truth from the host itself.
    want=$(lab virsh "$h" list --name | sed '/^$/d' | sort)
    got=$(domains_on "$h")
    check "umbra lists on $h exactly what its libvirtd runs ($want)" \
        [ "$want" = "$got" ]
    uuid=$(lab virsh "$h" domuuid "it-fleet-$n" | sed '/^$/d')
    jcheck "it-fleet-$n has libvirt's UUID $uuid" ".domain.uuid == \"$uuid\"" \
        domstats "it-fleet-$n"
done
jcheck "cells of the guests are a, a, b" \
    '[.domains[] | select(.name | startswith("it-fleet-")) | .cell] ==
     ["a", "a", "b"]' list
jcheck "cells command shows cell a with 2 hosts, b with the rest" \
    '[.cells[] | .name] == ["a", "b"] and .cells[0].hosts ==
     ["umbra-h1", "umbra-h2"] and (.cells[1].hosts | index("umbra-h3")) != null' \
    cells

# Rates appear after two samples; memory is reported.
jwait 10 "CPU % known for it-fleet-1" '.domain.cpu_pct != null' \
    domstats it-fleet-1
jcheck "memory used and allocated are reported" \
    '.domain.mem_max_kib >= 100000 and .domain.mem_used_kib > 0' \
    domstats it-fleet-1
jcheck "host CPU and memory are reported" \
    'all(.hosts[]; .ncpus > 0 and .mem_total_kib > 0 and .cpu_pct != null)' \
    hosts

# The text views an operator reads.
ctl list | tee "$IT_DIR/list.txt"
check "text list shows it-fleet-3 on umbra-h3" \
    grep -q "it-fleet-3.*umbra-h3" "$IT_DIR/list.txt"
ctl hosts
ctl top --iterations 1 >"$IT_DIR/top.txt"
check "top shows the guests" grep -q it-fleet-2 "$IT_DIR/top.txt"
it_log "PASS"
