/*
 * check_blk_validate - pure checks of blkback's request handling: the
 * validation matrix (one row per rule) on decoded copies, and the ABI
 * translation of native, x86_32 and x86_64 ring slots, built byte by byte
 * at the offsets Linux and Xen document (not through our own structs).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "blkback/common.h"
#include "check_main.h"

static const struct blkbk_limits lim = {
	.sectors = 2048, /* 1 MiB */
	.sector_size = 512,
	.max_indirect_segs = BLKBK_MAX_INDIRECT_SEGS,
	.flush = 1,
	.barrier = 1,
	.discard = 1,
};

static struct blkbk_req rw(uint8_t op, uint16_t nseg, uint64_t sector)
{
	struct blkbk_req r;

	memset(&r, 0, sizeof(r));
	r.operation = op;
	r.op = op;
	r.nr_segments = nseg;
	r.sector = sector;
	r.id = 77;
	for (unsigned int i = 0; i < BLKBK_MAX_INDIRECT_SEGS; i++) {
		r.seg[i].gref = 8 + i;
		r.seg[i].first_sect = 0;
		r.seg[i].last_sect = 7;
	}
	return r;
}

struct row {
	const char *name;
	struct blkbk_req r;
	struct blkbk_limits l;
	int header;      /* expected from blkbk_req_check */
	int segs;        /* expected from blkbk_req_check_segs (if header ok) */
	const char *why; /* substring of the reason */
};

static struct row rows[64];
static int nrows;

static void add(const char *name, struct blkbk_req r,
		const struct blkbk_limits *l, int header, int segs,
		const char *why)
{
	ck_assert_int_lt(nrows, 64);
	rows[nrows].name = name;
	rows[nrows].r = r;
	rows[nrows].l = l ? *l : lim;
	rows[nrows].header = header;
	rows[nrows].segs = segs;
	rows[nrows].why = why;
	nrows++;
}

