#!/bin/sh
# splitctl-block.sh - splitctl block-attach/detach/list write what libxl
# writes, checked with Debian's xenstore-utils against our xenstored.
set -u
. "$top_srcdir/tests/integration/xenstored-common.sh"
command -v xenstore-read >/dev/null || skip "xenstore-utils not installed"
SPLITCTL="$top_builddir/tools/splitctl"

xsd_start
xenstore-write /local/domain/5/domid 5 || fail "setup"

# xvdb = (202 << 8) | (1 << 4) = 51728
"$SPLITCTL" --wait 0 block-attach 5 /srv/disk.img xvdb mode=r >/dev/null ||
	fail "block-attach"
be=/local/domain/0/backend/vbd/5/51728
fe=/local/domain/5/device/vbd/51728
[ "$(xenstore-read $be/params)" = /srv/disk.img ] || fail "params"
[ "$(xenstore-read $be/mode)" = r ] || fail "mode"
[ "$(xenstore-read $be/frontend)" = $fe ] || fail "frontend path"
[ "$(xenstore-read $be/frontend-id)" = 5 ] || fail "frontend-id"
[ "$(xenstore-read $be/state)" = 1 ] || fail "backend state"
[ "$(xenstore-read $fe/backend)" = $be ] || fail "backend path"
[ "$(xenstore-read $fe/virtual-device)" = 51728 ] || fail "virtual-device"
xenstore-ls -p $fe | grep -q "(n5,r0)" || fail "frontend not owned by the guest"
xenstore-ls -p $be | grep -q "(n0,r5)" || fail "backend not owned by dom0"

"$SPLITCTL" --wait 0 block-attach 5 /srv/disk.img xvdb >/dev/null 2>&1 &&
	fail "attached the same vdev twice"
"$SPLITCTL" --wait 0 block-attach 5 /srv/x xv1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "bad vdev not refused with exit 2"
"$SPLITCTL" --wait 0 block-attach 9 /srv/x xvdc >/dev/null 2>&1 &&
	fail "attached to a domain that is not in xenstore"

# more vdev names: sdb = 2064, hdc = 5632, xvdq (disk 16) = extended
"$SPLITCTL" --wait 0 block-attach 5 /srv/s sdb >/dev/null || fail "sdb"
xenstore-exists /local/domain/5/device/vbd/2064 || fail "sdb is not 2064"
"$SPLITCTL" --wait 0 block-attach 5 /srv/h hdc >/dev/null || fail "hdc"
xenstore-exists /local/domain/5/device/vbd/5632 || fail "hdc is not 5632"
"$SPLITCTL" --wait 0 block-attach 5 /srv/q xvdq >/dev/null || fail "xvdq"
xenstore-exists /local/domain/5/device/vbd/268439552 || fail "xvdq is not extended"

"$SPLITCTL" block-list 5 | grep -q "^51728 .* r .*/srv/disk.img" || fail "block-list"

"$SPLITCTL" --wait 0 block-detach 5 xvdb >/dev/null || fail "block-detach"
xenstore-exists $be 2>/dev/null && fail "backend left behind"
xenstore-exists $fe 2>/dev/null && fail "frontend left behind"
"$SPLITCTL" --wait 0 block-detach 5 xvdb >/dev/null 2>&1 && fail "detached twice"
# the guest's directory is gone (it died): detach still finds the backend
"$SPLITCTL" --wait 0 block-attach 5 /srv/c xvdc >/dev/null || fail "xvdc"
xenstore-rm /local/domain/5/device/vbd/51744 || fail "rm frontend"
"$SPLITCTL" --wait 0 block-detach 5 xvdc >/dev/null || fail "detach without frontend"
xenstore-exists /local/domain/0/backend/vbd/5/51744 2>/dev/null &&
	fail "xvdc backend left behind"

# release (the domain was never introduced: nothing to XS_RELEASE) removes
# the domain's home and every backend directory of it
"$SPLITCTL" release 5 >/dev/null || fail "release"
xenstore-exists /local/domain/5 2>/dev/null && fail "home left after release"
xenstore-exists /local/domain/0/backend/vbd/5 2>/dev/null &&
	fail "backend dirs left after release"
echo "PASS: splitctl block-attach/detach/list/release"
