/*
 * lu.c - live update: XS_CONTROL "live-update" and the migration stream.
 *
 * xenstore-control live-update BINARY sends, as for C xenstored run as a
 * daemon: "live-update -f BINARY" (OK), optionally "-c CMDLINE" (OK),
 * then "-s -t SECS [-F]" until the answer is not "BUSY"; "-a" aborts.
 * On -s we write the whole state to a file, let the sockets survive exec
 * and execve() the binary with --live-update=FILE; the new process reads
 * the file instead of the snapshot and journal, adopts the sockets, maps
 * every ring again and binds its event channel again, and answers the
 * -s request "OK" (the reply is in the requester's pending output).
 *
 * The file is a stream in the format of Xen's
 * docs/designs/xenstore-migration.md, version 2: a header (big-endian),
 * then records {u32 type, u32 len, body, padding to 8}, in this order:
 *   GLOBAL_DATA          rw listening socket fd, evtchn fd (-1: we bind
 *                        the channels again)
 *   GLOBAL_QUOTA_DATA    every quota, by C xenstored's names
 *   NODE_DATA            each node, parents first; then the special
 *                        nodes (@introduceDomain, @releaseDomain)
 *   SPLITDRV_DOMAIN      ours (type 0x80000001): an introduced domain's
 *                        gfn, event channel, target and shutdown flag
 *                        (the stream has no place for the gfn)
 *   DOMAIN_DATA          features and own quotas, also of a domain with
 *                        settings but not yet introduced
 *   CONNECTION_DATA      each socket client (fd) and ring (domid); data:
 *                        input read and not handled, output not written
 *   WATCH_DATA_EXTENDED  each watch (path as the client gave it, depth)
 *   TRANSACTION_DATA     each open transaction: it comes back failed,
 *                        its commit answers EAGAIN (its changes are not
 *                        carried: no pending-node records are written)
 *   END
 * Multi-byte fields of records are in host byte order (header flag 0:
 * little endian); a stream of the other order is refused.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "xenstored/conn.h"
#include "xenstored/domain.h"
#include "xenstored/lu.h"
#include "xenstored/perms.h"
#include "xenstored/tree.h"
#include "xenstored/txn.h"
#include "xenstored/watch.h"
#include "xenstored/xenstored.h"

#define LU_IDENT   0x78656e73746f7265ULL /* "xenstore" */
#define LU_VERSION 2

enum lu_rec_type {
	REC_END = 0,
	REC_GLOBAL = 1,
	REC_CONN = 2,
	REC_WATCH = 3,
	REC_TXN = 4,
	REC_NODE = 5,
	REC_GLOBAL_QUOTA = 6,
	REC_DOMAIN = 7,
	REC_WATCH_EXT = 8,
	REC_SPLITDRV_DOMAIN = 0x80000001u,
};

#define CONN_RING       0
#define CONN_SOCKET     1
/* ours, in CONNECTION_DATA's fields: a socket_ro client (no field added) */
#define CONN_F_READONLY 0x0100

#define DOMID_INVALID_ 0x7ff4

struct xs_lu {
	struct xs_lu_ops ops;
	char *state;
	char *binary;
	char *cmdline;
};

/* ---- writing ---- */

static int put(struct xs_buf *b, const void *p, size_t n)
{
	return xs_buf_add(b, p, n);
}

static int put_u32(struct xs_buf *b, uint32_t v)
{
	return put(b, &v, 4);
}

static int put_u16(struct xs_buf *b, uint16_t v)
{
	return put(b, &v, 2);
}

/* Close the record begun at offset start: its len, then padding. */
static int rec_end(struct xs_buf *b, size_t start)
{
	static const char zero[8];
	uint32_t len = (uint32_t)(b->len - start - 8);

	memcpy(b->p + start + 4, &len, 4);
	return put(b, zero, (8 - len % 8) % 8);
}

static int rec_begin(struct xs_buf *b, uint32_t type, size_t *start)
{
	*start = b->len;
	return put_u32(b, type) || put_u32(b, 0);
}

static int put_perms(struct xs_buf *b, const struct xs_perm *p, uint32_t n)
{
	static const char letter[4] = { 'n', 'r', 'w', 'b' };
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t pf[2] = { (uint8_t)letter[p[i].perm & 3], 0 };

		if (put(b, pf, 2) || put_u16(b, (uint16_t)p[i].domid))
			return -ENOMEM;
	}
	return 0;
}

static int put_node(struct xs_buf *b, const char *path, const void *value,
		    uint32_t vlen, const struct xs_perm *perms, uint32_t np)
{
	size_t start;
	uint32_t plen = (uint32_t)strlen(path) + 1;

	if (rec_begin(b, REC_NODE, &start) || put_u32(b, 0) || put_u32(b, 0) ||
	    put_u16(b, (uint16_t)plen) || put_u16(b, (uint16_t)vlen) ||
	    put_u16(b, 0) || put_u16(b, (uint16_t)np) ||
	    put_perms(b, perms, np) || put(b, path, plen) || put(b, value, vlen))
		return -ENOMEM;
	return rec_end(b, start);
}

