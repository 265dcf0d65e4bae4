/*
 * tree.c - the node tree.
 *
 * Every node is in one hash table keyed by its absolute path, so a lookup
 * costs one hash of the path (O(depth)); each node also keeps its children
 * in a list in creation order, so listing is O(children) and removing a
 * subtree visits only that subtree.
 *
 * Generation counts. The tree has a counter bumped by every change; a node
 * records the counter's value when its value, permissions or list of
 * children last changed. A transaction remembers the counter at its start
 * and the generation of each node it touches; see txn.c for how that gives
 * snapshot reads and conflict detection without copying the tree.
 *
 * Accounting: owned[domid] counts the nodes whose owner (perms[0]) is
 * domid, for the nodes quota; mem the bytes they cost, for the memory
 * quota (node_mem(), a child's name charged to its parent's owner).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "xenstored/tree.h"

static struct xs_tree_dom *tree_dom(struct xs_tree *t, uint32_t domid)
{
	struct xs_tree_dom *d = xs_imap_get(&t->doms, domid);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	TAILQ_INIT(&d->own);
	TAILQ_INIT(&d->listed);
	if (xs_imap_put(&t->doms, domid, d)) {
		free(d);
		return NULL;
	}
	return d;
}

static void tree_dom_put(struct xs_tree *t, uint32_t domid,
			 struct xs_tree_dom *d)
{
	if (!d->owned && TAILQ_EMPTY(&d->own) && TAILQ_EMPTY(&d->listed)) {
		xs_imap_del(&t->doms, domid);
		free(d);
	}
}

/*
 * index_prepare - make the records of every domain perms names, and the
 * refs array index_link() fills (NULL when none is needed). 0 or
 * -ENOMEM (a record made here then stays, empty and harmless).
 */
static int index_prepare(struct xs_tree *t, const struct xs_perm *perms,
			 uint32_t nperms, struct xs_node_ref **refs)
{
	uint32_t owner = perms[0].domid, i, k = 0;

	*refs = NULL;
	for (i = 0; i < nperms; i++) {
		if (i > 0 && perms[i].domid != 0 && perms[i].domid != owner)
			k++;
		if ((i == 0 || perms[i].domid != 0) &&
		    !tree_dom(t, perms[i].domid))
			return -ENOMEM;
	}
	if (k && !(*refs = malloc(k * sizeof(**refs))))
		return -ENOMEM;
	return 0;
}

/*
 * index_link - put n (its perms set, index_prepare() done) in the domain
 * index: counted for its owner, on its owner's list and, through a ref
 * each, on the list of every other domain its perms name (dom0 is never
 * released: counted only).
 */
static void index_link(struct xs_tree *t, struct xs_node *n,
		       struct xs_node_ref *refs)
{
	uint32_t owner = n->perms[0].domid, i, j, k = 0;
	struct xs_tree_dom *d = xs_imap_get(&t->doms, owner);

	d->owned++;
	if (owner != 0)
		TAILQ_INSERT_TAIL(&d->own, n, own_link);
	for (i = 1; i < n->nperms; i++) {
		uint32_t dom = n->perms[i].domid;

		if (dom == 0 || dom == owner)
			continue;
		for (j = 0; j < k && refs[j].domid != dom; j++)
			;
		if (j < k)
			continue; /* named twice: one ref */
		refs[k].n = n;
		refs[k].domid = dom;
		d = xs_imap_get(&t->doms, dom);
		TAILQ_INSERT_TAIL(&d->listed, &refs[k], link);
		k++;
	}
	n->refs = refs;
	n->nrefs = k;
}

static int index_node(struct xs_tree *t, struct xs_node *n)
{
	struct xs_node_ref *refs;

	if (index_prepare(t, n->perms, n->nperms, &refs))
		return -ENOMEM;
	index_link(t, n, refs);
	return 0;
}

/* unindex_node - take n out of the domain index (before its perms go);
 * records left empty are freed, unless keep. */
