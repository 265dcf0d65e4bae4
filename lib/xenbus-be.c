/*
 * xenbus-be.c - the xenbus backend framework (see xenbus-be.h).
 *
 * Watches: one on the backend root (recursive: devices appearing and going,
 * "online", a toolstack writing our "state"), and one per device on
 * <frontend>/state. Watch tokens name what they are for; the path that
 * fired is parsed, never trusted to be one of ours.
 *
 * Teardown as libxl does it (xl block-detach, xl destroy): the toolstack
 * writes online=0 and state=5 (Closing) into the backend directory, waits
 * up to 10 s for state 6 (Closed), then removes the directories. We see our
 * state become Closing, disconnect, and answer Closed once the frontend has
 * closed too (or is gone).
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

#define TOKEN_ROOT "xbe-root"
#define TOKEN_FE "xbe-fe:" /* + backend path */

struct dev {
	struct xbe_device pub;
	TAILQ_ENTRY(dev) link;
	bool removed; /* remove() called; waiting for the toolstack's rm */
	bool probing; /* probe() returned 1: xbe_probed() finishes it */
	unsigned int nerr;       /* xbe_error() calls so far */
	unsigned int probe_nerr; /* nerr when probe() was called */
	bool fe_watched;
	bool disconnecting; /* the driver's disconnect is still running */
	bool want_closed;   /* switch to Closed once it has finished */
	bool want_remove;   /* and remove() the device */
	bool want_free;     /* and free it (its directory is gone) */
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
	bool freeing; /* xbe_free(): no more waiting for disconnects */
};

static struct log_ratelimit fe_rl = LOG_RATELIMIT_INIT(5000, 20);

void *xbe_arg(const struct xbe *x) { return x->arg; }
struct xs_handle *xbe_xs(const struct xbe *x) { return x->xs; }
unsigned int xbe_device_count(const struct xbe *x) { return x->ndevs; }

