/*
 * check_blk_ring - blkback's ring data path end to end on the loopback
 * hypervisor: an in-test frontend (a loopback guest, check_blk_fe.c)
 * drives a device over an io_uring file backing in a temporary directory:
 * read/write/verify in every ABI, flush, barrier, discard, indirect,
 * persistent grants, multi-page rings, several rings; and the hostile
 * frontend cases (XSA classes), each ending in an error response or that
 * ring halted while another guest's ring keeps being served.
 * A RAM backing defined here can hold ios, to rewrite the guest's ring
 * slot or indirect page after blkback copied it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/loop.h>
#include <sys/ioctl.h>

#include "check_blk_fe.h"
#include "check_main.h"
#include "loophv_fixture.h"

#define DISK_BYTES   (4u << 20)
#define DISK_SECTORS (DISK_BYTES / 512)

static struct blkbe be;

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed * 2654435761u + i * 31 + (i >> 9)) >> 3);
}

static void check_fill(const uint8_t *p, size_t len, uint32_t seed)
{
	uint8_t *want = malloc(len);

	fill(want, len, seed);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(p[i] == want[i], "byte %zu: %02x, want %02x", i,
			      p[i], want[i]);
	free(want);
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static struct blkbk_dev *file_dev(struct blkfe *f, const char *name,
				  int persistent, int ro, char *path_out)
{
	struct blkbk_backing *bk;
	const char *path = blkbe_mkfile(&be, name, DISK_BYTES);
	int rc;

	if (path_out)
		strcpy(path_out, path);
	rc = blkbk_backing_file_open(be.base, path, ro, 0, &bk);
	ck_assert_msg(rc == 0, "file backing: %s", strerror(-rc));
	return blkbe_dev(&be, f, bk, persistent, ro);
}

static void setup(void)
{
	blkbe_open(&be);
}

static void teardown(void)
{
	blkbe_close(&be);
}

/* ------------------------------------------------------------------ */
/* A RAM backing that can hold its ios                                 */
/* ------------------------------------------------------------------ */

struct ram_backing {
	struct blkbk_backing b;
	uint8_t *mem;
	int hold;
	struct blkbk_io *q[512];
	int nq;
	struct {
		enum blkbk_io_op op;
		uint64_t off, len;
		int iovcnt;
	} log[512];
	int nlog;
	struct event *ev;
	unsigned int inflight;
};

static void ram_complete(evutil_socket_t fd, short what, void *arg)
{
	struct ram_backing *rb = arg;
	int n = rb->nq;

	if (rb->hold)
		return;
	rb->nq = 0;
	for (int i = 0; i < n; i++) {
		struct blkbk_io *io = rb->q[i];
		uint64_t off = io->offset;

		for (int k = 0; k < io->iovcnt; k++) {
			if (io->op == BLKBK_IO_READ)
				memcpy(io->iov[k].iov_base, rb->mem + off,
				       io->iov[k].iov_len);
			else if (io->op == BLKBK_IO_WRITE)
				memcpy(rb->mem + off, io->iov[k].iov_base,
				       io->iov[k].iov_len);
			off += io->iov[k].iov_len;
		}
		rb->inflight--;
		io->done(io,
			 (io->op == BLKBK_IO_READ || io->op == BLKBK_IO_WRITE)
				 ? (int)io->len
				 : 0);
	}
	if (n && rb->b.batch_done)
		rb->b.batch_done(rb->b.batch_arg);
}

static int ram_submit(struct blkbk_backing *b, struct blkbk_io *io)
{
	struct ram_backing *rb = (struct ram_backing *)b;

	ck_assert_int_lt(rb->nq, 512);
	ck_assert_int_lt(rb->nlog, 512);
	ck_assert_uint_le(io->offset + io->len, b->size);
	rb->log[rb->nlog].op = io->op;
	rb->log[rb->nlog].off = io->offset;
	rb->log[rb->nlog].len = io->len;
	rb->log[rb->nlog].iovcnt = io->iovcnt;
	rb->nlog++;
	rb->q[rb->nq++] = io;
	rb->inflight++;
	if (!rb->hold)
		event_active(rb->ev, 0, 0);
	return 0;
}

static void ram_kick(struct blkbk_backing *b)
{
}

static unsigned int ram_inflight(struct blkbk_backing *b)
{
	return ((struct ram_backing *)b)->inflight;
}

static void ram_close(struct blkbk_backing *b)
{
	struct ram_backing *rb = (struct ram_backing *)b;

	event_free(rb->ev);
	free(rb->mem);
	free(rb);
}

static const struct blkbk_backing_ops ram_ops = {
	"ram", ram_submit, ram_kick, ram_inflight, ram_close,
};

static struct ram_backing *ram_new(int hold)
{
	struct ram_backing *rb = calloc(1, sizeof(*rb));

	rb->b.ops = &ram_ops;
	rb->b.size = DISK_BYTES;
	rb->b.sector_size = 512;
	rb->b.can_flush = 1;
	rb->mem = calloc(1, DISK_BYTES);
	rb->hold = hold;
	rb->ev = event_new(be.base, -1, 0, ram_complete, rb);
	snprintf(rb->b.desc, sizeof(rb->b.desc), "ram");
	return rb;
}