static void build_matrix(void)
{
	struct blkbk_limits ro = lim, nofeat = lim, big = lim;
	struct blkbk_req r;

	ro.readonly = 1;
	nofeat.flush = nofeat.barrier = nofeat.discard = 0;
	nofeat.max_indirect_segs = 0;
	big.sector_size = 4096;
	nrows = 0;

	add("read 1 seg", rw(BLKIF_OP_READ, 1, 0), NULL, 0, 0, NULL);
	add("write 11 segs", rw(BLKIF_OP_WRITE, 11, 0), NULL, 0, 0, NULL);
	add("read 0 segs", rw(BLKIF_OP_READ, 0, 0), NULL, BLKIF_RSP_ERROR, 0,
	    "nr_segments");
	add("read 12 segs", rw(BLKIF_OP_READ, 12, 0), NULL, BLKIF_RSP_ERROR, 0,
	    "nr_segments");
	add("write 255 segs", rw(BLKIF_OP_WRITE, 255, 0), NULL, BLKIF_RSP_ERROR,
	    0, "nr_segments");
	add("write on read-only", rw(BLKIF_OP_WRITE, 1, 0), &ro,
	    BLKIF_RSP_ERROR, 0, "read-only");
	add("read on read-only", rw(BLKIF_OP_READ, 1, 0), &ro, 0, 0, NULL);
	add("unknown op 9", rw(9, 1, 0), NULL, BLKIF_RSP_EOPNOTSUPP, 0,
	    "unknown");
	add("reserved op 4", rw(BLKIF_OP_RESERVED_1, 1, 0), NULL,
	    BLKIF_RSP_EOPNOTSUPP, 0, "unknown");
	add("flush", rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0), NULL, 0, 0, NULL);
	add("flush not offered", rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0), &nofeat,
	    BLKIF_RSP_EOPNOTSUPP, 0, "flush");
	add("barrier 0 segs", rw(BLKIF_OP_WRITE_BARRIER, 0, 0), NULL, 0, 0,
	    NULL);
	add("barrier 12 segs", rw(BLKIF_OP_WRITE_BARRIER, 12, 0), NULL,
	    BLKIF_RSP_ERROR, 0, "nr_segments");
	add("barrier not offered", rw(BLKIF_OP_WRITE_BARRIER, 1, 0), &nofeat,
	    BLKIF_RSP_EOPNOTSUPP, 0, "barrier");
	add("barrier on read-only", rw(BLKIF_OP_WRITE_BARRIER, 1, 0), &ro,
	    BLKIF_RSP_ERROR, 0, "read-only");

	r = rw(BLKIF_OP_DISCARD, 0, 100);
	r.nr_sectors = 1948;
	add("discard to the end", r, NULL, 0, 0, NULL);
	r.nr_sectors = 1949;
	add("discard past the end", r, NULL, BLKIF_RSP_ERROR, 0, "end");
	r.sector = UINT64_MAX - 10;
	r.nr_sectors = 20;
	add("discard wrapping", r, NULL, BLKIF_RSP_ERROR, 0, "end");
	r = rw(BLKIF_OP_DISCARD, 0, 8);
	r.nr_sectors = 8;
	add("discard not offered", r, &nofeat, BLKIF_RSP_EOPNOTSUPP, 0,
	    "discard");
	add("discard on read-only", r, &ro, BLKIF_RSP_ERROR, 0, "read-only");
	add("discard aligned 4k", r, &big, 0, 0, NULL);
	r.sector = 9;
	add("discard misaligned 4k", r, &big, BLKIF_RSP_ERROR, 0, "aligned");

	r = rw(BLKIF_OP_INDIRECT, 256, 0);
	r.op = BLKIF_OP_WRITE;
	add("indirect write 256", r, NULL, 0, 0, NULL);
	r.nr_segments = 257;
	add("indirect 257 > max", r, NULL, BLKIF_RSP_ERROR, 0, "indirect");
	r.nr_segments = 0;
	add("indirect 0", r, NULL, BLKIF_RSP_ERROR, 0, "indirect");
	r.nr_segments = 5;
	add("indirect 5 (fewer than 11 is fine)", r, NULL, 0, 0, NULL);
	add("indirect write on read-only", r, &ro, BLKIF_RSP_ERROR, 0,
	    "read-only");
	add("indirect not offered", r, &nofeat, BLKIF_RSP_EOPNOTSUPP, 0,
	    "indirect");
	r.op = BLKIF_OP_DISCARD;
	add("indirect of discard", r, NULL, BLKIF_RSP_ERROR, 0, "indirect_op");
	r.op = BLKIF_OP_INDIRECT;
	add("indirect of indirect", r, NULL, BLKIF_RSP_ERROR, 0, "indirect_op");

	r = rw(BLKIF_OP_READ, 2, 0);
	r.seg[1].first_sect = 5;
	r.seg[1].last_sect = 4;
	add("first_sect > last_sect", r, NULL, 0, BLKIF_RSP_ERROR, "first_sect");
	r.seg[1].first_sect = 0;
	r.seg[1].last_sect = 8;
	add("last_sect 8", r, NULL, 0, BLKIF_RSP_ERROR, "last_sect");
	r.seg[1].last_sect = 255;
	add("last_sect 255", r, NULL, 0, BLKIF_RSP_ERROR, "last_sect");
	r.seg[1].first_sect = 7;
	r.seg[1].last_sect = 7;
	add("one sector at the end of a page", r, NULL, 0, 0, NULL);

	r = rw(BLKIF_OP_READ, 1, 2040);
	add("last page of the device", r, NULL, 0, 0, NULL);
	r.sector = 2041;
	add("one sector beyond the end", r, NULL, 0, BLKIF_RSP_ERROR, "end");
	r.sector = 1ull << 60;
	add("far beyond the end", r, NULL, 0, BLKIF_RSP_ERROR, "end");
	r.sector = UINT64_MAX - 3;
	add("sector wraps around", r, NULL, 0, BLKIF_RSP_ERROR, "end");

	r = rw(BLKIF_OP_READ, 1, 8);
	add("4k aligned on 4k device", r, &big, 0, 0, NULL);
	r.sector = 9;
	add("misaligned sector on 4k device", r, &big, 0, BLKIF_RSP_ERROR,
	    "aligned");
	r.sector = 8;
	r.seg[0].last_sect = 3;
	add("half page on 4k device", r, &big, 0, BLKIF_RSP_ERROR, "aligned");
}

