/*
 * check_xs_ring - xenstored's ring transport on the loopback hypervisor.
 *
 * Starts a private loophvd and our xenstored (--hv=loop). dom0 speaks
 * through Debian's libxenstore on the unix socket, as a toolstack does
 * (mkdir + set_permissions + XS_INTRODUCE); a loopback guest speaks over
 * its ring with lib/xs-guest.c, as a guest kernel's xenbus does.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>

#include "check_main.h"
#include "hv.h"
#include "../lib/launch.h"
#include "loophv_fixture.h"
#include "xs-guest.h"

static pid_t xsd_pid = -1;
static char xsd_sock[300];

static void start_all(void)
{
	const char *top = getenv("top_builddir");
	char bin[512], rundir_arg[300];

	lhf_start();
	snprintf(xsd_sock, sizeof(xsd_sock), "%s/xenstored.sock", lhf_run_dir);
	snprintf(bin, sizeof(bin), "%s/xenstored/xenstored", top ? top : ".");
	snprintf(rundir_arg, sizeof(rundir_arg), "--run-dir=%s", lhf_run_dir);
	{
		const char *lvl = getenv("XENSTORED_LOG");
		const char *argv[] = { bin,           "--foreground",
				       "--hv=loop",   rundir_arg,
				       "--socket",    xsd_sock,
				       "--log-level", lvl ? lvl : "warning",
				       NULL };

		xsd_pid = launch_daemon("xenstored", NULL, (char *const *)argv);
	}
	setenv("XENSTORED_PATH", xsd_sock, 1);
}

static void stop_all(void)
{
	if (xsd_pid > 0) {
		kill(xsd_pid, SIGTERM);
		waitpid(xsd_pid, NULL, 0);
	}
	lhf_stop();
}

/* A guest with its ring, introduced by "the toolstack" (libxenstore). */
struct guest {
	struct hv *hv;
	struct xsg *xs;
	domid_t domid;
	char path[64];
};

static struct xs_handle *dom0_xs(void)
{
	struct xs_handle *h = xs_open(0);

	ck_assert_msg(h != NULL, "xs_open: %s", strerror(errno));
	return h;
}

/*
 * introduce_port - what libxl does for a new domain, then XS_INTRODUCE
 * with port, or the guest's HVM_PARAM_STORE_EVTCHN when port is 0. True
 * when the introduction was accepted.
 */
