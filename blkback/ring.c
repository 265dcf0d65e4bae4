/*
 * ring.c - blkback's data path: one device, 1..16 queues, each a shared
 * request ring (2^0..2^4 pages) plus an event channel.
 *
 * Design note: what we trust and when.
 *
 * Everything in the ring pages and in indirect pages is written by the
 * guest and may change under us at any moment. So, per pass over a ring:
 *
 *   1. req_prod is read once (acquire: the slots it covers are read after
 *      it). If it claims more requests than fit between our last response
 *      and the end of the ring (RING_REQUEST_PROD_OVERFLOW), the guest
 *      corrupted its ring: this queue is halted, logged, and nothing more
 *      is read from it. Other queues and devices go on.
 *   2. Each slot is copied once into private memory with RING_COPY_REQUEST
 *      (the ABI's layout: native, x86_32, x86_64), then decoded into
 *      struct blkbk_req. From here only the copy is used: rewriting the
 *      slot changes nothing.
 *   3. The copy is validated (blkbk_req_check): operation known and
 *      offered, segment count, read-only device. An indirect request's
 *      segment pages are grant-copied once into private memory (no
 *      mapping), and the copied segments are validated
 *      (blkbk_req_check_segs): first_sect <= last_sect <= 7, the whole
 *      sector range within the device.
 *   4. Data pages are mapped by grant: one batched hv_gnttab_map per
 *      request (read-only for a write: we only read the guest's data), or
 *      persistent mappings from the gnt_pcache. A ref that does not map
 *      (not granted, granted to someone else, read-only for a read) is an
 *      error response, and nothing stays mapped.
 *   5. Any invalid request gets BLKIF_RSP_ERROR (or EOPNOTSUPP for an
 *      operation not offered) and a log line, rate-limited per queue.
 *
 * Worked example: a guest pushes req_prod = rsp_prod_pvt + 33 on a one-page
 * ring (32 slots). 33 > 32, so step 1 halts this queue; a second guest's
 * device, or this device's other queues, keep being served.
 *
 * Batching: a pass takes up to BLKBK_BATCH requests, submits them to the
 * backing with one kick (one io_uring_submit), and yields to the event loop
 * if more remain. Completions arrive in batches from the backing; each
 * writes its response into the ring, and the responses of a batch are
 * pushed with one RING_PUSH_RESPONSES_AND_CHECK_NOTIFY and at most one
 * notify per queue.
 *
 * Barriers: BLKIF_OP_WRITE_BARRIER stops the consumption of the queue until
 * all earlier requests have completed, then writes (if it has segments),
 * then flushes, then answers, and consumption resumes.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "blkback/common.h"
#include "evtchn/mux.h"
#include "gntdev/pcache.h"

#define BLKBK_BATCH 64

/* A request fills its slot in every layout (copy_request relies on it). */
_Static_assert(sizeof(struct blkif_request) == sizeof(union blkif_sring_entry),
	       "slot");
_Static_assert(sizeof(struct blkif_x86_32_request) ==
		       sizeof(union blkif_x86_32_sring_entry),
	       "slot x32");
_Static_assert(sizeof(struct blkif_x86_64_request) ==
		       sizeof(union blkif_x86_64_sring_entry),
	       "slot x64");

enum pend_stage {
	PEND_IO = 0,        /* one backing io, then respond */
	PEND_BARRIER_WRITE, /* barrier: write done, flush next */
	PEND_BARRIER_FLUSH,
};

/* One request between its copy out of the ring and its response. */
struct blkbk_pending {
	struct blkbk_queue *q;
	struct blkbk_req req;
	struct blkbk_io io;
	enum pend_stage stage;
	uint8_t stat_op;
	void *map;           /* batch mapping of nr_segments pages, or NULL */
	uint16_t nr_pgrants; /* held pcache entries: req.seg[0..nr_pgrants) */
	uint64_t t_start_ns;
	struct blkbk_pending *next; /* free list */
	struct iovec iov[BLKBK_MAX_INDIRECT_SEGS];
};

struct blkbk_queue {
	struct blkbk_dev *d;
	unsigned int idx;
	unsigned int connected : 1;
	unsigned int halted : 1;
	unsigned int bound : 1;
	enum blkbk_abi abi;
	size_t slot_size;
	void *ring_map;
	unsigned int order;
	/* Index bookkeeping only: the shared header is the same in every
	 * ABI, so the native back ring type serves the RING_* index macros;
	 * requests are copied through a ring of the ABI's type
	 * (copy_request), responses written at slot_size. */
	blkif_back_ring_t br;
	evtchn_port_t port;
	struct gnt_pcache *pcache;
	unsigned int inflight;    /* consumed, not yet answered */
	unsigned int io_inflight; /* of those, with a backing io */
	unsigned int rsp_dirty : 1;
	struct blkbk_pending *barrier; /* waiting for io_inflight == 0 */
	struct blkbk_pending *free_list;
	struct event *resume_ev;
	struct blkbk_stats st;
	struct log_ratelimit rl;
};

struct blkbk_dev {
	struct blkbk_dev_config cfg;
	char name[64];
	struct blkbk_limits limits;
	struct blkbk_backing *backing;
	struct blkbk_queue q[BLKBK_MAX_QUEUES];
	unsigned int nr_queues;
	unsigned int disconnecting : 1;
	void (*disc_done)(void *);
	void *disc_arg;
	struct event *disc_ev;
};

/* ------------------------------------------------------------------ */
/* ABI                                                                 */
/* ------------------------------------------------------------------ */

