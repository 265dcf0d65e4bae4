/*
 * check_net_tx - pure checks of netback's TX path: the slot-chain
 * validation matrix (one row per rule of netif.h and Linux's bounds,
 * every malformed case of issue 12), and the mapping between netif's
 * offload flags / GSO extra and the TAP's virtio_net_hdr, both ways.
 * Extra-info slots are built byte by byte at netif.h's offsets.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "netback/netback.h"

#define MAXS NETBK_TX_COPY_MAX

/* A chain under construction. */
struct chain {
	struct netif_tx_request s[MAXS + 8];
	unsigned int n;
};

static void req(struct chain *c, uint16_t size, uint16_t off, uint16_t flags)
{
	struct netif_tx_request *r = &c->s[c->n];

	memset(r, 0, sizeof(*r));
	r->gref = 100 + c->n;
	r->offset = off;
	r->size = size;
	r->flags = flags;
	r->id = (uint16_t)(7 + c->n);
	c->n++;
}

/* extra - type, flags, then the union at byte 2 (netif.h's layout) */
static void extra(struct chain *c, uint8_t type, uint8_t flags, uint16_t gsz,
		  uint8_t gtype)
{
	uint8_t *b = (uint8_t *)&c->s[c->n];

	memset(b, 0, sizeof(c->s[0]));
	b[0] = type;
	b[1] = flags;
	if (type == XEN_NETIF_EXTRA_TYPE_GSO) {
		memcpy(b + 2, &gsz, 2);
		b[4] = gtype;
	} else {
		memcpy(b + 2, "\x01\x00\x5e\x00\x00\x01", 6);
	}
	c->n++;
}

/* frags - n fragments of size each after the first, chained */
static void frags(struct chain *c, unsigned int n, uint16_t size)
{
	for (unsigned int i = 0; i < n; i++)
		req(c, size, 0, i + 1 < n ? NETTXF_more_data : 0);
}

/* one extra-info slot after a 1500-byte first slot (rows with build
 * NULL): type, GSO size, GSO type */
struct one_extra {
	uint8_t type;
	uint16_t gso_size;
	uint8_t gso_type;
};

struct row {
	const char *name;
	void (*build)(struct chain *c);
	struct one_extra x;
	unsigned int avail; /* 0: all built */
	enum netbk_tx_verdict v;
	enum netbk_tx_why why;
	unsigned int nr_slots; /* expected when not fatal */
	uint32_t first_size;   /* expected data[0].size when OK */
};

