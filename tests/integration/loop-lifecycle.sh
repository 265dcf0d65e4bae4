#!/bin/sh
# loop-lifecycle.sh - a loop guest's end leaves nothing behind, with no
# admin's help: loophvd, xenstored, blkback and `splitctl monitor` (the
# toolstack's part, started as doc/loopguest.md says, word for word).
#
#   1. a guest with a disk exits (SIGTERM: it closes its disk and ends its
#      domain);
#   2. a guest with the same disk is killed (SIGKILL);
#   3. with the monitor stopped, a guest is killed; `splitctl monitor
#      --once` then cleans up the domain that died before it ran.
# After each, within 10 s of the end: the domain is not in `splitctl
# domains`, loophvd counts no holder of its RAM, /local/domain/<id> and
# backend/vbd/<id> are gone, blkback lists no device of it and holds no fd
# on the image; the daemons live; and the next guest attaches the same
# image and reads what the last one wrote.
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"

DOC="$top_srcdir/doc/loopguest.md"
MONITOR=
ll_cleanup() {
	if [ -n "$MONITOR" ]; then
		kill -TERM "$MONITOR" 2>/dev/null
		wait "$MONITOR" 2>/dev/null
	fi
	bf_cleanup
}
trap ll_cleanup EXIT

# run_recipe NAME: doc/loopguest.md's recipe NAME, word for word
. "$top_srcdir/tests/integration/doc-recipe.sh"

command -v xenstore-exists >/dev/null 2>&1 &&
	command -v xenstore-write >/dev/null 2>&1 ||
	skip "xenstore-utils not installed"

# xs_exists PATH - does our xenstored have the node? (xenstore-utils, on
# the socket XENSTORED_PATH names)
xs_exists() {
	xenstore-exists "$1" 2>/dev/null
}

# xs_write PATH VALUE - as dom0
xs_write() {
	xenstore-write "$1" "$2"
}

# ram_maps INODE RAM-BYTES WHO PID - PID's mappings of the memfd INODE
# (loophvd's guest RAM), one line each
ram_maps() {
	ram_of "$4" | while read -r ino n; do
		[ "$ino" = "$1" ] || continue
		[ "$n" -eq "$2" ] && whole=" (the whole)" || whole=
		echo "$3 maps $n bytes of its RAM$whole"
	done
}

# ram_of PID - PID's mappings of loophvd guest RAM: "INODE BYTES" each
ram_of() {
	{ while read -r range perms off dev ino path; do
		case $path in
		*loophv-guest-ram*)
			echo "$ino $((0x${range#*-} - 0x${range%-*}))" ;;
		esac
	done <"/proc/$1/maps"; } 2>/dev/null
}

# leftovers DOMID IMAGE RAM-INODE RAM-BYTES - what is still there of the
# dead domain, one item per line (empty: nothing)
leftovers() {
	"$SPLITCTL" --run-dir "$D" --hv loop domains 2>&1 | awk -v id="$1" \
		'$1 == id { print "in splitctl domains: " $0 "" }'
	"$SPLITCTL" --run-dir "$D" status loophvd 2>/dev/null | python3 -c '
import json, sys
domid = int(sys.argv[1])
for d in json.load(sys.stdin)["result"]["domains"]:
    if d["domid"] == domid and d["mem_holders"] != 0:
        print("loophvd: mem_holders %d" % d["mem_holders"])
' "$1"
	xs_exists "/local/domain/$1" && echo "/local/domain/$1 in xenstore"
	xs_exists "/local/domain/0/backend/vbd/$1" &&
		echo "backend/vbd/$1 in xenstore"
	"$SPLITCTL" --run-dir "$D" stats blkback 2>/dev/null | python3 -c '
import json, sys
domid = int(sys.argv[1])
for d in json.load(sys.stdin)["result"]["devices"]:
    if d["frontend-domid"] == domid:
        print("blkback device %s" % d["device"])
' "$1"
	ls -l "/proc/$BK_PID/fd" 2>/dev/null | grep -F -- "-> $2" |
		sed 's/^/blkback fd: /'
	# mappings of its RAM (the memfd's inode, as the guest mapped it):
	# grant and ring pages are the daemons' to unmap, the provider's one
	# mapping of the whole RAM goes when the process learns of the death
	ram_maps "$3" "$4" "xenstored" "$XSD_PID"
	ram_maps "$3" "$4" "blkback" "$BK_PID"
}

