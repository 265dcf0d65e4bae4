/*
 * txn.c - transactions, and the "db" view the handlers use.
 *
 * A transaction never copies the tree. It keeps an overlay: a hash of the
 * nodes it has touched (read or written), each a private copy of that one
 * node (value, permissions, names of its children) plus the generation the
 * node had in the tree when first touched (or "absent").
 *
 * Reads inside a transaction go to the overlay first, so a transaction
 * sees its own writes and reads the same value twice even if someone else
 * wrote the node in between (test-xenstore's "ta err" checks exactly that).
 * A node is copied on first touch; if its generation is newer than the
 * transaction's start (someone changed it after we started), what we read
 * is not the snapshot any more, so the transaction is marked to fail with
 * EAGAIN at its end. Absent nodes use the deepest existing ancestor's
 * generation, which moves whenever a child is added or removed.
 *
 * Worked example (generations in brackets, transaction starts at 10):
 *   T reads /a [7]         -> copied, base 7
 *   X writes /a  -> [11]   (outside T)
 *   T reads /a             -> still the copy: the old value
 *   T writes /a "c"        -> copy changed, marked modified
 *   T ends                 -> /a is [11] != 7: EAGAIN, nothing applied
 * Had X not written, T's end would find /a at [7], apply "c" and fire /a's
 * watches.
 *
 * Commit validates every touched node (same existence, same generation)
 * and then applies the modified ones in path order, so parents come before
 * their children: removed nodes are removed, others are created or
 * updated, and a node whose list of children changed loses the children
 * the transaction removed. The tree's change hook fires watches and
 * journals; the caller flushes the journal as one record.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored/conn.h"
#include "xenstored/tree.h"
#include "xenstored/txn.h"
#include "xenstored/xenstored.h"

struct xs_tnode {
	char *path;
	bool exists;      /* in the transaction's view */
	bool base_exists; /* in the tree when first touched */
	bool shadowed;    /* hidden by our own change above: not validated */
	uint64_t base_gen;
	bool modified, wrote_value, wrote_perms, kids_changed;
	bool implicit; /* created as a missing parent: fires no watch */
	char *value;
	uint32_t vlen;
	struct xs_perm *perms;
	uint32_t nperms;
	/* the children's names in the transaction's view, in order, indexed
	 * (a directory of a thousand domains is looked up by name, O(1)) */
	struct xs_names kids;
	/* a child of the tree's node left the view (XS_RM, or the node
	 * re-created): apply() must look for the tree's children to drop */
	bool kids_removed;
};

static void tnode_clear_kids(struct xs_tnode *tn)
{
	if (tn->kids.n)
		tn->kids_removed = true;
	xs_names_clear(&tn->kids);
}

static void tnode_free(void *val, void *arg)
{
	struct xs_tnode *tn = val;

	(void)arg;
	xs_names_clear(&tn->kids);
	free(tn->value);
	free(tn->perms);
	free(tn->path);
	free(tn);
}

/* Add name to tn's children. Already there only when the two copies were
 * made at different times around another commit (the transaction then
 * fails with EAGAIN anyway): listed once all the same. */
static int tnode_add_kid(struct xs_tnode *tn, const char *name)
{
	size_t len = strlen(name);

	if (xs_names_find(&tn->kids, name, len))
		return 0;
	return xs_names_add(&tn->kids, name, len);
}

static bool tnode_has_kid(const struct xs_tnode *tn, const char *name,
			  size_t len)
{
	return xs_names_find(&tn->kids, name, len);
}

static int set_value(char **dst, uint32_t *dlen, const void *v, uint32_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		return -ENOMEM;
	if (len)
		memcpy(p, v, len);
	free(*dst);
	*dst = p;
	*dlen = len;
	return 0;
}

static int set_perms(struct xs_perm **dst, uint32_t *dn,
		     const struct xs_perm *p, uint32_t n)
{
	struct xs_perm *np = malloc(n * sizeof(*np));

	if (!np)
		return -ENOMEM;
	memcpy(np, p, n * sizeof(*np));
	free(*dst);
	*dst = np;
	*dn = n;
	return 0;
}

/* xs_txn_new - a transaction starting at the current generation. */
struct xs_txn *xs_txn_new(struct xs_store *st, uint32_t id)
{
	struct xs_txn *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	if (xs_hash_init(&tx->nodes)) {
		free(tx);
		errno = ENOMEM;
		return NULL;
	}
	tx->id = id;
	tx->start_gen = st->tree.gen;
	return tx;
}