static void ram_release(struct ram_backing *rb)
{
	rb->hold = 0;
	event_active(rb->ev, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Data path                                                           */
/* ------------------------------------------------------------------ */

START_TEST(read_write_verify_in_each_abi)
{
	static const enum blkbk_abi abis[] = { BLKBK_ABI_NATIVE,
					       BLKBK_ABI_X86_32,
					       BLKBK_ABI_X86_64 };
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	char path[128];
	uint8_t *buf = malloc(11 * 4096);
	int fd;

	blkfe_open(&fe, abis[_i], 0, 32);
	d = file_dev(&fe, "disk", 0, 0, path);
	fill(blkfe_page(&fe, 0), 11 * 4096, 7 + _i);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 100, 16, 0, 11);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	/* on disk at 16 * 512 */
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 11 * 4096, 16 * 512), 11 * 4096);
	close(fd);
	check_fill(buf, 11 * 4096, 7 + _i);
	/* and back through the ring into other pages */
	memset(blkfe_page(&fe, 16), 0, 11 * 4096);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 101, 16, 16, 11);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	check_fill(blkfe_page(&fe, 16), 11 * 4096, 7 + _i);
	blkbk_dev_free(d);
	blkfe_close(&fe);
	free(buf);
}
END_TEST

START_TEST(partial_segments_touch_only_their_sectors)
{
	struct blkfe fe;
	struct blkbk_dev *d = NULL;
	struct blkbk_req r;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	memset(blkfe_page(&fe, 0), 0xab, 4096);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 100, 0, 1);
	r.seg[0].first_sect = 2;
	r.seg[0].last_sect = 4; /* 3 sectors from byte 1024 of the page */
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	memset(blkfe_page(&fe, 1), 0x11, 4096);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 99, 1, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	/* sectors 99..106: 99 zero, 100..102 0xab, 103.. zero */
	ck_assert(all_zero(blkfe_page(&fe, 1), 512));
	for (int i = 512; i < 512 * 4; i++)
		ck_assert_uint_eq(blkfe_page(&fe, 1)[i], 0xab);
	ck_assert(all_zero(blkfe_page(&fe, 1) + 2048, 2048));
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(direct_io_round_trip)
{
	struct blkfe fe;
	struct blkbk_backing *bk;
	struct blkbk_dev *d;
	struct blkbk_req r;
	const char *path = blkbe_mkfile(&be, "direct", DISK_BYTES);
	int rc;

	rc = blkbk_backing_file_open(be.base, path, 0, 1, &bk);
	if (rc == -EINVAL)
		check_skip("O_DIRECT not supported in %s", be.dir);
	ck_assert_msg(rc == 0, "O_DIRECT open: %s", strerror(-rc));
	ck_assert(bk->direct);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 8);
	d = blkbe_dev(&be, &fe, bk, 0, 0);
	fill(blkfe_page(&fe, 0), 4 * 4096, 17);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 64, 0, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 64, 4, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	check_fill(blkfe_page(&fe, 4), 4 * 4096, 17);
	if (bk->sector_size > 512) {
		/* misaligned for O_DIRECT: refused, not an EINVAL from the kernel */
		r = blkfe_rw(&fe, BLKIF_OP_READ, 3, 65, 4, 1);
		ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	}
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

/* A loop block device over a file in the test dir, detached on last close
 * (LO_FLAGS_AUTOCLEAR). -1 when this host cannot (not root, no loop). */
static int loop_attach(const char *file, char *dev, size_t len)
{
	struct loop_info64 info;
	int ctl, nr, fd, bfd;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -1;
	snprintf(dev, len, "/dev/loop%d", nr);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	bfd = open(file, O_RDWR | O_CLOEXEC);
	if (fd < 0 || bfd < 0 || ioctl(fd, LOOP_SET_FD, bfd) < 0) {
		if (fd >= 0)
			close(fd);
		if (bfd >= 0)
			close(bfd);
		return -1;
	}
	close(bfd);
	memset(&info, 0, sizeof(info));
	info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (ioctl(fd, LOOP_SET_STATUS64, &info) < 0) {
		ioctl(fd, LOOP_CLR_FD, 0);
		close(fd);
		return -1;
	}
	return fd;
}

