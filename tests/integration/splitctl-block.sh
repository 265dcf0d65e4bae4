#!/bin/sh
# splitctl-block.sh - splitctl block-attach/detach/list write what libxl
# writes, checked with Debian's xenstore-utils against our xenstored.
set -u
. "$top_srcdir/tests/integration/xenstored-common.sh"
command -v xenstore-read >/dev/null || skip "xenstore-utils not installed"
SPLITCTL="$top_builddir/tools/splitctl"

# No hypervisor here (no loophvd in $D): the domain's xenstore home is
# what says it exists.
SPLITCTL="$SPLITCTL --hv loop --run-dir $D"

xsd_start
xenstore-write /local/domain/5/domid 5 || fail "setup"
IMG="$D/disk.img"
for f in "$IMG" "$D/s" "$D/h" "$D/q" "$D/c"; do
	truncate -s 1M "$f" || fail "setup: $f"
done

# xvdb = (202 << 8) | (1 << 4) = 51728
$SPLITCTL --wait 0 block-attach 5 "$IMG" xvdb mode=r >/dev/null ||
	fail "block-attach"
be=/local/domain/0/backend/vbd/5/51728
fe=/local/domain/5/device/vbd/51728
[ "$(xenstore-read $be/params)" = "$IMG" ] || fail "params"
[ "$(xenstore-read $be/mode)" = r ] || fail "mode"
[ "$(xenstore-read $be/frontend)" = $fe ] || fail "frontend path"
[ "$(xenstore-read $be/frontend-id)" = 5 ] || fail "frontend-id"
[ "$(xenstore-read $be/state)" = 1 ] || fail "backend state"
[ "$(xenstore-read $fe/backend)" = $be ] || fail "backend path"
[ "$(xenstore-read $fe/virtual-device)" = 51728 ] || fail "virtual-device"
xenstore-ls -p $fe | grep -q "(n5,r0)" || fail "frontend not owned by the guest"
xenstore-ls -p $be | grep -q "(n0,r5)" || fail "backend not owned by dom0"

$SPLITCTL --wait 0 block-attach 5 "$IMG" xvdb >"$D/twice.out" 2>&1 &&
	fail "attached the same vdev twice"
grep -q "already has xvdb.*block-detach 5 xvdb" "$D/twice.out" ||
	fail "a second attach does not say what to do: $(cat "$D/twice.out")"
$SPLITCTL --wait 0 block-attach 5 "$IMG" xv1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad vdev not refused with exit 2"

# more vdev names: sdb = 2064, hdc = 5632, xvdq (disk 16) = extended
$SPLITCTL --wait 0 block-attach 5 "$D/s" sdb >/dev/null || fail "sdb"
xenstore-exists /local/domain/5/device/vbd/2064 || fail "sdb is not 2064"
$SPLITCTL --wait 0 block-attach 5 "$D/h" hdc >/dev/null || fail "hdc"
xenstore-exists /local/domain/5/device/vbd/5632 || fail "hdc is not 5632"
$SPLITCTL --wait 0 block-attach 5 "$D/q" xvdq >/dev/null || fail "xvdq"
xenstore-exists /local/domain/5/device/vbd/268439552 || fail "xvdq is not extended"

$SPLITCTL block-list 5 | grep -q "^51728 .* r .*$IMG" || fail "block-list"

$SPLITCTL --wait 0 block-detach 5 xvdb >/dev/null || fail "block-detach"
xenstore-exists $be 2>/dev/null && fail "backend left behind"
xenstore-exists $fe 2>/dev/null && fail "frontend left behind"
$SPLITCTL --wait 0 block-detach 5 xvdb >/dev/null 2>&1 && fail "detached twice"
# the guest's directory is gone (it died): detach still finds the backend
$SPLITCTL --wait 0 block-attach 5 "$D/c" xvdc >/dev/null || fail "xvdc"
xenstore-rm /local/domain/5/device/vbd/51744 || fail "rm frontend"
$SPLITCTL --wait 0 block-detach 5 xvdc >/dev/null || fail "detach without frontend"
xenstore-exists /local/domain/0/backend/vbd/5/51744 2>/dev/null &&
	fail "xvdc backend left behind"

