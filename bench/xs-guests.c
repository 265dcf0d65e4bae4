/*
 * xs-guests - many guests against one xenstored (doc/xenstored-bench.md,
 * "A thousand guests"). One process plays the toolstack, the backends and
 * every guest:
 *
 *   xs-guests --socket PATH [--pid PID] [--transport ring|socket]
 *             [--run-dir DIR] [--steps 10,100,1000] [--samples S]
 *             [--rate R] [--watches W]
 *
 * --transport ring (our xenstored on the loopback hypervisor only): each
 * guest is a loop domain of its own (hv_domain_create() on loophvd at
 * DIR, 1 MiB of RAM) with its xenstore ring page and store event channel
 * (lib/xs-guest.c, what a guest kernel's xenbus does), introduced by the
 * toolstack as libxl does: a transaction that makes /local/domain/N
 * (owner N, dom0 may read) and the backend directories, then XS_INTRODUCE
 * with the ring's frame and port. The same loophvd paths a loopguest
 * process uses, without a process per guest.
 *
 * --transport socket (any xenstored; the only way to run Debian's C
 * xenstored and oxenstored here): each guest is a unix-socket connection
 * of its own; the toolstack writes the same nodes but cannot send
 * XS_INTRODUCE (there is no ring). Every socket connection is dom0 to
 * the daemon: no permission or quota checks apply to the "guests".
 *
 * Per guest, after the introduction: one transaction writing its device
 * nodes (a vbd and a vif frontend: 10 writes), W watches (default 12:
 * the backends' state nodes, control/, memory/, ...; the initial event
 * of each is waited for). The backend (one dom0 socket connection)
 * watches each guest's vbd frontend state.
 *
 * The guests are added in steps (10, then up to 100, then up to 1,000);
 * after each step, a steady phase of S (default 2000) guest writes
 * (/local/domain/N/data/trickle, a random guest each) interleaved with S
 * backend writes of /local/domain/0/backend/vbd/N/51712/state, each timed
 * until the guest N reads its watch event, paced at R (default 1000) ops
 * per second in all. One op at a time: the latency is that of an
 * otherwise idle daemon that holds N guests' state, rings and watches.
 *
 * Output: one line per step, key=value pairs: guests, introduce_rate
 * (guests/s: the toolstack's transaction + XS_INTRODUCE, timed alone),
 * write_p50_us, write_p99_us, watch_p50_us, watch_p99_us, rss_kb and
 * anon_kb (the daemon's VmRSS / RssAnon now), rss_base_kb, anon_base_kb
 * (before the first guest), cpu_s (the daemon's CPU time over the step:
 * introductions, setup and steady phase; schedstat of every thread).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "bench.h"
#include "xs-guest.h"

#define XG_RING_FRAME 1 /* the xenstore page, as loopguest has it */

/* ---- a raw xs_wire.h client over a unix socket ---------------------- */

struct xsc {
	int fd;
	uint32_t next_id;
	char *buf; /* received, not yet parsed */
	size_t len, cap;
	char **events; /* watch event paths, oldest first */
	size_t nev, evcap;
	unsigned long dropped_events;
	int keep_events;
};

static struct xsc *xsc_connect(const char *path, int keep_events)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xsc *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->keep_events = keep_events;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		free(c);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(c->fd);
		free(c);
		errno = e;
		return NULL;
	}
	return c;
}

static int xsc_send(struct xsc *c, uint32_t type, uint32_t tx,
		    const void *payload, uint32_t len, uint32_t *req_id)
{
	struct xsd_sockmsg h = {
		.type = type, .req_id = ++c->next_id, .tx_id = tx, .len = len
	};
	char msg[sizeof(h) + XENSTORE_PAYLOAD_MAX];
	size_t n = sizeof(h) + len, off = 0;

	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), payload, len);
	while (off < n) {
		ssize_t w = write(c->fd, msg + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		off += (size_t)w;
	}
	*req_id = h.req_id;
	return 0;
}

