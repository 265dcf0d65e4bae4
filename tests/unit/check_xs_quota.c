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

/* n pipelined XS_READs of the guest's home, in t's input at once. */
static void queue_reads(struct tconn *t, int n)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 16 };
	int i;

	for (i = 0; i < n; i++) {
		h.req_id = 100 + (uint32_t)i;
		xs_buf_add(&t->in, &h, sizeof(h));
		xs_buf_add(&t->in, "/local/domain/5", 16);
	}
}

START_TEST(outstanding_quota_stalls_reading)
{
	st.quota.val[XS_Q_OUTSTANDING] = 2;
	/* queue four requests at once; nobody writes the replies out */
	queue_reads(g, 4);
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

/* ---- the memory quota (C xenstored's "memory", ENOMEM past it) ------- */

START_TEST(memory_quota_default_is_c_hard_quota)
{
	struct xs_quota q;

	xs_quota_defaults(&q);
	ck_assert_uint_eq(q.val[XS_Q_MEMORY], 2621440);
	ck_assert_str_eq(xs_quota_name(XS_Q_MEMORY), "memory");
	ck_assert_int_eq(xs_quota_parse_arg(&q, "memory=4096"), 0);
	ck_assert_uint_eq(q.val[XS_Q_MEMORY], 4096);
}
END_TEST

START_TEST(memory_quota_gives_enomem)
{
	char p[32], v[501];
	int i, rc = 0;

	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	st.quota.val[XS_Q_MEMORY] = 8192;
	/* ~530 bytes a node: the 16th cannot fit in 8 KiB */
	for (i = 0; i < 40 && rc == 0; i++) {
		snprintf(p, sizeof(p), "m%d", i);
		rc = t_write(g, 0, p, v);
	}
	ck_assert_int_eq(rc, -ENOMEM);
	ck_assert_int_gt(i, 10);
	ck_assert_int_lt(i, 17);
	ck_assert_uint_le(xs_mem_acct_get(&st.tree.mem, 5), 8192);
	/* growing an existing value is charged too, shrinking is not */
	ck_assert_int_eq(t_write(g, 0, "m0", "short"), 0);
	ck_assert_int_eq(t_write(g, 0, "m0", v), 0);
	ck_assert_int_eq(t_write(g, 0, "m1", "short"), 0);
	ck_assert_int_eq(t_write(g, 0, "m1", "short"), 0);
	/* rm gives it back */
	ck_assert_int_eq(t_strs(g, XS_RM, 0, "m2", NULL), 0);
	ck_assert_int_eq(t_write(g, 0, "again", v), 0);
	/* dom0 is exempt, even writing into the domain's home */
	ck_assert_int_eq(t_write(a, 0, "/local/domain/5/by-dom0", v), 0);
}
END_TEST

START_TEST(memory_accounting_counts_path_value_perms_children)
{
	uint32_t before = xs_mem_acct_get(&st.tree.mem, 5);
	uint32_t after_create, m;

	ck_assert_int_eq(t_write(g, 0, "d/e", "12345"), 0);
	after_create = xs_mem_acct_get(&st.tree.mem, 5);
	/* two nodes with their paths, "d" and "e" as children's names, the
	 * value: more than those bytes, less than twice */
	m = after_create - before;
	ck_assert_uint_gt(m, strlen("/local/domain/5/d") +
				     strlen("/local/domain/5/d/e") + 5 + 4);
	ck_assert_uint_lt(m, 200);
	/* a longer value costs exactly the difference */
	ck_assert_int_eq(t_write(g, 0, "d/e", "1234567890"), 0);
	ck_assert_uint_eq(xs_mem_acct_get(&st.tree.mem, 5), after_create + 5);
	/* a permission entry more costs, and is given back */
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "d/e", "n5", "r6", NULL), 0);
	ck_assert_uint_gt(xs_mem_acct_get(&st.tree.mem, 5), after_create + 5);
	ck_assert_int_eq(t_strs(g, XS_SET_PERMS, 0, "d/e", "n5", NULL), 0);
	ck_assert_uint_eq(xs_mem_acct_get(&st.tree.mem, 5), after_create + 5);
	/* rm of the subtree returns to where it started */
	ck_assert_int_eq(t_strs(g, XS_RM, 0, "d", NULL), 0);
	ck_assert_uint_eq(xs_mem_acct_get(&st.tree.mem, 5), before);
	/* handing a node to dom0 moves its charge */
	ck_assert_int_eq(t_write(g, 0, "gift", "x"), 0);
	m = xs_mem_acct_get(&st.tree.mem, 5);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/5/gift",
				"n0", NULL),
			 0);
	ck_assert_uint_lt(xs_mem_acct_get(&st.tree.mem, 5), m);
}
END_TEST

START_TEST(control_quota_domid_shows_memory)
{
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, "5", "1", "2", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_CONTROL, 0, "quota", "5", NULL), 0);
	ck_assert_ptr_nonnull(strstr(a->reply.p, "memory"));
}
END_TEST

/* ---- a socket client's output bound; read-only connections ----------- */

/* Writes from a to n distinct paths under /w, each firing w's watch. */
static void fire_events(int n)
{
	char p[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "/w/%d", i);
		ck_assert_int_eq(t_write(a, 0, p, "x"), 0);
	}
}

/* A client that never reads: its socket is full. */
static ssize_t full_write(struct xs_conn *c, const void *buf, size_t len)
{
	(void)c;
	(void)buf;
	(void)len;
	return 0;
}

