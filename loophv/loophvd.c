/*
 * loophvd - the loopback hypervisor.
 *
 * Serves the control half of lib/hv.h's loop provider on a unix
 * SOCK_SEQPACKET socket (see lib/loophv-proto.h): domains (processes with memfd
 * RAM), event-channel binding, device-model state. The data path (notify,
 * grant mapping) never comes here.
 *
 * A domain lives as long as the connection that created it. When that
 * connection closes (the guest process exited or was killed), the domain
 * is dying: its ports close (peers see HV_EVTCHN_PEER_CLOSED and an event),
 * subscribers get LH_EV_DOMAIN_DEAD, and the record goes away once no dom0
 * client still holds its memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/sched.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "loophv/loophvd.h"

static struct log_ratelimit bad_msg_rl = LOG_RATELIMIT_INIT(5000, 10);

/* ------------------------------------------------------------------ */
/* Domains                                                             */
/* ------------------------------------------------------------------ */

struct lh_domain *lh_domain_find(struct lh_server *s, domid_t domid)
{
	struct lh_domain *d;

	TAILQ_FOREACH(d, &s->domains, link)
		if (d->domid == domid)
			return d;
	return NULL;
}

static void domain_free(struct lh_server *s, struct lh_domain *d)
{
	TAILQ_REMOVE(&s->domains, d, link);
	if (d->memfd >= 0)
		close(d->memfd);
	free(d);
}

static int conn_send(struct lh_conn *c, struct lh_rep *rep, const int *fds,
		     int nfds);
static void conn_break(struct lh_conn *c, const char *why);

static void send_event(struct lh_server *s, struct lh_conn *c, uint32_t ev,
		       const struct lh_domain *d)
{
	struct lh_rep rep;
	int r;

	memset(&rep, 0, sizeof(rep));
	rep.op = ev;
	rep.d.ev.domid = d->domid;
	rep.d.ev.reason = d->shutdown_reason;
	rep.len = sizeof(rep.d.ev);
	r = conn_send(c, &rep, NULL, 0);
	if (r == -EAGAIN)
		s->events_queued++;
	else if (r < 0)
		conn_break(c, "cannot take events");
}

static void conn_close(struct lh_server *s, struct lh_conn *c);

/*
 * domain_kill - the domain is dying: close its ports and its other
 * connections' handles, tell subscribers, free it unless dom0 holds its
 * memory.
 */
static void domain_kill(struct lh_server *s, struct lh_domain *d)
{
	struct lh_conn *c, *tmp;

	if (d->dying)
		return;
	d->dying = 1;
	s->domains_died++;
	/* Cached mappings of d in dom0 clients are now stale (loophv-proto.h). */
	__atomic_store_n(&s->gens[d->domid], 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&s->gens[0], 1, __ATOMIC_RELEASE);
	log_info("domain %u (%s) is dying", d->domid, d->name);
	for (c = TAILQ_FIRST(&s->conns); c; c = tmp) {
		tmp = TAILQ_NEXT(c, link);
		if (c->dom != d)
			continue;
		if (c == d->owner) {
			/* Our caller is closing it, or we do now. */
			while (!LIST_EMPTY(&c->handles))
				lh_evt_close(s, LIST_FIRST(&c->handles));
			continue;
		}
		conn_close(s, c); /* joined connections die with the domain */
	}
	if (d->owner) {
		d->owner->owns_domain = 0;
		d->owner = NULL;
	}
	lh_dm_destroy_all(d);
	TAILQ_FOREACH(c, &s->conns, link)
		if (c->subscribed)
			send_event(s, c, LH_EV_DOMAIN_DEAD, d);
	if (d->mem_holders == 0)
		domain_free(s, d);
}

