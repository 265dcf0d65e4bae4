/*
 * check_xenbus_be - the xenbus backend framework (lib/xenbus-be.c) against
 * our xenstored, with a fake driver. The test plays the toolstack (writes
 * backend and frontend directories as libxl does) and the frontend (writes
 * its state), through Debian's libxenstore.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <xenstore.h>

#include "check_main.h"
#include "ctl.h"
#include "xenbus-be.h"
#include "xsd_fixture.h"

struct fake {
	int probes, connects, disconnects, removes;
	int fail_connect;
	int async;
	int read_errs[3]; /* probe's reads of a bad, a too long, a missing key */
};

static int fake_probe(struct xbe_device *d)
{
	struct fake *f = xbe_arg(d->xbe);
	unsigned long v;

	f->probes++;
	{
		char longkey[300], *str = NULL;

		memset(longkey, 'k', sizeof(longkey) - 1);
		longkey[sizeof(longkey) - 1] = '\0';
		f->read_errs[0] = xbe_read_be_str(d, "bad key!", &str);
		free(str);
		f->read_errs[1] = xbe_read_fe_str(d, longkey, &str);
		free(str);
		f->read_errs[2] = xbe_read_be_uint(d, "no-such-key", 0, 1, &v);
	}
	if (xbe_read_be_uint(d, "fail-probe", 0, 1, &v) == 0 && v)
		return -EINVAL;
	return xbe_write_be(d, XBT_NULL, "feature-test", "1");
}

static int fake_connect(struct xbe_device *d)
{
	struct fake *f = xbe_arg(d->xbe);
	unsigned long ref;

	f->connects++;
	if (f->fail_connect)
		return -EIO;
	/* what a driver does: read (and check) the frontend's keys */
	return xbe_read_fe_uint(d, "ring-ref", 0, 0xffffffffUL, &ref);
}

/* With f->async, disconnect "has I/O in flight" and finishes from a
 * timer, as blkback's does. */
static void finish_disconnect(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	xbe_disconnected(arg);
}

static struct event_base *fake_base;

static int fake_disconnect(struct xbe_device *d)
{
	struct fake *f = xbe_arg(d->xbe);
	struct timeval tv = { 0, 100000 };

	f->disconnects++;
	if (!f->async)
		return 0;
	event_base_once(fake_base, -1, EV_TIMEOUT, finish_disconnect, d, &tv);
	return 1;
}

static void fake_remove(struct xbe_device *d)
{
	((struct fake *)xbe_arg(d->xbe))->removes++;
}

static const struct xbe_driver_ops fake_ops = {
	.probe = fake_probe,
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.remove = fake_remove,
};

struct env {
	struct event_base *base;
	struct xs_handle *be_xs, *ts; /* the backend's and the toolstack's */
	struct xbe *xbe;
	struct fake f;
	char be[128], fe[128];
};

static void put_tx(struct env *e, xs_transaction_t t, const char *dir,
		   const char *key, const char *v)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, key);
	ck_assert_msg(xs_write(e->ts, t, p, v, (unsigned)strlen(v)), "write %s",
		      p);
}

static void put(struct env *e, const char *dir, const char *key, const char *v)
{
	put_tx(e, XBT_NULL, dir, key, v);
}

static char *get(struct env *e, const char *dir, const char *key)
{
	char p[256];
	unsigned int len;

	snprintf(p, sizeof(p), "%s/%s", dir, key);
	return xs_read(e->ts, XBT_NULL, p, &len);
}