/* xsc_fill - read what the socket has (blocking for at least a byte). */
static int xsc_fill(struct xsc *c)
{
	ssize_t r;

	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 16384;
		char *b = realloc(c->buf, cap);

		if (!b)
			return -ENOMEM;
		c->buf = b;
		c->cap = cap;
	}
	do
		r = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return r < 0 ? -errno : -EPIPE;
	c->len += (size_t)r;
	return 0;
}

/*
 * xsc_next - one whole message off the buffer (reading as needed): its
 * header in *h, its payload (NUL-terminated, malloc'd) in *body.
 */
static int xsc_next(struct xsc *c, struct xsd_sockmsg *h, char **body)
{
	int r;

	while (c->len < sizeof(*h))
		if ((r = xsc_fill(c)) < 0)
			return r;
	memcpy(h, c->buf, sizeof(*h));
	if (h->len > XENSTORE_PAYLOAD_MAX)
		return -EPROTO;
	while (c->len < sizeof(*h) + h->len)
		if ((r = xsc_fill(c)) < 0)
			return r;
	*body = malloc(h->len + 1);
	if (!*body)
		return -ENOMEM;
	memcpy(*body, c->buf + sizeof(*h), h->len);
	(*body)[h->len] = '\0';
	c->len -= sizeof(*h) + h->len;
	memmove(c->buf, c->buf + sizeof(*h) + h->len, c->len);
	return 0;
}

static int xsc_queue_event(struct xsc *c, char *body)
{
	if (!c->keep_events) {
		c->dropped_events++;
		free(body);
		return 0;
	}
	if (c->nev == c->evcap) {
		size_t cap = c->evcap ? c->evcap * 2 : 16;
		char **e = realloc(c->events, cap * sizeof(*e));

		if (!e) {
			free(body);
			return -ENOMEM;
		}
		c->events = e;
		c->evcap = cap;
	}
	c->events[c->nev++] = body; /* "path\0token\0": the path first */
	return 0;
}

static int xs_errno(const char *name)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (!strcmp(name, xsd_errors[i].errstring))
			return -xsd_errors[i].errnum;
	return -EIO;
}

/* xsc_reply - the reply to req_id; watch events meanwhile are queued. */
static int xsc_reply(struct xsc *c, uint32_t req_id, char **reply)
{
	for (;;) {
		struct xsd_sockmsg h;
		char *body;
		int r = xsc_next(c, &h, &body);

		if (r)
			return r;
		if (h.type == XS_WATCH_EVENT) {
			if ((r = xsc_queue_event(c, body)) < 0)
				return r;
			continue;
		}
		if (h.req_id != req_id) {
			free(body);
			continue;
		}
		if (h.type == XS_ERROR) {
			r = xs_errno(body);
			free(body);
			return r;
		}
		if (reply)
			*reply = body;
		else
			free(body);
		return 0;
	}
}

static int xsc_request(struct xsc *c, uint32_t type, uint32_t tx,
		       const void *payload, uint32_t len, char **reply)
{
	uint32_t id;
	int r = xsc_send(c, type, tx, payload, len, &id);

	return r ? r : xsc_reply(c, id, reply);
}

/* xsc_wait_event - block until a watch event arrives; its path. */
static int xsc_wait_event(struct xsc *c, char **path)
{
	while (!c->nev) {
		struct xsd_sockmsg h;
		char *body;
		int r = xsc_next(c, &h, &body);

		if (r)
			return r;
		if (h.type != XS_WATCH_EVENT) {
			free(body); /* a stale reply */
			continue;
		}
		if ((r = xsc_queue_event(c, body)) < 0)
			return r;
	}
	*path = c->events[0];
	memmove(c->events, c->events + 1, --c->nev * sizeof(*c->events));
	return 0;
}

/* ---- a guest: a ring or a socket ------------------------------------ */

