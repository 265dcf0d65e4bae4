/*
 * persist.c - nothing acknowledged is lost: a snapshot plus an append-only
 * journal in the run directory.
 *
 *   <dir>/xenstored.db       snapshot: header, then one record per node,
 *                            domain and special-node permission list,
 *                            then an end record; written to a temporary
 *                            file and renamed into place
 *   <dir>/xenstored.lock     flock'ed while a daemon owns the directory
 *   <dir>/xenstored.journal  header, then one record per request that
 *                            changed anything, appended with one write(2)
 *                            before the request's reply is queued
 *
 * Record: u32 length, u32 CRC-32 of the payload, payload. A payload is a
 * sequence of items: N (node: path, value, permissions: the node's whole
 * state), R (remove path and its subtree), D (domain: domid, gfn, port,
 * target), X (domain released, its watches and settings too), F (a
 * domain's XS_SET_FEATURE / XS_SET_QUOTA settings, introduced or not:
 * domid, features, its own quotas by name), S (special node's
 * permissions), W (a ring connection's watch: domid, path, token, strip,
 * depth), U (that watch removed), V (all of a domid's watches removed),
 * E (end of snapshot). A transaction's commit is one record, so it is replayed
 * whole or not at all; a torn last record (crash in the middle of a
 * write) fails its CRC and is cut off.
 *
 * Both files carry an epoch. A snapshot is written with epoch e+1 and
 * renamed over the old one, and only then the journal is restarted with
 * epoch e+1; on load a journal whose epoch differs from the snapshot's is
 * already contained in it and is ignored. So a crash at any point leaves
 * a loadable state.
 *
 * The data is in the kernel once write(2) returns, so it survives the
 * daemon being killed (kill -9). On tmpfs (the run dir) it does not
 * survive a host reboot, and is not meant to: that is a new boot of dom0.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "xenstored/conn.h"
#include "xenstored/domain.h"
#include "xenstored/persist.h"
#include "xenstored/xenstored.h"

#define DB_MAGIC            "XSDSNAP1"
#define JL_MAGIC            "XSDJRNL1"
#define HDR_SIZE            16 /* magic[8] + u64 epoch */
#define REC_MAX             (64u << 20)
#define JOURNAL_MIN_COMPACT (1u << 20)

struct xs_persist {
	struct xs_store *st;
	char db[PATH_MAX], jl[PATH_MAX], tmp[PATH_MAX];
	int jfd;
	int lockfd; /* flock'ed: one daemon per state directory */
	uint64_t epoch;
	struct xs_buf pending;
	uint64_t journal_size, snapshot_size;
	bool loading;
	bool fsync;     /* fdatasync each record before acknowledging */
	size_t backlog; /* bytes of pending whose write failed (kept) */
	struct xs_persist_stats stats;
};

/* ---- CRC-32 (IEEE) ----------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	if (crc_table[1])
		return;
	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32_buf(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = 0xffffffffu;

	while (len--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* ---- encoding ---------------------------------------------------------- */

static int put_u8(struct xs_buf *b, uint8_t v)
{
	return xs_buf_add(b, &v, 1);
}

static int put_u32(struct xs_buf *b, uint32_t v)
{
	return xs_buf_add(b, &v, 4);
}

static int put_u64(struct xs_buf *b, uint64_t v)
{
	return xs_buf_add(b, &v, 8);
}

static int put_bytes(struct xs_buf *b, const void *p, uint32_t len)
{
	return put_u32(b, len) || xs_buf_add(b, p, len) ? -ENOMEM : 0;
}

static int put_perms(struct xs_buf *b, const struct xs_perm *p, uint32_t n)
{
	uint32_t i;

	if (put_u32(b, n))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (put_u32(b, p[i].domid) || put_u8(b, p[i].perm))
			return -ENOMEM;
	return 0;
}

static int enc_node(struct xs_buf *b, const struct xs_node *n)
{
	if (put_u8(b, 'N') || put_bytes(b, n->path, (uint32_t)strlen(n->path)) ||
	    put_bytes(b, n->value, n->vlen) || put_perms(b, n->perms, n->nperms))
		return -ENOMEM;
	return 0;
}

