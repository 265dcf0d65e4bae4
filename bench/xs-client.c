/*
 * xs-client - one benchmark client for any xenstored: ours, Debian's C
 * xenstored and oxenstored, so that every daemon is measured by the same
 * program over the same unix socket.
 *
 *   xs-client [--socket PATH] [--pid PID] [-n OPS] [--depth D]
 *             [--children N] [--window W] [--profile] MODE...
 *
 * The socket is --socket, else $XENSTORED_PATH, else libxenstore's
 * default. MODE is one of:
 *
 *   write     OPS xs_write()s of one node (libxenstore, one connection)
 *   read      OPS xs_read()s of one node
 *   txn       OPS times: transaction start, write, end (EAGAIN retried
 *             and counted)
 *   watch     OPS round trips: write a watched node, wait for its event
 *   pipeline  OPS XS_WRITEs over the raw xs_wire.h protocol (no
 *             libxenstore), D (default 32) requests kept in flight
 *   children  create N (default 20000) children of one directory, then
 *             remove them in a fixed shuffled order; the first and the
 *             last W (default 1000) creates and removes are timed, to show
 *             whether an op's cost grows with the directory's size
 *             (--profile: every window of W, for a curve)
 *   all       every mode above, in that order
 *
 *   xs-client --socket PATH serve-floor
 *
 * serves PATH as the floor of what a xenstored can cost: an epoll loop
 * that answers every request with "OK" (its type, req_id and tx_id kept)
 * and keeps no store. Only write and pipeline make sense against it; the
 * daemon CPU per op they report is the kernel's socket and wakeup cost
 * plus an event loop, with nothing of a store. Runs until SIGTERM.
 *
 * Each mode uses its own connection and its own subtree under
 * /xs-client, removed at the end. With --pid, the daemon's CPU time is
 * read before and after each timed section: the sum of
 * /proc/PID/task/{*}/schedstat's run time (nanoseconds, every thread) and,
 * as a cross-check, utime+stime of /proc/PID/stat (clock ticks).
 *
 * Output: one line per mode, `key=value` pairs, for scripts, e.g.
 *   mode=write ops=20000 secs=0.612 ops_s=32680 cpu_us_op=10.21
 *   stat_us_op=10.00
 * children prints ops_s and cpu_us_op for create_first, create_last,
 * rm_first and rm_last. Exit status: 0, or 1 with a message on stderr
 * naming the mode, the op and the error.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xs_wire.h>

#define XC_ROOT             "/xs-client"
#define XC_DEFAULT_OPS      20000
#define XC_DEFAULT_DEPTH    32
#define XC_MAX_DEPTH        1024
#define XC_DEFAULT_CHILDREN 20000
#define XC_DEFAULT_WINDOW   1000
#define XC_WARMUP           200
#define XC_MODE_TIMEOUT_S   120 /* a hung daemon fails the mode */

struct xc_opts {
	const char *socket;
	pid_t pid; /* the daemon, 0: no CPU figures */
	uint64_t ops;
	unsigned int depth;
	uint64_t children;
	uint64_t window;
	bool profile; /* children: print every window, not only the ends */
};

/* The daemon's CPU time at one instant. */
struct xc_cpu {
	uint64_t sched_ns; /* sum of the threads' schedstat run time */
	uint64_t ticks;    /* utime + stime of /proc/PID/stat */
	bool ok;
};

/* One timed section: wall time and the daemon's CPU over it. */
struct xc_span {
	double t0, secs;
	struct xc_cpu c0;
	double cpu_us, stat_us; /* < 0: not measured */
};

static const char *xc_mode = "";

static double xc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void xc_on_alarm(int sig)
{
	static const char msg[] = "xs-client: mode timed out (daemon hung?)\n";
	ssize_t rc;

	(void)sig;
	rc = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)rc;
	_exit(1);
}

/* Report a failed op of the current mode; always returns -1. */
static int xc_fail(const char *op, const char *path, int err)
{
	fprintf(stderr, "xs-client: mode %s: %s %s: %s\n", xc_mode, op,
		path ? path : "", strerror(err));
	return -1;
}

/* ---- the daemon's CPU time ------------------------------------------ */

