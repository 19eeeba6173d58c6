#!/bin/bash
# A guest's CPU, as umbrad measures and stores it, follows the load sent to
# it: a real Bitbrains VM's CPU curve replayed as a request rate against
# the guest's /cgi-bin/work correlates with the per-step guest CPU % in
# umbra's history (Pearson r >= MIN_CORR, default 0.8).
. "$(dirname "$0")/lib.sh"
require_lab

TRACE=${TRACE:-$DATA/bitbrains_rnd/2013-8/194.csv}
START_ROW=${START_ROW:-3780}
STEP=${STEP:-2}
ROWS=${ROWS:-50}
MAX_RPS=${MAX_RPS:-25}
MIN_CORR=${MIN_CORR:-0.8}
[ -f "$TRACE" ] || it_skip "trace $TRACE not found (../shared/data absent)"
[ -x "$LOADGEN" ] || it_fail "umbra-loadgen not built at $LOADGEN"

G=it-load
guest_up $G umbra-h1
ip=$(guest_ip $G)
umbrad_start 1
jwait 20 "$G sampled" '.domain.cpu_pct != null' domstats $G

it_log "replaying rows $START_ROW.. of $(basename "$TRACE") at ${STEP}s/row"
"$LOADGEN" --url "http://$ip/cgi-bin/work?cpu_ms=20&mem_kb=1024" \
    --trace "$TRACE" --column 'CPU usage [%]' --start-row "$START_ROW" \
    --rows "$ROWS" --step-seconds "$STEP" --max-rps "$MAX_RPS" \
    --duration $((ROWS * STEP)) --concurrency 8 --timeout-ms 3000 \
    --out "$IT_DIR/requests.csv" -q | tail -n 3
sleep 2

# Step start: any request's t_unix - t_rel.
t_start=$(awk -F, 'NR == 2 { printf "%.6f", $1 - $2 }' "$IT_DIR/requests.csv")
# Trace values of the replayed rows (column 5, header skipped).
awk -F';\t' -v s="$START_ROW" -v n="$ROWS" \
    'NR > 1 && NR - 2 >= s && NR - 2 < s + n { print NR - 2 - s, $5 }' \
    "$TRACE" >"$IT_DIR/trace.txt"
# umbra's per-second CPU %, each sample covering the second before it.
jctl domstats $G --history 600 --max-points 100000 |
    jq -r '.history[] | select(.cpu_pct != null) |
        "\(.time / 1000000 - 0.5) \(.cpu_pct)"' >"$IT_DIR/cpu.txt"
# Mean CPU per step, then Pearson r against the trace.
awk -v t0="$t_start" -v step="$STEP" -v n="$ROWS" '
    FNR == NR { tr[$1] = $2; next }
    { k = int(($1 - t0) / step); if ($1 >= t0 && k < n) { s[k] += $2; c[k]++ } }
    END {
        for (k = 0; k < n; k++) {
            if (!c[k]) continue
            x = tr[k]; y = s[k] / c[k]; m++
            sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y
            printf "step %2d trace %6.2f umbra-cpu %6.2f\n", k, x, y > "/dev/stderr"
        }
        r = (m * sxy - sx * sy) / sqrt((m * sxx - sx * sx) * (m * syy - sy * sy))
        printf "%d %.3f\n", m, r
    }' "$IT_DIR/trace.txt" "$IT_DIR/cpu.txt" 2>"$IT_DIR/steps.txt" \
    >"$IT_DIR/corr.txt"
read -r nsteps r <"$IT_DIR/corr.txt"
tail -n 8 "$IT_DIR/steps.txt"
it_log "Pearson r = $r over $nsteps steps (threshold $MIN_CORR)"
check "enough steps measured ($nsteps of $ROWS)" [ "$nsteps" -ge $((ROWS - 2)) ]
check "guest CPU in umbra follows the trace (r = $r >= $MIN_CORR)" \
    awk -v r="$r" -v m="$MIN_CORR" 'BEGIN { exit !(r >= m) }'
it_log "PASS"
