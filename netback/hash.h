/*
 * hash.h - netback's control ring (`feature-ctrl-ring`): the hash
 * requests of <xen/io/netif.h>, Toeplitz hashing of a frame, and the
 * choice of the RX queue from the frontend's mapping table.
 *
 * A pure module: no hypervisor, no event loop. The daemon copies one
 * request out of the shared control ring into a local struct, hands it
 * to netbk_hash_ctrl() with a callback that grant-copies from the guest
 * (SET_HASH_KEY and SET_HASH_MAPPING pass a grant reference), and puts
 * the returned response on the ring. The guest's key and table are
 * copied once into local buffers and validated there; the per-vif state
 * changes only when the whole request is valid.
 *
 * Limits (as Linux's xen-netback, whose frontends expect them): a key of
 * at most NETBK_HASH_KEY_MAX octets (Linux's XEN_NETBK_MAX_HASH_KEY_SIZE)
 * and a mapping table of at most NETBK_HASH_MAPPING_MAX entries
 * (XEN_NETBK_MAX_HASH_MAPPING_SIZE), every entry a queue below the vif's
 * number of queues.
 *
 * Hash types: netif.h defines IPv4, IPv4+TCP, IPv6, IPv6+TCP. A TCP
 * segment gets the TCP type when it is enabled, else the address-only
 * type; UDP and other protocols, and IP fragments (whose ports may be
 * absent), get the address-only type (netif.h has no UDP type; Linux
 * does the same).
 */
#ifndef SPLITDRV_NETBACK_HASH_H
#define SPLITDRV_NETBACK_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <xen/grant_table.h>
#include <xen/io/netif.h>

/* Linux xen-netback's XEN_NETBK_MAX_HASH_KEY_SIZE and _MAPPING_SIZE. */
#define NETBK_HASH_KEY_MAX     40
#define NETBK_HASH_MAPPING_MAX 128

/* The hash types we compute (GET_HASH_FLAGS' answer). */
#define NETBK_HASH_TYPES                                                       \
	(XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP |   \
	 XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

/*
 * netbk_copy_from_guest_fn - copy len octets at offset off of the guest's
 * grant ref into dst (a grant copy on Xen). 0, or a negative errno.
 */
typedef int (*netbk_copy_from_guest_fn)(void *ctx, grant_ref_t ref,
					uint32_t off, void *dst, size_t len);

/* The hash state of one vif (all its queues share it). */
struct netbk_hash {
	uint32_t alg;   /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
	uint32_t flags; /* enabled XEN_NETIF_CTRL_HASH_TYPE_* */
	uint8_t key[NETBK_HASH_KEY_MAX]; /* unset octets are zero */
	uint32_t size;                   /* mapping entries, 0: modulo */
	uint32_t mapping[NETBK_HASH_MAPPING_MAX];
	unsigned int num_queues; /* the vif's connected queues */
};

/* netbk_hash_init - no algorithm, no flags, empty key and table, for a
 * vif with num_queues queues (at connect; again at each reconnect). */
void netbk_hash_init(struct netbk_hash *h, unsigned int num_queues);

/*
 * netbk_hash_ctrl - carry out one control request (already copied out of
 * the ring: it is not read again) and return its response (id and type
 * echoed, status, data). copy/ctx fetch the key and table of SET_HASH_KEY
 * and SET_HASH_MAPPING; a failed copy is INVALID_PARAMETER and changes
 * nothing. Types other than the hash ones are NOT_SUPPORTED.
 */
struct xen_netif_ctrl_response
netbk_hash_ctrl(struct netbk_hash *h, const struct xen_netif_ctrl_request *req,
		netbk_copy_from_guest_fn copy, void *ctx);

/* netbk_hash_ctrl_name - the request type's name ("SET_HASH_KEY"), for
 * logs; "unknown" for others. */
const char *netbk_hash_ctrl_name(uint16_t type);

/*
 * netbk_toeplitz - the Toeplitz hash of buf[0..len) under key (netif.h's
 * definition: octets of the key past keylen count as zero).
 */
uint32_t netbk_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *buf,
			size_t len);

/* What netbk_hash_frame found. */
struct netbk_hash_result {
	uint32_t value;
	uint8_t type; /* _XEN_NETIF_CTRL_HASH_TYPE_* (a bit number), as the
		       * hash extra info (XEN_NETIF_EXTRA_TYPE_HASH) wants */
};

/*
 * netbk_hash_frame - hash an Ethernet frame (up to two VLAN tags, then
 * IPv4 or IPv6 with its extension headers, then TCP) under the enabled
 * flags. Returns 1 with *out filled, or 0 when no enabled type applies
 * (not IP, a truncated header, the algorithm is NONE or no flag fits).
 */
int netbk_hash_frame(const struct netbk_hash *h, const void *frame, size_t len,
		     struct netbk_hash_result *out);

/*
 * netbk_hash_queue - the RX queue for a frame, as Linux chooses it: with
 * the algorithm NONE the backend's own choice (a flow hash of the frame
 * under a fixed key, so a flow keeps its queue); else the frontend's
 * hash (0 when no type applies) through the mapping table, or modulo the
 * number of queues without a table. Always < num_queues (0 when the vif
 * has none).
 */
unsigned int netbk_hash_queue(const struct netbk_hash *h, const void *frame,
			      size_t len);

#endif /* SPLITDRV_NETBACK_HASH_H */