START_TEST(block_device_backing)
{
	struct blkfe fe;
	struct blkbk_backing *bk;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_params p;
	struct blkbk_limits l;
	char dev[64], params[80];
	const char *path = blkbe_mkfile(&be, "lo", DISK_BYTES);
	int lfd = loop_attach(path, dev, sizeof(dev));

	if (lfd < 0)
		check_skip("no loop device here: %s", strerror(errno));
	snprintf(params, sizeof(params), "phy:%s", dev);
	ck_assert_int_eq(blkbk_params_parse(params, NULL, &p, NULL), 0);
	ck_assert_int_eq(blkbk_backing_open(be.base, &p, 0, 1000, &bk), 0);
	close(lfd); /* the backing holds it now; autoclear on its close */
	ck_assert_uint_eq(bk->size, DISK_BYTES);
	ck_assert_uint_eq(bk->sector_size, 512);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 8);
	d = blkbe_dev(&be, &fe, bk, 0, 0);
	blkbk_dev_limits(d, &l);
	ck_assert_uint_eq(l.sectors, DISK_SECTORS);
	fill(blkfe_page(&fe, 0), 4 * 4096, 23);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 1000, 0, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_FLUSH_DISKCACHE;
	r.id = 2;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	if (l.discard) {
		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_DISCARD;
		r.id = 3;
		r.sector = 1016; /* the third page */
		r.nr_sectors = 8;
		ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	}
	r = blkfe_rw(&fe, BLKIF_OP_READ, 4, 1000, 4, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	ck_assert(memcmp(blkfe_page(&fe, 4), blkfe_page(&fe, 0), 8192) == 0);
	if (l.discard)
		ck_assert(all_zero(blkfe_page(&fe, 6), 4096));
	ck_assert(memcmp(blkfe_page(&fe, 7), blkfe_page(&fe, 3), 4096) == 0);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(flush_and_barrier_succeed)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_stats st;
	struct blkbk_limits l;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	blkbk_dev_limits(d, &l);
	ck_assert(l.flush && l.barrier);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_FLUSH_DISKCACHE;
	r.id = 5;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	/* a barrier with data, then a read that must see it */
	fill(blkfe_page(&fe, 0), 2 * 4096, 3);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE_BARRIER, 6, 64, 0, 2);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 7, 64, 2, 2);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	check_fill(blkfe_page(&fe, 2), 2 * 4096, 3);
	/* an empty barrier */
	r = blkfe_rw(&fe, BLKIF_OP_WRITE_BARRIER, 8, 0, 0, 0);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	blkbk_dev_get_stats(d, &st);
	ck_assert_uint_eq(st.reqs[BLKBK_ST_FLUSH], 1);
	ck_assert_uint_eq(st.reqs[BLKBK_ST_BARRIER], 2);
	ck_assert_uint_eq(st.bytes_written, 2 * 4096);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(barrier_waits_for_earlier_writes)
{
	struct blkfe fe;
	struct ram_backing *rb = ram_new(1);
	struct blkbk_dev *d;
	struct blkbk_req r;
	uint64_t id;
	uint8_t op;
	int16_t st;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = blkbe_dev(&be, &fe, &rb->b, 0, 0);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 0, 0, 1);
	blkfe_put(&fe, &r);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE_BARRIER, 2, 8, 1, 1);
	blkfe_put(&fe, &r);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 3, 16, 2, 1);
	blkfe_put(&fe, &r);
	blkfe_push(&fe);
	blkbe_pump(&be, 50);
	/* only the first write went to the backing: the barrier waits */
	ck_assert_int_eq(rb->nlog, 1);
	ram_release(rb);
	for (int i = 1; i <= 3; i++) {
		ck_assert(blkbe_wait(&be, &fe, &id, &op, &st));
		ck_assert_uint_eq(id, (uint64_t)i);
		ck_assert_int_eq(st, 0);
	}
	/* write, barrier write, barrier flush, then the later write */
	ck_assert_int_eq(rb->nlog, 4);
	ck_assert_int_eq(rb->log[0].op, BLKBK_IO_WRITE);
	ck_assert_int_eq(rb->log[1].op, BLKBK_IO_WRITE);
	ck_assert_uint_eq(rb->log[1].off, 8 * 512);
	ck_assert_int_eq(rb->log[2].op, BLKBK_IO_FLUSH);
	ck_assert_int_eq(rb->log[3].op, BLKBK_IO_WRITE);
	ck_assert_uint_eq(rb->log[3].off, 16 * 512);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(discard_then_reads_zeros)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_limits l;
	struct blkbk_stats st;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 8);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	blkbk_dev_limits(d, &l);
	if (!l.discard) {
		blkbk_dev_free(d);
		blkfe_close(&fe);
		check_skip("the file system of %s cannot punch holes", be.dir);
	}
	fill(blkfe_page(&fe, 0), 4 * 4096, 11);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 0, 0, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_DISCARD;
	r.id = 2;
	r.sector = 8;
	r.nr_sectors = 16; /* pages 1 and 2 */
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 3, 0, 4, 4);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	ck_assert(memcmp(blkfe_page(&fe, 4), blkfe_page(&fe, 0), 4096) == 0);
	ck_assert(all_zero(blkfe_page(&fe, 5), 2 * 4096));
	ck_assert(memcmp(blkfe_page(&fe, 7), blkfe_page(&fe, 3), 4096) == 0);
	/* beyond the end: error */
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_DISCARD;
	r.id = 4;
	r.sector = DISK_SECTORS - 8;
	r.nr_sectors = 9;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	blkbk_dev_get_stats(d, &st);
	ck_assert_uint_eq(st.sectors_discarded, 16);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(indirect_256_segments_round_trip)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_stats st;
	struct blkbk_limits l;

	/* page 0: indirect list; 1..256 data out; 257: list; 258..513 in */
	blkfe_open(&fe, _i ? BLKBK_ABI_X86_32 : BLKBK_ABI_NATIVE, 0, 514);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	blkbk_dev_limits(d, &l);
	ck_assert_uint_eq(l.max_indirect_segs, 256);
	fill(blkfe_page(&fe, 1), 256 * 4096, 99);
	r = blkfe_indirect(&fe, BLKIF_OP_WRITE, 1, 24, 0, 1, 256);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	r = blkfe_indirect(&fe, BLKIF_OP_READ, 2, 24, 257, 258, 256);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	check_fill(blkfe_page(&fe, 258), 256 * 4096, 99);
	blkbk_dev_get_stats(d, &st);
	ck_assert_uint_eq(st.reqs[BLKBK_ST_INDIRECT], 2);
	ck_assert_uint_eq(st.bytes_read, 256 * 4096);
	blkbk_dev_free(d);
	/* nothing stays mapped: the guest can take its pages back */
	ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.data, fe.npages), 0);
	blkfe_close(&fe);
}
END_TEST

