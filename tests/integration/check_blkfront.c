/*
 * check_blkfront - tools/blkfront.c against a backend played by the test,
 * on a real loophvd and xenstored (--hv=loop). A forked child is the guest
 * (blkfront_connect, then reads on command); the parent is dom0: it writes
 * the backend directory as a toolstack and blkback would, checks the keys
 * the frontend writes, maps its ring and data grants, and answers the
 * requests -- correctly, or in the hostile ways a frontend must survive:
 * an error status, rsp_prod beyond what is outstanding, a response for an
 * id never sent, a response with another operation, the backend's event
 * channel gone.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xen-ring.h" /* before blkif.h: it includes ring.h */

#include <xenstore.h>
#include <xen/io/blkif.h>
#include <xen/hvm/params.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "check_main.h"
#include "loophv_fixture.h"
#include "tools/blkfront.h"
#include "xs-guest.h"
#include "xsd_fixture.h"

#define DEVID   51712
#define SECTORS 2048 /* 1 MiB */

static grant_ref_t last_gref; /* of the last read served */

enum misbehave {
	GOOD,
	ERROR_STATUS,
	PROD_OVERFLOW,
	UNKNOWN_ID,
	OTHER_OP,
	PORT_CLOSED
};

static void start_all(void)
{
	const char *xsd_args[] = { "--hv=loop", NULL };

	lhf_start();
	snprintf(xsdf_run_dir, 64, "%s", lhf_run_dir);
	snprintf(xsdf_sock, 128, "%s/socket", lhf_run_dir);
	xsdf_start_args(xsd_args);
}

static void stop_all(void)
{
	xsdf_stop();
	lhf_stop();
}

/* ---- the guest (child) ---- */

static void xwrite(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		_exit(3);
}

static void xread(int fd, void *p, size_t n)
{
	if (read(fd, p, n) != (ssize_t)n)
		_exit(4);
}

/* guest - become a domain, connect, then run reads on command: 'r' reads
 * 4 KiB at 0 and answers the result and the first 4 bytes; 'q' quits. */
static void guest(int in, int out)
{
	struct blkfront_opts o = { .timeout_ms = 3000,
				   .attach_timeout_ms = 10000,
				   .max_ring_order = -1U };
	struct hv *hv = lhf_guest(16);
	struct xsg *xs = hv ? xsg_open(hv, 1, 0) : NULL;
	struct blkfront *bf;
	domid_t domid;
	int r;
	char cmd;

	if (!xs)
		_exit(2);
	domid = hv_domid(hv);
	xwrite(out, &domid, sizeof(domid));
	bf = blkfront_connect(hv, xs, DEVID, &o);
	r = bf ? 0 : -errno;
	xwrite(out, &r, sizeof(r));
	while (bf) {
		uint8_t buf[4096];

		xread(in, &cmd, 1);
		if (cmd == 'q')
			break;
		memset(buf, 0, sizeof(buf));
		r = blkfront_read(bf, 0, buf, sizeof(buf));
		xwrite(out, &r, sizeof(r));
		xwrite(out, buf, 4);
	}
	_exit(0); /* the domain dies with us */
}

/* ---- the backend (parent) ---- */

struct be {
	pid_t child;
	int to, from;
	domid_t domid;
	struct hv *dom0;
	struct hv_gnttab *gt;
	struct hv_evtchn *ev;
	struct xs_handle *xs;
	char fe[96], be[96];
	struct blkif_sring *sring;
	RING_IDX req_cons, rsp_prod_pvt;
	int port;
};

static char *xs_get(struct be *b, const char *dir, const char *key)
{
	char path[160];
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(b->xs, XBT_NULL, path, &len);
}

static void xs_put(struct be *b, const char *dir, const char *key,
		   const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	ck_assert(xs_write(b->xs, XBT_NULL, path, val,
			   (unsigned int)strlen(val)));
}

static int fe_state(struct be *b)
{
	char *s = xs_get(b, b->fe, "state");
	int v = s ? atoi(s) : -1;

	free(s);
	return v;
}

static void wait_fe_state(struct be *b, int want)
{
	for (int i = 0; i < 200; i++) {
		if (fe_state(b) == want)
			return;
		usleep(20000);
	}
	ck_abort_msg("frontend never reached state %d (is %d)", want,
		     fe_state(b));
}

/* be_start - fork the guest, introduce it, write both directories as
 * splitctl and blkback do, and negotiate up to Connected. */
