/*
 * mux.h - the event-channel multiplexer: many ports of one hv_evtchn handle
 * dispatched as libevent callbacks.
 *
 * When the handle's fd is readable the mux drains hv_evtchn_pending(),
 * calls each port's callback and unmasks the port after the callback
 * returns (so a callback never races with a second delivery of its own
 * port). A pending port with no callback is unmasked and counted as stray.
 * Callbacks may add or remove ports, including their own.
 */
#ifndef SPLITDRV_EVTCHN_MUX_H
#define SPLITDRV_EVTCHN_MUX_H

#include <stdint.h>

#include <event2/event.h>

#include "hv.h"

struct evtchn_mux;

typedef void (*evtchn_mux_cb)(evtchn_port_t port, void *arg);

/* evtchn_mux_new - watch h's fd on base. The mux does not own h. */
struct evtchn_mux *evtchn_mux_new(struct event_base *base, struct hv_evtchn *h);
/* evtchn_mux_free - stop watching; registered ports are forgotten (not
 * unbound). */
void evtchn_mux_free(struct evtchn_mux *m);
/* evtchn_mux_add - route port to cb; -EEXIST if already routed. */
int evtchn_mux_add(struct evtchn_mux *m, evtchn_port_t port, evtchn_mux_cb cb,
		   void *arg);
/* evtchn_mux_remove - forget port; -ENOENT if not routed. */
int evtchn_mux_remove(struct evtchn_mux *m, evtchn_port_t port);

struct evtchn_mux_stats {
	uint64_t wakeups;    /* fd readable events */
	uint64_t dispatched; /* callbacks called */
	uint64_t stray;      /* pending ports nobody routed */
};
void evtchn_mux_get_stats(const struct evtchn_mux *m,
			  struct evtchn_mux_stats *st);

#endif /* SPLITDRV_EVTCHN_MUX_H */
