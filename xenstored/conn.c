/*
 * conn.c - connections: the xsd_sockmsg framing over any transport.
 *
 * A transport (sock.c, the hv layer's ring) supplies {read, write,
 * can_read, can_write}. Input goes through a small read buffer into the
 * header and then into a private copy of the payload; only that copy is
 * looked at. A header announcing more than XENSTORE_PAYLOAD_MAX bytes is a
 * protocol violation: the connection is dropped, others go on.
 *
 * Output is a queue of whole messages. Replies still queued count as
 * outstanding requests; an unprivileged connection at its quota is not
 * read from until replies drain (as C xenstored does).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xenstored/xenstored.h"

static struct log_ratelimit conn_rl = LOG_RATELIMIT_INIT(5000, 10);

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
	struct xs_txn *tx;
	struct xs_msg *m;
	struct xs_domain *d;

	TAILQ_FOREACH(d, &st->domains, link)
		if (d->conn == c)
			d->conn = NULL;
	xs_watch_del_all(st, c);
	while ((tx = TAILQ_FIRST(&c->txns))) {
		TAILQ_REMOVE(&c->txns, tx, link);
		xs_txn_free(tx);
	}
	while ((m = TAILQ_FIRST(&c->out))) {
		TAILQ_REMOVE(&c->out, m, link);
		free(m);
	}
	TAILQ_REMOVE(&st->conns, c, link);
	st->nconns--;
	if (st->cur == c)
		st->cur = NULL;
	if (c->ops && c->ops->destroy)
		c->ops->destroy(c);
	free(c);
}

/* xs_conn_can_read - may input be read now. */
bool xs_conn_can_read(struct xs_conn *c)
{
	if (c->closing)
		return false;
	if (!c->privileged &&
	    c->outstanding >= c->st->quota.val[XS_Q_OUTSTANDING])
		return false;
	return c->roff < c->rlen || !c->ops->can_read || c->ops->can_read(c);
}

/* Take up to len buffered input bytes; refill with one read if empty. */
static ssize_t conn_take(struct xs_conn *c, void *dst, size_t len)
{
	size_t n;

	if (c->roff == c->rlen) {
		ssize_t r;

		/* The last read was short: the transport had nothing more
		 * then. Don't ask again (a read that would only say EAGAIN);
		 * the next readable event (socket) or notify (ring) brings
		 * us back for whatever arrived since. */
		if (c->drained)
			return 0;
		r = c->ops->read(c, c->rbuf, sizeof(c->rbuf));
		if (r <= 0)
			return r;
		c->rlen = (uint32_t)r;
		c->roff = 0;
		c->drained = (size_t)r < sizeof(c->rbuf);
	}
	n = c->rlen - c->roff;
	if (n > len)
		n = len;
	memcpy(dst, c->rbuf + c->roff, n);
	c->roff += (uint32_t)n;
	return (ssize_t)n;
}

/* xs_conn_input - read and handle every complete request available. */
int xs_conn_input(struct xs_conn *c)
{
	ssize_t n;

	c->drained = false; /* a new readable event: read at least once */
	while (xs_conn_can_read(c)) {
		if (c->hdr_got < sizeof(c->hdr)) {
			n = conn_take(c, (char *)&c->hdr + c->hdr_got,
				      sizeof(c->hdr) - c->hdr_got);
			if (n <= 0)
				return (int)n;
			c->hdr_got += (uint32_t)n;
			if (c->hdr_got < sizeof(c->hdr))
				continue;
			if (c->hdr.len > XENSTORE_PAYLOAD_MAX) {
				LOG_RATELIMITED(&conn_rl, LOG_WARNING,
						(int)c->domid, NULL,
						"conn %llu: payload of %u bytes "
						"exceeds %u: dropping connection",
						(unsigned long long)c->id,
						c->hdr.len, XENSTORE_PAYLOAD_MAX);
				return -EPROTO;
			}
			c->in_got = 0; /* into c->in: no allocation per request */
		}
		if (c->in_got < c->hdr.len) {
			n = conn_take(c, c->in + c->in_got,
				      c->hdr.len - c->in_got);
			if (n <= 0)
				return (int)n;
			c->in_got += (uint32_t)n;
			if (c->in_got < c->hdr.len)
				continue;
		}
		c->in[c->hdr.len] = '\0'; /* a guard, not part of the payload */
		c->nreq++;
		xs_dispatch(c, &c->hdr, c->in);
		c->hdr_got = 0;
		c->in_got = 0;
	}
	return 0;
}

