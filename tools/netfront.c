/*
 * netfront.c - a loopback guest's network frontend (see netfront.h).
 *
 * Ring indexes and buffers: request i of a ring uses page i % ring size
 * of that ring's pool, as Linux's netfront does (its rx id is the ring
 * index): the backend answers in order, one response per request, so
 * response i names the page of request i whatever its id says. The
 * backend's indexes are read once and checked against what we posted; a
 * bogus rsp_prod marks the device broken (no more traffic).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>

#include "log.h"
#include "netback/netback.h" /* the netif <-> virtio_net_hdr mapping */
#include "tools/netfront.h"

#define NF_RING      __CONST_RING_SIZE(netif_tx, HV_PAGE_SIZE)
#define NF_HDR       ((unsigned int)sizeof(struct virtio_net_hdr))
#define NF_FRAME_MAX 65536u
#define NF_TOKEN     "netfront:"

struct nf_queue {
	struct netfront *nf;
	unsigned int idx;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	void *tx_sring, *rx_sring;
	grant_ref_t tx_ref, rx_ref;
	int tx_port, rx_port; /* equal when not split */
	uint8_t *tx_pages, *rx_pages;
	grant_ref_t tx_refs[NF_RING], rx_refs[NF_RING];
	uint16_t tx_free[NF_RING];
	unsigned int ntx_free;
	uint8_t tx_busy[NF_RING];
	/* the RX packet being put together */
	uint8_t *rxbuf; /* NF_HDR + NF_FRAME_MAX */
	uint32_t rx_len;
	uint16_t rx_flags;
	int rx_in_pkt, rx_want_extra, rx_bad;
	struct netif_extra_info rx_gso;
};

