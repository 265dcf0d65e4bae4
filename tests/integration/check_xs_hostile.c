/*
 * check_xs_hostile - xenstored against hostile socket clients, one test per
 * class of bad input; after each, another connection must still be served.
 * And a crash (kill -9) in the middle of a pipelined write load: every
 * write that was acknowledged before the crash is there after a restart.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "check_main.h"
#include "xsd_fixture.h"

static int conn(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", xsdf_sock);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_msg(int fd, uint32_t type, uint32_t req, uint32_t tx,
		     const void *p, uint32_t len)
{
	struct xsd_sockmsg h = {
		.type = type, .req_id = req, .tx_id = tx, .len = len
	};

	ck_assert_int_eq(send(fd, &h, sizeof(h), MSG_NOSIGNAL), sizeof(h));
	if (len)
		ck_assert_int_eq(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* recv_all - exactly len bytes within 5 s; 0 ok, -1 on EOF or timeout. */
static int recv_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* reply - read one message (skipping watch events); its type, body in b. */
static int reply(int fd, struct xsd_sockmsg *h, char *b, size_t blen)
{
	for (;;) {
		char tmp[XENSTORE_PAYLOAD_MAX + 1];

		if (recv_all(fd, h, sizeof(*h)) < 0)
			return -1;
		ck_assert_uint_le(h->len, XENSTORE_PAYLOAD_MAX);
		if (recv_all(fd, tmp, h->len) < 0)
			return -1;
		tmp[h->len] = '\0';
		if (h->type == XS_WATCH_EVENT)
			continue;
		if (b && blen) {
			size_t n = h->len < blen - 1 ? h->len : blen - 1;

			memcpy(b, tmp, n);
			b[n] = '\0';
		}
		return 0;
	}
}

/* call - one request, its reply type (XS_ERROR: errname in err). */
static uint32_t call(int fd, uint32_t type, uint32_t tx, const void *p,
		     uint32_t len, char *err, size_t elen)
{
	static uint32_t req = 100;
	struct xsd_sockmsg h;

	send_msg(fd, type, ++req, tx, p, len);
	ck_assert_msg(reply(fd, &h, err, elen) == 0, "no reply to type %u",
		      type);
	ck_assert_uint_eq(h.req_id, req);
	return h.type;
}

/* assert_serving - a fresh connection can write and read back. */
static void assert_serving(void)
{
	int fd = conn();
	char buf[64];
	static const char w[] = "/hostile/alive\0yes";

	ck_assert_uint_eq(call(fd, XS_WRITE, 0, w, sizeof(w) - 1, buf,
			       sizeof(buf)),
			  XS_WRITE);
	ck_assert_uint_eq(call(fd, XS_READ, 0, "/hostile/alive", 15, buf,
			       sizeof(buf)),
			  XS_READ);
	ck_assert_str_eq(buf, "yes");
	close(fd);
}

/* Every request type, including unknown ones, with bad payloads. */
START_TEST(every_op_with_empty_or_unterminated_payload_gets_a_reply)
{
	static const struct {
		const char *p;
		uint32_t len;
	} bad[] = {
		{ "", 0 },         /* empty */
		{ "abc", 3 },      /* no terminating NUL */
		{ "/a\0b", 4 },    /* second string unterminated */
		{ "\0\0\0\0", 4 }, /* empty strings */
	};
	int fd = conn();
	char err[64];

	for (uint32_t type = 0; type < XS_TYPE_COUNT + 3; type++) {
		if (type == XS_TRANSACTION_START || type == XS_RESET_WATCHES)
			continue; /* legal with any payload: tested below */
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint32_t t = call(fd, type, 0, bad[i].p, bad[i].len,
					  err, sizeof(err));

			/* A reply of the request's type is fine only where
			 * the payload is legal; everything else is an error
			 * with an xsd_errors name. */
			if (t == XS_ERROR)
				ck_assert_msg(err[0] == 'E',
					      "type %u: error '%s'", type, err);
			else
				ck_assert_uint_eq(t, type);
		}
	}
	close(fd);
	assert_serving();
}
END_TEST

