/*
 * mux.c - the event-channel multiplexer (see mux.h), over lib/hv.h only.
 *
 * The port table is an array indexed by port, grown on demand (ports are
 * small and dense on both providers; FIFO-ABI Xen may hand out ports above
 * 4096, so the cap is EVTCHN_FIFO_NR_CHANNELS).
 *
 * Design note: callbacks that change the table. A callback may add or
 * remove any port, its own included, and may free the mux. Dispatch of
 * one port is therefore:
 *   1. copy (cb, arg) out of the table;          - the slot may change or
 *   2. call cb(port, arg);                         the table move (realloc)
 *   3. unmask port (error ignored: cb may have     while cb runs; we hold
 *      unbound it);                                no pointer into it
 *   4. if cb freed the mux, finish freeing and return.
 * Example: port 5's callback removes port 5 and unbinds it; step 3 gets
 * -EINVAL from the provider, which is expected and ignored; a later
 * pending report of port 5 counts as stray.
 *
 * Fairness: at most MUX_BATCH ports per wakeup; if more are pending the
 * event is activated again so that other fds of the loop get their turn
 * (the fd may already be drained, so we cannot wait for it).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mux.h"

#define MUX_BATCH     256
#define MUX_MAX_PORTS EVTCHN_FIFO_NR_CHANNELS

struct mux_slot {
	evtchn_mux_cb cb;
	void *arg;
};

struct evtchn_mux {
	struct event_base *base;
	struct hv_evtchn *h;
	struct event *ev;
	struct mux_slot *slots;
	uint32_t nslots;
	int dispatching; /* inside evtchn_mux_on_fd */
	int dead;        /* evtchn_mux_free called from a callback */
	struct evtchn_mux_stats st;
	struct log_ratelimit rl;
};

static void evtchn_mux_destroy(struct evtchn_mux *m)
{
	if (m->ev)
		event_free(m->ev);
	free(m->slots);
	free(m);
}

static void evtchn_mux_on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct evtchn_mux *m = arg;
	evtchn_mux_cb cb;
	void *cb_arg;
	unsigned int n;
	int p, r;

	m->st.wakeups++;
	m->dispatching = 1;
	for (n = 0; n < MUX_BATCH; n++) {
		p = hv_evtchn_pending(m->h);
		if (p < 0) {
			if (p != -EAGAIN && log_ratelimit_ok(&m->rl, NULL))
				log_warnx("evtchn mux: pending: %s",
					  strerror(-p));
			break;
		}
		if ((uint32_t)p < m->nslots && m->slots[p].cb) {
			cb = m->slots[p].cb;
			cb_arg = m->slots[p].arg;
			m->st.dispatched++;
			cb((evtchn_port_t)p, cb_arg);
		} else {
			m->st.stray++;
		}
		/* After the callback: a second delivery of p can now come. */
		r = hv_evtchn_unmask(m->h, (evtchn_port_t)p);
		(void)r; /* -EINVAL when the callback unbound p */
		if (m->dead)
			break;
	}
	m->dispatching = 0;
	if (m->dead) {
		evtchn_mux_destroy(m);
		return;
	}
	if (n == MUX_BATCH)
		event_active(m->ev, EV_READ, 0);
}

/* evtchn_mux_new - see mux.h. NULL with errno (EINVAL, ENOMEM, or the
 * error of hv_evtchn_fd). */
struct evtchn_mux *evtchn_mux_new(struct event_base *base, struct hv_evtchn *h)
{
	struct evtchn_mux *m;
	int fd;

	if (!base || !h) {
		errno = EINVAL;
		return NULL;
	}
	fd = hv_evtchn_fd(h);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->base = base;
	m->h = h;
	m->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10000, 5);
	m->ev = event_new(base, fd, EV_READ | EV_PERSIST, evtchn_mux_on_fd, m);
	if (!m->ev || event_add(m->ev, NULL) < 0) {
		evtchn_mux_destroy(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

/* evtchn_mux_free - see mux.h. Safe from inside a callback (the mux is
 * freed when the dispatch loop returns). NULL is fine. */
void evtchn_mux_free(struct evtchn_mux *m)
{
	if (!m)
		return;
	if (m->dispatching) {
		m->dead = 1;
		event_del(m->ev);
		return;
	}
	evtchn_mux_destroy(m);
}

static int evtchn_mux_grow(struct evtchn_mux *m, evtchn_port_t port)
{
	uint32_t n = m->nslots ? m->nslots : 64;
	struct mux_slot *s;

	while (n <= port)
		n *= 2;
	if (n > MUX_MAX_PORTS)
		n = MUX_MAX_PORTS;
	s = realloc(m->slots, (size_t)n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + m->nslots, 0, (size_t)(n - m->nslots) * sizeof(*s));
	m->slots = s;
	m->nslots = n;
	return 0;
}

/* evtchn_mux_add - see mux.h. -EINVAL for a NULL cb or a port beyond any
 * ABI; -ENOMEM. */
int evtchn_mux_add(struct evtchn_mux *m, evtchn_port_t port, evtchn_mux_cb cb,
		   void *arg)
{
	int r;

	if (!m || !cb || port >= MUX_MAX_PORTS)
		return -EINVAL;
	if (m->dead)
		return -ESHUTDOWN;
	if (port >= m->nslots) {
		r = evtchn_mux_grow(m, port);
		if (r < 0)
			return r;
	}
	if (m->slots[port].cb)
		return -EEXIST;
	m->slots[port].cb = cb;
	m->slots[port].arg = arg;
	return 0;
}

/* evtchn_mux_remove - see mux.h. */
int evtchn_mux_remove(struct evtchn_mux *m, evtchn_port_t port)
{
	if (!m)
		return -EINVAL;
	if (port >= m->nslots || !m->slots[port].cb)
		return -ENOENT;
	m->slots[port].cb = NULL;
	m->slots[port].arg = NULL;
	return 0;
}

/* evtchn_mux_get_stats - a copy of the counters. */
void evtchn_mux_get_stats(const struct evtchn_mux *m,
			  struct evtchn_mux_stats *st)
{
	*st = m->st;
}