int blkbk_parse_protocol(const char *s, enum blkbk_abi *out)
{
	if (!s || !*s || strcmp(s, XEN_IO_PROTO_ABI_NATIVE) == 0)
		*out = BLKBK_ABI_NATIVE;
	else if (strcmp(s, XEN_IO_PROTO_ABI_X86_32) == 0)
		*out = BLKBK_ABI_X86_32;
	else if (strcmp(s, XEN_IO_PROTO_ABI_X86_64) == 0)
		*out = BLKBK_ABI_X86_64;
	else
		return -EINVAL;
	return 0;
}

const char *blkbk_abi_name(enum blkbk_abi abi)
{
	switch (abi) {
	case BLKBK_ABI_X86_32:
		return XEN_IO_PROTO_ABI_X86_32;
	case BLKBK_ABI_X86_64:
		return XEN_IO_PROTO_ABI_X86_64;
	default:
		return "native";
	}
}

static size_t abi_slot_size(enum blkbk_abi abi)
{
	switch (abi) {
	case BLKBK_ABI_X86_32:
		return sizeof(union blkif_x86_32_sring_entry);
	case BLKBK_ABI_X86_64:
		return sizeof(union blkif_x86_64_sring_entry);
	default:
		return sizeof(union blkif_sring_entry);
	}
}

unsigned int blkbk_ring_size(enum blkbk_abi abi, unsigned int order)
{
	size_t bytes = HV_PAGE_SIZE << order;

	switch (abi) {
	case BLKBK_ABI_X86_32:
		return __CONST_RING_SIZE(blkif_x86_32, bytes);
	case BLKBK_ABI_X86_64:
		return __CONST_RING_SIZE(blkif_x86_64, bytes);
	default:
		return __CONST_RING_SIZE(blkif, bytes);
	}
}

/*
 * One translator for the three layouts: the field names are the same, only
 * offsets differ, so the code is written once and instantiated per ABI.
 * slot is private memory (the copy), never the ring.
 */
#define BLKBK_DECODE(slot, r, REQ, DISC, IND)                                            \
	do {                                                                             \
		REQ rq_;                                                                 \
		memcpy(&rq_, (slot), sizeof(rq_));                                       \
		(r)->operation = rq_.operation;                                          \
		if (rq_.operation == BLKIF_OP_DISCARD) {                                 \
			DISC dq_;                                                        \
			memcpy(&dq_, (slot), sizeof(dq_));                               \
			(r)->op = BLKIF_OP_DISCARD;                                      \
			(r)->discard_flag = dq_.flag;                                    \
			(r)->handle = dq_.handle;                                        \
			(r)->id = dq_.id;                                                \
			(r)->sector = dq_.sector_number;                                 \
			(r)->nr_sectors = dq_.nr_sectors;                                \
		} else if (rq_.operation == BLKIF_OP_INDIRECT) {                         \
			IND iq_;                                                         \
			memcpy(&iq_, (slot), sizeof(iq_));                               \
			(r)->op = iq_.indirect_op;                                       \
			(r)->nr_segments = iq_.nr_segments;                              \
			(r)->handle = iq_.handle;                                        \
			(r)->id = iq_.id;                                                \
			(r)->sector = iq_.sector_number;                                 \
			memcpy((r)->indirect_grefs, iq_.indirect_grefs,                  \
			       sizeof((r)->indirect_grefs));                             \
		} else {                                                                 \
			(r)->op = rq_.operation;                                         \
			(r)->nr_segments = rq_.nr_segments;                              \
			(r)->handle = rq_.handle;                                        \
			(r)->id = rq_.id;                                                \
			(r)->sector = rq_.sector_number;                                 \
			memcpy((r)->seg, rq_.seg,                                        \
			       sizeof(rq_.seg[0]) *                                      \
				       (rq_.nr_segments < BLKIF_MAX_SEGMENTS_PER_REQUEST \
						? rq_.nr_segments                        \
						: BLKIF_MAX_SEGMENTS_PER_REQUEST));      \
		}                                                                        \
	} while (0)

void blkbk_req_decode(enum blkbk_abi abi, const void *slot, struct blkbk_req *r)
{
	memset(r, 0, offsetof(struct blkbk_req, seg));
	switch (abi) {
	case BLKBK_ABI_X86_32:
		BLKBK_DECODE(slot, r, struct blkif_x86_32_request,
			     struct blkif_x86_32_request_discard,
			     struct blkif_x86_32_request_indirect);
		break;
	case BLKBK_ABI_X86_64:
		BLKBK_DECODE(slot, r, struct blkif_x86_64_request,
			     struct blkif_x86_64_request_discard,
			     struct blkif_x86_64_request_indirect);
		break;
	default:
		BLKBK_DECODE(slot, r, struct blkif_request,
			     struct blkif_request_discard,
			     struct blkif_request_indirect);
		break;
	}
}

#define BLKBK_ENCODE_RSP(dst, RSP, id_, op_, st_)                              \
	do {                                                                   \
		RSP rs_;                                                       \
		memset(&rs_, 0, sizeof(rs_));                                  \
		rs_.id = (id_);                                                \
		rs_.operation = (op_);                                         \
		rs_.status = (st_);                                            \
		memcpy((dst), &rs_, sizeof(rs_));                              \
	} while (0)