static int hold_add(struct lh_conn *c, struct lh_domain *d)
{
	for (unsigned int i = 0; i < c->nholds; i++)
		if (c->holds[i] == d->domid)
			return 0;
	if (c->nholds == c->holds_cap) {
		/* one hold per domid: bounded by DOMID_FIRST_RESERVED */
		unsigned int cap = c->holds_cap ? c->holds_cap * 2 : 16;
		domid_t *n;

		n = realloc(c->holds, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->holds = n;
		c->holds_cap = cap;
	}
	c->holds[c->nholds++] = d->domid;
	d->mem_holders++;
	return 0;
}

static int hold_drop(struct lh_server *s, struct lh_conn *c, domid_t domid)
{
	for (unsigned int i = 0; i < c->nholds; i++) {
		struct lh_domain *d;

		if (c->holds[i] != domid)
			continue;
		c->holds[i] = c->holds[--c->nholds];
		d = lh_domain_find(s, domid);
		if (d && --d->mem_holders == 0 && d->dying) {
			log_debug("domain %u: last hold released, forgotten",
				  d->domid);
			domain_free(s, d);
		}
		return 0;
	}
	return -ENOENT;
}

static int alloc_domid(struct lh_server *s, domid_t *out)
{
	for (unsigned int tries = 0; tries < DOMID_FIRST_RESERVED; tries++) {
		domid_t id = s->next_domid;

		s->next_domid = (unsigned int)id + 1 >= DOMID_FIRST_RESERVED
					? 1
					: id + 1;
		if (!lh_domain_find(s, id)) {
			*out = id;
			return 0;
		}
	}
	return -ENOSPC;
}

static void fill_info(const struct lh_domain *d, struct lh_dominfo *o)
{
	memset(o, 0, sizeof(*o));
	o->domid = d->domid;
	o->dying = (uint8_t)d->dying;
	o->shutdown = (uint8_t)d->shutdown;
	o->paused = (uint8_t)d->paused;
	o->shutdown_reason = d->shutdown_reason;
	o->max_vcpus = d->max_vcpus;
	o->mem_bytes = d->mem_bytes;
	memcpy(o->name, d->name, sizeof(o->name));
}

static void fill_layout(const struct lh_domain *d, struct lh_created *o)
{
	memset(o, 0, sizeof(*o));
	o->domid = d->domid;
	o->grant_frames = d->grant_frames;
	o->nr_frames = d->nr_frames;
	o->gnttab_first = d->gnttab_first;
	o->max_vcpus = d->max_vcpus;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

struct op_ctx {
	struct lh_server *s;
	struct lh_conn *c;
	const struct lh_req *req;
	struct lh_rep *rep;
	int fds[LH_MAX_FDS];
	int nfds;
};

#define F_IDENT   0x1 /* the connection must have an identity */
#define F_NOIDENT 0x2 /* only as a connection's first request */
#define F_PRIV    0x4 /* dom0 only */

struct op_desc {
	const char *name;
	int (*fn)(struct op_ctx *x);
	unsigned int flags;
};

static int op_hello(struct op_ctx *x)
{
	if (!x->c->privileged)
		return -EACCES;
	x->c->dom = x->s->dom0;
	x->c->is_dom0 = 1;
	fill_layout(x->s->dom0, &x->rep->d.created);
	x->rep->len = sizeof(x->rep->d.created);
	x->fds[x->nfds++] = x->s->gen_fd;
	return 0;
}

static int op_join(struct op_ctx *x)
{
	struct lh_domain *d = lh_domain_find(x->s, x->req->a.join.domid);

	if (!d || d->dying || d->domid == 0)
		return -ESRCH;
	if (d->token != x->req->a.join.token)
		return -EACCES;
	x->c->dom = d;
	fill_layout(d, &x->rep->d.created);
	x->rep->len = sizeof(x->rep->d.created);
	return 0;
}

static int op_domain_create(struct op_ctx *x)
{
	struct lh_create cfg = x->req->a.create; /* our own copy */
	struct lh_domain *d;
	uint64_t nr_frames;
	int err;

	cfg.name[sizeof(cfg.name) - 1] = '\0';
	if (cfg.mem_bytes < LH_MIN_MEM_BYTES || cfg.mem_bytes > LH_MAX_MEM_BYTES)
		return -EINVAL;
	if (cfg.grant_frames == 0)
		cfg.grant_frames = 4;
	if (cfg.max_vcpus == 0)
		cfg.max_vcpus = 1;
	if (cfg.grant_frames > LH_MAX_GRANT_FRAMES ||
	    cfg.max_vcpus > LH_MAX_VCPUS)
		return -EINVAL;
	nr_frames = (cfg.mem_bytes + HV_PAGE_SIZE - 1) >> HV_PAGE_SHIFT;
	if (nr_frames <= LH_GUEST_RESERVED_FRAMES + cfg.grant_frames)
		return -EINVAL;
	for (char *p = cfg.name; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->memfd = -1;
	err = alloc_domid(x->s, &d->domid);
	if (err)
		goto fail;
	if (getrandom(&d->token, sizeof(d->token), 0) != sizeof(d->token)) {
		err = -EIO;
		goto fail;
	}
	/* Sealed before anyone else sees it: the guest owns its RAM's
	 * contents, not its size (a shrink would SIGBUS dom0's mappings). */
	d->memfd =
		lh_sealed_memfd("loophv-guest-ram",
				(size_t)(nr_frames << HV_PAGE_SHIFT), 0, NULL);
	if (d->memfd < 0) {
		err = -errno;
		log_warn("domain RAM memfd (%llu bytes)",
			 (unsigned long long)(nr_frames << HV_PAGE_SHIFT));
		goto fail;
	}
	d->mem_bytes = nr_frames << HV_PAGE_SHIFT;
	d->nr_frames = nr_frames;
	d->grant_frames = cfg.grant_frames;
	d->gnttab_first = nr_frames - cfg.grant_frames;
	d->max_vcpus = cfg.max_vcpus;
	snprintf(d->name, sizeof(d->name), "%s",
		 cfg.name[0] ? cfg.name : "loopguest");
	d->owner = x->c;
	if (++x->s->next_gen == 0)
		x->s->next_gen = 1;
	d->gen = x->s->next_gen;
	__atomic_store_n(&x->s->gens[d->domid], d->gen, __ATOMIC_RELEASE);
	TAILQ_INSERT_TAIL(&x->s->domains, d, link);
	x->c->dom = d;
	x->c->owns_domain = 1;
	x->s->domains_created++;

	fill_layout(d, &x->rep->d.created);
	x->rep->d.created.token = d->token;
	x->rep->len = sizeof(x->rep->d.created);
	x->fds[x->nfds++] = d->memfd;
	log_info("domain %u (%s) created by pid %d: %llu MiB, %u grant frames",
		 d->domid, d->name, (int)x->c->pid,
		 (unsigned long long)(d->mem_bytes >> 20), d->grant_frames);
	return 0;
fail:
	if (d->memfd >= 0)
		close(d->memfd);
	free(d);
	return err;
}

static int op_domain_list(struct op_ctx *x)
{
	struct lh_domain *d;
	unsigned int total = 0, n = 0;

	TAILQ_FOREACH(d, &x->s->domains, link) {
		if (d->domid < x->req->a.d.domid)
			continue;
		total++;
		if (n < LH_LIST_MAX)
			fill_info(d, &x->rep->d.list[n++]);
	}
	x->rep->count = n;
	x->rep->len = n * sizeof(struct lh_dominfo);
	return (int)total;
}

static struct lh_domain *target(struct op_ctx *x, int allow_dying)
{
	struct lh_domain *d = lh_domain_find(x->s, x->req->a.d.domid);

	if (!d || (d->dying && !allow_dying))
		return NULL;
	return d;
}

static int op_domain_info(struct op_ctx *x)
{
	struct lh_domain *d = target(x, 1);

	if (!d)
		return -ESRCH;
	fill_info(d, &x->rep->d.info);
	x->rep->len = sizeof(x->rep->d.info);
	return 0;
}

static int op_domain_mem(struct op_ctx *x)
{
	/* Not of a dying domain: its memory is on its way out, and a new
	 * hold would keep it in the domain list. */
	struct lh_domain *d = target(x, 0);
	int err;

	if (!d || d->domid == 0)
		return -ESRCH;
	err = hold_add(x->c, d);
	if (err)
		return err;
	fill_layout(d, &x->rep->d.created);
	x->rep->d.created.gen = d->gen;
	x->rep->len = sizeof(x->rep->d.created);
	x->fds[x->nfds++] = d->memfd;
	return 0;
}

static int op_domain_mem_release(struct op_ctx *x)
{
	return hold_drop(x->s, x->c, x->req->a.d.domid);
}

static int op_domain_pause(struct op_ctx *x, int pause)
{
	struct lh_domain *d = target(x, 0);

	if (!d || d->domid == 0)
		return -ESRCH;
	if (d->owner && kill(d->owner->pid, pause ? SIGSTOP : SIGCONT) < 0)
		return -errno;
	d->paused = pause;
	return 0;
}

static int op_pause(struct op_ctx *x)
{
	return op_domain_pause(x, 1);
}
static int op_unpause(struct op_ctx *x)
{
	return op_domain_pause(x, 0);
}

static int op_shutdown(struct op_ctx *x)
{
	struct lh_domain *d = x->c->dom;

	struct lh_conn *c;

	if (x->c->is_dom0)
		return -EINVAL; /* dom0 does not shut itself down here */
	if (x->req->a.d.value > SHUTDOWN_MAX)
		return -EINVAL;
	if (d->shutdown)
		return 0; /* as Xen: the first reason stands */
	d->shutdown = 1;
	d->shutdown_reason = (uint32_t)x->req->a.d.value;
	log_info("domain %u shut down (reason %u)", d->domid,
		 d->shutdown_reason);
	TAILQ_FOREACH(c, &x->s->conns, link)
		if (c->subscribed)
			send_event(x->s, c, LH_EV_DOMAIN_SHUTDOWN, d);
	return 0;
}

static int op_destroy(struct op_ctx *x)
{
	struct lh_domain *d = target(x, 0);

	if (!d || d->domid == 0)
		return -ESRCH;
	log_info("domain %u destroyed by pid %d", d->domid, (int)x->c->pid);
	if (d->owner) {
		/* The guest process sees its connection end. */
		shutdown(d->owner->fd, SHUT_RDWR);
		conn_close(x->s, d->owner);
	} else {
		domain_kill(x->s, d);
	}
	return 0;
}

static int op_subscribe(struct op_ctx *x)
{
	x->c->subscribed = 1;
	return 0;
}

/* param_target - dom0 may touch any domain, a guest only itself. */
static struct lh_domain *param_target(struct op_ctx *x, int *err)
{
	domid_t want = x->req->a.d.domid;
	struct lh_domain *d;

	if (x->req->a.d.param >= LH_NR_PARAMS) {
		*err = -EINVAL;
		return NULL;
	}
	if (!x->c->is_dom0) {
		if (want != DOMID_SELF && want != x->c->dom->domid) {
			*err = -EACCES;
			return NULL;
		}
		return x->c->dom;
	}
	d = lh_domain_find(x->s, want);
	if (!d) {
		*err = -ESRCH;
		return NULL;
	}
	return d;
}

static int op_param_get(struct op_ctx *x)
{
	int err = 0;
	struct lh_domain *d = param_target(x, &err);

	if (!d)
		return err;
	x->rep->d.value = d->params[x->req->a.d.param];
	x->rep->len = sizeof(x->rep->d.value);
	return 0;
}

static int op_param_set(struct op_ctx *x)
{
	int err = 0;
	struct lh_domain *d = param_target(x, &err);

	if (!d)
		return err;
	d->params[x->req->a.d.param] = x->req->a.d.value;
	return 0;
}

/*
 * Event-channel handles a connection may hold. Each costs loophvd two
 * descriptors (and each bound channel three more), so a guest that opened
 * handles without end would starve every other guest of descriptors. A
 * guest kernel needs one; a dom0 process one per daemon or per caller.
 */
#define LH_GUEST_MAX_HANDLES 16
#define LH_DOM0_MAX_HANDLES  1024

static int op_evtchn_open(struct op_ctx *x)
{
	unsigned int n = 0, max = x->c->is_dom0 ? LH_DOM0_MAX_HANDLES
						: LH_GUEST_MAX_HANDLES;
	struct lh_evt_handle *h;

	LIST_FOREACH(h, &x->c->handles, conn_link)
		if (++n >= max) {
			static struct log_ratelimit rl =
				LOG_RATELIMIT_INIT(5000, 5);

			LOG_RATELIMITED(&rl, LOG_WARNING,
					x->c->dom ? x->c->dom->domid : -1, NULL,
					"pid %d: event-channel handle "
					"refused (at most %u per connection)",
					(int)x->c->pid, max);
			return -EMFILE;
		}
	h = lh_evt_open(x->s, x->c);

	if (!h)
		return -errno;
	x->fds[x->nfds++] = h->epfd;
	x->fds[x->nfds++] = h->memfd;
	return h->id;
}

static struct lh_evt_handle *evt_handle(struct op_ctx *x)
{
	return lh_evt_find(x->c, x->req->a.evt.handle);
}

static int op_evtchn_close(struct op_ctx *x)
{
	struct lh_evt_handle *h = evt_handle(x);

	if (!h)
		return -EBADF;
	lh_evt_close(x->s, h);
	return 0;
}

static int op_evtchn_alloc_unbound(struct op_ctx *x)
{
	struct lh_evt_handle *h = evt_handle(x);
	domid_t remote = x->req->a.evt.domid;

	if (!h)
		return -EBADF;
	if (remote == DOMID_SELF)
		remote = x->c->dom->domid;
	return lh_evt_alloc_unbound(x->s, h, remote);
}

static int op_evtchn_bind(struct op_ctx *x)
{
	struct lh_evt_handle *h = evt_handle(x);
	domid_t remote = x->req->a.evt.domid;

	if (!h)
		return -EBADF;
	if (remote == DOMID_SELF)
		remote = x->c->dom->domid;
	return lh_evt_bind(x->s, h, remote, x->req->a.evt.port);
}

static int op_evtchn_unbind(struct op_ctx *x)
{
	struct lh_evt_handle *h = evt_handle(x);

	if (!h)
		return -EBADF;
	return lh_evt_unbind(x->s, h, x->req->a.evt.port);
}

static int op_evtchn_peer(struct op_ctx *x)
{
	struct lh_evt_handle *h = evt_handle(x);
	struct lh_chan *ch;
	int err = 0;

	if (!h)
		return -EBADF;
	ch = lh_evt_peer(x->s, h, x->req->a.evt.port, &x->rep->d.peer, &err);
	if (!ch)
		return err;
	x->rep->len = sizeof(x->rep->d.peer);
	/* Only this channel's objects: the peer end's doorbell (to notify
	 * it) and the bell page. */
	x->fds[x->nfds++] = ch->efd[!x->rep->d.peer.end];
	x->fds[x->nfds++] = ch->memfd;
	return 0;
}

static struct lh_domain *dm_target(struct op_ctx *x)
{
	struct lh_domain *d = lh_domain_find(x->s, x->req->a.dm.domid);

	if (!d || d->dying || d->domid == 0)
		return NULL;
	return d;
}

#define DM_OP(name, expr)                                                      \
	static int name(struct op_ctx *x)                                      \
	{                                                                      \
		const struct lh_dm_args *a = &x->req->a.dm;                    \
		struct lh_domain *d = dm_target(x);                            \
		if (!d)                                                        \
			return -ESRCH;                                         \
		return (expr);                                                 \
	}

DM_OP(op_dm_create, lh_dm_create(d, (int)a->flags))
DM_OP(op_dm_map_range, lh_dm_range(d, a->id, 1, a->type, a->start, a->end))
DM_OP(op_dm_unmap_range, lh_dm_range(d, a->id, 0, a->type, a->start, a->end))
DM_OP(op_dm_set_state, lh_dm_set_state(d, a->id, (int)a->flags))
DM_OP(op_dm_destroy, lh_dm_destroy(d, a->id))
DM_OP(op_dm_set_irq, lh_dm_set_irq(d, a->type, a->start, a->flags))

static int op_dm_info(struct op_ctx *x)
{
	struct lh_domain *d = dm_target(x);
	int err;

	if (!d)
		return -ESRCH;
	err = lh_dm_info(d, x->req->a.dm.id, &x->rep->d.dm_info);
	if (!err)
		x->rep->len = sizeof(x->rep->d.dm_info);
	return err;
}

static int op_resource_map(struct op_ctx *x)
{
	struct lh_domain *d = lh_domain_find(x->s, x->req->a.res.domid);
	int fd = -1, err;

	if (!d || d->dying || d->domid == 0)
		return -ESRCH;
	err = lh_dm_resource(d, &x->req->a.res, &fd, &x->rep->d.res);
	if (err)
		return err;
	x->rep->len = sizeof(x->rep->d.res);
	x->fds[x->nfds++] = fd;
	return 0;
}

/* The protocol's operations, indexed by wire number. */
static const struct op_desc ops[LH_OP_MAX] = {
	[LH_OP_HELLO] = { "hello", op_hello, F_NOIDENT },
	[LH_OP_JOIN] = { "join", op_join, F_NOIDENT },
	[LH_OP_DOMAIN_CREATE] = { "domain_create", op_domain_create, F_NOIDENT },
	[LH_OP_DOMAIN_LIST] = { "domain_list", op_domain_list, F_IDENT },
	[LH_OP_DOMAIN_INFO] = { "domain_info", op_domain_info, F_IDENT },
	[LH_OP_DOMAIN_MEM] = { "domain_mem", op_domain_mem, F_PRIV },
	[LH_OP_DOMAIN_MEM_RELEASE] = { "domain_mem_release",
				       op_domain_mem_release, F_PRIV },
	[LH_OP_DOMAIN_PAUSE] = { "domain_pause", op_pause, F_PRIV },
	[LH_OP_DOMAIN_UNPAUSE] = { "domain_unpause", op_unpause, F_PRIV },
	[LH_OP_DOMAIN_SHUTDOWN] = { "domain_shutdown", op_shutdown, F_IDENT },
	[LH_OP_DOMAIN_DESTROY] = { "domain_destroy", op_destroy, F_PRIV },
	[LH_OP_SUBSCRIBE] = { "subscribe", op_subscribe, F_PRIV },
	[LH_OP_PARAM_GET] = { "param_get", op_param_get, F_IDENT },
	[LH_OP_PARAM_SET] = { "param_set", op_param_set, F_IDENT },
	[LH_OP_EVTCHN_OPEN] = { "evtchn_open", op_evtchn_open, F_IDENT },
	[LH_OP_EVTCHN_CLOSE] = { "evtchn_close", op_evtchn_close, F_IDENT },
	[LH_OP_EVTCHN_ALLOC_UNBOUND] = { "evtchn_alloc_unbound",
					 op_evtchn_alloc_unbound, F_IDENT },
	[LH_OP_EVTCHN_BIND] = { "evtchn_bind", op_evtchn_bind, F_IDENT },
	[LH_OP_EVTCHN_UNBIND] = { "evtchn_unbind", op_evtchn_unbind, F_IDENT },
	[LH_OP_EVTCHN_PEER] = { "evtchn_peer", op_evtchn_peer, F_IDENT },
	[LH_OP_DM_CREATE] = { "dm_create", op_dm_create, F_PRIV },
	[LH_OP_DM_INFO] = { "dm_info", op_dm_info, F_PRIV },
	[LH_OP_DM_MAP_RANGE] = { "dm_map_range", op_dm_map_range, F_PRIV },
	[LH_OP_DM_UNMAP_RANGE] = { "dm_unmap_range", op_dm_unmap_range, F_PRIV },
	[LH_OP_DM_SET_STATE] = { "dm_set_state", op_dm_set_state, F_PRIV },
	[LH_OP_DM_DESTROY] = { "dm_destroy", op_dm_destroy, F_PRIV },
	[LH_OP_DM_SET_IRQ] = { "dm_set_irq", op_dm_set_irq, F_PRIV },
	[LH_OP_RESOURCE_MAP] = { "resource_map", op_resource_map, F_PRIV },
};

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void outq_free(struct lh_conn *c)
{
	while (c->outq_head) {
		struct lh_outmsg *m = c->outq_head;

		c->outq_head = m->next;
		for (int i = 0; i < m->nfds; i++)
			close(m->fds[i]);
		free(m);
	}
	c->outq_tail = &c->outq_head;
	c->outq_len = 0;
}

static void conn_close(struct lh_server *s, struct lh_conn *c)
{
	TAILQ_REMOVE(&s->conns, c, link);
	while (!LIST_EMPTY(&c->handles))
		lh_evt_close(s, LIST_FIRST(&c->handles));
	while (c->nholds)
		hold_drop(s, c, c->holds[0]);
	free(c->holds);
	outq_free(c);
	if (c->wev)
		event_free(c->wev);
	if (c->owns_domain && c->dom) {
		struct lh_domain *d = c->dom;

		c->dom = NULL;
		d->owner = NULL;
		c->owns_domain = 0;
		domain_kill(s, d);
	}
	event_free(c->ev);
	close(c->fd);
	free(c);
}

static ssize_t send_msg(int fd, struct lh_rep *rep, size_t len, const int *fds,
			int nfds)
{
	struct iovec iov = { .iov_base = rep, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * LH_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* At most this many messages wait for one connection; a client that lets
 * more pile up is broken (told by its socket's end), never silently
 * short of an event. */
#define LH_OUTQ_MAX 65536

/*
 * conn_send - send rep (+ fds, which stay the caller's) to c now, or queue
 * it behind what already waits. Returns 0 when sent, -EAGAIN when queued,
 * another -errno when c is broken (the caller drops it).
 */
static int conn_send(struct lh_conn *c, struct lh_rep *rep, const int *fds,
		     int nfds)
{
	size_t len = LH_REP_HDR_SIZE + rep->len;
	struct lh_outmsg *m;

	if (!c->outq_head) {
		if (send_msg(c->fd, rep, len, fds, nfds) >= 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
	}
	if (c->outq_len >= LH_OUTQ_MAX)
		return -ENOBUFS;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memcpy(&m->rep, rep, len);
	m->len = len;
	for (int i = 0; i < nfds; i++) {
		m->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
		if (m->fds[i] < 0) {
			int e = -errno;

			while (i-- > 0)
				close(m->fds[i]);
			free(m);
			return e;
		}
		m->nfds++;
	}
	if (!c->outq_head) {
		/* Requests wait until the client took what we owe it. */
		event_del(c->ev);
		event_add(c->wev, NULL);
	}
	*c->outq_tail = m;
	c->outq_tail = &m->next;
	c->outq_len++;
	return -EAGAIN;
}

/* conn_break - c cannot be served: end it through its read event (it may
 * be in the middle of a list walk now). */
static void conn_break(struct lh_conn *c, const char *why)
{
	log_warnx("pid %d: %s, dropping the client", (int)c->pid, why);
	shutdown(c->fd, SHUT_RDWR);
	outq_free(c);
	event_del(c->wev);
	event_active(c->ev, EV_READ, 0);
	event_add(c->ev, NULL);
}

static void on_conn_writable(evutil_socket_t fd, short what, void *arg)
{
	struct lh_conn *c = arg;

	(void)what;
	while (c->outq_head) {
		struct lh_outmsg *m = c->outq_head;

		if (send_msg(fd, &m->rep, m->len, m->fds, m->nfds) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_close(c->srv, c);
			return;
		}
		c->outq_head = m->next;
		for (int i = 0; i < m->nfds; i++)
			close(m->fds[i]);
		free(m);
		c->outq_len--;
	}
	c->outq_tail = &c->outq_head;
	event_del(c->wev);
	event_add(c->ev, NULL);
}

/* Drop any descriptors a client sent us: we never accept any. */
static void close_passed_fds(struct msghdr *msg)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fd;

			for (size_t i = 0; i < n; i++) {
				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(fd));
				close(fd);
			}
		}
	}
}

static void on_conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct lh_conn *c = arg;
	struct lh_server *s = c->srv;
	struct lh_req req;
	struct lh_rep rep;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct op_ctx x;
	const struct op_desc *od = NULL;
	ssize_t n;
	int ret;

	(void)what;
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(s, c);
		return;
	}
	close_passed_fds(&msg);
	c->nreq++;

	memset(&rep, 0, sizeof(rep));
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.c = c;
	x.req = &req;
	x.rep = &rep;
	if ((size_t)n >= sizeof(uint32_t))
		rep.op = req.op;
	if ((size_t)n >= offsetof(struct lh_req, a))
		rep.seq = req.seq;

	if ((size_t)n != LH_REQ_SIZE ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		s->bad_messages++;
		LOG_RATELIMITED(&bad_msg_rl, LOG_WARNING, -1, NULL,
				"pid %d: malformed message (%zd bytes), rejected",
				(int)c->pid, n);
		ret = -EBADMSG;
	} else if (req.op == 0 || req.op >= LH_OP_MAX || !ops[req.op].fn) {
		s->bad_messages++;
		LOG_RATELIMITED(&bad_msg_rl, LOG_WARNING, -1, NULL,
				"pid %d: unknown operation %u, rejected",
				(int)c->pid, req.op);
		ret = -EOPNOTSUPP;
	} else {
		od = &ops[req.op];
		if ((od->flags & F_NOIDENT) && c->dom)
			ret = -EALREADY;
		else if (!(od->flags & F_NOIDENT) && !c->dom)
			ret = -ENOTCONN; /* say hello first */
		else if ((od->flags & F_PRIV) && !c->is_dom0)
			ret = -EACCES;
		else
			ret = od->fn(&x);
		s->ops[req.op]++;
	}
	rep.ret = ret;
	if (ret < 0) {
		c->nerr++;
		s->errors++;
		if (od)
			log_debug("pid %d: %s: %s", (int)c->pid, od->name,
				  strerror(-ret));
	}
	ret = conn_send(c, &rep, x.fds, ret < 0 ? 0 : x.nfds);
	if (ret < 0 && ret != -EAGAIN) {
		errno = -ret;
		log_warn("pid %d: reply failed, dropping the client",
			 (int)c->pid);
		conn_close(s, c);
	}
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct lh_server *s = arg;
	struct lh_conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("SO_PEERCRED");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->srv = s;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->privileged = cred.uid == 0 || cred.uid == s->priv_uid;
	LIST_INIT(&c->handles);
	c->outq_tail = &c->outq_head;
	c->ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_conn_readable,
			  c);
	c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, on_conn_writable,
			   c);
	if (!c->ev || !c->wev) {
		if (c->ev)
			event_free(c->ev);
		if (c->wev)
			event_free(c->wev);
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&s->conns, c, link);
	event_add(c->ev, NULL);
	log_debug("client pid %d uid %u connected%s", (int)c->pid,
		  (unsigned)c->uid, c->privileged ? " (privileged)" : "");
}

