#!/bin/sh
# loopguest-recipe.sh - doc/loopguest.md's first recipe ("Running one"),
# run word for word from the build directory, does what the page says:
# loophvd, xenstored and blkback each return once serving; a guest with a
# disk is introduced and attached; qemu-io writes and reads 1 MiB, qemu-img
# writes 4 MiB of random data and finds it again, nbdinfo sees a 1 GiB
# export, all through the guest's NBD export, blkfront, blkback and the
# image; the detach and the guest's end are clean, and the daemons stop on
# SIGTERM. Afterwards: the image holds what qemu-img wrote.
set -u

skip() {
	echo "SKIP: $*"
	exit 77
}
fail() {
	echo "FAIL: $*"
	for f in "$OUT" "${D:-/nonexistent}"/*.out; do
		[ -f "$f" ] || continue
		echo "---- $f"
		tail -n 40 "$f"
	done
	exit 1
}

command -v qemu-io >/dev/null 2>&1 || skip "qemu-io not installed (qemu-utils)"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img not installed (qemu-utils)"
command -v nbdinfo >/dev/null 2>&1 || skip "nbdinfo not installed (libnbd-bin)"

DOC="$top_srcdir/doc/loopguest.md"
. "$top_srcdir/tests/integration/doc-recipe.sh"

OUT=$(mktemp /tmp/loopguest-recipe.XXXXXX) || exit 99
D=
GUEST=
WATCHDOG=
cleanup() {
	[ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
	[ -n "$GUEST" ] && kill -9 "$GUEST" 2>/dev/null
	if [ -n "$D" ]; then
		for n in blkback xenstored loophvd; do
			p=$(cat "$D/$n.pid" 2>/dev/null) && [ -n "$p" ] &&
				kill -9 "$p" 2>/dev/null
		done
		rm -rf "$D"
	fi
	rm -f "$OUT"
}
trap cleanup EXIT

# The recipe waits in loops; a watchdog makes a hang a failure.
trap 'fail "the recipe did not finish within 120 s"' USR1
(
	sleep 120 &
	s=$!
	trap 'kill $s; exit 0' TERM
	wait $s && kill -USR1 $$
) >/dev/null 2>&1 &
WATCHDOG=$!

run_recipe running-one >"$OUT" 2>&1
GUEST=
kill "$WATCHDOG" 2>/dev/null
WATCHDOG=
[ -n "$D" ] && [ -d "$D" ] || fail "the recipe made no run directory"

grep -q '^disk xvda connected: 2097152 sectors' "$D/guest.out" ||
	fail "the guest did not connect its 1 GiB disk"
grep -q 'wrote 1048576/1048576 bytes' "$OUT" || fail "qemu-io did not write"
grep -q 'read 1048576/1048576 bytes' "$OUT" || fail "qemu-io did not read"
! grep -q 'Pattern verification failed' "$OUT" ||
	fail "qemu-io read back something else than it wrote"
grep -q 'Images are identical' "$OUT" ||
	fail "qemu-img compare did not find what qemu-img convert wrote"
grep -q 'export-size: 1073741824' "$OUT" || fail "nbdinfo did not see 1 GiB"
grep -q '^disk xvda detached' "$D/guest.out" || fail "the guest saw no detach"
cmp -s -n 4194304 "$D/some.img" "$D/disk.img" ||
	fail "the image does not hold the 4 MiB written through the stack"

# SIGTERM ends each daemon cleanly: it removes its pid file
# (a deadline, SPLITDRV_TEST_DEADLINE s: a loaded machine is slower)
end=$(($(date +%s) + ${SPLITDRV_TEST_DEADLINE:-60}))
for n in blkback xenstored loophvd; do
	while [ -e "$D/$n.pid" ]; do
		[ "$(date +%s)" -lt "$end" ] ||
			fail "$n still running ${SPLITDRV_TEST_DEADLINE:-60} s after SIGTERM"
		sleep 0.1
	done
done
echo "PASS: doc/loopguest.md's running-one recipe, word for word"
