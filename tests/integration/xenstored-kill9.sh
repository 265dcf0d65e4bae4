#!/bin/sh
# xenstored-kill9.sh - kill -9 under load, on the loopback hypervisor: a
# guest writes over its ring in a loop (each write a new node, its value
# the loop count) while xenstored is killed (SIGKILL) and started again
# several times, as systemd's Restart=on-failure does. The guest sees no
# error and every write it saw acknowledged is in the store afterwards;
# a second guest's watch, registered before the first kill, still fires;
# each restart maps both rings and binds both event channels again; dom0
# clients on the socket are served; no ring was quarantined.
. "$top_srcdir/tests/integration/xenstored-common.sh"

LOOPHVD="$top_builddir/loophv/loophvd"
GUEST="$top_builddir/tools/loopguest"
SPLITCTL="$top_builddir/tools/splitctl"
NWRITES=${XSD_KILL9_WRITES:-40000}
KILLS=${XSD_KILL9_KILLS:-8}
for b in "$LOOPHVD" "$GUEST" "$SPLITCTL"; do
	[ -x "$b" ] || fail "$b not built"
done
command -v xenstore-read >/dev/null 2>&1 || skip "xenstore-utils not installed"

LOOPHVD_PID= WRITER= WATCHER=
k9_cleanup() {
	for p in $WRITER $WATCHER $LOOPHVD_PID; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	xsd_cleanup
}
trap k9_cleanup EXIT

# The store holds one node per write: raise the per-domain quotas.
start_xsd() {
	xsd_start --hv=loop -Q nodes=$((NWRITES + 100)) -Q memory=268435456 \
		--log-level=info
}

launch loophvd "$D/loophvd.log" "$LOOPHVD" -F --run-dir="$D"
LOOPHVD_PID=$LAUNCHED_PID
start_xsd

# guest_start OUT ARGS... - a loopguest, its output in OUT; its domid
# is introduced as a toolstack does. Sets GUEST_PID, GUEST_DOMID.
guest_start() {
	_out=$1
	shift
	"$GUEST" --run-dir="$D" --timeout=60 "$@" >"$_out" 2>&1 &
	GUEST_PID=$!
	wait_until "grep -q '^domid ' '$_out' 2>/dev/null" "a guest did not start"
	GUEST_DOMID=$(sed -n 's/^domid //p' "$_out")
	"$SPLITCTL" --run-dir "$D" --hv loop introduce "$GUEST_DOMID" \
		>/dev/null || fail "cannot introduce d$GUEST_DOMID"
}

# The watcher registers a watch and waits for its next event.
guest_start "$D/watcher.out" --hold -x "watch data/w"
WATCHER=$GUEST_PID
W_DOMID=$GUEST_DOMID
watches() {
	xsd_ctl stats | python3 -c 'import json, sys
print(json.load(sys.stdin)["result"]["watches"])' 2>/dev/null
}
wait_until "[ \"\$(watches)\" = 1 ]" "the watcher's watch was not registered"

# the writer's operations, one argument a line
nl='
'
IFS=$nl
set -- $(awk -v n="$NWRITES" \
	'BEGIN { for (i = 1; i <= n; i++) printf "-x\nwrite data/k%d %d\n", i, i }')
unset IFS
guest_start "$D/writer.out" --hold "$@"
WRITER=$GUEST_PID
A_DOMID=$GUEST_DOMID

acked() {
	grep -c '^ok write' "$D/writer.out"
}

# progress_dump - true while waiting; on the last look, what the daemon
# says (for a failure's log)
progress_dump() {
	[ "$(date +%s)" -lt "$((_end - 1))" ] && return 0
	[ -z "${DUMPED:-}" ] || return 0
	DUMPED=1
	echo "---- daemon stats: $(xsd_ctl stats 2>&1)"
	echo "---- writer: $(tail -n 2 "$D/writer.out")"
	python3 - "$WRITER" <<'PY' 2>&1
import re, struct, sys
pid = sys.argv[1]
for line in open("/proc/%s/maps" % pid):
    if "loophv-guest-ram" in line:
        start = int(line.split("-")[0], 16)
        with open("/proc/%s/mem" % pid, "rb") as m:
            m.seek(start + 4096 + 2048)
            print("---- writer's ring: req_cons %d req_prod %d rsp_cons %d rsp_prod %d" %
                  struct.unpack("<IIII", m.read(16)))
        break
PY
	return 0
}

