/*
 * check_hv_xen - the xen provider (lib/hv-xen.c) against fake libxen*
 * (xen_mock.c): translation of every op, the evtchn state table, grant-copy
 * segment handling, PCI SBDF decoding, and the domain event stream's diff
 * (SHUTDOWN and DEAD).
 */
#include "config.h"

#include <xenctrl.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_main.h"
#include "hv.h"
#include "xen_mock.h"

static struct hv *hv;

static void setup(void)
{
	struct hv_open_opts o = { .provider = HV_PROVIDER_XEN };

	xen_mock_reset();
	hv = hv_open(&o);
	ck_assert_ptr_nonnull(hv);
}

static void teardown(void)
{
	hv_close(hv);
}

START_TEST(open_detects_dom0_then_xenstore_then_domid_self)
{
	struct hv_open_opts o = { .provider = HV_PROVIDER_XEN };
	struct hv *h;

	/* No /proc/xen here: the privileged probe decides. */
	ck_assert_int_eq(hv_domid(hv), 0);
	ck_assert_int_eq(hv_provider(hv), HV_PROVIDER_XEN);
	xen_mock.getinfo_eperm = 1;
	xen_mock.xs_domid = "7";
	h = hv_open(&o);
	ck_assert_int_eq(hv_domid(h), 7);
	hv_close(h);
	xen_mock.xs_domid = NULL;
	h = hv_open(&o);
	ck_assert_int_eq(hv_domid(h), DOMID_SELF);
	hv_close(h);
}
END_TEST

START_TEST(params_forward_and_return_minus_errno)
{
	uint64_t v;

	ck_assert_int_eq(hv_param_get(hv, 1, 3, &v), 0);
	ck_assert_uint_eq(v, 30);
	ck_assert_int_eq(hv_param_get(hv, 99, 3, &v), -ESRCH);
	ck_assert_int_eq(hv_param_set(hv, 1, 3, 1), -EPERM);
	ck_assert_ptr_null(hv_guest_ram(hv, NULL));
	ck_assert_int_eq(errno, EOPNOTSUPP);
	ck_assert_ptr_null(
		hv_domain_create(&(struct hv_open_opts){ .provider =
								 HV_PROVIDER_XEN },
				 NULL));
	ck_assert_int_eq(errno, EOPNOTSUPP);
}
END_TEST

START_TEST(evtchn_table_tracks_what_the_handle_bound)
{
	struct hv_evtchn *e = hv_evtchn_open(hv);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(hv_evtchn_alloc_unbound(e, 3), 5);
	ck_assert_int_eq(hv_evtchn_state(e, 5), HV_EVTCHN_UNBOUND);
	ck_assert_int_eq(hv_evtchn_bind_interdomain(e, 3, 9), 6);
	ck_assert_int_eq(hv_evtchn_state(e, 6), HV_EVTCHN_INTERDOMAIN);
	ck_assert_int_eq(hv_evtchn_bind_interdomain(e, 99, 9), -EINVAL);
	xen_mock.next_port = 300; /* beyond the table's first size: it grows */
	ck_assert_int_eq(hv_evtchn_bind_virq(e, VIRQ_DOM_EXC), 300);
	ck_assert_int_eq(hv_evtchn_state(e, 300), HV_EVTCHN_VIRQ);
	ck_assert_int_eq(hv_evtchn_unbind(e, 6), 0);
	ck_assert_int_eq(hv_evtchn_state(e, 6), HV_EVTCHN_FREE);
	ck_assert_int_eq(hv_evtchn_unbind(e, 6), -EINVAL);
	ck_assert_int_eq(hv_evtchn_state(e, 100000), HV_EVTCHN_FREE);
	ck_assert_int_eq(hv_evtchn_state(e, 1u << 17), -EINVAL);
	hv_evtchn_close(e);
}
END_TEST

