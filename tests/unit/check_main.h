/*
 * check_main.h - the main() of every Check suite: runs the suite, prints
 * TAP on stdout (one line per test case, read by Automake's TAP driver)
 * and exits 0 when every case passed.
 *
 *   static Suite *foo_suite(void) { ... }
 *   CHECK_MAIN(foo_suite)
 *
 * A suite that cannot run here (no root, no kernel feature) calls
 * check_skip_all("reason"), which prints a TAP "1..0 # SKIP reason".
 */
#ifndef SPLITDRV_CHECK_MAIN_H
#define SPLITDRV_CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static inline void check_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

#define CHECK_MAIN(suite_fn)                                            \
	int main(void)                                                  \
	{                                                               \
		SRunner *sr = srunner_create(suite_fn());               \
		int failed;                                             \
		srunner_set_tap(sr, "-");                               \
		srunner_run_all(sr, CK_SILENT);                         \
		failed = srunner_ntests_failed(sr);                     \
		srunner_free(sr);                                       \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;            \
	}

#endif /* SPLITDRV_CHECK_MAIN_H */
