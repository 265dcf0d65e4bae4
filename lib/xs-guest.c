/*
 * xs-guest.c - the guest side of the xenstore ring (see xs-guest.h).
 *
 * The page is shared with xenstored, so everything read from it is read
 * once: the producer index is loaded, checked (prod - cons never exceeds
 * the ring), and only then are bytes copied out; a reply header is copied
 * whole into a local struct and its length checked against
 * XENSTORE_PAYLOAD_MAX before its payload is taken.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>

#include "xs-guest.h"
#include "xs-wire-compat.h"

struct watch_ev {
	struct watch_ev *next;
	char *path, *token;
};

struct xsg {
	struct hv *hv;
	struct hv_evtchn *ev;
	struct xenstore_domain_interface *intf;
	evtchn_port_t port;
	uint32_t next_req_id;
	int timeout_ms;
	uint32_t max_chunk; /* bytes per ring write, 0: as many as fit */
	struct watch_ev *watch_head, **watch_tail;
};

_Static_assert(sizeof(struct xenstore_domain_interface) <= HV_PAGE_SIZE,
	       "xenstore interface fits a page");

static void drop_watch_events(struct xsg *x);

struct xsg *xsg_open(struct hv *guest, uint64_t frame, domid_t backend_domid)
{
	struct hv_guest_layout lay;
	uint8_t *ram = hv_guest_ram(guest, &lay);
	struct xsg *x;
	int port, r;

	if (!ram)
		return NULL;
	if (frame >= lay.gnttab_first) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->hv = guest;
	x->timeout_ms = 10000;
	x->watch_tail = &x->watch_head;
	x->intf = (void *)(ram + frame * HV_PAGE_SIZE);
	memset(x->intf, 0, HV_PAGE_SIZE);
	x->ev = hv_evtchn_open(guest);
	if (!x->ev)
		goto fail_errno;
	port = hv_evtchn_alloc_unbound(x->ev, backend_domid);
	if (port < 0) {
		r = port;
		goto fail;
	}
	x->port = (evtchn_port_t)port;
	/* Seed grant ref GNTTAB_RESERVED_XENSTORE with the ring page, as Xen's
	 * domain builder does, so that xenstored can map it by grant. */
	{
		grant_entry_v1_t *ge =
			(grant_entry_v1_t *)(ram +
					     lay.gnttab_first * HV_PAGE_SIZE) +
			GNTTAB_RESERVED_XENSTORE;

		ge->domid = backend_domid;
		ge->frame = (uint32_t)frame;
		__atomic_store_n(&ge->flags, (uint16_t)GTF_permit_access,
				 __ATOMIC_RELEASE);
	}
	r = hv_param_set(guest, DOMID_SELF, HVM_PARAM_STORE_PFN, frame);
	if (!r)
		r = hv_param_set(guest, DOMID_SELF, HVM_PARAM_STORE_EVTCHN,
				 x->port);
	if (r)
		goto fail;
	return x;
fail_errno:
	r = -errno;
fail:
	xsg_close(x);
	errno = -r;
	return NULL;
}

void xsg_close(struct xsg *x)
{
	if (!x)
		return;
	drop_watch_events(x);
	hv_evtchn_close(x->ev);
	free(x);
}

evtchn_port_t xsg_port(const struct xsg *x)
{
	return x->port;
}
int xsg_fd(const struct xsg *x)
{
	return hv_evtchn_fd(x->ev);
}
void xsg_set_timeout(struct xsg *x, int timeout_ms)
{
	x->timeout_ms = timeout_ms;
}
void xsg_set_max_chunk(struct xsg *x, uint32_t bytes)
{
	x->max_chunk = bytes;
}
int xsg_kick(struct xsg *x)
{
	return hv_evtchn_notify(x->ev, x->port);
}

int xsg_port_in_page(struct xsg *x, domid_t backend_domid)
{
	int port = hv_evtchn_alloc_unbound(x->ev, backend_domid);

	if (port < 0)
		return port;
	x->port = (evtchn_port_t)port;
	__atomic_store_n(splitdrv_xs_ring_evtchn_port(x->intf), x->port,
			 __ATOMIC_RELEASE);
	return 0;
}

static int errno_of(const char *name)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (!strcmp(name, xsd_errors[i].errstring))
			return -xsd_errors[i].errnum;
	return -EIO;
}

