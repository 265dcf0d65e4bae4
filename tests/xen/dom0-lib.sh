# tests/xen/dom0-lib.sh - helpers for the dom0 side of harness scenarios.
# Sourced by /init (init-dom0) before it runs the scenario's dom0.sh; the
# scenario runs in a subshell in the scenario's directory
# (/harness/scenario: dom0.sh, domU.cfg, markers).
#
# Output conventions (the host greps the serial log):
#   MARK <text>   progress; a scenario's markers file lists the ones it needs
#   FAIL <text>   a failure; any FAIL line fails the scenario
# Helpers return 0 on success and 1 (after a FAIL line) otherwise, so that a
# scenario can write `helper ... || exit 1`.

up() { cut -d' ' -f1 /proc/uptime; }
mark() { echo "MARK $* t=$(up)"; }
fail() { echo "FAIL $*"; return 1; }

# wait_for SECS CMD... - run CMD every 0.5 s until it succeeds; 1 on timeout.
wait_for() {
	local secs=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $((secs * 2)) ] && return 1
		sleep 0.5
	done
	return 0
}

# xs_expect PATH VALUE - the node exists in the store with that value.
xs_expect() {
	local v
	v=$(xenstore-read "$1" 2>&1) || { fail "xenstore node $1 missing ($v)"; return 1; }
	[ "$v" = "$2" ] || { fail "xenstore node $1 = '$v', expected '$2'"; return 1; }
	return 0
}

# xs_absent PATH - no such node.
xs_absent() {
	if xenstore-exists "$1" 2>/dev/null; then
		fail "xenstore node $1 still exists:"
		xenstore-ls -f "$1" 2>&1 | head -20 | sed 's/^/  /'
		return 1
	fi
	return 0
}

# xs_wait PATH VALUE SECS - wait until the node reads VALUE.
xs_wait() {
	wait_for "$3" sh -c "[ \"\$(xenstore-read '$1' 2>/dev/null)\" = '$2' ]" ||
		{ fail "xenstore node $1 did not become '$2' within $3 s (now: '$(xenstore-read "$1" 2>&1)')"; return 1; }
}

# domu_create NAME [KEY=VALUE...] - xl create the scenario's domU.cfg as
# NAME (extra xl config overrides allowed); sets DOMID.
domu_create() {
	local name=$1 rc
	shift
	echo "xl create $name t=$(up)"
	timeout 300 xl create /harness/scenario/domU.cfg "name=\"$name\"" "$@" \
		>/var/log/xen/xl-create-$name.log 2>&1
	rc=$?
	echo "xl create $name rc=$rc t=$(up)"
	if [ $rc -ne 0 ]; then
		sed 's/^/  xl: /' /var/log/xen/xl-create-$name.log | tail -30
		fail "xl create $name"
		return 1
	fi
	DOMID=$(timeout 20 xl domid "$name") || { fail "xl domid $name"; return 1; }
	echo "domain $name is domid $DOMID"
}

# domu_wait_done NAME DOMID SECS - wait for the domU's init to finish its
# script (data/harness-done); 0 when the script's rc was 0.
domu_wait_done() {
	local name=$1 id=$2 secs=$3 v
	if ! wait_for "$secs" xenstore-read "/local/domain/$id/data/harness-done"; then
		fail "domU $name ($id) did not finish within $secs s"
		domu_console "$name"
		return 1
	fi
	v=$(xenstore-read "/local/domain/$id/data/harness-done")
	echo "domU $name finished its script: rc=$v t=$(up)"
	[ "$v" = 0 ] || { fail "domU $name script rc=$v"; return 1; }
}

# domu_console NAME - the domU's console so far (xenconsoled's log),
# prefixed "[domU NAME] "; printed once per domU (the rest is new lines).
domu_console() {
	local log=/var/log/xen/guest-$1.log seen=/run/harness-console-$1 n=0 total
	[ -f "$log" ] || { echo "(no console log for $1)"; return 0; }
	[ -f "$seen" ] && n=$(cat "$seen")
	total=$(wc -l < "$log")
	tail -n +$((n + 1)) "$log" | tr -d '\r' | sed "s/^/[domU $1] /"
	echo "$total" > "$seen"
}

# domu_destroy NAME - xl destroy, then the console log of the domU.
domu_destroy() {
	local rc
	timeout 60 xl destroy "$1" >/var/log/xen/xl-destroy-$1.log 2>&1
	rc=$?
	echo "xl destroy $1 rc=$rc t=$(up)"
	[ $rc -eq 0 ] || { sed 's/^/  xl: /' /var/log/xen/xl-destroy-$1.log; fail "xl destroy $1"; return 1; }
}