static bool introduce_port(struct xs_handle *h, struct guest *g,
			   unsigned int port_arg)
{
	struct xs_permissions perms[2] = {
		{ .id = g->domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	uint64_t pfn = 0, port = 0;
	struct hv *dom0 = lhf_dom0();

	ck_assert_int_eq(hv_param_get(dom0, g->domid, HVM_PARAM_STORE_PFN, &pfn),
			 0);
	ck_assert_int_eq(hv_param_get(dom0, g->domid, HVM_PARAM_STORE_EVTCHN,
				      &port),
			 0);
	hv_close(dom0);
	ck_assert(xs_mkdir(h, XBT_NULL, g->path));
	ck_assert(xs_set_permissions(h, XBT_NULL, g->path, perms, 2));
	return xs_introduce_domain(h, g->domid, pfn,
				   port_arg ? port_arg : (unsigned)port);
}

/* introduce - introduce_port with the guest's own port; must succeed. */
static void introduce(struct xs_handle *h, struct guest *g)
{
	ck_assert_msg(introduce_port(h, g, 0), "XS_INTRODUCE: %s",
		      strerror(errno));
}

/* guest_new - a guest with its ring set up, not yet introduced. */
static void guest_new(struct guest *g)
{
	g->hv = lhf_guest(4);
	g->domid = hv_domid(g->hv);
	g->xs = xsg_open(g->hv, 1, 0);
	ck_assert_msg(g->xs != NULL, "xsg_open: %s", strerror(errno));
	xsg_set_timeout(g->xs, 5000);
	snprintf(g->path, sizeof(g->path), "/local/domain/%u", g->domid);
}

static void guest_open(struct guest *g, struct xs_handle *h)
{
	guest_new(g);
	introduce(h, g);
}

static void guest_close(struct guest *g)
{
	xsg_close(g->xs);
	hv_close(g->hv);
}

START_TEST(guest_reads_and_writes_its_own_nodes)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	char *v = NULL, *dp = NULL, path[128];
	unsigned int len;

	guest_open(&g, h);
	ck_assert_int_eq(xsg_write(g.xs, 0, "data/x", "hello"), 0);
	snprintf(path, sizeof(path), "%s/data/x", g.path);
	v = xs_read(h, XBT_NULL, path, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "hello");
	free(v);
	ck_assert(xs_write(h, XBT_NULL, path, "from dom0", 9));
	ck_assert_int_eq(xsg_read(g.xs, 0, "data/x", &v), 0);
	ck_assert_str_eq(v, "from dom0");
	free(v);
	ck_assert_int_eq(xsg_get_domain_path(g.xs, g.domid, &dp), 0);
	ck_assert_str_eq(dp, g.path);
	free(dp);
	ck_assert(xs_is_domain_introduced(h, g.domid));
	guest_close(&g);
	xs_close(h);
}
END_TEST

/*
 * Linux's xenbus (xb_write) notifies only when it finds xenstored caught
 * up with the request ring; bytes it writes while xenstored is still
 * reading earlier ones come with no event. A xenstored that sleeps without
 * looking at req_prod again after publishing req_cons loses them, and the
 * guest waits forever (seen on real Xen: dom0's kernel xenbus stuck in its
 * first probe). Requests written a few bytes at a time make that window
 * open many times per request.
 */
START_TEST(requests_written_as_linux_does_are_never_lost)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	char val[32], *v = NULL;

	guest_open(&g, h);
	xsg_set_timeout(g.xs, 3000);
	for (unsigned int chunk = 1; chunk <= 16; chunk *= 4) {
		xsg_set_max_chunk(g.xs, chunk);
		for (int i = 0; i < 1500; i++) {
			int r;

			snprintf(val, sizeof(val), "v%u-%d", chunk, i);
			r = xsg_write(g.xs, 0, "data/lost", val);
			ck_assert_msg(r == 0, "chunk %u, write %d: %s", chunk,
				      i, strerror(-r));
			r = xsg_read(g.xs, 0, "data/lost", &v);
			ck_assert_msg(r == 0, "chunk %u, read %d: %s", chunk, i,
				      strerror(-r));
			ck_assert_str_eq(v, val);
			free(v);
		}
	}
	guest_close(&g);
	xs_close(h);
}
END_TEST

START_TEST(guest_is_refused_outside_its_permissions)
{
	struct xs_handle *h = dom0_xs();
	struct guest a, b;
	char *v = NULL, path[128];

	guest_open(&a, h);
	guest_open(&b, h);
	ck_assert(xs_write(h, XBT_NULL, "/tool/secret", "x", 1));
	ck_assert_int_eq(xsg_read(a.xs, 0, "/tool/secret", &v), -EACCES);
	ck_assert_int_eq(xsg_write(a.xs, 0, "/tool/secret", "y"), -EACCES);
	snprintf(path, sizeof(path), "%s/data", b.path);
	ck_assert_int_eq(xsg_write(b.xs, 0, "data", "b's"), 0);
	ck_assert_int_eq(xsg_read(a.xs, 0, path, &v), -EACCES);
	ck_assert_int_eq(xsg_write(a.xs, 0, path, "a was here"), -EACCES);
	ck_assert_int_eq(xsg_read(a.xs, 0, "/local/domain/0", &v), -EACCES);
	guest_close(&a);
	guest_close(&b);
	xs_close(h);
}
END_TEST

