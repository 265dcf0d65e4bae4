/*
 * hv-loop.c - the loop provider of lib/hv.h: a client of loophvd.
 *
 * Control operations are one request/reply on the hv's SOCK_SEQPACKET
 * connection (lib/loophv-proto.h), serialised by a mutex. The data path is
 * direct:
 *
 *   notify   atomic OR of the peer end's pending bit in the channel's own
 *            bell page + one write of the peer end's doorbell eventfd when
 *            the bit was clear and unmasked. Bell page and doorbell are
 *            fetched once per binding (LH_OP_EVTCHN_PEER); they belong to
 *            that one channel, so a peer reaches nothing of our others.
 *   pending  the handle's fd is an epoll fd holding the doorbell of each
 *            of our ports (data = port, edge-triggered): epoll_wait names
 *            the ports rung; each is taken when pending and unmasked, and
 *            delivered masked (as Linux's evtchn driver does).
 *   grants   dom0 maps each domain's RAM memfd once (LH_OP_DOMAIN_MEM) and
 *            validates grant entries in that shared memory the way Xen does:
 *            one compare-and-swap on the (flags, domid) word that checks
 *            GTF_permit_access, the domid and GTF_readonly and sets
 *            GTF_reading (+ GTF_writing) in the same step, so a guest cannot
 *            change the entry between the check and the pin. The frame is
 *            read after the pin. Pins are counted per ref in this process
 *            and the flags cleared when the last mapping goes. These
 *            checks are lib/hv-loop-grant.c.
 *
 * Trust: the mapper validates grants itself (memory is shared), so grant
 * checks protect a backend from a hostile guest, not a guest from a hostile
 * dom0 -- as on Xen, where dom0 can map anything anyway.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/memory.h>

#include "hv-impl.h"
#include "hv-loop-grant.h"
#include "loophv-proto.h"

#define PAGE          HV_PAGE_SIZE
#define GNT_PER_FRAME (PAGE / sizeof(grant_entry_v1_t))
#define GNT_RESERVED  8 /* GNTTAB_NR_RESERVED_ENTRIES */


struct loop_dom;

struct hv_loop {
	struct hv base;
	int fd;
	pthread_mutex_t lock;
	uint64_t seq;
	char run_dir[108];
	int is_guest;
	uint64_t token;
	struct hv_guest_layout layout;
	uint8_t *ram; /* guest: our own RAM */
	size_t ram_bytes;
	/* guest: page allocator over [LH_GUEST_RESERVED_FRAMES, gnttab_first)
	 * and grant ref allocator, shared by gntshr handles. */
	uint8_t *frame_used;
	uint8_t *ref_used;
	uint32_t nr_refs;
	/* dom0: every domain's RAM we map, shared by all our gnttab and
	 * foreignmem handles (one mapping and one pin count per domain);
	 * dlock guards it. gens: loophvd's generation table (loophv-proto.h). */
	pthread_mutex_t dlock;
	struct loop_dom *doms;
	const uint32_t *gens;
	uint32_t seen_deaths;
};

static struct hv_loop *L(struct hv *hv)
{
	return (struct hv_loop *)hv;
}

/* ------------------------------------------------------------------ */
/* Connection                                                          */
/* ------------------------------------------------------------------ */

static int loop_connect(const char *run_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir,
		     LH_SOCK_NAME) >= (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static const char *pick_run_dir(const struct hv_open_opts *opts)
{
	const char *d = opts ? opts->run_dir : NULL;

	if (!d || !*d)
		d = getenv("SPLITDRV_RUN_DIR");
	if (!d || !*d)
		d = "/run/splitdrv";
	return d;
}

/*
 * recv_rep - one message with up to LH_MAX_FDS descriptors. Returns the
 * number of bytes, 0 on EOF, -errno. Descriptors beyond what the caller
 * wants are closed.
 */
static ssize_t recv_rep(int fd, struct lh_rep *rep, int *fds, int *nfds,
			int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * LH_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;
	int got = 0;

	do
		n = recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
			if (fds && got < LH_MAX_FDS)
				fds[got++] = f;
			else
				close(f);
		}
	}
	if (nfds)
		*nfds = got;
	if (n > 0 && (size_t)n < LH_REP_HDR_SIZE) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EBADMSG;
	}
	return n;
}

/*
 * rpc_fd - one request/reply on fd. Unsolicited events (seq 0) that
 * arrive meanwhile are handed to on_event. Returns rep->ret, or -EPIPE
 * when loophvd is gone.
 */
static int rpc_fd(int fd, uint64_t seq, struct lh_req *req, struct lh_rep *rep,
		  int *fds, int *nfds,
		  void (*on_event)(void *, struct lh_rep *), void *ev_arg)
{
	ssize_t n;

	if (nfds)
		*nfds = 0;
	req->seq = seq;
	do
		n = send(fd, req, sizeof(*req), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET || errno == ENOTCONN ? -EPIPE
								: -errno;
	for (;;) {
		n = recv_rep(fd, rep, fds, nfds, 0);
		if (n == 0 || n == -ECONNRESET)
			return -EPIPE;
		if (n < 0)
			return (int)n;
		if (rep->seq == 0 && rep->op >= LH_EV_DOMAIN_DEAD) {
			if (on_event)
				on_event(ev_arg, rep);
			continue;
		}
		if (rep->seq != seq) {
			for (int i = 0; nfds && i < *nfds; i++)
				close(fds[i]);
			return -EPROTO;
		}
		break;
	}
	if (rep->ret < 0 && nfds) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
	}
	return rep->ret;
}

static int rpc(struct hv_loop *l, struct lh_req *req, struct lh_rep *rep,
	       int *fds, int *nfds)
{
	int r;

	pthread_mutex_lock(&l->lock);
	r = rpc_fd(l->fd, ++l->seq, req, rep, fds, nfds, NULL, NULL);
	pthread_mutex_unlock(&l->lock);
	return r;
}

static void req_init(struct lh_req *req, uint32_t op)
{
	memset(req, 0, sizeof(*req));
	req->op = op;
}

/* ------------------------------------------------------------------ */
/* hv                                                                  */
/* ------------------------------------------------------------------ */

static const struct hv_ops loop_ops;

static struct hv_loop *loop_new(const struct hv_open_opts *opts)
{
	struct hv_loop *l = calloc(1, sizeof(*l));
	const char *dir = pick_run_dir(opts);
	int fd;

	if (!l)
		return NULL;
	if (strlen(dir) >= sizeof(l->run_dir)) {
		free(l);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(l->run_dir, dir);
	fd = loop_connect(dir);
	if (fd < 0) {
		free(l);
		errno = -fd;
		return NULL;
	}
	l->fd = fd;
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->dlock, NULL);
	l->base.ops = &loop_ops;
	l->base.provider = HV_PROVIDER_LOOP;
	return l;
}

static void doms_free_all(struct hv_loop *l);

static void loop_free(struct hv_loop *l)
{
	doms_free_all(l);
	if (l->gens)
		munmap((void *)l->gens, LH_GEN_BYTES);
	if (l->ram)
		munmap(l->ram, l->ram_bytes);
	free(l->frame_used);
	free(l->ref_used);
	close(l->fd);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->dlock);
	free(l);
}

/* memfd_sealed - fd's size cannot change under our mappings. */
static int memfd_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return -errno;
	return (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
			       (F_SEAL_SHRINK | F_SEAL_GROW)
		       ? 0
		       : -EPROTO;
}

struct hv *hv_loop_open(const struct hv_open_opts *opts)
{
	struct hv_loop *l = loop_new(opts);
	struct lh_req req;
	struct lh_rep rep;
	int fds[LH_MAX_FDS], nfds = 0, r;
	void *p = MAP_FAILED;

