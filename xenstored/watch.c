/*
 * watch.c - watches.
 *
 * Watches are indexed by their path in a hash table of lists. A change of
 * /a/b/c looks up "/", "/a", "/a/b" and "/a/b/c" (O(depth) lookups), so
 * the cost of a write does not grow with the number of watches; a removed
 * subtree's inner nodes each look up their own path only ("exact"), which
 * is how C xenstored reports them.
 *
 * A watch with a depth (WATCH's optional third argument) fires only for
 * paths at most that many levels below its own: a watch on /a with depth
 * 1 fires for /a and /a/b, not /a/b/c. Special nodes have one level below
 * them, the domid: @releaseDomain/5 is watched on its own, or through
 * @releaseDomain with a depth of 1 or more (see xs_watch_fire_special).
 *
 * An event goes to a watch's connection only if that connection may read
 * the node that changed (for a removal: the node as it was) or its parent,
 * as C xenstored decides. An event identical to one still queued for the
 * same connection is dropped (C xenstored does too); we look at the last
 * few queued messages only, so a slow reader costs O(1) per event.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstored/conn.h"
#include "xenstored/watch.h"
#include "xenstored/xenstored.h"

struct xs_wpath {
	char *path; /* pathbuf: the hash key */
	struct xs_watch_list list;
	char pathbuf[];
};

int xs_watches_init(struct xs_watches *w)
{
	w->count = 0;
	TAILQ_INIT(&w->saved);
	return xs_hash_init(&w->by_path);
}

static void wpath_free(void *val, void *arg)
{
	struct xs_wpath *wp = val;

	(void)arg;
	free(wp);
}

static void saved_free(struct xs_saved_watch *s)
{
	free(s->path);
	free(s->token);
	free(s);
}

void xs_watches_free(struct xs_watches *w)
{
	struct xs_saved_watch *s;

	while ((s = TAILQ_FIRST(&w->saved))) {
		TAILQ_REMOVE(&w->saved, s, link);
		saved_free(s);
	}
	xs_hash_foreach(&w->by_path, wpath_free, NULL);
	xs_hash_free(&w->by_path);
}

static void watch_free(struct xs_store *st, struct xs_watch *w)
{
	struct xs_wpath *wp = xs_hash_get(&st->watches.by_path, w->path);

	if (wp) {
		TAILQ_REMOVE(&wp->list, w, by_path);
		if (TAILQ_EMPTY(&wp->list)) {
			xs_hash_del(&st->watches.by_path, wp->path);
			wpath_free(wp, NULL);
		}
	}
	TAILQ_REMOVE(&w->conn->watches, w, by_conn);
	w->conn->nwatches--;
	st->watches.count--;
	free(w);
}

/* Queue one event for w about path (already permission-checked). */
static void watch_event(struct xs_store *st, struct xs_watch *w,
			const char *path)
{
	struct xs_buf b = { 0 };
	const char *p = path;

	if (w->strip && path[0] == '/' && strlen(path) > w->strip)
		p = path + w->strip;
	if (xs_buf_addstr(&b, p) == 0 && xs_buf_addstr(&b, w->token) == 0 &&
	    b.len <= XENSTORE_PAYLOAD_MAX &&
	    xs_conn_queue(w->conn, XS_WATCH_EVENT, 0, 0, b.p, b.len, true) == 0)
		st->nevents++;
	xs_buf_free(&b);
}

