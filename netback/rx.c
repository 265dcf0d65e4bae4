/*
 * rx.c - host -> guest: frames read from a queue's TAP fd (each behind
 * its virtio_net_hdr) are grant-copied into the buffers the guest posted
 * on the RX ring.
 *
 * A frame of len bytes takes ceil(len / page) buffers, plus one for the
 * GSO extra when it is a GSO frame; without feature-sg it must fit one
 * page. Responses, in slot order:
 *
 *   data 0      flags: csum_blank/data_validated, extra_info (GSO),
 *               more_data when more data slots follow; status = bytes
 *   [extra]     the GSO netif_extra_info (type, size)
 *   data 1..n   more_data on all but the last
 *
 * Backlog (XSA-392 class): a frame that finds too few buffers waits on
 * the queue's list, up to NETBK_RX_BACKLOG_PKTS / _BYTES; when the list
 * is full the TAP is no longer read (the kernel holds or drops, bounded
 * by its own queue) and a timer starts: NETBK_RX_STALL_MS later, with
 * still no buffers, the queue is "stalled": the list is dropped and
 * every frame read is dropped and counted, until the guest posts a
 * buffer. Memory per queue stays bounded, and one guest that never
 * posts buffers stalls only itself.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/vif.h"

static void push(struct netbk_queue *q)
{
	int notify;

	/* wmb: responses before rsp_prod; mb: rsp_prod before rsp_event */
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
	if (notify) {
		q->st.notifies_out++;
		hv_evtchn_notify(q->vif->nb->h.evtchn, q->rx_port);
	}
}

/* mcast_allowed - with multicast control on, only subscribed groups and
 * broadcast reach the guest */
static int mcast_allowed(const struct netbk_vif *vif, const uint8_t *dst)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (!vif->mcast_ctrl || !(dst[0] & 1) || !memcmp(dst, bcast, 6))
		return 1;
	for (unsigned int i = 0; i < vif->nr_mcast; i++)
		if (!memcmp(vif->mcast[i], dst, 6))
			return 1;
	return 0;
}

/*
 * slots_ready - at least need unconsumed RX requests? 1 yes, 0 no (and
 * req_event is set so that the guest's next buffer notifies us), -1 when
 * req_prod is bogus (the vif is halted).
 */
static int slots_ready(struct netbk_queue *q, unsigned int need)
{
	RING_IDX rp;

	for (int pass = 0; pass < 2; pass++) {
		rp = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE);
		if (RING_REQUEST_PROD_OVERFLOW(&q->rx, rp)) {
			netbk_vif_halt(q->vif, q, "rx req_prod beyond the ring");
			return -1;
		}
		if (rp - q->rx.req_cons >= need)
			return 1;
		if (pass == 0) {
			/* tell the guest to notify at its next buffer, then
			 * look again (mb: req_event before req_prod) */
			q->rx.sring->req_event = rp + 1;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
		}
	}
	return 0;
}

/*
 * deliver - one frame into the guest's buffers. 0 delivered (or dropped
 * for a reason counted here), -EAGAIN: too few buffers (nothing
 * consumed), -EPIPE: the vif was halted.
 */
