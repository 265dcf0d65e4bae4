#!/bin/sh
# hvmloader-broken.sh - proof that each validator the other tests rely on
# would catch a broken table: boot once, then break one thing at a time in
# a copy of what the firmware wrote and expect that validator to object.
. "$top_srcdir/tests/integration/hvmloader/lib.sh"
hvm_need qemu-system-i386 iasl acpiexec dmidecode biosdecode
hvm_need_fw
hvm_tmpdir

good=$HVM_TMP/good
hvm_boot "$good" 2 256 -device e1000 || exit 1
hvm_validate "$good" 2 >"$HVM_TMP/good.log"
if [ "$HVM_FAILS" != 0 ]; then
	cat "$HVM_TMP/good.log"
	echo "the unbroken tables do not validate: nothing to prove"
	exit 1
fi

# poke FILE OFFSET BYTE(octal escape): overwrite one byte in place
poke() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# fresh copy of the good output in $b
copy() {
	b=$HVM_TMP/$1
	rm -rf "$b"
	mkdir -p "$b"
	cp -r "$good/t" "$b/t"
}

# expect NAME: the validator run by the rest of the line must report a failure
expect_caught() {
	name=$1
	shift
	before=$HVM_FAILS
	"$@" >"$b/run.log" 2>&1
	if [ "$HVM_FAILS" -gt "$before" ]; then
		HVM_FAILS=$before
		echo "caught: $name"
	else
		echo "FAIL: not caught: $name"
		cat "$b/run.log"
		HVM_FAILS=$((before + 1))
	fi
}

copy madt
poke "$b/t/APIC.bin" 9 '\125'	# checksum byte
expect_caught "iasl -d: MADT with a bad checksum" hvm_check_iasl "$b"

copy dsdt
poke "$b/t/DSDT.bin" 9 '\125'
expect_caught "acpiexec: DSDT with a bad checksum" hvm_check_acpiexec "$b"

copy ssdt
poke "$b/t/SSDT.bin" 9 '\125'
expect_caught "acpiexec: SSDT with a bad checksum" hvm_check_acpiexec "$b"

copy smbios
poke "$b/t/LOWMEM.bin" $((0xEB001)) '\007'	# type 0 length 26 -> 7
expect_caught "dmidecode: a structure with a wrong length" hvm_check_dmidecode "$b" 2

copy sm3
poke "$b/t/LOWMEM.bin" $((0xF0045)) '\125'	# _SM3_ checksum
expect_caught "dmidecode: _SM3_ with a bad checksum" hvm_check_dmidecode "$b" 2

copy rsdp
poke "$b/t/LOWMEM.bin" $((0xF0008)) '\125'	# RSDP checksum
expect_caught "biosdecode: RSDP with a bad checksum" hvm_check_biosdecode "$b" 2

copy mpfp
poke "$b/t/LOWMEM.bin" $((0xF008A)) '\125'	# MP floating pointer checksum
expect_caught "biosdecode: MP floating pointer with a bad checksum" hvm_check_biosdecode "$b" 2

copy mp
poke "$b/t/LOWMEM.bin" $((0xE8000 + 44 + 4)) '\125'	# a CPU signature byte
expect_caught "MP checker: MP table with a bad checksum" hvm_check_ours "$b" 2

copy acpi
poke "$b/t/HPET.bin" 40 '\125'
expect_caught "hvmdump check: HPET with a bad checksum" hvm_check_ours "$b" 2

copy e820
poke "$b/t/E820.bin" 21 '\000'	# entry 1 from 0x9F000 to 0x90000: overlaps entry 0
expect_caught "hvmdump check: overlapping E820" hvm_check_ours "$b" 2

copy bars
cp "$good/qmp.out" "$b/qmp.out"
sed -i 's/"address": \([0-9]*\)/"address": 1\1/' "$b/qmp.out"
pcicheck() {
	"$HVMDUMP" pcicheck "$1/t" "$1/qmp.out" || hvm_fail "pcicheck"
}
expect_caught "pcicheck: BARs QEMU reports elsewhere" pcicheck "$b"

[ "$HVM_FAILS" = 0 ] || { echo "$HVM_FAILS validator(s) missed a broken table"; exit 1; }
echo "every validator caught its broken table"
