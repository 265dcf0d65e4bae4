/*
 * ring.c - the per-domain ring transport of xenstored, over lib/hv.h.
 *
 * XS_INTRODUCE(domid, gfn, port) attaches a domain: its ring page (a
 * struct xenstore_domain_interface) is mapped by grant
 * (GNTTAB_RESERVED_XENSTORE, as the domain builder seeds it), else by
 * foreign mapping of gfn; its store event channel is bound; a connection
 * is made on the ring. On real Xen, dom0's own ring (/proc/xen/xsd_kva and
 * /proc/xen/xsd_port) is served the same way. The hv layer's domain event
 * stream drives xs_domain_shut_down() and xs_domain_died() (both fire
 * @releaseDomain; only a death drops the domain).
 *
 * The page is guest memory. We keep our own copies of the indexes we own
 * (req_cons, rsp_prod) and only ever write those; the guest's indexes
 * (req_prod, rsp_cons) are read once per use and checked: an index more
 * than a ring away from ours is a corrupt ring. The bytes are copied into
 * the connection's private buffer (conn.c) before anything parses them.
 *
 * A corrupt ring or a protocol error quarantines that domain only: the
 * error field of its page says why (XENSTORE_ERROR_*), its connection stops
 * being served, and everybody else goes on.
 *
 * Worked example of the index check: req_cons (ours) = 5000, the guest
 * writes req_prod = 4000. prod - cons wraps to 4294966296 > 1024: corrupt,
 * quarantined with XENSTORE_ERROR_RINGIDX. With req_prod = 5100 there are
 * 100 bytes at req[5000 % 1024 = 904 ... 1003].
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "evtchn/mux.h"
#include "log.h"
#include "xenstored/ring.h"
#include "xenstored/conn.h"
#include "xenstored/domain.h"
#include "xenstored/xenstored.h"

enum map_kind {
	MAP_GRANT,
	MAP_FOREIGN,
	MAP_KVA
};

struct ring_conn {
	struct xs_ring *r;
	struct xs_conn *c;
	uint32_t domid;
	struct xenstore_domain_interface *intf;
	enum map_kind kind;
	evtchn_port_t port;                   /* our local port */
	XENSTORE_RING_IDX req_cons, rsp_prod; /* ours, never read back */
	bool broken;
	bool moved; /* bytes consumed or produced since the last notify */
	struct event *kick_ev;
};

struct xs_ring {
	struct xs_store *st;
	struct event_base *base;
	struct hv *hv;
	struct hv_evtchn *evt;
	struct evtchn_mux *mux;
	struct hv_gnttab *gt;
	struct hv_foreignmem *fm;
	struct hv_domains *doms;
	struct event *dom_ev;
	struct ring_conn *dom0;
	uint64_t quarantined;
};

static struct log_ratelimit ring_rl = LOG_RATELIMIT_INIT(5000, 20);

static void quarantine(struct ring_conn *rc, uint32_t why, const char *what)
{
	if (rc->broken)
		return;
	rc->broken = true;
	rc->r->quarantined++;
	__atomic_store_n(&rc->intf->error, why, __ATOMIC_RELEASE);
	LOG_RATELIMITED(&ring_rl, LOG_WARNING, (int)rc->domid, "xenstore",
			"%s: ring quarantined (buggy or malicious guest)", what);
	hv_evtchn_notify(rc->r->evt, rc->port);
}

static ssize_t ring_read(struct xs_conn *c, void *buf, size_t len)
{
	struct ring_conn *rc = c->priv;
	XENSTORE_RING_IDX prod;
	uint32_t avail, n, done = 0;

	if (rc->broken)
		return 0;
	prod = __atomic_load_n(&rc->intf->req_prod, __ATOMIC_ACQUIRE);
	avail = prod - rc->req_cons;
	if (avail > XENSTORE_RING_SIZE) {
		quarantine(rc, XENSTORE_ERROR_RINGIDX, "request producer index");
		return 0;
	}
	n = avail < len ? avail : (uint32_t)len;
	while (done < n) {
		uint32_t off = MASK_XENSTORE_IDX(rc->req_cons + done);
		uint32_t chunk = XENSTORE_RING_SIZE - off;

		if (chunk > n - done)
			chunk = n - done;
		memcpy((char *)buf + done, rc->intf->req + off, chunk);
		done += chunk;
	}
	if (n) {
		rc->req_cons += n;
		/* The bytes are copied before the guest may reuse them. */
		__atomic_store_n(&rc->intf->req_cons, rc->req_cons,
				 __ATOMIC_RELEASE);
		rc->moved = true;
	}
	return n;
}

