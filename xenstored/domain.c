/*
 * domain.c - the table of introduced domains.
 *
 * XS_INTRODUCE records (domid, ring gfn, event channel port); the hv
 * layer's ring transport, when plugged in through st->ring, attaches a
 * connection to it. Without it (no --hv) the domain is recorded, persisted
 * and announced with @introduceDomain, and no ring is mapped.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xenstored/conn.h"
#include "xenstored/domain.h"
#include "xenstored/txn.h"
#include "xenstored/watch.h"
#include "xenstored/xenstored.h"

static const struct xs_perm n0 = { 0, XS_P_NONE };

/* xs_domain_find - the introduced domain domid, or NULL. */
struct xs_domain *xs_domain_find(struct xs_store *st, uint32_t domid)
{
	return xs_imap_get(&st->domain_ids, domid);
}

static struct xs_domain *find_pending(struct xs_store *st, uint32_t domid)
{
	return xs_imap_get(&st->pending_ids, domid);
}

/*
 * The records are on a list (st->domains or st->pending: the order of
 * introduction, for the journal and memreport) and in a map by domid
 * (the lookup every request makes); these keep both in step.
 */
static int link_domain(struct xs_store *st, struct xs_domain *d)
{
	if (xs_imap_put(&st->domain_ids, d->domid, d))
		return -ENOMEM;
	TAILQ_INSERT_TAIL(&st->domains, d, link);
	st->ndomains++;
	return 0;
}

static void unlink_domain(struct xs_store *st, struct xs_domain *d)
{
	xs_imap_del(&st->domain_ids, d->domid);
	TAILQ_REMOVE(&st->domains, d, link);
	st->ndomains--;
}

static int link_pending(struct xs_store *st, struct xs_domain *d)
{
	if (xs_imap_put(&st->pending_ids, d->domid, d))
		return -ENOMEM;
	TAILQ_INSERT_TAIL(&st->pending, d, link);
	return 0;
}

static void unlink_pending(struct xs_store *st, struct xs_domain *d)
{
	xs_imap_del(&st->pending_ids, d->domid);
	TAILQ_REMOVE(&st->pending, d, link);
}

/* xs_domain_settings - features and quotas of domid, introduced or not. */
struct xs_domain *xs_domain_settings(struct xs_store *st, uint32_t domid,
				     bool create)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	if (!d)
		d = find_pending(st, domid);
	if (d || !create) {
		if (!d)
			errno = ENOENT;
		return d;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->domid = domid;
	d->target = -1;
	d->features = XS_SERVER_FEATURES;
	if (link_pending(st, d)) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

/* xs_domain_features - the server features of domid's connections. */
unsigned xs_domain_features(struct xs_store *st, uint32_t domid)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	return d ? d->features : XS_SERVER_FEATURES;
}

/* xs_domain_quota - domid's quota id: its own if XS_SET_QUOTA gave one,
 * else the global one. */
unsigned xs_domain_quota(struct xs_store *st, uint32_t domid,
			 enum xs_quota_id id)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	return d && d->quota.val[id] ? d->quota.val[id] : st->quota.val[id];
}

/* Forget domid's pending settings (it was released, or died); journal
 * it unless replaying (the journal holds the settings, see persist.c). */
static void drop_pending(struct xs_store *st, uint32_t domid, bool journal)
{
	struct xs_domain *d = find_pending(st, domid);

	if (d) {
		unlink_pending(st, d);
		free(d);
		if (journal)
			xs_journal_domain_rm(st, domid);
	}
}

/*
 * Fire the special watch name for domid: watches on name itself (without
 * a depth) see name, watches on name/<domid> and those on name with a
 * depth see name/<domid> (docs/misc/xenstore.txt, WATCH).
 */
static void fire_special(struct xs_store *st, const char *name, uint32_t domid)
{
	struct xs_special *sp = xs_store_special(st, name);

	if (sp)
		xs_watch_fire_special(st, name, domid, sp->perms, sp->nperms);
	else
		xs_watch_fire_special(st, name, domid, &n0, 1);
}