/* xs_watch_add - register a watch (see xs_watch_initial). */
int xs_watch_add(struct xs_store *st, struct xs_conn *c, const char *path,
		 const char *token, size_t strip, int depth)
{
	struct xs_wpath *wp;
	struct xs_watch *w;
	size_t pl, tl;

	TAILQ_FOREACH(w, &c->watches, by_conn)
		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0) {
			if (!w->restored)
				return -EEXIST;
			/* the WATCH replayed after a restart: it was
			 * registered (journalled) before we died */
			w->restored = false;
			TAILQ_REMOVE(&c->watches, w, by_conn);
			TAILQ_INSERT_TAIL(&c->watches, w, by_conn);
			return 0;
		}
	pl = strlen(path) + 1;
	tl = strlen(token) + 1;
	w = calloc(1, sizeof(*w) + pl + tl);
	if (!w)
		return -ENOMEM;
	w->conn = c;
	w->path = memcpy(w->strs, path, pl);
	w->token = memcpy(w->strs + pl, token, tl);
	w->strip = strip;
	w->depth = depth;
	wp = xs_hash_get(&st->watches.by_path, path);
	if (!wp) {
		wp = calloc(1, sizeof(*wp) + pl);
		if (wp) {
			TAILQ_INIT(&wp->list);
			wp->path = memcpy(wp->pathbuf, path, pl);
			if (xs_hash_put(&st->watches.by_path, wp->path, wp)) {
				free(wp);
				wp = NULL;
			}
		}
	}
	if (!wp) {
		free(w);
		return -ENOMEM;
	}
	TAILQ_INSERT_TAIL(&wp->list, w, by_path);
	TAILQ_INSERT_TAIL(&c->watches, w, by_conn);
	c->nwatches++;
	st->watches.count++;
	if (c->keep_watches)
		xs_journal_watch(st, 'W', c->domid, w);
	return 0;
}

/* xs_watch_initial - queue the event every new watch fires once. */
void xs_watch_initial(struct xs_store *st, struct xs_conn *c, const char *path,
		      const char *token)
{
	struct xs_watch *w;

	TAILQ_FOREACH(w, &c->watches, by_conn)
		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0) {
			watch_event(st, w, path);
			return;
		}
}

/* xs_watch_del - unregister; 0 or -ENOENT. */
int xs_watch_del(struct xs_store *st, struct xs_conn *c, const char *path,
		 const char *token)
{
	struct xs_watch *w;

	TAILQ_FOREACH(w, &c->watches, by_conn)
		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0) {
			if (c->keep_watches)
				xs_journal_watch(st, 'U', c->domid, w);
			watch_free(st, w);
			return 0;
		}
	return -ENOENT;
}

/* xs_watch_del_all - drop every watch of c. */
void xs_watch_del_all(struct xs_store *st, struct xs_conn *c)
{
	struct xs_watch *w;

	while ((w = TAILQ_FIRST(&c->watches)))
		watch_free(st, w);
}

static struct xs_saved_watch *saved_find(struct xs_store *st, uint32_t domid,
					 const char *path, const char *token)
{
	struct xs_saved_watch *s;

	TAILQ_FOREACH(s, &st->watches.saved, link)
		if (s->domid == domid && strcmp(s->path, path) == 0 &&
		    strcmp(s->token, token) == 0)
			return s;
	return NULL;
}

/* xs_watch_save - a watch of domid's ring, loaded from the journal. */
int xs_watch_save(struct xs_store *st, uint32_t domid, const char *path,
		  const char *token, size_t strip, int depth)
{
	struct xs_saved_watch *s = saved_find(st, domid, path, token);

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->path = strdup(path);
		s->token = strdup(token);
		if (!s->path || !s->token) {
			saved_free(s);
			return -ENOMEM;
		}
		s->domid = domid;
		TAILQ_INSERT_TAIL(&st->watches.saved, s, link);
	}
	s->strip = strip;
	s->depth = depth;
	return 0;
}

/* xs_watch_unsave - an UNWATCH loaded from the journal. */
void xs_watch_unsave(struct xs_store *st, uint32_t domid, const char *path,
		     const char *token)
{
	struct xs_saved_watch *s = saved_find(st, domid, path, token);

	if (s) {
		TAILQ_REMOVE(&st->watches.saved, s, link);
		saved_free(s);
	}
}

/* xs_watch_unsave_all - forget every saved watch of domid. */
void xs_watch_unsave_all(struct xs_store *st, uint32_t domid)
{
	struct xs_saved_watch *s, *next;

	for (s = TAILQ_FIRST(&st->watches.saved); s; s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->domid == domid) {
			TAILQ_REMOVE(&st->watches.saved, s, link);
			saved_free(s);
		}
	}
}

