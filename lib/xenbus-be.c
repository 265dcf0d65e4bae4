/*
 * xenbus-be.c - the xenbus backend framework (see xenbus-be.h): the
 * xenstore side of the state machine of xenbus-be-fsm.h.
 *
 * Each device keeps the facts the decision needs (its state, the
 * frontend's, online, whether its directory is gone, whether the driver's
 * disconnect is pending, whether it was removed). An event updates one
 * fact of one device, then evaluate() asks xbe_fsm_decide() where the
 * device goes and applies the answer: xbe_fsm_walk() with the driver's
 * hooks, then remove() / free.
 *
 * Watches: one on the backend root (recursive) and one per device on
 * <frontend>/state. Watch tokens name what they are for; the path that
 * fired is parsed, never trusted to be one of ours:
 *
 *   <root>                      (registration, or the root removed): scan
 *   <root>/<fd>                 that domain's devices: list, probe, gone
 *   <root>/<fd>/<devid>         that device: new (probe) or removed
 *   <root>/<fd>/<devid>/online  that device's online key
 *   <root>/<fd>/<devid>/frontend[-id]  a device the toolstack completes
 *   <root>/<fd>/<devid>/<other> nothing read: our own writes (state,
 *                               error, feature keys) come back this way
 *   <fe>/state (its token)      that device's frontend state
 *
 * Teardown as libxl does it (xl block-detach, xl destroy): the toolstack
 * writes online=0 and state=5 (Closing) into the backend directory, waits
 * up to 10 s for state 6 (Closed), then removes the directories. online=0
 * is what we act on (the Closing beside it is for the frontend): we
 * disconnect, and answer Closed and remove the device once the frontend
 * has closed too (or is gone).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "log.h"
#include "xenbus-be.h"
#include "xenbus-be-fsm.h"

#define TOKEN_ROOT "xbe-root"
#define TOKEN_FE   "xbe-fe:" /* + backend path */

struct dev {
	struct xbe_device pub;
	TAILQ_ENTRY(dev) link;
	/* facts for xbe_fsm_decide() (be_state, fe_state, online: pub) */
	bool dir_gone;           /* the toolstack removed our directory */
	bool disconnect_pending; /* disconnect() returned 1 */
	bool removed;            /* remove() called, or the probe failed */
	bool dead;               /* the frontend's domain died */
	bool fe_watched;
	unsigned int nerr;       /* xbe_error() calls so far */
	unsigned int probe_nerr; /* nerr when probe() was called */
};

struct xbe {
	struct event_base *base;
	struct xs_handle *xs;
	domid_t bd;
	char type[32];
	char root[96];
	const struct xbe_driver_ops *ops;
	void *arg;
	struct event *ev;
	TAILQ_HEAD(, dev) devs;
	unsigned int ndevs;
	bool freeing; /* xbe_free(): no waiting for disconnects, no writes */
};

static struct log_ratelimit fe_rl = LOG_RATELIMIT_INIT(5000, 20);

void *xbe_arg(const struct xbe *x)
{
	return x->arg;
}
struct xs_handle *xbe_xs(const struct xbe *x)
{
	return x->xs;
}
unsigned int xbe_device_count(const struct xbe *x)
{
	return x->ndevs;
}

static char *read_key(struct xbe *x, const char *dir, const char *key)
{
	char path[256];
	unsigned int len;

	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return xs_read(x->xs, XBT_NULL, path, &len);
}

