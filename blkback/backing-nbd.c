/*
 * backing-nbd.c - an NBD client as a block backing: qcow2 and other image
 * formats through qemu-nbd, remote storage through any NBD server.
 *
 * Protocol (https://github.com/NetworkBlockDevice/nbd doc/proto.md):
 * fixed newstyle handshake, NBD_OPT_GO (NBD_OPT_EXPORT_NAME when the
 * server does not know GO), then transmission with simple replies:
 *
 *   request: magic 0x25609513, flags u16, type u16, handle u64,
 *            offset u64, length u32 [, data for WRITE]
 *   reply:   magic 0x67446698, error u32, handle u64
 *            [, length bytes of data for a successful READ]
 *
 * The connection and handshake (blkbk_nbd_prepare) block, bounded by a
 * deadline, and touch nothing but the socket: blkback runs them on a
 * worker thread (backing-async.c) so that a slow or silent server never
 * stalls the event loop; blkbk_backing_nbd_attach() then puts the
 * negotiated socket on the loop. Transmission is asynchronous on a libevent bufferevent: many
 * requests in flight, replies in any order, matched by handle (a slot
 * index plus a generation count, so a stale or forged handle is a protocol
 * error, not a use after free). Anything the server sends that does not
 * parse ends the connection: every io in flight completes with -EIO, and
 * later submits fail with -EIO (the device answers errors, the daemon
 * lives). Values read from the server are bounded before use.
 *
 * All integers are big-endian on the wire.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "nbd-proto.h"
#include "blkback/common.h"

#define NBD_SLOTS         1024
#define NBD_TRIM_CHUNK    (1u << 30) /* bytes per NBD_CMD_TRIM (length is u32) */
#define NBD_MAX_OPT_REPLY 4096
/* Write payloads are copied into the socket's output buffer; past this much
 * unsent data new ios wait on the backlog (a guest must not make us buffer
 * without bound when the server is slow). Resumed below the low mark. */
#define NBD_OUT_HIGH      (32u << 20)
#define NBD_OUT_LOW       (8u << 20)

struct nbd_slot {
	struct blkbk_io *io; /* NULL: free */
	uint32_t gen;
	uint32_t len;    /* READ: payload to expect */
	uint64_t io_off; /* READ: where in io the payload goes */
	uint16_t type;
};

struct nbd_backing {
	struct blkbk_backing b;
	struct event_base *base;
	struct bufferevent *bev;
	int dead;
	uint16_t tflags;
	struct nbd_slot slots[NBD_SLOTS];
	uint32_t free_idx[NBD_SLOTS];
	uint32_t nr_free;
	unsigned int inflight; /* ios (not NBD requests) not yet done */
	/* ios waiting for a free slot */
	struct blkbk_io *backlog, *backlog_tail;
	/* reply parsing: a header read, payload pending */
	int in_payload;
	uint32_t cur_slot;
	uint32_t cur_done;
	struct log_ratelimit rl;
};

static struct nbd_backing *nb_of(struct blkbk_backing *b)
{
	return (struct nbd_backing *)b;
}

/* ------------------------------------------------------------------ */
/* Handshake (blocking, with a deadline)                               */
/* ------------------------------------------------------------------ */

static int64_t deadline_left(const struct timespec *dl)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(dl->tv_sec - now.tv_sec) * 1000 +
	       (dl->tv_nsec - now.tv_nsec) / 1000000;
}

static int wait_fd(int fd, short ev, const struct timespec *dl)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int64_t left = deadline_left(dl);
	int rc;

	if (left <= 0)
		return -ETIMEDOUT;
	rc = poll(&pfd, 1, (int)left);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	return 0;
}

static int read_full(int fd, void *buf, size_t len, const struct timespec *dl)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == 0) {
			return -ECONNRESET;
		} else if (errno == EAGAIN || errno == EINTR) {
			int rc = wait_fd(fd, POLLIN, dl);

			if (rc < 0)
				return rc;
		} else {
			return -errno;
		}
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len,
		      const struct timespec *dl)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int rc = wait_fd(fd, POLLOUT, dl);

			if (rc < 0)
				return rc;
		} else {
			return n < 0 ? -errno : -EIO;
		}
	}
	return 0;
}

