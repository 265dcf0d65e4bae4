/*
 * check_blk_nbd - the NBD backing against a real server, qemu-nbd (Debian
 * package qemu-utils): a qcow2 image over a unix socket and a raw image
 * over TCP, driven through the whole ring path by the in-test frontend;
 * flush and trim; a read-only export; and the failures: unknown export,
 * nothing listening, a server that is not NBD, a server that says nothing
 * (timeout), and a server that dies with requests in flight.
 * Without qemu-nbd or qemu-img the cases that need them skip with that
 * reason (NEED_QEMU); the scripted-server cases (a fake NBD server in a
 * child process: not NBD, silent, forged handles, bad magic, error
 * replies, oversized option replies) run everywhere.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_blk_fe.h"
#include "check_main.h"
#include "loophv_fixture.h"

#define IMG_BYTES (4u << 20)

static struct blkbe be;
static char qemu_nbd[256], qemu_img[256];
static int have_qemu;

/* In a test body: skip the case where qemu-utils is not installed. */
#define NEED_QEMU()                                                            \
	do {                                                                   \
		if (!have_qemu)                                                \
			check_skip("qemu-nbd/qemu-img not installed "          \
				   "(qemu-utils)");                            \
	} while (0)

static int find_bin(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s:/usr/bin:/usr/sbin:/bin",
		 path ? path : "");
	for (char *d = strtok_r(buf, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", d, name);
		if (access(out, X_OK) == 0)
			return 1;
	}
	return 0;
}

static void setup(void)
{
	blkbe_open(&be);
}

static void teardown(void)
{
	blkbe_close(&be);
}

static void run(char *const argv[])
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s failed", argv[0]);
}

static void make_image(const char *path, const char *fmt)
{
	char size[32];
	char *argv[] = { qemu_img,    "create",     "-q", "-f",
			 (char *)fmt, (char *)path, size, NULL };

	snprintf(size, sizeof(size), "%u", IMG_BYTES);
	run(argv);
}