START_TEST(unknown_op_is_enosys)
{
	int fd = conn();
	char err[64];

	ck_assert_uint_eq(call(fd, 999, 0, "x", 2, err, sizeof(err)), XS_ERROR);
	ck_assert_str_eq(err, "ENOSYS");
	close(fd);
	assert_serving();
}
END_TEST

START_TEST(bad_transaction_id_is_refused)
{
	int fd = conn();
	char err[64];

	ck_assert_uint_eq(call(fd, XS_READ, 12345, "/", 2, err, sizeof(err)),
			  XS_ERROR);
	ck_assert_str_eq(err, "ENOENT");
	ck_assert_uint_eq(call(fd, XS_TRANSACTION_END, 777, "T", 2, err,
			       sizeof(err)),
			  XS_ERROR);
	close(fd);
	assert_serving();
}
END_TEST

START_TEST(paths_over_the_limits_are_refused)
{
	int fd = conn();
	char *p = malloc(XENSTORE_PAYLOAD_MAX);
	char err[64];

	p[0] = '/';
	memset(p + 1, 'a', XENSTORE_ABS_PATH_MAX + 10);
	p[XENSTORE_ABS_PATH_MAX + 11] = '\0';
	ck_assert_uint_eq(call(fd, XS_READ, 0, p, XENSTORE_ABS_PATH_MAX + 12,
			       err, sizeof(err)),
			  XS_ERROR);
	memset(p, 'r', XENSTORE_REL_PATH_MAX + 10);
	p[XENSTORE_REL_PATH_MAX + 10] = '\0';
	ck_assert_uint_eq(call(fd, XS_MKDIR, 0, p, XENSTORE_REL_PATH_MAX + 11,
			       err, sizeof(err)),
			  XS_ERROR);
	free(p);
	close(fd);
	assert_serving();
}
END_TEST

START_TEST(payload_over_4096_drops_only_that_connection)
{
	int fd = conn(), other = conn();
	struct xsd_sockmsg h = { .type = XS_WRITE,
				 .req_id = 1,
				 .len = XENSTORE_PAYLOAD_MAX + 1 };
	char c;

	ck_assert_int_eq(send(fd, &h, sizeof(h), MSG_NOSIGNAL), sizeof(h));
	/* the daemon closes it (no reply can be framed for it) */
	ck_assert(poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1,
		       5000) == 1);
	ck_assert_int_le(recv(fd, &c, 1, 0), 0);
	close(fd);
	/* a connection opened before is unaffected */
	ck_assert_uint_eq(call(other, XS_READ, 0, "/", 2, NULL, 0), XS_READ);
	close(other);
	assert_serving();
}
END_TEST

START_TEST(partial_header_does_not_block_others)
{
	int fd = conn();
	struct xsd_sockmsg h = { .type = XS_READ, .req_id = 9, .len = 2 };

	ck_assert_int_eq(send(fd, &h, 10, MSG_NOSIGNAL), 10); /* 10 of 16 */
	assert_serving();
	/* the rest arrives later: the request is answered */
	ck_assert_int_eq(send(fd, (char *)&h + 10, sizeof(h) - 10, MSG_NOSIGNAL),
			 (ssize_t)(sizeof(h) - 10));
	ck_assert_int_eq(send(fd, "/", 2, MSG_NOSIGNAL), 2);
	ck_assert_int_eq(reply(fd, &h, NULL, 0), 0);
	ck_assert_uint_eq(h.type, XS_READ);
	close(fd);
}
END_TEST

START_TEST(pipelined_requests_past_outstanding_quota_stall_not_fail)
{
	enum {
		N = 100
	};
	int fd = conn();
	struct xsd_sockmsg h;

	/* 100 requests without reading a reply (quota: 20 outstanding) */
	for (uint32_t i = 0; i < N; i++)
		send_msg(fd, XS_READ, 1000 + i, 0, "/", 2);
	assert_serving(); /* others are served meanwhile */
	for (uint32_t i = 0; i < N; i++) {
		ck_assert_int_eq(reply(fd, &h, NULL, 0), 0);
		ck_assert_uint_eq(h.type, XS_READ);
		ck_assert_uint_eq(h.req_id, 1000 + i); /* in order */
	}
	close(fd);
}
END_TEST

