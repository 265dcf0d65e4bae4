/*
 * daemon.c - what every splitdrv daemon shares (see daemon.h): the common
 * command line, the run directory, readiness (sd_notify), signals and
 * daemonizing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon.h"
#include "log.h"

/* The write end of the pipe the daemonizing parent waits on (or -1). */
static int daemon_ready_fd = -1;
/* The flock'ed pid file of daemon_lock() (or -1) and its path. */
static int daemon_lock_fd = -1;
static char daemon_lock_file[PATH_MAX];

/* daemon_default_run_dir - $SPLITDRV_RUN_DIR if set and not empty, else
 * /run/splitdrv. The string is not ours to free. */
const char *daemon_default_run_dir(void)
{
	const char *e = getenv("SPLITDRV_RUN_DIR");

	return e && *e ? e : SPLITDRV_DEFAULT_RUN_DIR;
}

/* daemon_opts_init - fill o with the defaults (see daemon.h). */
void daemon_opts_init(struct daemon_opts *o, const char *progname)
{
	memset(o, 0, sizeof(*o));
	o->progname = progname;
	o->foreground = 0;
	o->log_level = LOG_INFO;
	o->use_syslog = 0;
	o->run_dir = daemon_default_run_dir();
	o->hv = HV_PROVIDER_AUTO;
}

static const char *daemon_prog(const struct daemon_opts *o)
{
	return o->progname ? o->progname : "splitdrv";
}

/* daemon_parse_common - see daemon.h for the return values. */
int daemon_parse_common(struct daemon_opts *o, int opt, const char *optarg)
{
	int level;

	switch (opt) {
	case 'F':
		o->foreground = 1;
		return 1;
	case 'v':
		if (o->log_level < LOG_DEBUG)
			o->log_level++;
		return 1;
	case DAEMON_OPT_LOG_LEVEL:
		if (!optarg || log_parse_level(optarg, &level) < 0) {
			fprintf(stderr,
				"%s: --log-level: '%s' is not one of error, "
				"warning, notice, info, debug (or 3..7)\n",
				daemon_prog(o), optarg ? optarg : "");
			return -1;
		}
		o->log_level = level;
		return 1;
	case DAEMON_OPT_SYSLOG:
		o->use_syslog = 1;
		return 1;
	case DAEMON_OPT_RUN_DIR:
		if (!optarg || optarg[0] != '/') {
			fprintf(stderr,
				"%s: --run-dir: '%s' is not an absolute path\n",
				daemon_prog(o), optarg ? optarg : "");
			return -1;
		}
		if (strlen(optarg) >= PATH_MAX) {
			fprintf(stderr, "%s: --run-dir: path too long\n",
				daemon_prog(o));
			return -1;
		}
		o->run_dir = optarg;
		return 1;
	case DAEMON_OPT_HV:
		if (!optarg || hv_parse_provider(optarg, &o->hv) < 0) {
			fprintf(stderr,
				"%s: --hv: '%s' is not one of loop, xen, auto\n",
				daemon_prog(o), optarg ? optarg : "");
			return -1;
		}
		return 1;
	case 'h':
		return DAEMON_PARSE_HELP;
	case 'V':
		return DAEMON_PARSE_VERSION;
	default:
		return 0;
	}
}

int daemon_common_opt(struct daemon_opts *o, int opt, const char *optarg,
		      void (*usage)(FILE *f))
{
	switch (daemon_parse_common(o, opt, optarg)) {
	case 1:
		return -1;
	case DAEMON_PARSE_HELP:
		usage(stdout);
		return 0;
	case DAEMON_PARSE_VERSION:
		printf("%s (splitdrv) %s\n", daemon_prog(o), PACKAGE_VERSION);
		return 0;
	case -1:
		return 2;
	default:
		usage(stderr);
		return 2;
	}
}

/* daemon_usage_common - the common options' lines of --help. */
void daemon_usage_common(FILE *f)
{
	fprintf(f,
		"Common options:\n"
		"  -F, --foreground       stay in the foreground "
		"(systemd Type=notify)\n"
		"  -v, --verbose          one more log level (repeatable)\n"
		"      --log-level=LEVEL  error|warning|notice|info|debug\n"
		"      --syslog           log to syslog instead of stderr\n"
		"      --run-dir=DIR      run directory (default "
		"$SPLITDRV_RUN_DIR or %s);\n"
		"                         one instance per directory: a second "
		"one refuses\n"
		"                         to start (lock: DIR/<daemon>.pid)\n"
		"      --hv=loop|xen|auto hypervisor provider (default auto)\n"
		"  -h, --help             this help\n"
		"  -V, --version          version\n",
		SPLITDRV_DEFAULT_RUN_DIR);
}