struct netfront {
	struct hv *hv;
	struct xsg *xs;
	struct event_base *base;
	struct hv_gntshr *gs;
	struct hv_evtchn *ev;
	struct netfront_opts o;
	struct netfront_info info;
	struct netfront_stats st;
	char fe[96], token[32];
	int tap_fd, watching, connected, broken, closed;
	struct event *tap_ev, *ev_ev;
	uint8_t *pending; /* a frame waiting for TX room (NF_HDR + frame) */
	uint32_t pending_len;
	unsigned int nq;
	struct nf_queue q[NETFRONT_MAX_QUEUES];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* xenstore                                                            */
/* ------------------------------------------------------------------ */

/* xs_ulong - dir/key as a number: 0, -ENOENT, -EINVAL */
static int xs_ulong(struct netfront *nf, const char *dir, const char *key,
		    unsigned long *v)
{
	unsigned long long ull;
	int r = xsg_read_ulong(nf->xs, 0, dir, key, &ull);

	if (r == 0 && ull > ULONG_MAX)
		r = -EINVAL;
	*v = (unsigned long)ull;
	return r;
}

/* be_flag - a backend feature: 1 only when it says 1 */
static int be_flag(struct netfront *nf, const char *key)
{
	unsigned long v;

	return xs_ulong(nf, nf->info.backend, key, &v) == 0 && v == 1;
}

#define fe_printf(nf, tx, key, ...)                                            \
	xsg_printf((nf)->xs, tx, (nf)->fe, key, __VA_ARGS__)

static int stopping(const struct netfront *nf)
{
	return nf->o.stop && *nf->o.stop;
}

/*
 * wait_for - until cond(nf) says 1 (0 returned) or a negative errno
 * (returned), *stop (-EINTR) or timeout_ms (-ETIMEDOUT; 0: none),
 * looking again at each watch event and every 200 ms.
 */
static int wait_for(struct netfront *nf, int (*cond)(struct netfront *),
		    int timeout_ms)
{
	uint64_t end = timeout_ms > 0 ? now_ms() + (uint64_t)timeout_ms : 0;
	int r;

	for (;;) {
		char *p, *t;

		xsg_set_timeout(nf->xs, nf->o.xs_timeout_ms);
		r = cond(nf);
		if (r != 0)
			break;
		if (stopping(nf)) {
			r = -EINTR;
			break;
		}
		if (end && now_ms() > end) {
			r = -ETIMEDOUT;
			break;
		}
		xsg_set_timeout(nf->xs, 200);
		if (xsg_wait_watch(nf->xs, &p, &t) == 0) {
			free(p);
			free(t);
		}
	}
	xsg_set_timeout(nf->xs, nf->o.xs_timeout_ms);
	return r < 0 ? r : 0;
}

static void log_be_error(struct netfront *nf)
{
	char path[192], *s;

	snprintf(path, sizeof(path), "%s/error", nf->info.backend);
	if (xsg_read(nf->xs, 0, path, &s) == 0) {
		log_warnx_dev(nf->info.backend_id, nf->fe,
			      "backend reports: %.200s", s);
		free(s);
	}
}

/* be_state_is - 1 at the state wanted, -ENODEV closing/closed/gone */
static int be_state_is(struct netfront *nf, unsigned long want)
{
	unsigned long s;
	int r = xs_ulong(nf, nf->info.backend, "state", &s);

	if (r == -ENOENT ||
	    (r == 0 && (s == XenbusStateClosing || s == XenbusStateClosed))) {
		log_be_error(nf);
		return -ENODEV;
	}
	return r == 0 && s == want;
}

static int be_initwait(struct netfront *nf)
{
	return be_state_is(nf, XenbusStateInitWait);
}

static int be_connected(struct netfront *nf)
{
	return be_state_is(nf, XenbusStateConnected);
}

/* have_device - the toolstack wrote our backend path and id */
static int have_device(struct netfront *nf)
{
	char path[160], *be;
	unsigned long id;

	snprintf(path, sizeof(path), "%s/backend", nf->fe);
	if (xsg_read(nf->xs, 0, path, &be) < 0)
		return 0;
	if (strncmp(be, "/local/domain/", 14) ||
	    strlen(be) >= sizeof(nf->info.backend)) {
		free(be);
		return -EINVAL;
	}
	snprintf(nf->info.backend, sizeof(nf->info.backend), "%s", be);
	free(be);
	if (xs_ulong(nf, nf->fe, "backend-id", &id) < 0 ||
	    id >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	nf->info.backend_id = (domid_t)id;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The guest's TAP                                                     */
/* ------------------------------------------------------------------ */

static int tap_create(struct netfront *nf)
{
	struct ifreq ifr;
	int hdr = (int)NF_HDR, s, r = 0;

	nf->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (nf->tap_fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nf->info.ifname);
	if (ioctl(nf->tap_fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(nf->tap_fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return -errno;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, nf->info.mac, 6);
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0 ||
	    ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (r == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(s);
	return r;
}

/* tap_offload - what our TX side may be handed by the guest's kernel */
static int tap_offload(struct netfront *nf)
{
	unsigned int off = 0;

	if (nf->info.csum) {
		off |= TUN_F_CSUM;
		if (nf->info.gso)
			off |= TUN_F_TSO4 | TUN_F_TSO6;
	}
	return ioctl(nf->tap_fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

/* read_mac - the frontend's mac key (the toolstack's), else 00:16:3e:.. */
static void read_mac(struct netfront *nf)
{
	char path[160], *s;
	unsigned int b[6];

	nf->info.mac[0] = 0x00;
	nf->info.mac[1] = 0x16;
	nf->info.mac[2] = 0x3e;
	nf->info.mac[3] = (uint8_t)(hv_domid(nf->hv) >> 8);
	nf->info.mac[4] = (uint8_t)hv_domid(nf->hv);
	nf->info.mac[5] = (uint8_t)nf->info.handle;
	snprintf(path, sizeof(path), "%s/mac", nf->fe);
	if (xsg_read(nf->xs, 0, path, &s) < 0)
		return;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) == 6)
		for (int i = 0; i < 6; i++)
			nf->info.mac[i] = (uint8_t)b[i];
	free(s);
}

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

static void notify(struct netfront *nf, int port)
{
	if (port > 0)
		hv_evtchn_notify(nf->ev, (evtchn_port_t)port);
}

static void rx_post(struct nf_queue *q, unsigned int n)
{
	int note;

	for (unsigned int i = 0; i < n; i++) {
		RING_IDX r = q->rx.req_prod_pvt++;
		struct netif_rx_request *req = RING_GET_REQUEST(&q->rx, r);

		req->id = (uint16_t)(r % NF_RING);
		req->gref = q->rx_refs[r % NF_RING];
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, note);
	if (note)
		notify(q->nf, q->rx_port);
}

static int queue_setup(struct netfront *nf, struct nf_queue *q)
{
	domid_t be = nf->info.backend_id;

	q->nf = nf;
	q->tx_sring = hv_gntshr_share(nf->gs, be, 1, &q->tx_ref, 1);
	q->rx_sring = hv_gntshr_share(nf->gs, be, 1, &q->rx_ref, 1);
	q->tx_pages = hv_gntshr_share(nf->gs, be, NF_RING, q->tx_refs, 0);
	q->rx_pages = hv_gntshr_share(nf->gs, be, NF_RING, q->rx_refs, 1);
	q->rxbuf = malloc(NF_HDR + NF_FRAME_MAX);
	if (!q->tx_sring || !q->rx_sring || !q->tx_pages || !q->rx_pages ||
	    !q->rxbuf)
		return -ENOMEM;
	memset(q->tx_sring, 0, HV_PAGE_SIZE);
	memset(q->rx_sring, 0, HV_PAGE_SIZE);
	SHARED_RING_INIT((netif_tx_sring_t *)q->tx_sring);
	SHARED_RING_INIT((netif_rx_sring_t *)q->rx_sring);
	FRONT_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_sring, HV_PAGE_SIZE);
	FRONT_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_sring, HV_PAGE_SIZE);
	for (unsigned int i = 0; i < NF_RING; i++)
		q->tx_free[q->ntx_free++] = (uint16_t)(NF_RING - 1 - i);
	q->tx_port = hv_evtchn_alloc_unbound(nf->ev, be);
	if (q->tx_port < 0)
		return q->tx_port;
	q->rx_port = nf->info.split ? hv_evtchn_alloc_unbound(nf->ev, be)
				    : q->tx_port;
	return q->rx_port < 0 ? q->rx_port : 0;
}

static void unshare(struct netfront *nf, void *va, unsigned int n)
{
	uint64_t end = now_ms() + 5000;

	if (!va)
		return;
	while (hv_gntshr_unshare(nf->gs, va, n) == -EBUSY && now_ms() < end)
		nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
}

static void queue_teardown(struct netfront *nf, struct nf_queue *q)
{
	if (q->rx_port > 0 && q->rx_port != q->tx_port)
		hv_evtchn_unbind(nf->ev, (evtchn_port_t)q->rx_port);
	if (q->tx_port > 0)
		hv_evtchn_unbind(nf->ev, (evtchn_port_t)q->tx_port);
	unshare(nf, q->tx_sring, 1);
	unshare(nf, q->rx_sring, 1);
	unshare(nf, q->tx_pages, NF_RING);
	unshare(nf, q->rx_pages, NF_RING);
	free(q->rxbuf);
	memset(q, 0, sizeof(*q));
}

static void mark_broken(struct netfront *nf, struct nf_queue *q, const char *why)
{
	if (!nf->broken)
		log_warnx_dev(nf->info.backend_id, nf->fe,
			      "q%u: %s: the backend broke the ring, no more "
			      "traffic",
			      q->idx, why);
	nf->broken = 1;
	if (nf->tap_ev)
		event_del(nf->tap_ev);
}

/* ------------------------------------------------------------------ */
/* TX: TAP -> ring                                                     */
/* ------------------------------------------------------------------ */

/* tx_send - one frame (behind its header at buf) on q. 0 sent or
 * dropped (counted), -EAGAIN: no room now. */
static int tx_send(struct nf_queue *q, const uint8_t *buf, uint32_t len)
{
	struct netfront *nf = q->nf;
	struct virtio_net_hdr h;
	struct netif_extra_info gso;
	const uint8_t *frame = buf + NF_HDR;
	unsigned int nseg = (len + HV_PAGE_SIZE - 1) / HV_PAGE_SIZE, need;
	unsigned int gso_ok = nf->info.gso
				      ? (1u << XEN_NETIF_GSO_TYPE_TCPV4) |
						(1u << XEN_NETIF_GSO_TYPE_TCPV6)
				      : 0;
	uint16_t rxf, txf = 0;
	int note;

	memcpy(&h, buf, sizeof(h));
	if (netbk_rx_flags(&h, gso_ok, &rxf, &gso) < 0 || len < 14 ||
	    len > XEN_NETIF_MAX_TX_SIZE || (nseg > 1 && !nf->info.sg)) {
		nf->st.tx_errors++;
		return 0;
	}
	if (rxf & NETRXF_csum_blank)
		txf |= NETTXF_csum_blank;
	if (rxf & NETRXF_data_validated)
		txf |= NETTXF_data_validated;
	need = nseg + (gso.type == XEN_NETIF_EXTRA_TYPE_GSO);
	if (q->ntx_free < nseg || RING_FREE_REQUESTS(&q->tx) < need) {
		nf->st.tx_ring_full++;
		return -EAGAIN;
	}
	for (unsigned int i = 0; i < nseg; i++) {
		uint16_t id = q->tx_free[--q->ntx_free];
		struct netif_tx_request *req =
			RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt++);
		uint32_t off = i * HV_PAGE_SIZE;
		uint32_t n = len - off < HV_PAGE_SIZE ? len - off : HV_PAGE_SIZE;

		memcpy(q->tx_pages + (size_t)id * HV_PAGE_SIZE, frame + off, n);
		q->tx_busy[id] = 1;
		req->id = id;
		req->gref = q->tx_refs[id];
		req->offset = 0;
		req->size = (uint16_t)(i == 0 ? len : n);
		req->flags = i + 1 < nseg ? NETTXF_more_data : 0;
		if (i == 0) {
			req->flags |= txf;
			if (gso.type == XEN_NETIF_EXTRA_TYPE_GSO) {
				req->flags |= NETTXF_extra_info;
				memcpy(RING_GET_REQUEST(&q->tx,
							q->tx.req_prod_pvt++),
				       &gso, sizeof(gso));
			}
		}
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, note);
	if (note)
		notify(nf, q->tx_port);
	nf->st.tx_packets++;
	nf->st.tx_bytes += len;
	return 0;
}

/* pick - a queue by flow: the IPv4 addresses and ports, or the MACs */
static struct nf_queue *pick(struct netfront *nf, const uint8_t *f, uint32_t len)
{
	uint32_t h = 0;

	for (uint32_t i = len >= 38 ? 26 : 0; i < (len >= 38 ? 38 : 12); i++)
		h = h * 31 + f[i];
	return &nf->q[h % nf->nq];
}

static void tx_on_tap(evutil_socket_t fd, short what, void *arg)
{
	struct netfront *nf = arg;

	(void)what;
	for (int n = 0; n < 64 && !nf->broken; n++) {
		ssize_t r = read(fd, nf->pending, NF_HDR + NF_FRAME_MAX);

		if (r < (ssize_t)NF_HDR)
			break;
		nf->pending_len = (uint32_t)r - NF_HDR;
		if (tx_send(pick(nf, nf->pending + NF_HDR, nf->pending_len),
			    nf->pending, nf->pending_len) == -EAGAIN) {
			/* keep it; read again once responses made room */
			event_del(nf->tap_ev);
			return;
		}
		nf->pending_len = 0;
	}
}

static void tx_reap(struct nf_queue *q)
{
	struct netfront *nf = q->nf;
	RING_IDX rp, rc;
	int more;

	do {
		rp = __atomic_load_n(&q->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
		if (rp - q->tx.rsp_cons > q->tx.req_prod_pvt - q->tx.rsp_cons) {
			mark_broken(nf, q, "tx rsp_prod beyond our requests");
			return;
		}
		for (rc = q->tx.rsp_cons; rc != rp; rc++) {
			struct netif_tx_response rsp;

			memcpy(&rsp, RING_GET_RESPONSE(&q->tx, rc), sizeof(rsp));
			if (rsp.status == NETIF_RSP_NULL)
				continue;
			if (rsp.id >= NF_RING || !q->tx_busy[rsp.id]) {
				mark_broken(nf, q, "tx response of no request");
				return;
			}
			q->tx_busy[rsp.id] = 0;
			q->tx_free[q->ntx_free++] = rsp.id;
			if (rsp.status != NETIF_RSP_OKAY)
				nf->st.tx_errors++;
		}
		q->tx.rsp_cons = rc;
		RING_FINAL_CHECK_FOR_RESPONSES(&q->tx, more);
	} while (more);
	if (nf->pending_len) {
		if (tx_send(pick(nf, nf->pending + NF_HDR, nf->pending_len),
			    nf->pending, nf->pending_len) == -EAGAIN)
			return;
		nf->pending_len = 0;
	}
	if (!nf->broken)
		event_add(nf->tap_ev, NULL);
}

/* ------------------------------------------------------------------ */
/* RX: ring -> TAP                                                     */
/* ------------------------------------------------------------------ */

static void rx_deliver(struct nf_queue *q)
{
	struct netfront *nf = q->nf;
	struct netbk_tx_pkt pkt;
	struct virtio_net_hdr h;

	memset(&pkt, 0, sizeof(pkt));
	if (q->rx_flags & NETRXF_csum_blank)
		pkt.flags |= NETTXF_csum_blank;
	if (q->rx_flags & NETRXF_data_validated)
		pkt.flags |= NETTXF_data_validated;
	pkt.gso = q->rx_gso;
	if (q->rx_bad ||
	    netbk_tx_vnet_hdr(&pkt, q->rxbuf + NF_HDR, q->rx_len, &h) < 0) {
		nf->st.rx_errors++;
		return;
	}
	memcpy(q->rxbuf, &h, sizeof(h));
	if (write(nf->tap_fd, q->rxbuf, NF_HDR + q->rx_len) < 0) {
		nf->st.rx_errors++;
		return;
	}
	nf->st.rx_packets++;
	nf->st.rx_bytes += q->rx_len;
	nf->st.rx_gso += h.gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

/* rx_one - response rc (a private copy in *rsp) into the packet */
static void rx_one(struct nf_queue *q, RING_IDX rc,
		   const struct netif_rx_response *rsp)
{
	const uint8_t *page =
		q->rx_pages + (size_t)(rc % NF_RING) * HV_PAGE_SIZE;
	int more;

	if (q->rx_want_extra) {
		struct netif_extra_info e;

		memcpy(&e, rsp, sizeof(e));
		if (e.type == XEN_NETIF_EXTRA_TYPE_GSO)
			q->rx_gso = e;
		q->rx_want_extra = (e.flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
		more = q->rx_want_extra || (q->rx_flags & NETRXF_more_data);
	} else {
		if (!q->rx_in_pkt) {
			q->rx_in_pkt = 1;
			q->rx_len = 0;
			q->rx_bad = 0;
			q->rx_flags = rsp->flags;
			memset(&q->rx_gso, 0, sizeof(q->rx_gso));
			q->rx_want_extra = (rsp->flags & NETRXF_extra_info) != 0;
		}
		if (rsp->status < 0 ||
		    (uint32_t)rsp->offset + (uint32_t)rsp->status >
			    HV_PAGE_SIZE ||
		    q->rx_len + (uint32_t)rsp->status > NF_FRAME_MAX) {
			q->rx_bad = 1;
		} else {
			memcpy(q->rxbuf + NF_HDR + q->rx_len,
			       page + rsp->offset, (size_t)rsp->status);
			q->rx_len += (uint32_t)rsp->status;
		}
		/* the first slot's more_data stays in rx_flags for the
		 * extras that follow it */
		q->rx_flags = (uint16_t)((q->rx_flags & ~NETRXF_more_data) |
					 (rsp->flags & NETRXF_more_data));
		more = q->rx_want_extra || (rsp->flags & NETRXF_more_data);
	}
	if (!more) {
		rx_deliver(q);
		q->rx_in_pkt = 0;
	}
}

static void rx_reap(struct nf_queue *q)
{
	RING_IDX rp, rc;
	unsigned int n;
	int more;

	do {
		rp = __atomic_load_n(&q->rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
		if (rp - q->rx.rsp_cons > q->rx.req_prod_pvt - q->rx.rsp_cons) {
			mark_broken(q->nf, q, "rx rsp_prod beyond our buffers");
			return;
		}
		n = 0;
		for (rc = q->rx.rsp_cons; rc != rp; rc++, n++) {
			struct netif_rx_response rsp;

			memcpy(&rsp, RING_GET_RESPONSE(&q->rx, rc), sizeof(rsp));
			rx_one(q, rc, &rsp);
		}
		q->rx.rsp_cons = rc;
		if (n)
			rx_post(q, n); /* the pages just read, posted again */
		RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
	} while (more);
}

static void on_evtchn(evutil_socket_t fd, short what, void *arg)
{
	struct netfront *nf = arg;
	int p;

	(void)fd;
	(void)what;
	while ((p = hv_evtchn_pending(nf->ev)) >= 0) {
		for (unsigned int i = 0; i < nf->nq && !nf->broken; i++) {
			struct nf_queue *q = &nf->q[i];

			if (p == q->tx_port)
				tx_reap(q);
			if (p == q->rx_port)
				rx_reap(q);
		}
		hv_evtchn_unmask(nf->ev, (evtchn_port_t)p);
	}
}

/* ------------------------------------------------------------------ */
/* Negotiation                                                         */
/* ------------------------------------------------------------------ */

static int write_keys(struct netfront *nf)
{
	for (int tries = 0; tries < 10; tries++) {
		uint32_t t;
		int r = xsg_transaction_start(nf->xs, &t);

		for (unsigned int i = 0; i < nf->nq && !r; i++) {
			struct nf_queue *q = &nf->q[i];
			char k[64], pfx[24] = "";

			if (nf->nq > 1)
				snprintf(pfx, sizeof(pfx), "queue-%u/", i);
#define W(key, ...)                                                            \
	do {                                                                   \
		snprintf(k, sizeof(k), "%s%s", pfx, key);                      \
		r = r ? r : fe_printf(nf, t, k, __VA_ARGS__);                  \
	} while (0)
			W("tx-ring-ref", "%u", q->tx_ref);
			W("rx-ring-ref", "%u", q->rx_ref);
			if (nf->info.split) {
				W("event-channel-tx", "%d", q->tx_port);
				W("event-channel-rx", "%d", q->rx_port);
			} else {
				W("event-channel", "%d", q->tx_port);
			}
#undef W
		}
		if (nf->nq > 1 && !r)
			r = fe_printf(nf, t, "multi-queue-num-queues", "%u",
				      nf->nq);
		r = r ? r : fe_printf(nf, t, "request-rx-copy", "1");
		r = r ? r : fe_printf(nf, t, "feature-rx-notify", "1");
		r = r ? r : fe_printf(nf, t, "feature-sg", "%u", nf->info.sg);
		r = r ? r
		      : fe_printf(nf, t, "feature-gso-tcpv4", "%u",
				  nf->info.gso);
		r = r ? r
		      : fe_printf(nf, t, "feature-gso-tcpv6", "%u",
				  nf->info.gso);
		r = r ? r
		      : fe_printf(nf, t, "feature-no-csum-offload", "%u",
				  !nf->info.csum);
		r = r ? r
		      : fe_printf(nf, t, "feature-ipv6-csum-offload", "%u",
				  nf->info.csum);
		if (r < 0) {
			xsg_transaction_end(nf->xs, t, 0);
			return r;
		}
		r = xsg_transaction_end(nf->xs, t, 1);
		if (r != -EAGAIN)
			return r;
	}
	return -EAGAIN;
}

static void read_features(struct netfront *nf)
{
	unsigned long mq = 1;

	if (xs_ulong(nf, nf->info.backend, "multi-queue-max-queues", &mq) < 0 ||
	    mq < 1)
		mq = 1;
	nf->nq = mq < nf->o.max_queues ? (unsigned int)mq : nf->o.max_queues;
	nf->info.nr_queues = nf->nq;
	nf->info.split =
		!nf->o.no_split && be_flag(nf, "feature-split-event-channels");
	nf->info.sg = !nf->o.no_sg && be_flag(nf, "feature-sg");
	nf->info.gso = nf->info.sg && !nf->o.no_gso && !nf->o.no_csum &&
		       be_flag(nf, "feature-gso-tcpv4") &&
		       be_flag(nf, "feature-gso-tcpv6");
	nf->info.csum =
		!nf->o.no_csum && be_flag(nf, "feature-ipv6-csum-offload");
}

static int serve(struct netfront *nf)
{
	int r;

	nf->pending = malloc(NF_HDR + NF_FRAME_MAX);
	nf->tap_ev = event_new(nf->base, nf->tap_fd, EV_READ | EV_PERSIST,
			       tx_on_tap, nf);
	nf->ev_ev = event_new(nf->base, hv_evtchn_fd(nf->ev),
			      EV_READ | EV_PERSIST, on_evtchn, nf);
	if (!nf->pending || !nf->tap_ev || !nf->ev_ev)
		return -ENOMEM;
	r = tap_offload(nf);
	if (r < 0)
		return r;
	if (event_add(nf->tap_ev, NULL) < 0 || event_add(nf->ev_ev, NULL) < 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < nf->nq; i++)
		rx_post(&nf->q[i], NF_RING);
	return 0;
}

struct netfront *netfront_connect(struct hv *guest, struct xsg *xs,
				  struct event_base *base, uint32_t handle,
				  const struct netfront_opts *opts)
{
	struct netfront *nf = calloc(1, sizeof(*nf));
	int r;

	if (!nf)
		return NULL;
	nf->o = *opts;
	if (nf->o.max_queues == 0)
		nf->o.max_queues = 1;
	if (nf->o.max_queues > NETFRONT_MAX_QUEUES)
		nf->o.max_queues = NETFRONT_MAX_QUEUES;
	if (nf->o.timeout_ms <= 0)
		nf->o.timeout_ms = 30000;
	if (nf->o.xs_timeout_ms <= 0)
		nf->o.xs_timeout_ms = 10000;
	nf->hv = guest;
	nf->xs = xs;
	nf->base = base;
	nf->tap_fd = -1;
	nf->info.handle = handle;
	snprintf(nf->info.ifname, sizeof(nf->info.ifname), "%s",
		 nf->o.ifname ? nf->o.ifname : "eth0");
	snprintf(nf->fe, sizeof(nf->fe), "/local/domain/%u/device/vif/%u",
		 hv_domid(guest), handle);
	snprintf(nf->token, sizeof(nf->token), NF_TOKEN "%u", handle);
	nf->gs = hv_gntshr_open(guest);
	nf->ev = hv_evtchn_open(guest);
	if (!nf->gs || !nf->ev) {
		r = -errno;
		goto fail;
	}
	r = xsg_watch(nf->xs, nf->fe, nf->token);
	if (r == 0)
		r = wait_for(nf, have_device, 0);
	xsg_unwatch(nf->xs, nf->fe, nf->token);
	if (r < 0)
		goto fail;
	read_mac(nf);
	r = tap_create(nf);
	if (r < 0) {
		log_warnx_dev(-1, nf->fe, "TAP %s: %s", nf->info.ifname,
			      strerror(-r));
		goto fail;
	}
	r = xsg_watch(nf->xs, nf->info.backend, nf->token);
	if (r < 0)
		goto fail;
	nf->watching = 1;
	r = wait_for(nf, be_initwait, nf->o.timeout_ms);
	if (r < 0)
		goto fail;
	read_features(nf);
	for (unsigned int i = 0; i < nf->nq && r == 0; i++) {
		nf->q[i].idx = i;
		r = queue_setup(nf, &nf->q[i]);
	}
	if (r == 0)
		r = write_keys(nf);
	if (r == 0)
		r = fe_printf(nf, 0, "state", "%d", XenbusStateInitialised);
	if (r == 0)
		r = wait_for(nf, be_connected, nf->o.timeout_ms);
	if (r == 0)
		r = serve(nf);
	if (r == 0)
		r = fe_printf(nf, 0, "state", "%d", XenbusStateConnected);
	if (r < 0)
		goto fail;
	nf->connected = 1;
	log_info_dev(nf->info.backend_id, nf->fe,
		     "connected: %s, %u queue(s), %s event channels, sg %s, "
		     "gso %s, csum %s",
		     nf->info.ifname, nf->nq, nf->info.split ? "split" : "one",
		     nf->info.sg ? "on" : "off", nf->info.gso ? "on" : "off",
		     nf->info.csum ? "on" : "off");
	return nf;
fail:
	if (nf->info.backend[0] && r != -EINTR && r != -ETIMEDOUT)
		fe_printf(nf, 0, "state", "%d", XenbusStateClosed);
	netfront_free(nf);
	errno = r == -EINVAL || r == -ENOENT ? ENODEV : -r;
	return NULL;
}

const struct netfront_info *netfront_info(const struct netfront *nf)
{
	return &nf->info;
}

void netfront_get_stats(const struct netfront *nf, struct netfront_stats *st)
{
	*st = nf->st;
}

static int be_closed(struct netfront *nf)
{
	unsigned long s;
	int r = xs_ulong(nf, nf->info.backend, "state", &s);

	return r == -ENOENT || (r == 0 && s == XenbusStateClosed) ? 1 : 0;
}

static void close_device(struct netfront *nf)
{
	if (nf->closed)
		return;
	nf->closed = 1;
	if (nf->tap_ev)
		event_del(nf->tap_ev);
	if (nf->ev_ev)
		event_del(nf->ev_ev);
	fe_printf(nf, 0, "state", "%d", XenbusStateClosing);
	wait_for(nf, be_closed, 5000);
	fe_printf(nf, 0, "state", "%d", XenbusStateClosed);
}

int netfront_on_watch(struct netfront *nf, const char *path, const char *token)
{
	unsigned long s;

	(void)path;
	if (strcmp(token, nf->token) || nf->closed)
		return 0;
	if (xs_ulong(nf, nf->info.backend, "state", &s) == 0 &&
	    s != XenbusStateClosing && s != XenbusStateClosed)
		return 0;
	close_device(nf);
	return 1;
}

void netfront_free(struct netfront *nf)
{
	if (!nf)
		return;
	if (nf->connected)
		close_device(nf);
	if (nf->watching)
		xsg_unwatch(nf->xs, nf->info.backend, nf->token);
	if (nf->tap_ev)
		event_free(nf->tap_ev);
	if (nf->ev_ev)
		event_free(nf->ev_ev);
	for (unsigned int i = 0; i < NETFRONT_MAX_QUEUES; i++)
		if (nf->q[i].nf)
			queue_teardown(nf, &nf->q[i]);
	if (nf->tap_fd >= 0)
		close(nf->tap_fd);
	if (nf->ev)
		hv_evtchn_close(nf->ev);
	if (nf->gs)
		hv_gntshr_close(nf->gs);
	free(nf->pending);
	free(nf);
}
