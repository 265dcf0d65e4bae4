# xenstore-live-update: a PV domU writes its own nodes and reads each back
# in a loop (through its kernel's xenbus ring) while dom0 live-updates our
# xenstored twice (`xenstore-control live-update -F BINARY`, as an admin
# types it): first to the same binary, then to a copy of it at another
# path (a rebuilt binary). The guest sees no error and every write it saw
# acknowledged reads back; a watch dom0's kernel holds over its ring and
# the @introduceDomain / @releaseDomain watches that xenconsoled, xl and a
# dom0 socket client hold since before the updates all still fire: `xl
# create` of a second guest after the updates completes (it waits for
# xenconsoled, which waits for @introduceDomain), the guest is served, and
# `xl destroy` leaves nothing behind. Nothing is restarted: xenconsoled
# keeps the connection it opened at boot.
for XSD in /usr/local/sbin/xenstored /usr/sbin/xenstored; do
	[ -x "$XSD" ] && break
done
XSCTL=xenstore-control
[ -x /usr/lib/xen-4.17/bin/xenstore-control ] &&
	XSCTL=/usr/lib/xen-4.17/bin/xenstore-control

events() { grep -c "^$2" "$1" 2>/dev/null; }

# live_update N BINARY - replace the running xenstored by BINARY; the pid
# stays, the process runs BINARY, its log says "resumed" N times, and it
# serves.
live_update() {
	local pid out fds
	pid=$(cat /run/xenstored.pid)
	out=$(timeout 90 "$XSCTL" live-update -F "$2" 2>&1) ||
		{ fail "live update $1 to $2: rc $? ($out)"; return 1; }
	kill -0 "$pid" 2>/dev/null || { fail "xenstored $pid gone after live update $1"; return 1; }
	[ "$(readlink "/proc/$pid/exe")" = "$2" ] ||
		{ fail "after live update $1, pid $pid runs $(readlink "/proc/$pid/exe"), not $2"; return 1; }
	wait_for 30 xenstore-exists /local/domain/0 ||
		{ fail "xenstored does not serve after live update $1"; return 1; }
	[ "$(grep -c 'live update: resumed' /var/log/xenstored.log)" -eq "$1" ] ||
		{ fail "the log does not say 'live update: resumed' $1 times"; return 1; }
	# the same clients, the same fds: nothing leaks across the exec
	fds=$(ls /proc/$pid/fd | wc -l)
	[ -z "${FDS_LU1:-}" ] || [ "$fds" -eq "$FDS_LU1" ] ||
		{ fail "xenstored has $fds fds after live update $1, $FDS_LU1 after the first"; ls -l /proc/$pid/fd; return 1; }
	FDS_LU1=${FDS_LU1:-$fds}
	mark "dom0-live-update-$1 (pid $pid runs $2, $fds fds${out:+: $out})"
}

# A watch of dom0's kernel, over dom0's own ring
ring_watch_start /lu-watch
# The special watches, on the dom0 socket (as xl and xenconsoled hold them)
xenstore-watch @introduceDomain > /run/intro.out 2>&1 &
iw=$!
xenstore-watch @releaseDomain > /run/release.out 2>&1 &
rlw=$!
wait_for 20 sh -c 'grep -q . /run/intro.out && grep -q . /run/release.out' ||
	fail "the dom0 socket's special watches did not fire on registration"

domu_create w1 || exit 1
id=$DOMID
wait_for 240 sh -c "[ \$(xenstore-list /local/domain/$id/data 2>/dev/null | grep -c '^k') -ge 5 ]" ||
	{ domu_console w1; fail "the guest did not start writing"; exit 1; }
mark "dom0-writer-running ($(xs_writer_keys $id) writes)"

cp "$XSD" /run/xenstored-rebuilt || { fail "cp $XSD"; exit 1; }
ok=1
r=1
for bin in "$XSD" /run/xenstored-rebuilt; do
	sleep 3
	live_update $r "$bin" || { ok=0; break; }
	n=$(xs_writer_keys "$id")
	wait_for 120 sh -c "[ \$(xenstore-list /local/domain/$id/data 2>/dev/null | grep -c '^k') -ge $((n + 3)) ]" ||
		{ fail "the guest's writes did not go on after live update $r ($n keys)"; ok=0; break; }
	r=$((r + 1))
done
[ $ok = 1 ] || { domu_console w1; tail -n 40 /var/log/xenstored.log; exit 1; }
mark "dom0-served-after-updates ($(xs_writer_keys $id) writes)"

# A second guest: xl create waits for xenconsoled (its console tty), which
# acts on @introduceDomain; then xl destroy, which waits on @releaseDomain.
intro=$(events /run/intro.out @introduceDomain)
rel=$(events /run/release.out @releaseDomain)
domu_create w2 || { ok=0; tail -n 40 /var/log/xenstored.log; }
if [ $ok = 1 ]; then
	id2=$DOMID
	wait_for 30 sh -c "[ \$(grep -c '^@introduceDomain' /run/intro.out) -gt $intro ]" &&
		mark "dom0-introduce-watch-fired" ||
		{ fail "@introduceDomain did not fire for w2 after the updates"; ok=0; }
	domu_wait_done w2 "$id2" 240 || ok=0
	domu_console w2
	domu_destroy w2 || ok=0
	domu_gone w2 30 || ok=0
	domu_cleaned "$id2" 30 && mark "dom0-destroy-clean w2" || ok=0
	wait_for 30 sh -c "[ \$(grep -c '^@releaseDomain' /run/release.out) -gt $rel ]" &&
		mark "dom0-release-watch-fired" ||
		{ fail "@releaseDomain did not fire for w2 after the updates"; ok=0; }
fi

xs_writer_check w1 "$id" || ok=0

# dom0's kernel watch was kept with its ring: a write fires it
ring_watch_kept /lu-watch || ok=0
kill $iw $rlw 2>/dev/null

# w1 is gone from xl list at once, but right after its destroy dom0 is not
# scheduled for 15-140 s here under TCG (a soft lockup of dom0's CPU 0, no
# dom0 process busy; xenstore-restart shows the same after its writer's
# destroy): the limit for w1 leaves room for that, w2's above is strict.
domu_destroy w1 || exit 1
domu_gone w1 30 || exit 1
domu_cleaned "$id" 240 && mark "dom0-destroy-clean w1" || ok=0
grep -q quarantined /var/log/xenstored.log && { fail "a ring was quarantined"; ok=0; }
[ $ok = 1 ]