/* ------------------------------------------------------------------ */
/* Control socket                                                      */
/* ------------------------------------------------------------------ */

static json_t *domains_json(struct lh_server *s)
{
	json_t *arr = json_array();
	struct lh_domain *d;

	TAILQ_FOREACH(d, &s->domains, link) {
		json_array_append_new(arr,
				      json_pack("{s:i, s:s, s:I, s:b, s:b, s:b, s:i, s:i}",
						"domid", d->domid, "name",
						d->name, "mem_bytes",
						(json_int_t)d->mem_bytes,
						"dying", d->dying, "paused",
						d->paused, "shutdown",
						d->shutdown, "shutdown_reason",
						(int)d->shutdown_reason,
						"mem_holders",
						(int)d->mem_holders));
	}
	return arr;
}

/* gen_table_create - the generation table of loophv-proto.h: ours to write,
 * dom0's to read. */
/* lh_sealed_memfd - a memfd of len bytes that nobody can resize (LH_SEALS),
 * mapped writable here when map is not NULL; -1 with errno. extra: more
 * seals, after mapping (F_SEAL_FUTURE_WRITE keeps other holders read-only;
 * a kernel without it is tolerated). Every memfd loophvd hands out is
 * made here. */
int lh_sealed_memfd(const char *name, size_t len, int extra, void **map)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), e;
	void *m = NULL;

	if (map)
		*map = NULL;
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0)
		goto fail;
	if (map) {
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			m = NULL;
			goto fail;
		}
	}
	if (extra && fcntl(fd, F_ADD_SEALS, extra) < 0 && errno != EINVAL)
		goto fail; /* EINVAL: a kernel without that seal */
	if (fcntl(fd, F_ADD_SEALS, LH_SEALS) < 0)
		goto fail;
	if (map)
		*map = m;
	return fd;
