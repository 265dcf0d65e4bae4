/*
 * hvcheck - unit-level checks of the hv layer's xen provider, run as root
 * in a real dom0 (tests/xen/, scenario hv-xen): no mock, Debian's libxen*
 * over the /dev/xen devices over the real hypervisor.
 *
 * Usage: hvcheck [CHECK...]       run the named checks (default: all)
 *        hvcheck death DOMID SECS wait up to SECS for DOMID to die
 *
 * Prints one line per check, which the harness greps:
 *   HVCHECK PASS <name>
 *   HVCHECK FAIL <name>: <reason>
 * and exits 0 when every check passed, 1 otherwise, 2 on a usage error.
 *
 * What the checks need from dom0: xen-evtchn, xen-gntdev, xen-gntalloc,
 * xen-privcmd loaded, xenfs on /proc/xen. No xenstored is needed.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv.h"

static struct hv *hv;
static int failures;

/* Why the running check failed (printed after "HVCHECK FAIL <name>: "). */
static char reason[256];

__attribute__((format(printf, 1, 2))) static void fail_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
}

/* wait_port - poll the handle's fd up to ms for a pending port.
 * Returns the port, -ETIMEDOUT or another -errno. */
static int wait_port(struct hv_evtchn *e, int ms)
{
	struct pollfd pfd = { .fd = hv_evtchn_fd(e), .events = POLLIN };
	int p;

	for (;;) {
		p = hv_evtchn_pending(e);
		if (p != -EAGAIN)
			return p;
		p = poll(&pfd, 1, ms);
		if (p == 0)
			return -ETIMEDOUT;
		if (p < 0)
			return -errno;
	}
}

/* ---------------------------------------------------------------- */

static int check_open(void)
{
	if (hv_provider(hv) != HV_PROVIDER_XEN) {
		fail_msg("provider is %s, not xen",
			 hv_provider_name(hv_provider(hv)));
		return -1;
	}
	if (hv_domid(hv) != 0) {
		fail_msg("domid %u, not 0 (dom0)", (unsigned int)hv_domid(hv));
		return -1;
	}
	return 0;
}

/*
 * Two handles of dom0 bound to each other: a alloc_unbound(remote 0), b
 * bind_interdomain(0, that port). Notify both ways, each arrives on the
 * other handle's fd as the peer's port; a notify while the port is
 * masked (not yet unmasked after delivery) is held, not lost.
 */
