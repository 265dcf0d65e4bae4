/*
 * check_loophvd - loophvd under bad input and failure: garbage, truncated
 * and unknown messages, wrong identities, unprivileged clients, and
 * clients of a loophvd that gets killed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "ctl.h"
#include "hv.h"
#include <xen/sched.h>
#include <sys/mman.h>
#include <xen/memory.h>

#include "loophv-proto.h"
#include "loophv_fixture.h"

/* still_serving - a fresh client can still become dom0. */
static void assert_still_serving(void)
{
	struct hv *hv = lhf_dom0();

	hv_close(hv);
}

START_TEST(garbage_and_truncated_messages_get_ebadmsg)
{
	int fd = lhf_raw_connect(lhf_run_dir);
	char junk[300];

	memset(junk, 0xa5, sizeof(junk));
	ck_assert_int_eq(lhf_raw_send(fd, junk, sizeof(junk), NULL, NULL, NULL,
				      0),
			 -EBADMSG);
	ck_assert_int_eq(lhf_raw_send(fd, junk, 10, NULL, NULL, NULL, 0),
			 -EBADMSG);
	ck_assert_int_eq(lhf_raw_send(fd, junk, 1, NULL, NULL, NULL, 0),
			 -EBADMSG);
	/* the same client is still served */
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_HELLO, NULL), 0);
	close(fd);
	assert_still_serving();
}
END_TEST

START_TEST(unknown_operations_get_eopnotsupp)
{
	int fd = lhf_raw_connect(lhf_run_dir);

	ck_assert_int_eq(lhf_raw_op(fd, 0, NULL), -EOPNOTSUPP);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_MAX, NULL), -EOPNOTSUPP);
	ck_assert_int_eq(lhf_raw_op(fd, 0xffffffffu, NULL), -EOPNOTSUPP);
	close(fd);
	assert_still_serving();
}
END_TEST

START_TEST(operations_before_identity_are_refused)
{
	int fd = lhf_raw_connect(lhf_run_dir);

	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_EVTCHN_OPEN, NULL), -ENOTCONN);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_LIST, NULL), -ENOTCONN);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_HELLO, NULL), 0);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_HELLO, NULL), -EALREADY);
	close(fd);
}
END_TEST

START_TEST(wrong_domids_and_tokens_are_refused)
{
	struct hv *g = lhf_guest(4);
	int fd = lhf_raw_connect(lhf_run_dir);
	struct lh_req req;

	memset(&req, 0, sizeof(req));
	req.a.join.domid = hv_domid(g);
	req.a.join.token = 12345; /* not its token */
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_JOIN, &req), -EACCES);
	req.a.join.domid = 4000;
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_JOIN, &req), -ESRCH);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_HELLO, NULL), 0);
	memset(&req, 0, sizeof(req));
	req.a.d.domid = 4000;
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_MEM, &req), -ESRCH);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_INFO, &req), -ESRCH);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_DESTROY, &req), -ESRCH);
	req.a.evt.handle = 77;
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_EVTCHN_ALLOC_UNBOUND, &req),
			 -EBADF);
	close(fd);
	hv_close(g);
	assert_still_serving();
}
END_TEST

START_TEST(bad_domain_create_parameters_are_refused)
{
	int fd = lhf_raw_connect(lhf_run_dir);
	struct lh_req req;

	memset(&req, 0, sizeof(req));
	req.a.create.mem_bytes = 4096; /* too small */
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_CREATE, &req), -EINVAL);
	req.a.create.mem_bytes = 1ULL << 50; /* too large */
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_CREATE, &req), -EINVAL);
	req.a.create.mem_bytes = 4 << 20;
	req.a.create.grant_frames = 1000;
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_CREATE, &req), -EINVAL);
	req.a.create.grant_frames = 0;
	req.a.create.max_vcpus = 100000;
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_CREATE, &req), -EINVAL);
	close(fd);
	assert_still_serving();
}
END_TEST

/* In a child: a guest's connection is refused every dom0 operation.
 * 0, or the step that failed. */
static int guest_is_not_dom0(void)
{
	struct lh_req req;
	struct hv *g;
	int fd;

	/* Any process may be a guest, but a guest is not dom0. */
	g = hv_domain_create(lhf_opts(),
			     &(struct hv_domain_create){ .mem_bytes = 4 << 20 });
	if (!g)
		return 2;
	fd = lhf_raw_connect(lhf_run_dir);
	memset(&req, 0, sizeof(req));
	req.a.create.mem_bytes = 4 << 20;
	if (lhf_raw_op(fd, LH_OP_DOMAIN_CREATE, &req) != 0)
		return 3;
	req.a.d.domid = hv_domid(g);
	if (lhf_raw_op(fd, LH_OP_DOMAIN_MEM, &req) != -EACCES)
		return 4;
	if (lhf_raw_op(fd, LH_OP_DOMAIN_DESTROY, &req) != -EACCES)
		return 5;
	if (lhf_raw_op(fd, LH_OP_SUBSCRIBE, &req) != -EACCES)
		return 6;
	if (lhf_raw_op(fd, LH_OP_DM_CREATE, &req) != -EACCES)
		return 7;
	return 0;
}

