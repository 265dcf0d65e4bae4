/*
 * tx-check.c - the pure checks of netback's data path: a TX slot chain
 * (netif.h's request, extra-info and more_data rules, bounded as Linux's
 * xen-netback bounds them) and the mapping between netif's offload flags
 * and the TAP's virtio_net_hdr. No I/O, no shared memory: the callers
 * pass private copies.
 *
 * A packet on the TX ring (netif.h):
 *
 *   slot 0        netif_tx_request: gref/offset/size(= whole packet)/flags
 *   [extras]      netif_extra_info each, while the previous one has
 *                 XEN_NETIF_EXTRA_FLAG_MORE (only if slot 0 has
 *                 NETTXF_extra_info)
 *   [fragments]   netif_tx_request each, while the previous data slot
 *                 has NETTXF_more_data
 *
 * Worked example: slot 0 size 3000 more_data, slot 1 size 1000, slot 2
 * size 500 (no more_data): three data slots; the first slot holds 3000 -
 * 1000 - 500 = 1500 bytes of its own, the frame is 3000 bytes.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "netback/netback.h"

#define ETH_HLEN_    14
#define ETH_P_IP_    0x0800
#define ETH_P_IPV6_  0x86dd
#define ETH_P_8021Q_ 0x8100

static const char *const why_names[NETBK_TXW_COUNT] = {
	[NETBK_TXW_NONE] = "none",
	[NETBK_TXW_RUNT] = "first slot shorter than an Ethernet header",
	[NETBK_TXW_TOO_MANY_SLOTS] = "too many slots",
	[NETBK_TXW_FRAG_OVERSIZE] = "fragments larger than the packet",
	[NETBK_TXW_CROSS_PAGE] = "offset + size past the page",
	[NETBK_TXW_UNTERMINATED] = "more_data chain runs past req_prod",
	[NETBK_TXW_FATAL_SLOTS] = "slot chain longer than the fatal bound",
	[NETBK_TXW_EXTRA_MISSING] = "extra info runs past req_prod",
	[NETBK_TXW_EXTRA_TYPE] = "invalid extra info type",
	[NETBK_TXW_EXTRA_COUNT] = "too many extra info slots",
	[NETBK_TXW_GSO_SIZE] = "GSO size 0",
	[NETBK_TXW_GSO_TYPE] = "unknown GSO type",
};

const char *netbk_tx_why_name(enum netbk_tx_why why)
{
	return why < NETBK_TXW_COUNT ? why_names[why] : "?";
}

static enum netbk_tx_verdict verdict(enum netbk_tx_why *why, enum netbk_tx_why w,
				     enum netbk_tx_verdict v)
{
	*why = w;
	return v;
}

/* take_extra - one extra-info slot, copied out of its request slot. */
static enum netbk_tx_verdict take_extra(struct netbk_tx_pkt *pkt,
					const struct netif_tx_request *slot,
					struct netif_extra_info *e,
					enum netbk_tx_why *why)
{
	memcpy(e, slot, sizeof(*e));
	switch (e->type) {
	case XEN_NETIF_EXTRA_TYPE_GSO:
		if (e->u.gso.size == 0)
			return verdict(why, NETBK_TXW_GSO_SIZE, NETBK_TX_FATAL);
		if (e->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
		    e->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
			return verdict(why, NETBK_TXW_GSO_TYPE, NETBK_TX_FATAL);
		pkt->gso = *e;
		break;
	case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
		pkt->mcast_add = true;
		memcpy(pkt->mcast_add_addr, e->u.mcast.addr, 6);
		break;
	case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
		pkt->mcast_del = true;
		memcpy(pkt->mcast_del_addr, e->u.mcast.addr, 6);
		break;
	case XEN_NETIF_EXTRA_TYPE_HASH:
		break; /* a hint for our RX side; not used on TX */
	default:
		return verdict(why, NETBK_TXW_EXTRA_TYPE, NETBK_TX_FATAL);
	}
	return NETBK_TX_OK;
}

enum netbk_tx_verdict netbk_tx_check(const struct netif_tx_request *slots,
				     unsigned int avail,
				     struct netbk_tx_pkt *pkt,
				     enum netbk_tx_why *why)
{
	const struct netif_tx_request *first = &slots[0];
	enum netbk_tx_verdict v;
	enum netbk_tx_why drop = NETBK_TXW_NONE;
	unsigned int i = 1, frags = 0;
	uint32_t left;
	uint16_t more;

