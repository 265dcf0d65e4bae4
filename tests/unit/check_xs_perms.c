/* check_xs_perms.c - permission lists: parse, format, rights. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "xenstored/mem-conn.h"
#include "xs-wire-compat.h"
#include "xenstored/perms.h"
#include "xenstored/util.h"

START_TEST(parses_all_letters)
{
	static const char s[] = "n0\0r5\0w6\0b65535";
	struct xs_perm p[4];

	ck_assert_int_eq(xs_perms_parse(s, sizeof(s), 4, p), 0);
	ck_assert_uint_eq(p[0].perm, XS_P_NONE);
	ck_assert_uint_eq(p[1].perm, XS_P_READ);
	ck_assert_uint_eq(p[1].domid, 5);
	ck_assert_uint_eq(p[2].perm, XS_P_WRITE);
	ck_assert_uint_eq(p[3].perm, XS_P_READ | XS_P_WRITE);
	ck_assert_uint_eq(p[3].domid, 65535);
}
END_TEST

START_TEST(rejects_bad_entries)
{
	struct xs_perm p[1];

	ck_assert_int_eq(xs_perms_parse("x1", 3, 1, p), -EINVAL);
	ck_assert_int_eq(xs_perms_parse("r", 2, 1, p), -EINVAL);
	ck_assert_int_eq(xs_perms_parse("r1a", 4, 1, p), -EINVAL);
	ck_assert_int_eq(xs_perms_parse("r65536", 7, 1, p), -EINVAL);
	ck_assert_int_eq(xs_perms_parse("r-1", 4, 1, p), -EINVAL);
	/* not terminated within the payload */
	ck_assert_int_eq(xs_perms_parse("r12", 3, 1, p), -EINVAL);
	/* asks for more entries than there are */
	ck_assert_int_eq(xs_perms_parse("r1", 3, 2, (struct xs_perm[2]){ 0 }),
			 -EINVAL);
}
END_TEST

START_TEST(formats_as_wire_strings)
{
	struct xs_perm p[] = { { 0, XS_P_NONE },
			       { 5, XS_P_READ },
			       { 7, XS_P_READ | XS_P_WRITE } };
	struct xs_buf b = { 0 };

	ck_assert_int_eq(xs_perms_format(&b, p, 3), 0);
	ck_assert_uint_eq(b.len, 9);
	ck_assert_mem_eq(b.p, "n0\0r5\0b7\0", 9);
	xs_buf_free(&b);
}
END_TEST

START_TEST(owner_and_privileged_get_everything)
{
	struct xs_perm p[] = { { 5, XS_P_NONE } };
	unsigned all = XS_P_READ | XS_P_WRITE | XS_P_OWNER;

	ck_assert_uint_eq(xs_perms_for(p, 1, 5, false, -1), all);
	ck_assert_uint_eq(xs_perms_for(p, 1, 9, true, -1), all);
	ck_assert_uint_eq(xs_perms_for(p, 1, 9, false, -1), XS_P_NONE);
}
END_TEST

START_TEST(listed_domain_gets_its_entry_else_default)
{
	struct xs_perm p[] = { { 5, XS_P_READ },
			       { 7, XS_P_WRITE },
			       { 8, XS_P_NONE } };

	ck_assert_uint_eq(xs_perms_for(p, 3, 7, false, -1), XS_P_WRITE);
	ck_assert_uint_eq(xs_perms_for(p, 3, 8, false, -1), XS_P_NONE);
	ck_assert_uint_eq(xs_perms_for(p, 3, 9, false, -1), XS_P_READ);
}
END_TEST

START_TEST(target_acts_as_its_guest)
{
	struct xs_perm owned[] = { { 5, XS_P_NONE } };
	struct xs_perm listed[] = { { 0, XS_P_NONE }, { 5, XS_P_READ } };

	/* domain 3 is a device model with target 5 */
	ck_assert_uint_eq(xs_perms_for(owned, 1, 3, false, 5),
			  XS_P_READ | XS_P_WRITE | XS_P_OWNER);
	ck_assert_uint_eq(xs_perms_for(listed, 2, 3, false, 5), XS_P_READ);
	ck_assert_uint_eq(xs_perms_for(listed, 2, 3, false, -1), XS_P_NONE);
}
END_TEST

