#!/bin/bash
# tests/bench/bench-risk.sh: umbra's risk engine on labelled public data,
# against the published NAB results of Numenta HTM and ARTime on the same
# files, in one run on this machine (issue 4).  Prints one table and the
# targets, PASS or MISS; asserts nothing.
#
#   (a) NAB (../shared/data/nab, 13 files, 28 labelled windows):
#       umbra-risk-eval replays every file through the profiler and the
#       failure model and scores the alerts with NAB's standard profile,
#       at the product's default threshold (0.5) and at the best threshold
#       of a sweep over these files (--sweep).  Numenta HTM and ARTime are
#       NAB's published per-file raw scores (published/), normalised over
#       the same files.  NAB optimises each detector's threshold over its
#       whole corpus of 58 files; the sweep optimises umbra's over these
#       13 only, which favours umbra: both rows are shown.
#       The system-failure file (machine_temperature_system_failure): lead
#       of the first alert before the failure (its last labelled anomaly)
#       and false alarms per day.
#   (b) contention: the 6 busiest VMs of Bitbrains (CPU MHz) and of Azure
#       2017 (CPU %) packed on one simulated host whose capacity is the
#       0.97 quantile of their summed demand (overloaded ~3 % of the time);
#       forecasts every hour from 15 days of history, P(overload within
#       15 min) every 5 minutes (as umbrad: the empirical calibration of
#       the summed forecast once it has a day of history, the normal model
#       before), alert at 0.5; recall of the overload
#       episodes (>= 2 samples) predicted 5-60 min ahead, precision of the
#       alerts, median lead; and, from a sweep of the alert threshold, the
#       best recall at precision >= 0.8.  Beside it a naive reference with
#       no forecast (alert when the demand reaches f x capacity, f swept
#       0.80-1.00): how far the overloads announce themselves in the
#       demand alone.
#   (c) cost: CPU time (thread clock) of profiler update + risk predict
#       per sample, over every NAB row.
#
# Usage: bash tests/bench/bench-risk.sh
# Environment: UMBRA_BUILD (default ./build), UMBRA_DATA (default
# ../shared/data), CONTENTION_DAYS (evaluate at most this many days per
# trace; default all, about 13-15 days and 2 min each), BENCH_KEEP (keep
# the work directory with the JSON of every run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${UMBRA_BUILD:-$repo/build}
data=${UMBRA_DATA:-$(cd "$repo/.." && pwd)/shared/data}
eval_bin=$build/src/tools/umbra-risk-eval
days=${CONTENTION_DAYS:-0}
for a in "$@"; do
    case "$a" in
    -h | --help)
        sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "bench-risk: unknown argument $a (try --help)" >&2
        exit 2
        ;;
    esac
done
export LC_ALL=C

if [ ! -x "$eval_bin" ]; then
    echo "bench-risk: $eval_bin missing: build first (ninja -C $build)" >&2
    exit 1
fi
for d in "$data/nab" "$data/bitbrains_rnd/2013-8" "$data/azure_vm_cpu_2017"; do
    if [ ! -d "$d" ]; then
        echo "bench-risk: $d missing (set UMBRA_DATA)" >&2
        exit 1
    fi
done
if ! command -v jq >/dev/null; then
    echo "bench-risk: needs jq" >&2
    exit 1
fi

work=$(mktemp -d /tmp/umbra-bench-risk.XXXXXX)
if [ -n "${BENCH_KEEP:-}" ]; then
    echo "bench-risk: keeping $work" >&2
else
    trap 'rm -rf "$work"' EXIT
fi

note() {
    echo "bench-risk: $*" >&2
}

note "NAB replay (default threshold and sweep)"
"$eval_bin" --dir "$data/nab" --sweep --json >"$work/nab.json"
note "contention replay, Bitbrains"
"$eval_bin" --contention --dir "$data/bitbrains_rnd/2013-8" \
    --format bitbrains --days "$days" --sweep --json >"$work/bitbrains.json"
note "contention replay, Azure"
"$eval_bin" --contention --dir "$data/azure_vm_cpu_2017" --format azure \
    --file azure_vm_avg_cpu.csv --days "$days" --sweep --json \
    >"$work/azure.json"

nab=$work/nab.json

# j FILE FILTER: one value, "NA" for null.
j() {
    jq -r "($2) | if . == null then \"NA\" else tostring end" "$1"
}

