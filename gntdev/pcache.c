/*
 * pcache.c - the persistent-grant cache (see pcache.h).
 *
 * Every entry is in the hash (chained, buckets a power of two). Entries
 * that nobody holds are also on the idle list, least recently used first;
 * held entries are off it. So:
 *   get hit   : hash lookup, unlink from idle if it was idle, held++;
 *   put       : held--, at 0 append to the idle tail (most recent);
 *   eviction  : the idle head, O(1); an empty idle list with a full cache
 *               means every entry is held: EBUSY.
 *
 * Worked example (max 2): get(1) put(1) get(2) put(2) -> idle [1, 2];
 * get(1) -> idle [2], 1 held; get(3) -> cache full, evict idle head 2,
 * map 3 -> entries {1 held, 3 held}; get(4) -> idle empty: EBUSY.
 *
 * Read-only vs writable: a writable entry serves read-only requests too;
 * a read-only entry asked for writing is remapped writable if unheld
 * (the new mapping is made before the old one is dropped, so a failed
 * remap leaves the entry as it was), else EBUSY.
 *
 * A new mapping is always made before anything is evicted: a map error
 * (a bad ref from the guest) costs the cache nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "log.h"
#include "pcache.h"

struct pc_entry {
	grant_ref_t ref;
	int writable;
	uint32_t held;
	void *addr;
	struct pc_entry *hnext;
	TAILQ_ENTRY(pc_entry) idle; /* linked only while held == 0 */
};

TAILQ_HEAD(pc_idle_list, pc_entry);

struct gnt_pcache {
	struct hv_gnttab *h;
	domid_t domid;
	uint32_t max_entries;
	uint32_t nentries;
	uint32_t nheld; /* entries with held > 0 */
	uint32_t hmask;
	unsigned int hshift; /* 32 - log2(buckets) */
	struct pc_entry **buckets;
	struct pc_idle_list idle;
	uint64_t hits, misses, evictions, map_errors;
};

static uint32_t pc_hash(const struct gnt_pcache *pc, grant_ref_t ref)
{
	/* Fibonacci hashing: the top bits of ref * 2^32/phi. */
	return (uint32_t)(ref * 2654435769u) >> pc->hshift;
}

static struct pc_entry *pc_lookup(const struct gnt_pcache *pc, grant_ref_t ref)
{
	struct pc_entry *e;

	for (e = pc->buckets[pc_hash(pc, ref)]; e; e = e->hnext)
		if (e->ref == ref)
			return e;
	return NULL;
}