/*
 * A released domain's id must give its successor nothing (XSA-322 class):
 * domain 6 lets domain 5 read its node, domain 5 goes, a new domain gets
 * id 5. dom0 is "a", guest 6 is "g6", the old and new domain 5 "g5".
 */
static struct xs_store dst;
static struct tconn *a, *g6;

static void introduce(uint32_t domid)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", domid);
	ck_assert_int_eq(t_strs(a, XS_INTRODUCE, 0, id, "100", "7", NULL), 0);
}

static void release(uint32_t domid)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", domid);
	ck_assert_int_eq(t_strs(a, XS_RELEASE, 0, id, NULL), 0);
}

static void dead_setup(void)
{
	ck_assert_int_eq(xs_store_init(&dst), 0);
	a = t_conn(&dst, 0, true);
	g6 = t_conn(&dst, 6, false);
	introduce(5);
	introduce(6);
	ck_assert_int_eq(t_write(a, 0, "/local/domain/6", ""), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/6", "n6",
				NULL),
			 0);
}

static void dead_teardown(void)
{
	t_free(a);
	t_free(g6);
	xs_store_free(&dst);
}

/* The new domain 5 reading path: 0 or -errno. */
static int successor_reads(const char *path)
{
	struct tconn *g5 = t_conn(&dst, 5, false);
	char v[64];
	int rc = t_read(g5, 0, path, v, sizeof(v));

	t_free(g5);
	return rc;
}

START_TEST(released_domains_acl_entry_gives_successor_nothing)
{
	struct tconn *g5 = t_conn(&dst, 5, false);
	char v[16];

	ck_assert_int_eq(t_write(g6, 0, "/local/domain/6/secret", "s"), 0);
	ck_assert_int_eq(t_strs(g6, XS_SET_PERMS, 0, "/local/domain/6/secret",
				"n6", "r5", NULL),
			 0);
	ck_assert_int_eq(t_read(g5, 0, "/local/domain/6/secret", v, sizeof(v)),
			 0);
	t_free(g5);
	release(5);
	introduce(5);
	ck_assert_int_eq(successor_reads("/local/domain/6/secret"), -EACCES);
	ck_assert_int_eq(t_strs(a, XS_GET_PERMS, 0, "/local/domain/6/secret",
				NULL),
			 0);
	ck_assert_uint_eq(a->reply.len, 3);
	ck_assert_mem_eq(a->reply.p, "n6\0", 3);
}
END_TEST

START_TEST(dead_domains_acl_entry_gives_successor_nothing)
{
	ck_assert_int_eq(t_write(g6, 0, "/local/domain/6/secret", "s"), 0);
	ck_assert_int_eq(t_strs(g6, XS_SET_PERMS, 0, "/local/domain/6/secret",
				"n6", "b5", NULL),
			 0);
	xs_domain_died(&dst, 5);
	introduce(5);
	ck_assert_int_eq(successor_reads("/local/domain/6/secret"), -EACCES);
}
END_TEST

START_TEST(released_domains_nodes_are_not_inherited)
{
	ck_assert_int_eq(t_write(a, 0, "/local/domain/6/for5", "s"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, 0, "/local/domain/6/for5",
				"n5", NULL),
			 0);
	release(5);
	introduce(5);
	ck_assert_int_ne(successor_reads("/local/domain/6/for5"), 0);
	ck_assert_int_eq(t_strs(a, XS_READ, 0, "/local/domain/6/for5", NULL),
			 -ENOENT);
}
END_TEST