/* xs_txn_free - free the overlay. */
void xs_txn_free(struct xs_txn *tx)
{
	if (!tx)
		return;
	xs_hash_foreach(&tx->nodes, tnode_free, NULL);
	xs_hash_free(&tx->nodes);
	free(tx);
}

/*
 * Is path's state in the tree what the transaction sees? Not when the
 * nearest ancestor we hold in the overlay is gone or does not list the
 * next component (we removed or re-created something above).
 */
static bool tree_visible(struct xs_txn *tx, const char *path)
{
	char buf[XENSTORE_ABS_PATH_MAX + 2];
	size_t len = strlen(path);
	struct xs_tnode *ptn;
	char *slash;

	if (len >= sizeof(buf) || strcmp(path, "/") == 0)
		return true;
	memcpy(buf, path, len + 1);
	for (;;) {
		slash = strrchr(buf, '/');
		if (!slash)
			return true;
		if (slash == buf) {
			ptn = xs_hash_get(&tx->nodes, "/");
		} else {
			*slash = '\0';
			ptn = xs_hash_get(&tx->nodes, buf);
		}
		if (ptn) {
			const char *comp = path + (slash - buf) + 1;
			const char *end = strchr(comp, '/');
			size_t clen = end ? (size_t)(end - comp) : strlen(comp);

			return ptn->exists && tnode_has_kid(ptn, comp, clen);
		}
		if (slash == buf)
			return true;
	}
}

/* The overlay copy of path, made on first touch. NULL with errno. */
static struct xs_tnode *tx_node(struct xs_store *st, struct xs_txn *tx,
				const char *path)
{
	struct xs_tnode *tn = xs_hash_get(&tx->nodes, path);
	struct xs_node *n, *c;

	if (tn)
		return tn;
	tn = calloc(1, sizeof(*tn));
	if (!tn || !(tn->path = strdup(path))) {
		free(tn);
		errno = ENOMEM;
		return NULL;
	}
	n = xs_tree_get(&st->tree, path);
	tn->base_exists = n != NULL;
	tn->base_gen = n ? n->gen : 0;
	if (!tree_visible(tx, path)) {
		tn->shadowed = true;
	} else if (n) {
		tn->exists = true;
		if (n->gen > tx->start_gen)
			tx->conflict = true;
		if (set_value(&tn->value, &tn->vlen, n->value, n->vlen) ||
		    set_perms(&tn->perms, &tn->nperms, n->perms, n->nperms))
			goto nomem;
		TAILQ_FOREACH(c, &n->children, sib)
			if (tnode_add_kid(tn, c->name))
				goto nomem;
	} else {
		if (xs_tree_nearest(&st->tree, path)->gen > tx->start_gen)
			tx->conflict = true;
	}
	if (xs_hash_put(&tx->nodes, tn->path, tn))
		goto nomem;
	return tn;
nomem:
	tnode_free(tn, NULL);
	errno = ENOMEM;
	return NULL;
}

/* The parent path of an absolute path other than "/". */
static void parent_of(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	size_t plen = slash == path ? 1 : (size_t)(slash - path);

	if (plen >= outlen)
		plen = outlen - 1;
	memcpy(out, path, plen);
	out[plen] = '\0';
}

/* xs_db_get - what a read sees: 0, -ENOENT or -ENOMEM. */
int xs_db_get(struct xs_store *st, struct xs_txn *tx, const char *path,
	      struct xs_nodeinfo *ni)
{
	if (!tx) {
		struct xs_node *n = xs_tree_get(&st->tree, path);

		if (!n)
			return -ENOENT;
		ni->value = n->value;
		ni->vlen = n->vlen;
		ni->perms = n->perms;
		ni->nperms = n->nperms;
		ni->childlen = n->childlen;
		ni->gen = n->gen;
		return 0;
	} else {
		struct xs_tnode *tn = tx_node(st, tx, path);

		if (!tn)
			return -ENOMEM;
		if (!tn->exists)
			return -ENOENT;
		ni->value = tn->value;
		ni->vlen = tn->vlen;
		ni->perms = tn->perms;
		ni->nperms = tn->nperms;
		ni->childlen = tn->kids.childlen;
		ni->gen = tn->base_gen;
		return 0;
	}
}