static void pc_hash_remove(struct gnt_pcache *pc, struct pc_entry *e)
{
	struct pc_entry **pp = &pc->buckets[pc_hash(pc, e->ref)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
}

static void pc_unmap(struct gnt_pcache *pc, grant_ref_t ref, void *addr)
{
	int r = hv_gnttab_unmap(pc->h, addr, 1);

	if (r < 0)
		log_warnx_dev(pc->domid, NULL, "pcache: unmap of ref %u: %s",
			      ref, strerror(-r));
}

/* Unmap e and forget it; e must be unheld (on the idle list) unless the
 * whole cache is being freed. */
static void pc_drop(struct gnt_pcache *pc, struct pc_entry *e)
{
	if (e->held == 0)
		TAILQ_REMOVE(&pc->idle, e, idle);
	else
		pc->nheld--;
	pc_hash_remove(pc, e);
	pc->nentries--;
	pc_unmap(pc, e->ref, e->addr);
	free(e);
}

static void *pc_map(struct gnt_pcache *pc, grant_ref_t ref, int writable)
{
	void *addr = hv_gnttab_map_one(pc->h, pc->domid, ref,
				       HV_GNTMAP_PERSISTENT |
					       (writable ? 0 : HV_GNTMAP_RO));

	if (!addr)
		pc->map_errors++;
	return addr;
}

static void pc_hold(struct gnt_pcache *pc, struct pc_entry *e)
{
	if (e->held++ == 0) {
		TAILQ_REMOVE(&pc->idle, e, idle);
		pc->nheld++;
	}
}

/* gnt_pcache_new - see pcache.h. NULL with errno (EINVAL, ENOMEM). */
struct gnt_pcache *gnt_pcache_new(struct hv_gnttab *h, domid_t domid,
				  uint32_t max_entries)
{
	struct gnt_pcache *pc;
	uint32_t nb = 16;
	unsigned int bits = 4;

	if (!h || max_entries == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < max_entries && nb < (1u << 20)) {
		nb <<= 1;
		bits++;
	}
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return NULL;
	pc->buckets = calloc(nb, sizeof(*pc->buckets));
	if (!pc->buckets) {
		free(pc);
		return NULL;
	}
	pc->h = h;
	pc->domid = domid;
	pc->max_entries = max_entries;
	pc->hmask = nb - 1;
	pc->hshift = 32 - bits;
	TAILQ_INIT(&pc->idle);
	return pc;
}

/* gnt_pcache_free - see pcache.h. NULL is fine. */
void gnt_pcache_free(struct gnt_pcache *pc)
{
	uint32_t i;

	if (!pc)
		return;
	for (i = 0; i <= pc->hmask; i++)
		while (pc->buckets[i])
			pc_drop(pc, pc->buckets[i]);
	free(pc->buckets);
	free(pc);
}

/* A read-only entry asked for writing: remap it writable if unheld. */
static void *pc_upgrade(struct gnt_pcache *pc, struct pc_entry *e)
{
	void *addr;

	if (e->held) {
		errno = EBUSY;
		return NULL;
	}
	addr = pc_map(pc, e->ref, 1);
	if (!addr)
		return NULL;
	pc_unmap(pc, e->ref, e->addr);
	e->addr = addr;
	e->writable = 1;
	pc_hold(pc, e);
	return addr;
}

/* gnt_pcache_get - see pcache.h. */
void *gnt_pcache_get(struct gnt_pcache *pc, grant_ref_t ref, int writable)
{
	struct pc_entry *e, *victim = NULL;
	void *addr;
	uint32_t b;

	e = pc_lookup(pc, ref);
	if (e && (e->writable || !writable)) {
		pc->hits++;
		pc_hold(pc, e);
		return e->addr;
	}
	pc->misses++;
	if (e)
		return pc_upgrade(pc, e);

	if (pc->nentries >= pc->max_entries) {
		victim = TAILQ_FIRST(&pc->idle);
		if (!victim) {
			errno = EBUSY;
			return NULL;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	addr = pc_map(pc, ref, writable);
	if (!addr) {
		int err = errno;

		free(e);
		errno = err;
		return NULL;
	}
	if (victim) {
		pc_drop(pc, victim);
		pc->evictions++;
	}
	e->ref = ref;
	e->writable = !!writable;
	e->addr = addr;
	e->held = 1;
	b = pc_hash(pc, ref);
	e->hnext = pc->buckets[b];
	pc->buckets[b] = e;
	pc->nentries++;
	pc->nheld++;
	return addr;
}

/* gnt_pcache_put - see pcache.h. A put without a get is our own bug: it
 * is logged and ignored. */
void gnt_pcache_put(struct gnt_pcache *pc, grant_ref_t ref)
{
	struct pc_entry *e = pc_lookup(pc, ref);

	if (!e || e->held == 0) {
		log_warnx_dev(pc->domid, NULL,
			      "pcache: put of ref %u that is not held", ref);
		return;
	}
	if (--e->held == 0) {
		pc->nheld--;
		TAILQ_INSERT_TAIL(&pc->idle, e, idle);
	}
}

/* gnt_pcache_flush - see pcache.h. */
void gnt_pcache_flush(struct gnt_pcache *pc)
{
	struct pc_entry *e;

	while ((e = TAILQ_FIRST(&pc->idle)))
		pc_drop(pc, e);
}

/* gnt_pcache_get_stats - a copy of the counters. */
void gnt_pcache_get_stats(const struct gnt_pcache *pc,
			  struct gnt_pcache_stats *st)
{
	st->hits = pc->hits;
	st->misses = pc->misses;
	st->evictions = pc->evictions;
	st->map_errors = pc->map_errors;
	st->entries = pc->nentries;
	st->held = pc->nheld;
	st->max_entries = pc->max_entries;
}
