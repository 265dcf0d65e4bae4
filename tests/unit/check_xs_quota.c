/* check_xs_quota.c - quotas: defaults, configuration, and the errors an
 * unprivileged domain gets (the same as C xenstored 4.17's). */
#include "config.h"

#include "check_main.h"
#include "xenstored/mem-conn.h"

static struct xs_store st;
static struct tconn *a, *g;

static void setup(void)
{
	ck_assert_int_eq(xs_store_init(&st), 0);
	a = t_conn(&st, 0, true);
	g = t_conn(&st, 5, false);
	/* the guest's home, owned by it */
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5", ""), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/5", "n5",
				NULL),
			 0);
}

static void teardown(void)
{
	t_free(a);
	t_free(g);
	xs_store_free(&st);
}

START_TEST(defaults_match_c_xenstored)
{
	struct xs_quota q;

	xs_quota_defaults(&q);
	ck_assert_uint_eq(q.val[XS_Q_NODES], 1000);
	ck_assert_uint_eq(q.val[XS_Q_WATCHES], 128);
	ck_assert_uint_eq(q.val[XS_Q_TRANSACTIONS], 10);
	ck_assert_uint_eq(q.val[XS_Q_OUTSTANDING], 20);
	ck_assert_uint_eq(q.val[XS_Q_NODE_SIZE], 2048);
	ck_assert_uint_eq(q.val[XS_Q_PERMS], 5);
	ck_assert_uint_eq(q.val[XS_Q_TRANS_NODES], 1024);
	ck_assert_uint_eq(q.val[XS_Q_PATH_MAX], 2048);
	ck_assert_str_eq(xs_quota_name(XS_Q_PERMS), "permissions");
}
END_TEST

START_TEST(parse_arg_accepts_name_value_only)
{
	struct xs_quota q;

	xs_quota_defaults(&q);
	ck_assert_int_eq(xs_quota_parse_arg(&q, "nodes=7"), 0);
	ck_assert_uint_eq(q.val[XS_Q_NODES], 7);
	ck_assert_int_eq(xs_quota_parse_arg(&q, "nodes=0"), -EINVAL);
	ck_assert_int_eq(xs_quota_parse_arg(&q, "nodes=-1"), -EINVAL);
	ck_assert_int_eq(xs_quota_parse_arg(&q, "nodes=1x"), -EINVAL);
	ck_assert_int_eq(xs_quota_parse_arg(&q, "bogus=1"), -EINVAL);
	ck_assert_int_eq(xs_quota_parse_arg(&q, "nodes"), -EINVAL);
}
END_TEST

START_TEST(nodes_quota_gives_enospc)
{
	char p[32];
	int i;

	st.quota.val[XS_Q_NODES] = 10;
	/* the domain already owns its home: 1 node */
	for (i = 0; i < 9; i++) {
		snprintf(p, sizeof(p), "n%d", i);
		ck_assert_int_eq(t_write(g, 0, p, "x"), 0);
	}
	ck_assert_int_eq(t_write(g, 0, "one-more", "x"), -ENOSPC);
	/* removing frees quota */
	ck_assert_int_eq(t_strs(g, XS_RM, 0, "n0", NULL), 0);
	ck_assert_int_eq(t_write(g, 0, "one-more", "x"), 0);
	/* dom0 is exempt */
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5/by-dom0", "x"), 0);
}
END_TEST

START_TEST(nodes_quota_counts_missing_parents_and_transactions)
{
	uint32_t tx;

	st.quota.val[XS_Q_NODES] = 4;
	ck_assert_int_eq(t_write(g, 0, "a/b/c/d", "x"), -ENOSPC);
	ck_assert_int_eq(t_write(g, 0, "a/b/c", "x"), 0);
	ck_assert_int_eq(t_strs(g, XS_RM, 0, "a", NULL), 0);
	tx = t_tx_start(g);
	ck_assert_int_eq(t_write(g, tx, "x", "1"), 0);
	ck_assert_int_eq(t_write(g, tx, "y", "1"), 0);
	ck_assert_int_eq(t_write(g, tx, "z", "1"), 0);
	ck_assert_int_eq(t_write(g, tx, "w", "1"), -ENOSPC);
	ck_assert_int_eq(t_tx_end(g, tx, false), 0);
}
END_TEST

