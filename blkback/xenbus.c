/*
 * xenbus.c - blkback's control plane: the xenbus negotiation of one vbd,
 * over lib/xenbus-be (which walks the state machine) and the data path of
 * ring.c.
 *
 *   probe      params/type/mode from the backend directory (written by the
 *              toolstack); open the backing to learn what it can do (in
 *              the background: an NBD server may be slow, and the loop
 *              serves every other device meanwhile); write the feature
 *              keys (one transaction) before InitWait. The backing stays
 *              open until the device is removed, across reconnects.
 *   connect    the frontend's keys: protocol, feature-persistent,
 *              multi-queue-num-queues, per queue ring-page-order,
 *              ring-ref[N], event-channel -- all guest input, each read
 *              once, range-checked, and only then used; create the device
 *              and connect its queues; write sectors, info, sector-size,
 *              physical-sector-size (one transaction) for Connected.
 *   disconnect stop the rings; asynchronous while I/O is in flight.
 *
 * Keys, as Linux's xen-blkback/xen-blkfront and blkif.h name them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <xen/io/blkif.h>

#include "blkback/blkback.h"
#include "blkback/backing.h"
#include "log.h"

#define VDISK_READONLY 0x4 /* blkif.h's "info" bit, as blkfront reads it */

struct vbd {
	struct blkbk *bk;
	struct xbe_device *xd;
	struct blkbk_params params;
	int readonly;
	struct blkbk_backing *backing; /* open while not connected */
	struct blkbk_dev *dev;         /* while connected (or draining) */
	struct blkbk_open_job *job;    /* an open in progress */
	uint64_t size;
	uint32_t sector_size;
	int can_flush, can_discard, can_discard_secure;
	char desc[128];
};

/* How long an NBD server may take to connect and negotiate. */
#define VBD_OPEN_TIMEOUT_MS 5000

/* took_backing - v now holds b: learn what it can do. */
static void took_backing(struct vbd *v, struct blkbk_backing *b)
{
	v->backing = b;
	v->size = b->size;
	v->sector_size = b->sector_size;
	v->readonly |= b->readonly;
	v->can_flush = b->can_flush;
	v->can_discard =
		b->can_discard && !v->readonly && !v->bk->cfg.no_discard;
	v->can_discard_secure = v->can_discard && b->can_discard_secure;
	snprintf(v->desc, sizeof(v->desc), "%s", b->desc);
}

/* keep - the first real error of a series of writes. */
static void keep(int *first, int r)
{
	if (r < 0 && *first == 0)
		*first = r;
}

/* features - what we offer, written before InitWait. 0 or the first
 * write's -errno. */
static int features(struct xbe_device *d, xs_transaction_t t, void *arg)
{
	struct vbd *v = arg;
	int r = 0;

	keep(&r, xbe_write_be(d, t, "feature-flush-cache", "%d", v->can_flush));
	keep(&r, xbe_write_be(d, t, "feature-barrier", "%d", v->can_flush));
	keep(&r, xbe_write_be(d, t, "feature-discard", "%d", v->can_discard));
	if (v->can_discard) {
		keep(&r, xbe_write_be(d, t, "discard-granularity", "%u",
				      v->sector_size));
		keep(&r, xbe_write_be(d, t, "discard-alignment", "0"));
		keep(&r, xbe_write_be(d, t, "discard-secure", "%d",
				      v->can_discard_secure));
	}
	keep(&r,
	     xbe_write_be(d, t, "feature-max-indirect-segments", "%u",
			  v->bk->cfg.no_indirect ? 0 : BLKBK_MAX_INDIRECT_SEGS));
	keep(&r, xbe_write_be(d, t, "feature-persistent", "%d",
			      !v->bk->cfg.no_persistent));
	keep(&r, xbe_write_be(d, t, "max-ring-page-order", "%u",
			      v->bk->cfg.max_ring_order));
	keep(&r, xbe_write_be(d, t, "multi-queue-max-queues", "%u",
			      v->bk->cfg.max_queues));
	return r;
}

