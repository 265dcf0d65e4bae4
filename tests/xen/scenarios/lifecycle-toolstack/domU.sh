# lifecycle-toolstack, domU side: dom0's toolstack ends the guest's life.
# The mode is lc= on the kernel command line (dom0's extra=):
#   keep       first boot: 4 MiB + their md5 on the disk; second boot (after
#              xl reboot; the disk says so): reads them back
#   writeloop  4 MiB + md5 on the disk, synced, then writes to another
#              part of the disk until dom0 destroys the domain
#   verify     reads back what a writeloop guest wrote before its loop
# Each mode then idles (init's loop), save writeloop.
mode=$(sed -n 's/.* lc=\([a-z]*\).*/\1/p' /proc/cmdline)
wait_disk /dev/xvda || exit 1
case $mode in
keep)
	if [ "$(disk_tag /dev/xvda)" = LC-BOOT1 ]; then
		md5=$(disk_verify /dev/xvda) || exit 1
		mark "domU-reboot-data-ok $md5"
		xenstore-write data/verified "$md5" || { fail "write data/verified"; exit 1; }
	else
		md5=$(disk_fill /dev/xvda LC-BOOT1) || exit 1
		mark "domU-boot1-wrote $md5"
	fi
	;;
writeloop)
	md5=$(disk_fill /dev/xvda LC-LOOP1) || exit 1
	mark "domU-synced $md5"
	xenstore-write data/looping 1 || { fail "write data/looping"; exit 1; }
	# 256 KiB at a time at 6..7 MiB, each synced, until destroyed.
	n=0
	while :; do
		dd if=/dev/urandom of=/dev/xvda bs=64k seek=$((96 + n % 16)) count=4 \
			conv=fsync 2>/dev/null || { fail "write loop"; exit 1; }
		n=$((n + 1))
		[ $((n % 20)) != 0 ] || xenstore-write data/loops $n
	done
	;;
verify)
	[ "$(disk_tag /dev/xvda)" = LC-LOOP1 ] ||
		{ fail "sector 0 has tag '$(disk_tag /dev/xvda)', not LC-LOOP1"; exit 1; }
	md5=$(disk_verify /dev/xvda) || exit 1
	mark "domU-verified-after-destroy $md5"
	xenstore-write data/verified "$md5" || { fail "write data/verified"; exit 1; }
	;;
*)
	fail "unknown mode '$mode' (kernel command line: $(cat /proc/cmdline))"
	exit 1
	;;
esac