START_TEST(guest_watch_fires_on_register_and_on_dom0_write)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	char *p = NULL, *t = NULL, path[128];

	guest_open(&g, h);
	ck_assert_int_eq(xsg_watch(g.xs, "device", "tok1"), 0);
	ck_assert_int_eq(xsg_wait_watch(g.xs, &p, &t), 0);
	ck_assert_str_eq(t, "tok1");
	free(p);
	free(t);
	snprintf(path, sizeof(path), "%s/device/vbd/51712/state", g.path);
	ck_assert(xs_write(h, XBT_NULL, path, "1", 1));
	ck_assert_int_eq(xsg_wait_watch(g.xs, &p, &t), 0);
	ck_assert_str_eq(t, "tok1");
	ck_assert_msg(strstr(p, "device") != NULL, "event path %s", p);
	free(p);
	free(t);
	guest_close(&g);
	xs_close(h);
}
END_TEST

START_TEST(guest_transaction_conflict_is_eagain)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	uint32_t tx;
	char path[128];

	guest_open(&g, h);
	ck_assert_int_eq(xsg_write(g.xs, 0, "t", "0"), 0);
	ck_assert_int_eq(xsg_transaction_start(g.xs, &tx), 0);
	ck_assert_int_eq(xsg_write(g.xs, tx, "t", "1"), 0);
	snprintf(path, sizeof(path), "%s/t", g.path);
	ck_assert(xs_write(h, XBT_NULL, path, "dom0", 4));
	ck_assert_int_eq(xsg_transaction_end(g.xs, tx, 1), -EAGAIN);
	guest_close(&g);
	xs_close(h);
}
END_TEST

static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

