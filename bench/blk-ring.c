/*
 * blk-ring - blkback's data path on the loopback hypervisor against fio's
 * io_uring engine on the same file (doc/blkback-bench.md).
 *
 *   blk-ring [--size MIB] [--time SEC] [--warm MS] [--qd N] [--seq-qd N]
 *            [--rounds N] [--dir DIR] [--run-dir DIR] [--loophvd PATH] [--fio PATH]
 *
 * One run, one machine:
 *   - a backing file of --size MiB (default 512) in --dir (default
 *     /dev/shm), written once with a pattern (each 512-byte sector starts
 *     with its own sector number), so that every read is a real copy;
 *   - a private loophvd; dom0 (this process) serves one blkback device
 *     (blkback/libblkbk.a: blkbk_backing_open, blkbk_dev_new,
 *     blkbk_queue_connect) on a libevent loop;
 *   - the frontend is a forked child that becomes a loop guest: it shares
 *     an order-2 ring and its data pages (hv_gntshr_share), offers an event
 *     channel, passes ring refs and port to dom0 over a pipe, and keeps QD
 *     requests in flight: it refills every free slot as responses arrive
 *     and pushes the batch with one RING_PUSH_REQUESTS_AND_CHECK_NOTIFY
 *     (at most one notify per batch). Responses are checked: status OKAY,
 *     and the first word of the first and the last page of each request is
 *     the sector number the file holds there (poisoned before submitting);
 *   - workloads: 4 KiB random reads at --qd (32), and 1 MiB sequential reads
 *     as BLKIF_OP_INDIRECT with 256 segments at --seq-qd (4: 4 x 256
 *     grants fit in blkback's 1056-entry persistent-grant cache);
 *   - persistent grants on: the device's persistent bit set and the
 *     frontend reusing the same granted pages for every request (as
 *     blkfront does with feature-persistent). Off: the bit clear and the
 *     frontend granting every data and indirect page per request
 *     (hv_gntshr_grant_frame) and ending access when the response comes
 *     (as blkfront does without it);
 *   - baseline, same run: fio --ioengine=io_uring --direct=0 on the same
 *     file, same block size and depth, --output-format=json parsed with
 *     jansson. Without fio: "fio: not installed", ratios unavailable.
 *
 * Each run: --warm ms of warm-up (not counted), then --time s (3); the
 * in-flight requests are drained at the end and counted (the elapsed time
 * runs to the last response). --rounds (2) rounds of (fio, blkback
 * persistent on, blkback persistent off) per workload, summed: the three
 * alternate, so that other load on the machine hits each alike. The
 * targets the table judges: blkback >= 0.6x fio's IOPS (4 KiB random)
 * and >= 0.8x fio's bandwidth (1 MiB sequential).
 *
 * Exit status: 0 when every run completed (targets met or not), 1 on error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"
#include "blkback/common.h"
#include "evtchn/mux.h"

#define BB_RING_ORDER         2
#define BB_MAX_QD             128 /* 32 << BB_RING_ORDER: one ring's slots */
#define BB_SEQ_SEGS           256
#define BB_SEQ_BYTES          ((uint64_t)BB_SEQ_SEGS * HV_PAGE_SIZE)
#define BB_GUEST_MEM          (64ULL << 20)
#define BB_GUEST_GRANT_FRAMES 16
#define BB_TIMEOUT_MS         5000
#define BB_TARGET_IOPS        0.6
#define BB_TARGET_BW          0.8
#define BB_POISON             UINT64_MAX

enum bb_work {
	BB_RAND4K = 0,
	BB_SEQ1M,
	BB_NR_WORK,
};

/* dom0 -> guest: what to run next (quit: nothing, exit). */
struct bb_phase {
	uint32_t quit;
	uint32_t work;
	uint32_t persistent;
	uint32_t qd;
	uint32_t warm_ms;
	uint32_t run_ms;
	uint64_t file_bytes;
};

/* guest -> dom0: the ring of this phase. */
struct bb_setup {
	int32_t err; /* 0, or -errno: no ring */
	uint32_t domid;
	uint32_t order;
	int32_t port;
	uint32_t refs[1u << BB_RING_ORDER];
};

/* guest -> dom0: what the run measured. */
struct bb_result {
	int32_t err;  /* 0, or -errno: the run broke */
	uint64_t ios; /* responses counted (after the warm-up) */
	uint64_t bytes;
	uint64_t rsp_errors; /* status != BLKIF_RSP_OKAY */
	uint64_t bad_data; /* a page without the sector number it should hold */
	uint64_t notifies; /* guest -> dom0 */
	uint64_t waits;    /* times the guest slept on its event channel */
	double secs;
};

/* One cell group of the table: a configuration, summed over rounds. */
struct bb_figure {
	int ok;
	double ios, bytes, secs; /* iops = ios / secs, bytes/s = bytes / secs */
};

static double bb_iops(const struct bb_figure *f)
{
	return f->ios / f->secs;
}

static double bb_bps(const struct bb_figure *f)
{
	return f->bytes / f->secs;
}

/* ------------------------------------------------------------------ */
/* The guest: a blkfront that drives the ring directly                 */
/* ------------------------------------------------------------------ */

