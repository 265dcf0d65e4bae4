/*
 * hash.c - the control ring's hash requests, Toeplitz hashing and RX
 * queue selection (see hash.h).
 *
 * Worked example of a mapping update. The frontend has 4 queues and
 * sends SET_HASH_MAPPING_SIZE 8 (the table is now 8 zeros), then
 * SET_HASH_MAPPING {gref, len 4, off 4} whose page holds 3 1 2 0. We
 * check off + len <= 8 (and that the sum does not wrap), copy the 4
 * entries from the grant into a local buffer, check each is < 4, and
 * only then write them at table[4..7]: the table is 0 0 0 0 3 1 2 0. A
 * frame hashing to 13 goes to table[13 % 8] = table[5] = queue 1. Had
 * one entry been 4, the response is INVALID_PARAMETER and the table is
 * as it was (Linux gets the same effect with two tables and a swap).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "netback/hash.h"

_Static_assert(sizeof(struct xen_netif_ctrl_request) == 16,
	       "netif.h control request layout");
_Static_assert(sizeof(struct xen_netif_ctrl_response) == 12,
	       "netif.h control response layout");
_Static_assert(NETBK_HASH_MAPPING_MAX * sizeof(uint32_t) <= 4096,
	       "a whole table fits in one granted page");

/* The key netbk_hash_queue steers by when the frontend chose no
 * algorithm: the standard RSS key (any fixed key would do). */
static const uint8_t default_key[NETBK_HASH_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

void netbk_hash_init(struct netbk_hash *h, unsigned int num_queues)
{
	memset(h, 0, sizeof(*h));
	h->alg = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
	h->num_queues = num_queues;
}

/*
 * The Toeplitz hash, a window of the key sliding over the input: for each
 * input bit that is set, XOR in the 32 key bits that start at that bit's
 * position. win holds 64 key bits; its top 32 are the current window,
 * and the next key octet is shifted in after each input octet.
 */
uint32_t netbk_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *buf,
			size_t len)
{
	uint64_t win = 0;
	uint32_t hash = 0;
	size_t k;

	for (k = 0; k < 8; k++)
		win = (win << 8) | (k < keylen ? key[k] : 0);
	for (size_t i = 0; i < len; i++, k++) {
		for (int bit = 7; bit >= 0; bit--) {
			if (buf[i] & (1u << bit))
				hash ^= (uint32_t)(win >> 32);
			win <<= 1;
		}
		win |= k < keylen ? key[k] : 0;
	}
	return hash;
}

/* --- control requests --------------------------------------------- */

