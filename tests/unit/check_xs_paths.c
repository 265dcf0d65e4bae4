/* check_xs_paths.c - path canonicalisation and validation. */
#include "config.h"

#include "check_main.h"
#include "xenstored/mem-conn.h"

static struct xs_store st;
static char out[XENSTORE_ABS_PATH_MAX + 2];

static void setup(void)
{
	ck_assert_int_eq(xs_store_init(&st), 0);
}

static void teardown(void)
{
	xs_store_free(&st);
}

START_TEST(relative_resolves_under_domain_path)
{
	size_t strip;

	ck_assert_int_eq(xs_canonicalize(&st, 7, "device/vbd", false, out,
					 &strip),
			 0);
	ck_assert_str_eq(out, "/local/domain/7/device/vbd");
	ck_assert_uint_eq(strip, strlen("/local/domain/7/"));
}
END_TEST

START_TEST(absolute_kept_as_is)
{
	size_t strip = 99;

	ck_assert_int_eq(xs_canonicalize(&st, 7, "/a/b_c-D@9", false, out,
					 &strip),
			 0);
	ck_assert_str_eq(out, "/a/b_c-D@9");
	ck_assert_uint_eq(strip, 0);
	ck_assert_int_eq(xs_canonicalize(&st, 0, "/", false, out, NULL), 0);
}
END_TEST

START_TEST(rejects_malformed)
{
	ck_assert_int_eq(xs_canonicalize(&st, 0, "/a/", false, out, NULL),
			 -EINVAL);
	ck_assert_int_eq(xs_canonicalize(&st, 0, "/a//b", false, out, NULL),
			 -EINVAL);
	ck_assert_int_eq(xs_canonicalize(&st, 0, "/a b", false, out, NULL),
			 -EINVAL);
	ck_assert_int_eq(xs_canonicalize(&st, 0, "/a.b", false, out, NULL),
			 -EINVAL);
	ck_assert_int_eq(xs_canonicalize(&st, 0, "", false, out, NULL), -EINVAL);
	ck_assert_int_eq(xs_canonicalize(&st, 0, "/\xc3\xa9", false, out, NULL),
			 -EINVAL);
}
END_TEST

START_TEST(special_names_only_where_allowed)
{
	ck_assert_int_eq(xs_canonicalize(&st, 0, "@releaseDomain", false, out,
					 NULL),
			 -EINVAL);
	ck_assert_int_eq(xs_canonicalize(&st, 0, "@releaseDomain", true, out,
					 NULL),
			 0);
	ck_assert_str_eq(out, "@releaseDomain");
}
END_TEST

START_TEST(path_length_limits)
{
	char *p = malloc(XENSTORE_ABS_PATH_MAX + 10);

	/* an absolute path over XENSTORE_ABS_PATH_MAX */
	p[0] = '/';
	memset(p + 1, 'a', XENSTORE_ABS_PATH_MAX);
	p[XENSTORE_ABS_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(xs_canonicalize(&st, 0, p, false, out, NULL), -EINVAL);
	/* a path outside /local/domain over path-max (2048) */
	p[XENSTORE_REL_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(xs_canonicalize(&st, 0, p, false, out, NULL), -EINVAL);
	p[XENSTORE_REL_PATH_MAX] = '\0';
	ck_assert_int_eq(xs_canonicalize(&st, 0, p, false, out, NULL), 0);
	/* relative: counted below /local/domain/<id>/ */
	memset(p, 'b', XENSTORE_REL_PATH_MAX);
	p[XENSTORE_REL_PATH_MAX] = '\0';
	ck_assert_int_eq(xs_canonicalize(&st, 3, p, false, out, NULL), 0);
	p[XENSTORE_REL_PATH_MAX] = 'b';
	p[XENSTORE_REL_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(xs_canonicalize(&st, 3, p, false, out, NULL), -EINVAL);
	free(p);
}
END_TEST

START_TEST(get_domain_path_names_local_domain)
{
	struct tconn *a = t_conn(&st, 0, true);

	ck_assert_int_eq(t_strs(a, XS_GET_DOMAIN_PATH, 0, "12", NULL), 0);
	ck_assert_str_eq(a->reply.p, "/local/domain/12");
	ck_assert_int_eq(t_strs(a, XS_GET_DOMAIN_PATH, 0, "x", NULL), -EINVAL);
	t_free(a);
}
END_TEST

START_TEST(relative_write_lands_in_domain_dir)
{
	struct tconn *a = t_conn(&st, 0, true);
	char v[16];

	ck_assert_int_eq(t_write(a, 0, "name", "dom0"), 0);
	ck_assert_int_eq(t_read(a, 0, "/local/domain/0/name", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "dom0");
	t_free(a);
}
END_TEST

static Suite *paths_suite(void)
{
	Suite *s = suite_create("xs_paths");
	TCase *tc = tcase_create("paths");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, relative_resolves_under_domain_path);
	tcase_add_test(tc, absolute_kept_as_is);
	tcase_add_test(tc, rejects_malformed);
	tcase_add_test(tc, special_names_only_where_allowed);
	tcase_add_test(tc, path_length_limits);
	tcase_add_test(tc, get_domain_path_names_local_domain);
	tcase_add_test(tc, relative_write_lands_in_domain_dir);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(paths_suite)