static int daemon_mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/*
 * daemon_ensure_dir - create path and its missing parents with mode
 * (existing directories are left as they are). 0 or -errno (-ENOTDIR when
 * a component exists and is not a directory).
 */
int daemon_ensure_dir(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len;
	char *p;
	int r;

	if (!path || !*path)
		return -EINVAL;
	len = strlen(path);
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';

	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		r = daemon_mkdir_one(buf, mode);
		*p = '/';
		if (r < 0)
			return r;
	}
	return daemon_mkdir_one(buf, mode);
}

/* Write our pid into the lock file (after a fork too). 0 or -errno. */
static int daemon_lock_write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0)
		return -errno;
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

/* The pid a lock file names, or 0 when it names none (yet). */
static pid_t daemon_lock_read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long v;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (end == buf || (*end && *end != '\n') || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

/*
 * daemon_lock - see daemon.h. The holder unlinks the file when it stops
 * (daemon_unlock), so a lock won on a file that is no longer the one at
 * the path (unlinked, or replaced, between our open and our flock) is
 * worthless: drop it and try again with the file now there.
 */
int daemon_lock(const char *run_dir, const char *name, pid_t *holder)
{
	char path[PATH_MAX];
	struct stat fst, pst;
	int fd, r;

	if (holder)
		*holder = 0;
	if (!run_dir || !name || !*name || strchr(name, '/'))
		return -EINVAL;
	if (daemon_lock_fd >= 0)
		return -EALREADY;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.pid", run_dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	for (int tries = 0; tries < 10; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			if (r == -EBUSY && holder)
				*holder = daemon_lock_read_pid(fd);
			close(fd);
			return r;
		}
		if (fstat(fd, &fst) < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		if (stat(path, &pst) == 0 && pst.st_dev == fst.st_dev &&
		    pst.st_ino == fst.st_ino) {
			r = daemon_lock_write_pid(fd);
			if (r < 0) {
				close(fd);
				return r;
			}
			daemon_lock_fd = fd;
			memcpy(daemon_lock_file, path, sizeof(path));
			return 0;
		}
		close(fd); /* the file went away under us: again */
	}
	return -EAGAIN;
}

/* daemon_lock_or_explain - see daemon.h. */
int daemon_lock_or_explain(const struct daemon_opts *o)
{
	const char *prog = daemon_prog(o);
	pid_t pid = 0;
	int r = daemon_lock(o->run_dir, prog, &pid);

	if (r == -EBUSY && pid > 0)
		log_errx("another %s (pid %ld) is running with run directory "
			 "%s (it holds %s/%s.pid): stop it first, or give this "
			 "one another --run-dir",
			 prog, (long)pid, o->run_dir, o->run_dir, prog);
	else if (r == -EBUSY)
		log_errx("another %s is running with run directory %s (it "
			 "holds %s/%s.pid): stop it first, or give this one "
			 "another --run-dir",
			 prog, o->run_dir, o->run_dir, prog);
	else if (r < 0)
		log_errno(LOG_ERR, r, "cannot take the lock %s/%s.pid",
			  o->run_dir, prog);
	return r;
}

/* daemon_lock_path - see daemon.h. */
const char *daemon_lock_path(void)
{
	return daemon_lock_fd >= 0 ? daemon_lock_file : NULL;
}

/* daemon_unlock - see daemon.h. Unlinked while still locked, so that a
 * newcomer never holds a lock on a file that is about to vanish (it
 * checks that the file it locked is still the one at the path). */
void daemon_unlock(void)
{
	if (daemon_lock_fd < 0)
		return;
	unlink(daemon_lock_file);
	close(daemon_lock_fd);
	daemon_lock_fd = -1;
	daemon_lock_file[0] = '\0';
}

