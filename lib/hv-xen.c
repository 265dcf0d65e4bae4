/*
 * hv-xen.c - the xen provider of lib/hv.h: a thin forwarder to Debian's
 * Xen tool libraries.
 *
 *   hv (identity, params)  libxenctrl (xc_interface, xc_hvm_param_*)
 *   evtchn                 libxenevtchn   (/dev/xen/evtchn)
 *   gnttab                 libxengnttab   (/dev/xen/gntdev)
 *   gntshr                 libxengnttab's xengntshr_* (/dev/xen/gntalloc)
 *   foreignmem             libxenforeignmemory (/dev/xen/privcmd)
 *   devicemodel            libxendevicemodel   (/dev/xen/privcmd dm_op)
 *   domains                libxenctrl (getdomaininfolist) + VIRQ_DOM_EXC
 *
 * Every library handle is opened with a silent logger: this layer never
 * logs, failures come back as -errno (int functions) or NULL with errno
 * (pointer functions). The libraries return -1 with errno set; xen_rc()
 * turns that into -errno.
 *
 * Library handles must not be used across fork(): a child opens its own
 * hv (xc/xenevtchn/xengnttab all say so).
 *
 * What Xen cannot give us, and what we do instead, is listed in
 * doc/hv-xen.md.
 */
#include "config.h"

/* xenctrl.h defines __XEN_TOOLS__, which <xen/xen.h> (included by hv.h)
 * must see first for the tools-only types of <xen/domctl.h>. */
#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xentoollog.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hv-impl.h"

/* Fallback rescan period of the death stream when VIRQ_DOM_EXC is taken. */
#define XEN_DOMAINS_POLL_MS 1000
/* Domains fetched per getdomaininfolist hypercall. */
#define XEN_DOMINFO_CHUNK   64
/* Segments of one grant copy kept on the stack. */
#define XEN_COPY_STACK_SEGS 16
/* Largest SBDF range hv_dm_map_io_range(HV_IO_PCI) walks (one bus). */
#define XEN_PCI_RANGE_MAX   256

static const struct hv_ops xen_ops;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

__attribute__((format(printf, 5, 0))) static void
xen_quiet_vmessage(struct xentoollog_logger *logger, xentoollog_level level,
		   int errnoval, const char *context, const char *format,
		   va_list al)
{
}

static void xen_quiet_destroy(struct xentoollog_logger *logger)
{
}

/* Passed to every libxen* open: the libraries would otherwise print their
 * errors on stderr. Stateless, so one instance serves all handles. */
static struct xentoollog_logger xen_quiet_logger = {
	.vmessage = xen_quiet_vmessage,
	.progress = NULL,
	.destroy = xen_quiet_destroy,
};

/* A libxen* int result (-1 + errno on failure) as 0/-errno. */
static int xen_rc(int rc)
{
	if (rc >= 0)
		return rc;
	return errno > 0 ? -errno : -EIO;
}

/* errno for a pointer function whose library call failed without one. */
static void xen_keep_errno(void)
{
	if (errno <= 0)
		errno = EIO;
}

/* ------------------------------------------------------------------ */
/* The identity                                                        */
/* ------------------------------------------------------------------ */

struct xen_hv {
	struct hv common; /* first: hv.c's view */
	xc_interface *xch;
};

static struct xen_hv *xen_of(struct hv *hv)
{
	return (struct xen_hv *)hv;
}

/*
 * 1 when /proc/xen/capabilities says we are the control domain, 0 when it
 * says we are not, -1 when it cannot be read (xenfs not mounted).
 */
static int xen_caps_control_d(void)
{
	char buf[256];
	ssize_t n;
	int fd;

	fd = open("/proc/xen/capabilities", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return strstr(buf, "control_d") != NULL;
}

/* A domU's own domid from xenstore's relative key "domid"
 * (/local/domain/<self>/domid, written by the toolstack). */
static int xen_domid_from_xenstore(domid_t *out)
{
	struct xs_handle *xs;
	unsigned int len = 0;
	unsigned long v;
	char *s, *end;
	int rc = -ENOENT;

	xs = xs_open(0);
	if (!xs)
		return -errno;
	s = xs_read(xs, XBT_NULL, "domid", &len);
	if (s) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno == 0 && end != s && *end == '\0' &&
		    v < DOMID_FIRST_RESERVED) {
			*out = (domid_t)v;
			rc = 0;
		} else {
			rc = -EINVAL;
		}
		free(s);
	}
	xs_close(xs);
	return rc;
}

/*
 * Who are we? dom0 (domid 0) when the kernel says control_d or, without
 * xenfs, when the privileged getdomaininfolist works. Otherwise a domU:
 * the domid from xenstore, or DOMID_SELF (Xen's "the calling domain",
 * accepted by every hypercall) when xenstore cannot tell.
 */
static domid_t xen_detect_domid(xc_interface *xch)
{
	xc_domaininfo_t di;
	domid_t domid = DOMID_SELF;
	int caps;

	caps = xen_caps_control_d();
	if (caps == 1)
		return 0;
	if (caps == -1 && xc_domain_getinfolist(xch, 0, 1, &di) == 1)
		return 0;
	if (xen_domid_from_xenstore(&domid) == 0)
		return domid;
	return DOMID_SELF;
}

/*
 * hv_xen_open - open the xen provider as the calling domain (see
 * xen_detect_domid for how the domid is found). Needs /dev/xen/privcmd.
 * Returns NULL with errno from xc_interface_open (ENOENT: not on Xen,
 * EACCES: not root) or ENOMEM.
 */