struct xg_guest {
	unsigned int domid;
	struct hv *hv;    /* ring: the guest's domain */
	struct xsg *ring; /* ring: its xenstore page */
	struct xsc *sock; /* socket: its connection */
};

/* xg_pack - "a\0b" (b without its NUL when raw_b, as XS_WRITE wants). */
static uint32_t xg_pack(char *out, size_t cap, const char *a, const char *b,
			int raw_b)
{
	size_t al = strlen(a) + 1, bl = strlen(b) + (raw_b ? 0 : 1);

	if (al + bl > cap)
		return 0;
	memcpy(out, a, al);
	memcpy(out + al, b, bl);
	return (uint32_t)(al + bl);
}

static int xg_request(struct xg_guest *g, uint32_t type, uint32_t tx,
		      const void *payload, uint32_t len, char **reply)
{
	if (g->ring)
		return xsg_request(g->ring, type, tx, payload, len, reply, NULL);
	return xsc_request(g->sock, type, tx, payload, len, reply);
}

static int xg_write(struct xg_guest *g, uint32_t tx, const char *path,
		    const char *val)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	uint32_t n = xg_pack(buf, sizeof(buf), path, val, 1);

	return n ? xg_request(g, XS_WRITE, tx, buf, n, NULL) : -E2BIG;
}

static int xg_watch(struct xg_guest *g, const char *path, const char *token)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	uint32_t n = xg_pack(buf, sizeof(buf), path, token, 0);

	return n ? xg_request(g, XS_WATCH, 0, buf, n, NULL) : -E2BIG;
}

/* xg_wait_event - block until an event for path; others are counted. */
static int xg_wait_event(struct xg_guest *g, const char *path,
			 unsigned long *stray)
{
	for (;;) {
		char *p = NULL, *tok = NULL;
		int r, same;

		if (g->ring)
			r = xsg_wait_watch(g->ring, &p, &tok);
		else
			r = xsc_wait_event(g->sock, &p);
		if (r)
			return r;
		same = !strcmp(p, path);
		free(p);
		free(tok);
		if (same)
			return 0;
		(*stray)++;
	}
}

/* ---- the daemon's CPU and memory ------------------------------------- */

static double xg_cpu_s(pid_t pid)
{
	char dir[64], path[128];
	unsigned long long v, sum = 0;
	struct dirent *de;
	DIR *dp;

	if (!pid)
		return 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/schedstat", dir,
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &v) == 1)
			sum += v;
		fclose(f);
	}
	closedir(dp);
	return (double)sum / 1e9;
}

/* xg_mem_kb - VmRSS and RssAnon of /proc/PID/status, in kB. */
static void xg_mem_kb(pid_t pid, long *rss, long *anon)
{
	char path[64], line[256];
	FILE *f;

	*rss = *anon = 0;
	if (!pid)
		return;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", rss);
		sscanf(line, "RssAnon: %ld", anon);
	}
	fclose(f);
}

/* ---- the run ---------------------------------------------------------- */

struct xg_opts {
	const char *socket, *run_dir;
	pid_t pid;
	int ring;
	unsigned int steps[8], nsteps;
	unsigned int samples, rate, watches;
};

struct xg_run {
	const struct xg_opts *o;
	struct xsc *toolstack, *backend;
	struct xg_guest *g;
	unsigned int n;
	unsigned long stray;
	uint64_t rng;
};

static int xg_fail(const char *what, unsigned int domid, int err)
{
	fprintf(stderr, "xs-guests: %s (domain %u): %s\n", what, domid,
		strerror(-err));
	return -1;
}

static unsigned int xg_random(struct xg_run *x, unsigned int n)
{
	x->rng = x->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)((x->rng >> 33) % n);
}

/* ts_req - one toolstack request over its socket. */
static int ts_req(struct xg_run *x, uint32_t type, uint32_t tx, const char *a,
		  const char *b, int raw_b, char **reply)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	uint32_t n = b ? xg_pack(buf, sizeof(buf), a, b, raw_b)
		       : (uint32_t)strlen(a) + 1;

	if (!b)
		memcpy(buf, a, n);
	return xsc_request(x->toolstack, type, tx, buf, n, reply);
}