/* Start qemu-nbd; wait until it accepts. unix socket if sock, else TCP. */
static pid_t start_nbd(const char *img, const char *fmt, const char *sock,
		       int port, int readonly)
{
	char portbuf[16];
	pid_t pid;

	snprintf(portbuf, sizeof(portbuf), "%d", port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[20];
		int n = 0;

		argv[n++] = qemu_nbd;
		argv[n++] = "-f";
		argv[n++] = (char *)fmt;
		argv[n++] = "-x";
		argv[n++] = "disk";
		argv[n++] = "-t";
		argv[n++] = "--discard=unmap";
		argv[n++] = "--cache=writeback";
		if (readonly)
			argv[n++] = "-r";
		if (sock) {
			argv[n++] = "-k";
			argv[n++] = (char *)sock;
		} else {
			argv[n++] = "-b";
			argv[n++] = "127.0.0.1";
			argv[n++] = "-p";
			argv[n++] = portbuf;
		}
		argv[n++] = (char *)img;
		argv[n] = NULL;
		execv(qemu_nbd, argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		int fd, ok;

		if (sock) {
			struct sockaddr_un sun = { .sun_family = AF_UNIX };

			snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			ok = connect(fd, (struct sockaddr *)&sun,
				     sizeof(sun)) == 0;
		} else {
			struct sockaddr_in sin = { .sin_family = AF_INET };

			sin.sin_port = htons((uint16_t)port);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			fd = socket(AF_INET, SOCK_STREAM, 0);
			ok = connect(fd, (struct sockaddr *)&sin,
				     sizeof(sin)) == 0;
		}
		close(fd);
		if (ok)
			return pid;
		ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("qemu-nbd did not start");
	return -1;
}

static void stop_nbd(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* A raw image NAME.raw exported by qemu-nbd as "disk" on NAME.sock;
 * params gets its nbd+unix:// URL. Returns qemu-nbd's pid. */
static pid_t unix_raw_export(const char *name, int readonly, char *params,
			     size_t len)
{
	char img[128], sock[128];
	pid_t srv;

	snprintf(img, sizeof(img), "%s/%s.raw", be.dir, name);
	snprintf(sock, sizeof(sock), "%s/%s.sock", be.dir, name);
	make_image(img, "raw");
	srv = start_nbd(img, "raw", sock, 0, readonly);
	snprintf(params, len, "nbd+unix:///disk?socket=%s", sock);
	return srv;
}

static int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static struct blkbk_backing *open_nbd(const char *params, int readonly)
{
	struct blkbk_params p;
	struct blkbk_backing *bk = NULL;
	const char *why;
	int rc;

	ck_assert_msg(blkbk_params_parse(params, NULL, &p, &why) == 0, "%s",
		      why);
	rc = blkbk_backing_open(be.base, &p, readonly, 5000, &bk);
	ck_assert_msg(rc == 0, "open %s: %s", params, strerror(-rc));
	return bk;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed * 40503u + i * 7 + (i >> 12)) >> 2);
}

START_TEST(qcow2_over_unix_socket_through_the_ring)
{
	char img[128], sock[128], params[300];
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_backing *bk;
	struct blkbk_req r;
	struct blkbk_limits l;
	pid_t srv;

	NEED_QEMU();
	snprintf(img, sizeof(img), "%s/disk.qcow2", be.dir);
	snprintf(sock, sizeof(sock), "%s/nbd.sock", be.dir);
	make_image(img, "qcow2");
	srv = start_nbd(img, "qcow2", sock, 0, 0);
	snprintf(params, sizeof(params), "nbd+unix:///disk?socket=%s", sock);
	bk = open_nbd(params, 0);
	ck_assert_uint_eq(bk->size, IMG_BYTES);
	ck_assert(!bk->readonly);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 1, 140);
	d = blkbe_dev(&be, &fe, bk, 0, 0);
	blkbk_dev_limits(d, &l);
	ck_assert(l.flush);
	/* 11 direct segments, then 64 indirect ones, read back */
	fill(blkfe_page(&fe, 1), 64 * 4096, 21);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 128, 1, 11);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	r = blkfe_indirect(&fe, BLKIF_OP_WRITE, 2, 1024, 0, 1, 64);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	memset(blkfe_page(&fe, 70), 0, 64 * 4096);
	r = blkfe_indirect(&fe, BLKIF_OP_READ, 3, 1024, 0, 70, 64);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	ck_assert(memcmp(blkfe_page(&fe, 70), blkfe_page(&fe, 1), 64 * 4096) ==
		  0);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 4, 128, 70, 11);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	ck_assert(memcmp(blkfe_page(&fe, 70), blkfe_page(&fe, 1), 11 * 4096) ==
		  0);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_FLUSH_DISKCACHE;
	r.id = 5;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	/* many in flight at once, answered out of any order */
	for (unsigned int i = 0; i < 50; i++) {
		struct blkbk_req q = blkfe_rw(&fe, BLKIF_OP_READ, 100 + i,
					      (uint64_t)i * 16, 70 + i, 2);

		blkfe_put(&fe, &q);
	}
	blkfe_push(&fe);
	for (unsigned int i = 0; i < 50; i++) {
		uint64_t id;
		uint8_t op;
		int16_t st;

		ck_assert(blkbe_wait(&be, &fe, &id, &op, &st));
		ck_assert_int_eq(st, 0);
	}
	blkbk_dev_free(d);
	blkfe_close(&fe);
	stop_nbd(srv);
}
END_TEST

