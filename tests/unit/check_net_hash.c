/*
 * check_net_hash - netback's control ring (netback/hash.c): every hash
 * request type with good and bad arguments, the Toeplitz hash against
 * Microsoft's RSS verification suite ("Verifying the RSS Hash
 * Calculation": the standard 40-octet key, IPv4/IPv6 with and without
 * TCP ports), frame parsing, and the RX queue choice.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "netback/hash.h"
#include "check_main.h"

/* The verification suite's key. */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The published vectors: input is source address, destination address,
 * source port, destination port. */
static const struct ms_vector {
	const char *dst, *src;
	uint16_t dport, sport;
	uint32_t ip_only, with_tcp;
} ms_v4[] = {
	{ "161.142.100.80", "66.9.149.187", 1766, 2794, 0x323e8fc2,
	  0x51ccc178 },
	{ "65.69.140.83", "199.92.111.2", 4739, 14230, 0xd718262a,
	  0xc626b0ea },
	{ "12.22.207.184", "24.19.198.95", 38024, 12898, 0xd2d0a5de,
	  0x5c2b394a },
	{ "209.142.163.6", "38.27.205.30", 2217, 48228, 0x82989176,
	  0xafc7327f },
	{ "202.188.127.2", "153.39.163.191", 1303, 44251, 0x5d1809c5,
	  0x10e828a2 },
}, ms_v6[] = {
	{ "3ffe:2501:200:3::1", "3ffe:2501:200:1fff::7", 1766, 2794,
	  0x2cc18cd5, 0x40207d3d },
	{ "ff02::1", "3ffe:501:8::260:97ff:fe40:efab", 4739, 14230,
	  0x0f0c461c, 0xdde51bbf },
	{ "fe80::200:f8ff:fe21:67cf", "3ffe:1900:4545:3:200:f8ff:fe21:67cf",
	  38024, 44251, 0x4b61e985, 0x02d1feef },
};

#define NV4 (sizeof(ms_v4) / sizeof(ms_v4[0]))
#define NV6 (sizeof(ms_v6) / sizeof(ms_v6[0]))

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A frame: options for the builders below. */
struct fopt {
	uint8_t proto; /* 6 TCP, 17 UDP */
	int vlans;     /* 0..2 VLAN tags */
	int frag;      /* 1: more fragments; 2: a later fragment */
	int v6_ext;    /* IPv6: a hop-by-hop header, then a fragment one */
	size_t cut;    /* shorten the frame by this many octets */
};

static size_t eth(uint8_t *f, int vlans, uint16_t type)
{
	size_t off = 12;

	memset(f, 0, 12);
	f[0] = 0x02;
	f[6] = 0x00, f[7] = 0x16, f[8] = 0x3e;
	for (int i = 0; i < vlans; i++, off += 4) {
		put16(f + off, i == 0 && vlans == 2 ? 0x88a8 : 0x8100);
		put16(f + off + 2, 100 + i);
	}
	put16(f + off, type);
	return off + 2;
}

static size_t frame_v4(uint8_t *f, const struct ms_vector *v,
		       const struct fopt *o)
{
	size_t off = eth(f, o->vlans, 0x0800);
	uint8_t *ip = f + off;

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	ip[8] = 64;
	ip[9] = o->proto;
	if (o->frag == 1)
		put16(ip + 6, 0x2000); /* MF */
	else if (o->frag == 2)
		put16(ip + 6, 0x00b9); /* offset 185 x 8 */
	ck_assert_int_eq(inet_pton(AF_INET, v->src, ip + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, v->dst, ip + 16), 1);
	off += 20;
	put16(f + off, v->sport);
	put16(f + off + 2, v->dport);
	memset(f + off + 4, 0, 16);
	return off + 20 - o->cut;
}

