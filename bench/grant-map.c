/*
 * grant-map - cost of getting at a page a loopback guest granted to dom0,
 * by each way the mapping client offers, against a plain memcpy.
 *
 *   grant-map [--run-dir DIR] [--iters N] [--pages K] [--loophvd PATH]
 *
 * The benchmark starts its own loophvd, forks a child that becomes a loop
 * guest and shares K pages with dom0 (hv_gntshr_share, writable), each
 * page stamped with its index. dom0 then measures, N pages each, cycling
 * over the K refs:
 *   (1) hv_gnttab_map_one + unmap, ordinary mapping;
 *   (2) the same with HV_GNTMAP_PERSISTENT;
 *   (3) a warm persistent-grant cache hit: gnt_pcache_get + put;
 *   (4) hv_gnttab_copy of the whole 4 KiB page into a local buffer;
 *   (5) memcpy of 4 KiB between two local buffers (the baseline).
 * Each mapped page is read once (one byte) so the mapping is really used;
 * every page's stamp is checked once per mode before the timed runs. The
 * modes are timed in GM_BLOCKS rounds, each round running every mode in
 * turn, so that other load on the machine weighs on all of them alike.
 *
 * Exit status: 0 when every mode ran, 1 otherwise.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "gntdev/pcache.h"

#define GM_DEFAULT_ITERS 100000
#define GM_DEFAULT_PAGES 64
#define GM_MAX_PAGES     1024
#define GM_BLOCKS        10                    /* rounds over all modes */
#define GM_STAMP         0x5344475241000000ULL /* "SDGRA" + index */

struct gm_hello {
	uint32_t domid; /* UINT32_MAX: the guest failed */
	uint32_t count;
	grant_ref_t refs[GM_MAX_PAGES];
};

/* The guest: share the pages, report them, hold them until dom0 is done. */
static int gm_child(const struct bench_hvd *hvd, uint32_t k, int to_child,
		    int from_child)
{
	struct gm_hello *m;
	struct hv_gntshr *sh = NULL;
	struct hv *g;
	uint8_t *pages = NULL, done;
	uint64_t stamp;
	uint32_t i;
	int rc = 1;

	m = calloc(1, sizeof(*m));
	if (!m)
		return 1;
	m->domid = UINT32_MAX;
	g = bench_create_guest(hvd, "bench-grant");
	if (!g)
		goto report;
	sh = hv_gntshr_open(g);
	if (!sh) {
		fprintf(stderr, "guest: hv_gntshr_open: %s\n", strerror(errno));
		goto report;
	}
	pages = hv_gntshr_share(sh, 0, k, m->refs, 1);
	if (!pages) {
		fprintf(stderr, "guest: hv_gntshr_share(%u pages): %s\n", k,
			strerror(errno));
		goto report;
	}
	for (i = 0; i < k; i++) {
		memset(pages + (size_t)i * HV_PAGE_SIZE, (int)(i & 0xff),
		       HV_PAGE_SIZE);
		stamp = GM_STAMP | i;
		memcpy(pages + (size_t)i * HV_PAGE_SIZE, &stamp, sizeof(stamp));
	}
	m->domid = hv_domid(g);
	m->count = k;
report:
	if (bench_send(from_child, m, sizeof(*m)) == 0 && pages &&
	    bench_recv(to_child, &done, 1) == 0)
		rc = 0;
	if (pages) {
		int urc = hv_gntshr_unshare(sh, pages, k);

		if (urc < 0) {
			fprintf(stderr, "guest: hv_gntshr_unshare: %s\n",
				strerror(-urc));
			rc = 1;
		}
	}
	hv_gntshr_close(sh);
	hv_close(g);
	free(m);
	return rc;
}

struct gm_ctx {
	struct hv_gnttab *gt;
	struct gnt_pcache *pc;
	struct hv_gnttab_copy_seg seg; /* (4): ref filled per page */
	domid_t domid;
	uint32_t k;
	const grant_ref_t *refs;
	uint64_t next; /* index of the next page, cycling over refs */
	uint8_t *buf;  /* 4 KiB destination of copies */
	uint8_t *src;  /* 4 KiB local source for memcpy */
	volatile uint8_t sink;
};