fail:
	e = errno;
	if (m)
		munmap(m, len);
	close(fd);
	errno = e;
	return -1;
}

static int gen_table_create(struct lh_server *s)
{
	int extra = 0;
	void *p;
	int fd;

#ifdef F_SEAL_FUTURE_WRITE
	extra = F_SEAL_FUTURE_WRITE; /* no new writable mapping (5.1+) */
#endif
	fd = lh_sealed_memfd("loophv-gen", LH_GEN_BYTES, extra, &p);
	if (fd < 0)
		return -errno;
	s->gen_fd = fd;
	s->gens = p;
	return 0;
}

_Static_assert(LH_GEN_ENTRIES == DOMID_FIRST_RESERVED, "one entry per domid");
_Static_assert(LH_GEN_ENTRIES * 4 <= LH_GEN_BYTES, "table fits");

static int status_fn(void *arg, json_t *obj)
{
	struct lh_server *s = arg;
	struct lh_conn *c;
	struct lh_domain *d;
	int nconn = 0, holders = 0;

	TAILQ_FOREACH(c, &s->conns, link)
		nconn++;
	TAILQ_FOREACH(d, &s->domains, link)
		holders += (int)d->mem_holders;
	json_object_set_new(obj, "run_dir", json_string(s->run_dir));
	json_object_set_new(obj, "connections", json_integer(nconn));
	/* dom0 holds of guest RAM, all domains together */
	json_object_set_new(obj, "mem_holders", json_integer(holders));
	json_object_set_new(obj, "domains", domains_json(s));
	return 0;
}

