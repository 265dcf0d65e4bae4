/*
 * netfront.h - the guest side of Xen's network protocol for a loopback
 * guest, as Linux's xen-netfront speaks it, with the guest's interface
 * exposed as a TAP (in whatever network namespace the guest process
 * runs: the tests put it in one of its own).
 *
 * Negotiation (netfront_connect):
 *
 *   device/vif/<handle>/backend       wait until the toolstack wrote it
 *   <backend>/state = InitWait        read multi-queue-max-queues,
 *                                     feature-split-event-channels,
 *                                     feature-sg, feature-gso-tcpv4/6,
 *                                     feature-ipv6-csum-offload
 *   per queue: a TX and an RX ring page, one event channel (or one per
 *   ring when split); one transaction writes (under queue-N/ when
 *   several) tx-ring-ref, rx-ring-ref, event-channel[-tx/-rx], and
 *   multi-queue-num-queues, request-rx-copy, feature-rx-notify,
 *   feature-sg, feature-gso-tcpv4/6, feature-ipv6-csum-offload;
 *   state = Initialised
 *   <backend>/state = Connected       our state = Connected
 *
 * Data: frames read from the TAP (virtio_net_hdr first) go on a TX ring
 * (queue by flow hash) in slots of a page, persistently granted pages;
 * checksum and GSO offload as netif flags and a GSO extra. Every RX ring
 * is kept full of granted pages; responses (read once: rsp_prod checked,
 * each response copied) are put together (more_data chains, GSO extra)
 * and written to the TAP with their virtio_net_hdr.
 *
 * One thread; the caller runs the libevent loop it gave.
 */
#ifndef SPLITDRV_TOOLS_NETFRONT_H
#define SPLITDRV_TOOLS_NETFRONT_H

#include <signal.h>
#include <stdint.h>

#include <event2/event.h>

#include "hv.h"
#include "xs-guest.h"

#define NETFRONT_MAX_QUEUES 8

struct netfront_opts {
	const char *ifname;      /* the guest's TAP; NULL = "eth0" */
	unsigned int max_queues; /* 0 = 1 */
	unsigned int no_sg : 1, no_gso : 1, no_csum : 1, no_split : 1;
	int timeout_ms;    /* each negotiation step; 0 = 30000 */
	int xs_timeout_ms; /* restored on the xsg handle; 0 = 10000 */
	volatile sig_atomic_t *stop;
};

struct netfront_info {
	char backend[128];
	domid_t backend_id;
	uint32_t handle;
	char ifname[16];
	uint8_t mac[6];
	unsigned int nr_queues;
	unsigned int split : 1, sg : 1, gso : 1, csum : 1;
};

struct netfront_stats {
	uint64_t tx_packets, tx_bytes, tx_errors, tx_ring_full;
	uint64_t rx_packets, rx_bytes, rx_errors, rx_gso;
};

struct netfront;

/*
 * netfront_connect - create the TAP, wait for vif handle, negotiate,
 * connect, and serve on base (events added there). NULL with errno:
 * ETIMEDOUT, EINTR (*stop), ENODEV (the backend failed: logged), or a
 * hypervisor/TAP error.
 */
struct netfront *netfront_connect(struct hv *guest, struct xsg *xs,
				  struct event_base *base, uint32_t handle,
				  const struct netfront_opts *opts);
const struct netfront_info *netfront_info(const struct netfront *nf);
void netfront_get_stats(const struct netfront *nf, struct netfront_stats *st);
/* netfront_on_watch - a watch event of the guest's xsg: 1 when the
 * backend is closing the device (then netfront is Closed: free it). */
int netfront_on_watch(struct netfront *nf, const char *path, const char *token);
/* netfront_free - close (Closing, wait for the backend, Closed), revoke
 * the grants, close the TAP. NULL-safe. */
void netfront_free(struct netfront *nf);

#endif /* SPLITDRV_TOOLS_NETFRONT_H */
