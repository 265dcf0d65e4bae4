/*
 * check_mux - evtchn/mux.c over a fake hv provider (lib/hv-impl.h): an
 * eventfd plus a queue of pending ports, masked as they are returned, as
 * the real providers do. A port that becomes pending while masked is
 * queued again by its unmask. Every callback and unmask goes into one
 * event log so that the tests can check their order.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check_main.h"
#include "hv-impl.h"
#include "log.h"
#include "evtchn/mux.h"

#define FAKE_PORTS 8192
#define FAKE_QUEUE 4096
#define LOG_MAX    4096

struct fake_evtchn {
	struct hv_handle_common c;
	int efd;
	evtchn_port_t queue[FAKE_QUEUE];
	unsigned int head, tail;
	unsigned char masked[FAKE_PORTS];
	unsigned char pending_masked[FAKE_PORTS];
	unsigned char unbound[FAKE_PORTS];
	int pending_error; /* returned once by pending() if set */
};

/* event log: +port = callback ran, -port-1 = unmask */
static int evlog[LOG_MAX];
static unsigned int nevlog;

static void evlog_add(int v)
{
	ck_assert_uint_lt(nevlog, LOG_MAX);
	evlog[nevlog++] = v;
}

static struct fake_evtchn *fake;
static struct hv fake_hv;
static struct event_base *base;
static struct evtchn_mux *mux;

static void fake_queue(struct fake_evtchn *f, evtchn_port_t port)
{
	uint64_t one = 1;

	ck_assert_uint_lt(f->tail - f->head, FAKE_QUEUE);
	f->queue[f->tail++ % FAKE_QUEUE] = port;
	ck_assert_int_eq(write(f->efd, &one, sizeof(one)), sizeof(one));
}

/* The peer notifies port: pending now, or on unmask if masked. */
static void fake_notify(evtchn_port_t port)
{
	ck_assert_uint_lt(port, FAKE_PORTS);
	if (fake->masked[port])
		fake->pending_masked[port] = 1;
	else
		fake_queue(fake, port);
}

static int fake_evtchn_fd(struct hv_evtchn *h)
{
	return ((struct fake_evtchn *)h)->efd;
}