/* Sum of the first field (ns on a CPU) of every thread's schedstat. */
static int xc_read_schedstat(pid_t pid, uint64_t *ns)
{
	char dir[64], path[128];
	struct dirent *de;
	unsigned long long v;
	FILE *f;
	DIR *dp;
	int n = 0;

	*ns = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/schedstat", dir,
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue; /* the thread just exited */
		if (fscanf(f, "%llu", &v) == 1) {
			*ns += v;
			n++;
		}
		fclose(f);
	}
	closedir(dp);
	return n > 0 ? 0 : -ENOENT;
}

/* utime + stime (fields 14 and 15) of /proc/PID/stat, in clock ticks. */
static int xc_read_stat(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the last
	 * ')'; field 3 (state) is the first one after it. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu",
			 &ut, &st) != 2)
		return -EINVAL;
	*ticks = ut + st;
	return 0;
}

static void xc_cpu_read(pid_t pid, struct xc_cpu *c)
{
	c->ok = pid > 0 && xc_read_schedstat(pid, &c->sched_ns) == 0 &&
		xc_read_stat(pid, &c->ticks) == 0;
}

static void xc_span_start(const struct xc_opts *o, struct xc_span *s)
{
	xc_cpu_read(o->pid, &s->c0);
	s->t0 = xc_now();
}

static void xc_span_end(const struct xc_opts *o, struct xc_span *s, uint64_t ops)
{
	struct xc_cpu c1;
	double tick_us = 1e6 / (double)sysconf(_SC_CLK_TCK);

	s->secs = xc_now() - s->t0;
	xc_cpu_read(o->pid, &c1);
	s->cpu_us = s->stat_us = -1;
	if (s->c0.ok && c1.ok && ops > 0) {
		s->cpu_us = (double)(c1.sched_ns - s->c0.sched_ns) / 1e3 /
			    (double)ops;
		s->stat_us = (double)(c1.ticks - s->c0.ticks) * tick_us /
			     (double)ops;
	}
}

/* Print "PREFIXops_s=.. PREFIXcpu_us_op=.." for one span. */
static void xc_print_span(const char *prefix, const struct xc_span *s,
			  uint64_t ops)
{
	printf(" %sops_s=%.0f", prefix,
	       s->secs > 0 ? (double)ops / s->secs : 0.0);
	if (s->cpu_us >= 0)
		printf(" %scpu_us_op=%.2f %sstat_us_op=%.2f", prefix, s->cpu_us,
		       prefix, s->stat_us);
}

static void xc_report(const struct xc_span *s, uint64_t ops, const char *extra)
{
	printf("mode=%s ops=%" PRIu64 " secs=%.3f", xc_mode, ops, s->secs);
	xc_print_span("", s, ops);
	printf("%s\n", extra ? extra : "");
	fflush(stdout);
}

/* ---- libxenstore modes ---------------------------------------------- */

static struct xs_handle *xc_open(void)
{
	struct xs_handle *h;

	/* socket only: never fall back to /dev/xen/xenbus */
	h = xs_open(XS_OPEN_SOCKETONLY);
	if (!h)
		xc_fail("xs_open", getenv("XENSTORED_PATH"), errno);
	return h;
}

static int xc_write(struct xs_handle *h, xs_transaction_t t, const char *path,
		    const char *val)
{
	if (!xs_write(h, t, path, val, strlen(val)))
		return xc_fail("write", path, errno);
	return 0;
}

/* Remove our subtree; a missing one is fine. */
static int xc_cleanup(struct xs_handle *h, const char *path)
{
	if (!xs_rm(h, XBT_NULL, path) && errno != ENOENT)
		return xc_fail("rm", path, errno);
	return 0;
}

static int xc_mode_write(const struct xc_opts *o, struct xs_handle *h)
{
	const char *path = XC_ROOT "/write/node";
	struct xc_span s;
	char val[32];
	uint64_t i;

	for (i = 0; i < XC_WARMUP; i++)
		if (xc_write(h, XBT_NULL, path, "warmup") < 0)
			return -1;
	xc_span_start(o, &s);
	for (i = 0; i < o->ops; i++) {
		snprintf(val, sizeof(val), "%" PRIu64, i);
		if (xc_write(h, XBT_NULL, path, val) < 0)
			return -1;
	}
	xc_span_end(o, &s, o->ops);
	xc_report(&s, o->ops, NULL);
	return xc_cleanup(h, XC_ROOT "/write");
}

