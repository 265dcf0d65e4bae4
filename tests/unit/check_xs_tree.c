/* check_xs_tree.c - the node tree: lookups, listing, removal, generations,
 * accounting. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "xenstored/tree.h"

static const struct xs_perm n0 = { 0, XS_P_NONE };
static const struct xs_perm own5 = { 5, XS_P_READ };

static struct xs_tree t;

static void setup(void)
{
	ck_assert_int_eq(xs_tree_init(&t), 0);
}

static void teardown(void)
{
	xs_tree_free(&t);
}

START_TEST(root_exists_with_n0)
{
	struct xs_node *r = xs_tree_get(&t, "/");

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->nperms, 1);
	ck_assert_uint_eq(r->perms[0].domid, 0);
	ck_assert_uint_eq(r->perms[0].perm, XS_P_NONE);
	ck_assert_uint_eq(t.nnodes, 1);
}
END_TEST

START_TEST(create_needs_parent)
{
	errno = 0;
	ck_assert_ptr_null(xs_tree_create(&t, "/a/b", "x", 1, &n0, 1));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(xs_tree_create(&t, "/a", NULL, 0, &n0, 1));
	ck_assert_ptr_nonnull(xs_tree_create(&t, "/a/b", "x", 1, &n0, 1));
	ck_assert_ptr_null(xs_tree_create(&t, "/a/b", "y", 1, &n0, 1));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_mem_eq(xs_tree_get(&t, "/a/b")->value, "x", 1);
}
END_TEST

START_TEST(children_listed_in_creation_order)
{
	static const char *names[] = { "zeta", "alpha", "mid" };
	struct xs_node *a, *c;
	char p[32];
	int i = 0;

	a = xs_tree_create(&t, "/a", NULL, 0, &n0, 1);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "/a/%s", names[i]);
		xs_tree_create(&t, p, NULL, 0, &n0, 1);
	}
	i = 0;
	TAILQ_FOREACH(c, &a->children, sib)
		ck_assert_str_eq(c->name, names[i++]);
	ck_assert_int_eq(i, 3);
	ck_assert_uint_eq(a->nchildren, 3);
	ck_assert_uint_eq(a->childlen, 5 + 6 + 4);
}
END_TEST

START_TEST(rm_removes_whole_subtree)
{
	xs_tree_create(&t, "/a", NULL, 0, &n0, 1);
	xs_tree_create(&t, "/a/b", NULL, 0, &n0, 1);
	xs_tree_create(&t, "/a/b/c", NULL, 0, &n0, 1);
	xs_tree_create(&t, "/a2", NULL, 0, &n0, 1);
	xs_tree_rm(&t, xs_tree_get(&t, "/a"));
	ck_assert_ptr_null(xs_tree_get(&t, "/a"));
	ck_assert_ptr_null(xs_tree_get(&t, "/a/b/c"));
	ck_assert_ptr_nonnull(xs_tree_get(&t, "/a2"));
	ck_assert_uint_eq(t.nnodes, 2);
	ck_assert_uint_eq(xs_tree_get(&t, "/")->nchildren, 1);
}
END_TEST

START_TEST(generation_moves_on_value_perms_and_children)
{
	struct xs_node *a = xs_tree_create(&t, "/a", NULL, 0, &n0, 1);
	uint64_t g = a->gen;

	xs_tree_set_value(&t, a, "v", 1);
	ck_assert_uint_gt(a->gen, g);
	g = a->gen;
	xs_tree_set_perms(&t, a, &own5, 1);
	ck_assert_uint_gt(a->gen, g);
	g = a->gen;
	xs_tree_create(&t, "/a/c", NULL, 0, &n0, 1);
	ck_assert_uint_gt(a->gen, g);
	g = a->gen;
	xs_tree_rm(&t, xs_tree_get(&t, "/a/c"));
	ck_assert_uint_gt(a->gen, g);
	ck_assert_uint_eq(t.gen, a->gen);
}
END_TEST

START_TEST(nearest_finds_deepest_existing)
{
	xs_tree_create(&t, "/a", NULL, 0, &n0, 1);
	xs_tree_create(&t, "/a/b", NULL, 0, &n0, 1);
	ck_assert_str_eq(xs_tree_nearest(&t, "/a/b/c/d")->path, "/a/b");
	ck_assert_str_eq(xs_tree_nearest(&t, "/x/y")->path, "/");
	ck_assert_str_eq(xs_tree_nearest(&t, "/a/b")->path, "/a/b");
}
END_TEST

START_TEST(owner_accounting_follows_perms)
{
	struct xs_node *a;

	a = xs_tree_create(&t, "/a", NULL, 0, &own5, 1);
	xs_tree_create(&t, "/a/b", NULL, 0, &own5, 1);
	ck_assert_uint_eq(xs_tree_owned(&t, 5), 2);
	xs_tree_set_perms(&t, a, &n0, 1);
	ck_assert_uint_eq(xs_tree_owned(&t, 5), 1);
	xs_tree_rm(&t, a);
	ck_assert_uint_eq(xs_tree_owned(&t, 5), 0);
	ck_assert_uint_eq(xs_tree_owned(&t, 0), 1);
}
END_TEST


static unsigned own_len(uint32_t domid)
{
	const struct xs_tree_dom *d = xs_tree_dom(&t, domid);
	const struct xs_node *n;
	unsigned k = 0;

	if (d)
		TAILQ_FOREACH(n, &d->own, own_link)
			k++;
	return k;
}

static unsigned listed_len(uint32_t domid)
{
	const struct xs_tree_dom *d = xs_tree_dom(&t, domid);
	const struct xs_node_ref *r;
	unsigned k = 0;

	if (d)
		TAILQ_FOREACH(r, &d->listed, link)
			k++;
	return k;
}

/* The domain index that a release walks instead of the tree: a node is
 * on its owner's list and on the list of each other domain its perms
 * name (once, however often named), follows SET_PERMS, leaves on
 * removal; an unused domain has no record. */
