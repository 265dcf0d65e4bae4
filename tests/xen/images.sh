#!/usr/bin/env bash
# tests/xen/images.sh - build the boot files of the real-Xen harness.
#
# Usage: images.sh STAGE DESTDIR HVCHECK OUT
#   STAGE    fetch.sh's unpacked packages (Xen, xen-utils, kernel, busybox)
#   DESTDIR  splitdrv installed there (make install DESTDIR=...)
#   HVCHECK  the built tests/xen/hvcheck ("" when the provider is not built)
#   OUT      where to write:
#     xen                 the hypervisor (ELF, for qemu -kernel)
#     vmlinuz             the Debian kernel (dom0 and domU)
#     dom0-base.cpio.gz   busybox, modules, Xen tools, splitdrv, harness
#     domU-base.cpio.gz   busybox, front-end modules, xenstore-utils
#     dom0-hvm.cpio.gz    what dom0 needs on top of dom0-base to run an HVM
#                         guest: hvmloader, SeaBIOS, qemu-system-xen (with
#                         the libraries dom0-base lacks), its option ROMs
#                         and keymaps; appended only for HVM scenarios
# A scenario adds its own files as a second cpio appended to these (the
# kernel unpacks concatenated archives in order): see harness.sh.
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: images.sh STAGE DESTDIR HVCHECK OUT" >&2; exit 2; }
S=$1 DESTDIR=$2 HVCHECK=$3 OUT=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BB=$S/bin/busybox
die() { printf 'images: %s\n' "$*" >&2; exit 1; }

[ -x "$BB" ] || die "no busybox in $S (run fetch.sh)"
K=$(ls "$S/lib/modules" | sort -V | tail -1)
[ -f "$S/boot/vmlinuz-$K" ] || die "no kernel vmlinuz-$K in $S/boot"
XB=/usr/lib/xen-4.17/bin
LIBDIR=/lib/x86_64-linux-gnu

mkdir -p "$OUT"
zcat "$S/boot/xen-4.17-amd64.gz" > "$OUT/xen"
cp "$S/boot/vmlinuz-$K" "$OUT/vmlinuz"

# base_root ROOT - busybox and the directories every root needs.
base_root() {
	local root=$1 a
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,root,usr/bin,usr/sbin,var/log}
	ln -s ../run "$root/var/run"
	cp "$BB" "$root/bin/busybox"
	for a in $("$BB" --list); do
		[ "$a" = busybox ] || [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
	done
	echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
	echo "root:x:0:" > "$root/etc/group"
}

# copy_mods ROOT MODULE... - the modules and their dependencies.
copy_mods() {
	local root=$1 m line f md
	shift
	md=$root/lib/modules/$K
	mkdir -p "$md"
	for m in "$@"; do
		line=$(grep -E "/$m\.ko(\.[a-z]+)?:" "$S/lib/modules/$K/modules.dep") ||
			die "module $m not in modules.dep of $K"
		for f in ${line%%:*} ${line#*:}; do
			mkdir -p "$md/$(dirname "$f")"
			cp "$S/lib/modules/$K/$f" "$md/$f"
		done
	done
	cp "$S/lib/modules/$K/modules.builtin" "$S/lib/modules/$K/modules.order" "$md/"
	"$BB" depmod -b "$root" "$K"
}

# copy_elf ROOT SRC DST - an executable or library and its shared-library
# closure (ldd, preferring the staged Xen libraries over the host's); a
# library already in $HAVE_ROOT (the root this one is unpacked over) is
# left out.
HAVE_ROOT=""
copy_elf() {
	local root=$1 src=$2 dst=$3 lib base
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	# ldd fails on static or foreign ELF files: nothing to copy then.
	{ LD_LIBRARY_PATH=$S/usr/lib/x86_64-linux-gnu:$DESTDIR/usr/local/lib \
		ldd "$src" 2>/dev/null || true; } |
		awk '/=> not found/ { print "MISSING " $1; next }
		     /=>/ { print $3 } /^\t\/lib64\// { print $1 }' |
		while read -r lib; do
			case $lib in
			MISSING*) die "$src needs ${lib#MISSING } (not found)" ;;
			"") continue ;;
			esac
			base=$(basename "$lib")
			if [ -n "$HAVE_ROOT" ] && { [ -e "$HAVE_ROOT$LIBDIR/$base" ] ||
			   [ -e "$HAVE_ROOT/lib64/$base" ]; }; then
				continue
			elif [ "$base" = ld-linux-x86-64.so.2 ]; then
				mkdir -p "$root/lib64"
				[ -e "$root/lib64/$base" ] || cp -L "$lib" "$root/lib64/$base"
			else
				mkdir -p "$root$LIBDIR"
				[ -e "$root$LIBDIR/$base" ] || cp -L "$lib" "$root$LIBDIR/$base"
			fi
		done
}

