/*
 * check_loop_evtchn - event channels of the loop provider against a real
 * loophvd: binding, notify, coalescing, masking, peer death, and a hostile
 * guest that does what it likes with every event-channel fd it is given.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "evtchn/mux.h"
#include "hv.h"
#include "loophv-proto.h"
#include "loophv_fixture.h"

/* A dom0 handle and a guest handle bound to each other. */
struct pair {
	struct hv *dom0, *guest;
	struct hv_evtchn *e0, *eg;
	int p0, pg; /* local ports on each side */
};

static void pair_open(struct pair *p)
{
	p->dom0 = lhf_dom0();
	p->guest = lhf_guest(4);
	p->e0 = hv_evtchn_open(p->dom0);
	p->eg = hv_evtchn_open(p->guest);
	ck_assert_ptr_nonnull(p->e0);
	ck_assert_ptr_nonnull(p->eg);
	p->p0 = hv_evtchn_alloc_unbound(p->e0, hv_domid(p->guest));
	ck_assert_int_gt(p->p0, 0);
	p->pg = hv_evtchn_bind_interdomain(p->eg, 0, (evtchn_port_t)p->p0);
	ck_assert_int_gt(p->pg, 0);
}

static void pair_close(struct pair *p)
{
	hv_evtchn_close(p->e0);
	hv_evtchn_close(p->eg);
	hv_close(p->guest);
	hv_close(p->dom0);
}

/* readable - poll fd for up to ms milliseconds. */
static int readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

START_TEST(alloc_unbound_then_bind_sets_states)
{
	struct pair p;

	pair_open(&p);
	ck_assert_int_eq(hv_evtchn_state(p.e0, (evtchn_port_t)p.p0),
			 HV_EVTCHN_INTERDOMAIN);
	ck_assert_int_eq(hv_evtchn_state(p.eg, (evtchn_port_t)p.pg),
			 HV_EVTCHN_INTERDOMAIN);
	ck_assert_int_eq(hv_evtchn_state(p.e0, 4095), HV_EVTCHN_FREE);
	ck_assert_int_eq(hv_evtchn_state(p.e0, 4096), -EINVAL);
	pair_close(&p);
}
END_TEST

START_TEST(notify_wakes_peer_and_pending_returns_its_port)
{
	struct pair p;

	pair_open(&p);
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert(readable(hv_evtchn_fd(p.e0), 1000));
	ck_assert_int_eq(hv_evtchn_pending(p.e0), p.p0);
	ck_assert_int_eq(hv_evtchn_pending(p.e0), -EAGAIN);
	ck_assert_int_eq(hv_evtchn_unmask(p.e0, (evtchn_port_t)p.p0), 0);
	/* and back */
	ck_assert_int_eq(hv_evtchn_notify(p.e0, (evtchn_port_t)p.p0), 0);
	ck_assert(readable(hv_evtchn_fd(p.eg), 1000));
	ck_assert_int_eq(hv_evtchn_pending(p.eg), p.pg);
	pair_close(&p);
}
END_TEST

START_TEST(notify_coalesces_while_pending)
{
	struct pair p;

	pair_open(&p);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert(readable(hv_evtchn_fd(p.e0), 1000));
	ck_assert_int_eq(hv_evtchn_pending(p.e0), p.p0);
	ck_assert_int_eq(hv_evtchn_pending(p.e0), -EAGAIN);
	ck_assert(!readable(hv_evtchn_fd(p.e0), 0));
	pair_close(&p);
}
END_TEST

