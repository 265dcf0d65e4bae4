/*
 * check_blkback_daemon - the blkback daemon end to end on the loopback
 * hypervisor: real loophvd, xenstored (--hv=loop) and blkback processes.
 * The test is the toolstack (libxenstore: backend and frontend directories
 * as libxl writes them, XS_INTRODUCE) and the guest: a loopback domain whose
 * xenbus (lib/xs-guest) negotiates as Linux's blkfront does and whose ring
 * is driven by the in-test blkfront of check_blk_fe.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>
#include <xen/hvm/params.h>
#include <xen/io/xenbus.h>

#include "check_blk_fe.h"
#include "check_main.h"
#include "ctl.h"
#include "../lib/launch.h"
#include "loophv_fixture.h"
#include "xs-guest.h"
#include "xsd_fixture.h"

#define DISK_BYTES (8u << 20)
#define DEVID      51712

static pid_t bk_pid = -1;
static char disk[300];

static void start_all(void)
{
	const char *top = getenv("top_builddir");
	const char *xsd_args[] = { "--hv=loop", NULL };
	char bin[512];
	int fd;

	lhf_start();
	/* xenstored shares loophvd's run dir (its --hv needs the socket) */
	snprintf(xsdf_run_dir, 64, "%s", lhf_run_dir);
	snprintf(xsdf_sock, 128, "%s/socket", lhf_run_dir);
	xsdf_start_args(xsd_args);
	snprintf(disk, sizeof(disk), "%s/disk.img", lhf_run_dir);
	fd = open(disk, O_CREAT | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, DISK_BYTES) < 0)
		exit(99);
	close(fd);
	snprintf(bin, sizeof(bin), "%s/blkback/blkback", top ? top : ".");
	{
		const char *argv[] = { bin,         "--foreground",
				       "--hv=loop", "--run-dir",
				       lhf_run_dir, "--log-level",
				       "warning",   NULL };

		bk_pid = launch_daemon("blkback", NULL, (char *const *)argv);
	}
}

static void stop_all(void)
{
	if (bk_pid > 0) {
		kill(bk_pid, SIGTERM);
		waitpid(bk_pid, NULL, 0);
	}
	xsdf_stop();
	lhf_stop();
}

struct vm {
	struct blkfe f;
	struct xsg *xs;
	domid_t domid;
	char fe[96], be[96];
};

