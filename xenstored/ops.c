/*
 * ops.c - the xenstore operations: one table indexed by wire type.
 *
 * xs_dispatch() does what is common: the type is known, the connection is
 * allowed (XS_OP_PRIV), the transaction named by tx_id exists. Handlers
 * parse their own arguments from the request's private payload copy and
 * return 0 (reply in req->reply, "OK" if empty) or -errno, which becomes
 * an XS_ERROR carrying the errno's xsd_errors name.
 *
 * Semantics follow Xen's docs/misc/xenstore.txt and C xenstored: relative
 * paths are under /local/domain/<domid>; a client that may not read a
 * node's parent is told EACCES rather than ENOENT; created nodes inherit
 * their parent's permissions, owned by the creating unprivileged domain.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <xen/xen.h>

#include "log.h"
#include "xs-wire-compat.h"
#include "xenstored/conn.h"
#include "xenstored/control.h"
#include "xenstored/domain.h"
#include "xenstored/ops.h"
#include "xenstored/txn.h"
#include "xenstored/watch.h"
#include "xenstored/xenstored.h"

#define PATHBUF (XENSTORE_ABS_PATH_MAX + 2)

/* xs_errno_name - the xsd_errors name for errno e ("EINVAL" if none). */
const char *xs_errno_name(int e)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == e)
			return xsd_errors[i].errstring;
	return "EINVAL";
}

static bool valid_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '/' ||
		      *s == '_' || *s == '@'))
			return false;
	return true;
}

/* xs_canonicalize - resolve and validate a client path. */
int xs_canonicalize(const struct xs_store *st, uint32_t domid, const char *in,
		    bool allow_special, char *out, size_t *strip)
{
	size_t len = strlen(in), off = 0;
	unsigned dom;
	int n, local_off = 0;

	if (strip)
		*strip = 0;
	if (in[0] == '@') {
		if (!allow_special || len > XENSTORE_REL_PATH_MAX ||
		    !valid_chars(in))
			return -EINVAL;
		memcpy(out, in, len + 1);
		return 0;
	}
	if (in[0] != '/') {
		if (len == 0)
			return -EINVAL;
		n = snprintf(out, PATHBUF, "/local/domain/%u/", domid);
		off = (size_t)n;
		if (strip)
			*strip = off;
	}
	if (off + len > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	memcpy(out + off, in, len + 1);
	len += off;
	if (len > 1 && out[len - 1] == '/')
		return -EINVAL;
	if (strstr(out, "//") || !valid_chars(out))
		return -EINVAL;
	if (sscanf(out, "/local/domain/%5u/%n", &dom, &local_off) != 1)
		local_off = 0;
	if (len > (size_t)local_off + xs_domain_quota((struct xs_store *)st,
						      domid, XS_Q_PATH_MAX))
		return -EINVAL;
	return 0;
}

/* ---- argument helpers ------------------------------------------------- */

/* Number of NUL-terminated strings in the payload. */
static unsigned count_strings(const struct xs_req *r)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < r->len; i++)
		if (r->data[i] == '\0')
			n++;
	return n;
}

/* Exactly one string, terminated at the end of the payload. */
static const char *onearg(const struct xs_req *r)
{
	if (r->len == 0 || r->data[r->len - 1] != '\0' ||
	    strlen(r->data) != r->len - 1)
		return NULL;
	return r->data;
}

/* The first n strings into v (the payload must hold at least n). */
static int get_strings(const struct xs_req *r, const char **v, unsigned n)
{
	uint32_t off = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		const char *nul;

		if (off >= r->len)
			return -EINVAL;
		nul = memchr(r->data + off, '\0', r->len - off);
		if (!nul)
			return -EINVAL;
		v[i] = r->data + off;
		off = (uint32_t)(nul - r->data) + 1;
	}
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned long d = (unsigned long)(*s - '0');

		if (*s < '0' || *s > '9' || v > (max - d) / 10)
			return -EINVAL; /* not a number, or over max */
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_domid(const char *s, uint32_t *domid)
{
	unsigned long v;

	if (!s || parse_uint(s, 0xffff, &v))
		return -EINVAL;
	*domid = (uint32_t)v;
	return 0;
}

static int reply_ok(struct xs_req *r)
{
	return xs_buf_addstr(&r->reply, "OK");
}

static int reply_uint(struct xs_req *r, unsigned long v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lu", v);
	return xs_buf_addstr(&r->reply, s);
}

/* The caller's quota id (its domain's own, or the global one). */
static unsigned quota(const struct xs_req *r, enum xs_quota_id id)
{
	return xs_domain_quota(r->conn->st, r->conn->domid, id);
}