/* xs_db_children - append "name\0" for each child; 0 or -errno. */
int xs_db_children(struct xs_store *st, struct xs_txn *tx, const char *path,
		   struct xs_buf *out)
{
	if (!tx) {
		struct xs_node *n = xs_tree_get(&st->tree, path), *c;

		if (!n)
			return -ENOENT;
		TAILQ_FOREACH(c, &n->children, sib)
			if (xs_buf_addstr(out, c->name))
				return -ENOMEM;
	} else {
		struct xs_tnode *tn = tx_node(st, tx, path);
		uint32_t off = 0;
		const char *k;

		if (!tn)
			return -ENOMEM;
		if (!tn->exists)
			return -ENOENT;
		while ((k = xs_names_next(&tn->kids, &off)))
			if (xs_buf_addstr(out, k))
				return -ENOMEM;
	}
	return 0;
}

/* xs_db_create - create path under its existing parent. */
int xs_db_create(struct xs_store *st, struct xs_txn *tx, const char *path,
		 const void *value, uint32_t vlen, const struct xs_perm *p,
		 uint32_t np)
{
	char parent[XENSTORE_ABS_PATH_MAX + 2];
	struct xs_tnode *tn, *ptn;

	if (!tx)
		return xs_tree_create(&st->tree, path, value, vlen, p, np)
			       ? 0
			       : -errno;
	parent_of(path, parent, sizeof(parent));
	tn = tx_node(st, tx, path);
	ptn = tx_node(st, tx, parent);
	if (!tn || !ptn)
		return -ENOMEM;
	if (tn->exists)
		return -EEXIST;
	if (!ptn->exists)
		return -ENOENT;
	if (set_value(&tn->value, &tn->vlen, value, vlen) ||
	    set_perms(&tn->perms, &tn->nperms, p, np) ||
	    tnode_add_kid(ptn, strrchr(path, '/') + 1))
		return -ENOMEM;
	tnode_clear_kids(tn);
	tn->exists = true;
	tn->modified = tn->wrote_value = tn->wrote_perms = true;
	/* a new node: no children of an old one (the tree may hold one
	 * there that the transaction removed above) */
	tn->kids_changed = tn->kids_removed = true;
	tn->implicit = st->implicit;
	ptn->modified = ptn->kids_changed = true;
	tx->created++;
	return 0;
}

/* xs_db_set_value - replace an existing node's value. */
int xs_db_set_value(struct xs_store *st, struct xs_txn *tx, const char *path,
		    const void *value, uint32_t vlen)
{
	struct xs_tnode *tn;

	if (!tx) {
		struct xs_node *n = xs_tree_get(&st->tree, path);

		return n ? xs_tree_set_value(&st->tree, n, value, vlen)
			 : -ENOENT;
	}
	tn = tx_node(st, tx, path);
	if (!tn)
		return -ENOMEM;
	if (!tn->exists)
		return -ENOENT;
	if (set_value(&tn->value, &tn->vlen, value, vlen))
		return -ENOMEM;
	tn->modified = tn->wrote_value = true;
	tn->implicit = false;
	return 0;
}

/* xs_db_set_perms - replace an existing node's permissions. */
int xs_db_set_perms(struct xs_store *st, struct xs_txn *tx, const char *path,
		    const struct xs_perm *p, uint32_t np)
{
	struct xs_tnode *tn;

	if (!tx) {
		struct xs_node *n = xs_tree_get(&st->tree, path);

		return n ? xs_tree_set_perms(&st->tree, n, p, np) : -ENOENT;
	}
	tn = tx_node(st, tx, path);
	if (!tn)
		return -ENOMEM;
	if (!tn->exists)
		return -ENOENT;
	if (set_perms(&tn->perms, &tn->nperms, p, np))
		return -ENOMEM;
	tn->modified = tn->wrote_perms = true;
	return 0;
}

struct hide_ctx {
	const char *prefix;
	size_t len;
};

static void hide_below(void *val, void *arg)
{
	struct xs_tnode *tn = val;
	struct hide_ctx *h = arg;

	if (strncmp(tn->path, h->prefix, h->len) == 0 &&
	    tn->path[h->len] == '/') {
		tn->exists = false;
		tn->modified = false;
		tnode_clear_kids(tn);
	}
}