static void assert_child_ok(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child failed at step %d", WEXITSTATUS(status));
}

START_TEST(guest_connection_cannot_act_as_dom0)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(guest_is_not_dom0());
	assert_child_ok(pid);
	assert_still_serving();
}
END_TEST

/* A uid other than loophvd's --priv-uid cannot open as dom0, and as a
 * guest it is refused dom0's operations. */
START_TEST(unprivileged_client_cannot_act_as_dom0)
{
	pid_t pid;

	/* our uid is the fixture's --priv-uid: becoming another takes root */
	if (geteuid() != 0)
		check_skip("not root: cannot run as a uid other than loophvd's "
			   "--priv-uid");
	pid = fork();
	if (pid == 0) {
		if (setuid(65534) != 0)
			_exit(10);
		if (getuid() != 65534 || setuid(0) == 0)
			_exit(11);
		errno = 0;
		if (hv_open(lhf_opts()) != NULL || errno != EACCES)
			_exit(1);
		_exit(guest_is_not_dom0());
	}
	assert_child_ok(pid);
	assert_still_serving();
}
END_TEST

START_TEST(destroy_ends_the_guest_connection)
{
	struct hv *dom0 = lhf_dom0();
	struct hv *g = lhf_guest(4);
	struct hv_domains *doms = hv_domains_open(dom0);
	struct hv_evtchn *eg;
	int fd = lhf_raw_connect(lhf_run_dir);
	struct lh_req req;

	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_HELLO, NULL), 0);
	memset(&req, 0, sizeof(req));
	req.a.d.domid = hv_domid(g);
	ck_assert_int_eq(lhf_raw_op(fd, LH_OP_DOMAIN_DESTROY, &req), 0);
	ck_assert(poll(&(struct pollfd){ .fd = hv_domains_fd(doms),
					 .events = POLLIN },
		       1, 2000) == 1);
	ck_assert_int_eq(hv_domains_next_dead(doms), hv_domid(g));
	/* The guest's own requests now fail clearly. */
	errno = 0;
	eg = hv_evtchn_open(g);
	ck_assert_ptr_null(eg);
	ck_assert_int_eq(errno, EPIPE);
	close(fd);
	hv_domains_close(doms);
	hv_close(g);
	hv_close(dom0);
}
END_TEST