/* Does the caller have server feature f (dom0's tools have them all)? */
static bool has_feature(const struct xs_req *r, unsigned f)
{
	return r->conn->privileged ||
	       (xs_domain_features(r->conn->st, r->conn->domid) & f);
}

/* ---- node access with C xenstored's errno rules ---------------------- */

static unsigned rights(const struct xs_conn *c, const struct xs_perm *p,
		       unsigned np)
{
	return xs_perms_for(p, np, c->domid, c->privileged, c->target);
}

/*
 * The nearest existing ancestor of path in the request's view; its path
 * is left in anc (a PATHBUF buffer). 0 or -errno.
 */
static int nearest_ancestor(struct xs_req *r, const char *path, char *anc,
			    struct xs_nodeinfo *ni)
{
	char *slash;
	int rc;

	snprintf(anc, PATHBUF, "%s", path);
	for (;;) {
		slash = strrchr(anc, '/');
		if (!slash)
			return -EINVAL;
		if (slash == anc)
			slash[1] = '\0';
		else
			*slash = '\0';
		rc = xs_db_get(r->conn->st, r->tx, anc, ni);
		if (rc != -ENOENT || strcmp(anc, "/") == 0)
			return rc;
	}
}

/* A missing node is reported as EACCES unless its parent grants want. */
static int errno_from_parents(struct xs_req *r, const char *path, int err,
			      unsigned want)
{
	char anc[PATHBUF];
	struct xs_nodeinfo ni;
	int rc;

	if (err != -ENOENT)
		return err;
	rc = nearest_ancestor(r, path, anc, &ni);
	if (rc)
		return rc;
	return (rights(r->conn, ni.perms, ni.nperms) & want) ? err : -EACCES;
}

/* Canonicalise path and get its node with rights want. */
static int get_node(struct xs_req *r, const char *arg, unsigned want,
		    char *path, struct xs_nodeinfo *ni)
{
	int rc;

	if (!arg)
		return -EINVAL;
	rc = xs_canonicalize(r->conn->st, r->conn->domid, arg, false, path,
			     NULL);
	if (rc)
		return rc;
	rc = xs_db_get(r->conn->st, r->tx, path, ni);
	if (rc == 0) {
		if ((rights(r->conn, ni->perms, ni->nperms) & want) != want)
			return -EACCES;
		return 0;
	}
	return errno_from_parents(r, path, rc, want);
}

static bool unprivileged(const struct xs_conn *c)
{
	return !c->privileged;
}

/*
 * The memory quota: an unprivileged caller's change that charges owner
 * (a domain other than dom0) delta more bytes, past the quota: ENOMEM,
 * as C xenstored answers. In a transaction the check sees the store as
 * committed (what the transaction adds is charged when it commits).
 */
static int mem_check(const struct xs_req *r, uint32_t owner, long delta)
{
	const struct xs_store *st = r->conn->st;

	if (!unprivileged(r->conn) || owner == 0)
		return 0;
	return xs_mem_quota_exceeded(&st->quota, &st->tree.mem, owner, delta)
		       ? -ENOMEM
		       : 0;
}

/*
 * The bytes creating path's missing nodes below its ancestor (whose path
 * is alen bytes long) charges their owner: each node, and each new name
 * in its parent's list; the first name is the ancestor's owner's, counted
 * only if that is the same domain (own_anc).
 */
static long create_mem(const char *path, size_t alen, uint32_t vlen,
		       uint32_t np, bool own_anc)
{
	size_t i, start = alen + 1;
	long total = 0;
	bool first = true;

	for (i = start; path[i - 1]; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		total += (long)xs_quota_node_mem(i, path[i] ? 0 : vlen, np, 0);
		if (!first || own_anc)
			total += (long)(i - start) + 1;
		first = false;
		start = i + 1;
	}
	return total;
}

/*
 * Create path and any missing ancestors, inheriting the nearest existing
 * ancestor's permissions (owned by the caller when unprivileged).
 */
