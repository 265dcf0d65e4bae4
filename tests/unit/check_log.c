/* check_log - lib/log.c: levels, the stderr line format, the rate limiter. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "log.h"

/* stderr captured into a pipe between capture_begin() and capture_end(). */
static int cap_pipe[2] = { -1, -1 };
static int cap_saved = -1;
static char cap_buf[65536];

static void capture_begin(void)
{
	ck_assert_int_eq(pipe(cap_pipe), 0);
	cap_saved = dup(STDERR_FILENO);
	ck_assert_int_ge(cap_saved, 0);
	ck_assert_int_ge(dup2(cap_pipe[1], STDERR_FILENO), 0);
	close(cap_pipe[1]);
}

static const char *capture_end(void)
{
	size_t off = 0;
	ssize_t n;

	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	while ((n = read(cap_pipe[0], cap_buf + off,
			 sizeof(cap_buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(cap_pipe[0]);
	cap_buf[off] = '\0';
	return cap_buf;
}

static void assert_matches(const char *s, const char *re)
{
	regex_t rx;

	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&rx, s, 0, NULL, 0) == 0,
		      "'%s' does not match /%s/", s, re);
	regfree(&rx);
}

START_TEST(drops_lines_above_level)
{
	const char *out;

	log_open("t", LOG_TO_STDERR);
	log_set_level(LOG_WARNING);
	capture_begin();
	log_info("not shown");
	log_debug("not shown either");
	log_warnx("shown %d", 1);
	log_errx("shown %d", 2);
	out = capture_end();
	ck_assert_ptr_null(strstr(out, "not shown"));
	ck_assert_ptr_nonnull(strstr(out, "warning: shown 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "error: shown 2\n"));
}
END_TEST

START_TEST(prefix_has_time_name_pid_level_domid_and_device)
{
	char re[256];

	log_open("/usr/sbin/blkback", LOG_TO_STDERR);
	log_set_level(LOG_DEBUG);
	capture_begin();
	log_warnx_dev(5, "vbd/51712", "bad request %u", 9u);
	snprintf(re, sizeof(re),
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
		 "\\.[0-9]{3}Z blkback\\[%ld\\]: warning: d5 vbd/51712: "
		 "bad request 9\n$",
		 (long)getpid());
	assert_matches(capture_end(), re);
}
END_TEST

START_TEST(prefix_leaves_out_missing_domid_or_device)
{
	const char *out;

	log_open("netback", LOG_TO_STDERR);
	log_set_level(LOG_DEBUG);
	capture_begin();
	log_notice("plain");
	log_info_dev(3, NULL, "domain only");
	log_debug_dev(-1, "vif/0", "device only");
	out = capture_end();
	assert_matches(out, "\\]: notice: plain\n");
	assert_matches(out, "\\]: info: d3: domain only\n");
	assert_matches(out, "\\]: debug: vif/0: device only\n");
}
END_TEST

START_TEST(log_warn_appends_strerror_and_keeps_errno)
{
	const char *out;

	log_open("t", LOG_TO_STDERR);
	log_set_level(LOG_INFO);
	capture_begin();
	errno = ENOENT;
	log_warn("open %s", "/x");
	ck_assert_int_eq(errno, ENOENT);
	log_warnx("no errno here");
	out = capture_end();
	ck_assert_ptr_nonnull(
		strstr(out, "warning: open /x: No such file or directory\n"));
	ck_assert_ptr_nonnull(strstr(out, "warning: no errno here\n"));
}
END_TEST

START_TEST(log_errno_names_a_negative_errno_and_leaves_errno_alone)
{
	const char *out;

	log_open("t", LOG_TO_STDERR);
	log_set_level(LOG_INFO);
	capture_begin();
	errno = EINTR;
	log_errno(LOG_ERR, -EBUSY, "locking %s", "/run/x.pid");
	ck_assert_int_eq(errno, EINTR);
	log_errno_dev(LOG_WARNING, ENOENT, 3, "vbd-51712", "opening");
	log_errno(LOG_DEBUG, -EIO, "above the level");
	out = capture_end();
	ck_assert_ptr_nonnull(
		strstr(out,
		       "error: locking /run/x.pid: Device or resource busy\n"));
	ck_assert_ptr_nonnull(
		strstr(out,
		       "warning: d3 vbd-51712: opening: No such file or directory\n"));
	ck_assert_ptr_null(strstr(out, "above the level"));
}
END_TEST

START_TEST(long_line_is_truncated_visibly)
{
	static char big[8192];
	const char *out;
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	log_open("t", LOG_TO_STDERR);
	capture_begin();
	log_warnx("%s", big);
	out = capture_end();
	len = strlen(out);
	ck_assert_uint_lt(len, 4096);
	ck_assert_str_eq(out + len - 4, "...\n");
}
END_TEST

START_TEST(parses_level_words_and_numbers)
{
	static const struct {
		const char *s;
		int level;
	} ok[] = {
		{ "error", LOG_ERR },     { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },   { "3", LOG_ERR },
		{ "7", LOG_DEBUG },
	};
	static const char *const bad[] = { "",   "verbose", "2",    "8",
					   "33", "Debug",   "info " };
	size_t i;
	int level;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		level = -1;
		ck_assert_msg(log_parse_level(ok[i].s, &level) == 0, "%s",
			      ok[i].s);
		ck_assert_int_eq(level, ok[i].level);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(log_parse_level(bad[i], &level) == -EINVAL,
			      "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(set_level_clamps_to_error_and_debug)
{
	log_set_level(LOG_EMERG);
	ck_assert_int_eq(log_get_level(), LOG_ERR);
	log_set_level(99);
	ck_assert_int_eq(log_get_level(), LOG_DEBUG);
	log_set_level(LOG_NOTICE);
	ck_assert_int_eq(log_get_level(), LOG_NOTICE);
}
END_TEST

START_TEST(ratelimit_passes_burst_then_suppresses)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(600000, 3);
	uint64_t sup;
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(log_ratelimit_ok(&rl, &sup), 1);
		ck_assert_uint_eq(sup, 0);
	}
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(log_ratelimit_ok(&rl, &sup), 0);
	ck_assert_uint_eq(rl.suppressed, 5);
}
END_TEST

START_TEST(ratelimit_reports_suppressed_count_in_next_window)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(300, 2);
	struct timespec ts = { .tv_nsec = 350 * 1000000L };
	uint64_t sup;
	int i;

	ck_assert_int_eq(log_ratelimit_ok(&rl, &sup), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, &sup), 1);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(log_ratelimit_ok(&rl, &sup), 0);
	nanosleep(&ts, NULL);
	ck_assert_int_eq(log_ratelimit_ok(&rl, &sup), 1);
	ck_assert_uint_eq(sup, 3);
	ck_assert_int_eq(log_ratelimit_ok(&rl, &sup), 1);
	ck_assert_uint_eq(sup, 0);
}
END_TEST

START_TEST(ratelimited_macro_prints_suppressed_note)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(300, 1);
	struct timespec ts = { .tv_nsec = 350 * 1000000L };
	const char *out;
	int i;

	log_open("t", LOG_TO_STDERR);
	log_set_level(LOG_INFO);
	capture_begin();
	for (i = 0; i < 4; i++)
		LOG_RATELIMITED(&rl, LOG_WARNING, 7, "vbd/1", "bad op %d", i);
	nanosleep(&ts, NULL);
	LOG_RATELIMITED(&rl, LOG_WARNING, 7, "vbd/1", "bad op %d", 9);
	out = capture_end();
	ck_assert_ptr_nonnull(strstr(out, "d7 vbd/1: bad op 0\n"));
	ck_assert_ptr_null(strstr(out, "bad op 1"));
	ck_assert_ptr_null(strstr(out, "bad op 3"));
	ck_assert_ptr_nonnull(
		strstr(out, "d7 vbd/1: (3 similar lines suppressed)\n"));
	ck_assert_ptr_nonnull(strstr(out, "d7 vbd/1: bad op 9\n"));
}
END_TEST

START_TEST(fatalx_exits_1)
{
	int fd = open("/dev/null", O_WRONLY);

	dup2(fd, STDERR_FILENO);
	fatalx("broken invariant %d", 1);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, drops_lines_above_level);
	tcase_add_test(tc, prefix_has_time_name_pid_level_domid_and_device);
	tcase_add_test(tc, prefix_leaves_out_missing_domid_or_device);
	tcase_add_test(tc, log_warn_appends_strerror_and_keeps_errno);
	tcase_add_test(tc,
		       log_errno_names_a_negative_errno_and_leaves_errno_alone);
	tcase_add_test(tc, long_line_is_truncated_visibly);
	tcase_add_test(tc, parses_level_words_and_numbers);
	tcase_add_test(tc, set_level_clamps_to_error_and_debug);
	tcase_add_test(tc, ratelimit_passes_burst_then_suppresses);
	tcase_add_test(tc, ratelimit_reports_suppressed_count_in_next_window);
	tcase_add_test(tc, ratelimited_macro_prints_suppressed_note);
	tcase_add_exit_test(tc, fatalx_exits_1, 1);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(log_suite)