static void vbd_free(struct vbd *v)
{
	blkbk_backing_open_cancel(v->job);
	blkbk_dev_free(v->dev);
	blkbk_backing_close(v->backing);
	free(v);
}

/* The backing of a new device is open (or not): finish the probe. */
static void vbd_on_open(void *arg, int rc, struct blkbk_backing *b)
{
	struct vbd *v = arg;
	struct xbe_device *d = v->xd;

	v->job = NULL;
	if (rc == 0) {
		took_backing(v, b);
		rc = xbe_transaction(d, features, v);
		if (rc < 0)
			xbe_error(d, rc, "writing feature keys");
	} else {
		/* "2 cannot open file:/x: No such file or directory" */
		xbe_error(d, rc, "cannot open %s", v->desc);
	}
	if (rc < 0) {
		d->priv = NULL;
		vbd_free(v);
		xbe_probed(d, rc);
		return;
	}
	log_info_dev(d->fdomid, d->name, "%s: %llu sectors of %u bytes%s",
		     v->desc, (unsigned long long)(v->size / v->sector_size),
		     v->sector_size, v->readonly ? ", read-only" : "");
	xbe_probed(d, 0);
}

/* A lost backing was reopened for the next connect (or not). */
static void vbd_on_reopen(void *arg, int rc, struct blkbk_backing *b)
{
	struct vbd *v = arg;
	struct xbe_device *d = v->xd;

	v->job = NULL;
	if (rc < 0) {
		log_warnx_dev(d->fdomid, d->name, "reopening %s: %s", v->desc,
			      strerror(-rc));
		return;
	}
	took_backing(v, b);
	log_info_dev(d->fdomid, d->name, "%s reopened", v->desc);
}

static int vbd_probe(struct xbe_device *d)
{
	struct blkbk *bk = xbe_arg(d->xbe);
	struct vbd *v = calloc(1, sizeof(*v));
	char *params = NULL, *type = NULL, *mode = NULL;
	const char *why = NULL;
	int r;

	if (!v)
		return -ENOMEM;
	v->bk = bk;
	v->xd = d;
	d->priv = v;
	r = xbe_read_be_str(d, "params", &params);
	if (r < 0) {
		xbe_error(d, r, "no params key (what to serve)");
		goto fail;
	}
	xbe_read_be_str(d, "type", &type); /* optional */
	r = blkbk_params_parse(params, type, &v->params, &why);
	if (r < 0) {
		xbe_error(d, r, "params '%s': %s", params,
			  why ? why : "invalid");
		goto fail;
	}
	if (xbe_read_be_str(d, "mode", &mode) == 0)
		v->readonly = mode[0] == 'r';
	blkbk_params_desc(&v->params, v->desc, sizeof(v->desc));
	/* A storage server may be slow: the open goes on in the background
	 * and the loop keeps serving everybody else (vbd_on_open). */
	v->job = blkbk_backing_open_async(bk->h.base, &v->params, v->readonly,
					  VBD_OPEN_TIMEOUT_MS, vbd_on_open, v);
	if (!v->job) {
		r = -errno;
		xbe_error(d, r, "opening %s", params);
		goto fail;
	}
	free(params);
	free(type);
	free(mode);
	return 1;
fail:
	free(params);
	free(type);
	free(mode);
	d->priv = NULL;
	vbd_free(v);
	return r < 0 ? r : -EINVAL;
}

