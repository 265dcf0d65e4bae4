/* xen_mock.h - state of the fake libxen* used by check_hv_xen. */
#ifndef SPLITDRV_XEN_MOCK_H
#define SPLITDRV_XEN_MOCK_H

#include <stdint.h>
#include <xengnttab.h>
struct mock_dom {
	uint32_t domid, flags, pages, maxvcpu;
};
struct xen_mock_state {
	int xc_opens, getinfo_calls, getinfo_eperm;
	struct mock_dom doms[16];
	int ndoms;
	struct xenevtchn_handle *evt[16];
	int nevt;
	int next_port, notified, unmasked, virq_taken;
	int virq_bound; /* successful xenevtchn_bind_virq() calls */
	char page[4096] __attribute__((aligned(4096)));
	int map_prot;
	uint32_t map_dom1;
	uint32_t copy_n;
	xengnttab_grant_copy_segment_t copy_segs[64];
	int copy_fail;
	unsigned long fm_last;
	int io_mmio;
	int pci_mapped, pci_fail_fn;
	int pci_last[4];
	const char *xs_domid;
};
extern struct xen_mock_state xen_mock;
void xen_mock_fire(int id, uint32_t port);
void xen_mock_reset(void);

#endif /* SPLITDRV_XEN_MOCK_H */
