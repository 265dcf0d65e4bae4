/* check_xs_lu.c - live update's migration stream (lu.c): what a round trip
 * brings back, malformed streams refused with a reason, and the
 * XS_CONTROL "live-update" steps that must leave the daemon serving. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "check_main.h"
#include "xenstored/lu.h"
#include "xenstored/mem-conn.h"

static char dir[64], state[96];

static void setup(void)
{
	strcpy(dir, "/tmp/check_xs_lu.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
}

static void teardown(void)
{
	unlink(state);
	rmdir(dir);
}

/* The "daemon" of these tests: conn a is a socket client on fake fd 42. */
static struct tconn *sock_conn;
static struct xs_store *adopt_store;
static int fake_conn_fd(void *arg, const struct xs_conn *c)
{
	(void)arg;
	return sock_conn && c == sock_conn->c ? 42 : -1;
}

static int fake_listen_fd(void *arg)
{
	(void)arg;
	return 7;
}

static int adopted_fd = -1;
static struct tconn *adopted;
static struct xs_conn *fake_adopt(void *arg, int fd, bool readonly)
{
	(void)arg;
	adopted_fd = fd;
	adopted = t_conn(adopt_store, 0, true);
	adopted->c->readonly = readonly;
	return adopted->c;
}

static const struct xs_lu_ops test_ops = {
	.conn_fd = fake_conn_fd,
	.listen_fd = fake_listen_fd,
};