static void unindex_node(struct xs_tree *t, struct xs_node *n, bool keep)
{
	uint32_t owner = n->perms[0].domid, i;
	struct xs_tree_dom *d = xs_imap_get(&t->doms, owner);

	d->owned--;
	if (owner != 0)
		TAILQ_REMOVE(&d->own, n, own_link);
	if (!keep)
		tree_dom_put(t, owner, d);
	for (i = 0; i < n->nrefs; i++) {
		d = xs_imap_get(&t->doms, n->refs[i].domid);
		TAILQ_REMOVE(&d->listed, &n->refs[i], link);
		if (!keep)
			tree_dom_put(t, n->refs[i].domid, d);
	}
	free(n->refs);
	n->refs = NULL;
	n->nrefs = 0;
}

/* Free the records of perms' domains that nothing uses any more. */
static void index_put(struct xs_tree *t, const struct xs_perm *perms,
		      uint32_t nperms)
{
	uint32_t i;

	for (i = 0; i < nperms; i++) {
		struct xs_tree_dom *d = xs_imap_get(&t->doms, perms[i].domid);

		if (d)
			tree_dom_put(t, perms[i].domid, d);
	}
}

static long node_mem(const struct xs_node *n)
{
	return (long)xs_quota_node_mem(strlen(n->path), n->vlen, n->nperms,
				       n->childlen);
}

/* xs_tree_owned - nodes owned by domid. */
uint32_t xs_tree_owned(const struct xs_tree *t, uint32_t domid)
{
	const struct xs_tree_dom *d = xs_imap_get(&t->doms, domid);

	return d ? d->owned : 0;
}

/* xs_tree_dom - what the tree holds about domid, or NULL. */
const struct xs_tree_dom *xs_tree_dom(const struct xs_tree *t, uint32_t domid)
{
	return xs_imap_get(&t->doms, domid);
}

/* xs_node_size - what the node-size quota counts: value, children names
 * and permission entries, as C xenstored's record size does. */
size_t xs_node_size(uint32_t vlen, uint32_t nperms, uint32_t childlen)
{
	return (size_t)vlen + childlen + (size_t)nperms * 4 + 16;
}

static struct xs_node *node_of(struct xs_hlink *l)
{
	return l ? (struct xs_node *)((char *)l -
				      offsetof(struct xs_node, hlink))
		 : NULL;
}

static const char *node_key(const struct xs_hlink *l)
{
	return node_of((struct xs_hlink *)l)->path;
}

/* The value of every node whose value is empty (never written to). */
static char empty_value[1];

static char *value_dup(const void *value, uint32_t vlen)
{
	char *v;

	if (!vlen)
		return empty_value;
	v = malloc(vlen);
	if (v)
		memcpy(v, value, vlen);
	return v;
}

static void value_free(char *v)
{
	if (v != empty_value)
		free(v);
}

static struct xs_node *node_alloc(const char *path, const void *value,
				  uint32_t vlen, const struct xs_perm *perms,
				  uint32_t nperms)
{
	size_t plen = strlen(path) + 1;
	struct xs_node *n = calloc(1, sizeof(*n) + plen);

	if (!n)
		return NULL;
	TAILQ_INIT(&n->children);
	memcpy(n->pathbuf, path, plen);
	n->path = n->pathbuf;
	n->value = value_dup(value, vlen);
	n->perms = nperms <= XS_NODE_INL_PERMS
			   ? n->perm_inl
			   : malloc(nperms * sizeof(*perms));
	if (!n->value || !n->perms) {
		if (n->value)
			value_free(n->value);
		if (n->perms != n->perm_inl)
			free(n->perms);
		free(n);
		return NULL;
	}
	n->vlen = vlen;
	memcpy(n->perms, perms, nperms * sizeof(*perms));
	n->nperms = nperms;
	n->name = strrchr(n->path, '/') + 1;
	return n;
}

static void node_free(struct xs_node *n)
{
	value_free(n->value);
	if (n->perms != n->perm_inl)
		free(n->perms);
	free(n);
}