static int node_cb(const struct xs_node *n, void *arg)
{
	return put_node(arg, n->path, n->value, n->vlen, n->perms, n->nperms);
}

/* quotas: n values, then their names (only the nonzero ones if own) */
static int put_quotas(struct xs_buf *b, const struct xs_quota *q, bool own,
		      bool count_only, uint16_t *n)
{
	int i;

	*n = 0;
	for (i = 0; i < XS_Q_COUNT; i++) {
		if (own && !q->val[i])
			continue;
		(*n)++;
		if (!count_only && put_u32(b, q->val[i]))
			return -ENOMEM;
	}
	if (count_only)
		return 0;
	for (i = 0; i < XS_Q_COUNT; i++) {
		const char *name = xs_quota_name(i);

		if (own && !q->val[i])
			continue;
		if (put(b, name, strlen(name) + 1))
			return -ENOMEM;
	}
	return 0;
}

static int put_domain_data(struct xs_buf *b, const struct xs_domain *d)
{
	size_t start;
	uint16_t n;

	put_quotas(b, &d->quota, true, true, &n);
	if (rec_begin(b, REC_DOMAIN, &start) ||
	    put_u16(b, (uint16_t)d->domid) || put_u16(b, n) ||
	    put_u32(b, d->features) || put_quotas(b, &d->quota, true, false, &n))
		return -ENOMEM;
	return rec_end(b, start);
}

/* The bytes of c's input read but not handled: a header (and payload)
 * in part, then what its read buffer holds. The request being handled
 * now (c is st->cur) counts as handled. */
static int put_input(struct xs_buf *b, const struct xs_conn *c, bool cur)
{
	if (!cur && c->hdr_got) {
		if (put(b, &c->hdr, c->hdr_got))
			return -ENOMEM;
		if (c->hdr_got == sizeof(c->hdr) && put(b, c->in, c->in_got))
			return -ENOMEM;
	}
	return c->roff < c->rlen ? put(b, c->rbuf + c->roff, c->rlen - c->roff)
				 : 0;
}

static size_t input_len(const struct xs_conn *c, bool cur)
{
	size_t n = c->rlen - c->roff;

	if (!cur && c->hdr_got)
		n += c->hdr_got + (c->hdr_got == sizeof(c->hdr) ? c->in_got : 0);
	return n;
}

static int put_conn(struct xs_buf *b, const struct xs_conn *c, uint32_t id,
		    int fd, const struct xs_domain *d, bool cur,
		    const void *reply, size_t rlen)
{
	const struct xs_msg *m;
	size_t start, out_len = 0, in_len = input_len(c, cur);
	uint32_t first = 0;
	uint16_t fields = 0;

	TAILQ_FOREACH(m, &c->out, link) {
		if (m == TAILQ_FIRST(&c->out) && c->out_off)
			first = m->len - c->out_off;
		out_len += m->len - (m == TAILQ_FIRST(&c->out) ? c->out_off : 0);
	}
	if (cur)
		out_len += rlen;
	if (in_len > 0xffff || out_len > 0xffffffffu) {
		errno = E2BIG;
		return -E2BIG;
	}
	if (fd >= 0 && c->readonly)
		fields |= CONN_F_READONLY;
	if (rec_begin(b, REC_CONN, &start) || put_u32(b, id) ||
	    put_u16(b, fd >= 0 ? CONN_SOCKET : CONN_RING) || put_u16(b, fields))
		return -ENOMEM;
	if (fd >= 0) {
		if (put_u32(b, (uint32_t)fd) || put_u32(b, 0))
			return -ENOMEM;
	} else if (put_u16(b, (uint16_t)c->domid) ||
		   put_u16(b, c->target >= 0 ? (uint16_t)c->target
					     : DOMID_INVALID_) ||
		   put_u32(b, d ? d->port : 0)) {
		return -ENOMEM;
	}
	if (put_u16(b, (uint16_t)in_len) || put_u16(b, (uint16_t)first) ||
	    put_u32(b, (uint32_t)out_len) || put_input(b, c, cur))
		return -ENOMEM;
	TAILQ_FOREACH(m, &c->out, link) {
		uint32_t off = m == TAILQ_FIRST(&c->out) ? c->out_off : 0;

		if (put(b, m->data + off, m->len - off))
			return -ENOMEM;
	}
	if (cur && put(b, reply, rlen))
		return -ENOMEM;
	return rec_end(b, start);
}

