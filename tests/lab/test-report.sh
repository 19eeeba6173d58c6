#!/bin/bash
# tests/lab/test-report.sh REPORT: umbra-lab-report's overload and lead,
# on a scenario directory made up here (no lab, no root).
#
# Two policies play the same load: web1 (the primary) at 0.5 CPU, batch1
# ramping from 0.1 CPU at +100 s by 0.01 CPU/s, so that the two reach
# 95 % of the one-CPU host at +135 s (the sample at +136 s; one every 2 s).
#   predictive: umbra stages a shadow of web1 from +60 s to +70 s and
#     migrates it from +80 s to +84 s; while it does, QEMU's copy and
#     migration work makes web1 read 0.95 CPU. Those samples are not the
#     workload's demand and must not count as the overload; its own
#     overload is then at +136 s.
#   reactive: the same load, but batch1's samples read 0.1 CPU higher from
#     +120 s (noise of a real run), so its own overload is at +126 s, and
#     that is when the host would have overloaded for both policies.
set -eu
REPORT=${1:?usage: test-report.sh UMBRA-LAB-REPORT}
dir=$(mktemp -d "${TMPDIR:-/tmp}/umbra-test-report.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
t0=1800000000
fails=0

check() {
    local what=$1
    shift
    if "$@" >/dev/null; then
        echo "ok: $what"
    else
        echo "FAIL: $what"
        fails=$((fails + 1))
    fi
}

cat >"$dir/scenario.json" <<EOF
{"title": "report test", "trace": "synthetic", "primary": "web1",
 "neighbour": "batch1", "vcpus": {"web1": 1, "batch1": 1},
 "host": "h1", "host_cpus": 1, "slo_p99_ms": 1000, "slo_window_s": 10,
 "policies": ["predictive", "reactive"],
 "rules": {"predictive": "p", "reactive": "r"}}
EOF

# domstats NAME POLICY: a umbractl --json domstats NAME --history document,
# a sample every 2 s over 0..200 s.
domstats() {
    local name=$1 policy=$2
    awk -v t0=$t0 -v name="$name" -v policy="$policy" 'BEGIN {
        printf "{\"domain\": {\"name\": \"%s\"}, \"history\": [", name
        for (t = 0; t <= 200; t += 2) {
            if (name == "web1") {
                v = 0.5
                if (policy == "predictive" &&
                    ((t >= 60 && t <= 72) || (t >= 80 && t <= 86)))
                    v = 0.95
            } else {
                v = 0.1 + (t > 100 ? (t - 100) * 0.01 : 0)
                if (policy == "reactive" && t >= 120)
                    v += 0.1
            }
            printf "%s{\"time\": %.0f, \"host\": \"h1\", \"cpu_pct\": %.3f}",
                (t ? ", " : ""), (t0 + t) * 1000000, v * 100
        }
        print "]}"
    }'
}

for policy in predictive reactive; do
    mkdir "$dir/$policy"
    printf '{"policy": "%s", "t0": %d, "duration_s": 200, "ramp_start_s": 50, "ramp_end_s": 150}\n' \
        "$policy" "$t0" >"$dir/$policy/meta.json"
    {
        echo "t_unix,t_rel,step,latency_ms,status,error"
        for t in $(seq 0 5 195); do
            echo "$((t0 + t)).0,$t.0,$t,20.0,200,"
        done
    } >"$dir/$policy/requests.csv"
    domstats web1 $policy >"$dir/$policy/domstats-web1.json"
    domstats batch1 $policy >"$dir/$policy/domstats-batch1.json"
done

us() { echo $(((t0 + $1) * 1000000)); }
cat >"$dir/predictive/shadow.json" <<EOF
{"domain": "web1", "state": "promoted", "origin": "risk",
 "cutover": {"from": "h1", "started": $(us 80), "total_ms": 4000,
             "downtime_ms": 300, "bytes_sent": 1000000},
 "journal": [
  {"time": $(us 60), "from": null, "to": "staging", "event": "create"},
  {"time": $(us 70), "from": "staging", "to": "warm", "event": "staged-warm"},
  {"time": $(us 80), "from": "warm", "to": "active", "event": "activate",
   "detail": "risk 0.90 within 15 min"},
  {"time": $(us 84), "from": "active", "to": "promoted",
   "event": "cutover-done"}]}
EOF

check "umbra-lab-report reads the directory" "$REPORT" "$dir"
S=$dir/summary.json
jq -c '.policies[] | {own_overload_s, would_overload_s, lead_seconds}' "$S" || true
check "predictive: the staging's and the migration's samples are not its overload" \
    jq -e '.policies.predictive.own_overload_s == 136' "$S"
check "reactive: its own overload" \
    jq -e '.policies.reactive.own_overload_s == 126' "$S"
check "both: the host would overload at the earlier run's" \
    jq -e '[.policies[].would_overload_s] == [126, 126]' "$S"
check "predictive: the lead runs from the cutover's start" \
    jq -e '.policies.predictive.lead_seconds == 46' "$S"

# One run alone: its own overload is the one there is.
rm -r "$dir/reactive"
sed -i 's/"policies": \["predictive", "reactive"\]/"policies": ["predictive"]/' \
    "$dir/scenario.json"
check "one policy: umbra-lab-report reads the directory" "$REPORT" "$dir"
check "one policy: the host would overload at its own overload" \
    jq -e '.policies.predictive | .would_overload_s == 136 and .lead_seconds == 56' "$S"

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "PASS"