/* An open transaction that names the dead domain must not bring it back. */
START_TEST(transaction_naming_released_domain_does_not_commit_it)
{
	uint32_t tx6, tx0;
	int rc6, rc0;

	ck_assert_int_eq(t_write(g6, 0, "/local/domain/6/secret", "s"), 0);
	tx6 = t_tx_start(g6);
	ck_assert_int_eq(t_strs(g6, XS_SET_PERMS, tx6, "/local/domain/6/secret",
				"n6", "r5", NULL),
			 0);
	tx0 = t_tx_start(a);
	ck_assert_int_eq(t_write(a, tx0, "/local/domain/6/own5", "x"), 0);
	ck_assert_int_eq(t_strs(a, XS_SET_PERMS, tx0, "/local/domain/6/own5",
				"n5", NULL),
			 0);
	release(5);
	introduce(5);
	rc6 = t_tx_end(g6, tx6, true);
	rc0 = t_tx_end(a, tx0, true);
	ck_assert(rc6 == 0 || rc6 == -EAGAIN);
	ck_assert(rc0 == 0 || rc0 == -EAGAIN);
	ck_assert_int_eq(successor_reads("/local/domain/6/secret"), -EACCES);
	ck_assert_int_ne(successor_reads("/local/domain/6/own5"), 0);
}
END_TEST

/* A device model whose target died does not act for the successor. */
START_TEST(target_of_released_domain_is_cleared)
{
	introduce(3);
	ck_assert_int_eq(t_strs(a, XS_SET_TARGET, 0, "3", "5", NULL), 0);
	release(5);
	introduce(5);
	ck_assert_int_eq(xs_domain_find(&dst, 3)->target, -1);
}
END_TEST

START_TEST(domid_any_entry_matches_every_domain)
{
	struct xs_perm p[] = { { 0, XS_P_NONE },
			       { 7, XS_P_NONE },
			       { DOMID_ANY, XS_P_READ } };
	struct xs_perm owner_any[] = { { DOMID_ANY, XS_P_NONE } };

	/* the first entry naming the caller applies: 7's, then ANY's */
	ck_assert_uint_eq(xs_perms_for(p, 3, 7, false, -1), XS_P_NONE);
	ck_assert_uint_eq(xs_perms_for(p, 3, 9, false, -1), XS_P_READ);
	ck_assert_uint_eq(xs_perms_for(p, 2, 9, false, -1), XS_P_NONE);
	/* an owner of DOMID_ANY: every domain owns it (as C xenstored) */
	ck_assert_uint_eq(xs_perms_for(owner_any, 1, 9, false, -1),
			  XS_P_READ | XS_P_WRITE | XS_P_OWNER);
}
END_TEST

START_TEST(domid_any_parses_and_formats)
{
	struct xs_perm p[1];
	struct xs_buf b = { 0 };

	ck_assert_int_eq(xs_perms_parse("r32757", 7, 1, p), 0);
	ck_assert_uint_eq(p[0].domid, DOMID_ANY);
	ck_assert_int_eq(xs_perms_format(&b, p, 1), 0);
	ck_assert_str_eq(b.p, "r32757");
	xs_buf_free(&b);
}
END_TEST

static Suite *perms_suite(void)
{
	Suite *s = suite_create("xs_perms");
	TCase *tc = tcase_create("perms");

	tcase_add_test(tc, parses_all_letters);
	tcase_add_test(tc, rejects_bad_entries);
	tcase_add_test(tc, formats_as_wire_strings);
	tcase_add_test(tc, owner_and_privileged_get_everything);
	tcase_add_test(tc, listed_domain_gets_its_entry_else_default);
	tcase_add_test(tc, target_acts_as_its_guest);
	tcase_add_test(tc, domid_any_entry_matches_every_domain);
	tcase_add_test(tc, domid_any_parses_and_formats);
	suite_add_tcase(s, tc);
	tc = tcase_create("dead_domain");
	tcase_add_checked_fixture(tc, dead_setup, dead_teardown);
	tcase_add_test(tc, released_domains_acl_entry_gives_successor_nothing);
	tcase_add_test(tc, dead_domains_acl_entry_gives_successor_nothing);
	tcase_add_test(tc, released_domains_nodes_are_not_inherited);
	tcase_add_test(tc,
		       transaction_naming_released_domain_does_not_commit_it);
	tcase_add_test(tc, target_of_released_domain_is_cleared);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(perms_suite)