START_TEST(evtchn_notify_unknown_port_is_einval_pending_never_blocks)
{
	struct hv_evtchn *e = hv_evtchn_open(hv);
	int id = xen_mock.nevt - 1, p;

	p = hv_evtchn_alloc_unbound(e, 3);
	ck_assert_int_eq(hv_evtchn_notify(e, (evtchn_port_t)p), 0);
	ck_assert_int_eq(xen_mock.notified, p);
	ck_assert_int_eq(hv_evtchn_notify(e, 77), -EINVAL);
	ck_assert_int_eq(hv_evtchn_pending(e), -EAGAIN);
	xen_mock_fire(id, (uint32_t)p);
	ck_assert_int_eq(hv_evtchn_pending(e), p);
	ck_assert_int_eq(hv_evtchn_pending(e), -EAGAIN);
	ck_assert_int_eq(hv_evtchn_unmask(e, (evtchn_port_t)p), 0);
	ck_assert_int_eq(xen_mock.unmasked, p);
	hv_evtchn_close(e);
}
END_TEST

START_TEST(gnttab_map_prot_and_domains)
{
	struct hv_gnttab *g = hv_gnttab_open(hv);
	domid_t ds[2] = { 4, 9 };
	grant_ref_t rs[2] = { 1, 2 };

	ck_assert_ptr_eq(hv_gnttab_map_one(g, 4, 1, HV_GNTMAP_RO),
			 xen_mock.page);
	ck_assert_int_eq(xen_mock.map_prot, PROT_READ);
	ck_assert_uint_eq(xen_mock.map_dom1, 4);
	ck_assert_ptr_nonnull(hv_gnttab_map_one(g, 4, 1, HV_GNTMAP_PERSISTENT));
	ck_assert_int_eq(xen_mock.map_prot, PROT_READ | PROT_WRITE);
	ck_assert_ptr_nonnull(hv_gnttab_map(g, 2, ds, 0, rs, 0));
	ck_assert_uint_eq(xen_mock.map_dom1, 9);
	ck_assert_ptr_null(hv_gnttab_map_one(g, 4, 666, 0));
	ck_assert_int_eq(errno, EINVAL);
	hv_gnttab_close(g);
}
END_TEST

START_TEST(gnttab_copy_translates_and_screens_segments)
{
	struct hv_gnttab *g = hv_gnttab_open(hv);
	struct hv_gnttab_copy_seg s[20];
	static char buf[4096];
	int i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < 20; i++) {
		s[i].source.is_gref = 1;
		s[i].source.u.gref.domid = 4;
		s[i].source.u.gref.ref = (grant_ref_t)i;
		s[i].source.u.gref.offset = 8;
		s[i].dest.u.virt = buf;
		s[i].len = 100;
		s[i].status = 55;
	}
	s[3].source.u.gref.offset = 4000; /* crosses its page */
	s[4].source.is_gref = 0;          /* local to local */
	s[4].source.u.virt = buf;
	s[5].dest.is_gref = 1; /* grant to grant */
	s[5].dest.u.gref.domid = 6;
	s[5].dest.u.gref.ref = 50;
	s[5].dest.u.gref.offset = 2;
	ck_assert_int_eq(hv_gnttab_copy(g, 20, s), 0);
	ck_assert_uint_eq(xen_mock.copy_n, 18);
	ck_assert_int_eq(s[3].status, GNTST_bad_copy_arg);
	ck_assert_int_eq(s[4].status, GNTST_bad_copy_arg);
	ck_assert_int_eq(s[7].status, GNTST_bad_gntref); /* mock: ref 7 */
	ck_assert_int_eq(s[0].status, GNTST_okay);
	ck_assert_int_eq(s[19].status, GNTST_okay);
	ck_assert_uint_eq(xen_mock.copy_segs[0].flags, GNTCOPY_source_gref);
	ck_assert_ptr_eq(xen_mock.copy_segs[0].dest.virt, buf);
	ck_assert_uint_eq(xen_mock.copy_segs[0].source.foreign.offset, 8);
	ck_assert_uint_eq(xen_mock.copy_segs[0].len, 100);
	/* s[5] is the 4th in the batch: 0, 1, 2, 5 */
	ck_assert_uint_eq(xen_mock.copy_segs[3].flags,
			  GNTCOPY_source_gref | GNTCOPY_dest_gref);
	ck_assert_uint_eq(xen_mock.copy_segs[3].dest.foreign.domid, 6);
	ck_assert_uint_eq(xen_mock.copy_segs[3].dest.foreign.ref, 50);
	ck_assert_uint_eq(xen_mock.copy_segs[3].dest.foreign.offset, 2);
	xen_mock.copy_fail = 1;
	ck_assert_int_eq(hv_gnttab_copy(g, 2, s), -EFAULT);
	ck_assert_int_eq(s[0].status, GNTST_general_error);
	hv_gnttab_close(g);
}
END_TEST