static int create_path(struct xs_req *r, const char *path, const char *value,
		       uint32_t vlen)
{
	struct xs_store *st = r->conn->st;
	struct xs_conn *c = r->conn;
	char anc[PATHBUF], cur[PATHBUF];
	struct xs_nodeinfo ni;
	struct xs_perm perms[64], *p = perms;
	unsigned missing = 0, np;
	size_t alen, i;
	int rc;

	rc = nearest_ancestor(r, path, anc, &ni);
	if (rc)
		return rc;
	if (!(rights(c, ni.perms, ni.nperms) & XS_P_WRITE))
		return -EACCES;
	np = ni.nperms;
	if (np > sizeof(perms) / sizeof(perms[0])) {
		p = malloc(np * sizeof(*p));
		if (!p)
			return -ENOMEM;
	}
	memcpy(p, ni.perms, np * sizeof(*p));
	if (unprivileged(c))
		p[0].domid = c->domid;
	alen = strlen(anc);
	if (alen == 1)
		alen = 0; /* "/" */
	for (i = alen + 1; path[i - 1]; i++)
		if (path[i] == '/' || path[i] == '\0')
			missing++;
	rc = 0;
	if (unprivileged(c)) {
		uint32_t owned = xs_tree_owned(&st->tree, c->domid) +
				 (r->tx ? r->tx->created : 0);

		if (owned + missing > quota(r, XS_Q_NODES))
			rc = -ENOSPC;
		else if (xs_node_size(vlen, np, 0) >= quota(r, XS_Q_NODE_SIZE))
			rc = -ENOSPC;
		else
			rc = mem_check(r, c->domid,
				       create_mem(path, alen, vlen, np,
						  ni.perms[0].domid ==
							  c->domid));
	}
	/* top-down: each new node under the one made before */
	for (i = alen + 1; rc == 0 && path[i - 1]; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(cur, path, i);
		cur[i] = '\0';
		if (path[i] == '\0') {
			rc = xs_db_create(st, r->tx, cur, value, vlen, p, np);
		} else {
			st->implicit = true;
			rc = xs_db_create(st, r->tx, cur, NULL, 0, p, np);
			st->implicit = false;
		}
	}
	if (p != perms)
		free(p);
	return rc;
}

/* ---- handlers --------------------------------------------------------- */

static int op_read(struct xs_req *r)
{
	char path[PATHBUF];
	struct xs_nodeinfo ni;
	int rc = get_node(r, onearg(r), XS_P_READ, path, &ni);

	if (rc)
		return rc;
	return xs_buf_add(&r->reply, ni.value, ni.vlen);
}

static int op_directory(struct xs_req *r)
{
	char path[PATHBUF];
	struct xs_nodeinfo ni;
	int rc = get_node(r, onearg(r), XS_P_READ, path, &ni);

	if (rc)
		return rc;
	rc = xs_db_children(r->conn->st, r->tx, path, &r->reply);
	if (rc == 0 && r->reply.len > XENSTORE_PAYLOAD_MAX)
		rc = -E2BIG;
	return rc;
}

static int op_directory_part(struct xs_req *r)
{
	char path[PATHBUF], gen[24];
	struct xs_nodeinfo ni;
	struct xs_buf all = { 0 };
	const char *v[2];
	unsigned long off;
	size_t len = 0, genlen;
	int rc;

	if (count_strings(r) != 2 || get_strings(r, v, 2))
		return -EINVAL;
	rc = get_node(r, v[0], XS_P_READ, path, &ni);
	if (rc)
		return rc;
	if (parse_uint(v[1], 0xffffffffUL, &off))
		return -EINVAL;
	rc = xs_db_children(r->conn->st, r->tx, path, &all);
	if (rc) {
		xs_buf_free(&all);
		return rc;
	}
	genlen = (size_t)snprintf(gen, sizeof(gen), "%llu",
				  (unsigned long long)ni.gen) +
		 1;
	rc = xs_buf_add(&r->reply, gen, genlen);
	if (rc == 0 && off < all.len) {
		size_t maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
		const char *child = all.p + off;

		/* whole names only, as many as fit */
		while (off + len < all.len && len + strlen(child) < maxlen) {
			len += strlen(child) + 1;
			child = all.p + off + len;
		}
		rc = xs_buf_add(&r->reply, all.p + off, len);
	}
	/* an empty string ends the list */
	if (rc == 0 && off + len >= all.len)
		rc = xs_buf_add(&r->reply, "", 1);
	xs_buf_free(&all);
	return rc;
}

static int op_get_perms(struct xs_req *r)
{
	const char *arg = onearg(r);
	char path[PATHBUF];
	struct xs_nodeinfo ni;
	int rc;

	if (arg && arg[0] == '@') {
		struct xs_special *sp = xs_store_special(r->conn->st, arg);

		if (!sp)
			return -ENOENT;
		return xs_perms_format(&r->reply, sp->perms, sp->nperms);
	}
	rc = get_node(r, arg, XS_P_READ, path, &ni);
	if (rc)
		return rc;
	return xs_perms_format(&r->reply, ni.perms, ni.nperms);
}