/* Write one response into the ring slot at idx (written once). */
static void put_response(struct blkbk_queue *q, RING_IDX idx, uint64_t id,
			 uint8_t op, int16_t status)
{
	void *slot = (char *)q->br.sring->ring +
		     (size_t)(idx & (q->br.nr_ents - 1)) * q->slot_size;

	switch (q->abi) {
	case BLKBK_ABI_X86_32:
		BLKBK_ENCODE_RSP(slot, struct blkif_x86_32_response, id, op,
				 status);
		break;
	case BLKBK_ABI_X86_64:
		BLKBK_ENCODE_RSP(slot, struct blkif_x86_64_response, id, op,
				 status);
		break;
	default:
		BLKBK_ENCODE_RSP(slot, struct blkif_response, id, op, status);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* start + count within [0, limit) without wrapping */
static int range_ok(uint64_t start, uint64_t count, uint64_t limit)
{
	return start <= limit && count <= limit - start;
}

int blkbk_req_check(const struct blkbk_req *r, const struct blkbk_limits *l,
		    const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	switch (r->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		if (r->nr_segments == 0 ||
		    r->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			*why = "nr_segments out of 1..11";
			return BLKIF_RSP_ERROR;
		}
		if (r->operation == BLKIF_OP_WRITE && l->readonly) {
			*why = "write to a read-only device";
			return BLKIF_RSP_ERROR;
		}
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_WRITE_BARRIER:
		if (!l->barrier) {
			*why = "barrier not offered";
			return BLKIF_RSP_EOPNOTSUPP;
		}
		if (l->readonly) {
			*why = "barrier write to a read-only device";
			return BLKIF_RSP_ERROR;
		}
		if (r->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			*why = "nr_segments over 11";
			return BLKIF_RSP_ERROR;
		}
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_FLUSH_DISKCACHE:
		if (!l->flush) {
			*why = "flush not offered";
			return BLKIF_RSP_EOPNOTSUPP;
		}
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_DISCARD:
		if (!l->discard) {
			*why = "discard not offered";
			return BLKIF_RSP_EOPNOTSUPP;
		}
		if (l->readonly) {
			*why = "discard on a read-only device";
			return BLKIF_RSP_ERROR;
		}
		if (!range_ok(r->sector, r->nr_sectors, l->sectors)) {
			*why = "discard beyond the end of the device";
			return BLKIF_RSP_ERROR;
		}
		if (l->sector_size > BLKBK_SECTOR_SIZE) {
			uint64_t mask = l->sector_size / BLKBK_SECTOR_SIZE - 1;

			if ((r->sector | r->nr_sectors) & mask) {
				*why = "discard not aligned to the sector size";
				return BLKIF_RSP_ERROR;
			}
		}
		return BLKIF_RSP_OKAY;
	case BLKIF_OP_INDIRECT:
		if (!l->max_indirect_segs) {
			*why = "indirect not offered";
			return BLKIF_RSP_EOPNOTSUPP;
		}
		if (r->op != BLKIF_OP_READ && r->op != BLKIF_OP_WRITE) {
			*why = "indirect_op not read or write";
			return BLKIF_RSP_ERROR;
		}
		if (r->nr_segments == 0 ||
		    r->nr_segments > l->max_indirect_segs) {
			*why = "indirect nr_segments out of range";
			return BLKIF_RSP_ERROR;
		}
		if (r->op == BLKIF_OP_WRITE && l->readonly) {
			*why = "write to a read-only device";
			return BLKIF_RSP_ERROR;
		}
		return BLKIF_RSP_OKAY;
	default:
		*why = "unknown operation";
		return BLKIF_RSP_EOPNOTSUPP;
	}
}

int blkbk_req_check_segs(struct blkbk_req *r, const struct blkbk_limits *l,
			 const char **why)
{
	uint64_t total = 0;
	uint64_t mask = l->sector_size > BLKBK_SECTOR_SIZE
				? l->sector_size / BLKBK_SECTOR_SIZE - 1
				: 0;
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (r->nr_segments > BLKBK_MAX_INDIRECT_SEGS) {
		*why = "too many segments";
		return BLKIF_RSP_ERROR;
	}
	for (unsigned int i = 0; i < r->nr_segments; i++) {
		const struct blkif_request_segment *s = &r->seg[i];

		if (s->last_sect >= BLKBK_SECTORS_PER_PAGE) {
			*why = "last_sect beyond the page";
			return BLKIF_RSP_ERROR;
		}
		if (s->first_sect > s->last_sect) {
			*why = "first_sect after last_sect";
			return BLKIF_RSP_ERROR;
		}
		if ((s->first_sect | (uint64_t)(s->last_sect + 1)) & mask) {
			*why = "segment not aligned to the sector size";
			return BLKIF_RSP_ERROR;
		}
		total += (uint64_t)(s->last_sect - s->first_sect + 1);
	}
	if (r->sector & mask) {
		*why = "sector not aligned to the sector size";
		return BLKIF_RSP_ERROR;
	}
	if (!range_ok(r->sector, total, l->sectors)) {
		*why = "sector range beyond the end of the device";
		return BLKIF_RSP_ERROR;
	}
	r->nr_sectors = total;
	return BLKIF_RSP_OKAY;
}

/* ------------------------------------------------------------------ */
/* Stats                                                               */
/* ------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stat_latency(struct blkbk_stats *st, uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int b = 0;

	while (b < BLKBK_LAT_BUCKETS - 1 && us >= (1ull << (b + 4)))
		b++;
	st->lat_us[b]++;
}

struct json_t *blkbk_stats_json(const struct blkbk_stats *st)
{
	static const char *const opname[BLKBK_ST_NR] = { "read",    "write",
							 "flush",   "barrier",
							 "discard", "indirect",
							 "other" };
	json_t *o = json_object(), *reqs = json_object(), *lat = json_array();

	if (!o || !reqs || !lat) {
		json_decref(o);
		json_decref(reqs);
		json_decref(lat);
		return NULL;
	}
	for (int i = 0; i < BLKBK_ST_NR; i++)
		json_object_set_new(reqs, opname[i],
				    json_integer((json_int_t)st->reqs[i]));
	for (int i = 0; i < BLKBK_LAT_BUCKETS; i++) {
		json_t *b = json_object();

		if (i < BLKBK_LAT_BUCKETS - 1)
			json_object_set_new(b, "lt_us",
					    json_integer(1ll << (i + 4)));
		else
			json_object_set_new(b, "lt_us", json_null());
		json_object_set_new(b, "count",
				    json_integer((json_int_t)st->lat_us[i]));
		json_array_append_new(lat, b);
	}
	json_object_set_new(o, "requests", reqs);
#define J(f) json_object_set_new(o, #f, json_integer((json_int_t)st->f))
	J(bytes_read);
	J(bytes_written);
	J(sectors_discarded);
	J(errors);
	J(eopnotsupp);
	J(invalid);
	J(grant_errors);
	J(io_errors);
	J(inflight);
	J(max_inflight);
	J(notifies_in);
	J(notifies_out);
	J(halts);
	J(pgrant_hits);
	J(pgrant_misses);
	J(pgrant_fallbacks);
	J(pgrant_mapped);
#undef J
	json_object_set_new(o, "latency", lat);
	return o;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void queue_process(struct blkbk_queue *q);
static void queue_flush_responses(struct blkbk_queue *q);
static void dev_maybe_finish_disconnect(struct blkbk_dev *d);

#define QLOG(q, fmt, ...)                                                      \
	LOG_RATELIMITED(&(q)->rl, LOG_WARNING, (q)->d->cfg.domid,              \
			(q)->d->name, "q%u: " fmt, (q)->idx, ##__VA_ARGS__)

static struct blkbk_pending *pending_get(struct blkbk_queue *q)
{
	struct blkbk_pending *p = q->free_list;

	if (p) {
		q->free_list = p->next;
	} else {
		p = malloc(sizeof(*p));
		if (!p)
			return NULL;
	}
	p->q = q;
	p->map = NULL;
	p->nr_pgrants = 0;
	p->stage = PEND_IO;
	p->stat_op = BLKBK_ST_OTHER;
	p->t_start_ns = now_ns();
	q->inflight++;
	q->st.inflight = q->inflight;
	if (q->inflight > q->st.max_inflight)
		q->st.max_inflight = q->inflight;
	return p;
}

/* Release the data pages of p (before the guest may see the response). */
static void pending_unmap(struct blkbk_pending *p)
{
	struct blkbk_queue *q = p->q;

	if (p->map) {
		int rc = hv_gnttab_unmap(q->d->cfg.gnttab, p->map,
					 p->req.nr_segments);

		if (rc < 0)
			log_warnx_dev(q->d->cfg.domid, q->d->name,
				      "unmap of %u pages: %s",
				      p->req.nr_segments, strerror(-rc));
		p->map = NULL;
	}
	for (unsigned int i = 0; i < p->nr_pgrants; i++)
		gnt_pcache_put(q->pcache, p->req.seg[i].gref);
	p->nr_pgrants = 0;
}

/* Answer p and free it. The push happens in queue_flush_responses(). */
static void respond(struct blkbk_pending *p, int16_t status)
{
	struct blkbk_queue *q = p->q;

	pending_unmap(p);
	if (status == BLKIF_RSP_ERROR)
		q->st.errors++;
	else if (status == BLKIF_RSP_EOPNOTSUPP)
		q->st.eopnotsupp++;
	stat_latency(&q->st, now_ns() - p->t_start_ns);
	if (!q->halted && q->connected) {
		/* The effective operation: for BLKIF_OP_INDIRECT its
		 * indirect_op, as Linux's blkback answers and its blkfront
		 * checks ("response has wrong operation" otherwise). */
		put_response(q, q->br.rsp_prod_pvt, p->req.id, p->req.op,
			     status);
		q->br.rsp_prod_pvt++;
		q->rsp_dirty = 1;
	}
	q->inflight--;
	q->st.inflight = q->inflight;
	p->next = q->free_list;
	q->free_list = p;
}

static void pending_io_done(struct blkbk_io *io, int res);

static int submit_io(struct blkbk_pending *p)
{
	struct blkbk_queue *q = p->q;
	struct blkbk_backing *b = q->d->backing;
	int rc;

	p->io.done = pending_io_done;
	p->io.arg = p;
	rc = b->ops->submit(b, &p->io);
	if (rc < 0) {
		q->st.io_errors++;
		QLOG(q, "id %" PRIu64 ": submit: %s", p->req.id, strerror(-rc));
		return rc;
	}
	q->io_inflight++;
	return 0;
}

/* The barrier's next step, or its response. */
static void barrier_step(struct blkbk_pending *p)
{
	if (p->stage == PEND_IO && p->req.nr_segments) {
		p->stage = PEND_BARRIER_WRITE;
		p->io.op = BLKBK_IO_WRITE;
	} else {
		p->stage = PEND_BARRIER_FLUSH;
		memset(&p->io, 0, sizeof(p->io));
		p->io.op = BLKBK_IO_FLUSH;
	}
	if (submit_io(p) < 0) {
		p->q->barrier = NULL;
		respond(p, BLKIF_RSP_ERROR);
	}
}

static void pending_io_done(struct blkbk_io *io, int res)
{
	struct blkbk_pending *p = io->arg;
	struct blkbk_queue *q = p->q;

	q->io_inflight--;
	if (res < 0) {
		q->st.io_errors++;
		QLOG(q, "id %" PRIu64 " op %u sector %" PRIu64 ": %s",
		     p->req.id, p->req.op, p->req.sector, strerror(-res));
		if (q->barrier == p)
			q->barrier = NULL;
		respond(p, BLKIF_RSP_ERROR);
	} else if (p->stage == PEND_BARRIER_WRITE) {
		q->st.bytes_written += (uint64_t)res;
		barrier_step(p);
	} else {
		if (io->op == BLKBK_IO_READ && p->stage == PEND_IO)
			q->st.bytes_read += (uint64_t)res;
		else if (io->op == BLKBK_IO_WRITE)
			q->st.bytes_written += (uint64_t)res;
		else if (io->op == BLKBK_IO_DISCARD)
			q->st.sectors_discarded += p->req.nr_sectors;
		if (q->barrier == p)
			q->barrier = NULL;
		respond(p, BLKIF_RSP_OKAY);
	}
	/* A barrier that waited for the queue to drain may start now. */
	if (q->barrier && q->barrier->stage == PEND_IO && !q->io_inflight)
		barrier_step(q->barrier);
}

/*
 * Copy the indirect segment pages of r once into r->seg, by grant copy:
 * no mapping is made (no mmap/munmap per request). Returns 0 or -errno
 * (-EINVAL bad ref, -EACCES not granted to us, -ESRCH no such domain).
 */
static int copy_indirect(struct blkbk_queue *q, struct blkbk_req *r)
{
	struct hv_gnttab_copy_seg segs[BLKBK_MAX_INDIRECT_PAGES];
	size_t bytes = (size_t)r->nr_segments * sizeof(r->seg[0]);
	unsigned int pages =
		(unsigned int)((bytes + HV_PAGE_SIZE - 1) / HV_PAGE_SIZE);
	int rc;

	memset(segs, 0, sizeof(segs));
	for (unsigned int i = 0; i < pages; i++) {
		size_t off = (size_t)i * HV_PAGE_SIZE;

		segs[i].source.is_gref = 1;
		segs[i].source.u.gref.domid = q->d->cfg.domid;
		segs[i].source.u.gref.ref = r->indirect_grefs[i];
		segs[i].dest.u.virt = (char *)r->seg + off;
		segs[i].len =
			(uint16_t)(bytes - off < HV_PAGE_SIZE ? bytes - off
							      : HV_PAGE_SIZE);
	}
	rc = hv_gnttab_copy(q->d->cfg.gnttab, pages, segs);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < pages; i++) {
		switch (segs[i].status) {
		case GNTST_okay:
			break;
		case GNTST_permission_denied:
			return -EACCES;
		case GNTST_bad_domain:
			return -ESRCH;
		case GNTST_bad_gntref:
			return -EINVAL;
		default:
			return -EIO;
		}
	}
	return 0;
}

/* Map the data pages of p; fill p->iov. 0 or -errno. */
static int map_segments(struct blkbk_pending *p)
{
	struct blkbk_queue *q = p->q;
	struct blkbk_req *r = &p->req;
	int to_guest = r->op == BLKIF_OP_READ; /* we write guest memory */
	char *pages[BLKBK_MAX_INDIRECT_SEGS];
	unsigned int i;

	if (q->pcache) {
		for (i = 0; i < r->nr_segments; i++) {
			pages[i] = gnt_pcache_get(q->pcache, r->seg[i].gref,
						  to_guest);
			if (!pages[i])
				break;
			p->nr_pgrants = (uint16_t)(i + 1);
		}
		if (i == r->nr_segments)
			goto fill;
		{
			int err = errno;

			pending_unmap(p);
			if (err != EBUSY) {
				errno = err;
				return -err;
			}
		}
		/* cache full of held entries: map the ordinary way */
		q->st.pgrant_fallbacks++;
	}
	{
		grant_ref_t refs[BLKBK_MAX_INDIRECT_SEGS];
		domid_t dom = q->d->cfg.domid;

		for (i = 0; i < r->nr_segments; i++)
			refs[i] = r->seg[i].gref;
		p->map = hv_gnttab_map(q->d->cfg.gnttab, r->nr_segments, &dom,
				       1, refs, to_guest ? 0 : HV_GNTMAP_RO);
		if (!p->map)
			return -errno;
		for (i = 0; i < r->nr_segments; i++)
			pages[i] = (char *)p->map + (size_t)i * HV_PAGE_SIZE;
	}
fill:
	for (i = 0; i < r->nr_segments; i++) {
		p->iov[i].iov_base = pages[i] + ((size_t)r->seg[i].first_sect
						 << BLKBK_SECTOR_SHIFT);
		p->iov[i].iov_len =
			(size_t)(r->seg[i].last_sect - r->seg[i].first_sect + 1)
			<< BLKBK_SECTOR_SHIFT;
	}
	return 0;
}

static uint8_t stat_op_of(const struct blkbk_req *r)
{
	switch (r->operation) {
	case BLKIF_OP_READ:
		return BLKBK_ST_READ;
	case BLKIF_OP_WRITE:
		return BLKBK_ST_WRITE;
	case BLKIF_OP_FLUSH_DISKCACHE:
		return BLKBK_ST_FLUSH;
	case BLKIF_OP_WRITE_BARRIER:
		return BLKBK_ST_BARRIER;
	case BLKIF_OP_DISCARD:
		return BLKBK_ST_DISCARD;
	case BLKIF_OP_INDIRECT:
		return BLKBK_ST_INDIRECT;
	default:
		return BLKBK_ST_OTHER;
	}
}

/* Validate and start one request (its copy is p->req). */
static void dispatch(struct blkbk_queue *q, struct blkbk_pending *p)
{
	struct blkbk_req *r = &p->req;
	const struct blkbk_limits *l = &q->d->limits;
	const char *why;
	int st, rc;

	p->stat_op = stat_op_of(r);
	q->st.reqs[p->stat_op]++;
	if (r->operation == BLKIF_OP_INDIRECT && r->op <= BLKIF_OP_WRITE)
		q->st.reqs[r->op == BLKIF_OP_READ ? BLKBK_ST_READ
						  : BLKBK_ST_WRITE]++;
	st = blkbk_req_check(r, l, &why);
	if (st != BLKIF_RSP_OKAY)
		goto invalid;
	memset(&p->io, 0, sizeof(p->io));
	switch (r->operation) {
	case BLKIF_OP_FLUSH_DISKCACHE:
		p->io.op = BLKBK_IO_FLUSH;
		if (submit_io(p) < 0)
			respond(p, BLKIF_RSP_ERROR);
		return;
	case BLKIF_OP_DISCARD:
		if (!r->nr_sectors) {
			respond(p, BLKIF_RSP_OKAY);
			return;
		}
		p->io.op = BLKBK_IO_DISCARD;
		p->io.offset = r->sector << BLKBK_SECTOR_SHIFT;
		p->io.len = r->nr_sectors << BLKBK_SECTOR_SHIFT;
		if (submit_io(p) < 0)
			respond(p, BLKIF_RSP_ERROR);
		return;
	default:
		break;
	}
	if (r->operation == BLKIF_OP_INDIRECT) {
		rc = copy_indirect(q, r);
		if (rc < 0) {
			q->st.grant_errors++;
			QLOG(q, "id %" PRIu64 ": indirect page refs: %s", r->id,
			     strerror(-rc));
			respond(p, BLKIF_RSP_ERROR);
			return;
		}
	}
	st = blkbk_req_check_segs(r, l, &why);
	if (st != BLKIF_RSP_OKAY)
		goto invalid;
	if (r->nr_segments) {
		rc = map_segments(p);
		if (rc < 0) {
			q->st.grant_errors++;
			QLOG(q, "id %" PRIu64 ": segment grants: %s", r->id,
			     strerror(-rc));
			respond(p, BLKIF_RSP_ERROR);
			return;
		}
	}
	p->io.op = r->op == BLKIF_OP_READ ? BLKBK_IO_READ : BLKBK_IO_WRITE;
	p->io.offset = r->sector << BLKBK_SECTOR_SHIFT;
	p->io.len = r->nr_sectors << BLKBK_SECTOR_SHIFT;
	p->io.iov = p->iov;
	p->io.iovcnt = r->nr_segments;
	if (r->operation == BLKIF_OP_WRITE_BARRIER) {
		/* ordered after everything before it, before everything after */
		q->barrier = p;
		if (!q->io_inflight)
			barrier_step(p);
		return;
	}
	if (submit_io(p) < 0)
		respond(p, BLKIF_RSP_ERROR);
	return;

invalid:
	q->st.invalid++;
	QLOG(q, "bad request id %" PRIu64 " op %u: %s", r->id, r->operation,
	     why);
	respond(p, (int16_t)st);
}

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

static void queue_halt(struct blkbk_queue *q, const char *why, RING_IDX prod)
{
	q->halted = 1;
	q->st.halts++;
	QLOG(q,
	     "%s (req_prod %u, req_cons %u, rsp_prod %u, size %u): "
	     "ring halted",
	     why, prod, q->br.req_cons, q->br.rsp_prod_pvt, q->br.nr_ents);
}

static void queue_flush_responses(struct blkbk_queue *q)
{
	int notify;

	if (!q->rsp_dirty || q->halted || !q->connected)
		return;
	q->rsp_dirty = 0;
	/* The macro's wmb orders the response bodies before rsp_prod, its mb
	 * orders rsp_prod before the read of rsp_event. */
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->br, notify);
	if (notify && q->bound) {
		int rc = hv_evtchn_notify(q->d->cfg.evtchn, q->port);

		q->st.notifies_out++;
		if (rc < 0 && rc != -ENOTCONN)
			QLOG(q, "notify: %s", strerror(-rc));
	}
}