/* wait_event - block on the store port until it fires or the timeout. */
static int wait_event(struct xsg *x, int timeout_ms)
{
	struct pollfd pfd = { .fd = hv_evtchn_fd(x->ev), .events = POLLIN };
	int p;

	for (;;) {
		p = hv_evtchn_pending(x->ev);
		if (p >= 0) {
			hv_evtchn_unmask(x->ev, (evtchn_port_t)p);
			return 0;
		}
		if (p != -EAGAIN)
			return p;
		p = poll(&pfd, 1, timeout_ms);
		if (p == 0)
			return -ETIMEDOUT;
		if (p < 0 && errno != EINTR)
			return -errno;
	}
}

static int ring_broken(struct xsg *x)
{
	return __atomic_load_n(&x->intf->error, __ATOMIC_ACQUIRE) !=
	       XENSTORE_ERROR_NONE;
}

/* put - copy len bytes into the request ring, waiting for room. */
static int put(struct xsg *x, const void *data, uint32_t len)
{
	const char *p = data;

	while (len) {
		XENSTORE_RING_IDX cons, prod;
		uint32_t room, chunk, off;
		int r;

		cons = __atomic_load_n(&x->intf->req_cons, __ATOMIC_ACQUIRE);
		prod = x->intf->req_prod; /* only we write it */
		if (prod - cons > XENSTORE_RING_SIZE)
			return -EIO; /* xenstored wrote a bogus index */
		room = XENSTORE_RING_SIZE - (prod - cons);
		if (!room) {
			hv_evtchn_notify(x->ev, x->port);
			r = wait_event(x, x->timeout_ms);
			if (r)
				return r;
			if (ring_broken(x))
				return -EIO;
			continue;
		}
		off = MASK_XENSTORE_IDX(prod);
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > room)
			chunk = room;
		if (chunk > len)
			chunk = len;
		if (x->max_chunk && chunk > x->max_chunk)
			chunk = x->max_chunk;
		memcpy(x->intf->req + off, p, chunk);
		/* The bytes are in the ring before the index says so. */
		__atomic_store_n(&x->intf->req_prod, prod + chunk,
				 __ATOMIC_RELEASE);
		p += chunk;
		len -= chunk;
		/*
		 * Notify as Linux's xenbus does (xb_write): only when
		 * xenstored had consumed everything before this chunk, i.e.
		 * it may be asleep. If it is still busy with earlier bytes it
		 * gets no event, and must look at req_prod again before it
		 * sleeps. The fence orders our req_prod store before the
		 * req_cons load (xenstored: req_cons store, fence, req_prod
		 * load), so one of the two sides sees the other.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		cons = __atomic_load_n(&x->intf->req_cons, __ATOMIC_ACQUIRE);
		if ((int32_t)(cons - prod) >= 0)
			hv_evtchn_notify(x->ev, x->port);
	}
	return 0;
}

/*
 * take - copy exactly len bytes out of the reply ring if they are all there
 * (returns 1), 0 if not yet, -EIO if the indexes are bogus.
 */
static int take(struct xsg *x, void *out, uint32_t len, int peek)
{
	XENSTORE_RING_IDX prod, cons = x->intf->rsp_cons;
	uint32_t avail, done = 0;

	prod = __atomic_load_n(&x->intf->rsp_prod, __ATOMIC_ACQUIRE);
	avail = prod - cons;
	if (avail > XENSTORE_RING_SIZE)
		return -EIO;
	if (avail < len)
		return 0;
	while (done < len) {
		uint32_t off = MASK_XENSTORE_IDX(cons + done);
		uint32_t chunk = XENSTORE_RING_SIZE - off;

		if (chunk > len - done)
			chunk = len - done;
		memcpy((char *)out + done, x->intf->rsp + off, chunk);
		done += chunk;
	}
	if (!peek)
		__atomic_store_n(&x->intf->rsp_cons, cons + len,
				 __ATOMIC_RELEASE);
	return 1;
}

/*
 * next_msg - one whole message from the reply ring, or 0 if none is
 * complete yet. The header is copied once and checked; the payload is
 * copied into a fresh buffer.
 */
static int next_msg(struct xsg *x, struct xsd_sockmsg *hdr, char **body)
{
	int r = take(x, hdr, sizeof(*hdr), 1);

	if (r <= 0)
		return r;
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return -EIO;
	if (hdr->len > XENSTORE_RING_SIZE - sizeof(*hdr)) {
		/* Bigger than the ring: take the header, then stream. */
		char *buf = malloc(hdr->len + 1);
		uint32_t got = 0;

		if (!buf)
			return -ENOMEM;
		take(x, hdr, sizeof(*hdr), 0);
		while (got < hdr->len) {
			uint32_t want = hdr->len - got;
			XENSTORE_RING_IDX prod;

			prod = __atomic_load_n(&x->intf->rsp_prod,
					       __ATOMIC_ACQUIRE);
			if (prod - x->intf->rsp_cons > XENSTORE_RING_SIZE) {
				free(buf);
				return -EIO;
			}
			if (prod - x->intf->rsp_cons < want)
				want = prod - x->intf->rsp_cons;
			if (want == 0) {
				hv_evtchn_notify(x->ev, x->port);
				r = wait_event(x, x->timeout_ms);
				if (r) {
					free(buf);
					return r;
				}
				continue;
			}
			take(x, buf + got, want, 0);
			got += want;
			hv_evtchn_notify(x->ev, x->port);
		}
		buf[hdr->len] = '\0';
		*body = buf;
		return 1;
	}
	{
		char tmp[sizeof(*hdr) + XENSTORE_RING_SIZE];

		r = take(x, tmp, (uint32_t)sizeof(*hdr) + hdr->len, 1);
		if (r <= 0)
			return r;
		*body = malloc(hdr->len + 1);
		if (!*body)
			return -ENOMEM;
		take(x, tmp, (uint32_t)sizeof(*hdr) + hdr->len, 0);
		memcpy(*body, tmp + sizeof(*hdr), hdr->len);
		(*body)[hdr->len] = '\0';
		hv_evtchn_notify(x->ev, x->port); /* room for xenstored */
	}
	return 1;
}

static void queue_watch(struct xsg *x, char *body, uint32_t len)
{
	struct watch_ev *w;
	size_t plen = strnlen(body, len);

	if (plen >= len) {
		free(body);
		return; /* malformed: no token */
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		free(body);
		return;
	}
	w->path = body;
	w->token = strndup(body + plen + 1, len - plen - 1);
	if (!w->token) {
		free(w);
		free(body);
		return;
	}
	*x->watch_tail = w;
	x->watch_tail = &w->next;
}

/* pump - move every complete message off the ring; replies to req_id go
 * to hdr and body. Returns 1 when the reply was found. */
static int pump(struct xsg *x, uint32_t req_id, struct xsd_sockmsg *hdr,
		char **body)
{
	for (;;) {
		struct xsd_sockmsg h;
		char *b = NULL;
		int r = next_msg(x, &h, &b);

		if (r <= 0)
			return r;
		if (h.type == XS_WATCH_EVENT) {
			queue_watch(x, b, h.len);
			continue;
		}
		if (h.req_id == req_id && body) {
			*hdr = h;
			*body = b;
			return 1;
		}
		free(b); /* a stale reply (an earlier request timed out) */
	}
}

int xsg_request(struct xsg *x, uint32_t type, uint32_t tx_id,
		const void *payload, uint32_t len, char **reply,
		uint32_t *reply_len)
{
	struct xsd_sockmsg hdr = { .type = type,
				   .req_id = ++x->next_req_id,
				   .tx_id = tx_id,
				   .len = len };
	struct xsd_sockmsg rh;
	char *body = NULL;
	int r;

	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	if (ring_broken(x))
		return -EIO;
	/* header, then payload, each notified (or not) as Linux does */
	r = put(x, &hdr, sizeof(hdr));
	if (!r)
		r = put(x, payload, len);
	if (r)
		return r;
	for (;;) {
		r = pump(x, hdr.req_id, &rh, &body);
		if (r < 0)
			return r;
		if (r == 1)
			break;
		if (ring_broken(x))
			return -EIO;
		r = wait_event(x, x->timeout_ms);
		if (r)
			return r;
	}
	if (rh.type == XS_ERROR) {
		r = errno_of(body);
		free(body);
		return r;
	}
	if (rh.type != type) {
		free(body);
		return -EPROTO;
	}
	if (reply_len)
		*reply_len = rh.len;
	if (reply)
		*reply = body;
	else
		free(body);
	return 0;
}

static void drop_watch_events(struct xsg *x)
{
	while (x->watch_head) {
		struct watch_ev *w = x->watch_head;

		x->watch_head = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
	x->watch_tail = &x->watch_head;
}

int xsg_reconnect(struct xsg *x)
{
	uint32_t feat =
		__atomic_load_n(&x->intf->server_features, __ATOMIC_ACQUIRE);
	int r;

	if (!(feat & XENSTORE_SERVER_FEATURE_RECONNECTION))
		return -EOPNOTSUPP;
	drop_watch_events(x);
	__atomic_store_n(&x->intf->connection, XENSTORE_RECONNECT,
			 __ATOMIC_RELEASE);
	r = hv_evtchn_notify(x->ev, x->port);
	/* Only the connection field means anything until it says so. */
	while (!r && __atomic_load_n(&x->intf->connection, __ATOMIC_ACQUIRE) !=
			     XENSTORE_CONNECTED)
		r = wait_event(x, x->timeout_ms);
	return r;
}

static int simple(struct xsg *x, uint32_t type, uint32_t tx, const char *s)
{
	return xsg_request(x, type, tx, s, (uint32_t)strlen(s) + 1, NULL, NULL);
}

int xsg_read(struct xsg *x, uint32_t tx, const char *path, char **val)
{
	return xsg_request(x, XS_READ, tx, path, (uint32_t)strlen(path) + 1,
			   val, NULL);
}

int xsg_write(struct xsg *x, uint32_t tx, const char *path, const char *val)
{
	size_t pl = strlen(path) + 1, vl = strlen(val);
	char *buf;
	int r;

	if (pl + vl > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	buf = malloc(pl + vl);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vl);
	r = xsg_request(x, XS_WRITE, tx, buf, (uint32_t)(pl + vl), NULL, NULL);
	free(buf);
	return r;
}

int xsg_mkdir(struct xsg *x, uint32_t tx, const char *path)
{
	return simple(x, XS_MKDIR, tx, path);
}

int xsg_rm(struct xsg *x, uint32_t tx, const char *path)
{
	return simple(x, XS_RM, tx, path);
}

int xsg_directory(struct xsg *x, uint32_t tx, const char *path, char **names,
		  unsigned int *n)
{
	uint32_t len = 0;
	int r = xsg_request(x, XS_DIRECTORY, tx, path,
			    (uint32_t)strlen(path) + 1, names, &len);

	if (r)
		return r;
	*n = 0;
	for (uint32_t i = 0; i < len; i++)
		if ((*names)[i] == '\0')
			(*n)++;
	return 0;
}

static int two_strings(struct xsg *x, uint32_t type, const char *a,
		       const char *b)
{
	size_t al = strlen(a) + 1, bl = strlen(b) + 1;
	char *buf;
	int r;

	if (al + bl > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	buf = malloc(al + bl);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, a, al);
	memcpy(buf + al, b, bl);
	r = xsg_request(x, type, 0, buf, (uint32_t)(al + bl), NULL, NULL);
	free(buf);
	return r;
}

int xsg_watch(struct xsg *x, const char *path, const char *token)
{
	return two_strings(x, XS_WATCH, path, token);
}

int xsg_unwatch(struct xsg *x, const char *path, const char *token)
{
	return two_strings(x, XS_UNWATCH, path, token);
}

int xsg_transaction_start(struct xsg *x, uint32_t *tx)
{
	char *id = NULL;
	int r = xsg_request(x, XS_TRANSACTION_START, 0, "", 1, &id, NULL);

	if (r)
		return r;
	*tx = (uint32_t)strtoul(id, NULL, 10);
	free(id);
	return *tx ? 0 : -EPROTO;
}

int xsg_transaction_end(struct xsg *x, uint32_t tx, int commit)
{
	return simple(x, XS_TRANSACTION_END, tx, commit ? "T" : "F");
}

int xsg_get_domain_path(struct xsg *x, domid_t domid, char **path)
{
	char id[8];

	snprintf(id, sizeof(id), "%u", domid);
	return xsg_request(x, XS_GET_DOMAIN_PATH, 0, id,
			   (uint32_t)strlen(id) + 1, path, NULL);
}

int xsg_next_watch(struct xsg *x, char **path, char **token)
{
	struct watch_ev *w;

	if (!x->watch_head) {
		int r = pump(x, 0, NULL, NULL);

		if (r < 0)
			return r;
	}
	w = x->watch_head;
	if (!w)
		return -EAGAIN;
	x->watch_head = w->next;
	if (!x->watch_head)
		x->watch_tail = &x->watch_head;
	*path = w->path;
	*token = w->token;
	free(w);
	return 0;
}

int xsg_wait_watch(struct xsg *x, char **path, char **token)
{
	for (;;) {
		int r = xsg_next_watch(x, path, token);

		if (r != -EAGAIN)
			return r;
		r = wait_event(x, x->timeout_ms);
		if (r)
			return r;
	}
}

int xsg_read_ulong(struct xsg *x, uint32_t tx, const char *dir, const char *key,
		   unsigned long long *val)
{
	char path[256], *s, *end;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	r = xsg_read(x, tx, path, &s);
	if (r < 0)
		return r;
	errno = 0;
	*val = strtoull(s, &end, 10);
	r = (!*s || *end || errno) ? -EINVAL : 0;
	free(s);
	return r;
}

int xsg_printf(struct xsg *x, uint32_t tx, const char *dir, const char *key,
	       const char *fmt, ...)
{
	char path[256], val[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xsg_write(x, tx, path, val);
}