static int check_evtchn_loopback(void)
{
	struct hv_evtchn *a = NULL, *b = NULL;
	int pa, pb, p, rc = -1;

	a = hv_evtchn_open(hv);
	b = hv_evtchn_open(hv);
	if (!a || !b) {
		fail_msg("hv_evtchn_open: %s", strerror(errno));
		goto out;
	}
	pa = hv_evtchn_alloc_unbound(a, 0);
	if (pa < 0) {
		fail_msg("alloc_unbound(remote 0): %s", strerror(-pa));
		goto out;
	}
	if (hv_evtchn_state(a, (evtchn_port_t)pa) != HV_EVTCHN_UNBOUND) {
		fail_msg("state of fresh port %d is %d, not UNBOUND", pa,
			 hv_evtchn_state(a, (evtchn_port_t)pa));
		goto out;
	}
	pb = hv_evtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	if (pb < 0) {
		fail_msg("bind_interdomain(0, %d): %s", pa, strerror(-pb));
		goto out;
	}
	if (pb == pa) {
		fail_msg("both ends got port %d", pa);
		goto out;
	}
	if ((p = hv_evtchn_notify(b, (evtchn_port_t)pb)) < 0) {
		fail_msg("notify b:%d: %s", pb, strerror(-p));
		goto out;
	}
	p = wait_port(a, 5000);
	if (p != pa) {
		fail_msg("a expected port %d, got %d (%s)", pa, p,
			 p < 0 ? strerror(-p) : "wrong port");
		goto out;
	}
	/* a's port is masked until unmasked: a notify now is held. */
	hv_evtchn_notify(b, (evtchn_port_t)pb);
	if ((p = wait_port(a, 200)) != -ETIMEDOUT) {
		fail_msg("masked port delivered again (%d)", p);
		goto out;
	}
	hv_evtchn_unmask(a, (evtchn_port_t)pa);
	p = wait_port(a, 5000);
	if (p != pa) {
		fail_msg("notify while masked lost after unmask (got %d)", p);
		goto out;
	}
	hv_evtchn_unmask(a, (evtchn_port_t)pa);
	if ((p = hv_evtchn_notify(a, (evtchn_port_t)pa)) < 0) {
		fail_msg("notify a:%d: %s", pa, strerror(-p));
		goto out;
	}
	p = wait_port(b, 5000);
	if (p != pb) {
		fail_msg("b expected port %d, got %d", pb, p);
		goto out;
	}
	hv_evtchn_unmask(b, (evtchn_port_t)pb);
	if ((p = hv_evtchn_notify(a, (evtchn_port_t)pb + 1000)) != -EINVAL) {
		fail_msg("notify of a port not bound here: %d, not -EINVAL", p);
		goto out;
	}
	if ((p = hv_evtchn_unbind(b, (evtchn_port_t)pb)) < 0 ||
	    (p = hv_evtchn_unbind(a, (evtchn_port_t)pa)) < 0) {
		fail_msg("unbind: %s", strerror(-p));
		goto out;
	}
	if (hv_evtchn_state(a, (evtchn_port_t)pa) != HV_EVTCHN_FREE) {
		fail_msg("port %d not FREE after unbind", pa);
		goto out;
	}
	rc = 0;
out:
	if (b)
		hv_evtchn_close(b);
	if (a)
		hv_evtchn_close(a);
	return rc;
}

/* Many notifies to a masked port coalesce into one delivery. */
static int check_evtchn_coalesce(void)
{
	struct hv_evtchn *a = NULL, *b = NULL;
	int pa, pb, p, i, rc = -1;

	a = hv_evtchn_open(hv);
	b = hv_evtchn_open(hv);
	if (!a || !b) {
		fail_msg("hv_evtchn_open: %s", strerror(errno));
		goto out;
	}
	pa = hv_evtchn_alloc_unbound(a, 0);
	pb = pa < 0 ? pa : hv_evtchn_bind_interdomain(b, 0, (evtchn_port_t)pa);
	if (pa < 0 || pb < 0) {
		fail_msg("bind: %s", strerror(-(pa < 0 ? pa : pb)));
		goto out;
	}
	for (i = 0; i < 100; i++)
		hv_evtchn_notify(b, (evtchn_port_t)pb);
	if ((p = wait_port(a, 5000)) != pa) {
		fail_msg("expected port %d, got %d", pa, p);
		goto out;
	}
	if ((p = wait_port(a, 200)) != -ETIMEDOUT) {
		fail_msg("100 notifies delivered more than once (%d)", p);
		goto out;
	}
	rc = 0;
out:
	if (b)
		hv_evtchn_close(b);
	if (a)
		hv_evtchn_close(a);
	return rc;
}

/*
 * gntshr shares pages granted to dom0 itself; gnttab maps them back
 * (xengnttab_map_domain_grant_refs of domain 0). The two mappings are the
 * same frames: writes through either are seen through the other.
 */