START_TEST(guest_exit_fires_releaseDomain_and_drops_it)
{
	struct xs_handle *h = dom0_xs();
	int c2p[2], p2c[2], status, fired = 0;
	struct guest g;
	pid_t pid;
	char ok;

	ck_assert(xs_watch(h, "@releaseDomain", "rel"));
	/* the watch fires once on register */
	ck_assert(wait_readable(xs_fileno(h), 2000));
	free(xs_check_watch(h));
	ck_assert_int_eq(pipe(c2p), 0);
	ck_assert_int_eq(pipe(p2c), 0);
	pid = fork();
	if (pid == 0) {
		struct hv *hv = lhf_guest(4);
		struct xsg *x = xsg_open(hv, 1, 0);
		domid_t id = hv_domid(hv);

		if (!x || write(c2p[1], &id, sizeof(id)) != sizeof(id) ||
		    read(p2c[0], &ok, 1) != 1)
			_exit(2);
		if (xsg_write(x, 0, "alive", "1") != 0)
			_exit(3);
		_exit(0); /* the domain dies with us */
	}
	ck_assert_int_eq(read(c2p[0], &g.domid, sizeof(g.domid)),
			 sizeof(g.domid));
	snprintf(g.path, sizeof(g.path), "/local/domain/%u", g.domid);
	introduce(h, &g);
	ck_assert_int_eq(write(p2c[1], "g", 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	for (int i = 0; i < 50 && !fired; i++) {
		char **w;

		if (!wait_readable(xs_fileno(h), 100))
			continue;
		while ((w = xs_check_watch(h))) {
			if (!strcmp(w[XS_WATCH_PATH], "@releaseDomain"))
				fired = 1;
			free(w);
		}
	}
	ck_assert_msg(fired, "@releaseDomain did not fire");
	ck_assert(!xs_is_domain_introduced(h, g.domid));
	xs_close(h);
}
END_TEST

static struct xenstore_domain_interface *ring_of(struct guest *g)
{
	return (void *)((uint8_t *)hv_guest_ram(g->hv, NULL) + HV_PAGE_SIZE);
}

/* wait_field - until *p == want, or != want when differ (2 s); then *p. */
static uint32_t wait_field(uint32_t *p, uint32_t want, bool differ)
{
	uint32_t v = 0;

	for (int i = 0; i < 200; i++) {
		v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
		if ((v == want) != differ)
			break;
		usleep(10000);
	}
	return v;
}

/* wait_error - until xenstored sets the ring's error field (2 s). */
static uint32_t wait_error(struct xenstore_domain_interface *intf)
{
	return wait_field(&intf->error, XENSTORE_ERROR_NONE, true);
}

/* assert_served - the guest writes key and reads val back. */
static void assert_served(struct guest *g, const char *key, const char *val)
{
	char *v = NULL;
	int r = xsg_write(g->xs, 0, key, val);

	ck_assert_msg(r == 0, "d%u: writing %s: %s", g->domid, key,
		      strerror(-r));
	ck_assert_int_eq(xsg_read(g->xs, 0, key, &v), 0);
	ck_assert_str_eq(v, val);
	free(v);
}

static void others_still_served(struct xs_handle *h, struct guest *good)
{
	assert_served(good, "still", "fine");
	ck_assert(xs_write(h, XBT_NULL, "/tool/after", "ok", 2));
}

/* A guest about to misbehave, and a well-behaved one beside it. */
struct bad_pair {
	struct xs_handle *h;
	struct guest bad, good;
	struct xenstore_domain_interface *intf; /* bad's ring */
};

static void bad_pair_open(struct bad_pair *p)
{
	p->h = dom0_xs();
	guest_open(&p->bad, p->h);
	guest_open(&p->good, p->h);
	p->intf = ring_of(&p->bad);
}

/* bad_pair_close - the good guest and dom0 are still served; close. */
static void bad_pair_close(struct bad_pair *p)
{
	others_still_served(p->h, &p->good);
	guest_close(&p->good);
	guest_close(&p->bad);
	xs_close(p->h);
}

START_TEST(corrupt_ring_index_quarantines_only_that_guest)
{
	struct bad_pair p;

	bad_pair_open(&p);
	/* A producer index more than a ring ahead of the consumer. */
	__atomic_store_n(&p.intf->req_prod, p.intf->req_cons + 5000,
			 __ATOMIC_RELEASE);
	ck_assert_int_eq(xsg_kick(p.bad.xs), 0);
	ck_assert_uint_eq(wait_error(p.intf), XENSTORE_ERROR_RINGIDX);
	ck_assert_int_eq(xsg_write(p.bad.xs, 0, "x", "y"), -EIO);
	bad_pair_close(&p);
}
END_TEST

START_TEST(oversized_request_quarantines_only_that_guest)
{
	struct bad_pair p;
	struct xsd_sockmsg hdr = { .type = XS_WRITE,
				   .req_id = 7,
				   .len = XENSTORE_PAYLOAD_MAX + 1 };
	XENSTORE_RING_IDX prod;

	bad_pair_open(&p);
	prod = p.intf->req_prod;
	memcpy(p.intf->req + MASK_XENSTORE_IDX(prod), &hdr, sizeof(hdr));
	__atomic_store_n(&p.intf->req_prod, prod + sizeof(hdr),
			 __ATOMIC_RELEASE);
	ck_assert_int_eq(xsg_kick(p.bad.xs), 0);
	ck_assert_uint_eq(wait_error(p.intf), XENSTORE_ERROR_PROTO);
	bad_pair_close(&p);
}
END_TEST

START_TEST(guest_watch_flood_past_quota_is_refused)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	char path[32];
	int refused = 0;

	guest_open(&g, h);
	for (int i = 0; i < 200; i++) {
		int r;

		snprintf(path, sizeof(path), "flood/%d", i);
		r = xsg_watch(g.xs, path, "tok");
		if (r == -E2BIG)
			refused++;
		else
			ck_assert_int_eq(r, 0);
	}
	/* C xenstored's default: 128 watches per domain */
	ck_assert_int_eq(refused, 200 - 128);
	ck_assert(xs_write(h, XBT_NULL, "/tool/after-flood", "ok", 2));
	guest_close(&g);
	xs_close(h);
}
END_TEST

static void set_quota(struct xs_handle *h, const char *name, const char *val)
{
	char data[64];
	int n = snprintf(data, sizeof(data), "set%c%s%c%s", 0, name, 0, val);
	char *r = xs_control_command(h, "quota", data, (unsigned)n + 1);

	ck_assert_msg(r != NULL, "quota set %s %s: %s", name, val,
		      strerror(errno));
	free(r);
}

/*
 * A guest that registers a watch and then never reads its ring: the
 * events dom0's writes fire for it would pile up in xenstored without
 * bound. Past the "output" quota the guest's ring is quarantined (as C
 * xenstored drops a domain whose watch events time out) and nothing more
 * is queued for it; everybody else goes on.
 */
START_TEST(guest_that_never_reads_its_watch_events_is_stopped)
{
	struct xs_handle *h = dom0_xs();
	struct guest g, other;
	char path[160], *v = NULL;

	guest_open(&g, h);
	guest_open(&other, h);
	set_quota(h, "output", "4096");
	ck_assert_int_eq(xsg_watch(g.xs, "data", "tok"), 0);
	/* from here the guest reads nothing: ~300 events of ~40 bytes
	 * overflow its 1 KiB reply ring and then the 4 KiB quota */
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "%s/data/n%d", g.path, i);
		ck_assert(xs_write(h, XBT_NULL, path, "x", 1));
	}
	/* dom0 and another guest are served as before */
	snprintf(path, sizeof(path), "%s/data/n299", g.path);
	v = xs_read(h, XBT_NULL, path, NULL);
	ck_assert_ptr_nonnull(v);
	free(v);
	ck_assert_int_eq(xsg_write(other.xs, 0, "data/y", "fine"), 0);
	ck_assert_int_eq(xsg_read(other.xs, 0, "data/y", &v), 0);
	ck_assert_str_eq(v, "fine");
	free(v);
	/* the flooded guest's ring says why it is no longer served */
	ck_assert_int_eq(xsg_read(g.xs, 0, "data/n0", &v), -EIO);
	set_quota(h, "output", "2097152");
	guest_close(&other);
	guest_close(&g);
	xs_close(h);
}
END_TEST

