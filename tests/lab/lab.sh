#!/bin/bash
#
# lab.sh - the umbra namespace lab: simulated hypervisors on one machine.
#
# Each lab host umbra-hN is a network namespace plus a mount, UTS and cgroup
# namespace kept alive by a holder process, with its own libvirtd and
# virtlogd (private /etc/libvirt, /var/lib/libvirt, /var/log/libvirt,
# /var/cache/libvirt, a tmpfs on /run, its own sysfs and cgroup
# hierarchies). QEMU runs under TCG. All hosts share /var/lib/umbra-lab
# (images, guest disks), so live migration works without storage copy.
# docs/lab.md is the guide.
#
#   root namespace                           host umbra-hN (net+mnt+uts+cgroup)
#   umbra-mgmt0 10.77.0.1/24  --veth-------  eth0 10.77.0.(10+N)  libvirtd :16509
#   umbra-gst0  10.77.100.1/24 --veth------  gst0 -- br0 -- vnetX (guests)
#
# Guests get 10.77.100.10 and up; every br0 is joined at L2 to umbra-gst0,
# so a guest keeps its IP when it moves.
#
# Usage: lab.sh COMMAND [ARGS]   (see `lab.sh help`)
#
# Environment: LAB_HOSTS (default 3; hosts 1-2 are in cell a, the rest in
# cell b), UMBRA_HOOK_BIN (installed as the libvirt hook qemu.d/umbra),
# LAB_SKIP_IMAGE=1 (do not build the guest image in `up`), LAB_CGROUPS=0
# (no cgroups in the hosts).
set -eu

LAB_HOSTS=${LAB_HOSTS:-3}
LAB_STATE=/run/umbra-lab
LAB_SAN=/var/lib/umbra-lab
LAB_IMAGES=$LAB_SAN/images
LAB_DISKS=$LAB_SAN/disks
LAB_HOSTDIR=$LAB_SAN/hosts
LAB_LOGS=$LAB_SAN/logs
LAB_CAPS=$LAB_SAN/cache/qemu-capabilities
LAB_RUN_UMBRA=/run/umbra
MGMT_BR=umbra-mgmt0
MGMT_PREFIX=10.77.0
GST_BR=umbra-gst0
GST_PREFIX=10.77.100
GST_FIRST=10
HOLDER_TAG=umbra-lab-holder
LIBVIRT_PORT=16509

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")

log() {
    echo "lab: $*" >&2
}

die() {
    echo "lab: error: $*" >&2
    exit 1
}

now_ms() {
    date +%s%3N
}

# --- naming -------------------------------------------------------------

check_count() {
    case "$LAB_HOSTS" in
    '' | *[!0-9]*) die "LAB_HOSTS must be a number" ;;
    esac
    if [ "$LAB_HOSTS" -lt 1 ] || [ "$LAB_HOSTS" -gt 20 ]; then
        die "LAB_HOSTS must be 1..20"
    fi
}

host_names() {
    local i
    for i in $(seq 1 "$LAB_HOSTS"); do
        echo "umbra-h$i"
    done
}

# Accepts umbra-hN, hN or N; prints N.
host_index() {
    local n=${1#umbra-}
    n=${n#h}
    case "$n" in
    '' | *[!0-9]*) die "bad host name '$1' (want umbra-hN)" ;;
    esac
    if [ "$n" -lt 1 ] || [ "$n" -gt "$LAB_HOSTS" ]; then
        die "no host '$1' in this lab (LAB_HOSTS=$LAB_HOSTS)"
    fi
    echo "$n"
}

host_name() {
    echo "umbra-h$(host_index "$1")"
}

host_addr() {
    echo "$MGMT_PREFIX.$((10 + $(host_index "$1")))"
}

host_cell() {
    if [ "$(host_index "$1")" -le 2 ]; then
        echo a
    else
        echo b
    fi
}

host_uri() {
    echo "qemu+tcp://$(host_addr "$1")/system"
}

host_uuid() {
    printf '7ab0a000-0000-4000-8000-%012x\n' "$(host_index "$1")"
}

# --- processes ------------------------------------------------------------

# Prints the pid of the holder process of host $1 (empty if not running).
holder_pid() {
    local pid
    pid=$(cat "$LAB_STATE/$1.pid" 2>/dev/null) || return 0
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
        grep -q "^$HOLDER_TAG:$1 "; then
        echo "$pid"
    fi
}

# Runs a command inside host $1's namespaces (network, mount, UTS, cgroup)
# and cgroups: it first moves itself into the root of each cgroup hierarchy
# mounted in the host, so daemons started this way see the same cgroup
# layout as the host's first libvirtd.
in_host() {
    local h=$1 pid
    shift
    pid=$(holder_pid "$h")
    [ -n "$pid" ] || die "host $h is not running (lab.sh up?)"
    # shellcheck disable=SC2016 # expanded by the inner shell
    nsenter -t "$pid" -m -u -n -C -- sh -c '
        for d in /sys/fs/cgroup/*/; do
            if [ -f "${d}cgroup.procs" ]; then
                echo $$ >"${d}cgroup.procs" 2>/dev/null || true
            fi
        done
        exec "$@"' in_host "$@"
}

# Prints the pids of every process in the lab: holders and everything in
# the network or mount namespace of a lab host (libvirtd, virtlogd, qemu,
# commands run with `lab.sh exec`).
lab_pids() {
    local holders p nets="" mnts=""
    holders=$(grep -l -a -s "^$HOLDER_TAG:" /proc/[0-9]*/cmdline | cut -d/ -f3 || true)
    for p in $holders; do
        nets="$nets $(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null || true)"
        mnts="$mnts $(stat -L -c %i "/proc/$p/ns/mnt" 2>/dev/null || true)"
    done
    for p in /run/netns/umbra-h*; do
        [ -e "$p" ] || continue
        nets="$nets $(stat -L -c %i "$p" 2>/dev/null || true)"
    done
    {
        for p in $holders; do
            echo "$p"
        done
        orphan_pids
        if [ -n "${nets// /}${mnts// /}" ]; then
            stat -L -c '%n %i' /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt 2>/dev/null |
                awk -v nets="$nets" -v mnts="$mnts" -v self="$$" '
                BEGIN {
                    n = split(nets, a, " "); for (i = 1; i <= n; i++) net[a[i]] = 1
                    n = split(mnts, a, " "); for (i = 1; i <= n; i++) mnt[a[i]] = 1
                }
                {
                    split($1, f, "/"); pid = f[3]
                    if (pid == self) next
                    if ((f[5] == "net" && ($2 in net)) || (f[5] == "mnt" && ($2 in mnt)))
                        print pid
                }' || true
        fi
    } | sort -un
}

