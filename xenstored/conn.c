/*
 * conn.c - a connection: created on a transport (sock.c, the hv layer's
 * ring), freed with its transactions, watches and queued output.
 * Its output side is queue.c, its input side input.c.
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

/* xs_conn_new - a connection on a transport. NULL with errno. */
struct xs_conn *xs_conn_new(struct xs_store *st, const struct xs_conn_ops *ops,
			    void *priv, uint32_t domid, bool privileged)
{
	struct xs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = ops;
	c->priv = priv;
	c->st = st;
	c->domid = domid;
	c->privileged = privileged;
	c->target = -1;
	c->id = ++st->next_conn_id;
	c->next_txid = 1;
	TAILQ_INIT(&c->out);
	TAILQ_INIT(&c->txns);
	TAILQ_INIT(&c->watches);
	TAILQ_INSERT_TAIL(&st->conns, c, link);
	st->nconns++;
	return c;
}

/* xs_conn_free - drop transactions, watches, queues; destroy transport. */
void xs_conn_free(struct xs_conn *c)
{
	struct xs_store *st = c->st;
	struct xs_domain *d;

	/* its watches go with it, not from the journal: a released domain's
	 * go with its record there (domain_rm), dom0's ring's stay */
	c->keep_watches = false;

	/* only ring_attach() sets d->conn, to a connection of d->domid
	 * (the map itself: domain.c calls us, not the other way) */
	d = xs_imap_get(&st->domain_ids, c->domid);
	if (d && d->conn == c)
		d->conn = NULL;
	xs_conn_drop_session(c);
	xs_conn_drop_stream(c, false);
	TAILQ_REMOVE(&st->conns, c, link);
	st->nconns--;
	if (st->cur == c)
		st->cur = NULL;
	if (c->ops && c->ops->destroy)
		c->ops->destroy(c);
	free(c);
}

/* xs_conn_drop_session - forget the connection's watches and
 * transactions. */
void xs_conn_drop_session(struct xs_conn *c)
{
	struct xs_txn *tx;

	if (c->keep_watches && !TAILQ_EMPTY(&c->watches)) {
		xs_journal_watch(c->st, 'V', c->domid, NULL);
		/* outside a request (a ring reset): no reply to wait for */
		if (c->st->cur != c && xs_journal_flush(c->st))
			log_errx("d%u: journal write failed: a reset of its "
				 "watches is not persisted",
				 c->domid);
	}

	xs_watch_del_all(c->st, c);
	while ((tx = TAILQ_FIRST(&c->txns))) {
		TAILQ_REMOVE(&c->txns, tx, link);
		xs_txn_free(tx);
	}
	c->ntxns = 0;
}

/*
 * xs_conn_drop_stream - forget the byte stream's state: a request read in
 * part (and whatever is buffered after it), a message written in part,
 * every queued reply, and the queued watch events unless keep_events.
 * The next byte read starts a header; the next byte written starts one.
 */
void xs_conn_drop_stream(struct xs_conn *c, bool keep_events)
{
	struct xs_msg *m, *next;

	c->hdr_got = 0;
	c->in_got = 0;
	c->in_pos = 0;
	c->rlen = c->roff = 0;
	free(c->in);
	c->in = NULL;
	free(c->rbuf);
	c->rbuf = NULL;
	for (m = TAILQ_FIRST(&c->out); m; m = next) {
		next = TAILQ_NEXT(m, link);
		if (keep_events && m->is_event &&
		    !(m == TAILQ_FIRST(&c->out) && c->out_off))
			continue;
		TAILQ_REMOVE(&c->out, m, link);
		c->out_bytes -= m->len;
		if (!m->is_event)
			c->outstanding--;
		free(m);
	}
	c->out_off = 0;
	if (!keep_events)
		c->overflow = false; /* nothing is queued any more */
}

/* xs_conn_can_read - may input be read now. */
bool xs_conn_can_read(struct xs_conn *c)
{
	if (c->closing)
		return false;
	if (!c->privileged &&
	    c->outstanding >= c->st->quota.val[XS_Q_OUTSTANDING])
		return false;
	/* a client that does not read its replies: stop reading it too */
	if (c->privileged && c->out_max && c->out_bytes >= c->out_max)
		return false;
	return c->roff < c->rlen || !c->ops->can_read || c->ops->can_read(c);
}

/* xs_conn_find_txn - the connection's transaction id, or NULL. */
struct xs_txn *xs_conn_find_txn(struct xs_conn *c, uint32_t id)
{
	struct xs_txn *tx;

	TAILQ_FOREACH(tx, &c->txns, link)
		if (tx->id == id)
			return tx;
	return NULL;
}

/* xs_conn_alloc_in - the payload buffer for the whole header c->hdr. */
int xs_conn_alloc_in(struct xs_conn *c)
{
	if (!c->in && !(c->in = malloc(c->hdr.len + 1)))
		return -ENOMEM;
	return 0;
}

/* xs_conn_alloc_rbuf - the read buffer. */
int xs_conn_alloc_rbuf(struct xs_conn *c)
{
	if (!c->rbuf && !(c->rbuf = malloc(XS_CONN_RBUF)))
		return -ENOMEM;
	return 0;
}