/* xs_tree_init - a tree holding "/" (perms n0). 0 or -ENOMEM. */
int xs_tree_init(struct xs_tree *t)
{
	static const struct xs_perm n0 = { 0, XS_P_NONE };

	memset(t, 0, sizeof(*t));
	if (xs_ihash_init(&t->paths, node_key))
		return -ENOMEM;
	t->root = node_alloc("/", NULL, 0, &n0, 1);
	if (!t->root) {
		xs_ihash_free(&t->paths);
		return -ENOMEM;
	}
	xs_ihash_put(&t->paths, &t->root->hlink);
	if (index_node(t, t->root)) {
		xs_tree_free(t);
		return -ENOMEM;
	}
	t->root->name = ""; /* "/" has no last component */
	t->gen = 1;
	t->root->gen = 1;
	t->nnodes = 1;
	xs_mem_acct_add(&t->mem, 0, node_mem(t->root));
	return 0;
}

static void free_subtree(struct xs_node *n)
{
	struct xs_node *c;

	while ((c = TAILQ_FIRST(&n->children))) {
		TAILQ_REMOVE(&n->children, c, sib);
		free_subtree(c);
	}
	free(n->refs);
	node_free(n);
}

static void free_dom(void *val, void *arg)
{
	(void)arg;
	free(val);
}

/* xs_tree_free - free every node; the hook is not called. */
void xs_tree_free(struct xs_tree *t)
{
	if (t->root)
		free_subtree(t->root);
	t->root = NULL;
	xs_ihash_free(&t->paths);
	xs_imap_foreach(&t->doms, free_dom, NULL);
	xs_imap_free(&t->doms);
	xs_mem_acct_free(&t->mem);
}

/* xs_tree_get - the node at an absolute canonical path, or NULL. */
struct xs_node *xs_tree_get(const struct xs_tree *t, const char *path)
{
	return node_of(xs_ihash_get(&t->paths, path));
}

/* xs_tree_nearest - the deepest existing node on path (at least "/"). */
struct xs_node *xs_tree_nearest(const struct xs_tree *t, const char *path)
{
	char buf[XENSTORE_ABS_PATH_MAX + 2];
	size_t len = strlen(path);
	struct xs_node *n;
	char *slash;

	if (len >= sizeof(buf))
		return t->root;
	memcpy(buf, path, len + 1);
	for (;;) {
		n = node_of(xs_ihash_get(&t->paths, buf));
		if (n)
			return n;
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return t->root;
		*slash = '\0';
	}
}

static void changed(struct xs_tree *t, struct xs_node *n)
{
	n->gen = ++t->gen;
}

