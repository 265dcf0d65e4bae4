# tests/integration/hvmloader/lib.sh - shared by the hvmloader-*.sh tests and
# hvmloader/demo.sh.  Sourced; expects $top_builddir (and $top_srcdir).
#
#   hvm_need TOOL...          exit 77 with a reason when a tool is missing
#   hvm_tmpdir                make $HVM_TMP, removed on exit
#   hvm_boot DIR SMP MEM [QEMU ARGS...]
#                             boot the firmware in QEMU with dump=1 halt=1,
#                             wait for it to finish, ask QMP query-pci, quit;
#                             leaves DIR/{console.log,dump.bin,qmp.out} and the
#                             split tables in DIR/t; sets HVM_BOOT_MS
#   hvm_validate DIR VCPUS    every external validator on DIR/t (iasl -d,
#                             acpiexec, dmidecode, biosdecode) plus ours
#   hvm_fail MSG              print and count a failure

HVM_FW=${HVM_FW:-$top_builddir/hvmloader/hvmloader.elf}
HVMDUMP=${HVMDUMP:-$top_builddir/hvmloader/hvmdump}
HVM_FAILS=0
PATH=$PATH:/usr/sbin:/sbin

hvm_need() {
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "SKIP: $t not installed (Debian: acpica-tools, dmidecode, qemu-system-x86)"
			exit 77
		fi
	done
	if [ ! -x "$HVMDUMP" ]; then
		echo "SKIP: hvmdump not built (configure found no iasl)"
		exit 77
	fi
}

hvm_need_fw() {
	if [ ! -f "$HVM_FW" ]; then
		echo "SKIP: firmware image not built (no -m32 capable compiler)"
		exit 77
	fi
}

hvm_tmpdir() {
	HVM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hvmloader-test.XXXXXX")
	trap 'hvm_cleanup' EXIT
}

hvm_cleanup() {
	if [ -n "${HVM_QEMU_PID:-}" ]; then
		kill "$HVM_QEMU_PID" 2>/dev/null
		wait "$HVM_QEMU_PID" 2>/dev/null
	fi
	[ -n "${HVM_KEEP:-}" ] || rm -rf "$HVM_TMP"
}

hvm_fail() {
	echo "FAIL: $*"
	HVM_FAILS=$((HVM_FAILS + 1))
}

hvm_now_ms() {
	date +%s%3N
}

# hvm_boot DIR SMP MEM [extra QEMU args]; HVM_APPEND adds to the command line,
# HVM_KERNEL replaces the image
hvm_boot() {
	dir=$1 smp=$2 mem=$3
	shift 3
	mkdir -p "$dir"
	rm -f "$dir/qmp.in"
	mkfifo "$dir/qmp.in"
	t0=$(hvm_now_ms)
	qemu-system-i386 -M pc -accel tcg -smp "$smp" -m "$mem" \
		-display none -vga none -nodefaults -no-reboot \
		-kernel "${HVM_KERNEL:-$HVM_FW}" -append "dump=1 halt=1 ${HVM_APPEND:-}" \
		-debugcon "file:$dir/console.log" \
		-chardev "file,id=dump,path=$dir/dump.bin" \
		-device isa-debugcon,iobase=0x7f0,chardev=dump \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-qmp stdio "$@" <"$dir/qmp.in" >"$dir/qmp.out" 2>"$dir/qemu.err" &
	HVM_QEMU_PID=$!
	exec 3>"$dir/qmp.in"
	echo '{"execute":"qmp_capabilities"}' >&3
	i=0
	while ! grep -q 'hvmloader: done' "$dir/console.log" 2>/dev/null; do
		if ! kill -0 "$HVM_QEMU_PID" 2>/dev/null || [ $i -ge 3000 ]; then
			break
		fi
		sleep 0.01
		i=$((i + 1))
	done
	HVM_BOOT_MS=$(($(hvm_now_ms) - t0))
	echo '{"execute":"query-pci"}' >&3
	echo '{"execute":"quit"}' >&3
	exec 3>&-
	wait "$HVM_QEMU_PID"
	HVM_QEMU_PID=
	if ! grep -q 'hvmloader: done' "$dir/console.log" 2>/dev/null; then
		hvm_fail "firmware did not finish (smp $smp, $mem MiB):"
		tail -5 "$dir/console.log" "$dir/qemu.err" 2>/dev/null
		return 1
	fi
	if ! "$HVMDUMP" split "$dir/dump.bin" "$dir/t" >"$dir/split.log"; then
		hvm_fail "dump stream incomplete"
		return 1
	fi
	return 0
}

