#!/bin/sh
# xenstored-utils.sh - Debian's xenstore-utils against our xenstored:
# read, write, ls, list, rm, chmod, exists, watch, control; a hostile
# client; the JSON control socket.
. "$top_srcdir/tests/integration/xenstored-common.sh"
command -v xenstore-write >/dev/null 2>&1 || skip "xenstore-utils not installed"

xsd_start

xenstore-write /a/b hello /a/c world || fail "xenstore-write"
[ "$(xenstore-read /a/b)" = hello ] || fail "xenstore-read"
[ "$(xenstore-list /a | tr '\n' ' ')" = "b c " ] || fail "xenstore-list: $(xenstore-list /a)"
xenstore-ls /a | grep -q 'b = "hello"' || fail "xenstore-ls"
xenstore-chmod /a/b r5 w6 || fail "xenstore-chmod"
xenstore-ls -p /a | grep 'b = "hello"' | grep -q '(r5,w6)' ||
	fail "xenstore-ls -p: $(xenstore-ls -p /a)"
xenstore-exists /a/b || fail "exists of a node"
xenstore-rm /a/b || fail "xenstore-rm"
if xenstore-exists /a/b; then fail "exists after rm"; fi
xenstore-write name dom0 || fail "relative write"
[ "$(xenstore-read /local/domain/0/name)" = dom0 ] || fail "relative path"
if xenstore-read /nothere 2>/dev/null; then fail "read of a missing node"; fi

# watch: initial event, then the written path
xenstore-watch -n 2 /w > "$D/watch.out" &
WPID=$!
wait_until '[ -s "$D/watch.out" ]' "xenstore-watch: no initial event"
xenstore-write /w/x 1 || fail "write under watch"
wait $WPID || fail "xenstore-watch"
[ "$(tr '\n' ' ' < "$D/watch.out")" = "/w /w/x " ] ||
	fail "watch events: $(cat "$D/watch.out")"

# control: /usr/bin/xenstore-control is Debian's wrapper that wants a
# hypervisor; call the versioned binary behind it
XSCTL=
for c in /usr/lib/xen-*/bin/xenstore-control; do [ -x "$c" ] && XSCTL=$c; done
if [ -n "$XSCTL" ]; then
	"$XSCTL" quota | grep -q 'nodes *: *1000' || fail "control quota"
	"$XSCTL" quota set nodes 50 >/dev/null || fail "control quota set"
	"$XSCTL" quota | grep -q 'nodes *: *50' || fail "quota not set"
	"$XSCTL" check >/dev/null || fail "control check"
	"$XSCTL" memreport | grep -q '"watches"' || fail "control memreport"
else
	echo "note: no xenstore-control binary: XS_CONTROL part not run"
fi

# a hostile client: garbage, an oversized header, a half message; the
# daemon drops it and keeps serving
python3 - "$XENSTORED_PATH" <<'PY' || fail "hostile client script"
import socket, struct, sys
for payload in (b"\xff" * 64,
                struct.pack("<IIII", 2, 1, 0, 1 << 20),
                struct.pack("<IIII", 2, 1, 0, 100) + b"/a"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(payload)
    s.close()
PY
[ "$(xenstore-read /a/c)" = world ] || fail "not serving after a hostile client"

# a client that half-closes right after its request still gets the reply
python3 - "$XENSTORED_PATH" <<'PY' || fail "half-closed client got no reply"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
p = b"/a/c\0"
s.sendall(struct.pack("<IIII", 2, 9, 0, len(p)) + p)
s.shutdown(socket.SHUT_WR)
s.settimeout(2)
h = s.recv(16)
t, r, tx, l = struct.unpack("<IIII", h)
assert t == 2 and r == 9, (t, r)
assert s.recv(l) == b"world"
PY

# a second daemon on the same socket refuses to start and steals nothing
mkdir -p "$D/second"
if "$XSD" -F --run-dir="$D/second" --socket="$XENSTORED_PATH" \
	>"$D/second.log" 2>&1; then
	fail "a second xenstored started on a socket in use"
fi
grep -q "Address already in use" "$D/second.log" || fail "second: $(cat "$D/second.log")"
# nor on the same run directory (the state files)
if "$XSD" -F --run-dir="$D" --socket="$D/other-socket" \
	>"$D/third.log" 2>&1; then
	fail "a second xenstored started on a run directory in use"
fi
grep -q "another xenstored (pid [0-9]*) is running with run directory" "$D/third.log" || fail "third: $(cat "$D/third.log")"
[ "$(xenstore-read /a/c)" = world ] || fail "first daemon lost its socket"

# the JSON control socket
xsd_ctl status | grep -q '"daemon": *"xenstored"' || fail "ctl status: $(xsd_ctl status)"
xsd_ctl stats | grep -q '"requests"' || fail "ctl stats: $(xsd_ctl stats)"
xsd_ctl memreport | grep -q '"nodes"' || fail "ctl memreport"

xsd_stop

# --quota on the command line, read back through XS_CONTROL
xsd_start --quota transactions=3 --quota permissions=7
if [ -n "$XSCTL" ]; then
	"$XSCTL" quota | grep -q 'transactions *: *3 ' || fail "--quota transactions"
	"$XSCTL" quota | grep -q 'permissions *: *7 ' || fail "--quota permissions"
fi
[ "$(xenstore-read /a/c)" = world ] || fail "state lost over the restart"
xsd_stop
if "$XSD" --run-dir="$D" --quota bogus=1 >/dev/null 2>&1; then
	fail "an unknown quota was accepted"
fi
echo "PASS: xenstore-utils against xenstored"