static int enc_domain(struct xs_buf *b, const struct xs_domain *d)
{
	if (put_u8(b, 'D') || put_u32(b, d->domid) || put_u64(b, d->mfn) ||
	    put_u32(b, d->port) || put_u32(b, (uint32_t)d->target))
		return -ENOMEM;
	return 0;
}

/* F: domid, features, then its own quotas (those set) by name */
static int enc_settings(struct xs_buf *b, const struct xs_domain *d)
{
	uint32_t n = 0;
	int id;

	for (id = 0; id < XS_Q_COUNT; id++)
		n += d->quota.val[id] != 0;
	if (put_u8(b, 'F') || put_u32(b, d->domid) || put_u32(b, d->features) ||
	    put_u32(b, n))
		return -ENOMEM;
	for (id = 0; id < XS_Q_COUNT; id++) {
		const char *name = xs_quota_name(id);

		if (d->quota.val[id] &&
		    (put_bytes(b, name, (uint32_t)strlen(name)) ||
		     put_u32(b, d->quota.val[id])))
			return -ENOMEM;
	}
	return 0;
}

static int enc_special(struct xs_buf *b, const struct xs_special *sp)
{
	if (put_u8(b, 'S') ||
	    put_bytes(b, sp->name, (uint32_t)strlen(sp->name)) ||
	    put_perms(b, sp->perms, sp->nperms))
		return -ENOMEM;
	return 0;
}

/* W: domid, path, token, strip, depth; U: domid, path, token; V: domid */
static int enc_watch(struct xs_buf *b, char kind, uint32_t domid,
		     const char *path, const char *token, size_t strip,
		     int depth)
{
	if (put_u8(b, (uint8_t)kind) || put_u32(b, domid))
		return -ENOMEM;
	if (kind == 'V')
		return 0;
	if (put_bytes(b, path, (uint32_t)strlen(path)) ||
	    put_bytes(b, token, (uint32_t)strlen(token)))
		return -ENOMEM;
	if (kind == 'W' &&
	    (put_u32(b, (uint32_t)strip) || put_u32(b, (uint32_t)depth)))
		return -ENOMEM;
	return 0;
}

/* Every watch that survives a restart: those of ring connections, and
 * those loaded for a ring not attached again (yet). */
static int enc_watches(struct xs_buf *b, struct xs_store *st)
{
	struct xs_saved_watch *s;
	struct xs_conn *c;
	struct xs_watch *w;

	TAILQ_FOREACH(c, &st->conns, link) {
		if (!c->keep_watches)
			continue;
		TAILQ_FOREACH(w, &c->watches, by_conn)
			if (enc_watch(b, 'W', c->domid, w->path, w->token,
				      w->strip, w->depth))
				return -ENOMEM;
	}
	TAILQ_FOREACH(s, &st->watches.saved, link)
		if (enc_watch(b, 'W', s->domid, s->path, s->token, s->strip,
			      s->depth))
			return -ENOMEM;
	return 0;
}

static void pending_failed(struct xs_persist *p)
{
	log_errx("persist: out of memory buffering a journal record");
}

/* The journal hooks (struct xs_journal_ops): buffer the item, written
 * as one record by persist_flush(). */
static void persist_node(void *arg, const struct xs_node *n)
{
	struct xs_persist *p = arg;

	if (!p->loading && enc_node(&p->pending, n))
		pending_failed(p);
}

static void persist_rm(void *arg, const char *path)
{
	struct xs_persist *p = arg;

	if (!p->loading &&
	    (put_u8(&p->pending, 'R') ||
	     put_bytes(&p->pending, path, (uint32_t)strlen(path))))
		pending_failed(p);
}

static void persist_domain(void *arg, const struct xs_domain *d)
{
	struct xs_persist *p = arg;

	if (!p->loading && enc_domain(&p->pending, d))
		pending_failed(p);
}

static void persist_domain_rm(void *arg, uint32_t domid)
{
	struct xs_persist *p = arg;

	if (!p->loading &&
	    (put_u8(&p->pending, 'X') || put_u32(&p->pending, domid)))
		pending_failed(p);
}

