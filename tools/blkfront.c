/*
 * blkfront.c - a loopback guest's block frontend (see blkfront.h).
 *
 * Design note: what we trust. The backend is dom0, but its responses are
 * still read the way a careful frontend reads them: per pass over a ring,
 * rsp_prod is loaded once (acquire: the slots it covers are read after
 * it) and must not claim more responses than we have requests outstanding
 * (rsp_prod - rsp_cons <= req_prod_pvt - rsp_cons); each response is
 * copied out of its slot once and only the copy is used; its id must name
 * an outstanding request of that ring. A ring that breaks a rule is marked
 * broken: its device refuses further I/O (-ENOTCONN) and the pages of what
 * was in flight are never reused (the backend may still write them).
 *
 * Worked example: a 4 MiB write on a two-queue device with indirect
 * segments (max_segs 256) is 1024 pages; cut so that each queue gets at
 * least four requests, that is eight requests of 128 pages. Each takes 128
 * pool pages of its queue (round robin: queue 0, 1, 0, 1, ...): the data
 * is copied into them, their refs (persistent: granted once at connect;
 * else granted now) go into one indirect page, and the ring slot gets
 * BLKIF_OP_INDIRECT with indirect_op WRITE, nr_segments 128 and that
 * page's ref. When a queue runs out of slots, ids or pool pages, the call
 * pushes what it has, waits for responses (which give the pages back) and
 * goes on; it returns once every request has its response.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xen-ring.h" /* before blkif.h: it includes ring.h */
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "log.h"
#include "tools/blkfront.h"

#define SECTOR_SHIFT     9
#define SECTOR_SIZE      (1u << SECTOR_SHIFT)
#define SECTORS_PER_PAGE (HV_PAGE_SIZE >> SECTOR_SHIFT)
#define NO_PAGE          0xffffu
#define WATCH_TOKEN      "blkfront:"
/* how often a wait on a watch looks at *stop: a tick, never a limit */
#define STOP_TICK_MS     200

_Static_assert(BLKFRONT_MAX_SEGS * sizeof(struct blkif_request_segment) <=
		       HV_PAGE_SIZE,
	       "one indirect page per request");
_Static_assert(sizeof(struct blkif_request_indirect) <=
		       sizeof(struct blkif_request),
	       "indirect fits a slot");

struct bf_page {
	uint8_t *va;
	uint64_t frame;
	grant_ref_t ref; /* persistent: the ref granted once */
};

/* One outstanding request: what to do when its response comes. */
struct bf_shadow {
	int busy;
	uint8_t operation; /* as put on the ring */
	uint8_t op;        /* effective (indirect_op for INDIRECT) */
	uint16_t nr;       /* data pages */
	uint16_t ind;      /* indirect page index, NO_PAGE if none */
	grant_ref_t ind_ref;
	uint8_t *dst; /* read: where the data goes */
	size_t len;
	struct bf_call *call;
	uint16_t pages[BLKFRONT_MAX_SEGS];
	grant_ref_t refs[BLKFRONT_MAX_SEGS]; /* as granted for this request */
};

/* One blocking call: how many requests are out, the first error. */
struct bf_call {
	unsigned int outstanding;
	int err;
};

struct bf_queue {
	unsigned int idx;
	struct blkif_sring *sring;
	grant_ref_t ring_refs[1u << BLKFRONT_MAX_RING_ORDER];
	RING_IDX req_prod_pvt, rsp_cons;
	int port;
	struct bf_page *pool, *ind; /* data pages, indirect pages */
	uint8_t *pool_va, *ind_va;
	uint16_t *free_pages, *free_ind, *free_ids;
	unsigned int npool, nfree, nind, nfree_ind, nfree_ids;
	struct bf_shadow *shadow; /* ring_size entries; id = index */
	unsigned int inflight;
	int pending_push;
};