/* pump_until - run the loop until the backend state is want (3 s). */
static int pump_until_state(struct env *e, int want)
{
	for (int i = 0; i < 300; i++) {
		char *s;
		int st;

		event_base_loop(e->base, EVLOOP_NONBLOCK);
		s = get(e, e->be, "state");
		st = s ? atoi(s) : -1;
		free(s);
		if (st == want)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void pump(struct env *e, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		usleep(10000);
	}
}

static void env_open(struct env *e, int fdomid, const char *fe_path)
{
	xs_transaction_t t;

	memset(e, 0, sizeof(*e));
	e->base = event_base_new();
	fake_base = e->base;
	e->be_xs = xs_open(0);
	e->ts = xs_open(0);
	ck_assert_ptr_nonnull(e->be_xs);
	ck_assert_ptr_nonnull(e->ts);
	snprintf(e->be, sizeof(e->be), "/local/domain/0/backend/vbd/%d/51712",
		 fdomid);
	snprintf(e->fe, sizeof(e->fe), "%s", fe_path);
	e->xbe = xbe_new(e->base, e->be_xs, 0, "vbd", &fake_ops, &e->f);
	ck_assert_ptr_nonnull(e->xbe);
	/* the toolstack writes both directories in one transaction */
	t = xs_transaction_start(e->ts);
	{
		char id[16];

		snprintf(id, sizeof(id), "%d", fdomid);
		put_tx(e, t, e->fe, "state", "1");
		put_tx(e, t, e->fe, "backend", e->be);
		put_tx(e, t, e->be, "frontend", e->fe);
		put_tx(e, t, e->be, "frontend-id", id);
		put_tx(e, t, e->be, "online", "1");
		put_tx(e, t, e->be, "state", "1");
	}
	ck_assert(xs_transaction_end(e->ts, t, false));
}

/* env_connect - the backend reaches InitWait, the frontend publishes its
 * ring and says Connected, the backend connects. */
static void env_connect(struct env *e)
{
	ck_assert(pump_until_state(e, XenbusStateInitWait));
	put(e, e->fe, "ring-ref", "8");
	put(e, e->fe, "state", "4");
	ck_assert(pump_until_state(e, XenbusStateConnected));
}

static void env_close(struct env *e)
{
	xbe_free(e->xbe);
	xs_rm(e->ts, XBT_NULL, "/local/domain/0/backend");
	xs_rm(e->ts, XBT_NULL, "/local/domain/5");
	xs_close(e->be_xs);
	xs_close(e->ts);
	event_base_free(e->base);
}

START_TEST(device_walks_the_state_machine)
{
	struct env e;
	char *s;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	ck_assert(pump_until_state(&e, XenbusStateInitWait));
	ck_assert_int_eq(e.f.probes, 1);
	s = get(&e, e.be, "feature-test");
	ck_assert_str_eq(s, "1");
	free(s);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 1);

	put(&e, e.fe, "ring-ref", "8");
	put(&e, e.fe, "state", "3");
	ck_assert(pump_until_state(&e, XenbusStateConnected));
	ck_assert_int_eq(e.f.connects, 1);

	put(&e, e.fe, "state", "5");
	ck_assert(pump_until_state(&e, XenbusStateClosing));
	ck_assert_int_eq(e.f.disconnects, 1);
	put(&e, e.fe, "state", "6");
	ck_assert(pump_until_state(&e, XenbusStateClosed));
	/* the frontend comes back: reconnect */
	put(&e, e.fe, "state", "1");
	ck_assert(pump_until_state(&e, XenbusStateInitWait));
	put(&e, e.fe, "state", "4");
	ck_assert(pump_until_state(&e, XenbusStateConnected));
	ck_assert_int_eq(e.f.connects, 2);
	ck_assert_int_eq(e.f.removes, 0);
	env_close(&e);
}
END_TEST

START_TEST(libxl_style_detach_closes_and_removes)
{
	struct env e;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	env_connect(&e);
	/* xl block-detach: online=0 and state=5 written for us */
	put(&e, e.be, "online", "0");
	put(&e, e.be, "state", "5");
	pump(&e, 100);
	ck_assert_int_eq(e.f.disconnects, 1);
	put(&e, e.fe, "state", "6"); /* the frontend closes */
	ck_assert(pump_until_state(&e, XenbusStateClosed));
	ck_assert_int_eq(e.f.removes, 1);
	xs_rm(e.ts, XBT_NULL, e.be);
	pump(&e, 100);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 0);
	env_close(&e);
}
END_TEST

