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
	"$XSD" -F --run-dir="$D" --socket="$XENSTORED_PATH" "$@" >>"$D/log" 2>&1 &
	XSD_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		kill -0 "$XSD_PID" 2>/dev/null || fail "xenstored exited at start"
		if [ -S "$XENSTORED_PATH" ] && xsd_ping; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	fail "xenstored not serving after 5 s"
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