static uint32_t set_alg(struct netbk_hash *h, uint32_t alg)
{
	if (alg != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
	    alg != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	h->alg = alg;
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t get_flags(const struct netbk_hash *h, uint32_t *data)
{
	if (h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
		return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
	*data = NETBK_HASH_TYPES;
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t set_flags(struct netbk_hash *h, uint32_t flags)
{
	if (flags & ~(uint32_t)NETBK_HASH_TYPES)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	if (h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
		return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
	h->flags = flags;
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t set_key(struct netbk_hash *h, grant_ref_t ref, uint32_t len,
			netbk_copy_from_guest_fn copy, void *ctx)
{
	uint8_t key[NETBK_HASH_KEY_MAX] = { 0 };

	if (len > NETBK_HASH_KEY_MAX)
		return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
	/* a key of 0 octets clears it: no grant to read */
	if (len && (!copy || copy(ctx, ref, 0, key, len) < 0))
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	memcpy(h->key, key, sizeof(h->key));
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t set_mapping_size(struct netbk_hash *h, uint32_t size)
{
	if (size > NETBK_HASH_MAPPING_MAX)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	h->size = size;
	memset(h->mapping, 0, sizeof(h->mapping));
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t set_mapping(struct netbk_hash *h, grant_ref_t ref, uint32_t len,
			    uint32_t off, netbk_copy_from_guest_fn copy,
			    void *ctx)
{
	uint32_t entries[NETBK_HASH_MAPPING_MAX];

	/* len <= size <= NETBK_HASH_MAPPING_MAX: a sub-table always fits
	 * in the one granted page */
	if (off + len < off || off + len > h->size)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	if (len == 0)
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	if (!copy || copy(ctx, ref, 0, entries, len * sizeof(entries[0])) < 0)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	for (uint32_t i = 0; i < len; i++)
		if (entries[i] >= h->num_queues)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	memcpy(&h->mapping[off], entries, len * sizeof(entries[0]));
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static const char *const ctrl_names[] = {
	[XEN_NETIF_CTRL_TYPE_INVALID] = "INVALID",
	[XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS] = "GET_HASH_FLAGS",
	[XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS] = "SET_HASH_FLAGS",
	[XEN_NETIF_CTRL_TYPE_SET_HASH_KEY] = "SET_HASH_KEY",
	[XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE] = "GET_HASH_MAPPING_SIZE",
	[XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE] = "SET_HASH_MAPPING_SIZE",
	[XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING] = "SET_HASH_MAPPING",
	[XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM] = "SET_HASH_ALGORITHM",
	[XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE] = "GET_GREF_MAPPING_SIZE",
	[XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING] = "ADD_GREF_MAPPING",
	[XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING] = "DEL_GREF_MAPPING",
};

const char *netbk_hash_ctrl_name(uint16_t type)
{
	if (type < sizeof(ctrl_names) / sizeof(ctrl_names[0]) &&
	    ctrl_names[type])
		return ctrl_names[type];
	return "unknown";
}

struct xen_netif_ctrl_response
netbk_hash_ctrl(struct netbk_hash *h, const struct xen_netif_ctrl_request *req,
		netbk_copy_from_guest_fn copy, void *ctx)
{
	struct xen_netif_ctrl_response rsp = {
		.id = req->id,
		.type = req->type,
		.status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED,
		.data = 0,
	};
	const uint32_t *d = req->data;

	switch (req->type) {
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
		rsp.status = set_alg(h, d[0]);
		break;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
		rsp.status = get_flags(h, &rsp.data);
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
		rsp.status = set_flags(h, d[0]);
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
		rsp.status = set_key(h, d[0], d[1], copy, ctx);
		break;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
		rsp.status = XEN_NETIF_CTRL_STATUS_SUCCESS;
		rsp.data = NETBK_HASH_MAPPING_MAX;
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
		rsp.status = set_mapping_size(h, d[0]);
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
		rsp.status = set_mapping(h, d[0], d[1], d[2], copy, ctx);
		break;
	default: /* INVALID, the gref mapping ones, unknown: not ours */
		break;
	}
	return rsp;
}

/* --- frames --------------------------------------------------------- */

#define ETH_HLEN_      14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define IPPROTO_TCP_   6
/* IPv6 extension headers walked to reach TCP (RFC 8200) */
#define IP6_HOPOPTS    0
#define IP6_ROUTING    43
#define IP6_FRAGMENT   44
#define IP6_DSTOPTS    60
#define IP6_MAX_EXT    8 /* headers walked before we give up */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The flow of a frame: addresses, and ports when it is an unfragmented
 * TCP segment with its ports present. */
struct flow {
	int v6;
	int tcp;
	uint8_t buf[36]; /* src addr, dst addr, src port, dst port */
};

/* parse_flow - 0 with *f, or -1 when the frame is not IP we can read. */
static int parse_flow(const uint8_t *p, size_t len, struct flow *f)
{
	size_t off = ETH_HLEN_ - 2;
	uint16_t type;
	uint8_t proto;
	int frag = 0;

	if (len < ETH_HLEN_)
		return -1;
	type = be16(p + off);
	for (int tags = 0;
	     tags < 2 && (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ);
	     tags++) {
		off += 4;
		if (len < off + 2)
			return -1;
		type = be16(p + off);
	}
	off += 2;
	memset(f, 0, sizeof(*f));
	if (type == ETHERTYPE_IPV4) {
		const uint8_t *ip = p + off;
		size_t ihl;

		if (len < off + 20 || ip[0] >> 4 != 4)
			return -1;
		ihl = (size_t)(ip[0] & 0xf) * 4;
		if (ihl < 20 || len < off + ihl)
			return -1;
		/* MF set or a fragment offset: ports may not be here */
		frag = (be16(ip + 6) & 0x3fff) != 0;
		proto = ip[9];
		memcpy(f->buf, ip + 12, 8);
		off += ihl;
	} else if (type == ETHERTYPE_IPV6) {
		const uint8_t *ip = p + off;

		if (len < off + 40 || ip[0] >> 4 != 6)
			return -1;
		f->v6 = 1;
		proto = ip[6];
		memcpy(f->buf, ip + 8, 32);
		off += 40;
		for (int n = 0; n < IP6_MAX_EXT && !frag; n++) {
			if (proto == IP6_FRAGMENT) {
				if (len < off + 8)
					return -1;
				/* offset or M: not the whole datagram */
				frag = (be16(p + off + 2) & 0xfff9) != 0;
				proto = p[off];
				off += 8;
			} else if (proto == IP6_HOPOPTS ||
				   proto == IP6_ROUTING ||
				   proto == IP6_DSTOPTS) {
				if (len < off + 2)
					return -1;
				proto = p[off];
				off += ((size_t)p[off + 1] + 1) * 8;
			} else {
				break;
			}
		}
	} else {
		return -1;
	}
	if (proto == IPPROTO_TCP_ && !frag && len >= off + 4) {
		f->tcp = 1;
		memcpy(f->buf + (f->v6 ? 32 : 8), p + off, 4);
	}
	return 0;
}

/* hash_flow - the hash of f under flags and key; 0 when no type fits. */
static int hash_flow(const struct flow *f, uint32_t flags, const uint8_t *key,
		     struct netbk_hash_result *out)
{
	unsigned int type, n;

	if (!f->v6 && f->tcp && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP))
		type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, n = 12;
	else if (!f->v6 && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4))
		type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4, n = 8;
	else if (f->v6 && f->tcp && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP))
		type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP, n = 36;
	else if (f->v6 && (flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6))
		type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6, n = 32;
	else
		return 0;
	out->type = (uint8_t)type;
	out->value = netbk_toeplitz(key, NETBK_HASH_KEY_MAX, f->buf, n);
	return 1;
}

int netbk_hash_frame(const struct netbk_hash *h, const void *frame, size_t len,
		     struct netbk_hash_result *out)
{
	struct flow f;

	if (h->alg != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ || !h->flags ||
	    parse_flow(frame, len, &f) < 0)
		return 0;
	return hash_flow(&f, h->flags, h->key, out);
}

unsigned int netbk_hash_queue(const struct netbk_hash *h, const void *frame,
			      size_t len)
{
	struct netbk_hash_result r = { 0, 0 };
	struct flow f;
	uint32_t q;

	if (h->num_queues <= 1)
		return 0;
	if (h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE) {
		/* ours to choose: keep each flow on one queue */
		if (parse_flow(frame, len, &f) < 0)
			return 0;
		hash_flow(&f, NETBK_HASH_TYPES, default_key, &r);
		return r.value % h->num_queues;
	}
	netbk_hash_frame(h, frame, len, &r); /* none fits: hash 0 */
	if (h->size == 0)
		return r.value % h->num_queues;
	q = h->mapping[r.value % h->size];
	/* entries were checked against num_queues when set; stay in range
	 * even if the caller changed num_queues without netbk_hash_init */
	return q < h->num_queues ? q : q % h->num_queues;
}