START_TEST(frontend_of_another_domain_is_ignored)
{
	struct env e;

	env_open(&e, 5, "/local/domain/7/device/vbd/51712");
	pump(&e, 200);
	ck_assert_int_eq(e.f.probes, 0);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 0);
	env_close(&e);
}
END_TEST

START_TEST(garbage_frontend_state_closes_the_device)
{
	struct env e;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	ck_assert(pump_until_state(&e, XenbusStateInitWait));
	put(&e, e.fe, "state", "banana");
	ck_assert(pump_until_state(&e, XenbusStateClosed));
	put(&e, e.fe, "state", "99");
	pump(&e, 100);
	ck_assert_int_eq(e.f.connects, 0);
	env_close(&e);
}
END_TEST

START_TEST(probe_failure_writes_error_and_closes)
{
	struct env e;
	char *err;

	memset(&e, 0, sizeof(e));
	{
		struct xs_handle *ts = xs_open(0);

		ck_assert(
			xs_write(ts, XBT_NULL,
				 "/local/domain/0/backend/vbd/5/51712/fail-probe",
				 "1", 1));
		xs_close(ts);
	}
	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	ck_assert(pump_until_state(&e, XenbusStateClosed));
	err = get(&e, e.be, "error");
	ck_assert_ptr_nonnull(err);
	free(err);
	env_close(&e);
}
END_TEST

START_TEST(connect_failure_goes_to_closing_with_error)
{
	struct env e;
	char *err;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	ck_assert(pump_until_state(&e, XenbusStateInitWait));
	put(&e, e.fe, "state", "3"); /* no ring-ref: connect() fails */
	ck_assert(pump_until_state(&e, XenbusStateClosing));
	err = get(&e, e.be, "error");
	ck_assert_ptr_nonnull(err);
	/* "<errno> <what failed>: <the errno in words>", the words once */
	{
		char *sp = strchr(err, ' '), *words;
		int no = atoi(err);

		ck_assert_int_gt(no, 0);
		ck_assert_ptr_nonnull(sp);
		words = strstr(err, strerror(no));
		ck_assert_msg(words && words[-2] == ':' &&
				      !strstr(words + 1, strerror(no)),
			      "error node: %s", err);
	}
	free(err);
	env_close(&e);
}
END_TEST

START_TEST(async_disconnect_holds_closed_until_it_finishes)
{
	struct env e;
	char *st;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	e.f.async = 1;
	env_connect(&e);
	put(&e, e.fe, "state", "6"); /* closed at once: I/O still in flight */
	pump(&e, 30);
	st = get(&e, e.be, "state");
	ck_assert_str_ne(st, "6"); /* not Closed while the disconnect runs */
	free(st);
	ck_assert(pump_until_state(&e, XenbusStateClosed));
	ck_assert_int_eq(e.f.disconnects, 1);
	env_close(&e);
}
END_TEST

static void count_dev(struct xbe_device *d, void *arg)
{
	(void)d;
	(*(int *)arg)++;
}

/*
 * The frontend's domain dies while its device is Connected and I/O is
 * in flight; the frontend still says Connected (nothing in xenstore
 * moved). xbe_domain_dead() disconnects at once, holds Closed until the
 * disconnect finished, then removes the device (it leaves xbe_foreach);
 * the object goes when the toolstack removes the backend directory.
 * Another domain's death touches nothing.
 */