static int put_conn_state(struct xs_buf *b, const struct xs_conn *c, uint32_t id)
{
	const struct xs_watch *w;
	const struct xs_txn *tx;
	size_t start;

	TAILQ_FOREACH(w, &c->watches, by_conn) {
		const char *wp = w->path + w->strip;
		uint16_t pl = (uint16_t)(strlen(wp) + 1),
			 tl = (uint16_t)(strlen(w->token) + 1);

		if (rec_begin(b, REC_WATCH_EXT, &start) || put_u32(b, id) ||
		    put_u16(b, pl) || put_u16(b, tl) ||
		    put_u16(b, w->depth < 0 ? 0xffff : (uint16_t)w->depth) ||
		    put_u16(b, 0) || put(b, wp, pl) || put(b, w->token, tl) ||
		    rec_end(b, start))
			return -ENOMEM;
	}
	TAILQ_FOREACH(tx, &c->txns, link)
		if (rec_begin(b, REC_TXN, &start) || put_u32(b, id) ||
		    put_u32(b, tx->id) || rec_end(b, start))
			return -ENOMEM;
	return 0;
}

static int encode(struct xs_store *st, struct xs_buf *b,
		  const struct xs_lu_ops *ops, struct xs_conn *req,
		  const void *reply, size_t rlen)
{
	uint64_t ident = htobe64(LU_IDENT);
	uint32_t ver = htobe32(LU_VERSION), flags = htobe32(0);
	const struct xs_domain *d;
	struct xs_conn *c;
	size_t start, i;
	uint32_t id = 0;
	uint16_t n;

	if (__BYTE_ORDER == __BIG_ENDIAN)
		flags = htobe32(1);
	if (put(b, &ident, 8) || put(b, &ver, 4) || put(b, &flags, 4))
		return -ENOMEM;
	if (rec_begin(b, REC_GLOBAL, &start) ||
	    put_u32(b, (uint32_t)(ops->listen_fd ? ops->listen_fd(ops->arg)
						 : -1)) ||
	    put_u32(b, (uint32_t)-1) || rec_end(b, start))
		return -ENOMEM;
	put_quotas(b, &st->quota, false, true, &n);
	if (rec_begin(b, REC_GLOBAL_QUOTA, &start) || put_u16(b, n) ||
	    put_u16(b, 0) || put_quotas(b, &st->quota, false, false, &n) ||
	    rec_end(b, start))
		return -ENOMEM;
	if (xs_tree_walk(st->tree.root, node_cb, b))
		return -ENOMEM;
	for (i = 0; i < sizeof(st->special) / sizeof(st->special[0]); i++)
		if (put_node(b, st->special[i].name, "", 0,
			     st->special[i].perms, st->special[i].nperms))
			return -ENOMEM;
	TAILQ_FOREACH(d, &st->domains, link) {
		if (rec_begin(b, REC_SPLITDRV_DOMAIN, &start) ||
		    put_u32(b, d->domid) || put_u32(b, d->port) ||
		    put_u32(b, (uint32_t)d->target) ||
		    put_u32(b, d->shutdown) || put(b, &d->mfn, 8) ||
		    rec_end(b, start) || put_domain_data(b, d))
			return -ENOMEM;
	}
	TAILQ_FOREACH(d, &st->pending, link)
		if (put_domain_data(b, d))
			return -ENOMEM;
	TAILQ_FOREACH(c, &st->conns, link) {
		int fd = ops->conn_fd ? ops->conn_fd(ops->arg, c) : -1;
		const struct xs_domain *cd = NULL;
		int rc;

		if (fd < 0 && c->domid != 0) {
			/* a ring: its domain's (dom0's own ring, on Xen, is
			 * the one connection of domid 0 not on a socket) */
			cd = xs_domain_find(st, c->domid);
			if (!cd || cd->conn != c)
				continue;
		}
		rc = put_conn(b, c, ++id, fd, cd, c == req, reply, rlen);
		if (!rc)
			rc = put_conn_state(b, c, id);
		if (rc)
			return rc;
	}
	if (rec_begin(b, REC_END, &start) || rec_end(b, start))
		return -ENOMEM;
	return 0;
}

/* xs_lu_write - see lu.h. */
int xs_lu_write(struct xs_store *st, int fd, const struct xs_lu_ops *ops,
		struct xs_conn *req, const void *reply, size_t rlen)
{
	struct xs_buf b = { 0 };
	size_t off = 0;
	int rc = encode(st, &b, ops, req, reply, rlen);

