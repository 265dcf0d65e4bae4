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
 * Restart (kill -9, then systemd starts us again): the store and the
 * introduced domains come back from the journal and each ring is mapped
 * and its port bound again (xs_domains_attach_all()). What was in the
 * ring then must be served exactly once, so the page's req_cons is the
 * line between "answered" and "not yet": we copy request bytes as they
 * come (rc->req_cons, private) but publish req_cons past a request only
 * in the write that puts its whole reply in the ring (before rsp_prod, so
 * a guest that sees the reply sees the request consumed, as hvmloader's
 * ring reset needs). A request whose reply was not written when we died
 * is still unconsumed in the page: the new daemon reads and runs it
 * again. Its effect may already be in the journal (a WRITE is journalled
 * before its reply is queued): running it again is harmless for what a
 * guest repeats (WRITE, MKDIR, RM, SET_PERMS give the same answer and
 * state; a WATCH that the journal kept answers OK too).
 *
 * A request read in part needs more (unblock()): Linux's xenbus writes
 * the header, then the payload, and notifies after the payload only if
 * it finds the header consumed; a request bigger than the ring needs
 * its first part consumed before the rest can come. So that part must be
 * published, and a daemon killed then would start in the middle of a
 * request (tests/integration/xenstored-kill9.sh hit it within 5 kills).
 * Before publishing it we copy what we read of the request into the
 * domain's slot of <run-dir>/xenstored.partial, a file we map shared: a
 * store there is in the page cache at once and survives a kill. Slot:
 * the req_cons it goes with, the bytes, a valid mark written last. The
 * next daemon takes the slot back only if the page's req_cons is that
 * index (else it died before publishing, and reads the request again
 * from the page); a later publish invalidates it; a released domain's
 * slot is cleared. The slot also records the span of each reply write:
 * a kill between publishing req_cons and storing rsp_prod would leave
 * the guest waiting for a reply that is in the ring, and the next daemon
 * publishes it (slot_reply()).
 *
 * Worked example: the guest writes a 16-byte WRITE header at 400 and
 * notifies; we read it (req_cons 416 private, 400 published); nothing
 * else is answered, so slot d = {pub 416, got 16, header}, then req_cons
 * = 416 on the page. kill -9. The guest adds 20 payload bytes (req_prod
 * 436) and, having found its header consumed, notifies nobody. The new
 * daemon maps the ring, finds req_cons 416 = the slot's pub: header
 * restored, in_pos 16; it reads the 20 bytes, runs the WRITE, and
 * publishes req_cons 436 with the reply.
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
#include <sys/random.h>
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
	XENSTORE_RING_IDX req_cons, rsp_prod; /* ours: read, written */
	XENSTORE_RING_IDX req_pub;  /* the page's req_cons: answered up to */
	XENSTORE_RING_IDX req_base; /* the index of the conn's in_pos 0 */
	bool broken;
	bool resync; /* the guest rewrote req_cons or rsp_prod: ring_sync() */
	bool moved;  /* bytes consumed or produced since the last notify */
	struct event *kick_ev;
	struct ring_slot *slot; /* in xenstored.partial; NULL: none */
};

