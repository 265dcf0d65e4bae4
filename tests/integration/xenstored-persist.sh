#!/bin/sh
# xenstored-persist.sh - nothing acknowledged is lost: state written by a
# libxenstore client survives a clean restart (SIGTERM) and a crash
# (kill -9), nodes, permissions, transactions and introduced domains.
. "$top_srcdir/tests/integration/xenstored-common.sh"
CLIENT="$top_builddir/tests/integration/xs_libclient"
[ -x "$CLIENT" ] || skip "xs_libclient not built (no libxenstore)"

xsd_start
"$CLIENT" populate || fail "populate"
xsd_stop
xsd_start
"$CLIENT" verify || fail "after SIGTERM + restart"

# a crash right after the acknowledgements
"$CLIENT" populate || fail "populate again"
python3 - "$XENSTORED_PATH" <<'PY' || fail "last write"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
p = b"/persist/last\0acked"
s.sendall(struct.pack("<IIII", 11, 7, 0, len(p)) + p)   # XS_WRITE
h = s.recv(16)
assert struct.unpack("<IIII", h)[0] == 11, "not acknowledged"
PY
xsd_crash
xsd_start
"$CLIENT" verify || fail "after kill -9 + restart"
[ "$(python3 - "$XENSTORED_PATH" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
p = b"/persist/last\0"
s.sendall(struct.pack("<IIII", 2, 1, 0, len(p)) + p)    # XS_READ
h = struct.unpack("<IIII", s.recv(16))
print(s.recv(h[3]).decode())
PY
)" = acked ] || fail "last acknowledged write lost in the crash"

# --no-persist keeps nothing
xsd_stop
rm -f "$D/xenstored.db" "$D/xenstored.journal"
xsd_start --no-persist
"$CLIENT" populate || fail "populate (no persist)"
xsd_stop
[ ! -e "$D/xenstored.db" ] || fail "--no-persist wrote a snapshot"
echo "PASS: restart and crash keep the store"
