/*
 * input.c - a connection's input: the xsd_sockmsg framing over any
 * transport. Input goes through a small read buffer into the header and
 * then into a private copy of the payload; only that copy is looked at.
 * Both buffers exist only while they hold something: a thousand idle
 * guests' connections hold none (12 KiB each before).
 * A header announcing more than XENSTORE_PAYLOAD_MAX bytes is a protocol
 * violation: the connection is dropped, others go on. Each complete
 * request goes to xs_dispatch() (ops.c).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xenstored/conn.h"
#include "xenstored/ops.h"
#include "xenstored/xenstored.h"

static struct log_ratelimit input_rl = LOG_RATELIMIT_INIT(5000, 10);

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
		if (xs_conn_alloc_rbuf(c))
			return -ENOMEM;
		r = c->ops->read(c, c->rbuf, XS_CONN_RBUF);
		if (r <= 0)
			return r;
		c->rlen = (uint32_t)r;
		c->roff = 0;
		c->drained = (size_t)r < XS_CONN_RBUF;
	}
	n = c->rlen - c->roff;
	if (n > len)
		n = len;
	memcpy(dst, c->rbuf + c->roff, n);
	c->roff += (uint32_t)n;
	c->in_pos += n;
	return (ssize_t)n;
}

static int conn_input(struct xs_conn *c)
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
				LOG_RATELIMITED(&input_rl, LOG_WARNING,
						(int)c->domid, NULL,
						"conn %llu: payload of %u bytes "
						"exceeds %u: dropping connection",
						(unsigned long long)c->id,
						c->hdr.len,
						XENSTORE_PAYLOAD_MAX);
				return -EPROTO;
			}
			c->in_got = 0;
			if (xs_conn_alloc_in(c))
				return -ENOMEM;
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
		free(c->in);
		c->in = NULL;
	}
	return 0;
}

/* xs_conn_input - read and handle every complete request available; the
 * read buffer goes when it is empty (most passes end so). */
int xs_conn_input(struct xs_conn *c)
{
	int rc = conn_input(c);

	if (c->roff == c->rlen && c->rbuf) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rlen = c->roff = 0;
	}
	return rc;
}
