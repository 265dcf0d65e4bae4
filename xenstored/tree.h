/*
 * tree.h - the node tree: lookup, listing, generation counts, per-domain
 * node accounting and the change hook (tree.c).
 */
#ifndef XENSTORED_TREE_H
#define XENSTORED_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "xenstored/perms.h"
#include "xenstored/quota.h"
#include "xenstored/util.h"

/* permission entries kept inside the node (most nodes: owner + one) */
#define XS_NODE_INL_PERMS 2

/*
 * A node is one allocation with its path (and its permissions when they
 * are few); the value is a second one, none for an empty value: a
 * thousand guests' nodes cost what their data does, plus little.
 */
struct xs_node {
	char *path;            /* absolute; the hash key; in pathbuf */
	struct xs_hlink hlink; /* in the tree's table of paths */
	const char *name;      /* last component, points into path */
	struct xs_node *parent;
	TAILQ_HEAD(, xs_node) children; /* in creation order */
	TAILQ_ENTRY(xs_node) sib;
	uint32_t nchildren;
	uint32_t childlen; /* sum of strlen(child name) + 1 */
	char *value;       /* vlen bytes; a shared "" when vlen is 0 */
	uint32_t vlen;
	struct xs_perm *perms;
	uint32_t nperms; /* >= 1; perms[0] is the owner and the default */
	uint32_t nrefs;  /* entries of refs */
	uint64_t gen;    /* store generation when value, perms or children
			  * last changed */
	/* the domain index (xs_tree_domain_nodes()): on its owner's list,
	 * and one ref on the list of each other domain its perms name */
	TAILQ_ENTRY(xs_node) own_link;
	struct xs_node_ref *refs;
	struct xs_perm perm_inl[XS_NODE_INL_PERMS]; /* perms, if they fit */
	char pathbuf[];
};

/* n's permissions name domid past the owner (the domain index). */
struct xs_node_ref {
	struct xs_node *n;
	uint32_t domid;
	TAILQ_ENTRY(xs_node_ref) link;
};

/*
 * What the tree holds about one domain id: how many nodes it owns and,
 * unless it is dom0 (never released), those nodes and the nodes whose
 * permissions name it past the owner, so that releasing a domain visits
 * its own nodes only, never the whole tree.
 */
struct xs_tree_dom {
	uint32_t owned;
	TAILQ_HEAD(, xs_node) own;
	TAILQ_HEAD(, xs_node_ref) listed;
};

enum xs_change {
	XS_CHANGE_WRITE,
	XS_CHANGE_RM_ROOT,
	XS_CHANGE_RM_CHILD
};

/* Called after a node was written and before a removed node is freed. */
typedef void (*xs_tree_hook)(void *arg, const struct xs_node *n,
			     enum xs_change what);

struct xs_tree {
	struct xs_ihash paths; /* of xs_node.hlink, by path */
	struct xs_node *root;
	uint64_t gen;           /* bumped on every change */
	struct xs_imap doms;    /* domid -> struct xs_tree_dom */
	struct xs_mem_acct mem; /* bytes per owner domid (quota "memory") */
	size_t nnodes;
	size_t bytes; /* values + paths, for memreport */
	xs_tree_hook hook;
	void *hook_arg;
};

/* xs_tree_init - a tree holding "/" (perms n0). 0 or -ENOMEM. */
int xs_tree_init(struct xs_tree *t);
void xs_tree_free(struct xs_tree *t);
/* xs_tree_get - the node at an absolute canonical path, or NULL. */
struct xs_node *xs_tree_get(const struct xs_tree *t, const char *path);
/* xs_tree_nearest - the deepest existing node on path (at least "/"). */
struct xs_node *xs_tree_nearest(const struct xs_tree *t, const char *path);
/*
 * xs_tree_create - create path under its existing parent, with a copy of
 * value and perms. NULL with errno (ENOENT: no parent, EEXIST, ENOMEM).
 */
struct xs_node *xs_tree_create(struct xs_tree *t, const char *path,
			       const void *value, uint32_t vlen,
			       const struct xs_perm *perms, uint32_t nperms);
/* xs_tree_set_value / xs_tree_set_perms - replace; 0 or -ENOMEM. */
int xs_tree_set_value(struct xs_tree *t, struct xs_node *n, const void *value,
		      uint32_t vlen);
int xs_tree_set_perms(struct xs_tree *t, struct xs_node *n,
		      const struct xs_perm *perms, uint32_t nperms);
/* xs_tree_rm - remove n and its subtree (not "/"). */
void xs_tree_rm(struct xs_tree *t, struct xs_node *n);
/* xs_tree_owned - nodes owned by domid. */
uint32_t xs_tree_owned(const struct xs_tree *t, uint32_t domid);
/* xs_tree_dom - what the tree holds about domid, or NULL (nothing). */
const struct xs_tree_dom *xs_tree_dom(const struct xs_tree *t, uint32_t domid);
/* xs_node_size - the size C xenstored's node-size quota counts. */
size_t xs_node_size(uint32_t vlen, uint32_t nperms, uint32_t childlen);
/* xs_tree_walk - preorder walk; stops and returns fn's value if nonzero. */
int xs_tree_walk(const struct xs_node *n,
		 int (*fn)(const struct xs_node *n, void *arg), void *arg);

#endif /* XENSTORED_TREE_H */