static void b_single(struct chain *c)
{
	req(c, 60, 0, 0);
}
static void b_three(struct chain *c)
{
	req(c, 3000, 100, NETTXF_more_data);
	frags(c, 2, 1000);
	c->s[2].size = 500;
}
static void b_runt(struct chain *c)
{
	req(c, 13, 0, 0);
}
static void b_first_small_after_frags(struct chain *c)
{
	req(c, 1010, 0, NETTXF_more_data);
	frags(c, 1, 1000); /* 10 bytes left in the first */
}
static void b_cross_page(struct chain *c)
{
	req(c, 200, 4000, 0);
}
static void b_frag_cross_page(struct chain *c)
{
	req(c, 2000, 0, NETTXF_more_data);
	req(c, 1000, 3500, 0);
}
static void b_frag_oversize(struct chain *c)
{
	req(c, 1000, 0, NETTXF_more_data);
	frags(c, 2, 800); /* 1600 > 1000 */
}
static void b_legacy_max(struct chain *c)
{
	req(c, 18 * 100 + 60, 0, NETTXF_more_data);
	frags(c, NETBK_TX_LEGACY_SLOTS_MAX, 100);
}
static void b_too_many(struct chain *c)
{
	req(c, 19 * 100 + 60, 0, NETTXF_more_data);
	frags(c, NETBK_TX_LEGACY_SLOTS_MAX + 1, 100);
}
static void b_fatal_slots(struct chain *c)
{
	req(c, 30000, 0, NETTXF_more_data);
	frags(c, NETBK_TX_FATAL_SLOTS + 1, 100);
}
static void b_never_ending(struct chain *c)
{
	req(c, 3000, 0, NETTXF_more_data);
	req(c, 100, 0, NETTXF_more_data);
	req(c, 100, 0, NETTXF_more_data); /* and req_prod ends here */
}
static void b_gso(struct chain *c)
{
	req(c, 9000, 0,
	    NETTXF_extra_info | NETTXF_more_data | NETTXF_csum_blank);
	extra(c, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
	frags(c, 2, 4096);
}
static void b_extra_missing(struct chain *c)
{
	req(c, 1500, 0, NETTXF_extra_info);
}
static void b_extra_more_missing(struct chain *c)
{
	req(c, 1500, 0, NETTXF_extra_info);
	extra(c, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_FLAG_MORE, 0,
	      0);
}
static void b_mcast(struct chain *c)
{
	req(c, 60, 0, NETTXF_extra_info);
	extra(c, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_FLAG_MORE, 0,
	      0);
	extra(c, XEN_NETIF_EXTRA_TYPE_MCAST_DEL, 0, 0, 0);
}
static void b_extras_forever(struct chain *c)
{
	req(c, 60, 0, NETTXF_extra_info);
	for (int i = 0; i < 8; i++)
		extra(c, XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
		      XEN_NETIF_EXTRA_FLAG_MORE, 0, 0);
}
static void b_zero_len_frag(struct chain *c)
{
	req(c, 100, 0, NETTXF_more_data);
	req(c, 0, 0, 0);
}

static const struct row rows[] = {
	{ "single slot", b_single, { 0 }, 0, NETBK_TX_OK, NETBK_TXW_NONE, 1, 60 },
	{ "three slots", b_three, { 0 }, 0, NETBK_TX_OK, NETBK_TXW_NONE, 3, 1500 },
	{ "runt", b_runt, { 0 }, 0, NETBK_TX_DROP, NETBK_TXW_RUNT, 1, 0 },
	{ "first slot runt once fragments are off",
	  b_first_small_after_frags,
	  { 0 },
	  0,
	  NETBK_TX_DROP,
	  NETBK_TXW_RUNT,
	  2,
	  0 },
	{ "offset+size past the page",
	  b_cross_page,
	  { 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_CROSS_PAGE,
	  0,
	  0 },
	{ "fragment offset+size past the page",
	  b_frag_cross_page,
	  { 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_CROSS_PAGE,
	  0,
	  0 },
	{ "size smaller than the fragments",
	  b_frag_oversize,
	  { 0 },
	  0,
	  NETBK_TX_DROP,
	  NETBK_TXW_FRAG_OVERSIZE,
	  3,
	  0 },
	{ "18 fragments served",
	  b_legacy_max,
	  { 0 },
	  0,
	  NETBK_TX_OK,
	  NETBK_TXW_NONE,
	  19,
	  60 },
	{ "19 fragments dropped",
	  b_too_many,
	  { 0 },
	  0,
	  NETBK_TX_DROP,
	  NETBK_TXW_TOO_MANY_SLOTS,
	  20,
	  0 },
	{ "chain past the fatal bound",
	  b_fatal_slots,
	  { 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_FATAL_SLOTS,
	  0,
	  0 },
	{ "more_data never ends",
	  b_never_ending,
	  { 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_UNTERMINATED,
	  0,
	  0 },
	{ "no slot at all",
	  b_single,
	  { 0 },
	  0xffff,
	  NETBK_TX_FATAL,
	  NETBK_TXW_UNTERMINATED,
	  0,
	  0 },
	{ "GSO extra + fragments",
	  b_gso,
	  { 0 },
	  0,
	  NETBK_TX_OK,
	  NETBK_TXW_NONE,
	  4,
	  9000 - 8192 },
	{ "GSO size 0",
	  NULL,
	  { XEN_NETIF_EXTRA_TYPE_GSO, 0, XEN_NETIF_GSO_TYPE_TCPV4 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_GSO_SIZE,
	  0,
	  0 },
	{ "GSO type unknown",
	  NULL,
	  { XEN_NETIF_EXTRA_TYPE_GSO, 1448, 7 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_GSO_TYPE,
	  0,
	  0 },
	{ "GSO type none",
	  NULL,
	  { XEN_NETIF_EXTRA_TYPE_GSO, 1448, XEN_NETIF_GSO_TYPE_NONE },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_GSO_TYPE,
	  0,
	  0 },
	{ "extra type 0",
	  NULL,
	  { XEN_NETIF_EXTRA_TYPE_NONE, 0, 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_EXTRA_TYPE,
	  0,
	  0 },
	{ "extra type past MAX",
	  NULL,
	  { XEN_NETIF_EXTRA_TYPE_MAX, 0, 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_EXTRA_TYPE,
	  0,
	  0 },
	{ "extra past req_prod",
	  b_extra_missing,
	  { 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_EXTRA_MISSING,
	  0,
	  0 },
	{ "extra MORE past req_prod",
	  b_extra_more_missing,
	  { 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_EXTRA_MISSING,
	  0,
	  0 },
	{ "multicast add + del",
	  b_mcast,
	  { 0 },
	  0,
	  NETBK_TX_OK,
	  NETBK_TXW_NONE,
	  3,
	  60 },
	{ "extras never end",
	  b_extras_forever,
	  { 0 },
	  0,
	  NETBK_TX_FATAL,
	  NETBK_TXW_EXTRA_COUNT,
	  0,
	  0 },
	{ "zero-length fragment",
	  b_zero_len_frag,
	  { 0 },
	  0,
	  NETBK_TX_OK,
	  NETBK_TXW_NONE,
	  2,
	  100 },
};

START_TEST(tx_check_matrix)
{
	const struct row *r = &rows[_i];
	struct chain c = { .n = 0 };
	struct netbk_tx_pkt pkt;
	enum netbk_tx_why why;
	enum netbk_tx_verdict v;
	unsigned int avail;

	if (r->build) {
		r->build(&c);
	} else {
		req(&c, 1500, 0, NETTXF_extra_info);
		extra(&c, r->x.type, 0, r->x.gso_size, r->x.gso_type);
	}
	avail = r->avail == 0xffff ? 0 : r->avail ? r->avail : c.n;
	if (avail > MAXS)
		avail = MAXS;
	v = netbk_tx_check(c.s, avail, &pkt, &why);
	ck_assert_msg(v == r->v && why == r->why,
		      "%s: verdict %d (%s), expected %d (%s)", r->name, v,
		      netbk_tx_why_name(why), r->v, netbk_tx_why_name(r->why));
	if (v == NETBK_TX_FATAL)
		return;
	ck_assert_msg(pkt.nr_slots == r->nr_slots, "%s: %u slots, expected %u",
		      r->name, pkt.nr_slots, r->nr_slots);
	ck_assert_uint_eq(pkt.nr_slots, 1 + pkt.nr_extras + pkt.nr_data - 1);
	/* the ids to answer are the data slots' own */
	ck_assert_uint_eq(pkt.data[0].id, 7);
	if (v == NETBK_TX_OK)
		ck_assert_msg(pkt.data[0].size == r->first_size,
			      "%s: first slot %u bytes, expected %u", r->name,
			      pkt.data[0].size, r->first_size);
}
END_TEST

START_TEST(tx_check_reads_no_slot_past_the_packet)
{
	struct chain c = { .n = 0 };
	struct netbk_tx_pkt pkt;
	enum netbk_tx_why why;

	/* a packet of one slot followed by garbage: only slot 0 counts */
	req(&c, 60, 0, 0);
	extra(&c, 99, 0xff, 0, 0);
	ck_assert_int_eq(netbk_tx_check(c.s, c.n, &pkt, &why), NETBK_TX_OK);
	ck_assert_uint_eq(pkt.nr_slots, 1);
	ck_assert_uint_eq(pkt.len, 60);
}
END_TEST

START_TEST(tx_check_keeps_gso_and_mcast)
{
	struct chain c = { .n = 0 };
	struct netbk_tx_pkt pkt;
	enum netbk_tx_why why;

	b_gso(&c);
	ck_assert_int_eq(netbk_tx_check(c.s, c.n, &pkt, &why), NETBK_TX_OK);
	ck_assert_uint_eq(pkt.gso.type, XEN_NETIF_EXTRA_TYPE_GSO);
	ck_assert_uint_eq(pkt.gso.u.gso.size, 1448);
	ck_assert_uint_eq(pkt.nr_data, 3);
	ck_assert_uint_eq(pkt.len, 9000);
	c.n = 0;
	b_mcast(&c);
	ck_assert_int_eq(netbk_tx_check(c.s, c.n, &pkt, &why), NETBK_TX_OK);
	ck_assert(pkt.mcast_add && pkt.mcast_del);
	ck_assert_mem_eq(pkt.mcast_add_addr, "\x01\x00\x5e\x00\x00\x01", 6);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Offload headers                                                     */
/* ------------------------------------------------------------------ */

/* frame - Ethernet + IPv4 (ihl 5) or IPv6 + TCP (doff 8) or UDP */
static size_t frame(uint8_t *f, int v6, int vlan, uint8_t proto)
{
	size_t o = 12;

	memset(f, 0, 256);
	if (vlan) {
		f[o] = 0x81;
		f[o + 1] = 0x00;
		o += 4;
	}
	f[o] = v6 ? 0x86 : 0x08;
	f[o + 1] = v6 ? 0xdd : 0x00;
	o += 2;
	if (v6) {
		f[o] = 0x60;
		f[o + 6] = proto;
		o += 40;
	} else {
		f[o] = 0x45;
		f[o + 9] = proto;
		o += 20;
	}
	if (proto == IPPROTO_TCP)
		f[o + 12] = 8 << 4;
	return o;
}

struct hrow {
	const char *name;
	int v6, vlan;
	uint8_t proto;
	uint16_t flags;
	uint8_t gso_type; /* XEN_NETIF_GSO_TYPE_* or 0 */
	int rc;
	uint8_t vflags, vgso;
	uint16_t csum_offset;
};

static const struct hrow hrows[] = {
	{ "no offload", 0, 0, IPPROTO_TCP, 0, 0, 0, 0, 0, 0 },
	{ "data validated", 0, 0, IPPROTO_TCP, NETTXF_data_validated, 0, 0,
	  VIRTIO_NET_HDR_F_DATA_VALID, 0, 0 },
	{ "tcp4 csum", 0, 0, IPPROTO_TCP, NETTXF_csum_blank, 0, 0,
	  VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 16 },
	{ "udp6 csum", 1, 0, IPPROTO_UDP, NETTXF_csum_blank, 0, 0,
	  VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 6 },
	{ "vlan tcp6 csum", 1, 1, IPPROTO_TCP,
	  NETTXF_csum_blank | NETTXF_data_validated, 0, 0,
	  VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 16 },
	{ "icmp csum blank", 0, 0, IPPROTO_ICMP, NETTXF_csum_blank, 0,
	  -EPROTONOSUPPORT, 0, 0, 0 },
	{ "gso tcpv4", 0, 0, IPPROTO_TCP, NETTXF_csum_blank,
	  XEN_NETIF_GSO_TYPE_TCPV4, 0, VIRTIO_NET_HDR_F_NEEDS_CSUM,
	  VIRTIO_NET_HDR_GSO_TCPV4, 16 },
	{ "gso tcpv6", 1, 0, IPPROTO_TCP, NETTXF_csum_blank,
	  XEN_NETIF_GSO_TYPE_TCPV6, 0, VIRTIO_NET_HDR_F_NEEDS_CSUM,
	  VIRTIO_NET_HDR_GSO_TCPV6, 16 },
	{ "gso tcpv6 on ipv4", 0, 0, IPPROTO_TCP, NETTXF_csum_blank,
	  XEN_NETIF_GSO_TYPE_TCPV6, -EPROTONOSUPPORT, 0, 0, 0 },
	{ "gso on udp", 0, 0, IPPROTO_UDP, NETTXF_csum_blank,
	  XEN_NETIF_GSO_TYPE_TCPV4, -EPROTONOSUPPORT, 0, 0, 0 },
};

START_TEST(tx_vnet_hdr_matrix)
{
	const struct hrow *r = &hrows[_i];
	struct netbk_tx_pkt pkt;
	struct virtio_net_hdr h;
	uint8_t f[256];
	size_t l4 = frame(f, r->v6, r->vlan, r->proto);
	int rc;

	memset(&pkt, 0, sizeof(pkt));
	pkt.flags = r->flags;
	if (r->gso_type) {
		pkt.gso.type = XEN_NETIF_EXTRA_TYPE_GSO;
		pkt.gso.u.gso.type = r->gso_type;
		pkt.gso.u.gso.size = 1448;
	}
	rc = netbk_tx_vnet_hdr(&pkt, f, sizeof(f), &h);
	ck_assert_msg(rc == r->rc, "%s: %d", r->name, rc);
	if (rc)
		return;
	ck_assert_msg(h.flags == r->vflags, "%s: flags %u", r->name, h.flags);
	ck_assert_uint_eq(h.gso_type, r->vgso);
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		ck_assert_uint_eq(h.csum_start, l4);
		ck_assert_uint_eq(h.csum_offset, r->csum_offset);
	}
	if (r->vgso) {
		ck_assert_uint_eq(h.gso_size, 1448);
		ck_assert_uint_eq(h.hdr_len, l4 + 32);
	}
}
END_TEST

START_TEST(rx_flags_from_vnet_hdr)
{
	struct virtio_net_hdr h = { 0 };
	struct netif_extra_info gso;
	const unsigned int both = (1u << XEN_NETIF_GSO_TYPE_TCPV4) |
				  (1u << XEN_NETIF_GSO_TYPE_TCPV6);
	uint16_t fl;

	ck_assert_int_eq(netbk_rx_flags(&h, both, &fl, &gso), 0);
	ck_assert_uint_eq(fl, 0);
	ck_assert_uint_eq(gso.type, XEN_NETIF_EXTRA_TYPE_NONE);
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	ck_assert_int_eq(netbk_rx_flags(&h, both, &fl, &gso), 0);
	ck_assert_uint_eq(fl, NETRXF_data_validated);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	h.gso_size = 1428;
	ck_assert_int_eq(netbk_rx_flags(&h, both, &fl, &gso), 0);
	ck_assert_uint_eq(fl, NETRXF_csum_blank | NETRXF_data_validated |
				      NETRXF_extra_info);
	ck_assert_uint_eq(gso.type, XEN_NETIF_EXTRA_TYPE_GSO);
	ck_assert_uint_eq(gso.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV6);
	ck_assert_uint_eq(gso.u.gso.size, 1428);
	/* a GSO type the frontend did not ask for, UDP, size 0 */
	ck_assert_int_eq(netbk_rx_flags(&h, 1u << XEN_NETIF_GSO_TYPE_TCPV4, &fl,
					&gso),
			 -EOPNOTSUPP);
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	ck_assert_int_eq(netbk_rx_flags(&h, both, &fl, &gso), -EOPNOTSUPP);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	ck_assert_int_eq(netbk_rx_flags(&h, both, &fl, &gso), -EOPNOTSUPP);
}
END_TEST

START_TEST(netif_layout_is_what_the_ring_carries)
{
	/* extra info overlays a request slot (netif.h) */
	ck_assert_uint_le(sizeof(struct netif_extra_info),
			  sizeof(struct netif_tx_request));
	ck_assert_uint_eq(sizeof(struct netif_tx_request), 12);
	ck_assert_uint_eq(sizeof(struct netif_rx_response), 8);
	ck_assert_uint_eq(__CONST_RING_SIZE(netif_tx, 4096), 256);
	ck_assert_uint_eq(__CONST_RING_SIZE(netif_rx, 4096), 256);
}
END_TEST

static Suite *net_tx_suite(void)
{
	Suite *s = suite_create("net_tx");
	TCase *tc = tcase_create("tx");

	tcase_add_loop_test(tc, tx_check_matrix, 0,
			    (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, tx_check_reads_no_slot_past_the_packet);
	tcase_add_test(tc, tx_check_keeps_gso_and_mcast);
	tcase_add_loop_test(tc, tx_vnet_hdr_matrix, 0,
			    (int)(sizeof(hrows) / sizeof(hrows[0])));
	tcase_add_test(tc, rx_flags_from_vnet_hdr);
	tcase_add_test(tc, netif_layout_is_what_the_ring_carries);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(net_tx_suite)
