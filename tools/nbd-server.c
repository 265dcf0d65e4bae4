/*
 * nbd-server.c - see nbd-server.h. Written from the protocol document
 * (NetworkBlockDevice's doc/proto.md); all integers on the wire are
 * big-endian.
 *
 * One client, as a state machine over its libevent bufferevent:
 *
 *   S: "NBDMAGIC" "IHAVEOPT" handshake-flags(16)
 *   FLAGS  C: client-flags(32)          unknown bits: drop
 *   OPTS   C: "IHAVEOPT" option(32) len(32) data[len]
 *            len > NBDS_MAX_OPT: drop; each option gets its reply
 *            (EXPORT_NAME and a successful GO end option haggling)
 *   XMIT   C: magic(32) flags(16) type(16) cookie(64) offset(64) len(32)
 *            [len bytes for WRITE]      bad magic, or a WRITE longer
 *            than NBDS_MAX_PAYLOAD: drop; other errors: an error reply
 *          S: magic(32) error(32) cookie(64) [data for a good READ]
 *
 * A request is taken only once all of it (header and write payload) is in
 * the input buffer; it is copied out of the buffer, checked, and only then
 * used. A client that does not read its replies stops being read once
 * NBDS_MAX_PENDING bytes wait for it, and goes on when they are gone.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "log.h"
#include "nbd-proto.h"
#include "tools/nbd-server.h"

#define NBDS_MAX_OPT        8192        /* option data we accept */
#define NBDS_MAX_OPTIONS    128         /* options per session */
#define NBDS_MAX_PENDING    (64u << 20) /* replies waiting: stop reading */
#define NBDS_ZERO_CHUNK     (1u << 20)
#define NBDS_HANDSHAKE_SECS 30 /* from connect to GO */

enum cstate {
	C_FLAGS,
	C_OPTS,
	C_XMIT,
	C_CLOSING
};

struct client {
	struct nbds *srv;
	struct bufferevent *bev;
	TAILQ_ENTRY(client) link;
	enum cstate st;
	unsigned int id;
	unsigned int noptions;
	int no_zeroes;
	int paused; /* reading stopped: too many replies pending */
};

struct nbds {
	struct event_base *base;
	struct evconnlistener *lis;
	char path[108];
	struct nbds_export exp;
	char *name, *desc;
	unsigned int max_clients, nclients, next_id;
	TAILQ_HEAD(, client) clients;
	struct nbds_stats st;
};

static void client_free(struct client *c)
{
	struct nbds *s = c->srv;

	TAILQ_REMOVE(&s->clients, c, link);
	s->nclients--;
	/* libevent closes the socket when it finalizes the bufferevent, from
	 * the event loop: the client must see the end now, loop or not */
	shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
	bufferevent_free(c->bev);
	free(c);
}

static void drop(struct client *c, const char *why)
{
	log_warnx("nbd client %u: %s: dropped", c->id, why);
	c->srv->st.dropped++;
	client_free(c);
}

/* ------------------------------------------------------------------ */
/* Wire helpers                                                        */
/* ------------------------------------------------------------------ */

static void put16(struct evbuffer *b, uint16_t v)
{
	v = htobe16(v);
	evbuffer_add(b, &v, 2);
}

static void put32(struct evbuffer *b, uint32_t v)
{
	v = htobe32(v);
	evbuffer_add(b, &v, 4);
}

static void put64(struct evbuffer *b, uint64_t v)
{
	v = htobe64(v);
	evbuffer_add(b, &v, 8);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return be16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static void opt_reply(struct client *c, uint32_t opt, uint32_t type,
		      const void *data, uint32_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	put64(out, NBD_REP_MAGIC);
	put32(out, opt);
	put32(out, type);
	put32(out, len);
	if (len)
		evbuffer_add(out, data, len);
}

static void opt_error(struct client *c, uint32_t opt, uint32_t type,
		      const char *msg)
{
	opt_reply(c, opt, type, msg, (uint32_t)strlen(msg));
}

static uint16_t xmit_flags(const struct nbds *s)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS;

	if (s->exp.readonly)
		f |= NBD_FLAG_READ_ONLY;
	else
		f |= NBD_FLAG_SEND_WRITE_ZEROES;
	if (s->exp.can_flush && s->exp.ops->flush)
		f |= NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA;
	if (s->exp.can_trim && s->exp.ops->trim && !s->exp.readonly)
		f |= NBD_FLAG_SEND_TRIM;
	return f;
}