static size_t frame_v6(uint8_t *f, const struct ms_vector *v,
		       const struct fopt *o)
{
	size_t off = eth(f, o->vlans, 0x86dd);
	uint8_t *ip = f + off;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[6] = o->v6_ext || o->frag ? 0 : o->proto; /* hop-by-hop */
	ip[7] = 64;
	ck_assert_int_eq(inet_pton(AF_INET6, v->src, ip + 8), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, v->dst, ip + 24), 1);
	off += 40;
	if (o->v6_ext || o->frag) {
		/* hop-by-hop, 16 octets (hdr ext len 1), then fragment */
		memset(f + off, 0, 16);
		f[off] = 44;
		f[off + 1] = 1;
		off += 16;
		memset(f + off, 0, 8);
		f[off] = o->proto;
		if (o->frag == 1)
			put16(f + off + 2, 0x0001); /* M */
		else if (o->frag == 2)
			put16(f + off + 2, 0x05c8); /* offset 185 */
		off += 8;
	}
	put16(f + off, v->sport);
	put16(f + off + 2, v->dport);
	memset(f + off + 4, 0, 16);
	return off + 20 - o->cut;
}

static struct netbk_hash h;

static void hash_on(uint32_t flags)
{
	netbk_hash_init(&h, 4);
	h.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	h.flags = flags;
	memcpy(h.key, ms_key, sizeof(ms_key));
}

START_TEST(toeplitz_ms_ipv4_vectors)
{
	for (size_t i = 0; i < NV4; i++) {
		const struct ms_vector *v = &ms_v4[i];
		uint8_t in[12];

		ck_assert_int_eq(inet_pton(AF_INET, v->src, in), 1);
		ck_assert_int_eq(inet_pton(AF_INET, v->dst, in + 4), 1);
		put16(in + 8, v->sport);
		put16(in + 10, v->dport);
		ck_assert_uint_eq(netbk_toeplitz(ms_key, 40, in, 8), v->ip_only);
		ck_assert_uint_eq(netbk_toeplitz(ms_key, 40, in, 12),
				  v->with_tcp);
	}
}
END_TEST

START_TEST(toeplitz_ms_ipv6_vectors)
{
	for (size_t i = 0; i < NV6; i++) {
		const struct ms_vector *v = &ms_v6[i];
		uint8_t in[36];

		ck_assert_int_eq(inet_pton(AF_INET6, v->src, in), 1);
		ck_assert_int_eq(inet_pton(AF_INET6, v->dst, in + 16), 1);
		put16(in + 32, v->sport);
		put16(in + 34, v->dport);
		ck_assert_uint_eq(netbk_toeplitz(ms_key, 40, in, 32),
				  v->ip_only);
		ck_assert_uint_eq(netbk_toeplitz(ms_key, 40, in, 36),
				  v->with_tcp);
	}
}
END_TEST

