#!/bin/bash
#
# build-guest.sh - build the umbra lab guest image from Debian packages.
#
# Usage: qemu-scripts/build-guest.sh [OUTDIR]     (default /var/lib/umbra-lab/images)
#
# Output in OUTDIR:
#   vmlinuz      kernel of linux-image-*-cloud-amd64 (apt-get download +
#                dpkg-deb -x; no kernel package is installed on this machine)
#   initrd.img   gzip'ed cpio: busybox-static, the virtio modules, busybox
#                init (guest/inittab, guest/rc.S) and guest/umbra-work.c
#                built with `gcc -static -O2` (HTTP CGI work, counter, disk
#                writer)
#   base.qcow2   empty 64 MiB qcow2; each guest gets an overlay on it
#
# Cached: the build is skipped when the hash of all inputs (this script,
# guest/*, the kernel and busybox package versions, gcc version) matches
# OUTDIR/.inputs. Downloaded .deb files are kept in OUTDIR/.debs.
#
# Needs: apt (apt-get download), dpkg-deb, gcc, libc6-dev, cpio, gzip,
# qemu-utils (qemu-img), kmod (modinfo).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:-/var/lib/umbra-lab/images}
guestdir=$here/guest
kmeta=linux-image-cloud-amd64

log() {
    echo "build-guest: $*" >&2
}

die() {
    log "error: $*"
    exit 1
}

# Prints the candidate version of Debian package $1 (empty if unknown).
pkg_candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'
}

ensure_apt_lists() {
    local v
    v=$(pkg_candidate "$kmeta")
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then
        log "apt lists do not know $kmeta; running apt-get update"
        apt-get update -qq
    fi
}

