/* check_blk_fe.c - see check_blk_fe.h. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check_blk_fe.h"
#include "evtchn/mux.h"
#include "loophv_fixture.h"

void blkfe_open(struct blkfe *f, enum blkbk_abi abi, unsigned int order,
		unsigned int npages)
{
	memset(f, 0, sizeof(*f));
	ck_assert_uint_le(npages, BLKFE_MAX_PAGES);
	f->hv = lhf_guest(16);
	f->gs = hv_gntshr_open(f->hv);
	f->ev = hv_evtchn_open(f->hv);
	ck_assert_ptr_nonnull(f->gs);
	ck_assert_ptr_nonnull(f->ev);
	f->abi = abi;
	f->order = order;
	f->size = blkbk_ring_size(abi, order);
	switch (abi) {
	case BLKBK_ABI_X86_32:
		f->slot_size = sizeof(union blkif_x86_32_sring_entry);
		break;
	case BLKBK_ABI_X86_64:
		f->slot_size = sizeof(union blkif_x86_64_sring_entry);
		break;
	default:
		f->slot_size = sizeof(union blkif_sring_entry);
		break;
	}
	f->sring = hv_gntshr_share(f->gs, 0, 1u << order, f->ring_refs, 1);
	ck_assert_msg(f->sring != NULL, "share ring: %s", strerror(errno));
	memset(f->sring, 0, HV_PAGE_SIZE << order);
	SHARED_RING_INIT(f->sring);
	f->npages = npages;
	if (npages) {
		f->data = hv_gntshr_share(f->gs, 0, npages, f->refs, 1);
		ck_assert_msg(f->data != NULL, "share data: %s",
			      strerror(errno));
	}
	f->port = hv_evtchn_alloc_unbound(f->ev, 0);
	ck_assert_int_gt(f->port, 0);
}

void blkfe_close(struct blkfe *f)
{
	hv_evtchn_close(f->ev);
	hv_gntshr_close(f->gs);
	hv_close(f->hv);
}

void *blkfe_slot(struct blkfe *f, RING_IDX i)
{
	return (char *)f->sring->ring +
	       (size_t)(i & (f->size - 1)) * f->slot_size;
}

#define ENC(slot, r, REQ, DISC, IND)                                           \
	do {                                                                   \
		if ((r)->operation == BLKIF_OP_DISCARD) {                      \
			DISC d_;                                               \
			memset(&d_, 0, sizeof(d_));                            \
			d_.operation = (r)->operation;                         \
			d_.flag = (r)->discard_flag;                           \
			d_.handle = (r)->handle;                               \
			d_.id = (r)->id;                                       \
			d_.sector_number = (r)->sector;                        \
			d_.nr_sectors = (r)->nr_sectors;                       \
			memcpy((slot), &d_, sizeof(d_));                       \
		} else if ((r)->operation == BLKIF_OP_INDIRECT) {              \
			IND i_;                                                \
			memset(&i_, 0, sizeof(i_));                            \
			i_.operation = (r)->operation;                         \
			i_.indirect_op = (r)->op;                              \
			i_.nr_segments = (r)->nr_segments;                     \
			i_.handle = (r)->handle;                               \
			i_.id = (r)->id;                                       \
			i_.sector_number = (r)->sector;                        \
			memcpy(i_.indirect_grefs, (r)->indirect_grefs,         \
			       sizeof(i_.indirect_grefs));                     \
			memcpy((slot), &i_, sizeof(i_));                       \
		} else {                                                       \
			REQ q_;                                                \
			memset(&q_, 0, sizeof(q_));                            \
			q_.operation = (r)->operation;                         \
			q_.nr_segments = (uint8_t)(r)->nr_segments;            \
			q_.handle = (r)->handle;                               \
			q_.id = (r)->id;                                       \
			q_.sector_number = (r)->sector;                        \
			memcpy(q_.seg, (r)->seg, sizeof(q_.seg));              \
			memcpy((slot), &q_, sizeof(q_));                       \
		}                                                              \
	} while (0)

void blkfe_put(struct blkfe *f, const struct blkbk_req *r)
{
	void *slot = blkfe_slot(f, f->req_prod_pvt++);

	switch (f->abi) {
	case BLKBK_ABI_X86_32:
		ENC(slot, r, struct blkif_x86_32_request,
		    struct blkif_x86_32_request_discard,
		    struct blkif_x86_32_request_indirect);
		break;
	case BLKBK_ABI_X86_64:
		ENC(slot, r, struct blkif_x86_64_request,
		    struct blkif_x86_64_request_discard,
		    struct blkif_x86_64_request_indirect);
		break;
	default:
		ENC(slot, r, struct blkif_request, struct blkif_request_discard,
		    struct blkif_request_indirect);
		break;
	}
}

void blkfe_push(struct blkfe *f)
{
	/* release: the slots before req_prod */
	__atomic_store_n(&f->sring->req_prod, f->req_prod_pvt, __ATOMIC_RELEASE);
	ck_assert_int_eq(hv_evtchn_notify(f->ev, (evtchn_port_t)f->port), 0);
}

