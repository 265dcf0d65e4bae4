/*
 * quota.c - per-domain limits, with C xenstored's names and defaults.
 *
 * Quotas apply to unprivileged domains only (dom0's tools are exempt, as
 * in C xenstored). Over-quota requests fail with the errno C xenstored 4.17
 * gives: ENOSPC for nodes, node size, permissions, transactions and
 * nodes touched by one transaction, E2BIG for watches; the outstanding-request quota does not fail anything, it
 * stops reading from the connection until replies drain. "output" is
 * ours: a domain that does not read its ring while watch events pile up
 * past it is stopped (its ring quarantined), so that it cannot make us
 * queue without bound. "memory" (C's hard memory quota, ENOMEM as C
 * gives) bounds the bytes of the nodes a domain owns; the accounting
 * behind it is at the end of this file.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "xenstored/quota.h"

static const struct {
	const char *name;
	const char *descr;
	unsigned def;
} quota_tab[XS_Q_COUNT] = {
	[XS_Q_NODES] = { "nodes", "Nodes per domain", 1000 },
	[XS_Q_WATCHES] = { "watches", "Watches per domain", 128 },
	[XS_Q_TRANSACTIONS] = { "transactions", "Transactions per domain", 10 },
	[XS_Q_OUTSTANDING] = { "outstanding", "Outstanding requests per domain",
			       20 },
	[XS_Q_TRANS_NODES] = { "transaction-nodes",
			       "Max. number of accessed nodes per transaction",
			       1024 },
	[XS_Q_NODE_SIZE] = { "node-size", "Max. size of a node", 2048 },
	[XS_Q_PATH_MAX] = { "path-max", "Max. length of a node path",
			    XENSTORE_REL_PATH_MAX },
	[XS_Q_PERMS] = { "permissions", "Max. number of permissions per node",
			 5 },
	/* ours, not C xenstored's: it bounds the same thing with its
	 * memory quota and a watch-event timeout */
	[XS_Q_OUTPUT] = { "output",
			  "Max. bytes of replies and watch events queued",
			  2u << 20 },
	/* C xenstored's hard memory quota (its soft one only logs) */
	[XS_Q_MEMORY] = { "memory", "Max. bytes of nodes a domain owns",
			  (2u << 20) + (512u << 10) },
};

/* xs_quota_defaults - C xenstored's defaults. */
void xs_quota_defaults(struct xs_quota *q)
{
	int i;

	for (i = 0; i < XS_Q_COUNT; i++)
		q->val[i] = quota_tab[i].def;
}

/* xs_quota_name - the quota's name as XS_CONTROL and --quota spell it. */
const char *xs_quota_name(enum xs_quota_id id)
{
	return (unsigned)id < XS_Q_COUNT ? quota_tab[id].name : NULL;
}

/* xs_quota_descr - one-line description. */
const char *xs_quota_descr(enum xs_quota_id id)
{
	return (unsigned)id < XS_Q_COUNT ? quota_tab[id].descr : NULL;
}

/* xs_quota_id - the quota called name; "node-permissions" (C xenstored
 * 4.21's name) is "permissions". -EINVAL if none. */
int xs_quota_id(const char *name)
{
	int i;

	if (strcmp(name, "node-permissions") == 0)
		return XS_Q_PERMS;
	for (i = 0; i < XS_Q_COUNT; i++)
		if (strcmp(name, quota_tab[i].name) == 0)
			return i;
	return -EINVAL;
}

/* xs_quota_set - set by name; value must be 1..2^31-1. 0 or -EINVAL. */
int xs_quota_set(struct xs_quota *q, const char *name, const char *value)
{
	unsigned long v;
	char *end;
	int i;

	if (!value || !*value)
		return -EINVAL;
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || *end || v < 1 || v > 0x7fffffffUL || value[0] == '-')
		return -EINVAL;
	i = xs_quota_id(name);
	if (i < 0 || (i == XS_Q_PATH_MAX && v > XENSTORE_REL_PATH_MAX))
		return -EINVAL;
	q->val[i] = (unsigned)v;
	return 0;
}

/* xs_quota_parse_arg - "name=value"; 0 or -EINVAL. */
int xs_quota_parse_arg(struct xs_quota *q, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[32];

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return -EINVAL;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	return xs_quota_set(q, name, eq + 1);
}

/* ---- the memory quota's accounting ------------------------------------ */

#define MEM_NDOMIDS 65536

/* xs_quota_node_mem - a node's charge: path, value, permissions (8 bytes
 * each, as C's records hold them), children's names, and a record
 * header. */
size_t xs_quota_node_mem(size_t pathlen, uint32_t vlen, uint32_t nperms,
			 uint32_t childlen)
{
	return pathlen + 1 + vlen + (size_t)nperms * 8 + childlen + 16;
}

/* xs_mem_acct_add - see quota.h. */
void xs_mem_acct_add(struct xs_mem_acct *a, uint32_t domid, long delta)
{
	uint32_t *b;

	if (domid >= MEM_NDOMIDS || delta == 0)
		return;
	if (!a->bytes) {
		a->bytes = calloc(MEM_NDOMIDS, sizeof(*a->bytes));
		if (!a->bytes)
			return;
	}
	b = &a->bytes[domid];
	if (delta < 0)
		*b = (unsigned long)-delta >= *b ? 0 : *b - (uint32_t)-delta;
	else
		*b = (unsigned long)delta >= UINT32_MAX - *b
			     ? UINT32_MAX
			     : *b + (uint32_t)delta;
}

/* xs_mem_acct_get - the bytes domid owns. */
uint32_t xs_mem_acct_get(const struct xs_mem_acct *a, uint32_t domid)
{
	return a->bytes && domid < MEM_NDOMIDS ? a->bytes[domid] : 0;
}

void xs_mem_acct_free(struct xs_mem_acct *a)
{
	free(a->bytes);
	a->bytes = NULL;
}

/* xs_mem_quota_exceeded - see quota.h. */
bool xs_mem_quota_exceeded(const struct xs_quota *q, const struct xs_mem_acct *a,
			   uint32_t domid, long delta)
{
	return delta > 0 &&
	       (unsigned long)xs_mem_acct_get(a, domid) + (unsigned long)delta >
		       q->val[XS_Q_MEMORY];
}