START_TEST(validation_matrix)
{
	build_matrix();
	for (int i = 0; i < nrows; i++) {
		struct row *w = &rows[i];
		const char *why = NULL;
		int h = blkbk_req_check(&w->r, &w->l, &why);

		ck_assert_msg(h == w->header,
			      "%s: header status %d, want %d (%s)", w->name, h,
			      w->header, why ? why : "");
		if (h == BLKIF_RSP_OKAY &&
		    (w->r.operation == BLKIF_OP_READ ||
		     w->r.operation == BLKIF_OP_WRITE ||
		     w->r.operation == BLKIF_OP_INDIRECT ||
		     w->r.operation == BLKIF_OP_WRITE_BARRIER)) {
			int s = blkbk_req_check_segs(&w->r, &w->l, &why);

			ck_assert_msg(s == w->segs,
				      "%s: segment status %d, want %d (%s)",
				      w->name, s, w->segs, why ? why : "");
			h = s;
		}
		if (w->why) {
			ck_assert_msg(h != 0 && why && strstr(why, w->why),
				      "%s: reason '%s', want '%s'", w->name,
				      why ? why : "(none)", w->why);
		}
	}
}
END_TEST

START_TEST(segments_sum_to_nr_sectors)
{
	struct blkbk_req r = rw(BLKIF_OP_WRITE, 3, 0);

	r.seg[0].first_sect = 1;
	r.seg[0].last_sect = 7; /* 7 */
	r.seg[1].first_sect = 0;
	r.seg[1].last_sect = 0; /* 1 */
	r.seg[2].first_sect = 2;
	r.seg[2].last_sect = 5; /* 4 */
	ck_assert_int_eq(blkbk_req_check_segs(&r, &lim, NULL), 0);
	ck_assert_uint_eq(r.nr_sectors, 12);
}
END_TEST

/* ---- ABI translation, from hand-made bytes ---- */

static void put8(uint8_t *b, size_t off, uint8_t v)
{
	b[off] = v;
}
static void put16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, 2);
}
static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}
static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

/* offsets: {id, sector, seg} for rw; {nr_sectors} discard;
 * {handle, grefs} indirect */
struct abi_off {
	enum blkbk_abi abi;
	size_t id, sector, seg, nr_sectors, ind_handle, ind_grefs;
};

static const struct abi_off offs[] = {
	{ BLKBK_ABI_X86_32, 4, 12, 20, 20, 20, 24 },
	{ BLKBK_ABI_X86_64, 8, 16, 24, 24, 24, 28 },
#if defined(__x86_64__)
	{ BLKBK_ABI_NATIVE, 8, 16, 24, 24, 24, 28 },
#endif
};

START_TEST(abi_decode_rw)
{
	const struct abi_off *o = &offs[_i];
	uint8_t b[128];
	struct blkbk_req r;

	memset(b, 0xee, sizeof(b));
	put8(b, 0, BLKIF_OP_WRITE);
	put8(b, 1, 3);
	put16(b, 2, 0xca5e);
	put64(b, o->id, 0x1122334455667788ull);
	put64(b, o->sector, 0x0102030405060708ull);
	for (int i = 0; i < 3; i++) {
		put32(b, o->seg + 8 * i, 1000 + i);
		put8(b, o->seg + 8 * i + 4, (uint8_t)i);
		put8(b, o->seg + 8 * i + 5, 7);
	}
	blkbk_req_decode(o->abi, b, &r);
	ck_assert_uint_eq(r.operation, BLKIF_OP_WRITE);
	ck_assert_uint_eq(r.op, BLKIF_OP_WRITE);
	ck_assert_uint_eq(r.nr_segments, 3);
	ck_assert_uint_eq(r.handle, 0xca5e);
	ck_assert_uint_eq(r.id, 0x1122334455667788ull);
	ck_assert_uint_eq(r.sector, 0x0102030405060708ull);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(r.seg[i].gref, 1000 + i);
		ck_assert_uint_eq(r.seg[i].first_sect, i);
		ck_assert_uint_eq(r.seg[i].last_sect, 7);
	}
}
END_TEST