struct blkfront {
	struct hv *hv;
	struct xsg *xs;
	struct hv_gntshr *gs;
	struct hv_evtchn *ev;
	struct blkfront_opts o;
	struct blkfront_info info;
	struct blkfront_stats st;
	uint8_t *ram;
	char fe[96];
	char token[32];
	int watching;
	int connected, closed, broken;
	unsigned int rr; /* next queue */
	struct bf_queue q[BLKFRONT_MAX_QUEUES];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int stopped(const struct blkfront *bf)
{
	return bf->o.stop && *bf->o.stop;
}

/*
 * xs_until - set the xenstore timeout for the next step of a wait that
 * ends at end (0: no end): what is left of it, at most cap_ms (at least
 * 1 ms). A request that times out is looked at again while time is left,
 * so a loaded xenstored slows the wait down instead of failing it.
 */
static void xs_until(struct blkfront *bf, uint64_t end, int cap_ms)
{
	uint64_t now = now_ms();
	int t = cap_ms;

	if (end && end <= now)
		t = 1;
	else if (end && end - now < (uint64_t)cap_ms)
		t = (int)(end - now);
	xsg_set_timeout(bf->xs, t);
}

/* close_timeout_ms - how long a close waits for the backend: the step
 * timeout, a tenth of it (at least 1 s) when the backend broke the ring */
static int close_timeout_ms(const struct blkfront *bf)
{
	int t = bf->o.timeout_ms;

	if (bf->broken)
		t = t / 10 > 1000 ? t / 10 : 1000;
	return t;
}

/* ------------------------------------------------------------------ */
/* xenstore helpers                                                    */
/* ------------------------------------------------------------------ */

static int xs_read_uint(struct blkfront *bf, const char *dir, const char *key,
			unsigned long long *val)
{
	return xsg_read_ulong(bf->xs, 0, dir, key, val);
}

/* be_uint - a backend key as an unsigned number, def when absent or bad */
static unsigned long long be_uint(struct blkfront *bf, const char *key,
				  unsigned long long def)
{
	unsigned long long v;

	return xs_read_uint(bf, bf->info.backend, key, &v) == 0 ? v : def;
}

static int be_state(struct blkfront *bf)
{
	unsigned long long v;
	int r = xs_read_uint(bf, bf->info.backend, "state", &v);

	if (r == -ENOENT)
		return XenbusStateClosed; /* the toolstack removed it */
	if (r < 0)
		return r;
	return v > XenbusStateReconfigured ? XenbusStateClosed : (int)v;
}

#define fe_write(bf, tx, key, ...)                                             \
	xsg_printf((bf)->xs, tx, (bf)->fe, key, __VA_ARGS__)

static int set_state(struct blkfront *bf, enum xenbus_state s)
{
	return fe_write(bf, 0, "state", "%d", (int)s);
}

static void log_backend_error(struct blkfront *bf)
{
	char path[192], *s = NULL;

	snprintf(path, sizeof(path), "%s/error", bf->info.backend);
	if (xsg_read(bf->xs, 0, path, &s) == 0) {
		log_warnx_dev(bf->info.backend_id, bf->fe,
			      "backend reports: %.200s", s);
		free(s);
	}
}

/*
 * wait_be - until the backend's state is want (0), or it is closing or
 * gone (-ENODEV), or the timeout (-ETIMEDOUT), or *stop (-EINTR). Uses the
 * watch on <backend>/state; events of other watches are dropped, which is
 * fine while we negotiate (blkfront is the only watcher then).
 */
static int wait_be(struct blkfront *bf, int want)
{
	uint64_t end = now_ms() + (uint64_t)bf->o.timeout_ms;
	int s, r = 0;

	for (;;) {
		char *p, *t;

		xs_until(bf, end, bf->o.xs_timeout_ms);
		s = be_state(bf);
		if (s == want)
			break;
		if (s == XenbusStateClosing || s == XenbusStateClosed) {
			log_backend_error(bf);
			r = -ENODEV;
			break;
		}
		if (stopped(bf)) {
			r = -EINTR;
			break;
		}
		if (now_ms() > end) {
			r = -ETIMEDOUT;
			break;
		}
		xs_until(bf, end, STOP_TICK_MS);
		if (xsg_wait_watch(bf->xs, &p, &t) == 0) {
			free(p);
			free(t);
		}
	}
	xsg_set_timeout(bf->xs, bf->o.xs_timeout_ms);
	return r;
}

/* ------------------------------------------------------------------ */
/* Queues: rings, pools, event channels                                */
/* ------------------------------------------------------------------ */

static uint64_t frame_of(const struct blkfront *bf, const void *va)
{
	return (uint64_t)((const uint8_t *)va - bf->ram) / HV_PAGE_SIZE;
}

/* share_pages - count pages of guest RAM: granted to the backend when
 * persistent (refs kept), else only allocated (granted to ourselves, so
 * that the backend cannot map them until a request grants them). */
static int share_pages(struct blkfront *bf, unsigned int count, int persist,
		       struct bf_page **pages, uint8_t **va_out)
{
	grant_ref_t *refs = calloc(count, sizeof(*refs));
	struct bf_page *p = calloc(count, sizeof(*p));
	domid_t to = persist ? bf->info.backend_id : hv_domid(bf->hv);
	uint8_t *va;

	if (!refs || !p) {
		free(refs);
		free(p);
		return -ENOMEM;
	}
	va = hv_gntshr_share(bf->gs, to, count, refs, 1);
	if (!va) {
		int e = errno;

		free(refs);
		free(p);
		return -e;
	}
	for (unsigned int i = 0; i < count; i++) {
		p[i].va = va + (size_t)i * HV_PAGE_SIZE;
		p[i].frame = frame_of(bf, p[i].va);
		p[i].ref = refs[i];
	}
	free(refs);
	*pages = p;
	*va_out = va;
	return 0;
}

static int queue_setup(struct blkfront *bf, struct bf_queue *q)
{
	unsigned int n = 1u << bf->info.ring_order;
	unsigned int size = bf->info.ring_size;
	int r;

	q->sring = hv_gntshr_share(bf->gs, bf->info.backend_id, n, q->ring_refs,
				   1);
	if (!q->sring)
		return -errno;
	memset(q->sring, 0, (size_t)n * HV_PAGE_SIZE);
	SHARED_RING_INIT(q->sring);
	q->shadow = calloc(size, sizeof(*q->shadow));
	q->free_ids = calloc(size, sizeof(uint16_t));
	q->npool = bf->o.pool_pages;
	if (q->npool < bf->info.max_segs)
		q->npool = bf->info.max_segs;
	q->nind = bf->info.indirect ? (size < 32 ? size : 32) : 0;
	q->free_pages = calloc(q->npool, sizeof(uint16_t));
	q->free_ind = calloc(q->nind ? q->nind : 1, sizeof(uint16_t));
	if (!q->shadow || !q->free_ids || !q->free_pages || !q->free_ind)
		return -ENOMEM;
	for (unsigned int i = 0; i < size; i++)
		q->free_ids[q->nfree_ids++] = (uint16_t)(size - 1 - i);
	r = share_pages(bf, q->npool, bf->info.persistent, &q->pool,
			&q->pool_va);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < q->npool; i++)
		q->free_pages[q->nfree++] = (uint16_t)(q->npool - 1 - i);
	if (q->nind) {
		r = share_pages(bf, q->nind, bf->info.persistent, &q->ind,
				&q->ind_va);
		if (r < 0)
			return r;
		for (unsigned int i = 0; i < q->nind; i++)
			q->free_ind[q->nfree_ind++] =
				(uint16_t)(q->nind - 1 - i);
	}
	q->port = hv_evtchn_alloc_unbound(bf->ev, bf->info.backend_id);
	if (q->port < 0)
		return q->port;
	return 0;
}

/* unshare - give pages back, retrying while the backend still maps them
 * (until end). */
static void unshare(struct blkfront *bf, void *va, unsigned int count,
		    const char *what, uint64_t end)
{
	int r;

	while ((r = hv_gntshr_unshare(bf->gs, va, count)) == -EBUSY &&
	       now_ms() < end)
		nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
	if (r < 0)
		log_warnx_dev(bf->info.backend_id, bf->fe,
			      "%s: %u pages still mapped by the backend: "
			      "left granted (%s)",
			      what, count, strerror(-r));
}

