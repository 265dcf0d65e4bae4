/*
 * ops.h - the op table and its handlers; path canonicalisation (ops.c).
 */
#ifndef XENSTORED_OPS_H
#define XENSTORED_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "xenstored/util.h"

struct xs_store;
struct xs_conn;
struct xs_txn;

/* One request: the header and the private payload copy. */
struct xs_req {
	struct xs_conn *conn;
	struct xsd_sockmsg hdr;
	const char *data;
	uint32_t len;
	struct xs_txn *tx;   /* the transaction named by tx_id, or NULL */
	struct xs_buf reply; /* a handler's reply payload */
	/* WATCH: the initial event follows the reply */
	const char *watch_path, *watch_token;
};

#define XS_OP_PRIV   0x1 /* privileged connections only */
#define XS_OP_NOTX   0x2 /* tx_id is ignored */
#define XS_OP_WRITES 0x4 /* changes the store */

struct xs_op {
	const char *name;
	int (*handler)(struct xs_req *req);
	unsigned flags;
};

/*
 * xs_server_features - the XENSTORE_SERVER_FEATURE_* bits this xenstored
 * serves (ERROR, WATCHDEPTH, DOMID_ANY): a domain's ring page gets its
 * struct xs_domain's features, these unless XS_SET_FEATURE took some
 * away; the ring transport ORs in what it serves itself (RECONNECTION).
 */
unsigned xs_server_features(void);
/* xs_op_name - the wire type's name ("WRITE"), "?" if unknown. */
const char *xs_op_name(uint32_t type);
/*
 * xs_dispatch - handle one request: checks type, privilege and the
 * transaction, calls the handler, journals, queues the reply or XS_ERROR.
 */
void xs_dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr,
		 const char *data);
/* xs_errno_name - the xsd_errors name for errno e ("EINVAL" if none). */
const char *xs_errno_name(int e);
/*
 * xs_canonicalize - resolve a client path (relative ones under
 * /local/domain/<domid>) into out (XENSTORE_ABS_PATH_MAX + 1 bytes) and
 * validate it. allow_special accepts @names. *strip gets the prefix length
 * added for a relative path. 0 or -EINVAL.
 */
int xs_canonicalize(const struct xs_store *st, uint32_t domid, const char *in,
		    bool allow_special, char *out, size_t *strip);

#endif /* XENSTORED_OPS_H */
