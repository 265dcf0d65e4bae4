# hv-xen: the xen provider of lib/hv.h (lib/hv-xen.c) on the real
# hypervisor, in dom0: event channels between two of dom0's own handles,
# gntalloc pages granted to dom0 mapped back through gntdev, grant copy,
# the domain list. No domU (no domU.sh / domU.cfg).
/usr/libexec/splitdrv-tests/hvcheck || fail "hvcheck reported failures"