static void be_start(struct be *b)
{
	struct xs_permissions guest_owns[2] = { { 0, XS_PERM_NONE },
						{ 0, XS_PERM_READ } };
	struct xs_permissions dom0_owns[2] = { { 0, XS_PERM_NONE },
					       { 0, XS_PERM_READ } };
	int p2c[2], c2p[2], r;
	uint64_t pfn, port;
	char home[64], num[32], *s;

	memset(b, 0, sizeof(*b));
	ck_assert_int_eq(pipe(p2c), 0);
	ck_assert_int_eq(pipe(c2p), 0);
	b->child = fork();
	ck_assert_int_ge(b->child, 0);
	if (b->child == 0) {
		close(p2c[1]);
		close(c2p[0]);
		guest(p2c[0], c2p[1]);
	}
	close(p2c[0]);
	close(c2p[1]);
	b->to = p2c[1];
	b->from = c2p[0];
	ck_assert_int_eq(read(b->from, &b->domid, sizeof(b->domid)),
			 (ssize_t)sizeof(b->domid));
	b->dom0 = lhf_dom0();
	b->gt = hv_gnttab_open(b->dom0);
	b->ev = hv_evtchn_open(b->dom0);
	b->xs = xs_open(0);
	ck_assert_ptr_nonnull(b->xs);
	ck_assert_int_eq(hv_param_get(b->dom0, b->domid, HVM_PARAM_STORE_PFN,
				      &pfn),
			 0);
	ck_assert_int_eq(hv_param_get(b->dom0, b->domid, HVM_PARAM_STORE_EVTCHN,
				      &port),
			 0);
	guest_owns[0].id = b->domid;
	dom0_owns[1].id = b->domid;
	snprintf(home, sizeof(home), "/local/domain/%u", b->domid);
	ck_assert(xs_mkdir(b->xs, XBT_NULL, home));
	ck_assert(xs_set_permissions(b->xs, XBT_NULL, home, guest_owns, 2));
	ck_assert(xs_introduce_domain(b->xs, b->domid, pfn, (unsigned int)port));
	snprintf(b->fe, sizeof(b->fe), "%s/device/vbd/%d", home, DEVID);
	snprintf(b->be, sizeof(b->be), "/local/domain/0/backend/vbd/%u/%d",
		 b->domid, DEVID);
	/* the backend first, then the frontend's pointer to it */
	xs_put(b, b->be, "frontend", b->fe);
	ck_assert(xs_set_permissions(b->xs, XBT_NULL, b->be, dom0_owns, 2));
	xs_put(b, b->be, "feature-persistent", "0");
	xs_put(b, b->be, "feature-flush-cache", "1");
	xs_put(b, b->be, "state", "2"); /* InitWait: features are there */
	ck_assert(xs_mkdir(b->xs, XBT_NULL, b->fe));
	ck_assert(xs_set_permissions(b->xs, XBT_NULL, b->fe, guest_owns, 2));
	xs_put(b, b->fe, "backend-id", "0");
	xs_put(b, b->fe, "state", "1");
	xs_put(b, b->fe, "backend", b->be);

	wait_fe_state(b, XenbusStateInitialised);
	/* the keys, as blkback reads them */
	s = xs_get(b, b->fe, "protocol");
	ck_assert_str_eq(s, XEN_IO_PROTO_ABI_NATIVE);
	free(s);
	s = xs_get(b, b->fe, "feature-persistent");
	ck_assert_str_eq(s, "1"); /* it could: we did not offer */
	free(s);
	s = xs_get(b, b->fe, "multi-queue-num-queues");
	ck_assert_ptr_null(s); /* not offered: not written */
	s = xs_get(b, b->fe, "ring-page-order");
	ck_assert_ptr_null(s); /* not offered: one page */
	s = xs_get(b, b->fe, "event-channel");
	ck_assert_ptr_nonnull(s);
	r = hv_evtchn_bind_interdomain(b->ev, b->domid, (evtchn_port_t)atoi(s));
	free(s);
	ck_assert_int_ge(r, 0);
	b->port = r;
	s = xs_get(b, b->fe, "ring-ref");
	ck_assert_ptr_nonnull(s);
	b->sring = hv_gnttab_map_one(b->gt, b->domid, (grant_ref_t)atoi(s), 0);
	free(s);
	ck_assert_ptr_nonnull(b->sring);
	snprintf(num, sizeof(num), "%d", SECTORS);
	xs_put(b, b->be, "sectors", num);
	xs_put(b, b->be, "info", "0");
	xs_put(b, b->be, "sector-size", "512");
	xs_put(b, b->be, "state", "4");
	wait_fe_state(b, XenbusStateConnected);
	ck_assert_int_eq(read(b->from, &r, sizeof(r)), (ssize_t)sizeof(r));
	ck_assert_int_eq(r, 0);
}

