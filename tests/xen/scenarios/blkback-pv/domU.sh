# blkback-pv, domU side: Linux's xen-blkfront against splitdrv's blkback.
# xvda: dom0's marker in sector 0, ours in sector 1, 64 MiB written and
# read back with a checksum. xvdb: hot-plugged by dom0 (xl block-attach),
# used, then hot-unplugged (xl block-detach); xvdc the same through
# splitctl block-attach/block-detach.
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
[ -b /dev/xvda ] || { fail "no /dev/xvda"; exit 1; }
s=$(dd if=/dev/xvda bs=512 count=1 2>/dev/null | head -c 15)
[ "$s" = HELLO-FROM-DOM0 ] || { fail "sector 0 reads '$s'"; exit 1; }
mark domU-disk-read-ok
echo HELLO-FROM-DOMU | dd of=/dev/xvda bs=512 seek=1 conv=sync,fsync 2>/dev/null ||
	{ fail "write sector 1"; exit 1; }
mark domU-disk-write-ok

# 64 MiB of random data at 1 MiB, read back through a cold cache.
dd if=/dev/urandom of=/tmp/data bs=1M count=64 2>/dev/null || { fail "urandom"; exit 1; }
want=$(md5sum < /tmp/data | cut -d' ' -f1)
dd if=/tmp/data of=/dev/xvda bs=1M seek=1 conv=fsync 2>/dev/null ||
	{ fail "64 MiB write"; exit 1; }
rm -f /tmp/data
echo 3 > /proc/sys/vm/drop_caches
got=$(dd if=/dev/xvda bs=1M skip=1 count=64 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || { fail "64 MiB read back: md5 $got, wrote $want"; exit 1; }
mark "domU-64MiB-ok $want"

# The hot-plugged disk.
i=0
while [ ! -b /dev/xvdb ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
[ -b /dev/xvdb ] || { fail "no /dev/xvdb after block-attach"; exit 1; }
s=$(dd if=/dev/xvdb bs=512 count=1 2>/dev/null | head -c 12)
[ "$s" = SECOND-DISK! ] || { fail "xvdb sector 0 reads '$s'"; exit 1; }
echo XVDB-FROM-DOMU | dd of=/dev/xvdb bs=512 seek=2 conv=sync,fsync 2>/dev/null ||
	{ fail "write xvdb"; exit 1; }
mark domU-xvdb-ok
xenstore-write data/xvdb-done 1 || { fail "write data/xvdb-done"; exit 1; }
i=0
while [ -b /dev/xvdb ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
[ ! -b /dev/xvdb ] || { fail "/dev/xvdb still there after block-detach"; exit 1; }
mark domU-xvdb-gone

# The third disk, attached and detached by splitctl.
i=0
while [ ! -b /dev/xvdc ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
[ -b /dev/xvdc ] || { fail "no /dev/xvdc after splitctl block-attach"; exit 1; }
s=$(dd if=/dev/xvdc bs=512 count=1 2>/dev/null | head -c 12)
[ "$s" = THIRD-DISK!! ] || { fail "xvdc sector 0 reads '$s'"; exit 1; }
echo XVDC-FROM-DOMU | dd of=/dev/xvdc bs=512 seek=3 conv=sync,fsync 2>/dev/null ||
	{ fail "write xvdc"; exit 1; }
mark domU-xvdc-ok
xenstore-write data/xvdc-done 1 || { fail "write data/xvdc-done"; exit 1; }
i=0
while [ -b /dev/xvdc ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
[ ! -b /dev/xvdc ] || { fail "/dev/xvdc still there after splitctl block-detach"; exit 1; }
mark domU-xvdc-gone