START_TEST(output_bound_stops_a_privileged_client_that_never_reads)
{
	struct tconn *w = t_conn(&st, 0, true);
	struct xs_conn_ops never_reads;

	w->c->out_max = 4096;
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/w", "tok", NULL), 0);
	never_reads = *w->c->ops;
	never_reads.write = full_write;
	w->c->ops = &never_reads;
	/* w never reads: its events pile up to the bound, not past it */
	fire_events(500);
	ck_assert(w->c->overflow);
	ck_assert_uint_le(w->c->out_bytes, 4096);
	t_free(w);
}
END_TEST

START_TEST(output_bound_counts_only_what_the_client_did_not_take)
{
	struct tconn *w = t_conn(&st, 0, true);

	/* a client whose socket takes everything is never past the bound,
	 * however many events it is sent */
	w->c->out_max = 4096;
	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/w", "tok", NULL), 0);
	fire_events(500);
	ck_assert(!w->c->overflow);
	ck_assert_uint_gt(w->out.len, 4096 * 2);
	t_free(w);
}
END_TEST

START_TEST(output_bound_zero_leaves_a_privileged_client_unbounded)
{
	struct tconn *w = t_conn(&st, 0, true);

	ck_assert_int_eq(t_strs(w, XS_WATCH, 0, "/w", "tok", NULL), 0);
	fire_events(500);
	ck_assert(!w->c->overflow);
	ck_assert_uint_gt(w->c->out_bytes, 4096);
	t_free(w);
}
END_TEST

START_TEST(output_bound_stalls_reading_replies_not_read)
{
	struct tconn *r = t_conn(&st, 0, true);

	r->c->out_max = 40; /* a reply is 16 bytes: 3 pass it */
	queue_reads(r, 6);
	ck_assert_int_eq(xs_conn_input(r->c), 0);
	ck_assert_uint_lt(r->c->nreq, 6);
	ck_assert(!r->c->overflow); /* replies stall it, never drop it */
	xs_conn_flush(r->c);
	ck_assert_int_eq(xs_conn_input(r->c), 0);
	xs_conn_flush(r->c);
	ck_assert_int_eq(xs_conn_input(r->c), 0);
	ck_assert_uint_eq(r->c->nreq, 6);
	t_free(r);
}
END_TEST

START_TEST(readonly_connection_reads_and_watches_only)
{
	struct tconn *ro = t_conn(&st, 0, true);
	int tx;

	ro->c->readonly = true;
	ck_assert_int_eq(t_write(a, 0, "/ro/x", "1"), 0);
	ck_assert_int_eq(t_strs(ro, XS_READ, 0, "/ro/x", NULL), 0);
	ck_assert_int_eq(t_strs(ro, XS_DIRECTORY, 0, "/ro", NULL), 0);
	ck_assert_int_eq(t_strs(ro, XS_GET_PERMS, 0, "/ro/x", NULL), 0);
	ck_assert_int_eq(t_strs(ro, XS_WATCH, 0, "/ro", "t", NULL), 0);
	ck_assert_int_eq(t_write(ro, 0, "/ro/x", "2"), -EACCES);
	ck_assert_int_eq(t_write(ro, 0, "/ro/new", "2"), -EACCES);
	ck_assert_int_eq(t_strs(ro, XS_MKDIR, 0, "/ro/d", NULL), -EACCES);
	ck_assert_int_eq(t_strs(ro, XS_RM, 0, "/ro/x", NULL), -EACCES);
	ck_assert_int_eq(t_strs(ro, XS_SET_PERMS, 0, "/ro/x", "n0", NULL),
			 -EACCES);
	ck_assert_int_eq(t_strs(ro, XS_INTRODUCE, 0, "9", "1", "2", NULL),
			 -EACCES);
	ck_assert_int_eq(t_strs(ro, XS_RELEASE, 0, "5", NULL), -EACCES);
	ck_assert_int_eq(t_strs(ro, XS_CONTROL, 0, "quota", NULL), -EACCES);
	/* a transaction: reads fine, writes refused, ends cleanly */
	ck_assert_int_eq(t_strs(ro, XS_TRANSACTION_START, 0, "", NULL), 0);
	tx = atoi(ro->reply.p);
	ck_assert_int_eq(t_strs(ro, XS_READ, (uint32_t)tx, "/ro/x", NULL), 0);
	ck_assert_int_eq(t_write(ro, (uint32_t)tx, "/ro/x", "3"), -EACCES);
	ck_assert_int_eq(t_strs(ro, XS_TRANSACTION_END, (uint32_t)tx, "T", NULL),
			 0);
	ck_assert_int_eq(t_strs(a, XS_READ, 0, "/ro/x", NULL), 0);
	ck_assert_str_eq(a->reply.p, "1");
	t_free(ro);
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

	tc = tcase_create("memory");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, memory_quota_default_is_c_hard_quota);
	tcase_add_test(tc, memory_quota_gives_enomem);
	tcase_add_test(tc, memory_accounting_counts_path_value_perms_children);
	tcase_add_test(tc, control_quota_domid_shows_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket-clients");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
		       output_bound_stops_a_privileged_client_that_never_reads);
	tcase_add_test(tc,
		       output_bound_counts_only_what_the_client_did_not_take);
	tcase_add_test(tc,
		       output_bound_zero_leaves_a_privileged_client_unbounded);
	tcase_add_test(tc, output_bound_stalls_reading_replies_not_read);
	tcase_add_test(tc, readonly_connection_reads_and_watches_only);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(quota_suite)
