/*
 * log.c - the one logging API of splitdrv (see log.h).
 *
 * A line is formatted into one local buffer and written with one write(2),
 * so lines of concurrent threads or processes sharing stderr do not
 * interleave. The configuration (program name, target, level) is set by
 * the main thread at start-up and on SIGHUP; log_msg() only reads it.
 *
 * stderr line:  2026-11-25T16:32:45.123Z blkback[123]: warning: d5 vbd/51712: msg
 * syslog line:  warning: d5 vbd/51712: msg     (syslog adds name, pid, time)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

static char log_progname[64] = "splitdrv";
static enum log_target log_target_cur = LOG_TO_STDERR;
static int log_level_cur = LOG_INFO;
static int log_syslog_open;

static const char *const log_level_words[] = {
	[LOG_EMERG] = "emergency", [LOG_ALERT] = "alert",
	[LOG_CRIT] = "fatal",      [LOG_ERR] = "error",
	[LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",       [LOG_DEBUG] = "debug",
};

static void log_syslog_start(void)
{
	if (log_syslog_open)
		closelog();
	openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog_open = 1;
}

/*
 * log_open - remember the program name (its basename) and the target. The
 * syslog connection is (re)opened when the target is syslog and closed when
 * it is not.
 */
void log_open(const char *progname, enum log_target target)
{
	if (progname && *progname) {
		const char *slash = strrchr(progname, '/');

		if (slash && slash[1])
			progname = slash + 1;
		snprintf(log_progname, sizeof(log_progname), "%s", progname);
	}
	log_target_cur = target == LOG_TO_SYSLOG ? LOG_TO_SYSLOG : LOG_TO_STDERR;
	if (log_target_cur == LOG_TO_SYSLOG) {
		log_syslog_start();
	} else if (log_syslog_open) {
		closelog();
		log_syslog_open = 0;
	}
}

/* log_set_level - clamp to LOG_ERR..LOG_DEBUG: errors are always logged. */
void log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_level_cur = level;
}

/* log_get_level - the current threshold (lines above it are dropped). */
int log_get_level(void)
{
	return log_level_cur;
}

/*
 * log_parse_level - a level word ("warn" and "err" accepted as
 * abbreviations) or a number 3..7 into *level. 0 or -EINVAL.
 */
int log_parse_level(const char *s, int *level)
{
	static const struct {
		const char *word;
		int level;
	} words[] = {
		{ "error", LOG_ERR },       { "err", LOG_ERR },
		{ "warning", LOG_WARNING }, { "warn", LOG_WARNING },
		{ "notice", LOG_NOTICE },   { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	size_t i;

	if (!s || !level)
		return -EINVAL;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcmp(s, words[i].word)) {
			*level = words[i].level;
			return 0;
		}
	}
	if (s[0] >= '0' + LOG_ERR && s[0] <= '0' + LOG_DEBUG && s[1] == '\0') {
		*level = s[0] - '0';
		return 0;
	}
	return -EINVAL;
}

/*
 * log_reopen - reopen the target. syslog: a new connection to the log
 * socket (after a syslog daemon restart). stderr belongs to whoever started
 * us (systemd's journal, a shell redirection), so there is nothing to do.
 */
void log_reopen(void)
{
	if (log_target_cur == LOG_TO_SYSLOG)
		log_syslog_start();
}

/* Append to buf (size n) at *off, never past the end; *off saturates. */
static void log_append(char *buf, size_t n, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void log_append(char *buf, size_t n, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*off >= n - 1)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf + *off, n - *off, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	*off += (size_t)r;
	if (*off > n - 1)
		*off = n - 1;
}

static void log_vappend(char *buf, size_t n, size_t *off, const char *fmt,
			va_list ap) __attribute__((format(printf, 4, 0)));
static void log_vappend(char *buf, size_t n, size_t *off, const char *fmt,
			va_list ap)
{
	int r;

	if (*off >= n - 1)
		return;
	r = vsnprintf(buf + *off, n - *off, fmt, ap);
	if (r < 0)
		return;
	*off += (size_t)r;
	if (*off > n - 1)
		*off = n - 1;
}

