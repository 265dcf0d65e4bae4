/*
 * mem-conn.h - drive a store through the real framing and dispatch with
 * an in-memory transport: requests go in as bytes, replies and watch
 * events come out as bytes, exactly what a socket or a ring would carry.
 * Used by the store's unit tests (tests/unit/check_xs_*.c) and by the
 * in-process benchmark (xenstored/bench/xs-scale.c); header-only.
 *
 *   struct xs_store st; xs_store_init(&st);
 *   struct tconn *a = t_conn(&st, 0, true);     dom0 tools
 *   struct tconn *g = t_conn(&st, 5, false);    guest domain 5
 *   t_write(a, 0, "/x", "1");                   -> 0 or -errno
 *   t_read(a, 0, "/x", buf, sizeof(buf));       -> 0 or -errno
 *   t_call(a, XS_WATCH, 0, "/x\0tok\0", 7, NULL) (raw)
 *   t_event(a, path, token)                     -> next queued event
 */
#ifndef SPLITDRV_XENSTORED_MEM_CONN_H
#define SPLITDRV_XENSTORED_MEM_CONN_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored/conn.h"
#include "xenstored/control.h"
#include "xenstored/domain.h"
#include "xenstored/ops.h"
#include "xenstored/perms.h"
#include "xenstored/persist.h"
#include "xenstored/quota.h"
#include "xenstored/tree.h"
#include "xenstored/txn.h"
#include "xenstored/util.h"
#include "xenstored/watch.h"
#include "xenstored/xenstored.h"

struct tconn {
	struct xs_conn *c;
	struct xs_buf in;
	size_t in_off;
	struct xs_buf out;
	size_t out_off;
	uint32_t next_req;
	/* events seen while waiting for replies, in order */
	struct xs_buf events;
	size_t ev_off;
	struct xs_buf reply;
	uint32_t reply_type;
};

static ssize_t t_read_cb(struct xs_conn *c, void *buf, size_t len)
{
	struct tconn *t = c->priv;
	size_t n = t->in.len - t->in_off;

	if (n > len)
		n = len;
	memcpy(buf, t->in.p + t->in_off, n);
	t->in_off += n;
	return (ssize_t)n;
}

/* t_max_write: if set, the transport takes at most this many bytes per
 * write (a full socket, a small ring). */
static size_t t_max_write;

static ssize_t t_write_cb(struct xs_conn *c, const void *buf, size_t len)
{
	struct tconn *t = c->priv;

	if (t_max_write && len > t_max_write)
		len = t_max_write;
	return xs_buf_add(&t->out, buf, len) ? -ENOMEM : (ssize_t)len;
}

static void t_destroy_cb(struct xs_conn *c)
{
	struct tconn *t = c->priv;

	t->c = NULL;
}

static const struct xs_conn_ops t_ops = {
	.read = t_read_cb,
	.write = t_write_cb,
	.destroy = t_destroy_cb,
};

static inline struct tconn *t_conn(struct xs_store *st, uint32_t domid,
				   bool privileged)
{
	struct tconn *t = calloc(1, sizeof(*t));

	t->c = xs_conn_new(st, &t_ops, t, domid, privileged);
	t->next_req = 1;
	return t;
}

static inline void t_free(struct tconn *t)
{
	if (t->c)
		xs_conn_free(t->c);
	xs_buf_free(&t->in);
	xs_buf_free(&t->out);
	xs_buf_free(&t->events);
	xs_buf_free(&t->reply);
	free(t);
}

/* Move what the store wrote into replies / events. */
static inline void t_collect(struct tconn *t, uint32_t want_req)
{
	if (t->c)
		while (!TAILQ_EMPTY(&t->c->out) && xs_conn_flush(t->c) == 0)
			;
	while (t->out.len - t->out_off >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;
		const char *payload;

		memcpy(&h, t->out.p + t->out_off, sizeof(h));
		if (t->out.len - t->out_off < sizeof(h) + h.len)
			break;
		payload = t->out.p + t->out_off + sizeof(h);
		if (h.type == XS_WATCH_EVENT) {
			xs_buf_add(&t->events, &h.len, 4);
			xs_buf_add(&t->events, payload, h.len);
		} else if (h.req_id == want_req) {
			t->reply.len = 0;
			xs_buf_add(&t->reply, payload, h.len);
			t->reply_type = h.type;
		}
		t->out_off += sizeof(h) + h.len;
	}
}

