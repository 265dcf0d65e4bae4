/*
 * check_loop_gnttab - grants of the loop provider: the validation matrix
 * of a mapping, release on unmap, batches, grant copy, sharing, foreign
 * memory, and a two-process ping-pong through a granted page.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "gntdev/pcache.h"
#include "hv.h"
#include "loophv_fixture.h"

struct env {
	struct hv *dom0, *guest;
	struct hv_gnttab *gt;
	struct hv_gntshr *gs;
	uint8_t *ram;
	struct hv_guest_layout lay;
};

static void env_open(struct env *e)
{
	e->dom0 = lhf_dom0();
	e->guest = lhf_guest(8);
	e->gt = hv_gnttab_open(e->dom0);
	e->gs = hv_gntshr_open(e->guest);
	ck_assert_ptr_nonnull(e->gt);
	ck_assert_ptr_nonnull(e->gs);
	e->ram = hv_guest_ram(e->guest, &e->lay);
	ck_assert_ptr_nonnull(e->ram);
}

static void env_close(struct env *e)
{
	hv_gnttab_close(e->gt);
	hv_gntshr_close(e->gs);
	hv_close(e->guest);
	hv_close(e->dom0);
}

static grant_entry_v1_t *entry(struct env *e, grant_ref_t ref)
{
	return (grant_entry_v1_t *)(e->ram + e->lay.gnttab_first * HV_PAGE_SIZE) +
	       ref;
}

START_TEST(permitted_rw_grant_maps_and_shares_memory)
{
	struct env e;
	grant_ref_t ref;
	uint8_t *g, *m;

	env_open(&e);
	g = hv_gntshr_share(e.gs, 0, 1, &ref, 1);
	ck_assert_ptr_nonnull(g);
	m = hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(entry(&e, ref)->flags & (GTF_reading | GTF_writing),
			  GTF_reading | GTF_writing);
	strcpy((char *)m, "from dom0");
	ck_assert_str_eq((char *)g, "from dom0");
	strcpy((char *)g + 100, "from guest");
	ck_assert_str_eq((char *)m + 100, "from guest");
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m, 1), 0);
	ck_assert_uint_eq(entry(&e, ref)->flags & (GTF_reading | GTF_writing),
			  0);
	env_close(&e);
}
END_TEST

START_TEST(readonly_grant_maps_ro_but_not_rw)
{
	struct env e;
	grant_ref_t ref;
	uint8_t *m;

	env_open(&e);
	ck_assert_ptr_nonnull(hv_gntshr_share(e.gs, 0, 1, &ref, 0));
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref, 0));
	ck_assert_int_eq(errno, EACCES);
	ck_assert_uint_eq(entry(&e, ref)->flags & (GTF_reading | GTF_writing),
			  0);
	m = hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref, HV_GNTMAP_RO);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(entry(&e, ref)->flags & (GTF_reading | GTF_writing),
			  GTF_reading);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m, 1), 0);
	env_close(&e);
}
END_TEST

START_TEST(grant_to_another_domid_is_eacces)
{
	struct env e;
	int ref;

	env_open(&e);
	ref = hv_gntshr_grant_frame(e.gs, 42, 20, 1);
	ck_assert_int_ge(ref, 8);
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, hv_domid(e.guest),
					     (grant_ref_t)ref, 0));
	ck_assert_int_eq(errno, EACCES);
	env_close(&e);
}
END_TEST

START_TEST(ref_out_of_range_is_einval)
{
	struct env e;

	env_open(&e);
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, hv_domid(e.guest),
					     e.lay.gnttab_frames * 512, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(
		hv_gnttab_map_one(e.gt, hv_domid(e.guest), 0xffffffffu, 0));
	env_close(&e);
}
END_TEST

START_TEST(invalid_entry_type_is_einval)
{
	struct env e;

	env_open(&e);
	/* Hand-written entries, as a buggy or hostile guest could. */
	entry(&e, 100)->domid = 0;
	entry(&e, 100)->frame = 20;
	entry(&e, 100)->flags = 0; /* GTF_invalid */
	entry(&e, 101)->domid = 0;
	entry(&e, 101)->frame = 20;
	entry(&e, 101)->flags = GTF_accept_transfer;
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, hv_domid(e.guest), 100, 0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, hv_domid(e.guest), 101, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(entry(&e, 101)->flags, GTF_accept_transfer);
	env_close(&e);
}
END_TEST