static int connect_addr(int fd, const struct sockaddr *sa, socklen_t len,
			const struct timespec *dl)
{
	int err;
	socklen_t elen = sizeof(err);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	err = wait_fd(fd, POLLOUT, dl);
	if (err < 0)
		return err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -errno;
	return -err;
}

static int nbd_connect(const struct blkbk_params *p, const struct timespec *dl)
{
	int fd, rc;

	if (p->socket[0]) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(p->socket) >= sizeof(sun.sun_path))
			return -ENAMETOOLONG;
		strcpy(sun.sun_path, p->socket);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		if (fd < 0)
			return -errno;
		rc = connect_addr(fd, (struct sockaddr *)&sun, sizeof(sun), dl);
		if (rc < 0) {
			close(fd);
			return rc;
		}
		return fd;
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
					  .ai_family = AF_UNSPEC };
		struct addrinfo *res, *ai;
		int one = 1;

		rc = getaddrinfo(p->host, p->port, &hints, &res);
		if (rc != 0)
			return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
		rc = -ECONNREFUSED;
		fd = -1;
		for (ai = res; ai; ai = ai->ai_next) {
			fd = socket(ai->ai_family,
				    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    ai->ai_protocol);
			if (fd < 0) {
				rc = -errno;
				continue;
			}
			rc = connect_addr(fd, ai->ai_addr, ai->ai_addrlen, dl);
			if (rc == 0)
				break;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd < 0)
			return rc;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return fd;
	}
}

/* Send one option header (+ data). */
static int send_opt(int fd, uint32_t opt, const void *data, uint32_t len,
		    const struct timespec *dl)
{
	struct nbd_opt_hdr h = { htobe64(NBD_OPTS_MAGIC), htobe32(opt),
				 htobe32(len) };
	int rc = write_full(fd, &h, sizeof(h), dl);

	if (rc < 0 || !len)
		return rc;
	return write_full(fd, data, len, dl);
}

/* NBD_OPT_GO: 0 with size/flags, -EOPNOTSUPP if the server lacks GO. */
static int handshake_go(int fd, const char *name, uint64_t *size,
			uint16_t *tflags, uint32_t *min_block,
			const struct timespec *dl)
{
	uint32_t nlen = (uint32_t)strlen(name);
	size_t dlen = 4 + nlen + 2 + 2;
	unsigned char *d = malloc(dlen);
	uint32_t be32;
	uint16_t be16;
	int rc, got_export = 0;

	if (!d)
		return -ENOMEM;
	be32 = htobe32(nlen);
	memcpy(d, &be32, 4);
	memcpy(d + 4, name, nlen);
	be16 = htobe16(1); /* one info request: block size */
	memcpy(d + 4 + nlen, &be16, 2);
	be16 = htobe16(NBD_INFO_BLOCK_SIZE);
	memcpy(d + 6 + nlen, &be16, 2);
	rc = send_opt(fd, NBD_OPT_GO, d, (uint32_t)dlen, dl);
	free(d);
	if (rc < 0)
		return rc;
	for (;;) {
		struct nbd_opt_reply_hdr r;
		unsigned char buf[NBD_MAX_OPT_REPLY];
		uint32_t type, len;

		rc = read_full(fd, &r, sizeof(r), dl);
		if (rc < 0)
			return rc;
		type = be32toh(r.type);
		len = be32toh(r.len);
		if (be64toh(r.magic) != NBD_REP_MAGIC ||
		    be32toh(r.opt) != NBD_OPT_GO || len > sizeof(buf))
			return -EPROTO;
		rc = read_full(fd, buf, len, dl);
		if (rc < 0)
			return rc;
		if (type == NBD_REP_ACK)
			return got_export ? 0 : -EPROTO;
		if (type == NBD_REP_ERR_UNSUP)
			return -EOPNOTSUPP;
		if (type & NBD_REP_FLAG_ERROR)
			return -ENOENT; /* unknown export, policy, ... */
		if (type != NBD_REP_INFO || len < 2)
			continue;
		memcpy(&be16, buf, 2);
		if (be16toh(be16) == NBD_INFO_EXPORT && len >= 12) {
			uint64_t be64;

			memcpy(&be64, buf + 2, 8);
			memcpy(&be16, buf + 10, 2);
			*size = be64toh(be64);
			*tflags = be16toh(be16);
			got_export = 1;
		} else if (be16toh(be16) == NBD_INFO_BLOCK_SIZE && len >= 14) {
			memcpy(&be32, buf + 2, 4);
			*min_block = be32toh(be32);
		}
	}
}