static void queue_teardown(struct blkfront *bf, struct bf_queue *q)
{
	uint64_t end = now_ms() + (uint64_t)close_timeout_ms(bf);

	if (q->port > 0)
		hv_evtchn_unbind(bf->ev, (evtchn_port_t)q->port);
	q->port = 0;
	/* pages of requests still in flight on a broken ring stay ours */
	if (!q->inflight) {
		if (q->sring)
			unshare(bf, q->sring, 1u << bf->info.ring_order, "ring",
				end);
		if (q->pool_va)
			unshare(bf, q->pool_va, q->npool, "data pool", end);
		if (q->ind_va)
			unshare(bf, q->ind_va, q->nind, "indirect pages", end);
	}
	free(q->pool);
	free(q->ind);
	free(q->shadow);
	free(q->free_ids);
	free(q->free_pages);
	free(q->free_ind);
	memset(q, 0, sizeof(*q));
}

/* ------------------------------------------------------------------ */
/* Negotiation                                                         */
/* ------------------------------------------------------------------ */

/*
 * backend_ready - 0 when the backend directory be exists and is not
 * closing or closed (a fresh device), -EAGAIN when it is not yet (or no
 * more), -ENODEV when it failed with an error key.
 */
static int backend_ready(struct blkfront *bf, const char *be)
{
	char path[192], *s = NULL;
	unsigned long st;
	int r;

	snprintf(path, sizeof(path), "%s/state", be);
	r = xsg_read(bf->xs, 0, path, &s);
	if (r < 0)
		return -EAGAIN;
	st = strtoul(s, NULL, 10);
	free(s);
	if (st != XenbusStateClosing && st != XenbusStateClosed)
		return 0;
	snprintf(path, sizeof(path), "%s/error", be);
	if (xsg_read(bf->xs, 0, path, &s) == 0) {
		log_warnx_dev(-1, bf->fe, "backend reports: %.200s", s);
		free(s);
		return -ENODEV;
	}
	return -EAGAIN;
}

static int wait_device(struct blkfront *bf)
{
	uint64_t end = bf->o.attach_timeout_ms > 0
			       ? now_ms() + (uint64_t)bf->o.attach_timeout_ms
			       : 0;
	char path[160], *be = NULL, *p, *t;
	unsigned long long id;
	int r;

	snprintf(path, sizeof(path), "%s/backend", bf->fe);
	/* the watch with the normal request timeout: a loaded xenstored may
	 * take more than the short polling timeout to answer it */
	r = xsg_watch(bf->xs, bf->fe, bf->token);
	for (; r == 0;) {
		free(be);
		be = NULL;
		xs_until(bf, end, bf->o.xs_timeout_ms);
		r = xsg_read(bf->xs, 0, path, &be);
		if (r == 0) {
			/* a device of an earlier attach that the toolstack has
			 * not removed yet: wait for the new one */
			r = backend_ready(bf, be);
			if (r != -EAGAIN)
				break;
		}
		if (r != -ENOENT && r != -ETIMEDOUT && r != -EAGAIN)
			break;
		if (stopped(bf))
			r = -EINTR;
		else if (end && now_ms() > end)
			r = -ETIMEDOUT;
		else
			r = 0;
		if (r)
			break;
		xs_until(bf, end, STOP_TICK_MS);
		if (xsg_wait_watch(bf->xs, &p, &t) == 0) {
			free(p);
			free(t);
		}
	}
	xsg_unwatch(bf->xs, bf->fe, bf->token);
	xsg_set_timeout(bf->xs, bf->o.xs_timeout_ms);
	if (r < 0) {
		free(be);
		return r;
	}
	/* guest input to us is the toolstack's: still check its shape */
	if (strncmp(be, "/local/domain/", 14) ||
	    strlen(be) >= sizeof(bf->info.backend)) {
		log_warnx_dev(-1, bf->fe, "backend path '%.100s' is not usable",
			      be);
		free(be);
		return -EINVAL;
	}
	snprintf(bf->info.backend, sizeof(bf->info.backend), "%s", be);
	free(be);
	r = xs_read_uint(bf, bf->fe, "backend-id", &id);
	if (r == 0 && id >= DOMID_FIRST_RESERVED)
		r = -EINVAL;
	if (r < 0) {
		log_warnx_dev(-1, bf->fe, "no usable backend-id");
		return r;
	}
	bf->info.backend_id = (domid_t)id;
	return 0;
}

static void read_features(struct blkfront *bf)
{
	struct blkfront_info *in = &bf->info;
	unsigned long long v;

	v = be_uint(bf, "max-ring-page-order", 0);
	in->ring_order = v < bf->o.max_ring_order ? (unsigned int)v
						  : bf->o.max_ring_order;
	v = be_uint(bf, "multi-queue-max-queues", 1);
	if (v < 1)
		v = 1;
	in->nr_queues =
		v < bf->o.max_queues ? (unsigned int)v : bf->o.max_queues;
	in->persistent = !bf->o.no_persistent &&
			 be_uint(bf, "feature-persistent", 0) == 1;
	v = bf->o.no_indirect ? 0
			      : be_uint(bf, "feature-max-indirect-segments", 0);
	in->indirect = v > BLKIF_MAX_SEGMENTS_PER_REQUEST;
	in->max_segs = in->indirect
			       ? (v < BLKFRONT_MAX_SEGS ? (unsigned int)v
							: BLKFRONT_MAX_SEGS)
			       : BLKIF_MAX_SEGMENTS_PER_REQUEST;
	in->flush = be_uint(bf, "feature-flush-cache", 0) == 1;
	in->barrier = be_uint(bf, "feature-barrier", 0) == 1;
	in->discard = be_uint(bf, "feature-discard", 0) == 1;
	v = be_uint(bf, "discard-granularity", 0);
	in->discard_granularity = v <= (1u << 30) ? (uint32_t)v : 0;
	in->ring_size = __CONST_RING_SIZE(blkif, HV_PAGE_SIZE << in->ring_order);
}