# num VALUE DECIMALS: a number, or "-" for NA.
num() {
    awk -v v="$1" -v d="$2" 'BEGIN {
        if (v == "NA") { print "-" } else { printf "%.*f\n", d, v } }'
}

# ge A B / le A B: exit status of A >= B / A <= B (NA is false).
ge() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "NA" && a + 0 >= b + 0) }'
}
le() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "NA" && a + 0 <= b + 0) }'
}

thr=$(j "$nab" .threshold)
best=$(j "$nab" .sweep.threshold)
echo
echo "NAB: $(j "$nab" '.files | length') files, $(j "$nab" .total.windows)" \
    "windows, standard profile; raw scores per file"
printf '%-58s %9s %9s %9s %9s\n' file "umbra@$(num "$thr" 2)" \
    "umbra@$(num "$best" 4)" "HTM" "ARTime"
jq -r '[.files, .sweep.files] | transpose[] |
    [.[0].file, .[0].nab_raw, .[1].nab_raw, .[0].htm_raw, .[0].artime_raw]
    | map(if . == null then "NA" else tostring end) | @tsv' "$nab" |
    while IFS=$'\t' read -r f u b h a; do
        printf '%-58s %9s %9s %9s %9s\n' "$f" "$(num "$u" 3)" \
            "$(num "$b" 3)" "$(num "$h" 3)" "$(num "$a" 3)"
    done
u_score=$(j "$nab" .total.nab_score)
b_score=$(j "$nab" .sweep.nab_score)
h_score=$(j "$nab" .total.htm_score)
a_score=$(j "$nab" .total.artime_score)
printf '%-58s %9s %9s %9s %9s\n' "normalised NAB score" "$(num "$u_score" 1)" \
    "$(num "$b_score" 1)" "$(num "$h_score" 1)" "$(num "$a_score" 1)"
for w in total sweep; do
    printf '%-58s' "umbra@$(num "$(j "$nab" ".$w.threshold // $thr")" 4):"
    printf ' recall %s, precision %s, %s false alarms/day, median lead %s min\n' \
        "$(num "$(j "$nab" ".$w.recall")" 2)" \
        "$(num "$(j "$nab" ".$w.precision")" 2)" \
        "$(num "$(j "$nab" ".$w.false_alarms_per_day")" 2)" \
        "$(num "$(j "$nab" ".$w.median_lead_minutes")" 0)"
done
f_lead=$(j "$nab" .failure.lead_minutes)
f_fa=$(j "$nab" .failure.false_alarms_per_day)
fb_lead=$(j "$nab" .sweep.failure.lead_minutes)
fb_fa=$(j "$nab" .sweep.failure.false_alarms_per_day)
echo "system failure ($(j "$nab" .failure.files) file): lead before the" \
    "failure $(num "$f_lead" 0) min, $(num "$f_fa" 2) false alarms/day" \
    "at $(num "$thr" 2); $(num "$fb_lead" 0) min, $(num "$fb_fa" 2)/day" \
    "at $(num "$best" 4)"

echo
echo "contention: 6 busiest VMs on one host, capacity = q$(j \
    "$work/bitbrains.json" .capacity_quantile) of the summed demand," \
    "alert at P(15 min) >= $(j "$work/bitbrains.json" .threshold)," \
    "empirically calibrated on $(num "$(j "$work/bitbrains.json" \
        '.calibrated_share * 100')" 0) % (Bitbrains) and $(num "$(j \
        "$work/azure.json" '.calibrated_share * 100')" 0) % (Azure) of samples"
printf '%-10s %5s %8s %8s %6s %7s %9s %6s %6s %9s %10s\n' set days \
    overload episodes alerts recall precision lead late "fit ms" \
    "P us/host"
for s in bitbrains azure; do
    f=$work/$s.json
    printf '%-10s %5s %7s%% %8s %6s %7s %9s %6s %6s %9s %10s\n' "$s" \
        "$(num "$(j "$f" .days)" 1)" \
        "$(num "$(j "$f" '.overload_share * 100')" 1)" \
        "$(j "$f" .episodes)" "$(j "$f" .alerts)" \
        "$(num "$(j "$f" .recall)" 2)" "$(num "$(j "$f" .precision)" 2)" \
        "$(num "$(j "$f" .median_lead_minutes)" 0)" "$(j "$f" .alerts_late)" \
        "$(num "$(j "$f" .forecast_ms)" 1)" \
        "$(num "$(j "$f" .contention_us_per_sample)" 2)"
