/*
 * check_daemon - lib/daemon.c: common options, run dir, the single-
 * instance lock, readiness notification, signals, daemonizing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "daemon.h"
#include "log.h"

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_daemon.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	unsetenv("NOTIFY_SOCKET");
	log_open("check_daemon", LOG_TO_STDERR);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* stderr into /dev/null around calls that print on purpose. */
static int quiet_begin(void)
{
	int saved = dup(STDERR_FILENO);
	int fd = open("/dev/null", O_WRONLY);

	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}

static void quiet_end(int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* ---- options ---- */

START_TEST(parses_each_common_option)
{
	struct daemon_opts o;

	daemon_opts_init(&o, "t");
	ck_assert_int_eq(o.foreground, 0);
	ck_assert_int_eq(o.log_level, LOG_INFO);
	ck_assert_int_eq(o.hv, HV_PROVIDER_AUTO);
	ck_assert_int_eq(daemon_parse_common(&o, 'F', NULL), 1);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_int_eq(daemon_parse_common(&o, 'v', NULL), 1);
	ck_assert_int_eq(o.log_level, LOG_DEBUG);
	ck_assert_int_eq(daemon_parse_common(&o, 'v', NULL), 1);
	ck_assert_int_eq(o.log_level, LOG_DEBUG); /* no further */
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_LOG_LEVEL,
					     "warning"),
			 1);
	ck_assert_int_eq(o.log_level, LOG_WARNING);
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_SYSLOG, NULL), 1);
	ck_assert_int_eq(o.use_syslog, 1);
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_RUN_DIR, "/tmp/r"),
			 1);
	ck_assert_str_eq(o.run_dir, "/tmp/r");
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_HV, "loop"), 1);
	ck_assert_int_eq(o.hv, HV_PROVIDER_LOOP);
	ck_assert_int_eq(daemon_parse_common(&o, 'h', NULL), DAEMON_PARSE_HELP);
	ck_assert_int_eq(daemon_parse_common(&o, 'V', NULL),
			 DAEMON_PARSE_VERSION);
	ck_assert_int_eq(daemon_parse_common(&o, 'c', "x"), 0);
	ck_assert_int_eq(daemon_parse_common(&o, '?', NULL), 0);
}
END_TEST

START_TEST(rejects_bad_log_level)
{
	struct daemon_opts o;
	int q;

	daemon_opts_init(&o, "t");
	q = quiet_begin();
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_LOG_LEVEL, "loud"),
			 -1);
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_LOG_LEVEL, "9"), -1);
	quiet_end(q);
	ck_assert_int_eq(o.log_level, LOG_INFO);
}
END_TEST

START_TEST(rejects_bad_hv_provider)
{
	struct daemon_opts o;
	int q;

	daemon_opts_init(&o, "t");
	q = quiet_begin();
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_HV, "kvm"), -1);
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_HV, ""), -1);
	quiet_end(q);
	ck_assert_int_eq(o.hv, HV_PROVIDER_AUTO);
}
END_TEST

START_TEST(rejects_relative_run_dir)
{
	struct daemon_opts o;
	int q;

	daemon_opts_init(&o, "t");
	q = quiet_begin();
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_RUN_DIR, "run"), -1);
	ck_assert_int_eq(daemon_parse_common(&o, DAEMON_OPT_RUN_DIR, ""), -1);
	quiet_end(q);
}
END_TEST

