/*
 * daemon.h - what every splitdrv daemon shares: the common command line,
 * run directory, readiness notification, signals.
 *
 * Common options (parsed by daemon_parse_common(), listed by
 * daemon_usage_common()):
 *   -F, --foreground       stay in the foreground (systemd Type=notify)
 *   -v, --verbose          one more log level (repeatable)
 *       --log-level=LEVEL  error|warning|notice|info|debug
 *       --syslog           log to syslog instead of stderr
 *       --run-dir=DIR      run directory, absolute (default $SPLITDRV_RUN_DIR or
 *                          /run/splitdrv)
 *       --hv=loop|xen|auto hypervisor provider
 *   -h, --help             usage
 *   -V, --version          version
 */
#ifndef SPLITDRV_DAEMON_H
#define SPLITDRV_DAEMON_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <event2/event.h>

#include "ctl.h"
#include "hv.h"

#define SPLITDRV_DEFAULT_RUN_DIR "/run/splitdrv"

struct daemon_opts {
	const char *progname;
	int foreground;
	int log_level;
	int use_syslog;
	const char *run_dir;
	enum hv_provider hv;
};

/* daemon_default_run_dir - $SPLITDRV_RUN_DIR or /run/splitdrv. */
const char *daemon_default_run_dir(void);

/*
 * daemon_parse_common - handle one common option (getopt_long's opt and
 * optarg). Returns 1 if it was one of ours and was applied to *o, 0 if it
 * is not one of ours, -1 on a bad value (after printing a message naming
 * the option to stderr). For -h and -V it returns DAEMON_PARSE_HELP or
 * DAEMON_PARSE_VERSION: the caller prints its usage (plus
 * daemon_usage_common()) or its version and exits 0.
 *
 *   while ((c = getopt_long(argc, argv, DAEMON_COMMON_SHORTOPTS "c:",
 *                           longopts, NULL)) != -1) {
 *           switch (daemon_parse_common(&o, c, optarg)) {
 *           case 1: continue;
 *           case DAEMON_PARSE_HELP: usage(stdout); exit(0);
 *           case DAEMON_PARSE_VERSION: puts(PACKAGE_STRING); exit(0);
 *           case -1: exit(2);
 *           }
 *           ... the daemon's own options; '?' -> usage(stderr), exit(2)
 *   }
 */
#define DAEMON_PARSE_HELP    2
#define DAEMON_PARSE_VERSION 3
int daemon_parse_common(struct daemon_opts *o, int opt, const char *optarg);
/* The getopt_long entries and the short-option string for the above. */
#define DAEMON_COMMON_SHORTOPTS "FvhV"
#define DAEMON_OPT_LOG_LEVEL    0x1001
#define DAEMON_OPT_SYSLOG       0x1002
#define DAEMON_OPT_RUN_DIR      0x1003
#define DAEMON_OPT_HV           0x1004
#define DAEMON_COMMON_LONGOPTS                                                  \
	{ "foreground", no_argument, NULL, 'F' },                               \
		{ "verbose", no_argument, NULL, 'v' },                          \
		{ "log-level", required_argument, NULL, DAEMON_OPT_LOG_LEVEL }, \
		{ "syslog", no_argument, NULL, DAEMON_OPT_SYSLOG },             \
		{ "run-dir", required_argument, NULL, DAEMON_OPT_RUN_DIR },     \
		{ "hv", required_argument, NULL, DAEMON_OPT_HV },               \
		{ "help", no_argument, NULL, 'h' },                             \
	{                                                                       \
		"version", no_argument, NULL, 'V'                               \
	}
/*
 * daemon_common_opt - daemon_parse_common() and what a main() does with
 * its answer: -1 when opt was a common option now applied (go on
 * parsing); otherwise the exit status to return at once: 0 after -h
 * (usage(stdout)) or -V ("<progname> (splitdrv) <version>"), 2 after a
 * bad value (named on stderr) or an unknown option (usage(stderr)).
 */
int daemon_common_opt(struct daemon_opts *o, int opt, const char *optarg,
		      void (*usage)(FILE *f));
/* daemon_usage_common - print the common options' help to f. */
void daemon_usage_common(FILE *f);
/* daemon_opts_init - defaults: background, LOG_INFO, stderr,
 * daemon_default_run_dir(), HV_PROVIDER_AUTO. */
void daemon_opts_init(struct daemon_opts *o, const char *progname);

/* daemon_ensure_dir - mkdir -p with mode; 0 or -errno. */
int daemon_ensure_dir(const char *path, mode_t mode);

/*
 * daemon_lock - one instance of a daemon per run directory: create
 * <run_dir>/<name>.pid, take an exclusive flock(2) on it without waiting
 * and write our pid into it. Call it before any socket is created or any
 * state is touched, so that a second instance leaves a live one alone.
 * The file of an instance that died is not locked (the kernel drops a
 * lock with its process): it is taken over. The lock is held until
 * daemon_unlock() or exit, across daemon_daemonize() (which writes the
 * daemon's own pid into the file).
 * Returns 0; -EBUSY when a live instance holds the lock (*holder, if not
 * NULL, gets the pid its file names, or 0 when it names none yet);
 * -EALREADY when this process already holds a lock; or -errno.
 */
