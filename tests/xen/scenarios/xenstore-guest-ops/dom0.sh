# xenstore-guest-ops: a domU (g1) uses the store through its kernel's
# xenbus: reads its own path, is refused (EACCES) on dom0's nodes and on
# another domU's (g2), and sees a watch fire when dom0 writes. dom0 checks
# that the guest's own write landed and the refused ones did not.
domu_create g2 || exit 1
peer=$DOMID
domu_wait_done g2 "$peer" 120 || exit 1
domu_create g1 || exit 1
id=$DOMID
ok=1
xenstore-write /local/domain/$id/data/peer "$peer" || fail "dom0 write data/peer"
xs_wait /local/domain/$id/data/watch-ready 1 120 || { domu_console g1; exit 1; }
xenstore-write /local/domain/$id/data/ping pong-from-dom0 || fail "dom0 write data/ping"
domu_wait_done g1 "$id" 90 || ok=0
domu_console g2
domu_console g1
xs_expect /local/domain/$id/data/guest-wrote "from-domU-$id" || ok=0
xs_absent /local/domain/0/guest-intrusion || ok=0
xs_absent /local/domain/0/name/guest-intrusion || ok=0
xs_absent /local/domain/$peer/guest-intrusion || ok=0
xs_absent /local/domain/$peer/data/guest-intrusion || ok=0
[ $ok = 1 ] && mark "dom0-guest-ops-ok"
for d in g1 g2; do
	domu_destroy $d || exit 1
	domu_gone $d 30 || exit 1
done
xs_absent /local/domain/$id && xs_absent /local/domain/$peer &&
	mark "dom0-destroy-clean g1 g2"
[ $ok = 1 ]