# Prints lab daemons whose holder and netns name are both gone (e.g. after
# a crash in the middle of `down`): libvirtd, virtlogd or QEMU in another
# UTS namespace whose hostname is a lab host's name.
orphan_pids() {
    local self_uts path ino pid comm hn
    self_uts=$(stat -L -c %i /proc/self/ns/uts)
    stat -L -c '%n %i' /proc/[0-9]*/ns/uts 2>/dev/null |
        while read -r path ino; do
            [ "$ino" != "$self_uts" ] || continue
            pid=${path#/proc/}
            pid=${pid%%/*}
            comm=""
            read -r comm 2>/dev/null <"/proc/$pid/comm" || continue
            case "$comm" in
            libvirtd | virtlogd | sleep | qemu-*) ;;
            *) continue ;;
            esac
            hn=$(nsenter -t "$pid" -u hostname 2>/dev/null) || continue
            case "$hn" in
            umbra-h[0-9]*) echo "$pid" ;;
            esac
        done
}

# Prints those of the given pids that still exist and are not zombies.
alive_pids() {
    local pid st rest
    for pid in "$@"; do
        rest=""
        read -r rest 2>/dev/null <"/proc/$pid/stat" || continue
        st=${rest##*) }
        st=${st%% *}
        [ "$st" = Z ] || echo "$pid"
    done
}

# Waits up to $1 seconds until none of the pids exists any more (not even
# as a zombie).
wait_reaped() {
    local wait=$1 pid i left
    shift
    for i in $(seq 1 $((wait * 10))); do
        left=""
        for pid in "$@"; do
            [ ! -e "/proc/$pid" ] || left=1
        done
        [ -n "$left" ] || return 0
        sleep 0.1
    done
}

# Sends SIGTERM to pids, waits up to $1 seconds, then SIGKILLs the rest.
kill_pids() {
    local wait=$1 left i
    shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    for i in $(seq 1 $((wait * 20))); do
        left=$(alive_pids "$@")
        [ -n "$left" ] || return 0
        [ "$i" -lt $((wait * 20)) ] || break
        sleep 0.05
    done
    log "killing $(echo "$left" | xargs) (did not stop within ${wait}s)"
    # shellcheck disable=SC2086 # word splitting of the pid list is wanted
    kill -KILL $left 2>/dev/null || true
    sleep 0.2
}

# --- teardown ---------------------------------------------------------------

cleanup() {
    local pids qemu other p link
    pids=$(lab_pids)
    if [ -n "$pids" ]; then
        qemu=""
        other=""
        for p in $pids; do
            if grep -q qemu-system "/proc/$p/cmdline" 2>/dev/null; then
                qemu="$qemu $p"
            else
                other="$other $p"
            fi
        done
        # shellcheck disable=SC2086 # lists of pids
        kill_pids 5 $qemu
        # shellcheck disable=SC2086
        kill_pids 2 $other
        # The daemons were reparented to init; give it a moment to reap
        # them, so that `pgrep` right after `down` finds nothing.
        # shellcheck disable=SC2086
        wait_reaped 5 $pids
        log "stopped $(echo "$pids" | wc -l) lab processes"
    fi
    cgroup_cleanup
    for p in /run/netns/umbra-h*; do
        [ -e "$p" ] || continue
        ip netns delete "$(basename "$p")" 2>/dev/null ||
            umount -l "$p" 2>/dev/null || true
        rm -f "$p"
    done
    for link in $(ip -o link show 2>/dev/null |
        awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
        grep -E "^($MGMT_BR|$GST_BR|umbra-h[0-9]+-[mg])\$" || true); do
        ip link delete "$link" 2>/dev/null || true
    done
    # `ip netns add` made /run/netns a mount point; undo that once no
    # namespace is left in it (other users' namespaces keep it).
    if mountpoint -q /run/netns 2>/dev/null && [ -z "$(ls -A /run/netns)" ]; then
        if umount /run/netns 2>/dev/null; then
            rmdir /run/netns 2>/dev/null || true
        fi
    fi
    rm -rf "$LAB_STATE"
}

cmd_down() {
    local t0 purge=0
    [ "${1:-}" != "--purge" ] || purge=1
    t0=$(now_ms)
    cleanup
    rm -rf "$LAB_HOSTDIR" "$LAB_DISKS"
    [ "$purge" = 0 ] || rm -rf "$LAB_LOGS"
    log "down in $(($(now_ms) - t0)) ms"
}

# --- bring up ---------------------------------------------------------------

write_libvirt_conf() {
    local h=$1 etc=$2
    rm -f "$etc/libvirtd.conf" "$etc/qemu.conf" "$etc/virtlogd.conf"
    cat >"$etc/libvirtd.conf" <<EOF
# umbra lab host $h (written by tests/lab/lab.sh)
listen_tls = 0
listen_tcp = 1
listen_addr = "$(host_addr "$h")"
tcp_port = "$LIBVIRT_PORT"
auth_tcp = "none"
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
host_uuid = "$(host_uuid "$h")"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
keepalive_interval = 5
keepalive_count = 5
EOF
    cat >"$etc/qemu.conf" <<EOF
# umbra lab host $h (written by tests/lab/lab.sh)
# QEMU runs as root and libvirt leaves file ownership alone, so every host
# can open the same disk on the shared /var/lib/umbra-lab.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
# No per-guest mount namespace: /dev and /run are ours already.
namespaces = [ ]
# The incoming side of a migration listens on the host's lab address.
migration_address = "$(host_addr "$h")"
migration_host = "$(host_addr "$h")"
stdio_handler = "logd"
EOF
    cat >"$etc/virtlogd.conf" <<EOF
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
}

# Lists the cgroup v1 hierarchies of the root namespace as
# "CONTROLLERS PARENT", PARENT being this process's cgroup directory in it
# (named hierarchies such as name=systemd, and cgroup2, are left out).
cgroup_hierarchies() {
    local root mp super ctrls place enabled
    [ "${LAB_CGROUPS:-1}" = 1 ] || return 0
    enabled=$(awk '!/^#/ && $4 == 1 { print $1 }' /proc/cgroups)
    # mountinfo: ID PARENT DEV ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SRC SUPER
    awk '{
            for (i = 7; $i != "-"; i++) ;
            if ($(i + 1) == "cgroup") print $4, $5, $(i + 3)
        }' /proc/self/mountinfo |
        while read -r root mp super; do
            ctrls=$(echo "$super" | tr , '\n' | grep -xF "$enabled" | paste -sd, -)
            [ -n "$ctrls" ] || continue
            place=$(awk -F: -v c="$ctrls" '$2 == c { print $3 }' /proc/self/cgroup)
            [ -n "$place" ] || continue
            if [ "$root" != / ]; then
                place=${place#"$root"}
            fi
            echo "$ctrls $mp${place%/}"
        done
}

# Creates the cgroups of host $1 in every hierarchy of $LAB_STATE/cgroups
# and lists them in $2/cgroups as "CONTROLLERS DIR". Being below this
# process's own cgroups, the lab stays inside whatever its caller is in.
# The host's holder joins them and then unshares its cgroup namespace, so
# libvirt in the host sees them as the roots of its hierarchies: each host
# has its own machine/ tree, and two hosts never share a guest cgroup, even
# during a migration.
cgroup_setup() {
    local h=$1 hd=$2 ctrls parent dir f
    : >"$hd/cgroups"
    [ -s "$LAB_STATE/cgroups" ] || return 0
    while read -r ctrls parent; do
        dir=$parent/umbra-lab/$h
        # Only ever create directories inside a real cgroup hierarchy.
        if [ ! -f "$parent/cgroup.procs" ] || ! mkdir -p "$dir" 2>/dev/null; then
            log "$h: cannot create $dir; no $ctrls cgroup in the host"
            continue
        fi
        if [ -e "$dir/cpuset.cpus" ]; then
            for f in cpuset.cpus cpuset.mems; do
                cat "$parent/$f" >"$parent/umbra-lab/$f" || true
                cat "$parent/$f" >"$dir/$f" || true
            done
        fi
        echo "$ctrls $dir" >>"$hd/cgroups"
    done <"$LAB_STATE/cgroups"
}

# Removes the lab's cgroups (all processes in them must be gone).
cgroup_cleanup() {
    local d
    awk '{
            for (i = 7; $i != "-"; i++) ;
            if ($(i + 1) == "cgroup") print $5
        }' /proc/self/mountinfo | while read -r d; do
        find "$d" -maxdepth 4 -type d -name umbra-lab 2>/dev/null
    done | while read -r d; do
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
}

# Gives host $1 the CPUs $2 ("0", "1-3", or "all": its parent's), so that
# its guests, libvirtd and helpers compete for those alone, as on a real
# machine (cgroup v1 cpuset). Child cgroups (libvirt's machine/ tree) must
# stay subsets of their parents: to shrink, leaves are written first; to
# grow, roots first. The kernel resets the tasks' affinities to the new set.
cmd_cpuset() {
    local h=${1:-} cpus=${2:-} ctrls dir parent dirs d
    [ -n "$h" ] && [ -n "$cpus" ] || die "usage: lab.sh cpuset HOST CPUS|all"
    h=$(host_name "$h")
    dir=""
    while read -r ctrls d; do
        case ",$ctrls," in *,cpuset,*) dir=$d ;; esac
    done <"$LAB_HOSTDIR/$h/cgroups"
    [ -n "$dir" ] && [ -f "$dir/cpuset.cpus" ] ||
        die "$h has no cpuset cgroup (cgroup v1 cpuset is needed)"
    parent=$(dirname "$dir")
    if [ "$cpus" = all ]; then
        cpus=$(cat "$parent/cpuset.cpus")
    fi
    dirs=$(find "$dir" -type d | awk -F/ '{ print NF, $0 }' | sort -n | cut -d' ' -f2-)
    # Grow the roots first; then write every level leaf-first so that a
    # shrink never leaves a child wider than its parent.
    for d in $dirs; do
        echo "$(cat "$parent/cpuset.cpus")" >"$d/cpuset.cpus" 2>/dev/null || true
    done
    for d in $(echo "$dirs" | tac); do
        echo "$cpus" >"$d/cpuset.cpus" ||
            die "$h: cannot set $d/cpuset.cpus to $cpus"
    done
    log "$h: CPUs $(cat "$dir/cpuset.cpus")"
}

# Runs in the host's network namespace (see start_host): joins the host's
# cgroups, then enters new mount, UTS and cgroup namespaces.
cmd___holder() {
    local h=$1 hd ctrls dir
    hd=$LAB_HOSTDIR/$h
    if [ -s "$hd/cgroups" ]; then
        while read -r ctrls dir; do
            if [ ! -f "$dir/cgroup.procs" ] ||
                ! echo "$$" >"$dir/cgroup.procs"; then
                echo "lab: $h: cannot join $dir ($ctrls)" >&2
            fi
        done <"$hd/cgroups"
    fi
    exec unshare --mount --uts --cgroup --propagation private \
        -- bash "$self" __holder2 "$h"
}

# Runs inside the new namespaces: prepares the private mounts, then becomes
# the holder process.
cmd___holder2() {
    local h=$1 hd ctrls dir
    hd=$LAB_HOSTDIR/$h
    hostname "$h"
    echo "$$" >"$LAB_STATE/$h.pid"
    # Drop the copies of the root namespace's /run/netns mounts: they would
    # pin the other hosts' network namespaces.
    if mountpoint -q /run/netns; then
        umount -R -l /run/netns
    fi
    mkdir -p "$hd/stage"
    mount --bind "$LAB_RUN_UMBRA" "$hd/stage"
    mount -t tmpfs -o mode=0755,size=256m "umbra-lab-$h" /run
    mkdir -p /run/umbra /run/lock /run/libvirt
    mount --move "$hd/stage" /run/umbra
    mount --bind "$hd/etc" /etc/libvirt
    mount --bind "$hd/lib" /var/lib/libvirt
    mount --bind "$hd/cache" /var/cache/libvirt
    mount --bind "$LAB_LOGS/$h" /var/log/libvirt
    mount --bind "$hd/hosts" /etc/hosts
    # A sysfs of this network namespace (as `ip netns exec` makes), and the
    # host's own cgroup hierarchies on /sys/fs/cgroup.
    umount -R -l /sys
    mount -t sysfs sysfs /sys
    if [ -s "$hd/cgroups" ]; then
        mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
        while read -r ctrls dir; do
            mkdir -p "/sys/fs/cgroup/$ctrls"
            mount -t cgroup -o "$ctrls" cgroup "/sys/fs/cgroup/$ctrls" ||
                echo "lab: $h: cannot mount the $ctrls cgroup (from $dir)" >&2
        done <"$hd/cgroups"
    fi
    touch "$hd/ready"
    exec -a "$HOLDER_TAG:$h" sleep infinity
}

wait_libvirtd() {
    local h=$1 uri i
    uri=$(host_uri "$h")
    for i in $(seq 1 300); do
        if virsh -q -c "$uri" version >/dev/null 2>&1; then
            return 0
        fi
        [ "$i" -lt 300 ] || break
        sleep 0.1
    done
    die "libvirtd of $h does not answer on $uri (see $LAB_LOGS/$h/libvirtd.log)"
}

libvirtd_pid() {
    local pid
    pid=$(in_host "$1" cat /run/libvirtd.pid 2>/dev/null) || return 0
    if [ -n "$pid" ] && [ -e "/proc/$pid" ] &&
        grep -q libvirtd "/proc/$pid/cmdline" 2>/dev/null; then
        echo "$pid"
    fi
}

cmd_start_libvirtd() {
    local h
    h=$(host_name "$1")
    if [ -n "$(libvirtd_pid "$h")" ]; then
        log "$h: libvirtd already running"
        return 0
    fi
    # shellcheck disable=SC2016 # expanded by the inner shell
    in_host "$h" sh -c 'if ! [ -e /run/virtlogd.pid ] ||
        ! kill -0 "$(cat /run/virtlogd.pid)" 2>/dev/null; then virtlogd -d; fi' \
        </dev/null >/dev/null 2>&1 9>&-
    in_host "$h" libvirtd --listen -d </dev/null >/dev/null 2>&1 9>&-
    wait_libvirtd "$h"
    libvirtd_pid "$h" >"$LAB_STATE/$h.libvirtd.pid"
}

cmd_stop_libvirtd() {
    local h pid
    h=$(host_name "$1")
    pid=$(libvirtd_pid "$h")
    if [ -z "$pid" ]; then
        log "$h: libvirtd not running"
        return 0
    fi
    kill_pids 15 "$pid"
    rm -f "$LAB_STATE/$h.libvirtd.pid"
}

cmd_restart_libvirtd() {
    cmd_stop_libvirtd "$1"
    cmd_start_libvirtd "$1"
}

start_host() {
    local h=$1 hd i n
    hd=$LAB_HOSTDIR/$h
    i=$(host_index "$h")

    ip netns add "$h"
    ip link add "$h-m" type veth peer name eth0 netns "$h"
    ip link set "$h-m" master "$MGMT_BR" up
    ip link add "$h-g" type veth peer name gst0 netns "$h"
    ip link set "$h-g" master "$GST_BR" up
    ip -n "$h" link set lo up
    ip -n "$h" addr add "$(host_addr "$h")/24" dev eth0
    ip -n "$h" link set eth0 up
    ip -n "$h" link add br0 type bridge stp_state 0 forward_delay 0
    ip -n "$h" link set gst0 master br0 up
    ip -n "$h" link set br0 up

    mkdir -p "$hd/etc" "$hd/lib" "$hd/cache/qemu/capabilities" "$LAB_LOGS/$h"
    # Seed libvirt's QEMU capabilities cache from an earlier run: probing
    # QEMU takes seconds under TCG, and libvirt re-probes if the cached
    # data does not match the binaries any more.
    if [ -d "$LAB_CAPS" ]; then
        cp -a "$LAB_CAPS/." "$hd/cache/qemu/capabilities/"
    fi
    cp -a /etc/libvirt/. "$hd/etc/"
    write_libvirt_conf "$h" "$hd/etc"
    # Private /etc/hosts that names every lab host (libvirt resolves its
    # hostname, e.g. for migration cookies).
    {
        echo "127.0.0.1 localhost"
        echo "::1 localhost ip6-localhost ip6-loopback"
        for n in $(host_names); do
            echo "$(host_addr "$n") $n"
        done
    } >"$hd/hosts"
    if [ -n "${UMBRA_HOOK_BIN:-}" ]; then
        [ -x "$UMBRA_HOOK_BIN" ] || die "UMBRA_HOOK_BIN=$UMBRA_HOOK_BIN is not executable"
        install -D -m 0755 "$UMBRA_HOOK_BIN" "$hd/etc/hooks/qemu.d/umbra"
    fi

    cgroup_setup "$h" "$hd"
    setsid nsenter --net="/run/netns/$h" -- bash "$self" __holder "$h" \
        </dev/null >"$LAB_LOGS/$h/holder.log" 2>&1 9>&- &
    for i in $(seq 1 100); do
        [ -e "$hd/ready" ] && break
        [ "$i" -lt 100 ] || die "$h: holder did not start (see $LAB_LOGS/$h/holder.log)"
        sleep 0.1
    done
    cmd_start_libvirtd "$h"
}

# libvirt's QEMU driver resolves its built-in default user (libvirt-qemu on
# Debian) before it reads qemu.conf, and fails if the account is missing.
# libvirt-daemon-system would create it but also brings init scripts and
# polkit; the lab only needs the account (its guests run as root).
ensure_qemu_user() {
    if ! getent group libvirt-qemu >/dev/null; then
        groupadd --system libvirt-qemu
    fi
    if ! getent passwd libvirt-qemu >/dev/null; then
        useradd --system --gid libvirt-qemu --no-create-home \
            --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
        log "created the system account libvirt-qemu (needed by libvirt)"
    fi
}

cmd_up() {
    local t0 h pids
    t0=$(now_ms)
    check_count
    for h in ip unshare nsenter virsh libvirtd virtlogd qemu-img qemu-system-x86_64; do
        command -v "$h" >/dev/null || die "$h not found (see tests/lab/packages.txt)"
    done
    cleanup
    rm -rf "$LAB_HOSTDIR" "$LAB_DISKS" "$LAB_LOGS"
    ensure_qemu_user
    mkdir -p "$LAB_STATE/guests" "$LAB_HOSTDIR" "$LAB_DISKS" "$LAB_LOGS/console" \
        "$LAB_IMAGES" "$LAB_RUN_UMBRA" /etc/libvirt /var/lib/libvirt \
        /var/log/libvirt /var/cache/libvirt
    echo "$LAB_HOSTS" >"$LAB_STATE/hosts"
    cgroup_hierarchies >"$LAB_STATE/cgroups"
    if [ "${LAB_SKIP_IMAGE:-0}" != 1 ]; then
        bash "$repo/qemu-scripts/build-guest.sh" "$LAB_IMAGES"
    fi

    ip link add "$MGMT_BR" type bridge stp_state 0 forward_delay 0
    ip addr add "$MGMT_PREFIX.1/24" dev "$MGMT_BR"
    ip link set "$MGMT_BR" up
    ip link add "$GST_BR" type bridge stp_state 0 forward_delay 0
    ip addr add "$GST_PREFIX.1/24" dev "$GST_BR"
    ip link set "$GST_BR" up

    pids=""
    for h in $(host_names); do
        start_host "$h" &
        pids="$pids $!"
    done
    for h in $pids; do
        wait "$h" || die "a host failed to start (lab.sh down cleans up)"
    done
    cmd_env >"$LAB_STATE/lab.env"
    rm -rf "$LAB_CAPS"
    mkdir -p "$LAB_CAPS"
    cp -a "$LAB_HOSTDIR/umbra-h1/cache/qemu/capabilities/." "$LAB_CAPS/"
    log "up: $LAB_HOSTS hosts in $(($(now_ms) - t0)) ms; env in $LAB_STATE/lab.env"
}

# --- information ------------------------------------------------------------

cmd_env() {
    local h v cells_a="" cells_b=""
    check_count
    printf 'LAB_HOST_COUNT=%s\n' "$LAB_HOSTS"
    printf 'LAB_HOSTS=%q\n' "$(host_names | xargs)"
    for h in $(host_names); do
        v=H$(host_index "$h")
        printf 'LAB_ADDR_%s=%s\n' "$v" "$(host_addr "$h")"
        printf 'LAB_URI_%s=%s\n' "$v" "$(host_uri "$h")"
        printf 'LAB_CELL_%s=%s\n' "$v" "$(host_cell "$h")"
        if [ "$(host_cell "$h")" = a ]; then
            cells_a="$cells_a $h"
        else
            cells_b="$cells_b $h"
        fi
    done
    printf 'LAB_CELLS=%q\n' "$( ([ -z "$cells_a" ] || echo a; [ -z "$cells_b" ] || echo b) | xargs)"
    printf 'LAB_CELL_a_HOSTS=%q\n' "${cells_a# }"
    printf 'LAB_CELL_b_HOSTS=%q\n' "${cells_b# }"
    printf 'LAB_MGMT_NET=%s\n' "$MGMT_PREFIX.0/24"
    printf 'LAB_MGMT_GW=%s\n' "$MGMT_PREFIX.1"
    printf 'LAB_GUEST_NET=%s\n' "$GST_PREFIX.0/24"
    printf 'LAB_GUEST_GW=%s\n' "$GST_PREFIX.1"
    printf 'LAB_GUEST_IP_FIRST=%s\n' "$GST_PREFIX.$GST_FIRST"
    printf 'LAB_SAN=%s\n' "$LAB_SAN"
    printf 'LAB_IMAGES=%s\n' "$LAB_IMAGES"
    printf 'LAB_DISKS=%s\n' "$LAB_DISKS"
    printf 'LAB_STATE=%s\n' "$LAB_STATE"
    printf 'LAB_SH=%s\n' "$self"
}

cmd_umbra_conf() {
    local out=${1:-} h
    [ -n "$out" ] || die "usage: lab.sh umbra-conf PATH"
    check_count
    {
        echo "# umbrad configuration for the namespace lab (tests/lab/lab.sh)"
        echo "[umbrad]"
        echo "interval = 2"
        echo "store = $LAB_SAN/umbra.db"
        echo "socket = $LAB_RUN_UMBRA/umbrad.sock"
        echo "hook_socket = $LAB_RUN_UMBRA/hook.sock"
        # All lab hosts share this machine's CPUs: plan shadows with 4
        # vCPUs per CPU, as an overcommitted fleet would.
        echo "cpu_overcommit = 4"
        for h in $(host_names); do
            echo
            echo "[host:$h]"
            echo "uri = $(host_uri "$h")"
            echo "cell = $(host_cell "$h")"
        done
    } >"$out.tmp"
    mv -f "$out.tmp" "$out"
}

cmd_status() {
    local h pid lpid rc=0
    check_count
    for h in $(host_names); do
        pid=$(holder_pid "$h")
        if [ -z "$pid" ]; then
            printf '%-9s %-11s down\n' "$h" "$(host_addr "$h")"
            rc=1
            continue
        fi
        lpid=$(libvirtd_pid "$h")
        printf '%-9s %-11s cell=%s holder=%s libvirtd=%s\n' "$h" \
            "$(host_addr "$h")" "$(host_cell "$h")" "$pid" "${lpid:-stopped}"
        if [ -n "$lpid" ]; then
            virsh -q -c "$(host_uri "$h")" list --all 2>/dev/null |
                sed 's/^/    /' || true
        fi
    done
    return "$rc"
}

# --- guests -------------------------------------------------------------------

guest_file() {
    echo "$LAB_STATE/guests/$1.env"
}

# Prints the guest's IP (from its record).
guest_ip() {
    local f
    f=$(guest_file "$1")
    [ -f "$f" ] || die "unknown guest $1"
    sed -n 's/^ip=//p' "$f"
}

guest_mac() {
    local last=${1##*.}
    printf '52:54:00:4d:64:%02x\n' "$last"
}

# Prints the lowest free guest IP.
alloc_ip() {
    local n f used=""
    for f in "$LAB_STATE"/guests/*.env; do
        [ -e "$f" ] || continue
        used="$used $(sed -n 's/^ip=//p' "$f")"
    done
    for n in $(seq "$GST_FIRST" 250); do
        case " $used " in *" $GST_PREFIX.$n "*) continue ;; esac
        echo "$GST_PREFIX.$n"
        return 0
    done
    die "no free guest address"
}

# Prints the host on which guest $1 is defined or running (first found).
guest_host() {
    local h
    for h in $(host_names); do
        if virsh -q -c "$(host_uri "$h")" domstate "$1" >/dev/null 2>&1; then
            echo "$h"
            return 0
        fi
    done
}

cmd_guest_host() {
    local name=${1:-} h
    [ -n "$name" ] || die "usage: lab.sh guest-host NAME"
    h=$(guest_host "$name")
    [ -n "$h" ] || die "guest $name is on no host"
    echo "$h"
}

cmd_guest_define() {
    local name=${1:-} host=${2:-} start=0 wait=0 ip="" mem="" vcpus=1 f disk="" size="" xml h
    local fw=""
    if [ -z "$name" ] || [ -z "$host" ]; then
        die "usage: lab.sh guest-define NAME HOST [--start] [--wait] [--ip IP] [--mem MIB] [--vcpus N] [--disk PATH] [--disk-size SIZE] [--uefi]"
    fi
    shift 2
    while [ $# -gt 0 ]; do
        case "$1" in
        --start) start=1 ;;
        --wait) start=1 wait=1 ;;
        --ip) ip=$2 && shift ;;
        --mem) mem=$2 && shift ;;
        --disk) disk=$2 && shift ;;
        --vcpus) vcpus=$2 && shift ;;
        --disk-size) size=$2 && shift ;;
        --uefi) fw=" firmware='efi'" ;;
        *) die "guest-define: unknown option $1" ;;
        esac
        shift
    done
    case "$name" in
    '' | *[!A-Za-z0-9_.-]*) die "bad guest name '$name'" ;;
    esac
    if [ -z "$mem" ]; then
        # OVMF with the kernel and initramfs needs more than 128 MiB.
        mem=128
        [ -z "$fw" ] || mem=256
    fi
    h=$(host_name "$host")
    f=$(guest_file "$name")
    [ ! -e "$f" ] || die "guest $name exists (lab.sh guest-undefine $name)"
    [ -s "$LAB_IMAGES/base.qcow2" ] || die "no guest image (lab.sh up builds it)"
    mkdir -p "$LAB_STATE/guests" "$LAB_DISKS" "$LAB_LOGS/console"
    [ -n "$ip" ] || ip=$(alloc_ip)
    if [ -z "$disk" ]; then
        disk=$LAB_DISKS/$name.qcow2
        rm -f "$disk"
        # shellcheck disable=SC2086 # $size: empty or one word
        qemu-img create -q -f qcow2 -F qcow2 -b "$LAB_IMAGES/base.qcow2" \
            "$disk" $size
    fi
    printf 'name=%s\nip=%s\nmac=%s\nhost=%s\n' "$name" "$ip" "$(guest_mac "$ip")" \
        "$h" >"$f"
    xml=$LAB_STATE/guests/$name.xml
    sed -e "s|@NAME@|$name|g" -e "s|@IP@|$ip|g" -e "s|@GW@|$GST_PREFIX.1|g" \
        -e "s|@MAC@|$(guest_mac "$ip")|g" -e "s|@DISK@|$disk|g" \
        -e "s|@IMAGES@|$LAB_IMAGES|g" -e "s|@MEM_MIB@|$mem|g" -e "s|@VCPUS@|$vcpus|g" \
        -e "s|@CONSOLE_LOG@|$LAB_LOGS/console/$name.log|g" -e "s|@FIRMWARE@|$fw|g" \
        "$repo/qemu-scripts/guest.xml.in" >"$xml"
    virsh -q -c "$(host_uri "$h")" define "$xml" >/dev/null
    log "defined $name on $h ($ip)"
    if [ "$start" = 1 ]; then
        virsh -q -c "$(host_uri "$h")" start "$name" >/dev/null
        log "started $name on $h"
    fi
    if [ "$wait" = 1 ]; then
        lab_unlock
        cmd_guest_wait "$name"
    fi
    echo "$ip"
}

cmd_guest_wait() {
    local name=${1:-} timeout=${2:-90} ip t0 i
    [ -n "$name" ] || die "usage: lab.sh guest-wait NAME [TIMEOUT_S]"
    ip=$(guest_ip "$name")
    t0=$(now_ms)
    for i in $(seq 1 $((timeout * 4))); do
        if curl -fsS -m 2 -o /dev/null "http://$ip/cgi-bin/counter" 2>/dev/null; then
            log "$name answers HTTP at $ip after $(($(now_ms) - t0)) ms"
            return 0
        fi
        [ "$i" -lt $((timeout * 4)) ] || break
        sleep 0.25
    done
    die "$name ($ip) does not answer HTTP after ${timeout}s (console: $LAB_LOGS/console/$name.log)"
}

cmd_guest_undefine() {
    local name=${1:-} h f d v uri
    [ -n "$name" ] || die "usage: lab.sh guest-undefine NAME"
    for h in $(host_names); do
        uri=$(host_uri "$h")
        # The guest, any umbra shadow of it, and their volumes in umbra's
        # pool (NAME~shadow.* staged copies, NAME.* disks after a cutover).
        for d in "$name" "$name~shadow"; do
            if virsh -q -c "$uri" domstate "$d" >/dev/null 2>&1; then
                virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1 || true
                virsh -q -c "$uri" undefine --nvram "$d" >/dev/null 2>&1 || true
                log "removed $d from $h"
            fi
        done
        for v in $(virsh -q -c "$uri" vol-list umbra 2>/dev/null |
            awk -v p="$name~shadow." -v q="$name." \
                'index($1, p) == 1 || index($1, q) == 1 { print $1 }'); do
            virsh -q -c "$uri" vol-delete "$v" --pool umbra >/dev/null 2>&1 || true
        done
        # A UEFI guest's variable store stays on a host it migrated away
        # from (libvirt undefines the source but keeps the file).
        if [ -n "$(holder_pid "$h")" ]; then
            in_host "$h" rm -f "/var/lib/libvirt/qemu/nvram/${name}_VARS.fd" \
                "/var/lib/libvirt/qemu/nvram/${name}~shadow_VARS.fd" || true
        fi
    done
    f=$(guest_file "$name")
    rm -f "$f" "$LAB_STATE/guests/$name.xml" "$LAB_DISKS/$name.qcow2" \
        "$LAB_DISKS/$name".umbra-*.qcow2
}

cmd_guest_list() {
    local f name
    for f in "$LAB_STATE"/guests/*.env; do
        [ -e "$f" ] || continue
        name=$(sed -n 's/^name=//p' "$f")
        printf '%-12s %-14s %s %s\n' "$name" "$(sed -n 's/^ip=//p' "$f")" \
            "$(sed -n 's/^mac=//p' "$f")" "$(guest_host "$name")"
    done
}

# Live migration with the flags the lab needs (see docs/lab.md).
cmd_migrate() {
    local name=${1:-} src=${2:-} dst=${3:-} t0
    if [ -z "$name" ] || [ -z "$src" ] || [ -z "$dst" ]; then
        die "usage: lab.sh migrate NAME SRC_HOST DST_HOST"
    fi
    src=$(host_name "$src")
    dst=$(host_name "$dst")
    t0=$(now_ms)
    virsh -c "$(host_uri "$src")" migrate --live --persistent --undefinesource \
        --unsafe "$name" "$(host_uri "$dst")" --migrateuri "tcp://$(host_addr "$dst")"
    log "migrated $name $src -> $dst in $(($(now_ms) - t0)) ms"
}

cmd_exec() {
    local h=${1:-}
    if [ -z "$h" ] || [ $# -lt 2 ]; then
        die "usage: lab.sh exec HOST CMD [ARGS]"
    fi
    h=$(host_name "$h")
    shift
    in_host "$h" "$@"
}

cmd_virsh() {
    local h=${1:-}
    [ -n "$h" ] || die "usage: lab.sh virsh HOST [VIRSH ARGS]"
    h=$(host_name "$h")
    shift
    virsh -c "$(host_uri "$h")" "$@"
}

usage() {
    cat <<EOF
usage: lab.sh COMMAND [ARGS]

  up                         remove leftovers, build the guest image (cached),
                             start LAB_HOSTS (default 3) hosts
  down [--purge]             stop everything, remove namespaces, links, state
                             (--purge also removes $LAB_LOGS)
  status                     hosts, daemons and domains
  env                        print shell variables describing the lab
  umbra-conf PATH            write an umbrad config for the lab
  exec HOST CMD...           run CMD inside HOST's namespaces
  virsh HOST ARGS...         virsh -c qemu+tcp://ADDR/system ARGS
  start-libvirtd HOST | stop-libvirtd HOST | restart-libvirtd HOST
  guest-define NAME HOST [--start] [--wait] [--ip IP] [--mem MIB] [--vcpus N]
                             [--disk PATH] [--disk-size SIZE] [--uefi]
                             (--disk: an existing qcow2 on HOST, kept on undefine;
                             --disk-size: a disk larger than the image's 64M;
                             --uefi: OVMF firmware, 256 MiB unless --mem)
  guest-wait NAME [TIMEOUT_S] wait until the guest answers HTTP
  guest-undefine NAME        destroy, undefine, delete its disk
  guest-list                 guests with IP, MAC, current host
  guest-ip NAME              print the guest's IP
  guest-host NAME            print the host that has the guest
  uri HOST                   print the host's libvirt URI
  migrate NAME SRC DST       live migration with the lab's flags
  cpuset HOST CPUS|all       confine HOST (guests, libvirtd) to CPUS ("0",
                             "1-2"), or give it all CPUs again

HOST is umbra-hN (or hN, N). Hosts: $(host_names | xargs)
EOF
}

# Serialises the commands that change the lab (fd 9 on this script; daemons
# are started with fd 9 closed so that they do not keep the lock).
lab_lock() {
    exec 9<"$self"
    flock 9
}

lab_unlock() {
    flock -u 9 2>/dev/null || true
}

main() {
    local cmd=${1:-help}
    [ $# -eq 0 ] || shift
    case "$cmd" in
    up | down | guest-define | guest-undefine | start-libvirtd | stop-libvirtd | \
        restart-libvirtd | cpuset)
        lab_lock
        ;;
    esac
    if [ -r "$LAB_STATE/hosts" ] && [ "$cmd" != up ]; then
        LAB_HOSTS=$(cat "$LAB_STATE/hosts")
    fi
    case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    umbra-conf) cmd_umbra_conf "$@" ;;
    exec) cmd_exec "$@" ;;
    virsh) cmd_virsh "$@" ;;
    start-libvirtd) cmd_start_libvirtd "$@" ;;
    stop-libvirtd) cmd_stop_libvirtd "$@" ;;
    restart-libvirtd) cmd_restart_libvirtd "$@" ;;
    guest-define) cmd_guest_define "$@" ;;
    guest-wait) cmd_guest_wait "$@" ;;
    guest-undefine) cmd_guest_undefine "$@" ;;
    guest-list) cmd_guest_list "$@" ;;
    guest-ip) guest_ip "$@" ;;
    guest-host) cmd_guest_host "$@" ;;
    uri) host_uri "$(host_name "${1:?usage: lab.sh uri HOST}")" ;;
    migrate) cmd_migrate "$@" ;;
    cpuset) cmd_cpuset "$@" ;;
    __holder) cmd___holder "$@" ;;
    __holder2) cmd___holder2 "$@" ;;
    help | -h | --help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