START_TEST(gntshr_shares_and_lacks_frame_ops)
{
	struct hv_gntshr *sh = hv_gntshr_open(hv);
	grant_ref_t refs[3];

	ck_assert_ptr_eq(hv_gntshr_share(sh, 0, 3, refs, 1), xen_mock.page);
	ck_assert_uint_eq(refs[2], 102);
	ck_assert_int_eq(hv_gntshr_unshare(sh, xen_mock.page, 3), 0);
	ck_assert_int_eq(hv_gntshr_grant_frame(sh, 0, 1, 1), -EOPNOTSUPP);
	ck_assert_int_eq(hv_gntshr_end_access(sh, 1), -EOPNOTSUPP);
	hv_gntshr_close(sh);
}
END_TEST

START_TEST(foreignmem_map_and_resource)
{
	struct hv_foreignmem *f = hv_foreignmem_open(hv);
	uint64_t gf[3] = { 1, 2, 0x123456789ULL };
	struct hv_resource *r;
	void *a = (void *)1;

	ck_assert_ptr_eq(hv_foreignmem_map(f, 3, PROT_READ, 3, gf, NULL),
			 xen_mock.page);
	ck_assert_uint_eq(xen_mock.fm_last, 0x123456789ULL);
	r = hv_foreignmem_map_resource(f, 3, 0, 1, 0, 2, &a, PROT_READ);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_eq(a, xen_mock.page);
	ck_assert_int_eq(hv_foreignmem_unmap_resource(f, r), 0);
	hv_foreignmem_close(f);
}
END_TEST

START_TEST(dm_ranges_and_pci_sbdf)
{
	struct hv_devicemodel *d = hv_devicemodel_open(hv);
	evtchn_port_t bp;
	uint64_t sbdf;

	ck_assert_int_eq(hv_dm_create_ioreq_server(d, 3, 1), 3);
	ck_assert_int_eq(hv_dm_get_ioreq_server_info(d, 3, 3, &bp), 0);
	ck_assert_uint_eq(bp, 42);
	ck_assert_int_eq(hv_dm_map_io_range(d, 3, 3, HV_IO_MMIO, 0x1000, 0x1fff),
			 0);
	ck_assert_int_eq(xen_mock.io_mmio, 1);
	ck_assert_int_eq(hv_dm_map_io_range(d, 3, 3, HV_IO_PORT, 0x10, 0x1f), 0);
	ck_assert_int_eq(xen_mock.io_mmio, 0);
	sbdf = XEN_DMOP_PCI_SBDF(2, 0x81, 0x1f, 5);
	ck_assert_int_eq(hv_dm_map_io_range(d, 3, 3, HV_IO_PCI, sbdf, sbdf), 0);
	ck_assert_int_eq(xen_mock.pci_mapped, 1);
	ck_assert_int_eq(xen_mock.pci_last[0], 2);
	ck_assert_int_eq(xen_mock.pci_last[1], 0x81);
	ck_assert_int_eq(xen_mock.pci_last[2], 0x1f);
	ck_assert_int_eq(xen_mock.pci_last[3], 5);
	/* fn 3 fails: fns 0-2 are rolled back */
	xen_mock.pci_fail_fn = 3;
	sbdf = XEN_DMOP_PCI_SBDF(0, 1, 2, 0);
	ck_assert_int_eq(hv_dm_map_io_range(d, 3, 3, HV_IO_PCI, sbdf, sbdf + 7),
			 -EBUSY);
	ck_assert_int_eq(xen_mock.pci_mapped, 1);
	ck_assert_int_eq(hv_dm_map_io_range(d, 3, 3, HV_IO_PCI, 0, 300),
			 -EINVAL);
	hv_devicemodel_close(d);
}
END_TEST