	if (!l)
		return NULL;
	req_init(&req, LH_OP_HELLO);
	r = rpc(l, &req, &rep, fds, &nfds);
	if (r >= 0 && nfds != 1)
		r = -EPROTO; /* a loophvd without the generation table */
	if (r >= 0 && (r = memfd_sealed(fds[0])) == 0) {
		p = mmap(NULL, LH_GEN_BYTES, PROT_READ, MAP_SHARED, fds[0], 0);
		if (p == MAP_FAILED)
			r = -errno;
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (r < 0) {
		loop_free(l);
		errno = -r;
		return NULL;
	}
	l->gens = p;
	l->seen_deaths = __atomic_load_n(&l->gens[0], __ATOMIC_ACQUIRE);
	l->base.domid = 0;
	return &l->base;
}

struct hv *hv_loop_domain_create(const struct hv_open_opts *opts,
				 const struct hv_domain_create *cfg)
{
	struct hv_loop *l = loop_new(opts);
	struct lh_req req;
	struct lh_rep rep;
	struct lh_created cr;
	int fds[LH_MAX_FDS], nfds = 0, r;

	if (!l)
		return NULL;
	req_init(&req, LH_OP_DOMAIN_CREATE);
	req.a.create.mem_bytes = cfg->mem_bytes;
	req.a.create.grant_frames = cfg->grant_frames;
	req.a.create.max_vcpus = cfg->max_vcpus;
	if (cfg->name)
		snprintf(req.a.create.name, sizeof(req.a.create.name), "%s",
			 cfg->name);
	r = rpc(l, &req, &rep, fds, &nfds);
	if (r >= 0 && (nfds != 1 || rep.len < sizeof(cr)))
		r = -EPROTO;
	if (r < 0)
		goto fail;
	cr = rep.d.created; /* our copy */
	if (cr.nr_frames == 0 ||
	    cr.gnttab_first + cr.grant_frames != cr.nr_frames ||
	    cr.gnttab_first <= LH_GUEST_RESERVED_FRAMES) {
		r = -EPROTO;
		goto fail;
	}
	l->ram_bytes = cr.nr_frames * PAGE;
	l->ram = mmap(NULL, l->ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fds[0], 0);
	close(fds[0]);
	nfds = 0;
	if (l->ram == MAP_FAILED) {
		l->ram = NULL;
		r = -errno;
		goto fail;
	}
	l->is_guest = 1;
	l->token = cr.token;
	l->base.domid = cr.domid;
	l->layout.nr_frames = cr.nr_frames;
	l->layout.gnttab_first = cr.gnttab_first;
	l->layout.gnttab_frames = cr.grant_frames;
	l->layout.max_vcpus = cr.max_vcpus;
	l->nr_refs = cr.grant_frames * GNT_PER_FRAME;
	l->frame_used = calloc(cr.gnttab_first, 1);
	l->ref_used = calloc(l->nr_refs, 1);
	if (!l->frame_used || !l->ref_used) {
		r = -ENOMEM;
		goto fail;
	}
	return &l->base;
fail:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	loop_free(l);
	errno = -r;
	return NULL;
}

static void loop_close(struct hv *hv)
{
	loop_free(L(hv));
}

static void *loop_guest_ram(struct hv *hv, struct hv_guest_layout *layout)
{
	struct hv_loop *l = L(hv);

	if (!l->is_guest) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (layout)
		*layout = l->layout;
	return l->ram;
}

static int loop_param(struct hv *hv, uint32_t op, domid_t domid, uint32_t param,
		      uint64_t *val)
{
	struct lh_req req;
	struct lh_rep rep;
	int r;

	req_init(&req, op);
	req.a.d.domid = domid;
	req.a.d.param = param;
	if (op == LH_OP_PARAM_SET)
		req.a.d.value = *val;
	r = rpc(L(hv), &req, &rep, NULL, NULL);
	if (r >= 0 && op == LH_OP_PARAM_GET) {
		if (rep.len < sizeof(uint64_t))
			return -EPROTO;
		*val = rep.d.value;
	}
	return r < 0 ? r : 0;
}

static int loop_domain_shutdown(struct hv *hv, unsigned int reason)
{
	struct lh_req req;
	struct lh_rep rep;
	int r;

	if (!L(hv)->is_guest)
		return -EINVAL; /* dom0 is not shut down from here */
	req_init(&req, LH_OP_DOMAIN_SHUTDOWN);
	req.a.d.value = reason;
	r = rpc(L(hv), &req, &rep, NULL, NULL);
	return r < 0 ? r : 0;
}

static int loop_domain_destroy(struct hv *hv, domid_t domid)
{
	struct lh_req req;
	struct lh_rep rep;
	int r;

	req_init(&req, LH_OP_DOMAIN_DESTROY);
	req.a.d.domid = domid;
	r = rpc(L(hv), &req, &rep, NULL, NULL);
	return r < 0 ? r : 0;
}

static int loop_param_get(struct hv *hv, domid_t domid, uint32_t param,
			  uint64_t *val)
{
	return loop_param(hv, LH_OP_PARAM_GET, domid, param, val);
}

static int loop_param_set(struct hv *hv, domid_t domid, uint32_t param,
			  uint64_t val)
{
	return loop_param(hv, LH_OP_PARAM_SET, domid, param, &val);
}

/* ------------------------------------------------------------------ */
/* Event channels                                                      */
/* ------------------------------------------------------------------ */

/* One port's channel as this end sees it: the bell page, our end of it,
 * the peer end's doorbell. Fetched once per binding (LH_OP_EVTCHN_PEER). */
struct loop_port {
	struct lh_bell *bell; /* NULL until resolved */
	int efd;              /* the peer end's doorbell */
	uint8_t end;          /* ours; the peer's is !end */
	uint32_t rport;
};

#define EVQ 32

/*
 * A handle. Its fd is loophvd's epoll fd for it, holding the doorbell of
 * each of its bound ports (EPOLLET, data = port) and our own wakefd (data
 * 0: port 0 is never used). pending() takes ports from epoll_wait; unmask
 * of a port that became pending while masked queues it in recheck and
 * rings wakefd. One thread at a time per handle, as for xenevtchn.
 */
struct loop_evtchn {
	struct hv_handle_common c;
	int32_t id;
	int epfd;
	int wakefd;
	const uint8_t *state; /* read-only: written by loophvd */
	struct loop_port port[HV_EVTCHN_MAX_PORTS];
	uint32_t q[EVQ]; /* ports from the last epoll_wait */
	unsigned int qn, qi;
	int settled; /* that epoll_wait was not full */
	int woken;   /* wakefd written since the last epoll_wait */
	uint64_t recheck[HV_EVTCHN_MAX_PORTS / 64];
	unsigned int nrecheck;
};

#define STATE_BYTES (LH_EVT_PAGES * PAGE)

static struct loop_evtchn *E(struct hv_evtchn *h)
{
	return (struct loop_evtchn *)h;
}

/* map_sealed - map a memfd from loophvd; refuse one that its holders
 * could resize under us (SIGBUS) or that is smaller than len. */
static void *map_sealed(int fd, size_t len, int prot)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	void *p;