START_TEST(persistent_grants_are_reused)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_stats st;
	int persistent = _i;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 22);
	d = file_dev(&fe, "disk", persistent, 0, NULL);
	for (int round = 0; round < 3; round++) {
		fill(blkfe_page(&fe, 0), 11 * 4096, 50 + (uint32_t)round);
		r = blkfe_rw(&fe, BLKIF_OP_WRITE, 10 + (uint64_t)round,
			     (uint64_t)round * 88, 0, 11);
		ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
		memset(blkfe_page(&fe, 11), 0, 11 * 4096);
		r = blkfe_rw(&fe, BLKIF_OP_READ, 20 + (uint64_t)round,
			     (uint64_t)round * 88, 11, 11);
		ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
		check_fill(blkfe_page(&fe, 11), 11 * 4096, 50 + (uint32_t)round);
	}
	blkbk_dev_get_stats(d, &st);
	if (persistent) {
		/* first write and first read map 22 refs, later rounds hit */
		ck_assert_uint_eq(st.pgrant_misses, 22);
		ck_assert_uint_eq(st.pgrant_hits, 4 * 11);
		ck_assert_uint_eq(st.pgrant_mapped, 22);
		/* kept mapped between requests: the guest cannot revoke */
		ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.data, fe.npages),
				 -EBUSY);
	} else {
		ck_assert_uint_eq(st.pgrant_hits + st.pgrant_misses, 0);
		ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.data, fe.npages),
				 0);
	}
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(order4_ring_takes_300_requests_in_one_push)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_stats st;
	static uint8_t seen[300];
	uint64_t id;
	uint8_t op;
	int16_t s;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 4, 11);
	ck_assert_uint_eq(fe.size, 512);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < 300; i++) {
		struct blkbk_req r = blkfe_rw(&fe, BLKIF_OP_READ, i,
					      (uint64_t)i * 8, i % 11, 1);

		blkfe_put(&fe, &r);
	}
	blkfe_push(&fe);
	for (unsigned int i = 0; i < 300; i++) {
		ck_assert_msg(blkbe_wait(&be, &fe, &id, &op, &s),
			      "response %u missing", i);
		ck_assert_int_eq(s, 0);
		ck_assert_uint_lt(id, 300);
		ck_assert(!seen[id]);
		seen[id] = 1;
	}
	blkbk_dev_get_stats(d, &st);
	ck_assert_uint_eq(st.reqs[BLKBK_ST_READ], 300);
	ck_assert_uint_gt(st.max_inflight, 1);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(ring_wraps_many_times_in_batches)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	uint64_t id, next = 0;
	uint8_t op;
	int16_t st;

	blkfe_open(&fe, BLKBK_ABI_X86_32, 0, 1);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	for (int batch = 0; batch < 40; batch++) {
		/* 1..32 requests per push: a full ring included */
		int n = 1 + (batch * 7) % 32;

		for (int i = 0; i < n; i++) {
			struct blkbk_req r =
				blkfe_rw(&fe, BLKIF_OP_READ, next + (uint64_t)i,
					 (uint64_t)i * 8, 0, 1);

			blkfe_put(&fe, &r);
		}
		blkfe_push(&fe);
		for (int i = 0; i < n; i++) {
			ck_assert(blkbe_wait(&be, &fe, &id, &op, &st));
			ck_assert_int_eq(st, 0);
		}
		next += (uint64_t)n;
	}
	ck_assert_uint_gt(next, 10 * 32);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(two_guests_side_by_side)
{
	struct blkfe a, b;
	struct blkbk_dev *da, *db;
	struct blkbk_req r;

	blkfe_open(&a, BLKBK_ABI_NATIVE, 0, 4);
	blkfe_open(&b, BLKBK_ABI_X86_32, 1, 4);
	da = file_dev(&a, "a", 0, 0, NULL);
	db = file_dev(&b, "b", 1, 0, NULL);
	fill(blkfe_page(&a, 0), 4096, 1);
	fill(blkfe_page(&b, 0), 4096, 2);
	r = blkfe_rw(&a, BLKIF_OP_WRITE, 1, 0, 0, 1);
	blkfe_put(&a, &r);
	r = blkfe_rw(&b, BLKIF_OP_WRITE, 1, 0, 0, 1);
	blkfe_put(&b, &r);
	blkfe_push(&a);
	blkfe_push(&b);
	{
		uint64_t id;
		uint8_t op;
		int16_t st;

		ck_assert(blkbe_wait(&be, &a, &id, &op, &st) && st == 0);
		ck_assert(blkbe_wait(&be, &b, &id, &op, &st) && st == 0);
	}
	r = blkfe_rw(&a, BLKIF_OP_READ, 2, 0, 1, 1);
	ck_assert_int_eq(blkbe_do(&be, &a, &r), 0);
	r = blkfe_rw(&b, BLKIF_OP_READ, 2, 0, 1, 1);
	ck_assert_int_eq(blkbe_do(&be, &b, &r), 0);
	check_fill(blkfe_page(&a, 1), 4096, 1);
	check_fill(blkfe_page(&b, 1), 4096, 2);
	blkbk_dev_free(da);
	blkbk_dev_free(db);
	blkfe_close(&a);
	blkfe_close(&b);
}
END_TEST

