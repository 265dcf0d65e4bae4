#!/bin/sh
# blkfront-ro.sh - a read-only disk (mode=r): blkfront reads info's
# VDISK_READONLY, the NBD export says read-only, reads work, and writes are
# refused -- by qemu-io's own open, and by our server when a client writes
# anyway; the backing file is unchanged.
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"

bf_start_stack
bf_mkdisk "$D/disk.img" 8
printf 'read-only data\n' | dd of="$D/disk.img" conv=notrunc 2>/dev/null
sum0=$(md5sum <"$D/disk.img")
bf_guest g1 xvdb --hold
bf_attach "$GUEST_DOMID" "file:$D/disk.img" xvdb mode=r
bf_wait_line "$GUEST_OUT" '^disk xvdb connected: 16384 sectors' 10 ||
	fail "guest not connected"

if bf_have nbdinfo libnbd-bin; then
	nbdinfo --json "$NBD_URI" >"$D/nbdinfo.out" 2>&1 || fail "nbdinfo"
	grep -q '"is_read_only": true' "$D/nbdinfo.out" || fail "export not read-only"
	grep -q '"can_trim": false' "$D/nbdinfo.out" || fail "trim offered read-only"
fi
bf_qemu_io "$NBD_URI" -r -c "read -v 0 16" || fail "read"
grep -q "read.only.data" "$D/qemu-io.out" || fail "read the wrong data"
bf_qemu_io "$NBD_URI" -c "write -P 0xcd 0 4096" && fail "qemu-io wrote"

# a client that ignores the read-only flag gets EPERM, and stays connected
python3 - "$NBD_SOCK" <<'PY' || fail "raw write to a read-only export not refused"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
def recvn(n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise SystemExit("server closed")
        b += d
    return b
magic, opt, hflags = struct.unpack(">QQH", recvn(18))
assert magic == 0x4e42444d41474943 and opt == 0x49484156454f5054
s.sendall(struct.pack(">I", 3))                     # fixed newstyle, no zeroes
s.sendall(struct.pack(">QII", 0x49484156454f5054, 1, 0))  # EXPORT_NAME ""
size, tflags = struct.unpack(">QH", recvn(10))
assert tflags & 2, "read-only flag missing"
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 1, 7, 0, 512) + b"x" * 512)
m, err, cookie = struct.unpack(">IIQ", recvn(16))
assert m == 0x67446698 and cookie == 7 and err == 1, (m, err, cookie)  # EPERM
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 0, 8, 0, 512))   # READ
m, err, cookie = struct.unpack(">IIQ", recvn(16))
assert err == 0 and cookie == 8 and recvn(512).startswith(b"read-only data")
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 2, 9, 0, 0))     # DISC
PY
[ "$(md5sum <"$D/disk.img")" = "$sum0" ] || fail "the backing file changed"
[ "$(bf_stat "$GUEST_DOMID" bytes_written)" -eq 0 ] || fail "blkback wrote"
kill -0 "$GUEST_PID" || fail "loopguest died"
bf_pass "read-only disk: export read-only, writes refused, data intact"
