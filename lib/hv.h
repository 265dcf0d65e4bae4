/*
 * hv.h - the thin hypervisor interface of splitdrv.
 *
 * Every daemon talks to "the hypervisor" only through this header. Two
 * providers implement it, chosen at runtime by hv_open():
 *
 *   loop  the loopback hypervisor (loophvd) on plain Linux: guests are
 *         processes with memfd RAM, grants live in that RAM, event channels
 *         are shared bitmaps plus eventfds (lib/hv-loop.c).
 *   xen   a real dom0 or domU: forwards to Debian's libxenevtchn,
 *         libxengnttab (gnttab + gntshr), libxenforeignmemory,
 *         libxendevicemodel and libxenctrl (lib/hv-xen.c).
 *
 * The shape follows Xen's stable tool libraries so that the xen provider is a
 * thin forwarder. Conventions:
 *   - int functions return 0 (or a non-negative value where stated) on
 *     success and -errno on failure;
 *   - pointer functions return NULL and set errno;
 *   - nothing here logs: callers decide what a failure means;
 *   - handles are not thread-safe unless stated; open one per thread.
 *
 * Ownership: a struct hv is an identity (a domain). Handles opened from it
 * (evtchn, gnttab, gntshr, foreignmem, devicemodel, domains) must be closed
 * before hv_close(). Mappings returned by a handle are owned by that handle
 * and released by the matching unmap or by closing the handle.
 */
#ifndef SPLITDRV_HV_H
#define SPLITDRV_HV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>

#ifndef XC_PAGE_SHIFT
#define HV_PAGE_SHIFT 12
#else
#define HV_PAGE_SHIFT XC_PAGE_SHIFT
#endif
#define HV_PAGE_SIZE (1UL << HV_PAGE_SHIFT)

/* Ports per domain on the loopback hypervisor (Xen's 2-level ABI: 4096). */
#define HV_EVTCHN_MAX_PORTS 4096

enum hv_provider {
	HV_PROVIDER_AUTO = 0, /* xen when /dev/xen/evtchn exists, else loop */
	HV_PROVIDER_LOOP,
	HV_PROVIDER_XEN,
};

struct hv_open_opts {
	enum hv_provider provider;
	/* loop: loophvd's run directory; NULL = $SPLITDRV_RUN_DIR or
	 * /run/splitdrv. Its socket is <run_dir>/loophvd.sock. */
	const char *run_dir;
};

struct hv;

/*
 * hv_open - connect to the hypervisor as the calling process's own domain:
 * dom0 on real Xen or, on the loopback hypervisor, domain 0 when loophvd
 * accepts us as privileged (SO_PEERCRED uid). opts may be NULL.
 * Returns NULL with errno set (ECONNREFUSED/ENOENT: loophvd not running,
 * EACCES: not privileged, ENODEV: no provider available).
 */
struct hv *hv_open(const struct hv_open_opts *opts);

struct hv_domain_create {
	uint64_t mem_bytes;    /* RAM size; rounded up to pages; >= 1 MiB */
	uint32_t grant_frames; /* grant table frames (v1); 0 = 4 */
	uint32_t max_vcpus;    /* 0 = 1 */
	const char *name;      /* informational, may be NULL */
};

/*
 * hv_domain_create - loop provider only: create a new loopback guest
 * domain owned by the caller's connection. The domain lives until the
 * returned hv is closed or the process exits; then it becomes dying.
 * The guest's RAM is mapped into the caller (hv_guest_ram()).
 * Returns NULL with errno (EOPNOTSUPP on the xen provider).
 */
struct hv *hv_domain_create(const struct hv_open_opts *opts,
			    const struct hv_domain_create *cfg);

/* hv_close - close the identity (for a loop guest: the domain dies). */
void hv_close(struct hv *hv);

