/*
 * check_main.h - the main() of every Check suite: runs the suite, prints
 * TAP on stdout (one line per test case, read by Automake's TAP driver)
 * and exits 0 when no case failed.
 *
 *   static Suite *foo_suite(void) { ... }
 *   CHECK_MAIN(foo_suite)
 *
 * Skips.  A suite that cannot run here at all (no root, no kernel
 * feature) calls check_skip_all("reason") before creating its runner;
 * that prints a TAP "1..0 # SKIP reason" and the whole test counts as
 * one skip.
 *
 * A single case that cannot run here calls, in its START_TEST body,
 *
 *	check_skip("no loop device: %s", strerror(errno));
 *
 * which records the reason and returns from the case (so its checked
 * teardown still runs).  The case stays in the plan and its TAP line
 * reads "ok N - file:tcase:name: skipped # SKIP reason": Automake's TAP
 * driver counts it under SKIP, not PASS, in the summary and in
 * test-suite.log, and the runner ends with a "# N passed, N skipped,
 * N failed" line.  The exit status stays 0 for skips (a TAP test's
 * status only says whether it failed); skips never hide a failure.
 *
 * How a skip is matched to its case: Check has no skip of its own, so
 * the runner collects Check's TAP in a temporary file and rewrites it.
 * check_skip() sets Check's checkpoint (mark_point) to its own line and
 * appends "file line reason" to a file shared with the forked cases; a
 * passed case whose last checkpoint is that line skipped there.  A skip
 * record no passed case claims (check_skip() called from a helper whose
 * caller then went on) is reported and fails the suite: use it only in
 * the test body, before the case has asserted anything it would then
 * leave unchecked.
 */
#ifndef SPLITDRV_CHECK_MAIN_H
#define SPLITDRV_CHECK_MAIN_H

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void check_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(0);
}

/* The skip records: one "file\tline\treason\n" per skipped case, appended
 * by the (forked) cases and read back by the runner. */
static int check_skip_fd = -1;

static inline __attribute__((format(printf, 3, 4))) void
check_skip_note(const char *file, int line, const char *fmt, ...)
{
	char rec[512];
	va_list ap;
	int n, m;

	n = snprintf(rec, sizeof(rec), "%s\t%d\t", file, line);
	va_start(ap, fmt);
	m = vsnprintf(rec + n, sizeof(rec) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m < (int)sizeof(rec) - n - 1 ? m : (int)sizeof(rec) - n - 2;
	for (int i = 0; i < n; i++)
		if (rec[i] == '\n' || rec[i] == '#')
			rec[i] = ' ';
	rec[n++] = '\n';
	if (check_skip_fd < 0 || write(check_skip_fd, rec, n) != n)
		ck_abort_msg("check_skip: cannot record the skip");
	_mark_point(file, line);
}

/* Skip the current case with a reason; returns from the test body. */
#define check_skip(...)                                                        \
	do {                                                                   \
		check_skip_note(__FILE__, __LINE__, __VA_ARGS__);              \
		return;                                                        \
	} while (0)

struct check_skip_rec {
	char file[256];
	int line;
	char why[256];
	int used;
};

/* Read the skip records back; *n of them. */
static inline struct check_skip_rec *check_skip_load(int *n)
{
	struct check_skip_rec *r = NULL;
	char buf[600];
	FILE *f;

	*n = 0;
	if (lseek(check_skip_fd, 0, SEEK_SET) < 0)
		return NULL;
	f = fdopen(dup(check_skip_fd), "r");
	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f)) {
		char *t1 = strchr(buf, '\t'), *t2, *nl;
		struct check_skip_rec *x;

		if (!t1 || !(t2 = strchr(t1 + 1, '\t')))
			continue;
		*t1 = *t2 = 0;
		if ((nl = strchr(t2 + 1, '\n')))
			*nl = 0;
		x = realloc(r, (*n + 1) * sizeof(*r));
		if (!x)
			break;
		r = x;
		x = &r[(*n)++];
		snprintf(x->file, sizeof(x->file), "%.255s", buf);
		x->line = atoi(t1 + 1);
		snprintf(x->why, sizeof(x->why), "%.255s", t2 + 1);
		x->used = 0;
	}
	fclose(f);
	return r;
}

/* The skip that a passed result claims, or NULL. */
static inline struct check_skip_rec *check_skip_claim(struct check_skip_rec *r,
						      int n, TestResult *tr)
{
	const char *file = tr_lfile(tr);

	if (tr_rtype(tr) != CK_PASS || !file)
		return NULL;
	for (int i = 0; i < n; i++)
		if (!r[i].used && r[i].line == tr_lno(tr) &&
		    strcmp(r[i].file, file) == 0) {
			r[i].used = 1;
			return &r[i];
		}
	return NULL;
}

/* Run sr with Check's TAP in a temporary file, then print that TAP with
 * the skipped cases marked.  Returns the exit status. */
static inline int check_run(SRunner *sr)
{
	char tap[] = "/tmp/check-tap-XXXXXX";
	struct check_skip_rec *skips;
	TestResult **res;
	int tfd, nres, nskips, passed = 0, skipped = 0, failed = 0;
	int stray = 0, i = 0;
	char line[4096];
	FILE *f;

	FILE *sf = tmpfile();
	tfd = mkstemp(tap);
	if (!sf || tfd < 0) {
		printf("Bail out! check_run: temporary files\n");
		return EXIT_FAILURE;
	}
	check_skip_fd = fileno(sf);
	fcntl(check_skip_fd, F_SETFL, O_APPEND);
	/* our file, not $CK_TAP_LOG_FILE_NAME */
	unsetenv("CK_TAP_LOG_FILE_NAME");
	srunner_set_tap(sr, tap);
	srunner_run_all(sr, CK_SILENT);
	fflush(stdout);

	res = srunner_results(sr);
	nres = srunner_ntests_run(sr);
	skips = check_skip_load(&nskips);
	f = fdopen(tfd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		struct check_skip_rec *s;
		size_t len = strcspn(line, "\n");

		line[len] = 0;
		if (strncmp(line, "ok ", 3) != 0 &&
		    strncmp(line, "not ok ", 7) != 0) {
			printf("%s\n", line);
			continue;
		}
		s = i < nres ? check_skip_claim(skips, nskips, res[i]) : NULL;
		if (s) {
			char *p = strstr(line, ": Passed");

			if (p && p[8] == 0)
				*p = 0;
			printf("%s: skipped # SKIP %s\n", line, s->why);
			skipped++;
		} else {
			printf("%s\n", line);
			if (line[0] == 'o')
				passed++;
			else
				failed++;
		}
		i++;
	}
	for (int k = 0; k < nskips; k++)
		if (!skips[k].used) {
			printf("# check_skip at %s:%d (%s) matched no passed "
			       "case: call it only from a test body\n",
			       skips[k].file, skips[k].line, skips[k].why);
			stray++;
		}
	printf("# %d passed, %d skipped, %d failed\n", passed, skipped, failed);
	if (f)
		fclose(f);
	unlink(tap);
	fclose(sf);
	free(skips);
	free(res);
	if (i != nres) {
		printf("# check_run: %d TAP lines for %d cases\n", i, nres);
		failed++;
	}
	return failed || stray ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define CHECK_MAIN(suite_fn)                                                   \
	int main(void)                                                         \
	{                                                                      \
		SRunner *sr = srunner_create(suite_fn());                      \
		int rc = check_run(sr);                                        \
		srunner_free(sr);                                              \
		return rc;                                                     \
	}

#endif /* SPLITDRV_CHECK_MAIN_H */
