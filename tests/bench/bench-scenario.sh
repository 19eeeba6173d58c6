#!/bin/bash
# tests/bench/bench-scenario.sh: the demo's SLO table (issue 5): the main
# job's scenario (tests/lab/scenario.sh) played with umbra's predictive
# policy and with the reactive rule (host above 90 % CPU for 30 s), same
# machine, same run, and the comparison printed as one table with the
# target: zero SLO-violation seconds for predictive. Asserts nothing.
#
# Needs the lab up (tests/lab/lab.sh up), a build in ./build, no umbrad
# running. Environment: SECONDS_PER_POLICY (default 480), OUT (default
# /var/lib/umbra-lab/bench-scenario), UMBRA_BUILD.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${OUT:-/var/lib/umbra-lab/bench-scenario}
secs=${SECONDS_PER_POLICY:-480}

bash "$repo/tests/lab/scenario.sh" --out "$out" --seconds "$secs" >"$out.log" 2>&1 || {
    tail -n 30 "$out.log"
    echo "bench-scenario: the scenario failed (log: $out.log)" >&2
    exit 1
}
s=$out/summary.json
echo "umbra main-job scenario, $secs s per policy; SLO: p99 <= $(jq .scenario.slo_p99_ms "$s") ms" \
    "per $(jq .scenario.slo_window_s "$s") s window"
jq -r '
    def n: if . == null then "-" else (. * 10 | round / 10 | tostring) end;
    def ratio(a; b): if a == null or b == null then "-"
        elif a == 0 and b == 0 then "="
        elif a == 0 then "0 vs \(b | n)"
        else (b / a * 10 | round / 10 | tostring) + "x" end;
    .policies as $p |
    ["metric", "predictive", "reactive", "reactive/predictive"],
    ["SLO violation (s)", ($p.predictive.slo_violation_seconds | n),
        ($p.reactive.slo_violation_seconds | n),
        ratio($p.predictive.slo_violation_seconds; $p.reactive.slo_violation_seconds)],
    ["failed requests", ($p.predictive.failed_requests | n),
        ($p.reactive.failed_requests | n),
        ratio($p.predictive.failed_requests; $p.reactive.failed_requests)],
    ["p99 latency, whole run (ms)", ($p.predictive.p99_ms | n), ($p.reactive.p99_ms | n),
        ratio($p.predictive.p99_ms; $p.reactive.p99_ms)],
    ["migrations", ($p.predictive.migrations | n), ($p.reactive.migrations | n), ""],
    ["cutover bytes sent (MiB)", ($p.predictive.cutover.bytes_sent / 1048576 | n),
        ($p.reactive.cutover.bytes_sent / 1048576 | n), ""],
    ["cutover total (s)", ($p.predictive.cutover.total_seconds | n),
        ($p.reactive.cutover.total_seconds | n), ""],
    ["downtime (ms)", ($p.predictive.cutover.downtime_ms | n),
        ($p.reactive.cutover.downtime_ms | n), ""],
    ["moved, s before overload", ($p.predictive.lead_seconds | n),
        ($p.reactive.lead_seconds | n), ""]
    | @tsv' "$s" | awk -F'\t' '{ printf "%-30s %-12s %-12s %s\n", $1, $2, $3, $4 }'
pv=$(jq .policies.predictive.slo_violation_seconds "$s")
echo "target: predictive SLO violation = 0 s: $([ "$pv" = 0 ] && echo PASS || echo "MISS ($pv s)")"
echo "report: $out/report.html"