static int check_grant_self_map(void)
{
	struct hv_gntshr *s = NULL;
	struct hv_gnttab *g = NULL;
	grant_ref_t refs[2];
	domid_t dom0 = 0;
	uint8_t *shared = NULL, *mapped = NULL, *one = NULL;
	int rc = -1, r;

	s = hv_gntshr_open(hv);
	g = hv_gnttab_open(hv);
	if (!s || !g) {
		fail_msg("open gntshr/gnttab: %s", strerror(errno));
		goto out;
	}
	shared = hv_gntshr_share(s, 0, 2, refs, 1);
	if (!shared) {
		fail_msg("gntshr_share(2 pages to dom0): %s", strerror(errno));
		goto out;
	}
	memset(shared, 0xa5, HV_PAGE_SIZE);
	memcpy(shared + HV_PAGE_SIZE, "splitdrv-page-1", 16);
	mapped = hv_gnttab_map(g, 2, &dom0, 1, refs, 0);
	if (!mapped) {
		fail_msg("gnttab_map(dom0, refs %u %u): %s", refs[0], refs[1],
			 strerror(errno));
		goto out;
	}
	if (mapped[0] != 0xa5 || mapped[HV_PAGE_SIZE - 1] != 0xa5 ||
	    memcmp(mapped + HV_PAGE_SIZE, "splitdrv-page-1", 16) != 0) {
		fail_msg("mapped pages do not show the shared contents");
		goto out;
	}
	memcpy(mapped + 100, "written-by-mapper", 18);
	if (memcmp(shared + 100, "written-by-mapper", 18) != 0) {
		fail_msg("write through the grant mapping not seen by sharer");
		goto out;
	}
	one = hv_gnttab_map_one(g, 0, refs[1], HV_GNTMAP_RO);
	if (!one) {
		fail_msg("gnttab_map_one(ro, ref %u): %s", refs[1],
			 strerror(errno));
		goto out;
	}
	if (memcmp(one, "splitdrv-page-1", 16) != 0) {
		fail_msg("read-only mapping shows other contents");
		goto out;
	}
	if ((r = hv_gnttab_unmap(g, one, 1)) < 0) {
		fail_msg("unmap ro: %s", strerror(-r));
		one = NULL;
		goto out;
	}
	one = NULL;
	if ((r = hv_gnttab_unmap(g, mapped, 2)) < 0) {
		fail_msg("unmap: %s", strerror(-r));
		mapped = NULL;
		goto out;
	}
	mapped = NULL;
	if ((r = hv_gntshr_unshare(s, shared, 2)) < 0) {
		fail_msg("unshare: %s", strerror(-r));
		shared = NULL;
		goto out;
	}
	shared = NULL;
	rc = 0;
out:
	if (one)
		hv_gnttab_unmap(g, one, 1);
	if (mapped)
		hv_gnttab_unmap(g, mapped, 2);
	if (shared)
		hv_gntshr_unshare(s, shared, 2);
	if (g)
		hv_gnttab_close(g);
	if (s)
		hv_gntshr_close(s);
	return rc;
}

/* A read-only grant cannot be mapped writable; an unused ref not at all. */
static int check_grant_refusals(void)
{
	struct hv_gntshr *s = NULL;
	struct hv_gnttab *g = NULL;
	grant_ref_t ref;
	uint8_t *shared = NULL, *m;
	int rc = -1;

	s = hv_gntshr_open(hv);
	g = hv_gnttab_open(hv);
	if (!s || !g) {
		fail_msg("open gntshr/gnttab: %s", strerror(errno));
		goto out;
	}
	shared = hv_gntshr_share(s, 0, 1, &ref, 0);
	if (!shared) {
		fail_msg("gntshr_share(ro): %s", strerror(errno));
		goto out;
	}
	m = hv_gnttab_map_one(g, 0, ref, 0);
	if (m) {
		hv_gnttab_unmap(g, m, 1);
		fail_msg("writable map of read-only ref %u succeeded", ref);
		goto out;
	}
	m = hv_gnttab_map_one(g, 0, ref, HV_GNTMAP_RO);
	if (!m) {
		fail_msg("read-only map of read-only ref %u: %s", ref,
			 strerror(errno));
		goto out;
	}
	hv_gnttab_unmap(g, m, 1);
	/* Far beyond anything gntalloc has handed out in this dom0. */
	m = hv_gnttab_map_one(g, 0, 30000, HV_GNTMAP_RO);
	if (m) {
		hv_gnttab_unmap(g, m, 1);
		fail_msg("map of unused ref 30000 succeeded");
		goto out;
	}
	rc = 0;
out:
	if (shared)
		hv_gntshr_unshare(s, shared, 1);
	if (g)
		hv_gnttab_close(g);
	if (s)
		hv_gntshr_close(s);
	return rc;
}