START_TEST(toeplitz_short_key_is_zero_padded)
{
	uint8_t in[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t padded[40] = { 0 };

	memcpy(padded, ms_key, 10);
	ck_assert_uint_eq(netbk_toeplitz(ms_key, 10, in, 12),
			  netbk_toeplitz(padded, 40, in, 12));
	ck_assert_uint_eq(netbk_toeplitz(ms_key, 0, in, 12), 0);
	ck_assert_uint_eq(netbk_toeplitz(ms_key, 40, in, 0), 0);
}
END_TEST

/* Frames built around the vectors hash to the published values: the
 * parser takes the right octets, with or without VLAN tags. */
START_TEST(frames_hash_to_the_ms_vectors)
{
	struct netbk_hash_result r;
	uint8_t f[256];
	size_t n;

	for (int vlans = 0; vlans <= 2; vlans++) {
		struct fopt o = { .proto = 6, .vlans = vlans };

		for (size_t i = 0; i < NV4; i++) {
			n = frame_v4(f, &ms_v4[i], &o);
			hash_on(NETBK_HASH_TYPES);
			ck_assert_int_eq(netbk_hash_frame(&h, f, n, &r), 1);
			ck_assert_uint_eq(r.value, ms_v4[i].with_tcp);
			ck_assert_uint_eq(r.type,
					  _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
			hash_on(XEN_NETIF_CTRL_HASH_TYPE_IPV4);
			ck_assert_int_eq(netbk_hash_frame(&h, f, n, &r), 1);
			ck_assert_uint_eq(r.value, ms_v4[i].ip_only);
			ck_assert_uint_eq(r.type,
					  _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
		}
		for (size_t i = 0; i < NV6; i++) {
			n = frame_v6(f, &ms_v6[i], &o);
			hash_on(NETBK_HASH_TYPES);
			ck_assert_int_eq(netbk_hash_frame(&h, f, n, &r), 1);
			ck_assert_uint_eq(r.value, ms_v6[i].with_tcp);
			ck_assert_uint_eq(r.type,
					  _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
			hash_on(XEN_NETIF_CTRL_HASH_TYPE_IPV6);
			ck_assert_int_eq(netbk_hash_frame(&h, f, n, &r), 1);
			ck_assert_uint_eq(r.value, ms_v6[i].ip_only);
			ck_assert_uint_eq(r.type,
					  _XEN_NETIF_CTRL_HASH_TYPE_IPV6);
		}
	}
}
END_TEST

/* Which type a frame gets: the table of (frame, flags) -> type. */
START_TEST(frame_type_follows_flags_and_protocol)
{
	enum {
		V4,
		V6
	};
	static const struct {
		const char *what;
		int fam;
		struct fopt o;
		uint32_t flags;
		int hashed;
		int type; /* _XEN_NETIF_CTRL_HASH_TYPE_*; ports hashed? */
	} t[] = {
		{ "v4 tcp, tcp only",
		  V4,
		  { .proto = 6 },
		  XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP,
		  1,
		  1 },
		{ "v4 tcp, ip only",
		  V4,
		  { .proto = 6 },
		  XEN_NETIF_CTRL_HASH_TYPE_IPV4,
		  1,
		  0 },
		{ "v4 udp, all: address only",
		  V4,
		  { .proto = 17 },
		  NETBK_HASH_TYPES,
		  1,
		  0 },
		{ "v4 udp, tcp only: none",
		  V4,
		  { .proto = 17 },
		  XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP,
		  0,
		  0 },
		{ "v4 tcp, v6 flags only: none",
		  V4,
		  { .proto = 6 },
		  XEN_NETIF_CTRL_HASH_TYPE_IPV6 |
			  XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP,
		  0,
		  0 },
		{ "v4 tcp first fragment: address",
		  V4,
		  { .proto = 6, .frag = 1 },
		  NETBK_HASH_TYPES,
		  1,
		  0 },
		{ "v4 tcp later fragment: address",
		  V4,
		  { .proto = 6, .frag = 2 },
		  NETBK_HASH_TYPES,
		  1,
		  0 },
		{ "v4 tcp, ports cut off: address",
		  V4,
		  { .proto = 6, .cut = 18 },
		  NETBK_HASH_TYPES,
		  1,
		  0 },
		{ "v4 header cut: none",
		  V4,
		  { .proto = 6, .cut = 25 },
		  NETBK_HASH_TYPES,
		  0,
		  0 },
		{ "v6 tcp, tcp only",
		  V6,
		  { .proto = 6 },
		  XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP,
		  1,
		  3 },
		{ "v6 tcp after ext headers",
		  V6,
		  { .proto = 6, .v6_ext = 1 },
		  NETBK_HASH_TYPES,
		  1,
		  3 },
		{ "v6 tcp first fragment: address",
		  V6,
		  { .proto = 6, .frag = 1 },
		  NETBK_HASH_TYPES,
		  1,
		  2 },
		{ "v6 tcp later fragment: address",
		  V6,
		  { .proto = 6, .frag = 2 },
		  NETBK_HASH_TYPES,
		  1,
		  2 },
		{ "v6 udp, all: address",
		  V6,
		  { .proto = 17 },
		  NETBK_HASH_TYPES,
		  1,
		  2 },
		{ "v6 udp, tcp only: none",
		  V6,
		  { .proto = 17 },
		  XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP,
		  0,
		  0 },
		{ "v6 header cut: none",
		  V6,
		  { .proto = 6, .cut = 30 },
		  NETBK_HASH_TYPES,
		  0,
		  0 },
		{ "no flags: none", V4, { .proto = 6 }, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct ms_vector *v = t[i].fam == V4 ? ms_v4 : ms_v6;
		struct netbk_hash_result r = { 0, 0 };
		uint8_t f[256];
		size_t n = t[i].fam == V4 ? frame_v4(f, v, &t[i].o)
					  : frame_v6(f, v, &t[i].o);
		int got;

		hash_on(t[i].flags);
		got = netbk_hash_frame(&h, f, n, &r);
		ck_assert_msg(got == t[i].hashed, "%s: hashed %d", t[i].what,
			      got);
		if (!got)
			continue;
		ck_assert_msg(r.type == t[i].type, "%s: type %u", t[i].what,
			      r.type);
		ck_assert_msg(r.value == (t[i].type & 1 ? v->with_tcp
							: v->ip_only),
			      "%s: value %#x", t[i].what, r.value);
	}
}
END_TEST

START_TEST(non_ip_and_runts_are_not_hashed)
{
	struct netbk_hash_result r;
	uint8_t f[64] = { 0 };

	hash_on(NETBK_HASH_TYPES);
	put16(f + 12, 0x0806); /* ARP */
	ck_assert_int_eq(netbk_hash_frame(&h, f, sizeof(f), &r), 0);
	ck_assert_int_eq(netbk_hash_frame(&h, f, 10, &r), 0);
	/* IPv4 ethertype, version 6 in the header */
	put16(f + 12, 0x0800);
	f[14] = 0x65;
	ck_assert_int_eq(netbk_hash_frame(&h, f, sizeof(f), &r), 0);
	/* ihl 4 (16 octets): below the minimum */
	f[14] = 0x44;
	ck_assert_int_eq(netbk_hash_frame(&h, f, sizeof(f), &r), 0);
	/* ihl 15 (60 octets) past the frame's end */
	f[14] = 0x4f;
	ck_assert_int_eq(netbk_hash_frame(&h, f, 40, &r), 0);
	/* three VLAN tags: not walked */
	put16(f + 12, 0x8100);
	put16(f + 16, 0x8100);
	put16(f + 20, 0x8100);
	put16(f + 24, 0x0800);
	ck_assert_int_eq(netbk_hash_frame(&h, f, sizeof(f), &r), 0);
}
END_TEST

START_TEST(algorithm_none_hashes_nothing)
{
	struct fopt o = { .proto = 6 };
	struct netbk_hash_result r;
	uint8_t f[256];
	size_t n = frame_v4(f, &ms_v4[0], &o);

	hash_on(NETBK_HASH_TYPES);
	h.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
	ck_assert_int_eq(netbk_hash_frame(&h, f, n, &r), 0);
}
END_TEST

/* --- control requests ---------------------------------------------- */

#define GOOD_REF 7

/* The guest's granted page behind GOOD_REF, and what was copied. */
static struct guest {
	uint8_t page[4096];
	int calls;
	size_t last_len;
} g;

static int copy_cb(void *ctx, grant_ref_t ref, uint32_t off, void *dst,
		   size_t len)
{
	struct guest *gp = ctx;

	gp->calls++;
	gp->last_len = len;
	if (ref != GOOD_REF)
		return -EINVAL; /* a bad grant: the copy fails */
	ck_assert_uint_le(off + len, sizeof(gp->page));
	memcpy(dst, gp->page + off, len);
	return 0;
}

static void page_u32(unsigned int i, uint32_t v)
{
	memcpy(g.page + 4 * i, &v, 4);
}

static struct xen_netif_ctrl_response ctrl(uint16_t type, uint32_t d0,
					   uint32_t d1, uint32_t d2)
{
	struct xen_netif_ctrl_request req = {
		.id = 0x1234,
		.type = type,
		.data = { d0, d1, d2 },
	};
	struct xen_netif_ctrl_response rsp;

	rsp = netbk_hash_ctrl(&h, &req, copy_cb, &g);
	ck_assert_uint_eq(rsp.id, 0x1234);
	ck_assert_uint_eq(rsp.type, type);
	return rsp;
}

#define OK       XEN_NETIF_CTRL_STATUS_SUCCESS
#define NOTSUP   XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED
#define INVAL    XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER
#define OVERFLOW XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW
#define TOEPLITZ XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ
#define T(x)     XEN_NETIF_CTRL_TYPE_##x

/*
 * Every request type, good and bad: the state before (algorithm, table
 * size; 4 queues; the page holds entries 3 1 2 0 then 0x10 0x11 ...),
 * the request, the status and data expected, and whether the copy
 * callback may be called.
 */
static const struct ctrl_case {
	const char *what;
	uint32_t alg, size;
	uint16_t type;
	uint32_t d[3];
	uint32_t status, data;
	int copies; /* callback calls expected */
} ctrl_cases[] = {
	{ "alg toeplitz", 0, 0, T(SET_HASH_ALGORITHM), { TOEPLITZ }, OK, 0, 0 },
	{ "alg none", TOEPLITZ, 0, T(SET_HASH_ALGORITHM), { 0 }, OK, 0, 0 },
	{ "alg 2 unknown", 0, 0, T(SET_HASH_ALGORITHM), { 2 }, INVAL, 0, 0 },
	{ "alg ~0", 0, 0, T(SET_HASH_ALGORITHM), { ~0u }, INVAL, 0, 0 },
	{ "get flags, no alg", 0, 0, T(GET_HASH_FLAGS), { 0 }, NOTSUP, 0, 0 },
	{ "get flags", TOEPLITZ, 0, T(GET_HASH_FLAGS), { 0 }, OK, 0xf, 0 },
	{ "set flags all", TOEPLITZ, 0, T(SET_HASH_FLAGS), { 0xf }, OK, 0, 0 },
	{ "set flags 0", TOEPLITZ, 0, T(SET_HASH_FLAGS), { 0 }, OK, 0, 0 },
	{ "set flags bit 4", TOEPLITZ, 0, T(SET_HASH_FLAGS), { 0x10 }, INVAL, 0, 0 },
	{ "set flags top bit",
	  TOEPLITZ,
	  0,
	  T(SET_HASH_FLAGS),
	  { 1u << 31 },
	  INVAL,
	  0,
	  0 },
	{ "set flags, no alg", 0, 0, T(SET_HASH_FLAGS), { 0x3 }, NOTSUP, 0, 0 },
	{ "set bad flags, no alg", 0, 0, T(SET_HASH_FLAGS), { 0x30 }, INVAL, 0, 0 },
	{ "key 40", 0, 0, T(SET_HASH_KEY), { GOOD_REF, 40 }, OK, 0, 1 },
	{ "key 1", 0, 0, T(SET_HASH_KEY), { GOOD_REF, 1 }, OK, 0, 1 },
	{ "key 0 clears, no copy", 0, 0, T(SET_HASH_KEY), { 99, 0 }, OK, 0, 0 },
	{ "key 41", 0, 0, T(SET_HASH_KEY), { GOOD_REF, 41 }, OVERFLOW, 0, 0 },
	{ "key 4096", 0, 0, T(SET_HASH_KEY), { GOOD_REF, 4096 }, OVERFLOW, 0, 0 },
	{ "key ~0", 0, 0, T(SET_HASH_KEY), { GOOD_REF, ~0u }, OVERFLOW, 0, 0 },
	{ "key bad gref", 0, 0, T(SET_HASH_KEY), { 99, 40 }, INVAL, 0, 1 },
	{ "get mapping size", 0, 0, T(GET_HASH_MAPPING_SIZE), { 0 }, OK, 128, 0 },
	{ "mapping size 128", 0, 0, T(SET_HASH_MAPPING_SIZE), { 128 }, OK, 0, 0 },
	{ "mapping size 0", 0, 8, T(SET_HASH_MAPPING_SIZE), { 0 }, OK, 0, 0 },
	{ "mapping size 129", 0, 8, T(SET_HASH_MAPPING_SIZE), { 129 }, INVAL, 0, 0 },
	{ "mapping size ~0", 0, 8, T(SET_HASH_MAPPING_SIZE), { ~0u }, INVAL, 0, 0 },
	{ "mapping 4 at 4",
	  0,
	  8,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, 4, 4 },
	  OK,
	  0,
	  1 },
	{ "mapping 8 at 0",
	  0,
	  8,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, 8, 0 },
	  INVAL,
	  0,
	  1 }, /* entries 4..7 of the page are >= 4 queues */
	{ "mapping 4 at 5: past the end",
	  0,
	  8,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, 4, 5 },
	  INVAL,
	  0,
	  0 },
	{ "mapping wraps",
	  0,
	  8,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, 2, ~0u },
	  INVAL,
	  0,
	  0 },
	{ "mapping len ~0",
	  0,
	  8,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, ~0u, 1 },
	  INVAL,
	  0,
	  0 },
	{ "mapping, no table",
	  0,
	  0,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, 1, 0 },
	  INVAL,
	  0,
	  0 },
	{ "mapping 0 at 8",
	  0,
	  8,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, 0, 8 },
	  OK,
	  0,
	  0 },
	{ "mapping 0 at 9",
	  0,
	  8,
	  T(SET_HASH_MAPPING),
	  { GOOD_REF, 0, 9 },
	  INVAL,
	  0,
	  0 },
	{ "mapping bad gref", 0, 8, T(SET_HASH_MAPPING), { 99, 4, 0 }, INVAL, 0, 1 },
	{ "type INVALID", 0, 0, T(INVALID), { 0 }, NOTSUP, 0, 0 },
	{ "get gref mapping size",
	  0,
	  0,
	  T(GET_GREF_MAPPING_SIZE),
	  { 0 },
	  NOTSUP,
	  0,
	  0 },
	{ "add gref mapping",
	  0,
	  0,
	  T(ADD_GREF_MAPPING),
	  { GOOD_REF, 1 },
	  NOTSUP,
	  0,
	  0 },
	{ "del gref mapping",
	  0,
	  0,
	  T(DEL_GREF_MAPPING),
	  { GOOD_REF, 1 },
	  NOTSUP,
	  0,
	  0 },
	{ "type 11", 0, 0, 11, { 0 }, NOTSUP, 0, 0 },
	{ "type 0xffff", 0, 0, 0xffff, { 0 }, NOTSUP, 0, 0 },
};