/*
 * hv_domain_shutdown - a guest stops its own domain, as SCHEDOP_shutdown:
 * reason is a SHUTDOWN_* of <xen/sched.h> (poweroff, reboot, suspend,
 * crash, watchdog, soft_reset). The domain is then shut down (listed so,
 * with its reason) and dom0 gets HV_DOMAIN_SHUTDOWN; only the first call
 * counts. The domain still exists until the toolstack destroys it (or,
 * on loop, the guest's connection closes). 0, -EINVAL (reason), -EPIPE;
 * -EOPNOTSUPP on the xen provider (a Xen guest's kernel does this).
 */
int hv_domain_shutdown(struct hv *hv, unsigned int reason);

/*
 * hv_domain_destroy - dom0 ends a domain, as `xl destroy`: it becomes
 * dying at once (loop: the guest process sees its connection close) and
 * dom0 gets HV_DOMAIN_DEAD. 0, -ESRCH (no such live domain), -EACCES (not
 * dom0); -EOPNOTSUPP on the xen provider (libxl does this).
 */
int hv_domain_destroy(struct hv *hv, domid_t domid);

enum hv_provider hv_provider(const struct hv *hv);
const char *hv_provider_name(enum hv_provider p);
/* hv_parse_provider - "loop", "xen" or "auto"; -EINVAL otherwise. */
int hv_parse_provider(const char *s, enum hv_provider *out);
/* hv_domid - the domain we are (0 for dom0). */
domid_t hv_domid(const struct hv *hv);

/*
 * Loop guests only: direct access to the domain's own RAM, as a guest kernel
 * has. Frames are HV_PAGE_SIZE; the grant table occupies
 * [gnttab_first, gnttab_first + gnttab_frames). Returns NULL/-EOPNOTSUPP
 * elsewhere.
 */
struct hv_guest_layout {
	uint64_t nr_frames;
	uint64_t gnttab_first;
	uint32_t gnttab_frames;
	uint32_t max_vcpus;
};
void *hv_guest_ram(struct hv *hv, struct hv_guest_layout *layout);

/*
 * HVM parameters (HVM_PARAM_* of <xen/hvm/params.h>): a guest sets its
 * own (e.g. STORE_PFN, STORE_EVTCHN), dom0 reads or sets any domain's.
 */
int hv_param_get(struct hv *hv, domid_t domid, uint32_t param, uint64_t *val);
int hv_param_set(struct hv *hv, domid_t domid, uint32_t param, uint64_t val);

/* ------------------------------------------------------------------ */
/* Event channels                                                      */
/* ------------------------------------------------------------------ */

struct hv_evtchn;

struct hv_evtchn *hv_evtchn_open(struct hv *hv);
void hv_evtchn_close(struct hv_evtchn *h);
/* hv_evtchn_fd - readable when hv_evtchn_pending() may return a port. */
int hv_evtchn_fd(struct hv_evtchn *h);
/* hv_evtchn_alloc_unbound - a new local port that remote_domid may bind.
 * Returns the port (>= 0) or -errno. */
int hv_evtchn_alloc_unbound(struct hv_evtchn *h, domid_t remote_domid);
/* hv_evtchn_bind_interdomain - bind to remote_port of remote_domid, which
 * must be unbound and offered to us. Returns the local port or -errno. */
int hv_evtchn_bind_interdomain(struct hv_evtchn *h, domid_t remote_domid,
			       evtchn_port_t remote_port);
/* hv_evtchn_bind_virq - xen only (VIRQ_DOM_EXC etc); -EOPNOTSUPP on loop. */
int hv_evtchn_bind_virq(struct hv_evtchn *h, unsigned int virq);
/* hv_evtchn_unbind - close a local port; the peer's port is told. */
int hv_evtchn_unbind(struct hv_evtchn *h, evtchn_port_t port);
/* hv_evtchn_notify - signal the peer of a local port. On loop: an atomic
 * set of the peer's pending bit plus one eventfd write (none when already
 * pending or masked). -ENOTCONN when the peer has closed, -EINVAL for a port
 * that is not bound here. */
