#!/bin/bash
# Bad input gets a clear error and loses nothing: malformed configs,
# umbractl with no daemon, unknown domains/hosts/cells, an unreachable
# host next to good ones, malformed RPC, and a full disk under the store.
. "$(dirname "$0")/lib.sh"
require_lab

# --- malformed configuration: exit 1, message names file, line and key.
bad=$IT_DIR/bad.conf
printf '[umbrad]\ninterval = 0\n[host:x]\nuri = qemu:///system\n' >"$bad"
set +e
out=$("$UMBRAD" -f "$bad" 2>&1)
rc=$?
set -e
it_log "umbrad said: $out"
check "malformed config: exit 1" [ "$rc" -eq 1 ]
check "malformed config: message names file:line and key" \
    grep -q "$bad:2: key 'interval'" <<<"$out"
printf '[umbrad]\ninterval = 5\n' >"$bad"
set +e
out=$("$UMBRAD" -f "$bad" --check-config 2>&1)
rc=$?
set -e
check "config without hosts rejected ($out)" [ "$rc" -eq 1 ]
set +e
out=$("$UMBRAD" -f /nonexistent.conf 2>&1)
rc=$?
set -e
check "missing config: exit 1 ($out)" [ "$rc" -eq 1 ]
check "missing config: message names the file" \
    grep -q /nonexistent.conf <<<"$out"

# --- no daemon.
set +e
out=$("$UMBRACTL" -c "$IT_DIR/none.sock" list 2>&1)
rc=$?
set -e
check "umbractl without daemon: non-zero exit ($rc)" [ "$rc" -ne 0 ]
check "umbractl without daemon: says so ($out)" \
    grep -qi "umbrad" <<<"$out"

# --- an unreachable host next to good ones (closed port on loopback).
guest_up it-bad-1 umbra-h1
umbrad_start 1
umbrad_stop
cat >>"$IT_DIR/umbra.conf" <<EOC

[host:ghost]
uri = qemu+tcp://127.0.0.1:1/system
cell = c
EOC
"$UMBRAD" -f "$IT_DIR/umbra.conf" --log-file "$IT_DIR/umbrad.log" &
UMBRAD_PID=$!
wait_for 15 "umbrad up" ctl version
jwait 15 "ghost host in backoff with an error" \
    '.hosts[] | select(.name == "ghost") |
     .state != "connected" and (.last_error | test("127.0.0.1:1"))' hosts
jwait 15 "good host unaffected" \
    '.hosts[] | select(.name == "umbra-h1") | .state == "connected"' hosts
jwait 15 "its guest listed" '.domain.host == "umbra-h1"' domstats it-bad-1

# --- unknown names: error, exit 1, the name in the message.
for args in "domstats no-such-dom" "list --host no-such-host" \
            "list --cell no-such-cell" "events --domain no-such-dom"; do
    set +e
    # shellcheck disable=SC2086
    out=$(ctl $args 2>&1)
    rc=$?
    set -e
    check "umbractl $args: exit 1 ($out)" [ "$rc" -eq 1 ]
    check "umbractl $args: the message names what is unknown" \
        grep -q "no-such" <<<"$out"
done

# --- malformed RPC: an error reply each time, daemon unharmed.
for req in 'garbage' '{"version":2,"method":"list"}' '{"version":1}' \
           '{"version":1,"method":"domstats","params":{"domain":7}}' \
           '{"version":1,"method":"nope"}' '[1,2,3]'; do
    reply=$(printf '%s\n' "$req" | timeout 5 socat - "UNIX-CONNECT:$SOCK" ||
        true)
    check "RPC '$req' gets an error reply ($reply)" \
        jq -e '.error.code != null' <<<"$reply" >/dev/null
done
huge=$(head -c 200000 /dev/zero | tr '\0' 'x')
reply=$(printf '%s\n' "$huge" | timeout 5 socat - "UNIX-CONNECT:$SOCK" || true)
check "oversized request refused with too-large" \
    jq -e '.error.code == "too-large"' <<<"$reply" >/dev/null
check "daemon still answers after malformed requests" ctl version
umbrad_stop

# --- full disk under the store: nothing lost, nothing crashes.
mnt=$IT_DIR/small
mkdir -p "$mnt"
mount -t tmpfs -o size=4m umbra-it-small "$mnt"
# umbrad first (it holds the mount), then the mount, then the rest of the
# cleanup (which removes the directory the mount was on); never let a
# failing umount end the trap early (set -e applies in traps).
trap 'rc=$?; set +e; umbrad_stop; umount "$mnt" 2>/dev/null; (exit $rc)
      it_cleanup' EXIT
IT_STORE=$mnt/umbra.db umbrad_start 1
jwait 15 "samples flowing" '.daemon.samples_written > 2' version
# Fill the disk, and keep filling what umbrad frees (it truncates its WAL
# when a write finds the disk full) until writes stay refused.
for i in $(seq 1 60); do
    dd if=/dev/zero of="$mnt/filler.$i" bs=4k 2>/dev/null || true
    jq_ok '.daemon.samples_pending > 3' version && break
    sleep 0.5
done
jwait 5 "store full: samples kept pending in memory" \
    '.daemon.samples_pending > 3' version
check "umbrad alive with a full disk" kill -0 "$UMBRAD_PID"
check "RPC still works with a full disk" ctl list
pending=$(jctl version | jq .daemon.samples_pending)
written_full=$(jctl version | jq .daemon.samples_written)
rm -f "$mnt"/filler.*
# New samples keep arriving, so "pending" is rarely 0 at a given instant:
# what must happen is that the backlog gets written.
jwait 30 "pending samples written once space is back" \
    ".daemon.samples_written >= $written_full + $pending" version
jcheck "nothing dropped" '.daemon.samples_dropped == 0' version
written=$(jctl version | jq .daemon.samples_written)
umbrad_stop
stored=$(sqlite3 "$mnt/umbra.db" 'SELECT count(*) FROM dom_samples')
it_log "pending at peak $pending; written $written; in the store $stored"
check "every sample written is in the store ($stored >= $written)" \
    [ "$stored" -ge "$written" ]
it_log "PASS"
