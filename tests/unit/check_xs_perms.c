/* check_xs_perms.c - permission lists: parse, format, rights. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "check_main.h"
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
	return s;
}

CHECK_MAIN(perms_suite)