static uint32_t rsp_room(struct ring_conn *rc)
{
	XENSTORE_RING_IDX cons;
	uint32_t used;

	cons = __atomic_load_n(&rc->intf->rsp_cons, __ATOMIC_ACQUIRE);
	used = rc->rsp_prod - cons;
	if (used > XENSTORE_RING_SIZE) {
		quarantine(rc, XENSTORE_ERROR_RINGIDX, "reply consumer index");
		return 0;
	}
	return XENSTORE_RING_SIZE - used;
}

static ssize_t ring_write(struct xs_conn *c, const void *buf, size_t len)
{
	struct ring_conn *rc = c->priv;
	uint32_t room, n, done = 0;

	if (rc->broken)
		return 0;
	room = rsp_room(rc);
	n = room < len ? room : (uint32_t)len;
	while (done < n) {
		uint32_t off = MASK_XENSTORE_IDX(rc->rsp_prod + done);
		uint32_t chunk = XENSTORE_RING_SIZE - off;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(rc->intf->rsp + off, (const char *)buf + done, chunk);
		done += chunk;
	}
	if (n) {
		rc->rsp_prod += n;
		/* The bytes are in the ring before the index says so. */
		__atomic_store_n(&rc->intf->rsp_prod, rc->rsp_prod,
				 __ATOMIC_RELEASE);
		rc->moved = true;
	}
	return n;
}

static bool ring_can_write(struct xs_conn *c)
{
	struct ring_conn *rc = c->priv;

	return !rc->broken && rsp_room(rc) > 0;
}

static void ring_kick(struct xs_conn *c)
{
	struct ring_conn *rc = c->priv;

	event_active(rc->kick_ev, EV_WRITE, 0);
}

static void unmap(struct xs_ring *r, struct ring_conn *rc)
{
	if (!rc->intf)
		return;
	switch (rc->kind) {
	case MAP_GRANT:
		hv_gnttab_unmap(r->gt, rc->intf, 1);
		break;
	case MAP_FOREIGN:
		hv_foreignmem_unmap(r->fm, rc->intf, 1);
		break;
	case MAP_KVA:
		munmap(rc->intf, HV_PAGE_SIZE);
		break;
	}
	rc->intf = NULL;
}

static void ring_destroy(struct xs_conn *c)
{
	struct ring_conn *rc = c->priv;
	struct xs_ring *r = rc->r;

	evtchn_mux_remove(r->mux, rc->port);
	hv_evtchn_unbind(r->evt, rc->port);
	unmap(r, rc);
	event_free(rc->kick_ev);
	if (r->dom0 == rc)
		r->dom0 = NULL;
	free(rc);
}

static const struct xs_conn_ops ring_ops = {
	.read = ring_read,
	.write = ring_write,
	.can_write = ring_can_write,
	.kick = ring_kick,
	.destroy = ring_destroy,
};

/*
 * ring_more - after a pass: is there input we were not told about, or
 * output room we were not told about?
 *
 * Linux's xenbus writes a request in pieces (header, then payload) and
 * notifies after a piece only if it finds us caught up (its old req_prod
 * <= our req_cons); it reads replies and notifies only if it found the
 * reply ring full. So bytes it adds while we are still reading, or room it
 * makes while we are still writing, come with no event. Before we sleep we
 * look once more. The fence orders our req_cons / rsp_prod stores before
 * these loads, as Linux's mb orders its req_prod / rsp_cons stores before
 * its loads: one side always sees the other.
 *
 * Worked example: we read prod = 16 (a header) and, before our req_cons =
 * 16 is visible, the kernel writes 20 payload bytes, sees req_cons = 0 <
 * 16 and sends nothing. Here we load req_prod = 36 != 16: another pass.
 */
static bool ring_more(struct ring_conn *rc)
{
	struct xs_conn *c = rc->c;
	XENSTORE_RING_IDX prod;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	prod = __atomic_load_n(&rc->intf->req_prod, __ATOMIC_ACQUIRE);
	if ((c->roff < c->rlen || prod != rc->req_cons) && xs_conn_can_read(c))
		return true; /* buffered or new input, and we may read it */
	return !TAILQ_EMPTY(&c->out) && rsp_room(rc) > 0;
}