static void persist_special(void *arg, const struct xs_special *sp)
{
	struct xs_persist *p = arg;

	if (!p->loading && enc_special(&p->pending, sp))
		pending_failed(p);
}

static void persist_settings(void *arg, const struct xs_domain *d)
{
	struct xs_persist *p = arg;

	if (!p->loading && enc_settings(&p->pending, d))
		pending_failed(p);
}

static void persist_watch(void *arg, char kind, uint32_t domid,
			  const struct xs_watch *w)
{
	struct xs_persist *p = arg;

	if (!p->loading &&
	    enc_watch(&p->pending, kind, domid, w ? w->path : NULL,
		      w ? w->token : NULL, w ? w->strip : 0, w ? w->depth : 0))
		pending_failed(p);
}

static int persist_flush(void *arg)
{
	return xs_persist_flush(arg);
}

static const struct xs_journal_ops persist_journal = {
	.node = persist_node,
	.rm = persist_rm,
	.domain = persist_domain,
	.domain_rm = persist_domain_rm,
	.special = persist_special,
	.settings = persist_settings,
	.watch = persist_watch,
	.flush = persist_flush,
};

/* Unplug p from its store, if it is the store's journal. */
static void persist_unplug(struct xs_persist *p)
{
	if (p->st->journal_arg == p)
		xs_store_set_journal(p->st, NULL, NULL);
}

/* ---- decoding and replay ----------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
	bool bad;
};

static const void *take(struct rd *r, size_t n)
{
	const void *v = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	return v;
}

static uint32_t get_u32(struct rd *r)
{
	uint32_t v = 0;
	const void *s = take(r, 4);

	if (s)
		memcpy(&v, s, 4);
	return v;
}

static uint64_t get_u64(struct rd *r)
{
	uint64_t v = 0;
	const void *s = take(r, 8);

	if (s)
		memcpy(&v, s, 8);
	return v;
}

/* A length-prefixed string copied into out (NUL-terminated). */
static int get_str(struct rd *r, char *out, size_t outlen)
{
	uint32_t len = get_u32(r);
	const void *s;

	if (r->bad || len >= outlen) {
		r->bad = true;
		return -EINVAL;
	}
	s = take(r, len);
	if (!s)
		return -EINVAL;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static struct xs_perm *get_perms(struct rd *r, uint32_t *n)
{
	struct xs_perm *p;
	uint32_t i;

	*n = get_u32(r);
	if (r->bad || *n == 0 || *n > 65536) {
		r->bad = true;
		return NULL;
	}
	p = calloc(*n, sizeof(*p));
	if (!p) {
		r->bad = true;
		return NULL;
	}
	for (i = 0; i < *n; i++) {
		const uint8_t *perm;

		p[i].domid = get_u32(r);
		perm = take(r, 1);
		p[i].perm = perm ? (*perm & (XS_P_READ | XS_P_WRITE)) : 0;
	}
	if (r->bad) {
		free(p);
		return NULL;
	}
	return p;
}

static int replay_node(struct xs_store *st, struct rd *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 2];
	struct xs_node *n;
	struct xs_perm *perms;
	const void *value;
	uint32_t vlen, np;
	int rc = 0;

	if (get_str(r, path, sizeof(path)))
		return -EINVAL;
	vlen = get_u32(r);
	value = take(r, vlen);
	perms = get_perms(r, &np);
	if (r->bad || path[0] != '/')
		return -EINVAL;
	n = xs_tree_get(&st->tree, path);
	if (n) {
		rc = xs_tree_set_value(&st->tree, n, value, vlen);
		if (rc == 0)
			rc = xs_tree_set_perms(&st->tree, n, perms, np);
	} else if (!xs_tree_create(&st->tree, path, value, vlen, perms, np)) {
		rc = -errno;
	}
	free(perms);
	return rc;
}

/* F: the whole settings of a domain, introduced or not (yet); quota
 * names this binary does not know are skipped */