static void log_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		len -= (size_t)w;
	}
}

static void log_emit(int level, int with_errno, int saved_errno, int domid,
		     const char *dev, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
static void log_emit(int level, int with_errno, int saved_errno, int domid,
		     const char *dev, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t off = 0, body;
	const char *word;

	if (level < LOG_EMERG || level > LOG_DEBUG)
		level = LOG_ERR;
	word = log_level_words[level];

	if (log_target_cur == LOG_TO_STDERR) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		log_append(buf, sizeof(buf), &off,
			   "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld]: ",
			   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			   tm.tm_hour, tm.tm_min, tm.tm_sec,
			   ts.tv_nsec / 1000000L, log_progname, (long)getpid());
	}
	body = off;
	log_append(buf, sizeof(buf), &off, "%s: ", word);
	if (domid >= 0 && dev)
		log_append(buf, sizeof(buf), &off, "d%d %s: ", domid, dev);
	else if (domid >= 0)
		log_append(buf, sizeof(buf), &off, "d%d: ", domid);
	else if (dev)
		log_append(buf, sizeof(buf), &off, "%s: ", dev);
	log_vappend(buf, sizeof(buf), &off, fmt, ap);
	if (with_errno)
		log_append(buf, sizeof(buf), &off, ": %s",
			   strerror(saved_errno));

	/* A line that did not fit ends in "..." so that truncation shows. */
	if (off >= sizeof(buf) - 1) {
		off = sizeof(buf) - 2; /* room for the newline */
		memcpy(buf + off - 3, "...", 3);
		buf[off] = '\0';
	}

	if (log_target_cur == LOG_TO_SYSLOG) {
		syslog(level, "%s", buf + body);
		return;
	}
	buf[off++] = '\n';
	log_write_all(STDERR_FILENO, buf, off);
}

/*
 * log_vmsg - log one line at level if the level passes; domid < 0 and dev
 * NULL are left out of the prefix; with_errno appends strerror(errno).
 * errno is preserved.
 */
void log_vmsg(int level, int with_errno, int domid, const char *dev,
	      const char *fmt, va_list ap)
{
	int saved_errno = errno;

	if (level > log_level_cur)
		return;
	log_emit(level, with_errno, saved_errno, domid, dev, fmt, ap);
	errno = saved_errno;
}

/* log_msg - log_vmsg with a variable argument list. */
void log_msg(int level, int with_errno, int domid, const char *dev,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, with_errno, domid, dev, fmt, ap);
	va_end(ap);
}

/* log_errno_dev - log a line ending in ": strerror(|err|)". */
void log_errno_dev(int level, int err, int domid, const char *dev,
		   const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (level > log_level_cur)
		return;
	va_start(ap, fmt);
	log_emit(level, 1, err < 0 ? -err : err, domid, dev, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

/* fatal - log at LOG_CRIT with strerror(errno) and exit(1). */
void fatal(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, 1, saved_errno, -1, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* fatalx - log at LOG_CRIT and exit(1). */
void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, 0, 0, -1, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

static uint64_t log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * log_ratelimit_ok - the first burst calls of each interval_ms window pass;
 * later calls in the window are counted in rl->suppressed and fail. The
 * first call that passes afterwards returns that count in *suppressed_out
 * (0 otherwise) and resets it. interval_ms == 0 disables limiting. Not
 * thread-safe: one limiter per thread or per object.
 */
int log_ratelimit_ok(struct log_ratelimit *rl, uint64_t *suppressed_out)
{
	uint64_t now = log_now_ms();
	uint64_t dummy;

	if (!suppressed_out)
		suppressed_out = &dummy;
	*suppressed_out = 0;
	if (rl->interval_ms == 0)
		return 1;
	if (rl->window_start_ms == 0 ||
	    now - rl->window_start_ms >= rl->interval_ms) {
		rl->window_start_ms = now ? now : 1;
		rl->in_window = 0;
	}
	if (rl->in_window >= rl->burst) {
		rl->suppressed++;
		return 0;
	}
	rl->in_window++;
	*suppressed_out = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