/* xs_watch_restore - hand the saved watches of c's domain to c. */
unsigned xs_watch_restore(struct xs_store *st, struct xs_conn *c)
{
	struct xs_saved_watch *s, *next;
	struct xs_watch *w;
	unsigned n = 0;

	for (s = TAILQ_FIRST(&st->watches.saved); s; s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->domid != c->domid)
			continue;
		/* already journalled: not again */
		c->keep_watches = false;
		if (xs_watch_add(st, c, s->path, s->token, s->strip,
				 s->depth) == 0) {
			w = TAILQ_LAST(&c->watches, xs_watch_list);
			w->restored = true;
			watch_event(st, w, w->path);
			n++;
		}
		c->keep_watches = true;
		TAILQ_REMOVE(&st->watches.saved, s, link);
		saved_free(s);
	}
	return n;
}

struct fire {
	const char *path;
	const struct xs_perm *p, *pp;
	unsigned np, npp;
	bool special; /* a special node's event (see xs_watch_fire_special) */
	bool nodepth; /* ... on the node itself: watches without a depth */
};

/* How many levels path is below key (a prefix of it, or equal). */
static int levels_below(const char *key, const char *path)
{
	size_t klen = strlen(key);
	int n = 1;

	if (strcmp(key, path) == 0)
		return 0;
	for (path += klen + (klen > 1 || key[0] != '/'); *path; path++)
		if (*path == '/')
			n++;
	return n;
}

static bool depth_matches(const struct fire *f, const char *key,
			  const struct xs_watch *w)
{
	int n = levels_below(key, f->path);

	if (f->special)
		return n == 0 ? !f->nodepth || w->depth < 0 : w->depth >= n;
	return w->depth < 0 || n <= w->depth;
}

static bool may_see(const struct fire *f, const struct xs_conn *c)
{
	if (xs_perms_for(f->p, f->np, c->domid, c->privileged, c->target) &
	    XS_P_READ)
		return true;
	return f->pp &&
	       (xs_perms_for(f->pp, f->npp, c->domid, c->privileged, c->target) &
		XS_P_READ);
}

static void fire_list(struct xs_store *st, const char *key, const struct fire *f)
{
	struct xs_wpath *wp = xs_hash_get(&st->watches.by_path, key);
	struct xs_watch *w;

	if (!wp)
		return;
	TAILQ_FOREACH(w, &wp->list, by_path)
		if (depth_matches(f, key, w) && may_see(f, w->conn))
			watch_event(st, w, f->path);
}

/* xs_watch_fire - queue events for a change of path. */
void xs_watch_fire(struct xs_store *st, const char *path,
		   const struct xs_perm *p, unsigned np,
		   const struct xs_perm *pp, unsigned npp, bool exact)
{
	const struct fire f = { path, p, pp, np, npp, false, false };
	char buf[XENSTORE_ABS_PATH_MAX + 2];
	size_t len = strlen(path), i;

	if (st->watches.count == 0)
		return;
	if (exact || path[0] != '/' || len >= sizeof(buf)) {
		fire_list(st, path, &f);
		return;
	}
	fire_list(st, "/", &f);
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++)
		if (buf[i] == '/' || buf[i] == '\0') {
			char save = buf[i];

			buf[i] = '\0';
			fire_list(st, buf, &f);
			buf[i] = save;
		}
}

/* xs_watch_fire_special - queue events for the special node name. */
void xs_watch_fire_special(struct xs_store *st, const char *name,
			   uint32_t domid, const struct xs_perm *p, unsigned np)
{
	char dom[XENSTORE_REL_PATH_MAX + 1];
	struct fire f = { name, p, NULL, np, 0, true, true };

	if (st->watches.count == 0)
		return;
	fire_list(st, name, &f);
	snprintf(dom, sizeof(dom), "%s/%u", name, domid);
	f.path = dom;
	f.nodepth = false;
	fire_list(st, dom, &f);
	fire_list(st, name, &f);
}
