#!/bin/sh
# tests/check-format.sh: every C file follows .clang-format
# (../shared/STYLE.md section 8) and every shell script passes shellcheck.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src hooks tests -name '*.[ch]')
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
echo "clang-format: OK ($(echo "$files" | wc -w) files)"
scripts=$(git ls-files '*.sh' .ci/run 2>/dev/null)
# shellcheck disable=SC2086
shellcheck -x -S warning $scripts
echo "shellcheck: OK ($(echo "$scripts" | wc -w) scripts)"
