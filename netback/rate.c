/*
 * rate.c - xl's rate syntax, the xenstore `rate` key and the credit
 * scheduler (see rate.h).
 *
 * Worked example: "10Mb/s@20ms". 10 with M is 10,000,000; b is bits, so
 * 1,250,000 bytes/s; 20ms is 20,000 us; the credit is 1,250,000 x
 * 20,000 / 1,000,000 = 25,000 bytes every 20,000 us, "25000,20000" in
 * xenstore. A queue with that limit sends 25,000 bytes of packets in a
 * window; a 1,500-byte packet that finds 1,000 bytes left waits for the
 * next window, where the credit is 1,000 + 25,000 (at most
 * max(25,000, 128 KiB)). A 64 KiB GSO packet waits until three windows'
 * credit have gathered.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netback/rate.h"

/* digits - a decimal number (no sign, no space) at *s, moved past; -1
 * when there is none, -ERANGE when it does not fit in 64 bits. */
static int digits(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		unsigned int d = (unsigned int)(*p++ - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return 0;
}

/* RATE: NUMBER [GMKk] (B|b) "/s", in bytes per second. */
static int parse_bytes_per_sec(const char *s, const char *end, uint64_t *out,
			       const char **why)
{
	uint64_t v, mult = 1;
	int r;

	if (s == end) {
		*why = "no rate before '@'";
		return -EINVAL;
	}
	r = digits(&s, &v);
	if (r == -ERANGE)
		v = UINT64_MAX; /* said below */
	else if (r < 0) {
		*why = "the rate must start with a number (e.g. 10Mb/s)";
		return -EINVAL;
	}
	/* as xl: the number itself is at most 2^32-1 */
	if (v == 0 || v > UINT32_MAX) {
		*why = "the rate must be 1..4294967295 units";
		return v ? -ERANGE : -EINVAL;
	}
	if (s < end && (*s == 'G' || *s == 'M' || *s == 'K' || *s == 'k')) {
		mult = *s == 'G' ? 1000000000 : *s == 'M' ? 1000000 : 1000;
		s++;
	}
	if (end - s != 3 || (s[0] != 'B' && s[0] != 'b') ||
	    strncmp(s + 1, "/s", 2) != 0) {
		*why = "the rate's unit must be GB, MB, KB, B (bytes) or Gb, "
		       "Mb, Kb, b (bits), then /s";
		return -EINVAL;
	}
	v *= mult; /* < 2^32 x 10^9: no overflow */
	if (s[0] == 'b')
		v /= 8;
	*out = v;
	return 0;
}

/* INTERVAL: NUMBER (s|ms|us), in microseconds (at most 2^32-1). */
static int parse_interval(const char *s, uint32_t *out, const char **why)
{
	uint64_t v, mult;

	if (digits(&s, &v) < 0 || v == 0) {
		*why = "the interval must be a number above 0 with s, ms or us "
		       "(e.g. 50ms)";
		return -EINVAL;
	}
	if (!strcmp(s, "s"))
		mult = 1000000;
	else if (!strcmp(s, "ms"))
		mult = 1000;
	else if (!strcmp(s, "us"))
		mult = 1;
	else {
		*why = "the interval's unit must be s, ms or us";
		return -EINVAL;
	}
	if (v > UINT32_MAX / mult) {
		*why = "the interval must be below 4295 s";
		return -ERANGE;
	}
	*out = (uint32_t)(v * mult);
	return 0;
}

int netbk_rate_parse(const char *s, struct netbk_rate *out, const char **why)
{
	const char *at, *end;
	uint64_t bps;
	uint32_t usecs = NETBK_RATE_DEFAULT_USECS;
	int r;

	*why = NULL;
	if (!s || !*s) {
		*why = "no rate specified";
		return -EINVAL;
	}
	at = strchr(s, '@');
	end = at ? at : s + strlen(s);
	r = parse_bytes_per_sec(s, end, &bps, why);
	if (r < 0)
		return r;
	if (at && (r = parse_interval(at + 1, &usecs, why)) < 0)
		return r;
	/* bps < 2^62 and usecs < 2^32: the product may overflow 64 bits */
	if (bps > UINT64_MAX / usecs) {
		*why = "the credit per interval does not fit in 64 bits";
		return -ERANGE;
	}
	out->bytes = bps * usecs / 1000000;
	out->usecs = usecs;
	if (out->bytes == 0) {
		*why = "less than one byte per interval (a higher rate or a "
		       "longer interval)";
		return -EINVAL;
	}
	return 0;
}

int netbk_rate_parse_xs(const char *s, struct netbk_rate *out)
{
	uint64_t b, u;

	if (!s || digits(&s, &b) < 0 || *s++ != ',' || digits(&s, &u) < 0 ||
	    *s || u > UINT32_MAX)
		return -EINVAL;
	out->bytes = b;
	out->usecs = (uint32_t)u;
	return 0;
}

int netbk_rate_format_xs(const struct netbk_rate *r, char *buf, size_t len)
{
	return snprintf(buf, len, "%llu,%u", (unsigned long long)r->bytes,
			(unsigned)r->usecs);
}

/* --- the credit scheduler --------------------------------------------- */

/* A window's credit on top of what is left, at most one burst. */
static void add_credit(struct netbk_credit *c)
{
	uint64_t burst = c->credit_bytes > NETBK_CREDIT_MAX_BURST
				 ? c->credit_bytes
				 : NETBK_CREDIT_MAX_BURST;
	uint64_t max = c->remaining + c->credit_bytes;

	if (max < c->remaining) /* wrapped: unlimited */
		max = UINT64_MAX;
	c->remaining = max < burst ? max : burst;
	c->rate_limited = false;
}

void netbk_credit_init(struct netbk_credit *c, const struct netbk_rate *r,
		       uint64_t now)
{
	memset(c, 0, sizeof(*c));
	/* Linux's "unlimited": ~0 bytes, no window; so is a 0 interval */
	if (r && r->usecs) {
		c->credit_bytes = r->bytes;
		c->credit_usec = r->usecs;
	} else {
		c->credit_bytes = UINT64_MAX;
		c->credit_usec = 0;
	}
	c->remaining = c->credit_bytes;
	c->window_start = now;
}

void netbk_credit_on_timer(struct netbk_credit *c)
{
	if (!c->timer_pending)
		return;
	c->timer_pending = false;
	add_credit(c);
}

/*
 * Unlike Linux, whose window arithmetic is in jiffies and whose timer
 * may be armed for a window end already past (it then fires at once and
 * adds a second credit), a window here gives its credit exactly once: a
 * packet that does not fit after a replenish at `now` waits until
 * now + credit_usec.
 */
bool netbk_credit_take(struct netbk_credit *c, uint64_t size, uint64_t now,
		       uint64_t *retry_at)
{
	if (c->timer_pending && now >= c->timer_at)
		netbk_credit_on_timer(c); /* its time came: as if it fired */
	if (!c->timer_pending) {
		if (size <= c->remaining) {
			c->remaining -= size;
			return true;
		}
		/* the window is over: a new one with its credit */
		if (now >= c->window_start &&
		    now - c->window_start >= c->credit_usec) {
			c->window_start = now;
			add_credit(c);
		}
		if (size <= c->remaining) {
			c->remaining -= size;
			return true;
		}
		/* wait for the end of this window */
		c->window_start += c->credit_usec;
		c->timer_at = c->window_start;
		c->timer_pending = true;
	}
	c->rate_limited = true;
	*retry_at = c->timer_at;
	return false;
}
