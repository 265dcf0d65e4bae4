/*
 * check_net_rate - a vif's rate limit (netback/rate.c): xl's rate
 * syntax, good and bad, with overflow; the xenstore `rate` key; and the
 * credit scheduler on a clock of our own.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "netback/rate.h"
#include "check_main.h"

static const struct {
	const char *s;
	uint64_t bytes;
	uint32_t usecs;
} good[] = {
	/* xl-network-configuration(5)'s own examples */
	{ "10Mb/s", 62500, 50000 },     /* 1,250,000 B/s x 50 ms */
	{ "250KB/s", 12500, 50000 },    /* 250,000 B/s x 50 ms */
	{ "1MB/s@20ms", 20000, 20000 }, /* "20,000 bytes every 20 ms" */
	{ "1GB/s", 50000000, 50000 },
	{ "100kb/s", 625, 50000 }, /* SI's k, 12,500 B/s */
	{ "100Kb/s@1s", 12500, 1000000 },
	{ "8b/s@1s", 1, 1000000 },
	{ "1B/s@1s", 1, 1000000 },
	{ "4294967295GB/s@1us", 4294967295000ULL, 1 },
	{ "3Gb/s@4294ms", 1610250000, 4294000 },
	{ "10Mb/s@50000us", 62500, 50000 },
	{ "0010Mb/s", 62500, 50000 }, /* leading zeros: decimal, not octal */
};

static const struct {
	const char *s;
	int err;
	const char *why; /* a word of the reason */
} bad[] = {
	{ "", -EINVAL, "no rate" },
	{ "@50ms", -EINVAL, "no rate" },
	{ "10", -EINVAL, "unit" },
	{ "10M", -EINVAL, "unit" },
	{ "10Mb", -EINVAL, "unit" },
	{ "10Mb/", -EINVAL, "unit" },
	{ "10Mb/m", -EINVAL, "unit" },
	{ "10Mb/s ", -EINVAL, "unit" },
	{ "10 Mb/s", -EINVAL, "unit" },
	{ "10mb/s", -EINVAL, "unit" },
	{ "10Tb/s", -EINVAL, "unit" },
	{ "10MiB/s", -EINVAL, "unit" },
	{ "Mb/s", -EINVAL, "number" },
	{ "-10Mb/s", -EINVAL, "number" },
	{ "+10Mb/s", -EINVAL, "number" },
	{ "0x10Mb/s", -EINVAL, "1..4294967295" },
	{ "0Mb/s", -EINVAL, "1..4294967295" },
	{ "4294967296B/s", -ERANGE, "1..4294967295" },
	{ "99999999999999999999B/s", -ERANGE, "1..4294967295" },
	{ "4294967295GB/s@4294967295us", -ERANGE, "64 bits" },
	{ "10Mb/s@", -EINVAL, "interval" },
	{ "10Mb/s@0ms", -EINVAL, "interval" },
	{ "10Mb/s@50", -EINVAL, "unit" },
	{ "10Mb/s@50m", -EINVAL, "unit" },
	{ "10Mb/s@50ns", -EINVAL, "unit" },
	{ "10Mb/s@50ms@1s", -EINVAL, "unit" },
	{ "10Mb/s@-5ms", -EINVAL, "interval" },
	{ "10Mb/s@4295s", -ERANGE, "4295" },
	{ "10Mb/s@4294968ms", -ERANGE, "4295" },
	{ "10Mb/s@4294967296us", -ERANGE, "4295" },
	{ "1000B/s@500us", -EINVAL, "less than one byte" },
	{ "1b/s", -EINVAL, "less than one byte" },
};

START_TEST(parses_xl_rates)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct netbk_rate r = { 0, 0 };
		const char *why = NULL;
		int rc;

		rc = netbk_rate_parse(good[i].s, &r, &why);
		ck_assert_msg(rc == 0, "'%s' refused: %s", good[i].s,
			      why ? why : "?");
		ck_assert_msg(r.bytes == good[i].bytes,
			      "'%s': %llu bytes, want %llu", good[i].s,
			      (unsigned long long)r.bytes,
			      (unsigned long long)good[i].bytes);
		ck_assert_msg(r.usecs == good[i].usecs, "'%s': %u us",
			      good[i].s, r.usecs);
	}
}
END_TEST

