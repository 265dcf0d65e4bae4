/*
 * loophv-proto.h - the wire protocol between loophvd (loophv/) and its
 * clients (lib/hv-loop.c, the loop provider of lib/hv.h). It lives in lib/
 * so that both sides include it without lib/ reaching into a daemon folder.
 *
 * Transport: a unix SOCK_SEQPACKET socket, <run_dir>/loophvd.sock, so every
 * message keeps its boundary and may carry file descriptors (SCM_RIGHTS).
 * A request is one struct lh_req of exactly LH_REQ_SIZE bytes; the reply is
 * one struct lh_rep (header + len bytes of data) with nfds descriptors.
 * Events (a domain's shutdown, its death) are sent unsolicited as struct
 * lh_rep with op = LH_EV_DOMAIN_SHUTDOWN or LH_EV_DOMAIN_DEAD and seq = 0,
 * only to connections that subscribed.
 *
 * Only control operations cross this socket. The data path never does:
 *   - notify: the client sets the peer's pending bit in the channel's bell
 *     page and writes the peer's doorbell eventfd, both obtained once per
 *     channel with LH_OP_EVTCHN_PEER;
 *   - grants: dom0 maps a domain's RAM memfd once (LH_OP_DOMAIN_MEM) and
 *     validates grant entries in it directly, with atomics, as Xen does.
 *
 * Identity: the first request on a connection is LH_OP_HELLO (become dom0:
 * SO_PEERCRED uid must be root or loophvd's --priv-uid), LH_OP_JOIN (attach
 * to an existing domain with its token) or LH_OP_DOMAIN_CREATE (become a new
 * domain; when this connection closes the domain dies).
 *
 * Guest RAM (LH_OP_DOMAIN_CREATE, LH_OP_DOMAIN_MEM) is a memfd sealed with
 * F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL: nobody, the guest included,
 * can change its size while dom0 has it mapped (no SIGBUS in dom0).
 *
 * Generation table (the fd of LH_OP_HELLO's reply, LH_GEN_BYTES, dom0 maps
 * it read-only; loophvd alone writes it, sealed F_SEAL_FUTURE_WRITE where
 * the kernel has it): uint32_t gen[DOMID_FIRST_RESERVED].
 *   gen[0]      counts domain deaths (it changes whenever one dies);
 *   gen[domid]  the generation of the live domain with that domid, 0 when
 *               none is live (dying or free); a new domain with a reused
 *               domid gets a new generation.
 * A dom0 client that cached a domain's RAM (LH_OP_DOMAIN_MEM, whose reply
 * gives d.created.gen) knows it is dead when the two differ, with one load
 * and no request, and then releases its hold (LH_OP_DOMAIN_MEM_RELEASE).
 * A dying domain vanishes from the domain list once no holder is left.
 *
 * Event delivery: events and replies to a connection are never dropped; what
 * the socket cannot take now is queued in loophvd, in order, and sent when
 * the socket is writable (no request of that connection is read meanwhile).
 *
 * Event channels: nothing a process can reach belongs to a channel it is
 * not an end of (on Xen a guest touches only its own bits).
 *   - A handle (LH_OP_EVTCHN_OPEN) is an epoll fd and a state page. The
 *     state page (one memfd page, uint8_t state[4096], an enum
 *     hv_evtchn_state per port) is written by loophvd only; the owner maps
 *     it read-only (sealed F_SEAL_FUTURE_WRITE where the kernel has it).
 *   - Each interdomain channel has its own bell page (one memfd page,
 *     struct lh_bell) mapped by its two ends and loophvd, and one doorbell
 *     eventfd per end. loophvd registers end X's doorbell in end X's
 *     handle epoll fd (EPOLLET, data.u64 = X's port) when the channel is
 *     bound; the other end gets it (LH_OP_EVTCHN_PEER) to notify X:
 *       old = atomic_fetch_or(&bell->end[X].pending, 1)
 *       if !old && !bell->end[X].mask: write(doorbell[X], 1)
 *     The owner of X learns its ready ports from epoll_wait and clears
 *     pending / sets mask in the bell. A peer can thus only silence or
 *     wake the one channel it shares with X.
 *   - Every event-channel memfd loophvd hands out is sealed LH_SEALS
 *     (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) first, so no holder can
 *     ftruncate it under a mapping; clients check the seals before they
 *     map.
 */
