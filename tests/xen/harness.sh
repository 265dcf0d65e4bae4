#!/usr/bin/env bash
# tests/xen/harness.sh - run splitdrv's real-Xen scenarios: Debian's Xen
# hypervisor, a Debian Linux dom0 holding splitdrv's installed binaries and
# Linux PV domUs, booted under qemu-system-x86_64 (TCG), one boot per
# scenario. See doc/xen-harness.md.
#
# Usage: harness.sh [options] [SCENARIO...]     (default: every scenario)
#   --builddir DIR   splitdrv's configured build directory (default:
#                    $top_builddir, else ./build); built, installed with
#                    make install DESTDIR=<work>/destdir
#   --xs xen|splitdrv  dom0's xenstored: Debian's C xenstored (xen) or
#                    ours (splitdrv); default $XS, else xen
#   --shell          interactive: the serial console on this terminal and a
#                    root shell in dom0 after the scenario (one scenario)
#   --timeout SECS   limit per boot (default: the scenario's `timeout` file,
#                    else 300; dom0 stops the scenario 45 s before, to dump
#                    its logs)
#   --no-build       use the install of the last run (<work>/destdir) and
#                    the hvcheck already built: no make at all
#   --list           list the scenarios and exit
# Environment: SPLITDRV_XEN_CACHE (downloads, default /var/tmp/splitdrv-xen),
#   SPLITDRV_XEN_WORK (images and logs, default <builddir>/tests/xen/work).
# Exit: 0 all passed, 1 a scenario failed, 2 the harness could not run.
# The last line is the verdict.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/../.." && pwd)

builddir=${top_builddir:-}
XS=${XS:-splitdrv}
SHELL_MODE=0
TIMEOUT_OPT=""
LIST=0
BUILD=1
scenarios=()

say() { printf 'xen-harness: %s\n' "$*"; }
die() { printf 'xen-harness: %s\n' "$*" >&2; echo "xen-harness: ERROR ($*)"; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$2; shift 2 ;;
	--builddir=*) builddir=${1#*=}; shift ;;
	--xs) XS=$2; shift 2 ;;
	--xs=*) XS=${1#*=}; shift ;;
	--shell) SHELL_MODE=1; shift ;;
	--timeout) TIMEOUT_OPT=$2; shift 2 ;;
	--timeout=*) TIMEOUT_OPT=${1#*=}; shift ;;
	--list) LIST=1; shift ;;
	--no-build) BUILD=0; shift ;;
	-h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) scenarios+=("$1"); shift ;;
	esac
done

all_scenarios() { (cd "$here/scenarios" && ls -1d */ | tr -d / | LC_ALL=C sort); }
if [ $LIST -eq 1 ]; then
	all_scenarios
	exit 0