struct bb_guest {
	int rfd, wfd; /* pipes: from dom0, to dom0 */
	const struct bench_hvd *hvd;
	struct hv *hv;
	struct hv_gntshr *gs;
	struct hv_evtchn *ev;
	uint8_t *ram;      /* our own RAM (frame numbers for grants) */
	uint8_t *data;     /* data pool: shared once, writable to dom0 */
	grant_ref_t *refs; /* refs of the pool */
	uint32_t npages;
	/* the ring of the current phase */
	struct blkif_sring *sring;
	grant_ref_t ring_refs[1u << BB_RING_ORDER];
	int port;
	uint64_t rng;
};

/* Per slot (request id): its pages and, persistent off, its fresh refs. */
struct bb_slot {
	uint64_t sector;
	uint32_t first; /* first data page in the pool */
	uint32_t npages;
	uint32_t ind; /* indirect page in the pool (1 MiB) */
	int inflight;
	grant_ref_t tmp[BB_SEQ_SEGS + 1]; /* persistent off: data..., ind */
};

static uint64_t bb_rand(struct bb_guest *g)
{
	/* xorshift64: enough for offsets, the same sequence every run */
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static uint8_t *bb_page(const struct bb_guest *g, uint32_t i)
{
	return g->data + (size_t)i * HV_PAGE_SIZE;
}

static uint64_t bb_frame(const struct bb_guest *g, uint32_t i)
{
	return (uint64_t)(bb_page(g, i) - g->ram) >> HV_PAGE_SHIFT;
}

/* Grant the slot's pages for one request (persistent off). */
static int bb_grant_slot(struct bb_guest *g, struct bb_slot *s)
{
	uint32_t i, n = s->npages + (s->npages > 1 ? 1 : 0);
	int r;

	for (i = 0; i < n; i++) {
		uint32_t page = i < s->npages ? s->first + i : s->ind;

		r = hv_gntshr_grant_frame(g->gs, 0, bb_frame(g, page), 1);
		if (r < 0) {
			while (i--)
				hv_gntshr_end_access(g->gs, s->tmp[i]);
			return r;
		}
		s->tmp[i] = (grant_ref_t)r;
	}
	return 0;
}

static int bb_ungrant_slot(struct bb_guest *g, struct bb_slot *s)
{
	uint32_t i, n = s->npages + (s->npages > 1 ? 1 : 0);
	int r, err = 0;

	for (i = 0; i < n; i++) {
		r = hv_gntshr_end_access(g->gs, s->tmp[i]);
		if (r < 0 && err == 0)
			err = r; /* -EBUSY: dom0 still has it mapped */
	}
	return err;
}

/* Write request id (slot s) into the next ring slot. */
static int bb_issue(struct bb_guest *g, struct blkif_front_ring *fr,
		    const struct bb_phase *ph, struct bb_slot *s, uint32_t id)
{
	grant_ref_t ref_of_page0, ind_ref;
	uint64_t *w;
	uint32_t i;
	int rc;

	if (!ph->persistent) {
		rc = bb_grant_slot(g, s);
		if (rc < 0)
			return rc;
	}
	/* poison what the read must overwrite */
	w = (uint64_t *)(void *)bb_page(g, s->first);
	*w = BB_POISON;
	w = (uint64_t *)(void *)bb_page(g, s->first + s->npages - 1);
	*w = BB_POISON;

	ref_of_page0 = ph->persistent ? g->refs[s->first] : s->tmp[0];
	if (s->npages == 1) {
		struct blkif_request *rq =
			RING_GET_REQUEST(fr, fr->req_prod_pvt);

		rq->operation = BLKIF_OP_READ;
		rq->nr_segments = 1;
		rq->handle = 0;
		rq->id = id;
		rq->sector_number = s->sector;
		rq->seg[0].gref = ref_of_page0;
		rq->seg[0].first_sect = 0;
		rq->seg[0].last_sect = BLKBK_SECTORS_PER_PAGE - 1;
	} else {
		struct blkif_request_indirect *ri =
			(struct blkif_request_indirect *)
				RING_GET_REQUEST(fr, fr->req_prod_pvt);
		struct blkif_request_segment *seg =
			(struct blkif_request_segment *)(void *)bb_page(g,
									s->ind);

		for (i = 0; i < s->npages; i++) {
			seg[i].gref = ph->persistent ? g->refs[s->first + i]
						     : s->tmp[i];
			seg[i].first_sect = 0;
			seg[i].last_sect = BLKBK_SECTORS_PER_PAGE - 1;
		}
		ind_ref = ph->persistent ? g->refs[s->ind] : s->tmp[s->npages];
		ri->operation = BLKIF_OP_INDIRECT;
		ri->indirect_op = BLKIF_OP_READ;
		ri->nr_segments = (uint16_t)s->npages;
		ri->handle = 0;
		ri->id = id;
		ri->sector_number = s->sector;
		memset(ri->indirect_grefs, 0, sizeof(ri->indirect_grefs));
		ri->indirect_grefs[0] = ind_ref;
	}
	fr->req_prod_pvt++;
	s->inflight = 1;
	return 0;
}

/* A page of the file starts with its sector number (see bb_fill()). */
static int bb_check(const struct bb_guest *g, const struct bb_slot *s)
{
	uint64_t last =
		s->sector + (uint64_t)(s->npages - 1) * BLKBK_SECTORS_PER_PAGE;
	const uint64_t *w0 =
		(const uint64_t *)(const void *)bb_page(g, s->first);
	const uint64_t *wn =
		(const uint64_t *)(const void *)bb_page(g, s->first + s->npages -
								   1);

	return *w0 == s->sector && *wn == last;
}

/* Take every response there is; 0 or -errno (a bogus response). */
static int bb_harvest(struct bb_guest *g, struct blkif_front_ring *fr,
		      const struct bb_phase *ph, struct bb_slot *slots,
		      uint32_t *freel, uint32_t *nfree, int counting,
		      struct bb_result *res, uint32_t *got)
{
	RING_IDX rp, i;
	int rc;

	/* acquire: the response bodies before rsp_prod are read after it */
	rp = __atomic_load_n(&fr->sring->rsp_prod, __ATOMIC_ACQUIRE);
	if (rp - fr->rsp_cons > RING_SIZE(fr)) {
		fprintf(stderr, "guest: rsp_prod %u beyond the ring (cons %u)\n",
			rp, fr->rsp_cons);
		return -EPROTO;
	}
	*got = 0;
	for (i = fr->rsp_cons; i != rp; i++) {
		struct blkif_response r;
		struct bb_slot *s;

		memcpy(&r, RING_GET_RESPONSE(fr, i), sizeof(r));
		if (r.id >= ph->qd || !slots[r.id].inflight) {
			fprintf(stderr,
				"guest: response for id %llu not in "
				"flight\n",
				(unsigned long long)r.id);
			return -EPROTO;
		}
		s = &slots[r.id];
		s->inflight = 0;
		if (!ph->persistent) {
			rc = bb_ungrant_slot(g, s);
			if (rc < 0) {
				fprintf(stderr, "guest: end access: %s\n",
					strerror(-rc));
				return rc;
			}
		}
		if (r.status != BLKIF_RSP_OKAY)
			res->rsp_errors++;
		else if (!bb_check(g, s))
			res->bad_data++;
		if (counting) {
			res->ios++;
			res->bytes += (uint64_t)s->npages * HV_PAGE_SIZE;
		}
		freel[(*nfree)++] = (uint32_t)r.id;
		(*got)++;
	}
	fr->rsp_cons = rp;
	return 0;
}

/* One phase on the ring already set up; fills res. */
static int bb_run(struct bb_guest *g, const struct bb_phase *ph,
		  struct bb_result *res)
{
	struct blkif_front_ring fr;
	struct bb_slot *slots;
	uint32_t freel[BB_MAX_QD], nfree = 0, got, id, i;
	uint64_t file_pages = ph->file_bytes / HV_PAGE_SIZE, seq_next = 0;
	double now, t0 = 0, warm_end, end, t_last = 0;
	int notify, more, counting = 0, stop = 0, rc = 0;

	slots = calloc(ph->qd, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	FRONT_RING_INIT(&fr, g->sring, HV_PAGE_SIZE << BB_RING_ORDER);
	for (i = 0; i < ph->qd; i++) {
		if (ph->work == BB_RAND4K) {
			slots[i].first = i;
			slots[i].npages = 1;
		} else {
			slots[i].first = i * BB_SEQ_SEGS;
			slots[i].npages = BB_SEQ_SEGS;
			slots[i].ind = ph->qd * BB_SEQ_SEGS + i;
		}
		freel[nfree++] = ph->qd - 1 - i;
	}
	now = bench_now();
	warm_end = now + ph->warm_ms / 1000.0;
	end = warm_end + ph->run_ms / 1000.0;
	for (;;) {
		now = bench_now();
		if (!counting && now >= warm_end) {
			counting = 1;
			t0 = now;
		}
		if (now >= end)
			stop = 1;
		/* refill every free slot, then one push for the batch */
		while (!stop && nfree > 0) {
			id = freel[--nfree];
			if (ph->work == BB_RAND4K) {
				slots[id].sector = (bb_rand(g) % file_pages) *
						   BLKBK_SECTORS_PER_PAGE;
			} else {
				if (seq_next + BB_SEQ_BYTES > ph->file_bytes)
					seq_next = 0;
				slots[id].sector =
					seq_next >> BLKBK_SECTOR_SHIFT;
				seq_next += BB_SEQ_BYTES;
			}
			rc = bb_issue(g, &fr, ph, &slots[id], id);
			if (rc < 0) {
				fprintf(stderr, "guest: grant: %s\n",
					strerror(-rc));
				goto out;
			}
		}
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&fr, notify);
		if (notify) {
			res->notifies++;
			rc = hv_evtchn_notify(g->ev, (evtchn_port_t)g->port);
			if (rc < 0) {
				fprintf(stderr, "guest: notify: %s\n",
					strerror(-rc));
				goto out;
			}
		}
		if (stop && nfree == ph->qd)
			break;
		/* wait for at least one response */
		for (;;) {
			rc = bb_harvest(g, &fr, ph, slots, freel, &nfree,
					counting, res, &got);
			if (rc < 0)
				goto out;
			if (got)
				break;
			RING_FINAL_CHECK_FOR_RESPONSES(&fr, more);
			if (more)
				continue;
			res->waits++;
			rc = bench_evtchn_wait(g->ev, (evtchn_port_t)g->port,
					       BB_TIMEOUT_MS);
			if (rc < 0) {
				fprintf(stderr,
					"guest: no response from "
					"blkback: %s\n",
					strerror(-rc));
				goto out;
			}
		}
		t_last = bench_now();
	}
	res->secs = t_last - t0;
	rc = 0;
out:
	free(slots);
	return rc;
}

/* Drop the previous phase's ring and port (dom0 let go of both). */
static void bb_ring_drop(struct bb_guest *g)
{
	if (g->sring) {
		if (hv_gntshr_unshare(g->gs, g->sring, 1u << BB_RING_ORDER) < 0)
			fprintf(stderr, "guest: ring still mapped by dom0\n");
		g->sring = NULL;
	}
	if (g->port > 0) {
		hv_evtchn_unbind(g->ev, (evtchn_port_t)g->port);
		g->port = -1;
	}
}

static int bb_ring_new(struct bb_guest *g, struct bb_setup *su)
{
	uint32_t i;

	g->sring =
		hv_gntshr_share(g->gs, 0, 1u << BB_RING_ORDER, g->ring_refs, 1);
	if (!g->sring)
		return -errno;
	SHARED_RING_INIT(g->sring);
	g->port = hv_evtchn_alloc_unbound(g->ev, 0);
	if (g->port < 0)
		return g->port;
	su->domid = hv_domid(g->hv);
	su->order = BB_RING_ORDER;
	su->port = g->port;
	for (i = 0; i < (1u << BB_RING_ORDER); i++)
		su->refs[i] = g->ring_refs[i];
	return 0;
}

static int bb_guest_main(struct bb_guest *g)
{
	struct hv_guest_layout lay;
	struct bb_phase ph;
	struct bb_setup su;
	struct bb_result res;
	int32_t ack;
	int rc;

	g->port = -1;
	g->rng = 0x9e3779b97f4a7c15ULL;
	g->hv = bench_create_guest_sized(g->hvd, "bench-blk-ring", BB_GUEST_MEM,
					 BB_GUEST_GRANT_FRAMES);
	if (!g->hv)
		return 1;
	g->gs = hv_gntshr_open(g->hv);
	g->ev = hv_evtchn_open(g->hv);
	g->ram = hv_guest_ram(g->hv, &lay);
	if (!g->gs || !g->ev || !g->ram) {
		fprintf(stderr, "guest: gntshr/evtchn/ram: %s\n",
			strerror(errno));
		return 1;
	}
	/* enough for either workload: BB_MAX_QD 4 KiB pages, or seq-qd
	 * x (256 data + 1 indirect) pages */
	g->npages = g->npages ? g->npages : BB_MAX_QD;
	g->refs = calloc(g->npages, sizeof(*g->refs));
	if (!g->refs)
		return 1;
	g->data = hv_gntshr_share(g->gs, 0, g->npages, g->refs, 1);
	if (!g->data) {
		fprintf(stderr, "guest: share %u data pages: %s\n", g->npages,
			strerror(errno));
		return 1;
	}
	for (;;) {
		if (bench_recv(g->rfd, &ph, sizeof(ph)) < 0 || ph.quit)
			break;
		bb_ring_drop(g);
		memset(&su, 0, sizeof(su));
		su.err = bb_ring_new(g, &su);
		if (bench_send(g->wfd, &su, sizeof(su)) < 0 || su.err < 0)
			return 1;
		if (bench_recv(g->rfd, &ack, sizeof(ack)) < 0)
			return 1;
		if (ack < 0)
			continue; /* dom0 could not connect: it says why */
		memset(&res, 0, sizeof(res));
		rc = bb_run(g, &ph, &res);
		res.err = rc;
		if (bench_send(g->wfd, &res, sizeof(res)) < 0)
			return 1;
	}
	bb_ring_drop(g);
	hv_gntshr_unshare(g->gs, g->data, g->npages);
	free(g->refs);
	hv_evtchn_close(g->ev);
	hv_gntshr_close(g->gs);
	hv_close(g->hv);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The backing file                                                    */
/* ------------------------------------------------------------------ */

/*
 * bb_fill - size bytes of pattern: every 512-byte sector starts with its
 * sector number, the rest of it a mix of that number (nothing sparse,
 * nothing zero: each read copies real data).
 */
static int bb_fill(int fd, uint64_t size)
{
	const size_t chunk = 1u << 20;
	uint64_t *buf, off, w;
	ssize_t n;
	size_t i;

	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	for (off = 0; off < size; off += chunk) {
		for (i = 0; i < chunk / sizeof(*buf); i++) {
			w = (off + i * sizeof(*buf)) >> BLKBK_SECTOR_SHIFT;
			buf[i] = i % (BLKBK_SECTOR_SIZE / sizeof(*buf)) == 0
					 ? w
					 : w * 0x9e3779b97f4a7c15ULL + i;
		}
		n = pwrite(fd, buf, chunk, (off_t)off);
		if (n != (ssize_t)chunk) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
	}
	free(buf);
	return 0;
}

/* ------------------------------------------------------------------ */
/* fio                                                                 */
/* ------------------------------------------------------------------ */

/* Run argv, capture its stdout (stderr passes through). */
static int bb_capture(char *const argv[], char **out)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (!buf)
		return -ENOMEM;
	if (pipe(pfd) < 0) {
		free(buf);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		free(buf);
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(pfd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(buf);
		return -ECHILD;
	}
	*out = buf;
	return 0;
}

/* Is fio on PATH (or at path)? */
static int bb_have_fio(const char *fio)
{
	char *argv[] = { (char *)fio, (char *)"--version", NULL };
	char *out = NULL;
	int rc = bb_capture(argv, &out);

	free(out);
	return rc == 0;
}

/*
 * bb_fio - fio's io_uring engine on file: the workload's block size and
 * pattern at depth qd, buffered (--direct=0) like our backing, the same
 * warm-up (ramp) and run time. Parses jobs[0].read.{iops,bw_bytes}.
 */
static int bb_fio(const char *fio, const char *file, enum bb_work w, uint32_t qd,
		  uint32_t warm_ms, uint32_t run_ms, struct bb_figure *f)
{
	char a_file[4200], a_qd[32], a_run[32], a_ramp[32];
	char *argv[20], *out = NULL, *js;
	json_t *root, *rd;
	json_error_t jerr;
	int i = 0, rc;

	snprintf(a_file, sizeof(a_file), "--filename=%s", file);
	snprintf(a_qd, sizeof(a_qd), "--iodepth=%u", qd);
	snprintf(a_run, sizeof(a_run), "--runtime=%ums", run_ms);
	snprintf(a_ramp, sizeof(a_ramp), "--ramp_time=%ums", warm_ms);
	argv[i++] = (char *)fio;
	argv[i++] = (char *)"--name=blk-ring";
	argv[i++] = a_file;
	argv[i++] = (char *)"--ioengine=io_uring";
	argv[i++] = (char *)"--direct=0";
	argv[i++] = (char *)(w == BB_RAND4K ? "--rw=randread" : "--rw=read");
	argv[i++] = (char *)(w == BB_RAND4K ? "--bs=4k" : "--bs=1M");
	argv[i++] = a_qd;
	argv[i++] = (char *)"--time_based";
	argv[i++] = a_run;
	argv[i++] = a_ramp;
	argv[i++] = (char *)"--norandommap";
	argv[i++] = (char *)"--randrepeat=0";
	argv[i++] = (char *)"--invalidate=0";
	argv[i++] = (char *)"--output-format=json";
	argv[i] = NULL;
	rc = bb_capture(argv, &out);
	if (rc < 0) {
		fprintf(stderr, "fio failed (%s)\n", strerror(-rc));
		return rc;
	}
	/* fio may print a notice before the JSON */
	js = strchr(out, '{');
	root = js ? json_loads(js, JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
	rd = root ? json_object_get(json_array_get(json_object_get(root, "jobs"),
						   0),
				    "read")
		  : NULL;
	if (!rd || !json_is_number(json_object_get(rd, "iops")) ||
	    !json_is_integer(json_object_get(rd, "bw_bytes"))) {
		fprintf(stderr, "fio: no jobs[0].read.iops/bw_bytes in its "
				"output\n");
		json_decref(root);
		free(out);
		return -EPROTO;
	}
	/* fio's rates are over run_ms: weigh each round by its time */
	f->ios += json_number_value(json_object_get(rd, "iops")) * run_ms / 1e3;
	f->bytes += (double)json_integer_value(json_object_get(rd, "bw_bytes")) *
		    run_ms / 1e3;
	f->secs += run_ms / 1e3;
	f->ok = 1;
	json_decref(root);
	free(out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* dom0                                                                */
/* ------------------------------------------------------------------ */

struct bb_dom0 {
	struct hv *hv;
	struct hv_gnttab *gt;
	struct hv_evtchn *ev;
	struct evtchn_mux *mux;
	struct event_base *base;
	struct event *result_ev;
	int to_guest, from_guest;
	int disconnected;
};

static void bb_on_result(evutil_socket_t fd, short what, void *arg)
{
	struct bb_dom0 *d = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(d->base);
}

static void bb_on_disconnected(void *arg)
{
	struct bb_dom0 *d = arg;

	d->disconnected = 1;
	event_base_loopbreak(d->base);
}

/* One blkback run: device over a fresh backing, the guest drives it. */
static int bb_blkback(struct bb_dom0 *d, const char *file,
		      const struct bb_phase *ph, struct bb_figure *f,
		      struct blkbk_stats *st, struct bb_result *res)
{
	struct blkbk_dev_config cfg = { 0 };
	struct blkbk_backing *bk = NULL;
	struct blkbk_params p;
	struct blkbk_dev *dev;
	struct bb_setup su;
	grant_ref_t refs[1u << BB_RING_ORDER];
	const char *why = NULL;
	int32_t ack = 0;
	unsigned int i;
	int rc;

	if (bench_send(d->to_guest, ph, sizeof(*ph)) < 0 ||
	    bench_recv(d->from_guest, &su, sizeof(su)) < 0) {
		fprintf(stderr, "dom0: the guest is gone\n");
		return -EPIPE;
	}
	if (su.err < 0 || su.order != BB_RING_ORDER) {
		fprintf(stderr, "dom0: the guest has no ring: %s\n",
			strerror(-su.err));
		return -EPROTO;
	}
	rc = blkbk_params_parse(file, NULL, &p, &why);
	if (rc == 0)
		rc = blkbk_backing_open(d->base, &p, 1, BB_TIMEOUT_MS, &bk);
	if (rc < 0) {
		fprintf(stderr, "dom0: backing %s: %s\n", file,
			why ? why : strerror(-rc));
		ack = rc;
		bench_send(d->to_guest, &ack, sizeof(ack));
		return rc;
	}
	cfg.base = d->base;
	cfg.gnttab = d->gt;
	cfg.evtchn = d->ev;
	cfg.mux = d->mux;
	cfg.domid = (domid_t)su.domid;
	cfg.name = "vbd/51712";
	cfg.backing = bk;
	cfg.readonly = 1;
	cfg.persistent = ph->persistent ? 1 : 0;
	cfg.nr_queues = 1;
	dev = blkbk_dev_new(&cfg);
	if (!dev) {
		rc = -errno;
		fprintf(stderr, "dom0: blkbk_dev_new: %s\n", strerror(errno));
		ack = rc;
		bench_send(d->to_guest, &ack, sizeof(ack));
		return rc;
	}
	for (i = 0; i < (1u << BB_RING_ORDER); i++)
		refs[i] = su.refs[i];
	rc = blkbk_queue_connect(dev, 0, refs, su.order, (evtchn_port_t)su.port,
				 BLKBK_ABI_NATIVE);
	if (rc < 0) {
		fprintf(stderr, "dom0: blkbk_queue_connect: %s\n",
			strerror(-rc));
		ack = rc;
		bench_send(d->to_guest, &ack, sizeof(ack));
		blkbk_dev_free(dev);
		return rc;
	}
	if (bench_send(d->to_guest, &ack, sizeof(ack)) < 0) {
		blkbk_dev_free(dev);
		return -EPIPE;
	}
	/* serve until the guest reports */
	event_add(d->result_ev, NULL);
	event_base_dispatch(d->base);
	event_del(d->result_ev);
	rc = bench_recv(d->from_guest, res, sizeof(*res));
	blkbk_dev_get_stats(dev, st);
	d->disconnected = 0;
	if (blkbk_dev_disconnect(dev, bb_on_disconnected, d) == 1) {
		while (!d->disconnected)
			event_base_dispatch(d->base);
	}
	blkbk_dev_free(dev);
	if (rc < 0 || res->err < 0) {
		fprintf(stderr, "dom0: the run failed: %s\n",
			strerror(rc < 0 ? -rc : -res->err));
		return rc < 0 ? rc : res->err;
	}
	if (res->rsp_errors || res->bad_data || res->secs <= 0) {
		fprintf(stderr,
			"dom0: %llu error responses, %llu pages with wrong "
			"data\n",
			(unsigned long long)res->rsp_errors,
			(unsigned long long)res->bad_data);
		return -EIO;
	}
	f->ios += (double)res->ios;
	f->bytes += (double)res->bytes;
	f->secs += res->secs;
	f->ok = 1;
	return 0;
}

static int bb_dom0_open(struct bb_dom0 *d, const struct bench_hvd *hvd)
{
	d->hv = bench_open_dom0(hvd);
	if (!d->hv)
		return -1;
	d->gt = hv_gnttab_open(d->hv);
	d->ev = hv_evtchn_open(d->hv);
	d->base = event_base_new();
	if (!d->gt || !d->ev || !d->base) {
		fprintf(stderr, "dom0: gnttab/evtchn/event base: %s\n",
			strerror(errno));
		return -1;
	}
	d->mux = evtchn_mux_new(d->base, d->ev);
	d->result_ev =
		event_new(d->base, d->from_guest, EV_READ, bb_on_result, d);
	if (!d->mux || !d->result_ev) {
		fprintf(stderr, "dom0: mux/event: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void bb_dom0_close(struct bb_dom0 *d)
{
	if (d->result_ev)
		event_free(d->result_ev);
	if (d->mux)
		evtchn_mux_free(d->mux);
	if (d->base)
		event_base_free(d->base);
	hv_evtchn_close(d->ev);
	hv_gnttab_close(d->gt);
	hv_close(d->hv);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

static const char *bb_work_name[BB_NR_WORK] = {
	[BB_RAND4K] = "4 KiB random read",
	[BB_SEQ1M] = "1 MiB sequential read",
};

/* What every run of one workload shares. */
struct bb_opts {
	const char *file, *fio; /* fio NULL: not installed */
	enum bb_work work;
	uint32_t depth, warm_ms, run_ms;
	uint64_t file_bytes;
};

/* One round of a workload: fio, blkback persistent on, off. */
static int bb_round(struct bb_dom0 *d, const struct bb_opts *o,
		    unsigned int round, struct bb_figure fig[3])
{
	struct blkbk_stats st;
	struct bb_result res;
	struct bb_phase ph;
	int m;

	if (o->fio && bb_fio(o->fio, o->file, o->work, o->depth, o->warm_ms,
			     o->run_ms, &fig[2]) < 0)
		return -1;
	for (m = 0; m < 2; m++) {
		memset(&ph, 0, sizeof(ph));
		ph.work = o->work;
		ph.persistent = m == 0;
		ph.qd = o->depth;
		ph.warm_ms = o->warm_ms;
		ph.run_ms = o->run_ms;
		ph.file_bytes = o->file_bytes;
		memset(&res, 0, sizeof(res));
		if (bb_blkback(d, o->file, &ph, &fig[m], &st, &res) < 0)
			return -1;
		fprintf(stderr,
			"  round %u: %s QD%u persistent %s: %llu requests in "
			"%.2f s; guest: %llu notifies, %llu waits; blkback: "
			"%llu notifies out, pgrant %llu hits %llu misses %llu "
			"fallbacks\n",
			round + 1, bb_work_name[o->work], o->depth,
			m == 0 ? "on" : "off", (unsigned long long)res.ios,
			res.secs, (unsigned long long)res.notifies,
			(unsigned long long)res.waits,
			(unsigned long long)st.notifies_out,
			(unsigned long long)st.pgrant_hits,
			(unsigned long long)st.pgrant_misses,
			(unsigned long long)st.pgrant_fallbacks);
	}
	return 0;
}

static void bb_ratio(char *buf, size_t len, const struct bb_figure *a,
		     const struct bb_figure *b, int iops)
{
	if (!a->ok || !b->ok)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.2fx",
			 iops ? bb_iops(a) / bb_iops(b) : bb_bps(a) / bb_bps(b));
}

/* target of the workload: IOPS for 4 KiB random, bandwidth for 1 MiB */
static const char *bb_verdict(const struct bb_figure *a,
			      const struct bb_figure *raw, enum bb_work w)
{
	double r;

	if (!a->ok || !raw->ok)
		return "unavailable";
	r = w == BB_RAND4K ? bb_iops(a) / bb_iops(raw) : bb_bps(a) / bb_bps(raw);
	return r >= (w == BB_RAND4K ? BB_TARGET_IOPS : BB_TARGET_BW)
		       ? "met"
		       : "NOT met";
}

static void bb_fig(char *buf, size_t len, const struct bb_figure *f, int iops)
{
	if (!f->ok)
		snprintf(buf, len, "-");
	else if (iops)
		snprintf(buf, len, "%.0f", bb_iops(f));
	else
		snprintf(buf, len, "%.2f", bb_bps(f) / 1e9);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: blk-ring [--size MIB] [--time SEC] [--warm MS] [--qd N] "
		"[--seq-qd N]\n"
		"                [--rounds N] [--dir DIR] [--run-dir DIR] "
		"[--loophvd PATH] [--fio PATH]\n"
		"  blkback through a loopback guest's ring vs fio io_uring on "
		"the same file.\n"
		"  defaults: 512 MiB in /dev/shm, 2 rounds of 3 s runs after "
		"500 ms warm-up,\n"
		"  QD 32 (4 KiB random), QD 4 (1 MiB sequential)\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "warm", required_argument, NULL, 'w' },
		{ "qd", required_argument, NULL, 'q' },
		{ "seq-qd", required_argument, NULL, 'Q' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'D' },
		{ "run-dir", required_argument, NULL, 'd' },
		{ "loophvd", required_argument, NULL, 'l' },
		{ "fio", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *run_dir = NULL, *hvd_path = NULL, *dir = "/dev/shm";
	const char *fio = "fio";
	uint64_t size_mib = 512, secs = 3, warm_ms = 500, qd = 32, seq_qd = 4;
	uint64_t rounds = 2;
	uint64_t *setp;
	struct bb_figure fig[BB_NR_WORK][3]; /* pers. on, off, fio */
	struct bb_opts o = { 0 };
	struct bb_guest g = { 0 };
	struct bb_dom0 d = { 0 };
	struct bench_hvd hvd = { .pid = -1 };
	struct bb_phase ph;
	char file[4200] = "", c1[32], c2[32], c3[32], r1[16], r2[16];
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	int c, fd = -1, status, have_fio, ret = 1, rc, w, m;
	unsigned int r;
	double t_start = bench_now();
	pid_t child = -1;

	while ((c = getopt_long(argc, argv, "s:t:w:q:Q:r:D:d:l:f:h", lopts,
				NULL)) != -1) {
		setp = NULL;
		switch (c) {
		case 's':
			setp = &size_mib;
			break;
		case 't':
			setp = &secs;
			break;
		case 'w':
			setp = &warm_ms;
			break;
		case 'q':
			setp = &qd;
			break;
		case 'Q':
			setp = &seq_qd;
			break;
		case 'r':
			setp = &rounds;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'd':
			run_dir = optarg;
			break;
		case 'l':
			hvd_path = optarg;
			break;
		case 'f':
			fio = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
		if (setp && bench_parse_u64(optarg, setp) < 0) {
			fprintf(stderr, "bad number: %s\n", optarg);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	/* the 1 MiB pool: seq-qd x 257 pages in a 64 MiB guest; 16 grant
	 * frames hold the pool plus the per-request grants of persistent off */
	if (size_mib < 2 || size_mib > (1u << 20) || secs < 1 || secs > 600 ||
	    warm_ms > 60000 || qd < 1 || qd > BB_MAX_QD || seq_qd < 1 ||
	    seq_qd > 16 || rounds < 1 || rounds > 100) {
		fprintf(stderr,
			"out of range: --size 2.., --time 1..600, "
			"--warm ..60000, --qd 1..%d, --seq-qd 1..16, "
			"--rounds 1..100\n",
			BB_MAX_QD);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(fig, 0, sizeof(fig));

	/* the backing file, filled once */
	snprintf(file, sizeof(file), "%s/splitdrv-blk-ring.XXXXXX", dir);
	fd = mkstemp(file);
	if (fd < 0) {
		fprintf(stderr, "mkstemp %s: %s\n", file, strerror(errno));
		file[0] = '\0';
		goto out;
	}
	rc = bb_fill(fd, size_mib << 20);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "fill %s: %s\n", file, strerror(-rc));
		goto out;
	}

	if (bench_hvd_start(&hvd, hvd_path, run_dir) < 0)
		goto out;
	if (pipe(p2c) < 0 || pipe(c2p) < 0) {
		perror("pipe");
		goto out;
	}
	/* Fork before opening dom0: the guest must not share its socket. */
	child = fork();
	if (child < 0) {
		perror("fork");
		goto out;
	}
	if (child == 0) {
		close(p2c[1]);
		close(c2p[0]);
		g.rfd = p2c[0];
		g.wfd = c2p[1];
		g.hvd = &hvd;
		g.npages = (uint32_t)seq_qd * (BB_SEQ_SEGS + 1);
		if (g.npages < BB_MAX_QD)
			g.npages = BB_MAX_QD;
		_exit(bb_guest_main(&g));
	}
	close(p2c[0]);
	close(c2p[1]);
	p2c[0] = c2p[1] = -1;
	d.to_guest = p2c[1];
	d.from_guest = c2p[0];
	if (bb_dom0_open(&d, &hvd) < 0)
		goto out;

	have_fio = bb_have_fio(fio);
	o.file = file;
	o.fio = have_fio ? fio : NULL;
	o.warm_ms = (uint32_t)warm_ms;
	o.run_ms = (uint32_t)(secs * 1000);
	o.file_bytes = size_mib << 20;
	/* rounds alternate the three runs: a change of load on the machine
	 * lands on all of them alike */
	for (w = 0; w < BB_NR_WORK; w++) {
		o.work = (enum bb_work)w;
		o.depth = (uint32_t)(w == BB_RAND4K ? qd : seq_qd);
		for (r = 0; r < rounds; r++) {
			if (bb_round(&d, &o, r, fig[w]) < 0)
				goto out;
		}
	}
	memset(&ph, 0, sizeof(ph));
	ph.quit = 1;
	bench_send(d.to_guest, &ph, sizeof(ph));

	printf("blkback (loop guest driving the ring, order-%d ring) vs fio "
	       "io_uring, one run:\n"
	       "  %llu MiB file in %s, %ld CPUs online; %llu rounds of "
	       "(fio, persistent on, off), %llu s each after %llu ms "
	       "warm-up\n",
	       BB_RING_ORDER, (unsigned long long)size_mib, dir,
	       sysconf(_SC_NPROCESSORS_ONLN), (unsigned long long)rounds,
	       (unsigned long long)secs, (unsigned long long)warm_ms);
	if (!have_fio)
		printf("fio: not installed\n");
	printf("%-26s %-5s %12s %12s %12s %8s %8s %-7s %s\n", "workload", "",
	       "blkback", "blkback", "fio", "pers.on", "pers.off", "target",
	       "met (on / off)");
	printf("%-26s %-5s %12s %12s %12s %8s %8s\n", "", "", "pers. on",
	       "pers. off", "io_uring", "/ fio", "/ fio");
	for (w = 0; w < BB_NR_WORK; w++) {
		uint64_t depth = w == BB_RAND4K ? qd : seq_qd;
		char name[64];

		snprintf(name, sizeof(name), "%s QD%llu", bb_work_name[w],
			 (unsigned long long)depth);
		for (m = 0; m < 2; m++) {
			int iops = m == 0;
			int target = (w == BB_RAND4K) == iops;
			char tg[16] = "", vd[32] = "";

			bb_fig(c1, sizeof(c1), &fig[w][0], iops);
			bb_fig(c2, sizeof(c2), &fig[w][1], iops);
			bb_fig(c3, sizeof(c3), &fig[w][2], iops);
			bb_ratio(r1, sizeof(r1), &fig[w][0], &fig[w][2], iops);
			bb_ratio(r2, sizeof(r2), &fig[w][1], &fig[w][2], iops);
			if (target) {
				snprintf(tg, sizeof(tg), ">= %.1fx",
					 iops ? BB_TARGET_IOPS : BB_TARGET_BW);
				snprintf(vd, sizeof(vd), "%s / %s",
					 bb_verdict(&fig[w][0], &fig[w][2],
						    (enum bb_work)w),
					 bb_verdict(&fig[w][1], &fig[w][2],
						    (enum bb_work)w));
			}
			printf("%-26s %-5s %12s %12s %12s %8s %8s %-7s %s\n",
			       m == 0 ? name : "", iops ? "IOPS" : "GB/s", c1,
			       c2, c3, r1, r2, tg, vd);
		}
	}
	printf("(whole run: %.1f s)\n", bench_now() - t_start);
	ret = 0;

out:
	if (p2c[1] >= 0)
		close(p2c[1]); /* the guest sees EOF if it still waits */
	if (c2p[0] >= 0)
		close(c2p[0]);
	if (child > 0) {
		if (ret != 0)
			kill(child, SIGTERM);
		if (waitpid(child, &status, 0) == child && ret == 0 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			fprintf(stderr, "guest exited abnormally\n");
			ret = 1;
		}
	}
	bb_dom0_close(&d);
	bench_hvd_stop(&hvd);
	if (file[0])
		unlink(file);
	return ret;
}