/* Send one raw request; returns 0 (reply in t->reply) or -errno from an
 * XS_ERROR reply; -EPIPE if the connection was dropped, -ETIME if no
 * reply came (stalled). */
static inline int t_call(struct tconn *t, uint32_t type, uint32_t tx,
			 const void *data, size_t len)
{
	struct xsd_sockmsg h = { .type = type,
				 .req_id = t->next_req++,
				 .tx_id = tx,
				 .len = (uint32_t)len };
	size_t i;
	int rc;

	xs_buf_add(&t->in, &h, sizeof(h));
	xs_buf_add(&t->in, data, len);
	t->reply_type = 0xffffffffu;
	rc = xs_conn_input(t->c);
	if (rc < 0) {
		xs_conn_free(t->c);
		return -EPIPE;
	}
	t_collect(t, h.req_id);
	if (t->reply_type == 0xffffffffu)
		return -ETIME;
	if (t->reply_type != XS_ERROR)
		return 0;
	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(t->reply.p, xsd_errors[i].errstring) == 0)
			return -xsd_errors[i].errnum;
	return -1000; /* unknown error string: a test failure */
}

/* Request made of NUL-terminated strings (a NULL-terminated list). */
static inline int t_strs(struct tconn *t, uint32_t type, uint32_t tx, ...)
{
	struct xs_buf b = { 0 };
	const char *s;
	va_list ap;
	int rc;

	va_start(ap, tx);
	while ((s = va_arg(ap, const char *)))
		xs_buf_addstr(&b, s);
	va_end(ap);
	rc = t_call(t, type, tx, b.p ? b.p : "", b.len);
	xs_buf_free(&b);
	return rc;
}

static inline int t_write(struct tconn *t, uint32_t tx, const char *path,
			  const char *value)
{
	struct xs_buf b = { 0 };
	int rc;

	xs_buf_addstr(&b, path);
	xs_buf_add(&b, value, strlen(value));
	rc = t_call(t, XS_WRITE, tx, b.p, b.len);
	xs_buf_free(&b);
	return rc;
}

/* READ into buf (NUL-terminated); 0 or -errno. */
static inline int t_read(struct tconn *t, uint32_t tx, const char *path,
			 char *buf, size_t len)
{
	int rc = t_strs(t, XS_READ, tx, path, NULL);

	if (rc == 0)
		snprintf(buf, len, "%.*s", (int)t->reply.len, t->reply.p);
	return rc;
}

/* Start a transaction; its id, or 0 on failure (rc in *err if given). */
static inline uint32_t t_tx_start(struct tconn *t)
{
	if (t_strs(t, XS_TRANSACTION_START, 0, "", NULL))
		return 0;
	return (uint32_t)strtoul(t->reply.p, NULL, 10);
}

static inline int t_tx_end(struct tconn *t, uint32_t tx, bool commit)
{
	return t_strs(t, XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL);
}

/* Next queued event into path/token; 0, or -ENOENT if none. */
static inline int t_event(struct tconn *t, char *path, size_t plen, char *token,
			  size_t tlen)
{
	uint32_t len;
	const char *p;

	t_collect(t, 0);
	if (t->events.len - t->ev_off < 4)
		return -ENOENT;
	memcpy(&len, t->events.p + t->ev_off, 4);
	p = t->events.p + t->ev_off + 4;
	if (path)
		snprintf(path, plen, "%s", p);
	if (token)
		snprintf(token, tlen, "%s", p + strlen(p) + 1);
	t->ev_off += 4 + len;
	return 0;
}

static inline int t_nevents(struct tconn *t)
{
	size_t off = t->ev_off;
	int n = 0;
	uint32_t len;

	t_collect(t, 0);
	while (t->events.len - off >= 4) {
		memcpy(&len, t->events.p + off, 4);
		off += 4 + len;
		n++;
	}
	return n;
}

static inline void t_drain_events(struct tconn *t)
{
	t_collect(t, 0);
	t->ev_off = t->events.len;
}

#endif /* SPLITDRV_XENSTORED_MEM_CONN_H */