/* service - run input and output until neither moves, then notify. */
static void service(struct ring_conn *rc)
{
	struct xs_conn *c = rc->c;
	unsigned int passes = 0;
	int err = 0;

	while (!err && !rc->broken && !c->overflow) {
		if (++passes > 64) {
			/* a guest that keeps writing: others get a turn */
			ring_kick(c);
			break;
		}
		err = xs_conn_input(c);
		if (!err)
			err = xs_conn_flush(c);
		if (err || c->closing || !ring_more(rc))
			break;
	}
	if (c->overflow && !rc->broken)
		quarantine(rc, XENSTORE_ERROR_COMM,
			   "watch events past the output quota, not read");
	if (err && !rc->broken)
		quarantine(rc,
			   err == -E2BIG ? XENSTORE_ERROR_PROTO
					 : XENSTORE_ERROR_COMM,
			   strerror(-err));
	if (rc->moved) {
		rc->moved = false;
		hv_evtchn_notify(rc->r->evt, rc->port);
	}
	if (c->closing && TAILQ_EMPTY(&c->out) && !rc->broken &&
	    rc != rc->r->dom0) {
		/* Released while it was the current request: ours to free. */
		xs_conn_free(c);
	}
}

static void ring_on_event(evtchn_port_t port, void *arg)
{
	(void)port;
	service(arg);
}

static void ring_on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	service(arg);
}

/* ring_new - wrap an already mapped page and a bound port. */
static struct ring_conn *ring_new(struct xs_ring *r, uint32_t domid, void *page,
				  enum map_kind kind, evtchn_port_t port,
				  bool privileged)
{
	struct ring_conn *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return NULL;
	rc->r = r;
	rc->domid = domid;
	rc->intf = page;
	rc->kind = kind;
	rc->port = port;
	/* Resume where the ring is (a restart of ours, or a fresh page). */
	rc->req_cons = __atomic_load_n(&rc->intf->req_cons, __ATOMIC_ACQUIRE);
	rc->rsp_prod = __atomic_load_n(&rc->intf->rsp_prod, __ATOMIC_ACQUIRE);
	rc->intf->server_features = XENSTORE_SERVER_FEATURE_ERROR;
	rc->kick_ev = event_new(r->base, -1, 0, ring_on_kick, rc);
	rc->c = xs_conn_new(r->st, &ring_ops, rc, domid, privileged);
	if (!rc->kick_ev || !rc->c) {
		if (rc->kick_ev)
			event_free(rc->kick_ev);
		free(rc);
		errno = ENOMEM;
		return NULL;
	}
	if (evtchn_mux_add(r->mux, port, ring_on_event, rc) < 0) {
		xs_conn_free(rc->c); /* destroys rc, unbinds, unmaps */
		errno = EBUSY;
		return NULL;
	}
	return rc;
}

static int ring_attach(void *arg, struct xs_store *st, struct xs_domain *d)
{
	struct xs_ring *r = arg;
	struct ring_conn *rc;
	enum map_kind kind = MAP_GRANT;
	void *page = NULL;
	int port, err;

	(void)st;
	if (r->gt)
		page = hv_gnttab_map_one(r->gt, (domid_t)d->domid,
					 GNTTAB_RESERVED_XENSTORE, 0);
	if (!page && r->fm) {
		uint64_t gfn = d->mfn;

		kind = MAP_FOREIGN;
		page = hv_foreignmem_map(r->fm, (domid_t)d->domid,
					 PROT_READ | PROT_WRITE, 1, &gfn, NULL);
	}
	if (!page) {
		err = -errno;
		log_errno_dev(LOG_WARNING, err, (int)d->domid, "xenstore",
			      "cannot map the ring page (gfn %llu)",
			      (unsigned long long)d->mfn);
		return err;
	}
	port = hv_evtchn_bind_interdomain(r->evt, (domid_t)d->domid, d->port);
	if (port < 0) {
		struct ring_conn tmp = { .r = r, .intf = page, .kind = kind };

		log_errno_dev(LOG_WARNING, port, (int)d->domid, "xenstore",
			      "cannot bind event channel %u", d->port);
		unmap(r, &tmp);
		return port;
	}
	rc = ring_new(r, d->domid, page, kind, (evtchn_port_t)port, false);
	if (!rc) {
		struct ring_conn tmp = { .r = r, .intf = page, .kind = kind };

		err = -errno;
		hv_evtchn_unbind(r->evt, (evtchn_port_t)port);
		unmap(r, &tmp);
		return err;
	}
	d->conn = rc->c;
	log_info_dev((int)d->domid, "xenstore",
		     "ring attached (%s, local port %d)",
		     kind == MAP_GRANT ? "grant" : "foreign map", port);
	/* Requests may be waiting already (a restart of ours). */
	service(rc);
	return 0;
}