/* xs_db_rm - remove path and its subtree (not "/"). */
int xs_db_rm(struct xs_store *st, struct xs_txn *tx, const char *path)
{
	char parent[XENSTORE_ABS_PATH_MAX + 2];
	struct xs_tnode *tn, *ptn;
	struct hide_ctx h = { path, strlen(path) };
	const char *name = strrchr(path, '/') + 1;

	if (strcmp(path, "/") == 0)
		return -EINVAL;
	if (!tx) {
		struct xs_node *n = xs_tree_get(&st->tree, path);

		if (!n)
			return -ENOENT;
		xs_tree_rm(&st->tree, n);
		return 0;
	}
	parent_of(path, parent, sizeof(parent));
	tn = tx_node(st, tx, path);
	ptn = tx_node(st, tx, parent);
	if (!tn || !ptn)
		return -ENOMEM;
	if (!tn->exists)
		return -ENOENT;
	/* what we copied below it is gone in our view (kept for validation) */
	xs_hash_foreach(&tx->nodes, hide_below, &h);
	tnode_clear_kids(tn);
	tn->exists = false;
	tn->modified = true;
	xs_names_del(&ptn->kids, name, strlen(name));
	ptn->modified = ptn->kids_changed = ptn->kids_removed = true;
	return 0;
}

struct collect {
	struct xs_tnode **v;
	size_t n;
	bool only_modified;
};

static void collect_one(void *val, void *arg)
{
	struct collect *c = arg;
	struct xs_tnode *tn = val;

	if (!c->only_modified || tn->modified)
		c->v[c->n++] = tn;
}

static int cmp_path(const void *a, const void *b)
{
	const struct xs_tnode *x = *(struct xs_tnode *const *)a;
	const struct xs_tnode *y = *(struct xs_tnode *const *)b;

	return strcmp(x->path, y->path);
}

static bool still_same(struct xs_store *st, const struct xs_tnode *tn)
{
	struct xs_node *n = xs_tree_get(&st->tree, tn->path);

	if (tn->shadowed)
		return true;
	if ((n != NULL) != tn->base_exists)
		return false;
	return !n || n->gen == tn->base_gen;
}

static int apply(struct xs_store *st, struct xs_tnode *tn)
{
	struct xs_tree *t = &st->tree;
	struct xs_node *n = xs_tree_get(t, tn->path), *c, *next;

	if (!tn->exists) {
		if (n)
			xs_tree_rm(t, n);
		return 0;
	}
	if (!n) {
		st->implicit = tn->implicit;
		n = xs_tree_create(t, tn->path, tn->value, tn->vlen, tn->perms,
				   tn->nperms);
		st->implicit = false;
		return n ? 0 : -errno;
	}
	if (tn->wrote_perms && xs_tree_set_perms(t, n, tn->perms, tn->nperms))
		return -ENOMEM;
	if (tn->wrote_value && xs_tree_set_value(t, n, tn->value, tn->vlen))
		return -ENOMEM;
	/* only a removal can drop a child: adding to a directory of a
	 * thousand does not look at the thousand */
	if (tn->kids_changed && tn->kids_removed)
		for (c = TAILQ_FIRST(&n->children); c; c = next) {
			next = TAILQ_NEXT(c, sib);
			if (!tnode_has_kid(tn, c->name, strlen(c->name)))
				xs_tree_rm(t, c);
		}
	return 0;
}

struct forget_ctx {
	struct xs_txn *tx;
	uint32_t domid;
};

static void forget_one(void *val, void *arg)
{
	const struct xs_tnode *tn = val;
	struct forget_ctx *f = arg;
	uint32_t i;

	if (!tn->exists)
		return;
	for (i = 0; i < tn->nperms; i++)
		if (tn->perms[i].domid == f->domid)
			f->tx->conflict = true;
}

/* xs_txn_forget_domain - fail the commit if a held node names domid. */
void xs_txn_forget_domain(struct xs_txn *tx, uint32_t domid)
{
	struct forget_ctx f = { tx, domid };

	if (!tx->conflict)
		xs_hash_foreach(&tx->nodes, forget_one, &f);
}

struct owned_ctx {
	uint32_t domid, n;
};

static int count_owned(const struct xs_node *n, void *arg)
{
	struct owned_ctx *o = arg;

	o->n += n->perms[0].domid == o->domid;
	return 0;
}