#ifndef SPLITDRV_LOOPHV_PROTO_H
#define SPLITDRV_LOOPHV_PROTO_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#define LH_SOCK_NAME "loophvd.sock"
#define LH_PROTO_VERSION                                                       \
	2 /* 2: per-channel bell pages and doorbells, HELLO's generation table, SHUTDOWN events, sealed RAM */

#define LH_EVT_PAGES     1 /* the handle's state page */
#define LH_EVT_STATE_OFF 0
#define LH_BELL_BYTES    4096 /* one channel's bell page */
/* The seals every event-channel memfd from loophvd carries. */
#define LH_SEALS         (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* Reserved frames at the bottom of a loop guest's RAM, for the guest's
 * own fixed use (start info, xenstore ring, console); gntshr allocates
 * pages from [LH_GUEST_RESERVED_FRAMES, gnttab_first). */
#define LH_GUEST_RESERVED_FRAMES 16
#define LH_MAX_GRANT_FRAMES      32
#define LH_MAX_MEM_BYTES         (64ULL << 30)
#define LH_MIN_MEM_BYTES         (1ULL << 20)
#define LH_MAX_VCPUS             128
#define LH_NR_PARAMS             64 /* HVM_NR_PARAMS is larger; we keep the low ones */
#define LH_MAX_IOREQ_SERVERS     8
#define LH_MAX_IO_RANGES         64
#define LH_GEN_ENTRIES           0x7ff0      /* DOMID_FIRST_RESERVED */
#define LH_GEN_BYTES             (32 * 4096) /* LH_GEN_ENTRIES x 4, whole pages */

enum lh_op {
	LH_OP_HELLO = 1,          /* -> dom0 + fd: the generation table */
	LH_OP_JOIN,               /* a.join -> the domain */
	LH_OP_DOMAIN_CREATE,      /* a.create -> d.created + fd memfd */
	LH_OP_DOMAIN_LIST,        /* a.domid = first domid -> d.list */
	LH_OP_DOMAIN_INFO,        /* a.domid -> d.info */
	LH_OP_DOMAIN_MEM,         /* priv; a.domid -> d.created + fd memfd */
	LH_OP_DOMAIN_MEM_RELEASE, /* priv; a.domid */
	LH_OP_DOMAIN_PAUSE,       /* priv; a.domid */
	LH_OP_DOMAIN_UNPAUSE,     /* priv; a.domid */
	LH_OP_DOMAIN_SHUTDOWN,    /* self; a.value = reason */
	LH_OP_DOMAIN_DESTROY,     /* priv; a.domid */
	LH_OP_SUBSCRIBE,          /* priv; this connection gets LH_EV_* */
	LH_OP_PARAM_GET,          /* self or priv; a.param -> ret 0, d.value */
	LH_OP_PARAM_SET,          /* self or priv; a.param */
	LH_OP_EVTCHN_OPEN,  /* -> ret handle id, fds: epoll fd, state memfd */
	LH_OP_EVTCHN_CLOSE, /* a.evt.handle */
	LH_OP_EVTCHN_ALLOC_UNBOUND, /* a.evt{handle, domid} -> ret port */
	LH_OP_EVTCHN_BIND,          /* a.evt{handle, domid, port} -> ret port */
	LH_OP_EVTCHN_UNBIND,        /* a.evt{handle, port} */
	LH_OP_EVTCHN_PEER,          /* a.evt{handle, port} -> d.peer, fds: the
				  peer's doorbell eventfd, bell memfd (also
				  for a PEER_CLOSED port, for its last event) */
	LH_OP_DM_CREATE,            /* priv; a.dm{domid, flags} -> ret id */
	LH_OP_DM_INFO,              /* priv; a.dm{domid, id} -> d.dm_info */
	LH_OP_DM_MAP_RANGE,   /* priv; a.dm{domid, id, type, start, end} */
	LH_OP_DM_UNMAP_RANGE, /* priv; same */
	LH_OP_DM_SET_STATE,   /* priv; a.dm{domid, id, flags = enabled} */
	LH_OP_DM_DESTROY,     /* priv; a.dm{domid, id} */
	LH_OP_DM_SET_IRQ,     /* priv; a.dm{domid, type 0 isa/1 intx,
				  start = irq or sbdf<<8|intx, flags = level} */
	LH_OP_RESOURCE_MAP,   /* priv; a.res -> d.res + fd memfd */
	LH_OP_MAX
};

