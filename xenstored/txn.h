/*
 * txn.h - transactions (an overlay of copied nodes validated against generation
 * counts at commit) and the "db" view that hides whether a request runs
 * inside one (txn.c).
 */
#ifndef XENSTORED_TXN_H
#define XENSTORED_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "xenstored/perms.h"
#include "xenstored/util.h"

struct xs_store;
struct xs_conn;

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
 * xs_txn_forget_domain - domid is gone: if a node the transaction holds
 * names it in its permissions, the commit fails with EAGAIN (the retry
 * sees the tree without it). See domain.c's design note.
 */
void xs_txn_forget_domain(struct xs_txn *tx, uint32_t domid);

/*
 * The db view: tx NULL means the live tree (changes fire watches and are
 * journalled at once), else the transaction's overlay.
 */
int xs_db_get(struct xs_store *st, struct xs_txn *tx, const char *path,
	      struct xs_nodeinfo *ni); /* 0, -ENOENT, -ENOMEM */
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

#endif /* XENSTORED_TXN_H */