static int write_state(struct xs_store *st, struct xs_conn *req)
{
	int fd = open(state, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc;

	ck_assert_int_ge(fd, 0);
	rc = xs_lu_write(st, fd, &test_ops, req, NULL, 0);
	close(fd);
	return rc;
}

static void write_raw(const void *p, size_t n)
{
	int fd = open(state, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Free the old store a and the new one b; the stores free the
 * connections, the test ends in all[] remain. */
static void free_stores(struct xs_store *a, struct xs_store *b,
			struct tconn **all, size_t n)
{
	size_t i;

	sock_conn = adopted = NULL;
	xs_store_free(b);
	xs_store_free(a);
	for (i = 0; i < n; i++)
		t_free(all[i]);
}

START_TEST(round_trip_keeps_store_sessions_and_pending_input)
{
	struct xs_store a, b;
	struct xs_lu_state *s;
	struct tconn *g, *g2;
	struct xs_domain *d;
	struct xsd_sockmsg h = { .type = XS_READ, .req_id = 99, .len = 3 };
	char v[64], err[256], path[64], tok[64];
	uint32_t tx;
	int lfd;

	ck_assert_int_eq(xs_store_init(&a), 0);
	a.quota.val[XS_Q_NODES] = 777;
	sock_conn = t_conn(&a, 0, true);
	/* a value with a NUL in it */
	ck_assert_int_eq(t_call(sock_conn, XS_WRITE, 0,
				"/x/y\0"
				"1\0two",
				10),
			 0);
	ck_assert_int_eq(t_strs(sock_conn, XS_SET_PERMS, 0, "/x/y", "n5", "r7",
				NULL),
			 0);
	ck_assert_int_eq(t_write(sock_conn, 0, "/local/domain/5/d", "g"), 0);
	ck_assert_int_eq(t_strs(sock_conn, XS_SET_PERMS, 0, "/local/domain/5/d",
				"n5", NULL),
			 0);
	ck_assert_int_eq(xs_domain_restore(&a, 5, 1234, 9, 3), 0);
	d = xs_domain_find(&a, 5);
	d->quota.val[XS_Q_WATCHES] = 4;
	ck_assert_ptr_nonnull(xs_domain_settings(&a, 8, true));
	g = t_conn(&a, 5, false);
	d->conn = g->c; /* its ring */
	ck_assert_int_eq(t_strs(sock_conn, XS_WATCH, 0, "/x", "tokA", NULL), 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "d", "tokG", NULL), 0);
	t_drain_events(sock_conn);
	t_drain_events(g);
	tx = t_tx_start(sock_conn);
	ck_assert_uint_ne(tx, 0);
	/* a request read in part: the header and one byte of "/x" */
	xs_buf_add(&sock_conn->in, &h, sizeof(h));
	xs_buf_add(&sock_conn->in, "/", 1);
	ck_assert_int_eq(xs_conn_input(sock_conn->c), 0);
	ck_assert_uint_eq(sock_conn->c->hdr_got, sizeof(h));

	ck_assert_int_eq(write_state(&a, NULL), 0);
	s = xs_lu_read(state, err, sizeof(err));
	ck_assert_msg(s != NULL, "read: %s", err);
	ck_assert_int_eq(xs_store_init(&b), 0);
	ck_assert_int_eq(xs_lu_restore_store(&b, s, &lfd), 0);
	ck_assert_int_eq(lfd, 7);
	ck_assert_uint_eq(b.quota.val[XS_Q_NODES], 777);
	ck_assert_uint_eq(b.tree.nnodes, a.tree.nnodes);
	d = xs_domain_find(&b, 5);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->mfn, 1234);
	ck_assert_uint_eq(d->port, 9);
	ck_assert_int_eq(d->target, 3);
	ck_assert_uint_eq(d->quota.val[XS_Q_WATCHES], 4);
	ck_assert_ptr_nonnull(xs_domain_settings(&b, 8, false));
	/* the ring transport attaches domain 5 again */
	g2 = t_conn(&b, 5, false);
	d->conn = g2->c;
	adopt_store = &b;
	{
		struct xs_lu_adopt ad = { .adopt_sock = fake_adopt };

		ck_assert_int_eq(xs_lu_restore_conns(&b, s, &ad), 0);
	}
	xs_lu_state_free(s);
	ck_assert_int_eq(adopted_fd, 42);
	ck_assert_ptr_nonnull(adopted);
	/* the rest of the request read in part: answered now */
	xs_buf_add(&adopted->in, "x\0", 2);
	ck_assert_int_eq(xs_conn_input(adopted->c), 0);
	t_collect(adopted, 99);
	ck_assert_uint_eq(adopted->reply_type, XS_READ);
	/* the value with its NUL, the permissions */
	ck_assert_int_eq(t_strs(adopted, XS_GET_PERMS, 0, "/x/y", NULL), 0);
	ck_assert_int_eq(memcmp(adopted->reply.p, "n5\0r7\0", 6), 0);
	ck_assert_int_eq(t_read(adopted, 0, "/x/y", v, sizeof(v)), 0);
	ck_assert_int_eq(memcmp(adopted->reply.p, "1\0two", 5), 0);
	/* the transaction comes back failed */
	ck_assert_int_eq(t_tx_end(adopted, tx, true), -EAGAIN);
	/* watches fire, the guest's relative one with its relative path */
	ck_assert_int_eq(t_write(adopted, 0, "/x/z", "3"), 0);
	ck_assert_int_eq(t_event(adopted, path, sizeof(path), tok, sizeof(tok)),
			 0);
	ck_assert_str_eq(path, "/x/z");
	ck_assert_str_eq(tok, "tokA");
	ck_assert_int_eq(t_write(adopted, 0, "/local/domain/5/d", "h"), 0);
	ck_assert_int_eq(t_event(g2, path, sizeof(path), tok, sizeof(tok)), 0);
	ck_assert_str_eq(path, "d");
	ck_assert_str_eq(tok, "tokG");
	ck_assert_int_eq(t_read(g2, 0, "d", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "h");
	{
		struct tconn *all[] = { sock_conn, g, g2, adopted };

		free_stores(&a, &b, all, sizeof(all) / sizeof(all[0]));
	}
}
END_TEST

/* xl and xenconsoled watch @introduceDomain and @releaseDomain on the
 * dom0 socket: both fire after a live update, with their tokens. */
START_TEST(special_watches_fire_after_the_update)
{
	struct xs_store a, b;
	struct xs_lu_state *s;
	struct xs_lu_adopt ad = { .adopt_sock = fake_adopt };
	char err[256], path[64], tok[64];
	int lfd;

	ck_assert_int_eq(xs_store_init(&a), 0);
	sock_conn = t_conn(&a, 0, true);
	ck_assert_int_eq(t_strs(sock_conn, XS_WATCH, 0, "@introduceDomain",
				"domlist", NULL),
			 0);
	ck_assert_int_eq(t_strs(sock_conn, XS_WATCH, 0, "@releaseDomain", "rel",
				NULL),
			 0);
	t_drain_events(sock_conn);
	ck_assert_int_eq(write_state(&a, NULL), 0);
	s = xs_lu_read(state, err, sizeof(err));
	ck_assert_msg(s != NULL, "read: %s", err);
	ck_assert_int_eq(xs_store_init(&b), 0);
	ck_assert_int_eq(xs_lu_restore_store(&b, s, &lfd), 0);
	adopt_store = &b;
	ck_assert_int_eq(xs_lu_restore_conns(&b, s, &ad), 0);
	xs_lu_state_free(s);
	ck_assert_ptr_nonnull(adopted);
	t_drain_events(adopted);
	ck_assert_uint_eq(adopted->c->nwatches, 2);

	ck_assert_int_eq(t_strs(adopted, XS_INTRODUCE, 0, "9", "1234", "7",
				NULL),
			 0);
	ck_assert_int_eq(t_event(adopted, path, sizeof(path), tok, sizeof(tok)),
			 0);
	ck_assert_str_eq(path, "@introduceDomain");
	ck_assert_str_eq(tok, "domlist");
	ck_assert_int_eq(t_strs(adopted, XS_RELEASE, 0, "9", NULL), 0);
	ck_assert_int_eq(t_event(adopted, path, sizeof(path), tok, sizeof(tok)),
			 0);
	ck_assert_str_eq(path, "@releaseDomain");
	ck_assert_str_eq(tok, "rel");
	{
		struct tconn *all[] = { sock_conn, adopted };

		free_stores(&a, &b, all, sizeof(all) / sizeof(all[0]));
	}
}
END_TEST

/* xs_lu_read on bytes; NULL expected, err must contain want */
static void expect_refused(const void *p, size_t n, const char *want)
{
	char err[256] = "";
	struct xs_lu_state *s;

	write_raw(p, n);
	s = xs_lu_read(state, err, sizeof(err));
	ck_assert_msg(s == NULL, "accepted a stream that should say '%s'", want);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s', want '%s'", err,
		      want);
}

START_TEST(malformed_streams_are_refused_with_a_reason)
{
	struct xs_store st;
	unsigned char *p;
	size_t n;
	int fd;

	ck_assert_int_eq(xs_store_init(&st), 0);
	ck_assert_int_eq(write_state(&st, NULL), 0);
	fd = open(state, O_RDONLY);
	n = (size_t)lseek(fd, 0, SEEK_END);
	p = malloc(n);
	ck_assert_int_eq(pread(fd, p, n, 0), (ssize_t)n);
	close(fd);

	expect_refused(p, 10, "too short");
	p[0] ^= 1;
	expect_refused(p, n, "not a xenstore migration stream");
	p[0] ^= 1;
	p[11] = 9; /* version 9 */
	expect_refused(p, n, "version 9");
	p[11] = 2;
	p[15] ^= 1; /* the other byte order */
	expect_refused(p, n, "byte order");
	p[15] ^= 1;
	expect_refused(p, n - 8, "no END record");
	{
		uint32_t big = 1u << 30, old;

		memcpy(&old, p + 20, 4); /* the first record's len */
		memcpy(p + 20, &big, 4);
		expect_refused(p, n, "past the end");
		memcpy(p + 20, &old, 4);
	}
	{
		uint32_t t = 0x55, old;

		memcpy(&old, p + 16, 4);
		memcpy(p + 16, &t, 4);
		expect_refused(p, n, "unknown record type");
		memcpy(p + 16, &old, 4);
	}
	/* well framed, but a node's permission letter is bad: the store
	 * refuses it */
	{
		char err[256];
		struct xs_lu_state *s;
		struct xs_store b;
		size_t off = 16;
		int lfd;

		for (;;) { /* find the first NODE_DATA record */
			uint32_t t, l;

			memcpy(&t, p + off, 4);
			memcpy(&l, p + off + 4, 4);
			if (t == 5)
				break;
			off += 8 + ((l + 7) & ~7u);
		}
		p[off + 8 + 16] = 'q'; /* perm1 */
		write_raw(p, n);
		s = xs_lu_read(state, err, sizeof(err));
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(xs_store_init(&b), 0);
		ck_assert_int_eq(xs_lu_restore_store(&b, s, &lfd), -EINVAL);
		xs_lu_state_free(s);
		xs_store_free(&b);
	}
	free(p);
	xs_store_free(&st);
}
END_TEST

static int exec_calls;
static bool exec_state_parsed;
static int fake_exec(void *arg, const char *binary, const char *cmdline,
		     const char *st)
{
	char err[256];
	struct xs_lu_state *s = xs_lu_read(st, err, sizeof(err));

	(void)arg;
	(void)binary;
	(void)cmdline;
	exec_calls++;
	exec_state_parsed = s != NULL;
	xs_lu_state_free(s);
	return -ENOEXEC;
}

/* XS_CONTROL live-update ARGS... on t; the reply text into out */
static int lu_ctl(struct tconn *t, char *out, size_t len, ...)
{
	struct xs_buf b = { 0 };
	const char *a;
	va_list ap;
	int rc;

	xs_buf_addstr(&b, "live-update");
	va_start(ap, len);
	while ((a = va_arg(ap, const char *)))
		xs_buf_addstr(&b, a);
	va_end(ap);
	rc = t_call(t, XS_CONTROL, 0, b.p, b.len);
	xs_buf_free(&b);
	if (rc == 0)
		snprintf(out, len, "%.*s", (int)t->reply.len, t->reply.p);
	return rc;
}

START_TEST(failed_updates_answer_why_and_keep_serving)
{
	struct xs_store st;
	struct xs_lu_ops ops = test_ops;
	struct tconn *a;
	char r[256];
	uint32_t tx;

	ck_assert_int_eq(xs_store_init(&st), 0);
	a = t_conn(&st, 0, true);
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-s", NULL), 0);
	ck_assert_str_eq(r, "Live update not available here");
	ops.exec = fake_exec;
	ck_assert_int_eq(xs_lu_setup(&st, &ops, state), 0);
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-s", "-t", "5", NULL), 0);
	ck_assert_str_eq(r, "No binary given (-f)");
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-f", "/nonexistent/xsd", NULL),
			 0);
	ck_assert_str_eq(r, "OK");
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-s", NULL), 0);
	ck_assert_ptr_nonnull(strstr(r, "No such file"));
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-f", "/bin/true", NULL), 0);
	tx = t_tx_start(a);
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-s", "-t", "5", NULL), 0);
	ck_assert_str_eq(r, "BUSY");
	ck_assert_int_eq(exec_calls, 0);
	/* -F: goes ahead; the exec fails: the reason, no state file left */
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-s", "-t", "5", "-F", NULL),
			 0);
	ck_assert_int_eq(exec_calls, 1);
	ck_assert(exec_state_parsed);
	ck_assert_ptr_nonnull(strstr(r, "Cannot execute /bin/true"));
	ck_assert_int_eq(access(state, F_OK), -1);
	/* still serving, the transaction still open */
	ck_assert_int_eq(t_write(a, tx, "/t", "1"), 0);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-b", "100", NULL), 0);
	ck_assert_ptr_nonnull(strstr(r, "no stubdom"));
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-a", NULL), 0);
	ck_assert_str_eq(r, "OK");
	ck_assert_int_eq(lu_ctl(a, r, sizeof(r), "-x", NULL), -EINVAL);
	xs_store_free(&st);
	t_free(a);
}
END_TEST

static Suite *lu_suite(void)
{
	Suite *s = suite_create("xs_lu");
	TCase *tc = tcase_create("lu");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip_keeps_store_sessions_and_pending_input);
	tcase_add_test(tc, special_watches_fire_after_the_update);
	tcase_add_test(tc, malformed_streams_are_refused_with_a_reason);
	tcase_add_test(tc, failed_updates_answer_why_and_keep_serving);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(lu_suite)
