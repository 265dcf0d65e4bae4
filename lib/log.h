/*
 * log.h - the one logging API of splitdrv.
 *
 * Levels follow syslog. Output goes to stderr (default, with a timestamp
 * and the program name) or syslog (log_open(..., LOG_TO_SYSLOG)).
 * Every line may carry a prefix naming what it is about:
 *   log_warnx_dev(domid, "vbd/51712", "bad request %u", op)
 *   -> "blkback[123]: warning: d5 vbd/51712: bad request 9"
 * log_warn() appends ": strerror(errno)"; log_warnx() does not.
 * fatal()/fatalx() are for broken invariants of our own only, never for
 * anything a guest or a client can cause.
 *
 * Guest-triggerable lines go through LOG_RATELIMITED(), which lets a burst
 * through and then counts what it suppressed (reported on the next line that
 * passes).
 */
#ifndef SPLITDRV_LOG_H
#define SPLITDRV_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

enum log_target {
	LOG_TO_STDERR = 0,
	LOG_TO_SYSLOG = 1
};

/* log_open - set the program name and target; callable again (SIGHUP). */
void log_open(const char *progname, enum log_target target);
void log_set_level(int level); /* LOG_ERR .. LOG_DEBUG */
int log_get_level(void);
/* log_parse_level - "error", "warning", "notice", "info", "debug" or a
 * number 3..7; -EINVAL otherwise. */
int log_parse_level(const char *s, int *level);
/* log_reopen - reopen the target (after logrotate, on SIGHUP). */
void log_reopen(void);

void log_msg(int level, int with_errno, int domid, const char *dev,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void log_vmsg(int level, int with_errno, int domid, const char *dev,
	      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/*
 * log_errno / log_errno_dev - the one way from an error code to a log line:
 * "<message>: <strerror>" at level. err is a 0/-errno return (its sign is
 * ignored, so a positive errno value works too); errno is left alone.
 *
 *	if ((r = daemon_notify("READY=1")) < 0)
 *		log_errno(LOG_WARNING, r, "cannot notify systemd");
 */
void log_errno_dev(int level, int err, int domid, const char *dev,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define log_errno(level, err, ...)                                             \
	log_errno_dev(level, err, -1, NULL, __VA_ARGS__)

#define log_err(...)               log_msg(LOG_ERR, 1, -1, NULL, __VA_ARGS__)
#define log_errx(...)              log_msg(LOG_ERR, 0, -1, NULL, __VA_ARGS__)
#define log_warn(...)              log_msg(LOG_WARNING, 1, -1, NULL, __VA_ARGS__)
#define log_warnx(...)             log_msg(LOG_WARNING, 0, -1, NULL, __VA_ARGS__)
#define log_notice(...)            log_msg(LOG_NOTICE, 0, -1, NULL, __VA_ARGS__)
#define log_info(...)              log_msg(LOG_INFO, 0, -1, NULL, __VA_ARGS__)
#define log_debug(...)             log_msg(LOG_DEBUG, 0, -1, NULL, __VA_ARGS__)
/* Per-device variants: domid < 0 and dev NULL are left out of the prefix. */
#define log_warnx_dev(d, dev, ...) log_msg(LOG_WARNING, 0, d, dev, __VA_ARGS__)
#define log_info_dev(d, dev, ...)  log_msg(LOG_INFO, 0, d, dev, __VA_ARGS__)
#define log_debug_dev(d, dev, ...) log_msg(LOG_DEBUG, 0, d, dev, __VA_ARGS__)

void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * Rate limiting: at most burst lines per interval_ms per limiter; the rest
 * are counted and the count is reported by the next line that passes.
 */
struct log_ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint64_t window_start_ms;
	uint32_t in_window;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(interval, burst_)                                   \
	{                                                                      \
		.interval_ms = (interval), .burst = (burst_)                   \
	}
/* log_ratelimit_ok - 1 if a line may be printed now (and adds the note of
 * suppressed lines to it), 0 if it must be dropped. *suppressed_out is
 * the count to report with this line (0 if none). interval_ms == 0
 * disables the limiter. Not thread-safe: one limiter per thread/object. */
int log_ratelimit_ok(struct log_ratelimit *rl, uint64_t *suppressed_out);

#define LOG_RATELIMITED(rl, level, d, dev, fmt, ...)                           \
	do {                                                                   \
		uint64_t sup_;                                                 \
		if (log_ratelimit_ok((rl), &sup_)) {                           \
			if (sup_)                                              \
				log_msg((level), 0, (d), (dev),                \
					"(%llu similar lines suppressed)",     \
					(unsigned long long)sup_);             \
			log_msg((level), 0, (d), (dev), fmt, ##__VA_ARGS__);   \
		}                                                              \
	} while (0)

#endif /* SPLITDRV_LOG_H */