START_TEST(masked_port_does_not_wake_until_unmasked)
{
	struct pair p;

	pair_open(&p);
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert_int_eq(hv_evtchn_pending(p.e0), p.p0); /* now masked */
	ck_assert_int_eq(hv_evtchn_pending(p.e0), -EAGAIN);
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert_msg(!readable(hv_evtchn_fd(p.e0), 50),
		      "a masked port woke its handle");
	ck_assert_int_eq(hv_evtchn_pending(p.e0), -EAGAIN);
	ck_assert_int_eq(hv_evtchn_unmask(p.e0, (evtchn_port_t)p.p0), 0);
	ck_assert(readable(hv_evtchn_fd(p.e0), 1000));
	ck_assert_int_eq(hv_evtchn_pending(p.e0), p.p0);
	pair_close(&p);
}
END_TEST

START_TEST(notify_never_bound_port_is_einval)
{
	struct hv *dom0 = lhf_dom0();
	struct hv_evtchn *e = hv_evtchn_open(dom0);

	ck_assert_int_eq(hv_evtchn_notify(e, 77), -EINVAL);
	ck_assert_int_eq(hv_evtchn_notify(e, 0), -EINVAL);
	ck_assert_int_eq(hv_evtchn_notify(e, 5000), -EINVAL);
	hv_evtchn_close(e);
	hv_close(dom0);
}
END_TEST

START_TEST(notify_unbound_port_is_a_noop)
{
	struct hv *dom0 = lhf_dom0();
	struct hv *g = lhf_guest(4);
	struct hv_evtchn *e = hv_evtchn_open(dom0);
	int port = hv_evtchn_alloc_unbound(e, hv_domid(g));

	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(hv_evtchn_state(e, (evtchn_port_t)port),
			 HV_EVTCHN_UNBOUND);
	ck_assert_int_eq(hv_evtchn_notify(e, (evtchn_port_t)port), 0);
	hv_evtchn_close(e);
	hv_close(g);
	hv_close(dom0);
}
END_TEST

START_TEST(notify_after_own_unbind_is_einval)
{
	struct pair p;

	pair_open(&p);
	ck_assert_int_eq(hv_evtchn_notify(p.e0, (evtchn_port_t)p.p0), 0);
	ck_assert_int_eq(hv_evtchn_unbind(p.e0, (evtchn_port_t)p.p0), 0);
	ck_assert_int_eq(hv_evtchn_notify(p.e0, (evtchn_port_t)p.p0), -EINVAL);
	ck_assert_int_eq(hv_evtchn_unbind(p.e0, (evtchn_port_t)p.p0), -EINVAL);
	pair_close(&p);
}
END_TEST

