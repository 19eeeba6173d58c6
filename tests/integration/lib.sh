#!/bin/bash
# tests/integration/lib.sh: shared helpers for the lab integration tests.
#
# Each test is a bash script that sources this file. It needs the lab up
# (tests/lab/lab.sh up, with UMBRA_HOOK_BIN set so the hook is installed)
# and runs as root. Exit codes follow meson: 0 pass, 77 skip, other fail.
# Every test starts its own umbrad with a fresh store in a temporary
# directory and removes the guests it made.
# Variables here are used by the tests that source this file.
# shellcheck disable=SC2034
set -eu

it_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$it_here/../.." && pwd)
LAB=$repo/tests/lab/lab.sh
BUILD=${UMBRA_BUILD:-$repo/build}
UMBRAD=$BUILD/src/daemon/umbrad
UMBRACTL=$BUILD/src/cli/umbractl
LOADGEN=$BUILD/tests/lab/umbra-loadgen
SOCK=/run/umbra/umbrad.sock
DATA=${UMBRA_DATA:-$repo/../shared/data}
IT_NAME=$(basename "$0" .sh)
IT_DIR=$(mktemp -d "/tmp/umbra-it-$IT_NAME.XXXXXX")
IT_GUESTS=""
UMBRAD_PID=""
IT_T0=$(date +%s)

it_log() {
    echo "[$IT_NAME +$(($(date +%s) - IT_T0))s] $*"
}

it_fail() {
    echo "FAIL: $IT_NAME: $*"
    if [ -f "$IT_DIR/umbrad.log" ]; then
        echo "--- last lines of umbrad.log ---"
        tail -n 30 "$IT_DIR/umbrad.log"
    fi
    exit 1
}

it_skip() {
    echo "SKIP: $IT_NAME: $*"
    exit 77
}

lab() {
    bash "$LAB" "$@"
}

it_cleanup() {
    local rc=$?
    set +e
    umbrad_stop
    for g in $IT_GUESTS; do
        lab guest-undefine "$g" >/dev/null 2>&1
    done
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
        rm -rf "$IT_DIR"
    else
        echo "logs kept in $IT_DIR"
    fi
}
trap it_cleanup EXIT

require_lab() {
    [ "$(id -u)" -eq 0 ] || it_skip "needs root"
    [ -x "$UMBRAD" ] || it_fail "umbrad not built at $UMBRAD"
    ip netns list 2>/dev/null | grep -q '^umbra-h1' ||
        it_skip "the lab is not up (run: bash tests/lab/lab.sh up)"
}

# wait_for TIMEOUT_S DESCRIPTION CMD...: retry CMD every 0.5 s.
wait_for() {
    local timeout=$1 desc=$2 end
    shift 2
    end=$(($(date +%s) + timeout))
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$end" ]; then
            it_fail "timed out after ${timeout}s waiting for: $desc"
        fi
        sleep 0.5
    done
}

# umbrad_start [INTERVAL] [extra config lines...]: a line goes to
# [umbrad], or, written "[host:NAME] key = value", to that host's section.
umbrad_start() {
    local interval=${1:-1} line sec
    shift || true
    lab umbra-conf "$IT_DIR/umbra.conf" >/dev/null
    sed -i -e "s|^interval = .*|interval = $interval|" \
        -e "s|^store = .*|store = ${IT_STORE:-$IT_DIR/umbra.db}|" \
        "$IT_DIR/umbra.conf"
    for line in "$@"; do
        case "$line" in
        "[host:"*"] "*)
            sec=${line%%]*}
            sec=${sec#[}
            sed -i "/^\[$sec\]/a ${line#*] }" "$IT_DIR/umbra.conf"
            ;;
        *) sed -i "/^\[umbrad\]/a $line" "$IT_DIR/umbra.conf" ;;
        esac
    done
    "$UMBRAD" -f "$IT_DIR/umbra.conf" --debug \
        --log-file "$IT_DIR/umbrad.log" &
    UMBRAD_PID=$!
    wait_for 15 "umbrad answering on $SOCK" ctl version
}

umbrad_stop() {
    if [ -n "$UMBRAD_PID" ] && kill -0 "$UMBRAD_PID" 2>/dev/null; then
        kill -CONT "$UMBRAD_PID" 2>/dev/null || true
        kill -TERM "$UMBRAD_PID" 2>/dev/null || true
        wait "$UMBRAD_PID" 2>/dev/null || true
    fi
    UMBRAD_PID=""
}