static struct xs_domain *domain_add(struct xs_store *st, uint32_t domid,
				    uint64_t mfn, uint32_t port, int target)
{
	struct xs_domain *d = find_pending(st, domid);

	if (d) {
		unlink_pending(st, d);
	} else {
		d = calloc(1, sizeof(*d));
		if (!d)
			return NULL;
		d->features = XS_SERVER_FEATURES;
	}
	d->domid = domid;
	d->mfn = mfn;
	d->port = port;
	d->target = target;
	if (link_domain(st, d)) {
		free(d); /* its pending settings go: out of memory anyway */
		return NULL;
	}
	return d;
}

/* xs_domain_restore - a domain loaded from persistent state. */
int xs_domain_restore(struct xs_store *st, uint32_t domid, uint64_t mfn,
		      uint32_t port, int target)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	if (d) {
		d->mfn = mfn;
		d->port = port;
		d->target = target;
		return 0;
	}
	return domain_add(st, domid, mfn, port, target) ? 0 : -ENOMEM;
}

/* xs_domain_introduce - record a domain, attach its ring, announce it. */
int xs_domain_introduce(struct xs_store *st, uint32_t domid, uint64_t mfn,
			uint32_t port)
{
	struct xs_domain *d = xs_domain_find(st, domid);
	int rc;

	if (d) {
		/* re-introduction (xenstored or guest restart): same ring */
		if (d->conn)
			return 0; /* its port may be the ring page's */
		if (d->mfn != mfn || d->port != port) {
			d->mfn = mfn;
			d->port = port;
			xs_journal_domain(st, d);
		}
		/* a ring that could not be attached before: try again (the
		 * page may name another port: journalled as attached) */
		if (st->ring.attach) {
			rc = st->ring.attach(st->ring.arg, st, d);
			if (rc < 0)
				return rc;
			if (d->conn)
				d->conn->target = d->target;
			if (d->port != port)
				xs_journal_domain(st, d);
		}
		return 0;
	}
	d = domain_add(st, domid, mfn, port, -1);
	if (!d)
		return -ENOMEM;
	if (st->ring.attach) {
		rc = st->ring.attach(st->ring.arg, st, d);
		if (rc < 0) {
			unlink_domain(st, d);
			free(d);
			return rc;
		}
		if (d->conn)
			d->conn->target = d->target;
	}
	xs_journal_domain(st, d);
	log_info_dev((int)domid, NULL, "introduced (gfn %llu, port %u)",
		     (unsigned long long)mfn, d->port);
	fire_special(st, "@introduceDomain", domid);
	return 0;
}

/* Is a node above n (not "/") owned by domid? Then n goes with it. */
static bool owned_above(const struct xs_node *n, uint32_t domid)
{
	for (n = n->parent; n && n->parent; n = n->parent)
		if (n->perms[0].domid == domid)
			return true;
	return false;
}

/*
 * The paths of the topmost nodes owned by domid (their subtrees go with
 * them) and, in a second pass once they are gone, of the nodes whose
 * permission lists name it past the owner: both from the tree's domain
 * index, so the cost is the domain's own nodes, not the tree's.
 */
static int collect_owned(struct xs_store *st, uint32_t domid,
			 struct xs_buf *paths)
{
	const struct xs_tree_dom *td = xs_tree_dom(&st->tree, domid);
	const struct xs_node *n;

	if (td)
		TAILQ_FOREACH(n, &td->own, own_link)
			if (n->parent && !owned_above(n, domid) &&
			    xs_buf_addstr(paths, n->path))
				return -ENOMEM;
	return 0;
}

static int collect_listed(struct xs_store *st, uint32_t domid,
			  struct xs_buf *paths)
{
	const struct xs_tree_dom *td = xs_tree_dom(&st->tree, domid);
	const struct xs_node_ref *r;

	if (td)
		TAILQ_FOREACH(r, &td->listed, link)
			if (xs_buf_addstr(paths, r->n->path))
				return -ENOMEM;
	return 0;
}

/* Drop domid's entries (past the owner) from n's permission list. */
static int unlist(struct xs_store *st, struct xs_node *n, uint32_t domid)
{
	struct xs_perm *p = malloc(n->nperms * sizeof(*p));
	uint32_t i, np = 1;
	int rc;

	if (!p)
		return -ENOMEM;
	p[0] = n->perms[0];
	for (i = 1; i < n->nperms; i++)
		if (n->perms[i].domid != domid)
			p[np++] = n->perms[i];
	rc = xs_tree_set_perms(&st->tree, n, p, np);
	free(p);
	return rc;
}