/* xs_conn_queue - queue one message (reply or event). 0 or -ENOMEM. */
int xs_conn_queue(struct xs_conn *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *data, size_t len, bool is_event)
{
	struct xs_msg *m;
	struct xsd_sockmsg h = {
		.type = type, .req_id = req_id, .tx_id = tx_id,
		.len = (uint32_t)len,
	};

	if (is_event && !c->privileged &&
	    c->out_bytes + sizeof(h) + len >
		    c->st->quota.val[XS_Q_OUTPUT]) {
		/* It does not read what we send: stop it (the transport
		 * does, from its next turn), never queue without bound. */
		if (!c->overflow)
			LOG_RATELIMITED(&conn_rl, LOG_WARNING, (int)c->domid,
					NULL,
					"conn %llu: %zu bytes of replies and "
					"watch events not read (quota output "
					"%u): connection stopped",
					(unsigned long long)c->id, c->out_bytes,
					c->st->quota.val[XS_Q_OUTPUT]);
		c->overflow = true;
		if (c->ops && c->ops->kick && c != c->st->cur)
			c->ops->kick(c);
		return 0;
	}
	m = malloc(sizeof(*m) + sizeof(struct xsd_sockmsg) + len);
	if (!m)
		return -ENOMEM;
	if (is_event && ((const char *)data)[0] != '@') {
		/* an identical event still queued says it all */
		struct xs_msg *q;
		int n = 0;

		TAILQ_FOREACH_REVERSE(q, &c->out, xs_msg_list, link) {
			if (++n > 64 ||
			    (q == TAILQ_FIRST(&c->out) && c->out_off))
				break; /* the head is half written */
			if (q->is_event && q->len == sizeof(h) + len &&
			    memcmp(q->data + sizeof(h), data, len) == 0) {
				free(m);
				return 0;
			}
		}
	}
	m->is_event = is_event;
	m->len = (uint32_t)(sizeof(h) + len);
	memcpy(m->data, &h, sizeof(h));
	if (len)
		memcpy(m->data + sizeof(h), data, len);
	TAILQ_INSERT_TAIL(&c->out, m, link);
	c->out_bytes += m->len;
	if (!is_event)
		c->outstanding++;
	if (c->ops && c->ops->kick && c != c->st->cur)
		c->ops->kick(c);
	return 0;
}

/* Drop n written bytes from the head of the queue. */
static void conn_consume(struct xs_conn *c, size_t n)
{
	struct xs_msg *m;

	while (n && (m = TAILQ_FIRST(&c->out))) {
		size_t rem = m->len - c->out_off;

		if (n < rem) {
			c->out_off += (uint32_t)n;
			return;
		}
		n -= rem;
		TAILQ_REMOVE(&c->out, m, link);
		c->out_bytes -= m->len;
		if (!m->is_event)
			c->outstanding--;
		c->out_off = 0;
		free(m);
	}
}

/*
 * xs_conn_flush - write queued output; 0, or -errno (closed). Small
 * messages queued together (a reply and the watch events it caused, a
 * pipelined batch) leave in one write.
 */
int xs_conn_flush(struct xs_conn *c)
{
	char batch[16384];
	struct xs_msg *m;
	ssize_t n;

	while ((m = TAILQ_FIRST(&c->out))) {
		const char *p = m->data + c->out_off;
		size_t len = m->len - c->out_off;

		if (c->ops->can_write && !c->ops->can_write(c))
			return 0;
		if (TAILQ_NEXT(m, link) && len < sizeof(batch)) {
			struct xs_msg *q = m;

			memcpy(batch, p, len);
			while ((q = TAILQ_NEXT(q, link)) &&
			       len + q->len <= sizeof(batch)) {
				memcpy(batch + len, q->data, q->len);
				len += q->len;
			}
			p = batch;
		}
		n = c->ops->write(c, p, len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return 0;
		conn_consume(c, (size_t)n);
	}
	return 0;
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