/* The old way: NBD_OPT_EXPORT_NAME (no error reply: the server closes). */
static int handshake_export_name(int fd, const char *name, int no_zeroes,
				 uint64_t *size, uint16_t *tflags,
				 const struct timespec *dl)
{
	unsigned char buf[8 + 2 + 124];
	uint64_t be64;
	uint16_t be16;
	int rc;

	rc = send_opt(fd, NBD_OPT_EXPORT_NAME, name, (uint32_t)strlen(name), dl);
	if (rc < 0)
		return rc;
	rc = read_full(fd, buf, no_zeroes ? 10 : sizeof(buf), dl);
	if (rc < 0)
		return rc == -ECONNRESET ? -ENOENT : rc;
	memcpy(&be64, buf, 8);
	memcpy(&be16, buf + 8, 2);
	*size = be64toh(be64);
	*tflags = be16toh(be16);
	return 0;
}

static int handshake(int fd, const char *name, uint64_t *size, uint16_t *tflags,
		     uint32_t *min_block, const struct timespec *dl)
{
	struct nbd_greeting g;
	uint16_t hflags;
	uint32_t cflags;
	int rc;

	rc = read_full(fd, &g, sizeof(g), dl);
	if (rc < 0)
		return rc;
	if (be64toh(g.magic) != NBD_MAGIC ||
	    be64toh(g.opts_magic) != NBD_OPTS_MAGIC)
		return -EPROTO; /* not NBD, or oldstyle */
	hflags = be16toh(g.flags);
	if (!(hflags & NBD_FLAG_FIXED_NEWSTYLE))
		return -EPROTO;
	cflags = NBD_FLAG_C_FIXED_NEWSTYLE |
		 (hflags & NBD_FLAG_NO_ZEROES ? NBD_FLAG_C_NO_ZEROES : 0);
	cflags = htobe32(cflags);
	rc = write_full(fd, &cflags, 4, dl);
	if (rc < 0)
		return rc;
	rc = handshake_go(fd, name, size, tflags, min_block, dl);
	if (rc == -EOPNOTSUPP)
		rc = handshake_export_name(fd, name,
					   !!(hflags & NBD_FLAG_NO_ZEROES),
					   size, tflags, dl);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Transmission                                                        */
/* ------------------------------------------------------------------ */

static void io_part_done(struct nbd_backing *nb, struct blkbk_io *io, int err)
{
	if (err && !io->err)
		io->err = err;
	if (--io->parts)
		return;
	nb->inflight--;
	io->done(io,
		 io->err ? io->err
			 : (io->op == BLKBK_IO_READ || io->op == BLKBK_IO_WRITE
				    ? (int)io->len
				    : 0));
}

static void send_request(struct nbd_backing *nb, uint32_t idx, uint16_t type,
			 uint64_t off, uint32_t len, struct blkbk_io *io)
{
	struct nbd_slot *s = &nb->slots[idx];
	struct evbuffer *out = bufferevent_get_output(nb->bev);
	struct nbd_request_hdr h;

	s->io = io;
	s->type = type;
	s->len = type == NBD_CMD_READ ? len : 0;
	s->io_off = 0;
	h.magic = htobe32(NBD_REQUEST_MAGIC);
	h.flags = 0;
	h.type = htobe16(type);
	h.handle = htobe64(((uint64_t)s->gen << 32) | idx);
	h.offset = htobe64(off);
	h.len = htobe32(len);
	evbuffer_add(out, &h, sizeof(h));
	if (type == NBD_CMD_WRITE)
		for (int i = 0; i < io->iovcnt; i++)
			evbuffer_add(out, io->iov[i].iov_base,
				     io->iov[i].iov_len);
}

/* Requests io needs; 0 if they cannot all get a slot now. */
static uint32_t parts_of(const struct blkbk_io *io)
{
	if (io->op == BLKBK_IO_DISCARD)
		return (uint32_t)((io->len + NBD_TRIM_CHUNK - 1) /
				  NBD_TRIM_CHUNK);
	return 1;
}

static int start_io(struct nbd_backing *nb, struct blkbk_io *io)
{
	uint32_t parts = parts_of(io);

	if (parts > nb->nr_free ||
	    evbuffer_get_length(bufferevent_get_output(nb->bev)) > NBD_OUT_HIGH)
		return -EAGAIN;
	io->parts = parts;
	io->err = 0;
	switch (io->op) {
	case BLKBK_IO_READ:
	case BLKBK_IO_WRITE:
		send_request(nb, nb->free_idx[--nb->nr_free],
			     io->op == BLKBK_IO_READ ? NBD_CMD_READ
						     : NBD_CMD_WRITE,
			     io->offset, (uint32_t)io->len, io);
		break;
	case BLKBK_IO_FLUSH:
		send_request(nb, nb->free_idx[--nb->nr_free], NBD_CMD_FLUSH, 0,
			     0, io);
		break;
	case BLKBK_IO_DISCARD:
		for (uint64_t off = 0; off < io->len; off += NBD_TRIM_CHUNK) {
			uint64_t n = io->len - off;

			if (n > NBD_TRIM_CHUNK)
				n = NBD_TRIM_CHUNK;
			send_request(nb, nb->free_idx[--nb->nr_free],
				     NBD_CMD_TRIM, io->offset + off,
				     (uint32_t)n, io);
		}
		break;
	}
	return 0;
}

static void backlog_start(struct nbd_backing *nb)
{
	while (nb->backlog && start_io(nb, nb->backlog) == 0) {
		nb->backlog = nb->backlog->next;
		if (!nb->backlog)
			nb->backlog_tail = NULL;
	}
}

static void slot_free(struct nbd_backing *nb, uint32_t idx)
{
	nb->slots[idx].io = NULL;
	nb->slots[idx].gen++;
	nb->free_idx[nb->nr_free++] = idx;
}

/* The connection is unusable: fail everything, refuse what comes. */
static void nbd_die(struct nbd_backing *nb, const char *why)
{
	if (nb->dead)
		return;
	nb->dead = 1;
	nb->b.failed = 1;
	LOG_RATELIMITED(&nb->rl, LOG_WARNING, -1, NULL,
			"%s: NBD connection lost: %s", nb->b.desc, why);
	bufferevent_disable(nb->bev, EV_READ | EV_WRITE);
	for (uint32_t i = 0; i < NBD_SLOTS; i++) {
		struct blkbk_io *io = nb->slots[i].io;

		if (io) {
			slot_free(nb, i);
			io_part_done(nb, io, -EIO);
		}
	}
	while (nb->backlog) {
		struct blkbk_io *io = nb->backlog;

		nb->backlog = io->next;
		io->parts = 1;
		io->err = 0;
		io_part_done(nb, io, -EIO);
	}
	nb->backlog_tail = NULL;
	if (nb->b.batch_done)
		nb->b.batch_done(nb->b.batch_arg);
}

/* Copy n payload bytes from in into io at byte offset off. */
static void payload_to_iov(struct evbuffer *in, struct blkbk_io *io,
			   uint64_t off, size_t n)
{
	for (int i = 0; i < io->iovcnt && n; i++) {
		size_t l = io->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= (size_t)off;
		if (l > n)
			l = n;
		evbuffer_remove(in, (char *)io->iov[i].iov_base + off, l);
		n -= l;
		off = 0;
	}
	if (n) /* cannot happen: len == sum of iov */
		evbuffer_drain(in, n);
}

static int errno_of_nbd(uint32_t e)
{
	switch (e) {
	case EPERM:
	case EIO:
	case ENOMEM:
	case EINVAL:
	case ENOSPC:
	case EOVERFLOW:
	case ENOTSUP:
	case ESHUTDOWN:
		return -(int)e;
	default:
		return -EIO;
	}
}

static void nbd_on_read(struct bufferevent *bev, void *arg)
{
	struct nbd_backing *nb = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	int any = 0;

	while (!nb->dead) {
		struct nbd_slot *s;

		if (nb->in_payload) {
			size_t avail = evbuffer_get_length(in);
			size_t want;

			s = &nb->slots[nb->cur_slot];
			want = s->len - nb->cur_done;
			if (avail > want)
				avail = want;
			payload_to_iov(in, s->io, nb->cur_done, avail);
			nb->cur_done += (uint32_t)avail;
			if (nb->cur_done < s->len)
				break;
			nb->in_payload = 0;
			{
				struct blkbk_io *io = s->io;

				slot_free(nb, nb->cur_slot);
				io_part_done(nb, io, 0);
				any = 1;
			}
			continue;
		}
		{
			struct nbd_simple_reply_hdr r;
			uint64_t h;
			uint32_t idx, err;

			if (evbuffer_get_length(in) < sizeof(r))
				break;
			evbuffer_remove(in, &r, sizeof(r));
			if (be32toh(r.magic) != NBD_SIMPLE_REPLY_MAGIC) {
				nbd_die(nb, "bad reply magic");
				return;
			}
			h = be64toh(r.handle);
			idx = (uint32_t)h;
			if (idx >= NBD_SLOTS || !nb->slots[idx].io ||
			    nb->slots[idx].gen != (uint32_t)(h >> 32)) {
				nbd_die(nb, "reply to an unknown handle");
				return;
			}
			s = &nb->slots[idx];
			err = be32toh(r.error);
			if (s->type == NBD_CMD_READ && err == 0 && s->len) {
				nb->in_payload = 1;
				nb->cur_slot = idx;
				nb->cur_done = 0;
				continue;
			}
			{
				struct blkbk_io *io = s->io;

				slot_free(nb, idx);
				io_part_done(nb, io,
					     err ? errno_of_nbd(err) : 0);
				any = 1;
			}
		}
	}
	backlog_start(nb);
	if (any && nb->b.batch_done)
		nb->b.batch_done(nb->b.batch_arg);
}

/* The output drained below NBD_OUT_LOW: start what waited for room. */
static void nbd_on_write(struct bufferevent *bev, void *arg)
{
	struct nbd_backing *nb = arg;

	if (!nb->dead)
		backlog_start(nb);
}

static void nbd_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct nbd_backing *nb = arg;

	if (what & BEV_EVENT_EOF)
		nbd_die(nb, "server closed the connection");
	else if (what & BEV_EVENT_ERROR)
		nbd_die(nb, strerror(EVUTIL_SOCKET_ERROR()));
}