/* daemon_notify_to - see daemon.h. */
int daemon_notify_to(const char *addr, const char *state)
{
	struct sockaddr_un sun;
	socklen_t alen;
	size_t n, slen;
	ssize_t w;
	int fd, r = 0;

	if (!addr || !state)
		return -EINVAL;
	n = strlen(addr);
	if (n < 2 || (addr[0] != '/' && addr[0] != '@'))
		return -EAFNOSUPPORT;
	if (n > sizeof(sun.sun_path) - (addr[0] == '/'))
		return -ENAMETOOLONG;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, addr, n);
	if (addr[0] == '@') {
		/* Abstract: a leading NUL, the length is the name's only. */
		sun.sun_path[0] = '\0';
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
				   1);
	}

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	slen = strlen(state);
	do {
		w = sendto(fd, state, slen, MSG_NOSIGNAL,
			   (const struct sockaddr *)&sun, alen);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != slen)
		r = -EMSGSIZE;
	close(fd);
	return r;
}

/* daemon_notify - see daemon.h. */
int daemon_notify(const char *state)
{
	const char *addr;

	if (!state)
		return -EINVAL;
	addr = getenv("NOTIFY_SOCKET");
	if (!addr || !*addr)
		return 0;
#ifdef HAVE_LIBSYSTEMD
	{
		int r = sd_notify(0, state);

		return r < 0 ? r : 0;
	}
#else
	return daemon_notify_to(addr, state);
#endif
}

struct daemon_signals {
	struct event_base *base;
	struct event *ev_term, *ev_int, *ev_hup;
	void (*on_stop)(void *);
	void (*on_hup)(void *);
	void *arg;
};

static void daemon_on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_signals *s = arg;

	log_info("%s: shutting down", strsignal((int)sig));
	if (s->on_stop)
		s->on_stop(s->arg);
	event_base_loopbreak(s->base);
}

static void daemon_on_hup_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_signals *s = arg;

	log_reopen();
	log_info("SIGHUP: logs reopened");
	if (s->on_hup)
		s->on_hup(s->arg);
}

/* daemon_signals_setup - see daemon.h. */
struct daemon_signals *daemon_signals_setup(struct event_base *base,
					    void (*on_stop)(void *),
					    void (*on_hup)(void *), void *arg)
{
	struct sigaction sa;
	struct daemon_signals *s;

	if (!base) {
		errno = EINVAL;
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return NULL;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->base = base;
	s->on_stop = on_stop;
	s->on_hup = on_hup;
	s->arg = arg;
	s->ev_term = evsignal_new(base, SIGTERM, daemon_on_stop_signal, s);
	s->ev_int = evsignal_new(base, SIGINT, daemon_on_stop_signal, s);
	s->ev_hup = evsignal_new(base, SIGHUP, daemon_on_hup_signal, s);
	if (!s->ev_term || !s->ev_int || !s->ev_hup ||
	    evsignal_add(s->ev_term, NULL) < 0 ||
	    evsignal_add(s->ev_int, NULL) < 0 ||
	    evsignal_add(s->ev_hup, NULL) < 0) {
		daemon_signals_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

/* daemon_signals_free - remove the handlers (the signals' previous
 * dispositions come back) and free s; NULL is fine. */
void daemon_signals_free(struct daemon_signals *s)
{
	if (!s)
		return;
	if (s->ev_term)
		event_free(s->ev_term);
	if (s->ev_int)
		event_free(s->ev_int);
	if (s->ev_hup)
		event_free(s->ev_hup);
	free(s);
}

static int daemon_null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/*
 * daemon_daemonize - see daemon.h. Only the child returns (0); the parent
 * exits 0 once the child called daemon_ready(), or 1 when the child ended
 * (or closed the pipe) without being ready. stderr goes to /dev/null in
 * the child: a daemon in the background should log with --syslog.
 */
int daemon_daemonize(const struct daemon_opts *o)
{
	int pfd[2];
	pid_t pid;
	char c;
	ssize_t r;

	if (o && o->foreground)
		return 0;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (pid > 0) {
		int status;

		close(pfd[1]);
		do {
			r = read(pfd[0], &c, 1);
		} while (r < 0 && errno == EINTR);
		if (r == 1)
			_exit(0);
		/* The child died (or gave up) before it was ready. */
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) != 0)
			_exit(WEXITSTATUS(status));
		_exit(1);
	}

	close(pfd[0]);
	daemon_ready_fd = pfd[1];
	/* The lock is shared with the parent's copy of the fd, which goes
	 * with the parent; the file names the daemon from now on. */
	if (daemon_lock_fd >= 0)
		daemon_lock_write_pid(daemon_lock_fd);
	if (setsid() < 0 || chdir("/") < 0) {
		int e = errno;

		close(pfd[1]);
		daemon_ready_fd = -1;
		return -e;
	}
	return daemon_null_stdio();
}

/*
 * daemon_ready - tell systemd (READY=1, plus STATUS=status if given) and
 * release a parent waiting in daemon_daemonize(). Call it once the daemon
 * serves (sockets listening, state loaded).
 */
void daemon_ready(const char *status)
{
	char buf[512];
	int r;

	if (status && *status)
		snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status);
	else
		snprintf(buf, sizeof(buf), "READY=1");
	r = daemon_notify(buf);
	if (r < 0) {
		errno = -r;
		log_warn("sd_notify READY=1");
	}
	if (daemon_ready_fd >= 0) {
		ssize_t w;

		do {
			w = write(daemon_ready_fd, "R", 1);
		} while (w < 0 && errno == EINTR);
		close(daemon_ready_fd);
		daemon_ready_fd = -1;
	}
}