static int replay_settings(struct xs_store *st, struct rd *r)
{
	uint32_t domid = get_u32(r), features = get_u32(r), n = get_u32(r), i;
	struct xs_quota q = { { 0 } };
	struct xs_domain *d;

	for (i = 0; i < n && !r->bad; i++) {
		char name[64];
		uint32_t v;
		int id;

		if (get_str(r, name, sizeof(name)))
			return -EINVAL;
		v = get_u32(r);
		id = xs_quota_id(name);
		if (id >= 0)
			q.val[id] = v;
	}
	if (r->bad)
		return -EINVAL;
	d = xs_domain_settings(st, domid, true);
	if (!d)
		return -ENOMEM;
	d->features = features;
	d->quota = q;
	return 0;
}

static int replay_watch(struct xs_store *st, struct rd *r, char kind)
{
	char path[XENSTORE_ABS_PATH_MAX + 2], token[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t domid = get_u32(r), strip, depth;

	if (kind == 'V') {
		if (!r->bad)
			xs_watch_unsave_all(st, domid);
		return 0;
	}
	if (get_str(r, path, sizeof(path)) || get_str(r, token, sizeof(token)))
		return -EINVAL;
	if (kind == 'U') {
		xs_watch_unsave(st, domid, path, token);
		return 0;
	}
	strip = get_u32(r);
	depth = get_u32(r);
	if (r->bad || strip >= strlen(path))
		return -EINVAL;
	return xs_watch_save(st, domid, path, token, strip, (int)depth);
}

/* Apply one record's items; sets *end on an E item. */
static int replay(struct xs_store *st, const unsigned char *data, size_t len,
		  bool *end)
{
	struct rd r = { data, data + len, false };
	char path[XENSTORE_ABS_PATH_MAX + 2];
	int rc = 0;

	while (rc == 0 && r.p < r.end && !r.bad) {
		const uint8_t *kind = take(&r, 1);

		switch (kind ? *kind : 0) {
		case 'N':
			rc = replay_node(st, &r);
			break;
		case 'R':
			if (get_str(&r, path, sizeof(path)) == 0) {
				struct xs_node *n = xs_tree_get(&st->tree, path);

				if (n && n->parent)
					xs_tree_rm(&st->tree, n);
			}
			break;
		case 'D': {
			uint32_t domid = get_u32(&r);
			uint64_t mfn = get_u64(&r);
			uint32_t port = get_u32(&r);
			int32_t target = (int32_t)get_u32(&r);

			if (!r.bad)
				rc = xs_domain_restore(st, domid, mfn, port,
						       target);
			break;
		}
		case 'X': {
			uint32_t domid = get_u32(&r);

			if (!r.bad) {
				xs_domain_forget(st, domid);
				xs_watch_unsave_all(st, domid);
			}
			break;
		}
		case 'F':
			rc = replay_settings(st, &r);
			break;
		case 'W':
		case 'U':
		case 'V':
			rc = replay_watch(st, &r, (char)*kind);
			break;
		case 'S': {
			struct xs_special *sp;
			struct xs_perm *p;
			uint32_t np;

			if (get_str(&r, path, sizeof(path)))
				break;
			p = get_perms(&r, &np);
			sp = xs_store_special(st, path);
			if (p && sp &&
			    np <= sizeof(sp->perms) / sizeof(sp->perms[0])) {
				memcpy(sp->perms, p, np * sizeof(*p));
				sp->nperms = np;
			}
			free(p);
			break;
		}
		case 'E':
			*end = true;
			break;
		default:
			r.bad = true;
		}
	}
	return r.bad ? -EINVAL : rc;
}

/*
 * Load a file of records after its header. Returns the offset after the
 * last good record (the journal is cut there) or -errno; *epoch gets the
 * header's epoch.
 */
static off_t load_file(struct xs_store *st, const char *path, const char *magic,
		       uint64_t *epoch, bool *end, uint64_t want_epoch,
		       bool check_epoch)
{
	unsigned char *data = NULL;
	struct stat sb;
	size_t off;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || sb.st_size < HDR_SIZE) {
		close(fd);
		return -EINVAL;
	}
	data = malloc((size_t)sb.st_size);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	n = pread(fd, data, (size_t)sb.st_size, 0);
	close(fd);
	if (n != sb.st_size || memcmp(data, magic, 8) != 0) {
		free(data);
		return -EINVAL;
	}
	memcpy(epoch, data + 8, 8);
	if (check_epoch && *epoch != want_epoch) {
		free(data);
		return -ESTALE;
	}
	off = HDR_SIZE;
	while (off + 8 <= (size_t)n) {
		uint32_t len, crc;

		memcpy(&len, data + off, 4);
		memcpy(&crc, data + off + 4, 4);
		if (len > REC_MAX || off + 8 + len > (size_t)n ||
		    crc32_buf(data + off + 8, len) != crc)
			break;
		rc = replay(st, data + off + 8, len, end);
		if (rc) {
			log_errno(LOG_WARNING, rc,
				  "persist: %s: bad record at offset %zu", path,
				  off);
			break;
		}
		off += 8 + len;
	}
	free(data);
	return (off_t)off;
}

