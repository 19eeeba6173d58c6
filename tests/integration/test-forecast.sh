#!/bin/bash
# umbractl forecast end to end: umbrad samples a domain (libvirt's
# test:/// driver: no lab needed, the forecasting itself is proven by the
# unit tests on a real store), keeps its history, fits forecasts on the
# one-minute grid once there are three minutes of it, and serves them.
# (The test driver reports block and network rates but no memory or CPU
# time: those metrics stay pending, which the checks allow.)
. "$(dirname "$0")/lib.sh"

conf=$IT_DIR/f.conf
sock=$IT_DIR/f.sock
cat >"$conf" <<EOC
[umbrad]
interval = 2
store = $IT_DIR/f.db
socket = $sock
hook_socket = $IT_DIR/hook.sock
spool_dir = $IT_DIR/spool
forecast_refit = 1m
[host:t]
uri = test:///default
EOC
"$UMBRAD" -f "$conf" -d -p "$IT_DIR/f.pid" -l "$IT_DIR/umbrad.log" ||
    it_fail "umbrad did not start"
# shellcheck disable=SC2034 # lib.sh stops it on exit
UMBRAD_PID=$(cat "$IT_DIR/f.pid")
fc() {
    "$UMBRACTL" -c "$sock" "$@"
}
fcj() {
    fc --json "$@"
}

wait_for 15 "the test domain sampled" fc domstats test
out=$(fc forecast test)
it_log "before any history: $out"
check "no forecast before there is history, and it says so" \
    grep -q "no forecast yet" <<<"$out"
set +e
out=$(fc forecast no-such-dom 2>&1)
rc=$?
set -e
check "unknown domain: exit 1 ($out)" [ "$rc" -eq 1 ]
set +e
out=$(fc forecast test --horizon 2h 2>&1)
rc=$?
set -e
check "horizon beyond 1h refused ($out)" [ "$rc" -eq 2 ]

it_log "waiting for three minutes of history"
end=$(($(date +%s) + 300))
until fcj forecast test --metric blk_rd 2>/dev/null |
    jq -e '.forecasts | length == 1' >/dev/null; do
    [ "$(date +%s)" -lt "$end" ] || it_fail "no forecast after 5 minutes"
    sleep 10
done
fcj forecast test >"$IT_DIR/fc.json"
check "forecasts for every metric" \
    jq -e '(.forecasts | length) + (.pending | length) == 6 and
        (.forecasts | length) >= 1' "$IT_DIR/fc.json"
check "points at 5 min, 15 min and 1 h, ordered intervals" \
    jq -e 'all(.forecasts[]; [.points[].horizon_s] == [300, 900, 3600] and
        all(.points[]; .lo95 <= .lo80 and .lo80 <= .mean and
            .mean <= .hi80 and .hi80 <= .hi95))' "$IT_DIR/fc.json"
check "the method and the fit are reported" \
    jq -e 'all(.forecasts[]; (.method | length) > 0 and .fitted_at > 0 and
        .observations >= 3)' "$IT_DIR/fc.json"
fc forecast test --horizon 10m,30m | tee "$IT_DIR/fc.txt"
check "text view lists the horizons" grep -q "30m" "$IT_DIR/fc.txt"
it_log "PASS"
