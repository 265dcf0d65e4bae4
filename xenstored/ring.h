/*
 * ring.h - xenstored's per-domain ring transport over lib/hv.h (ring.c).
 */
#ifndef SPLITDRV_XENSTORED_RING_H
#define SPLITDRV_XENSTORED_RING_H

#include <stdint.h>

#include <event2/event.h>

#include "hv.h"

struct xs_store;
struct xs_ring;

/*
 * xs_ring_new - plug the ring transport into st (st->ring): introduced
 * domains get their ring mapped and served, and the hv layer's domain
 * shutdowns become xs_domain_shut_down(), deaths xs_domain_died(). NULL
 * with errno.
 */
struct xs_ring *xs_ring_new(struct xs_store *st, struct event_base *base,
			    struct hv *hv);
/* xs_ring_dom0 - real Xen: also serve dom0's own ring (/proc/xen/xsd_*).
 * 0 or -errno. */
int xs_ring_dom0(struct xs_ring *r);
/*
 * xs_ring_keep_partials - keep a request read in part, per ring, in
 * dir/xenstored.partial (mapped shared) so that a daemon started after a
 * kill goes on with it (ring.c, "Restart"). Call before the first ring is
 * attached. 0 or -errno (then such a request may be cut by a crash).
 */
int xs_ring_keep_partials(struct xs_ring *r, const char *dir);
/* xs_ring_free - unplug; call after the store dropped its domains. */
void xs_ring_free(struct xs_ring *r);
/* xs_ring_quarantined - rings stopped for corruption so far. */
uint64_t xs_ring_quarantined(const struct xs_ring *r);

#endif /* SPLITDRV_XENSTORED_RING_H */