START_TEST(ctrl_requests_table)
{
	for (size_t i = 0; i < sizeof(ctrl_cases) / sizeof(ctrl_cases[0]); i++) {
		const struct ctrl_case *c = &ctrl_cases[i];
		struct xen_netif_ctrl_response rsp;

		netbk_hash_init(&h, 4);
		h.alg = c->alg;
		h.size = c->size;
		memset(&g, 0, sizeof(g));
		page_u32(0, 3), page_u32(1, 1), page_u32(2, 2), page_u32(3, 0);
		for (unsigned int k = 4; k < 1024; k++)
			page_u32(k, 0x10 + k);
		rsp = ctrl(c->type, c->d[0], c->d[1], c->d[2]);
		ck_assert_msg(rsp.status == c->status, "%s: status %u, want %u",
			      c->what, rsp.status, c->status);
		ck_assert_msg(rsp.data == c->data, "%s: data %u, want %u",
			      c->what, rsp.data, c->data);
		ck_assert_msg(g.calls == c->copies, "%s: %d copies, want %d",
			      c->what, g.calls, c->copies);
		ck_assert_msg(strcmp(netbk_hash_ctrl_name(c->type), "") != 0,
			      "%s: no name", c->what);
	}
}
END_TEST

/* What a successful request leaves behind, and that a failed one leaves
 * everything as it was. */
