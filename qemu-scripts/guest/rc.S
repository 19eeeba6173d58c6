#!/bin/sh
# shellcheck shell=sh
#
# rc.S - system start of the umbra lab guest (busybox init "sysinit").
#
# Mounts the API filesystems, loads the virtio modules in dependency
# order (and, on a UEFI boot, mounts the EFI variables), and configures
# eth0 from the kernel command line:
#   umbra.name=NAME umbra.ip=10.77.100.10/24 umbra.gw=10.77.100.1
# Prints "umbra-guest: ready ..." on the console when done, which the lab
# uses to time the boot.
set -u
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs tmpfs /tmp

while read -r mod; do
    case "$mod" in ''|'#'*) continue ;; esac
    if [ "$mod" = efivarfs ] && [ ! -d /sys/firmware/efi ]; then
        continue
    fi
    insmod "/lib/modules/$mod.ko" || echo "umbra-guest: insmod $mod failed"
done < /etc/modules
if [ -d /sys/firmware/efi/efivars ]; then
    mount -t efivarfs efivarfs /sys/firmware/efi/efivars ||
        echo "umbra-guest: cannot mount efivarfs"
fi

name=umbra-guest
ip=
gw=
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
    case "$arg" in
    umbra.name=*) name=${arg#umbra.name=} ;;
    umbra.ip=*) ip=${arg#umbra.ip=} ;;
    umbra.gw=*) gw=${arg#umbra.gw=} ;;
    esac
done
hostname "$name"
echo "$name" > /etc/hostname

ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
ip link set eth0 up
if [ -n "$ip" ]; then
    ip addr add "$ip" dev eth0
fi
if [ -n "$gw" ]; then
    ip route add default via "$gw"
fi
# Tell the bridges where this MAC lives (as QEMU's announce does).
if [ -n "$gw" ]; then
    arping -c 1 -U -I eth0 "${ip%/*}" >/dev/null 2>&1 || true
fi
echo "umbra-guest: ready name=$name ip=$ip uptime=$(cut -d' ' -f1 /proc/uptime)" > /dev/console