START_TEST(domains_info_fields)
{
	struct hv_domains *dm;
	struct hv_domain_info info[8];

	xen_mock.doms[1] =
		(struct mock_dom){ 3,
				   XEN_DOMINF_paused | XEN_DOMINF_shutdown |
					   (2u << XEN_DOMINF_shutdownshift),
				   256, 1 };
	xen_mock.doms[2] =
		(struct mock_dom){ 4, 0, 10, XEN_INVALID_MAX_VCPU_ID };
	xen_mock.ndoms = 3;
	dm = hv_domains_open(hv);
	ck_assert_ptr_nonnull(dm);
	ck_assert_int_eq(hv_domains_list(dm, info, 2), 3);
	ck_assert_int_eq(info[1].domid, 3);
	ck_assert(info[1].paused && info[1].shutdown && !info[1].dying);
	ck_assert_uint_eq(info[1].shutdown_reason, 2);
	ck_assert_uint_eq(info[1].mem_bytes, 256 * 4096);
	ck_assert_uint_eq(info[1].max_vcpus, 2);
	ck_assert_int_eq(hv_domains_info(dm, 4, info), 0);
	ck_assert_uint_eq(info[0].max_vcpus, 0);
	ck_assert_int_eq(hv_domains_info(dm, 6, info), -ESRCH);
	hv_domains_close(dm);
}
END_TEST

START_TEST(death_stream_reports_each_death_once)
{
	struct hv_domains *dm;
	int id, got[8], n = 0, p;

	xen_mock.doms[1] = (struct mock_dom){ 3, 0, 1, 0 };
	xen_mock.doms[2] = (struct mock_dom){ 4, 0, 1, 0 };
	xen_mock.doms[3] = (struct mock_dom){ 5, XEN_DOMINF_dying, 1, 0 };
	xen_mock.ndoms = 4;
	dm = hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ);
	id = xen_mock.nevt - 1;
	ck_assert_int_eq(hv_domains_next_dead(dm), -EAGAIN);
	/* 3 dying, 4 gone, 5 (dying before) gone, 7 new and dying, 8 new */
	xen_mock.doms[1].flags = XEN_DOMINF_dying;
	xen_mock.doms[2] = (struct mock_dom){ 7, XEN_DOMINF_dying, 1, 0 };
	xen_mock.doms[3] = (struct mock_dom){ 8, 0, 1, 0 };
	ck_assert_int_eq(hv_domains_next_dead(dm), -EAGAIN); /* no VIRQ yet */
	xen_mock_fire(id, 300);
	while ((p = hv_domains_next_dead(dm)) >= 0 && n < 8)
		got[n++] = p;
	ck_assert_int_eq(p, -EAGAIN);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(got[0], 3);
	ck_assert_int_eq(got[1], 7);
	ck_assert_int_eq(got[2], 4);
	/* 3 and 7 vanish after dying: not reported again */
	xen_mock.doms[1] = (struct mock_dom){ 8, 0, 1, 0 };
	xen_mock.ndoms = 2;
	xen_mock_fire(id, 300);
	ck_assert_int_eq(hv_domains_next_dead(dm), -EAGAIN);
	hv_domains_close(dm);
}
END_TEST

START_TEST(death_stream_leaves_the_virq_to_xenstored)
{
	struct hv_domains *dm;

	/* a backend's stream must not take VIRQ_DOM_EXC: dom0 binds it
	 * once, and xenstored started later needs it */
	dm = hv_domains_open(hv);
	ck_assert_ptr_nonnull(dm);
	ck_assert_int_eq(xen_mock.virq_bound, 0);
	hv_domains_close(dm);
	dm = hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ);
	ck_assert_ptr_nonnull(dm);
	ck_assert_int_eq(xen_mock.virq_bound, 1);
	hv_domains_close(dm);
	errno = 0;
	ck_assert_ptr_null(hv_domains_open_flags(hv, 0x80));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(death_stream_falls_back_to_timer_when_virq_taken)
{
	struct hv_domains *dm;

	xen_mock.virq_taken = 1;
	xen_mock.doms[1] = (struct mock_dom){ 8, 0, 1, 0 };
	xen_mock.ndoms = 2;
	dm = hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ);
	ck_assert_ptr_nonnull(dm);
	ck_assert_int_ge(hv_domains_fd(dm), 0);
	xen_mock.ndoms = 1;
	ck_assert_int_eq(hv_domains_next_dead(dm), -EAGAIN);
	usleep(1100 * 1000); /* one XEN_DOMAINS_POLL_MS tick */
	ck_assert_int_eq(hv_domains_next_dead(dm), 8);
	hv_domains_close(dm);
}
END_TEST