/* xs_tree_create - create path under its existing parent. */
struct xs_node *xs_tree_create(struct xs_tree *t, const char *path,
			       const void *value, uint32_t vlen,
			       const struct xs_perm *perms, uint32_t nperms)
{
	char pbuf[XENSTORE_ABS_PATH_MAX + 2];
	const char *slash = strrchr(path, '/');
	struct xs_node *parent, *n;
	size_t plen;

	if (!slash || path[0] != '/' || slash[1] == '\0' || nperms == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (xs_ihash_get(&t->paths, path)) {
		errno = EEXIST;
		return NULL;
	}
	plen = slash == path ? 1 : (size_t)(slash - path);
	if (plen >= sizeof(pbuf)) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(pbuf, path, plen);
	pbuf[plen] = '\0';
	parent = node_of(xs_ihash_get(&t->paths, pbuf));
	if (!parent) {
		errno = ENOENT;
		return NULL;
	}
	n = node_alloc(path, value, vlen, perms, nperms);
	if (!n) {
		errno = ENOMEM;
		return NULL;
	}
	if (index_node(t, n)) {
		node_free(n);
		errno = ENOMEM;
		return NULL;
	}
	xs_ihash_put(&t->paths, &n->hlink);
	n->parent = parent;
	TAILQ_INSERT_TAIL(&parent->children, n, sib);
	parent->nchildren++;
	parent->childlen += (uint32_t)strlen(n->name) + 1;
	changed(t, parent);
	changed(t, n);
	t->nnodes++;
	t->bytes += strlen(path) + vlen;
	xs_mem_acct_add(&t->mem, parent->perms[0].domid,
			(long)strlen(n->name) + 1);
	xs_mem_acct_add(&t->mem, perms[0].domid, node_mem(n));
	if (t->hook)
		t->hook(t->hook_arg, n, XS_CHANGE_WRITE);
	return n;
}

/* xs_tree_set_value - replace the value; 0 or -ENOMEM. */
int xs_tree_set_value(struct xs_tree *t, struct xs_node *n, const void *value,
		      uint32_t vlen)
{
	char *v = value_dup(value, vlen);

	if (!v)
		return -ENOMEM;
	t->bytes += vlen;
	t->bytes -= n->vlen;
	xs_mem_acct_add(&t->mem, n->perms[0].domid, (long)vlen - (long)n->vlen);
	value_free(n->value);
	n->value = v;
	n->vlen = vlen;
	changed(t, n);
	if (t->hook)
		t->hook(t->hook_arg, n, XS_CHANGE_WRITE);
	return 0;
}

/* xs_tree_set_perms - replace the permissions (nperms >= 1); 0 or -errno. */
int xs_tree_set_perms(struct xs_tree *t, struct xs_node *n,
		      const struct xs_perm *perms, uint32_t nperms)
{
	struct xs_perm *p = NULL, *old = n->perms;
	struct xs_perm oldinl[XS_NODE_INL_PERMS];
	struct xs_node_ref *refs;
	uint32_t oldn = n->nperms;

	if (nperms == 0)
		return -EINVAL;
	if (nperms > XS_NODE_INL_PERMS && !(p = malloc(nperms * sizeof(*p))))
		return -ENOMEM;
	if (index_prepare(t, perms, nperms, &refs)) {
		free(p);
		return -ENOMEM;
	}
	xs_mem_acct_add(&t->mem, n->perms[0].domid, -node_mem(n));
	unindex_node(t, n, true);
	if (old == n->perm_inl) { /* overwritten below: keep a copy */
		memcpy(oldinl, old, oldn * sizeof(*old));
		old = oldinl;
	}
	if (!p)
		p = n->perm_inl;
	memmove(p, perms, nperms * sizeof(*p));
	n->perms = p;
	n->nperms = nperms;
	index_link(t, n, refs);
	index_put(t, old, oldn);
	if (old != oldinl)
		free(old);
	xs_mem_acct_add(&t->mem, p[0].domid, node_mem(n));
	changed(t, n);
	if (t->hook)
		t->hook(t->hook_arg, n, XS_CHANGE_WRITE);
	return 0;
}

static void rm_subtree(struct xs_tree *t, struct xs_node *n, bool is_root)
{
	struct xs_node *c;

	/* children first: the hook sees each node while it still exists */
	while ((c = TAILQ_FIRST(&n->children))) {
		TAILQ_REMOVE(&n->children, c, sib);
		rm_subtree(t, c, false);
	}
	if (t->hook)
		t->hook(t->hook_arg, n,
			is_root ? XS_CHANGE_RM_ROOT : XS_CHANGE_RM_CHILD);
	xs_ihash_del(&t->paths, n->path);
	unindex_node(t, n, false);
	xs_mem_acct_add(&t->mem, n->perms[0].domid, -node_mem(n));
	t->nnodes--;
	t->bytes -= strlen(n->path) + n->vlen;
	node_free(n);
}

/* xs_tree_rm - remove n and its subtree (never "/"). */
void xs_tree_rm(struct xs_tree *t, struct xs_node *n)
{
	struct xs_node *parent = n->parent;

	if (!parent)
		return;
	TAILQ_REMOVE(&parent->children, n, sib);
	parent->nchildren--;
	parent->childlen -= (uint32_t)strlen(n->name) + 1;
	xs_mem_acct_add(&t->mem, parent->perms[0].domid,
			-((long)strlen(n->name) + 1));
	changed(t, parent);
	rm_subtree(t, n, true);
}

/* xs_tree_walk - preorder walk; stops and returns fn's value if nonzero. */
int xs_tree_walk(const struct xs_node *n,
		 int (*fn)(const struct xs_node *n, void *arg), void *arg)
{
	const struct xs_node *c;
	int rc = fn(n, arg);

	if (rc)
		return rc;
	TAILQ_FOREACH(c, &n->children, sib) {
		rc = xs_tree_walk(c, fn, arg);
		if (rc)
			return rc;
	}
	return 0;
}
