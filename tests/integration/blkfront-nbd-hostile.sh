#!/bin/sh
# blkfront-nbd-hostile.sh - the NBD server against clients that break the
# protocol (our own raw client, in Python): what must drop the client
# drops it with a log line (bad flags, bad magic, oversized option or
# write), what has an error reply gets it and the session goes on (bad GO
# lengths, unknown export or option, reads out of range or too long,
# unknown command or flags), concurrent clients up to the limit are
# served, and the export keeps working for well-behaved clients.
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"

bf_start_stack
bf_mkdisk "$D/disk.img" 4
bf_guest g1 xvda --hold -v
bf_attach "$GUEST_DOMID" "file:$D/disk.img" xvda
bf_wait_line "$GUEST_OUT" '^disk xvda connected: ' 10 || fail "guest not connected"
bf_qemu_io "$NBD_URI" -c "write -P 0x77 0 64k" || fail "write"

python3 - "$NBD_SOCK" >"$D/hostile.out" 2>&1 <<'PY' || fail "hostile client checks: $(tail -3 "$D/hostile.out")"
import socket, struct, sys
OPT = 0x49484156454f5054
EINVAL, EOVERFLOW, EPERM = 22, 75, 1
path = sys.argv[1]

class C:
    def __init__(self, flags=3):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(5)
        self.s.connect(path)
        m, o, hf = struct.unpack(">QQH", self.recvn(18))
        assert m == 0x4e42444d41474943 and o == OPT and hf == 3, (m, o, hf)
        self.s.sendall(struct.pack(">I", flags))
    def recvn(self, n):
        b = b""
        while len(b) < n:
            d = self.s.recv(n - len(b))
            if not d:
                raise EOFError
            b += d
        return b
    def closed(self):
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
    def opt(self, o, data=b""):
        self.s.sendall(struct.pack(">QII", OPT, o, len(data)) + data)
    def rep(self):
        m, o, t, l = struct.unpack(">QIII", self.recvn(20))
        assert m == 0x3e889045565a9, hex(m)
        return o, t, self.recvn(l)
    def go(self, name=b"", reqs=(), o=7):
        self.opt(o, struct.pack(">I", len(name)) + name +
                 struct.pack(">H", len(reqs)) + b"".join(struct.pack(">H", r) for r in reqs))
        out = []
        while True:
            r = self.rep()
            out.append(r)
            if r[1] != 3:
                return out
    def cmd(self, t, off, ln, flags=0, cookie=1, payload=b""):
        self.s.sendall(struct.pack(">IHHQQI", 0x25609513, flags, t, cookie, off, ln) + payload)
        m, err, c = struct.unpack(">IIQ", self.recvn(16))
        assert m == 0x67446698 and c == cookie, (hex(m), c)
        return err

def check(what, cond):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        sys.exit(1)

# handshake breakers: dropped
c = C(flags=0x80)
check("unknown client flags drop the client", c.closed())
c = C(); c.s.sendall(struct.pack(">QII", 0x1122334455667788, 7, 0))
check("bad option magic drops the client", c.closed())
c = C(); c.s.sendall(struct.pack(">QII", OPT, 7, 1 << 20))
check("oversized option drops the client", c.closed())
c = C(); c.s.sendall(struct.pack(">QI", OPT, 7)); c.s.close()  # half a header

# option errors: answered, session goes on
c = C()
c.opt(7, struct.pack(">I", 100) + b"x")          # name longer than the data
check("GO with a bad name length: ERR_INVALID", c.rep()[1] == 0x80000003)
c.opt(7, struct.pack(">I", 0) + struct.pack(">H", 3) + b"\0\0")  # 3 requests, 1 sent
check("GO with a bad request count: ERR_INVALID", c.rep()[1] == 0x80000003)
check("GO of an unknown export: ERR_UNKNOWN", c.go(b"nope")[-1][1] == 0x80000006)
c.opt(99)
check("unknown option: ERR_UNSUP", c.rep()[1] == 0x80000001)
c.opt(8)
check("structured replies: ERR_UNSUP (simple replies only)", c.rep()[1] == 0x80000001)
c.opt(3)
o, t, d = c.rep()
check("LIST names the export", t == 2 and d[4:] == b"xvda")
check("LIST ends with ACK", c.rep()[1] == 1)
c.opt(3, b"junk")
check("LIST with data: ERR_INVALID", c.rep()[1] == 0x80000003)
info = c.go(b"xvda", (1, 2, 3), o=6)
types = [struct.unpack(">H", r[2][:2])[0] for r in info if r[1] == 3]
check("INFO gives export, name, description, block size", sorted(types) == [0, 1, 2, 3])
size = [struct.unpack(">QH", r[2][2:12])[0] for r in info if r[1] == 3 and r[2][:2] == b"\0\0"][0]
check("INFO size is the disk's", size == 4 << 20)
check("GO acknowledged", c.go()[-1][1] == 1)

# transmission errors: answered, session goes on
check("read past the end: EINVAL", c.cmd(0, size, 512) == EINVAL)
check("read across the end: EINVAL", c.cmd(0, size - 512, 1024) == EINVAL)
check("offset + length overflowing 64 bits: EINVAL", c.cmd(0, (1 << 64) - 512, 1024) == EINVAL)
check("read longer than the maximum: EOVERFLOW", c.cmd(0, 0, 64 << 20) in (EOVERFLOW, EINVAL))
check("zero-length read: EINVAL", c.cmd(0, 0, 0) == EINVAL)
check("unknown command: EINVAL", c.cmd(42, 0, 512) == EINVAL)
check("unknown command flags: EINVAL", c.cmd(0, 0, 512, flags=0x80) == EINVAL)
check("write past the end: ENOSPC", c.cmd(1, size, 512, payload=b"z" * 512) == 28)
check("a good read still works", c.cmd(0, 0, 4096, cookie=9) == 0 and
      c.recvn(4096) == b"\x77" * 4096)
check("unaligned read works", c.cmd(0, 1, 3, cookie=10) == 0 and c.recvn(3) == b"\x77" * 3)
c.s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 1, 11, 0, 64 << 20))
check("write payload over the limit drops the client", c.closed())
c = C(); c.go()
c.s.sendall(struct.pack(">IHHQQI", 0xdeadbeef, 0, 0, 1, 0, 512))
check("bad request magic drops the client", c.closed())

# concurrency: 16 clients at once, the 17th refused, all 16 served
cs = [C() for _ in range(16)]
for x in cs:
    x.go()
extra = socket.socket(socket.AF_UNIX); extra.settimeout(5); extra.connect(path)
check("client over the limit refused", extra.recv(1) == b"")
for i, x in enumerate(cs):
    assert x.cmd(0, 4096 * i, 4096, cookie=100 + i) == 0
    assert x.recvn(4096) == b"\x77" * 4096
check("16 concurrent clients served", True)
for x in cs:
    x.s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 2, 0, 0, 0))
PY
cat "$D/hostile.out"
for why in "unknown client flags" "bad option magic" "option data over the limit" \
	   "write payload over the limit" "bad request magic" "connection refused"; do
	grep -q "$why" "$D/g1.log" || fail "no log line for: $why"
done
kill -0 "$GUEST_PID" || fail "the guest died"
bf_qemu_io "$NBD_URI" -c "read -P 0x77 0 64k" || fail "export broken for good clients"
echo "PASS: hostile NBD clients dropped or refused; the export goes on"