/* The flags word of a shut-down domain, reason r (SHUTDOWN_* of sched.h). */
static uint32_t shut(unsigned int r)
{
	return XEN_DOMINF_shutdown | XEN_DOMINF_paused |
	       (r << XEN_DOMINF_shutdownshift);
}

/* The next event must be this one. */
static void expect_event(struct hv_domains *dm, domid_t domid,
			 enum hv_domain_event_kind kind, unsigned int reason)
{
	struct hv_domain_event ev;

	memset(&ev, 0xa5, sizeof(ev));
	ck_assert_int_eq(hv_domains_next_event(dm, &ev), 0);
	ck_assert_uint_eq(ev.domid, domid);
	ck_assert_int_eq(ev.kind, kind);
	ck_assert_uint_eq(ev.shutdown_reason, reason);
}

static void expect_no_event(struct hv_domains *dm)
{
	struct hv_domain_event ev;

	ck_assert_int_eq(hv_domains_next_event(dm, &ev), -EAGAIN);
}

START_TEST(shutdown_is_reported_once_with_its_reason)
{
	struct hv_domains *dm;
	int id;

	xen_mock.doms[1] = (struct mock_dom){ 3, 0, 1, 0 };
	xen_mock.doms[2] = (struct mock_dom){ 4, 0, 1, 0 };
	xen_mock.doms[3] = (struct mock_dom){ 5, shut(SHUTDOWN_poweroff), 1, 0 };
	xen_mock.ndoms = 4;
	dm = hv_domains_open_flags(hv,
				   HV_DOMAINS_EXC_VIRQ); /* baseline: 5 shut down already, quiet */
	id = xen_mock.nevt - 1;
	/* 3 reboots; 4 runs on; 6 is born and crashes between scans. */
	xen_mock.doms[1].flags = shut(SHUTDOWN_reboot);
	xen_mock.doms[4] = (struct mock_dom){ 6, shut(SHUTDOWN_crash), 1, 0 };
	xen_mock.ndoms = 5;
	expect_no_event(dm); /* no VIRQ yet */
	xen_mock_fire(id, 300);
	expect_event(dm, 3, HV_DOMAIN_SHUTDOWN, SHUTDOWN_reboot);
	expect_event(dm, 6, HV_DOMAIN_SHUTDOWN, SHUTDOWN_crash);
	expect_no_event(dm);
	/* Another domain's event: 3, 5 and 6 are still shut down, not again. */
	xen_mock.doms[2].flags = shut(SHUTDOWN_poweroff);
	xen_mock_fire(id, 300);
	expect_event(dm, 4, HV_DOMAIN_SHUTDOWN, SHUTDOWN_poweroff);
	expect_no_event(dm);
	hv_domains_close(dm);
}
END_TEST

START_TEST(shutdown_then_dying_gives_shutdown_then_dead)
{
	struct hv_domains *dm;
	int id;

	xen_mock.doms[1] = (struct mock_dom){ 3, 0, 1, 0 };
	xen_mock.doms[2] = (struct mock_dom){ 4, 0, 1, 0 };
	xen_mock.doms[3] = (struct mock_dom){ 5, 0, 1, 0 };
	xen_mock.ndoms = 4;
	dm = hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ);
	id = xen_mock.nevt - 1;
	xen_mock.doms[1].flags = shut(SHUTDOWN_poweroff);
	xen_mock.doms[2].flags = shut(SHUTDOWN_crash);
	xen_mock_fire(id, 300);
	expect_event(dm, 3, HV_DOMAIN_SHUTDOWN, SHUTDOWN_poweroff);
	/* The toolstack destroys 3 (dying) and 4 (gone at once) while 4's
	 * SHUTDOWN is still queued, and 5 goes down and dies within one scan:
	 * DEAD alone. */
	xen_mock.doms[1].flags = shut(SHUTDOWN_poweroff) | XEN_DOMINF_dying;
	xen_mock.doms[2] = (struct mock_dom){
		5, shut(SHUTDOWN_poweroff) | XEN_DOMINF_dying, 1, 0
	};
	xen_mock.ndoms = 3;
	xen_mock_fire(id, 300);
	expect_event(dm, 4, HV_DOMAIN_SHUTDOWN, SHUTDOWN_crash);
	expect_event(dm, 3, HV_DOMAIN_DEAD, 0);
	expect_event(dm, 5, HV_DOMAIN_DEAD, 0);
	expect_event(dm, 4, HV_DOMAIN_DEAD, 0);
	expect_no_event(dm);
	hv_domains_close(dm);
}
END_TEST