# Prints the versioned kernel package that linux-image-cloud-amd64 depends on.
kernel_pkg() {
    apt-cache depends "$kmeta" 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# Downloads package $1 (if not cached) into $outdir/.debs; prints the path.
fetch_deb() {
    local pkg=$1 ver deb
    ver=$(pkg_candidate "$pkg")
    if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
        die "no candidate for $pkg"
    fi
    # Debian encodes the epoch colon as %3a in file names.
    deb=$(find "$outdir/.debs" -maxdepth 1 \
        -name "${pkg}_*${ver#*:}_*.deb" | head -n 1)
    if [ -z "$deb" ]; then
        log "downloading $pkg $ver"
        (cd "$outdir/.debs" && apt-get download -q "$pkg=$ver") >&2
        deb=$(find "$outdir/.debs" -maxdepth 1 \
            -name "${pkg}_*${ver#*:}_*.deb" | head -n 1)
    fi
    [ -n "$deb" ] || die "download of $pkg failed"
    echo "$deb"
}

inputs_hash() {
    {
        echo "kernel=$1 busybox=$2"
        gcc --version | head -n 1
        cat "$0" "$guestdir"/*
    } | sha256sum | cut -d' ' -f1
}

main() {
    local kpkg kver bbver hash work kdeb bbdeb kroot moddir m f initrd aptstamp
    command -v apt-get >/dev/null || die "apt-get not found"
    command -v gcc >/dev/null || die "gcc not found (apt-get install gcc libc6-dev)"
    command -v qemu-img >/dev/null || die "qemu-img not found (apt-get install qemu-utils)"
    command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
    mkdir -p "$outdir/.debs"
    # apt-cache takes about half a second per call: remember what it
    # answered until the package lists change.
    aptstamp=$(stat -c '%n %Y' /var/lib/apt/lists/*Packages* 2>/dev/null |
        sha256sum | cut -d' ' -f1)
    if [ -f "$outdir/.apt" ] && [ "$(sed -n 1p "$outdir/.apt")" = "$aptstamp" ]; then
        read -r kpkg kver bbver < <(sed -n 2p "$outdir/.apt")
    else
        ensure_apt_lists
        kpkg=$(kernel_pkg)
        [ -n "$kpkg" ] || die "cannot resolve the dependency of $kmeta"
        kver=$(pkg_candidate "$kpkg")
        bbver=$(pkg_candidate busybox-static)
        printf '%s\n%s %s %s\n' "$aptstamp" "$kpkg" "$kver" "$bbver" >"$outdir/.apt"
    fi
    hash=$(inputs_hash "$kpkg=$kver" "$bbver")
    if [ -f "$outdir/.inputs" ] && [ "$(cat "$outdir/.inputs")" = "$hash" ] &&
        [ -s "$outdir/vmlinuz" ] && [ -s "$outdir/initrd.img" ] &&
        [ -s "$outdir/base.qcow2" ]; then
        log "up to date ($outdir)"
        return 0
    fi

    work=$(mktemp -d /tmp/umbra-guest-build.XXXXXX)
    # shellcheck disable=SC2064 # expand $work now
    trap "rm -rf '$work'" EXIT

    kdeb=$(fetch_deb "$kpkg")
    bbdeb=$(fetch_deb busybox-static)
    log "extracting $(basename "$kdeb")"
    dpkg-deb -x "$kdeb" "$work/kernel"
    dpkg-deb -x "$bbdeb" "$work/busybox"
    kroot=$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    [ -n "$kroot" ] || die "no modules in $kdeb"

    log "building initramfs"
    f=$work/root
    mkdir -p "$f"/bin "$f"/sbin "$f"/etc/acpi/PWRF "$f"/lib/modules "$f"/proc \
        "$f"/sys "$f"/dev "$f"/run "$f"/tmp "$f"/www/cgi-bin "$f"/var/log
    cp "$work/busybox/bin/busybox" "$f/bin/busybox"
    for m in $("$f/bin/busybox" --list); do
        [ "$m" = busybox ] || ln -s busybox "$f/bin/$m"
    done
    ln -s ../bin/busybox "$f/sbin/init"
    ln -s bin/busybox "$f/init"
    moddir=$f/lib/modules
    while read -r m; do
        case "$m" in '' | '#'*) continue ;; esac
        f=$(find "$kroot" -name "$m.ko" | head -n 1)
        [ -n "$f" ] || die "module $m not found in $kpkg"
        cp "$f" "$moddir/$m.ko"
    done <"$guestdir/modules"
    f=$work/root
    gcc -static -O2 -Wall -Wextra -o "$f/bin/umbra-work" "$guestdir/umbra-work.c"
    strip "$f/bin/umbra-work"
    ln -s ../../bin/umbra-work "$f/www/cgi-bin/work"
    ln -s ../../bin/umbra-work "$f/www/cgi-bin/counter"
    ln -s ../../bin/umbra-work "$f/www/cgi-bin/disk"
    ln -s ../../bin/umbra-work "$f/www/cgi-bin/efivar"
    echo "umbra lab guest: try /cgi-bin/work?cpu_ms=20&mem_kb=2048 and /cgi-bin/counter" \
        >"$f/www/index.html"
    install -m 0644 "$guestdir/inittab" "$f/etc/inittab"
    install -m 0755 "$guestdir/rc.S" "$f/etc/rc.S"
    install -m 0644 "$guestdir/modules" "$f/etc/modules"
    install -m 0755 "$guestdir/acpi-poweroff" "$f/etc/acpi/PWRF/00000080"
    echo "root:x:0:0:root:/:/bin/sh" >"$f/etc/passwd"
    echo "root:x:0:" >"$f/etc/group"

    initrd=$work/initrd.img
    (cd "$f" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --owner 0:0 --quiet) | gzip -9 >"$initrd"
    cp "$work/kernel/boot/vmlinuz-"* "$work/vmlinuz"
    qemu-img create -q -f qcow2 "$work/base.qcow2" 64M

    # Replace the outputs only when everything was built.
    install -m 0644 "$work/vmlinuz" "$outdir/vmlinuz.new"
    install -m 0644 "$initrd" "$outdir/initrd.img.new"
    mv -f "$outdir/vmlinuz.new" "$outdir/vmlinuz"
    mv -f "$outdir/initrd.img.new" "$outdir/initrd.img"
    if [ ! -s "$outdir/base.qcow2" ]; then
        install -m 0644 "$work/base.qcow2" "$outdir/base.qcow2"
    fi
    echo "$hash" >"$outdir/.inputs"
    find "$outdir/.debs" -maxdepth 1 -name '*.deb' \
        ! -name "$(basename "$kdeb")" ! -name "$(basename "$bbdeb")" -delete
    log "built $outdir (kernel $kpkg $kver, initrd $(du -k "$outdir/initrd.img" | cut -f1) KiB)"
}

main "$@"
