#!/bin/sh
# xenstored-live-update.sh - `xenstore-control live-update BINARY`, word for
# word as an admin types it, replaces the running xenstored on loop while
#   - a loop guest writes over its ring (loopguest, a few thousand writes,
#     then a watch that only a write after the updates can fire, then more
#     writes and reads),
#   - a dom0 socket client holds a watch (xenstore-watch),
#   - another dom0 client holds a transaction open (raw protocol),
#   - dom0 clients watch @introduceDomain and @releaseDomain (as xl and
#     xenconsoled do).
# Checked: without -F the update waits for the transaction (BUSY until the
# client's timeout), with -F it goes ahead and that transaction's commit
# answers EAGAIN; a missing binary fails and the old daemon serves on;
# after two updates (exec keeps the pid: the log says "resumed" twice and
# the state file is gone) the guest's every operation said ok, every
# value it wrote is there, and the watches of the guest and of the dom0
# client fire for writes made after the updates, and a second guest
# introduced and released after the updates fires @introduceDomain and
# @releaseDomain for the dom0 clients that watched them before.
set -u
. "$top_srcdir/tests/integration/xenstored-common.sh"

LOOPHVD="$top_builddir/loophv/loophvd"
LOOPGUEST="$top_builddir/tools/loopguest"
SPLITCTL="$top_builddir/tools/splitctl"
LHV_PID=
GUEST_PID=
GUEST2_PID=
WATCH_PID=
INTRO_PID=
REL_PID=
TX_PID=
for b in "$LOOPHVD" "$LOOPGUEST" "$SPLITCTL"; do
	[ -x "$b" ] || fail "$b not built"
done
command -v xenstore-write >/dev/null 2>&1 &&
	command -v xenstore-watch >/dev/null 2>&1 ||
	skip "xenstore-utils not installed"
# /usr/bin/xenstore-control is Debian's wrapper that wants a hypervisor;
# the versioned binary behind it is the one an admin's wrapper runs
XSCTL=
for c in /usr/lib/xen-*/bin/xenstore-control; do [ -x "$c" ] && XSCTL=$c; done
[ -n "$XSCTL" ] || skip "no xenstore-control binary (xen-utils)"
XSD_ABS=$(cd "$(dirname "$XSD")" && pwd)/$(basename "$XSD")

lu_cleanup() {
	for p in $GUEST_PID $GUEST2_PID $INTRO_PID $REL_PID $WATCH_PID $TX_PID $XSD_PID $LHV_PID; do
		kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	XSD_PID=
	xsd_cleanup
}
trap lu_cleanup EXIT