START_TEST(refuses_bad_rates_in_words)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netbk_rate r = { 7, 7 };
		const char *why = NULL;
		int rc = netbk_rate_parse(bad[i].s, &r, &why);

		ck_assert_msg(rc == bad[i].err, "'%s': %d, want %d", bad[i].s,
			      rc, bad[i].err);
		ck_assert_msg(why && strstr(why, bad[i].why),
			      "'%s': reason '%s' lacks '%s'", bad[i].s,
			      why ? why : "(none)", bad[i].why);
	}
	ck_assert_int_eq(netbk_rate_parse(NULL, &(struct netbk_rate){ 0, 0 },
					  &(const char *){ NULL }),
			 -EINVAL);
}
END_TEST

START_TEST(xenstore_key_round_trip)
{
	static const char *const bad_xs[] = {
		"",       "62500",        "62500,",
		",50000", "62500;50000",  "a,b",
		"1,2,3",  "-1,5",         "1, 5",
		"1,5 ",   "1,4294967296", "99999999999999999999,1",
	};
	struct netbk_rate r = { 0, 0 };
	char buf[64];
	const char *why;

	ck_assert_int_eq(netbk_rate_parse("10Mb/s@20ms", &r, &why), 0);
	netbk_rate_format_xs(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "25000,20000");
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(netbk_rate_parse_xs(buf, &r), 0);
	ck_assert_uint_eq(r.bytes, 25000);
	ck_assert_uint_eq(r.usecs, 20000);
	ck_assert_int_eq(netbk_rate_parse_xs("18446744073709551615,0", &r), 0);
	ck_assert_uint_eq(r.bytes, UINT64_MAX);
	ck_assert_uint_eq(r.usecs, 0);
	for (size_t i = 0; i < sizeof(bad_xs) / sizeof(bad_xs[0]); i++)
		ck_assert_msg(netbk_rate_parse_xs(bad_xs[i], &r) == -EINVAL,
			      "'%s' accepted", bad_xs[i]);
	ck_assert_int_eq(netbk_rate_parse_xs(NULL, &r), -EINVAL);
}
END_TEST

/* --- the scheduler: scripts of (time, packet size) -> verdict ------- */

struct step {
	uint64_t now, size;
	int ok;
	uint64_t retry_at; /* when !ok */
	int fire;          /* call netbk_credit_on_timer before this step */
};

static void run_script(const char *name, uint64_t bytes, uint32_t usecs,
		       const struct step *s, size_t n)
{
	struct netbk_rate r = { bytes, usecs };
	struct netbk_credit c;

	netbk_credit_init(&c, &r, 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t retry = 12345;
		bool ok;

		if (s[i].fire)
			netbk_credit_on_timer(&c);
		ok = netbk_credit_take(&c, s[i].size, s[i].now, &retry);
		ck_assert_msg(ok == !!s[i].ok,
			      "%s step %zu (t=%llu, %llu B): %s, remaining %llu",
			      name, i, (unsigned long long)s[i].now,
			      (unsigned long long)s[i].size,
			      ok ? "sent" : "held",
			      (unsigned long long)c.remaining);
		if (!ok) {
			ck_assert_msg(retry == s[i].retry_at,
				      "%s step %zu: retry at %llu, want %llu",
				      name, i, (unsigned long long)retry,
				      (unsigned long long)s[i].retry_at);
			ck_assert(c.rate_limited);
		}
	}
}

/*
 * The scripts, one per behaviour: the rate, then (time, packet size) ->
 * sent, or held until retry_at.
 */

/* 10,000 B per 50 ms: 6 x 1,500 fit, the 7th waits for t=50 ms, even a
 * small packet waits behind it, and at 50 ms it finds 1,000 + 10,000 */
static const struct step within_window[] = {
	{ 0, 1500, 1, 0, 0 },       { 1, 1500, 1, 0, 0 },
	{ 2, 1500, 1, 0, 0 },       { 3, 1500, 1, 0, 0 },
	{ 4, 1500, 1, 0, 0 },       { 5, 1500, 1, 0, 0 },
	{ 6, 1500, 0, 50000, 0 },   { 30000, 60, 0, 50000, 0 },
	{ 50000, 1500, 1, 0, 0 },   { 50001, 9500, 1, 0, 0 },
	{ 50002, 1, 0, 100000, 0 },
};

/* the caller's timer fires: the credit comes with it, and a take after
 * it does not add it again */
static const struct step timer_adds_once[] = {
	{ 0, 10000, 1, 0, 0 },      { 10, 100, 0, 50000, 0 },
	{ 50001, 100, 1, 0, 1 },    { 50002, 9900, 1, 0, 0 },
	{ 50003, 1, 0, 100000, 0 }, /* the window started at 50 ms */
};

/* no packet held, so no timer: a take after the window's end starts a
 * new window there and then, with one window's credit (not one per
 * idle window) */