int blkfe_rsp(struct blkfe *f, uint64_t *id, uint8_t *op, int16_t *st)
{
	RING_IDX rp = __atomic_load_n(&f->sring->rsp_prod, __ATOMIC_ACQUIRE);
	void *slot;

	if (rp == f->rsp_cons)
		return 0;
	slot = blkfe_slot(f, f->rsp_cons++);
	switch (f->abi) {
	case BLKBK_ABI_X86_32: {
		struct blkif_x86_32_response r;

		memcpy(&r, slot, sizeof(r));
		*id = r.id;
		*op = r.operation;
		*st = r.status;
		break;
	}
	case BLKBK_ABI_X86_64: {
		struct blkif_x86_64_response r;

		memcpy(&r, slot, sizeof(r));
		*id = r.id;
		*op = r.operation;
		*st = r.status;
		break;
	}
	default: {
		struct blkif_response r;

		memcpy(&r, slot, sizeof(r));
		*id = r.id;
		*op = r.operation;
		*st = r.status;
		break;
	}
	}
	f->sring->rsp_event = f->rsp_cons + 1;
	return 1;
}

struct blkbk_req blkfe_rw(const struct blkfe *f, uint8_t op, uint64_t id,
			  uint64_t sector, unsigned int first, unsigned int n)
{
	struct blkbk_req r;

	memset(&r, 0, sizeof(r));
	r.operation = r.op = op;
	r.id = id;
	r.sector = sector;
	r.nr_segments = (uint16_t)n;
	for (unsigned int i = 0; i < n && i < BLKBK_MAX_INDIRECT_SEGS; i++) {
		r.seg[i].gref = f->refs[first + i];
		r.seg[i].first_sect = 0;
		r.seg[i].last_sect = 7;
	}
	return r;
}

struct blkbk_req blkfe_indirect(struct blkfe *f, uint8_t op, uint64_t id,
				uint64_t sector, unsigned int ind,
				unsigned int first, unsigned int n)
{
	struct blkbk_req r = blkfe_rw(f, op, id, sector, first, n);
	struct blkif_request_segment *segs =
		(struct blkif_request_segment *)blkfe_page(f, ind);

	r.operation = BLKIF_OP_INDIRECT;
	for (unsigned int i = 0; i < n; i++) {
		segs[i].gref = f->refs[first + i];
		segs[i].first_sect = 0;
		segs[i].last_sect = 7;
	}
	r.indirect_grefs[0] = f->refs[ind];
	if (n > BLKBK_SEGS_PER_INDIRECT_PAGE)
		r.indirect_grefs[1] = f->refs[ind + 1];
	return r;
}