ctl() {
    "$UMBRACTL" -c "$SOCK" "$@"
}

jctl() {
    "$UMBRACTL" -c "$SOCK" --json "$@"
}

# guest_up NAME HOST [GUEST-DEFINE OPTIONS]: define, start and wait until
# it serves HTTP.
guest_up() {
    local name=$1 host=$2
    shift 2
    IT_GUESTS="$IT_GUESTS $name"
    lab guest-define "$name" "$host" --start --wait "$@" >/dev/null ||
        it_fail "guest $name did not come up on $host"
}

guest_ip() {
    lab guest-ip "$1"
}

# host_of NAME: the host umbra says NAME runs on.
host_of() {
    jctl domstats "$1" | jq -r '.domain.host'
}

# domains_on HOST: names umbra lists on HOST, sorted, one per line.
domains_on() {
    jctl list --host "$1" | jq -r '.domains[].name' | sort
}

# check DESCRIPTION CMD...: fail the test unless CMD succeeds.
check() {
    local desc=$1
    shift
    if "$@" >/dev/null; then
        it_log "ok: $desc"
    else
        it_fail "$desc"
    fi
}

# jq_ok FILTER CTL-ARGS...: true if `umbractl --json CTL-ARGS` matches.
# The command must succeed and print JSON: jq alone exits 0 on empty
# input, which would make a failing command look like a passing check.
jq_ok() {
    local filter=$1 out
    shift
    out=$(jctl "$@" 2>/dev/null) || return 1
    [ -n "$out" ] || return 1
    jq -e "$filter" <<<"$out" >/dev/null 2>&1
}

# jcheck DESCRIPTION FILTER CTL-ARGS...
jcheck() {
    local desc=$1
    shift
    check "$desc" jq_ok "$@"
}

# jwait TIMEOUT DESCRIPTION FILTER CTL-ARGS...
jwait() {
    local timeout=$1 desc=$2
    shift 2
    wait_for "$timeout" "$desc" jq_ok "$@"
}

# disk_sum IP QUERY: the sum /cgi-bin/disk?QUERY answers (op=fill or
# op=sum: the FNV-1a 64 of the guest's marked disk region).
disk_sum() {
    curl -sf -m 20 "http://$1/cgi-bin/disk?$2" | sed -n 's/.* sum=//p'
}

# poll_counter IP OUT EVERY CURL_TIMEOUT MAX_S: in the background, polls
# the guest's /cgi-bin/counter every EVERY s into OUT, a line each: "ok N"
# or "fail"; until poll_counter_stop, or MAX_S at most.
poll_counter() {
    local ip=$1 out=$2 every=$3 tmo=$4 max=$5
    rm -f "$IT_DIR/poll.stop"
    (
        end=$(($(date +%s) + max))
        while [ "$(date +%s)" -lt "$end" ] && [ ! -e "$IT_DIR/poll.stop" ]; do
            if v=$(curl -sf -m "$tmo" "http://$ip/cgi-bin/counter"); then
                echo "ok ${v#counter=}" | cut -d' ' -f1,2
            else
                echo "fail"
            fi
            sleep "$every"
        done
    ) >"$out" &
    POLLER=$!
}

poll_counter_stop() {
    touch "$IT_DIR/poll.stop"
    wait "$POLLER" || true
}

# counter_went_on OUT: the counter polled into OUT was answered and never
# went back (the guest did not restart).
counter_went_on() {
    awk '$1 == "ok" { if (seen && $2 + 0 < last) bad = 1; last = $2 + 0; seen = 1 }
         END { exit bad || !seen }' "$1"
}

# vshq HOST ARGS: virsh on a lab host, quiet.
vshq() {
    lab virsh "$@" 2>/dev/null
}

# disk_of DOMAIN HOST: the file its vda writes to.
disk_of() {
    vshq "$2" domblklist "$1" | awk '$1 == "vda" { print $2 }'
}

# where NAME: "HOST STATE" of every domain NAME in the lab, one per line.
where() {
    local h
    for h in $(eval "$(lab env)" && echo "$LAB_HOSTS"); do
        if vshq "$h" domstate "$1" >/dev/null; then
            echo "$h $(vshq "$h" domstate "$1" | head -n 1)"
        fi
    done
}

# state_of DOMAIN: the state of its shadow.
state_of() {
    jctl shadow-info "$1" | jq -r .state
}
