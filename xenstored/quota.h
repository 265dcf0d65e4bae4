/*
 * quota.h - quota table with C xenstored's names and defaults (quota.c).
 */
#ifndef XENSTORED_QUOTA_H
#define XENSTORED_QUOTA_H


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

#endif /* XENSTORED_QUOTA_H */