int daemon_lock(const char *run_dir, const char *name, pid_t *holder);
/*
 * daemon_lock_or_explain - daemon_lock(o->run_dir, o->progname) with the
 * failure logged in words: who holds it (pid and path) and the next step
 * ("stop it first"). 0 or -errno.
 */
int daemon_lock_or_explain(const struct daemon_opts *o);
/* daemon_lock_path - the path of the lock daemon_lock() holds, or NULL. */
const char *daemon_lock_path(void);
/* daemon_unlock - remove the pid file and drop the lock; no-op if none. */
void daemon_unlock(void);

/*
 * daemon_notify - sd_notify(3)-style readiness: sends state (e.g.
 * "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET if set; a no-op otherwise.
 * Uses libsystemd when built with it, else the documented datagram
 * protocol. Returns 0 or -errno.
 */
int daemon_notify(const char *state);
/*
 * daemon_notify_to - the datagram protocol itself: send state to the
 * AF_UNIX datagram socket named by addr ("/path", or "@name" for an
 * abstract socket), as daemon_notify() does without libsystemd.
 * 0 or -errno (-EAFNOSUPPORT for any other address form).
 */
int daemon_notify_to(const char *addr, const char *state);

/*
 * daemon_signals_setup - install libevent handlers: SIGTERM and SIGINT
 * break the loop (after calling on_stop if set), SIGHUP calls log_reopen()
 * and then on_hup if set. SIGPIPE is ignored. Returns the handlers' owner
 * (free it with daemon_signals_free() before the event_base) or NULL with
 * errno.
 */
struct daemon_signals;
struct daemon_signals *daemon_signals_setup(struct event_base *base,
					    void (*on_stop)(void *),
					    void (*on_hup)(void *), void *arg);
void daemon_signals_free(struct daemon_signals *s);

/*
 * daemon_daemonize - unless foreground: fork, setsid, chdir /, stdio to
 * /dev/null; the parent waits until the child calls daemon_ready() (or
 * exits), so that "daemon started" means "serving". The child writes its
 * pid into the daemon_lock() file, if one is held. 0 or -errno.
 */
int daemon_daemonize(const struct daemon_opts *o);
/* daemon_ready - readiness: sd_notify READY=1 and release the parent. */
void daemon_ready(const char *status);

/*
 * The start-up and shut-down tail every daemon shares. main() parses its
 * options, then:
 *
 *	struct daemon_run dr;
 *
 *	if (daemon_start(&dr, &o) < 0)    // log, run dir, lock, fork, loop
 *		return EXIT_FAILURE;
 *	... the daemon's own set-up on dr.base; failures goto out ...
 *	if (daemon_control(&dr, status_fn, stats_fn, &me) < 0)
 *		goto out;                 // <run_dir>/<progname>.ctl
 *	ctl_add_cmd(dr.ctl, ...);         // the daemon's own commands
 *	log_notice("serving ...");
 *	rc = daemon_serve(&dr, "serving") < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
 * out:
 *	... the daemon's own teardown (events before the loop goes) ...
 *	daemon_finish(&dr);               // ctl, signals, loop, lock
 *	return rc;
 *
 * Each step logs its own failure in words, so main() only unwinds.
 */
struct daemon_run {
	const struct daemon_opts *o;
	struct event_base *base;
	struct ctl *ctl;
	struct daemon_signals *sig;
};

/*
 * daemon_start - open the log (o->use_syslog, o->log_level), create
 * o->run_dir, take the single-instance lock (daemon_lock_or_explain),
 * daemonize unless o->foreground, and create the event loop (dr->base).
 * 0 or -errno; on failure dr holds nothing (daemon_finish() is a no-op).
 */
int daemon_start(struct daemon_run *dr, const struct daemon_opts *o);
/*
 * daemon_control - open the control socket <run_dir>/<progname>.ctl on
 * dr->base (dr->ctl) answering "status" and "stats" with the given
 * functions (either may be NULL). 0 or -errno.
 */
int daemon_control(struct daemon_run *dr, ctl_info_fn status, ctl_info_fn stats,
		   void *arg);
/*
 * daemon_serve - SIGTERM/SIGINT stop the loop, SIGHUP reopens the log;
 * announce readiness (daemon_ready(status)) and run the loop until
 * stopped. 0 when stopped by a signal or the loop ran out, -errno if it
 * could not start.
 */
int daemon_serve(struct daemon_run *dr, const char *status);
/* daemon_finish - close the control socket, the signal handlers, the
 * event loop and the lock; safe on what daemon_start() left. */
void daemon_finish(struct daemon_run *dr);

/* daemon_monotonic_ms - CLOCK_MONOTONIC in milliseconds. */
uint64_t daemon_monotonic_ms(void);

#endif /* SPLITDRV_DAEMON_H */
