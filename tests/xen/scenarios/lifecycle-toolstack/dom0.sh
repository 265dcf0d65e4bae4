# lifecycle-toolstack: the toolstack ends guests' lives, with splitdrv's
# xenstored and blkback. Each end must leave, within CLEAN seconds (of the
# shutdown's @releaseDomain; of the start of xl destroy), no domain in `xl
# list`, no /local/domain/<id>, no backend/vbd/<id>, no fd of blkback on
# the image, and both daemons running.
#   u1: `xl reboot` (the guest's control/shutdown watch; on_reboot=
#       "restart"): back with a new domid and its disk, reads back what its
#       first boot wrote; then `xl shutdown` (on_poweroff="destroy")
#   u2: `xl destroy` in the middle of a loop of synced writes
#   u3: on u2's image: boots and reads back what u2 synced before its loop
CLEAN=${CLEAN:-10}
BE=/local/domain/0/backend/vbd
IMG1=/run/lc-keep.img
IMG2=/run/lc-loop.img
dd if=/dev/zero of=$IMG1 bs=1M count=8 2>/dev/null
dd if=/dev/zero of=$IMG2 bs=1M count=8 2>/dev/null
# xl_cmd ARGS... - an xl command that must succeed within 60 s.
xl_cmd() {
	echo "xl $* t=$(up)"
	timeout 60 xl "$@" > /run/xl.out 2>&1 ||
		{ sed 's/^/  xl: /' /run/xl.out; fail "xl $*"; return 1; }
}

blkback_start || exit 1

# ---- u1: xl reboot, then xl shutdown ----
domu_create u1 "$(mode keep)" "$(disk $IMG1)" || exit 1
id=$DOMID
xs_wait $BE/$id/51712/state 4 60 || exit 1
domu_wait_done u1 $id 240 || exit 1
nfd=$(fds_on $BK $IMG1)
[ "$nfd" -gt 0 ] || { fail "blkback holds no fd on $IMG1 with xvda connected"; exit 1; }
domu_ends $id $CLEAN -- xl_cmd reboot u1 || exit 1
xs_logged $id reboot || exit 1
mark dom0-xl-reboot-old-domain-cleaned
domu_restarted u1 $id || exit 1
id2=$DOMID
xs_wait $BE/$id2/51712/state 4 60 || exit 1
mark dom0-xl-reboot-disk-connected
domu_wait_done u1 $id2 240 || exit 1
xs_expect /local/domain/$id2/data/verified "$(header_md5 $IMG1)" || exit 1
[ "$(fds_on $BK $IMG1)" = "$nfd" ] ||
	{ fail "blkback holds $(fds_on $BK $IMG1) fds on $IMG1, one device holds $nfd"; exit 1; }
mark dom0-xl-reboot-data-ok
domu_ends $id2 $CLEAN $IMG1 $BK -- xl_cmd shutdown u1 || exit 1
xs_logged $id2 poweroff || exit 1
mark dom0-xl-shutdown-cleaned
domu_console u1

# ---- u2: xl destroy in the middle of a write loop ----
domu_create u2 "$(mode writeloop)" "$(disk $IMG2)" || exit 1
id=$DOMID
xs_wait $BE/$id/51712/state 4 60 || exit 1
xs_wait /local/domain/$id/data/looping 1 240 || { domu_console u2; exit 1; }
want=$(header_md5 $IMG2)
# 20 synced writes done, more under way.
wait_for 60 xenstore-read /local/domain/$id/data/loops ||
	{ fail "u2's write loop does not progress"; domu_console u2; exit 1; }
mark dom0-u2-in-write-loop
# Timed from the start of xl destroy (which waits for the backends).
domu_destroy u2 &
xd=$!
domu_cleaned $id $CLEAN $IMG2 $BK || exit 1
wait $xd || exit 1
mark dom0-xl-destroy-cleaned
domu_console u2

# ---- u3: a new guest on u2's image ----
domu_create u3 "$(mode verify)" "$(disk $IMG2)" || exit 1
id=$DOMID
xs_wait $BE/$id/51712/state 4 60 || exit 1
domu_wait_done u3 $id 240 || exit 1
xs_expect /local/domain/$id/data/verified "$want" || exit 1
mark dom0-after-destroy-data-ok
domu_destroy u3 &
xd=$!
domu_cleaned $id $CLEAN $IMG2 $BK || exit 1
wait $xd || exit 1
domu_console u3

kill -0 $BK || { fail "blkback died"; exit 1; }
kill -TERM $BK
wait $BK
sed 's/^/  blkback: /' /var/log/blkback.log | tail -30
mark dom0-done