/* Nodes owned by domid in the subtree at n. */
static uint32_t subtree_owned(const struct xs_node *n, uint32_t domid)
{
	struct owned_ctx o = { domid, 0 };

	xs_tree_walk(n, count_owned, &o);
	return o.n;
}

/*
 * Quotas at commit (XSA-416): each request in a transaction was checked
 * against the tree as it was then, plus what that transaction had
 * created; ten transactions of the same domain, each under the nodes
 * quota alone, would together pass it tenfold. So the commit of an
 * unprivileged connection checks again, against the tree as it is now,
 * with the net change that applying the c->n modified nodes (validated,
 * in path order) would make, mirroring apply():
 *
 *   - a node the transaction holds as existing is created if the tree
 *     has none there or the tree's one goes with a removed ancestor
 *     (!tree_visible): +1 if the caller owns it;
 *   - an existing node that stays, with new permissions: +-1 as its
 *     owner changes to or from the caller;
 *   - a node that stays and whose list of children changed loses the
 *     tree's children it no longer lists, and their subtrees: minus the
 *     caller's nodes among them (this also counts every XS_RM: the
 *     parent of the topmost removed node is such a node).
 *
 * The nodes quota fails the commit only when the change adds nodes and
 * the total would pass the quota; the node-size quota only for a node
 * that grew past it (C xenstored checks every node it writes). ENOSPC,
 * nothing applied. Privileged connections (dom0 tools) are exempt.
 */
static int commit_quota(struct xs_store *st, struct xs_txn *tx,
			struct xs_tnode **v, size_t n)
{
	const struct xs_conn *c = st->cur;
	uint32_t domid, nodes, i;
	int64_t net = 0;
	size_t k;

	if (!c || c->privileged)
		return 0;
	domid = c->domid;
	for (k = 0; k < n; k++) {
		const struct xs_tnode *tn = v[k];
		const struct xs_node *t, *ch;
		bool stays;
		size_t size;

		if (!tn->exists)
			continue; /* counted at its parent */
		t = xs_tree_get(&st->tree, tn->path);
		stays = t && tree_visible(tx, tn->path);
		size = xs_node_size(tn->vlen, tn->nperms, tn->kids.childlen);
		if (size >= st->quota.val[XS_Q_NODE_SIZE] &&
		    (!stays ||
		     size > xs_node_size(t->vlen, t->nperms, t->childlen)))
			return -ENOSPC;
		if (!stays) {
			net += tn->perms[0].domid == domid;
			continue;
		}
		if (tn->wrote_perms)
			net += (int64_t)(tn->perms[0].domid == domid) -
			       (int64_t)(t->perms[0].domid == domid);
		if (tn->kids_changed && tn->kids_removed)
			TAILQ_FOREACH(ch, &t->children, sib)
				if (!tnode_has_kid(tn, ch->name,
						   strlen(ch->name)))
					net -= subtree_owned(ch, domid);
	}
	nodes = xs_tree_owned(&st->tree, domid);
	i = st->quota.val[XS_Q_NODES];
	if (net > 0 && (int64_t)nodes + net > (int64_t)i)
		return -ENOSPC;
	return 0;
}

/* xs_txn_commit - validate and apply; -EAGAIN on conflict. */
int xs_txn_commit(struct xs_store *st, struct xs_txn *tx)
{
	struct collect c = { NULL, 0, false };
	size_t i;
	int rc = 0;

	if (tx->conflict)
		return -EAGAIN;
	if (tx->nodes.n == 0)
		return 0;
	c.v = malloc(tx->nodes.n * sizeof(*c.v));
	if (!c.v)
		return -ENOMEM;
	xs_hash_foreach(&tx->nodes, collect_one, &c);
	for (i = 0; i < c.n; i++)
		if (!still_same(st, c.v[i])) {
			free(c.v);
			return -EAGAIN;
		}
	c.n = 0;
	c.only_modified = true;
	xs_hash_foreach(&tx->nodes, collect_one, &c);
	qsort(c.v, c.n, sizeof(*c.v), cmp_path);
	rc = commit_quota(st, tx, c.v, c.n);
	for (i = 0; i < c.n && rc == 0; i++)
		rc = apply(st, c.v[i]);
	free(c.v);
	return rc;
}