/*
 * Design note: a domain id outlives its domain (XSA-322). Domain 6 gives
 * "r5" on its node; domain 5 dies; the toolstack builds a new domain and
 * Xen hands it id 5 again. Had the entry stayed, the new domain would
 * read domain 6's node. C xenstored keeps the entry and ignores it
 * lazily: each domain has a generation count taken when first seen, each
 * node the count of its last write, and an entry naming a domain newer
 * than the node is ignored on every access. We do the same work once,
 * eagerly, when the domain goes:
 *
 *   - the nodes it owned are deleted (as before: nothing is inherited);
 *   - every other node that lists it loses that entry ("n6 r5" becomes
 *     "n6"), a change like any other: journalled (so a restart sees the
 *     rewritten list) and firing the node's watches;
 *   - the special nodes' lists lose it;
 *   - a domain that had it as XS_SET_TARGET target acts for no one;
 *   - an open transaction whose private copies name it fails its commit
 *     with EAGAIN (a rewritten node is caught anyway: its generation
 *     moved; this catches a SET_PERMS the transaction made itself), and
 *     the retry sees the rewritten lists.
 *
 * So the state never names a dead domain, and a new domain with the same
 * id starts with what a fresh domain id has: nothing. The tree indexes
 * nodes by the domains their permissions name (xs_tree_dom()), so the
 * cost is the dead domain's own nodes and the nodes that list it, not a
 * walk of the tree per death (C's release path walks the whole tree:
 * a thousand guests torn down cost a million node visits there).
 */
static void remove_orphans(struct xs_store *st, uint32_t domid)
{
	struct xs_buf paths = { 0 };
	int rc = 0;
	struct xs_domain *d;
	struct xs_conn *c;
	struct xs_txn *tx;
	size_t off, i, j;

	if (domid == 0)
		return;
	if (collect_owned(st, domid, &paths))
		log_warnx_dev((int)domid, NULL,
			      "out of memory removing orphaned nodes");
	for (off = 0; off < paths.len; off += strlen(paths.p + off) + 1) {
		struct xs_node *n = xs_tree_get(&st->tree, paths.p + off);

		if (n)
			xs_tree_rm(&st->tree, n);
	}
	paths.len = 0;
	if (collect_listed(st, domid, &paths))
		rc = -ENOMEM;
	for (off = 0; off < paths.len; off += strlen(paths.p + off) + 1) {
		struct xs_node *n = xs_tree_get(&st->tree, paths.p + off);

		if (n && unlist(st, n, domid))
			rc = -ENOMEM;
	}
	xs_buf_free(&paths);
	if (rc)
		log_warnx_dev((int)domid, NULL,
			      "out of memory: some nodes still name this "
			      "dead domain in their permissions");
	for (i = 0; i < sizeof(st->special) / sizeof(st->special[0]); i++) {
		struct xs_special *sp = &st->special[i];
		uint32_t n = 1;

		if (sp->perms[0].domid == domid)
			sp->perms[0].domid = 0;
		for (j = 1; j < sp->nperms; j++)
			if (sp->perms[j].domid != domid)
				sp->perms[n++] = sp->perms[j];
		if (n != sp->nperms) {
			sp->nperms = n;
			xs_journal_special(st, sp);
		}
	}
	TAILQ_FOREACH(d, &st->domains, link)
		if (d->target == (int)domid) {
			d->target = -1;
			if (d->conn)
				d->conn->target = -1;
			xs_journal_domain(st, d);
		}
	TAILQ_FOREACH(c, &st->conns, link) {
		if (c->target == (int)domid)
			c->target = -1;
		TAILQ_FOREACH(tx, &c->txns, link)
			xs_txn_forget_domain(tx, domid);
	}
}