void blkbe_open(struct blkbe *b)
{
	memset(b, 0, sizeof(*b));
	b->hv = lhf_dom0();
	b->gt = hv_gnttab_open(b->hv);
	b->ev = hv_evtchn_open(b->hv);
	b->base = event_base_new();
	ck_assert_ptr_nonnull(b->gt);
	ck_assert_ptr_nonnull(b->ev);
	ck_assert_ptr_nonnull(b->base);
	b->mux = evtchn_mux_new(b->base, b->ev);
	ck_assert_ptr_nonnull(b->mux);
	snprintf(b->dir, sizeof(b->dir), "%s/blk.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(b->dir));
}

void blkbe_close(struct blkbe *b)
{
	char cmd[128];

	evtchn_mux_free(b->mux);
	event_base_free(b->base);
	hv_evtchn_close(b->ev);
	hv_gnttab_close(b->gt);
	hv_close(b->hv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", b->dir);
}

const char *blkbe_mkfile(struct blkbe *b, const char *name, uint64_t size)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", b->dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
	return path;
}

struct blkbk_dev *blkbe_dev(struct blkbe *b, struct blkfe *f,
			    struct blkbk_backing *bk, int persistent,
			    int readonly)
{
	struct blkbk_dev_config cfg = {
		.base = b->base,
		.gnttab = b->gt,
		.evtchn = b->ev,
		.mux = b->mux,
		.domid = hv_domid(f->hv),
		.name = "vbd/51712",
		.backing = bk,
		.readonly = readonly ? 1 : 0,
		.persistent = persistent ? 1 : 0,
		.nr_queues = 1,
	};
	struct blkbk_dev *d = blkbk_dev_new(&cfg);
	int rc;

	ck_assert_msg(d != NULL, "blkbk_dev_new: %s", strerror(errno));
	rc = blkbk_queue_connect(d, 0, f->ring_refs, f->order,
				 (evtchn_port_t)f->port, f->abi);
	ck_assert_msg(rc == 0, "connect: %s", strerror(-rc));
	return d;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void blkbe_pump(struct blkbe *b, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;

	do {
		struct timeval tv = { 0, 2000 };

		/* one round of events, or 2 ms without any */
		event_base_loopexit(b->base, &tv);
		event_base_loop(b->base, EVLOOP_ONCE);
	} while (ms_now() < end);
}

int blkbe_wait(struct blkbe *b, struct blkfe *f, uint64_t *id, uint8_t *op,
	       int16_t *st)
{
	uint64_t end = ms_now() + 5000;

	while (!blkfe_rsp(f, id, op, st)) {
		struct timeval tv = { 0, 2000 };

		if (ms_now() > end)
			return 0;
		event_base_loopexit(b->base, &tv);
		event_base_loop(b->base, EVLOOP_ONCE);
	}
	return 1;
}

int blkbe_do(struct blkbe *b, struct blkfe *f, const struct blkbk_req *r)
{
	uint64_t id;
	uint8_t op;
	int16_t st;

	blkfe_put(f, r);
	blkfe_push(f);
	ck_assert_msg(blkbe_wait(b, f, &id, &op, &st), "no response to id %llu",
		      (unsigned long long)r->id);
	ck_assert_uint_eq(id, r->id);
	/* As Linux's blkfront checks: an indirect request is answered with
	 * its indirect_op, everything else with its own operation. */
	ck_assert_uint_eq(op, r->operation == BLKIF_OP_INDIRECT ? r->op
								: r->operation);
	return st;
}

/* ---- scripted servers ---- */

/* a listening unix socket at path sock */
static int listen_unix(const char *sock)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(lfd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	return lfd;
}

/* A unix socket server in a child: sends what it is given, then idles. */
pid_t fake_server(const char *sock, const void *greeting, size_t len)
{
	int lfd = listen_unix(sock);
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);

		if (len)
			(void)!write(c, greeting, len);
		pause();
		_exit(0);
	}
	close(lfd);
	return pid;
}

