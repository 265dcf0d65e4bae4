/*
 * xenbus-be.h - the xenbus backend framework shared by blkback and netback.
 *
 * It watches /local/domain/<backend-domid>/backend/<type>/ in xenstore, makes
 * one device object per <frontend-domid>/<devid> the toolstack creates, and
 * walks each device through the xenbus state machine of <xen/io/xenbus.h>
 * (the diagram and the decision are in xenbus-be-fsm.h):
 *
 *   Initialising -> InitWait (probe() ok) -> Connected (connect() ok)
 *   -> Closing (disconnect()) -> Closed (once the disconnect finished)
 *   -> InitWait again when the frontend comes back, or remove() when the
 *   toolstack set online=0 or removed the directory.
 *
 * The driver only says what it does in each phase; the framework decides
 * the transitions (only legal ones, along the shortest path) and writes
 * the backend's "state". Values read from the frontend's directory are
 * guest input: the frontend state is parsed and range-checked here; the
 * driver validates the rest (ring refs, ports, protocol) itself.
 *
 * xenstore is reached through Debian's libxenstore (a dom0 socket client
 * of our xenstored, or of any xenstored). One xbe per device type.
 */
#ifndef SPLITDRV_XENBUS_BE_H
#define SPLITDRV_XENBUS_BE_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "hv.h"

struct xbe;

struct xbe_device {
	struct xbe *xbe;
	domid_t fdomid;
	uint32_t devid;
	char be_path[128]; /* /local/domain/<bd>/backend/<type>/<fd>/<devid> */
	char fe_path[128]; /* the frontend directory the toolstack named */
	enum xenbus_state be_state, fe_state; /* Connected: connect() ok and
						 no disconnect() since */
	bool online;
	void *priv;    /* the driver's */
	char name[48]; /* "<type>/<fdomid>/<devid>" for logs */
};

struct xbe_driver_ops {
	/* probe - a new device: read the backend's configuration, write
	 * feature keys (in a transaction of your own), allocate priv.
	 * 0 moves it to InitWait; -errno closes it and writes "error".
	 * 1: it goes on in the background (e.g. a slow storage server):
	 * call xbe_probed() when it is over; meanwhile the device stays
	 * Initialising and its frontend is not watched. remove() may come
	 * first (the toolstack gave up): then cancel and never call it. */
	int (*probe)(struct xbe_device *d);
	/* connect - the frontend is Initialised or Connected: read its ring
	 * refs / ports / protocol, map and start serving. 0 moves the device
	 * to Connected; -errno to Closing (with "error" written). */
	int (*connect)(struct xbe_device *d);
	/* disconnect - stop serving (the frontend is closing, or the device
	 * goes away). Return 0 when no grant of the frontend is mapped any
	 * more, or 1 when that happens later (I/O still in flight): then call
	 * xbe_disconnected() when it has; the framework holds the Closed
	 * state (and remove()) until then. */
	int (*disconnect)(struct xbe_device *d);
	/* remove - the device is gone: free priv. */
	void (*remove)(struct xbe_device *d);
};

/*
 * xbe_new - serve backend/<type> of backend_domid (0 in dom0). The xs
 * handle is used from the event loop's thread only; the framework owns
 * a watch on it (its fd is added to base). NULL with errno.
 */
struct xbe *xbe_new(struct event_base *base, struct xs_handle *xs,
		    domid_t backend_domid, const char *type,
		    const struct xbe_driver_ops *ops, void *arg);
/* xbe_free - disconnect and remove every device, drop the watches. It
 * does not wait for disconnects that return 1: drain I/O before. */
void xbe_free(struct xbe *x);
void *xbe_arg(const struct xbe *x);
struct xs_handle *xbe_xs(const struct xbe *x);

/*
 * Helpers for drivers: read a key of the backend or frontend directory.
 * xbe_read_* return 0 or -errno: xenstore's own (-ENOENT missing,
 * -EACCES, -EIO, ...) or -EINVAL (unparsable or out of [min, max]).
 * Strings are malloc'd.
 */
int xbe_read_be_uint(struct xbe_device *d, const char *key, unsigned long min,
		     unsigned long max, unsigned long *out);
int xbe_read_fe_uint(struct xbe_device *d, const char *key, unsigned long min,
		     unsigned long max, unsigned long *out);
int xbe_read_be_str(struct xbe_device *d, const char *key, char **out);
int xbe_read_fe_str(struct xbe_device *d, const char *key, char **out);
/* xbe_write_be - write key=value in the backend directory (tx may be
 * XBT_NULL). 0 or -errno. */
int xbe_write_be(struct xbe_device *d, xs_transaction_t tx, const char *key,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * xbe_transaction - run fill(d, t, arg) inside a xenstore transaction and
 * commit; retried (a few times) when the commit conflicts. fill returns 0
 * or -errno (then the transaction is aborted). 0 or -errno.
 */
int xbe_transaction(struct xbe_device *d,
		    int (*fill)(struct xbe_device *d, xs_transaction_t t,
				void *arg),
		    void *arg);
/* xbe_error - write "error" (and log) as Linux's xenbus_dev_fatal does:
 * "<errno> <what failed>: <strerror(errno)>"; fmt says what failed. */
void xbe_error(struct xbe_device *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* xbe_probed - a probe that returned 1 is over: r as probe() would have
 * returned it (on -errno the driver has freed priv already). */
void xbe_probed(struct xbe_device *d, int r);
/* xbe_disconnected - a disconnect that returned 1 has completed. */
void xbe_disconnected(struct xbe_device *d);
/*
 * xbe_domain_dead - the frontend domain domid is dead (the hypervisor
 * said so): every device of it is disconnected at once (rings stopped,
 * grants unmapped, ports unbound), set Closed and removed, as Linux's
 * backends do when their frontend vanishes, whatever its xenbus state
 * says. The device objects stay (out of xbe_foreach) until the toolstack
 * removes their backend directories. Returns how many devices it tore
 * down.
 */
unsigned int xbe_domain_dead(struct xbe *x, domid_t domid);
/* xbe_device_count - devices currently known. */
unsigned int xbe_device_count(const struct xbe *x);
/* xbe_foreach - call fn for every device (for stats). */
void xbe_foreach(struct xbe *x, void (*fn)(struct xbe_device *d, void *arg),
		 void *arg);

#endif /* SPLITDRV_XENBUS_BE_H */