	while (rc == 0 && off < b.len) {
		ssize_t n = write(fd, b.p + off, b.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	xs_buf_free(&b);
	return rc;
}

/* ---- reading ---- */

struct lu_rec {
	uint32_t type, len;
	const unsigned char *body;
};

struct xs_lu_state {
	unsigned char *data;
	size_t nrecs;
	struct lu_rec *recs;
};

void xs_lu_state_free(struct xs_lu_state *s)
{
	if (!s)
		return;
	free(s->data);
	free(s->recs);
	free(s);
}

/* A cursor over one record's body: every read is bounds-checked. */
struct cur {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static const void *take(struct cur *k, size_t n)
{
	const void *p = k->p;

	if (k->bad || n > k->left) {
		k->bad = true;
		return NULL;
	}
	k->p += n;
	k->left -= n;
	return p;
}

/* n bytes into out (zeros past the end: k->bad says so) */
static void get(struct cur *k, void *out, size_t n)
{
	const void *p = take(k, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

static uint32_t get_u32(struct cur *k)
{
	uint32_t v;

	get(k, &v, sizeof(v));
	return v;
}

static uint16_t get_u16(struct cur *k)
{
	uint16_t v;

	get(k, &v, sizeof(v));
	return v;
}

/* A string of len bytes (its NUL included): NULL if not terminated. */
static const char *get_str(struct cur *k, uint16_t len)
{
	const char *s = take(k, len);

	if (!s || len == 0 || s[len - 1] != '\0' ||
	    memchr(s, 0, len) != s + len - 1) {
		k->bad = true;
		return NULL;
	}
	return s;
}

static struct cur rec_cur(const struct lu_rec *r)
{
	struct cur k = { r->body, r->len, false };

	return k;
}

/* Read a file whole; NULL with errno. */
static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	unsigned char *p = NULL;
	size_t off = 0;
	int saved;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || !(p = malloc((size_t)sb.st_size + 1)))
		goto fail;
	while (off < (size_t)sb.st_size) {
		ssize_t n = read(fd, p + off, (size_t)sb.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return p;
fail:
	saved = errno;
	free(p);
	close(fd);
	errno = saved;
	return NULL;
}

/* xs_lu_read - see lu.h. */
struct xs_lu_state *xs_lu_read(const char *path, char *err, size_t errlen)
{
	struct xs_lu_state *s = calloc(1, sizeof(*s));
	size_t len = 0, off = 16, cap = 0;
	uint64_t ident;
	uint32_t ver, flags;
	bool end = false;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->data = slurp(path, &len);
	if (!s->data) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(errno));
		goto fail_errno;
	}
	if (len < 16) {
		snprintf(err, errlen, "%s: too short for a migration header",
			 path);
		goto fail;
	}
	memcpy(&ident, s->data, 8);
	memcpy(&ver, s->data + 8, 4);
	memcpy(&flags, s->data + 12, 4);
	if (be64toh(ident) != LU_IDENT) {
		snprintf(err, errlen, "%s: not a xenstore migration stream",
			 path);
		goto fail;
	}
	ver = be32toh(ver);
	flags = be32toh(flags);
	if (ver < 1 || ver > LU_VERSION) {
		snprintf(err, errlen, "%s: stream version %u not supported",
			 path, ver);
		goto fail;
	}
	if ((flags & 1) != (__BYTE_ORDER == __BIG_ENDIAN) || (flags & ~1u)) {
		snprintf(err, errlen,
			 "%s: flags %#x: other byte order or unknown flags",
			 path, flags);
		goto fail;
	}
	while (!end) {
		struct lu_rec r;
		size_t padded;

		if (len - off < 8) {
			snprintf(err, errlen,
				 "%s: truncated at offset %zu "
				 "(no END record)",
				 path, off);
			goto fail;
		}
		memcpy(&r.type, s->data + off, 4);
		memcpy(&r.len, s->data + off + 4, 4);
		padded = ((size_t)r.len + 7) & ~(size_t)7;
		if (padded > len - off - 8) {
			snprintf(err, errlen,
				 "%s: record type %u at offset "
				 "%zu: length %u past the end",
				 path, r.type, off, r.len);
			goto fail;
		}
		r.body = s->data + off + 8;
		switch (r.type) {
		case REC_END:
			end = true;
			break;
		case REC_GLOBAL:
		case REC_CONN:
		case REC_WATCH_EXT:
		case REC_WATCH:
		case REC_TXN:
		case REC_NODE:
		case REC_GLOBAL_QUOTA:
		case REC_DOMAIN:
		case REC_SPLITDRV_DOMAIN:
			break;
		default:
			snprintf(err, errlen,
				 "%s: unknown record type %#x at "
				 "offset %zu",
				 path, r.type, off);
			goto fail;
		}
		if (s->nrecs == cap) {
			struct lu_rec *n;

			cap = cap ? cap * 2 : 64;
			n = realloc(s->recs, cap * sizeof(*n));
			if (!n) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			s->recs = n;
		}
		s->recs[s->nrecs++] = r;
		off += 8 + padded;
	}
	return s;
fail:
	errno = EINVAL;
fail_errno : {
	int saved = errno;

	xs_lu_state_free(s);
	errno = saved;
}
	return NULL;
}

static int parse_perms(struct cur *k, uint16_t n, struct xs_perm *out)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		const unsigned char *pf = take(k, 2);
		uint16_t domid = get_u16(k);

		if (!pf)
			return -EINVAL;
		switch (pf[0]) {
		case 'n':
			out[i].perm = 0;
			break;
		case 'r':
			out[i].perm = XS_P_READ;
			break;
		case 'w':
			out[i].perm = XS_P_WRITE;
			break;
		case 'b':
			out[i].perm = XS_P_READ | XS_P_WRITE;
			break;
		default:
			return -EINVAL;
		}
		out[i].domid = domid;
	}
	return k->bad ? -EINVAL : 0;
}

static int restore_node(struct xs_store *st, const struct lu_rec *r)
{
	struct cur k = rec_cur(r);
	uint32_t connid = get_u32(&k);
	uint16_t plen, vlen, np;
	struct xs_perm *perms;
	const char *path;
	const void *value;
	struct xs_node *n;
	int rc = 0;

	(void)get_u32(&k);
	plen = get_u16(&k);
	vlen = get_u16(&k);
	(void)get_u16(&k);
	np = get_u16(&k);
	if (k.bad || connid) /* pending transaction nodes: not written */
		return -EINVAL;
	if (np == 0 || !(perms = calloc(np, sizeof(*perms))))
		return np ? -ENOMEM : -EINVAL;
	if (parse_perms(&k, np, perms) || !(path = get_str(&k, plen)) ||
	    !(value = take(&k, vlen))) {
		free(perms);
		return -EINVAL;
	}
	if (path[0] == '@') {
		struct xs_special *sp = xs_store_special(st, path);

		if (!sp || np > sizeof(sp->perms) / sizeof(sp->perms[0]))
			rc = -EINVAL;
		else {
			memcpy(sp->perms, perms, np * sizeof(*perms));
			sp->nperms = np;
		}
	} else if (path[0] != '/') {
		rc = -EINVAL;
	} else if ((n = xs_tree_get(&st->tree, path))) {
		rc = xs_tree_set_value(&st->tree, n, value, vlen);
		if (!rc)
			rc = xs_tree_set_perms(&st->tree, n, perms, np);
	} else if (!xs_tree_create(&st->tree, path, value, vlen, perms, np)) {
		rc = errno == ENOENT ? -EINVAL : -errno;
	}
	free(perms);
	return rc;
}

static void log_bad_record(int rc, size_t i, const struct lu_rec *r)
{
	log_errno(LOG_ERR, rc,
		  "live update: record %zu (type %#x) is malformed", i, r->type);
}

/* Quota values then names; unknown names are ignored (the stream's rule). */
static int restore_quotas(struct cur *k, uint16_t n, struct xs_quota *q)
{
	const unsigned char *vals = take(k, (size_t)n * 4);
	uint16_t i;

	if (!vals)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const char *name =
			memchr(k->p, 0, k->left) ? (const char *)k->p : NULL;
		uint32_t v;
		int id;

		if (!name)
			return -EINVAL;
		take(k, strlen(name) + 1);
		memcpy(&v, vals + 4 * i, 4);
		for (id = 0; id < XS_Q_COUNT; id++)
			if (strcmp(name, xs_quota_name(id)) == 0)
				q->val[id] = v;
	}
	return 0;
}

