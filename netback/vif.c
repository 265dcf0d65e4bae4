/*
 * vif.c - a vif's queues: the TX and RX rings of each mapped from the
 * frontend's grants, its event channel(s) bound (one for both rings, or
 * event-channel-tx/-rx when split), its TAP queue fd watched; and the
 * halt of a vif whose frontend broke the protocol (Linux's
 * xenvif_fatal_tx_err): its rings are not read again until the frontend
 * reconnects, and no other vif notices.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/vif.h"

static void queue_on_tx_evtchn(evtchn_port_t port, void *arg)
{
	struct netbk_queue *q = arg;

	(void)port;
	q->st.notifies_in++;
	netbk_tx_process(q);
	/* one channel for both rings: the guest may have posted RX
	 * buffers too */
	if (q->rx_port == q->tx_port)
		netbk_rx_kick(q);
}

static void queue_on_rx_evtchn(evtchn_port_t port, void *arg)
{
	struct netbk_queue *q = arg;

	(void)port;
	q->st.notifies_in++;
	netbk_rx_kick(q);
}

static void queue_on_tx_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	netbk_tx_process(arg);
}

static void queue_on_rx_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	netbk_rx_kick(arg);
}

static void add_stats(struct netbk_queue_stats *to,
		      const struct netbk_queue_stats *from)
{
	const uint64_t *f = (const uint64_t *)(const void *)from;
	uint64_t *t = (uint64_t *)(void *)to;

	/* the struct is uint64_t counters only */
	_Static_assert(sizeof(*from) % sizeof(uint64_t) == 0, "counters");
	for (size_t i = 0; i < sizeof(*from) / sizeof(uint64_t); i++)
		t[i] += f[i];
}

void netbk_vif_stats(const struct netbk_vif *vif, struct netbk_queue_stats *s)
{
	*s = vif->old;
	for (unsigned int i = 0; vif->q && i < vif->nr_queues; i++)
		add_stats(s, &vif->q[i].st);
}

static void queue_teardown(struct netbk_queue *q)
{
	struct netbk *nb = q->vif->nb;

	if (q->tap_ev)
		event_free(q->tap_ev);
	if (q->tx_resume_ev)
		event_free(q->tx_resume_ev);
	if (q->rx_resume_ev)
		event_free(q->rx_resume_ev);
	if (q->stall_ev)
		event_free(q->stall_ev);
	q->tap_ev = q->tx_resume_ev = q->rx_resume_ev = q->stall_ev = NULL;
	if (q->tx_bound) {
		evtchn_mux_remove(nb->h.mux, q->tx_port);
		hv_evtchn_unbind(nb->h.evtchn, q->tx_port);
	}
	if (q->rx_bound) {
		evtchn_mux_remove(nb->h.mux, q->rx_port);
		hv_evtchn_unbind(nb->h.evtchn, q->rx_port);
	}
	q->tx_bound = q->rx_bound = 0;
	if (q->tx_map)
		hv_gnttab_unmap(nb->h.gnttab, q->tx_map, 1);
	if (q->rx_map)
		hv_gnttab_unmap(nb->h.gnttab, q->rx_map, 1);
	q->tx_map = q->rx_map = NULL;
	netbk_rx_flush_backlog(q);
	if (q->idx > 0 && q->tap_fd >= 0)
		close(q->tap_fd);
	q->tap_fd = -1;
	free(q->txbuf);
	free(q->rxbuf);
	q->txbuf = q->rxbuf = NULL;
	q->connected = 0;
}

/* bind_port - one event channel of the frontend, routed to cb. */
static int bind_port(struct netbk_queue *q, evtchn_port_t remote,
		     evtchn_mux_cb cb, evtchn_port_t *local)
{
	struct netbk *nb = q->vif->nb;
	int port =
		hv_evtchn_bind_interdomain(nb->h.evtchn, q->vif->domid, remote);
	int r;

	if (port < 0)
		return port;
	r = evtchn_mux_add(nb->h.mux, (evtchn_port_t)port, cb, q);
	if (r < 0) {
		hv_evtchn_unbind(nb->h.evtchn, (evtchn_port_t)port);
		return r;
	}
	*local = (evtchn_port_t)port;
	return 0;
}

