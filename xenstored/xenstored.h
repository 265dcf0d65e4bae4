/*
 * xenstored.h - the store's internal interfaces, grouped by module.
 *
 *   util.c     string-keyed hash table (paths -> objects), byte buffer
 *   tree.c     the node tree: O(depth) lookup, O(children) listing,
 *              generation counts, per-domain node accounting, change hook
 *   perms.c    permission lists: parse, format, check
 *   txn.c      transactions: a per-transaction overlay of copied nodes,
 *              validated against generation counts at commit; also the
 *              "db" view used by ops.c, which hides whether a request
 *              runs inside a transaction
 *   watch.c    watches indexed by path; firing walks the written path's
 *              prefixes (O(depth)), never the whole watch list
 *   quota.c    quota table (C xenstored's names and defaults)
 *   domain.c   introduced domains, xs_domain_shut_down(), xs_domain_died()
 *   conn.c     connections: transport ops, xsd_sockmsg framing, queues
 *   ops.c      the op table and handlers; path canonicalisation
 *   control.c  XS_CONTROL commands
 *   persist.c  snapshot + append-only journal in the run directory
 *   sock.c     unix socket transport
 *   main.c     the daemon
 *
 * Everything hangs off one struct xs_store, so unit tests can build as
 * many independent stores as they like.
 */
#ifndef XENSTORED_XENSTORED_H
#define XENSTORED_XENSTORED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <xen/io/xs_wire.h>

struct xs_store;
struct xs_conn;
struct xs_txn;

/* ---- hash.c ------------------------------------------------------------ */

struct xs_hash_ent {
	struct xs_hash_ent *next;
	uint32_t hv;
	const char *key; /* borrowed from the value: must outlive the entry */
	void *val;
};

struct xs_hash {
	struct xs_hash_ent **b;
	size_t nbuckets; /* power of two */
	size_t n;
};

/* xs_hash_init - empty table; 0 or -ENOMEM. */
int xs_hash_init(struct xs_hash *h);
/* xs_hash_free - free the table (not the values). */
void xs_hash_free(struct xs_hash *h);
/* xs_hash_get - value stored under key, NULL if none. */
void *xs_hash_get(const struct xs_hash *h, const char *key);
/* xs_hash_put - add key (must not be present); 0 or -ENOMEM. */
int xs_hash_put(struct xs_hash *h, const char *key, void *val);
/* xs_hash_del - remove key; returns its value or NULL. */
void *xs_hash_del(struct xs_hash *h, const char *key);
/* xs_hash_foreach - call fn on every value; fn may not modify h. */
void xs_hash_foreach(const struct xs_hash *h, void (*fn)(void *val, void *arg),
		     void *arg);
uint32_t xs_hash_str(const char *s);

/* ---- growable byte buffer --------------------------------------------- */

struct xs_buf {
	char *p;
	size_t len, cap;
};
int xs_buf_add(struct xs_buf *b, const void *data, size_t len);
int xs_buf_addstr(struct xs_buf *b, const char *s); /* with its NUL */
int xs_buf_printf(struct xs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))); /* without NUL */
void xs_buf_free(struct xs_buf *b);

/* ---- perms.c ----------------------------------------------------------- */

#define XS_P_NONE 0x0
#define XS_P_READ 0x1
#define XS_P_WRITE 0x2
#define XS_P_OWNER 0x8 /* only as a requested right, never stored */

struct xs_perm {
	uint32_t domid;
	uint8_t perm; /* XS_P_READ | XS_P_WRITE */
};

/*
 * xs_perms_parse - parse n NUL-terminated strings ("r5", "b0", ...) at s
 * (len bytes) into out[n]. 0 or -EINVAL.
 */
int xs_perms_parse(const char *s, size_t len, unsigned n, struct xs_perm *out);
/* xs_perms_format - append "n0\0r5\0..." to b; 0 or -ENOMEM. */
int xs_perms_format(struct xs_buf *b, const struct xs_perm *p, unsigned n);
/*
 * xs_perms_for - the rights (XS_P_*) a caller has on a node with perms p.
 * privileged callers and the owner (p[0]) get everything, so does a caller
 * whose target domain owns the node; otherwise the first entry naming the
 * caller (or its target) applies, else the default (p[0].perm).
 */
unsigned xs_perms_for(const struct xs_perm *p, unsigned n, uint32_t domid,
		      bool privileged, int target);

/* ---- tree.c ------------------------------------------------------------ */