START_TEST(dead_domain_closes_and_removes_its_devices)
{
	struct env e;
	char *st;
	int n = 0;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	e.f.async = 1;
	env_connect(&e);
	ck_assert_uint_eq(xbe_domain_dead(e.xbe, 6), 0);
	ck_assert_int_eq(e.f.disconnects, 0);
	ck_assert_uint_eq(xbe_domain_dead(e.xbe, 5), 1);
	ck_assert_int_eq(e.f.disconnects, 1);
	st = get(&e, e.be, "state");
	ck_assert_str_ne(st, "6"); /* not Closed while the disconnect runs */
	free(st);
	ck_assert_int_eq(e.f.removes, 0);
	ck_assert(pump_until_state(&e, XenbusStateClosed));
	pump(&e, 50);
	ck_assert_int_eq(e.f.removes, 1);
	xbe_foreach(e.xbe, count_dev, &n);
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(xbe_domain_dead(e.xbe, 5), 0); /* once */
	ck_assert_uint_eq(xbe_device_count(e.xbe), 1);
	/* the toolstack removes the directories: the object goes */
	ck_assert(xs_rm(e.ts, XBT_NULL, e.be));
	for (int i = 0; i < 100 && xbe_device_count(e.xbe); i++)
		pump(&e, 10);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 0);
	ck_assert_int_eq(e.f.disconnects, 1);
	env_close(&e);
}
END_TEST

/*
 * The toolstack removes a Connected device's directories at once (as a
 * forced destroy does) while its disconnect is still running: the
 * backend's late Closed must not bring a stray backend/.../state back
 * (Linux's xenbus_switch_state checks that the node is still there).
 */
START_TEST(removed_backend_directory_is_not_recreated)
{
	struct env e;
	char *st;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	e.f.async = 1;
	env_connect(&e);
	ck_assert(xs_rm(e.ts, XBT_NULL, e.fe));
	ck_assert(xs_rm(e.ts, XBT_NULL, e.be));
	for (int i = 0; i < 100 && xbe_device_count(e.xbe); i++)
		pump(&e, 10);
	pump(&e, 300); /* the async disconnect (100 ms) has finished */
	ck_assert_int_eq(e.f.disconnects, 1);
	st = get(&e, e.be, "state");
	ck_assert_msg(st == NULL, "backend state came back: %s", st);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 0);
	env_close(&e);
}
END_TEST

/* xs_reads - READ + DIRECTORY requests xenstored has served so far (every
 * client: the test's own puts are WRITEs, its stats go over the control
 * socket). */
static long xs_reads(void)
{
	char path[256];
	json_t *st, *ops;
	long n;

	snprintf(path, sizeof(path), "%s/xenstored.ctl", xsdf_run_dir);
	st = ctl_request(path, "stats", NULL, 2000);
	ck_assert_ptr_nonnull(st);
	ops = json_object_get(json_object_get(st, "result"), "ops");
	n = (long)json_integer_value(json_object_get(ops, "READ")) +
	    (long)json_integer_value(json_object_get(ops, "DIRECTORY"));
	json_decref(st);
	return n;
}

/* add_dev - a second device of domain 5, as env_open writes the first. */
static void add_dev(struct env *e, unsigned int devid, char *be, char *fe,
		    size_t len)
{
	xs_transaction_t t = xs_transaction_start(e->ts);

	snprintf(be, len, "/local/domain/0/backend/vbd/5/%u", devid);
	snprintf(fe, len, "/local/domain/5/device/vbd/%u", devid);
	put_tx(e, t, fe, "state", "1");
	put_tx(e, t, fe, "backend", be);
	put_tx(e, t, be, "frontend", fe);
	put_tx(e, t, be, "frontend-id", "5");
	put_tx(e, t, be, "online", "1");
	put_tx(e, t, be, "state", "1");
	ck_assert(xs_transaction_end(e->ts, t, false));
}

/*
 * An event is acted on for the device it names only, and our own writes
 * (state, error, feature keys) coming back through the root watch read
 * nothing: with four devices, a toolstack key that is not ours costs no
 * read, and a frontend closing costs its state read and the check that
 * our directory is still there before Closing is written -- no rescan.
 */