static const struct step idle_window[] = {
	{ 0, 9000, 1, 0, 0 },
	{ 200000, 2000, 1, 0, 0 },
	{ 200001, 9001, 0, 250000, 0 },
	{ 250000, 9001, 1, 0, 0 },
	{ 10000000, 20000, 0, 10050000, 0 }, /* 9,999 + 10,000 */
	{ 10050000, 20000, 1, 0, 0 },
};

/* 1,000 B per 10 ms and a 4,500-byte packet: it waits until the credit
 * has gathered over windows (1,000 + 4 x 1,000), then goes once */
static const struct step big_packet[] = {
	{ 0, 4500, 0, 10000, 0 },     { 10000, 4500, 0, 20000, 0 },
	{ 20000, 4500, 0, 30000, 0 }, { 30000, 4500, 0, 40000, 0 },
	{ 40000, 4500, 1, 0, 0 },     { 40001, 501, 0, 50000, 0 },
};

/* a 64 KiB GSO packet at 50,000 B per window goes in the second */
static const struct step gso_packet[] = {
	{ 0, 65536, 0, 50000, 0 },
	{ 50000, 65536, 1, 0, 0 },
	{ 50001, 34464, 1, 0, 0 },
	{ 50002, 1, 0, 100000, 0 },
};

/* a held packet gathers at most max(credit, 128 KiB): 131,073 never
 * fits at 100,000 B per window; 131,072 does */
static const struct step burst_bound[] = {
	{ 0, 1, 1, 0, 0 },
	{ 50000, 131073, 0, 100000, 0 },
	{ 100000, 131072, 1, 0, 0 },
	{ 100001, 1, 0, 150000, 0 },
};

/* a credit above 128 KiB: the burst is the credit */
static const struct step burst_is_credit[] = {
	{ 0, 1, 1, 0, 0 },
	{ 50000000, 200000, 1, 0, 0 },
	{ 50000001, 1, 0, 50050000, 0 },
};

#define SCRIPT(steps, bytes, usecs)                                            \
	{                                                                      \
#steps, bytes, usecs, steps, sizeof(steps) / sizeof(steps[0])  \
	}

static const struct script {
	const char *name;
	uint64_t bytes;
	uint32_t usecs;
	const struct step *steps;
	size_t n;
} scripts[] = {
	SCRIPT(within_window, 10000, 50000),
	SCRIPT(timer_adds_once, 10000, 50000),
	SCRIPT(idle_window, 10000, 50000),
	SCRIPT(big_packet, 1000, 10000),
	SCRIPT(gso_packet, 50000, 50000),
	SCRIPT(burst_bound, 100000, 50000),
	SCRIPT(burst_is_credit, 200000, 50000),
};

START_TEST(credit_scripts)
{
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(scripts[i].name, scripts[i].bytes, scripts[i].usecs,
			   scripts[i].steps, scripts[i].n);
}
END_TEST

START_TEST(credit_unlimited_never_holds)
{
	struct netbk_credit c;
	uint64_t retry = 0;

	netbk_credit_init(&c, NULL, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert(
			netbk_credit_take(&c, 1ULL << 40, (uint64_t)i, &retry));
	/* "N,0" in xenstore (no interval) is unlimited too */
	netbk_credit_init(&c, &(struct netbk_rate){ 1, 0 }, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert(netbk_credit_take(&c, 65536, 0, &retry));
	ck_assert(!c.rate_limited);
}
END_TEST

START_TEST(credit_stray_timer_does_nothing)
{
	struct netbk_credit c;
	uint64_t retry;

	netbk_credit_init(&c, &(struct netbk_rate){ 1000, 1000 }, 0);
	ck_assert(netbk_credit_take(&c, 1000, 0, &retry));
	netbk_credit_on_timer(&c); /* none pending */
	ck_assert_uint_eq(c.remaining, 0);
	ck_assert(!netbk_credit_take(&c, 1, 1, &retry));
	ck_assert_uint_eq(retry, 1000);
	netbk_credit_on_timer(&c);
	netbk_credit_on_timer(&c); /* twice: once */
	ck_assert_uint_eq(c.remaining, 1000);
}
END_TEST

static Suite *net_rate_suite(void)
{
	Suite *s = suite_create("net_rate");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, parses_xl_rates);
	tcase_add_test(tc, refuses_bad_rates_in_words);
	tcase_add_test(tc, xenstore_key_round_trip);
	suite_add_tcase(s, tc);
	tc = tcase_create("credit");
	tcase_add_test(tc, credit_scripts);
	tcase_add_test(tc, credit_unlimited_never_holds);
	tcase_add_test(tc, credit_stray_timer_does_nothing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(net_rate_suite)
