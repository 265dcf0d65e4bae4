# blkback-pv: splitdrv's blkback (xen provider: libxengnttab, libxenevtchn)
# serves a PV domU's xen-blkfront; xl creates, block-attaches a second disk
# to the running domU, block-detaches it and destroys the domain.
DISK=/run/disk.img
DISK2=/run/disk2.img
BE=/local/domain/0/backend/vbd
dd if=/dev/zero of=$DISK bs=1M count=80 2>/dev/null
echo HELLO-FROM-DOM0 | dd of=$DISK conv=notrunc 2>/dev/null
dd if=/dev/zero of=$DISK2 bs=1M count=8 2>/dev/null
printf SECOND-DISK! | dd of=$DISK2 conv=notrunc 2>/dev/null
DISK3=/run/disk3.img
dd if=/dev/zero of=$DISK3 bs=1M count=8 2>/dev/null
printf THIRD-DISK!! | dd of=$DISK3 conv=notrunc 2>/dev/null

blkback_start || exit 1

domu_create u1 || { cat /var/log/blkback.log; exit 1; }
id=$DOMID
fe=/local/domain/$id/device/vbd
xs_wait $BE/$id/51712/state 4 60 || { cat /var/log/blkback.log; exit 1; }
xs_expect $fe/51712/state 4 || exit 1
xs_expect $BE/$id/51712/feature-persistent 1 || exit 1
mark dom0-xvda-connected

# The second disk, while the domU runs.
timeout 60 xl block-attach u1 "format=raw,vdev=xvdb,access=rw,script=block-splitdrv,target=$DISK2" \
	> /var/log/xen/xl-block-attach.log 2>&1 ||
	{ sed 's/^/  xl: /' /var/log/xen/xl-block-attach.log; fail "xl block-attach"; exit 1; }
xs_wait $BE/$id/51728/state 4 60 || exit 1
mark dom0-xvdb-attached
xs_wait /local/domain/$id/data/xvdb-done 1 240 || { domu_console u1; exit 1; }
timeout 60 xl block-detach u1 xvdb > /var/log/xen/xl-block-detach.log 2>&1 ||
	{ sed 's/^/  xl: /' /var/log/xen/xl-block-detach.log; fail "xl block-detach"; exit 1; }
xs_absent $BE/$id/51728 || exit 1
mark dom0-xvdb-detached

# A third disk through splitctl instead of xl (no hotplug script involved).
/usr/local/sbin/splitctl --run-dir /run/splitdrv --wait 60 block-attach "$id" \
	"file:$DISK3" xvdc > /run/splitctl-attach.out 2>&1 ||
	{ cat /run/splitctl-attach.out; fail "splitctl block-attach"; exit 1; }
mark dom0-xvdc-attached-by-splitctl
xs_wait /local/domain/$id/data/xvdc-done 1 120 || { domu_console u1; exit 1; }
/usr/local/sbin/splitctl --run-dir /run/splitdrv --wait 30 block-detach "$id" xvdc \
	> /run/splitctl-detach.out 2>&1 ||
	{ cat /run/splitctl-detach.out; fail "splitctl block-detach"; exit 1; }
xs_absent $BE/$id/51744 || exit 1
mark dom0-xvdc-detached-by-splitctl

domu_wait_done u1 "$id" 240 || { cat /var/log/blkback.log; exit 1; }
domu_console u1
/usr/local/sbin/splitctl --run-dir /run/splitdrv stats blkback > /run/bkstats.json 2>&1 ||
	{ fail "blkback stats"; cat /run/bkstats.json; exit 1; }
grep -q '"bytes_written"' /run/bkstats.json || { fail "no per-device stats"; cat /run/bkstats.json; exit 1; }
mark dom0-blkback-stats-ok

s=$(dd if=$DISK bs=512 skip=1 count=1 2>/dev/null | head -c 15)
[ "$s" = HELLO-FROM-DOMU ] || { fail "dom0 reads '$s' in sector 1"; exit 1; }
s=$(dd if=$DISK2 bs=512 skip=2 count=1 2>/dev/null | head -c 14)
[ "$s" = XVDB-FROM-DOMU ] || { fail "dom0 reads '$s' in xvdb sector 2"; exit 1; }
s=$(dd if=$DISK3 bs=512 skip=3 count=1 2>/dev/null | head -c 14)
[ "$s" = XVDC-FROM-DOMU ] || { fail "dom0 reads '$s' in xvdc sector 3"; exit 1; }
mark dom0-disk-ok

domu_destroy u1 || exit 1
domu_gone u1 30 || exit 1
wait_for 20 sh -c "! xenstore-exists $BE/$id" ||
	{ fail "backend nodes left"; xenstore-ls -f $BE; exit 1; }
kill -0 $BK || { fail "blkback died"; cat /var/log/blkback.log; exit 1; }
kill -TERM $BK
wait $BK
echo "blkback log:"
sed 's/^/  blkback: /' /var/log/blkback.log | tail -40
mark dom0-done
