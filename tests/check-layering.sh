#!/bin/sh
# tests/check-layering.sh: every #include in src/ must respect the layer
# table of docs/architecture.md (../shared/STYLE.md section 1): calls only
# go down, same-layer modules never include each other, only sys/ sees
# libvirt or libnl, cli/ speaks only RPC.
set -eu
src=${1:-$(dirname "$0")/../src}
fail=0

allowed() {
    case "$1" in
    util) echo "util" ;;
    model) echo "util model" ;;
    sys) echo "util model sys" ;;
    tsdb) echo "util model tsdb" ;;
    forecast) echo "util forecast" ;;
    risk|placement|learn) echo "util model forecast $1" ;;
    stats|shadow|mirror|cutover) echo "util model sys $1" ;;
    engine) echo "util model sys tsdb stats forecast risk placement learn shadow mirror cutover engine" ;;
    rpc) echo "util model rpc" ;;
    daemon) echo "util model sys tsdb stats forecast engine rpc daemon" ;;
    cli) echo "util model rpc cli" ;;
    tools) echo "util model forecast risk tools" ;;
    *) echo "" ;;
    esac
}

for f in $(find "$src" -name '*.[ch]' | sort); do
    mod=$(echo "$f" | sed "s|^$src/||" | cut -d/ -f1)
    ok=$(allowed "$mod")
    if [ -z "$ok" ]; then
        echo "layering: $f: module '$mod' is not in the layer table"
        fail=1
        continue
    fi
    for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*"/\1/p' "$f"); do
        case " $ok " in
        *" $inc "*) ;;
        *)
            echo "layering: $f includes $inc/ but $mod/ may only use: $ok"
            fail=1
            ;;
        esac
    done
    if [ "$mod" != sys ] && grep -Eq '#include <(libvirt|netlink)/' "$f"; then
        echo "layering: $f includes libvirt or libnl: only sys/ may"
        fail=1
    fi
done
if [ "$fail" -ne 0 ]; then
    exit 1
fi
echo "layering: OK"