/* ---- writing ----------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_record(int fd, const void *payload, size_t len)
{
	struct xs_buf b = { 0 };
	uint32_t l = (uint32_t)len, crc = crc32_buf(payload, len);
	int rc;

	/* one write(2): a record is either all in the file or torn at the end */
	if (xs_buf_add(&b, &l, 4) || xs_buf_add(&b, &crc, 4) ||
	    xs_buf_add(&b, payload, len)) {
		xs_buf_free(&b);
		return -ENOMEM;
	}
	rc = write_all(fd, b.p, b.len);
	xs_buf_free(&b);
	return rc;
}

static int write_header(int fd, const char *magic, uint64_t epoch)
{
	char hdr[HDR_SIZE];

	memcpy(hdr, magic, 8);
	memcpy(hdr + 8, &epoch, 8);
	return write_all(fd, hdr, sizeof(hdr));
}

struct snap_ctx {
	int fd;
	struct xs_buf b;
	int rc;
	uint64_t size;
};

static int snap_flush(struct snap_ctx *s)
{
	if (s->rc == 0 && s->b.len) {
		s->rc = write_record(s->fd, s->b.p, s->b.len);
		s->size += s->b.len + 8;
	}
	s->b.len = 0;
	return s->rc;
}

static int snap_node(const struct xs_node *n, void *arg)
{
	struct snap_ctx *s = arg;

	if (enc_node(&s->b, n))
		s->rc = -ENOMEM;
	if (s->b.len >= 65536)
		snap_flush(s);
	return s->rc;
}

/* fsync the directory that holds path; 0 or -errno. */
static int sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* xs_persist_snapshot - write a snapshot and restart the journal. */
int xs_persist_snapshot(struct xs_persist *p)
{
	struct xs_store *st = p->st;
	struct snap_ctx s = { -1, { 0 }, 0, 0 };
	struct xs_domain *d;
	size_t i;
	int jfd, rc;

	if (p->jfd >= 0)
		xs_persist_flush(p);
	s.fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0)
		return -errno;
	s.rc = write_header(s.fd, DB_MAGIC, p->epoch + 1);
	if (s.rc == 0)
		xs_tree_walk(st->tree.root, snap_node, &s);
	TAILQ_FOREACH(d, &st->domains, link)
		if (enc_domain(&s.b, d) || enc_settings(&s.b, d))
			s.rc = -ENOMEM;
	TAILQ_FOREACH(d, &st->pending, link)
		if (enc_settings(&s.b, d))
			s.rc = -ENOMEM;
	for (i = 0; i < sizeof(st->special) / sizeof(st->special[0]); i++)
		if (enc_special(&s.b, &st->special[i]))
			s.rc = -ENOMEM;
	if (enc_watches(&s.b, st))
		s.rc = -ENOMEM;
	if (put_u8(&s.b, 'E'))
		s.rc = -ENOMEM;
	snap_flush(&s);
	if (s.rc == 0 && fdatasync(s.fd) < 0)
		s.rc = -errno;
	if (close(s.fd) < 0 && s.rc == 0)
		s.rc = -errno;
	xs_buf_free(&s.b);
	if (s.rc == 0 && rename(p->tmp, p->db) < 0)
		s.rc = -errno;
	if (s.rc) {
		unlink(p->tmp);
		log_errno(LOG_ERR, s.rc, "persist: cannot write snapshot %s",
			  p->db);
		return s.rc;
	}
	/*
	 * With --fsync the rename too must survive a power cut: it is in
	 * the directory, synced apart. The new snapshot is in place either
	 * way (a failure here is not the snapshot's: the journal must move
	 * to its epoch all the same, or the next load ignores the journal).
	 */
	if (p->fsync && (rc = sync_dir(p->db)) < 0)
		log_errno(LOG_WARNING, rc,
			  "persist: cannot sync the directory "
			  "of %s",
			  p->db);
	/* the snapshot holds everything: restart the journal at its epoch */
	p->epoch++;
	jfd = open(p->jl, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		   0600);
	if (jfd < 0 || write_header(jfd, JL_MAGIC, p->epoch)) {
		log_err("persist: cannot restart journal %s", p->jl);
		if (jfd >= 0)
			close(jfd);
		/* the old journal's epoch is stale now: a record appended
		 * there would be ignored on load, so append nowhere (the
		 * next change retries the snapshot, see flush) */
		if (p->jfd >= 0)
			close(p->jfd);
		p->jfd = -1;
		return -EIO;
	}
	if (p->jfd >= 0)
		close(p->jfd);
	p->jfd = jfd;
	p->journal_size = HDR_SIZE;
	p->snapshot_size = s.size;
	p->pending.len = 0; /* in the snapshot, a failed backlog too */
	p->backlog = 0;
	p->stats.snapshots++;
	return 0;
}