START_TEST(abi_decode_discard)
{
	const struct abi_off *o = &offs[_i];
	uint8_t b[128];
	struct blkbk_req r;

	memset(b, 0, sizeof(b));
	put8(b, 0, BLKIF_OP_DISCARD);
	put8(b, 1, BLKIF_DISCARD_SECURE);
	put16(b, 2, 5);
	put64(b, o->id, 42);
	put64(b, o->sector, 4096);
	put64(b, o->nr_sectors, 0xabcdef);
	blkbk_req_decode(o->abi, b, &r);
	ck_assert_uint_eq(r.operation, BLKIF_OP_DISCARD);
	ck_assert_uint_eq(r.discard_flag, BLKIF_DISCARD_SECURE);
	ck_assert_uint_eq(r.id, 42);
	ck_assert_uint_eq(r.sector, 4096);
	ck_assert_uint_eq(r.nr_sectors, 0xabcdef);
	ck_assert_uint_eq(r.nr_segments, 0);
}
END_TEST

START_TEST(abi_decode_indirect)
{
	const struct abi_off *o = &offs[_i];
	uint8_t b[128];
	struct blkbk_req r;

	memset(b, 0, sizeof(b));
	put8(b, 0, BLKIF_OP_INDIRECT);
	put8(b, 1, BLKIF_OP_READ);
	put16(b, 2, 200);
	put64(b, o->id, 9);
	put64(b, o->sector, 64);
	put16(b, o->ind_handle, 51712);
	for (int i = 0; i < 8; i++)
		put32(b, o->ind_grefs + 4 * i, 300 + i);
	blkbk_req_decode(o->abi, b, &r);
	ck_assert_uint_eq(r.operation, BLKIF_OP_INDIRECT);
	ck_assert_uint_eq(r.op, BLKIF_OP_READ);
	ck_assert_uint_eq(r.nr_segments, 200);
	ck_assert_uint_eq(r.id, 9);
	ck_assert_uint_eq(r.sector, 64);
	ck_assert_uint_eq(r.handle, 51712);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(r.indirect_grefs[i], 300 + i);
}
END_TEST

START_TEST(abi_decode_never_reads_more_than_11_direct_segments)
{
	uint8_t b[128];
	struct blkbk_req r;

	memset(b, 0x55, sizeof(b));
	put8(b, 0, BLKIF_OP_READ);
	put8(b, 1, 200); /* hostile count: copied as is, rejected later */
	memset(&r, 0xaa, sizeof(r));
	blkbk_req_decode(BLKBK_ABI_X86_32, b, &r);
	ck_assert_uint_eq(r.nr_segments, 200);
	/* seg[11..] untouched: the decoder copied 11 at most */
	ck_assert_uint_eq(r.seg[11].gref, 0xaaaaaaaau);
	ck_assert_int_eq(blkbk_req_check(&r, &lim, NULL), BLKIF_RSP_ERROR);
}
END_TEST

START_TEST(ring_sizes_per_abi_and_order)
{
	ck_assert_uint_eq(blkbk_ring_size(BLKBK_ABI_NATIVE, 0), 32);
	ck_assert_uint_eq(blkbk_ring_size(BLKBK_ABI_X86_32, 0), 32);
	ck_assert_uint_eq(blkbk_ring_size(BLKBK_ABI_X86_64, 0), 32);
	ck_assert_uint_eq(blkbk_ring_size(BLKBK_ABI_NATIVE, 1), 64);
	ck_assert_uint_eq(blkbk_ring_size(BLKBK_ABI_X86_32, 4), 512);
	ck_assert_uint_eq(blkbk_ring_size(BLKBK_ABI_X86_64, 4), 512);
	ck_assert_str_eq(blkbk_abi_name(BLKBK_ABI_X86_32), "x86_32-abi");
}
END_TEST

static Suite *blk_validate_suite(void)
{
	Suite *s = suite_create("blk_validate");
	TCase *tc = tcase_create("validate");
	int nabi = (int)(sizeof(offs) / sizeof(offs[0]));

	tcase_add_test(tc, validation_matrix);
	tcase_add_test(tc, segments_sum_to_nr_sectors);
	tcase_add_loop_test(tc, abi_decode_rw, 0, nabi);
	tcase_add_loop_test(tc, abi_decode_discard, 0, nabi);
	tcase_add_loop_test(tc, abi_decode_indirect, 0, nabi);
	tcase_add_test(tc, abi_decode_never_reads_more_than_11_direct_segments);
	tcase_add_test(tc, ring_sizes_per_abi_and_order);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blk_validate_suite)
