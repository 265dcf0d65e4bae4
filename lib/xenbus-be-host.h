/*
 * xenbus-be-host.h - what a backend daemon opens around its xbe: the
 * hypervisor, one grant-table and one event-channel handle shared by its
 * devices, the event-channel multiplexer, the xenstore connection, the
 * xbe itself, and the hypervisor's domain-death events (a dead frontend
 * domain's devices are released at once: xbe_domain_dead()).
 *
 *	struct xbe_host h;
 *
 *	if (xbe_host_open(&h, dr.base, &o, backend_domid, "vif", &ops,
 *			  me, "vifs") < 0)
 *		goto out;   // each failure logged in words
 *	...
 * out:
 *	xbe_host_close(&h); // safe on whatever open left
 */
#ifndef SPLITDRV_XENBUS_BE_HOST_H
#define SPLITDRV_XENBUS_BE_HOST_H

#include <jansson.h>

#include "daemon.h"
#include "evtchn/mux.h"
#include "xenbus-be.h"

struct xbe_host {
	struct event_base *base;
	struct hv *hv;
	struct hv_gnttab *gnttab;
	struct hv_evtchn *evtchn;
	struct evtchn_mux *mux;
	struct xs_handle *xs;
	struct xbe *xbe;
	struct hv_domains *doms; /* NULL when the events are unavailable */
	struct event *dom_ev;
	const char *what; /* "vifs", "disks": for the logs */
};

/*
 * xbe_host_open - open everything above for backend/<type> of
 * backend_domid on base, the provider and run directory of o; ops and
 * arg go to xbe_new(). Domain events that cannot be had are a warning
 * (dead guests' devices then wait for the toolstack). 0 or -1 (logged).
 */
int xbe_host_open(struct xbe_host *h, struct event_base *base,
		  const struct daemon_opts *o, domid_t backend_domid,
		  const char *type, const struct xbe_driver_ops *ops, void *arg,
		  const char *what);
/*
 * xbe_host_devices - what a backend's status and stats answer: "hv",
 * "backend-domid", "type" and "devices", an array of dev_json(d) (a new
 * reference each) for every device.
 */
void xbe_host_devices(struct xbe_host *h, json_t *obj, domid_t backend_domid,
		      const char *type,
		      json_t *(*dev_json)(struct xbe_device *));
/* xbe_host_close - every device removed (xbe_free), then the rest. */
void xbe_host_close(struct xbe_host *h);

#endif /* SPLITDRV_XENBUS_BE_HOST_H */
