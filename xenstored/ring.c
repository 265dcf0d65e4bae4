/*
 * ring.c - the per-domain ring transport of xenstored, over lib/hv.h.
 *
 * XS_INTRODUCE(domid, gfn, port) attaches a domain: its ring page (a
 * struct xenstore_domain_interface) is mapped by grant
 * (GNTTAB_RESERVED_XENSTORE, which the domain builder seeds with the
 * page at gfn; Xen 4.21's xenstored maps only that way), else, where the
 * hv layer has no grant mapping or the guest seeded no grant 1, by
 * foreign mapping of gfn; its store event channel is bound (the page's
 * evtchn_port field when non-zero, as Xen 4.21's xs_wire.h says, else
 * the INTRODUCE argument); a connection is made on the ring. On real
 * Xen, dom0's own ring (/proc/xen/xsd_kva and /proc/xen/xsd_port) is
 * served the same way. The hv layer's domain event stream drives
 * xs_domain_shut_down() and xs_domain_died() (both fire @releaseDomain;
 * only a death drops the domain).
 *
 * The page is guest memory. We keep our own copies of the indexes we own
 * (req_cons, rsp_prod) and only ever write those; the guest's indexes
 * (req_prod, rsp_cons) are read once per use and checked: an index more
 * than a ring away from ours is a corrupt ring. The bytes are copied into
 * the connection's private buffer (conn.c) before anything parses them.
 *
 * A corrupt ring or a protocol error quarantines that domain only: the
 * error field of its page says why (XENSTORE_ERROR_*), its connection stops
 * being served, its watches, transactions and queued bytes are dropped
 * (xenstore-ring.txt, "connection error feature"), and everybody else
 * goes on.
 *
 * Two ways a guest may restart the byte streams (ring_sync()):
 * - RECONNECTION, which we advertise (C xenstored does not): the guest
 *   sets connection = XENSTORE_RECONNECT and notifies; we drop the
 *   stream, the watches and the transactions, zero the indexes, clear the
 *   error and quarantine, and set connection = XENSTORE_CONNECTED.
 * - A reset behind our back: Xen's hvmloader, when the server does not
 *   offer RECONNECTION, zeroes all four indexes (and overwrites the data)
 *   when it hands over to the OS. The indexes that are ours then read back
 *   as 0 instead of our copies: a fresh ring, served from 0; the partial
 *   stream is dropped, the watches and nodes stay (C xenstored, which
 *   reads every index from the page, carries on the same way). Ours
 *   rewritten to anything else is a corrupt ring.
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
#include "xs-wire-compat.h"
#include "xenstored/ring.h"
#include "xenstored/conn.h"
#include "xenstored/domain.h"
#include "xenstored/xenstored.h"

enum map_kind {
	MAP_GRANT,
	MAP_FOREIGN,
	MAP_KVA
};

/* What every ring is offered (xenstore-ring.txt's feature bitmap) on top
 * of the domain's own server features (GET/SET_FEATURE): reconnection is
 * the ring transport's. */
#define RING_FEATURES XENSTORE_SERVER_FEATURE_RECONNECTION