static int parse_uint(const char *s, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int read_uint(struct xbe *x, const char *dir, const char *key,
		     unsigned long min, unsigned long max, unsigned long *out)
{
	char *s = read_key(x, dir, key);
	int r;

	if (!s)
		return errno ? -errno : -EIO;
	r = parse_uint(s, min, max, out);
	free(s);
	return r;
}

int xbe_read_be_uint(struct xbe_device *d, const char *key, unsigned long min,
		     unsigned long max, unsigned long *out)
{
	return read_uint(d->xbe, d->be_path, key, min, max, out);
}

int xbe_read_fe_uint(struct xbe_device *d, const char *key, unsigned long min,
		     unsigned long max, unsigned long *out)
{
	return read_uint(d->xbe, d->fe_path, key, min, max, out);
}

int xbe_read_be_str(struct xbe_device *d, const char *key, char **out)
{
	*out = read_key(d->xbe, d->be_path, key);
	return *out ? 0 : (errno ? -errno : -EIO);
}

int xbe_read_fe_str(struct xbe_device *d, const char *key, char **out)
{
	*out = read_key(d->xbe, d->fe_path, key);
	return *out ? 0 : (errno ? -errno : -EIO);
}

/*
 * write_if_present - write path = val in a transaction that first checks
 * that the backend directory still exists: once the toolstack has removed
 * it (a device being destroyed), a late state or error write must not
 * bring a stray node back (Linux's xenbus_switch_state checks the same).
 * 0, -ENOENT when the directory is gone (nothing written), or -errno.
 */
static int write_if_present(struct xbe_device *d, const char *path,
			    const char *val, unsigned int len)
{
	struct xs_handle *xs = d->xbe->xs;

	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		unsigned int dlen;
		void *dir;

		if (!t)
			return -errno;
		dir = xs_read(xs, t, d->be_path, &dlen);
		if (!dir) {
			int err = errno;

			xs_transaction_end(xs, t, true);
			return err ? -err : -EIO;
		}
		free(dir);
		if (!xs_write(xs, t, path, val, len)) {
			int err = errno;

			xs_transaction_end(xs, t, true);
			return -err;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

int xbe_write_be(struct xbe_device *d, xs_transaction_t tx, const char *key,
		 const char *fmt, ...)
{
	char path[256], val[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(val) ||
	    snprintf(path, sizeof(path), "%s/%s", d->be_path, key) >=
		    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (tx != XBT_NULL) {
		if (!xs_write(d->xbe->xs, tx, path, val, (unsigned int)n))
			return -errno;
		return 0;
	}
	return write_if_present(d, path, val, (unsigned int)n);
}

int xbe_transaction(struct xbe_device *d,
		    int (*fill)(struct xbe_device *d, xs_transaction_t t,
				void *arg),
		    void *arg)
{
	struct xs_handle *xs = d->xbe->xs;

	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		int r;

		if (!t)
			return -errno;
		r = fill(d, t, arg);
		if (r < 0) {
			xs_transaction_end(xs, t, true);
			return r;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

void xbe_error(struct xbe_device *d, int err, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	((struct dev *)d)->nerr++; /* pub is the first member */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the node in words, as the log: "<errno> <what>: <strerror>" */
	err = err < 0 ? -err : err;
	log_warnx_dev(d->fdomid, d->name, "%s: %s", msg, strerror(err));
	xbe_write_be(d, XBT_NULL, "error", "%d %s: %s", err, msg, strerror(err));
}

/* error_unless_set - xbe_error(), unless the driver wrote a more precise
 * "error" for this failure since nerr0 (it is not overwritten). */
static void error_unless_set(struct xbe_device *d, unsigned int nerr0, int err,
			     const char *what)
{
	if (((struct dev *)d)->nerr != nerr0) {
		log_warnx_dev(d->fdomid, d->name, "%s failed", what);
		return;
	}
	xbe_error(d, err, "%s", what);
}

static void fe_token(const struct dev *dv, char *buf, size_t len)
{
	snprintf(buf, len, TOKEN_FE "%s", dv->pub.be_path);
}

/* The walker's hooks (struct xbe_fsm_hooks): the driver's, plus the
 * state write. */
static int hook_connect(void *arg)
{
	struct dev *dv = arg;
	unsigned int nerr0 = dv->nerr;
	int r = dv->pub.xbe->ops->connect(&dv->pub);

	if (r < 0)
		error_unless_set(&dv->pub, nerr0, r,
				 "connecting to the frontend");
	return r < 0 ? r : 0;
}

static int hook_disconnect(void *arg)
{
	struct dev *dv = arg;
	int r = dv->pub.xbe->ops->disconnect(&dv->pub);

	/* xbe_free(): the daemon drained its I/O first */
	return dv->pub.xbe->freeing ? 0 : r;
}

static void hook_enter(void *arg, enum xenbus_state from, enum xenbus_state to)
{
	struct dev *dv = arg;
	struct xbe_device *d = &dv->pub;
	int r = -ENOENT;

	d->be_state = to;
	if (!dv->dir_gone && !d->xbe->freeing)
		r = xbe_write_be(d, XBT_NULL, "state", "%d", (int)to);
	if (r == -ENOENT)
		log_debug_dev(d->fdomid, d->name,
			      "backend directory gone: "
			      "state %s not written",
			      xbe_state_name(to));
	else if (r < 0)
		log_warnx_dev(d->fdomid, d->name, "cannot write state: %s",
			      strerror(-r));
	log_info_dev(d->fdomid, d->name, "backend %s -> %s",
		     xbe_state_name(from), xbe_state_name(to));
}

static const struct xbe_fsm_hooks dev_hooks = {
	.connect = hook_connect,
	.disconnect = hook_disconnect,
	.enter = hook_enter,
};

/*
 * set_backend_state - walk the device to target (xbe_fsm_walk). An
 * illegal target is logged and refused with -EINVAL; the rest as
 * xbe_fsm_walk returns it.
 */
static int set_backend_state(struct dev *dv, enum xenbus_state target)
{
	struct xbe_device *d = &dv->pub;
	enum xenbus_state from = d->be_state;
	int r = xbe_fsm_walk(&d->be_state, &dv->disconnect_pending, target,
			     &dev_hooks, dv);

	if (r == -EINVAL)
		log_warnx_dev(d->fdomid, d->name,
			      "refused: no transition "
			      "%s -> %s",
			      xbe_state_name(from), xbe_state_name(target));
	else if (r == -EINPROGRESS)
		log_debug_dev(d->fdomid, d->name,
			      "%s held until the disconnect "
			      "finishes",
			      xbe_state_name(target));
	return r;
}

static void dev_free(struct xbe *x, struct dev *dv)
{
	char tok[160], path[160];

	if (dv->fe_watched) {
		fe_token(dv, tok, sizeof(tok));
		snprintf(path, sizeof(path), "%s/state", dv->pub.fe_path);
		xs_unwatch(x->xs, path, tok);
	}
	TAILQ_REMOVE(&x->devs, dv, link);
	x->ndevs--;
	log_debug_dev(dv->pub.fdomid, dv->pub.name, "freed");
	free(dv);
}

/*
 * evaluate - decide the device's next step from its facts and apply it.
 * dv may be freed: the caller must not touch it after.
 */
static void evaluate(struct xbe *x, struct dev *dv)
{
	struct xbe_device *d = &dv->pub;
	const struct xbe_fsm_in in = {
		.be = d->be_state,
		.fe = dv->dead ? XenbusStateClosed : d->fe_state,
		.online = d->online && !dv->dead,
		.dir_gone = dv->dir_gone,
		.disconnect_pending = dv->disconnect_pending,
		.removed = dv->removed,
	};
	struct xbe_fsm_out out = xbe_fsm_decide(&in);

	if (out.target != d->be_state && set_backend_state(dv, out.target) < 0)
		return; /* held for a disconnect, refused, or connect failed */
	if (out.actions & XBE_ACT_REMOVE) {
		if (x->ops->remove)
			x->ops->remove(d); /* also cancels a pending probe */
		d->priv = NULL;
		dv->removed = true;
		log_info_dev(d->fdomid, d->name, "removed");
	}
	if (out.actions & XBE_ACT_FREE)
		dev_free(x, dv);
}

static struct dev *find_dev(struct xbe *x, domid_t fd, uint32_t devid)
{
	struct dev *dv;

	TAILQ_FOREACH(dv, &x->devs, link)
		if (dv->pub.fdomid == fd && dv->pub.devid == devid)
			return dv;
	return NULL;
}

/* frontend_changed - read the frontend's state (guest input), decide. */
static void frontend_changed(struct xbe *x, struct dev *dv)
{
	struct xbe_device *d = &dv->pub;
	unsigned long v;
	enum xenbus_state fs;
	int r;

	r = xbe_read_fe_uint(d, "state", 0, XenbusStateReconfigured, &v);
	if (r == -EINVAL)
		LOG_RATELIMITED(&fe_rl, LOG_WARNING, d->fdomid, d->name,
				"frontend state is not a xenbus state "
				"(buggy or malicious guest): treated as Closed");
	fs = r == 0 ? (enum xenbus_state)v
		    : (r == -ENOENT ? XenbusStateUnknown : XenbusStateClosed);
	if (fs != d->fe_state)
		log_debug_dev(d->fdomid, d->name, "frontend %s -> %s",
			      xbe_state_name(d->fe_state), xbe_state_name(fs));
	d->fe_state = fs;
	evaluate(x, dv);
}

/* backend_changed - the toolstack changed online, or removed the device
 * (a missing online key: is the directory still there?). */
static void backend_changed(struct xbe *x, struct dev *dv)
{
	struct xbe_device *d = &dv->pub;
	unsigned long v;
	unsigned int len;
	char *dir;
	int r;

	r = xbe_read_be_uint(d, "online", 0, 1, &v);
	if (r == 0) {
		d->online = v != 0;
	} else if (r == -ENOENT) {
		dir = xs_read(x->xs, XBT_NULL, d->be_path, &len);
		if (dir)
			free(dir);
		else if (errno == ENOENT)
			dv->dir_gone = true;
	}
	if (dv->dir_gone)
		log_info_dev(d->fdomid, d->name, "backend directory removed");
	evaluate(x, dv);
}

/* probe_finish - the driver's probe is over: InitWait, or Closed. */
static void probe_finish(struct xbe *x, struct dev *dv, int r)
{
	struct xbe_device *d = &dv->pub;
	char tok[160], path[160];

	if (r < 0) {
		error_unless_set(d, dv->probe_nerr, r, "probing the device");
		dv->removed = true; /* nothing of the driver's to undo */
		set_backend_state(dv, XenbusStateClosed);
		evaluate(x, dv);
		return;
	}
	set_backend_state(dv, XenbusStateInitWait);
	fe_token(dv, tok, sizeof(tok));
	snprintf(path, sizeof(path), "%s/state", d->fe_path);
	if (!xs_watch(x->xs, path, tok)) {
		xbe_error(d, -errno, "watching the frontend");
		return;
	}
	dv->fe_watched = true; /* fires once now: frontend_changed() */
}

static void probe(struct xbe *x, domid_t fd, uint32_t devid)
{
	struct dev *dv;
	struct xbe_device *d;
	char *fe, expect[64];
	unsigned long fid, online = 1;
	int r;

	dv = calloc(1, sizeof(*dv));
	if (!dv)
		return;
	d = &dv->pub;
	d->xbe = x;
	d->fdomid = fd;
	d->devid = devid;
	d->online = true;
	d->be_state = XenbusStateInitialising;
	d->fe_state = XenbusStateUnknown;
	snprintf(d->be_path, sizeof(d->be_path), "%s/%u/%u", x->root, fd, devid);
	snprintf(d->name, sizeof(d->name), "%s/%u/%u", x->type, fd, devid);
	fe = read_key(x, d->be_path, "frontend");
	if (!fe) {
		free(dv); /* not complete yet: the toolstack is still writing */
		return;
	}
	/* The toolstack names the frontend; it must be the guest's own. */
	snprintf(expect, sizeof(expect), "/local/domain/%u/", fd);
	if (strncmp(fe, expect, strlen(expect)) ||
	    strlen(fe) >= sizeof(d->fe_path) || strstr(fe, "/../") ||
	    read_uint(x, d->be_path, "frontend-id", 0, DOMID_FIRST_RESERVED - 1,
		      &fid) ||
	    fid != fd) {
		log_warnx_dev(fd, d->name,
			      "frontend '%s' does not belong to "
			      "domain %u: ignoring the device",
			      fe, fd);
		free(fe);
		free(dv);
		return;
	}
	strcpy(d->fe_path, fe);
	free(fe);
	if (read_uint(x, d->be_path, "online", 0, 1, &online) == 0)
		d->online = online != 0;
	TAILQ_INSERT_TAIL(&x->devs, dv, link);
	x->ndevs++;
	log_info_dev(fd, d->name, "new device, frontend %s", d->fe_path);

	dv->probe_nerr = dv->nerr;
	r = x->ops->probe(d);
	if (r > 0) {
		/* the driver finishes it (xbe_probed); until then the
		 * device stays Initialising and its frontend unwatched */
		log_debug_dev(fd, d->name, "probe in progress");
		return;
	}
	probe_finish(x, dv, r);
}

void xbe_probed(struct xbe_device *d, int r)
{
	struct dev *dv = (struct dev *)d; /* pub is the first member */

	/* Initialising and not removed: the probe is the one running */
	if (d->be_state != XenbusStateInitialising || dv->removed)
		return;
	log_debug_dev(d->fdomid, d->name, "probe finished: %d", r);
	probe_finish(d->xbe, dv, r);
}

/* gone - the device's directory is no longer listed: let it go. */
static void gone(struct xbe *x, struct dev *dv)
{
	if (dv->dir_gone)
		return;
	dv->dir_gone = true;
	log_info_dev(dv->pub.fdomid, dv->pub.name, "backend directory removed");
	evaluate(x, dv);
}

static bool listed(char **names, unsigned int n, unsigned long v)
{
	for (unsigned int i = 0; names && i < n; i++) {
		unsigned long w;

		if (parse_uint(names[i], 0, 0xffffffffUL, &w) == 0 && w == v)
			return true;
	}
	return false;
}

/* scan_domain - bring the devices of frontend domain fd in line with
 * <root>/<fd>: probe new ones, let go of those whose directory is gone. */
static void scan_domain(struct xbe *x, domid_t fd)
{
	char **ids, path[160];
	unsigned int nid = 0;
	struct dev *dv, *tmp;

	snprintf(path, sizeof(path), "%s/%u", x->root, fd);
	ids = xs_directory(x->xs, XBT_NULL, path, &nid);
	if (!ids && errno != ENOENT) {
		log_warn("listing %s", path);
		return;
	}
	for (dv = TAILQ_FIRST(&x->devs); dv; dv = tmp) {
		tmp = TAILQ_NEXT(dv, link);
		if (dv->pub.fdomid == fd && !listed(ids, nid, dv->pub.devid))
			gone(x, dv);
	}
	for (unsigned int j = 0; ids && j < nid; j++) {
		unsigned long id;

		if (parse_uint(ids[j], 0, 0xffffffffUL, &id) == 0 &&
		    !find_dev(x, fd, (uint32_t)id))
			probe(x, fd, (uint32_t)id);
	}
	free(ids);
}

/* scan - every domain under the root (at start, or the root removed). */
static void scan(struct xbe *x)
{
	char **fds;
	unsigned int nfd = 0;
	struct dev *dv, *tmp;

	fds = xs_directory(x->xs, XBT_NULL, x->root, &nfd);
	if (!fds && errno != ENOENT) {
		log_warn("listing %s", x->root);
		return;
	}
	for (dv = TAILQ_FIRST(&x->devs); dv; dv = tmp) {
		tmp = TAILQ_NEXT(dv, link);
		if (!listed(fds, nfd, dv->pub.fdomid))
			gone(x, dv);
	}
	for (unsigned int i = 0; fds && i < nfd; i++) {
		unsigned long fd;

		if (parse_uint(fds[i], 0, DOMID_FIRST_RESERVED - 1, &fd) == 0)
			scan_domain(x, (domid_t)fd);
	}
	free(fds);
}

/*
 * root_event - one event under the root: act on the path it names only.
 * <root>[/<fd>[/<devid>[/<key>...]]], numbers as xenstore lists them.
 */
static void root_event(struct xbe *x, const char *path)
{
	size_t rl = strlen(x->root);
	unsigned long fd, id;
	char fds[16], ids[16];
	const char *p, *key = NULL;
	size_t n;
	struct dev *dv;

	if (strncmp(path, x->root, rl) || (path[rl] && path[rl] != '/'))
		return; /* not ours */
	if (!path[rl] || !path[rl + 1]) {
		scan(x);
		return;
	}
	p = path + rl + 1;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof(fds))
		return;
	memcpy(fds, p, n);
	fds[n] = '\0';
	if (parse_uint(fds, 0, DOMID_FIRST_RESERVED - 1, &fd))
		return;
	p += n;
	if (!*p) {
		scan_domain(x, (domid_t)fd);
		return;
	}
	p++;
	n = strcspn(p, "/");
	if (n == 0 || n >= sizeof(ids))
		return;
	memcpy(ids, p, n);
	ids[n] = '\0';
	if (parse_uint(ids, 0, 0xffffffffUL, &id))
		return;
	if (p[n])
		key = p + n + 1;
	dv = find_dev(x, (domid_t)fd, (uint32_t)id);
	if (!dv) {
		/* a device the toolstack is writing: try once it named its
		 * frontend (probe() waits for the frontend key) */
		if (!key || !strcmp(key, "frontend") ||
		    !strcmp(key, "frontend-id") || !strcmp(key, "online"))
			probe(x, (domid_t)fd, (uint32_t)id);
		return;
	}
	/* the device node itself (removed?) or its online key; every other
	 * key is ours (state, error, features) or not for us */
	if (!dv->dir_gone && (!key || !strcmp(key, "online")))
		backend_changed(x, dv);
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct xbe *x = arg;
	char **w;

	(void)fd;
	(void)what;
	while ((w = xs_check_watch(x->xs))) {
		const char *tok = w[XS_WATCH_TOKEN];
		const char *path = w[XS_WATCH_PATH];

		if (!strcmp(tok, TOKEN_ROOT)) {
			root_event(x, path);
		} else if (!strncmp(tok, TOKEN_FE, strlen(TOKEN_FE))) {
			const char *bp = tok + strlen(TOKEN_FE);
			size_t fl;
			struct dev *dv;

			TAILQ_FOREACH(dv, &x->devs, link)
				if (!strcmp(dv->pub.be_path, bp))
					break;
			fl = dv ? strlen(dv->pub.fe_path) : 0;
			/* <fe>/state itself: not a node below it */
			if (dv && !dv->removed &&
			    !strncmp(path, dv->pub.fe_path, fl) &&
			    !strcmp(path + fl, "/state"))
				frontend_changed(x, dv);
		}
		free(w);
	}
}

struct xbe *xbe_new(struct event_base *base, struct xs_handle *xs,
		    domid_t backend_domid, const char *type,
		    const struct xbe_driver_ops *ops, void *arg)
{
	struct xbe *x;

	if (!ops || !ops->probe || !ops->connect || !ops->disconnect ||
	    strlen(type) >= sizeof(x->type) || strchr(type, '/')) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->base = base;
	x->xs = xs;
	x->bd = backend_domid;
	x->ops = ops;
	x->arg = arg;
	strcpy(x->type, type);
	snprintf(x->root, sizeof(x->root), "/local/domain/%u/backend/%s",
		 backend_domid, type);
	TAILQ_INIT(&x->devs);
	x->ev = event_new(base, xs_fileno(xs), EV_READ | EV_PERSIST, on_watch,
			  x);
	if (!x->ev || event_add(x->ev, NULL) < 0) {
		if (x->ev)
			event_free(x->ev);
		free(x);
		errno = ENOMEM;
		return NULL;
	}
	if (!xs_watch(xs, x->root, TOKEN_ROOT)) {
		int e = errno;

		event_free(x->ev);
		free(x);
		errno = e;
		return NULL;
	}
	/* The watch fires once on registration (path = root): the scan. */
	return x;
}

void xbe_free(struct xbe *x)
{
	if (!x)
		return;
	/* as if every directory were gone: disconnect (without waiting),
	 * remove, free; nothing is written */
	x->freeing = true;
	while (!TAILQ_EMPTY(&x->devs)) {
		struct dev *dv = TAILQ_FIRST(&x->devs);

		dv->dir_gone = true;
		dv->disconnect_pending = false;
		evaluate(x, dv);
	}
	xs_unwatch(x->xs, x->root, TOKEN_ROOT);
	event_free(x->ev);
	free(x);
}

void xbe_disconnected(struct xbe_device *d)
{
	struct dev *dv = (struct dev *)d; /* pub is the first member */

	if (!dv->disconnect_pending)
		return;
	dv->disconnect_pending = false;
	log_debug_dev(d->fdomid, d->name, "disconnect finished");
	evaluate(d->xbe, dv); /* the facts may have moved meanwhile */
}

unsigned int xbe_domain_dead(struct xbe *x, domid_t domid)
{
	struct dev *dv, *tmp;
	unsigned int n = 0;

	for (dv = TAILQ_FIRST(&x->devs); dv; dv = tmp) {
		tmp = TAILQ_NEXT(dv, link);
		if (dv->pub.fdomid != domid || dv->removed || dv->dead)
			continue;
		n++;
		log_info_dev(domid, dv->pub.name,
			     "domain dead: tearing the "
			     "device down");
		dv->dead = true;
		evaluate(x, dv);
	}
	return n;
}

void xbe_foreach(struct xbe *x, void (*fn)(struct xbe_device *d, void *arg),
		 void *arg)
{
	struct dev *dv;

	TAILQ_FOREACH(dv, &x->devs, link)
		if (!dv->removed)
			fn(&dv->pub, arg);
}