START_TEST(frame_outside_guest_ram_is_einval)
{
	struct env e;

	env_open(&e);
	entry(&e, 102)->domid = 0;
	entry(&e, 102)->frame = 0x7fffffff;
	entry(&e, 102)->flags = GTF_permit_access;
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, hv_domid(e.guest), 102, 0));
	ck_assert_int_eq(errno, EINVAL);
	/* the failed pin was rolled back */
	ck_assert_uint_eq(entry(&e, 102)->flags, GTF_permit_access);
	env_close(&e);
}
END_TEST

START_TEST(end_access_while_mapped_is_ebusy)
{
	struct env e;
	grant_ref_t ref;
	uint8_t *g, *m;

	env_open(&e);
	g = hv_gntshr_share(e.gs, 0, 1, &ref, 1);
	m = hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, ref), -EBUSY);
	ck_assert_int_eq(hv_gntshr_unshare(e.gs, g, 1), -EBUSY);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m, 1), 0);
	ck_assert_int_eq(hv_gntshr_unshare(e.gs, g, 1), 0);
	ck_assert_uint_eq(entry(&e, ref)->flags, 0);
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref, 0));
	ck_assert_int_eq(errno, EINVAL);
	env_close(&e);
}
END_TEST

START_TEST(two_mappings_hold_the_pin_until_both_unmapped)
{
	struct env e;
	grant_ref_t ref;
	uint8_t *m1, *m2;

	env_open(&e);
	ck_assert_ptr_nonnull(hv_gntshr_share(e.gs, 0, 1, &ref, 1));
	m1 = hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref, 0);
	m2 = hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref, HV_GNTMAP_RO);
	ck_assert_ptr_nonnull(m1);
	ck_assert_ptr_nonnull(m2);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m1, 1), 0);
	/* the read-only mapping still pins reading, not writing */
	ck_assert_uint_eq(entry(&e, ref)->flags & (GTF_reading | GTF_writing),
			  GTF_reading);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, ref), -EBUSY);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m2, 1), 0);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, ref), 0);
	env_close(&e);
}
END_TEST

START_TEST(unmap_of_unknown_address_or_count_is_einval)
{
	struct env e;
	grant_ref_t refs[2];
	uint8_t *m;
	domid_t d;

	env_open(&e);
	d = hv_domid(e.guest);
	ck_assert_ptr_nonnull(hv_gntshr_share(e.gs, 0, 2, refs, 1));
	m = hv_gnttab_map(e.gt, 2, &d, 1, refs, 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m, 1), -EINVAL);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m + 4096, 1), -EINVAL);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m, 2), 0);
	env_close(&e);
}
END_TEST

START_TEST(batch_map_with_one_bad_ref_fails_cleanly)
{
	struct env e;
	grant_ref_t refs[4];
	domid_t d;

	env_open(&e);
	d = hv_domid(e.guest);
	ck_assert_ptr_nonnull(hv_gntshr_share(e.gs, 0, 3, refs, 1));
	refs[3] = refs[2];
	refs[2] = 3000; /* never granted */
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map(e.gt, 4, &d, 1, refs, 0));
	ck_assert_int_eq(errno, EINVAL);
	for (int i = 0; i < 4; i++)
		if (i != 2)
			ck_assert_uint_eq(entry(&e, refs[i])->flags &
						  (GTF_reading | GTF_writing),
					  0);
	refs[2] = refs[3];
	ck_assert_ptr_nonnull(hv_gnttab_map(e.gt, 3, &d, 1, refs, 0));
	env_close(&e);
}
END_TEST

START_TEST(batch_map_is_contiguous_in_ref_order)
{
	struct env e;
	grant_ref_t refs[3], swapped[3];
	uint8_t *g, *m;
	domid_t d;

	env_open(&e);
	d = hv_domid(e.guest);
	g = hv_gntshr_share(e.gs, 0, 3, refs, 1);
	for (int i = 0; i < 3; i++)
		g[i * 4096] = (uint8_t)('a' + i);
	swapped[0] = refs[2];
	swapped[1] = refs[0];
	swapped[2] = refs[1];
	m = hv_gnttab_map(e.gt, 3, &d, 1, swapped, HV_GNTMAP_RO);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m[0], 'c');
	ck_assert_int_eq(m[4096], 'a');
	ck_assert_int_eq(m[8192], 'b');
	env_close(&e);
}
END_TEST

