/*
 * persist.h - snapshot + append-only journal in the run directory (persist.c).
 * It plugs into the store as its journal (struct xs_journal_ops): the
 * core never calls it.
 */
#ifndef XENSTORED_PERSIST_H
#define XENSTORED_PERSIST_H

#include <stdbool.h>
#include <stdint.h>

struct xs_store;
struct xs_persist;

/*
 * xs_persist_open - load <dir>/xenstored.db and replay
 * <dir>/xenstored.journal into st (creating both when absent), then
 * register as st's journal (xs_store_set_journal) and record every change.
 * NULL with errno (EBUSY: another daemon holds
 * <dir>/xenstored.lock).
 */
struct xs_persist *xs_persist_open(struct xs_store *st, const char *dir);
/*
 * xs_persist_adopt - as xs_persist_open for a store loaded already (a
 * live update's new process): nothing is read; st is written as a new
 * snapshot, the journal restarted. NULL with errno.
 */
struct xs_persist *xs_persist_adopt(struct xs_store *st, const char *dir);
/*
 * xs_persist_set_fsync - sync (fdatasync) the journal after each record,
 * before the request's reply leaves: what a run directory on a disk needs
 * for an acknowledged change to survive a host crash (--fsync).
 */
void xs_persist_set_fsync(struct xs_persist *p, bool on);
/* xs_persist_flush - write the changes of the request just handled as one
 * record (before its reply leaves). 0 or -errno. */
int xs_persist_flush(struct xs_persist *p);
/* xs_persist_snapshot - write a snapshot and restart the journal. */
int xs_persist_snapshot(struct xs_persist *p);
/* xs_persist_close - snapshot, unregister from the store and close. */
void xs_persist_close(struct xs_persist *p);
/* xs_persist_abandon - close without a snapshot (what a crash leaves). */
void xs_persist_abandon(struct xs_persist *p);
struct xs_persist_stats {
	uint64_t records, bytes, snapshots, journal_size;
};
void xs_persist_get_stats(const struct xs_persist *p,
			  struct xs_persist_stats *s);

#endif /* XENSTORED_PERSIST_H */