static int deliver(struct netbk_queue *q, const struct virtio_net_hdr *h,
		   const uint8_t *data, uint32_t len)
{
	struct netbk_vif *vif = q->vif;
	struct hv_gnttab_copy_seg seg[NETBK_FRAME_MAX / HV_PAGE_SIZE + 1];
	struct netif_rx_request req[NETBK_FRAME_MAX / HV_PAGE_SIZE + 2];
	struct netif_extra_info gso;
	unsigned int nseg = (len + HV_PAGE_SIZE - 1) / HV_PAGE_SIZE;
	unsigned int need, s = 0, failed = 0;
	uint16_t flags;
	int r;

	if (len >= 6 && !mcast_allowed(vif, data)) {
		q->st.rx_mcast_filtered++;
		return 0;
	}
	if (netbk_rx_flags(h, vif->gso_ok, &flags, &gso) < 0) {
		q->st.rx_bad_offload++;
		return 0;
	}
	if (nseg == 0 || (nseg > 1 && !vif->sg) ||
	    nseg > NETBK_FRAME_MAX / HV_PAGE_SIZE) {
		q->st.rx_too_big++;
		return 0;
	}
	need = nseg + (gso.type == XEN_NETIF_EXTRA_TYPE_GSO);
	r = slots_ready(q, need);
	if (r <= 0)
		return r < 0 ? -EPIPE : -EAGAIN;
	/* each buffer's request copied once; only the copy is used */
	for (unsigned int i = 0; i < need; i++)
		RING_COPY_REQUEST(&q->rx, q->rx.req_cons + i, &req[i]);
	q->rx.req_cons += need;
	for (unsigned int i = 0; i < nseg; i++) {
		uint32_t off = i * HV_PAGE_SIZE;
		uint32_t n = len - off < HV_PAGE_SIZE ? len - off : HV_PAGE_SIZE;
		/* the GSO extra takes the second slot */
		const struct netif_rx_request *rq =
			&req[i == 0 || gso.type == 0 ? i : i + 1];

		memset(&seg[i], 0, sizeof(seg[i]));
		seg[i].source.u.virt = (void *)(uintptr_t)(data + off);
		seg[i].dest.is_gref = 1;
		seg[i].dest.u.gref.domid = vif->domid;
		seg[i].dest.u.gref.ref = rq->gref;
		seg[i].len = (uint16_t)n;
	}
	if (hv_gnttab_copy(vif->nb->h.gnttab, nseg, seg) < 0)
		failed = 1;
	for (unsigned int i = 0; i < nseg && !failed; i++)
		failed = seg[i].status != GNTST_okay;
	if (failed) {
		q->st.rx_grant_errors++;
		NETBK_QLOG(q, "rx: grant copy into the guest's buffer failed "
			      "(bad gref?)");
	}
	for (unsigned int i = 0; i < nseg; i++) {
		struct netif_rx_response *rsp =
			RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt);
		uint16_t f = i + 1 < nseg ? NETRXF_more_data : 0;

		if (i == 0)
			f |= flags;
		rsp->id = req[s].id;
		rsp->offset = 0;
		rsp->flags = f;
		rsp->status = failed ? NETIF_RSP_ERROR : (int16_t)seg[i].len;
		q->rx.rsp_prod_pvt++;
		s++;
		if (i == 0 && gso.type == XEN_NETIF_EXTRA_TYPE_GSO) {
			struct netif_extra_info *e =
				(void *)RING_GET_RESPONSE(&q->rx,
							  q->rx.rsp_prod_pvt);

			*e = gso;
			q->rx.rsp_prod_pvt++;
			s++;
		}
	}
	if (!failed) {
		q->st.rx_packets++;
		q->st.rx_bytes += len;
		q->st.rx_gso += gso.type == XEN_NETIF_EXTRA_TYPE_GSO;
	}
	return 0;
}

static void backlog_add(struct netbk_queue *q, const struct virtio_net_hdr *h,
			const uint8_t *data, uint32_t len)
{
	struct netbk_rxpkt *p = malloc(sizeof(*p) + len);

	if (!p) {
		q->st.rx_backlog_drops++;
		return;
	}
	p->next = NULL;
	p->h = *h;
	p->len = len;
	memcpy(p->data, data, len);
	if (q->bl_tail)
		q->bl_tail->next = p;
	else
		q->bl_head = p;
	q->bl_tail = p;
	q->bl_count++;
	q->bl_bytes += len;
}

static int backlog_full(const struct netbk_queue *q)
{
	return q->bl_count >= NETBK_RX_BACKLOG_PKTS ||
	       q->bl_bytes >= NETBK_RX_BACKLOG_BYTES;
}

void netbk_rx_flush_backlog(struct netbk_queue *q)
{
	while (q->bl_head) {
		struct netbk_rxpkt *p = q->bl_head;

		q->bl_head = p->next;
		free(p);
	}
	q->bl_tail = NULL;
	q->bl_count = 0;
	q->bl_bytes = 0;
}

