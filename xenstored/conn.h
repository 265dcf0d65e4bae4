/*
 * conn.h - connections: transport ops, xsd_sockmsg framing, queues.
 *   conn.c   a connection: create, free, transaction lookup
 *   queue.c  its output: replies and events queued, flushed
 *   input.c  its input: requests framed and handed to xs_dispatch()
 */
#ifndef XENSTORED_CONN_H
#define XENSTORED_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <xen/io/xs_wire.h>

#include "xenstored/watch.h"

struct xs_store;
struct xs_txn;

/*
 * A transport. read/write return bytes moved (0: would block) or -errno
 * (the connection is gone). can_read/can_write say whether the transport
 * has room now (a socket always says yes and lets read return 0).
 * kick: output was queued, arrange for xs_conn_flush() to be called.
 * destroy: free the transport's state (called once, from xs_conn_free).
 */
struct xs_conn_ops {
	ssize_t (*read)(struct xs_conn *c, void *buf, size_t len);
	ssize_t (*write)(struct xs_conn *c, const void *buf, size_t len);
	bool (*can_read)(struct xs_conn *c);
	bool (*can_write)(struct xs_conn *c);
	void (*kick)(struct xs_conn *c);
	void (*destroy)(struct xs_conn *c);
};

struct xs_msg {
	TAILQ_ENTRY(xs_msg) link;
	bool is_event;
	uint32_t len;     /* header + payload */
	uint64_t req_end; /* a reply: the conn's in_pos after its request */
	char data[];      /* struct xsd_sockmsg then payload */
};

struct xs_conn {
	const struct xs_conn_ops *ops;
	void *priv;
	struct xs_store *st;
	uint32_t domid;
	bool privileged;   /* dom0 tools (socket) */
	bool readonly;     /* socket_ro: reads and watches only */
	bool keep_watches; /* a ring: its watches are journalled, restored */
	int target;        /* domid this connection may act for, -1 */
	uint64_t id;       /* for logs and memreport */

	/* input: the header, then a private copy of the payload, in a
	 * buffer of hdr.len + 1 (a NUL guard) allocated once the header is
	 * whole and freed with the request: an idle connection (a thousand
	 * guests' rings) holds no input buffer */
	struct xsd_sockmsg hdr;
	uint32_t hdr_got;
	char *in; /* NULL until hdr is whole (xs_conn_alloc_in()) */
	uint32_t in_got;
	uint64_t in_pos; /* input bytes framed since the stream (re)started */

	/* output */
	TAILQ_HEAD(xs_msg_list, xs_msg) out;
	uint32_t out_off;
	unsigned outstanding; /* replies queued, not yet written */
	size_t out_bytes;
	/* a privileged client's bound on out_bytes (0: none): past it its
	 * input is not read, and a watch event past it sets overflow (its
	 * transport drops it); unprivileged ones have quota "output" */
	size_t out_max;

	TAILQ_HEAD(, xs_txn) txns;
	unsigned ntxns;
	uint32_t next_txid;
	struct xs_watch_list watches;
	unsigned nwatches;

	bool closing;  /* protocol error or released: drop after flushing */
	bool overflow; /* watch events past its output bound: stop it */

	/* a read buffer, so that one read(2) serves many small requests:
	 * XS_CONN_RBUF bytes while input is buffered, else NULL */
	char *rbuf;
	uint32_t rlen, roff;
	bool drained; /* this input pass's last read was short */
	uint64_t nreq;
	TAILQ_ENTRY(xs_conn) link;
};

#define XS_CONN_RBUF 8192

/* xs_conn_new - a connection on transport ops with private state priv.
 * NULL with errno. */
struct xs_conn *xs_conn_new(struct xs_store *st, const struct xs_conn_ops *ops,
			    void *priv, uint32_t domid, bool privileged);
/* xs_conn_free - drop transactions, watches, queues; destroy transport. */
void xs_conn_free(struct xs_conn *c);
/* xs_conn_drop_session - forget the connection's watches and
 * transactions (a ring reconnection, XS_RESET_WATCHES). */
void xs_conn_drop_session(struct xs_conn *c);
/*
 * xs_conn_drop_stream - forget a request read in part, a message written
 * in part and every queued reply (and watch event, unless keep_events):
 * the stream restarts on a message boundary (the ring was reset).
 */
void xs_conn_drop_stream(struct xs_conn *c, bool keep_events);
/*
 * xs_conn_input - read and handle every complete request the transport
 * has (stops while the outstanding-request quota is reached).
 * 0, or -errno when the connection must be closed.
 */
int xs_conn_input(struct xs_conn *c);
/* xs_conn_flush - write queued output; 0, or -errno (closed). */
int xs_conn_flush(struct xs_conn *c);
/* xs_conn_queue - queue one message (reply or event). 0 or -ENOMEM. */
int xs_conn_queue(struct xs_conn *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *data, size_t len, bool is_event);
/* xs_conn_can_read - may input be read now (transport + outstanding). */
bool xs_conn_can_read(struct xs_conn *c);
struct xs_txn *xs_conn_find_txn(struct xs_conn *c, uint32_t id);
/*
 * xs_conn_alloc_in / xs_conn_alloc_rbuf - the payload buffer for c->hdr
 * (whole) and the read buffer (XS_CONN_RBUF), if not there yet: for
 * input put back after a restart or a live update. 0 or -ENOMEM.
 */
int xs_conn_alloc_in(struct xs_conn *c);
int xs_conn_alloc_rbuf(struct xs_conn *c);

#endif /* XENSTORED_CONN_H */