static int stats_fn(void *arg, json_t *obj)
{
	struct lh_server *s = arg;
	json_t *ops_obj = json_object();

	for (unsigned int i = 1; i < LH_OP_MAX; i++)
		if (ops[i].name)
			json_object_set_new(ops_obj, ops[i].name,
					    json_integer((json_int_t)s->ops[i]));
	json_object_set_new(obj, "ops", ops_obj);
	json_object_set_new(obj, "errors", json_integer((json_int_t)s->errors));
	json_object_set_new(obj, "bad_messages",
			    json_integer((json_int_t)s->bad_messages));
	json_object_set_new(obj, "domains_created",
			    json_integer((json_int_t)s->domains_created));
	json_object_set_new(obj, "domains_died",
			    json_integer((json_int_t)s->domains_died));
	json_object_set_new(obj, "events_queued",
			    json_integer((json_int_t)s->events_queued));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: loophvd [OPTIONS]\n"
		"\n"
		"The loopback hypervisor of splitdrv: lets the dom0 daemons run on plain\n"
		"Linux. Guests are processes whose RAM is a memfd; loophvd hands out\n"
		"domains, binds event channels and keeps device-model state. Clients use\n"
		"lib/hv.h's loop provider; notifications and grant mappings go directly\n"
		"between the processes, never through loophvd.\n"
		"\n"
		"Files (in the run directory):\n"
		"  loophvd.sock   the hypervisor socket (SOCK_SEQPACKET)\n"
		"  loophvd.ctl    JSON control socket: {\"cmd\":\"status\"}, \"stats\"\n"
		"\n"
		"Options:\n"
		"      --priv-uid=UID     also treat clients of this uid as dom0 (default:\n"
		"                         root only); for tests run by an ordinary user\n");
	daemon_usage_common(f);
	fprintf(f,
		"\n"
		"Privilege: a client is dom0 when its SO_PEERCRED uid is 0 or --priv-uid.\n"
		"Any local process may create a loopback guest domain.\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop (guest domains are gone: their processes see\n"
		"the socket close); SIGHUP reopens the log.\n");
}

