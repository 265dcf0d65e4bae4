/*
 * quota.h - quota table with C xenstored's names and defaults (quota.c).
 */
#ifndef XENSTORED_QUOTA_H
#define XENSTORED_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xs_quota_id {         /* in C xenstored 4.17's order and names */
	XS_Q_NODES,        /* "nodes": nodes per domain */
	XS_Q_WATCHES,      /* "watches": watches per domain */
	XS_Q_TRANSACTIONS, /* "transactions": transactions per connection */
	XS_Q_OUTSTANDING,  /* "outstanding": outstanding requests */
	XS_Q_TRANS_NODES, /* "transaction-nodes": nodes one transaction touches */
	XS_Q_NODE_SIZE,   /* "node-size": bytes per node */
	XS_Q_PATH_MAX, /* "path-max": path length below /local/domain/<id>/ */
	XS_Q_PERMS,    /* "permissions": permissions per node */
	XS_Q_OUTPUT,   /* "output": bytes of watch events queued per domain */
	XS_Q_MEMORY,   /* "memory": bytes of nodes a domain owns (C's hard
			* memory quota) */
	XS_Q_COUNT
};

struct xs_quota {
	unsigned val[XS_Q_COUNT];
};

/* xs_quota_defaults - C xenstored's defaults (1000, 128, 10, 20, 2048,
 * XENSTORE_REL_PATH_MAX, 5). */
void xs_quota_defaults(struct xs_quota *q);
const char *xs_quota_name(enum xs_quota_id id);
const char *xs_quota_descr(enum xs_quota_id id);
/* xs_quota_id - the quota called name (also "node-permissions"), or
 * -EINVAL. */
int xs_quota_id(const char *name);
/* xs_quota_set - set by name; value must be >= 1. 0 or -EINVAL. */
int xs_quota_set(struct xs_quota *q, const char *name, const char *value);
/* xs_quota_parse_arg - "name=value" (the --quota option). 0 or -EINVAL. */
int xs_quota_parse_arg(struct xs_quota *q, const char *arg);

/*
 * The "memory" quota's accounting: bytes per owner domid (perms[0]) of
 * the nodes it owns. A node costs what C xenstored charges for its
 * record: its path, value, permissions and the names of its children
 * (so a child's name is charged to its parent's owner). The tree keeps
 * one (tree.c); ops.c checks an unprivileged domain's writes against it.
 */
struct xs_mem_acct {
	uint32_t *bytes; /* [65536] by domid, allocated on first use */
};

/* xs_quota_node_mem - the bytes a node is charged. */
size_t xs_quota_node_mem(size_t pathlen, uint32_t vlen, uint32_t nperms,
			 uint32_t childlen);
/* xs_mem_acct_add - domid owns delta more bytes (delta may be negative;
 * never below 0). Domids past 0xffff and allocation failures are not
 * counted. */
void xs_mem_acct_add(struct xs_mem_acct *a, uint32_t domid, long delta);
/* xs_mem_acct_get - the bytes domid owns. */
uint32_t xs_mem_acct_get(const struct xs_mem_acct *a, uint32_t domid);
void xs_mem_acct_free(struct xs_mem_acct *a);
/* xs_mem_quota_exceeded - would domid owning delta more bytes pass the
 * memory quota in q? (C xenstored answers ENOMEM then.) */
bool xs_mem_quota_exceeded(const struct xs_quota *q, const struct xs_mem_acct *a,
			   uint32_t domid, long delta);

#endif /* XENSTORED_QUOTA_H */
