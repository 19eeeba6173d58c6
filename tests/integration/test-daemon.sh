#!/bin/bash
# umbrad as a daemon (-d): it returns once it serves, writes its pid file,
# stops on SIGTERM (removing pid file and sockets), and reports start-up
# failures on the terminal with its exit status, as an operator runs it.
# Uses libvirt's test:/// driver: no lab needed.
. "$(dirname "$0")/lib.sh"

conf=$IT_DIR/d.conf
sock=$IT_DIR/d.sock
cat >"$conf" <<EOC
[umbrad]
interval = 1
store = $IT_DIR/d.db
socket = $sock
hook_socket = $IT_DIR/hook.sock
spool_dir = $IT_DIR/spool
[host:t]
uri = test:///default
EOC
"$UMBRAD" -f "$conf" -d -p "$IT_DIR/d.pid" -l "$IT_DIR/d.log"
rc=$?
check "umbrad -d returns 0 once serving" [ "$rc" -eq 0 ]
check "pid file written" test -s "$IT_DIR/d.pid"
pid=$(cat "$IT_DIR/d.pid")
check "the daemon runs" kill -0 "$pid"
check "it answers at once" "$UMBRACTL" -c "$sock" version
wait_for 10 "it samples the test driver's domain" \
    "$UMBRACTL" -c "$sock" domstats test

set +e
out=$("$UMBRAD" -f "$conf" -d -p "$IT_DIR/d2.pid" 2>&1)
rc=$?
set -e
check "a second umbrad -d fails with exit 2 ($out)" [ "$rc" -eq 2 ]
check "and says why on the terminal" grep -q "in use" <<<"$out"
check "the first one is unharmed" "$UMBRACTL" -c "$sock" version

kill -TERM "$pid"
for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
done
check "SIGTERM stops the daemon" sh -c "! kill -0 $pid 2>/dev/null"
check "pid file removed" test ! -e "$IT_DIR/d.pid"
check "RPC socket removed" test ! -e "$sock"
check "log says it stopped" grep -q "umbrad stopped" "$IT_DIR/d.log"

# A store that cannot be opened: exit 2, message on the terminal.
printf 'not sqlite at all, just text that is long enough to matter\n%.0s' \
    $(seq 1 100) >"$IT_DIR/bad.db"
sed -i "s|^store = .*|store = $IT_DIR/bad.db|" "$conf"
set +e
out=$("$UMBRAD" -f "$conf" -d 2>&1)
rc=$?
set -e
check "unusable store: exit 2 ($out)" [ "$rc" -eq 2 ]
check "unusable store: message names it" grep -q "bad.db" <<<"$out"
it_log "PASS"
