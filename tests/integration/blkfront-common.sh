# blkfront-common.sh - sourced by the blkfront-*.sh integration tests: the
# whole stack in one private run directory $D (loophvd, xenstored --hv=loop,
# blkback, loopguests with --disk/--nbd), with splitctl as the toolstack and
# real NBD clients (qemu-io, qemu-img, nbdinfo) on the guests' exports.
#
#   bf_start_stack [BLKBACK-OPTIONS]   loophvd, xenstored, blkback
#   bf_start_blkback LOG [OPTIONS]     another blkback (BK_PID)
#   bf_guest NAME VDEV [LOOPGUEST-OPTIONS]
#                                      a guest: sets GUEST_PID, GUEST_DOMID,
#                                      GUEST_OUT, introduces it
#   bf_attach DOMID TARGET VDEV [mode=r]  splitctl block-attach
#   bf_wait_line FILE REGEX [SECONDS]  until a line of FILE matches
#   NBD_URI (after bf_guest)           nbd+unix:///?socket=...
. "$top_srcdir/tests/integration/xenstored-common.sh"

LOOPHVD="$top_builddir/loophv/loophvd"
BLKBACK="$top_builddir/blkback/blkback"
LOOPGUEST="$top_builddir/tools/loopguest"
SPLITCTL="$top_builddir/tools/splitctl"
LHV_PID=
BK_PID=
GUEST_PIDS=

command -v qemu-io >/dev/null 2>&1 || skip "qemu-io not installed (qemu-utils)"
command -v qemu-img >/dev/null 2>&1 || skip "qemu-img not installed (qemu-utils)"
# Optional clients (./dev installs them): a step that needs a missing one
# does not run, and the script then ends as a skip naming what was left
# out, never as a pass.
BF_LEFT_OUT=
bf_have() { # TOOL PACKAGE
	command -v "$1" >/dev/null 2>&1 && return 0
	BF_LEFT_OUT="$BF_LEFT_OUT $1 ($2)"
	return 1
}
bf_pass() { # MESSAGE
	[ -z "$BF_LEFT_OUT" ] || skip "not installed:$BF_LEFT_OUT; everything else passed"
	echo "PASS: $*"
}

for b in "$LOOPHVD" "$BLKBACK" "$LOOPGUEST" "$SPLITCTL"; do
	[ -x "$b" ] || fail "$b not built"
done

bf_cleanup() {
	# the guests first: they close their disks with blkback's help
	for p in $GUEST_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $GUEST_PIDS $BK_PID; do
		[ "$p" = "$BK_PID" ] && kill -TERM "$p" 2>/dev/null
		# SIGTERM first, then no mercy after 5 s
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$XSD_PID" ]; then
		kill -9 "$XSD_PID" 2>/dev/null
		wait "$XSD_PID" 2>/dev/null
		XSD_PID=
	fi
	if [ -n "$LHV_PID" ]; then
		kill -9 "$LHV_PID" 2>/dev/null
		wait "$LHV_PID" 2>/dev/null
	fi
	xsd_cleanup
}
trap bf_cleanup EXIT

# fail - as xenstored-common's, with every daemon's log
fail() {
	echo "FAIL: $*"
	for f in "$D"/*.log "$D"/log "$D"/*.out; do
		[ -f "$f" ] || continue
		echo "---- $f"
		tail -n 40 "$f"
	done
	exit 1
}

# bf_wait_line FILE REGEX [SECONDS] - 1 after SECONDS, at least
# TEST_DEADLINE (a line that is there already returns at once)
bf_wait_line() {
	_s=${3:-10}
	[ "$_s" -ge "$TEST_DEADLINE" ] || _s=$TEST_DEADLINE
	_end=$(($(date +%s) + _s))
	until grep -Eq "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.05
	done
}

bf_start_stack() {
	launch loophvd "$D/loophvd.log" "$LOOPHVD" --foreground --run-dir "$D"
	LHV_PID=$LAUNCHED_PID
	xsd_start --hv=loop
	bf_start_blkback "$D/blkback.log" "$@"
}

# bf_start_blkback LOG [BLKBACK-OPTIONS] - (another) blkback, as BK_PID
bf_start_blkback() {
	_bklog=$1
	shift
	launch blkback "$_bklog" "$BLKBACK" --foreground --hv=loop \
		--run-dir "$D" "$@"
	BK_PID=$LAUNCHED_PID
}

# bf_guest NAME VDEV [LOOPGUEST-OPTIONS...]
bf_guest() {
	name=$1
	vdev=$2
	shift 2
	GUEST_OUT="$D/$name.out"
	NBD_SOCK="$D/$name.nbd"
	NBD_URI="nbd+unix:///?socket=$NBD_SOCK"
	"$LOOPGUEST" --run-dir "$D" --name "$name" --disk "$vdev" \
		--nbd "$NBD_SOCK" "$@" >"$GUEST_OUT" 2>"$D/$name.log" &
	GUEST_PID=$!
	GUEST_PIDS="$GUEST_PIDS $GUEST_PID"
	bf_wait_line "$GUEST_OUT" '^domid [0-9]+$' 5 || fail "$name: no domid"
	GUEST_DOMID=$(sed -n 's/^domid \([0-9]*\)$/\1/p' "$GUEST_OUT")
	"$SPLITCTL" --run-dir "$D" --hv loop introduce "$GUEST_DOMID" "$name" \
		>>"$D/splitctl.log" 2>&1 || fail "$name: splitctl introduce"
}

# bf_attach DOMID TARGET VDEV [OPTIONS] - without splitctl's wait: it
# waits for InitWait exactly, which a quick frontend makes it miss (the
# tests wait for the guest's "connected" line instead)
bf_attach() {
	"$SPLITCTL" --run-dir "$D" --wait 0 block-attach "$@" \
		>>"$D/splitctl.log" 2>&1 || fail "splitctl block-attach $*"
}

# bf_mkdisk FILE MIB
bf_mkdisk() {
	truncate -s "${2}M" "$1" || fail "cannot create $1"
}

# bf_qemu_io URI ARGS... - qemu-io on the export, output in $D/qemu-io.out
bf_qemu_io() {
	uri=$1
	shift
	qemu-io -f raw "$uri" "$@" >"$D/qemu-io.out" 2>&1
}

# bf_stat DOMID KEY - one number of blkback's stats of the guest's disk
# (KEY: bytes_written, pgrant_hits, requests.indirect, ...)
bf_stat() {
	"$SPLITCTL" --run-dir "$D" stats blkback 2>/dev/null | python3 -c '
import json, sys
domid, key = int(sys.argv[1]), sys.argv[2]
for d in json.load(sys.stdin)["result"]["devices"]:
    if d["frontend-domid"] == domid and "stats" in d:
        v = d["stats"]
        for k in key.split("."):
            v = v[k]
        print(v)
        sys.exit(0)
print(-1)
' "$1" "$2"
}