START_TEST(two_queues_of_one_device)
{
	struct blkfe q0, q1;
	struct blkbk_backing *bk;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_dev_config cfg = { 0 };
	const char *path = blkbe_mkfile(&be, "mq", DISK_BYTES);

	/* one guest, two rings: q1 reuses q0's domain */
	blkfe_open(&q0, BLKBK_ABI_NATIVE, 0, 4);
	q1 = q0;
	q1.sring = hv_gntshr_share(q0.gs, 0, 1, q1.ring_refs, 1);
	ck_assert_ptr_nonnull(q1.sring);
	SHARED_RING_INIT(q1.sring);
	q1.port = hv_evtchn_alloc_unbound(q0.ev, 0);
	q1.req_prod_pvt = q1.rsp_cons = 0;
	ck_assert_int_eq(blkbk_backing_file_open(be.base, path, 0, 0, &bk), 0);
	cfg.base = be.base;
	cfg.gnttab = be.gt;
	cfg.evtchn = be.ev;
	cfg.mux = be.mux;
	cfg.domid = hv_domid(q0.hv);
	cfg.backing = bk;
	cfg.nr_queues = 2;
	d = blkbk_dev_new(&cfg);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(blkbk_queue_connect(d, 0, q0.ring_refs, 0,
					     (evtchn_port_t)q0.port, q0.abi),
			 0);
	ck_assert_int_eq(blkbk_queue_connect(d, 1, q1.ring_refs, 0,
					     (evtchn_port_t)q1.port, q1.abi),
			 0);
	ck_assert_int_eq(blkbk_queue_connect(d, 1, q1.ring_refs, 0,
					     (evtchn_port_t)q1.port, q1.abi),
			 -EBUSY);
	ck_assert_int_eq(blkbk_queue_connect(d, 2, q1.ring_refs, 0,
					     (evtchn_port_t)q1.port, q1.abi),
			 -EINVAL);
	fill(blkfe_page(&q0, 0), 4096, 5);
	r = blkfe_rw(&q0, BLKIF_OP_WRITE, 1, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &q0, &r), 0);
	r = blkfe_rw(&q1, BLKIF_OP_READ, 2, 0, 1, 1);
	ck_assert_int_eq(blkbe_do(&be, &q1, &r), 0);
	check_fill(blkfe_page(&q0, 1), 4096, 5);
	blkbk_dev_free(d);
	blkfe_close(&q0);
}
END_TEST

START_TEST(readonly_device_rejects_writes)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_limits l;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = file_dev(&fe, "disk", 0, 1, NULL);
	blkbk_dev_limits(d, &l);
	ck_assert(l.readonly);
	ck_assert(!l.discard);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE_BARRIER, 2, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r = blkfe_indirect(&fe, BLKIF_OP_WRITE, 3, 0, 0, 1, 2);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_DISCARD;
	r.id = 4;
	r.nr_sectors = 8;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_EOPNOTSUPP);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 5, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(disconnect_waits_for_requests_in_flight)
{
	struct blkfe fe;
	struct ram_backing *rb = ram_new(1);
	struct blkbk_dev *d;
	struct blkbk_req r;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = blkbe_dev(&be, &fe, &rb->b, 0, 0);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 1, 0, 0, 2);
	blkfe_put(&fe, &r);
	blkfe_push(&fe);
	blkbe_pump(&be, 30);
	ck_assert_int_eq(rb->nq, 1);
	ck_assert_int_eq(blkbk_dev_disconnect(d, NULL, NULL), 1);
	/* the data pages are still mapped: the guest cannot take them */
	ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.data, 2), -EBUSY);
	ram_release(rb);
	blkbe_pump(&be, 30);
	ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.data, 2), 0);
	ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.sring, 1), 0);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

static int disc_called;
static void on_disc(void *arg)
{
	disc_called++;
	ck_assert_ptr_eq(arg, &be);
}