/* One ring slot, private: the request of any of the three layouts. */
union blkbk_slot {
	struct blkif_request native;
	struct blkif_x86_32_request x86_32;
	struct blkif_x86_64_request x86_64;
};

/*
 * copy_request - the one copy of slot rc (RING_COPY_REQUEST) into *slot.
 * q->br serves the index macros of every layout (same shared header);
 * here a ring of this ABI's type over the same pages addresses the slot.
 * The request struct is the largest member of each layout's slot, so the
 * whole slot is copied; discard and indirect requests overlay it.
 */
static void copy_request(const struct blkbk_queue *q, RING_IDX rc,
			 union blkbk_slot *slot)
{
	switch (q->abi) {
	case BLKBK_ABI_X86_32: {
		blkif_x86_32_back_ring_t r = {
			.sring = (blkif_x86_32_sring_t *)(void *)q->br.sring,
			.nr_ents = q->br.nr_ents,
		};

		RING_COPY_REQUEST(&r, rc, &slot->x86_32);
		break;
	}
	case BLKBK_ABI_X86_64: {
		blkif_x86_64_back_ring_t r = {
			.sring = (blkif_x86_64_sring_t *)(void *)q->br.sring,
			.nr_ents = q->br.nr_ents,
		};

		RING_COPY_REQUEST(&r, rc, &slot->x86_64);
		break;
	}
	default:
		RING_COPY_REQUEST(&q->br, rc, &slot->native);
		break;
	}
}