START_TEST(getopt_long_with_common_table)
{
	static const struct option longopts[] = {
		DAEMON_COMMON_LONGOPTS,
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	char *argv[] = {
		"d",      "--log-level=debug", "--hv=xen", "-F",       "-c",
		"f.conf", "--run-dir",         "/tmp/rd",  "--syslog", NULL
	};
	int argc = 9, c, r;
	const char *config = NULL;
	struct daemon_opts o;

	daemon_opts_init(&o, "d");
	optind = 1;
	while ((c = getopt_long(argc, argv, DAEMON_COMMON_SHORTOPTS "c:",
				longopts, NULL)) != -1) {
		r = daemon_parse_common(&o, c, optarg);
		ck_assert_int_ge(r, 0);
		if (r == 1)
			continue;
		ck_assert_int_eq(c, 'c');
		config = optarg;
	}
	ck_assert_int_eq(o.log_level, LOG_DEBUG);
	ck_assert_int_eq(o.hv, HV_PROVIDER_XEN);
	ck_assert_int_eq(o.foreground, 1);
	ck_assert_int_eq(o.use_syslog, 1);
	ck_assert_str_eq(o.run_dir, "/tmp/rd");
	ck_assert_str_eq(config, "f.conf");
}
END_TEST

START_TEST(usage_lists_every_common_option)
{
	static const char *const opts[] = { "--foreground", "--verbose",
					    "--log-level",  "--syslog",
					    "--run-dir",    "--hv",
					    "--help",       "--version" };
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	size_t i;

	daemon_usage_common(f);
	fclose(f);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		ck_assert_msg(strstr(buf, opts[i]) != NULL, "%s missing",
			      opts[i]);
}
END_TEST

START_TEST(run_dir_defaults_from_environment)
{
	setenv("SPLITDRV_RUN_DIR", "/tmp/elsewhere", 1);
	ck_assert_str_eq(daemon_default_run_dir(), "/tmp/elsewhere");
	setenv("SPLITDRV_RUN_DIR", "", 1);
	ck_assert_str_eq(daemon_default_run_dir(), SPLITDRV_DEFAULT_RUN_DIR);
	unsetenv("SPLITDRV_RUN_DIR");
	ck_assert_str_eq(daemon_default_run_dir(), SPLITDRV_DEFAULT_RUN_DIR);
}
END_TEST

/* ---- run dir ---- */

START_TEST(ensure_dir_creates_parents_and_accepts_existing)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/a/b/c/", tmpdir);
	ck_assert_int_eq(daemon_ensure_dir(p, 0750), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(daemon_ensure_dir(p, 0750), 0);
}
END_TEST

START_TEST(ensure_dir_fails_on_a_file_in_the_way)
{
	char f[128], p[160];
	int fd;

	snprintf(f, sizeof(f), "%s/file", tmpdir);
	fd = open(f, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(daemon_ensure_dir(f, 0755), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/sub", f);
	ck_assert_int_eq(daemon_ensure_dir(p, 0755), -ENOTDIR);
	ck_assert_int_eq(daemon_ensure_dir("", 0755), -EINVAL);
}
END_TEST

/* ---- single instance ---- */

/* The pid a lock file names (0 when none). */
static long pid_in_file(const char *path)
{
	char buf[32] = { 0 };
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

/*
 * Fork a holder: it takes the lock of tmpdir/name and waits until we
 * close *release_fd (or it dies). Returns its pid once it holds the lock.
 */
static pid_t spawn_holder(const char *name, int *release_fd)
{
	int ready[2], rel[2];
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(rel), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		close(rel[1]);
		if (daemon_lock(tmpdir, name, NULL) < 0)
			_exit(1);
		if (write(ready[1], "L", 1) != 1)
			_exit(2);
		(void)!read(rel[0], &c, 1); /* EOF: released */
		daemon_unlock();
		_exit(0);
	}
	close(ready[1]);
	close(rel[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release_fd = rel[1];
	return pid;
}

START_TEST(lock_writes_pid_and_unlock_removes_the_file)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/d.pid", tmpdir);
	ck_assert_int_eq(daemon_lock(tmpdir, "d", NULL), 0);
	ck_assert_str_eq(daemon_lock_path(), path);
	ck_assert_int_eq(pid_in_file(path), (long)getpid());
	ck_assert_int_eq(daemon_lock(tmpdir, "d", NULL), -EALREADY);
	daemon_unlock();
	ck_assert_ptr_null(daemon_lock_path());
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* and again */
	ck_assert_int_eq(daemon_lock(tmpdir, "d", NULL), 0);
	daemon_unlock();
}
END_TEST

START_TEST(lock_refuses_beside_a_live_holder_and_names_it)
{
	char path[128];
	struct stat before, after;
	pid_t holder, who = -1;
	int rel, status;

	snprintf(path, sizeof(path), "%s/d.pid", tmpdir);
	holder = spawn_holder("d", &rel);
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_int_eq(daemon_lock(tmpdir, "d", &who), -EBUSY);
	ck_assert_int_eq(who, holder);
	/* the holder's file is untouched: same inode, still its pid */
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_eq(after.st_ino, before.st_ino);
	ck_assert_int_eq(pid_in_file(path), (long)holder);
	ck_assert_ptr_null(daemon_lock_path());
	close(rel);
	ck_assert_int_eq(waitpid(holder, &status, 0), holder);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* gone: ours now */
	ck_assert_int_eq(daemon_lock(tmpdir, "d", &who), 0);
	ck_assert_int_eq(pid_in_file(path), (long)getpid());
	daemon_unlock();
}
END_TEST

START_TEST(lock_takes_over_the_file_of_a_dead_instance)
{
	char path[128];
	pid_t pid;
	int status, fd;

	/* a holder killed outright leaves its file behind, unlocked */
	snprintf(path, sizeof(path), "%s/d.pid", tmpdir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (daemon_lock(tmpdir, "d", NULL) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(pid_in_file(path), (long)pid);
	ck_assert_int_eq(daemon_lock(tmpdir, "d", NULL), 0);
	ck_assert_int_eq(pid_in_file(path), (long)getpid());
	daemon_unlock();
	/* and one with junk in it */
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "junk\n", 5), 5);
	close(fd);
	ck_assert_int_eq(daemon_lock(tmpdir, "d", NULL), 0);
	ck_assert_int_eq(pid_in_file(path), (long)getpid());
	daemon_unlock();
}
END_TEST

START_TEST(lock_is_per_name_and_checks_its_arguments)
{
	pid_t who = 7;
	int rel;
	pid_t holder = spawn_holder("a", &rel);

	ck_assert_int_eq(daemon_lock(tmpdir, "b", NULL), 0);
	daemon_unlock();
	ck_assert_int_eq(daemon_lock(tmpdir, "x/y", &who), -EINVAL);
	ck_assert_int_eq(who, 0);
	ck_assert_int_eq(daemon_lock(tmpdir, "", NULL), -EINVAL);
	ck_assert_int_eq(daemon_lock(NULL, "a", NULL), -EINVAL);
	ck_assert_int_eq(daemon_lock("/nonexistent/dir", "a", NULL), -ENOENT);
	close(rel);
	waitpid(holder, NULL, 0);
}
END_TEST

static void kit_stop_soon(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	raise(SIGTERM); /* what systemctl stop sends */
}

static int kit_status(void *arg, json_t *obj)
{
	(void)obj;
	(*(int *)arg)++;
	return 0;
}

START_TEST(kit_runs_until_sigterm_and_cleans_up)
{
	struct daemon_opts o;
	struct daemon_run dr;
	struct timeval soon = { 0, 50000 };
	struct stat sb;
	char run[128], pid[160], ctl[160];
	struct event *ev;
	int calls = 0;

	unsetenv("NOTIFY_SOCKET");
	snprintf(run, sizeof(run), "%s/run", tmpdir); /* created by start */
	snprintf(pid, sizeof(pid), "%s/kit.pid", run);
	snprintf(ctl, sizeof(ctl), "%s/kit.ctl", run);
	daemon_opts_init(&o, "kit");
	o.foreground = 1;
	o.run_dir = run;
	ck_assert_int_eq(daemon_start(&dr, &o), 0);
	ck_assert_ptr_nonnull(dr.base);
	ck_assert_int_eq(stat(pid, &sb), 0);
	ck_assert_int_eq(daemon_control(&dr, kit_status, NULL, &calls), 0);
	ck_assert_int_eq(stat(ctl, &sb), 0);
	ck_assert(S_ISSOCK(sb.st_mode));
	ev = evtimer_new(dr.base, kit_stop_soon, NULL);
	evtimer_add(ev, &soon);
	ck_assert_int_eq(daemon_serve(&dr, "serving"), 0);
	event_free(ev);
	daemon_finish(&dr);
	ck_assert_ptr_null(dr.base);
	ck_assert_int_eq(stat(pid, &sb), -1); /* the lock went with it */
	ck_assert_int_eq(daemon_lock(run, "kit", NULL), 0); /* free again */
	daemon_unlock();
}
END_TEST

START_TEST(kit_start_refuses_a_held_lock_and_holds_nothing)
{
	struct daemon_opts o;
	struct daemon_run dr;
	int rel, saved, fd;
	pid_t holder = spawn_holder("kit", &rel);

	daemon_opts_init(&o, "kit");
	o.foreground = 1;
	o.run_dir = tmpdir;
	fd = open("/dev/null", O_WRONLY);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO); /* the explanation is tested above */
	ck_assert_int_eq(daemon_start(&dr, &o), -EBUSY);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	ck_assert_ptr_null(dr.base);
	daemon_finish(&dr); /* a no-op on a failed start */
	close(rel);
	waitpid(holder, NULL, 0);
}
END_TEST

START_TEST(lock_or_explain_says_who_where_and_what_to_do)
{
	struct daemon_opts o;
	char out[128], msg[1024] = { 0 }, want[256];
	int rel, saved, fd;
	pid_t holder = spawn_holder("mydaemon", &rel);
	ssize_t n;

	daemon_opts_init(&o, "mydaemon");
	o.run_dir = tmpdir;
	snprintf(out, sizeof(out), "%s/stderr", tmpdir);
	fd = open(out, O_CREAT | O_RDWR | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	ck_assert_int_eq(daemon_lock_or_explain(&o), -EBUSY);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, msg, sizeof(msg) - 1, 0);
	close(fd);
	ck_assert_int_gt(n, 0);
	snprintf(want, sizeof(want), "another mydaemon (pid %ld)", (long)holder);
	ck_assert_msg(strstr(msg, want), "no '%s' in: %s", want, msg);
	snprintf(want, sizeof(want), "%s/mydaemon.pid", tmpdir);
	ck_assert_msg(strstr(msg, want), "no '%s' in: %s", want, msg);
	ck_assert_msg(strstr(msg, "stop it first"), "no next step in: %s", msg);
	close(rel);
	waitpid(holder, NULL, 0);
	ck_assert_int_eq(daemon_lock_or_explain(&o), 0);
	daemon_unlock();
}
END_TEST

START_TEST(lock_follows_the_daemon_through_daemonize)
{
	char path[128];
	struct daemon_opts o;
	int p[2], status;
	pid_t pid, dpid, who = 0;

	snprintf(path, sizeof(path), "%s/t.pid", tmpdir);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t me;

		close(p[0]);
		daemon_opts_init(&o, "t");
		o.run_dir = tmpdir;
		if (daemon_lock(tmpdir, "t", NULL) < 0)
			_exit(4);
		if (daemon_daemonize(&o) < 0)
			_exit(5);
		me = getpid();
		daemon_ready(NULL);
		if (write(p[1], &me, sizeof(me)) != sizeof(me))
			_exit(6);
		alarm(30); /* gone by itself should the test fail first */
		pause();   /* until killed */
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(read(p[0], &dpid, sizeof(dpid)), sizeof(dpid));
	close(p[0]);
	/* the parent is gone; the daemon holds the lock and is named */
	ck_assert_int_eq(pid_in_file(path), (long)dpid);
	ck_assert_int_eq(daemon_lock(tmpdir, "t", &who), -EBUSY);
	ck_assert_int_eq(who, dpid);
	ck_assert_int_eq(kill(dpid, SIGKILL), 0);
	for (int i = 0; i < 200; i++) {
		if (daemon_lock(tmpdir, "t", NULL) == 0)
			break;
		usleep(10000);
	}
	ck_assert_str_eq(daemon_lock_path(), path);
	daemon_unlock();
}
END_TEST

/* ---- notify ---- */

/* A datagram socket bound at addr ("/path" or "@abstract"). */
static int dgram_bind(const char *addr)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(addr);
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(n, sizeof(sun.sun_path));
	memcpy(sun.sun_path, addr, n);
	if (addr[0] == '@') {
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		len = sizeof(sun);
	}
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void assert_datagram(int fd, const char *want)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[512];
	ssize_t n;

	ck_assert_msg(poll(&p, 1, 2000) == 1, "no datagram");
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(notify_sends_ready_to_notify_socket)
{
	char addr[128];
	int fd;

	snprintf(addr, sizeof(addr), "%s/notify", tmpdir);
	fd = dgram_bind(addr);
	setenv("NOTIFY_SOCKET", addr, 1);
	ck_assert_int_eq(daemon_notify("READY=1"), 0);
	assert_datagram(fd, "READY=1");
	close(fd);
}
END_TEST

START_TEST(notify_reaches_abstract_socket)
{
	char addr[64];
	int fd;

	snprintf(addr, sizeof(addr), "@splitdrv-check-%ld", (long)getpid());
	fd = dgram_bind(addr);
	setenv("NOTIFY_SOCKET", addr, 1);
	ck_assert_int_eq(daemon_notify("READY=1"), 0);
	assert_datagram(fd, "READY=1");
	close(fd);
}
END_TEST

START_TEST(notify_without_notify_socket_does_nothing)
{
	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(daemon_notify("READY=1"), 0);
}
END_TEST

START_TEST(notify_to_speaks_the_datagram_protocol)
{
	char path[128], abs[64];
	int fd1, fd2;

	snprintf(path, sizeof(path), "%s/n2", tmpdir);
	snprintf(abs, sizeof(abs), "@splitdrv-check2-%ld", (long)getpid());
	fd1 = dgram_bind(path);
	fd2 = dgram_bind(abs);
	ck_assert_int_eq(daemon_notify_to(path, "STATUS=x"), 0);
	assert_datagram(fd1, "STATUS=x");
	ck_assert_int_eq(daemon_notify_to(abs, "READY=1\nSTATUS=y"), 0);
	assert_datagram(fd2, "READY=1\nSTATUS=y");
	close(fd1);
	close(fd2);
}
END_TEST

START_TEST(notify_to_rejects_other_addresses)
{
	char path[128];

	ck_assert_int_eq(daemon_notify_to("vsock:2:999", "READY=1"),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(daemon_notify_to("relative", "READY=1"), -EAFNOSUPPORT);
	ck_assert_int_eq(daemon_notify_to("@", "READY=1"), -EAFNOSUPPORT);
	snprintf(path, sizeof(path), "%s/nobody", tmpdir);
	ck_assert_int_eq(daemon_notify_to(path, "READY=1"), -ENOENT);
}
END_TEST

START_TEST(ready_sends_ready_and_status)
{
	char addr[128];
	int fd;

	snprintf(addr, sizeof(addr), "%s/notify", tmpdir);
	fd = dgram_bind(addr);
	setenv("NOTIFY_SOCKET", addr, 1);
	daemon_ready("serving 3 domains");
	assert_datagram(fd, "READY=1\nSTATUS=serving 3 domains");
	close(fd);
}
END_TEST

/* ---- signals ---- */

struct sigtest {
	struct event_base *base;
	int stops, hups, timed_out;
	int raise_after_hup;
};

static void on_stop(void *arg)
{
	((struct sigtest *)arg)->stops++;
}

static void on_hup(void *arg)
{
	struct sigtest *t = arg;

	t->hups++;
	if (t->raise_after_hup)
		raise(SIGTERM);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sigtest *t = arg;

	t->timed_out = 1;
	event_base_loopbreak(t->base);
}

/* Run a loop with the daemon's handlers until they break it (or 5 s). */
static void run_with_signal(struct sigtest *t, int sig)
{
	struct timeval tv = { .tv_sec = 5 };
	struct daemon_signals *s;
	struct event *timer;
	int q;

	t->base = event_base_new();
	ck_assert_ptr_nonnull(t->base);
	s = daemon_signals_setup(t->base, on_stop, on_hup, t);
	ck_assert_ptr_nonnull(s);
	timer = evtimer_new(t->base, on_timeout, t);
	evtimer_add(timer, &tv);
	q = quiet_begin(); /* the handlers log a line */
	raise(sig);
	event_base_dispatch(t->base);
	quiet_end(q);
	event_free(timer);
	daemon_signals_free(s);
	event_base_free(t->base);
}

START_TEST(sigterm_calls_on_stop_and_breaks_loop)
{
	struct sigtest t = { 0 };

	run_with_signal(&t, SIGTERM);
	ck_assert_int_eq(t.timed_out, 0);
	ck_assert_int_eq(t.stops, 1);
	ck_assert_int_eq(t.hups, 0);
}
END_TEST

START_TEST(sigint_calls_on_stop_and_breaks_loop)
{
	struct sigtest t = { 0 };

	run_with_signal(&t, SIGINT);
	ck_assert_int_eq(t.timed_out, 0);
	ck_assert_int_eq(t.stops, 1);
}
END_TEST

START_TEST(sighup_calls_on_hup_and_loop_goes_on)
{
	struct sigtest t = { .raise_after_hup = 1 };

	/* The loop survives SIGHUP: only the SIGTERM raised by on_hup ends it. */
	run_with_signal(&t, SIGHUP);
	ck_assert_int_eq(t.timed_out, 0);
	ck_assert_int_eq(t.hups, 1);
	ck_assert_int_eq(t.stops, 1);
}
END_TEST

START_TEST(sigpipe_is_ignored)
{
	struct event_base *b = event_base_new();
	struct daemon_signals *s = daemon_signals_setup(b, NULL, NULL, NULL);
	int p[2];

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_int_eq(write(p[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(p[1]);
	daemon_signals_free(s);
	event_base_free(b);
}
END_TEST

/* ---- daemonize ---- */

/*
 * Fork a would-be daemon: it daemonizes, tells us its pid through a pipe,
 * waits delay_ms, then calls daemon_ready() (ready) or exits with 3.
 * Returns the exit status of the process that called daemon_daemonize()
 * and the ms it took to exit.
 */
static int run_daemonize(int ready, int delay_ms, uint64_t *took_ms,
			 pid_t *daemon_pid)
{
	struct daemon_opts o;
	uint64_t t0 = daemon_monotonic_ms();
	int p[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct timespec ts = { .tv_sec = delay_ms / 1000,
				       .tv_nsec = (delay_ms % 1000) * 1000000L };
		pid_t me;

		close(p[0]);
		daemon_opts_init(&o, "t");
		if (daemon_daemonize(&o) < 0)
			_exit(4);
		/* Only the daemon gets here. */
		me = getpid();
		if (write(p[1], &me, sizeof(me)) != sizeof(me))
			_exit(5);
		close(p[1]);
		nanosleep(&ts, NULL);
		if (!ready)
			_exit(3);
		daemon_ready(NULL);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*took_ms = daemon_monotonic_ms() - t0;
	ck_assert_int_eq(read(p[0], daemon_pid, sizeof(*daemon_pid)),
			 sizeof(*daemon_pid));
	close(p[0]);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(daemonize_parent_waits_for_ready)
{
	uint64_t took;
	pid_t dpid;

	ck_assert_int_eq(run_daemonize(1, 200, &took, &dpid), 0);
	ck_assert_uint_ge(took, 190);
	ck_assert_int_ne(dpid, getpid());
}
END_TEST

START_TEST(daemonize_parent_fails_when_daemon_dies_unready)
{
	uint64_t took;
	pid_t dpid;

	ck_assert_int_eq(run_daemonize(0, 50, &took, &dpid), 3);
}
END_TEST

START_TEST(foreground_does_not_fork)
{
	struct daemon_opts o;
	pid_t me = getpid();

	daemon_opts_init(&o, "t");
	o.foreground = 1;
	ck_assert_int_eq(daemon_daemonize(&o), 0);
	ck_assert_int_eq(getpid(), me);
}
END_TEST

START_TEST(monotonic_ms_advances)
{
	struct timespec ts = { .tv_nsec = 20 * 1000000L };
	uint64_t a = daemon_monotonic_ms(), b;

	nanosleep(&ts, NULL);
	b = daemon_monotonic_ms();
	ck_assert_uint_ge(b - a, 19);
	ck_assert_uint_lt(b - a, 2000);
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parses_each_common_option);
	tcase_add_test(tc, rejects_bad_log_level);
	tcase_add_test(tc, rejects_bad_hv_provider);
	tcase_add_test(tc, rejects_relative_run_dir);
	tcase_add_test(tc, getopt_long_with_common_table);
	tcase_add_test(tc, usage_lists_every_common_option);
	tcase_add_test(tc, run_dir_defaults_from_environment);
	tcase_add_test(tc, ensure_dir_creates_parents_and_accepts_existing);
	tcase_add_test(tc, ensure_dir_fails_on_a_file_in_the_way);
	tcase_add_test(tc, lock_writes_pid_and_unlock_removes_the_file);
	tcase_add_test(tc, lock_refuses_beside_a_live_holder_and_names_it);
	tcase_add_test(tc, lock_takes_over_the_file_of_a_dead_instance);
	tcase_add_test(tc, lock_is_per_name_and_checks_its_arguments);
	tcase_add_test(tc, lock_or_explain_says_who_where_and_what_to_do);
	tcase_add_test(tc, kit_runs_until_sigterm_and_cleans_up);
	tcase_add_test(tc, kit_start_refuses_a_held_lock_and_holds_nothing);
	tcase_add_test(tc, lock_follows_the_daemon_through_daemonize);
	tcase_add_test(tc, notify_sends_ready_to_notify_socket);
	tcase_add_test(tc, notify_reaches_abstract_socket);
	tcase_add_test(tc, notify_without_notify_socket_does_nothing);
	tcase_add_test(tc, notify_to_speaks_the_datagram_protocol);
	tcase_add_test(tc, notify_to_rejects_other_addresses);
	tcase_add_test(tc, ready_sends_ready_and_status);
	tcase_add_test(tc, sigterm_calls_on_stop_and_breaks_loop);
	tcase_add_test(tc, sigint_calls_on_stop_and_breaks_loop);
	tcase_add_test(tc, sighup_calls_on_hup_and_loop_goes_on);
	tcase_add_test(tc, sigpipe_is_ignored);
	tcase_add_test(tc, daemonize_parent_waits_for_ready);
	tcase_add_test(tc, daemonize_parent_fails_when_daemon_dies_unready);
	tcase_add_test(tc, foreground_does_not_fork);
	tcase_add_test(tc, monotonic_ms_advances);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(daemon_suite)