START_TEST(corrupt_reply_consumer_index_quarantines_the_guest)
{
	struct bad_pair p;

	bad_pair_open(&p);
	/* The guest claims to have consumed replies never produced. */
	__atomic_store_n(&p.intf->rsp_cons, p.intf->rsp_prod + 5000,
			 __ATOMIC_RELEASE);
	/* xenstored reads the request, finds no sane room for the reply */
	ck_assert_int_eq(xsg_write(p.bad.xs, 0, "x", "y"), -EIO);
	ck_assert_uint_eq(wait_error(p.intf), XENSTORE_ERROR_RINGIDX);
	bad_pair_close(&p);
}
END_TEST

/* wait_u32 - until *p == want (2 s); true if it came. */
static bool wait_u32(uint32_t *p, uint32_t want)
{
	return wait_field(p, want, false) == want;
}

/* send_partial_header - 10 of a request header's 16 bytes, notified;
 * returns once xenstored has taken them. */
static void send_partial_header(struct guest *g)
{
	struct xenstore_domain_interface *intf = ring_of(g);
	struct xsd_sockmsg hdr = { .type = XS_READ, .req_id = 99, .len = 64 };
	XENSTORE_RING_IDX prod = intf->req_prod;

	for (uint32_t i = 0; i < 10; i++)
		intf->req[MASK_XENSTORE_IDX(prod + i)] = ((char *)&hdr)[i];
	__atomic_store_n(&intf->req_prod, prod + 10, __ATOMIC_RELEASE);
	ck_assert_int_eq(xsg_kick(g->xs), 0);
	ck_assert_msg(wait_u32(&intf->req_cons, prod + 10),
		      "xenstored did not take the partial header");
}

