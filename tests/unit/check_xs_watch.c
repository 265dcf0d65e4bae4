/* check_xs_watch.c - watches: registration, recursion, removal, special
 * watches, permissions, relative paths. */
#include "config.h"

#include "check_main.h"
#include "xenstored/mem-conn.h"

static struct xs_store st;
static struct tconn *a, *w;
static char path[256], token[64];

static void setup(void)
{
	ck_assert_int_eq(xs_store_init(&st), 0);
	a = t_conn(&st, 0, true);
	w = t_conn(&st, 0, true);
}

static void teardown(void)
{
	t_free(a);
	t_free(w);
	xs_store_free(&st);
}

static void expect_event(struct tconn *t, const char *p, const char *tok)
{
	ck_assert_int_eq(t_event(t, path, sizeof(path), token, sizeof(token)),
			 0);
	ck_assert_str_eq(path, p);
	ck_assert_str_eq(token, tok);
}

START_TEST(fires_once_on_register_after_reply)
{
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/nothere", "tok", NULL), 0);
	ck_assert_str_eq(w->reply.p, "OK");
	ck_assert_int_eq(t_nevents(w), 1);
	expect_event(w, "/nothere", "tok");
	ck_assert_int_eq(t_nevents(w), 0);
}
END_TEST

START_TEST(recursive_over_subtree)
{
	t_strs(w, XS_WATCH, 0, "/a", "t", NULL);
	t_drain_events(w);
	ck_assert_int_eq(t_write(a, 0, "/a/b/c", "1"), 0);
	expect_event(w, "/a/b/c", "t");
	ck_assert_int_eq(t_write(a, 0, "/ab", "1"), 0); /* not under /a */
	ck_assert_int_eq(t_write(a, 0, "/a", "v"), 0);
	expect_event(w, "/a", "t");
	ck_assert_int_eq(t_nevents(w), 0);
}
END_TEST

START_TEST(missing_parents_fire_no_event_of_their_own)
{
	t_strs(w, XS_WATCH, 0, "/p", "t", NULL);
	t_drain_events(w);
	ck_assert_int_eq(t_write(a, 0, "/p/q/r", "1"), 0);
	ck_assert_int_eq(t_nevents(w), 1);
	expect_event(w, "/p/q/r", "t");
}
END_TEST

START_TEST(rm_fires_on_parent_and_watched_children)
{
	ck_assert_int_eq(t_write(a, 0, "/r/x/y", "1"), 0);
	t_strs(w, XS_WATCH, 0, "/r", "up", NULL);
	t_strs(w, XS_WATCH, 0, "/r/x/y", "down", NULL);
	t_strs(w, XS_WATCH, 0, "/r/x/y/never", "no", NULL);
	t_drain_events(w);
	ck_assert_int_eq(t_strs(a, XS_RM, 0, "/r/x", NULL), 0);
	ck_assert_int_eq(t_nevents(w), 2);
	expect_event(w, "/r/x/y", "down");
	expect_event(w, "/r/x", "up");
}
END_TEST

START_TEST(unwatch_stops_events)
{
	t_strs(w, XS_WATCH, 0, "/u", "t", NULL);
	ck_assert_int_eq(t_strs(w, XS_UNWATCH, 0, "/u", "t", NULL), 0);
	t_drain_events(w);
	t_write(a, 0, "/u", "1");
	ck_assert_int_eq(t_nevents(w), 0);
	ck_assert_int_eq(t_strs(w, XS_UNWATCH, 0, "/u", "t", NULL), -ENOENT);
}
END_TEST

START_TEST(same_path_and_token_twice_is_eexist)
{
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/d", "t", NULL), 0);
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/d", "t", NULL), -EEXIST);
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/d", "t2", NULL), 0);
	t_drain_events(w);
	t_write(a, 0, "/d", "1");
	ck_assert_int_eq(t_nevents(w), 2);
}
END_TEST