/* Events: d.ev (d.dead_domid is d.ev.domid). */
enum lh_event {
	LH_EV_DOMAIN_DEAD = 100,
	LH_EV_DOMAIN_SHUTDOWN
};

struct lh_create {
	uint64_t mem_bytes;
	uint32_t grant_frames;
	uint32_t max_vcpus;
	char name[64];
};

struct lh_evt_args {
	int32_t handle;
	uint16_t domid;
	uint16_t pad;
	uint32_t port;
};

struct lh_dm_args {
	uint16_t domid;
	uint16_t id;
	uint32_t type;
	uint32_t flags;
	uint32_t pad;
	uint64_t start, end;
};

struct lh_res_args {
	uint16_t domid;
	uint16_t pad;
	uint32_t type; /* XENMEM_resource_* */
	uint32_t id;
	uint32_t pad2;
	uint64_t frame, nr;
};

struct lh_req {
	uint32_t op;
	uint32_t pad;
	uint64_t seq;
	union {
		struct lh_create create;
		struct {
			uint16_t domid;
			uint16_t pad;
			uint32_t pad2;
			uint64_t token;
		} join;
		struct {
			uint16_t domid;
			uint16_t pad;
			uint32_t param;
			uint64_t value;
		} d; /* domain ops, params, shutdown */
		struct lh_evt_args evt;
		struct lh_dm_args dm;
		struct lh_res_args res;
		uint8_t raw[96];
	} a;
};
#define LH_REQ_SIZE sizeof(struct lh_req)

struct lh_dominfo {
	uint16_t domid;
	uint8_t dying, shutdown, paused, pad[3];
	uint32_t shutdown_reason;
	uint32_t max_vcpus;
	uint64_t mem_bytes;
	char name[64];
};

struct lh_created {
	uint16_t domid;
	uint16_t pad;
	uint32_t grant_frames;
	uint64_t token;
	uint64_t nr_frames;
	uint64_t gnttab_first;
	uint32_t max_vcpus;
	uint32_t gen; /* LH_OP_DOMAIN_MEM: this domain's generation */
};

struct lh_peer {
	uint16_t peer_domid;
	uint8_t end; /* which end of the bell page is ours: 0 or 1 */
	uint8_t pad;
	uint32_t peer_port;
};

/* One end of a channel in its bell page: written by the other end
 * (pending) and by the owner (clears pending, sets and clears mask); bit 0
 * of each word counts, on its own cache line. */
struct lh_bell_end {
	uint64_t pending;
	uint64_t mask;
	uint8_t pad[48];
};

struct lh_bell {
	struct lh_bell_end end[2]; /* 0: the alloc_unbound end, 1: binder */
};

struct lh_dm_info {
	uint32_t bufioreq_port;
	uint32_t enabled;
	uint32_t nr_ranges;
	uint32_t pad;
};

struct lh_res {
	uint64_t offset; /* of frame 0 of the request within the memfd */
	uint64_t size;   /* of the memfd */
};

#define LH_LIST_MAX 32

struct lh_rep {
	uint32_t op;
	int32_t ret; /* >= 0 or -errno */
	uint64_t seq;
	uint32_t len;   /* bytes of d that are valid */
	uint32_t count; /* entries in d.list */
	union {
		struct lh_created created;
		struct lh_dominfo info;
		struct lh_dominfo list[LH_LIST_MAX];
		struct lh_peer peer;
		struct lh_dm_info dm_info;
		struct lh_res res;
		uint64_t value;
		uint16_t dead_domid; /* LH_EV_DOMAIN_DEAD */
		struct {
			uint16_t domid;
			uint16_t pad;
			uint32_t reason; /* LH_EV_DOMAIN_SHUTDOWN */
		} ev;
	} d;
};
#define LH_REP_HDR_SIZE offsetof(struct lh_rep, d)
#define LH_REP_MAX_SIZE sizeof(struct lh_rep)
#define LH_MAX_FDS      2

_Static_assert(sizeof(struct lh_req) == 112, "lh_req layout");
_Static_assert(sizeof(struct lh_bell) <= LH_BELL_BYTES, "bell fits its page");

#endif /* SPLITDRV_LOOPHV_PROTO_H */