int hv_evtchn_notify(struct hv_evtchn *h, evtchn_port_t port);
/* hv_evtchn_pending - next pending port (it is masked as it is returned,
 * as Linux's evtchn driver does); -EAGAIN when none. */
int hv_evtchn_pending(struct hv_evtchn *h);
/* hv_evtchn_unmask - unmask; if the port became pending meanwhile it is
 * delivered again. */
int hv_evtchn_unmask(struct hv_evtchn *h, evtchn_port_t port);

enum hv_evtchn_state {
	HV_EVTCHN_FREE = 0,
	HV_EVTCHN_UNBOUND,     /* allocated, waiting for the peer */
	HV_EVTCHN_INTERDOMAIN, /* bound to a peer */
	HV_EVTCHN_PEER_CLOSED, /* the peer closed its end or died */
	HV_EVTCHN_VIRQ,
};
/* hv_evtchn_state - the local port's state, or -EINVAL out of range. */
int hv_evtchn_state(struct hv_evtchn *h, evtchn_port_t port);

/* ------------------------------------------------------------------ */
/* Grant tables: the mapping (backend) side                            */
/* ------------------------------------------------------------------ */

struct hv_gnttab;

struct hv_gnttab *hv_gnttab_open(struct hv *hv);
void hv_gnttab_close(struct hv_gnttab *h);

#define HV_GNTMAP_RO         0x1 /* map read-only (PROT_READ) */
/* A long-lived mapping (persistent grants): on loop the page is handed out
 * from a mapping of the whole guest RAM kept by the handle, so map and unmap
 * cost no system call (the grant entry is still validated and pinned). On
 * xen it is an ordinary mapping. Read-only is then not enforced by the MMU
 * on loop: the caller promises not to write. */
#define HV_GNTMAP_PERSISTENT 0x2

/*
 * hv_gnttab_map - map count grant refs into one contiguous area, page i
 * from (domids[i] or domids[0] when same_domain) ref refs[i]. Xen's checks
 * apply per entry: GTF_permit_access, the entry's domid is ours, writable
 * mapping of a GTF_readonly grant is refused; GTF_reading/GTF_writing are
 * held while mapped. All or nothing: on failure nothing stays mapped.
 * Returns the address or NULL with errno (EINVAL bad ref/entry, EACCES
 * wrong domid or read-only, ESRCH no such domain).
 */
void *hv_gnttab_map(struct hv_gnttab *h, uint32_t count, const domid_t *domids,
		    int same_domain, const grant_ref_t *refs, int flags);
/* hv_gnttab_map_one - hv_gnttab_map of a single page. */
void *hv_gnttab_map_one(struct hv_gnttab *h, domid_t domid, grant_ref_t ref,
			int flags);
/* hv_gnttab_unmap - release the count pages of one map call at addr
 * (addr and count exactly as mapped). -EINVAL if they are not. */
int hv_gnttab_unmap(struct hv_gnttab *h, void *addr, uint32_t count);

/*
 * Grant copy, batch: each segment copies len bytes between a local buffer
 * and a granted page (either side may be a grant). Segment status is
 * GNTST_okay or a GNTST_* error; the call returns 0 when it could look at
 * every segment, -errno otherwise.
 */
struct hv_gnttab_copy_ptr {
	int is_gref; /* 1: (domid, ref, offset); 0: local virt */
	union {
		struct {
			domid_t domid;
			grant_ref_t ref;
			uint16_t offset;
		} gref;
		void *virt;
	} u;
};
struct hv_gnttab_copy_seg {
	struct hv_gnttab_copy_ptr source, dest;
	uint16_t len;
	int16_t status; /* out: GNTST_* */
};
int hv_gnttab_copy(struct hv_gnttab *h, uint32_t count,
		   struct hv_gnttab_copy_seg *segs);