/*
 * The domains a new permission list names need not exist: C xenstored
 * keeps an entry for a domain it does not know (ignoring it), and so do
 * we (the toolstack prepares a guest's nodes before INTRODUCE, owner
 * included; C asks the hypervisor whether an unknown owner exists and
 * says ENOENT, which needs a hypervisor we may not have). DOMID_ANY needs
 * the DOMID_ANY feature: C ignores such an entry from a domain without
 * it, we refuse it (EINVAL) rather than store an entry that GET_PERMS
 * shows and nothing honours.
 */
static int check_perm_domids(const struct xs_req *r, const struct xs_perm *p,
			     unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (p[i].domid == DOMID_ANY &&
		    !has_feature(r, XENSTORE_SERVER_FEATURE_DOMID_ANY))
			return -EINVAL;
	return 0;
}

static int op_set_perms(struct xs_req *r)
{
	struct xs_store *st = r->conn->st;
	unsigned n = count_strings(r);
	struct xs_perm *perms;
	struct xs_nodeinfo ni;
	char path[PATHBUF];
	size_t off;
	int rc;

	if (n < 2 || r->data[r->len - 1] != '\0')
		return -EINVAL;
	n--;
	if (unprivileged(r->conn) && n > quota(r, XS_Q_PERMS))
		return -ENOSPC;
	off = strlen(r->data) + 1;
	perms = calloc(n, sizeof(*perms));
	if (!perms)
		return -ENOMEM;
	rc = xs_perms_parse(r->data + off, r->len - off, n, perms);
	if (rc)
		goto out;
	rc = check_perm_domids(r, perms, n);
	if (rc)
		goto out;
	if (r->data[0] == '@') {
		struct xs_special *sp = xs_store_special(st, r->data);

		rc = -ENOENT;
		if (!sp)
			goto out;
		rc = -EACCES;
		if ((rights(r->conn, sp->perms, sp->nperms) &
		     (XS_P_WRITE | XS_P_OWNER)) != (XS_P_WRITE | XS_P_OWNER))
			goto out;
		rc = -ENOSPC;
		if (n > sizeof(sp->perms) / sizeof(sp->perms[0]))
			goto out;
		memcpy(sp->perms, perms, n * sizeof(*perms));
		sp->nperms = n;
		xs_journal_special(st, sp);
		rc = reply_ok(r);
		goto out;
	}
	rc = get_node(r, r->data, XS_P_WRITE | XS_P_OWNER, path, &ni);
	if (rc)
		goto out;
	rc = -EPERM; /* unprivileged domains may not give nodes away */
	if (unprivileged(r->conn) && perms[0].domid != ni.perms[0].domid)
		goto out;
	rc = mem_check(r, perms[0].domid, ((long)n - (long)ni.nperms) * 8);
	if (rc)
		goto out;
	rc = xs_db_set_perms(st, r->tx, path, perms, n);
	if (rc == 0)
		rc = reply_ok(r);
out:
	free(perms);
	return rc;
}

static int op_write(struct xs_req *r)
{
	struct xs_store *st = r->conn->st;
	char path[PATHBUF];
	struct xs_nodeinfo ni;
	const char *v[1];
	uint32_t off, vlen;
	int rc;

	if (get_strings(r, v, 1))
		return -EINVAL;
	off = (uint32_t)strlen(v[0]) + 1;
	vlen = r->len - off;
	rc = get_node(r, v[0], XS_P_WRITE, path, &ni);
	if (rc == 0) {
		if (unprivileged(r->conn) &&
		    xs_node_size(vlen, ni.nperms, ni.childlen) >=
			    quota(r, XS_Q_NODE_SIZE))
			return -ENOSPC;
		rc = mem_check(r, ni.perms[0].domid, (long)vlen - (long)ni.vlen);
		if (rc)
			return rc;
		rc = xs_db_set_value(st, r->tx, path, r->data + off, vlen);
	} else if (rc == -ENOENT) {
		rc = create_path(r, path, r->data + off, vlen);
	}
	return rc ? rc : reply_ok(r);
}

static int op_mkdir(struct xs_req *r)
{
	char path[PATHBUF];
	struct xs_nodeinfo ni;
	int rc = get_node(r, onearg(r), XS_P_WRITE, path, &ni);

	if (rc == -ENOENT)
		rc = create_path(r, path, NULL, 0);
	return rc ? rc : reply_ok(r);
}