/* A ring's request read in part, kept across a kill (see "Restart"). */
#define RING_SLOTS      32768 /* domids below DOMID_FIRST_RESERVED */
#define RING_SLOT_VALID 0x58535031u
struct ring_slot {
	uint32_t valid; /* RING_SLOT_VALID, written last */
	uint32_t pub;   /* the req_cons published with it */
	uint32_t got;   /* bytes in msg: header, then payload */
	/* the reply bytes copied to rsp[rsp_from..rsp_to) whose rsp_prod
	 * store may not have happened (ring_write(), slot_reply()) */
	uint32_t rsp_from, rsp_to;
	uint32_t pad;
	char msg[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	char align[8192 - 24 - sizeof(struct xsd_sockmsg) -
		   XENSTORE_PAYLOAD_MAX]; /* a page-aligned slot: mmap */
};
_Static_assert(sizeof(struct ring_slot) == 8192, "slot size");

struct xs_ring {
	int slot_fd; /* xenstored.partial, -1: none */
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
		    rc->req_pub &&
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
	/* Not published yet: see "Restart" above (publish_req_cons()). */
	rc->req_cons += n;
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

/* slot_invalidate - what the slot keeps is no longer this ring's state. */
static void slot_invalidate(struct ring_conn *rc)
{
	if (rc->slot && rc->slot->valid)
		__atomic_store_n(&rc->slot->valid, 0, __ATOMIC_RELEASE);
}

/* slot_reset - the ring restarts from 0 (reconnection, reset). */
static void slot_reset(struct ring_conn *rc)
{
	slot_invalidate(rc);
	if (rc->slot)
		rc->slot->rsp_from = rc->slot->rsp_to = 0;
}

/* publish_req_cons - the guest may reuse the request bytes before idx. */
static void publish_req_cons(struct ring_conn *rc, XENSTORE_RING_IDX idx)
{
	if ((int32_t)(idx - rc->req_pub) <= 0)
		return;
	rc->req_pub = idx;
	/* The bytes were copied (ring_read) before the guest may reuse them. */
	__atomic_store_n(&rc->intf->req_cons, idx, __ATOMIC_RELEASE);
	rc->moved = true;
	/* past the request kept in the slot: its state is stale now */
	if (rc->slot && rc->slot->pub != idx)
		slot_invalidate(rc);
}

/*
 * answered - the n bytes about to be written are the head of c's queue
 * (xs_conn_flush() writes from there): publish req_cons past the request
 * of the last reply they complete.
 */
static void answered(struct ring_conn *rc, struct xs_conn *c, size_t n)
{
	struct xs_msg *m;
	size_t off = c->out_off;
	uint64_t end = 0;
	bool any = false;

	TAILQ_FOREACH(m, &c->out, link) {
		if (n < m->len - off)
			break;
		n -= m->len - off;
		off = 0;
		if (!m->is_event) {
			end = m->req_end;
			any = true;
		}
	}
	if (any)
		publish_req_cons(rc, rc->req_base + (XENSTORE_RING_IDX)end);
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
		if (rc->slot) {
			/* answered() may publish req_cons before rsp_prod: a
			 * kill in between must not lose the reply */
			rc->slot->rsp_from = rc->rsp_prod;
			__atomic_store_n(&rc->slot->rsp_to, rc->rsp_prod + n,
					 __ATOMIC_RELEASE);
		}
		answered(rc, c, n);
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
	if (rc->slot)
		munmap(rc->slot, sizeof(*rc->slot));
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

	slot_reset(rc);
	rc->req_cons = rc->req_pub = rc->req_base = 0;
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
	slot_reset(rc);
	rc->req_cons = rc->req_pub = rc->req_base = 0;
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

/*
 * unblock - every complete request is answered, and we read more: the
 * start of a request. Keep it in the slot, then publish it (see
 * "Restart" above).
 */
static void unblock(struct ring_conn *rc)
{
	struct xs_conn *c = rc->c;
	struct ring_slot *s = rc->slot;

	if (rc->broken || c->outstanding || rc->req_pub == rc->req_cons)
		return;
	/* the request read in part holds every unpublished byte (and, taken
	 * back from the slot after a restart, some published ones) */
	if (s && c->roff == c->rlen &&
	    c->hdr_got + c->in_got >= rc->req_cons - rc->req_pub) {
		__atomic_store_n(&s->valid, 0, __ATOMIC_RELEASE);
		memcpy(s->msg, &c->hdr, c->hdr_got);
		if (c->hdr_got == sizeof(c->hdr))
			memcpy(s->msg + sizeof(c->hdr), c->in, c->in_got);
		s->got = c->hdr_got + c->in_got;
		s->pub = rc->req_cons;
		/* valid last: a kill before it leaves the slot unused */
		__atomic_store_n(&s->valid, RING_SLOT_VALID, __ATOMIC_RELEASE);
	}
	publish_req_cons(rc, rc->req_cons);
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
		unblock(rc);
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

/* slot_map - domid's slot of xenstored.partial, or NULL (none: a crash
 * then may cut a request read in part, as without the file). */
static struct ring_slot *slot_map(struct xs_ring *r, uint32_t domid)
{
	void *p;

	if (r->slot_fd < 0 || domid >= RING_SLOTS)
		return NULL;
	p = mmap(NULL, sizeof(struct ring_slot), PROT_READ | PROT_WRITE,
		 MAP_SHARED, r->slot_fd,
		 (off_t)domid * sizeof(struct ring_slot));
	return p == MAP_FAILED ? NULL : p;
}

/*
 * slot_reply - the last daemon copied a reply into the ring and may have
 * died before its rsp_prod store (after publishing req_cons: the guest
 * would wait for it forever). The bytes past rsp_prod are ours, untouched
 * by the guest: publish them. Worked example: slot rsp 420..439, page
 * rsp_prod 420, rsp_cons 420: rsp_prod = 439, the guest has its reply.
 */
static void slot_reply(struct ring_conn *rc)
{
	struct ring_slot *s = rc->slot;
	uint32_t from = s->rsp_from, to = s->rsp_to;
	XENSTORE_RING_IDX cons;

	if (from != rc->rsp_prod || to == from)
		return; /* its rsp_prod store happened (or none was due) */
	cons = __atomic_load_n(&rc->intf->rsp_cons, __ATOMIC_ACQUIRE);
	if (to - from > XENSTORE_RING_SIZE || to - cons > XENSTORE_RING_SIZE)
		return;
	rc->rsp_prod = to;
	__atomic_store_n(&rc->intf->rsp_prod, to, __ATOMIC_RELEASE);
	rc->moved = true;
	log_info_dev((int)rc->domid, "xenstore",
		     "a reply written when the last daemon died (%u bytes) "
		     "published",
		     to - from);
}

/*
 * slot_attach - map rc's slot; if it holds the request read in part when
 * the last daemon died (its pub is the page's req_cons), take it back
 * into the connection: framing goes on from there.
 */
static void slot_attach(struct ring_conn *rc)
{
	struct ring_slot *s = slot_map(rc->r, rc->domid);
	struct xs_conn *c = rc->c;
	struct xsd_sockmsg hdr;
	uint32_t got, hdr_got;

	rc->slot = s;
	if (!s)
		return;
	slot_reply(rc);
	if (__atomic_load_n(&s->valid, __ATOMIC_ACQUIRE) != RING_SLOT_VALID)
		return;
	got = s->got;
	memcpy(&hdr, s->msg, sizeof(hdr));
	hdr_got = got < sizeof(hdr) ? got : (uint32_t)sizeof(hdr);
	if (s->pub != rc->req_pub || got == 0 || got > sizeof(s->msg) ||
	    (hdr_got == sizeof(hdr) &&
	     (hdr.len > XENSTORE_PAYLOAD_MAX || got - hdr_got > hdr.len))) {
		__atomic_store_n(&s->valid, 0, __ATOMIC_RELEASE);
		return; /* not this ring's state (any more) */
	}
	memcpy(&c->hdr, s->msg, hdr_got);
	if (hdr_got == sizeof(hdr) && xs_conn_alloc_in(c)) {
		log_warnx_dev((int)rc->domid, "xenstore",
			      "out of memory: a request read in part is lost");
		return;
	}
	c->hdr_got = hdr_got;
	c->in_got = got - hdr_got;
	if (c->in_got)
		memcpy(c->in, s->msg + sizeof(hdr), c->in_got);
	c->in_pos = got;
	rc->req_base = rc->req_pub - got;
	log_info_dev((int)rc->domid, "xenstore",
		     "a request read in part (%u bytes) taken back", got);
}

/* slot_clear - the domain is gone: its slot must not pass to the next
 * domain with its id. */
static void slot_clear(struct xs_ring *r, uint32_t domid)
{
	struct ring_slot *s = slot_map(r, domid);

	if (s) {
		__atomic_store_n(&s->valid, 0, __ATOMIC_RELEASE);
		s->rsp_from = s->rsp_to = 0;
		munmap(s, sizeof(*s));
	}
}

/* restore_watches - a restart: the ring's watches from the journal. */
static void restore_watches(struct ring_conn *rc)
{
	unsigned n = xs_watch_restore(rc->r->st, rc->c);

	if (n)
		log_info_dev((int)rc->domid, "xenstore",
			     "%u watches restored (one event each)", n);
}

/* ring_new - wrap an already mapped page and a bound port. */
static struct ring_conn *ring_new(struct xs_ring *r, uint32_t domid, void *page,
				  enum map_kind kind, evtchn_port_t port,
				  bool privileged, uint32_t features)
{
	struct ring_conn *rc = calloc(1, sizeof(*rc));
	uint32_t txid;

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
	rc->req_pub = rc->req_base = rc->req_cons;
	rc->rsp_prod = __atomic_load_n(&rc->intf->rsp_prod, __ATOMIC_ACQUIRE);
	/* Offered before a byte is consumed or produced (RECONNECTION). */
	__atomic_store_n(&rc->intf->server_features, rc->features,
			 __ATOMIC_RELEASE);
	rc->kick_ev = event_new(r->base, -1, 0, ring_on_kick, rc);
	rc->c = xs_conn_new(r->st, &ring_ops, rc, domid, privileged);
	if (!rc->kick_ev || !rc->c) {
		if (rc->kick_ev)
			event_free(rc->kick_ev);
		if (rc->c) {
			rc->c->ops = NULL; /* not ring_destroy(): undone here */
			xs_conn_free(rc->c);
		}
		free(rc);
		errno = ENOMEM;
		return NULL;
	}
	if (evtchn_mux_add(r->mux, port, ring_on_event, rc) < 0) {
		xs_conn_free(rc->c); /* destroys rc, unbinds, unmaps */
		errno = EBUSY;
		return NULL;
	}
	rc->c->keep_watches = true;
	/* Transaction ids a guest holds from before a restart of ours must
	 * not name a transaction of the new daemon's (they get ENOENT): start
	 * this connection's ids at a random point, not at 1. */
	if (getrandom(&txid, sizeof(txid), GRND_NONBLOCK) == sizeof(txid))
		rc->c->next_txid = txid | 0x80000000u;
	restore_watches(rc);
	slot_attach(rc);
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
		     "ring attached (%s, local port %d; requests %u-%u, "
		     "replies %u-%u)",
		     kind == MAP_GRANT ? "grant" : "foreign map", port,
		     rc->req_pub, rc->intf->req_prod, rc->intf->rsp_cons,
		     rc->rsp_prod);
	/* Requests may be waiting already (a restart of ours); after a live
	 * update, once lu.c put back what was read before (it kicks us). */
	if (!st->restoring)
		service(rc);
	return 0;
}

static void ring_detach(void *arg, struct xs_store *st, struct xs_domain *d)
{
	/* The connection (and with it the mapping and the port) is freed by
	 * the store right after this; a request kept in part goes. */
	(void)st;
	slot_clear(arg, d->domid);
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
	r->slot_fd = -1;
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
	if (r->slot_fd >= 0)
		close(r->slot_fd);
	free(r);
}

int xs_ring_keep_partials(struct xs_ring *r, const char *dir)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/xenstored.partial", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* sparse: only the slots of rings that had a request in part */
	if (ftruncate(fd, (off_t)RING_SLOTS * sizeof(struct ring_slot)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (r->slot_fd >= 0)
		close(r->slot_fd);
	r->slot_fd = fd;
	return 0;
}

uint64_t xs_ring_quarantined(const struct xs_ring *r)
{
	return r->quarantined;
}