static int queue_setup(struct netbk_queue *q, const struct netbk_queue_keys *k)
{
	struct netbk_vif *vif = q->vif;
	struct netbk *nb = vif->nb;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(5000, 10);
	int r;

	q->rl = rl;
	q->tap_fd = q->idx == 0 ? vif->tap_fd0 : netbk_tap_open(vif->ifname);
	if (q->tap_fd < 0)
		return q->tap_fd;
	r = netbk_tap_offload(q->tap_fd, vif);
	if (r < 0)
		return r;
	q->txbuf = malloc(NETBK_VNET_HDR_LEN + NETBK_FRAME_MAX);
	q->rxbuf = malloc(NETBK_VNET_HDR_LEN + NETBK_FRAME_MAX);
	q->tap_ev = event_new(nb->h.base, q->tap_fd, EV_READ | EV_PERSIST,
			      netbk_rx_on_tap, q);
	q->tx_resume_ev = event_new(nb->h.base, -1, 0, queue_on_tx_resume, q);
	q->rx_resume_ev = event_new(nb->h.base, -1, 0, queue_on_rx_resume, q);
	q->stall_ev = event_new(nb->h.base, -1, 0, netbk_rx_on_stall, q);
	if (!q->txbuf || !q->rxbuf || !q->tap_ev || !q->tx_resume_ev ||
	    !q->rx_resume_ev || !q->stall_ev)
		return -ENOMEM;
	q->tx_map = hv_gnttab_map_one(nb->h.gnttab, vif->domid, k->tx_ref, 0);
	if (!q->tx_map)
		return -errno;
	q->rx_map = hv_gnttab_map_one(nb->h.gnttab, vif->domid, k->rx_ref, 0);
	if (!q->rx_map)
		return -errno;
	BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_map, HV_PAGE_SIZE);
	BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_map, HV_PAGE_SIZE);
	r = bind_port(q, k->tx_port, queue_on_tx_evtchn, &q->tx_port);
	if (r < 0)
		return r;
	q->tx_bound = 1;
	if (k->rx_port != k->tx_port) {
		r = bind_port(q, k->rx_port, queue_on_rx_evtchn, &q->rx_port);
		if (r < 0)
			return r;
		q->rx_bound = 1;
	} else {
		q->rx_port = q->tx_port;
	}
	if (event_add(q->tap_ev, NULL) < 0)
		return -ENOMEM;
	q->connected = 1;
	/* requests and buffers may be waiting already */
	event_active(q->tx_resume_ev, 0, 0);
	event_active(q->rx_resume_ev, 0, 0);
	return 0;
}

int netbk_vif_connect(struct netbk_vif *vif, unsigned int nr,
		      const struct netbk_queue_keys *keys)
{
	int r = 0;

	if (vif->q || nr == 0 || nr > NETBK_MAX_QUEUES)
		return -EINVAL;
	vif->q = calloc(nr, sizeof(*vif->q));
	if (!vif->q)
		return -ENOMEM;
	vif->nr_queues = nr;
	vif->halted = 0;
	for (unsigned int i = 0; i < nr; i++) {
		vif->q[i].vif = vif;
		vif->q[i].idx = i;
		vif->q[i].tap_fd = -1;
	}
	for (unsigned int i = 0; i < nr && r == 0; i++) {
		r = queue_setup(&vif->q[i], &keys[i]);
		if (r < 0)
			log_warnx_dev(vif->domid, vif->xd->name, "queue %u: %s",
				      i, strerror(-r));
	}
	if (r < 0)
		netbk_vif_disconnect(vif);
	return r;
}

void netbk_vif_disconnect(struct netbk_vif *vif)
{
	if (!vif->q)
		return;
	for (unsigned int i = 0; i < vif->nr_queues; i++) {
		queue_teardown(&vif->q[i]);
		add_stats(&vif->old, &vif->q[i].st);
	}
	free(vif->q);
	vif->q = NULL;
	vif->nr_queues = 0;
}

void netbk_vif_halt(struct netbk_vif *vif, struct netbk_queue *q,
		    const char *why)
{
	if (vif->halted)
		return;
	vif->halted = 1;
	q->st.halts++;
	log_msg(LOG_WARNING, 0, vif->domid, vif->xd->name,
		"q%u: %s: buggy or malicious frontend, vif halted until it "
		"reconnects",
		q->idx, why);
	for (unsigned int i = 0; i < vif->nr_queues; i++) {
		struct netbk_queue *o = &vif->q[i];

		if (o->tap_ev)
			event_del(o->tap_ev);
		if (o->stall_ev)
			event_del(o->stall_ev);
		netbk_rx_flush_backlog(o);
	}
}