static int nb_submit(struct blkbk_backing *b, struct blkbk_io *io)
{
	struct nbd_backing *nb = nb_of(b);

	if (nb->dead)
		return -EIO;
	if ((io->op == BLKBK_IO_WRITE || io->op == BLKBK_IO_DISCARD) &&
	    b->readonly)
		return -EROFS;
	if ((io->op == BLKBK_IO_FLUSH && !b->can_flush) ||
	    (io->op == BLKBK_IO_DISCARD && !b->can_discard))
		return -EOPNOTSUPP;
	if ((io->op == BLKBK_IO_READ || io->op == BLKBK_IO_WRITE) &&
	    (io->len == 0 || io->len > UINT32_MAX / 2))
		return -EINVAL;
	nb->inflight++;
	if (nb->backlog || start_io(nb, io) < 0) {
		io->next = NULL;
		if (nb->backlog_tail)
			nb->backlog_tail->next = io;
		else
			nb->backlog = io;
		nb->backlog_tail = io;
	}
	return 0;
}

static void nb_kick(struct blkbk_backing *b)
{
	/* bufferevent writes from the loop: a pass's requests leave together */
}

static unsigned int nb_inflight(struct blkbk_backing *b)
{
	return nb_of(b)->inflight;
}

static void nb_close(struct blkbk_backing *b)
{
	struct nbd_backing *nb = nb_of(b);

	if (nb->bev) {
		if (!nb->dead) {
			/* polite goodbye, best effort */
			struct nbd_request_hdr h = { htobe32(NBD_REQUEST_MAGIC),
						     0,
						     htobe16(NBD_CMD_DISC),
						     0,
						     0,
						     0 };
			int fd = bufferevent_getfd(nb->bev);

			bufferevent_flush(nb->bev, EV_WRITE, BEV_FLUSH);
			if (evbuffer_get_length(
				    bufferevent_get_output(nb->bev)) == 0)
				(void)!send(fd, &h, sizeof(h),
					    MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		bufferevent_free(nb->bev);
	}
	free(nb);
}

static const struct blkbk_backing_ops nbd_ops = {
	.name = "nbd",
	.submit = nb_submit,
	.kick = nb_kick,
	.inflight = nb_inflight,
	.close = nb_close,
};

int blkbk_nbd_prepare(const struct blkbk_params *p, int timeout_ms,
		      struct blkbk_nbd_conn *c)
{
	struct timespec dl;
	int fd, rc;

	c->fd = -1;
	if (p->kind != BLKBK_BACKING_NBD)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	fd = nbd_connect(p, &dl);
	if (fd < 0)
		return fd;
	c->size = 0;
	c->tflags = 0;
	c->min_block = 0;
	rc = handshake(fd, p->export_name, &c->size, &c->tflags, &c->min_block,
		       &dl);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	c->fd = fd;
	return 0;
}

int blkbk_backing_nbd_attach(struct event_base *base,
			     const struct blkbk_params *p, int readonly,
			     struct blkbk_nbd_conn *c,
			     struct blkbk_backing **out)
{
	struct nbd_backing *nb;
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(5000, 5);
	int fd = c->fd;

	c->fd = -1; /* ours from here, on success and on failure */
	if (fd < 0)
		return -EBADF;
	nb = calloc(1, sizeof(*nb));
	if (!nb) {
		close(fd);
		return -ENOMEM;
	}
	nb->rl = rl;
	nb->base = base;
	nb->tflags = c->tflags;
	nb->b.ops = &nbd_ops;
	nb->b.size = c->size;
	nb->b.sector_size = c->min_block >= 512 && c->min_block <= 4096 &&
					    !(c->min_block & (c->min_block - 1))
				    ? c->min_block
				    : 512;
	nb->b.readonly = readonly || (c->tflags & NBD_FLAG_READ_ONLY);
	nb->b.can_flush = !!(c->tflags & NBD_FLAG_SEND_FLUSH);
	nb->b.can_discard =
		!!(c->tflags & NBD_FLAG_SEND_TRIM) && !nb->b.readonly;
	blkbk_params_desc(p, nb->b.desc, sizeof(nb->b.desc));
	for (uint32_t i = 0; i < NBD_SLOTS; i++)
		nb->free_idx[i] = NBD_SLOTS - 1 - i;
	nb->nr_free = NBD_SLOTS;
	nb->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!nb->bev) {
		close(fd);
		free(nb);
		return -ENOMEM;
	}
	bufferevent_setcb(nb->bev, nbd_on_read, nbd_on_write, nbd_on_event, nb);
	bufferevent_setwatermark(nb->bev, EV_WRITE, NBD_OUT_LOW, 0);
	bufferevent_enable(nb->bev, EV_READ | EV_WRITE);
	*out = &nb->b;
	return 0;
}

int blkbk_backing_nbd_open(struct event_base *base,
			   const struct blkbk_params *p, int readonly,
			   int timeout_ms, struct blkbk_backing **out)
{
	struct blkbk_nbd_conn c;
	int rc = blkbk_nbd_prepare(p, timeout_ms, &c);

	if (rc < 0)
		return rc;
	return blkbk_backing_nbd_attach(base, p, readonly, &c, out);
}