/* queue_keys - the ring of one queue: its directory, order, refs, port. */
static int queue_keys(struct vbd *v, unsigned int q, unsigned int nq,
		      grant_ref_t *refs, unsigned int *order,
		      evtchn_port_t *port)
{
	struct xbe_device *d = v->xd;
	char key[64], pfx[24] = "";
	unsigned long val;
	int r;

	if (nq > 1)
		snprintf(pfx, sizeof(pfx), "queue-%u/", q);
	snprintf(key, sizeof(key), "%sring-page-order", pfx);
	r = xbe_read_fe_uint(d, key, 0, v->bk->cfg.max_ring_order, &val);
	if (r == -ENOENT) {
		snprintf(key, sizeof(key), "ring-page-order");
		r = xbe_read_fe_uint(d, key, 0, v->bk->cfg.max_ring_order, &val);
	}
	if (r == -ENOENT)
		val = 0;
	else if (r < 0)
		return r;
	*order = (unsigned int)val;
	for (unsigned int i = 0; i < (1u << *order); i++) {
		if (*order == 0)
			snprintf(key, sizeof(key), "%sring-ref", pfx);
		else
			snprintf(key, sizeof(key), "%sring-ref%u", pfx, i);
		r = xbe_read_fe_uint(d, key, 0, 0xffffffffUL, &val);
		if (r < 0)
			return r;
		refs[i] = (grant_ref_t)val;
	}
	snprintf(key, sizeof(key), "%sevent-channel", pfx);
	r = xbe_read_fe_uint(d, key, 1, 0xffffffffUL, &val);
	if (r < 0)
		return r;
	*port = (evtchn_port_t)val;
	return 0;
}

/* connected_keys - what blkfront reads once we are Connected. 0 or the
 * first write's -errno. */
static int connected_keys(struct xbe_device *d, xs_transaction_t t, void *arg)
{
	struct vbd *v = arg;
	int r = 0;

	keep(&r, xbe_write_be(d, t, "sectors", "%llu",
			      (unsigned long long)(v->size >> 9)));
	keep(&r, xbe_write_be(d, t, "info", "%u",
			      v->readonly ? VDISK_READONLY : 0));
	keep(&r, xbe_write_be(d, t, "sector-size", "%u", v->sector_size));
	keep(&r,
	     xbe_write_be(d, t, "physical-sector-size", "%u", v->sector_size));
	return r;
}

/* vbd_release_dev - free the device, keep its backing for a reconnect
 * unless it is lost for good. */
static void vbd_release_dev(struct vbd *v)
{
	struct blkbk_backing *b = blkbk_dev_release(v->dev);

	v->dev = NULL;
	if (b && b->failed) {
		log_warnx_dev(v->xd->fdomid, v->xd->name,
			      "%s is lost: closed (reopened on the next connect)",
			      v->desc);
		blkbk_backing_close(b);
		b = NULL;
	}
	v->backing = b;
}