/* the toolstack: introduce the guest, then attach the disk as libxl does */
static void attach_params(struct xs_handle *h, struct vm *v, const char *mode,
			  const char *params)
{
	struct xs_permissions guest_owns[2] = {
		{ .id = v->domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	struct xs_permissions dom0_owns[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = v->domid, .perms = XS_PERM_READ },
	};
	struct hv *dom0 = lhf_dom0();
	uint64_t pfn, port;
	char home[64], val[320], k[160];
	xs_transaction_t t;

	ck_assert_int_eq(hv_param_get(dom0, v->domid, HVM_PARAM_STORE_PFN, &pfn),
			 0);
	ck_assert_int_eq(hv_param_get(dom0, v->domid, HVM_PARAM_STORE_EVTCHN,
				      &port),
			 0);
	hv_close(dom0);
	snprintf(home, sizeof(home), "/local/domain/%u", v->domid);
	ck_assert(xs_mkdir(h, XBT_NULL, home));
	ck_assert(xs_set_permissions(h, XBT_NULL, home, guest_owns, 2));
	ck_assert(xs_introduce_domain(h, v->domid, pfn, (unsigned)port));

	snprintf(v->fe, sizeof(v->fe), "%s/device/vbd/%d", home, DEVID);
	snprintf(v->be, sizeof(v->be), "/local/domain/0/backend/vbd/%u/%d",
		 v->domid, DEVID);
	t = xs_transaction_start(h);
#define W(dir, key, ...)                                                       \
	do {                                                                   \
		snprintf(k, sizeof(k), "%s/%s", dir, key);                     \
		snprintf(val, sizeof(val), __VA_ARGS__);                       \
		ck_assert(xs_write(h, t, k, val, (unsigned)strlen(val)));      \
	} while (0)
	ck_assert(xs_mkdir(h, t, v->fe));
	ck_assert(xs_set_permissions(h, t, v->fe, guest_owns, 2));
	W(v->fe, "backend", "%s", v->be);
	W(v->fe, "backend-id", "0");
	W(v->fe, "virtual-device", "%d", DEVID);
	W(v->fe, "device-type", "disk");
	W(v->fe, "state", "1");
	ck_assert(xs_mkdir(h, t, v->be));
	ck_assert(xs_set_permissions(h, t, v->be, dom0_owns, 2));
	W(v->be, "frontend", "%s", v->fe);
	W(v->be, "frontend-id", "%u", v->domid);
	W(v->be, "online", "1");
	W(v->be, "params", "%s", params);
	W(v->be, "mode", "%s", mode);
	W(v->be, "state", "1");
#undef W
	ck_assert(xs_transaction_end(h, t, false));
}

static void attach(struct xs_handle *h, struct vm *v, const char *mode)
{
	attach_params(h, v, mode, disk);
}

/* guest side: wait until the backend's state is want (xenbus watch) */
static void guest_wait_backend(struct vm *v, int want)
{
	char path[128], *s = NULL;

	snprintf(path, sizeof(path), "%s/state", v->be);
	for (int i = 0; i < 100; i++) {
		if (xsg_read(v->xs, 0, path, &s) == 0) {
			int st = atoi(s);

			free(s);
			if (st == want)
				return;
		}
		usleep(50000);
	}
	ck_abort_msg("backend never reached state %d", want);
}

static void guest_write(struct vm *v, const char *key, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", v->fe, key);
	ck_assert_int_eq(xsg_write(v->xs, 0, path, val), 0);
}

/* what blkfront does once the backend is in InitWait */
static void guest_connect(struct vm *v)
{
	char num[32];

	guest_wait_backend(v, XenbusStateInitWait);
	snprintf(num, sizeof(num), "%u", v->f.ring_refs[0]);
	guest_write(v, "ring-ref", num);
	snprintf(num, sizeof(num), "%d", v->f.port);
	guest_write(v, "event-channel", num);
	guest_write(v, "protocol", "x86_64-abi");
	guest_write(v, "feature-persistent", "1");
	guest_write(v, "state", "3");
	guest_wait_backend(v, XenbusStateConnected);
}

static int guest_io(struct vm *v, uint8_t op, uint64_t id, uint64_t sector,
		    unsigned int page, unsigned int n)
{
	struct blkbk_req r = blkfe_rw(&v->f, op, id, sector, page, n);
	uint64_t rid;
	uint8_t rop;
	int16_t st;

	blkfe_put(&v->f, &r);
	blkfe_push(&v->f);
	for (int i = 0; i < 500; i++) {
		struct pollfd pfd = { .fd = hv_evtchn_fd(v->f.ev),
				      .events = POLLIN };
		int p;

		if (blkfe_rsp(&v->f, &rid, &rop, &st)) {
			ck_assert_uint_eq(rid, id);
			ck_assert_uint_eq(rop, op);
			return st;
		}
		poll(&pfd, 1, 10);
		while ((p = hv_evtchn_pending(v->f.ev)) >= 0)
			hv_evtchn_unmask(v->f.ev, (evtchn_port_t)p);
	}
	ck_abort_msg("no response to request %llu", (unsigned long long)id);
	return -1;
}

static void vm_open(struct vm *v)
{
	blkfe_open(&v->f, BLKBK_ABI_X86_64, 0, 8);
	v->domid = hv_domid(v->f.hv);
	v->xs = xsg_open(v->f.hv, 1, 0);
	ck_assert_ptr_nonnull(v->xs);
	xsg_set_timeout(v->xs, 5000);
}

START_TEST(guest_attaches_and_does_io_through_the_daemon)
{
	struct xs_handle *h = xs_open(0);
	struct vm v;
	char path[160], *s = NULL, buf[4096];
	json_t *st;
	int fd;

	ck_assert_ptr_nonnull(h);
	vm_open(&v);
	attach(h, &v, "w");
	guest_connect(&v);
	snprintf(path, sizeof(path), "%s/sectors", v.be);
	ck_assert_int_eq(xsg_read(v.xs, 0, path, &s), 0);
	ck_assert_uint_eq(strtoull(s, NULL, 10), DISK_BYTES / 512);
	free(s);

	/* write 2 pages at sector 16, read them back into pages 4..5 */
	for (unsigned int i = 0; i < 2 * HV_PAGE_SIZE; i++)
		blkfe_page(&v.f, 0)[i] = (uint8_t)(i * 7 + 3);
	ck_assert_int_eq(guest_io(&v, BLKIF_OP_WRITE, 1, 16, 0, 2),
			 BLKIF_RSP_OKAY);
	ck_assert_int_eq(guest_io(&v, BLKIF_OP_READ, 2, 16, 4, 2),
			 BLKIF_RSP_OKAY);
	ck_assert_mem_eq(blkfe_page(&v.f, 0), blkfe_page(&v.f, 4),
			 2 * HV_PAGE_SIZE);
	/* and it is really on the disk */
	fd = open(disk, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 16 * 512),
			 (ssize_t)sizeof(buf));
	close(fd);
	ck_assert_mem_eq(buf, blkfe_page(&v.f, 0), sizeof(buf));

	snprintf(path, sizeof(path), "%s/blkback.ctl", lhf_run_dir);
	st = ctl_request(path, "stats", NULL, 2000);
	ck_assert_ptr_nonnull(st);
	ck_assert(json_is_true(json_object_get(st, "ok")));
	ck_assert_int_eq(json_array_size(
				 json_object_get(json_object_get(st, "result"),
						 "devices")),
			 1);
	json_decref(st);

	/* detach as xl does: online=0, state=5; the guest closes */
	snprintf(path, sizeof(path), "%s/online", v.be);
	ck_assert(xs_write(h, XBT_NULL, path, "0", 1));
	snprintf(path, sizeof(path), "%s/state", v.be);
	ck_assert(xs_write(h, XBT_NULL, path, "5", 1));
	guest_write(&v, "state", "6");
	guest_wait_backend(&v, XenbusStateClosed);
	xsg_close(v.xs);
	blkfe_close(&v.f);
	xs_close(h);
}
END_TEST