/* Server features every ring is offered, before any byte moves. */
START_TEST(ring_offers_reconnection_and_the_error_field)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	uint32_t f;

	guest_open(&g, h);
	f = __atomic_load_n(&ring_of(&g)->server_features, __ATOMIC_ACQUIRE);
	ck_assert_uint_eq(f & XENSTORE_SERVER_FEATURE_RECONNECTION,
			  XENSTORE_SERVER_FEATURE_RECONNECTION);
	ck_assert_uint_eq(f & XENSTORE_SERVER_FEATURE_ERROR,
			  XENSTORE_SERVER_FEATURE_ERROR);
	guest_close(&g);
	xs_close(h);
}
END_TEST

/*
 * Xen's hvmloader, handing over to the OS where the server offers no
 * reconnection, zeroes the four indexes and overwrites the data (0xff);
 * a guest may zero the whole page. The ring is served from 0 afterwards,
 * a request xenstored had read in part is forgotten, and the guest's
 * watches and nodes stay.
 */
static const struct {
	const char *what;
	int fill;         /* the data's new bytes */
	bool whole_page;  /* the feature bitmap and the rest zeroed too */
	bool partial_req; /* xenstored had read part of a header */
} resets[] = {
	{ "hvmloader: data 0xff, indexes 0", 0xff, false, false },
	{ "whole page zeroed", 0x00, true, false },
	{ "after a partial request header", 0xff, false, true },
	{ "whole page, after a partial header", 0x00, true, true },
};