static const char *state_name(enum xenbus_state s)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring",
		"Reconfigured",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static char *read_key(struct xbe *x, const char *dir, const char *key)
{
	char path[256];
	unsigned int len;

	if (snprintf(path, sizeof(path), "%s/%s", dir, key) >= (int)sizeof(path)) {
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
		return -ENOENT;
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
	return *out ? 0 : -ENOENT;
}

int xbe_read_fe_str(struct xbe_device *d, const char *key, char **out)
{
	*out = read_key(d->xbe, d->fe_path, key);
	return *out ? 0 : -ENOENT;
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
			return err == ENOENT ? -ENOENT : -err;
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
	log_warnx_dev(d->fdomid, d->name, "%s: %s", msg, strerror(err < 0 ? -err : err));
	xbe_write_be(d, XBT_NULL, "error", "%d %s", err < 0 ? -err : err, msg);
}

/* error_unless_set - xbe_error(), unless the driver wrote a more precise
 * "error" for this failure since nerr0 (it is not overwritten). */
static void error_unless_set(struct xbe_device *d, unsigned int nerr0,
			     int err, const char *what)
{
	if (((struct dev *)d)->nerr != nerr0) {
		log_warnx_dev(d->fdomid, d->name, "%s failed", what);
		return;
	}
	xbe_error(d, err, "%s", what);
}

/*
 * set_state - move the backend to st if that is a legal step from where
 * it is (the diagram in xenbus-be.h) and write it.
 */
static void set_state(struct dev *dv, enum xenbus_state st)
{
	struct xbe_device *d = &dv->pub;
	enum xenbus_state from = d->be_state;
	bool ok;
	int r;

	switch (st) {
	case XenbusStateInitWait:
		ok = from == XenbusStateInitialising || from == XenbusStateClosed;
		break;
	case XenbusStateConnected:
		ok = from == XenbusStateInitWait || from == XenbusStateInitialised;
		break;
	case XenbusStateClosing:
		ok = from != XenbusStateClosed;
		break;
	case XenbusStateClosed:
		ok = true;
		break;
	default:
		ok = false;
	}
	if (!ok) {
		log_debug_dev(d->fdomid, d->name, "no transition %s -> %s",
			      state_name(from), state_name(st));
		return;
	}
	if (from == st)
		return;
	d->be_state = st;
	r = xbe_write_be(d, XBT_NULL, "state", "%d", (int)st);
	if (r == -ENOENT)
		log_debug_dev(d->fdomid, d->name, "backend directory gone: "
			      "state %s not written", state_name(st));
	else if (r < 0)
		log_warnx_dev(d->fdomid, d->name, "cannot write state: %s",
			      strerror(-r));
	log_info_dev(d->fdomid, d->name, "backend %s -> %s", state_name(from),
		     state_name(st));
}

static void do_disconnect(struct xbe *x, struct dev *dv)
{
	if (dv->pub.connected) {
		dv->pub.connected = false;
		if (x->ops->disconnect(&dv->pub) > 0)
			dv->disconnecting = true;
	}
}

/* close_dev - Closed, and removed when offline, once disconnected. */
static void do_remove(struct xbe *x, struct dev *dv);
static void close_dev(struct xbe *x, struct dev *dv, bool remove)
{
	do_disconnect(x, dv);
	if (dv->disconnecting) {
		dv->want_closed = true;
		dv->want_remove |= remove;
		return;
	}
	set_state(dv, XenbusStateClosed);
	if (remove)
		do_remove(x, dv);
}

static void do_remove(struct xbe *x, struct dev *dv)
{
	if (dv->removed)
		return;
	do_disconnect(x, dv);
	if (dv->disconnecting && !x->freeing) {
		dv->want_remove = true;
		return;
	}
	if (x->ops->remove)
		x->ops->remove(&dv->pub); /* also cancels a pending probe */
	dv->pub.priv = NULL;
	dv->removed = true;
	dv->probing = false;
	log_info_dev(dv->pub.fdomid, dv->pub.name, "removed");
}

static void fe_token(const struct dev *dv, char *buf, size_t len)
{
	snprintf(buf, len, TOKEN_FE "%s", dv->pub.be_path);
}

static void dev_free(struct xbe *x, struct dev *dv)
{
	char tok[160], path[160];

	if (x->freeing)
		dv->disconnecting = false; /* the daemon drained I/O first */
	do_remove(x, dv);
	if (dv->disconnecting) {
		dv->want_free = true; /* finished by xbe_disconnected() */
		return;
	}
	if (dv->fe_watched) {
		fe_token(dv, tok, sizeof(tok));
		snprintf(path, sizeof(path), "%s/state", dv->pub.fe_path);
		xs_unwatch(x->xs, path, tok);
	}
	TAILQ_REMOVE(&x->devs, dv, link);
	x->ndevs--;
	free(dv);
}

static struct dev *find_dev(struct xbe *x, domid_t fd, uint32_t devid)
{
	struct dev *dv;

	TAILQ_FOREACH(dv, &x->devs, link)
		if (dv->pub.fdomid == fd && dv->pub.devid == devid)
			return dv;
	return NULL;
}

/* frontend_changed - pick the backend's next state from the frontend's. */
static void frontend_changed(struct xbe *x, struct dev *dv)
{
	struct xbe_device *d = &dv->pub;
	unsigned long v;
	enum xenbus_state fs;
	unsigned int nerr0;
	int r;

	if (dv->removed)
		return;
	r = xbe_read_fe_uint(d, "state", 0, XenbusStateReconfigured, &v);
	if (r == -EINVAL)
		LOG_RATELIMITED(&fe_rl, LOG_WARNING, d->fdomid, d->name,
				"frontend state is not a xenbus state "
				"(buggy or malicious guest): treated as Closed");
	fs = r == 0 ? (enum xenbus_state)v
		    : (r == -ENOENT ? XenbusStateUnknown : XenbusStateClosed);
	if (fs == d->fe_state && fs != XenbusStateConnected &&
	    fs != XenbusStateInitialised)
		return;
	log_debug_dev(d->fdomid, d->name, "frontend %s -> %s",
		      state_name(d->fe_state), state_name(fs));
	d->fe_state = fs;

	switch (fs) {
	case XenbusStateInitialising:
		if (d->be_state == XenbusStateClosed && d->online) {
			log_info_dev(d->fdomid, d->name, "prepare for reconnect");
			set_state(dv, XenbusStateInitWait);
		}
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (d->be_state == XenbusStateConnected)
			break;
		if (d->be_state != XenbusStateInitWait &&
		    d->be_state != XenbusStateInitialised)
			break; /* closing, or not probed yet */
		if (dv->disconnecting)
			break; /* retried by xbe_disconnected() */
		/* Two watches may fire close together: start clean. */
		do_disconnect(x, dv);
		nerr0 = dv->nerr;
		r = x->ops->connect(d);
		if (r < 0) {
			error_unless_set(d, nerr0, r, "connecting to the frontend");
			set_state(dv, XenbusStateClosing);
			break;
		}
		d->connected = true;
		set_state(dv, XenbusStateConnected);
		break;
	case XenbusStateClosing:
		do_disconnect(x, dv);
		set_state(dv, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
	default:
		close_dev(x, dv, !d->online || fs == XenbusStateUnknown);
		break;
	}
}

/* backend_changed - online / state keys the toolstack may have written. */
static void backend_changed(struct xbe *x, struct dev *dv)
{
	struct xbe_device *d = &dv->pub;
	unsigned long v;

	if (xbe_read_be_uint(d, "online", 0, 1, &v) == 0)
		d->online = v != 0;
	if (xbe_read_be_uint(d, "state", 0, XenbusStateReconfigured, &v) == 0 &&
	    (enum xenbus_state)v == XenbusStateClosing &&
	    d->be_state != XenbusStateClosing && d->be_state != XenbusStateClosed) {
		/* libxl's device removal: it wrote Closing for us. */
		log_info_dev(d->fdomid, d->name, "toolstack asks to close");
		do_disconnect(x, dv);
		d->be_state = XenbusStateClosing;
	}
	if (!d->online && !dv->removed &&
	    (d->be_state == XenbusStateClosing || d->be_state == XenbusStateClosed) &&
	    (d->fe_state == XenbusStateClosed || d->fe_state == XenbusStateUnknown ||
	     d->fe_state == XenbusStateInitialising ||
	     d->fe_state == XenbusStateInitWait))
		close_dev(x, dv, true);
}

/* probe_finish - the driver's probe is over: InitWait, or Closed. */
static void probe_finish(struct xbe *x, struct dev *dv, int r)
{
	struct xbe_device *d = &dv->pub;
	char tok[160], path[160];

	if (r < 0) {
		error_unless_set(d, dv->probe_nerr, r, "probing the device");
		set_state(dv, XenbusStateClosed);
		dv->removed = true; /* nothing of the driver's to undo */
		return;
	}
	set_state(dv, XenbusStateInitWait);
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
	if (strncmp(fe, expect, strlen(expect)) || strlen(fe) >= sizeof(d->fe_path) ||
	    strstr(fe, "/../") || read_uint(x, d->be_path, "frontend-id", 0,
					   DOMID_FIRST_RESERVED - 1, &fid) ||
	    fid != fd) {
		log_warnx_dev(fd, d->name, "frontend '%s' does not belong to "
			      "domain %u: ignoring the device", fe, fd);
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
		dv->probing = true;
		log_debug_dev(fd, d->name, "probe in progress");
		return;
	}
	probe_finish(x, dv, r);
}

void xbe_probed(struct xbe_device *d, int r)
{
	struct dev *dv = (struct dev *)d; /* pub is the first member */

	if (!dv->probing || dv->removed)
		return;
	dv->probing = false;
	log_debug_dev(d->fdomid, d->name, "probe finished: %d", r);
	probe_finish(d->xbe, dv, r);
}

/* scan - bring the device list in line with the backend directory. */
static void scan(struct xbe *x)
{
	char **fds, **ids, path[160];
	unsigned int nfd = 0, nid, i, j;
	struct dev *dv, *tmp;

	fds = xs_directory(x->xs, XBT_NULL, x->root, &nfd);
	/* Devices whose directory is gone. */
	for (dv = TAILQ_FIRST(&x->devs); dv; dv = tmp) {
		char *fe;

		tmp = TAILQ_NEXT(dv, link);
		fe = read_key(x, dv->pub.be_path, "frontend");
		if (fe) {
			free(fe);
			continue;
		}
		log_info_dev(dv->pub.fdomid, dv->pub.name, "backend directory removed");
		dev_free(x, dv);
	}
	for (i = 0; fds && i < nfd; i++) {
		unsigned long fd;

		if (parse_uint(fds[i], 0, DOMID_FIRST_RESERVED - 1, &fd))
			continue;
		snprintf(path, sizeof(path), "%s/%s", x->root, fds[i]);
		nid = 0;
		ids = xs_directory(x->xs, XBT_NULL, path, &nid);
		for (j = 0; ids && j < nid; j++) {
			unsigned long id;

			if (parse_uint(ids[j], 0, 0xffffffffUL, &id))
				continue;
			dv = find_dev(x, (domid_t)fd, (uint32_t)id);
			if (!dv)
				probe(x, (domid_t)fd, (uint32_t)id);
			else
				backend_changed(x, dv);
		}
		free(ids);
	}
	free(fds);
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct xbe *x = arg;
	char **w;
	bool rescan = false;

	(void)fd;
	(void)what;
	while ((w = xs_check_watch(x->xs))) {
		const char *tok = w[XS_WATCH_TOKEN];

		if (!strcmp(tok, TOKEN_ROOT)) {
			rescan = true;
		} else if (!strncmp(tok, TOKEN_FE, strlen(TOKEN_FE))) {
			const char *bp = tok + strlen(TOKEN_FE);
			struct dev *dv;

			TAILQ_FOREACH(dv, &x->devs, link)
				if (!strcmp(dv->pub.be_path, bp))
					break;
			if (dv)
				frontend_changed(x, dv);
		}
		free(w);
	}
	if (rescan)
		scan(x);
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
	x->ev = event_new(base, xs_fileno(xs), EV_READ | EV_PERSIST, on_watch, x);
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
	/* The watch fires once on registration: the first scan. */
	return x;
}

void xbe_free(struct xbe *x)
{
	if (!x)
		return;
	x->freeing = true;
	while (!TAILQ_EMPTY(&x->devs))
		dev_free(x, TAILQ_FIRST(&x->devs));
	xs_unwatch(x->xs, x->root, TOKEN_ROOT);
	event_free(x->ev);
	free(x);
}

void xbe_disconnected(struct xbe_device *d)
{
	struct dev *dv = (struct dev *)d; /* pub is the first member */
	struct xbe *x = d->xbe;

	if (!dv->disconnecting)
		return;
	dv->disconnecting = false;
	log_debug_dev(d->fdomid, d->name, "disconnect finished");
	if (dv->want_closed) {
		dv->want_closed = false;
		set_state(dv, XenbusStateClosed);
	}
	if (dv->want_remove) {
		dv->want_remove = false;
		do_remove(x, dv);
	}
	if (dv->want_free) {
		dv->want_free = false;
		dev_free(x, dv);
		return;
	}
	/* the frontend may have moved on meanwhile */
	if (!dv->removed)
		frontend_changed(x, dv);
}

unsigned int xbe_domain_dead(struct xbe *x, domid_t domid)
{
	struct dev *dv, *tmp;
	unsigned int n = 0;

	for (dv = TAILQ_FIRST(&x->devs); dv; dv = tmp) {
		char *fe;

		tmp = TAILQ_NEXT(dv, link);
		if (dv->pub.fdomid != domid || dv->removed)
			continue;
		n++;
		fe = read_key(x, dv->pub.be_path, "frontend");
		if (!fe) {
			/* the toolstack removed it already: no state to write */
			log_info_dev(domid, dv->pub.name, "domain dead, backend "
				     "directory gone");
			dev_free(x, dv);
			continue;
		}
		free(fe);
		log_info_dev(domid, dv->pub.name, "domain dead: tearing the "
			     "device down");
		dv->pub.fe_state = XenbusStateClosed;
		close_dev(x, dv, true);
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