START_TEST(read_only_disk_refuses_writes)
{
	struct xs_handle *h = xs_open(0);
	struct vm v;
	char path[160], *s = NULL;

	vm_open(&v);
	attach(h, &v, "r");
	guest_connect(&v);
	snprintf(path, sizeof(path), "%s/info", v.be);
	ck_assert_int_eq(xsg_read(v.xs, 0, path, &s), 0);
	ck_assert_int_eq(atoi(s) & 4, 4); /* VDISK_READONLY */
	free(s);
	ck_assert_int_eq(guest_io(&v, BLKIF_OP_READ, 1, 0, 0, 1),
			 BLKIF_RSP_OKAY);
	ck_assert_int_ne(guest_io(&v, BLKIF_OP_WRITE, 2, 0, 0, 1),
			 BLKIF_RSP_OKAY);
	xsg_close(v.xs);
	blkfe_close(&v.f);
	xs_close(h);
}
END_TEST

/*
 * The frontend closes and comes back on the same device (as Linux's
 * blkfront does after a suspend/resume or a driver reload): new event
 * channel, a fresh ring, same vbd. The backend goes Closed -> InitWait ->
 * Connected and serves the same disk (its backing stayed open).
 */
START_TEST(frontend_reconnects_to_the_same_disk)
{
	struct xs_handle *h = xs_open(0);
	struct vm v;

	vm_open(&v);
	attach(h, &v, "w");
	guest_connect(&v);
	for (unsigned int i = 0; i < HV_PAGE_SIZE; i++)
		blkfe_page(&v.f, 0)[i] = (uint8_t)(i * 13 + 1);
	ck_assert_int_eq(guest_io(&v, BLKIF_OP_WRITE, 1, 64, 0, 1),
			 BLKIF_RSP_OKAY);
	for (int round = 0; round < 3; round++) {
		/* close as blkfront does */
		guest_write(&v, "state", "5");
		guest_wait_backend(&v, XenbusStateClosing);
		guest_write(&v, "state", "6");
		guest_wait_backend(&v, XenbusStateClosed);
		/* a fresh ring and a new event channel, then Initialising */
		SHARED_RING_INIT(v.f.sring);
		v.f.req_prod_pvt = 0;
		v.f.rsp_cons = 0;
		hv_evtchn_unbind(v.f.ev, (evtchn_port_t)v.f.port);
		v.f.port = hv_evtchn_alloc_unbound(v.f.ev, 0);
		ck_assert_int_gt(v.f.port, 0);
		guest_write(&v, "state", "1");
		guest_connect(&v); /* waits for InitWait, then Connected */
		memset(blkfe_page(&v.f, 1), 0, HV_PAGE_SIZE);
		ck_assert_int_eq(guest_io(&v, BLKIF_OP_READ,
					  10 + (uint64_t)round, 64, 1, 1),
				 BLKIF_RSP_OKAY);
		ck_assert_mem_eq(blkfe_page(&v.f, 0), blkfe_page(&v.f, 1),
				 HV_PAGE_SIZE);
	}
	ck_assert_int_eq(kill(bk_pid, 0), 0);
	xsg_close(v.xs);
	blkfe_close(&v.f);
	xs_close(h);
}
END_TEST