/* write_ring_keys - one transaction, as blkfront's talk_to_blkback(). */
static int write_ring_keys(struct blkfront *bf)
{
	struct blkfront_info *in = &bf->info;
	int multi = be_uint(bf, "multi-queue-max-queues", 0) > 0;

	for (int tries = 0; tries < 10; tries++) {
		uint32_t tx;
		int r = xsg_transaction_start(bf->xs, &tx);

		if (r < 0)
			return r;
		if (in->ring_order)
			r = r ? r
			      : fe_write(bf, tx, "ring-page-order", "%u",
					 in->ring_order);
		for (unsigned int qi = 0; qi < in->nr_queues && !r; qi++) {
			struct bf_queue *q = &bf->q[qi];
			char pfx[24] = "", key[64];

			if (in->nr_queues > 1)
				snprintf(pfx, sizeof(pfx), "queue-%u/", qi);
			for (unsigned int i = 0;
			     i < (1u << in->ring_order) && !r; i++) {
				if (in->ring_order)
					snprintf(key, sizeof(key),
						 "%sring-ref%u", pfx, i);
				else
					snprintf(key, sizeof(key), "%sring-ref",
						 pfx);
				r = fe_write(bf, tx, key, "%u", q->ring_refs[i]);
			}
			snprintf(key, sizeof(key), "%sevent-channel", pfx);
			r = r ? r : fe_write(bf, tx, key, "%d", q->port);
		}
		if (multi)
			r = r ? r
			      : fe_write(bf, tx, "multi-queue-num-queues", "%u",
					 in->nr_queues);
		r = r ? r
		      : fe_write(bf, tx, "protocol", "%s",
				 XEN_IO_PROTO_ABI_NATIVE);
		r = r ? r
		      : fe_write(bf, tx, "feature-persistent", "%d",
				 bf->o.no_persistent ? 0 : 1);
		if (r < 0) {
			xsg_transaction_end(bf->xs, tx, 0);
			return r;
		}
		r = xsg_transaction_end(bf->xs, tx, 1);
		if (r != -EAGAIN)
			return r;
	}
	return -EAGAIN;
}

static int read_connected(struct blkfront *bf)
{
	struct blkfront_info *in = &bf->info;
	unsigned long long sectors, info = 0, ss = SECTOR_SIZE;
	int r;

	r = xs_read_uint(bf, in->backend, "sectors", &sectors);
	if (r < 0) {
		log_warnx_dev(in->backend_id, bf->fe,
			      "backend wrote no sectors");
		return r;
	}
	xs_read_uint(bf, in->backend, "info", &info);
	xs_read_uint(bf, in->backend, "sector-size", &ss);
	/* a power of two from 512 to 64 KiB, and a size that adds up */
	if (ss < SECTOR_SIZE || ss > 65536 || (ss & (ss - 1)) ||
	    sectors > (UINT64_MAX >> SECTOR_SHIFT) ||
	    (sectors << SECTOR_SHIFT) % ss) {
		log_warnx_dev(in->backend_id, bf->fe,
			      "backend sizes make no sense: %llu sectors of %llu",
			      sectors, ss);
		return -EINVAL;
	}
	in->sectors = sectors;
	in->size = sectors << SECTOR_SHIFT;
	in->sector_size = (uint32_t)ss;
	in->readonly = (info & VDISK_READONLY) != 0;
	return 0;
}

/*
 * blkfront_connect - wait for the device, negotiate, connect (the steps in
 * blkfront.h). NULL with errno; the caller owns the result.
 */
struct blkfront *blkfront_connect(struct hv *guest, struct xsg *xs,
				  uint32_t devid,
				  const struct blkfront_opts *opts)
{
	struct blkfront *bf = calloc(1, sizeof(*bf));
	struct hv_guest_layout lay;
	int r;

	if (!bf)
		return NULL;
	if (opts)
		bf->o = *opts;
	if (!bf->o.max_queues)
		bf->o.max_queues = 2;
	if (bf->o.max_queues > BLKFRONT_MAX_QUEUES)
		bf->o.max_queues = BLKFRONT_MAX_QUEUES;
	if (bf->o.max_ring_order == -1U)
		bf->o.max_ring_order = 2;
	if (bf->o.max_ring_order > BLKFRONT_MAX_RING_ORDER)
		bf->o.max_ring_order = BLKFRONT_MAX_RING_ORDER;
	if (!bf->o.pool_pages)
		bf->o.pool_pages = 1024;
	if (bf->o.pool_pages > 8192)
		bf->o.pool_pages = 8192;
	if (bf->o.timeout_ms <= 0)
		bf->o.timeout_ms = 30000;
	if (bf->o.xs_timeout_ms <= 0)
		bf->o.xs_timeout_ms = 10000;
	bf->hv = guest;
	bf->xs = xs;
	bf->info.devid = devid;
	snprintf(bf->fe, sizeof(bf->fe), "/local/domain/%u/device/vbd/%u",
		 hv_domid(guest), devid);
	snprintf(bf->token, sizeof(bf->token), WATCH_TOKEN "%u", devid);
	bf->ram = hv_guest_ram(guest, &lay);
	if (!bf->ram) {
		r = -errno;
		goto fail;
	}
	bf->gs = hv_gntshr_open(guest);
	bf->ev = hv_evtchn_open(guest);
	if (!bf->gs || !bf->ev) {
		r = -errno;
		goto fail;
	}
	r = wait_device(bf);
	if (r < 0)
		goto fail;
	r = xsg_watch(bf->xs, bf->info.backend, bf->token);
	if (r < 0)
		goto fail;
	bf->watching = 1;
	r = wait_be(bf, XenbusStateInitWait);
	if (r < 0)
		goto fail;
	read_features(bf);
	for (unsigned int i = 0; i < bf->info.nr_queues; i++) {
		bf->q[i].idx = i;
		r = queue_setup(bf, &bf->q[i]);
		if (r < 0) {
			log_warnx_dev(bf->info.backend_id, bf->fe,
				      "queue %u: ring and pages: %s", i,
				      strerror(-r));
			goto fail;
		}
	}
	r = write_ring_keys(bf);
	if (r == 0)
		r = set_state(bf, XenbusStateInitialised);
	if (r < 0)
		goto fail;
	r = wait_be(bf, XenbusStateConnected);
	if (r == 0)
		r = read_connected(bf);
	if (r == 0)
		r = set_state(bf, XenbusStateConnected);
	if (r < 0)
		goto fail;
	bf->connected = 1;
	log_info_dev(bf->info.backend_id, bf->fe,
		     "connected: %" PRIu64
		     " sectors, %u-byte blocks, %u queue(s), "
		     "ring order %u, %u segs/request%s%s%s%s%s",
		     bf->info.sectors, bf->info.sector_size, bf->info.nr_queues,
		     bf->info.ring_order, bf->info.max_segs,
		     bf->info.persistent ? ", persistent" : "",
		     bf->info.indirect ? ", indirect" : "",
		     bf->info.flush ? ", flush" : "",
		     bf->info.discard ? ", discard" : "",
		     bf->info.readonly ? ", read-only" : "");
	return bf;
fail:
	if (bf->gs && bf->info.backend[0] && r != -EINTR && r != -ETIMEDOUT)
		set_state(bf, XenbusStateClosed);
	blkfront_free(bf);
	errno = r == -ENOENT || r == -EINVAL ? ENODEV : -r;
	return NULL;
}