START_TEST(disconnect_calls_back_once_drained)
{
	struct blkfe fe;
	struct ram_backing *rb = ram_new(1);
	struct blkbk_dev *d;
	struct blkbk_req r;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = blkbe_dev(&be, &fe, &rb->b, 0, 0);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 0, 0, 1);
	blkfe_put(&fe, &r);
	blkfe_push(&fe);
	blkbe_pump(&be, 30);
	disc_called = 0;
	ck_assert_int_eq(blkbk_dev_disconnect(d, on_disc, &be), 1);
	blkbe_pump(&be, 20);
	ck_assert_int_eq(disc_called, 0);
	ram_release(rb);
	blkbe_pump(&be, 30);
	ck_assert_int_eq(disc_called, 1);
	/* reconnect works after a disconnect */
	fe.req_prod_pvt = fe.rsp_cons = 0;
	SHARED_RING_INIT(fe.sring);
	fe.port = hv_evtchn_alloc_unbound(fe.ev, 0);
	ck_assert_int_eq(blkbk_queue_connect(d, 0, fe.ring_refs, 0,
					     (evtchn_port_t)fe.port, fe.abi),
			 0);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 0, 1, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), 0);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(stats_json_reports_counts)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_stats st;
	json_t *j;
	uint64_t lat = 0;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 1, 0, 0, 2);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), 0);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 2, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), 0);
	r = blkfe_rw(&fe, 77, 3, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_EOPNOTSUPP);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 4, DISK_SECTORS, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	blkbk_dev_get_stats(d, &st);
	for (int i = 0; i < BLKBK_LAT_BUCKETS; i++)
		lat += st.lat_us[i];
	ck_assert_uint_eq(lat, 4);
	ck_assert_uint_eq(st.inflight, 0);
	j = blkbk_stats_json(&st);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(
				 json_object_get(json_object_get(j, "requests"),
						 "read")),
			 2);
	ck_assert_int_eq(json_integer_value(
				 json_object_get(json_object_get(j, "requests"),
						 "other")),
			 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes_read")),
			 8192);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes_written")),
			 4096);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "errors")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "eopnotsupp")),
			 1);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "invalid")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "latency")),
			  BLKBK_LAT_BUCKETS);
	json_decref(j);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hostile frontends                                                   */
/* ------------------------------------------------------------------ */

/* A second, well-behaved guest: still served after the hostile one. */
struct bystander {
	struct blkfe fe;
	struct blkbk_dev *d;
};

static void bystander_open(struct bystander *b)
{
	blkfe_open(&b->fe, BLKBK_ABI_NATIVE, 0, 2);
	b->d = file_dev(&b->fe, "bystander", 0, 0, NULL);
}

static void bystander_check_and_close(struct bystander *b)
{
	struct blkbk_req r;

	fill(blkfe_page(&b->fe, 0), 4096, 1234);
	r = blkfe_rw(&b->fe, BLKIF_OP_WRITE, 900, 8, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &b->fe, &r), BLKIF_RSP_OKAY);
	r = blkfe_rw(&b->fe, BLKIF_OP_READ, 901, 8, 1, 1);
	ck_assert_int_eq(blkbe_do(&be, &b->fe, &r), BLKIF_RSP_OKAY);
	check_fill(blkfe_page(&b->fe, 1), 4096, 1234);
	blkbk_dev_free(b->d);
	blkfe_close(&b->fe);
}

/* the hostile guest's device still answers a valid request */
static void still_serves(struct blkfe *fe, uint64_t id)
{
	struct blkbk_req r = blkfe_rw(fe, BLKIF_OP_READ, id, 0, 0, 1);

	ck_assert_int_eq(blkbe_do(&be, fe, &r), BLKIF_RSP_OKAY);
}

START_TEST(rejects_prod_overflow)
{
	struct bystander by;
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_stats st;
	struct blkbk_req r;
	uint64_t id;
	uint8_t op;
	int16_t s;

	bystander_open(&by);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	still_serves(&fe, 1);
	/* claim 33 requests on a 32-slot ring */
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 0, 0, 1);
	for (int i = 0; i < 32; i++)
		blkfe_put(&fe, &r);
	fe.req_prod_pvt += 1;
	blkfe_push(&fe);
	blkbe_pump(&be, 50);
	ck_assert_int_eq(blkfe_rsp(&fe, &id, &op, &s), 0);
	ck_assert_int_eq(blkbk_queue_halted(d, 0), 1);
	blkbk_dev_get_stats(d, &st);
	ck_assert_uint_eq(st.halts, 1);
	/* halted for good: more notifies, nothing read */
	blkfe_push(&fe);
	blkbe_pump(&be, 20);
	ck_assert_int_eq(blkfe_rsp(&fe, &id, &op, &s), 0);
	bystander_check_and_close(&by);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(rejects_prod_far_behind_cons)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	uint64_t id;
	uint8_t op;
	int16_t s;

	blkfe_open(&fe, BLKBK_ABI_X86_32, 0, 2);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	still_serves(&fe, 1);
	/* req_prod moved backwards: (prod - rsp_prod) wraps to huge */
	fe.req_prod_pvt = 0xfffffff0u;
	blkfe_push(&fe);
	blkbe_pump(&be, 30);
	ck_assert_int_eq(blkfe_rsp(&fe, &id, &op, &s), 0);
	ck_assert_int_eq(blkbk_queue_halted(d, 0), 1);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(rejects_too_many_segments)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 1, 0, 0, 1);
	r.nr_segments = 12; /* encoded as is in the u8 */
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r.nr_segments = 255;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r.nr_segments = 0;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r = blkfe_indirect(&fe, BLKIF_OP_READ, 2, 0, 0, 1, 2);
	r.nr_segments = 257;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r.nr_segments = 65535;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	still_serves(&fe, 3);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(rejects_bad_sector_fields)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;

	blkfe_open(&fe, BLKBK_ABI_X86_64, 0, 4);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 0, 0, 2);
	r.seg[1].first_sect = 6;
	r.seg[1].last_sect = 5;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r.seg[1].first_sect = 0;
	r.seg[1].last_sect = 8;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r.seg[1].last_sect = 7;
	r.sector = DISK_SECTORS - 15; /* one sector too far */
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r.sector = UINT64_MAX - 7;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	r.sector = DISK_SECTORS - 16; /* exactly the end: fine */
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	/* the same rules behind an indirect page */
	r = blkfe_indirect(&fe, BLKIF_OP_READ, 2, 0, 0, 1, 2);
	((struct blkif_request_segment *)blkfe_page(&fe, 0))[1].last_sect = 9;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	still_serves(&fe, 3);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(rejects_bad_or_ungranted_refs)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkbk_stats st;
	grant_ref_t other;
	int persistent = _i;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = file_dev(&fe, "disk", persistent, 0, NULL);
	/* never granted */
	r = blkfe_rw(&fe, BLKIF_OP_READ, 1, 0, 0, 2);
	r.seg[1].gref = 1999;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	/* out of the table */
	r.seg[1].gref = 0xfffffff0u;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	/* granted to another domain */
	ck_assert_ptr_nonnull(hv_gntshr_share(fe.gs, 42, 1, &other, 1));
	r.seg[1].gref = other;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	/* a bad indirect page */
	r = blkfe_indirect(&fe, BLKIF_OP_READ, 2, 0, 0, 1, 2);
	r.indirect_grefs[0] = 1999;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	blkbk_dev_get_stats(d, &st);
	ck_assert_uint_eq(st.grant_errors, 4);
	still_serves(&fe, 3);
	blkbk_dev_free(d);
	/* the good refs of the failed batches were not left mapped */
	ck_assert_int_eq(hv_gntshr_unshare(fe.gs, fe.data, fe.npages), 0);
	blkfe_close(&fe);
}
END_TEST

