/*
 * evtchn.c - loophvd's event channels (the hypervisor's side): the port
 * table, bind and unbind.
 *
 * Each domain has a table of HV_EVTCHN_MAX_PORTS ports (port 0 is never
 * used, as on Xen). A port belongs to one evtchn handle of its domain.
 * loophvd only binds and unbinds; delivery is done by the clients
 * themselves through each channel's bell page (see lib/loophv-proto.h):
 *
 *   notify(port P of A, peer port Q = end X of channel C):
 *     old = atomic_fetch_or(&C.bell->end[X].pending, 1) -- by the notifier
 *     if !old && !C.bell->end[X].mask: write(C.efd[X], 1)
 *
 * C.efd[X] sits in the epoll fd of Q's handle (EPOLLET, data = Q), put
 * there by us at bind time and taken out when Q closes. Nothing of one
 * channel is reachable through another, so a guest can only touch the
 * channels it is an end of.
 *
 * Here we keep the state bytes of each handle's page right, and when a
 * port's peer goes away (unbind, handle closed, domain died) we mark the
 * survivor HV_EVTCHN_PEER_CLOSED and raise it, so that its owner wakes up
 * and sees.
 *
 * Every memfd we hand out is sealed against resizing first (LH_SEALS), so
 * that no holder can ftruncate it under our mapping or another holder's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "loophv/loophvd.h"

#define PAGE_BYTES (LH_EVT_PAGES * HV_PAGE_SIZE)


static void set_state(struct lh_port *p, uint32_t port, uint8_t st)
{
	p->state = st;
	if (p->owner)
		__atomic_store_n(p->owner->page + LH_EVT_STATE_OFF + port, st,
				 __ATOMIC_RELEASE);
}

/* raise - what a notify of end e (port of domid) does, done by loophvd. */
static void raise_end(struct lh_chan *ch, unsigned int e, domid_t domid,
		      uint32_t port)
{
	struct lh_bell_end *be = &ch->bell->end[e];
	uint64_t one = 1;

	/* seq_cst pairs with the owner's unmask (clear mask, then test
	 * pending): one of the two sides always sees the other. */
	if (__atomic_fetch_or(&be->pending, 1, __ATOMIC_SEQ_CST) & 1)
		return;
	if (__atomic_load_n(&be->mask, __ATOMIC_SEQ_CST) & 1)
		return;
	if (write(ch->efd[e], &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("evtchn: telling d%u port %u that its peer closed: "
			 "doorbell write",
			 domid, port);
}

struct lh_evt_handle *lh_evt_open(struct lh_server *s, struct lh_conn *c)
{
	struct lh_evt_handle *h = calloc(1, sizeof(*h));
	int extra = 0;
	void *map = NULL;

	if (!h)
		return NULL;
#ifdef F_SEAL_FUTURE_WRITE
	extra = F_SEAL_FUTURE_WRITE; /* the state page is ours to write */
#endif
	h->memfd = -1;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0)
		goto fail;
	h->memfd =
		lh_sealed_memfd("loophv-evtchn-state", PAGE_BYTES, extra, &map);
	if (h->memfd < 0)
		goto fail;
	h->page = map;
	h->id = c->next_handle_id++;
	h->conn = c;
	h->dom = c->dom;
	LIST_INSERT_HEAD(&c->handles, h, conn_link);
	return h;
fail : {
	int e = errno;

	if (h->epfd >= 0)
		close(h->epfd);
	if (h->memfd >= 0) {
		munmap(map, PAGE_BYTES);
		close(h->memfd);
	}
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

static void chan_free(struct lh_chan *ch)
{
	for (int e = 0; e < 2; e++)
		if (ch->efd[e] >= 0)
			close(ch->efd[e]);
	if (ch->bell)
		munmap(ch->bell, LH_BELL_BYTES);
	if (ch->memfd >= 0)
		close(ch->memfd);
	free(ch);
}

/* chan_new - the bell page and doorbells of a channel between port p0 of
 * h0 (end 0) and port p1 of h1 (end 1), each doorbell registered in its
 * end's epoll fd. */
static struct lh_chan *chan_new(struct lh_evt_handle *h0, uint32_t p0,
				struct lh_evt_handle *h1, uint32_t p1)
{
	struct lh_chan *ch = calloc(1, sizeof(*ch));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	void *map;
	int e;

	if (!ch)
		return NULL;
	ch->efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ch->efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ch->memfd =
		lh_sealed_memfd("loophv-evtchn-bell", LH_BELL_BYTES, 0, &map);
	ch->bell = map;
	if (ch->efd[0] < 0 || ch->efd[1] < 0 || ch->memfd < 0)
		goto fail;
	ev.data.u64 = p0;
	if (epoll_ctl(h0->epfd, EPOLL_CTL_ADD, ch->efd[0], &ev) < 0)
		goto fail;
	ev.data.u64 = p1;
	if (epoll_ctl(h1->epfd, EPOLL_CTL_ADD, ch->efd[1], &ev) < 0) {
		e = errno;
		epoll_ctl(h0->epfd, EPOLL_CTL_DEL, ch->efd[0], NULL);
		errno = e;
		goto fail;
	}
	ch->live = 3;
	return ch;
fail:
	e = errno;
	chan_free(ch);
	errno = e;
	return NULL;
}

/* chan_drop - end e's port is closing: its doorbell leaves its handle's
 * epoll fd (so that a holder of the doorbell wakes nobody any more); the
 * channel goes with its last end. */
static void chan_drop(struct lh_chan *ch, unsigned int e,
		      struct lh_evt_handle *h)
{
	if (h)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, ch->efd[e], NULL);
	ch->live &= ~(1u << e);
	if (!ch->live)
		chan_free(ch);
}

/*
 * rebind - bind again a port whose peer (of domain d) closed: as on Xen,
 * where the survivor of a closed interdomain channel is unbound again for
 * the closer's domain (a restarted xenstored binds each guest's store
 * port anew). The survivor keeps its channel (its owner has the bell and
 * doorbell already); the binder takes the free end, unmasked, and wakes
 * at once if the survivor notified meanwhile.
 */
static int rebind(struct lh_evt_handle *h, struct lh_domain *rd, uint32_t rport)
{
	struct lh_domain *d = h->dom;
	struct lh_port *rp = &rd->ports[rport];
	struct lh_chan *ch = rp->chan;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	unsigned int e = !rp->end;
	uint64_t one = 1;
	int port;

	if (ch->live & (1u << e))
		return -EINVAL; /* still held: not ours to take */
	port = alloc_port(d);
	if (port < 0)
		return port;
	__atomic_store_n(&ch->bell->end[e].mask, 0, __ATOMIC_SEQ_CST);
	ev.data.u64 = (uint32_t)port;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, ch->efd[e], &ev) < 0)
		return -errno;
	ch->live |= 1u << e;
	if (__atomic_load_n(&ch->bell->end[e].pending, __ATOMIC_SEQ_CST) & 1)
		(void)!write(ch->efd[e], &one, sizeof(one));
	d->ports[port].owner = h;
	d->ports[port].remote_domid = rd->domid;
	d->ports[port].remote_port = rport;
	d->ports[port].chan = ch;
	d->ports[port].end = (uint8_t)e;
	set_state(&d->ports[port], (uint32_t)port, HV_EVTCHN_INTERDOMAIN);
	rp->remote_port = (uint32_t)port;
	set_state(rp, rport, HV_EVTCHN_INTERDOMAIN);
	h->nports++;
	return port;
}