/* xs_lu_restore_store - see lu.h. */
int xs_lu_restore_store(struct xs_store *st, const struct xs_lu_state *s,
			int *listen_fd)
{
	size_t i;
	int rc = 0;

	*listen_fd = -1;
	for (i = 0; i < s->nrecs && !rc; i++) {
		const struct lu_rec *r = &s->recs[i];
		struct cur k = rec_cur(r);
		struct xs_domain *d;

		switch (r->type) {
		case REC_GLOBAL:
			*listen_fd = (int)get_u32(&k);
			rc = k.bad ? -EINVAL : 0;
			break;
		case REC_GLOBAL_QUOTA: {
			uint16_t nd = get_u16(&k), ng = get_u16(&k);

			rc = k.bad ? -EINVAL
				   : restore_quotas(&k, nd + ng, &st->quota);
			break;
		}
		case REC_NODE:
			rc = restore_node(st, r);
			break;
		case REC_SPLITDRV_DOMAIN: {
			uint32_t domid = get_u32(&k), port = get_u32(&k);
			int target = (int)get_u32(&k);
			uint32_t shut = get_u32(&k);
			const void *gfn = take(&k, 8);
			uint64_t mfn;

			if (k.bad || domid >= DOMID_INVALID_) {
				rc = -EINVAL;
				break;
			}
			memcpy(&mfn, gfn, 8);
			rc = xs_domain_restore(st, domid, mfn, port, target);
			if (!rc && (d = xs_domain_find(st, domid)))
				d->shutdown = shut != 0;
			break;
		}
		case REC_DOMAIN: {
			uint16_t domid = get_u16(&k), n = get_u16(&k);
			uint32_t features = get_u32(&k);

			if (k.bad) {
				rc = -EINVAL;
				break;
			}
			d = xs_domain_settings(st, domid, true);
			if (!d) {
				rc = -errno;
				break;
			}
			d->features = features;
			rc = restore_quotas(&k, n, &d->quota);
			break;
		}
		default:
			break;
		}
		if (rc)
			log_bad_record(rc, i, r);
	}
	return rc;
}