static void be_stop(struct be *b)
{
	int st;

	if (write(b->to, "q", 1) != 1)
		kill(b->child, SIGKILL);
	ck_assert_int_eq(waitpid(b->child, &st, 0), b->child);
	if (b->sring)
		hv_gnttab_unmap(b->gt, b->sring, 1);
	hv_evtchn_close(b->ev);
	hv_gnttab_close(b->gt);
	hv_close(b->dom0);
	xs_close(b->xs);
	close(b->to);
	close(b->from);
}

/* next_req - wait for the guest's next request, copy it out once */
static void next_req(struct be *b, struct blkif_request *req)
{
	for (int i = 0; i < 2000; i++) {
		RING_IDX rp =
			__atomic_load_n(&b->sring->req_prod, __ATOMIC_ACQUIRE);

		if (rp != b->req_cons) {
			ck_assert_uint_le(rp - b->req_cons,
					  __CONST_RING_SIZE(blkif, 4096));
			memcpy(req,
			       &b->sring->ring[b->req_cons++ &
					       (__CONST_RING_SIZE(blkif, 4096) - 1)]
					.req,
			       sizeof(*req));
			return;
		}
		usleep(1000);
	}
	ck_abort_msg("no request from the guest");
}

static void respond(struct be *b, uint64_t id, uint8_t op, int16_t status,
		    RING_IDX publish)
{
	struct blkif_response rsp = { .id = id,
				      .operation = op,
				      .status = status };

	memcpy(&b->sring->ring[b->rsp_prod_pvt++ &
			       (__CONST_RING_SIZE(blkif, 4096) - 1)]
			.rsp,
	       &rsp, sizeof(rsp));
	__atomic_store_n(&b->sring->rsp_prod,
			 publish ? publish : b->rsp_prod_pvt, __ATOMIC_RELEASE);
	ck_assert_int_eq(hv_evtchn_notify(b->ev, (evtchn_port_t)b->port), 0);
}

/* serve_read - answer one 4 KiB read (filling its pages with 0x5a) the way
 * the case says; returns the guest's result and its first 4 bytes. */
static int serve_read(struct be *b, enum misbehave how, uint8_t first[4])
{
	struct blkif_request req;
	int r;

	ck_assert_int_eq(write(b->to, "r", 1), 1);
	next_req(b, &req);
	ck_assert_uint_eq(req.operation, BLKIF_OP_READ);
	ck_assert_uint_eq(req.nr_segments, 1);
	ck_assert_uint_eq(req.sector_number, 0);
	ck_assert_uint_eq(req.seg[0].first_sect, 0);
	ck_assert_uint_eq(req.seg[0].last_sect, 7);
	last_gref = req.seg[0].gref;
	if (how == GOOD || how == ERROR_STATUS) {
		uint8_t *p =
			hv_gnttab_map_one(b->gt, b->domid, req.seg[0].gref, 0);

		ck_assert_msg(p != NULL, "data grant does not map writable");
		memset(p, 0x5a, 4096);
		hv_gnttab_unmap(b->gt, p, 1);
	}
	switch (how) {
	case GOOD:
		respond(b, req.id, BLKIF_OP_READ, BLKIF_RSP_OKAY, 0);
		break;
	case ERROR_STATUS:
		respond(b, req.id, BLKIF_OP_READ, BLKIF_RSP_ERROR, 0);
		break;
	case PROD_OVERFLOW:
		respond(b, req.id, BLKIF_OP_READ, BLKIF_RSP_OKAY,
			b->rsp_prod_pvt + 5);
		break;
	case UNKNOWN_ID:
		respond(b, req.id + 1000, BLKIF_OP_READ, BLKIF_RSP_OKAY, 0);
		break;
	case OTHER_OP:
		respond(b, req.id, BLKIF_OP_WRITE, BLKIF_RSP_OKAY, 0);
		break;
	case PORT_CLOSED:
		hv_evtchn_unbind(b->ev, (evtchn_port_t)b->port);
		break;
	}
	ck_assert_int_eq(read(b->from, &r, sizeof(r)), (ssize_t)sizeof(r));
	ck_assert_int_eq(read(b->from, first, 4), 4);
	return r;
}

