# xenstore-restart: kill -9 under load. A PV domU writes its own nodes in
# a loop (xenstore-write through its kernel's xenbus ring) while dom0
# kills our xenstored (SIGKILL) three times and starts it again each time,
# as systemd's Restart=on-failure would (there is no systemd here: this
# script plays its part). Each restart must map the guest's ring and
# dom0's own ring again and bind their event channels (from the journal
# in /var/lib/xenstored, see xenstored-args); the guest sees no error and
# every write it saw acknowledged reads back; a watch dom0's kernel holds
# over its ring still fires; xl destroy then leaves nothing behind.
for XSD in /usr/local/sbin/xenstored /usr/sbin/xenstored; do
	[ -x "$XSD" ] && break
done
ARGS=$(grep -v '^#' /harness/scenario/xenstored-args)

# restart_xenstored N - SIGKILL, a second of nothing (the guest's write
# waits in its ring), start again, wait until the socket serves.
restart_xenstored() {
	local pid
	pid=$(cat /run/xenstored.pid)
	kill -9 "$pid" || { fail "cannot kill xenstored $pid"; return 1; }
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	sleep 1
	# shellcheck disable=SC2086 # the args are words
	"$XSD" --foreground --hv=xen $ARGS --log-level=debug \
		>>/var/log/xenstored.log 2>&1 &
	echo $! > /run/xenstored.pid
	wait_for 30 xenstore-exists /local/domain/0 ||
		{ fail "xenstored did not serve 30 s after restart $1"; return 1; }
	# xenconsoled's libxenstore connection died with the old daemon and
	# is never reopened: restart it too (systemd would, for a unit that
	# binds to xenstored), or the guest's console is no longer logged
	pid=$(grep -lx xenconsoled /proc/[0-9]*/comm 2>/dev/null | head -1 | cut -d/ -f3)
	[ -n "$pid" ] && kill "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	xenconsoled --log=guest --log-dir=/var/log/xen >>/var/log/xen/xenconsoled.log 2>&1 ||
		fail "xenconsoled did not start again"
	mark "dom0-restart-$1 (pid $(cat /run/xenstored.pid))"
}

# A watch of dom0's kernel, over dom0's own ring
ring_watch_start /restart-watch

domu_create w1 || exit 1
id=$DOMID
wait_for 240 sh -c "[ \$(xenstore-list /local/domain/$id/data 2>/dev/null | grep -c '^k') -ge 5 ]" ||
	{ domu_console w1; fail "the guest did not start writing"; exit 1; }
mark "dom0-writer-running ($(xs_writer_keys $id) writes)"

ok=1
for r in 1 2 3; do
	sleep 3
	restart_xenstored $r || exit 1
	n=$(xs_writer_keys "$id")
	wait_for 120 sh -c "[ \$(xenstore-list /local/domain/$id/data 2>/dev/null | grep -c '^k') -ge $((n + 3)) ]" ||
		{ fail "the guest's writes did not go on after restart $r ($n keys)"; ok=0; break; }
done
[ $ok = 1 ] || { domu_console w1; exit 1; }
n=$(grep -c "d$id xenstore: ring attached" /var/log/xenstored.log)
d0=$(grep -c "serving dom0's own ring" /var/log/xenstored.log)
[ "$n" -ge 4 ] && [ "$d0" -ge 4 ] &&
	mark "dom0-served-after-restarts (d$id's ring attached $n times, dom0's $d0)" ||
	{ fail "rings attached: d$id $n times, dom0 $d0 times (want 4)"; ok=0; }

xs_writer_check w1 "$id" || ok=0

# dom0's kernel watch was restored with its ring: a write fires it
ring_watch_kept /restart-watch || ok=0

domu_destroy w1 || exit 1
domu_gone w1 30 || exit 1
domu_cleaned "$id" 30 && mark "dom0-destroy-clean w1" || ok=0
grep -q quarantined /var/log/xenstored.log && { fail "a ring was quarantined"; ok=0; }
[ $ok = 1 ]