# domu_gone NAME SECS - wait until xl no longer lists NAME.
domu_gone() {
	wait_for "$2" sh -c "timeout 10 xl domid '$1'; [ \$? = 1 ]" ||
		{ fail "domain $1 still listed $2 s after destroy"; xl list; return 1; }
}

# fds_on PID FILE - how many of process PID's file descriptors are open on
# FILE (by its path, as /proc/PID/fd shows it).
fds_on() {
	local n=0 f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$2" ] && n=$((n + 1))
	done
	echo $n
}

# domid_listed ID - xl list shows domain ID (in any state, dying too).
domid_listed() {
	timeout 10 xl list 2>/dev/null | awk -v id="$1" 'NR > 1 && $2 == id { f = 1 } END { exit !f }'
}

# domu_cleaned ID SECS [IMAGE BLKBACK_PID] - within SECS of now (wall
# time, the checks' own time included), every trace of domain ID is gone:
# no /local/domain/ID, no backend/vbd/ID, (with IMAGE) no file descriptor
# of blkback on IMAGE, and xl list does not show it (last: the slowest
# check); then xenstored (and blkback) still run. Prints how long it took;
# names what is left on failure.
domu_cleaned() {
	local id=$1 secs=$2 img=${3:-} bk=${4:-} t0 el left
	t0=$(up)
	while :; do
		left=""
		xenstore-exists /local/domain/"$id" 2>/dev/null && left="$left; /local/domain/$id"
		xenstore-exists /local/domain/0/backend/vbd/"$id" 2>/dev/null &&
			left="$left; /local/domain/0/backend/vbd/$id"
		[ -n "$img" ] && [ "$(fds_on "$bk" "$img")" != 0 ] &&
			left="$left; blkback (pid $bk) holds $(fds_on "$bk" "$img") fd(s) on $img"
		[ -z "$left" ] && domid_listed "$id" &&
			left="$left; xl list shows it: $(timeout 10 xl list | awk -v id="$id" '$2 == id')"
		el=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
		[ -n "$left" ] || break
		awk -v e="$el" -v s="$secs" 'BEGIN { exit !(e < s) }' || break
		sleep 0.2
	done
	kill -0 "$(cat /run/xenstored.pid)" 2>/dev/null || left="$left; xenstored died"
	[ -z "$bk" ] || kill -0 "$bk" 2>/dev/null || left="$left; blkback died"
	if [ -z "$left" ] && awk -v e="$el" -v s="$secs" 'BEGIN { exit !(e > s) }'; then
		fail "domain $id took $el s to clean up (limit $secs s)"
		return 1
	fi
	if [ -n "$left" ]; then
		fail "domain $id not cleaned up within $secs s:${left#;}"
		xenstore-ls -f /local/domain 2>&1 | grep -E "^/local/domain/($id/|0/backend/vbd/$id/)" | head -20 | sed 's/^/  /'
		return 1
	fi
	echo "domain $id cleaned up in $el s"
}

# domu_ends ID SECS [IMAGE BLKBACK_PID] -- CMD... - end domain ID with CMD
# (a trigger: let the guest go on, xl shutdown, ...) and time it: the
# domain must shut down within 60 s of CMD (the guest's own part: its
# kernel shuts down, slowly under TCG), seen as xenstored's @releaseDomain
# event; from that event on, domu_cleaned ID SECS [IMAGE BLKBACK_PID].
domu_ends() {
	local id=$1 secs=$2 img="" bk="" w t0 el n
	shift 2
	if [ "$1" != -- ]; then img=$1 bk=$2; shift 2; fi
	shift
	rm -f /run/rd-watch.out
	# The registration event, then the next one (or the watch is killed).
	xenstore-watch -n 2 @releaseDomain > /run/rd-watch.out 2>&1 &
	w=$!
	wait_for 10 test -s /run/rd-watch.out || { fail "xenstore-watch @releaseDomain"; kill $w; return 1; }
	t0=$(up)
	"$@" || { kill $w 2>/dev/null; return 1; }
	n=0
	while kill -0 $w 2>/dev/null; do
		n=$((n + 1))
		[ $n -le 600 ] ||
			{ kill $w; fail "no @releaseDomain within 60 s of '$*' (domain $id)"; timeout 10 xl list; return 1; }
		sleep 0.1
	done
	el=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
	echo "domain $id: @releaseDomain $el s after '$*'"
	domu_cleaned "$id" "$secs" $img $bk
}

# xs_writer_keys ID - how many nodes data/k<i> the guest writer
# (xs_write_loop in the domU) has written so far.
xs_writer_keys() { xenstore-list "/local/domain/$1/data" 2>/dev/null | grep -c '^k'; }

