# xenstore-hvm: an HVM guest with PV drivers, built the stock way (Xen's
# hvmloader, SeaBIOS, qemu-system-xen as device model), on dom0's
# xenstore and splitdrv's blkback. hvmloader uses the guest's xenstore
# ring first and hands it over to the kernel (with our xenstored, which
# offers RECONNECTION, by a reconnection; with C xenstored, by zeroing
# the ring page); the kernel's xenbus must then be served (no quarantine),
# its XS_RESET_WATCHES must succeed, xen-blkfront must do real I/O, and
# the end of the guest must leave nothing behind. h1 ends by `xl shutdown`
# (the guest's control/shutdown watch, ACPI power-off; then libxl destroys
# the domain and its device model). One guest only: an HVM boot takes
# 40-350 s under TCG (run_guest HOW=destroy ends one by `xl destroy`).
CLEAN=${CLEAN:-15}
DISK=/run/disk.img
BE=/local/domain/0/backend/vbd
XSLOG=/var/log/xenstored.log
dd if=/dev/zero of=$DISK bs=1M count=8 2>/dev/null
echo HELLO-FROM-DOM0 | dd of=$DISK conv=notrunc 2>/dev/null

# no_quarantine - xenstored quarantined no ring.
no_quarantine() {
	! grep -q "quarantined" $XSLOG ||
		{ fail "xenstored quarantined a ring: $(grep quarantined $XSLOG | head -3)"; return 1; }
}

# xs_served ID - our xenstored served domain ID's ring through the
# handover and the kernel's xenbus (nothing to check with --xs xen but
# what the guest saw).
xs_served() {
	[ "$XS" = splitdrv ] || return 0
	no_quarantine || return 1
	grep -q "^.*d$1 xenstore: ring reconnected at the guest's request" $XSLOG ||
		{ fail "xenstored did not log hvmloader's reconnection of d$1"; return 1; }
	if grep -q "d$1: RESET_WATCHES: " $XSLOG; then
		fail "xenstored refused d$1's $(grep "d$1: RESET_WATCHES: " $XSLOG | head -1)"
		return 1
	fi
	mark "dom0-xenstore-served d$1"
}

# dm_gone ID - libxl's device model of ID is gone, and its nodes.
dm_gone() {
	xs_absent /local/domain/0/device-model/$1 || return 1
	xs_absent /libxl/$1 || return 1
	if ps -o args | grep -q "^/usr/libexec/[x]en-qemu-system-i386 -xen-domid $1 "; then
		fail "the device model of $1 still runs"
		return 1
	fi
}

# run_guest NAME HOW - boot NAME, check it, end it by HOW (shutdown or
# destroy) and check what is left.
run_guest() {
	local name=$1 how=$2 id fe tag want got
	domu_create "$name" "serial=\"file:/var/log/xen/guest-$name.log\"" || return 1
	id=$DOMID
	fe=/local/domain/$id
	xs_expect /local/domain/0/device-model/$id/state running || return 1
	# What makes an HVM Linux send XS_RESET_WATCHES at boot (libxl's).
	xs_expect $fe/control/platform-feature-xs_reset_watches 1 || return 1
	# A quarantined ring (the kernel's xenbus never served) ends the wait.
	wait_for 240 sh -c "[ \"\$(xenstore-read $BE/$id/51712/state)\" = 4 ] ||
		grep -q quarantined $XSLOG"
	no_quarantine || { domu_console "$name"; return 1; }
	xs_wait $BE/$id/51712/state 4 1 || { domu_console "$name"; return 1; }
	xs_expect $fe/device/vbd/51712/state 4 || return 1
	xs_expect $fe/device/vbd/51712/backend $BE/$id/51712 || return 1
	xs_expect $BE/$id/51712/frontend $fe/device/vbd/51712 || return 1
	mark "dom0-xvda-connected $name"
	domu_wait_done "$name" "$id" 240 || return 1
	domu_console "$name"
	xs_served $id || return 1
	# What the guest wrote (disk_fill): its tag and md5 in sector 0.
	tag=$(printf HVM-d%03d "$id")
	[ "$(head -c 8 $DISK)" = "$tag" ] ||
		{ fail "$DISK: sector 0 starts '$(head -c 8 $DISK)', not $tag"; return 1; }
	want=$(header_md5 $DISK)
	got=$(dd if=$DISK bs=1M skip=1 count=4 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$got" = "$want" ] || { fail "$DISK: md5 $got in dom0, $name wrote $want"; return 1; }
	mark "dom0-disk-ok $name"
	case $how in
	shutdown)
		domu_ends $id $CLEAN $DISK $BK -- xl shutdown "$name" || return 1
		xs_logged $id poweroff || return 1
		;;
	destroy)
		domu_ends $id $CLEAN $DISK $BK -- domu_destroy "$name" || return 1
		;;
	esac
	dm_gone $id || return 1
	domu_console "$name"
	mark "dom0-$how-clean $name"
}

blkback_start || exit 1
run_guest h1 shutdown || exit 1
kill -0 $BK || { fail "blkback died"; exit 1; }
mark dom0-done