fi
[ ${#scenarios[@]} -gt 0 ] || mapfile -t scenarios < <(all_scenarios)
for s in "${scenarios[@]}"; do
	[ -f "$here/scenarios/$s/dom0.sh" ] || die "no scenario '$s' (see --list)"
done
case $XS in xen|splitdrv) ;; *) die "--xs must be xen or splitdrv, not '$XS'" ;; esac
[ $SHELL_MODE -eq 0 ] || [ ${#scenarios[@]} -eq 1 ] || die "--shell takes exactly one scenario"

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get download, make install, qemu)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (Debian: qemu-system-x86)"
builddir=${builddir:-$srcdir/build}
builddir=$(cd "$builddir" 2>/dev/null && pwd) || die "no build directory $builddir"
[ -f "$builddir/config.status" ] || die "$builddir is not a configured build directory"
cache=$(realpath -m "${SPLITDRV_XEN_CACHE:-/var/tmp/splitdrv-xen}")
work=$(realpath -m "${SPLITDRV_XEN_WORK:-$builddir/tests/xen/work}")
mkdir -p "$cache" "$work/logs"

# One harness at a time per cache (make check in two build directories).
exec 9> "$cache/harness.lock"
if ! flock -n 9; then
	say "another harness holds $cache/harness.lock; waiting"
	flock 9
fi

t0=$(date +%s)
# ---- 1. the packages ----
stage=$(bash "$here/fetch.sh" 2> "$work/logs/fetch.log") ||
	{ tail -20 "$work/logs/fetch.log"; die "fetch failed (log: $work/logs/fetch.log)"; }

# ---- 2. splitdrv, built and installed into a DESTDIR ----
hvcheck=""
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$builddir" "$@"; }
if [ $BUILD -eq 1 ]; then
	rm -rf "$work/destdir"
	{
		mk -j2 all &&
		mk install DESTDIR="$work/destdir" &&
		if grep -q '^#define HAVE_XEN_PROVIDER 1' "$builddir/config.h"; then
			mk tests/xen/hvcheck
		fi
	} > "$work/logs/make.log" 2>&1 ||
		{ tail -30 "$work/logs/make.log"; die "build/install failed (log: $work/logs/make.log)"; }
else
	[ -d "$work/destdir" ] || die "--no-build: no $work/destdir from an earlier run"
fi
[ -x "$builddir/tests/xen/hvcheck" ] ||
	die "no tests/xen/hvcheck: the xen provider is not built (configure --with-xen=yes)"
hvcheck=$builddir/tests/xen/hvcheck
if [ "$XS" = splitdrv ] && [ -z "$(find "$work/destdir" -path '*/sbin/xenstored' -print -quit)" ]; then
	die "--xs splitdrv: no sbin/xenstored in the install"
fi

# ---- 3. boot images ----
out=$work/out
bash "$here/images.sh" "$stage" "$work/destdir" "$hvcheck" "$out" > "$work/logs/images.log" 2>&1 ||
	{ tail -30 "$work/logs/images.log"; die "image build failed (log: $work/logs/images.log)"; }
say "$(tail -1 "$work/logs/images.log"); prepared in $(( $(date +%s) - t0 )) s"
BB=$stage/bin/busybox

cpio_gz() { # ROOT OUTFILE
	(cd "$1" && find . | LC_ALL=C sort | "$BB" cpio -o -H newc 2>/dev/null | gzip -1) > "$2"
}

# scenario_initrd NAME - dom0's initrd for one scenario: the base image
# plus a second archive with /harness/scenario and the domU's initrd
# (the domU base plus the scenario's domU.sh); in between, for a scenario
# whose domU.cfg says type = "hvm", the HVM part (images.sh).
scenario_initrd() {
	local name=$1 sdir=$here/scenarios/$1 ov=$out/overlay-$1
	rm -rf "$ov" "$ov-domU"
	mkdir -p "$ov/harness/scenario" "$ov/domu"
	cp "$sdir"/* "$ov/harness/scenario/"
	if [ -f "$sdir/domU.sh" ]; then
		mkdir -p "$ov-domU/scenario"
		cp "$sdir/domU.sh" "$ov-domU/scenario/"
		cpio_gz "$ov-domU" "$out/domU-$name.cpio.gz"
		# One gzip stream: libxenguest unzips a domU's ramdisk itself
		# and stops at the end of the first stream.
		zcat "$out/domU-base.cpio.gz" "$out/domU-$name.cpio.gz" | gzip -1 > "$ov/domu/initrd.gz"
	fi
	cpio_gz "$ov" "$out/dom0-$name.cpio.gz"
	# An HVM guest's firmware and device model only where one runs: the
	# other scenarios' dom0 stays small.
	local hvm=""
	grep -Eq '^[[:space:]]*type[[:space:]]*=[[:space:]]*"hvm"' "$sdir/domU.cfg" 2>/dev/null &&
		hvm=$out/dom0-hvm.cpio.gz
	cat "$out/dom0-base.cpio.gz" $hvm "$out/dom0-$name.cpio.gz" > "$out/initrd-$name.gz"
}

# boot NAME LOG - Xen + dom0 under qemu (TCG); the serial console to LOG.
boot() {
	local name=$1 log=$2 xenargs dom0args
	# smap=0: dom0 crashes at once under TCG without it.
	# spec-ctrl=eager-fpu: with lazy FPU switching, processes in dom0
	# and domUs see corrupted FPU/SSE state on this emulated CPU.
	xenargs="console=com1 com1=115200,8n1 smap=0 spec-ctrl=eager-fpu"
	xenargs="$xenargs dom0_mem=768M,max:768M dom0_max_vcpus=2"
	dom0args="console=hvc0 earlyprintk=xen loglevel=4"
	dom0args="$dom0args splitdrv.scenario=$name splitdrv.xs=$XS"
	if [ $SHELL_MODE -eq 1 ]; then
		dom0args="$dom0args splitdrv.shell=1"
	else
		# dom0 stops the scenario in time to dump its logs.
		dom0args="$dom0args splitdrv.deadline=$((TIMEOUT - 45))"
	fi
	local qemu=(qemu-system-x86_64 -M pc -accel tcg,thread=multi -cpu max
		-smp 2 -m 2048 -display none -monitor none -no-reboot
		-kernel "$out/xen" -append "$xenargs"
		-initrd "$out/vmlinuz $dom0args,$out/initrd-$name.gz")
	if [ $SHELL_MODE -eq 1 ]; then
		say "serial console follows; in dom0's shell, 'exit' powers off;" \
			"Ctrl-A three times switches input to Xen"
		"${qemu[@]}" -serial stdio 2>&1 | tee "$log"
	else
		timeout --foreground -k 10 "$TIMEOUT" "${qemu[@]}" \
			-serial "file:$log" </dev/null >"$log.qemu" 2>&1
	fi
}

# check NAME LOG - the verdict of one scenario from its serial log:
# prints "" when it passed, else the first reason.
check() {
	local name=$1 log=$2 m line
	if ! grep -aq 'HARNESS dom0-ready' "$log"; then
		echo "dom0 never got ready"
		return
	fi
	line=$(grep -aE '(^|\] )(FAIL |HVCHECK FAIL |HARNESS FAIL )|Panic on CPU|Kernel panic|ERROR: AddressSanitizer|runtime error:' "$log" | head -1 | tr -d '\r')
	if [ -n "$line" ]; then
		echo "$line"
		return
	fi
	if ! grep -aqF "HARNESS scenario $name rc=" "$log"; then
		echo "dom0 did not finish the scenario (timeout after ${TIMEOUT}s?)"
		return
	fi
	if ! grep -aqF "HARNESS scenario $name rc=0" "$log"; then
		echo "dom0.sh: $(grep -aF "HARNESS scenario $name rc=" "$log" | head -1 | tr -d '\r')"
		return
	fi
	if [ -f "$here/scenarios/$name/markers" ]; then
		while IFS= read -r m; do
			case $m in ''|'#'*) continue ;; esac
			grep -aqF -- "$m" "$log" || { echo "missing marker '$m'"; return; }
		done < "$here/scenarios/$name/markers"
	fi
	grep -aq 'HARNESS poweroff' "$log" || echo "dom0 did not power off"
}

# show_failure LOG - the serial log's end and dom0's daemon logs.
show_failure() {
	local log=$1
	echo "---- last 60 lines of the serial log ($log) ----"
	grep -av 'HARNESS log-' "$log" | tr -d '\r' | tail -60
	echo "---- daemon logs (from dom0) ----"
	if grep -aq 'HARNESS log-begin' "$log"; then
		sed -n '/HARNESS log-begin/,/HARNESS log-end/p' "$log" | tr -d '\r' | tail -200
	else
		echo "(dom0 did not get to dump them)"
	fi
	[ -s "$log.qemu" ] && { echo "---- qemu ----"; tail -20 "$log.qemu"; }
	echo "----"
}

passed=0 failed=0
failed_names=()
for name in "${scenarios[@]}"; do
	scenario_initrd "$name"
	# The limit of this boot: --timeout, else the scenario's own, else 300.
	TIMEOUT=300
	[ ! -f "$here/scenarios/$name/timeout" ] ||
		TIMEOUT=$(tr -dc 0-9 < "$here/scenarios/$name/timeout")
	TIMEOUT=${TIMEOUT_OPT:-${TIMEOUT:-300}}
	log=$work/logs/$name.log
	rm -f "$log" "$log.qemu"
	s0=$(date +%s)
	rc=0
	boot "$name" "$log" || rc=$?
	wall=$(( $(date +%s) - s0 ))
	reason=$(check "$name" "$log")
	[ $rc -eq 124 ] && [ -n "$reason" ] && reason="$reason; qemu killed after ${TIMEOUT} s"
	if [ -z "$reason" ]; then
		passed=$((passed + 1))
		say "PASS $name (xs=$XS, ${wall} s) log: $log"
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		say "FAIL $name (xs=$XS, ${wall} s): $reason"
		show_failure "$log"
	fi
done

total=$(( $(date +%s) - t0 ))
if [ $failed -eq 0 ]; then
	say "PASS: ${passed}/${#scenarios[@]} scenarios passed (xs=$XS) in ${total} s"
	exit 0
fi
say "FAIL: ${failed}/${#scenarios[@]} scenarios failed (${failed_names[*]}) (xs=$XS) in ${total} s"
exit 1