# fail: also what the guest, the clients and loophvd said
fail() {
	echo "FAIL: $*"
	for f in "$D"/log "$D"/*.out "$D"/*.log; do
		[ -f "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
	done
	exit 1
}

launch loophvd "$D/loophvd.log" "$LOOPHVD" --foreground --run-dir "$D"
LHV_PID=$LAUNCHED_PID
xsd_start --hv=loop --quota=nodes=20000
exe_before=$(readlink "/proc/$XSD_PID/exe")

# a dom0 client holding a watch across the updates
xenstore-write /lu/x 0 || fail "xenstore-write"
xenstore-watch /lu >"$D/watch.out" 2>&1 &
WATCH_PID=$!
wait_until '[ -s "$D/watch.out" ]' "xenstore-watch: no initial event"
# the special watches xl and xenconsoled hold on the dom0 socket
xenstore-watch @introduceDomain >"$D/intro.out" 2>&1 &
INTRO_PID=$!
xenstore-watch @releaseDomain >"$D/release.out" 2>&1 &
REL_PID=$!
wait_until '[ -s "$D/intro.out" ] && [ -s "$D/release.out" ]' \
	"xenstore-watch @introduceDomain/@releaseDomain: no initial event"

# a dom0 client holding a transaction: started, then committed when
# $D/commit appears; prints the commit's reply
python3 - "$XENSTORED_PATH" "$D" >"$D/tx.out" 2>&1 <<'PY' &
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def call(t, tx, p):
    s.sendall(struct.pack("<IIII", t, 7, tx, len(p)) + p)
    h = b""
    while len(h) < 16:
        h += s.recv(16 - len(h))
    typ, rid, txid, ln = struct.unpack("<IIII", h)
    b = b""
    while len(b) < ln:
        b += s.recv(ln - len(b))
    return typ, b
typ, b = call(6, 0, b"\0")                      # TRANSACTION_START
tx = int(b.rstrip(b"\0"))
call(11, tx, b"/lu/tx\0in-tx")                   # WRITE in it
print("started", tx, flush=True)
while not os.path.exists(sys.argv[2] + "/commit"):
    time.sleep(0.05)
typ, b = call(7, tx, b"T\0")                     # TRANSACTION_END
print("commit", "error" if typ == 16 else "ok", b.rstrip(b"\0").decode(),
      flush=True)
PY
TX_PID=$!
wait_until 'grep -q "^started" "$D/tx.out"' "transaction client: no start"

# a transaction is open: without -F, BUSY until the client gives up
"$XSCTL" live-update -t 2 "$XSD_ABS" >"$D/busy.out" 2>&1 &&
	fail "live update went ahead over an open transaction without -F"
grep -q BUSY "$D/busy.out" || fail "no BUSY: $(cat "$D/busy.out")"

# a binary that is not there: the error, and the old daemon serves on
"$XSCTL" live-update /nonexistent/xenstored >"$D/missing.out" 2>&1 &&
	fail "live update to a missing binary succeeded"
grep -q "No such file" "$D/missing.out" ||
	fail "missing binary: $(cat "$D/missing.out")"
xsd_ping || fail "xenstored does not serve after a failed update"

# the guest: N writes, a watch fired only after the updates, N more
N=5000
set --
i=0
while [ $i -lt $N ]; do
	set -- "$@" -x "write data/w$i v$i"
	i=$((i + 1))
done
set -- "$@" -x "watch data/trigger"
i=0
while [ $i -lt $N ]; do
	set -- "$@" -x "write data/after$i a$i" -x "read data/w$i"
	i=$((i + 1))
done
# stdbuf preloads its library ahead of ASan's runtime: tell ASan that is fine
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	stdbuf -oL "$LOOPGUEST" --run-dir "$D" --name lu --timeout 20 --hold "$@" \
	>"$D/guest.out" 2>"$D/guest.log" &
GUEST_PID=$!
wait_until 'grep -q "^domid [0-9]*$" "$D/guest.out"' "guest: no domid"
DOMID=$(sed -n 's/^domid \([0-9]*\)$/\1/p' "$D/guest.out")
"$SPLITCTL" --run-dir "$D" --hv loop introduce "$DOMID" lu \
	>"$D/splitctl.log" 2>&1 || fail "splitctl introduce $DOMID"

# the guest is writing (its output line-buffered): update now

during=$(grep -c '^ok write data/w' "$D/guest.out")
for n in 1 2; do
	"$XSCTL" live-update -F "$XSD_ABS" >"$D/lu$n.out" 2>&1 ||
		fail "live update $n: $(cat "$D/lu$n.out")"
	kill -0 "$XSD_PID" || fail "xenstored gone after live update $n"
	xsd_ping || fail "no answer after live update $n"
done
done_by=$(grep -c '^ok write data/w' "$D/guest.out")
[ "$during" -lt "$N" ] ||
	echo "note: the guest had written everything before the updates began"
[ "$(grep -c 'live update: resumed' "$D/log")" -eq 2 ] ||
	fail "the log does not say 'resumed' twice"
[ ! -e "$D/xenstored.lu-state" ] || fail "state file left behind"
[ "$(readlink "/proc/$XSD_PID/exe")" = "$exe_before" ] ||
	fail "another binary runs"

# the transaction began before the updates: EAGAIN, its write not made
touch "$D/commit"
wait "$TX_PID"
TX_PID=
grep -q "^commit error EAGAIN" "$D/tx.out" ||
	fail "transaction across the update: $(cat "$D/tx.out")"
[ "$(xenstore-read /lu/tx 2>/dev/null)" = "" ] ||
	fail "a failed transaction's write was made"

# the dom0 client's watch, and the guest's, fire for writes made now
xenstore-write /lu/y 1 || fail "xenstore-write after the updates"
wait_until 'grep -q "^/lu/y" "$D/watch.out"' "dom0 watch did not fire"
xenstore-write "/local/domain/$DOMID/data/trigger" go ||
	fail "trigger write"
# every operation waits at most 20 s: a lost ring fails here, not hangs;
# --hold keeps the domain (and so its nodes) until we are done
last="^ok read data/w$((N - 1)): v$((N - 1))$"
wait_until 'grep -q "$last" "$D/guest.out" || grep -q "^error" "$D/guest.out" || ! kill -0 "$GUEST_PID" 2>/dev/null' \
	"guest did not finish"
grep -q '^error' "$D/guest.out" &&
	fail "guest saw errors: $(grep -m3 '^error' "$D/guest.out")"
kill -0 "$GUEST_PID" 2>/dev/null || fail "guest exited early"
# relative, as the guest asked: the watch came back with its prefix strip
grep -q "^ok watch data/trigger: data/trigger$" "$D/guest.out" ||
	fail "the guest's watch: $(grep "watch" "$D/guest.out")"
oks=$(grep -c '^ok ' "$D/guest.out")
want=$((3 * N + 1))
[ "$oks" -eq "$want" ] || fail "guest: $oks of $want operations ok"
for i in 0 $((N / 2)) $((N - 1)); do
	[ "$(xenstore-read "/local/domain/$DOMID/data/w$i")" = "v$i" ] ||
		fail "data/w$i lost"
	[ "$(xenstore-read "/local/domain/$DOMID/data/after$i")" = "a$i" ] ||
		fail "data/after$i lost"
done
[ "$(xenstore-ls "/local/domain/$DOMID/data" | grep -c '^w')" -eq $N ] ||
	fail "guest's nodes lost"

# a guest introduced and released after the updates: the special watches
# the dom0 clients set before them fire (xenconsoled waits on the first
# to serve a new guest's console, xl on the second)
intro_before=$(grep -c '^@introduceDomain' "$D/intro.out")
rel_before=$(grep -c '^@releaseDomain' "$D/release.out")
"$LOOPGUEST" --run-dir "$D" --name lu2 --timeout 20 --hold \
	-x "write data/x 1" >"$D/guest2.out" 2>"$D/guest2.log" &
GUEST2_PID=$!
wait_until 'grep -q "^domid [0-9]*$" "$D/guest2.out"' "guest 2: no domid"
DOMID2=$(sed -n 's/^domid \([0-9]*\)$/\1/p' "$D/guest2.out")
"$SPLITCTL" --run-dir "$D" --hv loop introduce "$DOMID2" lu2 \
	>>"$D/splitctl.log" 2>&1 || fail "splitctl introduce $DOMID2"
wait_until 'grep -q "^ok write data/x" "$D/guest2.out"' "guest 2 not served"
wait_until '[ "$(grep -c "^@introduceDomain" "$D/intro.out")" -gt "$intro_before" ]' \
	"@introduceDomain did not fire after the live updates"
"$SPLITCTL" --run-dir "$D" --hv loop release "$DOMID2" \
	>>"$D/splitctl.log" 2>&1 || fail "splitctl release $DOMID2"
wait_until '[ "$(grep -c "^@releaseDomain" "$D/release.out")" -gt "$rel_before" ]' \
	"@releaseDomain did not fire after the live updates"
echo "PASS: two live updates while a guest wrote over its ring (its" \
	"write $during to $done_by of $N), a dom0 watch, a transaction," \
	"@introduceDomain and @releaseDomain after them"