static int rd(int fd, void *b, size_t n)
{
	char *p = b;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void be64put(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static void be32put(uint8_t *b, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static uint8_t data[1 << 20];

/* answer one request (28 bytes as read) as mode says */
static int fake_reply(int c, const uint8_t *req, enum fake_mode mode)
{
	uint32_t rlen = ((uint32_t)req[24] << 24) | ((uint32_t)req[25] << 16) |
			((uint32_t)req[26] << 8) | req[27];
	uint16_t type = (uint16_t)(req[6] << 8 | req[7]);
	uint8_t rsp[16];

	be32put(rsp, mode == FAKE_BAD_MAGIC ? 0x12345678u : 0x67446698u);
	be32put(rsp + 4, mode == FAKE_GOOD_THEN_ERROR ? 5 /* EIO */ : 0);
	memcpy(rsp + 8, req + 8, 8);
	if (mode == FAKE_BAD_HANDLE)
		rsp[15] ^= 0x5a;
	if (send(c, rsp, 16, MSG_NOSIGNAL) != 16)
		return -1;
	if (type == 0 && mode != FAKE_GOOD_THEN_ERROR) {
		if (rlen > sizeof(data))
			return -1;
		memset(data, 0xcc, rlen);
		if (send(c, data, rlen, MSG_NOSIGNAL) != (ssize_t)rlen)
			return -1;
	}
	return 0;
}

/* FAKE_HOLD: wait for the next request (0) or the release byte (1) */
static int fake_released(int c, int release)
{
	struct pollfd p[2] = { { .fd = release, .events = POLLIN },
			       { .fd = c, .events = POLLIN } };
	char x;

	if (poll(p, 2, -1) < 0 || !(p[0].revents & POLLIN))
		return 0;
	return read(release, &x, 1) == 1;
}

static void fake_serve(int c, enum fake_mode mode, int seen, int release)
{
	uint8_t g[18], h[16], opt[4096], rep[20 + 12], req[28];
	uint8_t held[64][28];
	int nheld = 0;
	uint32_t len;

	memcpy(g, "NBDMAGICIHAVEOPT", 16);
	g[16] = 0;
	g[17] = 3; /* fixed newstyle, no zeroes */
	if (write(c, g, 18) != 18 || rd(c, h, 4) < 0 || rd(c, h, 16) < 0)
		return;
	len = ((uint32_t)h[12] << 24) | ((uint32_t)h[13] << 16) |
	      ((uint32_t)h[14] << 8) | h[15];
	if (len > sizeof(opt) || rd(c, opt, len) < 0)
		return;
	/* NBD_REP_INFO / NBD_INFO_EXPORT: 1 MiB, HAS_FLAGS | SEND_FLUSH */
	be64put(rep, 0x0003e889045565a9ull);
	be32put(rep + 8, 7);
	be32put(rep + 12, 3);
	be32put(rep + 16, mode == FAKE_HUGE_OPT_REPLY ? 1u << 30 : 12);
	rep[20] = 0;
	rep[21] = 0;
	be64put(rep + 22, 1u << 20);
	rep[30] = 0;
	rep[31] = 5;
	if (write(c, rep, 32) != 32 || mode == FAKE_HUGE_OPT_REPLY)
		return;
	be32put(rep + 12, 1); /* NBD_REP_ACK */
	be32put(rep + 16, 0);
	if (write(c, rep, 20) != 20)
		return;
	while (rd(c, req, 28) == 0) {
		uint32_t rlen = ((uint32_t)req[24] << 24) |
				((uint32_t)req[25] << 16) |
				((uint32_t)req[26] << 8) | req[27];
		uint16_t type = (uint16_t)(req[6] << 8 | req[7]);

		if (type == 2) /* NBD_CMD_DISC: no reply, the client closes */
			break;
		if (type == 1 && (rlen > sizeof(data) || rd(c, data, rlen) < 0))
			break;
		if (mode != FAKE_HOLD) {
			if (fake_reply(c, req, mode) < 0)
				break;
			continue;
		}
		if (nheld == 64 || write(seen, ".", 1) != 1)
			break;
		memcpy(held[nheld++], req, 28);
		if (!fake_released(c, release))
			continue;
		for (int i = 0; i < nheld; i++)
			if (fake_reply(c, held[i], FAKE_GOOD) < 0)
				goto out;
		nheld = 0;
		mode = FAKE_GOOD;
	}
out:
	if (seen >= 0)
		(void)!write(seen, "E", 1);
}

pid_t fake_nbd(const char *sock, enum fake_mode mode, int *seen, int *release)
{
	int sp[2] = { -1, -1 }, rp[2] = { -1, -1 };
	int lfd;
	pid_t pid;

	if (mode == FAKE_HOLD) {
		ck_assert(seen && release);
		ck_assert_int_eq(pipe2(sp, O_CLOEXEC), 0);
		ck_assert_int_eq(pipe2(rp, O_CLOEXEC), 0);
	}
	lfd = listen_unix(sock);
	pid = fork();
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);

		fake_serve(c, mode, sp[1], rp[0]);
		pause();
		_exit(0);
	}
	close(lfd);
	if (mode == FAKE_HOLD) {
		close(sp[1]);
		close(rp[0]);
		*seen = sp[0];
		*release = rp[1];
	}
	return pid;
}
