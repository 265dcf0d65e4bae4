# xenstore-pv, domU side: the disk through xen-blkfront (read dom0's
# marker in sector 0, write ours in sector 1) and the NIC through
# xen-netfront (ping dom0's end of the vif).
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
[ -b /dev/xvda ] || { fail "no /dev/xvda"; exit 1; }
s=$(dd if=/dev/xvda bs=512 count=1 2>/dev/null | head -c 15)
[ "$s" = HELLO-FROM-DOM0 ] || { fail "sector 0 reads '$s'"; exit 1; }
mark domU-disk-read-ok
echo HELLO-FROM-DOMU | dd of=/dev/xvda bs=512 seek=1 conv=sync,fsync 2>/dev/null ||
	{ fail "write sector 1"; exit 1; }
mark domU-disk-write-ok
ip link set lo up
ip link set eth0 up && ip addr add 192.168.100.2/24 dev eth0 ||
	{ fail "eth0 setup"; exit 1; }
ping -c 3 -W 5 192.168.100.1 || { fail "ping dom0"; exit 1; }
mark domU-ping-ok
