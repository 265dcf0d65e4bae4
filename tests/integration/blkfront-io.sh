#!/bin/sh
# blkfront-io.sh - a loopback guest's blkfront, exported over NBD, driven by
# qemu-io, qemu-img, nbdinfo and fio through blkback into a raw file:
# pattern write/read, 64 MiB of random data written and compared, the file
# itself compared, fio random writes verified, flush, discard reads back
# zeros, write zeroes, unaligned I/O.
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"

bf_start_stack
bf_mkdisk "$D/disk.img" 80
bf_guest g1 xvda --hold
bf_attach "$GUEST_DOMID" "file:$D/disk.img" xvda
bf_wait_line "$GUEST_OUT" '^disk xvda connected: ' 10 || fail "guest not connected"
grep -q "^disk xvda connected: 163840 sectors, nbd $NBD_SOCK\$" "$GUEST_OUT" ||
	fail "wrong connected line: $(grep '^disk' "$GUEST_OUT")"

# what a client sees of the export
if bf_have nbdinfo libnbd-bin; then
	nbdinfo --json "$NBD_URI" >"$D/nbdinfo.out" 2>&1 || fail "nbdinfo"
	grep -q '"export-size": 83886080' "$D/nbdinfo.out" || fail "nbdinfo size"
	grep -q '"is_read_only": false' "$D/nbdinfo.out" || fail "nbdinfo read-only"
	grep -q '"can_flush": true' "$D/nbdinfo.out" || fail "nbdinfo flush"
	grep -q '"can_trim": true' "$D/nbdinfo.out" || fail "nbdinfo trim"
	nbdinfo --list "$NBD_URI" >"$D/nbdinfo-list.out" 2>&1 || fail "nbdinfo --list"
	grep -q 'xvda' "$D/nbdinfo-list.out" || fail "export not listed"
else
	echo "note: nbdinfo (libnbd-bin) not installed: export info not checked"
fi

# a pattern, written and read back through the whole stack
bf_qemu_io "$NBD_URI" -c "write -P 0xab 0 1M" -c "read -P 0xab 0 1M" ||
	fail "qemu-io pattern 1M"
bf_qemu_io "$NBD_URI" -c "write -P 0x5c 4M 3M" -c "read -P 0x5c 4M 3M" \
	-c "read -P 0xab 0 1M" -c "read -P 0 1M 3M" || fail "qemu-io pattern 3M"
cmp -n 1048576 "$D/disk.img" /dev/zero >/dev/null 2>&1 &&
	fail "the pattern is not in the backing file"
# unaligned: read-modify-write in the NBD server
bf_qemu_io "$NBD_URI" -c "write -P 0x11 1000 3000" -c "read -P 0x11 1000 3000" \
	-c "read -P 0xab 0 1000" -c "read -P 0xab 4000 4096" ||
	fail "qemu-io unaligned"

# 64 MiB of random data through the export, compared by qemu-img and on disk
head -c 64M /dev/urandom >"$D/random.img" || fail "no random data"
t0=$(date +%s.%N)
qemu-img convert -n -f raw -O raw "$D/random.img" "$NBD_URI" \
	>"$D/convert.out" 2>&1 || fail "qemu-img convert to the export"
t1=$(date +%s.%N)
qemu-img compare -f raw -F raw "$D/random.img" "$NBD_URI" \
	>"$D/compare.out" 2>&1 || fail "qemu-img compare: $(cat "$D/compare.out")"
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" \
	'BEGIN { printf "64 MiB: write %.2f s, read+compare %.2f s\n", b - a, c - b }'
bf_qemu_io "$NBD_URI" -c "flush" || fail "flush"
cmp -n 67108864 "$D/disk.img" "$D/random.img" || fail "backing file differs"

# fio's nbd engine (libnbd): random writes of mixed sizes, 16 in flight,
# then read back and verified (crc32c per block)
if bf_have fio fio && fio --enghelp 2>&1 | grep -qw nbd; then
	fio --name=randverify --ioengine=nbd --uri="$NBD_URI" --rw=randwrite \
		--bsrange=512-64k --offset=64M --size=16M --iodepth=16 \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 \
		--output="$D/fio.out" >/dev/null 2>&1 || fail "fio random write + verify"
	grep -q "err= 0" "$D/fio.out" || fail "fio reported errors"
elif command -v fio >/dev/null 2>&1; then
	BF_LEFT_OUT="$BF_LEFT_OUT fio's nbd engine (fio)"
fi

# discard, then the range reads back as zeros (blkback punches a hole)
bf_qemu_io "$NBD_URI" -c "discard 8M 4M" -c "read -P 0 8M 4M" \
	-c "read -v 12M 512" || fail "discard then zeros"
cmp -i 12582912 -n 1048576 "$D/disk.img" "$D/random.img" ||
	fail "discard went beyond its range"
# write zeroes
bf_qemu_io "$NBD_URI" -c "write -z 16M 1M" -c "read -P 0 16M 1M" ||
	fail "write zeroes"

# out of range and bad requests are refused, and the export goes on
bf_qemu_io "$NBD_URI" -c "read 80M 4096" && fail "read past the end accepted"
bf_qemu_io "$NBD_URI" -c "read -P 0 16M 4096" || fail "export broken after a bad request"

# what blkback saw: indirect requests, persistent grants reused, 2 queues,
# and not one invalid request or grant error
grep -q 'connected: 2 queue(s), native, persistent grants on' "$D/blkback.log" ||
	fail "blkback did not connect 2 queues with persistent grants"
[ "$(bf_stat "$GUEST_DOMID" requests.indirect)" -gt 64 ] ||
	fail "no indirect requests"
[ "$(bf_stat "$GUEST_DOMID" pgrant_hits)" -gt 10000 ] ||
	fail "persistent grants not reused"
[ "$(bf_stat "$GUEST_DOMID" requests.discard)" -ge 1 ] || fail "no discard"
for k in invalid grant_errors halts io_errors errors; do
	[ "$(bf_stat "$GUEST_DOMID" $k)" -eq 0 ] || fail "blkback counted $k"
done

kill -TERM "$GUEST_PID"
wait "$GUEST_PID"
rc=$?
[ $rc -eq 0 ] || fail "loopguest exited $rc on SIGTERM"
GUEST_PIDS=
bf_pass "blkfront NBD export: pattern, 64 MiB random, flush, discard, zeroes"
