/*
 * store.c - the store: tree, watches, quotas, domains, connections, and
 * the tree's change hook that fires watches and feeds the journal
 * (st->journal, when one is plugged in).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored/conn.h"
#include "xenstored/domain.h"
#include "xenstored/lu.h"
#include "xenstored/watch.h"
#include "xenstored/xenstored.h"

static void store_on_change(void *arg, const struct xs_node *n,
			    enum xs_change what)
{
	struct xs_store *st = arg;
	const struct xs_perm *pp = n->parent ? n->parent->perms : NULL;
	unsigned npp = n->parent ? n->parent->nperms : 0;

	switch (what) {
	case XS_CHANGE_WRITE:
		xs_journal_node(st, n);
		if (!st->implicit)
			xs_watch_fire(st, n->path, n->perms, n->nperms, pp, npp,
				      false);
		break;
	case XS_CHANGE_RM_ROOT:
		xs_journal_rm(st, n->path);
		xs_watch_fire(st, n->path, n->perms, n->nperms, pp, npp, false);
		break;
	case XS_CHANGE_RM_CHILD:
		xs_watch_fire(st, n->path, n->perms, n->nperms, pp, npp, true);
		break;
	}
}

/* xs_store_init - "/", "/tool", "/tool/xenstored", default quotas. */
int xs_store_init(struct xs_store *st)
{
	static const struct xs_perm n0 = { 0, XS_P_NONE };

	memset(st, 0, sizeof(*st));
	TAILQ_INIT(&st->conns);
	TAILQ_INIT(&st->domains);
	TAILQ_INIT(&st->pending);
	xs_quota_defaults(&st->quota);
	if (xs_tree_init(&st->tree))
		return -ENOMEM;
	if (xs_watches_init(&st->watches)) {
		xs_tree_free(&st->tree);
		return -ENOMEM;
	}
	if (!xs_tree_create(&st->tree, "/tool", NULL, 0, &n0, 1) ||
	    !xs_tree_create(&st->tree, "/tool/xenstored", NULL, 0, &n0, 1)) {
		xs_store_free(st);
		return -ENOMEM;
	}
	st->special[0].name = "@introduceDomain";
	st->special[1].name = "@releaseDomain";
	st->special[0].perms[0] = n0;
	st->special[1].perms[0] = n0;
	st->special[0].nperms = st->special[1].nperms = 1;
	st->tree.hook = store_on_change;
	st->tree.hook_arg = st;
	return 0;
}

/* xs_store_free - close every connection and free everything. */
void xs_store_free(struct xs_store *st)
{
	struct xs_conn *c;

	while ((c = TAILQ_FIRST(&st->conns)))
		xs_conn_free(c);
	xs_domains_free(st);
	xs_lu_free(st);
	xs_watches_free(&st->watches);
	st->tree.hook = NULL;
	xs_tree_free(&st->tree);
}