START_TEST(negotiates_and_reads_through_granted_pages)
{
	struct be b;
	uint8_t first[4];

	be_start(&b);
	ck_assert_int_eq(serve_read(&b, GOOD, first), 0);
	ck_assert_uint_eq(first[0], 0x5a);
	ck_assert_uint_eq(first[3], 0x5a);
	/* no persistent grants: the page's grant ended with the response */
	ck_assert_ptr_null(hv_gnttab_map_one(b.gt, b.domid, last_gref, 0));
	/* and again: ids and pages were given back */
	ck_assert_int_eq(serve_read(&b, GOOD, first), 0);
	be_stop(&b);
}
END_TEST

START_TEST(error_status_is_eio_and_the_device_goes_on)
{
	struct be b;
	uint8_t first[4];

	be_start(&b);
	ck_assert_int_eq(serve_read(&b, ERROR_STATUS, first), -EIO);
	ck_assert_int_eq(serve_read(&b, GOOD, first), 0);
	ck_assert_uint_eq(first[0], 0x5a);
	be_stop(&b);
}
END_TEST

static const struct {
	const char *name;
	enum misbehave how;
} hostile[] = {
	{ "rsp_prod beyond the requests outstanding", PROD_OVERFLOW },
	{ "a response for an id never sent", UNKNOWN_ID },
	{ "a response with another operation", OTHER_OP },
	{ "the backend's event channel closed", PORT_CLOSED },
};

START_TEST(hostile_backend_stops_the_device)
{
	struct be b;
	uint8_t first[4];
	int r;

	be_start(&b);
	r = serve_read(&b, hostile[_i].how, first);
	ck_assert_msg(r == -ENOTCONN, "%s: read returned %d", hostile[_i].name,
		      r);
	/* nothing more goes on the ring: the next read fails at once */
	ck_assert_int_eq(write(b.to, "r", 1), 1);
	ck_assert_int_eq(read(b.from, &r, sizeof(r)), (ssize_t)sizeof(r));
	ck_assert_int_eq(read(b.from, first, 4), 4);
	ck_assert_int_eq(r, -ENOTCONN);
	be_stop(&b);
}
END_TEST

START_TEST(vdev_names)
{
	uint32_t d;

	ck_assert_int_eq(blkfront_vdev_to_devid("xvda", &d), 0);
	ck_assert_uint_eq(d, 51712);
	ck_assert_int_eq(blkfront_vdev_to_devid("xvdb1", &d), 0);
	ck_assert_uint_eq(d, 51729);
	ck_assert_int_eq(blkfront_vdev_to_devid("xvdq", &d), 0);
	ck_assert_uint_eq(d, (1u << 28) | (16u << 8));
	ck_assert_int_eq(blkfront_vdev_to_devid("hdc", &d), 0);
	ck_assert_uint_eq(d, 5632);
	ck_assert_int_eq(blkfront_vdev_to_devid("sdb", &d), 0);
	ck_assert_uint_eq(d, 2064);
	ck_assert_int_eq(blkfront_vdev_to_devid("51712", &d), 0);
	ck_assert_uint_eq(d, 51712);
	ck_assert_int_eq(blkfront_vdev_to_devid("xv1", &d), -EINVAL);
	ck_assert_int_eq(blkfront_vdev_to_devid("xvda16", &d), -EINVAL);
	ck_assert_int_eq(blkfront_vdev_to_devid("12x", &d), -EINVAL);
}
END_TEST

static Suite *blkfront_suite(void)
{
	Suite *s = suite_create("blkfront");
	TCase *tc = tcase_create("against a test backend");
	TCase *tn = tcase_create("names");

	tcase_add_unchecked_fixture(tc, start_all, stop_all);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, negotiates_and_reads_through_granted_pages);
	tcase_add_test(tc, error_status_is_eio_and_the_device_goes_on);
	tcase_add_loop_test(tc, hostile_backend_stops_the_device, 0,
			    (int)(sizeof(hostile) / sizeof(hostile[0])));
	suite_add_tcase(s, tc);
	tcase_add_test(tn, vdev_names);
	suite_add_tcase(s, tn);
	return s;
}

CHECK_MAIN(blkfront_suite)