struct xs_node {
	char *path;       /* absolute, owned; the hash key */
	const char *name; /* last component, points into path */
	struct xs_node *parent;
	TAILQ_HEAD(, xs_node) children; /* in creation order */
	TAILQ_ENTRY(xs_node) sib;
	uint32_t nchildren;
	uint32_t childlen; /* sum of strlen(child name) + 1 */
	char *value;
	uint32_t vlen;
	struct xs_perm *perms;
	uint32_t nperms; /* >= 1; perms[0] is the owner and the default */
	uint64_t gen;    /* store generation when value, perms or children
			  * last changed */
};

enum xs_change { XS_CHANGE_WRITE, XS_CHANGE_RM_ROOT, XS_CHANGE_RM_CHILD };

/* Called after a node was written and before a removed node is freed. */
typedef void (*xs_tree_hook)(void *arg, const struct xs_node *n,
			     enum xs_change what);

struct xs_tree {
	struct xs_hash paths;
	struct xs_node *root;
	uint64_t gen;       /* bumped on every change */
	uint32_t *owned;    /* nodes per owner domid, [65536], lazily */
	size_t nnodes;
	size_t bytes;       /* values + paths, for memreport */
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
/* xs_node_size - the size C xenstored's node-size quota counts. */
size_t xs_node_size(uint32_t vlen, uint32_t nperms, uint32_t childlen);
/* xs_tree_walk - preorder walk; stops and returns fn's value if nonzero. */
int xs_tree_walk(const struct xs_node *n,
		 int (*fn)(const struct xs_node *n, void *arg), void *arg);

/* ---- quota.c ----------------------------------------------------------- */

enum xs_quota_id {  /* in C xenstored 4.17's order and names */
	XS_Q_NODES,       /* "nodes": nodes per domain */
	XS_Q_WATCHES,     /* "watches": watches per domain */
	XS_Q_TRANSACTIONS,/* "transactions": transactions per connection */
	XS_Q_OUTSTANDING, /* "outstanding": outstanding requests */
	XS_Q_TRANS_NODES, /* "transaction-nodes": nodes one transaction touches */
	XS_Q_NODE_SIZE,   /* "node-size": bytes per node */
	XS_Q_PATH_MAX,    /* "path-max": path length below /local/domain/<id>/ */
	XS_Q_PERMS,       /* "permissions": permissions per node */
	XS_Q_OUTPUT,      /* "output": bytes of watch events queued per domain */
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
/* xs_quota_set - set by name; value must be >= 1. 0 or -EINVAL. */
int xs_quota_set(struct xs_quota *q, const char *name, const char *value);
/* xs_quota_parse_arg - "name=value" (the --quota option). 0 or -EINVAL. */
int xs_quota_parse_arg(struct xs_quota *q, const char *arg);

/* ---- watch.c ----------------------------------------------------------- */

struct xs_watch {
	struct xs_conn *conn;
	char *path;    /* absolute (or @special); hash key of its list */
	char *token;
	size_t strip;  /* prefix length removed from event paths (relative) */
	TAILQ_ENTRY(xs_watch) by_path;
	TAILQ_ENTRY(xs_watch) by_conn;
};
TAILQ_HEAD(xs_watch_list, xs_watch);

struct xs_watches {
	struct xs_hash by_path; /* path -> struct xs_wpath */
	size_t count;
};

int xs_watches_init(struct xs_watches *w);
void xs_watches_free(struct xs_watches *w);
/*
 * xs_watch_add - register (path, token) for conn; strip is the length of
 * the domain path prefix for a relative watch (0 otherwise).
 * 0, -EEXIST (same path and token), -E2BIG (quota), -ENOMEM.
 */
int xs_watch_add(struct xs_store *st, struct xs_conn *c, const char *path,
		 const char *token, size_t strip);
/* xs_watch_initial - queue the event a new watch fires once (after the
 * WATCH reply). */
void xs_watch_initial(struct xs_store *st, struct xs_conn *c, const char *path,
		      const char *token);
/* xs_watch_del - unregister; 0 or -ENOENT. */
int xs_watch_del(struct xs_store *st, struct xs_conn *c, const char *path,
		 const char *token);
/* xs_watch_del_all - drop every watch of c (RESET_WATCHES, close). */
void xs_watch_del_all(struct xs_store *st, struct xs_conn *c);
/*
 * xs_watch_fire - queue events for a change of path: to watches on path
 * and (unless exact) on each of its ancestors, for connections allowed to
 * read the node (perms p) or, as in C xenstored, its parent (perms pp,
 * NULL if none).
 */
void xs_watch_fire(struct xs_store *st, const char *path,
		   const struct xs_perm *p, unsigned np,
		   const struct xs_perm *pp, unsigned npp, bool exact);

/* ---- txn.c ------------------------------------------------------------- */

struct xs_txn {
	uint32_t id;
	uint64_t start_gen;
	struct xs_hash nodes; /* path -> struct xs_tnode */
	bool conflict;        /* saw a change made after start */
	uint32_t created;     /* nodes created, for the nodes quota */
	TAILQ_ENTRY(xs_txn) link;
};

/* What a read sees, inside a transaction or not. Borrowed pointers valid
 * until the next change. */
struct xs_nodeinfo {
	const char *value;
	uint32_t vlen;
	const struct xs_perm *perms;
	uint32_t nperms;
	uint32_t childlen;
	uint64_t gen;
};

/* xs_txn_new / xs_txn_free - a transaction starting at the current
 * generation. NULL with errno. */
struct xs_txn *xs_txn_new(struct xs_store *st, uint32_t id);
void xs_txn_free(struct xs_txn *tx);
/*
 * xs_txn_commit - validate every node the transaction touched against its
 * generation count and apply the changes (firing watches, journalling).
 * -EAGAIN on conflict (nothing applied), -ENOMEM. Does not free tx.
 */
int xs_txn_commit(struct xs_store *st, struct xs_txn *tx);

/*
 * The db view: tx NULL means the live tree (changes fire watches and are
 * journalled at once), else the transaction's overlay.
 */
int xs_db_get(struct xs_store *st, struct xs_txn *tx, const char *path,
	      struct xs_nodeinfo *ni);                /* 0, -ENOENT, -ENOMEM */
/* xs_db_children - append "name\0" for each child; 0 or -errno. */
int xs_db_children(struct xs_store *st, struct xs_txn *tx, const char *path,
		   struct xs_buf *out);
int xs_db_create(struct xs_store *st, struct xs_txn *tx, const char *path,
		 const void *value, uint32_t vlen, const struct xs_perm *p,
		 uint32_t np);
int xs_db_set_value(struct xs_store *st, struct xs_txn *tx, const char *path,
		    const void *value, uint32_t vlen);
int xs_db_set_perms(struct xs_store *st, struct xs_txn *tx, const char *path,
		    const struct xs_perm *p, uint32_t np);
int xs_db_rm(struct xs_store *st, struct xs_txn *tx, const char *path);

/* ---- domain.c ---------------------------------------------------------- */

struct xs_domain {
	uint32_t domid;
	uint64_t mfn;     /* gfn of the ring page, as XS_INTRODUCE gave it */
	uint32_t port;    /* its event channel */
	int target;       /* XS_SET_TARGET, -1 if none */
	bool shutdown;
	struct xs_conn *conn; /* the ring connection, NULL until attached */
	TAILQ_ENTRY(xs_domain) link;
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

struct xs_domain *xs_domain_find(struct xs_store *st, uint32_t domid);
/* xs_domain_introduce - record (or update) a domain, persist it, attach
 * its ring and fire @introduceDomain when new. 0 or -errno. */
int xs_domain_introduce(struct xs_store *st, uint32_t domid, uint64_t mfn,
			uint32_t port);
/* xs_domain_release - forget a domain: detach, drop its connection,
 * delete the nodes it owned, persist, fire @releaseDomain. 0 or -ENOENT. */
int xs_domain_release(struct xs_store *st, uint32_t domid);
/* xs_domain_set_target - domid may act as tdomid's owner. 0 or -ENOENT. */
int xs_domain_set_target(struct xs_store *st, uint32_t domid, uint32_t tdomid);
/*
 * xs_domain_died - the hv layer's death event: drops the domain, its
 * connection and the nodes it owned, fires @releaseDomain. Safe for
 * unknown domids.
 */
void xs_domain_died(struct xs_store *st, uint32_t domid);
/*
 * xs_domain_shut_down - the hv layer's shutdown event (reason: a
 * SHUTDOWN_* of <xen/sched.h>): fires @releaseDomain and keeps the domain
 * and its connection. Safe for unknown domids.
 */
void xs_domain_shut_down(struct xs_store *st, uint32_t domid,
			 unsigned int reason);
/* xs_domain_restore - record a domain loaded from persistent state (no
 * watch fired, not journalled). 0 or -ENOMEM. */
int xs_domain_restore(struct xs_store *st, uint32_t domid, uint64_t mfn,
		      uint32_t port, int target);
/* xs_domain_forget - drop a domain quietly (replaying the journal). */
void xs_domain_forget(struct xs_store *st, uint32_t domid);
/* xs_domains_attach_all - attach rings of restored domains (at start). */
void xs_domains_attach_all(struct xs_store *st);
void xs_domains_free(struct xs_store *st);

/* ---- conn.c ------------------------------------------------------------ */

/*
 * A transport. read/write return bytes moved (0: would block) or -errno
 * (the connection is gone). can_read/can_write say whether the transport
 * has room now (a socket always says yes and lets read return 0).
 * kick: output was queued, arrange for xs_conn_flush() to be called.
 * destroy: free the transport's state (called once, from xs_conn_free).
 */
struct xs_conn_ops {
	ssize_t (*read)(struct xs_conn *c, void *buf, size_t len);
	ssize_t (*write)(struct xs_conn *c, const void *buf, size_t len);
	bool (*can_read)(struct xs_conn *c);
	bool (*can_write)(struct xs_conn *c);
	void (*kick)(struct xs_conn *c);
	void (*destroy)(struct xs_conn *c);
};

struct xs_msg {
	TAILQ_ENTRY(xs_msg) link;
	bool is_event;
	uint32_t len; /* header + payload */
	char data[];  /* struct xsd_sockmsg then payload */
};

struct xs_conn {
	const struct xs_conn_ops *ops;
	void *priv;
	struct xs_store *st;
	uint32_t domid;
	bool privileged; /* dom0 tools (socket) */
	int target;      /* domid this connection may act for, -1 */
	uint64_t id;     /* for logs and memreport */

