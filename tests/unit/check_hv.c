/* check_hv - provider parsing and selection of lib/hv.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "check_main.h"
#include "hv.h"

START_TEST(parses_provider_names)
{
	enum hv_provider p;

	ck_assert_int_eq(hv_parse_provider("loop", &p), 0);
	ck_assert_int_eq(p, HV_PROVIDER_LOOP);
	ck_assert_int_eq(hv_parse_provider("xen", &p), 0);
	ck_assert_int_eq(p, HV_PROVIDER_XEN);
	ck_assert_int_eq(hv_parse_provider("auto", &p), 0);
	ck_assert_int_eq(p, HV_PROVIDER_AUTO);
	ck_assert_int_eq(hv_parse_provider("kvm", &p), -EINVAL);
	ck_assert_int_eq(hv_parse_provider("", &p), -EINVAL);
}
END_TEST

START_TEST(loop_open_without_loophvd_fails_cleanly)
{
	struct hv_open_opts o = { .provider = HV_PROVIDER_LOOP,
				  .run_dir = "/nonexistent/splitdrv-test" };
	struct hv *hv = hv_open(&o);

	ck_assert_ptr_null(hv);
	ck_assert(errno == ENOENT || errno == ECONNREFUSED);
}
END_TEST

static Suite *hv_suite(void)
{
	Suite *s = suite_create("hv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parses_provider_names);
	tcase_add_test(tc, loop_open_without_loophvd_fails_cleanly);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hv_suite)
