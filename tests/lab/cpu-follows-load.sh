#!/bin/bash
#
# cpu-follows-load.sh - check that a lab guest's CPU follows a replayed trace.
#
# Replays a Bitbrains CPU trace with umbra-loadgen against a guest's
# /cgi-bin/work while sampling `virsh domstats --cpu-total` (cpu.time)
# every 2 s, then prints the Pearson correlation between the guest CPU
# share of each 2 s interval and the requests sent in it. Fails when the
# correlation is below MIN_CORR.
#
# Needs a running lab (tests/lab/lab.sh up). Defines and starts the guest
# GUEST on HOST if it does not exist (and removes it afterwards).
#
# Environment (defaults): GUEST=cfl HOST=umbra-h1
#   TRACE=/work/shared/data/bitbrains_rnd/2013-8/194.csv COLUMN='CPU usage [%]'
#   START_ROW=3780 STEP=2 DURATION=120 MAX_RPS=25 CPU_MS=20 MEM_KB=1024
#   CONCURRENCY=8 MIN_CORR=0.8 OUTDIR=(temporary) LOADGEN=(build or gcc)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
lab=$here/lab.sh

GUEST=${GUEST:-cfl}
HOST=${HOST:-umbra-h1}
TRACE=${TRACE:-/work/shared/data/bitbrains_rnd/2013-8/194.csv}
COLUMN=${COLUMN:-CPU usage [%]}
START_ROW=${START_ROW:-3780}
STEP=${STEP:-2}
DURATION=${DURATION:-120}
MAX_RPS=${MAX_RPS:-25}
CPU_MS=${CPU_MS:-20}
MEM_KB=${MEM_KB:-1024}
CONCURRENCY=${CONCURRENCY:-8}
MIN_CORR=${MIN_CORR:-0.8}
SAMPLE_S=2

die() {
    echo "cpu-follows-load: error: $*" >&2
    exit 1
}

find_loadgen() {
    local b
    if [ -n "${LOADGEN:-}" ]; then
        [ -x "$LOADGEN" ] || die "LOADGEN=$LOADGEN is not executable"
        echo "$LOADGEN"
        return 0
    fi
    for b in "$repo"/build*/tests/lab/umbra-loadgen; do
        if [ -x "$b" ] && [ "$b" -nt "$here/loadgen.c" ]; then
            echo "$b"
            return 0
        fi
    done
    b=$outdir/umbra-loadgen
    # shellcheck disable=SC2046 # pkg-config prints several flags
    gcc -std=gnu11 -O2 -o "$b" "$here/loadgen.c" \
        $(pkg-config --cflags --libs glib-2.0) ||
        die "cannot build umbra-loadgen (apt-get install gcc libglib2.0-dev pkg-config)"
    echo "$b"
}

# Samples cpu.time of the guest every SAMPLE_S seconds: "t_unix cpu_ns".
sampler() {
    local uri=$1 next now t v
    next=${EPOCHREALTIME/./}
    while :; do
        v=$(virsh -c "$uri" domstats "$GUEST" --cpu-total 2>/dev/null |
            sed -n 's/^ *cpu.time=//p')
        t=$EPOCHREALTIME
        [ -z "$v" ] || echo "$t $v"
        next=$((next + SAMPLE_S * 1000000))
        now=${EPOCHREALTIME/./}
        if [ "$next" -gt "$now" ]; then
            t=$((next - now))
            sleep "$((t / 1000000)).$(printf '%06d' $((t % 1000000)))"
        fi
    done
}

main() {
    local created=0 uri loadgen spid corr ip rc=0
    outdir=${OUTDIR:-$(mktemp -d /tmp/umbra-cfl.XXXXXX)}
    mkdir -p "$outdir"
    [ -r "$TRACE" ] || die "cannot read $TRACE"
    bash "$lab" status >/dev/null || die "the lab is not up (tests/lab/lab.sh up)"
    loadgen=$(find_loadgen)
    if ! bash "$lab" guest-ip "$GUEST" >/dev/null 2>&1; then
        bash "$lab" guest-define "$GUEST" "$HOST" --wait >/dev/null
        created=1
    fi
    ip=$(bash "$lab" guest-ip "$GUEST")
    uri=$(bash "$lab" uri "$(bash "$lab" guest-host "$GUEST")")

    sampler "$uri" >"$outdir/cpu.txt" &
    spid=$!
    sleep "$SAMPLE_S"
    "$loadgen" --quiet --url "http://$ip/cgi-bin/work?cpu_ms=$CPU_MS&mem_kb=$MEM_KB" \
        --trace "$TRACE" --column "$COLUMN" --start-row "$START_ROW" \
        --step-seconds "$STEP" --max-rps "$MAX_RPS" --duration "$DURATION" \
        --concurrency "$CONCURRENCY" --timeout-ms 2000 \
        --out "$outdir/requests.csv" | tee "$outdir/loadgen.txt"
    sleep "$SAMPLE_S"
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true

    # Per sampling interval: guest CPU share and requests sent, then Pearson.
    corr=$(awk '
        FNR == 1 { file++ }
        file == 1 { t[n] = $1; c[n] = $2; n++; next }
        file == 2 && FNR > 1 { split($0, f, ","); req[nr++] = f[1] }
        END {
            for (i = 1; i < n; i++) {
                cnt = 0
                for (j = 0; j < nr; j++)
                    if (req[j] >= t[i-1] && req[j] < t[i]) cnt++
                if (cnt == 0 && (t[i] < req[0] || t[i-1] > req[nr-1])) continue
                x[m] = cnt / (t[i] - t[i-1])
                y[m] = (c[i] - c[i-1]) / 1e9 / (t[i] - t[i-1]) * 100
                printf "%.1f rps %.1f cpu%%\n", x[m], y[m] > "/dev/stderr"
                m++
            }
            for (i = 0; i < m; i++) { sx += x[i]; sy += y[i] }
            mx = sx / m; my = sy / m
            for (i = 0; i < m; i++) {
                sxy += (x[i]-mx)*(y[i]-my); sxx += (x[i]-mx)^2; syy += (y[i]-my)^2
            }
            if (sxx == 0 || syy == 0) { print "nan"; exit }
            printf "%.3f %d\n", sxy / sqrt(sxx * syy), m
        }' "$outdir/cpu.txt" "$outdir/requests.csv" 2>"$outdir/intervals.txt")
    echo "cpu-follows-load: intervals in $outdir/intervals.txt"
    echo "cpu-follows-load: pearson=${corr% *} intervals=${corr#* } (min $MIN_CORR)"
    if [ "$created" = 1 ]; then
        bash "$lab" guest-undefine "$GUEST" >/dev/null 2>&1 || true
    fi
    if ! awk -v c="${corr% *}" -v m="$MIN_CORR" 'BEGIN { exit !(c + 0 >= m + 0 && c != "nan") }'; then
        rc=1
        echo "cpu-follows-load: FAILED" >&2
    fi
    return "$rc"
}

main "$@"