# gone_within DOMID IMAGE SECONDS WHAT - every trace gone in time, or fail
# (the RAM of the guest last started by guest_with_disk)
# naming what is left
gone_within() {
	i=0
	n=$(($3 * 10))
	[ "$3" -ge "$TEST_DEADLINE" ] || n=$((TEST_DEADLINE * 10))
	while :; do
		left=$(leftovers "$1" "$2" "$RAM_INODE" "$RAM_BYTES")
		[ -z "$left" ] && break
		if [ $i -ge $n ]; then
			fail "$4: after $((n / 10)) s, left of domain $1: $(echo "$left" |
				tr '\n' ';')"
		fi
		sleep 0.1
		i=$((i + 1))
	done
	for p in "$LHV_PID" "$XSD_PID" "$BK_PID"; do
		kill -0 "$p" 2>/dev/null || fail "$4: a daemon died (pid $p)"
	done
	echo "ok: $4: nothing of domain $1 left after $((i / 10)).$((i % 10)) s"
}

# guest_with_disk NAME - a guest with the image attached, connected
guest_with_disk() {
	bf_guest "$1" xvda
	bf_attach "$GUEST_DOMID" "file:$IMG" xvda
	bf_wait_line "$GUEST_OUT" '^disk xvda connected: ' 10 ||
		fail "$1 not connected"
	# its RAM: the memfd's inode and size, from the guest's own mapping
	set -- $(ram_of "$GUEST_PID" | head -n 1)
	RAM_INODE=${1:-}
	RAM_BYTES=${2:-}
	[ -n "$RAM_INODE" ] || fail "no loophv-guest-ram mapping in the guest"
	# the probes see a live guest, so "nothing left" later means gone
	# (not a probe that broke and prints nothing)
	live=$(leftovers "$GUEST_DOMID" "$IMG" "$RAM_INODE" "$RAM_BYTES")
	for want in "in splitctl domains" "loophvd: mem_holders" \
	    "/local/domain/$GUEST_DOMID in xenstore" \
	    "backend/vbd/$GUEST_DOMID in xenstore" "blkback device" \
	    "blkback fd: "; do
		case $live in
		*"$want"*) ;;
		*) fail "$1: the probe for '$want' does not see the live guest: $(echo "$live" | tr '\n' ';')" ;;
		esac
	done
}

# forget GUEST_PID - it is gone (reaped): cleanup must not signal its pid,
# which may belong to another process by then
forget() {
	rest=
	for p in $GUEST_PIDS; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	GUEST_PIDS=$rest
}

bf_start_stack
IMG="$D/disk.img"
bf_mkdisk "$IMG" 16
run_recipe monitor-start
[ -n "$MONITOR" ] || fail "the recipe did not set MONITOR"
bf_wait_line "$D/monitor.log" 'watching domains' 5 ||
	fail "the monitor did not start"

# 1. a guest that ends its domain itself
guest_with_disk g1
G1=$GUEST_PID
D1=$GUEST_DOMID
bf_qemu_io "$NBD_URI" -c "write -P 0xa1 0 1M" || fail "g1: write"
kill -TERM "$G1"
wait "$G1" 2>/dev/null
forget "$G1"
gone_within "$D1" "$IMG" 10 "guest that exited"

