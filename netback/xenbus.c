/*
 * xenbus.c - netback's control plane: the xenbus negotiation of one vif
 * over lib/xenbus-be (which walks the state machine), and the data path
 * of vif.c, tx.c and rx.c.
 *
 *   probe      the backend's keys (mac, bridge, handle: the toolstack's);
 *              the TAP vif<domid>.<handle> created and brought up
 *              (libxl runs the hotplug script once the backend is there,
 *              and the script expects the interface); the feature keys
 *              written (one transaction) before InitWait.
 *   connect    the frontend's keys, all guest input, each read once and
 *              range-checked: request-rx-copy (required, as Linux
 *              requires it: no page flipping), feature-rx-notify
 *              (required), feature-sg, feature-gso-tcpv4/6,
 *              feature-no-csum-offload, feature-ipv6-csum-offload,
 *              request-multicast-control, multi-queue-num-queues and per
 *              queue (queue-N/ when several) tx-ring-ref, rx-ring-ref and
 *              event-channel-tx + event-channel-rx (split) or
 *              event-channel.
 *   disconnect the queues stopped and released (nothing is in flight
 *              between turns of the loop: synchronous).
 *   remove     the TAP closed (it disappears with its last fd).
 *
 * Not yet (hooks): feature-ctrl-ring (netback/hash.c: advertised once it
 * is served), the rate key (netback/rate.c, per-queue struct net_rate),
 * joining the bridge named by the bridge key (read and reported only).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/vif.h"

/* keep - the first real error of a series of writes. */
static void keep(int *first, int r)
{
	if (r < 0 && *first == 0)
		*first = r;
}

/* features - what we offer, written before InitWait (issue 12's list,
 * less feature-ctrl-ring until the control ring is served). */
static int features(struct xbe_device *d, xs_transaction_t t, void *arg)
{
	struct netbk_vif *vif = arg;
	static const char *const on[] = {
		"feature-sg",
		"feature-gso-tcpv4",
		"feature-gso-tcpv6",
		"feature-ipv6-csum-offload",
		"feature-rx-copy",
		"feature-multicast-control",
		"feature-dynamic-multicast-control",
		"feature-split-event-channels",
	};
	int r = 0;

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		keep(&r, xbe_write_be(d, t, on[i], "1"));
	keep(&r, xbe_write_be(d, t, "feature-rx-flip", "0"));
	keep(&r, xbe_write_be(d, t, "multi-queue-max-queues", "%u",
			      vif->nb->cfg.max_queues));
	return r;
}

/* parse_mac - "aa:bb:cc:dd:ee:ff"; 0 or -EINVAL */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static void vif_free(struct netbk_vif *vif)
{
	netbk_vif_disconnect(vif);
	if (vif->tap_fd0 >= 0)
		close(vif->tap_fd0);
	free(vif->bridge);
	free(vif);
}

static int vif_probe(struct xbe_device *d)
{
	struct netbk *nb = xbe_arg(d->xbe);
	struct netbk_vif *vif = calloc(1, sizeof(*vif));
	char *mac = NULL;
	int r;

	if (!vif)
		return -ENOMEM;
	vif->nb = nb;
	vif->xd = d;
	vif->domid = d->fdomid;
	vif->tap_fd0 = -1;
	d->priv = vif;
	if (xbe_read_be_str(d, "mac", &mac) == 0) {
		if (parse_mac(mac, vif->mac) == 0)
			vif->has_mac = 1;
		else
			log_warnx_dev(d->fdomid, d->name,
				      "mac '%.32s' is not a MAC address: "
				      "ignored",
				      mac);
		free(mac);
	}
	if (xbe_read_be_str(d, "bridge", &vif->bridge) == 0)
		log_info_dev(d->fdomid, d->name,
			     "bridge '%.32s': joining it is left to the "
			     "hotplug script (not done by netback yet)",
			     vif->bridge);
	snprintf(vif->ifname, sizeof(vif->ifname), "vif%u.%u", d->fdomid,
		 d->devid);
	/* TUNSETIFF on an existing TAP would add a queue to it */
	if (if_nametoindex(vif->ifname) != 0) {
		r = -EEXIST;
		xbe_error(d, r, "%s exists already (another backend's?)",
			  vif->ifname);
		goto fail;
	}
	r = netbk_tap_open(vif->ifname);
	if (r < 0) {
		xbe_error(d, r, "creating the TAP %s", vif->ifname);
		goto fail;
	}
	vif->tap_fd0 = r;
	r = netbk_tap_up(vif->ifname);
	if (r < 0) {
		xbe_error(d, r, "bringing %s up", vif->ifname);
		goto fail;
	}
	r = xbe_transaction(d, features, vif);
	if (r < 0) {
		xbe_error(d, r, "writing feature keys");
		goto fail;
	}
	log_info_dev(d->fdomid, d->name, "%s created", vif->ifname);
	return 0;
fail:
	d->priv = NULL;
	vif_free(vif);
	return r;
}