START_TEST(only_readers_get_events)
{
	struct tconn *g5 = t_conn(&st, 5, false), *g6 = t_conn(&st, 6, false);

	/* /s readable by 5 only */
	ck_assert_int_eq(t_write(a, 0, "/s", "x"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/s", "n0", "r5", NULL), 0);
	ck_assert_int_eq(t_strs(g5, XS_WATCH, 0, "/s", "t", NULL), 0);
	ck_assert_int_eq(t_strs(g6, XS_WATCH, 0, "/s", "t", NULL), 0);
	t_drain_events(g5);
	t_drain_events(g6);
	ck_assert_int_eq(t_write(a, 0, "/s", "y"), 0);
	ck_assert_int_eq(t_nevents(g5), 1);
	ck_assert_int_eq(t_nevents(g6), 0);
	t_free(g5);
	t_free(g6);
}
END_TEST

START_TEST(readable_parent_is_enough_for_an_event)
{
	struct tconn *g6 = t_conn(&st, 6, false);

	ck_assert_int_eq(t_write(a, 0, "/d", ""), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/d", "r0", NULL), 0);
	ck_assert_int_eq(t_write(a, 0, "/d/secret", "x"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/d/secret", "n0", NULL), 0);
	ck_assert_int_eq(t_strs(g6, XS_WATCH, 0, "/d", "t", NULL), 0);
	t_drain_events(g6);
	ck_assert_int_eq(t_write(a, 0, "/d/secret", "y"), 0);
	ck_assert_int_eq(t_nevents(g6), 1);
	/* below an unreadable node whose parent is unreadable too: nothing */
	ck_assert_int_eq(t_write(a, 0, "/d/secret/deeper", "z"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/d/secret/deeper", "n0",
				NULL),
			 0);
	t_drain_events(g6);
	ck_assert_int_eq(t_write(a, 0, "/d/secret/deeper", "w"), 0);
	ck_assert_int_eq(t_nevents(g6), 0);
	t_free(g6);
}
END_TEST

START_TEST(identical_pending_events_are_merged)
{
	t_strs(w, XS_WATCH, 0, "/m", "t", NULL);
	t_drain_events(w);
	/* w does not read in between: the second identical event is dropped */
	ck_assert_int_eq(t_write(a, 0, "/m/x", "1"), 0);
	ck_assert_int_eq(t_write(a, 0, "/m/x", "2"), 0);
	ck_assert_int_eq(t_write(a, 0, "/m/y", "1"), 0);
	ck_assert_int_eq(t_nevents(w), 2);
	/* once delivered, the same change is news again */
	ck_assert_int_eq(t_write(a, 0, "/m/x", "3"), 0);
	ck_assert_int_eq(t_nevents(w), 3);
}
END_TEST

START_TEST(relative_watch_reports_relative_path)
{
	struct tconn *g = t_conn(&st, 7, false);

	ck_assert_int_eq(t_write(a, 0, "/local/domain/7", ""), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/7", "n7",
				NULL),
			 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "device", "rel", NULL), 0);
	expect_event(g, "device", "rel");
	ck_assert_int_eq(t_write(a, 0, "/local/domain/7/device/vif/0", "1"), 0);
	expect_event(g, "device/vif/0", "rel");
	t_free(g);
}
END_TEST

START_TEST(introduce_and_release_fire_special_watches)
{
	t_strs(w, XS_WATCH, 0, "@introduceDomain", "in", NULL);
	t_strs(w, XS_WATCH, 0, "@releaseDomain", "out", NULL);
	t_drain_events(w);
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "3", "4096", "9", NULL), 0);
	expect_event(w, "@introduceDomain", "in");
	/* a second introduce of the same domain is not news */
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "3", "4096", "9", NULL), 0);
	ck_assert_int_eq(t_nevents(w), 0);
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, "3", NULL), 0);
	expect_event(w, "@releaseDomain", "out");
	xs_domain_died(&st, 4);
	expect_event(w, "@releaseDomain", "out");
	/* special watches are exact: a node write does not fire them */
	t_write(a, 0, "/x", "1");
	ck_assert_int_eq(t_nevents(w), 0);
}
END_TEST

