# xenstore-guest-ops, domU side: xenstore-utils over the kernel's xenbus
# (/dev/xen/xenbus). The peer (g2) only idles; g1 reads its own path, is
# refused (EACCES) on dom0's and on the peer's nodes, and sees a watch fire
# when dom0 writes.
id=$(xenstore-read domid) || { fail "read relative 'domid'"; exit 1; }
name=$(xenstore-read name) || { fail "read relative 'name'"; exit 1; }
if [ "$name" = g2 ]; then
	mark "peer-up domid=$id"
	exit 0
fi
[ "$(xenstore-read /local/domain/$id/name)" = "$name" ] ||
	{ fail "absolute /local/domain/$id/name differs from relative name"; exit 1; }
xenstore-ls /local/domain/$id > /tmp/own.ls 2>&1 || { cat /tmp/own.ls; fail "ls own path"; exit 1; }
grep -q '^device' /tmp/own.ls && grep -q '^data' /tmp/own.ls ||
	{ cat /tmp/own.ls; fail "own path lacks device/ or data/"; exit 1; }
xenstore-write data/guest-wrote "from-domU-$id" || { fail "write data/guest-wrote"; exit 1; }
mark "guest-own-path-ok /local/domain/$id"

# expect_eacces PATH - listing PATH fails with EACCES (xenstore-ls prints
# strerror), reading it fails, writing PATH/guest-intrusion fails (dom0
# checks that nothing appeared).
expect_eacces() {
	local out
	out=$(xenstore-ls "$1" 2>&1) && { fail "ls $1 allowed: $out"; return 1; }
	case $out in
	*"Permission denied"*) ;;
	*) fail "ls $1 refused, but not with EACCES: $out"; return 1 ;;
	esac
	xenstore-read "$1" >/dev/null 2>&1 && { fail "read $1 allowed"; return 1; }
	xenstore-write "$1/guest-intrusion" x >/dev/null 2>&1 &&
		{ fail "write $1/guest-intrusion allowed"; return 1; }
	return 0
}
expect_eacces /local/domain/0 || exit 1
expect_eacces /local/domain/0/name || exit 1
mark "guest-eacces-dom0-ok"
i=0
while ! peer=$(xenstore-read data/peer 2>/dev/null) && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
[ -n "$peer" ] || { fail "dom0 never wrote data/peer"; exit 1; }
expect_eacces /local/domain/$peer || exit 1
expect_eacces /local/domain/$peer/data || exit 1
mark "guest-eacces-peer-ok (domain $peer)"

# A watch: fires once on registration, once when dom0 writes data/ping.
: > /tmp/watch.out # exists before the loop below reads it
xenstore-watch -n 2 data/ping > /tmp/watch.out 2>&1 &
w=$!
i=0
while [ "$(wc -l < /tmp/watch.out)" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
[ "$(wc -l < /tmp/watch.out)" -ge 1 ] || { fail "watch did not fire on registration"; exit 1; }
xenstore-write data/watch-ready 1 || { fail "write data/watch-ready"; exit 1; }
i=0
while [ "$(grep -c '^data/ping' /tmp/watch.out)" -lt 2 ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
sed 's/^/watch: /' /tmp/watch.out
[ "$(grep -c '^data/ping' /tmp/watch.out)" -ge 2 ] ||
	{ kill $w 2>/dev/null; fail "watch did not fire on dom0's write within 60 s"; exit 1; }
v=$(xenstore-read data/ping) || { fail "read data/ping"; exit 1; }
[ "$v" = pong-from-dom0 ] || { fail "data/ping = '$v'"; exit 1; }
mark "guest-watch-fired"