START_TEST(rejects_readonly_grant_for_read)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;
	grant_ref_t ro;
	uint8_t *page;
	int persistent = _i;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = file_dev(&fe, "disk", persistent, 0, NULL);
	/* data on disk that a read would bring */
	fill(blkfe_page(&fe, 0), 4096, 8);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 1, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	page = hv_gntshr_share(fe.gs, 0, 1, &ro, 0);
	ck_assert_ptr_nonnull(page);
	memset(page, 0x5a, 4096);
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 0, 0, 1);
	r.seg[0].gref = ro; /* the backend would write into it */
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_ERROR);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(page[i], 0x5a);
	/* a read-only grant is fine for a write (we only read it) */
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 3, 8, 0, 1);
	r.seg[0].gref = ro;
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_OKAY);
	still_serves(&fe, 4);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(slot_rewritten_after_copy_changes_nothing)
{
	struct blkfe fe;
	struct ram_backing *rb = ram_new(1);
	struct blkbk_dev *d;
	struct blkbk_req r, evil;
	uint64_t id;
	uint8_t op;
	int16_t st;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 4);
	d = blkbe_dev(&be, &fe, &rb->b, 0, 0);
	fill(blkfe_page(&fe, 0), 2 * 4096, 77);
	r = blkfe_rw(&fe, BLKIF_OP_WRITE, 4242, 40, 0, 2);
	blkfe_put(&fe, &r);
	blkfe_push(&fe);
	blkbe_pump(&be, 30);
	ck_assert_int_eq(rb->nlog, 1);
	/* blkback has its copy: now the guest rewrites the slot */
	evil = blkfe_rw(&fe, BLKIF_OP_READ, 666, UINT64_MAX - 1, 2, 2);
	evil.nr_segments = 11;
	evil.seg[0].last_sect = 200;
	fe.req_prod_pvt--;
	blkfe_put(&fe, &evil);
	ram_release(rb);
	ck_assert(blkbe_wait(&be, &fe, &id, &op, &st));
	ck_assert_uint_eq(id, 4242);
	ck_assert_uint_eq(op, BLKIF_OP_WRITE);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(rb->log[0].op, BLKBK_IO_WRITE);
	ck_assert_uint_eq(rb->log[0].off, 40 * 512);
	ck_assert_uint_eq(rb->log[0].len, 2 * 4096);
	check_fill(rb->mem + 40 * 512, 2 * 4096, 77);
	ck_assert_int_eq(rb->nlog, 1);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(indirect_page_rewritten_after_copy_changes_nothing)
{
	struct blkfe fe;
	struct ram_backing *rb = ram_new(1);
	struct blkbk_dev *d;
	struct blkbk_req r;
	struct blkif_request_segment *segs;
	uint64_t id;
	uint8_t op;
	int16_t st;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 40);
	d = blkbe_dev(&be, &fe, &rb->b, 0, 0);
	fill(blkfe_page(&fe, 1), 20 * 4096, 31);
	r = blkfe_indirect(&fe, BLKIF_OP_WRITE, 7, 8, 0, 1, 20);
	blkfe_put(&fe, &r);
	blkfe_push(&fe);
	blkbe_pump(&be, 30);
	ck_assert_int_eq(rb->nlog, 1);
	segs = (struct blkif_request_segment *)blkfe_page(&fe, 0);
	for (int i = 0; i < 20; i++) {
		segs[i].gref = 1999;
		segs[i].first_sect = 7;
		segs[i].last_sect = 200;
	}
	ram_release(rb);
	ck_assert(blkbe_wait(&be, &fe, &id, &op, &st));
	ck_assert_uint_eq(id, 7);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(rb->log[0].iovcnt, 20);
	ck_assert_uint_eq(rb->log[0].len, 20 * 4096);
	check_fill(rb->mem + 8 * 512, 20 * 4096, 31);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(notification_storm_is_harmless)
{
	struct bystander by;
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_stats st;
	struct timespec t0, t1;

	bystander_open(&by);
	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 100000; i++) {
		ck_assert_int_eq(hv_evtchn_notify(fe.ev, (evtchn_port_t)fe.port),
				 0);
		if (i % 1000 == 0)
			event_base_loop(be.base, EVLOOP_NONBLOCK);
	}
	blkbe_pump(&be, 20);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 10);
	blkbk_dev_get_stats(d, &st);
	/* pending notifies coalesce: far fewer wakeups than notifies */
	ck_assert_uint_ge(st.notifies_in, 1);
	ck_assert_uint_lt(st.notifies_in, 100000);
	ck_assert_uint_eq(st.reqs[BLKBK_ST_READ], 0);
	still_serves(&fe, 1);
	bystander_check_and_close(&by);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(scribbled_response_indexes_do_not_matter)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	still_serves(&fe, 1);
	/* fields only the backend should write, and the notify hint */
	fe.sring->rsp_prod = 0xdeadbeefu;
	fe.sring->rsp_event = 0x12345u;
	fe.sring->req_event = 0;
	r = blkfe_rw(&fe, BLKIF_OP_READ, 2, 0, 0, 1);
	blkfe_put(&fe, &r);
	blkfe_push(&fe);
	blkbe_pump(&be, 20);
	/* our private rsp_prod_pvt is what gets published */
	ck_assert_uint_eq(fe.sring->rsp_prod, 2);
	{
		uint64_t id;
		uint8_t op;
		int16_t st;

		ck_assert(blkbe_wait(&be, &fe, &id, &op, &st));
		ck_assert_uint_eq(id, 2);
		ck_assert_int_eq(st, 0);
	}
	still_serves(&fe, 3);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