static void queue_process(struct blkbk_queue *q)
{
	struct blkbk_dev *d = q->d;
	unsigned int n = 0;
	RING_IDX rp, rc;
	int more;

	if (!q->connected || q->halted || d->disconnecting)
		return;
again:
	/* Read req_prod once; acquire = the ring's rmb: the slots below it
	 * are read only after it. */
	rp = __atomic_load_n(&q->br.sring->req_prod, __ATOMIC_ACQUIRE);
	if (RING_REQUEST_PROD_OVERFLOW(&q->br, rp)) {
		queue_halt(q, "req_prod beyond the ring", rp);
		return;
	}
	rc = q->br.req_cons;
	while (rc != rp) {
		union blkbk_slot slot;
		struct blkbk_pending *p;

		if (RING_REQUEST_CONS_OVERFLOW(&q->br, rc) || q->barrier)
			break;
		if (n >= BLKBK_BATCH) {
			/* yield: other rings get a turn, then we go on */
			event_active(q->resume_ev, 0, 0);
			break;
		}
		p = pending_get(q);
		if (!p) {
			event_active(q->resume_ev, 0, 0);
			break;
		}
		copy_request(q, rc, &slot);
		q->br.req_cons = ++rc;
		blkbk_req_decode(q->abi, &slot, &p->req);
		dispatch(q, p);
		n++;
		if (q->halted)
			return;
	}
	d->backing->ops->kick(d->backing);
	if (rc == rp && !q->barrier && n < BLKBK_BATCH) {
		/* Sets req_event = req_cons + 1, then (its mb) reads req_prod
		 * again: a request pushed before the guest could see the new
		 * req_event is found here, one pushed after gets a notify. */
		RING_FINAL_CHECK_FOR_REQUESTS(&q->br, more);
		if (more) {
			queue_flush_responses(q);
			goto again;
		}
	}
	queue_flush_responses(q);
}