/* Put a pending input stream back: header, payload, then read buffer. */
static int restore_input(struct xs_conn *c, const unsigned char *p, size_t n)
{
	size_t h = n < sizeof(c->hdr) ? n : sizeof(c->hdr);

	if (n == 0)
		return 0;
	memcpy(&c->hdr, p, h);
	c->hdr_got = (uint32_t)h;
	p += h;
	n -= h;
	if (h == sizeof(c->hdr)) {
		size_t m;

		if (c->hdr.len > XENSTORE_PAYLOAD_MAX)
			return -EINVAL;
		m = n < c->hdr.len ? n : c->hdr.len;
		if (xs_conn_alloc_in(c))
			return -ENOMEM;
		memcpy(c->in, p, m);
		c->in_got = (uint32_t)m;
		p += m;
		n -= m;
	}
	if (n > XS_CONN_RBUF)
		return -EINVAL;
	if (n == 0)
		return 0;
	if (xs_conn_alloc_rbuf(c))
		return -ENOMEM;
	memcpy(c->rbuf, p, n);
	c->roff = 0;
	c->rlen = (uint32_t)n;
	return 0;
}

/* Put pending output back as whole messages (the first maybe partial:
 * resp bytes of it remain). */
static int restore_output(struct xs_conn *c, const unsigned char *p, size_t n,
			  size_t resp)
{
	bool first = true;

	while (n) {
		struct xsd_sockmsg h;
		size_t len, have = sizeof(h);
		struct xs_msg *m;

		if (first && resp) {
			/* the head of a partial message is gone; we only need
			 * its tail: keep it as a message written in part */
			len = resp;
			have = 0;
		} else {
			if (n < sizeof(h))
				return -EINVAL;
			memcpy(&h, p, sizeof(h));
			if (h.len > XENSTORE_PAYLOAD_MAX ||
			    n < sizeof(h) + h.len)
				return -EINVAL;
			len = sizeof(h) + h.len;
		}
		if (len > n)
			return -EINVAL;
		m = calloc(1, sizeof(*m) + len);
		if (!m)
			return -ENOMEM;
		memcpy(m->data, p, len);
		m->len = (uint32_t)len;
		m->is_event = have && h.type == XS_WATCH_EVENT;
		TAILQ_INSERT_TAIL(&c->out, m, link);
		c->out_bytes += len;
		if (!m->is_event)
			c->outstanding++;
		p += len;
		n -= len;
		first = false;
	}
	return 0;
}

static struct xs_conn *ring_conn(struct xs_store *st, uint32_t domid,
				 struct xs_conn **claimed, size_t nclaimed)
{
	struct xs_conn *c;
	size_t i;

	TAILQ_FOREACH(c, &st->conns, link) {
		if (c->domid != domid || (c->privileged && domid != 0))
			continue;
		for (i = 0; i < nclaimed; i++)
			if (claimed[i] == c)
				break;
		if (i == nclaimed)
			return c;
	}
	return NULL;
}

static int restore_conn(struct xs_store *st, const struct lu_rec *r,
			const struct xs_lu_adopt *a, struct xs_conn **map,
			uint32_t *ids, size_t *n)
{
	struct cur k = rec_cur(r);
	uint32_t id = get_u32(&k), fd = 0, evtchn = 0;
	uint16_t type = get_u16(&k), fields = get_u16(&k), domid = 0;
	uint16_t in_len, resp;
	uint32_t out_len;
	const unsigned char *in, *out;
	struct xs_conn *c = NULL;

	if (type == CONN_SOCKET) {
		fd = get_u32(&k);
		(void)get_u32(&k);
	} else if (type == CONN_RING) {
		domid = get_u16(&k);
		(void)get_u16(&k);
		evtchn = get_u32(&k);
	} else {
		return -EINVAL;
	}
	in_len = get_u16(&k);
	resp = get_u16(&k);
	out_len = get_u32(&k);
	in = take(&k, in_len);
	out = take(&k, out_len);
	if (k.bad || id == 0 || resp > out_len)
		return -EINVAL;
	if (type == CONN_SOCKET) {
		c = a->adopt_sock ? a->adopt_sock(a->arg, (int)fd,
						  fields & CONN_F_READONLY)
				  : NULL;
		if (!c)
			log_warnx("live update: socket client (fd %u) lost", fd);
	} else {
		c = ring_conn(st, domid, map, *n);
		if (!c)
			log_warnx_dev((int)domid, "xenstore",
				      "live update: ring (event channel %u) "
				      "not attached again: its session is lost",
				      evtchn);
	}
	/*
	 * A ring's unanswered requests are still in its page (req_cons
	 * moves only with their reply, see ring.c) and a request read in
	 * part is in its xenstored.partial slot: ring_attach() takes both
	 * again, so putting back what the old process had read would run
	 * them twice. Its queued output (events, replies the full ring did
	 * not take) is dropped with them: the replies come again when the
	 * requests are run again; queued watch events are lost.
	 */
	if (type == CONN_RING) {
		in_len = 0;
		out_len = 0;
		resp = 0;
	}
	if (c && (restore_input(c, in, in_len) ||
		  restore_output(c, out, out_len, resp))) {
		xs_conn_free(c);
		return -EINVAL;
	}
	map[*n] = c; /* NULL: its watches and transactions are skipped */
	ids[*n] = id;
	(*n)++;
	return 0;
}

