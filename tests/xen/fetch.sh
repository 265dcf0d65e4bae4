#!/usr/bin/env bash
# tests/xen/fetch.sh - download (apt-get download, never install) and unpack
# what the real-Xen harness boots: Debian's Xen hypervisor, the Xen tools and
# the libraries they need, the kernel that linux-image-amd64 points at today,
# busybox-static and xenstore-utils; for HVM guests Xen's device model
# (qemu-system-xen) and SeaBIOS (seabios).
#
# Usage: fetch.sh            (root; needs apt and dpkg-deb)
# Cache: $SPLITDRV_XEN_CACHE (default /var/tmp/splitdrv-xen):
#   debs/          the downloaded .deb files (kept between runs)
#   stage/         all of them unpacked with dpkg-deb -x
#   stage.list     the .deb names the stage was unpacked from
# Re-running downloads only what is missing and re-unpacks only when the set
# of packages changed (e.g. a new kernel ABI). Prints the stage directory.
set -euo pipefail

cache=$(realpath -m "${SPLITDRV_XEN_CACHE:-/var/tmp/splitdrv-xen}")
say() { printf 'fetch: %s\n' "$*" >&2; }
die() { printf 'fetch: %s\n' "$*" >&2; exit 1; }

command -v apt-get >/dev/null || die "apt-get not found (a Debian 12 host is needed)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

# The kernel package the metapackage depends on today, e.g.
# linux-image-6.1.0-56-amd64 (not a pinned version).
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

kpkg=$(kernel_pkg)
if [ -z "$kpkg" ]; then
	say "apt lists look empty: apt-get update"
	apt-get update -qq
	kpkg=$(kernel_pkg)
fi
[ -n "$kpkg" ] || die "cannot resolve the kernel package of linux-image-amd64"

# xl, xenstored, xenconsoled, xen-init-dom0 and the xenstore client need the
# Xen libraries and libyajl; the rest of their closure (libc, libuuid, zlib,
# liblzma, libzstd, libgcc_s) is part of every Debian system and is copied
# from the host.
pkgs=(xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
	libxenmisc4.17 libxenstore4 libxencall1 libxenevtchn1 libxengnttab1
	libxenforeignmemory1 libxendevicemodel1 libxentoolcore1 libxentoollog1
	libxenhypfs1 libyajl2 busybox-static "$kpkg"
	qemu-system-xen seabios)
# qemu-system-xen's other libraries (glib, pixman, spice, ...) are those of
# the host's qemu-system-x86 (a host requirement: the same Depends), its
# option ROMs (linuxboot*.bin) and keymaps the host's qemu-system-data.

mkdir -p "$cache/debs"
# apt's download sandbox user must be able to write there.
id _apt >/dev/null 2>&1 && chown _apt "$cache/debs"
cd "$cache/debs"

# The candidate version of each package, in one apt-cache call.
declare -A cand=()
while read -r p v; do
	cand[$p]=$v
done < <(apt-cache policy "${pkgs[@]}" 2>/dev/null |
	awk '/^[^ ].*:$/ { p = substr($1, 1, length($1) - 1) }
	     $1 == "Candidate:" { print p, $2 }')

missing=()
for p in "${pkgs[@]}"; do
	v=${cand[$p]:-}
	[ -n "$v" ] && [ "$v" != "(none)" ] || die "no candidate for package $p (apt-get update?)"
	compgen -G "${p}_${v//:/%3a}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "apt-get download ${missing[*]}"
	apt-get download -q "${missing[@]}" >&2 ||
		{ apt-get update -qq && apt-get download -q "${missing[@]}" >&2; } ||
		die "apt-get download failed"
fi

# The debs of this set: each package at its candidate version.
want=()
for p in "${pkgs[@]}"; do
	v=${cand[$p]}
	f=$(compgen -G "${p}_${v//:/%3a}_*.deb" | head -1) || die "$p $v was not downloaded"
	want+=("$f")
done
list=$(printf '%s\n' "${want[@]}")

if [ ! -d "$cache/stage" ] || [ "$(cat "$cache/stage.list" 2>/dev/null)" != "$list" ]; then
	say "unpacking ${#want[@]} packages into $cache/stage"
	rm -rf "$cache/stage.new"
	mkdir -p "$cache/stage.new"
	for f in "${want[@]}"; do
		dpkg-deb -x "$f" "$cache/stage.new"
	done
	kver=${kpkg#linux-image-}
	"$cache/stage.new/bin/busybox" depmod -b "$cache/stage.new" "$kver"
	rm -rf "$cache/stage"
	mv "$cache/stage.new" "$cache/stage"
	printf '%s\n' "$list" > "$cache/stage.list"
fi
echo "$cache/stage"