static void queue_on_evtchn(evtchn_port_t port, void *arg)
{
	struct blkbk_queue *q = arg;

	q->st.notifies_in++;
	queue_process(q);
}

static void queue_on_resume(evutil_socket_t fd, short what, void *arg)
{
	queue_process(arg);
}

/* After a batch of completions: push responses, then consume what waited
 * (a finished barrier, a full pool). */
static void dev_on_batch_done(void *arg)
{
	struct blkbk_dev *d = arg;

	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct blkbk_queue *q = &d->q[i];

		queue_flush_responses(q);
		if (q->connected && !q->barrier)
			queue_process(q);
	}
	if (d->disconnecting)
		dev_maybe_finish_disconnect(d);
}

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

struct blkbk_dev *blkbk_dev_new(const struct blkbk_dev_config *cfg)
{
	struct blkbk_dev *d;
	struct blkbk_backing *b = cfg->backing;

	if (!cfg->base || !cfg->gnttab || !cfg->evtchn || !cfg->mux || !b ||
	    cfg->nr_queues < 1 || cfg->nr_queues > BLKBK_MAX_QUEUES) {
		blkbk_backing_close(b);
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		blkbk_backing_close(b);
		errno = ENOMEM;
		return NULL;
	}
	d->cfg = *cfg;
	snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "vbd");
	d->cfg.name = d->name;
	d->backing = b;
	d->nr_queues = cfg->nr_queues;
	b->batch_done = dev_on_batch_done;
	b->batch_arg = d;
	d->limits.sectors = b->size >> BLKBK_SECTOR_SHIFT;
	d->limits.sector_size = b->sector_size;
	d->limits.readonly = cfg->readonly || b->readonly;
	d->limits.flush = b->can_flush;
	d->limits.barrier = b->can_flush;
	d->limits.discard =
		b->can_discard && !cfg->no_discard && !d->limits.readonly;
	d->limits.discard_secure = d->limits.discard && b->can_discard_secure;
	d->limits.max_indirect_segs =
		cfg->no_indirect ? 0 : BLKBK_MAX_INDIRECT_SEGS;
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct blkbk_queue *q = &d->q[i];
		struct log_ratelimit rl = LOG_RATELIMIT_INIT(5000, 10);

		q->d = d;
		q->idx = i;
		q->rl = rl;
		q->resume_ev = event_new(cfg->base, -1, 0, queue_on_resume, q);
		if (!q->resume_ev) {
			blkbk_dev_free(d);
			errno = ENOMEM;
			return NULL;
		}
	}
	return d;
}