static int fake_evtchn_pending(struct hv_evtchn *h)
{
	struct fake_evtchn *f = (struct fake_evtchn *)h;
	evtchn_port_t p;
	uint64_t v;

	if (f->pending_error) {
		int e = f->pending_error;

		f->pending_error = 0;
		return e;
	}
	if (f->head == f->tail) {
		if (read(f->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
		return -EAGAIN;
	}
	p = f->queue[f->head++ % FAKE_QUEUE];
	f->masked[p] = 1;
	return (int)p;
}

static int fake_evtchn_unmask(struct hv_evtchn *h, evtchn_port_t port)
{
	struct fake_evtchn *f = (struct fake_evtchn *)h;

	evlog_add(-(int)port - 1);
	if (port >= FAKE_PORTS || f->unbound[port])
		return -EINVAL;
	f->masked[port] = 0;
	if (f->pending_masked[port]) {
		f->pending_masked[port] = 0;
		fake_queue(f, port);
	}
	return 0;
}

static const struct hv_ops fake_ops = {
	.evtchn_fd = fake_evtchn_fd,
	.evtchn_pending = fake_evtchn_pending,
	.evtchn_unmask = fake_evtchn_unmask,
};

static void setup(void)
{
	fake_hv.ops = &fake_ops;
	fake_hv.provider = HV_PROVIDER_LOOP;
	fake = calloc(1, sizeof(*fake));
	ck_assert_ptr_nonnull(fake);
	fake->c.hv = &fake_hv;
	fake->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(fake->efd, 0);
	nevlog = 0;
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	mux = evtchn_mux_new(base, (struct hv_evtchn *)fake);
	ck_assert_ptr_nonnull(mux);
	log_open("check_mux", LOG_TO_STDERR);
}

static void teardown(void)
{
	evtchn_mux_free(mux);
	mux = NULL;
	event_base_free(base);
	close(fake->efd);
	free(fake);
}

/* Run the loop until nothing is left to do (bounded). */
static void pump(void)
{
	int i;

	for (i = 0; i < 50; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* ---- callbacks ---- */

struct rec {
	int calls;
	evtchn_port_t last_port;
	int masked_during_call;
};

static void cb_record(evtchn_port_t port, void *arg)
{
	struct rec *r = arg;

	r->calls++;
	r->last_port = port;
	r->masked_during_call = fake->masked[port];
	evlog_add((int)port);
}

static struct rec removed_rec;

/* Removes its own port and unbinds it, as a backend tearing down does. */
static void cb_remove_self(evtchn_port_t port, void *arg)
{
	removed_rec.calls++;
	evlog_add((int)port);
	ck_assert_int_eq(evtchn_mux_remove(mux, port), 0);
	fake->unbound[port] = 1;
}

static struct rec late_rec;

/* Port 1's callback: route a new high port (the table grows) and forget
 * port 2, both during dispatch. */
static void cb_rewire(evtchn_port_t port, void *arg)
{
	evlog_add((int)port);
	ck_assert_int_eq(evtchn_mux_add(mux, 3000, cb_record, &late_rec), 0);
	ck_assert_int_eq(evtchn_mux_remove(mux, 2), 0);
}

static int renotify_left;

/* Gets notified again while it runs (masked): must run again afterwards. */
static void cb_renotify(evtchn_port_t port, void *arg)
{
	cb_record(port, arg);
	if (renotify_left-- > 0)
		fake_notify(port);
}

static void cb_free_mux(evtchn_port_t port, void *arg)
{
	(*(int *)arg)++;
	evtchn_mux_free(mux);
	mux = NULL;
}

/* ---- tests ---- */

START_TEST(dispatches_each_port_to_its_callback)
{
	struct rec a = { 0 }, b = { 0 };
	struct evtchn_mux_stats st;

	ck_assert_int_eq(evtchn_mux_add(mux, 3, cb_record, &a), 0);
	ck_assert_int_eq(evtchn_mux_add(mux, 7, cb_record, &b), 0);
	fake_notify(7);
	fake_notify(3);
	pump();
	ck_assert_int_eq(a.calls, 1);
	ck_assert_uint_eq(a.last_port, 3);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_uint_eq(b.last_port, 7);
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_eq(st.dispatched, (uint64_t)(a.calls + b.calls));
	ck_assert_uint_ge(st.wakeups, 1);
	ck_assert_uint_eq(st.stray, 0);
}
END_TEST

START_TEST(unmasks_port_after_its_callback)
{
	struct rec a = { 0 };

	ck_assert_int_eq(evtchn_mux_add(mux, 5, cb_record, &a), 0);
	fake_notify(5);
	pump();
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.masked_during_call, 1);
	ck_assert_int_eq(fake->masked[5], 0);
	ck_assert_uint_eq(nevlog, 2);
	ck_assert_int_eq(evlog[0], 5);  /* callback */
	ck_assert_int_eq(evlog[1], -6); /* then unmask of 5 */
}
END_TEST

START_TEST(notify_during_callback_is_delivered_after_unmask)
{
	struct rec a = { 0 };

	renotify_left = 1;
	ck_assert_int_eq(evtchn_mux_add(mux, 9, cb_renotify, &a), 0);
	fake_notify(9);
	pump();
	ck_assert_int_eq(a.calls, 2);
	ck_assert_int_eq(a.masked_during_call, 1);
}
END_TEST

START_TEST(stray_port_is_counted_and_unmasked)
{
	struct evtchn_mux_stats st;

	fake_notify(11);
	pump();
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_eq(st.stray, 1);
	ck_assert_uint_eq(st.dispatched, 0);
	ck_assert_int_eq(fake->masked[11], 0);
	ck_assert_uint_eq(nevlog, 1);
	ck_assert_int_eq(evlog[0], -12);
}
END_TEST

START_TEST(port_beyond_table_is_stray)
{
	struct evtchn_mux_stats st;

	fake_notify(FAKE_PORTS - 1);
	pump();
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_eq(st.stray, 1);
}
END_TEST

START_TEST(callback_may_remove_its_own_port)
{
	struct rec other = { 0 };
	struct evtchn_mux_stats st;

	ck_assert_int_eq(evtchn_mux_add(mux, 4, cb_remove_self, NULL), 0);
	ck_assert_int_eq(evtchn_mux_add(mux, 6, cb_record, &other), 0);
	fake_notify(4);
	fake_notify(6);
	pump();
	ck_assert_int_eq(removed_rec.calls, 1);
	ck_assert_int_eq(other.calls, 1); /* the rest of the batch goes on */
	ck_assert_int_eq(evtchn_mux_remove(mux, 4), -ENOENT);

	/* Bound again (a fresh bind starts unmasked) but not routed: its
	 * event is nobody's, counted stray. */
	ck_assert_int_eq(fake->masked[4], 1);
	fake->unbound[4] = 0;
	fake->masked[4] = 0;
	fake_notify(4);
	pump();
	ck_assert_int_eq(removed_rec.calls, 1);
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_eq(st.stray, 1);
	ck_assert_uint_eq(st.dispatched, 2);
}
END_TEST

START_TEST(callback_may_add_and_remove_other_ports)
{
	struct rec two = { 0 };
	struct evtchn_mux_stats st;

	ck_assert_int_eq(evtchn_mux_add(mux, 1, cb_rewire, NULL), 0);
	ck_assert_int_eq(evtchn_mux_add(mux, 2, cb_record, &two), 0);
	/* One batch: 1 rewires, then 2 (just removed) and 3000 (just added). */
	fake_notify(1);
	fake_notify(2);
	fake_notify(3000);
	pump();
	ck_assert_int_eq(two.calls, 0);
	ck_assert_int_eq(late_rec.calls, 1);
	ck_assert_uint_eq(late_rec.last_port, 3000);
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_eq(st.stray, 1);
	ck_assert_uint_eq(st.dispatched, 2);
}
END_TEST

START_TEST(free_from_callback_is_safe)
{
	struct rec other = { 0 };
	int freed = 0;

	ck_assert_int_eq(evtchn_mux_add(mux, 2, cb_free_mux, &freed), 0);
	ck_assert_int_eq(evtchn_mux_add(mux, 3, cb_record, &other), 0);
	fake_notify(2);
	fake_notify(3);
	pump();
	ck_assert_int_eq(freed, 1);
	ck_assert_int_eq(other.calls, 0); /* nothing after the free */
	ck_assert_ptr_null(mux);
}
END_TEST

START_TEST(add_rejects_duplicates_and_impossible_ports)
{
	struct rec a = { 0 };

	ck_assert_int_eq(evtchn_mux_add(mux, 8, cb_record, &a), 0);
	ck_assert_int_eq(evtchn_mux_add(mux, 8, cb_record, &a), -EEXIST);
	ck_assert_int_eq(evtchn_mux_add(mux, 9, NULL, &a), -EINVAL);
	ck_assert_int_eq(evtchn_mux_add(mux, EVTCHN_FIFO_NR_CHANNELS, cb_record,
					&a),
			 -EINVAL);
	ck_assert_int_eq(evtchn_mux_remove(mux, 8), 0);
	ck_assert_int_eq(evtchn_mux_remove(mux, 8), -ENOENT);
	ck_assert_int_eq(evtchn_mux_remove(mux, 100000), -ENOENT);
	ck_assert_int_eq(evtchn_mux_add(mux, 8, cb_record, &a), 0);
}
END_TEST

START_TEST(long_bursts_are_served_in_batches)
{
	static struct rec recs[600];
	struct evtchn_mux_stats st;
	int i;

	for (i = 0; i < 600; i++) {
		ck_assert_int_eq(evtchn_mux_add(mux, (evtchn_port_t)i + 1,
						cb_record, &recs[i]),
				 0);
		fake_notify((evtchn_port_t)i + 1);
	}
	pump();
	for (i = 0; i < 600; i++)
		ck_assert_int_eq(recs[i].calls, 1);
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_eq(st.dispatched, 600);
	ck_assert_uint_ge(st.wakeups, 3); /* 256 per turn of the loop */
}
END_TEST

START_TEST(pending_error_loses_no_event)
{
	struct rec a = { 0 };
	struct evtchn_mux_stats st;

	ck_assert_int_eq(evtchn_mux_add(mux, 3, cb_record, &a), 0);
	fake->pending_error = -EIO;
	fake_notify(3);
	log_set_level(LOG_ERR); /* the warning is expected */
	pump();
	/* The error ended one wakeup; the fd stayed readable, so the next
	 * turn of the loop delivered the port. */
	ck_assert_int_eq(a.calls, 1);
	evtchn_mux_get_stats(mux, &st);
	ck_assert_uint_ge(st.wakeups, 2);
}
END_TEST

static Suite *mux_suite(void)
{
	Suite *s = suite_create("mux");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dispatches_each_port_to_its_callback);
	tcase_add_test(tc, unmasks_port_after_its_callback);
	tcase_add_test(tc, notify_during_callback_is_delivered_after_unmask);
	tcase_add_test(tc, stray_port_is_counted_and_unmasked);
	tcase_add_test(tc, port_beyond_table_is_stray);
	tcase_add_test(tc, callback_may_remove_its_own_port);
	tcase_add_test(tc, callback_may_add_and_remove_other_ports);
	tcase_add_test(tc, free_from_callback_is_safe);
	tcase_add_test(tc, add_rejects_duplicates_and_impossible_ports);
	tcase_add_test(tc, long_bursts_are_served_in_batches);
	tcase_add_test(tc, pending_error_loses_no_event);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(mux_suite)