START_TEST(raw_over_tcp_with_trim)
{
	char img[128], params[300];
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_backing *bk;
	struct blkbk_req r;
	struct blkbk_limits l;
	uint8_t *buf;
	int port, fd;
	pid_t srv;

	NEED_QEMU();
	buf = malloc(4 * 4096);
	port = free_port();
	snprintf(img, sizeof(img), "%s/disk.raw", be.dir);
	make_image(img, "raw");
	srv = start_nbd(img, "raw", NULL, port, 0);
	snprintf(params, sizeof(params), "nbd://127.0.0.1:%d/disk", port);
	bk = open_nbd(params, 0);
	blkfe_open(&fe, BLKBK_ABI_X86_32, 0, 8);
	d = blkbe_dev(&be, &fe, bk, 1, 0);
	blkbk_dev_limits(d, &l);
	ck_assert(l.discard);
	fill(blkfe_page(&fe, 0), 4 * 4096, 5);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 256, 0, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_FLUSH_DISKCACHE;
	r.id = 2;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	/* the bytes are in the raw file, where the guest put them */
	fd = open(img, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 4 * 4096, 256 * 512), 4 * 4096);
	ck_assert(memcmp(buf, blkfe_page(&fe, 0), 4 * 4096) == 0);
	close(fd);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_DISCARD;
	r.id = 3;
	r.sector = 256 + 8;
	r.nr_sectors = 16;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 4, 256, 4, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	ck_assert(memcmp(blkfe_page(&fe, 4), blkfe_page(&fe, 0), 4096) == 0);
	for (int i = 0; i < 2 * 4096; i++)
		ck_assert_uint_eq(blkfe_page(&fe, 5)[i], 0);
	ck_assert(memcmp(blkfe_page(&fe, 7), blkfe_page(&fe, 3), 4096) == 0);
	blkbk_dev_free(d);
	blkfe_close(&fe);
	stop_nbd(srv);
	free(buf);
}
END_TEST

START_TEST(readonly_export_rejects_writes)
{
	char params[300];
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_backing *bk;
	struct blkbk_req r;
	pid_t srv;

	NEED_QEMU();
	srv = unix_raw_export("ro", 1, params, sizeof(params));
	bk = open_nbd(params, 0);
	ck_assert(bk->readonly);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = blkbe_dev(&be, &fe, bk, 0, 0);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	blkbk_dev_free(d);
	blkfe_close(&fe);
	stop_nbd(srv);
}
END_TEST

START_TEST(handshake_failures_are_errors)
{
	char img[128], sock[128], params[300];
	struct blkbk_params p;
	struct blkbk_backing *bk = NULL;
	pid_t srv;

	NEED_QEMU();
	snprintf(img, sizeof(img), "%s/x.raw", be.dir);
	snprintf(sock, sizeof(sock), "%s/x.sock", be.dir);
	make_image(img, "raw");
	srv = start_nbd(img, "raw", sock, 0, 0);
	snprintf(params, sizeof(params), "nbd+unix:///nosuch?socket=%s", sock);
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	ck_assert_int_eq(blkbk_backing_open(be.base, &p, 0, 5000, &bk), -ENOENT);
	stop_nbd(srv);
	/* nothing listening */
	ck_assert_int_lt(blkbk_backing_open(be.base, &p, 0, 5000, &bk), 0);
	snprintf(params, sizeof(params), "nbd://127.0.0.1:%d/disk", free_port());
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	ck_assert_int_eq(blkbk_backing_open(be.base, &p, 0, 5000, &bk),
			 -ECONNREFUSED);
}
END_TEST

