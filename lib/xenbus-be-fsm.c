/*
 * xenbus-be-fsm.c - the backend's state graph, its walker and the
 * decision of a device's next step (see xenbus-be-fsm.h). Pure: no
 * xenstore, no logging; xenbus-be.c does the I/O.
 */
#include "config.h"

#include <errno.h>

#include "xenbus-be-fsm.h"

const char *xbe_state_name(enum xenbus_state s)
{
	static const char *const names[] = {
		"Unknown",     "Initialising",  "InitWait",
		"Initialised", "Connected",     "Closing",
		"Closed",      "Reconfiguring", "Reconfigured",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* The edges of the diagram in xenbus-be-fsm.h, in the order a shortest
 * path prefers them when two are as short. */
static const struct {
	enum xenbus_state from, to;
} edges[] = {
	{ XenbusStateInitialising, XenbusStateInitWait },
	{ XenbusStateInitialising, XenbusStateClosed },
	{ XenbusStateInitWait, XenbusStateConnected },
	{ XenbusStateInitWait, XenbusStateClosing },
	{ XenbusStateConnected, XenbusStateClosing },
	{ XenbusStateClosing, XenbusStateClosed },
	{ XenbusStateClosed, XenbusStateInitWait },
};

#define NEDGES  (sizeof(edges) / sizeof(edges[0]))
#define NSTATES (XenbusStateReconfigured + 1)

static bool is_backend_state(enum xenbus_state s)
{
	switch (s) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
	case XenbusStateConnected:
	case XenbusStateClosing:
	case XenbusStateClosed:
		return true;
	default:
		return false;
	}
}

bool xbe_fsm_edge(enum xenbus_state from, enum xenbus_state to)
{
	for (unsigned int i = 0; i < NEDGES; i++)
		if (edges[i].from == from && edges[i].to == to)
			return true;
	return false;
}

int xbe_fsm_next_hop(enum xenbus_state from, enum xenbus_state to)
{
	int dist[NSTATES];
	bool changed = true;

	if (!is_backend_state(from) || !is_backend_state(to))
		return -EINVAL;
	if (from == to)
		return from;
	/* Distances to `to` over the edges (Bellman-Ford; 5 states). */
	for (unsigned int s = 0; s < NSTATES; s++)
		dist[s] = -1;
	dist[to] = 0;
	while (changed) {
		changed = false;
		for (unsigned int i = 0; i < NEDGES; i++) {
			int d = dist[edges[i].to];

			if (d >= 0 && (dist[edges[i].from] < 0 ||
				       dist[edges[i].from] > d + 1)) {
				dist[edges[i].from] = d + 1;
				changed = true;
			}
		}
	}
	if (dist[from] < 0)
		return -EINVAL;
	for (unsigned int i = 0; i < NEDGES; i++)
		if (edges[i].from == from && dist[edges[i].to] == dist[from] - 1)
			return edges[i].to;
	return -EINVAL; /* not reached: dist[from] came from such an edge */
}

int xbe_fsm_walk(enum xenbus_state *state, bool *pending,
		 enum xenbus_state target, const struct xbe_fsm_hooks *h,
		 void *arg)
{
	if (xbe_fsm_next_hop(*state, target) < 0)
		return -EINVAL;
	while (*state != target) {
		enum xenbus_state from = *state;
		enum xenbus_state next =
			(enum xenbus_state)xbe_fsm_next_hop(from, target);
		int r;

		if (next == XenbusStateConnected) {
			r = h->connect(arg);
			if (r < 0) {
				*state = XenbusStateClosing;
				h->enter(arg, from, XenbusStateClosing);
				return r;
			}
		} else if (from == XenbusStateConnected) {
			if (h->disconnect(arg) > 0)
				*pending = true;
		} else if (next == XenbusStateClosed && *pending) {
			return -EINPROGRESS;
		}
		*state = next;
		h->enter(arg, from, next);
	}
	return 0;
}

/* fe_idle - the frontend is not using the device (nor about to). */
static bool fe_idle(enum xenbus_state fe)
{
	return fe == XenbusStateClosed || fe == XenbusStateUnknown ||
	       fe == XenbusStateInitialising || fe == XenbusStateInitWait;
}

struct xbe_fsm_out xbe_fsm_decide(const struct xbe_fsm_in *in)
{
	struct xbe_fsm_out o = { in->be, 0 };
	enum xenbus_state be = in->be;

	if (in->removed) {
		/* inert; the object goes with its directory */
		if (in->dir_gone)
			o.actions = XBE_ACT_FREE;
		return o;
	}
	if (in->disconnect_pending)
		return o; /* nothing moves before the driver let go */
	if (in->dir_gone) {
		/* the toolstack gave up on it: close, remove, free */
		o.target = XenbusStateClosed;
		o.actions = XBE_ACT_REMOVE | XBE_ACT_FREE;
		return o;
	}
	if (!in->online) {
		/* detach (libxl: online=0, our state=Closing): close now,
		 * remove once the frontend has let go too */
		if (be == XenbusStateInitialising || be == XenbusStateClosed ||
		    fe_idle(in->fe)) {
			o.target = XenbusStateClosed;
			o.actions = XBE_ACT_REMOVE;
		} else {
			o.target = XenbusStateClosing;
		}
		return o;
	}
	if (be == XenbusStateInitialising)
		return o; /* the probe is still running */
	switch (in->fe) {
	case XenbusStateUnknown:
		/* not there yet (stay), or gone after it was there */
		if (be != XenbusStateInitWait) {
			o.target = XenbusStateClosed;
			o.actions = XBE_ACT_REMOVE;
		}
		break;
	case XenbusStateInitialising:
		if (be == XenbusStateClosed)
			o.target = XenbusStateInitWait; /* reconnect */
		break;
	case XenbusStateInitWait:
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (be == XenbusStateInitWait)
			o.target = XenbusStateConnected;
		break; /* Closing/Closed: the frontend must close first */
	case XenbusStateClosing:
		if (be == XenbusStateInitWait || be == XenbusStateConnected)
			o.target = XenbusStateClosing;
		break;
	case XenbusStateClosed:
	default: /* Reconfiguring/Reconfigured: not supported, as Closed */
		o.target = XenbusStateClosed;
		break;
	}
	return o;
}