/* blkfront_info - what was negotiated; owned by bf. */
const struct blkfront_info *blkfront_info(const struct blkfront *bf)
{
	return &bf->info;
}

/* blkfront_get_stats - a copy of the counters. */
void blkfront_get_stats(const struct blkfront *bf, struct blkfront_stats *st)
{
	*st = bf->st;
}

/* blkfront_closed - 1 once either side closed the device. */
int blkfront_closed(const struct blkfront *bf)
{
	return bf->closed;
}

/* ------------------------------------------------------------------ */
/* The data path                                                       */
/* ------------------------------------------------------------------ */

static void *slot(struct bf_queue *q, RING_IDX i, unsigned int size)
{
	return &q->sring->ring[i & (size - 1)].req;
}

/* release - a finished request's pages and id back to the queue. */
static void release(struct blkfront *bf, struct bf_queue *q, uint16_t id)
{
	struct bf_shadow *sh = &q->shadow[id];

	/* Without persistent grants each page's grant ends here; a page the
	 * backend still maps (the revoke fails) is never used again. */
	for (unsigned int i = 0; i < sh->nr; i++) {
		if (!bf->info.persistent &&
		    hv_gntshr_end_access(bf->gs, sh->refs[i]) < 0) {
			bf->st.grants_leaked++;
			continue;
		}
		if (!bf->info.persistent)
			bf->st.grants_revoked++;
		q->free_pages[q->nfree++] = sh->pages[i];
	}
	if (sh->ind != NO_PAGE) {
		if (!bf->info.persistent &&
		    hv_gntshr_end_access(bf->gs, sh->ind_ref) < 0) {
			bf->st.grants_leaked++;
		} else {
			if (!bf->info.persistent)
				bf->st.grants_revoked++;
			q->free_ind[q->nfree_ind++] = sh->ind;
		}
	}
	sh->busy = 0;
	q->free_ids[q->nfree_ids++] = id;
	q->inflight--;
}

static void mark_broken(struct blkfront *bf, struct bf_queue *q, const char *why)
{
	if (!bf->broken)
		log_warnx_dev(bf->info.backend_id, bf->fe,
			      "queue %u: %s: device stopped", q->idx, why);
	bf->broken = 1;
}

/* grant - the ref the backend uses for page p of this request. */
static int grant(struct blkfront *bf, const struct bf_page *p, grant_ref_t *ref)
{
	int r;

	if (bf->info.persistent) {
		*ref = p->ref;
		return 0;
	}
	r = hv_gntshr_grant_frame(bf->gs, bf->info.backend_id, p->frame, 1);
	if (r < 0)
		return r;
	*ref = (grant_ref_t)r;
	return 0;
}

/* can_take - room on q for a request of n data pages. */
static int can_take(const struct blkfront *bf, const struct bf_queue *q,
		    unsigned int n)
{
	if (!q->nfree_ids || q->req_prod_pvt - q->rsp_cons >= bf->info.ring_size)
		return 0;
	if (q->nfree < n)
		return 0;
	return n <= BLKIF_MAX_SEGMENTS_PER_REQUEST || q->nfree_ind > 0;
}

/*
 * queue_rw - put one read/write of len bytes (<= max_segs pages) at sector
 * on q. src: the data of a write; dst: where a read's data goes.
 */