/*
 * raise_nofile - every bound channel costs loophvd three descriptors (its
 * bell page and a doorbell per end), every handle two and every guest its
 * RAM: take the hard limit as the soft one (systemd's default soft limit
 * is 1024, enough for a few hundred channels only).
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the descriptor limit to %llu",
			 (unsigned long long)rl.rlim_max);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		DAEMON_COMMON_LONGOPTS,
		{ "priv-uid", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o;
	struct lh_server s;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct daemon_run dr;
	char path[sizeof(sa.sun_path)];
	int opt, r, rc;

	memset(&s, 0, sizeof(s));
	s.priv_uid = 0;
	daemon_opts_init(&o, "loophvd");
	while ((opt = getopt_long(argc, argv, DAEMON_COMMON_SHORTOPTS "u:",
				  longopts, NULL)) != -1) {
		if (opt == 'u') {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end || v > 0xfffffffeUL) {
				fprintf(stderr, "loophvd: bad --priv-uid '%s'\n",
					optarg);
				return 2;
			}
			s.priv_uid = (uid_t)v;
			continue;
		}
		r = daemon_common_opt(&o, opt, optarg, usage);
		if (r >= 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "loophvd: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}

	s.run_dir = o.run_dir;
	if (snprintf(path, sizeof(path), "%s/%s", s.run_dir, LH_SOCK_NAME) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "loophvd: run directory path too long: %s\n",
			s.run_dir);
		return 2;
	}
	raise_nofile();
	/* Log, run directory, then the lock before any socket: a live
	 * loophvd's must stay as they are. */
	if (daemon_start(&dr, &o) < 0)
		return 1;

	TAILQ_INIT(&s.domains);
	TAILQ_INIT(&s.conns);
	r = gen_table_create(&s);
	if (r < 0) {
		errno = -r;
		log_err("generation table memfd");
		return 1;
	}
	s.next_domid = 1;
	s.dom0 = calloc(1, sizeof(*s.dom0));
	if (!s.dom0)
		fatal("calloc");
	s.dom0->domid = 0;
	s.dom0->memfd = -1;
	snprintf(s.dom0->name, sizeof(s.dom0->name), "Domain-0");
	TAILQ_INSERT_HEAD(&s.domains, s.dom0, link);

	s.base = dr.base;
	s.listen_fd = socket(AF_UNIX,
			     SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s.listen_fd < 0)
		fatal("socket");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(s.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		log_err("bind %s", path);
		return 1;
	}
	/* Anyone may connect (guests need not be root); privilege is
	 * decided per client from SO_PEERCRED. */
	chmod(path, 0666);
	if (listen(s.listen_fd, 64) < 0)
		fatal("listen");
	s.listen_ev = event_new(s.base, s.listen_fd, EV_READ | EV_PERSIST,
				on_accept, &s);
	event_add(s.listen_ev, NULL);

	if (daemon_control(&dr, status_fn, stats_fn, &s) < 0)
		return 1;

	if (s.priv_uid)
		log_notice("serving on %s (dom0 = uid 0 and uid %u)", path,
			   (unsigned)s.priv_uid);
	else
		log_notice("serving on %s (dom0 = uid 0)", path);
	rc = daemon_serve(&dr, "serving") < 0 ? 1 : 0;

	while (!TAILQ_EMPTY(&s.conns))
		conn_close(&s, TAILQ_FIRST(&s.conns));
	while (!TAILQ_EMPTY(&s.domains))
		domain_free(&s, TAILQ_FIRST(&s.domains));
	event_free(s.listen_ev);
	close(s.listen_fd);
	unlink(path);
	daemon_finish(&dr); /* control socket, signals, loop, lock */
	return rc;
}
