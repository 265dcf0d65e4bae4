/*
 * hv-impl.h - what a provider of lib/hv.h implements (internal).
 *
 * Every public object starts with its common part (struct hv, or
 * struct hv_handle_common for handles), so the dispatcher in hv.c finds the
 * provider's ops without knowing the provider's types. A provider allocates
 * its own larger structs with the common part first.
 */
#ifndef SPLITDRV_HV_IMPL_H
#define SPLITDRV_HV_IMPL_H

#include "hv.h"

struct hv_ops;

struct hv {
	const struct hv_ops *ops;
	enum hv_provider provider;
	domid_t domid;
};

/* The first member of every handle a provider returns. */
struct hv_handle_common {
	struct hv *hv;
};

struct hv_ops {
	void (*close)(struct hv *hv);
	void *(*guest_ram)(struct hv *hv, struct hv_guest_layout *layout);
	int (*param_get)(struct hv *hv, domid_t domid, uint32_t param,
			 uint64_t *val);
	int (*param_set)(struct hv *hv, domid_t domid, uint32_t param,
			 uint64_t val);
	int (*domain_shutdown)(struct hv *hv, unsigned int reason);
	int (*domain_destroy)(struct hv *hv, domid_t domid);

	struct hv_evtchn *(*evtchn_open)(struct hv *hv);
	void (*evtchn_close)(struct hv_evtchn *h);
	int (*evtchn_fd)(struct hv_evtchn *h);
	int (*evtchn_alloc_unbound)(struct hv_evtchn *h, domid_t remote);
	int (*evtchn_bind_interdomain)(struct hv_evtchn *h, domid_t remote,
				       evtchn_port_t rport);
	int (*evtchn_bind_virq)(struct hv_evtchn *h, unsigned int virq);
	int (*evtchn_unbind)(struct hv_evtchn *h, evtchn_port_t port);
	int (*evtchn_notify)(struct hv_evtchn *h, evtchn_port_t port);
	int (*evtchn_pending)(struct hv_evtchn *h);
	int (*evtchn_unmask)(struct hv_evtchn *h, evtchn_port_t port);
	int (*evtchn_state)(struct hv_evtchn *h, evtchn_port_t port);

	struct hv_gnttab *(*gnttab_open)(struct hv *hv);
	void (*gnttab_close)(struct hv_gnttab *h);
	void *(*gnttab_map)(struct hv_gnttab *h, uint32_t count,
			    const domid_t *domids, int same_domain,
			    const grant_ref_t *refs, int flags);
	int (*gnttab_unmap)(struct hv_gnttab *h, void *addr, uint32_t count);
	int (*gnttab_copy)(struct hv_gnttab *h, uint32_t count,
			   struct hv_gnttab_copy_seg *segs);

	struct hv_gntshr *(*gntshr_open)(struct hv *hv);
	void (*gntshr_close)(struct hv_gntshr *h);
	void *(*gntshr_share)(struct hv_gntshr *h, domid_t domid,
			      uint32_t count, grant_ref_t *refs, int writable);
	int (*gntshr_unshare)(struct hv_gntshr *h, void *addr, uint32_t count);
	int (*gntshr_grant_frame)(struct hv_gntshr *h, domid_t domid,
				  uint64_t frame, int writable);
	int (*gntshr_end_access)(struct hv_gntshr *h, grant_ref_t ref);

	struct hv_foreignmem *(*foreignmem_open)(struct hv *hv);
	void (*foreignmem_close)(struct hv_foreignmem *h);
	void *(*foreignmem_map)(struct hv_foreignmem *h, domid_t domid, int prot,
				size_t count, const uint64_t *gfns, int *err);
	int (*foreignmem_unmap)(struct hv_foreignmem *h, void *addr,
				size_t count);
	struct hv_resource *(*foreignmem_map_resource)(
		struct hv_foreignmem *h, domid_t domid, unsigned int type,
		unsigned int id, unsigned long frame, unsigned long nr,
		void **addr, int prot);
	int (*foreignmem_unmap_resource)(struct hv_foreignmem *h,
					 struct hv_resource *res);

	struct hv_devicemodel *(*dm_open)(struct hv *hv);
	void (*dm_close)(struct hv_devicemodel *h);
	int (*dm_create_ioreq_server)(struct hv_devicemodel *h, domid_t domid,
				      int handle_bufioreq);
	int (*dm_get_ioreq_server_info)(struct hv_devicemodel *h, domid_t domid,
					uint16_t id,
					evtchn_port_t *bufioreq_port);
	int (*dm_map_io_range)(struct hv_devicemodel *h, domid_t domid,
			       uint16_t id, enum hv_io_range type,
			       uint64_t start, uint64_t end);
	int (*dm_unmap_io_range)(struct hv_devicemodel *h, domid_t domid,
				 uint16_t id, enum hv_io_range type,
				 uint64_t start, uint64_t end);
	int (*dm_set_ioreq_server_state)(struct hv_devicemodel *h, domid_t domid,
					 uint16_t id, int enabled);
	int (*dm_destroy_ioreq_server)(struct hv_devicemodel *h, domid_t domid,
				       uint16_t id);
	int (*dm_set_isa_irq_level)(struct hv_devicemodel *h, domid_t domid,
				    uint8_t irq, unsigned int level);
	int (*dm_set_pci_intx_level)(struct hv_devicemodel *h, domid_t domid,
				     uint16_t seg, uint8_t bus, uint8_t dev,
				     uint8_t intx, unsigned int level);

	struct hv_domains *(*domains_open)(struct hv *hv, unsigned int flags);
	void (*domains_close)(struct hv_domains *h);
	int (*domains_list)(struct hv_domains *h, struct hv_domain_info *out,
			    unsigned int max);
	int (*domains_info)(struct hv_domains *h, domid_t domid,
			    struct hv_domain_info *out);
	int (*domains_fd)(struct hv_domains *h);
	int (*domains_next_event)(struct hv_domains *h,
				  struct hv_domain_event *ev);
};

/* Provider entry points. */
struct hv *hv_loop_open(const struct hv_open_opts *opts);
struct hv *hv_loop_domain_create(const struct hv_open_opts *opts,
				 const struct hv_domain_create *cfg);
#ifdef HAVE_XEN_PROVIDER
struct hv *hv_xen_open(const struct hv_open_opts *opts);
#endif

#endif /* SPLITDRV_HV_IMPL_H */