static void domain_drop(struct xs_store *st, struct xs_domain *d)
{
	struct xs_conn *c = d->conn;

	if (st->ring.detach)
		st->ring.detach(st->ring.arg, st, d);
	d->conn = NULL;
	if (c) {
		if (c == st->cur)
			c->closing =
				true; /* freed by its owner after the request */
		else
			xs_conn_free(c);
	}
	unlink_domain(st, d);
	xs_journal_domain_rm(st, d->domid);
	remove_orphans(st, d->domid);
	free(d);
}

/* xs_domain_release - forget a domain and announce it. 0 or -ENOENT. */
int xs_domain_release(struct xs_store *st, uint32_t domid)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	if (!d)
		return -ENOENT;
	log_info_dev((int)domid, NULL, "released");
	domain_drop(st, d);
	fire_special(st, "@releaseDomain", domid);
	return 0;
}

/* xs_domain_set_target - domid acts for tdomid. 0 or -ENOENT. */
int xs_domain_set_target(struct xs_store *st, uint32_t domid, uint32_t tdomid)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	if (!d || !xs_domain_find(st, tdomid))
		return -ENOENT;
	d->target = (int)tdomid;
	if (d->conn)
		d->conn->target = (int)tdomid;
	xs_journal_domain(st, d);
	return 0;
}

/* xs_domain_died - the domain is gone: @releaseDomain, drop it. */
void xs_domain_died(struct xs_store *st, uint32_t domid)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	if (d) {
		log_info_dev((int)domid, NULL, "died");
		domain_drop(st, d);
	} else {
		/* never introduced (died while being built): what names it
		 * must not pass to the next domain given its id either */
		remove_orphans(st, domid);
	}
	drop_pending(st, domid, true);
	/* not inside a request: journal now */
	if (xs_journal_flush(st))
		log_errx("journal write failed: death of d%u not persisted",
			 domid);
	fire_special(st, "@releaseDomain", domid);
}

/* The name of a SHUTDOWN_* reason of <xen/sched.h>, for the log. */
static const char *shutdown_reason_name(unsigned int reason)
{
	static const char *const names[] = {
		"poweroff", "reboot",   "suspend",
		"crash",    "watchdog", "soft_reset",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason]
							 : "unknown";
}

/*
 * xs_domain_shut_down - the domain stopped running but still exists:
 * fire @releaseDomain and keep the domain, its connection and its nodes
 * (the toolstack destroys, restarts or resumes it; C xenstored does the
 * same in domain_cleanup(), and xl's monitor waits on this event). Safe
 * for unknown domids: watchers re-check, spurious events are allowed.
 */
void xs_domain_shut_down(struct xs_store *st, uint32_t domid,
			 unsigned int reason)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	log_info_dev((int)domid, NULL, "shut down (reason %s)%s",
		     shutdown_reason_name(reason),
		     d ? "" : ", not an introduced domain");
	if (d)
		d->shutdown = true; /* XS_RESUME clears it */
	fire_special(st, "@releaseDomain", domid);
}

/* xs_domain_forget - drop a domain and its pending settings quietly
 * (replaying the journal). */
void xs_domain_forget(struct xs_store *st, uint32_t domid)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	if (d) {
		unlink_domain(st, d);
		free(d);
	}
	drop_pending(st, domid, false);
}

/* xs_domains_attach_all - attach the rings of restored domains. */
void xs_domains_attach_all(struct xs_store *st)
{
	struct xs_domain *d;

	if (!st->ring.attach)
		return;
	TAILQ_FOREACH(d, &st->domains, link) {
		if (d->conn)
			continue;
		if (st->ring.attach(st->ring.arg, st, d) < 0)
			log_warnx_dev((int)d->domid, NULL,
				      "cannot reattach the xenstore ring");
		else if (d->conn)
			d->conn->target = d->target;
	}
}

/* xs_domains_free - forget every domain (shutdown; nothing journalled). */
void xs_domains_free(struct xs_store *st)
{
	struct xs_domain *d;

	while ((d = TAILQ_FIRST(&st->domains))) {
		TAILQ_REMOVE(&st->domains, d, link);
		free(d);
	}
	while ((d = TAILQ_FIRST(&st->pending))) {
		TAILQ_REMOVE(&st->pending, d, link);
		free(d);
	}
	xs_imap_free(&st->domain_ids);
	xs_imap_free(&st->pending_ids);
	st->ndomains = 0;
}