START_TEST(unknown_operation_is_eopnotsupp)
{
	struct blkfe fe;
	struct blkbk_dev *d;
	struct blkbk_req r;

	blkfe_open(&fe, BLKBK_ABI_NATIVE, 0, 2);
	d = file_dev(&fe, "disk", 0, 0, NULL);
	for (uint8_t op = 7; op < 12; op++) {
		r = blkfe_rw(&fe, op, op, 0, 0, 1);
		ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_EOPNOTSUPP);
	}
	r = blkfe_rw(&fe, BLKIF_OP_RESERVED_1, 1, 0, 0, 1);
	ck_assert_int_eq(blkbe_do(&be, &fe, &r), BLKIF_RSP_EOPNOTSUPP);
	still_serves(&fe, 2);
	blkbk_dev_free(d);
	blkfe_close(&fe);
}
END_TEST

static Suite *blk_ring_suite(void)
{
	Suite *s = suite_create("blk_ring");
	TCase *tc = tcase_create("datapath");
	TCase *th = tcase_create("hostile");

	tcase_add_unchecked_fixture(tc, lhf_start, lhf_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, read_write_verify_in_each_abi, 0, 3);
	tcase_add_test(tc, partial_segments_touch_only_their_sectors);
	tcase_add_test(tc, direct_io_round_trip);
	tcase_add_test(tc, block_device_backing);
	tcase_add_test(tc, flush_and_barrier_succeed);
	tcase_add_test(tc, barrier_waits_for_earlier_writes);
	tcase_add_test(tc, discard_then_reads_zeros);
	tcase_add_loop_test(tc, indirect_256_segments_round_trip, 0, 2);
	tcase_add_loop_test(tc, persistent_grants_are_reused, 0, 2);
	tcase_add_test(tc, order4_ring_takes_300_requests_in_one_push);
	tcase_add_test(tc, ring_wraps_many_times_in_batches);
	tcase_add_test(tc, two_guests_side_by_side);
	tcase_add_test(tc, two_queues_of_one_device);
	tcase_add_test(tc, readonly_device_rejects_writes);
	tcase_add_test(tc, disconnect_waits_for_requests_in_flight);
	tcase_add_test(tc, disconnect_calls_back_once_drained);
	tcase_add_test(tc, stats_json_reports_counts);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(th, lhf_start, lhf_stop);
	tcase_add_checked_fixture(th, setup, teardown);
	tcase_set_timeout(th, 60);
	tcase_add_test(th, rejects_prod_overflow);
	tcase_add_test(th, rejects_prod_far_behind_cons);
	tcase_add_test(th, rejects_too_many_segments);
	tcase_add_test(th, rejects_bad_sector_fields);
	tcase_add_loop_test(th, rejects_bad_or_ungranted_refs, 0, 2);
	tcase_add_loop_test(th, rejects_readonly_grant_for_read, 0, 2);
	tcase_add_test(th, slot_rewritten_after_copy_changes_nothing);
	tcase_add_test(th, indirect_page_rewritten_after_copy_changes_nothing);
	tcase_add_test(th, notification_storm_is_harmless);
	tcase_add_test(th, unknown_operation_is_eopnotsupp);
	tcase_add_test(th, scribbled_response_indexes_do_not_matter);
	suite_add_tcase(s, th);
	return s;
}

CHECK_MAIN(blk_ring_suite)