int lh_evt_bind(struct lh_server *s, struct lh_evt_handle *h, domid_t rdom,
		uint32_t rport)
{
	struct lh_domain *d = h->dom, *rd;
	struct lh_port *rp;
	struct lh_chan *ch;
	int port;

	rd = rdom == 0 ? s->dom0 : lh_domain_find(s, rdom);
	if (!rd || rd->dying)
		return -ESRCH;
	if (rport == 0 || rport >= HV_EVTCHN_MAX_PORTS)
		return -EINVAL;
	rp = &rd->ports[rport];
	if (rp->state == HV_EVTCHN_PEER_CLOSED && rp->chan && rp->owner &&
	    rp->remote_domid == d->domid)
		return rebind(h, rd, rport);
	if (rp->state != HV_EVTCHN_UNBOUND)
		return -EINVAL;
	if (rp->remote_domid != d->domid)
		return -EPERM; /* offered to somebody else */
	if (!rp->owner)
		return -EINVAL;
	port = alloc_port(d);
	if (port < 0)
		return port;
	ch = chan_new(rp->owner, rport, h, (uint32_t)port);
	if (!ch) {
		log_warn("evtchn: a channel for d%u port %u", d->domid, port);
		return -ENOMEM;
	}
	d->ports[port].owner = h;
	d->ports[port].remote_domid = rd->domid;
	d->ports[port].remote_port = rport;
	d->ports[port].chan = ch;
	d->ports[port].end = 1;
	set_state(&d->ports[port], port, HV_EVTCHN_INTERDOMAIN);
	rp->remote_port = (uint32_t)port;
	rp->chan = ch;
	rp->end = 0;
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
	if (rp->state != HV_EVTCHN_INTERDOMAIN ||
	    rp->remote_domid != d->domid || rp->remote_port != port)
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
		if (rp->chan)
			raise_end(rp->chan, rp->end, rd->domid, p->remote_port);
	}
	if (p->chan)
		chan_drop(p->chan, p->end, p->owner);
	if (p->owner) {
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

struct lh_chan *lh_evt_peer(struct lh_server *s, struct lh_evt_handle *h,
			    uint32_t port, struct lh_peer *out, int *err)
{
	struct lh_domain *d = h->dom;
	struct lh_port *p;

	(void)s;
	if (port == 0 || port >= HV_EVTCHN_MAX_PORTS ||
	    d->ports[port].owner != h) {
		*err = -EINVAL;
		return NULL;
	}
	p = &d->ports[port];
	if (!p->chan || (p->state != HV_EVTCHN_INTERDOMAIN &&
			 p->state != HV_EVTCHN_PEER_CLOSED)) {
		*err = -ENOTCONN;
		return NULL;
	}
	memset(out, 0, sizeof(*out));
	out->peer_domid = p->remote_domid;
	out->peer_port = p->remote_port;
	out->end = p->end;
	return p->chan;
}

void lh_evt_close(struct lh_server *s, struct lh_evt_handle *h)
{
	struct lh_domain *d = h->dom;

	for (uint32_t p = 1; p < HV_EVTCHN_MAX_PORTS && h->nports; p++)
		if (d->ports[p].owner == h)
			close_port(s, d, p);
	LIST_REMOVE(h, conn_link);
	munmap(h->page, PAGE_BYTES);
	close(h->epfd);
	close(h->memfd);
	free(h);
}