START_TEST(depth_limits_the_levels_that_fire)
{
	static const struct {
		const char *depth, *write;
		bool fires;
	} cases[] = {
		{ "0", "/d", true },        { "0", "/d/a", false },
		{ "1", "/d/a", true },      { "1", "/d/a/b", false },
		{ "2", "/d/a/b", true },    { "2", "/d/a/b/c", false },
		{ NULL, "/d/a/b/c", true }, /* no depth: the whole subtree */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tconn *x = t_conn(&st, 0, true);

		ck_assert_int_eq(t_strs(x, XS_WATCH, 0, "/d", "t",
					cases[i].depth, NULL),
				 0);
		t_drain_events(x);
		ck_assert_int_eq(t_write(a, 0, cases[i].write, "v"), 0);
		ck_assert_msg(t_nevents(x) == (cases[i].fires ? 1 : 0),
			      "depth %s, write %s: %d events",
			      cases[i].depth ? cases[i].depth : "none",
			      cases[i].write, t_nevents(x));
		t_free(x);
		ck_assert_int_eq(t_strs(a, XS_RM, 0, "/d", NULL), 0);
	}
}
END_TEST

START_TEST(depth_on_root_counts_from_the_root)
{
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/", "t", "1", NULL), 0);
	t_drain_events(w);
	t_write(a, 0, "/top", "1");
	expect_event(w, "/top", "t");
	t_write(a, 0, "/top/below", "1");
	ck_assert_int_eq(t_nevents(w), 0);
}
END_TEST

START_TEST(bad_depth_is_einval)
{
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/d", "t", "-1", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/d", "t", "x", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/d", "t", "", NULL), -EINVAL);
}
END_TEST

START_TEST(release_domain_per_domid_and_with_depth)
{
	struct tconn *all = t_conn(&st, 0, true), *one = t_conn(&st, 0, true),
		     *deep = t_conn(&st, 0, true);

	ck_assert_int_eq(t_strs(all, XS_WATCH, 0, "@releaseDomain", "a", NULL),
			 0);
	ck_assert_int_eq(t_strs(one, XS_WATCH, 0, "@releaseDomain/3", "o", NULL),
			 0);
	ck_assert_int_eq(t_strs(deep, XS_WATCH, 0, "@releaseDomain", "d", "1",
				NULL),
			 0);
	expect_event(one, "@releaseDomain/3", "o"); /* the initial one */
	t_drain_events(all);
	t_drain_events(deep);
	t_strs(a, XS_INTRODUCE, 0, "3", "1", "9", NULL);
	t_strs(a, XS_INTRODUCE, 0, "4", "1", "9", NULL);
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, "4", NULL), 0);
	expect_event(all, "@releaseDomain", "a");
	expect_event(deep, "@releaseDomain/4", "d");
	ck_assert_int_eq(t_nevents(one), 0);
	xs_domain_died(&st, 3);
	expect_event(all, "@releaseDomain", "a");
	expect_event(deep, "@releaseDomain/3", "d");
	expect_event(one, "@releaseDomain/3", "o");
	ck_assert_int_eq(t_nevents(all) + t_nevents(deep) + t_nevents(one), 0);
	t_free(all);
	t_free(one);
	t_free(deep);
}
END_TEST

START_TEST(introduce_domain_per_domid)
{
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "@introduceDomain/7", "i", NULL),
			 0);
	t_drain_events(w);
	t_strs(a, XS_INTRODUCE, 0, "6", "1", "9", NULL);
	ck_assert_int_eq(t_nevents(w), 0);
	t_strs(a, XS_INTRODUCE, 0, "7", "1", "9", NULL);
	expect_event(w, "@introduceDomain/7", "i");
}
END_TEST

START_TEST(guest_without_watchdepth_feature_cannot_give_a_depth)
{
	struct tconn *g;

	ck_assert_int_eq(t_strs(a, XS_SET_FEATURE, 0, "5", "2", NULL), 0);
	t_strs(a, XS_INTRODUCE, 0, "5", "1", "9", NULL);
	g = t_conn(&st, 5, false);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "x", "t", "1", NULL), -EINVAL);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "x", "t", NULL), 0);
	t_free(g);
}
END_TEST

