/*
 * loop-ports.c - event channels of the loopback hypervisor, server side.
 *
 * Each domain has a table of HV_EVTCHN_MAX_PORTS ports (port 0 is never
 * used, as on Xen). A port belongs to one evtchn handle of its domain.
 * loophvd only binds and unbinds; delivery is done by the clients
 * themselves through the handle pages (see loophv/proto.h):
 *
 *   notify(port P of A, peer port Q of handle H):
 *     old = atomic_fetch_or(H.pending[Q / 64], bit)   -- by the notifier
 *     if !(old & bit) && !(H.mask[Q / 64] & bit): write(H.eventfd, 1)
 *
 * Here we keep the state bytes of page 1 right, and when a port's peer goes
 * away (unbind, handle closed, domain died) we mark the survivor
 * HV_EVTCHN_PEER_CLOSED and raise it, so that its owner wakes up and sees.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "loophv/loophvd.h"

#define PAGE_BYTES (LH_EVT_PAGES * HV_PAGE_SIZE)

static uint64_t *pending_words(struct lh_evt_handle *h)
{
	return (uint64_t *)(h->page + LH_EVT_PENDING_OFF);
}

static uint64_t *mask_words(struct lh_evt_handle *h)
{
	return (uint64_t *)(h->page + LH_EVT_MASK_OFF);
}

static void set_state(struct lh_port *p, uint32_t port, uint8_t st)
{
	p->state = st;
	if (p->owner)
		__atomic_store_n(p->owner->page + LH_EVT_STATE_OFF + port, st,
				 __ATOMIC_RELEASE);
}

/* raise - what a notify does, done by loophvd on the owner's behalf. */
static void raise_port(struct lh_evt_handle *h, uint32_t port)
{
	uint64_t bit = 1ULL << (port % 64);
	uint64_t old, one = 1;

	/* seq_cst pairs with the owner's unmask (clear mask, then test
	 * pending): one of the two sides always sees the other. */
	old = __atomic_fetch_or(&pending_words(h)[port / 64], bit,
				__ATOMIC_SEQ_CST);
	if (old & bit)
		return;
	if (__atomic_load_n(&mask_words(h)[port / 64], __ATOMIC_SEQ_CST) & bit)
		return;
	if (write(h->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("evtchn: eventfd write for handle %llu",
			 (unsigned long long)h->uid);
}

struct lh_evt_handle *lh_evt_open(struct lh_server *s, struct lh_conn *c)
{
	struct lh_evt_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->memfd = memfd_create("loophv-evtchn", MFD_CLOEXEC);
	if (h->efd < 0 || h->memfd < 0 || ftruncate(h->memfd, PAGE_BYTES) < 0)
		goto fail;
	h->page = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		       h->memfd, 0);
	if (h->page == MAP_FAILED) {
		h->page = NULL;
		goto fail;
	}
	h->id = c->next_handle_id++;
	h->uid = ++s->next_handle_uid;
	h->conn = c;
	h->dom = c->dom;
	LIST_INSERT_HEAD(&c->handles, h, conn_link);
	return h;
fail:
	{
		int e = errno;

		if (h->efd >= 0)
			close(h->efd);
		if (h->memfd >= 0)
			close(h->memfd);
		free(h);
		errno = e;
	}
	return NULL;
}

struct lh_evt_handle *lh_evt_find(struct lh_conn *c, int32_t id)
{
	struct lh_evt_handle *h;

	LIST_FOREACH(h, &c->handles, conn_link)
		if (h->id == id)
			return h;
	return NULL;
}

static int alloc_port(struct lh_domain *d)
{
	for (uint32_t p = 1; p < HV_EVTCHN_MAX_PORTS; p++)
		if (d->ports[p].state == HV_EVTCHN_FREE && !d->ports[p].owner)
			return (int)p;
	return -ENOSPC;
}

int lh_evt_alloc_unbound(struct lh_server *s, struct lh_evt_handle *h,
			 domid_t remote)
{
	struct lh_domain *d = h->dom;
	int port;

	if (remote != 0 && remote != d->domid && !lh_domain_find(s, remote))
		return -ESRCH;
	port = alloc_port(d);
	if (port < 0)
		return port;
	d->ports[port].owner = h;
	d->ports[port].remote_domid = remote;
	d->ports[port].remote_port = 0;
	set_state(&d->ports[port], port, HV_EVTCHN_UNBOUND);
	h->nports++;
	return port;
}

int lh_evt_bind(struct lh_server *s, struct lh_evt_handle *h, domid_t rdom,
		uint32_t rport)
{
	struct lh_domain *d = h->dom, *rd;
	struct lh_port *rp;
	int port;

	rd = rdom == 0 ? s->dom0 : lh_domain_find(s, rdom);
	if (!rd || rd->dying)
		return -ESRCH;
	if (rport == 0 || rport >= HV_EVTCHN_MAX_PORTS)
		return -EINVAL;
	rp = &rd->ports[rport];
	if (rp->state != HV_EVTCHN_UNBOUND)
		return -EINVAL;
	if (rp->remote_domid != d->domid)
		return -EPERM; /* offered to somebody else */
	port = alloc_port(d);
	if (port < 0)
		return port;
	d->ports[port].owner = h;
	d->ports[port].remote_domid = rd->domid;
	d->ports[port].remote_port = rport;
	set_state(&d->ports[port], port, HV_EVTCHN_INTERDOMAIN);
	rp->remote_port = (uint32_t)port;
	set_state(rp, rport, HV_EVTCHN_INTERDOMAIN);
	h->nports++;
	return port;
}

/* peer_of - the port at the other end of an interdomain port, or NULL. */
static struct lh_port *peer_of(struct lh_server *s, struct lh_domain *d,
			       uint32_t port, struct lh_domain **rdp)
{
	struct lh_port *p = &d->ports[port];
	struct lh_domain *rd;
	struct lh_port *rp;

	if (p->state != HV_EVTCHN_INTERDOMAIN)
		return NULL;
	rd = p->remote_domid == 0 ? s->dom0 : lh_domain_find(s, p->remote_domid);
	if (!rd || p->remote_port >= HV_EVTCHN_MAX_PORTS)
		return NULL;
	rp = &rd->ports[p->remote_port];
	if (rp->state != HV_EVTCHN_INTERDOMAIN || rp->remote_domid != d->domid ||
	    rp->remote_port != port)
		return NULL;
	*rdp = rd;
	return rp;
}

static void close_port(struct lh_server *s, struct lh_domain *d, uint32_t port)
{
	struct lh_port *p = &d->ports[port], *rp;
	struct lh_domain *rd;

	rp = peer_of(s, d, port, &rd);
	if (rp) {
		/* The survivor learns it from its state byte and an event. */
		set_state(rp, p->remote_port, HV_EVTCHN_PEER_CLOSED);
		if (rp->owner)
			raise_port(rp->owner, p->remote_port);
	}
	if (p->owner) {
		/* Clear what the port left behind so a reuse starts clean. */
		uint64_t bit = 1ULL << (port % 64);

		__atomic_fetch_and(&pending_words(p->owner)[port / 64], ~bit,
				   __ATOMIC_SEQ_CST);
		__atomic_fetch_and(&mask_words(p->owner)[port / 64], ~bit,
				   __ATOMIC_SEQ_CST);
		set_state(p, port, HV_EVTCHN_FREE);
		p->owner->nports--;
	}
	memset(p, 0, sizeof(*p));
}

int lh_evt_unbind(struct lh_server *s, struct lh_evt_handle *h, uint32_t port)
{
	struct lh_domain *d = h->dom;

	if (port == 0 || port >= HV_EVTCHN_MAX_PORTS ||
	    d->ports[port].owner != h)
		return -EINVAL;
	close_port(s, d, port);
	return 0;
}

struct lh_evt_handle *lh_evt_peer(struct lh_server *s,
				  struct lh_evt_handle *h, uint32_t port,
				  struct lh_peer *out, int *err)
{
	struct lh_domain *d = h->dom, *rd;
	struct lh_port *rp;

	if (port == 0 || port >= HV_EVTCHN_MAX_PORTS ||
	    d->ports[port].owner != h) {
		*err = -EINVAL;
		return NULL;
	}
	if (d->ports[port].state == HV_EVTCHN_PEER_CLOSED) {
		*err = -ENOTCONN;
		return NULL;
	}
	rp = peer_of(s, d, port, &rd);
	if (!rp || !rp->owner) {
		*err = -ENOTCONN;
		return NULL;
	}
	memset(out, 0, sizeof(*out));
	out->peer_handle_uid = rp->owner->uid;
	out->peer_domid = rd->domid;
	out->peer_port = d->ports[port].remote_port;
	return rp->owner;
}

void lh_evt_close(struct lh_server *s, struct lh_evt_handle *h)
{
	struct lh_domain *d = h->dom;

	for (uint32_t p = 1; p < HV_EVTCHN_MAX_PORTS && h->nports; p++)
		if (d->ports[p].owner == h)
			close_port(s, d, p);
	LIST_REMOVE(h, conn_link);
	munmap(h->page, PAGE_BYTES);
	close(h->efd);
	close(h->memfd);
	free(h);
}