/* fe_flag - a frontend boolean key: 0/1, def when absent or garbage */
static unsigned int fe_flag(struct xbe_device *d, const char *key,
			    unsigned int def)
{
	unsigned long v;

	return xbe_read_fe_uint(d, key, 0, 1, &v) == 0 ? (unsigned int)v : def;
}

/* queue_keys - one queue's rings and channels (under queue-N/ when the
 * frontend asked for several queues). */
static int queue_keys(struct xbe_device *d, unsigned int q, int multi,
		      struct netbk_queue_keys *k)
{
	char pfx[24] = "", key[64];
	unsigned long v;
	int r;

	if (multi)
		snprintf(pfx, sizeof(pfx), "queue-%u/", q);
#define KEY(name, min, max, dst)                                               \
	do {                                                                   \
		snprintf(key, sizeof(key), "%s%s", pfx, name);                 \
		r = xbe_read_fe_uint(d, key, min, max, &v);                    \
		if (r == 0)                                                    \
			(dst) = (uint32_t)v;                                   \
	} while (0)
	KEY("tx-ring-ref", 0, 0xffffffffUL, k->tx_ref);
	if (r < 0)
		goto bad;
	KEY("rx-ring-ref", 0, 0xffffffffUL, k->rx_ref);
	if (r < 0)
		goto bad;
	KEY("event-channel-tx", 1, 0xffffffffUL, k->tx_port);
	if (r == 0) {
		KEY("event-channel-rx", 1, 0xffffffffUL, k->rx_port);
		if (r < 0)
			goto bad;
		return 0;
	}
	if (r != -ENOENT)
		goto bad;
	KEY("event-channel", 1, 0xffffffffUL, k->tx_port);
#undef KEY
	if (r < 0)
		goto bad;
	k->rx_port = k->tx_port;
	return 0;
bad:
	xbe_error(d, r, "reading %s", key);
	return r;
}

static int vif_connect(struct xbe_device *d)
{
	struct netbk_vif *vif = d->priv;
	struct netbk *nb = vif->nb;
	struct netbk_queue_keys keys[NETBK_MAX_QUEUES];
	unsigned long nq = 1;
	int r, multi;

	if (fe_flag(d, "request-rx-copy", 0) != 1) {
		xbe_error(d, -EOPNOTSUPP,
			  "request-rx-copy is required (no page flipping)");
		return -EOPNOTSUPP;
	}
	if (fe_flag(d, "feature-rx-notify", 0) != 1) {
		xbe_error(d, -EINVAL, "feature-rx-notify is mandatory");
		return -EINVAL;
	}
	r = xbe_read_fe_uint(d, "multi-queue-num-queues", 1, nb->cfg.max_queues,
			     &nq);
	if (r < 0 && r != -ENOENT) {
		xbe_error(d, r, "multi-queue-num-queues out of 1..%u",
			  nb->cfg.max_queues);
		return r;
	}
	multi = r == 0;
	vif->sg = fe_flag(d, "feature-sg", 0);
	vif->csum = !fe_flag(d, "feature-no-csum-offload", 0);
	vif->ipv6_csum = fe_flag(d, "feature-ipv6-csum-offload", 0);
	vif->gso_ok = 0;
	if (fe_flag(d, "feature-gso-tcpv4", 0))
		vif->gso_ok |= 1u << XEN_NETIF_GSO_TYPE_TCPV4;
	if (fe_flag(d, "feature-gso-tcpv6", 0))
		vif->gso_ok |= 1u << XEN_NETIF_GSO_TYPE_TCPV6;
	vif->mcast_ctrl = fe_flag(d, "request-multicast-control", 0);
	vif->nr_mcast = 0;
	for (unsigned int q = 0; q < nq; q++) {
		r = queue_keys(d, q, multi, &keys[q]);
		if (r < 0)
			return r;
	}
	r = netbk_vif_connect(vif, (unsigned int)nq, keys);
	if (r < 0) {
		xbe_error(d, r, "mapping the rings of %lu queue(s)", nq);
		return r;
	}
	log_info_dev(d->fdomid, d->name,
		     "connected: %s, %lu queue(s), %s event channels, "
		     "sg %s, csum %s/%s, gso%s%s",
		     vif->ifname, nq,
		     keys[0].tx_port != keys[0].rx_port ? "split" : "shared",
		     vif->sg ? "on" : "off", vif->csum ? "v4" : "-",
		     vif->ipv6_csum ? "v6" : "-",
		     vif->gso_ok & (1u << XEN_NETIF_GSO_TYPE_TCPV4) ? " tcpv4"
								    : "",
		     vif->gso_ok & (1u << XEN_NETIF_GSO_TYPE_TCPV6) ? " tcpv6"
								    : "");
	return 0;
}