static int gm_check_stamp(const uint8_t *page, uint32_t i)
{
	uint64_t stamp;

	memcpy(&stamp, page, sizeof(stamp));
	if (stamp != (GM_STAMP | i) || page[HV_PAGE_SIZE - 1] != (i & 0xff)) {
		fprintf(stderr,
			"dom0: page %u holds %#llx / %#x, expected %#llx / %#x\n",
			i, (unsigned long long)stamp, page[HV_PAGE_SIZE - 1],
			(unsigned long long)(GM_STAMP | i), i & 0xff);
		return -EIO;
	}
	return 0;
}

/* (1), (2) setup: check every page once through a mapping of that kind. */
static int gm_prep_map(struct gm_ctx *c, int flags)
{
	uint8_t *p;
	uint32_t i;
	int rc;

	for (i = 0; i < c->k; i++) {
		p = hv_gnttab_map_one(c->gt, c->domid, c->refs[i], flags);
		if (!p) {
			rc = -errno;
			fprintf(stderr, "dom0: map ref %u (flags %#x): %s\n",
				c->refs[i], flags, strerror(errno));
			return rc;
		}
		rc = gm_check_stamp(p, i);
		hv_gnttab_unmap(c->gt, p, 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int gm_prep_ordinary(struct gm_ctx *c)
{
	return gm_prep_map(c, HV_GNTMAP_RO);
}

static int gm_prep_persistent(struct gm_ctx *c)
{
	return gm_prep_map(c, HV_GNTMAP_PERSISTENT);
}

/* (1), (2): map, read a byte, unmap. */
static int gm_map_unmap(struct gm_ctx *c, uint64_t n, int flags)
{
	uint8_t *p;
	uint64_t i;
	int rc;

	for (i = 0; i < n; i++, c->next++) {
		p = hv_gnttab_map_one(c->gt, c->domid, c->refs[c->next % c->k],
				      flags);
		if (!p)
			return -errno;
		c->sink += p[c->next & (HV_PAGE_SIZE - 1)];
		rc = hv_gnttab_unmap(c->gt, p, 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int gm_run_ordinary(struct gm_ctx *c, uint64_t n)
{
	return gm_map_unmap(c, n, 0);
}

static int gm_run_persistent(struct gm_ctx *c, uint64_t n)
{
	return gm_map_unmap(c, n, HV_GNTMAP_PERSISTENT);
}

/* (3) setup: a cache of all K refs, warmed (and checked) once. */
static int gm_prep_pcache(struct gm_ctx *c)
{
	uint8_t *p;
	uint32_t i;
	int rc;

	c->pc = gnt_pcache_new(c->gt, c->domid, c->k);
	if (!c->pc)
		return -errno;
	for (i = 0; i < c->k; i++) {
		p = gnt_pcache_get(c->pc, c->refs[i], 1);
		if (!p)
			return -errno;
		rc = gm_check_stamp(p, i);
		gnt_pcache_put(c->pc, c->refs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* (3): a hit: get, read a byte, put. */
static int gm_run_pcache(struct gm_ctx *c, uint64_t n)
{
	grant_ref_t ref;
	uint8_t *p;
	uint64_t i;

	for (i = 0; i < n; i++, c->next++) {
		ref = c->refs[c->next % c->k];
		p = gnt_pcache_get(c->pc, ref, 1);
		if (!p)
			return -errno;
		c->sink += p[c->next & (HV_PAGE_SIZE - 1)];
		gnt_pcache_put(c->pc, ref);
	}
	return 0;
}

/* (4) setup: the segment, and each page copied and checked once. */
static int gm_prep_copy(struct gm_ctx *c)
{
	uint32_t i;
	int rc;

	memset(&c->seg, 0, sizeof(c->seg));
	c->seg.source.is_gref = 1;
	c->seg.source.u.gref.domid = c->domid;
	c->seg.source.u.gref.offset = 0;
	c->seg.dest.is_gref = 0;
	c->seg.dest.u.virt = c->buf;
	c->seg.len = HV_PAGE_SIZE;
	for (i = 0; i < c->k; i++) {
		c->seg.source.u.gref.ref = c->refs[i];
		rc = hv_gnttab_copy(c->gt, 1, &c->seg);
		if (rc == 0 && c->seg.status != GNTST_okay)
			rc = -EIO;
		if (rc < 0) {
			fprintf(stderr, "dom0: copy ref %u: rc %d status %d\n",
				c->refs[i], rc, c->seg.status);
			return rc;
		}
		rc = gm_check_stamp(c->buf, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* (4): grant copy of a whole page into the local buffer. */
static int gm_run_copy(struct gm_ctx *c, uint64_t n)
{
	uint64_t i;
	int rc;

	for (i = 0; i < n; i++, c->next++) {
		c->seg.source.u.gref.ref = c->refs[c->next % c->k];
		rc = hv_gnttab_copy(c->gt, 1, &c->seg);
		if (rc < 0)
			return rc;
		if (c->seg.status != GNTST_okay)
			return -EIO;
	}
	return 0;
}

/* (5): the baseline. The asm keeps the copies from being elided. */
static int gm_run_memcpy(struct gm_ctx *c, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		c->src[0] = (uint8_t)i;
		memcpy(c->buf, c->src, HV_PAGE_SIZE);
		__asm__ volatile("" : : "r"(c->buf), "r"(c->src) : "memory");
	}
	return 0;
}

/* The modes, measured in GM_BLOCKS rounds that visit each mode in turn, so
 * that other load on the machine is spread over all of them alike. */
struct gm_mode {
	const char *name;
	int (*prep)(struct gm_ctx *c); /* NULL: nothing to set up */
	int (*run)(struct gm_ctx *c, uint64_t n);
	double secs;
	int rc;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: grant-map [--run-dir DIR] [--iters N] [--pages K] "
		"[--loophvd PATH]\n"
		"  Pages/s of map+unmap, persistent map, pcache hit and grant "
		"copy of pages\n"
		"  a loop guest granted to dom0, against memcpy of 4 KiB.\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "run-dir", required_argument, NULL, 'd' },
		{ "iters", required_argument, NULL, 'n' },
		{ "pages", required_argument, NULL, 'k' },
		{ "loophvd", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = NULL, *hvd_path = NULL;
	uint64_t iters = GM_DEFAULT_ITERS, k = GM_DEFAULT_PAGES;
	struct gm_mode modes[] = {
		{ "(1) map_one+unmap, ordinary", gm_prep_ordinary,
		  gm_run_ordinary, 0, 0 },
		{ "(2) map_one+unmap, PERSISTENT", gm_prep_persistent,
		  gm_run_persistent, 0, 0 },
		{ "(3) pcache get+put, warm hit", gm_prep_pcache, gm_run_pcache,
		  0, 0 },
		{ "(4) gnttab_copy 4 KiB -> local", gm_prep_copy, gm_run_copy,
		  0, 0 },
		{ "(5) memcpy 4 KiB (baseline)", NULL, gm_run_memcpy, 0, 0 },
	};
	const size_t nmodes = sizeof(modes) / sizeof(modes[0]);
	struct gm_mode *md;
	unsigned int b;
	uint64_t n;
	double t0;
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	struct gnt_pcache_stats pst = { 0 };
	struct gm_hello *hello = NULL;
	struct gm_ctx c = { 0 };
	struct bench_hvd hvd;
	struct hv *dom0 = NULL;
	double base;
	size_t r;
	int ch, status, ret = 1;
	pid_t child = -1;

	while ((ch = getopt_long(argc, argv, "d:n:k:l:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			run_dir = optarg;
			break;
		case 'n':
			if (bench_parse_u64(optarg, &iters) < 0 ||
			    iters < GM_BLOCKS) {
				fprintf(stderr, "bad --iters (>= %d): %s\n",
					GM_BLOCKS, optarg);
				return 1;
			}
			break;
		case 'k':
			if (bench_parse_u64(optarg, &k) < 0 || k == 0 ||
			    k > GM_MAX_PAGES) {
				fprintf(stderr, "bad --pages (1..%d): %s\n",
					GM_MAX_PAGES, optarg);
				return 1;
			}
			break;
		case 'l':
			hvd_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	hello = calloc(1, sizeof(*hello));
	c.buf = aligned_alloc(HV_PAGE_SIZE, HV_PAGE_SIZE);
	c.src = aligned_alloc(HV_PAGE_SIZE, HV_PAGE_SIZE);
	if (!hello || !c.buf || !c.src) {
		perror("alloc");
		goto out_free;
	}
	memset(c.src, 0xa5, HV_PAGE_SIZE);
	if (bench_hvd_start(&hvd, hvd_path, run_dir) < 0)
		goto out_free;
	if (pipe(p2c) < 0 || pipe(c2p) < 0) {
		perror("pipe");
		goto out;
	}
	child = fork();
	if (child < 0) {
		perror("fork");
		goto out;
	}
	if (child == 0) {
		close(p2c[1]);
		close(c2p[0]);
		_exit(gm_child(&hvd, (uint32_t)k, p2c[0], c2p[1]));
	}
	close(p2c[0]);
	close(c2p[1]);
	p2c[0] = c2p[1] = -1;

	dom0 = bench_open_dom0(&hvd);
	if (!dom0)
		goto out;
	if (bench_recv(c2p[0], hello, sizeof(*hello)) < 0 ||
	    hello->domid == UINT32_MAX || hello->count != k) {
		fprintf(stderr, "dom0: the guest could not share its pages\n");
		goto out;
	}
	c.gt = hv_gnttab_open(dom0);
	if (!c.gt) {
		fprintf(stderr, "dom0: hv_gnttab_open: %s\n", strerror(errno));
		goto out;
	}
	c.domid = (domid_t)hello->domid;
	c.k = (uint32_t)k;
	c.refs = hello->refs;

	for (r = 0; r < nmodes; r++)
		if (modes[r].prep)
			modes[r].rc = modes[r].prep(&c);
	for (b = 0; b < GM_BLOCKS; b++) {
		n = b + 1 < GM_BLOCKS
			    ? iters / GM_BLOCKS
			    : iters - (iters / GM_BLOCKS) * (GM_BLOCKS - 1);
		for (r = 0; r < nmodes; r++) {
			md = &modes[r];
			if (md->rc < 0)
				continue;
			t0 = bench_now();
			md->rc = md->run(&c, n);
			md->secs += bench_now() - t0;
		}
	}
	if (c.pc)
		gnt_pcache_get_stats(c.pc, &pst);

	printf("grant map: dom0 <- loop guest d%u, %llu pages granted, "
	       "%llu pages per mode in %d rounds\n",
	       c.domid, (unsigned long long)k, (unsigned long long)iters,
	       GM_BLOCKS);
	printf("%-34s %14s %10s %10s\n", "mode", "pages/s", "ns/page",
	       "vs memcpy");
	md = &modes[nmodes - 1];
	base = md->rc == 0 ? (double)iters / md->secs : 0;
	ret = 0;
	for (r = 0; r < nmodes; r++) {
		double rate;

		md = &modes[r];
		if (md->rc < 0) {
			printf("%-34s %14s   (%s)\n", md->name, "failed",
			       strerror(-md->rc));
			ret = 1;
			continue;
		}
		rate = (double)iters / md->secs;
		printf("%-34s %14.0f %10.1f %10.3f\n", md->name, rate,
		       1e9 / rate, base > 0 ? rate / base : 0.0);
	}
	if (c.pc)
		printf("pcache: %llu hits, %llu misses, %llu evictions\n",
		       (unsigned long long)pst.hits,
		       (unsigned long long)pst.misses,
		       (unsigned long long)pst.evictions);

out:
	/* Nothing of ours stays mapped: then the guest may unshare. */
	gnt_pcache_free(c.pc);
	hv_gnttab_close(c.gt);
	if (p2c[1] >= 0) {
		/* Release the guest: it unshares and exits. */
		bench_send(p2c[1], "x", 1);
		close(p2c[1]);
	}
	if (c2p[0] >= 0)
		close(c2p[0]);
	if (child > 0) {
		if (waitpid(child, &status, 0) == child && ret == 0 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			fprintf(stderr, "guest exited abnormally\n");
			ret = 1;
		}
	}
	hv_close(dom0);
	bench_hvd_stop(&hvd);
out_free:
	free(hello);
	free(c.buf);
	free(c.src);
	return ret;
}