/*
 * xg_perms - SET_PERMS payload "path\0owner-perm\0other\0": the first
 * entry is the owner (and what everybody else gets), then one more.
 */
static int xg_perms(struct xg_run *x, uint32_t tx, const char *path,
		    const char *p1, const char *p2)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s%c%s%c%s", path, 0, p1, 0, p2);

	return xsc_request(x->toolstack, XS_SET_PERMS, tx, buf, (uint32_t)n + 1,
			   NULL);
}

/*
 * xg_introduce - the toolstack's part, as libxl's domain creation: one
 * transaction for the domain's home and its backend directories (guest
 * may read them), then XS_INTRODUCE (rings only).
 */
static int xg_introduce(struct xg_run *x, struct xg_guest *g)
{
	static const char *const devs[][2] = { { "vbd", "51712" },
					       { "vif", "0" } };
	char home[64], p[160], v[16], name[32], own[16], peer[16], *txid = NULL;
	uint32_t tx;
	int r, tries = 0;

	snprintf(home, sizeof(home), "/local/domain/%u", g->domid);
	/*
	 * Socket "guests" are no domains: C xenstored refuses permissions
	 * naming a domain it does not know (ENOENT), so they get the same
	 * SET_PERMS requests naming dom0 only (they are dom0 anyway).
	 */
	snprintf(own, sizeof(own), "n%u", g->ring ? g->domid : 0);
	snprintf(peer, sizeof(peer), "r%u", g->ring ? g->domid : 0);
again:
	if ((r = ts_req(x, XS_TRANSACTION_START, 0, "", NULL, 0, &txid)))
		return xg_fail("toolstack: transaction start", g->domid, r);
	tx = (uint32_t)strtoul(txid, NULL, 10);
	free(txid);
	r = ts_req(x, XS_MKDIR, tx, home, NULL, 0, NULL);
	if (!r)
		r = xg_perms(x, tx, home, own, "r0");
	snprintf(p, sizeof(p), "%s/domid", home);
	snprintf(v, sizeof(v), "%u", g->domid);
	if (!r)
		r = ts_req(x, XS_WRITE, tx, p, v, 1, NULL);
	snprintf(p, sizeof(p), "%s/name", home);
	snprintf(name, sizeof(name), "guest%u", g->domid);
	if (!r)
		r = ts_req(x, XS_WRITE, tx, p, name, 1, NULL);
	for (size_t i = 0; !r && i < sizeof(devs) / sizeof(devs[0]); i++) {
		char dir[128];

		snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s/%u/%s",
			 devs[i][0], g->domid, devs[i][1]);
		r = ts_req(x, XS_MKDIR, tx, dir, NULL, 0, NULL);
		if (!r)
			r = xg_perms(x, tx, dir, "n0", peer);
		snprintf(p, sizeof(p), "%s/frontend-id", dir);
		if (!r)
			r = ts_req(x, XS_WRITE, tx, p, v, 1, NULL);
		snprintf(p, sizeof(p), "%s/state", dir);
		if (!r)
			r = ts_req(x, XS_WRITE, tx, p, "1", 1, NULL);
	}
	if (r) {
		ts_req(x, XS_TRANSACTION_END, tx, "F", NULL, 0, NULL);
		return xg_fail("toolstack: writing the domain's nodes",
			       g->domid, r);
	}
	r = ts_req(x, XS_TRANSACTION_END, tx, "T", NULL, 0, NULL);
	if (r == -EAGAIN && ++tries < 10)
		goto again;
	if (r)
		return xg_fail("toolstack: transaction end", g->domid, r);
	if (g->ring) {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "%u%c%u%c%u", g->domid, 0,
				 XG_RING_FRAME, 0, xsg_port(g->ring));

		r = xsc_request(x->toolstack, XS_INTRODUCE, 0, buf,
				(uint32_t)n + 1, NULL);
		if (r)
			return xg_fail("toolstack: XS_INTRODUCE", g->domid, r);
	}
	return 0;
}