START_TEST(non_nbd_or_silent_server_fails_cleanly)
{
	char sock[128], params[300];
	struct blkbk_params p;
	struct blkbk_backing *bk = NULL;
	struct timespec t0, t1;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/http.sock", be.dir);
	pid = fake_server(sock, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
	snprintf(params, sizeof(params), "nbd+unix:///d?socket=%s", sock);
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	ck_assert_int_eq(blkbk_backing_open(be.base, &p, 0, 2000, &bk), -EPROTO);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	snprintf(sock, sizeof(sock), "%s/silent.sock", be.dir);
	pid = fake_server(sock, NULL, 0);
	snprintf(params, sizeof(params), "nbd+unix:///d?socket=%s", sock);
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(blkbk_backing_open(be.base, &p, 0, 300, &bk),
			 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(server_death_fails_requests_not_the_daemon)
{
	char params[300];
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_backing *bk;
	struct blkbk_req r;
	struct blkbk_stats st;
	pid_t srv;

	NEED_QEMU();
	srv = unix_raw_export("d", 0, params, sizeof(params));
	bk = open_nbd(params, 0);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = blkbe_dev(&be, &fe, bk, 0, 0);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 1, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	for (int i = 0; i < 4; i++) {
		r = blkfe_rw(&fe, BLKIF_OP_READ, 10 + (uint64_t)i, 0, 0, 1);
		ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	}
	blkbk_dev_get_stats(d, &st);
	ck_assert_uint_ge(st.io_errors, 4);
	/* nothing left mapped */
	blkbk_dev_free(d);
	ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.data, fe.npages), 0);
	blkfe_close(&fe);
}
END_TEST

/* ---- a scripted NBD server (check_blk_fe.c's fake_nbd) ---- */

static struct blkbk_backing *open_fake(const char *name, enum fake_mode mode,
				       pid_t *pid)
{
	char sock[128], params[300];

	snprintf(sock, sizeof(sock), "%s/%s.sock", be.dir, name);
	*pid = fake_nbd(sock, mode, NULL, NULL);
	snprintf(params, sizeof(params), "nbd+unix:///x?socket=%s", sock);
	return open_nbd(params, 0);
}

START_TEST(forged_reply_handle_or_magic_ends_the_connection)
{
	enum fake_mode mode = _i ? FAKE_BAD_MAGIC : FAKE_BAD_HANDLE;
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_backing *bk;
	struct blkbk_req r;
	pid_t pid;

	bk = open_fake(_i ? "magic" : "handle", mode, &pid);
	ck_assert_uint_eq(bk->size, 1u << 20);
	ck_assert(bk->can_flush);
	ck_assert(!bk->can_discard);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = blkbe_dev(&be, &fe, bk, 0, 0);
	memset(blkfe_page(&fe, 0), 0x11, 4096);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 1, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	/* nothing was copied into the guest's page from a bad reply */
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(blkfe_page(&fe, 0)[i], 0x11);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 2, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	blkbk_dev_free(d);
	blkfe_close(&fe);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(server_errors_become_error_responses)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_backing *bk;
	struct blkbk_req r;
	pid_t pid;

	bk = open_fake("eio", FAKE_GOOD_THEN_ERROR, &pid);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = blkbe_dev(&be, &fe, bk, 0, 0);
	for (int i = 0; i < 3; i++) {
		r = blkfe_rw(&fe, BLKIF_OP_READ, 1 + (uint64_t)i, 0, 0, 1);
		ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	}
	/* the connection survives an error reply: flush still gets through */
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_FLUSH_DISKCACHE;
	r.id = 9;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	blkbk_dev_free(d);
	blkfe_close(&fe);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(oversized_option_reply_is_eproto)
{
	char sock[128], params[300];
	struct blkbk_params p;
	struct blkbk_backing *bk = NULL;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/huge.sock", be.dir);
	pid = fake_nbd(sock, FAKE_HUGE_OPT_REPLY, NULL, NULL);
	snprintf(params, sizeof(params), "nbd+unix:///x?socket=%s", sock);
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	ck_assert_int_eq(blkbk_backing_open(be.base, &p, 0, 2000, &bk), -EPROTO);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

/* ---- opening in the background (blkbk_backing_open_async) ---- */

struct async_result {
	int calls;
	int rc;
	struct blkbk_backing *b;
	unsigned int ticks; /* the loop's timer while the open went on */
	struct event *tick;
};

static void async_done(void *arg, int rc, struct blkbk_backing *b)
{
	struct async_result *ar = arg;

	ar->calls++;
	ar->rc = rc;
	ar->b = b;
}

static void async_tick(evutil_socket_t fd, short what, void *arg)
{
	struct async_result *ar = arg;

	ar->ticks++;
}

/* Run the loop (a 10 ms timer ticking) until done() or limit_ms. */
static void async_wait(struct async_result *ar, int limit_ms)
{
	struct timeval tv = { 0, 10 * 1000 };
	struct timespec t0, t1;

	ar->tick = event_new(be.base, -1, EV_PERSIST, async_tick, ar);
	ck_assert_ptr_nonnull(ar->tick);
	event_add(ar->tick, &tv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		event_base_loop(be.base, EVLOOP_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (ar->calls ||
		    (t1.tv_sec - t0.tv_sec) * 1000 +
				    (t1.tv_nsec - t0.tv_nsec) / 1000000 >
			    limit_ms)
			break;
	}
	event_free(ar->tick);
}

START_TEST(async_open_of_a_silent_server_keeps_the_loop_running)
{
	char sock[128], params[300];
	struct blkbk_params p;
	struct async_result ar = { 0 };
	struct blkbk_open_job *j;
	pid_t srv;

	snprintf(sock, sizeof(sock), "%s/silent-async.sock", be.dir);
	srv = fake_server(sock, NULL, 0); /* accepts, never says a word */
	snprintf(params, sizeof(params), "nbd+unix:///d?socket=%s", sock);
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	j = blkbk_backing_open_async(be.base, &p, 0, 600, async_done, &ar);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(ar.calls, 0); /* never from inside the call */
	ck_assert_uint_eq(blkbk_backing_open_pending(), 1);
	async_wait(&ar, 5000);
	ck_assert_int_eq(ar.calls, 1);
	ck_assert_int_eq(ar.rc, -ETIMEDOUT);
	ck_assert_ptr_null(ar.b);
	/* a blocking open would have held the loop for the 600 ms: the
	 * timer could not have ticked more than once or twice */
	ck_assert_msg(ar.ticks >= 10, "the loop ticked %u times in 600 ms",
		      ar.ticks);
	ck_assert_uint_eq(blkbk_backing_open_pending(), 0);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
}
END_TEST

START_TEST(async_open_of_qemu_nbd_gives_a_working_backing)
{
	char params[300];
	struct blkbk_params p;
	struct async_result ar = { 0 };
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	pid_t srv;

	NEED_QEMU();
	srv = unix_raw_export("async", 0, params, sizeof(params));
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	ck_assert_ptr_nonnull(blkbk_backing_open_async(be.base, &p, 0, 5000,
						       async_done, &ar));
	async_wait(&ar, 10000);
	ck_assert_int_eq(ar.calls, 1);
	ck_assert_msg(ar.rc == 0, "async open: %s", strerror(-ar.rc));
	ck_assert_uint_eq(ar.b->size, IMG_BYTES);
	ck_assert_str_eq(ar.b->desc, params);
	/* and I/O goes through it */
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = blkbe_dev(&be, &fe, ar.b, 0, 0);
	fill(blkfe_page(&fe, 0), 4096, 5);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 8, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	memset(blkfe_page(&fe, 1), 0, 4096);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 8, 1, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	ck_assert_mem_eq(blkfe_page(&fe, 0), blkfe_page(&fe, 1), 4096);
	blkbk_dev_free(d);
	blkfe_close(&fe);
	stop_nbd(srv);
}
END_TEST

START_TEST(cancelled_async_open_never_calls_back)
{
	char sock[128], params[300], img[128];
	struct blkbk_params p;
	struct async_result ar = { 0 }, far = { 0 };
	struct blkbk_open_job *j;
	pid_t srv;
	int fd;

	snprintf(sock, sizeof(sock), "%s/silent-cancel.sock", be.dir);
	srv = fake_server(sock, NULL, 0);
	snprintf(params, sizeof(params), "nbd+unix:///d?socket=%s", sock);
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	j = blkbk_backing_open_async(be.base, &p, 0, 300, async_done, &ar);
	ck_assert_ptr_nonnull(j);
	blkbk_backing_open_cancel(j);
	/* a file open, cancelled before the loop runs it */
	snprintf(img, sizeof(img), "%s/cancel.img", be.dir);
	fd = open(img, O_CREAT | O_RDWR, 0600);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	ck_assert_int_eq(blkbk_params_parse(img, NULL, &p, NULL), 0);
	j = blkbk_backing_open_async(be.base, &p, 0, 300, async_done, &far);
	ck_assert_ptr_nonnull(j);
	blkbk_backing_open_cancel(j);
	ck_assert_uint_eq(blkbk_backing_open_pending(), 1); /* the worker */
	async_wait(&ar, 1500); /* past the worker's deadline */
	ck_assert_int_eq(ar.calls, 0);
	ck_assert_int_eq(far.calls, 0);
	ck_assert_uint_eq(blkbk_backing_open_pending(), 0);
	blkbk_backing_open_drain(); /* nothing left: returns at once */
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
}
END_TEST

START_TEST(async_open_of_a_file_calls_back_from_the_loop)
{
	char img[128];
	struct blkbk_params p;
	struct async_result ar = { 0 };
	int fd;

	snprintf(img, sizeof(img), "%s/async-file.img", be.dir);
	fd = open(img, O_CREAT | O_RDWR, 0600);
	ck_assert_int_eq(ftruncate(fd, 3 << 20), 0);
	close(fd);
	ck_assert_int_eq(blkbk_params_parse(img, NULL, &p, NULL), 0);
	ck_assert_ptr_nonnull(
		blkbk_backing_open_async(be.base, &p, 1, 300, async_done, &ar));
	ck_assert_int_eq(ar.calls, 0);
	async_wait(&ar, 2000);
	ck_assert_int_eq(ar.calls, 1);
	ck_assert_int_eq(ar.rc, 0);
	ck_assert_uint_eq(ar.b->size, 3 << 20);
	ck_assert(ar.b->readonly);
	blkbk_backing_close(ar.b);
	/* and a missing file is an error through the same path */
	memset(&ar, 0, sizeof(ar));
	snprintf(img, sizeof(img), "%s/no-such.img", be.dir);
	ck_assert_int_eq(blkbk_params_parse(img, NULL, &p, NULL), 0);
	ck_assert_ptr_nonnull(
		blkbk_backing_open_async(be.base, &p, 1, 300, async_done, &ar));
	async_wait(&ar, 2000);
	ck_assert_int_eq(ar.calls, 1);
	ck_assert_int_eq(ar.rc, -ENOENT);
	ck_assert_ptr_null(ar.b);
}
END_TEST

static Suite *blk_nbd_suite(void)
{
	Suite *s = suite_create("blk_nbd");
	TCase *tc = tcase_create("nbd");

	tcase_add_unchecked_fixture(tc, lhf_start, lhf_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, qcow2_over_unix_socket_through_the_ring);
	tcase_add_test(tc, raw_over_tcp_with_trim);
	tcase_add_test(tc, readonly_export_rejects_writes);
	tcase_add_test(tc, handshake_failures_are_errors);
	tcase_add_test(tc, server_death_fails_requests_not_the_daemon);
	tcase_add_test(tc, async_open_of_qemu_nbd_gives_a_working_backing);
	have_qemu = find_bin("qemu-nbd", qemu_nbd, sizeof(qemu_nbd)) &&
		    find_bin("qemu-img", qemu_img, sizeof(qemu_img));
	suite_add_tcase(s, tc);

	/* a scripted server: no qemu needed */
	tc = tcase_create("hostile_server");
	tcase_add_unchecked_fixture(tc, lhf_start, lhf_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, forged_reply_handle_or_magic_ends_the_connection,
			    0, 2);
	tcase_add_test(tc, non_nbd_or_silent_server_fails_cleanly);
	tcase_add_test(tc, server_errors_become_error_responses);
	tcase_add_test(tc, oversized_option_reply_is_eproto);
	tcase_add_test(tc, async_open_of_a_silent_server_keeps_the_loop_running);
	tcase_add_test(tc, cancelled_async_open_never_calls_back);
	tcase_add_test(tc, async_open_of_a_file_calls_back_from_the_loop);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blk_nbd_suite)