/* pause_tap - the backlog is full: stop reading, start the stall clock */
static void pause_tap(struct netbk_queue *q)
{
	struct timeval tv = { NETBK_RX_STALL_MS / 1000,
			      (NETBK_RX_STALL_MS % 1000) * 1000 };

	if (q->tap_paused)
		return;
	q->tap_paused = 1;
	event_del(q->tap_ev);
	event_add(q->stall_ev, &tv);
}

static void resume_tap(struct netbk_queue *q)
{
	if (!q->tap_paused || q->vif->halted)
		return;
	q->tap_paused = 0;
	event_del(q->stall_ev);
	event_add(q->tap_ev, NULL);
	/* frames may have queued in the kernel meanwhile */
	event_active(q->tap_ev, EV_READ, 0);
}

void netbk_rx_on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct netbk_queue *q = arg;

	(void)fd;
	(void)what;
	if (!q->tap_paused)
		return;
	NETBK_QLOG(q,
		   "rx: no buffers from the guest for %u ms: dropping "
		   "its traffic until it posts some",
		   NETBK_RX_STALL_MS);
	q->stalled = 1;
	q->st.rx_backlog_drops += q->bl_count;
	netbk_rx_flush_backlog(q);
	q->tap_paused = 0;
	event_add(q->tap_ev, NULL);
}

void netbk_rx_kick(struct netbk_queue *q)
{
	unsigned int n = 0;

	if (!q->connected || q->vif->halted)
		return;
	while (q->bl_head) {
		struct netbk_rxpkt *p = q->bl_head;
		int r;

		if (n++ >= NETBK_BUDGET) {
			event_active(q->rx_resume_ev, 0, 0);
			break;
		}
		r = deliver(q, &p->h, p->data, p->len);
		if (r == -EPIPE)
			return;
		if (r == -EAGAIN)
			break;
		q->bl_head = p->next;
		if (!q->bl_head)
			q->bl_tail = NULL;
		q->bl_count--;
		q->bl_bytes -= p->len;
		free(p);
	}
	push(q);
	if (q->stalled && slots_ready(q, 1) > 0)
		q->stalled = 0; /* buffers again: deliver from now on */
	if (!backlog_full(q))
		resume_tap(q);
}

void netbk_rx_on_tap(evutil_socket_t fd, short what, void *arg)
{
	struct netbk_queue *q = arg;
	unsigned int n;

	(void)what;
	for (n = 0; n < NETBK_BUDGET; n++) {
		struct virtio_net_hdr h;
		ssize_t r = read(fd, q->rxbuf,
				 NETBK_VNET_HDR_LEN + NETBK_FRAME_MAX);
		uint32_t len;
		int d;

		if (r < 0)
			break;
		if ((size_t)r < NETBK_VNET_HDR_LEN + 14)
			continue;
		memcpy(&h, q->rxbuf, sizeof(h));
		len = (uint32_t)r - NETBK_VNET_HDR_LEN;
		if (!q->connected || q->vif->halted) {
			q->st.rx_down++;
			continue;
		}
		if (q->stalled && slots_ready(q, 1) == 0) {
			q->st.rx_backlog_drops++;
			continue;
		}
		q->stalled = 0;
		d = q->bl_head
			    ? -EAGAIN
			    : deliver(q, &h, q->rxbuf + NETBK_VNET_HDR_LEN, len);
		if (d == -EPIPE)
			return;
		if (d == -EAGAIN) {
			q->st.rx_no_buffers++;
			backlog_add(q, &h, q->rxbuf + NETBK_VNET_HDR_LEN, len);
			if (backlog_full(q)) {
				pause_tap(q);
				break;
			}
		}
	}
	push(q);
	/* more to read: yield to the other queues, come back */
	if (n >= NETBK_BUDGET && !q->tap_paused)
		event_active(q->tap_ev, EV_READ, 0);
}