/* dom0's view of a backend key, or -1 */
static int be_state(struct xs_handle *h, struct vm *v)
{
	char path[160], *s;
	unsigned int len;
	int st;

	snprintf(path, sizeof(path), "%s/state", v->be);
	s = xs_read(h, XBT_NULL, path, &len);
	if (!s)
		return -1;
	st = atoi(s);
	free(s);
	return st;
}

/* bk_devices_of - blkback's devices of domid in its stats (-1: no reply) */
static int bk_devices_of(domid_t domid)
{
	char path[300];
	json_t *st, *d;
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "%s/blkback.ctl", lhf_run_dir);
	st = ctl_request(path, "stats", NULL, 2000);
	if (!st)
		return -1;
	json_array_foreach(json_object_get(json_object_get(st, "result"),
					   "devices"),
			   i,
			   d) if (json_integer_value(json_object_get(d,
								     "frontend-domid")) ==
				  domid) n++;
	json_decref(st);
	return n;
}

/* bk_has_open - does blkback hold an fd on file?  Every fd it has, as
 * /proc lists them. */
static int bk_has_open(const char *file)
{
	char dir[64], link[320], target[PATH_MAX];
	struct dirent *e;
	int found = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)bk_pid);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while (!found && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		found = !strcmp(target, file);
	}
	closedir(d);
	return found;
}

/* wait up to ms for a byte on fd; the byte, or -1 */
static int byte_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return (unsigned char)c;
}

/*
 * A guest's disk is an NBD export whose server holds every reply: the
 * guest queues 8 writes, the test sees all 8 reach the server (blkback
 * took them off the ring and sent them: they are in flight), then the
 * guest is SIGKILLed. Another guest attaches and does I/O while the dead
 * one's requests are still outstanding; once the server answers them,
 * blkback drops the dead guest's device and closes its NBD connection.
 */