done

echo "threshold sweep (0.05 steps): the best recall at precision >= 0.8"
for s in bitbrains azure; do
    jq -r --arg s "$s" '[.sweep[] | select(.precision != null and
        .precision >= 0.8)] | max_by(.recall) // null |
        if . == null then "\($s)\tNA\tNA\tNA\tNA"
        else "\($s)\t\(.threshold)\t\(.recall)\t\(.precision)\t\(.median_lead_minutes // "NA")"
        end' "$work/$s.json"
done | while IFS=$'\t' read -r s t r p l; do
    echo "  $s: threshold $(num "$t" 2): recall $(num "$r" 2)," \
        "precision $(num "$p" 2), median lead $(num "$l" 0) min"
done

echo "naive reference, no forecast: alert when the demand reaches f x" \
    "capacity (f 0.80-1.00 in 0.01 steps)"
for s in bitbrains azure; do
    jq -r --arg s "$s" '(.naive_sweep | max_by(.recall)) as $top |
        ([.naive_sweep[] | select(.precision != null and
            .precision >= 0.8)] | max_by(.recall) // null) as $best |
        "\($s)\t\($top.fraction)\t\($top.recall // "NA")\t\($top.precision // "NA")\t\(
            if $best == null then "NA\tNA\tNA"
            else "\($best.fraction)\t\($best.recall)\t\($best.precision)" end)"' \
        "$work/$s.json"
done | while IFS=$'\t' read -r s f r p bf br bp; do
    if [ "$bf" = NA ]; then
        nbest="no f reaches precision 0.8"
    else
        nbest="best recall at precision >= 0.8: $(num "$br" 2) at f $(num "$bf" 2) (precision $(num "$bp" 2))"
    fi
    echo "  $s: highest recall $(num "$r" 2) at f $(num "$f" 2)" \
        "(precision $(num "$p" 2)); $nbest"
done

cost=$(j "$nab" .total.us_per_sample)
echo
echo "cost: profiler + risk update $(num "$cost" 2) us per sample (thread" \
    "CPU, $(jq '[.files[].rows] | add' "$nab") NAB samples)"

# target NAME VALUE OK: one line of the targets table.
target() {
    printf '%-72s %10s  %s\n' "$1" "$2" "$(if [ "$3" = 1 ]; then
        echo PASS
    else
        echo MISS
    fi)"
}
beats() {
    if ge "$1" "$h_score" && ge "$1" "$a_score" &&
        ! ge "$h_score" "$1" && ! ge "$a_score" "$1"; then
        echo 1
    else
        echo 0
    fi
}
failure_ok() {
    if ge "$1" 30 && le "$2" 1; then echo 1; else echo 0; fi
}
contention_ok() {
    if ge "$(j "$1" .recall)" 0.8 && ge "$(j "$1" .precision)" 0.8; then
        echo 1
    else
        echo 0
    fi
}

echo
echo "targets"
target "NAB score above HTM $(num "$h_score" 1) and ARTime $(num "$a_score" 1), threshold $(num "$thr" 2)" \
    "$(num "$u_score" 1)" "$(beats "$u_score")"
target "  same, best threshold $(num "$best" 4) (optimised on these files)" \
    "$(num "$b_score" 1)" "$(beats "$b_score")"
target "failure: alert >= 30 min ahead, <= 1 false alarm/day, $(num "$thr" 2)" \
    "$(num "$f_lead" 0)/$(num "$f_fa" 2)" "$(failure_ok "$f_lead" "$f_fa")"
target "  same, best threshold $(num "$best" 4)" \
    "$(num "$fb_lead" 0)/$(num "$fb_fa" 2)" "$(failure_ok "$fb_lead" "$fb_fa")"
for s in bitbrains azure; do
    f=$work/$s.json
    target "contention $s: >= 80 % predicted 5+ min ahead, precision >= 0.8" \
        "$(num "$(j "$f" .recall)" 2)/$(num "$(j "$f" .precision)" 2)" \
        "$(contention_ok "$f")"
done
target "cost: profiler + risk update < 50 us per domain per sample" \
    "$(num "$cost" 2)" "$(if [ "$cost" != NA ] && ! ge "$cost" 50; then
        echo 1
    else
        echo 0
    fi)"