# copy_staged ROOT PATH... - executables from the stage, same path.
copy_staged() {
	local root=$1 p
	shift
	for p in "$@"; do
		[ -e "$S$p" ] || die "$p not in the stage"
		copy_elf "$root" "$S$p" "$p"
	done
}

# xenstore_utils ROOT - the xenstore client and its per-command names.
xenstore_utils() {
	local root=$1 t
	copy_staged "$root" /usr/bin/xenstore
	for t in read write ls list rm exists chmod watch; do
		ln -sf xenstore "$root/usr/bin/xenstore-$t"
	done
}

cpio_gz() { # ROOT OUTFILE
	(cd "$1" && find . | LC_ALL=C sort | "$BB" cpio -o -H newc 2>/dev/null | gzip -1) > "$2"
}

# ---------------- domU ----------------
U=$OUT/rootU
base_root "$U"
copy_mods "$U" xen-blkfront xen-netfront
xenstore_utils "$U"
# xenstore-watch's libc aborts at exit without libgcc_s (pthread_cancel).
cp -L "$LIBDIR/libgcc_s.so.1" "$U$LIBDIR/"
install -m 0755 "$here/init-domU" "$U/init"
cpio_gz "$U" "$OUT/domU-base.cpio.gz"

# ---------------- dom0 ----------------
D=$OUT/root0
base_root "$D"
copy_mods "$D" xen-evtchn xenfs xen-gntdev xen-gntalloc xen-privcmd \
	xen-blkback xen-netback loop
copy_staged "$D" $XB/xl $XB/xenstored $XB/xenconsoled $XB/xen-init-dom0 \
	$XB/libxl-save-helper $XB/xenstore-control
xenstore_utils "$D"
# xl aborts without libgcc_s (pthread_cancel needs it to unwind).
cp -L "$LIBDIR/libgcc_s.so.1" "$D$LIBDIR/"
mkdir -p "$D/etc/xen/scripts" "$D/var/lib/xen" "$D/var/log/xen" \
	"$D/run/xen" "$D/run/xenstored" "$D/var/lib/xenstored" "$D/domu" \
	"$D/harness"
cp "$S/etc/xen/xl.conf" "$D/etc/xen/"
install -m 0755 "$here"/hotplug/* \
	"$D/etc/xen/scripts/"

# splitdrv as installed: every executable (with its libraries) at its path.
if [ -d "$DESTDIR" ]; then
	(cd "$DESTDIR" && find . -type f) | while read -r f; do
		f=${f#.}
		if [ -x "$DESTDIR$f" ] &&
		   [ "$(head -c 4 "$DESTDIR$f" | tr -d '\000')" = $'\177ELF' ]; then
			copy_elf "$D" "$DESTDIR$f" "$f"
		else
			mkdir -p "$D$(dirname "$f")"
			cp -a "$DESTDIR$f" "$D$f"
		fi
	done
fi
if [ -n "$HVCHECK" ]; then
	copy_elf "$D" "$HVCHECK" /usr/libexec/splitdrv-tests/hvcheck
fi
install -m 0755 "$here/init-dom0" "$D/init"
install -m 0644 "$here/dom0-lib.sh" "$D/harness/dom0-lib.sh"
cp "$OUT/vmlinuz" "$D/domu/vmlinuz"
cpio_gz "$D" "$OUT/dom0-base.cpio.gz"

# ---------------- dom0, HVM part ----------------
# libxl builds an HVM guest with hvmloader, hands it SeaBIOS, and runs
# qemu-system-xen as its device model; with kernel= qemu loads the kernel
# through fw_cfg with its linuxboot option ROM.
H=$OUT/root0-hvm
rm -rf "$H"
mkdir -p "$H/usr/share/qemu" "$H/usr/share/seabios"
HAVE_ROOT=$D
copy_staged "$H" /usr/lib/xen-4.17/boot/hvmloader /usr/libexec/xen-qemu-system-i386
HAVE_ROOT=""
cp "$S/usr/share/seabios/bios-256k.bin" "$H/usr/share/seabios/"
for f in linuxboot.bin linuxboot_dma.bin; do
	[ -f "/usr/share/qemu/$f" ] || die "no /usr/share/qemu/$f (Debian: qemu-system-data)"
	cp "/usr/share/qemu/$f" "$H/usr/share/qemu/"
done
cp -a /usr/share/qemu/keymaps "$H/usr/share/qemu/"
cpio_gz "$H" "$OUT/dom0-hvm.cpio.gz"
echo "images: kernel $K, dom0 $(du -h "$OUT/dom0-base.cpio.gz" | cut -f1) (+ HVM $(du -h "$OUT/dom0-hvm.cpio.gz" | cut -f1)), domU $(du -h "$OUT/domU-base.cpio.gz" | cut -f1)"