/* ------------------------------------------------------------------ */
/* Grant sharing: the granting (frontend) side                         */
/* ------------------------------------------------------------------ */

struct hv_gntshr;

struct hv_gntshr *hv_gntshr_open(struct hv *hv);
void hv_gntshr_close(struct hv_gntshr *h);
/*
 * hv_gntshr_share - allocate count pages, grant each to domid (writable
 * or read-only) and return them mapped, refs[] filled. NULL with errno.
 */
void *hv_gntshr_share(struct hv_gntshr *h, domid_t domid, uint32_t count,
		      grant_ref_t *refs, int writable);
/* hv_gntshr_unshare - end access to and free pages of one share call;
 * -EBUSY (nothing changed) while the peer still has any of them mapped. */
int hv_gntshr_unshare(struct hv_gntshr *h, void *addr, uint32_t count);
/* hv_gntshr_grant_frame - loop guests: grant an existing frame of our own
 * RAM (as a guest kernel does). Returns the ref (>= 0) or -errno. */
int hv_gntshr_grant_frame(struct hv_gntshr *h, domid_t domid, uint64_t frame,
			  int writable);
/* hv_gntshr_end_access - revoke one ref; -EBUSY while mapped. */
int hv_gntshr_end_access(struct hv_gntshr *h, grant_ref_t ref);

/* ------------------------------------------------------------------ */
/* Foreign memory (dom0 privilege)                                     */
/* ------------------------------------------------------------------ */

struct hv_foreignmem;

struct hv_foreignmem *hv_foreignmem_open(struct hv *hv);
void hv_foreignmem_close(struct hv_foreignmem *h);
/* hv_foreignmem_map - map count guest frames (gfns) contiguously; prot is
 * PROT_READ[|PROT_WRITE]. err[i] per page may be NULL. NULL with errno. */
void *hv_foreignmem_map(struct hv_foreignmem *h, domid_t domid, int prot,
			size_t count, const uint64_t *gfns, int *err);
int hv_foreignmem_unmap(struct hv_foreignmem *h, void *addr, size_t count);

/* Resource types, as XENMEM_resource_* of <xen/memory.h>. */
struct hv_resource;
/*
 * hv_foreignmem_map_resource - map nr frames of resource (type, id) of
 * domid starting at frame, e.g. XENMEM_resource_ioreq_server id = ioservid,
 * frame 0 = buffered page, frame 1 = synchronous ioreq page.
 */
struct hv_resource *hv_foreignmem_map_resource(struct hv_foreignmem *h,
					       domid_t domid, unsigned int type,
					       unsigned int id,
					       unsigned long frame,
					       unsigned long nr, void **addr,
					       int prot);
int hv_foreignmem_unmap_resource(struct hv_foreignmem *h,
				 struct hv_resource *res);

/* ------------------------------------------------------------------ */
/* Device model: ioreq servers and interrupts                          */
/* ------------------------------------------------------------------ */

struct hv_devicemodel;

enum hv_io_range {
	HV_IO_PORT = 0, /* XEN_DMOP_IO_RANGE_PORT */
	HV_IO_MMIO = 1, /* XEN_DMOP_IO_RANGE_MEMORY */
	HV_IO_PCI = 2,  /* XEN_DMOP_IO_RANGE_PCI (sbdf) */
};

struct hv_devicemodel *hv_devicemodel_open(struct hv *hv);
void hv_devicemodel_close(struct hv_devicemodel *h);
/* Returns the new ioservid (>= 0) or -errno. */
int hv_dm_create_ioreq_server(struct hv_devicemodel *h, domid_t domid,
			      int handle_bufioreq);
int hv_dm_get_ioreq_server_info(struct hv_devicemodel *h, domid_t domid,
				uint16_t id, evtchn_port_t *bufioreq_port);
int hv_dm_map_io_range(struct hv_devicemodel *h, domid_t domid, uint16_t id,
		       enum hv_io_range type, uint64_t start, uint64_t end);