static int name_ok(const struct nbds *s, const uint8_t *name, uint32_t len)
{
	if (len == 0)
		return 1;
	return s->name && strlen(s->name) == len && !memcmp(s->name, name, len);
}

/* ------------------------------------------------------------------ */
/* Option haggling                                                     */
/* ------------------------------------------------------------------ */

static void info_export(struct client *c, uint32_t opt)
{
	uint8_t b[12];
	uint64_t size = htobe64(c->srv->exp.size);
	uint16_t t = htobe16(NBD_INFO_EXPORT), f = htobe16(xmit_flags(c->srv));

	memcpy(b, &t, 2);
	memcpy(b + 2, &size, 8);
	memcpy(b + 10, &f, 2);
	opt_reply(c, opt, NBD_REP_INFO, b, sizeof(b));
}

static void info_string(struct client *c, uint32_t opt, uint16_t type,
			const char *str)
{
	size_t len = strlen(str);
	uint8_t *b = malloc(2 + len);
	uint16_t t = htobe16(type);

	if (!b)
		return;
	memcpy(b, &t, 2);
	memcpy(b + 2, str, len);
	opt_reply(c, opt, NBD_REP_INFO, b, (uint32_t)(2 + len));
	free(b);
}

static void info_block_size(struct client *c, uint32_t opt)
{
	uint32_t bs = c->srv->exp.block_size;
	uint32_t v[3] = { htobe32(bs), htobe32(bs > 4096 ? bs : 4096),
			  htobe32(NBDS_MAX_PAYLOAD) };
	uint8_t b[14];
	uint16_t t = htobe16(NBD_INFO_BLOCK_SIZE);

	memcpy(b, &t, 2);
	memcpy(b + 2, v, 12);
	opt_reply(c, opt, NBD_REP_INFO, b, sizeof(b));
}

/* opt_info_go - NBD_OPT_INFO / NBD_OPT_GO: returns 1 when transmission
 * starts (a GO that succeeded). */
static int opt_info_go(struct client *c, uint32_t opt, const uint8_t *d,
		       uint32_t len)
{
	uint32_t nlen;
	uint16_t nreq;
	int want_name = 0, want_desc = 0;

	if (len < 6) {
		opt_error(c, opt, NBD_REP_ERR_INVALID, "option too short");
		return 0;
	}
	nlen = get32(d);
	if (nlen > len - 6) {
		opt_error(c, opt, NBD_REP_ERR_INVALID,
			  "name longer than the option");
		return 0;
	}
	nreq = get16(d + 4 + nlen);
	if ((uint32_t)nreq * 2 != len - 6 - nlen) {
		opt_error(c, opt, NBD_REP_ERR_INVALID,
			  "bad information request count");
		return 0;
	}
	for (uint16_t i = 0; i < nreq; i++) {
		uint16_t t = get16(d + 6 + nlen + 2 * i);

		want_name |= t == NBD_INFO_NAME;
		want_desc |= t == NBD_INFO_DESCRIPTION;
		/* block sizes are always sent; others are not known */
	}
	if (!name_ok(c->srv, d + 4, nlen)) {
		opt_error(c, opt, NBD_REP_ERR_UNKNOWN, "no such export");
		return 0;
	}
	info_export(c, opt);
	if (want_name)
		info_string(c, opt, NBD_INFO_NAME,
			    c->srv->name ? c->srv->name : "");
	if (want_desc && c->srv->desc)
		info_string(c, opt, NBD_INFO_DESCRIPTION, c->srv->desc);
	info_block_size(c, opt);
	opt_reply(c, opt, NBD_REP_ACK, NULL, 0);
	return opt == NBD_OPT_GO;
}