START_TEST(set_key_copies_once_and_pads_with_zeros)
{
	uint8_t want[40] = { 0 };

	netbk_hash_init(&h, 4);
	memset(&g, 0, sizeof(g));
	memcpy(g.page, ms_key, 40);
	ck_assert_uint_eq(ctrl(T(SET_HASH_KEY), GOOD_REF, 40, 0).status, OK);
	ck_assert_mem_eq(h.key, ms_key, 40);
	ck_assert_uint_eq(g.last_len, 40);
	/* a shorter key replaces all of it: the rest is zero */
	ck_assert_uint_eq(ctrl(T(SET_HASH_KEY), GOOD_REF, 3, 0).status, OK);
	ck_assert_uint_eq(g.last_len, 3);
	memcpy(want, ms_key, 3);
	ck_assert_mem_eq(h.key, want, 40);
	/* a failed copy changes nothing */
	memcpy(h.key, ms_key, 40);
	ck_assert_uint_eq(ctrl(T(SET_HASH_KEY), 99, 10, 0).status, INVAL);
	ck_assert_mem_eq(h.key, ms_key, 40);
	ck_assert_uint_eq(ctrl(T(SET_HASH_KEY), GOOD_REF, 41, 0).status,
			  OVERFLOW);
	ck_assert_mem_eq(h.key, ms_key, 40);
	/* size 0 clears it */
	ck_assert_uint_eq(ctrl(T(SET_HASH_KEY), 0, 0, 0).status, OK);
	memset(want, 0, sizeof(want));
	ck_assert_mem_eq(h.key, want, 40);
}
END_TEST