static int vif_disconnect(struct xbe_device *d)
{
	struct netbk_vif *vif = d->priv;

	if (!vif || !vif->q)
		return 0;
	netbk_vif_disconnect(vif);
	log_info_dev(d->fdomid, d->name, "disconnected");
	return 0;
}

static void vif_remove(struct xbe_device *d)
{
	struct netbk_vif *vif = d->priv;

	if (!vif)
		return;
	log_info_dev(d->fdomid, d->name, "%s removed", vif->ifname);
	vif_free(vif);
}

const struct xbe_driver_ops netbk_vif_ops = {
	.probe = vif_probe,
	.connect = vif_connect,
	.disconnect = vif_disconnect,
	.remove = vif_remove,
};

json_t *netbk_stats_json(const struct netbk_queue_stats *s)
{
	json_t *o = json_object(), *drops = json_object();

#define N(name) json_object_set_new(o, #name, json_integer((json_int_t)s->name))
	N(tx_packets);
	N(tx_bytes);
	N(tx_gso);
	N(tx_bad_offload);
	N(tx_grant_errors);
	N(tx_tap_dropped);
	N(rx_packets);
	N(rx_bytes);
	N(rx_gso);
	N(rx_no_buffers);
	N(rx_backlog_drops);
	N(rx_too_big);
	N(rx_bad_offload);
	N(rx_grant_errors);
	N(rx_mcast_filtered);
	N(rx_down);
	N(notifies_in);
	N(notifies_out);
	N(halts);
#undef N
	for (int w = 1; w < NETBK_TXW_COUNT; w++)
		json_object_set_new(drops, netbk_tx_why_name(w),
				    json_integer((json_int_t)s->tx_dropped[w]));
	json_object_set_new(o, "tx_dropped", drops);
	return o;
}

/* netbk_vif_json - one vif's state and stats, for the control socket. */
json_t *netbk_vif_json(struct xbe_device *d)
{
	struct netbk_vif *vif = d->priv;
	json_t *o = json_object();

	json_object_set_new(o, "device", json_string(d->name));
	json_object_set_new(o, "frontend-domid", json_integer(d->fdomid));
	json_object_set_new(o, "handle", json_integer(d->devid));
	json_object_set_new(o, "state", json_integer(d->be_state));
	json_object_set_new(o, "connected",
			    json_boolean(d->be_state == XenbusStateConnected));
	if (vif) {
		struct netbk_queue_stats st;

		json_object_set_new(o, "ifname", json_string(vif->ifname));
		if (vif->bridge)
			json_object_set_new(o, "bridge",
					    json_string(vif->bridge));
		json_object_set_new(o, "queues", json_integer(vif->nr_queues));
		json_object_set_new(o, "halted", json_boolean(vif->halted));
		netbk_vif_stats(vif, &st);
		json_object_set_new(o, "stats", netbk_stats_json(&st));
	}
	return o;
}