/* daemon_monotonic_ms - CLOCK_MONOTONIC in milliseconds. */
uint64_t daemon_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* daemon_start - log, run directory, lock, daemonize, event loop. */
int daemon_start(struct daemon_run *dr, const struct daemon_opts *o)
{
	int r;

	memset(dr, 0, sizeof(*dr));
	dr->o = o;
	log_open(o->progname, o->use_syslog ? LOG_TO_SYSLOG : LOG_TO_STDERR);
	log_set_level(o->log_level);
	if ((r = daemon_ensure_dir(o->run_dir, 0755)) < 0) {
		log_errno(LOG_ERR, r, "cannot create run directory %s",
			  o->run_dir);
		return r;
	}
	/* Before any socket or state: a live instance's stay as they are. */
	if ((r = daemon_lock_or_explain(o)) < 0)
		return r;
	if ((r = daemon_daemonize(o)) < 0) {
		log_errno(LOG_ERR, r, "cannot daemonize");
		daemon_unlock();
		return r;
	}
	dr->base = event_base_new();
	if (!dr->base) {
		log_errx("cannot create the event loop");
		daemon_unlock();
		return -ENOMEM;
	}
	return 0;
}

/* daemon_control - the control socket <run_dir>/<progname>.ctl. */
int daemon_control(struct daemon_run *dr, ctl_info_fn status, ctl_info_fn stats,
		   void *arg)
{
	char path[PATH_MAX];
	int r;

	if (snprintf(path, sizeof(path), "%s/%s.ctl", dr->o->run_dir,
		     dr->o->progname) >= (int)sizeof(path)) {
		log_errx("control socket path too long in %s", dr->o->run_dir);
		return -ENAMETOOLONG;
	}
	dr->ctl = ctl_open(dr->base, path, dr->o->progname, PACKAGE_VERSION);
	if (!dr->ctl) {
		r = -errno;
		log_errno(LOG_ERR, r, "cannot open control socket %s", path);
		return r;
	}
	if (status)
		ctl_set_status_fn(dr->ctl, status, arg);
	if (stats)
		ctl_set_stats_fn(dr->ctl, stats, arg);
	return 0;
}

/* daemon_serve - signals, readiness, the loop. */
int daemon_serve(struct daemon_run *dr, const char *status)
{
	int r;

	dr->sig = daemon_signals_setup(dr->base, NULL, NULL, NULL);
	if (!dr->sig) {
		r = -errno;
		log_errno(LOG_ERR, r, "cannot set up signal handlers");
		return r;
	}
	daemon_ready(status);
	if (event_base_dispatch(dr->base) < 0) {
		log_errx("the event loop failed");
		return -EIO;
	}
	log_notice("stopping");
	return 0;
}

/* daemon_finish - undo daemon_start/control/serve. */
void daemon_finish(struct daemon_run *dr)
{
	if (dr->ctl)
		ctl_close(dr->ctl);
	if (dr->sig)
		daemon_signals_free(dr->sig);
	if (dr->base)
		event_base_free(dr->base);
	daemon_unlock();
	memset(dr, 0, sizeof(*dr));
}
