/*
 * vif.h - one virtual interface of netback: its TAP and its queues (a TX
 * ring, an RX ring, one or two event channels and one TAP queue each),
 * and the daemon that owns the vifs.
 *
 *   tap.c    the TAP "vif<domid>.<handle>": created at probe, one fd per
 *            queue (IFF_MULTI_QUEUE), offloads set at connect
 *   vif.c    a queue's rings and channels: map, bind, tear down; halting
 *            a vif whose frontend broke the protocol
 *   tx.c     guest -> host
 *   rx.c     host -> guest, with a bounded backlog per queue
 *   xenbus.c negotiation (lib/xenbus-be.h)
 *   main.c   the daemon
 *
 * Everything runs on the daemon's one event loop.
 */
#ifndef SPLITDRV_NETBACK_VIF_H
#define SPLITDRV_NETBACK_VIF_H

#include <net/if.h>

#include "log.h"
#include "netback/netback.h"
#include "xenbus-be-host.h"

#define NETBK_MAX_QUEUES       16
/* packets one queue handles per turn of the loop, each way */
#define NETBK_BUDGET           64
/* RX backlog per queue while the guest posts no buffers: beyond it the
 * TAP is not read (the kernel's queue holds or drops), and after
 * NETBK_RX_STALL_MS without buffers the queue drops what arrives */
#define NETBK_RX_BACKLOG_PKTS  256
#define NETBK_RX_BACKLOG_BYTES (1u << 20)
#define NETBK_RX_STALL_MS      2000
/* multicast addresses a frontend may subscribe (Linux: 64) */
#define NETBK_MCAST_MAX        64
/* a frame as the TAP gives it: virtio_net_hdr + up to 64 KiB */
#define NETBK_VNET_HDR_LEN     ((unsigned int)sizeof(struct virtio_net_hdr))
#define NETBK_FRAME_MAX        65536u

struct netbk;
struct netbk_vif;
/* netback/rate.c (helper netmods): a queue's credit limiter. Hook:
 * tx.c asks it before each packet once it exists; NULL until then. */
struct net_rate;

/* Counters of one queue (summed per vif on the control socket). */
struct netbk_queue_stats {
	uint64_t tx_packets, tx_bytes, tx_gso;
	uint64_t tx_dropped[NETBK_TXW_COUNT]; /* by netbk_tx_check's why */
	uint64_t tx_bad_offload;  /* headers do not allow the csum/GSO asked */
	uint64_t tx_grant_errors; /* a grant copy failed */
	uint64_t tx_tap_dropped;  /* the TAP refused the frame */
	uint64_t rx_packets, rx_bytes, rx_gso;
	uint64_t rx_no_buffers;    /* a packet waited: no RX buffer posted */
	uint64_t rx_backlog_drops; /* dropped: backlog full and stalled */
	uint64_t rx_too_big;       /* larger than the frontend takes */
	uint64_t rx_bad_offload;   /* GSO the frontend did not ask for */
	uint64_t rx_grant_errors;
	uint64_t rx_mcast_filtered;
	uint64_t rx_down; /* read while not connected */
	uint64_t notifies_in, notifies_out;
	uint64_t halts;
};

/* A frame waiting for RX buffers. */
struct netbk_rxpkt {
	struct netbk_rxpkt *next;
	struct virtio_net_hdr h;
	uint32_t len;
	uint8_t data[];
};

struct netbk_queue {
	struct netbk_vif *vif;
	unsigned int idx;
	int tap_fd; /* this queue's TAP fd (queue 0's is the vif's) */
	struct event *tap_ev;
	struct event *tx_resume_ev, *rx_resume_ev, *stall_ev;
	netif_tx_back_ring_t tx;
	netif_rx_back_ring_t rx;
	void *tx_map, *rx_map;
	evtchn_port_t tx_port, rx_port; /* the same when not split */
	unsigned int tx_bound : 1, rx_bound : 1, connected : 1;
	unsigned int tap_paused : 1, stalled : 1;
	struct net_rate *rate; /* netback/rate.c hook: NULL, unused */
	struct netbk_rxpkt *bl_head, *bl_tail;
	unsigned int bl_count;
	size_t bl_bytes;
	uint8_t *txbuf, *rxbuf; /* NETBK_VNET_HDR_LEN + NETBK_FRAME_MAX */
	struct netbk_queue_stats st;
	struct log_ratelimit rl;
};

