/*
 * domain.h - introduced domains and the hv events that end them (domain.c).
 */
#ifndef XENSTORED_DOMAIN_H
#define XENSTORED_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct xs_store;
struct xs_conn;

struct xs_domain {
	uint32_t domid;
	uint64_t mfn;  /* gfn of the ring page, as XS_INTRODUCE gave it */
	uint32_t port; /* its event channel */
	int target;    /* XS_SET_TARGET, -1 if none */
	bool shutdown;
	struct xs_conn *conn; /* the ring connection, NULL until attached */
	TAILQ_ENTRY(xs_domain) link;
};

struct xs_domain *xs_domain_find(struct xs_store *st, uint32_t domid);
/* xs_domain_introduce - record (or update) a domain, journal it, attach
 * its ring and fire @introduceDomain when new. 0 or -errno. */
int xs_domain_introduce(struct xs_store *st, uint32_t domid, uint64_t mfn,
			uint32_t port);
/* xs_domain_release - forget a domain: detach, drop its connection,
 * delete the nodes it owned, journal it, fire @releaseDomain. 0 or -ENOENT. */
int xs_domain_release(struct xs_store *st, uint32_t domid);
/* xs_domain_set_target - domid may act as tdomid's owner. 0 or -ENOENT. */
int xs_domain_set_target(struct xs_store *st, uint32_t domid, uint32_t tdomid);
/*
 * xs_domain_died - the hv layer's death event: drops the domain, its
 * connection and the nodes it owned, fires @releaseDomain. Safe for
 * unknown domids.
 */
void xs_domain_died(struct xs_store *st, uint32_t domid);
/*
 * xs_domain_shut_down - the hv layer's shutdown event (reason: a
 * SHUTDOWN_* of <xen/sched.h>): fires @releaseDomain and keeps the domain
 * and its connection. Safe for unknown domids.
 */
void xs_domain_shut_down(struct xs_store *st, uint32_t domid,
			 unsigned int reason);
/* xs_domain_restore - record a domain loaded from persistent state (no
 * watch fired, not journalled). 0 or -ENOMEM. */
int xs_domain_restore(struct xs_store *st, uint32_t domid, uint64_t mfn,
		      uint32_t port, int target);
/* xs_domain_forget - drop a domain quietly (replaying the journal). */
void xs_domain_forget(struct xs_store *st, uint32_t domid);
/* xs_domains_attach_all - attach rings of restored domains (at start). */
void xs_domains_attach_all(struct xs_store *st);
void xs_domains_free(struct xs_store *st);

#endif /* XENSTORED_DOMAIN_H */
