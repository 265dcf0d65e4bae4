#!/bin/sh
# blkfront-kill.sh - a guest killed (SIGKILL) in the middle of a 64 MiB
# copy through its export: blkback cleans up the device (its grants and
# ring are gone with the domain), stays alive, and serves another guest;
# the toolstack's detach and release of the dead domain complete.
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"

bf_start_stack
bf_mkdisk "$D/d1.img" 64
bf_guest g1 xvda
G1=$GUEST_PID
D1=$GUEST_DOMID
U1=$NBD_URI
bf_attach "$D1" "file:$D/d1.img" xvda
bf_wait_line "$GUEST_OUT" '^disk xvda connected: ' 10 || fail "g1 not connected"

head -c 64M /dev/urandom >"$D/random.img" || fail "no random data"
# writes that last seconds: 100 x 32 MiB through one client
cmds=
for i in $(seq 1 100); do
	cmds="$cmds -c 'write -P $i 0 32M'"
done
eval qemu-io -f raw "'$U1'" $cmds >"$D/writer.out" 2>&1 &
CP=$!
wait_until '[ "$(bf_stat "$D1" bytes_written)" -gt 33554432 ]' \
	"the writes did not start"
kill -9 "$G1"
wait "$G1" 2>/dev/null
GUEST_PIDS=
wait "$CP" && fail "the writer finished before the kill: not mid-I/O"

# blkback notices the dead domain and drops the device
wait_until '! "$SPLITCTL" --run-dir "$D" stats blkback | grep -q "\"connected\": true"' \
	"blkback still connected to the dead guest"
kill -0 "$BK_PID" || fail "blkback died with the guest"
# the toolstack cleans up as for a destroyed domain (xenstored may have
# released it already)
"$SPLITCTL" --run-dir "$D" release "$D1" >>"$D/splitctl.log" 2>&1

# another guest, the same backing file, works
bf_guest g2 xvda
bf_attach "$GUEST_DOMID" "file:$D/d1.img" xvda
bf_wait_line "$GUEST_OUT" '^disk xvda connected: ' 10 || fail "g2 not connected"
qemu-img convert -n -f raw -O raw "$D/random.img" "$NBD_URI" \
	>"$D/convert2.out" 2>&1 || fail "g2: qemu-img convert"
qemu-img compare -f raw -F raw "$D/random.img" "$NBD_URI" \
	>"$D/compare.out" 2>&1 || fail "g2: qemu-img compare"
kill -0 "$BK_PID" || fail "blkback died"
for k in halts grant_errors; do
	[ "$(bf_stat "$GUEST_DOMID" $k)" -eq 0 ] || fail "g2: blkback counted $k"
done
echo "PASS: guest killed mid-I/O; blkback cleaned up and serves another guest"
