#!/bin/sh
# blkfront-modes.sh - the other negotiation outcomes: a guest that asks
# for no persistent grants, no indirect segments, one queue and a one-page
# ring (grants made and revoked per request, 11 segments at most), against
# a blkback offering everything; and a blkback that offers nothing optional
# (--no-persistent --no-indirect --no-discard, --max-queues 1,
# --max-ring-order 0) to a guest asking for everything; and four queues
# all served. 16 MiB of random
# data through each, compared.
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"

head -c 16M /dev/urandom >"$D/random.img" || fail "no random data"
roundtrip() {
	qemu-img convert -n -f raw -O raw "$D/random.img" "$NBD_URI" \
		>"$D/convert.out" 2>&1 || fail "$1: qemu-img convert"
	qemu-img compare -f raw -F raw "$D/random.img" "$NBD_URI" \
		>"$D/compare.out" 2>&1 || fail "$1: qemu-img compare"
}

bf_start_stack
bf_mkdisk "$D/d1.img" 16
bf_guest g1 xvda --no-persistent --no-indirect --queues 1 --ring-order 0
bf_attach "$GUEST_DOMID" "file:$D/d1.img" xvda
bf_wait_line "$GUEST_OUT" '^disk xvda connected: ' 10 || fail "g1 not connected"
grep -q 'connected: 1 queue(s), native, persistent grants off' "$D/blkback.log" ||
	fail "g1: not 1 queue without persistent grants"
roundtrip g1
[ "$(bf_stat "$GUEST_DOMID" requests.indirect)" -eq 0 ] || fail "g1 sent indirect"
[ "$(bf_stat "$GUEST_DOMID" pgrant_mapped)" -eq 0 ] || fail "g1: persistent maps"
[ "$(bf_stat "$GUEST_DOMID" grant_errors)" -eq 0 ] || fail "g1: grant errors"
cmp "$D/d1.img" "$D/random.img" || fail "g1: backing file differs"

# four queues, all served (blkback offers up to 4 by default)
bf_mkdisk "$D/d3.img" 16
bf_guest g3 xvdc --queues 4
bf_attach "$GUEST_DOMID" "file:$D/d3.img" xvdc
bf_wait_line "$GUEST_OUT" '^disk xvdc connected: ' 10 || fail "g3 not connected"
grep -q 'connected: 4 queue(s), native, persistent grants on' "$D/blkback.log" ||
	fail "g3: blkback did not connect 4 queues"
roundtrip g3
cmp "$D/d3.img" "$D/random.img" || fail "g3: backing file differs"

# blkback offering the minimum
kill -TERM "$BK_PID"
wait "$BK_PID"
bf_start_blkback "$D/blkback2.log" --no-persistent --no-indirect \
	--no-discard --max-queues 1 --max-ring-order 0
bf_mkdisk "$D/d2.img" 16
bf_guest g2 xvdb --queues 4 --ring-order 4
bf_attach "$GUEST_DOMID" "file:$D/d2.img" xvdb
bf_wait_line "$GUEST_OUT" '^disk xvdb connected: ' 10 || fail "g2 not connected"
grep -q 'connected: 1 queue(s), native, persistent grants off' "$D/blkback2.log" ||
	fail "g2: not 1 queue without persistent grants"
roundtrip g2
if bf_have nbdinfo libnbd-bin; then
	nbdinfo --json "$NBD_URI" >"$D/nbdinfo.out" 2>&1 || fail "nbdinfo"
	grep -q '"can_trim": false' "$D/nbdinfo.out" || fail "g2: trim offered"
fi
cmp "$D/d2.img" "$D/random.img" || fail "g2: backing file differs"
bf_pass "blkfront without persistent grants/indirect/multi-queue, both ways; 4 queues"