START_TEST(peer_unbind_closes_port_and_tells_survivor)
{
	struct pair p;

	pair_open(&p);
	ck_assert_int_eq(hv_evtchn_unbind(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert(readable(hv_evtchn_fd(p.e0), 1000));
	ck_assert_int_eq(hv_evtchn_state(p.e0, (evtchn_port_t)p.p0),
			 HV_EVTCHN_PEER_CLOSED);
	ck_assert_int_eq(hv_evtchn_pending(p.e0), p.p0);
	ck_assert_int_eq(hv_evtchn_notify(p.e0, (evtchn_port_t)p.p0), -ENOTCONN);
	pair_close(&p);
}
END_TEST

START_TEST(bind_to_port_offered_elsewhere_is_refused)
{
	struct hv *dom0 = lhf_dom0();
	struct hv *a = lhf_guest(4), *b = lhf_guest(4);
	struct hv_evtchn *e0 = hv_evtchn_open(dom0), *eb = hv_evtchn_open(b);
	int port = hv_evtchn_alloc_unbound(e0, hv_domid(a));

	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(hv_evtchn_bind_interdomain(eb, 0, (evtchn_port_t)port),
			 -EPERM);
	ck_assert_int_eq(hv_evtchn_bind_interdomain(eb, 0, 0), -EINVAL);
	ck_assert_int_eq(hv_evtchn_bind_interdomain(eb, 0, 4096), -EINVAL);
	ck_assert_int_eq(hv_evtchn_bind_interdomain(eb, 999, 1), -ESRCH);
	hv_evtchn_close(eb);
	hv_evtchn_close(e0);
	hv_close(a);
	hv_close(b);
	hv_close(dom0);
}
END_TEST

START_TEST(dead_guest_process_closes_ports_and_dom0_is_told)
{
	struct hv *dom0 = lhf_dom0();
	struct hv_domains *doms = hv_domains_open(dom0);
	struct hv_evtchn *e0 = hv_evtchn_open(dom0);
	int c2p[2], p2c[2], status, port, dead = -1;
	domid_t child_domid;
	evtchn_port_t rp_out;
	struct hv_domain_info info;
	pid_t pid;

	ck_assert_ptr_nonnull(doms);
	ck_assert_int_eq(pipe(c2p), 0);
	ck_assert_int_eq(pipe(p2c), 0);
	pid = fork();
	if (pid == 0) {
		/* The guest: become a domain, bind to dom0's port, die. */
		struct hv *g = lhf_guest(4);
		struct hv_evtchn *eg = hv_evtchn_open(g);
		domid_t id = hv_domid(g);
		evtchn_port_t rp;

		if (write(c2p[1], &id, sizeof(id)) != sizeof(id) ||
		    read(p2c[0], &rp, sizeof(rp)) != sizeof(rp))
			_exit(2);
		_exit(hv_evtchn_bind_interdomain(eg, 0, rp) > 0 ? 0 : 3);
	}
	ck_assert_int_eq(read(c2p[0], &child_domid, sizeof(child_domid)),
			 sizeof(child_domid));
	port = hv_evtchn_alloc_unbound(e0, child_domid);
	ck_assert_int_gt(port, 0);
	rp_out = (evtchn_port_t)port;
	ck_assert_int_eq(write(p2c[1], &rp_out, sizeof(rp_out)), sizeof(rp_out));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	ck_assert(readable(hv_evtchn_fd(e0), 2000));
	ck_assert_int_eq(hv_evtchn_state(e0, (evtchn_port_t)port),
			 HV_EVTCHN_PEER_CLOSED);
	ck_assert_int_eq(hv_evtchn_notify(e0, (evtchn_port_t)port), -ENOTCONN);
	ck_assert(readable(hv_domains_fd(doms), 2000));
	dead = hv_domains_next_dead(doms);
	ck_assert_int_eq(dead, child_domid);
	ck_assert_int_eq(hv_domains_next_dead(doms), -EAGAIN);
	ck_assert_int_eq(hv_domains_info(doms, child_domid, &info), -ESRCH);
	hv_evtchn_close(e0);
	hv_domains_close(doms);
	hv_close(dom0);
}
END_TEST

START_TEST(domains_list_shows_dom0_and_guests)
{
	struct hv *dom0 = lhf_dom0();
	struct hv *g = lhf_guest(8);
	struct hv_domains *doms = hv_domains_open(dom0);
	struct hv_domain_info infos[8], one;
	int n, found = 0;

	n = hv_domains_list(doms, infos, 8);
	ck_assert_int_ge(n, 2);
	for (int i = 0; i < n && i < 8; i++)
		if (infos[i].domid == hv_domid(g)) {
			found = 1;
			ck_assert_uint_eq(infos[i].mem_bytes, 8u << 20);
			ck_assert_str_eq(infos[i].name, "test-guest");
		}
	ck_assert(found);
	ck_assert_int_eq(infos[0].domid, 0);
	ck_assert_int_eq(hv_domains_info(doms, hv_domid(g), &one), 0);
	ck_assert(!one.dying);
	hv_domains_close(doms);
	hv_close(g);
	hv_close(dom0);
}
END_TEST

START_TEST(guest_may_not_open_domains_or_foreignmem)
{
	struct hv *g = lhf_guest(4);

	ck_assert_ptr_null(hv_domains_open(g));
	ck_assert_ptr_null(hv_foreignmem_open(g));
	ck_assert_ptr_null(hv_gnttab_open(g));
	hv_close(g);
}
END_TEST

START_TEST(params_are_per_domain_and_guarded)
{
	struct hv *dom0 = lhf_dom0();
	struct hv *a = lhf_guest(4), *b = lhf_guest(4);
	uint64_t v = 0;

	ck_assert_int_eq(hv_param_set(a, DOMID_SELF, 1, 0xfeed), 0);
	ck_assert_int_eq(hv_param_get(dom0, hv_domid(a), 1, &v), 0);
	ck_assert_uint_eq(v, 0xfeed);
	ck_assert_int_eq(hv_param_get(b, hv_domid(a), 1, &v), -EACCES);
	ck_assert_int_eq(hv_param_set(dom0, hv_domid(b), 2, 7), 0);
	ck_assert_int_eq(hv_param_get(b, DOMID_SELF, 2, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(hv_param_get(dom0, hv_domid(a), 9999, &v), -EINVAL);
	hv_close(a);
	hv_close(b);
	hv_close(dom0);
}
END_TEST

struct mux_ctx {
	struct hv_evtchn *eg;
	int pg, hits;
	struct event_base *base;
};

static void on_port(evtchn_port_t port, void *arg)
{
	struct mux_ctx *m = arg;

	(void)port;
	if (++m->hits < 50)
		hv_evtchn_notify(m->eg, (evtchn_port_t)m->pg); /* ask again */
	else
		event_base_loopbreak(m->base);
}

static void guest_echo(evutil_socket_t fd, short what, void *arg)
{
	struct mux_ctx *m = arg;
	int p;

	(void)fd;
	(void)what;
	/* Drain what reaches the guest (dom0 does not notify it here). */
	while ((p = hv_evtchn_pending(m->eg)) >= 0) {
		hv_evtchn_unmask(m->eg, (evtchn_port_t)p);
	}
}

START_TEST(mux_dispatches_loop_ports_through_libevent)
{
	struct pair p;
	struct mux_ctx m = { 0 };
	struct evtchn_mux *mux;
	struct evtchn_mux_stats st;
	struct event *gev;
	struct timeval tmo = { 10, 0 };

	pair_open(&p);
	m.base = event_base_new();
	m.eg = p.eg;
	m.pg = p.pg;
	mux = evtchn_mux_new(m.base, p.e0);
	ck_assert_ptr_nonnull(mux);
	ck_assert_int_eq(evtchn_mux_add(mux, (evtchn_port_t)p.p0, on_port, &m),
			 0);
	ck_assert_int_eq(evtchn_mux_add(mux, (evtchn_port_t)p.p0, on_port, &m),
			 -EEXIST);
	gev = event_new(m.base, hv_evtchn_fd(p.eg), EV_READ | EV_PERSIST,
			guest_echo, &m);
	event_add(gev, NULL);
	event_base_loopexit(m.base, &tmo);
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	event_base_dispatch(m.base);
	ck_assert_int_eq(m.hits, 50);
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_eq(st.dispatched, 50);
	ck_assert_uint_eq(st.stray, 0);
	/* after dispatch the port was unmasked: a new notify wakes it */
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert(readable(hv_evtchn_fd(p.e0), 1000));
	event_free(gev);
	evtchn_mux_free(mux);
	event_base_free(m.base);
	pair_close(&p);
}
END_TEST

/* ---- A hostile guest that speaks loophvd's protocol itself ---------- */

#define RAW_MAX_FDS 8

/* A guest domain on a raw connection, with every event-channel fd that
 * loophvd gave it (its handle's and its channel's). */
struct raw_guest {
	int sock;
	uint16_t domid;
	int32_t handle;
	uint32_t port; /* its end */
	int dom0_port; /* dom0's end, on the handle given to open */
	int fds[RAW_MAX_FDS];
	int nfds;
};

/* raw_rpc - one request; the reply's ret; its descriptors are kept in g
 * (keep) or closed. */
static int raw_rpc(struct raw_guest *g, struct lh_req *req, struct lh_rep *rep,
		   int keep)
{
	return lhf_raw_rpc(g->sock, req, rep, keep ? g->fds : NULL, &g->nfds,
			   RAW_MAX_FDS);
}

/* raw_guest_open - become a domain, open a handle, bind the port dom0
 * offers (alloc_unbound on e0), fetch the channel (EVTCHN_PEER). */
static void raw_guest_open(struct raw_guest *g, struct hv_evtchn *e0)
{
	struct lh_req req;
	struct lh_rep rep;
	int p0;

	memset(g, 0, sizeof(*g));
	g->sock = lhf_raw_connect(lhf_run_dir);
	memset(&req, 0, sizeof(req));
	req.op = LH_OP_DOMAIN_CREATE;
	req.a.create.mem_bytes = 4u << 20;
	snprintf(req.a.create.name, sizeof(req.a.create.name), "hostile");
	/* Its RAM fd is not an event-channel page: not ours to test here. */
	ck_assert_int_eq(raw_rpc(g, &req, &rep, 0), 0);
	g->domid = rep.d.created.domid;

	memset(&req, 0, sizeof(req));
	req.op = LH_OP_EVTCHN_OPEN;
	g->handle = raw_rpc(g, &req, &rep, 1);
	ck_assert_int_ge(g->handle, 0);

	p0 = hv_evtchn_alloc_unbound(e0, g->domid);
	ck_assert_int_gt(p0, 0);
	g->dom0_port = p0;
	memset(&req, 0, sizeof(req));
	req.op = LH_OP_EVTCHN_BIND;
	req.a.evt.handle = g->handle;
	req.a.evt.domid = 0;
	req.a.evt.port = (uint32_t)p0;
	ck_assert_int_gt(raw_rpc(g, &req, &rep, 1), 0);
	g->port = (uint32_t)rep.ret;

	memset(&req, 0, sizeof(req));
	req.op = LH_OP_EVTCHN_PEER;
	req.a.evt.handle = g->handle;
	req.a.evt.port = g->port;
	ck_assert_int_eq(raw_rpc(g, &req, &rep, 1), 0);
	ck_assert_int_ge(g->nfds, 3);
}

static void raw_guest_close(struct raw_guest *g)
{
	for (int i = 0; i < g->nfds; i++)
		close(g->fds[i]);
	close(g->sock);
}

/* scribble - write byte over every page of every fd g can map writable,
 * and read every fd it holds (an eventfd read eats a wakeup). Returns the
 * number of mappings written. */
static int scribble(struct raw_guest *g, int byte)
{
	int written = 0;

	for (int i = 0; i < g->nfds; i++) {
		struct stat st;
		uint64_t v;
		void *p;

		while (read(g->fds[i], &v, sizeof(v)) == sizeof(v))
			;
		if (fstat(g->fds[i], &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_size <= 0)
			continue;
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, g->fds[i], 0);
		if (p == MAP_FAILED)
			continue; /* sealed read-only: out of its reach */
		memset(p, byte, (size_t)st.st_size);
		munmap(p, (size_t)st.st_size);
		written++;
	}
	return written;
}

/* delivered - within ms, does e's pending() report port? Every port it
 * reports is unmasked again. */
static int delivered(struct hv_evtchn *e, int port, int ms)
{
	int got = 0, p;

	while (!got && readable(hv_evtchn_fd(e), ms)) {
		while ((p = hv_evtchn_pending(e)) >= 0) {
			if (p == port)
				got = 1;
			hv_evtchn_unmask(e, (evtchn_port_t)p);
		}
	}
	return got;
}

START_TEST(hostile_guest_cannot_silence_another_guests_channel)
{
	struct pair p; /* dom0 <-> a well-behaved guest, on handle e0 */
	struct raw_guest m;

	pair_open(&p);
	raw_guest_open(&m, p.e0); /* a second guest on the same dom0 handle */
	ck_assert_int_gt(m.nfds, 0);

	/* Set every bit it can reach (all masks, all pending bits), eat
	 * every wakeup it can read: the good guest is still heard. */
	ck_assert_int_gt(scribble(&m, 0xff), 0);
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert_msg(delivered(p.e0, p.p0, 1000),
		      "a guest that set every bit it maps silenced another "
		      "guest's channel");

	/* Clear every bit it can reach just after the good guest rang. */
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	scribble(&m, 0x00);
	ck_assert_msg(delivered(p.e0, p.p0, 1000),
		      "a guest that cleared every bit it maps ate another "
		      "guest's event");

	/* and dom0 still reaches the good guest */
	ck_assert_int_eq(hv_evtchn_notify(p.e0, (evtchn_port_t)p.p0), 0);
	ck_assert(delivered(p.eg, p.pg, 1000));
	raw_guest_close(&m);
	pair_close(&p);
}
END_TEST

START_TEST(evtchn_pages_cannot_be_truncated_under_dom0)
{
	struct pair p;
	struct raw_guest m;
	int pages = 0;

	pair_open(&p);
	raw_guest_open(&m, p.e0);
	for (int i = 0; i < m.nfds; i++) {
		struct stat st;

		if (fstat(m.fds[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		pages++;
		errno = 0;
		ck_assert_msg(ftruncate(m.fds[i], 0) < 0 && errno == EPERM,
			      "a guest shrank an event-channel page (%s)",
			      strerror(errno));
		ck_assert_msg(ftruncate(m.fds[i], st.st_size + 4096) < 0 &&
				      errno == EPERM,
			      "a guest grew an event-channel page (%s)",
			      strerror(errno));
	}
	ck_assert_int_gt(pages, 0);

	/* dom0 uses the hostile guest's channel (maps it now), then the
	 * guest dies (loophvd closes its ports): nobody faults. */
	ck_assert_int_eq(hv_evtchn_notify(p.e0, (evtchn_port_t)m.dom0_port), 0);
	raw_guest_close(&m);
	ck_assert_int_eq(hv_evtchn_notify(p.eg, (evtchn_port_t)p.pg), 0);
	ck_assert(delivered(p.e0, p.p0, 1000));
	ck_assert_int_eq(kill(lhf_pid, 0), 0); /* loophvd lives */
	hv_close(lhf_dom0());
	pair_close(&p);
}
END_TEST

/* ---- A loophvd impostor: the client does not trust the sender ------- */

/* fake_serve - answer one client: every request succeeds; EVTCHN_OPEN
 * hands out an epoll fd and a state page that is NOT sealed. */
static void fake_serve(int lfd)
{
	int c = accept(lfd, NULL, NULL);
	struct lh_req req;
	struct lh_rep rep;

	if (c < 0)
		_exit(2);
	while (recv(c, &req, sizeof(req), 0) == (ssize_t)sizeof(req)) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 2)];
			struct cmsghdr align;
		} u;
		struct iovec iov = { .iov_base = &rep,
				     .iov_len = LH_REP_HDR_SIZE };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		int fds[2];

		memset(&rep, 0, sizeof(rep));
		rep.op = req.op;
		rep.seq = req.seq;
		int nfds = 0;

		if (req.op == LH_OP_HELLO) {
			/* a proper generation table: only the page is bad */
			fds[0] = memfd_create("gen", MFD_ALLOW_SEALING);
			if (fds[0] < 0 || ftruncate(fds[0], LH_GEN_BYTES) < 0 ||
			    fcntl(fds[0], F_ADD_SEALS, LH_SEALS) < 0)
				_exit(3);
			nfds = 1;
		} else if (req.op == LH_OP_EVTCHN_OPEN) {
			fds[0] = eventfd(0, 0);
			fds[1] = memfd_create("unsealed", 0);
			if (fds[0] < 0 || fds[1] < 0 ||
			    ftruncate(fds[1], 1 << 16) < 0)
				_exit(3);
			nfds = 2;
		}
		if (nfds) {
			struct cmsghdr *cm;

			memset(&u, 0, sizeof(u));
			msg.msg_control = u.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		}
		if (sendmsg(c, &msg, MSG_NOSIGNAL) < 0)
			_exit(4);
	}
	_exit(0);
}

START_TEST(client_refuses_an_unsealed_evtchn_page)
{
	char dir[] = "/tmp/fake-loophvd.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hv_open_opts o = { .provider = HV_PROVIDER_LOOP };
	struct hv_evtchn *e;
	struct hv *hv;
	int lfd, status;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, LH_SOCK_NAME);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		fake_serve(lfd);
	close(lfd);
	o.run_dir = dir;
	hv = hv_open(&o);
	ck_assert_ptr_nonnull(hv);
	errno = 0;
	e = hv_evtchn_open(hv);
	ck_assert_msg(e == NULL && errno == EPROTO,
		      "mapped an event-channel page its other holders may "
		      "truncate (errno %s)",
		      strerror(errno));
	hv_close(hv);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(sa.sun_path);
	rmdir(dir);
}
END_TEST

/* A guest cannot eat loophvd's descriptors by opening handles without
 * end: it gets EMFILE past its share, and dom0 still opens handles. */
START_TEST(guest_handles_are_bounded)
{
	struct hv *g = lhf_guest(4), *d0 = lhf_dom0();
	struct hv_evtchn *h[64], *e0;
	int n = 0;

	for (n = 0; n < 64; n++) {
		h[n] = hv_evtchn_open(g);
		if (!h[n])
			break;
	}
	ck_assert_msg(n > 0 && n < 64, "a guest opened %d handles", n);
	ck_assert_int_eq(errno, EMFILE);
	e0 = hv_evtchn_open(d0);
	ck_assert_ptr_nonnull(e0);
	hv_evtchn_close(e0);
	/* a closed handle gives its place back */
	hv_evtchn_close(h[n - 1]);
	h[n - 1] = hv_evtchn_open(g);
	ck_assert_ptr_nonnull(h[n - 1]);
	for (int i = 0; i < n; i++)
		hv_evtchn_close(h[i]);
	hv_close(d0);
	hv_close(g);
}
END_TEST

static Suite *loop_evtchn_suite(void)
{
	Suite *s = suite_create("loop_evtchn");
	TCase *tc = tcase_create("evtchn");

	tcase_add_unchecked_fixture(tc, lhf_start, lhf_stop);
	tcase_add_test(tc, alloc_unbound_then_bind_sets_states);
	tcase_add_test(tc, notify_wakes_peer_and_pending_returns_its_port);
	tcase_add_test(tc, notify_coalesces_while_pending);
	tcase_add_test(tc, masked_port_does_not_wake_until_unmasked);
	tcase_add_test(tc, notify_never_bound_port_is_einval);
	tcase_add_test(tc, notify_unbound_port_is_a_noop);
	tcase_add_test(tc, notify_after_own_unbind_is_einval);
	tcase_add_test(tc, peer_unbind_closes_port_and_tells_survivor);
	tcase_add_test(tc, bind_to_port_offered_elsewhere_is_refused);
	tcase_add_test(tc, dead_guest_process_closes_ports_and_dom0_is_told);
	tcase_add_test(tc, domains_list_shows_dom0_and_guests);
	tcase_add_test(tc, guest_may_not_open_domains_or_foreignmem);
	tcase_add_test(tc, params_are_per_domain_and_guarded);
	tcase_add_test(tc, mux_dispatches_loop_ports_through_libevent);
	tcase_add_test(tc, hostile_guest_cannot_silence_another_guests_channel);
	tcase_add_test(tc, evtchn_pages_cannot_be_truncated_under_dom0);
	tcase_add_test(tc, client_refuses_an_unsealed_evtchn_page);
	tcase_add_test(tc, guest_handles_are_bounded);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(loop_evtchn_suite)
