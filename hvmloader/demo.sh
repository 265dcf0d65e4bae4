#!/bin/sh
# hvmloader/demo.sh - boot the firmware image in QEMU (TCG, -M pc) and print
# what it wrote: E820, ACPI, SMBIOS, MP and the PCI BARs it assigned, then
# the validators' verdicts and the boot time.
#
#   hvmloader/demo.sh [BUILDDIR] [SMP] [MEM_MIB]
#
# BUILDDIR defaults to $top_builddir or ./build; SMP to 4, MEM_MIB to 2048.
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${1:-${top_builddir:-$top_srcdir/build}}
top_builddir=$(cd "$top_builddir" && pwd)
smp=${2:-4}
mem=${3:-2048}
export top_srcdir top_builddir
. "$top_srcdir/tests/integration/hvmloader/lib.sh"
hvm_need qemu-system-i386
hvm_need_fw
hvm_tmpdir

echo "Booting $HVM_FW: qemu-system-i386 -M pc -accel tcg -smp $smp -m $mem" \
	"-device e1000 -device VGA"
set +e
HVM_APPEND="sys_manufacturer=splitdrv sys_product=hvmloader_demo uuid=5a1d0000-0000-4000-8000-000000000001" \
	hvm_boot "$HVM_TMP/demo" "$smp" "$mem" -device e1000 -device VGA || exit 1
echo
echo "---- firmware console (port 0xE9) ----"
cat "$HVM_TMP/demo/console.log"
echo
echo "---- table summary (from the dump stream on port 0x7F0) ----"
"$HVMDUMP" summary "$HVM_TMP/demo/t"
echo
echo "---- validators ----"
if command -v iasl >/dev/null && command -v acpiexec >/dev/null &&
   command -v dmidecode >/dev/null && command -v biosdecode >/dev/null; then
	hvm_validate "$HVM_TMP/demo" "$smp"
else
	hvm_check_ours "$HVM_TMP/demo" "$smp"
	echo "(install acpica-tools and dmidecode for iasl, acpiexec, dmidecode, biosdecode)"
fi
"$HVMDUMP" pcicheck "$HVM_TMP/demo/t" "$HVM_TMP/demo/qmp.out" | tail -1 |
	sed 's/^/query-pci: /'
echo
echo "---- boot time ----"
echo "QEMU start to tables written and dumped: ${HVM_BOOT_MS} ms"
t0=$(hvm_now_ms)
qemu-system-i386 -M pc -accel tcg -smp "$smp" -m "$mem" -display none -vga none \
	-nodefaults -no-reboot -kernel "$HVM_FW" -append "exit=1" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 >/dev/null 2>&1
rc=$?
t1=$(hvm_now_ms)
echo "QEMU start to QEMU exit, no dump (exit=1): $((t1 - t0)) ms (exit status $rc, 33 = ok)"
[ "$HVM_FAILS" = 0 ] && echo "demo: all validators passed" || {
	echo "demo: $HVM_FAILS failure(s)"
	exit 1
}
