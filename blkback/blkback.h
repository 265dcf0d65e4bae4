/*
 * blkback.h - the blkback daemon's own objects (main.c, xenbus.c); the
 * data path's types are in common.h.
 */
#ifndef SPLITDRV_BLKBACK_BLKBACK_H
#define SPLITDRV_BLKBACK_BLKBACK_H

#include <event2/event.h>
#include <jansson.h>

#include "blkback/common.h"
#include "evtchn/mux.h"
#include "hv.h"
#include "xenbus-be-host.h"

struct blkbk_config {
	domid_t backend_domid;   /* whose backend/ directory we serve */
	const char *type;        /* "vbd" (xl also uses "qdisk", "vbd3") */
	unsigned int max_queues; /* multi-queue-max-queues */
	unsigned int max_ring_order;
	unsigned int no_persistent : 1;
	unsigned int no_indirect : 1;
	unsigned int no_discard : 1;
};

/* The daemon: one event loop, one set of hv handles shared by devices. */
struct blkbk {
	struct blkbk_config cfg;
	struct xbe_host h; /* hv, gnttab, evtchn, mux, xs, xbe, deaths */
};

extern const struct xbe_driver_ops blkbk_vbd_ops;
/* blkbk_vbd_json - one device's state and stats (new reference). */
json_t *blkbk_vbd_json(struct xbe_device *d);

#endif /* SPLITDRV_BLKBACK_BLKBACK_H */