START_TEST(shutdown_fires_release_domain_and_keeps_the_domain)
{
	struct xs_domain *d;
	char buf[16];

	t_strs(w, XS_WATCH, 0, "@releaseDomain", "out", NULL);
	t_drain_events(w);
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "3", "4096", "9", NULL), 0);
	ck_assert_int_eq(t_write(a, 0, "/local/domain/3/data", "x"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/3/data",
				"n3", NULL),
			 0);
	/* SHUTDOWN_reboot: xl's monitor must hear of it, the domain stays. */
	xs_domain_shut_down(&st, 3, 1);
	expect_event(w, "@releaseDomain", "out");
	d = xs_domain_find(&st, 3);
	ck_assert_ptr_nonnull(d);
	ck_assert(d->shutdown);
	ck_assert_int_eq(t_read(a, 0, "/local/domain/3/data", buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "x");
	/* XS_RESUME re-arms it. */
	ck_assert_int_eq(t_strs(a, XS_RESUME, 0, "3", NULL), 0);
	ck_assert(!d->shutdown);
	/* Unknown domains too (spurious events are allowed). */
	xs_domain_shut_down(&st, 77, 0);
	expect_event(w, "@releaseDomain", "out");
	/* The death that follows drops the domain and fires again. */
	xs_domain_died(&st, 3);
	expect_event(w, "@releaseDomain", "out");
	ck_assert_ptr_null(xs_domain_find(&st, 3));
}
END_TEST

START_TEST(closing_a_connection_drops_its_watches)
{
	struct tconn *t = t_conn(&st, 0, true);

	t_strs(t, XS_WATCH, 0, "/c", "t", NULL);
	ck_assert_uint_eq(st.watches.count, 1);
	t_free(t);
	ck_assert_uint_eq(st.watches.count, 0);
	ck_assert_int_eq(t_write(a, 0, "/c", "1"), 0);
}
END_TEST

START_TEST(reset_watches_drops_all)
{
	t_strs(w, XS_WATCH, 0, "/r1", "t", NULL);
	t_strs(w, XS_WATCH, 0, "/r2", "t", NULL);
	ck_assert_int_eq(t_strs(w, XS_RESET_WATCHES, 0, "", NULL), 0);
	ck_assert_uint_eq(st.watches.count, 0);
	t_drain_events(w);
	t_write(a, 0, "/r1", "1");
	ck_assert_int_eq(t_nevents(w), 0);
}
END_TEST

START_TEST(many_watches_write_touches_only_prefixes)
{
	char p[32];
	int i;

	for (i = 0; i < 3000; i++) {
		snprintf(p, sizeof(p), "/many/%d", i);
		ck_assert_int_eq(t_strs(w, XS_WATCH, 0, p, "t", NULL), 0);
	}
	t_drain_events(w);
	ck_assert_int_eq(t_write(a, 0, "/many/1234/x", "1"), 0);
	ck_assert_int_eq(t_nevents(w), 1);
	expect_event(w, "/many/1234/x", "t");
}
END_TEST

static Suite *watch_suite(void)
{
	Suite *s = suite_create("xs_watch");
	TCase *tc = tcase_create("watch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fires_once_on_register_after_reply);
	tcase_add_test(tc, recursive_over_subtree);
	tcase_add_test(tc, missing_parents_fire_no_event_of_their_own);
	tcase_add_test(tc, rm_fires_on_parent_and_watched_children);
	tcase_add_test(tc, unwatch_stops_events);
	tcase_add_test(tc, same_path_and_token_twice_is_eexist);
	tcase_add_test(tc, only_readers_get_events);
	tcase_add_test(tc, readable_parent_is_enough_for_an_event);
	tcase_add_test(tc, identical_pending_events_are_merged);
	tcase_add_test(tc, relative_watch_reports_relative_path);
	tcase_add_test(tc, introduce_and_release_fire_special_watches);
	tcase_add_test(tc, shutdown_fires_release_domain_and_keeps_the_domain);
	tcase_add_test(tc, depth_limits_the_levels_that_fire);
	tcase_add_test(tc, depth_on_root_counts_from_the_root);
	tcase_add_test(tc, bad_depth_is_einval);
	tcase_add_test(tc, release_domain_per_domid_and_with_depth);
	tcase_add_test(tc, introduce_domain_per_domid);
	tcase_add_test(tc, guest_without_watchdepth_feature_cannot_give_a_depth);
	tcase_add_test(tc, closing_a_connection_drops_its_watches);
	tcase_add_test(tc, reset_watches_drops_all);
	tcase_add_test(tc, many_watches_write_touches_only_prefixes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(watch_suite)
