/*
 * queue.c - a connection's output: a queue of whole messages. Replies
 * still queued count as outstanding requests; an unprivileged connection
 * at its quota is not read from until replies drain (as C xenstored does,
 * see xs_conn_can_read()). Watch events are bounded in bytes: a
 * connection that lets them pile up past its bound is stopped (a ring is
 * quarantined, a socket client dropped), since nothing paces them but
 * the writers.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xenstored/conn.h"
#include "xenstored/xenstored.h"

static struct log_ratelimit queue_rl = LOG_RATELIMIT_INIT(5000, 10);

/* Would queueing len more bytes pass the connection's output bound? A
 * domain's is quota "output"; a socket client's is its out_max (the
 * transport logs and drops it, see sock.c). */
static bool conn_over_bound(const struct xs_conn *c, size_t len)
{
	size_t max = c->privileged ? c->out_max : c->st->quota.val[XS_Q_OUTPUT];

	return max && c->out_bytes + len > max;
}

/* xs_conn_queue - queue one message (reply or event). 0 or -ENOMEM. */
int xs_conn_queue(struct xs_conn *c, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *data, size_t len, bool is_event)
{
	struct xs_msg *m;
	struct xsd_sockmsg h = {
		.type = type,
		.req_id = req_id,
		.tx_id = tx_id,
		.len = (uint32_t)len,
	};

	/* a socket client's output may be only in our queue, with room in
	 * its socket: write it out before judging the client */
	if (is_event && c->privileged && c != c->st->cur &&
	    conn_over_bound(c, sizeof(h) + len))
		(void)xs_conn_flush(c); /* an error: its transport sees it */
	if (is_event && conn_over_bound(c, sizeof(h) + len)) {
		/* It does not read what we send: stop it (the transport
		 * does, from its next turn), never queue without bound. */
		if (!c->overflow && !c->privileged)
			LOG_RATELIMITED(&queue_rl, LOG_WARNING, (int)c->domid,
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
	m->req_end = c->in_pos; /* replies are queued while dispatching */
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