/*
 * Maps that cost a mapping each (pages of no single run) are
 * bounded per granting domain, so a guest that piles them up cannot take
 * dom0's whole vm.max_map_count (65530) from the other guests.
 */
START_TEST(one_guest_cannot_use_up_dom0s_mappings)
{
	enum {
		MAX_TRIES = 40000
	}; /* 80000 mappings: past max_map_count */
	struct env e;
	struct hv *gb = lhf_guest(4);
	struct hv_gntshr *gsb = hv_gntshr_open(gb);
	static uint8_t *maps[MAX_TRIES];
	grant_ref_t a[3], b[3], pa[2], pb[2];
	domid_t da, db = hv_domid(gb);
	uint8_t *ga, *gbp, *m;
	int n, err = 0;

	env_open(&e);
	da = hv_domid(e.guest);
	ck_assert_ptr_nonnull(gsb);
	ga = hv_gntshr_share(e.gs, 0, 3, a, 1);
	gbp = hv_gntshr_share(gsb, 0, 3, b, 1);
	ck_assert_ptr_nonnull(ga);
	ck_assert_ptr_nonnull(gbp);
	ga[2 * 4096] = 'A';
	gbp[2 * 4096] = 'B';
	/* Pages 0 and 2: not one run of frames, so a mapping per page. */
	pa[0] = a[0];
	pa[1] = a[2];
	pb[0] = b[0];
	pb[1] = b[2];
	for (n = 0; n < MAX_TRIES; n++) {
		maps[n] = hv_gnttab_map(e.gt, 2, &da, 1, pa, HV_GNTMAP_RO);
		if (!maps[n]) {
			err = errno;
			break;
		}
	}
	ck_assert_msg(n < MAX_TRIES, "guest A mapped %d x 2 pages unbounded", n);
	ck_assert_msg(err == ENOSPC, "guest A's map %d: %s, not ENOSPC", n,
		      strerror(err));
	/* Guest B's map still gets its mappings. */
	m = hv_gnttab_map(e.gt, 2, &db, 1, pb, HV_GNTMAP_RO);
	ck_assert_msg(m != NULL, "guest B's map: %s", strerror(errno));
	ck_assert_int_eq(m[4096], 'B');
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m, 2), 0);
	/* A's maps work, and after one unmap A may map again. */
	ck_assert_int_eq(maps[n - 1][4096], 'A');
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, maps[n - 1], 2), 0);
	maps[n - 1] = hv_gnttab_map(e.gt, 2, &da, 1, pa, HV_GNTMAP_RO);
	ck_assert_ptr_nonnull(maps[n - 1]);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(hv_gnttab_unmap(e.gt, maps[i], 2), 0);
	ck_assert_uint_eq(entry(&e, a[0])->flags & (GTF_reading | GTF_writing),
			  0);
	hv_gntshr_close(gsb);
	hv_close(gb);
	env_close(&e);
}
END_TEST

/* A single page or one run of frames is a pointer into dom0's mapping of
 * the guest's RAM, yet every live map has an address of its own. */
START_TEST(maps_of_one_run_share_no_address)
{
	struct env e;
	grant_ref_t refs[2];
	uint8_t *g, *m1, *m2, *m3;
	domid_t d;

	env_open(&e);
	d = hv_domid(e.guest);
	g = hv_gntshr_share(e.gs, 0, 2, refs, 1);
	ck_assert_ptr_nonnull(g);
	m1 = hv_gnttab_map(e.gt, 2, &d, 1, refs, 0);
	m2 = hv_gnttab_map(e.gt, 2, &d, 1, refs, 0);
	m3 = hv_gnttab_map_one(e.gt, d, refs[0], HV_GNTMAP_RO);
	ck_assert_ptr_nonnull(m1);
	ck_assert_ptr_nonnull(m2);
	ck_assert_ptr_nonnull(m3);
	ck_assert_ptr_ne(m1, m2);
	m1[4096] = 'x';
	ck_assert_int_eq(m2[4096], 'x');
	ck_assert_int_eq(g[4096], 'x');
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m2, 2), 0);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m1, 2), 0);
	ck_assert_uint_eq(entry(&e, refs[0])->flags &
				  (GTF_reading | GTF_writing),
			  GTF_reading);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m3, 1), 0);
	ck_assert_uint_eq(entry(&e, refs[1])->flags &
				  (GTF_reading | GTF_writing),
			  0);
	env_close(&e);
}
END_TEST

