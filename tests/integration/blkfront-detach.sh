#!/bin/sh
# blkfront-detach.sh - the toolstack detaches an idle disk (splitctl
# block-detach: online=0, backend state Closing, as libxl does): the guest
# follows the backend to Closed, withdraws its NBD export and says so,
# blkback drops the device, the toolstack removes both directories; then a
# new attach of the same vdev reconnects and the data is still there. The
# same in the middle of writes; and the guest closing by itself (SIGTERM).
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"

bf_start_stack
bf_mkdisk "$D/disk.img" 8
bf_guest g1 xvda --hold
bf_attach "$GUEST_DOMID" "file:$D/disk.img" xvda
bf_wait_line "$GUEST_OUT" '^disk xvda connected: ' 10 || fail "guest not connected"
bf_qemu_io "$NBD_URI" -c "write -P 0x42 0 2M" || fail "write before detach"

"$SPLITCTL" --run-dir "$D" --wait 60 block-detach "$GUEST_DOMID" xvda \
	>>"$D/splitctl.log" 2>&1 || fail "block-detach did not complete"
bf_wait_line "$GUEST_OUT" '^disk xvda detached$' 5 || fail "guest did not detach"
[ -S "$NBD_SOCK" ] && fail "export still there after detach"
grep -q 'vbd/[0-9]*/51712: removed' "$D/blkback.log" ||
	fail "blkback did not remove the device"
"$SPLITCTL" --run-dir "$D" stats blkback | grep -q '"devices": \[\]' ||
	fail "blkback still lists the device"
kill -0 "$GUEST_PID" || fail "the guest died on detach"
grep -q "still mapped" "$D/g1.log" && fail "the guest could not take its grants back"

# attach again: the guest reconnects, the data is there
bf_attach "$GUEST_DOMID" "file:$D/disk.img" xvda
bf_wait_line "$GUEST_OUT" '^disk xvda detached$' 1 || fail "lost the detached line"
wait_until '[ "$(grep -c "^disk xvda connected: " "$GUEST_OUT")" -eq 2 ]' \
	"no reconnect"
bf_qemu_io "$NBD_URI" -c "read -P 0x42 0 2M" || fail "data lost over detach/attach"

# detach in the middle of writes: blkback stops taking requests, the guest
# does not wait for them, follows to Closed, and the writer gets errors
# (4 GiB of writes: seconds, the detach comes long before the end; after
# it every write fails at once)
cmds=
for i in $(seq 1 1000); do
	cmds="$cmds -c 'write -P $((i % 256)) 0 4M'"
done
eval qemu-io -f raw "'$NBD_URI'" $cmds >"$D/writer.out" 2>&1 &
WR=$!
wait_until '[ "$(bf_stat "$GUEST_DOMID" bytes_written)" -gt 8388608 ]' \
	"the writes did not start"
"$SPLITCTL" --run-dir "$D" --wait 60 block-detach "$GUEST_DOMID" xvda \
	>>"$D/splitctl.log" 2>&1 || fail "block-detach under I/O did not complete"
wait "$WR" && fail "the writer finished: not detached mid-I/O"
wait_until '[ "$(grep -c "^disk xvda detached\$" "$GUEST_OUT")" -eq 2 ]' \
	"guest did not detach under I/O"
kill -0 "$GUEST_PID" || fail "the guest died on a detach under I/O"
bf_attach "$GUEST_DOMID" "file:$D/disk.img" xvda
wait_until '[ "$(grep -c "^disk xvda connected: " "$GUEST_OUT")" -eq 3 ]' \
	"no reconnect after a detach under I/O"
bf_qemu_io "$NBD_URI" -c "write -P 0x43 0 1M" -c "read -P 0x43 0 1M" ||
	fail "I/O after a detach under I/O"

# the guest closes on SIGTERM: the frontend goes Closing/Closed by itself
n=$(grep -c 'disconnected' "$D/blkback.log")
kill -TERM "$GUEST_PID"
wait "$GUEST_PID" || fail "loopguest did not exit 0 on SIGTERM"
GUEST_PIDS=
wait_until '[ "$(grep -c disconnected "$D/blkback.log")" -gt "$n" ]' \
	"blkback did not see the frontend close"
echo "PASS: detach while idle and under I/O, reattach, guest-side close"
