/*
 * watch.h - watches indexed by path; firing walks the written path's
 * prefixes, never the whole watch list (watch.c).
 */
#ifndef XENSTORED_WATCH_H
#define XENSTORED_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "xenstored/perms.h"
#include "xenstored/util.h"

struct xs_store;
struct xs_conn;

struct xs_watch {
	struct xs_conn *conn;
	bool restored; /* from the journal, not re-registered since */
	char *path;    /* absolute (or @special); in strs */
	char *token;   /* in strs */
	size_t strip;  /* prefix length removed from event paths (relative) */
	int depth;     /* levels below path that fire it; -1: any */
	TAILQ_ENTRY(xs_watch) by_path;
	TAILQ_ENTRY(xs_watch) by_conn;
	char strs[]; /* path and token: one allocation per watch */
};
TAILQ_HEAD(xs_watch_list, xs_watch);

/* A ring connection's watch loaded from the journal, waiting for its
 * domain's ring to be attached again (xs_watch_restore). */
struct xs_saved_watch {
	TAILQ_ENTRY(xs_saved_watch) link;
	uint32_t domid;
	size_t strip;
	int depth;
	char *path, *token;
};
TAILQ_HEAD(xs_saved_watch_list, xs_saved_watch);

struct xs_watches {
	struct xs_hash by_path; /* path -> struct xs_wpath */
	size_t count;
	struct xs_saved_watch_list saved;
};

int xs_watches_init(struct xs_watches *w);
void xs_watches_free(struct xs_watches *w);
/*
 * xs_watch_add - register (path, token) for conn; strip is the length of
 * the domain path prefix for a relative watch (0 otherwise); depth limits
 * the levels below path whose changes fire it (-1: any; 0: path only).
 * The caller checks the watch quota. 0, -EEXIST (same path and token),
 * -ENOMEM.
 */
int xs_watch_add(struct xs_store *st, struct xs_conn *c, const char *path,
		 const char *token, size_t strip, int depth);
/* xs_watch_initial - queue the event a new watch fires once (after the
 * WATCH reply). */
void xs_watch_initial(struct xs_store *st, struct xs_conn *c, const char *path,
		      const char *token);
/* xs_watch_del - unregister; 0 or -ENOENT. */
int xs_watch_del(struct xs_store *st, struct xs_conn *c, const char *path,
		 const char *token);
/* xs_watch_del_all - drop every watch of c (RESET_WATCHES, close). */
void xs_watch_del_all(struct xs_store *st, struct xs_conn *c);

/*
 * Watches of ring connections (c->keep_watches) survive a restart: each
 * WATCH, UNWATCH and reset is journalled, and the snapshot holds them.
 * Loading puts them on st->watches.saved (these three calls); attaching
 * the domain's ring hands them to its connection (xs_watch_restore).
 */
int xs_watch_save(struct xs_store *st, uint32_t domid, const char *path,
		  const char *token, size_t strip, int depth);
void xs_watch_unsave(struct xs_store *st, uint32_t domid, const char *path,
		     const char *token);
/* xs_watch_unsave_all - forget domid's saved watches (reset, release). */
void xs_watch_unsave_all(struct xs_store *st, uint32_t domid);
/*
 * xs_watch_restore - register c's domain's saved watches on c, marked
 * restored (a WATCH for one of them, the request replayed after the
 * restart, answers OK once instead of EEXIST), and queue one event for
 * each: events queued when the daemon died were lost, and a spurious
 * event is allowed (the watcher reads again). Returns how many.
 */
unsigned xs_watch_restore(struct xs_store *st, struct xs_conn *c);
/*
 * xs_watch_fire - queue events for a change of path: to watches on path
 * and (unless exact) on each of its ancestors, for connections allowed to
 * read the node (perms p) or, as in C xenstored, its parent (perms pp,
 * NULL if none).
 */
void xs_watch_fire(struct xs_store *st, const char *path,
		   const struct xs_perm *p, unsigned np,
		   const struct xs_perm *pp, unsigned npp, bool exact);
/*
 * xs_watch_fire_special - queue events for the special node name
 * ("@releaseDomain") about domid, for connections allowed to read it
 * (perms p): watches on name without a depth see name; watches on
 * name/<domid>, and watches on name with a depth of 1 or more, see
 * name/<domid>.
 */
void xs_watch_fire_special(struct xs_store *st, const char *name,
			   uint32_t domid, const struct xs_perm *p, unsigned np);

#endif /* XENSTORED_WATCH_H */
