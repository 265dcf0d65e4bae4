#!/bin/sh
# xenstored-socket.sh - the dom0 sockets: socket_ro next to the socket
# (reads and watches only, through Debian's xenstore-utils pointed at it),
# and the output bound of a socket client: one that registers a watch and
# never reads is dropped with a log line naming it, the daemon's memory
# stays flat, the others keep being served.
. "$top_srcdir/tests/integration/xenstored-common.sh"
command -v xenstore-write >/dev/null 2>&1 || skip "xenstore-utils not installed"

BOUND=65536
# ASan's quarantine keeps every freed block for a while (256 MB by
# default), which would hide a flat heap behind a growing RSS: freed
# memory is reused at once here, as without ASan
if [ "${SPLITDRV_SANITIZERS:-0}" = 1 ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
	export ASAN_OPTIONS
fi
xsd_start --no-persist --socket-output-max=$BOUND
RO="$D/socket_ro"

# ---- socket_ro: created next to the socket, group-readable like C's
[ -S "$RO" ] || fail "no $RO"
[ "$(stat -c %a "$RO")" = 660 ] || fail "$RO mode $(stat -c %a "$RO")"
[ "$(stat -c %a "$XENSTORED_PATH")" = 600 ] || fail "socket mode"
xsd_ctl status | grep -q "\"socket_ro\": *\"$RO\"" ||
	fail "status does not name socket_ro: $(xsd_ctl status)"

xenstore-write /ro/x hello || fail "write on the socket"
# libxenstore 4.17's xs_daemon_socket_ro() is the socket itself, so
# xenstore-utils reach socket_ro through XENSTORED_PATH
ro() { XENSTORED_PATH="$RO" "$@"; }
[ "$(ro xenstore-read /ro/x)" = hello ] || fail "read on socket_ro"
[ "$(ro xenstore-list /ro)" = x ] || fail "list on socket_ro"
ro xenstore-ls -p /ro | grep -q '(n0)' || fail "get-perms on socket_ro"
for cmd in "xenstore-write /ro/x bye" "xenstore-write /ro/new 1" \
	"xenstore-rm /ro/x" "xenstore-chmod /ro/x r5"; do
	if ro $cmd 2>/dev/null; then fail "socket_ro allowed: $cmd"; fi
done
# the errno, on the wire (xenstore-utils do not print it)
python3 - "$RO" <<'PY' || fail "socket_ro errors"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
def call(t, tx, *strs):
    p = b"".join(x.encode() + b"\0" for x in strs)
    s.sendall(struct.pack("<IIII", t, 7, tx, len(p)) + p)
    h = b""
    while len(h) < 16:
        h += s.recv(16 - len(h))
    t, rid, tx, ln = struct.unpack("<IIII", h)
    body = b""
    while len(body) < ln:
        body += s.recv(ln - len(body))
    return t, body.rstrip(b"\0").decode()
XS_ERROR = 16
for name, t, args in (("WRITE", 11, ("/ro/x", "bye")), ("MKDIR", 12, ("/ro/d",)),
                      ("RM", 13, ("/ro/x",)), ("SET_PERMS", 14, ("/ro/x", "n0")),
                      ("INTRODUCE", 8, ("9", "1", "2")), ("RELEASE", 9, ("9",)),
                      ("CONTROL", 0, ("quota",))):
    r = call(t, 0, *args)
    if r != (XS_ERROR, "EACCES"):
        sys.exit("socket_ro %s: %r, want EACCES" % (name, r))
t, tx = call(6, 0, "")                      # TRANSACTION_START
if t != 6:
    sys.exit("socket_ro TRANSACTION_START: %r" % tx)
if call(2, int(tx), "/ro/x") != (2, "hello"):
    sys.exit("socket_ro read in a transaction")
if call(11, int(tx), "/ro/x", "bye") != (XS_ERROR, "EACCES"):
    sys.exit("socket_ro write in a transaction")
if call(7, int(tx), "T") != (7, "OK"):
    sys.exit("socket_ro TRANSACTION_END")
PY
[ "$(xenstore-read /ro/x)" = hello ] || fail "socket_ro changed /ro/x"
ro xenstore-watch -n 2 /ro > "$D/watch.out" &
WPID=$!
wait_until '[ -s "$D/watch.out" ]' "watch on socket_ro: no initial event"
xenstore-write /ro/y 1 || fail "write under a socket_ro watch"
wait $WPID || fail "xenstore-watch on socket_ro"
[ "$(tr '\n' ' ' < "$D/watch.out")" = "/ro /ro/y " ] ||
	fail "socket_ro watch events: $(cat "$D/watch.out")"

# ---- a client that never reads its watch events
python3 - "$XENSTORED_PATH" "$D" "$XSD_PID" <<'PY' || fail "slow-reader script"
import os, socket, struct, sys, time
path, d, xsd = sys.argv[1], sys.argv[2], int(sys.argv[3])

def msg(t, rid, *strs):
    p = b"".join(s.encode() + b"\0" for s in strs)
    return struct.pack("<IIII", t, rid, 0, len(p)) + p

def rss():
    for line in open("/proc/%d/status" % xsd):
        if line.startswith("VmRSS"):
            return int(line.split()[1])

XS_WATCH, XS_WRITE = 4, 11
slow = socket.socket(socket.AF_UNIX)
slow.connect(path)
slow.sendall(msg(XS_WATCH, 1, "/slow", "never-read"))
# the writer: 128 long paths written over and over (the store does not
# grow, identical queued events cannot be merged), its replies read
w = socket.socket(socket.AF_UNIX)
w.connect(path)
names = ["/slow/" + "n" * 80 + str(i) for i in range(128)]
before = rss()
sent = 0
BATCH, TOTAL = 1000, 200000   # ~22 MB of events for the slow client
while sent < TOTAL:
    w.sendall(b"".join(msg(XS_WRITE, sent + i, names[(sent + i) % 128], "v")
                       for i in range(BATCH)))
    got, buf = 0, b""
    while got < BATCH:
        buf += w.recv(65536)
        while len(buf) >= 16:
            t, rid, tx, ln = struct.unpack("<IIII", buf[:16])
            if len(buf) < 16 + ln:
                break
            if t != XS_WRITE:
                sys.exit("write %d failed: %r" % (rid, buf[16:16 + ln]))
            buf = buf[16 + ln:]
            got += 1
    sent += BATCH
after = rss()
print("xenstored RSS %d kB -> %d kB over %d writes" % (before, after, sent))
# unbounded, the slow client's queue alone would be ~22 MB
if after - before > 8 * 1024:
    sys.exit("RSS grew %d kB: the slow client's output is not bounded"
             % (after - before))
# dropped: what the kernel buffered, then end of file
slow.settimeout(10)
n = 0
while True:
    c = slow.recv(1 << 20)
    if not c:
        break
    n += len(c)
print("slow client: %d bytes, then EOF" % n)
if n > 8 * 1024 * 1024:
    sys.exit("slow client got %d bytes: no bound" % n)
PY
grep -q "socket connection [0-9]*, pid [0-9]* (python3): .* not read (bound $BOUND): dropped" "$D/log" ||
	fail "no log line naming the dropped client"
# the others are still served
[ "$(xenstore-read /ro/x)" = hello ] || fail "not serving after the drop"
xenstore-watch -n 2 /after > "$D/watch2.out" &
WPID=$!
wait_until '[ -s "$D/watch2.out" ]' "watch after the drop: no initial event"
xenstore-write /after/z 1 || fail "write after the drop"
wait $WPID || fail "xenstore-watch after the drop"
xsd_stop
echo "ok"
