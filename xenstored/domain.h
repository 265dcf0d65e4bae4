/*
 * domain.h - introduced domains and the hv events that end them (domain.c).
 */
#ifndef XENSTORED_DOMAIN_H
#define XENSTORED_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "xs-wire-compat.h"
#include "xenstored/quota.h"

/*
 * The server features (docs/misc/xenstore-ring.txt) a domain gets unless
 * XS_SET_FEATURE took some away before XS_INTRODUCE: XS_ERROR in the
 * ring's error field, WATCH with a depth and @releaseDomain/<domid>,
 * DOMID_ANY in permissions. Reconnection is the ring transport's to add.
 */
#define XS_SERVER_FEATURES                                                     \
	(XENSTORE_SERVER_FEATURE_ERROR | XENSTORE_SERVER_FEATURE_WATCHDEPTH |  \
	 XENSTORE_SERVER_FEATURE_DOMID_ANY)

struct xs_store;
struct xs_conn;

struct xs_domain {
	uint32_t domid;
	uint64_t mfn;  /* gfn of the ring page, as XS_INTRODUCE gave it */
	uint32_t port; /* its event channel */
	int target;    /* XS_SET_TARGET, -1 if none */
	bool shutdown;
	struct xs_conn *conn; /* the ring connection, NULL until attached */
	/* XS_SET_FEATURE / XS_SET_QUOTA: its server features, and quotas of
	 * its own (0: the global one applies) */
	unsigned features;
	struct xs_quota quota;
	TAILQ_ENTRY(xs_domain) link; /* st->domains, or st->pending */
};

struct xs_domain *xs_domain_find(struct xs_store *st, uint32_t domid);
/*
 * xs_domain_settings - the features and quotas of domid, introduced or
 * not: a domain not yet introduced gets a pending record (create) that
 * XS_INTRODUCE takes over, dropped when the domain is released or dies.
 * NULL (errno ENOENT, or ENOMEM) if none.
 */
struct xs_domain *xs_domain_settings(struct xs_store *st, uint32_t domid,
				     bool create);
/* xs_domain_features - the server features a connection of domid has
 * (every one this xenstored serves for a domain it does not know). */
unsigned xs_domain_features(struct xs_store *st, uint32_t domid);
/* xs_domain_quota - the quota id of domid: its own if XS_SET_QUOTA set
 * one, else the global one. */
unsigned xs_domain_quota(struct xs_store *st, uint32_t domid,
			 enum xs_quota_id id);
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