static struct xs_conn *conn_by_id(struct xs_conn **map, const uint32_t *ids,
				  size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return map[i];
	return NULL;
}

static int restore_watch(struct xs_store *st, const struct lu_rec *r,
			 struct xs_conn *c, struct cur *k)
{
	uint16_t pl = get_u16(k), tl = get_u16(k), depth = 0xffff;
	const char *wpath, *token;
	char abs[XENSTORE_ABS_PATH_MAX + 2];
	size_t strip = 0;
	int rc;

	if (r->type == REC_WATCH_EXT) {
		depth = get_u16(k);
		(void)get_u16(k);
	}
	wpath = get_str(k, pl);
	token = get_str(k, tl);
	if (!wpath || !token)
		return -EINVAL;
	if (!c)
		return 0;
	if (wpath[0] == '/' || wpath[0] == '@') {
		if ((size_t)snprintf(abs, sizeof(abs), "%s", wpath) >=
		    sizeof(abs))
			return -EINVAL;
	} else {
		int m = snprintf(abs, sizeof(abs), "/local/domain/%u/",
				 c->domid);

		strip = (size_t)m;
		if ((size_t)snprintf(abs + m, sizeof(abs) - (size_t)m, "%s",
				     wpath) >= sizeof(abs) - (size_t)m)
			return -EINVAL;
	}
	rc = xs_watch_add(st, c, abs, token, strip,
			  depth == 0xffff ? -1 : (int)depth);
	return rc == -EEXIST ? 0 : rc;
}

static int restore_txn(struct xs_store *st, struct xs_conn *c, struct cur *k)
{
	uint32_t txid = get_u32(k);
	struct xs_txn *tx;

	if (k->bad || txid == 0)
		return -EINVAL;
	if (!c || xs_conn_find_txn(c, txid))
		return 0;
	tx = xs_txn_new(st, txid);
	if (!tx)
		return -ENOMEM;
	tx->conflict = true; /* its changes were not carried: EAGAIN */
	TAILQ_INSERT_TAIL(&c->txns, tx, link);
	c->ntxns++;
	if (c->next_txid <= txid)
		c->next_txid = txid + 1;
	return 0;
}

/* xs_lu_restore_conns - see lu.h. */
int xs_lu_restore_conns(struct xs_store *st, const struct xs_lu_state *s,
			const struct xs_lu_adopt *a)
{
	struct xs_conn **map = calloc(s->nrecs + 1, sizeof(*map));
	uint32_t *ids = calloc(s->nrecs + 1, sizeof(*ids));
	size_t i, n = 0, ntx = 0;
	int rc = 0;

	if (!map || !ids) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->nrecs && !rc; i++) {
		const struct lu_rec *r = &s->recs[i];
		struct cur k = rec_cur(r);

		switch (r->type) {
		case REC_CONN:
			rc = restore_conn(st, r, a, map, ids, &n);
			break;
		case REC_WATCH:
		case REC_WATCH_EXT: {
			uint32_t id = get_u32(&k);

			rc = restore_watch(st, r, conn_by_id(map, ids, n, id),
					   &k);
			break;
		}
		case REC_TXN: {
			uint32_t id = get_u32(&k);

			rc = restore_txn(st, conn_by_id(map, ids, n, id), &k);
			ntx++;
			break;
		}
		default:
			break;
		}
		if (rc)
			log_bad_record(rc, i, r);
	}
	for (i = 0; i < n; i++)
		if (map[i] && map[i]->ops && map[i]->ops->kick)
			map[i]->ops->kick(map[i]);
	if (!rc)
		log_notice("live update: %zu connections restored (%zu "
			   "transactions failed with EAGAIN)",
			   n, ntx);