kills=0
while [ $kills -lt "$KILLS" ] && [ "$(acked)" -lt "$NWRITES" ]; do
	# let the guest get some writes through first
	want=$(($(acked) + 20))
	[ $want -le "$NWRITES" ] || want=$NWRITES
	wait_until \
		"[ \$(acked) -ge $want ] ||
		grep -q '^error' '$D/writer.out' || ! progress_dump" \
		"the writer makes no progress"
	[ "$(acked)" -lt "$NWRITES" ] || break
	xsd_crash
	kills=$((kills + 1))
	echo "kill -9 #$kills after $(acked) acknowledged writes"
	start_xsd
done
[ $kills -ge 2 ] ||
	fail "the writer ended before xenstored was killed twice ($kills): raise XSD_KILL9_WRITES"

# the writer holds its domain (and so its nodes) once done
wait_until "[ \$(grep -c '^ok write\|^error' '$D/writer.out') -eq $NWRITES ] ||
	! kill -0 $WRITER 2>/dev/null" "the writer did not finish"
grep '^error' "$D/writer.out" && fail "the guest saw errors"
kill -0 "$WRITER" 2>/dev/null || fail "the writer died"
[ "$(acked)" -eq "$NWRITES" ] ||
	fail "the writer saw $(acked) of $NWRITES writes acknowledged"

# Every acknowledged write is in the store (over the socket, as dom0).
xenstore-ls -f "/local/domain/$A_DOMID/data" >"$D/store.txt" ||
	fail "cannot list the writer's nodes"
python3 - "$D/writer.out" "$D/store.txt" "$A_DOMID" <<'PY' || fail "acknowledged writes lost"
import re, sys
acked = {}
for line in open(sys.argv[1]):
    m = re.match(r"ok write data/k(\d+)", line)
    if m:
        acked[m.group(1)] = m.group(1)
store = {}
for line in open(sys.argv[2]):
    m = re.match(r'/local/domain/%s/data/k(\d+) = "(.*)"' % sys.argv[3], line)
    if m:
        store[m.group(1)] = m.group(2)
lost = [k for k, v in acked.items() if store.get(k) != v]
if lost:
    print("%d acknowledged writes not in the store, e.g. k%s" %
          (len(lost), ", k".join(sorted(lost, key=int)[:10])))
    sys.exit(1)
print("%d acknowledged writes, all in the store" % len(acked))
PY

# The watcher's watch, registered before the first kill, is still there:
# it fired once when restored, and fires on a write by dom0 (a lost watch
# would get neither).
xenstore-write "/local/domain/$W_DOMID/data/w" after ||
	fail "dom0 cannot write"
wait_until "grep -q '^ok watch data/w' '$D/watcher.out'" \
	"the watcher's watch did not survive the restarts"

# Each restart attached both rings again; none was quarantined.
n=$(grep -c "d$A_DOMID.*ring attached" "$D/log")
[ "$n" -ge $((kills + 1)) ] ||
	fail "d$A_DOMID's ring was attached $n times for $kills restarts"
grep -q "d$W_DOMID.*watches restored" "$D/log" ||
	fail "d$W_DOMID's watch was not restored"
grep -q quarantined "$D/log" && fail "a ring was quarantined"

# dom0 clients are served
xenstore-write /kill9/dom0 yes || fail "dom0 write after the restarts"
[ "$(xenstore-read /kill9/dom0)" = yes ] || fail "dom0 read after the restarts"
xsd_stop
echo "requests read in part when killed, taken back: $(grep -c 'taken back' "$D/log")"
echo "PASS: $kills kill -9 restarts under $NWRITES guest writes: none lost"