START_TEST(transaction_start_and_reset_watches_accept_any_payload)
{
	int fd = conn();
	char buf[64];

	ck_assert_uint_eq(call(fd, XS_TRANSACTION_START, 0, "", 1, buf,
			       sizeof(buf)),
			  XS_TRANSACTION_START);
	ck_assert_uint_eq(call(fd, XS_RESET_WATCHES, 0, "", 0, buf, sizeof(buf)),
			  XS_RESET_WATCHES);
	close(fd);
}
END_TEST

/*
 * A writer pipelines WRITEs (depth 16); the daemon is killed with SIGKILL
 * in the middle; after a restart every write whose reply had arrived is
 * there with its value.
 */
START_TEST(kill_9_during_write_load_loses_no_acknowledged_write)
{
	enum {
		DEPTH = 16,
		MAX = 200000
	};
	int fd = conn();
	uint32_t sent = 0, acked = 0;
	struct xsd_sockmsg h;
	char p[64];
	int crashed = 0;

	while (acked < MAX) {
		while (sent < MAX && sent - acked < DEPTH) {
			int n = snprintf(p, sizeof(p), "/load/k%u", sent);

			struct xsd_sockmsg wh = { .type = XS_WRITE,
						  .req_id = sent };
			char msg[sizeof(wh) + sizeof(p)];

			n += 1 + snprintf(p + n + 1, sizeof(p) - (size_t)n - 1,
					  "v%u", sent);
			wh.len = (uint32_t)n;
			memcpy(msg, &wh, sizeof(wh));
			memcpy(msg + sizeof(wh), p, (size_t)n);
			/* after the kill the socket fails: that ends the load */
			if (send(fd, msg, sizeof(wh) + (size_t)n,
				 MSG_NOSIGNAL) < 0)
				break;
			sent++;
		}
		if (reply(fd, &h, NULL, 0) < 0) {
			crashed = 1;
			break;
		}
		ck_assert_uint_eq(h.type, XS_WRITE);
		ck_assert_uint_eq(h.req_id, acked);
		acked++;
		if (acked == 3000)
			kill(xsdf_pid,
			     SIGKILL); /* mid-stream: writes in flight */
	}
	ck_assert_msg(crashed, "the daemon was not killed");
	ck_assert_uint_ge(acked, 3000);
	close(fd);
	xsdf_crash(); /* reap */
	xsdf_start();
	fd = conn();
	for (uint32_t i = 0; i < acked; i++) {
		char key[32], want[32], got[64];

		snprintf(key, sizeof(key), "/load/k%u", i);
		snprintf(want, sizeof(want), "v%u", i);
		ck_assert_msg(call(fd, XS_READ, 0, key,
				   (uint32_t)strlen(key) + 1, got,
				   sizeof(got)) == XS_READ,
			      "acknowledged write %u of %u lost", i, acked);
		ck_assert_str_eq(got, want);
	}
	close(fd);
}
END_TEST

static Suite *xs_hostile_suite(void)
{
	Suite *s = suite_create("xs_hostile");
	TCase *tc = tcase_create("hostile");
	TCase *crash = tcase_create("crash");

	tcase_add_unchecked_fixture(tc, xsdf_start, xsdf_cleanup);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       every_op_with_empty_or_unterminated_payload_gets_a_reply);
	tcase_add_test(tc, unknown_op_is_enosys);
	tcase_add_test(tc, bad_transaction_id_is_refused);
	tcase_add_test(tc, paths_over_the_limits_are_refused);
	tcase_add_test(tc, payload_over_4096_drops_only_that_connection);
	tcase_add_test(tc, partial_header_does_not_block_others);
	tcase_add_test(tc,
		       pipelined_requests_past_outstanding_quota_stall_not_fail);
	tcase_add_test(tc,
		       transaction_start_and_reset_watches_accept_any_payload);
	suite_add_tcase(s, tc);
	/* The crash test restarts the daemon: a fresh one, not forked per
	 * test, so that the test itself owns the daemon process. */
	tcase_add_checked_fixture(crash, xsdf_start, xsdf_cleanup);
	tcase_set_timeout(crash, 60);
	tcase_add_test(crash,
		       kill_9_during_write_load_loses_no_acknowledged_write);
	suite_add_tcase(s, crash);
	return s;
}

CHECK_MAIN(xs_hostile_suite)