START_TEST(domain_index_follows_perms_and_removal)
{
	const struct xs_perm p5r7[] = { { 5, XS_P_NONE },
					{ 7, XS_P_READ },
					{ 7, XS_P_WRITE },
					{ 0, XS_P_READ } };
	const struct xs_perm p0r5[] = { { 0, XS_P_NONE }, { 5, XS_P_READ } };
	struct xs_node *a, *b;

	a = xs_tree_create(&t, "/a", NULL, 0, p5r7, 4);
	b = xs_tree_create(&t, "/a/b", NULL, 0, p0r5, 2);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(own_len(5), 1);
	ck_assert_uint_eq(listed_len(5), 1);
	ck_assert_uint_eq(listed_len(7), 1); /* named twice, listed once */
	ck_assert_uint_eq(listed_len(0), 0); /* dom0: counted only */
	ck_assert_uint_eq(own_len(0), 0);
	ck_assert_uint_eq(xs_tree_owned(&t, 0), 2);
	ck_assert_uint_eq(a->nrefs, 1);
	/* SET_PERMS moves it */
	ck_assert_int_eq(xs_tree_set_perms(&t, a, p0r5, 2), 0);
	ck_assert_uint_eq(own_len(5), 0);
	ck_assert_uint_eq(listed_len(5), 2);
	ck_assert_ptr_null(xs_tree_dom(&t, 7));
	ck_assert_int_eq(xs_tree_set_perms(&t, b, &own5, 1), 0);
	ck_assert_uint_eq(own_len(5), 1);
	ck_assert_uint_eq(listed_len(5), 1);
	/* removal takes the subtree out */
	xs_tree_rm(&t, a);
	ck_assert_ptr_null(xs_tree_dom(&t, 5));
	ck_assert_uint_eq(xs_tree_owned(&t, 0), 1);
}
END_TEST

static int count_cb(const struct xs_node *n, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(many_children_lookup_and_walk)
{
	char p[32];
	int i, n = 0;

	xs_tree_create(&t, "/d", NULL, 0, &n0, 1);
	for (i = 0; i < 5000; i++) {
		snprintf(p, sizeof(p), "/d/%d", i);
		ck_assert_ptr_nonnull(
			xs_tree_create(&t, p, p, (uint32_t)strlen(p), &n0, 1));
	}
	ck_assert_ptr_nonnull(xs_tree_get(&t, "/d/4999"));
	xs_tree_walk(t.root, count_cb, &n);
	ck_assert_int_eq(n, 5002);
	ck_assert_uint_eq(t.paths.n, 5002);
}
END_TEST

static Suite *tree_suite(void)
{
	Suite *s = suite_create("xs_tree");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, root_exists_with_n0);
	tcase_add_test(tc, create_needs_parent);
	tcase_add_test(tc, children_listed_in_creation_order);
	tcase_add_test(tc, rm_removes_whole_subtree);
	tcase_add_test(tc, generation_moves_on_value_perms_and_children);
	tcase_add_test(tc, nearest_finds_deepest_existing);
	tcase_add_test(tc, owner_accounting_follows_perms);
	tcase_add_test(tc, many_children_lookup_and_walk);
	tcase_add_test(tc, domain_index_follows_perms_and_removal);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tree_suite)
