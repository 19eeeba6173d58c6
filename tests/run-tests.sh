#!/bin/bash
# tests/run-tests.sh: umbra's whole test suite, from a fresh Debian 12
# machine, as root.  .ci/run calls it.
#
#   1. install packages and build with warnings as errors (tests/setup.sh)
#   2. unit tests + layering check
#   3. unit tests again under ASan + UBSan
#   4. the lab (3 libvirtd hosts in namespaces) and the integration tests
#   5. the lab torn down, and nothing of it left behind
#
# Prints "umbra: N passed, N failed, N skipped" last; exits 1 if any
# test failed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$repo/build
asan=$repo/build-asan
cd "$repo" || exit 1
passed=0
failed=0
skipped=0
t_start=$(date +%s)

stage() {
    echo
    echo "=== $* ($(($(date +%s) - t_start))s)"
}

# count_meson BUILD_DIR: add a meson test run's results to the totals.
count_meson() {
    local json=$1/meson-logs/testlog.json p f s
    [ -f "$json" ] || return 0
    p=$(jq -s '[.[] | select(.result == "OK")] | length' "$json")
    f=$(jq -s '[.[] | select(.result == "FAIL" or .result == "ERROR" or
        .result == "TIMEOUT" or .result == "UNEXPECTEDPASS")] | length' "$json")
    s=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$json")
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
}

finish() {
    echo
    echo "=== done in $(($(date +%s) - t_start))s"
    echo "umbra: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit $?
}

stage "install and build"
if ! bash tests/setup.sh "$build"; then
    echo "setup or build failed"
    failed=$((failed + 1))
    finish
fi

stage "unit tests"
meson test -C "$build" --suite unit --suite fuzz-corpus --suite layering \
    --suite style \
    --print-errorlogs
count_meson "$build"

stage "unit tests under ASan + UBSan"
if [ ! -f "$asan/build.ninja" ]; then
    meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dwerror=true >/dev/null
fi
if ninja -C "$asan" >/dev/null; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        LSAN_OPTIONS=suppressions=$repo/tests/lsan.supp:print_suppressions=0 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C "$asan" --suite unit --suite fuzz-corpus \
        --print-errorlogs
    count_meson "$asan"
else
    echo "sanitizer build failed"
    failed=$((failed + 1))
fi

stage "lab up"
lab_down() {
    bash tests/lab/lab.sh down >/dev/null 2>&1 || true
}
trap lab_down EXIT
if UMBRA_HOOK_BIN=$build/hooks/umbra-hook bash tests/lab/lab.sh up; then
    stage "integration tests"
    # Unit results are already counted: keep them out of the next log.
    meson test -C "$build" --suite integration --num-processes 1 \
        --print-errorlogs --logbase integration
    json=$build/meson-logs/integration.json
    if [ -f "$json" ]; then
        passed=$((passed + $(jq -s '[.[] | select(.result == "OK")] |
            length' "$json")))
        failed=$((failed + $(jq -s '[.[] | select(.result != "OK" and
            .result != "SKIP")] | length' "$json")))
        skipped=$((skipped + $(jq -s '[.[] | select(.result == "SKIP")] |
            length' "$json")))
    fi
else
    echo "lab up failed"
    failed=$((failed + 1))
fi

stage "lab down leaves nothing behind"
if bash tests/lab/lab.sh down; then
    left=""
    ip netns list | grep -q umbra- && left="$left netns"
    ip -br link | grep -q umbra- && left="$left links"
    pgrep -f umbra-lab-holder >/dev/null && left="$left holders"
    pgrep -x qemu-system-x86 >/dev/null && left="$left qemu"
    findmnt -rn -o TARGET | grep -q umbra-lab && left="$left mounts"
    if [ -z "$left" ]; then
        echo "clean"
        passed=$((passed + 1))
    else
        echo "left behind:$left"
        failed=$((failed + 1))
    fi
else
    echo "lab down failed"
    failed=$((failed + 1))
fi
trap - EXIT
finish