static int op_rm(struct xs_req *r)
{
	char path[PATHBUF], parent[PATHBUF];
	struct xs_nodeinfo ni;
	char *slash;
	int rc = get_node(r, onearg(r), XS_P_WRITE, path, &ni);

	if (rc == -ENOENT) {
		/* already gone: fine if its parent exists */
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		rc = xs_db_get(r->conn->st, r->tx, parent, &ni);
		return rc ? rc : reply_ok(r);
	}
	if (rc)
		return rc;
	if (strcmp(path, "/") == 0)
		return -EINVAL;
	rc = xs_db_rm(r->conn->st, r->tx, path);
	return rc ? rc : reply_ok(r);
}

/*
 * WATCH <path>|<token>|[<depth>|]: the depth (WATCHDEPTH feature) limits
 * the levels below path that fire the watch; extra data after the token
 * is ignored without it, as older clients sent some.
 */
static int op_watch(struct xs_req *r)
{
	char path[PATHBUF];
	const char *v[3];
	unsigned long depth;
	size_t strip;
	int rc, d = -1;

	if (get_strings(r, v, 2))
		return -EINVAL;
	if (count_strings(r) == 3 && get_strings(r, v, 3) == 0 &&
	    r->data[r->len - 1] == '\0') {
		if (!has_feature(r, XENSTORE_SERVER_FEATURE_WATCHDEPTH) ||
		    parse_uint(v[2], 0x7fffffffUL, &depth))
			return -EINVAL;
		d = (int)depth;
	}
	rc = xs_canonicalize(r->conn->st, r->conn->domid, v[0], true, path,
			     &strip);
	if (rc)
		return rc;
	if (unprivileged(r->conn) && r->conn->nwatches >= quota(r, XS_Q_WATCHES))
		return -E2BIG;
	rc = xs_watch_add(r->conn->st, r->conn, path, v[1], strip, d);
	if (rc)
		return rc;
	/* path dies with this frame: the initial event uses the watch's copy
	 * (xs_watch_add appends to the connection's list) */
	r->watch_path = TAILQ_LAST(&r->conn->watches, xs_watch_list)->path;
	r->watch_token = v[1];
	return reply_ok(r);
}

static int op_unwatch(struct xs_req *r)
{
	char path[PATHBUF];
	const char *v[2];
	int rc;

	if (get_strings(r, v, 2))
		return -EINVAL;
	rc = xs_canonicalize(r->conn->st, r->conn->domid, v[0], true, path,
			     NULL);
	if (rc)
		return rc;
	rc = xs_watch_del(r->conn->st, r->conn, path, v[1]);
	return rc ? rc : reply_ok(r);
}

static int op_transaction_start(struct xs_req *r)
{
	struct xs_conn *c = r->conn;
	struct xs_txn *tx;
	char id[16];

	if (r->tx)
		return -EBUSY;
	if (unprivileged(c) && c->ntxns >= quota(r, XS_Q_TRANSACTIONS))
		return -ENOSPC;
	/* ids are per connection, never 0, never one in use */
	while (c->next_txid == 0 || xs_conn_find_txn(c, c->next_txid))
		c->next_txid++;
	tx = xs_txn_new(c->st, c->next_txid++);
	if (!tx)
		return -ENOMEM;
	TAILQ_INSERT_TAIL(&c->txns, tx, link);
	c->ntxns++;
	snprintf(id, sizeof(id), "%u", tx->id);
	return xs_buf_addstr(&r->reply, id);
}

