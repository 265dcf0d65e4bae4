# xenstored-common.sh - sourced by the xenstored-*.sh integration tests:
# start our xenstored in a private run directory, stop it, fail loudly.
XSD="$top_builddir/xenstored/xenstored"
D=$(mktemp -d /tmp/xsd-test.XXXXXX) || exit 99
export XENSTORED_PATH="$D/socket"
XSD_PID=

xsd_cleanup() {
	if [ -n "$XSD_PID" ] && kill -0 "$XSD_PID" 2>/dev/null; then
		kill -9 "$XSD_PID" 2>/dev/null
		wait "$XSD_PID" 2>/dev/null
	fi
	rm -rf "$D"
}
trap xsd_cleanup EXIT

fail() {
	echo "FAIL: $*"
	echo "---- xenstored log"
	cat "$D/log" 2>/dev/null
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# launch NAME LOG CMD... - start daemon CMD (in the foreground, its output
# appended to LOG) through tests/lib/daemon-launch: returns once it said
# READY=1 (sd_notify), its pid in LAUNCHED_PID; it gets SIGTERM if this
# shell dies. A daemon that exits first or is not ready within
# SPLITDRV_TEST_DEADLINE seconds (default 60) fails the test, named with
# its log.
LAUNCH="$top_builddir/tests/lib/daemon-launch"
launch() {
	_name=$1
	_log=$2
	shift 2
	"$LAUNCH" exec --log "$_log" -- "$@" &
	LAUNCHED_PID=$!
	"$LAUNCH" wait "$_name" "$LAUNCHED_PID" "$_log" && return 0
	kill -9 "$LAUNCHED_PID" 2>/dev/null
	wait "$LAUNCHED_PID" 2>/dev/null
	LAUNCHED_PID=
	fail "$_name did not start"
}

# wait_until COND WHAT - until the shell condition COND (eval'd) holds,
# looking every 0.05 s; after TEST_DEADLINE seconds fail with WHAT. A
# deadline, not a count of tries: a loaded machine makes the test slower,
# not failed.
TEST_DEADLINE=${SPLITDRV_TEST_DEADLINE:-60}
wait_until() {
	_end=$(($(date +%s) + TEST_DEADLINE))
	until eval "$1"; do
		[ "$(date +%s)" -lt "$_end" ] ||
			fail "$2 (after $TEST_DEADLINE s)"
		sleep 0.05
	done
}

# xsd_ping - one round trip over the socket, with our own client: no
# dependency on xenstore-utils for readiness.
xsd_ping() {
	python3 - "$XENSTORED_PATH" <<'PY' 2>/dev/null
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
p = b"/\0"
s.sendall(struct.pack("<IIII", 1, 1, 0, len(p)) + p)   # XS_DIRECTORY
h = s.recv(16)
sys.exit(0 if len(h) == 16 else 1)
PY
}

xsd_start() {
	launch xenstored "$D/log" "$XSD" -F --run-dir="$D" \
		--socket="$XENSTORED_PATH" "$@"
	XSD_PID=$LAUNCHED_PID
}

xsd_stop() {
	kill -TERM "$XSD_PID" || fail "cannot signal xenstored"
	wait "$XSD_PID"
	rc=$?
	XSD_PID=
	[ $rc -eq 0 ] || fail "xenstored exited $rc on SIGTERM"
}

xsd_crash() {
	kill -9 "$XSD_PID"
	wait "$XSD_PID" 2>/dev/null
	XSD_PID=
}

# xsd_ctl CMD - one request on the JSON control socket, reply on stdout.
xsd_ctl() {
	python3 - "$D/xenstored.ctl" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": sys.argv[2]}) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.decode().strip())
PY
}

command -v python3 >/dev/null 2>&1 || skip "python3 not installed"
[ -x "$XSD" ] || fail "$XSD not built"
[ -x "$LAUNCH" ] || fail "$LAUNCH not built"
