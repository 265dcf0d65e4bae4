/*
 * check_blk_fe.h - an in-test blkfront and a dom0 harness for blkback
 * tests: the frontend is a loopback guest (its own domain on the suite's
 * private loophvd) that shares ring and data pages with hv_gntshr_share,
 * offers an event channel, writes requests in the ring in the ABI it was
 * opened with, and reads responses; the backend side is dom0 with a
 * libevent base, an evtchn handle and mux, and a gnttab handle.
 * One process plays both; blkbe_wait() runs the loop until a response.
 */
#ifndef SPLITDRV_CHECK_BLK_FE_H
#define SPLITDRV_CHECK_BLK_FE_H

#include <stdint.h>
#include <sys/types.h>

#include "blkback/common.h"

#define BLKFE_MAX_PAGES 600

struct blkfe {
	struct hv *hv;
	struct hv_gntshr *gs;
	struct hv_evtchn *ev;
	int port; /* ours; the backend binds to it */
	enum blkbk_abi abi;
	unsigned int order, size;
	size_t slot_size;
	struct blkif_sring *sring;
	grant_ref_t ring_refs[1u << BLKBK_MAX_RING_ORDER];
	RING_IDX req_prod_pvt, rsp_cons;
	uint8_t *data;
	grant_ref_t refs[BLKFE_MAX_PAGES];
	unsigned int npages;
};

struct blkbe {
	struct hv *hv;
	struct hv_gnttab *gt;
	struct hv_evtchn *ev;
	struct evtchn_mux *mux;
	struct event_base *base;
	char dir[64];
};

void blkfe_open(struct blkfe *f, enum blkbk_abi abi, unsigned int order,
		unsigned int npages);
void blkfe_close(struct blkfe *f);
/* address of ring slot i */
void *blkfe_slot(struct blkfe *f, RING_IDX i);
/* encode r (canonical) into the next slot in our ABI */
void blkfe_put(struct blkfe *f, const struct blkbk_req *r);
/* publish req_prod (wmb before) and notify */
void blkfe_push(struct blkfe *f);
/* one response if there is one: 1, else 0 */
int blkfe_rsp(struct blkfe *f, uint64_t *id, uint8_t *op, int16_t *st);
/* a read/write over whole data pages [first, first + n) */
struct blkbk_req blkfe_rw(const struct blkfe *f, uint8_t op, uint64_t id,
			  uint64_t sector, unsigned int first, unsigned int n);
/* an indirect request: segment list written into data page ind (and
 * ind + 1 when more than 512), data pages [first, first + n) */
struct blkbk_req blkfe_indirect(struct blkfe *f, uint8_t op, uint64_t id,
				uint64_t sector, unsigned int ind,
				unsigned int first, unsigned int n);
static inline uint8_t *blkfe_page(struct blkfe *f, unsigned int i)
{
	return f->data + (size_t)i * HV_PAGE_SIZE;
}

void blkbe_open(struct blkbe *b);
void blkbe_close(struct blkbe *b);
/* a sparse file of size bytes in b->dir; its path in a static buffer */
const char *blkbe_mkfile(struct blkbe *b, const char *name, uint64_t size);
/* a device over backing bk for f, queue 0 connected to f's ring */
struct blkbk_dev *blkbe_dev(struct blkbe *b, struct blkfe *f,
			    struct blkbk_backing *bk, int persistent,
			    int readonly);
/* run the loop about ms milliseconds */
void blkbe_pump(struct blkbe *b, int ms);
/* run the loop until f has a response (1) or 5 s passed (0) */
int blkbe_wait(struct blkbe *b, struct blkfe *f, uint64_t *id, uint8_t *op,
	       int16_t *st);
/* put + push + wait; asserts the id and op echoed; returns the status */
int blkbe_do(struct blkbe *b, struct blkfe *f, const struct blkbk_req *r);

/* A unix socket server in a child: sends greeting (len bytes, may be 0),
 * then idles (kill it). */
pid_t fake_server(const char *sock, const void *greeting, size_t len);

/*
 * A scripted NBD server in a child process on unix socket sock: fixed
 * newstyle, NBD_OPT_GO answered with a 1 MiB export (flush, no trim),
 * then requests answered as mode says (reads with 0xcc bytes).
 * FAKE_HOLD answers nothing at first: it writes a byte '.' to *seen for
 * each request it has read, and answers every request held so far (and
 * all later ones, as FAKE_GOOD) once a byte is written to *release.  At
 * end of file it writes 'E' to *seen.  seen and release are the
 * parent's ends of two pipes, made only for FAKE_HOLD (else pass NULL).
 * The child idles after the connection ends: kill it.
 */
enum fake_mode {
	FAKE_GOOD,
	FAKE_BAD_HANDLE,
	FAKE_BAD_MAGIC,
	FAKE_HUGE_OPT_REPLY,
	FAKE_GOOD_THEN_ERROR,
	FAKE_HOLD
};
pid_t fake_nbd(const char *sock, enum fake_mode mode, int *seen, int *release);

#endif
