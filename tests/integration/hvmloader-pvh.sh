#!/bin/sh
# hvmloader-pvh.sh - enter the firmware the way Xen does: through its
# XEN_ELFNOTE_PHYS32_ENTRY note with EBX = hvm_start_info.  QEMU prefers a
# multiboot header when there is one, so boot a copy whose multiboot magic
# is blanked; QEMU then uses the PVH note and passes the command line in
# hvm_start_info.
. "$top_srcdir/tests/integration/hvmloader/lib.sh"
hvm_need qemu-system-i386 iasl acpiexec dmidecode biosdecode
hvm_need_fw
hvm_tmpdir

cp "$HVM_FW" "$HVM_TMP/pvh.elf"
# the multiboot magic 0x1BADB002, little-endian, sits in the first 8 KiB
off=$(od -An -v -tx1 -w4 -N 8192 "$HVM_FW" | awk '$0 ~ /02 b0 ad 1b/ { print (NR - 1) * 4; exit }')
if [ -z "$off" ]; then
	echo "FAIL: no multiboot header found in $HVM_FW"
	exit 1
fi
printf '\000\000\000\000' | dd of="$HVM_TMP/pvh.elf" bs=1 seek="$off" conv=notrunc 2>/dev/null

HVM_KERNEL=$HVM_TMP/pvh.elf HVM_APPEND="sys_product=PVH_entered uuid=12345678-9abc-def0-1234-56789abcdef0" \
	hvm_boot "$HVM_TMP/pvh" 2 512 || exit 1
grep -q 'entered by PVH' "$HVM_TMP/pvh/console.log" || hvm_fail "not entered through the PVH note"
hvm_validate "$HVM_TMP/pvh" 2
grep -q 'Product Name: PVH entered' "$HVM_TMP/pvh/dmi3.log" ||
	hvm_fail "command line from hvm_start_info not applied"
grep -q 'UUID: 12345678-9abc-def0-1234-56789abcdef0' "$HVM_TMP/pvh/dmi3.log" ||
	hvm_fail "UUID from the command line not in SMBIOS type 1"

[ "$HVM_FAILS" = 0 ] || { echo "$HVM_FAILS failure(s)"; exit 1; }
echo "PVH entry works"