START_TEST(ring_zeroed_by_the_guest_is_served_from_zero)
{
	struct xs_handle *h = dom0_xs();
	struct guest g, other;
	struct xenstore_domain_interface *intf;
	char *v = NULL, *p = NULL, *t = NULL, path[128];

	guest_open(&g, h);
	guest_open(&other, h);
	intf = ring_of(&g);
	/* some traffic first, so that the indexes are far from 0 */
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(xsg_write(g.xs, 0, "data/before", "1"), 0);
	ck_assert_int_eq(xsg_watch(g.xs, "data/w", "tokw"), 0);
	ck_assert_int_eq(xsg_wait_watch(g.xs, &p, &t), 0);
	free(p);
	free(t);
	if (resets[_i].partial_req)
		send_partial_header(&g);
	ck_assert_uint_ne(intf->req_cons, 0);

	if (resets[_i].whole_page) {
		memset(intf, resets[_i].fill, sizeof(*intf));
	} else {
		memset(intf->req, resets[_i].fill, sizeof(intf->req));
		memset(intf->rsp, resets[_i].fill, sizeof(intf->rsp));
		intf->req_cons = intf->req_prod = 0;
		intf->rsp_cons = intf->rsp_prod = 0;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	ck_assert_msg(xsg_write(g.xs, 0, "data/after", "2") == 0,
		      "%s: not served after the reset", resets[_i].what);
	ck_assert_int_eq(xsg_read(g.xs, 0, "data/before", &v), 0);
	ck_assert_str_eq(v, "1");
	free(v);
	ck_assert_uint_eq(intf->error, XENSTORE_ERROR_NONE);
	ck_assert_uint_ne(intf->server_features &
				  XENSTORE_SERVER_FEATURE_RECONNECTION,
			  0);
	/* the watch registered before the reset still fires */
	snprintf(path, sizeof(path), "%s/data/w", g.path);
	ck_assert(xs_write(h, XBT_NULL, path, "x", 1));
	ck_assert_int_eq(xsg_wait_watch(g.xs, &p, &t), 0);
	ck_assert_str_eq(t, "tokw");
	free(p);
	free(t);
	others_still_served(h, &other);
	guest_close(&other);
	guest_close(&g);
	xs_close(h);
}
END_TEST

/*
 * req_cons and rsp_prod are xenstored's; a guest that rewrites them to
 * anything but the all-zero reset has a corrupt ring.
 */
static const struct {
	const char *what;
	uint32_t req_cons_delta; /* added to the page's req_cons ... */
	bool zero;               /* ... or all four zeroed, then: */
	uint32_t rsp_cons, req_prod;
} rewrites[] = {
	{ "req_cons moved back by 7", (uint32_t)-7, false, 0, 0 },
	{ "req_cons moved ahead by 3", 3, false, 0, 0 },
	{ "zeroed but rsp_cons left at 420", 0, true, 420, 0 },
	{ "zeroed, req_prod past a ring", 0, true, 0, 5000 },
};

START_TEST(server_index_rewritten_by_the_guest_quarantines_it)
{
	struct bad_pair p;

	bad_pair_open(&p);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(xsg_write(p.bad.xs, 0, "data/n", "1"), 0);
	if (rewrites[_i].zero) {
		p.intf->req_cons = p.intf->rsp_prod = 0;
		p.intf->rsp_cons = rewrites[_i].rsp_cons;
		p.intf->req_prod = rewrites[_i].req_prod;
	} else {
		p.intf->req_cons += rewrites[_i].req_cons_delta;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ck_assert_int_eq(xsg_kick(p.bad.xs), 0);
	ck_assert_msg(wait_error(p.intf) == XENSTORE_ERROR_RINGIDX,
		      "%s: not quarantined", rewrites[_i].what);
	bad_pair_close(&p);
}
END_TEST

/*
 * xenstore-ring.txt's reconnection: partial requests, watches and
 * transactions go, the nodes stay, the indexes restart at 0.
 */
START_TEST(reconnect_drops_watches_and_transactions_not_nodes)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	struct xenstore_domain_interface *intf;
	char *v = NULL, *p = NULL, *t = NULL, path[128];
	uint32_t tx;

	guest_open(&g, h);
	intf = ring_of(&g);
	ck_assert_int_eq(xsg_write(g.xs, 0, "data/kept", "yes"), 0);
	ck_assert_int_eq(xsg_watch(g.xs, "data/w", "tokw"), 0);
	ck_assert_int_eq(xsg_transaction_start(g.xs, &tx), 0);
	ck_assert_int_eq(xsg_write(g.xs, tx, "data/tx", "1"), 0);
	send_partial_header(&g);

	ck_assert_int_eq(xsg_reconnect(g.xs), 0);
	ck_assert_uint_eq(intf->connection, XENSTORE_CONNECTED);
	ck_assert_uint_eq(intf->req_cons, 0);
	ck_assert_uint_eq(intf->req_prod, 0);
	ck_assert_uint_eq(intf->rsp_cons, 0);
	ck_assert_uint_eq(intf->rsp_prod, 0);

	ck_assert_int_eq(xsg_read(g.xs, 0, "data/kept", &v), 0);
	ck_assert_str_eq(v, "yes");
	free(v);
	ck_assert_int_eq(xsg_transaction_end(g.xs, tx, 1), -ENOENT);
	ck_assert_int_eq(xsg_read(g.xs, 0, "data/tx", &v), -ENOENT);
	/* the old watch is gone: a write under it fires nothing (a later
	 * watch's own first event comes first otherwise) */
	snprintf(path, sizeof(path), "%s/data/w", g.path);
	ck_assert(xs_write(h, XBT_NULL, path, "x", 1));
	ck_assert_int_eq(xsg_watch(g.xs, "data/other", "tok2"), 0);
	ck_assert_int_eq(xsg_wait_watch(g.xs, &p, &t), 0);
	ck_assert_str_eq(t, "tok2");
	free(p);
	free(t);
	ck_assert_int_eq(xsg_next_watch(g.xs, &p, &t), -EAGAIN);
	guest_close(&g);
	xs_close(h);
}
END_TEST

START_TEST(reconnect_serves_a_quarantined_ring_again)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	struct xenstore_domain_interface *intf;

	guest_open(&g, h);
	intf = ring_of(&g);
	__atomic_store_n(&intf->req_prod, intf->req_cons + 5000,
			 __ATOMIC_RELEASE);
	ck_assert_int_eq(xsg_kick(g.xs), 0);
	ck_assert_uint_eq(wait_error(intf), XENSTORE_ERROR_RINGIDX);
	ck_assert_int_eq(xsg_reconnect(g.xs), 0);
	ck_assert_uint_eq(intf->error, XENSTORE_ERROR_NONE);
	assert_served(&g, "data/again", "ok");
	guest_close(&g);
	xs_close(h);
}
END_TEST