struct hv *hv_xen_open(const struct hv_open_opts *opts)
{
	struct xen_hv *x;
	int err;

	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->xch = xc_interface_open(&xen_quiet_logger, &xen_quiet_logger, 0);
	if (!x->xch) {
		xen_keep_errno();
		err = errno;
		free(x);
		errno = err;
		return NULL;
	}
	x->common.ops = &xen_ops;
	x->common.provider = HV_PROVIDER_XEN;
	x->common.domid = xen_detect_domid(x->xch);
	return &x->common;
}

static void xen_close(struct hv *hv)
{
	struct xen_hv *x = xen_of(hv);

	xc_interface_close(x->xch);
	free(x);
}

static int xen_param_get(struct hv *hv, domid_t domid, uint32_t param,
			 uint64_t *val)
{
	return xen_rc(xc_hvm_param_get(xen_of(hv)->xch, domid, param, val));
}

static int xen_param_set(struct hv *hv, domid_t domid, uint32_t param,
			 uint64_t val)
{
	return xen_rc(xc_hvm_param_set(xen_of(hv)->xch, domid, param, val));
}

/* ------------------------------------------------------------------ */
/* Event channels                                                      */
/* ------------------------------------------------------------------ */

/*
 * The kernel driver cannot be asked what a port is, so each handle keeps
 * the state of the ports it bound itself: one byte per port, grown on
 * demand up to the FIFO ABI's limit. A peer closing its end is invisible
 * from dom0 userspace (Xen silently turns our port back to unbound and
 * drops notifications on it), so HV_EVTCHN_PEER_CLOSED is never reported.
 */
struct xen_evtchn {
	struct hv_handle_common c; /* first */
	xenevtchn_handle *xce;
	int fd;
	uint8_t *state; /* enum hv_evtchn_state per local port */
	uint32_t nstate;
};

static struct xen_evtchn *xevt(struct hv_evtchn *h)
{
	return (struct xen_evtchn *)h;
}

static int xevt_set_state(struct xen_evtchn *e, evtchn_port_t port,
			  enum hv_evtchn_state st)
{
	uint32_t n;
	uint8_t *p;

	if (port >= EVTCHN_FIFO_NR_CHANNELS)
		return -EINVAL;
	if (port >= e->nstate) {
		if (st == HV_EVTCHN_FREE)
			return 0;
		n = e->nstate ? e->nstate : 64;
		while (n <= port)
			n *= 2;
		p = realloc(e->state, n);
		if (!p)
			return -ENOMEM;
		memset(p + e->nstate, HV_EVTCHN_FREE, n - e->nstate);
		e->state = p;
		e->nstate = n;
	}
	e->state[port] = (uint8_t)st;
	return 0;
}

static enum hv_evtchn_state xevt_get_state(const struct xen_evtchn *e,
					   evtchn_port_t port)
{
	return port < e->nstate ? (enum hv_evtchn_state)e->state[port]
				: HV_EVTCHN_FREE;
}