	memset(pkt, 0, sizeof(*pkt));
	*why = NETBK_TXW_NONE;
	if (avail == 0)
		return verdict(why, NETBK_TXW_UNTERMINATED, NETBK_TX_FATAL);
	pkt->flags = first->flags;
	pkt->len = first->size;
	pkt->data[0] = *first;
	pkt->nr_data = 1;
	pkt->nr_slots = 1;
	if (first->flags & NETTXF_extra_info) {
		struct netif_extra_info e;

		do {
			if (i >= avail)
				return verdict(why, NETBK_TXW_EXTRA_MISSING,
					       NETBK_TX_FATAL);
			if (pkt->nr_extras >= NETBK_TX_MAX_EXTRAS)
				return verdict(why, NETBK_TXW_EXTRA_COUNT,
					       NETBK_TX_FATAL);
			v = take_extra(pkt, &slots[i], &e, why);
			if (v != NETBK_TX_OK)
				return v;
			pkt->nr_extras++;
			pkt->nr_slots = ++i;
		} while (e.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	}
	left = first->size;
	more = first->flags & NETTXF_more_data;
	while (more) {
		const struct netif_tx_request *t;

		if (frags >= NETBK_TX_FATAL_SLOTS)
			return verdict(why, NETBK_TXW_FATAL_SLOTS,
				       NETBK_TX_FATAL);
		if (i >= avail)
			return verdict(why, NETBK_TXW_UNTERMINATED,
				       NETBK_TX_FATAL);
		if (frags >= NETBK_TX_LEGACY_SLOTS_MAX && !drop)
			drop = NETBK_TXW_TOO_MANY_SLOTS;
		t = &slots[i];
		if (!drop && t->size > left)
			drop = NETBK_TXW_FRAG_OVERSIZE;
		left = t->size > left ? 0 : left - t->size;
		if ((uint32_t)t->offset + t->size > HV_PAGE_SIZE)
			return verdict(why, NETBK_TXW_CROSS_PAGE,
				       NETBK_TX_FATAL);
		pkt->data[pkt->nr_data++] = *t;
		more = t->flags & NETTXF_more_data;
		frags++;
		pkt->nr_slots = ++i;
	}
	pkt->data[0].size = (uint16_t)left;
	if (drop)
		return verdict(why, drop, NETBK_TX_DROP);
	if (left < ETH_HLEN_)
		return verdict(why, NETBK_TXW_RUNT, NETBK_TX_DROP);
	if ((uint32_t)first->offset + left > HV_PAGE_SIZE)
		return verdict(why, NETBK_TXW_CROSS_PAGE, NETBK_TX_FATAL);
	return NETBK_TX_OK;
}

/* ------------------------------------------------------------------ */
/* Offload headers                                                     */
/* ------------------------------------------------------------------ */

struct l34 {
	int ipv6;
	uint8_t proto;
	size_t l4off;
};

static uint16_t be16at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* parse_l34 - the L3 version, L4 protocol and offset of an Ethernet
 * frame (one VLAN tag, IPv4 options, IPv6 without extension headers).
 * 0 or -EPROTONOSUPPORT. */
static int parse_l34(const uint8_t *f, size_t len, struct l34 *out)
{
	size_t off = 12;
	uint16_t type;

	if (len < ETH_HLEN_)
		return -EPROTONOSUPPORT;
	type = be16at(f + off);
	off += 2;
	if (type == ETH_P_8021Q_) {
		if (len < off + 4)
			return -EPROTONOSUPPORT;
		type = be16at(f + off + 2);
		off += 4;
	}
	if (type == ETH_P_IP_) {
		size_t ihl;

		if (len < off + 20 || (f[off] >> 4) != 4)
			return -EPROTONOSUPPORT;
		ihl = (size_t)(f[off] & 0xf) * 4;
		/* a fragment (MF or offset) has no L4 header to offload */
		if (ihl < 20 || len < off + ihl ||
		    (be16at(f + off + 6) & 0x3fff))
			return -EPROTONOSUPPORT;
		out->ipv6 = 0;
		out->proto = f[off + 9];
		out->l4off = off + ihl;
	} else if (type == ETH_P_IPV6_) {
		if (len < off + 40 || (f[off] >> 4) != 6)
			return -EPROTONOSUPPORT;
		out->ipv6 = 1;
		out->proto = f[off + 6];
		out->l4off = off + 40;
	} else {
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int netbk_tx_vnet_hdr(const struct netbk_tx_pkt *pkt, const uint8_t *frame,
		      size_t len, struct virtio_net_hdr *h)
{
	struct l34 l;
	int gso = pkt->gso.type == XEN_NETIF_EXTRA_TYPE_GSO;

	memset(h, 0, sizeof(*h));
	if (!(pkt->flags & NETTXF_csum_blank) && !gso) {
		if (pkt->flags & NETTXF_data_validated)
			h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	if (parse_l34(frame, len, &l) < 0)
		return -EPROTONOSUPPORT;
	if (l.proto == IPPROTO_TCP) {
		if (len < l.l4off + 20)
			return -EPROTONOSUPPORT;
		h->csum_offset = 16;
	} else if (l.proto == IPPROTO_UDP && !gso) {
		if (len < l.l4off + 8)
			return -EPROTONOSUPPORT;
		h->csum_offset = 6;
	} else {
		return -EPROTONOSUPPORT;
	}
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l.l4off;
	if (gso) {
		size_t doff = (size_t)(frame[l.l4off + 12] >> 4) * 4;

		if ((pkt->gso.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6) != l.ipv6 ||
		    doff < 20 || len < l.l4off + doff)
			return -EPROTONOSUPPORT;
		h->gso_type = l.ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6
				     : VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = pkt->gso.u.gso.size;
		h->hdr_len = (uint16_t)(l.l4off + doff);
	}
	return 0;
}

int netbk_rx_flags(const struct virtio_net_hdr *h, unsigned int gso_ok,
		   uint16_t *flags, struct netif_extra_info *gso)
{
	uint8_t t = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	*flags = 0;
	memset(gso, 0, sizeof(*gso));
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		*flags |= NETRXF_csum_blank | NETRXF_data_validated;
	else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
		*flags |= NETRXF_data_validated;
	if (t == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	if (t == VIRTIO_NET_HDR_GSO_TCPV4 &&
	    (gso_ok & (1u << XEN_NETIF_GSO_TYPE_TCPV4)))
		gso->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	else if (t == VIRTIO_NET_HDR_GSO_TCPV6 &&
		 (gso_ok & (1u << XEN_NETIF_GSO_TYPE_TCPV6)))
		gso->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
	else
		return -EOPNOTSUPP;
	if (h->gso_size == 0)
		return -EOPNOTSUPP;
	gso->type = XEN_NETIF_EXTRA_TYPE_GSO;
	gso->u.gso.size = h->gso_size;
	*flags |= NETRXF_extra_info;
	return 0;
}