START_TEST(set_mapping_applies_all_or_nothing)
{
	static const uint32_t want[8] = { 0, 0, 0, 0, 3, 1, 2, 0 };
	uint32_t before[NETBK_HASH_MAPPING_MAX];

	netbk_hash_init(&h, 4);
	memset(&g, 0, sizeof(g));
	page_u32(0, 3), page_u32(1, 1), page_u32(2, 2), page_u32(3, 0);
	ck_assert_uint_eq(ctrl(T(SET_HASH_MAPPING_SIZE), 8, 0, 0).status, OK);
	ck_assert_uint_eq(ctrl(T(SET_HASH_MAPPING), GOOD_REF, 4, 4).status, OK);
	ck_assert_uint_eq(h.size, 8);
	ck_assert_mem_eq(h.mapping, want, sizeof(want));
	ck_assert_uint_eq(g.last_len, 16);
	/* the third entry is queue 4 of 4: refused, the table unchanged */
	page_u32(2, 4);
	memcpy(before, h.mapping, sizeof(before));
	ck_assert_uint_eq(ctrl(T(SET_HASH_MAPPING), GOOD_REF, 4, 0).status,
			  INVAL);
	ck_assert_mem_eq(h.mapping, before, sizeof(before));
	/* a new size empties the table */
	ck_assert_uint_eq(ctrl(T(SET_HASH_MAPPING_SIZE), 16, 0, 0).status, OK);
	ck_assert_uint_eq(h.size, 16);
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(h.mapping[i], 0);
	/* a refused size keeps the old one */
	ck_assert_uint_eq(ctrl(T(SET_HASH_MAPPING_SIZE), 129, 0, 0).status,
			  INVAL);
	ck_assert_uint_eq(h.size, 16);
}
END_TEST