/* Grant copy both ways between a local buffer and dom0's own grant. */
static int check_grant_copy(void)
{
	struct hv_gntshr *s = NULL;
	struct hv_gnttab *g = NULL;
	struct hv_gnttab_copy_seg seg[2];
	char buf[64], back[64];
	grant_ref_t ref;
	uint8_t *shared = NULL;
	int rc = -1, r;

	s = hv_gntshr_open(hv);
	g = hv_gnttab_open(hv);
	if (!s || !g) {
		fail_msg("open gntshr/gnttab: %s", strerror(errno));
		goto out;
	}
	shared = hv_gntshr_share(s, 0, 1, &ref, 1);
	if (!shared) {
		fail_msg("gntshr_share: %s", strerror(errno));
		goto out;
	}
	memset(shared, 0, HV_PAGE_SIZE);
	snprintf(buf, sizeof(buf), "grant-copy-to-ref-%u", ref);
	memset(seg, 0, sizeof(seg));
	seg[0].source.is_gref = 0;
	seg[0].source.u.virt = buf;
	seg[0].dest.is_gref = 1;
	seg[0].dest.u.gref.domid = 0;
	seg[0].dest.u.gref.ref = ref;
	seg[0].dest.u.gref.offset = 512;
	seg[0].len = sizeof(buf);
	r = hv_gnttab_copy(g, 1, seg);
	if (r < 0 || seg[0].status != GNTST_okay) {
		fail_msg("copy to grant: rc %d status %d", r, seg[0].status);
		goto out;
	}
	if (memcmp(shared + 512, buf, sizeof(buf)) != 0) {
		fail_msg("copy to grant: page does not hold the data");
		goto out;
	}
	memset(back, 0, sizeof(back));
	memset(seg, 0, sizeof(seg));
	seg[0].source.is_gref = 1;
	seg[0].source.u.gref.domid = 0;
	seg[0].source.u.gref.ref = ref;
	seg[0].source.u.gref.offset = 512;
	seg[0].dest.is_gref = 0;
	seg[0].dest.u.virt = back;
	seg[0].len = sizeof(back);
	/* gntdev would fail the whole batch on offset + len > 4 KiB: the
	 * provider must answer this segment itself and still copy seg 0. */
	seg[1] = seg[0];
	seg[1].source.u.gref.offset = 4090;
	r = hv_gnttab_copy(g, 2, seg);
	if (r < 0 || seg[0].status != GNTST_okay) {
		fail_msg("copy from grant: rc %d status %d", r, seg[0].status);
		goto out;
	}
	if (seg[1].status != GNTST_bad_copy_arg) {
		fail_msg("segment beyond the page: status %d, not bad_copy_arg",
			 seg[1].status);
		goto out;
	}
	if (memcmp(back, buf, sizeof(buf)) != 0) {
		fail_msg("copy from grant: data differs");
		goto out;
	}
	rc = 0;
out:
	if (shared)
		hv_gntshr_unshare(s, shared, 1);
	if (g)
		hv_gnttab_close(g);
	if (s)
		hv_gntshr_close(s);
	return rc;
}

/* The domain list holds dom0, alive; an absent domid is -ESRCH. */
static int check_domains(void)
{
	struct hv_domains *d;
	struct hv_domain_info info[8];
	int n, r, rc = -1;

	d = hv_domains_open(hv);
	if (!d) {
		fail_msg("hv_domains_open: %s", strerror(errno));
		return -1;
	}
	n = hv_domains_list(d, info, 8);
	if (n < 1) {
		fail_msg("domains_list: %d", n);
		goto out;
	}
	if (info[0].domid != 0 || info[0].dying || info[0].mem_bytes == 0) {
		fail_msg("first domain: id %u dying %u mem %llu",
			 (unsigned int)info[0].domid, info[0].dying,
			 (unsigned long long)info[0].mem_bytes);
		goto out;
	}
	if ((r = hv_domains_info(d, 0, &info[0])) < 0) {
		fail_msg("domains_info(0): %s", strerror(-r));
		goto out;
	}
	if ((r = hv_domains_info(d, 31000, &info[0])) != -ESRCH) {
		fail_msg("domains_info(31000): %d, not -ESRCH", r);
		goto out;
	}
	if (hv_domains_fd(d) < 0) {
		fail_msg("domains_fd < 0");
		goto out;
	}
	if ((r = hv_domains_next_dead(d)) != -EAGAIN) {
		fail_msg("next_dead with nobody dying: %d", r);
		goto out;
	}
	rc = 0;
out:
	hv_domains_close(d);
	return rc;
}