static void opt_list(struct client *c, uint32_t len)
{
	const char *n = c->srv->name ? c->srv->name : "";
	uint32_t nl = (uint32_t)strlen(n), be = htobe32(nl);
	uint8_t *b;

	if (len) {
		opt_error(c, NBD_OPT_LIST, NBD_REP_ERR_INVALID,
			  "LIST takes no data");
		return;
	}
	b = malloc(4 + nl);
	if (!b)
		return;
	memcpy(b, &be, 4);
	memcpy(b + 4, n, nl);
	opt_reply(c, NBD_OPT_LIST, NBD_REP_SERVER, b, 4 + nl);
	free(b);
	opt_reply(c, NBD_OPT_LIST, NBD_REP_ACK, NULL, 0);
}

/* one_option - take one complete option from in: 1 taken, 0 need more,
 * -1 the client was freed. */
static int one_option(struct client *c, struct evbuffer *in)
{
	uint8_t h[sizeof(struct nbd_opt_hdr)], *d = NULL;
	uint32_t opt, len;
	int go = 0;

	if (evbuffer_copyout(in, h, sizeof(h)) < (ssize_t)sizeof(h))
		return 0;
	if (get64(h) != NBD_OPTS_MAGIC) {
		drop(c, "bad option magic");
		return -1;
	}
	opt = get32(h + 8);
	len = get32(h + 12);
	if (len > NBDS_MAX_OPT) {
		drop(c, "option data over the limit");
		return -1;
	}
	if (evbuffer_get_length(in) < sizeof(h) + len)
		return 0;
	if (++c->noptions > NBDS_MAX_OPTIONS) {
		drop(c, "too many options");
		return -1;
	}
	evbuffer_drain(in, sizeof(h));
	d = malloc(len ? len : 1);
	if (!d) {
		drop(c, "out of memory");
		return -1;
	}
	evbuffer_remove(in, d, len);
	switch (opt) {
	case NBD_OPT_EXPORT_NAME: {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		static const uint8_t zeroes[124];

		if (!name_ok(c->srv, d, len)) {
			free(d);
			drop(c, "EXPORT_NAME of an unknown export");
			return -1;
		}
		put64(out, c->srv->exp.size);
		put16(out, xmit_flags(c->srv));
		if (!c->no_zeroes)
			evbuffer_add(out, zeroes, sizeof(zeroes));
		go = 1;
		break;
	}
	case NBD_OPT_ABORT:
		opt_reply(c, opt, NBD_REP_ACK, NULL, 0);
		c->st = C_CLOSING;
		bufferevent_disable(c->bev, EV_READ);
		free(d);
		return 1;
	case NBD_OPT_LIST:
		opt_list(c, len);
		break;
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		go = opt_info_go(c, opt, d, len);
		break;
	default:
		opt_error(c, opt, NBD_REP_ERR_UNSUP, "option not supported");
		break;
	}
	free(d);
	if (go) {
		c->st = C_XMIT;
		bufferevent_set_timeouts(c->bev, NULL,
					 NULL); /* idle is fine now */
		log_info("nbd client %u: transmission", c->id);
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Transmission                                                        */
/* ------------------------------------------------------------------ */

static int nbd_errno(int r)
{
	switch (-r) {
	case 0:
		return 0;
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
		return NBD_ENOSPC;
	case EOPNOTSUPP:
		return NBD_ENOTSUP;
	default:
		return NBD_EIO;
	}
}

/* aligned_read - read [off, off+len) of the disk, any alignment. */
static int aligned_read(struct nbds *s, uint64_t off, uint8_t *buf, size_t len)
{
	uint64_t bs = s->exp.block_size, a0 = off & ~(bs - 1);
	uint64_t a1 = (off + len + bs - 1) & ~(bs - 1);
	uint8_t *tmp;
	int r;

	if (a0 == off && a1 == off + len)
		return s->exp.ops->read(s->exp.arg, off, buf, len);
	tmp = malloc(a1 - a0);
	if (!tmp)
		return -ENOMEM;
	r = s->exp.ops->read(s->exp.arg, a0, tmp, a1 - a0);
	if (r == 0)
		memcpy(buf, tmp + (off - a0), len);
	free(tmp);
	return r;
}

/* aligned_write - write any range: read-modify-write of partial blocks
 * (requests are served one at a time, so nothing races the merge). */
static int aligned_write(struct nbds *s, uint64_t off, const uint8_t *buf,
			 size_t len)
{
	uint64_t bs = s->exp.block_size, a0 = off & ~(bs - 1);
	uint64_t a1 = (off + len + bs - 1) & ~(bs - 1);
	uint8_t *tmp;
	int r = 0;

	if (a0 == off && a1 == off + len)
		return s->exp.ops->write(s->exp.arg, off, buf, len);
	tmp = malloc(a1 - a0);
	if (!tmp)
		return -ENOMEM;
	if (a0 != off)
		r = s->exp.ops->read(s->exp.arg, a0, tmp, bs);
	if (r == 0 && a1 != off + len && (a1 - bs != a0 || a0 == off))
		r = s->exp.ops->read(s->exp.arg, a1 - bs, tmp + (a1 - bs - a0),
				     bs);
	if (r == 0) {
		memcpy(tmp + (off - a0), buf, len);
		r = s->exp.ops->write(s->exp.arg, a0, tmp, a1 - a0);
	}
	free(tmp);
	return r;
}

static int write_zeroes(struct nbds *s, uint64_t off, uint64_t len)
{
	size_t n = len < NBDS_ZERO_CHUNK ? (size_t)len : NBDS_ZERO_CHUNK;
	uint8_t *z = calloc(1, n ? n : 1);
	int r = 0;

	if (!z)
		return -ENOMEM;
	while (len && r == 0) {
		size_t chunk = len < n ? (size_t)len : n;

		r = aligned_write(s, off, z, chunk);
		off += chunk;
		len -= chunk;
	}
	free(z);
	return r;
}

static void simple_reply(struct client *c, uint32_t err, uint64_t cookie)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	put32(out, NBD_SIMPLE_REPLY_MAGIC);
	put32(out, err);
	put64(out, cookie);
	if (err)
		c->srv->st.errors++;
}

/* one_request - take one complete request: 1 taken, 0 need more, -1 the
 * client was freed. */
static int one_request(struct client *c, struct evbuffer *in)
{
	struct nbds *s = c->srv;
	const struct nbds_export *e = &s->exp;
	uint8_t h[sizeof(struct nbd_request_hdr)], *data = NULL;
	uint16_t flags, type;
	uint64_t cookie, off;
	uint32_t len, err = 0;
	int r = 0;

	if (evbuffer_copyout(in, h, sizeof(h)) < (ssize_t)sizeof(h))
		return 0;
	if (get32(h) != NBD_REQUEST_MAGIC) {
		drop(c, "bad request magic");
		return -1;
	}
	flags = get16(h + 4);
	type = get16(h + 6);
	cookie = get64(h + 8);
	off = get64(h + 16);
	len = get32(h + 24);
	if (type == NBD_CMD_WRITE) {
		if (len > NBDS_MAX_PAYLOAD) {
			drop(c, "write payload over the limit");
			return -1;
		}
		if (evbuffer_get_length(in) < sizeof(h) + len)
			return 0;
	}
	evbuffer_drain(in, sizeof(h));
	s->st.requests++;
	if (type == NBD_CMD_WRITE) {
		data = malloc(len ? len : 1);
		if (!data) {
			drop(c, "out of memory");
			return -1;
		}
		evbuffer_remove(in, data, len);
	}
	/* checks, on our copy of the header */
	switch (type) {
	case NBD_CMD_DISC:
		free(data);
		log_info("nbd client %u: disconnects", c->id);
		c->st = C_CLOSING;
		bufferevent_disable(c->bev, EV_READ);
		return 1;
	case NBD_CMD_READ:
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
		if (off > e->size || len > e->size - off)
			err = type == NBD_CMD_WRITE ? NBD_ENOSPC : NBD_EINVAL;
		else if (len == 0 && type != NBD_CMD_WRITE)
			err = NBD_EINVAL;
		else if (type == NBD_CMD_READ && len > NBDS_MAX_PAYLOAD)
			err = NBD_EOVERFLOW;
		else if (type != NBD_CMD_READ && e->readonly)
			err = NBD_EPERM;
		else if (type == NBD_CMD_TRIM &&
			 !(xmit_flags(s) & NBD_FLAG_SEND_TRIM))
			err = NBD_EINVAL;
		else if (flags &
			 ~(NBD_CMD_FLAG_FUA |
			   (type == NBD_CMD_WRITE_ZEROES ? NBD_CMD_FLAG_NO_HOLE
							 : 0)))
			err = NBD_EINVAL;
		else if ((flags & NBD_CMD_FLAG_FUA) &&
			 !(xmit_flags(s) & NBD_FLAG_SEND_FUA))
			err = NBD_EINVAL;
		break;
	case NBD_CMD_FLUSH:
		if (!(xmit_flags(s) & NBD_FLAG_SEND_FLUSH) || flags)
			err = NBD_EINVAL;
		break;
	default:
		err = NBD_EINVAL;
		break;
	}
	if (err) {
		free(data);
		simple_reply(c, err, cookie);
		return 1;
	}
	switch (type) {
	case NBD_CMD_READ: {
		uint8_t *buf = malloc(len);

		if (!buf) {
			simple_reply(c, NBD_ENOMEM, cookie);
			return 1;
		}
		r = aligned_read(s, off, buf, len);
		simple_reply(c, (uint32_t)nbd_errno(r), cookie);
		if (r == 0) {
			evbuffer_add(bufferevent_get_output(c->bev), buf, len);
			s->st.bytes_read += len;
		}
		free(buf);
		return 1;
	}
	case NBD_CMD_WRITE:
		r = len ? aligned_write(s, off, data, len) : 0;
		if (r == 0)
			s->st.bytes_written += len;
		break;
	case NBD_CMD_WRITE_ZEROES:
		r = write_zeroes(s, off, len);
		break;
	case NBD_CMD_TRIM: {
		/* advisory: the whole blocks inside the range */
		uint64_t bs = e->block_size, a0 = (off + bs - 1) & ~(bs - 1);
		uint64_t a1 = (off + len) & ~(bs - 1);

		r = a1 > a0 ? e->ops->trim(e->arg, a0, a1 - a0) : 0;
		break;
	}
	case NBD_CMD_FLUSH:
		r = e->ops->flush(e->arg);
		break;
	}
	if (r == 0 && (flags & NBD_CMD_FLAG_FUA))
		r = e->ops->flush(e->arg);
	free(data);
	simple_reply(c, (uint32_t)nbd_errno(r), cookie);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static void nbds_on_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	int r = 1;

	while (r > 0 && c->st != C_CLOSING) {
		switch (c->st) {
		case C_FLAGS: {
			uint8_t b[4];
			uint32_t f;

			if (evbuffer_get_length(in) < 4)
				return;
			evbuffer_remove(in, b, 4);
			f = get32(b);
			if (f & ~(NBD_FLAG_C_FIXED_NEWSTYLE |
				  NBD_FLAG_C_NO_ZEROES)) {
				drop(c, "unknown client flags");
				return;
			}
			c->no_zeroes = (f & NBD_FLAG_C_NO_ZEROES) != 0;
			c->st = C_OPTS;
			break;
		}
		case C_OPTS:
			r = one_option(c, in);
			break;
		case C_XMIT:
			r = one_request(c, in);
			break;
		case C_CLOSING:
			break;
		}
		if (r < 0)
			return;
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    NBDS_MAX_PENDING) {
			/* the client does not read: stop reading it */
			bufferevent_disable(bev, EV_READ);
			c->paused = 1;
			return;
		}
	}
	if (c->st == C_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(c);
}

static void nbds_on_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	/* called when the output drained (low watermark 0) */
	if (c->st == C_CLOSING) {
		client_free(c);
		return;
	}
	if (c->paused) {
		c->paused = 0;
		bufferevent_enable(bev, EV_READ);
		nbds_on_read(bev, c); /* what is buffered already */
	}
}

