#!/bin/sh
# hvmloader-hvminfo.sh - the Xen path: an hvm_info_table at 0x9F800 (put
# there by QEMU's loader device, as Xen's domain builder would) is what the
# firmware believes over CMOS: vCPU count, Xen's APIC IDs (2 * vCPU), the
# low RAM end.  A table with a bad checksum is ignored.
. "$top_srcdir/tests/integration/hvmloader/lib.sh"
hvm_need qemu-system-i386 iasl acpiexec dmidecode biosdecode
hvm_need_fw
hvm_tmpdir

# QEMU has 4 CPUs and 256 MiB; the table says 3 vCPUs and 128 MiB
"$HVMDUMP" hvminfo -n 3 -m 128 "$HVM_TMP/hvminfo.bin" || exit 1
hvm_boot "$HVM_TMP/good" 4 256 \
	-device "loader,file=$HVM_TMP/hvminfo.bin,addr=0x9F800,force-raw=on" || exit 1
grep -q 'config from hvm_info_table' "$HVM_TMP/good/console.log" ||
	hvm_fail "hvm_info_table not used"
hvm_validate "$HVM_TMP/good" 3
ids=$(grep 'Local Apic ID' "$HVM_TMP/good/iasl/APIC.dsl" | awk '{print $NF}' | tr '\n' ' ')
[ "$ids" = "00 02 04 " ] || hvm_fail "MADT APIC IDs are '$ids', want Xen's 00 02 04"
grep -q '0000000000100000-0000000007feffff RAM' "$HVM_TMP/good/console.log" ||
	hvm_fail "E820 does not end low RAM at 128 MiB"
echo "hvm_info_table: 3 vCPUs, APIC IDs $ids, 128 MiB"

# the same table with a broken checksum: CMOS (4 vCPUs, 256 MiB) wins
cp "$HVM_TMP/hvminfo.bin" "$HVM_TMP/bad.bin"
printf '\125' | dd of="$HVM_TMP/bad.bin" bs=1 seek=12 conv=notrunc 2>/dev/null
hvm_boot "$HVM_TMP/bad" 4 256 \
	-device "loader,file=$HVM_TMP/bad.bin,addr=0x9F800,force-raw=on" || exit 1
grep -q '4 vCPUs, low RAM 10000000' "$HVM_TMP/bad/console.log" ||
	hvm_fail "a bad hvm_info_table checksum was not rejected"
echo "hvm_info_table with a bad checksum: ignored"

[ "$HVM_FAILS" = 0 ] || { echo "$HVM_FAILS failure(s)"; exit 1; }
echo "hvm_info_table path works"