/* xg_guest_setup - the guest's frontends write their nodes, then watch. */
static int xg_guest_setup(struct xg_run *x, struct xg_guest *g)
{
	static const char *const nodes[][2] = {
		{ "device/vbd/51712/backend-id", "0" },
		{ "device/vbd/51712/virtual-device", "51712" },
		{ "device/vbd/51712/ring-ref", "8" },
		{ "device/vbd/51712/event-channel", "5" },
		{ "device/vbd/51712/protocol", "x86_64-abi" },
		{ "device/vbd/51712/state", "4" },
		{ "device/vif/0/tx-ring-ref", "9" },
		{ "device/vif/0/rx-ring-ref", "10" },
		{ "device/vif/0/event-channel", "6" },
		{ "device/vif/0/state", "4" },
	};
	/* under /local/domain/0/backend/<type>/N/ (2) or /local/domain/N/ */
	static const char *const watched[] = {
		"vbd/51712/state",
		"vif/0/state",
		"control/shutdown",
		"control/sysrq",
		"memory/target",
		"control/feature-balloon",
		"device/suspend/event-channel",
		"control/platform-feature-multiprocessor-suspend",
		"attr/vif/0",
		"drivers",
		"console/limit",
		"serial/0/limit",
	};
	char p[160], *txid = NULL, tok[32];
	uint32_t tx;
	int r, tries = 0;

again:
	if ((r = xg_request(g, XS_TRANSACTION_START, 0, "", 1, &txid)))
		return xg_fail("guest: transaction start", g->domid, r);
	tx = (uint32_t)strtoul(txid, NULL, 10);
	free(txid);
	for (size_t i = 0; !r && i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "/local/domain/%u/%s", g->domid,
			 nodes[i][0]);
		r = xg_write(g, tx, p, nodes[i][1]);
	}
	if (r) {
		xg_request(g, XS_TRANSACTION_END, tx, "F", 2, NULL);
		return xg_fail("guest: writing its device nodes", g->domid, r);
	}
	r = xg_request(g, XS_TRANSACTION_END, tx, "T", 2, NULL);
	if (r == -EAGAIN && ++tries < 10)
		goto again;
	if (r)
		return xg_fail("guest: transaction end", g->domid, r);
	for (unsigned int i = 0; i < x->o->watches; i++) {
		const char *w =
			watched[i % (sizeof(watched) / sizeof(watched[0]))];
		size_t type_len = strcspn(w, "/");

		if (i % (sizeof(watched) / sizeof(watched[0])) < 2)
			snprintf(p, sizeof(p),
				 "/local/domain/0/backend/%.*s/%u%s",
				 (int)type_len, w, g->domid, w + type_len);
		else
			snprintf(p, sizeof(p), "/local/domain/%u/%s", g->domid,
				 w);
		if (i >= sizeof(watched) / sizeof(watched[0]))
			snprintf(p + strlen(p), sizeof(p) - strlen(p), "/%u", i);
		snprintf(tok, sizeof(tok), "w%u", i);
		if ((r = xg_watch(g, p, tok)))
			return xg_fail("guest: watch", g->domid, r);
		/* every new watch fires once at once */
		if ((r = xg_wait_event(g, p, &x->stray)))
			return xg_fail("guest: first watch event", g->domid, r);
	}
	/* the backend watches the frontend's state, as blkback does */
	snprintf(p, sizeof(p), "/local/domain/%u/device/vbd/51712/state",
		 g->domid);
	{
		char buf[256];
		uint32_t n = xg_pack(buf, sizeof(buf), p, "fe", 0);

		r = xsc_request(x->backend, XS_WATCH, 0, buf, n, NULL);
	}
	if (r)
		return xg_fail("backend: watch", g->domid, r);
	return 0;
}

