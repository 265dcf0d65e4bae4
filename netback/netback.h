/*
 * netback.h - the network backend's shared types: the pure checks of the
 * TX slot chain and of the offload headers (tx-check.c), the vif with its
 * queues (tap.c, tx.c, rx.c) and the daemon (main.c, xenbus.c).
 *
 * The wire formats are <xen/io/netif.h>'s, included as Debian ships them.
 *
 *   guest TX ring --tx.c--> grant copy --> virtio_net_hdr + frame --> TAP
 *   TAP --> virtio_net_hdr + frame --rx.c--> grant copy --> guest RX ring
 *
 * One TAP queue (fd) per ring pair; the TAP "vif<domid>.<handle>" exists
 * from probe (before InitWait) to remove.
 */
#ifndef SPLITDRV_NETBACK_NETBACK_H
#define SPLITDRV_NETBACK_NETBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>
#include <linux/virtio_net.h>

#include "xen-ring.h" /* before netif.h: the ring macros' barriers */
#include <xen/io/netif.h>

#include "evtchn/mux.h"
#include "hv.h"
#include "xenbus-be.h"

/* ------------------------------------------------------------------ */
/* TX slot chains (tx-check.c, pure)                                   */
/* ------------------------------------------------------------------ */

/*
 * How many slots a packet may take, as Linux's xen-netback bounds them:
 * up to XEN_NETIF_NR_SLOTS_MIN (netif.h's 18: XEN_NETBK_LEGACY_SLOTS_MAX)
 * fragment slots after the first are served; more are dropped (every
 * slot answered NETIF_RSP_ERROR); a chain that reaches
 * NETBK_TX_FATAL_SLOTS (Linux's fatal_skb_slots default, 20) is a
 * malicious frontend and halts the vif.
 */
#define NETBK_TX_LEGACY_SLOTS_MAX XEN_NETIF_NR_SLOTS_MIN
#define NETBK_TX_FATAL_SLOTS      20
/* extra-info slots after the first: one of each type at most */
#define NETBK_TX_MAX_EXTRAS       (XEN_NETIF_EXTRA_TYPE_MAX - 1)
/* the most slots one packet's check looks at */
#define NETBK_TX_COPY_MAX         (1 + NETBK_TX_MAX_EXTRAS + NETBK_TX_FATAL_SLOTS)

enum netbk_tx_verdict {
	NETBK_TX_OK = 0,
	NETBK_TX_DROP = 1,  /* answer NETIF_RSP_ERROR, count, go on */
	NETBK_TX_FATAL = 2, /* the frontend is broken or hostile: halt */
};

/* Why a packet was dropped or the vif halted (counters, logs). */
enum netbk_tx_why {
	NETBK_TXW_NONE = 0,
	NETBK_TXW_RUNT,           /* drop: first slot shorter than ETH_HLEN */
	NETBK_TXW_TOO_MANY_SLOTS, /* drop: > LEGACY_SLOTS_MAX fragments */
	NETBK_TXW_FRAG_OVERSIZE,  /* drop: fragments add up past size */
	NETBK_TXW_CROSS_PAGE,     /* fatal: offset + size past the page */
	NETBK_TXW_UNTERMINATED,   /* fatal: more_data past req_prod */
	NETBK_TXW_FATAL_SLOTS,    /* fatal: >= FATAL_SLOTS fragments */
	NETBK_TXW_EXTRA_MISSING,  /* fatal: extra_info past req_prod */
	NETBK_TXW_EXTRA_TYPE,     /* fatal: extra type 0 or unknown */
	NETBK_TXW_EXTRA_COUNT,    /* fatal: more extras than types */
	NETBK_TXW_GSO_SIZE,       /* fatal: GSO size 0 */
	NETBK_TXW_GSO_TYPE,       /* fatal: GSO type not TCPv4/TCPv6 */
	NETBK_TXW_COUNT
};

/* One packet's slots, checked: only these copies are used afterwards. */
struct netbk_tx_pkt {
	unsigned int nr_slots;  /* ring slots the packet takes, all kinds */
	unsigned int nr_extras; /* extra-info slots (after the first) */
	unsigned int nr_data;   /* data slots: the first + fragments */
	/* data slots in order; data[0].size is the first slot's own bytes
	 * (netif.h: the first slot's size is the whole packet's) */
	struct netif_tx_request data[NETBK_TX_FATAL_SLOTS + 1];
	uint32_t len;   /* the frame's length (the first slot's size) */
	uint16_t flags; /* the first slot's NETTXF_* */
	struct netif_extra_info gso; /* type NONE when there is none */
	bool mcast_add, mcast_del;
	uint8_t mcast_add_addr[6], mcast_del_addr[6];
};

/*
 * netbk_tx_check - check the packet that starts at slots[0]: slots[] are
 * private copies of the next avail unconsumed ring slots (avail at most
 * NETBK_TX_COPY_MAX; fewer only when req_prod ends there). Fills *pkt
 * (always nr_slots and the ids, for the responses) and *why. Returns a
 * netbk_tx_verdict. Pure: the table-driven tests are
 * tests/unit/check_net_tx.c.
 */
enum netbk_tx_verdict netbk_tx_check(const struct netif_tx_request *slots,
				     unsigned int avail,
				     struct netbk_tx_pkt *pkt,
				     enum netbk_tx_why *why);
const char *netbk_tx_why_name(enum netbk_tx_why why);

/*
 * netbk_tx_vnet_hdr - the virtio_net_hdr the TAP needs for a checked
 * packet whose frame is frame[0..len): NETTXF_csum_blank -> NEEDS_CSUM
 * with csum_start/csum_offset found in the frame's Ethernet (one VLAN
 * tag), IPv4/IPv6 and TCP/UDP headers; NETTXF_data_validated ->
 * DATA_VALID; a GSO extra -> TCPV4/TCPV6 with gso_size and hdr_len.
 * 0, or -EPROTONOSUPPORT when the frame's headers do not allow it (a
 * blank checksum of no TCP/UDP packet, GSO of no TCP packet or of the
 * other IP version): drop it.
 */
int netbk_tx_vnet_hdr(const struct netbk_tx_pkt *pkt, const uint8_t *frame,
		      size_t len, struct virtio_net_hdr *h);

/*
 * netbk_rx_flags - what the guest is told of a frame read from the TAP
 * with header h: NETRXF_* in *flags and a GSO extra in *gso (type NONE
 * when none). gso_ok: bit XEN_NETIF_GSO_TYPE_TCPV4/TCPV6 set for each
 * type the frontend accepts. 0, or -EOPNOTSUPP for a GSO packet the
 * frontend cannot take (drop it).
 */
int netbk_rx_flags(const struct virtio_net_hdr *h, unsigned int gso_ok,
		   uint16_t *flags, struct netif_extra_info *gso);

#endif /* SPLITDRV_NETBACK_NETBACK_H */
