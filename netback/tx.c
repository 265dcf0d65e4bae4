/*
 * tx.c - guest -> host: the TX ring of one queue to its TAP queue.
 *
 * Per turn (at most NETBK_BUDGET packets, then the loop's other work):
 *   1. req_prod is read once (acquire) and checked against the ring
 *      (RING_REQUEST_PROD_OVERFLOW): a bogus one halts the vif.
 *   2. The slots of the next packet (at most NETBK_TX_COPY_MAX, never
 *      past req_prod) are copied once (RING_COPY_REQUEST); only the
 *      copies are checked (netbk_tx_check) and used.
 *   3. A good packet's data slots are grant-copied (one batch) behind a
 *      virtio_net_hdr made from its flags and GSO extra, and written to
 *      the TAP in one write.
 *   4. Every slot is answered: data slots OKAY (or ERROR for a dropped
 *      packet), extra-info slots NULL, as Linux's netback answers.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "netback/vif.h"

/* respond - the answers to one packet's nr_slots slots, in slot order:
 * the first data slot, its extras (NULL), the other data slots. */
static void respond(struct netbk_queue *q, const struct netbk_tx_pkt *pkt,
		    int16_t status)
{
	unsigned int d = 0;

	for (unsigned int i = 0; i < pkt->nr_slots; i++) {
		struct netif_tx_response *rsp =
			RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);
		int extra = i >= 1 && i <= pkt->nr_extras;

		rsp->id = extra ? 0 : pkt->data[d++].id;
		rsp->status = extra ? NETIF_RSP_NULL : status;
		q->tx.rsp_prod_pvt++;
	}
}

static void push(struct netbk_queue *q)
{
	int notify;

	/* the macro's wmb: responses before rsp_prod; its mb: rsp_prod
	 * before the read of rsp_event */
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify) {
		q->st.notifies_out++;
		hv_evtchn_notify(q->vif->nb->h.evtchn, q->tx_port);
	}
}

/* copy_in - grant-copy the packet's data slots behind the header room of
 * q->txbuf. 0 or -EIO (a grant the guest did not give). */
static int copy_in(struct netbk_queue *q, const struct netbk_tx_pkt *pkt)
{
	struct hv_gnttab_copy_seg seg[NETBK_TX_FATAL_SLOTS + 1];
	uint8_t *dst = q->txbuf + NETBK_VNET_HDR_LEN;
	unsigned int n = 0;

	for (unsigned int i = 0; i < pkt->nr_data; i++) {
		const struct netif_tx_request *t = &pkt->data[i];

		if (t->size == 0)
			continue;
		memset(&seg[n], 0, sizeof(seg[n]));
		seg[n].source.is_gref = 1;
		seg[n].source.u.gref.domid = q->vif->domid;
		seg[n].source.u.gref.ref = t->gref;
		seg[n].source.u.gref.offset = t->offset;
		seg[n].dest.u.virt = dst;
		seg[n].len = t->size;
		dst += t->size;
		n++;
	}
	if (n && hv_gnttab_copy(q->vif->nb->h.gnttab, n, seg) < 0)
		return -EIO;
	for (unsigned int i = 0; i < n; i++)
		if (seg[i].status != GNTST_okay)
			return -EIO;
	return 0;
}

/* one_packet - a checked packet to the TAP; the status to answer. */
static int16_t one_packet(struct netbk_queue *q, const struct netbk_tx_pkt *pkt)
{
	struct virtio_net_hdr h;
	uint8_t *frame = q->txbuf + NETBK_VNET_HDR_LEN;
	ssize_t w;

	if (copy_in(q, pkt) < 0) {
		q->st.tx_grant_errors++;
		NETBK_QLOG(q, "tx id %u: grant copy failed (bad gref?)",
			   pkt->data[0].id);
		return NETIF_RSP_ERROR;
	}
	if (netbk_tx_vnet_hdr(pkt, frame, pkt->len, &h) < 0) {
		q->st.tx_bad_offload++;
		NETBK_QLOG(q,
			   "tx id %u: checksum/GSO offload asked of a frame "
			   "without TCP/UDP headers: dropped",
			   pkt->data[0].id);
		return NETIF_RSP_ERROR;
	}
	/* Multicast add/del extras (feature-dynamic-multicast-control) */
	if (pkt->mcast_add && q->vif->nr_mcast < NETBK_MCAST_MAX)
		memcpy(q->vif->mcast[q->vif->nr_mcast++], pkt->mcast_add_addr,
		       6);
	if (pkt->mcast_del) {
		struct netbk_vif *v = q->vif;

		for (unsigned int i = 0; i < v->nr_mcast; i++)
			if (!memcmp(v->mcast[i], pkt->mcast_del_addr, 6)) {
				memmove(v->mcast[i], v->mcast[i + 1],
					(v->nr_mcast - i - 1) * 6);
				v->nr_mcast--;
				break;
			}
	}
	/* hook: netback/rate.c's credit limiter (q->rate) goes here */
	memcpy(q->txbuf, &h, sizeof(h));
	w = write(q->tap_fd, q->txbuf, NETBK_VNET_HDR_LEN + pkt->len);
	if (w < 0) {
		/* the host side is full or down: dropped there, as a
		 * network drops; the guest is told it went */
		q->st.tx_tap_dropped++;
		return NETIF_RSP_OKAY;
	}
	q->st.tx_packets++;
	q->st.tx_bytes += pkt->len;
	if (pkt->gso.type == XEN_NETIF_EXTRA_TYPE_GSO)
		q->st.tx_gso++;
	return NETIF_RSP_OKAY;
}

void netbk_tx_process(struct netbk_queue *q)
{
	struct netif_tx_request slots[NETBK_TX_COPY_MAX];
	struct netbk_tx_pkt pkt;
	unsigned int done = 0;
	RING_IDX rp, rc;
	int more;

	if (!q->connected || q->vif->halted)
		return;
again:
	/* req_prod once; acquire = the ring's rmb: slots below it are read
	 * only after it */
	rp = __atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_ACQUIRE);
	if (RING_REQUEST_PROD_OVERFLOW(&q->tx, rp)) {
		netbk_vif_halt(q->vif, q, "tx req_prod beyond the ring");
		return;
	}
	rc = q->tx.req_cons;
	while (rc != rp) {
		enum netbk_tx_why why;
		unsigned int n = rp - rc;

		if (done >= NETBK_BUDGET) {
			push(q);
			event_active(q->tx_resume_ev, 0, 0);
			return;
		}
		if (n > NETBK_TX_COPY_MAX)
			n = NETBK_TX_COPY_MAX;
		for (unsigned int i = 0; i < n; i++)
			RING_COPY_REQUEST(&q->tx, rc + i, &slots[i]);
		switch (netbk_tx_check(slots, n, &pkt, &why)) {
		case NETBK_TX_FATAL:
			push(q);
			netbk_vif_halt(q->vif, q, netbk_tx_why_name(why));
			return;
		case NETBK_TX_DROP:
			q->st.tx_dropped[why]++;
			NETBK_QLOG(q, "tx id %u: %s (%u slots): dropped",
				   pkt.data[0].id, netbk_tx_why_name(why),
				   pkt.nr_slots);
			respond(q, &pkt, NETIF_RSP_ERROR);
			break;
		default:
			respond(q, &pkt, one_packet(q, &pkt));
			break;
		}
		rc += pkt.nr_slots;
		q->tx.req_cons = rc;
		done++;
	}
	/* req_event = req_cons + 1, then (its mb) req_prod again: a request
	 * pushed before the guest saw it is found here, a later one
	 * notifies */
	RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
	if (more)
		goto again;
	push(q);
}