START_TEST(events_read_only_the_device_they_name)
{
	struct env e;
	char be[4][128], fe[4][128], *st;
	long r0;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	env_connect(&e);
	for (unsigned int i = 1; i < 4; i++)
		add_dev(&e, 51712 + 16 * i, be[i], fe[i], sizeof(be[i]));
	for (int i = 0; i < 100 && xbe_device_count(e.xbe) < 4; i++)
		pump(&e, 10);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 4);
	pump(&e, 100);
	ck_assert_int_eq(e.f.probes, 4);

	r0 = xs_reads();
	put(&e, e.be, "hotplug-status", "connected");
	put(&e, be[2], "hotplug-status", "connected");
	pump(&e, 100);
	ck_assert_int_eq(xs_reads() - r0, 0);

	r0 = xs_reads();
	put(&e, e.fe, "state", "5");
	pump(&e, 200);
	ck_assert_int_le(xs_reads() - r0, 2);
	ck_assert_int_eq(e.f.disconnects, 1);
	st = get(&e, e.be, "state");
	ck_assert_str_eq(st, "5");
	free(st);
	/* the others did not move */
	for (unsigned int i = 1; i < 4; i++) {
		st = get(&e, be[i], "state");
		ck_assert_str_eq(st, "2");
		free(st);
	}
	ck_assert_int_eq(e.f.connects, 1);
	env_close(&e);
}
END_TEST

/* A device's directory removed: that device goes, the others stay. */
START_TEST(removing_one_device_leaves_the_others)
{
	struct env e;
	char be[128], fe[128], *st;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	env_connect(&e);
	add_dev(&e, 51728, be, fe, sizeof(be));
	for (int i = 0; i < 100 && xbe_device_count(e.xbe) < 2; i++)
		pump(&e, 10);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 2);
	ck_assert(xs_rm(e.ts, XBT_NULL, be));
	for (int i = 0; i < 100 && xbe_device_count(e.xbe) > 1; i++)
		pump(&e, 10);
	ck_assert_uint_eq(xbe_device_count(e.xbe), 1);
	ck_assert_int_eq(e.f.removes, 1);
	ck_assert_int_eq(e.f.disconnects, 0);
	st = get(&e, e.be, "state");
	ck_assert_str_eq(st, "4");
	free(st);
	env_close(&e);
}
END_TEST

/* A failed read says why: xenstore's errno (a path it refuses: -EINVAL),
 * ours (-ENAMETOOLONG), -ENOENT only for a missing key. */
START_TEST(read_errors_keep_their_errno)
{
	struct env e;

	env_open(&e, 5, "/local/domain/5/device/vbd/51712");
	ck_assert(pump_until_state(&e, XenbusStateInitWait));
	ck_assert_int_eq(e.f.read_errs[0], -EINVAL);
	ck_assert_int_eq(e.f.read_errs[1], -ENAMETOOLONG);
	ck_assert_int_eq(e.f.read_errs[2], -ENOENT);
	env_close(&e);
}
END_TEST

static Suite *xbe_suite(void)
{
	Suite *s = suite_create("xenbus_be");
	TCase *tc = tcase_create("states");

	tcase_add_unchecked_fixture(tc, xsdf_start, xsdf_cleanup);
	tcase_add_test(tc, device_walks_the_state_machine);
	tcase_add_test(tc, libxl_style_detach_closes_and_removes);
	tcase_add_test(tc, frontend_of_another_domain_is_ignored);
	tcase_add_test(tc, garbage_frontend_state_closes_the_device);
	tcase_add_test(tc, probe_failure_writes_error_and_closes);
	tcase_add_test(tc, connect_failure_goes_to_closing_with_error);
	tcase_add_test(tc, async_disconnect_holds_closed_until_it_finishes);
	tcase_add_test(tc, dead_domain_closes_and_removes_its_devices);
	tcase_add_test(tc, removed_backend_directory_is_not_recreated);
	tcase_add_test(tc, events_read_only_the_device_they_name);
	tcase_add_test(tc, removing_one_device_leaves_the_others);
	tcase_add_test(tc, read_errors_keep_their_errno);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(xbe_suite)