START_TEST(persistent_map_pins_without_a_new_mapping)
{
	struct env e;
	grant_ref_t ref;
	uint8_t *g, *m;

	env_open(&e);
	g = hv_gntshr_share(e.gs, 0, 1, &ref, 1);
	m = hv_gnttab_map_one(e.gt, hv_domid(e.guest), ref,
			      HV_GNTMAP_PERSISTENT);
	ck_assert_ptr_nonnull(m);
	m[10] = 0x5a;
	ck_assert_int_eq(g[10], 0x5a);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, ref), -EBUSY);
	ck_assert_int_eq(hv_gnttab_unmap(e.gt, m, 1), 0);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, ref), 0);
	env_close(&e);
}
END_TEST

START_TEST(grant_copy_both_directions_and_bad_refs)
{
	struct env e;
	grant_ref_t refs[2];
	uint8_t *g, local[64];
	struct hv_gnttab_copy_seg seg[4];
	domid_t d;

	env_open(&e);
	d = hv_domid(e.guest);
	g = hv_gntshr_share(e.gs, 0, 1, &refs[0], 1);
	ck_assert_ptr_nonnull(hv_gntshr_share(e.gs, 0, 1, &refs[1], 0));
	memcpy(g + 300, "guest data", 11);
	memset(seg, 0, sizeof(seg));
	/* guest -> local */
	seg[0].source.is_gref = 1;
	seg[0].source.u.gref.domid = d;
	seg[0].source.u.gref.ref = refs[0];
	seg[0].source.u.gref.offset = 300;
	seg[0].dest.u.virt = local;
	seg[0].len = 11;
	/* local -> guest */
	seg[1].source.u.virt = "dom0 data";
	seg[1].dest.is_gref = 1;
	seg[1].dest.u.gref.domid = d;
	seg[1].dest.u.gref.ref = refs[0];
	seg[1].dest.u.gref.offset = 4000;
	seg[1].len = 10;
	/* write into a read-only grant */
	seg[2] = seg[1];
	seg[2].dest.u.gref.ref = refs[1];
	/* crosses the page end */
	seg[3] = seg[1];
	seg[3].dest.u.gref.offset = 4090;
	ck_assert_int_eq(hv_gnttab_copy(e.gt, 4, seg), 0);
	ck_assert_int_eq(seg[0].status, GNTST_okay);
	ck_assert_str_eq((char *)local, "guest data");
	ck_assert_int_eq(seg[1].status, GNTST_okay);
	ck_assert_str_eq((char *)g + 4000, "dom0 data");
	ck_assert_int_eq(seg[2].status, GNTST_permission_denied);
	ck_assert_int_eq(seg[3].status, GNTST_bad_copy_arg);
	seg[0].source.u.gref.ref = 9999;
	ck_assert_int_eq(hv_gnttab_copy(e.gt, 1, seg), 0);
	ck_assert_int_eq(seg[0].status, GNTST_bad_gntref);
	/* a copy leaves nothing pinned */
	ck_assert_uint_eq(entry(&e, refs[0])->flags &
				  (GTF_reading | GTF_writing),
			  0);
	env_close(&e);
}
END_TEST

START_TEST(map_of_unknown_domain_is_esrch)
{
	struct env e;

	env_open(&e);
	errno = 0;
	ck_assert_ptr_null(hv_gnttab_map_one(e.gt, 4000, 8, 0));
	ck_assert_int_eq(errno, ESRCH);
	env_close(&e);
}
END_TEST