# 2. a guest killed while its disk is connected
guest_with_disk g2
G2=$GUEST_PID
D2=$GUEST_DOMID
bf_qemu_io "$NBD_URI" -c "read -P 0xa1 0 1M" ||
	fail "g2 does not read what g1 wrote: $(cat "$D/qemu-io.out")"
bf_qemu_io "$NBD_URI" -c "write -P 0xb2 0 1M" || fail "g2: write"
kill -9 "$G2"
wait "$G2" 2>/dev/null
forget "$G2"
gone_within "$D2" "$IMG" 10 "guest killed with SIGKILL"
grep -q "domain $D2 .*destroyed" "$D/monitor.log" ||
	fail "the monitor did not log the destruction of domain $D2"

# 3. a guest that dies while no monitor runs; --once cleans up after it
guest_with_disk g3
G3=$GUEST_PID
D3=$GUEST_DOMID
bf_qemu_io "$NBD_URI" -c "read -P 0xb2 0 1M" ||
	fail "g3 does not read what g2 wrote: $(cat "$D/qemu-io.out")"
bf_qemu_io "$NBD_URI" -c "write -P 0xc3 0 1M" || fail "g3: write"
run_recipe monitor-stop
rc=$?
MONITOR=
[ $rc -eq 0 ] || fail "the monitor exited $rc on SIGTERM"
# meanwhile, what a crashed toolstack may leave: a Connected backend of a
# domain that no longer exists, with no daemon serving it (vif: no
# netback here). The monitor does as libxl: online=0, Closing, waits,
# then removes it anyway.
VIF=/local/domain/0/backend/vif/77/0
xs_write "$VIF/frontend" /local/domain/77/device/vif/0 &&
	xs_write "$VIF/state" 4 && xs_write "$VIF/online" 1 &&
	xs_write /local/domain/77/device/vif/0/state 4 ||
	fail "cannot write the stale vif"
"$SPLITCTL" --run-dir "$D" --hv loop monitor --once --close-timeout 1 \
	>"$D/once-vif.out" 2>&1 || fail "monitor --once: $(cat "$D/once-vif.out")"
grep -q "vif/77/0: backend Connected: online=0, state=Closing" "$D/once-vif.out" &&
	grep -q "vif/77/0: backend did not reach Closed within 1 s" "$D/once-vif.out" &&
	grep -q "domain 77 is gone: destroying" "$D/once-vif.out" ||
	fail "monitor --once on the stale vif: $(cat "$D/once-vif.out")"
for p in "$VIF" /local/domain/0/backend/vif/77 /local/domain/77; do
	xs_exists "$p" && fail "$p left by monitor --once"
done
xs_exists "/local/domain/$D3" || fail "monitor --once touched live domain $D3"
kill -9 "$G3"
wait "$G3" 2>/dev/null
forget "$G3"
sleep 1
# (xenstored removes the nodes the guest owned; dom0's stay)
xs_exists "/local/domain/0/backend/vbd/$D3" ||
	fail "domain $D3's backend went without a monitor: the test proves nothing"
run_recipe monitor-once >"$D/once.out" 2>&1 ||
	fail "splitctl monitor --once failed: $(cat "$D/once.out")"
gone_within "$D3" "$IMG" 10 "guest that died before the monitor ran"

# the image serves the next guest, with the data intact
guest_with_disk g4
bf_qemu_io "$NBD_URI" -c "read -P 0xc3 0 1M" ||
	fail "g4 does not read what g3 wrote: $(cat "$D/qemu-io.out")"

# bad usage
"$SPLITCTL" --run-dir "$D" monitor --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "monitor --bogus does not exit 2"
"$SPLITCTL" --run-dir "$D" monitor extra >/dev/null 2>&1
[ $? -eq 2 ] || fail "monitor with an argument does not exit 2"
"$SPLITCTL" monitor --help | grep -q "online=0" || fail "monitor --help"
echo "PASS: loop guests that exit, are killed, or died before the monitor ran leave nothing behind"
