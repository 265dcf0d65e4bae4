/* check_xs_txn.c - transactions: isolation, own writes, abort, and the
 * conflict matrix (what a concurrent change does to a commit). */
#include "config.h"

#include "check_main.h"
#include "xenstored/mem-conn.h"

static struct xs_store st;
static struct tconn *a, *b;

static void setup(void)
{
	ck_assert_int_eq(xs_store_init(&st), 0);
	a = t_conn(&st, 0, true);
	b = t_conn(&st, 0, true);
	ck_assert_int_eq(t_write(a, 0, "/m/x", "1"), 0);
	ck_assert_int_eq(t_write(a, 0, "/other", "o"), 0);
}

static void teardown(void)
{
	t_free(a);
	t_free(b);
	xs_store_free(&st);
}

START_TEST(own_writes_visible_inside)
{
	uint32_t tx = t_tx_start(a);
	char v[16];

	ck_assert_uint_ne(tx, 0);
	ck_assert_int_eq(t_write(a, tx, "/m/x", "2"), 0);
	ck_assert_int_eq(t_write(a, tx, "/m/new/deep", "3"), 0);
	ck_assert_int_eq(t_read(a, tx, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "2");
	ck_assert_int_eq(t_read(a, tx, "/m/new/deep", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "3");
	/* outside sees nothing yet */
	ck_assert_int_eq(t_read(b, 0, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(t_read(b, 0, "/m/new", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(t_read(b, 0, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "2");
	ck_assert_int_eq(t_read(b, 0, "/m/new/deep", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "3");
}
END_TEST

START_TEST(abort_discards_everything)
{
	uint32_t tx = t_tx_start(a);
	char v[16];

	ck_assert_int_eq(t_write(a, tx, "/m/x", "2"), 0);
	ck_assert_int_eq(t_strs(a, XS_RM, tx, "/other", NULL), 0);
	ck_assert_int_eq(t_tx_end(a, tx, false), 0);
	ck_assert_int_eq(t_read(a, 0, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(t_read(a, 0, "/other", v, sizeof(v)), 0);
	/* the id is gone */
	ck_assert_int_eq(t_read(a, tx, "/m/x", v, sizeof(v)), -ENOENT);
}
END_TEST

START_TEST(reads_are_repeatable_and_conflict_at_end)
{
	uint32_t tx = t_tx_start(a);
	char v[16];

	ck_assert_int_eq(t_read(a, tx, "/m/x", v, sizeof(v)), 0);
	ck_assert_int_eq(t_write(b, 0, "/m/x", "B"), 0);
	ck_assert_int_eq(t_read(a, tx, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(t_write(a, tx, "/m/x", "c"), 0);
	ck_assert_int_eq(t_tx_end(a, tx, true), -EAGAIN);
	ck_assert_int_eq(t_read(a, 0, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "B");
}
END_TEST

START_TEST(change_before_first_read_breaks_snapshot)
{
	uint32_t tx = t_tx_start(a);
	char v[16];

	ck_assert_int_eq(t_write(b, 0, "/m/x", "B"), 0);
	/* we read the new value, which was not there when we started */
	ck_assert_int_eq(t_read(a, tx, "/m/x", v, sizeof(v)), 0);
	ck_assert_int_eq(t_tx_end(a, tx, true), -EAGAIN);
}
END_TEST

START_TEST(read_only_transaction_commits)
{
	uint32_t tx = t_tx_start(a);
	char v[16];

	ck_assert_int_eq(t_read(a, tx, "/m/x", v, sizeof(v)), 0);
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY, tx, "/m", NULL), 0);
	ck_assert_int_eq(t_write(b, 0, "/other", "unrelated"), 0);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
}
END_TEST

/* The conflict matrix: what the transaction did x what happened outside. */
enum tx_act {
	T_READ,
	T_WRITE,
	T_RM,
	T_LIST,
	T_READ_ABSENT,
	T_CREATE
};
enum out_act {
	O_WRITE,
	O_RM,
	O_ADD_SIBLING,
	O_WRITE_OTHER,
	O_CREATE_NEW
};

static const struct {
	enum tx_act t;
	enum out_act o;
	int expect;
} matrix[] = {
	{ T_READ, O_WRITE, -EAGAIN },
	{ T_READ, O_RM, -EAGAIN },
	{ T_READ, O_ADD_SIBLING, 0 },
	{ T_READ, O_WRITE_OTHER, 0 },
	{ T_WRITE, O_WRITE, -EAGAIN },
	{ T_WRITE, O_RM, -EAGAIN },
	{ T_WRITE, O_WRITE_OTHER, 0 },
	{ T_RM, O_WRITE, -EAGAIN },
	{ T_RM, O_ADD_SIBLING, -EAGAIN }, /* the parent's children changed */
	{ T_RM, O_WRITE_OTHER, 0 },
	{ T_LIST, O_ADD_SIBLING, -EAGAIN },
	{ T_LIST, O_WRITE, 0 }, /* a child's value: not the list */
	{ T_READ_ABSENT, O_CREATE_NEW, -EAGAIN },
	{ T_READ_ABSENT, O_WRITE_OTHER, 0 },
	{ T_CREATE, O_CREATE_NEW, -EAGAIN },
	{ T_CREATE, O_WRITE, 0 },
};

START_TEST(conflict_matrix)
{
	uint32_t tx = t_tx_start(a);
	char v[16];
	int rc = 0;

	switch (matrix[_i].t) {
	case T_READ:
		rc = t_read(a, tx, "/m/x", v, sizeof(v));
		break;
	case T_WRITE:
		rc = t_write(a, tx, "/m/x", "T");
		break;
	case T_RM:
		rc = t_strs(a, XS_RM, tx, "/m/x", NULL);
		break;
	case T_LIST:
		rc = t_strs(a, XS_DIRECTORY, tx, "/m", NULL);
		break;
	case T_READ_ABSENT:
		rc = t_read(a, tx, "/m/new", v, sizeof(v)) == -ENOENT ? 0 : -1;
		break;
	case T_CREATE:
		rc = t_write(a, tx, "/m/new", "T");
		break;
	}
	ck_assert_int_eq(rc, 0);
	switch (matrix[_i].o) {
	case O_WRITE:
		rc = t_write(b, 0, "/m/x", "O");
		break;
	case O_RM:
		rc = t_strs(b, XS_RM, 0, "/m/x", NULL);
		break;
	case O_ADD_SIBLING:
		rc = t_write(b, 0, "/m/y", "O");
		break;
	case O_WRITE_OTHER:
		rc = t_write(b, 0, "/other", "O");
		break;
	case O_CREATE_NEW:
		rc = t_write(b, 0, "/m/new", "O");
		break;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(t_tx_end(a, tx, true) == matrix[_i].expect,
		      "matrix row %d: tx action %d, outside %d: expected %d",
		      _i, matrix[_i].t, matrix[_i].o, matrix[_i].expect);
}
END_TEST

START_TEST(second_writer_of_same_node_gets_eagain)
{
	uint32_t t1 = t_tx_start(a), t2 = t_tx_start(b);
	char v[16];

	ck_assert_int_eq(t_write(a, t1, "/m/x", "one"), 0);
	ck_assert_int_eq(t_write(b, t2, "/m/x", "two"), 0);
	ck_assert_int_eq(t_tx_end(a, t1, true), 0);
	ck_assert_int_eq(t_tx_end(b, t2, true), -EAGAIN);
	ck_assert_int_eq(t_read(a, 0, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "one");
}
END_TEST

START_TEST(rm_then_recreate_drops_old_children)
{
	uint32_t tx;
	char v[16];

	ck_assert_int_eq(t_write(a, 0, "/m/x/kid", "k"), 0);
	tx = t_tx_start(a);
	ck_assert_int_eq(t_strs(a, XS_RM, tx, "/m/x", NULL), 0);
	ck_assert_int_eq(t_read(a, tx, "/m/x/kid", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_write(a, tx, "/m/x", "fresh"), 0);
	ck_assert_int_eq(t_read(a, tx, "/m/x/kid", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(t_read(a, 0, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "fresh");
	ck_assert_int_eq(t_read(a, 0, "/m/x/kid", v, sizeof(v)), -ENOENT);
}
END_TEST

START_TEST(directory_inside_sees_own_changes)
{
	uint32_t tx = t_tx_start(a);

	ck_assert_int_eq(t_write(a, tx, "/m/y", "1"), 0);
	ck_assert_int_eq(t_strs(a, XS_RM, tx, "/m/x", NULL), 0);
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY, tx, "/m", NULL), 0);
	ck_assert_uint_eq(a->reply.len, 2);
	ck_assert_mem_eq(a->reply.p, "y\0", 2);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY, 0, "/m", NULL), 0);
	ck_assert_mem_eq(a->reply.p, "y\0", 2);
}
END_TEST

START_TEST(unknown_id_is_enoent_and_nesting_is_ebusy)
{
	uint32_t tx;
	char v[16];

	ck_assert_int_eq(t_read(a, 4242, "/m/x", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_tx_end(a, 4242, true), -ENOENT);
	tx = t_tx_start(a);
	ck_assert_int_eq(t_strs(a, XS_TRANSACTION_START, tx, "", NULL), -EBUSY);
	/* another connection cannot use our id */
	ck_assert_int_eq(t_read(b, tx, "/m/x", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_strs(a, XS_TRANSACTION_END, tx, "X", NULL), -EINVAL);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
}
END_TEST

START_TEST(commit_fires_watches_once_per_change)
{
	uint32_t tx;
	char p[64];

	ck_assert_int_eq(t_strs(b, XS_WATCH, 0, "/m", "t", NULL), 0);
	t_drain_events(b);
	tx = t_tx_start(a);
	ck_assert_int_eq(t_write(a, tx, "/m/x", "2"), 0);
	ck_assert_int_eq(t_write(a, tx, "/m/n/deep", "3"), 0);
	ck_assert_int_eq(t_nevents(b), 0);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(t_nevents(b), 2);
	t_event(b, p, sizeof(p), NULL, 0);
	ck_assert_str_eq(p, "/m/n/deep");
	t_event(b, p, sizeof(p), NULL, 0);
	ck_assert_str_eq(p, "/m/x");
}
END_TEST

START_TEST(no_whole_tree_copy)
{
	uint32_t tx;
	char path[32];
	int i;

	for (i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "/big/%d", i);
		ck_assert_int_eq(t_write(a, 0, path, "v"), 0);
	}
	tx = t_tx_start(a);
	ck_assert_int_eq(t_write(a, tx, "/big/7", "w"), 0);
	/* the overlay holds the written node and its parent only */
	ck_assert_uint_le(xs_conn_find_txn(a->c, tx)->nodes.n, 2);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
}
END_TEST


/* The case where the tree keeps a node the transaction removed above and
 * created again untouched below: rm /m, write /m/x (never read before),
 * so /m/x is new in the transaction's view and /m/x/kid of the tree must
 * go with the old /m/x at commit. */
START_TEST(recreated_grandchild_drops_tree_children)
{
	uint32_t tx;
	char v[16];

	ck_assert_int_eq(t_write(a, 0, "/m/x/kid", "k"), 0);
	tx = t_tx_start(a);
	ck_assert_int_eq(t_strs(a, XS_RM, tx, "/m", NULL), 0);
	ck_assert_int_eq(t_write(a, tx, "/m/x", "fresh"), 0);
	ck_assert_int_eq(t_read(a, tx, "/m/x/kid", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(t_read(a, 0, "/m/x", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "fresh");
	ck_assert_int_eq(t_read(a, 0, "/m/x/kid", v, sizeof(v)), -ENOENT);
}
END_TEST

/* Count the names of a DIRECTORY reply; *has: whether name is one. */
static unsigned dir_count(struct tconn *t, const char *name, bool *has)
{
	unsigned n = 0;
	size_t off;

	*has = false;
	for (off = 0; off < t->reply.len; off += strlen(t->reply.p + off) + 1) {
		n++;
		if (strcmp(t->reply.p + off, name) == 0)
			*has = true;
	}
	return n;
}

/* A directory of a thousand (the domains under /local/domain) inside a
 * transaction: its view lists what the transaction added and not what it
 * removed, and the commit applies exactly that. */
START_TEST(many_children_view_and_commit)
{
	char path[32], v[16];
	uint32_t tx;
	bool has;
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/d/%d/name", i);
		ck_assert_int_eq(t_write(a, 0, path, "g"), 0);
	}
	tx = t_tx_start(a);
	for (i = 0; i < 1000; i += 3) {
		snprintf(path, sizeof(path), "/d/%d", i);
		ck_assert_int_eq(t_strs(a, XS_RM, tx, path, NULL), 0);
	}
	ck_assert_int_eq(t_write(a, tx, "/d/new", "n"), 0);
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY, tx, "/d", NULL), 0);
	ck_assert_uint_eq(dir_count(a, "new", &has), 1000 - 334 + 1);
	ck_assert(has);
	ck_assert_int_eq(t_strs(a, XS_DIRECTORY, tx, "/d", NULL), 0);
	dir_count(a, "3", &has);
	ck_assert(!has);
	/* outside: unchanged */
	ck_assert_int_eq(t_strs(b, XS_DIRECTORY, 0, "/d", NULL), 0);
	ck_assert_uint_eq(dir_count(b, "new", &has), 1000);
	ck_assert(!has);
	/* a removed child is gone in the view, its subtree too */
	ck_assert_int_eq(t_read(a, tx, "/d/3/name", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_read(a, tx, "/d/4/name", v, sizeof(v)), 0);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(t_strs(b, XS_DIRECTORY, 0, "/d", NULL), 0);
	ck_assert_uint_eq(dir_count(b, "new", &has), 1000 - 334 + 1);
	ck_assert(has);
	ck_assert_int_eq(t_read(b, 0, "/d/3/name", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_read(b, 0, "/d/999/name", v, sizeof(v)), -ENOENT);
	ck_assert_int_eq(t_read(b, 0, "/d/998/name", v, sizeof(v)), 0);
	/* adding to the big directory keeps every other child */
	tx = t_tx_start(a);
	ck_assert_int_eq(t_write(a, tx, "/d/another", "n"), 0);
	ck_assert_int_eq(t_tx_end(a, tx, true), 0);
	ck_assert_int_eq(t_strs(b, XS_DIRECTORY, 0, "/d", NULL), 0);
	ck_assert_uint_eq(dir_count(b, "another", &has), 1000 - 334 + 2);
	ck_assert(has);
}
END_TEST

static Suite *txn_suite(void)
{
	Suite *s = suite_create("xs_txn");
	TCase *tc = tcase_create("txn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, own_writes_visible_inside);
	tcase_add_test(tc, abort_discards_everything);
	tcase_add_test(tc, reads_are_repeatable_and_conflict_at_end);
	tcase_add_test(tc, change_before_first_read_breaks_snapshot);
	tcase_add_test(tc, read_only_transaction_commits);
	tcase_add_loop_test(tc, conflict_matrix, 0,
			    (int)(sizeof(matrix) / sizeof(matrix[0])));
	tcase_add_test(tc, second_writer_of_same_node_gets_eagain);
	tcase_add_test(tc, rm_then_recreate_drops_old_children);
	tcase_add_test(tc, directory_inside_sees_own_changes);
	tcase_add_test(tc, unknown_id_is_enoent_and_nesting_is_ebusy);
	tcase_add_test(tc, commit_fires_watches_once_per_change);
	tcase_add_test(tc, no_whole_tree_copy);
	tcase_add_test(tc, recreated_grandchild_drops_tree_children);
	tcase_add_test(tc, many_children_view_and_commit);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(txn_suite)