START_TEST(foreign_map_sees_guest_ram)
{
	struct env e;
	struct hv_foreignmem *fm;
	uint64_t gfns[2] = { 3, 7 };
	int err[2];
	uint8_t *p;

	env_open(&e);
	fm = hv_foreignmem_open(e.dom0);
	ck_assert_ptr_nonnull(fm);
	e.ram[3 * 4096] = 0x11;
	e.ram[7 * 4096 + 5] = 0x22;
	p = hv_foreignmem_map(fm, hv_domid(e.guest), PROT_READ | PROT_WRITE, 2,
			      gfns, err);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(err[0], 0);
	ck_assert_int_eq(p[0], 0x11);
	ck_assert_int_eq(p[4096 + 5], 0x22);
	p[1] = 0x33;
	ck_assert_int_eq(e.ram[3 * 4096 + 1], 0x33);
	ck_assert_int_eq(hv_foreignmem_unmap(fm, p, 2), 0);
	gfns[1] = 1ULL << 40;
	errno = 0;
	ck_assert_ptr_null(hv_foreignmem_map(fm, hv_domid(e.guest), PROT_READ,
					     2, gfns, NULL));
	hv_foreignmem_close(fm);
	env_close(&e);
}
END_TEST

START_TEST(pcache_maps_once_and_pins_until_flushed)
{
	struct env e;
	struct gnt_pcache *pc;
	struct gnt_pcache_stats st;
	grant_ref_t refs[3];
	uint8_t *g, *a, *b;

	env_open(&e);
	g = hv_gntshr_share(e.gs, 0, 3, refs, 1);
	g[0] = 0x42;
	pc = gnt_pcache_new(e.gt, hv_domid(e.guest), 2);
	ck_assert_ptr_nonnull(pc);
	a = gnt_pcache_get(pc, refs[0], 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a[0], 0x42);
	gnt_pcache_put(pc, refs[0]);
	b = gnt_pcache_get(pc, refs[0], 1);
	ck_assert_ptr_eq(a, b);
	gnt_pcache_put(pc, refs[0]);
	/* cached, unheld: still pinned in the guest's grant table */
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, refs[0]), -EBUSY);
	ck_assert_ptr_nonnull(gnt_pcache_get(pc, refs[1], 0));
	gnt_pcache_put(pc, refs[1]);
	ck_assert_ptr_nonnull(
		gnt_pcache_get(pc, refs[2], 1)); /* evicts refs[0] */
	gnt_pcache_get_stats(pc, &st);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 3);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, refs[0]), 0);
	/* a ref the guest never granted is an error, not a crash */
	errno = 0;
	ck_assert_ptr_null(gnt_pcache_get(pc, 2000, 0));
	ck_assert_int_eq(errno, EINVAL);
	gnt_pcache_put(pc, refs[2]);
	gnt_pcache_flush(pc);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, refs[1]), 0);
	ck_assert_int_eq(hv_gntshr_end_access(e.gs, refs[2]), 0);
	gnt_pcache_free(pc);
	env_close(&e);
}
END_TEST

/*
 * Two processes, a guest and dom0, ping-pong 10,000 messages through one
 * granted page and one event channel; every message is checked.
 */