START_TEST(guest_killed_mid_io_leaves_the_daemon_serving_others)
{
	struct xs_handle *h = xs_open(0);
	int c2p[2], status, seen, release, i;
	char sock[100], params[300];
	struct vm v, dead;
	pid_t pid, srv;

	ck_assert_ptr_nonnull(h);
	snprintf(sock, sizeof(sock), "%s/held-nbd.sock", lhf_run_dir);
	srv = fake_nbd(sock, FAKE_HOLD, &seen, &release);
	snprintf(params, sizeof(params), "nbd+unix:///disk?socket=%s", sock);
	ck_assert_int_eq(pipe(c2p), 0);
	pid = fork();
	if (pid == 0) {
		/* a guest that connects, queues I/O and waits to be killed */
		struct xs_handle *ch = xs_open(0); /* not the parent's */
		struct vm d;
		struct blkbk_req r;

		close(c2p[0]);
		vm_open(&d);
		attach_params(ch, &d, "w", params);
		guest_connect(&d);
		for (int k = 0; k < 8; k++) {
			r = blkfe_rw(&d.f, BLKIF_OP_WRITE, (uint64_t)k,
				     (uint64_t)k * 8, (unsigned)k, 1);
			blkfe_put(&d.f, &r);
		}
		blkfe_push(&d.f);
		if (write(c2p[1], &d.domid, sizeof(d.domid)) !=
		    (ssize_t)sizeof(d.domid))
			_exit(2);
		for (;;)
			pause();
	}
	close(c2p[1]);
	ck_assert_int_eq(read(c2p[0], &dead.domid, sizeof(dead.domid)),
			 (ssize_t)sizeof(dead.domid));
	close(c2p[0]);
	snprintf(dead.be, sizeof(dead.be), "/local/domain/0/backend/vbd/%u/%d",
		 dead.domid, DEVID);
	/* all 8 requests reached the server: they are in flight */
	for (i = 0; i < 8; i++)
		ck_assert_msg(byte_within(seen, 5000) == '.',
			      "the server saw %d of the 8 requests", i);
	ck_assert_int_eq(bk_devices_of(dead.domid), 1);

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* another guest attaches and works while those are outstanding */
	vm_open(&v);
	attach(h, &v, "w");
	guest_connect(&v);
	ck_assert_int_eq(guest_io(&v, BLKIF_OP_WRITE, 9, 100, 0, 1),
			 BLKIF_RSP_OKAY);
	ck_assert_int_eq(kill(bk_pid, 0), 0); /* blkback is alive */

	/* the server answers; the dead guest's device goes, its connection
	 * is closed (the server reads end of file) */
	ck_assert_int_eq(write(release, "r", 1), 1);
	ck_assert_msg(byte_within(seen, 5000) == 'E',
		      "blkback kept the dead guest's NBD connection");
	for (i = 0; i < 100 && bk_devices_of(dead.domid) != 0; i++)
		usleep(50000);
	ck_assert_msg(bk_devices_of(dead.domid) == 0,
		      "blkback still lists the dead guest's disk");
	ck_assert_int_eq(be_state(h, &dead), XenbusStateClosed);

	/* and the live guest still does I/O */
	ck_assert_int_eq(guest_io(&v, BLKIF_OP_READ, 10, 100, 1, 1),
			 BLKIF_RSP_OKAY);
	ck_assert_mem_eq(blkfe_page(&v.f, 0), blkfe_page(&v.f, 1), HV_PAGE_SIZE);
	ck_assert_int_eq(kill(bk_pid, 0), 0);
	close(seen);
	close(release);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	unlink(sock);
	xsg_close(v.xs);
	blkfe_close(&v.f);
	xs_close(h);
}
END_TEST

/*
 * A guest dies while its disk is connected, and nothing in xenstore
 * changes for blkback: its frontend directory stays (dom0 owns it here,
 * so xenstored's removal of the dead domain's nodes leaves it; C
 * xenstored leaves every node until the toolstack removes it). The
 * hypervisor's death event alone makes blkback let go of everything:
 * the device leaves its stats, the backend says Closed, the image is
 * closed. The toolstack's removal then finds nothing left to do.
 */