static int vbd_connect(struct xbe_device *d)
{
	struct vbd *v = d->priv;
	struct blkbk *bk = v->bk;
	struct blkbk_dev_config cfg = { 0 };
	char *proto = NULL;
	enum blkbk_abi abi = BLKBK_ABI_NATIVE;
	unsigned long nq = 1, persistent = 0;
	int r;

	if (xbe_read_fe_str(d, "protocol", &proto) == 0) {
		r = blkbk_parse_protocol(proto, &abi);
		if (r < 0) {
			xbe_error(d, r, "unknown protocol '%.32s'", proto);
			free(proto);
			return r;
		}
		free(proto);
	}
	r = xbe_read_fe_uint(d, "multi-queue-num-queues", 1, bk->cfg.max_queues,
			     &nq);
	if (r < 0 && r != -ENOENT) {
		xbe_error(d, r, "multi-queue-num-queues out of 1..%u",
			  bk->cfg.max_queues);
		return r;
	}
	if (xbe_read_fe_uint(d, "feature-persistent", 0, 1, &persistent) < 0)
		persistent = 0;
	if (!v->backing) {
		/* lost (its NBD server went away) since the last connect:
		 * it is reopened in the background, never in the loop */
		if (!v->job)
			v->job = blkbk_backing_open_async(bk->h.base, &v->params,
							  v->readonly,
							  VBD_OPEN_TIMEOUT_MS,
							  vbd_on_reopen, v);
		xbe_error(d, -EAGAIN,
			  "%s was lost and is being reopened, "
			  "reconnect later",
			  v->desc);
		return -EAGAIN;
	}
	cfg.base = bk->h.base;
	cfg.gnttab = bk->h.gnttab;
	cfg.evtchn = bk->h.evtchn;
	cfg.mux = bk->h.mux;
	cfg.domid = d->fdomid;
	cfg.name = d->name;
	cfg.backing = v->backing;
	cfg.readonly = v->readonly;
	cfg.persistent = persistent && !bk->cfg.no_persistent;
	cfg.no_indirect = bk->cfg.no_indirect;
	cfg.no_discard = bk->cfg.no_discard;
	cfg.nr_queues = (unsigned int)nq;
	v->backing =
		NULL; /* the device's now; blkbk_dev_release gives it back */
	v->dev = blkbk_dev_new(&cfg);
	if (!v->dev) {
		r = -errno;
		xbe_error(d, r, "creating the device");
		return r;
	}
	for (unsigned int q = 0; q < nq; q++) {
		grant_ref_t refs[1u << BLKBK_MAX_RING_ORDER];
		unsigned int order = 0;
		evtchn_port_t port = 0;

		r = queue_keys(v, q, (unsigned int)nq, refs, &order, &port);
		if (r < 0) {
			xbe_error(d, r,
				  "queue %u: ring keys missing or invalid", q);
			goto fail;
		}
		r = blkbk_queue_connect(v->dev, q, refs, order, port, abi);
		if (r < 0) {
			xbe_error(d, r, "queue %u: mapping the ring", q);
			goto fail;
		}
	}
	r = xbe_transaction(d, connected_keys, v);
	if (r < 0) {
		xbe_error(d, r, "writing sectors/info");
		goto fail;
	}
	log_info_dev(d->fdomid, d->name,
		     "connected: %lu queue(s), %s, "
		     "persistent grants %s",
		     nq, blkbk_abi_name(abi), cfg.persistent ? "on" : "off");
	return 0;
fail:
	vbd_release_dev(v); /* nothing was in flight yet */
	return r;
}

static void drained(void *arg)
{
	struct vbd *v = arg;

	vbd_release_dev(v);
	log_info_dev(v->xd->fdomid, v->xd->name, "disconnected (I/O drained)");
	xbe_disconnected(v->xd);
}

static int vbd_disconnect(struct xbe_device *d)
{
	struct vbd *v = d->priv;
	int r;

	if (!v || !v->dev)
		return 0;
	r = blkbk_dev_disconnect(v->dev, drained, v);
	if (r == 1)
		return 1; /* drained() finishes it */
	vbd_release_dev(v);
	log_info_dev(d->fdomid, d->name, "disconnected");
	return 0;
}

static void vbd_remove(struct xbe_device *d)
{
	struct vbd *v = d->priv;

	if (!v)
		return;
	vbd_free(v); /* cancels an open in progress */
}

const struct xbe_driver_ops blkbk_vbd_ops = {
	.probe = vbd_probe,
	.connect = vbd_connect,
	.disconnect = vbd_disconnect,
	.remove = vbd_remove,
};

/* blkbk_vbd_json - one device's state and stats, for the control socket. */
json_t *blkbk_vbd_json(struct xbe_device *d)
{
	struct vbd *v = d->priv;
	json_t *o = json_object();

	json_object_set_new(o, "device", json_string(d->name));
	json_object_set_new(o, "frontend-domid", json_integer(d->fdomid));
	json_object_set_new(o, "devid", json_integer(d->devid));
	json_object_set_new(o, "state", json_integer(d->be_state));
	json_object_set_new(o, "connected",
			    json_boolean(d->be_state == XenbusStateConnected));
	if (v) {
		json_object_set_new(o, "backing", json_string(v->desc));
		if (v->job)
			json_object_set_new(o, "opening", json_true());
		json_object_set_new(o, "sectors",
				    json_integer((json_int_t)(v->size >> 9)));
		json_object_set_new(o, "readonly", json_boolean(v->readonly));
		if (v->dev) {
			struct blkbk_stats st;

			blkbk_dev_get_stats(v->dev, &st);
			json_object_set_new(o, "stats", blkbk_stats_json(&st));
		}
	}
	return o;
}