static void nbds_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		if (c->st != C_CLOSING && c->st != C_XMIT)
			log_info("nbd client %u: went away during the handshake",
				 c->id);
		else
			log_info("nbd client %u: closed", c->id);
		client_free(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		drop(c, "no handshake in time");
	} else if (what & BEV_EVENT_ERROR) {
		if (c->st == C_CLOSING) /* it sent ABORT or DISC and left */
			client_free(c);
		else
			drop(c, "socket error");
	}
}

static void nbds_on_accept(struct evconnlistener *l, evutil_socket_t fd,
			   struct sockaddr *sa, int salen, void *arg)
{
	static const struct timeval hs_timeout = { NBDS_HANDSHAKE_SECS, 0 };
	struct nbds *s = arg;
	struct client *c;
	struct evbuffer *out;

	(void)l;
	(void)sa;
	(void)salen;
	if (s->nclients >= s->max_clients) {
		log_warnx("nbd: %u clients already: connection refused",
			  s->nclients);
		evutil_closesocket(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->srv = s;
	c->id = ++s->next_id;
	c->st = C_FLAGS;
	TAILQ_INSERT_TAIL(&s->clients, c, link);
	s->nclients++;
	s->st.clients++;
	bufferevent_setcb(c->bev, nbds_on_read, nbds_on_write, nbds_on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	/* a client holds one of max_clients slots: the handshake has a time
	 * limit, transmission does not */
	bufferevent_set_timeouts(c->bev, &hs_timeout, NULL);
	out = bufferevent_get_output(c->bev);
	put64(out, NBD_MAGIC);
	put64(out, NBD_OPTS_MAGIC);
	put16(out, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_info("nbd client %u: connected", c->id);
}

/*
 * nbds_new - listen on path and serve exp (see nbd-server.h). NULL with
 * errno (EINVAL: a bad export or path). The caller owns the result.
 */
struct nbds *nbds_new(struct event_base *base, const char *path,
		      const struct nbds_export *exp, unsigned int max_clients)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct nbds *s;
	struct stat sb;

	if (strlen(path) >= sizeof(sun.sun_path) || !exp->ops ||
	    !exp->ops->read || !exp->ops->write || !exp->block_size ||
	    (exp->block_size & (exp->block_size - 1)) ||
	    exp->block_size > 65536 || exp->size % exp->block_size) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->base = base;
	s->exp = *exp;
	s->max_clients = max_clients ? max_clients : 16;
	TAILQ_INIT(&s->clients);
	s->name = exp->name ? strdup(exp->name) : NULL;
	s->desc = exp->description ? strdup(exp->description) : NULL;
	s->exp.name = s->name;
	s->exp.description = s->desc;
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* a socket left by a previous run; anything else stays */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		unlink(path);
	s->lis = evconnlistener_new_bind(base, nbds_on_accept, s,
					 LEV_OPT_CLOSE_ON_FREE |
						 LEV_OPT_CLOSE_ON_EXEC,
					 16, (struct sockaddr *)&sun,
					 sizeof(sun));
	if (!s->lis) {
		int e = errno ? errno : EADDRINUSE;

		free(s->name);
		free(s->desc);
		free(s);
		errno = e;
		return NULL;
	}
	return s;
}

/* nbds_free - drop every client, stop listening, remove the socket. */
void nbds_free(struct nbds *s)
{
	if (!s)
		return;
	while (!TAILQ_EMPTY(&s->clients))
		client_free(TAILQ_FIRST(&s->clients));
	evconnlistener_free(s->lis);
	unlink(s->path);
	free(s->name);
	free(s->desc);
	free(s);
}

/* nbds_get_stats - a copy of the counters. */
void nbds_get_stats(const struct nbds *s, struct nbds_stats *st)
{
	*st = s->st;
}