/* xs_persist_set_fsync - sync each record before acknowledging. */
void xs_persist_set_fsync(struct xs_persist *p, bool on)
{
	p->fsync = on;
}

/*
 * xs_persist_flush - write the pending items as one journal record.
 *
 * A write (or, with fsync on, a sync) that fails leaves the journal as
 * it was (a partial record is cut off: appended records after a torn one
 * would never be replayed) and keeps the items: they are the backlog,
 * written first in the next record that can be, so the journal never
 * skips a change that memory holds. The request whose items failed gets
 * the error and is not acknowledged; one that changed nothing is not
 * failed by an older backlog (and does not retry it). A snapshot clears
 * the backlog: it holds everything.
 */
int xs_persist_flush(struct xs_persist *p)
{
	bool fresh = p->pending.len > p->backlog;
	int rc;

	if (!fresh)
		return 0;
	/* no journal (its restart failed): a snapshot holds this change */
	if (p->jfd < 0)
		return xs_persist_snapshot(p) ? -EIO : 0;
	rc = write_record(p->jfd, p->pending.p, p->pending.len);
	if (rc == 0 && p->fsync && fdatasync(p->jfd) < 0)
		rc = -errno;
	if (rc) {
		if (ftruncate(p->jfd, (off_t)p->journal_size) < 0)
			log_err("persist: cannot cut a failed record off %s",
				p->jl);
		if (p->backlog == 0)
			log_errno(LOG_ERR, rc,
				  "persist: journal write failed: changes are "
				  "refused (EIO) until it can be written");
		p->backlog = p->pending.len;
		return -EIO;
	}
	if (p->backlog)
		log_notice("persist: journal written again (%zu bytes of "
			   "backlog)",
			   p->backlog);
	p->backlog = 0;
	p->journal_size += p->pending.len + 8;
	p->stats.records++;
	p->stats.bytes += p->pending.len + 8;
	p->pending.len = 0;
	if (p->journal_size > JOURNAL_MIN_COMPACT &&
	    p->journal_size > 2 * p->snapshot_size)
		xs_persist_snapshot(p);
	return 0;
}

/* The epoch in path's header (0 if unreadable): what a new one follows. */
static uint64_t header_epoch(const char *path)
{
	char hdr[HDR_SIZE];
	uint64_t epoch = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr))
			memcpy(&epoch, hdr + 8, 8);
		close(fd);
	}
	return epoch;
}

static struct xs_persist *persist_open(struct xs_store *st, const char *dir,
				       bool load);