static int xc_mode_read(const struct xc_opts *o, struct xs_handle *h)
{
	const char *path = XC_ROOT "/read/node";
	const char *want = "a value of moderate length, 32 b";
	struct xc_span s;
	unsigned int len;
	uint64_t i;
	char *v;

	if (xc_write(h, XBT_NULL, path, want) < 0)
		return -1;
	for (i = 0; i < XC_WARMUP + o->ops; i++) {
		if (i == XC_WARMUP)
			xc_span_start(o, &s);
		v = xs_read(h, XBT_NULL, path, &len);
		if (!v)
			return xc_fail("read", path, errno);
		if (len != strlen(want) || memcmp(v, want, len) != 0) {
			free(v);
			return xc_fail("read (wrong value)", path, EIO);
		}
		free(v);
	}
	xc_span_end(o, &s, o->ops);
	xc_report(&s, o->ops, NULL);
	return xc_cleanup(h, XC_ROOT "/read");
}

static int xc_mode_txn(const struct xc_opts *o, struct xs_handle *h)
{
	const char *path = XC_ROOT "/txn/node";
	uint64_t i, retries = 0;
	struct xc_span s;
	xs_transaction_t t;
	char val[32], extra[64];

	for (i = 0; i < XC_WARMUP + o->ops; i++) {
		if (i == XC_WARMUP)
			xc_span_start(o, &s);
		snprintf(val, sizeof(val), "%" PRIu64, i);
		for (;;) {
			t = xs_transaction_start(h);
			if (t == XBT_NULL)
				return xc_fail("transaction_start", NULL, errno);
			if (xc_write(h, t, path, val) < 0)
				return -1;
			if (xs_transaction_end(h, t, false))
				break;
			if (errno != EAGAIN)
				return xc_fail("transaction_end", NULL, errno);
			retries++;
		}
	}
	xc_span_end(o, &s, o->ops);
	snprintf(extra, sizeof(extra), " retries=%" PRIu64, retries);
	xc_report(&s, o->ops, extra);
	return xc_cleanup(h, XC_ROOT "/txn");
}

/* Wait for an event on path (others, e.g. on the parent, are skipped). */
static int xc_wait_event(struct xs_handle *h, const char *path)
{
	unsigned int num;
	char **ev;
	bool hit;

	for (;;) {
		ev = xs_read_watch(h, &num);
		if (!ev)
			return xc_fail("read_watch", path, errno);
		hit = strcmp(ev[XS_WATCH_PATH], path) == 0;
		free(ev);
		if (hit)
			return 0;
	}
}

static int xc_mode_watch(const struct xc_opts *o, struct xs_handle *h)
{
	const char *path = XC_ROOT "/watch/node";
	struct xc_span s;
	char val[32];
	uint64_t i;

	if (xc_write(h, XBT_NULL, path, "0") < 0)
		return -1;
	if (!xs_watch(h, path, "xs-client"))
		return xc_fail("watch", path, errno);
	/* the event that every new watch fires at once */
	if (xc_wait_event(h, path) < 0)
		return -1;
	for (i = 0; i < XC_WARMUP + o->ops; i++) {
		if (i == XC_WARMUP)
			xc_span_start(o, &s);
		snprintf(val, sizeof(val), "%" PRIu64, i);
		if (xc_write(h, XBT_NULL, path, val) < 0 ||
		    xc_wait_event(h, path) < 0)
			return -1;
	}
	xc_span_end(o, &s, o->ops);
	xc_report(&s, o->ops, NULL);
	if (!xs_unwatch(h, path, "xs-client"))
		return xc_fail("unwatch", path, errno);
	return xc_cleanup(h, XC_ROOT "/watch");
}

/* Fisher-Yates with a fixed xorshift seed: the same order every run. */
static void xc_shuffle(uint32_t *a, uint64_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL, i, j;
	uint32_t tmp;

	for (i = n; i > 1; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % i;
		tmp = a[i - 1];
		a[i - 1] = a[j];
		a[j] = tmp;
	}
}

/* --profile: at every multiple of the window, close the previous window
 * (printing it) and open the next one. */
static void xc_profile(const struct xc_opts *o, struct xc_span *s,
		       const char *what, uint64_t i)
{
	if (!o->profile || i % o->window != 0)
		return;
	if (i > 0) {
		xc_span_end(o, s, o->window);
		printf("mode=children-profile op=%s at=%" PRIu64, what,
		       i - o->window);
		xc_print_span("", s, o->window);
		printf("\n");
	}
	xc_span_start(o, s);
}