int hv_dm_unmap_io_range(struct hv_devicemodel *h, domid_t domid, uint16_t id,
			 enum hv_io_range type, uint64_t start, uint64_t end);
int hv_dm_set_ioreq_server_state(struct hv_devicemodel *h, domid_t domid,
				 uint16_t id, int enabled);
int hv_dm_destroy_ioreq_server(struct hv_devicemodel *h, domid_t domid,
			       uint16_t id);
int hv_dm_set_isa_irq_level(struct hv_devicemodel *h, domid_t domid,
			    uint8_t irq, unsigned int level);
int hv_dm_set_pci_intx_level(struct hv_devicemodel *h, domid_t domid,
			     uint16_t seg, uint8_t bus, uint8_t dev,
			     uint8_t intx, unsigned int level);

/* ------------------------------------------------------------------ */
/* Domains                                                             */
/* ------------------------------------------------------------------ */

struct hv_domain_info {
	domid_t domid;
	unsigned int dying : 1;
	unsigned int shutdown : 1;
	unsigned int paused : 1;
	unsigned int shutdown_reason;
	uint64_t mem_bytes;
	uint32_t max_vcpus;
	char name[64];
};

struct hv_domains;

/*
 * hv_domains_open - domain queries and the stream of death events.
 * hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ) also takes the
 * hypervisor's domain-exception signal as the stream's wakeup (Xen's
 * VIRQ_DOM_EXC: dom0 may bind it once, and xenstored needs it for
 * @releaseDomain, so only xenstored asks). Without it, on Xen, the stream
 * rescans on a one-second timer; on loop both are the same.
 */
#define HV_DOMAINS_EXC_VIRQ 0x1u
struct hv_domains *hv_domains_open(struct hv *hv);
struct hv_domains *hv_domains_open_flags(struct hv *hv, unsigned int flags);
void hv_domains_close(struct hv_domains *h);
/* hv_domains_list - fill up to max infos; returns how many exist (may be
 * more than max) or -errno. */
int hv_domains_list(struct hv_domains *h, struct hv_domain_info *out,
		    unsigned int max);
/* hv_domains_info - one domain; -ESRCH when it does not exist. */
int hv_domains_info(struct hv_domains *h, domid_t domid,
		    struct hv_domain_info *out);
/* hv_domains_fd - readable when hv_domains_next_event() may return one. */
int hv_domains_fd(struct hv_domains *h);

/*
 * What happened to a domain. SHUTDOWN: the domain stopped running (it
 * asked to, crashed, or the toolstack shut it down; shutdown_reason is a
 * SHUTDOWN_* of <xen/sched.h>) but still exists: the toolstack will
 * destroy, restart or resume it. On Xen, xenstored fires @releaseDomain
 * for it (docs/misc/xenstore.txt), which is what `xl create`'s monitor
 * waits on. DEAD: the domain became dying or vanished; everything of it
 * is to be released. A domain may be reported SHUTDOWN and later DEAD,
 * or DEAD alone (destroyed while running).
 */
enum hv_domain_event_kind {
	HV_DOMAIN_SHUTDOWN = 1,
	HV_DOMAIN_DEAD = 2,
};

struct hv_domain_event {
	domid_t domid;
	enum hv_domain_event_kind kind;
	unsigned int shutdown_reason; /* SHUTDOWN only */
};

/* hv_domains_next_event - the next event since the last call: 0 and *ev
 * filled; -EAGAIN when none; -EPIPE when the hypervisor connection is
 * gone. Events of one domain come in order. */
int hv_domains_next_event(struct hv_domains *h, struct hv_domain_event *ev);

/* hv_domains_next_dead - hv_domains_next_event() reduced to DEAD events
 * (SHUTDOWN ones are consumed and skipped): the domid, -EAGAIN or
 * -EPIPE. */
int hv_domains_next_dead(struct hv_domains *h);

#endif /* SPLITDRV_HV_H */
