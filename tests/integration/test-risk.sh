#!/bin/bash
# The risk engine in umbrad, on a real lab guest: risk is computed for the
# domain, its host and its cell (contention against the host's real CPU
# count and memory); profiles follow every metric and are rebuilt from the
# store after a restart; an operator's incident is stored, announced and
# raises the domain's failure probability through the "incidents" feature;
# a shadow would be placed in the other cell, never on the domain's own
# host; bad requests get clear errors.  (Drift, calibration and learning are
# proven by the unit tests and umbra-risk-eval on real traces.)
. "$(dirname "$0")/lib.sh"
require_lab

G=it-risk
guest_up $G umbra-h1
umbrad_start 1 "risk_interval = 2s"
jwait 30 "$G sampled" '.domain.cpu_pct != null' domstats $G
jwait 30 "risk of $G computed" \
    '.domains[0].failure["1h"] != null' risk $G

jctl risk $G >"$IT_DIR/risk.json"
jcheck "probabilities in [0,1] for 5m <= 15m <= 1h" \
    '.domains[0].failure as $f | ($f["5m"] >= 0) and
        ($f["5m"] <= $f["15m"]) and ($f["15m"] <= $f["1h"]) and
        ($f["1h"] < 1)' risk $G
jcheck "drift in [0,1] and the metrics listed" \
    '.domains[0].drift >= 0 and .domains[0].drift <= 1 and
        (.domains[0].metrics | has("cpu") and has("mem"))' risk $G
jcheck "the domain is placed on its host and cell" \
    '.domains[0].host == "umbra-h1" and .domains[0].cell == "a"' risk $G
jcheck "host contention uses the host's real capacity" \
    '.hosts[0].host == "umbra-h1" and
        .hosts[0].contention.cpu.capacity >= 1 and
        .hosts[0].contention.cpu.unit == "CPUs" and
        .hosts[0].contention.mem.capacity > 1000000 and
        (.hosts[0].contention_p["1h"] >= 0)' risk --host umbra-h1
cap_a=$(jctl risk | jq '[.hosts[] | select(.host == "umbra-h1" or
    .host == "umbra-h2") | .contention.cpu.capacity] | add')
jcheck "cell a's capacity is its two hosts' ($cap_a CPUs), $G among them" \
    ".cells[0].cell == \"a\" and .cells[0].domains >= 1 and
        .cells[0].contention.cpu.capacity == $cap_a and
        any(.domains[]; .domain == \"$G\")" risk --cell a
jcheck "every host and cell in the fleet view" \
    '(.hosts | length) == 3 and (.cells | length) == 2' risk
ctl risk --host umbra-h1 | tee "$IT_DIR/risk.txt"
check "text view shows the domain and the threshold" \
    grep -q "Alert threshold" "$IT_DIR/risk.txt"
check "text view lists $G" grep -q "$G" "$IT_DIR/risk.txt"

jcheck "profile: six metrics with samples" \
    '(.metrics | length) == 6 and all(.metrics[]; .samples > 0)' profile $G
ctl profile $G | tee "$IT_DIR/profile.txt"
check "profile text lists cpu" grep -q "^ cpu" "$IT_DIR/profile.txt"

p0=$(jctl risk $G | jq '.domains[0].failure["1h"]')
ctl incident $G --kind outage --note "integration test" | tee "$IT_DIR/inc.txt"
check "incident recorded" grep -q "recorded" "$IT_DIR/inc.txt"
jcheck "incident event posted" \
    'any(.events[]; .type == "incident" and (.detail | test("outage")))' \
    events --domain $G
jwait 20 "incidents feature seen" \
    'any(.domains[0].reasons[]; .feature == "incidents" and .value > 0)' \
    risk $G
p1=$(jctl risk $G | jq '.domains[0].failure["1h"]')
it_log "P(failure within 1h): $p0 before the incident, $p1 after"
check "an incident raises the failure probability" \
    awk -v a="$p0" -v b="$p1" 'BEGIN { exit !(b > a) }'
jcheck "risk-model reports the prior model" \
    '.version >= 1 and (.weights | has("drift") and has("intercept")) and
        .threshold > 0' risk-model
ctl risk-model | tee "$IT_DIR/model.txt" >/dev/null
check "risk-model text" grep -q "Alert threshold" "$IT_DIR/model.txt"

# Where a shadow would go (issue 5's placement, a dry run): another cell,
# never the primary's own host, every host explained.
jcheck "placement: another cell, never the own host" \
    '.chosen == "umbra-h3" and (.candidates | length) == 3 and
        any(.candidates[]; .host == "umbra-h1" and (.eligible | not) and
            (.reason | test("own host"))) and
        all(.candidates[]; (.reason | length) > 0)' place $G
jcheck "placement with the cell required: still umbra-h3, h2 refused" \
    '.chosen == "umbra-h3" and any(.candidates[]; .host == "umbra-h2" and
        (.eligible | not) and (.reason | test("required")))' \
    place $G --cell-rule required
ctl place $G | tee "$IT_DIR/place.txt"
check "place text names the choice" grep -q "^Choice: umbra-h3" \
    "$IT_DIR/place.txt"