START_TEST(set_flags_and_alg_take_effect)
{
	netbk_hash_init(&h, 4);
	memset(&g, 0, sizeof(g));
	ck_assert_uint_eq(ctrl(T(SET_HASH_ALGORITHM), TOEPLITZ, 0, 0).status,
			  OK);
	ck_assert_uint_eq(h.alg, TOEPLITZ);
	ck_assert_uint_eq(ctrl(T(SET_HASH_FLAGS), 0x5, 0, 0).status, OK);
	ck_assert_uint_eq(h.flags, 0x5);
	ck_assert_uint_eq(ctrl(T(SET_HASH_FLAGS), 0x15, 0, 0).status, INVAL);
	ck_assert_uint_eq(h.flags, 0x5);
	ck_assert_uint_eq(ctrl(T(SET_HASH_ALGORITHM), 9, 0, 0).status, INVAL);
	ck_assert_uint_eq(h.alg, TOEPLITZ);
}
END_TEST

START_TEST(ctrl_names)
{
	ck_assert_str_eq(netbk_hash_ctrl_name(T(SET_HASH_KEY)), "SET_HASH_KEY");
	ck_assert_str_eq(netbk_hash_ctrl_name(T(SET_HASH_MAPPING)),
			 "SET_HASH_MAPPING");
	ck_assert_str_eq(netbk_hash_ctrl_name(11), "unknown");
	ck_assert_str_eq(netbk_hash_ctrl_name(0xffff), "unknown");
}
END_TEST