static struct hv_evtchn *xen_evtchn_open(struct hv *hv)
{
	struct xen_evtchn *e;
	int fl, err;

	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->c.hv = hv;
	e->xce = xenevtchn_open(&xen_quiet_logger, 0);
	if (!e->xce)
		goto fail;
	e->fd = xenevtchn_fd(e->xce);
	/* hv_evtchn_pending() must not block: the driver's read() honours
	 * O_NONBLOCK with EAGAIN. */
	fl = fcntl(e->fd, F_GETFL);
	if (fl < 0 || fcntl(e->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto fail;
	return (struct hv_evtchn *)e;
fail:
	xen_keep_errno();
	err = errno;
	if (e->xce)
		xenevtchn_close(e->xce);
	free(e);
	errno = err;
	return NULL;
}

static void xen_evtchn_close(struct hv_evtchn *h)
{
	struct xen_evtchn *e = xevt(h);

	/* Closing the driver handle unbinds every port it holds. */
	xenevtchn_close(e->xce);
	free(e->state);
	free(e);
}

static int xen_evtchn_fd(struct hv_evtchn *h)
{
	return xevt(h)->fd;
}

/* Record a freshly bound port; on ENOMEM give the port back. */
static int xevt_bound(struct xen_evtchn *e, int port, enum hv_evtchn_state st)
{
	int rc;

	if (port < 0)
		return xen_rc(port);
	rc = xevt_set_state(e, (evtchn_port_t)port, st);
	if (rc < 0) {
		xenevtchn_unbind(e->xce, (evtchn_port_t)port);
		return rc;
	}
	return port;
}

static int xen_evtchn_alloc_unbound(struct hv_evtchn *h, domid_t remote)
{
	struct xen_evtchn *e = xevt(h);

	return xevt_bound(e, xenevtchn_bind_unbound_port(e->xce, remote),
			  HV_EVTCHN_UNBOUND);
}

static int xen_evtchn_bind_interdomain(struct hv_evtchn *h, domid_t remote,
				       evtchn_port_t rport)
{
	struct xen_evtchn *e = xevt(h);

	return xevt_bound(e, xenevtchn_bind_interdomain(e->xce, remote, rport),
			  HV_EVTCHN_INTERDOMAIN);
}

static int xen_evtchn_bind_virq(struct hv_evtchn *h, unsigned int virq)
{
	struct xen_evtchn *e = xevt(h);

	return xevt_bound(e, xenevtchn_bind_virq(e->xce, virq), HV_EVTCHN_VIRQ);
}

static int xen_evtchn_unbind(struct hv_evtchn *h, evtchn_port_t port)
{
	struct xen_evtchn *e = xevt(h);
	int rc;

	if (xevt_get_state(e, port) == HV_EVTCHN_FREE)
		return -EINVAL;
	rc = xen_rc(xenevtchn_unbind(e->xce, port));
	if (rc == 0)
		xevt_set_state(e, port, HV_EVTCHN_FREE);
	return rc;
}

static int xen_evtchn_notify(struct hv_evtchn *h, evtchn_port_t port)
{
	struct xen_evtchn *e = xevt(h);

	/* The driver says ENOTCONN for a port it does not hold; hv.h wants
	 * EINVAL for "not bound here", which our table knows. */
	if (xevt_get_state(e, port) == HV_EVTCHN_FREE)
		return -EINVAL;
	return xen_rc(xenevtchn_notify(e->xce, port));
}

static int xen_evtchn_pending(struct hv_evtchn *h)
{
	return xen_rc(xenevtchn_pending(xevt(h)->xce));
}

static int xen_evtchn_unmask(struct hv_evtchn *h, evtchn_port_t port)
{
	return xen_rc(xenevtchn_unmask(xevt(h)->xce, port));
}

static int xen_evtchn_state(struct hv_evtchn *h, evtchn_port_t port)
{
	if (port >= EVTCHN_FIFO_NR_CHANNELS)
		return -EINVAL;
	return (int)xevt_get_state(xevt(h), port);
}

/* ------------------------------------------------------------------ */
/* Grant mapping                                                       */
/* ------------------------------------------------------------------ */

struct xen_gnttab {
	struct hv_handle_common c; /* first */
	xengnttab_handle *xgt;
};

static struct xen_gnttab *xgnt(struct hv_gnttab *h)
{
	return (struct xen_gnttab *)h;
}

static struct hv_gnttab *xen_gnttab_open(struct hv *hv)
{
	struct xen_gnttab *g;
	int err;

	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->c.hv = hv;
	g->xgt = xengnttab_open(&xen_quiet_logger, 0);
	if (!g->xgt) {
		xen_keep_errno();
		err = errno;
		free(g);
		errno = err;
		return NULL;
	}
	return (struct hv_gnttab *)g;
}

static void xen_gnttab_close(struct hv_gnttab *h)
{
	struct xen_gnttab *g = xgnt(h);

	xengnttab_close(g->xgt);
	free(g);
}

/*
 * Map through gntdev. HV_GNTMAP_PERSISTENT is an ordinary mapping here;
 * the gntdev driver does the per-entry checks of Xen and reports any
 * failing entry as EINVAL for the whole call (it cannot tell us which
 * GNTST_* it was), unmapping the rest.
 */
static void *xen_gnttab_map(struct hv_gnttab *h, uint32_t count,
			    const domid_t *domids, int same_domain,
			    const grant_ref_t *refs, int flags)
{
	struct xen_gnttab *g = xgnt(h);
	int prot = PROT_READ | ((flags & HV_GNTMAP_RO) ? 0 : PROT_WRITE);
	uint32_t *doms, *rv;
	void *addr;
	uint32_t i;
	int err;

	_Static_assert(sizeof(grant_ref_t) == sizeof(uint32_t),
		       "grant_ref_t is the library's uint32_t ref");
	/* The library takes non-const arrays but does not write them. */
	rv = (uint32_t *)(uintptr_t)refs;
	if (same_domain) {
		addr = xengnttab_map_domain_grant_refs(g->xgt, count, domids[0],
						       rv, prot);
		if (!addr)
			xen_keep_errno();
		return addr;
	}
	doms = calloc(count, sizeof(*doms));
	if (!doms)
		return NULL;
	for (i = 0; i < count; i++)
		doms[i] = domids[i];
	addr = xengnttab_map_grant_refs(g->xgt, count, doms, rv, prot);
	if (!addr)
		xen_keep_errno();
	err = errno;
	free(doms);
	errno = err;
	return addr;
}

static int xen_gnttab_unmap(struct hv_gnttab *h, void *addr, uint32_t count)
{
	return xen_rc(xengnttab_unmap(xgnt(h)->xgt, addr, count));
}

/* Check one side of a copy segment; 0 or a GNTST_* status. */
static int xen_copy_side_ok(const struct hv_gnttab_copy_ptr *p, uint16_t len)
{
	if (!p->is_gref)
		return p->u.virt ? GNTST_okay : GNTST_bad_virt_addr;
	if ((uint32_t)p->u.gref.offset + len > XC_PAGE_SIZE)
		return GNTST_bad_copy_arg;
	return GNTST_okay;
}

static void xen_copy_ptr(union xengnttab_copy_ptr *dst,
			 const struct hv_gnttab_copy_ptr *src)
{
	if (src->is_gref) {
		dst->foreign.ref = src->u.gref.ref;
		dst->foreign.offset = src->u.gref.offset;
		dst->foreign.domid = src->u.gref.domid;
	} else {
		dst->virt = src->u.virt;
	}
}

/*
 * Grant copy through gntdev's IOCTL_GNTDEV_GRANT_COPY. Segments the driver
 * would reject for the whole batch (local to local, a grant side crossing
 * its page) get their own GNTST_* status here and are left out; the rest go
 * down in one call, their statuses copied back.
 */
static int xen_gnttab_copy(struct hv_gnttab *h, uint32_t count,
			   struct hv_gnttab_copy_seg *segs)
{
	xengnttab_grant_copy_segment_t stack[XEN_COPY_STACK_SEGS];
	xengnttab_grant_copy_segment_t *xs = stack;
	uint32_t *idx = NULL, n = 0, i;
	uint32_t stack_idx[XEN_COPY_STACK_SEGS];
	struct hv_gnttab_copy_seg *s;
	int st, rc = 0;

	if (count > XEN_COPY_STACK_SEGS) {
		xs = calloc(count, sizeof(*xs));
		idx = calloc(count, sizeof(*idx));
		if (!xs || !idx) {
			free(xs);
			free(idx);
			return -ENOMEM;
		}
	} else {
		idx = stack_idx;
	}
	for (i = 0; i < count; i++) {
		s = &segs[i];
		st = xen_copy_side_ok(&s->source, s->len);
		if (st == GNTST_okay)
			st = xen_copy_side_ok(&s->dest, s->len);
		if (st == GNTST_okay && !s->source.is_gref && !s->dest.is_gref)
			st = GNTST_bad_copy_arg; /* gntdev refuses local copies */
		s->status = (int16_t)st;
		if (st != GNTST_okay)
			continue;
		memset(&xs[n], 0, sizeof(xs[n]));
		xen_copy_ptr(&xs[n].source, &s->source);
		xen_copy_ptr(&xs[n].dest, &s->dest);
		xs[n].len = s->len;
		xs[n].flags = (s->source.is_gref ? GNTCOPY_source_gref : 0) |
			      (s->dest.is_gref ? GNTCOPY_dest_gref : 0);
		idx[n++] = i;
	}
	if (n > 0) {
		rc = xen_rc(xengnttab_grant_copy(xgnt(h)->xgt, n, xs));
		for (i = 0; i < n; i++)
			segs[idx[i]].status =
				rc == 0 ? xs[i].status : GNTST_general_error;
	}
	if (xs != stack) {
		free(xs);
		free(idx);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Grant sharing                                                       */
/* ------------------------------------------------------------------ */

/*
 * gntalloc shares freshly allocated pages only: granting an existing frame
 * (grant_frame) or revoking one ref alone (end_access) has no library call,
 * so those ops are NULL (-EOPNOTSUPP from the dispatcher). unshare cannot
 * report -EBUSY: gntalloc defers the end of foreign access until the peer
 * unmaps, and the call succeeds at once.
 */
struct xen_gntshr {
	struct hv_handle_common c; /* first */
	xengntshr_handle *xgs;
};

static struct xen_gntshr *xshr(struct hv_gntshr *h)
{
	return (struct xen_gntshr *)h;
}

static struct hv_gntshr *xen_gntshr_open(struct hv *hv)
{
	struct xen_gntshr *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c.hv = hv;
	s->xgs = xengntshr_open(&xen_quiet_logger, 0);
	if (!s->xgs) {
		xen_keep_errno();
		err = errno;
		free(s);
		errno = err;
		return NULL;
	}
	return (struct hv_gntshr *)s;
}

static void xen_gntshr_close(struct hv_gntshr *h)
{
	struct xen_gntshr *s = xshr(h);

	xengntshr_close(s->xgs);
	free(s);
}

static void *xen_gntshr_share(struct hv_gntshr *h, domid_t domid,
			      uint32_t count, grant_ref_t *refs, int writable)
{
	void *addr;

	if (count > INT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	addr = xengntshr_share_pages(xshr(h)->xgs, domid, (int)count, refs,
				     writable ? 1 : 0);
	if (!addr)
		xen_keep_errno();
	return addr;
}

static int xen_gntshr_unshare(struct hv_gntshr *h, void *addr, uint32_t count)
{
	return xen_rc(xengntshr_unshare(xshr(h)->xgs, addr, count));
}

/* ------------------------------------------------------------------ */
/* Foreign memory                                                      */
/* ------------------------------------------------------------------ */

struct xen_foreignmem {
	struct hv_handle_common c; /* first */
	xenforeignmemory_handle *fmem;
};

struct hv_resource {
	xenforeignmemory_resource_handle *fres;
};

static struct xen_foreignmem *xfm(struct hv_foreignmem *h)
{
	return (struct xen_foreignmem *)h;
}

static struct hv_foreignmem *xen_foreignmem_open(struct hv *hv)
{
	struct xen_foreignmem *f;
	int err;

	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->c.hv = hv;
	f->fmem = xenforeignmemory_open(&xen_quiet_logger, 0);
	if (!f->fmem) {
		xen_keep_errno();
		err = errno;
		free(f);
		errno = err;
		return NULL;
	}
	return (struct hv_foreignmem *)f;
}

static void xen_foreignmem_close(struct hv_foreignmem *h)
{
	struct xen_foreignmem *f = xfm(h);

	xenforeignmemory_close(f->fmem);
	free(f);
}

/* With err[] the library may map some pages and report the others there
 * (its contract, kept); without it the map is all or nothing. */
static void *xen_foreignmem_map(struct hv_foreignmem *h, domid_t domid, int prot,
				size_t count, const uint64_t *gfns, int *err)
{
	xen_pfn_t *pfns;
	void *addr;
	size_t i;
	int e;

	pfns = calloc(count, sizeof(*pfns));
	if (!pfns)
		return NULL;
	for (i = 0; i < count; i++) {
		pfns[i] = (xen_pfn_t)gfns[i];
		if ((uint64_t)pfns[i] != gfns[i]) {
			free(pfns);
			errno = EINVAL; /* gfn wider than xen_pfn_t */
			return NULL;
		}
	}
	addr = xenforeignmemory_map(xfm(h)->fmem, domid, prot, count, pfns, err);
	if (!addr)
		xen_keep_errno();
	e = errno;
	free(pfns);
	errno = e;
	return addr;
}

static int xen_foreignmem_unmap(struct hv_foreignmem *h, void *addr,
				size_t count)
{
	return xen_rc(xenforeignmemory_unmap(xfm(h)->fmem, addr, count));
}

static struct hv_resource *
xen_foreignmem_map_resource(struct hv_foreignmem *h, domid_t domid,
			    unsigned int type, unsigned int id,
			    unsigned long frame, unsigned long nr, void **addr,
			    int prot)
{
	struct hv_resource *r;
	void *where = NULL; /* no placement hint */
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fres = xenforeignmemory_map_resource(xfm(h)->fmem, domid, type, id,
						frame, nr, &where, prot, 0);
	if (!r->fres) {
		xen_keep_errno();
		err = errno;
		free(r);
		errno = err;
		return NULL;
	}
	*addr = where;
	return r;
}

static int xen_foreignmem_unmap_resource(struct hv_foreignmem *h,
					 struct hv_resource *res)
{
	int rc;

	if (!res)
		return -EINVAL;
	rc = xen_rc(xenforeignmemory_unmap_resource(xfm(h)->fmem, res->fres));
	/* The library frees its handle whatever munmap said. */
	free(res);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Device model                                                        */
/* ------------------------------------------------------------------ */

struct xen_dm {
	struct hv_handle_common c; /* first */
	xendevicemodel_handle *dmod;
};

static struct xen_dm *xdm(struct hv_devicemodel *h)
{
	return (struct xen_dm *)h;
}

static struct hv_devicemodel *xen_dm_open(struct hv *hv)
{
	struct xen_dm *d;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->c.hv = hv;
	d->dmod = xendevicemodel_open(&xen_quiet_logger, 0);
	if (!d->dmod) {
		xen_keep_errno();
		err = errno;
		free(d);
		errno = err;
		return NULL;
	}
	return (struct hv_devicemodel *)d;
}

static void xen_dm_close(struct hv_devicemodel *h)
{
	struct xen_dm *d = xdm(h);

	xendevicemodel_close(d->dmod);
	free(d);
}

static int xen_dm_create_ioreq_server(struct hv_devicemodel *h, domid_t domid,
				      int handle_bufioreq)
{
	ioservid_t id;
	int rc;

	rc = xen_rc(xendevicemodel_create_ioreq_server(xdm(h)->dmod, domid,
						       handle_bufioreq, &id));
	return rc < 0 ? rc : (int)id;
}

/* The ioreq pages are mapped as a resource (map_resource), so the legacy
 * gfns are not asked for (the library then sets XEN_DMOP_no_gfns). */
static int xen_dm_get_ioreq_server_info(struct hv_devicemodel *h, domid_t domid,
					uint16_t id,
					evtchn_port_t *bufioreq_port)
{
	return xen_rc(xendevicemodel_get_ioreq_server_info(xdm(h)->dmod, domid,
							   id, NULL, NULL,
							   bufioreq_port));
}

/* SBDF as XEN_DMOP_PCI_SBDF of <xen/hvm/dm_op.h>:
 * (seg << 16) | (bus << 8) | (dev << 3) | fn. */
static void xen_sbdf_split(uint64_t sbdf, uint16_t *seg, uint8_t *bus,
			   uint8_t *dev, uint8_t *fn)
{
	*seg = (uint16_t)((sbdf >> 16) & 0xffff);
	*bus = (uint8_t)((sbdf >> 8) & 0xff);
	*dev = (uint8_t)((sbdf >> 3) & 0x1f);
	*fn = (uint8_t)(sbdf & 0x7);
}

static int xen_dm_pci_one(struct xen_dm *d, domid_t domid, uint16_t id,
			  uint64_t sbdf, int map)
{
	uint16_t seg;
	uint8_t bus, dev, fn;

	xen_sbdf_split(sbdf, &seg, &bus, &dev, &fn);
	if (map)
		return xen_rc(
			xendevicemodel_map_pcidev_to_ioreq_server(d->dmod, domid,
								  id, seg, bus,
								  dev, fn));
	return xen_rc(xendevicemodel_unmap_pcidev_from_ioreq_server(d->dmod,
								    domid, id,
								    seg, bus,
								    dev, fn));
}

/*
 * A PCI "range" is walked one device at a time (the library maps single
 * devices); at most XEN_PCI_RANGE_MAX of them, and a map that fails half
 * way is rolled back.
 */
static int xen_dm_pci_range(struct xen_dm *d, domid_t domid, uint16_t id,
			    uint64_t start, uint64_t end, int map)
{
	uint64_t s;
	int rc, first_rc = 0;

	if (start > 0xffffffffULL || end > 0xffffffffULL ||
	    end - start >= XEN_PCI_RANGE_MAX)
		return -EINVAL;
	for (s = start; s <= end; s++) {
		rc = xen_dm_pci_one(d, domid, id, s, map);
		if (rc == 0)
			continue;
		if (!map) {
			if (!first_rc)
				first_rc = rc;
			continue;
		}
		while (s-- > start)
			xen_dm_pci_one(d, domid, id, s, 0);
		return rc;
	}
	return first_rc;
}

static int xen_dm_map_io_range(struct hv_devicemodel *h, domid_t domid,
			       uint16_t id, enum hv_io_range type,
			       uint64_t start, uint64_t end)
{
	switch (type) {
	case HV_IO_PORT:
	case HV_IO_MMIO:
		return xen_rc(
			xendevicemodel_map_io_range_to_ioreq_server(xdm(h)->dmod,
								    domid, id,
								    type == HV_IO_MMIO,
								    start, end));
	case HV_IO_PCI:
		return xen_dm_pci_range(xdm(h), domid, id, start, end, 1);
	}
	return -EINVAL;
}

static int xen_dm_unmap_io_range(struct hv_devicemodel *h, domid_t domid,
				 uint16_t id, enum hv_io_range type,
				 uint64_t start, uint64_t end)
{
	switch (type) {
	case HV_IO_PORT:
	case HV_IO_MMIO:
		return xen_rc(xendevicemodel_unmap_io_range_from_ioreq_server(
			xdm(h)->dmod, domid, id, type == HV_IO_MMIO, start,
			end));
	case HV_IO_PCI:
		return xen_dm_pci_range(xdm(h), domid, id, start, end, 0);
	}
	return -EINVAL;
}

static int xen_dm_set_ioreq_server_state(struct hv_devicemodel *h,
					 domid_t domid, uint16_t id, int enabled)
{
	return xen_rc(xendevicemodel_set_ioreq_server_state(xdm(h)->dmod, domid,
							    id,
							    enabled ? 1 : 0));
}

static int xen_dm_destroy_ioreq_server(struct hv_devicemodel *h, domid_t domid,
				       uint16_t id)
{
	return xen_rc(
		xendevicemodel_destroy_ioreq_server(xdm(h)->dmod, domid, id));
}

static int xen_dm_set_isa_irq_level(struct hv_devicemodel *h, domid_t domid,
				    uint8_t irq, unsigned int level)
{
	return xen_rc(xendevicemodel_set_isa_irq_level(xdm(h)->dmod, domid, irq,
						       level));
}

static int xen_dm_set_pci_intx_level(struct hv_devicemodel *h, domid_t domid,
				     uint16_t seg, uint8_t bus, uint8_t dev,
				     uint8_t intx, unsigned int level)
{
	return xen_rc(xendevicemodel_set_pci_intx_level(xdm(h)->dmod, domid, seg,
							bus, dev, intx, level));
}

/* ------------------------------------------------------------------ */
/* Domains                                                             */
/* ------------------------------------------------------------------ */

/*
 * Design note: the domain event stream.
 *
 * Xen raises the global VIRQ_DOM_EXC in dom0 when any domain shuts down,
 * crashes or dies, without saying which. The handle binds it on a private
 * xenevtchn handle (the pollable fd) and, on each event, rescans all
 * domains and diffs against the previous scan (S: shut down, D: dying):
 *
 *   before          now                 reported
 *   3 running       3 S (reboot)        SHUTDOWN 3 reason 1
 *   3 S             3 S                 -  (once per shutdown)
 *   3 S             3 running           -  (resumed: forgotten, so a
 *                                           later shutdown reports again)
 *   3 S             3 D                 DEAD 3
 *   4 running       (gone)              DEAD 4
 *   5 D             (gone)              -  (reported when it became dying)
 *   (unknown)       6 S                 SHUTDOWN 6 (born and shut down
 *                                          between scans)
 *   (unknown)       7 D                 DEAD 7 (born and dying between scans)
 *   8 running       8 S+D               DEAD 8 (a dying domain is past its
 *                                           shutdown: DEAD says it all)
 *
 * C xenstored fires @releaseDomain on both transitions (xl's monitor waits
 * for the shutdown one to destroy or restart the domain), which is why the
 * stream reports SHUTDOWN at all. Events are queued in scan order: one
 * domain has at most one event per scan, so its events stay in order. The
 * first scan (at open) is the baseline and reports nothing.
 *
 * Only one binding of VIRQ_DOM_EXC may exist in dom0 (Xen: EEXIST), and
 * xenstored needs it, so the handle binds it only when opened with
 * HV_DOMAINS_EXC_VIRQ (xenstored does; a backend started first must not
 * take it from xenstored). Otherwise, or when another process (e.g.
 * Xen's own xenstored) has it, the handle uses a periodic timerfd
 * (XEN_DOMAINS_POLL_MS) as its fd and rescans on each tick: the same
 * events, up to that much later.
 */
struct xen_dom_seen {
	domid_t domid;
	uint8_t dying;
	uint8_t shutdown; /* flag as of this scan */
};

struct xen_domains {
	struct hv_handle_common c; /* first */
	xc_interface *xch;         /* own handle: hv's may be used elsewhere */
	xenevtchn_handle *xce;     /* NULL in timer mode */
	int timer_fd;              /* -1 in VIRQ mode */
	int virq_port;
	struct xen_dom_seen *seen; /* previous scan, sorted by domid */
	uint32_t nseen;
	struct hv_domain_event *ev; /* FIFO of events to report */
	uint32_t ev_head, ev_len, ev_cap;
};

static struct xen_domains *xdom(struct hv_domains *h)
{
	return (struct xen_domains *)h;
}

static unsigned int xen_shutdown_reason(uint32_t flags)
{
	return (flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
}

static void xen_fill_info(struct hv_domain_info *o, const xc_domaininfo_t *di)
{
	memset(o, 0, sizeof(*o));
	o->domid = di->domain;
	o->dying = !!(di->flags & XEN_DOMINF_dying);
	o->shutdown = !!(di->flags & XEN_DOMINF_shutdown);
	o->paused = !!(di->flags & XEN_DOMINF_paused);
	if (o->shutdown)
		o->shutdown_reason = xen_shutdown_reason(di->flags);
	o->mem_bytes = (uint64_t)di->tot_pages << XC_PAGE_SHIFT;
	o->max_vcpus = di->max_vcpu_id == XEN_INVALID_MAX_VCPU_ID
			       ? 0
			       : di->max_vcpu_id + 1;
	/* name stays empty: see doc/hv-xen.md (no xenstore from here). */
}

/*
 * All domains, in chunks. Xen lists domains with domid >= first in domid
 * order; the next chunk starts after the largest domid seen. Returns the
 * count with *out malloc'd (caller frees), or -errno.
 */
static int xen_scan(xc_interface *xch, xc_domaininfo_t **out)
{
	xc_domaininfo_t *all = NULL, *p;
	uint32_t n = 0, cap = 0, first = 0;
	int got, i;

	for (;;) {
		if (cap - n < XEN_DOMINFO_CHUNK) {
			cap += 4 * XEN_DOMINFO_CHUNK;
			p = realloc(all, cap * sizeof(*all));
			if (!p) {
				free(all);
				return -ENOMEM;
			}
			all = p;
		}
		got = xc_domain_getinfolist(xch, first, XEN_DOMINFO_CHUNK,
					    all + n);
		if (got < 0) {
			got = xen_rc(got);
			free(all);
			return got;
		}
		for (i = 0; i < got; i++)
			if ((uint32_t)all[n + i].domain + 1 > first)
				first = (uint32_t)all[n + i].domain + 1;
		n += (uint32_t)got;
		if (got < XEN_DOMINFO_CHUNK || first >= DOMID_FIRST_RESERVED)
			break;
	}
	*out = all;
	return (int)n;
}

static int xen_seen_cmp(const void *a, const void *b)
{
	const struct xen_dom_seen *x = a, *y = b;

	return (int)x->domid - (int)y->domid;
}

static int xen_info_cmp(const void *a, const void *b)
{
	const xc_domaininfo_t *x = a, *y = b;

	return (int)x->domain - (int)y->domain;
}

static int xen_ev_push(struct xen_domains *d, domid_t domid,
		       enum hv_domain_event_kind kind, unsigned int reason)
{
	struct hv_domain_event *p;
	uint32_t i, cap;

	if (d->ev_len == d->ev_cap) {
		cap = d->ev_cap ? d->ev_cap * 2 : 16;
		p = malloc(cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		for (i = 0; i < d->ev_len; i++)
			p[i] = d->ev[(d->ev_head + i) % d->ev_cap];
		free(d->ev);
		d->ev = p;
		d->ev_cap = cap;
		d->ev_head = 0;
	}
	p = &d->ev[(d->ev_head + d->ev_len) % d->ev_cap];
	memset(p, 0, sizeof(*p));
	p->domid = domid;
	p->kind = kind;
	if (kind == HV_DOMAIN_SHUTDOWN)
		p->shutdown_reason = reason;
	d->ev_len++;
	return 0;
}

/* Rescan and queue what happened since the previous scan (see the note).
 * With report == 0 only the baseline is recorded. On failure nothing of
 * this scan is queued and the old baseline stays, so the next scan reports
 * it all. */
static int xen_rescan(struct xen_domains *d, int report)
{
	xc_domaininfo_t *all = NULL;
	struct xen_dom_seen *now, key, *old;
	uint32_t i, queued = d->ev_len;
	int n, rc = 0;

	n = xen_scan(d->xch, &all);
	if (n < 0)
		return n;
	now = calloc((size_t)n + 1, sizeof(*now));
	if (!now) {
		free(all);
		return -ENOMEM;
	}
	/* Xen lists in domid order; sorting keeps us right if not. */
	qsort(all, (size_t)n, sizeof(*all), xen_info_cmp);
	for (i = 0; i < (uint32_t)n; i++) {
		now[i].domid = all[i].domain;
		now[i].dying = !!(all[i].flags & XEN_DOMINF_dying);
		now[i].shutdown = !!(all[i].flags & XEN_DOMINF_shutdown);
	}

	for (i = 0; report && rc == 0 && i < (uint32_t)n; i++) {
		old = d->nseen ? bsearch(&now[i], d->seen, d->nseen,
					 sizeof(*d->seen), xen_seen_cmp)
			       : NULL;
		if (now[i].dying) {
			if (!old || !old->dying)
				rc = xen_ev_push(d, now[i].domid,
						 HV_DOMAIN_DEAD, 0);
		} else if (now[i].shutdown && (!old || !old->shutdown)) {
			rc = xen_ev_push(d, now[i].domid, HV_DOMAIN_SHUTDOWN,
					 xen_shutdown_reason(all[i].flags));
		}
	}
	for (i = 0; report && rc == 0 && i < d->nseen; i++) {
		if (d->seen[i].dying)
			continue;
		key.domid = d->seen[i].domid;
		if (!bsearch(&key, now, (size_t)n, sizeof(*now), xen_seen_cmp))
			rc = xen_ev_push(d, key.domid, HV_DOMAIN_DEAD, 0);
	}
	free(all);
	if (rc < 0) {
		d->ev_len = queued; /* drop this scan's part: reported later */
		free(now);
		return rc;
	}
	free(d->seen);
	d->seen = now;
	d->nseen = (uint32_t)n;
	return 0;
}

static struct hv_domains *xen_domains_open(struct hv *hv, unsigned int flags)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = XEN_DOMAINS_POLL_MS / 1000,
				 .tv_nsec = (XEN_DOMAINS_POLL_MS % 1000) *
					    1000000L },
	};
	struct xen_domains *d;
	int fl, rc, err;

	its.it_value = its.it_interval;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->c.hv = hv;
	d->timer_fd = -1;
	d->virq_port = -1;
	d->xch = xc_interface_open(&xen_quiet_logger, &xen_quiet_logger, 0);
	if (!d->xch)
		goto fail_errno;
	/* The wakeup source first, then the baseline scan: a domain dying
	 * in between still leaves an event behind. */
	if (flags & HV_DOMAINS_EXC_VIRQ) {
		d->xce = xenevtchn_open(&xen_quiet_logger, 0);
		if (!d->xce)
			goto fail_errno;
		d->virq_port = xenevtchn_bind_virq(d->xce, VIRQ_DOM_EXC);
	}
	if (d->virq_port >= 0) {
		fl = fcntl(xenevtchn_fd(d->xce), F_GETFL);
		if (fl < 0 ||
		    fcntl(xenevtchn_fd(d->xce), F_SETFL, fl | O_NONBLOCK) < 0)
			goto fail_errno;
	} else {
		/* not asked for, or bound elsewhere: poll on a timer */
		if (d->xce)
			xenevtchn_close(d->xce);
		d->xce = NULL;
		d->timer_fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (d->timer_fd < 0 ||
		    timerfd_settime(d->timer_fd, 0, &its, NULL) < 0)
			goto fail_errno;
	}
	rc = xen_rescan(d, 0);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	return (struct hv_domains *)d;

fail_errno:
	xen_keep_errno();
fail:
	err = errno;
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->xce)
		xenevtchn_close(d->xce);
	if (d->xch)
		xc_interface_close(d->xch);
	free(d->seen);
	free(d);
	errno = err;
	return NULL;
}

static void xen_domains_close(struct hv_domains *h)
{
	struct xen_domains *d = xdom(h);

	if (d->xce)
		xenevtchn_close(d->xce);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	xc_interface_close(d->xch);
	free(d->seen);
	free(d->ev);
	free(d);
}

static int xen_domains_list(struct hv_domains *h, struct hv_domain_info *out,
			    unsigned int max)
{
	xc_domaininfo_t *all = NULL;
	int n, i;

	n = xen_scan(xdom(h)->xch, &all);
	if (n < 0)
		return n;
	for (i = 0; i < n && (unsigned int)i < max; i++)
		xen_fill_info(&out[i], &all[i]);
	free(all);
	return n;
}

static int xen_domains_info(struct hv_domains *h, domid_t domid,
			    struct hv_domain_info *out)
{
	xc_domaininfo_t di;
	int n;

	/* Xen 4.17 has no xc_domain_getinfo_single: ask for the first
	 * domain >= domid and check it is that one. */
	n = xc_domain_getinfolist(xdom(h)->xch, domid, 1, &di);
	if (n < 0)
		return xen_rc(n);
	if (n == 0 || di.domain != domid)
		return -ESRCH;
	xen_fill_info(out, &di);
	return 0;
}

static int xen_domains_fd(struct hv_domains *h)
{
	struct xen_domains *d = xdom(h);

	return d->xce ? xenevtchn_fd(d->xce) : d->timer_fd;
}

/* Drain the wakeups of the fd; 1 when there were any, 0 none, -errno. */
static int xen_domains_drain(struct xen_domains *d)
{
	uint64_t ticks;
	int port, any = 0;

	if (!d->xce) {
		if (read(d->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks))
			return 1;
		return errno == EAGAIN ? 0 : -errno;
	}
	for (;;) {
		port = xenevtchn_pending(d->xce);
		if (port < 0)
			return errno == EAGAIN ? any : xen_rc(port);
		any = 1;
		if (xenevtchn_unmask(d->xce, (evtchn_port_t)port) < 0)
			return xen_rc(-1);
	}
}

/* The next queued event; rescans first when the queue is empty and the
 * fd had wakeups. */
static int xen_domains_next_event(struct hv_domains *h,
				  struct hv_domain_event *ev)
{
	struct xen_domains *d = xdom(h);
	int rc;

	if (d->ev_len == 0) {
		rc = xen_domains_drain(d);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			rc = xen_rescan(d, 1);
			if (rc < 0)
				return rc;
		}
	}
	if (d->ev_len == 0)
		return -EAGAIN;
	*ev = d->ev[d->ev_head];
	d->ev_head = (d->ev_head + 1) % d->ev_cap;
	d->ev_len--;
	return 0;
}

/* ------------------------------------------------------------------ */

static const struct hv_ops xen_ops = {
	.close = xen_close,
	.guest_ram = NULL, /* a real guest's RAM is its kernel's business */
	.param_get = xen_param_get,
	.param_set = xen_param_set,

	.evtchn_open = xen_evtchn_open,
	.evtchn_close = xen_evtchn_close,
	.evtchn_fd = xen_evtchn_fd,
	.evtchn_alloc_unbound = xen_evtchn_alloc_unbound,
	.evtchn_bind_interdomain = xen_evtchn_bind_interdomain,
	.evtchn_bind_virq = xen_evtchn_bind_virq,
	.evtchn_unbind = xen_evtchn_unbind,
	.evtchn_notify = xen_evtchn_notify,
	.evtchn_pending = xen_evtchn_pending,
	.evtchn_unmask = xen_evtchn_unmask,
	.evtchn_state = xen_evtchn_state,

	.gnttab_open = xen_gnttab_open,
	.gnttab_close = xen_gnttab_close,
	.gnttab_map = xen_gnttab_map,
	.gnttab_unmap = xen_gnttab_unmap,
	.gnttab_copy = xen_gnttab_copy,

	.gntshr_open = xen_gntshr_open,
	.gntshr_close = xen_gntshr_close,
	.gntshr_share = xen_gntshr_share,
	.gntshr_unshare = xen_gntshr_unshare,
	.gntshr_grant_frame = NULL,
	.gntshr_end_access = NULL,

	.foreignmem_open = xen_foreignmem_open,
	.foreignmem_close = xen_foreignmem_close,
	.foreignmem_map = xen_foreignmem_map,
	.foreignmem_unmap = xen_foreignmem_unmap,
	.foreignmem_map_resource = xen_foreignmem_map_resource,
	.foreignmem_unmap_resource = xen_foreignmem_unmap_resource,

	.dm_open = xen_dm_open,
	.dm_close = xen_dm_close,
	.dm_create_ioreq_server = xen_dm_create_ioreq_server,
	.dm_get_ioreq_server_info = xen_dm_get_ioreq_server_info,
	.dm_map_io_range = xen_dm_map_io_range,
	.dm_unmap_io_range = xen_dm_unmap_io_range,
	.dm_set_ioreq_server_state = xen_dm_set_ioreq_server_state,
	.dm_destroy_ioreq_server = xen_dm_destroy_ioreq_server,
	.dm_set_isa_irq_level = xen_dm_set_isa_irq_level,
	.dm_set_pci_intx_level = xen_dm_set_pci_intx_level,

	.domains_open = xen_domains_open,
	.domains_close = xen_domains_close,
	.domains_list = xen_domains_list,
	.domains_info = xen_domains_info,
	.domains_fd = xen_domains_fd,
	.domains_next_event = xen_domains_next_event,
};