START_TEST(node_size_quota_gives_enospc)
{
	char *big = malloc(2100);

	memset(big, 'v', 2099);
	big[2099] = '\0';
	ck_assert_int_eq(t_write(g, 0, "big", big), -ENOSPC);
	big[1000] = '\0';
	ck_assert_int_eq(t_write(g, 0, "big", big), 0);
	big[1000] = 'v';
	ck_assert_int_eq(t_write(g, 0, "big", big), -ENOSPC);
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5/big", big), 0);
	free(big);
}
END_TEST

START_TEST(watch_quota_gives_e2big)
{
	char p[32];
	int i;

	st.quota.val[XS_Q_WATCHES] = 3;
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "w%d", i);
		ck_assert_int_eq(t_strs(g, XS_WATCH, 0, p, "t", NULL), 0);
	}
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "w9", "t", NULL), -E2BIG);
	ck_assert_int_eq(t_strs(g, XS_UNWATCH, 0, "w0", "t", NULL), 0);
	ck_assert_int_eq(t_strs(g, XS_WATCH, 0, "w9", "t", NULL), 0);
}
END_TEST

START_TEST(transaction_quota_gives_enospc)
{
	uint32_t tx[3];
	int i;

	st.quota.val[XS_Q_TRANSACTIONS] = 3;
	for (i = 0; i < 3; i++)
		ck_assert_uint_ne(tx[i] = t_tx_start(g), 0);
	ck_assert_int_eq(t_strs(g, XS_TRANSACTION_START, 0, "", NULL), -ENOSPC);
	ck_assert_int_eq(t_tx_end(g, tx[1], false), 0);
	ck_assert_uint_ne(t_tx_start(g), 0);
}
END_TEST

START_TEST(transaction_nodes_quota_gives_enospc)
{
	uint32_t tx = t_tx_start(g);
	char p[16];
	int i, rc = 0;

	st.quota.val[XS_Q_TRANS_NODES] = 8;
	for (i = 0; i < 20 && rc == 0; i++) {
		snprintf(p, sizeof(p), "n%d", i);
		rc = t_write(g, tx, p, "x");
	}
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_int_lt(i, 20);
	/* ending it is always allowed */
	ck_assert_int_eq(t_tx_end(g, tx, false), 0);
}
END_TEST

START_TEST(perms_quota_gives_enospc)
{
	ck_assert_int_eq(t_write(g, 0, "p", "x"), 0);
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "p", "n5", "r1", "r2", "r3",
				"r4", NULL),
			 0);
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "p", "n5", "r1", "r2", "r3",
				"r4", "r6", NULL),
			 -ENOSPC);
}
END_TEST

START_TEST(outstanding_quota_stalls_reading)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 16 };
	int i;

	st.quota.val[XS_Q_OUTSTANDING] = 2;
	/* queue four requests at once; nobody writes the replies out */
	for (i = 0; i < 4; i++) {
		h.req_id = 100 + (uint32_t)i;
		xs_buf_add(&g->in, &h, sizeof(h));
		xs_buf_add(&g->in, "/local/domain/5", 16);
	}
	ck_assert_int_eq(xs_conn_input(g->c), 0);
	ck_assert_uint_eq(g->c->outstanding, 2);
	ck_assert_uint_eq(g->c->nreq, 2);
	/* replies drain: reading resumes */
	xs_conn_flush(g->c);
	ck_assert_int_eq(xs_conn_input(g->c), 0);
	ck_assert_uint_eq(g->c->nreq, 4);
}
END_TEST

START_TEST(control_quota_lists_and_sets)
{
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "quota", NULL), 0);
	ck_assert_ptr_nonnull(strstr(a->reply.p, "nodes"));
	ck_assert_ptr_nonnull(strstr(a->reply.p, "1000"));
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "quota", "set", "watches",
				"7", NULL),
			 0);
	ck_assert_uint_eq(st.quota.val[XS_Q_WATCHES], 7);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "quota", "set", "watches",
				"0", NULL),
			 -EINVAL);
	/* guests may not */
	ck_assert_int_eq(t_strs(g, XS_CONTROL, 0, "quota", NULL), -EACCES);
}
END_TEST

/*
 * Quotas hold at commit, whatever the transactions saw when they ran
 * (XSA-416 class): each of several concurrent transactions stays under
 * the quota by itself, together they would pass it tenfold.
 */
