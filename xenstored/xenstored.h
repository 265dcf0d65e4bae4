/*
 * xenstored.h - the store's shared types: struct xs_store, which everything
 * hangs off (so unit tests can build as many independent stores as they
 * like), the special nodes, and the two plug-ins the daemon fills in: the
 * ring transport (struct xs_ring_ops) and the journal (struct
 * xs_journal_ops). Each module declares its own API in its own header:
 *
 *   util.h     string-keyed hash table, byte buffer            util.c
 *   perms.h    permission lists: parse, format, check          perms.c
 *   tree.h     the node tree, generation counts, change hook   tree.c
 *   quota.h    quota table (C xenstored's names and defaults)  quota.c
 *   txn.h      transactions and the "db" view                  txn.c
 *   watch.h    watches indexed by path                         watch.c
 *   conn.h     connections: lifecycle, output, input   conn.c queue.c input.c
 *   domain.h   introduced domains, death and shutdown events   domain.c
 *   lu.h       live update: the migration stream, exec         lu.c
 *   control.h  XS_CONTROL commands, memreport                  control.c
 *   ops.h      the op table, handlers, path canonicalisation   ops.c
 *   persist.h  snapshot + journal (a journal plug-in)          persist.c
 *   (this)     the store: init, free, change hook              store.c
 *
 * Layering (a file calls only files to its left; see doc/xenstored.md):
 *   util, quota < perms < tree < txn < queue < watch < conn < domain
 *   < lu < control < ops < input < store, persist
 * The journal is reached only through st->journal (the inline helpers
 * below), never by name, so no core file depends on persist.c.
 */
#ifndef XENSTORED_XENSTORED_H
#define XENSTORED_XENSTORED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/queue.h>

#include <xen/io/xs_wire.h>

#include "xenstored/quota.h"
#include "xenstored/tree.h"
#include "xenstored/util.h"
#include "xenstored/watch.h"

struct xs_store;
struct xs_conn;
struct xs_domain;
struct xs_txn;
struct xs_lu;

struct xs_special {
	const char *name; /* "@introduceDomain", "@releaseDomain" */
	struct xs_perm perms[8];
	uint32_t nperms;
};

/*
 * How the hv layer plugs a ring in: attach is called when a domain is
 * introduced (or restored at start), may set d->conn; detach before the
 * domain is forgotten. Both optional.
 */
struct xs_ring_ops {
	int (*attach)(void *arg, struct xs_store *st, struct xs_domain *d);
	void (*detach)(void *arg, struct xs_store *st, struct xs_domain *d);
	void *arg;
};

/*
 * How a journal plugs in (persist.c registers one with
 * xs_store_set_journal()): the core reports each change as it is made;
 * flush closes the record of the request just handled (before its reply
 * leaves) and returns 0 or -errno. Every member is required.
 */
struct xs_journal_ops {
	void (*node)(void *arg, const struct xs_node *n);
	void (*rm)(void *arg, const char *path);
	void (*domain)(void *arg, const struct xs_domain *d);
	void (*domain_rm)(void *arg, uint32_t domid);
	void (*special)(void *arg, const struct xs_special *sp);
	/* XS_SET_FEATURE / XS_SET_QUOTA changed d's settings (d introduced
	 * or pending) */
	void (*settings)(void *arg, const struct xs_domain *d);
	/* a ring connection's watch w of domid: kind 'W' added, 'U'
	 * removed, 'V' all of domid's removed (w NULL) */
	void (*watch)(void *arg, char kind, uint32_t domid,
		      const struct xs_watch *w);
	int (*flush)(void *arg);
};

struct xs_store {
	struct xs_tree tree;
	struct xs_watches watches;
	struct xs_quota quota;
	struct xs_special special[2];
	TAILQ_HEAD(, xs_conn) conns;
	TAILQ_HEAD(, xs_domain) domains;
	/* not yet introduced, with XS_SET_FEATURE/SET_QUOTA settings */
	TAILQ_HEAD(, xs_domain) pending;
	/* the same records by domid (domain.c): O(1) per request */
	struct xs_imap domain_ids, pending_ids;
	size_t nconns, ndomains;
	uint64_t next_conn_id;
	const struct xs_journal_ops *journal; /* NULL: not persistent */
	void *journal_arg;
	struct xs_ring_ops ring;
	struct xs_conn *cur; /* connection whose request runs now */
	/* creating the missing parents of a written path: their creation
	 * fires no watch of its own (only the written path does) */
	bool implicit;
	/* live update (lu.c): NULL where the daemon offers none */
	struct xs_lu *lu;
	/* a live update's new process re-attaches rings: they wait for
	 * their pending input to be put back before being served */
	bool restoring;
	/* statistics */
	uint64_t nrequests, nerrors, nevents, ntx_commits, ntx_conflicts;
	uint64_t nops[XS_TYPE_COUNT];
};

/* xs_store_init - "/", "/tool", "/tool/xenstored", default quotas. */
int xs_store_init(struct xs_store *st);
/* xs_store_free - close every connection and free everything. */
void xs_store_free(struct xs_store *st);

/* xs_store_set_journal - plug a journal in (ops NULL: unplug). */
static inline void xs_store_set_journal(struct xs_store *st,
					const struct xs_journal_ops *ops,
					void *arg)
{
	st->journal = ops;
	st->journal_arg = ops ? arg : NULL;
}

/* xs_store_special - the @name special node, or NULL. */
static inline struct xs_special *xs_store_special(struct xs_store *st,
						  const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(st->special) / sizeof(st->special[0]); i++)
		if (strcmp(st->special[i].name, name) == 0)
			return &st->special[i];
	return NULL;
}

/* The journal hooks the core calls: no-ops while none is plugged in. */
static inline void xs_journal_node(struct xs_store *st, const struct xs_node *n)
{
	if (st->journal)
		st->journal->node(st->journal_arg, n);
}

static inline void xs_journal_rm(struct xs_store *st, const char *path)
{
	if (st->journal)
		st->journal->rm(st->journal_arg, path);
}

static inline void xs_journal_domain(struct xs_store *st,
				     const struct xs_domain *d)
{
	if (st->journal)
		st->journal->domain(st->journal_arg, d);
}

static inline void xs_journal_domain_rm(struct xs_store *st, uint32_t domid)
{
	if (st->journal)
		st->journal->domain_rm(st->journal_arg, domid);
}

static inline void xs_journal_special(struct xs_store *st,
				      const struct xs_special *sp)
{
	if (st->journal)
		st->journal->special(st->journal_arg, sp);
}

static inline void xs_journal_settings(struct xs_store *st,
				       const struct xs_domain *d)
{
	if (st->journal)
		st->journal->settings(st->journal_arg, d);
}

static inline void xs_journal_watch(struct xs_store *st, char kind,
				    uint32_t domid, const struct xs_watch *w)
{
	if (st->journal)
		st->journal->watch(st->journal_arg, kind, domid, w);
}

/* xs_journal_flush - close the current record; 0 or -errno. */
static inline int xs_journal_flush(struct xs_store *st)
{
	return st->journal ? st->journal->flush(st->journal_arg) : 0;
}

#endif /* XENSTORED_XENSTORED_H */