struct ring_conn {
	struct xs_ring *r;
	struct xs_conn *c;
	uint32_t domid;
	uint32_t features; /* what the page's server_features says */
	struct xenstore_domain_interface *intf;
	enum map_kind kind;
	evtchn_port_t port;                   /* our local port */
	XENSTORE_RING_IDX req_cons, rsp_prod; /* ours, only compared back */
	bool broken;
	bool resync; /* the guest rewrote req_cons or rsp_prod: ring_sync() */
	bool moved;  /* bytes consumed or produced since the last notify */
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
static struct log_ratelimit reset_rl = LOG_RATELIMIT_INIT(5000, 20);

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

/*
 * ours_moved - do the indexes only we write still read back as our copies?
 * When not, flag it and move nothing: ring_sync() sorts it out between
 * passes, where the connection's queues may be changed.
 */
static bool ours_moved(struct ring_conn *rc)
{
	if (!rc->resync &&
	    __atomic_load_n(&rc->intf->req_cons, __ATOMIC_ACQUIRE) ==
		    rc->req_cons &&
	    __atomic_load_n(&rc->intf->rsp_prod, __ATOMIC_ACQUIRE) ==
		    rc->rsp_prod)
		return false;
	rc->resync = true;
	return true;
}

static ssize_t ring_read(struct xs_conn *c, void *buf, size_t len)
{
	struct ring_conn *rc = c->priv;
	XENSTORE_RING_IDX prod;
	uint32_t avail, n, done = 0;

	if (rc->broken || ours_moved(rc))
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

	if (ours_moved(rc))
		return 0;
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

/* zero_indexes - both queues empty, from 0, on our side and the page's. */
static void zero_indexes(struct ring_conn *rc)
{
	struct xenstore_domain_interface *intf = rc->intf;

	rc->req_cons = 0;
	rc->rsp_prod = 0;
	__atomic_store_n(&intf->req_cons, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&intf->req_prod, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&intf->rsp_cons, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&intf->rsp_prod, 0, __ATOMIC_RELAXED);
}

/*
 * reconnect - the guest asked for a fresh connection (xenstore-ring.txt,
 * "The ring reconnection feature"): everything of the connection goes
 * but the domain's nodes; a quarantined ring is served again.
 */
static void reconnect(struct ring_conn *rc)
{
	struct xenstore_domain_interface *intf = rc->intf;

	xs_conn_drop_stream(rc->c, false);
	xs_conn_drop_session(rc->c);
	zero_indexes(rc);
	rc->resync = false;
	rc->broken = false;
	__atomic_store_n(&intf->error, XENSTORE_ERROR_NONE, __ATOMIC_RELAXED);
	/* The guest ignores every other field until it sees CONNECTED: the
	 * indexes and the error are in place before it does. */
	__atomic_store_n(&intf->connection, XENSTORE_CONNECTED,
			 __ATOMIC_RELEASE);
	rc->moved = true; /* notified at the end of this service() */
	LOG_RATELIMITED(&reset_rl, LOG_INFO, (int)rc->domid, "xenstore",
			"ring reconnected at the guest's request (watches and "
			"transactions dropped)");
}

/*
 * resync - the guest rewrote req_cons or rsp_prod, which only we write.
 *
 * Worked example (hvmloader): it read its last reply; we had req_cons =
 * 300, rsp_prod = 420. It zeroes the four indexes, fills the data with
 * 0xff and hands over; the OS's xenbus writes a 40-byte request and
 * notifies. We read req_cons = 0, req_prod = 40, rsp_cons = 0, rsp_prod
 * = 0: a fresh ring whose first request is at req[0]. Had it left
 * rsp_cons = 420 (or req_cons = 7), the ring would be corrupt.
 */
static void resync(struct ring_conn *rc)
{
	struct xenstore_domain_interface *intf = rc->intf;
	XENSTORE_RING_IDX req_cons, req_prod, rsp_cons, rsp_prod;

	req_cons = __atomic_load_n(&intf->req_cons, __ATOMIC_ACQUIRE);
	rsp_cons = __atomic_load_n(&intf->rsp_cons, __ATOMIC_ACQUIRE);
	rsp_prod = __atomic_load_n(&intf->rsp_prod, __ATOMIC_ACQUIRE);
	req_prod = __atomic_load_n(&intf->req_prod, __ATOMIC_ACQUIRE);
	rc->resync = false;
	if (req_cons != 0 || rsp_cons != 0 || rsp_prod != 0 ||
	    req_prod > XENSTORE_RING_SIZE) {
		quarantine(rc, XENSTORE_ERROR_RINGIDX,
			   "server index rewritten by the guest");
		return;
	}
	LOG_RATELIMITED(&reset_rl, LOG_INFO, (int)rc->domid, "xenstore",
			"ring reset by the guest (indexes zeroed at %u/%u, as "
			"hvmloader does): served from 0",
			rc->req_cons, rc->rsp_prod);
	/* Replies to the old reader go; events of the kept watches stay. */
	xs_conn_drop_stream(rc->c, true);
	rc->req_cons = 0;
	rc->rsp_prod = 0;
	/* Features are never withdrawn: a guest that zeroed the whole page
	 * sees them again. */
	__atomic_store_n(&intf->server_features, rc->features, __ATOMIC_RELAXED);
}

/*
 * ring_sync - before a pass: a reconnection asked for, a reset done
 * behind our back, or a quarantine. False when the ring is not served.
 */
static bool ring_sync(struct ring_conn *rc)
{
	if (__atomic_load_n(&rc->intf->connection, __ATOMIC_ACQUIRE) ==
		    XENSTORE_RECONNECT &&
	    !rc->c->closing)
		reconnect(rc);
	if (!rc->broken && ours_moved(rc))
		resync(rc);
	return !rc->broken;
}

/* The ring's error field for a failed pass. */
static uint32_t error_of(int err)
{
	return err == -EPROTO || err == -E2BIG ? XENSTORE_ERROR_PROTO
					       : XENSTORE_ERROR_COMM;
}

/* service - run input and output until neither moves, then notify. */
static void service(struct ring_conn *rc)
{
	struct xs_conn *c = rc->c;
	unsigned int passes = 0;
	int err = 0;

	while (ring_sync(rc) && !c->overflow) {
		if (++passes > 64) {
			/* a guest that keeps writing: others get a turn */
			ring_kick(c);
			break;
		}
		err = xs_conn_input(c);
		if (!err)
			err = xs_conn_flush(c);
		if (err || c->closing)
			break;
		if (!rc->resync && !ring_more(rc))
			break;
	}
	if (c->overflow && !rc->broken)
		quarantine(rc, XENSTORE_ERROR_COMM,
			   "watch events past the output quota, not read");
	if (err && !rc->broken)
		quarantine(rc, error_of(err), strerror(-err));
	if (rc->broken && !c->closing) {
		/* Nothing more is served: nothing more is kept for it. */
		xs_conn_drop_stream(c, false);
		xs_conn_drop_session(c);
	}
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
				  bool privileged, uint32_t features)
{
	struct ring_conn *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return NULL;
	rc->r = r;
	rc->domid = domid;
	rc->intf = page;
	rc->kind = kind;
	rc->port = port;
	rc->features = RING_FEATURES | features;
	/* Resume where the ring is (a restart of ours, or a fresh page). */
	rc->req_cons = __atomic_load_n(&rc->intf->req_cons, __ATOMIC_ACQUIRE);
	rc->rsp_prod = __atomic_load_n(&rc->intf->rsp_prod, __ATOMIC_ACQUIRE);
	/* Offered before a byte is consumed or produced (RECONNECTION). */
	__atomic_store_n(&rc->intf->server_features, rc->features,
			 __ATOMIC_RELEASE);
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
	uint32_t page_port;
	int port, err;

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
	/* Xen 4.21 (xs_wire.h): the page's evtchn_port, filled in by Xen
	 * for dom0less domains, is the guest's port when non-zero, over the
	 * INTRODUCE argument. Read once; recorded as the domain's port. */
	page_port = __atomic_load_n(splitdrv_xs_ring_evtchn_port(page),
				    __ATOMIC_ACQUIRE);
	if (page_port && page_port != d->port) {
		log_info_dev((int)d->domid, "xenstore",
			     "event channel %u from the ring page (the "
			     "introduction said %u)",
			     page_port, d->port);
		d->port = page_port;
	}
	port = hv_evtchn_bind_interdomain(r->evt, (domid_t)d->domid, d->port);
	if (port < 0) {
		struct ring_conn tmp = { .r = r, .intf = page, .kind = kind };

		log_errno_dev(LOG_WARNING, port, (int)d->domid, "xenstore",
			      "cannot bind event channel %u", d->port);
		unmap(r, &tmp);
		return port;
	}
	rc = ring_new(r, d->domid, page, kind, (evtchn_port_t)port, false,
		      d->features);
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
	/* Requests may be waiting already (a restart of ours); after a live
	 * update, once lu.c put back what was read before (it kicks us). */
	if (!st->restoring)
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
	rc = ring_new(r, 0, page, MAP_KVA, (evtchn_port_t)port, true,
		      XS_SERVER_FEATURES);
	if (!rc) {
		err = -errno;
		hv_evtchn_unbind(r->evt, (evtchn_port_t)port);
		munmap(page, HV_PAGE_SIZE);
		return err;
	}
	r->dom0 = rc;
	log_info("serving dom0's own ring (kernel port %lu)", kport);
	if (!r->st->restoring) /* else lu.c kicks it */
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
