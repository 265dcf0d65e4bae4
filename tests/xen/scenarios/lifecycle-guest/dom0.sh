# lifecycle-guest: guests that end their own life, with splitdrv's
# xenstored and blkback. xl's monitor (the daemon `xl create` leaves) acts
# on the shutdown only once xenstored fires @releaseDomain for it; each end
# must leave, within CLEAN seconds of that event, no domain in `xl list`,
# no /local/domain/<id>, no backend/vbd/<id>, no fd of blkback on the
# image, and both daemons running (domu_ends).
#   u1: writes data, runs `reboot` (on_reboot="restart"): back with a new
#       domid and its disk, reads the data back, runs `poweroff`
#   u2: crashes (sysrq c, on_crash="destroy")
CLEAN=${CLEAN:-10}
BE=/local/domain/0/backend/vbd
IMG1=/run/lc-reboot.img
IMG2=/run/lc-crash.img
dd if=/dev/zero of=$IMG1 bs=1M count=8 2>/dev/null
dd if=/dev/zero of=$IMG2 bs=1M count=8 2>/dev/null
# ready ID WHAT NAME - the guest is about to WHAT (it waits for letgo).
ready() { xs_wait /local/domain/$1/data/going-down "$2" 240 || { domu_console "$3"; return 1; }; }
# letgo ID WHAT - let it.
letgo() {
	xenstore-write /local/domain/$1/data/go 1 || { fail "write data/go of $1"; return 1; }
	mark "dom0-lets-$1-$2"
}

blkback_start || exit 1

# ---- u1: reboot, then poweroff ----
domu_create u1 "$(mode reboot)" "$(disk $IMG1)" || exit 1
id=$DOMID
xs_wait $BE/$id/51712/state 4 60 || exit 1
nfd=$(fds_on $BK $IMG1)
[ "$nfd" -gt 0 ] || { fail "blkback holds no fd on $IMG1 with xvda connected"; exit 1; }
ready $id reboot u1 || exit 1
domu_ends $id $CLEAN -- letgo $id reboot || exit 1
xs_logged $id reboot || exit 1
mark dom0-reboot-old-domain-cleaned
domu_restarted u1 $id || exit 1
id2=$DOMID
xs_wait $BE/$id2/51712/state 4 60 || exit 1
mark dom0-restarted-disk-connected
[ "$(fds_on $BK $IMG1)" = "$nfd" ] ||
	{ fail "blkback holds $(fds_on $BK $IMG1) fds on $IMG1, one device holds $nfd"; exit 1; }
# The md5 of the first boot's data, as it wrote it in sector 0.
want=$(header_md5 $IMG1)
ready $id2 poweroff u1 || exit 1
xs_expect /local/domain/$id2/data/verified "$want" || { domu_console u1; exit 1; }
domu_ends $id2 $CLEAN $IMG1 $BK -- letgo $id2 poweroff || exit 1
xs_logged $id2 poweroff || exit 1
mark dom0-poweroff-cleaned
got=$(dd if=$IMG1 bs=1M skip=1 count=4 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || { fail "$IMG1: md5 $got in dom0, header says $want"; exit 1; }
domu_console u1

# ---- u2: crash ----
domu_create u2 "$(mode crash)" "$(disk $IMG2)" || exit 1
id=$DOMID
xs_wait $BE/$id/51712/state 4 60 || exit 1
ready $id crash u2 || exit 1
domu_ends $id $CLEAN $IMG2 $BK -- letgo $id crash || exit 1
xs_logged $id crash || exit 1
mark dom0-crash-cleaned
# The harness fails any log with a kernel panic in it; this one is wanted.
sed -i 's/Kernel panic/(expected) kernel-panic/' /var/log/xen/guest-u2.log
domu_console u2

kill -0 $BK || { fail "blkback died"; exit 1; }
kill -TERM $BK
wait $BK
sed 's/^/  blkback: /' /var/log/blkback.log | tail -30
mark dom0-done