# Targets that cannot work are refused before anything is written, in
# words, with the path; the next valid attach then works at once.
# refused EXPECT-REGEX ATTACH-ARGS... (domain 5, vdev xvde = 51776)
refused() {
	want=$1
	shift
	$SPLITCTL --wait 0 block-attach "$@" >"$D/refused.out" 2>"$D/refused.err"
	rc=$?
	[ $rc -eq 1 ] || fail "block-attach $*: exit $rc, not 1"
	grep -q attached "$D/refused.out" && fail "block-attach $*: says attached"
	grep -Eq "^splitctl: cannot attach .* to domain [0-9]+ as xvde: $want" \
		"$D/refused.err" ||
		fail "block-attach $*: no '$want' in: $(cat "$D/refused.err")"
	for n in /local/domain/0/backend/vbd/5/51776 /local/domain/5/device/vbd/51776 \
		 /local/domain/0/backend/vbd/9 /local/domain/9; do
		xenstore-exists $n 2>/dev/null && fail "block-attach $*: left $n"
	done
	$SPLITCTL --wait 0 block-attach 5 "$IMG" xvde >/dev/null ||
		fail "a valid attach after block-attach $* failed"
	$SPLITCTL --wait 0 block-detach 5 xvde >/dev/null ||
		fail "block-detach after block-attach $*"
}
refused "No such file or directory" 5 "$D/nonexistent/disk.img" xvde
grep -q "cannot attach $D/nonexistent/disk.img to domain 5 as xvde: No such file or directory" \
	"$D/refused.err" || fail "the message does not name the path"
refused "No such file or directory" 5 "file:$D/nonexistent.img" xvde
refused "it is a directory" 5 "$D" xvde
mkfifo "$D/fifo" || fail "setup: mkfifo"
refused "not a regular file or a block device" 5 "$D/fifo" xvde
refused "not a target blkback serves: bad port" 5 "nbd://host:99999/x" xvde
refused "not a target blkback serves: nbd\+unix needs \?socket=PATH" 5 \
	"nbd+unix:///x" xvde
refused "not a target blkback serves: path must be absolute" 5 disk.img xvde
refused "domain 9 does not exist" 9 "$IMG" xvde
# unreadable: a file its user may not read (root reads everything: ask
# as nobody; the check comes before xenstore is reached)
LEFT_OUT=
mkdir -m 0755 "$D/pub" && truncate -s 1M "$D/pub/secret.img" &&
	chmod 0600 "$D/pub/secret.img" && chmod 0755 "$D" || fail "setup: pub"
if [ "$(id -u)" -ne 0 ]; then
	chmod 0000 "$D/pub/secret.img"
	refused "Permission denied" 5 "$D/pub/secret.img" xvde
elif command -v setpriv >/dev/null 2>&1; then
	setpriv --reuid=65534 --regid=65534 --clear-groups $SPLITCTL --wait 0 \
		block-attach 5 "$D/pub/secret.img" xvde >/dev/null 2>"$D/refused.err"
	[ $? -eq 1 ] || fail "an unreadable file was not refused"
	grep -q "cannot attach $D/pub/secret.img to domain 5 as xvde: Permission denied" \
		"$D/refused.err" || fail "unreadable: $(cat "$D/refused.err")"
	# mode=w needs write access too
	chmod 0644 "$D/pub/secret.img"
	setpriv --reuid=65534 --regid=65534 --clear-groups $SPLITCTL --wait 0 \
		block-attach 5 "$D/pub/secret.img" xvde >/dev/null 2>"$D/refused.err"
	grep -q "Permission denied (opened read-write; mode=r" "$D/refused.err" ||
		fail "read-only file for mode=w: $(cat "$D/refused.err")"
else
	LEFT_OUT="the unreadable-file step (root without setpriv)"
fi

# release (the domain was never introduced: nothing to XS_RELEASE) removes
# the domain's home and every backend directory of it
$SPLITCTL release 5 >/dev/null || fail "release"
xenstore-exists /local/domain/5 2>/dev/null && fail "home left after release"
xenstore-exists /local/domain/0/backend/vbd/5 2>/dev/null &&
	fail "backend dirs left after release"
[ -z "$LEFT_OUT" ] || skip "left out: $LEFT_OUT; everything else passed"
echo "PASS: splitctl block-attach/detach/list/release"
