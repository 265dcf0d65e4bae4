/*
 * hv.c - provider selection and dispatch of lib/hv.h.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hv-impl.h"

#define HANDLE_HV(h) (((struct hv_handle_common *)(h))->hv)
#define OPS(h)       (HANDLE_HV(h)->ops)

const char *hv_provider_name(enum hv_provider p)
{
	switch (p) {
	case HV_PROVIDER_LOOP:
		return "loop";
	case HV_PROVIDER_XEN:
		return "xen";
	default:
		return "auto";
	}
}

int hv_parse_provider(const char *s, enum hv_provider *out)
{
	if (!strcmp(s, "loop"))
		*out = HV_PROVIDER_LOOP;
	else if (!strcmp(s, "xen"))
		*out = HV_PROVIDER_XEN;
	else if (!strcmp(s, "auto"))
		*out = HV_PROVIDER_AUTO;
	else
		return -EINVAL;
	return 0;
}

static enum hv_provider resolve(const struct hv_open_opts *opts)
{
	enum hv_provider p = opts ? opts->provider : HV_PROVIDER_AUTO;

	if (p == HV_PROVIDER_AUTO)
		p = access("/dev/xen/evtchn", F_OK) == 0 ? HV_PROVIDER_XEN
							 : HV_PROVIDER_LOOP;
	return p;
}

struct hv *hv_open(const struct hv_open_opts *opts)
{
	switch (resolve(opts)) {
	case HV_PROVIDER_LOOP:
		return hv_loop_open(opts);
	case HV_PROVIDER_XEN:
#ifdef HAVE_XEN_PROVIDER
		return hv_xen_open(opts);
#else
		errno = ENODEV; /* built --with-xen=no */
		return NULL;
#endif
	default:
		errno = EINVAL;
		return NULL;
	}
}

struct hv *hv_domain_create(const struct hv_open_opts *opts,
			    const struct hv_domain_create *cfg)
{
	if (resolve(opts) != HV_PROVIDER_LOOP) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	return hv_loop_domain_create(opts, cfg);
}

void hv_close(struct hv *hv)
{
	if (hv)
		hv->ops->close(hv);
}

int hv_domain_shutdown(struct hv *hv, unsigned int reason)
{
	if (!hv->ops->domain_shutdown)
		return -EOPNOTSUPP;
	return hv->ops->domain_shutdown(hv, reason);
}

int hv_domain_destroy(struct hv *hv, domid_t domid)
{
	if (!hv->ops->domain_destroy)
		return -EOPNOTSUPP;
	return hv->ops->domain_destroy(hv, domid);
}

enum hv_provider hv_provider(const struct hv *hv)
{
	return hv->provider;
}
domid_t hv_domid(const struct hv *hv)
{
	return hv->domid;
}

void *hv_guest_ram(struct hv *hv, struct hv_guest_layout *layout)
{
	if (!hv->ops->guest_ram) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	return hv->ops->guest_ram(hv, layout);
}

int hv_param_get(struct hv *hv, domid_t domid, uint32_t param, uint64_t *val)
{
	return hv->ops->param_get(hv, domid, param, val);
}

int hv_param_set(struct hv *hv, domid_t domid, uint32_t param, uint64_t val)
{
	return hv->ops->param_set(hv, domid, param, val);
}

/* Handle constructors: the provider's open, or ENOTSUP when it lacks one. */
#define OPEN_VIA(hv, fn)                                                       \
	do {                                                                   \
		if (!(hv)->ops->fn) {                                          \
			errno = EOPNOTSUPP;                                    \
			return NULL;                                           \
		}                                                              \
		return (hv)->ops->fn(hv);                                      \
	} while (0)

struct hv_evtchn *hv_evtchn_open(struct hv *hv)
{
	OPEN_VIA(hv, evtchn_open);
}
struct hv_gnttab *hv_gnttab_open(struct hv *hv)
{
	OPEN_VIA(hv, gnttab_open);
}
struct hv_gntshr *hv_gntshr_open(struct hv *hv)
{
	OPEN_VIA(hv, gntshr_open);
}
struct hv_foreignmem *hv_foreignmem_open(struct hv *hv)
{
	OPEN_VIA(hv, foreignmem_open);
}
struct hv_devicemodel *hv_devicemodel_open(struct hv *hv)
{
	OPEN_VIA(hv, dm_open);
}
struct hv_domains *hv_domains_open_flags(struct hv *hv, unsigned int flags)
{
	if (!hv->ops->domains_open) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (flags & ~HV_DOMAINS_EXC_VIRQ) {
		errno = EINVAL;
		return NULL;
	}
	return hv->ops->domains_open(hv, flags);
}
struct hv_domains *hv_domains_open(struct hv *hv)
{
	return hv_domains_open_flags(hv, 0);
}