static void ring_detach(void *arg, struct xs_store *st, struct xs_domain *d)
{
	/* The connection (and with it the mapping and the port) is freed by
	 * the store right after this; nothing else to undo. */
	(void)arg;
	(void)st;
	(void)d;
}

/* The hv layer's domain events: a shutdown fires @releaseDomain and keeps
 * the domain (xl's monitor then destroys, restarts or resumes it); a death
 * drops the domain and its connection. */
static void on_domain_event(evutil_socket_t fd, short what, void *arg)
{
	struct xs_ring *r = arg;
	struct hv_domain_event ev;
	int rc;

	(void)fd;
	(void)what;
	while ((rc = hv_domains_next_event(r->doms, &ev)) == 0) {
		if (ev.kind == HV_DOMAIN_SHUTDOWN)
			xs_domain_shut_down(r->st, ev.domid,
					    ev.shutdown_reason); /* logs it */
		else if (ev.kind == HV_DOMAIN_DEAD)
			xs_domain_died(r->st, ev.domid); /* logs it */
	}
	if (rc == -EPIPE) {
		log_errx("the hypervisor connection is gone: no more domain "
			 "events (shutdown, death)");
		event_del(r->dom_ev);
	} else if (rc != -EAGAIN) {
		log_errno(LOG_WARNING, rc,
			  "reading domain events (retried on the next one)");
	}
}

/* read_int_file - a small decimal number from a /proc file. */
static int read_int_file(const char *path, unsigned long *out)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*out = strtoul(buf, NULL, 10);
	return 0;
}

int xs_ring_dom0(struct xs_ring *r)
{
	unsigned long kport = 0;
	void *page;
	int fd, port, err;
	struct ring_conn *rc;

	err = read_int_file("/proc/xen/xsd_port", &kport);
	if (err)
		return err;
	fd = open("/proc/xen/xsd_kva", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	page = mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    0);
	close(fd);
	if (page == MAP_FAILED)
		return -errno;
	port = hv_evtchn_bind_interdomain(r->evt, 0, (evtchn_port_t)kport);
	if (port < 0) {
		munmap(page, HV_PAGE_SIZE);
		return port;
	}
	rc = ring_new(r, 0, page, MAP_KVA, (evtchn_port_t)port, true);
	if (!rc) {
		err = -errno;
		hv_evtchn_unbind(r->evt, (evtchn_port_t)port);
		munmap(page, HV_PAGE_SIZE);
		return err;
	}
	r->dom0 = rc;
	log_info("serving dom0's own ring (kernel port %lu)", kport);
	service(rc);
	/* Wake dom0's kernel: its xenbus waits for a first event on
	 * xsd_port before it probes (C xenstored notifies here too). */
	hv_evtchn_notify(r->evt, (evtchn_port_t)port);
	return 0;
}

struct xs_ring *xs_ring_new(struct xs_store *st, struct event_base *base,
			    struct hv *hv)
{
	struct xs_ring *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->st = st;
	r->base = base;
	r->hv = hv;
	r->evt = hv_evtchn_open(hv);
	if (!r->evt)
		goto fail;
	r->mux = evtchn_mux_new(base, r->evt);
	if (!r->mux)
		goto fail;
	/* Either way of mapping may be missing; at least one is needed. */
	r->gt = hv_gnttab_open(hv);
	r->fm = hv_foreignmem_open(hv);
	if (!r->gt && !r->fm)
		goto fail;
	r->doms = hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ);
	if (!r->doms)
		goto fail;
	r->dom_ev = event_new(base, hv_domains_fd(r->doms),
			      EV_READ | EV_PERSIST, on_domain_event, r);
	if (!r->dom_ev || event_add(r->dom_ev, NULL) < 0)
		goto fail;
	st->ring.attach = ring_attach;
	st->ring.detach = ring_detach;
	st->ring.arg = r;
	return r;
fail : {
	int e = errno ? errno : ENOMEM;

	xs_ring_free(r);
	errno = e;
}
	return NULL;
}

void xs_ring_free(struct xs_ring *r)
{
	if (!r)
		return;
	if (r->st && r->st->ring.arg == r)
		memset(&r->st->ring, 0, sizeof(r->st->ring));
	if (r->dom0)
		xs_conn_free(r->dom0->c);
	if (r->dom_ev)
		event_free(r->dom_ev);
	hv_domains_close(r->doms);
	hv_gnttab_close(r->gt);
	hv_foreignmem_close(r->fm);
	evtchn_mux_free(r->mux);
	hv_evtchn_close(r->evt);
	free(r);
}

uint64_t xs_ring_quarantined(const struct xs_ring *r)
{
	return r->quarantined;
}