START_TEST(dead_domain_is_released_without_xenstore_changes)
{
	struct xs_handle *h = xs_open(0);
	struct vm v;
	char disk2[320], home[64], *s;
	unsigned int len;
	int fd, i;

	snprintf(disk2, sizeof(disk2), "%s/dies.img", lhf_run_dir);
	fd = open(disk2, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, DISK_BYTES), 0);
	close(fd);
	vm_open(&v);
	attach_params(h, &v, "w", disk2);
	guest_connect(&v);
	ck_assert_int_eq(guest_io(&v, BLKIF_OP_WRITE, 1, 8, 0, 2),
			 BLKIF_RSP_OKAY);
	ck_assert_int_eq(bk_devices_of(v.domid), 1);
	ck_assert(bk_has_open(disk2));
	{
		struct xs_permissions dom0_owns[2] = {
			{ .id = 0, .perms = XS_PERM_NONE },
			{ .id = v.domid, .perms = XS_PERM_READ },
		};

		/* the home, the directories above the frontend, and the
		 * frontend's keys (the guest wrote some) */
		const char *const sub[] = { "", "/device", "/device/vbd" };
		char p[160];

		snprintf(home, sizeof(home), "/local/domain/%u", v.domid);
		for (unsigned int k = 0; k < 3; k++) {
			snprintf(p, sizeof(p), "%s%s", home, sub[k]);
			ck_assert(xs_set_permissions(h, XBT_NULL, p, dom0_owns,
						     2));
		}
		char **keys;
		unsigned int nk = 0;

		ck_assert(xs_set_permissions(h, XBT_NULL, v.fe, dom0_owns, 2));
		keys = xs_directory(h, XBT_NULL, v.fe, &nk);
		ck_assert_ptr_nonnull(keys);
		for (unsigned int k = 0; k < nk; k++) {
			snprintf(p, sizeof(p), "%s/%s", v.fe, keys[k]);
			ck_assert(xs_set_permissions(h, XBT_NULL, p, dom0_owns,
						     2));
		}
		free(keys);
	}
	xsg_close(v.xs);
	blkfe_close(&v.f); /* the domain dies */
	for (i = 0; i < 100 && (bk_devices_of(v.domid) != 0 ||
				be_state(h, &v) != 6 || bk_has_open(disk2));
	     i++)
		usleep(50000);
	ck_assert_msg(bk_devices_of(v.domid) == 0,
		      "blkback still lists the dead domain's disk");
	ck_assert_int_eq(be_state(h, &v), XenbusStateClosed);
	ck_assert_msg(!bk_has_open(disk2), "blkback still has %s open", disk2);
	/* nothing of the frontend moved: the event did it */
	s = xs_read(h, XBT_NULL, v.fe, &len);
	ck_assert_ptr_nonnull(s);
	free(s);
	ck_assert_int_eq(kill(bk_pid, 0), 0);
	/* the toolstack's part */
	ck_assert(xs_rm(h, XBT_NULL, v.be));
	ck_assert(xs_rm(h, XBT_NULL, home));
	xs_close(h);
}
END_TEST