/* ---- event channels ---- */
void hv_evtchn_close(struct hv_evtchn *h)
{
	if (h)
		OPS(h)->evtchn_close(h);
}
int hv_evtchn_fd(struct hv_evtchn *h)
{
	return OPS(h)->evtchn_fd(h);
}
int hv_evtchn_alloc_unbound(struct hv_evtchn *h, domid_t remote)
{
	return OPS(h)->evtchn_alloc_unbound(h, remote);
}
int hv_evtchn_bind_interdomain(struct hv_evtchn *h, domid_t remote,
			       evtchn_port_t rport)
{
	return OPS(h)->evtchn_bind_interdomain(h, remote, rport);
}
int hv_evtchn_bind_virq(struct hv_evtchn *h, unsigned int virq)
{
	if (!OPS(h)->evtchn_bind_virq)
		return -EOPNOTSUPP;
	return OPS(h)->evtchn_bind_virq(h, virq);
}
int hv_evtchn_unbind(struct hv_evtchn *h, evtchn_port_t port)
{
	return OPS(h)->evtchn_unbind(h, port);
}
int hv_evtchn_notify(struct hv_evtchn *h, evtchn_port_t port)
{
	return OPS(h)->evtchn_notify(h, port);
}
int hv_evtchn_pending(struct hv_evtchn *h)
{
	return OPS(h)->evtchn_pending(h);
}
int hv_evtchn_unmask(struct hv_evtchn *h, evtchn_port_t port)
{
	return OPS(h)->evtchn_unmask(h, port);
}
int hv_evtchn_state(struct hv_evtchn *h, evtchn_port_t port)
{
	return OPS(h)->evtchn_state(h, port);
}

/* ---- grant mapping ---- */
void hv_gnttab_close(struct hv_gnttab *h)
{
	if (h)
		OPS(h)->gnttab_close(h);
}
void *hv_gnttab_map(struct hv_gnttab *h, uint32_t count, const domid_t *domids,
		    int same_domain, const grant_ref_t *refs, int flags)
{
	if (count == 0) {
		errno = EINVAL;
		return NULL;
	}
	return OPS(h)->gnttab_map(h, count, domids, same_domain, refs, flags);
}
void *hv_gnttab_map_one(struct hv_gnttab *h, domid_t domid, grant_ref_t ref,
			int flags)
{
	return hv_gnttab_map(h, 1, &domid, 1, &ref, flags);
}
int hv_gnttab_unmap(struct hv_gnttab *h, void *addr, uint32_t count)
{
	return OPS(h)->gnttab_unmap(h, addr, count);
}
int hv_gnttab_copy(struct hv_gnttab *h, uint32_t count,
		   struct hv_gnttab_copy_seg *segs)
{
	return OPS(h)->gnttab_copy(h, count, segs);
}

/* ---- grant sharing ---- */
void hv_gntshr_close(struct hv_gntshr *h)
{
	if (h)
		OPS(h)->gntshr_close(h);
}
void *hv_gntshr_share(struct hv_gntshr *h, domid_t domid, uint32_t count,
		      grant_ref_t *refs, int writable)
{
	if (count == 0) {
		errno = EINVAL;
		return NULL;
	}
	return OPS(h)->gntshr_share(h, domid, count, refs, writable);
}
int hv_gntshr_unshare(struct hv_gntshr *h, void *addr, uint32_t count)
{
	return OPS(h)->gntshr_unshare(h, addr, count);
}
int hv_gntshr_grant_frame(struct hv_gntshr *h, domid_t domid, uint64_t frame,
			  int writable)
{
	if (!OPS(h)->gntshr_grant_frame)
		return -EOPNOTSUPP;
	return OPS(h)->gntshr_grant_frame(h, domid, frame, writable);
}
int hv_gntshr_end_access(struct hv_gntshr *h, grant_ref_t ref)
{
	if (!OPS(h)->gntshr_end_access)
		return -EOPNOTSUPP;
	return OPS(h)->gntshr_end_access(h, ref);
}

