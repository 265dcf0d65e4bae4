# lifecycle-guest, domU side: the guest ends its own life. The mode is
# lc= on the kernel command line (dom0's extra=):
#   reboot  first boot: 4 MiB + their md5 on the disk, then `reboot`
#           (on_reboot="restart"); second boot (the disk says so): reads
#           them back, then `poweroff` (on_poweroff="destroy")
#   crash   `echo c > /proc/sysrq-trigger` (on_crash="destroy")
# Before going down it waits for dom0's go-ahead (going_down), so that dom0
# times the teardown from a known moment.
mode=$(sed -n 's/.* lc=\([a-z]*\).*/\1/p' /proc/cmdline)
wait_disk /dev/xvda || exit 1
case $mode in
reboot)
	if [ "$(disk_tag /dev/xvda)" = LC-BOOT1 ]; then
		md5=$(disk_verify /dev/xvda) || exit 1
		mark "domU-reboot-data-ok $md5"
		xenstore-write data/verified "$md5" || { fail "write data/verified"; exit 1; }
		going_down poweroff || exit 1
		poweroff
	else
		md5=$(disk_fill /dev/xvda LC-BOOT1) || exit 1
		mark "domU-boot1-wrote $md5"
		going_down reboot || exit 1
		reboot
	fi
	;;
crash)
	going_down crash || exit 1
	echo c > /proc/sysrq-trigger
	;;
*)
	fail "unknown mode '$mode' (kernel command line: $(cat /proc/cmdline))"
	exit 1
	;;
esac
