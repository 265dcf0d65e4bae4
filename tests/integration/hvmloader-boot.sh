#!/bin/sh
# hvmloader-boot.sh - boot the firmware image under qemu-system-i386 -M pc
# (TCG) in several machine shapes (1 to 128 vCPUs, 256 MiB to 3.5 GiB, with
# e1000, VGA, virtio-net and a 2 GiB 64-bit BAR); for each, every table it
# wrote must pass the external validators and ours, and the BARs it
# assigned must be what QEMU reports over QMP (query-pci): same places, no
# overlaps, inside the windows.
. "$top_srcdir/tests/integration/hvmloader/lib.sh"
hvm_need qemu-system-i386 iasl acpiexec dmidecode biosdecode
hvm_need_fw
hvm_tmpdir

n=0
# smp  MiB   extra devices
while read -r smp mem devs; do
	n=$((n + 1))
	d=$HVM_TMP/boot$n
	echo "== boot $n: -smp $smp -m $mem $devs"
	# shellcheck disable=SC2086
	hvm_boot "$d" "$smp" "$mem" $devs || continue
	echo "firmware finished after ${HVM_BOOT_MS} ms (QEMU start to 'done')"
	grep -q "hvmloader: $smp vCPUs" "$d/console.log" ||
		hvm_fail "firmware did not see $smp vCPUs"
	hvm_validate "$d" "$smp"
	if "$HVMDUMP" pcicheck "$d/t" "$d/qmp.out" >"$d/pcicheck.log" 2>&1; then
		echo "query-pci: $(tail -1 "$d/pcicheck.log")"
	else
		hvm_fail "BARs differ from query-pci:"
		grep FAIL "$d/pcicheck.log"
	fi
done <<'MATRIX'
1 256
4 256 -device e1000 -device VGA
4 3584 -device e1000 -device VGA
2 3584 -device VGA -device virtio-net-pci
15 1024 -device e1000
128 1024
2 3584 -object memory-backend-ram,id=m,size=2G -device ivshmem-plain,memdev=m
MATRIX

# the E820 the firmware wrote for 3.5 GiB has RAM above 4 GiB (QEMU keeps
# 3 GiB below the hole)
grep -q '0000000100000000-' "$HVM_TMP/boot3/console.log" ||
	hvm_fail "3.5 GiB guest: no RAM above 4 GiB in the E820"

# the command line overrides CMOS: fewer vCPUs, less memory (never more)
d=$HVM_TMP/cmdline
echo "== command line: vcpus=2 mem=3328 on -smp 4 -m 3584"
if HVM_APPEND="vcpus=2 mem=3328" hvm_boot "$d" 4 3584; then
	grep -q '2 vCPUs, low RAM c0000000, high RAM end 110000000' "$d/console.log" ||
		hvm_fail "vcpus=/mem= not applied: $(grep vCPUs "$d/console.log")"
	hvm_validate "$d" 2
fi

# a 2 GiB 64-bit BAR cannot fit below 4 GiB: it goes above high RAM, and
# the SSDT widens PCI0._CRS with a 64-bit window for it
grep -q 'BAR2 m64 180000000 size 80000000' "$HVM_TMP/boot7/console.log" ||
	hvm_fail "the 2 GiB ivshmem BAR was not placed above 4 GiB"
grep -q 'Length 9C' "$HVM_TMP/boot7/acpiexec.log" ||
	hvm_fail "PCI0._CRS has no 64-bit window for it"

[ "$HVM_FAILS" = 0 ] || { echo "$HVM_FAILS failure(s)"; exit 1; }
echo "all boots validated"