START_TEST(resumed_domain_reports_its_next_shutdown)
{
	struct hv_domains *dm;
	int id;

	xen_mock.doms[1] = (struct mock_dom){ 3, 0, 1, 0 };
	xen_mock.ndoms = 2;
	dm = hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ);
	id = xen_mock.nevt - 1;
	xen_mock.doms[1].flags = shut(SHUTDOWN_suspend);
	xen_mock_fire(id, 300);
	expect_event(dm, 3, HV_DOMAIN_SHUTDOWN, SHUTDOWN_suspend);
	/* A checkpoint resumes it: nothing to report, but forgotten. */
	xen_mock.doms[1].flags = 0;
	xen_mock_fire(id, 300);
	expect_no_event(dm);
	xen_mock.doms[1].flags = shut(SHUTDOWN_reboot);
	xen_mock_fire(id, 300);
	expect_event(dm, 3, HV_DOMAIN_SHUTDOWN, SHUTDOWN_reboot);
	expect_no_event(dm);
	hv_domains_close(dm);
}
END_TEST

START_TEST(next_dead_skips_shutdown_events)
{
	struct hv_domains *dm;
	int id;

	xen_mock.doms[1] = (struct mock_dom){ 3, 0, 1, 0 };
	xen_mock.doms[2] = (struct mock_dom){ 4, 0, 1, 0 };
	xen_mock.ndoms = 3;
	dm = hv_domains_open_flags(hv, HV_DOMAINS_EXC_VIRQ);
	id = xen_mock.nevt - 1;
	xen_mock.doms[1].flags = shut(SHUTDOWN_poweroff);
	xen_mock.doms[2].flags = XEN_DOMINF_dying;
	xen_mock_fire(id, 300);
	ck_assert_int_eq(hv_domains_next_dead(dm), 4);
	ck_assert_int_eq(hv_domains_next_dead(dm), -EAGAIN);
	xen_mock.doms[1].flags |= XEN_DOMINF_dying;
	xen_mock_fire(id, 300);
	ck_assert_int_eq(hv_domains_next_dead(dm), 3);
	ck_assert_int_eq(hv_domains_next_dead(dm), -EAGAIN);
	hv_domains_close(dm);
}
END_TEST

static Suite *hv_xen_suite(void)
{
	Suite *s = suite_create("hv_xen");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_detects_dom0_then_xenstore_then_domid_self);
	tcase_add_test(tc, params_forward_and_return_minus_errno);
	tcase_add_test(tc, evtchn_table_tracks_what_the_handle_bound);
	tcase_add_test(tc,
		       evtchn_notify_unknown_port_is_einval_pending_never_blocks);
	tcase_add_test(tc, gnttab_map_prot_and_domains);
	tcase_add_test(tc, gnttab_copy_translates_and_screens_segments);
	tcase_add_test(tc, gntshr_shares_and_lacks_frame_ops);
	tcase_add_test(tc, foreignmem_map_and_resource);
	tcase_add_test(tc, dm_ranges_and_pci_sbdf);
	tcase_add_test(tc, domains_info_fields);
	tcase_add_test(tc, death_stream_reports_each_death_once);
	tcase_add_test(tc, death_stream_leaves_the_virq_to_xenstored);
	tcase_add_test(tc, death_stream_falls_back_to_timer_when_virq_taken);
	tcase_add_test(tc, shutdown_is_reported_once_with_its_reason);
	tcase_add_test(tc, shutdown_then_dying_gives_shutdown_then_dead);
	tcase_add_test(tc, resumed_domain_reports_its_next_shutdown);
	tcase_add_test(tc, next_dead_skips_shutdown_events);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(hv_xen_suite)