# xs_writer_check NAME ID - stop the domU's xs_write_loop (data/stop), wait
# for its script, then check that every write it saw acknowledged
# (data/acked) is in the store with its value: mark dom0-acked-writes-kept.
xs_writer_check() {
	local name=$1 id=$2 acked missing
	xenstore-write "/local/domain/$id/data/stop" 1 || fail "dom0 write data/stop"
	domu_wait_done "$name" "$id" 300 || return 1
	domu_console "$name"
	acked=$(xenstore-read "/local/domain/$id/data/acked") || { fail "no data/acked"; return 1; }
	xenstore-ls -f "/local/domain/$id/data" > /run/data.ls 2>&1
	missing=$(awk -v n="$acked" -v p="/local/domain/$id/data/k" '
		index($0, p) == 1 { split(substr($0, length(p) + 1), a, " = "); v[a[1]] = a[2] }
		END { for (i = 1; i <= n; i++) if (v[i] != "\"" i "\"") { print i; c++; if (c > 5) break } }' /run/data.ls)
	[ -z "$missing" ] ||
		{ fail "acknowledged writes missing or wrong: k$(echo $missing | sed 's/ /, k/g')"; return 1; }
	mark "dom0-acked-writes-kept ($acked)"
}

# ring_watch_start PATH - a watch of dom0's kernel on PATH (created empty),
# over dom0's own ring (libxenstore uses the xenbus device when
# XENSTORED_PATH names it, not the socket); waits for its first event.
# Output in /run/ring-watch.out, pid in RING_WATCH_PID.
ring_watch_start() {
	xenstore-write "$1" "" || { fail "dom0 write $1"; return 1; }
	XENSTORED_PATH=/dev/xen/xenbus xenstore-watch "$1" > /run/ring-watch.out 2>&1 &
	RING_WATCH_PID=$!
	wait_for 20 grep -q . /run/ring-watch.out ||
		{ fail "dom0's ring watch did not fire on registration"; return 1; }
}

# ring_watch_kept PATH - a write under PATH fires the watch of
# ring_watch_start: mark dom0-ring-watch-kept; the watch is stopped.
ring_watch_kept() {
	local rc=0
	xenstore-write "$1/ping" 1 || fail "dom0 write $1/ping"
	wait_for 30 grep -q "^$1/ping" /run/ring-watch.out &&
		mark "dom0-ring-watch-kept" ||
		{ fail "dom0's ring watch is gone: $(cat /run/ring-watch.out)"; rc=1; }
	kill "$RING_WATCH_PID" 2>/dev/null
	return $rc
}

# xs_logged ID REASON - our xenstored logged domain ID's shutdown (and so
# fired @releaseDomain for it). Nothing to check with Debian's (--xs xen).
xs_logged() {
	[ "$XS" = splitdrv ] || return 0
	grep -q "d$1: shut down (reason $2)" /var/log/xenstored.log ||
		{ fail "xenstored did not log 'd$1: shut down (reason $2)'"; return 1; }
}

# blkback_start - our blkback in the background (log /var/log/blkback.log),
# its pid in BK; waits for its control socket, marks dom0-blkback-up.
blkback_start() {
	mkdir -p /run/splitdrv
	/usr/local/sbin/blkback --foreground --hv=xen --run-dir /run/splitdrv \
		--log-level info > /var/log/blkback.log 2>&1 &
	BK=$!
	wait_for 20 test -S /run/splitdrv/blkback.ctl ||
		{ fail "blkback did not start"; cat /var/log/blkback.log; return 1; }
	mark dom0-blkback-up
}

# The lifecycle scenarios' guests: an xl disk line for our blkback
# (block-splitdrv hotplug script), the domU's lifecycle mode on its kernel
# command line, and the md5 a guest wrote in sector 0 (disk_fill).
disk() { echo "disk=[\"format=raw,vdev=xvda,access=rw,script=block-splitdrv,target=$1\"]"; }
mode() { echo "extra=\"console=hvc0 loglevel=4 lc=$1\""; }
header_md5() { dd if="$1" bs=512 count=1 2>/dev/null | head -c 41 | cut -c10-41; }

# domu_restarted NAME OLD_ID - NAME is back under a new domid within 60 s
# (xl restarted it); the new domid in DOMID.
domu_restarted() {
	wait_for 60 sh -c "i=\$(timeout 10 xl domid $1) && [ \"\$i\" != $2 ]" ||
		{ fail "$1 not back 60 s after its reboot"; xl list; return 1; }
	DOMID=$(timeout 10 xl domid "$1")
	echo "$1 restarted: domid $2 -> $DOMID t=$(up)"
}
