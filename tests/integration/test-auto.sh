#!/bin/bash
# The predictive path with nothing done by hand (issue 5): a protected
# domain's host is told it has one CPU, and the domain is driven to use
# about one and a half; the risk engine foresees the host's contention,
# umbrad stages a shadow for it on its own, then cuts it over when the
# risk within 15 minutes reaches the threshold, and the journal says why.
# The shadow's warm boot is set long (90 s): the cutover, due while it
# boots, must end the boot rather than wait it out; so must an operator's
# `umbractl cutover` of a domain with no shadow yet.
. "$(dirname "$0")/lib.sh"
require_lab

G=it-auto
guest_up $G umbra-h1 --vcpus 2
ip=$(guest_ip $G)
umbrad_start 1 "risk_interval = 5s" "shadow_warm_boot = 90s" \
    "shadow_protect = $G" "[host:umbra-h1] cpus = 1"
jwait 30 "$G listed" '[.domains[] | select(.name == "'$G'")] | length == 1' list

# About 1.5 CPU-seconds of work a second, on a host planned with one CPU.
"$LOADGEN" --url "http://$ip/cgi-bin/work?cpu_ms=250" --rps 6 \
    --concurrency 4 --duration 240 --timeout-ms 5000 \
    --out "$IT_DIR/requests.csv" -q >"$IT_DIR/loadgen.txt" 2>&1 &
lg=$!
jwait 120 "umbra foresees contention on umbra-h1" \
    '.domains[0].contention_p["1h"] >= .domains[0].threshold' risk $G
it_log "risk: $(jctl risk $G | jq -c '.domains[0] | {contention_p, failure, threshold, t_trouble_s}')"
jwait 120 "a shadow of $G made by the risk engine" \
    '.origin == "risk"' shadow-info $G
jwait 240 "$G cut over by itself" '.state == "promoted"' shadow-info $G
kill "$lg" 2>/dev/null || true
wait "$lg" 2>/dev/null || true
jctl shadow-info $G >"$IT_DIR/info.json"
it_log "journal: $(jq -c '[.journal[] | {to, event, detail}]' "$IT_DIR/info.json")"
check "nobody asked: the activation cites the risk" \
    jq -e '[.journal[] | select(.event == "activate") | .detail] |
           .[0] | test("^risk [0-9.]+ within 15 min")' "$IT_DIR/info.json"
check "the due cutover cut the warm boot short" \
    jq -e '[.journal[] | select(.event == "staged-warm") | .detail][0] |
           test("warm boot cut short after [0-9.]+ s: a cutover is due")' \
    "$IT_DIR/info.json"
check "... so the shadow was ready well within the 90 s boot" \
    jq -e '([.journal[] | select(.event == "staged-warm") | .time][0] -
            [.journal[] | select(.event == "create") | .time][0]) < 60e6' \
    "$IT_DIR/info.json"
target=$(jq -r .host "$IT_DIR/info.json")
check "$G runs on $target, once" [ "$(where $G)" = "$target running" ]
check "$G answers HTTP there" curl -sf -m 5 -o /dev/null \
    "http://$ip/cgi-bin/counter"

# --- the reactive rule uses a shadow that is ready ---------------------------
# With cutover_policy = reactive, a domain that already has a ready shadow
# (here made by hand) is moved onto it when its host runs hot, rather than
# refused as "already has a shadow".
jwait 120 "$G's move settled" \
    'any(.journal[]; .event == "settled")' shadow-info $G
umbrad_stop
IT_STORE=$IT_DIR/reactive.db umbrad_start 1 "cutover_policy = reactive" \
    "reactive_for = 10s" "shadow_warm_boot = 3s" "[host:$target] cpus = 1"
jwait 30 "$G listed on $target" \
    '[.domains[] | select(.name == "'$G'") | .host] == ["'$target'"]' list
ctl shadow-create $G --wait 180 >/dev/null || it_fail "shadow-create $G"
target2=$(jctl shadow-info $G | jq -r .host)
"$LOADGEN" --url "http://$ip/cgi-bin/work?cpu_ms=250" --rps 6 \
    --concurrency 4 --duration 120 --timeout-ms 5000 -q \
    >"$IT_DIR/loadgen2.txt" 2>&1 &
lg=$!
jwait 120 "$G moved by the reactive rule onto its shadow on $target2" \
    '.state == "promoted" and .origin == "operator" and
     ([.journal[] | select(.event == "activate")][0].detail |
        test("^reactive: host '"$target"' above 90% of its 1 CPUs for [0-9]+ s"))' \
    shadow-info $G
kill "$lg" 2>/dev/null || true
wait "$lg" 2>/dev/null || true
check "$G runs on $target2, once" [ "$(where $G)" = "$target2 running" ]
check "no shadow was refused on the way" \
    jq_ok 'all(.events[]; .type != "shadow-create-failed")' events \
    --domain $G --limit 200

# --- the operator's cutover ends a warm boot too -----------------------------
# `umbractl cutover` on a domain with no shadow stages one and cuts over as
# soon as it is staged: the 90 s warm boot must not be waited out.
jwait 120 "$G's second move settled" \
    'any(.journal[]; .event == "settled")' shadow-info $G
umbrad_stop
IT_STORE=$IT_DIR/operator.db umbrad_start 1 "shadow_auto = off" \
    "shadow_warm_boot = 90s"
jwait 30 "$G listed on $target2" \
    '[.domains[] | select(.name == "'$G'") | .host] == ["'$target2'"]' list
t0=$(date +%s)
ctl cutover $G --wait 180 >"$IT_DIR/cutover3.txt" 2>&1 ||
    it_fail "umbractl cutover $G: $(cat "$IT_DIR/cutover3.txt")"
t1=$(date +%s)
it_log "umbractl cutover $G, $((t1 - t0)) s: $(cat "$IT_DIR/cutover3.txt")"
jctl shadow-info $G >"$IT_DIR/info3.json"
it_log "journal: $(jq -c '[.journal[] | {to, event, detail}]' "$IT_DIR/info3.json")"
check "the operator's cutover cut the warm boot short" \
    jq -e '[.journal[] | select(.event == "staged-warm") | .detail][0] |
           test("warm boot cut short after [0-9.]+ s: a cutover is due")' \
    "$IT_DIR/info3.json"
check "... and $G was moved within 90 s of the command" \
    [ $((t1 - t0)) -lt 90 ]
target3=$(jq -r .host "$IT_DIR/info3.json")
check "$G runs on $target3, once" [ "$(where $G)" = "$target3 running" ]
check "$G answers HTTP there" curl -sf -m 5 -o /dev/null \
    "http://$ip/cgi-bin/counter"
it_log "PASS"
