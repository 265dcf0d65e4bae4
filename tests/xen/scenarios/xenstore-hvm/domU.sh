# xenstore-hvm, domU side: an HVM guest whose kernel's xenbus took over the
# ring from hvmloader. It must be an HVM guest on the Xen platform device,
# its XS_RESET_WATCHES (sent at boot by HVM Linux) must have succeeded, and
# xen-blkfront must do real I/O on splitdrv's blkback: dom0's marker read
# in sector 0, then 4 MiB and their md5 written (disk_fill) and read back
# through a cold cache (disk_verify); dom0 checks them in the image.
t=$(cat /sys/hypervisor/guest_type 2>/dev/null)
[ "$t" = HVM ] || { fail "guest_type '$t', not HVM"; exit 1; }
mark domU-is-hvm
if dmesg | grep -q 'xs_reset_watches failed'; then
	fail "$(dmesg | grep 'xs_reset_watches failed')"
	exit 1
fi
mark domU-no-reset-watches-failure
wait_disk /dev/xvda || exit 1
[ "$(disk_tag /dev/xvda)" = HELLO-FR ] ||
	{ fail "sector 0 reads '$(disk_tag /dev/xvda)', not dom0's marker"; exit 1; }
mark domU-disk-read-ok
md5=$(disk_fill /dev/xvda "$(printf HVM-d%03d "$DOMID")") || exit 1
disk_verify /dev/xvda > /dev/null || exit 1
mark "domU-disk-roundtrip-ok $md5"