START_TEST(killed_loophvd_gives_clients_epipe_not_a_hang)
{
	char dir[] = "/tmp/splitdrv-kill.XXXXXX";
	char uid[32], cmd[64];
	struct hv_open_opts o = { .provider = HV_PROVIDER_LOOP };
	struct hv *dom0, *g;
	struct hv_domains *doms;
	struct hv_evtchn *e;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(uid, sizeof(uid), "--priv-uid=%u", (unsigned)getuid());
	pid = lhf_spawn(dir, uid);
	o.run_dir = dir;
	dom0 = hv_open(&o);
	g = hv_domain_create(&o, &(struct hv_domain_create){ .mem_bytes =
								     4 << 20 });
	ck_assert_ptr_nonnull(dom0);
	ck_assert_ptr_nonnull(g);
	doms = hv_domains_open(dom0);
	ck_assert_ptr_nonnull(doms);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);

	errno = 0;
	e = hv_evtchn_open(dom0);
	ck_assert_ptr_null(e);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(hv_param_set(g, DOMID_SELF, 1, 1), -EPIPE);
	ck_assert(poll(&(struct pollfd){ .fd = hv_domains_fd(doms),
					 .events = POLLIN },
		       1, 2000) == 1);
	ck_assert_int_eq(hv_domains_next_dead(doms), -EPIPE);
	hv_domains_close(doms);
	hv_close(g);
	hv_close(dom0);
	errno = 0;
	ck_assert_ptr_null(hv_open(&o));
	ck_assert(errno == ECONNREFUSED || errno == ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(devicemodel_ranges_and_resources)
{
	struct hv *dom0 = lhf_dom0();
	struct hv *g = lhf_guest(4);
	struct hv_devicemodel *dm = hv_devicemodel_open(dom0);
	struct hv_foreignmem *fm = hv_foreignmem_open(dom0);
	struct hv_resource *res;
	domid_t d = hv_domid(g);
	void *pages = NULL;
	int id, id2;

	id = hv_dm_create_ioreq_server(dm, d, 1);
	ck_assert_int_ge(id, 0);
	id2 = hv_dm_create_ioreq_server(dm, d, 0);
	ck_assert_int_ge(id2, 0);
	ck_assert_int_eq(hv_dm_map_io_range(dm, d, (uint16_t)id, HV_IO_PORT,
					    0x3f8, 0x3ff),
			 0);
	ck_assert_int_eq(hv_dm_map_io_range(dm, d, (uint16_t)id2, HV_IO_PORT,
					    0x3fc, 0x400),
			 -EEXIST);
	ck_assert_int_eq(hv_dm_map_io_range(dm, d, (uint16_t)id, HV_IO_PORT,
					    0x10, 0x10000),
			 -EINVAL);
	ck_assert_int_eq(hv_dm_unmap_io_range(dm, d, (uint16_t)id, HV_IO_PORT,
					      0x3f8, 0x3ff),
			 0);
	ck_assert_int_eq(hv_dm_set_ioreq_server_state(dm, d, (uint16_t)id, 1),
			 0);
	ck_assert_int_eq(hv_dm_set_isa_irq_level(dm, d, 4, 1), 0);
	ck_assert_int_eq(hv_dm_set_isa_irq_level(dm, d, 16, 1), -EINVAL);
	res = hv_foreignmem_map_resource(fm, d, XENMEM_resource_ioreq_server,
					 (unsigned)id, 0, 2, &pages,
					 PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(res);
	((volatile uint8_t *)pages)[4096] = 1;
	ck_assert_int_eq(hv_foreignmem_unmap_resource(fm, res), 0);
	ck_assert_int_eq(hv_dm_destroy_ioreq_server(dm, d, (uint16_t)id), 0);
	ck_assert_int_eq(hv_dm_destroy_ioreq_server(dm, d, (uint16_t)id),
			 -ENOENT);
	ck_assert_int_eq(hv_dm_create_ioreq_server(dm, 4000, 0), -ESRCH);
	hv_foreignmem_close(fm);
	hv_devicemodel_close(dm);
	hv_close(g);
	hv_close(dom0);
}
END_TEST

/* status_int - loophvd's control socket: status (or stats) field key. */
static json_int_t ctl_int(const char *cmd, const char *key)
{
	char path[300];
	json_t *r, *v;
	json_int_t n;

	snprintf(path, sizeof(path), "%s/loophvd.ctl", lhf_run_dir);
	r = ctl_request(path, cmd, NULL, 5000);
	ck_assert_msg(r != NULL, "%s: %s", path, strerror(errno));
	v = json_object_get(json_object_get(r, "result"), key);
	ck_assert_msg(json_is_integer(v), "%s has no integer %s", cmd, key);
	n = json_integer_value(v);
	json_decref(r);
	return n;
}

/* The guest owns its RAM's contents, not its size. */
START_TEST(guest_cannot_resize_its_ram_under_dom0)
{
	struct hv *dom0 = lhf_dom0();
	struct hv_foreignmem *fm = hv_foreignmem_open(dom0);
	int fd = lhf_raw_connect(lhf_run_dir), memfd = -1, nfds = 0;
	struct lh_req req;
	struct lh_rep rep;
	volatile uint8_t *p;
	uint64_t last;

	memset(&req, 0, sizeof(req));
	req.op = LH_OP_DOMAIN_CREATE;
	req.a.create.mem_bytes = 4 << 20;
	ck_assert_int_eq(lhf_raw_rpc(fd, &req, &rep, &memfd, &nfds, 1), 0);
	ck_assert_int_eq(nfds, 1);
	last = rep.d.created.nr_frames - 1;
	p = hv_foreignmem_map(fm, rep.d.created.domid, PROT_READ | PROT_WRITE,
			      1, &last, NULL);
	ck_assert_ptr_nonnull((void *)p);
	p[4095] = 7;
	/* The guest tries to pull its RAM from under dom0, and to grow it. */
	errno = 0;
	ck_assert_int_eq(ftruncate(memfd, 4096), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(ftruncate(memfd, 8 << 20), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(fcntl(memfd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	/* dom0's mapping still works (no SIGBUS). */
	ck_assert_int_eq(p[4095], 7);
	ck_assert_int_eq(hv_foreignmem_unmap(fm, (void *)p, 1), 0);
	close(memfd);
	close(fd);
	hv_foreignmem_close(fm);
	hv_close(dom0);
}
END_TEST

static void wait_readable(int fd)
{
	ck_assert_msg(poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1,
			   5000) == 1,
		      "no domain event within 5 s");
}

/*
 * 120 guest lifetimes, each guest's RAM mapped by the same dom0 process
 * (a grant map and a foreign map). Half of the guests die while mapped
 * (unmapped after the death), half after the unmap. Every one of them
 * attaches, however many came and went before it, and at the end
 * nothing of them is held or listed.
 */
START_TEST(dead_domains_release_everything_across_many_lifetimes)
{
	struct hv *dom0 = lhf_dom0();
	struct hv_gnttab *gt = hv_gnttab_open(dom0);
	struct hv_foreignmem *fm = hv_foreignmem_open(dom0);
	struct hv_domains *doms = hv_domains_open(dom0);
	struct hv_domain_info info[4];
	struct hv_domain_event ev;
	unsigned int dead = 0;

	ck_assert_ptr_nonnull(gt);
	ck_assert_ptr_nonnull(fm);
	ck_assert_ptr_nonnull(doms);
	for (int i = 0; i < 120; i++) {
		struct hv *g = lhf_guest(1);
		struct hv_gntshr *gs = hv_gntshr_open(g);
		domid_t d = hv_domid(g);
		uint64_t gfn = 0;
		grant_ref_t ref;
		uint8_t *shared, *m, *f;

		ck_assert_ptr_nonnull(gs);
		shared = hv_gntshr_share(gs, 0, 1, &ref, 1);
		ck_assert_ptr_nonnull(shared);
		shared[0] = (uint8_t)i;
		m = hv_gnttab_map_one(gt, d, ref, 0);
		ck_assert_msg(m != NULL, "lifetime %d: grant map: %s", i,
			      strerror(errno));
		ck_assert_int_eq(m[0], (uint8_t)i);
		f = hv_foreignmem_map(fm, d, PROT_READ, 1, &gfn, NULL);
		ck_assert_msg(f != NULL, "lifetime %d: foreign map: %s", i,
			      strerror(errno));
		if (i % 2) {
			hv_gntshr_close(gs);
			hv_close(g); /* dies with dom0's maps in place */
			ck_assert_int_eq(m[0], (uint8_t)i);
		}
		ck_assert_int_eq(hv_gnttab_unmap(gt, m, 1), 0);
		ck_assert_int_eq(hv_foreignmem_unmap(fm, f, 1), 0);
		if (!(i % 2)) {
			hv_gntshr_close(gs);
			hv_close(g);
		}
	}
	/* This process learns of the deaths as a daemon does. */
	while (dead < 120) {
		int r = hv_domains_next_event(doms, &ev);

		if (r == -EAGAIN) {
			wait_readable(hv_domains_fd(doms));
			continue;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_int_eq(ev.kind, HV_DOMAIN_DEAD);
		dead++;
	}
	ck_assert_int_eq(ctl_int("status", "mem_holders"), 0);
	/* Only Domain-0 is left: no guest stays dying. */
	ck_assert_int_eq(hv_domains_list(doms, info, 4), 1);
	ck_assert_int_eq(info[0].domid, 0);
	hv_domains_close(doms);
	hv_foreignmem_close(fm);
	hv_gnttab_close(gt);
	hv_close(dom0);
}
END_TEST

/*
 * A subscriber that reads nothing while many domains die
 * gets every death afterwards, in order, once each.
 */
START_TEST(no_death_event_is_lost_to_a_full_socket)
{
	enum {
		N = 600
	};
	struct hv *dom0 = lhf_dom0();
	struct hv_domains *doms = hv_domains_open(dom0);
	static domid_t died[N];
	struct hv_domain_event ev;
	int got = 0;
	long queued0 = ctl_int("stats", "events_queued"); /* since start */

	ck_assert_ptr_nonnull(doms);
	for (int i = 0; i < N; i++) {
		struct hv *g = lhf_guest(1);

		died[i] = hv_domid(g);
		hv_close(g);
	}
	/* The socket could not take them all: some waited in loophvd. */
	ck_assert_int_gt(ctl_int("stats", "events_queued"), queued0);
	while (got < N) {
		int r = hv_domains_next_event(doms, &ev);

		if (r == -EAGAIN) {
			wait_readable(hv_domains_fd(doms));
			continue;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_int_eq(ev.kind, HV_DOMAIN_DEAD);
		ck_assert_int_eq(ev.domid, died[got]);
		got++;
	}
	/* The connection still serves requests. */
	ck_assert_int_eq(hv_domains_list(doms, NULL, 0), 1);
	hv_domains_close(doms);
	hv_close(dom0);
}
END_TEST

/* next_event - the next domain event within 5 s. */
static void next_event(struct hv_domains *doms, struct hv_domain_event *ev)
{
	int r;

	while ((r = hv_domains_next_event(doms, ev)) == -EAGAIN)
		wait_readable(hv_domains_fd(doms));
	ck_assert_int_eq(r, 0);
}

/* A guest shuts itself down (SCHEDOP_shutdown): listed as shut down with
 * its reason, dom0 told once; dom0 then destroys it (xl destroy). */
START_TEST(guest_shutdown_then_dom0_destroy)
{
	struct hv *dom0 = lhf_dom0();
	struct hv *g = lhf_guest(1), *g2 = lhf_guest(1);
	struct hv_domains *doms = hv_domains_open(dom0);
	struct hv_domain_event ev;
	struct hv_domain_info info;
	domid_t d = hv_domid(g);

	ck_assert_ptr_nonnull(doms);
	ck_assert_int_eq(hv_domain_shutdown(g, SHUTDOWN_MAX + 1), -EINVAL);
	ck_assert_int_eq(hv_domain_shutdown(dom0, SHUTDOWN_poweroff), -EINVAL);
	ck_assert_int_eq(hv_domain_shutdown(g, SHUTDOWN_reboot), 0);
	next_event(doms, &ev);
	ck_assert_int_eq(ev.domid, d);
	ck_assert_int_eq(ev.kind, HV_DOMAIN_SHUTDOWN);
	ck_assert_uint_eq(ev.shutdown_reason, SHUTDOWN_reboot);
	ck_assert_int_eq(hv_domains_info(doms, d, &info), 0);
	ck_assert(info.shutdown && !info.dying);
	ck_assert_uint_eq(info.shutdown_reason, SHUTDOWN_reboot);
	/* The first reason stands; no second event. */
	ck_assert_int_eq(hv_domain_shutdown(g, SHUTDOWN_crash), 0);
	ck_assert_int_eq(hv_domains_info(doms, d, &info), 0);
	ck_assert_uint_eq(info.shutdown_reason, SHUTDOWN_reboot);
	ck_assert_int_eq(hv_domains_next_event(doms, &ev), -EAGAIN);

	/* Only dom0 destroys, and only live domains. */
	ck_assert_int_eq(hv_domain_destroy(g2, d), -EACCES);
	ck_assert_int_eq(hv_domain_destroy(dom0, 4000), -ESRCH);
	ck_assert_int_eq(hv_domain_destroy(dom0, d), 0);
	next_event(doms, &ev);
	ck_assert_int_eq(ev.domid, d);
	ck_assert_int_eq(ev.kind, HV_DOMAIN_DEAD);
	ck_assert_int_eq(hv_domain_destroy(dom0, d), -ESRCH);
	ck_assert_int_eq(hv_param_set(g, DOMID_SELF, 1, 1), -EPIPE);
	ck_assert_int_eq(hv_domains_info(doms, d, &info), -ESRCH);
	hv_domains_close(doms);
	hv_close(g2);
	hv_close(g);
	hv_close(dom0);
}
END_TEST

static Suite *loophvd_suite(void)
{
	Suite *s = suite_create("loophvd");
	TCase *tc = tcase_create("robustness");
	/* 600 and 120 guest lifetimes: seconds under ASan on a loaded machine */
	tcase_set_timeout(tc, 60);

	tcase_add_unchecked_fixture(tc, lhf_start, lhf_stop);
	tcase_add_test(tc, garbage_and_truncated_messages_get_ebadmsg);
	tcase_add_test(tc, unknown_operations_get_eopnotsupp);
	tcase_add_test(tc, operations_before_identity_are_refused);
	tcase_add_test(tc, wrong_domids_and_tokens_are_refused);
	tcase_add_test(tc, bad_domain_create_parameters_are_refused);
	tcase_add_test(tc, guest_connection_cannot_act_as_dom0);
	tcase_add_test(tc, unprivileged_client_cannot_act_as_dom0);
	tcase_add_test(tc, destroy_ends_the_guest_connection);
	tcase_add_test(tc, killed_loophvd_gives_clients_epipe_not_a_hang);
	tcase_add_test(tc, devicemodel_ranges_and_resources);
	tcase_add_test(tc, guest_cannot_resize_its_ram_under_dom0);
	tcase_add_test(tc,
		       dead_domains_release_everything_across_many_lifetimes);
	tcase_add_test(tc, no_death_event_is_lost_to_a_full_socket);
	tcase_add_test(tc, guest_shutdown_then_dom0_destroy);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(loophvd_suite)
