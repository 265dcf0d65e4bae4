/*
 * xen_mock.c - fake libxen* for check_hv_xen: records calls, scripted
 * results (see xen_mock.h for the knobs).
 */
#include "config.h"

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen_mock.h"

struct xen_mock_state xen_mock;
struct xc_interface_core {
	int x;
};
struct xenevtchn_handle {
	int rfd, wfd;
	int id;
};
struct xengntdev_handle {
	int x;
};
struct xenforeignmemory_handle {
	int x;
};
struct xendevicemodel_handle {
	int x;
};
struct xenforeignmemory_resource_handle {
	int x;
};

xc_interface *xc_interface_open(xentoollog_logger *l, xentoollog_logger *d,
				unsigned f)
{
	xen_mock.xc_opens++;
	return calloc(1, sizeof(struct xc_interface_core));
}
int xc_interface_close(xc_interface *x)
{
	free(x);
	return 0;
}
int xc_hvm_param_get(xc_interface *h, uint32_t d, uint32_t p, uint64_t *v)
{
	if (d == 99) {
		errno = ESRCH;
		return -1;
	}
	*v = p * 10;
	return 0;
}
int xc_hvm_param_set(xc_interface *h, uint32_t d, uint32_t p, uint64_t v)
{
	errno = EPERM;
	return -1;
}
int xc_domain_getinfolist(xc_interface *x, uint32_t first, unsigned int max,
			  xc_domaininfo_t *info)
{
	unsigned n = 0;
	int i;
	xen_mock.getinfo_calls++;
	if (xen_mock.getinfo_eperm) {
		errno = EPERM;
		return -1;
	}
	for (i = 0; i < xen_mock.ndoms && n < max; i++) {
		if (xen_mock.doms[i].domid < first)
			continue;
		memset(&info[n], 0, sizeof(info[n]));
		info[n].domain = xen_mock.doms[i].domid;
		info[n].flags = xen_mock.doms[i].flags;
		info[n].tot_pages = xen_mock.doms[i].pages;
		info[n].max_vcpu_id = xen_mock.doms[i].maxvcpu;
		n++;
	}
	return n;
}
xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *l, unsigned f)
{
	int p[2];
	xenevtchn_handle *h;
	if (pipe(p))
		return NULL;
	h = calloc(1, sizeof(*h));
	h->rfd = p[0];
	h->wfd = p[1];
	h->id = xen_mock.nevt++;
	xen_mock.evt[h->id] = h;
	return h;
}
int xenevtchn_close(xenevtchn_handle *h)
{
	close(h->rfd);
	close(h->wfd);
	xen_mock.evt[h->id] = NULL;
	free(h);
	return 0;
}
int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->rfd;
}
int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t p)
{
	xen_mock.notified = p;
	return 0;
}
int xenevtchn_bind_unbound_port(xenevtchn_handle *h, uint32_t d)
{
	return xen_mock.next_port++;
}
int xenevtchn_bind_interdomain(xenevtchn_handle *h, uint32_t d, evtchn_port_t r)
{
	if (d == 99) {
		errno = EINVAL;
		return -1;
	}
	return xen_mock.next_port++;
}
int xenevtchn_bind_virq(xenevtchn_handle *h, unsigned v)
{
	if (xen_mock.virq_taken) {
		errno = EEXIST;
		return -1;
	}
	xen_mock.virq_bound++;
	return xen_mock.next_port++;
}
int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t p)
{
	return 0;
}
int xenevtchn_pending(xenevtchn_handle *h)
{
	uint32_t p;
	ssize_t n = read(h->rfd, &p, 4);
	if (n == 4)
		return p;
	if (n < 0)
		return -1;
	errno = EIO;
	return -1;
}
int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t p)
{
	xen_mock.unmasked = p;
	return 0;
}
void xen_mock_fire(int id, uint32_t port)
{
	if (write(xen_mock.evt[id]->wfd, &port, 4) != 4)
		abort();
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *l, unsigned f)
{
	return calloc(1, 4);
}
int xengnttab_close(xengnttab_handle *x)
{
	free(x);
	return 0;
}
void *xengnttab_map_grant_refs(xengnttab_handle *x, uint32_t c, uint32_t *d,
			       uint32_t *r, int prot)
{
	xen_mock.map_prot = prot;
	xen_mock.map_dom1 = d[1];
	if (r[0] == 666) {
		errno = EINVAL;
		return NULL;
	}
	return xen_mock.page;
}
void *xengnttab_map_domain_grant_refs(xengnttab_handle *x, uint32_t c,
				      uint32_t d, uint32_t *r, int prot)
{
	xen_mock.map_prot = prot;
	xen_mock.map_dom1 = d;
	if (r[0] == 666) {
		errno = EINVAL;
		return NULL;
	}
	return xen_mock.page;
}
int xengnttab_unmap(xengnttab_handle *x, void *a, uint32_t c)
{
	return 0;
}
int xengnttab_grant_copy(xengnttab_handle *x, uint32_t n,
			 xengnttab_grant_copy_segment_t *s)
{
	uint32_t i;
	xen_mock.copy_n = n;
	for (i = 0; i < n; i++) {
		xen_mock.copy_segs[i] = s[i];
		s[i].status = s[i].source.foreign.ref == 7 ? GNTST_bad_gntref
							   : GNTST_okay;
	}
	if (xen_mock.copy_fail) {
		errno = EFAULT;
		return -1;
	}
	return 0;
}
xengntshr_handle *xengntshr_open(struct xentoollog_logger *l, unsigned f)
{
	return calloc(1, 4);
}
int xengntshr_close(xengntshr_handle *x)
{
	free(x);
	return 0;
}
void *xengntshr_share_pages(xengntshr_handle *x, uint32_t d, int c, uint32_t *r,
			    int w)
{
	int i;
	for (i = 0; i < c; i++)
		r[i] = 100 + i;
	return xen_mock.page;
}
int xengntshr_unshare(xengntshr_handle *x, void *a, uint32_t c)
{
	return 0;
}
xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *l,
					       unsigned f)
{
	return calloc(1, 4);
}
int xenforeignmemory_close(xenforeignmemory_handle *x)
{
	free(x);
	return 0;
}
void *xenforeignmemory_map(xenforeignmemory_handle *f, uint32_t d, int prot,
			   size_t n, const xen_pfn_t a[], int e[])
{
	xen_mock.fm_last = a[n - 1];
	return xen_mock.page;
}
int xenforeignmemory_unmap(xenforeignmemory_handle *f, void *a, size_t n)
{
	return 0;
}
xenforeignmemory_resource_handle *
xenforeignmemory_map_resource(xenforeignmemory_handle *f, domid_t d, unsigned t,
			      unsigned id, unsigned long fr, unsigned long nr,
			      void **pa, int prot, int fl)
{
	if (*pa != NULL)
		abort();
	*pa = xen_mock.page;
	return calloc(1, 4);
}
int xenforeignmemory_unmap_resource(xenforeignmemory_handle *f,
				    xenforeignmemory_resource_handle *r)
{
	free(r);
	return 0;
}
xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *l,
					   unsigned f)
{
	return calloc(1, 4);
}
int xendevicemodel_close(xendevicemodel_handle *x)
{
	free(x);
	return 0;
}
int xendevicemodel_create_ioreq_server(xendevicemodel_handle *x, domid_t d,
				       int b, ioservid_t *id)
{
	*id = 3;
	return 0;
}
int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *x, domid_t d,
					 ioservid_t id, xen_pfn_t *a,
					 xen_pfn_t *b, evtchn_port_t *p)
{
	if (a || b)
		abort();
	*p = 42;
	return 0;
}
int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *x,
						domid_t d, ioservid_t id,
						int mmio, uint64_t s, uint64_t e)
{
	xen_mock.io_mmio = mmio;
	return 0;
}
int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *x,
						    domid_t d, ioservid_t id,
						    int mmio, uint64_t s,
						    uint64_t e)
{
	return 0;
}
int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *x,
					      domid_t d, ioservid_t id,
					      uint16_t s, uint8_t b, uint8_t dv,
					      uint8_t f)
{
	if (f == xen_mock.pci_fail_fn) {
		errno = EBUSY;
		return -1;
	}
	xen_mock.pci_mapped++;
	xen_mock.pci_last[0] = s;
	xen_mock.pci_last[1] = b;
	xen_mock.pci_last[2] = dv;
	xen_mock.pci_last[3] = f;
	return 0;
}
int xendevicemodel_unmap_pcidev_from_ioreq_server(xendevicemodel_handle *x,
						  domid_t d, ioservid_t id,
						  uint16_t s, uint8_t b,
						  uint8_t dv, uint8_t f)
{
	xen_mock.pci_mapped--;
	return 0;
}
int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *x, domid_t d,
					ioservid_t id)
{
	return 0;
}
int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *x, domid_t d,
					  ioservid_t id, int en)
{
	return 0;
}
int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *x, domid_t d,
				     uint8_t irq, unsigned l)
{
	return 0;
}
int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *x, domid_t d,
				      uint16_t s, uint8_t b, uint8_t dv,
				      uint8_t i, unsigned l)
{
	return 0;
}
struct xs_handle *xs_open(unsigned long f)
{
	if (!xen_mock.xs_domid) {
		errno = ENOENT;
		return NULL;
	}
	return (struct xs_handle *)calloc(1, 4);
}
void xs_close(struct xs_handle *h)
{
	free(h);
}
void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *p,
	      unsigned int *len)
{
	if (strcmp(p, "domid"))
		return NULL;
	return strdup(xen_mock.xs_domid);
}
struct hv;
struct hv *hv_loop_open(const void *o)
{
	errno = ENOENT;
	return NULL;
}
struct hv *hv_loop_domain_create(const void *o, const void *c)
{
	errno = ENOENT;
	return NULL;
}

void xen_mock_reset(void)
{
	memset(&xen_mock, 0, sizeof(xen_mock));
	xen_mock.doms[0] = (struct mock_dom){ 0, XEN_DOMINF_running, 1000, 3 };
	xen_mock.ndoms = 1;
	xen_mock.next_port = 5;
	xen_mock.pci_fail_fn = 99;
}