	if (seals < 0 || (seals & LH_SEALS) != LH_SEALS) {
		errno = EPROTO;
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		return NULL;
	if ((uint64_t)st.st_size < len) {
		errno = EPROTO;
		return NULL;
	}
	p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static struct hv_evtchn *loop_evtchn_open(struct hv *hv)
{
	struct loop_evtchn *e = calloc(1, sizeof(*e));
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct lh_req req;
	struct lh_rep rep;
	int fds[LH_MAX_FDS], nfds = 0, r;
	void *map;

	if (!e)
		return NULL;
	e->epfd = e->wakefd = -1;
	req_init(&req, LH_OP_EVTCHN_OPEN);
	r = rpc(L(hv), &req, &rep, fds, &nfds);
	if (r >= 0 && nfds != 2)
		r = -EPROTO;
	if (r < 0)
		goto fail;
	e->id = r;
	e->epfd = fds[0];
	map = map_sealed(fds[1], STATE_BYTES, PROT_READ);
	close(fds[1]);
	nfds = 0;
	if (!map) {
		r = -errno;
		goto fail_close;
	}
	e->state = map;
	e->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.u64 = 0;
	if (e->wakefd < 0 ||
	    epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->wakefd, &ev) < 0) {
		r = -errno;
		goto fail_close;
	}
	e->c.hv = hv;
	return (struct hv_evtchn *)e;
fail_close:
	req_init(&req, LH_OP_EVTCHN_CLOSE);
	req.a.evt.handle = e->id;
	(void)rpc(L(hv), &req, &rep, NULL, NULL);
fail:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (e->state)
		munmap((void *)e->state, STATE_BYTES);
	if (e->wakefd >= 0)
		close(e->wakefd);
	if (e->epfd >= 0)
		close(e->epfd);
	free(e);
	errno = -r;
	return NULL;
}

static void port_forget(struct loop_evtchn *e, evtchn_port_t port)
{
	struct loop_port *lp = &e->port[port];

	if (lp->bell) {
		munmap(lp->bell, LH_BELL_BYTES);
		close(lp->efd);
		lp->bell = NULL;
		lp->efd = -1;
	}
}

static void loop_evtchn_close(struct hv_evtchn *h)
{
	struct loop_evtchn *e = E(h);
	struct lh_req req;
	struct lh_rep rep;

	for (evtchn_port_t p = 0; p < HV_EVTCHN_MAX_PORTS; p++)
		port_forget(e, p);
	req_init(&req, LH_OP_EVTCHN_CLOSE);
	req.a.evt.handle = e->id;
	(void)rpc(L(e->c.hv), &req, &rep, NULL, NULL); /* best effort */
	munmap((void *)e->state, STATE_BYTES);
	close(e->wakefd);
	close(e->epfd);
	free(e);
}

static int loop_evtchn_fd(struct hv_evtchn *h)
{
	return E(h)->epfd;
}

static int evt_rpc(struct loop_evtchn *e, uint32_t op, domid_t domid,
		   uint32_t port)
{
	struct lh_req req;
	struct lh_rep rep;

	req_init(&req, op);
	req.a.evt.handle = e->id;
	req.a.evt.domid = domid;
	req.a.evt.port = port;
	return rpc(L(e->c.hv), &req, &rep, NULL, NULL);
}

static int loop_evtchn_alloc_unbound(struct hv_evtchn *h, domid_t remote)
{
	return evt_rpc(E(h), LH_OP_EVTCHN_ALLOC_UNBOUND, remote, 0);
}

static int loop_evtchn_bind_interdomain(struct hv_evtchn *h, domid_t remote,
					evtchn_port_t rport)
{
	return evt_rpc(E(h), LH_OP_EVTCHN_BIND, remote, rport);
}

static int loop_evtchn_unbind(struct hv_evtchn *h, evtchn_port_t port)
{
	struct loop_evtchn *e = E(h);
	int r;

	if (port >= HV_EVTCHN_MAX_PORTS)
		return -EINVAL;
	r = evt_rpc(e, LH_OP_EVTCHN_UNBIND, 0, port);
	if (r == 0)
		port_forget(e, port);
	return r;
}

static uint8_t port_state(struct loop_evtchn *e, evtchn_port_t port)
{
	return __atomic_load_n(e->state + LH_EVT_STATE_OFF + port,
			       __ATOMIC_ACQUIRE);
}

static int loop_evtchn_state(struct hv_evtchn *h, evtchn_port_t port)
{
	if (port >= HV_EVTCHN_MAX_PORTS)
		return -EINVAL;
	return port_state(E(h), port);
}

/* resolve - fetch (once) the channel of an interdomain port. */
static int resolve(struct loop_evtchn *e, evtchn_port_t port)
{
	struct loop_port *lp = &e->port[port];
	struct lh_req req;
	struct lh_rep rep;
	struct lh_peer peer;
	int fds[LH_MAX_FDS], nfds = 0, r;
	void *map;

	req_init(&req, LH_OP_EVTCHN_PEER);
	req.a.evt.handle = e->id;
	req.a.evt.port = port;
	r = rpc(L(e->c.hv), &req, &rep, fds, &nfds);
	if (r >= 0 && (nfds != 2 || rep.len < sizeof(peer)))
		r = -EPROTO;
	if (r < 0)
		goto out;
	peer = rep.d.peer;
	if (peer.peer_port == 0 || peer.peer_port >= HV_EVTCHN_MAX_PORTS ||
	    peer.end > 1) {
		r = -EPROTO;
		goto out;
	}
	map = map_sealed(fds[1], LH_BELL_BYTES, PROT_READ | PROT_WRITE);
	if (!map) {
		r = -errno;
		goto out;
	}
	port_forget(e, port);
	lp->bell = map;
	lp->efd = fds[0];
	fds[0] = -1;
	lp->end = peer.end;
	lp->rport = peer.peer_port;
	r = 0;
out:
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int loop_evtchn_notify(struct hv_evtchn *h, evtchn_port_t port)
{
	struct loop_evtchn *e = E(h);
	struct lh_bell_end *be;
	uint64_t one = 1;

	if (port == 0 || port >= HV_EVTCHN_MAX_PORTS)
		return -EINVAL;
	switch (port_state(e, port)) {
	case HV_EVTCHN_INTERDOMAIN:
		break;
	case HV_EVTCHN_UNBOUND:
		return 0; /* as Xen: nobody to tell yet */
	case HV_EVTCHN_PEER_CLOSED:
		return -ENOTCONN;
	default:
		port_forget(e, port);
		return -EINVAL;
	}
	if (!e->port[port].bell) {
		int r = resolve(e, port);

		if (r < 0)
			return r;
	}
	be = &e->port[port].bell->end[!e->port[port].end];
	/* seq_cst: pairs with the receiver's unmask (clear mask, then test
	 * pending) so that one side always sees the other's write. */
	if (__atomic_fetch_or(&be->pending, 1, __ATOMIC_SEQ_CST) & 1)
		return 0; /* already pending: coalesced */
	if (__atomic_load_n(&be->mask, __ATOMIC_SEQ_CST) & 1)
		return 0; /* masked: delivered on unmask */
	if (write(e->port[port].efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/* take - port is pending and unmasked: mask it, clear it, say yes. */
static int take(struct loop_evtchn *e, uint32_t port)
{
	struct lh_bell_end *be;

	if (port == 0 || port >= HV_EVTCHN_MAX_PORTS)
		return 0;
	if (!e->port[port].bell && resolve(e, port) < 0)
		return 0; /* unbound meanwhile: a stale doorbell */
	be = &e->port[port].bell->end[e->port[port].end];
	if (!(__atomic_load_n(&be->pending, __ATOMIC_SEQ_CST) & 1) ||
	    (__atomic_load_n(&be->mask, __ATOMIC_SEQ_CST) & 1))
		return 0;
	/* Mask before clearing pending: a notify in between sees the mask
	 * and stays pending for the unmask. */
	__atomic_fetch_or(&be->mask, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&be->pending, ~(uint64_t)1, __ATOMIC_SEQ_CST);
	return 1;
}

static void wake_self(struct loop_evtchn *e)
{
	uint64_t one = 1;

	/* EPOLLET: every write is an edge; the count is never read. One
	 * edge stays ready until our next epoll_wait takes it, so one write
	 * per epoll_wait is enough. */
	if (e->woken)
		return;
	e->woken = 1;
	(void)!write(e->wakefd, &one, sizeof(one));
}

static int loop_evtchn_pending(struct hv_evtchn *h)
{
	struct loop_evtchn *e = E(h);
	struct epoll_event evs[EVQ];
	int n;

	for (;;) {
		/* Ports unmasked while pending. */
		for (uint32_t w = 0;
		     e->nrecheck && w < HV_EVTCHN_MAX_PORTS / 64; w++) {
			while (e->recheck[w]) {
				uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(
							      e->recheck[w]);

				e->recheck[w] &= e->recheck[w] - 1;
				e->nrecheck--;
				if (take(e, p))
					return (int)p;
			}
		}
		/* Doorbells from the last epoll_wait. */
		while (e->qi < e->qn) {
			uint32_t p = e->q[e->qi++];

			if (take(e, p)) {
				if (e->qi < e->qn)
					wake_self(e); /* the fd stays readable */
				return (int)p;
			}
		}
		/* The queue ran dry and the epoll_wait that filled it was not
		 * full: anything rung since has made the fd readable again,
		 * so the caller will be back; save it a syscall (one per
		 * wakeup instead of two: the ping-pong path). */
		if (e->settled) {
			e->settled = 0;
			return -EAGAIN;
		}
		e->woken = 0; /* this epoll_wait takes any pending edge */
		n = epoll_wait(e->epfd, evs, EVQ, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EAGAIN;
		e->settled = n < EVQ;
		e->qi = e->qn = 0;
		for (int i = 0; i < n; i++)
			if (evs[i].data.u64) /* 0: wakefd, see recheck */
				e->q[e->qn++] = (uint32_t)evs[i].data.u64;
	}
}

static int loop_evtchn_unmask(struct hv_evtchn *h, evtchn_port_t port)
{
	struct loop_evtchn *e = E(h);
	struct lh_bell_end *be;
	uint64_t bit = 1ULL << (port % 64);

	if (port == 0 || port >= HV_EVTCHN_MAX_PORTS)
		return -EINVAL;
	if (!e->port[port].bell)
		return 0; /* never delivered, so never masked by us */
	be = &e->port[port].bell->end[e->port[port].end];
	__atomic_fetch_and(&be->mask, ~(uint64_t)1, __ATOMIC_SEQ_CST);
	if ((__atomic_load_n(&be->pending, __ATOMIC_SEQ_CST) & 1) &&
	    !(e->recheck[port / 64] & bit)) {
		/* Became pending while masked: wake ourselves up. */
		e->recheck[port / 64] |= bit;
		e->nrecheck++;
		wake_self(e);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Guest memory as seen by a mapper                                    */
/* ------------------------------------------------------------------ */

/*
 * One domain's RAM, mapped once per hv, and our pins of its grant entries.
 *
 * Lifetime: an entry is made on first use (LH_OP_DOMAIN_MEM: loophvd counts
 * us as a holder of the domain's memory) and counted by what uses it: each
 * grant-mapped page and each foreign mapping (refs). It is stale once
 * loophvd's generation table no longer shows its generation (the domain
 * died; its domid may even be in use again). A stale entry leaves the
 * lookup list at once and is freed, its hold released, when refs is 0:
 * right away, or at the unmap that drops the last use. Staleness is seen
 * with one load of the death counter on every dom_get() and dom_put(), and
 * by hv_domains_next_event() when it reports a death, so a dom0 process
 * that learns of a death through its domains handle, or that maps or
 * unmaps anything afterwards, holds nothing of the dead domain left.
 */
struct loop_dom {
	struct loop_dom *next;
	domid_t domid;
	uint32_t gen;
	int stale;
	int memfd;
	uint8_t *ram;
	uint64_t nr_frames;
	struct hv_loop_grants gnt; /* its grant table and our pins */
	uint64_t refs;
	uint32_t vma_pages; /* grant-mapped pages that cost a mapping (VMA) */
	/* Frames where a direct grant map starts: a second map there gets
	 * a mapping of its own, so that every live map has its own address
	 * and unmap knows which one it ends. */
	uint8_t *direct_at; /* bitmap of nr_frames bits, made on first use */
};

static void dom_free(struct hv_loop *l, struct loop_dom *d)
{
	struct lh_req req;
	struct lh_rep rep;

	munmap(d->ram, d->nr_frames * PAGE);
	close(d->memfd);
	free(d->direct_at);
	req_init(&req, LH_OP_DOMAIN_MEM_RELEASE);
	req.a.d.domid = d->domid;
	(void)rpc(l, &req, &rep, NULL, NULL);
	hv_loop_grants_fini(&d->gnt);
	free(d);
}

static int dom_dead(const struct hv_loop *l, const struct loop_dom *d)
{
	return __atomic_load_n(&l->gens[d->domid], __ATOMIC_ACQUIRE) != d->gen;
}

/* doms_sweep - with dlock: unlink the entries of dead domains; free the
 * unused ones (the others go when their last use does). */
static void doms_sweep(struct hv_loop *l)
{
	uint32_t deaths = __atomic_load_n(&l->gens[0], __ATOMIC_ACQUIRE);
	struct loop_dom **pp = &l->doms;

	if (deaths == l->seen_deaths)
		return;
	l->seen_deaths = deaths;
	while (*pp) {
		struct loop_dom *d = *pp;

		if (!dom_dead(l, d)) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		d->stale = 1;
		d->next = NULL;
		if (d->refs == 0)
			dom_free(l, d);
	}
}

/* dom_put - with dlock: drop n uses of d. */
static void dom_put(struct hv_loop *l, struct loop_dom *d, uint64_t n)
{
	d->refs -= n;
	if (d->refs == 0 && d->stale)
		dom_free(l, d);
	else
		doms_sweep(l);
}

static void doms_free_all(struct hv_loop *l)
{
	while (l->doms) {
		struct loop_dom *d = l->doms;

		l->doms = d->next;
		dom_free(l, d);
	}
}

/* dom_get - with dlock: domid's entry, made on first use; the caller
 * takes a use (d->refs) of what it keeps. */
static struct loop_dom *dom_get(struct hv_loop *l, domid_t domid, int *err)
{
	struct loop_dom *d;
	struct lh_req req;
	struct lh_rep rep;
	struct lh_created cr;
	int fds[LH_MAX_FDS], nfds = 0, r;

	doms_sweep(l);
	for (d = l->doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	if (domid == 0 || domid >= DOMID_FIRST_RESERVED) {
		*err = -ESRCH;
		return NULL;
	}
	req_init(&req, LH_OP_DOMAIN_MEM);
	req.a.d.domid = domid;
	r = rpc(l, &req, &rep, fds, &nfds);
	if (r >= 0 && (nfds != 1 || rep.len < sizeof(cr)))
		r = -EPROTO;
	if (r < 0)
		goto fail;
	cr = rep.d.created;
	if (cr.nr_frames == 0 || cr.grant_frames == 0 ||
	    cr.grant_frames > LH_MAX_GRANT_FRAMES ||
	    cr.gnttab_first + cr.grant_frames != cr.nr_frames) {
		r = -EPROTO;
		goto fail_hold;
	}
	/* A memfd whose size may change would fault us (SIGBUS) on a guest's
	 * ftruncate: map only sealed RAM. */
	r = memfd_sealed(fds[0]);
	if (r < 0)
		goto fail_hold;
	d = calloc(1, sizeof(*d));
	if (!d) {
		r = -ENOMEM;
		goto fail_hold;
	}
	d->domid = domid;
	d->gen = cr.gen;
	d->memfd = fds[0];
	d->nr_frames = cr.nr_frames;
	d->ram = mmap(NULL, d->nr_frames * PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, d->memfd, 0);
	if (d->ram == MAP_FAILED) {
		r = -errno;
		free(d);
		goto fail_hold;
	}
	r = hv_loop_grants_init(&d->gnt, d->ram, cr.gnttab_first,
				cr.grant_frames);
	if (r < 0) {
		munmap(d->ram, d->nr_frames * PAGE);
		free(d);
		goto fail_hold;
	}
	d->next = l->doms;
	l->doms = d;
	if (dom_dead(l, d)) {
		/* It died between the reply and now: not for new uses. */
		l->doms = d->next;
		dom_free(l, d);
		*err = -ESRCH;
		return NULL;
	}
	return d;
fail_hold:
	req_init(&req, LH_OP_DOMAIN_MEM_RELEASE);
	req.a.d.domid = domid;
	(void)rpc(l, &req, &rep, NULL, NULL);
fail:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	*err = r;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Grant mapping                                                       */
/* ------------------------------------------------------------------ */

struct gmap_page {
	struct loop_dom *dom;
	grant_ref_t ref;
};

struct gmap {
	struct gmap *next;
	uint8_t *addr;
	uint32_t count;
	int writable;
	int direct; /* a pointer into dom->ram: nothing to munmap */
	int persistent;
	struct gmap_page pages[];
};

struct loop_gnttab {
	struct hv_handle_common c;
	struct gmap *maps;
};

/*
 * Grant maps and the process's mapping budget. A map whose pages are one
 * run of consecutive frames of one domain (every single-page map, and most
 * rings) is a pointer into our mapping of that domain's RAM: no mapping of
 * its own, no munmap, no TLB shootdown. Any other map costs one mapping
 * (VMA) per page, and vm.max_map_count (65530 by default) is per process:
 * a guest that piles up requests must not use them all. So each granting
 * domain may hold at most LOOP_GNT_VMA_PAGES such pages mapped by one dom0
 * process at a time (beyond: -ENOSPC), as Xen bounds a domain's maptrack.
 * 16384 is a quarter of the default budget: three guests at their limit
 * still leave room for every other. blkback's worst case is far above any
 * budget (4 queues x 512 requests of an order-4 ring x 256 indirect
 * segments = 524288 pages), so a guest that deep gets -ENOSPC for the
 * requests beyond 16384 mapped pages (64 MiB in flight), not the others
 * their maps.
 */
#define LOOP_GNT_VMA_PAGES 16384

static struct loop_gnttab *G(struct hv_gnttab *h)
{
	return (struct loop_gnttab *)h;
}

static struct hv_gnttab *loop_gnttab_open(struct hv *hv)
{
	struct loop_gnttab *g;

	if (L(hv)->is_guest) {
		/* Guests map no grants on the loopback (no driver domains). */
		errno = EOPNOTSUPP;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->c.hv = hv;
	return (struct hv_gnttab *)g;
}

static int direct_test(const struct loop_dom *d, uint64_t frame)
{
	return d->direct_at && (d->direct_at[frame / 8] >> (frame % 8)) & 1;
}

static void direct_set(struct loop_dom *d, uint64_t frame, int on)
{
	uint8_t bit = (uint8_t)(1u << (frame % 8));

	if (on)
		d->direct_at[frame / 8] |= bit;
	else
		d->direct_at[frame / 8] &= (uint8_t)~bit;
}

/* gmap_release - with dlock: unpin and drop the first upto pages. */
static void gmap_release(struct hv_loop *l, struct gmap *m, uint32_t upto)
{
	if (!m->direct && m->addr)
		munmap(m->addr, (size_t)m->count * PAGE);
	if (m->direct && !m->persistent && m->addr && upto)
		direct_set(m->pages[0].dom,
			   (uint64_t)(m->addr - m->pages[0].dom->ram) / PAGE, 0);
	for (uint32_t i = 0; i < upto; i++) {
		struct loop_dom *d = m->pages[i].dom;

		hv_loop_grant_unpin(&d->gnt, m->pages[i].ref, m->writable);
		if (!m->direct)
			d->vma_pages--;
		dom_put(l, d, 1);
	}
}

static void loop_gnttab_close(struct hv_gnttab *h)
{
	struct loop_gnttab *g = G(h);
	struct hv_loop *l = L(g->c.hv);

	pthread_mutex_lock(&l->dlock);
	while (g->maps) {
		struct gmap *m = g->maps;

		g->maps = m->next;
		gmap_release(l, m, m->count);
		free(m);
	}
	pthread_mutex_unlock(&l->dlock);
	free(g);
}

/* gmap_fill - with dlock: pin every page; the direct form when they are
 * one run of frames of one domain. 0 or -errno (nothing left pinned). */
static int gmap_fill(struct hv_loop *l, struct gmap *m, const domid_t *domids,
		     int same_domain, const grant_ref_t *refs, uint64_t *frames)
{
	uint32_t i;
	int err = 0;

	for (i = 0; i < m->count; i++) {
		domid_t domid = same_domain ? domids[0] : domids[i];
		struct loop_dom *d = dom_get(l, domid, &err);
		int64_t frame;

		if (!d)
			break;
		frame = hv_loop_grant_pin(&d->gnt, l->base.domid, refs[i],
					  m->writable);
		if (frame < 0) {
			err = (int)frame;
			break;
		}
		d->refs++;
		m->pages[i].dom = d;
		m->pages[i].ref = refs[i];
		frames[i] = (uint64_t)frame;
		if (i > 0 &&
		    (d != m->pages[0].dom || frames[i] != frames[0] + i))
			m->direct = 0;
	}
	if (i < m->count) {
		m->direct = 1; /* nothing mapped yet */
		gmap_release(l, m, i);
		return err;
	}
	return 0;
}

static void *loop_gnttab_map(struct hv_gnttab *h, uint32_t count,
			     const domid_t *domids, int same_domain,
			     const grant_ref_t *refs, int flags)
{
	struct loop_gnttab *g = G(h);
	struct hv_loop *l = L(g->c.hv);
	int prot;
	struct gmap *m;
	uint64_t fbuf[16], *frames = fbuf;
	uint32_t i;
	int err;

	if (count == 0 || count > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m) + count * sizeof(m->pages[0]));
	if (m && count > 16)
		frames = malloc(count * sizeof(*frames));
	if (!m || !frames) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->count = count;
	m->writable = !(flags & HV_GNTMAP_RO);
	/* A persistent map (a grant cache's) may share its address with
	 * another map of the same frame, as before; unmap then ends the
	 * newest of them. */
	m->persistent = !!(flags & HV_GNTMAP_PERSISTENT);
	prot = PROT_READ | (m->writable ? PROT_WRITE : 0);
	m->direct = 1;
	pthread_mutex_lock(&l->dlock);
	err = gmap_fill(l, m, domids, same_domain, refs, frames);
	if (err)
		goto fail;
	if (m->direct && !m->persistent) {
		struct loop_dom *d = m->pages[0].dom;

		if (!d->direct_at)
			d->direct_at = calloc((d->nr_frames + 7) / 8, 1);
		if (!d->direct_at || direct_test(d, frames[0]))
			m->direct = 0;
	}
	if (m->direct) {
		/* Read-only grants too: dom0 is trusted not to write them,
		 * as on Xen it could map the frame writable anyway. */
		m->addr = m->pages[0].dom->ram + frames[0] * PAGE;
		if (!m->persistent)
			direct_set(m->pages[0].dom, frames[0], 1);
		goto done;
	}
	for (i = 0; i < count; i++) {
		if (m->pages[i].dom->vma_pages >= LOOP_GNT_VMA_PAGES) {
			err = -ENOSPC;
			break;
		}
		m->pages[i].dom->vma_pages++;
	}
	if (i < count) {
		while (i-- > 0)
			m->pages[i].dom->vma_pages--;
		m->direct = 1; /* unpin only */
		gmap_release(l, m, count);
		goto fail;
	}
	m->addr = mmap(NULL, (size_t)count * PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->addr == MAP_FAILED) {
		err = -errno;
		m->addr = NULL;
		gmap_release(l, m, count);
		goto fail;
	}
	for (i = 0; i < count; i++) {
		struct loop_dom *d = m->pages[i].dom;

		if (mmap(m->addr + (size_t)i * PAGE, PAGE, prot,
			 MAP_SHARED | MAP_FIXED, d->memfd,
			 (off_t)(frames[i] * PAGE)) == MAP_FAILED) {
			err = -errno;
			gmap_release(l, m, count);
			goto fail;
		}
	}
done:
	m->next = g->maps;
	g->maps = m;
	pthread_mutex_unlock(&l->dlock);
	if (frames != fbuf)
		free(frames);
	return m->addr;
fail:
	pthread_mutex_unlock(&l->dlock);
	if (frames != fbuf)
		free(frames);
	free(m);
	errno = -err;
	return NULL;
}

static int loop_gnttab_unmap(struct hv_gnttab *h, void *addr, uint32_t count)
{
	struct loop_gnttab *g = G(h);
	struct hv_loop *l = L(g->c.hv);
	struct gmap **pp;
	int r = -EINVAL;

	pthread_mutex_lock(&l->dlock);
	for (pp = &g->maps; *pp; pp = &(*pp)->next) {
		struct gmap *m = *pp;

		if (m->addr != addr || m->count != count)
			continue;
		*pp = m->next;
		gmap_release(l, m, m->count);
		free(m);
		r = 0;
		break;
	}
	pthread_mutex_unlock(&l->dlock);
	return r;
}

static int16_t errno_to_gntst(int err)
{
	switch (err) {
	case -EINVAL:
		return GNTST_bad_gntref;
	case -EACCES:
		return GNTST_permission_denied;
	case -ESRCH:
		return GNTST_bad_domain;
	case -EBUSY:
		return GNTST_eagain;
	default:
		return GNTST_general_error;
	}
}

/* copy_side - with dlock: resolve one side of a copy segment to a pointer
 * (a gref side is pinned and holds a use of its domain). */
static int copy_side(struct hv_loop *l, const struct hv_gnttab_copy_ptr *p,
		     uint16_t len, int writable, uint8_t **out,
		     struct loop_dom **pinned)
{
	struct loop_dom *d;
	int64_t frame;
	int err = 0;

	*pinned = NULL;
	if (!p->is_gref) {
		*out = p->u.virt;
		return *out ? 0 : -EFAULT;
	}
	if ((uint32_t)p->u.gref.offset + len > PAGE)
		return -E2BIG;
	d = dom_get(l, p->u.gref.domid, &err);
	if (!d)
		return err;
	frame = hv_loop_grant_pin(&d->gnt, l->base.domid, p->u.gref.ref,
				  writable);
	if (frame < 0)
		return (int)frame;
	d->refs++;
	*pinned = d;
	*out = d->ram + (uint64_t)frame * PAGE + p->u.gref.offset;
	return 0;
}

static void copy_unpin(struct hv_loop *l, struct loop_dom *d, grant_ref_t ref,
		       int writable)
{
	if (!d)
		return;
	hv_loop_grant_unpin(&d->gnt, ref, writable);
	dom_put(l, d, 1);
}

static int loop_gnttab_copy(struct hv_gnttab *h, uint32_t count,
			    struct hv_gnttab_copy_seg *segs)
{
	struct hv_loop *l = L(G(h)->c.hv);

	pthread_mutex_lock(&l->dlock);
	for (uint32_t i = 0; i < count; i++) {
		struct hv_gnttab_copy_seg *s = &segs[i];
		struct loop_dom *sd, *dd;
		uint8_t *src, *dst;
		int r;

		if (s->len == 0 || s->len > PAGE) {
			s->status = GNTST_bad_copy_arg;
			continue;
		}
		r = copy_side(l, &s->source, s->len, 0, &src, &sd);
		if (r < 0) {
			s->status = r == -E2BIG || r == -EFAULT
					    ? GNTST_bad_copy_arg
					    : errno_to_gntst(r);
			continue;
		}
		r = copy_side(l, &s->dest, s->len, 1, &dst, &dd);
		if (r < 0) {
			copy_unpin(l, sd, s->source.u.gref.ref, 0);
			s->status = r == -E2BIG || r == -EFAULT
					    ? GNTST_bad_copy_arg
					    : errno_to_gntst(r);
			continue;
		}
		memmove(dst, src, s->len);
		copy_unpin(l, dd, s->dest.u.gref.ref, 1);
		copy_unpin(l, sd, s->source.u.gref.ref, 0);
		s->status = GNTST_okay;
	}
	pthread_mutex_unlock(&l->dlock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Grant sharing (guest side)                                          */
/* ------------------------------------------------------------------ */

struct gshare {
	struct gshare *next;
	uint8_t *addr;
	uint64_t first_frame;
	uint32_t count;
	int writable;
	grant_ref_t refs[];
};

struct loop_gntshr {
	struct hv_handle_common c;
	struct gshare *shares;
};

static struct loop_gntshr *S(struct hv_gntshr *h)
{
	return (struct loop_gntshr *)h;
}

static struct hv_gntshr *loop_gntshr_open(struct hv *hv)
{
	struct loop_gntshr *s;

	if (!L(hv)->is_guest) {
		/* dom0 frontends are not modelled on the loopback. */
		errno = EOPNOTSUPP;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c.hv = hv;
	return (struct hv_gntshr *)s;
}

static grant_entry_v1_t *own_entry(struct hv_loop *l, grant_ref_t ref)
{
	return (grant_entry_v1_t *)(l->ram + l->layout.gnttab_first * PAGE) +
	       ref;
}

static int ref_alloc(struct hv_loop *l)
{
	for (uint32_t r = GNT_RESERVED; r < l->nr_refs; r++) {
		if (!l->ref_used[r]) {
			l->ref_used[r] = 1;
			return (int)r;
		}
	}
	return -ENOSPC;
}

static void grant_write(struct hv_loop *l, grant_ref_t ref, domid_t domid,
			uint64_t frame, int writable)
{
	grant_entry_v1_t *ge = own_entry(l, ref);

	ge->domid = domid;
	ge->frame = (uint32_t)frame;
	/* The entry is complete before it becomes valid (as a guest kernel
	 * does with wmb() before writing flags). */
	__atomic_store_n(&ge->flags,
			 (uint16_t)(GTF_permit_access |
				    (writable ? 0 : GTF_readonly)),
			 __ATOMIC_RELEASE);
}

/* end_ref - revoke ref unless mapped: -EBUSY while GTF_reading/writing. */
static int end_ref(struct hv_loop *l, grant_ref_t ref)
{
	grant_entry_v1_t *ge = own_entry(l, ref);
	uint16_t old = __atomic_load_n(&ge->flags, __ATOMIC_ACQUIRE);

	do {
		if (old & (GTF_reading | GTF_writing))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&ge->flags, &old, 0, 0,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 0;
}

static int ref_busy(struct hv_loop *l, grant_ref_t ref)
{
	return __atomic_load_n(&own_entry(l, ref)->flags, __ATOMIC_ACQUIRE) &
	       (GTF_reading | GTF_writing);
}

static void *loop_gntshr_share(struct hv_gntshr *h, domid_t domid,
			       uint32_t count, grant_ref_t *refs, int writable)
{
	struct loop_gntshr *s = S(h);
	struct hv_loop *l = L(s->c.hv);
	uint64_t first = 0, run = 0;
	struct gshare *sh;
	uint32_t i;

	/* First fit of count contiguous free frames. */
	for (uint64_t f = LH_GUEST_RESERVED_FRAMES; f < l->layout.gnttab_first;
	     f++) {
		if (l->frame_used[f]) {
			run = 0;
			continue;
		}
		if (run++ == 0)
			first = f;
		if (run == count)
			break;
	}
	if (run < count) {
		errno = ENOMEM;
		return NULL;
	}
	sh = calloc(1, sizeof(*sh) + count * sizeof(grant_ref_t));
	if (!sh)
		return NULL;
	for (i = 0; i < count; i++) {
		int r = ref_alloc(l);

		if (r < 0)
			break;
		sh->refs[i] = (grant_ref_t)r;
	}
	if (i < count) {
		while (i--)
			l->ref_used[sh->refs[i]] = 0;
		free(sh);
		errno = ENOSPC;
		return NULL;
	}
	sh->addr = l->ram + first * PAGE;
	sh->first_frame = first;
	sh->count = count;
	sh->writable = writable;
	memset(sh->addr, 0, (size_t)count * PAGE);
	for (i = 0; i < count; i++) {
		l->frame_used[first + i] = 1;
		grant_write(l, sh->refs[i], domid, first + i, writable);
		refs[i] = sh->refs[i];
	}
	sh->next = s->shares;
	s->shares = sh;
	return sh->addr;
}

static int loop_gntshr_unshare(struct hv_gntshr *h, void *addr, uint32_t count)
{
	struct loop_gntshr *s = S(h);
	struct hv_loop *l = L(s->c.hv);
	struct gshare **pp;

	for (pp = &s->shares; *pp; pp = &(*pp)->next) {
		struct gshare *sh = *pp;
		uint32_t i;

		if (sh->addr != addr)
			continue;
		if (sh->count != count)
			return -EINVAL;
		for (i = 0; i < count; i++)
			if (ref_busy(l, sh->refs[i]))
				return -EBUSY;
		for (i = 0; i < count; i++) {
			if (end_ref(l, sh->refs[i]) < 0) {
				/* Mapped meanwhile: restore what we ended. */
				while (i--)
					grant_write(l, sh->refs[i],
						    own_entry(l, sh->refs[i])
							    ->domid,
						    sh->first_frame + i,
						    sh->writable);
				return -EBUSY;
			}
		}
		for (i = 0; i < count; i++) {
			l->ref_used[sh->refs[i]] = 0;
			l->frame_used[sh->first_frame + i] = 0;
		}
		*pp = sh->next;
		free(sh);
		return 0;
	}
	return -EINVAL;
}

static int loop_gntshr_grant_frame(struct hv_gntshr *h, domid_t domid,
				   uint64_t frame, int writable)
{
	struct hv_loop *l = L(S(h)->c.hv);
	int r;

	if (frame >= l->layout.gnttab_first)
		return -EINVAL;
	r = ref_alloc(l);
	if (r < 0)
		return r;
	grant_write(l, (grant_ref_t)r, domid, frame, writable);
	return r;
}

static int loop_gntshr_end_access(struct hv_gntshr *h, grant_ref_t ref)
{
	struct hv_loop *l = L(S(h)->c.hv);
	int r;

	if (ref < GNT_RESERVED || ref >= l->nr_refs || !l->ref_used[ref])
		return -EINVAL;
	r = end_ref(l, ref);
	if (r == 0)
		l->ref_used[ref] = 0;
	return r;
}

static void loop_gntshr_close(struct hv_gntshr *h)
{
	struct loop_gntshr *s = S(h);
	struct hv_loop *l = L(s->c.hv);

	/* Shares stay granted while mapped; free what we can. */
	while (s->shares) {
		struct gshare *sh = s->shares;

		s->shares = sh->next;
		for (uint32_t i = 0; i < sh->count; i++) {
			if (end_ref(l, sh->refs[i]) == 0) {
				l->ref_used[sh->refs[i]] = 0;
				l->frame_used[sh->first_frame + i] = 0;
			}
		}
		free(sh);
	}
	free(s);
}

/* ------------------------------------------------------------------ */
/* Foreign memory                                                      */
/* ------------------------------------------------------------------ */

struct fmap {
	struct fmap *next;
	uint8_t *addr;
	size_t count;
	struct loop_dom *dom; /* holds one use */
	int direct;           /* a pointer into dom->ram */
};

struct hv_resource {
	struct hv_resource *next;
	void *addr;
	size_t bytes;
};

struct loop_fmem {
	struct hv_handle_common c;
	struct fmap *maps;
	struct hv_resource *res;
};

static struct loop_fmem *F(struct hv_foreignmem *h)
{
	return (struct loop_fmem *)h;
}

static struct hv_foreignmem *loop_fmem_open(struct hv *hv)
{
	struct loop_fmem *f;

	if (L(hv)->is_guest) {
		errno = EPERM; /* dom0 privilege */
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->c.hv = hv;
	return (struct hv_foreignmem *)f;
}

static void *loop_fmem_map(struct hv_foreignmem *h, domid_t domid, int prot,
			   size_t count, const uint64_t *gfns, int *err)
{
	struct loop_fmem *f = F(h);
	struct hv_loop *l = L(f->c.hv);
	struct loop_dom *d;
	struct fmap *m;
	uint8_t *addr;
	int e = 0, failed = 0, run = 1;

	pthread_mutex_lock(&l->dlock);
	d = dom_get(l, domid, &e);
	if (!d)
		goto fail;
	e = -EINVAL;
	if (count == 0 || count > d->nr_frames)
		goto fail;
	e = -ENOMEM;
	m = calloc(1, sizeof(*m));
	if (!m)
		goto fail;
	for (size_t i = 0; i < count; i++)
		if (gfns[i] >= d->nr_frames || gfns[i] != gfns[0] + i)
			run = 0;
	if (run) {
		/* One run of RAM frames: a pointer into our mapping of it,
		 * no mapping of its own (see LOOP_GNT_VMA_PAGES). */
		addr = d->ram + gfns[0] * PAGE;
		for (size_t i = 0; err && i < count; i++)
			err[i] = 0;
		m->direct = 1;
		goto done;
	}
	addr = mmap(NULL, count * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (addr == MAP_FAILED) {
		e = -errno;
		free(m);
		goto fail;
	}
	for (size_t i = 0; i < count; i++) {
		int pe = 0;

		/* A frame outside RAM stays an inaccessible hole, as Xen
		 * reports per-page errors and leaves the rest mapped. */
		if (gfns[i] >= d->nr_frames)
			pe = -EINVAL;
		else if (mmap(addr + i * PAGE, PAGE, prot,
			      MAP_SHARED | MAP_FIXED, d->memfd,
			      (off_t)(gfns[i] * PAGE)) == MAP_FAILED)
			pe = -errno;
		if (err)
			err[i] = pe;
		if (pe)
			failed = pe;
	}
	if (failed && !err) {
		munmap(addr, count * PAGE);
		free(m);
		e = failed;
		goto fail;
	}
done:
	d->refs++;
	m->dom = d;
	m->addr = addr;
	m->count = count;
	m->next = f->maps;
	f->maps = m;
	pthread_mutex_unlock(&l->dlock);
	return addr;
fail:
	pthread_mutex_unlock(&l->dlock);
	errno = -e;
	return NULL;
}

/* fmap_release - with dlock. */
static void fmap_release(struct hv_loop *l, struct fmap *m)
{
	if (!m->direct)
		munmap(m->addr, m->count * PAGE);
	dom_put(l, m->dom, 1);
	free(m);
}

static int loop_fmem_unmap(struct hv_foreignmem *h, void *addr, size_t count)
{
	struct loop_fmem *f = F(h);
	struct hv_loop *l = L(f->c.hv);
	int r = -EINVAL;

	pthread_mutex_lock(&l->dlock);
	for (struct fmap **pp = &f->maps; *pp; pp = &(*pp)->next) {
		struct fmap *m = *pp;

		if (m->addr != addr || m->count != count)
			continue;
		*pp = m->next;
		fmap_release(l, m);
		r = 0;
		break;
	}
	pthread_mutex_unlock(&l->dlock);
	return r;
}

static struct hv_resource *
loop_fmem_map_resource(struct hv_foreignmem *h, domid_t domid,
		       unsigned int type, unsigned int id, unsigned long frame,
		       unsigned long nr, void **addr, int prot)
{
	struct loop_fmem *f = F(h);
	struct hv_resource *res;
	struct lh_req req;
	struct lh_rep rep;
	struct lh_res geo;
	int fds[LH_MAX_FDS], nfds = 0, r;
	void *p;

	req_init(&req, LH_OP_RESOURCE_MAP);
	req.a.res.domid = domid;
	req.a.res.type = type;
	req.a.res.id = id;
	req.a.res.frame = frame;
	req.a.res.nr = nr;
	r = rpc(L(f->c.hv), &req, &rep, fds, &nfds);
	if (r >= 0 && (nfds != 1 || rep.len < sizeof(geo)))
		r = -EPROTO;
	if (r < 0)
		goto fail;
	geo = rep.d.res;
	if (geo.offset % PAGE || geo.offset + nr * PAGE > geo.size) {
		r = -EPROTO;
		goto fail;
	}
	p = mmap(NULL, nr * PAGE, prot, MAP_SHARED, fds[0], (off_t)geo.offset);
	if (p == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	close(fds[0]);
	res = calloc(1, sizeof(*res));
	if (!res) {
		munmap(p, nr * PAGE);
		errno = ENOMEM;
		return NULL;
	}
	res->addr = p;
	res->bytes = nr * PAGE;
	res->next = f->res;
	f->res = res;
	*addr = p;
	return res;
fail:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	errno = -r;
	return NULL;
}

static int loop_fmem_unmap_resource(struct hv_foreignmem *h,
				    struct hv_resource *res)
{
	struct loop_fmem *f = F(h);

	for (struct hv_resource **pp = &f->res; *pp; pp = &(*pp)->next) {
		if (*pp != res)
			continue;
		*pp = res->next;
		munmap(res->addr, res->bytes);
		free(res);
		return 0;
	}
	return -EINVAL;
}

static void loop_fmem_close(struct hv_foreignmem *h)
{
	struct loop_fmem *f = F(h);
	struct hv_loop *l = L(f->c.hv);

	pthread_mutex_lock(&l->dlock);
	while (f->maps) {
		struct fmap *m = f->maps;

		f->maps = m->next;
		fmap_release(l, m);
	}
	pthread_mutex_unlock(&l->dlock);
	while (f->res)
		loop_fmem_unmap_resource(h, f->res);
	free(f);
}

/* ------------------------------------------------------------------ */
/* Device model                                                        */
/* ------------------------------------------------------------------ */

struct loop_dm {
	struct hv_handle_common c;
};

static struct hv_devicemodel *loop_dm_open(struct hv *hv)
{
	struct loop_dm *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->c.hv = hv;
	return (struct hv_devicemodel *)d;
}

static void loop_dm_close(struct hv_devicemodel *h)
{
	free(h);
}

static int dm_rpc(struct hv_devicemodel *h, uint32_t op, domid_t domid,
		  uint16_t id, uint32_t type, uint32_t flags, uint64_t start,
		  uint64_t end, struct lh_rep *rep)
{
	struct lh_req req;
	struct lh_rep local;

	req_init(&req, op);
	req.a.dm.domid = domid;
	req.a.dm.id = id;
	req.a.dm.type = type;
	req.a.dm.flags = flags;
	req.a.dm.start = start;
	req.a.dm.end = end;
	return rpc(L(((struct loop_dm *)h)->c.hv), &req, rep ? rep : &local,
		   NULL, NULL);
}

static int loop_dm_create(struct hv_devicemodel *h, domid_t domid, int buf)
{
	return dm_rpc(h, LH_OP_DM_CREATE, domid, 0, 0, (uint32_t) !!buf, 0, 0,
		      NULL);
}

static int loop_dm_info(struct hv_devicemodel *h, domid_t domid, uint16_t id,
			evtchn_port_t *bufport)
{
	struct lh_rep rep;
	int r = dm_rpc(h, LH_OP_DM_INFO, domid, id, 0, 0, 0, 0, &rep);

	if (r < 0)
		return r;
	if (rep.len < sizeof(rep.d.dm_info))
		return -EPROTO;
	if (bufport)
		*bufport = rep.d.dm_info.bufioreq_port;
	return 0;
}

static int loop_dm_map(struct hv_devicemodel *h, domid_t domid, uint16_t id,
		       enum hv_io_range type, uint64_t start, uint64_t end)
{
	return dm_rpc(h, LH_OP_DM_MAP_RANGE, domid, id, type, 0, start, end,
		      NULL);
}

static int loop_dm_unmap(struct hv_devicemodel *h, domid_t domid, uint16_t id,
			 enum hv_io_range type, uint64_t start, uint64_t end)
{
	return dm_rpc(h, LH_OP_DM_UNMAP_RANGE, domid, id, type, 0, start, end,
		      NULL);
}

static int loop_dm_state(struct hv_devicemodel *h, domid_t domid, uint16_t id,
			 int enabled)
{
	return dm_rpc(h, LH_OP_DM_SET_STATE, domid, id, 0, (uint32_t) !!enabled,
		      0, 0, NULL);
}

static int loop_dm_destroy(struct hv_devicemodel *h, domid_t domid, uint16_t id)
{
	return dm_rpc(h, LH_OP_DM_DESTROY, domid, id, 0, 0, 0, 0, NULL);
}

static int loop_dm_isa_irq(struct hv_devicemodel *h, domid_t domid, uint8_t irq,
			   unsigned int level)
{
	return dm_rpc(h, LH_OP_DM_SET_IRQ, domid, 0, 0, level, irq, 0, NULL);
}

static int loop_dm_pci_intx(struct hv_devicemodel *h, domid_t domid,
			    uint16_t seg, uint8_t bus, uint8_t dev,
			    uint8_t intx, unsigned int level)
{
	uint64_t sbdf = ((uint64_t)seg << 16) | ((uint64_t)bus << 8) |
			((uint64_t)dev << 3);

	return dm_rpc(h, LH_OP_DM_SET_IRQ, domid, 0, 1, level,
		      (sbdf << 8) | intx, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* Domains                                                             */
/* ------------------------------------------------------------------ */

struct loop_domains {
	struct hv_handle_common c;
	int fd; /* our own subscribed connection */
	uint64_t seq;
	int gone;
	int oom; /* an event could not be queued: report -ENOMEM */
	struct hv_domain_event *q; /* not yet returned, oldest at head */
	unsigned int head, tail, cap;
};

static struct loop_domains *D(struct hv_domains *h)
{
	return (struct loop_domains *)h;
}

static void dead_push(void *arg, struct lh_rep *ev)
{
	struct loop_domains *d = arg;
	struct hv_domain_event e = { .domid = ev->d.ev.domid };

	if (ev->op == LH_EV_DOMAIN_DEAD) {
		e.kind = HV_DOMAIN_DEAD;
	} else if (ev->op == LH_EV_DOMAIN_SHUTDOWN &&
		   ev->len >= sizeof(ev->d.ev)) {
		e.kind = HV_DOMAIN_SHUTDOWN;
		e.shutdown_reason = ev->d.ev.reason;
	} else {
		return;
	}
	if (d->head > 0 && d->head == d->tail)
		d->head = d->tail = 0;
	if (d->tail == d->cap) {
		/* Never drop one: a missed death is a leaked domain. */
		unsigned int live = d->tail - d->head;
		unsigned int cap = live * 2 + 64;
		struct hv_domain_event *n = malloc(cap * sizeof(*n));

		if (!n) {
			d->oom = 1;
			return;
		}
		if (live)
			memcpy(n, d->q + d->head, live * sizeof(*n));
		free(d->q);
		d->q = n;
		d->cap = cap;
		d->head = 0;
		d->tail = live;
	}
	d->q[d->tail++] = e;
}

static struct hv_domains *loop_domains_open(struct hv *hv, unsigned int flags)
{
	struct loop_domains *d;
	struct lh_req req;
	struct lh_rep rep;
	int r;

	(void)flags; /* loophvd's death stream is its own socket either way */
	if (L(hv)->is_guest) {
		errno = EPERM;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->c.hv = hv;
	d->fd = loop_connect(L(hv)->run_dir);
	if (d->fd < 0) {
		r = d->fd;
		goto fail;
	}
	req_init(&req, LH_OP_HELLO);
	r = rpc_fd(d->fd, ++d->seq, &req, &rep, NULL, NULL, dead_push, d);
	if (r < 0)
		goto fail;
	req_init(&req, LH_OP_SUBSCRIBE);
	r = rpc_fd(d->fd, ++d->seq, &req, &rep, NULL, NULL, dead_push, d);
	if (r < 0)
		goto fail;
	return (struct hv_domains *)d;
fail:
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	errno = -r;
	return NULL;
}

static void loop_domains_close(struct hv_domains *h)
{
	close(D(h)->fd);
	free(D(h)->q);
	free(h);
}

static void info_from(struct hv_domain_info *o, const struct lh_dominfo *in)
{
	memset(o, 0, sizeof(*o));
	o->domid = in->domid;
	o->dying = !!in->dying;
	o->shutdown = !!in->shutdown;
	o->paused = !!in->paused;
	o->shutdown_reason = in->shutdown_reason;
	o->mem_bytes = in->mem_bytes;
	o->max_vcpus = in->max_vcpus;
	memcpy(o->name, in->name, sizeof(o->name));
	o->name[sizeof(o->name) - 1] = '\0';
}

static int loop_domains_list(struct hv_domains *h, struct hv_domain_info *out,
			     unsigned int max)
{
	struct loop_domains *d = D(h);
	unsigned int filled = 0;
	int total = 0;
	uint32_t next = 0;

	for (;;) {
		struct lh_req req;
		struct lh_rep rep;
		int r;

		req_init(&req, LH_OP_DOMAIN_LIST);
		req.a.d.domid = (uint16_t)next;
		r = rpc_fd(d->fd, ++d->seq, &req, &rep, NULL, NULL, dead_push,
			   d);
		if (r < 0)
			return r;
		if (rep.count > LH_LIST_MAX ||
		    rep.len < rep.count * sizeof(struct lh_dominfo))
			return -EPROTO;
		if (next == 0)
			total = r;
		for (uint32_t i = 0; i < rep.count && filled < max; i++)
			info_from(&out[filled++], &rep.d.list[i]);
		if (rep.count == 0 || (unsigned int)r <= rep.count ||
		    filled >= max)
			break;
		next = (uint32_t)rep.d.list[rep.count - 1].domid + 1;
		if (next >= DOMID_FIRST_RESERVED)
			break;
	}
	return total;
}

static int loop_domains_info(struct hv_domains *h, domid_t domid,
			     struct hv_domain_info *out)
{
	struct loop_domains *d = D(h);
	struct lh_req req;
	struct lh_rep rep;
	int r;

	req_init(&req, LH_OP_DOMAIN_INFO);
	req.a.d.domid = domid;
	r = rpc_fd(d->fd, ++d->seq, &req, &rep, NULL, NULL, dead_push, d);
	if (r < 0)
		return r;
	if (rep.len < sizeof(rep.d.info))
		return -EPROTO;
	info_from(out, &rep.d.info);
	return 0;
}

static int loop_domains_fd(struct hv_domains *h)
{
	return D(h)->fd;
}

/*
 * loop_domains_next_event - SHUTDOWN and DEAD events. Each death also makes
 * this process let go of what it cached of the dead domain (its RAM
 * mapping and loophvd's hold) unless something is still mapped from it.
 */
static int loop_domains_next_event(struct hv_domains *h,
				   struct hv_domain_event *ev)
{
	struct loop_domains *d = D(h);
	struct hv_loop *l = L(d->c.hv);

	while (d->head == d->tail && !d->gone) {
		struct lh_rep rep;
		ssize_t n = recv_rep(d->fd, &rep, NULL, NULL, MSG_DONTWAIT);

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n == 0 || n == -ECONNRESET) {
			d->gone = 1;
			break;
		}
		if (n < 0)
			return (int)n;
		if (rep.seq == 0)
			dead_push(d, &rep);
	}
	if (d->oom) {
		d->oom = 0;
		return -ENOMEM;
	}
	if (d->head == d->tail)
		return d->gone ? -EPIPE : -EAGAIN;
	*ev = d->q[d->head++];
	if (ev->kind == HV_DOMAIN_DEAD) {
		pthread_mutex_lock(&l->dlock);
		doms_sweep(l);
		pthread_mutex_unlock(&l->dlock);
	}
	return 0;
}

static const struct hv_ops loop_ops = {
	.close = loop_close,
	.guest_ram = loop_guest_ram,
	.param_get = loop_param_get,
	.param_set = loop_param_set,
	.domain_shutdown = loop_domain_shutdown,
	.domain_destroy = loop_domain_destroy,
	.evtchn_open = loop_evtchn_open,
	.evtchn_close = loop_evtchn_close,
	.evtchn_fd = loop_evtchn_fd,
	.evtchn_alloc_unbound = loop_evtchn_alloc_unbound,
	.evtchn_bind_interdomain = loop_evtchn_bind_interdomain,
	.evtchn_bind_virq = NULL,
	.evtchn_unbind = loop_evtchn_unbind,
	.evtchn_notify = loop_evtchn_notify,
	.evtchn_pending = loop_evtchn_pending,
	.evtchn_unmask = loop_evtchn_unmask,
	.evtchn_state = loop_evtchn_state,
	.gnttab_open = loop_gnttab_open,
	.gnttab_close = loop_gnttab_close,
	.gnttab_map = loop_gnttab_map,
	.gnttab_unmap = loop_gnttab_unmap,
	.gnttab_copy = loop_gnttab_copy,
	.gntshr_open = loop_gntshr_open,
	.gntshr_close = loop_gntshr_close,
	.gntshr_share = loop_gntshr_share,
	.gntshr_unshare = loop_gntshr_unshare,
	.gntshr_grant_frame = loop_gntshr_grant_frame,
	.gntshr_end_access = loop_gntshr_end_access,
	.foreignmem_open = loop_fmem_open,
	.foreignmem_close = loop_fmem_close,
	.foreignmem_map = loop_fmem_map,
	.foreignmem_unmap = loop_fmem_unmap,
	.foreignmem_map_resource = loop_fmem_map_resource,
	.foreignmem_unmap_resource = loop_fmem_unmap_resource,
	.dm_open = loop_dm_open,
	.dm_close = loop_dm_close,
	.dm_create_ioreq_server = loop_dm_create,
	.dm_get_ioreq_server_info = loop_dm_info,
	.dm_map_io_range = loop_dm_map,
	.dm_unmap_io_range = loop_dm_unmap,
	.dm_set_ioreq_server_state = loop_dm_state,
	.dm_destroy_ioreq_server = loop_dm_destroy,
	.dm_set_isa_irq_level = loop_dm_isa_irq,
	.dm_set_pci_intx_level = loop_dm_pci_intx,
	.domains_open = loop_domains_open,
	.domains_close = loop_domains_close,
	.domains_list = loop_domains_list,
	.domains_info = loop_domains_info,
	.domains_fd = loop_domains_fd,
	.domains_next_event = loop_domains_next_event,
};
