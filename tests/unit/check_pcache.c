/*
 * check_pcache - gntdev/pcache.c over a fake hv provider (lib/hv-impl.h)
 * whose gnttab_map hands out malloc'd pages (the first word is the ref, so
 * a test sees which grant a page is), counts maps and unmaps, remembers
 * the flags of every live mapping and fails on request for one ref.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "gntdev/pcache.h"
#include "hv-impl.h"
#include "log.h"

#define FAKE_LIVE 2048

struct fake_map {
	void *addr;
	grant_ref_t ref;
	int flags;
};

struct fake_gnttab {
	struct hv_handle_common c;
	unsigned int maps, unmaps, bad_unmaps;
	grant_ref_t fail_ref;
	int fail_errno; /* 0: no failure */
	struct fake_map live[FAKE_LIVE];
	unsigned int nlive;
};

static struct fake_gnttab *fake;
static struct hv fake_hv;

static void *fake_map(struct hv_gnttab *h, uint32_t count, const domid_t *domids,
		      int same_domain, const grant_ref_t *refs, int flags)
{
	struct fake_gnttab *f = (struct fake_gnttab *)h;
	void *page;

	ck_assert_uint_eq(count, 1);
	ck_assert_uint_eq(domids[0], 5);
	if (f->fail_errno && refs[0] == f->fail_ref) {
		errno = f->fail_errno;
		return NULL;
	}
	ck_assert_uint_lt(f->nlive, FAKE_LIVE);
	page = aligned_alloc(HV_PAGE_SIZE, HV_PAGE_SIZE);
	ck_assert_ptr_nonnull(page);
	*(uint32_t *)page = refs[0];
	f->live[f->nlive++] = (struct fake_map){ page, refs[0], flags };
	f->maps++;
	return page;
}

static int fake_unmap(struct hv_gnttab *h, void *addr, uint32_t count)
{
	struct fake_gnttab *f = (struct fake_gnttab *)h;
	unsigned int i;

	for (i = 0; i < f->nlive; i++) {
		if (f->live[i].addr == addr && count == 1) {
			free(addr);
			f->live[i] = f->live[--f->nlive];
			f->unmaps++;
			return 0;
		}
	}
	f->bad_unmaps++;
	return -EINVAL;
}

static const struct hv_ops fake_ops = {
	.gnttab_map = fake_map,
	.gnttab_unmap = fake_unmap,
};

/* The live mapping of ref (NULL if none); fails if there are several. */
static struct fake_map *live_of(grant_ref_t ref)
{
	struct fake_map *found = NULL;
	unsigned int i;

	for (i = 0; i < fake->nlive; i++) {
		if (fake->live[i].ref != ref)
			continue;
		ck_assert_msg(found == NULL, "ref %u mapped twice", ref);
		found = &fake->live[i];
	}
	return found;
}

static struct gnt_pcache *pc;

static void setup(void)
{
	fake_hv.ops = &fake_ops;
	fake_hv.provider = HV_PROVIDER_LOOP;
	fake = calloc(1, sizeof(*fake));
	ck_assert_ptr_nonnull(fake);
	fake->c.hv = &fake_hv;
	pc = NULL;
	log_open("check_pcache", LOG_TO_STDERR);
}

static void teardown(void)
{
	gnt_pcache_free(pc);
	ck_assert_uint_eq(fake->nlive, 0);
	ck_assert_uint_eq(fake->bad_unmaps, 0);
	free(fake);
}

static void new_cache(uint32_t max)
{
	pc = gnt_pcache_new((struct hv_gnttab *)fake, 5, max);
	ck_assert_ptr_nonnull(pc);
}

static void *get(grant_ref_t ref, int writable)
{
	void *p = gnt_pcache_get(pc, ref, writable);

	ck_assert_msg(p != NULL, "get(%u, %d): %s", ref, writable,
		      strerror(errno));
	ck_assert_uint_eq(*(uint32_t *)p, ref);
	return p;
}

static void get_put(grant_ref_t ref, int writable)
{
	get(ref, writable);
	gnt_pcache_put(pc, ref);
}

static struct gnt_pcache_stats stats(void)
{
	struct gnt_pcache_stats st;

	gnt_pcache_get_stats(pc, &st);
	return st;
}