static int queue_rw(struct blkfront *bf, struct bf_queue *q, uint8_t op,
		    uint64_t sector, const uint8_t *src, uint8_t *dst,
		    size_t len, struct bf_call *call)
{
	unsigned int n = (unsigned int)((len + HV_PAGE_SIZE - 1) / HV_PAGE_SIZE);
	uint16_t id = q->free_ids[--q->nfree_ids];
	struct bf_shadow *sh = &q->shadow[id];
	struct blkif_request_segment *segs;
	struct blkif_request_segment ind_segs[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	unsigned int ng = 0; /* refs granted for this request */
	int r = 0;

	memset(sh, 0, offsetof(struct bf_shadow, pages));
	sh->busy = 1;
	sh->op = op;
	sh->ind = NO_PAGE;
	sh->dst = dst;
	sh->len = len;
	sh->call = call;
	segs = ind_segs;
	if (n > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		sh->ind = q->free_ind[--q->nfree_ind];
		segs = (struct blkif_request_segment *)q->ind[sh->ind].va;
	}
	for (unsigned int i = 0; i < n; i++) {
		size_t chunk = len - (size_t)i * HV_PAGE_SIZE;
		struct bf_page *p;

		if (chunk > HV_PAGE_SIZE)
			chunk = HV_PAGE_SIZE;
		sh->pages[i] = q->free_pages[--q->nfree];
		sh->nr++;
		p = &q->pool[sh->pages[i]];
		if (src)
			memcpy(p->va, src + (size_t)i * HV_PAGE_SIZE, chunk);
		r = grant(bf, p, &sh->refs[i]);
		if (r < 0)
			break;
		ng++;
		segs[i].gref = sh->refs[i];
		segs[i].first_sect = 0;
		segs[i].last_sect = (uint8_t)((chunk >> SECTOR_SHIFT) - 1);
	}
	if (r == 0 && sh->ind != NO_PAGE)
		r = grant(bf, &q->ind[sh->ind], &sh->ind_ref);
	if (r < 0) {
		/* nothing was put on the ring: revoke what was granted */
		if (!bf->info.persistent)
			for (unsigned int i = 0; i < ng; i++)
				hv_gntshr_end_access(bf->gs, sh->refs[i]);
		for (unsigned int i = 0; i < sh->nr; i++)
			q->free_pages[q->nfree++] = sh->pages[i];
		if (sh->ind != NO_PAGE)
			q->free_ind[q->nfree_ind++] = sh->ind;
		sh->busy = 0;
		q->free_ids[q->nfree_ids++] = id;
		return r;
	}
	if (sh->ind != NO_PAGE) {
		struct blkif_request_indirect req;

		memset(&req, 0, sizeof(req));
		req.operation = BLKIF_OP_INDIRECT;
		req.indirect_op = op;
		req.nr_segments = (uint16_t)n;
		req.id = id;
		req.sector_number = sector;
		req.handle = (blkif_vdev_t)bf->info.devid;
		req.indirect_grefs[0] = sh->ind_ref;
		memcpy(slot(q, q->req_prod_pvt, bf->info.ring_size), &req,
		       sizeof(req));
		sh->operation = BLKIF_OP_INDIRECT;
		bf->st.indirect_reqs++;
	} else {
		struct blkif_request req;

		memset(&req, 0, sizeof(req));
		req.operation = op;
		req.nr_segments = (uint8_t)n;
		req.id = id;
		req.sector_number = sector;
		req.handle = (blkif_vdev_t)bf->info.devid;
		memcpy(req.seg, segs, n * sizeof(*segs));
		memcpy(slot(q, q->req_prod_pvt, bf->info.ring_size), &req,
		       sizeof(req));
		sh->operation = op;
	}
	q->req_prod_pvt++;
	q->inflight++;
	q->pending_push = 1;
	call->outstanding++;
	bf->st.reqs++;
	bf->st.segs += n;
	return 0;
}

/* queue_ctl - a request without data: flush, barrier, discard. */
static void queue_ctl(struct blkfront *bf, struct bf_queue *q, uint8_t op,
		      uint64_t sector, uint64_t nr_sectors, struct bf_call *call)
{
	uint16_t id = q->free_ids[--q->nfree_ids];
	struct bf_shadow *sh = &q->shadow[id];

	memset(sh, 0, offsetof(struct bf_shadow, pages));
	sh->busy = 1;
	sh->op = sh->operation = op;
	sh->ind = NO_PAGE;
	sh->call = call;
	if (op == BLKIF_OP_DISCARD) {
		struct blkif_request_discard req;

		memset(&req, 0, sizeof(req));
		req.operation = op;
		req.handle = (blkif_vdev_t)bf->info.devid;
		req.id = id;
		req.sector_number = sector;
		req.nr_sectors = nr_sectors;
		memcpy(slot(q, q->req_prod_pvt, bf->info.ring_size), &req,
		       sizeof(req));
	} else {
		struct blkif_request req;

		memset(&req, 0, sizeof(req));
		req.operation = op;
		req.handle = (blkif_vdev_t)bf->info.devid;
		req.id = id;
		req.sector_number = sector;
		memcpy(slot(q, q->req_prod_pvt, bf->info.ring_size), &req,
		       sizeof(req));
	}
	q->req_prod_pvt++;
	q->inflight++;
	q->pending_push = 1;
	call->outstanding++;
	bf->st.reqs++;
}

/* push - publish the new requests, notify if the backend asked for it
 * (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, with req_event read once). */
static void push(struct blkfront *bf, struct bf_queue *q)
{
	RING_IDX old, new = q->req_prod_pvt, ev;

	if (!q->pending_push)
		return;
	q->pending_push = 0;
	old = q->sring->req_prod; /* only we write it */
	/* release: the request slots before the index that covers them */
	__atomic_store_n(&q->sring->req_prod, new, __ATOMIC_RELEASE);
	/* full: req_prod visible before we read req_event */
	mb();
	ev = __atomic_load_n(&q->sring->req_event, __ATOMIC_RELAXED);
	if ((RING_IDX)(new - ev) < (RING_IDX)(new - old)) {
		if (hv_evtchn_notify(bf->ev, (evtchn_port_t)q->port) == 0)
			bf->st.notifies++;
	}
}

static int status_err(int16_t st)
{
	if (st == BLKIF_RSP_OKAY)
		return 0;
	return st == BLKIF_RSP_EOPNOTSUPP ? -EOPNOTSUPP : -EIO;
}

/* reap - take q's responses. 0, or -EIO when the ring is broken. */
static int reap(struct blkfront *bf, struct bf_queue *q)
{
	for (;;) {
		RING_IDX rp, cons = q->rsp_cons;

		/* acquire: response slots are read after the index */
		rp = __atomic_load_n(&q->sring->rsp_prod, __ATOMIC_ACQUIRE);
		if ((RING_IDX)(rp - cons) > (RING_IDX)(q->req_prod_pvt - cons)) {
			mark_broken(bf, q,
				    "backend's rsp_prod beyond our requests");
			return -EIO;
		}
		for (; cons != rp; cons++) {
			struct blkif_response rsp;
			struct bf_shadow *sh;

			memcpy(&rsp,
			       &q->sring->ring[cons & (bf->info.ring_size - 1)]
					.rsp,
			       sizeof(rsp));
			if (rsp.id >= bf->info.ring_size ||
			    !q->shadow[rsp.id].busy) {
				q->rsp_cons = cons;
				mark_broken(bf, q,
					    "response for no request of ours");
				return -EIO;
			}
			sh = &q->shadow[rsp.id];
			/* Linux's blkback answers an indirect request with its
			 * indirect_op; BLKIF_OP_INDIRECT is taken too (counted) */
			if (rsp.operation != sh->op &&
			    rsp.operation != sh->operation) {
				q->rsp_cons = cons;
				mark_broken(bf, q,
					    "response with another operation");
				return -EIO;
			}
			if (rsp.operation != sh->op)
				bf->st.rsp_op_indirect++;
			bf->st.responses++;
			if (rsp.status != BLKIF_RSP_OKAY) {
				bf->st.errors++;
				if (!sh->call->err)
					sh->call->err = status_err(rsp.status);
			} else if (sh->dst) {
				for (unsigned int i = 0; i < sh->nr; i++) {
					size_t off = (size_t)i * HV_PAGE_SIZE;
					size_t chunk = sh->len - off;

					if (chunk > HV_PAGE_SIZE)
						chunk = HV_PAGE_SIZE;
					memcpy(sh->dst + off,
					       q->pool[sh->pages[i]].va, chunk);
				}
			}
			sh->call->outstanding--;
			release(bf, q, (uint16_t)rsp.id);
		}
		q->rsp_cons = cons;
		/* ask for an event at the next response, then look again
		 * (RING_FINAL_CHECK_FOR_RESPONSES): full fence so the backend
		 * sees rsp_event before we re-read rsp_prod */
		q->sring->rsp_event = cons + 1;
		mb();
		if (__atomic_load_n(&q->sring->rsp_prod, __ATOMIC_ACQUIRE) ==
		    cons)
			return 0;
	}
}

/* wait_some - reap; if the call still waits, block on the event channels
 * until something arrives. 0, or -errno (device broken). */
static int wait_some(struct blkfront *bf, struct bf_call *call)
{
	uint64_t start = now_ms(), end = start + (uint64_t)bf->o.timeout_ms;
	uint64_t next_look = start + 500;
	unsigned int before = call->outstanding;

	for (;;) {
		struct pollfd pfd = { .fd = hv_evtchn_fd(bf->ev),
				      .events = POLLIN };
		int p;

		while ((p = hv_evtchn_pending(bf->ev)) >= 0)
			hv_evtchn_unmask(bf->ev, (evtchn_port_t)p);
		for (unsigned int i = 0; i < bf->info.nr_queues; i++) {
			if (bf->q[i].inflight && reap(bf, &bf->q[i]) < 0)
				return -ENOTCONN;
		}
		if (call->outstanding < before || !call->outstanding)
			return 0;
		for (unsigned int i = 0; i < bf->info.nr_queues; i++) {
			if (hv_evtchn_state(bf->ev,
					    (evtchn_port_t)bf->q[i].port) ==
			    HV_EVTCHN_PEER_CLOSED) {
				mark_broken(bf, &bf->q[i],
					    "the backend closed its "
					    "event channel");
				return -ENOTCONN;
			}
		}
		if (now_ms() > end) {
			mark_broken(bf, &bf->q[0], "no response in time");
			return -ETIMEDOUT;
		}
		if (now_ms() > next_look) {
			/* a backend that is closing (a toolstack detach) takes
			 * no more requests: do not wait for them. A xenstore
			 * read keeps the watch events queued for the caller. */
			int st = be_state(bf);

			if (st == XenbusStateClosing ||
			    st == XenbusStateClosed) {
				mark_broken(bf, &bf->q[0],
					    "the backend is closing "
					    "with requests outstanding");
				return -ENOTCONN;
			}
			next_look = now_ms() + 500;
		}
		/* EINTR (a signal): look again; the I/O must finish first */
		poll(&pfd, 1, 100);
	}
}

static void push_all(struct blkfront *bf)
{
	for (unsigned int i = 0; i < bf->info.nr_queues; i++)
		push(bf, &bf->q[i]);
}

/* pick - a queue with room for n pages, round robin; NULL if none. */
static struct bf_queue *pick(struct blkfront *bf, unsigned int n)
{
	for (unsigned int k = 0; k < bf->info.nr_queues; k++) {
		struct bf_queue *q = &bf->q[(bf->rr + k) % bf->info.nr_queues];

		if (can_take(bf, q, n)) {
			bf->rr = (q->idx + 1) % bf->info.nr_queues;
			return q;
		}
	}
	return NULL;
}

static int usable(const struct blkfront *bf)
{
	return bf->connected && !bf->closed && !bf->broken;
}

static int check_range(const struct blkfront *bf, uint64_t off, uint64_t len)
{
	if (off % bf->info.sector_size || len % bf->info.sector_size)
		return -EINVAL;
	if (off > bf->info.size || len > bf->info.size - off)
		return -EINVAL;
	return 0;
}

static int rw(struct blkfront *bf, uint8_t op, uint64_t off, const uint8_t *src,
	      uint8_t *dst, size_t len)
{
	struct bf_call call = { 0, 0 };
	size_t done = 0, max, pages, per;
	int r;

	if (!usable(bf))
		return -ENOTCONN;
	/* requests no larger than needed to give every queue a few: the
	 * backend works on the requests of a ring in parallel */
	pages = (len + HV_PAGE_SIZE - 1) / HV_PAGE_SIZE;
	per = (pages + bf->info.nr_queues * 4 - 1) / (bf->info.nr_queues * 4);
	if (per < BLKIF_MAX_SEGMENTS_PER_REQUEST)
		per = BLKIF_MAX_SEGMENTS_PER_REQUEST;
	if (per > bf->info.max_segs)
		per = bf->info.max_segs;
	max = per * HV_PAGE_SIZE;
	r = check_range(bf, off, len);
	if (r < 0)
		return r;
	if (op == BLKIF_OP_WRITE && bf->info.readonly)
		return -EROFS;
	while (done < len || call.outstanding) {
		while (done < len && !call.err) {
			size_t chunk = len - done < max ? len - done : max;
			unsigned int n =
				(unsigned int)((chunk + HV_PAGE_SIZE - 1) /
					       HV_PAGE_SIZE);
			struct bf_queue *q = pick(bf, n);

			if (!q)
				break;
			r = queue_rw(bf, q, op, (off + done) >> SECTOR_SHIFT,
				     src ? src + done : NULL,
				     dst ? dst + done : NULL, chunk, &call);
			if (r < 0) {
				call.err = r;
				break;
			}
			done += chunk;
		}
		if (call.err)
			done = len; /* submit no more; collect what is out */
		push_all(bf);
		if (!call.outstanding) {
			if (done < len) {
				/* nothing out and no room: pages were lost to
				 * failed revokes */
				mark_broken(bf, &bf->q[0], "no pool pages left");
				return -ENOTCONN;
			}
			break;
		}
		r = wait_some(bf, &call);
		if (r < 0)
			return r;
	}
	return call.err;
}

/* blkfront_read - len bytes at off into buf; 0 or -errno (blkfront.h). */
int blkfront_read(struct blkfront *bf, uint64_t off, void *buf, size_t len)
{
	return rw(bf, BLKIF_OP_READ, off, NULL, buf, len);
}

/* blkfront_write - len bytes of buf to off; 0 or -errno (blkfront.h). */
int blkfront_write(struct blkfront *bf, uint64_t off, const void *buf,
		   size_t len)
{
	return rw(bf, BLKIF_OP_WRITE, off, buf, NULL, len);
}

/* ctl - one data-less request on one queue (others have no writes out:
 * calls are synchronous), wait for it. */
static int ctl(struct blkfront *bf, uint8_t op, uint64_t sector,
	       uint64_t nr_sectors)
{
	struct bf_call call = { 0, 0 };
	struct bf_queue *q;
	int r;

	if (!usable(bf))
		return -ENOTCONN;
	q = pick(bf, 0);
	if (!q)
		return -EBUSY; /* cannot happen between calls */
	queue_ctl(bf, q, op, sector, nr_sectors, &call);
	push(bf, q);
	while (call.outstanding) {
		r = wait_some(bf, &call);
		if (r < 0)
			return r;
	}
	return call.err;
}

/* blkfront_flush - the backend's cache to stable storage; 0 or -errno. */
int blkfront_flush(struct blkfront *bf)
{
	if (!usable(bf))
		return -ENOTCONN;
	if (bf->info.flush)
		return ctl(bf, BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	if (bf->info.barrier)
		return ctl(bf, BLKIF_OP_WRITE_BARRIER, 0, 0);
	return 0;
}

/* blkfront_discard - BLKIF_OP_DISCARD of [off, off + len); 0 or -errno. */
int blkfront_discard(struct blkfront *bf, uint64_t off, uint64_t len)
{
	int r;

	if (!usable(bf))
		return -ENOTCONN;
	if (!bf->info.discard || bf->info.readonly)
		return -EOPNOTSUPP;
	r = check_range(bf, off, len);
	if (r < 0 || !len)
		return r;
	return ctl(bf, BLKIF_OP_DISCARD, off >> SECTOR_SHIFT,
		   len >> SECTOR_SHIFT);
}

/* ------------------------------------------------------------------ */
/* Closing                                                             */
/* ------------------------------------------------------------------ */

/*
 * blkfront_on_watch - a watch event of the guest's xsg: 1 when the backend
 * is closing the device (we then switch to Closed), else 0.
 */
int blkfront_on_watch(struct blkfront *bf, const char *path, const char *token)
{
	int s;

	if (strcmp(token, bf->token) || bf->closed || !bf->connected)
		return 0;
	(void)path; /* the path is the backend's; read its state again */
	s = be_state(bf);
	if (s != XenbusStateClosing && s != XenbusStateClosed)
		return 0;
	/* blkfront_closing(): nothing is in flight between our calls */
	log_info_dev(bf->info.backend_id, bf->fe, "backend is closing: closed");
	set_state(bf, XenbusStateClosed);
	bf->closed = 1;
	return 1;
}

/* blkfront_free - close if connected, take the pages back, free. */
void blkfront_free(struct blkfront *bf)
{
	if (!bf)
		return;
	if (bf->connected && !bf->closed && bf->xs) {
		/* ours to close: Closing, the backend follows, then Closed
		 * (a backend that broke the ring gets less patience) */
		int saved = bf->o.timeout_ms;

		bf->o.timeout_ms = close_timeout_ms(bf);
		set_state(bf, XenbusStateClosing);
		wait_be(bf, XenbusStateClosing);
		set_state(bf, XenbusStateClosed);
		bf->o.timeout_ms = saved;
	}
	if (bf->connected || bf->closed) {
		/* the backend unmaps as it goes to Closed (or its directory
		 * is removed): wait for that before taking the pages back */
		uint64_t end = now_ms() + (uint64_t)close_timeout_ms(bf);

		while (now_ms() < end) {
			char *p, *t;
			int s;

			xs_until(bf, end, bf->o.xs_timeout_ms);
			s = be_state(bf);
			if (s == XenbusStateClosed)
				break;
			/* gone (or xenstore broken): nothing to wait for; a
			 * request that timed out is asked again */
			if (s < 0 && s != -ETIMEDOUT)
				break;
			xs_until(bf, end, STOP_TICK_MS);
			if (xsg_wait_watch(bf->xs, &p, &t) == 0) {
				free(p);
				free(t);
			}
		}
		xsg_set_timeout(bf->xs, bf->o.xs_timeout_ms);
	}
	if (bf->watching)
		xsg_unwatch(bf->xs, bf->info.backend, bf->token);
	for (unsigned int i = 0; i < BLKFRONT_MAX_QUEUES; i++)
		if (bf->q[i].shadow || bf->q[i].sring)
			queue_teardown(bf, &bf->q[i]);
	hv_evtchn_close(bf->ev);
	hv_gntshr_close(bf->gs);
	free(bf);
}

/*
 * blkfront_vdev_to_devid - xl's virtual device names (docs/misc/
 * vbd-interface): xvdX -> (202 << 8) | (disk << 4) | part for disks
 * 0..15, extended (1 << 28) | (disk << 8) | part beyond; hdX -> majors
 * 3 / 22; sdX -> (8 << 8) | (disk << 4) | part; or a plain number.
 */
int blkfront_vdev_to_devid(const char *v, uint32_t *out)
{
	unsigned long disk = 0, part = 0, n;
	const char *p;
	char *end;

	if (v[0] >= '0' && v[0] <= '9') {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (*end || errno || n > UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)n;
		return 0;
	}
	if (strncmp(v, "xvd", 3) && strncmp(v, "hd", 2) && strncmp(v, "sd", 2))
		return -EINVAL;
	p = v + (v[0] == 'x' ? 3 : 2);
	if (*p < 'a' || *p > 'z')
		return -EINVAL;
	/* letters count bijectively: a=0 .. z=25, aa=26, ab=27 */
	while (*p >= 'a' && *p <= 'z' && disk < 100000)
		disk = disk * 26 + (unsigned long)(*p++ - 'a') + 1;
	disk--;
	if (*p) {
		part = strtoul(p, &end, 10);
		if (*end || part > 15)
			return -EINVAL;
	}
	if (v[0] == 'x')
		n = disk < 16 ? (202UL << 8) | (disk << 4) | part
			      : (1UL << 28) | (disk << 8) | part;
	else if (v[0] == 'h' && disk < 4)
		n = ((disk < 2 ? 3UL : 22UL) << 8) | ((disk % 2) << 6) | part;
	else if (v[0] == 's' && disk < 16)
		n = (8UL << 8) | (disk << 4) | part;
	else
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}