struct check {
	const char *name;
	int (*fn)(void);
};

static const struct check checks[] = {
	{ "open-dom0", check_open },
	{ "evtchn-loopback", check_evtchn_loopback },
	{ "evtchn-coalesce", check_evtchn_coalesce },
	{ "grant-self-map", check_grant_self_map },
	{ "grant-refusals", check_grant_refusals },
	{ "grant-copy", check_grant_copy },
	{ "domains", check_domains },
};

static void run(const struct check *c)
{
	reason[0] = '\0';
	if (c->fn() == 0) {
		printf("HVCHECK PASS %s\n", c->name);
	} else {
		printf("HVCHECK FAIL %s: %s\n", c->name, reason);
		failures++;
	}
	fflush(stdout);
}

/*
 * death DOMID SECS: the domain-death stream reports DOMID within SECS.
 * Started before the domain is destroyed; prints "ready" once the stream
 * is open so that the caller knows when to destroy it.
 */
static int death(const char *domid_s, const char *secs_s)
{
	struct hv_domains *d;
	struct timespec t0, t;
	long want = strtol(domid_s, NULL, 10), secs = strtol(secs_s, NULL, 10);
	struct pollfd pfd;
	int r;

	d = hv_domains_open(hv);
	if (!d) {
		printf("HVCHECK FAIL domain-death: hv_domains_open: %s\n",
		       strerror(errno));
		return 1;
	}
	printf("hvcheck: death stream open, waiting for domain %ld\n", want);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = hv_domains_next_dead(d);
		if (r == want) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			printf("HVCHECK PASS domain-death (domain %ld after %.1f s)\n",
			       want,
			       (double)(t.tv_sec - t0.tv_sec) +
				       (t.tv_nsec - t0.tv_nsec) / 1e9);
			break;
		}
		if (r >= 0)
			continue; /* another domain */
		if (r != -EAGAIN) {
			printf("HVCHECK FAIL domain-death: next_dead: %s\n",
			       strerror(-r));
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= secs) {
			printf("HVCHECK FAIL domain-death: domain %ld not "
			       "reported within %ld s\n",
			       want, secs);
			r = -ETIMEDOUT;
			break;
		}
		pfd.fd = hv_domains_fd(d);
		pfd.events = POLLIN;
		poll(&pfd, 1, 1000);
	}
	fflush(stdout);
	hv_domains_close(d);
	return r == want ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct hv_open_opts opts = { .provider = HV_PROVIDER_XEN };
	size_t i;
	int a, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hv = hv_open(&opts);
	if (!hv) {
		printf("HVCHECK FAIL open-dom0: hv_open(xen): %s\n",
		       strerror(errno));
		return 1;
	}
	if (argc == 4 && strcmp(argv[1], "death") == 0) {
		rc = death(argv[2], argv[3]);
		hv_close(hv);
		return rc;
	}
	if (argc == 1) {
		for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
			run(&checks[i]);
	}
	for (a = 1; a < argc; a++) {
		for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
			if (strcmp(argv[a], checks[i].name) == 0)
				break;
		if (i == sizeof(checks) / sizeof(checks[0])) {
			fprintf(stderr, "hvcheck: no check named %s\n", argv[a]);
			hv_close(hv);
			return 2;
		}
		run(&checks[i]);
	}
	hv_close(hv);
	printf("HVCHECK DONE %d failed\n", failures);
	return failures ? 1 : 0;
}