static int xg_add_guest(struct xg_run *x, struct xg_guest *g, double *ts_s)
{
	double t0;

	if (x->o->ring) {
		struct bench_hvd hvd = { 0 };

		snprintf(hvd.run_dir, sizeof(hvd.run_dir), "%s", x->o->run_dir);
		g->hv = bench_create_guest_sized(&hvd, "xs-guest", 1ULL << 20,
						 1);
		if (!g->hv)
			return -1;
		g->ring = xsg_open(g->hv, XG_RING_FRAME, 0);
		if (!g->ring)
			return xg_fail("xsg_open", hv_domid(g->hv), -errno);
		g->domid = hv_domid(g->hv);
	} else {
		g->domid = x->n + 1;
		g->sock = xsc_connect(x->o->socket, 1);
		if (!g->sock)
			return xg_fail("connect", g->domid, -errno);
	}
	t0 = bench_now();
	if (xg_introduce(x, g))
		return -1;
	*ts_s += bench_now() - t0;
	return xg_guest_setup(x, g);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, unsigned int n, double p)
{
	unsigned int i = (unsigned int)(p * (n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : 0;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t,
			       .tv_nsec =
				       (long)((t - (double)(time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* xg_steady - the trickle: S guest writes and S backend-to-guest events. */
static int xg_steady(struct xg_run *x, double *wl, double *el)
{
	double next = bench_now(), gap = 1.0 / x->o->rate;
	char p[160], v[32];
	int r;

	for (unsigned int i = 0; i < 2 * x->o->samples; i++) {
		struct xg_guest *g = &x->g[xg_random(x, x->n)];
		double t0;

		next += gap;
		sleep_until(next);
		snprintf(v, sizeof(v), "%u", i);
		if (i % 2 == 0) {
			snprintf(p, sizeof(p), "/local/domain/%u/data/trickle",
				 g->domid);
			t0 = bench_now();
			if ((r = xg_write(g, 0, p, v)))
				return xg_fail("guest: write", g->domid, r);
			wl[i / 2] = (bench_now() - t0) * 1e6;
		} else {
			char buf[256];
			uint32_t id, n;

			snprintf(p, sizeof(p),
				 "/local/domain/0/backend/vbd/%u/51712/state",
				 g->domid);
			n = xg_pack(buf, sizeof(buf), p, v, 1);
			t0 = bench_now();
			r = xsc_send(x->backend, XS_WRITE, 0, buf, n, &id);
			if (!r)
				r = xg_wait_event(g, p, &x->stray);
			if (r)
				return xg_fail("backend write -> guest event",
					       g->domid, r);
			el[i / 2] = (bench_now() - t0) * 1e6;
			if ((r = xsc_reply(x->backend, id, NULL)))
				return xg_fail("backend: write", g->domid, r);
		}
	}
	return 0;
}

static int xg_run(const struct xg_opts *o)
{
	struct xg_run x = { .o = o, .rng = 0x5eed };
	unsigned int max = o->steps[o->nsteps - 1];
	double *wl = calloc(o->samples, sizeof(double));
	double *el = calloc(o->samples, sizeof(double));
	long rss0, anon0;
	int rc = 1;

	x.g = calloc(max, sizeof(*x.g));
	x.toolstack = xsc_connect(o->socket, 0);
	x.backend = xsc_connect(o->socket, 0);
	if (!x.g || !wl || !el || !x.toolstack || !x.backend) {
		fprintf(stderr, "xs-guests: connecting to %s: %s\n", o->socket,
			strerror(errno));
		goto out;
	}
	xg_mem_kb(o->pid, &rss0, &anon0);
	for (unsigned int s = 0; s < o->nsteps; s++) {
		double cpu0 = xg_cpu_s(o->pid), ts_s = 0, t0 = bench_now();
		unsigned int added = 0;
		long rss, anon;

		for (; x.n < o->steps[s]; x.n++, added++)
			if (xg_add_guest(&x, &x.g[x.n], &ts_s))
				goto out;
		double setup_s = bench_now() - t0;

		if (xg_steady(&x, wl, el))
			goto out;
		xg_mem_kb(o->pid, &rss, &anon);
		qsort(wl, o->samples, sizeof(double), cmp_double);
		qsort(el, o->samples, sizeof(double), cmp_double);
		printf("guests=%u added=%u introduce_rate=%.0f setup_s=%.2f "
		       "write_p50_us=%.1f write_p99_us=%.1f "
		       "watch_p50_us=%.1f watch_p99_us=%.1f rss_kb=%ld "
		       "anon_kb=%ld rss_base_kb=%ld anon_base_kb=%ld "
		       "cpu_s=%.3f stray_events=%lu\n",
		       x.n, added, ts_s > 0 ? added / ts_s : 0, setup_s,
		       pct(wl, o->samples, 0.5), pct(wl, o->samples, 0.99),
		       pct(el, o->samples, 0.5), pct(el, o->samples, 0.99), rss,
		       anon, rss0, anon0, xg_cpu_s(o->pid) - cpu0, x.stray);
		fflush(stdout);
	}
	rc = 0;
out:
	/* guests' domains die with their hv handles (or with us) */
	for (unsigned int i = 0; x.g && i < x.n; i++) {
		xsg_close(x.g[i].ring);
		if (x.g[i].hv)
			hv_close(x.g[i].hv);
		if (x.g[i].sock)
			close(x.g[i].sock->fd);
	}
	free(x.g);
	free(wl);
	free(el);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xs-guests --socket PATH [--pid PID] "
		   "[--transport ring|socket] [--run-dir DIR]\n"
		   "                 [--steps 10,100,1000] [--samples S] "
		   "[--rate R] [--watches W]\n");
}

static int parse_steps(struct xg_opts *o, char *s)
{
	unsigned int prev = 0;

	o->nsteps = 0;
	for (char *t = strtok(s, ","); t; t = strtok(NULL, ",")) {
		unsigned long v = strtoul(t, NULL, 10);

		if (v <= prev || v > 30000 ||
		    o->nsteps == sizeof(o->steps) / sizeof(o->steps[0]))
			return -1;
		o->steps[o->nsteps++] = (unsigned int)v;
		prev = (unsigned int)v;
	}
	return o->nsteps ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pid", required_argument, NULL, 'p' },
		{ "transport", required_argument, NULL, 't' },
		{ "run-dir", required_argument, NULL, 'd' },
		{ "steps", required_argument, NULL, 'n' },
		{ "samples", required_argument, NULL, 'S' },
		{ "rate", required_argument, NULL, 'r' },
		{ "watches", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xg_opts o = { .steps = { 10, 100, 1000 },
			     .nsteps = 3,
			     .samples = 2000,
			     .rate = 1000,
			     .watches = 12 };
	struct rlimit rl;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'p':
			o.pid = (pid_t)atoi(optarg);
			break;
		case 't':
			if (strcmp(optarg, "ring") && strcmp(optarg, "socket")) {
				usage(stderr);
				return 2;
			}
			o.ring = !strcmp(optarg, "ring");
			break;
		case 'd':
			o.run_dir = optarg;
			break;
		case 'n':
			if (parse_steps(&o, optarg)) {
				fprintf(stderr, "xs-guests: --steps: rising "
						"counts, at most 8\n");
				return 2;
			}
			break;
		case 'S':
			o.samples = (unsigned int)atoi(optarg);
			break;
		case 'r':
			o.rate = (unsigned int)atoi(optarg);
			break;
		case 'w':
			o.watches = (unsigned int)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.socket || optind != argc || !o.samples || !o.rate ||
	    (o.ring && !o.run_dir)) {
		usage(stderr);
		return 2;
	}
	/* a few descriptors per guest: raise the soft limit to the hard */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return xg_run(&o);
}
