#!/bin/sh
# blkfront-attach-fails.sh - an attach that fails leaves nothing behind.
# splitctl block-attach of a target that passes its own checks but that
# blkback cannot open (an NBD socket nobody serves): splitctl says what
# failed in words, with the target, exits 1 and removes both directories;
# the guest's blkfront waits for the next attach, and a valid one connects
# at once. The same after a frontend that never connects (the wait ends);
# with --wait 0 the failed device stays until block-detach, which removes
# it at once. A domain that the hypervisor does not know is refused before
# anything is written, even with a xenstore home.
set -u
. "$top_srcdir/tests/integration/blkfront-common.sh"
command -v xenstore-exists >/dev/null || skip "xenstore-utils not installed"

bf_start_stack
bf_mkdisk "$D/disk.img" 8
bf_guest g1 xvda
DOM=$GUEST_DOMID
BE=/local/domain/0/backend/vbd/$DOM/51712
FE=/local/domain/$DOM/device/vbd/51712
BAD="nbd+unix:///x?socket=$D/nobody.sock"

# no_nodes WHAT - nothing of xvda is left in the store (the guest may
# have written its own state key under its directory: not a device)
no_nodes() {
	xenstore-exists "$BE" 2>/dev/null && fail "$1: $BE left behind"
	xenstore-exists "$FE/backend" 2>/dev/null && fail "$1: $FE left behind"
	return 0
}

# wait_more FILE REGEX N WHAT - until more than N lines match REGEX (the
# guest's output keeps earlier rounds' lines), or fail with WHAT
wait_more() {
	_wf=$1
	_wre=$2
	_wn=$3
	wait_until '[ "$(grep -Ec "$_wre" "$_wf" 2>/dev/null)" -gt "$_wn" ]' "$4"
}

# attach_valid WHAT - the valid attach connects at once: well within
# splitctl's --wait (what it would wait for a stale failed device), even on
# a loaded machine
attach_valid() {
	nc=$(grep -c '^disk xvda connected: ' "$GUEST_OUT")
	nd=$(grep -c '^disk xvda detached$' "$GUEST_OUT")
	t0=$(date +%s)
	"$SPLITCTL" --run-dir "$D" --wait 60 block-attach "$DOM" \
		"file:$D/disk.img" xvda >"$D/valid.out" 2>"$D/valid.err" ||
		fail "$1: the valid attach failed: $(cat "$D/valid.err")"
	[ $(($(date +%s) - t0)) -lt 30 ] || fail "$1: the valid attach took >= 30 s"
	grep -q "^attached xvda .*: connected$" "$D/valid.out" ||
		fail "$1: no 'attached ... connected': $(cat "$D/valid.out")"
	wait_more "$GUEST_OUT" '^disk xvda connected: ' "$nc" \
		"$1: the guest did not connect"
	kill -0 "$GUEST_PID" || fail "$1: the guest died"
	"$SPLITCTL" --run-dir "$D" --wait 60 block-detach "$DOM" xvda \
		>>"$D/splitctl.log" 2>&1 || fail "$1: block-detach"
	wait_more "$GUEST_OUT" '^disk xvda detached$' "$nd" \
		"$1: the guest did not detach"
}

# 1. blkback cannot open it: words, exit 1, nothing left
t0=$(date +%s)
"$SPLITCTL" --run-dir "$D" --wait 10 block-attach "$DOM" "$BAD" xvda \
	>"$D/bad.out" 2>"$D/bad.err"
rc=$?
[ $rc -eq 1 ] || fail "a failing attach exited $rc: $(cat "$D/bad.err")"
[ $(($(date +%s) - t0)) -lt 8 ] || fail "the failing attach took its whole wait"
grep -q attached "$D/bad.out" && fail "a failing attach says attached"
grep -qF "splitctl: cannot attach $BAD to domain $DOM as xvda: No such file or directory (the backend reports: cannot open $BAD: No such file or directory)" \
	"$D/bad.err" || fail "not in words: $(cat "$D/bad.err")"
grep -q "removed $BE and $FE" "$D/bad.err" || fail "no word of the clean-up"
no_nodes "a failed attach"
kill -0 "$GUEST_PID" || fail "the guest died of a failed attach"
attach_valid "after a failed attach"
# and a retry of the same failure says the same, not "already has"
"$SPLITCTL" --run-dir "$D" --wait 10 block-attach "$DOM" "$BAD" xvda \
	>/dev/null 2>"$D/bad.err" && fail "the retry succeeded"
grep -q "already has" "$D/bad.err" && fail "the retry found leftovers"
grep -q "No such file or directory" "$D/bad.err" || fail "retry: $(cat "$D/bad.err")"
no_nodes "a failed retry"
attach_valid "after a failed retry"

# 2. --wait 0: the failed device stays (Closed, with its error) until
# block-detach, which removes it at once
"$SPLITCTL" --run-dir "$D" --wait 0 block-attach "$DOM" "$BAD" xvda \
	>"$D/w0.out" 2>&1 || fail "--wait 0 attach: $(cat "$D/w0.out")"
grep -q "attached" "$D/w0.out" && fail "--wait 0 says attached"
wait_until 'xenstore-read "$BE/error" >/dev/null 2>&1' \
	"blkback wrote no error for $BAD"
xenstore-read "$BE/error" | grep -q "^2 cannot open .*: No such file or directory$" ||
	fail "the error node is not in words: $(xenstore-read "$BE/error")"
t0=$(date +%s)
"$SPLITCTL" --run-dir "$D" --wait 60 block-detach "$DOM" xvda >"$D/det.out" 2>&1 ||
	fail "block-detach of a failed device: $(cat "$D/det.out")"
[ $(($(date +%s) - t0)) -lt 30 ] || fail "block-detach of a failed device waited"
no_nodes "block-detach of a failed device"
attach_valid "after block-detach of a failed device"

# 3. blkback takes it but no frontend connects: the wait ends, and what
# was written goes (xvdb: the guest serves xvda only)
"$SPLITCTL" --run-dir "$D" --wait 2 block-attach "$DOM" "file:$D/disk.img" xvdb \
	>"$D/to.out" 2>"$D/to.err" && fail "an attach nobody connects succeeded"
grep -q "frontend did not connect within 2 s" "$D/to.err" ||
	fail "timeout: $(cat "$D/to.err")"
xenstore-exists /local/domain/0/backend/vbd/$DOM/51728 2>/dev/null &&
	fail "the timed-out backend was left behind"
xenstore-exists /local/domain/$DOM/device/vbd/51728 2>/dev/null &&
	fail "the timed-out frontend was left behind"

# 4. a xenstore home is not enough: the hypervisor must know the domain
xenstore-write /local/domain/77/domid 77 || fail "setup: domain 77's home"
"$SPLITCTL" --run-dir "$D" --wait 10 block-attach 77 "file:$D/disk.img" xvda \
	>/dev/null 2>"$D/nodom.err" && fail "attached to a domain that does not exist"
grep -q "cannot attach file:$D/disk.img to domain 77 as xvda: domain 77 does not exist" \
	"$D/nodom.err" || fail "no domain: $(cat "$D/nodom.err")"
xenstore-exists /local/domain/0/backend/vbd/77 2>/dev/null &&
	fail "wrote a backend for a domain that does not exist"
xenstore-exists /local/domain/77/device 2>/dev/null &&
	fail "wrote a frontend for a domain that does not exist"
kill -0 "$BK_PID" || fail "blkback died"
bf_pass "a failed attach leaves nothing behind; the next one connects at once"
