#!/bin/bash
# tests/setup.sh: on Debian 12 as root, install every package umbra needs
# (tests/packages.txt, tests/lab/packages.txt) and build it.
#
# Usage: tests/setup.sh [BUILD_DIR] [extra meson options...]
#   BUILD_DIR defaults to ./build; warnings are errors.
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${1:-$repo/build}
shift || true

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (packages, namespaces and libvirtd need it)" >&2
    exit 1
fi

pkgs=$(cat "$here/packages.txt" "$here/lab/packages.txt" 2>/dev/null |
    sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
        grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "setup: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$repo" -Dwerror=true "$@"
else
    meson configure "$build" -Dwerror=true "$@" >/dev/null
fi
ninja -C "$build"