START_TEST(new_rejects_zero_entries)
{
	ck_assert_ptr_null(gnt_pcache_new((struct hv_gnttab *)fake, 5, 0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(miss_maps_then_hit_reuses)
{
	void *a, *b;

	new_cache(4);
	a = get(10, 0);
	gnt_pcache_put(pc, 10);
	b = get(10, 0);
	gnt_pcache_put(pc, 10);
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(fake->maps, 1);
	ck_assert_uint_eq(stats().hits, 1);
	ck_assert_uint_eq(stats().misses, 1);
	ck_assert_uint_eq(stats().entries, 1);
}
END_TEST

START_TEST(maps_persistent_and_read_only_when_asked)
{
	new_cache(4);
	get_put(1, 0);
	get_put(2, 1);
	ck_assert_int_eq(live_of(1)->flags, HV_GNTMAP_PERSISTENT | HV_GNTMAP_RO);
	ck_assert_int_eq(live_of(2)->flags, HV_GNTMAP_PERSISTENT);
}
END_TEST

START_TEST(evicts_least_recently_used_unheld_entry)
{
	new_cache(3);
	get_put(1, 1);
	get_put(2, 1);
	get_put(3, 1);
	get_put(1, 1); /* LRU order now 2, 3, 1 */
	get_put(4, 1);
	ck_assert_ptr_null(live_of(2));
	ck_assert_ptr_nonnull(live_of(1));
	ck_assert_ptr_nonnull(live_of(3));
	get_put(5, 1);
	ck_assert_ptr_null(live_of(3));
	ck_assert_ptr_nonnull(live_of(1));
	ck_assert_uint_eq(stats().evictions, 2);
	ck_assert_uint_eq(stats().entries, 3);
	ck_assert_uint_eq(fake->unmaps, 2);
}
END_TEST

START_TEST(held_entry_is_never_evicted)
{
	new_cache(2);
	get(1, 1); /* held */
	get_put(2, 1);
	get_put(3, 1); /* evicts 2, the only unheld one, though 1 is older */
	ck_assert_ptr_nonnull(live_of(1));
	ck_assert_ptr_null(live_of(2));
	gnt_pcache_put(pc, 1);
}
END_TEST

START_TEST(ebusy_when_every_entry_is_held)
{
	new_cache(2);
	get(1, 1);
	get(2, 1);
	ck_assert_ptr_null(gnt_pcache_get(pc, 3, 1));
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_uint_eq(fake->maps, 2); /* no map was attempted */
	ck_assert_uint_eq(stats().held, 2);
	gnt_pcache_put(pc, 1);
	get(3, 1);
	ck_assert_ptr_null(live_of(1));
	gnt_pcache_put(pc, 2);
	gnt_pcache_put(pc, 3);
}
END_TEST

START_TEST(hits_on_held_entry_share_the_mapping)
{
	void *a, *b;

	new_cache(1);
	a = get(7, 1);
	b = get(7, 1); /* a second I/O on the same grant */
	ck_assert_ptr_eq(a, b);
	gnt_pcache_put(pc, 7);
	gnt_pcache_flush(pc); /* still held once: stays */
	ck_assert_ptr_nonnull(live_of(7));
	gnt_pcache_put(pc, 7);
	gnt_pcache_flush(pc);
	ck_assert_ptr_null(live_of(7));
}
END_TEST

START_TEST(read_only_entry_not_handed_out_for_write_while_held)
{
	new_cache(4);
	get(7, 0);
	ck_assert_ptr_null(gnt_pcache_get(pc, 7, 1));
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(live_of(7)->flags, HV_GNTMAP_PERSISTENT | HV_GNTMAP_RO);
	gnt_pcache_put(pc, 7);
}
END_TEST

START_TEST(read_only_entry_is_remapped_writable_when_unheld)
{
	new_cache(4);
	get_put(7, 0);
	get(7, 1);
	ck_assert_int_eq(live_of(7)->flags, HV_GNTMAP_PERSISTENT);
	ck_assert_uint_eq(fake->maps, 2);
	ck_assert_uint_eq(fake->unmaps, 1);
	ck_assert_uint_eq(stats().entries, 1);
	gnt_pcache_put(pc, 7);
}
END_TEST

START_TEST(writable_entry_serves_read_only_requests)
{
	void *a;

	new_cache(4);
	a = get(8, 1);
	ck_assert_ptr_eq(get(8, 0), a);
	ck_assert_uint_eq(fake->maps, 1);
	ck_assert_uint_eq(stats().hits, 1);
	gnt_pcache_put(pc, 8);
	gnt_pcache_put(pc, 8);
}
END_TEST

START_TEST(map_error_is_returned_and_evicts_nothing)
{
	new_cache(1);
	get_put(1, 1);
	fake->fail_ref = 9;
	fake->fail_errno = EACCES;
	ck_assert_ptr_null(gnt_pcache_get(pc, 9, 1));
	ck_assert_int_eq(errno, EACCES);
	ck_assert_ptr_nonnull(live_of(1));
	ck_assert_uint_eq(stats().evictions, 0);
	ck_assert_uint_eq(stats().map_errors, 1);
	ck_assert_uint_eq(stats().entries, 1);
	fake->fail_errno = EINVAL;
	ck_assert_ptr_null(gnt_pcache_get(pc, 9, 0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(failed_writable_remap_keeps_read_only_entry)
{
	void *a;

	new_cache(4);
	a = get(8, 0);
	gnt_pcache_put(pc, 8);
	fake->fail_ref = 8;
	fake->fail_errno = EACCES; /* the guest granted it read-only */
	ck_assert_ptr_null(gnt_pcache_get(pc, 8, 1));
	ck_assert_int_eq(errno, EACCES);
	ck_assert_ptr_eq(get(8, 0), a);
	gnt_pcache_put(pc, 8);
}
END_TEST

START_TEST(flush_unmaps_only_unheld_entries)
{
	new_cache(8);
	get(1, 1);
	get_put(2, 1);
	get_put(3, 0);
	gnt_pcache_flush(pc);
	ck_assert_ptr_nonnull(live_of(1));
	ck_assert_ptr_null(live_of(2));
	ck_assert_ptr_null(live_of(3));
	ck_assert_uint_eq(stats().entries, 1);
	ck_assert_uint_eq(stats().held, 1);
	gnt_pcache_put(pc, 1);
	get_put(1, 1);
	ck_assert_uint_eq(stats().hits, 1);
}
END_TEST

START_TEST(free_unmaps_every_entry_held_or_not)
{
	new_cache(8);
	get(1, 1);
	get_put(2, 1);
	get(3, 0);
	gnt_pcache_free(pc);
	pc = NULL;
	ck_assert_uint_eq(fake->nlive, 0);
	ck_assert_uint_eq(fake->unmaps, 3);
}
END_TEST

START_TEST(put_of_unheld_ref_is_ignored)
{
	new_cache(2);
	log_set_level(LOG_ERR); /* the warning is expected */
	gnt_pcache_put(pc, 99);
	get_put(1, 1);
	gnt_pcache_put(pc, 1);
	ck_assert_uint_eq(stats().held, 0);
	get_put(2, 1);
	get_put(3, 1); /* 1 is evictable normally */
	ck_assert_ptr_null(live_of(1));
}
END_TEST

START_TEST(many_refs_stay_bounded_and_correct)
{
	unsigned int i;
	grant_ref_t r;

	new_cache(64);
	for (i = 0; i < 5000; i++) {
		r = (grant_ref_t)((i * 7919u) % 1000u);
		get_put(r, (int)(i & 1));
		ck_assert_uint_le(stats().entries, 64);
		ck_assert_uint_eq(fake->nlive, stats().entries);
	}
	ck_assert_uint_eq(stats().hits + stats().misses, 5000);
	ck_assert_uint_eq(stats().held, 0);
	ck_assert_uint_eq(stats().max_entries, 64);
}
END_TEST

static Suite *pcache_suite(void)
{
	Suite *s = suite_create("pcache");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, new_rejects_zero_entries);
	tcase_add_test(tc, miss_maps_then_hit_reuses);
	tcase_add_test(tc, maps_persistent_and_read_only_when_asked);
	tcase_add_test(tc, evicts_least_recently_used_unheld_entry);
	tcase_add_test(tc, held_entry_is_never_evicted);
	tcase_add_test(tc, ebusy_when_every_entry_is_held);
	tcase_add_test(tc, hits_on_held_entry_share_the_mapping);
	tcase_add_test(tc, read_only_entry_not_handed_out_for_write_while_held);
	tcase_add_test(tc, read_only_entry_is_remapped_writable_when_unheld);
	tcase_add_test(tc, writable_entry_serves_read_only_requests);
	tcase_add_test(tc, map_error_is_returned_and_evicts_nothing);
	tcase_add_test(tc, failed_writable_remap_keeps_read_only_entry);
	tcase_add_test(tc, flush_unmaps_only_unheld_entries);
	tcase_add_test(tc, free_unmaps_every_entry_held_or_not);
	tcase_add_test(tc, put_of_unheld_ref_is_ignored);
	tcase_add_test(tc, many_refs_stay_bounded_and_correct);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pcache_suite)