HVM_ACPI_TABLES="RSDT XSDT FACP1 FACP FACS DSDT SSDT APIC HPET WAET"

# iasl -d every ACPI table: no warnings, no errors, no bad checksum; DSDT
# and SSDT disassemble and recompile
hvm_check_iasl() {
	d=$1
	mkdir -p "$d/iasl"
	for t in $HVM_ACPI_TABLES; do
		cp "$d/t/$t.bin" "$d/iasl/$t.dat"
		if ! (cd "$d/iasl" && iasl -d "$t.dat") >"$d/iasl/$t.log" 2>&1; then
			hvm_fail "iasl -d $t exited non-zero"
			continue
		fi
		if grep -qi 'incorrect checksum\|warning\|error' "$d/iasl/$t.log" "$d/iasl/$t.dsl"; then
			hvm_fail "iasl -d $t:"
			grep -i 'incorrect checksum\|warning\|error' "$d/iasl/$t.log" "$d/iasl/$t.dsl" | head -5
			continue
		fi
		case $t in
		DSDT|SSDT)
			if ! (cd "$d/iasl" && iasl -vs -we -p "$t-re" "$t.dsl") >"$d/iasl/$t-re.log" 2>&1; then
				hvm_fail "iasl cannot recompile the disassembled $t"
				tail -5 "$d/iasl/$t-re.log"
				continue
			fi
			;;
		esac
	done
	echo "iasl -d: $HVM_ACPI_TABLES checked"
}

# acpiexec loads the rev-6 FADT (and through it FACS), DSDT and SSDT and
# evaluates the methods; lines ending in "(aetests-N)" are acpiexec's own
# self-tests of PM2_CNT and GPE numbers a PIIX4 does not have, not table
# errors
hvm_check_acpiexec() {
	d=$1
	(cd "$d/t" && cp FACP.bin FACP.dat && cp DSDT.bin DSDT.dat && cp SSDT.bin SSDT.dat &&
	 acpiexec -b 'evaluate \_SB.PCI0._CRS; evaluate \_SB.PCI0._PRT; evaluate \_S5; evaluate \_SB.C000._HID' \
		FACP.dat DSDT.dat SSDT.dat) >"$d/acpiexec.log" 2>&1
	if grep -v '(aetests-[0-9]*)$' "$d/acpiexec.log" | grep -qi 'error\|warning\|exception\|checksum\|failure'; then
		hvm_fail "acpiexec:"
		grep -v '(aetests-[0-9]*)$' "$d/acpiexec.log" | grep -i 'error\|warning\|exception\|checksum\|failure' | head -5
		return
	fi
	if ! grep -q 'ACPI: 2 ACPI AML tables successfully acquired and loaded' "$d/acpiexec.log" ||
	   ! grep -q 'Evaluation of \\_SB.PCI0._PRT returned object' "$d/acpiexec.log" ||
	   ! grep -q 'Evaluation of \\_SB.PCI0._CRS returned object' "$d/acpiexec.log" ||
	   ! grep -q '"ACPI0007"' "$d/acpiexec.log"; then
		hvm_fail "acpiexec did not load DSDT+SSDT or evaluate _CRS/_PRT/_HID"
		tail -20 "$d/acpiexec.log"
		return
	fi
	echo "acpiexec: FADT+DSDT+SSDT loaded, _CRS _PRT _S5 C000._HID evaluated"
}