START_TEST(silent_nbd_server_does_not_hold_up_other_guests)
{
	struct xs_handle *h = xs_open(0);
	struct vm slow, fast, gone;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char sock[100], params[300], path[160], *err;
	unsigned int len;
	int lfd, st = -1;
	struct timespec t0, t1;

	/* an "NBD server" that lets us connect and then never says a word */
	snprintf(sock, sizeof(sock), "%s/silent-nbd.sock", lhf_run_dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	snprintf(params, sizeof(params), "nbd+unix:///disk?socket=%s", sock);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	vm_open(&slow);
	attach_params(h, &slow, "w", params);
	vm_open(&gone);
	attach_params(h, &gone, "w", params);
	/* meanwhile another guest attaches a file and does I/O at once */
	vm_open(&fast);
	attach(h, &fast, "w");
	guest_connect(&fast);
	ck_assert_int_eq(guest_io(&fast, BLKIF_OP_WRITE, 1, 200, 0, 1),
			 BLKIF_RSP_OKAY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the slow handshakes (5 s each) are still going on */
	ck_assert_int_eq(be_state(h, &slow), XenbusStateInitialising);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 4,
		      "the file disk took %ld s to connect",
		      (long)(t1.tv_sec - t0.tv_sec));

	/* the toolstack gives up on one of them while it is opening
	 * (online=0 and Closing in one transaction, as libxl writes them:
	 * blkback closes such a device at once) */
	do {
		xs_transaction_t t = xs_transaction_start(h);

		ck_assert(t);
		snprintf(path, sizeof(path), "%s/online", gone.be);
		ck_assert(xs_write(h, t, path, "0", 1));
		snprintf(path, sizeof(path), "%s/state", gone.be);
		ck_assert(xs_write(h, t, path, "5", 1));
		if (xs_transaction_end(h, t, false))
			break;
		ck_assert_int_eq(errno, EAGAIN);
	} while (1);
	/* it closes (the open is cancelled, or times out) */
	for (int i = 0; i < 500 && st != XenbusStateClosed; i++) {
		usleep(20000);
		st = be_state(h, &gone);
	}
	ck_assert_int_eq(st, XenbusStateClosed);
	st = -1;

	/* the other one fails after its timeout, with what went wrong */
	for (int i = 0; i < 200 && st != XenbusStateClosed; i++) {
		usleep(50000);
		st = be_state(h, &slow);
	}
	ck_assert_int_eq(st, XenbusStateClosed);
	snprintf(path, sizeof(path), "%s/error", slow.be);
	err = xs_read(h, XBT_NULL, path, &len);
	ck_assert_ptr_nonnull(err);
	/* "<errno> <what failed, in words>" */
	ck_assert_msg(!strncmp(err, "110 ", 4) && /* ETIMEDOUT */
			      strstr(err, "cannot open nbd+unix:///disk") &&
			      strstr(err, strerror(ETIMEDOUT)),
		      "error key: %s", err);
	free(err);
	ck_assert_int_eq(be_state(h, &gone), XenbusStateClosed);
	/* the daemon is alive and the first guest still works */
	ck_assert_int_eq(kill(bk_pid, 0), 0);
	ck_assert_int_eq(guest_io(&fast, BLKIF_OP_READ, 2, 200, 1, 1),
			 BLKIF_RSP_OKAY);
	ck_assert_mem_eq(blkfe_page(&fast.f, 0), blkfe_page(&fast.f, 1), 4096);
	close(lfd);
	unlink(sock);
	xsg_close(fast.xs);
	blkfe_close(&fast.f);
	xsg_close(slow.xs);
	blkfe_close(&slow.f);
	xsg_close(gone.xs);
	blkfe_close(&gone.f);
	xs_close(h);
}
END_TEST

static Suite *blkback_daemon_suite(void)
{
	Suite *s = suite_create("blkback_daemon");
	TCase *tc = tcase_create("e2e");

	tcase_add_unchecked_fixture(tc, start_all, stop_all);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, guest_attaches_and_does_io_through_the_daemon);
	tcase_add_test(tc, read_only_disk_refuses_writes);
	tcase_add_test(tc, guest_killed_mid_io_leaves_the_daemon_serving_others);
	tcase_add_test(tc, frontend_reconnects_to_the_same_disk);
	tcase_add_test(tc, silent_nbd_server_does_not_hold_up_other_guests);
	tcase_add_test(tc, dead_domain_is_released_without_xenstore_changes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blkback_daemon_suite)