/* --- queue selection ------------------------------------------------ */

START_TEST(queue_from_mapping_table)
{
	struct fopt o = { .proto = 6 };
	uint8_t f[256];
	size_t n;

	hash_on(NETBK_HASH_TYPES);
	h.size = 8;
	for (int i = 0; i < 8; i++)
		h.mapping[i] = (uint32_t)(7 - i) % 4;
	for (size_t i = 0; i < NV4; i++) {
		n = frame_v4(f, &ms_v4[i], &o);
		ck_assert_uint_eq(netbk_hash_queue(&h, f, n),
				  h.mapping[ms_v4[i].with_tcp % 8]);
	}
	/* no table: the hash modulo the queues */
	h.size = 0;
	for (size_t i = 0; i < NV6; i++) {
		n = frame_v6(f, &ms_v6[i], &o);
		ck_assert_uint_eq(netbk_hash_queue(&h, f, n),
				  ms_v6[i].with_tcp % 4);
	}
	/* a frame no type fits has hash 0: table entry 0 */
	h.size = 8;
	h.mapping[0] = 2;
	memset(f, 0, 64);
	ck_assert_uint_eq(netbk_hash_queue(&h, f, 64), 2);
	/* an entry out of range (queues shrank) still gives a queue */
	h.num_queues = 2;
	ck_assert_uint_lt(netbk_hash_queue(&h, f, 64), 2);
}
END_TEST

START_TEST(queue_without_algorithm_keeps_flows_together)
{
	struct fopt o = { .proto = 6 };
	uint8_t f[256];
	unsigned int q[NV4];
	size_t n;

	netbk_hash_init(&h, 4);
	for (size_t i = 0; i < NV4; i++) {
		n = frame_v4(f, &ms_v4[i], &o);
		q[i] = netbk_hash_queue(&h, f, n);
		ck_assert_uint_lt(q[i], 4);
		ck_assert_uint_eq(netbk_hash_queue(&h, f, n), q[i]);
		/* the standard key: the TCP vector modulo 4 */
		ck_assert_uint_eq(q[i], ms_v4[i].with_tcp % 4);
	}
	/* one queue, or none: always 0 */
	netbk_hash_init(&h, 1);
	ck_assert_uint_eq(netbk_hash_queue(&h, f, n), 0);
	netbk_hash_init(&h, 0);
	ck_assert_uint_eq(netbk_hash_queue(&h, f, n), 0);
}
END_TEST

static Suite *net_hash_suite(void)
{
	Suite *s = suite_create("net_hash");
	TCase *tc = tcase_create("toeplitz");

	tcase_add_test(tc, toeplitz_ms_ipv4_vectors);
	tcase_add_test(tc, toeplitz_ms_ipv6_vectors);
	tcase_add_test(tc, toeplitz_short_key_is_zero_padded);
	suite_add_tcase(s, tc);
	tc = tcase_create("frames");
	tcase_add_test(tc, frames_hash_to_the_ms_vectors);
	tcase_add_test(tc, frame_type_follows_flags_and_protocol);
	tcase_add_test(tc, non_ip_and_runts_are_not_hashed);
	tcase_add_test(tc, algorithm_none_hashes_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("ctrl");
	tcase_add_test(tc, ctrl_requests_table);
	tcase_add_test(tc, set_key_copies_once_and_pads_with_zeros);
	tcase_add_test(tc, set_mapping_applies_all_or_nothing);
	tcase_add_test(tc, set_flags_and_alg_take_effect);
	tcase_add_test(tc, ctrl_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("queue");
	tcase_add_test(tc, queue_from_mapping_table);
	tcase_add_test(tc, queue_without_algorithm_keeps_flows_together);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(net_hash_suite)
