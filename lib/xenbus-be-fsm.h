/*
 * xenbus-be-fsm.h - the pure half of the xenbus backend framework: the
 * backend's state graph, the shortest-path walker's next hop, and the one
 * function that decides where a device goes next. No I/O here: the
 * xenstore side (xenbus-be.c) gathers the facts, asks, and applies the
 * answer, calling the driver's hooks on the edges the walker takes.
 *
 * The backend states and the legal edges between them:
 *
 *                 probe() ok                 connect() ok
 *  Initialising ─────────────▶ InitWait ─────────────────▶ Connected
 *       │                       │    ▲                         │
 *       │ probe() failed,       │    │ frontend                │ disconnect()
 *       │ offline or            │    │ Initialising            │ (may stay
 *       │ directory gone        │    │ (reconnect)             │  pending)
 *       │                       │    │                         ▼
 *       │     connect() failed, └────┼─────────────────────▶ Closing
 *       │     frontend Closing,      │                         │
 *       │     offline or gone        │                         │ only once no
 *       ▼                            │                         │ disconnect
 *     Closed ────────────────────────┘                         │ is pending
 *       ▲                                                      │
 *       └──────────────────────────────────────────────────────┘
 *
 *  remove() and then free happen in Closed only (the decision's actions).
 *
 * Edges: Initialising->InitWait, Initialising->Closed, InitWait->Connected,
 * InitWait->Closing, Connected->Closing, Closing->Closed, Closed->InitWait.
 * A walk to a target takes the shortest path of such edges (so Connected
 * -> Closed passes Closing and calls disconnect(); Closed -> Connected
 * passes InitWait and calls connect()). Initialising is never a target,
 * nor are the frontend-only states (Unknown, Initialised, Reconfiguring,
 * Reconfigured): a request for one is refused with -EINVAL.
 */
#ifndef SPLITDRV_XENBUS_BE_FSM_H
#define SPLITDRV_XENBUS_BE_FSM_H

#include <stdbool.h>

#include <xen/io/xenbus.h>

/* xbe_state_name - "Connected" etc.; "?" for a value out of range. */
const char *xbe_state_name(enum xenbus_state s);

/* xbe_fsm_edge - is from -> to one legal step of the diagram above? */
bool xbe_fsm_edge(enum xenbus_state from, enum xenbus_state to);

/*
 * xbe_fsm_next_hop - the next state on the shortest legal path from
 * `from` to `to` (`from` itself when they are equal). -EINVAL when either
 * is not a backend state or `to` cannot be reached from `from`.
 */
int xbe_fsm_next_hop(enum xenbus_state from, enum xenbus_state to);

/*
 * The walker's side effects, given by the I/O side: the driver's hooks
 * and the state write. connect() returns 0 or -errno (it has written its
 * "error"); disconnect() 0 when done or 1 when it completes later
 * (xbe_disconnected); enter() records the new state (writes it).
 */
struct xbe_fsm_hooks {
	int (*connect)(void *arg);
	int (*disconnect)(void *arg);
	void (*enter)(void *arg, enum xenbus_state from, enum xenbus_state to);
};

/*
 * xbe_fsm_walk - take *state to target along the shortest legal path:
 * connect() on the edge into Connected (a failure turns the walk to
 * Closing and its -errno is returned), disconnect() on the edge out of it
 * (1 sets *pending), and Closing -> Closed only while !*pending.
 * 0 once there; -EINPROGRESS when it stopped at Closing for a pending
 * disconnect; -EINVAL for a target no legal path reaches (nothing is
 * done: the caller logs it).
 */
int xbe_fsm_walk(enum xenbus_state *state, bool *pending,
		 enum xenbus_state target, const struct xbe_fsm_hooks *h,
		 void *arg);

/* What the decision sees: facts only, gathered by the I/O side. */
struct xbe_fsm_in {
	enum xenbus_state be; /* the backend's state now */
	enum xenbus_state fe; /* the frontend's; Unknown: no state node
				 (not written yet, or its directory gone);
				 a dead frontend domain counts as Closed */
	bool online;          /* the toolstack's "online" key */
	bool dir_gone;        /* the toolstack removed the backend directory */
	bool disconnect_pending; /* the driver's disconnect() returned 1 and
				    xbe_disconnected() has not come yet */
	bool removed;            /* remove() was called (or the probe failed):
				 only freeing is left */
};

/* Actions once the walk reached the target (in this order). */
#define XBE_ACT_REMOVE 0x1u /* call the driver's remove() */
#define XBE_ACT_FREE   0x2u /* drop the device object and its watch */

struct xbe_fsm_out {
	enum xenbus_state target; /* walk there (== in.be: stay) */
	unsigned int actions;     /* XBE_ACT_* */
};

/*
 * xbe_fsm_decide - the next step of one device. Pure: the same input
 * always gives the same answer, so two watches firing for one change
 * (the second sees the state the first one reached) do nothing twice.
 */
struct xbe_fsm_out xbe_fsm_decide(const struct xbe_fsm_in *in);

#endif /* SPLITDRV_XENBUS_BE_FSM_H */