/* ---- foreign memory ---- */
void hv_foreignmem_close(struct hv_foreignmem *h)
{
	if (h)
		OPS(h)->foreignmem_close(h);
}
void *hv_foreignmem_map(struct hv_foreignmem *h, domid_t domid, int prot,
			size_t count, const uint64_t *gfns, int *err)
{
	if (count == 0) {
		errno = EINVAL;
		return NULL;
	}
	return OPS(h)->foreignmem_map(h, domid, prot, count, gfns, err);
}
int hv_foreignmem_unmap(struct hv_foreignmem *h, void *addr, size_t count)
{
	return OPS(h)->foreignmem_unmap(h, addr, count);
}
struct hv_resource *hv_foreignmem_map_resource(struct hv_foreignmem *h,
					       domid_t domid, unsigned int type,
					       unsigned int id,
					       unsigned long frame,
					       unsigned long nr, void **addr,
					       int prot)
{
	return OPS(h)->foreignmem_map_resource(h, domid, type, id, frame, nr,
					       addr, prot);
}
int hv_foreignmem_unmap_resource(struct hv_foreignmem *h,
				 struct hv_resource *res)
{
	return OPS(h)->foreignmem_unmap_resource(h, res);
}

/* ---- device model ---- */
void hv_devicemodel_close(struct hv_devicemodel *h)
{
	if (h)
		OPS(h)->dm_close(h);
}
int hv_dm_create_ioreq_server(struct hv_devicemodel *h, domid_t domid,
			      int handle_bufioreq)
{
	return OPS(h)->dm_create_ioreq_server(h, domid, handle_bufioreq);
}
int hv_dm_get_ioreq_server_info(struct hv_devicemodel *h, domid_t domid,
				uint16_t id, evtchn_port_t *bufioreq_port)
{
	return OPS(h)->dm_get_ioreq_server_info(h, domid, id, bufioreq_port);
}
int hv_dm_map_io_range(struct hv_devicemodel *h, domid_t domid, uint16_t id,
		       enum hv_io_range type, uint64_t start, uint64_t end)
{
	if (end < start)
		return -EINVAL;
	return OPS(h)->dm_map_io_range(h, domid, id, type, start, end);
}
int hv_dm_unmap_io_range(struct hv_devicemodel *h, domid_t domid, uint16_t id,
			 enum hv_io_range type, uint64_t start, uint64_t end)
{
	if (end < start)
		return -EINVAL;
	return OPS(h)->dm_unmap_io_range(h, domid, id, type, start, end);
}
int hv_dm_set_ioreq_server_state(struct hv_devicemodel *h, domid_t domid,
				 uint16_t id, int enabled)
{
	return OPS(h)->dm_set_ioreq_server_state(h, domid, id, enabled);
}
int hv_dm_destroy_ioreq_server(struct hv_devicemodel *h, domid_t domid,
			       uint16_t id)
{
	return OPS(h)->dm_destroy_ioreq_server(h, domid, id);
}
int hv_dm_set_isa_irq_level(struct hv_devicemodel *h, domid_t domid,
			    uint8_t irq, unsigned int level)
{
	return OPS(h)->dm_set_isa_irq_level(h, domid, irq, level);
}
int hv_dm_set_pci_intx_level(struct hv_devicemodel *h, domid_t domid,
			     uint16_t seg, uint8_t bus, uint8_t dev,
			     uint8_t intx, unsigned int level)
{
	return OPS(h)->dm_set_pci_intx_level(h, domid, seg, bus, dev, intx,
					     level);
}

/* ---- domains ---- */
void hv_domains_close(struct hv_domains *h)
{
	if (h)
		OPS(h)->domains_close(h);
}
int hv_domains_list(struct hv_domains *h, struct hv_domain_info *out,
		    unsigned int max)
{
	return OPS(h)->domains_list(h, out, max);
}
int hv_domains_info(struct hv_domains *h, domid_t domid,
		    struct hv_domain_info *out)
{
	return OPS(h)->domains_info(h, domid, out);
}
int hv_domains_fd(struct hv_domains *h)
{
	return OPS(h)->domains_fd(h);
}
int hv_domains_next_event(struct hv_domains *h, struct hv_domain_event *ev)
{
	return OPS(h)->domains_next_event(h, ev);
}
int hv_domains_next_dead(struct hv_domains *h)
{
	struct hv_domain_event ev;
	int rc;

	while ((rc = OPS(h)->domains_next_event(h, &ev)) == 0)
		if (ev.kind == HV_DOMAIN_DEAD)
			return ev.domid;
	return rc;
}