out:
	free(map);
	free(ids);
	return rc;
}

/* ---- XS_CONTROL live-update ---- */

/* xs_lu_setup - see lu.h. */
int xs_lu_setup(struct xs_store *st, const struct xs_lu_ops *ops,
		const char *state_path)
{
	struct xs_lu *lu = calloc(1, sizeof(*lu));

	if (!lu || !(lu->state = strdup(state_path))) {
		free(lu);
		return -ENOMEM;
	}
	lu->ops = *ops;
	xs_lu_free(st);
	st->lu = lu;
	return 0;
}

static void lu_reset(struct xs_lu *lu)
{
	free(lu->binary);
	free(lu->cmdline);
	lu->binary = lu->cmdline = NULL;
}

void xs_lu_free(struct xs_store *st)
{
	if (!st->lu)
		return;
	lu_reset(st->lu);
	free(st->lu->state);
	free(st->lu);
	st->lu = NULL;
}

static bool txns_open(struct xs_store *st)
{
	struct xs_conn *c;

	TAILQ_FOREACH(c, &st->conns, link)
		if (c->ntxns)
			return true;
	return false;
}

/* -s: save and exec. Returns only on failure, with the reason in out. */
static int lu_start(struct xs_store *st, struct xs_lu *lu, struct xs_conn *c,
		    bool force, struct xs_buf *out)
{
	struct {
		struct xsd_sockmsg h;
		char ok[3];
	} reply = { .h = { .type = XS_CONTROL,
			   .req_id = c->hdr.req_id,
			   .tx_id = c->hdr.tx_id,
			   .len = 3 },
		    .ok = "OK" };
	int fd, rc;

	if (!lu->binary)
		return xs_buf_addstr(out, "No binary given (-f)");
	if (access(lu->binary, X_OK) < 0)
		return xs_buf_printf(out, "Binary %s: %s", lu->binary,
				     strerror(errno)) ||
		       xs_buf_add(out, "", 1);
	if (txns_open(st) && !force)
		return xs_buf_addstr(out, "BUSY");
	fd = open(lu->state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return xs_buf_printf(out, "Cannot write state %s: %s",
				     lu->state, strerror(errno)) ||
		       xs_buf_add(out, "", 1);
	rc = xs_lu_write(st, fd, &lu->ops, c, &reply,
			 sizeof(reply.h) + sizeof(reply.ok));
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc) {
		unlink(lu->state);
		return xs_buf_printf(out, "Cannot write state %s: %s",
				     lu->state, strerror(-rc)) ||
		       xs_buf_add(out, "", 1);
	}
	/* the journal has every change already (each request's record is
	 * closed before its reply leaves) */
	log_notice("live update: state in %s, executing %s", lu->state,
		   lu->binary);
	rc = lu->ops.exec(lu->ops.arg, lu->binary, lu->cmdline, lu->state);
	/* still here: the old daemon goes on serving */
	unlink(lu->state);
	log_errno(LOG_ERR, rc, "live update: cannot execute %s", lu->binary);
	return xs_buf_printf(out, "Cannot execute %s: %s", lu->binary,
			     strerror(-rc)) ||
	       xs_buf_add(out, "", 1);
}

/* xs_lu_control - see lu.h. */
int xs_lu_control(struct xs_store *st, struct xs_conn *c, char **argv, int argc,
		  struct xs_buf *out)
{
	struct xs_lu *lu = st->lu;
	bool force = false, start = false;
	int i;

	if (argc < 1)
		return -EINVAL;
	if (!lu)
		return xs_buf_addstr(out, "Live update not available here");
	if (strcmp(argv[0], "-a") == 0) {
		lu_reset(lu);
		log_notice("live update aborted");
		return xs_buf_addstr(out, "OK");
	}
	if (strcmp(argv[0], "-f") == 0 || strcmp(argv[0], "-c") == 0) {
		char **slot = argv[0][1] == 'f' ? &lu->binary : &lu->cmdline;

		if (argc != 2 || !*argv[1])
			return -EINVAL;
		free(*slot);
		*slot = strdup(argv[1]);
		return *slot ? xs_buf_addstr(out, "OK") : -ENOMEM;
	}
	if (strcmp(argv[0], "-b") == 0 || strcmp(argv[0], "-d") == 0)
		return xs_buf_addstr(out, "Only a xenstored daemon binary can "
					  "be given (-f): no stubdom kernel");
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0)
			start = true;
		else if (strcmp(argv[i], "-F") == 0)
			force = true;
		else if ((strcmp(argv[i], "-t") == 0 ||
			  strcmp(argv[i], "-v") == 0) &&
			 i + 1 < argc)
			i++; /* timeout: the client's to keep; one version */
		else
			return -EINVAL;
	}
	if (!start)
		return -EINVAL;
	return lu_start(st, lu, c, force, out);
}