/* A dom0less domain: Xen sets connection = RECONNECT before xenstored
 * knows it; the introduction connects it. */
START_TEST(ring_introduced_in_reconnect_state_is_connected)
{
	struct xs_handle *h = dom0_xs();
	struct guest g;
	struct xenstore_domain_interface *intf;

	guest_new(&g);
	intf = ring_of(&g);
	__atomic_store_n(&intf->connection, XENSTORE_RECONNECT,
			 __ATOMIC_RELEASE);
	introduce(h, &g);
	ck_assert_msg(wait_u32(&intf->connection, XENSTORE_CONNECTED),
		      "connection still %u", intf->connection);
	assert_served(&g, "data/x", "1");
	guest_close(&g);
	xs_close(h);
}
END_TEST

/* Xen 4.21's xs_wire.h: the page's evtchn_port, when non-zero, is the
 * port, whatever the introduction says. Here the introduction names a
 * port the guest never allocated: bound, it would fail. */
START_TEST(page_evtchn_port_wins_over_the_introduced_port)
{
	struct xs_handle *h = dom0_xs();
	struct guest g, plain;

	guest_new(&plain);
	ck_assert_msg(!introduce_port(h, &plain, 4000),
		      "an unallocated port was accepted");
	guest_close(&plain);

	guest_new(&g);
	ck_assert_int_eq(xsg_port_in_page(g.xs, 0), 0);
	ck_assert_msg(introduce_port(h, &g, 4000), "XS_INTRODUCE: %s",
		      strerror(errno));
	assert_served(&g, "data/p", "page");
	guest_close(&g);
	xs_close(h);
}
END_TEST

static Suite *xs_ring_suite(void)
{
	Suite *s = suite_create("xs_ring");
	TCase *tc = tcase_create("ring");

	tcase_add_unchecked_fixture(tc, start_all, stop_all);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, guest_reads_and_writes_its_own_nodes);
	tcase_add_test(tc, requests_written_as_linux_does_are_never_lost);
	tcase_add_test(tc, guest_is_refused_outside_its_permissions);
	tcase_add_test(tc, guest_watch_fires_on_register_and_on_dom0_write);
	tcase_add_test(tc, guest_transaction_conflict_is_eagain);
	tcase_add_test(tc, guest_exit_fires_releaseDomain_and_drops_it);
	tcase_add_test(tc, corrupt_ring_index_quarantines_only_that_guest);
	tcase_add_test(tc, oversized_request_quarantines_only_that_guest);
	tcase_add_test(tc, guest_watch_flood_past_quota_is_refused);
	tcase_add_test(tc, guest_that_never_reads_its_watch_events_is_stopped);
	tcase_add_test(tc, corrupt_reply_consumer_index_quarantines_the_guest);
	tcase_add_test(tc, ring_offers_reconnection_and_the_error_field);
	tcase_add_loop_test(tc, ring_zeroed_by_the_guest_is_served_from_zero, 0,
			    sizeof(resets) / sizeof(resets[0]));
	tcase_add_loop_test(tc,
			    server_index_rewritten_by_the_guest_quarantines_it,
			    0, sizeof(rewrites) / sizeof(rewrites[0]));
	tcase_add_test(tc, reconnect_drops_watches_and_transactions_not_nodes);
	tcase_add_test(tc, reconnect_serves_a_quarantined_ring_again);
	tcase_add_test(tc, ring_introduced_in_reconnect_state_is_connected);
	tcase_add_test(tc, page_evtchn_port_wins_over_the_introduced_port);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(xs_ring_suite)
