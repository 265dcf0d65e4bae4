/*
 * loophvd.h - the loopback hypervisor's internal objects (server side).
 *
 * Ownership:
 *   struct lh_conn      one per client socket; owns its evtchn handles;
 *                       may own a domain (the one it created).
 *   struct lh_domain    created by a connection; lives in the domain table
 *                       until it is dying and no dom0 connection still
 *                       holds its memory (LH_OP_DOMAIN_MEM).
 *   struct lh_evt_handle one per LH_OP_EVTCHN_OPEN: an epoll fd and the
 *                       state page (see loophv-proto.h); its ports are entries in
 *                       its domain's port table.
 *   struct lh_chan      one per bound interdomain channel: its bell page
 *                       and the two doorbell eventfds; freed when both of
 *                       its ports are closed.
 */
#ifndef SPLITDRV_LOOPHVD_H
#define SPLITDRV_LOOPHVD_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include "hv.h"
#include "loophv-proto.h"

struct lh_domain;
struct lh_conn;

struct lh_evt_handle {
	LIST_ENTRY(lh_evt_handle) conn_link;
	int32_t id; /* per connection */
	struct lh_conn *conn;
	struct lh_domain *dom;
	int epfd;      /* epoll fd: the doorbells of its ports */
	int memfd;     /* the state page, LH_EVT_PAGES pages */
	uint8_t *page; /* our mapping of memfd */
	unsigned int nports;
};

struct lh_chan {
	int memfd;            /* bell page, sealed */
	struct lh_bell *bell; /* our mapping */
	int efd[2];           /* doorbell of each end */
	unsigned int live;    /* bit e: end e still bound */
};

struct lh_port {
	uint8_t state; /* enum hv_evtchn_state */
	uint8_t end;   /* our end of chan */
	uint16_t remote_domid;
	uint32_t remote_port;
	struct lh_evt_handle *owner;
	struct lh_chan *chan; /* NULL until bound */
};

struct lh_ioreq_server {
	int used;
	int enabled;
	int bufioreq;
	int memfd; /* 2 pages: frame 0 buffered, frame 1 sync */
	unsigned int nranges;
	struct {
		uint32_t type;
		uint64_t start, end;
	} ranges[LH_MAX_IO_RANGES];
};

struct lh_domain {
	TAILQ_ENTRY(lh_domain) link;
	domid_t domid;
	uint64_t token;
	char name[64];
	uint64_t mem_bytes;
	uint64_t nr_frames;
	uint64_t gnttab_first;
	uint32_t grant_frames;
	uint32_t max_vcpus;
	int memfd;
	int dying, shutdown, paused;
	uint32_t shutdown_reason;
	uint32_t gen;             /* generation (loophv-proto.h); 0 for dom0 */
	unsigned int mem_holders; /* dom0 connections holding the memfd */
	struct lh_conn *owner;    /* NULL once dying */
	uint64_t params[LH_NR_PARAMS];
	uint8_t isa_irq_level[16];
	struct lh_ioreq_server ioreq[LH_MAX_IOREQ_SERVERS];
	struct lh_port ports[HV_EVTCHN_MAX_PORTS];
};

struct lh_conn {
	TAILQ_ENTRY(lh_conn) link;
	struct lh_server *srv;
	int fd;
	struct event *ev;
	pid_t pid;
	uid_t uid;
	int privileged;        /* may act as dom0 */
	struct lh_domain *dom; /* who we are; NULL until identified */
	int is_dom0;
	int owns_domain;
	int subscribed;
	int32_t next_handle_id;
	LIST_HEAD(, lh_evt_handle) handles;
	/* dom0 memory holds, by domid (a client releases a dead domain's
	 * hold as soon as it sees the death, so this stays short). */
	unsigned int nholds, holds_cap;
	domid_t *holds;
	/* Messages the socket could not take yet, sent in order when it is
	 * writable; requests wait meanwhile. Nothing is dropped. */
	struct lh_outmsg *outq_head, **outq_tail;
	unsigned int outq_len;
	struct event *wev;
	uint64_t nreq, nerr;
};

struct lh_outmsg {
	struct lh_outmsg *next;
	int fds[LH_MAX_FDS]; /* our own duplicates */
	int nfds;
	size_t len;
	struct lh_rep rep;
};

/* The whole server. */
struct lh_server {
	struct event_base *base;
	const char *run_dir;
	uid_t priv_uid;
	int listen_fd;
	struct event *listen_ev;
	TAILQ_HEAD(, lh_domain) domains;
	TAILQ_HEAD(, lh_conn) conns;
	struct lh_domain *dom0; /* a pseudo-domain: ports of dom0 clients */
	domid_t next_domid;
	uint32_t next_gen;
	int gen_fd;     /* the generation table (loophv-proto.h) */
	uint32_t *gens; /* our writable mapping of it */
	uint64_t ops[LH_OP_MAX];
	uint64_t errors, bad_messages, domains_created, domains_died;
	uint64_t events_queued; /* events that waited for a full socket */
};

/* loophvd.c */
struct lh_domain *lh_domain_find(struct lh_server *s, domid_t domid);

/* loophv/evtchn.c: the port table, bind and unbind (clients deliver). */
struct lh_evt_handle *lh_evt_open(struct lh_server *s, struct lh_conn *c);
/* lh_evt_close - close every port of h (peers told), free h. */
void lh_evt_close(struct lh_server *s, struct lh_evt_handle *h);
struct lh_evt_handle *lh_evt_find(struct lh_conn *c, int32_t id);
int lh_evt_alloc_unbound(struct lh_server *s, struct lh_evt_handle *h,
			 domid_t remote);
int lh_evt_bind(struct lh_server *s, struct lh_evt_handle *h, domid_t rdom,
		uint32_t rport);
int lh_evt_unbind(struct lh_server *s, struct lh_evt_handle *h, uint32_t port);
/* lh_evt_peer - the channel of h's port (for the reply's fds: the peer
 * end's doorbell, the bell memfd), its peer in *out; NULL with *err =
 * -errno. */
struct lh_chan *lh_evt_peer(struct lh_server *s, struct lh_evt_handle *h,
			    uint32_t port, struct lh_peer *out, int *err);

/* loophv/ioreq.c: device-model state of a domain. */
int lh_dm_create(struct lh_domain *d, int bufioreq);
int lh_dm_info(struct lh_domain *d, unsigned int id, struct lh_dm_info *out);
int lh_dm_range(struct lh_domain *d, unsigned int id, int map, uint32_t type,
		uint64_t start, uint64_t end);
int lh_dm_set_state(struct lh_domain *d, unsigned int id, int enabled);
int lh_dm_destroy(struct lh_domain *d, unsigned int id);
void lh_dm_destroy_all(struct lh_domain *d);
int lh_dm_set_irq(struct lh_domain *d, uint32_t type, uint64_t line,
		  unsigned int level);
/* lh_dm_resource - fd (borrowed) and geometry of a mappable resource. */
int lh_dm_resource(struct lh_domain *d, const struct lh_res_args *a, int *fd,
		   struct lh_res *out);

/* lh_sealed_memfd - a memfd nobody can resize (LH_SEALS); see loophvd.c */
int lh_sealed_memfd(const char *name, size_t len, int extra, void **map);

#endif /* SPLITDRV_LOOPHVD_H */
