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
#include "xenstored/watch.h"
#include "xenstored/xenstored.h"

static const struct xs_perm n0 = { 0, XS_P_NONE };

/* xs_domain_find - the introduced domain domid, or NULL. */
struct xs_domain *xs_domain_find(struct xs_store *st, uint32_t domid)
{
	struct xs_domain *d;

	TAILQ_FOREACH(d, &st->domains, link)
		if (d->domid == domid)
			return d;
	return NULL;
}

static void fire_special(struct xs_store *st, const char *name)
{
	struct xs_special *sp = xs_store_special(st, name);

	if (sp)
		xs_watch_fire(st, name, sp->perms, sp->nperms, NULL, 0, true);
	else
		xs_watch_fire(st, name, &n0, 1, NULL, 0, true);
}

static struct xs_domain *domain_add(struct xs_store *st, uint32_t domid,
				    uint64_t mfn, uint32_t port, int target)
{
	struct xs_domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->domid = domid;
	d->mfn = mfn;
	d->port = port;
	d->target = target;
	TAILQ_INSERT_TAIL(&st->domains, d, link);
	st->ndomains++;
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
			TAILQ_REMOVE(&st->domains, d, link);
			st->ndomains--;
			free(d);
			return rc;
		}
		if (d->conn)
			d->conn->target = d->target;
	}
	xs_journal_domain(st, d);
	log_info_dev((int)domid, NULL, "introduced (gfn %llu, port %u)",
		     (unsigned long long)mfn, d->port);
	fire_special(st, "@introduceDomain");
	return 0;
}

/* Collect the topmost nodes owned by domid (their subtrees go with them). */
static int collect_owned(struct xs_node *n, uint32_t domid, struct xs_buf *paths)
{
	struct xs_node *c;

	if (n->parent && n->perms[0].domid == domid)
		return xs_buf_addstr(paths, n->path);
	TAILQ_FOREACH(c, &n->children, sib)
		if (collect_owned(c, domid, paths))
			return -ENOMEM;
	return 0;
}

/*
 * A domain that is gone owns nothing: as C xenstored does, delete the
 * nodes it owned (firing their watches, journalled) and drop it from the
 * special nodes' permissions, so that a later domain reusing the domid
 * inherits nothing.
 */
static void remove_orphans(struct xs_store *st, uint32_t domid)
{
	struct xs_buf paths = { 0 };
	size_t off, i, j;

	if (domid != 0 && xs_tree_owned(&st->tree, domid) > 0) {
		if (collect_owned(st->tree.root, domid, &paths))
			log_warnx_dev((int)domid, NULL,
				      "out of memory removing orphaned nodes");
		for (off = 0; off < paths.len;
		     off += strlen(paths.p + off) + 1) {
			struct xs_node *n =
				xs_tree_get(&st->tree, paths.p + off);

			if (n)
				xs_tree_rm(&st->tree, n);
		}
		xs_buf_free(&paths);
	}
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
	TAILQ_REMOVE(&st->domains, d, link);
	st->ndomains--;
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
	fire_special(st, "@releaseDomain");
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
		/* not inside a request: journal now */
		if (xs_journal_flush(st))
			log_errx("journal write failed: death of d%u not persisted",
				 domid);
	}
	fire_special(st, "@releaseDomain");
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
	fire_special(st, "@releaseDomain");
}

/* xs_domain_forget - drop a domain quietly (replaying the journal). */
void xs_domain_forget(struct xs_store *st, uint32_t domid)
{
	struct xs_domain *d = xs_domain_find(st, domid);

	if (d) {
		TAILQ_REMOVE(&st->domains, d, link);
		st->ndomains--;
		free(d);
	}
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
	st->ndomains = 0;
}