void blkbk_dev_limits(const struct blkbk_dev *d, struct blkbk_limits *l)
{
	*l = d->limits;
}

int blkbk_queue_connect(struct blkbk_dev *d, unsigned int qidx,
			const grant_ref_t *refs, unsigned int order,
			evtchn_port_t remote_port, enum blkbk_abi abi)
{
	struct blkbk_queue *q;
	domid_t dom = d->cfg.domid;
	int port, rc;

	if (qidx >= d->nr_queues || order > BLKBK_MAX_RING_ORDER ||
	    abi > BLKBK_ABI_X86_64 || d->disconnecting)
		return -EINVAL;
	q = &d->q[qidx];
	if (q->connected)
		return -EBUSY;
	q->ring_map =
		hv_gnttab_map(d->cfg.gnttab, 1u << order, &dom, 1, refs, 0);
	if (!q->ring_map)
		return -errno;
	q->order = order;
	q->abi = abi;
	q->slot_size = abi_slot_size(abi);
	/* BACK_RING_INIT's fields, with the size of this ABI's slots */
	memset(&q->br, 0, sizeof(q->br));
	q->br.sring = q->ring_map;
	q->br.nr_ents = blkbk_ring_size(abi, order);
	if (d->cfg.persistent) {
		q->pcache = gnt_pcache_new(d->cfg.gnttab, dom,
					   BLKBK_PERSISTENT_GRANTS);
		if (!q->pcache) {
			rc = -errno;
			goto fail_map;
		}
	}
	port = hv_evtchn_bind_interdomain(d->cfg.evtchn, dom, remote_port);
	if (port < 0) {
		rc = port;
		goto fail_pc;
	}
	q->port = (evtchn_port_t)port;
	rc = evtchn_mux_add(d->cfg.mux, q->port, queue_on_evtchn, q);
	if (rc < 0)
		goto fail_port;
	q->bound = 1;
	q->connected = 1;
	q->halted = 0;
	log_debug_dev(dom, d->name,
		      "q%u: ring of %u pages (%u slots, %s), port %u", qidx,
		      1u << order, q->br.nr_ents, blkbk_abi_name(abi), q->port);
	/* requests may be waiting already */
	event_active(q->resume_ev, 0, 0);
	return 0;

fail_port:
	hv_evtchn_unbind(d->cfg.evtchn, q->port);
fail_pc:
	gnt_pcache_free(q->pcache);
	q->pcache = NULL;
fail_map:
	hv_gnttab_unmap(d->cfg.gnttab, q->ring_map, 1u << order);
	q->ring_map = NULL;
	return rc;
}