/* xs_persist_open - load the state in dir and keep journalling. */
struct xs_persist *xs_persist_open(struct xs_store *st, const char *dir)
{
	return persist_open(st, dir, true);
}

/* xs_persist_adopt - see persist.h. */
struct xs_persist *xs_persist_adopt(struct xs_store *st, const char *dir)
{
	return persist_open(st, dir, false);
}

static struct xs_persist *persist_open(struct xs_store *st, const char *dir,
				       bool load)
{
	struct xs_persist *p = calloc(1, sizeof(*p));
	uint64_t epoch = 0, jepoch = 0;
	bool end = false, jend = false;
	off_t off;
	int saved;

	if (!p)
		return NULL;
	crc_init();
	p->st = st;
	p->jfd = -1;
	if ((size_t)snprintf(p->db, sizeof(p->db), "%s/xenstored.db", dir) >=
		    sizeof(p->db) ||
	    (size_t)snprintf(p->jl, sizeof(p->jl), "%s/xenstored.journal",
			     dir) >= sizeof(p->jl) ||
	    (size_t)snprintf(p->tmp, sizeof(p->tmp), "%s/xenstored.db.tmp",
			     dir) >= sizeof(p->tmp)) {
		free(p);
		errno = ENAMETOOLONG;
		return NULL;
	}
	{
		char lock[PATH_MAX];

		snprintf(lock, sizeof(lock), "%s/xenstored.lock", dir);
		p->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (p->lockfd < 0 || flock(p->lockfd, LOCK_EX | LOCK_NB) < 0) {
			saved = errno == EWOULDBLOCK ? EBUSY : errno;
			if (p->lockfd >= 0)
				close(p->lockfd);
			free(p);
			errno = saved;
			return NULL;
		}
	}
	if (!load) {
		/* the store came in full (a live update): its snapshot
		 * follows the epoch of the files it replaces */
		xs_store_set_journal(st, &persist_journal, p);
		p->epoch = header_epoch(p->db);
		jepoch = header_epoch(p->jl);
		if (jepoch > p->epoch)
			p->epoch = jepoch;
		goto snapshot;
	}
	p->loading = true;
	xs_store_set_journal(st, &persist_journal, p);
	off = load_file(st, p->db, DB_MAGIC, &epoch, &end, 0, false);
	if (off >= 0 && !end)
		log_warnx("persist: %s has no end record: loaded what it had",
			  p->db);
	else if (off < 0 && off != -ENOENT)
		log_errno(LOG_WARNING, (int)off,
			  "persist: cannot load %s, starting empty", p->db);
	if (off < 0)
		epoch = 0;
	p->epoch = epoch;
	off = load_file(st, p->jl, JL_MAGIC, &jepoch, &jend, epoch, true);
	if (off >= 0)
		log_info("persist: loaded %s (epoch %llu) and its journal "
			 "(%lld bytes)",
			 p->db, (unsigned long long)epoch, (long long)off);
	p->loading = false;
snapshot:
	/* start a fresh epoch: a snapshot of what we loaded, empty journal */
	if (xs_persist_snapshot(p)) {
		saved = errno;
		persist_unplug(p);
		close(p->lockfd);
		free(p);
		errno = saved ? saved : EIO;
		return NULL;
	}
	return p;
}

/* xs_persist_close - snapshot, unplug and close. */
void xs_persist_close(struct xs_persist *p)
{
	if (!p)
		return;
	xs_persist_snapshot(p);
	if (p->jfd >= 0)
		close(p->jfd);
	close(p->lockfd);
	xs_buf_free(&p->pending);
	persist_unplug(p);
	free(p);
}

/* xs_persist_abandon - close without a snapshot: what a crash leaves
 * (tests, and a daemon giving up on a broken run directory). */
void xs_persist_abandon(struct xs_persist *p)
{
	if (!p)
		return;
	if (p->jfd >= 0)
		close(p->jfd);
	close(p->lockfd);
	xs_buf_free(&p->pending);
	persist_unplug(p);
	free(p);
}

void xs_persist_get_stats(const struct xs_persist *p, struct xs_persist_stats *s)
{
	*s = p->stats;
	s->journal_size = p->journal_size;
}