static int op_transaction_end(struct xs_req *r)
{
	struct xs_store *st = r->conn->st;
	const char *arg = onearg(r);
	struct xs_txn *tx = r->tx;
	bool commit;
	int rc = 0;

	if (!tx)
		return -ENOENT;
	if (!arg || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return -EINVAL;
	commit = arg[0] == 'T';
	TAILQ_REMOVE(&r->conn->txns, tx, link);
	r->conn->ntxns--;
	r->tx = NULL;
	if (commit) {
		rc = xs_txn_commit(st, tx);
		if (rc == 0)
			st->ntx_commits++;
		else if (rc == -EAGAIN)
			st->ntx_conflicts++;
	}
	xs_txn_free(tx);
	return rc ? rc : reply_ok(r);
}

static int op_get_domain_path(struct xs_req *r)
{
	uint32_t domid;
	char path[32];

	if (parse_domid(onearg(r), &domid))
		return -EINVAL;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	return xs_buf_addstr(&r->reply, path);
}

static int op_introduce(struct xs_req *r)
{
	const char *v[3];
	unsigned long mfn, port;
	uint32_t domid;
	int rc;

	if (get_strings(r, v, 3) || parse_domid(v[0], &domid) ||
	    parse_uint(v[1], ~0UL, &mfn) ||
	    parse_uint(v[2], 0xffffffffUL, &port) || port == 0)
		return -EINVAL;
	rc = xs_domain_introduce(r->conn->st, domid, mfn, (uint32_t)port);
	return rc ? rc : reply_ok(r);
}

static int op_release(struct xs_req *r)
{
	uint32_t domid;
	int rc;

	if (parse_domid(onearg(r), &domid) || domid == 0)
		return -EINVAL;
	rc = xs_domain_release(r->conn->st, domid);
	return rc ? rc : reply_ok(r);
}

static int op_is_domain_introduced(struct xs_req *r)
{
	uint32_t domid;

	if (parse_domid(onearg(r), &domid))
		return -EINVAL;
	return xs_buf_addstr(&r->reply,
			     domid == 0 || xs_domain_find(r->conn->st, domid)
				     ? "T"
				     : "F");
}

static int op_resume(struct xs_req *r)
{
	struct xs_domain *d;
	uint32_t domid;

	if (parse_domid(onearg(r), &domid) || domid == 0)
		return -EINVAL;
	d = xs_domain_find(r->conn->st, domid);
	if (!d)
		return -ENOENT;
	d->shutdown = false;
	return reply_ok(r);
}

static int op_set_target(struct xs_req *r)
{
	const char *v[2];
	uint32_t domid, tdomid;
	int rc;

	if (get_strings(r, v, 2) || parse_domid(v[0], &domid) ||
	    parse_domid(v[1], &tdomid))
		return -EINVAL;
	rc = xs_domain_set_target(r->conn->st, domid, tdomid);
	return rc ? rc : reply_ok(r);
}

static int op_reset_watches(struct xs_req *r)
{
	xs_conn_drop_session(r->conn);
	return reply_ok(r);
}

/* A domid a setting may name: a domain's, not a reserved id. */
static int parse_setting_domid(const char *s, uint32_t *domid)
{
	if (parse_domid(s, domid) || *domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	return 0;
}

/*
 * GET_FEATURE [<domid>|]: the server features of the caller's domain, or
 * (dom0 only) of domid. A domain we do not know has every feature we
 * serve, as it would get when introduced.
 */
static int op_get_feature(struct xs_req *r)
{
	const struct xs_domain *d;
	unsigned n = count_strings(r);
	uint32_t domid;

	if (r->len == 0 || (n == 1 && strcmp(r->data, "") == 0 && r->len == 1))
		return reply_uint(r, xs_domain_features(r->conn->st,
							r->conn->domid));
	if (unprivileged(r->conn))
		return -EACCES;
	if (parse_setting_domid(onearg(r), &domid))
		return -EINVAL;
	d = xs_domain_settings(r->conn->st, domid, false);
	return reply_uint(r, d ? d->features : XS_SERVER_FEATURES);
}

/*
 * SET_FEATURE <domid>|<value>| (dom0): the features domid will find in
 * its ring page; only before XS_INTRODUCE (EBUSY after), only features
 * we serve (EINVAL).
 */
static int op_set_feature(struct xs_req *r)
{
	struct xs_domain *d;
	unsigned long f;
	const char *v[2];
	uint32_t domid;

	if (count_strings(r) != 2 || get_strings(r, v, 2) ||
	    parse_setting_domid(v[0], &domid) ||
	    parse_uint(v[1], 0xffffffffUL, &f))
		return -EINVAL;
	if (xs_domain_find(r->conn->st, domid))
		return -EBUSY;
	if (f & ~(unsigned long)XS_SERVER_FEATURES)
		return -EINVAL;
	d = xs_domain_settings(r->conn->st, domid, true);
	if (!d)
		return -ENOMEM;
	d->features = (unsigned)f;
	xs_journal_settings(r->conn->st, d);
	return reply_ok(r);
}

/*
 * GET_QUOTA [[<domid>|]<quota>|] (dom0): with no argument the names of
 * the quotas, separated by blanks; else the global value of one, or the
 * value that applies to domid. Unknown names: EINVAL.
 */
static int op_get_quota(struct xs_req *r)
{
	unsigned n = count_strings(r), i;
	const char *v[2];
	uint32_t domid;
	int id;

	if (r->len == 0 || (n == 1 && r->len == 1)) {
		for (i = 0; i < XS_Q_COUNT; i++)
			if (xs_buf_add(&r->reply, " ", i > 0) ||
			    xs_buf_add(&r->reply, xs_quota_name(i),
				       strlen(xs_quota_name(i))))
				return -ENOMEM;
		return xs_buf_add(&r->reply, "", 1);
	}
	if (n > 2 || get_strings(r, v, n) || r->data[r->len - 1] != '\0')
		return -EINVAL;
	id = xs_quota_id(v[n - 1]);
	if (id < 0)
		return -EINVAL;
	if (n == 1)
		return reply_uint(r, r->conn->st->quota.val[id]);
	if (parse_setting_domid(v[0], &domid))
		return -EINVAL;
	return reply_uint(r, xs_domain_quota(r->conn->st, domid, id));
}

/*
 * SET_QUOTA [<domid>|]<quota>|<value>| (dom0): the global value (the
 * default of every domain without one of its own), or domid's own (libxl
 * sends these after INTRODUCE). Values from 1; unknown names: EINVAL.
 */
static int op_set_quota(struct xs_req *r)
{
	unsigned n = count_strings(r);
	struct xs_quota *q = &r->conn->st->quota;
	struct xs_domain *d = NULL;
	const char *v[3];
	uint32_t domid;
	int rc;

	if (n < 2 || n > 3 || get_strings(r, v, n) ||
	    r->data[r->len - 1] != '\0')
		return -EINVAL;
	if (n == 3) {
		if (parse_setting_domid(v[0], &domid))
			return -EINVAL;
		d = xs_domain_settings(r->conn->st, domid, true);
		if (!d)
			return -ENOMEM;
		q = &d->quota;
	}
	rc = xs_quota_set(q, v[n - 2], v[n - 1]);
	if (rc)
		return rc;
	if (d)
		xs_journal_settings(r->conn->st, d);
	return reply_ok(r);
}

static int op_control(struct xs_req *r)
{
	char *argv[16];
	int argc = 0;
	uint32_t off = 0;

	if (r->len == 0 || r->data[r->len - 1] != '\0')
		return -EINVAL;
	while (off < r->len && argc < (int)(sizeof(argv) / sizeof(argv[0]))) {
		argv[argc++] = (char *)r->data + off;
		off += (uint32_t)strlen(r->data + off) + 1;
	}
	return xs_control(r->conn->st, r->conn, argv, argc, &r->reply);
}

/*
 * Privilege flags as C xenstored 4.21's wire_funcs: XS_OP_PRIV on CONTROL,
 * INTRODUCE, RELEASE, IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET,
 * SET_FEATURE, GET_QUOTA, SET_QUOTA; RESET_WATCHES and GET_FEATURE are
 * any caller's (a guest resets its own watches at boot; GET_FEATURE
 * checks a domid argument itself). RESTRICT (20) is gone: ENOSYS.
 */
static const struct xs_op op_table[SPLITDRV_XS_TYPE_COUNT] = {
	[XS_CONTROL] = { "CONTROL", op_control, XS_OP_PRIV | XS_OP_NOTX },
	[XS_DIRECTORY] = { "DIRECTORY", op_directory, 0 },
	[XS_READ] = { "READ", op_read, 0 },
	[XS_GET_PERMS] = { "GET_PERMS", op_get_perms, 0 },
	[XS_WATCH] = { "WATCH", op_watch, XS_OP_NOTX },
	[XS_UNWATCH] = { "UNWATCH", op_unwatch, XS_OP_NOTX },
	[XS_TRANSACTION_START] = { "TRANSACTION_START", op_transaction_start,
				   0 },
	[XS_TRANSACTION_END] = { "TRANSACTION_END", op_transaction_end,
				 XS_OP_WRITES },
	[XS_INTRODUCE] = { "INTRODUCE", op_introduce,
			   XS_OP_PRIV | XS_OP_NOTX | XS_OP_WRITES },
	[XS_RELEASE] = { "RELEASE", op_release,
			 XS_OP_PRIV | XS_OP_NOTX | XS_OP_WRITES },
	[XS_GET_DOMAIN_PATH] = { "GET_DOMAIN_PATH", op_get_domain_path,
				 XS_OP_NOTX },
	[XS_WRITE] = { "WRITE", op_write, XS_OP_WRITES },
	[XS_MKDIR] = { "MKDIR", op_mkdir, XS_OP_WRITES },
	[XS_RM] = { "RM", op_rm, XS_OP_WRITES },
	[XS_SET_PERMS] = { "SET_PERMS", op_set_perms, XS_OP_WRITES },
	[XS_WATCH_EVENT] = { "WATCH_EVENT", NULL, 0 },
	[XS_ERROR] = { "ERROR", NULL, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED",
				      op_is_domain_introduced,
				      XS_OP_PRIV | XS_OP_NOTX },
	[XS_RESUME] = { "RESUME", op_resume, XS_OP_PRIV | XS_OP_NOTX },
	[XS_SET_TARGET] = { "SET_TARGET", op_set_target,
			    XS_OP_PRIV | XS_OP_NOTX | XS_OP_WRITES },
	[XS_RESET_WATCHES] = { "RESET_WATCHES", op_reset_watches, XS_OP_NOTX },
	[XS_DIRECTORY_PART] = { "DIRECTORY_PART", op_directory_part, 0 },
	[XS_GET_FEATURE] = { "GET_FEATURE", op_get_feature, XS_OP_NOTX },
	[XS_SET_FEATURE] = { "SET_FEATURE", op_set_feature,
			     XS_OP_PRIV | XS_OP_NOTX },
	[XS_GET_QUOTA] = { "GET_QUOTA", op_get_quota, XS_OP_PRIV | XS_OP_NOTX },
	[XS_SET_QUOTA] = { "SET_QUOTA", op_set_quota, XS_OP_PRIV | XS_OP_NOTX },
};

/*
 * What a read-only connection (socket_ro) may send: reads, watches and
 * transactions (whose writes are refused one by one, so ending one
 * changes nothing). A list of what is allowed, so that an op added
 * later is refused until someone says otherwise.
 */
static bool op_readonly_ok(uint32_t type)
{
	switch (type) {
	case XS_READ:
	case XS_DIRECTORY:
	case XS_DIRECTORY_PART:
	case XS_GET_PERMS:
	case XS_WATCH:
	case XS_UNWATCH:
	case XS_RESET_WATCHES:
	case XS_TRANSACTION_START:
	case XS_TRANSACTION_END:
	case XS_GET_DOMAIN_PATH:
	case XS_IS_DOMAIN_INTRODUCED:
	case XS_GET_FEATURE:
	case XS_GET_QUOTA:
		return true;
	default:
		return false;
	}
}

/* xs_server_features - the features this xenstored serves a domain. */
unsigned xs_server_features(void)
{
	return XS_SERVER_FEATURES;
}

/* xs_op_name - the wire type's name, "?" if unknown. */
const char *xs_op_name(uint32_t type)
{
	if (type < SPLITDRV_XS_TYPE_COUNT && op_table[type].name)
		return op_table[type].name;
	return "?";
}

/* xs_dispatch - handle one request and queue its reply. */
void xs_dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr,
		 const char *data)
{
	struct xs_store *st = c->st;
	struct xs_req r = {
		.conn = c, .hdr = *hdr, .data = data, .len = hdr->len
	};
	const struct xs_op *op = NULL;
	int rc;

	st->cur = c;
	st->nrequests++;
	if (hdr->type < SPLITDRV_XS_TYPE_COUNT)
		op = &op_table[hdr->type];
	if (hdr->type < XS_TYPE_COUNT) /* the statistics know 4.17's types */
		st->nops[hdr->type]++;
	if (!op || !op->handler) {
		rc = -ENOSYS; /* as C xenstored: also WATCH_EVENT, ERROR */
	} else if ((op->flags & XS_OP_PRIV) && !c->privileged) {
		rc = -EACCES;
	} else if (c->readonly && !op_readonly_ok(hdr->type)) {
		rc = -EACCES;
	} else {
		rc = 0;
		if (!(op->flags & XS_OP_NOTX) && hdr->tx_id) {
			r.tx = xs_conn_find_txn(c, hdr->tx_id);
			if (!r.tx)
				rc = -ENOENT;
			else if (!c->privileged &&
				 hdr->type != XS_TRANSACTION_END &&
				 r.tx->nodes.n >=
					 xs_domain_quota(st, c->domid,
							 XS_Q_TRANS_NODES))
				rc = -ENOSPC;
		}
		if (rc == 0)
			rc = op->handler(&r);
	}
	if (rc == 0 && r.reply.len > XENSTORE_PAYLOAD_MAX)
		rc = -E2BIG;
	/* what the request changed reaches the journal before its reply;
	 * a change that did not is not acknowledged (persist.c logs it) */
	if (xs_journal_flush(st) && rc == 0)
		rc = -EIO;
	if (rc) {
		const char *e = xs_errno_name(-rc);

		st->nerrors++;
		log_debug_dev((int)c->domid, NULL, "%s: %s",
			      xs_op_name(hdr->type), e);
		xs_conn_queue(c, XS_ERROR, hdr->req_id, hdr->tx_id, e,
			      strlen(e) + 1, false);
	} else {
		xs_conn_queue(c, hdr->type, hdr->req_id, hdr->tx_id, r.reply.p,
			      r.reply.len, false);
		if (r.watch_path)
			xs_watch_initial(st, c, r.watch_path, r.watch_token);
	}
	xs_buf_free(&r.reply);
	st->cur = NULL;
}