static int xc_mode_children(const struct xc_opts *o, struct xs_handle *h)
{
	const char *dir = XC_ROOT "/children";
	struct xc_span cf, cl, rf, rl, pw;
	uint64_t n = o->children, w = o->window, i;
	char path[128];
	uint32_t *order;
	int rc = -1;

	order = calloc(n, sizeof(*order));
	if (!order)
		return xc_fail("calloc", NULL, ENOMEM);
	for (i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	xc_shuffle(order, n);
	if (!xs_mkdir(h, XBT_NULL, dir)) {
		xc_fail("mkdir", dir, errno);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (i == 0)
			xc_span_start(o, &cf);
		if (i == n - w)
			xc_span_start(o, &cl);
		xc_profile(o, &pw, "create", i);
		snprintf(path, sizeof(path), "%s/c%05" PRIu64, dir, i);
		if (xc_write(h, XBT_NULL, path, "") < 0)
			goto out;
		if (i == w - 1)
			xc_span_end(o, &cf, w);
		if (i == n - 1)
			xc_span_end(o, &cl, w);
	}
	xc_profile(o, &pw, "create", n);
	for (i = 0; i < n; i++) {
		if (i == 0)
			xc_span_start(o, &rf);
		if (i == n - w)
			xc_span_start(o, &rl);
		xc_profile(o, &pw, "rm", i);
		snprintf(path, sizeof(path), "%s/c%05" PRIu32, dir, order[i]);
		if (!xs_rm(h, XBT_NULL, path)) {
			xc_fail("rm", path, errno);
			goto out;
		}
		if (i == w - 1)
			xc_span_end(o, &rf, w);
		if (i == n - 1)
			xc_span_end(o, &rl, w);
	}
	xc_profile(o, &pw, "rm", n);
	printf("mode=children children=%" PRIu64 " window=%" PRIu64, n, w);
	xc_print_span("create_first_", &cf, w);
	xc_print_span("create_last_", &cl, w);
	xc_print_span("rm_first_", &rf, w);
	xc_print_span("rm_last_", &rl, w);
	printf("\n");
	fflush(stdout);
	rc = xc_cleanup(h, XC_ROOT "/children");
out:
	free(order);
	return rc;
}

/* ---- raw xs_wire.h, pipelined ---------------------------------------- */

static int xc_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int xc_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Append one XS_WRITE of "PATH\0VALUE" with req_id id to out. */
static size_t xc_put_write(char *out, uint32_t id, const char *path,
			   const char *val)
{
	struct xsd_sockmsg m = { .type = XS_WRITE, .req_id = id, .tx_id = 0 };
	size_t pl = strlen(path) + 1, vl = strlen(val);

	m.len = (uint32_t)(pl + vl);
	memcpy(out, &m, sizeof(m));
	memcpy(out + sizeof(m), path, pl);
	memcpy(out + sizeof(m) + pl, val, vl);
	return sizeof(m) + pl + vl;
}

/*
 * Keep depth XS_WRITEs in flight: send depth requests in one write(),
 * then each time replies arrive, check them (type XS_WRITE, req_id in
 * order) and send as many new requests, again in one write().
 */
static int xc_pipeline_run(int fd, uint64_t ops, unsigned int depth,
			   const char *path)
{
	static char out[XC_MAX_DEPTH * 256];
	static char in[65536];
	struct xsd_sockmsg m;
	uint64_t sent = 0, done = 0;
	size_t olen, have = 0, off;
	char val[32];
	ssize_t n;
	int err;

	while (done < ops) {
		olen = 0;
		while (sent < ops && sent - done < depth) {
			snprintf(val, sizeof(val), "%" PRIu64, sent);
			olen += xc_put_write(out + olen, (uint32_t)sent, path,
					     val);
			sent++;
		}
		if (olen > 0) {
			err = xc_write_all(fd, out, olen);
			if (err < 0)
				return xc_fail("send", path, -err);
		}
		n = read(fd, in + have, sizeof(in) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return xc_fail("recv", path, errno);
		if (n == 0)
			return xc_fail("recv (daemon closed the connection)",
				       path, ECONNRESET);
		have += (size_t)n;
		off = 0;
		while (have - off >= sizeof(m)) {
			memcpy(&m, in + off, sizeof(m));
			if (m.len > XENSTORE_PAYLOAD_MAX)
				return xc_fail("recv (oversized reply)", path,
					       EPROTO);
			if (have - off < sizeof(m) + m.len)
				break;
			if (m.type == XS_ERROR) {
				fprintf(stderr,
					"xs-client: mode %s: XS_ERROR reply "
					"'%.*s' to write %" PRIu32 "\n",
					xc_mode, (int)m.len,
					in + off + sizeof(m), m.req_id);
				return -1;
			}
			if (m.type != XS_WRITE || m.req_id != (uint32_t)done)
				return xc_fail("recv (unexpected reply)", path,
					       EPROTO);
			off += sizeof(m) + m.len;
			done++;
		}
		memmove(in, in + off, have - off);
		have -= off;
	}
	return 0;
}

static int xc_mode_pipeline(const struct xc_opts *o, struct xs_handle *h)
{
	const char *path = XC_ROOT "/pipeline/node";
	const char *sock = o->socket;
	struct xc_span s;
	char extra[32];
	int fd, rc;

	if (!sock)
		sock = xs_daemon_socket();
	fd = xc_connect(sock);
	if (fd < 0)
		return xc_fail("connect", sock, -fd);
	rc = xc_pipeline_run(fd, XC_WARMUP, o->depth, path);
	if (rc == 0) {
		xc_span_start(o, &s);
		rc = xc_pipeline_run(fd, o->ops, o->depth, path);
		xc_span_end(o, &s, o->ops);
	}
	close(fd);
	if (rc < 0)
		return rc;
	snprintf(extra, sizeof(extra), " depth=%u", o->depth);
	xc_report(&s, o->ops, extra);
	return xc_cleanup(h, XC_ROOT "/pipeline");
}

/* ---- the floor: a store-less server ----------------------------------- */

struct xc_floor_conn {
	int fd;
	size_t have;
	char in[65536];
	char out[65536];
};

/* Answer every complete request in c->in with "OK"; -1: close c. */
static int xc_floor_serve(struct xc_floor_conn *c)
{
	struct xsd_sockmsg m;
	size_t off = 0, olen = 0;
	ssize_t n;

	n = read(c->fd, c->in + c->have, sizeof(c->in) - c->have);
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	c->have += (size_t)n;
	while (c->have - off >= sizeof(m)) {
		memcpy(&m, c->in + off, sizeof(m));
		if (m.len > XENSTORE_PAYLOAD_MAX)
			return -1;
		if (c->have - off < sizeof(m) + m.len)
			break;
		off += sizeof(m) + m.len;
		if (olen + sizeof(m) + 3 > sizeof(c->out)) {
			if (xc_write_all(c->fd, c->out, olen) < 0)
				return -1;
			olen = 0;
		}
		m.len = 3;
		memcpy(c->out + olen, &m, sizeof(m));
		memcpy(c->out + olen + sizeof(m), "OK", 3);
		olen += sizeof(m) + 3;
	}
	memmove(c->in, c->in + off, c->have - off);
	c->have -= off;
	return olen > 0 && xc_write_all(c->fd, c->out, olen) < 0 ? -1 : 0;
}

static volatile sig_atomic_t xc_floor_stop;

static void xc_on_term(int sig)
{
	(void)sig;
	xc_floor_stop = 1;
}

static int xc_serve_floor(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev, evs[16];
	struct xc_floor_conn *c;
	int lfd, efd, fd, n, i;

	if (!path || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xs-client: serve-floor needs --socket\n");
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0)
		return xc_fail("listen", path, errno);
	efd = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return xc_fail("epoll", path, errno);
	signal(SIGTERM, xc_on_term);
	signal(SIGINT, xc_on_term);
	while (!xc_floor_stop) {
		n = epoll_wait(efd, evs, 16, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return xc_fail("epoll_wait", path, errno);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (!c) {
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				c = fd >= 0 ? calloc(1, sizeof(*c)) : NULL;
				if (!c) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				c->fd = fd;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				if (epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) < 0) {
					close(fd);
					free(c);
				}
				continue;
			}
			if (xc_floor_serve(c) < 0) {
				close(c->fd); /* also leaves the epoll set */
				free(c);
			}
		}
	}
	unlink(path);
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static const struct xc_modetab {
	const char *name;
	int (*run)(const struct xc_opts *o, struct xs_handle *h);
} xc_modes[] = {
	{ "write", xc_mode_write },       { "read", xc_mode_read },
	{ "txn", xc_mode_txn },           { "watch", xc_mode_watch },
	{ "pipeline", xc_mode_pipeline }, { "children", xc_mode_children },
};

#define XC_NMODES (sizeof(xc_modes) / sizeof(xc_modes[0]))

static int xc_run_mode(const struct xc_opts *o, const struct xc_modetab *m)
{
	struct xs_handle *h;
	int rc;

	xc_mode = m->name;
	alarm(XC_MODE_TIMEOUT_S);
	h = xc_open();
	if (!h)
		return -1;
	rc = m->run(o, h);
	xs_close(h);
	alarm(0);
	return rc;
}

/* Strict decimal with an optional k (x1000) suffix. */
static int xc_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end == 'k') {
		if (v > UINT64_MAX / 1000)
			return -ERANGE;
		v *= 1000;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static void xc_usage(FILE *f)
{
	fprintf(f,
		"Usage: xs-client [OPTION]... MODE...\n"
		"Benchmark a xenstored over its unix socket.\n"
		"MODE: write read txn watch pipeline children all, or serve-floor alone\n"
		"  -s, --socket=PATH    the daemon's socket (default $XENSTORED_PATH)\n"
		"  -p, --pid=PID        the daemon's pid: report its CPU time per op\n"
		"  -n, --ops=N          ops per mode (default %d)\n"
		"  -d, --depth=D        requests in flight in pipeline (default %d)\n"
		"  -c, --children=N     children in the children mode (default %d)\n"
		"  -w, --window=W       timed creates/removes at each end (default %d)\n"
		"  -P, --profile        children: print every window of W ops\n"
		"  -h, --help           this help\n",
		XC_DEFAULT_OPS, XC_DEFAULT_DEPTH, XC_DEFAULT_CHILDREN,
		XC_DEFAULT_WINDOW);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "ops", required_argument, NULL, 'n' },
		{ "depth", required_argument, NULL, 'd' },
		{ "children", required_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },
		{ "profile", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xc_opts o = { .ops = XC_DEFAULT_OPS,
			     .depth = XC_DEFAULT_DEPTH,
			     .children = XC_DEFAULT_CHILDREN,
			     .window = XC_DEFAULT_WINDOW };
	uint64_t v;
	size_t i;
	int opt, a, found;

	while ((opt = getopt_long(argc, argv, "s:p:n:d:c:w:Ph", lopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 's':
			o.socket = optarg;
			break;
		case 'p':
			if (xc_parse_u64(optarg, &v) < 0 || v == 0 ||
			    v > INT32_MAX)
				goto bad;
			o.pid = (pid_t)v;
			break;
		case 'n':
			if (xc_parse_u64(optarg, &o.ops) < 0 || o.ops == 0)
				goto bad;
			break;
		case 'd':
			if (xc_parse_u64(optarg, &v) < 0 || v == 0 ||
			    v > XC_MAX_DEPTH)
				goto bad;
			o.depth = (unsigned int)v;
			break;
		case 'c':
			if (xc_parse_u64(optarg, &o.children) < 0 ||
			    o.children > 99999)
				goto bad;
			break;
		case 'w':
			if (xc_parse_u64(optarg, &o.window) < 0 || o.window == 0)
				goto bad;
			break;
		case 'P':
			o.profile = true;
			break;
		case 'h':
			xc_usage(stdout);
			return 0;
		default:
			xc_usage(stderr);
			return 1;
		}
	}
	if (o.window * 2 > o.children) {
		fprintf(stderr, "xs-client: --window must be at most half of "
				"--children\n");
		return 1;
	}
	if (optind >= argc) {
		xc_usage(stderr);
		return 1;
	}
	if (o.socket && setenv("XENSTORED_PATH", o.socket, 1) < 0) {
		perror("xs-client: setenv");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (optind == argc - 1 && strcmp(argv[optind], "serve-floor") == 0)
		return xc_serve_floor(o.socket) < 0 ? 1 : 0;
	signal(SIGALRM, xc_on_alarm);

	for (a = optind; a < argc; a++) {
		found = 0;
		for (i = 0; i < XC_NMODES; i++) {
			if (strcmp(argv[a], "all") != 0 &&
			    strcmp(argv[a], xc_modes[i].name) != 0)
				continue;
			found = 1;
			if (xc_run_mode(&o, &xc_modes[i]) < 0)
				return 1;
		}
		if (!found) {
			fprintf(stderr, "xs-client: unknown mode '%s'\n",
				argv[a]);
			return 1;
		}
	}
	return 0;

bad:
	fprintf(stderr, "xs-client: -%c: bad value '%s'\n", opt, optarg);
	return 1;
}
