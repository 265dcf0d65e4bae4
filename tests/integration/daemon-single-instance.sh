#!/bin/sh
# daemon-single-instance.sh - a second loophvd, xenstored, blkback or netback on the
# run directory of a live one refuses to start: it exits non-zero, names
# the live one (pid, lock file) and the next step, and touches nothing of
# it: the sockets keep their inodes and clients are still served. A dead
# instance's leftovers (lock file, sockets) do not stop a new one.
set -u
. "$top_srcdir/tests/integration/xenstored-common.sh"
LOOPHVD="$top_builddir/loophv/loophvd"
BLKBACK="$top_builddir/blkback/blkback"
NETBACK="$top_builddir/netback/netback"
SPLITCTL="$top_builddir/tools/splitctl"
for b in "$LOOPHVD" "$BLKBACK" "$NETBACK" "$SPLITCTL"; do
	[ -x "$b" ] || fail "$b not built"
done
LHV_PID=
BK_PID=
NB_PID=

si_cleanup() {
	for p in $NB_PID $BK_PID $XSD_PID $LHV_PID; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# a second daemon that started after all (the bug this test is for)
	# daemonized out of our reach: every process on our run directory
	pkill -9 -f -- "--run-dir $D" 2>/dev/null
	XSD_PID=
	xsd_cleanup
}
trap si_cleanup EXIT

fail() {
	echo "FAIL: $*"
	for f in "$D"/*.log "$D"/log; do
		[ -f "$f" ] || continue
		echo "---- $f"
		tail -n 20 "$f"
	done
	exit 1
}

start_loophvd() {
	launch loophvd "$D/loophvd.log" "$LOOPHVD" --foreground --run-dir "$D"
	LHV_PID=$LAUNCHED_PID
}

inodes() { # PATH... - their inode numbers, one line
	stat -c %i "$@" 2>/dev/null | tr '\n' ' '
}

# second NAME PID SOCKETS -- COMMAND... - COMMAND (a second NAME beside
# the live one, PID) must fail at once with the message, leaving SOCKETS
# (space-separated) and PID as they were.
second() {
	name=$1
	pid=$2
	socks=$3
	shift 4
	# shellcheck disable=SC2086
	before=$(inodes $socks)
	timeout 10 "$@" >"$D/second-$name.out" 2>&1
	rc=$?
	[ $rc -ne 0 ] || fail "a second $name started (exit 0)"
	[ $rc -ne 124 ] || fail "a second $name is still running after 10 s"
	grep -q "another $name (pid $pid) is running" "$D/second-$name.out" ||
		fail "second $name: no 'another $name (pid $pid)': $(cat "$D/second-$name.out")"
	grep -q "$D/$name.pid" "$D/second-$name.out" ||
		fail "second $name: the lock file is not named"
	grep -q "stop it first" "$D/second-$name.out" ||
		fail "second $name: no next step"
	kill -0 "$pid" 2>/dev/null || fail "the first $name died"
	# shellcheck disable=SC2086
	[ "$(inodes $socks)" = "$before" ] ||
		fail "second $name replaced a socket of the first ($before -> $(inodes $socks))"
	[ "$(cat "$D/$name.pid")" = "$pid" ] ||
		fail "$D/$name.pid no longer names the first $name"
}

start_loophvd
xsd_start --hv=loop
launch blkback "$D/blkback.log" "$BLKBACK" --foreground --hv=loop --run-dir "$D"
BK_PID=$LAUNCHED_PID
launch netback "$D/netback.log" "$NETBACK" --foreground --hv=loop --run-dir "$D"
NB_PID=$LAUNCHED_PID

second loophvd "$LHV_PID" "$D/loophvd.sock $D/loophvd.ctl" -- \
	"$LOOPHVD" --foreground --run-dir "$D"
# in the background (daemonizing) the same, on stderr
second loophvd "$LHV_PID" "$D/loophvd.sock $D/loophvd.ctl" -- \
	"$LOOPHVD" --run-dir "$D"
"$SPLITCTL" --run-dir "$D" --hv loop domains >"$D/domains.out" 2>&1 ||
	fail "loophvd.sock no longer serves: $(cat "$D/domains.out")"
grep -q "Domain-0" "$D/domains.out" || fail "splitctl domains: no Domain-0"
"$SPLITCTL" --run-dir "$D" status loophvd >/dev/null ||
	fail "loophvd.ctl no longer serves"

second xenstored "$XSD_PID" "$XENSTORED_PATH $D/xenstored.ctl" -- \
	"$XSD" -F --run-dir="$D" --socket="$XENSTORED_PATH" --hv=loop
# without persistence too (no state file of its own to trip on)
second xenstored "$XSD_PID" "$XENSTORED_PATH $D/xenstored.ctl" -- \
	"$XSD" -F --run-dir="$D" --socket="$XENSTORED_PATH" --no-persist
xsd_ping || fail "xenstored's socket no longer serves"
"$SPLITCTL" --run-dir "$D" status xenstored >/dev/null ||
	fail "xenstored.ctl no longer serves"

second blkback "$BK_PID" "$D/blkback.ctl" -- \
	"$BLKBACK" --foreground --hv=loop --run-dir "$D"
"$SPLITCTL" --run-dir "$D" status blkback >/dev/null ||
	fail "blkback.ctl no longer serves"
grep -q "another blkback" "$D/blkback.log" &&
	fail "the second blkback's message is in the first one's log"
second netback "$NB_PID" "$D/netback.ctl" -- \
	"$NETBACK" --foreground --hv=loop --run-dir "$D"
"$SPLITCTL" --run-dir "$D" status netback >/dev/null ||
	fail "netback.ctl no longer serves"

# A killed loophvd leaves its lock file and sockets: a new one takes over.
kill -9 "$LHV_PID"
wait "$LHV_PID" 2>/dev/null
[ -e "$D/loophvd.pid" ] || fail "setup: kill -9 removed the lock file?"
# (the old sockets are there already: launch waits for its READY=1)
start_loophvd
"$SPLITCTL" --run-dir "$D" --hv loop domains >/dev/null 2>&1 &&
	"$SPLITCTL" --run-dir "$D" status loophvd >/dev/null 2>&1 ||
	fail "the new loophvd does not serve"
[ "$(cat "$D/loophvd.pid")" = "$LHV_PID" ] ||
	fail "loophvd.pid does not name the new loophvd"
# A clean stop removes the lock file.
kill -TERM "$LHV_PID"
wait "$LHV_PID"
rc=$?
LHV_PID=
[ $rc -eq 0 ] || fail "loophvd exited $rc on SIGTERM"
[ -e "$D/loophvd.pid" ] && fail "loophvd.pid left after a clean stop"
echo "PASS: a second loophvd, xenstored, blkback refuses beside a live one"