	/* input: the header, then a private copy of the payload */
	struct xsd_sockmsg hdr;
	uint32_t hdr_got;
	char in[XENSTORE_PAYLOAD_MAX + 1]; /* the payload (+ a NUL guard) */
	uint32_t in_got;

	/* output */
	TAILQ_HEAD(xs_msg_list, xs_msg) out;
	uint32_t out_off;
	unsigned outstanding; /* replies queued, not yet written */
	size_t out_bytes;

	TAILQ_HEAD(, xs_txn) txns;
	unsigned ntxns;
	uint32_t next_txid;
	struct xs_watch_list watches;
	unsigned nwatches;

	bool closing; /* protocol error or released: drop after flushing */
	bool overflow; /* watch events past the output quota: stop it */

	/* a read buffer, so that one read(2) serves many small requests */
	char rbuf[8192];
	uint32_t rlen, roff;
	bool drained; /* this input pass's last read was short */
	uint64_t nreq;
	TAILQ_ENTRY(xs_conn) link;
};

/* xs_conn_new - a connection on transport ops with private state priv.
 * NULL with errno. */
struct xs_conn *xs_conn_new(struct xs_store *st, const struct xs_conn_ops *ops,
			    void *priv, uint32_t domid, bool privileged);
/* xs_conn_free - drop transactions, watches, queues; destroy transport. */
void xs_conn_free(struct xs_conn *c);
/*
 * xs_conn_input - read and handle every complete request the transport
 * has (stops while the outstanding-request quota is reached).
 * 0, or -errno when the connection must be closed.
 */
int xs_conn_input(struct xs_conn *c);
/* xs_conn_flush - write queued output; 0, or -errno (closed). */
int xs_conn_flush(struct xs_conn *c);
/* xs_conn_queue - queue one message (reply or event). 0 or -ENOMEM. */
int xs_conn_queue(struct xs_conn *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *data, size_t len, bool is_event);
/* xs_conn_can_read - may input be read now (transport + outstanding). */
bool xs_conn_can_read(struct xs_conn *c);
struct xs_txn *xs_conn_find_txn(struct xs_conn *c, uint32_t id);

/* ---- ops.c ------------------------------------------------------------- */

/* One request: the header and the private payload copy. */
struct xs_req {
	struct xs_conn *conn;
	struct xsd_sockmsg hdr;
	const char *data;
	uint32_t len;
	struct xs_txn *tx;   /* the transaction named by tx_id, or NULL */
	struct xs_buf reply; /* a handler's reply payload */
	/* WATCH: the initial event follows the reply */
	const char *watch_path, *watch_token;
};

#define XS_OP_PRIV 0x1    /* privileged connections only */
#define XS_OP_NOTX 0x2    /* tx_id is ignored */
#define XS_OP_WRITES 0x4  /* changes the store */

struct xs_op {
	const char *name;
	int (*handler)(struct xs_req *req);
	unsigned flags;
};

/* xs_op_name - the wire type's name ("WRITE"), "?" if unknown. */
const char *xs_op_name(uint32_t type);
/*
 * xs_dispatch - handle one request: checks type, privilege and the
 * transaction, calls the handler, journals, queues the reply or XS_ERROR.
 */
void xs_dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr,
		 const char *data);
/* xs_errno_name - the xsd_errors name for errno e ("EINVAL" if none). */
const char *xs_errno_name(int e);
/*
 * xs_canonicalize - resolve a client path (relative ones under
 * /local/domain/<domid>) into out (XENSTORE_ABS_PATH_MAX + 1 bytes) and
 * validate it. allow_special accepts @names. *strip gets the prefix length
 * added for a relative path. 0 or -EINVAL.
 */
int xs_canonicalize(const struct xs_store *st, uint32_t domid,
		    const char *in, bool allow_special, char *out,
		    size_t *strip);

/* ---- control.c --------------------------------------------------------- */

/* xs_control - XS_CONTROL: argv of argc strings; reply text into out. */
int xs_control(struct xs_store *st, struct xs_conn *c, char **argv, int argc,
	       struct xs_buf *out);
/* xs_memreport - JSON text of nodes, watches, connections and domains
 * into out; at most max_list connections and domains listed (0: all). */
int xs_memreport(struct xs_store *st, struct xs_buf *out, size_t max_list);

/* ---- persist.c --------------------------------------------------------- */

struct xs_persist;

/*
 * xs_persist_open - load <dir>/xenstored.db and replay
 * <dir>/xenstored.journal into st (creating both when absent), then keep
 * journalling every change. NULL with errno (EBUSY: another daemon holds
 * <dir>/xenstored.lock).
 */
struct xs_persist *xs_persist_open(struct xs_store *st, const char *dir);
/* xs_persist_flush - write the changes of the request just handled as one
 * record (before its reply leaves). 0 or -errno. */
int xs_persist_flush(struct xs_persist *p);
/* xs_persist_snapshot - write a snapshot and restart the journal. */
int xs_persist_snapshot(struct xs_persist *p);
/* xs_persist_close - snapshot and close. */
void xs_persist_close(struct xs_persist *p);
/* xs_persist_abandon - close without a snapshot (what a crash leaves). */
void xs_persist_abandon(struct xs_persist *p);
/* journal hooks (called by tree and domain code through the store) */
void xs_persist_node(struct xs_persist *p, const struct xs_node *n);
void xs_persist_rm(struct xs_persist *p, const char *path);
void xs_persist_domain(struct xs_persist *p, const struct xs_domain *d);
void xs_persist_domain_rm(struct xs_persist *p, uint32_t domid);
struct xs_special;
void xs_persist_special(struct xs_persist *p, const struct xs_special *sp);
struct xs_persist_stats {
	uint64_t records, bytes, snapshots, journal_size;
};
void xs_persist_get_stats(const struct xs_persist *p,
			  struct xs_persist_stats *s);

/* ---- the store --------------------------------------------------------- */

struct xs_special {
	const char *name; /* "@introduceDomain", "@releaseDomain" */
	struct xs_perm perms[8];
	uint32_t nperms;
};

struct xs_store {
	struct xs_tree tree;
	struct xs_watches watches;
	struct xs_quota quota;
	struct xs_special special[2];
	TAILQ_HEAD(, xs_conn) conns;
	TAILQ_HEAD(, xs_domain) domains;
	size_t nconns, ndomains;
	uint64_t next_conn_id;
	struct xs_persist *persist;
	struct xs_ring_ops ring;
	struct xs_conn *cur;  /* connection whose request runs now */
	/* creating the missing parents of a written path: their creation
	 * fires no watch of its own (only the written path does) */
	bool implicit;
	/* statistics */
	uint64_t nrequests, nerrors, nevents, ntx_commits, ntx_conflicts;
	uint64_t nops[XS_TYPE_COUNT];
};

/* xs_store_init - "/", "/tool", "/tool/xenstored", default quotas. */
int xs_store_init(struct xs_store *st);
/* xs_store_free - close every connection and free everything. */
void xs_store_free(struct xs_store *st);
/* xs_store_special - the @name special node, or NULL. */
struct xs_special *xs_store_special(struct xs_store *st, const char *name);

#endif /* XENSTORED_XENSTORED_H */
