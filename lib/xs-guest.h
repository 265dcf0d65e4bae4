/*
 * xs-guest.h - the guest side of the xenstore ring, for loopback frontends.
 *
 * What a guest kernel's xenbus does: it owns a struct
 * xenstore_domain_interface page in its RAM, sends xsd_sockmsg requests on
 * the req ring, reads replies and watch events from the rsp ring, and
 * notifies xenstored through the store event channel. The page frame and
 * the port are published as HVM_PARAM_STORE_PFN / HVM_PARAM_STORE_EVTCHN,
 * where a toolstack reads them for XS_INTRODUCE.
 *
 * Calls block (poll on the event channel) up to the handle's timeout; watch
 * events that arrive meanwhile are queued for xsg_next_watch(). One thread.
 * Returns: 0 or -errno, where a daemon's XS_ERROR reply "EACCES" etc. is
 * the matching -errno (its xsd_errors name).
 */
#ifndef SPLITDRV_XS_GUEST_H
#define SPLITDRV_XS_GUEST_H

#include <stdint.h>

#include "hv.h"

struct xsg;

/*
 * xsg_open - set up the ring in frame of the guest's RAM (a reserved frame
 * below 16, e.g. 1), allocate the store event channel (unbound, for
 * xenstored's domain backend_domid, usually 0) and publish both as HVM
 * params. NULL with errno.
 */
struct xsg *xsg_open(struct hv *guest, uint64_t frame, domid_t backend_domid);
void xsg_close(struct xsg *x);
/* xsg_port - the guest's store event channel port. */
evtchn_port_t xsg_port(const struct xsg *x);
/* xsg_fd - readable when a reply or a watch event may be there. */
int xsg_fd(const struct xsg *x);
void xsg_set_timeout(struct xsg *x, int timeout_ms);
/* xsg_set_max_chunk - write requests into the ring at most bytes at a
 * time (0: as much as fits), each chunk notified as Linux's xenbus does:
 * only when xenstored had caught up. For tests of lost wake-ups. */
void xsg_set_max_chunk(struct xsg *x, uint32_t bytes);
/* xsg_kick - notify xenstored (for callers that wrote the ring by hand,
 * e.g. tests of a hostile guest). 0 or -errno. */
int xsg_kick(struct xsg *x);

/*
 * xsg_port_in_page - what Xen does for a dom0less domain: allocate another
 * store event channel (unbound, for backend_domid), write it into the
 * ring page's evtchn_port field and use it from now on. Call before the
 * domain is introduced. 0 or -errno.
 */
int xsg_port_in_page(struct xsg *x, domid_t backend_domid);
/*
 * xsg_reconnect - the ring reconnection of xenstore-ring.txt: set
 * connection = XENSTORE_RECONNECT, notify, wait (up to the timeout) for
 * xenstored to set it back to XENSTORE_CONNECTED. Watch events queued
 * here are dropped with the old connection. -EOPNOTSUPP when xenstored
 * does not offer the feature.
 */
int xsg_reconnect(struct xsg *x);

/*
 * xsg_request - one request (type of enum xsd_sockmsg_type, transaction
 * tx_id, payload of len bytes), wait for its reply. *reply (malloc'd,
 * NUL-terminated after *reply_len bytes) may be NULL if not wanted.
 */
int xsg_request(struct xsg *x, uint32_t type, uint32_t tx_id,
		const void *payload, uint32_t len, char **reply,
		uint32_t *reply_len);

int xsg_read(struct xsg *x, uint32_t tx, const char *path, char **val);
int xsg_write(struct xsg *x, uint32_t tx, const char *path, const char *val);
int xsg_mkdir(struct xsg *x, uint32_t tx, const char *path);
int xsg_rm(struct xsg *x, uint32_t tx, const char *path);
/* xsg_directory - children as one malloc'd buffer of NUL-separated names;
 * *n is their count. */
int xsg_directory(struct xsg *x, uint32_t tx, const char *path, char **names,
		  unsigned int *n);
int xsg_watch(struct xsg *x, const char *path, const char *token);
int xsg_unwatch(struct xsg *x, const char *path, const char *token);
int xsg_transaction_start(struct xsg *x, uint32_t *tx);
/* xsg_transaction_end - commit (or abort); -EAGAIN when it conflicted. */
int xsg_transaction_end(struct xsg *x, uint32_t tx, int commit);
int xsg_get_domain_path(struct xsg *x, domid_t domid, char **path);
/* xsg_read_ulong - dir/key as an unsigned decimal number: 0, the read's
 * -errno, or -EINVAL when it is not one. */
int xsg_read_ulong(struct xsg *x, uint32_t tx, const char *dir, const char *key,
		   unsigned long long *val);
/* xsg_printf - write dir/key = the formatted value (up to 63 chars). */
int xsg_printf(struct xsg *x, uint32_t tx, const char *dir, const char *key,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * xsg_next_watch - a queued watch event (path and token malloc'd, the
 * caller frees), reading the ring without blocking; -EAGAIN when none.
 */
int xsg_next_watch(struct xsg *x, char **path, char **token);
/* xsg_wait_watch - like xsg_next_watch but waits up to the timeout. */
int xsg_wait_watch(struct xsg *x, char **path, char **token);

#endif /* SPLITDRV_XS_GUEST_H */