struct netbk_vif {
	struct netbk *nb;
	struct xbe_device *xd;
	domid_t domid;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	unsigned int has_mac : 1;
	char *bridge; /* the backend's bridge key (not joined yet) */
	int tap_fd0;  /* queue 0's TAP fd: the TAP lives while it is open */
	unsigned int nr_queues;
	struct netbk_queue *q; /* nr_queues, while connected */
	/* negotiated */
	unsigned int sg : 1, csum : 1, ipv6_csum : 1, mcast_ctrl : 1;
	unsigned int halted : 1;
	unsigned int gso_ok; /* 1 << XEN_NETIF_GSO_TYPE_* the guest takes */
	unsigned int nr_mcast;
	uint8_t mcast[NETBK_MCAST_MAX][6];
	struct netbk_queue_stats old; /* of queues torn down */
};

struct netbk_config {
	domid_t backend_domid;
	const char *type; /* "vif" */
	unsigned int max_queues;
};

struct netbk {
	struct netbk_config cfg;
	struct xbe_host h; /* hv, gnttab, evtchn, mux, xs, xbe, deaths */
};

#define NETBK_QLOG(q, fmt, ...)                                                \
	LOG_RATELIMITED(&(q)->rl, LOG_WARNING, (q)->vif->domid,                \
			(q)->vif->xd->name, "q%u: " fmt, (q)->idx,             \
			##__VA_ARGS__)

/* tap.c */
/* netbk_tap_open - create (queue 0) or attach (more queues) the TAP
 * ifname: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE, non-
 * blocking. The fd or -errno. */
int netbk_tap_open(const char *ifname);
/* netbk_tap_up - host MAC fe:ff:ff:ff:ff:ff (as Linux's netback), link
 * up. 0 or -errno. */
int netbk_tap_up(const char *ifname);
/* netbk_tap_offload - what the TAP may hand us: TUN_F_CSUM when the
 * frontend takes blank checksums, TSO4/TSO6 as it takes GSO. */
int netbk_tap_offload(int fd, const struct netbk_vif *vif);

/* vif.c */
struct netbk_queue_keys {
	grant_ref_t tx_ref, rx_ref;
	evtchn_port_t tx_port, rx_port; /* equal: one channel for both */
};
/* netbk_vif_connect - nr queues from keys[]: TAP queue fds, rings
 * mapped, channels bound, serving. 0 or -errno (nothing left). */
int netbk_vif_connect(struct netbk_vif *vif, unsigned int nr,
		      const struct netbk_queue_keys *keys);
/* netbk_vif_disconnect - stop and release every queue (no-op if none). */
void netbk_vif_disconnect(struct netbk_vif *vif);
/* netbk_vif_halt - the frontend broke the protocol: stop this vif (its
 * rings are no longer read) until it reconnects; other vifs go on. */
void netbk_vif_halt(struct netbk_vif *vif, struct netbk_queue *q,
		    const char *why);
/* netbk_vif_stats - the vif's counters, queues and past queues summed */
void netbk_vif_stats(const struct netbk_vif *vif, struct netbk_queue_stats *s);
json_t *netbk_stats_json(const struct netbk_queue_stats *s);

/* tx.c */
void netbk_tx_process(struct netbk_queue *q);
/* rx.c */
void netbk_rx_on_tap(evutil_socket_t fd, short what, void *arg);
/* netbk_rx_kick - the guest posted buffers: deliver the backlog, read
 * the TAP again. */
void netbk_rx_kick(struct netbk_queue *q);
void netbk_rx_on_stall(evutil_socket_t fd, short what, void *arg);
/* netbk_rx_flush_backlog - free the backlog (disconnect). */
void netbk_rx_flush_backlog(struct netbk_queue *q);

extern const struct xbe_driver_ops netbk_vif_ops;
json_t *netbk_vif_json(struct xbe_device *d);

#endif /* SPLITDRV_NETBACK_VIF_H */