START_TEST(concurrent_transactions_cannot_pass_nodes_quota)
{
	uint32_t tx[10];
	unsigned ntx = st.quota.val[XS_Q_TRANSACTIONS], i, j, ok = 0;
	char p[64];
	int rc;

	ck_assert_uint_eq(ntx, 10);
	/* the nodes quota alone: 989 children's names pass the node size */
	st.quota.val[XS_Q_NODE_SIZE] = 1u << 20;
	/* home and 10 parents: 11 nodes; each transaction adds 989 under
	 * its own parent (1,000 in its view), together 9,901 */
	for (i = 0; i < ntx; i++) {
		snprintf(p, sizeof(p), "p%u", i);
		ck_assert_int_eq(t_write(g, 0, p, ""), 0);
	}
	for (i = 0; i < ntx; i++)
		tx[i] = t_tx_start(g);
	for (i = 0; i < ntx; i++)
		for (j = 0; j < 989; j++) {
			snprintf(p, sizeof(p), "p%u/n%u", i, j);
			ck_assert_int_eq(t_write(g, tx[i], p, "x"), 0);
		}
	for (i = 0; i < ntx; i++) {
		rc = t_tx_end(g, tx[i], true);
		ck_assert_msg(rc == 0 || rc == -ENOSPC, "commit %u: %d", i, rc);
		ok += rc == 0;
	}
	ck_assert_uint_eq(ok, 1);
	ck_assert_uint_le(xs_tree_owned(&st.tree, 5), st.quota.val[XS_Q_NODES]);
}
END_TEST

/* What a transaction removes makes room for what it creates: the
 * commit counts the net change, after a concurrent commit. */
START_TEST(commit_counts_nodes_the_transaction_removes)
{
	uint32_t ta, tb;
	char p[32];
	int i;

	st.quota.val[XS_Q_NODES] = 12;
	/* home, da, db, da/o0..o3: 7 */
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "da/o%d", i);
		ck_assert_int_eq(t_write(g, 0, p, "x"), 0);
	}
	ck_assert_int_eq(t_write(g, 0, "db", "x"), 0);
	ta = t_tx_start(g);
	tb = t_tx_start(g);
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "da/o%d", i);
		ck_assert_int_eq(t_strs(g, XS_RM, ta, p, NULL), 0);
	}
	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "da/n%d", i);
		ck_assert_int_eq(t_write(g, ta, p, "x"), 0);
	}
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "db/b%d", i);
		ck_assert_int_eq(t_write(g, tb, p, "x"), 0);
	}
	ck_assert_int_eq(t_tx_end(g, tb, true), 0);
	ck_assert_uint_eq(xs_tree_owned(&st.tree, 5), 10);
	/* 10 - 4 + 5 = 11 <= 12 */
	ck_assert_int_eq(t_tx_end(g, ta, true), 0);
	ck_assert_uint_eq(xs_tree_owned(&st.tree, 5), 11);
}
END_TEST

/* A node's size counts its children's names: a transaction that adds
 * many children to one node is checked at commit. */
START_TEST(commit_checks_node_size_of_grown_parent)
{
	uint32_t tx = t_tx_start(g);
	char p[64];
	int i;

	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "par/child-%03d", i);
		ck_assert_int_eq(t_write(g, tx, p, ""), 0);
	}
	ck_assert_int_eq(t_tx_end(g, tx, true), -ENOSPC);
	ck_assert_int_eq(t_read(g, 0, "par", p, sizeof(p)), -ENOENT);
	/* dom0 is exempt */
	tx = t_tx_start(a);
	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/par/child-%03d", i);
		ck_assert_int_eq(t_write(a, tx, p, ""), 0);
	}
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
}
END_TEST

static Suite *quota_suite(void)
{
	Suite *s = suite_create("xs_quota");
	TCase *tc = tcase_create("quota");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_match_c_xenstored);
	tcase_add_test(tc, parse_arg_accepts_name_value_only);
	tcase_add_test(tc, nodes_quota_gives_enospc);
	tcase_add_test(tc, nodes_quota_counts_missing_parents_and_transactions);
	tcase_add_test(tc, node_size_quota_gives_enospc);
	tcase_add_test(tc, watch_quota_gives_e2big);
	tcase_add_test(tc, transaction_quota_gives_enospc);
	tcase_add_test(tc, transaction_nodes_quota_gives_enospc);
	tcase_add_test(tc, perms_quota_gives_enospc);
	tcase_add_test(tc, outstanding_quota_stalls_reading);
	tcase_add_test(tc, control_quota_lists_and_sets);
	suite_add_tcase(s, tc);
	tc = tcase_create("commit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, concurrent_transactions_cannot_pass_nodes_quota);
	tcase_add_test(tc, commit_counts_nodes_the_transaction_removes);
	tcase_add_test(tc, commit_checks_node_size_of_grown_parent);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(quota_suite)
