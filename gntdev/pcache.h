/*
 * pcache.h - the persistent-grant cache of the mapping client.
 *
 * One cache per (backend device, frontend domain): grant ref -> a
 * long-lived mapping (HV_GNTMAP_PERSISTENT). Bounded: when full, the least
 * recently used entry that nobody holds is unmapped to make room; when
 * every entry is held, gnt_pcache_get() fails with EBUSY and the caller
 * falls back to an ordinary map. Lookups are O(1) (hash) and LRU moves are
 * O(1) (list).
 *
 * Writable and read-only are distinct: an entry mapped read-only is not
 * handed out for writing (it is remapped writable when unheld, else EBUSY).
 */
#ifndef SPLITDRV_GNTDEV_PCACHE_H
#define SPLITDRV_GNTDEV_PCACHE_H

#include <stdint.h>

#include "hv.h"

struct gnt_pcache;

struct gnt_pcache_stats {
	uint64_t hits, misses, evictions, map_errors;
	uint32_t entries, held, max_entries;
};

/* gnt_pcache_new - max_entries >= 1; the cache does not own h. */
struct gnt_pcache *gnt_pcache_new(struct hv_gnttab *h, domid_t domid,
				  uint32_t max_entries);
/* gnt_pcache_free - unmaps every entry (held ones too: call it only when
 * no I/O uses them any more). */
void gnt_pcache_free(struct gnt_pcache *pc);
/*
 * gnt_pcache_get - the page of ref, mapped (writable if asked), and held
 * until gnt_pcache_put(). NULL with errno: EBUSY (cache full of held
 * entries), or the map error (EINVAL, EACCES, ...).
 */
void *gnt_pcache_get(struct gnt_pcache *pc, grant_ref_t ref, int writable);
/* gnt_pcache_put - release one hold of ref. */
void gnt_pcache_put(struct gnt_pcache *pc, grant_ref_t ref);
/* gnt_pcache_flush - unmap every unheld entry (e.g. on disconnect). */
void gnt_pcache_flush(struct gnt_pcache *pc);
void gnt_pcache_get_stats(const struct gnt_pcache *pc,
			  struct gnt_pcache_stats *st);

#endif /* SPLITDRV_GNTDEV_PCACHE_H */