set +e
out=$(ctl place no-such-dom 2>&1)
rc=$?
set -e
check "place of an unknown domain: exit 1 ($out)" [ "$rc" -eq 1 ]

# Bad input: each a clear error, nothing half done.
set +e
out=$(ctl risk no-such-dom 2>&1)
rc=$?
set -e
check "unknown domain: exit 1 ($out)" [ "$rc" -eq 1 ]
check "unknown domain: says so" grep -q "no-such-dom" <<<"$out"
set +e
out=$(ctl risk --host no-such-host 2>&1)
rc=$?
set -e
check "unknown host: exit 1 ($out)" [ "$rc" -eq 1 ]
set +e
out=$(ctl risk $G --cell a 2>&1)
rc=$?
set -e
check "two subjects: usage error, exit 2 ($out)" [ "$rc" -eq 2 ]
set +e
out=$(ctl incident $G --kind "two words" 2>&1)
rc=$?
set -e
check "bad incident kind refused ($out)" [ "$rc" -ne 0 ]
set +e
out=$(ctl incident no-such-dom 2>&1)
rc=$?
set -e
check "incident of an unknown domain refused ($out)" [ "$rc" -eq 1 ]
jcheck "only the one incident stored" \
    '[.events[] | select(.type == "incident")] | length == 1' events \
    --domain $G

# Restart: the profiles come back from the store at once.  While umbrad
# is down, eight days of history go into its store before the guest's
# first sample, as an umbrad that had watched it that long would have
# stored them: a minute apart, 5 % CPU, and a 10-minute job at 03:00 UTC
# every night (60 %).  The profile rebuilt from them must show the job, as
# umbractl prints it from the live daemon.
n0=$(jctl profile $G | jq '[.metrics[].samples] | max')
umbrad_stop
sqlite3 "$IT_DIR/umbra.db" "
    WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i
                            WHERE n < 8 * 1440 - 10),
    s AS (SELECT * FROM dom_samples WHERE dom_id =
            (SELECT id FROM domains WHERE name = '$G')
          ORDER BY wall_us LIMIT 1)
    INSERT INTO dom_samples
    SELECT s.dom_id, s.wall_us - i.n * 60000000 AS w, s.label_id, s.state,
           s.vcpus, s.mem_used_kib, s.mem_max_kib,
           CASE WHEN (s.wall_us - i.n * 60000000) / 1000000 % 86400
                     BETWEEN 10800 AND 11399
                THEN 60 ELSE 5 END + (random() % 1000) / 1000.0,
           s.blk_rd_bps, s.blk_wr_bps, s.blk_rd_iops, s.blk_wr_iops,
           s.net_rx_bps, s.net_tx_bps, s.net_rx_pps, s.net_tx_pps,
           s.dirty_mbps
    FROM i, s;
    SELECT changes();" >"$IT_DIR/seeded.txt"
it_log "history stored for $G: $(cat "$IT_DIR/seeded.txt") samples"
check "eight days of history stored" [ "$(cat "$IT_DIR/seeded.txt")" -gt 11000 ]
umbrad_start 1 "risk_interval = 2s"
jwait 30 "$G sampled again" '.domain.cpu_pct != null' domstats $G
jwait 20 "profile rebuilt" '(.metrics | length) == 6' profile $G
n1=$(jctl profile $G | jq '[.metrics[].samples] | max')
it_log "profile samples: $n0 before the restart, $n1 after"
check "profile rebuilt from the stored history" [ "$n1" -ge "$n0" ]
# The start-up maintenance folds what is older than retention_raw (2 days)
# into 5-minute averages: every stored sample is still there, as a row or
# counted in an average's n.
kept=$(sqlite3 "$IT_DIR/umbra.db" "
    SELECT (SELECT count(*) FROM dom_samples WHERE dom_id = d.id) +
           (SELECT coalesce(sum(n), 0) FROM dom_samples_5m WHERE dom_id = d.id)
    FROM domains d WHERE name = '$G'")
it_log "samples of $G stored, raw or averaged, after the restart: $kept"
check "the start-up maintenance lost no sample" \
    [ "$kept" -ge "$(cat "$IT_DIR/seeded.txt")" ]
check "the start-up maintenance did not fail" \
    sh -c "! grep 'store maintenance failed' '$IT_DIR/umbrad.log'"
jctl profile $G >"$IT_DIR/profile2.json"
jcheck "the nightly job found: daily, at 03:00 UTC, a fixed time" \
    'any(.metrics[] | select(.metric == "cpu") | .events[];
        .period_s == 86400 and (.varying | not) and
        .offset_s >= 10800 - 300 and .offset_s <= 10800 + 300 and
        .length_s <= 1200 and .magnitude > 0)' profile $G
ctl profile $G | tee "$IT_DIR/profile2.txt"
check "umbractl profile prints the nightly job" \
    grep -qE "^  recurring cpu event: every 1d at \+(2h 5[5-9]m|3h( [0-5]m)?) for [0-9]+m" \
    "$IT_DIR/profile2.txt"
jwait 20 "the incident still counts after the restart" \
    'any(.domains[0].reasons[]; .feature == "incidents" and .value > 0)' \
    risk $G
it_log "PASS"