static void queue_unbind(struct blkbk_queue *q)
{
	struct blkbk_dev *d = q->d;

	if (!q->bound)
		return;
	evtchn_mux_remove(d->cfg.mux, q->port);
	hv_evtchn_unbind(d->cfg.evtchn, q->port);
	q->bound = 0;
}

static void queue_teardown(struct blkbk_queue *q)
{
	struct blkbk_dev *d = q->d;

	queue_unbind(q);
	if (q->ring_map) {
		hv_gnttab_unmap(d->cfg.gnttab, q->ring_map, 1u << q->order);
		q->ring_map = NULL;
	}
	gnt_pcache_free(q->pcache);
	q->pcache = NULL;
	q->connected = 0;
	q->barrier = NULL;
	memset(&q->br, 0, sizeof(q->br));
}

static unsigned int dev_inflight(const struct blkbk_dev *d)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < d->nr_queues; i++)
		n += d->q[i].inflight;
	return n;
}

static void dev_on_disc_ev(evutil_socket_t fd, short what, void *arg)
{
	struct blkbk_dev *d = arg;
	void (*done)(void *) = d->disc_done;

	d->disc_done = NULL;
	if (done)
		done(d->disc_arg);
}

static void dev_maybe_finish_disconnect(struct blkbk_dev *d)
{
	if (dev_inflight(d))
		return;
	for (unsigned int i = 0; i < d->nr_queues; i++)
		queue_teardown(&d->q[i]);
	d->disconnecting = 0;
	if (d->disc_done && d->disc_ev)
		event_active(d->disc_ev, 0, 0);
}

int blkbk_dev_disconnect(struct blkbk_dev *d, void (*done)(void *), void *arg)
{
	d->disconnecting = 1;
	/* the guest is going: no more notifies either way */
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		queue_flush_responses(&d->q[i]);
		queue_unbind(&d->q[i]);
		if (d->q[i].resume_ev)
			event_del(d->q[i].resume_ev);
	}
	if (!dev_inflight(d)) {
		dev_maybe_finish_disconnect(d);
		return 0;
	}
	d->disc_done = done;
	d->disc_arg = arg;
	if (!d->disc_ev)
		d->disc_ev = event_new(d->cfg.base, -1, 0, dev_on_disc_ev, d);
	return 1;
}

void blkbk_dev_free(struct blkbk_dev *d)
{
	blkbk_backing_close(blkbk_dev_release(d));
}

struct blkbk_backing *blkbk_dev_release(struct blkbk_dev *d)
{
	struct blkbk_backing *b;

	if (!d)
		return NULL;
	if (dev_inflight(d))
		log_warnx_dev(d->cfg.domid, d->name,
			      "freed with %u requests in flight",
			      dev_inflight(d));
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct blkbk_queue *q = &d->q[i];

		queue_teardown(q);
		while (q->free_list) {
			struct blkbk_pending *p = q->free_list;

			q->free_list = p->next;
			free(p);
		}
		if (q->resume_ev)
			event_free(q->resume_ev);
	}
	if (d->disc_ev)
		event_free(d->disc_ev);
	b = d->backing;
	if (b) {
		b->batch_done = NULL;
		b->batch_arg = NULL;
	}
	free(d);
	return b;
}

void blkbk_dev_get_stats(const struct blkbk_dev *d, struct blkbk_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		const uint64_t *src = (const uint64_t *)&d->q[i].st;
		uint64_t *dst = (uint64_t *)st;

		_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0,
			       "stats are all uint64_t");
		for (size_t k = 0; k < sizeof(*st) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct gnt_pcache_stats ps;

		if (!d->q[i].pcache)
			continue;
		gnt_pcache_get_stats(d->q[i].pcache, &ps);
		st->pgrant_hits += ps.hits;
		st->pgrant_misses += ps.misses;
		st->pgrant_mapped += ps.entries;
	}
}

int blkbk_queue_halted(const struct blkbk_dev *d, unsigned int qidx)
{
	return qidx < d->nr_queues && d->q[qidx].halted;
}

/* ------------------------------------------------------------------ */
/* Backing dispatch                                                    */
/* ------------------------------------------------------------------ */

int blkbk_backing_open(struct event_base *base, const struct blkbk_params *p,
		       int readonly, int timeout_ms, struct blkbk_backing **out)
{
	int rc;

	switch (p->kind) {
	case BLKBK_BACKING_FILE:
		rc = blkbk_backing_file_open(base, p->path, readonly, p->direct,
					     out);
		break;
	case BLKBK_BACKING_NBD:
		rc = blkbk_backing_nbd_open(base, p, readonly, timeout_ms, out);
		break;
	default:
		return -EINVAL;
	}
	if (rc == 0)
		blkbk_params_desc(p, (*out)->desc, sizeof((*out)->desc));
	return rc;
}

void blkbk_backing_close(struct blkbk_backing *b)
{
	if (b)
		b->ops->close(b);
}
