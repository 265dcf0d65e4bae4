/*
 * rate.h - a vif's transmit rate limit: xl's `rate=` syntax, the
 * xenstore `rate` key libxl writes from it, and Linux xen-netback's
 * credit scheduler, as a pure module on a clock the caller passes in.
 *
 * xl (xl-network-configuration(5)): RATE[@INTERVAL], RATE a number with
 * GB, MB, KB or B (bytes) or Gb, Mb, Kb or b (bits), then "/s"
 * ("10Mb/s", "250KB/s", "1GB/s"); INTERVAL a number with s, ms or us
 * ("50ms", the default; "1s"). The limit is applied as a credit of
 * RATE x INTERVAL bytes given every INTERVAL: "1MB/s@20ms" is 20000
 * bytes each 20000 us. libxl writes that to the backend's `rate` key as
 * "BYTES,USECS" ("20000,20000"), which is what netback reads.
 *
 * Where we differ from xl: a lower-case k (SI's kilo, "100kb/s") is
 * taken as K; a rate that gives less than one byte per interval is
 * refused (xl writes "0,USECS", which stops the vif for good).
 */
#ifndef SPLITDRV_NETBACK_RATE_H
#define SPLITDRV_NETBACK_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A rate limit: bytes of credit every usecs microseconds. */
struct netbk_rate {
	uint64_t bytes;
	uint32_t usecs;
};

#define NETBK_RATE_DEFAULT_USECS 50000 /* xl's default interval, 50 ms */

/*
 * netbk_rate_parse - xl's RATE[@INTERVAL] into *out. 0, or -EINVAL with
 * *why (a static string) saying what is wrong; -ERANGE when a number or
 * the credit per interval does not fit.
 */
int netbk_rate_parse(const char *s, struct netbk_rate *out, const char **why);

/*
 * netbk_rate_parse_xs - the backend's `rate` key, "BYTES,USECS" (both
 * decimal, as libxl writes it; Linux reads it so) into *out. 0, or
 * -EINVAL (the caller decides: Linux warns and leaves the vif
 * unlimited).
 */
int netbk_rate_parse_xs(const char *s, struct netbk_rate *out);

/* netbk_rate_format_xs - "BYTES,USECS" into buf; snprintf's return. */
int netbk_rate_format_xs(const struct netbk_rate *r, char *buf, size_t len);

/*
 * The credit scheduler of one queue (Linux's tx_credit_exceeded and
 * tx_add_credit). Times are microseconds on the caller's clock.
 *
 *  - a window is credit_usec long; at its end the remaining credit grows
 *    by credit_bytes, up to max(credit_bytes, 128 KiB), so that a packet
 *    larger than one window's credit (a 64 KiB GSO packet at a low rate)
 *    still goes once enough windows have passed;
 *  - a packet is sent when it fits the remaining credit, which it then
 *    uses up (by its whole size);
 *  - one that does not fit waits: the next window starts where this one
 *    ends, and nothing goes until then (a pending "timer": the caller
 *    arms one for *retry_at and calls netbk_credit_on_timer then).
 */
struct netbk_credit {
	uint64_t credit_bytes; /* per window; UINT64_MAX: unlimited */
	uint64_t credit_usec;  /* window length; 0: unlimited */
	uint64_t remaining;
	uint64_t window_start;
	uint64_t timer_at; /* when the pending timer fires */
	bool timer_pending;
	bool rate_limited; /* a packet is waiting for credit (stats) */
};

#define NETBK_CREDIT_MAX_BURST (128 * 1024)

/* netbk_credit_init - a queue limited to r (NULL: unlimited), its first
 * window starting at now with a full window's credit. */
void netbk_credit_init(struct netbk_credit *c, const struct netbk_rate *r,
		       uint64_t now);

/*
 * netbk_credit_take - may a packet of size bytes go now? true: yes, its
 * size is taken from the credit. false: not before *retry_at (arm a
 * timer for it and call netbk_credit_on_timer when it fires; a take at
 * or after *retry_at does that itself).
 */
bool netbk_credit_take(struct netbk_credit *c, uint64_t size, uint64_t now,
		       uint64_t *retry_at);

/* netbk_credit_on_timer - the timer armed for *retry_at fired: add a
 * window's credit. Does nothing when no timer is pending. */
void netbk_credit_on_timer(struct netbk_credit *c);

#endif /* SPLITDRV_NETBACK_RATE_H */
