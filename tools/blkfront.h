/*
 * blkfront.h - the guest side of Xen's block protocol for a loopback guest:
 * what Linux's xen-blkfront negotiates and puts on the ring, as a library
 * with a synchronous byte-range I/O API.
 *
 * A blkfront belongs to a loopback guest (a struct hv from
 * hv_domain_create) and uses that guest's xenstore ring (struct xsg).
 * Negotiation (blkfront_connect):
 *
 *   device/vbd/<devid>/backend           wait until the toolstack wrote it
 *   <backend>/state = InitWait           wait; then read the backend's
 *                                        features: feature-persistent,
 *                                        feature-max-indirect-segments,
 *                                        max-ring-page-order,
 *                                        multi-queue-max-queues,
 *                                        feature-flush-cache,
 *                                        feature-barrier, feature-discard
 *   per queue: 2^order ring pages shared with the backend, an unbound
 *   event channel for it; one transaction writes ring-page-order,
 *   ring-ref / ring-refN, event-channel (under queue-N/ when several),
 *   multi-queue-num-queues, protocol, feature-persistent; state =
 *   Initialised
 *   <backend>/state = Connected          read sectors, info, sector-size;
 *                                        our state = Connected
 *
 * I/O: byte ranges (multiples of the sector size) are split into requests
 * of up to 11 direct segments, or up to the backend's indirect limit (capped
 * at BLKFRONT_MAX_SEGS) with one indirect page. Data goes through a pool of
 * guest pages per queue: with persistent grants they are granted once and
 * reused (the backend keeps them mapped); without, each page is granted for
 * one request and the grant is revoked when the response arrived. The
 * backend's responses are read once from the ring (rsp_prod read once and
 * checked against what is outstanding, each response copied, only the copy
 * used) and matched by id.
 *
 * Calls block (poll on the queues' event channels) until every request of
 * the call has a response. One thread. Returns 0 or -errno.
 */
#ifndef SPLITDRV_TOOLS_BLKFRONT_H
#define SPLITDRV_TOOLS_BLKFRONT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "hv.h"
#include "xs-guest.h"

/* segments per request we use at most (one indirect page holds 512) */
#define BLKFRONT_MAX_SEGS       256
#define BLKFRONT_MAX_QUEUES     16
#define BLKFRONT_MAX_RING_ORDER 4

struct blkfront_opts {
	unsigned int max_queues;     /* ask for up to this many; 0 = 2 */
	unsigned int max_ring_order; /* 0..BLKFRONT_MAX_RING_ORDER; -1U = 2 */
	unsigned int pool_pages;     /* data pages per queue; 0 = 1024 */
	unsigned int no_persistent : 1; /* do not use persistent grants */
	unsigned int no_indirect : 1;   /* do not use indirect requests */
	int attach_timeout_ms; /* wait for the toolstack; <= 0: until *stop */
	int timeout_ms;        /* negotiation steps and each I/O; 0 = 30000 */
	int xs_timeout_ms;     /* restored on the xsg handle; 0 = 10000 */
	volatile sig_atomic_t *stop; /* may be NULL; set: give up waiting */
};

/* What was negotiated, for logs and the NBD export. */
struct blkfront_info {
	char backend[128]; /* the backend's xenstore directory */
	domid_t backend_id;
	uint32_t devid;
	uint64_t sectors;     /* in 512-byte units, as blkif counts */
	uint64_t size;        /* bytes */
	uint32_t sector_size; /* logical block of the disk */
	unsigned int nr_queues;
	unsigned int ring_order;
	unsigned int ring_size;    /* requests per ring */
	unsigned int max_segs;     /* segments per request we use */
	unsigned int readonly : 1; /* info & VDISK_READONLY */
	unsigned int persistent : 1;
	unsigned int indirect : 1;
	unsigned int flush : 1;       /* feature-flush-cache */
	unsigned int barrier : 1;     /* feature-barrier */
	unsigned int discard : 1;     /* feature-discard */
	uint32_t discard_granularity; /* bytes; 0 when not said */
};

/* I/O counters since connect. */
struct blkfront_stats {
	uint64_t reqs, indirect_reqs, segs, notifies, responses, errors;
	uint64_t grants_revoked, grants_leaked; /* non-persistent mode */
	/* responses to indirect requests whose operation was
	 * BLKIF_OP_INDIRECT rather than the indirect_op (Linux's blkback
	 * answers the latter, and Linux's blkfront refuses the former) */
	uint64_t rsp_op_indirect;
};

struct blkfront;

/*
 * blkfront_connect - wait for vbd devid (e.g. 51712 for xvda) in the
 * guest's device/vbd/ directory, negotiate with its backend as above and
 * connect. guest and xs stay the caller's and must outlive the result.
 * Returns NULL with errno: ETIMEDOUT (no device, or the backend did not
 * answer), EINTR (*stop was set), ENODEV (the backend closed or reported
 * an error: its message is logged), or a hypervisor error.
 */
struct blkfront *blkfront_connect(struct hv *guest, struct xsg *xs,
				  uint32_t devid,
				  const struct blkfront_opts *opts);

/* blkfront_info - what was negotiated (valid until blkfront_free). */
const struct blkfront_info *blkfront_info(const struct blkfront *bf);
/* blkfront_get_stats - the counters. */
void blkfront_get_stats(const struct blkfront *bf, struct blkfront_stats *st);

/*
 * blkfront_read / blkfront_write - len bytes at byte offset off; both
 * multiples of the sector size, within the disk (-EINVAL otherwise);
 * write on a read-only disk: -EROFS. -EIO when the backend answered an
 * error for any part, -ENOTCONN when the device is closed or broken (a
 * ring the backend corrupted, a timeout, the backend gone).
 */
int blkfront_read(struct blkfront *bf, uint64_t off, void *buf, size_t len);
int blkfront_write(struct blkfront *bf, uint64_t off, const void *buf,
		   size_t len);
/* blkfront_flush - BLKIF_OP_FLUSH_DISKCACHE (or a barrier when that is
 * all the backend has); 0 without either (nothing to flush). */
int blkfront_flush(struct blkfront *bf);
/* blkfront_discard - BLKIF_OP_DISCARD of a sector-aligned byte range;
 * -EOPNOTSUPP when the backend does not offer it. */
int blkfront_discard(struct blkfront *bf, uint64_t off, uint64_t len);

/*
 * blkfront_on_watch - give blkfront a xenstore watch event of the guest's
 * xsg handle. Returns 0 when it was not ours or nothing changed, 1 when
 * the backend is closing the device (a toolstack detach, libxl style):
 * blkfront has then switched to Closed and refuses I/O (-ENOTCONN); the
 * caller stops using it and calls blkfront_free().
 */
int blkfront_on_watch(struct blkfront *bf, const char *path, const char *token);
/* blkfront_closed - 1 once the device was closed (by either side). */
int blkfront_closed(const struct blkfront *bf);

/*
 * blkfront_free - close (if still connected: Closing, wait for the
 * backend to close, Closed), revoke the grants once the backend has
 * unmapped them, free. NULL-safe.
 */
void blkfront_free(struct blkfront *bf);

/* blkfront_vdev_to_devid - xl's names (xvda, hdb, sdc, xvdb1, or a
 * number) to the vbd device id. 0 or -EINVAL. */
int blkfront_vdev_to_devid(const char *vdev, uint32_t *out);

#endif /* SPLITDRV_TOOLS_BLKFRONT_H */