START_TEST(pingpong_10000_messages_between_processes)
{
	enum {
		N = 10000
	};
	int p2c[2], c2p[2], status;
	struct {
		domid_t domid;
		grant_ref_t ref;
		evtchn_port_t port;
	} hello;
	struct hv *dom0 = lhf_dom0();
	struct hv_gnttab *gt = hv_gnttab_open(dom0);
	struct hv_evtchn *e0 = hv_evtchn_open(dom0);
	volatile uint32_t *shared;
	pid_t pid;
	int port;

	ck_assert_int_eq(pipe(p2c), 0);
	ck_assert_int_eq(pipe(c2p), 0);
	pid = fork();
	if (pid == 0) {
		struct hv *g = lhf_guest(4);
		struct hv_gntshr *gs = hv_gntshr_open(g);
		struct hv_evtchn *eg = hv_evtchn_open(g);
		volatile uint32_t *page;
		evtchn_port_t rp;
		int lp;

		page = hv_gntshr_share(gs, 0, 1, &hello.ref, 1);
		hello.domid = hv_domid(g);
		if (!page ||
		    write(c2p[1], &hello, sizeof(hello)) != sizeof(hello) ||
		    read(p2c[0], &rp, sizeof(rp)) != sizeof(rp))
			_exit(2);
		lp = hv_evtchn_bind_interdomain(eg, 0, rp);
		if (lp <= 0)
			_exit(3);
		for (uint32_t i = 0; i < N; i++) {
			struct pollfd pfd = { .fd = hv_evtchn_fd(eg),
					      .events = POLLIN };
			int got;

			page[0] = i * 2 + 1; /* request i */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (hv_evtchn_notify(eg, (evtchn_port_t)lp) < 0)
				_exit(4);
			for (;;) {
				got = hv_evtchn_pending(eg);
				if (got >= 0)
					break;
				if (poll(&pfd, 1, 5000) != 1)
					_exit(5);
			}
			hv_evtchn_unmask(eg, (evtchn_port_t)got);
			if (page[1] != i * 2 + 2) /* response i */
				_exit(6);
		}
		_exit(0);
	}
	ck_assert_int_eq(read(c2p[0], &hello, sizeof(hello)), sizeof(hello));
	shared = hv_gnttab_map_one(gt, hello.domid, hello.ref, 0);
	ck_assert_ptr_nonnull((const void *)(uintptr_t)shared);
	port = hv_evtchn_alloc_unbound(e0, hello.domid);
	ck_assert_int_gt(port, 0);
	hello.port = (evtchn_port_t)port;
	ck_assert_int_eq(write(p2c[1], &hello.port, sizeof(hello.port)),
			 sizeof(hello.port));
	for (uint32_t i = 0; i < N; i++) {
		struct pollfd pfd = { .fd = hv_evtchn_fd(e0), .events = POLLIN };
		int got;

		for (;;) {
			got = hv_evtchn_pending(e0);
			if (got >= 0)
				break;
			ck_assert_msg(poll(&pfd, 1, 5000) == 1,
				      "no event for message %u", i);
		}
		ck_assert_int_eq(got, port);
		hv_evtchn_unmask(e0, (evtchn_port_t)got);
		ck_assert_uint_eq(shared[0], i * 2 + 1);
		shared[1] = i * 2 + 2;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		ck_assert_int_eq(hv_evtchn_notify(e0, (evtchn_port_t)port), 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "guest side failed with %d", WEXITSTATUS(status));
	hv_gnttab_unmap(gt, (void *)shared, 1);
	hv_gnttab_close(gt);
	hv_evtchn_close(e0);
	hv_close(dom0);
}
END_TEST

static Suite *loop_gnttab_suite(void)
{
	Suite *s = suite_create("loop_gnttab");
	TCase *tc = tcase_create("grants");

	tcase_add_unchecked_fixture(tc, lhf_start, lhf_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, permitted_rw_grant_maps_and_shares_memory);
	tcase_add_test(tc, readonly_grant_maps_ro_but_not_rw);
	tcase_add_test(tc, grant_to_another_domid_is_eacces);
	tcase_add_test(tc, ref_out_of_range_is_einval);
	tcase_add_test(tc, invalid_entry_type_is_einval);
	tcase_add_test(tc, frame_outside_guest_ram_is_einval);
	tcase_add_test(tc, end_access_while_mapped_is_ebusy);
	tcase_add_test(tc, two_mappings_hold_the_pin_until_both_unmapped);
	tcase_add_test(tc, unmap_of_unknown_address_or_count_is_einval);
	tcase_add_test(tc, batch_map_with_one_bad_ref_fails_cleanly);
	tcase_add_test(tc, batch_map_is_contiguous_in_ref_order);
	tcase_add_test(tc, persistent_map_pins_without_a_new_mapping);
	tcase_add_test(tc, one_guest_cannot_use_up_dom0s_mappings);
	tcase_add_test(tc, maps_of_one_run_share_no_address);
	tcase_add_test(tc, grant_copy_both_directions_and_bad_refs);
	tcase_add_test(tc, map_of_unknown_domain_is_esrch);
	tcase_add_test(tc, foreign_map_sees_guest_ram);
	tcase_add_test(tc, pcache_maps_once_and_pins_until_flushed);
	tcase_add_test(tc, pingpong_10000_messages_between_processes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(loop_gnttab_suite)