# dmidecode on the 1 MiB low-memory image (scans for _SM3_ like on real
# hardware) and on the same image with _SM3_ removed (exercises _SM_)
hvm_check_dmidecode() {
	d=$1 vcpus=$2
	dmidecode --no-sysfs -d "$d/t/LOWMEM.bin" >"$d/dmi3.log" 2>&1
	cp "$d/t/LOWMEM.bin" "$d/lowmem-no-sm3.bin"
	printf 'XXXXX' | dd of="$d/lowmem-no-sm3.bin" bs=1 seek=$((0xF0040)) conv=notrunc 2>/dev/null
	dmidecode --no-sysfs -d "$d/lowmem-no-sm3.bin" >"$d/dmi2.log" 2>&1
	for log in dmi3 dmi2; do
		if grep -qi 'wrong dmi\|invalid\|broken\|bad\|unknown type\|<OUT OF SPEC>\|No SMBIOS' "$d/$log.log"; then
			hvm_fail "dmidecode ($log):"
			grep -i 'wrong dmi\|invalid\|broken\|bad\|unknown type\|<OUT OF SPEC>\|No SMBIOS' "$d/$log.log" | head -5
		fi
		n4=$(grep -c '^Processor Information' "$d/$log.log")
		[ "$n4" = "$vcpus" ] || hvm_fail "dmidecode ($log): $n4 processors, want $vcpus"
	done
	grep -q '^SMBIOS 3.0.0 present' "$d/dmi3.log" || hvm_fail "dmidecode did not find _SM3_"
	grep -q '^SMBIOS 2.8 present' "$d/dmi2.log" || hvm_fail "dmidecode did not find _SM_"
	grep -q 'End Of Table' "$d/dmi3.log" || hvm_fail "dmidecode: no End Of Table"
	echo "dmidecode: SMBIOS 3.0 and 2.8 entry points decode, $vcpus processors"
}

hvm_check_biosdecode() {
	d=$1 vcpus=$2
	biosdecode -d "$d/t/LOWMEM.bin" >"$d/biosdecode.log" 2>&1
	grep -q '^ACPI 2.0 present' "$d/biosdecode.log" || hvm_fail "biosdecode: no RSDP"
	grep -q '^SMBIOS 3.0.0 present' "$d/biosdecode.log" || hvm_fail "biosdecode: no _SM3_"
	grep -q '^SMBIOS 2.8 present' "$d/biosdecode.log" || hvm_fail "biosdecode: no _SM_"
	if [ "$vcpus" -gt 1 ]; then
		grep -q '^Intel Multiprocessor present' "$d/biosdecode.log" ||
			hvm_fail "biosdecode: no MP floating pointer"
	fi
	echo "biosdecode: RSDP, _SM3_, _SM_$([ "$vcpus" -gt 1 ] && echo ', _MP_') found"
}

hvm_check_ours() {
	d=$1 vcpus=$2
	"$HVMDUMP" check -n "$vcpus" "$d/t" >"$d/check.log" 2>&1 || {
		hvm_fail "hvmdump check:"
		grep FAIL "$d/check.log"
	}
	if [ "$vcpus" -gt 1 ]; then
		"$HVMDUMP" mpcheck -n "$vcpus" "$d/t/LOWMEM.bin" >"$d/mpcheck.log" 2>&1 || {
			hvm_fail "MP checker:"
			cat "$d/mpcheck.log"
		}
	fi
	echo "hvmdump: $(tail -1 "$d/check.log")"
}

hvm_validate() {
	hvm_check_iasl "$1"
	hvm_check_acpiexec "$1"
	hvm_check_dmidecode "$1" "$2"
	hvm_check_biosdecode "$1" "$2"
	hvm_check_ours "$1" "$2"
}
